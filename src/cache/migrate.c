// SPDX-License-Identifier: MIT
/*
 * The migrate worker: write-back in batches (seed 002's batched migration).
 *
 * A batch is the oldest K durable dirty segments, K = nr_batched_migration.
 * For each backing block they hold, only the newest copy is written: a copy
 * superseded by a newer one in a later segment is skipped when that later
 * segment is durable (it carries every dirty sector, and will be written back
 * in its turn), and written anyway when it is not (a crash could lose the
 * newer copy, and then this one must be on the backing device before its
 * slot is reused). The blocks are sorted by backing offset, read from the
 * cache device in log order (a segment's blocks lie together there, so a
 * batch of K segments is about K large reads, not one read per block), partly
 * dirty ones completed from the backing device, adjacent ones merged into
 * larger writes, written at full queue depth, then the
 * backing device is flushed, and only then the superblock record says the
 * batch is written back (FUA) and its slots become reusable.
 *
 * A block is written back from where the log read put it (the stage): only
 * the blocks of a merged write whose log places are not consecutive are
 * copied together. Copying the whole chunk into backing order cost a batch of
 * 32 segments more than its backing writes on this VM (page faults on 16 MiB
 * touched for the first time, perf: exc_page_fault and the copy loop in
 * cache_migrate_main, 60% of the drain's read phase).
 *
 * A failed read, write or flush fails the batch, which is retried after a
 * pause that grows with each failure (10 ms to 1 s), for ever: nothing is
 * marked clean that is not on the backing device.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_impl.h"

#define MIG_CHUNK_BLOCKS 4096u /* blocks read and written per step of a batch (16 MiB) */
#define MIG_MAX_WRITE	 256u  /* blocks merged into one backing write (1 MiB) */

struct mig_blk {
	uint64_t block;
	uint64_t loc;
	uint64_t id;
	uint8_t mask;
};

/* A block of a chunk by its place in the cache log. */
struct mig_ord {
	uint64_t off; /* on the cache device */
	unsigned j;   /* index in the chunk (backing order) */
};

struct mig_ctx {
	struct rawio_cache *c;
	struct rawio_engine *ce, *be;
	char *data, *aux,
		*rec;	     /* merged writes' blocks, backing data of partial blocks, a record */
	char *stage;	     /* the chunk as read from the cache device, in log order */
	struct mig_ord *ord; /* MIG_CHUNK_BLOCKS */
	unsigned *pos;	     /* MIG_CHUNK_BLOCKS: block j of the chunk is at stage + pos[j] */
	struct rawio_batch_io *ios; /* MIG_CHUNK_BLOCKS */
	unsigned chunk;		    /* blocks per chunk */
	struct mig_blk *blks;
	size_t cap;
	bool stuck; /* writes the engine could not give back still own the buffers */
	/* this batch */
	uint64_t writes, rmw, bytes;
	uint64_t read_ns, write_ns, inflight_ns, flush_ns;
};

static int mig_blk_cmp(const void *a, const void *b)
{
	const struct mig_blk *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return x->id > y->id ? -1 : x->id < y->id; /* newest first */
}

bool cache_migrate_wanted(const struct rawio_cache *c, uint64_t now)
{
	uint64_t n = c->g.nr_segments, dirty = c->last_sealed - c->last_migrated;
	uint64_t used = c->next_id - 1 - c->last_migrated, pct;

	if (!dirty)
		return false;
	if (c->drainers || (c->space_waiters && c->next_id > c->last_migrated + n))
		return true; /* whatever allow_migrate says: never deadlock a full cache */
	if (!c->tun.allow_migrate)
		return false;
	if (n - used <= c->nr_bufs)
		return true; /* about to stall writers */
	pct = dirty * 100 / n;
	if (pct >= c->tun.high_watermark)
		return true;
	return pct > c->tun.low_watermark && now - c->last_write_ns >= CACHE_IDLE_NS;
}

/* The blocks of segments [FIRST, LAST] to write back; durable up to D. Lock held. */
static int migrate_collect(struct mig_ctx *m, uint64_t first, uint64_t last, uint64_t d,
			   size_t *out_n, uint64_t *skipped)
{
	struct rawio_cache *c = m->c;
	size_t n = 0, want = (size_t)(last - first + 1) * c->bps;

	if (want > m->cap) {
		struct mig_blk *p = realloc(m->blks, want * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->blks = p;
		m->cap = want;
	}
	*skipped = 0;
	for (uint64_t id = first; id <= last; id++) {
		uint64_t slot = id % c->g.nr_segments;
		const struct cache_seg *s = &c->segs[slot];

		for (uint32_t i = 0; i < s->nr_blocks; i++) {
			uint64_t loc = slot * c->bps + i, b = c->blk[loc];
			int64_t e = cache_index_get(&c->ix, b);
			uint64_t eid;

			if (e == (int64_t)loc)
				goto take;
			if (e < 0)
				continue; /* discarded */
			eid = c->segs[cache_loc_slot(c, (uint64_t)e)].id;
			if (eid > last && eid > d)
				goto take; /* the newer copy is not durable yet */
			(*skipped)++;
			continue;
		take:
			m->blks[n++] = (struct mig_blk){
				.block = b, .loc = loc, .id = id, .mask = c->mask[loc]
			};
		}
	}
	/* Newest copy of each block first; drop the older ones. */
	qsort(m->blks, n, sizeof(*m->blks), mig_blk_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			if (k && m->blks[k - 1].block == m->blks[i].block) {
				(*skipped)++;
				continue;
			}
			m->blks[k++] = m->blks[i];
		}
		n = k;
	}
	*out_n = n;
	return 0;
}

static int mig_ord_cmp(const void *a, const void *b)
{
	const struct mig_ord *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Read the blocks B[0..N) from the cache device into the stage, block j at
 * m->pos[j]. In backing order the blocks lie all over the log and merge hardly
 * ever (one 4 KiB read per block); in log order a segment's live blocks are one
 * run. So read in log order, merged.
 */
static int migrate_read_cache(struct mig_ctx *m, const struct mig_blk *b, unsigned n)
{
	struct rawio_cache *c = m->c;
	struct rawio_batch_io *ios = m->ios;
	size_t ni = 0;
	int ret;

	for (unsigned j = 0; j < n; j++)
		m->ord[j] = (struct mig_ord){ .off = cache_loc_off(c, b[j].loc), .j = j };
	qsort(m->ord, n, sizeof(*m->ord), mig_ord_cmp);
	for (unsigned k = 0; k < n; k++) {
		uint64_t off = m->ord[k].off;

		if (ni && ios[ni - 1].off + ios[ni - 1].len == off &&
		    ios[ni - 1].len < MIG_MAX_WRITE * CACHE_BLOCK) {
			ios[ni - 1].len += CACHE_BLOCK;
			continue;
		}
		ios[ni++] = (struct rawio_batch_io){ .off = off,
						     .len = CACHE_BLOCK,
						     .buf = m->stage + (size_t)k * CACHE_BLOCK };
	}
	ret = cache_run(m->ce, ios, ni, false);
	if (ret)
		return ret;
	for (unsigned k = 0; k < n; k++)
		m->pos[m->ord[k].j] = k;
	return 0;
}

static char *mig_stage_blk(const struct mig_ctx *m, unsigned j)
{
	return m->stage + (size_t)m->pos[j] * CACHE_BLOCK;
}

/* Write back blocks B[0..N) (sorted), one chunk. */
static int migrate_chunk(struct mig_ctx *m, const struct mig_blk *b, unsigned n)
{
	struct rawio_batch_io *ios = m->ios;
	size_t ni = 0, dn = 0;
	uint64_t t0 = rawio_now_ns(), t1;
	int ret;

	ret = migrate_read_cache(m, b, n);
	if (ret)
		return ret;

	/* Partly dirty blocks: the rest of the block from the backing device. */
	ni = 0;
	for (unsigned j = 0; j < n; j++) {
		uint64_t off = b[j].block * CACHE_BLOCK;
		char *dst = m->aux + (size_t)j * CACHE_BLOCK;

		if (b[j].mask == CACHE_FULL_MASK)
			continue;
		m->rmw++;
		if (ni && ios[ni - 1].off + ios[ni - 1].len == off &&
		    (char *)ios[ni - 1].buf + ios[ni - 1].len == dst) {
			ios[ni - 1].len += CACHE_BLOCK;
			continue;
		}
		ios[ni++] = (struct rawio_batch_io){ .off = off, .len = CACHE_BLOCK, .buf = dst };
	}
	ret = cache_run(m->be, ios, ni, false);
	if (ret)
		return ret;
	for (unsigned j = 0; j < n; j++) {
		char *d = mig_stage_blk(m, j), *a = m->aux + (size_t)j * CACHE_BLOCK;

		if (b[j].mask == CACHE_FULL_MASK)
			continue;
		for (unsigned s = 0; s < CACHE_SECTORS; s++)
			if (!(b[j].mask & (1u << s)))
				memcpy(d + s * CACHE_SECTOR, a + s * CACHE_SECTOR, CACHE_SECTOR);
	}

	/*
	 * Backing writes: runs of adjacent blocks become one write, from the
	 * stage where their log places are consecutive too (written in order),
	 * else from their copies side by side in m->data.
	 */
	ni = 0;
	for (unsigned j = 0, run; j < n; j += run) {
		bool in_stage = true;

		for (run = 1; j + run < n && run < MIG_MAX_WRITE &&
			      b[j + run].block == b[j + run - 1].block + 1;
		     run++)
			in_stage = in_stage && m->pos[j + run] == m->pos[j + run - 1] + 1;
		ios[ni] = (struct rawio_batch_io){ .off = b[j].block * CACHE_BLOCK,
						   .len = (uint64_t)run * CACHE_BLOCK,
						   .buf = mig_stage_blk(m, j) };
		if (!in_stage) {
			ios[ni].buf = m->data + dn * CACHE_BLOCK;
			for (unsigned k = 0; k < run; k++, dn++)
				memcpy(m->data + dn * CACHE_BLOCK, mig_stage_blk(m, j + k),
				       CACHE_BLOCK);
		}
		ni++;
	}
	m->writes += ni;
	m->bytes += (uint64_t)n * CACHE_BLOCK;
	t1 = rawio_now_ns();
	m->read_ns += t1 - t0;
	/* Time in flight summed over the writes / write_ns: the mean number in flight. */
	ret = cache_run(m->be, ios, ni, true);
	m->write_ns += rawio_now_ns() - t1;
	for (size_t i = 0; i < ni; i++)
		m->inflight_ns += ios[i].ns;
	/* Writes the engine could not give back still own the stage: never reuse it. */
	if (ret && rawio_engine_inflight(m->be))
		m->stuck = true;
	return ret;
}

static int migrate_batch(struct mig_ctx *m, size_t n, uint64_t last, uint64_t seq)
{
	struct rawio_cache *c = m->c;
	struct cache_rec rec = { .seq = seq, .last_migrated = last };
	struct rawio_req r;
	int64_t res;
	int ret;

	uint64_t t0;

	m->writes = m->rmw = m->bytes = 0;
	m->read_ns = m->write_ns = m->inflight_ns = m->flush_ns = 0;
	for (size_t i = 0; i < n; i += m->chunk) {
		unsigned cn = n - i < m->chunk ? (unsigned)(n - i) : m->chunk;

		if (__atomic_load_n(&c->stopping, __ATOMIC_RELAXED))
			return -ECANCELED;
		ret = migrate_chunk(m, m->blks + i, cn);
		if (ret)
			return ret;
	}
	/* Everything written back is on stable storage before the record says so. */
	t0 = rawio_now_ns();
	r = (struct rawio_req){ .op = RAWIO_OP_FDATASYNC };
	res = rawio_engine_run1(m->be, &r);
	if (res < 0)
		return (int)res;
	pthread_mutex_lock(&c->lock);
	c->st.backing_flushes++;
	pthread_mutex_unlock(&c->lock);
	rec.written_ns = clock_realtime_ns();
	cache_rec_encode(m->rec, &c->g, &rec);
	r = (struct rawio_req){ .op = RAWIO_OP_WRITE,
				.flags = RAWIO_REQ_FUA,
				.buf = m->rec,
				.len = CACHE_BLOCK,
				.off = CACHE_REC_OFF + ((seq - 1) % 2) * CACHE_BLOCK };
	res = rawio_engine_run1(m->ce, &r);
	if (res >= 0 && res != CACHE_BLOCK)
		res = -EIO;
	m->flush_ns = rawio_now_ns() - t0;
	return res < 0 ? (int)res : 0;
}

static void migrate_wait(struct rawio_cache *c, uint64_t ns)
{
	struct timespec ts;
	uint64_t t = rawio_now_ns() + ns;

	ts.tv_sec = (time_t)(t / 1000000000ull);
	ts.tv_nsec = (long)(t % 1000000000ull);
	pthread_cond_timedwait(&c->cv_migrate, &c->lock, &ts);
}

static int migrate_setup(struct mig_ctx *m)
{
	struct rawio_cache *c = m->c;
	uint64_t blocks = c->g.nr_segments * c->bps;
	int ret;

	m->chunk = blocks < MIG_CHUNK_BLOCKS ? (unsigned)blocks : MIG_CHUNK_BLOCKS;
	/*
	 * Not zeroed: every byte is read (or copied) into before it is used, and
	 * zeroing the chunk buffers when the thread starts cost the first second
	 * after an open 1.3 us of CPU per write (perf, the absorb benchmark).
	 * Pages are touched as batches use them instead.
	 */
	m->data = rawio_buf_alloc_uninit((size_t)m->chunk * CACHE_BLOCK, CACHE_BLOCK);
	m->aux = rawio_buf_alloc_uninit((size_t)m->chunk * CACHE_BLOCK, CACHE_BLOCK);
	m->stage = rawio_buf_alloc_uninit((size_t)m->chunk * CACHE_BLOCK, CACHE_BLOCK);
	m->rec = rawio_buf_alloc(CACHE_BLOCK, CACHE_BLOCK);
	m->ios = calloc(m->chunk, sizeof(*m->ios));
	m->ord = calloc(m->chunk, sizeof(*m->ord));
	m->pos = calloc(m->chunk, sizeof(*m->pos));
	if (!m->data || !m->aux || !m->stage || !m->rec || !m->ios || !m->ord || !m->pos)
		return -ENOMEM;
	ret = cache_engine_open_cl(c, false, CACHE_CL_MIGRATE, c->migrate_qd, &m->ce);
	if (!ret)
		ret = cache_engine_open_cl(c, true, CACHE_CL_MIGRATE, c->migrate_qd, &m->be);
	return ret;
}

static void migrate_teardown(struct mig_ctx *m)
{
	if (m->stuck)
		return; /* leak: the engine may still write from our buffers */
	rawio_engine_close(m->be);
	rawio_engine_close(m->ce);
	free(m->pos);
	free(m->ord);
	free(m->ios);
	free(m->blks);
	rawio_buf_free(m->rec);
	rawio_buf_free(m->stage);
	rawio_buf_free(m->aux);
	rawio_buf_free(m->data);
}

/* Make segments up to flushed_id durable ourselves (the flush worker syncs for barriers only). */
static int migrate_sync_cache(struct mig_ctx *m)
{
	struct rawio_cache *c = m->c;
	uint64_t target = c->flushed_id;
	struct rawio_req r = { .op = RAWIO_OP_FDATASYNC };
	int64_t res;

	pthread_mutex_unlock(&c->lock);
	res = rawio_engine_run1(m->ce, &r);
	pthread_mutex_lock(&c->lock);
	if (res < 0)
		return (int)res;
	c->st.cache_flushes++;
	if (target > c->durable_id)
		cache_durable_set(c, target);
	return 0;
}

static void migrate_failed(struct rawio_cache *c, int err)
{
	uint64_t pause = 10ull * 1000 * 1000;

	c->st.migrate_errors++;
	c->migrate_fail_streak++;
	c->migrate_err = err;
	pthread_cond_broadcast(&c->cv_clean);
	pthread_cond_broadcast(&c->cv_space);
	for (unsigned i = 1; i < c->migrate_fail_streak && pause < 1000ull * 1000 * 1000; i++)
		pause *= 2;
	if (!c->stopping)
		migrate_wait(c, pause);
}

void *cache_migrate_main(void *arg)
{
	struct mig_ctx m = { .c = arg };
	struct rawio_cache *c = m.c;
	int ret;

	ret = migrate_setup(&m);
	pthread_mutex_lock(&c->lock);
	if (ret) {
		cache_fail(c, ret);
		goto out;
	}
	while (!c->stopping) {
		uint64_t first = c->last_migrated + 1, last, k, skipped, t0;
		size_t n;

		if (!cache_migrate_wanted(c, rawio_now_ns())) {
			migrate_wait(c, CACHE_IDLE_NS);
			continue;
		}
		k = c->flushed_id >= first ? c->flushed_id - first + 1 : 0;
		if (k > c->tun.nr_batched_migration)
			k = c->tun.nr_batched_migration;
		if (!k) {
			migrate_wait(c, CACHE_IDLE_NS); /* the flush worker will signal */
			continue;
		}
		if (c->durable_id < first + k - 1) {
			ret = migrate_sync_cache(&m);
			if (ret)
				migrate_failed(c, ret);
			continue;
		}
		last = first + k - 1;
		ret = migrate_collect(&m, first, last, c->durable_id, &n, &skipped);
		if (ret) {
			migrate_failed(c, ret);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		t0 = rawio_now_ns();
		ret = migrate_batch(&m, n, last, c->rec_seq + 1);
		pthread_mutex_lock(&c->lock);
		if (m.stuck) {
			cache_fail(c, ret); /* its buffers are not ours any more */
			break;
		}
		if (ret) {
			if (!c->stopping)
				migrate_failed(c, ret);
			continue;
		}
		c->rec_seq++;
		c->last_migrated = last;
		for (uint64_t id = first; id <= last; id++)
			c->segs[id % c->g.nr_segments].state = SEG_CLEAN;
		c->migrate_fail_streak = 0;
		c->st.migrate_batches++;
		c->st.migrate_segments += k;
		c->st.migrate_blocks += n;
		c->st.migrate_skipped += skipped;
		c->st.migrate_writes += m.writes;
		c->st.migrate_rmw += m.rmw;
		c->st.migrate_bytes += m.bytes;
		c->st.migrate_ns += rawio_now_ns() - t0;
		c->st.migrate_read_ns += m.read_ns;
		c->st.migrate_write_ns += m.write_ns;
		c->st.migrate_inflight_ns += m.inflight_ns;
		c->st.migrate_flush_ns += m.flush_ns;
		if (k > c->st.max_batch_segments)
			c->st.max_batch_segments = k;
		pthread_cond_broadcast(&c->cv_space);
		pthread_cond_broadcast(&c->cv_clean);
	}
out:
	pthread_mutex_unlock(&c->lock);
	migrate_teardown(&m);
	return NULL;
}
