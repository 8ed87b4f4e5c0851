// SPDX-License-Identifier: MIT
/*
 * A callback that returns non-zero stops the batch: what is in flight is
 * waited for, what was never queued is -ECANCELED, and the batch returns the
 * callback's value. Writes need their own buffers (-EINVAL otherwise).
 */
#include "harness.h"

#define NR  10000u
#define BLK 4096u

static int stop_at_100(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	unsigned *calls = arg;

	return ++*calls == 100 ? -EINTR : 0;
}

int main(void)
{
	struct rawio_engine_opts o = { .size = sizeof(o), .queue_depth = 32 };
	struct rawio_batch_io *ios = calloc(NR, sizeof(*ios));
	struct rawio_engine *e;
	struct rawio_dev *dev;
	unsigned calls = 0, cancelled = 0, done = 0;
	ssize_t ret;

	CHECK(ios, "calloc");
	CHECK_OK(rawio_dev_open_mem(&dev, (uint64_t)NR * BLK, 512));
	CHECK_OK(rawio_engine_open(&e, "mem", dev, &o));
	for (unsigned i = 0; i < NR; i++)
		ios[i] = (struct rawio_batch_io){ .off = (uint64_t)i * BLK, .len = BLK };
	ret = rawio_batch_read(e, ios, NR, stop_at_100, &calls);
	CHECK(ret == -EINTR, "batch returned %zd, want -EINTR", ret);
	CHECK(rawio_engine_inflight(e) == 0, "%u left in flight", rawio_engine_inflight(e));
	for (unsigned i = 0; i < NR; i++) {
		if (ios[i].result == -ECANCELED)
			cancelled++;
		else if (ios[i].result == BLK)
			done++;
		else
			CHECK(0, "request %u: %lld", i, (long long)ios[i].result);
	}
	CHECK(done >= 100 && done <= 100 + 32, "%u done after a stop at 100", done);
	CHECK(done + cancelled == NR, "%u + %u != %u", done, cancelled, NR);

	ios[0].buf = NULL;
	ret = rawio_batch_write(e, ios, 1, NULL, NULL);
	CHECK(ret == -EINVAL, "write without a buffer: %zd", ret);
	free(ios);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	return T_PASS;
}
