// SPDX-License-Identifier: MIT
/*
 * Group commit. Writers doing write + FLUSH in a loop, on a cache device
 * emulated as an SSD (its flush costs 100 us):
 *   - one writer: a flush never waits for the deadline (nobody else could
 *     join), so the deadline costs nothing at QD 1;
 *   - eight writers: with the deadline on, barriers share segments, and use
 *     fewer segments per flush than with it off (one segment per flush,
 *     dm-writeboost's way);
 *   - every flush is durable: the cache device was flushed after the segment.
 */
#include <pthread.h>

#include <rawio/engine.h>

#include "cache_test.h"

#define CACHE_SZ   (64u << 20)
#define BACKING_SZ (16u << 20)

struct writer {
	struct rawio_cache *c;
	unsigned id;
	uint64_t end_ns, ops;
	int err;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t rng = w->id + 1;
	char buf[4096];

	memset(buf, (int)w->id, sizeof(buf));
	while (rawio_now_ns() < w->end_ns) {
		uint64_t b = rng_below(&rng, BACKING_SZ / 4096);
		int ret = rawio_cache_write(w->c, buf, sizeof(buf), b * 4096, 0);

		if (!ret)
			ret = rawio_cache_flush(w->c);
		if (ret) {
			w->err = ret;
			break;
		}
		w->ops++;
	}
	return NULL;
}

/* Run N writers for SECS with DEADLINE_US; segments per flush. */
static int run(struct t_cache *t, unsigned n, uint32_t deadline_us, double secs, double *per_flush,
	       double *iops, struct rawio_cache_stat *st)
{
	struct writer w[8];
	pthread_t tid[8];
	uint64_t ops = 0, t0 = rawio_now_ns();

	CHECK_OK(rawio_cache_tunable_set(t->c, "barrier_deadline_us", deadline_us));
	rawio_cache_stat(t->c, st);
	{
		uint64_t seg0 = st->segments_flushed;

		for (unsigned i = 0; i < n; i++) {
			w[i] = (struct writer){ .c = t->c,
						.id = i,
						.end_ns = t0 + (uint64_t)(secs * 1e9) };
			pthread_create(&tid[i], NULL, writer_main, &w[i]);
		}
		for (unsigned i = 0; i < n; i++) {
			pthread_join(tid[i], NULL);
			CHECK(!w[i].err, "writer %u: %s", i, rawio_strerror(w[i].err));
			ops += w[i].ops;
		}
		rawio_cache_stat(t->c, st);
		*per_flush = (double)(st->segments_flushed - seg0) / (double)ops;
		*iops = (double)ops / ((double)(rawio_now_ns() - t0) / 1e9);
	}
	return T_PASS;
}

int main(void)
{
	struct rawio_throttle_params p;
	struct rawio_throttle *thr;
	struct rawio_engine_opts eo = { .size = sizeof(eo), .lower = "mem" };
	struct rawio_cache_stat st;
	struct t_cache t;
	double off8, on8, off1, on1, iops_off1, iops_on1, iops_off8, iops_on8;
	uint64_t deadline_seals;

	CHECK_OK(rawio_throttle_parse("ssd", &p));
	CHECK_OK(rawio_throttle_new(&thr, &p));
	eo.throttle = thr;
	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, 0));
	CHECK_OK(rawio_cache_close(t.c));
	t.c = NULL;
	t.o.cache_engine = "throttle";
	t.o.cache_engine_opts = &eo;
	CHECK_OK(t_cache_reopen(&t));

	CHECK(run(&t, 1, 0, 0.4, &off1, &iops_off1, &st) == T_PASS, "1 writer, deadline off");
	deadline_seals = st.barrier_deadline_seals;
	CHECK(run(&t, 1, 3000, 0.4, &on1, &iops_on1, &st) == T_PASS, "1 writer, deadline on");
	CHECK(st.barrier_deadline_seals == deadline_seals,
	      "one writer never waits for the deadline (%llu deadline seals)",
	      (unsigned long long)(st.barrier_deadline_seals - deadline_seals));
	CHECK(run(&t, 8, 0, 0.6, &off8, &iops_off8, &st) == T_PASS, "8 writers, deadline off");
	CHECK(run(&t, 8, 3000, 0.6, &on8, &iops_on8, &st) == T_PASS, "8 writers, deadline on");
	printf("segments per flush: 1 writer %.3f (off) %.3f (on); 8 writers %.3f (off) %.3f (on)\n"
	       "write+flush/s:      1 writer %.0f (off) %.0f (on); 8 writers %.0f (off) %.0f "
	       "(on)\n",
	       off1, on1, off8, on8, iops_off1, iops_on1, iops_off8, iops_on8);
	CHECK(off1 > 0.9 && on1 > 0.9, "one writer: a segment per flush either way");
	CHECK(on8 < 0.6 * off8, "group commit shares segments: %.3f vs %.3f per flush", on8, off8);
	CHECK(st.cache_flushes <= st.barriers, "no more device flushes than barriers");
	t_cache_done(&t);
	rawio_throttle_free(thr);
	return T_PASS;
}
