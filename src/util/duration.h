/* SPDX-License-Identifier: MIT */
/* Durations as users write them: "1.5us", "500ms", "10s", "2m", "1h". One parser for all. */
#ifndef RAWIO_UTIL_DURATION_H
#define RAWIO_UTIL_DURATION_H

#include <stdint.h>

/*
 * Parse S (a decimal number with an optional fraction and a unit: ns, us, ms, s, m, h) into
 * nanoseconds in *OUT. A bare number counts DEF_UNIT_NS nanoseconds per unit. Returns 0,
 * -EINVAL (not a duration: empty, negative, an unknown unit, junk after it) or -ERANGE
 * (longer than MAX_NS). *OUT is untouched on error.
 */
int duration_parse_ns(const char *s, uint64_t def_unit_ns, uint64_t max_ns, uint64_t *out);

#endif
