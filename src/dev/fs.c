// SPDX-License-Identifier: MIT
/* dev/fs: which filesystem a file lives on, and what it does to direct I/O. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev_impl.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define FS_XFS_MAGIC 0x58465342ul

/* <xfs/xfs_fs.h> (xfslibs-dev) is not a dependency: its stable UAPI, verbatim. */
struct fs_xfs_dioattr {
	uint32_t d_mem;	    /* data buffer memory alignment */
	uint32_t d_miniosz; /* min xfer size */
	uint32_t d_maxiosz; /* max xfer size */
};
#ifndef XFS_IOC_DIOINFO
#define XFS_IOC_DIOINFO _IOR('X', 30, struct fs_xfs_dioattr)
#endif

/* statfs f_type -> name, for when /proc/self/mountinfo cannot tell. */
/* clang-format off */
static const struct {
	unsigned long magic;
	const char *name;
} fs_magics[] = {
	{ 0xEF53ul, "ext4" }, /* ext2 and ext3 share it; mountinfo tells them apart */
	{ FS_XFS_MAGIC, "xfs" },
	{ 0x9123683Eul, "btrfs" },
	{ 0x01021994ul, "tmpfs" },
	{ 0x858458F6ul, "ramfs" },
	{ 0xF2F52010ul, "f2fs" },
	{ 0xCA451A4Eul, "bcachefs" },
	{ 0x2FC12FC1ul, "zfs" },
	{ 0x6969ul, "nfs" },
	{ 0x65735546ul, "fuse" },
	{ 0x794C7630ul, "overlay" },
	{ 0x4D44ul, "vfat" },
	{ 0x2011BAB0ul, "exfat" },
	{ 0xFE534D42ul, "smb2" },
	{ 0xFF534D42ul, "cifs" },
	{ 0x00C36400ul, "ceph" },
	{ 0x9FA0ul, "proc" },
	{ 0x62656572ul, "sysfs" },
};
/* clang-format on */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void fs_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The mount ID of the file at FD (or PATH), as /proc/self/mountinfo numbers
 * it; 0 when statx cannot say (before Linux 5.8).
 */
static uint64_t fs_mnt_id(int fd, const char *path)
{
	struct statx stx;
	int ret;

	memset(&stx, 0, sizeof(stx));
	if (fd >= 0)
		ret = statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx);
	else
		ret = statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx);
	if (ret || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/*
 * Find the mount in /proc/self/mountinfo with ID MNT_ID, or when that is 0,
 * the first mount of device DEV; copy its filesystem type and source.
 * 0 or -ENOENT. The mount ID is the reliable key: a btrfs file's st_dev is
 * its subvolume's anonymous device, which mountinfo does not list.
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 */
static int fs_mountinfo(uint64_t mnt_id, dev_t dev, char *type, size_t type_len, char *source,
			size_t source_len)
{
	char *line = NULL, *sep, *save, *fstype, *src;
	unsigned long long id;
	size_t cap = 0;
	unsigned maj, min;
	int ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%llu %*u %u:%u", &id, &maj, &min) != 3)
			continue;
		if (mnt_id ? id != mnt_id : (maj != major(dev) || min != minor(dev)))
			continue;
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		fstype = strtok_r(sep + 3, " \n", &save);
		src = fstype ? strtok_r(NULL, " \n", &save) : NULL;
		if (!fstype)
			continue;
		if (type)
			snprintf(type, type_len, "%s", fstype);
		if (source) {
			snprintf(source, source_len, "%s", src ? src : "");
			fs_unescape(source);
		}
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

int fs_identify(int fd, const char *path, dev_t st_dev, struct rawio_dev_info *info)
{
	struct statfs sfs;
	int ret;

	ret = fd >= 0 ? fstatfs(fd, &sfs) : statfs(path, &sfs);
	if (ret)
		return -errno;
	info->fs_magic = (uint64_t)(unsigned long)sfs.f_type;
	info->fs_block_size = sfs.f_bsize > 0 ? (uint32_t)sfs.f_bsize : 0;
	if (fs_mountinfo(fs_mnt_id(fd, path), st_dev, info->fs_type, sizeof(info->fs_type), NULL,
			 0) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++) {
		if (fs_magics[i].magic == (unsigned long)sfs.f_type) {
			snprintf(info->fs_type, sizeof(info->fs_type), "%s", fs_magics[i].name);
			return 0;
		}
	}
	snprintf(info->fs_type, sizeof(info->fs_type), "0x%lx", (unsigned long)sfs.f_type);
	return 0;
}

int fs_mount_source(int fd, const char *path, dev_t st_dev, dev_t *devt)
{
	char source[4096];
	struct stat st;

	if (fs_mountinfo(fs_mnt_id(fd, path), st_dev, NULL, 0, source, sizeof(source)))
		return -ENOENT;
	if (source[0] != '/' || stat(source, &st) || !S_ISBLK(st.st_mode))
		return -ENOENT;
	*devt = st.st_rdev;
	return 0;
}

int fs_xfs_dioinfo(int fd, uint32_t *mem_align, uint32_t *offset_align)
{
	struct fs_xfs_dioattr da;
	struct statfs sfs;

	/* Only on XFS: the number could mean something else to another driver. */
	if (fstatfs(fd, &sfs))
		return -errno;
	if ((unsigned long)sfs.f_type != FS_XFS_MAGIC)
		return -ENOTTY;
	if (ioctl(fd, XFS_IOC_DIOINFO, &da))
		return -errno;
	if (!da.d_mem || !da.d_miniosz)
		return -EINVAL;
	*mem_align = da.d_mem;
	*offset_align = da.d_miniosz;
	return 0;
}

/* Is kernel RELEASE ("6.18.44-fc") at least MAJ.MIN? Unparseable counts as no. */
static bool fs_kernel_at_least(const char *release, unsigned maj, unsigned min)
{
	unsigned a, b;

	if (!release || sscanf(release, "%u.%u", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/*
 * Seastar's table (src/core/file.cc make_file_impl, formerly reactor.cc),
 * with these choices of ours:
 *  - nowait_reads is Seastar's nowait_works: xfs from 4.13, ext4 from 5.5 and
 *    btrfs from 5.9 (the versions after which RWF_NOWAIT reads stopped
 *    blocking or failing spuriously there), nfs from 4.13, never elsewhere.
 *    Seastar sets it false on tmpfs, and so do we.
 *  - nowait_writes is false everywhere. The kernel accepts RWF_NOWAIT direct
 *    writes on xfs, ext4 and btrfs, but answers -EAGAIN for any write that
 *    allocates (appends, holes, unwritten extents), and Seastar never issues
 *    them; rawio fsqual can measure whether overwrites succeed.
 *  - ext2 and ext3 mounts fall to the conservative default rather than ext4's row.
 *  - tmpfs: Seastar's append_concurrency of 999 (appends are memcpy), plus
 *    dio_never_blocks, so no qualification result on tmpfs is trusted.
 *  - fuse follows Seastar (like tmpfs, but its O_DIRECT does reach a daemon).
 *  - anything else: append-challenged, no concurrent appends, exclusive fsync,
 *    no nowait.
 */
void fs_traits_for(const char *fs_type, const char *release, struct rawio_fs_traits *t)
{
	memset(t, 0, sizeof(*t));
	if (!fs_type || !fs_type[0])
		return;
	if (!strcmp(fs_type, "xfs")) {
		t->append_challenged = true;
		t->append_concurrency = fs_kernel_at_least(release, 3, 15) ? 1 : 0;
		t->fsync_is_exclusive = true;
		t->nowait_reads = fs_kernel_at_least(release, 4, 13);
	} else if (!strcmp(fs_type, "ext4")) {
		t->append_challenged = true;
		t->append_concurrency = 0;
		t->fsync_is_exclusive = false;
		t->nowait_reads = fs_kernel_at_least(release, 5, 5);
	} else if (!strcmp(fs_type, "btrfs")) {
		t->append_challenged = true;
		t->append_concurrency = 0;
		t->fsync_is_exclusive = true;
		t->nowait_reads = fs_kernel_at_least(release, 5, 9);
	} else if (!strcmp(fs_type, "nfs") || !strcmp(fs_type, "nfs4")) {
		t->append_challenged = false;
		t->append_concurrency = 0;
		t->fsync_is_exclusive = false;
		t->nowait_reads = fs_kernel_at_least(release, 4, 13);
	} else if (!strcmp(fs_type, "tmpfs") || !strcmp(fs_type, "fuse") ||
		   !strncmp(fs_type, "fuse.", 5)) {
		t->append_challenged = false;
		t->append_concurrency = 999;
		t->fsync_is_exclusive = false;
		t->dio_never_blocks = !strcmp(fs_type, "tmpfs");
	} else {
		t->append_challenged = true;
		t->append_concurrency = 0;
		t->fsync_is_exclusive = true;
	}
}

int rawio_dev_set_fs_traits(struct rawio_dev *dev, const struct rawio_fs_traits *traits)
{
	if (!dev || !traits || dev->info.kind != RAWIO_DEV_FILE)
		return -EINVAL;
	dev->info.fs = *traits;
	return 0;
}

/*
 * fallocate(2) rather than ftruncate alone: a direct write into an unwritten
 * extent neither sleeps in io_submit nor makes io_uring punt to io-wq on ext4
 * and xfs, where a write into a hole does the allocation inline or in a
 * worker (rawio fsqual's prealloc and fill rows). It also reserves the space,
 * so a later write cannot fail with ENOSPC. ftruncate where there is no
 * fallocate.
 */
int rawio_dev_extend(struct rawio_dev *dev, uint64_t end, uint64_t step)
{
	struct stat st;
	uint64_t target;

	if (!dev || dev->info.kind != RAWIO_DEV_FILE || dev->fd < 0)
		return -EINVAL;
	if (dev->info.read_only)
		return -EBADF;
	if (!step)
		step = 1u << 20;
	if (step & (step - 1) || end > (uint64_t)INT64_MAX - step)
		return -EINVAL;
	if (dev->info.offset_align > step)
		step = dev->info.offset_align;
	if (fstat(dev->fd, &st))
		return -errno;
	dev->info.size = (uint64_t)st.st_size;
	if (dev->info.size >= end)
		return 0;
	target = (end + step - 1) / step * step;
	if (fallocate(dev->fd, 0, (off_t)dev->info.size, (off_t)(target - dev->info.size))) {
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		if (ftruncate(dev->fd, (off_t)target))
			return -errno;
	}
	dev->info.size = target;
	return 0;
}
