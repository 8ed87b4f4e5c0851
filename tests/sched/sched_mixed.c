// SPDX-License-Identifier: MIT
/*
 * Fairness is in disk time, not requests: class a (100 shares) reads 4 KiB
 * (11000 ns each), class b (400 shares) writes 64 KiB (24000 ns each). While
 * both are backlogged, their disk time divided by their shares never differs
 * by more than one request's worth (WFQ's bound).
 */
#include "sched_test.h"

#define NR 2000u

int main(void)
{
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_class *a, *b;
	struct st_env t;
	unsigned by_seq[NR + 1] = { 0 };
	uint64_t ca = 0, cb = 0, nb = 0;
	long got;

	p.write_iops = 125000;		   /* 8000 ns */
	p.write_bandwidth = 4096000000ull; /* 64 KiB: 16000 ns */
	CHECK_OK(st_open(&t, 256 << 20, 8, 50000, &p, 0, NR, 65536));
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_WRITE, 65536) == 24000, "write cost");
	CHECK_OK(rawio_sched_class_new(t.s, "a", 100, &a));
	CHECK_OK(rawio_sched_class_new(t.s, "b", 400, &b));
	for (unsigned i = 0; i < NR; i++) {
		struct rawio_sched_req *r = &t.reqs[i];

		if (i < NR / 2) {
			r->req.len = 4096;
		} else {
			r->req.op = RAWIO_OP_WRITE;
		}
		CHECK_OK(rawio_sched_submit(t.s, i < NR / 2 ? a : b, r));
	}
	got = st_drain(&t);
	CHECK(got == NR, "reaped %ld", got);
	for (unsigned i = 0; i < NR; i++) {
		CHECK(t.reqs[i].req.result == (int64_t)t.reqs[i].req.len, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
		by_seq[t.reqs[i].seq] = i + 1;
	}
	/* From seq 9 (the engine's first 8 were a's) while both are backlogged. */
	for (unsigned q = 1; q <= NR && nb < NR / 2; q++) {
		bool is_a = by_seq[q] - 1 < NR / 2;
		double va, vb;

		if (is_a) {
			ca += 11000;
		} else {
			cb += 24000;
			nb++;
		}
		if (q < 9 + 8 * 11000 * 4 / 24000 + 1 || nb == NR / 2)
			continue;
		va = (double)ca / 100;
		vb = (double)cb / 400;
		CHECK(va - vb <= 110.0 + 1 && vb - va <= 60.0 + 1,
		      "seq %u: a %.0f ns/share, b %.0f ns/share: apart by more than a request", q,
		      va, vb);
	}
	CHECK(cb > 3 * ca && cb < 5 * ca, "disk time a %llu b %llu", (unsigned long long)ca,
	      (unsigned long long)cb);
	st_close(&t);
	return T_PASS;
}
