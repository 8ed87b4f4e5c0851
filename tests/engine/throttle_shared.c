// SPDX-License-Identifier: MIT
/*
 * The throttle engine: two contexts on two threads given one emulated device
 * share its time.
 */
#include <pthread.h>

#include "throttle_test.h"

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
	struct rawio_throttle_params p = { .size = sizeof(p), .iops = 1000 };
	struct shared_arg a[2];
	struct rawio_throttle *t;
	pthread_t tid[2];
	uint64_t t0;
	double secs;

	CHECK_OK(rawio_dev_open_mem(&dev, DEV_SZ, 512));
	CHECK_OK(rawio_throttle_new(&t, &p));
	a[0] = a[1] = (struct shared_arg){ .t = t };
	t0 = rawio_now_ns();
	for (int i = 0; i < 2; i++)
		pthread_create(&tid[i], NULL, shared_main, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	secs = (double)(rawio_now_ns() - t0) / 1e9;
	CHECK(a[0].secs > 0 && a[1].secs > 0, "both ran");
	CHECK(secs >= 0.199, "200 requests on one device from two contexts: %.3f s", secs);
	rawio_throttle_free(t);
	rawio_dev_close(dev);
	return T_PASS;
}
