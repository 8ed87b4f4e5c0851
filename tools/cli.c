// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *cli_prog = "rawio";

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_size(const char *opt, const char *s, uint64_t *out)
{
	if (rawio_parse_size(s, out)) {
		cli_err("%s: '%s' is not a size (examples: 4096, 4k, 64M, 2G)", opt, s);
		return -1;
	}
	return 0;
}

int cli_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		cli_err("%s: '%s' is not a number from %u to %u", opt, s, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

void cli_json_print(cJSON *obj)
{
	char *s = cJSON_Print(obj);

	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(obj);
}

const char *cli_human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *cli_count(double v, char *buf, size_t len)
{
	if (v >= 10e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 10e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *cli_ns(double ns, char *buf, size_t len)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%.0fns", ns);
	return buf;
}
