// SPDX-License-Identifier: MIT
/*
 * Several threads, each with its own context (its own engine on one mem
 * device) in its own class, submit and reap their own requests while the main
 * thread changes shares and makes classes: every request comes back exactly
 * once, with its result, to the context that submitted it; and the disk time
 * granted at once (each request from its grant to its completion, swept over
 * all threads) never exceeds the in-flight bound, nor the count the depth.
 */
#include <pthread.h>

#include "sched_test.h"

#define THREADS	 4u
#define PER	 1500u
#define QD	 16u
#define COST_NS	 10000u /* 100K IOPS, transfers (next to) free */
#define GOAL_NS	 50000u /* five requests at once */
#define SCHED_QD 8u

struct worker {
	struct st_env *t;
	struct rawio_engine *e;
	struct rawio_sched_ctx *x;
	struct rawio_sched_class *c;
	unsigned id;
	unsigned *seen; /* per request: times reaped (atomics) */
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rawio_sched_req *out[QD];
	unsigned sent = 0, got = 0;

	while (got < PER) {
		while (sent < PER && sent - got < QD) {
			if (rawio_sched_ctx_submit(w->x, w->c, &w->t->reqs[w->id * PER + sent++])) {
				w->err = 1;
				return NULL;
			}
		}
		int n = rawio_sched_ctx_reap(w->x, out, 1 + (sent - got) / 2, QD);

		if (n <= 0) {
			w->err = 2;
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uintptr_t k = (uintptr_t)out[i]->req.user_data;

			if (k / PER != w->id)
				w->err = 3; /* another context's request */
			__atomic_add_fetch(&w->seen[k], 1, __ATOMIC_RELAXED);
		}
		got += (unsigned)n;
	}
	return NULL;
}

struct edge {
	uint64_t at;
	int start; /* 1 start, 0 end: ends first at equal times */
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->start - y->start;
}

/* The most requests at once between grant and completion (each costs COST_NS). */
static unsigned most_at_once(const struct st_env *t)
{
	struct edge *ev = calloc(2 * (size_t)t->nr, sizeof(*ev));
	unsigned cur = 0, most = 0;

	if (!ev)
		return ~0u;
	for (unsigned i = 0; i < t->nr; i++) {
		const struct rawio_sched_req *r = &t->reqs[i];

		ev[2 * i] = (struct edge){ r->req.submit_ns + r->queued_ns, 1 };
		ev[2 * i + 1] = (struct edge){ r->req.complete_ns, 0 };
	}
	qsort(ev, 2 * (size_t)t->nr, sizeof(*ev), edge_cmp);
	for (unsigned i = 0; i < 2 * t->nr; i++) {
		cur = ev[i].start ? cur + 1 : cur - 1;
		if (cur > most)
			most = cur;
	}
	free(ev);
	return most;
}

int main(void)
{
	struct rawio_io_props p = st_props(1000000000ull / COST_NS, 1ull << 50);
	struct rawio_engine_opts eo = { .size = sizeof(eo),
					.queue_depth = QD,
					.mem_lat_ns = 30000 };
	struct rawio_sched_stat st;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	static unsigned seen[THREADS * PER];
	struct st_env t;
	unsigned most;

	CHECK_OK(st_open(&t, 64 << 20, SCHED_QD, 0, &p, GOAL_NS, THREADS * PER, 4096));
	CHECK(rawio_io_props_cost_ns(&p, RAWIO_OP_READ, 4096) == COST_NS, "cost");
	for (unsigned i = 0; i < THREADS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "w%u", i);
		w[i] = (struct worker){ .t = &t, .id = i, .seen = seen };
		CHECK_OK(rawio_engine_open(&w[i].e, "mem", t.dev, &eo));
		CHECK_OK(rawio_sched_ctx_new(t.s, w[i].e, &w[i].x));
		CHECK_OK(rawio_sched_class_new(t.s, name, 100 * (i + 1), &w[i].c));
	}
	for (unsigned i = 0; i < THREADS; i++)
		CHECK(!pthread_create(&th[i], NULL, worker_main, &w[i]), "thread");
	for (unsigned k = 0; k < 50; k++) {
		struct rawio_sched_class *extra;

		CHECK_OK(rawio_sched_class_set_shares(w[k % THREADS].c, 1 + k * 37 % 1000));
		CHECK_OK(rawio_sched_class_new(t.s, "extra", 1 + k, &extra));
		usleep(1000);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(!w[i].err, "worker %u failed (%d)", i, w[i].err);
		CHECK(rawio_sched_ctx_pending(w[i].x) == 0, "worker %u: requests left", i);
	}
	for (unsigned i = 0; i < THREADS * PER; i++) {
		CHECK(seen[i] == 1, "request %u came back %u times", i, seen[i]);
		CHECK(t.reqs[i].req.result == 4096, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
	}
	rawio_sched_stat(t.s, &st);
	most = most_at_once(&t);
	CHECK(most * COST_NS <= GOAL_NS, "%u requests (%u ns of disk time) at once, bound %u ns",
	      most, most * COST_NS, GOAL_NS);
	CHECK(most <= SCHED_QD, "%u at once, depth %u", most, SCHED_QD);
	CHECK(st.max_inflight_cost_ns <= GOAL_NS, "scheduler counted %llu ns in flight",
	      (unsigned long long)st.max_inflight_cost_ns);
	CHECK(st.contexts == THREADS, "%u contexts", st.contexts);
	for (unsigned i = 0; i < THREADS; i++) {
		rawio_sched_ctx_free(w[i].x);
		rawio_engine_close(w[i].e);
	}
	st_close(&t);
	return T_PASS;
}
