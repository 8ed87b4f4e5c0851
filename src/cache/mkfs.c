// SPDX-License-Identifier: MIT
/*
 * rawio_cache_format: check that the cache device holds nothing of value,
 * then write the superblock records and the superblock (encoders: format.c).
 */
#include <string.h>
#include <sys/random.h>

#include "cache_impl.h"

int rawio_cache_format(struct rawio_dev *cdev, struct rawio_dev *bdev,
		       const struct rawio_cache_format_opts *opts)
{
	const struct rawio_dev_info *ci, *bi;
	struct cache_geometry g, found;
	struct rawio_engine *e = NULL;
	struct cache_rec rec = { .seq = 1 };
	char *errbuf = opts ? opts->errbuf : NULL;
	size_t errlen = opts ? opts->errbuf_len : 0;
	char *buf = NULL, uuid[RAWIO_UUID_STR_LEN];
	int locked_c = 0, locked_b = 0;
	int64_t res;
	int ret;

	if (!cdev || !bdev || !opts || opts->size < sizeof(*opts))
		return -EINVAL;
	ci = rawio_dev_info(cdev);
	bi = rawio_dev_info(bdev);
	if (ci->offset_align > CACHE_BLOCK || bi->offset_align > CACHE_BLOCK) {
		errbuf_set(errbuf, errlen, "%s: needs %u-byte alignment; the cache's blocks are %u",
			   ci->offset_align > CACHE_BLOCK ? ci->path : bi->path,
			   ci->offset_align > CACHE_BLOCK ? ci->offset_align : bi->offset_align,
			   CACHE_BLOCK);
		return -EINVAL;
	}
	ret = cache_geometry_plan(&g, ci->size, bi->size, opts->segment_size);
	if (ret) {
		if (ret == -ENOSPC)
			errbuf_set(errbuf, errlen,
				   "%s: %llu bytes cannot hold %llu segments of %u bytes after the "
				   "1 MiB superblock area",
				   ci->path, (unsigned long long)ci->size,
				   (unsigned long long)CACHE_MIN_SEGMENTS,
				   opts->segment_size ? opts->segment_size
						      : RAWIO_CACHE_DEFAULT_SEGMENT);
		else
			errbuf_set(errbuf, errlen,
				   "bad geometry: segment size %u (a power of two from 16 KiB to "
				   "1 MiB), backing device %s of %llu bytes",
				   opts->segment_size, bi->path, (unsigned long long)bi->size);
		return ret;
	}
	/* Own both devices while writing, whoever opened them (as rawio_cache_open does). */
	locked_c = rawio_dev_lock(cdev, RAWIO_DEV_LOCK_EX, opts->lock_wait_ms, errbuf, errlen);
	if (locked_c < 0)
		return locked_c;
	locked_b = rawio_dev_lock(bdev, RAWIO_DEV_LOCK_EX, opts->lock_wait_ms, errbuf, errlen);
	if (locked_b < 0) {
		ret = locked_b;
		goto out;
	}
	buf = rawio_buf_alloc(3 * CACHE_BLOCK, CACHE_BLOCK);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = cache_engine_open_single(cdev, &e);
	if (ret)
		goto out;
	res = rawio_engine_io(e, RAWIO_OP_READ, 0, buf, 3 * CACHE_BLOCK, 0);
	if (res < 0) {
		ret = (int)res;
		errbuf_set(errbuf, errlen, "%s: reading the superblock area: %s", ci->path,
			   rawio_strerror(ret));
		goto out;
	}
	if (!opts->force) {
		if (!cache_sb_decode(buf, CACHE_BLOCK, &found)) {
			rawio_uuid_str(found.uuid, uuid);
			errbuf_set(errbuf, errlen,
				   "%s holds a rawio cache (uuid %s, %llu segments of %u bytes); "
				   "formatting loses its dirty data: use --force",
				   ci->path, uuid, (unsigned long long)found.nr_segments,
				   found.segment_size);
			ret = -EEXIST;
			goto out;
		}
		if (!cache_all_zero(buf, 3 * CACHE_BLOCK)) {
			errbuf_set(errbuf, errlen,
				   "%s: its first 12 KiB are not zero (a filesystem or data?); "
				   "formatting destroys it: use --force",
				   ci->path);
			ret = -EEXIST;
			goto out;
		}
	}
	if (getrandom(g.uuid, sizeof(g.uuid), 0) != sizeof(g.uuid)) {
		ret = -EIO;
		goto out;
	}
	g.uuid[6] = (g.uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	g.uuid[8] = (g.uuid[8] & 0x3f) | 0x80;
	g.format_ns = clock_realtime_ns();
	rec.written_ns = g.format_ns;

	/* Records first, the superblock last: a crash in between leaves no new cache. */
	cache_rec_encode(buf, &g, &rec);
	memset(buf + CACHE_BLOCK, 0, CACHE_BLOCK);
	res = rawio_engine_io(e, RAWIO_OP_WRITE, 0, buf, 2 * CACHE_BLOCK, CACHE_REC_OFF);
	if (res >= 0)
		res = rawio_engine_io(e, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	if (res >= 0) {
		cache_sb_encode(buf, &g);
		res = rawio_engine_io(e, RAWIO_OP_WRITE, RAWIO_REQ_FUA, buf, CACHE_BLOCK,
				      CACHE_SB_OFF);
	}
	if (res >= 0)
		res = rawio_engine_io(e, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
	ret = res < 0 ? (int)res : 0;
	if (ret)
		errbuf_set(errbuf, errlen, "%s: writing the new cache: %s", ci->path,
			   rawio_strerror(ret));
out:
	rawio_engine_close(e);
	rawio_buf_free(buf);
	if (locked_b == 1)
		rawio_dev_unlock(bdev);
	if (locked_c == 1)
		rawio_dev_unlock(cdev);
	return ret;
}
