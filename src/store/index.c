// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

/* FNV-1a, then a 64-bit finalizer: keys are often hashes already, or short strings. */
static uint64_t index_hash(const uint8_t *key, unsigned len)
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
	ix->slots = calloc(nr_slots, sizeof(*ix->slots));
	ix->table = calloc(size, sizeof(*ix->table));
	ix->free_bits = calloc((nr_slots + 63) / 64, sizeof(uint64_t));
	if (!ix->slots || !ix->table || !ix->free_bits) {
		index_fini(ix);
		return -ENOMEM;
	}
	ix->nr_slots = nr_slots;
	ix->mask = size - 1;
	for (uint64_t i = 0; i < nr_slots; i++)
		ix->free_bits[i / 64] |= 1ull << (i % 64);
	return 0;
}

void index_fini(struct store_index *ix)
{
	free(ix->free_bits);
	free(ix->table);
	free(ix->slots);
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

int64_t index_lookup(const struct store_index *ix, const uint8_t *key, unsigned key_len)
{
	uint64_t i = index_hash(key, key_len) & ix->mask;

	for (;; i = (i + 1) & ix->mask) {
		uint32_t v = ix->table[i];

		if (!v)
			return -1;
		if (index_key_eq(&ix->slots[v - 1], key, key_len))
			return v - 1;
	}
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

void index_publish(struct store_index *ix, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];
	uint64_t i = index_hash(m->key, m->key_len) & ix->mask;

	while (ix->table[i])
		i = (i + 1) & ix->mask;
	ix->table[i] = (uint32_t)slot + 1;
	m->state = SLOT_LIVE;
	ix->nr_live++;
	ix->bytes_live += m->payload_len;
}

void index_unpublish(struct store_index *ix, uint64_t slot)
{
	struct slot_meta *m = &ix->slots[slot];
	uint64_t i = index_hash(m->key, m->key_len) & ix->mask, j;

	while (ix->table[i] != slot + 1)
		i = (i + 1) & ix->mask;
	/* Backward-shift deletion: keep every probe chain unbroken without tombstones. */
	for (j = (i + 1) & ix->mask; ix->table[j]; j = (j + 1) & ix->mask) {
		const struct slot_meta *o = &ix->slots[ix->table[j] - 1];
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
