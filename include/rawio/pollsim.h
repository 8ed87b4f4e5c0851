/* SPDX-License-Identifier: MIT */
/*
 * pollsim: the hybrid-polling simulator and its live replay.
 *
 * How a waiter gets its completions is the engine's (rawio_engine_opts
 * .wait_mode, RAWIO_WAIT_* in rawio/engine.h):
 *
 *   block   sleep in the kernel until the completion arrives (the interrupt
 *           path; every engine's own waiting)
 *   spin    busy-poll the completion queue (classic polling)
 *   hybrid  sleep a predicted time, then spin (the kernel's hybrid polling)
 *
 * The sleep of hybrid comes from the predictor (rawio/predict.h), the same
 * one in the engine and in this simulator, so a configuration the simulator
 * recommends is exactly the one that runs.
 *
 * The simulator replays per-I/O completion times recorded on a real device
 * (rawio bench --lat-log, fio's --write_lat_log, blkparse, a plain list, or
 * MSR-Cambridge CSV) through a cost model of spinning, sleeping and waking,
 * and reports IOPS, CPU busy fraction, KIOPS per core and oversleeps for each
 * configuration. rawio_pollsim_live() runs the same thing for real (by
 * default on the mem engine replaying the trace's latencies), which is how
 * the model is checked (bench/poll.sh).
 *
 * Everything here returns 0 or -errno, never prints, and keeps no global
 * state. A trace and a result are used from one thread at a time.
 */
#ifndef RAWIO_POLLSIM_H
#define RAWIO_POLLSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/engine.h>
#include <rawio/predict.h>

/* ------------------------------------------------------------------------ */
/* Traces                                                                   */
/* ------------------------------------------------------------------------ */

enum rawio_poll_trace_fmt {
	RAWIO_TRACE_AUTO = 0, /* guess from the first line that is not blank or a comment */
	RAWIO_TRACE_LATLOG,   /* rawio bench --lat-log and fio --write_lat_log: "time_ms, lat_ns,
			       * dir, bs[, offset[, prio]]" (use fio's clat log: device time) */
	RAWIO_TRACE_BLKPARSE, /* blkparse's default text output: D and C events paired by
			       * device and sector give D2C */
	RAWIO_TRACE_PLAIN,    /* one latency per line, microseconds (decimals allowed) */
	RAWIO_TRACE_MSR,      /* MSR-Cambridge CSV: Timestamp,Hostname,DiskNumber,Type,Offset,
			       * Size,ResponseTime (times in 100 ns units) */
	RAWIO_TRACE_FMT_NR,
};

/* "auto", "rawio", "fio" (both LATLOG), "blkparse", "plain", "msr". 0 or -EINVAL. */
int rawio_poll_trace_fmt_parse(const char *s, enum rawio_poll_trace_fmt *out);
const char *rawio_poll_trace_fmt_name(enum rawio_poll_trace_fmt fmt);

/* One I/O of a trace. */
struct rawio_poll_io {
	uint64_t lat_ns; /* submission (or dispatch) to completion */
	uint64_t t_ns;	 /* completion time in the trace (as recorded; 0 when none) */
	uint32_t bytes;	 /* 4096 when the format has no size */
	uint8_t dir;	 /* 0 read, 1 write */
};

struct rawio_poll_trace {
	struct rawio_poll_io *ios;
	size_t nr;
	size_t cap;
	enum rawio_poll_trace_fmt fmt; /* what was parsed (AUTO resolved) */
	uint64_t skipped;	       /* records that were well formed but not reads or writes
					* (trims, flushes, blkparse's other events) */
};

/* Limits of what a trace may hold (larger is refused, not truncated). */
#define RAWIO_TRACE_MAX_IOS   (64ull << 20)
#define RAWIO_TRACE_MAX_LAT   RAWIO_POLL_MAX_LAT_NS /* an hour */
#define RAWIO_TRACE_MAX_BYTES (1u << 30)

/*
 * rawio_poll_trace_parse - append the I/Os in DATA[0..LEN) (need not be
 * NUL-terminated) to T, which starts zeroed or from an earlier parse. NAME
 * names the input in errors ("FILE:LINE: what is wrong"), written to ERRBUF.
 *
 * Errors: -EINVAL malformed input (a number out of range, a missing field, a
 * line that is not of the format, blkparse's C without D is not an error but
 * is skipped), -E2BIG more than RAWIO_TRACE_MAX_IOS, -ENODATA no I/O at all,
 * -ENOMEM. On an error T holds what the lines before the bad one gave:
 * rawio_poll_trace_free() it either way.
 */
int rawio_poll_trace_parse(struct rawio_poll_trace *t, const char *data, size_t len,
			   enum rawio_poll_trace_fmt fmt, const char *name, char *errbuf,
			   size_t errlen);

/* rawio_poll_trace_load - read PATH and parse it. Also the file's open/read errors. */
int rawio_poll_trace_load(struct rawio_poll_trace *t, const char *path,
			  enum rawio_poll_trace_fmt fmt, char *errbuf, size_t errlen);

void rawio_poll_trace_free(struct rawio_poll_trace *t);

/* What a trace holds, as rawio pollsim prints it before a simulation. */
struct rawio_poll_trace_stat {
	uint64_t reads, writes;
	double lat_mean_ns;
	uint64_t lat_min_ns, lat_max_ns;
	uint64_t lat_p50_ns; /* the (nr / 2)-th smallest latency, counting from 0 */
	uint64_t lat_p99_ns; /* the (nr * 99 / 100)-th smallest */
};

/* rawio_poll_trace_stat - count and rank T's I/Os. Errors: -EINVAL empty, -ENOMEM. */
int rawio_poll_trace_stat(const struct rawio_poll_trace *t, struct rawio_poll_trace_stat *out);

/* ------------------------------------------------------------------------ */
/* The simulator                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The cost model. Each thread replays the trace (thread i from I/O i * nr /
 * threads, wrapping) at queue depth 1 with its own predictor, as each engine
 * context has its own. Per I/O of latency T, issued at t:
 *
 *   spin    busy T; seen at t + T + poll
 *   block   busy cs + irq; seen at t + T + wake(T)
 *   hybrid  S = predict(t). S = 0: as spin. Else the thread sleeps (busy cs +
 *           irq) and runs again at t + S + wake(S): if that is before t + T it
 *           spins (busy T - S - wake) and sees the completion at t + T +
 *           poll, else it has overslept by S + wake - T and sees it at
 *           t + S + wake.
 *
 * On a shared machine a spinning thread is preempted now and then: poll is
 * how late, on average, it sees a completion (the poll loop's period and the
 * preemptions), and the preempted share of its spinning is not busy time
 * (preempt_ppm: busy = spin x (1 - preempt_ppm / 10^6)). Both 0 on an idle
 * machine; rawio_pollsim_calibrate measures them.
 *
 * and then io_ns of work (submission, completion handling, the caller's)
 * before the next I/O is issued. wake(S), the delay from a timer's (or the
 * device's) expiry to the thread running again after sleeping S, is wake_ns,
 * or drawn from a measured table when one is given: on a virtual machine it
 * grows with the sleep (the vCPU halts deeper). Draws come from a seeded
 * generator, so runs repeat. CPU% = busy / (threads x makespan);
 * KIOPS/core = IOPS / (CPU% x threads) / 1000.
 */
#define RAWIO_POLLSIM_WAKE_Q 32

/*
 * Measured after sleeps of sleep_ns: the CPU one such sleep costs (0: cs_ns +
 * irq_ns) and the wake-up delays, as equally likely values (quantiles).
 */
struct rawio_pollsim_wake {
	uint64_t sleep_ns;
	uint64_t cpu_ns;
	uint64_t q[RAWIO_POLLSIM_WAKE_Q]; /* ascending */
};

struct rawio_pollsim_params {
	size_t size;	  /* sizeof(struct rawio_pollsim_params) */
	uint64_t io_ns;	  /* CPU per I/O outside the wait; default 1000 */
	uint64_t cs_ns;	  /* CPU of the context switches of one sleep; default 1500 */
	uint64_t irq_ns;  /* CPU of the interrupt handler that ends it; default 1100 */
	uint64_t wake_ns; /* wake-up delay when there is no table; default 5000 */
	const struct rawio_pollsim_wake *wake; /* optional, ascending sleep_ns: a draw at the
						* same quantile from the two rows around S,
						* interpolated (clamped at the ends), and
						* their CPU likewise (then + irq_ns) */
	size_t wake_nr;
	unsigned threads;     /* 0 means 1 */
	uint64_t max_ios;     /* I/Os per thread; 0: the trace's length */
	uint64_t seed;	      /* wake-up draws; 0: a fixed seed */
	uint64_t poll_ns;     /* a spinner sees a completion this late; default 0 */
	uint64_t preempt_ppm; /* share of a spinner's time others take, ppm; default 0 */
	/* Optional: called in the caller's thread with the I/Os simulated since the last call,
	 * every RAWIO_POLLSIM_PROGRESS_IOS of them and at the end of each thread's replay (for
	 * a progress line: a search runs many replays of threads x max_ios I/Os). */
	void (*progress)(void *arg, uint64_t ios);
	void *progress_arg;
};
#define RAWIO_POLLSIM_PROGRESS_IOS (1u << 20)

/* Defaults as above (the interrupt costs; wake_ns a typical bare-metal value). */
void rawio_pollsim_params_default(struct rawio_pollsim_params *p);

struct rawio_pollsim_result {
	unsigned mode;		   /* RAWIO_WAIT_* */
	struct rawio_poll_cfg cfg; /* hybrid */
	uint64_t ios;
	uint64_t makespan_ns;
	uint64_t busy_ns;
	double iops;
	double cpu; /* busy fraction, 0..1 */
	double kiops_core;
	uint64_t sleeps;
	uint64_t oversleeps;
	double oversleep_rate;	  /* oversleeps / ios */
	double oversleep_mean_ns; /* mean of S + wake - T over the oversleeps */
	double sleep_mean_ns;	  /* mean S over the sleeps */
	double lat_mean_ns;	  /* as seen by the thread */
	uint64_t lat_p50_ns, lat_p99_ns;
};

/*
 * rawio_pollsim_run - replay T under MODE (RAWIO_WAIT_*) and, for hybrid, CFG.
 * Errors: -EINVAL (empty trace, bad mode, parameters or CFG), -ENOMEM.
 */
int rawio_pollsim_run(const struct rawio_poll_trace *t, unsigned mode,
		      const struct rawio_poll_cfg *cfg, const struct rawio_pollsim_params *par,
		      struct rawio_pollsim_result *res);

enum rawio_pollsim_objective {
	RAWIO_POLLSIM_KIOPS_CORE = 0, /* most KIOPS/core with IOPS within tol of spin's */
	RAWIO_POLLSIM_CPU,	      /* least CPU with IOPS within tol of spin's */
	RAWIO_POLLSIM_IOPS,	      /* most IOPS */
	RAWIO_POLLSIM_LAT,	      /* least mean latency */
	RAWIO_POLLSIM_OBJ_NR,
};

/* "kiops-core", "cpu", "iops", "lat". 0 or -EINVAL. */
int rawio_pollsim_objective_parse(const char *s, enum rawio_pollsim_objective *out);
const char *rawio_pollsim_objective_name(enum rawio_pollsim_objective obj);

/*
 * rawio_pollsim_best - index of the best of RES[0..NR) for OBJ, counting only
 * those with IOPS >= (1 - TOL) x SPIN_IOPS for the constrained objectives;
 * -1 when none qualifies.
 */
long rawio_pollsim_best(const struct rawio_pollsim_result *res, size_t nr,
			enum rawio_pollsim_objective obj, double tol, double spin_iops);

/*
 * A grid search: every rule in RULES (rule, pct and ewma_shift are used) x
 * every period x ratios lo..hi step. RAWIO_POLL_RUNMIN ignores the period
 * (searched once per ratio), RAWIO_POLL_FIXED is not searched.
 */
struct rawio_pollsim_grid {
	const struct rawio_poll_cfg *rules;
	size_t nr_rules;
	unsigned ratio_lo, ratio_hi, ratio_step;
	const uint64_t *periods_ns;
	size_t nr_periods;
};

/*
 * rawio_pollsim_search - run the grid; *OUT (free()) holds *NR results in
 * rule, period, ratio order. Errors: -EINVAL empty or bad grid, and those of
 * rawio_pollsim_run.
 */
/* The number of replays rawio_pollsim_search runs for G (0: an empty or bad grid). */
size_t rawio_pollsim_grid_size(const struct rawio_pollsim_grid *g);

int rawio_pollsim_search(const struct rawio_poll_trace *t, const struct rawio_pollsim_grid *g,
			 const struct rawio_pollsim_params *par, struct rawio_pollsim_result **out,
			 size_t *nr);

/*
 * The baselines a simulation is compared with, in this order: spin, block, and
 * hybrid under the kernels' own predictors "linux", "uring-hybrid" and
 * "min-window" (rawio_poll_cfg_parse). The first, spin, is the one whose IOPS
 * the constrained objectives of rawio_pollsim_best keep within tol of.
 */
#define RAWIO_POLLSIM_BASELINES 5

/*
 * rawio_pollsim_baselines - replay T under each baseline (with PAR) into
 * OUT[0..RAWIO_POLLSIM_BASELINES). Errors: those of rawio_pollsim_run (OUT is
 * then filled up to the one that failed).
 */
int rawio_pollsim_baselines(const struct rawio_poll_trace *t,
			    const struct rawio_pollsim_params *par,
			    struct rawio_pollsim_result out[RAWIO_POLLSIM_BASELINES]);

/*
 * Model parameters as text, one per line ('#' starts a comment):
 *   io_ns N | cs_ns N | irq_ns N | wake_ns N | poll_ns N  (nanoseconds)
 *   preempt_ppm N                                         (parts per million)
 *   wake SLEEP_NS CPU_NS Q0 Q1 .. Q31  (a wake-up table row; rows by ascending sleep)
 * rawio_pollsim_params_format writes every field of PAR (its wake rows too)
 * into BUF (LEN bytes, terminated when LEN > 0) and returns the length it
 * needs, not counting the NUL, or -EINVAL.
 */
int rawio_pollsim_params_format(const struct rawio_pollsim_params *par, char *buf, size_t len);

/*
 * rawio_pollsim_params_parse - read such text from DATA[0..LEN) (need not be
 * NUL-terminated) into PAR, whose other fields it leaves alone; wake rows go
 * to WAKE (room for NR_WAKE) and PAR->wake points there. Errors: -EINVAL
 * malformed (ERRBUF says "NAME:LINE: what"), -E2BIG more rows than NR_WAKE.
 */
int rawio_pollsim_params_parse(struct rawio_pollsim_params *par, struct rawio_pollsim_wake *wake,
			       size_t nr_wake, const char *data, size_t len, const char *name,
			       char *errbuf, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Live runs: the same waits, measured                                      */
/* ------------------------------------------------------------------------ */

struct rawio_pollsim_live_opts {
	size_t size;			   /* sizeof(struct rawio_pollsim_live_opts) */
	const char *engine;		   /* NULL: "mem" */
	const char *path;		   /* file or device for the other engines; NULL for mem */
	unsigned wait_mode;		   /* RAWIO_WAIT_* */
	unsigned wait_flags;		   /* RAWIO_WAIT_F_* */
	const struct rawio_poll_cfg *poll; /* hybrid; NULL: linux */
	const struct rawio_poll_trace *trace; /* mem: replay its latencies, directions and
					       * sizes, in order */
	uint64_t mem_lat_ns;		      /* mem without a trace: every I/O takes this long */
	uint32_t bs;			      /* without a trace: bytes per read; 0 means 4096 */
	uint64_t ios;	      /* I/Os to run; 0: the trace's length (10000 without one) */
	unsigned uring_flags; /* RAWIO_URING_*; uring default: SINGLE_ISSUER | DEFER_TASKRUN */
	char *errbuf;	      /* optional: one line on why it failed */
	size_t errbuf_len;
};

struct rawio_pollsim_live_result {
	char engine_desc[256];
	uint64_t ios;
	uint64_t elapsed_ns;
	double iops;
	uint64_t cpu_ns; /* user + system time of the thread (getrusage) */
	double cpu;	 /* cpu_ns / elapsed_ns */
	double kiops_core;
	double lat_mean_ns;
	uint64_t lat_p50_ns, lat_p99_ns;
	double oversleep_rate;	     /* st.oversleeps / ios */
	struct rawio_engine_stat st; /* the engine's counters over the run (wait_* included) */
};

/*
 * rawio_pollsim_live - run O->ios reads (or the trace's I/Os) at queue depth
 * 1 on one engine context in the calling thread, waiting as O says. On the
 * mem engine the device moves no data and completes each I/O after the
 * trace's latency (or mem_lat_ns). Errors: -EINVAL bad options, and those of
 * opening the device and engine and of the I/O.
 */
int rawio_pollsim_live(const struct rawio_pollsim_live_opts *o,
		       struct rawio_pollsim_live_result *res);

/*
 * rawio_pollsim_live_median - the median of NR live runs of one configuration
 * (rawio pollsim --repeat): *OUT becomes the run whose IOPS is the median (the
 * (NR / 2)-th smallest counting from 0, the upper middle for an even NR; of
 * equal ones the first), except that OUT->cpu is the median of the runs' cpu
 * taken on its own (it need not be that run's) and OUT->kiops_core is
 * OUT->iops / 1000 / OUT->cpu. RUNS is left as it is. Quadratic in NR: meant
 * for a few runs. Errors: -EINVAL when NR is 0.
 */
int rawio_pollsim_live_median(const struct rawio_pollsim_live_result *runs, size_t nr,
			      struct rawio_pollsim_live_result *out);

/*
 * rawio_pollsim_calibrate - measure this machine's model parameters with live
 * runs on the mem engine: io_ns, poll_ns and preempt_ppm from spin runs (the
 * median of three); then for each of the NR sleep lengths in WAKE[i].sleep_ns
 * (a ladder of 1 us to 500 us when they are all 0), a hybrid run sleeping
 * exactly that long on a device twice as fast gives the wake-up delays
 * (WAKE[i].q: latency - sleep) and the CPU of one sleep as the thread's
 * clock sees it (WAKE[i].cpu_ns; their mean goes to cs_ns; irq_ns is set to
 * 0: the timer interrupt that ends a sleep runs on the idle CPU's account,
 * which getrusage does not see). PAR's wake and wake_nr are pointed at WAKE.
 * IOS per step; 0 means 2000. Takes a few seconds. Errors: -EINVAL (NR 0 or
 * more than 16), and those of rawio_pollsim_live.
 */
int rawio_pollsim_calibrate(struct rawio_pollsim_params *par, struct rawio_pollsim_wake *wake,
			    size_t nr, uint64_t ios, char *errbuf, size_t errlen);

#endif
