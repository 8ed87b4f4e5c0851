// SPDX-License-Identifier: MIT
/*
 * uring: io_uring through liburing. queue() fills an SQE, commit() submits the
 * batch with one io_uring_enter (none at all under SQPOLL while the kernel
 * thread is awake), reap() takes what the CQ ring holds without a system call
 * and enters the kernel only to wait, or where completions are posted only
 * when we enter (DEFER_TASKRUN, IOPOLL, a pending COOP_TASKRUN task run).
 *
 * Setup flags newer than the running kernel are probed: the ring is created
 * with the wanted set, and on -EINVAL the newest optional flag is dropped and
 * the setup retried; once a ring stands, each dropped flag is tried again on
 * its own (oldest first), so one flag the kernel refuses in combination (COOP
 * with SQPOLL) does not take older ones down with it. describe() and
 * rawio_uring_setup_flags() report what stuck.
 *
 * On a device without NOWAIT (zram, loop without direct I/O: a RWF_NOWAIT read
 * fails with EOPNOTSUPP) io_uring cannot issue anything inline and hands every
 * request to an io-wq worker after a failed non-blocking attempt. Without
 * IOSQE_ASYNC io-wq starts another worker only when none is running, and a
 * zram read never sleeps: one worker does every request. With IOSQE_ASYNC a
 * request goes straight to io-wq marked concurrent, and io-wq runs up to
 * 4 workers per CPU. Which is faster depends on the machine, not the device
 * (docs/perf.md, "IOSQE_ASYNC, quiet and at load"): with idle CPUs the single
 * worker wins (no wake-up per request: 387K against 258K IOPS at QD 32 on
 * 2 vCPUs), while on CPUs shared with other work the many workers mostly win
 * (1.25-3.6x in 6 of 7 rows at load 11-20: each runnable thread gets a share,
 * and one preempted worker stalls the whole queue). So at depth the engine
 * measures: it runs one mode for URING_ADAPT_RUN_NS (doubled by each lost
 * probe, up to URING_ADAPT_RUN_MAX_NS), tries the other for
 * URING_ADAPT_PROBE_NS, and switches to it only when it completed more than
 * URING_ADAPT_MARGIN_PCT percent more per second (closer than that, the two
 * rates differ by the machine's noise); it starts without the flag. At depth 1
 * IOSQE_ASYNC always (one request, one worker: it only skips the failed
 * attempt). fio's io_uring engine sets IOSQE_ASYNC only with force_async=1.
 * On such a device a submitter pinned to some CPUs gets io-wq's workers on
 * the others (uring_iowq_away).
 *
 * The CQ ring is twice the SQ ring (asked for with CQSIZE, and the kernel's
 * default where CQSIZE is refused) and the core never has more than qd <= SQ
 * entries in flight, so the CQ cannot overflow even on a kernel without
 * IORING_FEAT_NODROP (which would drop completions rather than queue them).
 */
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "engine_impl.h"
#include "uring_adapt.h"

/* UAPI flags newer than some headers (values from linux/io_uring.h). */
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_TASKRUN_FLAG
#define IORING_SETUP_TASKRUN_FLAG (1U << 9)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_SQ_TASKRUN
#define IORING_SQ_TASKRUN (1U << 2)
#endif
#ifndef IORING_SETUP_HYBRID_IOPOLL
#define IORING_SETUP_HYBRID_IOPOLL (1U << 17) /* 6.13: sleep before polling (issue 8) */
#endif

#define URING_MAX_ENTRIES 32768u     /* IORING_MAX_ENTRIES */
#define URING_MAX_RW	  (1u << 30) /* sqe->len is 32 bits; the core resubmits the rest */
#define URING_REAP_BATCH  64u

struct uring_priv {
	struct io_uring ring;
	bool ring_ok;
	unsigned setup;	   /* IORING_SETUP_* in force */
	unsigned dropped;  /* asked for, refused by this kernel */
	unsigned features; /* IORING_FEAT_* */
	bool reg_files;
	bool reg_bufs;
	uintptr_t reg_start, reg_end; /* the registered buffer */
	bool iowq_away;		      /* io-wq kept off the pinned submitter's CPUs */
	bool enter_to_reap;	      /* completions are posted only when we enter the kernel */
	unsigned held;		      /* queued and not yet reaped */
	bool force_async;	      /* IOSQE_ASYNC on every request now */
	struct uring_adapt adapt;     /* no NOWAIT at depth: IOSQE_ASYNC measured on and off */
	uint64_t reaped;	      /* completions harvested so far */
};

static const struct {
	unsigned bit;
	const char *name;
} uring_setup_names[] = {
	{ IORING_SETUP_IOPOLL, "IOPOLL" },
	{ IORING_SETUP_SQPOLL, "SQPOLL" },
	{ IORING_SETUP_CQSIZE, "CQSIZE" },
	{ IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL" },
	{ IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
	{ IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG" },
	{ IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER" },
	{ IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN" },
	{ IORING_SETUP_HYBRID_IOPOLL, "HYBRID_IOPOLL" },
};

#define URING_NR_NAMES (sizeof(uring_setup_names) / sizeof(uring_setup_names[0]))

/* Flags we can do without, newest kernel first: the order they are dropped in. */
static const unsigned uring_optional[] = {
	IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_TASKRUN_FLAG,
	IORING_SETUP_COOP_TASKRUN,  IORING_SETUP_SUBMIT_ALL,	IORING_SETUP_CQSIZE,
};

#define URING_NR_OPTIONAL (sizeof(uring_optional) / sizeof(uring_optional[0]))

static int uring_ring_init(struct io_uring *ring, unsigned entries, unsigned flags,
			   unsigned idle_ms, unsigned *features)
{
	struct io_uring_params params;
	int ret;

	memset(&params, 0, sizeof(params));
	params.flags = flags;
	params.cq_entries = 2 * entries;
	params.sq_thread_idle = idle_ms;
	ret = io_uring_queue_init_params(entries, ring, &params);
	if (!ret)
		*features = params.features;
	return ret;
}

/* Can FLAG stand in a setup of CUR? (The kernel refuses these without their base.) */
static bool uring_flag_has_base(unsigned flag, unsigned cur)
{
	if (flag == IORING_SETUP_TASKRUN_FLAG)
		return cur & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN);
	if (flag == IORING_SETUP_DEFER_TASKRUN)
		return cur & IORING_SETUP_SINGLE_ISSUER;
	return true;
}

/* Create the ring with as many of the WANT flags as the kernel accepts. */
static int uring_setup(struct uring_priv *p, unsigned entries, unsigned want, unsigned idle_ms)
{
	unsigned cur = want;
	int ret;

	ret = uring_ring_init(&p->ring, entries, cur, idle_ms, &p->features);
	for (size_t i = 0; ret == -EINVAL && i < URING_NR_OPTIONAL; i++) {
		if (!(cur & uring_optional[i]))
			continue;
		cur &= ~uring_optional[i];
		ret = uring_ring_init(&p->ring, entries, cur, idle_ms, &p->features);
	}
	if (ret)
		return ret;

	/* Give each dropped flag another chance without the newer ones. */
	for (size_t i = URING_NR_OPTIONAL; i-- > 0;) {
		unsigned f = uring_optional[i], features;
		struct io_uring ring;

		if (!(want & f) || (cur & f) || !uring_flag_has_base(f, cur))
			continue;
		if (uring_ring_init(&ring, entries, cur | f, idle_ms, &features))
			continue;
		io_uring_queue_exit(&p->ring);
		p->ring = ring;
		p->features = features;
		cur |= f;
	}
	p->setup = cur;
	p->dropped = want & ~cur;
	return 0;
}

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/*
 * Would io_uring have to punt every request on this fd? True when a
 * RWF_NOWAIT read of the first block is refused as unsupported (the device
 * lacks NOWAIT); false when it works, would block (EAGAIN), or cannot be
 * tried (a write-only fd, no memory).
 */
static bool uring_punts_all(const struct rawio_engine *e)
{
	size_t len = e->info->offset_align > 512 ? e->info->offset_align : 4096;
	struct iovec iov;
	void *buf;
	ssize_t n;

	if (e->info->kind != RAWIO_DEV_BLOCK || posix_memalign(&buf, len, len))
		return false;
	iov.iov_base = buf;
	iov.iov_len = len;
	n = preadv2(e->fd, &iov, 1, 0, RWF_NOWAIT);
	free(buf);
	return n < 0 && errno == EOPNOTSUPP;
}

/*
 * A submitter pinned to some of the process's CPUs: keep io-wq's workers on
 * the others, so a worker is never queued behind the thread that feeds it.
 */
static bool uring_iowq_away(struct uring_priv *p)
{
	cpu_set_t mine, all, others;

	if (pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) ||
	    sched_getaffinity(getpid(), sizeof(all), &all))
		return false;
	CPU_XOR(&others, &all, &mine);	 /* all but mine (and mine outside all) ... */
	CPU_AND(&others, &others, &all); /* ... within all */
	if (!CPU_COUNT(&others))
		return false;
	return io_uring_register_iowq_aff(&p->ring, sizeof(others), &others) == 0;
}

static int uring_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	struct uring_priv *p = e->priv;
	unsigned fl = opts->uring_flags, want = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
	unsigned idle_ms = 0;
	bool punts;
	int ret;

	if (e->fd < 0)
		return -EINVAL;
	if (fl & ~(RAWIO_URING_REG_FILES | RAWIO_URING_REG_BUFS | RAWIO_URING_SQPOLL |
		   RAWIO_URING_COOP_TASKRUN | RAWIO_URING_SINGLE_ISSUER |
		   RAWIO_URING_DEFER_TASKRUN | RAWIO_URING_IOPOLL | RAWIO_URING_HYBRID_IOPOLL))
		return -EINVAL;
	if ((fl & RAWIO_URING_REG_BUFS) && (!opts->reg_buf || !opts->reg_buf_len))
		return -EINVAL;
	if (fl & (RAWIO_URING_IOPOLL | RAWIO_URING_HYBRID_IOPOLL)) {
		/* Without poll queues every polled I/O completes with -EOPNOTSUPP. */
		if (!e->info->io_poll)
			return -EOPNOTSUPP;
		want |= IORING_SETUP_IOPOLL;
		if (fl & RAWIO_URING_HYBRID_IOPOLL)
			want |= IORING_SETUP_HYBRID_IOPOLL; /* not optional: no silent fallback */
	}
	if (fl & RAWIO_URING_SQPOLL) {
		want |= IORING_SETUP_SQPOLL;
		idle_ms = opts->sqpoll_idle_ms ? opts->sqpoll_idle_ms : 100;
	}
	if (fl & RAWIO_URING_COOP_TASKRUN)
		want |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	if (fl & RAWIO_URING_SINGLE_ISSUER)
		want |= IORING_SETUP_SINGLE_ISSUER;
	if (fl & RAWIO_URING_DEFER_TASKRUN)
		want |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
			IORING_SETUP_TASKRUN_FLAG;
	if (e->qd > URING_MAX_ENTRIES)
		e->qd = URING_MAX_ENTRIES;

	ret = uring_setup(p, e->qd, want, idle_ms);
	if (ret)
		return ret;
	p->ring_ok = true;
	punts = !(p->setup & IORING_SETUP_IOPOLL) && uring_punts_all(e);
	p->adapt.on = punts && e->qd > 1;
	/* At depth the measurement starts without the flag, as fio runs: with the
	 * margin the mode first kept tends to stay, and on idle CPUs the single worker
	 * is at least as fast (1.5x at QD 32, a tie at QD 128); where the flag wins by
	 * the 1.25-3.6x seen at load, the first probe (200 ms in) takes it. */
	p->force_async = punts && !p->adapt.on;
	uring_adapt_start(&p->adapt, rawio_now_ns(), 0);
	if (punts)
		p->iowq_away = uring_iowq_away(p);

	if (fl & RAWIO_URING_REG_FILES) {
		ret = io_uring_register_files(&p->ring, &e->fd, 1);
		if (ret)
			goto err_exit;
		p->reg_files = true;
	}
	if (fl & RAWIO_URING_REG_BUFS) {
		struct iovec iov = { .iov_base = opts->reg_buf, .iov_len = opts->reg_buf_len };

		ret = io_uring_register_buffers(&p->ring, &iov, 1);
		if (ret)
			goto err_exit;
		p->reg_bufs = true;
		p->reg_start = (uintptr_t)opts->reg_buf;
		p->reg_end = p->reg_start + opts->reg_buf_len;
	}
	/*
	 * Under COOP_TASKRUN and DEFER_TASKRUN completions wait in the kernel
	 * until we enter it; TASKRUN_FLAG makes it say so in the SQ ring flags
	 * (IORING_SQ_TASKRUN). Without the flag, or under IOPOLL, a reap that
	 * finds nothing must enter to look.
	 */
	p->enter_to_reap = (p->setup & IORING_SETUP_IOPOLL) ||
			   ((p->setup & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN)) &&
			    !(p->setup & IORING_SETUP_TASKRUN_FLAG));
	return 0;

err_exit:
	io_uring_queue_exit(&p->ring);
	p->ring_ok = false;
	return ret;
}

/* Would io_uring_submit enter the kernel now? (For the submit_calls count.) */
static bool uring_submit_enters(struct uring_priv *p)
{
	if (!(p->setup & IORING_SETUP_SQPOLL))
		return true;
	return __atomic_load_n(p->ring.sq.kflags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP;
}

void uring_adapt_start(struct uring_adapt *a, uint64_t now, uint64_t reaped)
{
	a->probing = false;
	a->start_ns = now;
	a->len_ns = URING_ADAPT_FIRST_NS;
	a->run_len_ns = URING_ADAPT_RUN_NS;
	a->reaped0 = reaped;
}

bool uring_adapt_step(struct uring_adapt *a, bool async, uint64_t now, uint64_t reaped)
{
	uint64_t elapsed = now - a->start_ns, rate, slack;

	if (!a->on || now < a->start_ns || elapsed < a->len_ns)
		return async;
	/* Past its end by 3 windows (of at most URING_ADAPT_RUN_NS), it sat idle. */
	slack = 3 * (a->len_ns < URING_ADAPT_RUN_NS ? a->len_ns : URING_ADAPT_RUN_NS);
	if (elapsed > a->len_ns + slack) { /* idle for a while: what it did says nothing */
		bool kept = a->probing ? !async : async;

		uring_adapt_start(a, now, reaped);
		return kept;
	}
	rate = (reaped - a->reaped0) * 1000000000ull / elapsed;
	a->start_ns = now;
	a->reaped0 = reaped;
	if (!a->probing) {
		a->run_rate = rate;
		a->probing = true;
		a->len_ns = URING_ADAPT_PROBE_NS;
		return !async; /* try the other mode */
	}
	a->probing = false;
	a->probe_rate = rate;
	a->probes++;
	if (rate * 100 > a->run_rate * (100 + URING_ADAPT_MARGIN_PCT)) {
		a->switches++;
		a->run_len_ns = a->len_ns = URING_ADAPT_RUN_NS;
		return async; /* the probe won: keep its mode */
	}
	/* Lost again: look less often. */
	a->run_len_ns = 2 * a->run_len_ns < URING_ADAPT_RUN_MAX_NS ? 2 * a->run_len_ns
								   : URING_ADAPT_RUN_MAX_NS;
	a->len_ns = a->run_len_ns;
	return !async; /* back to the kept mode */
}

/*
 * Submit what the SQ ring holds. Returns 0, -EAGAIN when the kernel could not
 * take it all now (the rest stays in the ring for the next call), or -errno
 * when the ring itself is unusable.
 */
static int uring_submit(struct rawio_engine *e)
{
	struct uring_priv *p = e->priv;
	int ret;

	if (!io_uring_sq_ready(&p->ring))
		return 0;
	if (uring_submit_enters(p))
		e->st.submit_calls++;
	ret = io_uring_submit(&p->ring);
	if (ret == -EAGAIN || ret == -EBUSY || ret == -EINTR)
		return -EAGAIN;
	if (ret < 0)
		return ret;
	if (!(p->setup & IORING_SETUP_SQPOLL) && io_uring_sq_ready(&p->ring))
		return -EAGAIN; /* stopped at an SQE it could not take; its CQE tells */
	return 0;
}

static bool uring_fixed_buf(const struct uring_priv *p, const void *buf, uint64_t len)
{
	uintptr_t start = (uintptr_t)buf;

	return p->reg_bufs && start >= p->reg_start && start < p->reg_end &&
	       len <= p->reg_end - start;
}

static int uring_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct uring_priv *p = e->priv;
	struct io_uring_sqe *sqe;
	int fd = p->reg_files ? 0 : e->fd;
	unsigned len;

	if (r->op == RAWIO_OP_DISCARD) {
		r->result = engine_discard(e->fd, e->info, r->off, r->len);
		e->st.submit_calls++;
		return RAWIO_Q_DONE;
	}
	if (r->op >= RAWIO_OP_NR) {
		r->result = -EINVAL;
		return RAWIO_Q_DONE;
	}
	sqe = io_uring_get_sqe(&p->ring);
	if (!sqe) {
		int ret = uring_submit(e);

		if (ret < 0 && ret != -EAGAIN)
			return ret;
		sqe = io_uring_get_sqe(&p->ring);
		if (!sqe && (p->setup & IORING_SETUP_SQPOLL)) {
			/*
			 * The SQPOLL thread can post completions before it moves the
			 * SQ head, so the ring may look full with nothing in flight.
			 * Wait for it to take entries (not for I/O), then retry.
			 */
			if (io_uring_sqring_wait(&p->ring) >= 0)
				sqe = io_uring_get_sqe(&p->ring);
		}
		if (!sqe)
			return RAWIO_Q_BUSY;
	}

	len = req_left(r) > URING_MAX_RW ? URING_MAX_RW : (unsigned)req_left(r);
	switch (r->op) {
	case RAWIO_OP_READ:
		if (uring_fixed_buf(p, req_data(r), len))
			io_uring_prep_read_fixed(sqe, fd, req_data(r), len, req_pos(r), 0);
		else
			io_uring_prep_read(sqe, fd, req_data(r), len, req_pos(r));
		sqe->rw_flags = req_rw_flags(r);
		break;
	case RAWIO_OP_WRITE:
		if (uring_fixed_buf(p, req_data(r), len))
			io_uring_prep_write_fixed(sqe, fd, req_data(r), len, req_pos(r), 0);
		else
			io_uring_prep_write(sqe, fd, req_data(r), len, req_pos(r));
		sqe->rw_flags = req_rw_flags(r);
		break;
	case RAWIO_OP_FSYNC:
		io_uring_prep_fsync(sqe, fd, 0);
		break;
	case RAWIO_OP_FDATASYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (p->reg_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	if (p->force_async)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, r);
	p->held++;
	return RAWIO_Q_QUEUED;
}

static int uring_commit(struct rawio_engine *e)
{
	int ret = uring_submit(e);

	return ret == -EAGAIN ? 0 : ret; /* kept in the SQ ring; reap submits it again */
}

/* Take up to MAX completions from the CQ ring, without a system call. */
static unsigned uring_harvest(struct rawio_engine *e, struct rawio_req **out, unsigned max)
{
	struct uring_priv *p = e->priv;
	struct io_uring_cqe *cqes[URING_REAP_BATCH];
	unsigned got = 0;
	uint64_t now = 0;

	while (got < max) {
		unsigned want = max - got < URING_REAP_BATCH ? max - got : URING_REAP_BATCH;
		unsigned n = io_uring_peek_batch_cqe(&p->ring, cqes, want);

		/* One clock read for the batch: they were all seen now. */
		if (n && !now)
			now = rawio_now_ns();
		for (unsigned i = 0; i < n; i++) {
			struct rawio_req *r = io_uring_cqe_get_data(cqes[i]);

			r->result = cqes[i]->res;
			r->complete_ns = now;
			out[got++] = r;
		}
		io_uring_cq_advance(&p->ring, n);
		if (n < want)
			break;
	}
	p->held -= got;
	p->reaped += got;
	/* The IOSQE_ASYNC measurement steps on the clock read above, not one of its own:
	 * every window ends at a reap, and a window with nothing reaped has no rate yet. */
	if (got && p->adapt.on)
		p->force_async = uring_adapt_step(&p->adapt, p->force_async, now, p->reaped);
	return got;
}

/* Is there completion work the kernel runs only when we enter it? */
static bool uring_kernel_has_work(const struct uring_priv *p)
{
	unsigned flags = __atomic_load_n(p->ring.sq.kflags, __ATOMIC_ACQUIRE);

	return flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

static int uring_get_events(struct rawio_engine *e)
{
	struct uring_priv *p = e->priv;

	e->st.reap_calls++;
	return io_uring_get_events(&p->ring);
}

static int uring_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct uring_priv *p = e->priv;
	bool entered = false;
	unsigned got = 0;
	int ret;

	for (;;) {
		unsigned n, wait_nr;

		ret = uring_submit(e);
		if (ret < 0 && ret != -EAGAIN)
			return got ? (int)got : ret; /* what was taken must come back */
		if (!io_uring_cq_ready(&p->ring) && uring_kernel_has_work(p)) {
			uring_get_events(e);
			entered = true;
		}
		n = uring_harvest(e, out + got, max - got);
		if (!entered)
			e->st.user_reaps += n; /* found without a system call */
		got += n;
		if (got >= max)
			break;
		if (got >= min) {
			/* Asked for nothing and found nothing: completions may be waiting
			 * for us to enter (DEFER_TASKRUN, IOPOLL). */
			if (min || got || entered || !p->enter_to_reap || !p->held)
				break;
			uring_get_events(e);
			entered = true;
			continue;
		}
		if (!p->held)
			break; /* nothing left that could complete */
		wait_nr = min - got;
		if (wait_nr > p->held)
			wait_nr = p->held;
		e->st.reap_calls++;
		ret = io_uring_submit_and_wait(&p->ring, wait_nr);
		entered = true;
		if (ret >= 0 || ret == -EINTR || ret == -ETIME)
			continue;
		if (ret != -EAGAIN && ret != -EBUSY)
			return got ? (int)got : ret;
		/* The kernel is short of resources: give it a moment. */
		if (!n)
			nanosleep(&(struct timespec){ 0, 50000 }, NULL);
	}
	return (int)got;
}

static void uring_fini(struct rawio_engine *e)
{
	struct uring_priv *p = e->priv;

	if (p->ring_ok)
		io_uring_queue_exit(&p->ring);
	p->ring_ok = false;
}

static size_t uring_flag_list(char *buf, size_t len, unsigned flags)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	if (!flags)
		return (size_t)snprintf(buf, len, "none");
	for (size_t i = 0; i < URING_NR_NAMES; i++) {
		if (!(flags & uring_setup_names[i].bit))
			continue;
		n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s%s",
				      n ? "|" : "", uring_setup_names[i].name);
	}
	return n;
}

static void uring_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct uring_priv *p = e->priv;
	char setup[160], dropped[160], async[128];

	uring_flag_list(setup, sizeof(setup), p->setup);
	uring_flag_list(dropped, sizeof(dropped), p->dropped);
	if (p->adapt.on)
		snprintf(async, sizeof(async),
			 "measured(now %s, %u switches, %u probes, last kept %llu/s probe %llu/s)",
			 p->force_async ? "yes" : "no", p->adapt.switches, p->adapt.probes,
			 (unsigned long long)p->adapt.run_rate,
			 (unsigned long long)p->adapt.probe_rate);
	else
		snprintf(async, sizeof(async), "%s", p->force_async ? "yes" : "no");
	snprintf(buf, len, "uring qd=%u setup=%s dropped=%s regfiles=%s regbufs=%s async=%s%s",
		 e->qd, setup, dropped, p->reg_files ? "yes" : "no", p->reg_bufs ? "yes" : "no",
		 async, p->iowq_away ? " iowq=away" : "");
}

unsigned rawio_uring_setup_flags(const struct rawio_engine *e)
{
	const struct uring_priv *p;

	if (!e || e->ops != &rawio_engine_uring)
		return 0;
	p = e->priv;
	return p->setup;
}

const struct rawio_engine_ops rawio_engine_uring = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "uring",
	.caps = RAWIO_CAP_FD | RAWIO_CAP_ASYNC | RAWIO_CAP_FUA | RAWIO_CAP_REG_BUFS |
		RAWIO_CAP_BATCH_REAP,
	.priv_size = sizeof(struct uring_priv),
	.init = uring_init,
	.queue = uring_queue,
	.commit = uring_commit,
	.reap = uring_reap,
	.fini = uring_fini,
	.describe = uring_describe,
};
