// SPDX-License-Identifier: MIT
/*
 * One damaged superblock copy: the store opens, check reports it, and a
 * read-write open (recover) rewrites it from the good copy, after which
 * check is clean and both copies are identical.
 */
#include "store_test.h"

int main(void)
{
	struct t_store t;
	char a[STORE_BLOCK], b[STORE_BLOCK], report[1024];
	int ret;

	CHECK_OK(t_store_new(&t, "sbrep", 4u << 20, 64 << 10, "sync"));
	CHECK_OK(t_put_str(t.s, "k", "v", 0));
	rawio_store_close(t.s);
	t.s = NULL;
	for (int copy = 0; copy < 2; copy++) {
		CHECK_OK(t_raw(t.path, false, b, sizeof(b), (uint64_t)copy * STORE_BLOCK));
		b[40] ^= 0x01; /* slot_count: the crc no longer matches */
		CHECK_OK(t_raw(t.path, true, b, sizeof(b), (uint64_t)copy * STORE_BLOCK));
		ret = rawio_store_check(t.path, NULL, report, sizeof(report));
		CHECK(ret == 1 && strstr(report, "superblock"), "check, copy %d damaged: %d: %s",
		      copy, ret, report);
		CHECK_OK(t_store_reopen(&t, true));
		rawio_store_close(t.s);
		t.s = NULL;
		ret = rawio_store_check(t.path, NULL, report, sizeof(report));
		CHECK(ret == 0, "check after a read-write open, copy %d: %d: %s", copy, ret,
		      report);
		CHECK_OK(t_raw(t.path, false, a, sizeof(a), 0));
		CHECK_OK(t_raw(t.path, false, b, sizeof(b), STORE_BLOCK));
		CHECK(!memcmp(a, b, sizeof(a)), "the copies differ after the repair of copy %d",
		      copy);
	}
	t_store_done(&t);
	return T_PASS;
}
