// SPDX-License-Identifier: MIT
#include <stdio.h>

#include <rawio/rawio.h>

void rawio_uuid_str(const uint8_t uuid[16], char out[RAWIO_UUID_STR_LEN])
{
	int k = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		k += snprintf(out + k, RAWIO_UUID_STR_LEN - (size_t)k, "%02x", uuid[i]);
	}
}
