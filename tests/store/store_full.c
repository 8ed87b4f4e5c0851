// SPDX-License-Identifier: MIT
/* A full store says -ENOSPC, loses nothing, and takes puts again after a delete. */
#include "store_test.h"

int main(void)
{
	struct rawio_store_stat st;
	struct t_store t;
	char key[32];
	uint64_t n;

	CHECK_OK(t_store_new(&t, "full", 4u << 20, 4096, "aio"));
	rawio_store_stat(t.s, &st);
	CHECK(st.slot_count > 100, "%llu slots", (unsigned long long)st.slot_count);
	for (n = 0; n < st.slot_count; n++) {
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)n);
		CHECK_OK(rawio_store_put(t.s, key, strlen(key), NULL, 0, 0));
	}
	CHECK(rawio_store_put(t.s, "one-more", 8, NULL, 0, 0) == -ENOSPC, "put into a full store");
	/* An overwrite needs a free slot too (the old version stays until the new is written). */
	CHECK(rawio_store_put(t.s, "k0", 2, NULL, 0, 0) == -ENOSPC, "overwrite in a full store");
	CHECK(rawio_store_get(t.s, "k0", 2, NULL, 0) == 0, "k0 lost by a refused overwrite");
	CHECK_OK(rawio_store_delete(t.s, "k1", 2, 0));
	CHECK_OK(rawio_store_put(t.s, "one-more", 8, NULL, 0, 0));
	CHECK_OK(t_store_reopen(&t, true));
	rawio_store_stat(t.s, &st);
	CHECK(st.objects == st.slot_count, "%llu objects of %llu after reopen",
	      (unsigned long long)st.objects, (unsigned long long)st.slot_count);
	t_store_done(&t);
	return T_PASS;
}
