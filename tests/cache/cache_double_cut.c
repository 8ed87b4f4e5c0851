// SPDX-License-Identifier: MIT
/*
 * Two power cuts in a row, with several commits in flight (commit_qd 4; FUA
 * segment writes on odd seeds, write + flush on even ones). Both devices'
 * volatile caches are fault models that keep, lose or tear each write not
 * flushed when the plug is pulled, so a cut can leave segment N+2 on disk and
 * N+1 torn or lost. Per seed:
 *   1. a random workload of 4 KiB writes and a few flushes and FUA writes
 *      (many segments written and not yet flushed); the plug is pulled at a
 *      random write of the cache device (or after the workload);
 *   2. the same devices under a second pair of models: recovery runs, every
 *      block reads at least its last acknowledged version, then a short
 *      second workload on the same open (the log goes on at N+1) that ends
 *      in a flush, then a second cut;
 *   3. reopened on the bare devices: every block reads at least the version
 *      acknowledged last (in the second workload, or what recovery found),
 *      never an older one. A stale N+2 from before the first cut, replayed
 *      behind the new N+1, brings back versions older than that.
 *
 *   cache_double_cut [--seed N | --seeds A:B] [--ops N] [-v]
 */
#include <rawio/engine.h>

#include "cache_test.h"
#include "crash/sweep.h"

#define CACHE_SZ   (2u << 20)
#define BACKING_SZ (256u << 10)
#define SEG	   (16u << 10) /* 3 data blocks: many segments per workload */
#define NB	   24	       /* blocks the workload writes */

struct run {
	uint64_t seed;
	unsigned ops;
	uint32_t next_version;
	uint32_t last[NB];  /* version last written */
	uint32_t acked[NB]; /* version last acknowledged (durable) */
	struct rawio_fault_model_stat st[2];
	char why[256];
};

static int read_block(struct rawio_cache *c, unsigned b, int64_t *v)
{
	char buf[4096];
	int ret = rawio_cache_read(c, buf, sizeof(buf), (uint64_t)b * 4096);

	*v = ret ? -1 : t_sector_version(buf, (uint64_t)b * 8);
	for (unsigned s = 1; !ret && s < 8; s++)
		if (t_sector_version(buf + s * 512, (uint64_t)b * 8 + s) != *v)
			*v = -1; /* sectors of one 4 KiB write from different versions */
	return ret;
}

/* Every block at least its acknowledged version; ACKED and LAST become what is there. */
static int check_blocks(struct run *r, struct rawio_cache *c, const char *when)
{
	for (unsigned b = 0; b < NB; b++) {
		int64_t v;
		int ret = read_block(c, b, &v);

		if (ret)
			return ret;
		if (v < 0 || v < r->acked[b] || v > r->last[b]) {
			snprintf(
				r->why, sizeof(r->why),
				"%s: block %u reads version %lld; acknowledged %u, last written %u",
				when, b, (long long)v, r->acked[b], r->last[b]);
			return 1;
		}
		/* On the device and flushed by recovery: the newest version there is. */
		r->acked[b] = r->last[b] = (uint32_t)v;
	}
	return 0;
}

/* A workload of OPS operations; stops at the first error (the plug was pulled). */
static void workload(struct run *r, struct rawio_cache *c, uint64_t *rng, unsigned ops,
		     unsigned flush_pct, bool end_flush)
{
	char buf[4096];

	for (unsigned op = 0; op < ops; op++) {
		unsigned b = (unsigned)rng_below(rng, NB), roll = (unsigned)rng_below(rng, 100);
		uint32_t v = r->next_version++;
		int ret = 0;

		if (roll < flush_pct || (end_flush && op + 1 == ops)) {
			ret = rawio_cache_flush(c);
			if (!ret)
				memcpy(r->acked, r->last, sizeof(r->acked));
			if (ret)
				return;
			continue;
		}
		for (unsigned s = 0; s < 8; s++)
			t_sector_fill(buf + s * 512, (uint64_t)b * 8 + s, v);
		r->last[b] = v;
		ret = rawio_cache_write(c, buf, sizeof(buf), (uint64_t)b * 4096,
					roll < 2 * flush_pct ? RAWIO_CACHE_FUA : 0);
		if (ret)
			return;
		if (roll < 2 * flush_pct) /* the segment and every older one are durable */
			memcpy(r->acked, r->last, sizeof(r->acked));
	}
}

/*
 * Open the cache on T's devices through fault engines over models M[2], the cache
 * device's cut at one of its first CUT_RANGE writes.
 */
static int open_faulty(struct t_cache *t, struct rawio_fault_model **m, uint64_t cut_range,
		       uint64_t *rng)
{
	static struct rawio_engine_opts ceo, beo;
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = rng_next(rng) };
	int ret;

	mo.cut = RAWIO_CUT_AT_WRITE;
	mo.cut_at = 1 + rng_below(rng, cut_range);
	ret = rawio_fault_model_new(&m[0], &mo);
	mo.cut = RAWIO_CUT_NONE;
	mo.seed = rng_next(rng);
	if (!ret)
		ret = rawio_fault_model_new(&m[1], &mo);
	if (ret)
		return ret;
	ceo = (struct rawio_engine_opts){ .size = sizeof(ceo),
					  .lower = "mem",
					  .fault_model = m[0] };
	beo = ceo;
	beo.fault_model = m[1];
	t->o.cache_engine = t->o.backing_engine = "fault";
	t->o.cache_engine_opts = &ceo;
	t->o.backing_engine_opts = &beo;
	return t_cache_reopen(t);
}

/* Pull the plug on both models (if the cache device's has not cut yet) and drop the cache. */
static void cut(struct t_cache *t, struct rawio_fault_model **m, struct run *r)
{
	rawio_fault_model_cut(m[0]);
	rawio_fault_model_cut(m[1]);
	rawio_cache_close(t->c); /* fails: the devices are gone */
	t->c = NULL;
	rawio_fault_model_stat(m[0], &r->st[0]);
	rawio_fault_model_stat(m[1], &r->st[1]);
	rawio_fault_model_free(m[0]);
	rawio_fault_model_free(m[1]);
	t->o.cache_engine = t->o.backing_engine = NULL;
	t->o.cache_engine_opts = t->o.backing_engine_opts = NULL;
}

static int run_seed(struct run *r)
{
	struct rawio_fault_model *m[2];
	uint64_t rng = r->seed * 0x9e3779b97f4a7c15ull + 1;
	struct t_cache t;
	int ret;

	memset(r->last, 0, sizeof(r->last));
	memset(r->acked, 0, sizeof(r->acked));
	r->next_version = 1;
	r->why[0] = '\0';
	ret = t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG);
	if (ret)
		return ret;
	t_backing_init(t.bdev);
	t.tun.commit_qd = 4;
	t.tun.commit_fua = r->seed % 2 ? RAWIO_CACHE_FUA_ON : RAWIO_CACHE_FUA_OFF;
	t.tun.barrier_deadline_us = 0;

	/* 1. The first workload and cut. */
	ret = open_faulty(&t, m, r->ops / 3, &rng);
	if (ret)
		goto out;
	workload(r, t.c, &rng, r->ops, 3, false);
	cut(&t, m, r);

	/* 2. Recovery, checked, then the second workload on the same open, and a cut. */
	ret = open_faulty(&t, m, 4 * r->ops, &rng);
	if (ret) {
		/* The cut came inside recovery: nothing was acknowledged since. */
		rawio_fault_model_cut(m[0]);
		rawio_fault_model_cut(m[1]);
		rawio_fault_model_free(m[0]);
		rawio_fault_model_free(m[1]);
		t.o.cache_engine = t.o.backing_engine = NULL;
		t.o.cache_engine_opts = t.o.backing_engine_opts = NULL;
	} else {
		ret = check_blocks(r, t.c, "after the first cut");
		if (!ret) /* short, ending in a flush: the new log may end right after N+1 */
			workload(r, t.c, &rng, 1 + (unsigned)rng_below(&rng, 8), 10, true);
		cut(&t, m, r);
		if (ret)
			goto out;
	}

	/* 3. The bare devices. */
	ret = t_cache_reopen(&t);
	if (!ret)
		ret = check_blocks(r, t.c, "after the second cut");
out:
	t_cache_done(&t);
	return ret;
}

static int dc_run(struct sweep *s, uint64_t seed, struct sweep_counts *c)
{
	struct run *r = s->arg;
	int ret;

	r->seed = seed;
	r->ops = s->ops;
	ret = run_seed(r);
	c->cuts = r->st[0].cut + r->st[1].cut;
	c->kept = r->st[0].kept;
	c->lost = r->st[0].lost;
	c->torn = r->st[0].torn_prefix + r->st[0].torn_subset;
	return ret;
}

static void dc_describe(struct sweep *s, int ret, FILE *f)
{
	struct run *r = s->arg;

	fprintf(f, " (%s): %s\n", r->seed % 2 ? "FUA" : "write + flush", ret ? r->why : "ok");
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sweep s = { .name = "cache double cut",
			   .cuts = "cuts",
			   .ops = 60,
			   .arg = &r,
			   .run = dc_run,
			   .describe = dc_describe };

	return sweep_main(&s, argc, argv);
}
