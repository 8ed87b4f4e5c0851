// SPDX-License-Identifier: MIT
/* crc32c: the standard check value, chaining, and lengths around SIMD block sizes. */
#include "harness.h"
#include "util/crc32c.h"

int main(void)
{
	static uint8_t buf[4096];
	uint32_t whole, part;

	CHECK(rawio_crc32c(0, "123456789", 9) == 0xe3069283u, "check value %08x",
	      rawio_crc32c(0, "123456789", 9));
	CHECK(rawio_crc32c(0, "", 0) == 0, "empty");
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	for (size_t len = 0; len < 600; len += 7) {
		whole = rawio_crc32c(0, buf, len);
		for (size_t cut = 0; cut <= len; cut += 13) {
			part = rawio_crc32c(rawio_crc32c(0, buf, cut), buf + cut, len - cut);
			CHECK(part == whole, "len %zu cut %zu: %08x != %08x", len, cut, part,
			      whole);
		}
	}
	return T_PASS;
}
