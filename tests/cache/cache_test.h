/* SPDX-License-Identifier: MIT */
/* Helpers for the cache tests: a cache on two RAM devices that outlive it. */
#ifndef RAWIO_CACHE_TEST_H
#define RAWIO_CACHE_TEST_H

#include <rawio/cache.h>
#include <rawio/engine.h>

#include "harness.h"
#include "cache/format.h"
#include "util/rng.h"

struct t_cache {
	struct rawio_dev *cdev, *bdev;
	struct rawio_cache *c;
	struct rawio_cache_opts o;
	struct rawio_cache_tunables tun;
};

/* Tunables for tests: migration off unless a test turns it on. */
static inline void t_cache_tunables(struct t_cache *t)
{
	rawio_cache_tunables_default(&t->tun);
	t->tun.allow_migrate = 0;
}

/* RAM devices of CACHE_SIZE and BACKING_SIZE bytes, formatted with SEG-byte segments, opened. */
static inline int t_cache_new(struct t_cache *t, uint64_t cache_size, uint64_t backing_size,
			      uint32_t seg)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f), .segment_size = seg };
	char err[256] = "";
	int ret;

	memset(t, 0, sizeof(*t));
	t_cache_tunables(t);
	ret = rawio_dev_open_mem(&t->cdev, cache_size, 512);
	if (!ret)
		ret = rawio_dev_open_mem(&t->bdev, backing_size, 512);
	if (ret)
		return ret;
	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	ret = rawio_cache_format(t->cdev, t->bdev, &f);
	if (ret) {
		fprintf(stderr, "format: %s: %s\n", rawio_strerror(ret), err);
		return ret;
	}
	t->o.size = sizeof(t->o);
	t->o.tunables = &t->tun;
	t->o.errbuf = err;
	t->o.errbuf_len = sizeof(err);
	ret = rawio_cache_open(&t->c, t->cdev, t->bdev, &t->o);
	t->o.errbuf = NULL;
	if (ret)
		fprintf(stderr, "open: %s: %s\n", rawio_strerror(ret), err);
	return ret;
}

/* Close (unless already closed) and open again: recovery runs. */
static inline int t_cache_reopen(struct t_cache *t)
{
	char err[256] = "";
	int ret = 0;

	if (t->c)
		ret = rawio_cache_close(t->c);
	t->c = NULL;
	if (ret) {
		fprintf(stderr, "close: %s\n", rawio_strerror(ret));
		return ret;
	}
	t->o.errbuf = err;
	t->o.errbuf_len = sizeof(err);
	ret = rawio_cache_open(&t->c, t->cdev, t->bdev, &t->o);
	t->o.errbuf = NULL;
	if (ret)
		fprintf(stderr, "reopen: %s: %s\n", rawio_strerror(ret), err);
	return ret;
}

static inline void t_cache_done(struct t_cache *t)
{
	rawio_cache_close(t->c);
	rawio_dev_close(t->cdev);
	rawio_dev_close(t->bdev);
	memset(t, 0, sizeof(*t));
}

/* A 4 KiB block tagged with its writer ID, block BLK and VERSION in every word. */
static inline void t_block_tag(uint64_t *buf, unsigned id, unsigned blk, uint32_t version)
{
	for (unsigned i = 0; i < 4096 / 8; i++)
		buf[i] = (uint64_t)id << 48 | (uint64_t)blk << 32 | version;
}

/* Sector contents: 512 bytes derived from (sector, version); version 0 is "never written". */
static inline void t_sector_fill(void *buf, uint64_t sector, uint32_t version)
{
	uint64_t p[512 / 8];
	uint64_t st = sector * 0x100000001b3ull ^ version;

	p[0] = sector;
	p[1] = version;
	for (unsigned i = 2; i < 512 / 8; i++)
		p[i] = rng_next(&st);
	memcpy(buf, p, sizeof(p)); /* BUF may be unaligned */
}

/* The version a sector holds, or -1 when it is no version ever written for that sector. */
static inline int64_t t_sector_version(const void *buf, uint64_t sector)
{
	uint64_t p[2], want[512 / 8];

	memcpy(p, buf, sizeof(p));
	if (p[0] != sector || p[1] > 0xffffffffull)
		return -1;
	t_sector_fill(want, sector, (uint32_t)p[1]);
	return memcmp(want, buf, 512) ? -1 : (int64_t)p[1];
}

/*
 * After a full drain: every backing sector holds MODEL's version, and so does
 * every sector read through the cache after a reopen (clean blocks come from
 * the backing). T_PASS, or T_FAIL naming WHAT and the first sector that differs.
 */
static inline int t_check_model(struct t_cache *t, const uint32_t *model, uint64_t sectors,
				const char *what)
{
	static char buf[256 * 512];
	const char *bmem = rawio_dev_mem(t->bdev);

	for (uint64_t s = 0; s < sectors; s++)
		CHECK(t_sector_version(bmem + s * 512, s) == model[s],
		      "%s: backing sector %llu (block %llu): version %lld, want %u", what,
		      (unsigned long long)s, (unsigned long long)s / 8,
		      (long long)t_sector_version(bmem + s * 512, s), model[s]);
	CHECK_OK(t_cache_reopen(t));
	for (uint64_t s = 0; s < sectors; s += 256) {
		CHECK_OK(rawio_cache_read(t->c, buf, sizeof(buf), s * 512));
		for (unsigned i = 0; i < 256 && s + i < sectors; i++)
			CHECK(t_sector_version(buf + i * 512, s + i) == model[s + i],
			      "%s: read sector %llu after reopen: version %lld, want %u", what,
			      (unsigned long long)(s + i),
			      (long long)t_sector_version(buf + i * 512, s + i), model[s + i]);
	}
	return T_PASS;
}

/* Write backing block B (4 KiB) with version V of each of its sectors. */
static inline int t_write_block(struct rawio_cache *c, uint64_t b, uint32_t v)
{
	char buf[4096];

	for (unsigned s = 0; s < 8; s++)
		t_sector_fill(buf + s * 512, b * 8 + s, v);
	return rawio_cache_write(c, buf, sizeof(buf), b * 4096, 0);
}

/* Block BLOCK (0: the header) of segment ID's slot on T's cache RAM device. */
static inline char *t_seg_at(struct t_cache *t, uint64_t id, unsigned block)
{
	struct cache_geometry g;

	cache_sb_decode(rawio_dev_mem(t->cdev), 4096, &g);
	return (char *)rawio_dev_mem(t->cdev) + cache_seg_dev_off(&g, id % g.nr_segments) +
	       block * 4096ull;
}

/*
 * Make T's next opens read the cache device through a fault engine whose reads of
 * segment ID's header fail with EIO (FR and EO must outlive those opens).
 */
static inline void t_header_eio(struct t_cache *t, uint64_t id, struct rawio_fault_range *fr,
				struct rawio_engine_opts *eo)
{
	struct cache_geometry g;

	cache_sb_decode(rawio_dev_mem(t->cdev), 4096, &g);
	*fr = (struct rawio_fault_range){ .off = cache_seg_dev_off(&g, id % g.nr_segments),
					  .len = 4096,
					  .ops = 1u << RAWIO_OP_READ };
	*eo = (struct rawio_engine_opts){
		.size = sizeof(*eo), .lower = "mem", .faults = fr, .nr_faults = 1
	};
	t->o.cache_engine = "fault";
	t->o.cache_engine_opts = eo;
}

/* Fill the backing RAM device with version 0 of every sector. */
static inline void t_backing_init(struct rawio_dev *bdev)
{
	char *mem = rawio_dev_mem(bdev);
	uint64_t n = rawio_dev_info(bdev)->size / 512;

	for (uint64_t s = 0; s < n; s++)
		t_sector_fill(mem + s * 512, s, 0);
}

#endif
