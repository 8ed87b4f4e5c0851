// SPDX-License-Identifier: MIT
#include <string.h>

#include <rawio/rawio.h>

const char *rawio_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EBADMSG:
		return "checksum mismatch";
	case EUCLEAN:
		return "corrupt structure";
	case EPROTONOSUPPORT:
		return "on-disk format newer than this rawio";
	default:
		/* strerror() is thread-safe in glibc for known values. */
		return strerror(err);
	}
}
