/* SPDX-License-Identifier: MIT */
/*
 * A log-linear latency histogram in fio's layout (stat.h FIO_IO_U_PLAT_*):
 * values in nanoseconds; values below 128 each have their own bucket; above
 * that, every power of two [2^m, 2^(m+1)) is split into 64 equal buckets, so a
 * bucket's midpoint is within 1/128 (0.8%) of any value in it. 29 groups of 64
 * buckets reach 2^34 ns (17 s); larger values land in the last bucket.
 * min, max, count, sum and the sum of squares are kept exactly beside it.
 *
 * Adding a value is a few instructions and never allocates. Not thread-safe:
 * keep one per thread and merge.
 */
#ifndef RAWIO_UTIL_HIST_H
#define RAWIO_UTIL_HIST_H

#include <stdint.h>

#define RAWIO_HIST_BITS	  6u
#define RAWIO_HIST_VAL	  (1u << RAWIO_HIST_BITS) /* buckets per group */
#define RAWIO_HIST_GROUPS 29u
#define RAWIO_HIST_NR	  (RAWIO_HIST_GROUPS * RAWIO_HIST_VAL) /* 1856, as fio */

struct rawio_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	uint64_t sum;  /* wraps only past 584 years of summed latency */
	double sum_sq; /* for the standard deviation */
	uint64_t buckets[RAWIO_HIST_NR];
};

/* The bucket of VAL (fio's plat_val_to_idx). */
static inline unsigned rawio_hist_index(uint64_t val)
{
	unsigned msb, error_bits, idx;

	if (val < 2 * RAWIO_HIST_VAL)
		return (unsigned)val;
	msb = 63u - (unsigned)__builtin_clzll(val);
	error_bits = msb - RAWIO_HIST_BITS;
	idx = ((error_bits + 1) << RAWIO_HIST_BITS) +
	      (unsigned)((val >> error_bits) & (RAWIO_HIST_VAL - 1));
	return idx < RAWIO_HIST_NR - 1 ? idx : RAWIO_HIST_NR - 1;
}

static inline void rawio_hist_add(struct rawio_hist *h, uint64_t val)
{
	h->buckets[rawio_hist_index(val)]++;
	if (val < h->min)
		h->min = val;
	if (val > h->max)
		h->max = val;
	h->count++;
	h->sum += val;
	h->sum_sq += (double)val * (double)val;
}

/* Empty H (min starts at UINT64_MAX so the first value sets it). */
void rawio_hist_reset(struct rawio_hist *h);

/* Add every value of SRC into DST. */
void rawio_hist_merge(struct rawio_hist *dst, const struct rawio_hist *src);

/* The value a bucket stands for: its midpoint (fio's plat_idx_to_val). */
uint64_t rawio_hist_bucket_value(unsigned idx);

/* The lowest value of a bucket. */
uint64_t rawio_hist_bucket_low(unsigned idx);

/*
 * The P-th percentile (0 < P <= 100) as fio computes it: the value of the
 * first bucket where the running count reaches P% of all values, clamped to
 * [min, max]; P >= 100 is max. 0 for an empty histogram.
 */
uint64_t rawio_hist_percentile(const struct rawio_hist *h, double p);

double rawio_hist_mean(const struct rawio_hist *h);
double rawio_hist_stdev(const struct rawio_hist *h);

#endif
