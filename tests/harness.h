/* SPDX-License-Identifier: MIT */
/*
 * Test helpers: exit 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE).
 * CHECK prints where and why, then returns T_FAIL from the current function.
 */
#ifndef RAWIO_TEST_HARNESS_H
#define RAWIO_TEST_HARNESS_H

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawio/rawio.h>

#define T_PASS 0
#define T_FAIL 1
#define T_SKIP 77

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			return T_FAIL;                                                           \
		}                                                                                \
	} while (0)

/* CHECK that an int-returning rawio call gave 0. */
#define CHECK_OK(expr)                                                                       \
	do {                                                                                 \
		long long _r = (long long)(expr);                                            \
		CHECK(_r == 0, "%s returned %lld (%s)", #expr, _r, rawio_strerror((int)_r)); \
	} while (0)

#define SKIP(...)                             \
	do {                                  \
		fprintf(stderr, "skip: ");    \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr);          \
		return T_SKIP;                \
	} while (0)

/* Fill BUF with a pattern derived from (SEED, byte offset); check it. */
static inline void t_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	uint64_t *p = buf;

	for (size_t i = 0; i < len / 8; i++)
		p[i] = (seed * 0x9e3779b97f4a7c15ull) ^ (off + i * 8);
}

static inline int t_verify(const void *buf, size_t len, uint64_t seed, uint64_t off)
{
	const uint64_t *p = buf;

	for (size_t i = 0; i < len / 8; i++)
		if (p[i] != ((seed * 0x9e3779b97f4a7c15ull) ^ (off + i * 8)))
			return -1;
	return 0;
}

/*
 * A new scratch file in the current directory, opened O_DIRECT with OPTS (which
 * should carry RAWIO_DEV_CREATE) and unlinked at once: T_PASS, or T_SKIP (said
 * why) where no file can be made or O_DIRECT is refused.
 */
static inline int t_open_tmpfile(struct rawio_dev **dev, const char *tag,
				 const struct rawio_dev_opts *opts)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "%s-XXXXXX", tag);
	fd = mkstemp(path);
	if (fd < 0)
		SKIP("cannot create a file here");
	close(fd);
	ret = rawio_dev_open(dev, path, opts);
	unlink(path);
	if (ret)
		SKIP("no O_DIRECT here");
	return T_PASS;
}

/* A scratch file name in the current directory (CTest runs tests in the build tree). */
static inline const char *t_scratch(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "scratch-%s-%d.img", tag, (int)getpid());
	return buf;
}

/* Open file descriptors of this process (to see that a call closed what it opened). */
static inline int t_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Read the acknowledgements a child reports on a pipe, one uint32_t version each,
 * until end of file (the child is gone) or MAX of them: ACKED[v % NR] = v (ACKED
 * may be NULL) and *LAST = the newest. Returns how many were read.
 */
static inline unsigned t_read_acks(int fd, uint32_t *acked, unsigned nr, uint32_t *last,
				   unsigned max)
{
	unsigned n = 0;
	uint32_t v;

	for (; n < max && read(fd, &v, sizeof(v)) == sizeof(v); n++) {
		if (acked)
			acked[v % nr] = v;
		*last = v;
	}
	return n;
}

#endif
