// SPDX-License-Identifier: MIT
/*
 * A rawio cache in front of a remote volume: the backing device is an NBD
 * export (nbdkit's file plugin behind the delay filter, 1 ms per write), the
 * cache device a local file.
 *
 *   nbd_cache reopen     write through the cache; kill the server; writes and
 *                        flushes are still acknowledged, a drain fails and
 *                        nothing dirty is lost; close; the server comes back;
 *                        reopen, drain; the backing file holds every write
 *   nbd_cache reconnect  the same, but the cache stays open: after the server
 *                        comes back, a drain on the same cache writes it all
 *                        back (the nbd engine reconnects)
 *   nbd_cache down       the server is down when the cache opens (by path): it
 *                        opens, stat names the backing as down, cached blocks
 *                        read back, writes are absorbed; the server comes
 *                        back; a drain writes everything back, nothing lost
 *   nbd_cache nbddev     cache device and backing both on nbdkit memory
 *                        exports: format, open, write, drain, check by path
 *   nbd_cache merge      write-back merges: runs written forward and backward,
 *                        rewritten in later segments, scattered blocks and
 *                        single sectors, drained at nr_batched_migration 32 and
 *                        1: fewer backing writes than blocks, and the backing
 *                        file holds exactly what was written, sector by sector
 */
#include <fcntl.h>
#include <signal.h>

#include <rawio/cache.h>

#include "harness.h"
#include "nbd_srv.h"

#define BLK	  4096u
#define BACK_SIZE (32u << 20)
#define NBLK	  (BACK_SIZE / BLK)

static struct srv srv, srv2;
static char backing_img[256], cache_img[256];
static uint8_t want[NBLK]; /* the seed last written to each block, 0 = never */

static int start_server(void)
{
	char file[300];
	const char *args[] = { "--filter=delay", "file", file, "delay-write=1ms", NULL };

	snprintf(file, sizeof(file), "file=%s", backing_img);
	return srv_start(&srv, args);
}

static int open_devs(struct rawio_dev **cdev, struct rawio_dev **bdev)
{
	char err[512] = "";
	struct rawio_dev_opts o = { .size = sizeof(o), .errbuf = err, .errbuf_len = sizeof(err) };
	int ret = rawio_dev_open(cdev, cache_img, &o);

	if (!ret)
		ret = rawio_dev_open(bdev, srv.uri, &o);
	if (ret)
		fprintf(stderr, "open: %s\n", err);
	return ret;
}

static int open_cache(struct rawio_cache **c, struct rawio_dev *cdev, struct rawio_dev *bdev,
		      bool migrate)
{
	static struct rawio_cache_tunables tun;
	static char err[512];
	struct rawio_cache_opts o = { .size = sizeof(o),
				      .backing_engine = NULL, /* an NBD URI: nbd by default */
				      .tunables = &tun,
				      .errbuf = err,
				      .errbuf_len = sizeof(err) };
	int ret;

	rawio_cache_tunables_default(&tun);
	tun.allow_migrate = migrate;
	/* The cache's own default is uring; say nbd until it asks rawio_engine_default(). */
	o.backing_engine = rawio_engine_default(rawio_dev_info(bdev));
	ret = rawio_cache_open(c, cdev, bdev, &o);
	if (ret)
		fprintf(stderr, "cache open: %s: %s\n", rawio_strerror(ret), err);
	return ret;
}

/* Write COUNT blocks with SEED at scattered blocks, then flush. */
static int write_blocks(struct rawio_cache *c, char *buf, unsigned first, unsigned count,
			uint8_t seed)
{
	for (unsigned i = first; i < first + count; i++) {
		uint64_t b = ((uint64_t)i * 2654435761u) % NBLK;
		int ret;

		t_fill(buf, BLK, seed, b * BLK);
		ret = rawio_cache_write(c, buf, BLK, b * BLK, 0);
		if (ret) {
			fprintf(stderr, "cache write at block %llu: %s\n", (unsigned long long)b,
				rawio_strerror(ret));
			return ret;
		}
		want[b] = seed;
	}
	return rawio_cache_flush(c);
}

/* Every block written reads back with its newest seed, through READ (cache or file). */
static int verify(int (*read_blk)(void *arg, char *buf, uint64_t off), void *arg, char *buf,
		  const char *what)
{
	unsigned checked = 0;

	for (uint64_t b = 0; b < NBLK; b++) {
		if (!want[b])
			continue;
		CHECK(read_blk(arg, buf, b * BLK) == 0, "%s: read block %llu", what,
		      (unsigned long long)b);
		CHECK(t_verify(buf, BLK, want[b], b * BLK) == 0, "%s: block %llu is not seed %u",
		      what, (unsigned long long)b, want[b]);
		checked++;
	}
	printf("%s: %u blocks verified\n", what, checked);
	return T_PASS;
}

static int read_cache(void *arg, char *buf, uint64_t off)
{
	return rawio_cache_read(arg, buf, BLK, off);
}

static int read_file(void *arg, char *buf, uint64_t off)
{
	return pread(*(int *)arg, buf, BLK, (off_t)off) == BLK ? 0 : -EIO;
}

/* The backing and cache files in the server's directory, and the server on the backing. */
static int make_files(void)
{
	int fd;

	snprintf(backing_img, sizeof(backing_img), "%s/backing.img", srv.dir);
	snprintf(cache_img, sizeof(cache_img), "%s/cache.img", srv.dir);
	fd = open(backing_img, O_RDWR | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, BACK_SIZE) == 0, "backing file");
	close(fd);
	fd = open(cache_img, O_RDWR | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 16u << 20) == 0, "cache file");
	close(fd);
	CHECK(start_server() == 0, "nbdkit did not start");
	return 0;
}

/* Close C and both devices, stop the server, open the backing file read-only in *FD. */
static int close_all(struct rawio_cache *c, struct rawio_dev *cdev, struct rawio_dev *bdev, int *fd)
{
	CHECK_OK(rawio_cache_close(c));
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	srv_stop(&srv, SIGTERM);
	*fd = open(backing_img, O_RDONLY);
	CHECK(*fd >= 0, "backing file");
	return 0;
}

static int run(bool reopen)
{
	struct rawio_cache_format_opts fo = { .size = sizeof(fo), .segment_size = 64u << 10 };
	struct rawio_dev *cdev = NULL, *bdev = NULL;
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	char *buf = rawio_buf_alloc(BLK, BLK);
	int fd, ret;

	CHECK(buf, "buffer");
	CHECK_OK(make_files());
	CHECK_OK(open_devs(&cdev, &bdev));
	CHECK_OK(rawio_cache_format(cdev, bdev, &fo));
	CHECK_OK(open_cache(&c, cdev, bdev, false));

	/* Acknowledged and durable in the cache, nothing written back yet. */
	CHECK_OK(write_blocks(c, buf, 0, 600, 1));
	srv_stop(&srv, SIGKILL);

	/* The backing is gone: writes and flushes still succeed, write-back does not. */
	CHECK_OK(write_blocks(c, buf, 400, 400, 2));
	CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 1));
	ret = rawio_cache_drain(c);
	CHECK(ret < 0, "a drain with the backing server gone returned %d", ret);
	rawio_cache_stat(c, &st);
	CHECK(st.dirty_blocks > 0 && st.migrate_errors > 0 && st.error == 0,
	      "after the failed drain: %llu dirty, %llu migration errors, error %d",
	      (unsigned long long)st.dirty_blocks, (unsigned long long)st.migrate_errors, st.error);
	printf("server gone: drain %s, %llu blocks dirty, %llu failed batches\n",
	       rawio_strerror(ret), (unsigned long long)st.dirty_blocks,
	       (unsigned long long)st.migrate_errors);
	if (verify(read_cache, c, buf, "through the cache, server gone"))
		return T_FAIL;

	if (reopen) {
		CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 0));
		CHECK_OK(rawio_cache_close(c));
		rawio_dev_close(bdev);
		rawio_dev_close(cdev);
		CHECK(start_server() == 0, "nbdkit did not restart");
		CHECK_OK(open_devs(&cdev, &bdev));
		CHECK_OK(open_cache(&c, cdev, bdev, false));
		rawio_cache_stat(c, &st);
		CHECK(st.dirty_blocks > 0, "the reopened cache lost its dirty blocks");
	} else {
		CHECK(start_server() == 0, "nbdkit did not restart");
		srv_sleep_ms(150); /* past the engine's reconnect interval */
	}
	CHECK_OK(rawio_cache_drain(c));
	rawio_cache_stat(c, &st);
	CHECK(st.dirty_blocks == 0, "%llu blocks still dirty after the drain",
	      (unsigned long long)st.dirty_blocks);
	CHECK_OK(close_all(c, cdev, bdev, &fd));
	ret = verify(read_file, &fd, buf,
		     reopen ? "backing file after reopen and drain"
			    : "backing file after reconnect and drain");
	close(fd);
	rawio_buf_free(buf);
	return ret;
}

static int open_path(struct rawio_cache **c, const char *cpath, const char *bpath, bool migrate)
{
	static struct rawio_cache_tunables tun;
	static char err[512];
	struct rawio_cache_opts o = {
		.size = sizeof(o), .tunables = &tun, .errbuf = err, .errbuf_len = sizeof(err)
	};
	int ret;

	rawio_cache_tunables_default(&tun);
	tun.allow_migrate = migrate;
	err[0] = '\0';
	ret = rawio_cache_open_path(c, cpath, bpath, &o);
	if (ret)
		fprintf(stderr, "cache open %s %s: %s: %s\n", cpath, bpath, rawio_strerror(ret),
			err);
	return ret;
}

static int read_nbd(void *arg, char *buf, uint64_t off)
{
	int64_t res = rawio_engine_io(arg, RAWIO_OP_READ, 0, buf, BLK, off);

	return res == BLK ? 0 : -EIO;
}

/* The server is down when the cache opens: it opens, absorbs, and writes back later. */
static int run_down(void)
{
	struct rawio_cache_format_opts fo = { .size = sizeof(fo), .segment_size = 64u << 10 };
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	char *buf = rawio_buf_alloc(BLK, BLK);
	int fd, ret;

	CHECK(buf, "buffer");
	CHECK_OK(make_files());
	CHECK_OK(rawio_cache_format_path(cache_img, srv.uri, &fo));
	CHECK_OK(open_path(&c, cache_img, srv.uri, false));
	CHECK_OK(write_blocks(c, buf, 0, 300, 1));
	CHECK_OK(rawio_cache_close(c));
	srv_stop(&srv, SIGKILL);

	/* Opened with the server away: it opens, and says so. */
	CHECK_OK(open_path(&c, cache_img, srv.uri, false));
	rawio_cache_stat(c, &st);
	CHECK(st.backing_error < 0 && st.dirty_blocks > 0,
	      "opened with the backing down: backing_error %d, %llu dirty", st.backing_error,
	      (unsigned long long)st.dirty_blocks);
	printf("opened with the backing down: %s, %llu blocks dirty\n",
	       rawio_strerror(st.backing_error), (unsigned long long)st.dirty_blocks);
	if (verify(read_cache, c, buf, "cached blocks, backing down"))
		return T_FAIL;
	CHECK_OK(write_blocks(c, buf, 200, 400, 2));
	/* Write-back fails and retries; nothing is marked clean. */
	CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 1));
	ret = rawio_cache_drain(c);
	rawio_cache_stat(c, &st);
	CHECK(ret < 0 && st.backing_error < 0 && st.migrate_fail_streak > 0 && st.error == 0,
	      "drain while down: %d, backing_error %d, streak %llu, error %d", ret,
	      st.backing_error, (unsigned long long)st.migrate_fail_streak, st.error);
	printf("drain while down: %s after %llu failed batches\n", rawio_strerror(ret),
	       (unsigned long long)st.migrate_fail_streak);

	CHECK(start_server() == 0, "nbdkit did not restart");
	CHECK_OK(rawio_cache_drain(c));
	rawio_cache_stat(c, &st);
	CHECK(st.dirty_blocks == 0 && st.backing_error == 0,
	      "after the server came back: %llu dirty, backing_error %d",
	      (unsigned long long)st.dirty_blocks, st.backing_error);
	CHECK_OK(rawio_cache_close(c));
	srv_stop(&srv, SIGTERM);

	fd = open(backing_img, O_RDONLY);
	CHECK(fd >= 0, "backing file");
	ret = verify(read_file, &fd, buf, "backing file after the server came back");
	close(fd);
	rawio_buf_free(buf);
	return ret;
}

/* Cache device and backing both NBD exports (nbdkit memory). */
static int run_nbddev(void)
{
	struct rawio_cache_format_opts fo = { .size = sizeof(fo), .segment_size = 64u << 10 };
	const char *cargs[] = { "memory", "16M", NULL }, *bargs[] = { "memory", "32M", NULL };
	struct rawio_dev_opts dopts = { .size = sizeof(dopts) };
	struct rawio_cache_stat st;
	struct rawio_cache *c = NULL;
	struct rawio_dev *bdev = NULL;
	struct rawio_engine *e = NULL;
	char *buf = rawio_buf_alloc(BLK, BLK), report[1024] = "";
	int ret;

	CHECK(buf, "buffer");
	CHECK(srv_start(&srv, cargs) == 0, "nbdkit (cache) did not start");
	CHECK(srv_start(&srv2, bargs) == 0, "nbdkit (backing) did not start");
	CHECK_OK(rawio_cache_format_path(srv.uri, srv2.uri, &fo));
	CHECK_OK(open_path(&c, srv.uri, srv2.uri, false));
	CHECK_OK(write_blocks(c, buf, 0, 500, 1));
	CHECK_OK(write_blocks(c, buf, 250, 500, 2));
	if (verify(read_cache, c, buf, "through the cache on nbd"))
		return T_FAIL;
	CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 1));
	CHECK_OK(rawio_cache_drain(c));
	rawio_cache_stat(c, &st);
	CHECK(st.dirty_blocks == 0 && st.migrate_blocks > 0, "after drain: %llu dirty, %llu moved",
	      (unsigned long long)st.dirty_blocks, (unsigned long long)st.migrate_blocks);
	CHECK_OK(rawio_cache_close(c));
	/* Reopened (recovery over NBD), checked read-only. */
	CHECK_OK(open_path(&c, srv.uri, srv2.uri, false));
	CHECK_OK(rawio_cache_close(c));
	ret = rawio_cache_check_path(srv.uri, srv2.uri, NULL, report, sizeof(report));
	CHECK(ret == 0, "check: %s: %s", rawio_strerror(ret), report);

	CHECK_OK(rawio_dev_open(&bdev, srv2.uri, &dopts));
	CHECK_OK(rawio_engine_open(&e, "nbd", bdev, NULL));
	ret = verify(read_nbd, e, buf, "backing export after drain");
	rawio_engine_close(e);
	rawio_dev_close(bdev);
	srv_stop(&srv2, SIGTERM);
	srv_stop(&srv, SIGTERM);
	rawio_buf_free(buf);
	return ret;
}

/* Write blocks FIRST .. FIRST + COUNT - 1 with SEED, backward if STEP is -1. */
static int write_run(struct rawio_cache *c, char *buf, unsigned first, unsigned count, int step,
		     uint8_t seed)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t b = step > 0 ? first + i : first + count - 1 - i;

		t_fill(buf, BLK, seed, b * BLK);
		CHECK_OK(rawio_cache_write(c, buf, BLK, b * BLK, 0));
		want[b] = seed;
	}
	return rawio_cache_flush(c);
}

#define SECT	       512u
#define PART_FIRST     7000u /* blocks with one sector written, the rest never */
#define PART_BLOCKS    24u
#define PART_SECTOR(b) ((b) % (BLK / SECT))

/* Drain at BATCH; the batch's backing writes must be fewer than its blocks (merged). */
static int drain_merged(struct rawio_cache *c, unsigned batch)
{
	struct rawio_cache_stat s0, s1;

	rawio_cache_stat(c, &s0);
	CHECK_OK(rawio_cache_tunable_set(c, "nr_batched_migration", batch));
	CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 1));
	CHECK_OK(rawio_cache_drain(c));
	CHECK_OK(rawio_cache_tunable_set(c, "allow_migrate", 0));
	rawio_cache_stat(c, &s1);
	printf("batch %u: %llu blocks in %llu backing writes, %llu batches, %llu partial\n", batch,
	       (unsigned long long)(s1.migrate_blocks - s0.migrate_blocks),
	       (unsigned long long)(s1.migrate_writes - s0.migrate_writes),
	       (unsigned long long)(s1.migrate_batches - s0.migrate_batches),
	       (unsigned long long)(s1.migrate_rmw - s0.migrate_rmw));
	CHECK(s1.dirty_blocks == 0, "batch %u: %llu blocks dirty after the drain", batch,
	      (unsigned long long)s1.dirty_blocks);
	CHECK(s1.migrate_writes - s0.migrate_writes < s1.migrate_blocks - s0.migrate_blocks,
	      "batch %u: nothing merged", batch);
	return 0;
}

static int run_merge(void)
{
	struct rawio_cache_format_opts fo = { .size = sizeof(fo), .segment_size = 64u << 10 };
	struct rawio_dev *cdev = NULL, *bdev = NULL;
	struct rawio_cache *c = NULL;
	char *buf = rawio_buf_alloc(BLK, BLK), *zero = rawio_buf_alloc(BLK, BLK);
	int fd, ret;

	CHECK(buf && zero, "buffer");
	memset(zero, 0, BLK);
	CHECK_OK(make_files());
	CHECK_OK(open_devs(&cdev, &bdev));
	CHECK_OK(rawio_cache_format(cdev, bdev, &fo));
	CHECK_OK(open_cache(&c, cdev, bdev, false));

	/* Batch 32: runs in both directions, a rewrite over a run's middle, scattered blocks. */
	CHECK_OK(write_run(c, buf, 1000, 100, 1, 1));
	CHECK_OK(write_run(c, buf, 2000, 60, -1, 2));
	CHECK_OK(write_blocks(c, buf, 0, 200, 3));
	CHECK_OK(write_run(c, buf, 1040, 20, -1, 4));
	/* One sector of each of PART_BLOCKS blocks: completed from the backing's zeros. */
	for (unsigned i = 0; i < PART_BLOCKS; i++) {
		uint64_t b = PART_FIRST + i;

		t_fill(buf, SECT, 9, b * BLK + PART_SECTOR(b) * SECT);
		CHECK_OK(rawio_cache_write(c, buf, SECT, b * BLK + PART_SECTOR(b) * SECT, 0));
	}
	CHECK_OK(rawio_cache_flush(c));
	CHECK_OK(drain_merged(c, 32));

	/* Batch 1: a run across the old ones' edges and more scattered blocks. */
	CHECK_OK(write_run(c, buf, 1090, 40, 1, 5));
	CHECK_OK(write_run(c, buf, 1995, 30, -1, 6));
	CHECK_OK(write_blocks(c, buf, 150, 100, 7));
	CHECK_OK(drain_merged(c, 1));
	CHECK_OK(close_all(c, cdev, bdev, &fd));
	ret = verify(read_file, &fd, buf, "backing file after merged write-back");
	for (unsigned i = 0; !ret && i < PART_BLOCKS; i++) {
		uint64_t b = PART_FIRST + i;
		unsigned k = PART_SECTOR(b);

		CHECK(read_file(&fd, buf, b * BLK) == 0, "read block %llu", (unsigned long long)b);
		CHECK(t_verify(buf + k * SECT, SECT, 9, b * BLK + k * SECT) == 0 &&
			      !memcmp(buf, zero, k * SECT) &&
			      !memcmp(buf + (k + 1) * SECT, zero, BLK - (k + 1) * SECT),
		      "block %llu: sector %u or the zeros around it wrong", (unsigned long long)b,
		      k);
	}
	close(fd);
	rawio_buf_free(zero);
	rawio_buf_free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";
	int ret;

	if (strcmp(mode, "reopen") && strcmp(mode, "reconnect") && strcmp(mode, "down") &&
	    strcmp(mode, "nbddev") && strcmp(mode, "merge")) {
		fprintf(stderr, "usage: %s reopen|reconnect|down|nbddev|merge\n", argv[0]);
		return T_FAIL;
	}
	ret = srv_setup(&srv);
	if (ret)
		return ret;
	ret = srv_setup(&srv2);
	if (ret) {
		srv_fini(&srv);
		return ret;
	}
	if (!strcmp(mode, "down"))
		ret = run_down();
	else if (!strcmp(mode, "nbddev"))
		ret = run_nbddev();
	else if (!strcmp(mode, "merge"))
		ret = run_merge();
	else
		ret = run(!strcmp(mode, "reopen"));
	srv_fini(&srv2);
	srv_fini(&srv);
	return ret;
}
