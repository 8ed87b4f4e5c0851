// SPDX-License-Identifier: MIT
/*
 * The engine core: registry, request validation, timestamps, and the parts
 * every engine would otherwise get wrong on its own (short transfers, EAGAIN,
 * a full engine on resubmission).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include <rawio/rawio.h>
#include "engine_impl.h"
#include "wait.h"

/* core_flags */
#define CORE_RETRY_SHIFT 8 /* EAGAIN retries so far */
#define CORE_RETRY_MAX	 1000u

static const struct rawio_engine_ops *const engine_registry[] = {
	&rawio_engine_sync,	&rawio_engine_threads, &rawio_engine_aio,
	&rawio_engine_uring,	&rawio_engine_mem,     &rawio_engine_fault,
	&rawio_engine_throttle, &rawio_engine_nbd,     &rawio_engine_sched,
#ifdef RAWIO_HAVE_RBD
	&rawio_engine_rbd,
#endif
};

#define NR_ENGINES (sizeof(engine_registry) / sizeof(engine_registry[0]))

static const char *const engine_names[NR_ENGINES + 1] = {
	"sync", "threads", "aio", "uring", "mem", "fault", "throttle", "nbd", "sched",
#ifdef RAWIO_HAVE_RBD
	"rbd",
#endif
	NULL,
};

/*
 * The core's own lists, both of requests counted in flight but not held by the
 * engine (so eng_next is free to link them): those the engine answered BUSY
 * on resubmission (retried before waiting), and those that finished during a
 * resubmission (handed out by the next reap).
 */
struct engine_core {
	struct rawio_engine e;
	char auto_why[256]; /* opened as "auto": why this engine */
	struct req_fifo retry;
	struct req_fifo done;
	struct engine_waiter wait; /* how reap waits: block, spin, hybrid (wait.c) */
	/* RAWIO_ENGINE_PHASES on an engine that stamps none itself (not mem, not stacked):
	 * requests queued since the last commit, stamped dispatched when it returns. */
	bool phases;
	unsigned nr_uncommitted;
	struct rawio_req **uncommitted; /* qd of them */
};

static int engine_open_auto(struct rawio_engine **out, struct rawio_dev *dev,
			    const struct rawio_engine_opts *opts);

const char *const *rawio_engine_list(void)
{
	return engine_names;
}

static const struct rawio_engine_ops *engine_find(const char *name)
{
	for (size_t i = 0; i < NR_ENGINES; i++)
		if (strcmp(engine_registry[i]->name, name) == 0)
			return engine_registry[i];
	return NULL;
}

unsigned rawio_engine_name_caps(const char *name)
{
	const struct rawio_engine_ops *ops = name ? engine_find(name) : NULL;

	return ops ? ops->caps : 0;
}

static int engine_ops_check(const struct rawio_engine_ops *ops)
{
	if (ops->version != RAWIO_ENGINE_OPS_VERSION || !ops->init || !ops->queue || !ops->reap ||
	    !ops->fini)
		return -EINVAL;
	return 0;
}

int rawio_engine_open(struct rawio_engine **out, const char *name, struct rawio_dev *dev,
		      const struct rawio_engine_opts *opts)
{
	struct rawio_engine_opts defaults = { .size = sizeof(defaults) };
	const struct rawio_engine_ops *ops;
	const struct rawio_dev_info *info;
	struct engine_core *c;
	struct rawio_engine *e;
	int ret;

	*out = NULL;
	if (!name || !dev)
		return -EINVAL;
	if (!strcmp(name, "auto"))
		return engine_open_auto(out, dev, opts);
	ops = engine_find(name);
	if (!ops)
		return -ENOENT;
	ret = engine_ops_check(ops);
	if (ret)
		return ret;
	/* An older caller's smaller struct: what it did not know about stays default. */
	if (opts) {
		if (opts->size < offsetof(struct rawio_engine_opts, uring_flags))
			return -EINVAL;
		memcpy(&defaults, opts,
		       opts->size < sizeof(defaults) ? opts->size : sizeof(defaults));
		defaults.size = sizeof(defaults);
	}
	opts = &defaults;
	info = rawio_dev_info(dev);
	/*
	 * An RBD image has no descriptor and one engine: a descriptor engine asked
	 * for by name is refused (-EINVAL, as on an NBD export), never swapped for
	 * another behind the caller's back. Callers that pick an engine themselves
	 * use rawio_engine_default or "auto", which name "rbd" there.
	 */
	if (info->kind == RAWIO_DEV_RBD && !engine_find("rbd"))
		return -EOPNOTSUPP; /* built without librbd */
	if ((ops->caps & RAWIO_CAP_FD) && rawio_dev_fd(dev) < 0)
		return -EINVAL;
	if ((ops->caps & RAWIO_CAP_MEM) && info->kind != RAWIO_DEV_MEM)
		return -EINVAL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	e = &c->e;
	e->ops = ops;
	e->dev = dev;
	e->info = info;
	e->fd = rawio_dev_fd(dev);
	e->qd = opts->queue_depth ? opts->queue_depth : 32;
	if (!(ops->caps & RAWIO_CAP_ASYNC) && !(ops->caps & RAWIO_CAP_STACKED))
		e->qd = 1;
	if (ops->priv_size) {
		e->priv = calloc(1, ops->priv_size);
		if (!e->priv) {
			ret = -ENOMEM;
			goto err_free_core;
		}
	}
	ret = engine_waiter_init(&c->wait, opts);
	if (ret)
		goto err_free_wait;
	ret = ops->init(e, opts);
	if (ret)
		goto err_free_wait;
	c->phases = (opts->mem_flags & RAWIO_ENGINE_PHASES) &&
		    !(ops->caps & (RAWIO_CAP_MEM | RAWIO_CAP_STACKED));
	if (c->phases) {
		c->uncommitted = calloc(e->qd, sizeof(*c->uncommitted));
		if (!c->uncommitted) {
			ret = -ENOMEM;
			goto err_fini;
		}
	}
	*out = e;
	return 0;

err_fini:
	ops->fini(e);
err_free_wait:
	engine_waiter_fini(&c->wait);
	free(e->priv);
err_free_core:
	free(c);
	return ret;
}

/* "auto": open the engine rawio_engine_choose picks, falling back to aio, then sync. */
static int engine_open_auto(struct rawio_engine **out, struct rawio_dev *dev,
			    const struct rawio_engine_opts *opts)
{
	static const char *const fallback[] = { "aio", "sync" };
	struct rawio_engine_choice ch;
	int ret;

	rawio_engine_choose(dev, opts && opts->queue_depth ? opts->queue_depth : 32, &ch);
	ret = rawio_engine_open(out, ch.engine, dev, opts);
	for (size_t i = 0; ret && ret != -EINVAL && i < 2; i++) {
		if (!strcmp(ch.engine, fallback[i]))
			continue;
		snprintf(ch.why, sizeof(ch.why), "%s could not be opened (%s): %s", ch.engine,
			 rawio_strerror(ret), fallback[i]);
		snprintf(ch.engine, sizeof(ch.engine), "%s", fallback[i]);
		ret = rawio_engine_open(out, ch.engine, dev, opts);
	}
	if (!ret)
		snprintf(((struct engine_core *)*out)->auto_why,
			 sizeof(((struct engine_core *)*out)->auto_why), "%s", ch.why);
	return ret;
}

void rawio_engine_close(struct rawio_engine *e)
{
	struct rawio_req *done[64];

	if (!e)
		return;
	while (e->inflight) {
		if (rawio_engine_reap(e, done, 1, 64) <= 0)
			break;
	}
	e->ops->fini(e);
	engine_waiter_fini(&((struct engine_core *)e)->wait);
	free(((struct engine_core *)e)->uncommitted);
	free(e->priv);
	free((struct engine_core *)e);
}

static bool req_is_rw(const struct rawio_req *r)
{
	return r->op == RAWIO_OP_READ || r->op == RAWIO_OP_WRITE;
}

/* Check a new request against the device's rules. 0 or -errno for the request. */
static int engine_req_check(const struct rawio_engine *e, const struct rawio_req *r)
{
	const struct rawio_dev_info *info = e->info;

	if (r->op >= RAWIO_OP_NR)
		return -EINVAL;
	if (r->op == RAWIO_OP_WRITE || r->op == RAWIO_OP_DISCARD) {
		if (info->read_only)
			return -EBADF;
	}
	if (req_is_rw(r)) {
		if (!r->buf)
			return -EFAULT;
		if (r->off + r->len < r->off)
			return -EINVAL;
		return rawio_dev_check_io(e->dev, r->buf, r->len, r->off);
	}
	if (r->op == RAWIO_OP_DISCARD) {
		uint64_t a = info->logical_block_size ? info->logical_block_size : 512;

		if (r->off % a || r->len % a || r->off + r->len < r->off)
			return -EINVAL;
	}
	return 0;
}

/*
 * A completion came back from the engine (or inline). Fold a partial transfer
 * into req->done. Returns true if REQ is finished (result final), false if it
 * must be resubmitted.
 */
static bool engine_req_settle(struct rawio_engine *e, struct rawio_req *r)
{
	int64_t res = r->result;

	if (res == -EAGAIN) {
		unsigned tries = r->core_flags >> CORE_RETRY_SHIFT;

		if (tries < CORE_RETRY_MAX) {
			r->core_flags = ((tries + 1) << CORE_RETRY_SHIFT) | CORE_NOWAIT_OFF;
			e->st.resubmits++;
			return false;
		}
	}
	if (req_is_rw(r) && res > 0) {
		r->done += (uint64_t)res;
		if (r->done < r->len) {
			bool at_end = r->op == RAWIO_OP_READ && e->info->kind != RAWIO_DEV_FILE &&
				      req_pos(r) >= e->info->size;

			if (!at_end) {
				e->st.resubmits++;
				return false;
			}
		}
		r->result = (int64_t)r->done;
	} else if (req_is_rw(r) && r->done) {
		/* EOF or an error after partial progress: report what moved. */
		r->result = (int64_t)r->done;
	} else if (!req_is_rw(r) && res > 0) {
		r->result = 0;
	}
	if (!r->complete_ns && !(r->core_flags & CORE_UNSTAMPED))
		r->complete_ns = rawio_now_ns();
	return true;
}

/*
 * Resubmit R, which is counted in flight, until the engine takes it, parks it
 * (BUSY: retry list) or it finishes (done list).
 */
static void engine_requeue(struct rawio_engine *e, struct rawio_req *r)
{
	struct engine_core *c = (struct engine_core *)e;

	for (;;) {
		int q;

		r->complete_ns = 0;
		q = e->ops->queue(e, r);
		if (q == RAWIO_Q_QUEUED)
			return;
		if (q == RAWIO_Q_BUSY) {
			fifo_push(&c->retry, r);
			return;
		}
		if (q < 0)
			r->result = q;
		if (q < 0 || engine_req_settle(e, r)) {
			fifo_push(&c->done, r);
			return;
		}
	}
}

static bool engine_nowait_useless(const struct rawio_engine *e, const struct rawio_req *r)
{
	const struct rawio_dev_info *info = e->info;

	if (!(r->flags & RAWIO_REQ_NOWAIT) || info->kind != RAWIO_DEV_FILE)
		return false;
	if (r->op == RAWIO_OP_WRITE)
		return !info->fs.nowait_writes;
	return r->op == RAWIO_OP_READ && !info->fs.nowait_reads;
}

static int engine_fail_early(struct rawio_engine *e, struct rawio_req *r, int err)
{
	r->result = err;
	r->complete_ns = r->submit_ns;
	e->st.queued++;
	e->st.completed++;
	return RAWIO_Q_DONE;
}

/*
 * Phases where the engine keeps no tags: G is Q; D is when the engine took the
 * request (queue returned; for an engine that batches, its commit returned: the
 * kernel or the worker pool has it); C is when the engine saw it complete (the
 * complete_ns it stamps: the CQE or event reaped, the worker done); R is when the
 * core hands it to the caller (complete_ns is moved there, as the mem engine does).
 */
static void core_phase_queue(struct engine_core *c, struct rawio_req *r)
{
	r->tag_ns = r->submit_ns;
	r->dispatch_ns = c->e.ops->commit ? 0 : r->submit_ns;
	r->device_ns = 0;
}

/* A failed commit may have handed its requests back: forget them, stamp none. */
static void core_phase_committed(struct engine_core *c, int commit_ret)
{
	uint64_t now;

	if (!c->nr_uncommitted || commit_ret || c->e.ops->stamps_dispatch) {
		c->nr_uncommitted = 0;
		return;
	}
	now = rawio_now_ns();
	for (unsigned i = 0; i < c->nr_uncommitted; i++)
		c->uncommitted[i]->dispatch_ns = now;
	c->nr_uncommitted = 0;
}

static void core_phase_reaped(struct rawio_req *r, uint64_t now)
{
	if (!r->dispatch_ns)
		r->dispatch_ns = r->tag_ns;
	r->device_ns = r->complete_ns ? r->complete_ns : now;
	r->complete_ns = now;
}

/* CORE_FLAGS: CORE_UNSTAMPED or 0 (rawio_engine_queue). */
static int engine_queue(struct rawio_engine *e, struct rawio_req *r, uint32_t core_flags)
{
	struct engine_core *c = (struct engine_core *)e;
	int ret;

	r->result = 0;
	r->done = 0;
	/*
	 * NOWAIT where the filesystem's traits say it does not work (writes:
	 * until rawio fsqual measured otherwise) would only buy an EAGAIN and a
	 * second submission: go blocking from the start.
	 */
	r->core_flags = core_flags | (engine_nowait_useless(e, r) ? CORE_NOWAIT_OFF : 0);
	r->complete_ns = 0;
	r->submit_ns = core_flags & CORE_UNSTAMPED ? 0 : rawio_now_ns();
	ret = engine_req_check(e, r);
	if (ret)
		return engine_fail_early(e, r, ret);
	if (req_is_rw(r) && r->len == 0)
		return engine_fail_early(e, r, 0);
	if (e->inflight >= e->qd) {
		e->st.busy++;
		return RAWIO_Q_BUSY;
	}
	if (c->phases)
		core_phase_queue(c, r);
	ret = e->ops->queue(e, r);
	if (ret < 0)
		return ret;
	if (ret == RAWIO_Q_BUSY) {
		e->st.busy++;
		return RAWIO_Q_BUSY;
	}
	e->st.queued++;
	if (ret == RAWIO_Q_DONE && engine_req_settle(e, r)) {
		e->st.completed++;
		if (c->phases)
			core_phase_reaped(r, r->complete_ns);
		return RAWIO_Q_DONE;
	}
	if (c->phases && ret == RAWIO_Q_QUEUED && e->ops->commit && c->nr_uncommitted < e->qd)
		c->uncommitted[c->nr_uncommitted++] = r;
	e->inflight++;
	if (ret == RAWIO_Q_DONE)
		engine_requeue(e, r); /* partial inline transfer: the rest comes from reap */
	else
		engine_waiter_queued(&((struct engine_core *)e)->wait, r);
	return RAWIO_Q_QUEUED;
}

int rawio_engine_queue(struct rawio_engine *e, struct rawio_req *r)
{
	return engine_queue(e, r, 0);
}

int rawio_engine_commit(struct rawio_engine *e)
{
	struct engine_core *c = (struct engine_core *)e;
	int ret = e->ops->commit ? e->ops->commit(e) : 0;

	if (c->phases)
		core_phase_committed(c, ret);
	return ret;
}

/* Give the engine another go at what it refused on resubmission. */
static void core_retry_flush(struct rawio_engine *e)
{
	struct engine_core *c = (struct engine_core *)e;
	unsigned n = c->retry.nr;

	/* Each request gets one try per call: BUSY puts it back at the tail. */
	while (n--)
		engine_requeue(e, fifo_pop(&c->retry));
}

static unsigned core_drain_done(struct rawio_engine *e, struct rawio_req **out, unsigned max)
{
	struct engine_core *c = (struct engine_core *)e;
	unsigned got = 0;

	while (got < max && c->done.head) {
		out[got++] = fifo_pop(&c->done);
		e->inflight--;
		e->st.completed++;
	}
	return got;
}

int rawio_engine_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct engine_core *c = (struct engine_core *)e;
	unsigned got = 0;
	int ret;

	if (min > e->inflight)
		min = e->inflight;
	if (min > max)
		min = max;

	for (;;) {
		unsigned in_engine, want;
		uint64_t now;
		int n, kept;

		if (c->retry.nr)
			core_retry_flush(e);
		got += core_drain_done(e, out + got, max - got);
		if (e->ops->commit) {
			ret = e->ops->commit(e);
			if (c->phases)
				core_phase_committed(c, ret);
			if (ret)
				goto failed;
		}
		in_engine = e->inflight - c->retry.nr - c->done.nr;
		if (got >= max || (got >= min && !in_engine))
			break;
		if (!in_engine) {
			/* The engine is empty yet refused them: it will not take them. */
			struct rawio_req *r;

			while ((r = fifo_pop(&c->retry))) {
				r->result = r->done ? (int64_t)r->done : -EAGAIN;
				r->complete_ns = rawio_now_ns();
				fifo_push(&c->done, r);
			}
			continue;
		}
		want = got >= min ? 0 : min - got;
		if (want > in_engine)
			want = in_engine;
		n = want ? engine_waiter_reap(&c->wait, e, out + got, want, max - got)
			 : e->ops->reap(e, out + got, 0, max - got);
		if (n < 0) {
			ret = n;
			goto failed;
		}
		kept = 0;
		now = c->phases && n > 0 ? rawio_now_ns() : 0;
		for (int i = 0; i < n; i++) {
			struct rawio_req *r = out[got + i];

			if (!engine_req_settle(e, r)) {
				engine_requeue(e, r);
				continue;
			}
			if (c->phases && r->tag_ns)
				core_phase_reaped(r, now);
			e->inflight--;
			e->st.completed++;
			engine_waiter_completed(&c->wait, r);
			out[got + kept++] = r;
		}
		got += kept;
		if (got >= min)
			break;
	}
	return (int)got;

failed:
	/* Completions already taken must still come back once: hand them out now,
	 * the error surfaces on the next call, which fails again. */
	return got ? (int)got : ret;
}

static int64_t engine_run1(struct rawio_engine *e, struct rawio_req *req, uint32_t core_flags)
{
	struct rawio_req *done;
	int q, n;

	if (e->inflight)
		return -EBUSY;
	q = engine_queue(e, req, core_flags);
	if (q < 0)
		return q;
	if (q == RAWIO_Q_DONE)
		return req->result;
	if (q == RAWIO_Q_BUSY)
		return -EBUSY;
	n = rawio_engine_reap(e, &done, 1, 1);
	if (n < 0)
		return n;
	return req->result;
}

int64_t rawio_engine_run1(struct rawio_engine *e, struct rawio_req *req)
{
	return engine_run1(e, req, 0);
}

/*
 * The sync engine completes in queue(), so neither the waiter nor an engine
 * reads the stamps there; without phases only the caller would: two clock
 * reads saved per request (3% of the nbdkit plugin's CPU per 4 KiB read).
 */
int64_t engine_run1_unstamped(struct rawio_engine *e, struct rawio_req *req)
{
	struct engine_core *c = (struct engine_core *)e;
	bool unread = e->ops == &rawio_engine_sync && !c->phases;

	return engine_run1(e, req, unread ? CORE_UNSTAMPED : 0);
}

unsigned rawio_engine_inflight(const struct rawio_engine *e)
{
	return e->inflight;
}

unsigned rawio_engine_queue_depth(const struct rawio_engine *e)
{
	return e->qd;
}

const char *rawio_engine_name(const struct rawio_engine *e)
{
	return e->ops->name;
}

unsigned rawio_engine_caps(const struct rawio_engine *e)
{
	return e->ops->caps;
}

struct rawio_dev *rawio_engine_dev(const struct rawio_engine *e)
{
	return e->dev;
}

void rawio_engine_stat(const struct rawio_engine *e, struct rawio_engine_stat *st)
{
	*st = e->st;
}

void rawio_engine_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	unsigned mode = ((const struct engine_core *)e)->wait.mode;
	size_t n;

	if (e->ops->describe)
		e->ops->describe(e, buf, len);
	else
		snprintf(buf, len, "%s qd=%u", e->ops->name, e->qd);
	n = len ? strnlen(buf, len) : 0;
	/* Block is every engine's own way: name the others. */
	if (mode != RAWIO_WAIT_BLOCK && n < len)
		snprintf(buf + n, len - n, " wait=%s", rawio_wait_mode_name(mode));
	n = len ? strnlen(buf, len) : 0;
	if (((const struct engine_core *)e)->auto_why[0] && n < len)
		snprintf(buf + n, len - n, " (auto: %s)",
			 ((const struct engine_core *)e)->auto_why);
}
