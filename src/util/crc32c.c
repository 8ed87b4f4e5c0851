// SPDX-License-Identifier: MIT
#include <limits.h>

#include <isa-l/crc.h>

#include "crc32c.h"

uint32_t rawio_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;
	unsigned int state = ~crc;

	/* ISA-L keeps the running state un-inverted and takes an int length. */
	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		state = crc32_iscsi(p, n, state);
		p += n;
		len -= (size_t)n;
	}
	return ~state;
}
