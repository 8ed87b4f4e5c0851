// SPDX-License-Identifier: MIT
/*
 * The read path: plan each block (RAM buffer, cache device, backing device,
 * or a merge of dirty sectors over backing data), read in merged runs, and
 * read again when a segment slot was reused under the read.
 */
#include <string.h>

#include "cache_impl.h"

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

		pthread_mutex_lock(&c->lock);
	replan:
		hits = hits_ram = partial = misses = 0;
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
			if (ram && __atomic_load_n(&c->pending[loc], __ATOMIC_SEQ_CST)) {
				/* A write's copy into it is in flight (write.c): wait, plan again. */
				cache_wait_copied(c, &c->pending[loc], NULL);
				goto replan;
			}
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
			ret = rawio_engine_pool_get(c->bpool, &e);
			if (ret)
				return ret;
			ret = cache_run(e, bios, nb, false);
			rawio_engine_pool_put(c->bpool, e);
			if (ret)
				return ret;
		}
		if (nc) {
			ret = rawio_engine_pool_get(c->cpool, &e);
			if (ret)
				return ret;
			ret = cache_run(e, cios, nc, false);
			rawio_engine_pool_put(c->cpool, e);
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
	bounce = rawio_buf_pool_get(c->bounce);
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
	rawio_buf_pool_put(c->bounce, bounce);
	return ret;
}
