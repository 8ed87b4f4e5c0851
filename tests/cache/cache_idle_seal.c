// SPDX-License-Identifier: MIT
/*
 * Periodic seal (seal_idle_ms). A few writes, never flushed, fill part of the
 * open segment; then the process "crashes": the devices' bytes are copied as
 * they are, and a cache opened on the copies (recovery) must read the writes
 * back once the idle seal has logged them.
 *   - seal_idle_ms 0: nothing logs a partial segment; the copy reads the old
 *     data (shows that the check below can fail);
 *   - seal_idle_ms set at run time to 20: the flush worker seals and writes
 *     the segment; we wait for that with a generous timeout (no timing is
 *     asserted), and the copy reads the new data.
 */
#include <unistd.h>

#include "cache_test.h"

#define CACHE_SZ   (8u << 20)
#define BACKING_SZ (4u << 20)
#define NBLOCKS	   3u
#define WAIT_S	   120 /* "eventually", under any load */

/* Open a cache on copies of T's devices as they are now; read back blocks 0..NBLOCKS. */
static int crash_copy_read(struct t_cache *t, uint32_t want_version)
{
	struct rawio_dev *cdev = NULL, *bdev = NULL;
	struct rawio_cache *c = NULL;
	struct rawio_cache_opts o = t->o;
	char *buf = rawio_buf_alloc(4096, 4096);
	int ret = T_FAIL;

	CHECK(buf, "alloc");
	if (rawio_dev_open_mem(&cdev, CACHE_SZ, 512) || rawio_dev_open_mem(&bdev, BACKING_SZ, 512))
		goto out;
	memcpy(rawio_dev_mem(cdev), rawio_dev_mem(t->cdev), CACHE_SZ);
	memcpy(rawio_dev_mem(bdev), rawio_dev_mem(t->bdev), BACKING_SZ);
	if (rawio_cache_open(&c, cdev, bdev, &o)) {
		fprintf(stderr, "open of the crashed copy failed\n");
		goto out;
	}
	for (unsigned b = 0; b < NBLOCKS; b++) {
		if (rawio_cache_read(c, buf, 4096, b * 4096ull))
			goto out;
		for (unsigned s = 0; s < 8; s++) {
			int64_t v = t_sector_version(buf + s * 512, b * 8ull + s);

			if (v != want_version) {
				fprintf(stderr, "block %u sector %u: version %lld, want %u\n", b, s,
					(long long)v, want_version);
				goto out;
			}
		}
	}
	ret = T_PASS;
out:
	rawio_cache_close(c);
	rawio_dev_close(cdev);
	rawio_dev_close(bdev);
	rawio_buf_free(buf);
	return ret;
}

int main(void)
{
	struct rawio_cache_stat st;
	struct t_cache t;
	char *buf = rawio_buf_alloc(4096, 4096);
	uint64_t v, end;

	CHECK(buf, "alloc");
	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, 0));
	CHECK_OK(rawio_cache_tunable_get(t.c, "seal_idle_ms", &v));
	CHECK(v == RAWIO_CACHE_SEAL_IDLE_MS && v > 0, "default %llu", (unsigned long long)v);
	CHECK(rawio_cache_tunable_set(t.c, "seal_idle_ms", 3600001) == -ERANGE, "range");
	CHECK_OK(rawio_cache_tunable_set(t.c, "seal_idle_ms", 0));
	t_backing_init(t.bdev);

	for (unsigned b = 0; b < NBLOCKS; b++) {
		for (unsigned s = 0; s < 8; s++)
			t_sector_fill(buf + s * 512, b * 8ull + s, 1);
		CHECK_OK(rawio_cache_write(t.c, buf, 4096, b * 4096ull, 0));
	}
	/* Off: however long we wait, the writes stay in RAM (a false pass at worst). */
	usleep(200 * 1000);
	rawio_cache_stat(t.c, &st);
	CHECK(st.segments_flushed == 0 && st.idle_seals == 0, "sealed with seal_idle_ms 0");
	CHECK(crash_copy_read(&t, 0) == T_PASS, "with seal_idle_ms 0 the copy has the old data");

	/* On at run time: the worker is woken by the set and seals after 20 ms idle. */
	CHECK_OK(rawio_cache_tunable_set(t.c, "seal_idle_ms", 20));
	end = rawio_now_ns() + WAIT_S * 1000000000ull;
	do {
		rawio_cache_stat(t.c, &st);
		if (st.segments_flushed >= 1)
			break;
		usleep(10 * 1000);
	} while (rawio_now_ns() < end);
	CHECK(st.idle_seals == 1 && st.segments_flushed == 1 && st.segments_partial == 1,
	      "idle seal within %d s: %llu idle seals, %llu segments written", WAIT_S,
	      (unsigned long long)st.idle_seals, (unsigned long long)st.segments_flushed);
	CHECK(crash_copy_read(&t, 1) == T_PASS, "the idle seal logged the writes");

	/* Still readable here, and an idle cache seals nothing more. */
	CHECK(crash_copy_read(&t, 1) == T_PASS, "again");
	t_cache_done(&t);
	rawio_buf_free(buf);
	printf("idle seal: writes logged without a flush, read back after a crash\n");
	return T_PASS;
}
