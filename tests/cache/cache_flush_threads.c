// SPDX-License-Identifier: MIT
/*
 * Durability with several flush worker threads (flush.c: segment writes and
 * cache flushes are claimed and issued by whichever worker is free, and may
 * complete in any order). The ordering rule under test: a cache flush covers
 * only segment writes completed before it was issued, so a barrier returns only
 * when every segment up to its own is written and then flushed, whichever
 * threads wrote them. Per seed: four writer threads, each owning its own
 * blocks, write versioned 4 KiB blocks and call a flush (or a FUA write) every
 * few writes, through small segments (3 data blocks: many segments in flight at
 * once over several workers); the cache device's volatile cache (a fault model)
 * is cut at a random write, keeping, losing or tearing each write not flushed;
 * reopened on the bare devices, every block reads at least the version its
 * writer saw acknowledged and at most the last it wrote.
 *
 *   cache_flush_threads [--seed N | --seeds A:B] [--ops N] [-v]
 */
#include <pthread.h>

#include <rawio/engine.h>

#include "cache_test.h"
#include "crash/sweep.h"

#define CACHE_SZ   (2u << 20)
#define BACKING_SZ (256u << 10)
#define SEG	   (16u << 10) /* 3 data blocks */
#define WRITERS	   4
#define PER	   6 /* blocks per writer */
#define NB	   (WRITERS * PER)

struct writer {
	struct rawio_cache *c;
	unsigned id, ops;
	uint64_t rng;
	uint32_t last[PER], acked[PER];
};

struct run {
	uint64_t seed;
	unsigned ops;
	struct writer w[WRITERS];
	struct rawio_fault_model_stat st;
	char why[256];
};

/* Write + barrier until OPS are done or the plug is pulled (the first error). */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char buf[4096];

	for (unsigned op = 0; op < w->ops; op++) {
		unsigned i = (unsigned)rng_below(&w->rng, PER),
			 roll = (unsigned)rng_below(&w->rng, 100);
		unsigned b = w->id * PER + i;
		uint32_t v = (op + 1) * WRITERS + w->id; /* grows per block, never repeats */
		int ret;

		for (unsigned s = 0; s < 8; s++)
			t_sector_fill(buf + s * 512, (uint64_t)b * 8 + s, v);
		w->last[i] = v;
		ret = rawio_cache_write(w->c, buf, sizeof(buf), (uint64_t)b * 4096,
					roll < 10 ? RAWIO_CACHE_FUA : 0);
		if (!ret && roll >= 10 && roll < 40)
			ret = rawio_cache_flush(w->c);
		if (ret)
			break;
		if (roll < 40) /* every write of ours before it is durable */
			memcpy(w->acked, w->last, sizeof(w->acked));
	}
	return NULL;
}

static int check_blocks(struct run *r, struct rawio_cache *c)
{
	for (unsigned b = 0; b < NB; b++) {
		const struct writer *w = &r->w[b / PER];
		char buf[4096];
		int64_t v = -1;
		int ret = rawio_cache_read(c, buf, sizeof(buf), (uint64_t)b * 4096);

		if (ret)
			return ret;
		v = t_sector_version(buf, (uint64_t)b * 8);
		for (unsigned s = 1; s < 8; s++)
			if (t_sector_version(buf + s * 512, (uint64_t)b * 8 + s) != v)
				v = -1; /* sectors of one 4 KiB write from different versions */
		if (v < (int64_t)w->acked[b % PER] || v > (int64_t)w->last[b % PER] ||
		    (v > 0 && (uint64_t)v % WRITERS != b / PER)) {
			snprintf(r->why, sizeof(r->why),
				 "block %u reads version %lld; acknowledged %u, last written %u", b,
				 (long long)v, w->acked[b % PER], w->last[b % PER]);
			return 1;
		}
	}
	return 0;
}

static int run_seed(struct run *r)
{
	static struct rawio_engine_opts ceo;
	uint64_t rng = r->seed * 0x9e3779b97f4a7c15ull + 1;
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = rng_next(&rng) };
	struct rawio_fault_model *m = NULL;
	pthread_t tids[WRITERS];
	unsigned started = 0;
	struct t_cache t;
	int ret;

	r->why[0] = '\0';
	memset(&r->st, 0, sizeof(r->st));
	ret = t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG);
	if (ret)
		return ret;
	t_backing_init(t.bdev);
	t.tun.commit_fua = r->seed % 2 ? RAWIO_CACHE_FUA_ON : RAWIO_CACHE_FUA_OFF;
	t.tun.commit_qd = r->seed % 3 ? 1 : 4;
	t.tun.commit_overlap = r->seed % 4 < 2;
	mo.cut = RAWIO_CUT_AT_WRITE;
	mo.cut_at = 1 + rng_below(&rng, (uint64_t)r->ops * WRITERS / 2);
	ret = rawio_fault_model_new(&m, &mo);
	if (ret)
		goto out;
	ceo = (struct rawio_engine_opts){ .size = sizeof(ceo), .lower = "mem", .fault_model = m };
	t.o.cache_engine = "fault";
	t.o.cache_engine_opts = &ceo;
	ret = t_cache_reopen(&t);
	if (ret)
		goto out_model;
	for (unsigned i = 0; i < WRITERS; i++) {
		r->w[i] =
			(struct writer){ .c = t.c, .id = i, .ops = r->ops, .rng = rng_next(&rng) };
		if (pthread_create(&tids[i], NULL, writer_main, &r->w[i]))
			break;
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (started < WRITERS)
		ret = -EAGAIN;
	rawio_fault_model_cut(m); /* if the writes did not reach it */
	rawio_cache_close(t.c);	  /* fails: the device is gone */
	t.c = NULL;
	rawio_fault_model_stat(m, &r->st);
out_model:
	rawio_fault_model_free(m);
	t.o.cache_engine = NULL;
	t.o.cache_engine_opts = NULL;
	if (!ret) {
		ret = t_cache_reopen(&t); /* the bare devices: recovery */
		if (!ret)
			ret = check_blocks(r, t.c);
	}
out:
	t_cache_done(&t);
	return ret;
}

static int ft_run(struct sweep *s, uint64_t seed, struct sweep_counts *c)
{
	struct run *r = s->arg;
	int ret;

	r->seed = seed;
	r->ops = s->ops;
	ret = run_seed(r);
	c->cuts = r->st.cut;
	c->kept = r->st.kept;
	c->lost = r->st.lost;
	c->torn = r->st.torn_prefix + r->st.torn_subset;
	return ret;
}

static void ft_describe(struct sweep *s, int ret, FILE *f)
{
	struct run *r = s->arg;

	fprintf(f, " (%s, commit_qd %u, commit_overlap %u): %s\n",
		r->seed % 2 ? "FUA" : "write + flush", r->seed % 3 ? 1 : 4, r->seed % 4 < 2,
		ret ? r->why : "ok");
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sweep s = { .name = "cache flush threads",
			   .cuts = "cuts",
			   .ops = 40,
			   .arg = &r,
			   .run = ft_run,
			   .describe = ft_describe };

	return sweep_main(&s, argc, argv);
}
