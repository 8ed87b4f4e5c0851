// SPDX-License-Identifier: MIT
/*
 * The slot store: open/close, put/get/delete/list, checkpoints. Format is
 * mkfs.c, recovery recover.c, the I/O helpers io.c, rawio_store_check check.c. Every I/O goes through an engine (never pread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"
#include "util/clock.h"
#include "util/crc32c.h"
#include "util/errbuf.h"

const char *rawio_store_recover_name(enum rawio_store_recover mode)
{
	switch (mode) {
	case RAWIO_STORE_RECOVER_DEFAULT:
		return "default";
	case RAWIO_STORE_RECOVER_SCAN:
		return "scan";
	case RAWIO_STORE_RECOVER_NO_ROLL:
		return "no-roll";
	}
	return "?";
}

const char *rawio_store_barrier_name(enum rawio_store_barrier b)
{
	switch (b) {
	case RAWIO_STORE_BARRIER_AUTO:
		return "auto";
	case RAWIO_STORE_BARRIER_FUA:
		return "fua";
	case RAWIO_STORE_BARRIER_FLUSH:
		return "flush";
	}
	return "?";
}

/*
 * FLUSH (write, then fdatasync) where a FUA write would be a write and a flush
 * anyway (rawio_dev_fua_cheap): one fdatasync after a plain write measured up
 * to 7x faster than RWF_DSYNC on ext4 over virtio-blk (docs/perf.md, "Puts at
 * the limit").
 */
static bool store_put_flush(const struct rawio_store *s)
{
	if (s->opts.barrier != RAWIO_STORE_BARRIER_AUTO)
		return s->opts.barrier == RAWIO_STORE_BARRIER_FLUSH;
	return !rawio_dev_fua_cheap(s->info);
}

static void store_free(struct rawio_store *s)
{
	rawio_buf_pool_free(s->hdrs);
	rawio_buf_pool_free(s->bufs);
	rawio_engine_pool_free(s->pool);
	free(s->pending);
	index_fini(&s->ix);
	if (s->locked_dev)
		rawio_dev_unlock(s->dev);
	pthread_cond_destroy(&s->gc_cond);
	pthread_mutex_destroy(&s->gc_lock);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->sync_mutex);
	pthread_mutex_destroy(&s->cp_mutex);
	pthread_rwlock_destroy(&s->cp_lock);
	if (s->own_dev)
		rawio_dev_close(s->dev);
	free(s);
}

int rawio_store_open_dev(struct rawio_store **out, struct rawio_dev *dev,
			 const struct rawio_store_opts *opts)
{
	pthread_rwlockattr_t rwa;
	struct rawio_store *s;
	uint64_t t0 = rawio_now_ns(), t1, super_ns, index_ns;
	unsigned max_bufs;
	bool both_ok;
	int ret;

	*out = NULL;
	if (!dev || (opts && opts->size < sizeof(*opts)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (opts)
		s->opts = *opts;
	s->opts.size = sizeof(s->opts);
	snprintf(s->engine, sizeof(s->engine), "%s",
		 s->opts.engine ? s->opts.engine : rawio_engine_default(rawio_dev_info(dev)));
	snprintf(s->lower_engine, sizeof(s->lower_engine), "%s",
		 s->opts.engine_opts.lower ? s->opts.engine_opts.lower : "");
	s->opts.engine = s->engine;
	s->opts.engine_opts.lower = s->lower_engine[0] ? s->lower_engine : NULL;
	s->dev = dev;
	s->info = rawio_dev_info(dev);
	/* No-roll recovery cannot know the newest generation on disk: look only. */
	s->read_only = s->opts.read_only || s->opts.recover == RAWIO_STORE_RECOVER_NO_ROLL ||
		       s->info->read_only;
	s->cp_area = -1;
	pthread_rwlockattr_init(&rwa);
	/* Checkpoints must not starve behind a stream of puts. */
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->cp_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pthread_mutex_init(&s->cp_mutex, NULL);
	pthread_mutex_init(&s->sync_mutex, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->gc_lock, NULL);
	pthread_cond_init(&s->gc_cond, NULL);

	/*
	 * Own the device whoever opened it (rawio_store_open already holds the
	 * lock): a writer exclusively, a reader beside other readers only.
	 */
	ret = rawio_dev_lock(dev, s->read_only ? RAWIO_DEV_LOCK_SH : RAWIO_DEV_LOCK_EX,
			     s->opts.lock_wait_ms, s->opts.errbuf, s->opts.errbuf_len);
	if (ret < 0)
		goto err;
	s->locked_dev = ret == 1;
	if (s->info->offset_align > STORE_BLOCK) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: needs %u-byte alignment; the store's blocks are %u", s->info->path,
			   s->info->offset_align, STORE_BLOCK);
		ret = -EINVAL;
		goto err;
	}
	s->io_align = s->info->offset_align > 512 ? s->info->offset_align : 512;
	s->put_flush = store_put_flush(s);
	ret = store_pool_open(s);
	if (ret)
		goto err;
	t1 = rawio_now_ns();
	ret = store_read_super(s, &both_ok);
	if (ret)
		goto err;
	super_ns = rawio_now_ns() - t1;
	/* Up to 64 MiB of buffers kept, at least one. */
	max_bufs = (unsigned)((64ull << 20) / s->g.slot_size);
	if (max_bufs < 1)
		max_bufs = 1;
	if (max_bufs > STORE_POOL_MAX)
		max_bufs = STORE_POOL_MAX;
	ret = rawio_buf_pool_new(&s->bufs, s->g.slot_size, STORE_BLOCK, max_bufs);
	if (!ret)
		ret = rawio_buf_pool_new(&s->hdrs, STORE_BLOCK, STORE_BLOCK, STORE_POOL_MAX);
	if (ret) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len, "%s: slot buffers of %llu bytes: %s",
			   s->info->path, (unsigned long long)s->g.slot_size, rawio_strerror(ret));
		goto err;
	}
	t1 = rawio_now_ns();
	ret = index_init(&s->ix, s->g.slot_count);
	index_ns = rawio_now_ns() - t1;
	if (ret) {
		/* The index of every slot lives in RAM while the store is open. */
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: the index of %llu slots does not fit in memory: %s", s->info->path,
			   (unsigned long long)s->g.slot_count, rawio_strerror(ret));
		goto err;
	}
	ret = store_recover(s);
	if (ret) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len, "%s: recovery failed: %s",
			   s->info->path, rawio_strerror(ret));
		goto err;
	}
	/* A v1 store is upgraded before this handle can write a v2 slot header. */
	if (!s->read_only && s->sb_version_min < STORE_VERSION) {
		ret = store_upgrade(s);
		if (ret)
			goto err;
	}
	s->rec.super_ns = super_ns;
	s->rec.index_ns = index_ns;
	s->rec.open_ns = rawio_now_ns() - t0;
	*out = s;
	return 0;
err:
	store_free(s);
	return ret;
}

int rawio_store_open(struct rawio_store **out, const char *path,
		     const struct rawio_store_opts *opts)
{
	struct rawio_dev_opts dopts = { .size = sizeof(dopts) };
	struct rawio_dev *dev;
	int ret;

	*out = NULL;
	if (!path || (opts && opts->size < sizeof(*opts)))
		return -EINVAL;
	/* A writer owns the device; readers share it with readers only (recovery
	 * beside a writer would read half-written slots). */
	dopts.flags = RAWIO_DEV_LOCK_EX;
	if (opts && (opts->read_only || opts->recover == RAWIO_STORE_RECOVER_NO_ROLL))
		dopts.flags = RAWIO_DEV_RDONLY | RAWIO_DEV_LOCK_SH;
	dopts.lock_wait_ms = opts ? opts->lock_wait_ms : 0;
	dopts.errbuf = opts ? opts->errbuf : NULL;
	dopts.errbuf_len = opts ? opts->errbuf_len : 0;
	ret = rawio_dev_open(&dev, path, &dopts);
	if (ret)
		return ret;
	ret = rawio_store_open_dev(out, dev, opts);
	if (ret) {
		rawio_dev_close(dev);
		return ret;
	}
	(*out)->own_dev = true;
	return 0;
}

/*
 * Put SLOT (its state set by the caller) on the pending list. Lock held.
 * Returns true when the list is long enough that the caller should sync.
 * If the list cannot grow, the slot is kept out of use until close (LOST).
 */
static bool store_pend(struct rawio_store *s, uint64_t slot)
{
	if (s->nr_pending == s->cap_pending) {
		unsigned cap = s->cap_pending ? 2 * s->cap_pending : STORE_PENDING_MAX;
		uint32_t *p = realloc(s->pending, cap * sizeof(*p));

		if (!p) {
			s->ix.slots[slot].state = SLOT_LOST;
			return true;
		}
		s->pending = p;
		s->cap_pending = cap;
	}
	s->pending[s->nr_pending++] = (uint32_t)slot;
	return s->nr_pending >= STORE_PENDING_MAX;
}

/*
 * Move pending slots along: one flush makes the successors of DYING slots and
 * the zeroes of UNSYNCED slots durable; UNSYNCED slots then go back to the
 * pool, DYING slots get their headers zeroed and become UNSYNCED.
 */
static int store_sync(struct rawio_store *s)
{
	uint32_t *zero = NULL;
	unsigned n0, nz = 0, kept = 0;
	int64_t res;
	int ret = 0;

	pthread_mutex_lock(&s->sync_mutex);
	pthread_mutex_lock(&s->lock);
	n0 = s->nr_pending;
	pthread_mutex_unlock(&s->lock);
	if (!n0)
		goto out;
	zero = malloc(n0 * sizeof(*zero));
	if (!zero) {
		ret = -ENOMEM;
		goto out;
	}
	res = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (res < 0) {
		ret = (int)res;
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nr_pending; i++) {
		uint32_t slot = s->pending[i];
		struct slot_meta *m = &s->ix.slots[slot];

		if (i < n0 && m->state == SLOT_UNSYNCED) {
			if (m->pins)
				m->state = SLOT_ZEROED;
			else
				index_release(&s->ix, slot);
			continue;
		}
		if (i < n0 && m->state == SLOT_DYING)
			zero[nz++] = slot;
		s->pending[kept++] = slot;
	}
	s->nr_pending = kept;
	pthread_mutex_unlock(&s->lock);
	ret = store_zero_headers(s, zero, nz);
	if (!ret) {
		pthread_mutex_lock(&s->lock);
		for (unsigned i = 0; i < nz; i++)
			s->ix.slots[zero[i]].state = SLOT_UNSYNCED;
		pthread_mutex_unlock(&s->lock);
	}
out:
	pthread_mutex_unlock(&s->sync_mutex);
	free(zero);
	return ret;
}

/* Does a pending slot still hold an older version of KEY? Lock held. */
static bool store_key_pending(struct rawio_store *s, const void *key, size_t key_len)
{
	for (unsigned i = 0; i < s->nr_pending; i++) {
		const struct slot_meta *m = &s->ix.slots[s->pending[i]];

		if (m->key_len == key_len && !memcmp(m->key, key, key_len))
			return true;
	}
	return false;
}

static int store_key_check(const void *key, size_t key_len)
{
	return key && key_len >= 1 && key_len <= RAWIO_STORE_KEY_MAX ? 0 : -EINVAL;
}

/*
 * Group commit: the leader writes down the batch W of waiters (whose payloads
 * are written): one flush makes every payload durable, then every header goes
 * out in one batch, then one flush makes them durable. A failed flush fails
 * the waiters it covers; a failed header write fails its own waiter.
 */
static void store_group_run(struct rawio_store *s, struct store_flush_waiter *w)
{
	struct rawio_batch_io *ios;
	size_t n = 0, i = 0;
	int64_t res;

	for (struct store_flush_waiter *x = w; x; x = x->next)
		n++;
	ios = calloc(n, sizeof(*ios));
	res = ios ? rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0) : -ENOMEM;
	if (res >= 0) {
		for (struct store_flush_waiter *x = w; x; x = x->next)
			ios[i++] = (struct rawio_batch_io){ .off = x->off,
							    .len = STORE_BLOCK,
							    .buf = x->hdr };
		/* Per header: its own result below. */
		(void)store_write_ios(s, ios, n);
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	}
	i = 0;
	for (struct store_flush_waiter *x = w; x; x = x->next, i++) {
		x->result = res < 0 ? (int)res : 0;
		if (!x->result && ios[i].result < 0)
			x->result = (int)ios[i].result;
		if (!x->result && ios[i].result != STORE_BLOCK)
			x->result = -EIO;
	}
	free(ios);
}

/*
 * Group commit of a durable put whose payload is written: join the waiters
 * with its header block HDR (for offset OFF); if no batch is being written
 * down, lead one of every waiter so far (store_group_run); puts arriving
 * meanwhile gather for the next. Returns 0 once payload and header are
 * durable, or the error that stopped them (the header then maybe unwritten,
 * never written before the payload was durable).
 */
static int store_group_commit(struct rawio_store *s, void *hdr, uint64_t off)
{
	struct store_flush_waiter me = { .hdr = hdr, .off = off };

	pthread_mutex_lock(&s->gc_lock);
	me.next = s->gc_waiting;
	s->gc_waiting = &me;
	while (!me.done) {
		struct store_flush_waiter *w, *next;

		if (s->gc_flushing) {
			pthread_cond_wait(&s->gc_cond, &s->gc_lock);
			continue;
		}
		w = s->gc_waiting;
		s->gc_waiting = NULL;
		s->gc_flushing = true;
		pthread_mutex_unlock(&s->gc_lock);
		store_group_run(s, w);
		pthread_mutex_lock(&s->gc_lock);
		s->gc_flushes += 2;
		for (; w; w = next) {
			next = w->next; /* W's owner may return once done is set */
			w->done = true;
		}
		s->gc_flushing = false;
		pthread_cond_broadcast(&s->gc_cond);
	}
	pthread_mutex_unlock(&s->gc_lock);
	return me.result;
}

struct store_crc_job {
	const void *buf;
	uint64_t len;
	uint32_t *crc;
	bool done;
};

/* The batch callback of store_write_crc: the first completion computes the crc. */
static int store_crc_cb(void *arg, size_t index, struct rawio_batch_io *io, void *data)
{
	struct store_crc_job *j = arg;

	(void)index;
	(void)io;
	(void)data;
	if (!j->done)
		*j->crc = rawio_crc32c(0, j->buf, j->len);
	j->done = true;
	return 0;
}

/*
 * Write LEN bytes of BUF at OFF with FLAGS (FUA or 0). CRC set (a put's payload
 * from the caller's buffer, whose crc32c is not made yet): also set *CRC to the
 * crc32c of BUF. A plain write goes out as one batch of its first 4 KiB and the
 * rest, and the crc is computed in the batch callback of the first completion,
 * while the rest is in flight (one pass over 4 MiB, ~0.16 ms of a ~5 ms durable
 * put: docs/perf.md, "Puts at the limit", fourth session); with FUA (a batch
 * request has no flags) the crc comes first. Returns LEN or -errno.
 */
static int64_t store_write_crc(struct rawio_store *s, unsigned flags, void *buf, uint64_t len,
			       uint64_t off, uint32_t *crc)
{
	struct store_crc_job j = { .buf = buf, .len = len, .crc = crc };
	struct rawio_batch_io ios[2] = {
		{ .off = off, .len = STORE_BLOCK, .buf = buf },
		{ .off = off + STORE_BLOCK,
		  .len = (uint32_t)(len - STORE_BLOCK),
		  .buf = (char *)buf + STORE_BLOCK },
	};
	int ret;

	if (crc && (flags || len <= STORE_BLOCK || len - STORE_BLOCK > UINT32_MAX)) {
		*crc = rawio_crc32c(0, buf, len);
		crc = NULL;
	}
	if (!crc)
		return rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, flags, buf, len, off);
	ret = store_write_ios_fn(s, ios, 2, store_crc_cb, &j);
	if (ret)
		return ret;
	if (!j.done) /* not reached: every request completes through the callback */
		*crc = rawio_crc32c(0, buf, len);
	return (int64_t)len;
}

/*
 * One durable write: with FLAGS (FUA), or, s->put_flush, plain and then a
 * flush. CRC: as store_write_crc.
 */
static int64_t store_write_durable(struct rawio_store *s, unsigned flags, void *buf, uint64_t len,
				   uint64_t off, uint32_t *crc)
{
	int64_t res = store_write_crc(s, flags, buf, len, off, crc), f;

	if (res < 0 || !s->put_flush)
		return res;
	f = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	return f < 0 ? f : res;
}

/*
 * Write a put's header block and payload (IO, IO_LEN bytes) to SLOT; with
 * PAYLOAD (store_put_direct_ok: LEN aligned bytes of the caller's) the payload
 * is written from there, not from IO.
 *
 * Plain: one write when copied, else payload and header in flight together
 * (no order needed: a torn plain put fails its crc). Durable: payload first,
 * then the header block flagged STORE_SLOT_PAYLOAD_DURABLE, so that a valid
 * flagged header proves its payload was complete: recovery can then tell
 * damage from a torn put. Each write with FUA, or (s->put_flush) each
 * followed by a flush: payload, flush, header, flush; or, GROUPED, the header
 * written down with those of concurrent puts (store_group_commit). A failed
 * payload write or flush leaves the header unwritten.
 */
static int64_t store_put_write(struct rawio_store *s, char *io, uint64_t io_len, uint64_t slot,
			       struct store_slot_hdr *h, const void *payload, uint64_t len,
			       bool durable, bool grouped, bool crc_late)
{
	uint64_t off = store_slot_off(&s->g, slot);
	unsigned flags = durable && !grouped && !s->put_flush ? RAWIO_REQ_FUA : 0;
	void *pbuf = payload ? (void *)payload : io + STORE_BLOCK;
	uint64_t plen = payload ? len : io_len - STORE_BLOCK;
	/* CRC_LATE: the payload's crc is made while the payload is in flight. */
	uint32_t *crc = crc_late ? &h->e.payload_crc : NULL;
	int64_t res = 0;

	if (!durable && !payload) {
		store_slot_hdr_encode(io, h);
		return rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, 0, io, io_len, off);
	}
	if (!durable) {
		struct rawio_batch_io ios[2] = {
			{ .off = off + STORE_BLOCK, .len = (uint32_t)plen, .buf = pbuf },
			{ .off = off, .len = STORE_BLOCK, .buf = io },
		};

		store_slot_hdr_encode(io, h);
		return store_write_ios(s, ios, 2);
	}
	/* Payload first: a header never names bytes that were not durable before it. */
	if (plen && grouped)
		res = store_write_crc(s, 0, pbuf, plen, off + STORE_BLOCK, crc);
	else if (plen)
		res = store_write_durable(s, flags, pbuf, plen, off + STORE_BLOCK, crc);
	if (res < 0)
		return res;
	h->flags |= STORE_SLOT_PAYLOAD_DURABLE;
	store_slot_hdr_encode(io, h);
	if (grouped)
		return store_group_commit(s, io, off);
	return store_write_durable(s, flags, io, STORE_BLOCK, off, NULL);
}

/* Allocate a slot and a generation for a put. Called with cp_lock held shared. */
static int store_alloc(struct rawio_store *s, uint64_t *slot, uint64_t *gen)
{
	/* Two syncs free everything pending: dying -> unsynced -> free. */
	for (int tries = 0; tries < 3; tries++) {
		int64_t got;

		pthread_mutex_lock(&s->lock);
		got = index_alloc(&s->ix);
		if (got >= 0) {
			*slot = (uint64_t)got;
			*gen = s->next_gen++;
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		pthread_mutex_unlock(&s->lock);
		if (!s->nr_pending || store_sync(s))
			break;
	}
	return -ENOSPC;
}

int rawio_store_put(struct rawio_store *s, const void *key, size_t key_len, const void *buf,
		    size_t len, unsigned flags)
{
	struct store_slot_hdr h = { 0 };
	struct rawio_buf_pool *pool;
	uint64_t slot, gen, io_len;
	int64_t old, res;
	char *io = NULL;
	bool durable = flags & RAWIO_STORE_DURABLE, sync = false, direct, grouped = false;
	bool crc_late = false;
	int ret;

	if (store_key_check(key, key_len) || (len && !buf))
		return -EINVAL;
	if (len > store_payload_max(&s->g))
		return -EFBIG;
	if (s->read_only)
		return -EROFS;
	io_len = STORE_BLOCK + store_round(len, s->io_align);
	/* An aligned caller's buffer is written as it is (IO is then only the header
	 * block: no slot-sized buffer to fault in); else copied (and padded) here. */
	direct = store_put_direct_ok(s, buf, len);
	pool = direct ? s->hdrs : s->bufs;
	io = rawio_buf_pool_get(pool);
	if (!io)
		return -ENOMEM;
	if (!direct) {
		if (len)
			memcpy(io + STORE_BLOCK, buf, len);
		memset(io + STORE_BLOCK + len, 0, io_len - STORE_BLOCK - len); /* no stale bytes */
	}
	memcpy(h.uuid, s->g.uuid, sizeof(h.uuid));
	memcpy(h.e.key, key, key_len);
	h.e.key_len = (uint8_t)key_len;
	h.e.payload_len = (uint32_t)len;
	if (!direct || !durable) /* else below */
		h.e.payload_crc = rawio_crc32c(0, buf, len);
	h.written_ns = clock_realtime_ns();

	pthread_rwlock_rdlock(&s->cp_lock);
	ret = store_alloc(s, &slot, &gen);
	if (ret)
		goto out_unlock;
	h.e.generation = gen;
	if (durable) {
		/* AUTO groups when another durable put is in flight: its flush can be shared. */
		unsigned n = __atomic_add_fetch(&s->gc_inflight, 1, __ATOMIC_RELAXED);

		grouped = s->opts.group_commit == RAWIO_STORE_GROUP_ALWAYS ||
			  (s->opts.group_commit == RAWIO_STORE_GROUP_AUTO && n > 1);
		/* Alone, the crc can hide behind the payload's transfer (store_write_crc);
		 * beside other durable puts their I/O keeps the device busy meanwhile, and
		 * a second request per put measured no gain (docs/perf.md, fourth session). */
		crc_late = direct && n == 1;
		if (direct && !crc_late)
			h.e.payload_crc = rawio_crc32c(0, buf, len);
	}
	res = store_put_write(s, io, io_len, slot, &h, direct ? buf : NULL, len, durable, grouped,
			      crc_late);
	if (durable)
		__atomic_sub_fetch(&s->gc_inflight, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->lock);
	if (res < 0) {
		/* What reached the slot is unknown: keep it out of use until close. */
		s->ix.slots[slot].state = SLOT_LOST;
		pthread_mutex_unlock(&s->lock);
		ret = (int)res;
		goto out_unlock;
	}
	{
		struct slot_meta *m = &s->ix.slots[slot];

		memcpy(m->key, key, key_len);
		m->key_len = (uint8_t)key_len;
		m->payload_len = (uint32_t)len;
		m->payload_crc = h.e.payload_crc;
		slot_set_gen(m, gen);
	}
	old = index_lookup(&s->ix, key, (unsigned)key_len);
	if (old >= 0 && slot_gen(&s->ix.slots[old]) > gen) {
		/* A concurrent put of the same key finished first with a newer
		 * generation: ours is the old version now. */
		durable = false; /* the newer one's durability is not ours to know */
		old = (int64_t)slot;
	} else {
		if (old >= 0)
			index_unpublish(&s->ix, (uint64_t)old);
		index_publish(&s->ix, slot);
	}
	s->st.puts++;
	s->st.grouped_puts += grouped;
	if (old >= 0) {
		s->ix.slots[old].state = SLOT_DYING;
		/* A durable successor lets the old header go now; else after a flush. */
		if (!durable)
			sync = store_pend(s, (uint64_t)old);
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->cp_lock);

	if (old >= 0 && durable) {
		uint32_t o = (uint32_t)old;
		bool zeroed = store_zero_headers(s, &o, 1) == 0;

		pthread_mutex_lock(&s->lock);
		s->ix.slots[o].state = zeroed ? SLOT_UNSYNCED : SLOT_DYING;
		sync = store_pend(s, o);
		pthread_mutex_unlock(&s->lock);
	}
	if (sync)
		store_sync(s);
	rawio_buf_pool_put(pool, io);
	return 0;

out_unlock:
	pthread_rwlock_unlock(&s->cp_lock);
	rawio_buf_pool_put(pool, io);
	return ret;
}

static void store_unpin(struct rawio_store *s, uint64_t slot)
{
	struct slot_meta *m;

	pthread_mutex_lock(&s->lock);
	m = &s->ix.slots[slot];
	if (!--m->pins && m->state == SLOT_ZEROED)
		index_release(&s->ix, slot);
	pthread_mutex_unlock(&s->lock);
}

ssize_t rawio_store_get(struct rawio_store *s, const void *key, size_t key_len, void *buf,
			size_t buf_len)
{
	struct store_slot_hdr h;
	struct slot_meta want;
	char *io = NULL;
	ssize_t ret = -EIO;

	if (store_key_check(key, key_len))
		return -EINVAL;
	/* A concurrent overwrite can move the key while we read: look again, a few times. */
	for (int tries = 0; tries < 8; tries++) {
		uint64_t io_len;
		int64_t slot, res;
		int dec;

		pthread_mutex_lock(&s->lock);
		slot = index_lookup(&s->ix, key, (unsigned)key_len);
		if (slot < 0) {
			pthread_mutex_unlock(&s->lock);
			ret = -ENOENT;
			break;
		}
		want = s->ix.slots[slot];
		if (want.payload_len > buf_len) {
			pthread_mutex_unlock(&s->lock);
			ret = want.payload_len;
			break;
		}
		s->ix.slots[slot].pins++;
		s->st.gets++;
		pthread_mutex_unlock(&s->lock);

		io_len = STORE_BLOCK + store_round(want.payload_len, s->io_align);
		if (!io)
			io = rawio_buf_pool_get(s->bufs);
		if (!io) {
			store_unpin(s, (uint64_t)slot);
			ret = -ENOMEM;
			break;
		}
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, io, io_len,
					   store_slot_off(&s->g, (uint64_t)slot));
		store_unpin(s, (uint64_t)slot);
		if (res < 0) {
			ret = res;
			break;
		}
		dec = store_slot_hdr_decode(io, STORE_BLOCK, &s->g, &h);
		if (dec || h.e.generation != slot_gen(&want) || h.e.key_len != want.key_len ||
		    memcmp(h.e.key, want.key, want.key_len) ||
		    h.e.payload_len != want.payload_len) {
			bool moved;

			pthread_mutex_lock(&s->lock);
			moved = index_lookup(&s->ix, key, (unsigned)key_len) != slot ||
				slot_gen(&s->ix.slots[slot]) != slot_gen(&want);
			pthread_mutex_unlock(&s->lock);
			if (moved)
				continue;
			ret = dec ? dec : -EUCLEAN; /* the index and the disk disagree */
			break;
		}
		if (rawio_crc32c(0, io + STORE_BLOCK, want.payload_len) != h.e.payload_crc ||
		    h.e.payload_crc != want.payload_crc) {
			ret = -EBADMSG;
			break;
		}
		if (want.payload_len)
			memcpy(buf, io + STORE_BLOCK, want.payload_len);
		ret = want.payload_len;
		break;
	}
	rawio_buf_pool_put(s->bufs, io);
	return ret;
}

int rawio_store_lookup(struct rawio_store *s, const void *key, size_t key_len,
		       struct rawio_store_obj *obj)
{
	const struct slot_meta *m;
	int64_t slot;

	if (store_key_check(key, key_len) || !obj)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	slot = index_lookup(&s->ix, key, (unsigned)key_len);
	if (slot < 0) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	m = &s->ix.slots[slot];
	*obj = (struct rawio_store_obj){ .key_len = m->key_len,
					 .slot = (uint64_t)slot,
					 .off = store_slot_off(&s->g, (uint64_t)slot),
					 .payload_len = m->payload_len,
					 .payload_crc = m->payload_crc,
					 .generation = slot_gen(m) };
	memcpy(obj->key, m->key, m->key_len);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int rawio_store_delete(struct rawio_store *s, const void *key, size_t key_len, unsigned flags)
{
	void *zero;
	int64_t slot, res;
	int ret = 0;

	if (store_key_check(key, key_len))
		return -EINVAL;
	if (s->read_only)
		return -EROFS;
	/*
	 * Older versions of the key that are not yet durably zeroed would come
	 * back after a crash once this one is gone: settle them first.
	 */
	for (int tries = 0; tries < 3; tries++) {
		bool pending;

		pthread_mutex_lock(&s->lock);
		pending = store_key_pending(s, key, key_len);
		pthread_mutex_unlock(&s->lock);
		if (!pending)
			break;
		ret = store_sync(s);
		if (ret)
			return ret;
	}
	zero = rawio_buf_alloc(STORE_BLOCK, STORE_BLOCK);
	if (!zero)
		return -ENOMEM;
	pthread_rwlock_rdlock(&s->cp_lock);
	pthread_mutex_lock(&s->lock);
	slot = index_lookup(&s->ix, key, (unsigned)key_len);
	if (slot < 0) {
		pthread_mutex_unlock(&s->lock);
		pthread_rwlock_unlock(&s->cp_lock);
		rawio_buf_free(zero);
		return -ENOENT;
	}
	index_unpublish(&s->ix, (uint64_t)slot);
	pthread_mutex_unlock(&s->lock);

	if (flags & RAWIO_STORE_DURABLE)
		res = store_write_durable(s, s->put_flush ? 0 : RAWIO_REQ_FUA, zero, STORE_BLOCK,
					  store_slot_off(&s->g, (uint64_t)slot), NULL);
	else
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, 0, zero, STORE_BLOCK,
					   store_slot_off(&s->g, (uint64_t)slot));
	pthread_mutex_lock(&s->lock);
	if (res < 0 && index_lookup(&s->ix, key, (unsigned)key_len) < 0) {
		/* Not deleted on disk: keep it in the index, and say so. */
		index_publish(&s->ix, (uint64_t)slot);
	} else if (res < 0) {
		/* A concurrent put published a newer version meanwhile: this one is old. */
		s->ix.slots[slot].state = SLOT_DYING;
		ret = store_pend(s, (uint64_t)slot);
	} else {
		s->st.deletes++;
		/* Reusable once the zero is durable. */
		s->ix.slots[slot].state = SLOT_UNSYNCED;
		ret = store_pend(s, (uint64_t)slot);
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->cp_lock);
	rawio_buf_free(zero);
	if (ret > 0)
		store_sync(s); /* the pending list is long */
	return res < 0 ? (int)res : 0;
}

int rawio_store_list(struct rawio_store *s, int (*fn)(void *arg, const struct rawio_store_obj *obj),
		     void *arg)
{
	struct rawio_store_obj *snap;
	uint64_t n = 0;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	snap = malloc((s->ix.nr_live ? s->ix.nr_live : 1) * sizeof(*snap));
	if (!snap) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->ix.nr_slots; i++) {
		const struct slot_meta *m = &s->ix.slots[i];

		if (m->state != SLOT_LIVE)
			continue;
		snap[n] = (struct rawio_store_obj){ .key_len = m->key_len,
						    .slot = i,
						    .off = store_slot_off(&s->g, i),
						    .payload_len = m->payload_len,
						    .payload_crc = m->payload_crc,
						    .generation = slot_gen(m) };
		memcpy(snap[n].key, m->key, m->key_len);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	for (uint64_t i = 0; i < n && !ret; i++)
		ret = fn(arg, &snap[i]);
	free(snap);
	return ret;
}

int store_checkpoint(struct rawio_store *s)
{
	struct store_cp_hdr h = { 0 };
	uint64_t body_len, n = 0;
	char *buf;
	int area, ret;
	int64_t res;

	pthread_mutex_lock(&s->cp_mutex);
	/* The snapshot: no put or delete is between choosing a generation and publishing it. */
	pthread_rwlock_wrlock(&s->cp_lock);
	pthread_mutex_lock(&s->lock);
	body_len = (s->ix.nr_live + s->nr_unreadable) * STORE_ENTRY_SIZE;
	buf = rawio_buf_alloc(STORE_BLOCK + store_round(body_len, STORE_BLOCK), STORE_BLOCK);
	if (!buf) {
		pthread_mutex_unlock(&s->lock);
		pthread_rwlock_unlock(&s->cp_lock);
		pthread_mutex_unlock(&s->cp_mutex);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->ix.nr_slots; i++) {
		const struct slot_meta *m = &s->ix.slots[i];
		struct store_entry e = { 0 };

		/* Unreadable entries stay named, unless their key has a newer version. */
		if (m->state != SLOT_LIVE &&
		    (m->state != SLOT_UNREADABLE || index_lookup(&s->ix, m->key, m->key_len) >= 0))
			continue;
		memcpy(e.key, m->key, m->key_len);
		e.key_len = m->key_len;
		e.slot = (uint32_t)i;
		e.payload_len = m->payload_len;
		e.payload_crc = m->payload_crc;
		e.generation = slot_gen(m);
		store_entry_encode(buf + STORE_BLOCK + n++ * STORE_ENTRY_SIZE, &e);
	}
	h.next_gen = s->next_gen;
	h.roll_gen = s->roll_floor && s->roll_floor < h.next_gen ? s->roll_floor : h.next_gen;
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->cp_lock);

	memcpy(h.uuid, s->g.uuid, sizeof(h.uuid));
	h.seq = s->cp_seq + 1;
	h.entry_count = n;
	h.body_len = n * STORE_ENTRY_SIZE;
	h.body_crc = rawio_crc32c(0, buf + STORE_BLOCK, h.body_len);
	h.written_ns = clock_realtime_ns();
	area = s->cp_area == 0 ? 1 : 0;

	/*
	 * Order: every payload the snapshot names on stable storage, then the
	 * body, then the header that makes it valid. A crash anywhere leaves the
	 * other area as the newest valid checkpoint.
	 */
	res = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (res >= 0 && h.body_len)
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, 0, buf + STORE_BLOCK,
					   store_round(h.body_len, STORE_BLOCK),
					   s->g.cp_off[area] + STORE_BLOCK);
	if (res >= 0)
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (res >= 0) {
		store_cp_hdr_encode(buf, &h);
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, RAWIO_REQ_FUA, buf, STORE_BLOCK,
					   s->g.cp_off[area]);
	}
	ret = res < 0 ? (int)res : 0;
	if (!ret) {
		s->cp_seq = h.seq;
		s->cp_area = area;
		pthread_mutex_lock(&s->lock);
		s->st.checkpoints++;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&s->cp_mutex);
	rawio_buf_free(buf);
	/* Move pending slots along (dying -> unsynced -> free). */
	if (!ret)
		store_sync(s);
	return ret;
}

int rawio_store_checkpoint(struct rawio_store *s)
{
	return s->read_only ? -EROFS : store_checkpoint(s);
}

int rawio_store_close(struct rawio_store *s)
{
	int ret = 0;

	if (!s)
		return 0;
	if (!s->read_only)
		ret = store_checkpoint(s);
	store_free(s);
	return ret;
}

void rawio_store_stat(struct rawio_store *s, struct rawio_store_stat *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->slot_size = s->g.slot_size;
	st->slot_count = s->g.slot_count;
	st->slots_used = s->ix.nr_used;
	st->objects = s->ix.nr_live;
	st->index_bytes = index_bytes(&s->ix);
	st->payload_max = store_payload_max(&s->g);
	st->bytes_used = s->ix.bytes_live;
	st->next_generation = s->next_gen;
	st->checkpoint_seq = s->cp_seq;
	pthread_mutex_lock(&s->gc_lock);
	st->group_flushes = s->gc_flushes;
	pthread_mutex_unlock(&s->gc_lock);
	st->barrier = s->put_flush ? RAWIO_STORE_BARRIER_FLUSH : RAWIO_STORE_BARRIER_FUA;
	memcpy(st->uuid, s->g.uuid, sizeof(st->uuid));
	st->data_off = s->g.data_off;
	st->dev_size = s->g.dev_size;
	pthread_mutex_unlock(&s->lock);
}

void rawio_store_recovery(struct rawio_store *s, struct rawio_store_recovery *r)
{
	*r = s->rec;
}
