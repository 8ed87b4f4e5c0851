// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

void report_add(char *r, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r || *used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}
