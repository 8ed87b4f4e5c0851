// SPDX-License-Identifier: MIT
/*
 * The simulator's cost model on hand-computed cases: four 100 us reads, with
 * io 1 us, sleep CPU 2 + 1 us and a 5 us wake-up, under spin, block, hybrid
 * sleeps short and long of the latency, the kernel rules, io_uring's running
 * minimum, several threads, a wake-up table, the search and the objectives.
 */
#include <math.h>

#include <rawio/pollsim.h>

#include "harness.h"

#define US 1000ull

static struct rawio_poll_io ios[4];
static struct rawio_poll_trace trace = { .ios = ios, .nr = 4, .cap = 4 };

static void params(struct rawio_pollsim_params *p)
{
	rawio_pollsim_params_default(p);
	p->io_ns = 1 * US;
	p->cs_ns = 2 * US;
	p->irq_ns = 1 * US;
	p->wake_ns = 5 * US;
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fabs(b) + 1e-12;
}

static int run(unsigned mode, const char *spec, const struct rawio_pollsim_params *p,
	       struct rawio_pollsim_result *r)
{
	struct rawio_poll_cfg c;

	if (spec && rawio_poll_cfg_parse(spec, &c))
		return -EINVAL;
	return rawio_pollsim_run(&trace, mode, spec ? &c : NULL, p, r);
}

static int test_modes(void)
{
	struct rawio_pollsim_params p;
	struct rawio_pollsim_result r;

	params(&p);
	/* spin: busy 100 + 1 per I/O, makespan 4 x 101. */
	CHECK_OK(run(RAWIO_WAIT_SPIN, NULL, &p, &r));
	CHECK(r.ios == 4 && r.makespan_ns == 404 * US && r.busy_ns == 404 * US, "spin %llu %llu",
	      (unsigned long long)r.makespan_ns, (unsigned long long)r.busy_ns);
	CHECK(near(r.cpu, 1.0) && near(r.iops, 4e9 / 404e3), "spin cpu %f iops %f", r.cpu, r.iops);
	CHECK(near(r.kiops_core, 4e6 / 404e3), "spin kiops/core %f", r.kiops_core);
	CHECK(r.lat_mean_ns == 100 * US && r.sleeps == 0, "spin latency");

	/* block: seen at 105, busy 2 + 1 + 1. */
	CHECK_OK(run(RAWIO_WAIT_BLOCK, NULL, &p, &r));
	CHECK(r.makespan_ns == 4 * 106 * US && r.busy_ns == 16 * US, "block %llu %llu",
	      (unsigned long long)r.makespan_ns, (unsigned long long)r.busy_ns);
	CHECK(near(r.lat_mean_ns, 105 * US), "block latency %f", r.lat_mean_ns);

	/* hybrid, sleep 50: awake at 55, spin 45: busy 3 + 45 + 1, seen at 100. */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:50us", &p, &r));
	CHECK(r.makespan_ns == 404 * US && r.busy_ns == 4 * 49 * US, "hybrid 50: %llu %llu",
	      (unsigned long long)r.makespan_ns, (unsigned long long)r.busy_ns);
	CHECK(r.sleeps == 4 && r.oversleeps == 0 && near(r.sleep_mean_ns, 50 * US), "sleeps");

	/* hybrid, sleep 98: awake at 103, 3 us late. */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:98us", &p, &r));
	CHECK(r.makespan_ns == 4 * 104 * US && r.busy_ns == 4 * 4 * US, "hybrid 98: %llu %llu",
	      (unsigned long long)r.makespan_ns, (unsigned long long)r.busy_ns);
	CHECK(r.oversleeps == 4 && near(r.oversleep_rate, 1.0) && near(r.oversleep_mean_ns, 3 * US),
	      "oversleeps %llu mean %f", (unsigned long long)r.oversleeps, r.oversleep_mean_ns);
	CHECK(near(r.lat_mean_ns, 103 * US), "hybrid 98 latency");

	/* linux: every I/O falls in the first 100 ms window, so nothing sleeps: spin. */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "linux", &p, &r));
	CHECK(r.busy_ns == 404 * US && r.sleeps == 0, "linux never slept");

	/* mean:50:0: the first spins (101), the rest sleep 50 (49 each). */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "mean:50:0", &p, &r));
	CHECK(r.busy_ns == (101 + 3 * 49) * US && r.sleeps == 3, "mean:50:0 busy %llu",
	      (unsigned long long)r.busy_ns);

	/* uring: est 100 -> sleep 50 (runtime 50) -> sleep 25 (awake at 30, spin 70) x 2. */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "uring-hybrid", &p, &r));
	CHECK(r.busy_ns == (101 + 49 + 74 + 74) * US, "uring busy %llu",
	      (unsigned long long)r.busy_ns);

	/* Two threads, each four I/Os: twice the IOPS, the same CPU fraction. */
	p.threads = 2;
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:50us", &p, &r));
	CHECK(r.ios == 8 && r.makespan_ns == 404 * US && near(r.cpu, 196.0 / 404.0),
	      "threads: ios %llu cpu %f", (unsigned long long)r.ios, r.cpu);
	p.threads = 1;
	/* A preempted spinner: seen 2 us late, 10% of its spinning is not its CPU. */
	p.poll_ns = 2 * US;
	p.preempt_ppm = 100000;
	CHECK_OK(run(RAWIO_WAIT_SPIN, NULL, &p, &r));
	CHECK(r.makespan_ns == 4 * 103 * US && r.busy_ns == 4 * (91800 + 1000),
	      "preempted spin: %llu %llu", (unsigned long long)r.makespan_ns,
	      (unsigned long long)r.busy_ns);
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:50us", &p, &r));
	CHECK(r.busy_ns == 4 * (3000 + 42300 + 1000), "preempted hybrid: spin 102 - 55 = 47 x 0.9");
	p.poll_ns = 0;
	p.preempt_ppm = 0;
	p.max_ios = 6; /* wraps around the trace */
	CHECK_OK(run(RAWIO_WAIT_SPIN, NULL, &p, &r));
	CHECK(r.ios == 6 && r.makespan_ns == 606 * US, "max_ios");
	return T_PASS;
}

static int test_wake_table(void)
{
	struct rawio_pollsim_wake w[2] = { 0 };
	struct rawio_pollsim_params p;
	struct rawio_pollsim_result r;

	params(&p);
	w[0].sleep_ns = 10 * US;
	w[1].sleep_ns = 100 * US;
	for (unsigned q = 0; q < RAWIO_POLLSIM_WAKE_Q; q++) {
		w[0].q[q] = 2 * US;
		w[1].q[q] = 6 * US;
	}
	p.wake = w;
	p.wake_nr = 2;
	/* A 55 us sleep: halfway, a 4 us wake-up: awake at 59, spin 41, busy 45. */
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:55us", &p, &r));
	CHECK(r.busy_ns == 4 * 45 * US, "interpolated wake-up: busy %llu",
	      (unsigned long long)r.busy_ns);
	/* Measured CPU per sleep in the rows: 10 us and 20 us, so 15 us at 55 us, + irq 1. */
	w[0].cpu_ns = 10 * US;
	w[1].cpu_ns = 20 * US;
	CHECK_OK(run(RAWIO_WAIT_HYBRID, "fixed:55us", &p, &r));
	CHECK(r.busy_ns == 4 * (16 + 41 + 1) * US, "interpolated CPU: busy %llu",
	      (unsigned long long)r.busy_ns);
	w[0].cpu_ns = w[1].cpu_ns = 0;
	/* Block sleeps the device's 100 us: 6 us, clamped past the table's end too. */
	CHECK_OK(run(RAWIO_WAIT_BLOCK, NULL, &p, &r));
	CHECK(near(r.lat_mean_ns, 106 * US), "block wake-up from the table: %f", r.lat_mean_ns);
	w[1].q[0] = 7 * US; /* not ascending */
	CHECK(run(RAWIO_WAIT_BLOCK, NULL, &p, &r) == -EINVAL, "bad table refused");
	return T_PASS;
}

static int test_search(void)
{
	struct rawio_poll_cfg rules[2];
	uint64_t periods[] = { 0, 10000000 };
	struct rawio_pollsim_grid g = { .rules = rules,
					.nr_rules = 2,
					.ratio_lo = 50,
					.ratio_hi = 100,
					.ratio_step = 25,
					.periods_ns = periods,
					.nr_periods = 2 };
	struct rawio_pollsim_params p;
	struct rawio_pollsim_result *res, spin;
	size_t nr;
	long b;

	params(&p);
	CHECK_OK(rawio_poll_cfg_parse("min", &rules[0]));
	CHECK_OK(rawio_poll_cfg_parse("runmin", &rules[1]));
	CHECK_OK(rawio_pollsim_search(&trace, &g, &p, &res, &nr));
	/* min: 3 ratios x 2 periods; runmin: 3 ratios, no period. */
	CHECK(nr == 9, "%zu results", nr);
	CHECK(res[0].cfg.rule == RAWIO_POLL_MIN && res[0].cfg.ratio == 50 &&
		      res[0].cfg.period_ns == 0,
	      "order: rule, period, ratio");
	CHECK(res[2].cfg.ratio == 100 && res[3].cfg.period_ns == 10000000, "order");
	CHECK(res[8].cfg.rule == RAWIO_POLL_RUNMIN && res[8].cfg.ratio == 100, "runmin last");
	/* min:100:0 sleeps 100 and wakes 5 us late: fewest CPU, but IOPS short by ~4%. */
	CHECK_OK(run(RAWIO_WAIT_SPIN, NULL, &p, &spin));
	b = rawio_pollsim_best(res, nr, RAWIO_POLLSIM_CPU, 0.01, spin.iops);
	CHECK(b == 1, "cpu within 1%%: min:75:0, got %ld", b);
	b = rawio_pollsim_best(res, nr, RAWIO_POLLSIM_CPU, 0.10, spin.iops);
	CHECK(b == 2, "cpu within 10%%: min:100:0, got %ld", b);
	b = rawio_pollsim_best(res, nr, RAWIO_POLLSIM_IOPS, 0, spin.iops);
	CHECK(res[b].iops >= spin.iops * 0.999, "iops");
	CHECK(rawio_pollsim_best(res, nr, RAWIO_POLLSIM_KIOPS_CORE, 0.0, spin.iops * 2) == -1,
	      "nothing qualifies");
	free(res);
	g.ratio_lo = 200;
	CHECK(rawio_pollsim_search(&trace, &g, &p, &res, &nr) == -EINVAL, "empty ratio range");
	return T_PASS;
}

static int test_errors(void)
{
	struct rawio_poll_trace empty = { 0 };
	struct rawio_pollsim_params p;
	struct rawio_pollsim_result r;
	struct rawio_poll_cfg c = { .rule = RAWIO_POLL_RULE_NR };

	params(&p);
	CHECK(rawio_pollsim_run(&empty, RAWIO_WAIT_SPIN, NULL, &p, &r) == -EINVAL, "empty");
	CHECK(rawio_pollsim_run(&trace, RAWIO_WAIT_NR, NULL, &p, &r) == -EINVAL, "mode");
	CHECK(rawio_pollsim_run(&trace, RAWIO_WAIT_HYBRID, &c, &p, &r) == -EINVAL, "cfg");
	CHECK(rawio_pollsim_run(&trace, RAWIO_WAIT_HYBRID, NULL, &p, &r) == -EINVAL, "no cfg");
	p.size = 8;
	CHECK(rawio_pollsim_run(&trace, RAWIO_WAIT_SPIN, NULL, &p, &r) == -EINVAL, "size");
	return T_PASS;
}

int main(void)
{
	for (int i = 0; i < 4; i++)
		ios[i] = (struct rawio_poll_io){ .lat_ns = 100 * US, .bytes = 4096, .dir = 0 };
	if (test_modes() || test_wake_table() || test_search() || test_errors())
		return T_FAIL;
	return T_PASS;
}
