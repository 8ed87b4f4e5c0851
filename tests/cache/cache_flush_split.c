// SPDX-License-Identifier: MIT
/*
 * A flush's time split, and barriers that wait without the cache's lock.
 * Eight writers do 4 KiB write + FLUSH on a cache device emulated as an SSD
 * (its flush costs 100 us), one commit in flight (commit_qd 1):
 *   - every flush succeeds;
 *   - barriers share segments (fewer seals than flushes): those that arrive
 *     during a commit sleep without the lock and are woken to seal when it
 *     finishes;
 *   - the split (lock, queue, commit, wake-up) is timed for some flushes and
 *     no more than there were, and it adds up to no more than the writers'
 *     own clocks say their flushes took.
 * That a barrier woken without the lock never returns before its write is
 * durable: cache_group_commit's durability case, cache_flush_threads and
 * cache_crash run through the same wait.
 */
#include <pthread.h>

#include <rawio/engine.h>

#include "cache_test.h"

#define CACHE_SZ   (64u << 20)
#define BACKING_SZ (16u << 20)
#define WRITERS	   8
#define BLOCKS	   32 /* per writer, its own range */
#define OPS	   300

struct writer {
	struct rawio_cache *c;
	unsigned id;
	uint64_t flush_ns; /* summed over its flushes, by its own clock */
	int err;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t buf[4096 / 8];

	for (uint32_t k = 1; k <= OPS; k++) {
		unsigned b = k % BLOCKS;
		uint64_t t0;
		int ret;

		t_block_tag(buf, w->id, b, k);
		ret = rawio_cache_write(w->c, buf, sizeof(buf),
					((uint64_t)w->id * BLOCKS + b) * 4096, 0);
		t0 = rawio_now_ns();
		if (!ret)
			ret = rawio_cache_flush(w->c);
		w->flush_ns += rawio_now_ns() - t0;
		if (ret) {
			w->err = ret;
			break;
		}
	}
	return NULL;
}

static int run_writers(struct rawio_cache *c, struct writer *w, uint64_t *flush_ns)
{
	pthread_t tid[WRITERS];

	*flush_ns = 0;
	for (unsigned i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .c = c, .id = i };
		CHECK(!pthread_create(&tid[i], NULL, writer_main, &w[i]), "pthread_create");
	}
	for (unsigned i = 0; i < WRITERS; i++) {
		pthread_join(tid[i], NULL);
		CHECK(!w[i].err, "writer %u: %s", i, rawio_strerror(w[i].err));
		*flush_ns += w[i].flush_ns;
	}
	return T_PASS;
}

static int split(struct t_cache *t)
{
	struct rawio_throttle_params p;
	struct rawio_throttle *thr;
	struct rawio_engine_opts eo = { .size = sizeof(eo), .lower = "mem" };
	struct writer w[WRITERS];
	struct rawio_cache_stat st;
	uint64_t flush_ns, sum;

	CHECK_OK(rawio_throttle_parse("ssd", &p));
	CHECK_OK(rawio_throttle_new(&thr, &p));
	eo.throttle = thr;
	t->o.cache_engine = "throttle";
	t->o.cache_engine_opts = &eo;
	CHECK_OK(t_cache_reopen(t));
	CHECK(run_writers(t->c, w, &flush_ns) == T_PASS, "writers");
	rawio_cache_stat(t->c, &st);
	sum = st.barrier_lock_ns + st.barrier_queue_ns + st.barrier_commit_ns + st.barrier_wake_ns;
	printf("%llu flushes, %llu timed: lock %llu, queue %llu, commit %llu, wake-up %llu ns "
	       "(of %llu ns by the writers' clocks); %llu barrier seals\n",
	       (unsigned long long)st.barriers, (unsigned long long)st.barrier_timed,
	       (unsigned long long)st.barrier_lock_ns, (unsigned long long)st.barrier_queue_ns,
	       (unsigned long long)st.barrier_commit_ns, (unsigned long long)st.barrier_wake_ns,
	       (unsigned long long)flush_ns, (unsigned long long)st.barrier_seals);
	CHECK(st.barriers == WRITERS * OPS, "%llu flushes counted",
	      (unsigned long long)st.barriers);
	CHECK(st.barrier_timed > 0 && st.barrier_timed <= st.barriers, "%llu flushes timed",
	      (unsigned long long)st.barrier_timed);
	CHECK(st.barrier_commit_ns > 0, "no commit time");
	CHECK(sum <= flush_ns, "the split (%llu ns) exceeds the flushes' time (%llu ns)",
	      (unsigned long long)sum, (unsigned long long)flush_ns);
	CHECK(st.barrier_seals > 0 && st.barrier_seals < st.barriers,
	      "%llu barrier seals for %llu flushes: no group commit",
	      (unsigned long long)st.barrier_seals, (unsigned long long)st.barriers);
	CHECK_OK(rawio_cache_close(t->c));
	t->c = NULL;
	rawio_throttle_free(thr);
	t->o.cache_engine = NULL;
	t->o.cache_engine_opts = NULL;
	return T_PASS;
}

int main(void)
{
	struct t_cache t;

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, 0));
	CHECK(split(&t) == T_PASS, "split");
	t_cache_done(&t);
	return T_PASS;
}
