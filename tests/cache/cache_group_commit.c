// SPDX-License-Identifier: MIT
/*
 * Group commit. Writers doing write + FLUSH in a loop, on a cache device
 * emulated as an SSD (its flush costs 100 us):
 *   - one writer: a flush never waits for the deadline (nobody else could
 *     join), so the deadline costs nothing at QD 1;
 *   - eight writers, one commit in flight (commit_qd 1): with the deadline
 *     on, barriers share segments, and use
 *     fewer segments per flush than with it off (one segment per flush,
 *     dm-writeboost's way);
 *   - every flush is durable: on fault engines whose volatile-cache models lose
 *     every write not yet flushed, four writers write + flush, the plug is
 *     pulled after they stop, and after recovery every write whose flush
 *     returned is there.
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

#define DUR_WRITERS 4
#define DUR_BLOCKS  32 /* per writer, its own range */
#define DUR_OPS	    150

struct dur_writer {
	struct rawio_cache *c;
	unsigned id;
	uint32_t acked[DUR_BLOCKS]; /* per block: the version whose flush returned (0: none) */
	int err;
};

static void *dur_main(void *arg)
{
	struct dur_writer *w = arg;
	uint64_t buf[4096 / 8];

	for (uint32_t k = 1; k <= DUR_OPS; k++) {
		unsigned b = k % DUR_BLOCKS;
		int ret;

		t_block_tag(buf, w->id, b, k);
		ret = rawio_cache_write(w->c, buf, sizeof(buf),
					((uint64_t)w->id * DUR_BLOCKS + b) * 4096, 0);
		if (!ret)
			ret = rawio_cache_flush(w->c);
		if (ret) {
			w->err = ret;
			break;
		}
		w->acked[b] = k;
	}
	return NULL;
}

/* Write + flush on devices that lose what was not flushed; cut; every acknowledged write is there. */
static int durability(struct t_cache *t)
{
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = 1, .lose_pct = 100 };
	struct rawio_fault_model *mc, *mb;
	struct rawio_engine_opts ceo = { .size = sizeof(ceo), .lower = "mem" }, beo;
	struct dur_writer w[DUR_WRITERS];
	pthread_t tid[DUR_WRITERS];
	struct rawio_fault_model_stat cst;
	uint64_t buf[4096 / 8], want[4096 / 8];

	CHECK_OK(rawio_fault_model_new(&mc, &mo));
	mo.seed = 2;
	CHECK_OK(rawio_fault_model_new(&mb, &mo));
	beo = ceo;
	ceo.fault_model = mc;
	beo.fault_model = mb;
	t->o.cache_engine = "fault";
	t->o.cache_engine_opts = &ceo;
	t->o.backing_engine = "fault";
	t->o.backing_engine_opts = &beo;
	CHECK_OK(t_cache_reopen(t));
	CHECK_OK(rawio_cache_tunable_set(t->c, "barrier_deadline_us", 3000));
	for (unsigned i = 0; i < DUR_WRITERS; i++) {
		w[i] = (struct dur_writer){ .c = t->c, .id = i };
		pthread_create(&tid[i], NULL, dur_main, &w[i]);
	}
	for (unsigned i = 0; i < DUR_WRITERS; i++) {
		pthread_join(tid[i], NULL);
		CHECK(!w[i].err, "durability writer %u: %s", i, rawio_strerror(w[i].err));
	}
	rawio_fault_model_stat(mc, &cst);
	CHECK(cst.flushes > 0, "the cache device was never flushed");
	rawio_fault_model_cut(mc);
	rawio_fault_model_cut(mb);
	rawio_cache_close(t->c); /* fails: the devices are gone */
	t->c = NULL;
	rawio_fault_model_free(mc);
	rawio_fault_model_free(mb);
	t->o.cache_engine = t->o.backing_engine = NULL;
	t->o.cache_engine_opts = t->o.backing_engine_opts = NULL;
	CHECK_OK(t_cache_reopen(t));
	for (unsigned i = 0; i < DUR_WRITERS; i++)
		for (unsigned b = 0; b < DUR_BLOCKS; b++) {
			if (!w[i].acked[b])
				continue;
			CHECK_OK(rawio_cache_read(t->c, buf, sizeof(buf),
						  ((uint64_t)i * DUR_BLOCKS + b) * 4096));
			t_block_tag(want, i, b, w[i].acked[b]);
			CHECK(!memcmp(buf, want, sizeof(buf)),
			      "writer %u block %u: version %u was flushed, recovered %#llx", i, b,
			      w[i].acked[b], (unsigned long long)buf[0]);
		}
	return T_PASS;
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
	/* One commit in flight, so that 8 writers fill the pipeline: barriers have to share. */
	CHECK_OK(rawio_cache_tunable_set(t.c, "commit_qd", 1));
	CHECK(run(&t, 8, 0, 0.6, &off8, &iops_off8, &st) == T_PASS, "8 writers, deadline off");
	CHECK(run(&t, 8, 3000, 0.6, &on8, &iops_on8, &st) == T_PASS, "8 writers, deadline on");
	printf("segments per flush: 1 writer %.3f (off) %.3f (on); 8 writers %.3f (off) %.3f (on)\n"
	       "write+flush/s:      1 writer %.0f (off) %.0f (on); 8 writers %.0f (off) %.0f "
	       "(on)\n",
	       off1, on1, off8, on8, iops_off1, iops_on1, iops_off8, iops_on8);
	CHECK(off1 > 0.9 && on1 > 0.9, "one writer: a segment per flush either way");
	CHECK(on8 < 0.6 * off8, "group commit shares segments: %.3f vs %.3f per flush", on8, off8);
	CHECK(st.cache_flushes <= st.barriers, "no more device flushes than barriers");
	CHECK(st.cache_flushes + st.segments_fua > 0, "no device flush or FUA write at all");
	CHECK_OK(rawio_cache_tunable_set(t.c, "commit_qd", 4));
	CHECK(durability(&t) == T_PASS, "durability");
	t_cache_done(&t);
	rawio_throttle_free(thr);
	return T_PASS;
}
