// SPDX-License-Identifier: MIT
/*
 * The throttle engine: data goes through to the engine under it and back, and
 * the engine describes itself and what it stacks on.
 */
#include "throttle_test.h"

int main(void)
{
	struct rawio_throttle_params p = { .size = sizeof(p), .iops = 100000 };
	struct rawio_engine_opts to = { .size = sizeof(to), .queue_depth = 4 };
	struct rawio_throttle *t;
	struct rawio_engine *e;
	struct rawio_req r;
	char *w, *rd, d[256];

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));
	w = rawio_buf_alloc(8192, 4096);
	rd = rawio_buf_alloc(8192, 4096);
	CHECK(w && rd, "buffers");
	CHECK_OK(rawio_throttle_new(&t, &p));
	to.throttle = t;
	CHECK_OK(rawio_engine_open(&e, "throttle", dev, &to));
	t_fill(w, 8192, 9, 12288);
	r = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = w, .len = 8192, .off = 12288 };
	CHECK(rawio_engine_run1(e, &r) == 8192, "write");
	r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = rd, .len = 8192, .off = 12288 };
	CHECK(rawio_engine_run1(e, &r) == 8192, "read");
	CHECK(!t_verify(rd, 8192, 9, 12288), "data");
	rawio_engine_describe(e, d, sizeof(d));
	CHECK(strstr(d, "throttle iops=100000") && strstr(d, "over [mem"), "describe: %s", d);
	rawio_engine_close(e);
	rawio_throttle_free(t);
	rawio_buf_free(w);
	rawio_buf_free(rd);
	rawio_dev_close(dev);
	return T_PASS;
}
