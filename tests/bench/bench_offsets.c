// SPDX-License-Identifier: MIT
/*
 * Random offsets without repetition bias: within a pass every block of the
 * region comes exactly once (fio's random map), passes come in different
 * orders, the order is not sequential, and the same seed repeats it.
 */
#include "harness.h"
#include "bench/bench_impl.h"

static int check_pass(uint64_t n, uint64_t seed)
{
	struct bench_offsets o, again;
	unsigned char *seen = calloc(n, 1);
	uint64_t in_order = 0, prev = 0, differ = 0;

	CHECK(seen, "calloc");
	bench_offsets_init(&o, n, true, seed);
	bench_offsets_init(&again, n, true, seed);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t b = bench_offsets_next(&o);

		CHECK(b < n, "n=%llu: block %llu out of range", (unsigned long long)n,
		      (unsigned long long)b);
		CHECK(!seen[b], "n=%llu: block %llu twice in one pass", (unsigned long long)n,
		      (unsigned long long)b);
		seen[b] = 1;
		CHECK(bench_offsets_next(&again) == b, "same seed, other order");
		if (i && b == prev + 1)
			in_order++;
		prev = b;
	}
	/* A second pass: again every block once, in another order. */
	memset(seen, 0, n);
	bench_offsets_init(&again, n, true, seed);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t b = bench_offsets_next(&o);

		CHECK(!seen[b], "n=%llu: pass 2: block %llu twice", (unsigned long long)n,
		      (unsigned long long)b);
		seen[b] = 1;
		differ += b != bench_offsets_next(&again);
	}
	free(seen);
	if (n >= 1000) {
		CHECK(in_order < n / 100, "n=%llu: %llu sequential steps", (unsigned long long)n,
		      (unsigned long long)in_order);
		CHECK(differ > n / 2, "n=%llu: pass 2 repeats pass 1", (unsigned long long)n);
	}
	return T_PASS;
}

int main(void)
{
	const uint64_t sizes[] = { 1, 2, 3, 7, 8, 9, 1000, 4096, 4097, 65535, 262144 + 17 };
	struct bench_offsets o;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 1; seed < 4; seed++)
			if (check_pass(sizes[i], seed * 0x1234567))
				return T_FAIL;
	/* Sequential: 0, 1, ..., n-1, 0, ... */
	bench_offsets_init(&o, 5, false, 1);
	for (uint64_t i = 0; i < 12; i++)
		CHECK(bench_offsets_next(&o) == i % 5, "sequential step %llu",
		      (unsigned long long)i);
	/* Uniform over many passes: every block of a small region equally often. */
	{
		uint64_t hits[10] = { 0 }, first[10] = { 0 };

		bench_offsets_init(&o, 10, true, 99);
		for (unsigned p = 0; p < 1000; p++)
			for (unsigned i = 0; i < 10; i++) {
				uint64_t b = bench_offsets_next(&o);

				hits[b]++;
				if (i == 0)
					first[b]++;
			}
		for (unsigned b = 0; b < 10; b++) {
			CHECK(hits[b] == 1000, "block %u hit %llu times", b,
			      (unsigned long long)hits[b]);
			CHECK(first[b] > 30, "block %u came first only %llu times of 1000", b,
			      (unsigned long long)first[b]);
		}
	}
	printf("PASS\n");
	return T_PASS;
}
