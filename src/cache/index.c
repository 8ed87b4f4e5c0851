// SPDX-License-Identifier: MIT
/*
 * The cache index: backing block -> loc of its newest copy. Open addressing
 * with linear probing and backward-shift deletion (no tombstones, so lookups
 * stay short however many blocks come and go). The table is sized at open for
 * twice the cache's blocks, the most entries there can ever be, and never
 * grows. Both arrays are written through at init (prefaulted): left to
 * calloc's lazy zero pages, the first writes after open take a page fault
 * for every 512 new slots touched, under the cache lock that every writer
 * waits on. Open pays the faults instead: 16 bytes per slot, 32 per block.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"

static uint64_t cache_index_hash(const struct cache_index *ix, uint64_t block)
{
	return (block * 0x9e3779b97f4a7c15ull) >> ix->shift;
}

int cache_index_init(struct cache_index *ix, uint64_t max_entries)
{
	uint64_t cap = 16;
	unsigned bits = 4;

	while (cap < 2 * max_entries) {
		cap <<= 1;
		bits++;
	}
	ix->keys = malloc(cap * sizeof(*ix->keys));
	ix->locs = malloc(cap * sizeof(*ix->locs));
	if (!ix->keys || !ix->locs) {
		cache_index_fini(ix);
		return -ENOMEM;
	}
	memset(ix->keys, 0, cap * sizeof(*ix->keys));
	memset(ix->locs, 0, cap * sizeof(*ix->locs));
	ix->mask = cap - 1;
	ix->shift = 64 - bits;
	ix->nr = 0;
	return 0;
}

void cache_index_fini(struct cache_index *ix)
{
	free(ix->keys);
	free(ix->locs);
	ix->keys = NULL;
	ix->locs = NULL;
}

static uint64_t cache_index_find(const struct cache_index *ix, uint64_t block, bool *found)
{
	uint64_t i = cache_index_hash(ix, block);

	for (;;) {
		if (!ix->keys[i]) {
			*found = false;
			return i;
		}
		if (ix->keys[i] == block + 1) {
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

	return found ? (int64_t)ix->locs[i] : -1;
}

void cache_index_set(struct cache_index *ix, uint64_t block, uint64_t loc)
{
	bool found;
	uint64_t i = cache_index_find(ix, block, &found);

	if (!found) {
		ix->keys[i] = block + 1;
		ix->nr++;
	}
	ix->locs[i] = loc;
}

void cache_index_del(struct cache_index *ix, uint64_t block)
{
	bool found;
	uint64_t i = cache_index_find(ix, block, &found), j = i;

	if (!found)
		return;
	ix->keys[i] = 0;
	ix->nr--;
	/* Shift back every entry of the cluster that would no longer be found. */
	for (;;) {
		uint64_t home;

		j = (j + 1) & ix->mask;
		if (!ix->keys[j])
			return;
		home = cache_index_hash(ix, ix->keys[j] - 1);
		/* Keep entry j where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		ix->keys[i] = ix->keys[j];
		ix->locs[i] = ix->locs[j];
		ix->keys[j] = 0;
		i = j;
	}
}

void cache_index_walk(const struct cache_index *ix,
		      void (*fn)(void *arg, uint64_t block, uint64_t loc), void *arg)
{
	for (uint64_t i = 0; i <= ix->mask; i++)
		if (ix->keys[i])
			fn(arg, ix->keys[i] - 1, ix->locs[i]);
}
