// SPDX-License-Identifier: MIT
/*
 * bench class mode: one thread drives every class through one scheduler (or,
 * with no_sched, straight into the engine), each class keeping its own depth
 * of its own pattern in flight. One thread, as Seastar's shard: the scheduler
 * decides the order, not the thread scheduler.
 *
 * With class_threads each class has a thread and an engine context of its own
 * and goes through a context of the one scheduler (rawio_sched_ctx): io_uring
 * keeps one io-wq per submitting task, so a reader's punted requests no longer
 * wait in one FIFO behind a writer's parts (docs/perf.md, issue 15), and a
 * class's nice reaches the io-wq workers its thread starts (they are forked
 * from it): on a device whose disk time is CPU time (zram) that makes the
 * class's share of the CPU follow its priority too.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rawio/sched.h>

#include "bench_impl.h"

#define BCLASS_PAGE 4096u

struct bclass {
	struct rawio_bench_class_result *res;
	enum rawio_bench_rw rw;
	uint32_t bs;
	unsigned qd;
	struct rawio_sched_class *sc;
	struct rawio_sched_req *slots;
	struct rawio_sched_req **free_slots;
	unsigned nr_free;
	struct bench_offsets offs;
	uint64_t rng;
	struct rawio_hist hist;
	struct rawio_hist dir_hist[RAWIO_BENCH_DIR_NR];
	uint64_t dir_ios[RAWIO_BENCH_DIR_NR], dir_bytes[RAWIO_BENCH_DIR_NR];
	int err;

	/* class_threads: the class's own thread, engine context and scheduler context. */
	struct bclass_run *run;
	unsigned idx;
	pthread_t thread;
	bool started;
	struct rawio_engine *e;
	struct rawio_sched_ctx *x;
	struct rawio_sched_req **out;
	struct rawio_req **eout;
	int nice; /* as the thread ran */
};

struct bclass_run {
	struct bench *b;
	struct rawio_engine *e;
	struct rawio_sched *s;
	struct bclass *cls;
	unsigned nr;
	char *bufs;
	size_t buflen;
	struct rawio_sched_req **out;
	struct rawio_req **eout;
	unsigned total_qd;
	uint64_t t_measure, t_end;
};

static bool bclass_writes(enum rawio_bench_rw rw)
{
	return rw == RAWIO_BENCH_WRITE || rw == RAWIO_BENCH_RANDWRITE || rw == RAWIO_BENCH_RANDRW;
}

bool bench_classes_write(const struct rawio_bench_opts *o)
{
	for (unsigned i = 0; i < o->nr_classes; i++)
		if (bclass_writes(o->classes[i].rw < 0 ? o->rw
						       : (enum rawio_bench_rw)o->classes[i].rw))
			return true;
	return false;
}

int bench_classes_check(struct bench *b)
{
	const struct rawio_bench_opts *o = &b->o;

	if (o->nr_classes > RAWIO_BENCH_MAX_CLASSES || !o->classes)
		return -EINVAL;
	if (o->jobs != 1)
		return -EINVAL;
	if (!o->runtime_ns)
		return -EINVAL;
	for (unsigned i = 0; i < o->nr_classes; i++) {
		const struct rawio_bench_class *c = &o->classes[i];

		if (!c->name || !c->shares || c->shares > 65535 || c->rw >= RAWIO_BENCH_RW_NR)
			return -EINVAL;
		if (c->nice < 0 || c->nice > 19 || (c->nice && !o->class_threads))
			return -EINVAL;
	}
	return 0;
}

static int bclass_setup(struct bclass_run *r)
{
	struct bench *b = r->b;
	const struct rawio_bench_opts *o = &b->o;
	struct rawio_engine_opts eo = b->eopts;
	struct rawio_sched_opts so = { .size = sizeof(so),
				       .props = o->io_props,
				       .latency_goal_ns = o->sched_goal_ns };
	size_t at = 0;
	int ret;

	r->nr = o->nr_classes;
	r->cls = calloc(r->nr, sizeof(*r->cls));
	if (!r->cls)
		return -ENOMEM;
	for (unsigned i = 0; i < r->nr; i++) {
		const struct rawio_bench_class *c = &o->classes[i];
		struct bclass *k = &r->cls[i];

		k->rw = c->rw < 0 ? o->rw : (enum rawio_bench_rw)c->rw;
		k->bs = c->bs ? c->bs : o->bs;
		k->qd = c->qd ? c->qd : o->qd;
		if (b->info->offset_align > 1 && k->bs % b->info->offset_align)
			return -EINVAL;
		if (b->o.region / k->bs == 0)
			return -EINVAL;
		r->total_qd += k->qd;
		r->buflen +=
			(size_t)k->qd * ((k->bs + BCLASS_PAGE - 1) / BCLASS_PAGE * BCLASS_PAGE);
	}
	if (posix_memalign((void **)&r->bufs, BCLASS_PAGE, r->buflen))
		return -ENOMEM;
	memset(r->bufs, 0, r->buflen);
	r->out = calloc(r->total_qd, sizeof(*r->out));
	r->eout = calloc(r->total_qd, sizeof(*r->eout));
	if (!r->out || !r->eout)
		return -ENOMEM;
	eo.queue_depth = r->total_qd;
	if (eo.uring_flags & RAWIO_URING_REG_BUFS) {
		eo.reg_buf = r->bufs;
		eo.reg_buf_len = r->buflen;
	}
	ret = rawio_engine_open(&r->e, b->engine, b->dev, &eo);
	if (ret)
		return ret;
	if (!o->no_sched) {
		ret = rawio_sched_new(&r->s, r->e, &so);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < r->nr; i++) {
		const struct rawio_bench_class *c = &o->classes[i];
		struct bclass *k = &r->cls[i];
		size_t stride = (k->bs + BCLASS_PAGE - 1) / BCLASS_PAGE * BCLASS_PAGE;

		if (r->s) {
			ret = rawio_sched_class_new(r->s, c->name, c->shares, &k->sc);
			if (!ret && c->bw_limit)
				ret = rawio_sched_class_set_bw_limit(k->sc, c->bw_limit);
			if (ret)
				return ret;
		}
		k->slots = calloc(k->qd, sizeof(*k->slots));
		k->free_slots = calloc(k->qd, sizeof(*k->free_slots));
		if (!k->slots || !k->free_slots)
			return -ENOMEM;
		k->run = r;
		k->idx = i;
		if (o->class_threads) {
			k->out = calloc(k->qd, sizeof(*k->out));
			k->eout = calloc(k->qd, sizeof(*k->eout));
			if (!k->out || !k->eout)
				return -ENOMEM;
		}
		k->rng = bench_mix64(o->seed ^ (0x9e3779b9u * (i + 1))) | 1;
		for (unsigned q = 0; q < k->qd; q++) {
			k->slots[q].req.buf = r->bufs + at;
			k->slots[q].req.user_data = k;
			if (!o->zero_buffers)
				bench_fill_buf(r->bufs + at, stride, rng_xorshift(&k->rng));
			at += stride;
			k->free_slots[k->nr_free++] = &k->slots[q];
		}
		bench_offsets_init(&k->offs, o->region / k->bs, k->rw >= RAWIO_BENCH_RANDREAD,
				   bench_mix64(o->seed + 77 * (i + 1)));
		rawio_hist_reset(&k->hist);
		for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++)
			rawio_hist_reset(&k->dir_hist[d]);
	}
	return 0;
}

static void bclass_prep(struct bench *b, struct bclass *k, struct rawio_sched_req *sr)
{
	struct rawio_req *q = &sr->req;
	bool read;

	switch (k->rw) {
	case RAWIO_BENCH_READ:
	case RAWIO_BENCH_RANDREAD:
		read = true;
		break;
	case RAWIO_BENCH_RANDRW:
		read = rng_xorshift(&k->rng) % 100 < b->o.rwmix_read;
		break;
	default:
		read = false;
		break;
	}
	q->op = read ? RAWIO_OP_READ : RAWIO_OP_WRITE;
	q->flags = 0;
	q->len = k->bs;
	q->off = b->o.offset + bench_offsets_next(&k->offs) * k->bs;
}

static void bclass_complete(struct bclass_run *r, struct rawio_sched_req *sr)
{
	struct bclass *k = sr->req.user_data;
	struct rawio_req *q = &sr->req;
	unsigned d = q->op == RAWIO_OP_READ ? RAWIO_BENCH_DIR_READ : RAWIO_BENCH_DIR_WRITE;

	k->free_slots[k->nr_free++] = sr;
	if (q->result != (int64_t)q->len) {
		if (!k->err)
			k->err = q->result < 0 ? (int)q->result : -EIO;
		return;
	}
	if (q->complete_ns < r->t_measure || q->complete_ns >= r->t_end)
		return;
	rawio_hist_add(&k->hist, q->complete_ns - q->submit_ns);
	rawio_hist_add(&k->dir_hist[d], q->complete_ns - q->submit_ns);
	k->dir_ios[d]++;
	k->dir_bytes[d] += q->len;
}

/*
 * Queue SR of K straight on engine E (no scheduler): 0 queued or done, 1 the
 * engine is full (SR back in K's free slots), or -errno. *QUEUED is set when
 * something waits for a commit.
 */
static int bclass_engine_queue(struct bclass_run *r, struct bclass *k, struct rawio_engine *e,
			       struct rawio_sched_req *sr, bool *queued)
{
	int q = rawio_engine_queue(e, &sr->req);

	if (q < 0 || q == RAWIO_Q_BUSY) {
		k->free_slots[k->nr_free++] = sr;
		return q < 0 ? q : 1;
	}
	if (q == RAWIO_Q_DONE)
		bclass_complete(r, sr);
	else
		*queued = true;
	return 0;
}

/* Reap at least MIN of at most MAX completions from engine E (no scheduler). */
static int bclass_engine_reap(struct bclass_run *r, struct rawio_engine *e, struct rawio_req **out,
			      unsigned min, unsigned max)
{
	int n = rawio_engine_reap(e, out, min, max);

	for (int i = 0; i < n; i++)
		bclass_complete(r,
				(struct rawio_sched_req *)((char *)out[i] -
							   offsetof(struct rawio_sched_req, req)));
	return n;
}

/* Queue every free slot of every class. */
static int bclass_fill(struct bclass_run *r)
{
	bool queued = false;

	for (unsigned i = 0; i < r->nr; i++) {
		struct bclass *k = &r->cls[i];

		while (k->nr_free) {
			struct rawio_sched_req *sr = k->free_slots[--k->nr_free];
			int q;

			bclass_prep(r->b, k, sr);
			if (r->s) {
				q = rawio_sched_submit(r->s, k->sc, sr);
				if (q) {
					k->free_slots[k->nr_free++] = sr;
					return q;
				}
				continue;
			}
			q = bclass_engine_queue(r, k, r->e, sr, &queued);
			if (q < 0)
				return q;
			if (q)
				break;
		}
	}
	return queued ? rawio_engine_commit(r->e) : 0;
}

static int bclass_reap(struct bclass_run *r, unsigned min)
{
	int n;

	if (r->s) {
		n = rawio_sched_reap(r->s, r->out, min, r->total_qd);
		for (int i = 0; i < n; i++)
			bclass_complete(r, r->out[i]);
		return n;
	}
	return bclass_engine_reap(r, r->e, r->eout, min, r->total_qd);
}

static unsigned bclass_inflight(const struct bclass_run *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nr; i++)
		n += r->cls[i].qd - r->cls[i].nr_free;
	return n;
}

/* The first error any class met. */
static int bclass_err(const struct bclass_run *r)
{
	for (unsigned i = 0; i < r->nr; i++)
		if (r->cls[i].err)
			return r->cls[i].err;
	return 0;
}

/* class_threads: queue every free slot of K on its own context (or engine), commit. */
static int bclass_thread_fill(struct bclass_run *r, struct bclass *k)
{
	bool queued = false;

	while (k->nr_free) {
		struct rawio_sched_req *sr = k->free_slots[--k->nr_free];
		int q;

		bclass_prep(r->b, k, sr);
		if (k->x) {
			q = rawio_sched_ctx_submit(k->x, k->sc, sr);
			if (q) {
				k->free_slots[k->nr_free++] = sr;
				return q;
			}
			queued = true;
			continue;
		}
		q = bclass_engine_queue(r, k, k->e, sr, &queued);
		if (q < 0)
			return q;
		if (q)
			break;
	}
	if (!queued)
		return 0;
	return k->x ? rawio_sched_ctx_commit(k->x) : rawio_engine_commit(k->e);
}

static int bclass_thread_reap(struct bclass_run *r, struct bclass *k, unsigned min)
{
	int n;

	if (k->x) {
		n = rawio_sched_ctx_reap(k->x, k->out, min, k->qd);
		for (int i = 0; i < n; i++)
			bclass_complete(r, k->out[i]);
		return n;
	}
	return bclass_engine_reap(r, k->e, k->eout, min, k->qd);
}

/*
 * One class's thread: its nice first (the io-wq workers io_uring forks from
 * this thread inherit it), then its engine context (opened here: a ring may
 * belong to the task that made it), then the class loop until the run's end.
 */
static void *bclass_thread(void *arg)
{
	struct bclass *k = arg;
	struct bclass_run *r = k->run;
	struct bench *b = r->b;
	struct rawio_engine_opts eo = b->eopts;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	bool stopping = false;
	int ret;

	/* The raw syscall answers 20 - nice (1..40), so an error is told apart without errno. */
	long prio = syscall(SYS_getpriority, PRIO_PROCESS, (id_t)tid);

	if (prio < 1) {
		k->err = -EPERM;
		return NULL;
	}
	k->nice = 20 - (int)prio;
	if (b->o.classes[k->idx].nice) {
		int want = k->nice + b->o.classes[k->idx].nice;

		if (setpriority(PRIO_PROCESS, (id_t)tid, want > 19 ? 19 : want)) {
			k->err = -EPERM;
			return NULL;
		}
		prio = syscall(SYS_getpriority, PRIO_PROCESS, (id_t)tid);
		k->nice = prio < 1 ? want : 20 - (int)prio;
	}
	eo.queue_depth = k->qd;
	eo.reg_buf = NULL;
	eo.reg_buf_len = 0;
	eo.uring_flags &= ~RAWIO_URING_REG_BUFS;
	ret = rawio_engine_open(&k->e, b->engine, b->dev, &eo);
	if (!ret && r->s)
		ret = rawio_sched_ctx_new(r->s, k->e, &k->x);
	while (!ret && !k->err) {
		if (!stopping) {
			ret = bclass_thread_fill(r, k);
			if (ret)
				break;
		}
		if (k->nr_free == k->qd)
			break;
		ret = bclass_thread_reap(r, k, 1);
		if (ret < 0)
			break;
		ret = 0;
		if (!stopping && rawio_now_ns() >= r->t_end)
			stopping = true;
	}
	/* Drain what is in flight (not counted). */
	while (k->e && k->nr_free != k->qd && bclass_thread_reap(r, k, 1) > 0)
		;
	if (ret && !k->err)
		k->err = ret;
	return NULL;
}

/* Sleep until the clock reaches T. */
static void bclass_sleep_until(uint64_t t)
{
	for (uint64_t now = rawio_now_ns(); now < t; now = rawio_now_ns()) {
		struct timespec ts = { .tv_sec = (time_t)((t - now) / 1000000000u),
				       .tv_nsec = (long)((t - now) % 1000000000u) };

		nanosleep(&ts, NULL);
	}
}

/* class_threads: start a thread per class, take the process's rusage over the window. */
static int bclass_threads_run(struct bclass_run *r, struct rusage *ru0, struct rusage *ru1)
{
	int ret = 0;

	for (unsigned i = 0; i < r->nr; i++) {
		ret = -pthread_create(&r->cls[i].thread, NULL, bclass_thread, &r->cls[i]);
		if (ret)
			break;
		r->cls[i].started = true;
	}
	if (!ret) {
		bclass_sleep_until(r->t_measure);
		getrusage(RUSAGE_SELF, ru0);
		bclass_sleep_until(r->t_end);
		getrusage(RUSAGE_SELF, ru1);
	}
	for (unsigned i = 0; i < r->nr; i++)
		if (r->cls[i].started)
			pthread_join(r->cls[i].thread, NULL);
	return ret ? ret : bclass_err(r);
}

static void bclass_collect(struct bclass_run *r, struct rawio_bench_result *res,
			   const struct rusage *ru0, const struct rusage *ru1)
{
	const struct rawio_bench_opts *o = &r->b->o;
	struct rawio_hist *all = calloc(RAWIO_BENCH_DIR_NR + 1, sizeof(*all));
	double secs = (double)o->runtime_ns / 1e9;

	res->elapsed_ns = o->runtime_ns;
	res->nr_classes = r->nr;
	res->jobs = 1;
	res->qd = r->total_qd;
	res->class_threads = r->b->o.class_threads;
	if (r->s) {
		rawio_sched_describe(r->s, res->sched_desc, sizeof(res->sched_desc));
		rawio_sched_stat(r->s, &res->sched);
	} else {
		snprintf(res->sched_desc, sizeof(res->sched_desc), "none (straight to the engine)");
	}
	for (unsigned d = 0; all && d <= RAWIO_BENCH_DIR_NR; d++)
		rawio_hist_reset(&all[d]);
	for (unsigned i = 0; i < r->nr; i++) {
		struct bclass *k = &r->cls[i];
		struct rawio_bench_class_result *c = &res->classes[i];

		snprintf(c->name, sizeof(c->name), "%s", o->classes[i].name);
		c->shares = o->classes[i].shares;
		c->rw = k->rw;
		c->bs = k->bs;
		c->qd = k->qd;
		c->nice = k->nice;
		for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++) {
			c->ios += k->dir_ios[d];
			c->bytes += k->dir_bytes[d];
			res->dir[d].ios += k->dir_ios[d];
			res->dir[d].bytes += k->dir_bytes[d];
			if (all) {
				rawio_hist_merge(&all[d], &k->dir_hist[d]);
				rawio_hist_merge(&all[RAWIO_BENCH_DIR_NR], &k->dir_hist[d]);
			}
		}
		c->iops = (double)c->ios / secs;
		c->mbps = (double)c->bytes / secs / 1e6;
		bench_lat_summary(&c->lat, &k->hist);
		if (k->sc)
			rawio_sched_class_stat(k->sc, &c->sched);
	}
	for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++) {
		res->dir[d].iops = (double)res->dir[d].ios / secs;
		res->dir[d].mbps = (double)res->dir[d].bytes / secs / 1e6;
		if (all)
			bench_lat_summary(&res->dir[d].lat, &all[d]);
		res->ios += res->dir[d].ios;
		res->bytes += res->dir[d].bytes;
	}
	if (all)
		bench_lat_summary(&res->lat, &all[RAWIO_BENCH_DIR_NR]);
	res->iops = (double)res->ios / secs;
	res->mbps = (double)res->bytes / secs / 1e6;
	res->cpu_user_ns = (uint64_t)(ru1->ru_utime.tv_sec - ru0->ru_utime.tv_sec) * 1000000000ull +
			   (uint64_t)((ru1->ru_utime.tv_usec - ru0->ru_utime.tv_usec) * 1000);
	res->cpu_sys_ns = (uint64_t)(ru1->ru_stime.tv_sec - ru0->ru_stime.tv_sec) * 1000000000ull +
			  (uint64_t)((ru1->ru_stime.tv_usec - ru0->ru_stime.tv_usec) * 1000);
	if (res->ios)
		res->cpu_ns_per_io =
			(double)(res->cpu_user_ns + res->cpu_sys_ns) / (double)res->ios;
	res->cpu_util = (double)(res->cpu_user_ns + res->cpu_sys_ns) / (double)res->elapsed_ns;
	rawio_engine_describe(r->e, res->engine_desc, sizeof(res->engine_desc));
	free(all);
}

static void bclass_teardown(struct bclass_run *r)
{
	for (unsigned i = 0; r->cls && i < r->nr; i++) {
		rawio_sched_ctx_free(r->cls[i].x);
		rawio_engine_close(r->cls[i].e);
	}
	rawio_sched_free(r->s);
	rawio_engine_close(r->e);
	for (unsigned i = 0; r->cls && i < r->nr; i++) {
		free(r->cls[i].slots);
		free(r->cls[i].free_slots);
		free(r->cls[i].out);
		free(r->cls[i].eout);
	}
	free(r->cls);
	free(r->out);
	free(r->eout);
	free(r->bufs);
}

int bench_classes_run(struct bench *b, struct rawio_bench_result *res)
{
	struct bclass_run r = { .b = b };
	struct rusage ru0 = { 0 }, ru1 = { 0 };
	bool measuring = false, stopping = false;
	uint64_t t0;
	int ret;

	ret = bclass_setup(&r);
	if (ret) {
		errbuf_set(b->o.errbuf, b->o.errbuf_len, "setting up the classes: %s",
			   rawio_strerror(ret));
		goto out;
	}
	t0 = rawio_now_ns();
	r.t_measure = t0 + b->o.ramp_ns;
	r.t_end = r.t_measure + b->o.runtime_ns;
	if (b->o.class_threads) {
		ret = bclass_threads_run(&r, &ru0, &ru1);
		if (ret) {
			errbuf_set(b->o.errbuf, b->o.errbuf_len, "class I/O: %s",
				   rawio_strerror(ret));
			goto out;
		}
		bclass_collect(&r, res, &ru0, &ru1);
		goto out;
	}
	while (!bclass_err(&r)) {
		uint64_t now;

		if (!stopping) {
			ret = bclass_fill(&r);
			if (ret)
				break;
		}
		if (!bclass_inflight(&r))
			break;
		ret = bclass_reap(&r, 1);
		if (ret < 0)
			break;
		ret = 0;
		now = rawio_now_ns();
		if (!measuring && now >= r.t_measure) {
			measuring = true;
			getrusage(RUSAGE_THREAD, &ru0);
		}
		if (!stopping && now >= r.t_end) {
			stopping = true;
			getrusage(RUSAGE_THREAD, &ru1);
		}
	}
	if (!ret)
		ret = bclass_err(&r);
	/* Drain what is in flight (not counted). */
	while (bclass_inflight(&r) && bclass_reap(&r, 1) > 0)
		;
	if (ret) {
		errbuf_set(b->o.errbuf, b->o.errbuf_len, "class I/O: %s", rawio_strerror(ret));
		goto out;
	}
	bclass_collect(&r, res, &ru0, &ru1);
out:
	bclass_teardown(&r);
	return ret;
}
