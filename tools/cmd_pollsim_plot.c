// SPDX-License-Identifier: MIT
/* rawio pollsim --plot: a heatmap of the search through gnuplot. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_pollsim.h"

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
int ps_plot(const struct ps_args *a, const struct rawio_pollsim_result *grid, size_t nr,
	    const struct rawio_poll_cfg *rule, enum rawio_pollsim_objective obj, double spin_iops)
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
