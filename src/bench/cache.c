// SPDX-License-Identifier: MIT
/*
 * The cache benchmarks (rawio_cache_bench_*): the raw devices measured with
 * rawio_bench_run, then the cache driven through its public API, the way a
 * user's program would drive it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_impl.h"

#define CB_BLOCK       4096u
#define CB_MAX_THREADS 256u
#define CB_HUGE	       (2u << 20) /* x86-64 transparent huge page */

/* One benchmark: the caller's options with defaults, and the cache options in force. */
struct cb {
	struct rawio_cache_bench_opts o;
	struct rawio_cache_opts co;
	struct rawio_cache_tunables tun;
	uint64_t total;	   /* blocks of the backing device */
	uint64_t n;	   /* blocks to write (absorb, drain) */
	double load_cpu_s; /* cb_load: the process's CPU seconds from the first write to durable */
	uint64_t load_csw; /* and its context switches */
	double load_flush_s; /* of the seconds: the final rawio_cache_flush */
};

static int cb_err(const struct cb *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cb_err(const struct cb *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(b->o.errbuf, b->o.errbuf_len, fmt, ap);
	va_end(ap);
	return err;
}

static int cb_init(struct cb *b, const struct rawio_cache_bench_opts *opts)
{
	memset(b, 0, sizeof(*b));
	if (!opts || opts->size < sizeof(*opts))
		return -EINVAL;
	b->o = *opts;
	if (!b->o.cache_dev || !b->o.backing_dev)
		return cb_err(b, -EINVAL, "a cache device and a backing device are needed");
	if (b->o.threads > CB_MAX_THREADS || b->o.writers > CB_MAX_THREADS)
		return cb_err(b, -EINVAL, "at most %u threads", CB_MAX_THREADS);
	if (!b->o.bytes)
		b->o.bytes = 256ull << 20;
	if (!b->o.threads)
		b->o.threads = 32;
	if (!b->o.writers)
		b->o.writers = 1;
	if (!b->o.runtime_ns)
		b->o.runtime_ns = 3000000000ull;
	if (b->o.cache_opts)
		b->co = *b->o.cache_opts;
	b->co.size = sizeof(b->co);
	if (b->co.tunables)
		b->tun = *b->co.tunables;
	else
		rawio_cache_tunables_default(&b->tun);
	b->tun.allow_migrate = 0; /* nothing competes with the log while writing */
	b->co.tunables = &b->tun;
	b->co.read_only = false;
	b->co.errbuf = b->o.errbuf;
	b->co.errbuf_len = b->o.errbuf_len;
	b->total = rawio_dev_info(b->o.backing_dev)->size / CB_BLOCK;
	b->n = b->o.bytes / CB_BLOCK;
	if (b->n > b->total)
		b->n = b->total;
	return 0;
}

/* Format the pair afresh and open the cache on it. */
static int cb_reformat(struct cb *b, struct rawio_cache **c)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f),
					     .segment_size = b->o.segment_size,
					     .force = true,
					     .errbuf = b->o.errbuf,
					     .errbuf_len = b->o.errbuf_len };
	int ret;

	*c = NULL;
	ret = rawio_cache_format(b->o.cache_dev, b->o.backing_dev, &f);
	if (ret)
		return ret;
	return rawio_cache_open(c, b->o.cache_dev, b->o.backing_dev, &b->co);
}

/* N distinct random blocks of [0, TOTAL) (a partial Fisher-Yates shuffle), seeded. */
static uint64_t *cb_blocks(uint64_t total, uint64_t n, uint64_t seed)
{
	uint64_t *all = malloc(total * sizeof(*all)), st = seed;

	if (!all)
		return NULL;
	for (uint64_t i = 0; i < total; i++)
		all[i] = i;
	for (uint64_t i = 0; i < n && i < total; i++) {
		uint64_t j = i + rng_below(&st, total - i), z = all[i];

		all[i] = all[j];
		all[j] = z;
	}
	return all;
}

struct cb_fill {
	struct rawio_cache *c;
	const uint64_t *blocks;
	uint64_t n, next;
	int err;
};

static void *cb_fill_main(void *arg)
{
	struct cb_fill *f = arg;
	char buf[CB_BLOCK];

	memset(buf, 0x5a, sizeof(buf));
	for (;;) {
		uint64_t i = __atomic_fetch_add(&f->next, 1, __ATOMIC_RELAXED);
		int ret;

		if (i >= f->n || __atomic_load_n(&f->err, __ATOMIC_RELAXED))
			break;
		memcpy(buf, &f->blocks[i], sizeof(f->blocks[i]));
		ret = rawio_cache_write(f->c, buf, CB_BLOCK, f->blocks[i] * CB_BLOCK, 0);
		if (ret)
			__atomic_store_n(&f->err, ret, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Write N blocks through the cache from THREADS threads. */
static int cb_fill(struct cb *b, struct rawio_cache *c, const uint64_t *blocks, unsigned threads)
{
	struct cb_fill f = { .c = c, .blocks = blocks, .n = b->n };
	pthread_t tids[CB_MAX_THREADS];
	unsigned started = 0;
	int ret = 0;

	for (; started < threads; started++) {
		ret = pthread_create(&tids[started], NULL, cb_fill_main, &f);
		if (ret) {
			__atomic_store_n(&f.err, -ret, __ATOMIC_RELAXED);
			break;
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (f.err)
		return cb_err(b, f.err, "bench: write: %s", rawio_strerror(f.err));
	return 0;
}

/*
 * Format afresh, open, write N distinct random blocks (SEED) from THREADS
 * threads and flush: the cache in *C, the seconds from the first write until
 * everything was durable on the cache device in *SECS.
 */
static double cb_tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int cb_load(struct cb *b, uint64_t seed, unsigned threads, struct rawio_cache **c,
		   double *secs)
{
	uint64_t *blocks = cb_blocks(b->total, b->n, seed), t0, t1;
	struct rusage ru0, ru1;
	int ret;

	*c = NULL;
	if (!blocks)
		return cb_err(b, -ENOMEM, "out of memory for %llu block numbers",
			      (unsigned long long)b->total);
	ret = cb_reformat(b, c);
	if (ret)
		goto out_free;
	getrusage(RUSAGE_SELF, &ru0); /* every thread's, the exited writers' too */
	t0 = rawio_now_ns();
	ret = cb_fill(b, *c, blocks, threads);
	if (ret)
		goto out_free;
	t1 = rawio_now_ns();
	ret = rawio_cache_flush(*c);
	if (ret) {
		cb_err(b, ret, "bench: flush: %s", rawio_strerror(ret));
		goto out_free;
	}
	b->load_flush_s = (double)(rawio_now_ns() - t1) / 1e9;
	*secs = (double)(rawio_now_ns() - t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru1);
	b->load_cpu_s = cb_tv_s(&ru1.ru_utime) + cb_tv_s(&ru1.ru_stime) - cb_tv_s(&ru0.ru_utime) -
			cb_tv_s(&ru0.ru_stime);
	b->load_csw = (uint64_t)(ru1.ru_nvcsw + ru1.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw);
out_free:
	free(blocks);
	return ret;
}

/* A raw device, written through rawio_bench_run with its cache engine: I/Os per second. */
static int cb_raw(struct cb *b, bool backing, enum rawio_bench_rw rw, uint32_t bs, unsigned qd,
		  uint64_t runtime_ns, double *iops)
{
	struct rawio_dev *dev = backing ? b->o.backing_dev : b->o.cache_dev;
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	const char *engine = backing ? b->co.backing_engine : b->co.cache_engine;
	const struct rawio_engine_opts *eo =
		backing ? b->co.backing_engine_opts : b->co.cache_engine_opts;
	struct rawio_engine_opts dflt = { .size = sizeof(dflt) };
	struct rawio_bench_opts o = {
		.size = sizeof(o),
		.engine = engine ? engine : rawio_engine_default(info),
		.path = info->path,
		.dev = dev,
		.rw = rw,
		.bs = bs,
		.qd = qd,
		.runtime_ns = runtime_ns,
		.engine_opts = eo ? eo : &dflt,
		.errbuf = b->o.errbuf,
		.errbuf_len = b->o.errbuf_len,
	};
	struct rawio_bench_result res;
	int ret;

	ret = rawio_bench_run(&o, &res);
	if (ret)
		return ret;
	*iops = res.iops;
	return 0;
}

/*
 * The cache device's ceiling for the log, written the way the flush worker
 * writes it (flush.c): DEPTH SEG-byte buffers in one region on transparent
 * huge pages (as the cache's segment buffers, cache.c cache_alloc), one whole
 * segment per request, sequential from the device's start, on the cache's own
 * engine and options at the flush worker's queue depth, reaping at least one
 * completion at a time, from a thread at the flush worker's nice value. Huge
 * pages or not is worth up to 1.5x for large requests on a virtio disk
 * (docs/perf.md): the ceiling's buffers must be the cache's. It writes NSEGS
 * segments (the absorb's count, so the same bytes over the same region: a
 * time-based run wrote 1 s at whatever the host's cache of a virtual disk
 * took, up to several GB, and read 588-9,175 MB/s between runs), then makes
 * them durable with one fdatasync as the absorb's final flush does, all of it
 * timed. Segments per second in *SEGS_S, the fdatasync's seconds in *SYNC_S.
 */
static int cb_seg_ceiling(struct cb *b, uint32_t seg, unsigned depth, uint64_t nsegs_write,
			  double *segs_s, double *sync_s)
{
	int nice0 = getpriority(PRIO_PROCESS, (id_t)gettid());
	struct rawio_dev *dev = b->o.cache_dev;
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	struct rawio_engine_opts eo = { .size = sizeof(eo) };
	uint64_t nsegs = info->size / seg, next = 0, done = 0, t0, t1;
	struct rawio_req *reqs = calloc(depth, sizeof(*reqs)), **out = calloc(depth, sizeof(*out));
	struct rawio_engine *e = NULL;
	const char *engine = b->co.cache_engine ? b->co.cache_engine : rawio_engine_default(info);
	unsigned inflight = 0;
	void *mem = NULL;
	size_t mlen;
	int ret = 0;

	if (b->co.cache_engine_opts)
		eo = *b->co.cache_engine_opts;
	eo.size = sizeof(eo);
	eo.queue_depth = depth + 1;
	if (!reqs || !out || !nsegs) {
		ret = nsegs ? -ENOMEM : -EINVAL;
		goto out_free;
	}
	/* One region on transparent huge pages, as the cache's buffers (cache.c cache_alloc). */
	mlen = ((size_t)depth * seg + CB_HUGE - 1) & ~(size_t)(CB_HUGE - 1);
	if (posix_memalign(&mem, CB_HUGE, mlen)) {
		mem = NULL;
		ret = -ENOMEM;
		goto out_free;
	}
	(void)madvise(mem, mlen, MADV_HUGEPAGE);
	memset(mem, 0x5a, mlen);
	for (unsigned i = 0; i < depth; i++)
		reqs[i].buf = (char *)mem + (size_t)i * seg;
	ret = rawio_engine_open(&e, engine, dev, &eo);
	if (ret) {
		cb_err(b, ret, "bench: ceiling: engine %s on %s: %s", engine, info->path,
		       rawio_strerror(ret));
		goto out_free;
	}
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), RAWIO_CACHE_FLUSH_NICE); /* best effort */
	t0 = rawio_now_ns();
	while (done < nsegs_write) {
		int n;

		for (unsigned i = 0; i < depth && inflight < depth && next < nsegs_write; i++) {
			struct rawio_req *r = &reqs[i];
			void *buf = r->buf;
			int q;

			if (r->user_data)
				continue; /* in flight */
			*r = (struct rawio_req){ .op = RAWIO_OP_WRITE,
						 .buf = buf,
						 .len = seg,
						 .off = next++ % nsegs * seg,
						 .user_data = r };
			q = rawio_engine_queue(e, r);
			if (q == RAWIO_Q_BUSY) {
				r->user_data = NULL;
				next--;
				break;
			}
			if (q < 0 || (q == RAWIO_Q_DONE && r->result != (int64_t)seg)) {
				ret = q < 0 ? q : r->result < 0 ? (int)r->result : -EIO;
				goto out_close;
			}
			if (q == RAWIO_Q_DONE) {
				r->user_data = NULL;
				done++;
				continue;
			}
			inflight++;
		}
		ret = rawio_engine_commit(e);
		if (ret)
			goto out_close;
		n = inflight ? rawio_engine_reap(e, out, 1, depth) : 0;
		if (n < 0) {
			ret = n;
			goto out_close;
		}
		for (int i = 0; i < n; i++) {
			if (out[i]->result != (int64_t)seg) {
				ret = out[i]->result < 0 ? (int)out[i]->result : -EIO;
				goto out_close;
			}
			out[i]->user_data = NULL;
			inflight--;
			done++;
		}
	}
	t1 = rawio_now_ns();
	ret = (int)rawio_engine_io(e, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (ret)
		goto out_close;
	*sync_s = (double)(rawio_now_ns() - t1) / 1e9;
	*segs_s = (double)done / ((double)(rawio_now_ns() - t0) / 1e9);
out_close:
	if (ret && ret != -ENOMEM)
		cb_err(b, ret, "bench: ceiling: writing %s: %s", info->path, rawio_strerror(ret));
	rawio_engine_close(e);
out_free:
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), nice0);
	free(mem);
	free(reqs);
	free(out);
	return ret;
}

int rawio_cache_bench_absorb(const struct rawio_cache_bench_opts *opts,
			     struct rawio_cache_bench_absorb *res)
{
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	double seq_iops, qd1_iops, back_iops, seq_sync_s = 0, qd1_sync_s = 0;
	uint64_t nsegs;
	uint32_t seg;
	unsigned depth;
	struct cb b;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = cb_init(&b, opts);
	if (ret)
		return ret;
	/*
	 * The backing device first, then the ceiling right before the absorb: the
	 * two figures the goal compares are taken back to back. The ceiling
	 * (cb_seg_ceiling) writes the segments the absorb will log (full ones, the
	 * last partial one counted whole) at the flush worker's depth (one per
	 * RAM buffer) and at depth 1; the best of the two.
	 */
	seg = b.o.segment_size ? b.o.segment_size : RAWIO_CACHE_DEFAULT_SEGMENT;
	depth = b.co.nr_buffers ? b.co.nr_buffers : RAWIO_CACHE_DEFAULT_BUFFERS;
	nsegs = (b.n + seg / CB_BLOCK - 2) / (seg / CB_BLOCK - 1);
	ret = cb_raw(&b, true, RAWIO_BENCH_RANDWRITE, CB_BLOCK, 32, 2000000000ull, &back_iops);
	if (!ret)
		ret = cb_seg_ceiling(&b, seg, 1, nsegs, &qd1_iops, &qd1_sync_s);
	if (!ret)
		ret = cb_seg_ceiling(&b, seg, depth, nsegs, &seq_iops, &seq_sync_s);
	if (!ret && qd1_iops > seq_iops) {
		seq_iops = qd1_iops;
		seq_sync_s = qd1_sync_s;
	}
	if (ret)
		return ret;
	/* Timed until everything is durable on the cache device: the log's sustained rate. */
	ret = cb_load(&b, 1, b.o.threads, &c, &res->seconds);
	if (ret)
		goto out_close;
	rawio_cache_stat(c, &st);
	res->writes = b.n;
	res->threads = b.o.threads;
	res->iops = (double)b.n / res->seconds;
	res->cache_seq_mb_s = seq_iops * seg / 1e6;
	res->goal_iops = 0.75 * seq_iops * seg / CB_BLOCK;
	res->pct_of_goal = 100 * res->iops / res->goal_iops;
	res->backing_rand_iops = back_iops;
	res->x_backing = res->iops / back_iops;
	res->segments = st.segments_flushed;
	res->write_stalls = st.write_stalls;
	res->cpu_us_per_write = b.load_cpu_s * 1e6 / (double)b.n;
	res->csw_per_write = (double)b.load_csw / (double)b.n;
	res->flush_seconds = b.load_flush_s;
	if (st.segments_flushed) {
		res->seg_wait_us = (double)st.seg_wait_ns / 1e3 / (double)st.segments_flushed;
		res->seg_write_us = (double)st.seg_write_ns / 1e3 / (double)st.segments_flushed;
	}
	if (st.seg_busy_ns)
		res->seg_depth = (double)st.seg_depth_ns / (double)st.seg_busy_ns;
	res->seg_copy_wait_us = (double)st.seg_copy_wait_ns / 1e3;
	res->seg_reap_wait_us = (double)st.seg_reap_wait_ns / 1e3;
	res->seg_busy_pct = 100 * (double)st.seg_busy_ns / 1e9 / res->seconds;
	res->ceiling_sync_seconds = seq_sync_s;
out_close:
	rawio_cache_close(c);
	return ret;
}

/* A reader: 4 KiB reads of random written blocks until told to stop. */
struct cb_reader {
	struct rawio_cache *c;
	const uint64_t *blocks;
	uint64_t n, seed;
	volatile bool *stop;
	struct rawio_hist h;
	int err;
};

static void *cb_reader_main(void *arg)
{
	struct cb_reader *r = arg;
	char *buf = rawio_buf_alloc(CB_BLOCK, CB_BLOCK);

	if (!buf) {
		r->err = -ENOMEM;
		return NULL;
	}
	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rawio_now_ns();
		int ret = rawio_cache_read(r->c, buf, CB_BLOCK,
					   r->blocks[rng_below(&r->seed, r->n)] * CB_BLOCK);

		if (ret) {
			r->err = ret;
			break;
		}
		rawio_hist_add(&r->h, rawio_now_ns() - t0);
	}
	rawio_buf_free(buf);
	return NULL;
}

struct cb_readers {
	struct cb_reader r[CB_MAX_THREADS];
	pthread_t t[CB_MAX_THREADS];
	unsigned started;
	volatile bool stop;
	uint64_t t0;
};

static int cb_readers_start(struct cb *b, struct cb_readers *rs, struct rawio_cache *c,
			    const uint64_t *blocks, uint64_t seed)
{
	rs->stop = false;
	rs->started = 0;
	rs->t0 = rawio_now_ns();
	for (unsigned i = 0; i < b->o.readers; i++) {
		struct cb_reader *r = &rs->r[i];

		*r = (struct cb_reader){
			.c = c, .blocks = blocks, .n = b->n, .seed = seed + i, .stop = &rs->stop
		};
		rawio_hist_reset(&r->h);
		if (pthread_create(&rs->t[i], NULL, cb_reader_main, r))
			return cb_err(b, -EAGAIN, "bench: starting reader %u", i);
		rs->started++;
	}
	return 0;
}

/* Stop the readers; their merged latency into H, reads per second into *IOPS. */
static int cb_readers_stop(struct cb *b, struct cb_readers *rs, struct rawio_hist *h, double *iops)
{
	int ret = 0;

	__atomic_store_n(&rs->stop, true, __ATOMIC_RELAXED);
	rawio_hist_reset(h);
	for (unsigned i = 0; i < rs->started; i++) {
		pthread_join(rs->t[i], NULL);
		rawio_hist_merge(h, &rs->r[i].h);
		if (rs->r[i].err && !ret)
			ret = cb_err(b, rs->r[i].err, "bench: reader: %s",
				     rawio_strerror(rs->r[i].err));
	}
	*iops = (double)h->count * 1e9 / (double)(rawio_now_ns() - rs->t0);
	rs->started = 0;
	return ret;
}

int rawio_cache_bench_drain(const struct rawio_cache_bench_opts *opts,
			    struct rawio_cache_bench_drain *res)
{
	struct cb_readers *rs = NULL;
	uint64_t *blocks = NULL;
	struct rawio_hist h;
	struct rawio_throttle_stat ts0 = { 0 }, ts1 = { 0 };
	struct rawio_sched_class_stat cls[RAWIO_CACHE_NR_CLASSES];
	struct rawio_sched_stat ss0 = { 0 }, ss1;
	struct rawio_throttle *thr = NULL;
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	uint64_t t0, t1;
	double secs;
	struct cb b;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = cb_init(&b, opts);
	if (ret)
		return ret;
	if (b.o.batch < 1 || b.o.batch > 256)
		return cb_err(&b, -EINVAL, "nr_batched_migration %u is not in 1..256", b.o.batch);
	if (b.o.readers > CB_MAX_THREADS)
		return cb_err(&b, -EINVAL, "at most %u readers", CB_MAX_THREADS);
	if (b.o.readers) {
		/* cb_load's blocks, seed 2: the readers read what the drain writes back. */
		blocks = cb_blocks(b.total, b.n, 2);
		rs = calloc(1, sizeof(*rs));
		if (!blocks || !rs) {
			free(blocks);
			free(rs);
			return cb_err(&b, -ENOMEM, "out of memory for the readers");
		}
	}
	if (b.co.backing_engine_opts)
		thr = b.co.backing_engine_opts->throttle;
	ret = cb_load(&b, 2, 8, &c, &secs);
	if (ret)
		goto out_close;
	if (thr)
		rawio_throttle_stat(thr, &ts0);
	ret = rawio_cache_tunable_set(c, "nr_batched_migration", b.o.batch);
	if (ret) {
		cb_err(&b, ret, "bench: nr_batched_migration %u: %s", b.o.batch,
		       rawio_strerror(ret));
		goto out_close;
	}
	if (rs) {
		uint64_t idle = b.o.reader_idle_ns ? b.o.reader_idle_ns : 2000000000ull;

		ret = cb_readers_start(&b, rs, c, blocks, 11);
		if (!ret)
			usleep((useconds_t)(idle / 1000));
		ret = cb_readers_stop(&b, rs, &h, &res->idle_read_iops) ?: ret;
		if (ret)
			goto out_close;
		res->idle_reads = h.count;
		res->idle_read_p50_ns = rawio_hist_percentile(&h, 50);
		res->idle_read_p99_ns = rawio_hist_percentile(&h, 99);
		ret = cb_readers_start(&b, rs, c, blocks, 1011);
	}
	rawio_cache_sched_lat_reset(c);
	res->sched = rawio_cache_sched_stat(c, 0, &ss0, cls, NULL, 0);
	t0 = rawio_now_ns();
	if (!ret)
		ret = rawio_cache_drain(c);
	t1 = rawio_now_ns();
	if (rs) {
		int rret = cb_readers_stop(&b, rs, &h, &res->read_iops);

		res->reads = h.count;
		res->read_p50_ns = rawio_hist_percentile(&h, 50);
		res->read_p99_ns = rawio_hist_percentile(&h, 99);
		res->read_max_ns = h.count ? h.max : 0;
		if (!ret)
			ret = rret;
	}
	if (ret) {
		if (!b.o.errbuf || !b.o.errbuf[0])
			cb_err(&b, ret, "bench: drain: %s", rawio_strerror(ret));
		goto out_close;
	}
	if (thr)
		rawio_throttle_stat(thr, &ts1);
	rawio_cache_stat(c, &st);
	if (res->sched && rawio_cache_sched_stat(c, 0, &ss1, cls, NULL, 0)) {
		/* cls: read write flush migrate (rawio_cache_class_names) */
		res->read_queue_p99_ns = cls[0].queue_lat.p99;
		res->read_disk_p99_ns = cls[0].disk_lat.p99;
		res->migrate_queue_p99_ns = cls[3].queue_lat.p99;
		res->migrate_disk_p99_ns = cls[3].disk_lat.p99;
		res->bound_waits = ss1.bound_waits - ss0.bound_waits;
		res->token_waits = ss1.token_waits - ss0.token_waits;
		res->grant_waits = ss1.grant_waits - ss0.grant_waits;
	}
	res->batch = b.o.batch;
	res->blocks = b.n;
	res->seconds = (double)(t1 - t0) / 1e9;
	res->mb_s = (double)b.n * CB_BLOCK / res->seconds / 1e6;
	res->batches = st.migrate_batches;
	res->migrate_blocks = st.migrate_blocks;
	res->backing_writes = st.migrate_writes;
	res->backing_flushes = st.backing_flushes;
	res->read_s = (double)st.migrate_read_ns / 1e9;
	res->write_s = (double)st.migrate_write_ns / 1e9;
	res->flush_s = (double)st.migrate_flush_ns / 1e9;
	if (st.migrate_write_ns)
		res->inflight = (double)st.migrate_inflight_ns / (double)st.migrate_write_ns;
	res->throttled = thr != NULL;
	res->backing_busy_s = (double)(ts1.busy_ns - ts0.busy_ns) / 1e9;
	res->backing_seek_s = (double)(ts1.seek_ns - ts0.seek_ns) / 1e9;
	if (thr)
		res->backing_busy_pct =
			100.0 * (double)(ts1.busy_ns - ts0.busy_ns) / (double)(t1 - t0);
	if (ts1.busy_ns > ts0.busy_ns)
		res->backing_seek_pct = 100.0 * (double)(ts1.seek_ns - ts0.seek_ns) /
					(double)(ts1.busy_ns - ts0.busy_ns);
out_close:
	rawio_cache_close(c);
	free(blocks);
	free(rs);
	return ret;
}

struct cb_sync {
	struct rawio_cache *c;
	uint64_t total, end_ns;
	unsigned id;
	uint64_t ops;
	int err;
	struct rawio_hist *lat; /* write + flush, ns */
};

static void *cb_sync_main(void *arg)
{
	struct cb_sync *s = arg;
	uint64_t st = 77 + s->id;
	char buf[CB_BLOCK];

	memset(buf, 0x33, sizeof(buf));
	while (rawio_now_ns() < s->end_ns) {
		uint64_t blk = rng_below(&st, s->total), t = rawio_now_ns();
		int ret;

		ret = rawio_cache_write(s->c, buf, CB_BLOCK, blk * CB_BLOCK, 0);
		if (!ret)
			ret = rawio_cache_flush(s->c);
		if (ret) {
			s->err = ret;
			break;
		}
		rawio_hist_add(s->lat, rawio_now_ns() - t);
		s->ops++;
	}
	return NULL;
}

int rawio_cache_bench_fsync(const struct rawio_cache_bench_opts *opts,
			    struct rawio_cache_bench_fsync *res)
{
	struct cb_sync s[CB_MAX_THREADS];
	pthread_t tids[CB_MAX_THREADS];
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	struct rawio_hist *lat;
	unsigned started = 0;
	uint64_t t0, t1;
	struct cb b;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = cb_init(&b, opts);
	if (ret)
		return ret;
	/* One histogram per writer, and the merged one last. */
	lat = calloc(CB_MAX_THREADS + 1, sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	ret = cb_reformat(&b, &c);
	if (ret)
		goto out_close;
	t0 = rawio_now_ns();
	for (; started < b.o.writers; started++) {
		s[started] = (struct cb_sync){
			.c = c,
			.total = b.total,
			.id = started,
			.end_ns = t0 + b.o.runtime_ns,
			.lat = &lat[started],
		};
		ret = pthread_create(&tids[started], NULL, cb_sync_main, &s[started]);
		if (ret) {
			ret = cb_err(&b, -ret, "bench: starting writer %u: %s", started,
				     rawio_strerror(-ret));
			break;
		}
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
		res->ops += s[i].ops;
		rawio_hist_merge(&lat[CB_MAX_THREADS], s[i].lat);
		if (s[i].err && !ret)
			ret = cb_err(&b, s[i].err, "bench fsync: %s", rawio_strerror(s[i].err));
	}
	t1 = rawio_now_ns();
	if (ret)
		goto out_close;
	rawio_cache_stat(c, &st);
	res->writers = b.o.writers;
	res->deadline_us = b.tun.barrier_deadline_us;
	res->seconds = (double)(t1 - t0) / 1e9;
	res->iops = (double)res->ops / res->seconds;
	res->segments_per_flush = (double)st.segments_flushed / (double)res->ops;
	res->kib_per_flush = (double)st.segment_bytes / (double)res->ops / 1024;
	res->cache_flushes_per_flush = (double)st.cache_flushes / (double)res->ops;
	res->write_stalls = st.write_stalls;
	res->migrate_batches = st.migrate_batches;
	res->p50_us = (double)rawio_hist_percentile(&lat[CB_MAX_THREADS], 50) / 1e3;
	res->p99_us = (double)rawio_hist_percentile(&lat[CB_MAX_THREADS], 99) / 1e3;
	res->p999_us = (double)rawio_hist_percentile(&lat[CB_MAX_THREADS], 99.9) / 1e3;
	if (st.barrier_timed) {
		double n = (double)st.barrier_timed * 1e3;

		res->flush_lock_us = (double)st.barrier_lock_ns / n;
		res->flush_queue_us = (double)st.barrier_queue_ns / n;
		res->flush_commit_us = (double)st.barrier_commit_ns / n;
		res->flush_wake_us = (double)st.barrier_wake_ns / n;
	}
out_close:
	rawio_cache_close(c);
	free(lat);
	return ret;
}
