/* SPDX-License-Identifier: MIT */
/*
 * The store's in-memory index: per-slot metadata (52 bytes) and an open-
 * addressed hash table of slot numbers keyed by object key (4 bytes per
 * bucket, 1.5x to 3x the slot count): at most 64 bytes per slot in all.
 * Not thread-safe: the store serializes access.
 */
#ifndef RAWIO_STORE_INDEX_H
#define RAWIO_STORE_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include <rawio/store.h>

enum slot_state {
	SLOT_FREE = 0,
	SLOT_PENDING,	 /* allocated to a put whose write is in flight */
	SLOT_LIVE,	 /* holds the current object of its key (in the hash table) */
	SLOT_DYING,	 /* superseded: its header is zeroed once its successor is durable */
	SLOT_UNSYNCED,	 /* header zeroed, not yet flushed: not reusable until it is */
	SLOT_ZEROED,	 /* zero durable, but a reader is still in it: freed when it leaves */
	SLOT_LOST,	 /* its I/O failed: kept out of use until close */
	SLOT_UNREADABLE, /* a checkpoint entry whose header could not be read at open: out of
			  * the index, but named by later checkpoints (unless its key has a
			  * newer version) so that a transient error loses nothing; never reused */
	SLOT_DAMAGED,	 /* read-only opens only (check): found after the checkpoint and failing
			  * a crc, a header of ours (key_len 0) or a payload (torn put or damage);
			  * a read-write recovery zeroes both */
};

struct slot_meta {
	uint32_t gen_lo, gen_hi;
	uint32_t payload_len;
	uint32_t payload_crc;
	uint8_t key[RAWIO_STORE_KEY_MAX];
	uint8_t key_len;
	uint8_t state; /* enum slot_state */
	uint16_t pins; /* readers in the slot; it is not reused while pinned */
};
_Static_assert(sizeof(struct slot_meta) == 52, "slot_meta is 52 bytes");

struct store_index {
	struct slot_meta *slots;
	uint32_t *table;    /* slot + 1 in the bits of slot_mask, hash bits above; 0 is empty */
	uint32_t slot_mask; /* the low bits that hold nr_slots */
	uint64_t nr_slots;
	uint64_t mask; /* table size - 1 */
	uint64_t nr_live;
	uint64_t nr_used;     /* slots not FREE */
	uint64_t *free_bits;  /* 1 = free */
	uint64_t free_cursor; /* word to look at first */
	uint64_t bytes_live;
};

static inline uint64_t slot_gen(const struct slot_meta *m)
{
	return (uint64_t)m->gen_hi << 32 | m->gen_lo;
}

static inline void slot_set_gen(struct slot_meta *m, uint64_t gen)
{
	m->gen_lo = (uint32_t)gen;
	m->gen_hi = (uint32_t)(gen >> 32);
}

int index_init(struct store_index *ix, uint64_t nr_slots);
void index_fini(struct store_index *ix);

/* The LIVE slot holding KEY, or -1. */
int64_t index_lookup(const struct store_index *ix, const uint8_t *key, unsigned key_len);

/* Take a FREE slot and mark it PENDING; -1 when none is free. */
int64_t index_alloc(struct store_index *ix);

/* Claim a specific FREE slot as PENDING (recovery). false if it is not free. */
bool index_claim(struct store_index *ix, uint64_t slot);

/* Make PENDING slot SLOT the LIVE object for its key (meta filled by the caller). The caller
 * has removed any previous holder of the key first. */
void index_publish(struct store_index *ix, uint64_t slot);

/* The hash of KEY (for index_prefetch and index_publish_new). */
uint64_t index_hash(const uint8_t *key, unsigned key_len);

/* Start loading the bucket where a key of hash H is looked for (a bulk load runs a few
 * keys ahead: every bucket is a cache miss in a table of megabytes). */
void index_prefetch(const struct store_index *ix, uint64_t h);

/* index_publish, unless a LIVE slot holds SLOT's key (hash H) already: false then, and
 * nothing changes (one probe of the table where a lookup and a publish take two). */
bool index_publish_new(struct store_index *ix, uint64_t slot, uint64_t h);

/* Take LIVE slot SLOT out of the hash table: it becomes DYING. */
void index_unpublish(struct store_index *ix, uint64_t slot);

/* Return a slot to the free pool (its pins must be 0). */
void index_release(struct store_index *ix, uint64_t slot);

/* Bytes of memory the index uses. */
uint64_t index_bytes(const struct store_index *ix);

#endif
