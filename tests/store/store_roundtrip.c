// SPDX-License-Identifier: MIT
/* Round trips of every size class, binary keys, overwrite, delete, bad arguments, reopen. */
#include "store_test.h"

#define SLOT (64u << 10)

int main(void)
{
	const size_t sizes[] = { 0, 1, 511, 4095, 4096, 4097, SLOT - STORE_BLOCK };
	uint8_t key[RAWIO_STORE_KEY_MAX];
	struct rawio_store_stat st;
	struct t_store t;
	char *buf = malloc(SLOT), *out = malloc(SLOT);
	ssize_t n;

	CHECK(buf && out, "malloc");
	CHECK_OK(t_store_new(&t, "rt", 16u << 20, SLOT, "uring"));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)i; /* binary keys with zero bytes in them */
		t_fill(buf, SLOT, i + 1, 0);
		CHECK_OK(rawio_store_put(t.s, key, sizeof(key), buf, sizes[i], 0));
		n = rawio_store_get(t.s, key, sizeof(key), out, SLOT);
		CHECK(n == (ssize_t)sizes[i], "size %zu: get returned %zd", sizes[i], n);
		CHECK(!memcmp(buf, out, sizes[i]), "size %zu: data differs", sizes[i]);
	}
	rawio_store_stat(t.s, &st);
	CHECK(st.objects == 7, "%llu objects", (unsigned long long)st.objects);

	/* Too long, bad keys, a buffer too small (returns the length, copies nothing). */
	CHECK(rawio_store_put(t.s, "k", 1, buf, SLOT - STORE_BLOCK + 1, 0) == -EFBIG, "EFBIG");
	CHECK(rawio_store_put(t.s, "", 0, buf, 1, 0) == -EINVAL, "empty key");
	CHECK(rawio_store_put(t.s, buf, 33, buf, 1, 0) == -EINVAL, "33-byte key");
	CHECK_OK(t_put_str(t.s, "small", "0123456789", 0));
	memset(out, 'x', 4);
	CHECK(rawio_store_get(t.s, "small", 5, out, 4) == 10, "short buffer gives the length");
	CHECK(out[0] == 'x', "short buffer was written to");

	/* Overwrite and delete, durable and not. */
	CHECK_OK(t_put_str(t.s, "k", "one", 0));
	CHECK_OK(t_put_str(t.s, "k", "two", RAWIO_STORE_DURABLE));
	CHECK_OK(t_get_is(t.s, "k", "two"));
	CHECK_OK(t_put_str(t.s, "gone", "soon", 0));
	CHECK_OK(rawio_store_delete(t.s, "gone", 4, RAWIO_STORE_DURABLE));
	CHECK(rawio_store_get(t.s, "gone", 4, out, SLOT) == -ENOENT, "deleted key still there");
	CHECK(rawio_store_delete(t.s, "gone", 4, 0) == -ENOENT, "second delete");

	/* Everything survives close and reopen. */
	CHECK_OK(t_store_reopen(&t, true));
	CHECK_OK(t_get_is(t.s, "k", "two"));
	CHECK_OK(t_get_is(t.s, "small", "0123456789"));
	CHECK(rawio_store_get(t.s, "gone", 4, out, SLOT) == -ENOENT, "deleted key came back");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)i;
		t_fill(buf, SLOT, i + 1, 0);
		n = rawio_store_get(t.s, key, sizeof(key), out, SLOT);
		CHECK(n == (ssize_t)sizes[i] && !memcmp(buf, out, sizes[i]),
		      "after reopen: size %zu", sizes[i]);
	}
	rawio_store_stat(t.s, &st);
	CHECK(st.objects == 9, "%llu objects after reopen", (unsigned long long)st.objects);
	CHECK(st.index_bytes <= 64 * st.slot_count, "index uses %llu bytes for %llu slots",
	      (unsigned long long)st.index_bytes, (unsigned long long)st.slot_count);
	t_store_done(&t);
	free(buf);
	free(out);
	return T_PASS;
}
