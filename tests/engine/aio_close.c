// SPDX-License-Identifier: MIT
/*
 * The aio engine's close: it still waits for the I/O in flight (every request
 * queued and committed before the close has its result when the close
 * returns), and every context it closes is destroyed, though off the caller's
 * path (src/engine/aio.c): the process's "[aio]" ring mappings, one per
 * context, go back to what they were before.
 */
#include <time.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

#include "harness.h"

#define NR_OPENS 64
#define QD	 16
#define BS	 4096

/* The aio completion rings mapped into this process (one per live context). */
static int aio_rings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/[aio]") != NULL;
	fclose(f);
	return n;
}

static int test_close(struct rawio_dev *dev, char *buf)
{
	struct rawio_engine_opts opts = { .size = sizeof(opts), .queue_depth = QD };
	struct rawio_req req[QD];
	int before = aio_rings(), now = -1;

	CHECK(before >= 0, "cannot read /proc/self/maps");
	for (unsigned i = 0; i < NR_OPENS; i++) {
		struct rawio_engine *e;

		CHECK_OK(rawio_engine_open(&e, "aio", dev, &opts));
		now = aio_rings(); /* ours, and perhaps closed ones not yet destroyed */
		CHECK(now > before, "open %u: %d aio rings, %d before", i, now, before);
		for (unsigned k = 0; k < QD; k++) {
			req[k] = (struct rawio_req){ .op = RAWIO_OP_READ,
						     .buf = buf + (size_t)k * BS,
						     .len = BS,
						     .off = (uint64_t)k * BS,
						     .result = -EINPROGRESS };
			CHECK(rawio_engine_queue(e, &req[k]) >= 0, "queue %u", k);
		}
		CHECK_OK(rawio_engine_commit(e));
		rawio_engine_close(e); /* nothing reaped: the close must wait for all QD */
		for (unsigned k = 0; k < QD; k++)
			CHECK(req[k].result == BS, "open %u: read %u has %lld after the close", i,
			      k, (long long)req[k].result);
	}
	/* Destroyed off our path: give the destroying threads up to 10 s. */
	for (unsigned tries = 0; tries < 1000; tries++) {
		now = aio_rings();
		if (now == before)
			break;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	CHECK(now == before, "%d aio rings 10 s after %d closes, %d before: contexts leaked", now,
	      NR_OPENS, before);
	return T_PASS;
}

int main(void)
{
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = QD * BS };
	struct rawio_dev *dev;
	char *buf;
	int ret;

	ret = t_open_tmpfile(&dev, "aio-close", &dopts);
	if (ret)
		return ret;
	buf = rawio_buf_alloc((size_t)QD * BS, BS);
	ret = buf ? test_close(dev, buf) : T_FAIL;
	rawio_buf_free(buf);
	rawio_dev_close(dev);
	return ret;
}
