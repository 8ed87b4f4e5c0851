// SPDX-License-Identifier: MIT
/*
 * The charge of a split request: its parts together cost exactly what the
 * whole would cost as one request (one per-request term, 1/iops, and its
 * bytes), not one per-request term per part. On a model of 100000 IOPS
 * (10 us a request) and 1 GB/s (1 ns a byte):
 *   - a 1 MiB write split into four 256 KiB parts costs 10000 + 1048576 ns
 *     (charged per part as a request it was 4 x 10000 + 1048576), and all of
 *     that is in flight at once under a large goal, and none of it is left in
 *     flight afterwards (a second write peaks at the same cost);
 *   - a 200 KiB read in 64 KiB parts (64+64+64+8) costs 10000 + 204800 ns;
 *   - under a 550 us goal a 1 MiB write in 128 KiB parts has four parts in
 *     flight (141072 + 3 x 131072 = 534288 ns), not three as when each part
 *     paid 10 us;
 *   - at 3 GB/s, where each part's bytes round, the parts still sum to the
 *     whole's cost exactly.
 */
#include "sched_test.h"

#define MIB (1u << 20)

static int write_1m(struct st_env *t, struct rawio_sched_class *c, char *buf)
{
	struct rawio_sched_req w = { 0 };

	w.req = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = buf, .len = MIB, .off = 0 };
	CHECK_OK(rawio_sched_submit(t->s, c, &w));
	CHECK(st_drain(t) == 1, "write not reaped once");
	CHECK(w.req.result == MIB, "write: result %lld", (long long)w.req.result);
	return T_PASS;
}

static int charge(char *buf)
{
	struct rawio_io_props p = st_props(100000, 1000000000ull);
	struct rawio_sched_req r = { 0 }, s4 = { 0 };
	struct rawio_sched_class_stat cs;
	struct rawio_sched_class *c;
	struct rawio_sched_stat st;
	struct st_env t;

	p.write_saturation_length = 256u << 10;
	p.read_saturation_length = 64u << 10;
	CHECK_OK(st_open(&t, 4 * MIB, 8, 1000000, &p, 100000000ull, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	CHECK(write_1m(&t, c, buf) == T_PASS, "first write");
	rawio_sched_class_stat(c, &cs);
	rawio_sched_stat(t.s, &st);
	CHECK(cs.parts == 4 && cs.cost_ns == 10000 + MIB, "1 MiB write: %llu parts cost %llu ns",
	      (unsigned long long)cs.parts, (unsigned long long)cs.cost_ns);
	CHECK(st.max_inflight == 4 && st.max_inflight_cost_ns == 10000 + MIB,
	      "in flight at most %u parts, %llu ns", st.max_inflight,
	      (unsigned long long)st.max_inflight_cost_ns);
	CHECK(write_1m(&t, c, buf) == T_PASS, "second write");
	rawio_sched_stat(t.s, &st);
	CHECK(st.max_inflight_cost_ns == 10000 + MIB, "disk time left in flight: peak %llu ns",
	      (unsigned long long)st.max_inflight_cost_ns);

	r.req = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = 204800, .off = 0 };
	s4.req = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf + MIB, .len = 4096, .off = 0 };
	CHECK_OK(rawio_sched_submit(t.s, c, &r));
	CHECK_OK(rawio_sched_submit(t.s, c, &s4));
	CHECK(st_drain(&t) == 2, "reads not reaped");
	CHECK(r.req.result == 204800 && r.nr_parts == 4 && s4.req.result == 4096,
	      "reads: %lld in %u parts, %lld", (long long)r.req.result, r.nr_parts,
	      (long long)s4.req.result);
	rawio_sched_class_stat(c, &cs);
	CHECK(cs.cost_ns == 2 * (10000 + MIB) + (10000 + 204800) + (10000 + 4096),
	      "class cost %llu ns", (unsigned long long)cs.cost_ns);
	st_close(&t);
	return T_PASS;
}

static int bound(char *buf)
{
	struct rawio_io_props p = st_props(100000, 1000000000ull);
	struct rawio_sched_class *c;
	struct rawio_sched_stat st;
	struct st_env t;

	p.write_saturation_length = 128u << 10;
	CHECK_OK(st_open(&t, 4 * MIB, 16, 1000000, &p, 550000, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	CHECK(write_1m(&t, c, buf) == T_PASS, "write");
	rawio_sched_stat(t.s, &st);
	CHECK(st.max_inflight == 4 && st.max_inflight_cost_ns == 10000 + 4 * 131072,
	      "550 us goal: at most %u parts, %llu ns in flight", st.max_inflight,
	      (unsigned long long)st.max_inflight_cost_ns);
	st_close(&t);
	return T_PASS;
}

static int rounding(char *buf)
{
	struct rawio_io_props p = st_props(100000, 3000000000ull);
	struct rawio_sched_class_stat cs;
	struct rawio_sched_class *c;
	struct st_env t;
	uint64_t whole = rawio_io_props_cost_ns(&p, RAWIO_OP_WRITE, MIB);

	p.write_saturation_length = 192u << 10; /* 5 parts of 192 KiB and one of 64 */
	CHECK_OK(st_open(&t, 4 * MIB, 8, 1000000, &p, 100000000ull, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	CHECK(write_1m(&t, c, buf) == T_PASS, "write");
	rawio_sched_class_stat(c, &cs);
	CHECK(cs.parts == 6 && cs.cost_ns == whole, "3 GB/s: %llu parts cost %llu ns, whole %llu",
	      (unsigned long long)cs.parts, (unsigned long long)cs.cost_ns,
	      (unsigned long long)whole);
	st_close(&t);
	return T_PASS;
}

int main(void)
{
	char *buf;
	int ret;

	if (posix_memalign((void **)&buf, 4096, 2 * MIB))
		return T_FAIL;
	t_fill(buf, 2 * MIB, 5, 0);
	ret = charge(buf);
	if (ret == T_PASS)
		ret = bound(buf);
	if (ret == T_PASS)
		ret = rounding(buf);
	free(buf);
	return ret;
}
