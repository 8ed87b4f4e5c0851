/* SPDX-License-Identifier: MIT */
/* A bounded text report (store and cache check): lines appended until the buffer is full. */
#ifndef RAWIO_UTIL_REPORT_H
#define RAWIO_UTIL_REPORT_H

#include <stddef.h>

/*
 * Append formatted text at R + *USED (LEN bytes in all, NUL kept). Text past the end is
 * cut; *USED never exceeds LEN - 1. Nothing when R is NULL.
 */
void report_add(char *r, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
