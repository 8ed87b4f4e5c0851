// SPDX-License-Identifier: MIT
/*
 * The nbd engine when the server fails, each against its own nbdkit:
 *
 *   nbd_fail errors   the error filter fails 5% of requests with EIO: exactly
 *                     the requests the server's log says failed, fail
 *   nbd_fail kill     the server is killed with requests in flight: every
 *                     request comes back exactly once, none hangs, and the
 *                     context says which server and which request
 *   nbd_fail flush    a write acknowledged, the server killed and restarted
 *                     empty: the next flush fails (the write is gone), the
 *                     context reconnects, and a write + flush then succeed
 *   nbd_fail split    a maximum block size of 64 KiB (blocksize-policy
 *                     filter, which fails larger requests): 1 MiB requests
 *                     split and joined, data intact; minimum 4 KiB enforced
 *   nbd_fail big      1 MiB writes at QD 4, which fill the socket and leave
 *                     libnbd a write half sent while replies come in: every
 *                     one completes (an alarm fails a hang), data intact
 */
#include <signal.h>
#include <unistd.h>

#include "harness.h"
#include "nbd_srv.h"

#define BLK	4096u
#define SIZE_MB 16u
#define NBLK	(SIZE_MB * 1024u * 1024u / BLK)

static struct srv srv;

static int open_dev(struct rawio_dev **dev)
{
	char err[512] = "";
	struct rawio_dev_opts o = { .size = sizeof(o), .errbuf = err, .errbuf_len = sizeof(err) };
	int ret = rawio_dev_open(dev, srv.uri, &o);

	if (ret)
		fprintf(stderr, "open %s: %s\n", srv.uri, err);
	return ret;
}

/* Run N requests at QD through E; SEEN counts completions. Stops queueing after FAIL_AFTER
 * completions if HOOK is set, calling it once. */
static int run_all(struct rawio_engine *e, struct rawio_req *reqs, unsigned n, unsigned *seen,
		   unsigned hook_at, void (*hook)(void))
{
	struct rawio_req *done[64];
	unsigned next = 0, completed = 0;
	bool hooked = false;

	while (completed < n) {
		while (next < n) {
			int q = rawio_engine_queue(e, &reqs[next]);

			if (q == RAWIO_Q_BUSY)
				break;
			if (q < 0) {
				fprintf(stderr, "queue: %s\n", rawio_strerror(q));
				return -1;
			}
			if (q == RAWIO_Q_DONE) {
				seen[next]++;
				completed++;
			}
			next++;
		}
		if (!rawio_engine_inflight(e))
			continue;
		int got = rawio_engine_reap(e, done, 1, 64);

		if (got < 0) {
			fprintf(stderr, "reap: %s\n", rawio_strerror(got));
			return -1;
		}
		for (int i = 0; i < got; i++) {
			seen[done[i] - reqs]++;
			completed++;
		}
		if (hook && !hooked && completed >= hook_at) {
			hooked = true;
			hook();
		}
	}
	return 0;
}

/* The server's log: which (connection, id) was which offset, and which failed. */
static int log_failed(const char *path, unsigned char *failed_blk)
{
	enum { MAXC = 64, MAXID = 8192 };
	static uint64_t off[MAXC][MAXID];
	FILE *f = fopen(path, "r");
	char line[512];
	int nfail = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned c, id;
		unsigned long long o;
		int ret;
		char *p = strstr(line, "connection=");

		if (!p)
			continue;
		if (sscanf(p, "connection=%u %*[RW]%*[a-z] id=%u offset=0x%llx", &c, &id, &o) ==
		    3) {
			if (c < MAXC && id < MAXID)
				off[c][id] = o;
		} else if (sscanf(p, "connection=%u ...%*[RW]%*[a-z] id=%u return=%d", &c, &id,
				  &ret) == 3 &&
			   ret != 0 && c < MAXC && id < MAXID) {
			failed_blk[off[c][id] / BLK] = 1;
			nfail++;
		}
	}
	fclose(f);
	return nfail;
}

static int mode_errors(void)
{
	char log[256], arg[300];
	const char *args[] = { "--filter=log",	"--filter=error", "memory", "16M", arg,
			       "error-rate=5%", "error=EIO",	  NULL };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 32, .nbd_conns = 4 };
	static unsigned char failed_blk[NBLK];
	static struct rawio_req reqs[NBLK];
	static unsigned seen[NBLK];
	struct rawio_engine *e;
	struct rawio_dev *dev;
	char *buf = rawio_buf_alloc((size_t)NBLK * BLK, BLK);
	int nfail = 0, logged;

	snprintf(log, sizeof(log), "%s/log", srv.dir);
	snprintf(arg, sizeof(arg), "logfile=%s", log);
	CHECK(buf, "buffer");
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not start");
	CHECK_OK(open_dev(&dev));
	CHECK_OK(rawio_engine_open(&e, "nbd", dev, &eo));
	/* One request per block, reads and writes mixed: each offset names one request. */
	for (unsigned i = 0; i < NBLK; i++)
		reqs[i] = (struct rawio_req){ .op = i % 3 ? RAWIO_OP_READ : RAWIO_OP_WRITE,
					      .buf = buf + (size_t)i * BLK,
					      .len = BLK,
					      .off = (uint64_t)((i * 2654435761u) % NBLK) * BLK };
	CHECK(run_all(e, reqs, NBLK, seen, 0, NULL) == 0, "run");
	rawio_engine_close(e);
	rawio_dev_close(dev);
	srv_stop(&srv, SIGTERM); /* the log is complete */
	logged = log_failed(log, failed_blk);
	CHECK(logged > 0, "the server's log shows no failed request (%d)", logged);
	for (unsigned i = 0; i < NBLK; i++) {
		bool failed = failed_blk[reqs[i].off / BLK];

		CHECK(seen[i] == 1, "request %u completed %u times", i, seen[i]);
		if (failed)
			CHECK(reqs[i].result == -EIO,
			      "request %u (%s at %llu) failed on the server, "
			      "rawio says %lld",
			      i, reqs[i].op ? "write" : "read", (unsigned long long)reqs[i].off,
			      (long long)reqs[i].result);
		else
			CHECK(reqs[i].result == BLK,
			      "request %u (%s at %llu): %lld, the server said ok", i,
			      reqs[i].op ? "write" : "read", (unsigned long long)reqs[i].off,
			      (long long)reqs[i].result);
		nfail += failed;
	}
	printf("errors: %d of %u requests failed on the server, exactly those failed here\n", nfail,
	       NBLK);
	rawio_buf_free(buf);
	return T_PASS;
}

static void kill_server(void)
{
	srv_stop(&srv, SIGKILL);
}

static int mode_kill(void)
{
	const char *args[] = { "--filter=delay", "memory", "16M", "delay-read=1ms", NULL };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 32, .nbd_conns = 4 };
	enum { N = 6000 };
	static struct rawio_req reqs[N];
	static unsigned seen[N];
	struct rawio_engine *e;
	struct rawio_dev *dev;
	char desc[1024];
	char *buf = rawio_buf_alloc((size_t)32 * BLK, BLK);
	unsigned ok = 0, failed = 0;

	CHECK(buf, "buffer");
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not start");
	CHECK_OK(open_dev(&dev));
	CHECK_OK(rawio_engine_open(&e, "nbd", dev, &eo));
	for (unsigned i = 0; i < N; i++)
		reqs[i] = (struct rawio_req){ .op = i % 2 ? RAWIO_OP_READ : RAWIO_OP_WRITE,
					      .buf = buf + (size_t)(i % 32) * BLK,
					      .len = BLK,
					      .off = (uint64_t)(i % NBLK) * BLK };
	/* A hang fails the test by its timeout; the alarm makes it quicker to see. */
	alarm(60);
	CHECK(run_all(e, reqs, N, seen, 500, kill_server) == 0, "run");
	alarm(0);
	for (unsigned i = 0; i < N; i++) {
		CHECK(seen[i] == 1, "request %u completed %u times", i, seen[i]);
		if (reqs[i].result == BLK)
			ok++;
		else if (reqs[i].result < 0)
			failed++;
		else
			CHECK(0, "request %u: result %lld", i, (long long)reqs[i].result);
	}
	CHECK(ok >= 500 && failed > 0, "%u ok, %u failed", ok, failed);
	rawio_engine_describe(e, desc, sizeof(desc));
	CHECK(strstr(desc, srv.sock) && (strstr(desc, "read of 4096") || strstr(desc, "write of")),
	      "the error does not name the server and the request: %s", desc);
	printf("kill: %u ok before, %u failed after; %s\n", ok, failed, desc);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	return T_PASS;
}

static int mode_flush(void)
{
	const char *args[] = { "memory", "16M", NULL };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 8, .nbd_conns = 4 };
	struct rawio_engine *e;
	struct rawio_dev *dev;
	struct rawio_req r;
	char *buf = rawio_buf_alloc(BLK, BLK);
	char desc[1024];
	int64_t res;

	CHECK(buf, "buffer");
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not start");
	CHECK_OK(open_dev(&dev));
	CHECK_OK(rawio_engine_open(&e, "nbd", dev, &eo));
	t_fill(buf, BLK, 3, 0);
	r = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = buf, .len = BLK };
	CHECK(rawio_engine_run1(e, &r) == BLK, "write");
	srv_stop(&srv, SIGKILL);
	/* The engine notices on its next wait or send. */
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = BLK };
	res = rawio_engine_run1(e, &r);
	CHECK(res < 0, "a read from a dead server: %lld", (long long)res);
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not restart");
	srv_sleep_ms(150); /* past the reconnect interval */
	r = (struct rawio_req){ .op = RAWIO_OP_FSYNC };
	res = rawio_engine_run1(e, &r);
	rawio_engine_describe(e, desc, sizeof(desc));
	CHECK(res == -EIO, "flush after the server lost an acknowledged write: %lld (%s)",
	      (long long)res, desc);
	t_fill(buf, BLK, 4, 0);
	r = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = buf, .len = BLK };
	res = rawio_engine_run1(e, &r);
	CHECK(res == BLK, "write after the restart: %lld", (long long)res);
	r = (struct rawio_req){ .op = RAWIO_OP_FSYNC };
	CHECK(rawio_engine_run1(e, &r) == 0, "flush after the restart");
	memset(buf, 0, BLK);
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = BLK };
	CHECK(rawio_engine_run1(e, &r) == BLK && t_verify(buf, BLK, 4, 0) == 0, "read back");
	printf("flush: -EIO after the loss (%s), then reconnected\n", desc);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	return T_PASS;
}

static int mode_split(void)
{
	const char *args[] = { "--filter=blocksize-policy",
			       "memory",
			       "16M",
			       "blocksize-minimum=4096",
			       "blocksize-preferred=16384",
			       "blocksize-maximum=65536",
			       "blocksize-error-policy=error",
			       NULL };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 8, .nbd_conns = 4 };
	const struct rawio_dev_info *in;
	struct rawio_engine *e;
	struct rawio_dev *dev;
	struct rawio_req r;
	size_t len = 1u << 20;
	char *buf = rawio_buf_alloc(len, BLK);

	CHECK(buf, "buffer");
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not start");
	CHECK_OK(open_dev(&dev));
	in = rawio_dev_info(dev);
	CHECK(in->nbd.min_block == 4096 && in->nbd.pref_block == 16384 &&
		      in->nbd.max_block == 65536,
	      "block sizes %u/%u/%u", in->nbd.min_block, in->nbd.pref_block, in->nbd.max_block);
	CHECK(in->offset_align == 4096, "offset alignment %u", in->offset_align);
	CHECK_OK(rawio_engine_open(&e, "nbd", dev, &eo));
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = 512 };
	CHECK(rawio_engine_queue(e, &r) == RAWIO_Q_DONE && r.result == -EINVAL,
	      "a 512-byte read under a 4 KiB minimum: %lld", (long long)r.result);
	for (uint64_t off = 0; off < 4 * len; off += len + 3 * BLK) {
		t_fill(buf, len, 5, off);
		r = (struct rawio_req){ .op = RAWIO_OP_WRITE,
					.flags = RAWIO_REQ_FUA,
					.buf = buf,
					.len = len,
					.off = off };
		CHECK(rawio_engine_run1(e, &r) == (int64_t)len, "1 MiB write at %llu: %lld",
		      (unsigned long long)off, (long long)r.result);
		memset(buf, 0, len);
		r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = buf, .len = len, .off = off };
		CHECK(rawio_engine_run1(e, &r) == (int64_t)len, "1 MiB read at %llu: %lld",
		      (unsigned long long)off, (long long)r.result);
		CHECK(t_verify(buf, len, 5, off) == 0, "data at %llu", (unsigned long long)off);
	}
	printf("split: 1 MiB requests in 64 KiB pieces, data intact\n");
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	return T_PASS;
}

static int mode_big(void)
{
	const char *args[] = { "memory", "16M", NULL };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 4 };
	enum { BIG_LEN = 1u << 20, BIG_N = 256, BIG_SLOTS = 12 };
	static struct rawio_req reqs[BIG_N];
	static unsigned seen[BIG_N];
	struct rawio_engine *e;
	struct rawio_dev *dev;
	char *buf = rawio_buf_alloc((size_t)BIG_SLOTS * BIG_LEN, BLK);

	CHECK(buf, "buffer");
	for (unsigned k = 0; k < BIG_SLOTS; k++)
		t_fill(buf + (size_t)k * BIG_LEN, BIG_LEN, 7, (uint64_t)k * BIG_LEN);
	CHECK(srv_start(&srv, args) == 0, "nbdkit did not start");
	CHECK_OK(open_dev(&dev));
	CHECK_OK(rawio_engine_open(&e, "nbd", dev, &eo));
	/* Slot k always gets the same data: the requests may overlap in any order. */
	for (unsigned i = 0; i < BIG_N; i++)
		reqs[i] = (struct rawio_req){ .op = RAWIO_OP_WRITE,
					      .buf = buf + (size_t)(i % BIG_SLOTS) * BIG_LEN,
					      .len = BIG_LEN,
					      .off = (uint64_t)(i % BIG_SLOTS) * BIG_LEN };
	alarm(60); /* a lost write hangs the reap: die rather than wait for CTest */
	CHECK(run_all(e, reqs, BIG_N, seen, 0, NULL) == 0, "1 MiB writes at QD 4");
	alarm(0);
	for (unsigned i = 0; i < BIG_N; i++)
		CHECK(seen[i] == 1 && reqs[i].result == BIG_LEN, "write %u: seen %u, result %lld",
		      i, seen[i], (long long)reqs[i].result);
	memset(buf, 0, (size_t)BIG_SLOTS * BIG_LEN);
	for (unsigned k = 0; k < BIG_SLOTS; k++) {
		struct rawio_req r = { .op = RAWIO_OP_READ,
				       .buf = buf + (size_t)k * BIG_LEN,
				       .len = BIG_LEN,
				       .off = (uint64_t)k * BIG_LEN };

		CHECK(rawio_engine_run1(e, &r) == BIG_LEN, "read back %u", k);
		CHECK(t_verify(r.buf, BIG_LEN, 7, r.off) == 0, "data of slot %u", k);
	}
	printf("big: %u writes of 1 MiB at QD 4, each completed once, data intact\n", BIG_N);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	rawio_buf_free(buf);
	return T_PASS;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} modes[] = {
		{ "errors", mode_errors }, { "kill", mode_kill }, { "flush", mode_flush },
		{ "split", mode_split },   { "big", mode_big },
	};
	int ret = T_FAIL;

	if (argc != 2) {
		fprintf(stderr, "usage: %s errors|kill|flush|split|big\n", argv[0]);
		return T_FAIL;
	}
	ret = srv_setup(&srv);
	if (ret)
		return ret;
	ret = T_FAIL; /* an unknown mode */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			ret = modes[i].fn();
	srv_fini(&srv);
	return ret;
}
