// SPDX-License-Identifier: MIT
/*
 * rawio demo: a short tour on file-backed devices under DIR (default ./var).
 * Describes the default device, then runs every engine through the same
 * self-check: write a pattern with a batch, read it back in random order with
 * a batch, verify every block, and report the read IOPS.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rawio/cache.h>
#include <rawio/store.h>

#include "cli.h"
#include "util/rng.h"

#define DEMO_BLOCK 4096u

struct demo_check {
	uint64_t seed;
	uint64_t bad; /* blocks whose data did not verify */
	uint64_t first_bad;
};

static void demo_fill(void *buf, uint64_t seed, uint64_t off)
{
	uint64_t *p = buf;

	for (size_t i = 0; i < DEMO_BLOCK / 8; i++)
		p[i] = (seed ^ off) * 0x9e3779b97f4a7c15ull + i;
}

static int demo_verify(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	struct demo_check *chk = arg;
	const uint64_t *p = data;

	if (io->result != DEMO_BLOCK)
		return 0; /* counted as a failed request by the batch */
	for (size_t i = 0; i < DEMO_BLOCK / 8; i++) {
		if (p[i] != ((chk->seed ^ io->off) * 0x9e3779b97f4a7c15ull + i)) {
			if (!chk->bad++)
				chk->first_bad = io->off;
			break;
		}
	}
	return 0;
}

/* Write NR blocks, read them back shuffled, verify; IOPS of the read pass. */
static int demo_engine(const char *engine, struct rawio_dev *dev, unsigned qd, unsigned nr,
		       double *iops, char *why, size_t why_len)
{
	struct rawio_engine_opts opts = { .size = sizeof(opts), .queue_depth = qd };
	struct demo_check chk = { .seed = rawio_now_ns() };
	struct rawio_batch_io *ios = NULL;
	struct rawio_engine *e = NULL;
	char *wbuf = NULL;
	uint64_t t0, t1;
	ssize_t failed;
	int ret;

	ret = rawio_engine_open(&e, engine, dev, &opts);
	if (ret) {
		snprintf(why, why_len, "cannot open: %s", rawio_strerror(ret));
		return ret;
	}
	ios = calloc(nr, sizeof(*ios));
	wbuf = rawio_dev_buf_alloc(dev, (size_t)nr * DEMO_BLOCK);
	if (!ios || !wbuf) {
		ret = -ENOMEM;
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < nr; i++) {
		ios[i] = (struct rawio_batch_io){ .off = (uint64_t)i * DEMO_BLOCK,
						  .len = DEMO_BLOCK,
						  .buf = wbuf + (size_t)i * DEMO_BLOCK };
		demo_fill(ios[i].buf, chk.seed, ios[i].off);
	}
	failed = rawio_batch_write(e, ios, nr, NULL, NULL);
	if (failed) {
		ret = failed < 0 ? (int)failed : -EIO;
		snprintf(why, why_len, "write pass: %zd failed", failed);
		goto out;
	}
	/* Read back in a shuffled order, into the batch's own buffers. */
	for (unsigned i = 0; i < nr; i++) {
		uint64_t blk = ((uint64_t)i * 2654435761u) % nr;

		ios[i] = (struct rawio_batch_io){ .off = blk * DEMO_BLOCK, .len = DEMO_BLOCK };
	}
	t0 = rawio_now_ns();
	failed = rawio_batch_read(e, ios, nr, demo_verify, &chk);
	t1 = rawio_now_ns();
	*iops = (double)nr * 1e9 / (double)(t1 - t0 ? t1 - t0 : 1);
	if (failed) {
		ret = failed < 0 ? (int)failed : -EIO;
		snprintf(why, why_len, "read pass: %zd failed", failed);
	} else if (chk.bad) {
		ret = -EBADMSG;
		snprintf(why, why_len, "%llu blocks read back wrong, first at offset %llu",
			 (unsigned long long)chk.bad, (unsigned long long)chk.first_bad);
	} else {
		snprintf(why, why_len, "ok: %u blocks written, read back, verified", nr);
	}
out:
	rawio_buf_free(wbuf);
	free(ios);
	rawio_engine_close(e);
	return ret;
}

#define DEMO_OBJS 16
#define DEMO_LATE 4

static int demo_put(struct rawio_store *s, int i)
{
	char key[16], val[256];
	int n;

	snprintf(key, sizeof(key), "obj-%02d", i);
	n = snprintf(val, sizeof(val), "object %d, %0*d", i, i * 7, 0);
	return rawio_store_put(s, key, strlen(key), val, (size_t)n, 0);
}

/* 0 if every object reads back as written. */
static int demo_verify_store(struct rawio_store *s, int nr)
{
	for (int i = 0; i < nr; i++) {
		char key[16], want[256], got[256];
		int n = snprintf(want, sizeof(want), "object %d, %0*d", i, i * 7, 0);
		ssize_t r;

		snprintf(key, sizeof(key), "obj-%02d", i);
		r = rawio_store_get(s, key, strlen(key), got, sizeof(got));
		if (r != n || memcmp(got, want, (size_t)n))
			return -1;
	}
	return 0;
}

/*
 * The slot store: put objects, checkpoint, put more from a child process that
 * then dies without closing, and recover the store with each engine.
 */
static int demo_store(const char *dir)
{
	static const char *const engines[] = { "sync", "threads", "aio", "uring" };
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = 256 << 10,
					     .create_size = 64 << 20 };
	struct rawio_store_opts o = { .size = sizeof(o) };
	struct rawio_store *s;
	char path[4096], err[512] = "";
	struct stat st;
	int ret, status, failures = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/demo-store.img", dir);
	if (!lstat(path, &st) && S_ISREG(st.st_mode))
		unlink(path); /* the demo's own file from an earlier run */
	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	ret = rawio_store_format(path, &f);
	if (!ret)
		ret = rawio_store_open(&s, path, &o);
	if (ret) {
		printf("FAIL: %s\n", err[0] ? err : rawio_strerror(ret));
		return 1;
	}
	for (int i = 0; i < DEMO_OBJS && !ret; i++)
		ret = demo_put(s, i);
	if (!ret)
		ret = rawio_store_checkpoint(s);
	if (ret) {
		printf("FAIL: put/checkpoint: %s\n", rawio_strerror(ret));
		rawio_store_close(s);
		return 1;
	}
	rawio_store_close(s);
	printf("%s: %d objects put, checkpointed; a child process puts %d more and dies "
	       "without closing\n\n",
	       path, DEMO_OBJS, DEMO_LATE);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (rawio_store_open(&s, path, &o))
			_exit(1);
		for (int i = DEMO_OBJS; i < DEMO_OBJS + DEMO_LATE; i++)
			if (demo_put(s, i))
				_exit(1);
		_exit(0); /* no close: no checkpoint */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		printf("FAIL: the child's puts\n");
		return 1;
	}

	printf("%-8s %8s %10s %14s %10s  %s\n", "engine", "objects", "validated", "rolled fwd",
	       "ms", "result");
	o.read_only = true; /* every engine recovers the same bytes */
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		struct rawio_store_recovery r;

		o.engine = engines[i];
		ret = rawio_store_open(&s, path, &o);
		if (ret) {
			printf("%-8s FAIL: %s\n", engines[i], rawio_strerror(ret));
			failures++;
			continue;
		}
		rawio_store_recovery(s, &r);
		ret = demo_verify_store(s, DEMO_OBJS + DEMO_LATE);
		printf("%-8s %8llu %10llu %14llu %10.2f  %s\n", engines[i],
		       (unsigned long long)r.entries, (unsigned long long)r.validated,
		       (unsigned long long)r.rolled_forward, (double)r.ns / 1e6,
		       ret ? "FAIL: objects differ" : "ok: every object reads back");
		failures += ret != 0;
		rawio_store_close(s);
	}
	return failures;
}

#define DEMO_CACHE_BLOCKS 4096u

/* Write (or read back and check) N blocks at OFFS through the cache; IOPS, or < 0. */
static double demo_cache_io(struct rawio_cache *c, const uint64_t *offs, unsigned n, uint64_t seed,
			    bool write)
{
	char *buf = rawio_buf_alloc(DEMO_BLOCK, DEMO_BLOCK);
	uint64_t t0 = rawio_now_ns();
	int ret = buf ? 0 : -ENOMEM;

	for (unsigned i = 0; i < n && !ret; i++) {
		if (write) {
			demo_fill(buf, seed, offs[i]);
			ret = rawio_cache_write(c, buf, DEMO_BLOCK, offs[i], 0);
		} else {
			struct demo_check chk = { .seed = seed };
			struct rawio_batch_io io = { .off = offs[i],
						     .len = DEMO_BLOCK,
						     .result = DEMO_BLOCK };

			ret = rawio_cache_read(c, buf, DEMO_BLOCK, offs[i]);
			if (!ret && (demo_verify(&chk, 0, &io, buf), chk.bad))
				ret = -EILSEQ;
		}
	}
	if (!ret && write)
		ret = rawio_cache_flush(c);
	rawio_buf_free(buf);
	return ret ? -1 : n / ((double)(rawio_now_ns() - t0) / 1e9);
}

/*
 * The write-back cache: a backing file behind the throttle engine's "hdd"
 * model (this machine has no slow disk), a cache file in front of it. Random
 * 4 KiB writes are absorbed at the cache's speed, drained in sorted batches,
 * then read back through a reopened cache and from the backing file itself.
 */
static int demo_cache(const char *dir)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f), .force = true };
	struct rawio_dev_opts dopts = { .size = sizeof(dopts), .flags = RAWIO_DEV_CREATE };
	struct rawio_throttle_params tp;
	struct rawio_throttle *thr = NULL;
	struct rawio_engine_opts beo = { .size = sizeof(beo), .lower = "uring" };
	struct rawio_cache_opts o = { .size = sizeof(o),
				      .backing_engine = "throttle",
				      .backing_engine_opts = &beo };
	struct rawio_cache_tunables tun;
	struct rawio_dev *cdev = NULL, *bdev = NULL;
	struct rawio_cache *c = NULL;
	struct demo_check chk;
	struct rawio_batch_io *ios = NULL;
	struct rawio_engine *e = NULL;
	uint64_t *offs = NULL, t0, st = 1;
	double back_iops = 0, iops, drain_s;
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/demo-cache.img", dir);
	dopts.create_size = 32 << 20;
	ret = rawio_dev_open(&cdev, path, &dopts);
	snprintf(path, sizeof(path), "%s/demo-backing.img", dir);
	dopts.create_size = 64 << 20;
	if (!ret)
		ret = rawio_dev_open(&bdev, path, &dopts);
	if (!ret)
		ret = rawio_throttle_parse("hdd", &tp) ?: rawio_throttle_new(&thr, &tp);
	offs = calloc(DEMO_CACHE_BLOCKS, sizeof(*offs));
	ios = calloc(DEMO_CACHE_BLOCKS, sizeof(*ios));
	if (!ret && (!offs || !ios))
		ret = -ENOMEM;
	if (ret)
		goto out;
	beo.throttle = thr;
	/* Distinct random blocks, one in each 16 KiB of the backing file, in random order. */
	for (unsigned i = 0; i < DEMO_CACHE_BLOCKS; i++)
		offs[i] = ((uint64_t)i * 4 + rng_below(&st, 4)) * DEMO_BLOCK;
	for (unsigned i = DEMO_CACHE_BLOCKS - 1; i > 0; i--) {
		uint64_t j = rng_below(&st, i + 1), tmp;

		tmp = offs[i];
		offs[i] = offs[j];
		offs[j] = tmp;
	}

	/* The backing device alone: random 4 KiB writes at QD 32. */
	beo.queue_depth = 32;
	ret = rawio_engine_open(&e, "throttle", bdev, &beo);
	if (ret)
		goto out;
	for (unsigned i = 0; i < 256; i++)
		ios[i] = (struct rawio_batch_io){ .off = offs[i],
						  .len = DEMO_BLOCK,
						  .buf = rawio_dev_buf_alloc(bdev, DEMO_BLOCK) };
	t0 = rawio_now_ns();
	ret = rawio_batch_write(e, ios, 256, NULL, NULL) ? -EIO : 0;
	back_iops = 256 / ((double)(rawio_now_ns() - t0) / 1e9);
	for (unsigned i = 0; i < 256; i++)
		rawio_buf_free(ios[i].buf);
	if (ret)
		goto out;

	ret = rawio_cache_format(cdev, bdev, &f);
	rawio_cache_tunables_default(&tun);
	tun.allow_migrate = 0; /* absorb first, write back when asked */
	o.tunables = &tun;
	if (!ret)
		ret = rawio_cache_open(&c, cdev, bdev, &o);
	if (ret)
		goto out;
	iops = demo_cache_io(c, offs, DEMO_CACHE_BLOCKS, 7, true);
	t0 = rawio_now_ns();
	ret = iops < 0 ? -EIO : rawio_cache_drain(c);
	drain_s = (double)(rawio_now_ns() - t0) / 1e9;
	if (!ret)
		ret = rawio_cache_close(c);
	c = NULL;
	if (ret)
		goto out;
	printf("%-34s %10.0f IOPS\n", "backing file as an emulated disk:", back_iops);
	printf("%-34s %10.0f IOPS (%.0fx), %u writes made durable\n",
	       "random 4 KiB writes, cached:", iops, iops / back_iops, DEMO_CACHE_BLOCKS);
	printf("%-34s %10.2f s (nr_batched_migration %u)\n", "written back (drain):", drain_s,
	       tun.nr_batched_migration);

	/* Verify: through a reopened cache, and on the backing file itself. */
	ret = rawio_cache_open(&c, cdev, bdev, &o);
	if (!ret && demo_cache_io(c, offs, DEMO_CACHE_BLOCKS, 7, false) < 0)
		ret = -EILSEQ;
	chk = (struct demo_check){ .seed = 7 };
	for (unsigned i = 0; !ret && i < DEMO_CACHE_BLOCKS; i++)
		ios[i] = (struct rawio_batch_io){ .off = offs[i], .len = DEMO_BLOCK };
	if (!ret && rawio_batch_read(e, ios, DEMO_CACHE_BLOCKS, demo_verify, &chk))
		ret = -EIO;
	if (!ret && chk.bad)
		ret = -EILSEQ;
	printf("%-34s %s\n", "verify:",
	       ret ? "FAIL" : "ok: every block reads back, cached and on the backing file");
out:
	if (ret && ret != -EILSEQ)
		printf("FAIL: %s\n", rawio_strerror(ret));
	rawio_cache_close(c);
	rawio_engine_close(e);
	rawio_throttle_free(thr);
	free(ios);
	free(offs);
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);
	return ret ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rawio demo [--dir DIR] [--size SIZE] [--qd N]\n");
}

int cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "qd", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const engines[] = { "sync", "threads", "aio", "uring", "mem" };
	const char *dir = "var";
	uint64_t size = 64ull << 20;
	unsigned qd = 32, nr;
	struct rawio_dev_opts dopts = { .size = sizeof(dopts), .flags = RAWIO_DEV_CREATE };
	struct rawio_dev *dev = NULL, *mem = NULL;
	char path[4096], err[512] = "";
	int c, ret, failures = 0;

	while ((c = getopt_long(argc, argv, "d:s:q:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			if (cli_size("--size", optarg, &size))
				return 2;
			break;
		case 'q':
			if (cli_uint("--qd", optarg, 1, 4096, &qd))
				return 2;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || size < 1024 * DEMO_BLOCK || size % DEMO_BLOCK) {
		if (optind == argc)
			cli_err("--size must be a multiple of 4 KiB and at least 4 MiB");
		usage();
		return 2;
	}
	/* The RAM device first: when it cannot be had, nothing was made on disk. */
	ret = rawio_dev_open_mem(&mem, size, 512);
	if (ret) {
		cli_err("--size %llu: a RAM device of that size: %s", (unsigned long long)size,
			rawio_strerror(ret));
		return 1;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		cli_err("%s: %s", dir, strerror(errno));
		rawio_dev_close(mem);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/demo.img", dir);
	dopts.create_size = size;
	dopts.errbuf = err;
	dopts.errbuf_len = sizeof(err);
	ret = rawio_dev_open(&dev, path, &dopts);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		rawio_dev_close(mem);
		return 1;
	}

	printf("== rawio %s demo: the default device (a file under %s)\n\n", RAWIO_VERSION, dir);
	fflush(stdout);
	{
		char *av[] = { "devinfo", path, NULL };

		cmd_devinfo(2, av);
	}

	nr = (unsigned)(size / DEMO_BLOCK);
	if (nr > 16384)
		nr = 16384;
	printf("\n== engine self-check: write %u x 4 KiB, read back shuffled, verify\n\n", nr);
	printf("%-8s %4s %10s  %s\n", "engine", "qd", "read IOPS", "result");
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		struct rawio_dev *d = strcmp(engines[i], "mem") ? dev : mem;
		unsigned eqd = strcmp(engines[i], "sync") ? qd : 1;
		double iops = 0;
		char why[256];

		ret = demo_engine(engines[i], d, eqd, nr, &iops, why, sizeof(why));
		printf("%-8s %4u %10.0f  %s%s\n", engines[i], eqd, iops, ret ? "FAIL: " : "", why);
		fflush(stdout);
		if (ret)
			failures++;
	}
	rawio_dev_close(mem);
	rawio_dev_close(dev);

	printf("\n== slot store: round trip, crash after the checkpoint, recovery per engine\n\n");
	fflush(stdout);
	failures += demo_store(dir);
	printf("\n== write-back cache: random writes absorbed, drained to an emulated disk, "
	       "verified\n\n");
	fflush(stdout);
	failures += demo_cache(dir);
	failures += cli_export_demo(dir);
	printf("\n%s\n", failures ? "some checks FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
