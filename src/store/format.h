/* SPDX-License-Identifier: MIT */
/*
 * The slot store's on-disk structures (docs/store-format.md), and their
 * encoders and decoders. Decoders trust nothing: every field is checked
 * against the geometry before use; -EBADMSG means a checksum mismatch,
 * -EUCLEAN a structure that cannot be right.
 */
#ifndef RAWIO_STORE_FORMAT_H
#define RAWIO_STORE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/store.h>

#define STORE_BLOCK	 4096u		       /* header block, superblock, checkpoint header */
#define STORE_SB_MAGIC	 0x5254534f49574152ull /* "RAWIOSTR" */
#define STORE_CP_MAGIC	 0x50434b4f49574152ull /* "RAWIOKCP" */
#define STORE_SLOT_MAGIC 0x544f4c53u	       /* "SLOT" */
#define STORE_VERSION	 2u /* v2: the slot header flag STORE_SLOT_PAYLOAD_DURABLE */
#define STORE_ENTRY_SIZE 64u
#define STORE_DATA_ALIGN (1u << 20) /* slots start on a 1 MiB boundary */
#define STORE_MIN_SLOT	 4096ull
#define STORE_MAX_SLOT	 (64ull << 20)
#define STORE_MAX_SLOTS	 (1ull << 31)

/* v1 stores are read as they are; a read-write open upgrades them (docs/store-format.md). */
#define STORE_VERSION_MIN 1u

struct store_geometry {
	uint8_t uuid[16];
	uint64_t slot_size;
	uint64_t slot_count;
	uint64_t dev_size;  /* bytes the store uses, from 0 */
	uint64_t cp_off[2]; /* checkpoint areas */
	uint64_t cp_len;    /* bytes per checkpoint area: header block + body */
	uint64_t data_off;  /* first slot */
	uint64_t format_ns; /* CLOCK_REALTIME at format */
	uint32_t version;   /* of the superblock read (STORE_VERSION_MIN..STORE_VERSION) */
};

/* The superblock as it is on disk: little-endian, crc32c over everything before crc. */
struct store_sb_disk {
	uint64_t magic;
	uint32_t version;
	uint32_t sb_len; /* sizeof(struct store_sb_disk) */
	uint8_t uuid[16];
	uint64_t slot_size;
	uint64_t slot_count;
	uint64_t dev_size;
	uint64_t cp_off[2];
	uint64_t cp_len;
	uint64_t data_off;
	uint64_t format_ns;
	uint32_t block_size; /* STORE_BLOCK */
	uint32_t entry_size; /* STORE_ENTRY_SIZE */
	uint8_t reserved[64];
	uint32_t pad;
	uint32_t crc;
};
_Static_assert(sizeof(struct store_sb_disk) == 176, "superblock layout");

struct store_cp_hdr_disk {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_len;
	uint8_t uuid[16]; /* the store's: a checkpoint of another format is not ours */
	uint64_t seq;	  /* checkpoints count up; the newest valid one wins */
	uint64_t entry_count;
	uint64_t next_gen;   /* every generation on disk is below this */
	uint64_t body_len;   /* entry_count * STORE_ENTRY_SIZE */
	uint64_t written_ns; /* CLOCK_REALTIME */
	uint64_t roll_gen;   /* unnamed headers at or above it are roll-forward candidates */
	uint32_t body_crc;
	uint32_t crc;
};
_Static_assert(sizeof(struct store_cp_hdr_disk) == 88, "checkpoint header layout");

struct store_entry_disk {
	uint8_t key[RAWIO_STORE_KEY_MAX];
	uint32_t slot;
	uint32_t payload_len;
	uint32_t payload_crc;
	uint8_t key_len;
	uint8_t pad[3];
	uint64_t generation;
	uint64_t reserved;
};
_Static_assert(sizeof(struct store_entry_disk) == STORE_ENTRY_SIZE, "entry layout");

struct store_slot_hdr_disk {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_len;
	uint8_t uuid[16]; /* a slot written by an earlier format is not ours */
	uint8_t key[RAWIO_STORE_KEY_MAX];
	uint8_t key_len;
	uint8_t pad[3];
	uint32_t flags; /* STORE_SLOT_* (v2); 0 in v1 */
	uint64_t generation;
	uint32_t payload_len;
	uint32_t payload_crc;
	uint64_t written_ns;
	uint32_t reserved;
	uint32_t crc;
};
_Static_assert(sizeof(struct store_slot_hdr_disk) == 96, "slot header layout");

/*
 * Slot header flag (v2): the payload was on stable storage before this header
 * was written (a durable put writes the payload with FUA, then the header).
 * A valid header with this flag over a payload that fails its crc is damage,
 * not a torn put.
 */
#define STORE_SLOT_PAYLOAD_DURABLE (1u << 0)
#define STORE_SLOT_FLAGS_KNOWN	   STORE_SLOT_PAYLOAD_DURABLE

/* One index entry / slot header, decoded. */
struct store_entry {
	uint8_t key[RAWIO_STORE_KEY_MAX];
	uint8_t key_len;
	uint32_t slot;
	uint32_t payload_len;
	uint32_t payload_crc;
	uint64_t generation;
};

struct store_slot_hdr {
	uint8_t uuid[16];
	struct store_entry e; /* slot is not stored in the header: the caller knows it */
	uint32_t flags;
	uint64_t written_ns;
};

struct store_cp_hdr {
	uint8_t uuid[16];
	uint64_t seq;
	uint64_t entry_count;
	uint64_t next_gen;
	uint64_t roll_gen; /* <= next_gen; below it only named slots are objects */
	uint64_t body_len;
	uint64_t written_ns;
	uint32_t body_crc;
};

/* Geometry for a device of DEV_SIZE bytes; -EINVAL/-ENOSPC when it cannot hold a store. */
int store_geometry_plan(struct store_geometry *g, uint64_t dev_size, uint64_t slot_size,
			uint64_t slot_count);

/* Largest payload a slot of this geometry holds. */
static inline uint64_t store_payload_max(const struct store_geometry *g)
{
	return g->slot_size - STORE_BLOCK;
}

static inline uint64_t store_slot_off(const struct store_geometry *g, uint64_t slot)
{
	return g->data_off + slot * g->slot_size;
}

/* Encoders write a full STORE_BLOCK (zero-padded) at BUF. */
void store_sb_encode(void *buf, const struct store_geometry *g);
void store_cp_hdr_encode(void *buf, const struct store_cp_hdr *h);
void store_entry_encode(void *buf, const struct store_entry *e);
void store_slot_hdr_encode(void *buf, const struct store_slot_hdr *h);

/*
 * Decoders read LEN bytes at BUF. 0, -EBADMSG or -EUCLEAN; -ENODATA for all
 * zeroes. store_sb_decode: -EPROTONOSUPPORT for a sound superblock of a
 * version newer than STORE_VERSION (G->version then says which).
 */
int store_sb_decode(const void *buf, size_t len, struct store_geometry *g);
int store_cp_hdr_decode(const void *buf, size_t len, const struct store_geometry *g,
			struct store_cp_hdr *h);
int store_entry_decode(const void *buf, size_t len, const struct store_geometry *g,
		       struct store_entry *e);
int store_slot_hdr_decode(const void *buf, size_t len, const struct store_geometry *g,
			  struct store_slot_hdr *h);

/*
 * The key as it reads in a slot header that failed its crc (unverified: for
 * reports only) into KEY; its length, or 0 when key_len is out of range.
 */
unsigned store_slot_hdr_peek_key(const void *buf, size_t len, uint8_t *key);

/* True if LEN bytes at BUF are all zero. */
bool store_all_zero(const void *buf, size_t len);

#endif
