// SPDX-License-Identifier: MIT
/*
 * The cache: format, open/close, the foreground read and write paths,
 * discard, drain, tunables and statistics. The flush worker is in flush.c,
 * write-back in migrate.c, recovery in recover.c. Every I/O goes through an
 * engine (never pread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache_impl.h"
#include "util/crc32c.h"

void cache_fail(struct rawio_cache *c, int err)
{
	if (c->error)
		return;
	c->error = err < 0 ? err : -EIO;
	pthread_cond_broadcast(&c->cv_space);
	pthread_cond_broadcast(&c->cv_durable);
	pthread_cond_broadcast(&c->cv_clean);
	pthread_cond_broadcast(&c->cv_flush);
	pthread_cond_broadcast(&c->cv_migrate);
}

static const char *cache_default_engine(const struct rawio_dev_info *info)
{
	return info->kind == RAWIO_DEV_MEM ? "mem" : "uring";
}

int cache_engine_open(struct rawio_cache *c, bool backing, unsigned qd, struct rawio_engine **out)
{
	const struct rawio_engine_opts *user = backing ? c->beo : c->ceo;
	struct rawio_engine_opts o = { .size = sizeof(o) };

	if (user)
		o = *user;
	o.size = sizeof(o);
	o.queue_depth = qd;
	return rawio_engine_open(out, backing ? c->backing_engine : c->cache_engine,
				 backing ? c->bdev : c->cdev, &o);
}

int cache_io_get(struct rawio_cache *c, bool backing, struct rawio_engine **out)
{
	struct rawio_engine **pool = backing ? c->bpool : c->cpool;
	unsigned *nr = backing ? &c->nr_bpool : &c->nr_cpool;

	pthread_mutex_lock(&c->pool_lock);
	if (*nr) {
		*out = pool[--*nr];
		pthread_mutex_unlock(&c->pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&c->pool_lock);
	return cache_engine_open(c, backing, CACHE_POOL_QD, out);
}

void cache_io_put(struct rawio_cache *c, bool backing, struct rawio_engine *e)
{
	struct rawio_engine **pool = backing ? c->bpool : c->cpool;
	unsigned *nr = backing ? &c->nr_bpool : &c->nr_cpool;

	pthread_mutex_lock(&c->pool_lock);
	if (*nr < CACHE_POOL_MAX) {
		pool[(*nr)++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	rawio_engine_close(e);
}

int cache_run(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n, bool write)
{
	ssize_t failed;

	if (!n)
		return 0;
	if (n == 1) {
		struct rawio_req r = { .op = write ? RAWIO_OP_WRITE : RAWIO_OP_READ,
				       .buf = ios[0].buf,
				       .len = ios[0].len,
				       .off = ios[0].off };

		ios[0].result = rawio_engine_run1(e, &r);
	} else {
		failed = write ? rawio_batch_write(e, ios, n, NULL, NULL)
			       : rawio_batch_read(e, ios, n, NULL, NULL);
		if (failed < 0)
			return (int)failed;
	}
	for (size_t i = 0; i < n; i++) {
		if (ios[i].result < 0)
			return (int)ios[i].result;
		if ((uint64_t)ios[i].result != ios[i].len)
			return -EIO; /* the cache never reads or writes past a device's end */
	}
	return 0;
}

int64_t cache_io(struct rawio_cache *c, bool backing, int op, unsigned flags, void *buf,
		 uint64_t len, uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};
	struct rawio_engine *e;
	int64_t res;
	int ret;

	ret = cache_io_get(c, backing, &e);
	if (ret)
		return ret;
	res = rawio_engine_run1(e, &r);
	cache_io_put(c, backing, e);
	if (res >= 0 && (op == RAWIO_OP_READ || op == RAWIO_OP_WRITE) && (uint64_t)res != len)
		return -EIO;
	return res;
}

/* Bounce buffers for reads: CACHE_READ_CHUNK blocks of data and as many of backing data. */
static void *cache_bounce_get(struct rawio_cache *c)
{
	void *b = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->nr_bounce)
		b = c->bounce[--c->nr_bounce];
	pthread_mutex_unlock(&c->pool_lock);
	return b ? b : rawio_buf_alloc(2 * CACHE_READ_CHUNK * (size_t)CACHE_BLOCK, CACHE_BLOCK);
}

static void cache_bounce_put(struct rawio_cache *c, void *b)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->nr_bounce < CACHE_POOL_MAX) {
		c->bounce[c->nr_bounce++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	rawio_buf_free(b);
}

/* ---- tunables ---- */

static const struct cache_tunable {
	const char *name;
	size_t off;
	uint32_t min, max, def;
} cache_tunables[] = {
	{ "allow_migrate", offsetof(struct rawio_cache_tunables, allow_migrate), 0, 1, 1 },
	{ "nr_batched_migration", offsetof(struct rawio_cache_tunables, nr_batched_migration), 1,
	  256, 32 },
	{ "low_watermark", offsetof(struct rawio_cache_tunables, low_watermark), 0, 100, 10 },
	{ "high_watermark", offsetof(struct rawio_cache_tunables, high_watermark), 0, 100, 50 },
	{ "barrier_deadline_us", offsetof(struct rawio_cache_tunables, barrier_deadline_us), 0,
	  1000000, 3000 },
};

#define NR_TUNABLES (sizeof(cache_tunables) / sizeof(cache_tunables[0]))

static const char *const cache_tunable_name_list[NR_TUNABLES + 1] = {
	"allow_migrate",  "nr_batched_migration", "low_watermark",
	"high_watermark", "barrier_deadline_us",  NULL,
};

const char *const *rawio_cache_tunable_names(void)
{
	return cache_tunable_name_list;
}

static uint32_t *cache_tunable_field(struct rawio_cache_tunables *t, const struct cache_tunable *d)
{
	return (uint32_t *)((char *)t + d->off);
}

void rawio_cache_default_tunables(struct rawio_cache_tunables *t)
{
	for (size_t i = 0; i < NR_TUNABLES; i++)
		*cache_tunable_field(t, &cache_tunables[i]) = cache_tunables[i].def;
}

static int cache_tunables_check(const struct rawio_cache_tunables *t)
{
	struct rawio_cache_tunables copy = *t;

	for (size_t i = 0; i < NR_TUNABLES; i++) {
		uint32_t v = *cache_tunable_field(&copy, &cache_tunables[i]);

		if (v < cache_tunables[i].min || v > cache_tunables[i].max)
			return -ERANGE;
	}
	return 0;
}

static const struct cache_tunable *cache_tunable_find(const char *name)
{
	for (size_t i = 0; name && i < NR_TUNABLES; i++)
		if (!strcmp(cache_tunables[i].name, name))
			return &cache_tunables[i];
	return NULL;
}

int rawio_cache_set(struct rawio_cache *c, const char *name, uint64_t value)
{
	const struct cache_tunable *d = cache_tunable_find(name);

	if (!d)
		return -ENOENT;
	if (value < d->min || value > d->max)
		return -ERANGE;
	if (c->read_only)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	*cache_tunable_field(&c->tun, d) = (uint32_t)value;
	/* Whoever decides with it decides again now. */
	pthread_cond_broadcast(&c->cv_migrate);
	pthread_cond_broadcast(&c->cv_durable);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int rawio_cache_get(struct rawio_cache *c, const char *name, uint64_t *value)
{
	const struct cache_tunable *d = cache_tunable_find(name);

	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	*value = *cache_tunable_field(&c->tun, d);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void rawio_cache_get_tunables(struct rawio_cache *c, struct rawio_cache_tunables *t)
{
	pthread_mutex_lock(&c->lock);
	*t = c->tun;
	pthread_mutex_unlock(&c->lock);
}

/* ---- format ---- */

static int64_t cache_run1(struct rawio_engine *e, int op, unsigned flags, void *buf, uint64_t len,
			  uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};
	int64_t res = rawio_engine_run1(e, &r);

	if (res >= 0 && (op == RAWIO_OP_READ || op == RAWIO_OP_WRITE) && (uint64_t)res != len)
		return -EIO;
	return res;
}

int rawio_cache_format(struct rawio_dev *cdev, struct rawio_dev *bdev,
		       const struct rawio_cache_format_opts *opts)
{
	const struct rawio_dev_info *ci, *bi;
	struct cache_geometry g, found;
	struct rawio_engine *e = NULL;
	struct cache_rec rec = { .seq = 1 };
	char *errbuf = opts ? opts->errbuf : NULL;
	size_t errlen = opts ? opts->errbuf_len : 0;
	char *buf = NULL, uuid[RAWIO_UUID_STR_LEN];
	int64_t res;
	int ret;

	if (!cdev || !bdev || !opts || opts->size < sizeof(*opts))
		return -EINVAL;
	ci = rawio_dev_info(cdev);
	bi = rawio_dev_info(bdev);
	if (ci->offset_align > CACHE_BLOCK || bi->offset_align > CACHE_BLOCK) {
		errbuf_set(errbuf, errlen, "%s: needs %u-byte alignment; the cache's blocks are %u",
			   ci->offset_align > CACHE_BLOCK ? ci->path : bi->path,
			   ci->offset_align > CACHE_BLOCK ? ci->offset_align : bi->offset_align,
			   CACHE_BLOCK);
		return -EINVAL;
	}
	ret = cache_geometry_plan(&g, ci->size, bi->size, opts->segment_size);
	if (ret) {
		if (ret == -ENOSPC)
			errbuf_set(errbuf, errlen,
				   "%s: %llu bytes cannot hold %llu segments of %u bytes after the "
				   "1 MiB superblock area",
				   ci->path, (unsigned long long)ci->size,
				   (unsigned long long)CACHE_MIN_SEGMENTS,
				   opts->segment_size ? opts->segment_size
						      : RAWIO_CACHE_DEFAULT_SEGMENT);
		else
			errbuf_set(errbuf, errlen,
				   "bad geometry: segment size %u (a power of two from 16 KiB to "
				   "1 MiB), backing device %s of %llu bytes",
				   opts->segment_size, bi->path, (unsigned long long)bi->size);
		return ret;
	}
	buf = rawio_buf_alloc(3 * CACHE_BLOCK, CACHE_BLOCK);
	if (!buf)
		return -ENOMEM;
	ret = rawio_engine_open(&e, ci->kind == RAWIO_DEV_MEM ? "mem" : "sync", cdev, NULL);
	if (ret)
		goto out;
	res = cache_run1(e, RAWIO_OP_READ, 0, buf, 3 * CACHE_BLOCK, 0);
	if (res < 0) {
		ret = (int)res;
		errbuf_set(errbuf, errlen, "%s: reading the superblock area: %s", ci->path,
			   rawio_strerror(ret));
		goto out;
	}
	if (!opts->force) {
		if (!cache_sb_decode(buf, CACHE_BLOCK, &found)) {
			rawio_uuid_str(found.uuid, uuid);
			errbuf_set(errbuf, errlen,
				   "%s holds a rawio cache (uuid %s, %llu segments of %u bytes); "
				   "formatting loses its dirty data: use --force",
				   ci->path, uuid, (unsigned long long)found.nr_segments,
				   found.segment_size);
			ret = -EEXIST;
			goto out;
		}
		if (!cache_all_zero(buf, 3 * CACHE_BLOCK)) {
			errbuf_set(errbuf, errlen,
				   "%s: its first 12 KiB are not zero (a filesystem or data?); "
				   "formatting destroys it: use --force",
				   ci->path);
			ret = -EEXIST;
			goto out;
		}
	}
	if (getrandom(g.uuid, sizeof(g.uuid), 0) != sizeof(g.uuid)) {
		ret = -EIO;
		goto out;
	}
	g.uuid[6] = (g.uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	g.uuid[8] = (g.uuid[8] & 0x3f) | 0x80;
	g.format_ns = clock_realtime_ns();
	rec.written_ns = g.format_ns;

	/* Records first, the superblock last: a crash in between leaves no new cache. */
	cache_rec_encode(buf, &g, &rec);
	memset(buf + CACHE_BLOCK, 0, CACHE_BLOCK);
	res = cache_run1(e, RAWIO_OP_WRITE, 0, buf, 2 * CACHE_BLOCK, CACHE_REC_OFF);
	if (res >= 0)
		res = cache_run1(e, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (res >= 0) {
		cache_sb_encode(buf, &g);
		res = cache_run1(e, RAWIO_OP_WRITE, RAWIO_REQ_FUA, buf, CACHE_BLOCK, CACHE_SB_OFF);
	}
	if (res >= 0)
		res = cache_run1(e, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	ret = res < 0 ? (int)res : 0;
	if (ret)
		errbuf_set(errbuf, errlen, "%s: writing the new cache: %s", ci->path,
			   rawio_strerror(ret));
out:
	rawio_engine_close(e);
	rawio_buf_free(buf);
	return ret;
}

/* ---- open / close ---- */

static void cache_free(struct rawio_cache *c)
{
	while (c->nr_cpool)
		rawio_engine_close(c->cpool[--c->nr_cpool]);
	while (c->nr_bpool)
		rawio_engine_close(c->bpool[--c->nr_bpool]);
	while (c->nr_bounce)
		rawio_buf_free(c->bounce[--c->nr_bounce]);
	for (unsigned i = 0; c->bufs && i < c->nr_bufs; i++)
		rawio_buf_free(c->bufs[i].mem);
	free(c->bufs);
	cache_index_fini(&c->ix);
	free(c->mask);
	free(c->blk);
	free(c->segs);
	free(c->ceo);
	free(c->beo);
	pthread_cond_destroy(&c->cv_space);
	pthread_cond_destroy(&c->cv_durable);
	pthread_cond_destroy(&c->cv_flush);
	pthread_cond_destroy(&c->cv_migrate);
	pthread_cond_destroy(&c->cv_clean);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->pool_lock);
	free(c);
}

static int cache_copy_engine_opts(struct rawio_engine_opts **dst,
				  const struct rawio_engine_opts *src)
{
	if (!src)
		return 0;
	if (src->size < offsetof(struct rawio_engine_opts, uring_flags))
		return -EINVAL;
	*dst = calloc(1, sizeof(**dst));
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, src->size < sizeof(**dst) ? src->size : sizeof(**dst));
	(*dst)->size = sizeof(**dst);
	return 0;
}

static int cache_alloc(struct rawio_cache *c)
{
	uint64_t nr = c->g.nr_segments, blocks = nr * c->bps;
	int ret;

	c->segs = calloc(nr, sizeof(*c->segs));
	c->blk = calloc(blocks, sizeof(*c->blk));
	c->mask = calloc(blocks, sizeof(*c->mask));
	if (!c->segs || !c->blk || !c->mask)
		return -ENOMEM;
	ret = cache_index_init(&c->ix, blocks);
	if (ret)
		return ret;
	if (c->read_only)
		return 0;
	c->bufs = calloc(c->nr_bufs, sizeof(*c->bufs));
	if (!c->bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < c->nr_bufs; i++) {
		c->bufs[i].mem = rawio_buf_alloc(c->g.segment_size, CACHE_BLOCK);
		if (!c->bufs[i].mem)
			return -ENOMEM;
		c->bufs[i].next = c->free_bufs;
		c->free_bufs = &c->bufs[i];
	}
	return 0;
}

static int cache_start_workers(struct rawio_cache *c)
{
	int ret;

	ret = -pthread_create(&c->flush_thread, NULL, cache_flush_main, c);
	if (ret)
		return ret;
	c->flush_started = true;
	ret = -pthread_create(&c->migrate_thread, NULL, cache_migrate_main, c);
	if (ret)
		return ret;
	c->migrate_started = true;
	return 0;
}

static void cache_stop_workers(struct rawio_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cv_flush);
	pthread_cond_broadcast(&c->cv_migrate);
	pthread_cond_broadcast(&c->cv_space);
	pthread_cond_broadcast(&c->cv_durable);
	pthread_cond_broadcast(&c->cv_clean);
	pthread_mutex_unlock(&c->lock);
	if (c->flush_started)
		pthread_join(c->flush_thread, NULL);
	if (c->migrate_started)
		pthread_join(c->migrate_thread, NULL);
	c->flush_started = c->migrate_started = false;
}

int rawio_cache_open(struct rawio_cache **out, struct rawio_dev *cdev, struct rawio_dev *bdev,
		     const struct rawio_cache_opts *opts)
{
	pthread_condattr_t ca;
	struct rawio_cache *c;
	struct cache_rec rec;
	int rec_ok, ret;

	*out = NULL;
	if (!cdev || !bdev || (opts && opts->size < sizeof(*opts)))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	c->opts.size = sizeof(c->opts);
	c->cdev = cdev;
	c->bdev = bdev;
	c->cinfo = rawio_dev_info(cdev);
	c->binfo = rawio_dev_info(bdev);
	snprintf(c->cache_engine, sizeof(c->cache_engine), "%s",
		 c->opts.cache_engine ? c->opts.cache_engine : cache_default_engine(c->cinfo));
	snprintf(c->backing_engine, sizeof(c->backing_engine), "%s",
		 c->opts.backing_engine ? c->opts.backing_engine : cache_default_engine(c->binfo));
	c->opts.cache_engine = c->cache_engine;
	c->opts.backing_engine = c->backing_engine;
	c->read_only = c->opts.read_only;
	c->open_slot = -1;
	{
		pthread_mutexattr_t ma;

		/* Held for a memcpy of 4 KiB at a time: spin a little before sleeping. */
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&c->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	pthread_mutex_init(&c->pool_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv_space, &ca);
	pthread_cond_init(&c->cv_durable, &ca);
	pthread_cond_init(&c->cv_flush, &ca);
	pthread_cond_init(&c->cv_migrate, &ca);
	pthread_cond_init(&c->cv_clean, &ca);
	pthread_condattr_destroy(&ca);
	ret = cache_copy_engine_opts(&c->ceo, c->opts.cache_engine_opts);
	if (!ret)
		ret = cache_copy_engine_opts(&c->beo, c->opts.backing_engine_opts);
	if (ret)
		goto err;
	c->opts.cache_engine_opts = c->ceo;
	c->opts.backing_engine_opts = c->beo;
	if (c->opts.tunables) {
		ret = cache_tunables_check(c->opts.tunables);
		if (ret) {
			errbuf_set(c->opts.errbuf, c->opts.errbuf_len, "a tunable is out of range");
			goto err;
		}
		c->tun = *c->opts.tunables;
	} else {
		rawio_cache_default_tunables(&c->tun);
	}
	c->opts.tunables = NULL;

	ret = cache_read_super(c, &rec, &rec_ok);
	if (ret)
		goto err;
	c->bps = c->g.blocks_per_seg;
	c->nr_bufs = c->opts.nr_buffers ? c->opts.nr_buffers : 8;
	if (c->nr_bufs > c->g.nr_segments / 2)
		c->nr_bufs = (unsigned)(c->g.nr_segments / 2);
	if (c->nr_bufs < 2)
		c->nr_bufs = 2;
	c->migrate_qd = c->opts.migrate_qd ? c->opts.migrate_qd : 32;
	ret = cache_alloc(c);
	if (ret)
		goto err;
	ret = cache_recover(c);
	if (ret) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len, "%s: recovery failed: %s",
			   c->cinfo->path, rawio_strerror(ret));
		goto err;
	}
	if (!c->read_only) {
		ret = cache_start_workers(c);
		if (ret)
			goto err_stop;
	}
	c->opts.errbuf = NULL; /* the caller's buffer is not ours after open */
	c->opts.errbuf_len = 0;
	*out = c;
	return 0;

err_stop:
	cache_stop_workers(c);
err:
	cache_free(c);
	return ret;
}

int rawio_cache_close(struct rawio_cache *c)
{
	int ret = 0;

	if (!c)
		return 0;
	if (!c->read_only) {
		uint64_t target;

		pthread_mutex_lock(&c->lock);
		if (c->open_slot >= 0)
			cache_seal(c, false);
		target = c->last_sealed;
		while (c->durable_id < target && !c->error) {
			if (c->barrier_want < target) {
				c->barrier_want = target;
				pthread_cond_signal(&c->cv_flush);
			}
			pthread_cond_wait(&c->cv_durable, &c->lock);
		}
		ret = c->error;
		pthread_mutex_unlock(&c->lock);
		cache_stop_workers(c);
	}
	cache_free(c);
	return ret;
}

/* ---- write ---- */

/*
 * Open a new segment for writes, waiting for a buffer and a reusable slot;
 * returns with an open segment, ours or one another writer opened meanwhile
 * (the caller looks again). Lock held.
 */
static int cache_open_segment(struct rawio_cache *c, bool *stalled)
{
	struct cache_seg *s;
	struct cache_buf *b;
	uint64_t id, slot;

	for (;;) {
		if (c->open_slot >= 0)
			return 0; /* another writer opened one while we waited */
		if (c->free_bufs && c->next_id <= c->last_migrated + c->g.nr_segments)
			break;
		if (c->error)
			return c->error;
		if (c->stopping)
			return -ESHUTDOWN;
		if (c->next_id > c->last_migrated + c->g.nr_segments &&
		    c->migrate_fail_streak >= CACHE_DRAIN_FAILS)
			return c->migrate_err ? c->migrate_err
					      : -EIO; /* full, and write-back fails */
		if (!*stalled) {
			*stalled = true;
			c->st.write_stalls++;
		}
		c->space_waiters++;
		pthread_cond_signal(&c->cv_migrate);
		pthread_cond_signal(&c->cv_flush);
		pthread_cond_wait(&c->cv_space, &c->lock);
		c->space_waiters--;
	}
	b = c->free_bufs;
	c->free_bufs = b->next;
	id = c->next_id++;
	slot = id % c->g.nr_segments;
	s = &c->segs[slot];
	/* The slot's old segment is written back: its blocks stop serving reads. */
	for (uint32_t i = 0; s->id && i < s->nr_blocks; i++) {
		uint64_t loc = slot * c->bps + i;

		if (cache_index_get(&c->ix, c->blk[loc]) == (int64_t)loc)
			cache_index_del(&c->ix, c->blk[loc]);
	}
	*s = (struct cache_seg){ .id = id, .state = SEG_OPEN, .buf = b };
	c->open_slot = (int64_t)slot;
	return 0;
}

struct cache_wctx {
	char *old; /* aligned block: an older dirty copy read from the device */
	uint64_t old_loc, old_id;
	bool have_old;
	bool stalled;
};

/*
 * Put sectors [S0, S0 + N) of backing block B (data at SRC) into the open
 * segment; *ID gets the segment's id. Lock held; dropped to read an older
 * dirty copy from the cache device or to wait for a segment.
 */
static int cache_place(struct rawio_cache *c, struct cache_wctx *w, uint64_t b, unsigned s0,
		       unsigned n, const char *src, uint64_t *id)
{
	uint8_t m = (uint8_t)(((1u << n) - 1) << s0);
	struct cache_seg *open;
	uint64_t loc;
	int64_t e;
	char *dst;
	int ret;

	for (;;) {
		struct cache_seg *es = NULL;
		uint64_t eid = 0, eoff;

		e = cache_index_get(&c->ix, b);
		if (e >= 0) {
			es = &c->segs[cache_loc_slot(c, (uint64_t)e)];
			eid = es->id;
			if (es->state == SEG_OPEN) {
				/* Already in the open segment: overwrite in place. */
				memcpy(cache_loc_ram(c, (uint64_t)e) + s0 * CACHE_SECTOR, src,
				       n * CACHE_SECTOR);
				c->mask[e] |= m;
				c->st.write_overwrites++;
				*id = eid;
				return 0;
			}
		}
		if (es && es->state == SEG_DIRTY && (c->mask[e] & ~m) &&
		    !(w->have_old && w->old_loc == (uint64_t)e && w->old_id == eid)) {
			/* Sectors we do not overwrite live only in an older dirty copy on the device. */
			int64_t res;

			if (!w->old && !(w->old = rawio_buf_alloc(CACHE_BLOCK, CACHE_BLOCK)))
				return -ENOMEM;
			eoff = cache_loc_off(c, (uint64_t)e);
			c->st.write_merge_reads++;
			pthread_mutex_unlock(&c->lock);
			res = cache_io(c, false, RAWIO_OP_READ, 0, w->old, CACHE_BLOCK, eoff);
			pthread_mutex_lock(&c->lock);
			if (res < 0)
				return (int)res;
			w->have_old = true;
			w->old_loc = (uint64_t)e;
			w->old_id = eid;
			continue; /* look again: things moved while we read */
		}
		if (c->open_slot < 0 || c->segs[c->open_slot].nr_blocks == c->bps) {
			if (c->open_slot >= 0)
				cache_seal(c, false);
			ret = cache_open_segment(c, &w->stalled);
			if (ret)
				return ret;
			continue; /* it may have dropped the lock */
		}
		break;
	}
	open = &c->segs[c->open_slot];
	loc = (uint64_t)c->open_slot * c->bps + open->nr_blocks++;
	dst = cache_loc_ram(c, loc);
	c->mask[loc] = m;
	if (e >= 0 && (c->mask[e] & ~m) &&
	    cache_seg_dirty(&c->segs[cache_loc_slot(c, (uint64_t)e)])) {
		/* Merge the older dirty copy: the newest copy holds every dirty sector. */
		char *ram = cache_loc_ram(c, (uint64_t)e);

		memcpy(dst, ram ? ram : w->old, CACHE_BLOCK);
		c->mask[loc] |= c->mask[e];
	} else if (m != CACHE_FULL_MASK) {
		memset(dst, 0, CACHE_BLOCK);
	}
	memcpy(dst + s0 * CACHE_SECTOR, src, n * CACHE_SECTOR);
	c->blk[loc] = b;
	cache_index_set(&c->ix, b, loc);
	c->st.write_blocks++;
	if (m != CACHE_FULL_MASK)
		c->st.write_partial++;
	*id = open->id;
	if (open->nr_blocks == c->bps)
		cache_seal(c, false);
	return 0;
}

static int cache_check_range(const struct rawio_cache *c, uint64_t off, uint64_t len)
{
	if (off % CACHE_SECTOR || len % CACHE_SECTOR || off > c->g.backing_size ||
	    len > c->g.backing_size - off)
		return -EINVAL;
	return 0;
}

int rawio_cache_write(struct rawio_cache *c, const void *buf, size_t len, uint64_t off,
		      unsigned flags)
{
	struct cache_wctx w = { 0 };
	const char *src = buf;
	uint64_t pos = off, end = off + len, target = 0;
	int ret;

	ret = cache_check_range(c, off, len);
	if (ret)
		return ret;
	if (flags & ~RAWIO_CACHE_FUA)
		return -EINVAL;
	if (c->read_only)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	if (c->error) {
		ret = c->error;
		goto out_unlock;
	}
	while (pos < end) {
		uint64_t b = pos / CACHE_BLOCK;
		unsigned s0 = (unsigned)(pos % CACHE_BLOCK / CACHE_SECTOR);
		uint64_t left = (end - pos) / CACHE_SECTOR;
		unsigned n = CACHE_SECTORS - s0 < left ? CACHE_SECTORS - s0 : (unsigned)left;

		ret = cache_place(c, &w, b, s0, n, src + (pos - off), &target);
		if (ret)
			break;
		pos += (uint64_t)n * CACHE_SECTOR;
	}
	c->st.writes++;
	c->last_write_ns = rawio_now_ns();
	if (!ret && (flags & RAWIO_CACHE_FUA) && target) {
		c->st.fua_writes++;
		c->st.barriers++;
		ret = cache_wait_durable(c, target);
	}
out_unlock:
	pthread_mutex_unlock(&c->lock);
	rawio_buf_free(w.old);
	return ret;
}

int rawio_cache_flush(struct rawio_cache *c)
{
	uint64_t target;
	int ret;

	if (c->read_only)
		return 0;
	pthread_mutex_lock(&c->lock);
	c->st.barriers++;
	target = c->open_slot >= 0 ? c->segs[c->open_slot].id : c->last_sealed;
	ret = c->error ? c->error : cache_wait_durable(c, target);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- read ---- */

enum cache_rplan {
	RP_MISS = 0,	/* backing device */
	RP_RAM,		/* copied from a RAM buffer */
	RP_RAM_PARTIAL, /* dirty sectors copied from RAM; the rest from the backing device */
	RP_DEV,		/* cache device */
	RP_DEV_PARTIAL, /* dirty sectors from the cache device; the rest from the backing device */
};

struct cache_rblock {
	uint8_t plan;
	uint8_t mask;
	uint64_t loc;
	uint64_t id; /* of the segment read from the device: it must not change under the read */
};

static bool rp_backing(uint8_t p)
{
	return p == RP_MISS || p == RP_RAM_PARTIAL || p == RP_DEV_PARTIAL;
}

/* Read blocks [B0, B0 + N) into DATA (N <= CACHE_READ_CHUNK); AUX holds backing data. */
static int cache_read_blocks(struct rawio_cache *c, uint64_t b0, unsigned n, char *data, char *aux)
{
	struct cache_rblock rb[CACHE_READ_CHUNK];
	struct rawio_batch_io bios[CACHE_READ_CHUNK], cios[CACHE_READ_CHUNK];
	uint64_t hits, hits_ram, partial, misses;
	struct rawio_engine *e;
	size_t nb, nc;
	int ret;

	for (;;) {
		bool moved = false;

		hits = hits_ram = partial = misses = 0;
		pthread_mutex_lock(&c->lock);
		for (unsigned j = 0; j < n; j++) {
			int64_t loc = cache_index_get(&c->ix, b0 + j);
			const struct cache_seg *s;
			char *ram;

			rb[j] = (struct cache_rblock){ .plan = RP_MISS };
			if (loc < 0) {
				misses++;
				continue;
			}
			s = &c->segs[cache_loc_slot(c, (uint64_t)loc)];
			rb[j].mask = c->mask[loc];
			rb[j].loc = (uint64_t)loc;
			rb[j].id = s->id;
			ram = cache_loc_ram(c, (uint64_t)loc);
			if (ram) {
				memcpy(data + (size_t)j * CACHE_BLOCK, ram, CACHE_BLOCK);
				rb[j].plan =
					rb[j].mask == CACHE_FULL_MASK ? RP_RAM : RP_RAM_PARTIAL;
			} else if (rb[j].mask == CACHE_FULL_MASK) {
				rb[j].plan = RP_DEV; /* dirty or clean: the copy is whole */
			} else if (s->state == SEG_DIRTY) {
				rb[j].plan = RP_DEV_PARTIAL;
			} /* else clean and partial: the backing device has it all */
			if (rb[j].plan == RP_MISS)
				misses++;
			else if (rb[j].plan == RP_RAM)
				hits_ram++;
			else if (rb[j].plan == RP_DEV)
				hits++;
			else
				partial++;
		}
		pthread_mutex_unlock(&c->lock);

		/* Backing reads, merged over runs of consecutive blocks that need them. */
		nb = nc = 0;
		for (unsigned j = 0; j < n; j++) {
			char *dst;

			if (!rp_backing(rb[j].plan))
				continue;
			dst = (rb[j].plan == RP_MISS ? data : aux) + (size_t)j * CACHE_BLOCK;
			if (nb && bios[nb - 1].off + bios[nb - 1].len == (b0 + j) * CACHE_BLOCK &&
			    (char *)bios[nb - 1].buf + bios[nb - 1].len == dst &&
			    bios[nb - 1].len < (1u << 20)) {
				bios[nb - 1].len += CACHE_BLOCK;
				continue;
			}
			bios[nb++] = (struct rawio_batch_io){ .off = (b0 + j) * CACHE_BLOCK,
							      .len = CACHE_BLOCK,
							      .buf = dst };
		}
		/* Cache device reads, merged where both sides are contiguous. */
		for (unsigned j = 0; j < n; j++) {
			uint64_t off;
			char *dst;

			if (rb[j].plan != RP_DEV && rb[j].plan != RP_DEV_PARTIAL)
				continue;
			off = cache_loc_off(c, rb[j].loc);
			dst = data + (size_t)j * CACHE_BLOCK;
			if (nc && cios[nc - 1].off + cios[nc - 1].len == off &&
			    (char *)cios[nc - 1].buf + cios[nc - 1].len == dst) {
				cios[nc - 1].len += CACHE_BLOCK;
				continue;
			}
			cios[nc++] = (struct rawio_batch_io){ .off = off,
							      .len = CACHE_BLOCK,
							      .buf = dst };
		}
		if (nb) {
			ret = cache_io_get(c, true, &e);
			if (ret)
				return ret;
			ret = cache_run(e, bios, nb, false);
			cache_io_put(c, true, e);
			if (ret)
				return ret;
		}
		if (nc) {
			ret = cache_io_get(c, false, &e);
			if (ret)
				return ret;
			ret = cache_run(e, cios, nc, false);
			cache_io_put(c, false, e);
			if (ret)
				return ret;
		}
		/* A slot reused under the read holds another segment's data now: read again. */
		pthread_mutex_lock(&c->lock);
		for (unsigned j = 0; j < n && !moved; j++)
			if ((rb[j].plan == RP_DEV || rb[j].plan == RP_DEV_PARTIAL) &&
			    c->segs[cache_loc_slot(c, rb[j].loc)].id != rb[j].id)
				moved = true;
		if (moved) {
			c->st.read_retries++;
		} else {
			c->st.read_hits += hits + hits_ram;
			c->st.read_hits_ram += hits_ram;
			c->st.read_partial += partial;
			c->st.read_misses += misses;
		}
		pthread_mutex_unlock(&c->lock);
		if (!moved)
			break;
	}
	for (unsigned j = 0; j < n; j++) {
		char *d = data + (size_t)j * CACHE_BLOCK, *a = aux + (size_t)j * CACHE_BLOCK;

		if (rb[j].plan != RP_RAM_PARTIAL && rb[j].plan != RP_DEV_PARTIAL)
			continue;
		for (unsigned s = 0; s < CACHE_SECTORS; s++)
			if (!(rb[j].mask & (1u << s)))
				memcpy(d + s * CACHE_SECTOR, a + s * CACHE_SECTOR, CACHE_SECTOR);
	}
	return 0;
}

int rawio_cache_read(struct rawio_cache *c, void *buf, size_t len, uint64_t off)
{
	uint64_t pos = off, end = off + len;
	char *bounce;
	int ret;

	ret = cache_check_range(c, off, len);
	if (ret || !len)
		return ret;
	bounce = cache_bounce_get(c);
	if (!bounce)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	c->st.reads++;
	pthread_mutex_unlock(&c->lock);
	while (pos < end && !ret) {
		uint64_t b0 = pos / CACHE_BLOCK, in = pos % CACHE_BLOCK;
		uint64_t nbytes = end - pos, last;
		unsigned n;

		if (nbytes > CACHE_READ_CHUNK * (uint64_t)CACHE_BLOCK - in)
			nbytes = CACHE_READ_CHUNK * (uint64_t)CACHE_BLOCK - in;
		last = (pos + nbytes - 1) / CACHE_BLOCK;
		n = (unsigned)(last - b0 + 1);
		ret = cache_read_blocks(c, b0, n, bounce,
					bounce + CACHE_READ_CHUNK * (size_t)CACHE_BLOCK);
		if (!ret)
			memcpy((char *)buf + (pos - off), bounce + in, nbytes);
		pos += nbytes;
	}
	cache_bounce_put(c, bounce);
	return ret;
}

/* ---- discard ---- */

struct cache_discard_walk {
	uint64_t first, last; /* blocks [first, last) */
	uint64_t *drop;
	uint64_t nr;
};

static void cache_discard_collect(void *arg, uint64_t block, uint64_t loc)
{
	struct cache_discard_walk *w = arg;

	if (block >= w->first && block < w->last)
		w->drop[w->nr++] = block;
}

/* Drop BLOCK's newest copy from the index, unless it sits in the open segment. Lock held. */
static void cache_discard_block(struct rawio_cache *c, uint64_t block)
{
	int64_t loc = cache_index_get(&c->ix, block);

	/* An open segment cannot hold a block twice: a later write would add a second entry. */
	if (loc < 0 || c->segs[cache_loc_slot(c, (uint64_t)loc)].state == SEG_OPEN)
		return;
	cache_index_del(&c->ix, block);
	c->st.discarded_blocks++;
}

int rawio_cache_discard(struct rawio_cache *c, uint64_t off, uint64_t len)
{
	uint64_t first, last;
	int64_t res;
	int ret;

	ret = cache_check_range(c, off, len);
	if (ret)
		return ret;
	if (c->read_only)
		return -EROFS;
	first = (off + CACHE_BLOCK - 1) / CACHE_BLOCK;
	last = (off + len) / CACHE_BLOCK;
	pthread_mutex_lock(&c->lock);
	c->st.discards++;
	if (c->error) {
		ret = c->error;
		pthread_mutex_unlock(&c->lock);
		return ret;
	}
	if (first < last && last - first <= c->ix.nr) {
		for (uint64_t b = first; b < last; b++)
			cache_discard_block(c, b);
	} else if (first < last) {
		struct cache_discard_walk w = { .first = first, .last = last };

		w.drop = malloc((c->ix.nr ? c->ix.nr : 1) * sizeof(*w.drop));
		if (!w.drop) {
			pthread_mutex_unlock(&c->lock);
			return -ENOMEM;
		}
		cache_index_walk(&c->ix, cache_discard_collect, &w);
		for (uint64_t i = 0; i < w.nr; i++)
			cache_discard_block(c, w.drop[i]);
		free(w.drop);
	}
	pthread_mutex_unlock(&c->lock);
	if (first >= last)
		return 0;
	res = cache_io(c, true, RAWIO_OP_DISCARD, 0, NULL, (last - first) * CACHE_BLOCK,
		       first * CACHE_BLOCK);
	if (res == -EOPNOTSUPP || res == -EINVAL || res == -ENOTTY)
		res = 0; /* advisory: the backing device keeps the old data */
	return res < 0 ? (int)res : 0;
}

/* ---- drain ---- */

int rawio_cache_drain(struct rawio_cache *c)
{
	uint64_t target;
	int ret = 0;

	if (c->read_only)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	if (c->open_slot >= 0)
		cache_seal(c, false);
	target = c->last_sealed;
	c->drainers++;
	c->migrate_fail_streak = 0;
	pthread_cond_signal(&c->cv_flush);
	pthread_cond_signal(&c->cv_migrate);
	while (c->last_migrated < target) {
		if (c->error) {
			ret = c->error;
			break;
		}
		if (c->migrate_fail_streak >= CACHE_DRAIN_FAILS) {
			ret = c->migrate_err ? c->migrate_err : -EIO;
			break;
		}
		pthread_cond_wait(&c->cv_clean, &c->lock);
	}
	c->drainers--;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- stat ---- */

struct cache_stat_walk {
	const struct rawio_cache *c;
	uint64_t dirty;
};

static void cache_stat_count(void *arg, uint64_t block, uint64_t loc)
{
	struct cache_stat_walk *w = arg;

	w->dirty += cache_seg_dirty(&w->c->segs[cache_loc_slot(w->c, loc)]);
}

void rawio_cache_stat(struct rawio_cache *c, struct rawio_cache_stat *st)
{
	struct cache_stat_walk w = { .c = c };

	pthread_mutex_lock(&c->lock);
	*st = c->st;
	memcpy(st->uuid, c->g.uuid, sizeof(st->uuid));
	st->size = c->g.backing_size;
	st->segment_size = c->g.segment_size;
	st->blocks_per_segment = c->bps;
	st->nr_segments = c->g.nr_segments;
	st->nr_buffers = c->read_only ? 0 : c->nr_bufs;
	st->next_id = c->next_id;
	st->flushed_id = c->flushed_id;
	st->durable_id = c->durable_id;
	st->last_migrated = c->last_migrated;
	st->dirty_segments = c->last_sealed - c->last_migrated;
	cache_index_walk(&c->ix, cache_stat_count, &w);
	st->dirty_blocks = w.dirty;
	st->cached_blocks = c->ix.nr;
	st->error = c->error;
	pthread_mutex_unlock(&c->lock);
}

void rawio_cache_recovery(struct rawio_cache *c, struct rawio_cache_recovery *r)
{
	*r = c->rec;
}
