// SPDX-License-Identifier: MIT
/*
 * The cache: open/close, discard, drain and statistics. Below it: the write
 * path and the segment state machine (write.c), the read path (read.c), the
 * flush worker (flush.c), write-back (migrate.c), recovery (recover.c), the
 * tunables (tunables.c) and the I/O helpers (io.c). Format is mkfs.c, the
 * on-disk encoders format.c, rawio_cache_check check.c. Every I/O goes
 * through an engine (never pread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "cache_impl.h"
#include "util/crc32c.h"

/* ---- open / close ---- */

/*
 * Own both devices for the cache's life, whoever opened them (the nbdkit
 * plugin, a test, rawio_cache_open_path which already holds the locks): a
 * writer exclusively, a read-only cache beside other readers only.
 */
static int cache_lock_devs(struct rawio_cache *c)
{
	unsigned how = c->read_only ? RAWIO_DEV_LOCK_SH : RAWIO_DEV_LOCK_EX;
	int ret;

	ret = rawio_dev_lock(c->cdev, how, c->opts.lock_wait_ms, c->opts.errbuf,
			     c->opts.errbuf_len);
	if (ret < 0)
		return ret;
	c->locked_cdev = ret == 1;
	ret = rawio_dev_lock(c->bdev, how, c->opts.lock_wait_ms, c->opts.errbuf,
			     c->opts.errbuf_len);
	if (ret < 0)
		return ret;
	c->locked_bdev = ret == 1;
	return 0;
}

static void cache_free(struct rawio_cache *c)
{
	cache_pools_close(c);
	free(c->bufs_mem);
	free(c->bufs);
	cache_index_fini(&c->ix);
	free(c->pending);
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
	pthread_cond_destroy(&c->cv_copied);
	pthread_mutex_destroy(&c->lock);
	if (c->locked_bdev)
		rawio_dev_unlock(c->bdev);
	if (c->locked_cdev)
		rawio_dev_unlock(c->cdev);
	if (c->own_devs) {
		rawio_dev_close(c->bdev);
		rawio_dev_close(c->cdev);
	}
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
	void *mem;
	size_t len;
	int ret;

	c->segs = calloc(nr, sizeof(*c->segs));
	c->blk = calloc(blocks, sizeof(*c->blk));
	c->mask = calloc(blocks, sizeof(*c->mask));
	c->pending = calloc(blocks, sizeof(*c->pending));
	if (!c->segs || !c->blk || !c->mask || !c->pending)
		return -ENOMEM;
	ret = cache_index_init(&c->ix, blocks);
	if (ret)
		return ret;
	if (c->read_only)
		return 0;
	c->bufs = calloc(c->nr_bufs, sizeof(*c->bufs));
	if (!c->bufs)
		return -ENOMEM;
	/*
	 * One region for every buffer, on transparent huge pages where the kernel gives them
	 * (the advice before the first touch): a segment write pins physically contiguous
	 * memory, one DMA segment instead of one per 4 KiB page. Pinning 128 small pages per
	 * 512 KiB write (gup_fast_fallback) was the flush worker's largest cost on the virtio
	 * disk (docs/perf.md, "Cache", third session). Zeroed here: faulted in at open.
	 */
	len = ((size_t)c->nr_bufs * c->g.segment_size + CACHE_HUGE - 1) & ~(size_t)(CACHE_HUGE - 1);
	if (posix_memalign(&mem, CACHE_HUGE, len))
		return -ENOMEM;
	c->bufs_mem = mem;
	(void)madvise(mem, len, MADV_HUGEPAGE); /* advice: without THP, plain pages */
	memset(mem, 0, len);
	for (unsigned i = 0; i < c->nr_bufs; i++) {
		c->bufs[i].mem = c->bufs_mem + (size_t)i * c->g.segment_size;
		c->bufs[i].next = c->free_bufs;
		c->free_bufs = &c->bufs[i];
	}
	return 0;
}

static int cache_start_workers(struct rawio_cache *c)
{
	int ret;

	ret = cache_flush_init(c);
	if (ret)
		return ret;
	for (unsigned i = 0; i < CACHE_FLUSH_THREADS && i < c->nr_bufs + 1; i++) {
		ret = -pthread_create(&c->flush_threads[i], NULL, cache_flush_main, c);
		if (ret)
			return ret;
		c->nr_flush_started++;
		/* profiles tell the workers apart */
		pthread_setname_np(c->flush_threads[i], "rawio-flush");
	}
	ret = -pthread_create(&c->migrate_thread, NULL, cache_migrate_main, c);
	if (ret)
		return ret;
	c->migrate_started = true;
	pthread_setname_np(c->migrate_thread, "rawio-migrate");
	return 0;
}

static void cache_stop_workers(struct rawio_cache *c)
{
	pthread_mutex_lock(&c->lock);
	/* migrate_batch polls it between chunks without the lock. */
	__atomic_store_n(&c->stopping, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&c->cv_flush);
	pthread_cond_broadcast(&c->cv_migrate);
	pthread_cond_broadcast(&c->cv_space);
	pthread_cond_broadcast(&c->cv_durable);
	pthread_cond_broadcast(&c->cv_clean);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < c->nr_flush_started; i++)
		pthread_join(c->flush_threads[i], NULL);
	if (c->migrate_started)
		pthread_join(c->migrate_thread, NULL);
	c->nr_flush_started = 0;
	c->migrate_started = false;
	cache_flush_fini(c);
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
		 c->opts.cache_engine ? c->opts.cache_engine : rawio_engine_default(c->cinfo));
	snprintf(c->backing_engine, sizeof(c->backing_engine), "%s",
		 c->opts.backing_engine ? c->opts.backing_engine : rawio_engine_default(c->binfo));
	c->opts.cache_engine = c->cache_engine;
	c->opts.backing_engine = c->backing_engine;
	c->read_only = c->opts.read_only;
	c->open_slot = -1;
	{
		pthread_mutexattr_t ma;

		/* Held for an index update at a time: spin a little before sleeping. */
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&c->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv_space, &ca);
	pthread_cond_init(&c->cv_durable, &ca);
	pthread_cond_init(&c->cv_flush, &ca);
	pthread_cond_init(&c->cv_migrate, &ca);
	pthread_cond_init(&c->cv_clean, &ca);
	pthread_cond_init(&c->cv_copied, &ca);
	pthread_condattr_destroy(&ca);
	ret = cache_copy_engine_opts(&c->ceo, c->opts.cache_engine_opts);
	if (!ret)
		ret = cache_copy_engine_opts(&c->beo, c->opts.backing_engine_opts);
	if (ret)
		goto err;
	c->opts.cache_engine_opts = c->ceo;
	c->opts.backing_engine_opts = c->beo;
	if (c->opts.tunables) {
		ret = cache_tunables_check(c->opts.tunables, c->opts.errbuf, c->opts.errbuf_len);
		if (ret)
			goto err;
		c->tun = *c->opts.tunables;
	} else {
		rawio_cache_tunables_default(&c->tun);
	}
	c->opts.tunables = NULL;

	ret = cache_lock_devs(c);
	if (ret)
		goto err;
	ret = cache_pools_open(c);
	if (ret)
		goto err;
	ret = cache_read_super(c, &rec, &rec_ok);
	if (ret)
		goto err;
	c->bps = c->g.blocks_per_seg;
	c->nr_bufs = c->opts.nr_buffers ? c->opts.nr_buffers : RAWIO_CACHE_DEFAULT_BUFFERS;
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
	res = rawio_engine_pool_io(c->bpool, RAWIO_OP_DISCARD, 0, NULL,
				   (last - first) * CACHE_BLOCK, first * CACHE_BLOCK);
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
	st->barrier_timed = __atomic_load_n(&c->bar_timed, __ATOMIC_RELAXED);
	st->barrier_lock_ns = __atomic_load_n(&c->bar_lock_ns, __ATOMIC_RELAXED);
	st->barrier_queue_ns = __atomic_load_n(&c->bar_queue_ns, __ATOMIC_RELAXED);
	st->barrier_commit_ns = __atomic_load_n(&c->bar_commit_ns, __ATOMIC_RELAXED);
	st->barrier_wake_ns = __atomic_load_n(&c->bar_wake_ns, __ATOMIC_RELAXED);
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
	st->migrate_fail_streak = c->migrate_fail_streak;
	if (c->migrate_fail_streak)
		st->backing_error = c->migrate_err ? c->migrate_err : -EIO;
	else if (c->binfo->kind == RAWIO_DEV_NBD && c->binfo->nbd.offline && !c->st.migrate_batches)
		st->backing_error = -ENOTCONN;
	else
		st->backing_error = 0;
	pthread_mutex_unlock(&c->lock);
}

void rawio_cache_recovery(struct rawio_cache *c, struct rawio_cache_recovery *r)
{
	*r = c->rec;
}
