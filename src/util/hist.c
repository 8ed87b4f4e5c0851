// SPDX-License-Identifier: MIT
#include <string.h>

#include "hist.h"

void rawio_hist_reset(struct rawio_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void rawio_hist_merge(struct rawio_hist *dst, const struct rawio_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < RAWIO_HIST_NR; i++)
		dst->buckets[i] += src->buckets[i];
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	dst->sum_sq += src->sum_sq;
}

uint64_t rawio_hist_bucket_low(unsigned idx)
{
	unsigned error_bits;

	if (idx >= RAWIO_HIST_NR)
		idx = RAWIO_HIST_NR - 1;
	if (idx < 2 * RAWIO_HIST_VAL)
		return idx;
	error_bits = (idx >> RAWIO_HIST_BITS) - 1;
	return (1ull << (error_bits + RAWIO_HIST_BITS)) +
	       ((uint64_t)(idx % RAWIO_HIST_VAL) << error_bits);
}

uint64_t rawio_hist_bucket_value(unsigned idx)
{
	unsigned error_bits;

	if (idx >= RAWIO_HIST_NR)
		idx = RAWIO_HIST_NR - 1;
	if (idx < 2 * RAWIO_HIST_VAL)
		return idx;
	/* fio: base + (k + 0.5) * 2^error_bits, truncated */
	error_bits = (idx >> RAWIO_HIST_BITS) - 1;
	return rawio_hist_bucket_low(idx) + ((1ull << error_bits) >> 1);
}

uint64_t rawio_hist_percentile(const struct rawio_hist *h, double p)
{
	double want;
	uint64_t seen = 0, v;

	if (!h->count)
		return 0;
	if (p >= 100)
		return h->max;
	want = p / 100.0 * (double)h->count;
	for (unsigned i = 0; i < RAWIO_HIST_NR; i++) {
		seen += h->buckets[i];
		if (!h->buckets[i] || (double)seen < want)
			continue;
		v = rawio_hist_bucket_value(i);
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

double rawio_hist_mean(const struct rawio_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/* Newton's method from above (decreases monotonically), so librawio needs no libm. */
static double hist_sqrt(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 200; i++) {
		double next = 0.5 * (r + x / r);

		if (next >= r)
			break;
		r = next;
	}
	return r;
}

double rawio_hist_stdev(const struct rawio_hist *h)
{
	double mean, var;

	if (h->count < 2)
		return 0.0;
	mean = rawio_hist_mean(h);
	var = (h->sum_sq - (double)h->count * mean * mean) / (double)(h->count - 1);
	return var > 0 ? hist_sqrt(var) : 0.0;
}
