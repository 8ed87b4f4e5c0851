/* SPDX-License-Identifier: MIT */
/*
 * rawio: a userspace storage stack for Linux.
 *
 * Umbrella header. Every function in librawio returns 0 (or a count) on
 * success and a negative errno on failure; the library never sets errno and
 * never prints. Corruption is reported as -EBADMSG (checksum mismatch) or
 * -EUCLEAN (structurally invalid); rawio_strerror() names both.
 */
#ifndef RAWIO_RAWIO_H
#define RAWIO_RAWIO_H

#include <errno.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define RAWIO_VERSION "0.1.0"

/*
 * rawio_strerror - describe a negative (or positive) errno value.
 *
 * Returns a static string; never NULL. -EBADMSG reads "checksum mismatch",
 * -EUCLEAN reads "corrupt structure". Thread-safe.
 */
const char *rawio_strerror(int err);

#include <rawio/dev.h>
#include <rawio/engine.h>
#include <rawio/batch.h>

#endif
