// SPDX-License-Identifier: MIT
/*
 * Every recovery engine (sync, threads, aio, uring) reads the same headers
 * and reaches the same index: one judge, whatever did the reading.
 */
#include "store_test.h"

struct sum {
	uint64_t n, x;
};

static int sum_fn(void *arg, const struct rawio_store_obj *o)
{
	struct sum *s = arg;

	s->n++;
	s->x ^= (o->slot * 0x9e3779b97f4a7c15ull) ^ (o->generation << 20) ^ o->payload_crc;
	return 0;
}

int main(void)
{
	static const char *const engines[] = { "sync", "threads", "aio", "uring" };
	struct rawio_store_recovery r;
	struct sum first = { 0 };
	struct t_store t;
	char key[16];

	CHECK_OK(t_store_new(&t, "eng", 64u << 20, 16 << 10, "uring"));
	for (int i = 0; i < 1500; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		CHECK_OK(rawio_store_put(t.s, key, strlen(key), key, strlen(key), 0));
	}
	CHECK_OK(rawio_store_checkpoint(t.s));
	for (int i = 0; i < 300; i++) { /* some after the checkpoint */
		snprintf(key, sizeof(key), "late-%d", i);
		CHECK_OK(rawio_store_put(t.s, key, strlen(key), key, 3, 0));
	}
	struct rawio_store *writer = t.s; /* left open, unclosed: as if it had crashed */
	t_store_crashed(t.s);

	t.s = NULL;
	t.o.read_only = true;
	for (size_t e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		struct sum s = { 0 };

		t.o.engine = engines[e];
		CHECK_OK(t_store_reopen(&t, true));
		rawio_store_recovery(t.s, &r);
		CHECK(!strcmp(r.engine, engines[e]), "engine %s", r.engine);
		CHECK(r.entries == 1800 && r.rolled_forward == 300 && r.validated == 1500,
		      "%s: %llu entries, %llu rolled forward, %llu validated", engines[e],
		      (unsigned long long)r.entries, (unsigned long long)r.rolled_forward,
		      (unsigned long long)r.validated);
		rawio_store_list(t.s, sum_fn, &s);
		if (!e)
			first = s;
		CHECK(s.n == first.n && s.x == first.x, "%s reached a different index", engines[e]);
	}
	t_store_done(&t);
	rawio_store_close(writer);
	return T_PASS;
}
