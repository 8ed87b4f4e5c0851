// SPDX-License-Identifier: MIT
/*
 * Format and open guard rails: format refuses a used device without force
 * and bad geometry; open refuses what is not a cache and a backing device
 * smaller than the one formatted for; a re-format forgets the old log (its
 * segments carry another uuid); read-only opens refuse writes; tunables are
 * checked by name and range.
 */
#include "cache_test.h"

#define CACHE_SZ   (8u << 20)
#define BACKING_SZ (4u << 20)

static int fmt(struct rawio_dev *c, struct rawio_dev *b, uint32_t seg, bool force, char *err,
	       size_t len)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f),
					     .segment_size = seg,
					     .force = force,
					     .errbuf = err,
					     .errbuf_len = len };

	err[0] = 0;
	return rawio_cache_format(c, b, &f);
}

int main(void)
{
	struct rawio_dev *cdev, *bdev, *small, *tiny;
	struct rawio_cache_opts o = { .size = sizeof(o) };
	struct rawio_cache_tunables tun;
	struct rawio_cache_recovery r;
	struct rawio_cache *c;
	char err[512], buf[4096];
	uint64_t v;
	uint8_t uuid1[16];

	CHECK_OK(rawio_dev_open_mem(&cdev, CACHE_SZ, 512));
	CHECK_OK(rawio_dev_open_mem(&bdev, BACKING_SZ, 512));
	CHECK_OK(rawio_dev_open_mem(&small, BACKING_SZ / 2, 512));
	CHECK_OK(rawio_dev_open_mem(&tiny, (1u << 20) + 3 * (64u << 10), 512));

	/* Geometry. */
	CHECK(fmt(cdev, bdev, 3000, false, err, sizeof(err)) == -EINVAL, "segment 3000");
	CHECK(fmt(cdev, bdev, 2u << 20, false, err, sizeof(err)) == -EINVAL, "segment 2 MiB");
	CHECK(fmt(cdev, bdev, 48u << 10, false, err, sizeof(err)) == -EINVAL, "segment 48 KiB");
	CHECK(fmt(cdev, bdev, 8u << 10, false, err, sizeof(err)) == -EINVAL, "segment 8 KiB");
	CHECK(fmt(tiny, bdev, 64u << 10, false, err, sizeof(err)) == -ENOSPC && err[0],
	      "3 segments are too few: %s", err);

	/* Something that is not zero: refused without force. */
	((char *)rawio_dev_mem(cdev))[5000] = 1;
	CHECK(fmt(cdev, bdev, 0, false, err, sizeof(err)) == -EEXIST && strstr(err, "--force"),
	      "non-zero device: %s", err);
	CHECK_OK(fmt(cdev, bdev, 0, true, err, sizeof(err)));

	/* A cache: refused without force, naming what is there. */
	CHECK(fmt(cdev, bdev, 0, false, err, sizeof(err)) == -EEXIST &&
		      strstr(err, "holds a rawio cache"),
	      "existing cache: %s", err);

	/* Open: the default engine on RAM devices, 512 KiB segments. */
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, NULL));
	{
		struct rawio_cache_stat st;

		rawio_cache_stat(c, &st);
		CHECK(st.segment_size == RAWIO_CACHE_DEFAULT_SEGMENT &&
			      st.blocks_per_segment == 127 && st.size == BACKING_SZ &&
			      st.nr_segments == 14,
		      "geometry: %u-byte segments of %u blocks, %llu segments, size %llu",
		      st.segment_size, st.blocks_per_segment, (unsigned long long)st.nr_segments,
		      (unsigned long long)st.size);
		memcpy(uuid1, st.uuid, 16);
	}
	memset(buf, 7, sizeof(buf));
	CHECK_OK(rawio_cache_write(c, buf, sizeof(buf), 0, RAWIO_CACHE_FUA));

	/* Tunables. */
	CHECK(rawio_cache_tunable_set(c, "no_such", 1) == -ENOENT, "unknown name");
	CHECK(rawio_cache_tunable_set(c, "nr_batched_migration", 0) == -ERANGE, "batch 0");
	CHECK(rawio_cache_tunable_set(c, "nr_batched_migration", 257) == -ERANGE, "batch 257");
	CHECK(rawio_cache_tunable_set(c, "allow_migrate", 2) == -ERANGE, "allow_migrate 2");
	CHECK(rawio_cache_tunable_set(c, "barrier_deadline_us", 1000001) == -ERANGE, "deadline");
	CHECK_OK(rawio_cache_tunable_set(c, "nr_batched_migration", 256));
	CHECK_OK(rawio_cache_tunable_get(c, "nr_batched_migration", &v));
	CHECK(v == 256, "get %llu", (unsigned long long)v);
	CHECK(rawio_cache_tunable_get(c, "no_such", &v) == -ENOENT, "get unknown");
	rawio_cache_tunables_get(c, &tun);
	CHECK(tun.nr_batched_migration == 256 && tun.allow_migrate == 1 &&
		      tun.low_watermark == 10 && tun.high_watermark == 50 &&
		      tun.barrier_deadline_us == 3000,
	      "defaults and the change");
	CHECK_OK(rawio_cache_close(c));

	/* Read-only. */
	o.read_only = true;
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, &o));
	CHECK(rawio_cache_write(c, buf, sizeof(buf), 0, 0) == -EROFS, "write read-only");
	CHECK(rawio_cache_tunable_set(c, "allow_migrate", 0) == -EROFS, "set read-only");
	CHECK(rawio_cache_drain(c) == -EROFS, "drain read-only");
	CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), 0));
	CHECK(buf[0] == 7 && buf[4095] == 7, "read-only reads the log");
	CHECK_OK(rawio_cache_close(c));
	o.read_only = false;

	/* Bad tunables at open. */
	rawio_cache_tunables_default(&tun);
	tun.low_watermark = 101;
	o.tunables = &tun;
	CHECK(rawio_cache_open(&c, cdev, bdev, &o) == -ERANGE, "open with a bad tunable");
	rawio_cache_tunables_default(&tun);
	tun.low_watermark = 60; /* above high_watermark 50 */
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	CHECK(rawio_cache_open(&c, cdev, bdev, &o) == -EINVAL &&
		      strstr(err, "low_watermark 60 is above high_watermark 50"),
	      "open with low above high: %s", err);
	/* Put by name in any order: open checks the final pair (60 <= 80). */
	rawio_cache_tunables_default(&tun);
	CHECK(rawio_cache_tunables_put(&tun, "no_such", 1) == -ENOENT, "put an unknown name");
	CHECK(rawio_cache_tunables_put(&tun, "high_watermark", 101) == -ERANGE, "put 101");
	CHECK_OK(rawio_cache_tunables_put(&tun, "low_watermark", 60));
	CHECK_OK(rawio_cache_tunables_put(&tun, "high_watermark", 80));
	CHECK(tun.low_watermark == 60 && tun.high_watermark == 80, "put did not set the fields");
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, &o));
	CHECK_OK(rawio_cache_close(c));
	o.errbuf = NULL;
	o.tunables = NULL;

	/* Open refuses a smaller backing device, and a device that is no cache. */
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	CHECK(rawio_cache_open(&c, cdev, small, &o) == -EINVAL && strstr(err, "backing"),
	      "smaller backing: %s", err);
	CHECK(rawio_cache_open(&c, bdev, cdev, &o) == -EUCLEAN && strstr(err, "format it first"),
	      "not a cache: %s", err);
	o.errbuf = NULL;

	/* A forced re-format forgets the old log. */
	CHECK_OK(fmt(cdev, bdev, 0, true, err, sizeof(err)));
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, NULL));
	rawio_cache_recovery(c, &r);
	{
		struct rawio_cache_stat st;

		rawio_cache_stat(c, &st);
		CHECK(memcmp(st.uuid, uuid1, 16), "a new uuid");
	}
	CHECK(r.replayed == 0 && r.valid == 0,
	      "old segments are not ours: replayed %llu valid %llu", (unsigned long long)r.replayed,
	      (unsigned long long)r.valid);
	CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), 0));
	CHECK(buf[0] == 0, "the old write is gone with the old cache");
	CHECK_OK(rawio_cache_close(c));

	rawio_dev_close(tiny);
	rawio_dev_close(small);
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return T_PASS;
}
