// SPDX-License-Identifier: MIT
/*
 * The store's I/O: its pool of engine contexts and slot-sized buffers, one
 * synchronous I/O, and zeroing slot headers in a batch. Everything else in the
 * store does its I/O through here (never pread).
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

int store_engine_open(struct rawio_store *s, const char *engine, unsigned qd,
		      struct rawio_engine **out)
{
	struct rawio_engine_opts o = {
		.size = sizeof(o),
		.queue_depth = qd,
		.threads = s->opts.threads ? s->opts.threads : 8,
	};

	if (!strcmp(engine, "fault")) {
		o.lower = s->lower_engine[0] ? s->lower_engine : "sync";
		o.faults = s->opts.faults;
		o.nr_faults = s->opts.nr_faults;
		o.fault_model = s->opts.fault_model;
	}
	return rawio_engine_open(out, engine, s->dev, &o);
}

int store_io_get(struct rawio_store *s, struct rawio_engine **out)
{
	pthread_mutex_lock(&s->pool_lock);
	if (s->nr_pool) {
		*out = s->pool[--s->nr_pool];
		pthread_mutex_unlock(&s->pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&s->pool_lock);
	return store_engine_open(s, s->engine, 4, out);
}

void store_io_put(struct rawio_store *s, struct rawio_engine *e)
{
	pthread_mutex_lock(&s->pool_lock);
	if (s->nr_pool < STORE_POOL_MAX) {
		s->pool[s->nr_pool++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	rawio_engine_close(e);
}

void *store_buf_get(struct rawio_store *s)
{
	void *buf = NULL;

	pthread_mutex_lock(&s->pool_lock);
	if (s->nr_bufs)
		buf = s->bufs[--s->nr_bufs];
	pthread_mutex_unlock(&s->pool_lock);
	if (!buf && posix_memalign(&buf, STORE_BLOCK, s->g.slot_size))
		buf = NULL;
	return buf;
}

void store_buf_put(struct rawio_store *s, void *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&s->pool_lock);
	if (s->nr_bufs < s->max_bufs) {
		s->bufs[s->nr_bufs++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	free(buf);
}

int64_t store_io(struct rawio_store *s, int op, unsigned flags, void *buf, uint64_t len,
		 uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};
	struct rawio_engine *e;
	int64_t res;
	int ret;

	ret = store_io_get(s, &e);
	if (ret)
		return ret;
	res = rawio_engine_run1(e, &r);
	store_io_put(s, e);
	if (res >= 0 && (op == RAWIO_OP_READ || op == RAWIO_OP_WRITE) && (uint64_t)res != len)
		return -EIO; /* the store never reads or writes past its end */
	return res;
}

int store_zero_headers(struct rawio_store *s, const uint32_t *slots, size_t n)
{
	struct rawio_batch_io *ios;
	struct rawio_engine *e;
	void *zero;
	ssize_t failed;
	int ret;

	if (!n)
		return 0;
	ios = calloc(n, sizeof(*ios));
	zero = rawio_buf_alloc(STORE_BLOCK, STORE_BLOCK);
	ret = ios && zero ? store_io_get(s, &e) : -ENOMEM;
	if (ret)
		goto out;
	for (size_t i = 0; i < n; i++)
		ios[i] = (struct rawio_batch_io){ .off = store_slot_off(&s->g, slots[i]),
						  .len = STORE_BLOCK,
						  .buf = zero };
	failed = rawio_batch_write(e, ios, n, NULL, NULL);
	store_io_put(s, e);
	ret = 0;
	if (failed < 0)
		ret = (int)failed;
	for (size_t i = 0; failed > 0 && i < n; i++)
		if (ios[i].result < 0) {
			ret = (int)ios[i].result;
			break;
		}
out:
	rawio_buf_free(zero);
	free(ios);
	return ret;
}
