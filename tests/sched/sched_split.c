// SPDX-License-Identifier: MIT
/*
 * Split and join: with saturation lengths of 64 KiB, a 256 KiB write goes as
 * four parts and a 200 KiB read as four (64+64+64+8); the caller sees one
 * completion each, with the data in place; a read crossing the end of the
 * device returns exactly the bytes up to the end; one past it returns 0.
 */
#include "sched_test.h"

#define DEV_SIZE (1u << 20)

/*
 * Without saturation lengths, a request is split so that each part costs at
 * most half the latency goal: 100000 IOPS and 1 GB/s with a 750 us goal fit
 * (375 - 10) us x 1 GB/s = 365000 bytes: parts of 256 KiB, so a 1 MiB write
 * goes as four.
 */
static int split_by_cost(void)
{
	struct rawio_io_props p = st_props(100000, 1000000000ull);
	struct rawio_sched_class *c;
	struct rawio_sched_req w = { 0 };
	struct st_env t;
	char *buf;

	CHECK_OK(st_open(&t, 4u << 20, 8, 10000, &p, 0, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	CHECK(!posix_memalign((void **)&buf, 4096, 1 << 20), "memory");
	t_fill(buf, 1 << 20, 3, 0);
	w.req = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = buf, .len = 1 << 20, .off = 0 };
	CHECK_OK(rawio_sched_submit(t.s, c, &w));
	CHECK(st_drain(&t) == 1, "not reaped once");
	CHECK(w.req.result == 1 << 20 && w.nr_parts == 4, "1 MiB write: result %lld, %u parts",
	      (long long)w.req.result, w.nr_parts);
	CHECK(!memcmp(rawio_dev_mem(t.dev), buf, 1 << 20), "data not on the device");
	free(buf);
	st_close(&t);
	return T_PASS;
}

int main(void)
{
	struct rawio_io_props p = st_props(100000, 4096000000ull);
	struct rawio_sched_class *c;
	struct rawio_sched_req w = { 0 }, r = { 0 }, e = { 0 }, z = { 0 };
	struct rawio_sched_stat st;
	struct rawio_sched_class_stat cs;
	char *wbuf, *rbuf, *ebuf;
	struct st_env t;
	long got;

	p.read_saturation_length = 65536;
	p.write_saturation_length = 65536;
	CHECK_OK(st_open(&t, DEV_SIZE, 8, 10000, &p, 0, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "c", 100, &c));
	CHECK(!posix_memalign((void **)&wbuf, 4096, 262144) &&
		      !posix_memalign((void **)&rbuf, 4096, 262144) &&
		      !posix_memalign((void **)&ebuf, 4096, 262144),
	      "memory");
	t_fill(wbuf, 262144, 7, 0);
	memset(rbuf, 0xaa, 262144);

	w.req = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = wbuf, .len = 262144, .off = 0 };
	CHECK_OK(rawio_sched_submit(t.s, c, &w));
	CHECK(st_drain(&t) == 1, "write not reaped once");
	CHECK(w.req.result == 262144 && w.nr_parts == 4, "write: result %lld parts %u",
	      (long long)w.req.result, w.nr_parts);
	CHECK(!memcmp(rawio_dev_mem(t.dev), wbuf, 262144), "write: data not on the device");

	r.req = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = rbuf, .len = 204800, .off = 0 };
	/* 100 KiB before the end: three parts of the four move 64+36+0. */
	e.req = (struct rawio_req){
		.op = RAWIO_OP_READ, .buf = ebuf, .len = 262144, .off = DEV_SIZE - 102400
	};
	z.req = (struct rawio_req){
		.op = RAWIO_OP_READ, .buf = ebuf, .len = 131072, .off = DEV_SIZE
	};
	CHECK_OK(rawio_sched_submit(t.s, c, &r));
	CHECK_OK(rawio_sched_submit(t.s, c, &e));
	CHECK_OK(rawio_sched_submit(t.s, c, &z));
	got = st_drain(&t);
	CHECK(got == 3, "reaped %ld of 3", got);
	CHECK(r.req.result == 204800 && r.nr_parts == 4, "read: result %lld parts %u",
	      (long long)r.req.result, r.nr_parts);
	CHECK(!memcmp(rbuf, wbuf, 204800), "read: data differs");
	CHECK(e.req.result == 102400, "read across the end: %lld, expected 102400",
	      (long long)e.req.result);
	CHECK(!memcmp(ebuf, (char *)rawio_dev_mem(t.dev) + DEV_SIZE - 102400, 102400),
	      "read across the end: data differs");
	CHECK(z.req.result == 0, "read past the end: %lld", (long long)z.req.result);
	CHECK(r.seq < e.seq && e.seq < z.seq, "class order lost");

	rawio_sched_stat(t.s, &st);
	rawio_sched_class_stat(c, &cs);
	CHECK(st.splits == 4 && st.dispatched == 4 + 4 + 4 + 2, "splits %llu dispatched %llu",
	      (unsigned long long)st.splits, (unsigned long long)st.dispatched);
	CHECK(cs.requests == 4 && cs.parts == 14 && cs.bytes == 262144 + 204800 + 102400,
	      "class: %llu requests %llu parts %llu bytes", (unsigned long long)cs.requests,
	      (unsigned long long)cs.parts, (unsigned long long)cs.bytes);
	free(wbuf);
	free(rbuf);
	free(ebuf);
	st_close(&t);
	return split_by_cost();
}
