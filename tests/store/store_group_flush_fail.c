// SPDX-License-Identifier: MIT
/*
 * A durable put's header never goes out before its payload is durable. The
 * store runs on the fault engine over a volatile write cache model; the first
 * flush fails (EIO). A grouped durable put whose payload flush failed returns
 * the error and never writes its header: when the plug is then pulled with
 * every held write kept, no slot holds a header, and the reopened store has
 * no such key and finds nothing damaged. A second put, whose flushes succeed,
 * is acknowledged and comes back. Then the same with 4 threads putting at
 * once: every acknowledged put comes back, none is found damaged.
 */
#include <pthread.h>

#include "store_test.h"

#define SLOT	(8u << 10)
#define THREADS 4

static int open_faulty(struct t_store *t, struct rawio_fault_model *fm,
		       struct rawio_fault_range *fail_flush)
{
	*fail_flush = (struct rawio_fault_range){ .ops = 1u << RAWIO_OP_FDATASYNC,
						  .err = EIO,
						  .count = 1 };
	t->o.engine = "fault";
	t->o.engine_opts.lower = "sync";
	t->o.engine_opts.fault_model = fm;
	t->o.engine_opts.faults = fail_flush;
	t->o.engine_opts.nr_faults = 1;
	t->o.group_commit = RAWIO_STORE_GROUP_ALWAYS;
	return t_store_reopen(t, true);
}

/* Pull the plug (every held write kept), close, reopen on sync: the machine came back. */
static int power_cycle(struct t_store *t, struct rawio_fault_model *fm)
{
	CHECK_OK(rawio_fault_model_cut(fm));
	rawio_store_close(t->s); /* its checkpoint fails: the device is gone */
	t->s = NULL;
	memset(&t->o, 0, sizeof(t->o));
	t->o.size = sizeof(t->o);
	t->o.engine = "sync";
	return t_store_reopen(t, false);
}

/* How many slots hold a header of ours (decodable, any flags)? */
static int headers_on_disk(const char *path, unsigned *n)
{
	struct store_geometry g;
	char hdr[STORE_BLOCK];

	CHECK_OK(t_geometry(path, &g));
	*n = 0;
	for (uint64_t i = 0; i < g.slot_count; i++) {
		struct store_slot_hdr h;

		CHECK_OK(t_raw(path, false, hdr, sizeof(hdr), store_slot_off(&g, i)));
		*n += store_slot_hdr_decode(hdr, sizeof(hdr), &g, &h) == 0;
	}
	return 0;
}

static int one_thread(void)
{
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = 1, .keep_pct = 100 };
	struct rawio_fault_model *fm;
	struct rawio_fault_range fail_flush;
	struct rawio_store_recovery r;
	char val[3000], got[3000];
	struct t_store t;
	unsigned n;

	memset(val, 'v', sizeof(val));
	CHECK_OK(t_store_new(&t, "gflush1", 2u << 20, SLOT, "sync"));
	CHECK_OK(rawio_fault_model_new(&fm, &mo));
	CHECK_OK(open_faulty(&t, fm, &fail_flush));
	CHECK(rawio_store_put(t.s, "lost", 4, val, sizeof(val), RAWIO_STORE_DURABLE) == -EIO,
	      "the put whose flush failed was acknowledged");
	CHECK_OK(rawio_store_put(t.s, "kept", 4, val, sizeof(val), RAWIO_STORE_DURABLE));
	CHECK_OK(power_cycle(&t, fm));
	CHECK_OK(headers_on_disk(t.path, &n));
	CHECK(n == 1, "%u slot headers on disk, want 1 (kept's)", n);
	rawio_store_recovery(t.s, &r);
	CHECK(r.damaged == 0 && r.nr_found == 0, "recovery found %llu",
	      (unsigned long long)r.nr_found);
	CHECK(rawio_store_get(t.s, "lost", 4, got, sizeof(got)) == -ENOENT, "lost is there");
	CHECK(rawio_store_get(t.s, "kept", 4, got, sizeof(got)) == (ssize_t)sizeof(val) &&
		      !memcmp(val, got, sizeof(val)),
	      "kept is not");
	t_store_done(&t);
	rawio_fault_model_free(fm);
	return 0;
}

struct putter {
	struct rawio_store *s;
	int id;
	int acked[8]; /* 1: put returned 0 */
};

static void *putter(void *arg)
{
	struct putter *p = arg;
	char key[16], val[2000];

	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "t%d-%d", p->id, i);
		memset(val, 'a' + i, sizeof(val));
		p->acked[i] = rawio_store_put(p->s, key, strlen(key), val, sizeof(val),
					      RAWIO_STORE_DURABLE) == 0;
	}
	return NULL;
}

static int threads(void)
{
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = 2, .lose_pct = 100 };
	struct rawio_fault_model *fm;
	struct rawio_fault_range fail_flush;
	struct rawio_store_recovery r;
	struct putter p[THREADS];
	pthread_t tid[THREADS];
	char key[16], val[2000], got[2000];
	unsigned failed = 0;
	struct t_store t;

	CHECK_OK(t_store_new(&t, "gflush4", 2u << 20, SLOT, "sync"));
	CHECK_OK(rawio_fault_model_new(&fm, &mo));
	CHECK_OK(open_faulty(&t, fm, &fail_flush));
	for (int i = 0; i < THREADS; i++) {
		p[i] = (struct putter){ .s = t.s, .id = i };
		CHECK(pthread_create(&tid[i], NULL, putter, &p[i]) == 0, "thread");
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	/* Every write not flushed is lost at the cut: only what was acknowledged can be there. */
	CHECK_OK(power_cycle(&t, fm));
	rawio_store_recovery(t.s, &r);
	CHECK(r.damaged == 0 && r.nr_found == 0, "recovery found %llu",
	      (unsigned long long)r.nr_found);
	for (int id = 0; id < THREADS; id++)
		for (int i = 0; i < 8; i++) {
			ssize_t n;

			snprintf(key, sizeof(key), "t%d-%d", id, i);
			memset(val, 'a' + i, sizeof(val));
			n = rawio_store_get(t.s, key, strlen(key), got, sizeof(got));
			failed += !p[id].acked[i];
			CHECK(!p[id].acked[i] ||
				      (n == (ssize_t)sizeof(val) && !memcmp(val, got, sizeof(val))),
			      "%s was acknowledged, get gave %zd", key, n);
		}
	/* Each pooled context fails its first flush: at least one put saw it. */
	CHECK(failed >= 1, "no put failed");
	t_store_done(&t);
	rawio_fault_model_free(fm);
	return 0;
}

int main(void)
{
	CHECK_OK(one_thread());
	CHECK_OK(threads());
	return T_PASS;
}
