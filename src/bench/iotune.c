// SPDX-License-Identifier: MIT
/*
 * iotune: Seastar's apps/iotune over rawio_bench_run. Each phase is one bench
 * run; its progress callback (every sample period) gives the IOPS of the last
 * period, which are the samples the rates and their deviation come from.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawio/bench.h>
#include <rawio/fsqual.h>
#include <rawio/rawio.h>
#include <rawio/sched.h>

#include "util/errbuf.h"

#define IOTUNE_DURATION_NS (30ull * 1000000000ull)
#define IOTUNE_REGION	   (256ull << 20)
#define IOTUNE_MAX_QD	   64u
#define IOTUNE_SEQ_BS	   (1u << 20)
#define IOTUNE_SEQ_QD	   8u
#define IOTUNE_RAND_BS	   4096u
#define IOTUNE_FSQUAL_IOS  200u
#define IOTUNE_MAX_SAMPLES 4096u
#define IOTUNE_LEN_MIN	   (128u << 10) /* the length sweep: 128 KiB .. 1 MiB */
#define IOTUNE_LEN_STEPS   RAWIO_IOTUNE_LEN_STEPS
/* The best rate is taken over windows of at least this many queue depths of completions. */
#define IOTUNE_WINDOW_QDS 16u

struct iotune {
	const struct rawio_iotune_opts *o;
	struct rawio_iotune_result *res;
	const char *path; /* what bench opens */
	const char *engine;
	uint64_t region;
	uint64_t total_ns, planned_ns; /* planned time of the run, and of phases before this one */
	uint64_t phase_ns;
	const char *phase;
	bool bandwidth;
	uint32_t bs;
	double samples[IOTUNE_MAX_SAMPLES];
	uint64_t sample_ios[IOTUNE_MAX_SAMPLES], sample_ns[IOTUNE_MAX_SAMPLES];
	unsigned nr_samples;
	uint64_t last_ios, last_ns; /* the previous progress call's */
};

static void iotune_sample(void *arg, const struct rawio_bench_progress *p)
{
	struct iotune *t = arg;
	struct rawio_iotune_progress pr = { .phase = t->phase, .bandwidth = t->bandwidth };
	double v = t->bandwidth ? p->iops * t->bs : p->iops;

	if (!p->ramping && t->nr_samples < IOTUNE_MAX_SAMPLES && p->elapsed_ns) {
		t->sample_ios[t->nr_samples] = p->ios - t->last_ios;
		t->sample_ns[t->nr_samples] = p->elapsed_ns - t->last_ns;
		t->samples[t->nr_samples++] = v;
	}
	t->last_ios = p->ios;
	t->last_ns = p->elapsed_ns;
	if (t->o->progress) {
		uint64_t in_phase = p->elapsed_ns < t->phase_ns ? p->elapsed_ns : t->phase_ns;

		pr.done = (double)(t->planned_ns + in_phase) / (double)t->total_ns;
		pr.value = v;
		t->o->progress(t->o->arg, &pr);
	}
}

/*
 * The best rate of the phase's samples (requests or bytes per second): over
 * windows of consecutive samples that hold at least IOTUNE_WINDOW_QDS x QD
 * completions, the whole phase when none does. A sample counts what its
 * thread reaped: one that comes back late finds up to QD completions that the
 * disk finished before the sample began, so a short sample (a few requests of
 * 1 MiB, or 360 ms of a short phase) can read well above the disk; in a window
 * of 16 depths that is at most 1/16. (The best single sample can read over 10%
 * high: at 19.6 requests of 1 MiB a second, a 360 ms sample holds 7 or 8.)
 */
static double iotune_best(const struct iotune *t, unsigned qd)
{
	uint64_t min_ios = (uint64_t)IOTUNE_WINDOW_QDS * qd, all_ios = 0, all_ns = 0;
	double best = 0, scale = t->bandwidth ? t->bs : 1;

	for (unsigned i = 0; i < t->nr_samples; i++) {
		uint64_t ios = 0, ns = 0;

		all_ios += t->sample_ios[i];
		all_ns += t->sample_ns[i];
		for (unsigned j = i; j < t->nr_samples && ios < min_ios; j++) {
			ios += t->sample_ios[j];
			ns += t->sample_ns[j];
		}
		if (ios < min_ios || !ns)
			continue;
		if ((double)ios * 1e9 / (double)ns * scale > best)
			best = (double)ios * 1e9 / (double)ns * scale;
	}
	if (best == 0 && all_ns)
		best = (double)all_ios * 1e9 / (double)all_ns * scale;
	return best;
}

/* One phase: RW at BS and QD for NS (0: one pass). Fills RATE (may be NULL). */
static int iotune_phase(struct iotune *t, const char *name, enum rawio_bench_rw rw, uint32_t bs,
			unsigned qd, uint64_t ns, struct rawio_iotune_rate *rate,
			struct rawio_bench_result *br)
{
	const struct rawio_iotune_opts *o = t->o;
	struct rawio_bench_opts bo = { .size = sizeof(bo) };
	double sum = 0, sq = 0;
	int ret;

	bo.engine = t->engine;
	bo.engine_opts = o->engine_opts;
	bo.path = t->path;
	bo.rw = rw;
	bo.bs = bs;
	bo.qd = qd;
	bo.region = t->region;
	bo.runtime_ns = ns;
	bo.ramp_ns = ns / 10; /* samples of the first tenth are dropped, as iotune's warm-up */
	bo.dev_flags = RAWIO_DEV_CREATE;
	bo.progress = iotune_sample;
	bo.progress_arg = t;
	/* 1-second samples, a fifth of a short phase. */
	bo.progress_ms = ns && ns < 5000000000ull ? (unsigned)(ns / 5000000) : 1000;
	if (!bo.progress_ms)
		bo.progress_ms = 1;
	bo.errbuf = o->errbuf;
	bo.errbuf_len = o->errbuf_len;
	t->phase = name;
	t->phase_ns = ns;
	t->bandwidth = rw == RAWIO_BENCH_READ || rw == RAWIO_BENCH_WRITE;
	t->bs = bs;
	t->nr_samples = 0;
	t->last_ios = t->last_ns = 0;
	ret = rawio_bench_run(&bo, br);
	t->planned_ns += ns;
	if (!ret)
		snprintf(t->res->engine, sizeof(t->res->engine), "%s", br->engine);
	if (ret || !rate)
		return ret;
	/* The last sample may cover a partial period: drop it when there are others. */
	if (t->nr_samples > 2)
		t->nr_samples--;
	for (unsigned i = 0; i < t->nr_samples; i++)
		sum += t->samples[i];
	memset(rate, 0, sizeof(*rate));
	rate->qd = qd;
	rate->bs = bs;
	rate->lat_p50_ns = br->lat.p50;
	rate->lat_p99_ns = br->lat.p99;
	if (!t->nr_samples) {
		/* Too short for a sample: the whole window is one. */
		rate->mean = rate->max = t->bandwidth ? br->iops * bs : br->iops;
		rate->samples = 1;
		return 0;
	}
	rate->mean = sum / t->nr_samples;
	for (unsigned i = 0; i < t->nr_samples; i++)
		sq += (t->samples[i] - rate->mean) * (t->samples[i] - rate->mean);
	rate->max = iotune_best(t, qd);
	rate->stdev = t->nr_samples > 1 ? sqrt(sq / (t->nr_samples - 1)) : 0;
	rate->samples = t->nr_samples;
	return 0;
}

/* fsqual's quick check on DIR: which rows stall the submitter. */
static int iotune_fsqual(struct iotune *t, const char *dir)
{
	struct rawio_fsqual_opts fo = { .size = sizeof(fo), .ios = IOTUNE_FSQUAL_IOS };
	struct rawio_iotune_result *res = t->res;
	struct rawio_fsqual_report *rep;
	size_t used = 0;
	int ret;

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	fo.errbuf = t->o->errbuf;
	fo.errbuf_len = t->o->errbuf_len;
	ret = rawio_fsqual_run(dir, &fo, rep);
	if (ret)
		goto out;
	res->fsqual_ran = true;
	if (rep->meaningless) {
		snprintf(res->fsqual_warning, sizeof(res->fsqual_warning),
			 "%s: O_DIRECT never blocks here (tmpfs): the numbers say nothing about a "
			 "disk",
			 rep->fs_type);
		goto out;
	}
	for (unsigned i = 0; i < rep->nr_rows; i++) {
		char desc[128];
		int n;

		if (rep->rows[i].verdict != RAWIO_FSQUAL_BAD)
			continue;
		res->fsqual_bad++;
		rawio_fsqual_row_describe(&rep->rows[i], desc, sizeof(desc));
		if (used >= sizeof(res->fsqual_warning) - 1)
			continue;
		n = snprintf(res->fsqual_warning + used, sizeof(res->fsqual_warning) - used, "%s%s",
			     used ? "; " : "", desc);
		if (n > 0)
			used += (size_t)n;
	}
out:
	free(rep);
	return ret;
}

/*
 * The saturation length of direction RW (Seastar's read/write_saturation_length):
 * sequential requests of 128 .. 512 KiB at depth 8, NS in all, and the 1 MiB phase's
 * rate; the shortest whose bandwidth (bytes over the measured window) is within 10% of
 * the best. Longer requests only hold the disk longer. (Not below 128 KiB: the
 * scheduler never splits below 64 KiB, and every step costs a phase.)
 */
static int iotune_sat_len(struct iotune *t, enum rawio_bench_rw rw, uint64_t ns,
			  struct rawio_bench_result *br, uint64_t *out)
{
	double bw[IOTUNE_LEN_STEPS], best = 0;
	int ret;

	*out = 0;
	for (unsigned i = 0; i < IOTUNE_LEN_STEPS; i++) {
		if (i == IOTUNE_LEN_STEPS - 1) {
			/* 1 MiB: the sequential phase measured it. */
			bw[i] = rw == RAWIO_BENCH_READ ? t->res->seq_read.mean
						       : t->res->seq_write.mean;
			t->res->lengths[rw == RAWIO_BENCH_WRITE][i] = bw[i];
			if (bw[i] > best)
				best = bw[i];
			break;
		}
		ret = iotune_phase(t, rw == RAWIO_BENCH_READ ? "read length" : "write length", rw,
				   IOTUNE_LEN_MIN << i, IOTUNE_SEQ_QD, ns / (IOTUNE_LEN_STEPS - 1),
				   NULL, br);
		if (ret)
			return ret;
		bw[i] = br->elapsed_ns ? (double)br->bytes * 1e9 / (double)br->elapsed_ns : 0;
		t->res->lengths[rw == RAWIO_BENCH_WRITE][i] = bw[i];
		if (bw[i] > best)
			best = bw[i];
	}
	for (unsigned i = 0; i < IOTUNE_LEN_STEPS; i++)
		if (best > 0 && bw[i] >= 0.9 * best) {
			*out = (uint64_t)IOTUNE_LEN_MIN << i;
			break;
		}
	return 0;
}

/* The physical block size of what PATH is on (0: unknown). */
static uint64_t iotune_pbs(const char *path)
{
	struct rawio_dev_opts o = { .size = sizeof(o), .flags = RAWIO_DEV_RDONLY };
	struct rawio_dev *dev;
	uint64_t pbs;

	if (rawio_dev_open(&dev, path, &o))
		return 0;
	pbs = rawio_dev_info(dev)->physical_block_size;
	rawio_dev_close(dev);
	return pbs;
}

int rawio_iotune_run(const char *path, const struct rawio_iotune_opts *opts,
		     struct rawio_iotune_result *res)
{
	struct rawio_iotune_opts o = { .size = sizeof(o) };
	struct rawio_bench_result *br = NULL;
	struct iotune t = { 0 };
	char file[4200] = "";
	uint64_t d, t0 = rawio_now_ns();
	struct stat st;
	bool is_dir = false;
	int ret;

	memset(res, 0, sizeof(*res));
	if (opts) {
		if (opts->size < offsetof(struct rawio_iotune_opts, errbuf))
			return -EINVAL;
		memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	}
	if (!path)
		return -EINVAL;
	if (!o.duration_ns)
		o.duration_ns = IOTUNE_DURATION_NS;
	if (!o.max_qd)
		o.max_qd = IOTUNE_MAX_QD;
	t.o = &o;
	t.res = res;
	t.region = o.region ? o.region : IOTUNE_REGION;
	t.engine = o.engine ? o.engine : "auto";
	snprintf(res->engine, sizeof(res->engine), "%s", t.engine);
	snprintf(res->props.mountpoint, sizeof(res->props.mountpoint), "%s", path);

	if (strncmp(path, "mem:", 4)) {
		if (stat(path, &st)) {
			ret = -errno;
			errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
			return ret;
		}
		is_dir = S_ISDIR(st.st_mode);
		if (S_ISBLK(st.st_mode) && !o.write_device) {
			errbuf_set(o.errbuf, o.errbuf_len,
				   "%s is a block device: measuring writes destroys its contents "
				   "(--write-device to go ahead)",
				   path);
			return -EPERM;
		}
		if (!is_dir && !S_ISBLK(st.st_mode)) {
			errbuf_set(o.errbuf, o.errbuf_len,
				   "%s is neither a directory nor a block device", path);
			return -ENOTBLK;
		}
	}
	if (is_dir && !o.skip_fsqual) {
		ret = iotune_fsqual(&t, path);
		if (ret)
			return ret;
	}
	if (is_dir) {
		snprintf(file, sizeof(file), "%s/.rawio-iotune.%d", path, (int)getpid());
		t.path = file;
	} else {
		t.path = path;
	}
	br = calloc(1, sizeof(*br));
	if (!br) {
		ret = -ENOMEM;
		goto out;
	}

	/* Planned time: 15% each for the sequential and random phases, 20% for the depth sweep,
	 * 10% each for the request-length sweeps. */
	d = o.duration_ns;
	t.total_ns = d;
	ret = iotune_phase(&t, "warm-up", RAWIO_BENCH_WRITE, IOTUNE_SEQ_BS, IOTUNE_SEQ_QD, 0, NULL,
			   br);
	t.planned_ns = 0;
	if (!ret)
		ret = iotune_phase(&t, "seq write", RAWIO_BENCH_WRITE, IOTUNE_SEQ_BS, IOTUNE_SEQ_QD,
				   d * 3 / 20, &res->seq_write, br);
	if (!ret)
		ret = iotune_phase(&t, "seq read", RAWIO_BENCH_READ, IOTUNE_SEQ_BS, IOTUNE_SEQ_QD,
				   d * 3 / 20, &res->seq_read, br);
	if (!ret)
		ret = iotune_phase(&t, "rand write", RAWIO_BENCH_RANDWRITE, IOTUNE_RAND_BS,
				   o.max_qd, d * 3 / 20, &res->rand_write, br);
	if (!ret)
		ret = iotune_phase(&t, "rand read", RAWIO_BENCH_RANDREAD, IOTUNE_RAND_BS, o.max_qd,
				   d * 3 / 20, &res->rand_read, br);
	if (ret)
		goto out;

	/* Depth sweep: 1, 2, 4, ... max_qd. */
	{
		unsigned steps = 0;
		uint64_t step_ns;
		double best = 0;

		for (unsigned qd = 1; qd <= o.max_qd && steps < RAWIO_IOTUNE_SWEEP_MAX; qd *= 2)
			steps++;
		step_ns = d / 5 / steps;
		res->saturation_qd = 1;
		for (unsigned qd = 1, i = 0; i < steps; qd *= 2, i++) {
			struct rawio_iotune_rate r;

			ret = iotune_phase(&t, "depth sweep", RAWIO_BENCH_RANDREAD, IOTUNE_RAND_BS,
					   qd, step_ns, &r, br);
			if (ret)
				goto out;
			res->sweep[i].qd = qd;
			res->sweep[i].iops = r.mean;
			res->sweep[i].lat_p50_ns = r.lat_p50_ns;
			res->sweep[i].lat_p99_ns = r.lat_p99_ns;
			res->nr_sweep = i + 1;
		}
		/* The shallowest depth within 10% of the best: deeper only adds latency. */
		for (unsigned i = 0; i < res->nr_sweep; i++)
			if (res->sweep[i].iops > best)
				best = res->sweep[i].iops;
		for (unsigned i = 0; i < res->nr_sweep; i++)
			if (res->sweep[i].iops >= 0.9 * best) {
				res->saturation_qd = res->sweep[i].qd;
				break;
			}
	}
	ret = iotune_sat_len(&t, RAWIO_BENCH_WRITE, d / 10, br,
			     &res->props.write_saturation_length);
	if (!ret)
		ret = iotune_sat_len(&t, RAWIO_BENCH_READ, d / 10, br,
				     &res->props.read_saturation_length);
	if (ret)
		goto out;
	res->props.physical_block_size = iotune_pbs(t.path);
	/*
	 * The disk's capacity is its best window (iotune_best), not the mean: what is not
	 * the disk (this process waiting for a CPU on a loaded machine; docs/perf.md, "Disk
	 * I/O scheduler") lowers a window, and raises one by at most 1/16; a model below the
	 * disk makes the scheduler, not the disk, set the pace.
	 */
	res->props.read_iops = (uint64_t)(res->rand_read.max + 0.5);
	res->props.write_iops = (uint64_t)(res->rand_write.max + 0.5);
	res->props.read_bandwidth = (uint64_t)(res->seq_read.max + 0.5);
	res->props.write_bandwidth = (uint64_t)(res->seq_write.max + 0.5);
	if (!res->props.read_iops || !res->props.write_iops || !res->props.read_bandwidth ||
	    !res->props.write_bandwidth) {
		errbuf_set(o.errbuf, o.errbuf_len, "%s: a rate measured zero", path);
		ret = -EIO;
	}
out:
	if (file[0])
		unlink(file);
	free(br);
	res->elapsed_ns = rawio_now_ns() - t0;
	return ret;
}
