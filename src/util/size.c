// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <stdlib.h>

#include <rawio/rawio.h>

int rawio_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	int saved = errno, bad;

	errno = 0; /* strtoull reports overflow only through errno; put it back after */
	v = strtoull(s, &end, 10);
	bad = errno != 0;
	errno = saved;
	if (bad)
		return -EINVAL;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	case 'p':
		shift = 50;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		/* Accept "k", "K", "KiB", "kb". */
		if ((*end == 'i' || *end == 'I') && (end[1] == 'b' || end[1] == 'B'))
			end += 2;
		else if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (~0ull >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
