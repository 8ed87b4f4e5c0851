/* SPDX-License-Identifier: MIT */
/*
 * rawio: a userspace storage stack for Linux.
 *
 * Umbrella header. Every function in librawio returns 0 (or a count) on
 * success and a negative errno on failure; the library never sets errno and
 * never prints. Corruption is reported as -EBADMSG (checksum mismatch) or
 * -EUCLEAN (structurally invalid); an on-disk format newer than this code
 * reads is -EPROTONOSUPPORT. rawio_strerror() names all three.
 */
#ifndef RAWIO_RAWIO_H
#define RAWIO_RAWIO_H

#include <errno.h>
#include <stdint.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define RAWIO_VERSION "0.1.0"

/*
 * rawio_strerror - describe a negative (or positive) errno value.
 *
 * Returns a static string; never NULL. -EBADMSG reads "checksum mismatch",
 * -EUCLEAN reads "corrupt structure", -EPROTONOSUPPORT "on-disk format newer
 * than this rawio". Thread-safe.
 */
const char *rawio_strerror(int err);

/* Bytes rawio_uuid_str() writes, NUL included. */
#define RAWIO_UUID_STR_LEN 37

/*
 * rawio_uuid_str - format a 16-byte UUID (store and cache superblocks) as
 * 8-4-4-4-12 lower-case hex into OUT. Thread-safe.
 */
void rawio_uuid_str(const uint8_t uuid[16], char out[RAWIO_UUID_STR_LEN]);

#include <rawio/dev.h>
#include <rawio/engine.h>
#include <rawio/batch.h>

#endif
