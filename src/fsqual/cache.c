// SPDX-License-Identifier: MIT
/* The fsqual verdict cache (rawio/fsqual.h): one text file per filesystem and kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rawio/fsqual.h>

static int fsqual_cache_dir(char *buf, size_t len)
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

int rawio_fsqual_cache_path(const char *path, char *buf, size_t len)
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
	ret = fsqual_cache_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	n = snprintf(buf, len, "%s/%lx-%u:%u-%s", dir, (unsigned long)sf.f_type, major(st.st_dev),
		     minor(st.st_dev), u.release);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool fsqual_row_ok(const struct rawio_fsqual_row *r)
{
	return r->verdict == RAWIO_FSQUAL_GOOD && !rawio_fsqual_row_punted(r);
}

static int fsqual_mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			int ret = -errno;

			*p = '/';
			return ret;
		}
		*p = '/';
	}
	return 0;
}

int rawio_fsqual_cache_store(const char *dir, const struct rawio_fsqual_report *rep)
{
	char path[4600], tmp[4700], keep[256] = "", line[256];
	const struct rawio_fsqual_row *rd, *wr;
	FILE *f;
	int ret;

	if (rep->meaningless || rep->nr_rows < RAWIO_FSQUAL_NR_ROWS)
		return -EINVAL;
	ret = rawio_fsqual_cache_path(dir, path, sizeof(path));
	if (ret)
		return ret;
	/* Keep the other engine's line. */
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (line[0] != '#' && strncmp(line, rep->engine, strlen(rep->engine)))
				snprintf(keep, sizeof(keep), "%s", line);
		fclose(f);
	}
	ret = fsqual_mkdirs(path);
	if (ret)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	rd = &rep->rows[RAWIO_FSQUAL_ROW_READ_DMA_QD30];
	wr = &rep->rows[RAWIO_FSQUAL_ROW_OVERWRITE_DMA_QD1];
	fprintf(f, "# rawio fsqual verdicts: %s, kernel %s\n", rep->fs_type, rep->kernel_release);
	fprintf(f, "%s reads=%s writes=%s\n", rep->engine, fsqual_row_ok(rd) ? "ok" : "stall",
		fsqual_row_ok(wr) ? "ok" : "stall");
	if (keep[0])
		fputs(keep, f);
	if (fclose(f)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

int rawio_fsqual_cache_load(const char *path, struct rawio_fsqual_verdicts *v)
{
	char file[4600], line[256];
	FILE *f;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = rawio_fsqual_cache_path(path, file, sizeof(file));
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
