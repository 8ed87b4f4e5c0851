// SPDX-License-Identifier: MIT
/*
 * The cache's I/O: engine contexts per device (a pool for foreground I/O),
 * one synchronous I/O, a batch run to its end, and the read path's bounce
 * buffers. Every other cache file does its I/O through here (never pread).
 */
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"

int cache_engine_open(struct rawio_cache *c, bool backing, unsigned qd, struct rawio_engine **out)
{
	const struct rawio_engine_opts *user = backing ? c->beo : c->ceo;
	struct rawio_engine_opts o = { .size = sizeof(o) };

	if (user)
		o = *user;
	o.size = sizeof(o);
	o.queue_depth = qd;
	return rawio_engine_open(out, backing ? c->backing_engine : c->cache_engine,
				 backing ? c->bdev : c->cdev, &o);
}

int cache_io_get(struct rawio_cache *c, bool backing, struct rawio_engine **out)
{
	struct rawio_engine **pool = backing ? c->bpool : c->cpool;
	unsigned *nr = backing ? &c->nr_bpool : &c->nr_cpool;

	pthread_mutex_lock(&c->pool_lock);
	if (*nr) {
		*out = pool[--*nr];
		pthread_mutex_unlock(&c->pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&c->pool_lock);
	return cache_engine_open(c, backing, CACHE_POOL_QD, out);
}

void cache_io_put(struct rawio_cache *c, bool backing, struct rawio_engine *e)
{
	struct rawio_engine **pool = backing ? c->bpool : c->cpool;
	unsigned *nr = backing ? &c->nr_bpool : &c->nr_cpool;

	pthread_mutex_lock(&c->pool_lock);
	if (*nr < CACHE_POOL_MAX) {
		pool[(*nr)++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	rawio_engine_close(e);
}

int cache_run(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n, bool write)
{
	ssize_t failed;

	if (!n)
		return 0;
	if (n == 1) {
		struct rawio_req r = { .op = write ? RAWIO_OP_WRITE : RAWIO_OP_READ,
				       .buf = ios[0].buf,
				       .len = ios[0].len,
				       .off = ios[0].off };

		ios[0].result = rawio_engine_run1(e, &r);
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

int64_t cache_io(struct rawio_cache *c, bool backing, int op, unsigned flags, void *buf,
		 uint64_t len, uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};
	struct rawio_engine *e;
	int64_t res;
	int ret;

	ret = cache_io_get(c, backing, &e);
	if (ret)
		return ret;
	res = rawio_engine_run1(e, &r);
	cache_io_put(c, backing, e);
	if (res >= 0 && (op == RAWIO_OP_READ || op == RAWIO_OP_WRITE) && (uint64_t)res != len)
		return -EIO;
	return res;
}

void *cache_bounce_get(struct rawio_cache *c)
{
	void *b = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->nr_bounce)
		b = c->bounce[--c->nr_bounce];
	pthread_mutex_unlock(&c->pool_lock);
	return b ? b : rawio_buf_alloc(2 * CACHE_READ_CHUNK * (size_t)CACHE_BLOCK, CACHE_BLOCK);
}

void cache_bounce_put(struct rawio_cache *c, void *b)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->nr_bounce < CACHE_POOL_MAX) {
		c->bounce[c->nr_bounce++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	rawio_buf_free(b);
}
