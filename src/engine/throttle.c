// SPDX-License-Identifier: MIT
/*
 * throttle: an emulated slow device stacked on another engine. Requests go
 * down at once (the data moves at the lower engine's speed); their
 * completions are held until the emulated device, shared by every context
 * given the same rawio_throttle, would have finished them: one request at a
 * time in arrival order, each costing overhead + transfer + seek
 * (docs/engines.md). Like fault.c, the lower engine is driven through its ops
 * directly: the core above us validates, times and completes partial
 * transfers, and must stay the only one doing so.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"
#include "util/duration.h"

struct rawio_throttle {
	pthread_mutex_t lock;
	struct rawio_throttle_params p;
	uint64_t span;
	uint64_t busy_until_ns; /* when the emulated device is free again */
	uint64_t head;		/* where the last request ended */
	struct rawio_throttle_stat st;
};

int rawio_throttle_new(struct rawio_throttle **out, const struct rawio_throttle_params *p)
{
	struct rawio_throttle *t;

	*out = NULL;
	if (!p || p->size < sizeof(*p))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->p = *p;
	t->span = p->span;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void rawio_throttle_free(struct rawio_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void rawio_throttle_stat(struct rawio_throttle *t, struct rawio_throttle_stat *st)
{
	pthread_mutex_lock(&t->lock);
	*st = t->st;
	pthread_mutex_unlock(&t->lock);
}

/* sqrt of X in [0, 1] by Newton's method (no libm in the library). */
static double throttle_sqrt(double x)
{
	double r = 1.0;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 64; i++) {
		double n = 0.5 * (r + x / r);

		if (n == r)
			break;
		r = n;
	}
	return r;
}

/* Put R on the emulated device's timeline; returns when it finishes. */
static uint64_t throttle_charge(struct rawio_throttle *t, const struct rawio_req *r, uint64_t now)
{
	uint64_t start, cost = 0, seek = 0;

	pthread_mutex_lock(&t->lock);
	start = t->busy_until_ns > now ? t->busy_until_ns : now;
	switch (r->op) {
	case RAWIO_OP_READ:
	case RAWIO_OP_WRITE: {
		uint64_t pos = req_pos(r), len = req_left(r);
		uint64_t d = pos > t->head ? pos - t->head : t->head - pos;

		if (t->p.iops)
			cost += 1000000000ull / t->p.iops;
		if (t->p.bw)
			cost += (uint64_t)((double)len * 1e9 / (double)t->p.bw);
		if (d && t->p.seek_us && t->span) {
			double frac = d >= t->span ? 1.0 : (double)d / (double)t->span;

			seek = (uint64_t)((double)t->p.seek_us * 1000.0 * throttle_sqrt(frac));
		}
		cost += seek;
		t->head = pos + len;
		t->st.bytes += len;
		break;
	}
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		cost = t->p.flush_us * 1000ull;
		t->st.flushes++;
		break;
	default:
		if (t->p.iops)
			cost = 1000000000ull / t->p.iops;
	}
	t->busy_until_ns = start + cost;
	t->st.requests++;
	t->st.busy_ns += cost;
	t->st.seek_ns += seek;
	pthread_mutex_unlock(&t->lock);
	return start + cost;
}

struct throttle_shadow {
	struct rawio_req req; /* the copy that goes down */
	struct rawio_req *orig;
	uint64_t finish_ns;
	bool used;
	bool lower_done;
};

struct throttle_priv {
	struct rawio_engine *lower;
	struct rawio_throttle *t;
	struct throttle_shadow *sh; /* qd of them */
	unsigned *free_sh;
	unsigned nr_free;
	unsigned lower_pending; /* shadows the lower engine still holds */
	struct rawio_req **tmp; /* qd: lower completions */
};

static int throttle_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct throttle_priv *p = e->priv;
	struct rawio_engine_opts lo;
	const char *lower = opts->lower;
	int ret;

	if (!opts->throttle)
		return -EINVAL;
	if (!lower)
		lower = e->info->kind == RAWIO_DEV_MEM ? "mem" : "sync";
	if (!strcmp(lower, "throttle"))
		return -EINVAL;
	p->t = opts->throttle;
	lo = opts->lower_opts ? *opts->lower_opts : *opts;
	lo.size = sizeof(lo);
	lo.lower = NULL;
	lo.lower_opts = NULL;
	lo.throttle = NULL;
	if (!lo.queue_depth)
		lo.queue_depth = e->qd;
	ret = rawio_engine_open(&p->lower, lower, e->dev, &lo);
	if (ret)
		return ret;
	/* An async lower takes only so many; a synchronous one completes in queue. */
	if ((rawio_engine_caps(p->lower) & RAWIO_CAP_ASYNC) && e->qd > p->lower->qd)
		e->qd = p->lower->qd;
	p->sh = calloc(e->qd, sizeof(*p->sh));
	p->free_sh = calloc(e->qd, sizeof(*p->free_sh));
	p->tmp = calloc(e->qd, sizeof(*p->tmp));
	if (!p->sh || !p->free_sh || !p->tmp) {
		free(p->tmp);
		free(p->free_sh);
		free(p->sh);
		rawio_engine_close(p->lower);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < e->qd; i++)
		p->free_sh[p->nr_free++] = e->qd - 1 - i;
	pthread_mutex_lock(&p->t->lock);
	if (!p->t->span)
		p->t->span = e->info->size;
	pthread_mutex_unlock(&p->t->lock);
	return 0;
}

static int throttle_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct throttle_priv *p = e->priv;
	struct throttle_shadow *sh;
	int q;

	if (!p->nr_free)
		return RAWIO_Q_BUSY;
	sh = &p->sh[p->free_sh[p->nr_free - 1]];
	sh->req = (struct rawio_req){
		.op = r->op,
		.flags = r->flags,
		.buf = r->buf ? req_data(r) : NULL,
		.len = req_left(r),
		.off = req_pos(r),
		.core_flags = r->core_flags,
	};
	if (r->op == RAWIO_OP_DISCARD || r->op == RAWIO_OP_FSYNC || r->op == RAWIO_OP_FDATASYNC) {
		sh->req.len = r->len;
		sh->req.off = r->off;
	}
	q = p->lower->ops->queue(p->lower, &sh->req);
	if (q == RAWIO_Q_BUSY || q < 0)
		return q;
	p->nr_free--;
	sh->orig = r;
	sh->used = true;
	sh->lower_done = q == RAWIO_Q_DONE;
	p->lower_pending += !sh->lower_done;
	sh->finish_ns = throttle_charge(p->t, r, rawio_now_ns());
	return RAWIO_Q_QUEUED;
}

static int throttle_commit(struct rawio_engine *e)
{
	struct throttle_priv *p = e->priv;

	return p->lower->ops->commit ? p->lower->ops->commit(p->lower) : 0;
}

/* Take what the lower engine finished; wait for at least MIN of them. */
static int throttle_pull(struct rawio_engine *e, unsigned min)
{
	struct throttle_priv *p = e->priv;
	int n;

	if (!p->lower_pending)
		return 0;
	n = p->lower->ops->reap(p->lower, p->tmp, min, p->lower_pending);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct throttle_shadow *sh = (struct throttle_shadow *)p->tmp[i];

		sh->lower_done = true;
		p->lower_pending--;
	}
	return 0;
}

static int throttle_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct throttle_priv *p = e->priv;
	unsigned got = 0;
	int ret;

	for (;;) {
		uint64_t now, earliest = UINT64_MAX;
		struct timespec ts;

		ret = throttle_pull(e, 0);
		if (ret)
			return got ? (int)got : ret;
		now = rawio_now_ns();
		for (unsigned i = 0; i < e->qd && got < max; i++) {
			struct throttle_shadow *sh = &p->sh[i];

			if (!sh->used || !sh->lower_done)
				continue;
			if (sh->finish_ns > now) {
				if (sh->finish_ns < earliest)
					earliest = sh->finish_ns;
				continue;
			}
			sh->orig->result = sh->req.result;
			out[got++] = sh->orig;
			sh->used = false;
			p->free_sh[p->nr_free++] = (unsigned)(sh - p->sh);
		}
		if (got >= min || got == max)
			return (int)got;
		if (earliest == UINT64_MAX) {
			/* Nothing finished below: wait for the lower engine. */
			ret = throttle_pull(e, 1);
			if (ret)
				return got ? (int)got : ret;
			continue;
		}
		ts.tv_sec = (time_t)(earliest / 1000000000ull);
		ts.tv_nsec = (long)(earliest % 1000000000ull);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void throttle_fini(struct rawio_engine *e)
{
	struct throttle_priv *p = e->priv;

	/* The core above drained everything through throttle_reap. */
	rawio_engine_close(p->lower);
	free(p->tmp);
	free(p->free_sh);
	free(p->sh);
}

static void throttle_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct throttle_priv *p = e->priv;
	char lower[200];

	rawio_engine_describe(p->lower, lower, sizeof(lower));
	snprintf(buf, len,
		 "throttle iops=%llu bw=%llu seek=%lluus flush=%lluus span=%llu over [%s]",
		 (unsigned long long)p->t->p.iops, (unsigned long long)p->t->p.bw,
		 (unsigned long long)p->t->p.seek_us, (unsigned long long)p->t->p.flush_us,
		 (unsigned long long)p->t->span, lower);
}

const struct rawio_engine_ops rawio_engine_throttle = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "throttle",
	.caps = RAWIO_CAP_STACKED | RAWIO_CAP_ASYNC,
	.priv_size = sizeof(struct throttle_priv),
	.init = throttle_init,
	.queue = throttle_queue,
	.commit = throttle_commit,
	.reap = throttle_reap,
	.fini = throttle_fini,
	.describe = throttle_describe,
};

/* ---- parsing a spec ---- */

/* A time in microseconds ("4ms", "0.5ms", "250us"; bare: microseconds), up to an hour. */
static int throttle_parse_time_us(const char *s, uint64_t *us)
{
	uint64_t ns;

	if (duration_parse_ns(s, 1000, 3600000000000ull, &ns))
		return -EINVAL;
	*us = ns / 1000;
	return 0;
}

static int throttle_parse_count(const char *s, uint64_t *v)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || d < 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		d *= 1e3, end++;
	else if (*end == 'm' || *end == 'M')
		d *= 1e6, end++;
	if (*end)
		return -EINVAL;
	*v = (uint64_t)d;
	return 0;
}

int rawio_throttle_parse(const char *spec, struct rawio_throttle_params *p)
{
	char buf[256], *save = NULL, *tok;

	if (!spec || !p || strlen(spec) >= sizeof(buf))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int ret = 0;

		if (!eq) {
			if (!strcmp(tok, "hdd")) {
				p->iops = 5000;
				p->bw = 150ull << 20;
				p->seek_us = 4000;
				p->flush_us = 5000;
			} else if (!strcmp(tok, "ssd")) {
				p->iops = 200000;
				p->bw = 500ull << 20;
				p->seek_us = 0;
				p->flush_us = 100;
			} else {
				return -EINVAL;
			}
			continue;
		}
		*eq++ = 0;
		if (!strcmp(tok, "iops"))
			ret = throttle_parse_count(eq, &p->iops);
		else if (!strcmp(tok, "bw"))
			ret = rawio_parse_size(eq, &p->bw);
		else if (!strcmp(tok, "span"))
			ret = rawio_parse_size(eq, &p->span);
		else if (!strcmp(tok, "seek"))
			ret = throttle_parse_time_us(eq, &p->seek_us);
		else if (!strcmp(tok, "flush"))
			ret = throttle_parse_time_us(eq, &p->flush_us);
		else
			ret = -EINVAL;
		if (ret)
			return -EINVAL;
	}
	return 0;
}

int rawio_throttle_stack(const char *spec, const char *lower, const struct rawio_dev_info *info,
			 struct rawio_throttle **out, struct rawio_engine_opts *eo)
{
	struct rawio_throttle_params p;
	int ret;

	ret = rawio_throttle_parse(spec, &p);
	if (ret)
		return ret;
	ret = rawio_throttle_new(out, &p);
	if (ret)
		return ret;
	eo->throttle = *out;
	eo->lower = lower ? lower : rawio_engine_default(info);
	return 0;
}
