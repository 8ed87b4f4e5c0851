// SPDX-License-Identifier: MIT
/*
 * The cache by path: rawio_cache_format_path, rawio_cache_open_path and
 * rawio_cache_check_path open the two devices and call the handle variants
 * (mkfs.c, cache.c, check.c). An open cache closes the devices it opened.
 */
#include <stdio.h>
#include <string.h>

#include "cache_impl.h"

/* A connect that failed because the server is away (not a refusal or a bad URI)? */
static bool cache_unreachable(int err)
{
	switch (-err) {
	case ENOENT: /* a unix socket not there (the server is not running) */
	case ECONNREFUSED:
	case ECONNRESET:
	case ENOTCONN:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ESHUTDOWN:
	case EPIPE:
		return true;
	default:
		return false;
	}
}

/* The backing size the cache on CDEV was formatted for: 0 or -errno. */
static int cache_formatted_backing_size(struct rawio_dev *cdev, uint64_t *size)
{
	struct cache_geometry g;
	struct rawio_engine *e = NULL;
	char *buf;
	int64_t res;
	int ret;

	buf = rawio_buf_alloc(CACHE_BLOCK, CACHE_BLOCK);
	if (!buf)
		return -ENOMEM;
	ret = cache_engine_open_single(cdev, &e);
	if (!ret) {
		res = rawio_engine_io(e, RAWIO_OP_READ, 0, buf, CACHE_BLOCK, CACHE_SB_OFF);
		ret = res < 0 ? (int)res : cache_sb_decode(buf, CACHE_BLOCK, &g);
	}
	if (!ret)
		*size = g.backing_size;
	rawio_engine_close(e);
	rawio_buf_free(buf);
	return ret;
}

int rawio_cache_backing_open(struct rawio_dev **out, struct rawio_dev *cdev,
			     const char *backing_path, const struct rawio_dev_opts *opts)
{
	struct rawio_dev_opts o = { .size = sizeof(o) };
	char first[512] = "";
	uint64_t size;
	int ret;

	*out = NULL;
	if (opts)
		memcpy(&o, opts, opts->size && opts->size < sizeof(o) ? opts->size : sizeof(o));
	o.size = sizeof(o);
	ret = rawio_dev_open(out, backing_path, &o);
	if (!ret || !cdev || !backing_path || !rawio_dev_is_nbd_uri(backing_path) ||
	    !cache_unreachable(ret))
		return ret;
	if (o.errbuf)
		snprintf(first, sizeof(first), "%s", o.errbuf);
	if (cache_formatted_backing_size(cdev, &size)) {
		if (o.errbuf)
			snprintf(o.errbuf, o.errbuf_len, "%s", first);
		return ret; /* not a cache (yet): nothing to keep, the server's error stands */
	}
	o.nbd_offline_size = size;
	ret = rawio_dev_open(out, backing_path, &o);
	if (ret && o.errbuf)
		snprintf(o.errbuf, o.errbuf_len, "%s", first);
	return ret;
}

/* Open CACHE_PATH and BACKING_PATH (read-only with RDONLY). On failure neither is open. */
static int cache_open_devs(const char *cache_path, const char *backing_path, bool rdonly,
			   bool format, int lock_wait_ms, char *errbuf, size_t errbuf_len,
			   struct rawio_dev **cdev, struct rawio_dev **bdev)
{
	struct rawio_dev_opts o = { .size = sizeof(o),
				    .errbuf = errbuf,
				    .errbuf_len = errbuf_len,
				    .lock_wait_ms = lock_wait_ms };
	int ret;

	*cdev = *bdev = NULL;
	if (!cache_path || !backing_path)
		return -EINVAL;
	/* A writer owns both devices; readers share them with readers only. */
	o.flags = rdonly ? RAWIO_DEV_RDONLY | RAWIO_DEV_LOCK_SH : RAWIO_DEV_LOCK_EX;
	ret = rawio_dev_open(cdev, cache_path, &o);
	if (ret)
		return ret;
	/* A cache opens while its remote backing is away (not to format it). */
	ret = format ? rawio_dev_open(bdev, backing_path, &o)
		     : rawio_cache_backing_open(bdev, *cdev, backing_path, &o);
	if (ret) {
		rawio_dev_close(*cdev);
		*cdev = NULL;
	}
	return ret;
}

int rawio_cache_format_path(const char *cache_path, const char *backing_path,
			    const struct rawio_cache_format_opts *opts)
{
	struct rawio_dev *cdev, *bdev;
	int ret;

	if (!opts || opts->size < sizeof(*opts))
		return -EINVAL;
	ret = cache_open_devs(cache_path, backing_path, false, true, opts->lock_wait_ms,
			      opts->errbuf, opts->errbuf_len, &cdev, &bdev);
	if (ret)
		return ret;
	ret = rawio_cache_format(cdev, bdev, opts);
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return ret;
}

int rawio_cache_open_path(struct rawio_cache **out, const char *cache_path,
			  const char *backing_path, const struct rawio_cache_opts *opts)
{
	struct rawio_dev *cdev, *bdev;
	int ret;

	*out = NULL;
	if (opts && opts->size < sizeof(*opts))
		return -EINVAL;
	ret = cache_open_devs(cache_path, backing_path, opts && opts->read_only, false,
			      opts ? opts->lock_wait_ms : 0, opts ? opts->errbuf : NULL,
			      opts ? opts->errbuf_len : 0, &cdev, &bdev);
	if (ret)
		return ret;
	ret = rawio_cache_open(out, cdev, bdev, opts);
	if (ret) {
		rawio_dev_close(bdev);
		rawio_dev_close(cdev);
		return ret;
	}
	(*out)->own_devs = true;
	return 0;
}

int rawio_cache_check_path(const char *cache_path, const char *backing_path,
			   const struct rawio_cache_opts *opts, char *report, size_t report_len)
{
	struct rawio_dev *cdev, *bdev;
	int ret;

	if (opts && opts->size < sizeof(*opts))
		return -EINVAL;
	ret = cache_open_devs(cache_path, backing_path, true, false, opts ? opts->lock_wait_ms : 0,
			      opts ? opts->errbuf : NULL, opts ? opts->errbuf_len : 0, &cdev,
			      &bdev);
	if (ret)
		return ret;
	ret = rawio_cache_check(cdev, bdev, opts, report, report_len);
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return ret;
}
