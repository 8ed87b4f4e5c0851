// SPDX-License-Identifier: MIT
/*
 * Recovery: seed 000's "read per engine, judge once, apply once".
 *
 * read   every slot header in batches on the chosen engine (sync is a serial
 *        pread loop, threads a pool, aio and uring batched at queue depth);
 *        memory is queue depth x 4 KiB whatever the slot count (8 MiB with 4 KiB
 *        slots, read 64 at a time: see store_scan);
 * judge  one engine-independent function, store_judge(), decides per slot;
 * apply  drops, roll-forwards and repairs, once, after all reads.
 *
 * The checkpoint's next_gen (G) splits the headers found: an object written
 * after the checkpoint has a generation >= G and is rolled forward once its
 * payload checks out; a header below G that the checkpoint does not name is a
 * leftover (superseded, or freed before the checkpoint) and is zeroed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"
#include "util/clock.h"
#include "util/crc32c.h"
#include "util/errbuf.h"

#define CP_CHUNK (1u << 20) /* checkpoint bodies are read this much at a time */

/* What the judge says about one slot. Bits, since a reused slot can be two things. */
#define V_KEEP		(1u << 0) /* the checkpoint entry is confirmed */
#define V_DROP_MISMATCH (1u << 1) /* the checkpoint entry's slot holds something else */
#define V_DROP_CORRUPT	(1u << 2) /* ... holds a header that is not a valid one of ours */
#define V_DROP_IO	(1u << 3) /* ... could not be read */
#define V_CANDIDATE	(1u << 4) /* a header newer than the checkpoint: roll forward? */
#define V_ZERO		(1u << 5) /* a leftover header to zero */
#define V_UNREADABLE	(1u << 6) /* a slot the checkpoint does not name could not be read */

/* A candidate's header says its payload was durable first (slots are below 2^31). */
#define CAND_DURABLE (1u << 31)

/*
 * The judge: EXPECT is the checkpoint's entry for the slot (NULL if none),
 * READ the read's result, DEC the decoder's, H the decoded header, G the
 * checkpoint's next generation (0 without a checkpoint).
 */
static unsigned store_judge(const struct slot_meta *expect, int64_t read, int dec,
			    const struct store_slot_hdr *h, uint64_t g)
{
	bool ours = dec == 0;

	if (read < 0)
		return expect ? V_DROP_IO : V_UNREADABLE;
	if (expect) {
		if (!ours) /* a damaged header of ours is also zeroed: check is clean after */
			return dec == -ENODATA	 ? V_DROP_MISMATCH
			       : dec == -EBADMSG ? V_DROP_CORRUPT | V_ZERO
						 : V_DROP_CORRUPT;
		if (h->e.key_len == expect->key_len &&
		    !memcmp(h->e.key, expect->key, h->e.key_len) &&
		    h->e.payload_len == expect->payload_len &&
		    h->e.payload_crc == expect->payload_crc && h->e.generation == slot_gen(expect))
			return V_KEEP;
		/* Reused after the checkpoint: the entry is gone, the new object may be kept. */
		return V_DROP_MISMATCH | (h->e.generation >= g ? V_CANDIDATE : V_ZERO);
	}
	if (ours)
		return h->e.generation >= g ? V_CANDIDATE : V_ZERO;
	/* Our magic but a bad crc: a torn header of a write that never completed. */
	return dec == -EBADMSG ? V_ZERO : 0;
}

int store_read_super(struct rawio_store *s, bool *both_ok)
{
	struct store_geometry g[2];
	int ret[2];
	bool magic[2];
	void *buf;
	int64_t res;

	if (s->info->size < 2 * STORE_BLOCK) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: not a rawio store (%llu bytes, smaller than a superblock "
			   "area)",
			   s->info->path, (unsigned long long)s->info->size);
		return -EUCLEAN;
	}
	buf = rawio_buf_alloc(2 * STORE_BLOCK, STORE_BLOCK);
	if (!buf)
		return -ENOMEM;
	res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, buf, 2 * STORE_BLOCK, 0);
	if (res < 0) {
		rawio_buf_free(buf);
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len, "%s: reading the superblocks: %s",
			   s->info->path, rawio_strerror((int)res));
		return (int)res;
	}
	for (int i = 0; i < 2; i++)
		ret[i] = store_sb_decode((char *)buf + i * STORE_BLOCK, STORE_BLOCK, &g[i]);
	if (ret[0] == -EPROTONOSUPPORT || ret[1] == -EPROTONOSUPPORT) {
		/* A newer rawio's store (or one it was upgrading): never repair or guess. */
		rawio_buf_free(buf);
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: store format version %u; this rawio reads versions %u to %u: use a "
			   "newer rawio",
			   s->info->path, ret[0] == -EPROTONOSUPPORT ? g[0].version : g[1].version,
			   STORE_VERSION_MIN, STORE_VERSION);
		return -EPROTONOSUPPORT;
	}
	*both_ok = !ret[0] && !ret[1];
	/* Copies of two versions: an upgrade was cut short; the read-write open finishes it. */
	s->sb_version_min = !ret[0] ? g[0].version : g[1].version;
	if (*both_ok && g[0].version != g[1].version) {
		s->sb_version_min = g[0].version < g[1].version ? g[0].version : g[1].version;
		g[0].version = g[1].version = STORE_VERSION;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t m;

		memcpy(&m, (char *)buf + i * STORE_BLOCK, sizeof(m));
		magic[i] = le64toh(m) == STORE_SB_MAGIC;
	}
	if (!*both_ok && (!ret[0] || !ret[1]) && !s->read_only) {
		/* One damaged copy: rewrite it from the good one (FUA) on a read-write open. */
		int good = ret[0] ? 1 : 0;

		memcpy((char *)buf + (1 - good) * STORE_BLOCK, (char *)buf + good * STORE_BLOCK,
		       STORE_BLOCK);
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, RAWIO_REQ_FUA,
					   (char *)buf + (1 - good) * STORE_BLOCK, STORE_BLOCK,
					   (uint64_t)(1 - good) * STORE_BLOCK);
		if (res < 0) {
			rawio_buf_free(buf);
			errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
				   "%s: rewriting superblock copy %d from the good one: %s",
				   s->info->path, 1 - good, rawio_strerror((int)res));
			return (int)res;
		}
	}
	rawio_buf_free(buf);
	if (*both_ok && memcmp(&g[0], &g[1], sizeof(g[0]))) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: the two superblocks are valid but disagree", s->info->path);
		return -EUCLEAN;
	}
	if (ret[0] && ret[1]) {
		if (ret[0] == -ENODATA && ret[1] == -ENODATA)
			errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
				   "%s: not a rawio store (offsets 0 and 4096 are zero; format it "
				   "first)",
				   s->info->path);
		else if (!magic[0] && !magic[1])
			errbuf_set(
				s->opts.errbuf, s->opts.errbuf_len,
				"%s: not a rawio store (no superblock magic 'RAWIOSTR' at offset 0 "
				"or 4096)",
				s->info->path);
		else
			errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
				   "%s: both superblock copies are damaged (offset 0: %s; offset "
				   "4096: %s)",
				   s->info->path, rawio_strerror(ret[0]), rawio_strerror(ret[1]));
		return ret[0] == -EBADMSG || ret[1] == -EBADMSG ? -EBADMSG : -EUCLEAN;
	}
	s->g = ret[0] ? g[1] : g[0];
	if (s->info->size < s->g.dev_size) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: %llu bytes, but the store was formatted for %llu", s->info->path,
			   (unsigned long long)s->info->size, (unsigned long long)s->g.dev_size);
		return -EUCLEAN;
	}
	return 0;
}

int store_upgrade(struct rawio_store *s)
{
	struct store_geometry g = s->g;
	void *buf;
	int64_t res;

	/*
	 * v2 reads every v1 structure as it is; only the superblocks change, so
	 * that a v1 rawio refuses the store once it may hold v2 slot headers
	 * (it would take a flagged header for a foreign one and reuse its slot).
	 */
	buf = rawio_buf_alloc(2 * STORE_BLOCK, STORE_BLOCK);
	if (!buf)
		return -ENOMEM;
	g.version = STORE_VERSION;
	store_sb_encode(buf, &g);
	store_sb_encode((char *)buf + STORE_BLOCK, &g);
	res = rawio_engine_pool_io(s->pool, RAWIO_OP_WRITE, RAWIO_REQ_FUA, buf, 2 * STORE_BLOCK, 0);
	rawio_buf_free(buf);
	if (res < 0) {
		errbuf_set(s->opts.errbuf, s->opts.errbuf_len,
			   "%s: upgrading the superblocks from format version %u to %u: %s",
			   s->info->path, s->sb_version_min, STORE_VERSION,
			   rawio_strerror((int)res));
		return (int)res;
	}
	s->g.version = STORE_VERSION;
	s->sb_version_min = STORE_VERSION;
	s->rec.upgraded = true;
	return 0;
}

/* Reset the index to empty (after a checkpoint that failed half-way through loading). */
static int store_index_reset(struct rawio_store *s)
{
	index_fini(&s->ix);
	return index_init(&s->ix, s->g.slot_count);
}

/* The reason an engine opened as "auto" gave (rawio_engine_describe ends "(auto: WHY)"). */
static void store_auto_why(const struct rawio_engine *e, char *why, size_t why_len)
{
	char desc[512];
	const char *p;
	size_t n;

	rawio_engine_describe(e, desc, sizeof(desc));
	p = strstr(desc, "(auto: ");
	if (!p)
		return;
	p += strlen("(auto: ");
	n = strlen(p);
	if (n && p[n - 1] == ')')
		n--;
	snprintf(why, why_len, "%.*s", (int)n, p);
}

/*
 * Decode N bytes of checkpoint entries into the index; -EUCLEAN if they are not
 * sound. Entries are decoded CP_AHEAD ahead of their insertion, and their
 * buckets prefetched: the table is megabytes, and each insertion's first
 * look at it was a cache miss (80% of index_publish_new's samples, perf).
 */
#define CP_AHEAD 8u

static int store_load_entries(struct rawio_store *s, const struct store_cp_hdr *h, const char *buf,
			      uint64_t n)
{
	struct store_entry ring[CP_AHEAD];
	uint64_t hash[CP_AHEAD], nr = n / STORE_ENTRY_SIZE;

	for (uint64_t i = 0; i < nr + CP_AHEAD; i++) {
		struct store_entry *e = &ring[i % CP_AHEAD];
		struct slot_meta *m;

		if (i >= CP_AHEAD) {
			/* One entry per slot, one slot per key, generations below next_gen. */
			if (e->generation >= h->next_gen || !index_claim(&s->ix, e->slot))
				return -EUCLEAN;
			m = &s->ix.slots[e->slot];
			memcpy(m->key, e->key, e->key_len);
			m->key_len = e->key_len;
			m->payload_len = e->payload_len;
			m->payload_crc = e->payload_crc;
			slot_set_gen(m, e->generation);
			if (!index_publish_new(&s->ix, e->slot, hash[i % CP_AHEAD]))
				return -EUCLEAN;
		}
		if (i < nr) {
			int ret = store_entry_decode(buf + i * STORE_ENTRY_SIZE, STORE_ENTRY_SIZE,
						     &s->g, e);

			if (ret)
				return ret;
			hash[i % CP_AHEAD] = index_hash(e->key, e->key_len);
			index_prefetch(&s->ix, hash[i % CP_AHEAD]);
		}
	}
	return 0;
}

/*
 * Load one checkpoint's body into the index; -EBADMSG / -EUCLEAN if it is not
 * sound. The body is read CP_CHUNK at a time with up to CP_QD chunks in
 * flight, decoded in order while the next ones arrive (one chunk at a time
 * left the device idle while the CPU decoded, and the CPU idle while the
 * device read: 1.2 s of a 3.1 s open at 524,288 entries, docs/perf.md).
 */
#define CP_QD 4u

static int store_load_body(struct rawio_store *s, int area, const struct store_cp_hdr *h)
{
	const uint64_t base = s->g.cp_off[area] + STORE_BLOCK;
	uint64_t nr = (h->body_len + CP_CHUNK - 1) / CP_CHUNK, next = 0, crc = 0;
	struct rawio_req req[CP_QD], *done[CP_QD];
	bool ready[CP_QD] = { false };
	struct rawio_engine *e = NULL;
	char *buf;
	int ret = 0;

	if (!nr)
		return h->body_crc ? -EBADMSG : 0;
	buf = rawio_buf_alloc((nr < CP_QD ? nr : CP_QD) * CP_CHUNK, STORE_BLOCK);
	if (!buf)
		return -ENOMEM;
	if (nr > 1) {
		ret = store_engine_open(s, store_engine_one(s, NULL, 0), CP_QD, &e);
		if (ret)
			goto out_free;
	}
	for (uint64_t k = 0; k < nr && !ret; k++) {
		unsigned b = (unsigned)(k % CP_QD);
		uint64_t n = h->body_len - k * CP_CHUNK < CP_CHUNK ? h->body_len - k * CP_CHUNK
								   : CP_CHUNK;
		char *p = buf + (size_t)b * CP_CHUNK;

		/* Keep the reads CP_QD chunks ahead of the decoding. */
		for (; e && next < nr && next < k + CP_QD && !ret; next++) {
			unsigned nb = (unsigned)(next % CP_QD);
			uint64_t len = h->body_len - next * CP_CHUNK < CP_CHUNK
					       ? h->body_len - next * CP_CHUNK
					       : CP_CHUNK;

			req[nb] = (struct rawio_req){ .op = RAWIO_OP_READ,
						      .buf = buf + (size_t)nb * CP_CHUNK,
						      .len = store_round(len, STORE_BLOCK),
						      .off = base + next * CP_CHUNK,
						      .user_data = &ready[nb] };
			ready[nb] = false;
			ret = rawio_engine_queue(e, &req[nb]);
			if (ret == RAWIO_Q_DONE)
				ready[nb] = true;
			ret = ret < 0 ? ret : ret == RAWIO_Q_BUSY ? -EAGAIN : 0;
		}
		if (!ret && e)
			ret = rawio_engine_commit(e);
		while (!ret && e && !ready[b]) {
			int got = rawio_engine_reap(e, done, 1, CP_QD);

			if (got < 0)
				ret = got;
			for (int i = 0; i < got; i++)
				*(bool *)done[i]->user_data = true;
		}
		if (ret)
			break;
		if (e && req[b].result != (int64_t)req[b].len) {
			ret = req[b].result < 0 ? (int)req[b].result : -EIO;
			break;
		}
		if (!e) {
			int64_t res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, p,
							   store_round(n, STORE_BLOCK), base);

			if (res < 0) {
				ret = (int)res;
				break;
			}
		}
		crc = rawio_crc32c((uint32_t)crc, p, n);
		ret = store_load_entries(s, h, p, n);
	}
	if (!ret && (uint32_t)crc != h->body_crc)
		ret = -EBADMSG;
	rawio_engine_close(e); /* waits for the reads still in flight */
out_free:
	rawio_buf_free(buf);
	return ret;
}

/*
 * Newest valid checkpoint into the index. *G is its roll_gen (unnamed headers
 * at or above it are candidates), *NEXT its next_gen; 0 and an empty index if none.
 */
static int store_load_checkpoint(struct rawio_store *s, uint64_t *g, uint64_t *next)
{
	struct store_cp_hdr h[2];
	int ok[2], order[2] = { 0, 1 };
	void *buf;
	int ret = 0;

	*g = 0;
	*next = 0;
	buf = rawio_buf_alloc(STORE_BLOCK, STORE_BLOCK);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		int64_t res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, buf, STORE_BLOCK,
						   s->g.cp_off[i]);

		ok[i] = res < 0 ? (int)res : store_cp_hdr_decode(buf, STORE_BLOCK, &s->g, &h[i]);
	}
	rawio_buf_free(buf);
	if (!ok[0] && !ok[1] && h[1].seq > h[0].seq) {
		order[0] = 1;
		order[1] = 0;
	}
	/*
	 * A header that is there but damaged is most likely the newer one, torn
	 * while it was written; its seq cannot be read, so whichever is loaded
	 * instead is a fallback.
	 */
	for (int i = 0; i < 2; i++)
		if (ok[i] && ok[i] != -ENODATA)
			s->rec.checkpoint_fallback = true;
	for (int k = 0; k < 2; k++) {
		int a = order[k];

		if (ok[a])
			continue;
		ret = store_load_body(s, a, &h[a]);
		if (ret == -ENOMEM)
			return ret;
		if (ret) {
			s->rec.checkpoint_fallback = true;
			ret = store_index_reset(s);
			if (ret)
				return ret;
			continue;
		}
		*g = h[a].roll_gen;
		*next = h[a].next_gen;
		if (h[a].roll_gen < h[a].next_gen)
			s->roll_floor = h[a].roll_gen; /* still waiting for an unreadable slot */
		s->cp_seq = h[a].seq;
		s->cp_area = a;
		s->rec.checkpoint = a;
		s->rec.checkpoint_seq = h[a].seq;
		s->rec.loaded = h[a].entry_count;
		return 0;
	}
	return 0;
}

struct scan_ctx {
	struct rawio_store *s;
	uint64_t g;	  /* the checkpoint's roll_gen */
	uint64_t cp_next; /* the checkpoint's next_gen */
	bool only_expected;
	uint32_t *cand; /* slots to roll forward */
	uint64_t nr_cand, cap_cand;
	uint32_t *zero; /* slots to zero */
	uint64_t nr_zero, cap_zero;
	uint64_t *retry_idx; /* batch entries to read again alone */
	uint64_t nr_retry, cap_retry;
	uint64_t max_gen; /* highest generation on disk */
	uint64_t done, total;
};

static int push_u32(uint32_t **a, uint64_t *n, uint64_t *cap, uint32_t v)
{
	if (*n == *cap) {
		uint64_t c = *cap ? *cap * 2 : 256;
		uint32_t *p = realloc(*a, c * sizeof(**a));

		if (!p)
			return -ENOMEM;
		*a = p;
		*cap = c;
	}
	(*a)[(*n)++] = v;
	return 0;
}

/* Note what recovery found in SLOT (rawio_store_recovery.found: the first few, all counted). */
static void store_found(struct rawio_store *s, enum rawio_store_finding what, uint64_t slot,
			const uint8_t *key, unsigned key_len, bool key_trusted, uint64_t gen)
{
	struct rawio_store_found *f;

	if (s->rec.nr_found++ >= RAWIO_STORE_FOUND_MAX)
		return;
	f = &s->rec.found[s->rec.nr_found - 1];
	memset(f, 0, sizeof(*f));
	f->what = what;
	f->applied = !s->read_only;
	f->key_trusted = key_trusted && key_len;
	f->key_len = key_len <= RAWIO_STORE_KEY_MAX ? (uint8_t)key_len : 0;
	if (f->key_len)
		memcpy(f->key, key, f->key_len);
	f->slot = slot;
	f->off = store_slot_off(&s->g, slot);
	f->generation = gen;
}

/* Apply the judge's verdict for SLOT. */
static int scan_apply(struct scan_ctx *c, uint64_t slot, int64_t read, const void *data)
{
	struct rawio_store *s = c->s;
	struct slot_meta *m = &s->ix.slots[slot];
	const struct slot_meta *expect = m->state == SLOT_LIVE ? m : NULL;
	struct store_slot_hdr h;
	int dec = read < 0 ? -EIO : store_slot_hdr_decode(data, STORE_BLOCK, &s->g, &h);
	unsigned v = store_judge(expect, read, dec, &h, c->g);

	if (!dec && h.e.generation > c->max_gen)
		c->max_gen = h.e.generation;
	if (v & V_KEEP) {
		s->rec.validated++;
		return 0;
	}
	if (v & V_DROP_IO) {
		/* Out of the index, but kept and named by later checkpoints. */
		index_unpublish(&s->ix, slot);
		m->state = SLOT_UNREADABLE;
		s->nr_unreadable++;
		s->rec.dropped_io++;
		store_found(s, RAWIO_STORE_FOUND_UNREADABLE, slot, m->key, m->key_len, true,
			    slot_gen(m));
		return 0;
	}
	if (v & V_DROP_CORRUPT)
		store_found(s, RAWIO_STORE_FOUND_BAD_ENTRY, slot, m->key, m->key_len, true,
			    slot_gen(m));
	if (v & (V_DROP_MISMATCH | V_DROP_CORRUPT)) {
		index_unpublish(&s->ix, slot);
		index_release(&s->ix, slot);
		s->rec.dropped_mismatch += !!(v & V_DROP_MISMATCH);
		s->rec.dropped_corrupt += !!(v & V_DROP_CORRUPT);
	}
	if (v & V_UNREADABLE) {
		/* It may hold an object newer than the checkpoint: never reuse it now,
		 * and keep later checkpoints from writing it off as a leftover. */
		if (index_claim(&s->ix, slot))
			s->ix.slots[slot].state = SLOT_LOST;
		if (!s->roll_floor || c->g < s->roll_floor)
			s->roll_floor = c->g ? c->g : 1;
		s->rec.unreadable++;
		store_found(s, RAWIO_STORE_FOUND_UNREADABLE, slot, NULL, 0, false, 0);
		return 0;
	}
	if (v & V_CANDIDATE) {
		if (!index_claim(&s->ix, slot))
			return -EUCLEAN;
		memcpy(m->key, h.e.key, h.e.key_len);
		m->key_len = h.e.key_len;
		m->payload_len = h.e.payload_len;
		m->payload_crc = h.e.payload_crc;
		slot_set_gen(m, h.e.generation);
		return push_u32(&c->cand, &c->nr_cand, &c->cap_cand,
				(uint32_t)slot |
					(h.flags & STORE_SLOT_PAYLOAD_DURABLE ? CAND_DURABLE : 0));
	}
	if ((v & V_ZERO) && dec == -EBADMSG && !(v & V_DROP_CORRUPT)) {
		/* Our magic, a bad crc: a torn header write or damage. Reported (with the
		 * key as it reads, unverified), then zeroed by a read-write recovery. */
		uint8_t key[RAWIO_STORE_KEY_MAX];
		unsigned key_len = store_slot_hdr_peek_key(data, STORE_BLOCK, key);

		s->rec.bad_headers++;
		store_found(s, RAWIO_STORE_FOUND_BAD_HEADER, slot, key, key_len, false, 0);
		if (s->read_only && index_claim(&s->ix, slot)) {
			m->key_len = 0;
			m->state = SLOT_DAMAGED;
		}
	}
	if (v & V_ZERO)
		return push_u32(&c->zero, &c->nr_zero, &c->cap_zero, (uint32_t)slot);
	return 0;
}

static int scan_retry(struct scan_ctx *c, uint64_t slot)
{
	if (c->nr_retry == c->cap_retry) {
		uint64_t cap = c->cap_retry ? c->cap_retry * 2 : 64;
		uint64_t *p = realloc(c->retry_idx, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->retry_idx = p;
		c->cap_retry = cap;
	}
	c->retry_idx[c->nr_retry++] = slot;
	return 0;
}

/* One request: the header of one slot, or a run of adjacent 4 KiB slots (all header). */
static int scan_done(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	struct scan_ctx *c = arg;
	struct rawio_store *s = c->s;
	uint64_t slot = (io->off - s->g.data_off) / s->g.slot_size;
	uint64_t k = s->g.slot_size == STORE_BLOCK ? io->len / STORE_BLOCK : 1, done0 = c->done;
	int ret = 0;

	(void)idx;
	s->rec.headers_read += k;
	for (uint64_t i = 0; i < k && !ret; i++) {
		if (io->result != io->len) /* failed or short: read each slot again alone */
			ret = scan_retry(c, slot + i);
		else
			ret = scan_apply(c, slot + i, STORE_BLOCK,
					 (char *)data + i * s->g.slot_size);
	}
	c->done += k;
	if (s->opts.progress && (c->done / 4096 != done0 / 4096 || c->done == c->total))
		s->opts.progress(s->opts.progress_arg, RAWIO_STORE_PHASE_HEADERS, c->done,
				 c->total);
	return ret;
}

/*
 * Read and judge the headers of the slots to look at, CHUNK requests per batch
 * call. With 4 KiB slots every block is a header, so adjacent slots are read
 * SCAN_RUN at a time: one 256 KiB request instead of 64 (the device sees the
 * sequential read fio's ceiling is measured with, and the CPU cost per header
 * falls by the run length). Larger slots: one 4 KiB read per header.
 */
#define SCAN_RUN    64u
#define SCAN_RUN_QD 32u /* run buffers in flight: 8 MiB */

static int store_scan(struct rawio_store *s, struct scan_ctx *c)
{
	const uint64_t chunk = 1u << 16; /* batch descriptors at a time: memory stays flat */
	unsigned qd = s->opts.engine_opts.queue_depth ? s->opts.engine_opts.queue_depth : 128;
	uint32_t run = s->g.slot_size == STORE_BLOCK ? SCAN_RUN : 1;
	struct rawio_batch_io *ios;
	struct rawio_engine *e;
	void *one;
	uint64_t slot = 0;
	int ret;

	if (run > 1 && qd > SCAN_RUN_QD)
		qd = SCAN_RUN_QD;
	ios = calloc(chunk, sizeof(*ios));
	one = rawio_buf_alloc(STORE_BLOCK, STORE_BLOCK);
	if (!ios || !one) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = store_engine_open(
		s,
		run > 1 ? store_engine_one(s, s->rec.engine_why, sizeof(s->rec.engine_why))
			: store_engine_scan(s, qd, s->rec.engine_why, sizeof(s->rec.engine_why)),
		qd, &e);
	if (ret)
		goto out_free;
	if (!strcmp(s->engine, "auto")) { /* say what auto read the headers with, and why */
		snprintf(s->rec.engine, sizeof(s->rec.engine), "auto:%s", rawio_engine_name(e));
		if (!s->rec.engine_why[0])
			store_auto_why(e, s->rec.engine_why, sizeof(s->rec.engine_why));
	}
	c->total = 0;
	for (uint64_t i = 0; i < s->g.slot_count; i++)
		c->total += !c->only_expected || s->ix.slots[i].state == SLOT_LIVE;
	while (slot < s->g.slot_count && !ret) {
		size_t n = 0;
		ssize_t failed;

		for (; slot < s->g.slot_count && n < chunk; slot++) {
			uint64_t off = store_slot_off(&s->g, slot);

			if (c->only_expected && s->ix.slots[slot].state != SLOT_LIVE)
				continue;
			if (n && ios[n - 1].off + ios[n - 1].len == off &&
			    ios[n - 1].len < run * STORE_BLOCK) {
				ios[n - 1].len += STORE_BLOCK;
				continue;
			}
			ios[n++] = (struct rawio_batch_io){ .off = off, .len = STORE_BLOCK };
		}
		failed = rawio_batch_read(e, ios, n, scan_done, c);
		if (failed < 0)
			ret = (int)failed;
	}
	rawio_engine_close(e);
	/* The per-slot fallback: one bad sector drops one entry, not the batch. */
	for (uint64_t i = 0; i < c->nr_retry && !ret; i++) {
		uint64_t sl = c->retry_idx[i];
		int64_t res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, one, STORE_BLOCK,
						   store_slot_off(&s->g, sl));

		s->rec.retried++;
		ret = scan_apply(c, sl, res, one);
	}
out_free:
	rawio_buf_free(one);
	free(ios);
	return ret;
}

static int cand_cmp(const void *a, const void *b, void *arg)
{
	const struct store_index *ix = arg;
	uint64_t ga = slot_gen(&ix->slots[*(const uint32_t *)a & ~CAND_DURABLE]);
	uint64_t gb = slot_gen(&ix->slots[*(const uint32_t *)b & ~CAND_DURABLE]);

	return ga < gb ? 1 : ga > gb ? -1 : 0; /* newest first */
}

int store_payload_ok(struct rawio_store *s, uint64_t slot, const struct slot_meta *m)
{
	uint64_t len = STORE_BLOCK + store_round(m->payload_len, s->io_align);
	char *buf = rawio_buf_alloc(len, STORE_BLOCK);
	int64_t res;
	int ok;

	if (!buf)
		return -ENOMEM;
	res = rawio_engine_pool_io(s->pool, RAWIO_OP_READ, 0, buf, len,
				   store_slot_off(&s->g, slot));
	s->rec.payloads_read++;
	ok = res < 0 ? (int)res
		     : rawio_crc32c(0, buf + STORE_BLOCK, m->payload_len) == m->payload_crc;
	rawio_buf_free(buf);
	return ok;
}

/* Roll forward: newest first, each key's first candidate whose payload checks out wins. */
static int store_roll_forward(struct rawio_store *s, struct scan_ctx *c)
{
	if (c->nr_cand)
		qsort_r(c->cand, c->nr_cand, sizeof(*c->cand), cand_cmp, &s->ix);
	for (uint64_t i = 0; i < c->nr_cand; i++) {
		uint32_t slot = c->cand[i] & ~CAND_DURABLE;
		bool durable = c->cand[i] & CAND_DURABLE;
		struct slot_meta *m = &s->ix.slots[slot];
		int64_t cur = index_lookup(&s->ix, m->key, m->key_len);
		int ok;

		if (cur >= 0 && slot_gen(&s->ix.slots[cur]) > slot_gen(m)) {
			s->rec.superseded++;
			goto discard;
		}
		ok = store_payload_ok(s, slot, m);
		if (ok == -ENOMEM)
			return ok;
		if (ok < 0) {
			/* Unreadable now, maybe not later: neither adopt nor zero it. */
			m->state = SLOT_LOST;
			if (!s->roll_floor || c->g < s->roll_floor)
				s->roll_floor = c->g ? c->g : 1;
			s->rec.unreadable++;
			store_found(s, RAWIO_STORE_FOUND_UNREADABLE, slot, m->key, m->key_len, true,
				    slot_gen(m));
			continue;
		}
		if (!ok && !durable) {
			/*
			 * A put that was not durable (one I/O for header and payload):
			 * torn. A read-only open (check) keeps it as SLOT_DAMAGED; a
			 * read-write recovery drops it.
			 */
			s->rec.dropped_torn++;
			store_found(s, RAWIO_STORE_FOUND_TORN, slot, m->key, m->key_len, true,
				    slot_gen(m));
			if (s->read_only) {
				m->state = SLOT_DAMAGED;
				continue;
			}
			goto discard;
		}
		if (!ok) {
			/*
			 * The payload was durable before this header was written: damage to
			 * an acknowledged object. It stays the key's object (get fails with
			 * -EBADMSG, checkpoints name it, its slot is not reused) until the
			 * key is removed or put again.
			 */
			s->rec.damaged++;
			store_found(s, RAWIO_STORE_FOUND_DAMAGED, slot, m->key, m->key_len, true,
				    slot_gen(m));
		}
		if (cur >= 0) {
			/* A checkpointed object that a newer one replaced after the checkpoint. */
			index_unpublish(&s->ix, (uint64_t)cur);
			s->rec.superseded++;
			s->rec.validated--;
			if (push_u32(&c->zero, &c->nr_zero, &c->cap_zero, (uint32_t)cur))
				return -ENOMEM;
		}
		index_publish(&s->ix, slot);
		s->rec.rolled_forward += ok;
		continue;
	discard:
		if (push_u32(&c->zero, &c->nr_zero, &c->cap_zero, slot))
			return -ENOMEM;
	}
	return 0;
}

int store_recover(struct rawio_store *s)
{
	struct scan_ctx c = { .s = s };
	enum rawio_store_recover mode = s->opts.recover;
	uint64_t t0 = rawio_now_ns(), t1, cpu0;
	int ret;

	memset(&s->rec, 0, sizeof(s->rec));
	s->rec.format_version = s->sb_version_min;
	snprintf(s->rec.engine, sizeof(s->rec.engine), "%s", s->engine);
	s->rec.mode = mode;
	s->rec.checkpoint = -1;
	cpu0 = clock_process_cpu_ns();
	if (mode != RAWIO_STORE_RECOVER_SCAN) {
		ret = store_load_checkpoint(s, &c.g, &c.cp_next);
		if (ret)
			goto out;
	}
	c.only_expected = mode == RAWIO_STORE_RECOVER_NO_ROLL;

	t1 = rawio_now_ns();
	s->rec.checkpoint_ns = t1 - t0;
	s->rec.checkpoint_cpu_ns = clock_process_cpu_ns() - cpu0;
	cpu0 = clock_process_cpu_ns();
	ret = store_scan(s, &c);
	s->rec.read_cpu_ns = clock_process_cpu_ns() - cpu0;
	s->rec.read_ns = rawio_now_ns() - t1;
	if (ret)
		goto out;
	t1 = rawio_now_ns();
	ret = store_roll_forward(s, &c);
	if (ret)
		goto out;

	/* Leftovers: zero them so that a later scan cannot bring them back. */
	if (!s->read_only && c.nr_zero) {
		int64_t res;

		ret = store_zero_headers(s, c.zero, c.nr_zero);
		if (ret)
			goto out;
		/* Durable before the slots are reused (a torn reuse must not revive them). */
		res = rawio_engine_pool_io(s->pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
		if (res < 0) {
			ret = (int)res;
			goto out;
		}
		s->rec.stale_zeroed = c.nr_zero;
	}
	for (uint64_t i = 0; i < c.nr_zero; i++) {
		struct slot_meta *m = &s->ix.slots[c.zero[i]];

		if (m->state == SLOT_PENDING || m->state == SLOT_DYING)
			index_release(&s->ix, c.zero[i]);
	}
	/* Above every generation seen, and every one the checkpoint knew of. */
	s->next_gen = c.cp_next > c.max_gen + 1 ? c.cp_next : c.max_gen + 1;
	s->rec.entries = s->ix.nr_live;
	s->rec.roll_ns = rawio_now_ns() - t1;
out:
	s->rec.ns = rawio_now_ns() - t0;
	free(c.cand);
	free(c.zero);
	free(c.retry_idx);
	return ret;
}

int rawio_store_found_str(const struct rawio_store_found *f, char *buf, size_t len)
{
	char who[128];
	bool did = f->applied;
	int n;

	n = snprintf(who, sizeof(who), "slot %llu at offset %llu", (unsigned long long)f->slot,
		     (unsigned long long)f->off);
	if (f->key_len)
		n += snprintf(who + n, sizeof(who) - (size_t)n, " (key %s%.*s",
			      f->key_trusted ? "" : "as it reads, unverified: ", (int)f->key_len,
			      (const char *)f->key);
	if (f->key_len && f->generation)
		n += snprintf(who + n, sizeof(who) - (size_t)n, ", generation %llu",
			      (unsigned long long)f->generation);
	if (f->key_len)
		snprintf(who + n, sizeof(who) - (size_t)n, ")");
	switch (f->what) {
	case RAWIO_STORE_FOUND_DAMAGED:
		return snprintf(buf, len,
				"%s: damaged: its put was durable, but its payload now fails its "
				"crc32c; %s the key's object, its slot reserved (get fails) until "
				"the key is removed or put again",
				who, did ? "kept as" : "recovery keeps it as");
	case RAWIO_STORE_FOUND_TORN:
		return snprintf(buf, len,
				"%s: a torn put: written after the last checkpoint by a put that "
				"was not durable, its payload fails its crc32c; %s",
				who, did ? "dropped, its header zeroed" : "recovery drops it");
	case RAWIO_STORE_FOUND_BAD_HEADER:
		return snprintf(buf, len,
				"%s: slot header fails its crc32c (a torn header write or damage; "
				"nothing in it can be trusted); %s",
				who, did ? "zeroed" : "recovery zeroes it");
	case RAWIO_STORE_FOUND_BAD_ENTRY:
		return snprintf(
			buf, len,
			"%s: named by the checkpoint, but its slot header is damaged or "
			"not ours (damage, or a torn reuse of the slot after the "
			"checkpoint); %s",
			who,
			did ? "dropped from the index, a damaged header zeroed"
			    : "recovery drops it from the index and zeroes a damaged header");
	case RAWIO_STORE_FOUND_UNREADABLE:
		return snprintf(buf, len,
				"%s: could not be read; left alone and not reused, looked at "
				"again by the next recovery",
				who);
	}
	return snprintf(buf, len, "%s: ?", who);
}
