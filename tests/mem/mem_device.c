// SPDX-License-Identifier: MIT
/*
 * The multi-queue RAM device (issue 18).
 *
 *   mem_device opts|inflight|counters|badblocks|cache|prefault|units
 *
 * opts       option parsing rejects nonsense with a line naming the option
 * inflight   never more than depth requests in flight per queue (from the
 *            counters), in timer, thread and inline completion, threads
 *            sharing queues; a full tag set makes submitters wait (counted)
 * counters   per-queue counters add up to the requests issued
 * badblocks  reads and writes fail with EIO exactly where they touch a range
 * cache      a simulated cut loses unflushed writes and keeps flushed and FUA ones
 * prefault   a device is lazy (no RAM until written) unless prefault=1 or the
 *            opener asks with RAWIO_DEV_PREFAULT (rawio bench); the path wins
 * units      lat=, the throttle's times and the predictor's take one time syntax
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rawio/dev.h>
#include <rawio/engine.h>
#include <rawio/predict.h>

#include "harness.h"

#define BLK 4096u

static int case_opts(void)
{
	static const struct {
		const char *path, *names;
	} bad[] = {
		{ "mem:64M,queues=0", "mem: queues=0: must be 1..256" },
		{ "mem:64M,queues=257", "queues=257" },
		{ "mem:64M,queues=x", "queues=x" },
		{ "mem:64M,depth=0", "depth=0" },
		{ "mem:64M,mode=fast", "mode=fast" },
		{ "mem:64M,complete=irq", "complete=irq" },
		{ "mem:64M,lat=soon", "lat=soon" },
		{ "mem:64M,lat=-5us", "lat=-5us" },
		{ "mem:64M,backed=2", "backed=2" },
		{ "mem:64M,prefault=yes", "prefault=yes" },
		{ "mem:64M,bs=1000", "bs=1000" },
		{ "mem:64M,iops=lots", "iops=lots" },
		{ "mem:64M,bw=fast", "bw=fast" },
		{ "mem:64M,badblocks=5", "badblocks=5" },
		{ "mem:64M,badblocks=8k-4k", "badblocks=8k-4k" },
		{ "mem:64M,cache=1m,backed=0", "cache=" },
		{ "mem:64M,cache=100", "cache=100" },
		{ "mem:64M,mode=sq,queues=2", "queues=2" },
		{ "mem:64M,colour=blue", "colour=blue: unknown option" },
		{ "mem:64M,queues", "'queues'" },
		{ "mem:64M,bs=4096,queues=1,depth=8,x", "'x'" },
		{ "mem:,queues=1", "not a RAM device size" },
		{ "mem:1000,bs=4096", "bs=4096" },
	};
	struct rawio_mem_opts o;
	struct rawio_dev_info info;
	struct rawio_dev *dev;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rawio_dev_opts dopts = { .size = sizeof(dopts),
						.errbuf = err,
						.errbuf_len = sizeof(err) };

		err[0] = '\0';
		CHECK(rawio_mem_opts_parse(bad[i].path, &o, err, sizeof(err)) == -EINVAL,
		      "%s parsed", bad[i].path);
		CHECK(strstr(err, bad[i].names), "%s: message '%s' does not name '%s'", bad[i].path,
		      err, bad[i].names);
		err[0] = '\0';
		CHECK(rawio_dev_open(&dev, bad[i].path, &dopts) == -EINVAL, "%s opened",
		      bad[i].path);
		CHECK(strstr(err, bad[i].names), "open %s: message '%s'", bad[i].path, err);
	}
	CHECK(rawio_mem_opts_parse("/dev/zram0", &o, NULL, 0) == 0, "not a mem path");
	CHECK(rawio_mem_opts_parse("mem:1M,queues=4,depth=8,mode=mq,complete=timer,lat=20us,"
				   "backed=1,bw=100m,iops=1000,badblocks=0-4k:1m-1040k,"
				   "cache=64k,bs=4096,prefault=0",
				   &o, err, sizeof(err)) == 1,
	      "a good spec: %s", err);
	CHECK(o.size == 1u << 20 && o.queues == 4 && o.depth == 8 && o.mode == RAWIO_MEM_MQ &&
		      o.complete == RAWIO_MEM_COMPLETE_TIMER && o.lat_ns == 20000 && o.backed &&
		      o.bw == 100u << 20 && o.iops == 1000 && o.cache == 64u << 10 &&
		      o.block_size == 4096 && !o.prefault,
	      "values");
	CHECK(o.nr_badblocks == 2 && o.badblocks[0].off == 0 && o.badblocks[0].len == 4096 &&
		      o.badblocks[1].off == 1u << 20 && o.badblocks[1].len == 16384,
	      "badblocks");
	CHECK(rawio_mem_opts_parse("mem:1M", &o, NULL, 0) == 1 && o.queues == 1 && o.depth == 64 &&
		      o.mode == RAWIO_MEM_MQ && o.complete == RAWIO_MEM_COMPLETE_INLINE &&
		      o.backed && !o.cache && !o.nr_badblocks,
	      "defaults");
	CHECK_OK(rawio_dev_describe("mem:1M,bs=4096,queues=2", &info));
	CHECK(info.size == 1u << 20 && info.logical_block_size == 4096, "describe");
	CHECK_OK(rawio_dev_open(&dev, "mem:1M,queues=3,backed=0", NULL));
	CHECK(rawio_dev_mem_nr_queues(dev) == 3, "queues");
	rawio_dev_close(dev);
	return T_PASS;
}

/* Worker: NR random 4K reads (or writes) at queue depth QD through one context. */
struct worker {
	struct rawio_dev *dev;
	unsigned queue; /* opts.mem_queue */
	unsigned qd, nr;
	bool write;
	uint64_t seed;
	int err;
	uint64_t done, bytes;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rawio_engine_opts eo = { .size = sizeof(eo),
					.queue_depth = w->qd,
					.mem_queue = w->queue };
	struct rawio_engine *e = NULL;
	struct rawio_req *reqs = NULL, *done[64];
	char *buf = NULL;
	uint64_t size = rawio_dev_info(w->dev)->size, x = w->seed | 1;
	unsigned issued = 0, free_nr = 0;
	struct rawio_req **free_list = NULL;

	w->err = rawio_engine_open(&e, "mem", w->dev, &eo);
	if (w->err)
		return NULL;
	reqs = calloc(w->qd, sizeof(*reqs));
	free_list = calloc(w->qd, sizeof(*free_list));
	buf = rawio_buf_alloc((size_t)w->qd * BLK, 4096);
	if (!reqs || !free_list || !buf) {
		w->err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < w->qd; i++) {
		reqs[i].buf = buf + (size_t)i * BLK;
		free_list[free_nr++] = &reqs[i];
	}
	while (w->done < w->nr) {
		while (free_nr && issued < w->nr) {
			struct rawio_req *r = free_list[--free_nr];
			int q;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r->op = w->write ? RAWIO_OP_WRITE : RAWIO_OP_READ;
			r->len = BLK;
			r->off = x % (size / BLK) * BLK;
			q = rawio_engine_queue(e, r);
			if (q == RAWIO_Q_BUSY) {
				free_list[free_nr++] = r;
				break;
			}
			if (q < 0 || r->result < 0) {
				w->err = q < 0 ? q : (int)r->result;
				goto out;
			}
			issued++;
			if (q == RAWIO_Q_DONE) {
				w->done++;
				w->bytes += (uint64_t)r->result;
				free_list[free_nr++] = r;
			}
		}
		int n = rawio_engine_reap(e, done, 1, 64);

		if (n < 0) {
			w->err = n;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (done[i]->result != BLK) {
				w->err = done[i]->result < 0 ? (int)done[i]->result : -EIO;
				goto out;
			}
			w->done++;
			w->bytes += BLK;
			free_list[free_nr++] = done[i];
		}
	}
out:
	rawio_engine_close(e);
	rawio_buf_free(buf);
	free(free_list);
	free(reqs);
	return NULL;
}

/* Run NT workers of NR requests at QD on DEV; worker i drives queue (i % nq) + 1 if FIXED. */
static int run_workers(struct rawio_dev *dev, unsigned nt, unsigned qd, unsigned nr, bool fixed,
		       bool write, uint64_t *done, uint64_t *bytes)
{
	struct worker w[8];
	pthread_t th[8];
	unsigned nq = rawio_dev_mem_nr_queues(dev);

	*done = *bytes = 0;
	for (unsigned i = 0; i < nt; i++) {
		w[i] = (struct worker){ .dev = dev,
					.qd = qd,
					.nr = nr,
					.write = write,
					.queue = fixed ? i % nq + 1 : 0,
					.seed = 77 + i };
		CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0, "thread");
	}
	for (unsigned i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < nt; i++) {
		CHECK(w[i].err == 0, "worker %u: %s", i, rawio_strerror(w[i].err));
		*done += w[i].done;
		*bytes += w[i].bytes;
	}
	return T_PASS;
}

static int case_inflight(void)
{
	static const struct {
		const char *path;
		bool must_wait; /* one context with qd > depth must find the tags gone */
	} devs[] = {
		{ "mem:4M,queues=2,depth=4,complete=timer,lat=100us", true },
		{ "mem:4M,mode=sq,depth=3,complete=timer,lat=50us", true },
		{ "mem:4M,queues=2,depth=4,complete=thread", false },
		{ "mem:4M,mode=sq,depth=2,complete=thread", false },
		{ "mem:4M,queues=2,depth=1", false },
	};

	for (size_t d = 0; d < sizeof(devs) / sizeof(devs[0]); d++) {
		const struct rawio_mem_opts *o;
		struct rawio_dev *dev;
		uint64_t done, bytes;

		CHECK_OK(rawio_dev_open(&dev, devs[d].path, NULL));
		o = rawio_dev_mem_opts(dev);
		if (run_workers(dev, 4, 16, 3000, true, false, &done, &bytes))
			return T_FAIL;
		for (unsigned q = 0; q < o->queues; q++) {
			struct rawio_mem_queue_stat st;

			CHECK_OK(rawio_dev_mem_queue_stat(dev, q, &st));
			CHECK(st.max_inflight <= o->depth, "%s queue %u: %llu in flight, depth %u",
			      devs[d].path, q, (unsigned long long)st.max_inflight, o->depth);
			CHECK(st.max_inflight >= 1 && st.inflight == 0, "%s queue %u: %llu now",
			      devs[d].path, q, (unsigned long long)st.inflight);
			if (devs[d].must_wait) {
				CHECK(st.tag_waits > 0, "%s queue %u: no tag waits", devs[d].path,
				      q);
				CHECK(st.max_inflight == o->depth, "%s queue %u: max %llu",
				      devs[d].path, q, (unsigned long long)st.max_inflight);
			}
		}
		rawio_dev_close(dev);
	}
	return T_PASS;
}

static int case_counters(void)
{
	static const char *const paths[] = {
		"mem:8M,queues=3",
		"mem:8M,queues=2,complete=thread",
		"mem:8M,queues=4,depth=8,complete=timer,lat=10us",
		"mem:8M,mode=sq,backed=0",
	};

	for (size_t d = 0; d < sizeof(paths) / sizeof(paths[0]); d++) {
		for (int fixed = 0; fixed < 2; fixed++) {
			struct rawio_mem_queue_stat sum = { 0 }, st;
			struct rawio_dev *dev;
			uint64_t done, bytes;

			CHECK_OK(rawio_dev_open(&dev, paths[d], NULL));
			if (run_workers(dev, 3, 8, 2000, fixed, d % 2, &done, &bytes))
				return T_FAIL;
			CHECK(done == 3 * 2000, "%s: %llu done", paths[d],
			      (unsigned long long)done);
			for (unsigned q = 0; q < rawio_dev_mem_nr_queues(dev); q++) {
				CHECK_OK(rawio_dev_mem_queue_stat(dev, q, &st));
				CHECK(st.dispatched == st.completed && st.inflight == 0,
				      "%s queue %u: %llu dispatched, %llu completed", paths[d], q,
				      (unsigned long long)st.dispatched,
				      (unsigned long long)st.completed);
				sum.dispatched += st.dispatched;
				sum.completed += st.completed;
				sum.bytes_dispatched += st.bytes_dispatched;
				sum.bytes_completed += st.bytes_completed;
			}
			CHECK(sum.completed == done && sum.bytes_completed == bytes &&
				      sum.bytes_dispatched == bytes,
			      "%s: queues completed %llu (%llu bytes), issued %llu (%llu bytes)",
			      paths[d], (unsigned long long)sum.completed,
			      (unsigned long long)sum.bytes_completed, (unsigned long long)done,
			      (unsigned long long)bytes);
			rawio_dev_mem_reset_stats(dev);
			CHECK_OK(rawio_dev_mem_queue_stat(dev, 0, &st));
			CHECK(st.completed == 0 && st.dispatched == 0, "reset");
			rawio_dev_close(dev);
		}
	}
	return T_PASS;
}

static int64_t io1(struct rawio_engine *e, uint8_t op, void *buf, uint64_t len, uint64_t off,
		   uint32_t flags)
{
	struct rawio_req r = { .op = op, .buf = buf, .len = len, .off = off, .flags = flags };

	return rawio_engine_run1(e, &r);
}

static int case_badblocks(void)
{
	static const struct rawio_mem_range bad[] = { { 8192, 4096 }, { 100000, 1 } };
	struct rawio_dev *dev;
	struct rawio_engine *e;
	char *buf = rawio_buf_alloc(4096, 4096);

	CHECK(buf, "memory");
	CHECK_OK(rawio_dev_open(&dev, "mem:1M,badblocks=8k-12k:100000-100001", NULL));
	CHECK_OK(rawio_engine_open(&e, "mem", dev, NULL));
	for (uint64_t off = 0; off < 256 * 1024; off += 512) {
		for (uint64_t len = 512; len <= 4096; len *= 8) {
			bool hit = false;

			for (size_t i = 0; i < 2; i++)
				hit |= off < bad[i].off + bad[i].len && bad[i].off < off + len;
			for (uint8_t op = RAWIO_OP_READ; op <= RAWIO_OP_WRITE; op++) {
				int64_t res = io1(e, op, buf, len, off, 0);

				CHECK(res == (hit ? -EIO : (int64_t)len),
				      "%s of %llu at %llu: %lld, want %s",
				      op == RAWIO_OP_READ ? "read" : "write",
				      (unsigned long long)len, (unsigned long long)off,
				      (long long)res, hit ? "EIO" : "success");
			}
		}
	}
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	return T_PASS;
}

static int case_cache(void)
{
	struct rawio_dev *dev;
	struct rawio_engine *e;
	char *buf = rawio_buf_alloc(256 * 1024, 4096), *zero = calloc(1, BLK);
	int64_t lost;

	CHECK(buf && zero, "memory");
	CHECK_OK(rawio_dev_open(&dev, "mem:1M,cache=64k", NULL));
	CHECK_OK(rawio_engine_open(&e, "mem", dev, NULL));
	/* A flushed, then overwritten; B never flushed; C written FUA. */
	t_fill(buf, BLK, 1, 0);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, 0, 0) == BLK, "write A");
	CHECK(io1(e, RAWIO_OP_FSYNC, NULL, 0, 0, 0) == 0, "flush");
	t_fill(buf, BLK, 2, 0);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, 0, 0) == BLK, "write A'");
	t_fill(buf, BLK, 3, 8192);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, 8192, 0) == BLK, "write B");
	t_fill(buf, BLK, 4, 16384);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, 16384, RAWIO_REQ_FUA) == BLK, "write C");
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 0, 0) == BLK && t_verify(buf, BLK, 2, 0) == 0,
	      "reads see the cache");
	lost = rawio_dev_mem_cut(dev);
	CHECK(lost == 16, "the cut lost %lld blocks, want 16 (A' and B)", (long long)lost);
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 0, 0) == BLK && t_verify(buf, BLK, 1, 0) == 0,
	      "A is back to what was flushed");
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 8192, 0) == BLK && !memcmp(buf, zero, BLK),
	      "B was never flushed: zeroes");
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 16384, 0) == BLK && t_verify(buf, BLK, 4, 16384) == 0,
	      "C was FUA");
	CHECK(rawio_dev_mem_cut(dev) == 0, "nothing left to lose");

	/* Overflow: 256K through a 64K cache: the oldest overflow is written back. */
	t_fill(buf, 256 * 1024, 5, 65536);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, 256 * 1024, 65536, 0) == 256 * 1024, "big write");
	lost = rawio_dev_mem_cut(dev);
	CHECK(lost > 0 && lost <= 128, "lost %lld blocks through a cache of 128", (long long)lost);
	CHECK(io1(e, RAWIO_OP_READ, buf, 256 * 1024, 65536, 0) == 256 * 1024, "read back");
	for (unsigned b = 0, zeroes = 0; b < 512; b++) {
		const char *blk = buf + (size_t)b * 512;

		if (!memcmp(blk, zero, 512))
			zeroes++;
		else
			CHECK(t_verify(blk, 512, 5, 65536 + (uint64_t)b * 512) == 0,
			      "block %u is neither the write nor lost", b);
		if (b == 511)
			CHECK(zeroes == (unsigned)lost, "%u blocks read as lost, the cut said %lld",
			      zeroes, (long long)lost);
	}
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	free(zero);
	return T_PASS;
}

/* Resident bytes of this process. */
static uint64_t rss_bytes(void)
{
	unsigned long long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int case_prefault(void)
{
	static const struct {
		const char *path;
		unsigned flags;
		bool resident;
	} cases[] = {
		{ "mem:64M", 0, false },
		{ "mem:64M", RAWIO_DEV_PREFAULT, true },
		{ "mem:64M,prefault=1", 0, true },
		{ "mem:64M,prefault=0", RAWIO_DEV_PREFAULT, false },
		{ "mem:64M,backed=0", RAWIO_DEV_PREFAULT, false }, /* a null device has no data */
		{ "mem:64M,cache=1m,prefault=1", 0, true },
	};
	const uint64_t size = 64u << 20;

	if (!rss_bytes())
		return T_SKIP;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rawio_dev_opts dopts = { .size = sizeof(dopts), .flags = cases[i].flags };
		struct rawio_dev *dev;
		uint64_t before = rss_bytes(), grew;

		CHECK_OK(rawio_dev_open(&dev, cases[i].path, &dopts));
		grew = rss_bytes() - before;
		CHECK(rawio_dev_mem_opts(dev)->prefault == cases[i].resident ||
			      strstr(cases[i].path, "backed=0"),
		      "%s flags %#x: prefault=%d", cases[i].path, cases[i].flags,
		      rawio_dev_mem_opts(dev)->prefault);
		if (cases[i].resident)
			CHECK(grew >= size - (1u << 20),
			      "%s flags %#x: %llu bytes resident after open", cases[i].path,
			      cases[i].flags, (unsigned long long)grew);
		else
			CHECK(grew < size / 4,
			      "%s flags %#x: %llu bytes resident after a lazy open", cases[i].path,
			      cases[i].flags, (unsigned long long)grew);
		rawio_dev_close(dev);
	}

	/* A discard gives whole pages back (mkfs discards the device first) and zeroes
	 * the edges; the rest of the data stays. */
	struct rawio_dev *dev;
	struct rawio_engine *e;
	char *buf = rawio_buf_alloc(BLK, BLK), *zero = calloc(1, BLK);
	uint64_t before;

	CHECK(buf && zero, "memory");
	CHECK_OK(rawio_dev_open(&dev, "mem:64M,prefault=1", NULL));
	CHECK_OK(rawio_engine_open(&e, "mem", dev, NULL));
	t_fill(buf, BLK, 7, 0);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, 0, 0) == BLK, "write the first block");
	t_fill(buf, BLK, 7, size - BLK);
	CHECK(io1(e, RAWIO_OP_WRITE, buf, BLK, size - BLK, 0) == BLK, "write the last block");
	before = rss_bytes();
	CHECK(io1(e, RAWIO_OP_DISCARD, NULL, size - 2 * BLK + 1024, BLK - 512, 0) == 0, "discard");
	CHECK(before - rss_bytes() >= size - (4u << 20), "discard of 64M gave back %llu bytes",
	      (unsigned long long)(before - rss_bytes()));
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 0, 0) == BLK, "read the first block");
	CHECK(t_verify(buf, BLK - 512, 7, 0) == 0 && !memcmp(buf + BLK - 512, zero, 512),
	      "first block: data, then the discarded edge's zeroes");
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, 1u << 20, 0) == BLK && !memcmp(buf, zero, BLK),
	      "a discarded page reads as zeroes");
	CHECK(io1(e, RAWIO_OP_READ, buf, BLK, size - BLK, 0) == BLK, "read the last block");
	CHECK(!memcmp(buf, zero, 512) && t_verify(buf + 512, BLK - 512, 7, size - BLK + 512) == 0,
	      "last block: the discarded edge's zeroes, then data");
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	free(zero);
	return T_PASS;
}

/*
 * One time syntax for every time option of the library (src/util/duration.c): the
 * device's lat=, the throttle's seek= and flush=, the predictor's fixed sleep and
 * period take the same units, fractions and bare numbers in their own unit.
 */
static int case_units(void)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} units[] = {
		{ "500ns", 500 },     { "20us", 20000 },     { "1.5us", 1500 },
		{ "2ms", 2000000 },   { "0.25ms", 250000 },  { "1s", 1000000000 },
		{ ".5s", 500000000 }, { "0.002s", 2000000 },
	};
	static const char *const bad[] = { "soon", "-1us", "1 us", "1sec", "0x10",
					   "inf",  "",	   "1.ms", "1.",   "2.e3us" };
	struct rawio_throttle_params tp;
	struct rawio_poll_cfg pc;
	struct rawio_mem_opts o;
	char spec[96];

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		const char *s = units[i].s;
		uint64_t ns = units[i].ns;

		snprintf(spec, sizeof(spec), "mem:1M,lat=%s", s);
		CHECK(rawio_mem_opts_parse(spec, &o, NULL, 0) == 1 && o.lat_ns == ns,
		      "%s: lat %llu", spec, (unsigned long long)o.lat_ns);
		snprintf(spec, sizeof(spec), "seek=%s,flush=%s", s, s);
		CHECK(rawio_throttle_parse(spec, &tp) == 0 && tp.seek_us == ns / 1000 &&
			      tp.flush_us == ns / 1000,
		      "%s: seek %llu us", spec, (unsigned long long)tp.seek_us);
		snprintf(spec, sizeof(spec), "fixed:%s", s);
		CHECK(rawio_poll_cfg_parse(spec, &pc) == 0 && pc.fixed_ns == ns, "%s: %llu", spec,
		      (unsigned long long)pc.fixed_ns);
		snprintf(spec, sizeof(spec), "mean:50:%s", s);
		CHECK(rawio_poll_cfg_parse(spec, &pc) == 0 && pc.period_ns == ns, "%s: %llu", spec,
		      (unsigned long long)pc.period_ns);
	}
	/* A bare number is each option's own unit: ns, us, us; the predictor's period ms. */
	CHECK(rawio_mem_opts_parse("mem:1M,lat=700", &o, NULL, 0) == 1 && o.lat_ns == 700,
	      "lat=700");
	CHECK(rawio_throttle_parse("seek=700", &tp) == 0 && tp.seek_us == 700, "seek=700");
	CHECK(rawio_poll_cfg_parse("fixed:7", &pc) == 0 && pc.fixed_ns == 7000, "fixed:7");
	CHECK(rawio_poll_cfg_parse("mean:50:20", &pc) == 0 && pc.period_ns == 20000000,
	      "mean:50:20");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "mem:1M,lat=%s", bad[i]);
		CHECK(rawio_mem_opts_parse(spec, &o, NULL, 0) == -EINVAL, "%s parsed", spec);
		snprintf(spec, sizeof(spec), "seek=%s", bad[i]);
		CHECK(rawio_throttle_parse(spec, &tp) == -EINVAL, "%s parsed", spec);
		snprintf(spec, sizeof(spec), "fixed:%s", bad[i]);
		CHECK(rawio_poll_cfg_parse(spec, &pc) == -EINVAL, "%s parsed", spec);
	}
	/* Each option's limit: lat up to 10 s, the others up to an hour. */
	CHECK(rawio_mem_opts_parse("mem:1M,lat=10s", &o, NULL, 0) == 1, "lat=10s");
	CHECK(rawio_mem_opts_parse("mem:1M,lat=11s", &o, NULL, 0) == -EINVAL, "lat=11s");
	CHECK(rawio_throttle_parse("flush=2h", &tp) == -EINVAL, "flush=2h");
	CHECK(rawio_poll_cfg_parse("fixed:61m", &pc) == -EINVAL, "fixed:61m");
	return T_PASS;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} cases[] = {
		{ "opts", case_opts },	       { "inflight", case_inflight },
		{ "counters", case_counters }, { "badblocks", case_badblocks },
		{ "cache", case_cache },       { "prefault", case_prefault },
		{ "units", case_units },
	};

	for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			return cases[i].fn();
	fprintf(stderr, "usage: %s opts|inflight|counters|badblocks|cache|prefault|units\n",
		argv[0]);
	return T_FAIL;
}
