/* SPDX-License-Identifier: MIT */
/* A small seeded generator (splitmix64): every random choice in tests and fault
 * injection derives from one seed, so a failure replays from its seed alone. */
#ifndef RAWIO_UTIL_RNG_H
#define RAWIO_UTIL_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return rng_next(state) % n;
}

#endif
