// SPDX-License-Identifier: MIT
/*
 * dev/sysfs: the disk behind a device number, from /sys/dev/block/MAJ:MIN.
 *
 * A partition has no queue/ of its own: its parent directory is the disk. A
 * stacked device (dm, md) lists the devices under it in slaves/; we walk down
 * to the lowest ones. What is reported then:
 *  - limits the kernel enforces on I/O to the top device (block sizes, dma
 *    alignment, max_sectors_kb, discard) come from the top device, whose queue
 *    limits the kernel already stacked from the devices below; the block sizes
 *    are also raised to the largest of any lower device, which costs nothing
 *    when the stacking is right and saves us when it is not;
 *  - the disk's identity and behaviour (name, rotational, write cache,
 *    nr_requests, scheduler, hardware queues, poll) come from the first lowest
 *    device in slaves/ order, since a dm device's own queue says "none" and
 *    "write through" whatever the hardware does.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev_impl.h"

#define SYSFS_MAX_DEPTH 8

/* Read DIR/FILE into BUF without the trailing newline. 0 or -errno. */
static int sysfs_read_str(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* DIR/FILE as a number; DEF when absent or not a number. */
static long long sysfs_read_ll(const char *dir, const char *file, long long def)
{
	char buf[64], *end;
	long long v;

	if (sysfs_read_str(dir, file, buf, sizeof(buf)))
		return def;
	int saved = errno; /* the library leaves errno as it found it */
	bool bad;

	errno = 0;
	v = strtoll(buf, &end, 10);
	bad = errno || end == buf;
	errno = saved;
	return bad ? def : v;
}

static bool sysfs_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return false; /* no sysfs path is that long */
	return access(path, F_OK) == 0;
}

/* A partition's directory is inside its disk's: step up to the disk. */
static void sysfs_to_disk(char *dir)
{
	char *slash;

	if (!sysfs_exists(dir, "partition"))
		return;
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
}

/* "[mq-deadline]" from "none [mq-deadline] kyber"; a lone name as is. */
static void sysfs_active_scheduler(const char *line, char *out, size_t len)
{
	const char *open = strchr(line, '['), *close;

	out[0] = '\0';
	if (!open) {
		/* A scheduler name longer than OUT is not one we know: leave it empty. */
		if (!strchr(line, ' ') && (size_t)snprintf(out, len, "%s", line) >= len)
			out[0] = '\0';
		return;
	}
	close = strchr(open, ']');
	if (close)
		snprintf(out, len, "%.*s", (int)(close - open - 1), open + 1);
}

static int sysfs_count_mq(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/mq", dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Read everything about the disk whose sysfs directory is DIR. */
static void sysfs_read_disk(const char *dir, struct sysfs_disk *disk)
{
	char q[PATH_MAX], buf[256];
	const char *base = strrchr(dir, '/');
	unsigned maj, min;
	long long v;

	memset(disk, 0, sizeof(*disk));
	snprintf(disk->name, sizeof(disk->name), "%s", base ? base + 1 : dir);
	if (sysfs_read_str(dir, "dev", buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%u:%u", &maj, &min) == 2) {
		disk->major = maj;
		disk->minor = min;
	}
	snprintf(q, sizeof(q), "%s/queue", dir);
	v = sysfs_read_ll(q, "logical_block_size", 0);
	disk->logical_block_size = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
	v = sysfs_read_ll(q, "physical_block_size", 0);
	disk->physical_block_size = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
	v = sysfs_read_ll(q, "dma_alignment", -1);
	disk->dma_alignment = v >= 0 && v < UINT32_MAX ? (uint32_t)v + 1 : 0;
	disk->rotational = (int)sysfs_read_ll(q, "rotational", -1);
	if (sysfs_read_str(q, "write_cache", disk->write_cache, sizeof(disk->write_cache)))
		disk->write_cache[0] = '\0';
	disk->fua = (int)sysfs_read_ll(q, "fua", -1);
	disk->nr_requests = (int)sysfs_read_ll(q, "nr_requests", -1);
	disk->max_sectors_kb = (int)sysfs_read_ll(q, "max_sectors_kb", -1);
	disk->max_hw_sectors_kb = (int)sysfs_read_ll(q, "max_hw_sectors_kb", -1);
	if (sysfs_read_str(q, "scheduler", buf, sizeof(buf)) == 0)
		sysfs_active_scheduler(buf, disk->scheduler, sizeof(disk->scheduler));
	disk->nr_hw_queues = sysfs_count_mq(dir);
	disk->io_poll = sysfs_read_ll(q, "io_poll", 0) > 0;
	disk->discard = sysfs_read_ll(q, "discard_max_bytes", 0) > 0;
}

static bool sysfs_has_slaves(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool any = false;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/slaves", dir) >= sizeof(path))
		return false;
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	closedir(d);
	return any;
}

/* Merge the lowest devices under DIR into DISK; *FOUND set once the first leaf is taken. */
static void sysfs_walk_slaves(const char *dir, int depth, struct sysfs_disk *disk, bool *found)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct sysfs_disk leaf;
	struct dirent **names;
	int n;

	snprintf(path, sizeof(path), "%s/slaves", dir);
	/* Sorted, so "the first" is the same on every run. */
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		char link[PATH_MAX];

		if (names[i]->d_name[0] == '.')
			continue;
		if (snprintf(link, sizeof(link), "%s/%s", path, names[i]->d_name) >=
			    (int)sizeof(link) ||
		    !realpath(link, real))
			continue;
		sysfs_to_disk(real);
		if (depth < SYSFS_MAX_DEPTH && sysfs_has_slaves(real)) {
			sysfs_walk_slaves(real, depth + 1, disk, found);
			continue;
		}
		sysfs_read_disk(real, &leaf);
		if (leaf.logical_block_size > disk->logical_block_size)
			disk->logical_block_size = leaf.logical_block_size;
		if (leaf.physical_block_size > disk->physical_block_size)
			disk->physical_block_size = leaf.physical_block_size;
		if (*found)
			continue;
		*found = true;
		memcpy(disk->name, leaf.name, sizeof(disk->name));
		disk->major = leaf.major;
		disk->minor = leaf.minor;
		disk->rotational = leaf.rotational;
		memcpy(disk->write_cache, leaf.write_cache, sizeof(disk->write_cache));
		disk->fua = leaf.fua;
		disk->nr_requests = leaf.nr_requests;
		memcpy(disk->scheduler, leaf.scheduler, sizeof(disk->scheduler));
		disk->nr_hw_queues = leaf.nr_hw_queues;
		disk->io_poll = leaf.io_poll;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int sysfs_disk_lookup_at(const char *root, dev_t devt, struct sysfs_disk *disk)
{
	char link[PATH_MAX], dir[PATH_MAX];
	bool found = false;
	long long sectors;

	if (major(devt) == 0)
		return -ENOENT; /* anonymous device: tmpfs, btrfs subvolumes, overlayfs */
	if (snprintf(link, sizeof(link), "%s/dev/block/%u:%u", root, major(devt), minor(devt)) >=
		    (int)sizeof(link) ||
	    !realpath(link, dir))
		return -ENOENT;
	/* "size" counts 512-byte sectors whatever the logical block size. */
	sectors = sysfs_read_ll(dir, "size", -1);
	sysfs_to_disk(dir);
	sysfs_read_disk(dir, disk);
	disk->node_size = sectors > 0 ? (uint64_t)sectors * 512 : 0;
	if (sysfs_has_slaves(dir))
		sysfs_walk_slaves(dir, 1, disk, &found);
	return 0;
}

int sysfs_disk_lookup(dev_t devt, struct sysfs_disk *disk)
{
	return sysfs_disk_lookup_at("/sys", devt, disk);
}
