// SPDX-License-Identifier: MIT
/* Encoding and decoding of the slot store's on-disk structures. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <rawio/rawio.h>

#include "format.h"
#include "util/crc32c.h"

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

bool store_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int store_geometry_plan(struct store_geometry *g, uint64_t dev_size, uint64_t slot_size,
			uint64_t slot_count)
{
	uint64_t fit;

	if (!slot_size)
		slot_size = RAWIO_STORE_DEFAULT_SLOT;
	if (!is_pow2(slot_size) || slot_size < STORE_MIN_SLOT || slot_size > STORE_MAX_SLOT)
		return -EINVAL;
	if (slot_count > STORE_MAX_SLOTS)
		return -EINVAL;
	/*
	 * Two superblock blocks, then two checkpoint areas (a header block and
	 * room for every slot's entry), then the slots on a 1 MiB boundary. The
	 * checkpoint areas depend on the slot count, and the slot count on what
	 * is left: shrink the count until it fits.
	 */
	fit = slot_count ? slot_count : dev_size / slot_size;
	if (fit > STORE_MAX_SLOTS)
		fit = STORE_MAX_SLOTS;
	for (;;) {
		uint64_t cp_len, data_off;

		if (!fit)
			return -ENOSPC;
		cp_len = round_up(STORE_BLOCK + fit * STORE_ENTRY_SIZE, STORE_BLOCK);
		data_off = round_up(2 * STORE_BLOCK + 2 * cp_len, STORE_DATA_ALIGN);
		if (data_off <= dev_size && (dev_size - data_off) / slot_size >= fit) {
			memset(g, 0, sizeof(*g));
			g->slot_size = slot_size;
			g->slot_count = fit;
			g->cp_len = cp_len;
			g->cp_off[0] = 2 * STORE_BLOCK;
			g->cp_off[1] = 2 * STORE_BLOCK + cp_len;
			g->data_off = data_off;
			g->dev_size = data_off + fit * slot_size;
			return 0;
		}
		if (slot_count)
			return -ENOSPC; /* exactly the count asked for, or nothing */
		fit = data_off <= dev_size ? (dev_size - data_off) / slot_size : 0;
	}
}

void store_sb_encode(void *buf, const struct store_geometry *g)
{
	struct store_sb_disk d;

	memset(buf, 0, STORE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole64(STORE_SB_MAGIC);
	d.version = htole32(STORE_VERSION);
	d.sb_len = htole32(sizeof(d));
	memcpy(d.uuid, g->uuid, sizeof(d.uuid));
	d.slot_size = htole64(g->slot_size);
	d.slot_count = htole64(g->slot_count);
	d.dev_size = htole64(g->dev_size);
	d.cp_off[0] = htole64(g->cp_off[0]);
	d.cp_off[1] = htole64(g->cp_off[1]);
	d.cp_len = htole64(g->cp_len);
	d.data_off = htole64(g->data_off);
	d.format_ns = htole64(g->format_ns);
	d.block_size = htole32(STORE_BLOCK);
	d.entry_size = htole32(STORE_ENTRY_SIZE);
	d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct store_sb_disk, crc)));
	memcpy(buf, &d, sizeof(d));
}

int store_sb_decode(const void *buf, size_t len, struct store_geometry *g)
{
	struct store_sb_disk d;
	struct store_geometry want;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (store_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le64toh(d.magic) != STORE_SB_MAGIC)
		return -EUCLEAN;
	if (le32toh(d.crc) != rawio_crc32c(0, &d, offsetof(struct store_sb_disk, crc)))
		return -EBADMSG;
	if (le32toh(d.version) > STORE_VERSION) {
		memset(g, 0, sizeof(*g));
		g->version = le32toh(d.version);
		return -EPROTONOSUPPORT; /* a newer rawio's store: never guess at it */
	}
	if (le32toh(d.version) < STORE_VERSION_MIN || le32toh(d.sb_len) != sizeof(d) ||
	    le32toh(d.block_size) != STORE_BLOCK || le32toh(d.entry_size) != STORE_ENTRY_SIZE)
		return -EUCLEAN;
	/* The layout must be exactly what format would plan for this count. */
	if (store_geometry_plan(&want, le64toh(d.dev_size), le64toh(d.slot_size),
				le64toh(d.slot_count)))
		return -EUCLEAN;
	if (want.slot_count != le64toh(d.slot_count) || want.cp_len != le64toh(d.cp_len) ||
	    want.cp_off[0] != le64toh(d.cp_off[0]) || want.cp_off[1] != le64toh(d.cp_off[1]) ||
	    want.data_off != le64toh(d.data_off) || want.dev_size != le64toh(d.dev_size))
		return -EUCLEAN;
	*g = want;
	memcpy(g->uuid, d.uuid, sizeof(g->uuid));
	g->format_ns = le64toh(d.format_ns);
	g->version = le32toh(d.version);
	return 0;
}

void store_cp_hdr_encode(void *buf, const struct store_cp_hdr *h)
{
	struct store_cp_hdr_disk d;

	memset(buf, 0, STORE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole64(STORE_CP_MAGIC);
	d.version = htole32(STORE_VERSION);
	d.hdr_len = htole32(sizeof(d));
	memcpy(d.uuid, h->uuid, sizeof(d.uuid));
	d.seq = htole64(h->seq);
	d.entry_count = htole64(h->entry_count);
	d.next_gen = htole64(h->next_gen);
	d.body_len = htole64(h->body_len);
	d.written_ns = htole64(h->written_ns);
	d.roll_gen = htole64(h->roll_gen);
	d.body_crc = htole32(h->body_crc);
	d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct store_cp_hdr_disk, crc)));
	memcpy(buf, &d, sizeof(d));
}

int store_cp_hdr_decode(const void *buf, size_t len, const struct store_geometry *g,
			struct store_cp_hdr *h)
{
	struct store_cp_hdr_disk d;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (store_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le64toh(d.magic) != STORE_CP_MAGIC)
		return -EUCLEAN;
	if (le32toh(d.crc) != rawio_crc32c(0, &d, offsetof(struct store_cp_hdr_disk, crc)))
		return -EBADMSG;
	if (le32toh(d.version) < STORE_VERSION_MIN || le32toh(d.version) > STORE_VERSION ||
	    le32toh(d.hdr_len) != sizeof(d))
		return -EUCLEAN;
	if (memcmp(d.uuid, g->uuid, sizeof(d.uuid)))
		return -EUCLEAN;
	h->seq = le64toh(d.seq);
	h->entry_count = le64toh(d.entry_count);
	h->next_gen = le64toh(d.next_gen);
	h->body_len = le64toh(d.body_len);
	h->written_ns = le64toh(d.written_ns);
	h->roll_gen = le64toh(d.roll_gen);
	h->body_crc = le32toh(d.body_crc);
	memcpy(h->uuid, d.uuid, sizeof(h->uuid));
	if (h->entry_count > g->slot_count || h->body_len != h->entry_count * STORE_ENTRY_SIZE ||
	    h->body_len > g->cp_len - STORE_BLOCK || !h->seq || h->roll_gen > h->next_gen)
		return -EUCLEAN;
	return 0;
}

static bool store_key_ok(const uint8_t *key, unsigned key_len)
{
	(void)key;
	return key_len >= 1 && key_len <= RAWIO_STORE_KEY_MAX;
}

void store_entry_encode(void *buf, const struct store_entry *e)
{
	struct store_entry_disk d;

	memset(&d, 0, sizeof(d));
	memcpy(d.key, e->key, e->key_len);
	d.key_len = e->key_len;
	d.slot = htole32(e->slot);
	d.payload_len = htole32(e->payload_len);
	d.payload_crc = htole32(e->payload_crc);
	d.generation = htole64(e->generation);
	memcpy(buf, &d, sizeof(d));
}

int store_entry_decode(const void *buf, size_t len, const struct store_geometry *g,
		       struct store_entry *e)
{
	struct store_entry_disk d;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (!store_key_ok(d.key, d.key_len))
		return -EUCLEAN;
	memset(e, 0, sizeof(*e));
	memcpy(e->key, d.key, d.key_len);
	e->key_len = d.key_len;
	e->slot = le32toh(d.slot);
	e->payload_len = le32toh(d.payload_len);
	e->payload_crc = le32toh(d.payload_crc);
	e->generation = le64toh(d.generation);
	if (e->slot >= g->slot_count || e->payload_len > store_payload_max(g) || !e->generation)
		return -EUCLEAN;
	return 0;
}

void store_slot_hdr_encode(void *buf, const struct store_slot_hdr *h)
{
	struct store_slot_hdr_disk d;

	memset(buf, 0, STORE_BLOCK);
	memset(&d, 0, sizeof(d));
	d.magic = htole32(STORE_SLOT_MAGIC);
	d.version = htole16(STORE_VERSION);
	d.hdr_len = htole16(sizeof(d));
	memcpy(d.uuid, h->uuid, sizeof(d.uuid));
	memcpy(d.key, h->e.key, h->e.key_len);
	d.key_len = h->e.key_len;
	d.flags = htole32(h->flags);
	d.generation = htole64(h->e.generation);
	d.payload_len = htole32(h->e.payload_len);
	d.payload_crc = htole32(h->e.payload_crc);
	d.written_ns = htole64(h->written_ns);
	d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct store_slot_hdr_disk, crc)));
	memcpy(buf, &d, sizeof(d));
}

int store_slot_hdr_decode(const void *buf, size_t len, const struct store_geometry *g,
			  struct store_slot_hdr *h)
{
	struct store_slot_hdr_disk d;

	if (len < sizeof(d))
		return -EUCLEAN;
	memcpy(&d, buf, sizeof(d));
	if (store_all_zero(&d, sizeof(d)))
		return -ENODATA;
	if (le32toh(d.magic) != STORE_SLOT_MAGIC)
		return -EUCLEAN;
	if (le32toh(d.crc) != rawio_crc32c(0, &d, offsetof(struct store_slot_hdr_disk, crc)))
		return -EBADMSG;
	if (le16toh(d.version) < STORE_VERSION_MIN || le16toh(d.version) > STORE_VERSION ||
	    le16toh(d.hdr_len) != sizeof(d))
		return -EUCLEAN;
	if (memcmp(d.uuid, g->uuid, sizeof(d.uuid)))
		return -EUCLEAN; /* left by an earlier format of this device */
	if (!store_key_ok(d.key, d.key_len))
		return -EUCLEAN;
	memset(h, 0, sizeof(*h));
	memcpy(h->uuid, d.uuid, sizeof(h->uuid));
	memcpy(h->e.key, d.key, d.key_len);
	h->e.key_len = d.key_len;
	h->flags = le32toh(d.flags);
	h->e.generation = le64toh(d.generation);
	h->e.payload_len = le32toh(d.payload_len);
	h->e.payload_crc = le32toh(d.payload_crc);
	h->written_ns = le64toh(d.written_ns);
	/* v1 knew no flags; v2 only STORE_SLOT_FLAGS_KNOWN. */
	if (!h->e.generation || h->e.payload_len > store_payload_max(g) ||
	    (h->flags & ~(le16toh(d.version) >= 2 ? STORE_SLOT_FLAGS_KNOWN : 0u)))
		return -EUCLEAN;
	return 0;
}

unsigned store_slot_hdr_peek_key(const void *buf, size_t len, uint8_t *key)
{
	struct store_slot_hdr_disk d;

	if (len < sizeof(d))
		return 0;
	memcpy(&d, buf, sizeof(d));
	if (!store_key_ok(d.key, d.key_len))
		return 0;
	memcpy(key, d.key, d.key_len);
	return d.key_len;
}
