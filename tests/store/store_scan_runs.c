// SPDX-License-Identifier: MIT
/*
 * 4 KiB slots are read in runs of adjacent headers: every header is still
 * judged, the phase timings add up, and an EIO on one header inside a run
 * drops exactly that entry (the run is re-read slot by slot), on every engine
 * under the fault engine.
 */
#include "store_test.h"

#define NR 300

int main(int argc, char **argv)
{
	const char *lower = argc > 1 ? argv[1] : "uring";
	const uint64_t bad_slots[2] = { 70, 201 };
	struct rawio_fault_range bad[2];
	struct rawio_store_recovery r;
	struct rawio_store_stat st;
	struct t_store t;
	char key[16];

	CHECK_OK(t_store_new(&t, "scan_runs", 4u << 20, 4096, "uring"));
	for (int i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_OK(rawio_store_put(t.s, key, strlen(key), NULL, 0, 0));
	}
	/* fresh store: object i is in slot i */
	CHECK_OK(t_reopen_faulty(&t, lower, bad_slots, 2, bad));
	rawio_store_recovery(t.s, &r);
	rawio_store_stat(t.s, &st);
	CHECK(r.headers_read == st.slot_count, "%s: %llu headers read of %llu slots", lower,
	      (unsigned long long)r.headers_read, (unsigned long long)st.slot_count);
	CHECK(r.dropped_io == 2, "%s: dropped_io %llu, want 2", lower,
	      (unsigned long long)r.dropped_io);
	CHECK(r.retried >= 2 && r.retried <= st.slot_count, "%s: %llu re-read alone", lower,
	      (unsigned long long)r.retried);
	CHECK(r.validated == NR - 2 && r.entries == NR - 2, "%s: validated %llu, entries %llu",
	      lower, (unsigned long long)r.validated, (unsigned long long)r.entries);
	CHECK(r.open_ns >= r.ns && r.ns >= r.read_ns && r.read_ns > 0,
	      "%s: open %llu ns, recovery %llu, reading %llu", lower, (unsigned long long)r.open_ns,
	      (unsigned long long)r.ns, (unsigned long long)r.read_ns);
	CHECK(r.open_ns >= r.super_ns + r.index_ns + r.checkpoint_ns + r.read_ns + r.roll_ns,
	      "%s: phases exceed the open", lower);
	for (int i = 0; i < NR; i++) {
		bool bad_one = i == 70 || i == 201;
		ssize_t n;

		snprintf(key, sizeof(key), "k%d", i);
		n = rawio_store_get(t.s, key, strlen(key), NULL, 0);
		CHECK(bad_one ? n == -ENOENT : n == 0, "%s: key %s: %zd", lower, key, n);
	}
	t_store_done(&t);
	return T_PASS;
}
