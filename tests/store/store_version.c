// SPDX-License-Identifier: MIT
/*
 * Format versions: a v1 store (made here by stamping a fresh store's
 * structures back to version 1) opens read-only as it is (check says it is
 * v1, not a problem); a read-write open upgrades its superblocks to the
 * current version and keeps every object; an interrupted upgrade (copies of
 * two versions) is finished by the next read-write open; a superblock of a
 * newer version is refused with a message naming the version.
 */
#include "store_test.h"
#include "util/crc32c.h"

/* Rewrite the version field (VLEN bytes at VOFF) of the block at OFF and its crc (at CRC_OFF). */
static int stamp(const char *path, uint64_t off, unsigned voff, unsigned vlen, uint32_t version,
		 unsigned crc_off, bool clear_slot_flags)
{
	uint8_t b[STORE_BLOCK];
	uint32_t crc;
	int ret = t_raw(path, false, b, sizeof(b), off);

	if (ret)
		return ret;
	if (vlen == 2) {
		uint16_t v = htole16((uint16_t)version);

		memcpy(b + voff, &v, 2);
	} else {
		uint32_t v = htole32(version);

		memcpy(b + voff, &v, 4);
	}
	if (clear_slot_flags)
		memset(b + offsetof(struct store_slot_hdr_disk, flags), 0, 4);
	crc = htole32(rawio_crc32c(0, b, crc_off));
	memcpy(b + crc_off, &crc, 4);
	return t_raw(path, true, b, sizeof(b), off);
}

static int stamp_sb(const char *path, int copy, uint32_t version)
{
	return stamp(path, (uint64_t)copy * STORE_BLOCK, 8, 4, version,
		     offsetof(struct store_sb_disk, crc), false);
}

/* Make the whole store at PATH a v1 store: superblocks, checkpoints, slot headers. */
static int make_v1(const char *path, const struct store_geometry *g)
{
	int ret = stamp_sb(path, 0, 1) || stamp_sb(path, 1, 1);

	for (int i = 0; i < 2 && !ret; i++) {
		uint64_t magic;

		ret = t_raw(path, false, &magic, sizeof(magic), g->cp_off[i]);
		if (!ret && le64toh(magic) == STORE_CP_MAGIC)
			ret = stamp(path, g->cp_off[i], 8, 4, 1,
				    offsetof(struct store_cp_hdr_disk, crc), false);
	}
	for (uint64_t s = 0; s < g->slot_count && !ret; s++) {
		uint32_t magic;

		ret = t_raw(path, false, &magic, sizeof(magic), store_slot_off(g, s));
		if (!ret && le32toh(magic) == STORE_SLOT_MAGIC)
			ret = stamp(path, store_slot_off(g, s), 4, 2, 1,
				    offsetof(struct store_slot_hdr_disk, crc), true);
	}
	return ret;
}

/* Versions of the two superblock copies on disk. */
static void sb_versions(const char *path, uint32_t v[2])
{
	for (int i = 0; i < 2; i++) {
		uint32_t x = 0;

		t_raw(path, false, &x, sizeof(x), (uint64_t)i * STORE_BLOCK + 8);
		v[i] = le32toh(x);
	}
}

int main(void)
{
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct t_store t;
	char report[4096], err[256];
	uint32_t v[2];
	int ret;

	CHECK_OK(t_store_new(&t, "version", 4u << 20, 64 << 10, "sync"));
	CHECK_OK(t_put_str(t.s, "durable", "one", RAWIO_STORE_DURABLE));
	CHECK_OK(t_put_str(t.s, "plain", "two", 0));
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));
	CHECK(g.version == STORE_VERSION, "a new store is version %u", g.version);
	CHECK_OK(make_v1(t.path, &g));

	/* Read-only: opened as it is, nothing written. */
	t.o.read_only = true;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.format_version == 1 && !r.upgraded, "read-only: version %u, upgraded %d",
	      r.format_version, r.upgraded);
	CHECK_OK(t_get_is(t.s, "durable", "one"));
	CHECK_OK(t_get_is(t.s, "plain", "two"));
	rawio_store_close(t.s);
	t.s = NULL;
	sb_versions(t.path, v);
	CHECK(v[0] == 1 && v[1] == 1, "a read-only open wrote the superblocks (%u, %u)", v[0],
	      v[1]);
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0 && strstr(report, "format version 1"), "check of v1: %d: %s", ret, report);

	/* Read-write: upgraded, every object kept. */
	t.o.read_only = false;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.format_version == 1 && r.upgraded, "read-write: version %u, upgraded %d",
	      r.format_version, r.upgraded);
	CHECK(r.entries == 2 && r.validated == 2, "%llu objects after the upgrade",
	      (unsigned long long)r.entries);
	CHECK_OK(t_get_is(t.s, "durable", "one"));
	CHECK_OK(t_put_str(t.s, "new", "three", RAWIO_STORE_DURABLE));
	rawio_store_close(t.s);
	t.s = NULL;
	sb_versions(t.path, v);
	CHECK(v[0] == STORE_VERSION && v[1] == STORE_VERSION, "superblocks (%u, %u)", v[0], v[1]);
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0 && !strstr(report, "format version"), "check: %d: %s", ret, report);

	/* An upgrade cut short: copy 1 still v1. The next read-write open finishes it. */
	CHECK_OK(stamp_sb(t.path, 1, 1));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0, "check of a half-upgraded store: %d: %s", ret, report);
	CHECK_OK(t_store_reopen(&t, false));
	CHECK_OK(t_get_is(t.s, "new", "three"));
	rawio_store_close(t.s);
	t.s = NULL;
	sb_versions(t.path, v);
	CHECK(v[0] == STORE_VERSION && v[1] == STORE_VERSION, "superblocks (%u, %u)", v[0], v[1]);

	/* A newer version: refused, named, never repaired from the other copy. */
	CHECK_OK(stamp_sb(t.path, 0, STORE_VERSION + 1));
	t.s = NULL;
	t.o.errbuf = err;
	t.o.errbuf_len = sizeof(err);
	err[0] = 0;
	ret = rawio_store_open(&t.s, t.path, &t.o);
	CHECK(ret == -EPROTONOSUPPORT && strstr(err, "format version 3") && strstr(err, t.path),
	      "open of a v3 store: %d: %s", ret, err);
	t.o.errbuf = NULL;
	sb_versions(t.path, v);
	CHECK(v[0] == STORE_VERSION + 1 && v[1] == STORE_VERSION, "superblocks (%u, %u)", v[0],
	      v[1]);
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == -EPROTONOSUPPORT, "check of a v3 store: %d", ret);
	unlink(t.path);
	return T_PASS;
}
