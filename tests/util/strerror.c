// SPDX-License-Identifier: MIT
/* rawio_strerror: the corruption and format-version errors read as what they mean, either sign. */
#include <errno.h>
#include <string.h>

#include <rawio/rawio.h>

#include "harness.h"

int main(void)
{
	CHECK(strcmp(rawio_strerror(-EBADMSG), "checksum mismatch") == 0, "EBADMSG: %s",
	      rawio_strerror(-EBADMSG));
	CHECK(strcmp(rawio_strerror(EUCLEAN), "corrupt structure") == 0, "EUCLEAN: %s",
	      rawio_strerror(EUCLEAN));
	CHECK(strstr(rawio_strerror(-EPROTONOSUPPORT), "newer") != NULL, "EPROTONOSUPPORT: %s",
	      rawio_strerror(-EPROTONOSUPPORT));
	CHECK(strcmp(rawio_strerror(0), "success") == 0, "0: %s", rawio_strerror(0));
	CHECK(strcmp(rawio_strerror(-ENOENT), strerror(ENOENT)) == 0, "ENOENT: %s",
	      rawio_strerror(-ENOENT));
	return 0;
}
