/* SPDX-License-Identifier: MIT */
/*
 * The cache's on-disk structures (docs/cache-format.md) and their encoders
 * and decoders. Decoders trust nothing: every field is checked against the
 * geometry before use; -EBADMSG means a checksum mismatch, -EUCLEAN a
 * structure that cannot be right, -ENODATA all zeroes, -ESTALE a sound
 * structure of an earlier format of the device (another uuid).
 */
#ifndef RAWIO_CACHE_FORMAT_H
#define RAWIO_CACHE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/cache.h>

#define CACHE_BLOCK	   4096u /* data block, header block, superblock */
#define CACHE_SECTOR	   512u	 /* dirty-bitmap granularity */
#define CACHE_SECTORS	   (CACHE_BLOCK / CACHE_SECTOR)
#define CACHE_FULL_MASK	   0xffu		 /* all 8 sectors of a block */
#define CACHE_SB_MAGIC	   0x4253434f49574152ull /* "RAWIOCSB" */
#define CACHE_REC_MAGIC	   0x4452434f49574152ull /* "RAWIOCRD" */
#define CACHE_SEG_MAGIC	   0x4745534f49574152ull /* "RAWIOSEG" */
#define CACHE_VERSION	   1u
#define CACHE_SB_OFF	   0ull
#define CACHE_REC_OFF	   4096ull	/* two record copies: blocks 1 and 2 */
#define CACHE_SEG_OFF	   (1ull << 20) /* first segment */
#define CACHE_MIN_SEGMENTS 4ull
#define CACHE_MAX_SEGMENTS (1ull << 32)
#define CACHE_MAX_BACKING  (1ull << 60)
#define CACHE_ENTRY_SIZE   12u
#define CACHE_SEG_HDR_LEN  64u

/* Segment flags */
#define CACHE_SEG_F_BARRIER (1u << 0) /* sealed for a FLUSH/FUA (informational) */
#define CACHE_SEG_F_KNOWN   CACHE_SEG_F_BARRIER

struct cache_geometry {
	uint8_t uuid[16];
	uint32_t segment_size;
	uint32_t blocks_per_seg; /* (segment_size - header block) / CACHE_BLOCK */
	uint64_t nr_segments;
	uint64_t seg_off;      /* CACHE_SEG_OFF */
	uint64_t cache_size;   /* bytes of the cache device used: seg_off + segments */
	uint64_t backing_size; /* bytes cached: the virtual device */
	uint64_t format_ns;    /* CLOCK_REALTIME at format */
};

/* Superblock: block 0, little-endian, crc32c over everything before crc. */
struct cache_sb_disk {
	uint64_t magic;
	uint32_t version;
	uint32_t sb_len; /* sizeof(struct cache_sb_disk) */
	uint8_t uuid[16];
	uint32_t segment_size;
	uint32_t block_size; /* CACHE_BLOCK */
	uint64_t nr_segments;
	uint64_t seg_off;
	uint64_t cache_size;
	uint64_t backing_size;
	uint64_t format_ns;
	uint32_t entry_size; /* CACHE_ENTRY_SIZE */
	uint8_t reserved[40];
	uint32_t crc;
};
_Static_assert(sizeof(struct cache_sb_disk) == 128, "superblock layout");

/* Superblock record: blocks 1 and 2, written alternately; the valid one with the higher seq wins. */
struct cache_rec_disk {
	uint64_t magic;
	uint32_t version;
	uint32_t rec_len; /* sizeof(struct cache_rec_disk) */
	uint8_t uuid[16];
	uint64_t seq;		/* one more per record written */
	uint64_t last_migrated; /* every segment up to this id is on the backing device */
	uint64_t written_ns;
	uint32_t reserved;
	uint32_t crc;
};
_Static_assert(sizeof(struct cache_rec_disk) == 64, "record layout");

/* Segment header: the first CACHE_SEG_HDR_LEN bytes of a segment's header block ... */
struct cache_seg_hdr_disk {
	uint64_t magic;
	uint16_t version;
	uint16_t hdr_len;   /* CACHE_SEG_HDR_LEN */
	uint32_t nr_blocks; /* data blocks that follow the header block */
	uint8_t uuid[16];
	uint64_t id; /* >= 1; slot = id % nr_segments */
	uint64_t written_ns;
	uint32_t flags;	     /* CACHE_SEG_F_* */
	uint32_t data_crc;   /* crc32c of the nr_blocks data blocks */
	uint32_t entry_size; /* CACHE_ENTRY_SIZE */
	uint32_t crc;	     /* crc32c of bytes 0..59, then of the entries */
};
_Static_assert(sizeof(struct cache_seg_hdr_disk) == CACHE_SEG_HDR_LEN, "segment header layout");

/* ... followed by one entry per data block, in block order. */
struct cache_seg_entry_disk {
	uint32_t sector_lo; /* backing sector (512-byte units) of the 4 KiB block */
	uint32_t sector_hi;
	uint8_t mask;	/* bit i: sector i of the block holds data */
	uint8_t pad[3]; /* 0 */
};
_Static_assert(sizeof(struct cache_seg_entry_disk) == CACHE_ENTRY_SIZE, "segment entry layout");

/* A decoded segment header; the entries go to caller arrays. */
struct cache_seg_hdr {
	uint64_t id;
	uint32_t nr_blocks;
	uint32_t flags;
	uint32_t data_crc;
	uint64_t written_ns;
};

struct cache_rec {
	uint64_t seq;
	uint64_t last_migrated;
	uint64_t written_ns;
};

/* Most blocks a segment of SEGMENT_SIZE holds. */
static inline uint32_t cache_blocks_per_seg(uint32_t segment_size)
{
	return segment_size / CACHE_BLOCK - 1;
}

/*
 * Geometry for a cache device of CACHE_DEV_SIZE bytes over BACKING_DEV_SIZE
 * bytes. -EINVAL bad segment size or backing size, -ENOSPC too small.
 */
int cache_geometry_plan(struct cache_geometry *g, uint64_t cache_dev_size,
			uint64_t backing_dev_size, uint32_t segment_size);

static inline uint64_t cache_seg_dev_off(const struct cache_geometry *g, uint64_t slot)
{
	return g->seg_off + slot * g->segment_size;
}

/* Encoders write a full CACHE_BLOCK (zero-padded) at BUF. */
void cache_sb_encode(void *buf, const struct cache_geometry *g);
void cache_rec_encode(void *buf, const struct cache_geometry *g, const struct cache_rec *r);
/* BLOCKS[i] is a backing block number (4 KiB units), MASKS[i] its sector mask. */
void cache_seg_hdr_encode(void *buf, const struct cache_geometry *g, const struct cache_seg_hdr *h,
			  const uint64_t *blocks, const uint8_t *masks);

/*
 * Decoders read LEN bytes at BUF. 0, -EBADMSG (our magic, bad crc), -EUCLEAN (a wrong field),
 * -ENODATA (all zero) or -ESTALE (another format's uuid); cache_seg_hdr_decode also -ENOMSG
 * (no segment magic: bytes that were never one of our headers).
 */
int cache_sb_decode(const void *buf, size_t len, struct cache_geometry *g);
int cache_rec_decode(const void *buf, size_t len, const struct cache_geometry *g,
		     struct cache_rec *r);
/*
 * Decode the header of the segment in slot SLOT. On success BLOCKS and MASKS
 * (room for g->blocks_per_seg each) hold its entries: block numbers inside
 * the backing device, non-zero masks, no block twice.
 */
int cache_seg_hdr_decode(const void *buf, size_t len, const struct cache_geometry *g, uint64_t slot,
			 struct cache_seg_hdr *h, uint64_t *blocks, uint8_t *masks);

/* True if LEN bytes at BUF are all zero. */
bool cache_all_zero(const void *buf, size_t len);

#endif
