// SPDX-License-Identifier: MIT
/*
 * The "sched" engine: a context whose requests go through one class of a
 * scheduler. Each context is a rawio_sched_ctx over an engine context of its
 * own on the same device, so the thread that uses it submits and reaps its own
 * requests (the scheduler only grants them): one wake-up per completion, as
 * without a scheduler. The core above validates, times and completes partial
 * transfers; the engine below does the same for what it is handed, so a short
 * transfer comes back here already as final as the engine below made it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <rawio/sched.h>

#include "engine/engine_impl.h"

struct sched_priv {
	struct rawio_sched_class *cls;
	struct rawio_sched *s;
	struct rawio_engine *inner;
	struct rawio_sched_ctx *ctx;
	struct rawio_sched_req *slots; /* e->qd of them */
	struct rawio_sched_req **free_slots;
	struct rawio_sched_req **done; /* reap's scratch */
	unsigned nr_free;
};

static void sched_eng_fini(struct rawio_engine *e)
{
	struct sched_priv *p = e->priv;

	rawio_sched_ctx_free(p->ctx);
	rawio_engine_close(p->inner);
	free(p->slots);
	free(p->free_slots);
	free(p->done);
}

static int sched_eng_init(struct rawio_engine *e, const struct rawio_engine_opts *o)
{
	struct sched_priv *p = e->priv;
	int ret;

	if (!o->sched_class)
		return -EINVAL;
	p->cls = o->sched_class;
	p->s = rawio_sched_class_sched(p->cls);
	p->slots = calloc(e->qd, sizeof(*p->slots));
	p->free_slots = calloc(e->qd, sizeof(*p->free_slots));
	p->done = calloc(e->qd, sizeof(*p->done));
	ret = p->slots && p->free_slots && p->done ? 0 : -ENOMEM;
	if (!ret)
		ret = rawio_sched_ctx_engine_open(p->s, e->dev, e->qd, &p->inner);
	if (!ret)
		ret = rawio_sched_ctx_new(p->s, p->inner, &p->ctx);
	if (ret) {
		sched_eng_fini(e);
		return ret;
	}
	for (unsigned i = 0; i < e->qd; i++)
		p->free_slots[p->nr_free++] = &p->slots[i];
	return 0;
}

static int sched_eng_queue(struct rawio_engine *e, struct rawio_req *req)
{
	struct sched_priv *p = e->priv;
	struct rawio_sched_req *r;
	int ret;

	if (!p->nr_free)
		return RAWIO_Q_BUSY;
	r = p->free_slots[--p->nr_free];
	r->req = (struct rawio_req){ .op = req->op,
				     .flags = req->flags,
				     .buf = req->buf,
				     .len = req->len,
				     .off = req->off,
				     .user_data = req };
	ret = rawio_sched_ctx_submit(p->ctx, p->cls, r);
	if (ret) {
		p->free_slots[p->nr_free++] = r;
		return ret;
	}
	return RAWIO_Q_QUEUED;
}

static int sched_eng_commit(struct rawio_engine *e)
{
	struct sched_priv *p = e->priv;

	return rawio_sched_ctx_commit(p->ctx);
}

static int sched_eng_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min,
			  unsigned max)
{
	struct sched_priv *p = e->priv;
	int n;

	if (max > e->qd)
		max = e->qd;
	n = rawio_sched_ctx_reap(p->ctx, p->done, min, max);
	for (int i = 0; i < n; i++) {
		struct rawio_sched_req *r = p->done[i];
		struct rawio_req *req = r->req.user_data;

		req->result = r->req.result;
		out[i] = req;
		p->free_slots[p->nr_free++] = r;
	}
	return n;
}

static void sched_eng_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct sched_priv *p = e->priv;

	snprintf(buf, len, "sched class %s over %s qd=%u", rawio_sched_class_name(p->cls),
		 rawio_engine_name(p->inner), e->qd);
}

const struct rawio_engine_ops rawio_engine_sched = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "sched",
	.caps = RAWIO_CAP_STACKED | RAWIO_CAP_ASYNC,
	.priv_size = sizeof(struct sched_priv),
	.init = sched_eng_init,
	.queue = sched_eng_queue,
	.commit = sched_eng_commit,
	.reap = sched_eng_reap,
	.fini = sched_eng_fini,
	.describe = sched_eng_describe,
};
