/* SPDX-License-Identifier: MIT */
/*
 * A user's first program, built by tests/install/install.sh against an installed rawio with
 * nothing but `pkg-config --cflags --libs rawio`: open a RAM device, write a block through
 * the mem engine, read it back, print what it saw.
 */
#include <rawio/rawio.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	struct rawio_dev *dev = NULL;
	struct rawio_engine *e = NULL;
	char *wbuf = NULL, *rbuf = NULL;
	char err[256] = "";
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.errbuf = err,
					.errbuf_len = sizeof(err) };
	int rc = 1, ret;

	ret = rawio_dev_open(&dev, "mem:1m", &dopts);
	if (ret < 0) {
		fprintf(stderr, "hello: mem:1m: %s (%s)\n", rawio_strerror(ret), err);
		return 1;
	}
	ret = rawio_engine_open(&e, "mem", dev, NULL);
	if (ret < 0) {
		fprintf(stderr, "hello: engine mem: %s\n", rawio_strerror(ret));
		goto close_dev;
	}
	wbuf = rawio_dev_buf_alloc(dev, 4096);
	rbuf = rawio_dev_buf_alloc(dev, 4096);
	if (!wbuf || !rbuf)
		goto free_bufs;
	memset(wbuf, 0, 4096);
	snprintf(wbuf, 4096, "hello from librawio %s", RAWIO_VERSION);

	struct rawio_req w = { .op = RAWIO_OP_WRITE, .buf = wbuf, .len = 4096, .off = 8192 };
	struct rawio_req r = { .op = RAWIO_OP_READ, .buf = rbuf, .len = 4096, .off = 8192 };
	int64_t wn = rawio_engine_run1(e, &w);
	int64_t rn = rawio_engine_run1(e, &r);
	if (wn != 4096 || rn != 4096 || memcmp(wbuf, rbuf, 4096) != 0) {
		fprintf(stderr, "hello: write %lld, read %lld, %s\n", (long long)wn, (long long)rn,
			rn == 4096 ? "data differ" : "short");
		goto free_bufs;
	}
	printf("%s: %s, %llu bytes, engine %s\n", rbuf, rawio_dev_info(dev)->path,
	       (unsigned long long)rawio_dev_info(dev)->size, rawio_engine_name(e));
	rc = 0;
free_bufs:
	rawio_buf_free(rbuf);
	rawio_buf_free(wbuf);
	rawio_engine_close(e);
close_dev:
	rawio_dev_close(dev);
	return rc;
}
