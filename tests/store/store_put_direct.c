// SPDX-License-Identifier: MIT
/*
 * A put from an aligned buffer whose length is a multiple of the I/O unit is
 * written from that buffer (no bounce copy): it reads back byte for byte, plain
 * and durable, over an unaligned put of the same key and under it, and survives
 * a reopen (recovery checks its payload crc on roll-forward).
 */
#include "store_test.h"

#define LEN ((1u << 20) + (60u << 10))

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed + (i >> 12));
}

static int same(struct rawio_store *s, const char *key, const unsigned char *want, size_t n)
{
	static unsigned char got[LEN + 1];
	ssize_t r = rawio_store_get(s, key, strlen(key), got, sizeof(got));

	return r == (ssize_t)n && !memcmp(got, want, n) ? 0 : -EILSEQ;
}

int main(void)
{
	unsigned char *a = rawio_buf_alloc(LEN + 4096, 4096), *u;
	struct rawio_store *dead;
	struct t_store t;

	CHECK(a != NULL, "buffer");
	u = a + 1; /* unaligned: goes through the bounce buffer */
	CHECK_OK(t_store_new(&t, "put_direct", 24u << 20, 2u << 20, "uring"));
	fill(a, LEN, 1);
	CHECK_OK(rawio_store_put(t.s, "plain", 5, a, LEN, 0));
	CHECK_OK(same(t.s, "plain", a, LEN));
	fill(a, LEN, 2);
	CHECK_OK(rawio_store_put(t.s, "durable", 7, a, LEN, RAWIO_STORE_DURABLE));
	CHECK_OK(same(t.s, "durable", a, LEN));
	/* Unaligned over aligned, aligned over unaligned, and an odd length. */
	fill(u, LEN, 3);
	CHECK_OK(rawio_store_put(t.s, "plain", 5, u, LEN, 0));
	CHECK_OK(same(t.s, "plain", u, LEN));
	fill(a, LEN, 4);
	CHECK_OK(rawio_store_put(t.s, "plain", 5, a, LEN, RAWIO_STORE_DURABLE));
	CHECK_OK(same(t.s, "plain", a, LEN));
	fill(a, LEN - 100, 5);
	CHECK_OK(rawio_store_put(t.s, "odd", 3, a, LEN - 100, 0));
	CHECK_OK(same(t.s, "odd", a, LEN - 100));

	/* Reopen without a checkpoint: every object comes back by roll-forward. */
	dead = t.s;
	t_store_crashed(dead);
	t.s = NULL;
	CHECK_OK(t_store_reopen(&t, false));
	CHECK_OK(same(t.s, "odd", a, LEN - 100));
	fill(a, LEN, 4);
	CHECK_OK(same(t.s, "plain", a, LEN));
	fill(a, LEN, 2);
	CHECK_OK(same(t.s, "durable", a, LEN));
	t_store_done(&t);
	rawio_store_close(dead); /* its file is gone: nothing it writes is read again */
	rawio_buf_free(a);
	return T_PASS;
}
