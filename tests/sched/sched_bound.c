// SPDX-License-Identifier: MIT
/*
 * The token bucket and the in-flight bound: with 10 us requests and a
 * 100 us latency goal, never more than 100 us of disk time (10 requests) is
 * in flight although the engine takes 64, and the disk's model capacity is
 * never exceeded (the run takes at least its cost less one bucket). Without
 * properties the scheduler passes through at the engine's full depth.
 */
#include "sched_test.h"

#define NR 3000u

static int bound_model(void)
{
	struct rawio_io_props p = st_props(100000, 0);
	struct rawio_sched_class *c;
	struct rawio_sched_stat st;
	struct st_env t;
	uint64_t t0, el;
	long got;

	p.read_bandwidth = p.write_bandwidth = 1ull << 50; /* transfers cost (next to) nothing */
	CHECK_OK(st_open(&t, 64 << 20, 64, 200000, &p, 100000, NR, 4096));
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_READ, 4096) == 10000, "cost");
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	t0 = rawio_now_ns();
	for (unsigned i = 0; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, c, &t.reqs[i]));
	got = st_drain(&t);
	el = rawio_now_ns() - t0;
	CHECK(got == NR, "reaped %ld", got);
	rawio_sched_stat(t.s, &st);
	CHECK(st.max_inflight_cost_ns <= 100000, "%llu ns of disk time in flight, bound 100000",
	      (unsigned long long)st.max_inflight_cost_ns);
	CHECK(st.max_inflight == 10, "at most %u in flight, expected the bound's 10",
	      st.max_inflight);
	CHECK(st.bound_waits > 0, "the bound never held anything back");
	/* The bucket: no faster than the model's 100000 IOPS (less one bucket: tau, 5 ms). */
	CHECK(el >= (uint64_t)NR * 10000 - 5000000, "%u requests in %llu ns: faster than the model",
	      NR, (unsigned long long)el);
	st_close(&t);
	return T_PASS;
}

static int bound_passthrough(void)
{
	struct rawio_sched_class *c;
	struct rawio_sched_stat st;
	struct st_env t;
	char desc[128];
	long got;

	CHECK_OK(st_open(&t, 64 << 20, 64, 200000, NULL, 0, NR, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	for (unsigned i = 0; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, c, &t.reqs[i]));
	got = st_drain(&t);
	CHECK(got == NR, "reaped %ld", got);
	rawio_sched_stat(t.s, &st);
	rawio_sched_describe(t.s, desc, sizeof(desc));
	CHECK(!st.model && st.latency_goal_ns == 0, "pass-through claims a model");
	CHECK(st.max_inflight == 64, "pass-through reached depth %u of 64", st.max_inflight);
	CHECK(strstr(desc, "pass-through"), "describe: %s", desc);
	st_close(&t);
	return T_PASS;
}

int main(void)
{
	if (bound_model())
		return T_FAIL;
	return bound_passthrough();
}
