/* SPDX-License-Identifier: MIT */
/*
 * predict: the hybrid-polling sleep predictor, a leaf used by the engine's
 * waiter (rawio_engine_opts.poll with RAWIO_WAIT_HYBRID, rawio/engine.h) and
 * by the simulator (rawio/pollsim.h).
 *
 * The sleep of hybrid comes from a predictor: statistics of recent completion
 * latencies, kept per (direction, size bucket) as the kernel's blk-mq kept
 * them, reduced by a rule (mean, min, a percentile, an EWMA, a running
 * minimum, or a fixed time), scaled by a ratio, and refreshed once per period.
 * The same predictor runs inside the engine (src/engine/wait.c) and inside the
 * simulator (src/pollsim/sim.c), so a configuration the simulator recommends
 * is exactly the one that runs.
 *
 * Everything here returns 0 or -errno, never prints, and keeps no global
 * state. A predictor is used from one thread at a time; configurations are
 * plain values.
 */
#ifndef RAWIO_PREDICT_H
#define RAWIO_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rawio_poll_rule {
	RAWIO_POLL_MEAN = 0, /* mean of the last window (Linux hybrid polling, 4.10 on) */
	RAWIO_POLL_MIN,	     /* minimum of the last window */
	RAWIO_POLL_PCT,	     /* the cfg.pct-th percentile of the last window */
	RAWIO_POLL_EWMA,     /* a per-sample EWMA, published once per window */
	RAWIO_POLL_RUNMIN,   /* io_uring HYBRID_IOPOLL (6.13): running minimum, never reset */
	RAWIO_POLL_FIXED,    /* always cfg.fixed_ns (Linux io_poll_delay > 0) */
	RAWIO_POLL_RULE_NR,
};

/* The longest latency the predictor counts (an hour): longer ones count as this. */
#define RAWIO_POLL_MAX_LAT_NS (3600ull * 1000000000ull)

/* Statistics buckets: dir + 2 * ilog2(sectors), 512 B .. >= 64 KiB (blk-mq's 16). */
#define RAWIO_POLL_BUCKETS 16

struct rawio_poll_cfg {
	enum rawio_poll_rule rule;
	unsigned pct;	     /* RAWIO_POLL_PCT: the percentile, 1..99 */
	unsigned ratio;	     /* sleep = estimate * ratio / 100; percent, 0..1000 */
	uint64_t period_ns;  /* statistics window, at most 60 s; 0: every completion closes one */
	uint64_t fixed_ns;   /* RAWIO_POLL_FIXED: the sleep */
	unsigned ewma_shift; /* RAWIO_POLL_EWMA: a new sample weighs 1/2^shift, 1..16; 0 means 3 */
	bool one_bucket; /* one estimate for every direction and size (io_uring: one per ring) */
};

/*
 * rawio_poll_cfg_parse - a configuration from its name.
 *
 * Named baselines, modelled on the kernels they come from:
 *   linux         mean, ratio 50, period 100 ms, per bucket: sleep (mean + 1) / 2
 *                 of the last completed window, 0 until the first (block/blk-mq.c
 *                 and blk-stat.c as in v4.12 .. v6.3, io_poll_delay = 0)
 *   uring-hybrid  runmin, ratio 50, one bucket: sleep estimate / 2; after each
 *                 poll estimate = min(estimate, latency - sleep) (io_uring
 *                 IORING_SETUP_HYBRID_IOPOLL, commit 01ee194d1aba, 6.13)
 *   min-window    min, ratio 100, period 10 ms, per bucket (an EHP-style window
 *                 minimum)
 * Free rules: RULE[:RATIO[:PERIOD]] with RULE one of mean, min, pNN (1..99),
 * ewma, runmin; RATIO in percent (default 50); PERIOD a time ("10ms", "500us",
 * "1s", "0"; default 100ms). "fixed:TIME" sleeps TIME every time.
 * Examples: "min:70:10ms", "p10:90:1ms", "ewma:80:10ms", "fixed:20us".
 *
 * Returns 0 or -EINVAL (OUT is then unspecified). Never reads past the NUL.
 */
int rawio_poll_cfg_parse(const char *spec, struct rawio_poll_cfg *out);

/* 0 if CFG is a configuration the predictor accepts, else -EINVAL. */
int rawio_poll_cfg_check(const struct rawio_poll_cfg *cfg);

/*
 * rawio_poll_cfg_name - CFG's name: the baseline it equals ("linux"), or
 * "RULE:RATIO:PERIOD". Writes at most LEN bytes (always terminated when LEN
 * > 0); returns BUF.
 */
const char *rawio_poll_cfg_name(const struct rawio_poll_cfg *cfg, char *buf, size_t len);

/*
 * rawio_poll_bucket - the statistics bucket of an I/O: DIR (0 read, 1 write)
 * + 2 * ilog2(BYTES / 512), the last pair for 64 KiB and up; -1 for I/Os
 * under 512 bytes or another direction (never slept for, never counted).
 */
int rawio_poll_bucket(unsigned dir, uint64_t bytes);

struct rawio_poll_pred;

/* Create a predictor. Errors: -EINVAL bad CFG, -ENOMEM. */
int rawio_poll_pred_new(struct rawio_poll_pred **out, const struct rawio_poll_cfg *cfg);
void rawio_poll_pred_free(struct rawio_poll_pred *p); /* NULL is a no-op */

/*
 * rawio_poll_predict - how long to sleep (ns) before spinning for an I/O of
 * DIR and BYTES, at NOW_NS (CLOCK_MONOTONIC, or the simulator's clock; it must
 * not go backwards). 0 means do not sleep. Closes a window whose period is
 * over, as the kernel's timer would have.
 */
uint64_t rawio_poll_predict(struct rawio_poll_pred *p, unsigned dir, uint64_t bytes,
			    uint64_t now_ns);

/*
 * rawio_poll_observe - feed one completion: LAT_NS from submission to when the
 * completion was seen (an oversleep shows in it, as in the kernel), of which
 * SLEPT_NS was the sleep asked for this I/O (RUNMIN subtracts it), seen at
 * NOW_NS. The first completion after a window closed opens the next one (the
 * kernel's one-shot timer, re-armed by a completion: idle time freezes the
 * statistics). A bucket without samples in a window keeps its estimate.
 */
void rawio_poll_observe(struct rawio_poll_pred *p, unsigned dir, uint64_t bytes, uint64_t lat_ns,
			uint64_t slept_ns, uint64_t now_ns);

/* The estimate in force for DIR and BYTES, before the ratio; UINT64_MAX when none yet. */
uint64_t rawio_poll_estimate(const struct rawio_poll_pred *p, unsigned dir, uint64_t bytes);

#endif
