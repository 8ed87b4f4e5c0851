// SPDX-License-Identifier: MIT
/*
 * duration_parse_ns, the one parser behind every time option of the CLI (bench's --runtime,
 * pollsim's --period and model costs): the union of their units, a bare number in the
 * caller's unit, and what it refuses.
 */
#include <errno.h>

#include "harness.h"
#include "util/duration.h"

#define HOUR_NS 3600000000000ull

int main(void)
{
	static const struct {
		const char *s;
		uint64_t def, ns;
	} ok[] = {
		{ "0", 1000000000, 0 },
		{ "10", 1000000000, 10000000000ull }, /* bench: bare seconds */
		{ "20", 1000000, 20000000 },	      /* pollsim --period: bare ms */
		{ "500", 1, 500 },		      /* pollsim --lat: bare ns */
		{ "100ns", 1, 100 },
		{ "1.5us", 1, 1500 },
		{ "250us", 1000000000, 250000 },
		{ "500ms", 1, 500000000 },
		{ "10s", 1, 10000000000ull },
		{ "2m", 1, 120000000000ull }, /* bench had m and h, pollsim did not */
		{ "1h", 1, HOUR_NS },
		{ ".5s", 1, 500000000 },
		{ "0.0001us", 1, 0 },
	};
	static const char *const bad[] = { "",	   "x",	  "-1",	 "-1us", " 1s", "1 s", "1sec", "1S",
					   "1ms ", "inf", "nan", "0x10", "1e",	"us",  "1.5x" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = ~0ull;
		CHECK(duration_parse_ns(ok[i].s, ok[i].def, 10 * HOUR_NS, &v) == 0 && v == ok[i].ns,
		      "'%s' -> %llu, expected %llu", ok[i].s, (unsigned long long)v,
		      (unsigned long long)ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		CHECK(duration_parse_ns(bad[i], 1, HOUR_NS, &v) == -EINVAL && v == 7,
		      "'%s' accepted (%llu)", bad[i], (unsigned long long)v);
	}
	CHECK(duration_parse_ns("1h", 1, HOUR_NS, &v) == 0 && v == HOUR_NS, "1h at the limit");
	CHECK(duration_parse_ns("61m", 1, HOUR_NS, &v) == -ERANGE, "61m over a 1 h limit");
	CHECK(duration_parse_ns("1e30", 1, ~0ull, &v) == -ERANGE, "1e30 ns fits no uint64");
	errno = 1234;
	duration_parse_ns("1e400", 1, ~0ull, &v);
	CHECK(errno == 1234, "errno changed to %d", errno);
	return T_PASS;
}
