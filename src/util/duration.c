// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"

int duration_parse_ns(const char *s, uint64_t def_unit_ns, uint64_t max_ns, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = {
		{ "ns", 1 },  { "us", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double v, unit = (double)def_unit_ns;
	int saved = errno, bad;
	char *end;

	/* strtod would take "-1", " 1", "inf", "nan" and hex: a duration is digits first. */
	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	bad = errno != 0 || end == s;
	errno = saved; /* a library function never changes errno */
	if (bad || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	/* A point needs a digit after it: "1.ms" is a typo, not one millisecond. */
	for (const char *p = s; p < end; p++)
		if (*p == '.' && (p[1] < '0' || p[1] > '9'))
			return -EINVAL;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		unit = units[i].ns;
	}
	v *= unit;
	if (v > (double)max_ns || v >= 1.8e19)
		return -ERANGE;
	*out = (uint64_t)(v + 0.5);
	return 0;
}
