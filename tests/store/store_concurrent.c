// SPDX-License-Identifier: MIT
/*
 * Concurrent callers: writer threads each own a set of keys (so each knows
 * what its keys must hold), readers read everything, and a checkpointer runs
 * throughout; every get returns a whole, valid value, and after a reopen
 * every key holds its owner's last put.
 */
#include <pthread.h>

#include "store_test.h"

#define WRITERS 4
#define KEYS	16
#define OPS	600

struct shared {
	struct rawio_store *s;
	int stop;
	int failed;
	char last[WRITERS][KEYS][48]; /* "" means deleted or never written */
};

struct worker {
	struct shared *sh;
	int id;
};

static void *writer(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	unsigned seed = (unsigned)w->id * 7919u + 1;

	for (int op = 0; op < OPS && !sh->failed; op++) {
		int k = (int)(rand_r(&seed) % KEYS);
		char key[16], *val = sh->last[w->id][k];
		int ret;

		snprintf(key, sizeof(key), "w%d-k%d", w->id, k);
		if (rand_r(&seed) % 8 == 0) {
			ret = rawio_store_delete(sh->s, key, strlen(key), 0);
			if (ret && !(ret == -ENOENT && !val[0]))
				sh->failed = 1;
			val[0] = 0;
		} else {
			snprintf(val, 48, "%s=%d:%0*d", key, op, (int)(rand_r(&seed) % 20), 0);
			ret = t_put_str(sh->s, key, val, op % 10 == 0 ? RAWIO_STORE_DURABLE : 0);
			if (ret) {
				fprintf(stderr, "put %s: %s\n", key, rawio_strerror(ret));
				sh->failed = 1;
			}
		}
		/* What I wrote last, I read back. */
		if (val[0] && t_get_is(sh->s, key, val)) {
			fprintf(stderr, "%s does not read back as %s\n", key, val);
			sh->failed = 1;
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct shared *sh = arg;
	unsigned seed = 99;
	char buf[64];

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) && !sh->failed) {
		char key[16];
		ssize_t n;

		snprintf(key, sizeof(key), "w%u-k%u", rand_r(&seed) % WRITERS,
			 rand_r(&seed) % KEYS);
		n = rawio_store_get(sh->s, key, strlen(key), buf, sizeof(buf));
		if (n == -ENOENT)
			continue;
		/* Any version is fine, but it must be a whole one of this key. */
		if (n < 0 || (size_t)n < strlen(key) + 1 || memcmp(buf, key, strlen(key)) ||
		    buf[strlen(key)] != '=') {
			fprintf(stderr, "reader: %s gave %zd\n", key, n);
			sh->failed = 1;
		}
	}
	return NULL;
}

static void *checkpointer(void *arg)
{
	struct shared *sh = arg;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) && !sh->failed) {
		int ret = rawio_store_checkpoint(sh->s);

		if (ret) {
			fprintf(stderr, "checkpoint: %s\n", rawio_strerror(ret));
			sh->failed = 1;
		}
		usleep(2000);
	}
	return NULL;
}

int main(void)
{
	static struct shared sh;
	struct worker w[WRITERS];
	pthread_t tw[WRITERS], tr, tc;
	struct t_store t;

	CHECK_OK(t_store_new(&t, "conc", 32u << 20, 64 << 10, "uring"));
	sh.s = t.s;
	pthread_create(&tr, NULL, reader, &sh);
	pthread_create(&tc, NULL, checkpointer, &sh);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct worker){ &sh, i };
		pthread_create(&tw[i], NULL, writer, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(tw[i], NULL);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	pthread_join(tr, NULL);
	pthread_join(tc, NULL);
	CHECK(!sh.failed, "a thread saw a wrong result");

	CHECK_OK(t_store_reopen(&t, true));
	for (int i = 0; i < WRITERS; i++) {
		for (int k = 0; k < KEYS; k++) {
			char key[16];

			snprintf(key, sizeof(key), "w%d-k%d", i, k);
			if (sh.last[i][k][0])
				CHECK_OK(t_get_is(t.s, key, sh.last[i][k]));
			else
				CHECK(rawio_store_get(t.s, key, strlen(key), NULL, 0) == -ENOENT,
				      "%s should be absent", key);
		}
	}
	t_store_done(&t);
	return T_PASS;
}
