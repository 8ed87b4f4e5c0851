// SPDX-License-Identifier: MIT
/*
 * A request costlier than the latency goal beside cheap ones: on a model of
 * 100000 IOPS (10 us a request) and 500 MB/s (2 ns a byte) with a 100 us
 * goal, a 64 KiB write costs 141072 ns (64 KiB is the shortest split length,
 * so it is not split). With two 4 KiB reads (18192 ns each) of a 1000-share
 * class in flight, the write of a 100-share class goes once the bucket holds
 * its cost (not only when nothing is in flight, which a reader that keeps
 * reads in flight never allows), and then nothing more until completions:
 * in flight at most the goal plus that one request.
 */
#include <time.h>

#include "sched_test.h"

#define RD_COST (10000u + 2u * 4096u)
#define WR_COST (10000u + 2u * 65536u)

int main(void)
{
	struct rawio_io_props p = st_props(100000, 500000000ull);
	struct timespec ms = { .tv_nsec = 2000000 };
	struct rawio_sched_class *rd, *wr;
	struct rawio_sched_stat st;
	struct st_env t;
	long got;

	CHECK_OK(st_open(&t, 4 << 20, 16, 1000000, &p, 100000, 4, 65536));
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_READ, 4096) == RD_COST, "read cost");
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_WRITE, 65536) == WR_COST, "write cost");
	CHECK_OK(rawio_sched_class_new(t.s, "reader", 1000, &rd));
	CHECK_OK(rawio_sched_class_new(t.s, "writer", 100, &wr));
	for (unsigned i = 0; i < 4; i++)
		t.reqs[i].req.len = 4096;
	t.reqs[2].req.op = RAWIO_OP_WRITE;
	t.reqs[2].req.len = 65536;
	CHECK_OK(rawio_sched_submit(t.s, rd, &t.reqs[0]));
	CHECK_OK(rawio_sched_submit(t.s, rd, &t.reqs[1]));
	CHECK_OK(rawio_sched_submit(t.s, wr, &t.reqs[2]));
	/* The bucket started with the goal's 100 us; 2 ms later it holds the write's cost. */
	nanosleep(&ms, NULL);
	CHECK_OK(rawio_sched_submit(t.s, rd, &t.reqs[3]));
	rawio_sched_stat(t.s, &st);
	/* Nothing was reaped, so nothing completed: the limits alone decide. */
	CHECK(st.dispatched == 3, "%llu granted before a completion, expected 2 reads + the write",
	      (unsigned long long)st.dispatched);
	CHECK(st.max_inflight_cost_ns == 2 * RD_COST + WR_COST, "%llu ns in flight",
	      (unsigned long long)st.max_inflight_cost_ns);
	got = st_drain(&t);
	CHECK(got == 4, "reaped %ld", got);
	for (unsigned i = 0; i < 4; i++)
		CHECK(t.reqs[i].req.result == (int64_t)t.reqs[i].req.len, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
	rawio_sched_stat(t.s, &st);
	CHECK(st.splits == 0, "the 64 KiB write was split");
	CHECK(st.max_inflight_cost_ns <= 100000 + WR_COST, "%llu ns in flight, at most %u",
	      (unsigned long long)st.max_inflight_cost_ns, 100000 + WR_COST);
	st_close(&t);
	return T_PASS;
}
