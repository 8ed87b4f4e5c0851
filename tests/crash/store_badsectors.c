// SPDX-License-Identifier: MIT
/*
 * Bad sectors, seeded: EIO on k random slot headers and bit rot on j others.
 * Recovery drops exactly those k + j entries (k as unreadable, j as corrupt),
 * reports them, and every other object reads back intact; bit rot in a
 * payload is -EBADMSG on get, never data.
 *
 *   store_badsectors [--seeds A:B]
 */
#include <stdio.h>
#include <stdlib.h>

#include "../store/store_test.h"
#include "util/rng.h"

#define NR 300

static int one_seed(uint64_t seed, const char *engine)
{
	struct rawio_fault_range f[40];
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct t_store t;
	uint64_t rng = seed;
	bool bad[NR] = { false };
	unsigned k = 1 + (unsigned)rng_below(&rng, 12), j = (unsigned)rng_below(&rng, 8), nf = 0;
	unsigned rot_payload = 0;
	char key[16], val[64];

	CHECK_OK(t_store_new(&t, "bad", 24u << 20, 64 << 10, "uring"));
	for (int i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value-%d-%llu", i, (unsigned long long)seed);
		CHECK_OK(t_put_str(t.s, key, val, 0));
	}
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));
	/* Object i is in slot i (a fresh store fills slots in order). */
	while (nf < k + j) {
		unsigned slot = (unsigned)rng_below(&rng, NR);

		if (bad[slot])
			continue;
		bad[slot] = true;
		f[nf] = (struct rawio_fault_range){ .off = store_slot_off(&g, slot),
						    .len = 96,
						    .ops = 1u << RAWIO_OP_READ,
						    .bitrot = nf >= k };
		nf++;
	}
	/* And rot one payload byte of an object whose header is fine. */
	do
		rot_payload = (unsigned)rng_below(&rng, NR);
	while (bad[rot_payload]);
	f[nf++] = (struct rawio_fault_range){ .off = store_slot_off(&g, rot_payload) + STORE_BLOCK,
					      .len = 8,
					      .ops = 1u << RAWIO_OP_READ,
					      .bitrot = true };

	t.o.engine = "fault";
	t.o.engine_opts.lower = engine;
	t.o.engine_opts.faults = f;
	t.o.engine_opts.nr_faults = nf;
	t.o.read_only = true;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.dropped_io == k && r.dropped_corrupt == j && r.entries == NR - k - j,
	      "seed %llu (%s): k=%u j=%u: dropped io %llu corrupt %llu, %llu entries",
	      (unsigned long long)seed, engine, k, j, (unsigned long long)r.dropped_io,
	      (unsigned long long)r.dropped_corrupt, (unsigned long long)r.entries);
	for (int i = 0; i < NR; i++) {
		char buf[64];
		ssize_t n;

		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value-%d-%llu", i, (unsigned long long)seed);
		n = rawio_store_get(t.s, key, strlen(key), buf, sizeof(buf));
		if (bad[i])
			CHECK(n == -ENOENT, "seed %llu: bad slot %d still gives %zd",
			      (unsigned long long)seed, i, n);
		else if ((unsigned)i == rot_payload)
			CHECK(n == -EBADMSG, "seed %llu: rotten payload of %d gives %zd",
			      (unsigned long long)seed, i, n);
		else
			CHECK(n == (ssize_t)strlen(val) && !memcmp(buf, val, (size_t)n),
			      "seed %llu: object %d damaged (%zd)", (unsigned long long)seed, i, n);
	}
	t_store_done(&t);
	return T_PASS;
}

int main(int argc, char **argv)
{
	static const char *const engines[] = { "sync", "threads", "aio", "uring" };
	uint64_t from = 1, to = 24;

	if (argc > 2 && !strcmp(argv[1], "--seeds") && sscanf(argv[2], "%lu:%lu", &from, &to) != 2)
		return T_FAIL;
	for (uint64_t s = from; s <= to; s++)
		if (one_seed(s, engines[s % 4]) != T_PASS)
			return T_FAIL;
	printf("bad sectors: seeds %llu..%llu, every engine: exactly the bad entries dropped\n",
	       (unsigned long long)from, (unsigned long long)to);
	return T_PASS;
}
