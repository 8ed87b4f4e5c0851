// SPDX-License-Identifier: MIT
/* Precise sleeps (no timer slack) and the thread's CPU clock. */
#include <errno.h>
#include <sys/prctl.h>
#include <time.h>

#include "util/sleep.h"

static void sleeper_slack_lower(struct sleeper *s)
{
	pthread_t self = pthread_self();

	if (s->keep_slack || (s->slack_set && pthread_equal(s->thread, self)))
		return;
	/* Failure only leaves the default slack: the sleeps are longer, not wrong. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	s->thread = self;
	s->slack_set = true;
}

void sleeper_sleep_ns(struct sleeper *s, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	sleeper_slack_lower(s);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

void sleeper_sleep_until(struct sleeper *s, uint64_t abs_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(abs_ns / 1000000000u),
			       .tv_nsec = (long)(abs_ns % 1000000000u) };

	sleeper_slack_lower(s);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
