// SPDX-License-Identifier: MIT
/*
 * dev_sysfs: the sysfs walk on a fake tree, for what the test machines cannot
 * make (no partition parsers, no device-mapper): a partition steps up to its
 * disk; a stacked device walks slaves/ down to the lowest devices, taking the
 * first one's identity and the largest block sizes; nested stacks recurse.
 * Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev/dev_impl.h"

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                          \
		}                                                                          \
	} while (0)

static char root[64];

/* Write "ROOT/REL" with CONTENT and a newline, making directories on the way. */
static int put(const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (!content)
		return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", content);
	return fclose(f);
}

static int link_to(const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return symlink(target, path);
}

struct fake_disk {
	const char *dir, *dev, *lbs, *pbs, *rota, *wc, *sched, *nr_requests, *max_kb;
};

static int put_disk(const struct fake_disk *d)
{
	char rel[256];

#define PUT(file, val)                                             \
	do {                                                       \
		snprintf(rel, sizeof(rel), "%s/%s", d->dir, file); \
		if ((val) && put(rel, val))                        \
			return -1;                                 \
	} while (0)
	PUT("dev", d->dev);
	PUT("size", "8192");
	PUT("queue/logical_block_size", d->lbs);
	PUT("queue/physical_block_size", d->pbs);
	PUT("queue/rotational", d->rota);
	PUT("queue/write_cache", d->wc);
	PUT("queue/scheduler", d->sched);
	PUT("queue/nr_requests", d->nr_requests);
	PUT("queue/max_sectors_kb", d->max_kb);
	PUT("queue/max_hw_sectors_kb", "32767");
	PUT("queue/dma_alignment", "511");
	PUT("queue/discard_max_bytes", "0");
	PUT("queue/io_poll", "0");
#undef PUT
	snprintf(rel, sizeof(rel), "%s/slaves", d->dir);
	return put(rel, NULL);
}

#define BLK "devices/virtual/block"

static int build_tree(void)
{
	static const struct fake_disk disks[] = {
		{ BLK "/sda", "8:0", "512", "4096", "1", "write back", "none [mq-deadline] kyber",
		  "64", "1280" },
		{ BLK "/sdb", "8:16", "4096", "4096", "0", "write through", "[none] mq-deadline",
		  "32", "512" },
		{ BLK "/dm-0", "252:0", "4096", "4096", "0", "write through", "none", "128",
		  "256" },
		{ BLK "/dm-1", "252:1", "4096", "4096", "0", "write through", "none", "128",
		  "128" },
		/* bio-based (zram): no scheduler, no nr_requests, no mq/ */
		{ BLK "/zram0", "253:0", "4096", "4096", "0", "write through", NULL, NULL, "128" },
	};

	for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++)
		if (put_disk(&disks[i]))
			return -1;
	if (put(BLK "/sda/mq/0", NULL) || put(BLK "/sda/mq/1", NULL) || put(BLK "/sdb/mq/0", NULL))
		return -1;
	/* sda1: a partition, with no queue/ of its own. */
	if (put(BLK "/sda/sda1/dev", "8:1") || put(BLK "/sda/sda1/partition", "1") ||
	    put(BLK "/sda/sda1/size", "2048"))
		return -1;
	/* dm-0 stacks sdb and sda1 (listed in that order on disk, sorted by name). */
	if (link_to(BLK "/dm-0/slaves/sdb", "../../sdb") ||
	    link_to(BLK "/dm-0/slaves/sda1", "../../sda/sda1"))
		return -1;
	/* dm-1 stacks dm-0. */
	if (link_to(BLK "/dm-1/slaves/dm-0", "../../dm-0"))
		return -1;
	if (put("dev/block", NULL))
		return -1;
	if (link_to("dev/block/8:0", "../../" BLK "/sda") ||
	    link_to("dev/block/8:1", "../../" BLK "/sda/sda1") ||
	    link_to("dev/block/8:16", "../../" BLK "/sdb") ||
	    link_to("dev/block/252:0", "../../" BLK "/dm-0") ||
	    link_to("dev/block/252:1", "../../" BLK "/dm-1") ||
	    link_to("dev/block/253:0", "../../" BLK "/zram0"))
		return -1;
	return 0;
}

static int check_sda(const struct sysfs_disk *d)
{
	CHECK(!strcmp(d->name, "sda"));
	CHECK(d->major == 8 && d->minor == 0);
	CHECK(d->rotational == 1);
	CHECK(!strcmp(d->write_cache, "write back"));
	CHECK(!strcmp(d->scheduler, "mq-deadline"));
	CHECK(d->nr_requests == 64);
	CHECK(d->nr_hw_queues == 2);
	return 0;
}

static int run(void)
{
	struct sysfs_disk d;

	/* A whole disk. */
	CHECK(sysfs_disk_lookup_at(root, makedev(8, 0), &d) == 0);
	CHECK(check_sda(&d) == 0);
	CHECK(d.logical_block_size == 512 && d.physical_block_size == 4096);
	CHECK(d.dma_alignment == 512);
	CHECK(d.max_sectors_kb == 1280 && d.max_hw_sectors_kb == 32767);
	CHECK(d.node_size == 8192 * 512ull);
	CHECK(!d.io_poll && !d.discard);

	/* A partition: its own size, its disk's queue. */
	CHECK(sysfs_disk_lookup_at(root, makedev(8, 1), &d) == 0);
	CHECK(check_sda(&d) == 0);
	CHECK(d.logical_block_size == 512);
	CHECK(d.node_size == 2048 * 512ull);

	/* "[none] mq-deadline" -> "none". */
	CHECK(sysfs_disk_lookup_at(root, makedev(8, 16), &d) == 0);
	CHECK(!strcmp(d.scheduler, "none") && d.nr_hw_queues == 1);

	/*
	 * dm-0 over sda1 and sdb: identity of the first lowest device by name
	 * (sda, through its partition), the top's limits, the largest block sizes.
	 */
	CHECK(sysfs_disk_lookup_at(root, makedev(252, 0), &d) == 0);
	CHECK(check_sda(&d) == 0);
	CHECK(d.logical_block_size == 4096 && d.physical_block_size == 4096);
	CHECK(d.max_sectors_kb == 256);

	/* dm-1 over dm-0: recursion down to the same leaf. */
	CHECK(sysfs_disk_lookup_at(root, makedev(252, 1), &d) == 0);
	CHECK(check_sda(&d) == 0);
	CHECK(d.logical_block_size == 4096 && d.max_sectors_kb == 128);

	/* bio-based: what sysfs does not say stays unknown. */
	CHECK(sysfs_disk_lookup_at(root, makedev(253, 0), &d) == 0);
	CHECK(!strcmp(d.name, "zram0") && d.scheduler[0] == '\0');
	CHECK(d.nr_requests == -1 && d.nr_hw_queues == -1 && d.rotational == 0);

	/* Nothing there, and anonymous devices. */
	CHECK(sysfs_disk_lookup_at(root, makedev(9, 9), &d) == -ENOENT);
	CHECK(sysfs_disk_lookup_at(root, makedev(0, 42), &d) == -ENOENT);
	return 0;
}

int main(void)
{
	char cmd[128];
	int ret;

	snprintf(root, sizeof(root), "dev_sysfs.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	ret = build_tree();
	if (ret)
		perror("building the fake sysfs tree");
	else
		ret = run();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return ret ? 1 : 0;
}
