/* SPDX-License-Identifier: MIT */
/* fsqual: private interfaces between fsqual.c (the matrix) and probe.c (what it observes). */
#ifndef RAWIO_FSQUAL_IMPL_H
#define RAWIO_FSQUAL_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Voluntary context switches of the calling thread so far (getrusage RUSAGE_THREAD). */
uint64_t fsqual_nvcsw(void);

/* The io-wq workers of thread TID, as /proc/self/task shows them right now. */
struct fsqual_iowq {
	unsigned workers;  /* threads named iou-wrk-TID */
	uint64_t switches; /* their voluntary + involuntary context switches */
	uint64_t cpu_ns;   /* their run time (schedstat; 0 when absent) */
};

/*
 * fsqual_iowq_scan - look for the io-wq workers of TID. With DETAIL false
 * only workers is counted (cheap enough to sample during a row).
 * Returns 0, or -errno when /proc/self/task cannot be read.
 */
int fsqual_iowq_scan(pid_t tid, bool detail, struct fsqual_iowq *out);

/*
 * fsqual_page_cache - pages of the file at FD (SIZE bytes) resident in the
 * page cache (mmap + mincore). Returns 0, or -errno.
 */
int fsqual_page_cache(int fd, uint64_t size, uint64_t *file_pages, uint64_t *cached_pages);

#endif
