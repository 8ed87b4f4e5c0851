// SPDX-License-Identifier: MIT
/*
 * Errors are retried, not ignored (dm-writeboost ignores backing errors):
 *   - backing writes and flushes that fail a few times during migration: the
 *     batch is retried and nothing is lost;
 *   - a backing range that always fails: drain reports the error, the data
 *     stays readable from the cache and is written back once the device
 *     works again;
 *   - a cache-device flush that fails twice: retried, the barrier succeeds;
 *   - segment writes that always fail: the flush reports the error, the
 *     cache refuses writes but still serves reads, close reports it.
 */
#include <rawio/engine.h>

#include "cache_test.h"

#define CACHE_SZ   (4u << 20)
#define BACKING_SZ (1u << 20)
#define SEG	   (32u << 10)
#define BLOCKS	   200

static int fill(struct rawio_cache *c, uint32_t v)
{
	char buf[4096];

	for (uint64_t b = 0; b < BLOCKS; b++) {
		for (unsigned s = 0; s < 8; s++)
			t_sector_fill(buf + s * 512, b * 8 + s, v);
		CHECK_OK(rawio_cache_write(c, buf, sizeof(buf), b * 4096, 0));
	}
	return T_PASS;
}

static int verify_cache(struct rawio_cache *c, uint32_t v)
{
	char buf[4096];

	for (uint64_t b = 0; b < BLOCKS; b++) {
		CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), b * 4096));
		for (unsigned s = 0; s < 8; s++)
			CHECK(t_sector_version(buf + s * 512, b * 8 + s) == v, "block %llu: %lld",
			      (unsigned long long)b,
			      (long long)t_sector_version(buf + s * 512, b * 8 + s));
	}
	return T_PASS;
}

static int verify_backing(struct rawio_dev *bdev, uint32_t v)
{
	const char *mem = rawio_dev_mem(bdev);

	for (uint64_t s = 0; s < BLOCKS * 8; s++)
		CHECK(t_sector_version(mem + s * 512, s) == v, "backing sector %llu: %lld",
		      (unsigned long long)s, (long long)t_sector_version(mem + s * 512, s));
	return T_PASS;
}

/* Close before changing the fault ranges: the open cache's engines read them. */
static void close_cache(struct t_cache *t)
{
	rawio_cache_close(t->c);
	t->c = NULL;
}

static int open_with(struct t_cache *t, struct rawio_engine_opts *ceo,
		     struct rawio_engine_opts *beo)
{
	rawio_cache_close(t->c);
	t->c = NULL;
	t->o.cache_engine = ceo ? "fault" : NULL;
	t->o.cache_engine_opts = ceo;
	t->o.backing_engine = beo ? "fault" : NULL;
	t->o.backing_engine_opts = beo;
	return rawio_cache_open(&t->c, t->cdev, t->bdev, &t->o);
}

int main(void)
{
	struct rawio_fault_range fr[2];
	struct rawio_engine_opts eo = { .size = sizeof(eo), .lower = "mem", .faults = fr };
	struct rawio_cache_stat st;
	struct t_cache t;
	uint64_t t0;
	int ret;

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);

	/*
	 * Transient backing write and flush errors: retried. (The blocks are
	 * adjacent, so a batch is one merged write: three failed batches in all,
	 * fewer than the five in a row that make drain give up.)
	 */
	fr[0] = (struct rawio_fault_range){
		.off = 0, .len = BACKING_SZ, .ops = 1u << RAWIO_OP_WRITE, .count = 2
	};
	fr[1] = (struct rawio_fault_range){ .ops = 1u << RAWIO_OP_FDATASYNC, .count = 1 };
	eo.nr_faults = 2;
	CHECK_OK(open_with(&t, NULL, &eo));
	CHECK(fill(t.c, 1) == T_PASS, "fill");
	CHECK_OK(rawio_cache_drain(t.c));
	rawio_cache_stat(t.c, &st);
	CHECK(st.migrate_errors >= 2, "failed batches %llu", (unsigned long long)st.migrate_errors);
	CHECK(st.dirty_blocks == 0, "dirty %llu", (unsigned long long)st.dirty_blocks);
	CHECK(verify_backing(t.bdev, 1) == T_PASS, "transient errors lost nothing");

	/* A backing block that always fails: drain gives up with the error, data stays. */
	close_cache(&t); /* the ranges must not change under an open cache */
	fr[0] = (struct rawio_fault_range){ .off = 50 * 4096,
					    .len = 4096,
					    .ops = 1u << RAWIO_OP_WRITE };
	eo.nr_faults = 1;
	CHECK_OK(open_with(&t, NULL, &eo));
	CHECK(fill(t.c, 2) == T_PASS, "fill");
	t0 = rawio_now_ns();
	ret = rawio_cache_drain(t.c);
	CHECK(ret == -EIO, "drain over a bad block: %d (%s)", ret, rawio_strerror(ret));
	CHECK(rawio_now_ns() - t0 < 10000000000ull, "drain gave up in time");
	rawio_cache_stat(t.c, &st);
	CHECK(st.migrate_errors >= 5 && st.dirty_blocks > 0, "errors %llu, dirty %llu",
	      (unsigned long long)st.migrate_errors, (unsigned long long)st.dirty_blocks);
	CHECK(verify_cache(t.c, 2) == T_PASS, "reads see the dirty data");
	/* The device works again (a new open without the fault): everything goes back. */
	CHECK_OK(open_with(&t, NULL, NULL));
	CHECK(verify_cache(t.c, 2) == T_PASS, "after reopen");
	CHECK_OK(rawio_cache_drain(t.c));
	CHECK(verify_backing(t.bdev, 2) == T_PASS, "written back once the device works");

	/* A cache flush that fails twice: the barrier still succeeds. */
	close_cache(&t); /* the ranges must not change under an open cache */
	fr[0] = (struct rawio_fault_range){ .ops = 1u << RAWIO_OP_FDATASYNC, .count = 2 };
	eo.nr_faults = 1;
	CHECK_OK(open_with(&t, &eo, NULL));
	CHECK(fill(t.c, 3) == T_PASS, "fill");
	CHECK_OK(rawio_cache_flush(t.c));
	CHECK(verify_cache(t.c, 3) == T_PASS, "after a retried flush");

	/* Segment writes that always fail: the cache refuses writes, keeps serving reads. */
	close_cache(&t); /* the ranges must not change under an open cache */
	fr[0] = (struct rawio_fault_range){ .off = 1u << 20,
					    .len = CACHE_SZ - (1u << 20),
					    .ops = 1u << RAWIO_OP_WRITE };
	CHECK_OK(open_with(&t, &eo, NULL));
	{
		char buf[4096];

		for (unsigned s = 0; s < 8; s++)
			t_sector_fill(buf + s * 512, 8 * 7 + s, 4);
		CHECK_OK(rawio_cache_write(t.c, buf, sizeof(buf), 7 * 4096, 0));
		ret = rawio_cache_flush(t.c);
		CHECK(ret == -EIO, "flush over failing segment writes: %d", ret);
		CHECK(rawio_cache_write(t.c, buf, sizeof(buf), 0, 0) == -EIO, "writes refused");
		CHECK_OK(rawio_cache_read(t.c, buf, sizeof(buf), 7 * 4096));
		CHECK(t_sector_version(buf, 56) == 4, "the unwritten segment is still readable");
		rawio_cache_stat(t.c, &st);
		CHECK(st.error == -EIO && st.segment_write_errors == 5, "error %d after %llu tries",
		      st.error, (unsigned long long)st.segment_write_errors);
	}
	CHECK(rawio_cache_close(t.c) == -EIO, "close reports the error");
	t.c = NULL;
	/* Nothing acknowledged was lost: the earlier data is all there. */
	CHECK_OK(open_with(&t, NULL, NULL));
	CHECK(verify_cache(t.c, 3) == T_PASS, "after the failure");
	t_cache_done(&t);
	return T_PASS;
}
