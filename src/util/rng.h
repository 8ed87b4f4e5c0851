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

/* xorshift64*: cheaper, for streams that need speed more than quality (offsets
 * mixes, buffer contents, simulated jitter). The state must never be 0. */
static inline uint64_t rng_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return rng_next(state) % n;
}

#endif
