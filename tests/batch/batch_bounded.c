// SPDX-License-Identifier: MIT
/*
 * A batch's memory is bounded by queue depth, not by the number of requests:
 * a million reads into borrowed buffers grow the resident set by far less
 * than a million buffers (4 GiB) would, and every callback sees the right data.
 */
#include <sys/resource.h>

#include "harness.h"

#define NR  1000000u
#define BLK 4096u
#define DEV (64u << 20)

struct seen {
	uint64_t calls, bad;
};

static int on_done(void *arg, size_t idx, struct rawio_batch_io *io, void *data)
{
	struct seen *s = arg;

	s->calls++;
	if (io->result != BLK || t_verify(data, BLK, 5, io->off % DEV))
		s->bad++;
	return 0;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(void)
{
	struct rawio_engine_opts o = { .size = sizeof(o), .queue_depth = 256 };
	struct rawio_batch_io *ios;
	struct rawio_engine *e;
	struct rawio_dev *dev;
	struct seen s = { 0 };
	long before, after;
	ssize_t failed;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV, 512));
	t_fill(rawio_dev_mem(dev), DEV, 5, 0);
	CHECK_OK(rawio_engine_open(&e, "mem", dev, &o));
	ios = calloc(NR, sizeof(*ios));
	CHECK(ios, "calloc");
	for (unsigned i = 0; i < NR; i++)
		ios[i] = (struct rawio_batch_io){ .off = ((uint64_t)i * 7919 * BLK) % DEV,
						  .len = BLK };
	before = maxrss_kib();
	failed = rawio_batch_read(e, ios, NR, on_done, &s);
	after = maxrss_kib();
	CHECK(failed == 0, "%zd failed", failed);
	CHECK(s.calls == NR, "%llu callbacks for %u requests", (unsigned long long)s.calls, NR);
	CHECK(s.bad == 0, "%llu callbacks saw wrong data", (unsigned long long)s.bad);
	/* 256 borrowed buffers are 1 MiB; allow slack for the allocator, not 4 GiB. */
	CHECK(after - before < 16 * 1024, "resident set grew by %ld KiB", after - before);
	free(ios);
	rawio_engine_close(e);
	rawio_dev_close(dev);
	return T_PASS;
}
