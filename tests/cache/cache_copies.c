// SPDX-License-Identifier: MIT
/*
 * Copies in flight: whole-block writes reserve their place in the open
 * segment under the cache lock and copy their data after dropping it
 * (write.c). Many writers on 16 KiB segments (3 data blocks), so segments
 * seal under copies in flight all the time, with readers, partial writes
 * that merge over those blocks, FUA writes and flushes beside them.
 *
 * Blocks come in chunks of 8; chunk c belongs to pair c % NR_PAIRS. In each
 * pair the full writer writes runs of whole blocks, the partial writer
 * sectors 4..7 of single blocks, so sectors 0..3 only ever hold the full
 * writer's versions and 4..7 either's.
 *   1. RAM devices: every read (the writers' own, a scanner's) holds a
 *      version of that sector by the pair (never garbage, never another
 *      block's data); a full writer reads its sectors 0..3 back as it wrote
 *      them; after the run and after a reopen (recovery) every sector holds
 *      the last version written there.
 *   2. Files, a child process killed (SIGKILL) at a random moment: the full
 *      writers report on a pipe what they wrote before each flush returned;
 *      after recovery every sector 0..3 holds that version or a newer one of
 *      its writer, every sector a version of the pair, and the check passes.
 *
 *   cache_copies [ROUNDS]
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "cache_test.h"

#define NR_PAIRS      4
#define NR_WRITERS    (2 * NR_PAIRS)
#define SEG	      (16u << 10)
#define CACHE_SZ      (96u << 20) /* room for every write of part 1: no write-back races */
#define KILL_CACHE_SZ (8u << 20)  /* part 2: it fills, write-back runs */
#define BACKING_SZ    (1u << 20)
#define BLOCKS	      (BACKING_SZ / 4096)
#define SECTORS	      (BACKING_SZ / 512)
#define F_WRITES      200 /* part 1, per full writer */
#define P_WRITES      300 /* part 1, per partial writer */

static struct rawio_cache *cache;
static uint32_t last_f[BLOCKS];	 /* part 1: the full writer's last version, per block */
static uint32_t last_p[SECTORS]; /* the partial writer's, per sector */
static int stop;
static int report_fd = -1;     /* part 2: the child's pipe */
static uint64_t hot[NR_PAIRS]; /* the block each full writer writes now (the scanner reads it) */

static unsigned pair_of(uint64_t block)
{
	return (unsigned)(block / 8 % NR_PAIRS);
}

/* A sector's version is valid when it is 0 or written by the pair owning it (sectors 0..3: its full writer). */
static bool version_ok(uint64_t sector, int64_t v)
{
	unsigned p = pair_of(sector / 8), w;

	if (v == 0)
		return true;
	if (v < 0)
		return false;
	w = (unsigned)((uint64_t)v % NR_WRITERS);
	return w == 2 * p || (sector % 8 >= 4 && w == 2 * p + 1);
}

struct writer {
	unsigned id; /* even: full writer of pair id / 2; odd: its partial writer */
	uint64_t rng;
	uint32_t seq;
	char why[256];
};

/* A random block of pair P. */
static uint64_t pick_block(uint64_t *rng, unsigned p)
{
	uint64_t chunk = rng_below(rng, BLOCKS / 8 / NR_PAIRS) * NR_PAIRS + p;

	return chunk * 8 + rng_below(rng, 8);
}

static int check_read(struct writer *w, const char *buf, uint64_t s0, unsigned n, uint32_t mine)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = s0 + i;
		int64_t v = t_sector_version(buf + (size_t)i * 512, s);

		if (!version_ok(s, v) || (mine && s % 8 < 4 && v != mine)) {
			snprintf(w->why, sizeof(w->why),
				 "sector %llu: read version %lld (wrote %u there last)",
				 (unsigned long long)s, (long long)v, mine);
			return -1;
		}
	}
	return 0;
}

/* Part 2: what this full writer wrote since its last report, sent once a flush covers it. */
struct acked {
	uint32_t n;
	uint32_t rec[2 * 64]; /* block, version */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned p = w->id / 2, nwrites = w->id % 2 ? P_WRITES : F_WRITES;
	bool full = w->id % 2 == 0;
	struct acked a = { 0 };
	char *buf = rawio_buf_alloc(8 * 4096, 4096), *rbuf = rawio_buf_alloc(8 * 4096, 4096);

	if (!buf || !rbuf) {
		snprintf(w->why, sizeof(w->why), "out of memory");
		goto out;
	}
	for (unsigned k = 0; report_fd >= 0 || k < nwrites; k++) {
		uint64_t b = pick_block(&w->rng, p), s0;
		unsigned n, roll = (unsigned)rng_below(&w->rng, 64);
		uint32_t v = ++w->seq * NR_WRITERS + w->id;
		int ret;

		if (__atomic_load_n(&stop, __ATOMIC_RELAXED))
			break;
		if (full) {
			n = 8 * (1 + (unsigned)rng_below(&w->rng, 8 - b % 8)); /* whole blocks */
			s0 = b * 8;
		} else {
			unsigned first = 4 + (unsigned)rng_below(&w->rng, 4);

			n = 1 + (unsigned)rng_below(&w->rng, 8 - first);
			s0 = b * 8 + first;
		}
		for (unsigned i = 0; i < n; i++)
			t_sector_fill(buf + (size_t)i * 512, s0 + i, v);
		if (full)
			__atomic_store_n(&hot[p], b + n / 8 - 1, __ATOMIC_RELAXED);
		ret = rawio_cache_write(cache, buf, n * 512ull, s0 * 512,
					roll == 0 ? RAWIO_CACHE_FUA : 0);
		if (ret) {
			snprintf(w->why, sizeof(w->why), "write: %s", rawio_strerror(ret));
			break;
		}
		for (unsigned i = 0; full && i < n / 8; i++)
			__atomic_store_n(&last_f[b + i], v, __ATOMIC_RELAXED);
		for (unsigned i = 0; !full && i < n; i++)
			__atomic_store_n(&last_p[s0 + i], v, __ATOMIC_RELAXED);
		if (full && report_fd >= 0)
			for (unsigned i = 0; i < n / 8; i++) {
				a.rec[2 * a.n] = (uint32_t)(b + i);
				a.rec[2 * a.n++ + 1] = v;
			}
		if (roll < 16) {
			/* Read back what we wrote: sectors 0..3 exactly ours, the rest the pair's. */
			ret = rawio_cache_read(cache, rbuf, n * 512ull, s0 * 512);
			if (ret) {
				snprintf(w->why, sizeof(w->why), "read: %s", rawio_strerror(ret));
				break;
			}
			if (check_read(w, rbuf, s0, n, full ? v : 0))
				break;
		}
		if (roll == 1 || (full && report_fd >= 0 && a.n > 56)) {
			ret = rawio_cache_flush(cache);
			if (ret) {
				snprintf(w->why, sizeof(w->why), "flush: %s", rawio_strerror(ret));
				break;
			}
			if (full && report_fd >= 0 && a.n) {
				size_t len = sizeof(a.n) + a.n * 2 * sizeof(uint32_t);

				/* One write below PIPE_BUF: the writers' reports never mix. */
				if (write(report_fd, &a, len) != (ssize_t)len)
					_exit(4);
				a.n = 0;
			}
		}
	}
out:
	if (w->why[0])
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	rawio_buf_free(rbuf);
	rawio_buf_free(buf);
	return NULL;
}

static char scan_why[256];

static void *scanner_main(void *arg)
{
	uint64_t rng = 99;
	char *buf = rawio_buf_alloc(16 * 4096, 4096);
	struct writer me = { 0 };

	while (buf && !__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned n = 1 + (unsigned)rng_below(&rng, 16);
		uint64_t b = rng_below(&rng, BLOCKS - n + 1);
		int ret;

		if (rng_below(&rng, 4)) {
			/* Mostly the block a full writer copies into now. */
			n = 1;
			b = __atomic_load_n(&hot[rng_below(&rng, NR_PAIRS)], __ATOMIC_RELAXED);
		}
		ret = rawio_cache_read(cache, buf, n * 4096ull, b * 4096);

		if (ret) {
			snprintf(scan_why, sizeof(scan_why), "read: %s", rawio_strerror(ret));
			break;
		}
		if (check_read(&me, buf, b * 8, n * 8, 0)) {
			snprintf(scan_why, sizeof(scan_why), "%s", me.why);
			break;
		}
	}
	rawio_buf_free(buf);
	return NULL;
}

static int run_writers(uint64_t seed, bool scan, char *why, size_t len)
{
	struct writer w[NR_WRITERS];
	pthread_t tw[NR_WRITERS], ts;

	stop = 0;
	for (unsigned i = 0; i < NR_WRITERS; i++) {
		w[i] = (struct writer){ .id = i, .rng = seed * 1000 + i };
		CHECK(pthread_create(&tw[i], NULL, writer_main, &w[i]) == 0, "pthread_create");
	}
	if (scan)
		CHECK(pthread_create(&ts, NULL, scanner_main, NULL) == 0, "pthread_create");
	for (unsigned i = 0; i < NR_WRITERS; i++)
		pthread_join(tw[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	if (scan)
		pthread_join(ts, NULL);
	snprintf(why, len, "%s", scan_why);
	for (unsigned i = 0; i < NR_WRITERS && !why[0]; i++)
		if (w[i].why[0])
			snprintf(why, len, "writer %u: %s", i, w[i].why);
	return T_PASS;
}

/*
 * Every sector holds the last version written there: sectors 0..3 the full
 * writer's, 4..7 the full or the partial writer's (whichever landed last).
 */
static int check_last(struct rawio_cache *c, const char *when)
{
	static char buf[BACKING_SZ];

	CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), 0));
	for (uint64_t s = 0; s < SECTORS; s++) {
		int64_t v = t_sector_version(buf + s * 512, s);
		uint32_t f = last_f[s / 8], p = s % 8 >= 4 ? last_p[s] : 0;

		CHECK(v == f || (p && v == p),
		      "%s: sector %llu holds version %lld, last written %u (full writer), %u "
		      "(partial writer)",
		      when, (unsigned long long)s, (long long)v, f, p);
	}
	return T_PASS;
}

static int part_ram(void)
{
	struct rawio_cache_stat st;
	struct t_cache t;
	char why[300];
	int ret;

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	cache = t.c;
	ret = run_writers(1, true, why, sizeof(why));
	if (ret)
		return ret;
	CHECK(!why[0], "%s", why);
	rawio_cache_stat(t.c, &st);
	CHECK(st.migrate_batches == 0, "the cache filled: write-back ran (make CACHE_SZ larger)");
	printf("ram: %llu writes, %llu segments (%llu partial), %llu reads\n",
	       (unsigned long long)st.writes,
	       (unsigned long long)(st.segments_full + st.segments_partial),
	       (unsigned long long)st.segments_partial, (unsigned long long)st.reads);
	ret = check_last(t.c, "after the run");
	if (!ret)
		ret = t_cache_reopen(&t) ? T_FAIL : check_last(t.c, "after recovery");
	rawio_cache_close(t.c);
	rawio_dev_close(t.bdev);
	rawio_dev_close(t.cdev);
	return ret;
}

static int make_files(const char *cpath, const char *bpath)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f),
					     .segment_size = SEG,
					     .force = true };
	static char buf[BACKING_SZ];
	FILE *fp;

	fp = fopen(cpath, "w");
	CHECK(fp && ftruncate(fileno(fp), KILL_CACHE_SZ) == 0, "%s: cannot make it", cpath);
	fclose(fp);
	for (uint64_t s = 0; s < SECTORS; s++)
		t_sector_fill(buf + s * 512, s, 0);
	fp = fopen(bpath, "w");
	CHECK(fp && fwrite(buf, sizeof(buf), 1, fp) == 1, "%s: cannot write it", bpath);
	fclose(fp);
	CHECK_OK(rawio_cache_format_path(cpath, bpath, &f));
	return T_PASS;
}

static void child(const char *cpath, const char *bpath, int fd)
{
	struct rawio_cache_opts o = { .size = sizeof(o) };
	char why[300];

	if (rawio_cache_open_path(&cache, cpath, bpath, &o))
		_exit(2);
	report_fd = fd;
	run_writers(getpid(), false, why, sizeof(why)); /* until killed, or a writer fails */
	fprintf(stderr, "child: %s\n", why);
	_exit(3);
}

static int part_kill(uint64_t seed, const char *cpath, const char *bpath)
{
	static uint32_t durable[BLOCKS];
	static char buf[BACKING_SZ];
	struct rawio_cache_opts o = { .size = sizeof(o) };
	struct acked a;
	uint64_t rng = seed, nrec = 0;
	char report[1024];
	int pipefd[2], status;
	struct rawio_cache *c;
	bool have;
	pid_t pid;

	if (make_files(cpath, bpath))
		return T_FAIL;
	memset(durable, 0, sizeof(durable));
	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pipefd[0]);
		child(cpath, bpath, pipefd[1]);
	}
	close(pipefd[1]);
	/* From its first report on (it has opened the cache and flushed once), then a while. */
	have = read(pipefd[0], &a.n, sizeof(a.n)) == sizeof(a.n);
	if (have)
		usleep((useconds_t)rng_below(&rng, 200000));
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(status), "the child exited by itself: status %d", status);
	for (; have; have = read(pipefd[0], &a.n, sizeof(a.n)) == sizeof(a.n)) {
		size_t len = a.n * 2 * sizeof(uint32_t);

		CHECK(a.n <= 64 && read(pipefd[0], a.rec, len) == (ssize_t)len, "a torn report");
		for (uint32_t i = 0; i < a.n; i++) {
			uint32_t b = a.rec[2 * i], v = a.rec[2 * i + 1];

			CHECK(b < BLOCKS, "a report names block %u", b);
			if (v > durable[b])
				durable[b] = v; /* one full writer per block: its versions grow */
			nrec++;
		}
	}
	close(pipefd[0]);

	CHECK_OK(rawio_cache_open_path(&c, cpath, bpath, &o));
	CHECK_OK(rawio_cache_read(c, buf, sizeof(buf), 0));
	for (uint64_t s = 0; s < SECTORS; s++) {
		int64_t v = t_sector_version(buf + s * 512, s);

		CHECK(version_ok(s, v), "seed %llu: sector %llu holds version %lld after recovery",
		      (unsigned long long)seed, (unsigned long long)s, (long long)v);
		CHECK(s % 8 >= 4 || v >= durable[s / 8],
		      "seed %llu: sector %llu holds version %lld, older than %u flushed before the "
		      "kill",
		      (unsigned long long)seed, (unsigned long long)s, (long long)v,
		      durable[s / 8]);
	}
	CHECK_OK(rawio_cache_close(c));
	CHECK(rawio_cache_check_path(cpath, bpath, NULL, report, sizeof(report)) == 0,
	      "seed %llu: check: %s", (unsigned long long)seed, report);
	printf("seed %llu: killed after %llu blocks reported flushed: recovered, all there\n",
	       (unsigned long long)seed, (unsigned long long)nrec);
	return T_PASS;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
	char cpath[64], bpath[64];
	int ret;

	ret = part_ram();
	t_scratch(cpath, sizeof(cpath), "copies-cache");
	t_scratch(bpath, sizeof(bpath), "copies-backing");
	for (unsigned i = 0; i < rounds && ret == T_PASS; i++)
		ret = part_kill(i + 1, cpath, bpath);
	unlink(cpath);
	unlink(bpath);
	return ret;
}
