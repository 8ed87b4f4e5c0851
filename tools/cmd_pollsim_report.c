// SPDX-License-Identifier: MIT
/*
 * rawio pollsim: the simulation, calibration and live runs the command line
 * asked for (cmd_pollsim.c), run through librawio and reported as text or
 * one JSON object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_pollsim.h"

static const char *ps_name(unsigned mode, const struct rawio_poll_cfg *c, char *buf, size_t len)
{
	if (mode != RAWIO_WAIT_HYBRID)
		snprintf(buf, len, "%s", rawio_wait_mode_name(mode));
	else
		rawio_poll_cfg_name(c, buf, len);
	return buf;
}

static void ps_row_header(void)
{
	printf("  %-16s %9s %7s %10s %9s %9s %9s %9s %9s\n", "config", "IOPS", "CPU%", "KIOPS/core",
	       "sleeps", "oversleep", "mean-over", "lat-mean", "lat-p99");
}

static void ps_row(const struct rawio_pollsim_result *r)
{
	char name[48], a[16], b[16], c[16];

	printf("  %-16s %9.0f %6.1f%% %10.1f %8.1f%% %8.1f%% %9s %9s %9s\n",
	       ps_name(r->mode, &r->cfg, name, sizeof(name)), r->iops, 100 * r->cpu, r->kiops_core,
	       100.0 * (double)r->sleeps / (double)r->ios, 100 * r->oversleep_rate,
	       cli_ns(r->oversleep_mean_ns, a, sizeof(a)), cli_ns(r->lat_mean_ns, b, sizeof(b)),
	       cli_ns((double)r->lat_p99_ns, c, sizeof(c)));
}

static cJSON *ps_result_json(const struct rawio_pollsim_result *r)
{
	cJSON *o = cJSON_CreateObject();
	char name[48];

	cJSON_AddStringToObject(o, "config", ps_name(r->mode, &r->cfg, name, sizeof(name)));
	cJSON_AddStringToObject(o, "wait", rawio_wait_mode_name(r->mode));
	cJSON_AddNumberToObject(o, "ios", (double)r->ios);
	cJSON_AddNumberToObject(o, "iops", r->iops);
	cJSON_AddNumberToObject(o, "cpu", r->cpu);
	cJSON_AddNumberToObject(o, "kiops_core", r->kiops_core);
	cJSON_AddNumberToObject(o, "sleeps", (double)r->sleeps);
	cJSON_AddNumberToObject(o, "oversleeps", (double)r->oversleeps);
	cJSON_AddNumberToObject(o, "oversleep_rate", r->oversleep_rate);
	cJSON_AddNumberToObject(o, "oversleep_mean_ns", r->oversleep_mean_ns);
	cJSON_AddNumberToObject(o, "sleep_mean_ns", r->sleep_mean_ns);
	cJSON_AddNumberToObject(o, "lat_mean_ns", r->lat_mean_ns);
	cJSON_AddNumberToObject(o, "lat_p50_ns", (double)r->lat_p50_ns);
	cJSON_AddNumberToObject(o, "lat_p99_ns", (double)r->lat_p99_ns);
	return o;
}

/* The model's scalar parameters as members of O. */
static void ps_model_json(cJSON *o, const struct rawio_pollsim_params *p)
{
	cJSON_AddNumberToObject(o, "io_ns", (double)p->io_ns);
	cJSON_AddNumberToObject(o, "cs_ns", (double)p->cs_ns);
	cJSON_AddNumberToObject(o, "irq_ns", (double)p->irq_ns);
	cJSON_AddNumberToObject(o, "wake_ns", (double)p->wake_ns);
	cJSON_AddNumberToObject(o, "poll_ns", (double)p->poll_ns);
	cJSON_AddNumberToObject(o, "preempt_ppm", (double)p->preempt_ppm);
}

static void ps_print_model(const struct rawio_pollsim_params *p)
{
	char a[16], b[16], c[16], d[16];

	printf("model: io %s, sleep cpu %s + irq %s, wake %s", cli_ns((double)p->io_ns, a, 16),
	       cli_ns((double)p->cs_ns, b, 16), cli_ns((double)p->irq_ns, c, 16),
	       cli_ns((double)p->wake_ns, d, 16));
	if (p->poll_ns || p->preempt_ppm)
		printf(", poll %s, spinner preempted %.1f%%", cli_ns((double)p->poll_ns, a, 16),
		       (double)p->preempt_ppm / 1e4);
	if (p->wake_nr)
		printf(" (measured table, %zu sleep lengths %s..%s)", p->wake_nr,
		       cli_ns((double)p->wake[0].sleep_ns, a, 16),
		       cli_ns((double)p->wake[p->wake_nr - 1].sleep_ns, b, 16));
	printf(", threads %u\n", p->threads ? p->threads : 1);
}

/* The progress line of a simulation: I/Os replayed of all the replays it will run. */
struct ps_progress {
	struct cli_progress pr;
	uint64_t done, total;
};

static void ps_progress(void *arg, uint64_t ios)
{
	struct ps_progress *p = arg;

	p->done += ios;
	cli_progress(&p->pr, "pollsim: %s of %s simulated I/Os (%.0f%%), %.0fs",
		     cli_count((double)p->done, (char[32]){ 0 }, 32),
		     cli_count((double)p->total, (char[32]){ 0 }, 32),
		     p->total ? 100.0 * (double)p->done / (double)p->total : 0,
		     cli_progress_elapsed(&p->pr));
}

int ps_simulate(struct ps_args *a)
{
	struct rawio_pollsim_result base[RAWIO_POLLSIM_BASELINES], *grid = NULL, *cfgres = NULL;
	struct rawio_poll_trace t = { 0 };
	struct rawio_pollsim_grid g = { 0 };
	struct rawio_poll_trace_stat sum;
	struct ps_progress pp = { 0 };
	char err[512] = "", a1[16], a2[16], a3[16], a4[16];
	size_t nr_grid = 0;
	cJSON *root = NULL, *arr;
	long best[RAWIO_POLLSIM_OBJ_NR];
	int ret, rc = 1;

	ret = rawio_poll_trace_load(&t, a->trace_path, a->fmt, err, sizeof(err));
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		rawio_poll_trace_free(&t);
		return 1;
	}
	ret = rawio_poll_trace_stat(&t, &sum);
	if (ret) {
		cli_err("%s: %s", a->trace_path, rawio_strerror(ret));
		goto out;
	}
	g.rules = a->rules;
	g.nr_rules = a->nr_rules;
	g.ratio_lo = a->ratio_lo;
	g.ratio_hi = a->ratio_hi;
	g.ratio_step = a->ratio_step;
	g.periods_ns = a->periods;
	g.nr_periods = a->nr_periods;
	/* A progress line on a terminal: every replay is threads x (--ios or the trace's) I/Os. */
	cli_progress_init(&pp.pr, true);
	if (pp.pr.on) {
		pp.total =
			(uint64_t)(RAWIO_POLLSIM_BASELINES +
				   (a->nr_configs ? a->nr_configs : rawio_pollsim_grid_size(&g))) *
			(a->par.threads ? a->par.threads : 1) *
			(a->par.max_ios ? a->par.max_ios : t.nr);
		a->par.progress = ps_progress;
		a->par.progress_arg = &pp;
	}
	ret = rawio_pollsim_baselines(&t, &a->par, base);
	if (ret) {
		cli_progress_done(&pp.pr, NULL);
		cli_err("simulating: %s", rawio_strerror(ret));
		goto out;
	}
	if (a->nr_configs) {
		cfgres = calloc(a->nr_configs, sizeof(*cfgres));
		if (!cfgres)
			goto out;
		for (size_t i = 0; i < a->nr_configs; i++) {
			ret = rawio_pollsim_run(&t, RAWIO_WAIT_HYBRID, &a->configs[i], &a->par,
						&cfgres[i]);
			if (ret) {
				cli_progress_done(&pp.pr, NULL);
				cli_err("simulating: %s", rawio_strerror(ret));
				goto out;
			}
		}
	} else {
		ret = rawio_pollsim_search(&t, &g, &a->par, &grid, &nr_grid);
		if (ret) {
			cli_progress_done(&pp.pr, NULL);
			cli_err("search: %s", rawio_strerror(ret));
			goto out;
		}
	}
	cli_progress_done(&pp.pr, NULL);
	a->par.progress = NULL;
	for (int o = 0; o < RAWIO_POLLSIM_OBJ_NR; o++)
		best[o] = grid ? rawio_pollsim_best(grid, nr_grid, o, a->tol, base[0].iops) : -1;

	if (a->json) {
		cJSON *tr = cJSON_CreateObject(), *m = cJSON_CreateObject(), *b;

		root = cJSON_CreateObject();
		cJSON_AddStringToObject(tr, "path", a->trace_path);
		cJSON_AddStringToObject(tr, "format", rawio_poll_trace_fmt_name(t.fmt));
		cJSON_AddNumberToObject(tr, "ios", (double)t.nr);
		cJSON_AddNumberToObject(tr, "reads", (double)sum.reads);
		cJSON_AddNumberToObject(tr, "writes", (double)sum.writes);
		cJSON_AddNumberToObject(tr, "skipped", (double)t.skipped);
		cJSON_AddNumberToObject(tr, "lat_mean_ns", sum.lat_mean_ns);
		cJSON_AddNumberToObject(tr, "lat_min_ns", (double)sum.lat_min_ns);
		cJSON_AddNumberToObject(tr, "lat_p50_ns", (double)sum.lat_p50_ns);
		cJSON_AddNumberToObject(tr, "lat_p99_ns", (double)sum.lat_p99_ns);
		cJSON_AddNumberToObject(tr, "lat_max_ns", (double)sum.lat_max_ns);
		cJSON_AddItemToObject(root, "trace", tr);
		ps_model_json(m, &a->par);
		cJSON_AddNumberToObject(m, "wake_rows", (double)a->par.wake_nr);
		cJSON_AddNumberToObject(m, "threads", a->par.threads ? a->par.threads : 1);
		cJSON_AddItemToObject(root, "model", m);
		arr = cJSON_AddArrayToObject(root, "baselines");
		for (int i = 0; i < RAWIO_POLLSIM_BASELINES; i++)
			cJSON_AddItemToArray(arr, ps_result_json(&base[i]));
		if (cfgres) {
			arr = cJSON_AddArrayToObject(root, "configs");
			for (size_t i = 0; i < a->nr_configs; i++)
				cJSON_AddItemToArray(arr, ps_result_json(&cfgres[i]));
		}
		if (grid) {
			arr = cJSON_AddArrayToObject(root, "grid");
			for (size_t i = 0; i < nr_grid; i++)
				cJSON_AddItemToArray(arr, ps_result_json(&grid[i]));
			b = cJSON_AddObjectToObject(root, "best");
			for (int o = 0; o < RAWIO_POLLSIM_OBJ_NR; o++)
				if ((a->objective < 0 || a->objective == o) && best[o] >= 0)
					cJSON_AddItemToObject(b, rawio_pollsim_objective_name(o),
							      ps_result_json(&grid[best[o]]));
		}
		cJSON_AddNumberToObject(root, "tol", a->tol);
	} else {
		printf("trace: %s (%s): %zu I/Os (%llu reads, %llu writes", a->trace_path,
		       rawio_poll_trace_fmt_name(t.fmt), t.nr, (unsigned long long)sum.reads,
		       (unsigned long long)sum.writes);
		if (t.skipped)
			printf(", %llu other records skipped", (unsigned long long)t.skipped);
		printf("), latency mean %s min %s p50 %s p99 %s\n", cli_ns(sum.lat_mean_ns, a1, 16),
		       cli_ns((double)sum.lat_min_ns, a2, 16),
		       cli_ns((double)sum.lat_p50_ns, a3, 16),
		       cli_ns((double)sum.lat_p99_ns, a4, 16));
		ps_print_model(&a->par);
		printf("\nbaselines:\n");
		ps_row_header();
		for (int i = 0; i < RAWIO_POLLSIM_BASELINES; i++)
			ps_row(&base[i]);
		if (cfgres) {
			printf("\nconfigs:\n");
			ps_row_header();
			for (size_t i = 0; i < a->nr_configs; i++)
				ps_row(&cfgres[i]);
		}
		if (grid) {
			printf("\nsearch: %zu configurations (ratio %u..%u step %u, %zu periods, "
			       "%zu "
			       "rules)\n",
			       nr_grid, a->ratio_lo, a->ratio_hi, a->ratio_step, a->nr_periods,
			       a->nr_rules);
			for (int o = 0; o < RAWIO_POLLSIM_OBJ_NR; o++) {
				if (a->objective >= 0 && a->objective != o)
					continue;
				printf("best for %s%s:\n", rawio_pollsim_objective_name(o),
				       o <= RAWIO_POLLSIM_CPU ? " (IOPS within tol of spin)" : "");
				if (best[o] < 0) {
					printf("  none keeps IOPS within %.1f%% of spin\n",
					       100 * a->tol);
					continue;
				}
				ps_row(&grid[best[o]]);
			}
		}
	}
	if (a->plot && grid) {
		int o = a->objective >= 0 ? a->objective : RAWIO_POLLSIM_KIOPS_CORE;
		long bi = best[o] >= 0 ? best[o] : 0;

		if (ps_plot(a, grid, nr_grid, &grid[bi].cfg, o, base[0].iops))
			goto out;
	}
	if (root) {
		cli_json_print(root);
		root = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	free(grid);
	free(cfgres);
	rawio_poll_trace_free(&t);
	return rc;
}

int ps_calibrate(struct ps_args *a)
{
	char err[256] = "", *text = NULL;
	int len, ret, fd;

	memset(a->wake, 0, sizeof(a->wake));
	if (!a->json)
		fprintf(stderr, "calibrating on the mem engine (a few seconds)...\n");
	ret = rawio_pollsim_calibrate(&a->par, a->wake, 10, a->ios, err, sizeof(err));
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return 1;
	}
	len = rawio_pollsim_params_format(&a->par, NULL, 0);
	text = len > 0 ? malloc((size_t)len + 1) : NULL;
	if (!text) {
		cli_err("out of memory");
		return 1;
	}
	rawio_pollsim_params_format(&a->par, text, (size_t)len + 1);
	if (a->out_path) {
		fd = open(a->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, text, (size_t)len) != len || close(fd)) {
			cli_err("%s: %s", a->out_path, strerror(errno));
			free(text);
			return 1;
		}
	}
	if (a->json) {
		cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "wake");

		ps_model_json(o, &a->par);
		for (size_t i = 0; i < a->par.wake_nr; i++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddNumberToObject(r, "sleep_ns", (double)a->wake[i].sleep_ns);
			cJSON_AddNumberToObject(r, "p50_ns",
						(double)a->wake[i].q[RAWIO_POLLSIM_WAKE_Q / 2]);
			cJSON_AddNumberToObject(
				r, "p90_ns", (double)a->wake[i].q[RAWIO_POLLSIM_WAKE_Q * 9 / 10]);
			cJSON_AddItemToArray(rows, r);
		}
		cli_json_print(o);
	} else if (!a->out_path) {
		fputs(text, stdout);
	} else {
		char b1[16], b2[16], b3[16];

		ps_print_model(&a->par);
		for (size_t i = 0; i < a->par.wake_nr; i++)
			printf("  after a %s sleep: wake-up p50 %s p90 %s\n",
			       cli_ns((double)a->wake[i].sleep_ns, b1, 16),
			       cli_ns((double)a->wake[i].q[RAWIO_POLLSIM_WAKE_Q / 2], b2, 16),
			       cli_ns((double)a->wake[i].q[RAWIO_POLLSIM_WAKE_Q * 9 / 10], b3, 16));
		printf("written to %s\n", a->out_path);
	}
	free(text);
	return 0;
}

int ps_live(struct ps_args *a)
{
	struct rawio_pollsim_live_opts o = { .size = sizeof(o) };
	struct rawio_pollsim_live_result runs[PS_MAX_REPEAT], med;
	struct rawio_pollsim_result sim;
	struct rawio_poll_trace t = { 0 };
	char err[512] = "", name[48], a1[16], a2[16], a3[16];
	bool have_sim = false;
	int ret, rc = 1;

	if (a->trace_path) {
		ret = rawio_poll_trace_load(&t, a->trace_path, a->fmt, err, sizeof(err));
		if (ret) {
			cli_err("%s", err[0] ? err : rawio_strerror(ret));
			rawio_poll_trace_free(&t);
			return 1;
		}
		o.trace = &t;
	}
	o.engine = a->engine;
	o.path = a->file;
	o.wait_mode = a->wait_mode;
	o.wait_flags = a->account ? RAWIO_WAIT_F_ACCOUNT : 0;
	o.poll = a->have_poll ? &a->poll : NULL;
	o.mem_lat_ns = a->lat_ns;
	o.bs = a->bs;
	o.ios = a->ios;
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	for (unsigned i = 0; i < a->repeat; i++) {
		ret = rawio_pollsim_live(&o, &runs[i]);
		if (ret) {
			cli_err("%s", err[0] ? err : rawio_strerror(ret));
			goto out;
		}
	}
	/* The median by IOPS; CPU is taken as its own median. */
	rawio_pollsim_live_median(runs, a->repeat, &med);
	if (o.trace && !a->no_sim && (!a->engine || !strcmp(a->engine, "mem"))) {
		struct rawio_poll_cfg lin;
		struct rawio_pollsim_params p = a->par;

		rawio_poll_cfg_parse("linux", &lin);
		p.threads = 1;
		p.max_ios = med.ios;
		ret = rawio_pollsim_run(&t, a->wait_mode, a->have_poll ? &a->poll : &lin, &p, &sim);
		if (ret) {
			cli_err("simulating: %s", rawio_strerror(ret));
			goto out;
		}
		have_sim = true;
	}
	ps_name(a->wait_mode, a->have_poll ? &a->poll : NULL, name, sizeof(name));
	if (a->wait_mode == RAWIO_WAIT_HYBRID && !a->have_poll)
		snprintf(name, sizeof(name), "linux");
	if (a->json) {
		cJSON *root = cJSON_CreateObject(), *m = cJSON_CreateObject();
		const struct rawio_engine_stat *st = &med.st;

		cJSON_AddStringToObject(root, "config", name);
		cJSON_AddStringToObject(root, "wait", rawio_wait_mode_name(a->wait_mode));
		cJSON_AddStringToObject(root, "engine", med.engine_desc);
		cJSON_AddNumberToObject(root, "repeat", a->repeat);
		cJSON_AddNumberToObject(m, "ios", (double)med.ios);
		cJSON_AddNumberToObject(m, "iops", med.iops);
		cJSON_AddNumberToObject(m, "cpu", med.cpu);
		cJSON_AddNumberToObject(m, "kiops_core", med.kiops_core);
		cJSON_AddNumberToObject(m, "lat_mean_ns", med.lat_mean_ns);
		cJSON_AddNumberToObject(m, "lat_p99_ns", (double)med.lat_p99_ns);
		cJSON_AddNumberToObject(m, "oversleep_rate", med.oversleep_rate);
		cJSON_AddNumberToObject(m, "sleeps", (double)st->sleeps);
		cJSON_AddNumberToObject(m, "spin_ns_per_io", (double)st->spin_ns / (double)med.ios);
		cJSON_AddNumberToObject(m, "wait_ns_per_io", (double)st->wait_ns / (double)med.ios);
		cJSON_AddNumberToObject(m, "cpu_ns_per_io", (double)med.cpu_ns / (double)med.ios);
		if (a->account)
			cJSON_AddNumberToObject(m, "wait_cpu_ns_per_io",
						(double)st->wait_cpu_ns / (double)med.ios);
		cJSON_AddItemToObject(root, "measured", m);
		if (have_sim) {
			cJSON *s = ps_result_json(&sim);

			cJSON_AddItemToObject(root, "predicted", s);
			cJSON_AddNumberToObject(root, "iops_err", sim.iops / med.iops - 1);
			cJSON_AddNumberToObject(root, "cpu_err", sim.cpu / med.cpu - 1);
		}
		cli_json_print(root);
	} else {
		const struct rawio_engine_stat *st = &med.st;

		printf("live: %s, wait %s (%s), %llu I/Os, median of %u\n", med.engine_desc,
		       rawio_wait_mode_name(a->wait_mode), name, (unsigned long long)med.ios,
		       a->repeat);
		printf("  measured:  IOPS %9.0f  CPU %5.1f%%  KIOPS/core %6.1f  lat mean %s p99 "
		       "%s\n",
		       med.iops, 100 * med.cpu, med.kiops_core, cli_ns(med.lat_mean_ns, a1, 16),
		       cli_ns((double)med.lat_p99_ns, a2, 16));
		printf("             per I/O: CPU %s, waiting %s of which spinning %s; sleeps "
		       "%.1f%%, "
		       "oversleeps %.1f%%\n",
		       cli_ns((double)med.cpu_ns / (double)med.ios, a1, 16),
		       cli_ns((double)st->wait_ns / (double)med.ios, a2, 16),
		       cli_ns((double)st->spin_ns / (double)med.ios, a3, 16),
		       100.0 * (double)st->sleeps / (double)med.ios, 100 * med.oversleep_rate);
		if (a->account)
			printf("             CPU spent waiting per I/O: %s (%.0f waits per I/O)\n",
			       cli_ns((double)st->wait_cpu_ns / (double)med.ios, a1, 16),
			       (double)st->waits / (double)med.ios);
		if (have_sim) {
			printf("  predicted: IOPS %9.0f  CPU %5.1f%%  KIOPS/core %6.1f  lat mean "
			       "%s p99 "
			       "%s\n",
			       sim.iops, 100 * sim.cpu, sim.kiops_core,
			       cli_ns(sim.lat_mean_ns, a1, 16),
			       cli_ns((double)sim.lat_p99_ns, a2, 16));
			printf("  error:     IOPS %+.1f%%  CPU %+.1f%%  (oversleeps predicted "
			       "%.1f%%)\n",
			       100 * (sim.iops / med.iops - 1), 100 * (sim.cpu / med.cpu - 1),
			       100 * sim.oversleep_rate);
		}
	}
	rc = 0;
out:
	rawio_poll_trace_free(&t);
	return rc;
}
