// SPDX-License-Identifier: MIT
/*
 * WFQ order: two backlogged classes with shares 100 and 400 on a RAM device
 * with a fixed latency. Costs are exact (a 4 KiB read costs 11000 ns), so the
 * dispatch order is fixed: after the 400-share class catches up, exactly one
 * request in five is the 100-share class's, every time.
 */
#include "sched_test.h"

#define NR 2000u

int main(void)
{
	/* 100000 IOPS: 10000 ns; 4096 bytes at 4.096 GB/s: 1000 ns. */
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_class *a, *b;
	struct st_env t;
	unsigned by_seq[NR + 1] = { 0 };
	struct rawio_sched_stat st;
	struct rawio_sched_class_stat sa, sb;
	long got;

	CHECK_OK(st_open(&t, 64 << 20, 8, 50000, &p, 0, NR, 4096));
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_READ, 4096) == 11000, "cost %llu",
	      (unsigned long long)rawio_io_props_cost_ns(&p, RAWIO_OP_READ, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "a", 100, &a));
	CHECK_OK(rawio_sched_class_new(t.s, "b", 400, &b));
	for (unsigned i = 0; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, i < NR / 2 ? a : b, &t.reqs[i]));
	got = st_drain(&t);
	CHECK(got == NR, "reaped %ld of %u", got, NR);
	for (unsigned i = 0; i < NR; i++) {
		struct rawio_sched_req *r = &t.reqs[i];

		CHECK(r->req.result == 4096, "request %u: result %lld", i,
		      (long long)r->req.result);
		CHECK(r->seq >= 1 && r->seq <= NR && !by_seq[r->seq], "request %u: seq %llu", i,
		      (unsigned long long)r->seq);
		by_seq[r->seq] = i + 1;
	}
	/* Within a class, submission order. */
	for (unsigned i = 1; i < NR; i++)
		if (i != NR / 2)
			CHECK(t.reqs[i].seq > t.reqs[i - 1].seq, "request %u left before %u", i,
			      i - 1);
	/* The first 8 fill the engine (a's, submitted first); b catches up: 32 of b. */
	for (unsigned q = 1; q <= 8; q++)
		CHECK(by_seq[q] - 1 < NR / 2, "seq %u is not a's", q);
	for (unsigned q = 9; q <= 40; q++)
		CHECK(by_seq[q] - 1 >= NR / 2, "seq %u is not b's", q);
	/* Then one in five is a's (ties go to a, the older class). */
	for (unsigned q = 41; q <= 1040; q++) {
		bool is_a = by_seq[q] - 1 < NR / 2;

		CHECK(is_a == ((q - 41) % 5 == 0), "seq %u: %s's, expected %s's", q,
		      is_a ? "a" : "b", (q - 41) % 5 == 0 ? "a" : "b");
	}
	rawio_sched_stat(t.s, &st);
	rawio_sched_class_stat(a, &sa);
	rawio_sched_class_stat(b, &sb);
	CHECK(st.model && st.dispatched == NR, "model %d dispatched %llu", st.model,
	      (unsigned long long)st.dispatched);
	CHECK(sa.requests == NR / 2 && sb.requests == NR / 2 && sa.bytes == 4096ull * NR / 2,
	      "stats: a %llu b %llu", (unsigned long long)sa.requests,
	      (unsigned long long)sb.requests);
	CHECK(sa.cost_ns == 11000ull * NR / 2, "a cost %llu", (unsigned long long)sa.cost_ns);
	CHECK(sa.disk_lat.p50 >= 50000, "a's disk time p50 %llu below the device's latency",
	      (unsigned long long)sa.disk_lat.p50);
	CHECK(sa.queue_lat.p99 > 0 && sb.queue_lat.p99 > 0, "no queueing time recorded");
	st_close(&t);
	return T_PASS;
}
