/* SPDX-License-Identifier: MIT */
/*
 * dev: Ceph RBD images (src/dev/rbd.c), the part the rbd engine needs. Only
 * compiled with librbd (RAWIO_HAVE_RBD).
 */
#ifndef RAWIO_DEV_RBD_H
#define RAWIO_DEV_RBD_H

#include <rados/librados.h>

struct rawio_dev;

/* The cluster connection a device holds for its life, and which image it names. */
struct dev_rbd {
	rados_t cluster;
	rados_ioctx_t ioctx;
	const char *image; /* within spec, as rbd_open wants them */
	const char *snap;  /* NULL for the image itself */
	char name[512]; /* "rbd:POOL/IMAGE[@SNAP]" for messages (no options: they may hold keys) */
	char *spec;	/* the parsed copy of the path the names point into */
};

/* The connection of an open RBD device; NULL for any other kind. */
const struct dev_rbd *dev_rbd(const struct rawio_dev *dev);

#endif
