/* SPDX-License-Identifier: MIT */
/*
 * rawio pollsim, split by job: cmd_pollsim.c parses the command line,
 * cmd_pollsim_report.c runs what was asked through librawio and reports it as
 * text or JSON, cmd_pollsim_plot.c draws the heatmap.
 */
#ifndef RAWIO_CMD_POLLSIM_H
#define RAWIO_CMD_POLLSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/pollsim.h>

#define PS_MAX_RULES   16
#define PS_MAX_PERIODS 16
#define PS_MAX_CONFIGS 32
#define PS_MAX_WAKE    16
#define PS_MAX_REPEAT  99

/* What the command line asked for. */
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

/* The three runs (cmd_pollsim_report.c); each returns the exit status (0 or 1). */
int ps_simulate(struct ps_args *a);
int ps_calibrate(struct ps_args *a);
int ps_live(struct ps_args *a);

/*
 * ps_plot - a heatmap of ratio x period (a->plot, PNG through gnuplot) of
 * RULE's results in GRID[0..NR), the metric of OBJ; configurations whose IOPS
 * fall more than a->tol below SPIN_IOPS are blank for kiops-core and cpu.
 * 0, or -1 after printing why (cmd_pollsim_plot.c).
 */
int ps_plot(const struct ps_args *a, const struct rawio_pollsim_result *grid, size_t nr,
	    const struct rawio_poll_cfg *rule, enum rawio_pollsim_objective obj, double spin_iops);

#endif
