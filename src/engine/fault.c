// SPDX-License-Identifier: MIT
/*
 * fault: stacks on another engine and fails the requests that touch
 * configured ranges with a chosen errno. The lower engine is driven through
 * its ops directly, not through the public API: the core above us already
 * validated, timed and tracks partial progress, and must stay the only one
 * doing so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

/* A short transfer: a smaller copy of the caller's request goes down instead. */
struct fault_shadow {
	struct rawio_req req;
	struct rawio_req *orig;
};

struct fault_priv {
	struct rawio_engine *lower;
	struct rawio_fault_range *ranges;
	uint32_t *hits; /* matches so far, per range */
	size_t nr_ranges;
	struct req_fifo failed;	      /* failed at queue time, handed out by reap */
	struct fault_shadow *shadows; /* qd of them */
	unsigned *free_shadows;
	unsigned nr_free_shadows;
	uint64_t nr_injected;
	struct rawio_fault_model *model; /* volatile cache model, shared; NULL: none */
	bool has_bitrot;
};

static int fault_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct fault_priv *p = e->priv;
	struct rawio_engine_opts lower_opts;
	const char *lower = opts->lower ? opts->lower : "sync";
	int ret;

	if (!strcmp(lower, "fault"))
		return -EINVAL;
	if (opts->nr_faults && !opts->faults)
		return -EINVAL;
	/* The lower's options may be an older, smaller struct: copy what it has. */
	lower_opts = *opts;
	if (opts->lower_opts) {
		size_t n = opts->lower_opts->size < sizeof(lower_opts) ? opts->lower_opts->size
								       : sizeof(lower_opts);

		memset(&lower_opts, 0, sizeof(lower_opts));
		memcpy(&lower_opts, opts->lower_opts, n);
		lower_opts.size = sizeof(lower_opts);
	}
	lower_opts.lower = NULL;
	lower_opts.faults = NULL;
	lower_opts.nr_faults = 0;
	lower_opts.fault_model = NULL;
	if (!lower_opts.queue_depth)
		lower_opts.queue_depth = e->qd;
	ret = rawio_engine_open(&p->lower, lower, e->dev, &lower_opts);
	if (ret)
		return ret;
	/* We pass requests straight down: never hold more than the lower takes. */
	if (e->qd > p->lower->qd)
		e->qd = p->lower->qd;
	p->shadows = calloc(e->qd, sizeof(*p->shadows));
	p->free_shadows = calloc(e->qd, sizeof(*p->free_shadows));
	if (!p->shadows || !p->free_shadows)
		goto err_nomem;
	for (unsigned i = 0; i < e->qd; i++)
		p->free_shadows[p->nr_free_shadows++] = i;
	if (opts->nr_faults) {
		p->ranges = calloc(opts->nr_faults, sizeof(*p->ranges));
		p->hits = calloc(opts->nr_faults, sizeof(*p->hits));
		if (!p->ranges || !p->hits)
			goto err_nomem;
		memcpy(p->ranges, opts->faults, opts->nr_faults * sizeof(*p->ranges));
		p->nr_ranges = opts->nr_faults;
		for (size_t i = 0; i < p->nr_ranges; i++)
			p->has_bitrot |= p->ranges[i].bitrot;
	}
	if (opts->fault_model) {
		ret = fault_model_attach(opts->fault_model, e->dev);
		if (ret)
			goto err_free;
		p->model = opts->fault_model;
	}
	return 0;

err_nomem:
	ret = -ENOMEM;
err_free:
	free(p->hits);
	free(p->ranges);
	free(p->free_shadows);
	free(p->shadows);
	rawio_engine_close(p->lower);
	return ret;
}

/* The range R falls into (counting the hit), or NULL. */
static const struct rawio_fault_range *fault_match(struct fault_priv *p, const struct rawio_req *r)
{
	uint64_t pos = req_pos(r), len = req_left(r);

	if (r->op != RAWIO_OP_READ && r->op != RAWIO_OP_WRITE && r->op != RAWIO_OP_DISCARD) {
		pos = 0;
		len = 0; /* whole-device operations: match ranges that name the op */
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct rawio_fault_range *f = &p->ranges[i];
		unsigned ops = f->ops ? f->ops : (1u << RAWIO_OP_READ) | (1u << RAWIO_OP_WRITE);
		bool overlap = len ? pos < f->off + f->len && f->off < pos + len : true;

		if (!(ops & (1u << r->op)) || !overlap || f->bitrot)
			continue;
		if (f->short_len && (f->short_len >= len || !len))
			continue; /* nothing to shorten */
		if (f->count && p->hits[i] >= f->count)
			continue;
		p->hits[i]++;
		return f;
	}
	return NULL;
}

/* Send down a copy of R that moves only SHORT_LEN bytes. */
static int fault_queue_short(struct rawio_engine *e, struct rawio_req *r, uint32_t short_len)
{
	struct fault_priv *p = e->priv;
	struct fault_shadow *sh;
	int q;

	if (!p->nr_free_shadows)
		return RAWIO_Q_BUSY;
	sh = &p->shadows[p->free_shadows[--p->nr_free_shadows]];
	sh->orig = r;
	sh->req = (struct rawio_req){
		.op = r->op,
		.flags = r->flags,
		.buf = req_data(r),
		.len = short_len,
		.off = req_pos(r),
		.core_flags = r->core_flags,
	};
	q = p->lower->ops->queue(p->lower, &sh->req);
	if (q != RAWIO_Q_QUEUED)
		p->free_shadows[p->nr_free_shadows++] = (unsigned)(sh - p->shadows);
	if (q == RAWIO_Q_DONE)
		r->result = sh->req.result;
	return q;
}

/* Flip one bit of a successful read in every bitrot range it returned bytes of. */
static void fault_bitrot(const struct fault_priv *p, struct rawio_req *r)
{
	uint64_t pos = req_pos(r), n;

	if (r->op != RAWIO_OP_READ || r->result <= 0)
		return;
	n = (uint64_t)r->result;
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct rawio_fault_range *f = &p->ranges[i];
		uint64_t lo = f->off > pos ? f->off : pos;
		uint64_t hi = f->off + f->len < pos + n ? f->off + f->len : pos + n;
		uint64_t h;

		if (!f->bitrot || lo >= hi)
			continue;
		/* Which bit depends only on where: the same read rots the same way. */
		h = (lo ^ (i << 48)) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
		((unsigned char *)req_data(r))[lo - pos + h % (hi - lo)] ^=
			(unsigned char)(1u << (h >> 61));
	}
}

static int fault_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct fault_priv *p = e->priv;
	const struct rawio_fault_range *f = fault_match(p, r);

	if (!f && p->model) {
		r->result = fault_model_io(p->model, e->dev, r);
		if (p->has_bitrot)
			fault_bitrot(p, r);
		return RAWIO_Q_DONE;
	}
	if (!f) {
		int q = p->lower->ops->queue(p->lower, r);

		/* Completed inline (sync, mem): it will not pass through fault_reap. */
		if (q == RAWIO_Q_DONE && p->has_bitrot)
			fault_bitrot(p, r);
		return q;
	}
	p->nr_injected++;
	if (f->short_len && p->model) {
		/* A short transfer through the volatile cache, like any other write. */
		struct rawio_req part = { .op = r->op,
					  .flags = r->flags,
					  .buf = req_data(r),
					  .len = f->short_len,
					  .off = req_pos(r),
					  .core_flags = r->core_flags };

		r->result = fault_model_io(p->model, e->dev, &part);
		return RAWIO_Q_DONE;
	}
	if (f->short_len)
		return fault_queue_short(e, r, f->short_len);
	r->result = -(f->err ? f->err : EIO);
	r->complete_ns = rawio_now_ns();
	fifo_push(&p->failed, r);
	return RAWIO_Q_QUEUED;
}

static int fault_commit(struct rawio_engine *e)
{
	struct fault_priv *p = e->priv;

	return p->lower->ops->commit ? p->lower->ops->commit(p->lower) : 0;
}

static int fault_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct fault_priv *p = e->priv;
	unsigned n = 0;
	int got;

	while (n < max && p->failed.head)
		out[n++] = fifo_pop(&p->failed);
	if (n == max)
		return (int)n;
	/* What is not on our list is in the lower engine. */
	got = p->lower->ops->reap(p->lower, out + n, n >= min ? 0 : min - n, max - n);
	if (got < 0)
		return n ? (int)n : got;
	for (int i = 0; i < got; i++) {
		struct rawio_req *r = out[n + i];
		struct fault_shadow *sh = (struct fault_shadow *)r;

		if (sh < p->shadows || sh >= p->shadows + e->qd)
			continue;
		sh->orig->result = sh->req.result;
		sh->orig->complete_ns = sh->req.complete_ns;
		out[n + i] = sh->orig;
		p->free_shadows[p->nr_free_shadows++] = (unsigned)(sh - p->shadows);
	}
	if (p->has_bitrot)
		for (int i = 0; i < got; i++)
			fault_bitrot(p, out[n + i]);
	return (int)n + got;
}

static void fault_fini(struct rawio_engine *e)
{
	struct fault_priv *p = e->priv;

	/* The core above drained everything through fault_reap, and the lower
	 * core never counted anything in flight: this close does not wait. */
	if (p->model)
		fault_model_detach(p->model, e->dev);
	rawio_engine_close(p->lower);
	free(p->hits);
	free(p->ranges);
	free(p->free_shadows);
	free(p->shadows);
}

static void fault_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct fault_priv *p = e->priv;
	char lower[200];

	rawio_engine_describe(p->lower, lower, sizeof(lower));
	snprintf(buf, len, "fault ranges=%zu injected=%llu over [%s]", p->nr_ranges,
		 (unsigned long long)p->nr_injected, lower);
}

const struct rawio_engine_ops rawio_engine_fault = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "fault",
	.caps = RAWIO_CAP_STACKED | RAWIO_CAP_ASYNC,
	.priv_size = sizeof(struct fault_priv),
	.init = fault_init,
	.queue = fault_queue,
	.commit = fault_commit,
	.reap = fault_reap,
	.fini = fault_fini,
	.describe = fault_describe,
};
