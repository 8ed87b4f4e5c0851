// SPDX-License-Identifier: MIT
/*
 * dev: librados and librbd, loaded on the first rbd: path (rbd_lib.h says why).
 *
 * RTLD_GLOBAL, as linking would have done: libceph-common loads its plugins
 * (ceph/crypto, ceph/compressor) with dlopen, and they take Ceph's symbols
 * from the global scope instead of naming libceph-common as a dependency.
 * RTLD_NOW: a librbd too old for a function we call fails here, once, naming
 * it, not at the first request.
 *
 * The table of functions is the library's one piece of process-wide state
 * (STYLE: no global mutable state): written once under pthread_once, read
 * only after, because what it points into, a dlopen'd library, is
 * process-wide itself.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "rbd_lib.h"
#include "util/errbuf.h"

#define RBD_LIB_FLAGS (RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE)

/* Look NAME up in WHAT's DL into *SLOT. 0, or -EOPNOTSUPP with the line in ERRBUF. */
static int rbd_lib_sym(void *dl, const char *what, const char *name, void **slot, char *errbuf,
		       size_t errlen)
{
	const char *why;

	dlerror();
	*slot = dlsym(dl, name);
	if (*slot)
		return 0;
	why = dlerror();
	errbuf_set(errbuf, errlen, "%s lacks %s (%s): older than the headers rawio was built with",
		   what, name, why ? why : "a NULL symbol");
	return -EOPNOTSUPP;
}

/* dlopen SO, which is WHAT (Debian's package PKG). NULL with the line in ERRBUF. */
static void *rbd_lib_open(const char *so, const char *what, const char *pkg, char *errbuf,
			  size_t errlen)
{
	void *dl = dlopen(so, RBD_LIB_FLAGS);
	const char *why;

	if (dl)
		return dl;
	why = dlerror(); /* names the file */
	errbuf_set(errbuf, errlen, "cannot load %s (Debian: apt install %s): %s", what, pkg,
		   why ? why : so);
	return NULL;
}

int rbd_lib_load(struct rbd_lib *lib, const char *rados_so, const char *rbd_so, char *errbuf,
		 size_t errlen)
{
	int ret;

	memset(lib, 0, sizeof(*lib));
	lib->rados_dl = rbd_lib_open(rados_so, "librados", "librados2", errbuf, errlen);
	if (!lib->rados_dl)
		goto fail;
	lib->rbd_dl = rbd_lib_open(rbd_so, "librbd", "librbd1", errbuf, errlen);
	if (!lib->rbd_dl)
		goto close_rados;
#define RBD_LIB_RADOS_SYM(name)                                                                   \
	ret = rbd_lib_sym(lib->rados_dl, "librados", #name, (void **)&lib->name, errbuf, errlen); \
	if (ret)                                                                                  \
		goto close_rbd;
#define RBD_LIB_RBD_SYM(name)                                                                 \
	ret = rbd_lib_sym(lib->rbd_dl, "librbd", #name, (void **)&lib->name, errbuf, errlen); \
	if (ret)                                                                              \
		goto close_rbd;
	RBD_LIB_RADOS_FUNCS(RBD_LIB_RADOS_SYM)
	RBD_LIB_RBD_FUNCS(RBD_LIB_RBD_SYM)
#undef RBD_LIB_RADOS_SYM
#undef RBD_LIB_RBD_SYM
	return 0;

close_rbd:
	dlclose(lib->rbd_dl);
close_rados:
	dlclose(lib->rados_dl);
fail:
	memset(lib, 0, sizeof(*lib));
	return -EOPNOTSUPP;
}

/* Written once, under rbd_lib_once, then only read. */
static pthread_once_t rbd_lib_once = PTHREAD_ONCE_INIT;
static struct rbd_lib rbd_lib_table;
static int rbd_lib_ret;
static char rbd_lib_why[256];

static void rbd_lib_init(void)
{
	rbd_lib_ret = rbd_lib_load(&rbd_lib_table, RBD_LIB_RADOS_SO, RBD_LIB_RBD_SO, rbd_lib_why,
				   sizeof(rbd_lib_why));
}

int rbd_lib_get(const struct rbd_lib **out, char *errbuf, size_t errlen)
{
	pthread_once(&rbd_lib_once, rbd_lib_init);
	if (rbd_lib_ret) {
		errbuf_set(errbuf, errlen, "%s", rbd_lib_why);
		return rbd_lib_ret;
	}
	*out = &rbd_lib_table;
	return 0;
}
