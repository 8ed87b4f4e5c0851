// SPDX-License-Identifier: MIT
/*
 * The cache by path: rawio_cache_format_path, rawio_cache_open_path and
 * rawio_cache_check_path open the two devices and call the handle variants
 * (mkfs.c, cache.c, check.c). An open cache closes the devices it opened.
 */
#include "cache_impl.h"

/* Open CACHE_PATH and BACKING_PATH (read-only with RDONLY). On failure neither is open. */
static int cache_open_devs(const char *cache_path, const char *backing_path, bool rdonly,
			   int lock_wait_ms, char *errbuf, size_t errbuf_len,
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
	ret = rawio_dev_open(bdev, backing_path, &o);
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
	ret = cache_open_devs(cache_path, backing_path, false, opts->lock_wait_ms, opts->errbuf,
			      opts->errbuf_len, &cdev, &bdev);
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
	ret = cache_open_devs(cache_path, backing_path, opts && opts->read_only,
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
	ret = cache_open_devs(cache_path, backing_path, true, opts ? opts->lock_wait_ms : 0,
			      opts ? opts->errbuf : NULL, opts ? opts->errbuf_len : 0, &cdev,
			      &bdev);
	if (ret)
		return ret;
	ret = rawio_cache_check(cdev, bdev, opts, report, report_len);
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return ret;
}
