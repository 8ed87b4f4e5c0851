// SPDX-License-Identifier: MIT
/*
 * Waiting for completions: block, spin or hybrid, for every engine.
 *
 * The core calls engine_waiter_reap() where it would call the engine's reap to
 * wait. Block hands the wait to the engine (io_uring_enter, io_getevents, a
 * condition variable, the mem engine's timer). Spin and hybrid never let the
 * engine block: they call its reap with min = 0, which for uring peeks the CQ
 * ring (entering the kernel only when the ring says task work waits there,
 * as under DEFER_TASKRUN), for aio reads the mapped completion ring, for mem
 * checks the due times. Hybrid first sleeps the predicted time, once per
 * request, as blk_mq_poll_hybrid_sleep() did: the request is the most
 * recently queued one (at queue depth 1, the one being waited for).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "wait.h"
#include "util/sleep.h"

static inline void wait_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

int engine_waiter_init(struct engine_waiter *w, const struct rawio_engine_opts *o)
{
	struct rawio_poll_cfg linux_cfg;
	const struct rawio_poll_cfg *cfg = o->poll;
	int ret;

	w->mode = o->wait_mode;
	w->flags = o->wait_flags;
	if (w->mode >= RAWIO_WAIT_NR ||
	    (w->flags & ~(RAWIO_WAIT_F_ACCOUNT | RAWIO_WAIT_F_KEEP_SLACK)))
		return -EINVAL;
	w->sleeper.keep_slack = w->flags & RAWIO_WAIT_F_KEEP_SLACK;
	if (w->mode != RAWIO_WAIT_HYBRID)
		return cfg ? rawio_poll_cfg_check(cfg) : 0;
	if (!cfg) {
		ret = rawio_poll_cfg_parse("linux", &linux_cfg);
		if (ret)
			return ret;
		cfg = &linux_cfg;
	}
	return rawio_poll_pred_new(&w->pred, cfg);
}

void engine_waiter_fini(struct engine_waiter *w)
{
	rawio_poll_pred_free(w->pred);
	w->pred = NULL;
}

static bool wait_req_is_rw(const struct rawio_req *r)
{
	return r->op == RAWIO_OP_READ || r->op == RAWIO_OP_WRITE;
}

void engine_waiter_queued(struct engine_waiter *w, const struct rawio_req *r)
{
	if (!w->pred)
		return;
	w->seq++;
	if (r == w->slept_req)
		w->slept_req = NULL; /* reused before we saw it complete (a failed resubmission) */
	w->last_req = r;
	w->last_dir = wait_req_is_rw(r) ? (r->op == RAWIO_OP_WRITE) : 2;
	w->last_len = r->len;
}

void engine_waiter_completed(struct engine_waiter *w, const struct rawio_req *r)
{
	uint64_t slept = 0;

	if (!w->pred || !wait_req_is_rw(r) || r->complete_ns < r->submit_ns)
		return;
	if (r == w->slept_req) {
		slept = w->slept_ns;
		w->slept_req = NULL;
	}
	rawio_poll_observe(w->pred, r->op == RAWIO_OP_WRITE, r->len, r->complete_ns - r->submit_ns,
			   slept, r->complete_ns);
}

/* Block, accounted: the engine waits, timed so the modes compare. */
static int wait_block(struct engine_waiter *w, struct rawio_engine *e, struct rawio_req **out,
		      unsigned want, unsigned max)
{
	uint64_t t0 = rawio_now_ns(), cpu0 = thread_cpu_ns();
	int n;

	n = e->ops->reap(e, out, want, max);
	e->st.wait_cpu_ns += thread_cpu_ns() - cpu0;
	e->st.waits++;
	e->st.wait_ns += rawio_now_ns() - t0;
	return n;
}

int engine_waiter_reap(struct engine_waiter *w, struct rawio_engine *e, struct rawio_req **out,
		       unsigned want, unsigned max)
{
	uint64_t t0, t_spin, cpu0 = 0, now;
	bool slept = false, first = true;
	int n;

	if (w->mode == RAWIO_WAIT_BLOCK)
		return w->flags & RAWIO_WAIT_F_ACCOUNT ? wait_block(w, e, out, want, max)
						       : e->ops->reap(e, out, want, max);
	n = e->ops->reap(e, out, 0, max);
	if (n)
		return n; /* something was there already, or the engine failed */

	t0 = rawio_now_ns();
	if (w->flags & RAWIO_WAIT_F_ACCOUNT)
		cpu0 = thread_cpu_ns();
	e->st.waits++;
	t_spin = t0;
	if (w->pred && w->slept_seq != w->seq) {
		/* Once per request, the most recently queued (the kernel's RQF_MQ_POLL_SLEPT). */
		uint64_t s = 0;

		if (w->last_dir < 2)
			s = rawio_poll_predict(w->pred, w->last_dir, w->last_len, t0);
		w->slept_seq = w->seq;
		if (s) {
			sleeper_sleep_ns(&w->sleeper, s);
			t_spin = rawio_now_ns();
			e->st.sleeps++;
			e->st.sleep_ns += s;
			w->slept_req = w->last_req;
			w->slept_ns = s;
			slept = true;
		}
	}
	for (;;) {
		n = e->ops->reap(e, out, 0, max);
		if (n)
			break;
		first = false;
		wait_cpu_relax();
	}
	/* Found by the first look after waking: it was there before we woke. */
	if (slept && first && n > 0)
		e->st.oversleeps++;
	now = rawio_now_ns();
	e->st.wait_ns += now - t0;
	e->st.spin_ns += now - t_spin;
	if (w->flags & RAWIO_WAIT_F_ACCOUNT)
		e->st.wait_cpu_ns += thread_cpu_ns() - cpu0;
	return n;
}

static const char *const wait_mode_names[RAWIO_WAIT_NR] = { "block", "spin", "hybrid" };

int rawio_wait_mode_parse(const char *s, unsigned *mode)
{
	for (unsigned i = 0; s && i < RAWIO_WAIT_NR; i++) {
		if (!strcmp(s, wait_mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rawio_wait_mode_name(unsigned mode)
{
	return mode < RAWIO_WAIT_NR ? wait_mode_names[mode] : "?";
}
