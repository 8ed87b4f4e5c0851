// SPDX-License-Identifier: MIT
/*
 * Thread-safety: four threads submit into their own classes and reap
 * whatever comes back, while a fifth changes shares and makes classes; every
 * request comes back exactly once, with its result.
 */
#include <pthread.h>

#include "sched_test.h"

#define THREADS 4u
#define PER	3000u

struct worker {
	struct st_env *t;
	struct rawio_sched_class *c;
	unsigned id;
	unsigned *seen; /* per request: times reaped (atomics) */
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rawio_sched_req *out[32];
	unsigned sent = 0;

	while (sent < PER) {
		for (unsigned k = 0; k < 8 && sent < PER; k++, sent++) {
			if (rawio_sched_submit(w->t->s, w->c, &w->t->reqs[w->id * PER + sent])) {
				w->err = 1;
				return NULL;
			}
		}
		int n = rawio_sched_reap(w->t->s, out, 0, 32);

		for (int i = 0; i < n; i++)
			__atomic_add_fetch(&w->seen[(uintptr_t)out[i]->req.user_data], 1,
					   __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	struct rawio_io_props p = st_props(1000000, 4096000000000ull);
	struct rawio_sched_req *out[64];
	struct worker w[THREADS];
	pthread_t th[THREADS];
	static unsigned seen[THREADS * PER];
	struct st_env t;
	unsigned total = 0;

	CHECK_OK(st_open(&t, 64 << 20, 16, 2000, &p, 0, THREADS * PER, 4096));
	for (unsigned i = 0; i < THREADS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "w%u", i);
		w[i] = (struct worker){ .t = &t, .id = i, .seen = seen };
		CHECK_OK(rawio_sched_class_new(t.s, name, 100 * (i + 1), &w[i].c));
		CHECK(!pthread_create(&th[i], NULL, worker_main, &w[i]), "thread");
	}
	for (unsigned k = 0; k < 50; k++) {
		struct rawio_sched_class *extra;

		CHECK_OK(rawio_sched_class_set_shares(w[k % THREADS].c, 1 + k * 37 % 1000));
		CHECK_OK(rawio_sched_class_new(t.s, "extra", 1 + k, &extra));
		usleep(1000);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(!w[i].err, "worker %u failed to submit", i);
	}
	while (rawio_sched_pending(t.s)) {
		int n = rawio_sched_reap(t.s, out, 1, 64);

		CHECK(n > 0, "reap %d", n);
		for (int i = 0; i < n; i++)
			seen[(uintptr_t)out[i]->req.user_data]++;
	}
	for (unsigned i = 0; i < THREADS * PER; i++) {
		CHECK(seen[i] == 1, "request %u came back %u times", i, seen[i]);
		CHECK(t.reqs[i].req.result == 4096, "request %u: %lld", i,
		      (long long)t.reqs[i].req.result);
		total++;
	}
	CHECK(total == THREADS * PER, "total %u", total);
	st_close(&t);
	return T_PASS;
}
