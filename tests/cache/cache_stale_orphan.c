// SPDX-License-Identifier: MIT
/*
 * A stale segment past a hole must never be replayed, even when recovery
 * could not read its header. With several commits in flight a crash can
 * leave segment 5 written and segment 4 torn; 5 was never acknowledged.
 * Recovery replays 1..3 and must make 5 unfindable before the log goes on,
 * because the next segments written are 4, then 5, ...: once a new 4 is on
 * disk, a later recovery would walk from it straight into the old 5.
 *
 * Here the old 5's header cannot be read during the first recovery (EIO
 * through the fault engine, as a flaky remote device or a sector that reads
 * again later would do), so it is not known to be an orphan. The blocks it
 * holds are then rewritten in a new segment 4 and flushed (acknowledged), the
 * cache closed, and reopened with the device readable again: every block must
 * read its acknowledged version, not the old 5's.
 */
#include <rawio/engine.h>

#include "cache_test.h"

#define CACHE_SZ   (4u << 20)
#define BACKING_SZ (1u << 20)
#define SEG	   (64u << 10)
#define BPS	   15 /* blocks per 64 KiB segment */

static int expect_block(struct rawio_cache *c, uint64_t b, uint32_t v, const char *what)
{
	char buf[4096];

	CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), b * 4096));
	for (unsigned s = 0; s < 8; s++)
		CHECK(t_sector_version(buf + s * 512, b * 8 + s) == v,
		      "%s: block %llu sector %u: version %lld, want %u", what,
		      (unsigned long long)b, s,
		      (long long)t_sector_version(buf + s * 512, b * 8 + s), v);
	return T_PASS;
}

int main(void)
{
	struct rawio_cache_recovery r;
	struct rawio_fault_range fr;
	struct rawio_engine_opts eo;
	struct t_cache t;

	/* Segments 1..5, each 15 blocks of its own, version = segment id. */
	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	for (uint32_t s = 1; s <= 5; s++)
		for (unsigned i = 0; i < BPS; i++)
			CHECK_OK(t_write_block(t.c, (s - 1) * BPS + i, s));
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;

	/* The crash: segment 4 torn, 5 written. */
	t_seg_at(&t, 4, 7)[1000] ^= 0x10;

	/* First recovery, 5's header unreadable. */
	t_header_eio(&t, 5, &fr, &eo);
	CHECK_OK(t_cache_reopen(&t));
	rawio_cache_recovery(t.c, &r);
	CHECK(r.replayed == 3 && !strcmp(r.stop_reason, "torn") && r.io_errors == 1,
	      "first recovery: replayed %llu, stopped: %s, io errors %llu",
	      (unsigned long long)r.replayed, r.stop_reason, (unsigned long long)r.io_errors);
	for (unsigned i = 0; i < BPS; i++)
		CHECK(expect_block(t.c, 3 * BPS + i, 0, "torn 4 not replayed") == T_PASS, "4");

	/* The old 5's blocks, rewritten into the new segment 4 and acknowledged. */
	for (unsigned i = 0; i < BPS; i++)
		CHECK_OK(t_write_block(t.c, 4 * BPS + i, 9));
	CHECK_OK(rawio_cache_flush(t.c));
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	t.o.cache_engine = NULL;
	t.o.cache_engine_opts = NULL;

	/* Readable again: the run is 1..3 and the new 4, never the old 5. */
	CHECK_OK(t_cache_reopen(&t));
	rawio_cache_recovery(t.c, &r);
	CHECK(r.replayed == 4, "second recovery: replayed %llu segments (want 4: 1..3, the new 4)",
	      (unsigned long long)r.replayed);
	for (unsigned i = 0; i < BPS; i++)
		CHECK(expect_block(t.c, 4 * BPS + i, 9, "acknowledged, not the stale 5") == T_PASS,
		      "the old segment 5 came back");
	for (unsigned i = 0; i < 3 * BPS; i++)
		CHECK(expect_block(t.c, i, (uint32_t)(i / BPS + 1), "1..3") == T_PASS, "1..3");
	t_cache_done(&t);
	return T_PASS;
}
