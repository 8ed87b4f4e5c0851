// SPDX-License-Identifier: MIT
/*
 * Crash driver for the cache: a seeded random workload (writes of 1..24
 * sectors, FUA writes, flushes, reads, tunable changes, drains, reopens) runs
 * over fault engines whose volatile-cache models (one per device) lose, keep
 * or tear every write not covered by a flush when the plug is pulled: between
 * two operations, or inside the workers at the Nth write or flush of either
 * device (the other device is cut as soon as the driver sees it). Then the
 * cache is reopened on the bare RAM devices, recovered, and checked against a
 * model of what may be there:
 *   - every sector holds its last durable version (acknowledged by a FUA
 *     write, a flush, a drain or a close) or a version written after that,
 *     never an older one, never garbage;
 *   - rawio_cache_check finds no problem;
 *   - after a drain the backing device holds exactly what the cache showed.
 * The workers run on their own threads, so a seed fixes the workload and the
 * cut point but not every interleaving; a failure prints the seed and the
 * command that replays it.
 *
 *   cache_crash [--seed N | --seeds A:B] [--ops N] [-v]
 */
#include <rawio/engine.h>

#include "cache_test.h"
#include "crash/sweep.h"

#define CACHE_SZ   (2u << 20)
#define BACKING_SZ (256u << 10)
#define SECTORS	   (BACKING_SZ / 512)
#define SEG	   (16u << 10)
#define MAXH	   160

struct sector_model {
	uint32_t hist[MAXH]; /* versions written (attempted), oldest first */
	unsigned nh;
	int dpos;     /* hist index of the last durable version; -1: version 0 */
	uint32_t cur; /* what a read must return now */
};

struct run {
	uint64_t seed;
	unsigned ops;
	bool verbose;
	struct sector_model m[SECTORS];
	uint32_t next_version;
	char why[512];
	struct rawio_fault_model_stat cst, bst;
	const char *mode;
};

static char wbuf[24 * 512], rbuf[SECTORS * 512];

#define VIOLATION(...)                                         \
	do {                                                   \
		snprintf(r->why, sizeof(r->why), __VA_ARGS__); \
		goto out;                                      \
	} while (0)

static void model_durable_all(struct run *r)
{
	for (unsigned s = 0; s < SECTORS; s++) {
		struct sector_model *m = &r->m[s];

		/* The newest acknowledged write, which is the newest attempted one that succeeded. */
		for (int i = (int)m->nh - 1; i >= 0; i--)
			if (m->hist[i] == m->cur) {
				m->dpos = i;
				break;
			}
	}
}

static bool model_may(const struct sector_model *m, int64_t v)
{
	if (v < 0)
		return false;
	if (m->dpos < 0 && v == 0)
		return true;
	for (unsigned i = m->dpos < 0 ? 0 : (unsigned)m->dpos; i < m->nh; i++)
		if (m->hist[i] == v)
			return true;
	return false;
}

static int open_cache(struct run *r, struct t_cache *t, struct rawio_fault_model *mc,
		      struct rawio_fault_model *mb, struct rawio_engine_opts *ceo,
		      struct rawio_engine_opts *beo)
{
	*ceo = (struct rawio_engine_opts){ .size = sizeof(*ceo),
					   .lower = "mem",
					   .fault_model = mc };
	*beo = (struct rawio_engine_opts){ .size = sizeof(*beo),
					   .lower = "mem",
					   .fault_model = mb };
	t->o = (struct rawio_cache_opts){ .size = sizeof(t->o), .tunables = &t->tun };
	if (mc) {
		t->o.cache_engine = "fault";
		t->o.cache_engine_opts = ceo;
		t->o.backing_engine = "fault";
		t->o.backing_engine_opts = beo;
	}
	t->o.recovery_qd = 8;
	t->o.migrate_qd = 8;
	return rawio_cache_open(&t->c, t->cdev, t->bdev, &t->o);
}

static bool any_cut(struct run *r, struct rawio_fault_model *mc, struct rawio_fault_model *mb)
{
	rawio_fault_model_stat(mc, &r->cst);
	rawio_fault_model_stat(mb, &r->bst);
	return r->cst.cut || r->bst.cut;
}

/* One seed. 0 ok, 1 violation, -errno harness failure. */
static int run_seed(struct run *r)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f), .segment_size = SEG };
	struct rawio_fault_model_opts co = { .size = sizeof(co), .seed = r->seed * 2 };
	struct rawio_fault_model_opts bo = { .size = sizeof(bo), .seed = r->seed * 2 + 1 };
	struct rawio_fault_model *mc = NULL, *mb = NULL;
	struct rawio_engine_opts ceo, beo;
	struct t_cache t = { 0 };
	uint64_t rng = r->seed ^ 0xcac4e, cut_op = UINT64_MAX;
	char report[2048];
	int ret, mode;

	memset(r->m, 0, sizeof(r->m));
	for (unsigned s = 0; s < SECTORS; s++)
		r->m[s].dpos = -1;
	r->next_version = 1;
	r->why[0] = 0;
	ret = rawio_dev_open_mem(&t.cdev, CACHE_SZ, 512);
	if (!ret)
		ret = rawio_dev_open_mem(&t.bdev, BACKING_SZ, 512);
	if (!ret)
		ret = rawio_cache_format(t.cdev, t.bdev, &f);
	if (ret)
		goto harness;
	t_backing_init(t.bdev);

	rawio_cache_tunables_default(&t.tun);
	t.tun.allow_migrate = rng_below(&rng, 4) != 0;
	t.tun.nr_batched_migration = 1 + (uint32_t)rng_below(&rng, 8);
	t.tun.low_watermark = (uint32_t)rng_below(&rng, 20);
	t.tun.high_watermark = (uint32_t)rng_below(&rng, 40);
	if (t.tun.high_watermark < t.tun.low_watermark) /* open refuses low above high */
		t.tun.high_watermark = t.tun.low_watermark;
	t.tun.barrier_deadline_us = rng_below(&rng, 2) ? 0 : 300;

	mode = (int)rng_below(&rng, 6);
	switch (mode) {
	case 0:
	case 1:
		r->mode = "between operations";
		cut_op = rng_below(&rng, r->ops + 1);
		break;
	case 2:
		r->mode = "cache device, at a write";
		co.cut = RAWIO_CUT_AT_WRITE;
		co.cut_at = 1 + rng_below(&rng, 80);
		break;
	case 3:
		r->mode = "cache device, at a flush";
		co.cut = RAWIO_CUT_AT_FLUSH;
		co.cut_at = 1 + rng_below(&rng, 25);
		break;
	case 4:
		r->mode = "backing device, at a write";
		bo.cut = RAWIO_CUT_AT_WRITE;
		bo.cut_at = 1 + rng_below(&rng, 120);
		break;
	default:
		r->mode = "backing device, at a flush";
		bo.cut = RAWIO_CUT_AT_FLUSH;
		bo.cut_at = 1 + rng_below(&rng, 12);
	}
	ret = rawio_fault_model_new(&mc, &co);
	if (!ret)
		ret = rawio_fault_model_new(&mb, &bo);
	if (ret)
		goto harness;
	ret = open_cache(r, &t, mc, mb, &ceo, &beo);
	if (ret && !any_cut(r, mc, mb))
		goto harness;

	for (unsigned op = 0; t.c && op < r->ops; op++) {
		unsigned roll = (unsigned)rng_below(&rng, 100);
		int e = 0;

		if (op == cut_op) {
			if (rng_below(&rng, 2))
				usleep((unsigned)rng_below(&rng, 2000)); /* let the workers move */
			break;
		}
		if (roll < 70) {
			unsigned n = 1 + (unsigned)rng_below(&rng, 24);
			uint64_t s = rng_below(&rng, SECTORS - n + 1);
			uint32_t v = r->next_version++;
			bool fua = roll < 8;

			for (unsigned i = 0; i < n; i++) {
				struct sector_model *m = &r->m[s + i];

				if (m->nh == MAXH)
					return -E2BIG; /* never with the op counts used */
				m->hist[m->nh++] = v;
				t_sector_fill(wbuf + i * 512, s + i, v);
			}
			e = rawio_cache_write(t.c, wbuf, n * 512, s * 512,
					      fua ? RAWIO_CACHE_FUA : 0);
			if (!e)
				for (unsigned i = 0; i < n; i++) {
					struct sector_model *m = &r->m[s + i];

					m->cur = v;
					if (fua)
						m->dpos = (int)m->nh - 1;
				}
		} else if (roll < 80) {
			e = rawio_cache_flush(t.c);
			if (!e)
				model_durable_all(r);
		} else if (roll < 94) {
			unsigned n = 1 + (unsigned)rng_below(&rng, 64);
			uint64_t s = rng_below(&rng, SECTORS - n + 1);

			e = rawio_cache_read(t.c, rbuf, n * 512, s * 512);
			for (unsigned i = 0; !e && i < n; i++) {
				int64_t v = t_sector_version(rbuf + i * 512, s + i);

				if (v != r->m[s + i].cur)
					VIOLATION("op %u: sector %llu reads version %lld, wrote %u "
						  "last",
						  op, (unsigned long long)(s + i), (long long)v,
						  r->m[s + i].cur);
			}
		} else if (roll < 97) {
			const char *const *names = rawio_cache_tunable_names();
			static const uint64_t max[] = { 1, 8, 30, 50, 500 };
			unsigned k = (unsigned)rng_below(&rng, 5);

			uint64_t lo = 0, hi = 0;

			e = rawio_cache_tunable_set(t.c, names[k],
						    k == 1 ? 1 + rng_below(&rng, 8)
							   : rng_below(&rng, max[k] + 1));
			if (e == -EINVAL && (k == 2 || k == 3))
				e = 0; /* refused: low_watermark would be above high_watermark */
			if (!e && !rawio_cache_tunable_get(t.c, "low_watermark", &lo) &&
			    !rawio_cache_tunable_get(t.c, "high_watermark", &hi) && lo > hi)
				VIOLATION("op %u: low_watermark %llu above high_watermark %llu", op,
					  (unsigned long long)lo, (unsigned long long)hi);
		} else if (roll < 99) {
			e = rawio_cache_drain(t.c);
			if (!e)
				model_durable_all(r);
		} else {
			e = rawio_cache_close(t.c);
			t.c = NULL;
			if (!e) {
				model_durable_all(r);
				e = open_cache(r, &t, mc, mb, &ceo, &beo);
			}
		}
		if (e) {
			if (!any_cut(r, mc, mb))
				VIOLATION("op %u: unexpected error %d (%s) before the cut", op, e,
					  rawio_strerror(e));
			break;
		}
		if (any_cut(r, mc, mb))
			break; /* a worker pulled the plug */
	}
	/* The plug: both devices lose power together (as soon as we notice). */
	if (rng_below(&rng, 2)) {
		rawio_fault_model_cut(mc);
		rawio_fault_model_cut(mb);
	} else {
		rawio_fault_model_cut(mb);
		rawio_fault_model_cut(mc);
	}
	any_cut(r, mc, mb);
	rawio_cache_close(t.c); /* fails: the devices are gone */
	t.c = NULL;
	rawio_fault_model_free(mc);
	rawio_fault_model_free(mb);
	mc = mb = NULL;

	/* Power comes back. */
	ret = open_cache(r, &t, NULL, NULL, &ceo, &beo);
	if (ret)
		VIOLATION("reopen after the cut: %s", rawio_strerror(ret));
	ret = rawio_cache_read(t.c, rbuf, BACKING_SZ, 0);
	if (ret)
		VIOLATION("read after recovery: %s", rawio_strerror(ret));
	for (unsigned s = 0; s < SECTORS; s++) {
		int64_t v = t_sector_version(rbuf + s * 512, s);

		if (!model_may(&r->m[s], v)) {
			const struct sector_model *m = &r->m[s];

			VIOLATION("sector %u: recovered version %lld; durable %u, %u written since",
				  s, (long long)v, m->dpos < 0 ? 0 : m->hist[m->dpos],
				  m->nh - (unsigned)(m->dpos + 1));
		}
	}
	ret = rawio_cache_close(t.c);
	t.c = NULL;
	if (ret)
		VIOLATION("close after recovery: %s", rawio_strerror(ret));
	ret = rawio_cache_check(t.cdev, t.bdev, NULL, report, sizeof(report));
	if (ret)
		VIOLATION("check after recovery: %d: %.400s", ret, report);

	/* Write everything back: the backing device must then hold what was read. */
	ret = open_cache(r, &t, NULL, NULL, &ceo, &beo);
	if (!ret)
		ret = rawio_cache_drain(t.c);
	if (ret)
		VIOLATION("drain after recovery: %s", rawio_strerror(ret));
	if (memcmp(rawio_dev_mem(t.bdev), rbuf, BACKING_SZ))
		VIOLATION("the backing device after a drain differs from what the cache read");
	ret = 0;
out:
	if (r->why[0])
		ret = 1;
	rawio_cache_close(t.c);
	rawio_fault_model_free(mc);
	rawio_fault_model_free(mb);
	rawio_dev_close(t.cdev);
	rawio_dev_close(t.bdev);
	return ret;
harness:
	rawio_cache_close(t.c);
	rawio_fault_model_free(mc);
	rawio_fault_model_free(mb);
	rawio_dev_close(t.cdev);
	rawio_dev_close(t.bdev);
	return ret < 0 ? ret : -EIO;
}

static int cache_sweep_run(struct sweep *s, uint64_t seed, struct sweep_counts *c)
{
	struct run *r = s->arg;
	int ret;

	r->seed = seed;
	r->ops = s->ops;
	r->verbose = s->verbose;
	ret = run_seed(r);
	c->cuts = r->cst.cut + r->bst.cut;
	c->kept = r->cst.kept + r->bst.kept;
	c->lost = r->cst.lost + r->bst.lost;
	c->torn = r->cst.torn_prefix + r->cst.torn_subset + r->bst.torn_prefix + r->bst.torn_subset;
	return ret;
}

static void cache_sweep_describe(struct sweep *s, int ret, FILE *f)
{
	struct run *r = s->arg;

	fprintf(f,
		" (cut: %s): %s (held writes at the cut: cache %llu kept, %llu lost, %llu torn; "
		"backing %llu kept, %llu lost, %llu torn)\n",
		r->mode, ret ? r->why : "ok", (unsigned long long)r->cst.kept,
		(unsigned long long)r->cst.lost,
		(unsigned long long)(r->cst.torn_prefix + r->cst.torn_subset),
		(unsigned long long)r->bst.kept, (unsigned long long)r->bst.lost,
		(unsigned long long)(r->bst.torn_prefix + r->bst.torn_subset));
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sweep s = { .name = "cache crash",
			   .cuts = "device cuts",
			   .ops = 100,
			   .arg = &r,
			   .run = cache_sweep_run,
			   .describe = cache_sweep_describe };

	return sweep_main(&s, argc, argv);
}
