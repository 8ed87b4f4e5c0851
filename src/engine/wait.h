/* SPDX-License-Identifier: MIT */
/*
 * The waiter: how the engine core waits in rawio_engine_reap() (block, spin,
 * hybrid), private to the engine.
 */
#ifndef RAWIO_ENGINE_WAIT_H
#define RAWIO_ENGINE_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include <rawio/engine.h>
#include <rawio/predict.h>

#include "util/sleep.h"

struct rawio_engine;

/*
 * One engine context's waiting state (inside the core's context). The core
 * calls init at open, queued for every request the engine took, reap instead
 * of ops->reap when it needs completions, completed for each finished
 * request, fini at close.
 */
struct engine_waiter {
	unsigned mode;		      /* RAWIO_WAIT_* */
	unsigned flags;		      /* RAWIO_WAIT_F_* */
	struct rawio_poll_pred *pred; /* hybrid */
	struct sleeper sleeper;
	/* The most recently queued request, and whether we slept for it. */
	uint64_t seq, slept_seq;
	const struct rawio_req *last_req;
	unsigned last_dir;
	uint64_t last_len;
	const struct rawio_req *slept_req;
	uint64_t slept_ns;
};

int engine_waiter_init(struct engine_waiter *w, const struct rawio_engine_opts *o);
void engine_waiter_fini(struct engine_waiter *w);
void engine_waiter_queued(struct engine_waiter *w, const struct rawio_req *r);
void engine_waiter_completed(struct engine_waiter *w, const struct rawio_req *r);

/*
 * Wait for at least one of WANT (> 0) completions as the mode says, through
 * E's ops->reap; store up to MAX in OUT. Returns the count or -errno.
 */
int engine_waiter_reap(struct engine_waiter *w, struct rawio_engine *e, struct rawio_req **out,
		       unsigned want, unsigned max);

#endif
