// SPDX-License-Identifier: MIT
/*
 * The throttle engine: rates follow the model at depth: iops (whatever the
 * queue depth), bandwidth, and the cost of a flush. Only the lower bounds are
 * checked: the emulated disk must never run faster than its model; how much
 * slower a loaded machine makes it is not the engine's to promise.
 */
#include "throttle_test.h"

int main(void)
{
	struct rawio_throttle_params p = { .size = sizeof(p) };
	struct rawio_throttle_stat st;
	struct rawio_throttle *t;
	double secs;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));

	/* 1000 IOPS: 200 requests take 0.2 s whatever the depth. */
	p.iops = 1000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_WRITE, 200, 4096, 16, true);
	CHECK(secs >= 0.199, "200 requests at 1000 IOPS: %.3f s", secs);
	rawio_throttle_stat(t, &st);
	CHECK(st.requests == 200 && st.bytes == 200 * 4096 && st.seek_ns == 0, "stats");
	rawio_throttle_free(t);

	/* 100 MiB/s: 20 MiB take 0.2 s. */
	p.iops = 0;
	p.bw = 100u << 20;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_WRITE, 20, 1u << 20, 4, true);
	CHECK(secs >= 0.199, "20 MiB at 100 MiB/s: %.3f s", secs);
	rawio_throttle_free(t);

	/* Flushes cost flush_us each. */
	p.bw = 0;
	p.flush_us = 20000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_FDATASYNC, 8, 0, 4, true);
	CHECK(secs >= 0.159, "8 flushes of 20 ms: %.3f s", secs);
	rawio_throttle_free(t);
	rawio_dev_close(dev);
	return T_PASS;
}
