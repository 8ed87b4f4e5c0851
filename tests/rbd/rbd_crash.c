// SPDX-License-Identifier: MIT
/*
 * rawio's layers on a Ceph RBD image when something dies (tests/rbd/run.sh
 * makes the image and passes its path and the cluster's directory).
 *
 *   rbd_crash store PATH        a store formatted on the image, filled by a
 *                               child with durable puts, SIGKILLed, reopened
 *                               (recovery on the rbd engine) and checked:
 *                               every acknowledged put is there
 *   rbd_crash cache PATH        a cache (a local file) in front of the image,
 *                               written with a flush every 16 writes by a child,
 *                               SIGKILLed, reopened, drained; then the image
 *                               itself must hold every flushed write
 *   rbd_crash osd PATH DIR      writes in flight when the only OSD is killed
 *                               (SIGKILL): back after 1.5 s within a 5 s
 *                               timeout, they wait and writing resumes (a
 *                               write may still time out: never another
 *                               error); with rados_osd_op_timeout=3 and no
 *                               OSD, they fail with -ETIMEDOUT; each
 *                               completes exactly once, and every
 *                               acknowledged write reads back
 *   rbd_crash osd-stop PATH DIR the same with the OSD stopped (SIGSTOP) and
 *                               continued (SIGCONT) instead of killed and
 *                               restarted: an OSD that hangs, and no 5-15 s
 *                               BlueStore restart (the variant in make test;
 *                               osd is label long)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <rawio/cache.h>
#include <rawio/store.h>

#include "harness.h"

#define BLK   4096u
#define NKEYS 40

/* Open PATH or skip: a rawio without librbd cannot, and says so. */
static int open_dev(struct rawio_dev **dev, const char *path, unsigned flags)
{
	struct rawio_dev_opts o = { .size = sizeof(o), .flags = flags };
	char err[512] = "";
	int ret;

	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = rawio_dev_open(dev, path, &o);
	if (ret)
		fprintf(stderr, "open %s: %s\n", path, err);
	return ret;
}

/* ---- store ---- */

static void store_payload(uint32_t v, char *buf, size_t *len)
{
	*len = 64 + (v * 37) % 3000;
	for (size_t i = 0; i < *len; i++)
		buf[i] = (char)(v * 31 + i);
	memcpy(buf, &v, sizeof(v));
}

static void store_child(const char *path, int fd)
{
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "rbd" };
	struct rawio_store *s;
	char key[16], buf[4096];
	size_t len;

	if (rawio_store_open(&s, path, &o))
		_exit(2);
	for (uint32_t v = 1;; v++) {
		snprintf(key, sizeof(key), "key-%u", v % NKEYS);
		store_payload(v, buf, &len);
		if (rawio_store_put(s, key, strlen(key), buf, len, RAWIO_STORE_DURABLE))
			_exit(3);
		if (write(fd, &v, sizeof(v)) != sizeof(v))
			_exit(4);
		if (v % 50 == 0 && rawio_store_checkpoint(s))
			_exit(5);
	}
}

static int test_store(const char *path)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = 8 << 10,
					     .force = true };
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "rbd" };
	uint32_t acked[NKEYS] = { 0 }, v, last = 0;
	char key[16], buf[4096], want[4096], report[2048];
	struct rawio_store *s;
	int pipefd[2], status;
	size_t len;
	pid_t pid;

	CHECK_OK(rawio_store_format(path, &f));
	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pipefd[0]);
		store_child(path, pipefd[1]);
	}
	close(pipefd[1]);
	/* Let it acknowledge some puts (it reports each), then kill it mid-put. */
	t_read_acks(pipefd[0], acked, NKEYS, &last, 100);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(status), "the child exited by itself: status %d", status);
	t_read_acks(pipefd[0], acked, NKEYS, &last, UINT_MAX);
	close(pipefd[0]);
	CHECK(last >= 100, "only %u puts acknowledged before the kill", last);

	CHECK_OK(rawio_store_open(&s, path, &o));
	for (unsigned k = 0; k < NKEYS; k++) {
		ssize_t n;

		snprintf(key, sizeof(key), "key-%u", k);
		n = rawio_store_get(s, key, strlen(key), buf, sizeof(buf));
		CHECK(n >= 4, "%s: %zd (acked version %u)", key, n, acked[k]);
		memcpy(&v, buf, sizeof(v));
		/* The acknowledged version, or the one put in flight when it died. */
		CHECK(v == acked[k] || (v == last + 1 && v % NKEYS == k),
		      "%s holds version %u, acked %u, last acked %u", key, v, acked[k], last);
		store_payload(v, want, &len);
		CHECK((size_t)n == len && !memcmp(buf, want, len), "%s: bytes differ", key);
	}
	CHECK_OK(rawio_store_close(s));
	CHECK(rawio_store_check(path, &o, report, sizeof(report)) == 0, "check: %s", report);
	printf("store on %s: killed after %u acknowledged durable puts: all there\n", path, last);
	return T_PASS;
}

/* ---- cache ---- */

#define CACHE_BLOCKS 2048u /* 8 MiB of the image written through the cache */
#define CACHE_FLUSH  16u

/* Block B's content for version V: V in the first word, then a pattern. */
static void block_fill(char *buf, uint32_t b, uint32_t v)
{
	t_fill(buf, BLK, v, (uint64_t)b * BLK);
	memcpy(buf, &v, sizeof(v));
}

static uint32_t block_version(const char *buf, uint32_t b)
{
	uint32_t v;
	char want[BLK];

	memcpy(&v, buf, sizeof(v));
	if (!v) {
		static const char zero[BLK];

		return memcmp(buf, zero, BLK) ? UINT32_MAX : 0;
	}
	block_fill(want, b, v);
	return memcmp(buf, want, BLK) ? UINT32_MAX : v;
}

static struct rawio_cache_opts cache_opts(void)
{
	return (struct rawio_cache_opts){ .size = sizeof(struct rawio_cache_opts),
					  .cache_engine = "sync",
					  .backing_engine = "rbd" };
}

/* Writes version V of scattered blocks, a flush every CACHE_FLUSH; reports V at each flush. */
static void cache_child(const char *cpath, const char *bpath, int fd)
{
	struct rawio_cache_opts o = cache_opts();
	struct rawio_dev *cdev, *bdev;
	struct rawio_cache *c;
	char buf[BLK];

	if (open_dev(&cdev, cpath, 0) || open_dev(&bdev, bpath, 0))
		_exit(2);
	if (rawio_cache_open(&c, cdev, bdev, &o))
		_exit(3);
	for (uint32_t v = 1;; v++) {
		uint32_t b = (v * 2654435761u) % CACHE_BLOCKS;

		block_fill(buf, b, v);
		if (rawio_cache_write(c, buf, BLK, (uint64_t)b * BLK, 0))
			_exit(4);
		if (v % CACHE_FLUSH == 0) {
			if (rawio_cache_flush(c))
				_exit(5);
			if (write(fd, &v, sizeof(v)) != sizeof(v))
				_exit(6);
		}
	}
}

static int test_cache(const char *bpath)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f), .segment_size = 64 << 10 };
	struct rawio_dev_opts co = { .size = sizeof(co),
				     .flags = RAWIO_DEV_CREATE,
				     .create_size = 16 << 20 };
	struct rawio_cache_opts o = cache_opts();
	static uint32_t last_v[CACHE_BLOCKS];
	struct rawio_dev *cdev, *bdev;
	struct rawio_engine *e;
	struct rawio_cache *c;
	uint32_t flushed = 0, v;
	char cpath[64], *buf;
	int pipefd[2], status, ret = T_FAIL;
	pid_t pid;

	t_scratch(cpath, sizeof(cpath), "rbdcache");
	unlink(cpath);
	CHECK_OK(rawio_dev_open(&cdev, cpath, &co));
	CHECK_OK(open_dev(&bdev, bpath, 0));
	f.force = true;
	CHECK_OK(rawio_cache_format(cdev, bdev, &f));
	/* The child opens its own: librados does not survive a fork. */
	rawio_dev_close(bdev);
	rawio_dev_close(cdev);

	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pipefd[0]);
		cache_child(cpath, bpath, pipefd[1]);
	}
	close(pipefd[1]);
	t_read_acks(pipefd[0], NULL, 0, &flushed, 60);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(status), "the child exited by itself: status %d", status);
	t_read_acks(pipefd[0], NULL, 0, &flushed, UINT_MAX);
	close(pipefd[0]);
	CHECK(flushed >= 60 * CACHE_FLUSH, "only %u writes flushed before the kill", flushed);

	/* Reopen (recovery), drain to the image, close. */
	CHECK_OK(open_dev(&cdev, cpath, 0));
	CHECK_OK(open_dev(&bdev, bpath, 0));
	CHECK_OK(rawio_cache_open(&c, cdev, bdev, &o));
	CHECK_OK(rawio_cache_drain(c));
	CHECK_OK(rawio_cache_close(c));
	rawio_dev_close(cdev);
	unlink(cpath);

	/* The image alone: each block holds its last flushed version or a later one. */
	for (v = 1; v <= flushed; v++)
		last_v[(v * 2654435761u) % CACHE_BLOCKS] = v;
	buf = rawio_dev_buf_alloc(bdev, BLK);
	CHECK(buf, "alloc");
	CHECK_OK(rawio_engine_open(&e, "rbd", bdev, NULL));
	for (uint32_t b = 0; b < CACHE_BLOCKS; b++) {
		struct rawio_req r = {
			.op = RAWIO_OP_READ, .buf = buf, .len = BLK, .off = b * BLK
		};
		uint32_t got;

		if (rawio_engine_run1(e, &r) != BLK) {
			fprintf(stderr, "read block %u: %lld\n", b, (long long)r.result);
			goto out;
		}
		got = block_version(buf, b);
		if (got == UINT32_MAX || got < last_v[b] ||
		    (got != last_v[b] &&
		     (got <= flushed || (got * 2654435761u) % CACHE_BLOCKS != b))) {
			fprintf(stderr,
				"block %u holds version %u; last flushed %u (flushed up to %u)\n",
				b, got, last_v[b], flushed);
			goto out;
		}
	}
	printf("cache in front of %s: killed after %u flushed writes; drained; all on the image\n",
	       bpath, flushed);
	ret = T_PASS;
out:
	rawio_engine_close(e);
	rawio_buf_free(buf);
	rawio_dev_close(bdev);
	return ret;
}

/* ---- the OSD killed under load ---- */

#define OSD_BLOCKS 1024u
#define OSD_QD	   16u

static uint64_t ms_now(void)
{
	return rawio_now_ns() / 1000000;
}

static pid_t osd_pid(const char *dir)
{
	char p[512];
	FILE *f;
	long pid = 0;

	snprintf(p, sizeof(p), "%s/osd.0.pid", dir);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* FREEZE: SIGSTOP (an OSD that hangs; osd_start sends SIGCONT), else SIGKILL. */
static int osd_kill(const char *dir, bool freeze)
{
	pid_t pid = osd_pid(dir);

	if (pid <= 0)
		return -1;
	if (freeze)
		return kill(pid, SIGSTOP) ? -1 : 0;
	if (kill(pid, SIGKILL))
		return -1;
	for (int i = 0; i < 200 && !kill(pid, 0); i++)
		usleep(50000);
	return kill(pid, 0) ? 0 : -1;
}

/* Start the OSD again (it forks away); its output goes to its own file, never our pipes. */
static int osd_start(const char *dir, bool freeze)
{
	char cmd[2048];

	if (freeze) {
		pid_t pid = osd_pid(dir);

		return pid > 0 && !kill(pid, SIGCONT) ? 0 : -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "ceph-osd -c '%s/ceph.conf' -i 0 </dev/null >>'%s/osd.0.out' 2>&1", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct osd_run {
	struct rawio_req reqs[OSD_QD];
	uint32_t ver[OSD_QD];	    /* version each slot is writing */
	unsigned seen[OSD_QD];	    /* completions of the slot's current request */
	uint32_t acked[OSD_BLOCKS]; /* newest acknowledged version per block */
	uint32_t tried[OSD_BLOCKS]; /* newest version attempted per block */
	char *bufs;
	uint32_t next_v;
	unsigned ok, failed, timedout;
	int first_err;
	bool freeze; /* the OSD is stopped (SIGSTOP/SIGCONT), not killed and restarted */
	bool frozen;
};

static void osd_issue(struct osd_run *o, struct rawio_engine *e, unsigned i)
{
	uint32_t v = ++o->next_v, b = (v * 2654435761u) % OSD_BLOCKS;
	char *buf = o->bufs + (size_t)i * BLK;

	block_fill(buf, b, v);
	o->ver[i] = v;
	o->seen[i] = 0;
	o->tried[b] = v;
	o->reqs[i] = (struct rawio_req){ .op = RAWIO_OP_WRITE,
					 .buf = buf,
					 .len = BLK,
					 .off = (uint64_t)b * BLK,
					 .user_data = (void *)(uintptr_t)i };
	if (rawio_engine_queue(e, &o->reqs[i]) == RAWIO_Q_DONE)
		o->seen[i]++; /* counted as done below by the caller's check */
}

/* Reap one batch; account each completion. Returns -1 on a broken promise. */
static int osd_reap(struct osd_run *o, struct rawio_engine *e, unsigned *done_slots,
		    unsigned *nr_done)
{
	struct rawio_req *out[OSD_QD];
	int n = rawio_engine_reap(e, out, 1, OSD_QD);

	if (n < 0) {
		fprintf(stderr, "reap: %s\n", rawio_strerror(n));
		return -1;
	}
	*nr_done = 0;
	for (int k = 0; k < n; k++) {
		unsigned i = (unsigned)(uintptr_t)out[k]->user_data;
		uint32_t v = o->ver[i], b = (v * 2654435761u) % OSD_BLOCKS;

		if (++o->seen[i] != 1) {
			fprintf(stderr, "write of version %u completed %u times\n", v, o->seen[i]);
			return -1;
		}
		if (out[k]->result == BLK) {
			o->ok++;
			if (v > o->acked[b])
				o->acked[b] = v;
		} else {
			o->failed++;
			o->timedout += out[k]->result == -ETIMEDOUT;
			if (!o->first_err)
				o->first_err = (int)out[k]->result;
		}
		done_slots[(*nr_done)++] = i;
	}
	return 0;
}

/*
 * Keep OSD_QD writes in flight; kill the OSD after 300 ms. RESTART_MS > 0:
 * start it again that long after the kill and keep writing until 300 writes
 * succeeded after it. RESTART_MS == 0: stop issuing at the first failure,
 * drain, then start it again.
 */
static int osd_round(struct osd_run *o, const char *path, const char *base, const char *dir,
		     unsigned restart_ms, bool want_timeout)
{
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = OSD_QD };
	struct rawio_dev *dev = NULL;
	struct rawio_engine *e = NULL;
	uint64_t t0, killed_at = 0, back_at = 0;
	unsigned ok_at_restart = 0, inflight, done[OSD_QD], nr;
	bool stopping = false;
	char desc[1024];
	int ret = T_FAIL;

	/* Versions and what each block holds carry over from the round before. */
	o->ok = o->failed = o->timedout = 0;
	o->first_err = 0;
	if (open_dev(&dev, path, 0))
		goto out;
	if (rawio_engine_open(&e, "rbd", dev, &eo))
		goto out;
	for (unsigned i = 0; i < OSD_QD; i++)
		osd_issue(o, e, i);
	inflight = OSD_QD;
	t0 = ms_now();
	while (inflight) {
		if (osd_reap(o, e, done, &nr))
			goto out;
		inflight -= nr;
		if (!killed_at && ms_now() - t0 > 300) {
			if (osd_kill(dir, o->freeze)) {
				fprintf(stderr, "cannot kill the OSD\n");
				goto out;
			}
			killed_at = ms_now();
			o->frozen = o->freeze;
			printf("%s the OSD after %u writes\n", o->freeze ? "stopped" : "killed",
			       o->ok);
		}
		if (killed_at && !back_at && restart_ms && ms_now() - killed_at >= restart_ms) {
			if (osd_start(dir, o->freeze)) {
				fprintf(stderr, "cannot start the OSD again\n");
				goto out;
			}
			o->frozen = false;
			back_at = ms_now();
			ok_at_restart = o->ok;
		}
		if (o->failed && !restart_ms)
			stopping = true;
		if (back_at && o->ok >= ok_at_restart + 300)
			stopping = true;
		for (unsigned k = 0; k < nr && !stopping; k++) {
			osd_issue(o, e, done[k]);
			inflight++;
		}
		/* Writes refused at once (never queued) complete here. */
		for (unsigned k = 0; k < nr; k++) {
			unsigned i = done[k];

			if (!stopping && o->seen[i] == 1 && o->reqs[i].result != BLK) {
				o->failed++;
				inflight--;
			}
		}
	}
	rawio_engine_describe(e, desc, sizeof(desc));
	printf("%u writes acknowledged, %u failed (%u timed out); %s\n", o->ok, o->failed,
	       o->timedout, desc);
	if (want_timeout) {
		if (!o->failed || o->timedout != o->failed) {
			fprintf(stderr,
				"want every in-flight write to time out: %u failed, %u ETIMEDOUT "
				"(first: %s)\n",
				o->failed, o->timedout, rawio_strerror(o->first_err));
			goto out;
		}
		if (!strstr(desc, "timed out") || !strstr(desc, "rbd:")) {
			fprintf(stderr,
				"the engine's last error does not say which image timed out\n");
			goto out;
		}
		if (osd_start(dir, o->freeze)) {
			fprintf(stderr, "cannot start the OSD again\n");
			goto out;
		}
		o->frozen = false;
	} else {
		/* Back within the timeout: writes resumed. Those in flight when the OSD
		 * re-registered may still time out (Ceph does not always resend them):
		 * the only failure allowed is the timeout, each once. */
		if (o->timedout != o->failed) {
			fprintf(stderr,
				"writes failed with other than ETIMEDOUT: %u of %u (first: %s)\n",
				o->failed - o->timedout, o->failed, rawio_strerror(o->first_err));
			goto out;
		}
		if (o->ok < ok_at_restart + 300) {
			fprintf(stderr, "only %u writes succeeded after the OSD came back\n",
				o->ok - ok_at_restart);
			goto out;
		}
	}
	rawio_engine_close(e);
	e = NULL;
	rawio_dev_close(dev);
	dev = NULL;

	/* Everything acknowledged is there, once the OSD answers again (the default
	 * 60 s timeout covers its restart). */
	t0 = ms_now();
	if (open_dev(&dev, base, 0) || rawio_engine_open(&e, "rbd", dev, &eo)) {
		fprintf(stderr, "cannot reopen %s after the OSD came back\n", base);
		goto out;
	}
	printf("reopened in %llu ms\n", (unsigned long long)(ms_now() - t0));
	/* OSD_QD blocks per read: the buffers are that large. */
	for (uint32_t b0 = 0; b0 < OSD_BLOCKS; b0 += OSD_QD) {
		struct rawio_req r = { .op = RAWIO_OP_READ,
				       .buf = o->bufs,
				       .len = OSD_QD * BLK,
				       .off = (uint64_t)b0 * BLK };
		int64_t res = rawio_engine_run1(e, &r);

		if (res != OSD_QD * BLK) {
			fprintf(stderr, "read blocks %u.. after the OSD came back: %s\n", b0,
				rawio_strerror((int)res));
			goto out;
		}
		for (uint32_t b = b0; b < b0 + OSD_QD; b++) {
			uint32_t got = block_version(o->bufs + (size_t)(b - b0) * BLK, b);

			if (got == UINT32_MAX || got < o->acked[b] || got > o->tried[b]) {
				fprintf(stderr,
					"block %u holds version %u; acknowledged %u, last tried "
					"%u\n",
					b, got, o->acked[b], o->tried[b]);
				goto out;
			}
		}
	}
	printf("read back in %llu ms\n", (unsigned long long)(ms_now() - t0));
	ret = T_PASS;
out:
	rawio_engine_close(e);
	rawio_dev_close(dev);
	return ret;
}

static int test_osd(const char *path, const char *dir, bool freeze)
{
	struct osd_run *o = calloc(1, sizeof(*o));
	char shortp[4096];
	int ret = T_FAIL;

	CHECK(o, "calloc");
	o->bufs = rawio_buf_alloc((size_t)OSD_QD * BLK, BLK);
	if (!o->bufs)
		goto out;
	o->freeze = freeze;
	/* The OSD back after 1.5 s, within a 5 s timeout: writes wait, then resume. */
	snprintf(shortp, sizeof(shortp), "%s:rados_osd_op_timeout=5", path);
	if (osd_round(o, shortp, path, dir, 1500, false))
		goto out;
	/* A 3 s timeout and no OSD for longer: in-flight writes fail with ETIMEDOUT. */
	snprintf(shortp, sizeof(shortp), "%s:rados_osd_op_timeout=3", path);
	ret = osd_round(o, shortp, path, dir, 0, true);
out:
	if (o->frozen)
		osd_start(dir, true); /* never leave the cluster's only OSD stopped */
	rawio_buf_free(o->bufs);
	free(o);
	return ret;
}

int main(int argc, char **argv)
{
	struct rawio_dev *dev;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s store|cache PATH | osd|osd-stop PATH DIR\n", argv[0]);
		return T_FAIL;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A rawio built without librbd: nothing to test. */
	ret = open_dev(&dev, argv[2], RAWIO_DEV_RDONLY);
	if (ret == -EOPNOTSUPP)
		return T_SKIP;
	if (ret)
		return T_FAIL;
	rawio_dev_close(dev);
	if (!strcmp(argv[1], "store"))
		return test_store(argv[2]);
	if (!strcmp(argv[1], "cache"))
		return test_cache(argv[2]);
	if (!strcmp(argv[1], "osd") && argc == 4)
		return test_osd(argv[2], argv[3], false);
	if (!strcmp(argv[1], "osd-stop") && argc == 4)
		return test_osd(argv[2], argv[3], true);
	fprintf(stderr, "unknown test %s\n", argv[1]);
	return T_FAIL;
}
