/* SPDX-License-Identifier: MIT */
/* Sorting the latencies and counts that medians and percentiles are read from. */
#ifndef RAWIO_UTIL_SORT_H
#define RAWIO_UTIL_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int sort_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort V[0..N) ascending. */
static inline void sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), sort_u64_cmp);
}

#endif
