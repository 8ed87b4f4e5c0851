// SPDX-License-Identifier: MIT
/*
 * Round trip against a per-sector model: random writes (whole blocks, runs of
 * blocks, single 512-byte sectors, from unaligned buffers), reads served from
 * RAM, from the cache device, merged with the backing device, and from the
 * backing device; then migration, drain (the backing device must equal the
 * model), close and reopen (recovery replays what was not written back).
 */
#include "cache_test.h"

#define CACHE_SZ   (8u << 20)
#define BACKING_SZ (4u << 20)
#define SECTORS	   (BACKING_SZ / 512)
#define SEG	   (64u << 10)

static uint32_t model[SECTORS];
static uint32_t next_version = 1;
static char wbuf[64 * 512 + 1], rbuf[64 * 512 + 1];

static int do_write(struct rawio_cache *c, uint64_t *rng, unsigned flags)
{
	unsigned kind = (unsigned)rng_below(rng, 4), n;
	uint64_t s;

	if (kind == 0) { /* one sector */
		n = 1;
		s = rng_below(rng, SECTORS);
	} else if (kind == 1) { /* a whole block */
		n = 8;
		s = rng_below(rng, SECTORS / 8) * 8;
	} else { /* anything */
		n = 1 + (unsigned)rng_below(rng, 40);
		s = rng_below(rng, SECTORS - n);
	}
	for (unsigned i = 0; i < n; i++) {
		model[s + i] = next_version;
		t_sector_fill(wbuf + 1 + i * 512, s + i, next_version);
	}
	next_version++;
	return rawio_cache_write(c, wbuf + 1, n * 512, s * 512, flags);
}

/* Read N sectors at S and compare with the model. */
static int check_range(struct rawio_cache *c, uint64_t s, unsigned n)
{
	int ret = rawio_cache_read(c, rbuf + 1, n * 512, s * 512);

	CHECK(ret == 0, "read %u sectors at %llu: %s", n, (unsigned long long)s,
	      rawio_strerror(ret));
	for (unsigned i = 0; i < n; i++) {
		int64_t v = t_sector_version(rbuf + 1 + i * 512, s + i);

		CHECK(v == model[s + i], "sector %llu: read version %lld, want %u",
		      (unsigned long long)(s + i), (long long)v, model[s + i]);
	}
	return T_PASS;
}

static int check_all(struct rawio_cache *c)
{
	for (uint64_t s = 0; s < SECTORS; s += 64)
		if (check_range(c, s, 64))
			return T_FAIL;
	return T_PASS;
}

static int random_reads(struct rawio_cache *c, uint64_t *rng, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		unsigned n = 1 + (unsigned)rng_below(rng, 64);

		if (check_range(c, rng_below(rng, SECTORS - n), n))
			return T_FAIL;
	}
	return T_PASS;
}

int main(void)
{
	struct rawio_cache_stat st;
	struct rawio_cache_recovery rec;
	struct t_cache t;
	uint64_t rng = 42;
	const char *bmem;

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	CHECK(check_all(t.c) == T_PASS, "fresh cache reads the backing device");

	/* Writes stay in RAM and on the cache device: no migration yet. */
	for (unsigned i = 0; i < 600; i++) {
		CHECK_OK(do_write(t.c, &rng, i % 50 == 0 ? RAWIO_CACHE_FUA : 0));
		if (i % 20 == 0)
			CHECK(random_reads(t.c, &rng, 5) == T_PASS, "reads during writes");
		if (i % 97 == 0)
			CHECK_OK(rawio_cache_flush(t.c));
	}
	CHECK(check_all(t.c) == T_PASS, "after writes");
	rawio_cache_stat(t.c, &st);
	CHECK(st.read_hits_ram > 0 && st.read_hits > st.read_hits_ram && st.read_misses > 0,
	      "hits: %llu ram, %llu total, %llu misses", (unsigned long long)st.read_hits_ram,
	      (unsigned long long)st.read_hits, (unsigned long long)st.read_misses);
	CHECK(st.read_partial > 0 && st.write_partial > 0, "partial blocks were read and written");
	CHECK(st.migrate_batches == 0 && st.last_migrated == 0, "allow_migrate 0: no write-back");
	CHECK(st.fua_writes == 12 && st.barriers >= 12 + 7, "barriers %llu",
	      (unsigned long long)st.barriers);

	/* Close and reopen: everything comes back from the log. */
	CHECK_OK(t_cache_reopen(&t));
	rawio_cache_recovery(t.c, &rec);
	rawio_cache_stat(t.c, &st);
	CHECK(rec.replayed > 0 && rec.replayed == st.next_id - 1 && !strcmp(rec.stop_reason, "end"),
	      "replayed %llu of %llu, stop %s", (unsigned long long)rec.replayed,
	      (unsigned long long)st.next_id - 1, rec.stop_reason);
	CHECK(rec.headers_read == st.nr_segments, "every header read: %llu of %llu",
	      (unsigned long long)rec.headers_read, (unsigned long long)st.nr_segments);
	CHECK(check_all(t.c) == T_PASS, "after reopen");

	/* Write-back in the background while writing and reading. */
	/* Both watermarks 0: write back whatever is dirty (low first: low <= high always). */
	CHECK(rawio_cache_tunable_set(t.c, "high_watermark", 0) == -EINVAL, "high below low");
	CHECK_OK(rawio_cache_tunable_set(t.c, "low_watermark", 0));
	CHECK_OK(rawio_cache_tunable_set(t.c, "high_watermark", 0));
	CHECK_OK(rawio_cache_tunable_set(t.c, "nr_batched_migration", 3));
	CHECK_OK(rawio_cache_tunable_set(t.c, "allow_migrate", 1));
	for (unsigned i = 0; i < 3000; i++) {
		CHECK_OK(do_write(t.c, &rng, 0));
		if (i % 10 == 0)
			CHECK(random_reads(t.c, &rng, 3) == T_PASS, "reads during migration");
	}
	CHECK_OK(rawio_cache_drain(t.c));
	rawio_cache_stat(t.c, &st);
	CHECK(st.migrate_batches > 0 && st.dirty_segments == 0 && st.dirty_blocks == 0,
	      "drained: %llu batches, %llu dirty segments, %llu dirty blocks",
	      (unsigned long long)st.migrate_batches, (unsigned long long)st.dirty_segments,
	      (unsigned long long)st.dirty_blocks);
	CHECK(st.max_batch_segments <= 3, "batches of at most 3: %llu",
	      (unsigned long long)st.max_batch_segments);
	/* The wrap-around happened: more segments than slots went through the log. */
	CHECK(st.next_id > st.nr_segments, "the log wrapped (%llu ids, %llu slots)",
	      (unsigned long long)st.next_id, (unsigned long long)st.nr_segments);
	bmem = rawio_dev_mem(t.bdev);
	for (uint64_t s = 0; s < SECTORS; s++)
		CHECK(t_sector_version(bmem + s * 512, s) == model[s],
		      "backing sector %llu: %lld, want %u", (unsigned long long)s,
		      (long long)t_sector_version(bmem + s * 512, s), model[s]);
	CHECK(check_all(t.c) == T_PASS, "after drain (clean hits and backing)");
	printf("%llu segments through %llu slots, %llu batches, %llu blocks written back in %llu "
	       "writes, %llu skipped, %llu read-modify-write\n",
	       (unsigned long long)st.next_id - 1, (unsigned long long)st.nr_segments,
	       (unsigned long long)st.migrate_batches, (unsigned long long)st.migrate_blocks,
	       (unsigned long long)st.migrate_writes, (unsigned long long)st.migrate_skipped,
	       (unsigned long long)st.migrate_rmw);

	/* A clean cache reopens with nothing to replay. */
	CHECK_OK(t_cache_reopen(&t));
	rawio_cache_recovery(t.c, &rec);
	CHECK(rec.replayed == 0 && rec.orphans == 0, "replayed %llu, orphans %llu",
	      (unsigned long long)rec.replayed, (unsigned long long)rec.orphans);
	CHECK(check_all(t.c) == T_PASS, "after the second reopen");

	/* Range checks. */
	CHECK(rawio_cache_write(t.c, wbuf, 100, 0, 0) == -EINVAL, "unaligned length");
	CHECK(rawio_cache_write(t.c, wbuf, 512, 100, 0) == -EINVAL, "unaligned offset");
	CHECK(rawio_cache_read(t.c, rbuf, 1024, BACKING_SZ - 512) == -EINVAL, "past the end");
	CHECK(rawio_cache_read(t.c, rbuf, 0, BACKING_SZ) == 0, "empty read at the end");
	t_cache_done(&t);
	return T_PASS;
}
