// SPDX-License-Identifier: MIT
/*
 * The cache's I/O classes: without io properties the devices are driven
 * directly (no scheduler, and the stats say so); with them, four threads
 * write and read back their blocks while the cache logs them, then drain
 * writes them back, and every byte reads back right, on the cache and on the
 * backing device. Each class counts its own I/O (backing migrate bytes are
 * exactly the dirty blocks drained), and class.*.shares reach both
 * schedulers at run time.
 */
#include <pthread.h>

#include "cache_test.h"

#define THREADS 4u
#define PER	256u
#define BLK	4096u

struct worker {
	struct rawio_cache *c;
	unsigned id;
	int err;
};

static uint64_t w_block(unsigned id, unsigned i)
{
	return (uint64_t)i * THREADS + id; /* distinct across threads */
}

static void w_fill(char *buf, uint64_t blk)
{
	for (unsigned s = 0; s < BLK / 512; s++)
		t_sector_fill(buf + s * 512, blk * (BLK / 512) + s, 1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char *buf = rawio_buf_alloc(BLK, BLK), *back = rawio_buf_alloc(BLK, BLK);

	for (unsigned i = 0; i < PER && !w->err; i++) {
		uint64_t blk = w_block(w->id, i);

		w_fill(buf, blk);
		w->err = rawio_cache_write(w->c, buf, BLK, blk * BLK, 0);
		if (!w->err)
			w->err = rawio_cache_read(w->c, back, BLK, blk * BLK);
		if (!w->err && memcmp(buf, back, BLK))
			w->err = -EILSEQ;
	}
	rawio_buf_free(buf);
	rawio_buf_free(back);
	return NULL;
}

static int check_all(struct t_cache *t, bool on_backing)
{
	char *buf = rawio_buf_alloc(BLK, BLK), *want = rawio_buf_alloc(BLK, BLK);
	const char *mem = rawio_dev_mem(t->bdev);

	CHECK(buf && want, "buffers");
	for (unsigned id = 0; id < THREADS; id++)
		for (unsigned i = 0; i < PER; i++) {
			uint64_t blk = w_block(id, i);

			w_fill(want, blk);
			CHECK_OK(rawio_cache_read(t->c, buf, BLK, blk * BLK));
			CHECK(!memcmp(buf, want, BLK), "block %llu reads wrong",
			      (unsigned long long)blk);
			CHECK(!on_backing || !memcmp(mem + blk * BLK, want, BLK),
			      "block %llu not written back", (unsigned long long)blk);
		}
	rawio_buf_free(buf);
	rawio_buf_free(want);
	return T_PASS;
}

int main(void)
{
	struct rawio_io_props p = { .read_iops = 200000,
				    .read_bandwidth = 2000ull << 20,
				    .write_iops = 100000,
				    .write_bandwidth = 1000ull << 20 };
	struct rawio_sched_class_stat cs[2][RAWIO_CACHE_NR_CLASSES];
	struct rawio_sched_stat ss;
	struct rawio_cache_stat st;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct t_cache t;
	char desc[160];
	uint64_t v, dirty;

	snprintf(p.mountpoint, sizeof(p.mountpoint), "mem");
	CHECK_OK(t_cache_new(&t, 16 << 20, 64 << 20, 64 << 10));
	CHECK(!rawio_cache_sched_stat(t.c, 0, &ss, cs[0], desc, sizeof(desc)), "no props: direct");
	CHECK(!strcmp(desc, "direct (no io properties)"), "desc '%s'", desc);
	CHECK(!rawio_cache_sched_stat(t.c, 1, &ss, cs[1], NULL, 0), "no props: direct");
	/* Kept while direct, applied once a scheduler exists. */
	CHECK_OK(rawio_cache_tunable_set(t.c, "class.migrate.shares", 7));

	t.o.cache_io_props = &p;
	t.o.backing_io_props = &p;
	t.tun.migrate_shares = 7;
	CHECK_OK(t_cache_reopen(&t));
	CHECK(rawio_cache_sched_stat(t.c, 0, &ss, cs[0], desc, sizeof(desc)), "cache scheduled");
	CHECK(ss.model && !strncmp(desc, "model ", 6), "model: '%s'", desc);
	CHECK(cs[0][3].shares == 7 && cs[0][0].shares == 1000, "shares at open %u %u",
	      cs[0][3].shares, cs[0][0].shares);

	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .c = t.c, .id = i };
		CHECK(!pthread_create(&th[i], NULL, worker_main, &w[i]), "thread");
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK(!w[i].err, "worker %u: %s", i, rawio_strerror(w[i].err));
	}
	if (check_all(&t, false))
		return T_FAIL;
	CHECK_OK(rawio_cache_flush(t.c));
	rawio_cache_stat(t.c, &st);
	dirty = st.dirty_blocks;
	CHECK(dirty == THREADS * PER, "dirty blocks %llu", (unsigned long long)dirty);

	/* Shares at run time reach both devices; out of range is refused. */
	CHECK_OK(rawio_cache_tunable_set(t.c, "class.migrate.shares", 50));
	CHECK(rawio_cache_tunable_set(t.c, "class.migrate.shares", 0) == -ERANGE, "0 shares");
	CHECK(rawio_cache_tunable_set(t.c, "class.read.shares", 65536) == -ERANGE, "65536");
	CHECK_OK(rawio_cache_tunable_get(t.c, "class.migrate.shares", &v));
	CHECK(v == 50, "get %llu", (unsigned long long)v);

	CHECK_OK(rawio_cache_drain(t.c));
	if (check_all(&t, true))
		return T_FAIL;
	CHECK(rawio_cache_sched_stat(t.c, 0, &ss, cs[0], NULL, 0), "cache");
	CHECK(rawio_cache_sched_stat(t.c, 1, &ss, cs[1], NULL, 0), "backing");
	for (unsigned d = 0; d < 2; d++)
		CHECK(cs[d][3].shares == 50, "dev %u migrate shares %u", d, cs[d][3].shares);
	CHECK(!strcmp(cs[0][0].name, "read") && !strcmp(cs[0][3].name, "migrate"), "names");
	CHECK(cs[0][0].requests > 0, "cache reads counted");
	CHECK(cs[0][2].requests > 0 && cs[0][2].bytes > dirty * BLK, "segment writes %llu B",
	      (unsigned long long)cs[0][2].bytes);
	CHECK(cs[0][3].bytes >= dirty * BLK, "migration reads %llu B",
	      (unsigned long long)cs[0][3].bytes);
	/* Whole blocks only: the backing device got exactly the dirty blocks. */
	CHECK(cs[1][3].bytes == dirty * BLK, "backing migrate %llu B, want %llu",
	      (unsigned long long)cs[1][3].bytes, (unsigned long long)(dirty * BLK));
	CHECK(cs[1][1].requests == 0 && cs[1][2].requests == 0, "no write/flush on backing");
	for (unsigned d = 0; d < 2; d++)
		for (unsigned k = 0; k < RAWIO_CACHE_NR_CLASSES; k++)
			CHECK(cs[d][k].queued == 0, "dev %u class %u queued", d, k);
	t_cache_done(&t);
	return T_PASS;
}
