// SPDX-License-Identifier: MIT
/*
 * No starvation, and no banked credit:
 *  1. a class with 1 share beside one with 1000 still progresses (about one
 *     request per 1001) and its starvation time is counted;
 *  2. a class idle while another ran comes back with at most tau of credit:
 *     with tau = 10 requests' worth and equal shares, it gets its 10 plus
 *     every other request, not the disk to itself.
 */
#include "sched_test.h"

#define NR 3000u

static int starve_one_share(void)
{
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_class *big, *small;
	struct rawio_sched_class_stat ss;
	struct st_env t;
	unsigned small_first = 0, small_in_2100 = 0;
	long got;

	CHECK_OK(st_open(&t, 64 << 20, 8, 20000, &p, 0, NR, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "big", 1000, &big));
	CHECK_OK(rawio_sched_class_new(t.s, "small", 1, &small));
	for (unsigned i = 0; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, i < NR - 100 ? big : small, &t.reqs[i]));
	got = st_drain(&t);
	CHECK(got == NR, "reaped %ld", got);
	for (unsigned i = NR - 100; i < NR; i++) {
		if (t.reqs[i].seq <= 2100)
			small_in_2100++;
		if (!small_first || t.reqs[i].seq < small_first)
			small_first = (unsigned)t.reqs[i].seq;
	}
	/* It is served at once (it was idle: vtime 0), then once per 1001. */
	CHECK(small_first == 9, "1-share class first served at seq %u", small_first);
	CHECK(small_in_2100 == 3, "1-share class served %u times in 2100", small_in_2100);
	rawio_sched_class_stat(small, &ss);
	CHECK(ss.starved_ns > 0 && ss.requests == 100, "starved %llu ns, %llu requests",
	      (unsigned long long)ss.starved_ns, (unsigned long long)ss.requests);
	st_close(&t);
	return T_PASS;
}

static int starve_no_banking(void)
{
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_opts so = { .size = sizeof(so), .props = &p, .tau_ns = 110000 };
	struct rawio_sched_req *out[64];
	struct rawio_sched_class *a, *b;
	struct st_env t;
	uint64_t first = 0;
	unsigned in_window = 0;
	long got = 0;

	CHECK_OK(st_open(&t, 64 << 20, 8, 20000, &p, 0, NR, 4096));
	rawio_sched_free(t.s);
	CHECK_OK(rawio_sched_new(&t.s, t.e, &so));
	CHECK_OK(rawio_sched_class_new(t.s, "a", 100, &a));
	CHECK_OK(rawio_sched_class_new(t.s, "b", 100, &b));
	for (unsigned i = 0; i < NR - 200; i++)
		CHECK_OK(rawio_sched_submit(t.s, b, &t.reqs[i]));
	while (got < 1000) {
		int n = rawio_sched_reap(t.s, out, 1, 64);

		CHECK(n > 0, "reap %d", n);
		got += n;
	}
	for (unsigned i = NR - 200; i < NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, a, &t.reqs[i]));
	got += st_drain(&t);
	CHECK(got == NR, "reaped %ld", got);
	/*
	 * Its first request may find free slots that the others fill before its
	 * second is submitted: count from its second, when all 200 are queued.
	 */
	first = t.reqs[NR - 199].seq;
	for (unsigned i = NR - 200; i < NR; i++)
		if (t.reqs[i].seq >= first && t.reqs[i].seq < first + 40)
			in_window++;
	if (getenv("SCHED_TEST_DEBUG"))
		for (uint64_t q = first; q < first + 40; q++)
			for (unsigned i = 0; i < NR; i++)
				if (t.reqs[i].seq == q)
					fprintf(stderr, "%c", i >= NR - 200 ? 'a' : 'b');
	/* 11 (tau's 10 and the step it was behind) + half of the other 29. */
	CHECK(in_window >= 25 && in_window <= 26,
	      "idle class got %u of the 40 dispatches after it came back", in_window);
	st_close(&t);
	return T_PASS;
}

int main(void)
{
	if (starve_one_share())
		return T_FAIL;
	return starve_no_banking();
}
