// SPDX-License-Identifier: MIT
/*
 * The ordering promise of a durable put, under each barrier (rawio_store_barrier):
 * the payload is durable before the header flagged "payload durable" can be.
 * One durable put replaces an older durable version of a key while the plug is
 * pulled at each of the put's own writes or flushes in turn (the held writes
 * kept, lost or torn by the seed). After recovery:
 *   - no slot is found DAMAGED (a flagged header over a payload that was not
 *     durable is what recovery would call damage), and get never says -EBADMSG;
 *   - the key holds the old version or the new one, whole; the new one if the
 *     put returned 0.
 * Seeds 3k+1 and 3k+2 put with BARRIER_FLUSH (payload, flush, header, flush),
 * 3k with BARRIER_FUA; odd k put a 1 MiB value from an aligned buffer (written
 * from the caller's buffer, its crc computed while the payload is in flight),
 * even k a 12 KiB one (copied); the cut point and the kind (write or flush)
 * come from the seed as well.
 *
 *   store_barrier [--seed N | --seeds A:B] [-v]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/dev.h>
#include <rawio/store.h>

#include "crash/sweep.h"
#include "harness.h"
#include "util/rng.h"

#define SLOT	    (16u << 10)
#define VAL_LEN	    (SLOT - 4096)
#define BIG_SLOT    (2u << 20)
#define BIG_VAL_LEN (1u << 20) /* store_put_direct_ok: >= 1 MiB, aligned */

struct run {
	char path[256];
	uint64_t seed;
	enum rawio_store_barrier barrier;
	uint32_t slot, val_len;
	char *buf, *want, *got; /* BIG_VAL_LEN each, page-aligned */
	enum rawio_cut cut;
	uint64_t cut_at;
	char why[512];
	struct rawio_fault_model_stat mst;
};

static void value_fill(uint32_t v, char *buf, size_t len)
{
	uint64_t st = v * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = rng_next(&st);

		memcpy(buf + i, &x, 8);
	}
	memcpy(buf, &v, sizeof(v));
}

static int open_store(struct run *r, struct rawio_store **s, struct rawio_fault_model *fm)
{
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "sync", .barrier = r->barrier };

	if (fm) {
		o.engine = "fault";
		o.engine_opts.lower = "sync";
		o.engine_opts.fault_model = fm;
	}
	return rawio_store_open(s, r->path, &o);
}

/* A fresh store holding version 1 of "k", durably (closed: checkpointed). */
static int make_store(struct run *r)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = r->slot,
					     .create_size = 4 * r->slot + (4u << 20),
					     .force = true };
	struct rawio_store *s;
	int ret;

	unlink(r->path);
	ret = rawio_store_format(r->path, &f);
	if (!ret)
		ret = open_store(r, &s, NULL);
	if (ret)
		return ret;
	value_fill(1, r->buf, r->val_len);
	ret = rawio_store_put(s, "k", 1, r->buf, r->val_len, RAWIO_STORE_DURABLE);
	if (ret) {
		rawio_store_close(s);
		return ret;
	}
	return rawio_store_close(s);
}

/*
 * Open on a model, put version 2 durably, pull the plug (at the model's cut point, or
 * after the put). *PUT_RET: the put's result; *W, *F: writes and flushes the open did.
 */
static int put_over_model(struct run *r, const struct rawio_fault_model_opts *mo, int *put_ret,
			  uint64_t *w, uint64_t *f)
{
	struct rawio_fault_model *fm;
	struct rawio_store *s;
	int ret;

	ret = rawio_fault_model_new(&fm, mo);
	if (ret)
		return ret;
	ret = open_store(r, &s, fm);
	if (ret) {
		rawio_fault_model_free(fm);
		return ret;
	}
	rawio_fault_model_stat(fm, &r->mst);
	*w = r->mst.writes + r->mst.fua_writes;
	*f = r->mst.flushes;
	value_fill(2, r->buf, r->val_len);
	*put_ret = rawio_store_put(s, "k", 1, r->buf, r->val_len, RAWIO_STORE_DURABLE);
	rawio_fault_model_cut(fm);
	rawio_fault_model_stat(fm, &r->mst);
	rawio_store_close(s); /* its checkpoint fails: the device is gone */
	rawio_fault_model_free(fm);
	return 0;
}

#define VIOLATION(...)                                         \
	do {                                                   \
		snprintf(r->why, sizeof(r->why), __VA_ARGS__); \
		goto out;                                      \
	} while (0)

static int run_seed(struct run *r)
{
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .seed = r->seed };
	struct rawio_store_recovery rec;
	struct rawio_store *s = NULL;
	uint64_t rng = r->seed ^ 0xba771e5, w0, f0, w1, f1;
	int put_ret, ret;
	ssize_t n;
	uint32_t v;

	r->why[0] = 0;
	r->barrier = r->seed % 3 ? RAWIO_STORE_BARRIER_FLUSH : RAWIO_STORE_BARRIER_FUA;
	r->slot = r->seed / 3 % 2 ? BIG_SLOT : SLOT;
	r->val_len = r->seed / 3 % 2 ? BIG_VAL_LEN : VAL_LEN;
	/* A dry run (no cut) counts the open's writes and flushes and the put's. */
	ret = make_store(r);
	if (!ret)
		ret = put_over_model(r, &mo, &put_ret, &w0, &f0);
	if (ret)
		return ret;
	if (put_ret)
		VIOLATION("durable put without a cut: %s", rawio_strerror(put_ret));
	w1 = r->mst.writes + r->mst.fua_writes - w0;
	f1 = r->mst.flushes - f0;

	/* The real run: the plug pulled at one of the put's writes or flushes. */
	if (!f1 || rng_below(&rng, 2)) {
		r->cut = RAWIO_CUT_AT_WRITE;
		r->cut_at = w0 + 1 + rng_below(&rng, w1);
	} else {
		r->cut = RAWIO_CUT_AT_FLUSH;
		r->cut_at = f0 + 1 + rng_below(&rng, f1);
	}
	mo.cut = r->cut;
	mo.cut_at = r->cut_at;
	ret = make_store(r);
	if (!ret)
		ret = put_over_model(r, &mo, &put_ret, &w0, &f0);
	if (ret)
		return ret;

	ret = open_store(r, &s, NULL);
	if (ret)
		VIOLATION("reopen after the cut: %s", rawio_strerror(ret));
	rawio_store_recovery(s, &rec);
	if (rec.damaged)
		VIOLATION("recovery found %llu damaged slot(s): a flagged header over a payload "
			  "that was not durable",
			  (unsigned long long)rec.damaged);
	n = rawio_store_get(s, "k", 1, r->got, BIG_VAL_LEN);
	if (n != (ssize_t)r->val_len)
		VIOLATION("get after recovery: %zd (%s)", n, n < 0 ? rawio_strerror((int)n) : "");
	memcpy(&v, r->got, sizeof(v));
	if (v != 1 && v != 2)
		VIOLATION("get after recovery: version %u", v);
	value_fill(v, r->want, r->val_len);
	if (memcmp(r->got, r->want, r->val_len))
		VIOLATION("get after recovery: version %u, not whole", v);
	if (!put_ret && v != 2)
		VIOLATION("the put returned 0, yet recovery shows version %u", v);
	/* Last, so that a put missing a flush shows what the cut does to it first. */
	if (r->barrier == RAWIO_STORE_BARRIER_FLUSH && f1 < 2)
		VIOLATION("barrier flush: the put flushed %llu times, not 2",
			  (unsigned long long)f1);
	if (r->barrier == RAWIO_STORE_BARRIER_FUA && f1)
		VIOLATION("barrier fua: the put flushed %llu times", (unsigned long long)f1);
	ret = 0;
out:
	rawio_store_close(s);
	unlink(r->path);
	return r->why[0] ? 1 : ret;
}

static int barrier_sweep_run(struct sweep *s, uint64_t seed, struct sweep_counts *c)
{
	struct run *r = s->arg;
	int ret;

	r->seed = seed;
	ret = run_seed(r);
	sweep_counts_of(&r->mst, c);
	return ret;
}

static void barrier_sweep_describe(struct sweep *s, int ret, FILE *f)
{
	struct run *r = s->arg;

	fprintf(f, ": barrier %s, %u-byte value, cut at %s %llu: %s",
		rawio_store_barrier_name(r->barrier), r->val_len,
		r->cut == RAWIO_CUT_AT_FLUSH ? "flush" : "write", (unsigned long long)r->cut_at,
		ret ? r->why : "ok");
	sweep_fprint_held(f, &r->mst);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sweep s = { .name = "store barrier",
			   .cuts = "cuts",
			   .ops = 1,
			   .image = r.path,
			   .arg = &r,
			   .run = barrier_sweep_run,
			   .describe = barrier_sweep_describe };

	int ret;

	sweep_image_path(r.path, sizeof(r.path), "store-barrier");
	r.buf = rawio_buf_alloc(BIG_VAL_LEN, 4096);
	r.want = rawio_buf_alloc(BIG_VAL_LEN, 4096);
	r.got = rawio_buf_alloc(BIG_VAL_LEN, 4096);
	if (!r.buf || !r.want || !r.got) {
		fprintf(stderr, "store_barrier: no memory for the values\n");
		ret = 1;
		goto out;
	}
	ret = sweep_main(&s, argc, argv);
out:
	rawio_buf_free(r.got);
	rawio_buf_free(r.want);
	rawio_buf_free(r.buf);
	return ret;
}
