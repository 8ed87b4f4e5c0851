// SPDX-License-Identifier: MIT
/*
 * The filesystem verdict cache (rawio/dev.h): where fsqual records what it found per
 * filesystem and kernel, and how the engine's "auto" choice reads it back. It lives in
 * dev, below both: fsqual writes through rawio_dev_fs_verdicts_path, the engine reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rawio/dev.h>

static int dev_verdicts_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/rawio/fsqual", xdg);
	else if (home && *home == '/')
		n = snprintf(buf, len, "%s/.cache/rawio/fsqual", home);
	else
		n = snprintf(buf, len, "/var/cache/rawio/fsqual");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int rawio_dev_fs_verdicts_path(const char *path, char *buf, size_t len)
{
	struct utsname u;
	struct statfs sf;
	struct stat st;
	char dir[4096];
	int n, ret;

	if (stat(path, &st) || statfs(path, &sf))
		return -errno;
	if (uname(&u))
		return -errno;
	ret = dev_verdicts_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	n = snprintf(buf, len, "%s/%lx-%u:%u-%s", dir, (unsigned long)sf.f_type, major(st.st_dev),
		     minor(st.st_dev), u.release);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int rawio_dev_fs_verdicts_load(const char *path, struct rawio_fs_verdicts *v)
{
	char file[4600], line[256];
	FILE *f;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = rawio_dev_fs_verdicts_path(path, file, sizeof(file));
	if (ret)
		return ret;
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char eng[16], rd[16], wr[16];

		if (sscanf(line, "%15s reads=%15s writes=%15s", eng, rd, wr) != 3)
			continue;
		if (!strcmp(eng, "aio")) {
			v->have_aio = true;
			v->aio_reads_ok = !strcmp(rd, "ok");
			v->aio_writes_ok = !strcmp(wr, "ok");
		} else if (!strcmp(eng, "uring")) {
			v->have_uring = true;
			v->uring_reads_ok = !strcmp(rd, "ok");
			v->uring_writes_ok = !strcmp(wr, "ok");
		}
	}
	fclose(f);
	return v->have_aio || v->have_uring ? 0 : -ENOENT;
}
