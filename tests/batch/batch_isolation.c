// SPDX-License-Identifier: MIT
/*
 * A batch of 100,000 reads with 3 bad ranges returns exactly 3 errors and
 * 99,997 good reads (seed 000 §4.2: one bad sector must drop one entry, not
 * the batch), on the engine named by argv[1] under a fault engine.
 */
#include "harness.h"

#define NR  100000u
#define BLK 4096u

int main(int argc, char **argv)
{
	const char *engine = argc > 1 ? argv[1] : "uring";
	const struct rawio_fault_range bad[] = {
		{ .off = 17ull * BLK, .len = BLK },
		{ .off = 50000ull * BLK, .len = BLK, .err = EILSEQ },
		{ .off = (NR - 1ull) * BLK, .len = BLK },
	};
	struct rawio_engine_opts o = { .size = sizeof(o),
				       .queue_depth = 128,
				       .lower = engine,
				       .faults = bad,
				       .nr_faults = 3 };
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = (uint64_t)NR * BLK };
	struct rawio_batch_io *ios;
	struct rawio_engine *e;
	struct rawio_dev *dev;
	char path[64];
	ssize_t failed;
	unsigned good = 0;

	if (!strcmp(engine, "mem")) {
		CHECK_OK(rawio_dev_open_mem(&dev, (uint64_t)NR * BLK, 512));
	} else {
		t_scratch(path, sizeof(path), "iso");
		CHECK_OK(rawio_dev_open(&dev, path, &dopts));
		unlink(path); /* a sparse file: reads of holes, no data needed */
	}
	CHECK_OK(rawio_engine_open(&e, "fault", dev, &o));
	ios = calloc(NR, sizeof(*ios));
	CHECK(ios, "calloc");
	for (unsigned i = 0; i < NR; i++)
		ios[i] = (struct rawio_batch_io){ .off = (uint64_t)i * BLK, .len = BLK };
	failed = rawio_batch_read(e, ios, NR, NULL, NULL);
	CHECK(failed == 3, "%s: %zd failures, want 3", engine, failed);
	for (unsigned i = 0; i < NR; i++) {
		int64_t want = i == 17 || i == NR - 1 ? -EIO : i == 50000 ? -EILSEQ : (int64_t)BLK;

		CHECK(ios[i].result == want, "request %u: %lld, want %lld", i,
		      (long long)ios[i].result, (long long)want);
		good += ios[i].result == BLK;
	}
	CHECK(good == NR - 3, "%u good reads", good);
	free(ios);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	return T_PASS;
}
