// SPDX-License-Identifier: MIT
/*
 * The flush threads kicked out of their engine's reap (cache_flush_kick): a
 * cache on files whose cache device engine takes kicks (argv[1]: uring, aio,
 * threads), small segments and few RAM buffers, so segments are sealed while
 * both flush threads wait for their writes; writers with barriers. After a
 * clean close and a reopen (recovery), every block holds its last version,
 * and so does the backing device after a drain: no segment a kicked reap left
 * in flight was lost or written twice out of order.
 */
#include <pthread.h>

#include "cache_test.h"

#define KC_WRITERS  4u
#define KC_BLOCKS   512u /* of the virtual device: 2 MiB */
#define KC_WRITES   2000u
#define KC_CACHE_SZ (128u << 20) /* the whole log: no write-back needed */
#define KC_SEG	    (16u << 10)

static struct rawio_cache *kc;
static uint32_t model[KC_BLOCKS]; /* block b belongs to writer b % KC_WRITERS */
static int kc_err;

static void *kc_writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t buf[4096 / 8];
	uint64_t st = id + 1;

	for (unsigned i = 0; i < KC_WRITES && !__atomic_load_n(&kc_err, __ATOMIC_RELAXED); i++) {
		unsigned b = (unsigned)(rng_next(&st) % (KC_BLOCKS / KC_WRITERS)) * KC_WRITERS + id;
		int ret;

		t_block_tag(buf, id, b, model[b] + 1);
		ret = rawio_cache_write(kc, buf, sizeof(buf), (uint64_t)b * 4096, 0);
		if (!ret)
			model[b]++;
		if (!ret && i % 16 == 15)
			ret = rawio_cache_flush(kc);
		if (ret)
			__atomic_store_n(&kc_err, ret, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Every block of the virtual device (or of the backing device, through DEV) holds its last version. */
static int kc_verify(struct rawio_dev *dev, const char *what)
{
	struct rawio_engine *e = NULL;
	uint64_t *buf = rawio_buf_alloc(4096, 4096), *want = rawio_buf_alloc(4096, 4096);
	int ret = T_FAIL;

	if (!buf || !want || (dev && rawio_engine_open(&e, "sync", dev, NULL)))
		goto out;
	for (unsigned b = 0; b < KC_BLOCKS; b++) {
		int r = dev ? (rawio_engine_io(e, RAWIO_OP_READ, 0, buf, 4096,
					       (uint64_t)b * 4096) == 4096
				       ? 0
				       : -EIO)
			    : rawio_cache_read(kc, buf, 4096, (uint64_t)b * 4096);

		if (r) {
			fprintf(stderr, "%s: block %u: %s\n", what, b, rawio_strerror(r));
			goto out;
		}
		if (!model[b])
			memset(want, 0, 4096);
		else
			t_block_tag(want, b % KC_WRITERS, b, model[b]);
		if (memcmp(buf, want, 4096)) {
			fprintf(stderr, "%s: block %u: not version %u (word 0 %#llx)\n", what, b,
				model[b], (unsigned long long)buf[0]);
			goto out;
		}
	}
	ret = T_PASS;
out:
	rawio_engine_close(e);
	rawio_buf_free(want);
	rawio_buf_free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	const char *engine = argc > 1 ? argv[1] : "uring";
	struct rawio_cache_format_opts f = { .size = sizeof(f), .segment_size = KC_SEG };
	struct rawio_dev_opts copts = { .size = sizeof(copts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = KC_CACHE_SZ };
	struct rawio_dev_opts bopts = { .size = sizeof(bopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = KC_BLOCKS * 4096 };
	struct t_cache t = { 0 };
	pthread_t th[KC_WRITERS];
	char err[256] = "";
	int ret;

	ret = t_open_tmpfile(&t.cdev, "kick-cache", &copts);
	if (ret == T_PASS)
		ret = t_open_tmpfile(&t.bdev, "kick-backing", &bopts);
	if (ret != T_PASS)
		goto out;
	ret = T_FAIL;
	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	if (rawio_cache_format(t.cdev, t.bdev, &f)) {
		fprintf(stderr, "format: %s\n", err);
		goto out;
	}
	t_cache_tunables(&t);
	t.o.size = sizeof(t.o);
	t.o.tunables = &t.tun;
	t.o.cache_engine = engine;
	t.o.nr_buffers = 4; /* few buffers: seals often find both flush threads in reap */
	if (rawio_cache_open(&t.c, t.cdev, t.bdev, &t.o)) {
		fprintf(stderr, "open on %s failed\n", engine);
		goto out;
	}
	kc = t.c;
	for (unsigned i = 0; i < KC_WRITERS; i++)
		if (pthread_create(&th[i], NULL, kc_writer, (void *)(uintptr_t)i))
			goto out;
	for (unsigned i = 0; i < KC_WRITERS; i++)
		pthread_join(th[i], NULL);
	if (kc_err) {
		fprintf(stderr, "writers: %s\n", rawio_strerror(kc_err));
		goto out;
	}
	if (kc_verify(NULL, "before close") || t_cache_reopen(&t))
		goto out;
	kc = t.c;
	if (kc_verify(NULL, "after reopen"))
		goto out;
	if (rawio_cache_drain(t.c) || rawio_cache_close(t.c)) {
		fprintf(stderr, "drain or close failed\n");
		t.c = NULL;
		goto out;
	}
	t.c = NULL;
	if (kc_verify(t.bdev, "backing after drain"))
		goto out;
	ret = T_PASS;
out:
	t_cache_done(&t);
	return ret;
}
