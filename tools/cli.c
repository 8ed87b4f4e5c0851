// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/duration.h"
#include "util/report.h"

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

int cli_time(const char *opt, const char *s, uint64_t def_unit_ns, uint64_t max_ns, uint64_t *out)
{
	char lim[32];
	int ret = duration_parse_ns(s, def_unit_ns, max_ns, out);

	if (ret == -ERANGE)
		cli_err("%s: '%s' is longer than %s", opt, s,
			cli_ns((double)max_ns, lim, sizeof(lim)));
	else if (ret)
		cli_err("%s: '%s' is not a time (a number and ns, us, ms, s, m or h: 1.5us, 500ms, "
			"2m)",
			opt, s);
	return ret ? -1 : 0;
}

int cli_engine(const char *opt, const char *name)
{
	char list[256];
	size_t used = 0;

	list[0] = 0;
	for (const char *const *n = rawio_engine_list(); *n; n++) {
		if (!strcmp(name, *n))
			return 0;
		report_add(list, sizeof(list), &used, " %s", *n);
	}
	if (!strcmp(name, "auto"))
		return 0;
	cli_err("%s: unknown engine '%s' (engines: auto%s)", opt, name, list);
	return -1;
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

void cli_progress_init(struct cli_progress *p, bool enable)
{
	*p = (struct cli_progress){ .on = enable && isatty(STDERR_FILENO),
				    .t0_ns = rawio_now_ns() };
}

static void cli_progress_show(struct cli_progress *p)
{
	fprintf(stderr, "\r\033[K%s", p->line);
	fflush(stderr);
	p->shown = true;
}

void cli_progress(struct cli_progress *p, const char *fmt, ...)
{
	uint64_t now;
	va_list ap;

	if (!p->on)
		return;
	va_start(ap, fmt);
	vsnprintf(p->line, sizeof(p->line), fmt, ap);
	va_end(ap);
	now = rawio_now_ns();
	if (now < p->next_ns)
		return;
	p->next_ns = now + CLI_PROGRESS_MS * 1000000ull;
	cli_progress_show(p);
}

void cli_progress_done(struct cli_progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->on)
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(p->line, sizeof(p->line), fmt, ap);
		va_end(ap);
	}
	if (!p->line[0]) /* nothing to say since the last line was kept */
		return;
	cli_progress_show(p);
	fputc('\n', stderr);
	fflush(stderr);
	p->shown = false;
	p->line[0] = 0;
	p->next_ns = 0; /* a next phase on the same line shows at once */
}

double cli_progress_elapsed(const struct cli_progress *p)
{
	return (double)(rawio_now_ns() - p->t0_ns) / 1e9;
}
