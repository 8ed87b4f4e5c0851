// SPDX-License-Identifier: MIT
/*
 * A checkpoint body of several read chunks (16,500 entries: 1.01 MiB, read
 * 1 MiB at a time with reads in flight ahead of the decoding) loads whole on
 * the engine given as argument; damage in its last chunk fails the body's crc,
 * and recovery falls back to the other checkpoint (the one close wrote before).
 */
#include "store_test.h"

#define NR 16500

int main(int argc, char **argv)
{
	const char *engine = argc > 1 ? argv[1] : "uring";
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct store_cp_hdr h[2];
	struct t_store t;
	char blk[STORE_BLOCK], key[16];
	uint64_t off;
	int newest;

	CHECK_OK(t_store_new(&t, "cpchunks", (uint64_t)(NR + 64) * STORE_BLOCK + (8u << 20),
			     STORE_BLOCK, engine));
	CHECK_OK(t_put_str(t.s, "first", "", 0));
	for (int i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_OK(t_put_str(t.s, key, "", 0)); /* 4 KiB slots: all header */
	}
	CHECK_OK(rawio_store_checkpoint(t.s));
	t.o.read_only = true;
	CHECK_OK(t_store_reopen(&t, true));
	rawio_store_recovery(t.s, &r);
	CHECK(!r.checkpoint_fallback && r.loaded == NR + 1 && r.validated == NR + 1,
	      "%s: loaded %llu, validated %llu of %d", engine, (unsigned long long)r.loaded,
	      (unsigned long long)r.validated, NR + 1);
	CHECK_OK(t_get_is(t.s, "k0", ""));
	CHECK_OK(t_get_is(t.s, "k16499", ""));
	rawio_store_close(t.s);
	t.s = NULL;

	/* One bit in the last chunk of the newest body. */
	CHECK_OK(t_geometry(t.path, &g));
	for (int i = 0; i < 2; i++) {
		CHECK_OK(t_raw(t.path, false, blk, STORE_BLOCK, g.cp_off[i]));
		CHECK_OK(store_cp_hdr_decode(blk, STORE_BLOCK, &g, &h[i]));
	}
	newest = h[1].seq > h[0].seq;
	CHECK(h[newest].body_len > (1u << 20), "body of %llu bytes: one chunk",
	      (unsigned long long)h[newest].body_len);
	off = g.cp_off[newest] + STORE_BLOCK + (h[newest].body_len - 1) / STORE_BLOCK * STORE_BLOCK;
	CHECK_OK(t_raw(t.path, false, blk, STORE_BLOCK, off));
	blk[(h[newest].body_len - 1) % STORE_BLOCK] ^= 0x10;
	CHECK_OK(t_raw(t.path, true, blk, STORE_BLOCK, off));
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.checkpoint_fallback && r.checkpoint == !newest && r.entries == NR + 1,
	      "%s: damaged body: fallback %d, area %d (newest %d), %llu entries", engine,
	      r.checkpoint_fallback, r.checkpoint, newest, (unsigned long long)r.entries);
	CHECK_OK(t_get_is(t.s, "k12345", ""));
	t_store_done(&t);
	return T_PASS;
}
