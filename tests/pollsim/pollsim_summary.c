// SPDX-License-Identifier: MIT
/*
 * What rawio pollsim reports besides the simulation, computed by the library:
 * a trace's counts and ranks, the baselines (which, in which order), and the
 * median of repeated live runs (IOPS and CPU each their own median).
 */
#include <errno.h>
#include <math.h>

#include <rawio/pollsim.h>

#include "harness.h"

#define US 1000ull

static int test_trace_stats(void)
{
	struct rawio_poll_io ios[5] = {
		{ .lat_ns = 5 * US, .bytes = 4096, .dir = 0 },
		{ .lat_ns = 1 * US, .bytes = 4096, .dir = 1 },
		{ .lat_ns = 4 * US, .bytes = 4096, .dir = 0 },
		{ .lat_ns = 2 * US, .bytes = 4096, .dir = 0 },
		{ .lat_ns = 3 * US, .bytes = 4096, .dir = 1 },
	};
	struct rawio_poll_trace t = { .ios = ios, .nr = 5, .cap = 5 }, empty = { 0 };
	struct rawio_poll_trace_stat s;

	CHECK_OK(rawio_poll_trace_stat(&t, &s));
	CHECK(s.reads == 3 && s.writes == 2, "reads %llu writes %llu", (unsigned long long)s.reads,
	      (unsigned long long)s.writes);
	CHECK(s.lat_min_ns == 1 * US && s.lat_max_ns == 5 * US, "min %llu max %llu",
	      (unsigned long long)s.lat_min_ns, (unsigned long long)s.lat_max_ns);
	CHECK(s.lat_p50_ns == 3 * US && s.lat_p99_ns == 5 * US, "p50 %llu p99 %llu",
	      (unsigned long long)s.lat_p50_ns, (unsigned long long)s.lat_p99_ns);
	CHECK(s.lat_mean_ns == 3000.0, "mean %f", s.lat_mean_ns);
	CHECK(ios[0].lat_ns == 5 * US, "the trace was reordered");
	CHECK(rawio_poll_trace_stat(&empty, &s) == -EINVAL, "an empty trace has no stats");
	return T_PASS;
}

static int test_baselines(void)
{
	static const char *const names[] = { "linux", "uring-hybrid", "min-window" };
	struct rawio_poll_io ios[4];
	struct rawio_poll_trace t = { .ios = ios, .nr = 4, .cap = 4 }, empty = { 0 };
	struct rawio_pollsim_result base[RAWIO_POLLSIM_BASELINES], spin;
	struct rawio_pollsim_params p;

	for (int i = 0; i < 4; i++)
		ios[i] = (struct rawio_poll_io){ .lat_ns = 100 * US, .bytes = 4096 };
	rawio_pollsim_params_default(&p);
	CHECK_OK(rawio_pollsim_baselines(&t, &p, base));
	CHECK(base[0].mode == RAWIO_WAIT_SPIN && base[1].mode == RAWIO_WAIT_BLOCK, "spin, block");
	CHECK_OK(rawio_pollsim_run(&t, RAWIO_WAIT_SPIN, NULL, &p, &spin));
	CHECK(base[0].iops == spin.iops && base[0].busy_ns == spin.busy_ns, "spin as run alone");
	for (int i = 0; i < 3; i++) {
		char name[48];

		CHECK(base[2 + i].mode == RAWIO_WAIT_HYBRID, "baseline %d is hybrid", 2 + i);
		rawio_poll_cfg_name(&base[2 + i].cfg, name, sizeof(name));
		CHECK(!strcmp(name, names[i]), "baseline %d is %s, not %s", 2 + i, name, names[i]);
	}
	CHECK(rawio_pollsim_baselines(&empty, &p, base) == -EINVAL, "an empty trace");
	return T_PASS;
}

static int test_live_median(void)
{
	struct rawio_pollsim_live_result runs[4] = { 0 }, med;

	/* IOPS 3, 1, 2 (median: the third run); CPU 0.1, 0.3, 0.2 (median 0.2, the third's). */
	runs[0].iops = 3000, runs[0].cpu = 0.1, runs[0].ios = 30;
	runs[1].iops = 1000, runs[1].cpu = 0.3, runs[1].ios = 10;
	runs[2].iops = 2000, runs[2].cpu = 0.25, runs[2].ios = 20;
	CHECK_OK(rawio_pollsim_live_median(runs, 3, &med));
	CHECK(med.iops == 2000 && med.ios == 20, "median run: iops %f ios %llu", med.iops,
	      (unsigned long long)med.ios);
	CHECK(med.cpu == 0.25 && fabs(med.kiops_core - 2000 / 1000 / 0.25) < 1e-9,
	      "cpu %f kiops/core %f", med.cpu, med.kiops_core);
	/* CPU taken on its own: the median IOPS run need not hold the median CPU. */
	runs[2].cpu = 0.05;
	CHECK_OK(rawio_pollsim_live_median(runs, 3, &med));
	CHECK(med.iops == 2000 && med.cpu == 0.1, "own medians: iops %f cpu %f", med.iops, med.cpu);
	/* Even counts take the upper middle; the runs stay as they were. */
	runs[3].iops = 4000, runs[3].cpu = 0.4, runs[3].ios = 40;
	CHECK_OK(rawio_pollsim_live_median(runs, 4, &med));
	CHECK(med.iops == 3000 && med.ios == 30 && med.cpu == 0.3, "even: iops %f cpu %f", med.iops,
	      med.cpu);
	CHECK(runs[0].iops == 3000 && runs[1].iops == 1000, "the runs were reordered");
	CHECK_OK(rawio_pollsim_live_median(runs, 1, &med));
	CHECK(med.iops == 3000 && med.cpu == 0.1, "one run is its own median");
	CHECK(rawio_pollsim_live_median(runs, 0, &med) == -EINVAL, "no runs, no median");
	return T_PASS;
}

int main(void)
{
	if (test_trace_stats() || test_baselines() || test_live_median())
		return T_FAIL;
	return T_PASS;
}
