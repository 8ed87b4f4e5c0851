// SPDX-License-Identifier: MIT
/*
 * One bench job: a thread with its own engine context, I/O slots and
 * statistics. The loop is fio's do_io: queue while a slot is free, commit
 * every submit_batch queued requests (1: at once, so the device starts on each
 * request as soon as it exists), and when every slot is in flight reap at
 * least complete_min (qd/8 or 1, by engine and device), taking everything
 * available up to complete_max.
 * The clock is read where rawio already reads it (queue and completion
 * stamps) plus once per commit, for the submission latency.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_impl.h"

#define BENCH_PAGE 4096u
#define BENCH_HUGE (2u << 20) /* x86-64 transparent huge page */

static void job_fail(struct bench_job *j, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first failure stops the job; its message is what the run reports. */
static void job_fail(struct bench_job *j, int err, const char *fmt, ...)
{
	va_list ap;

	j->stopping = true;
	if (j->err)
		return;
	j->err = err;
	va_start(ap, fmt);
	vsnprintf(j->errmsg, sizeof(j->errmsg), fmt, ap);
	va_end(ap);
}

/*
 * Buffers for requests larger than a page go on a transparent huge page where
 * the kernel gives one (enabled=madvise is enough), however few requests: in
 * physically contiguous memory a 128 KiB request is one DMA segment instead of
 * up to 32. On the virtio disk here 128 KiB sequential reads went from 9.5K to
 * 15.4K IOPS at QD 8 and from 6.7K to 10.4K at QD 1; fio reaches the same with
 * --iomem=shmhuge (docs/perf.md). Page-sized requests gain nothing: plain pages.
 * Not rawio_buf_alloc: it zeroes the buffer, and the advice has to come before
 * the first touch, or the pages are faulted in small.
 */
static void *job_buf_alloc(size_t len, size_t align, bool huge)
{
	void *buf;

	if (huge) {
		align = BENCH_HUGE;
		len = (len + BENCH_HUGE - 1) & ~(size_t)(BENCH_HUGE - 1);
	}
	if (posix_memalign(&buf, align, len))
		return NULL;
	if (align == BENCH_HUGE)
		madvise(buf, len, MADV_HUGEPAGE); /* advice: without THP, plain pages */
	memset(buf, 0, len);
	return buf;
}

static int job_setup(struct bench_job *j)
{
	struct bench *b = j->b;
	struct rawio_engine_opts eo = b->eopts;
	size_t buflen, align;
	int ret;

	/*
	 * Every slot's buffer starts on a page, as fio's do: besides being what
	 * DMA likes best, zram (kernel 6.18) writes whole pages for a direct
	 * read into a buffer that is only sector-aligned, clobbering the bytes
	 * around it.
	 */
	j->qd = b->o.qd;
	align = b->info->mem_align > BENCH_PAGE ? b->info->mem_align : BENCH_PAGE;
	j->stride = (b->o.bs + align - 1) / align * align;
	buflen = (size_t)j->qd * j->stride;
	j->bufs = job_buf_alloc(buflen, align, b->o.bs > BENCH_PAGE);
	j->slots = calloc(j->qd, sizeof(*j->slots));
	j->free_ios = calloc(j->qd, sizeof(*j->free_ios));
	j->pending = calloc(j->qd, sizeof(*j->pending));
	j->done = calloc(j->qd, sizeof(*j->done));
	if (!j->bufs || !j->slots || !j->free_ios || !j->pending || !j->done) {
		snprintf(j->errmsg, sizeof(j->errmsg), "out of memory for %u buffers of %u bytes",
			 j->qd, b->o.bs);
		return -ENOMEM;
	}
	j->rng = bench_mix64(b->o.seed ^ (0x51ed270b27u * (j->id + 1))) | 1;
	for (unsigned i = 0; i < j->qd && !b->o.zero_buffers; i++)
		bench_fill_buf(j->bufs + (size_t)i * j->stride, j->stride, rng_xorshift(&j->rng));

	if (b->o.queue_per_job && b->nr_queues)
		eo.mem_queue = j->id % b->nr_queues + 1;
	if (b->o.phases) {
		j->phase = malloc(RAWIO_BENCH_PHASE_NR * sizeof(*j->phase));
		if (!j->phase) {
			snprintf(j->errmsg, sizeof(j->errmsg), "out of memory");
			return -ENOMEM;
		}
		for (unsigned k = 0; k < RAWIO_BENCH_PHASE_NR; k++)
			rawio_hist_reset(&j->phase[k]);
	}
	if (eo.uring_flags & RAWIO_URING_REG_BUFS) {
		eo.reg_buf = j->bufs;
		eo.reg_buf_len = buflen;
	}
	ret = rawio_engine_open(&j->e, b->engine, b->dev, &eo);
	if (ret) {
		snprintf(j->errmsg, sizeof(j->errmsg), "engine %s: %s", b->engine,
			 rawio_strerror(ret));
		return ret;
	}
	j->mem = rawio_engine_caps(j->e) & RAWIO_CAP_MEM;
	j->qd = rawio_engine_queue_depth(j->e);
	if (j->qd > b->o.qd)
		j->qd = b->o.qd;
	rawio_engine_describe(j->e, j->engine_desc, sizeof(j->engine_desc));
	for (unsigned i = 0; i < j->qd; i++) {
		j->slots[i].req.buf = j->bufs + (size_t)i * j->stride;
		j->slots[i].req.len = b->o.bs;
		j->slots[i].req.user_data = &j->slots[i];
		j->free_ios[j->nr_free++] = &j->slots[j->qd - 1 - i];
	}
	bench_offsets_init(&j->offs, b->nblocks, b->o.rw >= RAWIO_BENCH_RANDREAD,
			   bench_mix64(b->o.seed + j->id));
	for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++)
		for (unsigned k = 0; k < BENCH_NR_LAT; k++)
			rawio_hist_reset(&j->hist[k][d]);
	j->to_issue = b->time_based ? UINT64_MAX : b->nblocks;
	return 0;
}

static void job_teardown(struct bench_job *j)
{
	/* Again at the end: what the engine measured during the run (uring's IOSQE_ASYNC
	 * choice) is in the report; the description taken at open said only how it began. */
	if (j->e)
		rawio_engine_describe(j->e, j->engine_desc, sizeof(j->engine_desc));
	rawio_engine_close(j->e);
	j->e = NULL;
	free(j->done);
	free(j->pending);
	free(j->free_ios);
	free(j->slots);
	free(j->bufs);
}

static void job_window_open(struct bench_job *j)
{
	j->measuring = true;
	/* The device's queue counters cover the jobs' windows: from the first job's
	 * opening to the last job's closing. */
	if (j->b->nr_queues && !__atomic_fetch_add(&j->b->windows_open, 1, __ATOMIC_ACQ_REL))
		rawio_dev_mem_reset_stats(j->b->dev);
	getrusage(RUSAGE_THREAD, &j->ru0);
	rawio_engine_stat(j->e, &j->st0);
}

static void job_window_close(struct bench_job *j)
{
	if (!j->measuring || j->measured)
		return;
	getrusage(RUSAGE_THREAD, &j->ru1);
	rawio_engine_stat(j->e, &j->st1);
	j->measured = true;
	if (j->b->nr_queues &&
	    __atomic_add_fetch(&j->b->windows_closed, 1, __ATOMIC_ACQ_REL) == j->b->nr_jobs)
		for (unsigned i = 0; i < j->b->nr_queues; i++)
			rawio_dev_mem_queue_stat(j->b->dev, i, &j->b->queues[i]);
}

/* Where we are in time: open or close the window. */
static void job_tick(struct bench_job *j, uint64_t now)
{
	struct bench *b = j->b;

	if (now > j->now)
		j->now = now;
	if (!j->measuring && j->now >= b->t_measure)
		job_window_open(j);
	if (b->time_based && j->now >= b->t_end && !j->stopping) {
		job_window_close(j);
		j->stopping = true;
	}
}

/* Fill in the next request of slot IO. */
static void job_prep(struct bench_job *j, struct bench_io *io)
{
	struct bench *b = j->b;
	struct rawio_req *r = &io->req;
	unsigned dir;

	switch (b->o.rw) {
	case RAWIO_BENCH_READ:
	case RAWIO_BENCH_RANDREAD:
		dir = RAWIO_BENCH_DIR_READ;
		break;
	case RAWIO_BENCH_RANDRW:
		dir = rng_xorshift(&j->rng) % 100 < b->o.rwmix_read ? RAWIO_BENCH_DIR_READ
								    : RAWIO_BENCH_DIR_WRITE;
		break;
	default:
		dir = RAWIO_BENCH_DIR_WRITE;
		break;
	}
	io->dir = dir;
	r->op = dir == RAWIO_BENCH_DIR_READ ? RAWIO_OP_READ : RAWIO_OP_WRITE;
	r->off = b->o.offset + bench_offsets_next(&j->offs) * b->o.bs;
	r->len = b->o.bs;
}

static uint64_t job_gap(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

/* blktrace's Q, G, D, C and our R (reaped) of one request, as btt's gaps. */
static void job_phases(struct bench_job *j, const struct rawio_req *r)
{
	rawio_hist_add(&j->phase[RAWIO_BENCH_Q2G], job_gap(r->submit_ns, r->tag_ns));
	rawio_hist_add(&j->phase[RAWIO_BENCH_G2D], job_gap(r->tag_ns, r->dispatch_ns));
	rawio_hist_add(&j->phase[RAWIO_BENCH_D2C], job_gap(r->dispatch_ns, r->device_ns));
	rawio_hist_add(&j->phase[RAWIO_BENCH_C2R], job_gap(r->device_ns, r->complete_ns));
	rawio_hist_add(&j->phase[RAWIO_BENCH_Q2R], job_gap(r->submit_ns, r->complete_ns));
}

/* A finished request: check it, count it if it landed inside the window. */
static void job_complete(struct bench_job *j, struct bench_io *io)
{
	struct bench *b = j->b;
	struct rawio_req *r = &io->req;
	uint64_t c = r->complete_ns;
	unsigned d = io->dir;

	if (c > j->last_complete_ns)
		j->last_complete_ns = c;
	j->completed++;
	if (r->result != (int64_t)r->len) {
		job_fail(j, r->result < 0 ? (int)r->result : -EIO,
			 "%s of %llu bytes at offset %llu: %s",
			 d == RAWIO_BENCH_DIR_READ ? "read" : "write", (unsigned long long)r->len,
			 (unsigned long long)r->off,
			 r->result < 0 ? rawio_strerror((int)r->result) : "short transfer");
		return;
	}
	if (c < b->t_measure || c >= b->t_end)
		return;
	if (!io->issue_ns || io->issue_ns > c)
		io->issue_ns = r->submit_ns; /* done inside queue (sync, mem): all of it is clat */
	rawio_hist_add(&j->hist[BENCH_SLAT][d], io->issue_ns - r->submit_ns);
	rawio_hist_add(&j->hist[BENCH_CLAT][d], c - io->issue_ns);
	rawio_hist_add(&j->hist[BENCH_LAT][d], c - r->submit_ns);
	j->ios[d]++;
	j->bytes[d] += r->len;
	if (j->phase && r->tag_ns)
		job_phases(j, r);
	if (b->log_lat) {
		struct bench_lat_rec rec = {
			.t_ns = c - b->t_measure,
			.lat_ns = c - r->submit_ns,
			.off = r->off,
			.len = (uint32_t)r->len,
			.dir = d,
		};

		if (bench_latlog_add(&j->latlog, &rec))
			job_fail(j, -ENOMEM, "out of memory for the latency log (%llu lines)",
				 (unsigned long long)j->latlog.nr);
	}
}

/* Commit what is queued and stamp its issue time (fio's io_u->issue_time). */
static int job_commit(struct bench_job *j)
{
	uint64_t now;
	int ret;

	if (!j->nr_pending)
		return 0;
	ret = rawio_engine_commit(j->e);
	if (ret) {
		job_fail(j, ret, "commit: %s", rawio_strerror(ret));
		return ret;
	}
	/* The mem engine did the work in queue: there is no submission to time. */
	now = j->mem ? 0 : rawio_now_ns();
	for (unsigned i = 0; i < j->nr_pending; i++)
		j->pending[i]->issue_ns = now;
	if (j->measuring && !j->measured) {
		j->commits++;
		j->committed += j->nr_pending;
	}
	j->nr_pending = 0;
	return 0;
}

/* Queue requests while there are free slots (and I/Os left to do). */
static int job_fill(struct bench_job *j)
{
	struct bench *b = j->b;

	while (j->nr_free && j->to_issue && !j->stopping) {
		struct bench_io *io = j->free_ios[--j->nr_free];
		int q;

		job_prep(j, io);
		io->issue_ns = 0;
		q = rawio_engine_queue(j->e, &io->req);
		if (q < 0) {
			j->free_ios[j->nr_free++] = io;
			job_fail(j, q, "queue: %s", rawio_strerror(q));
			return q;
		}
		if (q == RAWIO_Q_BUSY) {
			j->free_ios[j->nr_free++] = io;
			break;
		}
		if (j->to_issue != UINT64_MAX)
			j->to_issue--;
		if (q == RAWIO_Q_DONE) {
			/* Completed inline (sync): account it and look at the clock again. */
			job_complete(j, io);
			j->free_ios[j->nr_free++] = io;
			job_tick(j, io->req.complete_ns);
			continue;
		}
		j->pending[j->nr_pending++] = io;
		if (j->nr_pending >= b->o.submit_batch && job_commit(j))
			return j->err;
	}
	return job_commit(j);
}

static int job_reap(struct bench_job *j)
{
	struct bench *b = j->b;
	unsigned inflight = j->qd - j->nr_free;
	uint64_t latest = 0;
	int n;

	n = rawio_engine_reap(j->e, j->done, b->o.complete_min, b->o.complete_max);
	if (n < 0) {
		job_fail(j, n, "reap: %s", rawio_strerror(n));
		return n;
	}
	if (!n && inflight) {
		/* Nothing back although some are in flight and we asked for some. */
		latest = rawio_now_ns();
	}
	if (j->measuring && !j->measured) {
		j->reaps++;
		j->reaped += (unsigned)n;
	}
	for (int i = 0; i < n; i++) {
		struct bench_io *io = j->done[i]->user_data;

		job_complete(j, io);
		j->free_ios[j->nr_free++] = io;
		if (io->req.complete_ns > latest)
			latest = io->req.complete_ns;
	}
	__atomic_store_n(&j->progress_ios, j->completed, __ATOMIC_RELAXED);
	job_tick(j, latest);
	return 0;
}

static void job_run(struct bench_job *j)
{
	job_tick(j, rawio_now_ns());
	for (;;) {
		if (job_fill(j))
			break;
		if (j->nr_free == j->qd) {
			/* Nothing in flight. */
			if (j->stopping || !j->to_issue)
				break;
			job_tick(j, rawio_now_ns());
			continue;
		}
		if (job_reap(j))
			break;
	}
	/* Drain what is still in flight (not counted: past the window or failed). */
	while (j->nr_free < j->qd) {
		int n = rawio_engine_reap(j->e, j->done, 1, j->qd);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			j->free_ios[j->nr_free++] = j->done[i]->user_data;
	}
	if (!j->b->time_based)
		job_window_close(j);
}

/* Run on the (id % n)-th of the n CPUs this process may use. */
static void job_pin(struct bench_job *j)
{
	cpu_set_t allowed, one;
	int n = 0, want;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	want = (int)(j->id % (unsigned)CPU_COUNT(&allowed));
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || n++ != want)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		return;
	}
}

void *bench_job_main(void *arg)
{
	struct bench_job *j = arg;
	struct bench *b = j->b;
	int ret;

	if (b->o.pin)
		job_pin(j);
	ret = job_setup(j);
	if (ret)
		j->err = ret;
	pthread_mutex_lock(&b->lock);
	b->ready++;
	pthread_cond_broadcast(&b->cond);
	while (!b->go)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	if (b->go > 0 && !j->err)
		job_run(j);
	job_teardown(j);
	__atomic_store_n(&j->done_flag, 1, __ATOMIC_RELEASE);
	return NULL;
}
