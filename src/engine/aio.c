// SPDX-License-Identifier: MIT
/*
 * aio: Linux AIO through libaio. queue() prepares an iocb from a fixed pool,
 * commit() hands every prepared iocb to one io_submit(), reap() reads the
 * completion ring the kernel maps at the io_context_t address without a
 * system call (as fio's userspace_reap and Seastar do), and falls back to
 * io_getevents() only to wait.
 *
 * io_submit() stops at the first iocb it cannot start: it returns how many it
 * took, or -errno when the first one failed. A failure that names that iocb
 * completes that request alone; -EAGAIN (out of kernel resources) keeps the
 * iocbs for a later commit. AIO has no discard: it is done inline.
 *
 * io_destroy() waits for RCU grace periods (the context's reference counts
 * switching to atomic mode) even with nothing in flight: 14-35 ms
 * measured here (docs/perf.md), longer than a short store recovery's whole
 * read phase. So fini() hands an idle context to a thread of its own to
 * destroy (inline when 16 are still at it). The close still waits for the
 * I/O: the core reaps everything in flight before fini(), and a context that
 * still has I/O in the kernel (a reap failed) is destroyed inline, which
 * waits for it. The context's events stop
 * counting against aio-max-nr as soon as that thread enters io_destroy; a
 * process that exits first leaves it to the kernel's exit_aio.
 */
#include <libaio.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"

#define AIO_RING_MAGIC	  0xa10a10a1
#define AIO_DESTROY_STACK (256u << 10) /* the destroying thread makes one system call */

/* The kernel's completion ring header (fs/aio.c), mapped at the io_context_t. */
struct aio_ring {
	unsigned id;
	unsigned nr;   /* number of io_events */
	unsigned head; /* written by the consumer (us) */
	unsigned tail; /* written by the kernel */
	unsigned magic;
	unsigned compat_features;
	unsigned incompat_features;
	unsigned header_length; /* size of aio_ring */
	struct io_event io_events[];
};

struct aio_priv {
	io_context_t ctx;
	bool ctx_ok;
	bool user_reap;	    /* the ring header is one we know how to read */
	struct iocb *iocbs; /* qd of them */
	struct iocb **free; /* stack of unused iocbs */
	unsigned nr_free;
	struct iocb **pend; /* prepared, not yet taken by io_submit, in queue order */
	unsigned nr_pend;
	unsigned nr_kernel;	 /* taken by io_submit, completion not yet seen */
	struct req_fifo failed;	 /* refused by io_submit: handed out by reap */
	struct io_event *events; /* qd of them, for io_getevents */
};

static int aio_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct aio_priv *p = e->priv;
	struct aio_ring *ring;
	int ret;

	if (e->fd < 0)
		return -EINVAL;
	p->iocbs = calloc(e->qd, sizeof(*p->iocbs));
	p->free = calloc(e->qd, sizeof(*p->free));
	p->pend = calloc(e->qd, sizeof(*p->pend));
	p->events = calloc(e->qd, sizeof(*p->events));
	if (!p->iocbs || !p->free || !p->pend || !p->events) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (unsigned i = 0; i < e->qd; i++)
		p->free[p->nr_free++] = &p->iocbs[e->qd - 1 - i];

	ret = io_setup((int)e->qd, &p->ctx);
	if (ret < 0)
		goto err_free;
	p->ctx_ok = true;
	ring = (struct aio_ring *)p->ctx;
	p->user_reap = ring->magic == AIO_RING_MAGIC && ring->nr > 0 &&
		       ring->header_length == sizeof(*ring);
	return 0;

err_free:
	free(p->events);
	free(p->pend);
	free(p->free);
	free(p->iocbs);
	return ret;
}

static int aio_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct aio_priv *p = e->priv;
	struct iocb *iocb;

	if (r->op == RAWIO_OP_DISCARD) {
		r->result = engine_discard(e->fd, e->info, r->off, r->len);
		e->st.submit_calls++;
		return RAWIO_Q_DONE;
	}
	if (!p->nr_free)
		return RAWIO_Q_BUSY;
	iocb = p->free[--p->nr_free];

	switch (r->op) {
	case RAWIO_OP_READ:
		io_prep_pread(iocb, e->fd, req_data(r), req_left(r), (long long)req_pos(r));
		iocb->aio_rw_flags = req_rw_flags(r);
		break;
	case RAWIO_OP_WRITE:
		io_prep_pwrite(iocb, e->fd, req_data(r), req_left(r), (long long)req_pos(r));
		iocb->aio_rw_flags = req_rw_flags(r);
		break;
	case RAWIO_OP_FSYNC:
		io_prep_fsync(iocb, e->fd);
		break;
	case RAWIO_OP_FDATASYNC:
		io_prep_fdsync(iocb, e->fd);
		break;
	default:
		p->free[p->nr_free++] = iocb;
		r->result = -EINVAL;
		return RAWIO_Q_DONE;
	}
	iocb->data = r;
	p->pend[p->nr_pend++] = iocb;
	return RAWIO_Q_QUEUED;
}

/* Drop the first N prepared iocbs from the pending array (they went somewhere). */
static void aio_pend_consume(struct aio_priv *p, unsigned n)
{
	p->nr_pend -= n;
	memmove(p->pend, p->pend + n, p->nr_pend * sizeof(*p->pend));
}

/*
 * Submit what is pending. Returns 0 when everything went in, -EAGAIN when the
 * kernel had no room for the rest (they stay pending), never a request's error.
 */
static int aio_submit(struct rawio_engine *e)
{
	struct aio_priv *p = e->priv;

	while (p->nr_pend) {
		struct iocb *first = p->pend[0];
		struct rawio_req *r;
		int ret;

		ret = io_submit(p->ctx, (long)p->nr_pend, p->pend);
		e->st.submit_calls++;
		if (ret > 0) {
			/* A short count means it stopped at an iocb it could not take:
			 * asking again names that iocb's error (or -EAGAIN). */
			p->nr_kernel += (unsigned)ret;
			aio_pend_consume(p, (unsigned)ret);
			continue;
		}
		if (ret == 0 || ret == -EAGAIN || ret == -EINTR)
			return -EAGAIN;

		/* The first iocb failed on its own: complete its request with the error. */
		r = first->data;
		aio_pend_consume(p, 1);
		p->free[p->nr_free++] = first;
		r->result = ret;
		fifo_push(&p->failed, r);
	}
	return 0;
}

static int aio_commit(struct rawio_engine *e)
{
	aio_submit(e); /* -EAGAIN: kept for the next commit or reap */
	return 0;
}

/* One kernel completion event into its request, seen at NOW; frees the iocb. */
static struct rawio_req *aio_event_req(struct aio_priv *p, const struct io_event *ev, uint64_t now)
{
	struct iocb *iocb = ev->obj;
	struct rawio_req *r = ev->data;
	long res = (long)ev->res, res2 = (long)ev->res2;

	if (res >= 0 && res2 != 0)
		res = res2 < 0 ? res2 : -EIO;
	r->result = res;
	r->complete_ns = now;
	p->free[p->nr_free++] = iocb;
	p->nr_kernel--;
	return r;
}

/* Take up to MAX completions from the mapped ring without a system call. */
static unsigned aio_ring_reap(struct aio_priv *p, struct rawio_req **out, unsigned max)
{
	struct aio_ring *ring = (struct aio_ring *)p->ctx;
	unsigned head, tail, nr = ring->nr, n = 0;
	uint64_t now;

	head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
	if (head == tail || !max)
		return 0;
	now = rawio_now_ns(); /* one clock read for the batch */
	while (head != tail && n < max) {
		out[n++] = aio_event_req(p, &ring->io_events[head], now);
		head = head + 1 == nr ? 0 : head + 1;
	}
	if (n)
		__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
	return n;
}

/* io_getevents: wait for MIN, take up to MAX. Returns the count or -errno. */
static int aio_getevents(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct aio_priv *p = e->priv;
	struct timespec zero = { 0, 0 };
	uint64_t now;
	int ret;

	if (max > e->qd)
		max = e->qd;
	do {
		ret = io_getevents(p->ctx, (long)min, (long)max, p->events, min ? NULL : &zero);
		e->st.reap_calls++;
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	now = ret > 0 ? rawio_now_ns() : 0;
	for (int i = 0; i < ret; i++)
		out[i] = aio_event_req(p, &p->events[i], now);
	return ret;
}

static int aio_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct aio_priv *p = e->priv;
	bool polled = false;
	unsigned got = 0;

	for (;;) {
		bool stuck = aio_submit(e) == -EAGAIN;
		unsigned want;
		int n;

		while (got < max && p->failed.head)
			out[got++] = fifo_pop(&p->failed);
		if (p->user_reap && got < max) {
			n = (int)aio_ring_reap(p, out + got, max - got);
			e->st.user_reaps += (unsigned)n;
			got += (unsigned)n;
		}
		if (got >= max || (got >= min && (p->user_reap || polled)))
			break;
		if (!p->nr_kernel) {
			if (got >= min || !stuck)
				break; /* nothing more can come */
			/* Nothing in the kernel and it would not take more: let it recover. */
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
			continue;
		}
		want = got < min ? min - got : 0;
		if (want > p->nr_kernel)
			want = p->nr_kernel;
		n = aio_getevents(e, out + got, want, max - got);
		if (n < 0)
			return got ? (int)got : n; /* what was taken must come back */
		got += (unsigned)n;
		polled = true;
	}
	return (int)got;
}

static void *aio_destroy_main(void *ctx)
{
	io_destroy((io_context_t)ctx);
	return NULL;
}

/*
 * The destroying threads are joinable and joined: the ones that finished at
 * the next close, the rest by the library's destructor, so no thread runs
 * this file's code after a dlclose (the nbdkit plugin links librawio) and
 * none is left unjoined.
 */
#define AIO_DESTROYERS 16
static pthread_mutex_t aio_destroyers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t aio_destroyers[AIO_DESTROYERS];
static unsigned aio_nr_destroyers;

/* Join the destroying threads that finished, or with ALL every one. Lock held. */
static void aio_destroyers_join(bool all)
{
	for (unsigned i = 0; i < aio_nr_destroyers;) {
		pthread_t t = aio_destroyers[i];

		if ((all ? pthread_join(t, NULL) : pthread_tryjoin_np(t, NULL)) == 0)
			aio_destroyers[i] = aio_destroyers[--aio_nr_destroyers];
		else
			i++;
	}
}

__attribute__((destructor)) static void aio_destroyers_fini(void)
{
	pthread_mutex_lock(&aio_destroyers_lock);
	aio_destroyers_join(true);
	pthread_mutex_unlock(&aio_destroyers_lock);
}

/* io_destroy(CTX) on a thread of its own with every signal blocked. 0 or -errno. */
static int aio_destroy_async(io_context_t ctx)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	pthread_mutex_lock(&aio_destroyers_lock);
	aio_destroyers_join(false);
	ret = aio_nr_destroyers < AIO_DESTROYERS ? pthread_attr_init(&attr) : EBUSY;
	if (ret)
		goto out;
	ret = pthread_attr_setstacksize(&attr, AIO_DESTROY_STACK);
	if (!ret) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		ret = pthread_create(&aio_destroyers[aio_nr_destroyers], &attr, aio_destroy_main,
				     (void *)ctx);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!ret)
			aio_nr_destroyers++;
	}
	pthread_attr_destroy(&attr);
out:
	pthread_mutex_unlock(&aio_destroyers_lock);
	return -ret;
}

static void aio_fini(struct rawio_engine *e)
{
	struct aio_priv *p = e->priv;

	/* Nothing of ours in the kernel: the grace periods are not the caller's to wait. */
	if (p->ctx_ok && (p->nr_kernel || aio_destroy_async(p->ctx)))
		io_destroy(p->ctx);
	free(p->events);
	free(p->pend);
	free(p->free);
	free(p->iocbs);
}

static void aio_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct aio_priv *p = e->priv;

	snprintf(buf, len, "aio qd=%u userspace_reap=%s", e->qd, p->user_reap ? "yes" : "no");
}

const struct rawio_engine_ops rawio_engine_aio = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "aio",
	.caps = RAWIO_CAP_FD | RAWIO_CAP_ASYNC | RAWIO_CAP_FUA | RAWIO_CAP_BATCH_REAP,
	.priv_size = sizeof(struct aio_priv),
	.init = aio_init,
	.queue = aio_queue,
	.commit = aio_commit,
	.reap = aio_reap,
	.fini = aio_fini,
	.describe = aio_describe,
};
