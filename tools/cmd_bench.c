// SPDX-License-Identifier: MIT
/*
 * rawio bench: a fio-style benchmark. Parses options into struct
 * rawio_bench_opts, runs rawio_bench_run, prints the result as text or as one
 * JSON object (field names in docs/bench.md). A progress line goes to stderr
 * when stderr is a terminal. Exit 0 on success, 1 when the run (or a check of
 * the target) fails, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawio/bench.h>
#include <rawio/predict.h>

#include "cli.h"

#define BENCH_DEFAULT_RUNTIME_NS (10ull * 1000000000ull)
#define BENCH_DEFAULT_RAMP_NS	 (2ull * 1000000000ull)

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio bench [OPTIONS]\n"
		"  --engine E        auto|sync|threads|aio|uring|mem|nbd|rbd (default auto: the "
		"engine\n"
		"                    that neither blocks nor punts on the target; says why)\n"
		"  --nbd-conns N     nbd: connections per job when the server offers multi-conn "
		"(default 4, or QD / 16 when more)\n"
		"  --rw P            read|write|randread|randwrite|randrw (default randread)\n"
		"  --rwmixread N     randrw: percent of reads (default 50)\n"
		"  --bs SIZE         bytes per I/O (default 4k)\n"
		"  --qd N            I/Os in flight per job (default 32; sync: 1)\n"
		"  --jobs N          threads, one engine context each (default 1)\n"
		"  --file PATH       file, block device or mem:SIZE (mem engine default: "
		"mem:SIZE)\n"
		"  --size SIZE       bytes of the target to use (default: all of it; mem: 1G)\n"
		"  --offset SIZE     where the region starts (default 0)\n"
		"  --runtime TIME    measured time, e.g. 10s, 500ms (default 10s; 0: one pass)\n"
		"  --ramp TIME       unmeasured warm-up before it (default 2s; 0 with --runtime "
		"0)\n"
		"  --create          create a missing (or extend a short) file of offset + size\n"
		"  --fill            write the region first when --create made or grew the file\n"
		"  --force           write over a device that holds a rawio store or cache, a\n"
		"                    filesystem or swap signature, or a mounted filesystem\n"
		"  --fill-always     write the region first in any case\n"
		"  --submit-batch N  commit every N queued I/Os (default 1, as fio)\n"
		"  --complete-min N  reap waits for N completions (default qd/8, at least 1;\n"
		"                    1 on threads, nbd, rbd, and uring where it punts to io-wq)\n"
		"  --complete-max N  and takes at most N (default: qd)\n"
		"  --uring FLAGS     comma list: regfiles,regbufs,sqpoll,coop,single,defer or "
		"none\n"
		"                    (default single,defer,regbufs)\n"
		"  --null            mem engine: move no data (the stack's own cost per I/O)\n"
		"  --phases          time each request's phases (btt's Q2G, G2D, D2C, C2R; mem: 1 "
		"in 8;\n"
		"                    not through fault/throttle)\n"
		"  --queue-per-job   mem engine: job i drives hardware queue i %% queues\n"
		"  --pin             run job i on the i-th CPU the process may use (default for\n"
		"                    uring where it punts to io-wq and the jobs leave a CPU free:\n"
		"                    io-wq then runs on the other CPUs)\n"
		"  --no-pin          never pin\n"
		"  --wait MODE       block|spin|hybrid: how reap waits (default block)\n"
		"  --poll CFG        hybrid: its predictor, as rawio pollsim (default linux)\n"
		"  --zero-buffers    write zeroes instead of random data (fio's zero_buffers)\n"
		"  --seed N          offsets and read/write mix (default: fixed, runs repeat)\n"
		"  --json            one JSON object on stdout\n"
		"  --lat-log FILE    one line per I/O: time_ms, latency_ns, dir, size, offset, "
		"prio\n"
		"  --no-progress     no progress line even on a terminal\n"
		"  --class NAME:SHARES[:RW[:BS[:QD[:NICE]]]]  run in a scheduler class "
		"(repeatable):\n"
		"                    the class keeps its own QD of its pattern in flight (default: "
		"the\n"
		"                    run's --rw, --bs, --qd); NICE: its thread's nice increment\n"
		"                    (--class-threads)\n"
		"  --class-threads   each class in a thread of its own, over an engine context of "
		"its\n"
		"                    own (on io_uring: an io-wq of its own)\n"
		"  --io-properties FILE  the scheduler's disk model (io_properties.yaml, as\n"
		"                    rawio iotune writes it); without it the scheduler passes "
		"through\n"
		"  --latency-goal TIME  the scheduler's in-flight bound (default 750us)\n"
		"  --no-sched        classes straight to the engine (the baseline)\n");
}

/* A time option: "10s", "500ms", "2m"; a bare number is seconds. */
static int bench_parse_time(const char *opt, const char *s, uint64_t *out)
{
	return cli_time(opt, s, 1000000000ull, 1000000000000000000ull, out);
}

static int bench_parse_uring(const char *s, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned flag;
	} flags[] = {
		{ "regfiles", RAWIO_URING_REG_FILES },
		{ "regbufs", RAWIO_URING_REG_BUFS },
		{ "sqpoll", RAWIO_URING_SQPOLL },
		{ "coop", RAWIO_URING_COOP_TASKRUN },
		{ "single", RAWIO_URING_SINGLE_ISSUER },
		{ "defer", RAWIO_URING_DEFER_TASKRUN },
		{ "none", 0 },
	};
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	*out = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (!strcmp(tok, flags[i].name))
				break;
		if (i == sizeof(flags) / sizeof(flags[0])) {
			cli_err("--uring: unknown flag '%s' (regfiles, regbufs, sqpoll, coop, "
				"single, defer, none)",
				tok);
			return -1;
		}
		*out |= flags[i].flag;
	}
	return 0;
}

/* The line bench and iotune keep on stderr while they run (a terminal only). */
static void bench_progress(void *arg, const struct rawio_bench_progress *p)
{
	struct cli_progress *pr = arg;
	char iops[32];

	cli_count(p->iops, iops, sizeof(iops));
	if (p->total_ns) {
		uint64_t eta = p->total_ns > p->elapsed_ns ? p->total_ns - p->elapsed_ns : 0;

		cli_progress(pr, "[%s] jobs=%u IOPS=%s elapsed=%.0fs eta=%.0fs",
			     p->ramping ? "ramp" : "run", p->jobs_running, iops,
			     (double)p->elapsed_ns / 1e9, (double)eta / 1e9);
	} else {
		double done = p->ios_total ? 100.0 * (double)p->ios / (double)p->ios_total : 0;

		cli_progress(pr, "[run] jobs=%u IOPS=%s elapsed=%.0fs done=%.1f%%", p->jobs_running,
			     iops, (double)p->elapsed_ns / 1e9, done);
	}
}

static cJSON *bench_lat_json(const struct rawio_bench_lat *l)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "count", (double)l->count);
	cJSON_AddNumberToObject(o, "min", (double)l->min);
	cJSON_AddNumberToObject(o, "mean", l->mean);
	cJSON_AddNumberToObject(o, "stdev", l->stdev);
	cJSON_AddNumberToObject(o, "p50", (double)l->p50);
	cJSON_AddNumberToObject(o, "p90", (double)l->p90);
	cJSON_AddNumberToObject(o, "p99", (double)l->p99);
	cJSON_AddNumberToObject(o, "p999", (double)l->p999);
	cJSON_AddNumberToObject(o, "p9999", (double)l->p9999);
	cJSON_AddNumberToObject(o, "max", (double)l->max);
	return o;
}

static cJSON *bench_dir_json(const struct rawio_bench_dir_result *d)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "ios", (double)d->ios);
	cJSON_AddNumberToObject(o, "bytes", (double)d->bytes);
	cJSON_AddNumberToObject(o, "iops", d->iops);
	cJSON_AddNumberToObject(o, "mbps", d->mbps);
	cJSON_AddItemToObject(o, "slat_ns", bench_lat_json(&d->slat));
	cJSON_AddItemToObject(o, "clat_ns", bench_lat_json(&d->clat));
	cJSON_AddItemToObject(o, "lat_ns", bench_lat_json(&d->lat));
	return o;
}

/* A RAM device's hardware queues and the phases, when there are any. */
static void bench_mem_json(cJSON *j, const struct rawio_bench_result *r)
{
	cJSON *a, *q, *ph;

	if (r->phases && (ph = cJSON_AddObjectToObject(j, "phases_ns")))
		for (unsigned k = 0; k < RAWIO_BENCH_PHASE_NR; k++)
			cJSON_AddItemToObject(ph, rawio_bench_phase_name(k),
					      bench_lat_json(&r->phase[k]));
	if (!r->nr_queues || !(a = cJSON_AddArrayToObject(j, "queues")))
		return;
	for (unsigned i = 0; i < r->nr_queues; i++) {
		const struct rawio_mem_queue_stat *st = &r->queues[i];

		q = cJSON_CreateObject();
		if (!q)
			return;
		cJSON_AddNumberToObject(q, "queue", i);
		cJSON_AddNumberToObject(q, "dispatched", (double)st->dispatched);
		cJSON_AddNumberToObject(q, "completed", (double)st->completed);
		cJSON_AddNumberToObject(q, "bytes_dispatched", (double)st->bytes_dispatched);
		cJSON_AddNumberToObject(q, "bytes_completed", (double)st->bytes_completed);
		cJSON_AddNumberToObject(q, "tag_waits", (double)st->tag_waits);
		cJSON_AddNumberToObject(q, "max_inflight", (double)st->max_inflight);
		cJSON_AddNumberToObject(q, "busy_ns", (double)st->busy_ns);
		cJSON_AddItemToArray(a, q);
	}
	cJSON_AddNumberToObject(j, "queue_imbalance", r->queue_imbalance);
}

static cJSON *bench_json(const struct rawio_bench_opts *o, const struct rawio_bench_result *r)
{
	cJSON *j = cJSON_CreateObject(), *t;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "engine", r->engine);
	cJSON_AddStringToObject(j, "engine_desc", r->engine_desc);
	if (r->engine_why[0])
		cJSON_AddStringToObject(j, "engine_auto_why", r->engine_why);
	cJSON_AddStringToObject(j, "path", r->path);
	cJSON_AddStringToObject(j, "rw", rawio_bench_rw_name(o->rw));
	if (o->rw == RAWIO_BENCH_RANDRW)
		cJSON_AddNumberToObject(j, "rwmixread", r->rwmix_read);
	cJSON_AddNumberToObject(j, "bs", r->bs);
	cJSON_AddNumberToObject(j, "qd", r->qd);
	cJSON_AddNumberToObject(j, "jobs", r->jobs);
	cJSON_AddNumberToObject(j, "size", (double)r->region);
	cJSON_AddNumberToObject(j, "offset", (double)o->offset);
	cJSON_AddNumberToObject(j, "runtime_ns", (double)o->runtime_ns);
	cJSON_AddNumberToObject(j, "ramp_ns", (double)o->ramp_ns);
	cJSON_AddNumberToObject(j, "elapsed_ns", (double)r->elapsed_ns);
	cJSON_AddNumberToObject(j, "submit_batch", r->submit_batch);
	cJSON_AddNumberToObject(j, "complete_min", r->complete_min);
	cJSON_AddNumberToObject(j, "complete_max", r->complete_max);
	cJSON_AddNumberToObject(j, "ios", (double)r->ios);
	cJSON_AddNumberToObject(j, "bytes", (double)r->bytes);
	cJSON_AddNumberToObject(j, "iops", r->iops);
	cJSON_AddNumberToObject(j, "mbps", r->mbps);
	cJSON_AddItemToObject(j, "lat_ns", bench_lat_json(&r->lat));
	cJSON_AddItemToObject(j, "slat_ns", bench_lat_json(&r->slat));
	cJSON_AddItemToObject(j, "clat_ns", bench_lat_json(&r->clat));
	cJSON_AddItemToObject(j, "read", bench_dir_json(&r->dir[RAWIO_BENCH_DIR_READ]));
	cJSON_AddItemToObject(j, "write", bench_dir_json(&r->dir[RAWIO_BENCH_DIR_WRITE]));
	cJSON_AddNumberToObject(j, "cpu_ns_per_io", r->cpu_ns_per_io);
	t = cJSON_AddObjectToObject(j, "cpu");
	if (t) {
		cJSON_AddNumberToObject(t, "user_ns", (double)r->cpu_user_ns);
		cJSON_AddNumberToObject(t, "sys_ns", (double)r->cpu_sys_ns);
		cJSON_AddNumberToObject(t, "util", r->cpu_util);
		cJSON_AddNumberToObject(t, "ctx_voluntary", (double)r->ctx_voluntary);
		cJSON_AddNumberToObject(t, "ctx_involuntary", (double)r->ctx_involuntary);
	}
	t = cJSON_AddObjectToObject(j, "syscalls");
	if (t) {
		cJSON_AddNumberToObject(t, "submit", (double)r->submit_calls);
		cJSON_AddNumberToObject(t, "reap", (double)r->reap_calls);
		cJSON_AddNumberToObject(t, "user_reaps", (double)r->user_reaps);
		cJSON_AddNumberToObject(t, "busy", (double)r->busy);
		cJSON_AddNumberToObject(t, "resubmits", (double)r->resubmits);
		cJSON_AddNumberToObject(t, "commits", (double)r->commits);
		cJSON_AddNumberToObject(t, "ios_per_commit", r->ios_per_commit);
		cJSON_AddNumberToObject(t, "reaps", (double)r->reaps);
		cJSON_AddNumberToObject(t, "ios_per_reap", r->ios_per_reap);
	}
	if (r->submit_calls + r->reap_calls)
		cJSON_AddNumberToObject(j, "ios_per_syscall", r->ios_per_syscall);
	else
		cJSON_AddNullToObject(j, "ios_per_syscall");
	cJSON_AddBoolToObject(j, "filled", r->filled);
	if (o->lat_log) {
		cJSON_AddStringToObject(j, "lat_log", o->lat_log);
		cJSON_AddNumberToObject(j, "lat_log_lines", (double)r->lat_log_lines);
	}
	cJSON_AddNumberToObject(j, "seed", (double)r->seed);
	bench_mem_json(j, r);
	return j;
}

static void bench_print_lat(const char *name, const struct rawio_bench_lat *l)
{
	if (!l->count)
		return;
	printf("    %4s (ns): min=%llu mean=%.0f stdev=%.0f max=%llu\n", name,
	       (unsigned long long)l->min, l->mean, l->stdev, (unsigned long long)l->max);
	printf("                p50=%llu p90=%llu p99=%llu p99.9=%llu p99.99=%llu\n",
	       (unsigned long long)l->p50, (unsigned long long)l->p90, (unsigned long long)l->p99,
	       (unsigned long long)l->p999, (unsigned long long)l->p9999);
}

/* The queue-balance table (seed 001 used blktrace for it) and the btt-style phases. */
static void bench_print_mem(const struct rawio_bench_result *r)
{
	double secs = (double)r->elapsed_ns / 1e9;
	char a[32], b[32];

	if (r->nr_queues > 1 || (r->nr_queues && r->queues[0].tag_waits)) {
		printf("  hardware queues: imbalance max/mean = %.3f\n", r->queue_imbalance);
		printf("    %5s %12s %10s %10s %8s %8s %6s\n", "queue", "completed", "IOPS", "MB/s",
		       "tagwaits", "maxinfl", "busy%");
		for (unsigned i = 0; i < r->nr_queues; i++) {
			const struct rawio_mem_queue_stat *st = &r->queues[i];

			printf("    %5u %12llu %10s %10.1f %8llu %8llu %5.1f%%\n", i,
			       (unsigned long long)st->completed,
			       cli_count((double)st->completed / secs, a, sizeof(a)),
			       (double)st->bytes_completed / secs / 1e6,
			       (unsigned long long)st->tag_waits,
			       (unsigned long long)st->max_inflight,
			       100.0 * (double)st->busy_ns / (double)r->elapsed_ns);
		}
	}
	if (!r->phases)
		return;
	printf("  phases (ns; Q queued, G tag, D dispatched, C device done, R reaped):\n");
	printf("    %-8s %10s %10s %10s\n", "", "mean", "p50", "p99");
	for (unsigned k = 0; k < RAWIO_BENCH_PHASE_NR; k++) {
		const struct rawio_bench_lat *l = &r->phase[k];

		printf("    %-8s %10.0f %10s %10s\n", rawio_bench_phase_name(k), l->mean,
		       cli_count((double)l->p50, a, sizeof(a)),
		       cli_count((double)l->p99, b, sizeof(b)));
	}
}

static void bench_print(const struct rawio_bench_opts *o, const struct rawio_bench_result *r)
{
	static const char *const dirs[] = { "read", "write" };
	char h[32], k[32];

	printf("rawio bench: %s bs=%u qd=%u jobs=%u on %s (%s)\n", rawio_bench_rw_name(o->rw),
	       r->bs, r->qd, r->jobs, r->path, cli_human(r->region, h, sizeof(h)));
	printf("  engine: %s\n", r->engine_desc);
	if (r->engine_why[0])
		printf("  engine auto: %s, because %s\n", r->engine, r->engine_why);
	if (r->filled)
		printf("  filled the region with random data first\n");
	for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++) {
		const struct rawio_bench_dir_result *dr = &r->dir[d];

		if (!dr->ios)
			continue;
		printf("  %5s: IOPS=%s, BW=%.1f MB/s (%s/s), %llu I/Os in %.2f s\n", dirs[d],
		       cli_count(dr->iops, k, sizeof(k)), dr->mbps,
		       cli_human((uint64_t)(dr->mbps * 1e6), h, sizeof(h)),
		       (unsigned long long)dr->ios, (double)r->elapsed_ns / 1e9);
		bench_print_lat("slat", &dr->slat);
		bench_print_lat("clat", &dr->clat);
		bench_print_lat("lat", &dr->lat);
	}
	if (!r->ios)
		printf("  no I/O completed inside the window\n");
	printf("  cpu: usr=%.1f%% sys=%.1f%% per job, %.0f ns of CPU per I/O, ctx=%llu "
	       "(%llu involuntary)\n",
	       100.0 * (double)r->cpu_user_ns / ((double)r->elapsed_ns * r->jobs),
	       100.0 * (double)r->cpu_sys_ns / ((double)r->elapsed_ns * r->jobs), r->cpu_ns_per_io,
	       (unsigned long long)(r->ctx_voluntary + r->ctx_involuntary),
	       (unsigned long long)r->ctx_involuntary);
	printf("  syscalls: submit=%llu reap=%llu; %llu completions reaped without one",
	       (unsigned long long)r->submit_calls, (unsigned long long)r->reap_calls,
	       (unsigned long long)r->user_reaps);
	if (r->submit_calls + r->reap_calls)
		printf("; %.2f I/Os per syscall\n", r->ios_per_syscall);
	else
		printf("; none\n");
	printf("  loop: %.2f I/Os per commit, %.2f completions per reap\n", r->ios_per_commit,
	       r->ios_per_reap);
	if (o->lat_log)
		printf("  latency log: %s (%llu lines)\n", o->lat_log,
		       (unsigned long long)r->lat_log_lines);
	bench_print_mem(r);
}

int cmd_bench(int argc, char **argv)
{
	enum {
		OPT_ENGINE = 256,
		OPT_RW,
		OPT_RWMIX,
		OPT_BS,
		OPT_QD,
		OPT_JOBS,
		OPT_FILE,
		OPT_SIZE,
		OPT_OFFSET,
		OPT_RUNTIME,
		OPT_RAMP,
		OPT_CREATE,
		OPT_FILL,
		OPT_FILL_ALWAYS,
		OPT_FORCE,
		OPT_SUBMIT,
		OPT_CMIN,
		OPT_CMAX,
		OPT_URING,
		OPT_NULL,
		OPT_WAIT,
		OPT_POLL,
		OPT_SEED,
		OPT_JSON,
		OPT_LATLOG,
		OPT_NOPROGRESS,
		OPT_ZERO,
		OPT_NBD_CONNS,
		OPT_PHASES,
		OPT_QPERJOB,
		OPT_PIN,
		OPT_NO_PIN,
		OPT_CLASS,
		OPT_IO_PROPS,
		OPT_GOAL,
		OPT_NO_SCHED,
		OPT_CLASS_THREADS,
	};
	static const struct option longopts[] = {
		{ "engine", required_argument, NULL, OPT_ENGINE },
		{ "rw", required_argument, NULL, OPT_RW },
		{ "rwmixread", required_argument, NULL, OPT_RWMIX },
		{ "bs", required_argument, NULL, OPT_BS },
		{ "qd", required_argument, NULL, OPT_QD },
		{ "iodepth", required_argument, NULL, OPT_QD },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "numjobs", required_argument, NULL, OPT_JOBS },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "filename", required_argument, NULL, OPT_FILE },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "runtime", required_argument, NULL, OPT_RUNTIME },
		{ "ramp", required_argument, NULL, OPT_RAMP },
		{ "ramp_time", required_argument, NULL, OPT_RAMP },
		{ "create", no_argument, NULL, OPT_CREATE },
		{ "fill", no_argument, NULL, OPT_FILL },
		{ "fill-always", no_argument, NULL, OPT_FILL_ALWAYS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "submit-batch", required_argument, NULL, OPT_SUBMIT },
		{ "complete-min", required_argument, NULL, OPT_CMIN },
		{ "complete-max", required_argument, NULL, OPT_CMAX },
		{ "uring", required_argument, NULL, OPT_URING },
		{ "null", no_argument, NULL, OPT_NULL },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "poll", required_argument, NULL, OPT_POLL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "lat-log", required_argument, NULL, OPT_LATLOG },
		{ "no-progress", no_argument, NULL, OPT_NOPROGRESS },
		{ "zero-buffers", no_argument, NULL, OPT_ZERO },
		{ "nbd-conns", required_argument, NULL, OPT_NBD_CONNS },
		{ "phases", no_argument, NULL, OPT_PHASES },
		{ "queue-per-job", no_argument, NULL, OPT_QPERJOB },
		{ "pin", no_argument, NULL, OPT_PIN },
		{ "no-pin", no_argument, NULL, OPT_NO_PIN },
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "io-properties", required_argument, NULL, OPT_IO_PROPS },
		{ "latency-goal", required_argument, NULL, OPT_GOAL },
		{ "no-sched", no_argument, NULL, OPT_NO_SCHED },
		{ "class-threads", no_argument, NULL, OPT_CLASS_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rawio_bench_opts o = { .size = sizeof(o), .rw = RAWIO_BENCH_RANDREAD };
	struct rawio_engine_opts eo = { .size = sizeof(eo) };
	struct rawio_bench_result *res = NULL;
	bool json = false, progress = true, have_uring = false, have_runtime = false;
	struct cli_progress pr;
	bool have_ramp = false, null_mode = false, rwmix_zero = false, force = false;
	bool have_wait = false, have_poll = false, have_nbd = false;
	struct rawio_poll_cfg poll;
	struct rawio_bench_class classes[RAWIO_BENCH_MAX_CLASSES];
	char class_names[RAWIO_BENCH_MAX_CLASSES][32];
	struct rawio_io_props props;
	uint64_t v;
	unsigned u;
	char err[1024] = "";
	int c, ret;

	o.runtime_ns = BENCH_DEFAULT_RUNTIME_NS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ENGINE:
			if (cli_engine("--engine", optarg))
				return 2;
			o.engine = optarg;
			break;
		case OPT_RW:
			if (rawio_bench_rw_parse(optarg, &o.rw)) {
				cli_err("--rw: unknown pattern '%s' (read, write, randread, "
					"randwrite, randrw)",
					optarg);
				return 2;
			}
			break;
		case OPT_RWMIX:
			if (cli_uint("--rwmixread", optarg, 0, 100, &u))
				return 2;
			o.rwmix_read = u;
			rwmix_zero = !u;
			break;
		case OPT_BS:
			if (cli_size("--bs", optarg, &v))
				return 2;
			if (!v || v > (1u << 30)) {
				cli_err("--bs: '%s' must be from 1 byte to 1 GiB", optarg);
				return 2;
			}
			o.bs = (uint32_t)v;
			break;
		case OPT_QD:
			if (cli_uint("--qd", optarg, 1, 65536, &o.qd))
				return 2;
			break;
		case OPT_JOBS:
			if (cli_uint("--jobs", optarg, 1, 1024, &o.jobs))
				return 2;
			break;
		case OPT_FILE:
			o.path = optarg;
			break;
		case OPT_SIZE:
			if (cli_size("--size", optarg, &o.region))
				return 2;
			if (!o.region) {
				cli_err("--size: must be more than 0");
				return 2;
			}
			break;
		case OPT_OFFSET:
			if (cli_size("--offset", optarg, &o.offset))
				return 2;
			break;
		case OPT_RUNTIME:
			if (bench_parse_time("--runtime", optarg, &o.runtime_ns))
				return 2;
			have_runtime = true;
			break;
		case OPT_RAMP:
			if (bench_parse_time("--ramp", optarg, &o.ramp_ns))
				return 2;
			have_ramp = true;
			break;
		case OPT_CREATE:
			o.dev_flags |= RAWIO_DEV_CREATE;
			break;
		case OPT_FILL:
			o.fill = true;
			break;
		case OPT_FILL_ALWAYS:
			o.fill = o.fill_always = true;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_SUBMIT:
			if (cli_uint("--submit-batch", optarg, 1, 65536, &o.submit_batch))
				return 2;
			break;
		case OPT_CMIN:
			if (cli_uint("--complete-min", optarg, 1, 65536, &o.complete_min))
				return 2;
			break;
		case OPT_CMAX:
			if (cli_uint("--complete-max", optarg, 1, 65536, &o.complete_max))
				return 2;
			break;
		case OPT_URING:
			if (bench_parse_uring(optarg, &eo.uring_flags))
				return 2;
			have_uring = true;
			break;
		case OPT_NULL:
			null_mode = true;
			break;
		case OPT_NBD_CONNS:
			if (cli_uint("--nbd-conns", optarg, 1, 16, &eo.nbd_conns))
				return 2;
			have_nbd = true;
			break;
		case OPT_WAIT:
			if (rawio_wait_mode_parse(optarg, &eo.wait_mode)) {
				cli_err("--wait: unknown mode '%s' (block, spin or hybrid)",
					optarg);
				return 2;
			}
			have_wait = true;
			break;
		case OPT_POLL:
			if (rawio_poll_cfg_parse(optarg, &poll)) {
				cli_err("--poll: bad predictor '%s' (e.g. linux, mean:50:100ms, "
					"p10:80:1ms; see rawio pollsim --help)",
					optarg);
				return 2;
			}
			have_poll = true;
			break;
		case OPT_SEED:
			if (cli_size("--seed", optarg, &o.seed))
				return 2;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_LATLOG:
			o.lat_log = optarg;
			break;
		case OPT_NOPROGRESS:
			progress = false;
			break;
		case OPT_ZERO:
			o.zero_buffers = true;
			break;
		case OPT_PHASES:
			o.phases = true;
			break;
		case OPT_QPERJOB:
			o.queue_per_job = true;
			break;
		case OPT_PIN:
			o.pin = true;
			break;
		case OPT_NO_PIN:
			o.no_pin = true;
			break;
		case OPT_CLASS:
			if (o.nr_classes == RAWIO_BENCH_MAX_CLASSES) {
				cli_err("--class: at most %u classes", RAWIO_BENCH_MAX_CLASSES);
				return 2;
			}
			if (bench_class_parse(optarg, &classes[o.nr_classes],
					      class_names[o.nr_classes], sizeof(class_names[0])))
				return 2;
			o.classes = classes;
			o.nr_classes++;
			break;
		case OPT_IO_PROPS:
			if (bench_io_props_load(optarg, &props))
				return 2;
			o.io_props = &props;
			break;
		case OPT_GOAL:
			if (bench_parse_time("--latency-goal", optarg, &o.sched_goal_ns))
				return 2;
			break;
		case OPT_NO_SCHED:
			o.no_sched = true;
			break;
		case OPT_CLASS_THREADS:
			o.class_threads = true;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cli_err("unexpected argument '%s' (the target is --file PATH)", argv[optind]);
		return 2;
	}
	for (unsigned i = 0; i < o.nr_classes; i++)
		if (classes[i].nice && !o.class_threads) {
			cli_err("--class %s: a nice needs --class-threads (one thread runs all "
				"classes "
				"otherwise)",
				classes[i].name);
			return 2;
		}
	/* 0% reads is randwrite (the library reads rwmix 0 as its default, 50). */
	if (o.rw == RAWIO_BENCH_RANDRW && rwmix_zero)
		o.rw = RAWIO_BENCH_RANDWRITE;
	/* Writes over a store, a cache, a filesystem or a mounted device: ask first. */
	if (!force && o.path &&
	    (o.rw == RAWIO_BENCH_WRITE || o.rw == RAWIO_BENCH_RANDWRITE ||
	     (o.rw == RAWIO_BENCH_RANDRW && o.rwmix_read != 100) || o.fill)) {
		char what[4200];
		int r = rawio_dev_probe_data(o.path, what, sizeof(what));

		if (r == 1) {
			cli_err("--file %s holds %s, which writing would destroy (--force to write "
				"anyway)",
				o.path, what);
			return 2;
		}
		if (r < 0) {
			cli_err("--file %s: %s", o.path, rawio_strerror(r));
			return 1;
		}
	}
	if (!have_ramp && (!have_runtime || o.runtime_ns))
		o.ramp_ns = BENCH_DEFAULT_RAMP_NS;
	if (have_poll && eo.wait_mode != RAWIO_WAIT_HYBRID) {
		cli_err("--poll needs --wait hybrid");
		return 2;
	}
	if (have_poll)
		eo.poll = &poll;
	if (have_uring || null_mode || have_wait || have_nbd) {
		if (null_mode && (!o.engine || strcmp(o.engine, "mem"))) {
			cli_err("--null needs --engine mem");
			return 2;
		}
		if (have_uring && (!o.engine || strcmp(o.engine, "uring")) && o.engine) {
			cli_err("--uring needs --engine uring");
			return 2;
		}
		eo.mem_flags = null_mode ? RAWIO_MEM_NULL : 0;
		/* Without --uring, the defaults a NULL engine_opts gets. */
		if (!have_uring && (!o.engine || !strcmp(o.engine, "uring")))
			eo.uring_flags = RAWIO_URING_SINGLE_ISSUER | RAWIO_URING_DEFER_TASKRUN |
					 RAWIO_URING_REG_BUFS;
		o.engine_opts = &eo;
	}
	cli_progress_init(&pr, progress);
	if (pr.on) {
		o.progress = bench_progress;
		o.progress_arg = &pr;
		o.progress_ms = CLI_PROGRESS_MS;
	}
	o.errbuf = err;
	o.errbuf_len = sizeof(err);

	res = calloc(1, sizeof(*res));
	if (!res) {
		cli_err("out of memory");
		return 1;
	}
	ret = rawio_bench_run(&o, res);
	cli_progress_done(&pr, NULL);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		free(res);
		return 1;
	}
	if (json) {
		cJSON *j = bench_json(&o, res);

		if (j && res->nr_classes)
			bench_classes_json(j, res);
		cli_json_print(j);
	} else {
		bench_print(&o, res);
		if (res->nr_classes)
			bench_classes_print(res);
	}
	free(res);
	return 0;
}
