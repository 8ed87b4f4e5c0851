// SPDX-License-Identifier: MIT
/*
 * Engine conformance: the same behaviours, run against every engine.
 *
 *   engine_conformance ENGINE CASE
 *
 * ENGINE is an engine name, optionally with uring setup flags
 * ("uring+sqpoll+regbufs") or a lower engine for fault or throttle
 * ("fault/aio", "throttle/mem"; throttle emulates a fast device), a wait
 * mode (+spin, +hybrid: min:50:0, +block) and for mem a 20 us latency (+lat).
 * The device is a scratch file opened O_DIRECT in the current directory, or a
 * RAM device for mem.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <rawio/poll.h>

#include "harness.h"

#define DEV_SIZE (16u << 20)
#define BLK	 4096u

struct ctx {
	const char *spec;
	char name[32];
	char lower[32];
	struct rawio_engine_opts opts;
	struct rawio_throttle *throttle;
	struct rawio_dev *dev;
	const struct rawio_dev_info *info;
	char path[128];
	void *region; /* one aligned region; registered with uring when asked */
	size_t region_len;
};

static int ctx_parse(struct ctx *c, const char *spec)
{
	char buf[128], *tok, *save;
	static const struct {
		const char *name;
		unsigned flag;
	} flags[] = {
		{ "regfiles", RAWIO_URING_REG_FILES },	 { "regbufs", RAWIO_URING_REG_BUFS },
		{ "sqpoll", RAWIO_URING_SQPOLL },	 { "coop", RAWIO_URING_COOP_TASKRUN },
		{ "single", RAWIO_URING_SINGLE_ISSUER }, { "defer", RAWIO_URING_DEFER_TASKRUN },
	};

	snprintf(buf, sizeof(buf), "%s", spec);
	c->spec = spec;
	c->opts.size = sizeof(c->opts);
	c->opts.queue_depth = 64;
	tok = strtok_r(buf, "+", &save);
	if (!tok)
		return -1;
	if (!strncmp(tok, "fault/", 6) || !strncmp(tok, "throttle/", 9)) {
		char *slash = strchr(tok, '/');

		snprintf(c->name, sizeof(c->name), "%.*s", (int)(slash - tok), tok);
		snprintf(c->lower, sizeof(c->lower), "%s", slash + 1);
		c->opts.lower = c->lower;
	} else {
		snprintf(c->name, sizeof(c->name), "%s", tok);
	}
	while ((tok = strtok_r(NULL, "+", &save))) {
		static struct rawio_poll_cfg quick; /* hybrid: sleeps from the second request */
		size_t i;

		/* Wait modes and a mem latency: the variants tests/poll registers. */
		if (!rawio_wait_mode_parse(tok, &c->opts.wait_mode)) {
			if (c->opts.wait_mode == RAWIO_WAIT_HYBRID &&
			    !rawio_poll_cfg_parse("min:50:0", &quick))
				c->opts.poll = &quick;
			continue;
		}
		if (!strcmp(tok, "lat")) {
			c->opts.mem_lat_ns = 20000;
			continue;
		}
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (!strcmp(tok, flags[i].name))
				break;
		if (i == sizeof(flags) / sizeof(flags[0]))
			return -1;
		c->opts.uring_flags |= flags[i].flag;
	}
	if (!strcmp(c->name, "throttle")) {
		/* A fast emulated device: every request goes through the model's clock. */
		struct rawio_throttle_params p;

		if (rawio_throttle_parse("iops=200k,bw=4g,flush=50us", &p) ||
		    rawio_throttle_new(&c->throttle, &p))
			return -1;
		c->opts.throttle = c->throttle;
	}
	return 0;
}

static bool ctx_is_mem(const struct ctx *c)
{
	return !strcmp(c->name, "mem") || !strcmp(c->lower, "mem");
}

static int ctx_open_dev(struct ctx *c)
{
	struct rawio_dev_opts o = { .size = sizeof(o),
				    .flags = RAWIO_DEV_CREATE,
				    .create_size = DEV_SIZE };
	const char *given = getenv("RAWIO_CONFORMANCE_DEV"); /* tests/nbd: an export of DEV_SIZE */
	char err[256] = "";
	int ret;

	if (ctx_is_mem(c) && getenv("RAWIO_MEM_OPTS")) {
		/* tests/mem registers the cases again per device mode (queues, sq, completion). */
		snprintf(c->path, sizeof(c->path), "mem:%u,%s", DEV_SIZE, getenv("RAWIO_MEM_OPTS"));
		o.flags = 0;
		o.errbuf = err;
		o.errbuf_len = sizeof(err);
		ret = rawio_dev_open(&c->dev, c->path, &o);
	} else if (ctx_is_mem(c)) {
		ret = rawio_dev_open_mem(&c->dev, DEV_SIZE, 512);
	} else if (given) {
		o = (struct rawio_dev_opts){ .size = sizeof(o),
					     .errbuf = err,
					     .errbuf_len = sizeof(err) };
		ret = rawio_dev_open(&c->dev, given, &o);
	} else {
		o.errbuf = err;
		o.errbuf_len = sizeof(err);
		t_scratch(c->path, sizeof(c->path), "conf");
		unlink(c->path);
		ret = rawio_dev_open(&c->dev, c->path, &o);
	}
	if (ret) {
		fprintf(stderr, "cannot open a device: %s %s\n", rawio_strerror(ret), err);
		return ret;
	}
	c->info = rawio_dev_info(c->dev);
	c->region_len = 8u << 20;
	c->region = rawio_buf_alloc(c->region_len, 4096);
	if (!c->region)
		return -ENOMEM;
	c->opts.reg_buf = c->region;
	c->opts.reg_buf_len = c->region_len;
	return 0;
}

static void ctx_close(struct ctx *c)
{
	rawio_buf_free(c->region);
	rawio_dev_close(c->dev);
	rawio_throttle_free(c->throttle);
	if (c->path[0])
		unlink(c->path);
}

static int ctx_engine(struct ctx *c, struct rawio_engine **e, const struct rawio_fault_range *f,
		      size_t nr)
{
	struct rawio_engine_opts o = c->opts;
	const char *name = c->name;
	int ret;

	if (nr) {
		/* Put a fault engine over the engine under test. */
		if (strcmp(c->name, "fault")) {
			o.lower = c->name;
			name = "fault";
		}
		o.faults = f;
		o.nr_faults = nr;
	}
	ret = rawio_engine_open(e, name, c->dev, &o);
	if (ret)
		fprintf(stderr, "rawio_engine_open(%s): %s\n", c->spec, rawio_strerror(ret));
	return ret;
}

/* Region slice I, BLK-sized buffers. */
static void *buf_at(struct ctx *c, size_t i)
{
	return (char *)c->region + (i % (c->region_len / BLK)) * BLK;
}

/* Queue R, reaping completions into a counter array when the engine is full. */
static int queue_or_reap(struct rawio_engine *e, struct rawio_req *r, unsigned *seen,
			 struct rawio_req *base)
{
	for (;;) {
		struct rawio_req *done[64];
		int q = rawio_engine_queue(e, r);

		if (q == RAWIO_Q_QUEUED)
			return 0;
		if (q == RAWIO_Q_DONE) {
			seen[r - base]++;
			return 0;
		}
		if (q != RAWIO_Q_BUSY)
			return q;
		q = rawio_engine_reap(e, done, 1, 64);
		if (q < 0)
			return q;
		for (int i = 0; i < q; i++)
			seen[done[i] - base]++;
	}
}

static int drain(struct rawio_engine *e, unsigned *seen, struct rawio_req *base)
{
	struct rawio_req *done[64];

	while (rawio_engine_inflight(e)) {
		int n = rawio_engine_reap(e, done, 1, 64);

		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			seen[done[i] - base]++;
	}
	return 0;
}

/* Write then read back N blocks at scattered offsets; every request exactly once. */
static int case_rw_n(struct ctx *c, unsigned n, uint64_t seed)
{
	struct rawio_engine *e;
	struct rawio_req *reqs = calloc(n, sizeof(*reqs));
	unsigned *seen = calloc(n, sizeof(*seen));
	unsigned nblocks = DEV_SIZE / BLK;
	int ret = T_FAIL;

	if (!reqs || !seen || ctx_engine(c, &e, NULL, 0))
		goto out_free;
	for (int pass = 0; pass < 2; pass++) {
		/* Up to nblocks requests hit distinct blocks (an odd multiplier permutes),
		 * so the read-back is exact; beyond that only results are checked. */
		unsigned count = n;

		memset(seen, 0, n * sizeof(*seen));
		for (unsigned i = 0; i < count; i++) {
			uint64_t blk = ((uint64_t)i * 2654435761u) % nblocks;
			struct rawio_req *r = &reqs[i];

			*r = (struct rawio_req){ .op = pass ? RAWIO_OP_READ : RAWIO_OP_WRITE,
						 .buf = buf_at(c, i),
						 .len = BLK,
						 .off = blk * BLK };
			if (!pass)
				t_fill(r->buf, BLK, seed, r->off);
			else
				memset(r->buf, 0, BLK);
			/* Buffers are reused round the region: wait before reusing one. */
			if (i && i % (c->region_len / BLK) == 0 && drain(e, seen, reqs))
				goto out_close;
			if (queue_or_reap(e, r, seen, reqs))
				goto out_close;
			if (pass && rawio_engine_inflight(e) > rawio_engine_queue_depth(e)) {
				fprintf(stderr, "in flight %u > queue depth %u\n",
					rawio_engine_inflight(e), rawio_engine_queue_depth(e));
				goto out_close;
			}
			/* Verify reads as soon as their buffer might be reused. */
		}
		if (drain(e, seen, reqs))
			goto out_close;
		for (unsigned i = 0; i < count; i++) {
			if (seen[i] != 1) {
				fprintf(stderr, "request %u completed %u times\n", i, seen[i]);
				goto out_close;
			}
			if (reqs[i].result != BLK) {
				fprintf(stderr, "request %u: result %lld\n", i,
					(long long)reqs[i].result);
				goto out_close;
			}
			if (reqs[i].complete_ns < reqs[i].submit_ns || !reqs[i].submit_ns) {
				fprintf(stderr, "request %u: bad times\n", i);
				goto out_close;
			}
			if (pass && count <= c->region_len / BLK && count <= nblocks &&
			    t_verify(reqs[i].buf, BLK, seed, reqs[i].off)) {
				fprintf(stderr, "request %u: data mismatch at %llu\n", i,
					(unsigned long long)reqs[i].off);
				goto out_close;
			}
		}
	}
	ret = T_PASS;
out_close:
	rawio_engine_close(e);
out_free:
	free(seen);
	free(reqs);
	return ret;
}

static int case_rw(struct ctx *c)
{
	return case_rw_n(c, 1024, 1);
}

/* Thousands in flight through a full engine; every request exactly once. */
static int case_many(struct ctx *c)
{
	return case_rw_n(c, 20000, 2);
}

static int case_align(struct ctx *c)
{
	struct rawio_engine *e;
	char *buf = buf_at(c, 0);
	struct rawio_req r;
	uint32_t ma = c->info->mem_align, oa = c->info->offset_align;
	int ret;

	CHECK_OK(ctx_engine(c, &e, NULL, 0));
	if (ma > 1) {
		r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf + ma / 2, .len = BLK };
		ret = rawio_engine_queue(e, &r);
		CHECK(ret == RAWIO_Q_DONE && r.result == -EINVAL, "unaligned buffer: q=%d res=%lld",
		      ret, (long long)r.result);
	}
	if (oa > 1) {
		r = (struct rawio_req){
			.op = RAWIO_OP_WRITE, .buf = buf, .len = BLK, .off = oa / 2
		};
		ret = rawio_engine_queue(e, &r);
		CHECK(ret == RAWIO_Q_DONE && r.result == -EINVAL, "unaligned offset: q=%d res=%lld",
		      ret, (long long)r.result);
		r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = oa / 2 };
		ret = rawio_engine_queue(e, &r);
		CHECK(ret == RAWIO_Q_DONE && r.result == -EINVAL, "unaligned length: q=%d res=%lld",
		      ret, (long long)r.result);
	}
	r = (struct rawio_req){ .op = 99, .buf = buf, .len = BLK };
	CHECK(rawio_engine_queue(e, &r) == RAWIO_Q_DONE && r.result == -EINVAL, "bad op accepted");
	CHECK(rawio_engine_inflight(e) == 0, "rejected requests count as in flight");
	rawio_engine_close(e);
	return T_PASS;
}

static int case_eof(struct ctx *c)
{
	struct rawio_engine *e;
	struct rawio_req r;
	uint64_t size = c->info->size;
	int64_t res;

	CHECK(size == DEV_SIZE, "device size %llu, want %u", (unsigned long long)size, DEV_SIZE);
	CHECK_OK(ctx_engine(c, &e, NULL, 0));
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf_at(c, 0), .len = BLK, .off = size };
	res = rawio_engine_run1(e, &r);
	CHECK(res == 0, "read at the end: %lld, want 0", (long long)res);
	r = (struct rawio_req){
		.op = RAWIO_OP_READ, .buf = buf_at(c, 0), .len = BLK, .off = size + 16 * BLK
	};
	res = rawio_engine_run1(e, &r);
	CHECK(res == 0, "read past the end: %lld, want 0", (long long)res);
	r = (struct rawio_req){
		.op = RAWIO_OP_READ, .buf = buf_at(c, 0), .len = 4 * BLK, .off = size - BLK
	};
	res = rawio_engine_run1(e, &r);
	CHECK(res == BLK, "short read at the end: %lld, want %u", (long long)res, BLK);
	rawio_engine_close(e);
	return T_PASS;
}

static int case_fsync(struct ctx *c)
{
	struct rawio_engine *e;
	struct rawio_req r;
	int64_t res;

	CHECK_OK(ctx_engine(c, &e, NULL, 0));
	t_fill(buf_at(c, 0), BLK, 7, 0);
	r = (struct rawio_req){
		.op = RAWIO_OP_WRITE, .flags = RAWIO_REQ_FUA, .buf = buf_at(c, 0), .len = BLK
	};
	res = rawio_engine_run1(e, &r);
	CHECK(res == BLK, "FUA write: %lld (%s)", (long long)res, rawio_strerror((int)res));
	r = (struct rawio_req){ .op = RAWIO_OP_FSYNC };
	res = rawio_engine_run1(e, &r);
	CHECK(res == 0, "fsync: %lld (%s)", (long long)res, rawio_strerror((int)res));
	r = (struct rawio_req){ .op = RAWIO_OP_FDATASYNC };
	res = rawio_engine_run1(e, &r);
	CHECK(res == 0, "fdatasync: %lld (%s)", (long long)res, rawio_strerror((int)res));
	memset(buf_at(c, 1), 0, BLK);
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf_at(c, 1), .len = BLK };
	CHECK(rawio_engine_run1(e, &r) == BLK, "read back");
	CHECK(t_verify(buf_at(c, 1), BLK, 7, 0) == 0, "FUA data did not read back");
	rawio_engine_close(e);
	return T_PASS;
}

static int case_discard(struct ctx *c)
{
	struct rawio_engine *e;
	struct rawio_req r;
	static const char zero[BLK];
	int64_t res;

	CHECK_OK(ctx_engine(c, &e, NULL, 0));
	t_fill(buf_at(c, 0), 2 * BLK, 9, 8 * BLK);
	r = (struct rawio_req){
		.op = RAWIO_OP_WRITE, .buf = buf_at(c, 0), .len = 2 * BLK, .off = 8 * BLK
	};
	CHECK(rawio_engine_run1(e, &r) == 2 * BLK, "write");
	r = (struct rawio_req){ .op = RAWIO_OP_DISCARD, .len = BLK, .off = 8 * BLK };
	res = rawio_engine_run1(e, &r);
	CHECK(res == 0, "discard: %lld (%s)", (long long)res, rawio_strerror((int)res));
	r = (struct rawio_req){
		.op = RAWIO_OP_READ, .buf = buf_at(c, 2), .len = 2 * BLK, .off = 8 * BLK
	};
	CHECK(rawio_engine_run1(e, &r) == 2 * BLK, "read");
	CHECK(memcmp(buf_at(c, 2), zero, BLK) == 0, "discarded block does not read as zeroes");
	CHECK(t_verify(buf_at(c, 3), BLK, 9, 9 * BLK) == 0, "the block after the discard changed");
	rawio_engine_close(e);
	return T_PASS;
}

/* Fill the engine without reaping: it must answer BUSY at its queue depth, lose nothing. */
static int case_busy(struct ctx *c)
{
	struct rawio_engine *e;
	unsigned qd, queued = 0, busy = 0, done_inline = 0;
	struct rawio_req reqs[600];
	struct rawio_req *out[600];

	CHECK_OK(ctx_engine(c, &e, NULL, 0));
	qd = rawio_engine_queue_depth(e);
	CHECK(qd >= 1 && qd < 600, "queue depth %u", qd);
	for (unsigned i = 0; i < qd + 8; i++) {
		reqs[i] = (struct rawio_req){ .op = RAWIO_OP_READ,
					      .buf = buf_at(c, i),
					      .len = BLK,
					      .off = (uint64_t)i * BLK };
		int q = rawio_engine_queue(e, &reqs[i]);

		if (q == RAWIO_Q_QUEUED)
			queued++;
		else if (q == RAWIO_Q_BUSY)
			busy++;
		else if (q == RAWIO_Q_DONE)
			done_inline++;
		else
			CHECK(0, "queue answered %d", q);
	}
	if (rawio_engine_caps(e) & RAWIO_CAP_ASYNC) {
		CHECK(queued + done_inline <= qd, "accepted %u beyond queue depth %u", queued, qd);
		CHECK(busy >= 8, "only %u BUSY answers past a full queue", busy);
	}
	CHECK(rawio_engine_inflight(e) == queued, "in flight %u, queued %u",
	      rawio_engine_inflight(e), queued);
	unsigned got = 0;

	while (got < queued) {
		int n = rawio_engine_reap(e, out, 1, 600);

		CHECK(n > 0, "reap: %d", n);
		for (int i = 0; i < n; i++)
			CHECK(out[i]->result == BLK, "result %lld", (long long)out[i]->result);
		got += (unsigned)n;
	}
	CHECK(got == queued, "reaped %u of %u", got, queued);
	/* Room again. */
	reqs[0] = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf_at(c, 0), .len = BLK };
	CHECK(rawio_engine_run1(e, &reqs[0]) == BLK, "queue after a full queue");
	rawio_engine_close(e);
	return T_PASS;
}

static int count_fail(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	return 0;
}

/* Three bad ranges in a batch of reads: exactly the requests that touch them fail. */
static int case_isolation(struct ctx *c)
{
	static const struct rawio_fault_range bad[] = {
		{ .off = 10 * BLK, .len = BLK },
		{ .off = 1000 * BLK, .len = BLK },
		{ .off = 3000 * BLK, .len = BLK, .err = ENODATA },
	};
	unsigned n = 4000;
	struct rawio_batch_io *ios = calloc(n, sizeof(*ios));
	struct rawio_engine *e;
	ssize_t failed;

	CHECK(ios, "calloc");
	CHECK_OK(ctx_engine(c, &e, bad, 3));
	for (unsigned i = 0; i < n; i++)
		ios[i] = (struct rawio_batch_io){ .off = (uint64_t)i * BLK, .len = BLK };
	failed = rawio_batch_read(e, ios, n, count_fail, NULL);
	CHECK(failed == 3, "batch reported %zd failures, want 3", failed);
	for (unsigned i = 0; i < n; i++) {
		int64_t want = i == 10 || i == 1000 ? -EIO : i == 3000 ? -ENODATA : (int64_t)BLK;

		CHECK(ios[i].result == want, "request %u: %lld, want %lld", i,
		      (long long)ios[i].result, (long long)want);
	}
	rawio_engine_close(e);
	free(ios);
	return T_PASS;
}

/* Short transfers are finished by resubmitting the rest; EAGAIN is retried. */
static int case_short(struct ctx *c)
{
	static const struct rawio_fault_range quirks[] = {
		{ .off = 0, .len = DEV_SIZE, .ops = 1u << RAWIO_OP_WRITE, .short_len = BLK },
		{ .off = 0, .len = DEV_SIZE, .ops = 1u << RAWIO_OP_READ, .short_len = 2 * BLK },
		{ .off = 64 * BLK, .len = BLK, .err = EAGAIN, .count = 3 },
	};
	struct rawio_engine *e;
	struct rawio_engine_stat st;
	struct rawio_req r;
	int64_t res;

	CHECK_OK(ctx_engine(c, &e, quirks, 3));
	for (unsigned i = 0; i < 8; i++) {
		uint64_t off = (uint64_t)i * 16 * BLK;

		t_fill(buf_at(c, 0), 16 * BLK, 11, off);
		r = (struct rawio_req){
			.op = RAWIO_OP_WRITE, .buf = buf_at(c, 0), .len = 16 * BLK, .off = off
		};
		res = rawio_engine_run1(e, &r);
		CHECK(res == 16 * BLK, "write of 16 blocks in 1-block pieces: %lld",
		      (long long)res);
		memset(buf_at(c, 16), 0, 16 * BLK);
		r = (struct rawio_req){
			.op = RAWIO_OP_READ, .buf = buf_at(c, 16), .len = 16 * BLK, .off = off
		};
		res = rawio_engine_run1(e, &r);
		CHECK(res == 16 * BLK, "read of 16 blocks in 2-block pieces: %lld", (long long)res);
		CHECK(t_verify(buf_at(c, 16), 16 * BLK, 11, off) == 0, "data at %llu",
		      (unsigned long long)off);
	}
	rawio_engine_stat(e, &st);
	CHECK(st.resubmits >= 8 * (15 + 7), "only %llu resubmissions",
	      (unsigned long long)st.resubmits);
	rawio_engine_close(e);
	return T_PASS;
}

static const struct {
	const char *name;
	int (*fn)(struct ctx *c);
} cases[] = {
	{ "rw", case_rw },     { "many", case_many },		{ "align", case_align },
	{ "eof", case_eof },   { "fsync", case_fsync },		{ "discard", case_discard },
	{ "busy", case_busy }, { "isolation", case_isolation }, { "short", case_short },
};

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	int ret;

	if (argc != 3 || ctx_parse(&c, argv[1])) {
		fprintf(stderr, "usage: %s ENGINE[+flag...] CASE\n", argv[0]);
		return T_FAIL;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[2], cases[i].name))
			continue;
		ret = ctx_open_dev(&c);
		if (ret)
			return ret == -EINVAL ? T_SKIP : T_FAIL;
		ret = cases[i].fn(&c);
		ctx_close(&c);
		return ret;
	}
	fprintf(stderr, "unknown case %s\n", argv[2]);
	return T_FAIL;
}
