// SPDX-License-Identifier: MIT
/*
 * The sleep predictor on hand-computed cases: buckets, each rule, the
 * kernel's window semantics (0 until the first window, a one-shot window
 * armed by a completion, idle time freezing the statistics, a bucket without
 * samples keeping its estimate), io_uring's running minimum, and the
 * configuration names.
 */
#include <rawio/predict.h>

#include "harness.h"

#define MS 1000000ull
#define KB 1024u

static int test_buckets(void)
{
	CHECK(rawio_poll_bucket(0, 512) == 0, "512 B read");
	CHECK(rawio_poll_bucket(1, 512) == 1, "512 B write");
	CHECK(rawio_poll_bucket(0, 4 * KB) == 6, "4 KiB read: 0 + 2 * ilog2(8)");
	CHECK(rawio_poll_bucket(1, 4 * KB) == 7, "4 KiB write");
	CHECK(rawio_poll_bucket(0, 6 * KB) == 6, "6 KiB read rounds down");
	CHECK(rawio_poll_bucket(0, 32 * KB) == 12, "32 KiB read");
	CHECK(rawio_poll_bucket(0, 64 * KB) == 14, "64 KiB read: the last pair");
	CHECK(rawio_poll_bucket(1, 1u << 20) == 15, "1 MiB write: the last pair");
	CHECK(rawio_poll_bucket(0, 511) == -1, "under a sector");
	CHECK(rawio_poll_bucket(2, 4 * KB) == -1, "not a read or write");
	return T_PASS;
}

static struct rawio_poll_pred *pred(const char *spec)
{
	struct rawio_poll_cfg c;
	struct rawio_poll_pred *p = NULL;

	if (rawio_poll_cfg_parse(spec, &c) || rawio_poll_pred_new(&p, &c))
		return NULL;
	return p;
}

/* blk-mq: sleep (mean + 1) / 2 of the last completed 100 ms window. */
static int test_linux(void)
{
	struct rawio_poll_pred *p = pred("linux");
	uint64_t s;

	CHECK(p, "linux");
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 0) == 0, "no window yet: no sleep");
	rawio_poll_observe(p, 0, 4 * KB, 10000, 0, 1000); /* arms the window: ends at 100.001 ms */
	rawio_poll_observe(p, 0, 4 * KB, 20001, 0, 2000);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 50 * MS) == 0, "window still open");
	s = rawio_poll_predict(p, 0, 4 * KB, 100 * MS + 1000);
	CHECK(s == 7500, "mean 30001 / 2 = 15000, sleep (15000 + 1) / 2 = 7500, got %llu",
	      (unsigned long long)s);
	CHECK(rawio_poll_predict(p, 1, 4 * KB, 100 * MS + 1000) == 0, "writes: no samples");
	CHECK(rawio_poll_predict(p, 0, 8 * KB, 100 * MS + 1000) == 0, "8 KiB: another bucket");
	CHECK(rawio_poll_estimate(p, 0, 4 * KB) == 15000, "estimate");
	/* Idle for seconds: no completion re-arms the timer, the stats stay. */
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 5000 * MS) == 7500, "frozen while idle");
	/* A window with only writes: reads keep 15000. */
	rawio_poll_observe(p, 1, 4 * KB, 40000, 0, 5000 * MS);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 5100 * MS) == 7500, "reads keep their estimate");
	CHECK(rawio_poll_predict(p, 1, 4 * KB, 5100 * MS) == 20000, "writes: (40000 + 1) / 2");
	/* An odd mean rounds up, as (mean + 1) / 2. */
	rawio_poll_observe(p, 0, 4 * KB, 30001, 0, 6000 * MS);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 6100 * MS) == 15001, "(30001 + 1) / 2");
	rawio_poll_pred_free(p);
	return T_PASS;
}

static int test_min_pct_ewma(void)
{
	struct rawio_poll_pred *p = pred("min:70:10ms");
	uint64_t s;

	CHECK(p, "min:70:10ms");
	rawio_poll_observe(p, 0, 4 * KB, 10000, 0, 0);
	rawio_poll_observe(p, 0, 4 * KB, 8000, 0, 1 * MS);
	rawio_poll_observe(p, 0, 4 * KB, 12000, 0, 2 * MS);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 10 * MS) == 5600, "70%% of min 8000");
	/* The next window starts at the next completion and forgets the old minimum. */
	rawio_poll_observe(p, 0, 4 * KB, 9000, 0, 11 * MS);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 20 * MS) == 5600, "window open until 21 ms");
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 21 * MS) == 6300, "70%% of 9000");
	rawio_poll_pred_free(p);

	/* Values under 128 ns have a histogram bucket each: exact percentiles. */
	p = pred("p50:100:10ms");
	CHECK(p, "p50");
	for (uint64_t v = 10; v <= 100; v += 10)
		rawio_poll_observe(p, 0, 4 * KB, v, 0, v);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 10 * MS) == 0, "open until 10 ms + 10 ns");
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 10 * MS + 10) == 50, "p50 of 10..100 is 50");
	rawio_poll_pred_free(p);
	p = pred("p10:100:10ms");
	CHECK(p, "p10");
	for (uint64_t v = 1; v <= 100; v++)
		rawio_poll_observe(p, 1, 64 * KB, v * 1000, 0, v);
	s = rawio_poll_predict(p, 1, 64 * KB, 11 * MS);
	CHECK(s >= 9900 && s <= 10100, "p10 of 1..100 us is 10 us within 1%%, got %llu",
	      (unsigned long long)s);
	rawio_poll_pred_free(p);

	/* EWMA, weight 1/8: 8000, then 16000 -> 9000. */
	p = pred("ewma:100:10ms");
	CHECK(p, "ewma");
	rawio_poll_observe(p, 0, 4 * KB, 8000, 0, 0);
	rawio_poll_observe(p, 0, 4 * KB, 16000, 0, 1);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 10 * MS) == 9000, "ewma 9000");
	/* It runs across windows: 9000 + (1000 - 9000) / 8 = 8000. */
	rawio_poll_observe(p, 0, 4 * KB, 1000, 0, 11 * MS);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 21 * MS) == 8000, "ewma 8000");
	rawio_poll_pred_free(p);

	/* Period 0: every completion closes its own window. */
	p = pred("mean:50:0");
	CHECK(p, "mean:50:0");
	rawio_poll_observe(p, 0, 4 * KB, 1000, 0, 5);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 5) == 500, "period 0: last sample");
	rawio_poll_observe(p, 0, 4 * KB, 3000, 0, 6);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 6) == 1500, "period 0: last sample");
	rawio_poll_pred_free(p);

	p = pred("fixed:20us");
	CHECK(p, "fixed");
	CHECK(rawio_poll_predict(p, 1, 128 * KB, 0) == 20000, "fixed");
	rawio_poll_observe(p, 1, 128 * KB, 5, 0, 1);
	CHECK(rawio_poll_predict(p, 0, 512, 2) == 20000, "fixed ignores samples");
	CHECK(rawio_poll_predict(p, 0, 100, 2) == 0, "not under a sector");
	rawio_poll_pred_free(p);
	return T_PASS;
}

/* io_uring HYBRID_IOPOLL: estimate = min(estimate, latency - sleep), one per ring. */
static int test_uring(void)
{
	struct rawio_poll_pred *p = pred("uring-hybrid");

	CHECK(p, "uring-hybrid");
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 0) == 0, "none yet: no sleep");
	rawio_poll_observe(p, 0, 4 * KB, 10000, 0, 10000);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 10000) == 5000, "10000 / 2");
	rawio_poll_observe(p, 0, 4 * KB, 9000, 5000, 20000);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 20000) == 2000, "runtime 9000 - 5000 = 4000");
	rawio_poll_observe(p, 0, 4 * KB, 20000, 2000, 40000);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 40000) == 2000, "a running minimum");
	CHECK(rawio_poll_predict(p, 1, 1u << 20, 1000 * MS) == 2000, "one estimate per ring");
	/* An oversleep collapses it: seen 2100 after sleeping 2000. */
	rawio_poll_observe(p, 0, 4 * KB, 2100, 2000, 50000);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 50000) == 50, "min(4000, 100) / 2");
	CHECK(rawio_poll_estimate(p, 0, 4 * KB) == 100, "estimate");
	rawio_poll_pred_free(p);

	p = pred("runmin:80");
	CHECK(p, "runmin:80");
	rawio_poll_observe(p, 0, 4 * KB, 999, 0, 1);
	CHECK(rawio_poll_predict(p, 0, 4 * KB, 1) == 799, "floor(999 * 0.8)");
	rawio_poll_pred_free(p);
	return T_PASS;
}

static int test_names(void)
{
	static const char *const good[] = { "linux",	   "uring-hybrid", "min-window",
					    "min:70:10ms", "p10:90:1ms",   "ewma:80:10ms",
					    "runmin:60",   "fixed:20us",   "mean:30:500us",
					    "p99:100:1s" };
	static const char *const bad[] = {
		"",	   "min:",	    "min:abc",	   "p0",	 "p100",
		"pp",	   "min:70:10xs",   "min:2000",	   "fixed",	 "fixed:",
		"fixed:x", "min:70:10ms:1", "mean:50:61s", "Min",	 "min:-1",
		"min:70:", ":70",	    "min::10ms",   "p10:90:1.ms"
	};
	struct rawio_poll_pred *p;
	struct rawio_poll_cfg c;
	char name[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(rawio_poll_cfg_parse(good[i], &c) == 0, "'%s' parses", good[i]);
		rawio_poll_cfg_name(&c, name, sizeof(name));
		CHECK(!strcmp(name, good[i]), "'%s' names itself, got '%s'", good[i], name);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rawio_poll_cfg_parse(bad[i], &c) == -EINVAL, "'%s' is refused", bad[i]);
	CHECK_OK(rawio_poll_cfg_parse("runmin:50", &c));
	CHECK(!strcmp(rawio_poll_cfg_name(&c, name, sizeof(name)), "uring-hybrid"), "%s", name);
	CHECK_OK(rawio_poll_cfg_parse("mean:50:100ms", &c));
	CHECK(!strcmp(rawio_poll_cfg_name(&c, name, sizeof(name)), "linux"), "%s", name);
	CHECK_OK(rawio_poll_cfg_parse("min", &c));
	CHECK(c.ratio == 50 && c.period_ns == 100 * MS, "defaults: the kernel's 50%% and 100 ms");
	CHECK_OK(rawio_poll_cfg_parse("min:70:1.5ms", &c));
	CHECK(c.period_ns == 1500000, "1.5ms");
	CHECK_OK(rawio_poll_cfg_parse("min:70:250", &c));
	CHECK(c.period_ns == 250 * MS, "a bare period is milliseconds");
	c.rule = RAWIO_POLL_RULE_NR;
	CHECK(rawio_poll_cfg_check(&c) == -EINVAL, "bad rule");
	CHECK(rawio_poll_pred_new(&p, &c) == -EINVAL && !p, "new refuses");
	rawio_poll_cfg_name(&c, name, 4);
	CHECK(!strcmp(name, "?"), "bad config name");
	return T_PASS;
}

int main(void)
{
	if (test_buckets() || test_linux() || test_min_pct_ewma() || test_uring() || test_names())
		return T_FAIL;
	return T_PASS;
}
