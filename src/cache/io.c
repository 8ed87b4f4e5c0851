// SPDX-License-Identifier: MIT
/*
 * The cache's engines: the options its contexts open with, its foreground
 * pools (one per device, and the read path's bounce buffers), and a batch run
 * to its end. One I/O at a time goes through rawio_engine_io (on a context in
 * hand) or rawio_engine_pool_io; every cache file does its I/O through these
 * (never pread).
 */
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"

static void cache_engine_opts(const struct rawio_cache *c, bool backing, unsigned qd,
			      struct rawio_engine_opts *o)
{
	const struct rawio_engine_opts *user = backing ? c->beo : c->ceo;

	*o = (struct rawio_engine_opts){ .size = sizeof(*o) };
	if (user)
		*o = *user;
	o->size = sizeof(*o);
	o->queue_depth = qd;
}

int cache_engine_open(struct rawio_cache *c, bool backing, unsigned qd, struct rawio_engine **out)
{
	struct rawio_engine_opts o;

	cache_engine_opts(c, backing, qd, &o);
	return rawio_engine_open(out, backing ? c->backing_engine : c->cache_engine,
				 backing ? c->bdev : c->cdev, &o);
}

int cache_pools_open(struct rawio_cache *c)
{
	struct rawio_engine_opts o;
	int ret;

	cache_engine_opts(c, false, CACHE_POOL_QD, &o);
	ret = rawio_engine_pool_new(&c->cpool, c->cache_engine, c->cdev, &o, CACHE_POOL_MAX);
	if (ret)
		return ret;
	cache_engine_opts(c, true, CACHE_POOL_QD, &o);
	ret = rawio_engine_pool_new(&c->bpool, c->backing_engine, c->bdev, &o, CACHE_POOL_MAX);
	if (ret)
		return ret;
	return rawio_buf_pool_new(&c->bounce, 2 * CACHE_READ_CHUNK * (size_t)CACHE_BLOCK,
				  CACHE_BLOCK, CACHE_POOL_MAX);
}

void cache_pools_close(struct rawio_cache *c)
{
	rawio_buf_pool_free(c->bounce);
	rawio_engine_pool_free(c->bpool);
	rawio_engine_pool_free(c->cpool);
}

int cache_run(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n, bool write)
{
	ssize_t failed;

	if (!n)
		return 0;
	if (n == 1) {
		/* rawio_engine_io's -EIO for a short one is what the loop below says too. */
		ios[0].result = rawio_engine_io(e, write ? RAWIO_OP_WRITE : RAWIO_OP_READ, 0,
						ios[0].buf, ios[0].len, ios[0].off);
	} else {
		failed = write ? rawio_batch_write(e, ios, n, NULL, NULL)
			       : rawio_batch_read(e, ios, n, NULL, NULL);
		if (failed < 0)
			return (int)failed;
	}
	for (size_t i = 0; i < n; i++) {
		if (ios[i].result < 0)
			return (int)ios[i].result;
		if ((uint64_t)ios[i].result != ios[i].len)
			return -EIO; /* the cache never reads or writes past a device's end */
	}
	return 0;
}
