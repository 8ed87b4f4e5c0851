// SPDX-License-Identifier: MIT
/*
 * The ceiling of a backed RAM device on this machine: random 4 KiB memcpy out of
 * SIZE_MIB of anonymous memory (2 MiB-aligned, on transparent huge pages unless
 * HUGE is 0) into a 32-slot buffer, as the mem engine's read does, with no queue
 * layer around it. Prints ns per copy (wall and thread CPU) and copies per
 * CPU-second. bench/scale.sh builds and runs it beside the backed goal runs.
 *
 * usage: memcpy_ceiling SIZE_MIB [HUGE=1] [COPIES=2000000]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define HUGE_PAGE (2ul << 20)

static uint64_t clock_of(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
	static char dst[32][4096] __attribute__((aligned(4096)));
	size_t len = argc > 1 ? strtoull(argv[1], NULL, 0) << 20 : 0;
	int huge = argc > 2 ? atoi(argv[2]) : 1;
	uint64_t copies = argc > 3 ? strtoull(argv[3], NULL, 0) : 2000000;
	uint64_t x = 88172645463325252ull, blocks, t0, c0, t1, c1;
	char *raw, *mem;

	if (len < 4096 || !copies) {
		fprintf(stderr, "usage: %s SIZE_MIB [HUGE=1] [COPIES=2000000]\n", argv[0]);
		return 2;
	}
	raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	mem = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	madvise(mem, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(mem, 1, len); /* fault everything in first: page faults are not the point */
	blocks = len / 4096;
	t0 = clock_of(CLOCK_MONOTONIC);
	c0 = clock_of(CLOCK_THREAD_CPUTIME_ID);
	for (uint64_t i = 0; i < copies; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(dst[i & 31], mem + (x % blocks) * 4096, 4096);
	}
	t1 = clock_of(CLOCK_MONOTONIC);
	c1 = clock_of(CLOCK_THREAD_CPUTIME_ID);
	printf("%zu MiB huge=%d: %.0f ns/copy wall, %.0f ns/copy CPU, %.0f copies per CPU-second\n",
	       len >> 20, huge, (double)(t1 - t0) / (double)copies,
	       (double)(c1 - c0) / (double)copies, 1e9 * (double)copies / (double)(c1 - c0));
	return dst[x & 31][7] == 3; /* keep the copies */
}
