// SPDX-License-Identifier: MIT
/*
 * rawio pollsim: the hybrid-polling simulator (seed 001) and its live check.
 *
 *   rawio pollsim --trace FILE [search options]   simulate, search, report
 *   rawio pollsim --calibrate [--out FILE]        measure this machine's model
 *   rawio pollsim --live [--trace FILE] ...       run a wait mode for real
 *
 * The CLI parses and prints; the simulator, the predictor, the trace parsers
 * and the live runs are in librawio (rawio/pollsim.h). Exit 0 on success, 1 when
 * a run or an input fails, 2 on bad usage.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rawio/pollsim.h>

#include "cli.h"

#define PS_MAX_RULES   16
#define PS_MAX_PERIODS 16
#define PS_MAX_CONFIGS 32
#define PS_MAX_WAKE    16
#define PS_MAX_REPEAT  99

struct ps_args {
	const char *trace_path;
	enum rawio_poll_trace_fmt fmt;
	struct rawio_poll_cfg rules[PS_MAX_RULES];
	size_t nr_rules;
	unsigned ratio_lo, ratio_hi, ratio_step;
	uint64_t periods[PS_MAX_PERIODS];
	size_t nr_periods;
	struct rawio_poll_cfg configs[PS_MAX_CONFIGS]; /* --config: only these */
	size_t nr_configs;
	int objective; /* -1: all */
	double tol;
	bool json;
	const char *plot;
	const char *params_path;
	const char *out_path;
	struct rawio_pollsim_params par;
	struct rawio_pollsim_wake wake[PS_MAX_WAKE];
	bool calibrate, live;
	/* live */
	const char *engine, *file;
	unsigned wait_mode;
	bool have_poll;
	struct rawio_poll_cfg poll;
	uint64_t lat_ns, ios;
	unsigned bs, repeat;
	bool no_sim;
	bool account;
};

/* A model parameter given on the command line (--io-cost ...): it wins over --params. */
struct ps_override {
	bool set;
	uint64_t ns;
};

struct ps_overrides {
	struct ps_override io, cs, irq, wake, poll;
};

static void ps_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio pollsim --trace FILE [OPTIONS]      simulate and search\n"
		"       rawio pollsim --calibrate [--out FILE]     measure this machine's model\n"
		"       rawio pollsim --live [--trace FILE] ...    run a wait mode for real\n"
		"trace:\n"
		"  --trace FILE        per-I/O completion times\n"
		"  --format F          auto (default), rawio, fio (both: time_ms, lat_ns, dir, bs, "
		"...),\n"
		"                      blkparse (D2C), plain (one latency per line, us), msr "
		"(CSV)\n"
		"search (hybrid polling, besides the baselines spin, block, linux, uring-hybrid,\n"
		"min-window):\n"
		"  --rule LIST         mean,min,pNN,ewma,runmin (default mean,min,p10,ewma)\n"
		"  --ratio LO:HI:STEP  sleep ratios in percent (default 10:100:10)\n"
		"  --period LIST       statistics windows (default 1,10,100ms)\n"
		"  --config LIST       simulate only these (like min:70:10ms,linux), no search\n"
		"  --objective O       kiops-core, cpu, iops, lat or all (default all)\n"
		"  --tol PCT           kiops-core and cpu keep IOPS within PCT%% of spin (default "
		"1)\n"
		"  --plot FILE.png     heatmap of ratio x period for the best rule (gnuplot)\n"
		"model (defaults: the issue's interrupt costs; --params: a calibration):\n"
		"  --params FILE       parameters written by --calibrate --out\n"
		"  --io-cost T --cs-cost T --irq-cost T --wake T --poll-delay T\n"
		"                      override one (like 1.5us)\n"
		"  --threads N         threads replaying the trace (default 1)\n"
		"  --ios N             I/Os per thread (default: the trace's length)\n"
		"live (--live; queue depth 1, one thread):\n"
		"  --engine E          mem (default: replays the trace's latencies), uring, aio, "
		"...\n"
		"  --file PATH         file or device for the engines other than mem\n"
		"  --wait M            block, spin or hybrid (default hybrid)\n"
		"  --poll CFG          hybrid's predictor (default linux)\n"
		"  --lat T             mem without a trace: every I/O takes T\n"
		"  --bs SIZE           without a trace: bytes per read (default 4k)\n"
		"  --repeat N          runs; the median is reported (default 1)\n"
		"  --no-sim            do not print the model's prediction beside the measurement\n"
		"  --account           measure the CPU time spent waiting (the thread's CPU clock\n"
		"                      around each wait: two system calls more per wait)\n"
		"output:\n"
		"  --json              one JSON object on stdout\n"
		"  --out FILE          --calibrate: write the parameters there\n");
}

/* "1.5us", "20ms", "500" (DEF_UNIT ns each). */
static int ps_time(const char *opt, const char *s, uint64_t def_unit, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || *s == '-')
		goto bad;
	if (!*end) {
		v *= (double)def_unit;
	} else {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		v *= units[i].ns;
	}
	if (v > 3600e9)
		goto bad;
	*out = (uint64_t)(v + 0.5);
	return 0;
bad:
	cli_err("%s: '%s' is not a time (examples: 1.5us, 10ms)", opt, s);
	return -1;
}

/* "1,10,100ms": the last item's unit applies to the items without one. */
static int ps_periods(const char *s, uint64_t *out, size_t *nr)
{
	char buf[256], unit[256] = "ms", *save = NULL, *tok;
	const char *last = strrchr(s, ',');
	size_t n = 0;

	last = last ? last + 1 : s;
	while (*last && ((*last >= '0' && *last <= '9') || *last == '.'))
		last++;
	if (*last)
		snprintf(unit, sizeof(unit), "%s", last);
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char item[512];
		size_t len = strlen(tok);
		bool bare = len &&
			    ((tok[len - 1] >= '0' && tok[len - 1] <= '9') || tok[len - 1] == '.');

		if (n == PS_MAX_PERIODS) {
			cli_err("--period: at most %u periods", PS_MAX_PERIODS);
			return -1;
		}
		snprintf(item, sizeof(item), "%s%s", tok, bare ? unit : "");
		if (ps_time("--period", item, 1000000, &out[n]))
			return -1;
		n++;
	}
	if (!n) {
		cli_err("--period: no period given");
		return -1;
	}
	*nr = n;
	return 0;
}

/* A comma list of predictor names into OUT. */
static int ps_cfg_list(const char *opt, const char *s, struct rawio_poll_cfg *out, size_t max,
		       size_t *nr)
{
	char buf[512], *save = NULL, *tok;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			cli_err("%s: at most %zu entries", opt, max);
			return -1;
		}
		if (rawio_poll_cfg_parse(tok, &out[n])) {
			cli_err("%s: '%s' is not a rule (mean, min, pNN, ewma, runmin, fixed:T, "
				"linux, uring-hybrid, min-window, or RULE:RATIO:PERIOD)",
				opt, tok);
			return -1;
		}
		n++;
	}
	if (!n) {
		cli_err("%s: empty list", opt);
		return -1;
	}
	*nr = n;
	return 0;
}

static int ps_ratio(const char *s, struct ps_args *a)
{
	unsigned lo, hi, step;
	char tail;

	if (sscanf(s, "%u:%u:%u%c", &lo, &hi, &step, &tail) != 3 || lo > hi || hi > 1000 || !step) {
		cli_err("--ratio: '%s' is not LO:HI:STEP in percent (like 10:100:10)", s);
		return -1;
	}
	a->ratio_lo = lo;
	a->ratio_hi = hi;
	a->ratio_step = step;
	return 0;
}

static int ps_slurp(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, n = 0;
	char *buf = NULL;

	if (!f) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		char *nb = n == 0 || n == cap ? realloc(buf, cap *= 2) : buf;
		size_t r;

		if (!nb || cap > (64u << 20)) {
			cli_err("%s: too large or out of memory", path);
			free(nb ? nb : buf);
			fclose(f);
			return -1;
		}
		buf = nb;
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int ps_load_params(struct ps_args *a)
{
	char *data, err[256] = "";
	size_t len;
	int ret;

	if (ps_slurp(a->params_path, &data, &len))
		return -1;
	ret = rawio_pollsim_params_parse(&a->par, a->wake, PS_MAX_WAKE, data, len, a->params_path,
					 err, sizeof(err));
	free(data);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return -1;
	}
	return 0;
}

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

/* Run gnuplot on SCRIPT; 0 when it succeeded. */
static int ps_gnuplot(const char *script)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (!pid) {
		/* Its warnings about the blank (NaN) cells are noise; failure is reported. */
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

/* The metric of OBJ, as plotted; NAN where IOPS falls short of spin's for kiops-core and cpu. */
static double ps_metric(const struct ps_args *a, const struct rawio_pollsim_result *r,
			enum rawio_pollsim_objective obj, double spin_iops)
{
	if ((obj == RAWIO_POLLSIM_KIOPS_CORE || obj == RAWIO_POLLSIM_CPU) &&
	    r->iops < (1 - a->tol) * spin_iops)
		return NAN;
	switch (obj) {
	case RAWIO_POLLSIM_CPU:
		return 100 * r->cpu;
	case RAWIO_POLLSIM_IOPS:
		return r->iops / 1000;
	case RAWIO_POLLSIM_LAT:
		return r->lat_mean_ns / 1000;
	default:
		return r->kiops_core;
	}
}

/* Heatmap of ratio x period for RULE's results in the grid, the metric of OBJ. */
static int ps_plot(const struct ps_args *a, const struct rawio_pollsim_result *grid, size_t nr,
		   const struct rawio_poll_cfg *rule, enum rawio_pollsim_objective obj,
		   double spin_iops)
{
	static const char *const what[RAWIO_POLLSIM_OBJ_NR] = { "KIOPS/core", "CPU %", "KIOPS",
								"mean latency (us)" };
	char data_path[] = "/tmp/rawio-pollsim-XXXXXX", script_path[] = "/tmp/rawio-pollsim-XXXXXX",
	     name[48];
	FILE *data = NULL, *script = NULL;
	bool made_data = false, made_script = false;
	int data_fd, script_fd = -1, ret = -1;
	size_t cols = 0;

	data_fd = mkstemp(data_path);
	made_data = data_fd >= 0;
	if (made_data && !(data = fdopen(data_fd, "w")))
		close(data_fd);
	if (data) {
		script_fd = mkstemp(script_path);
		made_script = script_fd >= 0;
		if (made_script && !(script = fdopen(script_fd, "w")))
			close(script_fd);
	}
	if (!data || !script) {
		cli_err("--plot: temporary files: %s", strerror(errno));
		goto out;
	}
	/* Rows: periods; columns: ratios. */
	for (size_t p = 0; p < a->nr_periods; p++) {
		cols = 0;
		for (size_t i = 0; i < nr; i++) {
			const struct rawio_pollsim_result *r = &grid[i];
			double v;

			if (r->cfg.rule != rule->rule || r->cfg.pct != rule->pct ||
			    r->cfg.period_ns != a->periods[p])
				continue;
			v = ps_metric(a, r, obj, spin_iops);
			fprintf(data, isnan(v) ? "%sNaN" : "%s%.3f", cols ? " " : "", v);
			cols++;
		}
		fprintf(data, "\n");
	}
	rawio_poll_cfg_name(rule, name, sizeof(name));
	name[strcspn(name, ":")] = '\0'; /* the rule alone */
	fprintf(script, "set terminal png size 900,%zu\nset output '%s'\n",
		160 + 60 * a->nr_periods, a->plot);
	fprintf(script,
		"set title '%s: %s by sleep ratio and period (blank: IOPS more than %.1f%% "
		"below spin)'\n",
		name, what[obj], 100 * a->tol);
	fprintf(script, "set xlabel 'sleep ratio (%%)'\nset ylabel 'period'\nunset key\n");
	fprintf(script, "set palette rgbformulae 22,13,10\nset xtics (");
	for (size_t c = 0; c < cols; c++)
		fprintf(script, "%s'%u' %zu", c ? ", " : "",
			a->ratio_lo + (unsigned)c * a->ratio_step, c);
	fprintf(script, ")\nset ytics (");
	for (size_t p = 0; p < a->nr_periods; p++) {
		struct rawio_poll_cfg c = { .rule = RAWIO_POLL_MIN, .period_ns = a->periods[p] };
		char t[48];

		/* The period as the configuration names it: "min:0:10ms" -> "10ms". */
		rawio_poll_cfg_name(&c, t, sizeof(t));
		fprintf(script, "%s'%s' %zu", p ? ", " : "",
			strrchr(t, ':') ? strrchr(t, ':') + 1 : t, p);
	}
	fprintf(script,
		")\nplot '%s' matrix with image, '' matrix using 1:2:($3 == $3 ? "
		"sprintf('%%.1f', $3) : '') with labels font ',8'\n",
		data_path);
	if (fclose(data) | fclose(script)) {
		data = script = NULL;
		cli_err("--plot: writing temporary files: %s", strerror(errno));
		goto out;
	}
	data = script = NULL;
	if (ps_gnuplot(script_path)) {
		cli_err("--plot: gnuplot failed (is gnuplot installed? scripts/deps.sh)");
		goto out;
	}
	ret = 0;
out:
	if (data)
		fclose(data);
	if (script)
		fclose(script);
	if (made_data)
		unlink(data_path);
	if (made_script)
		unlink(script_path);
	return ret;
}

static int ps_simulate(struct ps_args *a)
{
	struct rawio_pollsim_result base[RAWIO_POLLSIM_BASELINES], *grid = NULL, *cfgres = NULL;
	struct rawio_poll_trace t = { 0 };
	struct rawio_pollsim_grid g = { 0 };
	struct rawio_poll_trace_stats sum;
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
	ret = rawio_poll_trace_stats(&t, &sum);
	if (ret) {
		cli_err("%s: %s", a->trace_path, rawio_strerror(ret));
		goto out;
	}
	ret = rawio_pollsim_baselines(&t, &a->par, base);
	if (ret) {
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
				cli_err("simulating: %s", rawio_strerror(ret));
				goto out;
			}
		}
	} else {
		g.rules = a->rules;
		g.nr_rules = a->nr_rules;
		g.ratio_lo = a->ratio_lo;
		g.ratio_hi = a->ratio_hi;
		g.ratio_step = a->ratio_step;
		g.periods_ns = a->periods;
		g.nr_periods = a->nr_periods;
		ret = rawio_pollsim_search(&t, &g, &a->par, &grid, &nr_grid);
		if (ret) {
			cli_err("search: %s", rawio_strerror(ret));
			goto out;
		}
	}
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
		cJSON_AddNumberToObject(m, "io_ns", (double)a->par.io_ns);
		cJSON_AddNumberToObject(m, "cs_ns", (double)a->par.cs_ns);
		cJSON_AddNumberToObject(m, "irq_ns", (double)a->par.irq_ns);
		cJSON_AddNumberToObject(m, "wake_ns", (double)a->par.wake_ns);
		cJSON_AddNumberToObject(m, "poll_ns", (double)a->par.poll_ns);
		cJSON_AddNumberToObject(m, "preempt_ppm", (double)a->par.preempt_ppm);
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

static int ps_calibrate(struct ps_args *a)
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

		cJSON_AddNumberToObject(o, "io_ns", (double)a->par.io_ns);
		cJSON_AddNumberToObject(o, "cs_ns", (double)a->par.cs_ns);
		cJSON_AddNumberToObject(o, "irq_ns", (double)a->par.irq_ns);
		cJSON_AddNumberToObject(o, "wake_ns", (double)a->par.wake_ns);
		cJSON_AddNumberToObject(o, "poll_ns", (double)a->par.poll_ns);
		cJSON_AddNumberToObject(o, "preempt_ppm", (double)a->par.preempt_ppm);
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

static int ps_live(struct ps_args *a)
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
		const struct rawio_engine_stats *st = &med.st;

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
		const struct rawio_engine_stats *st = &med.st;

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

int cmd_pollsim(int argc, char **argv)
{
	enum {
		O_TRACE = 256,
		O_FORMAT,
		O_RULE,
		O_RATIO,
		O_PERIOD,
		O_CONFIG,
		O_OBJECTIVE,
		O_TOL,
		O_JSON,
		O_PLOT,
		O_PARAMS,
		O_IO_COST,
		O_CS_COST,
		O_IRQ_COST,
		O_WAKE,
		O_POLL_DELAY,
		O_THREADS,
		O_IOS,
		O_CALIBRATE,
		O_OUT,
		O_LIVE,
		O_ENGINE,
		O_FILE,
		O_WAIT,
		O_POLL,
		O_LAT,
		O_BS,
		O_REPEAT,
		O_NO_SIM,
		O_ACCOUNT,
		O_HELP,
	};
	static const struct option longopts[] = {
		{ "trace", required_argument, NULL, O_TRACE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "rule", required_argument, NULL, O_RULE },
		{ "ratio", required_argument, NULL, O_RATIO },
		{ "period", required_argument, NULL, O_PERIOD },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "objective", required_argument, NULL, O_OBJECTIVE },
		{ "tol", required_argument, NULL, O_TOL },
		{ "json", no_argument, NULL, O_JSON },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "params", required_argument, NULL, O_PARAMS },
		{ "io-cost", required_argument, NULL, O_IO_COST },
		{ "cs-cost", required_argument, NULL, O_CS_COST },
		{ "irq-cost", required_argument, NULL, O_IRQ_COST },
		{ "wake", required_argument, NULL, O_WAKE },
		{ "poll-delay", required_argument, NULL, O_POLL_DELAY },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "ios", required_argument, NULL, O_IOS },
		{ "calibrate", no_argument, NULL, O_CALIBRATE },
		{ "out", required_argument, NULL, O_OUT },
		{ "live", no_argument, NULL, O_LIVE },
		{ "engine", required_argument, NULL, O_ENGINE },
		{ "file", required_argument, NULL, O_FILE },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "poll", required_argument, NULL, O_POLL },
		{ "lat", required_argument, NULL, O_LAT },
		{ "bs", required_argument, NULL, O_BS },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "no-sim", no_argument, NULL, O_NO_SIM },
		{ "account", no_argument, NULL, O_ACCOUNT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct ps_args a = { .fmt = RAWIO_TRACE_AUTO,
			     .ratio_lo = 10,
			     .ratio_hi = 100,
			     .ratio_step = 10,
			     .objective = -1,
			     .tol = 0.01,
			     .wait_mode = RAWIO_WAIT_HYBRID,
			     .repeat = 1 };
	struct ps_overrides ovr = { 0 };
	struct ps_override *ov;
	uint64_t v;
	const char *rules = "mean,min,p10,ewma", *periods = "1,10,100ms";
	unsigned u;
	size_t n;
	int opt;

	rawio_pollsim_params_default(&a.par);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_TRACE:
			a.trace_path = optarg;
			break;
		case O_FORMAT:
			if (rawio_poll_trace_fmt_parse(optarg, &a.fmt)) {
				cli_err("--format: '%s' is not auto, rawio, fio, blkparse, plain "
					"or "
					"msr",
					optarg);
				return 2;
			}
			break;
		case O_RULE:
			rules = optarg;
			break;
		case O_RATIO:
			if (ps_ratio(optarg, &a))
				return 2;
			break;
		case O_PERIOD:
			periods = optarg;
			break;
		case O_CONFIG:
			if (ps_cfg_list("--config", optarg, a.configs, PS_MAX_CONFIGS,
					&a.nr_configs))
				return 2;
			break;
		case O_OBJECTIVE:
			if (!strcmp(optarg, "all")) {
				a.objective = -1;
			} else {
				enum rawio_pollsim_objective obj;

				if (rawio_pollsim_objective_parse(optarg, &obj)) {
					cli_err("--objective: '%s' is not kiops-core, cpu, iops, "
						"lat "
						"or all",
						optarg);
					return 2;
				}
				a.objective = obj;
			}
			break;
		case O_TOL: {
			char *end;
			double t = strtod(optarg, &end);

			if (end == optarg || *end || t < 0 || t >= 100) {
				cli_err("--tol: '%s' is not a percentage under 100", optarg);
				return 2;
			}
			a.tol = t / 100;
			break;
		}
		case O_JSON:
			a.json = true;
			break;
		case O_PLOT:
			a.plot = optarg;
			break;
		case O_PARAMS:
			a.params_path = optarg;
			break;
		case O_IO_COST:
		case O_CS_COST:
		case O_IRQ_COST:
		case O_WAKE:
		case O_POLL_DELAY:
			ov = opt == O_IO_COST	 ? &ovr.io
			     : opt == O_CS_COST	 ? &ovr.cs
			     : opt == O_IRQ_COST ? &ovr.irq
			     : opt == O_WAKE	 ? &ovr.wake
						 : &ovr.poll;
			if (ps_time(argv[optind - 1], optarg, 1, &ov->ns))
				return 2;
			ov->set = true;
			break;
		case O_THREADS:
			if (cli_uint("--threads", optarg, 1, 4096, &u))
				return 2;
			a.par.threads = u;
			break;
		case O_IOS:
			if (cli_size("--ios", optarg, &a.ios) || !a.ios)
				return 2;
			break;
		case O_CALIBRATE:
			a.calibrate = true;
			break;
		case O_OUT:
			a.out_path = optarg;
			break;
		case O_LIVE:
			a.live = true;
			break;
		case O_ENGINE:
			a.engine = optarg;
			break;
		case O_FILE:
			a.file = optarg;
			break;
		case O_WAIT:
			if (rawio_wait_mode_parse(optarg, &a.wait_mode)) {
				cli_err("--wait: '%s' is not block, spin or hybrid", optarg);
				return 2;
			}
			break;
		case O_POLL:
			if (ps_cfg_list("--poll", optarg, &a.poll, 1, &n))
				return 2;
			a.have_poll = true;
			break;
		case O_LAT:
			if (ps_time("--lat", optarg, 1, &a.lat_ns))
				return 2;
			break;
		case O_BS:
			if (cli_size("--bs", optarg, &v) || v > (1u << 30)) {
				cli_err("--bs: '%s' is not a size up to 1G", optarg);
				return 2;
			}
			a.bs = (unsigned)v;
			break;
		case O_REPEAT:
			if (cli_uint("--repeat", optarg, 1, PS_MAX_REPEAT, &a.repeat))
				return 2;
			break;
		case O_NO_SIM:
			a.no_sim = true;
			break;
		case O_ACCOUNT:
			a.account = true;
			break;
		case 'h':
		case O_HELP:
			ps_usage(stdout);
			return 0;
		default:
			ps_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (a.calibrate + a.live > 1) {
		cli_err("--calibrate and --live are separate runs");
		return 2;
	}
	if (!a.calibrate && !a.live && !a.trace_path) {
		ps_usage(stderr);
		return 2;
	}
	if (ps_cfg_list("--rule", rules, a.rules, PS_MAX_RULES, &a.nr_rules) ||
	    ps_periods(periods, a.periods, &a.nr_periods))
		return 2;
	if (a.params_path && ps_load_params(&a))
		return 1;
	if (ovr.io.set)
		a.par.io_ns = ovr.io.ns;
	if (ovr.cs.set)
		a.par.cs_ns = ovr.cs.ns;
	if (ovr.irq.set)
		a.par.irq_ns = ovr.irq.ns;
	if (ovr.poll.set)
		a.par.poll_ns = ovr.poll.ns;
	if (ovr.wake.set) {
		a.par.wake_ns = ovr.wake.ns;
		a.par.wake = NULL;
		a.par.wake_nr = 0;
	}
	if (a.calibrate)
		return ps_calibrate(&a);
	if (a.live)
		return ps_live(&a);
	if (a.ios)
		a.par.max_ios = a.ios;
	return ps_simulate(&a);
}
