// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

void errbuf_vset(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
}

void errbuf_set(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(buf, len, fmt, ap);
	va_end(ap);
}
