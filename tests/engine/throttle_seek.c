// SPDX-License-Identifier: MIT
/*
 * The throttle engine: seeks are free when sequential, and cost sqrt(distance
 * / span) of a full stroke otherwise.
 */
#include "throttle_test.h"

int main(void)
{
	struct rawio_throttle_params p = { .size = sizeof(p), .seek_us = 4000 };
	struct rawio_throttle_stat st;
	struct rawio_throttle *t;
	double secs;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_READ, 100, 4096, 8, true);
	rawio_throttle_stat(t, &st);
	CHECK(st.seek_ns == 0 && secs < 0.1, "sequential: no seeks (%.3f s)", secs);
	secs = run(t, RAWIO_OP_READ, 100, 4096, 8, false);
	rawio_throttle_stat(t, &st);
	CHECK(st.seek_ns > 100 * 1000000ull && st.seek_ns < 100 * 4000000ull && secs >= 0.1,
	      "scattered: %.1f ms of seeks in %.3f s", (double)st.seek_ns / 1e6, secs);
	rawio_throttle_free(t);
	rawio_dev_close(dev);
	return T_PASS;
}
