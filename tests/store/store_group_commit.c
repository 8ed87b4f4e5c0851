// SPDX-License-Identifier: MIT
/*
 * Group commit: 8 threads put durable objects at once, sharing flushes
 * (rawio_store_opts.group_commit ALWAYS, then AUTO). Every put succeeds and
 * reads back; every grouped put's slot header on disk is flagged "payload
 * durable"; after a reopen without a checkpoint (roll-forward from the slot
 * headers alone) every object is there byte for byte, and recovery found no
 * torn or damaged slot.
 */
#include <pthread.h>

#include "store_test.h"

#define THREADS 8
#define PUTS	24 /* per thread; the second half overwrites the first's keys */
#define KEYS	12

struct putter {
	struct rawio_store *s;
	int id;
	int failed;
};

static size_t value(int id, int k, int round, char *buf)
{
	size_t len = 100 + (size_t)(id * 37 + k * 11 + round * 5) % 3000;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(id * 7 + k * 3 + round + i);
	return len;
}

static void *putter(void *arg)
{
	struct putter *p = arg;
	char key[16], buf[4096], got[4096];

	for (int i = 0; i < PUTS && !p->failed; i++) {
		int k = i % KEYS, round = i / KEYS;
		size_t len = value(p->id, k, round, buf);
		ssize_t n;
		int ret;

		snprintf(key, sizeof(key), "t%d-k%d", p->id, k);
		ret = rawio_store_put(p->s, key, strlen(key), buf, len, RAWIO_STORE_DURABLE);
		n = rawio_store_get(p->s, key, strlen(key), got, sizeof(got));
		if (ret || n != (ssize_t)len || memcmp(buf, got, len)) {
			fprintf(stderr, "%s: put %d, get %zd of %zu\n", key, ret, n, len);
			p->failed = 1;
		}
	}
	return NULL;
}

/* Every object of every thread: its last value, and (FLAGGED) its header on disk says durable. */
static int check_all(struct t_store *t, bool flagged)
{
	char key[16], buf[4096], got[4096], hdr[STORE_BLOCK];
	struct store_geometry g;
	struct store_slot_hdr h;

	CHECK_OK(t_geometry(t->path, &g));
	for (int id = 0; id < THREADS; id++)
		for (int k = 0; k < KEYS; k++) {
			size_t len = value(id, k, (PUTS - 1 - k) / KEYS, buf);
			struct rawio_store_obj o;
			ssize_t n;

			snprintf(key, sizeof(key), "t%d-k%d", id, k);
			n = rawio_store_get(t->s, key, strlen(key), got, sizeof(got));
			CHECK(n == (ssize_t)len && !memcmp(buf, got, len), "%s: %zd of %zu", key, n,
			      len);
			if (!flagged)
				continue;
			CHECK_OK(rawio_store_lookup(t->s, key, strlen(key), &o));
			CHECK_OK(t_raw(t->path, false, hdr, sizeof(hdr), o.off));
			CHECK_OK(store_slot_hdr_decode(hdr, sizeof(hdr), &g, &h));
			CHECK(h.flags & STORE_SLOT_PAYLOAD_DURABLE, "%s: header not flagged", key);
		}
	return 0;
}

static int run(enum rawio_store_group_commit mode)
{
	struct putter p[THREADS];
	pthread_t tid[THREADS];
	struct rawio_store_recovery r;
	struct rawio_store_stat st;
	struct rawio_store *dead;
	struct t_store t;

	CHECK_OK(t_store_new(&t, "group", 8u << 20, 8u << 10, "uring"));
	/* Reopen with the mode asked for. */
	t.o.group_commit = mode;
	CHECK_OK(t_store_reopen(&t, true));
	for (int i = 0; i < THREADS; i++) {
		p[i] = (struct putter){ .s = t.s, .id = i };
		CHECK(pthread_create(&tid[i], NULL, putter, &p[i]) == 0, "thread");
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < THREADS; i++)
		CHECK(!p[i].failed, "putter %d", i);
	rawio_store_stat(t.s, &st);
	CHECK(st.puts == THREADS * PUTS, "%llu puts", (unsigned long long)st.puts);
	if (mode == RAWIO_STORE_GROUP_ALWAYS)
		CHECK(st.grouped_puts == st.puts && st.group_flushes >= 2 &&
			      st.group_flushes <= 2 * st.grouped_puts,
		      "%llu grouped puts, %llu flushes", (unsigned long long)st.grouped_puts,
		      (unsigned long long)st.group_flushes);
	CHECK_OK(check_all(&t, mode == RAWIO_STORE_GROUP_ALWAYS));

	/* The writer dies (no checkpoint): everything comes back from the slot headers. */
	dead = t.s;
	t_store_crashed(dead);
	t.s = NULL;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.dropped_torn == 0 && r.damaged == 0 && r.nr_found == 0, "recovery found %llu",
	      (unsigned long long)r.nr_found);
	CHECK(r.entries == THREADS * KEYS, "%llu entries", (unsigned long long)r.entries);
	CHECK_OK(check_all(&t, false));
	t_store_done(&t);
	rawio_store_close(dead);
	return 0;
}

int main(void)
{
	CHECK_OK(run(RAWIO_STORE_GROUP_ALWAYS));
	CHECK_OK(run(RAWIO_STORE_GROUP_AUTO));
	return T_PASS;
}
