/* SPDX-License-Identifier: MIT */
/* dev: private interfaces between dev.c, sysfs.c and fs.c. */
#ifndef RAWIO_DEV_IMPL_H
#define RAWIO_DEV_IMPL_H

#include <sys/types.h>

#include <rawio/dev.h>

struct dev_rbd; /* rbd.h */

struct rawio_dev {
	struct rawio_dev_info info;
	int fd;	   /* -1 for a RAM device */
	void *mem; /* RAM device backing, mmap'd; NULL otherwise */
	size_t mem_len;
	struct mem_dev *md;  /* RAM device: queues, cache, options (mem_dev.h); NULL otherwise */
	struct dev_rbd *rbd; /* kind RBD: the cluster connection (set only for that kind) */
	unsigned lock;	     /* RAWIO_DEV_LOCK_EX or _SH held on fd, 0 none */
};

/* Geometry of a RAM device of SIZE bytes (dev.c; used by mem.c). 0 or -EINVAL. */
int dev_mem_info(struct rawio_dev_info *info, uint64_t size, uint32_t block_size);

/* Free a RAM device's shared state (mem.c). */
void mem_dev_free(struct mem_dev *md);

/* What sysfs says about the disk behind a device number. */
struct sysfs_disk {
	uint64_t node_size;	     /* bytes of the device asked about (a partition: its own) */
	char name[64];		     /* the disk whose queue is reported ("vda", "loop0") */
	unsigned major, minor;	     /* of that disk */
	uint32_t logical_block_size; /* 0 where sysfs does not say */
	uint32_t physical_block_size;
	uint32_t dma_alignment; /* queue/dma_alignment + 1, 0 unknown */
	int rotational;
	char write_cache[32];
	int fua; /* queue/fua: 1, 0, -1 unknown */
	int nr_requests;
	int max_sectors_kb;
	int max_hw_sectors_kb;
	char scheduler[32];
	int nr_hw_queues;
	bool io_poll;
	bool discard;
};

/*
 * sysfs_disk_lookup - describe the disk behind device number DEVT, via
 * /sys/dev/block/MAJ:MIN: a partition is replaced by its disk, and a stacked
 * device (slaves/ not empty) by the devices under it.
 * Returns 0, or -ENOENT when sysfs has no such block device (tmpfs, btrfs
 * anonymous devices, no /sys).
 */
int sysfs_disk_lookup(dev_t devt, struct sysfs_disk *disk);

/* The same under another sysfs mount point ROOT (tests build fake trees). */
int sysfs_disk_lookup_at(const char *root, dev_t devt, struct sysfs_disk *disk);

/*
 * Fill fs_type (from mountinfo, else by magic), fs_magic and fs_block_size
 * for the file at FD (or PATH when FD < 0).
 */
int fs_identify(int fd, const char *path, dev_t st_dev, struct rawio_dev_info *info);

/* Seastar's traits for FS_TYPE on kernel RELEASE. */
void fs_traits_for(const char *fs_type, const char *release, struct rawio_fs_traits *traits);

/*
 * fs_mount_source - the block device the filesystem holding the file at FD
 * (or PATH when FD < 0) is mounted from, found in /proc/self/mountinfo by
 * mount ID (by ST_DEV on kernels before 5.8). For filesystems such as btrfs
 * whose st_dev is an anonymous device. Returns 0 and *DEVT, or -ENOENT.
 */
int fs_mount_source(int fd, const char *path, dev_t st_dev, dev_t *devt);

/* XFS_IOC_DIOINFO: 0 and the two alignments, or -errno (-ENOTTY off XFS). */
int fs_xfs_dioinfo(int fd, uint32_t *mem_align, uint32_t *offset_align);

/*
 * dev_nbd_probe - connect to the NBD export URI, fill INFO's size, block
 * sizes, alignment and info.nbd, disconnect. 0 or -errno with a line in ERRBUF.
 */
int dev_nbd_probe(const char *uri, struct rawio_dev_info *info, char *errbuf, size_t errlen);

/*
 * dev_rbd_connect - parse the RBD path, connect, fill INFO's size, geometry and
 * info.rbd. With KEEP, the connection stays open in *KEEP (dev_rbd_close);
 * without, it is closed. 0 or -errno with a line in ERRBUF (src/dev/rbd.c).
 */
int dev_rbd_connect(const char *path, struct rawio_dev_info *info, unsigned flags, char *errbuf,
		    size_t errlen, struct dev_rbd **keep);
void dev_rbd_close(struct dev_rbd *r);

#endif
