// SPDX-License-Identifier: MIT
/*
 * Stale entries are dropped: a slot overwritten behind the checkpoint's back
 * (another valid object's header, zeroes, a damaged header) no longer backs
 * its checkpoint entry, and recovery says which and why.
 */
#include "store_test.h"

struct find {
	const char *key;
	int64_t slot;
};

static int find_fn(void *arg, const struct rawio_store_obj *o)
{
	struct find *f = arg;

	if (o->key_len == strlen(f->key) && !memcmp(o->key, f->key, o->key_len))
		f->slot = (int64_t)o->slot;
	return 0;
}

static int64_t find_slot(struct rawio_store *s, const char *key)
{
	struct find f = { key, -1 };

	rawio_store_list(s, find_fn, &f);
	return f.slot;
}

int main(void)
{
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct t_store t;
	char hdr[STORE_BLOCK], zero[STORE_BLOCK] = { 0 };
	int64_t sa, sb, sc, sd;

	CHECK_OK(t_store_new(&t, "stale", 8u << 20, 64 << 10, "uring"));
	CHECK_OK(t_put_str(t.s, "a", "alpha", 0));
	CHECK_OK(t_put_str(t.s, "b", "beta", 0));
	CHECK_OK(t_put_str(t.s, "c", "gamma", 0));
	CHECK_OK(t_put_str(t.s, "d", "delta", 0));
	sa = find_slot(t.s, "a");
	sb = find_slot(t.s, "b");
	sc = find_slot(t.s, "c");
	sd = find_slot(t.s, "d");
	CHECK(sa >= 0 && sb >= 0 && sc >= 0 && sd >= 0, "slots");
	rawio_store_close(t.s); /* checkpoint names a, b, c, d */
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));

	/* a's slot now holds d's header (another valid object), b's is zeroed, c's damaged. */
	CHECK_OK(t_raw(t.path, false, hdr, sizeof(hdr), store_slot_off(&g, (uint64_t)sd)));
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), store_slot_off(&g, (uint64_t)sa)));
	CHECK_OK(t_raw(t.path, true, zero, sizeof(zero), store_slot_off(&g, (uint64_t)sb)));
	CHECK_OK(t_raw(t.path, false, hdr, sizeof(hdr), store_slot_off(&g, (uint64_t)sc)));
	hdr[40] ^= 0x10;
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), store_slot_off(&g, (uint64_t)sc)));

	t.o.read_only = true; /* look without repairing, so the same verdicts hold twice */
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.loaded == 4, "loaded %llu", (unsigned long long)r.loaded);
	CHECK(r.validated == 1, "validated %llu", (unsigned long long)r.validated);
	CHECK(r.dropped_mismatch == 2 && r.dropped_corrupt == 1,
	      "dropped: %llu mismatch, %llu corrupt", (unsigned long long)r.dropped_mismatch,
	      (unsigned long long)r.dropped_corrupt);
	CHECK(r.entries == 1, "%llu entries left", (unsigned long long)r.entries);
	CHECK_OK(t_get_is(t.s, "d", "delta"));
	CHECK(rawio_store_get(t.s, "a", 1, hdr, sizeof(hdr)) == -ENOENT, "a still there");
	CHECK(rawio_store_get(t.s, "b", 1, hdr, sizeof(hdr)) == -ENOENT, "b still there");
	CHECK(rawio_store_get(t.s, "c", 1, hdr, sizeof(hdr)) == -ENOENT, "c still there");
	t_store_done(&t);
	return T_PASS;
}
