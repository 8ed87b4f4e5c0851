// SPDX-License-Identifier: MIT
/*
 * Recovery on damaged logs. A base state is built once: segments 1..6 each
 * hold 15 blocks of their own (block i of segment s has version s), segment 7
 * rewrites segment 1's blocks (version 7), nothing written back. Then, each
 * time from a copy of that state:
 *   - torn data in the last segment: the run ends before it, nothing older is
 *     lost, and the torn segment is zeroed (it was never acknowledged whole);
 *   - torn data, and a torn header, in the middle: the run ends there, the
 *     older segments are replayed, the later ones are orphans and zeroed;
 *   - a gap (a segment never written) with a later segment on disk (written
 *     out of order): the later one is an orphan; a new segment of the gap's
 *     id followed by a reopen must not bring the old one back;
 *   - an unreadable header (EIO through the fault engine): the run stops
 *     there ("io"), check reports it;
 *   - a damaged newer record copy: the older one is used, check reports it;
 *   - a damaged superblock: open refuses.
 */
#include <rawio/engine.h>

#include "cache_test.h"

#define CACHE_SZ   (4u << 20)
#define BACKING_SZ (1u << 20)
#define SEG	   (64u << 10)
#define BPS	   15 /* blocks per 64 KiB segment */
#define NSEG	   7

static char *snap_c, *snap_b;

/* Version block B should read after segments 1..LAST were replayed. */
static uint32_t want_version(uint64_t b, uint64_t last)
{
	if (b < BPS)
		return last >= 7 ? 7 : last >= 1 ? 1 : 0;
	if (b < 6 * BPS)
		return b / BPS + 1 <= last ? (uint32_t)(b / BPS + 1) : 0;
	return 0;
}

static int check_blocks(struct rawio_cache *c, uint64_t last, const char *what)
{
	char buf[4096];

	for (uint64_t b = 0; b < 7 * BPS; b++) {
		uint32_t want = want_version(b, last);

		CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), b * 4096));
		for (unsigned s = 0; s < 8; s++)
			CHECK(t_sector_version(buf + s * 512, b * 8 + s) == want,
			      "%s: block %llu sector %u: version %lld, want %u", what,
			      (unsigned long long)b, s,
			      (long long)t_sector_version(buf + s * 512, b * 8 + s), want);
	}
	return T_PASS;
}

static void restore(struct t_cache *t)
{
	memcpy(rawio_dev_mem(t->cdev), snap_c, CACHE_SZ);
	memcpy(rawio_dev_mem(t->bdev), snap_b, BACKING_SZ);
}

static int expect_recovery(struct t_cache *t, uint64_t replayed, const char *reason,
			   uint64_t orphans, const char *what)
{
	struct rawio_cache_recovery r;

	rawio_cache_recovery(t->c, &r);
	CHECK(r.replayed == replayed && !strcmp(r.stop_reason, reason) && r.orphans == orphans,
	      "%s: replayed %llu (want %llu), stopped at %llu: %s (want %s), orphans %llu (want "
	      "%llu)",
	      what, (unsigned long long)r.replayed, (unsigned long long)replayed,
	      (unsigned long long)r.stop_id, r.stop_reason, reason, (unsigned long long)r.orphans,
	      (unsigned long long)orphans);
	return T_PASS;
}

static int check_report(struct t_cache *t, int want, const char *what)
{
	char report[2048];
	int ret = rawio_cache_check(t->cdev, t->bdev, NULL, report, sizeof(report));

	CHECK(ret == want, "%s: check found %d problems (want %d): %s", what, ret, want, report);
	return T_PASS;
}

int main(void)
{
	struct rawio_fault_range fr;
	struct rawio_engine_opts eo;
	struct t_cache t;
	char buf[4096];

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	for (uint32_t s = 1; s <= 6; s++)
		for (unsigned i = 0; i < BPS; i++)
			CHECK_OK(t_write_block(t.c, (s - 1) * BPS + i, s));
	for (unsigned i = 0; i < BPS; i++)
		CHECK_OK(t_write_block(t.c, i, 7));
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	snap_c = malloc(CACHE_SZ);
	snap_b = malloc(BACKING_SZ);
	CHECK(snap_c && snap_b, "memory");
	memcpy(snap_c, rawio_dev_mem(t.cdev), CACHE_SZ);
	memcpy(snap_b, rawio_dev_mem(t.bdev), BACKING_SZ);

	/* The base state recovers whole, and check is happy. */
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 7, "end", 0, "base") == T_PASS, "base");
	CHECK(check_blocks(t.c, 7, "base") == T_PASS, "base");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	CHECK(check_report(&t, 0, "base") == T_PASS, "base");

	/* Torn data in the last segment. */
	restore(&t);
	t_seg_at(&t, 7, 3)[100] ^= 1;
	CHECK(check_report(&t, 0, "torn last") == T_PASS, "a torn end is a crash leftover");
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 6, "torn", 1, "torn last") == T_PASS, "torn last");
	CHECK(check_blocks(t.c, 6, "torn last") == T_PASS, "older segments intact");
	CHECK(cache_all_zero(t_seg_at(&t, 7, 0), 64), "the torn segment's header is zeroed");
	/* The log goes on from id 7. */
	for (unsigned i = 0; i < BPS; i++)
		CHECK_OK(t_write_block(t.c, i, 7));
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 7, "end", 0, "rewritten") == T_PASS, "rewritten");
	CHECK(check_blocks(t.c, 7, "rewritten") == T_PASS, "rewritten");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;

	/* Torn data in the middle. */
	restore(&t);
	t_seg_at(&t, 3, 15)[4095] ^= 0x80;
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 2, "torn", 5, "torn middle") == T_PASS, "torn middle");
	CHECK(check_blocks(t.c, 2, "torn middle") == T_PASS, "segments 1 and 2 intact");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;

	/* A torn header in the middle. */
	restore(&t);
	t_seg_at(&t, 4, 0)[70] ^= 4;
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 3, "torn", 3, "torn header") == T_PASS, "torn header");
	CHECK(check_blocks(t.c, 3, "torn header") == T_PASS, "segments 1..3 intact");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;

	/* A gap: segment 5 never written, 6 and 7 were (out of order). */
	restore(&t);
	memset(t_seg_at(&t, 5, 0), 0, 4096);
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 4, "end", 2, "gap") == T_PASS, "gap");
	CHECK(check_blocks(t.c, 4, "gap") == T_PASS, "segments 1..4");
	CHECK(cache_all_zero(t_seg_at(&t, 6, 0), 64) && cache_all_zero(t_seg_at(&t, 7, 0), 64),
	      "orphans zeroed");
	/* A new segment 5 (different blocks) must not be followed by the old 6 and 7. */
	for (unsigned i = 0; i < BPS; i++)
		CHECK_OK(t_write_block(t.c, 120 + i, 9));
	CHECK_OK(t_cache_reopen(&t));
	CHECK(expect_recovery(&t, 5, "end", 0, "after the gap") == T_PASS, "after the gap");
	CHECK(check_blocks(t.c, 4, "after the gap") == T_PASS, "the old 6 and 7 stay gone");
	CHECK_OK(rawio_cache_read(t.c, buf, sizeof(buf), 120 * 4096));
	CHECK(t_sector_version(buf, 960) == 9, "the new segment 5 is there");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;

	/* An unreadable header, read-only (check) and read-write. */
	restore(&t);
	t_header_eio(&t, 3, &fr, &eo);
	{
		char report[2048];
		int ret = rawio_cache_check(t.cdev, t.bdev, &t.o, report, sizeof(report));

		CHECK(ret == 1 && strstr(report, "could not be read"), "check with EIO: %d: %s",
		      ret, report);
	}
	CHECK_OK(t_cache_reopen(&t));
	{
		struct rawio_cache_recovery r;

		rawio_cache_recovery(t.c, &r);
		CHECK(r.io_errors == 1 && r.headers_retried >= 1, "io errors %llu, retried %llu",
		      (unsigned long long)r.io_errors, (unsigned long long)r.headers_retried);
	}
	CHECK(expect_recovery(&t, 2, "io", 4, "eio") == T_PASS, "eio");
	CHECK(check_blocks(t.c, 2, "eio") == T_PASS, "segments 1 and 2 intact");
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	t.o.cache_engine = NULL;
	t.o.cache_engine_opts = NULL;

	/* Records: write back, then damage the newer record copy. */
	restore(&t);
	CHECK_OK(t_cache_reopen(&t));
	CHECK_OK(rawio_cache_drain(t.c));
	CHECK_OK(t_write_block(t.c, 200, 5));
	CHECK_OK(rawio_cache_drain(t.c));
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	{
		struct rawio_cache_recovery r;
		char *mem = rawio_dev_mem(t.cdev);
		struct cache_rec rec[2];
		struct cache_geometry g;
		int newer;

		cache_sb_decode(mem, 4096, &g);
		CHECK_OK(cache_rec_decode(mem + 4096, 4096, &g, &rec[0]));
		CHECK_OK(cache_rec_decode(mem + 8192, 4096, &g, &rec[1]));
		newer = rec[1].seq > rec[0].seq;
		CHECK(rec[newer].last_migrated == 8, "written back up to 8: %llu",
		      (unsigned long long)rec[newer].last_migrated);
		mem[4096 + newer * 4096 + 20] ^= 1;
		CHECK(check_report(&t, 1, "damaged record") == T_PASS, "damaged record");
		CHECK_OK(t_cache_reopen(&t));
		rawio_cache_recovery(t.c, &r);
		CHECK(r.record_fallback && r.last_migrated == rec[!newer].last_migrated,
		      "fallback %d, last migrated %llu", r.record_fallback,
		      (unsigned long long)r.last_migrated);
		/* Segment 8 was written back already: replaying it again is harmless. */
		CHECK(r.replayed == 8 - rec[!newer].last_migrated, "replayed %llu",
		      (unsigned long long)r.replayed);
		CHECK_OK(rawio_cache_read(t.c, buf, sizeof(buf), 200 * 4096));
		CHECK(t_sector_version(buf, 1600) == 5, "block 200 intact");
		CHECK(check_blocks(t.c, 7, "record fallback") == T_PASS, "record fallback");
		CHECK_OK(rawio_cache_close(t.c));
		t.c = NULL;
	}

	/* A damaged superblock. */
	((char *)rawio_dev_mem(t.cdev))[40] ^= 1;
	{
		struct rawio_cache *c;

		CHECK(rawio_cache_open(&c, t.cdev, t.bdev, NULL) == -EBADMSG, "bad superblock crc");
	}
	free(snap_c);
	free(snap_b);
	t_cache_done(&t);
	return T_PASS;
}
