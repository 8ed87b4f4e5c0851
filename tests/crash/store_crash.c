// SPDX-License-Identifier: MIT
/*
 * Crash driver for the slot store (SQLite test6 in spirit): a seeded random
 * workload of puts, durable puts, deletes, checkpoints and reopens runs over a
 * fault engine whose volatile cache model loses, keeps or tears every write
 * not covered by a flush when the plug is pulled (at a seeded write, flush or
 * the end); odd seeds put durably through group commit (payload, flush,
 * header, flush), seeds 4k+2 with barrier flush (the same, each put on its
 * own). The store is then reopened and recovered, and checked against a
 * model of what may be there:
 *   - every key holds one of the values it may hold: its last durable value or
 *     anything acknowledged (or attempted) after that, never older, never
 *     garbage; a key durably deleted stays deleted;
 *   - no key that was never written appears;
 *   - rawio store check finds nothing.
 *
 *   store_crash [--seed N | --seeds A:B] [--ops N] [-v]
 *
 * On a violation it prints the seed and the command that replays it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/store.h>

#include "crash/sweep.h"
#include "harness.h"
#include "util/rng.h"

#define NKEYS  24
#define MAXV   64 /* possible values remembered per key */
#define ABSENT 0  /* version 0: the key is not there */
#define SLOT   (16u << 10)

struct key_model {
	uint32_t cur;	    /* what a get must return now (version; 0 absent) */
	uint32_t may[MAXV]; /* versions a recovery may show */
	unsigned nr_may;
};

struct run {
	uint64_t seed;
	unsigned ops;
	bool verbose;
	char path[256];
	struct key_model k[NKEYS];
	uint32_t next_version;
	char why[512];
	struct rawio_fault_model_stat mst;
};

static void key_name(unsigned k, char *buf)
{
	sprintf(buf, "key-%02u", k);
}

/* Payload of version V of key K: length and bytes derive from both. */
static size_t value_fill(unsigned k, uint32_t v, char *buf)
{
	uint64_t st = ((uint64_t)k << 32) | v;
	size_t len = 16 + rng_below(&st, SLOT - 4096 - 16);

	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = rng_next(&st);

		memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
	}
	memcpy(buf, &v, sizeof(v));
	return len;
}

static void may_reset(struct key_model *m, uint32_t v)
{
	m->may[0] = v;
	m->nr_may = 1;
}

static void may_add(struct key_model *m, uint32_t v)
{
	for (unsigned i = 0; i < m->nr_may; i++)
		if (m->may[i] == v)
			return;
	if (m->nr_may < MAXV)
		m->may[m->nr_may++] = v;
	else
		m->may[MAXV - 1] = v; /* never reached with the op counts used */
}

static bool may_have(const struct key_model *m, uint32_t v)
{
	for (unsigned i = 0; i < m->nr_may; i++)
		if (m->may[i] == v)
			return true;
	return false;
}

static int open_store(struct run *r, struct rawio_store **s, struct rawio_fault_model *fm)
{
	struct rawio_store_opts o = { .size = sizeof(o), .engine_opts.queue_depth = 16 };

	/* Odd seeds: every durable put through the shared flushes (group commit). */
	if (r->seed & 1)
		o.group_commit = RAWIO_STORE_GROUP_ALWAYS;
	/* Seeds 4k+2: durable puts and deletes as write + flush, not FUA (rawio_store_barrier). */
	if ((r->seed & 3) == 2)
		o.barrier = RAWIO_STORE_BARRIER_FLUSH;
	if (fm) {
		o.engine = "fault";
		o.engine_opts.lower = "sync";
		o.engine_opts.fault_model = fm;
	} else {
		o.engine = "sync";
	}
	return rawio_store_open(s, r->path, &o);
}

#define VIOLATION(...)                                         \
	do {                                                   \
		snprintf(r->why, sizeof(r->why), __VA_ARGS__); \
		goto out;                                      \
	} while (0)

/* One seed: workload, cut, recover, check. 0 ok, 1 violation, -errno harness failure. */
static int run_seed(struct run *r)
{
	struct rawio_store_format_opts f = {
		.size = sizeof(f), .slot_size = SLOT, .create_size = 2u << 20, .force = true
	};
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = r->seed };
	struct rawio_fault_model *fm = NULL;
	struct rawio_store *s = NULL;
	uint64_t rng = r->seed ^ 0x5eed;
	static char buf[SLOT], got[SLOT];
	char key[16], report[4096];
	int ret = 1;

	memset(r->k, 0, sizeof(r->k));
	for (unsigned i = 0; i < NKEYS; i++)
		may_reset(&r->k[i], ABSENT);
	r->next_version = 1;
	r->why[0] = 0;
	unlink(r->path);
	ret = rawio_store_format(r->path, &f);
	if (ret)
		return ret;

	switch (rng_below(&rng, 5)) {
	case 0:
	case 1:
		mo.cut = RAWIO_CUT_AT_WRITE;
		mo.cut_at = 1 + rng_below(&rng, r->ops * 3 / 2);
		break;
	case 2:
	case 3:
		mo.cut = RAWIO_CUT_AT_FLUSH;
		mo.cut_at = 1 + rng_below(&rng, 6);
		break;
	default:
		mo.cut = RAWIO_CUT_NONE; /* cut after the workload */
	}
	ret = rawio_fault_model_new(&fm, &mo);
	if (ret)
		return ret;
	ret = open_store(r, &s, fm);
	if (ret)
		goto harness;

	for (unsigned op = 0; op < r->ops; op++) {
		unsigned k = (unsigned)rng_below(&rng, NKEYS),
			 roll = (unsigned)rng_below(&rng, 100);
		struct key_model *m = &r->k[k];
		uint32_t v;
		size_t len;
		ssize_t n;
		int e = 0;

		key_name(k, key);
		if (roll < 55) { /* put, one in four durable */
			bool durable = roll < 14;

			v = r->next_version++;
			len = value_fill(k, v, buf);
			may_add(m, v);
			e = rawio_store_put(s, key, strlen(key), buf, len,
					    durable ? RAWIO_STORE_DURABLE : 0);
			if (!e) {
				m->cur = v;
				if (durable)
					may_reset(m, v);
			}
		} else if (roll < 67) { /* delete, one in three durable */
			bool durable = roll < 59;

			may_add(m, ABSENT);
			e = rawio_store_delete(s, key, strlen(key),
					       durable ? RAWIO_STORE_DURABLE : 0);
			if (e == -ENOENT && m->cur == ABSENT)
				e = 0;
			else if (e == -ENOENT)
				VIOLATION("op %u: delete %s: -ENOENT, but it holds version %u", op,
					  key, m->cur);
			if (!e) {
				m->cur = ABSENT;
				if (durable)
					may_reset(m, ABSENT);
			}
		} else if (roll < 85) { /* get: read your writes */
			n = rawio_store_get(s, key, strlen(key), got, sizeof(got));
			if (n == -EIO)
				e = -EIO;
			else if (m->cur == ABSENT && n != -ENOENT)
				VIOLATION("op %u: get %s: %zd, want -ENOENT", op, key, n);
			else if (m->cur != ABSENT) {
				len = value_fill(k, m->cur, buf);
				if (n != (ssize_t)len || memcmp(buf, got, len))
					VIOLATION("op %u: get %s: %zd bytes, not version %u", op,
						  key, n, m->cur);
			}
		} else if (roll < 95) { /* checkpoint: everything so far is durable */
			e = rawio_store_checkpoint(s);
			if (!e)
				for (unsigned i = 0; i < NKEYS; i++)
					may_reset(&r->k[i], r->k[i].cur);
		} else { /* close and reopen: close checkpoints */
			e = rawio_store_close(s);
			s = NULL;
			if (!e) {
				for (unsigned i = 0; i < NKEYS; i++)
					may_reset(&r->k[i], r->k[i].cur);
				e = open_store(r, &s, fm);
			}
		}
		if (e) {
			rawio_fault_model_stat(fm, &r->mst);
			if (!r->mst.cut)
				VIOLATION("op %u: unexpected error %d (%s) before the cut", op, e,
					  rawio_strerror(e));
			break; /* the plug was pulled under this op */
		}
	}
	rawio_fault_model_cut(fm);
	rawio_fault_model_stat(fm, &r->mst);
	rawio_store_close(s); /* its checkpoint fails: the device is gone */
	s = NULL;
	rawio_fault_model_free(fm);
	fm = NULL;

	/* The machine comes back: recover and compare with what may be there. */
	if (r->verbose) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "cp %s %s.precrash", r->path, r->path);
		if (system(cmd))
			fprintf(stderr, "could not keep a copy of the image\n");
	}
	ret = open_store(r, &s, NULL);
	if (ret)
		VIOLATION("reopen after the cut: %s", rawio_strerror(ret));
	for (unsigned k = 0; k < NKEYS; k++) {
		struct key_model *m = &r->k[k];
		ssize_t n;
		uint32_t v = ABSENT;

		key_name(k, key);
		n = rawio_store_get(s, key, strlen(key), got, sizeof(got));
		if (n >= 4) {
			memcpy(&v, got, sizeof(v));
			if (!v || v >= r->next_version || n != (ssize_t)value_fill(k, v, buf) ||
			    memcmp(got, buf, (size_t)n))
				VIOLATION("%s: %zd bytes that are no version ever written", key, n);
		} else if (n != -ENOENT) {
			VIOLATION("%s: get after recovery: %zd (%s)", key, n,
				  rawio_strerror((int)n));
		}
		if (!may_have(m, v)) {
			char list[256] = "";

			for (unsigned i = 0; i < m->nr_may && strlen(list) < 200; i++)
				sprintf(list + strlen(list), " %u", m->may[i]);
			VIOLATION("%s: recovered %s%u, may only be {%s } (0 = absent)", key,
				  v ? "version " : "", v, list);
		}
	}
	{
		struct rawio_store_stat st;

		rawio_store_stat(s, &st);
		if (st.objects > NKEYS)
			VIOLATION("%llu objects after recovery, only %d keys exist",
				  (unsigned long long)st.objects, NKEYS);
	}
	ret = rawio_store_close(s);
	s = NULL;
	if (ret)
		VIOLATION("close after recovery: %s", rawio_strerror(ret));
	ret = rawio_store_check(r->path, NULL, report, sizeof(report));
	if (ret)
		VIOLATION("check after recovery: %d: %.400s", ret, report);
	ret = 0;
out:
	if (r->why[0])
		ret = 1;
	rawio_store_close(s);
	rawio_fault_model_free(fm);
	return ret;
harness:
	rawio_fault_model_free(fm);
	return ret;
}

static int store_sweep_run(struct sweep *s, uint64_t seed, struct sweep_counts *c)
{
	struct run *r = s->arg;
	int ret;

	r->seed = seed;
	r->ops = s->ops;
	r->verbose = s->verbose;
	ret = run_seed(r);
	sweep_counts_of(&r->mst, c);
	return ret;
}

static void store_sweep_describe(struct sweep *s, int ret, FILE *f)
{
	struct run *r = s->arg;

	fprintf(f, ": %s", ret ? r->why : "ok");
	sweep_fprint_held(f, &r->mst);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sweep s = { .name = "store crash",
			   .cuts = "cuts",
			   .ops = 80,
			   .image = r.path,
			   .arg = &r,
			   .run = store_sweep_run,
			   .describe = store_sweep_describe };

	sweep_image_path(r.path, sizeof(r.path), "store-crash");
	return sweep_main(&s, argc, argv);
}
