// SPDX-License-Identifier: MIT
/*
 * The scheduler as admission control (Seastar's io_queue in the shape of one
 * reactor per caller): class queues of requests not yet granted, weighted
 * fair queueing by virtual time (cost per share), a token bucket of disk time
 * and a bound on disk time in flight. A grant is one engine request's right to
 * go: the caller's own context queues it on its own engine, reaps it there and
 * tells the scheduler it completed, which returns its disk time and grants the
 * next ones in WFQ order, to whichever context owns them. No thread drives
 * another's I/O: the only cross-thread hand-off is a grant to a context that
 * waits for one (nothing of its own in flight).
 *
 * One lock (s->lock) guards the class queues, the bucket, the in-flight
 * counts, the grant lists of the contexts and the statistics. A context's
 * engine, its done list and its counters are its owner's (one thread at a
 * time); engine calls are made without the lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/rawio.h>
#include <rawio/sched.h>

#include "util/hist.h"
#include "util/sleep.h"

#define SCHED_GOAL_NS	   750000ull  /* Seastar: 1.5 x the 0.5 ms task quota */
#define SCHED_TAU_NS	   5000000ull /* Seastar's io_queue tau */
#define SCHED_VT_SCALE	   65536ull   /* virtual time = cost * SCALE / shares */
#define SCHED_MAX_SHARES   65535u
#define SCHED_BW_BURST_NS  10000000ull /* a class's bandwidth bucket: 10 ms of it */
#define SCHED_BW_BURST_MIN (128u << 10)
#define SCHED_SPLIT_MIN	   (64u << 10) /* never split below this (unless the props say) */

struct rawio_sched_class {
	struct rawio_sched *s;
	char name[32];
	unsigned shares;
	uint64_t vtime;
	struct rawio_sched_req *head, *tail; /* not yet wholly granted */
	unsigned queued;		     /* requests in the queue */
	unsigned inflight;		     /* granted engine requests not yet completed */

	uint64_t bw_limit; /* bytes/s; 0 none */
	double bw_tokens;
	uint64_t bw_last_ns;

	uint64_t requests, bytes, parts, cost_ns;
	struct rawio_hist qlat, dlat;
	uint64_t starved_ns, starve_since; /* starve_since: 0 when not starving */
};

/* A caller's context: its own engine; what was granted to it and not yet queued there. */
struct rawio_sched_ctx {
	struct rawio_sched *s;
	struct rawio_engine *e;

	/* Under s->lock. */
	struct rawio_sched_req *gr_head, *gr_tail; /* requests with granted parts not yet queued */
	bool waiting;				   /* the owner sleeps on cv for a grant */
	struct rawio_sched_ctx *wnext;		   /* s->waiters */
	pthread_cond_t cv;

	/* The owner's. */
	struct rawio_sched_req *done_head, *done_tail;
	unsigned pending; /* submitted, not yet reaped */
	bool uncommitted; /* queued on the engine since its last commit */
	struct rawio_req **reaped;
	struct sleeper sleeper; /* waits for tokens, without the timer slack */
};

struct rawio_sched {
	struct rawio_engine *e; /* the scheduler's own context's engine */
	pthread_mutex_t lock;
	bool model;
	struct rawio_io_props props;
	uint64_t goal_ns, tau_ns;
	uint64_t bucket_ns;    /* the token bucket holds at most this: max(goal, tau) */
	uint64_t split_len[2]; /* read, write: longer requests are split (0: never) */
	unsigned qd;	       /* granted engine requests at most */
	const char *ctx_engine;
	const struct rawio_engine_opts *ctx_engine_opts;

	/* Per stream: one, or reads [0] and writes [1] when the properties say duplex
	 * (Seastar's io_queue: a stream, its bucket and its bound per direction). */
	unsigned nr_streams;
	int64_t tokens[2]; /* ns of disk time */
	uint64_t tokens_ns[2];
	uint64_t inflight_cost[2];
	unsigned inflight; /* granted, not yet completed */
	unsigned queued;   /* requests in the class queues */
	uint64_t last_vtime;
	uint64_t wake_ns; /* granting stopped for tokens or a bandwidth limit: try again then */

	struct rawio_sched_class **classes;
	unsigned nr_classes, cap_classes;
	uint64_t seq;
	unsigned nr_ctx;
	struct rawio_sched_ctx *waiters; /* contexts asleep until a grant */

	struct rawio_sched_ctx own; /* rawio_sched_submit / _reap, over e */
	struct rawio_sched_stat st;
};

/* The stream IO is counted in: 0, or with duplex 1 for everything but reads. */
static unsigned sched_stream(const struct rawio_sched *s, const struct rawio_req *io)
{
	return s->nr_streams > 1 && io->op != RAWIO_OP_READ;
}

static uint64_t sched_cost(const struct rawio_sched *s, const struct rawio_req *io)
{
	if (!s->model || (io->op != RAWIO_OP_READ && io->op != RAWIO_OP_WRITE))
		return s->model ? rawio_io_props_cost_ns(&s->props, RAWIO_OP_WRITE, 0) : 0;
	return rawio_io_props_cost_ns(&s->props, io->op, io->len);
}

/*
 * The cost of engine request IO of R. A split request is charged as the one
 * request it is: its first part pays the per-request term (1/iops) and its
 * bytes, every later part only its bytes, so that the parts sum to exactly
 * the cost of the whole (part i costs cost(end_i) - cost(start_i), each cost
 * rounded as one request's). Charging each part as a request of its own made
 * a 1 MiB write split into 8 pay 8 random writes' worth of per-request time.
 */
static uint64_t sched_part_cost(const struct rawio_sched *s, const struct rawio_sched_req *r,
				const struct rawio_req *io)
{
	uint64_t start;

	if (!r->parts || io == &r->parts[0] || !s->model)
		return sched_cost(s, io);
	start = io->off - r->req.off;
	return rawio_io_props_cost_ns(&s->props, io->op, start + io->len) -
	       rawio_io_props_cost_ns(&s->props, io->op, start);
}

/*
 * The longest request of a direction: its saturation length where the
 * properties give one, and in any case no longer than half the latency goal's
 * worth of disk time (a power of two, at least SCHED_SPLIT_MIN), so that a
 * bulk request never needs the whole bucket to itself (Seastar's
 * max_request_length); 0: no limit.
 */
static uint64_t sched_split_len(uint64_t iops, uint64_t bw, uint64_t sat, uint64_t goal_ns)
{
	double fit_ns = (double)goal_ns / 2 - 1e9 / (double)iops;
	uint64_t len = SCHED_SPLIT_MIN;

	if (fit_ns > 0 && (double)bw * fit_ns / 1e9 < 1e15) {
		uint64_t fit = (uint64_t)((double)bw * fit_ns / 1e9);

		while (len * 2 <= fit)
			len *= 2;
	} else if (fit_ns > 0) {
		len = 0;
	}
	if (sat && (!len || sat < len))
		len = sat;
	return len;
}

static int sched_ctx_init(struct rawio_sched *s, struct rawio_engine *e, struct rawio_sched_ctx *x)
{
	unsigned qd = rawio_engine_queue_depth(e);

	memset(x, 0, sizeof(*x));
	x->s = s;
	x->e = e;
	x->reaped = calloc(qd, sizeof(*x->reaped));
	if (!x->reaped)
		return -ENOMEM;
	pthread_cond_init(&x->cv, NULL);
	return 0;
}

static void sched_ctx_fini(struct rawio_sched_ctx *x)
{
	pthread_cond_destroy(&x->cv);
	free(x->reaped);
}

int rawio_sched_new(struct rawio_sched **out, struct rawio_engine *e,
		    const struct rawio_sched_opts *o)
{
	struct rawio_sched_opts opts = { .size = sizeof(opts) };
	struct rawio_sched *s;

	*out = NULL;
	if (!e)
		return -EINVAL;
	if (o) {
		if (o->size < offsetof(struct rawio_sched_opts, tau_ns))
			return -EINVAL;
		memcpy(&opts, o, o->size < sizeof(opts) ? o->size : sizeof(opts));
	}
	if (opts.props && (!opts.props->read_iops || !opts.props->read_bandwidth ||
			   !opts.props->write_iops || !opts.props->write_bandwidth))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->e = e;
	s->qd = rawio_engine_queue_depth(e);
	if (sched_ctx_init(s, e, &s->own)) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->model = opts.props != NULL;
	if (s->model)
		s->props = *opts.props;
	s->goal_ns = opts.latency_goal_ns ? opts.latency_goal_ns : SCHED_GOAL_NS;
	s->tau_ns = opts.tau_ns ? opts.tau_ns : SCHED_TAU_NS;
	s->bucket_ns = s->tau_ns > s->goal_ns ? s->tau_ns : s->goal_ns;
	s->ctx_engine = opts.ctx_engine;
	s->ctx_engine_opts = opts.ctx_engine_opts;
	if (s->model) {
		s->split_len[0] = sched_split_len(s->props.read_iops, s->props.read_bandwidth,
						  s->props.read_saturation_length, s->goal_ns);
		s->split_len[1] = sched_split_len(s->props.write_iops, s->props.write_bandwidth,
						  s->props.write_saturation_length, s->goal_ns);
	}
	s->nr_streams = s->model && s->props.duplex ? 2 : 1;
	for (unsigned i = 0; i < s->nr_streams; i++) {
		s->tokens[i] = (int64_t)s->goal_ns;
		s->tokens_ns[i] = rawio_now_ns();
	}
	s->st.duplex = s->nr_streams > 1;
	s->st.model = s->model;
	s->st.latency_goal_ns = s->model ? s->goal_ns : 0;
	s->st.engine_qd = s->qd;
	*out = s;
	return 0;
}

void rawio_sched_free(struct rawio_sched *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nr_classes; i++)
		free(s->classes[i]);
	free(s->classes);
	sched_ctx_fini(&s->own);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int rawio_sched_ctx_new(struct rawio_sched *s, struct rawio_engine *e, struct rawio_sched_ctx **out)
{
	struct rawio_sched_ctx *x;
	int ret;

	*out = NULL;
	if (!s || !e)
		return -EINVAL;
	x = malloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	ret = sched_ctx_init(s, e, x);
	if (ret) {
		free(x);
		return ret;
	}
	pthread_mutex_lock(&s->lock);
	s->st.contexts = ++s->nr_ctx;
	pthread_mutex_unlock(&s->lock);
	*out = x;
	return 0;
}

void rawio_sched_ctx_free(struct rawio_sched_ctx *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->s->lock);
	x->s->st.contexts = --x->s->nr_ctx;
	pthread_mutex_unlock(&x->s->lock);
	sched_ctx_fini(x);
	free(x);
}

int rawio_sched_ctx_engine_open(struct rawio_sched *s, struct rawio_dev *dev, unsigned qd,
				struct rawio_engine **out)
{
	struct rawio_engine_opts o = { .size = sizeof(o) };

	if (s->ctx_engine_opts)
		o = *s->ctx_engine_opts;
	o.size = sizeof(o);
	o.queue_depth = qd;
	o.sched_class = NULL;
	return rawio_engine_open(out, s->ctx_engine ? s->ctx_engine : rawio_engine_name(s->e), dev,
				 &o);
}

int rawio_sched_class_new(struct rawio_sched *s, const char *name, unsigned shares,
			  struct rawio_sched_class **out)
{
	struct rawio_sched_class *c;
	int ret = 0;

	*out = NULL;
	if (!s || !name || !shares || shares > SCHED_MAX_SHARES)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->shares = shares;
	rawio_hist_reset(&c->qlat);
	rawio_hist_reset(&c->dlat);
	pthread_mutex_lock(&s->lock);
	if (s->nr_classes == s->cap_classes) {
		unsigned cap = s->cap_classes ? 2 * s->cap_classes : 8;
		void *n = realloc(s->classes, cap * sizeof(*s->classes));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		s->classes = n;
		s->cap_classes = cap;
	}
	/* A newcomer starts where the others are (less tau, on activation). */
	c->vtime = s->last_vtime;
	s->classes[s->nr_classes++] = c;
	s->st.nr_classes = s->nr_classes;
out:
	pthread_mutex_unlock(&s->lock);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int rawio_sched_class_set_shares(struct rawio_sched_class *c, unsigned shares)
{
	if (!c || !shares || shares > SCHED_MAX_SHARES)
		return -EINVAL;
	pthread_mutex_lock(&c->s->lock);
	c->shares = shares;
	pthread_mutex_unlock(&c->s->lock);
	return 0;
}

int rawio_sched_class_set_bw_limit(struct rawio_sched_class *c, uint64_t bytes_per_sec)
{
	pthread_mutex_lock(&c->s->lock);
	c->bw_limit = bytes_per_sec;
	c->bw_last_ns = rawio_now_ns();
	c->bw_tokens = 0;
	pthread_mutex_unlock(&c->s->lock);
	return 0;
}

const char *rawio_sched_class_name(const struct rawio_sched_class *c)
{
	return c->name;
}

struct rawio_sched *rawio_sched_class_sched(const struct rawio_sched_class *c)
{
	return c->s;
}

/* Split R into parts of at most SAT bytes (each aligned as the whole was). */
static int sched_split(struct rawio_sched_req *r, uint64_t sat)
{
	uint64_t n = (r->req.len + sat - 1) / sat;

	r->parts = calloc(n, sizeof(*r->parts));
	if (!r->parts)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		struct rawio_req *p = &r->parts[i];
		uint64_t at = i * sat;

		p->op = r->req.op;
		p->flags = r->req.flags;
		p->buf = (char *)r->req.buf + at;
		p->off = r->req.off + at;
		p->len = r->req.len - at < sat ? r->req.len - at : sat;
		p->user_data = r;
	}
	r->nr_parts = (uint32_t)n;
	return 0;
}

/* A class's bandwidth bucket: may its head (LEN bytes) go now? If not, when. */
static bool sched_bw_ok(struct rawio_sched_class *c, uint64_t len, uint64_t now, uint64_t *wake)
{
	double burst, need;

	if (!c->bw_limit)
		return true;
	burst = (double)c->bw_limit * SCHED_BW_BURST_NS / 1e9;
	if (burst < SCHED_BW_BURST_MIN)
		burst = SCHED_BW_BURST_MIN;
	c->bw_tokens += (double)(now - c->bw_last_ns) * (double)c->bw_limit / 1e9;
	c->bw_last_ns = now;
	if (c->bw_tokens > burst)
		c->bw_tokens = burst;
	need = (double)len < burst ? (double)len : burst;
	if (c->bw_tokens >= need)
		return true;
	uint64_t at = now + (uint64_t)((need - c->bw_tokens) * 1e9 / (double)c->bw_limit) + 1;
	if (!*wake || at < *wake)
		*wake = at;
	return false;
}

/* The result of a split request: the bytes of its longest full prefix, or its first error. */
static int64_t sched_join(const struct rawio_sched_req *r)
{
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < r->nr_parts; i++) {
		const struct rawio_req *p = &r->parts[i];

		if (p->result < 0)
			return bytes ? (int64_t)bytes : p->result;
		bytes += (uint64_t)p->result;
		if ((uint64_t)p->result < p->len)
			break;
	}
	return (int64_t)bytes;
}

static void sched_starve_start(struct rawio_sched_class *c, uint64_t now)
{
	if (c->queued && !c->inflight && !c->starve_since)
		c->starve_since = now ? now : 1;
}

static void sched_starve_end(struct rawio_sched_class *c, uint64_t now)
{
	if (c->starve_since) {
		c->starved_ns += now - c->starve_since;
		c->starve_since = 0;
	}
}

/* Under lock: R joins C's queue. */
static void sched_enqueue(struct rawio_sched *s, struct rawio_sched_class *c,
			  struct rawio_sched_req *r, uint64_t now)
{
	if (r->parts)
		s->st.splits++;
	if (!c->queued) {
		/* Back from idle: no banking of credit beyond tau (the forgiving factor). */
		uint64_t forgive = (s->model ? s->tau_ns : s->qd) * SCHED_VT_SCALE / c->shares;

		if (s->last_vtime > forgive && c->vtime < s->last_vtime - forgive)
			c->vtime = s->last_vtime - forgive;
	}
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->queued++;
	s->queued++;
	sched_starve_start(c, now);
}

/* The engine request of R that goes next (its next part when split). */
static struct rawio_req *sched_next_io(struct rawio_sched_req *r)
{
	return r->parts ? &r->parts[r->parts_granted] : &r->io;
}

/*
 * Under lock: may IO (COST ns) of stream D go now? The in-flight bound, then
 * the bucket. When the bucket holds it back, *TOKEN_WAKE (0 or the earliest so
 * far) says when it will hold enough.
 */
static bool sched_admit(struct rawio_sched *s, unsigned d, uint64_t cost, uint64_t now,
			uint64_t *token_wake)
{
	int64_t need;

	if (s->inflight_cost[d] && s->inflight_cost[d] + cost > s->goal_ns) {
		s->st.bound_waits++;
		return false;
	}
	s->tokens[d] += (int64_t)(now - s->tokens_ns[d]);
	s->tokens_ns[d] = now;
	if (s->tokens[d] > (int64_t)s->bucket_ns)
		s->tokens[d] = (int64_t)s->bucket_ns;
	if (s->tokens[d] >= (int64_t)cost || s->tokens[d] >= (int64_t)s->bucket_ns) {
		s->tokens[d] -= (int64_t)cost;
		return true;
	}
	need = (int64_t)cost < (int64_t)s->bucket_ns ? (int64_t)cost : (int64_t)s->bucket_ns;
	s->st.token_waits++;
	if (!*token_wake || now + (uint64_t)(need - s->tokens[d]) < *token_wake)
		*token_wake = now + (uint64_t)(need - s->tokens[d]);
	return false;
}

/*
 * Under lock: grant the next engine request in WFQ order if the limits allow
 * it; return its request (NULL: nothing may go now; s->wake_ns says when
 * tokens or a bandwidth limit allow more, 0: at a completion). With duplex,
 * a class whose head's stream is held back by its bound or bucket does not
 * hold back a class of the other stream (Seastar's separate streams).
 */
static struct rawio_sched_req *sched_pick(struct rawio_sched *s, uint64_t now)
{
	struct rawio_sched_class *best;
	struct rawio_sched_req *r;
	struct rawio_req *io;
	uint64_t cost, wake = 0, token_wake = 0, vt;
	bool held[2] = { false, false };
	unsigned d;

	s->wake_ns = 0;
	if (!s->queued || s->inflight >= s->qd)
		return NULL;
	for (;;) {
		best = NULL;
		for (unsigned i = 0; i < s->nr_classes; i++) {
			struct rawio_sched_class *c = s->classes[i];

			if (!c->queued || held[sched_stream(s, sched_next_io(c->head))])
				continue;
			if (!sched_bw_ok(c, sched_next_io(c->head)->len, now, &wake))
				continue;
			if (!best || c->vtime < best->vtime)
				best = c;
		}
		if (!best) {
			/* A held bound frees at a completion; tokens and bandwidth at a time. */
			if (token_wake)
				s->wake_ns = wake && wake < token_wake ? wake : token_wake;
			else if (!held[0] && !held[1])
				s->wake_ns = wake;
			return NULL;
		}
		r = best->head;
		io = sched_next_io(r);
		cost = sched_part_cost(s, r, io);
		d = sched_stream(s, io);
		if (!s->model || sched_admit(s, d, cost, now, &token_wake))
			break;
		held[d] = true;
	}
	/* Seastar: the last served class's time before this request, and never zero progress. */
	if (best->vtime > s->last_vtime)
		s->last_vtime = best->vtime;
	vt = (s->model ? cost : 1) * SCHED_VT_SCALE / best->shares;
	best->vtime += vt ? vt : 1;
	best->cost_ns += cost;
	best->parts++;
	if (best->bw_limit)
		best->bw_tokens -= (double)io->len;

	s->inflight++;
	s->inflight_cost[d] += cost;
	if (s->inflight > s->st.max_inflight)
		s->st.max_inflight = s->inflight;
	if (s->inflight_cost[d] > s->st.max_inflight_cost_ns)
		s->st.max_inflight_cost_ns = s->inflight_cost[d];
	s->st.dispatched++;
	best->inflight++;
	sched_starve_end(best, now);
	if (!r->parts_granted) {
		r->seq = ++s->seq;
		r->dispatch_ns = now;
		r->queued_ns = now - r->req.submit_ns;
		rawio_hist_add(&best->qlat, r->queued_ns);
	}
	if (++r->parts_granted == r->nr_parts) {
		best->head = r->next;
		if (!best->head)
			best->tail = NULL;
		best->queued--;
		s->queued--;
	}
	return r;
}

/* Under lock: wake X, asleep in sched_wait_grant. */
static void sched_wake(struct rawio_sched *s, struct rawio_sched_ctx *x)
{
	for (struct rawio_sched_ctx **p = &s->waiters; *p; p = &(*p)->wnext) {
		if (*p == x) {
			*p = x->wnext;
			break;
		}
	}
	x->waiting = false;
	pthread_cond_signal(&x->cv);
}

/*
 * Under lock: grant what the limits allow, in WFQ order, to the contexts that
 * own it. When tokens (not a completion) will allow the next grant, one
 * sleeping context is woken to wait for them, since no completion may come.
 */
static void sched_grant(struct rawio_sched *s, uint64_t now)
{
	struct rawio_sched_req *r;

	while ((r = sched_pick(s, now))) {
		struct rawio_sched_ctx *x = r->ctx;

		if (!r->in_gr) {
			r->in_gr = true;
			r->gr_next = NULL;
			if (x->gr_tail)
				x->gr_tail->gr_next = r;
			else
				x->gr_head = r;
			x->gr_tail = r;
		}
		if (x->waiting)
			sched_wake(s, x);
	}
	if (s->wake_ns && s->waiters)
		sched_wake(s, s->waiters);
}

/* Under lock: X's granted requests, each with the parts it may queue in r->parts_ok. */
static struct rawio_sched_req *sched_take_grants(struct rawio_sched_ctx *x)
{
	struct rawio_sched_req *list = x->gr_head;

	for (struct rawio_sched_req *r = list; r; r = r->gr_next) {
		r->in_gr = false;
		r->parts_ok = r->parts_granted;
		r->iss_next = r->gr_next;
	}
	x->gr_head = x->gr_tail = NULL;
	return list;
}

/* Under lock: engine request IO of a request of X's finished; its disk time comes back. */
static void sched_io_done(struct rawio_sched *s, struct rawio_sched_ctx *x, struct rawio_req *io)
{
	struct rawio_sched_req *r = io->user_data;
	struct rawio_sched_class *c = r->cls;
	uint64_t done_ns = io->complete_ns ? io->complete_ns : rawio_now_ns();

	s->inflight--;
	s->inflight_cost[sched_stream(s, io)] -= sched_part_cost(s, r, io);
	c->inflight--;
	sched_starve_start(c, done_ns);
	if (r->parts) {
		if (done_ns > r->req.complete_ns)
			r->req.complete_ns = done_ns;
		if (++r->parts_done < r->nr_parts)
			return;
		r->req.result = sched_join(r);
		free(r->parts);
		r->parts = NULL;
	} else {
		r->req.result = io->result;
		r->req.complete_ns = done_ns;
	}
	r->disk_ns = r->req.complete_ns - r->dispatch_ns;
	rawio_hist_add(&c->dlat, r->disk_ns);
	c->requests++;
	if (r->req.result > 0)
		c->bytes += (uint64_t)r->req.result;
	r->next = NULL;
	if (x->done_tail)
		x->done_tail->next = r;
	else
		x->done_head = r;
	x->done_tail = r;
}

/* Owner: a part finished inline at queue (or was refused): its disk time comes back at once. */
static void sched_done_inline(struct rawio_sched_ctx *x, struct rawio_req *io)
{
	pthread_mutex_lock(&x->s->lock);
	sched_io_done(x->s, x, io);
	sched_grant(x->s, rawio_now_ns());
	pthread_mutex_unlock(&x->s->lock);
}

/* Owner, after a BUSY: LIST (linked by iss_next) goes back to the front of X's grant list. */
static void sched_unissue(struct rawio_sched_ctx *x, struct rawio_sched_req *list)
{
	struct rawio_sched_req *keep, *tail = NULL;

	pthread_mutex_lock(&x->s->lock);
	keep = x->gr_head;
	for (struct rawio_sched_req *r = list; r; r = r->iss_next) {
		if (r->in_gr)
			continue; /* granted more meanwhile: already in the list */
		r->in_gr = true;
		r->gr_next = NULL;
		if (tail)
			tail->gr_next = r;
		else
			x->gr_head = r;
		tail = r;
	}
	if (tail) {
		tail->gr_next = keep;
		if (!keep)
			x->gr_tail = tail;
	}
	pthread_mutex_unlock(&x->s->lock);
}

/*
 * Owner: queue the granted parts of LIST (from sched_take_grants) on X's
 * engine, not committed. A part the engine finishes inline completes at once
 * (and what that grants to X is queued too); where the engine is full, the
 * rest goes back to the front of X's grant list for the next completion.
 */
static void sched_issue(struct rawio_sched_ctx *x, struct rawio_sched_req *list)
{
	while (list) {
		bool inline_done = false;

		for (struct rawio_sched_req *r = list; r; r = list) {
			list = r->iss_next;
			while (r->parts_sent < r->parts_ok) {
				struct rawio_req *io = r->parts ? &r->parts[r->parts_sent] : &r->io;
				int q = rawio_engine_queue(x->e, io);

				if (q == RAWIO_Q_BUSY) {
					r->iss_next = list;
					sched_unissue(x, r);
					return;
				}
				r->parts_sent++;
				if (q == RAWIO_Q_QUEUED) {
					x->uncommitted = true;
					continue;
				}
				if (q < 0)
					io->result = q;
				inline_done = true;
				if (r->parts_sent == r->nr_parts) {
					sched_done_inline(x, io); /* may free r->parts */
					break;
				}
				sched_done_inline(x, io);
			}
		}
		if (!inline_done)
			return;
		pthread_mutex_lock(&x->s->lock);
		list = sched_take_grants(x);
		pthread_mutex_unlock(&x->s->lock);
	}
}

/* Owner: N engine requests of X completed: return their disk time, grant, queue X's grants. */
static void sched_completed(struct rawio_sched_ctx *x, struct rawio_req **ios, unsigned n)
{
	struct rawio_sched *s = x->s;
	struct rawio_sched_req *list;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < n; i++)
		sched_io_done(s, x, ios[i]);
	if (s->queued) /* (pass-through without a queue: no clock read) */
		sched_grant(s, rawio_now_ns());
	list = sched_take_grants(x);
	pthread_mutex_unlock(&s->lock);
	sched_issue(x, list);
}

static int sched_prepare(struct rawio_sched *s, struct rawio_sched_class *c,
			 struct rawio_sched_ctx *x, struct rawio_sched_req *r)
{
	uint64_t sat = 0;

	if (!s || !c || !r || c->s != s)
		return -EINVAL;
	r->ctx = x;
	r->req.result = 0;
	r->req.complete_ns = 0;
	r->seq = 0;
	r->queued_ns = r->disk_ns = 0;
	r->cls = c;
	r->next = r->gr_next = NULL;
	r->in_gr = false;
	r->parts = NULL;
	r->nr_parts = 1;
	r->parts_granted = r->parts_ok = r->parts_sent = r->parts_done = 0;
	if (s->model && (r->req.op == RAWIO_OP_READ || r->req.op == RAWIO_OP_WRITE))
		sat = s->split_len[r->req.op == RAWIO_OP_WRITE];
	if (sat && r->req.len > sat)
		return sched_split(r, sat);
	memset(&r->io, 0, sizeof(r->io));
	r->io.op = r->req.op;
	r->io.flags = r->req.flags;
	r->io.buf = r->req.buf;
	r->io.len = r->req.len;
	r->io.off = r->req.off;
	r->io.user_data = r;
	return 0;
}

int rawio_sched_ctx_submit(struct rawio_sched_ctx *x, struct rawio_sched_class *c,
			   struct rawio_sched_req *r)
{
	struct rawio_sched *s = x ? x->s : NULL;
	struct rawio_sched_req *list;
	uint64_t now;
	int ret;

	ret = sched_prepare(s, c, x, r);
	if (ret)
		return ret;
	now = rawio_now_ns();
	r->req.submit_ns = now;
	x->pending++;
	pthread_mutex_lock(&s->lock);
	sched_enqueue(s, c, r, now);
	sched_grant(s, now);
	list = sched_take_grants(x);
	pthread_mutex_unlock(&s->lock);
	sched_issue(x, list);
	return 0;
}

int rawio_sched_ctx_commit(struct rawio_sched_ctx *x)
{
	if (!x->uncommitted)
		return 0;
	x->uncommitted = false;
	return rawio_engine_commit(x->e);
}

/*
 * Owner, nothing of X at its engine: wait until something is granted to X
 * (and queue it), or until tokens refill. 0, or -EDEADLK when nothing is in
 * flight anywhere and nothing can be granted (a bug: a request may always go
 * alone).
 */
static int sched_wait_grant(struct rawio_sched_ctx *x)
{
	struct rawio_sched *s = x->s;
	struct rawio_sched_req *list;
	uint64_t wake;

	pthread_mutex_lock(&s->lock);
	sched_grant(s, rawio_now_ns());
	list = sched_take_grants(x);
	wake = s->wake_ns;
	if (list) {
		pthread_mutex_unlock(&s->lock);
		sched_issue(x, list);
		return 0;
	}
	s->st.grant_waits++;
	if (wake) {
		pthread_mutex_unlock(&s->lock);
		sleeper_sleep_until(&x->sleeper, wake);
		return 0;
	}
	if (!s->inflight) {
		pthread_mutex_unlock(&s->lock);
		return -EDEADLK;
	}
	/* Capacity comes back when another context's request completes: it grants and wakes us. */
	x->waiting = true;
	x->wnext = s->waiters;
	s->waiters = x;
	while (x->waiting)
		pthread_cond_wait(&x->cv, &s->lock);
	list = sched_take_grants(x);
	pthread_mutex_unlock(&s->lock);
	sched_issue(x, list);
	return 0;
}

static unsigned sched_take_done(struct rawio_sched_ctx *x, struct rawio_sched_req **out,
				unsigned max)
{
	unsigned n = 0;

	while (n < max && x->done_head) {
		struct rawio_sched_req *r = x->done_head;

		x->done_head = r->next;
		if (!x->done_head)
			x->done_tail = NULL;
		r->next = NULL;
		out[n++] = r;
		x->pending--;
	}
	return n;
}

int rawio_sched_ctx_reap(struct rawio_sched_ctx *x, struct rawio_sched_req **out, unsigned min,
			 unsigned max)
{
	unsigned got = 0, qd;
	int ret = 0, n;

	if (!x || (max && !out))
		return -EINVAL;
	qd = rawio_engine_queue_depth(x->e);
	if (min > x->pending)
		min = x->pending;
	if (min > max)
		min = max;
	for (;;) {
		got += sched_take_done(x, out + got, max - got);
		if (got >= max || (got >= min && (got || !rawio_engine_inflight(x->e))))
			break;
		ret = rawio_sched_ctx_commit(x);
		if (ret)
			break;
		if (rawio_engine_inflight(x->e)) {
			n = rawio_engine_reap(x->e, x->reaped, got < min ? 1 : 0, qd);
			if (n < 0) {
				ret = n;
				break;
			}
			if (n)
				sched_completed(x, x->reaped, (unsigned)n);
			if (got >= min && !x->done_head)
				break; /* MIN 0: one look, nothing done */
			continue;
		}
		ret = sched_wait_grant(x);
		if (ret)
			break;
	}
	if (!ret)
		ret = rawio_sched_ctx_commit(x);
	return got ? (int)got : ret;
}

unsigned rawio_sched_ctx_pending(const struct rawio_sched_ctx *x)
{
	return x->pending;
}

int rawio_sched_submit(struct rawio_sched *s, struct rawio_sched_class *c,
		       struct rawio_sched_req *r)
{
	int ret;

	if (!s)
		return -EINVAL;
	ret = rawio_sched_ctx_submit(&s->own, c, r);
	if (!ret)
		ret = rawio_sched_ctx_commit(&s->own);
	return ret;
}

int rawio_sched_reap(struct rawio_sched *s, struct rawio_sched_req **out, unsigned min,
		     unsigned max)
{
	return rawio_sched_ctx_reap(&s->own, out, min, max);
}

unsigned rawio_sched_pending(struct rawio_sched *s)
{
	return s->own.pending;
}

void rawio_sched_stat(struct rawio_sched *s, struct rawio_sched_stat *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

static void sched_lat(const struct rawio_hist *h, struct rawio_sched_lat *l)
{
	l->p50 = rawio_hist_percentile(h, 50);
	l->p99 = rawio_hist_percentile(h, 99);
	l->max = h->count ? h->max : 0;
}

void rawio_sched_class_stat(struct rawio_sched_class *c, struct rawio_sched_class_stat *st)
{
	uint64_t now = rawio_now_ns();

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->s->lock);
	snprintf(st->name, sizeof(st->name), "%s", c->name);
	st->shares = c->shares;
	st->bw_limit = c->bw_limit;
	st->requests = c->requests;
	st->bytes = c->bytes;
	st->parts = c->parts;
	st->cost_ns = c->cost_ns;
	st->queued = c->queued;
	sched_lat(&c->qlat, &st->queue_lat);
	sched_lat(&c->dlat, &st->disk_lat);
	st->starved_ns = c->starved_ns + (c->starve_since ? now - c->starve_since : 0);
	pthread_mutex_unlock(&c->s->lock);
}

void rawio_sched_class_lat_reset(struct rawio_sched_class *c)
{
	pthread_mutex_lock(&c->s->lock);
	rawio_hist_reset(&c->qlat);
	rawio_hist_reset(&c->dlat);
	pthread_mutex_unlock(&c->s->lock);
}

void rawio_sched_describe(struct rawio_sched *s, char *buf, size_t len)
{
	const struct rawio_io_props *p = &s->props;

	if (!s->model) {
		snprintf(buf, len, "pass-through (no io properties) qd=%u", s->qd);
		return;
	}
	snprintf(buf, len,
		 "model read %llu IOPS %.1f MB/s, write %llu IOPS %.1f MB/s, goal %lluus%s, qd=%u",
		 (unsigned long long)p->read_iops, (double)p->read_bandwidth / 1e6,
		 (unsigned long long)p->write_iops, (double)p->write_bandwidth / 1e6,
		 (unsigned long long)(s->goal_ns / 1000),
		 s->nr_streams > 1 ? " per direction (duplex)" : "", s->qd);
}
