// SPDX-License-Identifier: MIT
/*
 * The flush worker.
 *
 * Sealed segments are taken in id order, up to one per RAM buffer at once,
 * each written as one I/O (header block + its data blocks; a partial segment
 * writes only the blocks it has), by CACHE_FLUSH_THREADS worker threads that
 * share one flush context under c->lock, each queueing what it claimed on its
 * own engine. They may complete in any order; flushed_id is the highest id
 * with every older one written, whichever thread wrote them, and a cache flush
 * (issued by any thread) covers only writes completed before it was issued:
 * its target is flushed_id then, and it is not issued while a plain write a
 * barrier waits for is claimed or in flight on any thread.
 *
 * Commits: a segment that a barrier waits for (id <= barrier_want when it is
 * taken) is written with FUA when the mode says so (tunable commit_fua,
 * flush_use_fua) and fewer than commit_qd commits are in flight: it is durable
 * when its write completes. Otherwise it is written plainly, and a cache-device
 * flush, issued once every plain segment a barrier waits for is written,
 * makes everything written before it durable (its target: flushed_id when it
 * was issued). Up to commit_qd commits (FUA writes and flushes) are in flight.
 * durable_id advances strictly in id order (flush_advance): over segments
 * covered by a completed flush or written with FUA, never past a segment that
 * is neither, so a later segment's commit never makes an older one durable.
 *
 * Sealing and waiting for durability (barriers) are in write.c: the worker
 * learns of work through cv_flush and never calls back up.
 */
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"
#include "util/crc32c.h"

enum flush_req_state {
	FR_FREE = 0,
	FR_PENDING, /* prepared, to be queued */
	FR_CLAIMED, /* a worker thread queues it on its engine, until it is done */
};

struct flush_req {
	struct rawio_req r;
	uint64_t id;	 /* segment id; 0 for the cache flush */
	uint64_t target; /* flush: flushed_id when it was issued */
	unsigned tries;
	uint32_t nr_blocks; /* of the segment, taken at prepare */
	uint8_t flags;
	uint8_t state;
	bool need_crc; /* prepared under the lock; crc and header not made yet */
	bool counted;  /* one of c->commits until it completes */
	uint64_t submit_ns;
};

/* The flush workers' shared state beside c's (c->flush; under c->lock). */
struct flush_ctx {
	struct rawio_cache *c;
	struct flush_req *fr; /* nr_seg segment writes, then nr_sync cache flushes */
	unsigned nr_seg, nr_sync, nreq;
	uint8_t *fua;	      /* per slot: its segment was (is being) written with FUA */
	bool can_fua;	      /* the engine takes RAWIO_REQ_FUA */
	bool auto_fua;	      /* commit_fua auto resolves to FUA on this device */
	uint64_t sync_issued; /* highest target of a flush issued */
	uint64_t sync_done;   /* highest target of a flush completed */
	unsigned io;	      /* FUA writes and cache flushes in flight (or pending) */
	/* The pipeline's profile (c->st.seg_*): segment writes in flight, since last_ns. */
	unsigned seg_inflight;
	uint64_t last_ns;
};

/* Segment writes in flight change at NOW: integrate the old count up to it. */
static void flush_tick(struct flush_ctx *f, uint64_t now)
{
	if (f->seg_inflight) {
		f->c->st.seg_depth_ns += f->seg_inflight * (now - f->last_ns);
		f->c->st.seg_busy_ns += now - f->last_ns;
	}
	f->last_ns = now;
}

/* A worker took segment write FR to queue it on its engine. Lock held. */
static void flush_submitted(struct flush_ctx *f, struct flush_req *fr)
{
	uint64_t now = rawio_now_ns();

	flush_tick(f, now);
	f->seg_inflight++;
	f->c->st.seg_wait_ns += now - f->c->segs[fr->id % f->c->g.nr_segments].sealed_ns;
	fr->submit_ns = now;
}

static bool flush_use_fua(const struct flush_ctx *f)
{
	const struct rawio_cache *c = f->c;

	if (!f->can_fua || c->tun.commit_fua == RAWIO_CACHE_FUA_OFF)
		return false;
	return c->tun.commit_fua == RAWIO_CACHE_FUA_ON || f->auto_fua;
}

static void flush_futex_wake(uint32_t *word)
{
	__atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST);
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/*
 * The sleepers' side is cache_wait_durable (write.c): it reads the word, then
 * durable_id, then sleeps while the word is unchanged. Seq-cst on both sides: we
 * store durable_id before we bump the word, so a sleeper that read the old word
 * either sees the new durable_id or finds the word changed and does not sleep.
 */
void cache_durable_set(struct rawio_cache *c, uint64_t id)
{
	uint64_t was = c->durable_id, now = rawio_now_ns();
	/* Past CACHE_DURABLE_WORDS ids every word has been touched once. */
	uint64_t last = id - was > CACHE_DURABLE_WORDS ? was + CACHE_DURABLE_WORDS : id;

	for (uint64_t i = was + 1; i <= last; i++)
		__atomic_store_n(&c->durable_ns[i % CACHE_DURABLE_WORDS], now, __ATOMIC_RELAXED);
	__atomic_store_n(&c->durable_id, id, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->durable_sleepers, __ATOMIC_SEQ_CST))
		for (uint64_t i = was + 1; i <= last; i++)
			flush_futex_wake(&c->durable_word[i % CACHE_DURABLE_WORDS]);
	pthread_cond_broadcast(&c->cv_durable); /* drain and close wait there, locked */
}

void cache_durable_wake_all(struct rawio_cache *c)
{
	if (__atomic_load_n(&c->durable_sleepers, __ATOMIC_SEQ_CST))
		for (unsigned i = 0; i < CACHE_DURABLE_WORDS; i++)
			flush_futex_wake(&c->durable_word[i]);
}

void cache_durable_wake_id(struct rawio_cache *c, uint64_t id)
{
	if (__atomic_load_n(&c->durable_sleepers, __ATOMIC_SEQ_CST))
		flush_futex_wake(&c->durable_word[id % CACHE_DURABLE_WORDS]);
}

/*
 * Advance durable_id in id order over segments covered by a completed flush or
 * written with FUA, and wake whoever waits for durability. Lock held.
 */
static void flush_advance(struct flush_ctx *f)
{
	struct rawio_cache *c = f->c;
	uint64_t id = c->durable_id;

	if (f->sync_done > id)
		id = f->sync_done;
	while (id < c->flushed_id && f->fua[(id + 1) % c->g.nr_segments])
		id++;
	if (id != c->durable_id)
		cache_durable_set(c, id);
	/* Not at every completion: a migrate worker with nothing to do woke for the lock. */
	if (cache_migrate_wanted(c, rawio_now_ns()))
		pthread_cond_signal(&c->cv_migrate);
}

/* A commit left c->commits (done, or dropped after an error). */
static void flush_uncount(struct flush_ctx *f, struct flush_req *fr)
{
	if (fr->counted) {
		fr->counted = false;
		f->c->commits--;
		if (!fr->id)
			f->c->syncs--;
		if (!fr->id || (fr->r.flags & RAWIO_REQ_FUA))
			f->io--;
	}
}

/*
 * Take sealed segment ID for writing: what its header needs, and the request.
 * Lock held. The crc and the header are made by flush_crc, unlocked.
 */
static void flush_prepare(struct rawio_cache *c, struct flush_req *fr, uint64_t id)
{
	uint64_t slot = id % c->g.nr_segments;
	const struct cache_seg *s = &c->segs[slot];

	fr->id = id;
	fr->nr_blocks = s->nr_blocks;
	fr->flags = s->flags;
	fr->need_crc = true;
	fr->r = (struct rawio_req){
		.op = RAWIO_OP_WRITE,
		.buf = s->buf->mem,
		.len = (1 + (uint64_t)s->nr_blocks) * CACHE_BLOCK,
		.off = cache_seg_dev_off(&c->g, slot),
	};
}

/*
 * Header and data crc of the segment FR writes, into its buffer's header
 * block, once the copies into it still in flight are made. Runs without
 * c->lock: the segment is sealed, so nothing writes its data blocks, blk[] or
 * mask[] entries any more (writers only touch the open
 * segment; a newer copy of a block goes to the open segment, reading the
 * sealed one at most), its slot is not reused before it is written and
 * migrated, and its buffer is ours until flush_complete frees it. Readers
 * copy data blocks from the buffer under the lock, never the header block we
 * write here. The lock taken after cache_seal orders the seal's writes before
 * these reads.
 */
static void flush_crc(struct rawio_cache *c, struct flush_req *fr)
{
	uint64_t slot = fr->id % c->g.nr_segments;
	struct cache_seg_hdr h = {
		.id = fr->id,
		.nr_blocks = fr->nr_blocks,
		.flags = fr->flags,
		.written_ns = clock_realtime_ns(),
	};
	char *mem = fr->r.buf;
	const uint32_t *copies = &c->segs[slot].copies;

	if (__atomic_load_n(copies, __ATOMIC_ACQUIRE)) {
		uint64_t t0 = rawio_now_ns();

		/* Writers that reserved its last blocks are still copying (write.c). */
		pthread_mutex_lock(&c->lock);
		cache_wait_copied(c, NULL, copies);
		c->st.seg_copy_wait_ns += rawio_now_ns() - t0;
		pthread_mutex_unlock(&c->lock);
	}
	h.data_crc = rawio_crc32c(0, mem + CACHE_BLOCK, (size_t)h.nr_blocks * CACHE_BLOCK);
	cache_seg_hdr_encode(mem, &c->g, &h, &c->blk[slot * c->bps], &c->mask[slot * c->bps]);
	fr->need_crc = false;
}

/*
 * The open segment has had no write for seal_idle_ms: seal it (true). Else
 * *DUE gets when to look again (0: no open segment or the tunable is 0, wait
 * for a signal). Lock held.
 */
static bool flush_idle_seal(struct rawio_cache *c, uint64_t *due)
{
	uint64_t idle = c->tun.seal_idle_ms * 1000000ull, now;
	const struct cache_seg *s;

	*due = 0;
	if (!idle || c->open_slot < 0 || c->error)
		return false;
	s = &c->segs[c->open_slot];
	now = rawio_now_ns();
	if (!s->nr_blocks) {
		*due = now + idle; /* a writer is filling it: look again later */
		return false;
	}
	if (now < c->last_write_ns + idle) {
		*due = c->last_write_ns + idle;
		return false;
	}
	c->st.idle_seals++;
	cache_seal(c, false);
	return true;
}

/* A request finished. Lock held. */
static void flush_complete(struct flush_ctx *f, struct flush_req *fr)
{
	struct rawio_cache *c = f->c;
	int64_t res = fr->r.result;
	bool ok = fr->id ? res >= 0 && (uint64_t)res == fr->r.len : res >= 0;

	if (fr->id) {
		uint64_t now = rawio_now_ns();

		flush_tick(f, now);
		f->seg_inflight--;
		c->st.seg_write_ns += now - fr->submit_ns;
	}
	if (!ok) {
		if (fr->id)
			c->st.segment_write_errors++;
		if (++fr->tries < CACHE_IO_RETRIES && !c->error) {
			fr->state = FR_PENDING; /* queued again after a pause */
			return;
		}
		cache_fail(c, res < 0 ? (int)res : -EIO);
		fr->state = FR_FREE;
		flush_uncount(f, fr);
		return;
	}
	fr->state = FR_FREE;
	flush_uncount(f, fr);
	if (!fr->id) {
		c->st.cache_flushes++;
		if (fr->target > f->sync_done)
			f->sync_done = fr->target;
		flush_advance(f);
		return;
	}
	{
		struct cache_seg *s = &c->segs[fr->id % c->g.nr_segments];

		s->written = true;
		s->state = SEG_DIRTY;
		s->buf->next = c->free_bufs;
		c->free_bufs = s->buf;
		s->buf = NULL;
		c->st.segments_flushed++;
		c->st.segments_fua += (fr->r.flags & RAWIO_REQ_FUA) != 0;
		c->st.segment_blocks += s->nr_blocks;
		c->st.segment_bytes += fr->r.len;
		pthread_cond_broadcast(&c->cv_space);
	}
	while (c->flushed_id < c->last_sealed) {
		const struct cache_seg *n = &c->segs[(c->flushed_id + 1) % c->g.nr_segments];

		if (n->id != c->flushed_id + 1 || !n->written)
			break;
		c->flushed_id++;
	}
	flush_advance(f);
}

/*
 * Take sealed segments into free requests, in id order, and choose how each
 * is written: with FUA when a barrier waits for it, the mode says FUA and a
 * commit may start (a segment sealed for a barrier is counted already). Lock
 * held.
 */
static void flush_take(struct flush_ctx *f)
{
	struct rawio_cache *c = f->c;
	bool use_fua = flush_use_fua(f);

	for (unsigned i = 0; i < f->nr_seg && !c->error && c->next_issue <= c->last_sealed; i++) {
		struct flush_req *fr = &f->fr[i];
		uint64_t id, slot;
		bool fua;

		if (fr->state != FR_FREE)
			continue;
		id = c->next_issue++;
		slot = id % c->g.nr_segments;
		flush_prepare(c, fr, id);
		fr->state = FR_PENDING;
		fr->tries = 0;
		fr->counted = c->segs[slot].flags & CACHE_SEG_F_BARRIER;
		fua = use_fua && id <= c->barrier_want &&
		      (fr->counted || c->commits < c->tun.commit_qd);
		if (fua && !fr->counted) {
			fr->counted = true;
			c->commits++;
		}
		if (fua) {
			fr->r.flags = RAWIO_REQ_FUA;
			f->io++;
		}
		f->fua[slot] = fua;
	}
}

/*
 * A cache-device flush is due when a barrier waits for a segment written
 * plainly that no flush issued covers, and no plain write a barrier waits for
 * is still in flight (one flush then covers them all). Lock held.
 */
static bool flush_sync_due(const struct flush_ctx *f)
{
	const struct rawio_cache *c = f->c;
	uint64_t lo = c->durable_id > f->sync_issued ? c->durable_id : f->sync_issued;
	uint64_t hi = c->flushed_id < c->barrier_want ? c->flushed_id : c->barrier_want;
	bool plain = false;

	/* Plain segment writes, counted from their barrier's seal, do not hold a flush back. */
	if (c->error || c->barrier_want <= c->durable_id || f->io >= c->tun.commit_qd)
		return false;
	for (uint64_t id = lo + 1; id <= hi && !plain; id++)
		plain = !f->fua[id % c->g.nr_segments];
	if (!plain)
		return false;
	if (c->flushed_id >= c->barrier_want)
		return true;
	for (unsigned i = 0; i < f->nr_seg; i++) {
		const struct flush_req *fr = &f->fr[i];

		if (fr->state != FR_FREE && fr->id <= c->barrier_want &&
		    !(fr->r.flags & RAWIO_REQ_FUA))
			return false;
	}
	return true;
}

int cache_flush_init(struct rawio_cache *c)
{
	struct flush_ctx *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*f = (struct flush_ctx){ .c = c, .nr_seg = c->nr_bufs, .nr_sync = RAWIO_CACHE_COMMIT_MAX };
	f->nreq = f->nr_seg + f->nr_sync;
	f->fr = calloc(f->nreq, sizeof(*f->fr));
	f->fua = calloc(c->g.nr_segments, 1);
	if (!f->fr || !f->fua) {
		free(f->fr);
		free(f->fua);
		free(f);
		return -ENOMEM;
	}
	f->auto_fua = rawio_dev_fua_cheap(c->cinfo);
	f->sync_issued = f->sync_done = c->durable_id;
	c->flush = f;
	return 0;
}

void cache_flush_fini(struct rawio_cache *c)
{
	struct flush_ctx *f = c->flush;

	if (!f)
		return;
	free(f->fr);
	free(f->fua);
	free(f);
	c->flush = NULL;
}

/*
 * One flush worker thread. Each claims pending requests under the lock, makes
 * their crc and queues them on its own engine, and reaps only its own; a thread
 * with nothing in flight waits on cv_flush, so a segment sealed while the
 * others wait for completions is taken at once.
 */
void *cache_flush_main(void *arg)
{
	struct rawio_cache *c = arg;
	struct flush_ctx *f = c->flush;
	unsigned inflight = 0;
	struct rawio_req **done = NULL;
	struct flush_req **mine = NULL;
	struct rawio_engine *e = NULL;
	int ret;

	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), RAWIO_CACHE_FLUSH_NICE); /* best effort */
	done = calloc(f->nreq, sizeof(*done));
	mine = calloc(f->nreq, sizeof(*mine));
	ret = done && mine ? cache_engine_open_cl(c, false, CACHE_CL_FLUSH, f->nreq, &e) : -ENOMEM;
	pthread_mutex_lock(&c->lock);
	if (ret) {
		cache_fail(c, ret);
		goto out;
	}
	/* Stacked engines (fault, throttle, sched) pass the flag to the one below. */
	f->can_fua = rawio_engine_caps(e) & (RAWIO_CAP_FUA | RAWIO_CAP_STACKED);
	for (;;) {
		unsigned nmine = 0, queued = 0, retrying = 0; /* most tries of a claimed request */
		unsigned crc_left = 0; /* claimed segments without a crc yet */
		int n;

		flush_take(f);
		while (flush_sync_due(f)) {
			struct flush_req *sync = NULL;

			for (unsigned i = f->nr_seg; i < f->nreq && !sync; i++)
				if (f->fr[i].state == FR_FREE)
					sync = &f->fr[i];
			if (!sync)
				break;
			*sync = (struct flush_req){ .state = FR_PENDING,
						    .target = c->flushed_id,
						    .counted = true,
						    .r = { .op = RAWIO_OP_FDATASYNC } };
			c->commits++;
			c->syncs++;
			f->io++;
			f->sync_issued = c->flushed_id;
		}
		/*
		 * Room for a commit, and barriers wait in the open segment for it: wake them
		 * (only them: their id's word); the first to take the lock seals. Sealing here
		 * instead, at once, measured a worse pair p99 at 32 writers (docs/perf.md, sixth
		 * session): the writers just woken by the commit no longer join the group.
		 */
		if (c->open_slot >= 0 && c->barrier_since_ns && !c->error &&
		    cache_commits_busy(c) < c->tun.commit_qd)
			cache_durable_wake_id(c, c->segs[c->open_slot].id);
		for (unsigned i = 0; i < f->nreq; i++) {
			struct flush_req *fr = &f->fr[i];

			if (fr->state != FR_PENDING)
				continue;
			if (c->error) {
				fr->state = FR_FREE; /* nothing more goes down */
				flush_uncount(f, fr);
				continue;
			}
			fr->state = FR_CLAIMED;
			mine[nmine++] = fr;
			crc_left += fr->need_crc;
			if (fr->id)
				flush_submitted(f, fr);
			if (fr->tries > retrying)
				retrying = fr->tries;
		}
		if (!nmine && !inflight) {
			uint64_t due;
			struct timespec ts;

			if (c->stopping)
				break;
			if (flush_idle_seal(c, &due))
				continue;
			if (!due) {
				pthread_cond_wait(&c->cv_flush, &c->lock);
				continue;
			}
			ts.tv_sec = (time_t)(due / 1000000000ull);
			ts.tv_nsec = (long)(due % 1000000000ull);
			pthread_cond_timedwait(&c->cv_flush, &c->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		if (retrying)
			usleep(500u << retrying); /* a failed I/O: pause 1, 2, 4, 8 ms, retry */
		ret = 0;
		for (; queued < nmine && !ret; queued++) {
			struct flush_req *fr = mine[queued];
			int q;

			if (fr->need_crc) {
				flush_crc(c, fr); /* a new segment's crc, unlocked */
				crc_left--;
			}
			fr->r.user_data = fr;
			q = rawio_engine_queue(e, &fr->r);
			if (q == RAWIO_Q_BUSY)
				break; /* back to pending below: reap, then queue it again */
			if (q < 0)
				fr->r.result = q;
			if (q == RAWIO_Q_QUEUED) {
				/* It stays FR_CLAIMED (ours) until done: other workers read the
				 * state under the lock, and we hold none here. */
				inflight++;
				/* On its way while we make the next one's crc. */
				if (crc_left)
					ret = rawio_engine_commit(e);
				continue;
			}
			/* Done at once (or failed): complete it now. */
			pthread_mutex_lock(&c->lock);
			flush_complete(f, fr);
			pthread_mutex_unlock(&c->lock);
		}
		if (!ret)
			ret = rawio_engine_commit(e);
		{
			uint64_t t0 = rawio_now_ns();
			bool room = false;

			n = inflight && !ret ? rawio_engine_reap(e, done, 1, f->nreq) : 0;
			pthread_mutex_lock(&c->lock);
			for (unsigned i = 0; i < f->nr_seg && !room; i++)
				room = f->fr[i].state == FR_FREE;
			if (room && c->next_issue <= c->last_sealed) {
				uint64_t sealed =
					c->segs[c->next_issue % c->g.nr_segments].sealed_ns;
				uint64_t now = rawio_now_ns();

				c->st.seg_reap_wait_ns += now - (sealed > t0 ? sealed : t0);
			}
		}
		/* Claimed but not queued (busy engine, or an error): pending again, or dropped. */
		for (; queued < nmine; queued++) {
			struct flush_req *fr = mine[queued];

			if (fr->id)
				f->seg_inflight--;
			fr->state = ret || n < 0 ? FR_FREE : FR_PENDING;
			if (fr->state == FR_FREE)
				flush_uncount(f, fr);
		}
		if (ret || n < 0) {
			cache_fail(c, ret ? ret : n);
			break;
		}
		for (int i = 0; i < n; i++) {
			inflight--;
			flush_complete(f, done[i]->user_data);
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	rawio_engine_close(e); /* waits for anything still in flight */
	free(mine);
	free(done);
	return NULL;
}
