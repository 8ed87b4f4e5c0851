// SPDX-License-Identifier: MIT
/*
 * Live runs: the waits of the engine, measured the way the simulator models
 * them (queue depth 1, one thread, thread CPU from getrusage), and the
 * calibration of the model's parameters from such runs on the mem engine.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rawio/rawio.h>
#include <rawio/pollsim.h>

#include "util/errbuf.h"
#include "util/hist.h"
#include "util/rng.h"
#include "util/sort.h"

#define LIVE_DEFAULT_IOS   10000u
#define LIVE_DEFAULT_BS	   4096u
#define LIVE_MEM_SIZE	   (16ull << 20)
#define LIVE_MAX_REGION	   (1ull << 30)
#define CAL_DEFAULT_IOS	   2000u
#define CAL_SPIN_LAT_NS	   20000u
#define CAL_SPIN_RUNS	   3u
#define CAL_MAX_ROWS	   16u
#define CAL_STEP_BUDGET_NS (1000000000ull) /* at most about a second per ladder step */

static int live_err(const struct rawio_pollsim_live_opts *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int live_err(const struct rawio_pollsim_live_opts *o, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(o->errbuf, o->errbuf_len, fmt, ap);
	va_end(ap);
	return err;
}

static uint64_t live_tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

static uint64_t live_thread_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return live_tv_ns(&ru.ru_utime) + live_tv_ns(&ru.ru_stime);
}

/* The I/O loop; LATS (optional, o->ios entries) receives every latency. */
static int live_loop(const struct rawio_pollsim_live_opts *o, struct rawio_engine *e, void *buf,
		     uint64_t region, uint64_t ios, struct rawio_pollsim_live_result *res,
		     struct rawio_hist *hist, uint64_t *lats)
{
	const struct rawio_poll_trace *t = o->trace;
	uint32_t bs = o->bs ? o->bs : LIVE_DEFAULT_BS;
	uint64_t rng = 0x6c697665ull, cpu0, cpu1, t0, t1, blocks;
	struct rawio_engine_stat st0, st1;
	double lat_sum = 0;

	blocks = region / 4096;
	rawio_engine_stat(e, &st0);
	cpu0 = live_thread_cpu_ns();
	t0 = rawio_now_ns();
	for (uint64_t i = 0; i < ios; i++) {
		struct rawio_req r = { .op = RAWIO_OP_READ, .buf = buf, .len = bs };
		struct rawio_req *done;
		int q, n;

		if (t) {
			const struct rawio_poll_io *io = &t->ios[i % t->nr];

			r.op = io->dir ? RAWIO_OP_WRITE : RAWIO_OP_READ;
			r.len = io->bytes < 512 ? 512 : (io->bytes + 511) / 512 * 512;
		}
		r.off = rng_xorshift(&rng) % blocks * 4096;
		if (r.off + r.len > region)
			r.off = 0;
		q = rawio_engine_queue(e, &r);
		if (q < 0)
			return live_err(o, q, "queue: %s", rawio_strerror(q));
		if (q == RAWIO_Q_BUSY)
			return live_err(o, -EIO,
					"queue: the engine is full with nothing in flight");
		if (q == RAWIO_Q_QUEUED) {
			n = rawio_engine_reap(e, &done, 1, 1);
			if (n < 0)
				return live_err(o, n, "reap: %s", rawio_strerror(n));
			if (n != 1)
				return live_err(o, -EIO, "reap returned nothing");
		}
		if (r.result != (int64_t)r.len)
			return live_err(o, r.result < 0 ? (int)r.result : -EIO,
					"%s of %llu bytes at %llu: %s", r.op ? "write" : "read",
					(unsigned long long)r.len, (unsigned long long)r.off,
					r.result < 0 ? rawio_strerror((int)r.result) : "short");
		rawio_hist_add(hist, r.complete_ns - r.submit_ns);
		lat_sum += (double)(r.complete_ns - r.submit_ns);
		if (lats)
			lats[i] = r.complete_ns - r.submit_ns;
	}
	t1 = rawio_now_ns();
	cpu1 = live_thread_cpu_ns();
	rawio_engine_stat(e, &st1);

	res->ios = ios;
	res->elapsed_ns = t1 > t0 ? t1 - t0 : 1;
	res->iops = (double)ios * 1e9 / (double)res->elapsed_ns;
	res->cpu_ns = cpu1 - cpu0;
	res->cpu = (double)res->cpu_ns / (double)res->elapsed_ns;
	res->kiops_core = res->cpu_ns ? (double)ios * 1e6 / (double)res->cpu_ns : 0;
	res->lat_mean_ns = lat_sum / (double)ios;
	res->lat_p50_ns = rawio_hist_percentile(hist, 50);
	res->lat_p99_ns = rawio_hist_percentile(hist, 99);
	res->st.queued = st1.queued - st0.queued;
	res->st.completed = st1.completed - st0.completed;
	res->st.resubmits = st1.resubmits - st0.resubmits;
	res->st.busy = st1.busy - st0.busy;
	res->st.submit_calls = st1.submit_calls - st0.submit_calls;
	res->st.reap_calls = st1.reap_calls - st0.reap_calls;
	res->st.user_reaps = st1.user_reaps - st0.user_reaps;
	res->st.waits = st1.waits - st0.waits;
	res->st.wait_ns = st1.wait_ns - st0.wait_ns;
	res->st.wait_cpu_ns = st1.wait_cpu_ns - st0.wait_cpu_ns;
	res->st.spin_ns = st1.spin_ns - st0.spin_ns;
	res->st.sleeps = st1.sleeps - st0.sleeps;
	res->st.sleep_ns = st1.sleep_ns - st0.sleep_ns;
	res->st.oversleeps = st1.oversleeps - st0.oversleeps;
	res->oversleep_rate = (double)res->st.oversleeps / (double)ios;
	return 0;
}

static int live_run(const struct rawio_pollsim_live_opts *opts,
		    struct rawio_pollsim_live_result *res, uint64_t *lats, uint64_t *ios_out)
{
	struct rawio_pollsim_live_opts o = { 0 };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 1 };
	struct rawio_dev_opts dopts = { .size = sizeof(dopts), .flags = RAWIO_DEV_RDONLY };
	struct rawio_engine *e = NULL;
	struct rawio_dev *dev = NULL;
	struct rawio_hist *hist = NULL;
	uint64_t *lat = NULL, ios, maxbytes, region;
	char err[256] = "";
	void *buf = NULL;
	bool mem;
	int ret;

	if (!opts || !res || opts->size < offsetof(struct rawio_pollsim_live_opts, errbuf))
		return -EINVAL;
	memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	memset(res, 0, sizeof(*res));
	if (!o.engine)
		o.engine = "mem";
	mem = !strcmp(o.engine, "mem");
	if (o.wait_mode >= RAWIO_WAIT_NR)
		return live_err(&o, -EINVAL, "unknown wait mode %u", o.wait_mode);
	if (o.trace && (!o.trace->nr || !o.trace->ios))
		return live_err(&o, -EINVAL, "the trace is empty");
	if (!mem && (o.trace || o.mem_lat_ns))
		return live_err(&o, -EINVAL, "a trace or a latency replays on the mem engine only");
	if (mem && o.path)
		return live_err(&o, -EINVAL, "the mem engine makes its own RAM device: no path");
	if (!mem && !o.path)
		return live_err(&o, -EINVAL, "the %s engine needs a file or device", o.engine);
	if (o.bs % 512 || o.bs > RAWIO_TRACE_MAX_BYTES)
		return live_err(&o, -EINVAL, "block size %u is not a multiple of 512 up to 1 GiB",
				o.bs);
	ios = o.ios ? o.ios : o.trace ? o.trace->nr : LIVE_DEFAULT_IOS;
	maxbytes = o.bs ? o.bs : LIVE_DEFAULT_BS;
	for (size_t i = 0; o.trace && i < o.trace->nr; i++)
		if (o.trace->ios[i].bytes > maxbytes)
			maxbytes = o.trace->ios[i].bytes;
	maxbytes = (maxbytes + 4095) / 4096 * 4096;

	if (mem) {
		region = LIVE_MEM_SIZE > 2 * maxbytes ? LIVE_MEM_SIZE : 2 * maxbytes;
		ret = rawio_dev_open_mem(&dev, region, 512);
		if (ret)
			return live_err(&o, ret, "RAM device of %llu bytes: %s",
					(unsigned long long)region, rawio_strerror(ret));
		eo.mem_flags = RAWIO_MEM_NULL;
		eo.mem_lat_ns = o.mem_lat_ns;
		if (o.trace) {
			lat = malloc(o.trace->nr * sizeof(*lat));
			if (!lat) {
				ret = live_err(&o, -ENOMEM, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < o.trace->nr; i++)
				lat[i] = o.trace->ios[i].lat_ns;
			eo.mem_lat = lat;
			eo.mem_lat_nr = o.trace->nr;
		}
	} else {
		dopts.errbuf = err;
		dopts.errbuf_len = sizeof(err);
		ret = rawio_dev_open(&dev, o.path, &dopts);
		if (ret)
			return live_err(&o, ret, "%s", err[0] ? err : rawio_strerror(ret));
		region = rawio_dev_info(dev)->size;
		if (region > LIVE_MAX_REGION)
			region = LIVE_MAX_REGION;
		if (region < maxbytes) {
			ret = live_err(&o, -EINVAL, "%s is smaller than one I/O", o.path);
			goto out;
		}
	}
	buf = rawio_dev_buf_alloc(dev, maxbytes);
	hist = malloc(sizeof(*hist));
	if (!buf || !hist) {
		ret = live_err(&o, -ENOMEM, "out of memory");
		goto out;
	}
	rawio_hist_reset(hist);
	eo.wait_mode = o.wait_mode;
	eo.wait_flags = o.wait_flags;
	eo.poll = o.poll;
	eo.uring_flags = o.uring_flags;
	if (!o.uring_flags && !strcmp(o.engine, "uring"))
		eo.uring_flags = RAWIO_URING_SINGLE_ISSUER | RAWIO_URING_DEFER_TASKRUN;
	ret = rawio_engine_open(&e, o.engine, dev, &eo);
	if (ret) {
		live_err(&o, ret, "engine %s: %s", o.engine, rawio_strerror(ret));
		goto out;
	}
	rawio_engine_describe(e, res->engine_desc, sizeof(res->engine_desc));
	if (ios_out)
		*ios_out = ios;
	ret = live_loop(&o, e, buf, region, ios, res, hist, lats);
out:
	rawio_engine_close(e);
	free(hist);
	rawio_buf_free(buf);
	free(lat);
	rawio_dev_close(dev);
	return ret;
}

int rawio_pollsim_live(const struct rawio_pollsim_live_opts *o,
		       struct rawio_pollsim_live_result *res)
{
	return live_run(o, res, NULL, NULL);
}

int rawio_pollsim_calibrate(struct rawio_pollsim_params *par, struct rawio_pollsim_wake *wake,
			    size_t nr, uint64_t ios, char *errbuf, size_t errlen)
{
	static const uint64_t ladder_us[CAL_MAX_ROWS] = { 1,  2,  3,  5,   7,	10,  15,  20,
							  30, 50, 70, 100, 150, 200, 300, 500 };
	struct rawio_pollsim_live_opts o = { .size = sizeof(o),
					     .errbuf = errbuf,
					     .errbuf_len = errlen };
	struct rawio_pollsim_live_result r;
	uint64_t *lats = NULL, cost_sum = 0, spin_ios;
	uint64_t io[CAL_SPIN_RUNS], poll[CAL_SPIN_RUNS], pre[CAL_SPIN_RUNS];
	struct rawio_poll_cfg fixed = { .rule = RAWIO_POLL_FIXED, .ratio = 100 };
	bool defaults = true;
	int ret;

	if (!par || !wake || !nr || nr > CAL_MAX_ROWS)
		return -EINVAL;
	for (size_t i = 0; i < nr; i++)
		defaults &= !wake[i].sleep_ns;
	for (size_t i = 0; defaults && i < nr; i++)
		wake[i].sleep_ns =
			ladder_us[nr == 1 ? 9 : i * (CAL_MAX_ROWS - 1) / (nr - 1)] * 1000;
	for (size_t i = 1; i < nr; i++)
		if (wake[i].sleep_ns <= wake[i - 1].sleep_ns)
			return -EINVAL;
	ios = ios ? ios : CAL_DEFAULT_IOS;
	spin_ios = 2 * ios;
	lats = malloc((spin_ios > ios ? spin_ios : ios) * sizeof(*lats));
	if (!lats)
		return -ENOMEM;

	/*
	 * io_ns: what an I/O costs outside its wait; poll_ns and preempt_ppm: how
	 * late a spinner sees a completion and how much of its time others take.
	 * Three spin runs, the median of each (one preempted burst moves a mean).
	 */
	o.wait_mode = RAWIO_WAIT_SPIN;
	o.mem_lat_ns = CAL_SPIN_LAT_NS;
	o.ios = spin_ios;
	for (unsigned k = 0; k < CAL_SPIN_RUNS; k++) {
		double cycle;

		ret = live_run(&o, &r, NULL, NULL);
		if (ret)
			goto out;
		cycle = (double)r.elapsed_ns / (double)r.ios;
		io[k] = cycle > r.lat_mean_ns ? (uint64_t)(cycle - r.lat_mean_ns) : 0;
		poll[k] = r.lat_mean_ns > CAL_SPIN_LAT_NS
				  ? (uint64_t)(r.lat_mean_ns - CAL_SPIN_LAT_NS)
				  : 0;
		pre[k] = r.cpu < 1 ? (uint64_t)((1 - r.cpu) * 1e6) : 0;
	}
	sort_u64(io, CAL_SPIN_RUNS);
	sort_u64(poll, CAL_SPIN_RUNS);
	sort_u64(pre, CAL_SPIN_RUNS);
	par->io_ns = io[CAL_SPIN_RUNS / 2];
	par->poll_ns = poll[CAL_SPIN_RUNS / 2];
	par->preempt_ppm = pre[CAL_SPIN_RUNS / 2];

	/*
	 * Each rung: the hybrid path itself, a fixed sleep of that length on a
	 * device twice as fast, so every I/O oversleeps and is seen when the
	 * thread wakes: latency - sleep is the wake-up delay, CPU - io_ns the
	 * sleep's cost.
	 */
	o.wait_mode = RAWIO_WAIT_HYBRID;
	o.poll = &fixed;
	for (size_t i = 0; i < nr; i++) {
		uint64_t lat = wake[i].sleep_ns, n = ios, cpu_io;

		if (n * lat > CAL_STEP_BUDGET_NS)
			n = CAL_STEP_BUDGET_NS / lat > 200 ? CAL_STEP_BUDGET_NS / lat : 200;
		fixed.fixed_ns = lat;
		o.mem_lat_ns = lat / 2 ? lat / 2 : 1;
		o.ios = n;
		ret = live_run(&o, &r, lats, NULL);
		if (ret)
			goto out;
		sort_u64(lats, n);
		for (unsigned q = 0; q < RAWIO_POLLSIM_WAKE_Q; q++) {
			uint64_t v = lats[(n * (2 * q + 1)) / (2 * RAWIO_POLLSIM_WAKE_Q)];

			wake[i].q[q] = v > lat ? v - lat : 0;
		}
		cpu_io = r.cpu_ns / n;
		wake[i].cpu_ns = cpu_io > par->io_ns ? cpu_io - par->io_ns : 1;
		cost_sum += wake[i].cpu_ns;
	}
	par->cs_ns = cost_sum / nr;
	par->irq_ns = 0;
	par->wake = wake;
	par->wake_nr = nr;
	par->wake_ns = wake[nr / 2].q[RAWIO_POLLSIM_WAKE_Q / 2];
out:
	free(lats);
	return ret;
}

/* The index of the run whose IOPS (or CPU) is the (NR / 2)-th smallest (of equal ones the first). */
static size_t live_median_at(const struct rawio_pollsim_live_result *runs, size_t nr, bool cpu)
{
	size_t k = nr / 2;

	for (size_t i = 0; i < nr; i++) {
		double v = cpu ? runs[i].cpu : runs[i].iops;
		size_t below = 0, same = 0;

		for (size_t j = 0; j < nr; j++) {
			double w = cpu ? runs[j].cpu : runs[j].iops;

			below += w < v;
			same += w == v;
		}
		if (below <= k && k < below + same)
			return i;
	}
	return k; /* only with NaNs, which compare with nothing */
}

int rawio_pollsim_live_median(const struct rawio_pollsim_live_result *runs, size_t nr,
			      struct rawio_pollsim_live_result *out)
{
	if (!nr)
		return -EINVAL;
	*out = runs[live_median_at(runs, nr, false)];
	out->cpu = runs[live_median_at(runs, nr, true)].cpu;
	out->kiops_core = out->iops / 1000 / out->cpu;
	return 0;
}
