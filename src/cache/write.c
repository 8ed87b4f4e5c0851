// SPDX-License-Identifier: MIT
/*
 * The write path and the segment state machine: open a segment, place
 * blocks in it, seal it, wait until it is durable (barriers), and fail the
 * cache. The flush worker (flush.c) writes sealed segments and advances
 * durable_id; it is told of work through cv_flush, and this file never calls it.
 *
 * A whole-block write is placed in two steps (cache_reserve, cache_copies_run):
 * its loc is reserved under the lock, its 4 KiB copied after the lock is
 * dropped (cache_impl.h, "Copies in flight"). Everything else (partial blocks
 * that merge, a write that has to wait for a segment) is placed under the lock
 * by cache_place, after the writer's own copies are made.
 *
 * The seal decision for a barrier whose data is in the open segment (group
 * commit): seal at once when the deadline is 0 (dm-writeboost's one segment
 * per flush) or when fewer than commit_qd commits are in flight (c->commits:
 * the device has room for one more, so waiting would only add latency);
 * otherwise wait for a commit to finish, meanwhile other writers' data and
 * barriers join the open segment, and seal then (the flush worker wakes them
 * when a commit finishes), or when the deadline passes, whichever is first.
 * A barrier waits for durability without the lock, on a futex word of its own
 * id's (cache_durable_sleep), so waking a commit's group does not queue ~16
 * threads on the lock the writers and the flusher need.
 */
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"

void cache_fail(struct rawio_cache *c, int err)
{
	if (c->error)
		return;
	/* Barriers read it without the lock (cache_durable_sleep). */
	__atomic_store_n(&c->error, err < 0 ? err : -EIO, __ATOMIC_SEQ_CST);
	cache_durable_wake_all(c);
	pthread_cond_broadcast(&c->cv_space);
	pthread_cond_broadcast(&c->cv_durable);
	pthread_cond_broadcast(&c->cv_clean);
	pthread_cond_broadcast(&c->cv_flush);
	pthread_cond_broadcast(&c->cv_migrate);
}

void cache_seal(struct rawio_cache *c, bool barrier)
{
	struct cache_seg *s = &c->segs[c->open_slot];

	s->state = SEG_SEALED;
	s->sealed_ns = rawio_now_ns();
	if (barrier) {
		s->flags |= CACHE_SEG_F_BARRIER;
		c->st.barrier_seals++;
		c->commits++; /* until its write completes (flush.c) */
	}
	if (s->nr_blocks == c->bps)
		c->st.segments_full++;
	else
		c->st.segments_partial++;
	c->last_sealed = s->id;
	__atomic_store_n(&c->seal_ns[s->id % CACHE_DURABLE_WORDS], s->sealed_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seal_id[s->id % CACHE_DURABLE_WORDS], s->id, __ATOMIC_RELEASE);
	c->open_slot = -1;
	c->barrier_since_ns = 0;
	pthread_cond_signal(&c->cv_flush);
}

void cache_wait_copied(struct rawio_cache *c, const uint8_t *pending, const uint32_t *copies)
{
	/* Seq-cst against cache_copies_run: it clears, then looks for waiters; we count, then look. */
	__atomic_add_fetch(&c->copy_waiters, 1, __ATOMIC_SEQ_CST);
	while (pending ? __atomic_load_n(pending, __ATOMIC_SEQ_CST)
		       : __atomic_load_n(copies, __ATOMIC_SEQ_CST))
		pthread_cond_wait(&c->cv_copied, &c->lock);
	__atomic_sub_fetch(&c->copy_waiters, 1, __ATOMIC_SEQ_CST);
}

static void cache_timespec(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

/*
 * Sleep without the lock until TARGET is durable (0) or the cache failed (its error).
 * With UNTIL_NS (a barrier in the open segment, whose seal may be due at its deadline):
 * at most once, and -EAGAIN when not durable by then, to decide again under the lock.
 * The waker's side is cache_durable_set (flush.c).
 */
static int cache_durable_sleep(struct rawio_cache *c, uint64_t target, uint64_t until_ns)
{
	uint32_t *word = &c->durable_word[target % CACHE_DURABLE_WORDS];
	int ret;

	/* Counted before we look: a waker that sees no sleeper stored durable_id before. */
	__atomic_add_fetch(&c->durable_sleepers, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		struct timespec ts, *tp = NULL;

		ret = 0;
		if (__atomic_load_n(&c->durable_id, __ATOMIC_SEQ_CST) >= target)
			break;
		ret = __atomic_load_n(&c->error, __ATOMIC_SEQ_CST);
		if (ret)
			break;
		if (until_ns) {
			uint64_t now = rawio_now_ns();

			ret = -EAGAIN;
			if (now >= until_ns)
				break;
			cache_timespec(&ts, until_ns - now);
			tp = &ts;
		}
		(void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, tp, NULL, 0);
		if (until_ns) {
			ret = __atomic_load_n(&c->durable_id, __ATOMIC_SEQ_CST) >= target ? 0
											  : -EAGAIN;
			break;
		}
	}
	__atomic_sub_fetch(&c->durable_sleepers, 1, __ATOMIC_SEQ_CST);
	return ret;
}

/*
 * cache_wait_durable, returning without the lock: a barrier sleeps on its futex word,
 * not on cv_durable, so waking a commit's ~16 barriers does not queue them on c->lock
 * behind each other, the writers and the flusher. Lock held on entry.
 */
static int cache_wait_durable_unlock(struct rawio_cache *c, uint64_t target)
{
	for (;;) {
		uint64_t until = 0;
		int ret;

		if (c->durable_id >= target || c->error) {
			ret = c->durable_id >= target ? 0 : c->error;
			pthread_mutex_unlock(&c->lock);
			return ret;
		}
		if (c->open_slot >= 0 && c->segs[c->open_slot].id <= target) {
			uint64_t now = rawio_now_ns(), deadline;

			if (!c->barrier_since_ns)
				c->barrier_since_ns = now;
			deadline = c->barrier_since_ns + c->tun.barrier_deadline_us * 1000ull;
			/* Seal now unless commit_qd commits are in flight: then share the next one. */
			if (!c->tun.barrier_deadline_us ||
			    cache_commits_busy(c) < c->tun.commit_qd || now >= deadline) {
				if (c->tun.barrier_deadline_us &&
				    cache_commits_busy(c) >= c->tun.commit_qd)
					c->st.barrier_deadline_seals++;
				cache_seal(c, true);
				continue;
			}
			until = deadline;
		} else if (c->barrier_want < target) {
			c->barrier_want = target;
			pthread_cond_signal(&c->cv_flush);
		}
		pthread_mutex_unlock(&c->lock);
		ret = cache_durable_sleep(c, target, until);
		if (ret != -EAGAIN)
			return ret;
		pthread_mutex_lock(&c->lock);
	}
}

int cache_wait_durable(struct rawio_cache *c, uint64_t target)
{
	int ret = cache_wait_durable_unlock(c, target);

	pthread_mutex_lock(&c->lock);
	return ret;
}

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
		/* Write-back frees slots, not buffers: wake it when it has work (a full log). */
		if (cache_migrate_wanted(c, rawio_now_ns()))
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
	if (c->tun.seal_idle_ms)
		pthread_cond_signal(&c->cv_flush); /* the flush worker times its idle seal */
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
 * dirty copy from the cache device, to wait for a segment or for another
 * writer's copy into the block. The caller has no copy of its own in flight.
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
		if (e >= 0 && __atomic_load_n(&c->pending[e], __ATOMIC_SEQ_CST)) {
			/* Another writer's copy into it is in flight: we merge or overwrite it. */
			cache_wait_copied(c, &c->pending[e], NULL);
			continue;
		}
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
			res = rawio_engine_pool_io(c->cwpool ? c->cwpool : c->cpool, RAWIO_OP_READ,
						   0, w->old, CACHE_BLOCK, eoff);
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

/* A whole block reserved by cache_reserve, to be copied without the lock. */
struct cache_copy {
	char *dst;
	const char *src;
	uint64_t loc;
	uint32_t *copies; /* of dst's segment */
};

#define CACHE_COPY_BATCH 64 /* reservations a writer holds before it copies them */

/*
 * Reserve a loc in the open segment for a whole-block write of backing block B
 * without waiting for anything: true, *CP says where to copy SRC and *ID gets
 * the segment's id. False when a wait would be needed (no segment open and
 * none to open at once, or a copy into the block in flight): cache_place does
 * it then. Lock held.
 */
static bool cache_reserve(struct rawio_cache *c, uint64_t b, const char *src, struct cache_copy *cp,
			  uint64_t *id)
{
	int64_t e = cache_index_get(&c->ix, b);
	struct cache_seg *seg;
	uint64_t loc;

	/* Acquire: a copy into the block that just finished happens before ours. */
	if (e >= 0 && __atomic_load_n(&c->pending[e], __ATOMIC_ACQUIRE))
		return false;
	if (e >= 0 && c->segs[cache_loc_slot(c, (uint64_t)e)].state == SEG_OPEN) {
		/* Already in the open segment: overwrite in place. */
		loc = (uint64_t)e;
		seg = &c->segs[cache_loc_slot(c, loc)];
		c->st.write_overwrites++;
	} else {
		if (c->open_slot < 0 || c->segs[c->open_slot].nr_blocks == c->bps) {
			bool stalled = false;

			if (!c->free_bufs || c->next_id > c->last_migrated + c->g.nr_segments)
				return false;
			if (c->open_slot >= 0)
				cache_seal(c, false);
			if (cache_open_segment(c, &stalled)) /* has what it needs: never waits */
				return false;
		}
		seg = &c->segs[c->open_slot];
		loc = (uint64_t)c->open_slot * c->bps + seg->nr_blocks++;
		c->blk[loc] = b;
		cache_index_set(&c->ix, b, loc);
		c->st.write_blocks++;
	}
	c->mask[loc] = CACHE_FULL_MASK;
	__atomic_store_n(&c->pending[loc], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&seg->copies, 1, __ATOMIC_RELAXED);
	*cp = (struct cache_copy){
		.dst = cache_loc_ram(c, loc), .src = src, .loc = loc, .copies = &seg->copies
	};
	*id = seg->id;
	if (seg->nr_blocks == c->bps && c->open_slot == (int64_t)cache_loc_slot(c, loc))
		cache_seal(c, false); /* the flush worker waits for the copies */
	return true;
}

/* Make the copies reserved in CP[0, N). Lock not held. */
static void cache_copies_run(struct rawio_cache *c, const struct cache_copy *cp, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(cp[i].dst, cp[i].src, CACHE_BLOCK);
		__atomic_store_n(&c->pending[cp[i].loc], 0, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(cp[i].copies, 1, __ATOMIC_SEQ_CST);
	}
	/* Someone waits for a copy (rare: the flush worker at a seal, a reader): wake it. */
	if (__atomic_load_n(&c->copy_waiters, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&c->lock);
		pthread_cond_broadcast(&c->cv_copied);
		pthread_mutex_unlock(&c->lock);
	}
}

int rawio_cache_write(struct rawio_cache *c, const void *buf, size_t len, uint64_t off,
		      unsigned flags)
{
	struct cache_copy cp[CACHE_COPY_BATCH];
	struct cache_wctx w = { 0 };
	const char *src = buf;
	uint64_t pos = off, end = off + len, target = 0, now;
	unsigned ncp = 0;
	bool fua;
	int ret;

	ret = cache_check_range(c, off, len);
	if (ret)
		return ret;
	if (flags & ~RAWIO_CACHE_FUA)
		return -EINVAL;
	if (c->read_only)
		return -EROFS;
	now = rawio_now_ns(); /* read before the lock: every writer waits on it */
	/* The index slots' cache misses before the lock, not under it (index.c). */
	for (uint64_t b = off / CACHE_BLOCK, n = 0; n < 16 && b * CACHE_BLOCK < end; b++, n++)
		cache_index_prefetch(&c->ix, b);
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

		if (n == CACHE_SECTORS && ncp < CACHE_COPY_BATCH &&
		    cache_reserve(c, b, src + (pos - off), &cp[ncp], &target)) {
			ncp++;
		} else if (ncp) {
			/* Our copies first: a sealed segment's write, or a reader, may wait on them. */
			pthread_mutex_unlock(&c->lock);
			cache_copies_run(c, cp, ncp);
			ncp = 0;
			pthread_mutex_lock(&c->lock);
			continue;
		} else {
			ret = cache_place(c, &w, b, s0, n, src + (pos - off), &target);
			if (ret)
				break;
		}
		pos += (uint64_t)n * CACHE_SECTOR;
	}
	c->st.writes++;
	if (w.stalled || w.have_old)
		now = rawio_now_ns(); /* it waited: the time before is stale */
	if (now > c->last_write_ns)
		c->last_write_ns = now; /* another writer may have read the clock after us */
	fua = !ret && (flags & RAWIO_CACHE_FUA) && target;
	if (fua) {
		c->st.fua_writes++;
		c->st.barriers++;
	}
	if (ncp) {
		pthread_mutex_unlock(&c->lock);
		cache_copies_run(c, cp, ncp);
		if (!fua)
			goto out;
		pthread_mutex_lock(&c->lock);
	}
	if (fua)
		ret = cache_wait_durable(c, target);
out_unlock:
	pthread_mutex_unlock(&c->lock);
out:
	rawio_buf_free(w.old);
	return ret;
}

/* Add a flush's time split to the profile (rawio_cache_stat.barrier_*_ns). */
static void cache_flush_profile(struct rawio_cache *c, uint64_t target, uint64_t t0,
				uint64_t t_locked)
{
	unsigned w = target % CACHE_DURABLE_WORDS;
	uint64_t sealed = __atomic_load_n(&c->seal_ns[w], __ATOMIC_RELAXED);
	uint64_t durable = __atomic_load_n(&c->durable_ns[w], __ATOMIC_RELAXED);
	uint64_t end = rawio_now_ns();

	/* Another id in the same word since (a waiter held off the CPU): not this one's. */
	if (__atomic_load_n(&c->seal_id[w], __ATOMIC_ACQUIRE) != target || sealed > durable ||
	    durable > end)
		return;
	if (sealed < t_locked)
		sealed = t_locked; /* sealed before we came: no queue, commit from now */
	__atomic_add_fetch(&c->bar_lock_ns, t_locked - t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->bar_queue_ns, sealed - t_locked, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->bar_commit_ns, durable - sealed, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->bar_wake_ns, end - durable, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->bar_timed, 1, __ATOMIC_RELAXED);
}

int rawio_cache_flush(struct rawio_cache *c)
{
	uint64_t target, t0, t1;
	int ret;

	if (c->read_only)
		return 0;
	t0 = rawio_now_ns();
	pthread_mutex_lock(&c->lock);
	t1 = rawio_now_ns();
	c->st.barriers++;
	target = c->open_slot >= 0 ? c->segs[c->open_slot].id : c->last_sealed;
	if (c->durable_id >= target) {
		ret = c->error;
		pthread_mutex_unlock(&c->lock);
		return ret;
	}
	ret = cache_wait_durable_unlock(c, target);
	if (!ret)
		cache_flush_profile(c, target, t0, t1);
	return ret;
}
