// SPDX-License-Identifier: MIT
/*
 * The cache index: backing block -> loc of its newest copy. Open addressing
 * with linear probing and backward-shift deletion (no tombstones, so lookups
 * stay short however many blocks come and go). The table is sized at open for
 * twice the cache's blocks, the most entries there can ever be, and never
 * grows. The table is written through at init (prefaulted): left to
 * calloc's lazy zero pages, the first writes after open take a page fault
 * for every 256 new slots touched, under the cache lock that every writer
 * waits on. Open pays the faults instead: 16 bytes per slot, 32 per block.
 * A slot's key and loc share a cache line: a lookup of a random block (every
 * write makes one, under the lock) misses the cache once, not twice. The
 * table is on transparent huge pages where it spans one or more: a 1.3 GiB
 * cache's is 16 MiB, 4,096 small pages, so a random lookup also missed the
 * TLB, which in a VM is a two-level walk; that made cache_index_get 47% of
 * the absorb's writer CPU (docs/perf.md, fourth session). The writer
 * prefetches its slot before taking the lock (cache_index_prefetch).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cache_impl.h"

static uint64_t cache_index_hash(const struct cache_index *ix, uint64_t block)
{
	return (block * 0x9e3779b97f4a7c15ull) >> ix->shift;
}

void cache_index_prefetch(const struct cache_index *ix, uint64_t block)
{
	__builtin_prefetch(&ix->ents[cache_index_hash(ix, block)], 0, 3);
}

int cache_index_init(struct cache_index *ix, uint64_t max_entries)
{
	uint64_t cap = 16;
	unsigned bits = 4;
	size_t len;

	while (cap < 2 * max_entries) {
		cap <<= 1;
		bits++;
	}
	len = cap * sizeof(*ix->ents);
	ix->ents = aligned_alloc(len >= CACHE_HUGE ? CACHE_HUGE : sizeof(*ix->ents), len);
	if (!ix->ents)
		return -ENOMEM;
	if (len >= CACHE_HUGE)
		(void)madvise(ix->ents, len, MADV_HUGEPAGE); /* advice: without THP, plain pages */
	memset(ix->ents, 0, len);
	ix->mask = cap - 1;
	ix->shift = 64 - bits;
	ix->nr = 0;
	return 0;
}

void cache_index_fini(struct cache_index *ix)
{
	free(ix->ents);
	ix->ents = NULL;
}

static uint64_t cache_index_find(const struct cache_index *ix, uint64_t block, bool *found)
{
	uint64_t i = cache_index_hash(ix, block);

	for (;;) {
		if (!ix->ents[i].key) {
			*found = false;
			return i;
		}
		if (ix->ents[i].key == block + 1) {
			*found = true;
			return i;
		}
		i = (i + 1) & ix->mask;
	}
}

int64_t cache_index_get(const struct cache_index *ix, uint64_t block)
{
	bool found;
	uint64_t i = cache_index_find(ix, block, &found);

	return found ? (int64_t)ix->ents[i].loc : -1;
}

void cache_index_set(struct cache_index *ix, uint64_t block, uint64_t loc)
{
	bool found;
	uint64_t i = cache_index_find(ix, block, &found);

	if (!found) {
		ix->ents[i].key = block + 1;
		ix->nr++;
	}
	ix->ents[i].loc = loc;
}

void cache_index_del(struct cache_index *ix, uint64_t block)
{
	bool found;
	uint64_t i = cache_index_find(ix, block, &found), j = i;

	if (!found)
		return;
	ix->ents[i].key = 0;
	ix->nr--;
	/* Shift back every entry of the cluster that would no longer be found. */
	for (;;) {
		uint64_t home;

		j = (j + 1) & ix->mask;
		if (!ix->ents[j].key)
			return;
		home = cache_index_hash(ix, ix->ents[j].key - 1);
		/* Keep entry j where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		ix->ents[i] = ix->ents[j];
		ix->ents[j].key = 0;
		i = j;
	}
}

void cache_index_walk(const struct cache_index *ix,
		      void (*fn)(void *arg, uint64_t block, uint64_t loc), void *arg)
{
	for (uint64_t i = 0; i <= ix->mask; i++)
		if (ix->ents[i].key)
			fn(arg, ix->ents[i].key - 1, ix->ents[i].loc);
}
