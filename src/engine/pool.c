// SPDX-License-Identifier: MIT
/*
 * Pools for foreground I/O from many threads: engine contexts on one device
 * (borrow, return, or one synchronous I/O through a borrowed one), and I/O
 * buffers of one size. The store and the cache keep their contexts and
 * buffers here, so a put or a read costs no ring setup and no page faults.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

#include "engine_impl.h"

struct rawio_engine_pool {
	char name[16];
	struct rawio_dev *dev;
	struct rawio_engine_opts opts;
	pthread_mutex_t lock;
	unsigned nr_idle, max_idle;
	struct rawio_engine *idle[]; /* max_idle */
};

#define POOL_HUGE (2u << 20) /* x86-64 transparent huge page */

struct rawio_buf_pool {
	size_t len, align;
	pthread_mutex_t lock;
	unsigned nr_idle, max_idle;
	void *idle[]; /* max_idle */
};

int rawio_engine_pool_new(struct rawio_engine_pool **out, const char *name, struct rawio_dev *dev,
			  const struct rawio_engine_opts *opts, unsigned max_idle)
{
	struct rawio_engine_pool *p;

	*out = NULL;
	if (!name || !dev || !max_idle || strlen(name) >= sizeof(p->name) ||
	    (opts && opts->size < offsetof(struct rawio_engine_opts, uring_flags)))
		return -EINVAL;
	p = calloc(1, sizeof(*p) + max_idle * sizeof(p->idle[0]));
	if (!p)
		return -ENOMEM;
	strcpy(p->name, name);
	p->dev = dev;
	if (opts)
		memcpy(&p->opts, opts, opts->size < sizeof(p->opts) ? opts->size : sizeof(p->opts));
	p->opts.size = sizeof(p->opts);
	p->max_idle = max_idle;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void rawio_engine_pool_free(struct rawio_engine_pool *p)
{
	if (!p)
		return;
	while (p->nr_idle)
		rawio_engine_close(p->idle[--p->nr_idle]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int rawio_engine_pool_get(struct rawio_engine_pool *p, struct rawio_engine **out)
{
	pthread_mutex_lock(&p->lock);
	if (p->nr_idle) {
		*out = p->idle[--p->nr_idle];
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rawio_engine_open(out, p->name, p->dev, &p->opts);
}

void rawio_engine_pool_put(struct rawio_engine_pool *p, struct rawio_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->nr_idle < p->max_idle) {
		p->idle[p->nr_idle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	rawio_engine_close(e);
}

int64_t rawio_engine_io(struct rawio_engine *e, int op, unsigned flags, void *buf, uint64_t len,
			uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};
	int64_t res = engine_run1_unstamped(e, &r);

	if (res >= 0 && (op == RAWIO_OP_READ || op == RAWIO_OP_WRITE) && (uint64_t)res != len)
		return -EIO;
	return res;
}

int64_t rawio_engine_pool_io(struct rawio_engine_pool *p, int op, unsigned flags, void *buf,
			     uint64_t len, uint64_t off)
{
	struct rawio_engine *e;
	int64_t res;
	int ret;

	ret = rawio_engine_pool_get(p, &e);
	if (ret)
		return ret;
	res = rawio_engine_io(e, op, flags, buf, len, off);
	rawio_engine_pool_put(p, e);
	return res;
}

int rawio_buf_pool_new(struct rawio_buf_pool **out, size_t len, size_t align, unsigned max_idle)
{
	struct rawio_buf_pool *p;

	*out = NULL;
	if (!len || !max_idle || align < sizeof(void *) || (align & (align - 1)))
		return -EINVAL;
	p = calloc(1, sizeof(*p) + max_idle * sizeof(p->idle[0]));
	if (!p)
		return -ENOMEM;
	/*
	 * Buffers of a huge page or more go on transparent huge pages where the
	 * kernel gives them (as rawio bench's): an O_DIRECT write from a 4 MiB
	 * buffer then pins 2 pages instead of 1,024 and is 2 DMA segments.
	 */
	if (len >= POOL_HUGE && align < POOL_HUGE)
		align = POOL_HUGE;
	p->len = (len + align - 1) / align * align;
	p->align = align;
	p->max_idle = max_idle;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void rawio_buf_pool_free(struct rawio_buf_pool *p)
{
	if (!p)
		return;
	while (p->nr_idle)
		free(p->idle[--p->nr_idle]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void *rawio_buf_pool_get(struct rawio_buf_pool *p)
{
	void *buf = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->nr_idle)
		buf = p->idle[--p->nr_idle];
	pthread_mutex_unlock(&p->lock);
	/* Not zeroed: a fresh buffer's pages are faulted in by the I/O, not by a memset. */
	if (!buf && posix_memalign(&buf, p->align, p->len))
		return NULL;
	/* Advice before the first touch, or the pages fault in small; without THP: plain. */
	if (p->align >= POOL_HUGE)
		(void)madvise(buf, p->len, MADV_HUGEPAGE);
	return buf;
}

void rawio_buf_pool_put(struct rawio_buf_pool *p, void *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->nr_idle < p->max_idle) {
		p->idle[p->nr_idle++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	free(buf);
}
