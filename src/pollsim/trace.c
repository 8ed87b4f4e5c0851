// SPDX-License-Identifier: MIT
/*
 * Trace parsers: per-I/O completion times for the simulator and for the mem
 * engine to replay. The input is external and untrusted: every line is
 * parsed within its bounds (the buffer need not be NUL-terminated), every
 * number is range-checked before it is used, and the first malformed line
 * stops the parse with its file name and line number.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawio/pollsim.h>

#include "util/sort.h"

#define TRACE_DEFAULT_BYTES 4096u
#define TRACE_MAX_FIELDS    8
#define TRACE_MAX_TIME_NS   (1ull << 62) /* trace time stamps: 146 years */

/* A line being parsed: [p, end). */
struct trace_cursor {
	const char *p, *end;
};

struct trace_ctx {
	struct rawio_poll_trace *t;
	const char *name;
	uint64_t line;
	char *errbuf;
	size_t errlen;
	/* blkparse: dispatches waiting for their completion, by (device, sector). */
	struct trace_pend *pend;
	size_t pend_cap, pend_nr;
	bool summary; /* blkparse: past the summary's first line */
	/* msr: the first time stamp, times are relative to it. */
	bool have_t0;
	uint64_t t0;
};

static int trace_err(struct trace_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int trace_err(struct trace_ctx *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (c->errbuf && c->errlen) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(c->errbuf, c->errlen, "%s:%llu: %s", c->name, (unsigned long long)c->line,
			 msg);
	}
	return -EINVAL;
}

static int trace_push(struct trace_ctx *c, uint64_t lat_ns, uint64_t t_ns, uint64_t bytes,
		      unsigned dir)
{
	struct rawio_poll_trace *t = c->t;

	if (lat_ns > RAWIO_TRACE_MAX_LAT)
		return trace_err(c, "latency %llu ns is more than an hour",
				 (unsigned long long)lat_ns);
	if (bytes > RAWIO_TRACE_MAX_BYTES)
		return trace_err(c, "size %llu is more than 1 GiB", (unsigned long long)bytes);
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct rawio_poll_io *ios;

		if (t->nr >= RAWIO_TRACE_MAX_IOS) {
			trace_err(c, "more than %llu I/Os",
				  (unsigned long long)RAWIO_TRACE_MAX_IOS);
			return -E2BIG;
		}
		if (cap > RAWIO_TRACE_MAX_IOS)
			cap = RAWIO_TRACE_MAX_IOS;
		ios = realloc(t->ios, cap * sizeof(*ios));
		if (!ios)
			return -ENOMEM;
		t->ios = ios;
		t->cap = cap;
	}
	t->ios[t->nr++] = (struct rawio_poll_io){
		.lat_ns = lat_ns, .t_ns = t_ns, .bytes = (uint32_t)bytes, .dir = (uint8_t)dir
	};
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Tokens                                                                   */

static bool trace_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void trace_skip_blanks(struct trace_cursor *cur)
{
	while (cur->p < cur->end && trace_blank(*cur->p))
		cur->p++;
}

static bool trace_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* An unsigned decimal of at most MAX. 0, or -EINVAL (not a number, or too large). */
static int trace_uint(struct trace_cursor *cur, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (cur->p == cur->end || !trace_digit(*cur->p))
		return -EINVAL;
	for (; cur->p < cur->end && trace_digit(*cur->p); cur->p++) {
		unsigned d = (unsigned)(*cur->p - '0');

		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * A decimal with an optional fraction, as an integer count of 1/SCALE units
 * (SCALE a power of ten up to 10^9): "12.5" at SCALE 1000 is 12500. At most MAX.
 */
static int trace_fixed(struct trace_cursor *cur, uint64_t scale, uint64_t max, uint64_t *out)
{
	uint64_t whole, frac = 0, div = 1;
	int ret = trace_uint(cur, max / scale, &whole);

	if (ret)
		return ret;
	if (cur->p < cur->end && *cur->p == '.') {
		cur->p++;
		if (cur->p == cur->end || !trace_digit(*cur->p))
			return -EINVAL;
		for (; cur->p < cur->end && trace_digit(*cur->p); cur->p++) {
			if (div < scale) {
				frac = frac * 10 + (uint64_t)(*cur->p - '0');
				div *= 10;
			}
		}
	}
	frac *= scale / div;
	if (whole * scale > max - frac)
		return -EINVAL;
	*out = whole * scale + frac;
	return 0;
}

/* The next blank-separated token. False at the end of the line. */
static bool trace_token(struct trace_cursor *cur, struct trace_cursor *tok)
{
	trace_skip_blanks(cur);
	if (cur->p == cur->end)
		return false;
	tok->p = cur->p;
	while (cur->p < cur->end && !trace_blank(*cur->p))
		cur->p++;
	tok->end = cur->p;
	return true;
}

static bool trace_tok_is(const struct trace_cursor *tok, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(tok->end - tok->p) == n && !memcmp(tok->p, s, n);
}

static bool trace_tok_starts(const struct trace_cursor *tok, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(tok->end - tok->p) >= n && !memcmp(tok->p, s, n);
}

/* Split at commas into at most TRACE_MAX_FIELDS fields, blanks trimmed. Returns the count. */
static unsigned trace_split_commas(struct trace_cursor line, struct trace_cursor *f)
{
	unsigned n = 0;

	for (;;) {
		const char *comma = memchr(line.p, ',', (size_t)(line.end - line.p));
		struct trace_cursor fld = { line.p, comma ? comma : line.end };

		if (n == TRACE_MAX_FIELDS)
			return TRACE_MAX_FIELDS + 1;
		trace_skip_blanks(&fld);
		while (fld.end > fld.p && trace_blank(fld.end[-1]))
			fld.end--;
		f[n++] = fld;
		if (!comma)
			return n;
		line.p = comma + 1;
	}
}

/* A whole field as an unsigned decimal of at most MAX. */
static int trace_field_uint(struct trace_cursor f, uint64_t max, uint64_t *out)
{
	int ret = trace_uint(&f, max, out);

	return ret ? ret : (f.p == f.end ? 0 : -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* rawio and fio latency logs                                               */

static int trace_line_latlog(struct trace_ctx *c, struct trace_cursor line)
{
	static const char *const what[] = { "time", "latency", "direction",
					    "size", "offset",  "priority" };
	struct trace_cursor f[TRACE_MAX_FIELDS + 1];
	uint64_t v[6];
	unsigned n = trace_split_commas(line, f);

	if (n < 4 || n > 6)
		return trace_err(c,
				 "expected 4 to 6 comma-separated fields (time_ms, latency_ns, "
				 "direction, size[, offset[, priority]]), found %u",
				 n);
	for (unsigned i = 0; i < n; i++)
		if (trace_field_uint(f[i], UINT64_MAX / 2, &v[i]))
			return trace_err(c, "%s: '%.*s' is not a number", what[i],
					 (int)(f[i].end - f[i].p > 32 ? 32 : f[i].end - f[i].p),
					 f[i].p);
	if (v[0] > TRACE_MAX_TIME_NS / 1000000)
		return trace_err(c, "time %llu ms is out of range", (unsigned long long)v[0]);
	if (v[2] > 2)
		return trace_err(c, "direction %llu is not 0 (read), 1 (write) or 2 (trim)",
				 (unsigned long long)v[2]);
	if (v[2] == 2) {
		c->t->skipped++;
		return 0;
	}
	return trace_push(c, v[1], v[0] * 1000000, v[3], (unsigned)v[2]);
}

/* ------------------------------------------------------------------------ */
/* Plain: one latency per line, microseconds                                */

static int trace_line_plain(struct trace_ctx *c, struct trace_cursor line)
{
	struct trace_cursor cur = line;
	uint64_t ns;

	trace_skip_blanks(&cur);
	if (trace_fixed(&cur, 1000, RAWIO_TRACE_MAX_LAT, &ns))
		return trace_err(c, "expected a latency in microseconds (like 12.5), or one that "
				    "is at most an hour");
	trace_skip_blanks(&cur);
	if (cur.p != cur.end)
		return trace_err(c, "expected one latency in microseconds per line");
	return trace_push(c, ns, 0, TRACE_DEFAULT_BYTES, 0);
}

/* ------------------------------------------------------------------------ */
/* MSR-Cambridge: Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime */

static bool trace_tok_casecmp(struct trace_cursor f, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(f.end - f.p) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = f.p[i], b = s[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static int trace_line_msr(struct trace_ctx *c, struct trace_cursor line)
{
	struct trace_cursor f[TRACE_MAX_FIELDS + 1];
	uint64_t ts, disk, off, size, resp;
	unsigned n = trace_split_commas(line, f), dir;

	if (n != 7)
		return trace_err(c,
				 "expected 7 comma-separated fields (Timestamp, Hostname, "
				 "DiskNumber, Type, Offset, Size, ResponseTime), found %u",
				 n);
	if (trace_tok_casecmp(f[0], "timestamp"))
		return 0;				   /* a header line */
	if (trace_field_uint(f[0], UINT64_MAX / 100, &ts)) /* Windows filetime: ~1.3e17 today */
		return trace_err(c, "Timestamp is not a number in range");
	if (trace_field_uint(f[2], UINT32_MAX, &disk))
		return trace_err(c, "DiskNumber is not a number in range");
	if (trace_tok_casecmp(f[3], "read"))
		dir = 0;
	else if (trace_tok_casecmp(f[3], "write"))
		dir = 1;
	else
		return trace_err(c, "Type is not Read or Write");
	if (trace_field_uint(f[4], UINT64_MAX, &off))
		return trace_err(c, "Offset is not a number in range");
	if (trace_field_uint(f[5], RAWIO_TRACE_MAX_BYTES, &size))
		return trace_err(c, "Size is not a number up to 1 GiB");
	if (trace_field_uint(f[6], RAWIO_TRACE_MAX_LAT / 100, &resp))
		return trace_err(c, "ResponseTime is not a number up to an hour (100 ns units)");
	if (!c->have_t0) {
		c->have_t0 = true;
		c->t0 = ts;
	}
	/* Completion time, relative to the first I/O's issue (0 when out of range). */
	ts = ts >= c->t0 && ts - c->t0 <= TRACE_MAX_TIME_NS / 100 ? (ts - c->t0) * 100 + resp * 100
								  : 0;
	return trace_push(c, resp * 100, ts, size, dir);
}

/* ------------------------------------------------------------------------ */
/* blkparse text: D (dispatch) and C (complete) paired by device and sector   */

struct trace_pend {
	uint64_t key_dev; /* (major << 32 | minor) + 1; 0: an empty slot */
	uint64_t sector;
	uint64_t t_ns;
	uint64_t bytes;
	unsigned dir;
	bool tomb; /* removed */
};

static uint64_t trace_hash(uint64_t dev, uint64_t sector)
{
	uint64_t x = dev * 0x9e3779b97f4a7c15ull ^ sector;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct trace_pend *trace_pend_find(struct trace_ctx *c, uint64_t dev, uint64_t sector,
					  bool insert)
{
	struct trace_pend *tomb = NULL;
	size_t mask = c->pend_cap - 1, i;

	if (!c->pend_cap)
		return NULL;
	i = trace_hash(dev, sector) & mask;
	for (size_t probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
		struct trace_pend *e = &c->pend[i];

		if (!e->key_dev && !e->tomb)
			return insert ? (tomb ? tomb : e) : NULL;
		if (e->tomb) {
			if (!tomb)
				tomb = e;
			continue;
		}
		if (e->key_dev == dev && e->sector == sector)
			return e;
	}
	return insert ? tomb : NULL;
}

/*
 * Rehash into a table of at least four times the live entries (and 1024),
 * dropping removed ones. pend_nr counts used slots, live or removed, so the
 * table never fills and a lookup always meets an empty slot.
 */
static int trace_pend_rehash(struct trace_ctx *c)
{
	struct trace_pend *old = c->pend;
	size_t old_cap = c->pend_cap, live = 0, cap = 1024;

	for (size_t i = 0; i < old_cap; i++)
		live += old[i].key_dev != 0;
	while (cap < 4 * live)
		cap *= 2;
	if (cap > (1u << 26))
		return -E2BIG; /* millions of dispatches without completion: not a real trace */
	c->pend = calloc(cap, sizeof(*c->pend));
	if (!c->pend) {
		c->pend = old;
		return -ENOMEM;
	}
	c->pend_cap = cap;
	c->pend_nr = live;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key_dev)
			*trace_pend_find(c, old[i].key_dev, old[i].sector, true) = old[i];
	free(old);
	return 0;
}

/* rwbs: D discard, W write, R read; anything else (flush only, N) is not an I/O here. */
static int trace_rwbs_dir(const struct trace_cursor *tok)
{
	bool r = false, w = false;

	for (const char *p = tok->p; p < tok->end; p++) {
		switch (*p) {
		case 'D':
		case 'E':
			return -1;
		case 'W':
			w = true;
			break;
		case 'R':
			r = true;
			break;
		default:
			break;
		}
	}
	return w ? 1 : r ? 0 : -1;
}

/* The summary blkparse prints after the events. */
static bool trace_blkparse_summary(const struct trace_cursor *tok)
{
	return trace_tok_starts(tok, "CPU") || trace_tok_is(tok, "Total") ||
	       trace_tok_starts(tok, "Throughput") || trace_tok_starts(tok, "Events");
}

/* "MAJ,MIN": the device. */
static int trace_blk_dev(struct trace_cursor tok, uint64_t *dev)
{
	uint64_t maj, min;

	if (trace_uint(&tok, UINT32_MAX, &maj) || tok.p == tok.end || *tok.p != ',')
		return -EINVAL;
	tok.p++;
	if (trace_uint(&tok, UINT32_MAX, &min) || tok.p != tok.end)
		return -EINVAL;
	*dev = (maj << 32 | min) + 1;
	return 0;
}

static int trace_line_blkparse(struct trace_ctx *c, struct trace_cursor line)
{
	struct trace_cursor cur = line, tok, act, rwbs;
	uint64_t dev, cpu, seq, t_ns, pid, sector, nsect;
	struct trace_pend *e;
	int dir, ret;

	if (!trace_token(&cur, &tok))
		return 0;
	if (trace_blk_dev(tok, &dev)) {
		if (c->summary || trace_blkparse_summary(&tok)) {
			c->summary = true;
			return 0;
		}
		return trace_err(c, "not a blkparse event (expected \"MAJ,MIN CPU SEQ TIME PID "
				    "ACTION RWBS ...\")");
	}
	if (!trace_token(&cur, &tok) || trace_field_uint(tok, UINT32_MAX, &cpu) ||
	    !trace_token(&cur, &tok) || trace_field_uint(tok, UINT64_MAX, &seq))
		return trace_err(c, "expected a CPU number and a sequence number after the device");
	if (!trace_token(&cur, &tok) ||
	    trace_fixed(&tok, 1000000000ull, TRACE_MAX_TIME_NS, &t_ns) || tok.p != tok.end)
		return trace_err(c, "expected a time in seconds (like 0.000123456)");
	if (!trace_token(&cur, &tok) || trace_field_uint(tok, UINT32_MAX, &pid))
		return trace_err(c, "expected a process id after the time");
	if (!trace_token(&cur, &act) || !trace_token(&cur, &rwbs))
		return trace_err(c, "expected an action and RWBS after the process id");
	if (!trace_tok_is(&act, "D") && !trace_tok_is(&act, "C")) {
		c->t->skipped += trace_tok_is(&act, "Q"); /* other events: counted once, as Q */
		return 0;
	}
	dir = trace_rwbs_dir(&rwbs);
	/* "SECTOR + NSECTORS"; flushes and messages have none. */
	if (!trace_token(&cur, &tok) || trace_field_uint(tok, UINT64_MAX, &sector)) {
		if (trace_tok_is(&act, "C"))
			c->t->skipped++;
		return 0;
	}
	if (!trace_token(&cur, &tok) || !trace_tok_is(&tok, "+") || !trace_token(&cur, &tok) ||
	    trace_field_uint(tok, RAWIO_TRACE_MAX_BYTES >> 9, &nsect))
		return trace_err(c, "expected \"SECTOR + NSECTORS\" after RWBS");

	if (trace_tok_is(&act, "D")) {
		if (dir < 0)
			return 0;
		if (c->pend_nr + 1 > c->pend_cap / 2) {
			ret = trace_pend_rehash(c);
			if (ret == -E2BIG)
				return trace_err(c, "too many dispatches without a completion");
			if (ret)
				return ret;
		}
		e = trace_pend_find(c, dev, sector, true);
		if (!e->key_dev && !e->tomb)
			c->pend_nr++; /* a fresh slot (a removed one is counted already) */
		*e = (struct trace_pend){ .key_dev = dev,
					  .sector = sector,
					  .t_ns = t_ns,
					  .bytes = nsect << 9,
					  .dir = (unsigned)dir };
		return 0;
	}
	e = trace_pend_find(c, dev, sector, false);
	if (!e || dir < 0 || t_ns < e->t_ns) {
		c->t->skipped++; /* dispatched before the trace began, or not a read or write */
		if (e) {
			e->tomb = true;
			e->key_dev = 0;
		}
		return 0;
	}
	ret = trace_push(c, t_ns - e->t_ns, t_ns, e->bytes, e->dir);
	e->tomb = true;
	e->key_dev = 0;
	return ret;
}

/* ------------------------------------------------------------------------ */

static const char *const trace_fmt_names[RAWIO_TRACE_FMT_NR] = {
	"auto", "rawio", "blkparse", "plain", "msr",
};

int rawio_poll_trace_fmt_parse(const char *s, enum rawio_poll_trace_fmt *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "fio")) {
		*out = RAWIO_TRACE_LATLOG;
		return 0;
	}
	for (unsigned i = 0; i < RAWIO_TRACE_FMT_NR; i++) {
		if (!strcmp(s, trace_fmt_names[i])) {
			*out = (enum rawio_poll_trace_fmt)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rawio_poll_trace_fmt_name(enum rawio_poll_trace_fmt fmt)
{
	return (unsigned)fmt < RAWIO_TRACE_FMT_NR ? trace_fmt_names[fmt] : "?";
}

/* Guess the format from the first significant line. */
static enum rawio_poll_trace_fmt trace_guess(struct trace_cursor line)
{
	struct trace_cursor cur = line, tok, f[TRACE_MAX_FIELDS + 1];
	uint64_t dev;
	unsigned n;

	if (trace_token(&cur, &tok) && !trace_blk_dev(tok, &dev))
		return RAWIO_TRACE_BLKPARSE;
	if (!memchr(line.p, ',', (size_t)(line.end - line.p)))
		return RAWIO_TRACE_PLAIN;
	n = trace_split_commas(line, f);
	if (n == 7 && f[3].p < f[3].end && !trace_digit(*f[3].p))
		return RAWIO_TRACE_MSR;
	return RAWIO_TRACE_LATLOG;
}

int rawio_poll_trace_parse(struct rawio_poll_trace *t, const char *data, size_t len,
			   enum rawio_poll_trace_fmt fmt, const char *name, char *errbuf,
			   size_t errlen)
{
	struct trace_ctx c = {
		.t = t, .name = name ? name : "trace", .errbuf = errbuf, .errlen = errlen
	};
	const char *p = data, *end = data + len;
	int ret = 0;

	if (!t || (!data && len) || (unsigned)fmt >= RAWIO_TRACE_FMT_NR)
		return -EINVAL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct trace_cursor line = { p, nl ? nl : end }, first;

		p = nl ? nl + 1 : end;
		c.line++;
		if (line.end > line.p && line.end[-1] == '\r')
			line.end--;
		first = line;
		trace_skip_blanks(&first);
		if (first.p == first.end || *first.p == '#')
			continue;
		if (memchr(line.p, '\0', (size_t)(line.end - line.p))) {
			ret = trace_err(&c, "a NUL byte: not a text trace");
			break;
		}
		if (fmt == RAWIO_TRACE_AUTO)
			fmt = trace_guess(line);
		switch (fmt) {
		case RAWIO_TRACE_LATLOG:
			ret = trace_line_latlog(&c, line);
			break;
		case RAWIO_TRACE_BLKPARSE:
			ret = trace_line_blkparse(&c, line);
			break;
		case RAWIO_TRACE_PLAIN:
			ret = trace_line_plain(&c, line);
			break;
		case RAWIO_TRACE_MSR:
			ret = trace_line_msr(&c, line);
			break;
		default:
			ret = -EINVAL;
			break;
		}
		if (ret)
			break;
	}
	free(c.pend);
	t->fmt = fmt;
	if (!ret && !t->nr) {
		c.line = 0;
		ret = -ENODATA;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: no reads or writes in the trace", c.name);
	}
	return ret;
}

int rawio_poll_trace_load(struct rawio_poll_trace *t, const char *path,
			  enum rawio_poll_trace_fmt fmt, char *errbuf, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, ret;

	if (!t || !path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: not a regular file", path);
		goto out_close;
	}
	if (!st.st_size) {
		ret = rawio_poll_trace_parse(t, "", 0, fmt, path, errbuf, errlen);
		goto out_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	ret = rawio_poll_trace_parse(t, map, (size_t)st.st_size, fmt, path, errbuf, errlen);
	munmap(map, (size_t)st.st_size);
out_close:
	close(fd);
	return ret;
}

void rawio_poll_trace_free(struct rawio_poll_trace *t)
{
	if (!t)
		return;
	free(t->ios);
	memset(t, 0, sizeof(*t));
}

int rawio_poll_trace_stat(const struct rawio_poll_trace *t, struct rawio_poll_trace_stat *out)
{
	uint64_t *v;
	double sum = 0;

	if (!t || !t->nr)
		return -EINVAL;
	v = malloc(t->nr * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < t->nr; i++) {
		out->reads += !t->ios[i].dir;
		out->writes += t->ios[i].dir;
		sum += (double)t->ios[i].lat_ns;
		v[i] = t->ios[i].lat_ns;
	}
	out->lat_mean_ns = sum / (double)t->nr;
	sort_u64(v, t->nr);
	out->lat_min_ns = v[0];
	out->lat_max_ns = v[t->nr - 1];
	out->lat_p50_ns = v[t->nr / 2];
	out->lat_p99_ns = v[t->nr * 99 / 100];
	free(v);
	return 0;
}
