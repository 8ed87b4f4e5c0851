// SPDX-License-Identifier: MIT
/*
 * threads: a POSIX thread pool doing blocking pread/pwrite, the way most
 * systems fake async I/O. queue() parks requests on a local list; commit()
 * hands the batch to the workers under one lock; reap() waits on the
 * completion list. With phases, D is when a worker takes a request: the wait
 * in the pool's queue shows as G2D, the pread itself as D2C.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine_impl.h"

#define THREADS_MAX 256

struct threads_priv {
	pthread_mutex_t lock;
	pthread_cond_t work_cond; /* workers wait for submissions */
	pthread_cond_t done_cond; /* the reaper waits for completions */
	struct req_fifo sq;	  /* committed, not yet picked up */
	struct req_fifo cq;	  /* completed, not yet reaped */
	struct req_fifo pending;  /* queued, not yet committed (owner thread only) */
	unsigned done_wanted;	  /* reaper sleeps until cq.nr reaches this */
	bool stop;
	unsigned nr_threads;
	pthread_t tids[THREADS_MAX];
	struct rawio_engine *e;
};

static void *threads_worker(void *arg)
{
	struct threads_priv *p = arg;
	struct rawio_engine *e = p->e;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct rawio_req *r;

		while (!p->sq.head && !p->stop)
			pthread_cond_wait(&p->work_cond, &p->lock);
		if (!p->sq.head)
			break; /* stop, and nothing left */
		r = fifo_pop(&p->sq);
		pthread_mutex_unlock(&p->lock);

		/* Phases: D is a worker taking it; the wait in sq before that is G2D. */
		r->dispatch_ns = rawio_now_ns();
		r->result = engine_do_sync(e->fd, e->info, r);
		r->complete_ns = rawio_now_ns();

		pthread_mutex_lock(&p->lock);
		fifo_push(&p->cq, r);
		if (p->cq.nr >= p->done_wanted)
			pthread_cond_signal(&p->done_cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void threads_stop(struct threads_priv *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nr_threads; i++)
		pthread_join(p->tids[i], NULL);
	p->nr_threads = 0;
}

static int threads_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct threads_priv *p = e->priv;
	unsigned n = opts->threads ? opts->threads : (e->qd < 64 ? e->qd : 64);
	int ret;

	if (n > THREADS_MAX)
		return -EINVAL;
	p->e = e;
	p->done_wanted = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work_cond, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	for (unsigned i = 0; i < n; i++) {
		ret = -pthread_create(&p->tids[i], NULL, threads_worker, p);
		if (ret)
			goto err_stop;
		p->nr_threads++;
	}
	return 0;

err_stop:
	threads_stop(p);
	pthread_cond_destroy(&p->done_cond);
	pthread_cond_destroy(&p->work_cond);
	pthread_mutex_destroy(&p->lock);
	return ret;
}

static int threads_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct threads_priv *p = e->priv;

	fifo_push(&p->pending, r);
	return RAWIO_Q_QUEUED;
}

static int threads_commit(struct rawio_engine *e)
{
	struct threads_priv *p = e->priv;
	unsigned n = p->pending.nr;

	if (!n)
		return 0;
	pthread_mutex_lock(&p->lock);
	fifo_splice(&p->sq, &p->pending);
	if (n == 1)
		pthread_cond_signal(&p->work_cond);
	else
		pthread_cond_broadcast(&p->work_cond);
	pthread_mutex_unlock(&p->lock);
	e->st.submit_calls++;
	return 0;
}

static int threads_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct threads_priv *p = e->priv;
	unsigned n = 0;

	threads_commit(e);
	pthread_mutex_lock(&p->lock);
	if (p->cq.nr < min) {
		p->done_wanted = min;
		while (p->cq.nr < min)
			pthread_cond_wait(&p->done_cond, &p->lock);
		p->done_wanted = 1;
		e->st.reap_calls++;
	}
	while (n < max && p->cq.head)
		out[n++] = fifo_pop(&p->cq);
	pthread_mutex_unlock(&p->lock);
	return (int)n;
}

static void threads_fini(struct rawio_engine *e)
{
	struct threads_priv *p = e->priv;

	threads_stop(p);
	pthread_cond_destroy(&p->done_cond);
	pthread_cond_destroy(&p->work_cond);
	pthread_mutex_destroy(&p->lock);
}

static void threads_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct threads_priv *p = e->priv;

	snprintf(buf, len, "threads qd=%u workers=%u", e->qd, p->nr_threads);
}

const struct rawio_engine_ops rawio_engine_threads = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "threads",
	.caps = RAWIO_CAP_FD | RAWIO_CAP_ASYNC | RAWIO_CAP_FUA,
	.priv_size = sizeof(struct threads_priv),
	.init = threads_init,
	.queue = threads_queue,
	.commit = threads_commit,
	.reap = threads_reap,
	.fini = threads_fini,
	.describe = threads_describe,
	.stamps_dispatch = true,
};
