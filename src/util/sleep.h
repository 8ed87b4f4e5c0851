/* SPDX-License-Identifier: MIT */
/*
 * Precise sleeps and the thread's CPU clock: what the engine's waiter (hybrid
 * sleeps) and the mem engine (its completion timer) share.
 */
#ifndef RAWIO_UTIL_SLEEP_H
#define RAWIO_UTIL_SLEEP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Sleeps on CLOCK_MONOTONIC without the thread's timer slack: the slack is
 * lowered to 1 ns the first time a given thread sleeps through this sleeper
 * (unless keep_slack), since the default 50 us would swamp a hybrid sleep.
 */
struct sleeper {
	pthread_t thread;
	bool slack_set;
	bool keep_slack;
};

void sleeper_sleep_ns(struct sleeper *s, uint64_t ns);
void sleeper_sleep_until(struct sleeper *s, uint64_t abs_ns);

/* CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns; 0 if unreadable. */
uint64_t thread_cpu_ns(void);

#endif
