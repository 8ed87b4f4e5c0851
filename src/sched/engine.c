// SPDX-License-Identifier: MIT
/*
 * The "sched" engine: a context whose requests go through one class of a
 * scheduler. Each context has its own completion queue (rawio_sched_cq), so
 * several threads, each with its own context, wait only for their own
 * requests while whichever of them drives the scheduler's engine completes
 * them all. The core above validates, times and completes partial transfers;
 * the scheduler's engine below does the same for what it is handed, so a
 * short transfer comes back here already as final as the engine below made it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <rawio/sched.h>

#include "engine/engine_impl.h"

struct sched_priv {
	struct rawio_sched_class *cls;
	struct rawio_sched *s;
	struct rawio_sched_cq cq;
	struct rawio_sched_req *slots; /* e->qd of them */
	struct rawio_sched_req **free_slots;
	struct rawio_sched_req **done; /* reap's scratch */
	unsigned nr_free;
};

static int sched_eng_init(struct rawio_engine *e, const struct rawio_engine_opts *o)
{
	struct sched_priv *p = e->priv;

	if (!o->sched_class)
		return -EINVAL;
	p->cls = o->sched_class;
	p->s = rawio_sched_class_sched(p->cls);
	p->slots = calloc(e->qd, sizeof(*p->slots));
	p->free_slots = calloc(e->qd, sizeof(*p->free_slots));
	p->done = calloc(e->qd, sizeof(*p->done));
	if (!p->slots || !p->free_slots || !p->done) {
		free(p->slots);
		free(p->free_slots);
		free(p->done);
		return -ENOMEM;
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
	ret = rawio_sched_submit_cq(p->s, p->cls, &p->cq, r);
	if (ret) {
		p->free_slots[p->nr_free++] = r;
		return ret;
	}
	return RAWIO_Q_QUEUED;
}

static int sched_eng_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min,
			  unsigned max)
{
	struct sched_priv *p = e->priv;
	int n;

	if (max > e->qd)
		max = e->qd;
	n = rawio_sched_reap_cq(p->s, &p->cq, p->done, min, max);
	for (int i = 0; i < n; i++) {
		struct rawio_sched_req *r = p->done[i];
		struct rawio_req *req = r->req.user_data;

		req->result = r->req.result;
		out[i] = req;
		p->free_slots[p->nr_free++] = r;
	}
	return n;
}

static void sched_eng_fini(struct rawio_engine *e)
{
	struct sched_priv *p = e->priv;

	free(p->slots);
	free(p->free_slots);
	free(p->done);
}

static void sched_eng_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct sched_priv *p = e->priv;

	snprintf(buf, len, "sched class %s qd=%u", rawio_sched_class_name(p->cls), e->qd);
}

const struct rawio_engine_ops rawio_engine_sched = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "sched",
	.caps = RAWIO_CAP_STACKED | RAWIO_CAP_ASYNC,
	.priv_size = sizeof(struct sched_priv),
	.init = sched_eng_init,
	.queue = sched_eng_queue,
	.reap = sched_eng_reap,
	.fini = sched_eng_fini,
	.describe = sched_eng_describe,
};
