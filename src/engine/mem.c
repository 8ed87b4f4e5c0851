// SPDX-License-Identifier: MIT
/*
 * mem: the block layer in front of the RAM device (src/dev/mem.c, modelled
 * on null_blk). Several contexts may drive one device from several threads,
 * as CPUs drive a disk: each request goes to a hardware queue (the queue of
 * the submitting CPU, blk-mq's cpu -> hctx map, or the context's fixed one),
 * takes one of the queue's DEPTH tags under the queue's lock (waiting for one
 * when none is free, counted), is dispatched (the data moves), and completes
 * one of three ways (null_blk's irqmode):
 *
 *   inline  in queue(): the tag is held only while the request is dispatched.
 *           mode=sq holds the single queue's lock across the whole dispatch.
 *   thread  one completion thread per queue takes dispatched requests, frees
 *           their tags and hands them to the submitting context (the hop an
 *           interrupt handler makes).
 *   timer   LAT ns after dispatch (null_blk's completion_nsec): the tag stays
 *           held until then, the request waits in the context's heap ordered
 *           by due time; reap() hands out what is due, and a reap that must
 *           wait sleeps to the first due time (the timer interrupt of block
 *           mode; spin and hybrid never ask it to wait). So polling can be
 *           measured on a device whose latency we choose. A context's
 *           opts.mem_lat_ns or replayed list also selects this path.
 *
 * With RAWIO_MEM_NULL, or backed=0, nothing is copied (bounds are still
 * checked): a benchmark measures what the core and the caller cost per I/O.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/mem_dev.h"
#include "engine_impl.h"
#include "util/sleep.h"

struct mem_timed {
	uint64_t due_ns;
	struct rawio_req *req;
};

struct mem_priv {
	struct mem_dev *md;
	struct req_fifo done;
	bool null;	     /* RAWIO_MEM_NULL or backed=0 */
	bool phases;	     /* RAWIO_MEM_PHASES */
	bool sample;	     /* this request's phases are stamped */
	unsigned phase_tick; /* requests queued, for the 1-in-8 sample */
	bool sq, thread, limited;
	unsigned fixed_q; /* opts.mem_queue */
	/* Completion latency: requests in flight, a min-heap on due time. */
	bool timed;
	uint64_t lat_ns;
	const uint64_t *lat;
	size_t lat_nr, lat_next;
	struct mem_timed *heap;
	unsigned heap_nr, heap_cap;
	struct sleeper sleeper;
	/* complete=thread: what the completion threads handed back. */
	struct mem_dev_ctx dctx;
	int ctx_idx;
	pthread_mutex_t tlock;
	pthread_cond_t tcv;
	struct req_fifo tdone;
	bool twaiting;
	_Atomic unsigned tdone_nr;
};

static void mem_deliver(struct mem_dev_ctx *c, struct rawio_req *r)
{
	struct mem_priv *p = (struct mem_priv *)((char *)c - offsetof(struct mem_priv, dctx));

	pthread_mutex_lock(&p->tlock);
	fifo_push(&p->tdone, r);
	atomic_fetch_add_explicit(&p->tdone_nr, 1, memory_order_release);
	if (p->twaiting)
		pthread_cond_signal(&p->tcv);
	pthread_mutex_unlock(&p->tlock);
}

/* A queue's completion thread (complete=thread). */
static void *mem_complete_main(void *arg)
{
	struct mem_hwq *q = arg;
	struct mem_dev *md = q->md;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct rawio_req *r, *next;
		uint64_t now, bytes = 0;
		unsigned n = 0;

		while (!q->work_head && !q->stop) {
			q->thread_idle = true;
			pthread_cond_wait(&q->work_cv, &q->lock);
			q->thread_idle = false;
		}
		if (!q->work_head)
			break;
		r = q->work_head;
		q->work_head = q->work_tail = NULL;
		pthread_mutex_unlock(&q->lock);
		now = rawio_now_ns();
		for (struct rawio_req *i = r; i; i = i->eng_next) {
			n++;
			bytes += i->op <= RAWIO_OP_WRITE && i->result > 0 ? (uint64_t)i->result : 0;
		}
		pthread_mutex_lock(&q->lock);
		q->used -= n;
		q->st.completed += n;
		q->st.bytes_completed += bytes;
		if (!q->used)
			q->st.busy_ns += now - q->busy_since;
		if (q->waiters)
			pthread_cond_broadcast(&q->tag_cv);
		pthread_mutex_unlock(&q->lock);
		for (; r; r = next) {
			next = r->eng_next;
			r->device_ns = now;
			md->ctx[r->eng_index]->deliver(md->ctx[r->eng_index], r);
		}
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void mem_fini(struct rawio_engine *e);

static int mem_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct mem_priv *p = e->priv;
	struct mem_dev *md = mem_dev_of(e->dev);
	int ret;

	if (!rawio_dev_mem(e->dev) || !md ||
	    (opts->mem_flags & ~(RAWIO_MEM_NULL | RAWIO_MEM_PHASES)))
		return -EINVAL;
	if (opts->mem_queue > md->o.queues)
		return -EINVAL;
	p->md = md;
	p->ctx_idx = -1;
	p->null = (opts->mem_flags & RAWIO_MEM_NULL) || !md->o.backed;
	p->phases = opts->mem_flags & RAWIO_MEM_PHASES;
	p->sq = md->o.mode == RAWIO_MEM_SQ;
	p->limited = md->o.bw || md->o.iops;
	p->fixed_q = opts->mem_queue;
	if (!!opts->mem_lat != !!opts->mem_lat_nr || (opts->mem_lat && opts->mem_lat_ns))
		return -EINVAL;
	p->timed = opts->mem_lat || opts->mem_lat_ns || md->o.complete == RAWIO_MEM_COMPLETE_TIMER;
	p->sleeper.keep_slack = opts->wait_flags & RAWIO_WAIT_F_KEEP_SLACK;
	if (p->timed) {
		p->lat_ns = opts->mem_lat || opts->mem_lat_ns ? opts->mem_lat_ns : md->o.lat_ns;
		p->lat = opts->mem_lat;
		p->lat_nr = opts->mem_lat_nr;
		p->heap_cap = e->qd;
		p->heap = calloc(p->heap_cap, sizeof(*p->heap));
		return p->heap ? 0 : -ENOMEM;
	}
	if (md->o.complete != RAWIO_MEM_COMPLETE_THREAD)
		return 0;
	p->thread = true;
	pthread_mutex_init(&p->tlock, NULL);
	pthread_cond_init(&p->tcv, NULL);
	p->dctx.deliver = mem_deliver;
	p->ctx_idx = mem_dev_ctx_add(md, &p->dctx);
	if (p->ctx_idx < 0) {
		ret = p->ctx_idx;
		goto fail;
	}
	ret = mem_dev_start_threads(md, mem_complete_main);
	if (ret)
		goto fail;
	return 0;
fail:
	mem_fini(e);
	return ret;
}

/* blk-mq's map: the submitting CPU's queue, unless the context has its own. */
static struct mem_hwq *mem_pick(const struct mem_priv *p)
{
	const struct mem_dev *md = p->md;
	int cpu;

	if (p->fixed_q)
		return &md->q[p->fixed_q - 1];
	if (md->o.queues == 1)
		return &md->q[0];
	cpu = sched_getcpu();
	return &md->q[(unsigned)(cpu < 0 ? 0 : cpu) % md->o.queues];
}

static uint64_t mem_req_bytes(const struct rawio_req *r)
{
	return r->op <= RAWIO_OP_WRITE ? req_left(r) : 0;
}

/* Take a tag on Q (lock held), waiting for one if none is free. */
static void mem_tag_get(struct mem_priv *p, struct mem_hwq *q, struct rawio_req *r)
{
	if (q->used >= p->md->o.depth) {
		q->st.tag_waits++;
		q->waiters++;
		while (q->used >= p->md->o.depth)
			pthread_cond_wait(&q->tag_cv, &q->lock);
		q->waiters--;
	}
	if (!q->used++)
		q->busy_since = r->submit_ns;
	if (q->used > q->st.max_inflight)
		q->st.max_inflight = q->used;
	q->st.dispatched++;
	q->st.bytes_dispatched += mem_req_bytes(r);
	if (p->sample)
		r->tag_ns = rawio_now_ns();
}

/* The device's rate limit: the request finishes no earlier than the budget allows. */
static void mem_limit_wait(struct mem_priv *p, struct rawio_req *r)
{
	uint64_t now = rawio_now_ns(), fin = mem_dev_limit(p->md, now, mem_req_bytes(r));

	/* A sleep costs tens of microseconds here: spin through short waits. */
	if (fin > now + 200000)
		sleeper_sleep_until(&p->sleeper, fin);
	while (rawio_now_ns() < fin)
		__builtin_ia32_pause();
}

static void mem_dispatch(struct rawio_engine *e, struct mem_priv *p, struct rawio_req *r)
{
	if (p->sample)
		r->dispatch_ns = rawio_now_ns();
	r->result = mem_dev_rw(e->dev, p->md, r, p->null);
	if (p->limited)
		mem_limit_wait(p, r);
}

static int mem_queue_inline(struct rawio_engine *e, struct mem_priv *p, struct mem_hwq *q,
			    struct rawio_req *r)
{
	/* sq holds its one lock across the dispatch; mq drops it while data moves
	 * (a null dispatch moves none, so it keeps the lock: one round trip). */
	bool hold = p->sq || p->null;
	uint64_t now;

	pthread_mutex_lock(&q->lock);
	mem_tag_get(p, q, r);
	if (!hold)
		pthread_mutex_unlock(&q->lock);
	mem_dispatch(e, p, r);
	/* Null: nothing happened since the core stamped submit_ns worth a clock read. */
	now = p->null && !p->sample ? r->submit_ns : rawio_now_ns();
	if (p->sample)
		r->device_ns = now;
	else
		r->complete_ns = now;
	if (!hold)
		pthread_mutex_lock(&q->lock);
	q->st.completed++;
	q->st.bytes_completed += r->result > 0 ? (uint64_t)r->result : 0;
	if (!--q->used)
		q->st.busy_ns += now - q->busy_since;
	if (q->waiters)
		pthread_cond_signal(&q->tag_cv);
	pthread_mutex_unlock(&q->lock);
	fifo_push(&p->done, r);
	return RAWIO_Q_QUEUED;
}

static int mem_queue_thread(struct rawio_engine *e, struct mem_priv *p, struct mem_hwq *q,
			    struct rawio_req *r)
{
	pthread_mutex_lock(&q->lock);
	mem_tag_get(p, q, r);
	if (!p->sq) {
		pthread_mutex_unlock(&q->lock);
		mem_dispatch(e, p, r);
		pthread_mutex_lock(&q->lock);
	} else {
		mem_dispatch(e, p, r);
	}
	r->eng_index = (uint32_t)p->ctx_idx;
	r->eng_next = NULL;
	if (q->work_tail)
		q->work_tail->eng_next = r;
	else
		q->work_head = r;
	q->work_tail = r;
	if (q->thread_idle)
		pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->lock);
	return RAWIO_Q_QUEUED;
}

static void mem_heap_push(struct mem_priv *p, uint64_t due, struct rawio_req *r)
{
	unsigned i = p->heap_nr++;

	while (i && p->heap[(i - 1) / 2].due_ns > due) {
		p->heap[i] = p->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	p->heap[i] = (struct mem_timed){ .due_ns = due, .req = r };
}

static struct rawio_req *mem_heap_pop(struct mem_priv *p)
{
	struct rawio_req *top = p->heap[0].req;
	struct mem_timed last = p->heap[--p->heap_nr];
	unsigned i = 0;

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= p->heap_nr)
			break;
		if (c + 1 < p->heap_nr && p->heap[c + 1].due_ns < p->heap[c].due_ns)
			c++;
		if (p->heap[c].due_ns >= last.due_ns)
			break;
		p->heap[i] = p->heap[c];
		i = c;
	}
	if (p->heap_nr)
		p->heap[i] = last;
	return top;
}

/* Timer completion: the tag is held until the request's due time passes. */
static int mem_queue_timer(struct rawio_engine *e, struct mem_priv *p, struct mem_hwq *q,
			   struct rawio_req *r)
{
	uint64_t t = r->submit_ns, lat = p->lat_ns, due;

	if (p->heap_nr == p->heap_cap)
		return RAWIO_Q_BUSY;
	if (p->lat) {
		lat = p->lat[p->lat_next];
		p->lat_next = p->lat_next + 1 == p->lat_nr ? 0 : p->lat_next + 1;
	}
	pthread_mutex_lock(&q->lock);
	mem_hwq_expire(q, t);
	if (q->used >= p->md->o.depth) {
		q->st.tag_waits++;
		do {
			uint64_t first = q->due[0].due_ns;

			pthread_mutex_unlock(&q->lock);
			sleeper_sleep_until(&p->sleeper, first);
			t = rawio_now_ns();
			pthread_mutex_lock(&q->lock);
			mem_hwq_expire(q, t);
		} while (q->used >= p->md->o.depth);
	}
	if (!q->used++)
		q->busy_since = t;
	if (q->used > q->st.max_inflight)
		q->st.max_inflight = q->used;
	q->st.dispatched++;
	q->st.bytes_dispatched += mem_req_bytes(r);
	if (p->sample) {
		if (t == r->submit_ns)
			t = rawio_now_ns();
		r->tag_ns = r->dispatch_ns = t;
	}
	due = t + lat;
	if (p->limited) {
		uint64_t fin = mem_dev_limit(p->md, t, mem_req_bytes(r));

		due = fin > due ? fin : due;
	}
	if (p->sq)
		r->result = mem_dev_rw(e->dev, p->md, r, p->null);
	mem_hwq_push_due(q, due, r->op <= RAWIO_OP_WRITE ? req_left(r) : 0);
	pthread_mutex_unlock(&q->lock);
	if (!p->sq)
		r->result = mem_dev_rw(e->dev, p->md, r, p->null);
	r->device_ns = due;
	/* The core stamps complete_ns when reap hands the request out. */
	mem_heap_push(p, due, r);
	return RAWIO_Q_QUEUED;
}

static int mem_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct mem_priv *p = e->priv;
	struct mem_hwq *q = mem_pick(p);

	/* Phases: one request in eight carries the stamps (four clock reads). */
	p->sample = p->phases && !(p->phase_tick++ & 7);
	if (!p->sample)
		r->tag_ns = 0;
	if (p->timed)
		return mem_queue_timer(e, p, q, r);
	if (p->thread)
		return mem_queue_thread(e, p, q, r);
	return mem_queue_inline(e, p, q, r);
}

/* Hand out what is due; sleep to the first due time while fewer than MIN are. */
static int mem_reap_timed(struct rawio_engine *e, struct rawio_req **out, unsigned min,
			  unsigned max)
{
	struct mem_priv *p = e->priv;
	unsigned n = 0;

	while (n < max && p->heap_nr) {
		uint64_t now = rawio_now_ns(), due = p->heap[0].due_ns;

		if (due > now) {
			if (n >= min)
				break;
			sleeper_sleep_until(&p->sleeper, due);
			e->st.reap_calls++;
			continue;
		}
		while (n < max && p->heap_nr && p->heap[0].due_ns <= now)
			out[n++] = mem_heap_pop(p);
	}
	e->st.user_reaps += n;
	return (int)n;
}

static int mem_reap_thread(struct rawio_engine *e, struct rawio_req **out, unsigned min,
			   unsigned max)
{
	struct mem_priv *p = e->priv;
	unsigned n = 0;

	if (!min && !atomic_load_explicit(&p->tdone_nr, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&p->tlock);
	if (p->tdone.nr < min) {
		p->twaiting = true;
		while (p->tdone.nr < min)
			pthread_cond_wait(&p->tcv, &p->tlock);
		p->twaiting = false;
		e->st.reap_calls++;
	}
	while (n < max && p->tdone.head)
		out[n++] = fifo_pop(&p->tdone);
	atomic_fetch_sub_explicit(&p->tdone_nr, n, memory_order_relaxed);
	pthread_mutex_unlock(&p->tlock);
	e->st.user_reaps += n;
	return (int)n;
}

static int mem_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct mem_priv *p = e->priv;
	unsigned n = 0;

	if (p->timed)
		return mem_reap_timed(e, out, min, max);
	if (p->thread)
		return mem_reap_thread(e, out, min, max);
	while (n < max && p->done.head)
		out[n++] = fifo_pop(&p->done);
	e->st.user_reaps += n;
	return (int)n;
}

static void mem_fini(struct rawio_engine *e)
{
	struct mem_priv *p = e->priv;

	free(p->heap);
	p->heap = NULL;
	if (p->thread) {
		if (p->ctx_idx >= 0)
			mem_dev_ctx_del(p->md, p->ctx_idx);
		pthread_mutex_destroy(&p->tlock);
		pthread_cond_destroy(&p->tcv);
		p->thread = false;
	}
}

static void mem_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	static const char *const completes[] = { "inline", "thread", "timer" };
	const struct mem_priv *p = e->priv;
	const struct rawio_mem_opts *o = &p->md->o;
	int n;

	n = snprintf(buf, len, "mem qd=%u null=%s queues=%u depth=%u mode=%s complete=%s", e->qd,
		     p->null ? "yes" : "no", o->queues, o->depth, p->sq ? "sq" : "mq",
		     p->timed ? "timer" : completes[o->complete]);
	if (n < 0 || (size_t)n >= len)
		return;
	if (p->lat)
		snprintf(buf + n, len - (size_t)n, " lat=replay(%zu)", p->lat_nr);
	else if (p->timed)
		snprintf(buf + n, len - (size_t)n, " lat=%lluns", (unsigned long long)p->lat_ns);
	if (p->fixed_q) {
		n = (int)strlen(buf);
		snprintf(buf + n, len - (size_t)n, " queue=%u", p->fixed_q - 1);
	}
}

const struct rawio_engine_ops rawio_engine_mem = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "mem",
	.caps = RAWIO_CAP_MEM | RAWIO_CAP_ASYNC | RAWIO_CAP_FUA | RAWIO_CAP_BATCH_REAP,
	.priv_size = sizeof(struct mem_priv),
	.init = mem_init,
	.queue = mem_queue,
	.reap = mem_reap,
	.fini = mem_fini,
	.describe = mem_describe,
};
