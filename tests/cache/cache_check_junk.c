// SPDX-License-Identifier: MIT
/*
 * A cache formatted (--force) over random bytes checks clean: segment
 * headers without our magic are not ours (-ENOMSG from the decoder), not
 * "a wrong structure". A header with our magic and a good crc but a wrong
 * field is still reported as corrupt.
 */
#include "cache_test.h"
#include "util/crc32c.h"

#define CACHE_SZ   (8u << 20)
#define BACKING_SZ (4u << 20)

int main(void)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f), .force = true };
	struct rawio_cache_opts o = { .size = sizeof(o) };
	struct rawio_cache_stat st;
	struct rawio_dev *cdev, *bdev;
	struct rawio_cache *c;
	struct cache_geometry g;
	struct cache_seg_hdr h;
	uint64_t blocks[CACHE_BLOCK / CACHE_ENTRY_SIZE], seed = 19;
	uint8_t masks[CACHE_BLOCK / CACHE_ENTRY_SIZE];
	char report[4096], blk[CACHE_BLOCK];
	uint8_t *mem;
	int ret;

	CHECK_OK(rawio_dev_open_mem(&cdev, CACHE_SZ, 512));
	CHECK_OK(rawio_dev_open_mem(&bdev, BACKING_SZ, 512));
	mem = rawio_dev_mem(cdev);
	for (size_t i = 0; i < CACHE_SZ; i++)
		mem[i] = (uint8_t)rng_next(&seed);
	CHECK_OK(rawio_cache_format(cdev, bdev, &f));

	ret = rawio_cache_check(cdev, bdev, &o, report, sizeof(report));
	CHECK(ret == 0 && !strstr(report, "wrong structure"), "check over random data: %d: %s", ret,
	      report);

	/* The decoder: random bytes are not ours; our magic with a wrong field is corrupt. */
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, NULL));
	rawio_cache_stat(c, &st);
	CHECK_OK(rawio_cache_close(c));
	CHECK_OK(cache_geometry_plan(&g, CACHE_SZ, BACKING_SZ, st.segment_size));
	memcpy(g.uuid, st.uuid, sizeof(g.uuid));
	for (size_t i = 0; i < sizeof(blk); i++)
		blk[i] = (char)rng_next(&seed);
	ret = cache_seg_hdr_decode(blk, sizeof(blk), &g, 1, &h, blocks, masks);
	CHECK(ret == -ENOMSG, "random header: %d", ret);
	memset(blk, 0, sizeof(blk));
	h = (struct cache_seg_hdr){ .id = 1 + g.nr_segments, .nr_blocks = 0 };
	cache_seg_hdr_encode(blk, &g, &h, blocks, masks);
	CHECK_OK(cache_seg_hdr_decode(blk, sizeof(blk), &g, 1, &h, blocks, masks));
	blk[8] ^= 0x7f; /* version */
	{
		struct cache_seg_hdr_disk d;

		memcpy(&d, blk, sizeof(d));
		d.crc = htole32(rawio_crc32c(0, &d, offsetof(struct cache_seg_hdr_disk, crc)));
		memcpy(blk, &d, sizeof(d));
	}
	ret = cache_seg_hdr_decode(blk, sizeof(blk), &g, 1, &h, blocks, masks);
	CHECK(ret == -EUCLEAN, "wrong version, good crc: %d", ret);

	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return T_PASS;
}
