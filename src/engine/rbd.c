// SPDX-License-Identifier: MIT
/*
 * rbd: an engine over a Ceph RBD image, with librbd's asynchronous API.
 *
 * Each context opens its own handle on the image (rbd_open on the device's
 * shared cluster connection, src/dev/rbd.c) and gives it an eventfd
 * (rbd_set_image_notification). queue() starts rbd_aio_read/write/discard/
 * flush with a completion that carries the request's slot and no callback,
 * and returns. librbd's threads finish the I/O, put the completion on the
 * image's list and bump the eventfd; reap() takes the list with
 * rbd_poll_io_events and, when it must wait, polls the eventfd. Nothing waits
 * on a condition variable per request, and each completion is handed out by
 * rbd_poll_io_events exactly once, so each request completes exactly once.
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
 * An image with the exclusive-lock feature has one writer at a time: two
 * contexts writing it take the lock from each other (librbd hands it over on
 * request), which is correct but slow. Use one writing context per image, or
 * an image without exclusive-lock (docs/ceph.md).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rbd/librbd.h>

#include <rawio/rawio.h>

#include "dev/rbd.h"
#include "engine_impl.h"

#define RBD_POLL_MS 1000 /* a wait wakes this often (a missed wakeup costs at most this) */
#define RBD_BATCH   64	 /* completions taken per rbd_poll_io_events */
#define RBD_ERR_LEN 512

struct rbdeng_slot {
	struct rawio_req *req;
	uint64_t bytes;	  /* read/write: bytes asked of librbd (clipped at the end) */
	bool flush_after; /* a FUA write: flush once it is in */
	bool flushing;	  /* ... and that flush is out */
	struct rbdeng_slot *next_free;
};

struct rbdeng_priv {
	const struct dev_rbd *rbd;
	rbd_image_t image;
	int efd;
	struct rbdeng_slot *slots;
	struct rbdeng_slot *free;
	unsigned out; /* completions librbd owes us */
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

static void rbdeng_fini(struct rawio_engine *e)
{
	struct rbdeng_priv *p = e->priv;
	rbd_completion_t comps[RBD_BATCH];

	/*
	 * The core reaps everything before fini unless a reap failed: then let
	 * librbd finish what it holds (it fails it by the timeout at worst) so
	 * that no completion outlives the slots it points at.
	 */
	while (p->image && p->out) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		uint64_t v;
		int n = rbd_poll_io_events(p->image, comps, RBD_BATCH);

		for (int i = 0; i < n; i++)
			rbd_aio_release(comps[i]);
		if (n > 0) {
			p->out -= (unsigned)n;
			continue;
		}
		if (poll(&pfd, 1, RBD_POLL_MS) > 0 && read(p->efd, &v, sizeof(v)) < 0)
			break;
	}
	if (p->image)
		rbd_close(p->image);
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
	p->slots = calloc(e->qd, sizeof(*p->slots));
	if (!p->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < e->qd; i++) {
		p->slots[i].next_free = p->free;
		p->free = &p->slots[i];
	}
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = e->info->read_only
		      ? rbd_open_read_only(p->rbd->ioctx, p->rbd->image, &p->image, p->rbd->snap)
		      : rbd_open(p->rbd->ioctx, p->rbd->image, &p->image, NULL);
	if (ret) {
		p->image = NULL;
		snprintf(p->last_err, sizeof(p->last_err), "%.300s: open: %s", p->rbd->name,
			 rawio_strerror(ret));
		goto fail;
	}
	ret = rbd_set_image_notification(p->image, p->efd, EVENT_TYPE_EVENTFD);
	if (ret)
		goto fail;
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
	struct rawio_req *r = s->req;
	rbd_completion_t c;
	int ret;

	ret = rbd_aio_create_completion(s, NULL, &c);
	if (ret)
		return ret;
	switch (op) {
	case RAWIO_OP_READ:
		ret = rbd_aio_read(p->image, req_pos(r), s->bytes, req_data(r), c);
		break;
	case RAWIO_OP_WRITE:
		ret = rbd_aio_write(p->image, req_pos(r), s->bytes, req_data(r), c);
		break;
	case RAWIO_OP_DISCARD:
		/* rbd_aio_discard skips partial objects (rbd_skip_partial_discard):
		 * write_zeroes deallocates what it can and zeroes the rest. */
		ret = rbd_aio_write_zeroes(p->image, r->off, r->len, c, 0, 0);
		break;
	default:
		ret = rbd_aio_flush(p->image, c);
		break;
	}
	if (ret < 0) {
		rbd_aio_release(c);
		return ret;
	}
	p->out++;
	return 0;
}

static void rbdeng_slot_free(struct rbdeng_priv *p, struct rbdeng_slot *s)
{
	s->req = NULL;
	s->next_free = p->free;
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
	p->free = s->next_free;
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
 * One completion from librbd. Returns the finished request, or NULL when it
 * only finished a step (a FUA write whose flush is now out).
 */
static struct rawio_req *rbdeng_complete(struct rawio_engine *e, rbd_completion_t c)
{
	struct rbdeng_priv *p = e->priv;
	struct rbdeng_slot *s = rbd_aio_get_arg(c);
	struct rawio_req *r = s->req;
	ssize_t ret = rbd_aio_get_return_value(c);

	rbd_aio_release(c);
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

/* Take what librbd has finished, up to MAX. */
static unsigned rbdeng_collect(struct rawio_engine *e, struct rawio_req **out, unsigned max)
{
	struct rbdeng_priv *p = e->priv;
	rbd_completion_t comps[RBD_BATCH];
	unsigned got = 0;

	while (got < max && p->out) {
		/* Never take more than OUT has room for: the rest stays on librbd's list. */
		unsigned want = max - got < RBD_BATCH ? max - got : RBD_BATCH;
		int n = rbd_poll_io_events(p->image, comps, (int)want);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct rawio_req *r = rbdeng_complete(e, comps[i]);

			if (r)
				out[got++] = r;
		}
		if ((unsigned)n < want)
			break;
	}
	return got;
}

static int rbdeng_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct rbdeng_priv *p = e->priv;
	unsigned got = 0;

	for (;;) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		uint64_t v;
		int n;

		/* Clear the eventfd before looking: a completion after the look bumps it again. */
		if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
		got += rbdeng_collect(e, out + got, max - got);
		if (got >= max || got >= min)
			break;
		if (!p->out)
			return got ? (int)got : -EIO; /* nothing can complete: never wait forever */
		n = poll(&pfd, 1, RBD_POLL_MS);
		if (n < 0 && errno != EINTR)
			return got ? (int)got : -errno;
		e->st.reap_calls++;
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
