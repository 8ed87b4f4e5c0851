// SPDX-License-Identifier: MIT
/*
 * Recovery: read every segment header in batches (seed 000's technique),
 * judge each on its own, replay the run of consecutive ids after the last
 * written-back one.
 *
 * 1. Headers: every slot's header block is read in batches at the recovery
 *    queue depth (memory: queue depth x 4 KiB); a failed read is retried
 *    alone, so one bad sector costs one segment.
 * 2. The run: id L+1, L+2, ... (L from the superblock record) while the slot
 *    of each holds a valid header of exactly that id. The run is at most
 *    nr_segments long.
 * 3. Verify: the run's segments are read whole (batched) and checked against
 *    their data crc. The first one that fails (torn by a crash, unreadable)
 *    ends the run; everything before it is replayed. Segments past the end
 *    can only be segments written out of order just before a crash, whose
 *    barriers were never acknowledged (a barrier waits for every older
 *    segment): they are orphans, and their headers are zeroed (and flushed)
 *    before the cache takes writes, so that a later recovery cannot find them
 *    behind new segments of the ids before them (several commits are in
 *    flight at a crash: N+2 may be written, N+1 torn). Headers that could not
 *    be read are zeroed too: one of them may be such an orphan.
 * 4. Replay: the run's entries go into the index oldest first, so each block
 *    ends up at its newest copy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_impl.h"
#include "util/crc32c.h"

enum hdr_state {
	H_ZERO = 0, /* nothing there */
	H_VALID,
	H_TORN,	   /* our magic, bad crc */
	H_CORRUPT, /* crc fine, structure wrong */
	H_FOREIGN, /* an earlier format's */
	H_IO,	   /* unreadable, also alone */
};

struct rec_ctx {
	struct rawio_cache *c;
	uint64_t *hid;	       /* per slot: header id (H_VALID) */
	uint32_t *hnr;	       /* per slot: blocks */
	uint8_t *hst;	       /* per slot: enum hdr_state */
	uint64_t *scratch_blk; /* bps entries, for decoding */
	uint8_t *scratch_mask;
	uint64_t *retry;
	size_t nr_retry, cap_retry;
	/* phase 2 */
	uint64_t first; /* id of ios[0] */
	uint8_t *ok;	/* per id of the run: 1 verified, 0 not (yet) */
	uint8_t *why;	/* per id: enum hdr_state of the failure */
};

static int rec_push_retry(struct rec_ctx *r, uint64_t v)
{
	if (r->nr_retry == r->cap_retry) {
		size_t cap = r->cap_retry ? r->cap_retry * 2 : 64;
		uint64_t *p = realloc(r->retry, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->retry = p;
		r->cap_retry = cap;
	}
	r->retry[r->nr_retry++] = v;
	return 0;
}

static uint8_t rec_classify(int dec)
{
	switch (dec) {
	case 0:
		return H_VALID;
	case -ENODATA:
		return H_ZERO;
	case -EBADMSG:
		return H_TORN;
	case -ESTALE:
	case -ENOMSG: /* no magic: not ours, like a header of an earlier format */
		return H_FOREIGN;
	default:
		return H_CORRUPT;
	}
}

static void rec_judge_header(struct rec_ctx *r, uint64_t slot, const void *data)
{
	struct rawio_cache *c = r->c;
	struct cache_seg_hdr h;
	int dec = cache_seg_hdr_decode(data, CACHE_BLOCK, &c->g, slot, &h, r->scratch_blk,
				       r->scratch_mask);

	r->hst[slot] = rec_classify(dec);
	if (!dec) {
		r->hid[slot] = h.id;
		r->hnr[slot] = h.nr_blocks;
		c->rec.valid++;
	}
}

static int rec_header_done(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	struct rec_ctx *r = arg;
	uint64_t slot = (io->off - r->c->g.seg_off) / r->c->g.segment_size;

	r->c->rec.headers_read++;
	if (io->result != CACHE_BLOCK)
		return rec_push_retry(r, slot);
	rec_judge_header(r, slot, data);
	return 0;
}

/* Phase 1: every header, batched. */
static int rec_read_headers(struct rec_ctx *r)
{
	struct rawio_cache *c = r->c;
	const size_t chunk = 1u << 16;
	unsigned qd = c->opts.recovery_qd ? c->opts.recovery_qd : 128;
	struct rawio_batch_io *ios;
	struct rawio_engine *e = NULL;
	void *one;
	uint64_t slot = 0;
	int ret;

	ios = calloc(chunk, sizeof(*ios));
	one = rawio_buf_alloc(CACHE_BLOCK, CACHE_BLOCK);
	ret = ios && one ? cache_engine_open(c, false, qd, &e) : -ENOMEM;
	while (!ret && slot < c->g.nr_segments) {
		size_t n = 0;
		ssize_t failed;

		for (; slot < c->g.nr_segments && n < chunk; slot++)
			ios[n++] = (struct rawio_batch_io){ .off = cache_seg_dev_off(&c->g, slot),
							    .len = CACHE_BLOCK };
		failed = rawio_batch_read(e, ios, n, rec_header_done, r);
		if (failed < 0)
			ret = (int)failed;
	}
	rawio_engine_close(e);
	for (size_t i = 0; !ret && i < r->nr_retry; i++) {
		uint64_t s = r->retry[i];
		int64_t res = rawio_engine_pool_io(c->cpool, RAWIO_OP_READ, 0, one, CACHE_BLOCK,
						   cache_seg_dev_off(&c->g, s));

		c->rec.headers_retried++;
		if (res < 0) {
			r->hst[s] = H_IO;
			c->rec.io_errors++;
		} else {
			rec_judge_header(r, s, one);
		}
	}
	r->nr_retry = 0;
	rawio_buf_free(one);
	free(ios);
	return ret;
}

/* Check segment ID (data at DATA) and load its entries into the slot's arrays. */
static void rec_verify_segment(struct rec_ctx *r, uint64_t id, const char *data)
{
	struct rawio_cache *c = r->c;
	uint64_t slot = id % c->g.nr_segments, i = id - r->first;
	struct cache_seg_hdr h;
	int dec = cache_seg_hdr_decode(data, CACHE_BLOCK, &c->g, slot, &h, &c->blk[slot * c->bps],
				       &c->mask[slot * c->bps]);

	if (dec || h.id != id || h.nr_blocks != r->hnr[slot]) {
		r->why[i] = dec ? rec_classify(dec) : H_CORRUPT;
		return;
	}
	if (rawio_crc32c(0, data + CACHE_BLOCK, (size_t)h.nr_blocks * CACHE_BLOCK) != h.data_crc) {
		r->why[i] = H_TORN;
		return;
	}
	r->ok[i] = 1;
	c->segs[slot] = (struct cache_seg){ .id = id,
					    .nr_blocks = h.nr_blocks,
					    .state = SEG_DIRTY,
					    .flags = (uint8_t)h.flags,
					    .written = true };
}

static int rec_segment_done(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	struct rec_ctx *r = arg;

	if (io->result < 0 || (uint64_t)io->result != io->len)
		return rec_push_retry(r, r->first + idx);
	rec_verify_segment(r, r->first + idx, data);
	return 0;
}

/* Phase 3: read the candidate run [FIRST, LAST] whole and verify it. */
static int rec_verify_run(struct rec_ctx *r, uint64_t first, uint64_t last)
{
	struct rawio_cache *c = r->c;
	uint64_t n = last - first + 1;
	unsigned qd = c->opts.recovery_qd ? c->opts.recovery_qd : 128;
	unsigned mem_qd = (unsigned)((64u << 20) / c->g.segment_size); /* 64 MiB of buffers */
	struct rawio_batch_io *ios;
	struct rawio_engine *e = NULL;
	char *one;
	ssize_t failed;
	int ret;

	if (qd > mem_qd)
		qd = mem_qd;
	r->first = first;
	r->ok = calloc(n, 1);
	r->why = calloc(n, 1);
	ios = calloc(n, sizeof(*ios));
	one = rawio_buf_alloc(c->g.segment_size, CACHE_BLOCK);
	ret = r->ok && r->why && ios && one ? cache_engine_open(c, false, qd, &e) : -ENOMEM;
	if (ret)
		goto out;
	for (uint64_t id = first; id <= last; id++) {
		uint64_t slot = id % c->g.nr_segments;

		ios[id - first] = (struct rawio_batch_io){
			.off = cache_seg_dev_off(&c->g, slot),
			.len = (1 + r->hnr[slot]) * CACHE_BLOCK,
		};
	}
	failed = rawio_batch_read(e, ios, n, rec_segment_done, r);
	rawio_engine_close(e);
	if (failed < 0) {
		ret = (int)failed;
		goto out;
	}
	for (size_t i = 0; i < r->nr_retry; i++) {
		uint64_t id = r->retry[i];
		int64_t res = rawio_engine_pool_io(c->cpool, RAWIO_OP_READ, 0, one,
						   ios[id - first].len, ios[id - first].off);

		if (res < 0) {
			r->why[id - first] = H_IO;
			c->rec.io_errors++;
		} else {
			rec_verify_segment(r, id, one);
		}
	}
	r->nr_retry = 0;
out:
	rawio_buf_free(one);
	free(ios);
	return ret;
}

static const char *rec_reason(uint8_t st)
{
	switch (st) {
	case H_TORN:
		return "torn";
	case H_CORRUPT:
		return "corrupt";
	case H_IO:
		return "io";
	default:
		return "end";
	}
}

/* Zero the headers of SLOTS and flush the cache device. */
static int rec_zero_headers(struct rawio_cache *c, const uint64_t *slots, size_t n)
{
	struct rawio_batch_io *ios = calloc(n ? n : 1, sizeof(*ios));
	void *zero = rawio_buf_alloc(CACHE_BLOCK, CACHE_BLOCK);
	struct rawio_engine *e = NULL;
	int ret;

	ret = ios && zero ? rawio_engine_pool_get(c->cpool, &e) : -ENOMEM;
	if (!ret) {
		for (size_t i = 0; i < n; i++)
			ios[i] = (struct rawio_batch_io){ .off = cache_seg_dev_off(&c->g, slots[i]),
							  .len = CACHE_BLOCK,
							  .buf = zero };
		ret = cache_run(e, ios, n, true);
		rawio_engine_pool_put(c->cpool, e);
	}
	rawio_buf_free(zero);
	free(ios);
	return ret;
}

int cache_recover(struct rawio_cache *c)
{
	uint64_t nseg = c->g.nr_segments, l = c->last_migrated, t0 = rawio_now_ns(), t1;
	uint64_t id, cand_last, run_last, *orphans = NULL;
	struct rec_ctx r = { .c = c };
	size_t nr_orphans = 0;
	int ret;

	r.hid = calloc(nseg, sizeof(*r.hid));
	r.hnr = calloc(nseg, sizeof(*r.hnr));
	r.hst = calloc(nseg, 1);
	r.scratch_blk = calloc(c->bps, sizeof(*r.scratch_blk));
	r.scratch_mask = calloc(c->bps, 1);
	if (!r.hid || !r.hnr || !r.hst || !r.scratch_blk || !r.scratch_mask) {
		ret = -ENOMEM;
		goto out;
	}
	t1 = rawio_now_ns();
	ret = rec_read_headers(&r);
	c->rec.read_ns = rawio_now_ns() - t1;
	if (ret)
		goto out;
	for (uint64_t s = 0; s < nseg; s++) {
		c->rec.torn += r.hst[s] == H_TORN;
		c->rec.corrupt += r.hst[s] == H_CORRUPT;
	}

	/* The candidate run: consecutive ids after L, each in its slot. */
	for (id = l + 1; id <= l + nseg; id++) {
		uint64_t s = id % nseg;

		if (r.hst[s] != H_VALID || r.hid[s] != id)
			break;
	}
	cand_last = id - 1;
	c->rec.stop_id = id;
	/* A valid header of another id there is an older, written-back segment: the end. */
	c->rec.stop_reason = id > l + nseg ? "end" : rec_reason(r.hst[id % nseg]);
	run_last = cand_last;
	if (cand_last > l) {
		ret = rec_verify_run(&r, l + 1, cand_last);
		if (ret)
			goto out;
		for (id = l + 1; id <= cand_last; id++) {
			if (r.ok[id - l - 1])
				continue;
			run_last = id - 1;
			c->rec.stop_id = id;
			c->rec.stop_reason = rec_reason(r.why[id - l - 1]);
			c->rec.torn += r.why[id - l - 1] == H_TORN;
			c->rec.corrupt += r.why[id - l - 1] == H_CORRUPT;
			break;
		}
		/* Verified segments past a bad one are not replayed. */
		for (id = run_last + 1; id <= cand_last; id++)
			c->segs[id % nseg] = (struct cache_seg){ 0 };
	}
	c->rec.last_migrated = l;
	c->rec.run_first = l + 1;
	c->rec.run_last = run_last;
	c->rec.replayed = run_last - l;

	/* Replay, oldest first: every block ends at its newest copy. */
	for (id = l + 1; id <= run_last; id++) {
		uint64_t s = id % nseg;

		for (uint32_t i = 0; i < c->segs[s].nr_blocks; i++)
			cache_index_set(&c->ix, c->blk[s * c->bps + i], s * c->bps + i);
	}
	c->rec.replayed_blocks = c->ix.nr;

	/* Orphans: valid headers past the run. */
	orphans = calloc(nseg, sizeof(*orphans));
	if (!orphans) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t s = 0; s < nseg; s++)
		if (r.hst[s] == H_VALID && r.hid[s] > run_last)
			orphans[nr_orphans++] = s;
	c->rec.orphans = nr_orphans;
	/*
	 * An unreadable header may be an orphan too, and readable again later: behind
	 * the new segments of the ids before it, a later recovery would replay it.
	 * Nothing there is replayed now, so nothing is lost by zeroing it as well.
	 */
	for (uint64_t s = 0; s < nseg; s++)
		if (r.hst[s] == H_IO)
			orphans[nr_orphans++] = s;
	if (!c->read_only) {
		int64_t res = 0;

		ret = rec_zero_headers(c, orphans, nr_orphans);
		if (ret)
			goto out;
		c->rec.orphans_zeroed = c->rec.orphans;
		c->rec.unreadable_zeroed = nr_orphans - c->rec.orphans;
		/* What we replay may sit in the device's volatile cache: make it durable. */
		for (int tries = 0; tries < CACHE_IO_RETRIES; tries++) {
			res = rawio_engine_pool_io(c->cpool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
			if (res >= 0)
				break;
			usleep(1000u << tries);
		}
		if (res < 0) {
			ret = (int)res;
			goto out;
		}
	}
	c->next_id = run_last + 1;
	c->last_sealed = run_last;
	c->next_issue = run_last + 1;
	c->flushed_id = run_last;
	c->durable_id = run_last;
	ret = 0;
out:
	c->rec.ns = rawio_now_ns() - t0;
	free(orphans);
	free(r.retry);
	free(r.ok);
	free(r.why);
	free(r.scratch_mask);
	free(r.scratch_blk);
	free(r.hst);
	free(r.hnr);
	free(r.hid);
	return ret;
}

int cache_read_super(struct rawio_cache *c, struct cache_rec *rec, int *rec_ok)
{
	const char *path = c->cinfo->path;
	struct cache_rec recs[2];
	int dec[2], ret;
	char *buf;
	int64_t res;

	*rec_ok = 0;
	if (c->cinfo->size < CACHE_SEG_OFF) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len,
			   "%s: not a rawio cache (%llu bytes, smaller than the superblock area)",
			   path, (unsigned long long)c->cinfo->size);
		return -EUCLEAN;
	}
	buf = rawio_buf_alloc(3 * CACHE_BLOCK, CACHE_BLOCK);
	if (!buf)
		return -ENOMEM;
	res = rawio_engine_pool_io(c->cpool, RAWIO_OP_READ, 0, buf, 3 * CACHE_BLOCK, 0);
	if (res < 0) {
		ret = (int)res;
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len, "%s: reading the superblock: %s",
			   path, rawio_strerror(ret));
		goto out;
	}
	ret = cache_sb_decode(buf, CACHE_BLOCK, &c->g);
	if (ret) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len, "%s: %s", path,
			   ret == -ENODATA
				   ? "not a rawio cache (no superblock; format it first)"
				   : "no valid cache superblock (not a rawio cache, or damaged)");
		ret = ret == -EBADMSG ? -EBADMSG : -EUCLEAN;
		goto out;
	}
	if (c->cinfo->size < c->g.cache_size) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len,
			   "%s: %llu bytes, but the cache was formatted for %llu", path,
			   (unsigned long long)c->cinfo->size, (unsigned long long)c->g.cache_size);
		ret = -EUCLEAN;
		goto out;
	}
	if (c->binfo->size < c->g.backing_size) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len,
			   "%s: %llu bytes, but the cache on %s caches %llu: the wrong backing "
			   "device?",
			   c->binfo->path, (unsigned long long)c->binfo->size, path,
			   (unsigned long long)c->g.backing_size);
		ret = -EINVAL;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		dec[i] =
			cache_rec_decode(buf + (1 + i) * CACHE_BLOCK, CACHE_BLOCK, &c->g, &recs[i]);
		if (!dec[i])
			*rec_ok |= 1 << i;
		else if (dec[i] != -ENODATA && dec[i] != -ESTALE)
			c->rec.record_fallback =
				true; /* damaged (most likely torn while written) */
	}
	if (!*rec_ok) {
		errbuf_set(c->opts.errbuf, c->opts.errbuf_len,
			   "%s: no valid superblock record (both copies damaged)", path);
		ret = dec[0] == -EBADMSG || dec[1] == -EBADMSG ? -EBADMSG : -EUCLEAN;
		goto out;
	}
	*rec = *rec_ok == 3 ? (recs[1].seq > recs[0].seq ? recs[1] : recs[0])
			    : recs[*rec_ok == 1 ? 0 : 1];
	c->last_migrated = rec->last_migrated;
	c->rec_seq = rec->seq;
	c->rec.record_seq = rec->seq;
	c->rec.last_migrated = rec->last_migrated;
	ret = 0;
out:
	rawio_buf_free(buf);
	return ret;
}
