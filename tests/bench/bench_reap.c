// SPDX-License-Identifier: MIT
/*
 * rawio_bench_run's default complete_min is the engine's: qd/8 (at least 1)
 * where completions come in batches (RAWIO_CAP_BATCH_REAP: uring, aio, mem)
 * or the engine is stacked, 1 where they come one at a time (sync, threads,
 * nbd, rbd), and 1 for uring where io_uring punts every request to io-wq (no
 * NOWAIT; the file here has NOWAIT, so that case is checked on zram, by
 * bench_zram.sh, where root is there); the result reports what was in
 * force. An explicit complete_min is kept, and a complete_max below the
 * default caps it.
 */
#include <rawio/bench.h>

#include "harness.h"

#define QD 32

/* One short run; its resolved complete_min into *MIN, or the error. */
static int run(struct rawio_dev *dev, const char *engine, unsigned qd, unsigned cmin, unsigned cmax,
	       unsigned *min, char *res_engine, size_t len)
{
	struct rawio_bench_opts o = { .size = sizeof(o) };
	struct rawio_bench_result *res = calloc(1, sizeof(*res));
	char err[256] = "";
	int ret;

	if (!res)
		return -ENOMEM;
	o.engine = engine;
	o.dev = dev;
	o.rw = RAWIO_BENCH_RANDREAD;
	o.qd = qd;
	o.complete_min = cmin;
	o.complete_max = cmax;
	o.region = 1u << 20;
	o.runtime_ns = 20000000;
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = rawio_bench_run(&o, res);
	if (ret)
		fprintf(stderr, "%s: %s\n", engine, err);
	*min = res->complete_min;
	if (res_engine)
		snprintf(res_engine, len, "%s", res->engine);
	free(res);
	return ret;
}

static unsigned expected(struct rawio_dev *dev, const char *engine, unsigned qd)
{
	unsigned caps = rawio_engine_name_caps(engine);
	struct rawio_engine_choice c;

	if (!strcmp(engine, "sync"))
		return 1; /* depth 1 */
	if (!strcmp(engine, "uring") && !rawio_engine_choose(dev, qd, &c) && c.uring_punts)
		return 1; /* io-wq: one request at a time */
	return (caps & (RAWIO_CAP_BATCH_REAP | RAWIO_CAP_STACKED)) && qd / 8 ? qd / 8 : 1;
}

int main(void)
{
	struct rawio_dev_opts fo = { .size = sizeof(fo),
				     .flags = RAWIO_DEV_CREATE,
				     .create_size = 1u << 20 };
	struct rawio_dev *mem, *file;
	char picked[16];
	unsigned min;
	int ret;

	/* The trait as the engines declare it (what bench/ceph.sh and remote.sh measured). */
	for (const char *const *n = (const char *const[]){ "uring", "aio", "mem", NULL }; *n; n++)
		CHECK(rawio_engine_name_caps(*n) & RAWIO_CAP_BATCH_REAP, "%s batches", *n);
	for (const char *const *n = (const char *const[]){ "sync", "threads", "nbd", "rbd", NULL };
	     *n; n++)
		CHECK(!(rawio_engine_name_caps(*n) & RAWIO_CAP_BATCH_REAP), "%s does not batch",
		      *n);
	CHECK(rawio_engine_name_caps("no-such-engine") == 0, "unknown engine: no caps");

	CHECK_OK(rawio_dev_open_mem(&mem, 4u << 20, 512));
	CHECK_OK(run(mem, "mem", QD, 0, 0, &min, NULL, 0));
	CHECK(min == QD / 8, "mem at QD %u: complete_min %u", QD, min);
	CHECK_OK(run(mem, "mem", 4, 0, 0, &min, NULL, 0));
	CHECK(min == 1, "mem at QD 4: complete_min %u", min);
	CHECK_OK(run(mem, "mem", QD, 2, 0, &min, NULL, 0));
	CHECK(min == 2, "an explicit complete_min is kept: %u", min);
	CHECK_OK(run(mem, "mem", QD, 0, 3, &min, NULL, 0));
	CHECK(min == 3, "complete_max 3 caps the default: %u", min);

	ret = t_open_tmpfile(&file, "bench_reap", &fo);
	if (ret != T_PASS) {
		rawio_dev_close(mem);
		return ret;
	}
	for (const char *const *n = rawio_engine_list(); *n; n++) {
		if (!strcmp(*n, "mem") || !strcmp(*n, "nbd") || !strcmp(*n, "rbd"))
			continue; /* other kinds of device: their trait is checked above */
		ret = run(file, *n, QD, 0, 0, &min, NULL, 0);
		if (ret == -EINVAL || ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -EPERM) {
			fprintf(stderr, "%s: cannot run here (%s): not checked\n", *n,
				rawio_strerror(ret));
			continue;
		}
		CHECK(ret == 0, "%s: %s", *n, rawio_strerror(ret));
		CHECK(min == expected(file, *n, QD), "%s: complete_min %u, the engine asks for %u",
		      *n, min, expected(file, *n, QD));
		fprintf(stderr, "%s: complete_min %u\n", *n, min);
	}
	/* auto: the pick's default, not auto's. */
	CHECK_OK(run(file, "auto", QD, 0, 0, &min, picked, sizeof(picked)));
	CHECK(min == expected(file, picked, QD), "auto (%s): complete_min %u", picked, min);
	rawio_dev_close(file);
	rawio_dev_close(mem);
	return T_PASS;
}
