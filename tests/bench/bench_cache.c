// SPDX-License-Identifier: MIT
/*
 * The cache benchmarks (rawio_cache_bench_*), on RAM devices: absorb writes
 * BYTES through the cache and measures both raw devices first (through
 * rawio_bench_run on the caller's open devices, which it must not close);
 * drain writes the same number of distinct blocks back at the batch size
 * asked, a batch size out of range is refused; fsync reports the deadline in
 * force, and write-back only where writers stalled on a full log.
 */
#include <rawio/bench.h>

#include "harness.h"

int main(void)
{
	struct rawio_cache_tunables tun;
	struct rawio_cache_opts co = { .size = sizeof(co), .tunables = &tun };
	struct rawio_cache_bench_opts o = { .size = sizeof(o) };
	struct rawio_cache_bench_absorb ab;
	struct rawio_cache_bench_drain dr;
	struct rawio_cache_bench_fsync fs;
	struct rawio_dev *cdev, *bdev;
	char err[256] = "";

	CHECK_OK(rawio_dev_open_mem(&cdev, 16u << 20, 512));
	CHECK_OK(rawio_dev_open_mem(&bdev, 64u << 20, 512));
	rawio_cache_tunables_default(&tun);
	tun.barrier_deadline_us = 1234;
	o.cache_dev = cdev;
	o.backing_dev = bdev;
	o.cache_opts = &co;
	o.segment_size = 64u << 10;
	o.bytes = 4u << 20;
	o.threads = 4;
	o.errbuf = err;
	o.errbuf_len = sizeof(err);

	CHECK(rawio_cache_bench_absorb(&o, &ab) == 0, "absorb: %s", err);
	CHECK(ab.writes == 1024 && ab.threads == 4, "absorb: %llu writes from %u threads",
	      (unsigned long long)ab.writes, ab.threads);
	CHECK(ab.iops > 0 && ab.cache_seq_mb_s > 0 && ab.backing_rand_iops > 0 && ab.segments > 0,
	      "absorb figures: %.0f IOPS, %.1f MB/s, %.0f IOPS, %llu segments", ab.iops,
	      ab.cache_seq_mb_s, ab.backing_rand_iops, (unsigned long long)ab.segments);
	/* The raw runs left the caller's devices open. */
	CHECK(rawio_dev_info(cdev)->size == 16u << 20 && rawio_dev_info(bdev)->size == 64u << 20,
	      "devices still open");

	o.batch = 8;
	CHECK(rawio_cache_bench_drain(&o, &dr) == 0, "drain: %s", err);
	CHECK(dr.batch == 8 && dr.blocks == 1024 && dr.migrate_blocks == 1024 && !dr.throttled,
	      "drain: batch %u, %llu blocks, %llu written back", dr.batch,
	      (unsigned long long)dr.blocks, (unsigned long long)dr.migrate_blocks);
	o.batch = 0;
	err[0] = '\0';
	CHECK(rawio_cache_bench_drain(&o, &dr) == -EINVAL && err[0], "batch 0 refused");

	o.writers = 2;
	o.runtime_ns = 200000000;
	CHECK(rawio_cache_bench_fsync(&o, &fs) == 0, "fsync: %s", err);
	CHECK(fs.writers == 2 && fs.deadline_us == 1234 && fs.ops > 0 && fs.seconds >= 0.2,
	      "fsync: %u writers, deadline %u, %llu ops in %.3f s", fs.writers, fs.deadline_us,
	      (unsigned long long)fs.ops, fs.seconds);
	/* allow_migrate is 0 in the benchmark: write-back runs only for writers facing a full log. */
	CHECK(!fs.migrate_batches || fs.write_stalls,
	      "fsync: %llu batches written back, %llu stalls",
	      (unsigned long long)fs.migrate_batches, (unsigned long long)fs.write_stalls);

	rawio_dev_close(cdev);
	rawio_dev_close(bdev);
	return T_PASS;
}
