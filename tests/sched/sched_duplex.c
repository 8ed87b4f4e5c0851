// SPDX-License-Identifier: MIT
/*
 * duplex (Seastar's io_properties key): reads and writes each get a bucket and
 * an in-flight bound of their own. With 10 us requests and a 100 us goal, a
 * write class that fills its bound (10 writes) does not hold back a read class
 * submitted after it: before anything completes, 10 writes and 10 reads are
 * granted, and neither direction ever has more than 100 us in flight. Without
 * duplex the same submissions get 10 grants in all. The key parses, is
 * written back, and a bad value is an error naming the line.
 */
#include "sched_test.h"

#define NR 200u

static int duplex_run(bool duplex)
{
	struct rawio_io_props p = st_props(100000, 1ull << 50);
	struct rawio_sched_class *rd, *wr;
	struct rawio_sched_stat st;
	struct st_env t;
	char desc[256];
	long got;

	p.duplex = duplex;
	CHECK_OK(st_open(&t, 64 << 20, 64, 200000, &p, 100000, 2 * NR, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "writer", 100, &wr));
	CHECK_OK(rawio_sched_class_new(t.s, "reader", 1000, &rd));
	for (unsigned i = 0; i < NR; i++) {
		t.reqs[i].req.op = RAWIO_OP_WRITE;
		CHECK_OK(rawio_sched_submit(t.s, wr, &t.reqs[i]));
	}
	for (unsigned i = NR; i < 2 * NR; i++)
		CHECK_OK(rawio_sched_submit(t.s, rd, &t.reqs[i]));
	rawio_sched_stat(t.s, &st);
	CHECK(st.duplex == duplex, "stat says duplex %d", st.duplex);
	/* Nothing was reaped: nothing completed, so the bounds alone decide. */
	CHECK(st.dispatched == (duplex ? 20u : 10u), "duplex %d: %llu granted before a completion",
	      duplex, (unsigned long long)st.dispatched);
	got = st_drain(&t);
	CHECK(got == 2 * NR, "reaped %ld", got);
	for (unsigned i = 0; i < 2 * NR; i++)
		CHECK(t.reqs[i].req.result == 4096, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
	rawio_sched_stat(t.s, &st);
	CHECK(st.max_inflight_cost_ns <= 100000, "%llu ns in flight in one direction, bound 100000",
	      (unsigned long long)st.max_inflight_cost_ns);
	CHECK(st.max_inflight == (duplex ? 20u : 10u), "at most %u in flight", st.max_inflight);
	rawio_sched_describe(t.s, desc, sizeof(desc));
	CHECK(!!strstr(desc, "duplex") == duplex, "describe: %s", desc);
	st_close(&t);
	return T_PASS;
}

static int duplex_parse(void)
{
	const char *good = "disks:\n  - mountpoint: /x\n    read_iops: 10\n    read_bandwidth: 1M\n"
			   "    write_iops: 10\n    write_bandwidth: 1M\n    duplex: true\n";
	const char *bad = "disks:\n  - mountpoint: /x\n    read_iops: 10\n    read_bandwidth: 1M\n"
			  "    write_iops: 10\n    write_bandwidth: 1M\n    duplex: maybe\n";
	struct rawio_io_props p, back;
	char err[256] = "", yaml[1024];
	size_t nr;

	CHECK_OK(rawio_io_props_parse(good, &p, 1, &nr, err, sizeof(err)));
	CHECK(nr == 1 && p.duplex, "duplex: true not parsed");
	CHECK(rawio_io_props_format(&p, 1, yaml, sizeof(yaml)) < sizeof(yaml), "format");
	CHECK_OK(rawio_io_props_parse(yaml, &back, 1, &nr, err, sizeof(err)));
	CHECK(back.duplex, "duplex not written back:\n%s", yaml);
	p.duplex = false;
	rawio_io_props_format(&p, 1, yaml, sizeof(yaml));
	CHECK(!strstr(yaml, "duplex"), "duplex written when false:\n%s", yaml);
	CHECK(rawio_io_props_parse(bad, &p, 1, &nr, err, sizeof(err)) == -EINVAL,
	      "bad value taken");
	CHECK(strstr(err, "line 7") && strstr(err, "maybe"), "error: %s", err);
	return T_PASS;
}

int main(void)
{
	if (duplex_parse() || duplex_run(false))
		return T_FAIL;
	return duplex_run(true);
}
