// SPDX-License-Identifier: MIT
/*
 * Offsets without repetition bias. fio keeps a bitmap of the blocks it has
 * done (the random map) so that a pass touches every block once; a keyed
 * permutation does the same in O(1) memory and a few multiplications: the
 * pass counter 0, 1, 2, ... goes through a bijection of [0, 2^bits) built
 * from invertible steps (odd multiply, add, xorshift, all mod 2^bits) and is
 * cycle-walked (mapped again while it is >= nblocks), which keeps it a
 * bijection of [0, nblocks). Since nblocks > 2^(bits-1), a walk takes fewer
 * than two steps on average. Each pass draws new keys, so passes differ.
 */
#include "bench_impl.h"

/* splitmix64 one step from X: a good 64-bit mix, for keys and seeds. */
uint64_t bench_mix64(uint64_t x)
{
	return rng_next(&x);
}

void bench_fill_buf(void *buf, size_t len, uint64_t seed)
{
	uint64_t *w = buf, s = bench_mix64(seed) | 1;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = rng_xorshift(&s);
}

static void offsets_new_pass(struct bench_offsets *o)
{
	uint64_t k = o->seed ^ (o->pass * 0xd1b54a32d192ed03ull);

	o->mul1 = bench_mix64(k + 1) | 1;
	o->mul2 = bench_mix64(k + 2) | 1;
	o->add = bench_mix64(k + 3);
	o->next = 0;
}

void bench_offsets_init(struct bench_offsets *o, uint64_t nblocks, bool random, uint64_t seed)
{
	unsigned bits = 0;

	o->nblocks = nblocks;
	o->random = random;
	o->seed = seed;
	o->pass = 0;
	while (bits < 64 && (1ull << bits) < nblocks)
		bits++;
	o->mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	o->shift = bits / 2 + 1;
	offsets_new_pass(o);
}

static inline uint64_t offsets_permute(const struct bench_offsets *o, uint64_t x)
{
	x = (x * o->mul1 + o->add) & o->mask;
	x ^= x >> o->shift;
	x = (x * o->mul2) & o->mask;
	x ^= x >> o->shift;
	return x;
}

uint64_t bench_offsets_next(struct bench_offsets *o)
{
	uint64_t x;

	if (o->next == o->nblocks) {
		o->pass++;
		offsets_new_pass(o);
	}
	x = o->next++;
	if (!o->random)
		return x;
	do
		x = offsets_permute(o, x);
	while (x >= o->nblocks);
	return x;
}
