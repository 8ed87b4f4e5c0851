// SPDX-License-Identifier: MIT
/*
 * Device ownership (issue 19): RAWIO_DEV_LOCK_EX excludes every other locked
 * handle, also in the same process, for the handle's life; LOCK_SH handles
 * share; a refused open fails with -EBUSY after lock_wait_ms and names the
 * holder's pid; an unlocked open is not affected; a RAM device takes no lock.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static int t_open(struct rawio_dev **d, const char *path, unsigned flags, int wait_ms, char *err,
		  size_t len)
{
	struct rawio_dev_opts o = { .size = sizeof(o),
				    .flags = flags | RAWIO_DEV_BUFFERED,
				    .create_size = 1 << 20,
				    .errbuf = err,
				    .errbuf_len = len,
				    .lock_wait_ms = wait_ms };

	return rawio_dev_open(d, path, &o);
}

int main(void)
{
	struct rawio_dev *a = NULL, *b = NULL, *c = NULL;
	char path[128], err[512] = "", want[64];

	t_scratch(path, sizeof(path), "lock");
	unlink(path);
	CHECK_OK(t_open(&a, path, RAWIO_DEV_CREATE | RAWIO_DEV_LOCK_EX, -1, err, sizeof(err)));
	/* A second owner, same process, no wait and a short wait: EBUSY naming us. */
	CHECK(t_open(&b, path, RAWIO_DEV_LOCK_EX, -1, err, sizeof(err)) == -EBUSY, "second EX");
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	CHECK(strstr(err, want) && strstr(err, path), "message: %s", err);
	CHECK(t_open(&b, path, RAWIO_DEV_LOCK_SH | RAWIO_DEV_RDONLY, 50, err, sizeof(err)) ==
		      -EBUSY,
	      "reader beside a writer");
	/* Unlocked opens are not owners: they still open. */
	CHECK_OK(t_open(&b, path, RAWIO_DEV_RDONLY, -1, err, sizeof(err)));
	rawio_dev_close(b);
	b = NULL;
	/* Closing the owner lets the next one in; readers share. */
	rawio_dev_close(a);
	a = NULL;
	CHECK_OK(t_open(&a, path, RAWIO_DEV_LOCK_SH | RAWIO_DEV_RDONLY, -1, err, sizeof(err)));
	CHECK_OK(t_open(&b, path, RAWIO_DEV_LOCK_SH | RAWIO_DEV_RDONLY, -1, err, sizeof(err)));
	CHECK(t_open(&c, path, RAWIO_DEV_LOCK_EX, -1, err, sizeof(err)) == -EBUSY,
	      "writer beside readers");
	rawio_dev_close(a);
	rawio_dev_close(b);
	a = b = NULL;
	CHECK_OK(t_open(&c, path, RAWIO_DEV_LOCK_EX, -1, err, sizeof(err)));
	rawio_dev_close(c);
	/* RAM devices take no lock. */
	CHECK_OK(t_open(&a, "mem:1M", RAWIO_DEV_LOCK_EX, -1, err, sizeof(err)));
	rawio_dev_close(a);
	unlink(path);
	return T_PASS;
}
