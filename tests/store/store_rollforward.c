// SPDX-License-Identifier: MIT
/*
 * Roll forward: a process that puts, overwrites and deletes after the last
 * checkpoint and then dies without closing loses none of it. The overwritten
 * versions it left behind lose to the newer generations, and recovery zeroes
 * them so that a later scan cannot bring them back.
 */
#include <sys/wait.h>

#include "store_test.h"

static int child(struct t_store *t)
{
	char key[16], val[32];

	if (t_store_reopen(t, false))
		return 1;
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		snprintf(val, sizeof(val), "fresh-%d", i);
		if (t_put_str(t->s, key, val, 0))
			return 1;
	}
	if (t_put_str(t->s, "old0", "rewritten", 0) || t_put_str(t->s, "old1", "again", 0) ||
	    rawio_store_delete(t->s, "old2", 4, 0))
		return 1;
	_exit(0); /* no close, no checkpoint: a crash as far as the store can tell */
}

int main(void)
{
	struct rawio_store_recovery r;
	struct t_store t;
	char key[16], val[32];
	int status;
	pid_t pid;

	CHECK_OK(t_store_new(&t, "rf", 16u << 20, 64 << 10, "uring"));
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		snprintf(val, sizeof(val), "original-%d", i);
		CHECK_OK(t_put_str(t.s, key, val, 0));
	}
	rawio_store_close(t.s);
	t.s = NULL;

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(child(&t));
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed");

	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.loaded == 10, "loaded %llu", (unsigned long long)r.loaded);
	CHECK(r.rolled_forward == 7, "rolled forward %llu, want 7",
	      (unsigned long long)r.rolled_forward);
	CHECK(r.superseded == 2, "superseded %llu, want 2", (unsigned long long)r.superseded);
	CHECK(r.dropped_mismatch == 1, "dropped %llu (the deleted one), want 1",
	      (unsigned long long)r.dropped_mismatch);
	CHECK(r.entries == 14, "%llu entries, want 14", (unsigned long long)r.entries);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		snprintf(val, sizeof(val), "fresh-%d", i);
		CHECK_OK(t_get_is(t.s, key, val));
	}
	CHECK_OK(t_get_is(t.s, "old0", "rewritten"));
	CHECK_OK(t_get_is(t.s, "old1", "again"));
	CHECK(rawio_store_get(t.s, "old2", 4, NULL, 0) == -ENOENT, "deleted key came back");
	CHECK_OK(t_get_is(t.s, "old3", "original-3"));
	CHECK(r.stale_zeroed == 2, "zeroed %llu leftovers, want 2",
	      (unsigned long long)r.stale_zeroed);

	/* The leftovers are gone: a scan from headers alone agrees. */
	rawio_store_close(t.s);
	t.s = NULL;
	t.o.recover = RAWIO_STORE_RECOVER_SCAN;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.entries == 14 && r.superseded == 0, "scan: %llu entries, %llu superseded",
	      (unsigned long long)r.entries, (unsigned long long)r.superseded);
	CHECK_OK(t_get_is(t.s, "old0", "rewritten"));
	t_store_done(&t);
	return T_PASS;
}
