// SPDX-License-Identifier: MIT
/*
 * rawio devinfo PATH [--json]: everything rawio_dev_open discovers about PATH.
 *
 * Opens read-only with O_DIRECT, as an engine would. When the filesystem
 * refuses O_DIRECT, the description is still printed (from
 * rawio_dev_describe) with direct = no and the reason, and the exit status is
 * 0: describing a path is not a failure. A path that cannot be opened or
 * described at all exits 1; bad usage exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void devinfo_usage(FILE *f)
{
	fprintf(f, "usage: rawio devinfo PATH [--json]\n"
		   "  PATH   a regular file, a block device, mem:SIZE, an NBD URI\n"
		   "         (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH)\n"
		   "         or a Ceph RBD image\n"
		   "         (rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=NAME][:KEY=VALUE])\n"
		   "  --json one JSON object instead of key: value lines\n");
}

static cJSON *devinfo_num_or_null(long long v)
{
	return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

static cJSON *devinfo_str_or_null(const char *s)
{
	return s[0] ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/*
 * What the path allows (devinfo itself opens read-only, so in->read_only says
 * nothing about the device): 1 writable, 0 not, -1 no path to ask (mem, nbd).
 */
static int devinfo_writable(const struct rawio_dev_info *in)
{
	if (in->kind != RAWIO_DEV_FILE && in->kind != RAWIO_DEV_BLOCK)
		return -1;
	return access(in->path, W_OK) == 0;
}

static cJSON *devinfo_json(const struct rawio_dev_info *in, const char *open_error)
{
	cJSON *o = cJSON_CreateObject(), *t;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "path", in->path);
	cJSON_AddStringToObject(o, "kind", rawio_dev_kind_name(in->kind));
	cJSON_AddBoolToObject(o, "direct", in->direct);
	if (open_error)
		cJSON_AddStringToObject(o, "open_error", open_error);
	cJSON_AddBoolToObject(o, "read_only", in->read_only); /* this open's mode */
	if (devinfo_writable(in) >= 0)
		cJSON_AddBoolToObject(o, "writable", devinfo_writable(in) == 1);
	else
		cJSON_AddNullToObject(o, "writable");
	/* Exact up to 2^53 bytes (8 PiB), well past any device here. */
	cJSON_AddNumberToObject(o, "size", (double)in->size);
	cJSON_AddNumberToObject(o, "logical_block_size", in->logical_block_size);
	cJSON_AddNumberToObject(o, "physical_block_size", in->physical_block_size);
	cJSON_AddNumberToObject(o, "mem_align", in->mem_align);
	cJSON_AddNumberToObject(o, "offset_align", in->offset_align);
	cJSON_AddStringToObject(o, "align_source", rawio_align_source_name(in->align_source));
	cJSON_AddItemToObject(o, "disk", devinfo_str_or_null(in->disk));
	if (in->disk[0]) {
		cJSON_AddNumberToObject(o, "disk_major", in->disk_major);
		cJSON_AddNumberToObject(o, "disk_minor", in->disk_minor);
	} else {
		cJSON_AddNullToObject(o, "disk_major");
		cJSON_AddNullToObject(o, "disk_minor");
	}
	if (in->rotational < 0)
		cJSON_AddNullToObject(o, "rotational");
	else
		cJSON_AddBoolToObject(o, "rotational", in->rotational);
	cJSON_AddItemToObject(o, "write_cache", devinfo_str_or_null(in->write_cache));
	/* queue/fua: the disk does FUA itself (true) or the kernel adds a flush (false). */
	if (in->fua < 0)
		cJSON_AddNullToObject(o, "fua");
	else
		cJSON_AddBoolToObject(o, "fua", in->fua);
	cJSON_AddBoolToObject(o, "fua_cheap", rawio_dev_fua_cheap(in));
	cJSON_AddItemToObject(o, "nr_requests", devinfo_num_or_null(in->nr_requests));
	cJSON_AddItemToObject(o, "max_sectors_kb", devinfo_num_or_null(in->max_sectors_kb));
	cJSON_AddItemToObject(o, "max_hw_sectors_kb", devinfo_num_or_null(in->max_hw_sectors_kb));
	cJSON_AddItemToObject(o, "scheduler", devinfo_str_or_null(in->scheduler));
	cJSON_AddItemToObject(o, "nr_hw_queues", devinfo_num_or_null(in->nr_hw_queues));
	cJSON_AddBoolToObject(o, "io_poll", in->io_poll);
	cJSON_AddBoolToObject(o, "discard", in->discard);
	cJSON_AddItemToObject(o, "fs_type", devinfo_str_or_null(in->fs_type));
	cJSON_AddNumberToObject(o, "fs_magic", (double)in->fs_magic);
	cJSON_AddNumberToObject(o, "fs_block_size", in->fs_block_size);
	t = cJSON_AddObjectToObject(o, "fs_traits");
	if (t) {
		cJSON_AddBoolToObject(t, "append_challenged", in->fs.append_challenged);
		cJSON_AddNumberToObject(t, "append_concurrency", in->fs.append_concurrency);
		cJSON_AddBoolToObject(t, "fsync_is_exclusive", in->fs.fsync_is_exclusive);
		cJSON_AddBoolToObject(t, "nowait_reads", in->fs.nowait_reads);
		cJSON_AddBoolToObject(t, "nowait_writes", in->fs.nowait_writes);
		cJSON_AddBoolToObject(t, "dio_never_blocks", in->fs.dio_never_blocks);
	}
	cJSON_AddStringToObject(o, "kernel_release", in->kernel_release);
	if (in->kind == RAWIO_DEV_NBD && (t = cJSON_AddObjectToObject(o, "nbd"))) {
		const struct rawio_nbd_info *n = &in->nbd;

		cJSON_AddStringToObject(t, "export", n->export_name);
		cJSON_AddNumberToObject(t, "min_block_size", n->min_block);
		cJSON_AddNumberToObject(t, "preferred_block_size", n->pref_block);
		cJSON_AddNumberToObject(t, "max_block_size", n->max_block);
		cJSON_AddBoolToObject(t, "read_only", n->server_read_only);
		cJSON_AddBoolToObject(t, "flush", n->can_flush);
		cJSON_AddBoolToObject(t, "fua", n->can_fua);
		cJSON_AddBoolToObject(t, "trim", n->can_trim);
		cJSON_AddBoolToObject(t, "zero", n->can_zero);
		cJSON_AddBoolToObject(t, "multi_conn", n->can_multi_conn);
		cJSON_AddBoolToObject(t, "offline", n->offline);
	}
	if (in->kind == RAWIO_DEV_RBD && (t = cJSON_AddObjectToObject(o, "rbd"))) {
		const struct rawio_rbd_info *r = &in->rbd;

		cJSON_AddStringToObject(t, "pool", r->pool);
		cJSON_AddItemToObject(t, "namespace", devinfo_str_or_null(r->pool_ns));
		cJSON_AddStringToObject(t, "image", r->image);
		cJSON_AddItemToObject(t, "snapshot", devinfo_str_or_null(r->snap));
		cJSON_AddStringToObject(t, "client", r->client);
		cJSON_AddStringToObject(t, "fsid", r->fsid);
		/* librbd needs no alignment; whole objects are what it does best. */
		cJSON_AddNumberToObject(t, "object_size", (double)r->object_size);
		cJSON_AddNumberToObject(t, "efficient_io_size", (double)r->object_size);
		cJSON_AddNumberToObject(t, "stripe_unit", (double)r->stripe_unit);
		cJSON_AddNumberToObject(t, "stripe_count", (double)r->stripe_count);
		cJSON_AddNumberToObject(t, "features", (double)r->features);
		cJSON_AddStringToObject(t, "feature_names", r->feature_names);
		cJSON_AddNumberToObject(t, "osd_op_timeout_s", r->osd_op_timeout_s);
		cJSON_AddBoolToObject(t, "cache", r->cache);
		cJSON_AddBoolToObject(t, "cache_writeback", r->cache_writeback);
		cJSON_AddStringToObject(t, "persistent_cache_mode", r->cache_mode);
	}
	return o;
}

#define KEY "%-22s "

static const char *devinfo_yn(bool b)
{
	return b ? "yes" : "no";
}

static void devinfo_int(const char *key, long long v)
{
	if (v < 0)
		printf(KEY "unknown\n", key);
	else
		printf(KEY "%lld\n", key, v);
}

static void devinfo_str(const char *key, const char *s)
{
	printf(KEY "%s\n", key, s[0] ? s : "-");
}

static void devinfo_text(const struct rawio_dev_info *in, const char *open_error)
{
	char human[32];

	printf(KEY "%s\n", "path:", in->path);
	printf(KEY "%s\n", "kind:", rawio_dev_kind_name(in->kind));
	if (open_error)
		printf(KEY "no (%s)\n", "direct:", open_error);
	else
		printf(KEY "%s\n", "direct:", devinfo_yn(in->direct));
	printf(KEY "%s\n",
	       "writable:", devinfo_writable(in) < 0 ? "-" : devinfo_yn(devinfo_writable(in) == 1));
	printf(KEY "%s (devinfo only reads)\n", "opened_read_only:", devinfo_yn(in->read_only));
	printf(KEY "%llu (%s)\n", "size:", (unsigned long long)in->size,
	       cli_human(in->size, human, sizeof(human)));
	printf(KEY "%u\n", "logical_block_size:", in->logical_block_size);
	printf(KEY "%u\n", "physical_block_size:", in->physical_block_size);
	printf(KEY "%u\n", "mem_align:", in->mem_align);
	printf(KEY "%u\n", "offset_align:", in->offset_align);
	printf(KEY "%s%s\n", "align_source:", rawio_align_source_name(in->align_source),
	       in->align_source == RAWIO_ALIGN_GUESS ? " (nothing answered; 4096 assumed)" : "");
	if (in->disk[0])
		printf(KEY "%s (%u:%u)\n", "disk:", in->disk, in->disk_major, in->disk_minor);
	else
		printf(KEY "-\n", "disk:");
	printf(KEY "%s\n",
	       "rotational:", in->rotational < 0 ? "unknown" : devinfo_yn(in->rotational));
	devinfo_str("write_cache:", in->write_cache);
	printf(KEY "%s\n", "fua:",
	       in->fua < 0 ? "unknown"
	       : in->fua   ? "yes (the disk does FUA itself)"
			   : "no (the kernel sends a flush after the write)");
	printf(KEY "%s\n", "fua_cheap:",
	       rawio_dev_fua_cheap(in) ? "yes (a FUA write costs about a plain write)"
				       : "no (FUA costs a flush: write, then flush once)");
	devinfo_int("nr_requests:", in->nr_requests);
	devinfo_int("max_sectors_kb:", in->max_sectors_kb);
	devinfo_int("max_hw_sectors_kb:", in->max_hw_sectors_kb);
	devinfo_str("scheduler:", in->scheduler);
	devinfo_int("nr_hw_queues:", in->nr_hw_queues);
	printf(KEY "%s\n", "io_poll:", devinfo_yn(in->io_poll));
	printf(KEY "%s\n", "discard:", devinfo_yn(in->discard));
	devinfo_str("fs_type:", in->fs_type);
	if (in->kind == RAWIO_DEV_FILE) {
		printf(KEY "0x%llx\n", "fs_magic:", (unsigned long long)in->fs_magic);
		printf(KEY "%u\n", "fs_block_size:", in->fs_block_size);
		printf(KEY "append_challenged=%s append_concurrency=%u fsync_is_exclusive=%s\n",
		       "fs_traits:", devinfo_yn(in->fs.append_challenged),
		       in->fs.append_concurrency, devinfo_yn(in->fs.fsync_is_exclusive));
		printf(KEY "nowait_reads=%s nowait_writes=%s dio_never_blocks=%s\n", "",
		       devinfo_yn(in->fs.nowait_reads), devinfo_yn(in->fs.nowait_writes),
		       devinfo_yn(in->fs.dio_never_blocks));
	}
	printf(KEY "%s\n", "kernel_release:", in->kernel_release);
	if (in->kind == RAWIO_DEV_NBD) {
		const struct rawio_nbd_info *n = &in->nbd;

		devinfo_str("nbd_export:", n->export_name);
		/* 0: the server did not say. */
		printf(KEY "min=%u preferred=%u max=%u\n", "nbd_block_sizes:", n->min_block,
		       n->pref_block, n->max_block);
		printf(KEY "read_only=%s flush=%s fua=%s trim=%s zero=%s multi_conn=%s\n",
		       "nbd_flags:", devinfo_yn(n->server_read_only), devinfo_yn(n->can_flush),
		       devinfo_yn(n->can_fua), devinfo_yn(n->can_trim), devinfo_yn(n->can_zero),
		       devinfo_yn(n->can_multi_conn));
		if (n->offline)
			printf(KEY "yes (not reached: the fields above are guesses)\n",
			       "nbd_offline:");
	}
	if (in->kind == RAWIO_DEV_RBD) {
		const struct rawio_rbd_info *r = &in->rbd;

		printf(KEY "%s%s%s/%s%s%s\n", "rbd_image:", r->pool, r->pool_ns[0] ? "/" : "",
		       r->pool_ns, r->image, r->snap[0] ? "@" : "", r->snap);
		devinfo_str("rbd_client:", r->client);
		devinfo_str("rbd_fsid:", r->fsid);
		printf(KEY "%llu (efficient I/O unit; no alignment needed)\n",
		       "rbd_object_size:", (unsigned long long)r->object_size);
		printf(KEY "unit=%llu count=%llu\n",
		       "rbd_stripe:", (unsigned long long)r->stripe_unit,
		       (unsigned long long)r->stripe_count);
		printf(KEY "%s (0x%llx)\n", "rbd_features:", r->feature_names,
		       (unsigned long long)r->features);
		if (r->osd_op_timeout_s)
			printf(KEY "%u s\n", "rbd_timeout:", r->osd_op_timeout_s);
		else
			printf(KEY "none (waits forever)\n", "rbd_timeout:");
		printf(KEY "%s persistent=%s\n", "rbd_cache:",
		       r->cache_writeback ? "writeback"
		       : r->cache	  ? "writethrough"
					  : "off",
		       r->cache_mode);
	}
}

int cmd_devinfo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct rawio_dev_info info;
	struct rawio_dev_opts opts;
	struct rawio_dev *dev = NULL;
	const char *path, *open_error = NULL;
	char errbuf[512] = "";
	bool json = false, have_pick = false;
	struct rawio_engine_choice pick[2];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			devinfo_usage(stdout);
			return 0;
		default:
			devinfo_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		cli_err("expected one PATH");
		devinfo_usage(stderr);
		return 2;
	}
	path = argv[optind];

	memset(&opts, 0, sizeof(opts));
	opts.size = sizeof(opts);
	opts.flags = RAWIO_DEV_RDONLY;
	opts.errbuf = errbuf;
	opts.errbuf_len = sizeof(errbuf);
	ret = rawio_dev_open(&dev, path, &opts);
	if (ret == 0) {
		info = *rawio_dev_info(dev);
		/* Engine "auto" at depth 1 and 32: which, and why. */
		rawio_engine_choose(dev, 1, &pick[0]);
		rawio_engine_choose(dev, 32, &pick[1]);
		have_pick = true;
		rawio_dev_close(dev);
	} else if ((ret == -EINVAL || ret == -EACCES || ret == -EPERM || ret == -EBUSY) &&
		   !rawio_dev_is_rbd_path(path) && rawio_dev_describe(path, &info) == 0) {
		/* O_DIRECT refused, or no right to open: still describe, and say why. */
		open_error = errbuf;
	} else {
		if (ret == -ENOMEM && !strncmp(path, "mem:", 4))
			cli_err("%s: cannot allocate a RAM device that large (it is allocated in "
				"full, "
				"in this process)",
				path);
		else if (errbuf[0])
			cli_err("%s", errbuf);
		else
			cli_err("%s: %s", path, rawio_strerror(ret));
		return 1;
	}

	if (json) {
		cJSON *o = devinfo_json(&info, open_error);

		if (!o) {
			cli_err("out of memory");
			return 1;
		}
		if (have_pick) {
			cJSON *a = cJSON_AddObjectToObject(o, "engine_auto");

			for (int i = 0; a && i < 2; i++) {
				cJSON *p = cJSON_AddObjectToObject(a, i ? "qd32" : "qd1");

				cJSON_AddStringToObject(p, "engine", pick[i].engine);
				cJSON_AddStringToObject(p, "why", pick[i].why);
			}
		}
		cli_json_print(o);
	} else {
		devinfo_text(&info, open_error);
		for (int i = 0; have_pick && i < 2; i++)
			printf("%-22s%s (%s)\n",
			       i ? "engine auto, qd 32:" : "engine auto, qd 1:", pick[i].engine,
			       pick[i].why);
	}
	return 0;
}
