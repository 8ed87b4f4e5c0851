// SPDX-License-Identifier: MIT
/*
 * The throttle engine: an emulated slow device. Rates follow the model at
 * depth (iops, bandwidth, flush cost), seeks cost only when the head moves,
 * contexts sharing one emulated device share its time, every request comes
 * back exactly once with its data, and specs parse.
 */
#include <pthread.h>

#include <rawio/engine.h>

#include "harness.h"

#define DEV_SZ (64u << 20)

static struct rawio_dev *dev;

/* N requests of LEN bytes (op OP) at QD, sequential or scattered; seconds taken. */
static double run(struct rawio_throttle *t, int op, unsigned n, uint64_t len, unsigned qd, bool seq)
{
	struct rawio_engine_opts o = { .size = sizeof(o), .queue_depth = qd, .throttle = t };
	struct rawio_req *reqs = calloc(n, sizeof(*reqs)), *done[64];
	struct rawio_engine *e;
	char *buf = rawio_buf_alloc(len, 4096);
	uint64_t t0, seen = 0;
	unsigned next = 0;
	double secs = -1;

	if (!reqs || !buf || rawio_engine_open(&e, "throttle", dev, &o))
		goto out;
	t0 = rawio_now_ns();
	while (seen < n) {
		int got;

		while (next < n) {
			struct rawio_req *r = &reqs[next];
			int q;

			*r = (struct rawio_req){
				.op = (uint8_t)op,
				.buf = buf,
				.len = len,
				.off = seq ? next * len : (next * 7919ull % (DEV_SZ / len)) * len
			};
			if (op == RAWIO_OP_FDATASYNC)
				r->buf = NULL, r->len = 0, r->off = 0;
			q = rawio_engine_queue(e, r);
			if (q == RAWIO_Q_BUSY)
				break;
			next++;
			if (q == RAWIO_Q_DONE)
				seen++;
		}
		got = rawio_engine_reap(e, done, 1, 64);
		if (got < 0)
			break;
		for (int i = 0; i < got; i++) {
			if (done[i]->result != (int64_t)done[i]->len)
				goto close;
			done[i]->user_data = (void *)1; /* came back */
		}
		seen += (uint64_t)got;
	}
	secs = (double)(rawio_now_ns() - t0) / 1e9;
	for (unsigned i = 0; i < n; i++)
		if (reqs[i].user_data != (void *)1)
			secs = -2; /* lost */
close:
	rawio_engine_close(e);
out:
	rawio_buf_free(buf);
	free(reqs);
	return secs;
}

struct shared_arg {
	struct rawio_throttle *t;
	double secs;
};

static void *shared_main(void *arg)
{
	struct shared_arg *a = arg;

	a->secs = run(a->t, RAWIO_OP_WRITE, 100, 4096, 8, true);
	return NULL;
}

int main(void)
{
	struct rawio_throttle_params p = { .size = sizeof(p) };
	struct rawio_throttle_stats st;
	struct rawio_throttle *t;
	struct rawio_engine_opts o = { .size = sizeof(o) };
	struct rawio_engine *e;
	double secs;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));
	CHECK(rawio_engine_open(&e, "throttle", dev, &o) == -EINVAL, "no emulated device");

	/* 1000 IOPS: 200 requests take 0.2 s whatever the depth. */
	p.iops = 1000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_WRITE, 200, 4096, 16, true);
	CHECK(secs >= 0.199 && secs < 0.5, "200 requests at 1000 IOPS: %.3f s", secs);
	rawio_throttle_stats(t, &st);
	CHECK(st.requests == 200 && st.bytes == 200 * 4096 && st.seek_ns == 0, "stats");
	rawio_throttle_free(t);

	/* 100 MiB/s: 20 MiB take 0.2 s. */
	p.iops = 0;
	p.bw = 100u << 20;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_WRITE, 20, 1u << 20, 4, true);
	CHECK(secs >= 0.199 && secs < 0.5, "20 MiB at 100 MiB/s: %.3f s", secs);
	rawio_throttle_free(t);

	/* Flushes cost flush_us each. */
	p.bw = 0;
	p.flush_us = 20000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_FDATASYNC, 8, 0, 4, true);
	CHECK(secs >= 0.159 && secs < 0.4, "8 flushes of 20 ms: %.3f s", secs);
	rawio_throttle_free(t);

	/* Seeks: free when sequential, sqrt(distance / span) of a full stroke otherwise. */
	p.flush_us = 0;
	p.seek_us = 4000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	secs = run(t, RAWIO_OP_READ, 100, 4096, 8, true);
	rawio_throttle_stats(t, &st);
	CHECK(st.seek_ns == 0 && secs < 0.1, "sequential: no seeks (%.3f s)", secs);
	secs = run(t, RAWIO_OP_READ, 100, 4096, 8, false);
	rawio_throttle_stats(t, &st);
	CHECK(st.seek_ns > 100 * 1000000ull && st.seek_ns < 100 * 4000000ull && secs >= 0.1,
	      "scattered: %.1f ms of seeks in %.3f s", (double)st.seek_ns / 1e6, secs);
	rawio_throttle_free(t);

	/* Two contexts on two threads share one emulated device. */
	p.seek_us = 0;
	p.iops = 1000;
	CHECK_OK(rawio_throttle_new(&t, &p));
	{
		struct shared_arg a[2] = { { .t = t }, { .t = t } };
		pthread_t tid[2];
		uint64_t t0 = rawio_now_ns();

		for (int i = 0; i < 2; i++)
			pthread_create(&tid[i], NULL, shared_main, &a[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(tid[i], NULL);
		secs = (double)(rawio_now_ns() - t0) / 1e9;
		CHECK(a[0].secs > 0 && a[1].secs > 0, "both ran");
		CHECK(secs >= 0.199, "200 requests on one device from two contexts: %.3f s", secs);
	}
	rawio_throttle_free(t);

	/* Data goes through. */
	{
		struct rawio_engine_opts to = { .size = sizeof(to), .queue_depth = 4 };
		struct rawio_req r;
		char *w = rawio_buf_alloc(8192, 4096), *rd = rawio_buf_alloc(8192, 4096);

		p = (struct rawio_throttle_params){ .size = sizeof(p), .iops = 100000 };
		CHECK_OK(rawio_throttle_new(&t, &p));
		to.throttle = t;
		CHECK_OK(rawio_engine_open(&e, "throttle", dev, &to));
		t_fill(w, 8192, 9, 12288);
		r = (struct rawio_req){ .op = RAWIO_OP_WRITE, .buf = w, .len = 8192, .off = 12288 };
		CHECK(rawio_engine_run1(e, &r) == 8192, "write");
		r = (struct rawio_req){ .op = RAWIO_OP_READ, .buf = rd, .len = 8192, .off = 12288 };
		CHECK(rawio_engine_run1(e, &r) == 8192, "read");
		CHECK(!t_verify(rd, 8192, 9, 12288), "data");
		{
			char d[256];

			rawio_engine_describe(e, d, sizeof(d));
			CHECK(strstr(d, "throttle iops=100000") && strstr(d, "over [mem"),
			      "describe: %s", d);
		}
		rawio_engine_close(e);
		rawio_throttle_free(t);
		rawio_buf_free(w);
		rawio_buf_free(rd);
	}

	/* Specs. */
	CHECK_OK(rawio_throttle_parse("hdd", &p));
	CHECK(p.iops == 5000 && p.seek_us == 4000 && p.flush_us == 5000 && p.bw == 150u << 20,
	      "hdd");
	CHECK_OK(rawio_throttle_parse("ssd,flush=1ms,seek=0.5ms,iops=2k,span=1g", &p));
	CHECK(p.iops == 2000 && p.flush_us == 1000 && p.seek_us == 500 && p.span == 1ull << 30 &&
		      p.bw == 500u << 20,
	      "ssd with overrides");
	CHECK(rawio_throttle_parse("floppy", &p) == -EINVAL, "unknown preset");
	CHECK(rawio_throttle_parse("seek=fast", &p) == -EINVAL, "bad time");
	CHECK(rawio_throttle_parse("color=red", &p) == -EINVAL, "unknown key");
	rawio_dev_close(dev);
	return T_PASS;
}
