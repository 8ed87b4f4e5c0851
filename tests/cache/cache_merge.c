// SPDX-License-Identifier: MIT
/*
 * Merged write-back lands byte-exact. Migration sorts a batch's blocks by
 * backing offset and writes runs of adjacent blocks as one write, from where
 * the log read put them when their log places follow each other too, else
 * from copies side by side (migrate.c). On RAM devices, with migration off
 * while writing, this lays down every shape a run can have:
 *   - runs written in order (one write each, from the stage),
 *   - runs written backwards and interleaved with other runs (their log
 *     places do not follow each other: merged from copies),
 *   - blocks overwritten in later segments (only the newest copy goes back),
 *   - partial blocks (sectors) beside whole ones (the rest read from the
 *     backing device first),
 *   - runs longer than one write (256 blocks) and across chunk boundaries,
 *   - scattered single blocks,
 * then drains at nr_batched_migration 32 and 1 (a fresh cache each) and
 * checks every backing sector against a model, that the batch of 32 merged
 * (fewer writes than blocks), and what the cache reads afterwards.
 */
#include "cache_test.h"

#define SEG	   (64u << 10)
#define CACHE_SZ   (64u << 20)
#define BACKING_SZ (8u << 20)
#define BLOCKS	   (BACKING_SZ / 4096)
#define SECTORS	   (BACKING_SZ / 512)

static uint32_t model[SECTORS];
static uint32_t seq;

static int put(struct t_cache *t, uint64_t s0, unsigned n)
{
	static char buf[256 * 512];

	if (n > 256)
		return -EINVAL;
	uint32_t v = ++seq;

	for (unsigned i = 0; i < n; i++) {
		t_sector_fill(buf + (size_t)i * 512, s0 + i, v);
		model[s0 + i] = v;
	}
	return rawio_cache_write(t->c, buf, n * 512ull, s0 * 512, 0);
}

/* Blocks B..B+N, in order, 32 at a time. */
static int put_blocks(struct t_cache *t, uint64_t b, unsigned n)
{
	int ret = 0;

	for (unsigned i = 0; i < n && !ret; i += 32)
		ret = put(t, (b + i) * 8, (n - i < 32 ? n - i : 32) * 8);
	return ret;
}

static int run(unsigned batch)
{
	struct rawio_cache_stat st;
	struct t_cache t;
	uint64_t rng = 7 + batch;
	char what[32];
	int ret = 1;

	memset(model, 0, sizeof(model));
	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	/* Runs written in order, one of them longer than a merged write (256 blocks). */
	CHECK_OK(put_blocks(&t, 16, 40));
	CHECK_OK(put_blocks(&t, 100, 300));
	/* Runs written backwards, interleaved: log places do not follow the backing's. */
	for (unsigned i = 0; i < 24; i++) {
		CHECK_OK(put_blocks(&t, 600 + 23 - i, 1));
		CHECK_OK(put_blocks(&t, 700 + 23 - i, 1));
		CHECK_OK(put_blocks(&t, 800 + i * 2, 1));
	}
	/* Partial blocks beside whole ones, and inside a run. */
	CHECK_OK(put(&t, 900 * 8 + 3, 2));
	CHECK_OK(put_blocks(&t, 901, 3));
	CHECK_OK(put(&t, 904 * 8, 5));
	CHECK_OK(put(&t, 910 * 8 + 7, 1));
	CHECK_OK(put_blocks(&t, 911, 1));
	/* Scattered blocks, and some overwritten several times. */
	for (unsigned i = 0; i < 600; i++)
		CHECK_OK(put_blocks(&t, 1000 + rng_below(&rng, BLOCKS - 1000), 1));
	for (unsigned i = 0; i < 3; i++)
		CHECK_OK(put_blocks(&t, 110 + i * 5, 20));
	/* A run part of which comes back in a later segment, written the other way. */
	for (unsigned i = 0; i < 8; i++)
		CHECK_OK(put_blocks(&t, 520 - i, 1));

	CHECK_OK(rawio_cache_tunable_set(t.c, "nr_batched_migration", batch));
	CHECK_OK(rawio_cache_drain(t.c));
	rawio_cache_stat(t.c, &st);
	printf("batch %u: %llu batches, %llu blocks in %llu writes, %llu rmw, %llu skipped\n",
	       batch, (unsigned long long)st.migrate_batches, (unsigned long long)st.migrate_blocks,
	       (unsigned long long)st.migrate_writes, (unsigned long long)st.migrate_rmw,
	       (unsigned long long)st.migrate_skipped);
	CHECK(st.dirty_blocks == 0, "dirty blocks after drain: %llu",
	      (unsigned long long)st.dirty_blocks);
	CHECK(st.migrate_rmw > 0, "no partly dirty block was written back");
	if (batch > 1)
		CHECK(st.migrate_writes * 2 < st.migrate_blocks,
		      "batch %u: %llu writes for %llu blocks: runs not merged", batch,
		      (unsigned long long)st.migrate_writes, (unsigned long long)st.migrate_blocks);
	snprintf(what, sizeof(what), "batch %u", batch);
	if (t_check_model(&t, model, SECTORS, what))
		return T_FAIL;
	ret = 0;
	t_cache_done(&t);
	return ret;
}

int main(void)
{
	if (run(32) || run(1))
		return 1;
	printf("ok\n");
	return 0;
}
