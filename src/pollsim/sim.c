// SPDX-License-Identifier: MIT
/*
 * The hybrid-polling simulator (seed 001): replay recorded completion times
 * through the cost model in rawio/pollsim.h, with the same predictor the engine
 * runs, and search rule x ratio x period for the best configuration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/pollsim.h>

#include "util/hist.h"
#include "util/rng.h"

#define SIM_DEFAULT_IO_NS   1000u
#define SIM_DEFAULT_CS_NS   1500u
#define SIM_DEFAULT_IRQ_NS  1100u
#define SIM_DEFAULT_WAKE_NS 5000u
#define SIM_DEFAULT_SEED    0x706f6c6cu /* "poll" */
#define SIM_MAX_THREADS	    4096u

void rawio_pollsim_params_default(struct rawio_pollsim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->io_ns = SIM_DEFAULT_IO_NS;
	p->cs_ns = SIM_DEFAULT_CS_NS;
	p->irq_ns = SIM_DEFAULT_IRQ_NS;
	p->wake_ns = SIM_DEFAULT_WAKE_NS;
	p->threads = 1;
}

static uint64_t sim_row_cpu(const struct rawio_pollsim_params *par,
			    const struct rawio_pollsim_wake *w)
{
	return w->cpu_ns ? w->cpu_ns : par->cs_ns;
}

static uint64_t sim_lerp(uint64_t lo, uint64_t hi, double x)
{
	return (uint64_t)((double)lo + x * ((double)hi - (double)lo) + 0.5);
}

/*
 * A sleep of S ns: the wake-up delay drawn at quantile slot Q into *WAKE, and
 * its CPU into *CPU, from the table (interpolated between the rows around S)
 * or the constants.
 */
static void sim_sleep(const struct rawio_pollsim_params *par, uint64_t s, unsigned q,
		      uint64_t *wake, uint64_t *cpu)
{
	const struct rawio_pollsim_wake *w = par->wake;
	size_t n = par->wake_nr, i;
	double x;

	if (!n) {
		*wake = par->wake_ns;
		*cpu = par->cs_ns + par->irq_ns;
		return;
	}
	if (s <= w[0].sleep_ns || n == 1) {
		*wake = w[0].q[q];
		*cpu = sim_row_cpu(par, &w[0]) + par->irq_ns;
		return;
	}
	if (s >= w[n - 1].sleep_ns) {
		*wake = w[n - 1].q[q];
		*cpu = sim_row_cpu(par, &w[n - 1]) + par->irq_ns;
		return;
	}
	for (i = 1; i < n - 1 && w[i].sleep_ns < s; i++)
		;
	/* w[i - 1].sleep_ns < s <= w[i].sleep_ns */
	x = ((double)s - (double)w[i - 1].sleep_ns) /
	    ((double)w[i].sleep_ns - (double)w[i - 1].sleep_ns);
	*wake = sim_lerp(w[i - 1].q[q], w[i].q[q], x);
	*cpu = sim_lerp(sim_row_cpu(par, &w[i - 1]), sim_row_cpu(par, &w[i]), x) + par->irq_ns;
}

static int sim_params_check(const struct rawio_pollsim_params *par)
{
	if (!par || par->size < offsetof(struct rawio_pollsim_params, seed) ||
	    par->threads > SIM_MAX_THREADS || (par->wake_nr && !par->wake) ||
	    par->preempt_ppm > 1000000u)
		return -EINVAL;
	for (size_t i = 0; i < par->wake_nr; i++) {
		if (!par->wake[i].sleep_ns ||
		    (i && par->wake[i].sleep_ns <= par->wake[i - 1].sleep_ns))
			return -EINVAL;
		for (unsigned q = 1; q < RAWIO_POLLSIM_WAKE_Q; q++)
			if (par->wake[i].q[q] < par->wake[i].q[q - 1])
				return -EINVAL;
	}
	return 0;
}

/* CPU of spinning for WALL ns, less the share others preempt. */
static uint64_t sim_spin_busy(const struct rawio_pollsim_params *par, uint64_t wall)
{
	return wall - (uint64_t)((unsigned __int128)wall * par->preempt_ppm / 1000000u);
}

struct sim_acc {
	uint64_t ios, busy_ns, makespan_ns, sleeps, oversleeps, over_ns, sleep_ns;
	double lat_sum;
	struct rawio_hist *hist;
};

/* One thread: NR I/Os of T from START, its own predictor. */
static int sim_thread(const struct rawio_poll_trace *t, unsigned mode,
		      const struct rawio_poll_cfg *cfg, const struct rawio_pollsim_params *par,
		      size_t start, uint64_t nr, uint64_t seed, struct sim_acc *acc)
{
	void (*progress)(void *, uint64_t) =
		par->size >= offsetof(struct rawio_pollsim_params, progress_arg) + sizeof(void *)
			? par->progress
			: NULL;
	struct rawio_poll_pred *pred = NULL;
	uint64_t clock = 0, rng = seed | 1;
	size_t idx = start;
	int ret;

	if (mode == RAWIO_WAIT_HYBRID) {
		ret = rawio_poll_pred_new(&pred, cfg);
		if (ret)
			return ret;
	}
	for (uint64_t k = 0; k < nr; k++) {
		const struct rawio_poll_io *io = &t->ios[idx];
		uint64_t lat_dev = io->lat_ns, seen = lat_dev + par->poll_ns, busy;
		uint64_t s = 0, w, wake, cost;
		unsigned q = (unsigned)(rng_xorshift(&rng) >> 59); /* 0..31 */

		if (++idx == t->nr)
			idx = 0;
		busy = sim_spin_busy(par, seen);
		if (mode == RAWIO_WAIT_BLOCK) {
			sim_sleep(par, lat_dev, q, &wake, &cost);
			seen = lat_dev + wake;
			busy = cost;
		} else if (mode == RAWIO_WAIT_HYBRID) {
			s = rawio_poll_predict(pred, io->dir, io->bytes, clock);
			if (s) {
				sim_sleep(par, s, q, &wake, &cost);
				w = s + wake;
				acc->sleeps++;
				acc->sleep_ns += s;
				busy = cost;
				if (w < lat_dev) {
					busy += sim_spin_busy(par, seen - w);
				} else {
					seen = w;
					acc->oversleeps++;
					acc->over_ns += w - lat_dev;
				}
			}
			rawio_poll_observe(pred, io->dir, io->bytes, seen, s, clock + seen);
		}
		rawio_hist_add(acc->hist, seen);
		acc->lat_sum += (double)seen;
		acc->busy_ns += busy + par->io_ns;
		clock += seen + par->io_ns;
		if (progress && (k + 1) % RAWIO_POLLSIM_PROGRESS_IOS == 0)
			progress(par->progress_arg, RAWIO_POLLSIM_PROGRESS_IOS);
	}
	if (progress && nr % RAWIO_POLLSIM_PROGRESS_IOS)
		progress(par->progress_arg, nr % RAWIO_POLLSIM_PROGRESS_IOS);
	acc->ios += nr;
	if (clock > acc->makespan_ns)
		acc->makespan_ns = clock;
	rawio_poll_pred_free(pred);
	return 0;
}

int rawio_pollsim_run(const struct rawio_poll_trace *t, unsigned mode,
		      const struct rawio_poll_cfg *cfg, const struct rawio_pollsim_params *par,
		      struct rawio_pollsim_result *res)
{
	struct sim_acc acc = { 0 };
	unsigned threads;
	uint64_t nr, seed;
	int ret;

	if (!t || !t->nr || !t->ios || !res || mode >= RAWIO_WAIT_NR)
		return -EINVAL;
	ret = sim_params_check(par);
	if (ret)
		return ret;
	if (mode == RAWIO_WAIT_HYBRID && (ret = rawio_poll_cfg_check(cfg)))
		return ret;
	memset(res, 0, sizeof(*res));
	threads = par->threads ? par->threads : 1;
	nr = par->max_ios ? par->max_ios : t->nr;
	seed = par->seed ? par->seed : SIM_DEFAULT_SEED;
	acc.hist = malloc(sizeof(*acc.hist));
	if (!acc.hist)
		return -ENOMEM;
	rawio_hist_reset(acc.hist);
	for (unsigned i = 0; i < threads; i++) {
		size_t start = (size_t)((unsigned __int128)t->nr * i / threads);

		ret = sim_thread(t, mode, cfg, par, start, nr, seed + 0x9e3779b97f4a7c15ull * i,
				 &acc);
		if (ret)
			goto out;
	}
	res->mode = mode;
	if (mode == RAWIO_WAIT_HYBRID)
		res->cfg = *cfg;
	res->ios = acc.ios;
	res->makespan_ns = acc.makespan_ns ? acc.makespan_ns : 1;
	res->busy_ns = acc.busy_ns;
	res->iops = (double)acc.ios * 1e9 / (double)res->makespan_ns;
	res->cpu = (double)acc.busy_ns / ((double)threads * (double)res->makespan_ns);
	res->kiops_core = acc.busy_ns ? (double)acc.ios * 1e6 / (double)acc.busy_ns : 0;
	res->sleeps = acc.sleeps;
	res->oversleeps = acc.oversleeps;
	res->oversleep_rate = (double)acc.oversleeps / (double)acc.ios;
	res->oversleep_mean_ns = acc.oversleeps ? (double)acc.over_ns / (double)acc.oversleeps : 0;
	res->sleep_mean_ns = acc.sleeps ? (double)acc.sleep_ns / (double)acc.sleeps : 0;
	res->lat_mean_ns = acc.lat_sum / (double)acc.ios;
	res->lat_p50_ns = rawio_hist_percentile(acc.hist, 50);
	res->lat_p99_ns = rawio_hist_percentile(acc.hist, 99);
out:
	free(acc.hist);
	return ret;
}

static const char *const sim_obj_names[RAWIO_POLLSIM_OBJ_NR] = {
	"kiops-core",
	"cpu",
	"iops",
	"lat",
};

int rawio_pollsim_objective_parse(const char *s, enum rawio_pollsim_objective *out)
{
	for (unsigned i = 0; s && i < RAWIO_POLLSIM_OBJ_NR; i++) {
		if (!strcmp(s, sim_obj_names[i])) {
			*out = (enum rawio_pollsim_objective)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rawio_pollsim_objective_name(enum rawio_pollsim_objective obj)
{
	return (unsigned)obj < RAWIO_POLLSIM_OBJ_NR ? sim_obj_names[obj] : "?";
}

/* Is A better than B for OBJ? */
static bool sim_better(const struct rawio_pollsim_result *a, const struct rawio_pollsim_result *b,
		       enum rawio_pollsim_objective obj)
{
	switch (obj) {
	case RAWIO_POLLSIM_KIOPS_CORE:
		return a->kiops_core > b->kiops_core;
	case RAWIO_POLLSIM_CPU:
		return a->cpu < b->cpu;
	case RAWIO_POLLSIM_IOPS:
		return a->iops > b->iops;
	case RAWIO_POLLSIM_LAT:
		return a->lat_mean_ns < b->lat_mean_ns;
	default:
		return false;
	}
}

long rawio_pollsim_best(const struct rawio_pollsim_result *res, size_t nr,
			enum rawio_pollsim_objective obj, double tol, double spin_iops)
{
	bool constrained = obj == RAWIO_POLLSIM_KIOPS_CORE || obj == RAWIO_POLLSIM_CPU;
	long best = -1;

	for (size_t i = 0; i < nr; i++) {
		if (constrained && res[i].iops < (1.0 - tol) * spin_iops)
			continue;
		if (best < 0 || sim_better(&res[i], &res[best], obj))
			best = (long)i;
	}
	return best;
}

size_t rawio_pollsim_grid_size(const struct rawio_pollsim_grid *g)
{
	size_t cap = 0;
	unsigned step;

	if (!g || !g->nr_rules || !g->rules || !g->nr_periods || !g->periods_ns ||
	    g->ratio_lo > g->ratio_hi || g->ratio_hi > 1000)
		return 0;
	step = g->ratio_step ? g->ratio_step : 1;
	for (size_t r = 0; r < g->nr_rules; r++) {
		if (g->rules[r].rule == RAWIO_POLL_FIXED)
			continue;
		cap += (size_t)((g->ratio_hi - g->ratio_lo) / step + 1) *
		       (g->rules[r].rule == RAWIO_POLL_RUNMIN ? 1 : g->nr_periods);
	}
	return cap;
}

int rawio_pollsim_search(const struct rawio_poll_trace *t, const struct rawio_pollsim_grid *g,
			 const struct rawio_pollsim_params *par, struct rawio_pollsim_result **out,
			 size_t *nr)
{
	struct rawio_pollsim_result *res;
	size_t cap = rawio_pollsim_grid_size(g), n = 0;
	unsigned step;
	int ret;

	*out = NULL;
	*nr = 0;
	if (!cap || cap > 1000000)
		return -EINVAL;
	step = g->ratio_step ? g->ratio_step : 1;
	res = calloc(cap, sizeof(*res));
	if (!res)
		return -ENOMEM;
	for (size_t r = 0; r < g->nr_rules; r++) {
		size_t nper = g->rules[r].rule == RAWIO_POLL_RUNMIN ? 1 : g->nr_periods;

		if (g->rules[r].rule == RAWIO_POLL_FIXED)
			continue;
		for (size_t p = 0; p < nper; p++) {
			for (unsigned ratio = g->ratio_lo; ratio <= g->ratio_hi; ratio += step) {
				struct rawio_poll_cfg c = g->rules[r];

				c.ratio = ratio;
				c.period_ns = c.rule == RAWIO_POLL_RUNMIN ? 0 : g->periods_ns[p];
				if (c.rule == RAWIO_POLL_RUNMIN)
					c.one_bucket = true;
				ret = rawio_pollsim_run(t, RAWIO_WAIT_HYBRID, &c, par, &res[n]);
				if (ret) {
					free(res);
					return ret;
				}
				n++;
			}
		}
	}
	*out = res;
	*nr = n;
	return 0;
}

int rawio_pollsim_baselines(const struct rawio_poll_trace *t,
			    const struct rawio_pollsim_params *par,
			    struct rawio_pollsim_result out[RAWIO_POLLSIM_BASELINES])
{
	static const char *const kernels[RAWIO_POLLSIM_BASELINES - 2] = { "linux", "uring-hybrid",
									  "min-window" };
	int ret;

	ret = rawio_pollsim_run(t, RAWIO_WAIT_SPIN, NULL, par, &out[0]);
	if (!ret)
		ret = rawio_pollsim_run(t, RAWIO_WAIT_BLOCK, NULL, par, &out[1]);
	for (size_t i = 0; !ret && i < RAWIO_POLLSIM_BASELINES - 2; i++) {
		struct rawio_poll_cfg c;

		ret = rawio_poll_cfg_parse(kernels[i], &c);
		if (!ret)
			ret = rawio_pollsim_run(t, RAWIO_WAIT_HYBRID, &c, par, &out[2 + i]);
	}
	return ret;
}
