/* SPDX-License-Identifier: MIT */
/*
 * The library never prints: where a caller gives a buffer (opts.errbuf), a
 * failing call writes one line there saying what failed and where.
 */
#ifndef RAWIO_UTIL_ERRBUF_H
#define RAWIO_UTIL_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Format into BUF (LEN bytes); nothing when BUF is NULL or LEN is 0. */
void errbuf_set(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with a va_list, for parts that wrap it (returning an errno, say). */
void errbuf_vset(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
