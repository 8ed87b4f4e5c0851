// SPDX-License-Identifier: MIT
/*
 * io_properties.yaml: Seastar's disk description, read and written with a
 * line parser for exactly its shape (a "disks:" list of flat maps), so no
 * YAML library is needed and every error can name its line.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/sched.h>

#include "util/errbuf.h"

#define PROPS_MAX_FILE (1u << 20)

/* A size as Seastar's parse_memory_size takes it, plus a fraction: "95000", "1.2G", "128k". */
static int props_number(const char *s, uint64_t *out)
{
	double v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtod(s, &end);
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1024.0;
		break;
	case 'M':
	case 'm':
		mul = 1024.0 * 1024;
		break;
	case 'G':
	case 'g':
		mul = 1024.0 * 1024 * 1024;
		break;
	case 'T':
	case 't':
		mul = 1024.0 * 1024 * 1024 * 1024;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		end++;
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v * mul >= 1.8e19)
		return -EINVAL;
	*out = (uint64_t)(v * mul + 0.5);
	return 0;
}

static char *props_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Strip a trailing comment (not inside quotes) and quotes around a scalar. */
static char *props_scalar(char *v)
{
	char *h = strchr(v, '#');
	size_t n;

	if (h && (h == v || h[-1] == ' ' || h[-1] == '\t'))
		*h = '\0';
	v = props_trim(v);
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

struct props_parser {
	struct rawio_io_props *out;
	size_t max, nr;
	double rate_factor;
	bool have[4];
	unsigned disk_line;
	char *errbuf;
	size_t errbuf_len;
};

static int props_fail(struct props_parser *p, unsigned line, int err, const char *fmt,
		      const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	errbuf_set(p->errbuf, p->errbuf_len, "line %u: %s", line, msg);
	return err;
}

/* The disk just finished: every rate present and non-zero, rate_factor applied. */
static int props_disk_end(struct props_parser *p)
{
	static const char *const keys[4] = { "read_iops", "read_bandwidth", "write_iops",
					     "write_bandwidth" };
	struct rawio_io_props *d;
	uint64_t *rates[4];

	if (!p->nr)
		return 0;
	d = &p->out[p->nr - 1];
	rates[0] = &d->read_iops;
	rates[1] = &d->read_bandwidth;
	rates[2] = &d->write_iops;
	rates[3] = &d->write_bandwidth;
	for (unsigned i = 0; i < 4; i++) {
		if (!p->have[i])
			return props_fail(p, p->disk_line, -EINVAL, "disk has no %s", keys[i]);
		*rates[i] = (uint64_t)((double)*rates[i] * p->rate_factor);
		if (!*rates[i])
			return props_fail(p, p->disk_line, -EINVAL, "%s must not be zero", keys[i]);
	}
	return 0;
}

static int props_key(struct props_parser *p, unsigned line, char *key, char *val)
{
	struct rawio_io_props *d = &p->out[p->nr - 1];
	static const char *const sizes[] = {
		"read_iops",	      "read_bandwidth",		"write_iops",
		"write_bandwidth",    "read_saturation_length", "write_saturation_length",
		"physical_block_size"
	};
	uint64_t *fields[] = {
		&d->read_iops,		&d->read_bandwidth,	    &d->write_iops,
		&d->write_bandwidth,	&d->read_saturation_length, &d->write_saturation_length,
		&d->physical_block_size
	};

	if (!strcmp(key, "mountpoint")) {
		if (!*val)
			return props_fail(p, line, -EINVAL, "%s needs a value", key);
		snprintf(d->mountpoint, sizeof(d->mountpoint), "%s", val);
		return 0;
	}
	if (!strcmp(key, "mountpoints")) {
		/* A list: "[a, b]" on the line, or "- a" lines after it (taken by the caller). */
		if (*val == '[') {
			char *e = val + 1 + strcspn(val + 1, ",]");

			*e = '\0';
			snprintf(d->mountpoint, sizeof(d->mountpoint), "%s", props_scalar(val + 1));
		}
		return 0;
	}
	if (!strcmp(key, "duplex")) {
		/* Seastar reads it as a YAML bool. */
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "on") ||
		    !strcmp(val, "1"))
			d->duplex = true;
		else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "off") ||
			 !strcmp(val, "0"))
			d->duplex = false;
		else
			return props_fail(p, line, -EINVAL, "duplex '%.100s' is not true or false",
					  val);
		return 0;
	}
	if (!strcmp(key, "rate_factor")) {
		char *end;

		p->rate_factor = strtod(val, &end);
		if (end == val || *end || p->rate_factor <= 0)
			return props_fail(p, line, -EINVAL,
					  "rate_factor '%s' is not a positive number", val);
		return 0;
	}
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (strcmp(key, sizes[i]))
			continue;
		if (props_number(val, fields[i])) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s: '%.100s' is not a number", key, val);
			return props_fail(p, line, -EINVAL, "%s", msg);
		}
		if (i < 4)
			p->have[i] = true;
		return 0;
	}
	return props_fail(p, line, -EINVAL, "unknown key '%s'", key);
}

int rawio_io_props_parse(const char *text, struct rawio_io_props *out, size_t max, size_t *nr,
			 char *errbuf, size_t errbuf_len)
{
	struct props_parser p = {
		.out = out, .max = max, .errbuf = errbuf, .errbuf_len = errbuf_len
	};
	char *copy, *line, *save = NULL;
	int key_indent = -1, ret = 0;
	bool in_disks = false, in_mp_list = false;
	unsigned n = 0;

	*nr = 0;
	if (!text || !out)
		return -EINVAL;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	/* strtok_r would skip blank lines and lose the count: walk by hand. */
	for (line = copy; line; line = save) {
		char *colon, *s, *key, *val;
		int indent;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		else if (!*line)
			break; /* the text ended with a newline */
		n++;
		for (s = line; *s; s++)
			if (*s == '\t') {
				ret = props_fail(&p, n, -EINVAL, "%s",
						 "tab in indentation (YAML allows spaces only)");
				goto out;
			} else if (*s != ' ')
				break;
		indent = (int)(s - line);
		if (!*s || *s == '#' || !strcmp(props_trim(s), "---"))
			continue;
		if (indent == 0) {
			colon = strchr(s, ':');
			if (!colon) {
				ret = props_fail(&p, n, -EINVAL, "expected 'disks:', got '%.60s'",
						 s);
				goto out;
			}
			*colon = '\0';
			if (strcmp(props_trim(s), "disks") || *props_scalar(colon + 1)) {
				ret = props_fail(&p, n, -EINVAL,
						 "section '%.60s' is not supported (only 'disks:')",
						 props_trim(s));
				goto out;
			}
			if (in_disks) {
				ret = props_fail(&p, n, -EINVAL, "%s", "a second 'disks:' section");
				goto out;
			}
			in_disks = true;
			continue;
		}
		if (!in_disks) {
			ret = props_fail(&p, n, -EINVAL, "%s", "indented line before 'disks:'");
			goto out;
		}
		if (*s == '-') {
			if (in_mp_list && indent > key_indent) {
				/* An entry of mountpoints: keep the first. */
				struct rawio_io_props *d = &out[p.nr - 1];

				if (!d->mountpoint[0])
					snprintf(d->mountpoint, sizeof(d->mountpoint), "%s",
						 props_scalar(s + 1));
				continue;
			}
			ret = props_disk_end(&p);
			if (ret)
				goto out;
			if (p.nr == max) {
				ret = props_fail(&p, n, -E2BIG, "more than %s disks",
						 "the allowed");
				goto out;
			}
			memset(&out[p.nr], 0, sizeof(out[p.nr]));
			p.nr++;
			memset(p.have, 0, sizeof(p.have));
			p.rate_factor = 1.0;
			p.disk_line = n;
			s++;
			while (*s == ' ')
				s++;
			key_indent = (int)(s - line);
			if (!*s)
				continue;
		} else if (!p.nr) {
			ret = props_fail(&p, n, -EINVAL, "%s", "expected '- ' to start a disk");
			goto out;
		} else if (key_indent < 0 || indent != key_indent) {
			ret = props_fail(&p, n, -EINVAL, "indentation %s: keys of a disk line up",
					 "differs from the disk's first key");
			goto out;
		}
		in_mp_list = false;
		colon = strchr(s, ':');
		if (!colon) {
			ret = props_fail(&p, n, -EINVAL, "expected 'key: value', got '%.60s'", s);
			goto out;
		}
		*colon = '\0';
		key = props_trim(s);
		val = props_scalar(colon + 1);
		if (!strcmp(key, "mountpoints") && !*val)
			in_mp_list = true;
		else if (!*val) {
			ret = props_fail(&p, n, -EINVAL, "key '%.60s' has no value", key);
			goto out;
		}
		ret = props_key(&p, n, key, val);
		if (ret)
			goto out;
	}
	if (!in_disks) {
		ret = props_fail(&p, n ? n : 1, -EINVAL, "%s", "no 'disks:' section");
		goto out;
	}
	if (!p.nr) {
		ret = props_fail(&p, n, -EINVAL, "%s", "'disks:' lists no disk");
		goto out;
	}
	ret = props_disk_end(&p);
	if (!ret)
		*nr = p.nr;
out:
	free(copy);
	return ret;
}

int rawio_io_props_load(const char *path, struct rawio_io_props *out, size_t max, size_t *nr,
			char *errbuf, size_t errbuf_len)
{
	char msg[300] = "";
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	*nr = 0;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		errbuf_set(errbuf, errbuf_len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	text = malloc(PROPS_MAX_FILE + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(text, 1, PROPS_MAX_FILE + 1, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret && len > PROPS_MAX_FILE) {
		errbuf_set(errbuf, errbuf_len, "%s: larger than %u bytes", path, PROPS_MAX_FILE);
		ret = -EFBIG;
	}
	if (ret) {
		if (ret == -EIO)
			errbuf_set(errbuf, errbuf_len, "%s: read error", path);
		free(text);
		return ret;
	}
	text[len] = '\0';
	ret = rawio_io_props_parse(text, out, max, nr, msg, sizeof(msg));
	if (ret)
		errbuf_set(errbuf, errbuf_len, "%s: %s", path, msg);
	free(text);
	return ret;
}

/* Append to BUF (LEN bytes) at *N as snprintf would; *N counts what was needed. */
static void props_out(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void props_out(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	char scratch[1];
	bool room = buf && *n < len;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(room ? buf + *n : scratch, room ? len - *n : sizeof(scratch), fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w;
}

size_t rawio_io_props_format(const struct rawio_io_props *p, size_t nr, char *buf, size_t len)
{
	size_t n = 0;

	props_out(buf, len, &n, "disks:\n");
	for (size_t i = 0; i < nr; i++) {
		props_out(buf, len, &n, "  - mountpoint: %s\n", p[i].mountpoint);
		props_out(buf, len, &n, "    read_iops: %llu\n",
			  (unsigned long long)p[i].read_iops);
		props_out(buf, len, &n, "    read_bandwidth: %llu\n",
			  (unsigned long long)p[i].read_bandwidth);
		props_out(buf, len, &n, "    write_iops: %llu\n",
			  (unsigned long long)p[i].write_iops);
		props_out(buf, len, &n, "    write_bandwidth: %llu\n",
			  (unsigned long long)p[i].write_bandwidth);
		if (p[i].read_saturation_length)
			props_out(buf, len, &n, "    read_saturation_length: %llu\n",
				  (unsigned long long)p[i].read_saturation_length);
		if (p[i].write_saturation_length)
			props_out(buf, len, &n, "    write_saturation_length: %llu\n",
				  (unsigned long long)p[i].write_saturation_length);
		if (p[i].physical_block_size)
			props_out(buf, len, &n, "    physical_block_size: %llu\n",
				  (unsigned long long)p[i].physical_block_size);
		if (p[i].duplex)
			props_out(buf, len, &n, "    duplex: true\n");
	}
	return n;
}

uint64_t rawio_io_props_cost_ns(const struct rawio_io_props *p, unsigned op, uint64_t len)
{
	uint64_t iops = op == RAWIO_OP_WRITE ? p->write_iops : p->read_iops;
	uint64_t bw = op == RAWIO_OP_WRITE ? p->write_bandwidth : p->read_bandwidth;
	double ns = 0;

	if (iops)
		ns += 1e9 / (double)iops;
	if (bw)
		ns += (double)len * 1e9 / (double)bw;
	return (uint64_t)(ns + 0.5);
}
