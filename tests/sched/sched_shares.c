// SPDX-License-Identifier: MIT
/*
 * Shares changed under load, and classes made under load: nothing is lost or
 * reordered within a class, and the new ratio holds from the change on.
 */
#include "sched_test.h"

#define NR 3000u

int main(void)
{
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_class *a, *b, *c;
	struct rawio_sched_req *out[64];
	struct rawio_sched_stat st;
	unsigned by_seq[NR + 1] = { 0 }, na = 0;
	struct st_env t;
	uint64_t at;
	long got = 0;

	CHECK_OK(st_open(&t, 64 << 20, 8, 20000, &p, 0, NR, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "a", 100, &a));
	CHECK_OK(rawio_sched_class_new(t.s, "b", 100, &b));
	for (unsigned i = 0; i < 2000; i++)
		CHECK_OK(rawio_sched_submit(t.s, i % 2 ? b : a, &t.reqs[i]));
	while (got < 300) {
		int n = rawio_sched_reap(t.s, out, 1, 64);

		CHECK(n > 0, "reap %d", n);
		got += n;
	}
	CHECK_OK(rawio_sched_class_set_shares(b, 400));
	rawio_sched_stat(t.s, &st);
	at = st.dispatched;
	/* A third class, made now, with requests of its own. */
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	for (unsigned i = 2000; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, c, &t.reqs[i]));
	got += st_drain(&t);
	CHECK(got == NR, "reaped %ld of %u: lost requests", got, NR);
	for (unsigned i = 0; i < NR; i++) {
		CHECK(t.reqs[i].req.result == 4096, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
		CHECK(!by_seq[t.reqs[i].seq], "seq %llu twice", (unsigned long long)t.reqs[i].seq);
		by_seq[t.reqs[i].seq] = i + 1;
	}
	/* Each class in submission order, across the change. */
	for (unsigned i = 2; i < 2000; i++)
		CHECK(t.reqs[i].seq > t.reqs[i - 2].seq, "request %u overtook %u", i, i - 2);
	for (unsigned i = 2001; i < NR; i++)
		CHECK(t.reqs[i].seq > t.reqs[i - 1].seq, "request %u overtook %u", i, i - 1);
	/*
	 * c came in later (its time raised to the others' less tau), so look at a
	 * and b only: among their dispatches after the change, a : b is 1 : 4,
	 * within one request per stretch, over 500 of them.
	 */
	for (uint64_t q = at + 1, seen = 0; q <= NR && seen < 500; q++) {
		unsigned i = by_seq[q] - 1;

		if (i >= 2000)
			continue;
		seen++;
		if (!(i % 2))
			na++;
	}
	CHECK(na >= 99 && na <= 101, "after the change a got %u of 500 (expected 100)", na);
	st_close(&t);
	return T_PASS;
}
