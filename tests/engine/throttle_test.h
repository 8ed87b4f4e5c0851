/* SPDX-License-Identifier: MIT */
/*
 * Shared by the throttle engine's tests: a RAM device and a driver that runs
 * N requests through a throttle engine at a queue depth and times them.
 */
#ifndef RAWIO_TESTS_THROTTLE_TEST_H
#define RAWIO_TESTS_THROTTLE_TEST_H

#include <rawio/engine.h>

#include "harness.h"

#define DEV_SZ (64u << 20)

static struct rawio_dev *dev;

/*
 * N requests of LEN bytes (op OP) at QD, sequential or scattered: seconds
 * taken, -1 when one failed, -2 when one never came back.
 */
static inline double run(struct rawio_throttle *t, int op, unsigned n, uint64_t len, unsigned qd,
			 bool seq)
{
	struct rawio_engine_opts o = { .size = sizeof(o), .queue_depth = qd, .throttle = t };
	struct rawio_req *reqs = calloc(n, sizeof(*reqs)), *done[64];
	struct rawio_engine *e;
	char *buf = rawio_buf_alloc(len, 4096);
	uint64_t t0, seen = 0;
	unsigned next = 0;
	double secs = -1;

	if (!reqs || !buf || rawio_engine_open(&e, "throttle", dev, &o))
		goto out;
	t0 = rawio_now_ns();
	while (seen < n) {
		int got;

		while (next < n) {
			struct rawio_req *r = &reqs[next];
			int q;

			*r = (struct rawio_req){
				.op = (uint8_t)op,
				.buf = buf,
				.len = len,
				.off = seq ? next * len : (next * 7919ull % (DEV_SZ / len)) * len
			};
			if (op == RAWIO_OP_FDATASYNC)
				r->buf = NULL, r->len = 0, r->off = 0;
			q = rawio_engine_queue(e, r);
			if (q == RAWIO_Q_BUSY)
				break;
			next++;
			if (q == RAWIO_Q_DONE)
				seen++;
		}
		got = rawio_engine_reap(e, done, 1, 64);
		if (got < 0)
			break;
		for (int i = 0; i < got; i++) {
			if (done[i]->result != (int64_t)done[i]->len)
				goto close;
			done[i]->user_data = (void *)1; /* came back */
		}
		seen += (uint64_t)got;
	}
	secs = (double)(rawio_now_ns() - t0) / 1e9;
	for (unsigned i = 0; i < n; i++)
		if (reqs[i].user_data != (void *)1)
			secs = -2; /* lost */
close:
	rawio_engine_close(e);
out:
	rawio_buf_free(buf);
	free(reqs);
	return secs;
}

#endif
