// SPDX-License-Identifier: MIT
/*
 * rbd_lib: loading librados and librbd with dlopen (src/dev/rbd_lib.c).
 *
 *   rbd_lib missing  the loader on a library file that does not exist, and on
 *                    one that is not librados (libm): -EOPNOTSUPP, and one line
 *                    naming the library or the function and dlerror()'s reason.
 *                    Loads nothing of Ceph: cheap in every preset.
 *   rbd_lib real     the process's table (rbd_lib_get) from the real sonames:
 *                    every function found, the same table on a second call.
 *                    Skips where librados2 or librbd1 is not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rawio/rawio.h>

#include "dev/rbd_lib.h"
#include "harness.h"

#define NOWHERE_RADOS "/nonexistent/rawio-test/librados.so.2"
#define NOWHERE_RBD   "/nonexistent/rawio-test/librbd.so.1"

/* A failed load: -EOPNOTSUPP, a line saying each of WANT, and an empty table. */
static int expect_fail(const char *rados_so, const char *rbd_so, const char *const *want)
{
	struct rbd_lib lib;
	char err[512] = "";
	int ret;

	memset(&lib, 0xa5, sizeof(lib));
	ret = rbd_lib_load(&lib, rados_so, rbd_so, err, sizeof(err));
	printf("%s + %s: %d: %s\n", rados_so, rbd_so, ret, err);
	CHECK(ret == -EOPNOTSUPP, "load %s, %s: %d, expected -EOPNOTSUPP", rados_so, rbd_so, ret);
	for (; *want; want++)
		CHECK(strstr(err, *want), "the message '%s' does not say '%s'", err, *want);
	CHECK(!lib.rados_dl && !lib.rbd_dl && !lib.rados_create && !lib.rbd_aio_flush,
	      "a failed load leaves the table empty");
	return T_PASS;
}

static int test_missing(void)
{
	int ret;

	/* librados is not there: named, with the file and dlopen's reason. */
	ret = expect_fail(NOWHERE_RADOS, NOWHERE_RBD,
			  (const char *const[]){ "cannot load librados", "librados2", NOWHERE_RADOS,
						 "No such file or directory", NULL });
	if (ret)
		return ret;
	/* librados loads (libm stands in: nothing of it is looked up before librbd opens). */
	ret = expect_fail("libm.so.6", NOWHERE_RBD,
			  (const char *const[]){ "cannot load librbd", "librbd1", NOWHERE_RBD,
						 "No such file or directory", NULL });
	if (ret)
		return ret;
	/* Both files load but are not Ceph's: the first function looked up is named. */
	return expect_fail("libm.so.6", "libm.so.6",
			   (const char *const[]){ "librados lacks rados_create",
						  "undefined symbol: rados_create", NULL });
}

static int test_real(void)
{
	const struct rbd_lib *lib = NULL, *again = NULL;
	char err[512] = "";
	int ret;

	ret = rbd_lib_get(&lib, err, sizeof(err));
	if (ret == -EOPNOTSUPP && strstr(err, "cannot load"))
		SKIP("%s", err);
	CHECK(ret == 0, "rbd_lib_get: %d: %s", ret, err);
	/* rbd_lib_load fills every slot or fails; look anyway, one slot at a time. */
#define RBD_LIB_TEST_SLOT(name) CHECK(lib->name, "%s not set", #name);
	RBD_LIB_RADOS_FUNCS(RBD_LIB_TEST_SLOT)
	RBD_LIB_RBD_FUNCS(RBD_LIB_TEST_SLOT)
#undef RBD_LIB_TEST_SLOT
	CHECK(lib->rados_dl && lib->rbd_dl, "the handles are kept");
	CHECK_OK(rbd_lib_get(&again, err, sizeof(err)));
	CHECK(again == lib, "a second call returns the same table");
	return T_PASS;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "missing"))
		return test_missing();
	if (argc == 2 && !strcmp(argv[1], "real"))
		return test_real();
	fprintf(stderr, "usage: %s missing|real\n", argv[0]);
	return T_FAIL;
}
