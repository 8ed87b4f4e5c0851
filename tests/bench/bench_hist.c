// SPDX-License-Identifier: MIT
/*
 * The latency histogram keeps fio's layout (so numbers read the same as
 * fio's): exact below 128 ns, then 64 buckets per power of two, 1856 buckets;
 * every value's bucket midpoint is within 1/128 of it; percentiles walk the
 * buckets as fio's do.
 */
#include "harness.h"
#include "util/hist.h"

/* fio's stat.c plat_val_to_idx / plat_idx_to_val, as reference. */
static unsigned fio_val_to_idx(unsigned long long val)
{
	unsigned msb = val ? 63u - (unsigned)__builtin_clzll(val) : 0;
	unsigned error_bits, base, offset, idx;

	if (msb <= 6)
		return (unsigned)val;
	error_bits = msb - 6;
	base = (error_bits + 1) << 6;
	offset = (unsigned)((64 - 1) & (val >> error_bits));
	idx = (base + offset) < (1856 - 1) ? (base + offset) : (1856 - 1);
	return idx;
}

static unsigned long long fio_idx_to_val(unsigned idx)
{
	unsigned error_bits;
	unsigned long long k, base;

	if (idx < (64 << 1))
		return idx;
	error_bits = (idx >> 6) - 1;
	base = 1ull << (error_bits + 6);
	k = idx % 64;
	return base + (unsigned long long)((k + 0.5) * (double)(1ull << error_bits));
}

int main(void)
{
	static struct rawio_hist h;
	uint64_t v;

	CHECK(RAWIO_HIST_NR == 1856, "%u buckets", RAWIO_HIST_NR);
	/* Same buckets and bucket values as fio, over the whole range. */
	for (v = 0; v < (1ull << 36); v = v < 4096 ? v + 1 : v + v / 97 + 1) {
		unsigned idx = rawio_hist_index(v);

		CHECK(idx == fio_val_to_idx(v), "value %llu: bucket %u, fio %u",
		      (unsigned long long)v, idx, fio_val_to_idx(v));
		if (idx < RAWIO_HIST_NR - 1) {
			double mid = (double)rawio_hist_bucket_value(idx);

			CHECK(v == 0 || (mid - (double)v) / (double)v < 1.0 / 64 + 1e-9,
			      "value %llu: midpoint %.0f too far", (unsigned long long)v, mid);
			CHECK(rawio_hist_bucket_low(idx) <= v, "bucket %u starts above %llu", idx,
			      (unsigned long long)v);
		}
	}
	for (unsigned i = 0; i < RAWIO_HIST_NR; i++) {
		CHECK(rawio_hist_bucket_value(i) == fio_idx_to_val(i), "bucket %u: %llu, fio %llu",
		      i, (unsigned long long)rawio_hist_bucket_value(i), fio_idx_to_val(i));
		CHECK(rawio_hist_index(rawio_hist_bucket_low(i)) == i, "bucket %u low", i);
	}

	/* 1..100000 ns uniformly: percentiles within 1/128 of the true ones. */
	rawio_hist_reset(&h);
	CHECK(rawio_hist_percentile(&h, 50) == 0, "empty histogram");
	for (v = 1; v <= 100000; v++)
		rawio_hist_add(&h, v);
	CHECK(h.count == 100000 && h.min == 1 && h.max == 100000, "count/min/max");
	CHECK(rawio_hist_mean(&h) == 50000.5, "mean %f", rawio_hist_mean(&h));
	CHECK(rawio_hist_stdev(&h) > 28867 && rawio_hist_stdev(&h) < 28868, "stdev %f",
	      rawio_hist_stdev(&h));
	{
		const double ps[] = { 1, 50, 90, 99, 99.9, 99.99, 100 };

		for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
			double want = ps[i] * 1000, got = (double)rawio_hist_percentile(&h, ps[i]);

			CHECK(got >= want * (1 - 1.0 / 64) && got <= want * (1 + 1.0 / 64),
			      "p%g = %.0f, want about %.0f", ps[i], got, want);
		}
	}
	CHECK(rawio_hist_percentile(&h, 100) == 100000, "p100 is clamped to max");

	/* Merging two halves gives the whole. */
	{
		static struct rawio_hist a, b;

		rawio_hist_reset(&a);
		rawio_hist_reset(&b);
		for (v = 1; v <= 100000; v++)
			rawio_hist_add(v % 2 ? &a : &b, v);
		rawio_hist_merge(&a, &b);
		CHECK(a.count == h.count && a.sum == h.sum && a.min == h.min && a.max == h.max,
		      "merged summary");
		CHECK(!memcmp(a.buckets, h.buckets, sizeof(a.buckets)), "merged buckets");
	}
	/* Huge values land in the last bucket, max stays exact. */
	rawio_hist_add(&h, 1ull << 40);
	CHECK(h.buckets[RAWIO_HIST_NR - 1] == 1 && h.max == 1ull << 40, "overflow bucket");
	printf("PASS\n");
	return T_PASS;
}
