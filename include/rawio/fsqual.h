/* SPDX-License-Identifier: MIT */
/*
 * fsqual: does asynchronous direct I/O stay asynchronous on this filesystem?
 *
 * After ScyllaDB's fsqual. io_submit() (and, for io_uring, the inline issue
 * inside io_uring_enter()) may sleep for reasons that depend on the
 * filesystem, the kernel and the way the I/O is issued: writes that change
 * the file size, first writes into holes, sub-block writes, O_DSYNC. A
 * thread-per-core storage engine that does not know stalls its whole core.
 *
 * rawio_fsqual_run() creates an unlinked O_DIRECT file in a directory (a new
 * one per row: O_TMPFILE, or create + unlink where the filesystem has no
 * O_TMPFILE), drives it through a rawio engine ("aio" or "uring") with the
 * matrix of rows below, and for every row counts the voluntary context
 * switches of the submitting thread inside rawio_engine_commit() only (the
 * call that makes io_submit / io_uring_enter), per I/O:
 * GOOD below 0.1, else BAD. It also reports, per row, how much of the file
 * was in the page cache afterwards (mincore: direct I/O that silently went
 * buffered), completion latency, and for io_uring the io-wq workers of the
 * submitting thread (requests punted to a kernel worker: the submitter does
 * not block, but each costs latency and a worker's CPU time).
 *
 * The matrix (RAWIO_FSQUAL_ROW_*): "bs" is the filesystem block size, "dma"
 * the disk DMA alignment (the O_DIRECT offset alignment, often 512):
 *   append bs qd1, append bs qd3       size-changing writes past EOF
 *   fill bs qd3, fill bs qd7, fill dma qd1
 *                                      first writes into a file truncated to
 *                                      its final size beforehand (holes; the
 *                                      size does not change)
 *   overwrite dma qd1                  writes over data written and synced before
 *   overwrite dsync dma qd1 and qd3    the same with O_DSYNC
 *   read dma qd30                      reads of data written before
 *   nowait                             RWF_NOWAIT overwrites at bs, one at a
 *                                      time, nowait_gap_us apart; each EAGAIN
 *                                      is resubmitted without the flag (the
 *                                      engine core does it) and counted:
 *                                      GOOD when at most one.
 * Two rows beyond ScyllaDB's, for what rawio itself does:
 *   prealloc bs qd3                    first writes into a file fallocate()d to
 *                                      its final size (unwritten extents), as
 *                                      rawio_dev_extend() grows files; io_uring
 *                                      punts writes into holes, not these
 *                                      (SKIPPED without fallocate)
 *   fill bs qd3 memalign               fill bs qd3 again, from buffers aligned
 *                                      to the memory DMA alignment only (what
 *                                      the kernel accepts) instead of the page:
 *                                      ext4 counts the buffer address in its
 *                                      "unaligned I/O" test and then waits for
 *                                      the write inside the submit call.
 * Buffers are otherwise aligned to the filesystem block size (at least the
 * page), as ScyllaDB's fsqual and Seastar allocate them.
 * Offsets run sequentially through the file; the requests of one submission
 * are queued in a shuffled order, as ScyllaDB's fsqual does.
 *
 * Every row runs in a thread of its own, so that getrusage(RUSAGE_THREAD)
 * and the io-wq workers (named iou-wrk-TID after the thread that owns them)
 * belong to that row alone.
 *
 * On tmpfs (info.fs.dio_never_blocks) O_DIRECT is a memcpy that never sleeps:
 * rows run, but their verdict is RAWIO_FSQUAL_MEANINGLESS.
 *
 * A run that completes stores its verdicts in the cache below (best effort).
 *
 * Thread-safety: rawio_fsqual_run may run in several threads at once (each
 * with its own report); it creates and joins one thread per row.
 */
#ifndef RAWIO_FSQUAL_H
#define RAWIO_FSQUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/dev.h>

enum rawio_fsqual_kind {
	RAWIO_FSQUAL_APPEND = 1, /* writes past EOF on an empty file: the size changes */
	RAWIO_FSQUAL_FILL,	 /* first writes into a pre-truncated file (holes) */
	RAWIO_FSQUAL_OVERWRITE,	 /* writes over data written and synced before */
	RAWIO_FSQUAL_READ,	 /* reads of data written before */
	RAWIO_FSQUAL_NOWAIT,	 /* RWF_NOWAIT overwrites, spaced out; EAGAIN counted */
	RAWIO_FSQUAL_PREALLOC,	 /* first writes into a fallocate()d file (unwritten extents) */
};

enum rawio_fsqual_verdict {
	RAWIO_FSQUAL_GOOD = 1,	  /* < 0.1 context switches per I/O (NOWAIT: <= 1 EAGAIN) */
	RAWIO_FSQUAL_BAD,	  /* the submitter sleeps (NOWAIT: writes refused) */
	RAWIO_FSQUAL_MEANINGLESS, /* tmpfs: O_DIRECT never sleeps there; nothing qualified */
	RAWIO_FSQUAL_FAILED,	  /* the row could not run: see err */
	RAWIO_FSQUAL_SKIPPED,	  /* the filesystem lacks what the row needs (err: -EOPNOTSUPP) */
};

/* The rows, in the order they run; index into report.rows. */
enum rawio_fsqual_row_id {
	RAWIO_FSQUAL_ROW_APPEND_BS_QD1 = 0,
	RAWIO_FSQUAL_ROW_APPEND_BS_QD3,
	RAWIO_FSQUAL_ROW_FILL_BS_QD3,
	RAWIO_FSQUAL_ROW_FILL_BS_QD7,
	RAWIO_FSQUAL_ROW_FILL_DMA_QD1,
	RAWIO_FSQUAL_ROW_OVERWRITE_DMA_QD1,
	RAWIO_FSQUAL_ROW_OVERWRITE_DSYNC_DMA_QD1,
	RAWIO_FSQUAL_ROW_OVERWRITE_DSYNC_DMA_QD3,
	RAWIO_FSQUAL_ROW_READ_DMA_QD30,
	RAWIO_FSQUAL_ROW_NOWAIT,
	RAWIO_FSQUAL_ROW_PREALLOC_BS_QD3,
	RAWIO_FSQUAL_ROW_FILL_BS_QD3_MEMALIGN,
	RAWIO_FSQUAL_NR_ROWS,
};

struct rawio_fsqual_row {
	/* What ran. */
	const char *id; /* stable name: "append_bs_qd1", ..., "nowait" */
	enum rawio_fsqual_kind kind;
	unsigned depth;	    /* I/Os in flight */
	uint32_t io_size;   /* bytes per I/O */
	bool dsync;	    /* file opened O_DSYNC */
	uint32_t buf_align; /* the buffers' address alignment, exactly (not a larger power of 2) */
	bool mem_aligned;   /* buf_align is the memory DMA alignment (the memalign row) */
	uint64_t ios;	    /* I/Os completed */
	uint64_t gap_us;    /* NOWAIT: spacing between writes; 0 otherwise */

	/* Did the submitter sleep? */
	uint64_t submits;	/* rawio_engine_commit calls measured */
	uint64_t ctxsw;		/* voluntary context switches inside them */
	double ctxsw_per_io;	/* ctxsw / ios */
	uint64_t submit_ns_max; /* longest single commit */
	uint64_t submit_ns_avg;

	/* Completion latency (queue to reap), nanoseconds. */
	uint64_t lat_ns_avg, lat_ns_p50, lat_ns_p99, lat_ns_max;

	/* Page cache after the row (mincore over the whole file). */
	uint64_t file_pages;
	uint64_t cached_pages; /* > 0: the filesystem went buffered */

	/* io_uring: io-wq workers owned by the submitting thread. */
	unsigned iowq_workers;	/* most seen at once during or right after the row */
	uint64_t iowq_switches; /* their context switches: about one per wake-up for work */
	uint64_t iowq_cpu_ns;	/* their CPU time (0 where schedstat is absent) */

	/* NOWAIT. */
	uint64_t eagain; /* writes refused with EAGAIN, then resubmitted blocking */

	/*
	 * 0, or the -errno the row stopped at. Verdict FAILED, except for
	 * -EOPNOTSUPP in two rows, which is an answer: NOWAIT (the kernel
	 * refuses RWF_NOWAIT on this file: BAD) and prealloc (no fallocate:
	 * SKIPPED).
	 */
	int err;
	enum rawio_fsqual_verdict verdict;
};

struct rawio_fsqual_report {
	/* The header. */
	char engine[16];       /* "aio" or "uring" */
	char engine_desc[192]; /* rawio_engine_describe of the first row's context */
	char fs_type[32];
	char disk[64]; /* "" when no disk is under the filesystem */
	char kernel_release[64];
	uint32_t mem_align;  /* memory DMA alignment (O_DIRECT buffer address) */
	uint32_t disk_align; /* disk DMA alignment (O_DIRECT offset and length) */
	enum rawio_align_source align_source;
	uint32_t fs_block_size;
	bool tmpfile;		      /* O_TMPFILE worked (else create + unlink) */
	bool meaningless;	      /* tmpfs: verdicts are RAWIO_FSQUAL_MEANINGLESS */
	struct rawio_fs_traits table; /* the traits dev guessed from fs type and kernel */

	unsigned nr_rows; /* RAWIO_FSQUAL_NR_ROWS once run */
	struct rawio_fsqual_row rows[RAWIO_FSQUAL_NR_ROWS];
};

struct rawio_fsqual_opts {
	size_t size;		/* sizeof(struct rawio_fsqual_opts) */
	const char *engine;	/* "aio" (NULL) or "uring" */
	unsigned ios;		/* I/Os per matrix row; 0 means 10000 */
	unsigned nowait_ios;	/* NOWAIT writes; 0 means ios, at most 1000 */
	unsigned nowait_gap_us; /* spacing of the NOWAIT writes; 0 means 1000 */

	/* Called after each row, in the caller's thread (for progress output). */
	void (*row_done)(void *arg, const struct rawio_fsqual_report *rep, unsigned row);
	void *arg;

	char *errbuf; /* optional: one line naming DIR and the cause on failure */
	size_t errbuf_len;
};

/*
 * rawio_fsqual_run - qualify the filesystem holding DIR for the engine.
 * @dir:  an existing, writable directory on the filesystem to qualify.
 * @opts: may be NULL (aio, 10000 I/Os per row).
 * @rep:  filled in; on failure its header may be partly set.
 *
 * Writes at most ios * fs block size bytes at a time (a file per row, gone
 * when the row ends). A row that fails (-ENOSPC, -EIO, ...) gets verdict
 * FAILED and its err; the run goes on and still returns 0.
 *
 * Errors (errbuf says which, naming DIR): -ENOENT DIR missing; -ENOTDIR not a
 * directory; -EACCES, -EPERM, -EROFS DIR not writable; -EINVAL the filesystem
 * refuses O_DIRECT, or bad options; -ENOENT an unknown engine (also in
 * errbuf); errors from rawio_engine_open (e.g. io_uring disabled: -EPERM);
 * -ENOMEM; -EAGAIN no thread could be started.
 */
int rawio_fsqual_run(const char *dir, const struct rawio_fsqual_opts *opts,
		     struct rawio_fsqual_report *rep);

/* "GOOD", "BAD", "n/a (tmpfs)", "FAILED", "skipped". */
const char *rawio_fsqual_verdict_name(enum rawio_fsqual_verdict v);

/* "append", "fill", "overwrite", "read", "nowait", "prealloc". */
const char *rawio_fsqual_kind_name(enum rawio_fsqual_kind k);

/*
 * rawio_fsqual_row_describe - ScyllaDB's wording of a row, e.g. "size-changing,
 * append, blocksize 4096, iodepth 1"; writes at most LEN bytes.
 */
void rawio_fsqual_row_describe(const struct rawio_fsqual_row *row, char *buf, size_t len);

/* Did this row punt to io-wq (io_uring only)? */
bool rawio_fsqual_row_punted(const struct rawio_fsqual_row *row);

/*
 * rawio_fsqual_traits - the filesystem traits REP measured, for
 * rawio_dev_set_fs_traits(). Starts from rep->table and changes only what a
 * row that ran answered (a row "stalls" when it is BAD, or punted to io-wq):
 *   append_challenged   = append bs qd1 or qd3 stalls
 *   append_concurrency  = 0 when append qd1 stalls, 1 when only qd3 does,
 *                         else the table's value
 *   nowait_writes       = the NOWAIT row is GOOD
 * On tmpfs (meaningless) the table is returned unchanged.
 */
void rawio_fsqual_traits(const struct rawio_fsqual_report *rep, struct rawio_fs_traits *traits);

/*
 * rawio_fsqual_cache_store - record REP (a run on DIR) in the filesystem verdict
 * cache (rawio_dev_fs_verdicts_load in rawio/dev.h reads it), keeping the other
 * engine's line. Creates the directories. 0 or -errno. A report that is
 * meaningless (tmpfs) is not stored (-EINVAL).
 */
int rawio_fsqual_cache_store(const char *dir, const struct rawio_fsqual_report *rep);

#endif
