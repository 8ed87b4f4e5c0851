/* SPDX-License-Identifier: MIT */
/*
 * dev: librados and librbd, loaded with dlopen by the first rbd: path
 * (src/dev/rbd_lib.c), not linked. Linking them made every process that
 * links librawio pay librados's start-up (its static constructors: seconds
 * under ASan), rbd: path or not, and made librbd a hard dependency of the
 * rawio command. The build needs only their headers (librbd-dev,
 * librados-dev); a process without the libraries opens every other device.
 */
#ifndef RAWIO_DEV_RBD_LIB_H
#define RAWIO_DEV_RBD_LIB_H

#include <stddef.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

/* What the loader opens (the sonames of Debian's librados2 and librbd1). */
#define RBD_LIB_RADOS_SO "librados.so.2"
#define RBD_LIB_RBD_SO	 "librbd.so.1"

/* Every librados and librbd function rawio calls: one place to add one. */
#define RBD_LIB_RADOS_FUNCS(X)  \
	X(rados_create)         \
	X(rados_conf_read_file) \
	X(rados_conf_set)       \
	X(rados_conf_get)       \
	X(rados_connect)        \
	X(rados_shutdown)       \
	X(rados_cluster_fsid)   \
	X(rados_ioctx_create)   \
	X(rados_ioctx_destroy)  \
	X(rados_ioctx_set_namespace)

#define RBD_LIB_RBD_FUNCS(X)           \
	X(rbd_open)                    \
	X(rbd_open_read_only)          \
	X(rbd_close)                   \
	X(rbd_stat)                    \
	X(rbd_get_features)            \
	X(rbd_get_stripe_unit)         \
	X(rbd_get_stripe_count)        \
	X(rbd_list_lockers)            \
	X(rbd_lock_get_owners)         \
	X(rbd_lock_get_owners_cleanup) \
	X(rbd_lock_acquire)            \
	X(rbd_aio_create_completion)   \
	X(rbd_aio_get_return_value)    \
	X(rbd_aio_release)             \
	X(rbd_aio_read)                \
	X(rbd_aio_write)               \
	X(rbd_aio_write_zeroes)        \
	X(rbd_aio_flush)

/*
 * The functions, each a pointer of the type its header declares (a changed
 * prototype fails the build, as a link would), named as the function:
 * lib->rbd_open(...).
 */
struct rbd_lib {
#define RBD_LIB_FIELD(name) __typeof__(name) *name;
	RBD_LIB_RADOS_FUNCS(RBD_LIB_FIELD)
	RBD_LIB_RBD_FUNCS(RBD_LIB_FIELD)
#undef RBD_LIB_FIELD
	void *rados_dl, *rbd_dl; /* dlopen's handles */
};

/*
 * rbd_lib_get - the process's table: the first call loads RBD_LIB_RADOS_SO
 * and RBD_LIB_RBD_SO (rbd_lib_load), every later call returns what it did. 0
 * with *OUT set; -EOPNOTSUPP with ERRBUF saying which library or function is
 * missing and dlerror()'s words (the same for every call: a failed load is
 * not retried). The libraries stay loaded until the process ends.
 * Thread-safe (pthread_once).
 */
int rbd_lib_get(const struct rbd_lib **out, char *errbuf, size_t errlen);

/*
 * rbd_lib_load - dlopen RADOS_SO, then RBD_SO (file names as dlopen takes
 * them), and fill LIB with every function of RBD_LIB_*_FUNCS. 0, or
 * -EOPNOTSUPP with a line in ERRBUF naming the library (its file name) or the
 * function and dlerror()'s reason; on failure nothing stays open. A loaded
 * library is never unloaded (RTLD_NODELETE: librados's threads and
 * destructors do not survive dlclose). Not thread-safe on one LIB.
 */
int rbd_lib_load(struct rbd_lib *lib, const char *rados_so, const char *rbd_so, char *errbuf,
		 size_t errlen);

#endif
