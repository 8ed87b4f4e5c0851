// SPDX-License-Identifier: MIT
/*
 * The "sched" engine: four threads, each with its own context in one of two
 * classes, write then read back their own blocks (batches of 8, one thread
 * also a 256 KiB request that is split), while the scheduler's engine is
 * driven by whichever thread waits. Every byte comes back as written and the
 * classes count exactly the requests their contexts made.
 */
#include <pthread.h>

#include "sched_test.h"

#define THREADS 4u
#define ROUNDS	200u
#define BATCH	8u
#define BIG	(256u << 10)

struct worker {
	struct st_env *t;
	struct rawio_sched_class *c;
	unsigned id;
	int err;
	char *buf, *back;
};

static int worker_run(struct worker *w)
{
	struct rawio_engine_opts eo = { .size = sizeof(eo),
					.queue_depth = BATCH,
					.sched_class = w->c };
	struct rawio_engine *e = NULL;
	struct rawio_batch_io ios[BATCH];
	int ret;

	ret = rawio_engine_open(&e, "sched", w->t->dev, &eo);
	if (ret)
		return ret;
	for (unsigned r = 0; r < ROUNDS && !ret; r++) {
		for (unsigned k = 0; k < BATCH; k++) {
			uint64_t blk = (uint64_t)w->id * ROUNDS * BATCH + r * BATCH + k;

			memset(w->buf + k * 4096, (int)(blk * 7 + 1), 4096);
			ios[k] = (struct rawio_batch_io){ .buf = w->buf + k * 4096,
							  .len = 4096,
							  .off = blk * 4096 };
		}
		if (rawio_batch_write(e, ios, BATCH, NULL, NULL) != 0)
			ret = -EIO;
		for (unsigned k = 0; k < BATCH && !ret; k++)
			ios[k].buf = w->back + k * 4096;
		if (!ret && rawio_batch_read(e, ios, BATCH, NULL, NULL) != 0)
			ret = -EIO;
		for (unsigned k = 0; k < BATCH && !ret; k++)
			if (ios[k].result != 4096 ||
			    memcmp(w->back + k * 4096, w->buf + k * 4096, 4096))
				ret = -EILSEQ;
	}
	if (!ret && w->id == 0) {
		/* One long request, split by the scheduler, joined for us. */
		uint64_t off = (uint64_t)THREADS * ROUNDS * BATCH * 4096;

		for (unsigned i = 0; i < BIG; i++)
			w->buf[i] = (char)(i * 13);
		if (rawio_engine_io(e, RAWIO_OP_WRITE, 0, w->buf, BIG, off) != BIG ||
		    rawio_engine_io(e, RAWIO_OP_READ, 0, w->back, BIG, off) != BIG)
			ret = -EIO;
		else if (memcmp(w->buf, w->back, BIG))
			ret = -EILSEQ;
	}
	rawio_engine_close(e);
	return ret;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->err = worker_run(w);
	return NULL;
}

int main(void)
{
	/* 64 KiB split length: the goal's half fits 64 KiB at this bandwidth. */
	struct rawio_io_props p = st_props(100000, 400ull << 20);
	struct rawio_sched_class *cls[2];
	struct rawio_sched_class_stat cs[2];
	struct rawio_sched_stat ss;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct st_env t;
	int ret = T_PASS;

	CHECK_OK(st_open(&t, 64 << 20, 16, 20000, &p, 0, 1, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "fg", 1000, &cls[0]));
	CHECK_OK(rawio_sched_class_new(t.s, "bg", 100, &cls[1]));
	{
		struct rawio_engine_opts eo = { .size = sizeof(eo) };
		struct rawio_engine *e;

		CHECK(rawio_engine_open(&e, "sched", t.dev, &eo) == -EINVAL,
		      "a sched context without a class");
	}
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .t = &t, .id = i, .c = cls[i % 2] };
		w[i].buf = rawio_buf_alloc(BIG, 4096);
		w[i].back = rawio_buf_alloc(BIG, 4096);
		CHECK(w[i].buf && w[i].back, "buffers");
		CHECK(!pthread_create(&th[i], NULL, worker_main, &w[i]), "thread");
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].err) {
			fprintf(stderr, "worker %u: %s\n", i, rawio_strerror(w[i].err));
			ret = T_FAIL;
		}
		rawio_buf_free(w[i].buf);
		rawio_buf_free(w[i].back);
	}
	CHECK(ret == T_PASS, "workers failed");
	rawio_sched_class_stat(cls[0], &cs[0]);
	rawio_sched_class_stat(cls[1], &cs[1]);
	rawio_sched_stat(t.s, &ss);
	/* fg: threads 0 and 2, 2 * ROUNDS * BATCH each way, plus the long write and read. */
	CHECK(cs[0].requests == 2 * 2 * ROUNDS * BATCH + 2, "fg requests %llu",
	      (unsigned long long)cs[0].requests);
	CHECK(cs[1].requests == 2 * 2 * ROUNDS * BATCH, "bg requests %llu",
	      (unsigned long long)cs[1].requests);
	CHECK(ss.splits == 2, "splits %llu", (unsigned long long)ss.splits);
	CHECK(rawio_sched_pending(t.s) == 0, "pending left");
	st_close(&t);
	return T_PASS;
}
