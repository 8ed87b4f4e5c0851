// SPDX-License-Identifier: MIT
/*
 * The live wait modes: the mem engine's completion latency (fixed, replayed,
 * completions in due order at depth), block, spin and hybrid waits with their
 * counters, hybrid's sleep once per request and its oversleeps, the timer
 * slack, bad options, and spin on uring (with and without DEFER_TASKRUN) and
 * aio over a scratch file. IOPOLL without poll queues is refused.
 */
#include <sys/prctl.h>

#include <rawio/predict.h>

#include "harness.h"

#define US	 1000ull
#define DEV_SIZE (4u << 20)
#define BLK	 4096u

static struct rawio_dev *mem_dev;
static void *buf;

static int open_mem(struct rawio_engine **e, unsigned mode, const char *poll, uint64_t lat_ns,
		    const uint64_t *lats, size_t nr, unsigned qd)
{
	struct rawio_engine_opts o = { .size = sizeof(o),
				       .queue_depth = qd,
				       .wait_mode = mode,
				       .mem_lat_ns = lat_ns,
				       .mem_lat = lats,
				       .mem_lat_nr = nr };
	struct rawio_poll_cfg c;

	if (poll) {
		if (rawio_poll_cfg_parse(poll, &c))
			return -EINVAL;
		o.poll = &c;
	}
	return rawio_engine_open(e, "mem", mem_dev, &o);
}

/* N reads at depth 1; every latency at least MIN_NS (and, given LATS, its own). */
static int run_qd1(struct rawio_engine *e, unsigned n, uint64_t min_ns, const uint64_t *lats,
		   size_t nr)
{
	for (unsigned i = 0; i < n; i++) {
		struct rawio_req r = {
			.op = RAWIO_OP_READ, .buf = buf, .len = BLK, .off = (uint64_t)(i % 64) * BLK
		};
		uint64_t want = lats ? lats[i % nr] : min_ns;

		CHECK(rawio_engine_run1(e, &r) == BLK, "read %u: %lld", i, (long long)r.result);
		CHECK(r.complete_ns - r.submit_ns >= want, "read %u took %llu ns, less than %llu",
		      i, (unsigned long long)(r.complete_ns - r.submit_ns),
		      (unsigned long long)want);
	}
	return T_PASS;
}

static int test_mem_modes(void)
{
	static const uint64_t lats[] = { 30 * US, 5 * US, 60 * US };
	struct rawio_engine_stat st;
	struct rawio_engine *e;
	char desc[128];

	/* block: the engine sleeps to the due time. */
	CHECK_OK(open_mem(&e, RAWIO_WAIT_BLOCK, NULL, 20 * US, NULL, 0, 1));
	rawio_engine_describe(e, desc, sizeof(desc));
	CHECK(strstr(desc, "lat=20000ns"), "%s", desc);
	if (run_qd1(e, 50, 20 * US, NULL, 0))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	CHECK(st.waits == 0 && st.sleeps == 0, "block without ACCOUNT counts no waits");
	/*
	 * Whether reap had to sleep depends on how fast this build reaches it (a
	 * slow build finds every request already due): check what holds at any
	 * speed, that reap handed out each completion and no early one (above).
	 */
	CHECK(st.user_reaps == 50, "reap handed out %llu of 50 completions",
	      (unsigned long long)st.user_reaps);
	rawio_engine_close(e);

	/* spin: never sleeps; the polling shows in spin_ns. */
	CHECK_OK(open_mem(&e, RAWIO_WAIT_SPIN, NULL, 0, lats, 3, 1));
	if (run_qd1(e, 60, 0, lats, 3))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	/* How long it spun depends on the speed: a request found due is not waited for. */
	CHECK(st.sleeps == 0 && st.waits <= 60, "spin: waits %llu spin %llu",
	      (unsigned long long)st.waits, (unsigned long long)st.spin_ns);
	CHECK(st.reap_calls == 0, "spin never asked the engine to sleep");
	rawio_engine_close(e);

	/*
	 * hybrid with a fixed 10 us sleep under a 40 us latency: a request sleeps
	 * at most once, 10 us each time (one found already due, on a slow build
	 * or a loaded machine, is not slept for).
	 */
	CHECK_OK(open_mem(&e, RAWIO_WAIT_HYBRID, "fixed:10us", 40 * US, NULL, 0, 1));
	if (run_qd1(e, 50, 40 * US, NULL, 0))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	CHECK(st.sleeps <= 50 && st.sleep_ns == st.sleeps * 10 * US,
	      "hybrid sleeps %llu for %llu ns", (unsigned long long)st.sleeps,
	      (unsigned long long)st.sleep_ns);
	CHECK(st.oversleeps <= st.sleeps && st.waits <= 50, "counters");
	CHECK(prctl(PR_GET_TIMERSLACK) == 1, "timer slack lowered to 1 ns");
	rawio_engine_close(e);

	/*
	 * A sleep longer than the latency oversleeps every time. (A request whose
	 * completion is already due when reap looks is not slept for: on a loaded
	 * machine the thread can be off the CPU for longer than 5 us.)
	 */
	CHECK_OK(open_mem(&e, RAWIO_WAIT_HYBRID, "fixed:100us", 5 * US, NULL, 0, 1));
	if (run_qd1(e, 20, 5 * US, NULL, 0))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	CHECK(st.sleeps <= 20 && st.oversleeps == st.sleeps, "oversleeps %llu of %llu",
	      (unsigned long long)st.oversleeps, (unsigned long long)st.sleeps);
	CHECK(!st.sleeps || st.sleep_ns / st.sleeps >= 100 * US,
	      "sleeps of %llu ns, under the 100 us asked",
	      (unsigned long long)(st.sleep_ns / st.sleeps));
	rawio_engine_close(e);

	/* linux: nothing to predict from in the first 100 ms: it spins, then sleeps. */
	CHECK_OK(open_mem(&e, RAWIO_WAIT_HYBRID, "mean:50:1ms", 50 * US, NULL, 0, 1));
	if (run_qd1(e, 100, 50 * US, NULL, 0))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	CHECK(st.sleeps < 100, "mean:50:1ms slept %llu times", (unsigned long long)st.sleeps);
	CHECK(!st.sleeps || st.sleep_ns / st.sleeps >= 25 * US, "half of at least 50 us: %llu",
	      (unsigned long long)(st.sleep_ns / st.sleeps));
	rawio_engine_close(e);
	return T_PASS;
}

/* At depth, requests complete in due order, each exactly once. */
static int test_mem_depth(void)
{
	enum { QD = 16 };
	uint64_t lats[QD];
	struct rawio_req reqs[QD], *out[QD];
	struct rawio_engine *e;
	unsigned seen = 0;
	uint64_t last_due = 0;

	for (unsigned i = 0; i < QD; i++)
		lats[i] = (uint64_t)(QD - i) * 20 * US; /* the last queued is due first */
	for (unsigned mode = 0; mode < RAWIO_WAIT_NR; mode++) {
		CHECK_OK(open_mem(&e, mode, "fixed:5us", 0, lats, QD, QD));
		for (unsigned i = 0; i < QD; i++) {
			reqs[i] = (struct rawio_req){ .op = RAWIO_OP_READ,
						      .buf = buf,
						      .len = BLK,
						      .off = (uint64_t)i * BLK,
						      .user_data = &lats[i] };
			CHECK(rawio_engine_queue(e, &reqs[i]) == RAWIO_Q_QUEUED, "queue %u", i);
		}
		CHECK(rawio_engine_queue(e, &(struct rawio_req){ .op = RAWIO_OP_READ,
								 .buf = buf,
								 .len = BLK }) == RAWIO_Q_BUSY,
		      "full");
		seen = 0;
		last_due = 0;
		while (seen < QD) {
			int n = rawio_engine_reap(e, out, 1, QD);

			CHECK(n > 0, "reap %d", n);
			for (int k = 0; k < n; k++) {
				uint64_t due = out[k]->submit_ns + *(uint64_t *)out[k]->user_data;

				CHECK(out[k]->result == BLK, "result");
				CHECK(out[k]->complete_ns >= due, "completed before due");
				CHECK(due >= last_due, "mode %u: out of due order", mode);
				last_due = due;
				seen++;
			}
		}
		CHECK(rawio_engine_inflight(e) == 0, "drained");
		rawio_engine_close(e);
	}
	return T_PASS;
}

static int test_bad_opts(void)
{
	static const uint64_t lat = 1000;
	struct rawio_engine_opts o = { .size = sizeof(o) };
	struct rawio_poll_cfg bad = { .rule = RAWIO_POLL_PCT, .pct = 0 };
	struct rawio_engine *e;

	o.wait_mode = RAWIO_WAIT_NR;
	CHECK(rawio_engine_open(&e, "mem", mem_dev, &o) == -EINVAL && !e, "wait mode");
	o.wait_mode = RAWIO_WAIT_SPIN;
	o.wait_flags = 1u << 7;
	CHECK(rawio_engine_open(&e, "mem", mem_dev, &o) == -EINVAL, "wait flags");
	o.wait_flags = 0;
	o.wait_mode = RAWIO_WAIT_HYBRID;
	o.poll = &bad;
	CHECK(rawio_engine_open(&e, "mem", mem_dev, &o) == -EINVAL, "poll config");
	o.poll = NULL;
	o.mem_lat = &lat;
	CHECK(rawio_engine_open(&e, "mem", mem_dev, &o) == -EINVAL, "mem_lat without nr");
	o.mem_lat_nr = 1;
	o.mem_lat_ns = 5;
	CHECK(rawio_engine_open(&e, "mem", mem_dev, &o) == -EINVAL, "both latencies");
	o.mem_lat_ns = 0;
	CHECK_OK(rawio_engine_open(&e, "mem", mem_dev, &o));
	rawio_engine_close(e);
	return T_PASS;
}

static int test_slack_kept(void)
{
	struct rawio_engine_opts o = { .size = sizeof(o),
				       .wait_mode = RAWIO_WAIT_HYBRID,
				       .wait_flags = RAWIO_WAIT_F_KEEP_SLACK | RAWIO_WAIT_F_ACCOUNT,
				       .mem_lat_ns = 30 * US };
	struct rawio_poll_cfg c;
	struct rawio_engine_stat st;
	struct rawio_engine *e;

	CHECK_OK(prctl(PR_SET_TIMERSLACK, 50000UL, 0UL, 0UL, 0UL));
	CHECK_OK(rawio_poll_cfg_parse("fixed:5us", &c));
	o.poll = &c;
	CHECK_OK(rawio_engine_open(&e, "mem", mem_dev, &o));
	if (run_qd1(e, 10, 30 * US, NULL, 0))
		return T_FAIL;
	rawio_engine_stat(e, &st);
	CHECK(prctl(PR_GET_TIMERSLACK) == 50000, "KEEP_SLACK kept it");
	CHECK(st.wait_cpu_ns > 0 && st.wait_ns >= st.wait_cpu_ns / 2, "ACCOUNT: cpu %llu wall %llu",
	      (unsigned long long)st.wait_cpu_ns, (unsigned long long)st.wait_ns);
	rawio_engine_close(e);
	return T_PASS;
}

/* Spin and hybrid over real kernel completions. */
static int test_fd_engines(void)
{
	static const struct {
		const char *engine;
		unsigned uring_flags;
	} cases[] = {
		{ "uring", 0 },
		{ "uring", RAWIO_URING_SINGLE_ISSUER | RAWIO_URING_DEFER_TASKRUN },
		{ "uring", RAWIO_URING_COOP_TASKRUN },
		{ "aio", 0 },
		{ "threads", 0 },
	};
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = DEV_SIZE };
	struct rawio_dev *dev;
	struct rawio_req reqs[8], *out[8];
	char path[64];
	int ret;

	t_scratch(path, sizeof(path), "pollwait");
	unlink(path);
	ret = rawio_dev_open(&dev, path, &dopts);
	if (ret) {
		fprintf(stderr, "no O_DIRECT scratch file here (%s): fd engines not tested\n",
			rawio_strerror(ret));
		return T_PASS;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (unsigned mode = RAWIO_WAIT_SPIN; mode <= RAWIO_WAIT_HYBRID; mode++) {
			struct rawio_engine_opts o = { .size = sizeof(o),
						       .queue_depth = 8,
						       .wait_mode = mode,
						       .uring_flags = cases[i].uring_flags };
			struct rawio_engine_stat st;
			struct rawio_engine *e;
			unsigned got = 0;

			ret = rawio_engine_open(&e, cases[i].engine, dev, &o);
			CHECK(ret == 0, "%s %u: %s", cases[i].engine, mode, rawio_strerror(ret));
			for (unsigned k = 0; k < 200; k++) {
				struct rawio_req r = { .op = RAWIO_OP_READ,
						       .buf = buf,
						       .len = BLK,
						       .off = (uint64_t)(k % 256) * BLK };

				CHECK(rawio_engine_run1(e, &r) == BLK, "%s qd1", cases[i].engine);
			}
			for (unsigned k = 0; k < 8; k++) {
				reqs[k] = (struct rawio_req){ .op = RAWIO_OP_READ,
							      .buf = (char *)buf + k * BLK,
							      .len = BLK,
							      .off = (uint64_t)k * BLK };
				CHECK(rawio_engine_queue(e, &reqs[k]) == RAWIO_Q_QUEUED, "queue");
			}
			while (got < 8) {
				int n = rawio_engine_reap(e, out, 8 - got, 8);

				CHECK(n > 0, "%s reap %d", cases[i].engine, n);
				for (int k = 0; k < n; k++)
					CHECK(out[k]->result == BLK, "result");
				got += (unsigned)n;
			}
			rawio_engine_stat(e, &st);
			CHECK(st.completed == 208, "%s: %llu completed", cases[i].engine,
			      (unsigned long long)st.completed);
			rawio_engine_close(e);
		}
	}
	{
		struct rawio_engine_opts o = { .size = sizeof(o),
					       .uring_flags = RAWIO_URING_IOPOLL };
		struct rawio_engine *e;

		CHECK(rawio_engine_open(&e, "uring", dev, &o) == -EOPNOTSUPP,
		      "IOPOLL: no poll queues");
		o.uring_flags = RAWIO_URING_HYBRID_IOPOLL;
		CHECK(rawio_engine_open(&e, "uring", dev, &o) == -EOPNOTSUPP, "HYBRID_IOPOLL");
	}
	rawio_dev_close(dev);
	unlink(path);
	return T_PASS;
}

int main(void)
{
	int ret;

	buf = rawio_buf_alloc(8 * BLK, 4096);
	if (!buf || rawio_dev_open_mem(&mem_dev, DEV_SIZE, 512))
		return T_FAIL;
	ret = test_mem_modes() || test_mem_depth() || test_bad_opts() || test_slack_kept() ||
	      test_fd_engines();
	rawio_dev_close(mem_dev);
	rawio_buf_free(buf);
	return ret ? T_FAIL : T_PASS;
}
