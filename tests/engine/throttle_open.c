// SPDX-License-Identifier: MIT
/* The throttle engine: it will not open without an emulated device to follow. */
#include "throttle_test.h"

int main(void)
{
	struct rawio_engine_opts o = { .size = sizeof(o) };
	struct rawio_engine *e;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));
	CHECK(rawio_engine_open(&e, "throttle", dev, &o) == -EINVAL, "no emulated device");
	rawio_dev_close(dev);
	return T_PASS;
}
