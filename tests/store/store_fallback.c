// SPDX-License-Identifier: MIT
/*
 * The newest checkpoint damaged (header or body) -> the older one is used, and
 * what came after it is rolled forward; both checkpoints gone -> a scan of the
 * slot headers alone rebuilds the index.
 */
#include "store_test.h"

static int expect_all(struct rawio_store *s)
{
	CHECK_OK(t_get_is(s, "a", "one"));
	CHECK_OK(t_get_is(s, "b", "two"));
	CHECK_OK(t_get_is(s, "c", "three"));
	return T_PASS;
}

/* Open, look, close without writing: each damage case starts from the same bytes. */
static int reopen_ro(struct t_store *t, struct rawio_store_recovery *r)
{
	t->o.read_only = true;
	CHECK_OK(t_store_reopen(t, false));
	rawio_store_recovery(t->s, r);
	return T_PASS;
}

int main(void)
{
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct store_cp_hdr h[2];
	struct t_store t;
	char blk[STORE_BLOCK], saved[2][STORE_BLOCK], zero[STORE_BLOCK] = { 0 };
	int newest;

	CHECK_OK(t_store_new(&t, "fb", 8u << 20, 64 << 10, "uring"));
	CHECK_OK(t_put_str(t.s, "a", "one", 0));
	CHECK_OK(rawio_store_checkpoint(t.s));
	CHECK_OK(t_put_str(t.s, "b", "two", 0));
	CHECK_OK(t_put_str(t.s, "c", "three", 0));
	rawio_store_close(t.s); /* newest checkpoint names a, b, c; the older only a */
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));
	for (int i = 0; i < 2; i++) {
		CHECK_OK(t_raw(t.path, false, saved[i], STORE_BLOCK, g.cp_off[i]));
		CHECK_OK(store_cp_hdr_decode(saved[i], STORE_BLOCK, &g, &h[i]));
	}
	newest = h[1].seq > h[0].seq;
	CHECK(h[newest].entry_count == 3 && h[!newest].entry_count == 1, "entries %llu / %llu",
	      (unsigned long long)h[newest].entry_count,
	      (unsigned long long)h[!newest].entry_count);

	/* 1. The newest header torn. */
	memcpy(blk, saved[newest], STORE_BLOCK);
	blk[20] ^= 1;
	CHECK_OK(t_raw(t.path, true, blk, STORE_BLOCK, g.cp_off[newest]));
	CHECK(reopen_ro(&t, &r) == T_PASS, "reopen");
	CHECK(r.checkpoint_fallback && r.checkpoint == !newest, "fallback %d, area %d",
	      r.checkpoint_fallback, r.checkpoint);
	CHECK(r.loaded == 1 && r.rolled_forward == 2, "loaded %llu, rolled forward %llu",
	      (unsigned long long)r.loaded, (unsigned long long)r.rolled_forward);
	CHECK(expect_all(t.s) == T_PASS, "objects after a torn newest header");
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK_OK(t_raw(t.path, true, saved[newest], STORE_BLOCK, g.cp_off[newest]));

	/* 2. The newest body damaged: its crc fails. */
	CHECK_OK(t_raw(t.path, false, blk, STORE_BLOCK, g.cp_off[newest] + STORE_BLOCK));
	blk[70] ^= 0x40;
	CHECK_OK(t_raw(t.path, true, blk, STORE_BLOCK, g.cp_off[newest] + STORE_BLOCK));
	CHECK(reopen_ro(&t, &r) == T_PASS, "reopen");
	CHECK(r.checkpoint_fallback && r.checkpoint == !newest, "body: fallback %d, area %d",
	      r.checkpoint_fallback, r.checkpoint);
	CHECK(expect_all(t.s) == T_PASS, "objects after a damaged newest body");
	rawio_store_close(t.s);
	t.s = NULL;

	/* 3. Both checkpoints gone: default recovery scans; so does --mode scan. */
	for (int i = 0; i < 2; i++)
		CHECK_OK(t_raw(t.path, true, zero, STORE_BLOCK, g.cp_off[i]));
	CHECK(reopen_ro(&t, &r) == T_PASS, "reopen");
	CHECK(r.checkpoint == -1 && r.rolled_forward == 3 && r.entries == 3,
	      "no checkpoint: area %d, rolled forward %llu", r.checkpoint,
	      (unsigned long long)r.rolled_forward);
	CHECK(expect_all(t.s) == T_PASS, "objects without checkpoints");
	rawio_store_close(t.s);
	t.s = NULL;
	t.o.recover = RAWIO_STORE_RECOVER_SCAN;
	CHECK(reopen_ro(&t, &r) == T_PASS, "reopen");
	CHECK(r.mode == RAWIO_STORE_RECOVER_SCAN && r.entries == 3, "scan found %llu",
	      (unsigned long long)r.entries);
	CHECK(expect_all(t.s) == T_PASS, "objects from a scan");
	t_store_done(&t);
	return T_PASS;
}
