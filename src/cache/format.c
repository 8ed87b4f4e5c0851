// SPDX-License-Identifier: MIT
/* Encoding and decoding of the cache's on-disk structures. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/rawio.h>

#include "format.h"
#include "util/crc32c.h"

static bool cache_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

bool cache_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int cache_geometry_plan(struct cache_geometry *g, uint64_t cache_dev_size,
			uint64_t backing_dev_size, uint32_t segment_size)
{
	uint64_t nr;

	if (!segment_size)
		segment_size = RAWIO_CACHE_DEFAULT_SEGMENT;
	if (!cache_is_pow2(segment_size) || segment_size < RAWIO_CACHE_MIN_SEGMENT ||
	    segment_size > RAWIO_CACHE_MAX_SEGMENT)
		return -EINVAL;
	backing_dev_size -= backing_dev_size % CACHE_BLOCK;
	if (!backing_dev_size || backing_dev_size > CACHE_MAX_BACKING)
		return -EINVAL;
	if (cache_dev_size < CACHE_SEG_OFF)
		return -ENOSPC;
	nr = (cache_dev_size - CACHE_SEG_OFF) / segment_size;
	if (nr > CACHE_MAX_SEGMENTS)
		nr = CACHE_MAX_SEGMENTS;
	if (nr < CACHE_MIN_SEGMENTS)
		return -ENOSPC;
	memset(g, 0, sizeof(*g));
	g->segment_size = segment_size;
	g->blocks_per_seg = cache_blocks_per_seg(segment_size);
	g->nr_segments = nr;
	g->seg_off = CACHE_SEG_OFF;
	g->cache_size = CACHE_SEG_OFF + nr * segment_size;
	g->backing_size = backing_dev_size;
	return 0;
}

void cache_sb_encode(void *buf, const struct cache_geometry *g)
{
	struct cache_sb_disk d;

	memset(buf, 0, CACHE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole64(CACHE_SB_MAGIC);
	d.version = htole32(CACHE_VERSION);
	d.sb_len = htole32(sizeof(d));
	memcpy(d.uuid, g->uuid, sizeof(d.uuid));
	d.segment_size = htole32(g->segment_size);
	d.block_size = htole32(CACHE_BLOCK);
	d.nr_segments = htole64(g->nr_segments);
	d.seg_off = htole64(g->seg_off);
	d.cache_size = htole64(g->cache_size);
	d.backing_size = htole64(g->backing_size);
	d.format_ns = htole64(g->format_ns);
	d.entry_size = htole32(CACHE_ENTRY_SIZE);
	d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct cache_sb_disk, crc)));
	memcpy(buf, &d, sizeof(d));
}

int cache_sb_decode(const void *buf, size_t len, struct cache_geometry *g)
{
	struct cache_sb_disk d;
	uint64_t nr, seg_size, cache_size, backing_size;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (cache_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le64toh(d.magic) != CACHE_SB_MAGIC)
		return -EUCLEAN;
	if (le32toh(d.crc) != rawio_crc32c(0, &d, offsetof(struct cache_sb_disk, crc)))
		return -EBADMSG;
	if (le32toh(d.version) != CACHE_VERSION || le32toh(d.sb_len) != sizeof(d) ||
	    le32toh(d.block_size) != CACHE_BLOCK || le32toh(d.entry_size) != CACHE_ENTRY_SIZE)
		return -EUCLEAN;
	seg_size = le32toh(d.segment_size);
	nr = le64toh(d.nr_segments);
	cache_size = le64toh(d.cache_size);
	backing_size = le64toh(d.backing_size);
	if (!cache_is_pow2(seg_size) || seg_size < RAWIO_CACHE_MIN_SEGMENT ||
	    seg_size > RAWIO_CACHE_MAX_SEGMENT)
		return -EUCLEAN;
	if (nr < CACHE_MIN_SEGMENTS || nr > CACHE_MAX_SEGMENTS ||
	    le64toh(d.seg_off) != CACHE_SEG_OFF)
		return -EUCLEAN;
	/* nr <= 2^32 and seg_size <= 2^20: the product cannot overflow. */
	if (cache_size != CACHE_SEG_OFF + nr * seg_size)
		return -EUCLEAN;
	if (!backing_size || backing_size % CACHE_BLOCK || backing_size > CACHE_MAX_BACKING)
		return -EUCLEAN;
	memset(g, 0, sizeof(*g));
	memcpy(g->uuid, d.uuid, sizeof(g->uuid));
	g->segment_size = (uint32_t)seg_size;
	g->blocks_per_seg = cache_blocks_per_seg((uint32_t)seg_size);
	g->nr_segments = nr;
	g->seg_off = CACHE_SEG_OFF;
	g->cache_size = cache_size;
	g->backing_size = backing_size;
	g->format_ns = le64toh(d.format_ns);
	return 0;
}

void cache_rec_encode(void *buf, const struct cache_geometry *g, const struct cache_rec *r)
{
	struct cache_rec_disk d;

	memset(buf, 0, CACHE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole64(CACHE_REC_MAGIC);
	d.version = htole32(CACHE_VERSION);
	d.rec_len = htole32(sizeof(d));
	memcpy(d.uuid, g->uuid, sizeof(d.uuid));
	d.seq = htole64(r->seq);
	d.last_migrated = htole64(r->last_migrated);
	d.written_ns = htole64(r->written_ns);
	d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct cache_rec_disk, crc)));
	memcpy(buf, &d, sizeof(d));
}

int cache_rec_decode(const void *buf, size_t len, const struct cache_geometry *g,
		     struct cache_rec *r)
{
	struct cache_rec_disk d;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (cache_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le64toh(d.magic) != CACHE_REC_MAGIC)
		return -EUCLEAN;
	if (le32toh(d.crc) != rawio_crc32c(0, &d, offsetof(struct cache_rec_disk, crc)))
		return -EBADMSG;
	if (le32toh(d.version) != CACHE_VERSION || le32toh(d.rec_len) != sizeof(d) ||
	    le32toh(d.reserved))
		return -EUCLEAN;
	if (memcmp(d.uuid, g->uuid, sizeof(d.uuid)))
		return -ESTALE; /* a record of an earlier format */
	r->seq = le64toh(d.seq);
	r->last_migrated = le64toh(d.last_migrated);
	r->written_ns = le64toh(d.written_ns);
	if (!r->seq || r->last_migrated >= (1ull << 62))
		return -EUCLEAN;
	return 0;
}

void cache_seg_hdr_encode(void *buf, const struct cache_geometry *g, const struct cache_seg_hdr *h,
			  const uint64_t *blocks, const uint8_t *masks)
{
	struct cache_seg_hdr_disk d;
	char *p = buf;
	uint32_t crc;

	memset(buf, 0, CACHE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole64(CACHE_SEG_MAGIC);
	d.version = htole16(CACHE_VERSION);
	d.hdr_len = htole16(CACHE_SEG_HDR_LEN);
	d.nr_blocks = htole32(h->nr_blocks);
	memcpy(d.uuid, g->uuid, sizeof(d.uuid));
	d.id = htole64(h->id);
	d.written_ns = htole64(h->written_ns);
	d.flags = htole32(h->flags);
	d.data_crc = htole32(h->data_crc);
	d.entry_size = htole32(CACHE_ENTRY_SIZE);
	for (uint32_t i = 0; i < h->nr_blocks; i++) {
		struct cache_seg_entry_disk e = { 0 };
		uint64_t sector = blocks[i] * CACHE_SECTORS;

		e.sector_lo = htole32((uint32_t)sector);
		e.sector_hi = htole32((uint32_t)(sector >> 32));
		e.mask = masks[i];
		memcpy(p + CACHE_SEG_HDR_LEN + i * CACHE_ENTRY_SIZE, &e, sizeof(e));
	}
	crc = rawio_crc32c(0, &d, offsetof(struct cache_seg_hdr_disk, crc));
	crc = rawio_crc32c(crc, p + CACHE_SEG_HDR_LEN, (size_t)h->nr_blocks * CACHE_ENTRY_SIZE);
	d.crc = htole32(crc);
	memcpy(p, &d, sizeof(d));
}

static int cache_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int cache_seg_hdr_decode(const void *buf, size_t len, const struct cache_geometry *g, uint64_t slot,
			 struct cache_seg_hdr *h, uint64_t *blocks, uint8_t *masks)
{
	const char *p = buf;
	struct cache_seg_hdr_disk d;
	uint64_t sorted[CACHE_BLOCK / CACHE_ENTRY_SIZE];
	uint32_t nr, crc;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (cache_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le64toh(d.magic) != CACHE_SEG_MAGIC)
		return -ENOMSG; /* not ours (old bytes under a new format): not damage */
	nr = le32toh(d.nr_blocks);
	/* The count decides how many bytes the crc covers: bound it first. */
	if (nr > g->blocks_per_seg || len < CACHE_SEG_HDR_LEN + (size_t)nr * CACHE_ENTRY_SIZE)
		return -EUCLEAN;
	crc = rawio_crc32c(0, &d, offsetof(struct cache_seg_hdr_disk, crc));
	crc = rawio_crc32c(crc, p + CACHE_SEG_HDR_LEN, (size_t)nr * CACHE_ENTRY_SIZE);
	if (le32toh(d.crc) != crc)
		return -EBADMSG;
	if (le16toh(d.version) != CACHE_VERSION || le16toh(d.hdr_len) != CACHE_SEG_HDR_LEN ||
	    le32toh(d.entry_size) != CACHE_ENTRY_SIZE)
		return -EUCLEAN;
	if (memcmp(d.uuid, g->uuid, sizeof(d.uuid)))
		return -ESTALE; /* left by an earlier format of this device */
	h->id = le64toh(d.id);
	h->nr_blocks = nr;
	h->flags = le32toh(d.flags);
	h->data_crc = le32toh(d.data_crc);
	h->written_ns = le64toh(d.written_ns);
	if (!h->id || h->id >= (1ull << 62) || h->id % g->nr_segments != slot ||
	    (h->flags & ~CACHE_SEG_F_KNOWN))
		return -EUCLEAN;
	for (uint32_t i = 0; i < nr; i++) {
		struct cache_seg_entry_disk e;
		uint64_t sector;

		memcpy(&e, p + CACHE_SEG_HDR_LEN + (size_t)i * CACHE_ENTRY_SIZE, sizeof(e));
		sector = (uint64_t)le32toh(e.sector_hi) << 32 | le32toh(e.sector_lo);
		if (!e.mask || e.pad[0] || e.pad[1] || e.pad[2] || sector % CACHE_SECTORS ||
		    sector >= g->backing_size / CACHE_SECTOR)
			return -EUCLEAN;
		blocks[i] = sector / CACHE_SECTORS;
		masks[i] = e.mask;
		sorted[i] = blocks[i];
	}
	/* A segment holds at most one copy of a block. */
	qsort(sorted, nr, sizeof(sorted[0]), cache_u64_cmp);
	for (uint32_t i = 1; i < nr; i++)
		if (sorted[i] == sorted[i - 1])
			return -EUCLEAN;
	return 0;
}
