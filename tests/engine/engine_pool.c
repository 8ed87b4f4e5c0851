// SPDX-License-Identifier: MIT
/*
 * Engine and buffer pools (rawio_engine_pool, rawio_buf_pool): bad arguments
 * fail, returned contexts and buffers are reused up to max_idle, one I/O
 * through the pool reads back what it wrote, a short read is -EIO, an unknown
 * engine fails at the first borrow, and many threads share one pool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

#include "harness.h"

#define NR_THREADS 4
#define NR_IOS	   200

struct worker {
	struct rawio_engine_pool *p;
	unsigned idx;
	int ret;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *buf = rawio_buf_alloc(4096, 4096);
	uint64_t off = (uint64_t)w->idx * 4096;

	w->ret = buf ? 0 : -ENOMEM;
	for (unsigned i = 0; i < NR_IOS && !w->ret; i++) {
		int64_t res;

		t_fill(buf, 4096, i, off);
		res = rawio_engine_pool_io(w->p, RAWIO_OP_WRITE, 0, buf, 4096, off);
		if (res == 4096)
			res = rawio_engine_pool_io(w->p, RAWIO_OP_READ, 0, buf, 4096, off);
		if (res != 4096)
			w->ret = res < 0 ? (int)res : -EIO;
		else if (t_verify(buf, 4096, i, off))
			w->ret = -EBADMSG;
	}
	rawio_buf_free(buf);
	return NULL;
}

static int test_args(struct rawio_dev *dev)
{
	struct rawio_engine_pool *p = (void *)1;
	struct rawio_buf_pool *b = (void *)1;
	struct rawio_engine_opts small = { .size = 4 };

	CHECK(rawio_engine_pool_new(&p, NULL, dev, NULL, 4) == -EINVAL && !p, "NULL name");
	CHECK(rawio_engine_pool_new(&p, "mem", NULL, NULL, 4) == -EINVAL, "NULL dev");
	CHECK(rawio_engine_pool_new(&p, "mem", dev, NULL, 0) == -EINVAL, "max_idle 0");
	CHECK(rawio_engine_pool_new(&p, "a-name-of-sixteen", dev, NULL, 4) == -EINVAL, "long name");
	CHECK(rawio_engine_pool_new(&p, "mem", dev, &small, 4) == -EINVAL, "opts too small");
	CHECK(rawio_buf_pool_new(&b, 4096, 3, 4) == -EINVAL && !b, "align 3");
	CHECK(rawio_buf_pool_new(&b, 0, 4096, 4) == -EINVAL, "len 0");
	CHECK(rawio_buf_pool_new(&b, 4096, 4096, 0) == -EINVAL, "max_idle 0");
	rawio_engine_pool_free(NULL);
	rawio_buf_pool_free(NULL);
	return T_PASS;
}

static int test_reuse(struct rawio_dev *dev)
{
	struct rawio_engine_pool *p;
	struct rawio_engine *a, *b, *c;
	struct rawio_buf_pool *bp;
	void *x, *y;

	CHECK_OK(rawio_engine_pool_new(&p, "mem", dev, NULL, 1));
	CHECK_OK(rawio_engine_pool_get(p, &a));
	CHECK_OK(rawio_engine_pool_get(p, &b));
	CHECK(a != b, "two borrowers got one context");
	CHECK(!strcmp(rawio_engine_name(a), "mem"), "engine %s", rawio_engine_name(a));
	rawio_engine_pool_put(p, a);
	rawio_engine_pool_put(p, b); /* one idle kept: b is closed */
	rawio_engine_pool_put(p, NULL);
	CHECK_OK(rawio_engine_pool_get(p, &c));
	CHECK(c == a, "the kept context was not reused");
	rawio_engine_pool_put(p, c);
	rawio_engine_pool_free(p);

	CHECK_OK(rawio_buf_pool_new(&bp, 5000, 4096, 1));
	x = rawio_buf_pool_get(bp);
	y = rawio_buf_pool_get(bp);
	CHECK(x && y && x != y, "buffers %p %p", x, y);
	CHECK((uintptr_t)x % 4096 == 0 && (uintptr_t)y % 4096 == 0, "not aligned");
	memset(x, 1, 8192); /* rounded up to the alignment: ASan checks the length */
	rawio_buf_pool_put(bp, x);
	rawio_buf_pool_put(bp, y); /* freed */
	CHECK(rawio_buf_pool_get(bp) == x, "the kept buffer was not reused");
	rawio_buf_pool_put(bp, x);
	rawio_buf_pool_free(bp);
	return T_PASS;
}

static int test_unknown_engine(struct rawio_dev *dev)
{
	struct rawio_engine_pool *p;
	struct rawio_engine *e;

	CHECK_OK(rawio_engine_pool_new(&p, "no-such", dev, NULL, 4));
	CHECK(rawio_engine_pool_get(p, &e) == -ENOENT, "borrow from an unknown engine");
	CHECK(rawio_engine_pool_io(p, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0) == -ENOENT, "io");
	rawio_engine_pool_free(p);
	return T_PASS;
}

static int test_threads(struct rawio_dev *dev)
{
	struct rawio_engine_pool *p;
	struct worker w[NR_THREADS];
	pthread_t t[NR_THREADS];

	CHECK_OK(rawio_engine_pool_new(&p, "mem", dev, NULL, 2)); /* fewer kept than threads */
	for (unsigned i = 0; i < NR_THREADS; i++) {
		w[i] = (struct worker){ .p = p, .idx = i };
		CHECK(!pthread_create(&t[i], NULL, worker_main, &w[i]), "pthread_create");
	}
	for (unsigned i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	rawio_engine_pool_free(p);
	for (unsigned i = 0; i < NR_THREADS; i++)
		CHECK(w[i].ret == 0, "thread %u: %s", i, rawio_strerror(w[i].ret));
	return T_PASS;
}

/* A read that comes back short (past the end of a file) is -EIO. */
static int test_short(void)
{
	struct rawio_dev_opts o = { .size = sizeof(o),
				    .flags = RAWIO_DEV_CREATE,
				    .create_size = 8192 };
	struct rawio_engine_pool *p = NULL;
	struct rawio_dev *dev = NULL;
	char name[64];
	void *buf = rawio_buf_alloc(8192, 4096);
	int64_t res;
	int ret = T_FAIL;

	t_scratch(name, sizeof(name), "pool");
	if (!buf || rawio_dev_open(&dev, name, &o) ||
	    rawio_engine_pool_new(&p, "sync", dev, NULL, 4)) {
		fprintf(stderr, "setup of %s failed\n", name);
		goto out;
	}
	res = rawio_engine_pool_io(p, RAWIO_OP_READ, 0, buf, 8192, 0);
	if (res != 8192) {
		fprintf(stderr, "whole read: %lld\n", (long long)res);
		goto out;
	}
	res = rawio_engine_pool_io(p, RAWIO_OP_READ, 0, buf, 8192, 4096);
	if (res != -EIO) {
		fprintf(stderr, "short read: %lld, want -EIO\n", (long long)res);
		goto out;
	}
	ret = T_PASS;
out:
	rawio_engine_pool_free(p);
	rawio_dev_close(dev);
	unlink(name);
	rawio_buf_free(buf);
	return ret;
}

int main(void)
{
	struct rawio_dev *dev;
	int ret;

	if (rawio_dev_open(&dev, "mem:1m", NULL)) {
		fprintf(stderr, "cannot open mem:1m\n");
		return T_FAIL;
	}
	ret = test_args(dev);
	if (!ret)
		ret = test_reuse(dev);
	if (!ret)
		ret = test_unknown_engine(dev);
	if (!ret)
		ret = test_threads(dev);
	rawio_dev_close(dev);
	if (!ret)
		ret = test_short();
	return ret;
}
