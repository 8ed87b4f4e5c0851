// SPDX-License-Identifier: MIT
/*
 * mem: a RAM device (like null_blk with memory backing). queue() copies the
 * data and parks the request on the context's completion list; reap() hands
 * it back. Several contexts may drive one RAM device from several threads,
 * as they would a disk: overlapping writes race as they would there.
 */
#include <string.h>

#include "engine_impl.h"

struct mem_priv {
	struct req_fifo done;
};

static int mem_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	return rawio_dev_mem(e->dev) ? 0 : -EINVAL;
}

static int64_t mem_transfer(struct rawio_engine *e, struct rawio_req *r)
{
	char *mem = rawio_dev_mem(e->dev);
	uint64_t size = e->info->size, pos = req_pos(r), n = req_left(r);

	switch (r->op) {
	case RAWIO_OP_READ:
		if (pos >= size)
			return 0;
		if (n > size - pos)
			n = size - pos;
		memcpy(req_data(r), mem + pos, n);
		return (int64_t)n;
	case RAWIO_OP_WRITE:
		if (pos >= size)
			return -ENOSPC;
		if (n > size - pos)
			n = size - pos;
		memcpy(mem + pos, req_data(r), n);
		return (int64_t)n;
	case RAWIO_OP_DISCARD:
		if (r->off >= size || r->len > size - r->off)
			return -EINVAL;
		memset(mem + r->off, 0, r->len);
		return 0;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		return 0;
	default:
		return -EINVAL;
	}
}

static int mem_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct mem_priv *p = e->priv;

	r->result = mem_transfer(e, r);
	r->complete_ns = rawio_now_ns();
	fifo_push(&p->done, r);
	return RAWIO_Q_QUEUED;
}

static int mem_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct mem_priv *p = e->priv;
	unsigned n = 0;

	while (n < max && p->done.head)
		out[n++] = fifo_pop(&p->done);
	e->st.user_reaps += n;
	return (int)n;
}

static void mem_fini(struct rawio_engine *e)
{
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
};
