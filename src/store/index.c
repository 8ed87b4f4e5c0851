// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "index.h"

/*
 * Zeroed memory for the two big arrays, on transparent huge pages where the
 * kernel allows it: a loaded index touches every slot_meta, and at 4 KiB a
 * page the first touches were 8% of a recovery's samples (perf, docs/perf.md).
 */
static void *index_zalloc(size_t len)
{
	void *p;

	if (len < (2u << 20))
		return calloc(1, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static void index_zfree(void *p, size_t len)
{
	if (!p)
		return;
	if (len < (2u << 20))
		free(p);
	else
		munmap(p, len);
}

/* FNV-1a, then a 64-bit finalizer: keys are often hashes already, or short strings. */
uint64_t index_hash(const uint8_t *key, unsigned len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

int index_init(struct store_index *ix, uint64_t nr_slots)
{
	uint64_t size = 16;

	memset(ix, 0, sizeof(*ix));
	while (size < nr_slots + nr_slots / 2)
		size <<= 1;
	ix->nr_slots = nr_slots;
	ix->mask = size - 1;
	ix->slots = index_zalloc(nr_slots * sizeof(*ix->slots));
	ix->table = index_zalloc(size * sizeof(*ix->table));
	ix->free_bits = calloc((nr_slots + 63) / 64, sizeof(uint64_t));
	if (!ix->slots || !ix->table || !ix->free_bits) {
		index_fini(ix);
		return -ENOMEM;
	}
	/* slot + 1 in the low bits of a bucket; the bits above it carry hash bits (a tag). */
	ix->slot_mask = 0xffffffffu;
	while (ix->slot_mask >> 1 >= nr_slots)
		ix->slot_mask >>= 1;
	for (uint64_t i = 0; i < nr_slots; i++)
		ix->free_bits[i / 64] |= 1ull << (i % 64);
	return 0;
}

void index_fini(struct store_index *ix)
{
	free(ix->free_bits);
	index_zfree(ix->table, ix->table ? (ix->mask + 1) * sizeof(*ix->table) : 0);
	index_zfree(ix->slots, ix->nr_slots * sizeof(*ix->slots));
	memset(ix, 0, sizeof(*ix));
}

uint64_t index_bytes(const struct store_index *ix)
{
	return ix->nr_slots * sizeof(*ix->slots) + (ix->mask + 1) * sizeof(*ix->table) +
	       (ix->nr_slots + 63) / 64 * 8;
}

static bool index_key_eq(const struct slot_meta *m, const uint8_t *key, unsigned len)
{
	return m->key_len == len && !memcmp(m->key, key, len);
}

/* The hash bits a bucket keeps above its slot number. */
static uint32_t index_tag(const struct store_index *ix, uint64_t h)
{
	return (uint32_t)(h >> 32) & ~ix->slot_mask;
}

/*
 * The bucket holding KEY (hash H), or the empty bucket that ends its probe chain.
 * The tag spares a look at the slot_meta of almost every other key on the chain:
 * those are cache misses scattered over the slot array (the checkpoint load spent
 * a quarter of the open here, perf, docs/perf.md).
 */
static uint64_t index_find(const struct store_index *ix, uint64_t h, const uint8_t *key,
			   unsigned key_len)
{
	uint32_t tag = index_tag(ix, h);
	uint64_t i = h & ix->mask;

	for (;; i = (i + 1) & ix->mask) {
		uint32_t v = ix->table[i];

		if (!v || ((v & ~ix->slot_mask) == tag &&
			   index_key_eq(&ix->slots[(v & ix->slot_mask) - 1], key, key_len)))
			return i;
	}
}

int64_t index_lookup(const struct store_index *ix, const uint8_t *key, unsigned key_len)
{
	uint32_t v = ix->table[index_find(ix, index_hash(key, key_len), key, key_len)];

	return v ? (int64_t)(v & ix->slot_mask) - 1 : -1;
}

static void index_take(struct store_index *ix, uint64_t slot)
{
	ix->free_bits[slot / 64] &= ~(1ull << (slot % 64));
	ix->slots[slot].state = SLOT_PENDING;
	ix->nr_used++;
}

int64_t index_alloc(struct store_index *ix)
{
	uint64_t words = (ix->nr_slots + 63) / 64;

	for (uint64_t n = 0; n < words; n++) {
		uint64_t w = (ix->free_cursor + n) % words;

		if (ix->free_bits[w]) {
			uint64_t slot = w * 64 + (uint64_t)__builtin_ctzll(ix->free_bits[w]);

			ix->free_cursor = w;
			index_take(ix, slot);
			return (int64_t)slot;
		}
	}
	return -1;
}

bool index_claim(struct store_index *ix, uint64_t slot)
{
	if (slot >= ix->nr_slots || ix->slots[slot].state != SLOT_FREE)
		return false;
	index_take(ix, slot);
	return true;
}

static void index_put(struct store_index *ix, uint64_t i, uint64_t h, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];

	ix->table[i] = ((uint32_t)slot + 1) | index_tag(ix, h);
	m->state = SLOT_LIVE;
	ix->nr_live++;
	ix->bytes_live += m->payload_len;
}

void index_publish(struct store_index *ix, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];
	uint64_t h = index_hash(m->key, m->key_len), i = h & ix->mask;

	while (ix->table[i])
		i = (i + 1) & ix->mask;
	index_put(ix, i, h, slot);
}

void index_prefetch(const struct store_index *ix, uint64_t h)
{
	__builtin_prefetch(&ix->table[h & ix->mask]);
}

bool index_publish_new(struct store_index *ix, uint64_t slot, uint64_t h)
{
	struct slot_meta *m = &ix->slots[slot];
	uint64_t i = index_find(ix, h, m->key, m->key_len);

	if (ix->table[i])
		return false;
	index_put(ix, i, h, slot);
	return true;
}

void index_unpublish(struct store_index *ix, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];
	uint64_t i = index_hash(m->key, m->key_len) & ix->mask, j;

	while ((ix->table[i] & ix->slot_mask) != slot + 1)
		i = (i + 1) & ix->mask;
	/* Backward-shift deletion: keep every probe chain unbroken without tombstones. */
	for (j = (i + 1) & ix->mask; ix->table[j]; j = (j + 1) & ix->mask) {
		const struct slot_meta *o = &ix->slots[(ix->table[j] & ix->slot_mask) - 1];
		uint64_t home = index_hash(o->key, o->key_len) & ix->mask;

		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->table[i] = ix->table[j];
			i = j;
		}
	}
	ix->table[i] = 0;
	m->state = SLOT_DYING;
	ix->nr_live--;
	ix->bytes_live -= m->payload_len;
}

void index_release(struct store_index *ix, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];

	memset(m, 0, sizeof(*m));
	ix->free_bits[slot / 64] |= 1ull << (slot % 64);
	ix->nr_used--;
}
