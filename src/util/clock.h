/* SPDX-License-Identifier: MIT */
/* Clocks: the monotonic clock every request is stamped with, and wall time for on-disk records. */
#ifndef RAWIO_UTIL_CLOCK_H
#define RAWIO_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns (exported as rawio_now_ns, declared in rawio/engine.h). */
uint64_t rawio_now_ns(void);

/* CLOCK_REALTIME in ns since the epoch: for timestamps written to disk. */
uint64_t clock_realtime_ns(void);

/* CPU time of the whole process (every thread) in ns: for CPU cost per operation. */
uint64_t clock_process_cpu_ns(void);

#endif
