// SPDX-License-Identifier: MIT
/*
 * The hybrid-polling sleep predictor, one for the engine and the simulator.
 *
 * Windows follow blk-mq's poll statistics (block/blk-mq.c and blk-stat.c,
 * v4.12 .. v6.3): the first completion after a window closed arms a one-shot
 * timer of one period and its sample is the window's first; when the timer
 * fires, every bucket that got samples publishes its statistic and the others
 * keep theirs. The timer is not re-armed until the next completion, so while
 * nothing completes the statistics stay as they were. Here the "timer" is
 * checked lazily, at the next predict or observe at or past its expiry, which
 * sees exactly what the kernel's callback would have published.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/predict.h>

#include "util/duration.h"
#include "util/hist.h"

#define PRED_NONE	   UINT64_MAX
#define PRED_MAX_PERIOD_NS (60ull * 1000000000ull)
#define PRED_MAX_FIXED_NS  (10ull * 1000000000ull)
#define PRED_MAX_RATIO	   1000u
#define PRED_DEFAULT_SHIFT 3u

struct pred_bucket {
	uint64_t est; /* published, before the ratio; PRED_NONE until the first window */
	/* The open window. */
	uint64_t n, sum, min;
	uint64_t ewma; /* EWMA: runs across windows */
	bool ewma_init;
	struct rawio_hist *hist; /* PCT: allocated at the bucket's first sample */
};

struct rawio_poll_pred {
	struct rawio_poll_cfg cfg;
	bool window_open;
	uint64_t window_end_ns;
	struct pred_bucket b[RAWIO_POLL_BUCKETS];
};

int rawio_poll_bucket(unsigned dir, uint64_t bytes)
{
	unsigned lg = 0;
	uint64_t sectors = bytes >> 9;
	int bucket;

	if (dir > 1 || !sectors)
		return -1;
	while (sectors >>= 1)
		lg++;
	bucket = (int)dir + 2 * (int)lg;
	if (bucket >= RAWIO_POLL_BUCKETS)
		bucket = (int)dir + RAWIO_POLL_BUCKETS - 2;
	return bucket;
}

int rawio_poll_cfg_check(const struct rawio_poll_cfg *c)
{
	if (!c || (unsigned)c->rule >= RAWIO_POLL_RULE_NR || c->ratio > PRED_MAX_RATIO ||
	    c->period_ns > PRED_MAX_PERIOD_NS || c->ewma_shift > 16)
		return -EINVAL;
	if (c->rule == RAWIO_POLL_PCT && (c->pct < 1 || c->pct > 99))
		return -EINVAL;
	if (c->rule == RAWIO_POLL_FIXED && c->fixed_ns > PRED_MAX_FIXED_NS)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static const struct rawio_poll_cfg pred_linux = {
	.rule = RAWIO_POLL_MEAN,
	.ratio = 50,
	.period_ns = 100000000ull,
};
static const struct rawio_poll_cfg pred_uring = {
	.rule = RAWIO_POLL_RUNMIN,
	.ratio = 50,
	.one_bucket = true,
};
static const struct rawio_poll_cfg pred_min_window = {
	.rule = RAWIO_POLL_MIN,
	.ratio = 100,
	.period_ns = 10000000ull,
};

static const struct {
	const char *name;
	const struct rawio_poll_cfg *cfg;
} pred_baselines[] = {
	{ "linux", &pred_linux },
	{ "uring-hybrid", &pred_uring },
	{ "min-window", &pred_min_window },
};

#define PRED_NR_BASELINES (sizeof(pred_baselines) / sizeof(pred_baselines[0]))

/*
 * A time in [S, END) (src/util/duration.c's syntax: "1.5ms", "250us"; DEF_NS per
 * unit when bare), at most 1 hour. 0 or -EINVAL.
 */
static int pred_parse_time(const char *s, const char *end, uint64_t def_ns, uint64_t *out)
{
	char buf[32];
	size_t len = (size_t)(end - s);

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return duration_parse_ns(buf, def_ns, 3600000000000ull, out) ? -EINVAL : 0;
}

/* An unsigned decimal in [S, END) no larger than MAX. */
static int pred_parse_uint(const char *s, const char *end, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (s == end)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static int pred_parse_rule(const char *s, const char *end, struct rawio_poll_cfg *c)
{
	static const struct {
		const char *name;
		enum rawio_poll_rule rule;
	} rules[] = {
		{ "mean", RAWIO_POLL_MEAN },   { "min", RAWIO_POLL_MIN },
		{ "ewma", RAWIO_POLL_EWMA },   { "runmin", RAWIO_POLL_RUNMIN },
		{ "fixed", RAWIO_POLL_FIXED },
	};
	size_t len = (size_t)(end - s);

	if (len >= 2 && s[0] == 'p' && s[1] >= '0' && s[1] <= '9') {
		c->rule = RAWIO_POLL_PCT;
		return pred_parse_uint(s + 1, end, 99, &c->pct) || !c->pct ? -EINVAL : 0;
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strlen(rules[i].name) == len && !memcmp(s, rules[i].name, len)) {
			c->rule = rules[i].rule;
			return 0;
		}
	}
	return -EINVAL;
}

int rawio_poll_cfg_parse(const char *spec, struct rawio_poll_cfg *out)
{
	const char *field[3], *fend[3], *p;
	struct rawio_poll_cfg c = { .ratio = 50, .period_ns = 100000000ull };
	unsigned nf = 0;
	int ret;

	if (!spec || !out)
		return -EINVAL;
	for (size_t i = 0; i < PRED_NR_BASELINES; i++) {
		if (!strcmp(spec, pred_baselines[i].name)) {
			*out = *pred_baselines[i].cfg;
			return 0;
		}
	}
	/* Split into at most three ':'-separated fields. */
	field[0] = p = spec;
	for (;; p++) {
		if (*p == ':' || *p == '\0') {
			fend[nf++] = p;
			if (*p == '\0')
				break;
			if (nf == 3)
				return -EINVAL;
			field[nf] = p + 1;
		}
	}
	ret = pred_parse_rule(field[0], fend[0], &c);
	if (ret)
		return ret;
	if (c.rule == RAWIO_POLL_FIXED) {
		if (nf != 2)
			return -EINVAL;
		ret = pred_parse_time(field[1], fend[1], 1000, &c.fixed_ns);
		if (ret)
			return ret;
		c.ratio = 100;
		c.period_ns = 0;
		*out = c;
		return rawio_poll_cfg_check(out);
	}
	if (c.rule == RAWIO_POLL_RUNMIN)
		c.one_bucket = true;
	if (nf >= 2) {
		ret = pred_parse_uint(field[1], fend[1], PRED_MAX_RATIO, &c.ratio);
		if (ret)
			return ret;
	}
	if (nf == 3) {
		ret = pred_parse_time(field[2], fend[2], 1000000, &c.period_ns);
		if (ret)
			return ret;
	}
	if (c.rule == RAWIO_POLL_RUNMIN)
		c.period_ns = 0;
	*out = c;
	return rawio_poll_cfg_check(out);
}

static void pred_time_name(uint64_t ns, char *buf, size_t len)
{
	if (ns && ns % 1000000000ull == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
	else if (ns && ns % 1000000ull == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
	else if (ns && ns % 1000ull == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ull));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

static bool pred_cfg_equal(const struct rawio_poll_cfg *a, const struct rawio_poll_cfg *b)
{
	unsigned sa = a->ewma_shift ? a->ewma_shift : PRED_DEFAULT_SHIFT;
	unsigned sb = b->ewma_shift ? b->ewma_shift : PRED_DEFAULT_SHIFT;

	return a->rule == b->rule && a->ratio == b->ratio && a->one_bucket == b->one_bucket &&
	       (a->rule != RAWIO_POLL_PCT || a->pct == b->pct) &&
	       (a->rule != RAWIO_POLL_EWMA || sa == sb) &&
	       (a->rule == RAWIO_POLL_RUNMIN || a->period_ns == b->period_ns) &&
	       (a->rule != RAWIO_POLL_FIXED || a->fixed_ns == b->fixed_ns);
}

const char *rawio_poll_cfg_name(const struct rawio_poll_cfg *c, char *buf, size_t len)
{
	static const char *const names[RAWIO_POLL_RULE_NR] = {
		"mean", "min", "p", "ewma", "runmin", "fixed",
	};
	char rule[16], t[32];

	if (!len)
		return buf;
	if (rawio_poll_cfg_check(c)) {
		snprintf(buf, len, "?");
		return buf;
	}
	for (size_t i = 0; i < PRED_NR_BASELINES; i++) {
		if (pred_cfg_equal(c, pred_baselines[i].cfg)) {
			snprintf(buf, len, "%s", pred_baselines[i].name);
			return buf;
		}
	}
	if (c->rule == RAWIO_POLL_PCT)
		snprintf(rule, sizeof(rule), "p%u", c->pct);
	else
		snprintf(rule, sizeof(rule), "%s", names[c->rule]);
	if (c->rule == RAWIO_POLL_FIXED) {
		pred_time_name(c->fixed_ns, t, sizeof(t));
		snprintf(buf, len, "fixed:%s", t);
	} else if (c->rule == RAWIO_POLL_RUNMIN) {
		snprintf(buf, len, "runmin:%u", c->ratio);
	} else {
		pred_time_name(c->period_ns, t, sizeof(t));
		snprintf(buf, len, "%s:%u:%s", rule, c->ratio, t);
	}
	return buf;
}

/* ------------------------------------------------------------------------ */
/* The predictor                                                            */

int rawio_poll_pred_new(struct rawio_poll_pred **out, const struct rawio_poll_cfg *cfg)
{
	struct rawio_poll_pred *p;
	int ret;

	*out = NULL;
	ret = rawio_poll_cfg_check(cfg);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	if (!p->cfg.ewma_shift)
		p->cfg.ewma_shift = PRED_DEFAULT_SHIFT;
	for (unsigned i = 0; i < RAWIO_POLL_BUCKETS; i++) {
		p->b[i].est = PRED_NONE;
		p->b[i].min = UINT64_MAX;
	}
	*out = p;
	return 0;
}

void rawio_poll_pred_free(struct rawio_poll_pred *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < RAWIO_POLL_BUCKETS; i++)
		free(p->b[i].hist);
	free(p);
}

static int pred_bucket(const struct rawio_poll_pred *p, unsigned dir, uint64_t bytes)
{
	int b = rawio_poll_bucket(dir, bytes);

	if (b < 0)
		return -1;
	return p->cfg.one_bucket ? 0 : b;
}

/* The window's timer fired: publish each bucket that has samples, start empty. */
static void pred_window_close(struct rawio_poll_pred *p)
{
	for (unsigned i = 0; i < RAWIO_POLL_BUCKETS; i++) {
		struct pred_bucket *b = &p->b[i];

		if (!b->n)
			continue;
		switch (p->cfg.rule) {
		case RAWIO_POLL_MEAN:
			b->est = b->sum / b->n; /* blk_rq_stat: div_u64(batch, nr_samples) */
			break;
		case RAWIO_POLL_MIN:
			b->est = b->min;
			break;
		case RAWIO_POLL_PCT:
			b->est = rawio_hist_percentile(b->hist, (double)p->cfg.pct);
			rawio_hist_reset(b->hist);
			break;
		case RAWIO_POLL_EWMA:
			b->est = b->ewma;
			break;
		default:
			break;
		}
		b->n = b->sum = 0;
		b->min = UINT64_MAX;
	}
	p->window_open = false;
}

static void pred_tick(struct rawio_poll_pred *p, uint64_t now_ns)
{
	if (p->window_open && now_ns >= p->window_end_ns)
		pred_window_close(p);
}

uint64_t rawio_poll_predict(struct rawio_poll_pred *p, unsigned dir, uint64_t bytes,
			    uint64_t now_ns)
{
	int bi = pred_bucket(p, dir, bytes);
	uint64_t est;

	if (p->cfg.rule == RAWIO_POLL_FIXED)
		return bi < 0 ? 0 : p->cfg.fixed_ns;
	pred_tick(p, now_ns);
	if (bi < 0)
		return 0;
	est = p->b[bi].est;
	if (est == PRED_NONE)
		return 0;
	if (p->cfg.rule == RAWIO_POLL_RUNMIN)
		return est / 100 * p->cfg.ratio + est % 100 * p->cfg.ratio / 100; /* floor */
	/* Rounded to nearest: (mean + 1) / 2 at 50%, as blk_mq_poll_nsecs(). */
	return est / 100 * p->cfg.ratio + (est % 100 * p->cfg.ratio + 50) / 100;
}

void rawio_poll_observe(struct rawio_poll_pred *p, unsigned dir, uint64_t bytes, uint64_t lat_ns,
			uint64_t slept_ns, uint64_t now_ns)
{
	int bi = pred_bucket(p, dir, bytes);
	struct pred_bucket *b;

	if (bi < 0 || p->cfg.rule == RAWIO_POLL_FIXED)
		return;
	if (lat_ns > RAWIO_POLL_MAX_LAT_NS)
		lat_ns =
			RAWIO_POLL_MAX_LAT_NS; /* keeps est * ratio and the sums far from overflow */
	b = &p->b[bi];
	if (p->cfg.rule == RAWIO_POLL_RUNMIN) {
		/* io_uring_hybrid_poll(): runtime = now - iopoll_start - sleep_time. */
		uint64_t runtime = lat_ns > slept_ns ? lat_ns - slept_ns : 0;

		if (runtime < b->est)
			b->est = runtime;
		return;
	}
	pred_tick(p, now_ns);
	if (!p->window_open) {
		/* blk_mq_poll_stats_start(): the completion arms the timer. */
		p->window_open = true;
		p->window_end_ns = now_ns + p->cfg.period_ns;
	}
	if (p->cfg.rule == RAWIO_POLL_PCT) {
		if (!b->hist) {
			b->hist = malloc(sizeof(*b->hist));
			if (!b->hist)
				return; /* this bucket keeps its estimate */
			rawio_hist_reset(b->hist);
		}
		rawio_hist_add(b->hist, lat_ns);
	}
	if (p->cfg.rule == RAWIO_POLL_EWMA) {
		if (!b->ewma_init) {
			b->ewma = lat_ns;
			b->ewma_init = true;
		} else if (lat_ns >= b->ewma) {
			b->ewma += (lat_ns - b->ewma) >> p->cfg.ewma_shift;
		} else {
			b->ewma -= (b->ewma - lat_ns) >> p->cfg.ewma_shift;
		}
	}
	b->n++;
	b->sum += lat_ns;
	if (lat_ns < b->min)
		b->min = lat_ns;
	/* A zero period: every completion is a window of its own. */
	if (!p->cfg.period_ns)
		pred_window_close(p);
}

uint64_t rawio_poll_estimate(const struct rawio_poll_pred *p, unsigned dir, uint64_t bytes)
{
	int bi = pred_bucket(p, dir, bytes);

	if (p->cfg.rule == RAWIO_POLL_FIXED)
		return bi < 0 ? PRED_NONE : p->cfg.fixed_ns;
	return bi < 0 ? PRED_NONE : p->b[bi].est;
}
