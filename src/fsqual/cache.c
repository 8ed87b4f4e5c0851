// SPDX-License-Identifier: MIT
/* Recording fsqual's verdicts in the filesystem verdict cache (rawio/dev.h). */
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
#include <rawio/fsqual.h>

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
	ret = rawio_dev_fs_verdicts_path(dir, path, sizeof(path));
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
