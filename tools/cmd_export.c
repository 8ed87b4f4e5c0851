// SPDX-License-Identifier: MIT
/*
 * rawio export: serve a device or a cache over NBD (nbdkit + the rawio
 * plugin), and with --attach as a local block device. The work is in
 * export.c; this file parses and prints.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"

#define EX_MAX_PARAMS 40

static void export_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio export [OPTIONS] DEVICE          a file, block device or mem:SIZE\n"
		"       rawio export [OPTIONS] CACHE BACKING   a cache (rawio cache format)\n"
		"Serves it over NBD with nbdkit and the rawio plugin in the foreground, prints\n"
		"its URI, and tears everything down on SIGINT/SIGTERM or when nbdkit exits.\n"
		"  --attach             also make it a local block device (nbdfuse + losetup;\n"
		"                       root) and print it: device: /dev/loopN\n"
		"  --socket PATH        the NBD unix socket (default: under /tmp/rawio-export.*)\n"
		"  --tcp ADDR:PORT      serve on TCP instead (e.g. 127.0.0.1:10809)\n"
		"  --threads N          nbdkit worker threads\n"
		"  --engine E, --throttle SPEC             the device's engine (default sync)\n"
		"  --cache-engine E, --backing-engine E, --cache-throttle SPEC,\n"
		"  --backing-throttle SPEC, --buffers N, --batch N   as rawio cache takes them\n"
		"  --set KEY=VALUE      a plugin parameter, e.g. a cache tunable (rawio cache "
		"--help)\n"
		"  --ctl-socket PATH    the cache's control socket (rawio cache set/get/stat)\n"
		"  --verbose            nbdkit --verbose\n"
		"example, from an empty directory to a mounted ext4 (as root):\n"
		"  rawio cache format cache.img backing.img --size 256m --backing-size 1g\n"
		"  rawio export --attach cache.img backing.img &   # prints device: /dev/loopN\n"
		"  mkfs.ext4 -q /dev/loopN && mount /dev/loopN /mnt\n");
}

static char ex_buf[EX_MAX_PARAMS][PATH_MAX + 32];

/*
 * "KEY=VALUE" into the parameter list. A path (ABS) is made absolute, as the
 * plugin opens it after nbdkit starts; mem:SIZE and missing files stay as
 * given (the plugin names what is missing).
 */
static int export_param(const char **params, size_t *n, const char *key, const char *value,
			bool abs)
{
	char path[PATH_MAX];

	if (*n >= EX_MAX_PARAMS) {
		cli_err("too many parameters");
		return -1;
	}
	if (abs && strncmp(value, "mem:", 4) && realpath(value, path))
		value = path;
	snprintf(ex_buf[*n], sizeof(ex_buf[*n]), "%s=%s", key, value);
	params[*n] = ex_buf[*n];
	(*n)++;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 'U' },
		{ "tcp", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'n' },
		{ "engine", required_argument, NULL, 'e' },
		{ "throttle", required_argument, NULL, 'T' },
		{ "cache-engine", required_argument, NULL, 'c' },
		{ "backing-engine", required_argument, NULL, 'b' },
		{ "cache-throttle", required_argument, NULL, 'C' },
		{ "backing-throttle", required_argument, NULL, 'B' },
		{ "buffers", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'm' },
		{ "set", required_argument, NULL, 's' },
		{ "ctl-socket", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[256] = {
		['e'] = "engine",	  ['T'] = "throttle",	    ['c'] = "cache-engine",
		['b'] = "backing-engine", ['C'] = "cache-throttle", ['B'] = "backing-throttle",
		['f'] = "buffers",	  ['m'] = "batch",	    ['k'] = "socket",
	};
	const char *params[EX_MAX_PARAMS + 1] = { NULL };
	struct export_opts o = { 0 };
	struct export x;
	bool attach = false;
	char err[512] = "";
	size_t np = 0;
	int c, ret, sig, rc = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attach = true;
			break;
		case 'U':
			o.socket = optarg;
			break;
		case 't':
			o.tcp = optarg;
			break;
		case 'n':
			if (cli_uint("--threads", optarg, 1, 1024, &o.threads))
				return 2;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 's': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				cli_err("--set %s: expected KEY=VALUE", optarg);
				return 2;
			}
			if (np >= EX_MAX_PARAMS)
				return 2;
			params[np++] = optarg;
			break;
		}
		case 'h':
			export_usage(stdout);
			return 0;
		default:
			if (c > 0 && c < 256 && keys[c]) {
				char opt[64];

				snprintf(opt, sizeof(opt), "--%s", keys[c]);
				if ((c == 'e' || c == 'c' || c == 'b') && cli_engine(opt, optarg))
					return 2;
				if (export_param(params, &np, keys[c], optarg, c == 'k'))
					return 2;
				break;
			}
			export_usage(stderr);
			return 2;
		}
	}
	if (argc - optind == 1) {
		if (export_param(params, &np, "dev", argv[optind], true))
			return 2;
	} else if (argc - optind == 2) {
		if (export_param(params, &np, "cache", argv[optind], true) ||
		    export_param(params, &np, "backing", argv[optind + 1], true))
			return 2;
	} else {
		cli_err("give DEVICE, or CACHE and BACKING");
		export_usage(stderr);
		return 2;
	}
	params[np] = NULL;
	o.params = params;
	if (attach && geteuid()) {
		cli_err("--attach needs root (losetup, FUSE)");
		return 1;
	}

	ret = export_start(&x, &o, err, sizeof(err));
	if (!ret) {
		printf("uri: %s\n", x.uri);
		fflush(stdout);
	}
	if (!ret && attach) {
		ret = export_attach(&x, err, sizeof(err));
		if (!ret) {
			printf("device: %s\n", x.loop);
			fflush(stdout);
		}
	}
	if (!ret) {
		fprintf(stderr, "rawio export: serving until SIGINT or SIGTERM\n");
		sig = export_wait(&x);
		if (!sig) {
			cli_err("%s exited: tearing down", x.nbdkit < 0 ? "nbdkit" : "nbdfuse");
			rc = 1;
		}
	} else {
		cli_err("%s", err);
		err[0] = '\0';
		rc = 1;
	}
	if (export_stop(&x, err, sizeof(err))) {
		cli_err("%s", err);
		rc = 1;
	}
	return rc;
}

/* ---- the demo's step (rawio demo, make run) ---- */

/* Why the step cannot run here, or NULL. */
static const char *export_demo_missing(void)
{
	static const char *const tools[] = { "nbdkit", "nbdfuse", "losetup", "mkfs.ext4",
					     "e2fsck" };
	static char why[64];

	if (geteuid())
		return "needs root (losetup, mount)";
	if (access("/dev/fuse", R_OK | W_OK))
		return "needs FUSE (/dev/fuse)";
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *argv[] = { "sh", "-c", "command -v \"$0\" >/dev/null", (char *)tools[i],
				 NULL };

		if (export_run(argv, NULL, 0)) {
			snprintf(why, sizeof(why), "needs %s", tools[i]);
			return why;
		}
	}
	return NULL;
}

/* Write NR files of LEN bytes under DIR, then syncfs. Returns 0 or -errno. */
static int export_demo_files(const char *dir, unsigned nr, size_t len)
{
	char path[4200], *buf = malloc(len);
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; !ret && i < nr; i++) {
		memset(buf, 'a' + (int)(i % 26), len);
		snprintf(path, sizeof(path), "%s/file%03u", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
			ret = -errno ?: -EIO;
		if (fd >= 0)
			close(fd);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (!ret && (fd < 0 || syncfs(fd)))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

int cli_export_demo(const char *dir)
{
	char cache[PATH_MAX + 32], backing[PATH_MAX + 32], mnt[PATH_MAX], err[PATH_MAX + 512] = "";
	const char *params[] = { cache, backing, "backing-throttle=hdd", NULL };
	struct export_opts o = { .params = params };
	const char *why = export_demo_missing();
	bool mounted = false;
	struct export x;
	uint64_t t0;
	int ret;

	printf("\n== the cache as a block device: rawio export --attach, mkfs.ext4, mount, "
	       "write, fsck\n\n");
	if (why) {
		printf("skipped: %s\n", why);
		return 0;
	}
	fflush(stdout);
	if (!realpath(dir, mnt)) {
		cli_err("%s: %s", dir, strerror(errno));
		return 1;
	}
	snprintf(cache, sizeof(cache), "cache=%s/demo-cache.img", mnt);
	snprintf(backing, sizeof(backing), "backing=%s/demo-backing.img", mnt);
	strncat(mnt, "/demo-mnt", sizeof(mnt) - strlen(mnt) - 1);
	ret = export_start(&x, &o, err, sizeof(err));
	if (!ret)
		ret = export_attach(&x, err, sizeof(err));
	if (!ret) {
		char *mkfs[] = { "mkfs.ext4", "-q", "-F", x.loop, NULL };
		char out[512];

		printf("%-34s %s (NBD %s)\n", "exported and attached:", x.loop, x.uri);
		if (export_run(mkfs, out, sizeof(out)) || (mkdir(mnt, 0755) && errno != EEXIST) ||
		    mount(x.loop, mnt, "ext4", 0, NULL)) {
			snprintf(err, sizeof(err), "mkfs.ext4 or mount of %s on %s failed", x.loop,
				 mnt);
			ret = -EIO;
		} else {
			mounted = true;
		}
	}
	if (!ret) {
		t0 = rawio_now_ns();
		ret = export_demo_files(mnt, 200, 64 << 10);
		if (ret)
			snprintf(err, sizeof(err), "writing files under %s: %s", mnt,
				 rawio_strerror(ret));
		else
			printf("%-34s %.2f s\n",
			       "200 files of 64 KiB, syncfs:", (double)(rawio_now_ns() - t0) / 1e9);
	}
	if (mounted && umount(mnt) && !ret) {
		snprintf(err, sizeof(err), "umount %s: %s", mnt, strerror(errno));
		ret = -EIO;
	}
	if (!ret) {
		char *fsck[] = { "e2fsck", "-fn", x.loop, NULL };
		char out[4096];

		ret = export_run(fsck, out, sizeof(out)) ? -EUCLEAN : 0;
		printf("%-34s %s\n", "umount; e2fsck -fn:", ret ? "NOT CLEAN" : "clean");
		if (ret)
			snprintf(err, sizeof(err), "e2fsck -fn %s: %s", x.loop, out);
	}
	if (export_stop(&x, err, sizeof(err)) && !ret)
		ret = -EIO;
	rmdir(mnt);
	if (ret)
		printf("FAIL: %s\n", err);
	else
		printf("%-34s %s\n", "export stopped:", "loop device, FUSE mount and nbdkit gone");
	return ret ? 1 : 0;
}
