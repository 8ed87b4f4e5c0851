/* SPDX-License-Identifier: MIT */
/* bench internals: the run, its jobs, offsets and the latency log. */
#ifndef RAWIO_BENCH_IMPL_H
#define RAWIO_BENCH_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include <rawio/rawio.h>
#include <rawio/bench.h>

#include "util/errbuf.h"
#include "util/hist.h"
#include "util/rng.h"

/* Offsets: block numbers of a region, sequential or a keyed permutation per pass. */
struct bench_offsets {
	uint64_t nblocks;
	uint64_t next; /* position within the pass */
	uint64_t pass;
	uint64_t seed;
	bool random;
	/* The pass's permutation of [0, 2^bits): x -> mixed, walked until < nblocks. */
	uint64_t mask;
	unsigned shift;
	uint64_t mul1, mul2, add;
};

void bench_offsets_init(struct bench_offsets *o, uint64_t nblocks, bool random, uint64_t seed);
uint64_t bench_offsets_next(struct bench_offsets *o);

uint64_t bench_mix64(uint64_t x);

/*
 * Write data: random (xorshift64*), so incompressible and equally cheap to
 * reject for any compressor (zram compresses what it stores). fio 3.33's
 * buffers are not quite that (docs/perf.md): its compressor costs differ.
 */
void bench_fill_buf(void *buf, size_t len, uint64_t seed);

/* Latency log records, kept in memory during the run and written after it. */
struct bench_lat_rec {
	uint64_t t_ns; /* completion, since the window opened */
	uint64_t lat_ns;
	uint64_t off;
	uint32_t len;
	uint32_t dir;
};

#define BENCH_LATLOG_CHUNK 65536u

struct bench_lat_chunk {
	struct bench_lat_chunk *next;
	unsigned nr;
	struct bench_lat_rec recs[BENCH_LATLOG_CHUNK];
};

struct bench_latlog {
	struct bench_lat_chunk *head, *tail;
	uint64_t nr;
};

int bench_latlog_add(struct bench_latlog *l, const struct bench_lat_rec *rec);
void bench_latlog_free(struct bench_latlog *l);
/* Merge the jobs' logs by time into F. Returns lines written or -errno. */
int64_t bench_latlog_write(FILE *f, struct bench_latlog *logs, unsigned nr);

/* One I/O slot of a job. */
struct bench_io {
	struct rawio_req req;
	uint64_t issue_ns; /* commit returned */
	unsigned dir;
};

enum { BENCH_SLAT, BENCH_CLAT, BENCH_LAT, BENCH_NR_LAT };

struct bench;

struct bench_job {
	struct bench *b;
	unsigned id;
	pthread_t thread;
	bool thread_ok;

	struct rawio_engine *e;
	bool mem; /* the engine completes in queue (RAWIO_CAP_MEM) */
	unsigned qd;
	struct bench_io *slots;
	struct bench_io **free_ios;
	unsigned nr_free;
	struct bench_io **pending; /* queued, not yet committed */
	unsigned nr_pending;
	struct rawio_req **done;
	char *bufs;
	size_t stride; /* bytes between slot buffers: bs rounded up to a page */

	struct bench_offsets offs;
	uint64_t rng;
	uint64_t to_issue; /* one-pass runs: I/Os not yet queued */
	uint64_t now;	   /* latest time seen */
	bool measuring, measured, stopping;
	uint64_t last_complete_ns;
	uint64_t completed;	     /* every completion, ramp included */
	uint64_t reaps, reaped;	     /* rawio_engine_reap calls in the window, what they returned */
	uint64_t commits, committed; /* commits in the window, requests they carried */

	struct rawio_hist hist[BENCH_NR_LAT][RAWIO_BENCH_DIR_NR];
	struct rawio_hist *phase; /* opts.phases: RAWIO_BENCH_PHASE_NR of them (freed by the run) */
	uint64_t ios[RAWIO_BENCH_DIR_NR], bytes[RAWIO_BENCH_DIR_NR]; /* inside the window */
	struct rusage ru0, ru1;
	struct rawio_engine_stat st0, st1;
	struct bench_latlog latlog;
	char engine_desc[256];

	uint64_t progress_ios; /* read by the controlling thread (relaxed atomics) */
	int done_flag;	       /* likewise */
	int err;
	char errmsg[256];
};

struct bench {
	struct rawio_bench_opts o; /* with defaults filled in */
	struct rawio_engine_opts eopts;
	const char *engine;
	struct rawio_engine_choice choice; /* engine "auto": what it picked and why */
	bool uring_punts; /* the engine is uring and hands this device's requests to io-wq */
	struct rawio_dev *dev;
	const struct rawio_dev_info *info;
	uint64_t nblocks;
	bool time_based;
	bool log_lat;

	/* The start line: jobs count themselves ready, then wait for go. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;
	int go;		    /* 0 wait, 1 run, -1 a job failed to start: do not run */
	uint64_t t0;	    /* jobs start */
	uint64_t t_measure; /* window opens */
	uint64_t t_end;	    /* window closes (UINT64_MAX: one pass) */

	struct bench_job *jobs;
	unsigned nr_jobs;
	/* Hardware queue counters of a RAM device, from the first job's window opening
	 * (which resets them) to the last job's closing (which reads them). */
	struct rawio_mem_queue_stat *queues;
	unsigned nr_queues;
	unsigned windows_open, windows_closed; /* atomics */
};

void *bench_job_main(void *arg);

/* A latency summary from a histogram (bench.c). */
void bench_lat_summary(struct rawio_bench_lat *l, const struct rawio_hist *h);

/* Class mode (classes.c): check the classes, whether any writes, and run them. */
int bench_classes_check(struct bench *b);
bool bench_classes_write(const struct rawio_bench_opts *o);
int bench_classes_run(struct bench *b, struct rawio_bench_result *res);

#endif
