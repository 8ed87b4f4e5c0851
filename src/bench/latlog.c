// SPDX-License-Identifier: MIT
/*
 * The latency log: fio 3.33's lat log format with log_offset=1,
 * "time_ms, latency_ns, direction, size, offset, priority", one line per
 * measured I/O (priority is always 0: rawio sets none).
 * Records are kept in memory during the run (a formatted write per I/O would
 * be measured too) and merged by completion time across jobs afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_impl.h"

int bench_latlog_add(struct bench_latlog *l, const struct bench_lat_rec *rec)
{
	struct bench_lat_chunk *c = l->tail;

	if (!c || c->nr == BENCH_LATLOG_CHUNK) {
		c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->next = NULL;
		c->nr = 0;
		if (l->tail)
			l->tail->next = c;
		else
			l->head = c;
		l->tail = c;
	}
	c->recs[c->nr++] = *rec;
	l->nr++;
	return 0;
}

void bench_latlog_free(struct bench_latlog *l)
{
	struct bench_lat_chunk *c = l->head;

	while (c) {
		struct bench_lat_chunk *next = c->next;

		free(c);
		c = next;
	}
	l->head = l->tail = NULL;
	l->nr = 0;
}

struct latlog_cursor {
	const struct bench_lat_chunk *c;
	unsigned i;
};

static const struct bench_lat_rec *latlog_peek(const struct latlog_cursor *cur)
{
	return cur->c && cur->i < cur->c->nr ? &cur->c->recs[cur->i] : NULL;
}

static void latlog_advance(struct latlog_cursor *cur)
{
	if (++cur->i == cur->c->nr) {
		cur->c = cur->c->next;
		cur->i = 0;
	}
}

int64_t bench_latlog_write(FILE *f, struct bench_latlog *logs, unsigned nr)
{
	struct latlog_cursor *cur;
	int64_t lines = 0;

	cur = calloc(nr ? nr : 1, sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	for (unsigned j = 0; j < nr; j++)
		cur[j].c = logs[j].head;
	for (;;) {
		const struct bench_lat_rec *best = NULL, *r;
		unsigned from = 0;

		/* Each job's log is in completion order: a k-way merge. */
		for (unsigned j = 0; j < nr; j++) {
			r = latlog_peek(&cur[j]);
			if (r && (!best || r->t_ns < best->t_ns)) {
				best = r;
				from = j;
			}
		}
		if (!best)
			break;
		if (fprintf(f, "%llu, %llu, %u, %u, %llu, 0\n",
			    (unsigned long long)(best->t_ns / 1000000),
			    (unsigned long long)best->lat_ns, best->dir, best->len,
			    (unsigned long long)best->off) < 0) {
			free(cur);
			return -EIO;
		}
		latlog_advance(&cur[from]);
		lines++;
	}
	free(cur);
	return lines;
}

/* One unsigned number, then optional blanks and a comma (or the end). */
static const char *latlog_field(const char *s, uint64_t *out, bool *last)
{
	char *end;
	unsigned long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return NULL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return NULL;
	s = end;
	while (*s == ' ' || *s == '\t')
		s++;
	*out = v;
	if (*s == ',') {
		*last = false;
		return s + 1;
	}
	if (*s == '\0' || *s == '\n' || (*s == '\r' && s[1] == '\n') ||
	    (*s == '\r' && s[1] == '\0')) {
		*last = true;
		return s;
	}
	return NULL;
}

int rawio_bench_lat_log_parse(const char *line, struct rawio_bench_lat_entry *out)
{
	uint64_t v[6];
	unsigned n = 0;
	bool last = false;
	const char *s = line;

	if (!line || !out)
		return -EINVAL;
	while (!last) {
		if (n == 6)
			return -EINVAL;
		s = latlog_field(s, &v[n], &last);
		if (!s)
			return -EINVAL;
		n++;
	}
	/* 6: time, value, ddir, bs, offset, prio (ours; fio 3.x with log_offset=1);
	 * 5: the same without prio (fio before 3.x); 4: no offset (fio 2.x without
	 * log_offset). fio 3.x without log_offset also writes 5, with prio last:
	 * pass log_offset=1 to fio for logs meant for this parser. */
	if (n < 4 || v[2] > 2)
		return -EINVAL;
	out->time_ms = v[0];
	out->lat_ns = v[1];
	out->dir = (unsigned)v[2];
	out->size = v[3];
	out->off = n >= 5 ? v[4] : 0;
	return 0;
}
