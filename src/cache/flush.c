// SPDX-License-Identifier: MIT
/*
 * The flush worker.
 *
 * Sealed segments are written in id order, up to one per RAM buffer at once,
 * each as one I/O (header block + its data blocks; a partial segment writes
 * only the blocks it has). They may complete in any order; flushed_id is the
 * highest id with every older one written. A barrier is acknowledged when
 * durable_id, advanced only by a cache-device flush issued after flushed_id
 * reached it, covers its segment: group commit, with one flush in flight at a
 * time covering everything written when it was issued.
 *
 * Sealing and waiting for durability (barriers) are in write.c: the worker
 * learns of work through cv_flush and never calls back up.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache_impl.h"
#include "util/crc32c.h"

enum flush_req_state {
	FR_FREE = 0,
	FR_PENDING, /* prepared, to be queued */
	FR_INFLIGHT,
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
};

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
		/* Writers that reserved its last blocks are still copying (write.c). */
		pthread_mutex_lock(&c->lock);
		cache_wait_copied(c, NULL, copies);
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
static void flush_complete(struct rawio_cache *c, struct flush_req *fr, bool *sync_busy)
{
	int64_t res = fr->r.result;
	bool ok = fr->id ? res >= 0 && (uint64_t)res == fr->r.len : res >= 0;

	if (!ok) {
		if (fr->id)
			c->st.segment_write_errors++;
		if (++fr->tries < CACHE_IO_RETRIES && !c->error) {
			fr->state = FR_PENDING; /* queued again after a pause */
			return;
		}
		cache_fail(c, res < 0 ? (int)res : -EIO);
		fr->state = FR_FREE;
		if (!fr->id)
			*sync_busy = false;
		return;
	}
	fr->state = FR_FREE;
	if (!fr->id) {
		*sync_busy = false;
		c->st.cache_flushes++;
		if (fr->target > c->durable_id) {
			c->durable_id = fr->target;
			pthread_cond_broadcast(&c->cv_durable);
			pthread_cond_signal(&c->cv_migrate);
		}
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
	pthread_cond_signal(&c->cv_migrate);
}

void *cache_flush_main(void *arg)
{
	struct rawio_cache *c = arg;
	unsigned nreq = c->nr_bufs + 1, inflight = 0;
	struct flush_req *fr = calloc(nreq, sizeof(*fr)), *sync = NULL;
	struct rawio_req **done = calloc(nreq, sizeof(*done));
	struct rawio_engine *e = NULL;
	bool sync_busy = false;
	int ret;

	ret = fr && done ? cache_engine_open_cl(c, false, CACHE_CL_FLUSH, nreq, &e) : -ENOMEM;
	pthread_mutex_lock(&c->lock);
	if (ret) {
		cache_fail(c, ret);
		goto out;
	}
	sync = &fr[nreq - 1]; /* the last request is the cache flush's */
	for (;;) {
		unsigned pending = 0, retrying = 0; /* most tries of a pending request */
		int n;

		for (unsigned i = 0; i + 1 < nreq && !c->error && c->next_issue <= c->last_sealed;
		     i++) {
			if (fr[i].state != FR_FREE)
				continue;
			fr[i].state = FR_PENDING;
			fr[i].id = c->next_issue++;
			fr[i].tries = 0;
			fr[i].r.buf = NULL; /* prepared below */
		}
		if (!c->error && !sync_busy && c->barrier_want > c->durable_id &&
		    c->flushed_id > c->durable_id) {
			sync_busy = true;
			sync->state = FR_PENDING;
			sync->id = 0;
			sync->tries = 0;
			sync->target = c->flushed_id;
			sync->r = (struct rawio_req){ .op = RAWIO_OP_FDATASYNC };
		}
		for (unsigned i = 0; i < nreq; i++) {
			if (fr[i].state != FR_PENDING)
				continue;
			if (c->error) {
				fr[i].state = FR_FREE; /* nothing more goes down */
				continue;
			}
			pending++;
			if (fr[i].tries > retrying)
				retrying = fr[i].tries;
		}
		if (c->error && sync_busy && sync->state == FR_FREE)
			sync_busy = false;
		if (!pending && !inflight) {
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
		/* Take the new segments under the lock; their crc is made below, unlocked. */
		for (unsigned i = 0; i + 1 < nreq; i++)
			if (fr[i].state == FR_PENDING && !fr[i].r.buf) {
				unsigned tries = fr[i].tries;

				flush_prepare(c, &fr[i], fr[i].id);
				fr[i].tries = tries;
			}
		pthread_mutex_unlock(&c->lock);
		for (unsigned i = 0; i + 1 < nreq; i++)
			if (fr[i].state == FR_PENDING && fr[i].need_crc)
				flush_crc(c, &fr[i]);
		if (retrying)
			usleep(500u << retrying); /* a failed I/O: pause 1, 2, 4, 8 ms, retry */
		for (unsigned i = 0; i < nreq; i++) {
			int q;

			if (fr[i].state != FR_PENDING)
				continue;
			fr[i].r.user_data = &fr[i];
			q = rawio_engine_queue(e, &fr[i].r);
			if (q == RAWIO_Q_BUSY)
				break; /* stays pending: reap, then queue it again */
			if (q < 0)
				fr[i].r.result = q;
			if (q == RAWIO_Q_QUEUED) {
				fr[i].state = FR_INFLIGHT;
				inflight++;
				continue;
			}
			/* Done at once (or failed): complete it below with the others. */
			fr[i].state = FR_INFLIGHT;
			inflight++;
			done[0] = &fr[i].r;
			pthread_mutex_lock(&c->lock);
			inflight--;
			flush_complete(c, &fr[i], &sync_busy);
			pthread_mutex_unlock(&c->lock);
		}
		ret = rawio_engine_commit(e);
		n = inflight ? rawio_engine_reap(e, done, 1, nreq) : 0;
		pthread_mutex_lock(&c->lock);
		if (ret || n < 0) {
			cache_fail(c, ret ? ret : n);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct flush_req *f = done[i]->user_data;

			inflight--;
			flush_complete(c, f, &sync_busy);
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	rawio_engine_close(e); /* waits for anything still in flight */
	free(done);
	free(fr);
	return NULL;
}
