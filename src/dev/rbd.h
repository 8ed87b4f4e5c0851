/* SPDX-License-Identifier: MIT */
/*
 * dev: Ceph RBD images (src/dev/rbd.c), the part the rbd engine needs. Only
 * compiled with librbd's headers (RAWIO_HAVE_RBD); the library itself is
 * loaded on the first rbd: path (rbd_lib.h).
 */
#ifndef RAWIO_DEV_RBD_H
#define RAWIO_DEV_RBD_H

#include <pthread.h>
#include <stdbool.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

struct rawio_dev;
struct rbd_lib;

/* The cluster connection a device holds for its life, and which image it names. */
struct dev_rbd {
	const struct rbd_lib *lib; /* librados's and librbd's functions (rbd_lib_get) */
	rados_t cluster;
	rados_ioctx_t ioctx;
	const char *image; /* within spec, as rbd_open wants them */
	const char *snap;  /* NULL for the image itself */
	char name[512]; /* "rbd:POOL/IMAGE[@SNAP]" for messages (no options: they may hold keys) */
	char *spec;	/* the parsed copy of the path the names point into */
	bool read_only;
	bool owns_lock; /* holds a handle reference and librbd's exclusive lock (rbd_own) */

	/* The one image handle every engine context on the device shares (dev_rbd_image_get). */
	pthread_mutex_t lock;
	rbd_image_t handle; /* NULL while no context holds it */
	unsigned handle_refs;
};

/* The connection of an open RBD device; NULL for any other kind. */
struct dev_rbd *dev_rbd(const struct rawio_dev *dev);

/*
 * dev_rbd_image_get - the device's image handle, opened by the first caller
 * (read-only on a read-only device or a snapshot) and shared by every engine
 * context until the last dev_rbd_image_put. One handle is one client of the
 * image: contexts on one device never take the exclusive lock from each other,
 * and the image's header is read once. librbd's I/O calls are thread-safe on a
 * handle. 0 or -errno from rbd_open. Thread-safe.
 */
int dev_rbd_image_get(struct dev_rbd *r, rbd_image_t *out);
/* Drop one reference; the last closes the handle (the caller has nothing in flight). */
void dev_rbd_image_put(struct dev_rbd *r);

#endif
