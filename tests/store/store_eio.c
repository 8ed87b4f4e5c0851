// SPDX-License-Identifier: MIT
/*
 * EIO on 3 slot headers (fault engine) during recovery drops exactly those 3
 * entries, after each was read again alone; the rest come back, on every
 * engine under the fault engine.
 */
#include "store_test.h"

#define NR 200

int main(int argc, char **argv)
{
	const char *lower = argc > 1 ? argv[1] : "uring";
	struct rawio_fault_range bad[3];
	struct rawio_store_recovery r;
	struct t_store t;
	char key[16], val[16];
	const uint64_t bad_slots[3] = { 3, 77, NR - 1 };

	CHECK_OK(t_store_new(&t, "eio", 32u << 20, 64 << 10, "uring"));
	for (int i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		CHECK_OK(t_put_str(t.s, key, val, 0));
	}
	/* fresh store: object i is in slot i */
	CHECK_OK(t_reopen_faulty(&t, lower, bad_slots, 3, bad));
	rawio_store_recovery(t.s, &r);
	CHECK(r.dropped_io == 3, "%s: dropped_io %llu, want 3", lower,
	      (unsigned long long)r.dropped_io);
	CHECK(r.retried == 3, "%s: %llu re-read alone, want 3", lower,
	      (unsigned long long)r.retried);
	CHECK(r.validated == NR - 3 && r.entries == NR - 3, "%s: validated %llu, entries %llu",
	      lower, (unsigned long long)r.validated, (unsigned long long)r.entries);
	for (int i = 0; i < NR; i++) {
		bool bad_one = i == 3 || i == 77 || i == NR - 1;
		ssize_t n;

		snprintf(key, sizeof(key), "k%d", i);
		n = rawio_store_get(t.s, key, strlen(key), val, sizeof(val));
		CHECK(bad_one ? n == -ENOENT : n > 0, "%s: key %s: %zd", lower, key, n);
	}
	t_store_done(&t);
	return T_PASS;
}
