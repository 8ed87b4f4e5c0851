/* SPDX-License-Identifier: MIT */
/*
 * bench: a fio-style benchmark over any rawio engine.
 *
 * rawio_bench_run() opens the target, starts JOBS threads (one engine context
 * each, opened on its own thread), runs the pattern for the ramp time and then
 * the measured time, and fills a result: IOPS, bandwidth, submission,
 * completion and total latency (fio's log-linear histogram, nanoseconds), CPU
 * time per I/O (getrusage RUSAGE_THREAD of each job thread), context switches,
 * and I/Os per system call (from the engine's counters). The `rawio bench`
 * command is a thin front end over this call; docs/bench.md describes its
 * output and the latency log.
 *
 * The job loop follows fio's (backend.c do_io) with fio's defaults as ours:
 * keep up to QD requests in flight; commit as soon as SUBMIT_BATCH requests
 * are queued (1: every request goes to the device the moment it is ready, as
 * fio's iodepth_batch_submit=1); when the queue is full, or nothing more can
 * be queued, reap at least COMPLETE_MIN (1, or QD/8 on an engine whose
 * completions come in batches: RAWIO_CAP_BATCH_REAP, unless it is io_uring on
 * a device whose requests it hands to io-wq) and take everything
 * available up to COMPLETE_MAX (QD) (fio's iodepth_batch_complete_min/max). rawio's reap
 * reads completion rings without a system call and enters the kernel only to
 * wait, so at depth most I/Os cost one system call (their submission) or less.
 *
 * Offsets: sequential patterns walk the region from its start, wrapping; the
 * random ones visit every block of the region exactly once per pass in a
 * seeded pseudo-random order (a keyed permutation, like fio's random map: no
 * block is hit twice before every block was hit once), each pass in a new
 * order. Every job walks the whole region on its own (fio's numjobs).
 *
 * Measurement: only completions seen inside [ramp end, ramp end + runtime)
 * count; I/Os still in flight at the end are drained and not counted. Time
 * based runs loop over the region; with runtime 0 each job makes one pass over
 * the region and the window is the time that took.
 *
 * Thread-safety: rawio_bench_run may be called from several threads at once
 * (it keeps no global state). The progress callback runs on the calling
 * thread.
 */
#ifndef RAWIO_BENCH_H
#define RAWIO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/cache.h>
#include <rawio/dev.h>
#include <rawio/engine.h>
#include <rawio/sched.h>

enum rawio_bench_rw {
	RAWIO_BENCH_READ = 0, /* sequential reads */
	RAWIO_BENCH_WRITE,    /* sequential writes */
	RAWIO_BENCH_RANDREAD,
	RAWIO_BENCH_RANDWRITE,
	RAWIO_BENCH_RANDRW, /* random, each I/O a read with probability rwmix_read % */
	RAWIO_BENCH_RW_NR,
};

/* Directions in results and the latency log (fio's ddir numbers). */
enum rawio_bench_dir {
	RAWIO_BENCH_DIR_READ = 0,
	RAWIO_BENCH_DIR_WRITE = 1,
	RAWIO_BENCH_DIR_NR,
};

struct rawio_bench_progress {
	unsigned jobs_running;
	bool ramping;	     /* still in the ramp time */
	uint64_t elapsed_ns; /* since the jobs started (ramp included) */
	uint64_t total_ns;   /* ramp + runtime; 0 for a one-pass run */
	uint64_t ios;	     /* completed so far (ramp included) */
	uint64_t ios_total;  /* one-pass run: I/Os it will do; 0 when time based */
	double iops;	     /* over the last interval */
};

typedef void (*rawio_bench_progress_fn)(void *arg, const struct rawio_bench_progress *p);

struct rawio_bench_opts {
	size_t size;	    /* sizeof(struct rawio_bench_opts) */
	const char *engine; /* NULL: "auto" (rawio_engine_choose: the engine that does not
			     * block or punt on the target) */
	const char *path;   /* file, block device or "mem:SIZE"; NULL: mem engine only, a
				 * RAM device of offset + region bytes */
	enum rawio_bench_rw rw;
	unsigned rwmix_read; /* randrw: percent of reads, 0..100; 0 means 50 */
	uint32_t bs;	     /* bytes per I/O; 0 means 4096 */
	unsigned qd;	     /* requests in flight per job; 0 means 32 (sync: always 1) */
	unsigned jobs;	     /* threads, one engine context each; 0 means 1 */
	uint64_t offset;     /* start of the region, bytes */
	uint64_t region;     /* bytes of the target to use from offset; 0: to its end */
	uint64_t runtime_ns; /* measured time; 0: one pass over the region per job */
	uint64_t ramp_ns;    /* unmeasured warm-up before it (time based runs only) */

	/* Submit and reap policy (fio's iodepth_batch_*), 0 meaning the default. */
	unsigned submit_batch; /* commit once this many are queued; 0 means 1 */
	unsigned complete_min; /* reap waits for this many; 0: the engine's (qd/8 where it
				* has RAWIO_CAP_BATCH_REAP or is stacked, else 1; 1 for
				* uring where io_uring punts every request to io-wq) */
	unsigned complete_max; /* and takes at most this many; 0 means qd */

	unsigned dev_flags; /* RAWIO_DEV_* for opening path (RDONLY is added for
				 * read-only patterns, CREATE creates a missing file) */
	bool fill;	    /* before the run, write the region once with random data
				 * (fio's layout); done only when the file was created or was
				 * shorter than offset + region, unless fill_always */
	bool fill_always;
	bool zero_buffers; /* write zeroes (fio's zero_buffers) instead of random data */
	/* Engine options (uring flags, mem flags, ...); queue_depth is set from qd
	 * and, with RAWIO_URING_REG_BUFS, reg_buf from each job's buffers.
	 * NULL: the engine's defaults, except uring: SINGLE_ISSUER | DEFER_TASKRUN
	 * (as fio 3.33's io_uring engine; each job drives its ring from the thread
	 * that made it) | REG_BUFS (the job's buffers registered once, so no I/O
	 * pins pages). */
	const struct rawio_engine_opts *engine_opts;
	uint64_t seed;	     /* offsets and the read/write mix; 0: a fixed seed, so runs
				 * repeat (fio's randrepeat=1) */
	const char *lat_log; /* write one line per measured I/O here (docs/bench.md) */

	rawio_bench_progress_fn progress; /* called every progress_ms while jobs run */
	void *progress_arg;
	unsigned progress_ms; /* 0 means 1000 */

	char *errbuf; /* optional: one line on why the run failed */
	size_t errbuf_len;
	/* Optional: drive this open device instead of opening path (which is then
	 * only a name); rawio_bench_run does not close it. */
	struct rawio_dev *dev;

	/* Any engine but the stacked ones: record requests' phases (RAWIO_ENGINE_PHASES;
	 * the mem engine samples 1 in 8, the others every request): res.phase. */
	bool phases;
	/* mem engine only. */
	bool queue_per_job; /* job i drives hardware queue i % queues, not its CPU's */
	bool pin;	    /* job i runs on the i-th CPU the process may use (any engine);
			     * the default for uring where it punts to io-wq and the jobs
			     * leave a CPU free (the engine keeps io-wq off the jobs' CPUs) */

	/* Class mode (struct rawio_bench_class above). */
	const struct rawio_bench_class *classes;
	unsigned nr_classes;
	const struct rawio_io_props *io_props; /* the scheduler's disk model; NULL: pass-through */
	uint64_t sched_goal_ns;		       /* its latency goal; 0: the default 0.75 ms */
	bool no_sched;			       /* classes straight to the engine */
	/* Each class in a thread of its own, over an engine context of its own (through a
	 * rawio_sched_ctx of the one scheduler; with no_sched straight to it): on io_uring
	 * each class's punted requests go to an io-wq of their own (io-wq is per task). */
	bool class_threads;
	/* Never pin, not even where the default does (uring on a device without
	 * NOWAIT with a CPU to spare: see pin above and docs/bench.md). */
	bool no_pin;
};

/*
 * Request phases, blktrace's events as btt pairs them: Q submitted (the queue
 * call), G a tag acquired, D dispatched to the hardware queue, C completed by
 * the device, R reaped by the caller. Q2G holds the queue lock and tag waits
 * (the single queue's contention shows there), D2C the device's time
 * (completion thread hop, timer latency), C2R how long the caller took to
 * notice the completion.
 */
enum rawio_bench_phase {
	RAWIO_BENCH_Q2G = 0,
	RAWIO_BENCH_G2D,
	RAWIO_BENCH_D2C,
	RAWIO_BENCH_C2R,
	RAWIO_BENCH_Q2R, /* all of it */
	RAWIO_BENCH_PHASE_NR,
};

/* "Q2G", "G2D", "D2C", "C2R", "Q2R". */
const char *rawio_bench_phase_name(enum rawio_bench_phase ph);

/* Latency summary, nanoseconds (from fio's histogram: percentiles within 0.8%). */
struct rawio_bench_lat {
	uint64_t count;
	uint64_t min, max;
	double mean, stdev;
	uint64_t p50, p90, p99, p999, p9999;
};

/*
 * Class mode (opts.nr_classes > 0): one thread, one engine context and one
 * scheduler (rawio/sched.h); every class keeps its own QD requests of its own
 * pattern in flight through the scheduler, in a class of its own with its
 * shares, for the ramp and the runtime (a runtime is required; jobs must be
 * 1). The engine's depth is the classes' depths summed. With opts.no_sched the
 * same requests go straight to the engine (the baseline to compare with);
 * without opts.io_props the scheduler passes through (no model). With
 * opts.class_threads each class runs in a thread of its own instead, over an
 * engine context of its own at the class's depth, at its own nice (-EINVAL:
 * a nice without class_threads, or outside 0..19).
 */
struct rawio_bench_class {
	const char *name;  /* up to 31 bytes */
	unsigned shares;   /* 1..65535 */
	int rw;		   /* enum rawio_bench_rw, or -1: the run's pattern */
	uint32_t bs;	   /* 0: the run's */
	unsigned qd;	   /* 0: the run's */
	uint64_t bw_limit; /* bytes per second; 0: none */
	int nice;	   /* class_threads only: the thread's nice increment (0..19); the
			    * io-wq workers the thread starts inherit it */
};

#define RAWIO_BENCH_MAX_CLASSES 16

struct rawio_bench_class_result {
	char name[32];
	unsigned shares;
	enum rawio_bench_rw rw;
	uint32_t bs;
	unsigned qd;
	uint64_t ios, bytes; /* inside the window */
	double iops, mbps;
	struct rawio_bench_lat lat;	     /* submission to the scheduler to completion */
	struct rawio_sched_class_stat sched; /* the scheduler's view (zero with no_sched) */
	int nice;			     /* class_threads: the thread's nice as it ran */
};

struct rawio_bench_dir_result {
	uint64_t ios; /* completed inside the window */
	uint64_t bytes;
	double iops;
	double mbps;		     /* 10^6 bytes per second */
	struct rawio_bench_lat slat; /* queue call to commit returned */
	struct rawio_bench_lat clat; /* commit returned to completion seen */
	struct rawio_bench_lat lat;  /* queue call to completion seen */
};

struct rawio_bench_result {
	/* The settings in force, defaults filled in. */
	char engine[16];
	char engine_desc[256]; /* rawio_engine_describe of job 0's context */
	char path[4096];
	uint32_t bs;
	unsigned qd, jobs; /* sync: qd 1 */
	unsigned rwmix_read;
	unsigned submit_batch, complete_min, complete_max;
	uint64_t seed;
	uint64_t region;     /* bytes used */
	uint64_t elapsed_ns; /* the measured window */

	uint64_t ios, bytes; /* both directions */
	double iops, mbps;
	struct rawio_bench_dir_result dir[RAWIO_BENCH_DIR_NR];
	struct rawio_bench_lat slat, clat, lat; /* both directions */

	/* CPU of the job threads inside the window (RUSAGE_THREAD), summed. */
	uint64_t cpu_user_ns, cpu_sys_ns;
	double cpu_ns_per_io; /* (user + sys) / ios */
	double cpu_util;      /* (user + sys) / (elapsed * jobs), 0..1 */
	uint64_t ctx_voluntary, ctx_involuntary;

	/* Engine counters inside the window, summed over jobs. */
	uint64_t submit_calls, reap_calls, user_reaps, busy, resubmits;
	double ios_per_syscall; /* ios / (submit_calls + reap_calls); 0 when none */
	/* The job loop's own rhythm inside the window, summed over jobs. */
	uint64_t commits;      /* rawio_engine_commit calls that carried requests */
	double ios_per_commit; /* requests per such commit */
	uint64_t reaps;	       /* rawio_engine_reap calls */
	double ios_per_reap;   /* completions per reap */

	uint64_t lat_log_lines; /* lines written to opts.lat_log */
	bool filled;		/* the region was written first (opts.fill) */

	/* opts.phases: each phase's latency over the sampled requests of the window
	 * (one in eight: RAWIO_MEM_PHASES), ns. */
	bool phases;
	struct rawio_bench_lat phase[RAWIO_BENCH_PHASE_NR];

	/* A RAM device's hardware queues from the first job's window opening to the
	 * last one's closing (0 queues for other devices);
	 * imbalance: the most requests any queue completed over the mean. */
	unsigned nr_queues;
	struct rawio_mem_queue_stat queues[RAWIO_MEM_MAX_QUEUES];
	double queue_imbalance;

	char engine_why[256]; /* engine "auto": why it picked res.engine; "" otherwise */

	/* Class mode. */
	unsigned nr_classes;
	char sched_desc[160]; /* rawio_sched_describe, or "none" with no_sched */
	struct rawio_sched_stat sched;
	bool class_threads; /* opts.class_threads (sched.contexts: the classes' contexts) */
	struct rawio_bench_class_result classes[RAWIO_BENCH_MAX_CLASSES];
};

/*
 * rawio_bench_run - check OPTS, open the target, run, fill RES.
 *
 * Everything that can be checked is checked before any I/O: unknown engine
 * (-ENOENT), pattern, block size not a multiple of the device's offset
 * alignment, region past the end of the device or empty, ramp without a
 * runtime (-EINVAL), a path that cannot be opened (its open error, e.g.
 * -ENOENT, -EACCES), an engine that cannot drive it (-EINVAL). An I/O that
 * fails stops the run with its error (-EIO, ...). errbuf names the cause.
 * Other errors: -ENOMEM, thread creation errors, the latency log's open or
 * write errors.
 */
int rawio_bench_run(const struct rawio_bench_opts *opts, struct rawio_bench_result *res);

/* "read", "write", "randread", "randwrite", "randrw" <-> enum. Parse: 0 or -EINVAL. */
int rawio_bench_rw_parse(const char *s, enum rawio_bench_rw *out);
const char *rawio_bench_rw_name(enum rawio_bench_rw rw);

/*
 * One line of a latency log, as rawio_bench_lat_log_parse reads it back:
 * "time_ms, latency_ns, direction, size, offset" (fio's format, log_offset=1).
 */
struct rawio_bench_lat_entry {
	uint64_t time_ms; /* completion time since the window opened */
	uint64_t lat_ns;  /* queue call to completion */
	unsigned dir;	  /* enum rawio_bench_dir */
	uint64_t size;	  /* bytes */
	uint64_t off;	  /* bytes */
};

/*
 * rawio_bench_lat_log_parse - parse one line of a latency log (fio's lat log
 * with or without the offset column and with or without fio 3.x's trailing
 * priority column). Returns 0, or -EINVAL for a line that is not one.
 */
int rawio_bench_lat_log_parse(const char *line, struct rawio_bench_lat_entry *out);

/*
 * Cache benchmarks: the measurements of bench/cache.sh (`rawio cache bench`),
 * seed 002's numbers. Each runs on a cache device and a backing device the
 * caller opened (writable), formats the pair afresh with force (destroying
 * what they held), opens the cache with CACHE_OPTS (engines, buffers,
 * tunables; migration is kept off while writing), measures and closes it.
 * Blocks are 4 KiB; offsets come from fixed seeds, so runs repeat.
 *
 *   absorb  first the raw devices: 4 KiB random writes at QD 32 on the
 *           backing device for 2 s (rawio_bench_run); the cache device's
 *           ceiling, the segments the absorb will log written whole and in
 *           order as the flush worker writes them (its engine, depth, huge-page
 *           buffers and nice value; and at depth 1, the best) then one
 *           fdatasync, timed; then, right after, BYTES of distinct random
 *           blocks written through the cache from THREADS threads, timed until
 *           durable on the cache device (a final flush). The goal (issue 14)
 *           is 75% of the ceiling in 4 KiB writes.
 *   drain   BYTES of distinct random blocks written (8 threads) and flushed,
 *           then nr_batched_migration set to BATCH and everything written
 *           back (rawio_cache_drain), timed; the backing device's throttle
 *           counters (when it is driven by the throttle engine) say how busy
 *           it was and how much of that was seeking.
 *   fsync   WRITERS threads each doing a random 4 KiB write and a flush for
 *           RUNTIME, under the barrier_deadline_us of CACHE_OPTS' tunables.
 *
 * Errors: -EINVAL (a device missing, a count out of range), -ENOMEM, and the
 * error of the step that failed (rawio_bench_run, rawio_cache_format, _open,
 * _write, _flush, _drain); errbuf says which step.
 * Thread-safety: one benchmark per pair of devices at a time.
 */
struct rawio_cache_bench_opts {
	size_t size; /* sizeof(struct rawio_cache_bench_opts) */
	struct rawio_dev *cache_dev, *backing_dev;
	/* Engines, buffers, tunables (NULL: defaults); its errbuf is not used.
	 * The raw measurements drive each device with the engine named here
	 * (NULL: "mem" on a RAM device, else "uring") and its engine options. */
	const struct rawio_cache_opts *cache_opts;
	uint32_t segment_size; /* for formatting; 0: the format's default */
	uint64_t bytes;	       /* absorb, drain: data written; 0 means 256 MiB */
	unsigned threads;      /* absorb: writer threads, 1..256; 0 means 32 */
	unsigned batch;	       /* drain: nr_batched_migration, 1..256 */
	unsigned writers;      /* fsync: writer threads, 1..256; 0 means 1 */
	uint64_t runtime_ns;   /* fsync: 0 means 3 s */
	char *errbuf;	       /* optional: one line on why the run failed */
	size_t errbuf_len;
	/* drain: threads reading 4 KiB blocks at random among the written ones (cache
	 * hits), first alone for reader_idle_ns (0 means 2 s), then while the drain runs;
	 * 0: no reader */
	unsigned readers;
	uint64_t reader_idle_ns;
};

struct rawio_cache_bench_absorb {
	uint64_t writes; /* 4 KiB writes through the cache */
	unsigned threads;
	double seconds, iops;
	double cache_seq_mb_s;	  /* the ceiling: raw cache device, the absorb's segment writes */
	double goal_iops;	  /* 75% of it in 4 KiB writes */
	double pct_of_goal;	  /* iops / goal_iops, percent */
	double backing_rand_iops; /* raw backing device, random 4 KiB writes */
	double x_backing;	  /* iops / backing_rand_iops */
	uint64_t segments;	  /* segments written */
	uint64_t write_stalls;
	double cpu_us_per_write; /* the process's CPU time (all threads) while writing, per write */
	double csw_per_write;	 /* its context switches (voluntary + not) then, per write */
	double flush_seconds;	 /* of seconds: the final flush (the last segment, made durable) */
	/* The flush worker's pipeline (rawio_cache_stat seg_*): a segment's mean time sealed
	 * until handed to the device and then until its completion was seen; the mean number
	 * of segment writes in flight while any was; the share of the seconds with one. */
	double seg_wait_us, seg_write_us, seg_depth, seg_busy_pct;
	double seg_copy_wait_us, seg_reap_wait_us; /* totals: crc waits for copies, sealed
						    * segments waiting while the worker reaps */
	/* Of the ceiling's time (the run it was taken from): its final fdatasync. The
	 * absorb's flush_seconds is mostly the same device flush: compare the rest. */
	double ceiling_sync_seconds;
};

struct rawio_cache_bench_drain {
	unsigned batch; /* nr_batched_migration */
	uint64_t blocks;
	double seconds, mb_s;
	uint64_t batches, migrate_blocks, backing_writes, backing_flushes;
	bool throttled;		 /* the backing device has throttle counters */
	double backing_busy_s;	 /* emulated device busy during the drain (0: unthrottled) */
	double backing_seek_s;	 /* of which seeking */
	double backing_busy_pct; /* busy / drain time, percent */
	double backing_seek_pct; /* seek / busy, percent */
	/* where the migration batches spent it (seconds), and the mean backing writes in flight */
	double read_s, write_s, flush_s, inflight;
	/* readers (opts.readers): alone, then during the drain; latency of one 4 KiB read */
	uint64_t idle_reads, reads;
	double idle_read_iops, read_iops;
	uint64_t idle_read_p50_ns, idle_read_p99_ns, read_p50_ns, read_p99_ns, read_max_ns;
	/* the cache device's scheduler during the drain (sched: it has one): p99 of the time
	 * its read and migrate classes' requests waited for a grant and spent at the disk, and
	 * how often the in-flight bound, the bucket and a context's wait for a grant held back */
	bool sched;
	uint64_t read_queue_p99_ns, read_disk_p99_ns, migrate_queue_p99_ns, migrate_disk_p99_ns;
	uint64_t bound_waits, token_waits, grant_waits;
};

struct rawio_cache_bench_fsync {
	unsigned writers;
	uint32_t deadline_us; /* barrier_deadline_us in force */
	uint64_t ops;	      /* write + flush pairs */
	double seconds, iops;
	double segments_per_flush, kib_per_flush, cache_flushes_per_flush;
	double p50_us, p99_us, p999_us; /* latency of one write + flush pair */
	/* a flush's mean time split (rawio_cache_stat.barrier_*_ns over barrier_timed): the
	 * cache's lock, until its segment was sealed, the commit, the wake-up */
	double flush_lock_us, flush_queue_us, flush_commit_us, flush_wake_us;
	/* writers that waited for a free RAM buffer or log slot (rawio_cache_stat.write_stalls),
	 * and write-back batches run meanwhile (only when the log was full: allow_migrate 0) */
	uint64_t write_stalls, migrate_batches;
};

int rawio_cache_bench_absorb(const struct rawio_cache_bench_opts *o,
			     struct rawio_cache_bench_absorb *res);
int rawio_cache_bench_drain(const struct rawio_cache_bench_opts *o,
			    struct rawio_cache_bench_drain *res);
int rawio_cache_bench_fsync(const struct rawio_cache_bench_opts *o,
			    struct rawio_cache_bench_fsync *res);

/*
 * iotune: measure a disk as Seastar's iotune does and describe it as
 * struct rawio_io_props (written out as io_properties.yaml).
 *
 * rawio_iotune_run(PATH): PATH is a directory (a test file is created in it
 * and removed afterwards), a block device (written only with opts.write_device;
 * otherwise -EPERM) or "mem:SIZE" (with opts.engine "throttle" and a throttle
 * in engine_opts: an emulated disk). The phases, each a rawio_bench_run:
 *   warm-up            one sequential pass of 1 MiB writes over the region
 *   seq write / read   1 MiB requests at depth 8: write_bandwidth, read_bandwidth
 *   rand write / read  4 KiB requests at max_qd: write_iops, read_iops
 *   depth sweep        4 KiB random reads at depth 1, 2, 4, ... max_qd: the
 *                      saturation depth is the shallowest that reaches 90% of
 *                      the best IOPS of the sweep (deeper queues add latency,
 *                      not throughput)
 * Each rate is the mean of 1-second samples (shorter when a phase is short:
 * a fifth of it) with their standard deviation; the first tenth of each
 * phase is a ramp whose samples are dropped. Directories get fsqual's
 * quick check first (200 I/Os per row, the aio engine); its BAD rows are
 * named in fsqual_warning, as Seastar's iotune warns.
 * The whole run takes about opts.duration_ns (default 30 s) plus the warm-up.
 * Errors: those of rawio_bench_run and rawio_fsqual_run; errbuf says which.
 * Thread-safety: as rawio_bench_run; progress runs on the calling thread.
 */
struct rawio_iotune_progress {
	const char *phase; /* "warm-up", "seq write", ... */
	double done;	   /* 0..1 of the whole run (by planned time) */
	double value;	   /* the phase's latest sample: IOPS or bytes/s */
	bool bandwidth;	   /* value is bytes/s */
};

struct rawio_iotune_opts {
	size_t size;	    /* sizeof(struct rawio_iotune_opts) */
	const char *engine; /* NULL: rawio_engine_choose()'s pick for the target */
	const struct rawio_engine_opts *engine_opts; /* passed to bench (throttle, ...) */
	uint64_t duration_ns;			     /* 0 means 30 s */
	uint64_t region;   /* bytes of file or device to use; 0 means 256 MiB */
	unsigned max_qd;   /* 0 means 64 */
	bool write_device; /* a block device may be overwritten */
	bool skip_fsqual;
	void (*progress)(void *arg, const struct rawio_iotune_progress *p);
	void *arg;
	char *errbuf;
	size_t errbuf_len;
};

struct rawio_iotune_rate {
	double mean, stdev; /* per second: IOPS or bytes */
	/* The best rate over windows of samples holding >= 16 x qd completions (the whole
	 * phase when none does): what the disk did when the CPU let it. */
	double max;
	unsigned samples;
	unsigned qd;
	uint32_t bs;
	uint64_t lat_p50_ns, lat_p99_ns;
};

#define RAWIO_IOTUNE_SWEEP_MAX 12
#define RAWIO_IOTUNE_LEN_STEPS 4

struct rawio_iotune_result {
	struct rawio_io_props props; /* mountpoint: the directory or device */
	char engine[16];	     /* the engine that ran ("auto" resolved) */
	struct rawio_iotune_rate seq_write, seq_read, rand_write, rand_read;
	struct {
		unsigned qd;
		double iops;
		uint64_t lat_p50_ns, lat_p99_ns;
	} sweep[RAWIO_IOTUNE_SWEEP_MAX];
	unsigned nr_sweep;
	unsigned saturation_qd;
	/* Sequential bandwidth (bytes/s) at depth 8 with requests of 128 KiB << i, reads [0]
	 * and writes [1] (1 MiB: the seq phases); props.*_saturation_length is the shortest
	 * within 10% of the best. */
	double lengths[2][RAWIO_IOTUNE_LEN_STEPS];
	bool fsqual_ran;
	unsigned fsqual_bad;	  /* rows that were BAD */
	char fsqual_warning[512]; /* "" or the rows, ScyllaDB's wording */
	uint64_t elapsed_ns;
};

int rawio_iotune_run(const char *path, const struct rawio_iotune_opts *opts,
		     struct rawio_iotune_result *res);

#endif
