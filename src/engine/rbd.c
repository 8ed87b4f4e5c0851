// SPDX-License-Identifier: MIT
/*
 * rbd: an engine over a Ceph RBD image, with librbd's asynchronous API.
 *
 * Every context on a device shares the device's one image handle
 * (dev_rbd_image_get, src/dev/rbd.c): one client of the image, so contexts
 * never take its exclusive lock from each other. An image handle has one
 * completion list (rbd_set_image_notification + rbd_poll_io_events), which a
 * shared handle cannot split among contexts, so each context has its own
 * eventfd and list instead: queue() starts rbd_aio_read/write/discard/flush
 * with a completion that carries the request's slot and a callback, and
 * returns. librbd's thread runs the callback when the I/O is done, which
 * pushes the slot on its context's list (lock-free) and, if the context
 * sleeps in reap, bumps its eventfd; that is what rbd_set_image_notification
 * did (for every completion), per context. reap() takes the list and, when it
 * must wait, polls the eventfd. Nothing waits on
 * a condition variable per request; each callback runs once and pushes its
 * slot once, so each request completes exactly once.
 *
 * FUA: librbd acknowledges a write when the OSDs have it on stable storage,
 * unless its client cache is in writeback mode; a FUA write is therefore
 * followed by a flush once it is in (cheap without the cache), so it is
 * durable either way. fsync and fdatasync are rbd_aio_flush. A discard is
 * rbd_aio_write_zeroes: whole objects are deallocated, partial ranges zeroed,
 * so a discarded range reads as zeroes (rbd_aio_discard would leave old data
 * in partial objects).
 *
 * Failure: a request the cluster does not answer within rados_osd_op_timeout
 * (60 s unless set: src/dev/rbd.c) completes with -ETIMEDOUT; the context keeps
 * a line naming the image and the request (rawio_engine_describe).
 *
 * An image with the exclusive-lock feature has one writer at a time: a
 * read-write device holds librbd's lock for its life (src/dev/rbd.c,
 * rbd_own), and its contexts are that one writer through the shared handle.
 */
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rawio/rawio.h>

#include "dev/rbd.h"
#include "dev/rbd_lib.h"
#include "engine_impl.h"

#define RBD_POLL_MS 1000 /* a wait wakes this often (a missed wakeup costs at most this) */
#define RBD_ERR_LEN 512

struct rbdeng_priv;

struct rbdeng_slot {
	struct rbdeng_priv *owner;
	struct rawio_req *req;
	uint64_t bytes;		  /* read/write: bytes asked of librbd (clipped at the end) */
	bool flush_after;	  /* a FUA write: flush once it is in */
	bool flushing;		  /* ... and that flush is out */
	rbd_completion_t comp;	  /* set by the callback */
	ssize_t ret;		  /* ditto: the completion's return value */
	struct rbdeng_slot *next; /* on the free list, the done list or the ready list */
};

struct rbdeng_priv {
	struct dev_rbd *rbd;
	const struct rbd_lib *lib; /* the device's: librbd's functions */
	rbd_image_t image;	   /* the device's, shared (NULL until we hold a reference) */
	int efd;
	struct rbdeng_slot *slots;
	struct rbdeng_slot *free;
	_Atomic(struct rbdeng_slot *) done;	/* pushed by librbd's thread, newest first */
	struct rbdeng_slot *ready, *ready_tail; /* taken from done, oldest first */
	unsigned out;				/* completions librbd owes us */
	atomic_bool waiting;	 /* reap (or fini) sleeps in poll: callbacks must bump efd */
	atomic_uint in_callback; /* callbacks between their start and their last touch of us */
	char last_err[RBD_ERR_LEN];
};

static const char *rbdeng_op_name(unsigned op)
{
	static const char *const names[RAWIO_OP_NR] = { "read", "write", "fsync", "fdatasync",
							"discard" };

	return op < RAWIO_OP_NR ? names[op] : "?";
}

/* Remember which image and which request failed, and why. */
static void rbdeng_note_error(struct rawio_engine *e, const struct rawio_req *r, int err)
{
	struct rbdeng_priv *p = e->priv;
	const char *hint = err == -ETIMEDOUT ? " (no answer within rados_osd_op_timeout = " : "";
	char secs[32] = "";

	if (hint[0])
		snprintf(secs, sizeof(secs), "%u s)", e->info->rbd.osd_op_timeout_s);
	if (r->op == RAWIO_OP_READ || r->op == RAWIO_OP_WRITE || r->op == RAWIO_OP_DISCARD)
		snprintf(p->last_err, sizeof(p->last_err),
			 "%.300s: %s of %llu bytes at %llu%s: %s%s%s", p->rbd->name,
			 rbdeng_op_name(r->op), (unsigned long long)req_left(r),
			 (unsigned long long)req_pos(r), r->flags & RAWIO_REQ_FUA ? " (FUA)" : "",
			 rawio_strerror(err), hint, secs);
	else
		snprintf(p->last_err, sizeof(p->last_err), "%.300s: %s: %s%s%s", p->rbd->name,
			 rbdeng_op_name(r->op), rawio_strerror(err), hint, secs);
}

/*
 * librbd's thread, once per completion: hand the slot to its context, and wake
 * it if it sleeps. Without a sleeper the eventfd is left alone: at depth the
 * reaper finds the slot on its next look, and a write per completion was a
 * system call per I/O for nothing. The push and the look at `waiting` here,
 * and reap's store of `waiting` and its look at the list, are sequentially
 * consistent: either reap sees the slot or this sees reap waiting.
 */
static void rbdeng_callback(rbd_completion_t c, void *arg)
{
	struct rbdeng_slot *s = arg;
	struct rbdeng_priv *p = s->owner;
	const struct rbd_lib *lib = p->lib;
	struct rbdeng_slot *head = atomic_load_explicit(&p->done, memory_order_relaxed);
	uint64_t one = 1;

	/* Counted before the push: fini waits for it to drop after the last slot is back. */
	atomic_fetch_add_explicit(&p->in_callback, 1, memory_order_acquire);
	s->comp = c;
	s->ret = lib->rbd_aio_get_return_value(c);
	do
		s->next = head;
	while (!atomic_compare_exchange_weak_explicit(&p->done, &head, s, memory_order_seq_cst,
						      memory_order_relaxed));
	/* Only EAGAIN (the counter full) can fail, and then the reader is awake anyway. */
	if (atomic_load_explicit(&p->waiting, memory_order_seq_cst) &&
	    write(p->efd, &one, sizeof(one)) < 0) {
	}
	atomic_fetch_sub_explicit(&p->in_callback, 1, memory_order_release);
}

/* Move what the callbacks pushed to the ready list, oldest first. Returns how many. */
static unsigned rbdeng_take(struct rbdeng_priv *p)
{
	struct rbdeng_slot *s = atomic_exchange_explicit(&p->done, NULL, memory_order_acquire);
	struct rbdeng_slot *fifo = NULL, *last = s;
	unsigned n = 0;

	for (; s; n++) {
		struct rbdeng_slot *next = s->next;

		s->next = fifo;
		fifo = s;
		s = next;
	}
	if (!fifo)
		return 0;
	last->next = NULL;
	if (p->ready_tail)
		p->ready_tail->next = fifo;
	else
		p->ready = fifo;
	p->ready_tail = last;
	return n;
}

static void rbdeng_fini(struct rawio_engine *e)
{
	struct rbdeng_priv *p = e->priv;
	const struct rbd_lib *lib = p->lib;

	/*
	 * The core reaps everything before fini unless a reap failed: then let
	 * librbd finish what it holds (it fails it by the timeout at worst) so
	 * that no callback outlives the slots it points at.
	 */
	atomic_store_explicit(&p->waiting, true, memory_order_seq_cst);
	while (p->image && p->out) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		uint64_t v;

		rbdeng_take(p);
		while (p->ready) {
			struct rbdeng_slot *s = p->ready;

			p->ready = s->next;
			lib->rbd_aio_release(s->comp);
			p->out--;
		}
		p->ready_tail = NULL;
		if (p->out && poll(&pfd, 1, RBD_POLL_MS) > 0 && read(p->efd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			break;
	}
	/* A callback that pushed our last slot may still be bumping our eventfd. */
	while (atomic_load_explicit(&p->in_callback, memory_order_acquire))
		sched_yield();
	if (p->image)
		dev_rbd_image_put(p->rbd);
	if (p->efd >= 0)
		close(p->efd);
	free(p->slots);
}

static int rbdeng_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct rbdeng_priv *p = e->priv;
	int ret;

	(void)opts;
	p->efd = -1;
	p->rbd = dev_rbd(e->dev);
	if (!p->rbd)
		return -EINVAL;
	p->lib = p->rbd->lib;
	p->slots = calloc(e->qd, sizeof(*p->slots));
	if (!p->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < e->qd; i++) {
		p->slots[i].owner = p;
		p->slots[i].next = p->free;
		p->free = &p->slots[i];
	}
	atomic_init(&p->done, NULL);
	atomic_init(&p->waiting, false);
	atomic_init(&p->in_callback, 0);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = dev_rbd_image_get(p->rbd, &p->image);
	if (ret) {
		p->image = NULL;
		snprintf(p->last_err, sizeof(p->last_err), "%.300s: open: %s", p->rbd->name,
			 rawio_strerror(ret));
		goto fail;
	}
	return 0;
fail:
	rbdeng_fini(e);
	return ret;
}

static int rbdeng_done_now(struct rawio_req *r, int64_t result)
{
	r->result = result;
	return RAWIO_Q_DONE;
}

/* Start OP for slot S. 0, or -errno if librbd refused it (no completion will come). */
static int rbdeng_start(struct rawio_engine *e, struct rbdeng_slot *s, unsigned op)
{
	struct rbdeng_priv *p = e->priv;
	const struct rbd_lib *lib = p->lib;
	struct rawio_req *r = s->req;
	rbd_completion_t c;
	int ret;

	ret = lib->rbd_aio_create_completion(s, rbdeng_callback, &c);
	if (ret)
		return ret;
	switch (op) {
	case RAWIO_OP_READ:
		ret = lib->rbd_aio_read(p->image, req_pos(r), s->bytes, req_data(r), c);
		break;
	case RAWIO_OP_WRITE:
		ret = lib->rbd_aio_write(p->image, req_pos(r), s->bytes, req_data(r), c);
		break;
	case RAWIO_OP_DISCARD:
		/* rbd_aio_discard skips partial objects (rbd_skip_partial_discard):
		 * write_zeroes deallocates what it can and zeroes the rest. */
		ret = lib->rbd_aio_write_zeroes(p->image, r->off, r->len, c, 0, 0);
		break;
	default:
		ret = lib->rbd_aio_flush(p->image, c);
		break;
	}
	if (ret < 0) {
		lib->rbd_aio_release(c);
		return ret;
	}
	p->out++;
	return 0;
}

static void rbdeng_slot_free(struct rbdeng_priv *p, struct rbdeng_slot *s)
{
	s->req = NULL;
	s->next = p->free;
	p->free = s;
}

static int rbdeng_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct rbdeng_priv *p = e->priv;
	uint64_t size = e->info->size, pos = req_pos(r), len = req_left(r);
	struct rbdeng_slot *s;
	int ret;

	switch (r->op) {
	case RAWIO_OP_READ:
		if (pos >= size)
			return rbdeng_done_now(r, 0);
		break;
	case RAWIO_OP_WRITE:
		if (pos >= size)
			return rbdeng_done_now(r, -ENOSPC);
		break;
	case RAWIO_OP_DISCARD:
		if (r->off > size || r->len > size - r->off)
			return rbdeng_done_now(r, -EINVAL);
		if (!r->len)
			return rbdeng_done_now(r, 0);
		break;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		break;
	default:
		return rbdeng_done_now(r, -EINVAL);
	}
	if (!p->free)
		return RAWIO_Q_BUSY;
	s = p->free;
	p->free = s->next;
	s->req = r;
	s->bytes = len > size - pos ? size - pos : len;
	s->flush_after = r->op == RAWIO_OP_WRITE && (r->flags & RAWIO_REQ_FUA);
	s->flushing = false;
	r->eng_index = (uint32_t)(s - p->slots);
	ret = rbdeng_start(e, s, r->op);
	if (ret) {
		rbdeng_note_error(e, r, ret);
		rbdeng_slot_free(p, s);
		return rbdeng_done_now(r, ret);
	}
	return RAWIO_Q_QUEUED;
}

/*
 * One completed slot. Returns the finished request, or NULL when it only
 * finished a step (a FUA write whose flush is now out).
 */
static struct rawio_req *rbdeng_complete(struct rawio_engine *e, struct rbdeng_slot *s)
{
	struct rbdeng_priv *p = e->priv;
	const struct rbd_lib *lib = p->lib;
	struct rawio_req *r = s->req;
	ssize_t ret = s->ret;

	lib->rbd_aio_release(s->comp);
	p->out--;
	if (ret >= 0 && s->flush_after && !s->flushing) {
		int err;

		s->flushing = true;
		err = rbdeng_start(e, s, RAWIO_OP_FSYNC);
		if (!err)
			return NULL;
		ret = err;
	}
	if (ret < 0) {
		r->result = ret;
		rbdeng_note_error(e, r, (int)ret);
	} else if (r->op == RAWIO_OP_READ || r->op == RAWIO_OP_WRITE) {
		/* librbd moves all or fails; a read's count is what it returned. */
		r->result = r->op == RAWIO_OP_READ && (uint64_t)ret < s->bytes ? ret
									       : (int64_t)s->bytes;
	} else {
		r->result = 0;
	}
	rbdeng_slot_free(p, s);
	return r;
}

/* Take what librbd has finished, up to MAX (the rest stays on the ready list). */
static unsigned rbdeng_collect(struct rawio_engine *e, struct rawio_req **out, unsigned max)
{
	struct rbdeng_priv *p = e->priv;
	unsigned got = 0;

	if (!p->ready)
		rbdeng_take(p);
	while (got < max && p->ready) {
		struct rbdeng_slot *s = p->ready;
		struct rawio_req *r;

		p->ready = s->next;
		if (!p->ready)
			p->ready_tail = NULL;
		r = rbdeng_complete(e, s);
		if (r)
			out[got++] = r;
		if (!p->ready)
			rbdeng_take(p);
	}
	return got;
}

static int rbdeng_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct rbdeng_priv *p = e->priv;
	unsigned got = 0;

	/*
	 * Look at the list first: it needs no system call, and at depth it
	 * usually holds something. Only a wait touches the eventfd: say we
	 * wait, look once more (a callback that pushed before it saw us
	 * waiting did not bump the eventfd), poll, clear it. A count left from
	 * slots already taken costs one extra pass, never a lost wakeup.
	 */
	for (;;) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		uint64_t v;
		int n;

		got += rbdeng_collect(e, out + got, max - got);
		if (got >= max || got >= min)
			break;
		if (!p->out)
			return got ? (int)got : -EIO; /* nothing can complete: never wait forever */
		atomic_store_explicit(&p->waiting, true, memory_order_seq_cst);
		if (atomic_load_explicit(&p->done, memory_order_seq_cst)) {
			atomic_store_explicit(&p->waiting, false, memory_order_relaxed);
			continue;
		}
		n = poll(&pfd, 1, RBD_POLL_MS);
		atomic_store_explicit(&p->waiting, false, memory_order_relaxed);
		if (n < 0 && errno != EINTR)
			return got ? (int)got : -errno;
		e->st.reap_calls++;
		if (n > 0 && read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return got ? (int)got : -errno;
	}
	return (int)got;
}

static void rbdeng_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct rbdeng_priv *p = e->priv;
	const struct rawio_rbd_info *ri = &e->info->rbd;

	snprintf(buf, len, "rbd qd=%u %s timeout=%us cache=%s%s%s", e->qd, p->rbd->name,
		 ri->osd_op_timeout_s,
		 ri->cache_writeback ? "writeback"
		 : ri->cache	     ? "on"
				     : "off",
		 p->last_err[0] ? " last error: " : "", p->last_err);
}

const struct rawio_engine_ops rawio_engine_rbd = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "rbd",
	.caps = RAWIO_CAP_ASYNC | RAWIO_CAP_FUA,
	.priv_size = sizeof(struct rbdeng_priv),
	.init = rbdeng_init,
	.queue = rbdeng_queue,
	.reap = rbdeng_reap,
	.fini = rbdeng_fini,
	.describe = rbdeng_describe,
};
