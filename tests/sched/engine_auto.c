// SPDX-License-Identifier: MIT
/*
 * Engine "auto": a RAM device gets mem; a file follows fsqual's cached
 * verdicts (a private XDG_CACHE_HOME): io_uring reads that stall mean aio at
 * depth and sync at depth 1; aio reads that stall too mean threads; an
 * "auto" open says why in its description. zram (no NOWAIT: uring at depth)
 * is checked in tests/bench/bench_zram.sh, which has a zram device.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <rawio/fsqual.h>
#include <rawio/rawio.h>

#include "harness.h"

static int write_cache(const char *file, const char *text)
{
	char path[4600], dir[4600];
	FILE *f;

	CHECK_OK(rawio_dev_fs_verdicts_path(file, path, sizeof(path)));
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0 && !fclose(f), "cannot write %s", path);
	return T_PASS;
}

int main(void)
{
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = 1 << 20 };
	char tmpl[] = "/tmp/rawio-auto-XXXXXX", file[256], cache[300], desc[512];
	struct rawio_engine_choice ch;
	struct rawio_fs_verdicts v;
	struct rawio_dev *dev = NULL;
	struct rawio_engine *e = NULL;
	const char *base = getenv("RAWIO_TEST_DIR");
	int ret = T_FAIL;

	CHECK_OK(rawio_dev_open_mem(&dev, 1 << 20, 512));
	rawio_engine_choose(dev, 32, &ch);
	CHECK(!strcmp(ch.engine, "mem"), "mem device: %s", ch.engine);
	rawio_dev_close(dev);

	/* A file where O_DIRECT works: the build tree (tmpfs /tmp would do too, but is special). */
	snprintf(file, sizeof(file), "%s/engine_auto.img", base ? base : ".");
	CHECK(mkdtemp(tmpl), "mkdtemp");
	snprintf(cache, sizeof(cache), "%s", tmpl);
	setenv("XDG_CACHE_HOME", cache, 1);
	if (rawio_dev_open(&dev, file, &dopts)) {
		rmdir(tmpl);
		SKIP("cannot open %s with O_DIRECT", file);
	}
	CHECK(rawio_dev_fs_verdicts_load(file, &v) == -ENOENT, "an empty cache has verdicts");
	rawio_engine_choose(dev, 32, &ch);
	CHECK(ch.why[0] && !ch.from_cache, "no cache: %s (%s)", ch.engine, ch.why);
	fprintf(stderr, "no cache, qd 32: %s (%s)\n", ch.engine, ch.why);

	if (write_cache(file, "# test\nuring reads=stall writes=ok\naio reads=ok writes=ok\n"))
		goto out;
	CHECK_OK(rawio_dev_fs_verdicts_load(file, &v));
	CHECK(v.have_uring && !v.uring_reads_ok && v.uring_writes_ok && v.aio_reads_ok,
	      "cache read back wrong");
	rawio_engine_choose(dev, 32, &ch);
	CHECK(!strcmp(ch.engine, "aio") && ch.from_cache, "uring stalls, qd 32: %s (%s)", ch.engine,
	      ch.why);
	rawio_engine_choose(dev, 1, &ch);
	CHECK(!strcmp(ch.engine, "sync"), "uring stalls, qd 1: %s (%s)", ch.engine, ch.why);
	if (write_cache(file, "uring reads=stall writes=stall\naio reads=stall writes=stall\n"))
		goto out;
	rawio_engine_choose(dev, 32, &ch);
	CHECK(!strcmp(ch.engine, "threads"), "both stall, qd 32: %s (%s)", ch.engine, ch.why);

	{
		struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 8 };

		CHECK_OK(rawio_engine_open(&e, "auto", dev, &eo));
		CHECK(!strcmp(rawio_engine_name(e), "threads"), "auto opened %s",
		      rawio_engine_name(e));
		rawio_engine_describe(e, desc, sizeof(desc));
		CHECK(strstr(desc, "(auto: "), "describe: %s", desc);
		rawio_engine_close(e);
	}
	ret = T_PASS;
out:
	rawio_dev_close(dev);
	unlink(file);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd))
			ret = T_FAIL;
	}
	return ret;
}
