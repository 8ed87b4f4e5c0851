// SPDX-License-Identifier: MIT
/*
 * The store on a handle: rawio_store_format_dev, rawio_store_open_dev and
 * rawio_store_check_dev work on a device the caller opened, leave it open
 * (usable again afterwards), and the path variants close what they open.
 * Opened or formatted by handle, the store owns the device like by path: a
 * second writer (or a format) on another handle of the same file is refused
 * with EBUSY, readers share it, and close drops the lock.
 * argv[1] picks the entry point: format, open, check or lock.
 */

#include "store_test.h"

#define SIZE (8u << 20)
#define SLOT (1u << 20)

/* The caller's handle is still open and usable: a read through it works. */
static int dev_alive(struct rawio_dev *dev)
{
	void *buf = rawio_dev_buf_alloc(dev, 4096);
	ssize_t n = buf ? pread(rawio_dev_fd(dev), buf, 4096, 0) : -1;

	rawio_buf_free(buf);
	return n == 4096;
}

static int open_file(struct rawio_dev **dev, const char *path, unsigned flags)
{
	struct rawio_dev_opts o = { .size = sizeof(o), .flags = flags, .create_size = SIZE };

	return rawio_dev_open(dev, path, &o);
}

static int t_format(const char *path)
{
	struct rawio_store_format_opts f = { .size = sizeof(f), .slot_size = SLOT };
	struct rawio_store_stat st;
	struct rawio_store *s;
	struct rawio_dev *dev;
	char err[512] = "";
	int fds;

	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	CHECK(rawio_store_format_dev(NULL, &f) == -EINVAL, "NULL dev");
	CHECK_OK(open_file(&dev, path, RAWIO_DEV_CREATE));
	CHECK(rawio_store_format_dev(dev, NULL) == -EINVAL, "NULL opts");
	fds = t_fd_count();
	CHECK_OK(rawio_store_format_dev(dev, &f));
	CHECK(t_fd_count() == fds && dev_alive(dev), "format_dev closed the caller's device");
	/* A second format is refused, naming the device's path. */
	CHECK(rawio_store_format_dev(dev, &f) == -EEXIST && strstr(err, path),
	      "format over a store: %s", err);
	rawio_dev_close(dev);
	/* What it wrote is a store. */
	CHECK_OK(rawio_store_open(&s, path, NULL));
	rawio_store_stat(s, &st);
	CHECK(st.slot_size == SLOT && st.objects == 0, "geometry");
	rawio_store_close(s);
	return T_PASS;
}

static int t_open(const char *path)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = SLOT,
					     .create_size = SIZE };
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "sync" };
	struct rawio_store *s;
	struct rawio_dev *dev;
	char buf[64];
	int fds;

	CHECK_OK(rawio_store_format(path, &f));
	CHECK(rawio_store_open_dev(&s, NULL, &o) == -EINVAL && !s, "NULL dev");

	/* The path variant closes the device it opened. */
	fds = t_fd_count();
	CHECK_OK(rawio_store_open(&s, path, &o));
	CHECK_OK(rawio_store_put(s, "k", 1, "one", 3, RAWIO_STORE_DURABLE));
	CHECK_OK(rawio_store_close(s));
	CHECK(t_fd_count() == fds, "rawio_store_open's device left open");

	/* The handle variant leaves the caller's open, across two stores. */
	CHECK_OK(open_file(&dev, path, 0));
	fds = t_fd_count();
	CHECK_OK(rawio_store_open_dev(&s, dev, &o));
	CHECK(rawio_store_get(s, "k", 1, buf, sizeof(buf)) == 3 && !memcmp(buf, "one", 3),
	      "get through open_dev");
	CHECK_OK(rawio_store_put(s, "k", 1, "two", 3, RAWIO_STORE_DURABLE));
	CHECK_OK(rawio_store_close(s));
	CHECK(t_fd_count() == fds && dev_alive(dev), "close closed the caller's device");
	CHECK_OK(rawio_store_open_dev(&s, dev, &o));
	CHECK(rawio_store_get(s, "k", 1, buf, sizeof(buf)) == 3 && !memcmp(buf, "two", 3),
	      "reopen on the same handle");
	CHECK_OK(rawio_store_close(s));
	rawio_dev_close(dev);

	/* A read-only handle gives a read-only store. */
	CHECK_OK(open_file(&dev, path, RAWIO_DEV_RDONLY));
	CHECK_OK(rawio_store_open_dev(&s, dev, &o));
	CHECK(rawio_store_put(s, "k", 1, "x", 1, 0) == -EROFS, "put on a read-only handle");
	CHECK_OK(rawio_store_close(s));
	rawio_dev_close(dev);
	return T_PASS;
}

static int list_one(void *arg, const struct rawio_store_obj *obj)
{
	*(uint64_t *)arg = obj->slot;
	return 0;
}

static int t_check(const char *path)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = SLOT,
					     .create_size = SIZE };
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "sync" };
	struct rawio_store_stat st;
	struct rawio_store *s;
	struct rawio_dev *dev;
	char report[1024], c = 'X';
	uint64_t slot = 0;
	int fds;

	CHECK_OK(rawio_store_format(path, &f));
	CHECK_OK(rawio_store_open(&s, path, &o));
	CHECK_OK(rawio_store_put(s, "k", 1, "payload", 7, RAWIO_STORE_DURABLE));
	rawio_store_stat(s, &st);
	CHECK_OK(rawio_store_list(s, list_one, &slot));
	CHECK_OK(rawio_store_close(s));
	CHECK(rawio_store_check_dev(NULL, &o, report, sizeof(report)) == -EINVAL, "NULL dev");

	CHECK_OK(open_file(&dev, path, RAWIO_DEV_RDONLY));
	fds = t_fd_count();
	CHECK(rawio_store_check_dev(dev, &o, report, sizeof(report)) == 0 && !report[0],
	      "clean store: %s", report);
	CHECK(t_fd_count() == fds && dev_alive(dev), "check_dev closed the caller's device");

	/* A flipped payload byte is found through the same handle. */
	CHECK_OK(t_raw(path, true, &c, 1, st.data_off + slot * SLOT + 4096));
	CHECK(rawio_store_check_dev(dev, &o, report, sizeof(report)) == 1 &&
		      strstr(report, "crc32c"),
	      "damaged payload: %s", report);
	rawio_dev_close(dev);
	/* The path variant agrees and leaves nothing open. */
	fds = t_fd_count();
	CHECK(rawio_store_check(path, &o, report, sizeof(report)) == 1, "check by path");
	CHECK(t_fd_count() == fds, "rawio_store_check left its device open");
	return T_PASS;
}

static int t_lock(const char *path)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = SLOT,
					     .create_size = SIZE,
					     .force = true,
					     .lock_wait_ms = -1 };
	struct rawio_store_opts o = { .size = sizeof(o), .engine = "sync", .lock_wait_ms = -1 };
	struct rawio_store *s1, *s2;
	struct rawio_dev *d1, *d2;
	char err[512] = "";

	CHECK_OK(rawio_store_format(path, &f));
	o.errbuf = f.errbuf = err;
	o.errbuf_len = f.errbuf_len = sizeof(err);
	CHECK_OK(open_file(&d1, path, 0));
	CHECK_OK(open_file(&d2, path, 0));
	CHECK_OK(rawio_store_open_dev(&s1, d1, &o));
	CHECK(rawio_store_open_dev(&s2, d2, &o) == -EBUSY && !s2 && strstr(err, path),
	      "a second writer by handle: %s", err);
	err[0] = '\0';
	CHECK(rawio_store_format_dev(d2, &f) == -EBUSY && strstr(err, path),
	      "a format by handle beside an open store: %s", err);
	CHECK_OK(rawio_store_close(s1));
	/* Close dropped the lock: the other handle opens, then formats. */
	CHECK_OK(rawio_store_open_dev(&s2, d2, &o));
	CHECK_OK(rawio_store_close(s2));
	CHECK_OK(rawio_store_format_dev(d2, &f));
	CHECK_OK(rawio_store_open_dev(&s1, d1, &o));
	CHECK_OK(rawio_store_close(s1));
	rawio_dev_close(d1);
	rawio_dev_close(d2);

	/* Readers share the device; a writer waits for them. */
	CHECK_OK(open_file(&d1, path, RAWIO_DEV_RDONLY));
	CHECK_OK(open_file(&d2, path, RAWIO_DEV_RDONLY));
	CHECK_OK(rawio_store_open_dev(&s1, d1, &o));
	CHECK_OK(rawio_store_open_dev(&s2, d2, &o));
	CHECK_OK(rawio_store_close(s2));
	rawio_dev_close(d2);
	CHECK_OK(open_file(&d2, path, 0));
	CHECK(rawio_store_open_dev(&s2, d2, &o) == -EBUSY, "a writer beside a reader");
	CHECK_OK(rawio_store_close(s1));
	rawio_dev_close(d1);
	rawio_dev_close(d2);
	return T_PASS;
}

int main(int argc, char **argv)
{
	char path[128];
	int ret;

	if (argc != 2)
		return T_FAIL;
	t_scratch(path, sizeof(path), argv[1]);
	unlink(path);
	if (!strcmp(argv[1], "format"))
		ret = t_format(path);
	else if (!strcmp(argv[1], "open"))
		ret = t_open(path);
	else if (!strcmp(argv[1], "check"))
		ret = t_check(path);
	else if (!strcmp(argv[1], "lock"))
		ret = t_lock(path);
	else
		ret = T_FAIL;
	unlink(path);
	return ret;
}
