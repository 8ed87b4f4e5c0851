/* SPDX-License-Identifier: MIT */
/*
 * dev: open a file or block device for direct I/O and describe it.
 *
 * A device is opened O_DIRECT unless the caller asks for buffered I/O. On
 * open, rawio discovers everything an engine needs to issue I/O that the
 * kernel accepts (size, block sizes, O_DIRECT memory and offset alignment)
 * and what a scheduler or a qualifier wants to know (rotational, write cache,
 * queue limits, filesystem traits).
 *
 * Alignment is discovered in this order, and info.align_source says which
 * answered: statx(STATX_DIOALIGN) where the kernel and filesystem answer;
 * BLKSSZGET for block devices; XFS_IOC_DIOINFO on XFS; the logical block size
 * of the file's disk read from /sys/dev/block/MAJ:MIN (walking slaves/ for
 * stacked devices and from a partition up to its disk); 4096 as a last resort
 * (align_source "guess").
 *
 * A RAM device ("mem:SIZE", see rawio_dev_open_mem) has no file descriptor;
 * only the mem engine can drive it.
 *
 * An NBD export is named by a URI, as libnbd parses it (nbd_connect_uri):
 * "nbd://HOST[:PORT]/EXPORT" or "nbd+unix:///EXPORT?socket=PATH" (also nbds,
 * nbds+unix, nbd+vsock). Opening one connects, asks the server for the size,
 * block sizes and flags (info.nbd), and disconnects: every engine context
 * opens its own connections. It has no file descriptor; only the nbd engine
 * drives it (rawio_engine_default() picks it). Offsets and lengths must be
 * multiples of the server's minimum block size (at least 512), buffers
 * 512-aligned (rawio's rule, as for every device).
 *
 * Thread-safety: calls that take no device (open, open_mem, describe,
 * rawio_buf_alloc / rawio_buf_free, rawio_parse_size, the name functions)
 * share no state and may run from any number of threads. On one device, the
 * calls that only read what open found (info, fd, mem, check_io,
 * rawio_dev_buf_alloc) may run from any number of threads at once, and any
 * number of engine contexts on any threads may drive one device (a pool's
 * contexts do). Two calls change a device: rawio_dev_set_fs_traits rewrites
 * info.fs (engines read it at queue time: call it with no I/O being queued)
 * and rawio_dev_extend rewrites info.size (I/O may be in flight, but no
 * other extend or set_fs_traits may run on DEV, and a thread reading
 * info.size meanwhile may see the old value). rawio_dev_close once, after
 * every engine, pool, store or cache using DEV is closed and no other call
 * on it runs.
 *
 * A Ceph RBD image is named as qemu and fio users know it (docs/remote.md):
 *   rbd:POOL/[NAMESPACE/]IMAGE[@SNAP][:conf=PATH][:id=NAME][:KEY=VALUE]...
 * conf is a ceph.conf (default: $CEPH_CONF, then /etc/ceph/ceph.conf), id the
 * cephx client name without "client." (default admin); every other KEY=VALUE is
 * a librados/librbd option (rados_conf_set), as in qemu; "\:" is a literal
 * colon. Opening one connects to the cluster and keeps that connection for the
 * device's life (closed by rawio_dev_close); the rbd engine contexts on it share
 * one handle on the image (opened by the first, closed by the last), so they
 * never take the image's exclusive lock from each other. It has no file descriptor: only the rbd engine
 * drives it; an engine that needs a descriptor, asked for by name, is refused
 * (-EINVAL from rawio_engine_open), and "auto" and rawio_engine_default pick
 * rbd. No alignment is needed (offset_align and
 * mem_align 1); the efficient unit is the object size (info.rbd.object_size).
 * A request that the cluster does not answer fails with -ETIMEDOUT after
 * rados_osd_op_timeout seconds: 60 unless the path or the conf file sets it
 * (":rados_osd_op_timeout=0" waits forever, as librbd does by default).
 * A snapshot is read-only.
 */
#ifndef RAWIO_DEV_H
#define RAWIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum rawio_dev_kind {
	RAWIO_DEV_FILE = 1, /* regular file on a filesystem */
	RAWIO_DEV_BLOCK,    /* block device node */
	RAWIO_DEV_MEM,	    /* RAM device owned by rawio */
	RAWIO_DEV_NBD,	    /* an NBD export, named by a URI (nbd://, nbd+unix://) */
	RAWIO_DEV_RBD,	    /* a Ceph RBD image, named rbd:POOL/IMAGE[@SNAP][:opts] */
};

/* Where the O_DIRECT alignment came from. */
enum rawio_align_source {
	RAWIO_ALIGN_STATX = 1,	 /* statx STATX_DIOALIGN */
	RAWIO_ALIGN_BLKSSZGET,	 /* ioctl on the block device itself */
	RAWIO_ALIGN_XFS_DIOINFO, /* XFS_IOC_DIOINFO */
	RAWIO_ALIGN_SYSFS,	 /* logical block size of the file's disk, from sysfs */
	RAWIO_ALIGN_MEM,	 /* RAM device: whatever it was created with */
	RAWIO_ALIGN_GUESS,	 /* nothing answered: 4096 */
	RAWIO_ALIGN_BUFFERED,	 /* opened buffered: no alignment required */
	RAWIO_ALIGN_NBD,	 /* an NBD server's minimum block size (at least 512) */
	RAWIO_ALIGN_RBD,	 /* a Ceph RBD image: librbd takes any offset, length, buffer */
};

/*
 * What an NBD server said about its export (kind NBD only): the block size
 * constraints (0 where the server did not say) and the transmission flags.
 */
struct rawio_nbd_info {
	uint32_t min_block;  /* nbd_get_block_size(MINIMUM) */
	uint32_t pref_block; /* PREFERRED */
	uint32_t max_block;  /* MAXIMUM: larger requests are split by the nbd engine */
	bool server_read_only;
	bool can_flush;
	bool can_fua;
	bool can_trim;
	bool can_zero;
	bool can_multi_conn; /* flushes cover every connection: the engine may open several */
	bool offline; /* opened unreached (opts.nbd_offline_size): the fields above are guesses,
		       * the nbd engine learns the server's own when it connects */
	char export_name[256];
};

/* What the cluster says about an RBD image (kind RBD only; zeroes otherwise). */
struct rawio_rbd_info {
	char pool[128];
	char pool_ns[128]; /* RADOS namespace; "" for the default one */
	char image[128];
	char snap[128];	      /* "" for the image itself */
	char client[64];      /* cephx client name, "client.admin" */
	char fsid[40];	      /* the cluster's fsid */
	uint64_t object_size; /* bytes; the efficient unit of I/O */
	uint64_t stripe_unit;
	uint64_t stripe_count;
	uint64_t features;	   /* RBD_FEATURE_* bits */
	char feature_names[160];   /* "layering,exclusive-lock,..." */
	unsigned osd_op_timeout_s; /* rados_osd_op_timeout in force; 0: wait forever */
	bool cache;		   /* librbd's client cache (rbd_cache) is on */
	bool cache_writeback;	   /* ... and acknowledges writes before the OSDs do */
	char cache_mode[16];	   /* rbd_persistent_cache_mode: "disabled", "ssd", "rwl" */
};

/*
 * Filesystem traits, Seastar's table (seastar/src/core/reactor.cc fs_info),
 * decided by filesystem type and kernel version. A later qualification run
 * (rawio fsqual) may refine them.
 */
struct rawio_fs_traits {
	bool append_challenged;	     /* size-changing writes may block io_submit */
	unsigned append_concurrency; /* appends that may run at once without blocking */
	bool fsync_is_exclusive;     /* an in-flight fsync blocks later submissions */
	bool nowait_reads;	     /* RWF_NOWAIT works for O_DIRECT reads */
	bool nowait_writes;	     /* RWF_NOWAIT works for O_DIRECT writes */
	bool dio_never_blocks;	     /* tmpfs: O_DIRECT is a memcpy; qualification means nothing */
};

struct rawio_dev_info {
	char path[4096];
	enum rawio_dev_kind kind;
	bool direct; /* opened with O_DIRECT (RAM device: true, the
					  * same alignment rules apply) */
	bool read_only;
	uint64_t size;			      /* bytes */
	uint32_t logical_block_size;	      /* bytes; for files: of the underlying disk */
	uint32_t physical_block_size;	      /* bytes */
	uint32_t mem_align;		      /* O_DIRECT buffer address alignment */
	uint32_t offset_align;		      /* O_DIRECT file offset and length alignment */
	enum rawio_align_source align_source; /* BUFFERED: both aligns are 1 */

	/* Queue properties of the disk (for files: the disk under the filesystem).
	 * -1 or "" where sysfs does not say. */
	char disk[64]; /* e.g. "vda", "loop0", "zram0"; "" if none */
	uint32_t disk_major, disk_minor;
	int rotational;	      /* 1, 0, or -1 unknown */
	char write_cache[32]; /* "write back", "write through", "" */
	int fua;	      /* queue/fua: 1 the disk does FUA itself, 0 the kernel emulates it
			       * with a flush after the write, -1 unknown (not a sysfs disk) */
	int nr_requests;
	int max_sectors_kb;
	int max_hw_sectors_kb;
	char scheduler[32]; /* active scheduler, e.g. "none", "mq-deadline" */
	int nr_hw_queues;   /* entries in /sys/block/DISK/mq, -1 unknown */
	bool io_poll;	    /* the disk has poll queues (queue/io_poll = 1) */
	bool discard;	    /* queue/discard_max_bytes > 0 (or fs punch-hole) */

	/* Filesystem (kind FILE only; "" / 0 otherwise). */
	char fs_type[32];	/* "ext4", "xfs", "btrfs", "tmpfs", ... */
	uint64_t fs_magic;	/* statfs f_type */
	uint32_t fs_block_size; /* statfs f_bsize */
	struct rawio_fs_traits fs;

	char kernel_release[64]; /* uname -r */

	struct rawio_nbd_info nbd; /* kind NBD only; zeroes otherwise */
	struct rawio_rbd_info rbd; /* kind RBD only; zeroes otherwise */
};

/* Open flags. */
#define RAWIO_DEV_RDONLY   (1u << 0) /* open read-only */
#define RAWIO_DEV_BUFFERED (1u << 1) /* no O_DIRECT: go through the page cache */
#define RAWIO_DEV_CREATE   (1u << 2) /* create a regular file of opts.create_size if absent */
#define RAWIO_DEV_DSYNC	   (1u << 3) /* O_DSYNC: every write is durable on completion */
#define RAWIO_DEV_EXCL	   (1u << 4) /* O_EXCL on block devices: fail if mounted or in use */
#define RAWIO_DEV_LOCK_EX  (1u << 5) /* own the device: exclusive lock for the handle's life */
#define RAWIO_DEV_LOCK_SH  (1u << 6) /* read beside other readers: shared lock, no writer */
#define RAWIO_DEV_PREFAULT (1u << 7) /* mem: without prefault= in the path: prefault=1 */

/* How long a locked open waits for the holder by default (lock_wait_ms 0). */
#define RAWIO_DEV_LOCK_WAIT_DEFAULT_MS 5000

struct rawio_dev_opts {
	size_t size;	      /* sizeof(struct rawio_dev_opts), for growth */
	unsigned flags;	      /* RAWIO_DEV_* */
	uint64_t create_size; /* with RAWIO_DEV_CREATE: size of a new or shorter file */
	char *errbuf;	      /* optional: a one-line reason on failure */
	size_t errbuf_len;
	int lock_wait_ms; /* with LOCK_EX/SH: 0 waits RAWIO_DEV_LOCK_WAIT_DEFAULT_MS, < 0 not at all */
	/* NBD: when the server cannot be reached, open anyway as an export of this many bytes
	 * (info.nbd.offline; the engine connects when the server is back and insists on at
	 * least this size). 0: fail as usual. */
	uint64_t nbd_offline_size;
};

struct rawio_dev;

/*
 * rawio_dev_open - open PATH for I/O and discover its properties.
 * @out:  receives the device on success.
 * @path: regular file or block device node; "mem:SIZE[k|m|g][,opt=val...]"
 *        opens a new RAM device (options: struct rawio_mem_opts above); an NBD
 *        URI opens a remote export and "rbd:..." a Ceph RBD image
 *        (RAWIO_DEV_CREATE, BUFFERED, DSYNC and EXCL do not apply to them and are
 *        ignored).
 * @opts: may be NULL (O_DIRECT, read-write, no create).
 *
 * Errors: -ENOENT and other open(2) errors; -EINVAL when the filesystem refuses
 * O_DIRECT (errbuf names the path and the filesystem) or a mem: option is
 * malformed (errbuf names the option); -ENOTBLK when PATH is neither a regular
 * file nor a block device; -ENOMEM. NBD: -ENOTCONN (or the connect's errno)
 * when the server cannot be reached or refuses the export, -EROFS when a
 * read-write open meets a read-only export, -EOPNOTSUPP when libnbd was built
 * without URI support. RBD: the cluster's errors (-ENOENT no such pool or
 * image, -ETIMEDOUT no answer in time, -EACCES or -EPERM refused by cephx,
 * -EINVAL a malformed path or unknown option), -EROFS for a snapshot opened
 * read-write, -EOPNOTSUPP when rawio was built without librbd's headers or
 * librados or librbd cannot be loaded (they are loaded by the first rbd: open).
 * On failure, errbuf (if given) holds a line naming the path and the cause.
 *
 * Ownership: RAWIO_DEV_LOCK_EX takes flock(LOCK_EX) on the opened descriptor
 * (an open file description of its own, so two handles in one process
 * exclude each other too) and, on a block device, also opens it O_EXCL (which
 * refuses a mounted one); RAWIO_DEV_LOCK_SH takes flock(LOCK_SH). The lock
 * lasts until rawio_dev_close. When another holder has it, the open retries
 * for opts.lock_wait_ms and then fails with -EBUSY, errbuf naming the
 * holder's pid (from /proc/locks) where it can be found. Locks are advisory:
 * they exclude rawio handles (and flock(1) users), not other writers. RAM
 * devices and NBD exports take no lock (a RAM device belongs to its process;
 * an NBD server arbitrates its own clients).
 */
int rawio_dev_open(struct rawio_dev **out, const char *path, const struct rawio_dev_opts *opts);

/*
 * rawio_dev_lock - make DEV's handle own the device after the fact, with the
 * flock that RAWIO_DEV_LOCK_EX or RAWIO_DEV_LOCK_SH (HOW) takes at open (not
 * the O_EXCL that LOCK_EX adds on a block device: that only an open can do):
 * for a library layer (the cache) that must own devices its caller opened. Returns 1
 * when it took the lock now (undo with rawio_dev_unlock), 0 when the handle
 * already holds it or a stronger one (a shared lock is never downgraded) or the
 * device takes no locks (RAM, NBD, RBD), -EBUSY when another holder kept it for
 * LOCK_WAIT_MS (0: RAWIO_DEV_LOCK_WAIT_DEFAULT_MS, < 0: not at all; ERRBUF
 * names the path and the holder's pid), -EINVAL for another HOW, flock's
 * errors. Upgrading a shared lock to an exclusive one is not atomic (flock).
 * Not thread-safe against other calls on DEV.
 */
int rawio_dev_lock(struct rawio_dev *dev, unsigned how, int lock_wait_ms, char *errbuf,
		   size_t errbuf_len);

/* rawio_dev_unlock - drop the lock rawio_dev_lock returned 1 for (back to none). */
void rawio_dev_unlock(struct rawio_dev *dev);

/*
 * rawio_dev_open_mem - create a RAM device of SIZE bytes (a multiple of
 * BLOCK_SIZE, itself a power of two from 512 to 65536), zero-filled.
 * Errors: -EINVAL, -ENOMEM.
 */
int rawio_dev_open_mem(struct rawio_dev **out, uint64_t size, uint32_t block_size);

/*
 * The RAM device's options, modelled on null_blk's module parameters
 * (drivers/block/null_blk): "mem:SIZE[,opt=val...]", for example
 * "mem:1G,queues=4,depth=64,complete=timer,lat=20us". rawio_dev_open and
 * rawio_dev_describe accept that syntax wherever a path is accepted.
 *
 *   queues=N     hardware queues, 1..256 (submit_queues; default 1). Each has
 *                its own lock and a tag set of DEPTH tags; a submitter picks
 *                the queue of the CPU it runs on (cpu % N, blk-mq's cpu ->
 *                hctx map) unless its engine context names a fixed one
 *                (rawio_engine_opts.mem_queue).
 *   depth=N      tags per queue, 1..65536 (hw_queue_depth; default 64). A
 *                submitter that finds none free waits for one (counted).
 *   mode=mq|sq   sq: one queue behind one lock, the whole dispatch under it
 *                (queue_mode; the pre-blk-mq single queue). Default mq.
 *   complete=inline|thread|timer  (irqmode none/softirq/timer): in place, by
 *                one completion thread per queue, or LAT after dispatch.
 *   lat=TIME     timer latency (completion_nsec; default 10us): 500ns, 20us, 1ms.
 *   backed=0|1   0: a null device, no data kept (memory_backed; default 1).
 *   bw=SIZE      bytes per second the device moves (mbps); 0 = unlimited.
 *   iops=N       requests per second; 0 = unlimited.
 *   badblocks=A-B[:C-D...]  byte ranges [A, B) whose reads and writes fail
 *                with EIO (at most 64 ranges).
 *   cache=SIZE   a volatile write cache of SIZE bytes (cache_size): writes
 *                stay in it until a flush (fsync, fdatasync) or FUA, or
 *                until it overflows; rawio_dev_mem_cut() loses what is left.
 *   bs=N         logical block size, 512..65536 (default 512).
 *   prefault=0|1 1: allocate and touch every page at open, on huge pages where
 *                the kernel has them (a benchmark must not measure page faults;
 *                on a shadow-paged VM that costs seconds per GiB of RAM never
 *                touched before). 0: pages come on first write, as brd's do, and
 *                reads of unwritten blocks return zeroes. Default 0, or 1 when
 *                opened with RAWIO_DEV_PREFAULT (rawio bench does).
 */
enum rawio_mem_mode {
	RAWIO_MEM_MQ = 0,
	RAWIO_MEM_SQ,
};

enum rawio_mem_complete {
	RAWIO_MEM_COMPLETE_INLINE = 0,
	RAWIO_MEM_COMPLETE_THREAD,
	RAWIO_MEM_COMPLETE_TIMER,
};

#define RAWIO_MEM_MAX_QUEUES	256u
#define RAWIO_MEM_MAX_BADBLOCKS 64u

struct rawio_mem_range {
	uint64_t off, len; /* bytes */
};

struct rawio_mem_opts {
	uint64_t size;	     /* bytes */
	uint32_t block_size; /* bytes */
	unsigned queues, depth;
	enum rawio_mem_mode mode;
	enum rawio_mem_complete complete;
	uint64_t lat_ns; /* complete=timer */
	bool backed, prefault;
	bool prefault_set; /* the path said prefault= */
	uint64_t bw;	   /* bytes per second, 0: no limit */
	uint64_t iops;	   /* 0: no limit */
	uint64_t cache;	   /* bytes of volatile write cache, 0: none */
	unsigned nr_badblocks;
	struct rawio_mem_range badblocks[RAWIO_MEM_MAX_BADBLOCKS];
};

/*
 * rawio_mem_opts_parse - parse "mem:SIZE[,opt=val...]" into O (defaults
 * filled in). Returns 1 when PATH is a mem: path and parsed, 0 when PATH is not
 * a mem: path, -EINVAL when it is malformed: ERRBUF (may be NULL) then names
 * the option, e.g. "mem: queues=0: must be 1..256".
 */
int rawio_mem_opts_parse(const char *path, struct rawio_mem_opts *o, char *errbuf, size_t len);

/* rawio_dev_open_mem with options (O from rawio_mem_opts_parse). Errors: -EINVAL, -ENOMEM. */
int rawio_dev_open_mem_opts(struct rawio_dev **out, const struct rawio_mem_opts *o);

/* The options a RAM device was opened with; NULL for other devices. */
const struct rawio_mem_opts *rawio_dev_mem_opts(const struct rawio_dev *dev);

/*
 * Per hardware queue counters of a RAM device, since open (or the last
 * rawio_dev_mem_reset_stats). A request is dispatched when it took a tag and
 * went to the queue, and completed when the device finished it (before the
 * caller reaps it). busy_ns: time the queue had at least one request in
 * flight (inline completion: from submission to completion, under the lock).
 */
struct rawio_mem_queue_stat {
	uint64_t dispatched, completed;
	uint64_t bytes_dispatched, bytes_completed;
	uint64_t tag_waits;    /* submitters that found no free tag and waited */
	uint64_t max_inflight; /* most tags held at once */
	uint64_t inflight;     /* tags held now */
	uint64_t busy_ns;
};

/* Number of hardware queues (0 for a device that is not a RAM device). */
unsigned rawio_dev_mem_nr_queues(const struct rawio_dev *dev);

/* Counters of queue Q. Thread-safe. Errors: -EINVAL (not a RAM device, Q out of range). */
int rawio_dev_mem_queue_stat(struct rawio_dev *dev, unsigned q, struct rawio_mem_queue_stat *st);

/* Zero every queue's counters (max_inflight restarts from what is in flight). Thread-safe. */
void rawio_dev_mem_reset_stats(struct rawio_dev *dev);

/*
 * rawio_dev_mem_cut - a simulated power cut: every write still in the
 * volatile cache (cache=SIZE) is lost; what reads return afterwards is what
 * was flushed. The device stays usable. Returns the number of blocks lost, or
 * -EINVAL (not a RAM device). Do not call with I/O in flight.
 */
int64_t rawio_dev_mem_cut(struct rawio_dev *dev);

/* Close and free. NULL is a no-op. */
void rawio_dev_close(struct rawio_dev *dev);

/* Properties, valid until close. */
const struct rawio_dev_info *rawio_dev_info(const struct rawio_dev *dev);

/* The file descriptor, or -1 for a RAM device. */
int rawio_dev_fd(const struct rawio_dev *dev);

/* Backing memory of a RAM device, NULL otherwise. */
void *rawio_dev_mem(const struct rawio_dev *dev);

/*
 * rawio_dev_describe - fill INFO for PATH without opening it for I/O
 * (no O_DIRECT needed). Useful to explain why an open failed.
 * INFO is described as rawio_dev_open would with O_DIRECT, except: direct
 * says whether PATH accepts O_DIRECT (an O_RDONLY|O_DIRECT open succeeds and
 * statx does not report zero alignment), and read_only is false. Without the
 * right to open PATH, what sysfs and statx(2) say is still filled in.
 * "mem:SIZE" describes the RAM device that rawio_dev_open would create.
 * Errors: -ENOENT and other stat(2) errors; -ENOTBLK; -EINVAL.
 */
int rawio_dev_describe(const char *path, struct rawio_dev_info *info);

/*
 * rawio_dev_check_io - would an I/O of LEN bytes at OFF from BUF be accepted
 * by this device's direct I/O rules? Returns 0 or -EINVAL.
 */
int rawio_dev_check_io(const struct rawio_dev *dev, const void *buf, uint64_t len, uint64_t off);

/*
 * rawio_dev_set_fs_traits - replace the filesystem traits of an open file
 * (typically with what a qualification measured: rawio_fsqual_traits in
 * <rawio/fsqual.h>). Engine contexts on DEV read info.fs at queue time, so the
 * change applies to the next request; call it with no I/O being queued
 * concurrently. Errors: -EINVAL (DEV is not a regular file, or NULL).
 */
int rawio_dev_set_fs_traits(struct rawio_dev *dev, const struct rawio_fs_traits *traits);

/*
 * rawio_dev_extend - grow a regular file ahead of appends, so that writes up
 * to END land inside the file instead of extending it.
 *
 * On an append-challenged filesystem (info.fs.append_challenged: ext4, xfs,
 * btrfs) a direct write that changes the file size can sleep in io_submit or
 * be punted to an io_uring worker; a write into a range the file already
 * covers does not (rawio fsqual's append and fill rows measure both). This is
 * Seastar's append_challenged remedy: extend ahead, in steps, from a thread
 * that may block, and trim to the logical size when done.
 *
 * When the file is shorter than END, it grows to END rounded up to STEP (0
 * means 1 MiB; a power of two, at least the offset alignment) by
 * fallocate(2), which also reserves the space: unwritten extents, into which
 * direct writes neither sleep in io_submit nor get punted to io-wq on ext4
 * (rawio fsqual's prealloc row), where writes into holes can (its fill rows).
 * Where the filesystem has no fallocate, ftruncate(2) (holes). info.size
 * follows the file. Nothing is done when the file already reaches END.
 *
 * This call may block on filesystem metadata (and on I/O in flight, which
 * some filesystems drain before a size change): never call it between queue
 * and reap on a thread that must not stall. Not thread-safe against another
 * rawio_dev_extend on DEV.
 *
 * Errors: -EINVAL (not a regular file, STEP not a power of two, END past
 * what off_t holds), -EBADF (opened read-only), and fallocate(2)'s and
 * ftruncate(2)'s (-ENOSPC, -EFBIG, -EIO, ...).
 */
int rawio_dev_extend(struct rawio_dev *dev, uint64_t end, uint64_t step);

/*
 * rawio_dev_same_path - do paths A and B name the same device: one inode (a
 * file and its hard links or symlinks), or block device nodes of one device
 * number? False when either cannot be stat'ed (absent, mem:, an NBD URI).
 * For refusing to write a command's output over its own input, or to use one
 * device twice. (A partition and its whole disk are not detected.)
 */
bool rawio_dev_same_path(const char *a, const char *b);

/*
 * rawio_dev_probe_data - does PATH hold data that writing over it would
 * destroy? Looks for a rawio store or cache superblock (offset 0), an
 * ext2/3/4 (magic at 1080), XFS (0), btrfs (65600) or swap signature, and, for
 * a block device, a mounted filesystem (/proc/self/mountinfo). Returns 1 with
 * a description in WHAT ("a rawio store", "an ext4 filesystem", "mounted at
 * /mnt"), 0 when none was found (also for mem: and NBD URIs, and for a path
 * that does not exist), or -errno when PATH cannot be read. Every command that
 * formats or benchmarks writes over a device asks this first (unless forced).
 */
int rawio_dev_probe_data(const char *path, char *what, size_t len);

/* Is PATH an NBD URI (nbd:// nbds:// nbd+unix:// nbds+unix:// nbd+vsock://)? */
bool rawio_dev_is_nbd_uri(const char *path);
/* Is PATH a Ceph RBD image ("rbd:...")? True even where rawio was built without librbd. */
bool rawio_dev_is_rbd_path(const char *path);

/*
 * Is a FUA write about as cheap as a plain write on this device, so that a
 * durable write should carry FUA rather than be followed by a flush? True for
 * a RAM device, an NBD export that takes FUA, and a disk (or the disk under a
 * file) that does FUA itself or has no volatile write cache. False where the
 * kernel or librbd makes FUA a write and a flush anyway (a write-back disk
 * without FUA of its own, an RBD image) and where sysfs does not say: there
 * one flush after several writes is cheaper (docs/perf.md, "Puts at the
 * limit" and "Commits in flight").
 */
bool rawio_dev_fua_cheap(const struct rawio_dev_info *info);

/* Names for the enums, for printing. */
const char *rawio_dev_kind_name(enum rawio_dev_kind kind);
const char *rawio_align_source_name(enum rawio_align_source src);

/*
 * Aligned buffers. rawio_buf_alloc returns LEN bytes (rounded up to ALIGN)
 * aligned to ALIGN (a power of two; 0 means 4096), zero-filled, or NULL.
 * rawio_dev_buf_alloc aligns to the device's mem_align but at least to 4096
 * (ext4 does direct writes from less aligned buffers synchronously), and
 * rounds LEN up to its offset_align. rawio_buf_alloc_uninit is rawio_buf_alloc
 * without the zero-fill, for a buffer whose every byte is written (read into)
 * before it is read: its pages are not touched until then. Free all three with
 * rawio_buf_free (NULL is a no-op).
 */
void *rawio_buf_alloc(size_t len, size_t align);
void *rawio_buf_alloc_uninit(size_t len, size_t align);
void *rawio_dev_buf_alloc(const struct rawio_dev *dev, size_t len);
void rawio_buf_free(void *buf);

/* Parse "4096", "4k", "64M", "2g", "1T" into bytes. Returns 0 or -EINVAL. */
int rawio_parse_size(const char *s, uint64_t *out);

/*
 * The filesystem verdict cache: what a qualification (rawio fsqual) found, kept
 * per filesystem so that rawio_engine_choose() (engine "auto") can use it
 * without running fsqual again. One small text file per filesystem and kernel:
 *   $XDG_CACHE_HOME/rawio/fsqual/MAGIC-MAJ:MIN-KERNEL   (XDG_CACHE_HOME
 *   defaults to $HOME/.cache; without HOME: /var/cache/rawio/fsqual/...)
 * where MAGIC is the filesystem's statfs type in hex (ef53: ext4), MAJ:MIN
 * its st_dev and KERNEL the release (uname -r): a new kernel or a different
 * filesystem has no entry. Each line holds one engine's answers: "aio reads=ok
 * writes=stall" (reads: the read row; writes: the overwrite row at dma qd1;
 * "stall": BAD, or punted to io-wq). fsqual writes it
 * (rawio_fsqual_cache_store); both functions below are thread-safe.
 */
struct rawio_fs_verdicts {
	bool have_aio, have_uring; /* a line for the engine was found */
	bool aio_reads_ok, aio_writes_ok;
	bool uring_reads_ok, uring_writes_ok;
};

/* rawio_dev_fs_verdicts_path - the cache file for the filesystem holding PATH. 0 or -errno. */
int rawio_dev_fs_verdicts_path(const char *path, char *buf, size_t len);

/* rawio_dev_fs_verdicts_load - the verdicts for the filesystem holding PATH. 0, -ENOENT
 * (nothing cached), or -errno. */
int rawio_dev_fs_verdicts_load(const char *path, struct rawio_fs_verdicts *v);

#endif
