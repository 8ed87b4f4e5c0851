// SPDX-License-Identifier: MIT
/*
 * The cache by path: rawio_cache_format_path, rawio_cache_open_path and
 * rawio_cache_check_path open the two devices themselves and close them
 * (open_path: at rawio_cache_close), with the handle variants' results.
 * argv[1] picks the entry point: format, open or check.
 */
#include <fcntl.h>
#include <unistd.h>

#include "cache_test.h"

#define CACHE_SZ   (8u << 20)
#define BACKING_SZ (4u << 20)

static int make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int ret = fd < 0 || ftruncate(fd, (off_t)size) ? -1 : 0;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int fmt(const char *cpath, const char *bpath, bool force, char *err, size_t len)
{
	struct rawio_cache_format_opts f = {
		.size = sizeof(f), .force = force, .errbuf = err, .errbuf_len = len
	};

	err[0] = 0;
	return rawio_cache_format_path(cpath, bpath, &f);
}

static int t_format(const char *cpath, const char *bpath)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f) };
	char err[512];
	int fds = t_fd_count();

	CHECK(rawio_cache_format_path(NULL, bpath, &f) == -EINVAL, "NULL cache path");
	CHECK(rawio_cache_format_path(cpath, bpath, NULL) == -EINVAL, "NULL opts");
	CHECK(fmt(cpath, "no-such-backing", false, err, sizeof(err)) == -ENOENT &&
		      strstr(err, "no-such-backing"),
	      "missing backing: %s", err);
	CHECK(t_fd_count() == fds, "a failed format left a device open");
	CHECK_OK(fmt(cpath, bpath, false, err, sizeof(err)));
	CHECK(t_fd_count() == fds, "format_path left a device open");
	CHECK(fmt(cpath, bpath, false, err, sizeof(err)) == -EEXIST &&
		      strstr(err, "holds a rawio cache"),
	      "format over a cache: %s", err);
	CHECK_OK(fmt(cpath, bpath, true, err, sizeof(err)));
	return T_PASS;
}

static int t_open(const char *cpath, const char *bpath)
{
	struct rawio_cache_opts o = { .size = sizeof(o),
				      .cache_engine = "sync",
				      .backing_engine = "sync" };
	struct rawio_cache_stat st;
	struct rawio_cache *c;
	char err[512], *buf = NULL;
	int fds;

	CHECK_OK(fmt(cpath, bpath, false, err, sizeof(err)));
	buf = malloc(8192);
	CHECK(buf, "malloc");
	CHECK(rawio_cache_open_path(&c, cpath, NULL, &o) == -EINVAL && !c, "NULL backing path");
	fds = t_fd_count();
	CHECK(rawio_cache_open_path(&c, cpath, "no-such-backing", &o) == -ENOENT && !c,
	      "missing backing");
	CHECK(t_fd_count() == fds, "a failed open left the cache device open");

	/* Write, close (devices closed), reopen by path: the data is there. */
	CHECK_OK(rawio_cache_open_path(&c, cpath, bpath, &o));
	rawio_cache_stat(c, &st);
	CHECK(st.size == BACKING_SZ, "size %llu", (unsigned long long)st.size);
	t_fill(buf, 8192, 7, 4096);
	CHECK_OK(rawio_cache_write(c, buf, 8192, 4096, RAWIO_CACHE_FUA));
	CHECK_OK(rawio_cache_close(c));
	CHECK(t_fd_count() == fds, "rawio_cache_close left the devices open_path opened");
	memset(buf, 0, 8192);
	o.read_only = true;
	CHECK_OK(rawio_cache_open_path(&c, cpath, bpath, &o));
	CHECK_OK(rawio_cache_read(c, buf, 8192, 4096));
	CHECK(t_verify(buf, 8192, 7, 4096) == 0, "data after reopen by path");
	CHECK(rawio_cache_write(c, buf, 4096, 0, 0) == -EROFS, "read-only open_path wrote");
	CHECK_OK(rawio_cache_close(c));
	CHECK(t_fd_count() == fds, "read-only close left devices open");
	free(buf);
	return T_PASS;
}

static int t_check(const char *cpath, const char *bpath)
{
	struct rawio_cache_opts o = { .size = sizeof(o),
				      .cache_engine = "sync",
				      .backing_engine = "sync" };
	char err[512], report[2048];
	int fds;

	CHECK_OK(fmt(cpath, bpath, false, err, sizeof(err)));
	fds = t_fd_count();
	CHECK(rawio_cache_check_path(cpath, bpath, &o, report, sizeof(report)) == 0,
	      "fresh cache: %s", report);
	CHECK(t_fd_count() == fds, "check_path left a device open");
	CHECK(rawio_cache_check_path(bpath, bpath, &o, report, sizeof(report)) < 0,
	      "a backing file checked as a cache");
	CHECK(t_fd_count() == fds, "a failed check left a device open");
	return T_PASS;
}

int main(int argc, char **argv)
{
	char cpath[128], bpath[128], tag[64];
	int ret;

	if (argc != 2)
		return T_FAIL;
	snprintf(tag, sizeof(tag), "%s-cache", argv[1]);
	t_scratch(cpath, sizeof(cpath), tag);
	snprintf(tag, sizeof(tag), "%s-backing", argv[1]);
	t_scratch(bpath, sizeof(bpath), tag);
	if (make_file(cpath, CACHE_SZ) || make_file(bpath, BACKING_SZ)) {
		ret = T_FAIL;
		goto out;
	}
	if (!strcmp(argv[1], "format"))
		ret = t_format(cpath, bpath);
	else if (!strcmp(argv[1], "open"))
		ret = t_open(cpath, bpath);
	else if (!strcmp(argv[1], "check"))
		ret = t_check(cpath, bpath);
	else
		ret = T_FAIL;
out:
	unlink(cpath);
	unlink(bpath);
	return ret;
}
