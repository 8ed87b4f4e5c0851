// SPDX-License-Identifier: MIT
/*
 * The scheduler: class queues, weighted fair queueing by virtual time (cost
 * per share, Seastar's fair_queue accumulated), a token bucket of disk time
 * and a bound on disk time in flight (Seastar's io_queue), splitting and
 * joining of long requests.
 *
 * Two locks: qlock guards the queues, the bucket and the counters; elock is
 * held by the one thread driving the engine (dispatching, reaping). Engine
 * calls are made with elock only, so submitters never wait for the disk.
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
#define SCHED_PICK_BATCH   16u	       /* engine requests picked per hold of qlock */

struct rawio_sched_class {
	struct rawio_sched *s;
	char name[32];
	unsigned shares;
	uint64_t vtime;
	struct rawio_sched_req *head, *tail;
	unsigned queued;   /* requests in the queue (a split one until its last part left) */
	unsigned inflight; /* engine requests of this class in flight */

	uint64_t bw_limit; /* bytes/s; 0 none */
	double bw_tokens;
	uint64_t bw_last_ns;

	uint64_t requests, bytes, parts, cost_ns;
	struct rawio_hist qlat, dlat;
	uint64_t starved_ns, starve_since; /* starve_since: 0 when not starving */
};

struct rawio_sched {
	struct rawio_engine *e;
	pthread_mutex_t elock, qlock;
	bool model;
	struct rawio_io_props props;
	uint64_t goal_ns, tau_ns;
	uint64_t split_len[2]; /* read, write: longer requests are split (0: never) */
	unsigned qd;

	int64_t tokens; /* ns of disk time */
	uint64_t tokens_ns;
	uint64_t inflight_cost;
	unsigned inflight;
	uint64_t last_vtime;
	uint64_t wake_ns; /* dispatch stopped for tokens or a bandwidth limit: try again then */

	struct rawio_sched_class **classes;
	unsigned nr_classes, cap_classes;
	struct rawio_req
		*busy[SCHED_PICK_BATCH]; /* the engine said BUSY: a stack, top goes first */
	unsigned nr_busy;

	struct rawio_sched_req *done_head, *done_tail;
	unsigned pending; /* submitted, not yet handed out */
	uint64_t seq;

	bool driving;	   /* a thread holds elock to drive the engine (reap, reap_cq) */
	pthread_cond_t cv; /* with qlock: a completion went to a cq, or driving ended */
	struct rawio_req **reaped;
	struct sleeper sleeper; /* waits for tokens, without the timer slack */
	struct rawio_sched_stat st;
};

static void sched_dispatch(struct rawio_sched *s);
static unsigned sched_pick_batch(struct rawio_sched *s, struct rawio_req **ios, uint64_t now);
static void sched_issue(struct rawio_sched *s, struct rawio_req **ios, unsigned n);

static uint64_t sched_cost(const struct rawio_sched *s, const struct rawio_req *io)
{
	if (!s->model || (io->op != RAWIO_OP_READ && io->op != RAWIO_OP_WRITE))
		return s->model ? rawio_io_props_cost_ns(&s->props, RAWIO_OP_WRITE, 0) : 0;
	return rawio_io_props_cost_ns(&s->props, io->op, io->len);
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
	s->reaped = calloc(s->qd, sizeof(*s->reaped));
	if (!s->reaped) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->elock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->model = opts.props != NULL;
	if (s->model)
		s->props = *opts.props;
	s->goal_ns = opts.latency_goal_ns ? opts.latency_goal_ns : SCHED_GOAL_NS;
	s->tau_ns = opts.tau_ns ? opts.tau_ns : SCHED_TAU_NS;
	if (s->model) {
		s->split_len[0] = sched_split_len(s->props.read_iops, s->props.read_bandwidth,
						  s->props.read_saturation_length, s->goal_ns);
		s->split_len[1] = sched_split_len(s->props.write_iops, s->props.write_bandwidth,
						  s->props.write_saturation_length, s->goal_ns);
	}
	s->tokens = (int64_t)s->goal_ns;
	s->tokens_ns = rawio_now_ns();
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
	free(s->reaped);
	pthread_mutex_destroy(&s->elock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->cv);
	free(s);
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
	pthread_mutex_lock(&s->qlock);
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
	pthread_mutex_unlock(&s->qlock);
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
	pthread_mutex_lock(&c->s->qlock);
	c->shares = shares;
	pthread_mutex_unlock(&c->s->qlock);
	return 0;
}

int rawio_sched_class_set_bw_limit(struct rawio_sched_class *c, uint64_t bytes_per_sec)
{
	pthread_mutex_lock(&c->s->qlock);
	c->bw_limit = bytes_per_sec;
	c->bw_last_ns = rawio_now_ns();
	c->bw_tokens = 0;
	pthread_mutex_unlock(&c->s->qlock);
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

/* Under qlock: R joins C's queue. */
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
	if (r->cq)
		r->cq->pending++;
	else
		s->pending++;
	sched_starve_start(c, now);
}

static int sched_submit(struct rawio_sched *s, struct rawio_sched_class *c,
			struct rawio_sched_cq *cq, struct rawio_sched_req *r)
{
	uint64_t sat = 0, now;

	if (!s || !c || !r || c->s != s)
		return -EINVAL;
	r->cq = cq;
	r->req.result = 0;
	r->req.complete_ns = 0;
	r->seq = 0;
	r->queued_ns = r->disk_ns = 0;
	r->cls = c;
	r->next = NULL;
	r->parts = NULL;
	r->nr_parts = 1;
	r->parts_sent = r->parts_done = 0;
	if (s->model && (r->req.op == RAWIO_OP_READ || r->req.op == RAWIO_OP_WRITE))
		sat = s->split_len[r->req.op == RAWIO_OP_WRITE];
	if (sat && r->req.len > sat) {
		int ret = sched_split(r, sat);

		if (ret)
			return ret;
	} else {
		memset(&r->io, 0, sizeof(r->io));
		r->io.op = r->req.op;
		r->io.flags = r->req.flags;
		r->io.buf = r->req.buf;
		r->io.len = r->req.len;
		r->io.off = r->req.off;
		r->io.user_data = r;
	}
	now = rawio_now_ns();
	r->req.submit_ns = now;
	if (pthread_mutex_trylock(&s->elock) == 0) {
		/* Nobody drives the engine: queue and dispatch under one hold of qlock. */
		struct rawio_req *ios[SCHED_PICK_BATCH];
		unsigned n;

		pthread_mutex_lock(&s->qlock);
		sched_enqueue(s, c, r, now);
		n = sched_pick_batch(s, ios, now);
		pthread_mutex_unlock(&s->qlock);
		sched_issue(s, ios, n);
		if (n == SCHED_PICK_BATCH)
			sched_dispatch(s);
		pthread_mutex_unlock(&s->elock);
		return 0;
	}
	pthread_mutex_lock(&s->qlock);
	sched_enqueue(s, c, r, now);
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

int rawio_sched_submit(struct rawio_sched *s, struct rawio_sched_class *c,
		       struct rawio_sched_req *r)
{
	return sched_submit(s, c, NULL, r);
}

int rawio_sched_submit_cq(struct rawio_sched *s, struct rawio_sched_class *c,
			  struct rawio_sched_cq *cq, struct rawio_sched_req *r)
{
	if (!cq)
		return -EINVAL;
	return sched_submit(s, c, cq, r);
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

/*
 * Under qlock: choose the next engine request, account it, and return it
 * (NULL: nothing may go now; s->wake_ns says when tokens allow more).
 */
static struct rawio_req *sched_pick(struct rawio_sched *s, uint64_t now)
{
	struct rawio_sched_class *best = NULL;
	struct rawio_sched_req *r;
	struct rawio_req *io;
	uint64_t cost, wake = 0, vt;

	s->wake_ns = 0;
	if (s->inflight >= s->qd)
		return NULL;
	if (s->nr_busy)
		return s->busy[--s->nr_busy];
	for (unsigned i = 0; i < s->nr_classes; i++) {
		struct rawio_sched_class *c = s->classes[i];
		struct rawio_req *head;

		if (!c->queued)
			continue;
		head = c->head->parts ? &c->head->parts[c->head->parts_sent] : &c->head->io;
		if (!sched_bw_ok(c, head->len, now, &wake))
			continue;
		if (!best || c->vtime < best->vtime)
			best = c;
	}
	if (!best) {
		s->wake_ns = wake;
		return NULL;
	}
	r = best->head;
	io = r->parts ? &r->parts[r->parts_sent] : &r->io;
	cost = sched_cost(s, io);
	if (s->model) {
		if (s->inflight && s->inflight_cost + cost > s->goal_ns) {
			s->st.bound_waits++;
			return NULL;
		}
		s->tokens += (int64_t)(now - s->tokens_ns);
		s->tokens_ns = now;
		if (s->tokens > (int64_t)s->goal_ns)
			s->tokens = (int64_t)s->goal_ns;
		if (s->tokens < (int64_t)cost && s->tokens < (int64_t)s->goal_ns) {
			int64_t need = (int64_t)cost < (int64_t)s->goal_ns ? (int64_t)cost
									   : (int64_t)s->goal_ns;

			s->st.token_waits++;
			s->wake_ns = now + (uint64_t)(need - s->tokens);
			if (wake && wake < s->wake_ns)
				s->wake_ns = wake;
			return NULL;
		}
		s->tokens -= (int64_t)cost;
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
	s->inflight_cost += cost;
	if (s->inflight > s->st.max_inflight)
		s->st.max_inflight = s->inflight;
	if (s->inflight_cost > s->st.max_inflight_cost_ns)
		s->st.max_inflight_cost_ns = s->inflight_cost;
	s->st.dispatched++;
	best->inflight++;
	sched_starve_end(best, now);
	if (!r->parts_sent) {
		r->seq = ++s->seq;
		r->dispatch_ns = now;
		r->queued_ns = now - r->req.submit_ns;
		rawio_hist_add(&best->qlat, r->queued_ns);
	}
	r->parts_sent++;
	if (r->parts_sent == r->nr_parts) {
		best->head = r->next;
		if (!best->head)
			best->tail = NULL;
		best->queued--;
	}
	return io;
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

/* Under qlock: engine request IO finished. */
static void sched_io_done(struct rawio_sched *s, struct rawio_req *io)
{
	struct rawio_sched_req *r = io->user_data;
	struct rawio_sched_class *c = r->cls;
	uint64_t done_ns = io->complete_ns ? io->complete_ns : rawio_now_ns();

	s->inflight--;
	s->inflight_cost -= sched_cost(s, io);
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
	if (r->cq) {
		/* Its own queue: whoever waits on it is told (one broadcast per reap batch
		 * would do, but completions are rare next to the wait they end). */
		if (r->cq->tail)
			r->cq->tail->next = r;
		else
			r->cq->head = r;
		r->cq->tail = r;
		pthread_cond_broadcast(&s->cv);
		return;
	}
	if (s->done_tail)
		s->done_tail->next = r;
	else
		s->done_head = r;
	s->done_tail = r;
}

/* Under qlock: up to SCHED_PICK_BATCH engine requests the limits let go now. */
static unsigned sched_pick_batch(struct rawio_sched *s, struct rawio_req **ios, uint64_t now)
{
	unsigned n = 0;

	while (n < SCHED_PICK_BATCH && (ios[n] = sched_pick(s, now)))
		n++;
	return n;
}

/* With elock: hand IOS to the engine, then commit. */
static void sched_issue(struct rawio_sched *s, struct rawio_req **ios, unsigned n)
{
	bool queued = false;

	for (unsigned i = 0; i < n; i++) {
		int q = rawio_engine_queue(s->e, ios[i]);

		if (q == RAWIO_Q_QUEUED) {
			queued = true;
			continue;
		}
		pthread_mutex_lock(&s->qlock);
		if (q == RAWIO_Q_BUSY) {
			/* This one and the rest go first next time, in this order. */
			for (unsigned k = n; k-- > i;)
				s->busy[s->nr_busy++] = ios[k];
			pthread_mutex_unlock(&s->qlock);
			break;
		}
		if (q < 0)
			ios[i]->result = q;
		sched_io_done(s, ios[i]);
		pthread_mutex_unlock(&s->qlock);
	}
	if (queued)
		rawio_engine_commit(s->e);
}

/* With elock: dispatch until the limits or the queues stop it. */
static void sched_dispatch(struct rawio_sched *s)
{
	struct rawio_req *ios[SCHED_PICK_BATCH];
	unsigned n;

	do {
		uint64_t now = rawio_now_ns();

		pthread_mutex_lock(&s->qlock);
		n = sched_pick_batch(s, ios, now);
		pthread_mutex_unlock(&s->qlock);
		sched_issue(s, ios, n);
	} while (n == SCHED_PICK_BATCH);
}

static unsigned sched_take_done(struct rawio_sched *s, struct rawio_sched_req **out, unsigned max)
{
	unsigned n = 0;

	while (n < max && s->done_head) {
		struct rawio_sched_req *r = s->done_head;

		s->done_head = r->next;
		if (!s->done_head)
			s->done_tail = NULL;
		r->next = NULL;
		out[n++] = r;
		s->pending--;
	}
	return n;
}

/*
 * With elock, after a dispatch: wait once, for the engine or for tokens, and
 * take in what completed. 1: nothing can progress (nothing in flight and no
 * time to wait for), 0, or the engine's -errno.
 */
static int sched_wait_once(struct rawio_sched *s)
{
	uint64_t wake;
	int n;

	pthread_mutex_lock(&s->qlock);
	wake = s->wake_ns;
	pthread_mutex_unlock(&s->qlock);
	if (!rawio_engine_inflight(s->e)) {
		/* Nothing at the disk: what is queued waits for tokens or a bandwidth
		 * limit (or, with no wake time, cannot go at all: do not spin). */
		if (!wake)
			return 1;
		sleeper_sleep_until(&s->sleeper, wake);
		return 0;
	}
	if (wake && wake < rawio_now_ns() + s->goal_ns) {
		/* Tokens come back before the disk is likely to answer: sleep for them. */
		sleeper_sleep_until(&s->sleeper, wake);
		n = rawio_engine_reap(s->e, s->reaped, 0, s->qd);
	} else {
		n = rawio_engine_reap(s->e, s->reaped, 1, s->qd);
	}
	if (n < 0)
		return n;
	pthread_mutex_lock(&s->qlock);
	for (int i = 0; i < n; i++)
		sched_io_done(s, s->reaped[i]);
	pthread_mutex_unlock(&s->qlock);
	return 0;
}

/* Take elock to drive the engine, and let reap_cq waiters know (they wait while one drives). */
static void sched_drive_begin(struct rawio_sched *s)
{
	pthread_mutex_lock(&s->elock);
	pthread_mutex_lock(&s->qlock);
	s->driving = true;
	pthread_mutex_unlock(&s->qlock);
}

static void sched_drive_end(struct rawio_sched *s)
{
	pthread_mutex_lock(&s->qlock);
	s->driving = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->qlock);
	pthread_mutex_unlock(&s->elock);
}

int rawio_sched_reap(struct rawio_sched *s, struct rawio_sched_req **out, unsigned min,
		     unsigned max)
{
	unsigned got = 0;
	int ret = 0;

	sched_drive_begin(s);
	for (;;) {
		int w;

		pthread_mutex_lock(&s->qlock);
		got += sched_take_done(s, out + got, max - got);
		if (min > got + s->pending)
			min = got + s->pending;
		pthread_mutex_unlock(&s->qlock);
		if (got >= max || (got >= min && got))
			break;
		sched_dispatch(s);
		pthread_mutex_lock(&s->qlock);
		got += sched_take_done(s, out + got, max - got);
		pthread_mutex_unlock(&s->qlock);
		if (got >= max || got >= min)
			break;
		w = sched_wait_once(s);
		if (w) {
			ret = w < 0 ? w : 0;
			break;
		}
	}
	sched_drive_end(s);
	return got ? (int)got : ret;
}

/* Under qlock: up to MAX of CQ's completed requests into OUT. */
static unsigned sched_take_cq(struct rawio_sched_cq *cq, struct rawio_sched_req **out, unsigned max)
{
	unsigned n = 0;

	while (n < max && cq->head) {
		struct rawio_sched_req *r = cq->head;

		cq->head = r->next;
		if (!cq->head)
			cq->tail = NULL;
		r->next = NULL;
		out[n++] = r;
		cq->pending--;
	}
	return n;
}

int rawio_sched_reap_cq(struct rawio_sched *s, struct rawio_sched_cq *cq,
			struct rawio_sched_req **out, unsigned min, unsigned max)
{
	unsigned got = 0;
	int ret = 0;

	if (!s || !cq)
		return -EINVAL;
	pthread_mutex_lock(&s->qlock);
	for (;;) {
		bool mine;
		int w = 0;

		got += sched_take_cq(cq, out + got, max - got);
		if (min > got + cq->pending)
			min = got + cq->pending;
		if (got >= max || got >= min)
			break;
		if (s->driving) {
			/* Another thread drives: it completes ours too and tells us. */
			pthread_cond_wait(&s->cv, &s->qlock);
			continue;
		}
		pthread_mutex_unlock(&s->qlock);
		sched_drive_begin(s);
		sched_dispatch(s);
		pthread_mutex_lock(&s->qlock);
		mine = cq->head != NULL;
		pthread_mutex_unlock(&s->qlock);
		if (!mine)
			w = sched_wait_once(s);
		sched_drive_end(s);
		pthread_mutex_lock(&s->qlock);
		if (w < 0) {
			ret = w;
			break;
		}
		if (w > 0 && !cq->head)
			break; /* nothing of ours can go (see sched_wait_once) */
	}
	got += sched_take_cq(cq, out + got, max - got);
	pthread_mutex_unlock(&s->qlock);
	return got ? (int)got : ret;
}

unsigned rawio_sched_pending(struct rawio_sched *s)
{
	unsigned n;

	pthread_mutex_lock(&s->qlock);
	n = s->pending;
	pthread_mutex_unlock(&s->qlock);
	return n;
}

void rawio_sched_stat(struct rawio_sched *s, struct rawio_sched_stat *st)
{
	pthread_mutex_lock(&s->qlock);
	*st = s->st;
	pthread_mutex_unlock(&s->qlock);
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
	pthread_mutex_lock(&c->s->qlock);
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
	pthread_mutex_unlock(&c->s->qlock);
}

void rawio_sched_describe(struct rawio_sched *s, char *buf, size_t len)
{
	const struct rawio_io_props *p = &s->props;

	if (!s->model) {
		snprintf(buf, len, "pass-through (no io properties) qd=%u", s->qd);
		return;
	}
	snprintf(buf, len,
		 "model read %llu IOPS %.1f MB/s, write %llu IOPS %.1f MB/s, goal %lluus, qd=%u",
		 (unsigned long long)p->read_iops, (double)p->read_bandwidth / 1e6,
		 (unsigned long long)p->write_iops, (double)p->write_bandwidth / 1e6,
		 (unsigned long long)(s->goal_ns / 1000), s->qd);
}
