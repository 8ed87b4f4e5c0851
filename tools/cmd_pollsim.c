// SPDX-License-Identifier: MIT
/*
 * rawio pollsim: the hybrid-polling simulator (seed 001) and its live check.
 *
 *   rawio pollsim --trace FILE [search options]   simulate, search, report
 *   rawio pollsim --calibrate [--out FILE]        measure this machine's model
 *   rawio pollsim --live [--trace FILE] ...       run a wait mode for real
 *
 * This file parses; cmd_pollsim_report.c runs and reports, cmd_pollsim_plot.c
 * draws the heatmap. The simulator, the predictor, the trace parsers and the
 * live runs are in librawio (rawio/pollsim.h, rawio/predict.h). Exit 0 on
 * success, 1 when a run or an input fails, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_pollsim.h"

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

/* "1.5us", "20ms", "500" (DEF_UNIT ns each), at most an hour. */
static int ps_time(const char *opt, const char *s, uint64_t def_unit, uint64_t *out)
{
	return cli_time(opt, s, def_unit, 3600000000000ull, out);
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
		/* The predictor's longest window (src/predict: a minute). */
		if (cli_time("--period", item, 1000000, 60000000000ull, &out[n]))
			return -1;
		if (!out[n]) {
			cli_err("--period: '%s' is zero; a statistics window must be longer than "
				"that",
				item);
			return -1;
		}
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
		case O_PLOT: {
			/* The directory must exist: say so now, not after the run. */
			const char *slash = strrchr(optarg, '/');
			char dir[4096];
			struct stat st;

			snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - optarg) : 1,
				 slash ? (slash == optarg ? "/" : optarg) : ".");
			int sr = stat(dir, &st);

			if (sr || !S_ISDIR(st.st_mode)) {
				cli_err("--plot %s: directory %s %s", optarg, dir,
					sr ? strerror(errno) : "is not a directory");
				return 2;
			}
			a.plot = optarg;
			break;
		}
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
			if (ps_time(opt == O_IO_COST	? "--io-cost"
				    : opt == O_CS_COST	? "--cs-cost"
				    : opt == O_IRQ_COST ? "--irq-cost"
				    : opt == O_WAKE	? "--wake"
							: "--poll-delay",
				    optarg, 1, &ov->ns))
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
			if (cli_engine("--engine", optarg))
				return 2;
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
