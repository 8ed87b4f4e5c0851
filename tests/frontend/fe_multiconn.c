// SPDX-License-Identifier: MIT
/*
 * The plugin advertises multi-conn, which promises that a flush on one
 * connection makes every write completed on any connection durable. Four
 * connections write disjoint ranges of a cache (whose unflushed writes live
 * in RAM segments); once each has written a few hundred blocks, connection 0
 * notes how many writes every connection had completed, flushes, and the
 * moment the flush is acknowledged nbdkit is SIGKILLed. Served again (the
 * cache recovers from its log), every write completed before the flush must
 * read back.
 * usage: fe_multiconn [SEED]
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>

#include <rawio/cache.h>

#include "fe_nbd.h"

#define MC_CONNS  4
#define MC_BLOCK  4096u
#define MC_SIZE	  (64u << 20)
#define MC_RANGE  (MC_SIZE / MC_CONNS / MC_BLOCK) /* blocks per connection */
#define MC_BEFORE 300 /* writes each connection completes before the flush */

struct mc_conn {
	struct nbd_handle *h;
	unsigned id;
	uint64_t seed;
	uint64_t done; /* writes completed (atomic) */
	int err;
};

static struct {
	struct mc_conn c[MC_CONNS];
	pid_t nbdkit;
	uint64_t snap[MC_CONNS]; /* completed before the flush was sent */
	int flush_err;
	bool flushed;
} mc;

static uint64_t mc_off(unsigned id, uint64_t i)
{
	return ((uint64_t)id * MC_RANGE + i) * MC_BLOCK;
}

static bool mc_all_past(uint64_t n)
{
	for (unsigned k = 0; k < MC_CONNS; k++)
		if (__atomic_load_n(&mc.c[k].done, __ATOMIC_ACQUIRE) < n &&
		    !__atomic_load_n(&mc.c[k].err, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static void *mc_writer(void *arg)
{
	struct mc_conn *c = arg;
	char buf[MC_BLOCK];

	for (uint64_t i = 0; i < MC_RANGE; i++) {
		if (c->id == 0 && !mc.flushed && mc_all_past(MC_BEFORE)) {
			/* Note what completed, flush, and pull the plug on the reply. */
			for (unsigned k = 0; k < MC_CONNS; k++)
				mc.snap[k] = __atomic_load_n(&mc.c[k].done, __ATOMIC_ACQUIRE);
			mc.flush_err = nbd_flush(c->h, 0);
			kill(mc.nbdkit, SIGKILL);
			mc.flushed = true;
			break;
		}
		t_fill(buf, MC_BLOCK, c->seed + c->id, mc_off(c->id, i));
		if (nbd_pwrite(c->h, buf, MC_BLOCK, mc_off(c->id, i), 0)) {
			__atomic_store_n(&c->err, -EIO, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&c->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int mc_verify(const char *sock, uint64_t seed)
{
	struct nbd_handle *h = fe_connect(sock);
	uint64_t extra = 0;
	char buf[MC_BLOCK];

	CHECK(h, "reconnect after recovery");
	for (unsigned k = 0; k < MC_CONNS; k++) {
		for (uint64_t i = 0; i < MC_RANGE; i++) {
			uint64_t off = mc_off(k, i);
			bool ok;

			if (nbd_pread(h, buf, MC_BLOCK, off, 0)) {
				fprintf(stderr, "read at %" PRIu64 ": %s\n", off, nbd_get_error());
				nbd_close(h);
				return T_FAIL;
			}
			ok = !t_verify(buf, MC_BLOCK, seed + k, off);
			if (i < mc.snap[k] && !ok) {
				fprintf(stderr,
					"connection %u: write %" PRIu64 " (offset %" PRIu64
					") completed before the flush but is gone after recovery\n",
					k, i, off);
				nbd_close(h);
				return T_FAIL;
			}
			extra += i >= mc.snap[k] && ok;
		}
	}
	nbd_close(h);
	fprintf(stderr,
		"every write completed before the flush survived (%" PRIu64 ", %" PRIu64
		", %" PRIu64 ", %" PRIu64 "); %" PRIu64 " later ones did too\n",
		mc.snap[0], mc.snap[1], mc.snap[2], mc.snap[3], extra);
	return T_PASS;
}

static int mc_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int ret = fd < 0 || ftruncate(fd, (off_t)size) ? -1 : 0;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int mc_run(const char *dir, uint64_t seed)
{
	char sock[256], pidfile[256], cache[256], backing[256], pc[300], pb[300];
	struct rawio_cache_format_opts fo = { .size = sizeof(fo) };
	struct rawio_dev *cd = NULL, *bd = NULL;
	const char *params[] = { pc, pb, NULL };
	pthread_t tids[MC_CONNS];
	int ret;

	snprintf(sock, sizeof(sock), "%s/nbd.sock", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/nbdkit.pid", dir);
	snprintf(cache, sizeof(cache), "%s/cache.img", dir);
	snprintf(backing, sizeof(backing), "%s/backing.img", dir);
	snprintf(pc, sizeof(pc), "cache=%s", cache);
	snprintf(pb, sizeof(pb), "backing=%s", backing);
	CHECK(!mc_file(cache, 32u << 20) && !mc_file(backing, MC_SIZE), "create %s", dir);
	CHECK_OK(rawio_dev_open(&cd, cache, NULL));
	ret = rawio_dev_open(&bd, backing, NULL);
	if (!ret)
		ret = rawio_cache_format(cd, bd, &fo);
	rawio_dev_close(cd);
	rawio_dev_close(bd);
	CHECK_OK(ret);

	mc.nbdkit = fe_nbdkit_start(sock, pidfile, params);
	CHECK(mc.nbdkit > 0, "start nbdkit");
	for (unsigned k = 0; k < MC_CONNS; k++) {
		mc.c[k] = (struct mc_conn){ .h = fe_connect(sock), .id = k, .seed = seed };
		if (!mc.c[k].h || nbd_can_multi_conn(mc.c[k].h) != 1) {
			fprintf(stderr, "connection %u: %s\n", k,
				mc.c[k].h ? "no multi-conn" : "cannot connect");
			fe_nbdkit_stop(mc.nbdkit, SIGKILL);
			return T_FAIL;
		}
	}
	for (unsigned k = 0; k < MC_CONNS; k++)
		pthread_create(&tids[k], NULL, mc_writer, &mc.c[k]);
	for (unsigned k = 0; k < MC_CONNS; k++)
		pthread_join(tids[k], NULL);
	for (unsigned k = 0; k < MC_CONNS; k++)
		nbd_close(mc.c[k].h);
	ret = fe_nbdkit_stop(mc.nbdkit, SIGKILL);
	CHECK(mc.flushed, "connection 0 never flushed (a writer failed first)");
	CHECK(mc.flush_err == 0, "flush failed");
	CHECK(WIFSIGNALED(ret), "nbdkit was not killed (status %#x)", ret);

	mc.nbdkit = fe_nbdkit_start(sock, pidfile, params);
	CHECK(mc.nbdkit > 0, "restart nbdkit (cache recovery)");
	ret = mc_verify(sock, seed);
	fe_nbdkit_stop(mc.nbdkit, SIGTERM);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
	char dir[] = "/tmp/rawio-fe-multiconn.XXXXXX", p[256];
	int rc;

	if (fe_available())
		return T_SKIP;
	if (!mkdtemp(dir)) {
		perror(dir);
		return T_FAIL;
	}
	rc = mc_run(dir, seed);
	for (const char *const *f = (const char *const[]){ "nbd.sock", "nbdkit.pid", "cache.img",
							   "backing.img", NULL };
	     *f; f++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *f);
		unlink(p);
	}
	rmdir(dir);
	if (rc)
		fprintf(stderr, "replay: RAWIO_PLUGIN=%s %s %" PRIu64 "\n", getenv("RAWIO_PLUGIN"),
			argv[0], seed);
	return rc;
}
