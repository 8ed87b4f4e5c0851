// SPDX-License-Identifier: MIT
/* rawio_parse_size: every suffix up to P, with and without "iB"/"B", and what it refuses. */
#include <rawio/rawio.h>

#include "harness.h"

int main(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = { { "0", 0 },
		   { "512", 512 },
		   { "4k", 4096 },
		   { "4KiB", 4096 },
		   { "1M", 1ull << 20 },
		   { "2G", 2ull << 30 },
		   { "3T", 3ull << 40 },
		   { "1P", 1ull << 50 },
		   { "2PiB", 2ull << 50 },
		   { "5pb", 5ull << 50 },
		   { "16383P", 16383ull << 50 } };
	static const char *const bad[] = { "", "x", "-1", "1X", "1E", "16384P", "1Pi", "4 k" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = ~0ull;
		CHECK(rawio_parse_size(ok[i].s, &v) == 0 && v == ok[i].v, "'%s' -> %llu", ok[i].s,
		      (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rawio_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
	return T_PASS;
}
