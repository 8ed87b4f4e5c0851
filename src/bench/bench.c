// SPDX-License-Identifier: MIT
/*
 * rawio_bench_run: check the options, open the target, start the jobs on one
 * barrier, watch them, and fold their statistics into one result.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_impl.h"

#define BENCH_DEFAULT_SEED 0x72617769u /* "rawi" */
#define BENCH_FILL_CHUNK   (1u << 20)
#define BENCH_MAX_JOBS	   1024u
#define BENCH_MAX_QD	   65536u

static const char *const bench_rw_names[RAWIO_BENCH_RW_NR] = {
	"read", "write", "randread", "randwrite", "randrw",
};

int rawio_bench_rw_parse(const char *s, enum rawio_bench_rw *out)
{
	for (unsigned i = 0; s && i < RAWIO_BENCH_RW_NR; i++) {
		if (!strcmp(s, bench_rw_names[i])) {
			*out = (enum rawio_bench_rw)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rawio_bench_rw_name(enum rawio_bench_rw rw)
{
	return (unsigned)rw < RAWIO_BENCH_RW_NR ? bench_rw_names[rw] : "?";
}

static int bench_err(const struct rawio_bench_opts *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bench_err(const struct rawio_bench_opts *o, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(o->errbuf, o->errbuf_len, fmt, ap);
	va_end(ap);
	return err;
}

static bool bench_engine_known(const char *name)
{
	for (const char *const *n = rawio_engine_list(); *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

/* throttle and fault stack on another engine: that one drives the device. */
static bool bench_engine_stacked(const char *name)
{
	return !strcmp(name, "throttle") || !strcmp(name, "fault");
}

static bool bench_writes(enum rawio_bench_rw rw)
{
	return rw == RAWIO_BENCH_WRITE || rw == RAWIO_BENCH_RANDWRITE || rw == RAWIO_BENCH_RANDRW;
}

/* Copy the caller's options and fill in the defaults; check what needs no device. */
static int bench_opts_check(struct bench *b, const struct rawio_bench_opts *opts)
{
	struct rawio_bench_opts *o = &b->o;

	memset(o, 0, sizeof(*o));
	if (!opts || opts->size < offsetof(struct rawio_bench_opts, errbuf))
		return -EINVAL;
	memcpy(o, opts, opts->size < sizeof(*o) ? opts->size : sizeof(*o));
	o->size = sizeof(*o);
	if (!o->engine)
		o->engine = "auto";
	b->engine = o->engine;
	if (strcmp(o->engine, "auto") && !bench_engine_known(o->engine)) {
		char names[256] = "";
		size_t n = 0;

		for (const char *const *e = rawio_engine_list(); *e && n < sizeof(names); e++)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "",
					      *e);
		return bench_err(o, -ENOENT, "unknown engine '%s' (engines: auto %s)", o->engine,
				 names);
	}
	if ((unsigned)o->rw >= RAWIO_BENCH_RW_NR)
		return bench_err(o, -EINVAL, "unknown pattern %d", (int)o->rw);
	if (o->rwmix_read > 100)
		return bench_err(o, -EINVAL, "rwmix_read %u is not a percentage", o->rwmix_read);
	if (!o->rwmix_read)
		o->rwmix_read = 50;
	if (!o->bs)
		o->bs = 4096;
	if (!o->qd)
		o->qd = 32;
	if (!strcmp(o->engine, "sync"))
		o->qd = 1;
	if (o->qd > BENCH_MAX_QD)
		return bench_err(o, -EINVAL, "queue depth %u is more than %u", o->qd, BENCH_MAX_QD);
	if (!o->jobs)
		o->jobs = 1;
	if (o->jobs > BENCH_MAX_JOBS)
		return bench_err(o, -EINVAL, "%u jobs is more than %u", o->jobs, BENCH_MAX_JOBS);
	if (o->ramp_ns && !o->runtime_ns)
		return bench_err(o, -EINVAL,
				 "a ramp time needs a runtime (a one-pass run has none)");
	if (!o->submit_batch)
		o->submit_batch = 1;
	if (o->submit_batch > o->qd)
		o->submit_batch = o->qd;
	/* complete_min 0 stays 0 here: its default is the engine's (bench_reap_default). */
	if (o->complete_min > o->qd)
		o->complete_min = o->qd;
	if (!o->complete_max || o->complete_max > o->qd)
		o->complete_max = o->qd;
	if (o->complete_min && o->complete_max < o->complete_min)
		return bench_err(o, -EINVAL, "complete_max %u is less than complete_min %u",
				 o->complete_max, o->complete_min);
	if (!o->seed)
		o->seed = BENCH_DEFAULT_SEED;
	if (!o->progress_ms)
		o->progress_ms = 1000;
	if (o->path && !strncmp(o->path, "mem:", 4) && strcmp(o->engine, "mem") &&
	    strcmp(o->engine, "auto") && !bench_engine_stacked(o->engine))
		return bench_err(o, -EINVAL, "%s is a RAM device: only the mem engine drives it",
				 o->path);
	if (!o->path && !o->dev && strcmp(o->engine, "mem") && strcmp(o->engine, "auto"))
		return bench_err(o, -EINVAL,
				 "no target: give a file or device (a RAM device "
				 "\"mem:SIZE\" needs the mem engine)");

	memset(&b->eopts, 0, sizeof(b->eopts));
	if (o->engine_opts) {
		if (o->engine_opts->size < offsetof(struct rawio_engine_opts, uring_flags))
			return bench_err(o, -EINVAL, "engine options: bad size");
		memcpy(&b->eopts, o->engine_opts,
		       o->engine_opts->size < sizeof(b->eopts) ? o->engine_opts->size
							       : sizeof(b->eopts));
	} else if (!strcmp(o->engine, "uring")) {
		b->eopts.uring_flags = RAWIO_URING_SINGLE_ISSUER | RAWIO_URING_DEFER_TASKRUN |
				       RAWIO_URING_REG_BUFS;
	}
	if (o->nr_classes && bench_classes_check(b))
		return bench_err(o, -EINVAL,
				 "classes: at most %u, each with a name and shares 1..65535, "
				 "one job, and a runtime",
				 RAWIO_BENCH_MAX_CLASSES);
	b->eopts.size = sizeof(b->eopts);
	b->eopts.queue_depth = o->qd;
	if (o->phases) {
		if (bench_engine_stacked(o->engine))
			return bench_err(o, -EINVAL,
					 "phases are not recorded through the stacked engine %s",
					 o->engine);
		b->eopts.mem_flags |= RAWIO_ENGINE_PHASES;
	}
	b->time_based = o->runtime_ns != 0;
	b->log_lat = o->lat_log != NULL;
	return 0;
}

/*
 * The default complete_min, once the engine is known: qd/8 where completions
 * come in batches (RAWIO_CAP_BATCH_REAP; and on the stacked engines, as
 * before: their lower one's way decides), 1 where they come one at a time
 * (rbd, nbd, threads): there waiting for more leaves finished slots idle.
 * io_uring on a device without NOWAIT (zram, loop: PUNTS) is the second kind:
 * io-wq's workers are a thread pool finishing one request at a time, and a
 * submitter that sleeps until qd/8 are back is woken onto a CPU they share
 * (zram, QD 128, 6 alternating 10 s runs on 2026-12-07: medians 380K IOPS
 * reaping from 1 against 327K waiting for 16, whose slow runs slept 88-125K
 * times; docs/perf.md "Quiet pass, eighth session"). PUNTS: the engine is
 * uring and it punts here (struct bench's uring_punts).
 */
static void bench_reap_default(struct rawio_bench_opts *o, bool punts)
{
	unsigned caps = rawio_engine_name_caps(o->engine);

	if (o->complete_min)
		return;
	o->complete_min = 1;
	if ((caps & (RAWIO_CAP_BATCH_REAP | RAWIO_CAP_STACKED)) && o->qd / 8 && !punts)
		o->complete_min = o->qd / 8;
	if (o->complete_min > o->complete_max)
		o->complete_min = o->complete_max;
}

/*
 * Pin by default where io_uring hands every request to io-wq and the jobs
 * leave a CPU free: each job on its CPU, and the uring engine keeps io-wq's
 * workers on the others (uring_iowq_away). Unpinned, a worker and the job
 * that feeds it were at times queued on one CPU: on zram at QD 128, 2 vCPUs,
 * 10 alternating 5 s runs on 2026-12-07, pinned 404-457K IOPS every run,
 * unpinned 285-452K (the slow ones at 80-97% of the job's thread time with
 * up to 72K preemptions; pinned 30-135), fio 222-432K. PUNTS as above.
 */
static void bench_pin_default(struct rawio_bench_opts *o, bool punts)
{
	cpu_set_t cpus;

	if (o->pin || o->no_pin || !punts || o->nr_classes ||
	    sched_getaffinity(0, sizeof(cpus), &cpus))
		return;
	o->pin = o->jobs < (unsigned)CPU_COUNT(&cpus);
}

/* Open the target and check the region and block size against it. */
static int bench_open(struct bench *b, bool *grown)
{
	struct rawio_bench_opts *o = &b->o;
	struct rawio_dev_opts dopts = { .size = sizeof(dopts) };
	char err[512] = "", mempath[64];
	const char *path = o->path;
	const struct rawio_dev_info *in;
	struct stat st;
	int ret;

	*grown = false;
	if (!path && o->dev)
		path = rawio_dev_info(o->dev)->path;
	if (!path) {
		uint64_t sz = o->offset + (o->region ? o->region : (1ull << 30));

		snprintf(mempath, sizeof(mempath), "mem:%llu", (unsigned long long)sz);
		path = mempath;
	}
	dopts.flags = o->dev_flags | RAWIO_DEV_PREFAULT; /* no page faults in the numbers */
	if (!bench_writes(o->rw) && !bench_classes_write(o) && !(o->dev_flags & RAWIO_DEV_CREATE) &&
	    !o->fill_always)
		dopts.flags |= RAWIO_DEV_RDONLY;
	if (o->dev_flags & RAWIO_DEV_CREATE) {
		if (!o->region)
			return bench_err(o, -EINVAL, "creating %s needs a size", path);
		dopts.create_size = o->offset + o->region;
		if (strncmp(path, "mem:", 4) &&
		    (stat(path, &st) ||
		     (S_ISREG(st.st_mode) && (uint64_t)st.st_size < dopts.create_size)))
			*grown = true;
	}
	dopts.errbuf = err;
	dopts.errbuf_len = sizeof(err);
	if (o->dev) {
		b->dev = o->dev;
		ret = 0;
	} else {
		ret = rawio_dev_open(&b->dev, path, &dopts);
	}
	if (ret) {
		if (ret == -ENOENT && !(o->dev_flags & RAWIO_DEV_CREATE))
			return bench_err(o, ret, "%s: %s (--create makes a file of --size)", path,
					 rawio_strerror(ret));
		return bench_err(o, ret, "%s", err[0] ? err : rawio_strerror(ret));
	}
	in = b->info = rawio_dev_info(b->dev);
	if (!strcmp(o->engine, "auto")) {
		/* Engine "auto": resolve it now, so the defaults below are the pick's. */
		rawio_engine_choose(b->dev, o->qd, &b->choice);
		o->engine = b->engine = b->choice.engine;
		if (!o->engine_opts && !strcmp(o->engine, "uring"))
			b->eopts.uring_flags = RAWIO_URING_SINGLE_ISSUER |
					       RAWIO_URING_DEFER_TASKRUN | RAWIO_URING_REG_BUFS;
		if (!strcmp(o->engine, "sync")) {
			o->qd = b->eopts.queue_depth = 1;
			o->submit_batch = o->complete_min = o->complete_max = 1;
		}
	}
	/* Polled rings never punt: completions are found by polling, in batches. */
	if (!strcmp(o->engine, "uring") &&
	    !(b->eopts.uring_flags & (RAWIO_URING_IOPOLL | RAWIO_URING_HYBRID_IOPOLL))) {
		b->uring_punts = b->choice.uring_punts;
		if (!o->complete_min && !b->choice.engine[0]) {
			/* Named, not picked: ask only whether io_uring punts here. */
			struct rawio_engine_choice c;

			rawio_engine_choose(b->dev, o->qd, &c);
			b->uring_punts = c.uring_punts;
		}
	}
	bench_reap_default(o, b->uring_punts);
	bench_pin_default(o, b->uring_punts);
	if (in->kind == RAWIO_DEV_MEM && strcmp(o->engine, "mem") &&
	    !bench_engine_stacked(o->engine))
		return bench_err(o, -EINVAL, "%s is a RAM device: only the mem engine drives it",
				 path);
	if (in->kind != RAWIO_DEV_MEM && !strcmp(o->engine, "mem"))
		return bench_err(o, -EINVAL,
				 "the mem engine drives only RAM devices (mem:SIZE), "
				 "not %s",
				 path);
	if ((in->kind == RAWIO_DEV_NBD) != !strcmp(o->engine, "nbd"))
		return bench_err(o, -EINVAL, "%s %s an NBD export: %s", path,
				 in->kind == RAWIO_DEV_NBD ? "is" : "is not",
				 in->kind == RAWIO_DEV_NBD ? "only the nbd engine drives it"
							   : "the nbd engine drives only NBD URIs");
	if ((in->kind == RAWIO_DEV_RBD) != !strcmp(o->engine, "rbd"))
		return bench_err(o, -EINVAL, "%s %s a Ceph RBD image: %s%s%s", path,
				 in->kind == RAWIO_DEV_RBD ? "is" : "is not",
				 in->kind == RAWIO_DEV_RBD
					 ? "only the rbd engine drives it, not "
					 : "the rbd engine drives only rbd: paths",
				 in->kind == RAWIO_DEV_RBD ? o->engine : "",
				 in->kind == RAWIO_DEV_RBD ? " (or give --engine auto)" : "");
	if (in->offset_align > 1 && o->bs % in->offset_align)
		return bench_err(o, -EINVAL,
				 "block size %u is not a multiple of %s's direct I/O "
				 "alignment (%u bytes)",
				 o->bs, path, in->offset_align);
	if (in->offset_align > 1 && o->offset % in->offset_align)
		return bench_err(o, -EINVAL,
				 "offset %llu is not a multiple of %s's direct I/O "
				 "alignment (%u bytes)",
				 (unsigned long long)o->offset, path, in->offset_align);
	if (o->offset >= in->size)
		return bench_err(o, -EINVAL, "offset %llu is at or past the end of %s (%llu bytes)",
				 (unsigned long long)o->offset, path, (unsigned long long)in->size);
	if (!o->region)
		o->region = in->size - o->offset;
	if (o->region > in->size - o->offset)
		return bench_err(o, -EINVAL,
				 "size %llu at offset %llu is larger than %s (%llu bytes)",
				 (unsigned long long)o->region, (unsigned long long)o->offset, path,
				 (unsigned long long)in->size);
	b->nblocks = o->region / o->bs;
	if (!b->nblocks)
		return bench_err(o, -EINVAL, "size %llu is smaller than one block of %u bytes",
				 (unsigned long long)o->region, o->bs);
	if (bench_writes(o->rw) && in->read_only)
		return bench_err(o, -EBADF, "%s is read-only", path);
	return 0;
}

/* Write the region once with random data, so reads find real blocks (fio's layout). */
static int bench_fill(struct bench *b)
{
	const struct rawio_bench_opts *o = &b->o;
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 1 };
	struct rawio_engine *e = NULL;
	uint64_t chunk = BENCH_FILL_CHUNK, rng = bench_mix64(o->seed) | 1, end;
	char *buf = NULL;
	int ret;

	if (b->info->offset_align > 1)
		chunk -= chunk % b->info->offset_align;
	if (chunk < o->bs)
		chunk = o->bs;
	buf = rawio_dev_buf_alloc(b->dev, chunk);
	if (!buf)
		return bench_err(o, -ENOMEM, "out of memory");
	ret = rawio_engine_open(&e,
				b->info->kind == RAWIO_DEV_MEM	 ? "mem"
				: b->info->kind == RAWIO_DEV_NBD ? "nbd"
								 : "sync",
				b->dev, &eo);
	if (ret) {
		bench_err(o, ret, "filling: %s", rawio_strerror(ret));
		goto out_free;
	}
	end = o->offset + b->nblocks * o->bs;
	for (uint64_t off = o->offset; off < end; off += chunk) {
		struct rawio_req r = { .op = RAWIO_OP_WRITE, .buf = buf, .off = off };
		int64_t n;

		r.len = end - off < chunk ? end - off : chunk;
		bench_fill_buf(buf, r.len, rng_xorshift(&rng));
		n = rawio_engine_run1(e, &r);
		if (n != (int64_t)r.len) {
			ret = n < 0 ? (int)n : -EIO;
			bench_err(o, ret, "filling: write at offset %llu: %s",
				  (unsigned long long)off, rawio_strerror(ret));
			goto out_close;
		}
	}
	ret = 0;
out_close:
	rawio_engine_close(e);
out_free:
	rawio_buf_free(buf);
	return ret;
}

static uint64_t bench_jobs_completed(struct bench *b)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < b->nr_jobs; i++)
		n += __atomic_load_n(&b->jobs[i].progress_ios, __ATOMIC_RELAXED);
	return n;
}

static unsigned bench_jobs_running(struct bench *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->nr_jobs; i++)
		n += !__atomic_load_n(&b->jobs[i].done_flag, __ATOMIC_ACQUIRE);
	return n;
}

/* Call the progress callback every progress_ms until the jobs are done. */
static void bench_watch(struct bench *b)
{
	const struct rawio_bench_opts *o = &b->o;
	uint64_t next = b->t0 + (uint64_t)o->progress_ms * 1000000, last_t = b->t0, last_n = 0;
	struct timespec tick = { 0, 20 * 1000000 };

	if (o->progress_ms < 20)
		tick.tv_nsec = (long)o->progress_ms * 1000000;
	for (;;) {
		struct rawio_bench_progress p = { 0 };
		unsigned running = bench_jobs_running(b);
		uint64_t now;

		if (!running)
			return;
		nanosleep(&tick, NULL);
		now = rawio_now_ns();
		if (now < next)
			continue;
		next = now + (uint64_t)o->progress_ms * 1000000;
		p.jobs_running = running;
		p.elapsed_ns = now - b->t0;
		p.ramping = now < b->t_measure;
		p.total_ns = b->time_based ? o->ramp_ns + o->runtime_ns : 0;
		p.ios = bench_jobs_completed(b);
		p.ios_total = b->time_based ? 0 : b->nblocks * b->nr_jobs;
		p.iops = (double)(p.ios - last_n) * 1e9 / (double)(now - last_t);
		last_n = p.ios;
		last_t = now;
		o->progress(o->progress_arg, &p);
	}
}

void bench_lat_summary(struct rawio_bench_lat *l, const struct rawio_hist *h)
{
	memset(l, 0, sizeof(*l));
	l->count = h->count;
	if (!h->count)
		return;
	l->min = h->min;
	l->max = h->max;
	l->mean = rawio_hist_mean(h);
	l->stdev = rawio_hist_stdev(h);
	l->p50 = rawio_hist_percentile(h, 50);
	l->p90 = rawio_hist_percentile(h, 90);
	l->p99 = rawio_hist_percentile(h, 99);
	l->p999 = rawio_hist_percentile(h, 99.9);
	l->p9999 = rawio_hist_percentile(h, 99.99);
}

static uint64_t bench_tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

const char *rawio_bench_phase_name(enum rawio_bench_phase ph)
{
	static const char *const names[RAWIO_BENCH_PHASE_NR] = { "Q2G", "G2D", "D2C", "C2R",
								 "Q2R" };

	return (unsigned)ph < RAWIO_BENCH_PHASE_NR ? names[ph] : "?";
}

/* Phases and hardware queues of a RAM device into RES; SCRATCH is one histogram. */
static void bench_collect_mem(struct bench *b, struct rawio_bench_result *res,
			      struct rawio_hist *scratch)
{
	uint64_t most = 0, sum = 0;

	res->phases = b->o.phases;
	for (unsigned k = 0; b->o.phases && k < RAWIO_BENCH_PHASE_NR; k++) {
		rawio_hist_reset(scratch);
		for (unsigned i = 0; i < b->nr_jobs; i++)
			if (b->jobs[i].phase)
				rawio_hist_merge(scratch, &b->jobs[i].phase[k]);
		bench_lat_summary(&res->phase[k], scratch);
	}
	res->nr_queues = b->nr_queues;
	for (unsigned i = 0; i < b->nr_queues; i++) {
		res->queues[i] = b->queues[i];
		sum += b->queues[i].completed;
		if (b->queues[i].completed > most)
			most = b->queues[i].completed;
	}
	if (sum)
		res->queue_imbalance = (double)most * b->nr_queues / (double)sum;
}

/* Fold the jobs into RES. HIST is scratch: BENCH_NR_LAT x (dirs + 1). */
static void bench_collect(struct bench *b, struct rawio_bench_result *res,
			  struct rawio_hist (*hist)[RAWIO_BENCH_DIR_NR + 1])
{
	uint64_t syscalls, last = 0, committed = 0, reaped = 0;
	double secs;

	for (unsigned k = 0; k < BENCH_NR_LAT; k++)
		for (unsigned d = 0; d <= RAWIO_BENCH_DIR_NR; d++)
			rawio_hist_reset(&hist[k][d]);
	for (unsigned i = 0; i < b->nr_jobs; i++) {
		struct bench_job *j = &b->jobs[i];

		for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++) {
			res->dir[d].ios += j->ios[d];
			res->dir[d].bytes += j->bytes[d];
			for (unsigned k = 0; k < BENCH_NR_LAT; k++) {
				rawio_hist_merge(&hist[k][d], &j->hist[k][d]);
				rawio_hist_merge(&hist[k][RAWIO_BENCH_DIR_NR], &j->hist[k][d]);
			}
		}
		if (j->measured) {
			res->cpu_user_ns +=
				bench_tv_ns(&j->ru1.ru_utime) - bench_tv_ns(&j->ru0.ru_utime);
			res->cpu_sys_ns +=
				bench_tv_ns(&j->ru1.ru_stime) - bench_tv_ns(&j->ru0.ru_stime);
			res->ctx_voluntary += (uint64_t)(j->ru1.ru_nvcsw - j->ru0.ru_nvcsw);
			res->ctx_involuntary += (uint64_t)(j->ru1.ru_nivcsw - j->ru0.ru_nivcsw);
			res->submit_calls += j->st1.submit_calls - j->st0.submit_calls;
			res->reap_calls += j->st1.reap_calls - j->st0.reap_calls;
			res->user_reaps += j->st1.user_reaps - j->st0.user_reaps;
			res->busy += j->st1.busy - j->st0.busy;
			res->resubmits += j->st1.resubmits - j->st0.resubmits;
		}
		res->commits += j->commits;
		committed += j->committed;
		res->reaps += j->reaps;
		reaped += j->reaped;
		if (j->last_complete_ns > last)
			last = j->last_complete_ns;
	}
	if (b->time_based)
		res->elapsed_ns = b->t_end - b->t_measure;
	else
		res->elapsed_ns = last > b->t_measure ? last - b->t_measure : 1;
	secs = (double)res->elapsed_ns / 1e9;
	for (unsigned d = 0; d < RAWIO_BENCH_DIR_NR; d++) {
		struct rawio_bench_dir_result *dr = &res->dir[d];

		dr->iops = (double)dr->ios / secs;
		dr->mbps = (double)dr->bytes / secs / 1e6;
		bench_lat_summary(&dr->slat, &hist[BENCH_SLAT][d]);
		bench_lat_summary(&dr->clat, &hist[BENCH_CLAT][d]);
		bench_lat_summary(&dr->lat, &hist[BENCH_LAT][d]);
		res->ios += dr->ios;
		res->bytes += dr->bytes;
	}
	bench_lat_summary(&res->slat, &hist[BENCH_SLAT][RAWIO_BENCH_DIR_NR]);
	bench_lat_summary(&res->clat, &hist[BENCH_CLAT][RAWIO_BENCH_DIR_NR]);
	bench_lat_summary(&res->lat, &hist[BENCH_LAT][RAWIO_BENCH_DIR_NR]);
	res->iops = (double)res->ios / secs;
	res->mbps = (double)res->bytes / secs / 1e6;
	if (res->ios)
		res->cpu_ns_per_io =
			(double)(res->cpu_user_ns + res->cpu_sys_ns) / (double)res->ios;
	res->cpu_util = (double)(res->cpu_user_ns + res->cpu_sys_ns) /
			((double)res->elapsed_ns * b->nr_jobs);
	syscalls = res->submit_calls + res->reap_calls;
	if (syscalls)
		res->ios_per_syscall = (double)res->ios / (double)syscalls;
	if (res->commits)
		res->ios_per_commit = (double)committed / (double)res->commits;
	if (res->reaps)
		res->ios_per_reap = (double)reaped / (double)res->reaps;
	snprintf(res->engine_desc, sizeof(res->engine_desc), "%s", b->jobs[0].engine_desc);
	bench_collect_mem(b, res, hist[0]);
}

/* The first job error, into errbuf; 0 if none. */
static int bench_job_error(struct bench *b)
{
	for (unsigned i = 0; i < b->nr_jobs; i++)
		if (b->jobs[i].err)
			return b->nr_jobs > 1
				       ? bench_err(&b->o, b->jobs[i].err, "job %u: %s", i,
						   b->jobs[i].errmsg)
				       : bench_err(&b->o, b->jobs[i].err, "%s", b->jobs[i].errmsg);
	return 0;
}

/*
 * Start the jobs and let them go together once all are set up (engine open,
 * buffers filled), so the clock starts for all at once; wait for them.
 * Returns 0 or the first error (errbuf says which).
 */
static int bench_start(struct bench *b)
{
	const struct rawio_bench_opts *o = &b->o;
	unsigned started = 0;
	int ret = 0;

	b->jobs = calloc(b->nr_jobs, sizeof(*b->jobs));
	if (!b->jobs)
		return bench_err(o, -ENOMEM, "out of memory");
	pthread_mutex_lock(&b->lock);
	for (; started < b->nr_jobs; started++) {
		struct bench_job *j = &b->jobs[started];

		j->b = b;
		j->id = started;
		ret = pthread_create(&j->thread, NULL, bench_job_main, j);
		if (ret) {
			ret = bench_err(o, -ret, "starting job %u: %s", started,
					rawio_strerror(ret));
			break;
		}
	}
	while (b->ready < started)
		pthread_cond_wait(&b->cond, &b->lock);
	if (!ret)
		ret = bench_job_error(b);
	b->t0 = rawio_now_ns();
	b->t_measure = b->time_based ? b->t0 + o->ramp_ns : b->t0;
	b->t_end = b->time_based ? b->t_measure + o->runtime_ns : UINT64_MAX;
	b->go = ret ? -1 : 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);

	if (!ret && o->progress)
		bench_watch(b);
	for (unsigned i = 0; i < started; i++)
		pthread_join(b->jobs[i].thread, NULL);
	if (!ret)
		ret = bench_job_error(b);
	return ret;
}

int rawio_bench_run(const struct rawio_bench_opts *opts, struct rawio_bench_result *res)
{
	struct rawio_hist(*hist)[RAWIO_BENCH_DIR_NR + 1] = NULL;
	struct bench *b;
	FILE *log = NULL;
	bool grown;
	int ret;

	if (!res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	ret = bench_opts_check(b, opts);
	if (ret)
		goto out_free;
	ret = bench_open(b, &grown);
	if (ret)
		goto out_close;
	hist = calloc(BENCH_NR_LAT, sizeof(*hist));
	if (!hist) {
		ret = bench_err(&b->o, -ENOMEM, "out of memory");
		goto out_close;
	}
	if (b->o.lat_log) {
		log = fopen(b->o.lat_log, "w");
		if (!log) {
			ret = bench_err(&b->o, -errno, "%s: %s", b->o.lat_log,
					rawio_strerror(errno));
			goto out_close;
		}
	}
	if (b->o.fill && (grown || b->o.fill_always)) {
		ret = bench_fill(b);
		if (ret)
			goto out_log;
		res->filled = true;
	}

	if (b->o.nr_classes) {
		ret = bench_classes_run(b, res);
		if (ret)
			goto out_log;
		snprintf(res->path, sizeof(res->path), "%s", b->info->path);
		snprintf(res->engine, sizeof(res->engine), "%s", b->engine);
		snprintf(res->engine_why, sizeof(res->engine_why), "%s", b->choice.why);
		res->bs = b->o.bs;
		res->region = b->o.region;
		res->seed = b->o.seed;
		goto out_log;
	}
	b->nr_queues = rawio_dev_mem_nr_queues(b->dev);
	if (b->nr_queues) {
		b->queues = calloc(b->nr_queues, sizeof(*b->queues));
		if (!b->queues) {
			ret = bench_err(&b->o, -ENOMEM, "out of memory");
			goto out_log;
		}
	}
	b->nr_jobs = b->o.jobs;
	ret = bench_start(b);
	if (ret)
		goto out_jobs;
	bench_collect(b, res, hist);
	snprintf(res->path, sizeof(res->path), "%s", b->info->path);
	res->bs = b->o.bs;
	res->qd = b->jobs[0].qd;
	res->jobs = b->nr_jobs;
	res->region = b->nblocks * b->o.bs;
	snprintf(res->engine, sizeof(res->engine), "%s", b->engine);
	snprintf(res->engine_why, sizeof(res->engine_why), "%s", b->choice.why);
	res->rwmix_read = b->o.rw == RAWIO_BENCH_RANDRW ? b->o.rwmix_read
			  : b->o.rw == RAWIO_BENCH_READ || b->o.rw == RAWIO_BENCH_RANDREAD ? 100
											   : 0;
	res->submit_batch = b->o.submit_batch;
	res->complete_min = b->o.complete_min;
	res->complete_max = b->o.complete_max;
	res->seed = b->o.seed;
	if (log) {
		struct bench_latlog *logs = calloc(b->nr_jobs, sizeof(*logs));
		int64_t lines;

		if (!logs) {
			ret = bench_err(&b->o, -ENOMEM, "out of memory");
			goto out_jobs;
		}
		for (unsigned i = 0; i < b->nr_jobs; i++)
			logs[i] = b->jobs[i].latlog;
		lines = bench_latlog_write(log, logs, b->nr_jobs);
		free(logs);
		if (lines < 0) {
			ret = bench_err(&b->o, (int)lines, "%s: %s", b->o.lat_log,
					rawio_strerror((int)lines));
			goto out_jobs;
		}
		res->lat_log_lines = (uint64_t)lines;
	}

out_jobs:
	if (b->jobs)
		for (unsigned i = 0; i < b->nr_jobs; i++) {
			bench_latlog_free(&b->jobs[i].latlog);
			free(b->jobs[i].phase);
		}
	free(b->jobs);
out_log:
	if (log && fclose(log) && !ret)
		ret = bench_err(&b->o, -errno, "%s: %s", b->o.lat_log, rawio_strerror(errno));
out_close:
	free(b->queues);
	free(hist);
	if (b->dev != b->o.dev)
		rawio_dev_close(b->dev);
out_free:
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return ret;
}
