// SPDX-License-Identifier: MIT
/*
 * mem: a RAM device (like null_blk with memory backing). queue() copies the
 * data and parks the request on the context's completion list; reap() hands
 * it back. Several contexts may drive one RAM device from several threads,
 * as they would a disk: overlapping writes race as they would there.
 *
 * With RAWIO_MEM_NULL nothing is copied (bounds are still checked): a read
 * leaves its buffer untouched and a write stores nothing, so a benchmark
 * measures what the core and the caller cost per I/O, not memcpy.
 *
 * With a completion latency (opts.mem_lat_ns, or a list replayed in order:
 * null_blk's completion_nsec with irqmode=timer) the data still moves in
 * queue(), but the request completes only LAT ns after it was queued: it
 * waits in a heap ordered by due time, reap() hands out what is due, and a
 * reap that must wait sleeps to the first due time (the timer interrupt of
 * block mode; spin and hybrid never ask it to wait). So polling can be
 * measured on a device whose latency we choose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "util/sleep.h"

struct mem_timed {
	uint64_t due_ns;
	struct rawio_req *req;
};

struct mem_priv {
	struct req_fifo done;
	bool null; /* RAWIO_MEM_NULL */
	/* Completion latency: requests in flight, a min-heap on due time. */
	bool timed;
	uint64_t lat_ns;
	const uint64_t *lat;
	size_t lat_nr, lat_next;
	struct mem_timed *heap;
	unsigned heap_nr, heap_cap;
	struct sleeper sleeper;
};

static int mem_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct mem_priv *p = e->priv;

	if (!rawio_dev_mem(e->dev) || (opts->mem_flags & ~RAWIO_MEM_NULL))
		return -EINVAL;
	p->null = opts->mem_flags & RAWIO_MEM_NULL;
	if (!!opts->mem_lat != !!opts->mem_lat_nr || (opts->mem_lat && opts->mem_lat_ns))
		return -EINVAL;
	p->timed = opts->mem_lat || opts->mem_lat_ns;
	if (!p->timed)
		return 0;
	p->lat_ns = opts->mem_lat_ns;
	p->lat = opts->mem_lat;
	p->lat_nr = opts->mem_lat_nr;
	p->sleeper.keep_slack = opts->wait_flags & RAWIO_WAIT_F_KEEP_SLACK;
	p->heap_cap = e->qd;
	p->heap = calloc(p->heap_cap, sizeof(*p->heap));
	return p->heap ? 0 : -ENOMEM;
}

static int64_t mem_transfer(struct rawio_engine *e, struct rawio_req *r)
{
	const struct mem_priv *p = e->priv;
	char *mem = rawio_dev_mem(e->dev);
	uint64_t size = e->info->size, pos = req_pos(r), n = req_left(r);

	switch (r->op) {
	case RAWIO_OP_READ:
		if (pos >= size)
			return 0;
		if (n > size - pos)
			n = size - pos;
		if (!p->null)
			memcpy(req_data(r), mem + pos, n);
		return (int64_t)n;
	case RAWIO_OP_WRITE:
		if (pos >= size)
			return -ENOSPC;
		if (n > size - pos)
			n = size - pos;
		if (!p->null)
			memcpy(mem + pos, req_data(r), n);
		return (int64_t)n;
	case RAWIO_OP_DISCARD:
		if (r->off >= size || r->len > size - r->off)
			return -EINVAL;
		if (!p->null)
			memset(mem + r->off, 0, r->len);
		return 0;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		return 0;
	default:
		return -EINVAL;
	}
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

static int mem_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct mem_priv *p = e->priv;
	uint64_t lat;

	if (p->timed && p->heap_nr == p->heap_cap)
		return RAWIO_Q_BUSY;
	r->result = mem_transfer(e, r);
	if (!p->timed) {
		/* Null: nothing happened since the core stamped submit_ns worth a clock read. */
		r->complete_ns = p->null ? r->submit_ns : rawio_now_ns();
		fifo_push(&p->done, r);
		return RAWIO_Q_QUEUED;
	}
	lat = p->lat_ns;
	if (p->lat) {
		lat = p->lat[p->lat_next];
		p->lat_next = p->lat_next + 1 == p->lat_nr ? 0 : p->lat_next + 1;
	}
	/* The core stamps complete_ns when reap hands the request out. */
	mem_heap_push(p, r->submit_ns + lat, r);
	return RAWIO_Q_QUEUED;
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

static int mem_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct mem_priv *p = e->priv;
	unsigned n = 0;

	if (p->timed)
		return mem_reap_timed(e, out, min, max);
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
}

static void mem_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct mem_priv *p = e->priv;

	if (p->lat)
		snprintf(buf, len, "mem qd=%u null=%s lat=replay(%zu)", e->qd,
			 p->null ? "yes" : "no", p->lat_nr);
	else if (p->timed)
		snprintf(buf, len, "mem qd=%u null=%s lat=%lluns", e->qd, p->null ? "yes" : "no",
			 (unsigned long long)p->lat_ns);
	else
		snprintf(buf, len, "mem qd=%u null=%s", e->qd, p->null ? "yes" : "no");
}

const struct rawio_engine_ops rawio_engine_mem = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "mem",
	.caps = RAWIO_CAP_MEM | RAWIO_CAP_ASYNC | RAWIO_CAP_FUA,
	.priv_size = sizeof(struct mem_priv),
	.init = mem_init,
	.queue = mem_queue,
	.reap = mem_reap,
	.fini = mem_fini,
	.describe = mem_describe,
};
