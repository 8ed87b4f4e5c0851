/* SPDX-License-Identifier: MIT */
/* Shared setup for the scheduler tests: a RAM device with a fixed latency under a scheduler. */
#ifndef RAWIO_SCHED_TEST_H
#define RAWIO_SCHED_TEST_H

#include <stdlib.h>

#include <rawio/rawio.h>
#include <rawio/sched.h>

#include "harness.h"

struct st_env {
	struct rawio_dev *dev;
	struct rawio_engine *e;
	struct rawio_sched *s;
	char *buf; /* one 4 KiB buffer per request slot, NR of them */
	struct rawio_sched_req *reqs;
	unsigned nr;
};

/* A mem device of SIZE bytes, engine qd QD and latency LAT_NS, scheduler with PROPS (may be
 * NULL) and GOAL_NS; NR requests of BS bytes each with its own buffer. 0 or -errno. */
static inline int st_open(struct st_env *t, uint64_t size, unsigned qd, uint64_t lat_ns,
			  const struct rawio_io_props *props, uint64_t goal_ns, unsigned nr,
			  size_t bs)
{
	struct rawio_engine_opts eo = { .size = sizeof(eo),
					.queue_depth = qd,
					.mem_lat_ns = lat_ns };
	struct rawio_sched_opts so = { .size = sizeof(so),
				       .props = props,
				       .latency_goal_ns = goal_ns };
	int ret;

	memset(t, 0, sizeof(*t));
	ret = rawio_dev_open_mem(&t->dev, size, 512);
	if (!ret)
		ret = rawio_engine_open(&t->e, "mem", t->dev, &eo);
	if (!ret)
		ret = rawio_sched_new(&t->s, t->e, &so);
	if (ret)
		return ret;
	t->nr = nr;
	t->reqs = calloc(nr, sizeof(*t->reqs));
	if (posix_memalign((void **)&t->buf, 4096, (size_t)nr * bs) || !t->reqs)
		return -ENOMEM;
	for (unsigned i = 0; i < nr; i++) {
		t->reqs[i].req.op = RAWIO_OP_READ;
		t->reqs[i].req.buf = t->buf + (size_t)i * bs;
		t->reqs[i].req.len = bs;
		t->reqs[i].req.off = ((uint64_t)i * bs) % size;
		t->reqs[i].req.user_data = (void *)(uintptr_t)i;
	}
	return 0;
}

/* Reap until nothing is pending; count what came back. -errno on a reap error. */
static inline long st_drain(struct st_env *t)
{
	struct rawio_sched_req *out[64];
	long got = 0;

	while (rawio_sched_pending(t->s)) {
		int n = rawio_sched_reap(t->s, out, 1, 64);

		if (n < 0)
			return n;
		got += n;
	}
	return got;
}

static inline void st_close(struct st_env *t)
{
	rawio_sched_free(t->s);
	rawio_engine_close(t->e);
	rawio_dev_close(t->dev);
	free(t->buf);
	free(t->reqs);
}

/* A disk of IOPS requests/s and BW bytes/s each way. */
static inline struct rawio_io_props st_props(uint64_t iops, uint64_t bw)
{
	struct rawio_io_props p = {
		.read_iops = iops, .read_bandwidth = bw, .write_iops = iops, .write_bandwidth = bw
	};

	snprintf(p.mountpoint, sizeof(p.mountpoint), "mem");
	return p;
}

#endif
