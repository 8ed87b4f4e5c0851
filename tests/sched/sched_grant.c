// SPDX-License-Identifier: MIT
/*
 * Grant order under contention: two contexts, each reaped by its own thread,
 * submit into classes with shares 100 and 300 while the in-flight bound lets
 * one request out at a time. Every grant is made when the previous request
 * completes, in WFQ order across the contexts: while both are backlogged the
 * 300-share class gets exactly three grants of every four (by the grant
 * sequence numbers), and each class's requests are granted in the order they
 * were submitted.
 */
#include <pthread.h>

#include "sched_test.h"

#define PER 200u

struct side {
	struct rawio_sched_ctx *x;
	struct rawio_sched_req *reqs;
	int err;
};

static void *side_main(void *arg)
{
	struct side *d = arg;
	struct rawio_sched_req *out[8];
	unsigned got = 0;

	while (got < PER) {
		int n = rawio_sched_ctx_reap(d->x, out, 1, 8);

		if (n <= 0) {
			d->err = n ? n : -EIO;
			return NULL;
		}
		got += (unsigned)n;
	}
	return NULL;
}

int main(void)
{
	struct rawio_io_props p = st_props(100000, 1ull << 50); /* 10 us a request */
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 8, .mem_lat_ns = 20000 };
	struct rawio_sched_class *cls[2];
	struct rawio_engine *e[2];
	struct side d[2];
	pthread_t th[2];
	struct st_env t;
	unsigned by_seq[2 * PER + 1];
	unsigned b_first = 0;

	CHECK_OK(st_open(&t, 64 << 20, 8, 0, &p, 10000, 2 * PER, 4096));
	CHECK_OK(rawio_sched_class_new(t.s, "a", 100, &cls[0]));
	CHECK_OK(rawio_sched_class_new(t.s, "b", 300, &cls[1]));
	for (unsigned k = 0; k < 2; k++) {
		d[k] = (struct side){ .reqs = t.reqs + k * PER };
		CHECK_OK(rawio_engine_open(&e[k], "mem", t.dev, &eo));
		CHECK_OK(rawio_sched_ctx_new(t.s, e[k], &d[k].x));
	}
	/* Both backlogged before anything completes (one request granted at once). */
	for (unsigned i = 0; i < PER; i++)
		for (unsigned k = 0; k < 2; k++)
			CHECK_OK(rawio_sched_ctx_submit(d[k].x, cls[k], &d[k].reqs[i]));
	for (unsigned k = 0; k < 2; k++)
		CHECK(!pthread_create(&th[k], NULL, side_main, &d[k]), "thread");
	for (unsigned k = 0; k < 2; k++) {
		pthread_join(th[k], NULL);
		CHECK(!d[k].err, "side %u: %d", k, d[k].err);
	}
	memset(by_seq, 0xff, sizeof(by_seq));
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < PER; i++) {
			const struct rawio_sched_req *r = &d[k].reqs[i];

			CHECK(r->req.result == 4096, "side %u req %u: %lld", k, i,
			      (long long)r->req.result);
			CHECK(r->seq >= 1 && r->seq <= 2 * PER && by_seq[r->seq] == ~0u,
			      "side %u req %u: seq %llu", k, i, (unsigned long long)r->seq);
			by_seq[r->seq] = k;
			CHECK(!i || r->seq > d[k].reqs[i - 1].seq, "side %u: req %u granted early",
			      k, i);
		}
	}
	/* The first grant went at submission (a's first); then b:a = 3:1 while a lasts. */
	for (unsigned s = 2; s <= 2 + 4 * 40 - 1; s++)
		b_first += by_seq[s];
	CHECK(b_first >= 119 && b_first <= 121, "b got %u of grants 2..161 (expected 120)",
	      b_first);
	for (unsigned k = 0; k < 2; k++) {
		rawio_sched_ctx_free(d[k].x);
		rawio_engine_close(e[k]);
	}
	st_close(&t);
	return T_PASS;
}
