// SPDX-License-Identifier: MIT
/* dev: open a file, block device or RAM device, and discover what direct I/O needs. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/fs.h>

#include <rawio/rawio.h>

#include "dev_impl.h"
#include "util/clock.h"
#include "util/errbuf.h"

/* glibc 2.36 takes struct statx from <linux/stat.h>; older headers may lack the flag. */
#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

#define DEV_MEM_PREFIX	"mem:"
#define DEV_MEM_ALIGN	512u
#define DEV_GUESS_ALIGN 4096u

static bool dev_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Copy a name into a fixed field; names longer than the field are cut (the fields are sized
 * for what the kernel reports). */
static void dev_set_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n > len - 1)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void dev_info_init(struct rawio_dev_info *info, const char *path)
{
	struct utsname uts;

	memset(info, 0, sizeof(*info));
	dev_set_str(info->path, sizeof(info->path), path);
	info->rotational = -1;
	info->fua = -1;
	info->nr_requests = -1;
	info->max_sectors_kb = -1;
	info->max_hw_sectors_kb = -1;
	info->nr_hw_queues = -1;
	if (uname(&uts) == 0)
		dev_set_str(info->kernel_release, sizeof(info->kernel_release), uts.release);
}

/* Geometry of a RAM device; shared by rawio_dev_open_mem and rawio_dev_describe. */
int dev_mem_info(struct rawio_dev_info *info, uint64_t size, uint32_t block_size)
{
	char path[64];

	if (!dev_is_pow2(block_size) || block_size < 512 || block_size > 65536)
		return -EINVAL;
	if (!size || size % block_size || size > SIZE_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), DEV_MEM_PREFIX "%llu", (unsigned long long)size);
	dev_info_init(info, path);
	info->kind = RAWIO_DEV_MEM;
	/* No O_DIRECT, but the mem engine enforces the same rules, so check_io applies. */
	info->direct = true;
	info->size = size;
	info->logical_block_size = block_size;
	info->physical_block_size = block_size;
	info->mem_align = DEV_MEM_ALIGN;
	info->offset_align = block_size;
	info->align_source = RAWIO_ALIGN_MEM;
	info->rotational = 0;
	return 0;
}

/*
 * statx(STATX_DIOALIGN). Returns 1 with the alignments when the kernel answers
 * and direct I/O is supported, 0 when it does not answer, -EOPNOTSUPP when it
 * answers that this file does not support direct I/O (both alignments 0).
 */
static int dev_statx_dioalign(int fd, const char *path, uint32_t *mem_align, uint32_t *offset_align)
{
	struct statx stx;
	int ret;

	memset(&stx, 0, sizeof(stx));
	if (fd >= 0)
		ret = statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx);
	else
		ret = statx(AT_FDCWD, path, 0, STATX_DIOALIGN, &stx);
	if (ret || !(stx.stx_mask & STATX_DIOALIGN))
		return 0;
	if (!stx.stx_dio_mem_align || !stx.stx_dio_offset_align)
		return -EOPNOTSUPP;
	*mem_align = stx.stx_dio_mem_align;
	*offset_align = stx.stx_dio_offset_align;
	return 1;
}

static void dev_copy_disk(struct rawio_dev_info *info, const struct sysfs_disk *d)
{
	dev_set_str(info->disk, sizeof(info->disk), d->name);
	info->disk_major = d->major;
	info->disk_minor = d->minor;
	info->rotational = d->rotational;
	dev_set_str(info->write_cache, sizeof(info->write_cache), d->write_cache);
	info->fua = d->fua;
	info->nr_requests = d->nr_requests;
	info->max_sectors_kb = d->max_sectors_kb;
	info->max_hw_sectors_kb = d->max_hw_sectors_kb;
	dev_set_str(info->scheduler, sizeof(info->scheduler), d->scheduler);
	info->nr_hw_queues = d->nr_hw_queues;
	info->io_poll = d->io_poll;
	info->discard = d->discard;
}

/*
 * Fill INFO for a regular file or block device. FD may be -1 (describe without
 * an open descriptor): then the ioctls are skipped. *DIO_OK is false when the
 * kernel said this file cannot do direct I/O.
 */
static int dev_discover(struct rawio_dev_info *info, int fd, const struct stat *st, bool *dio_ok)
{
	struct sysfs_disk disk;
	bool have_disk = false;
	uint32_t mem_align = 0, offset_align = 0;
	int ret;

	*dio_ok = true;
	memset(&disk, 0, sizeof(disk));
	if (S_ISBLK(st->st_mode)) {
		info->kind = RAWIO_DEV_BLOCK;
		have_disk = sysfs_disk_lookup(st->st_rdev, &disk) == 0;
	} else if (S_ISREG(st->st_mode)) {
		info->kind = RAWIO_DEV_FILE;
		info->size = (uint64_t)st->st_size;
		have_disk = sysfs_disk_lookup(st->st_dev, &disk) == 0;
		if (!have_disk) {
			dev_t src;

			/* btrfs and friends: st_dev is anonymous; ask mountinfo for the source. */
			if (fs_mount_source(fd, info->path, st->st_dev, &src) == 0)
				have_disk = sysfs_disk_lookup(src, &disk) == 0;
		}
		fs_identify(fd, info->path, st->st_dev, info);
		fs_traits_for(info->fs_type, info->kernel_release, &info->fs);
	} else {
		return -ENOTBLK;
	}
	if (have_disk)
		dev_copy_disk(info, &disk);

	if (info->kind == RAWIO_DEV_BLOCK) {
		uint64_t bytes = 0;
		int lbs = 0;
		unsigned int pbs = 0;

		if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &bytes) == 0)
			info->size = bytes;
		else if (have_disk)
			info->size = disk.node_size;
		if (fd >= 0 && ioctl(fd, BLKSSZGET, &lbs) == 0 && lbs > 0)
			info->logical_block_size = (uint32_t)lbs;
		else if (have_disk)
			info->logical_block_size = disk.logical_block_size;
		if (fd >= 0 && ioctl(fd, BLKPBSZGET, &pbs) == 0 && pbs > 0)
			info->physical_block_size = pbs;
		else if (have_disk)
			info->physical_block_size = disk.physical_block_size;
	} else if (have_disk) {
		info->logical_block_size = disk.logical_block_size;
		info->physical_block_size = disk.physical_block_size;
	}

	/* Alignment, in the order dev.h documents. */
	ret = dev_statx_dioalign(fd, info->path, &mem_align, &offset_align);
	if (ret == -EOPNOTSUPP)
		*dio_ok = false;
	if (ret == 1) {
		info->align_source = RAWIO_ALIGN_STATX;
	} else if (info->kind == RAWIO_DEV_BLOCK && info->logical_block_size) {
		/*
		 * The block layer checks offsets and lengths against the logical
		 * block size and buffer addresses against dma_alignment + 1.
		 */
		offset_align = info->logical_block_size;
		mem_align = disk.dma_alignment ? disk.dma_alignment : offset_align;
		info->align_source = RAWIO_ALIGN_BLKSSZGET;
	} else if (info->kind == RAWIO_DEV_FILE && fd >= 0 &&
		   fs_xfs_dioinfo(fd, &mem_align, &offset_align) == 0) {
		info->align_source = RAWIO_ALIGN_XFS_DIOINFO;
	} else if (have_disk && disk.logical_block_size) {
		/*
		 * A filesystem's direct I/O goes to its disk: the logical block
		 * size bounds offsets; memory is held to the same (old kernels
		 * required it, and it is never wrong).
		 */
		offset_align = disk.logical_block_size;
		mem_align = disk.logical_block_size;
		/*
		 * btrfs (check_direct_IO) wants offsets and buffers aligned to
		 * its sector size, f_bsize, and quietly goes buffered otherwise.
		 */
		if (!strcmp(info->fs_type, "btrfs") && info->fs_block_size > offset_align &&
		    dev_is_pow2(info->fs_block_size)) {
			offset_align = info->fs_block_size;
			mem_align = info->fs_block_size;
		}
		info->align_source = RAWIO_ALIGN_SYSFS;
	} else {
		offset_align = DEV_GUESS_ALIGN;
		mem_align = DEV_GUESS_ALIGN;
		info->align_source = RAWIO_ALIGN_GUESS;
	}
	info->mem_align = mem_align;
	info->offset_align = offset_align;

	/*
	 * A file with no disk under it (tmpfs, network filesystems): the
	 * smallest unit the kernel accepts is the offset alignment; the
	 * physical unit is the filesystem's preferred I/O size (st_blksize).
	 */
	if (!info->logical_block_size)
		info->logical_block_size = offset_align;
	if (!info->physical_block_size) {
		uint32_t blksize = st->st_blksize > 0 ? (uint32_t)st->st_blksize : 0;

		info->physical_block_size =
			blksize > info->logical_block_size ? blksize : info->logical_block_size;
	}
	return 0;
}

/* Create PATH (absent) with O_EXCL, so that we know we made it. 0, or -errno. */
static int dev_create_file(const char *path, bool *created)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	*created = true;
	return 0;
}

/* Is the block device DEVT mounted? 1 and the mount point in WHERE, else 0. */
static int dev_mounted(dev_t devt, char *where, size_t len)
{
	char line[4096], mnt[4096];
	unsigned maj, min;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;

	if (!f)
		return 0;
	/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		if (maj == major(devt) && min == minor(devt)) {
			if (where && len)
				snprintf(where, len, "mounted at %s", mnt);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * The pid holding a flock on the inode ST describes, from /proc/locks
 * ("1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"), or 0 if none is found.
 */
static long dev_lock_holder(const struct stat *st)
{
	char line[256], kind[16], adv[16], mode[16];
	unsigned maj, min;
	unsigned long long ino;
	long pid, found = 0;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strchr(line, ':');

		if (!p || strstr(line, "->")) /* "->" marks a waiter, not the holder */
			continue;
		if (sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%llu", kind, adv, mode, &pid, &maj,
			   &min, &ino) != 7)
			continue;
		if (strcmp(kind, "FLOCK") || ino != (unsigned long long)st->st_ino ||
		    maj != major(st->st_dev) || min != minor(st->st_dev))
			continue;
		found = pid;
		break;
	}
	fclose(f);
	return found;
}

/* "PATH: in use by another rawio handle (pid N)" and -EBUSY. */
static int dev_lock_busy(const char *path, const struct stat *st, int wait_ms, char *errbuf,
			 size_t len)
{
	long pid = dev_lock_holder(st);
	char who[48] = "";

	if (pid > 0)
		snprintf(who, sizeof(who), " (pid %ld)", pid);
	errbuf_set(errbuf, len,
		   "%s: in use by another process%s; gave up after %d ms (--lock-wait)", path, who,
		   wait_ms);
	return -EBUSY;
}

/*
 * flock FD as FLAGS ask (LOCK_EX or LOCK_SH), retrying until DEADLINE_NS.
 * 0, -EBUSY when the holder kept it, or flock's -errno.
 */
static int dev_flock(int fd, unsigned flags, uint64_t deadline_ns)
{
	int op = (flags & RAWIO_DEV_LOCK_EX) ? LOCK_EX : LOCK_SH;

	for (;;) {
		if (!flock(fd, op | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (rawio_now_ns() >= deadline_ns)
			return -EBUSY;
		usleep(10000);
	}
}

/* Explain an EINVAL from open(O_DIRECT): is it the filesystem refusing direct I/O? */
static int dev_explain_einval(const char *path, int oflags, char *errbuf, size_t len)
{
	struct rawio_dev_info *info;
	int fd;

	fd = open(path, oflags & ~O_DIRECT);
	if (fd < 0) {
		errbuf_set(errbuf, len, "%s: %s", path, rawio_strerror(EINVAL));
		return -EINVAL;
	}
	close(fd);
	info = malloc(sizeof(*info));
	if (info && rawio_dev_describe(path, info) == 0 && info->fs_type[0])
		errbuf_set(errbuf, len, "%s: the %s filesystem refuses O_DIRECT (open it buffered)",
			   path, info->fs_type);
	else
		errbuf_set(errbuf, len, "%s: O_DIRECT refused (open it buffered)", path);
	free(info);
	return -EINVAL;
}

/* An NBD export: no descriptor, the engine connects (src/dev/nbd.c). */
static int dev_open_nbd(struct rawio_dev **out, const char *uri, const struct rawio_dev_opts *o)
{
	struct rawio_dev *dev;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		errbuf_set(o->errbuf, o->errbuf_len, "%s: %s", uri, rawio_strerror(-ENOMEM));
		return -ENOMEM;
	}
	dev->fd = -1;
	dev->mem = NULL;
	dev->mem_len = 0;
	dev_info_init(&dev->info, uri);
	dev->info.kind = RAWIO_DEV_NBD;
	ret = dev_nbd_probe(uri, &dev->info, o->errbuf, o->errbuf_len);
	if (ret && o->nbd_offline_size && ret != -EOPNOTSUPP && ret != -ENOMEM) {
		/* The caller knows the size (a cache's superblock): open unreached. */
		dev_info_init(&dev->info, uri);
		dev->info.kind = RAWIO_DEV_NBD;
		dev->info.size = o->nbd_offline_size;
		dev->info.nbd.offline = true;
		dev->info.nbd.can_flush = true; /* assume a volatile cache until told */
		dev->info.logical_block_size = 512;
		dev->info.physical_block_size = 4096;
		dev->info.offset_align = 512;
		dev->info.mem_align = 512;
		dev->info.align_source = RAWIO_ALIGN_NBD;
		dev->info.direct = true;
		dev->info.rotational = -1;
		ret = 0;
	}
	if (ret)
		goto free_dev;
	if (dev->info.nbd.server_read_only && !(o->flags & RAWIO_DEV_RDONLY)) {
		errbuf_set(o->errbuf, o->errbuf_len,
			   "%s: the server exports it read-only (open it read-only)", uri);
		ret = -EROFS;
		goto free_dev;
	}
	dev->info.read_only = o->flags & RAWIO_DEV_RDONLY;
	*out = dev;
	return 0;

free_dev:
	free(dev);
	return ret;
}

/* A Ceph RBD image: no descriptor; the device holds the cluster connection (src/dev/rbd.c). */
static int dev_open_rbd(struct rawio_dev **out, const char *path, const struct rawio_dev_opts *o)
{
	struct rawio_dev *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->fd = -1;
	dev_info_init(&dev->info, path);
	dev->info.kind = RAWIO_DEV_RBD;
	ret = dev_rbd_connect(path, &dev->info, o->flags, o->errbuf, o->errbuf_len, &dev->rbd);
	if (ret) {
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

int rawio_dev_open(struct rawio_dev **out, const char *path, const struct rawio_dev_opts *opts)
{
	struct rawio_dev_opts o;
	struct rawio_dev *dev;
	struct stat st;
	bool created = false, dio_ok;
	struct rawio_mem_opts mem;
	uint64_t deadline_ns;
	char where[256];
	unsigned lock;
	int oflags, fd, ret, wait_ms;

	memset(&o, 0, sizeof(o));
	if (opts)
		memcpy(&o, opts, opts->size && opts->size < sizeof(o) ? opts->size : sizeof(o));
	if (!out || !path || !*path) {
		errbuf_set(o.errbuf, o.errbuf_len, "no path given");
		return -EINVAL;
	}
	*out = NULL;
	if (strlen(path) >= sizeof(dev->info.path)) {
		errbuf_set(o.errbuf, o.errbuf_len, "%.64s...: path too long", path);
		return -ENAMETOOLONG;
	}

	ret = rawio_mem_opts_parse(path, &mem, o.errbuf, o.errbuf_len);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		if ((o.flags & RAWIO_DEV_PREFAULT) && !mem.prefault_set)
			mem.prefault = true;
		ret = rawio_dev_open_mem_opts(out, &mem);
		if (ret) {
			errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
			return ret;
		}
		(*out)->info.read_only = o.flags & RAWIO_DEV_RDONLY;
		return 0;
	}
	if (rawio_dev_is_rbd_path(path))
		return dev_open_rbd(out, path, &o);

	if (rawio_dev_is_nbd_uri(path))
		return dev_open_nbd(out, path, &o);

	if ((o.flags & RAWIO_DEV_CREATE) && (o.flags & RAWIO_DEV_RDONLY)) {
		errbuf_set(o.errbuf, o.errbuf_len, "%s: create needs write access, not read-only",
			   path);
		return -EINVAL;
	}
	if (stat(path, &st)) {
		ret = -errno;
		if (ret != -ENOENT || !(o.flags & RAWIO_DEV_CREATE)) {
			errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
			return ret;
		}
		ret = dev_create_file(path, &created);
		if (!ret && stat(path, &st))
			ret = -errno;
		if (ret) {
			errbuf_set(o.errbuf, o.errbuf_len, "%s: cannot create: %s", path,
				   rawio_strerror(ret));
			return ret;
		}
	}
	/* Never open a fifo or a directory: that could block or mislead. */
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		errbuf_set(o.errbuf, o.errbuf_len, "%s: %s, not a regular file or block device",
			   path, S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		ret = -ENOTBLK;
		goto unlink_created;
	}

	oflags = O_CLOEXEC | ((o.flags & RAWIO_DEV_RDONLY) ? O_RDONLY : O_RDWR);
	if (!(o.flags & RAWIO_DEV_BUFFERED))
		oflags |= O_DIRECT;
	if (o.flags & RAWIO_DEV_DSYNC)
		oflags |= O_DSYNC;
	lock = o.flags & (RAWIO_DEV_LOCK_EX | RAWIO_DEV_LOCK_SH);
	if ((o.flags & (RAWIO_DEV_EXCL | RAWIO_DEV_LOCK_EX)) && S_ISBLK(st.st_mode))
		oflags |= O_EXCL;
	wait_ms = o.lock_wait_ms == 0  ? RAWIO_DEV_LOCK_WAIT_DEFAULT_MS
		  : o.lock_wait_ms < 0 ? 0
				       : o.lock_wait_ms;
	deadline_ns = rawio_now_ns() + (uint64_t)wait_ms * 1000000u;

	for (;;) {
		fd = open(path, oflags);
		/* O_EXCL: another owner (or a mount) has it; an owner may let go in time. */
		if (fd >= 0 || errno != EBUSY || !lock || rawio_now_ns() >= deadline_ns ||
		    dev_mounted(st.st_rdev, NULL, 0))
			break;
		usleep(10000);
	}
	if (fd < 0) {
		ret = -errno;
		if (ret == -EINVAL && (oflags & O_DIRECT))
			ret = dev_explain_einval(path, oflags, o.errbuf, o.errbuf_len);
		else if (ret == -EBUSY && lock && dev_lock_holder(&st) > 0)
			ret = dev_lock_busy(path, &st, wait_ms, o.errbuf, o.errbuf_len);
		else if (ret == -EBUSY && dev_mounted(st.st_rdev, where, sizeof(where)))
			errbuf_set(o.errbuf, o.errbuf_len, "%s: a filesystem on it is %s", path,
				   where);
		else if (ret == -EBUSY)
			errbuf_set(o.errbuf, o.errbuf_len, "%s: device is mounted or in use", path);
		else
			errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
		goto unlink_created;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
		goto close_fd;
	}
	if (lock) {
		ret = dev_flock(fd, lock, deadline_ns);
		if (ret == -EBUSY) {
			dev_lock_busy(path, &st, wait_ms, o.errbuf, o.errbuf_len);
			goto close_fd;
		}
		if (ret) {
			errbuf_set(o.errbuf, o.errbuf_len, "%s: cannot lock: %s", path,
				   rawio_strerror(ret));
			goto close_fd;
		}
	}
	if ((o.flags & RAWIO_DEV_CREATE) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < o.create_size) {
		if (ftruncate(fd, (off_t)o.create_size) || fstat(fd, &st)) {
			ret = -errno;
			errbuf_set(o.errbuf, o.errbuf_len, "%s: cannot extend to %llu bytes: %s",
				   path, (unsigned long long)o.create_size, rawio_strerror(ret));
			goto close_fd;
		}
	}

	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		ret = -ENOMEM;
		errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
		goto close_fd;
	}
	dev->fd = fd;
	dev->mem = NULL;
	dev->mem_len = 0;
	dev->md = NULL;
	dev->lock = lock & RAWIO_DEV_LOCK_EX ? RAWIO_DEV_LOCK_EX : lock;
	dev_info_init(&dev->info, path);
	ret = dev_discover(&dev->info, fd, &st, &dio_ok);
	if (ret) {
		errbuf_set(o.errbuf, o.errbuf_len, "%s: %s", path, rawio_strerror(ret));
		goto free_dev;
	}
	if ((oflags & O_DIRECT) && !dio_ok) {
		/* The open passed, but the kernel says this file cannot do direct I/O. */
		ret = -EINVAL;
		errbuf_set(
			o.errbuf, o.errbuf_len,
			"%s: the %s filesystem refuses O_DIRECT for this file (open it buffered)",
			path, dev->info.fs_type[0] ? dev->info.fs_type : "unknown");
		goto free_dev;
	}
	dev->info.direct = oflags & O_DIRECT;
	dev->info.read_only = o.flags & RAWIO_DEV_RDONLY;
	if (!dev->info.direct) {
		dev->info.mem_align = 1;
		dev->info.offset_align = 1;
		dev->info.align_source = RAWIO_ALIGN_BUFFERED;
	}
	*out = dev;
	return 0;

free_dev:
	free(dev);
close_fd:
	close(fd);
unlink_created:
	if (created)
		unlink(path);
	return ret;
}

int rawio_dev_probe_data(const char *path, char *what, size_t len)
{
	/* Where each signature sits: offset, bytes, what it means. */
	static const struct {
		uint32_t off;
		uint8_t n;
		const char *magic;
		const char *name;
	} sigs[] = {
		{ 0, 8, "RAWIOSTR", "a rawio store" },
		{ 0, 8, "RAWIOCSB", "a rawio cache" },
		{ 1080, 2, "\x53\xef", "an ext2/3/4 filesystem" },
		{ 0, 4, "XFSB", "an XFS filesystem" },
		{ 65600, 8, "_BHRfS_M", "a btrfs filesystem" },
		{ 4086, 10, "SWAPSPACE2", "a swap area" },
		{ 4086, 10, "SWAP-SPACE", "a swap area" },
	};
	uint8_t *buf;
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	if (what && len)
		what[0] = '\0';
	if (!path || !strncmp(path, DEV_MEM_PREFIX, strlen(DEV_MEM_PREFIX)) ||
	    rawio_dev_is_nbd_uri(path))
		return 0;
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISBLK(st.st_mode) && dev_mounted(st.st_rdev, what, len))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = calloc(1, 65600 + 8);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, buf, 65600 + 8, 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if ((size_t)n < sigs[i].off + sigs[i].n ||
		    memcmp(buf + sigs[i].off, sigs[i].magic, sigs[i].n))
			continue;
		snprintf(what, len, "%s", sigs[i].name);
		ret = 1;
		break;
	}
out:
	free(buf);
	close(fd);
	return ret;
}

bool rawio_dev_same_path(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!a || !b || stat(a, &sa) || stat(b, &sb))
		return false;
	if (S_ISBLK(sa.st_mode) || S_ISBLK(sb.st_mode))
		return S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void rawio_dev_close(struct rawio_dev *dev)
{
	if (!dev)
		return;
	mem_dev_free(dev->md);
	if (dev->info.kind == RAWIO_DEV_RBD)
		dev_rbd_close(dev->rbd);
	if (dev->mem)
		munmap(dev->mem, dev->mem_len);
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
}

int rawio_dev_lock(struct rawio_dev *dev, unsigned how, int lock_wait_ms, char *errbuf,
		   size_t errbuf_len)
{
	int wait_ms = lock_wait_ms == 0	 ? RAWIO_DEV_LOCK_WAIT_DEFAULT_MS
		      : lock_wait_ms < 0 ? 0
					 : lock_wait_ms;
	struct stat st;
	int ret;

	if (!dev || (how != RAWIO_DEV_LOCK_EX && how != RAWIO_DEV_LOCK_SH))
		return -EINVAL;
	if (dev->fd < 0 || dev->lock == RAWIO_DEV_LOCK_EX || dev->lock == how)
		return 0;
	if (fstat(dev->fd, &st))
		return -errno;
	ret = dev_flock(dev->fd, how, rawio_now_ns() + (uint64_t)wait_ms * 1000000u);
	if (ret == -EBUSY)
		return dev_lock_busy(dev->info.path, &st, wait_ms, errbuf, errbuf_len);
	if (ret) {
		errbuf_set(errbuf, errbuf_len, "%s: cannot lock: %s", dev->info.path,
			   rawio_strerror(ret));
		return ret;
	}
	dev->lock = how;
	return 1;
}

void rawio_dev_unlock(struct rawio_dev *dev)
{
	if (!dev || dev->fd < 0 || !dev->lock)
		return;
	flock(dev->fd, LOCK_UN);
	dev->lock = 0;
}

const struct rawio_dev_info *rawio_dev_info(const struct rawio_dev *dev)
{
	return dev ? &dev->info : NULL;
}

int rawio_dev_fd(const struct rawio_dev *dev)
{
	return dev ? dev->fd : -1;
}

void *rawio_dev_mem(const struct rawio_dev *dev)
{
	return dev ? dev->mem : NULL;
}

int rawio_dev_describe(const char *path, struct rawio_dev_info *info)
{
	struct stat st;
	struct rawio_mem_opts mem;
	bool dio_ok;
	int fd, dfd, ret;

	if (!path || !*path || !info)
		return -EINVAL;
	if (strlen(path) >= sizeof(info->path))
		return -ENAMETOOLONG;
	ret = rawio_mem_opts_parse(path, &mem, NULL, 0);
	if (ret < 0)
		return ret;
	if (ret == 1)
		return dev_mem_info(info, mem.size, mem.block_size);
	if (rawio_dev_is_nbd_uri(path)) {
		dev_info_init(info, path);
		info->kind = RAWIO_DEV_NBD;
		return dev_nbd_probe(path, info, NULL, 0);
	}
	if (rawio_dev_is_rbd_path(path)) {
		dev_info_init(info, path);
		info->kind = RAWIO_DEV_RBD;
		ret = dev_rbd_connect(path, info, RAWIO_DEV_RDONLY, NULL, 0, NULL);
		info->read_only = false;
		return ret;
	}

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	dev_info_init(info, path);
	/* A descriptor for the ioctls; without read permission, describe from the path. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && fstat(fd, &st)) {
		ret = -errno;
		goto close_fd;
	}
	ret = dev_discover(info, fd, &st, &dio_ok);
	if (ret)
		goto close_fd;
	/* direct: does this path accept O_DIRECT? Ask open(2) itself. */
	info->direct = false;
	if (dio_ok) {
		dfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_DIRECT);
		if (dfd >= 0) {
			info->direct = true;
			close(dfd);
		}
	}
close_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * X not a multiple of A: a mask where A is a power of two (every alignment a
 * kernel reports), a division otherwise. Every O_DIRECT request is checked
 * here, by the nbdkit plugin and again by the engine: six 64-bit divisions.
 */
static inline bool dev_misaligned(uint64_t x, uint64_t a)
{
	return a & (a - 1) ? x % a != 0 : (x & (a - 1)) != 0;
}

int rawio_dev_check_io(const struct rawio_dev *dev, const void *buf, uint64_t len, uint64_t off)
{
	const struct rawio_dev_info *info;

	if (!dev)
		return -EINVAL;
	info = &dev->info;
	if (!info->direct)
		return 0;
	if (info->mem_align > 1 && dev_misaligned((uintptr_t)buf, info->mem_align))
		return -EINVAL;
	if (info->offset_align > 1 &&
	    (dev_misaligned(len, info->offset_align) || dev_misaligned(off, info->offset_align)))
		return -EINVAL;
	return 0;
}

bool rawio_dev_fua_cheap(const struct rawio_dev_info *info)
{
	switch (info->kind) {
	case RAWIO_DEV_MEM:
		return true;
	case RAWIO_DEV_NBD:
		return info->nbd.can_fua;
	case RAWIO_DEV_FILE:
	case RAWIO_DEV_BLOCK:
		return info->fua == 1 || !strcmp(info->write_cache, "write through");
	case RAWIO_DEV_RBD:
		return false;
	}
	return false;
}

const char *rawio_dev_kind_name(enum rawio_dev_kind kind)
{
	switch (kind) {
	case RAWIO_DEV_FILE:
		return "file";
	case RAWIO_DEV_BLOCK:
		return "block";
	case RAWIO_DEV_MEM:
		return "mem";
	case RAWIO_DEV_NBD:
		return "nbd";
	case RAWIO_DEV_RBD:
		return "rbd";
	}
	return "unknown";
}

const char *rawio_align_source_name(enum rawio_align_source src)
{
	switch (src) {
	case RAWIO_ALIGN_STATX:
		return "statx";
	case RAWIO_ALIGN_BLKSSZGET:
		return "blksszget";
	case RAWIO_ALIGN_XFS_DIOINFO:
		return "xfs_dioinfo";
	case RAWIO_ALIGN_SYSFS:
		return "sysfs";
	case RAWIO_ALIGN_MEM:
		return "mem";
	case RAWIO_ALIGN_GUESS:
		return "guess";
	case RAWIO_ALIGN_BUFFERED:
		return "buffered";
	case RAWIO_ALIGN_NBD:
		return "nbd";
	case RAWIO_ALIGN_RBD:
		return "rbd";
	}
	return "unknown";
}

/* LEN bytes rounded up to ALIGN, aligned to it; zero-filled if ZERO. */
static void *dev_buf_alloc(size_t len, size_t align, bool zero)
{
	void *buf;

	if (!align)
		align = 4096;
	if (!dev_is_pow2(align))
		return NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (!len)
		len = align;
	if (len > SIZE_MAX - (align - 1))
		return NULL;
	len = (len + align - 1) & ~(align - 1);
	if (posix_memalign(&buf, align, len))
		return NULL;
	if (zero)
		memset(buf, 0, len);
	return buf;
}

void *rawio_buf_alloc(size_t len, size_t align)
{
	return dev_buf_alloc(len, align, true);
}

void *rawio_buf_alloc_uninit(size_t len, size_t align)
{
	return dev_buf_alloc(len, align, false);
}

void *rawio_dev_buf_alloc(const struct rawio_dev *dev, size_t len)
{
	size_t unit;

	if (!dev)
		return NULL;
	unit = dev->info.offset_align > 1 ? dev->info.offset_align : 1;
	if (len % unit) {
		if (len > SIZE_MAX - unit)
			return NULL;
		len += unit - len % unit;
	}
	/*
	 * At least page-aligned: ext4 treats a direct write from a buffer that is
	 * not aligned to its block size as unaligned and does it synchronously
	 * (rawio fsqual's fill_bs_qd3_memalign row), whatever mem_align allows.
	 */
	return rawio_buf_alloc(len, dev->info.mem_align > 4096 ? dev->info.mem_align : 4096);
}

void rawio_buf_free(void *buf)
{
	free(buf);
}
