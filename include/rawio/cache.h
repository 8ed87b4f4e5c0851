/* SPDX-License-Identifier: MIT */
/*
 * cache: a log-structured write-back cache (seed 002: dm-lc, dm-writeboost).
 *
 * A cache is a virtual block device the size of a slow BACKING device. Writes
 * are copied into RAM segment buffers and written to a fast CACHE device as a
 * log of fixed-size segments (one I/O per segment); a migrate worker later
 * writes the dirty blocks back to the backing device in sorted, merged
 * batches of up to nr_batched_migration segments. Reads are served from RAM,
 * from the cache device, or from the backing device, merged per 512-byte
 * sector where a 4 KiB block is only partly dirty. The format is in
 * docs/cache-format.md.
 *
 * Both devices are rawio devices (files, block devices, or RAM devices, which
 * is how tests keep a "disk" across a close and a reopen); every I/O goes
 * through engines and batches.
 *
 * Handles and paths (the rule for the store and the cache alike): format,
 * open and check come in two forms. The one named without a suffix takes
 * what the part is usually given (the cache: two rawio_dev handles); the
 * other is named by what it takes instead: _path (paths, opened here with
 * rawio_dev_open) or _dev (handles). A handle passed in stays the caller's:
 * rawio never closes it, and it must outlive the cache. What a _path variant
 * opens, rawio closes (at rawio_cache_close for an open cache). The _path
 * variants are thin wrappers over the handle ones and add only
 * rawio_dev_open's errors.
 *
 * Durability (what a crash, or a power cut, may take away):
 *   - rawio_cache_write() without RAWIO_CACHE_FUA returns once the data is in a
 *     RAM buffer: reads see it at once, but a crash may lose it.
 *   - rawio_cache_write() with RAWIO_CACHE_FUA returns once that data is on
 *     stable storage: the segment holding it and every older one are written
 *     to the cache device and the cache device was flushed after them.
 *   - rawio_cache_flush() returns once every write that returned before it was
 *     called is on stable storage, in the same sense.
 *   - rawio_cache_drain() and rawio_cache_close() returning 0 are durability
 *     points too (drain: everything on the backing device and flushed there;
 *     close: everything on the cache device and flushed).
 * After a crash, each 512-byte sector reads as the last value made durable for
 * it or any value written to it later (whole sectors, never a mix within one,
 * never bytes nobody wrote there); a write that failed may or may not be there.
 * An error from flush or a FUA write means nothing about durability can be
 * promised for what it covered.
 *
 * Errors are retried, not ignored: a failed segment write or cache flush is
 * retried a few times, after which the cache refuses writes and barriers with
 * that error (reads keep working; close reports it); a failed write or flush
 * of the backing device during migration fails only that batch, which is
 * retried with a growing pause, forever, and never marked clean until it
 * succeeds (stat's migrate_errors counts the failures). When the cache is
 * full and write-back has failed five times in a row, a write that needs a
 * new segment fails with that error instead of waiting for ever.
 *
 * Thread-safety: every call on one cache may run concurrently from many
 * threads, except close. Workers: a flush worker writes sealed segments and
 * flushes the cache device; a migrate worker writes dirty blocks back.
 */
#ifndef RAWIO_CACHE_H
#define RAWIO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rawio/sched.h>

struct rawio_dev;
struct rawio_engine_opts;
struct rawio_cache;

#define RAWIO_CACHE_DEFAULT_SEGMENT (512u << 10)
#define RAWIO_CACHE_MIN_SEGMENT	    (16u << 10)
#define RAWIO_CACHE_MAX_SEGMENT	    (1u << 20)
/*
 * RAM segment buffers by default: 32 (16 MiB at the default segment). Eight capped
 * the absorb's writing part (a buffer lives ~2 ms: filling, waiting for a flush
 * thread, its write); quiet A/B of 8 rounds on ext4 files: 0.70 of the device's
 * sequential rate with 8, 0.79 with 32, 0.81 with 64 (docs/perf.md, sixth session).
 */
#define RAWIO_CACHE_DEFAULT_BUFFERS 32u

/*
 * The flush threads' nice value: the log's one consumer must not get only its fair share
 * (1/33 of the CPUs against 32 writer threads) or every writer stalls for a RAM segment
 * while it waits for a CPU. Needs CAP_SYS_NICE; without it they stay at 0. The absorb
 * benchmark's ceiling writes at it too, as the flush threads would.
 */
#define RAWIO_CACHE_FLUSH_NICE (-10)

/* rawio_cache_write flags */
#define RAWIO_CACHE_FUA (1u << 0) /* durable before the call returns */

struct rawio_cache_format_opts {
	size_t size;	       /* sizeof(struct rawio_cache_format_opts) */
	uint32_t segment_size; /* power of two, 16 KiB .. 1 MiB; 0 means 512 KiB */
	bool force;	       /* format over a cache or anything non-zero in the first 12 KiB */
	char *errbuf;	       /* optional: one line on why formatting failed */
	size_t errbuf_len;
	int lock_wait_ms; /* by path: wait for another owner, as rawio_dev_opts.lock_wait_ms */
};

/*
 * Run-time tunables (rawio_cache_tunable_set / rawio_cache_tunable_get by name, or all at
 * open through rawio_cache_opts.tunables). Changing one never loses or blocks
 * I/O: the workers pick the new value up at their next decision.
 *
 *   allow_migrate         0 or 1 (default 1). 0 stops background write-back;
 *                         drain, and writers that find no free segment, still
 *                         migrate (a full cache never deadlocks).
 *   nr_batched_migration  1..256 (default 32): segments written back per batch
 *                         (their blocks sorted and merged, one backing flush).
 *   low_watermark         0..100 percent of segments dirty (default 10): at or
 *                         below it the migrate worker idles.
 *   high_watermark        0..100 (default 50): at or above it the worker
 *                         migrates batch after batch; between the two it
 *                         migrates only while no write came for 100 ms.
 *                         low_watermark <= high_watermark always (a set that
 *                         would cross them is refused: lower low first, raise
 *                         high first). Both 0: write back whatever is dirty
 *                         at once, batch after batch (rawio_cache_drain waits
 *                         for that instead).
 *   barrier_deadline_us   0..1000000 (default 3000). A FLUSH or FUA write whose
 *                         data sits in the open (partial) segment seals it at once
 *                         when fewer than commit_qd commits are in flight;
 *                         otherwise it waits for one of them to finish, while
 *                         other writers' data and barriers join the open segment
 *                         (group commit), but at most this long before sealing
 *                         it. 0: seal at once (one segment per flush,
 *                         dm-writeboost's).
 *   commit_qd             1..16 (default 1): commits in flight at once. A
 *                         commit is a segment written with FUA, or a segment
 *                         sealed for a barrier until it is written, or a
 *                         cache-device flush. A barrier that finds fewer in
 *                         flight seals its segment and starts its own commit
 *                         at once instead of waiting behind the one in flight.
 *                         durable_id still advances strictly in id order: a
 *                         later segment's commit never makes an older one
 *                         durable. Why 1 by default: on this project's virtio
 *                         disk (ext4 file, write + flush) 4 in flight made
 *                         smaller groups and fewer ops/s (docs/perf.md,
 *                         "Commits in flight"); raise it where the device runs
 *                         commits in parallel (native FUA).
 *   commit_fua            0, 1 or 2 (default 2, auto). How a segment that a
 *                         barrier waits for is made durable: 0 written, then
 *                         a cache-device flush (fdatasync) covering every
 *                         segment written so far; 1 written with FUA
 *                         (RWF_DSYNC; durable when it completes, no separate
 *                         flush); 2 auto: FUA where rawio_dev_fua_cheap: a
 *                         RAM device, an NBD export that takes FUA, a file or
 *                         disk that does FUA itself (queue/fua 1) or whose
 *                         write cache is "write through"; write +
 *                         flush elsewhere (files and disks with a volatile
 *                         write cache: on this project's virtio disk under
 *                         ext4, without native FUA, FUA segment writes were no
 *                         faster, docs/perf.md "Commits in flight"; RBD images,
 *                         whose FUA librbd makes of a write and a flush).
 *                         Segments nobody waits for are written without FUA;
 *                         a barrier over them still costs one flush. Either
 *                         way the same promise holds; only the cost differs.
 *   commit_overlap        0 or 1 (default 0). 1: a cache-device flush in flight
 *                         does not count against commit_qd when a barrier decides
 *                         whether to seal: its segment is sealed and written while
 *                         the flush runs, and its own flush is issued as soon as
 *                         the running one completes (one flush at a time still:
 *                         a flush covers only writes completed before it was
 *                         issued, so the promise is the same). 0: a barrier that
 *                         arrives during a flush waits for it before sealing.
 *   seal_idle_ms          0..3600000 (default RAWIO_CACHE_SEAL_IDLE_MS, 1000). A
 *                         partly filled open segment that no write touched for
 *                         this long is sealed and logged by the flush worker, so
 *                         a write never flushed leaves process RAM for the cache
 *                         device within about this time of the writer going
 *                         idle (dm-writeboost's periodic flush of the current
 *                         buffer). It survives a crash of the process then; a
 *                         power cut still needs a FLUSH/FUA (no device flush is
 *                         issued). 0: never (a segment is logged when full or
 *                         for a barrier). Why 1 s: it bounds what a process
 *                         crash loses to what the last second's writes put in
 *                         RAM, below the 5 s the kernel's own dirty-page
 *                         writeback and ext4's commit interval allow; and a
 *                         writer idle for a second is not streaming, so the
 *                         partial segment (one header block, one log slot) is
 *                         cheap: at most one per second of a trickle writer,
 *                         which migration reclaims. Shorter intervals turn a
 *                         slow steady writer into one segment per write.
 *   class.read.shares     1..65535: the I/O scheduler's shares (rawio/sched.h) of
 *   class.write.shares    the cache's four classes, on each device that has io
 *   class.flush.shares    properties (rawio_cache_opts.cache_io_props,
 *   class.migrate.shares  .backing_io_props). read (default 1000): foreground
 *                         reads (and recovery's); write (1000): I/O a foreground
 *                         write waits for (merging a partial block with an older
 *                         copy); flush (1000): segment writes and cache-device
 *                         flushes, which barriers wait for; migrate (100):
 *                         write-back's reads, writes, backing flushes and
 *                         records. With both backlogged a reader gets 10 times
 *                         migration's disk time, so a drain never starves it.
 *                         Changed at once, queued requests keep their order.
 *                         Without io properties they are kept and ignored.
 */
#define RAWIO_CACHE_SEAL_IDLE_MS 1000u

struct rawio_cache_tunables {
	uint32_t allow_migrate;
	uint32_t nr_batched_migration;
	uint32_t low_watermark;
	uint32_t high_watermark;
	uint32_t barrier_deadline_us;
	uint32_t seal_idle_ms;
	uint32_t read_shares, write_shares, flush_shares, migrate_shares; /* class.*.shares */
	uint32_t commit_qd;
	uint32_t commit_fua; /* RAWIO_CACHE_FUA_* */
	uint32_t commit_overlap;
};

/* Values of the tunable commit_fua. */
#define RAWIO_CACHE_FUA_OFF    0u
#define RAWIO_CACHE_FUA_ON     1u
#define RAWIO_CACHE_FUA_AUTO   2u
#define RAWIO_CACHE_COMMIT_MAX 16u /* most commit_qd */

/*
 * Engine options are copied at open (the cache sets their queue depth); what
 * they point to (a fault model, a throttle, fault ranges, lower_opts) must
 * outlive the cache.
 */
struct rawio_cache_opts {
	size_t size;		  /* sizeof(struct rawio_cache_opts) */
	const char *cache_engine; /* NULL: rawio_engine_default() of the device */
	const struct rawio_engine_opts *cache_engine_opts; /* NULL: defaults; queue depth is ours */
	const char *backing_engine; /* as cache_engine; "throttle" emulates a slow disk */
	const struct rawio_engine_opts *backing_engine_opts;
	const struct rawio_cache_tunables *tunables; /* NULL: the defaults above */
	/* RAM segment buffers; 0 means RAWIO_CACHE_DEFAULT_BUFFERS (2 .. segments / 2) */
	unsigned nr_buffers;
	unsigned migrate_qd;  /* write-back I/O in flight per device; 0 means 32 */
	unsigned recovery_qd; /* recovery header reads in flight; 0 means 128 */
	bool read_only;	      /* recover and report only: no writes, no workers */
	char *errbuf;	      /* optional: one line on why opening failed */
	size_t errbuf_len;
	int lock_wait_ms; /* wait for another owner, as rawio_dev_opts.lock_wait_ms */
	/*
	 * The disks' models (copied at open). With one, every I/O on that device goes
	 * through an I/O scheduler (rawio/sched.h) in the cache's classes (tunables
	 * class.*.shares): migration cannot starve a reader. NULL: the device is driven
	 * directly, at full depth, as without a scheduler (a pass-through scheduler
	 * would funnel every thread's I/O through one engine context for nothing).
	 * Two devices on one disk each get that disk's whole model.
	 */
	const struct rawio_io_props *cache_io_props;
	const struct rawio_io_props *backing_io_props;
};

/* What recovery did (rawio_cache_recovery). */
struct rawio_cache_recovery {
	uint64_t last_migrated; /* from the superblock record */
	uint64_t record_seq;
	bool record_fallback;	      /* one record copy was damaged; the other was used */
	uint64_t headers_read;	      /* segment headers read (every segment) */
	uint64_t headers_retried;     /* re-read alone after a failed batch read */
	uint64_t valid;		      /* headers that decode as ours */
	uint64_t run_first, run_last; /* ids replayed (run_last < run_first: none) */
	uint64_t replayed;	      /* segments replayed */
	uint64_t replayed_blocks;     /* dirty blocks in the index afterwards */
	uint64_t stop_id;	      /* id that ended the run (the next one expected) */
	const char *stop_reason;      /* "end" (no such segment), "torn", "io", "corrupt" */
	uint64_t torn;		      /* segments in the run's way that failed their crc */
	uint64_t corrupt;	      /* our magic but structurally wrong */
	uint64_t io_errors;	      /* headers or segments unreadable even alone */
	uint64_t orphans;	      /* valid segments past the run (never acknowledged) */
	uint64_t orphans_zeroed;      /* ... whose headers were zeroed (0 when read-only) */
	uint64_t unreadable_zeroed;   /* unreadable headers zeroed (maybe orphans; read-only: 0) */
	uint64_t ns;		      /* wall time of recovery */
	uint64_t read_ns;	      /* of which: reading every segment header */
};

struct rawio_cache_stat {
	/* geometry */
	uint8_t uuid[16];
	uint64_t size; /* bytes of the virtual device (= backing size used) */
	uint32_t segment_size;
	uint32_t blocks_per_segment; /* 4 KiB data blocks per segment */
	uint64_t nr_segments;
	unsigned nr_buffers;

	/* state */
	uint64_t next_id;	 /* id the next segment gets */
	uint64_t flushed_id;	 /* every segment up to this one is written */
	uint64_t durable_id;	 /* ... and the cache device was flushed after it */
	uint64_t last_migrated;	 /* every segment up to this one is written back */
	uint64_t dirty_segments; /* sealed and not yet written back */
	uint64_t dirty_blocks;	 /* blocks whose newest copy is dirty */
	uint64_t cached_blocks;	 /* blocks with a copy in the cache (dirty or clean) */
	int error;		 /* 0, or the error that made the cache refuse writes */
	/* Write-back waits for the backing device: the error of the batches failing in a
	 * row (migrate_fail_streak of them; -ENOTCONN and the like: the server is down), or
	 * -ENOTCONN when it was unreachable at open and no batch has gone since; 0 when
	 * the last batch went through. */
	int backing_error;
	uint64_t migrate_fail_streak;

	/* reads, in 4 KiB blocks */
	uint64_t reads;		/* calls */
	uint64_t read_hits;	/* whole block from the cache device or RAM */
	uint64_t read_hits_ram; /* of which: from a RAM buffer */
	uint64_t read_partial;	/* partly dirty: merged with the backing device */
	uint64_t read_misses;	/* from the backing device */
	uint64_t read_retries;	/* a segment was reused under the read: read again */

	/* writes */
	uint64_t writes;	    /* calls */
	uint64_t write_blocks;	    /* 4 KiB blocks absorbed (partial ones too) */
	uint64_t write_partial;	    /* of which: not a whole block */
	uint64_t write_overwrites;  /* hit a block already in the open segment */
	uint64_t write_merge_reads; /* partial write over an older dirty copy on the device */
	uint64_t write_stalls;	    /* writers that waited for a free buffer or segment */
	uint64_t fua_writes;
	uint64_t discards;	   /* calls */
	uint64_t discarded_blocks; /* blocks dropped from the cache */

	/* the log */
	uint64_t segments_flushed;	 /* segment writes completed */
	uint64_t segments_full;		 /* of which: sealed full */
	uint64_t segments_partial;	 /* sealed with room left (barrier, drain, close) */
	uint64_t segment_blocks;	 /* data blocks in those segments */
	uint64_t segment_bytes;		 /* bytes written for segments (header + data) */
	uint64_t barriers;		 /* FLUSH calls and FUA writes */
	uint64_t barrier_seals;		 /* segments sealed for a barrier */
	uint64_t barrier_deadline_seals; /* ... because the deadline passed */
	uint64_t idle_seals;		 /* partial segments sealed after seal_idle_ms */
	uint64_t cache_flushes;		 /* flushes of the cache device */
	uint64_t segments_fua;		 /* segment writes with FUA (each its own commit) */
	uint64_t segment_write_errors;	 /* failed segment writes (each retried) */
	/* The flush workers' pipeline, summed over segment writes (divide by segments_flushed):
	 * sealed until a worker took it, and from then (its crc, its write) until its
	 * completion was seen; and over time: segment writes taken and not yet done integrated
	 * over time, and the time with at least one (their ratio: the mean depth). */
	uint64_t seg_wait_ns;
	uint64_t seg_write_ns;
	uint64_t seg_depth_ns;
	uint64_t seg_busy_ns;
	uint64_t seg_copy_wait_ns; /* the flush worker waited for writers' copies (crc) */
	uint64_t seg_reap_wait_ns; /* ... and for completions (reap) with sealed segments queued */
	/* A FLUSH's time, split and summed over barrier_timed of them (divide by it): taking
	 * the cache's lock; until its segment was sealed (a commit in flight first); the
	 * seal until durable (segment write + cache flush); durable until it returned (the
	 * wake-up). */
	uint64_t barrier_timed;
	uint64_t barrier_lock_ns;
	uint64_t barrier_queue_ns;
	uint64_t barrier_commit_ns;
	uint64_t barrier_wake_ns;

	/* migration */
	uint64_t migrate_batches;
	uint64_t migrate_segments;
	uint64_t migrate_blocks;  /* blocks written back */
	uint64_t migrate_skipped; /* older copies skipped: a newer durable one will go */
	uint64_t migrate_writes;  /* backing writes after merging adjacent blocks */
	uint64_t migrate_rmw;	  /* partly dirty blocks read from the backing device first */
	uint64_t migrate_bytes;
	uint64_t migrate_errors; /* failed batches (retried) */
	uint64_t migrate_ns;	 /* wall time in migration batches */
	uint64_t backing_flushes;
	uint64_t max_batch_segments; /* largest batch so far */
	/* Of migrate_ns: reading the cache device (and partly dirty blocks' rest), writing the
	 * backing device, flushing it and writing the record. migrate_inflight_ns sums each
	 * backing write's time in flight: / migrate_write_ns, the mean number in flight. */
	uint64_t migrate_read_ns, migrate_write_ns, migrate_flush_ns;
	uint64_t migrate_inflight_ns;
};

/*
 * rawio_cache_format - write an empty cache on CACHE for BACKING.
 *
 * The cache caches all of BACKING (its size rounded down to 4 KiB). Refuses
 * (-EEXIST) when the first 12 KiB of CACHE hold a cache or any non-zero byte,
 * unless opts->force. Errors: -EINVAL bad segment size or a device whose
 * direct I/O needs more than 4 KiB alignment, -ENOSPC CACHE too small for 4
 * segments, I/O errors.
 */
int rawio_cache_format(struct rawio_dev *cache, struct rawio_dev *backing,
		       const struct rawio_cache_format_opts *opts);

/*
 * rawio_cache_format_path - rawio_cache_format on the devices at CACHE_PATH
 * and BACKING_PATH (opened read-write, closed before it returns). OPTS is
 * required (size set). Errors: rawio_cache_format's and rawio_dev_open's
 * (-EINVAL also for a NULL path).
 */
int rawio_cache_format_path(const char *cache_path, const char *backing_path,
			    const struct rawio_cache_format_opts *opts);

/* What rawio_cache_plan computes. */
struct rawio_cache_plan {
	uint64_t nr_segments;
	uint32_t segment_size;
	uint32_t blocks_per_segment; /* data blocks of 4 KiB in each */
	uint64_t cache_bytes;	     /* of the cache device used (superblock area and log) */
	unsigned nr_buffers;	     /* RAM segment buffers an open with that nr_buffers gets */
	uint64_t ram_bytes; /* about what rawio_cache_open allocates (segment table, block map,
			     * index, buffers; not the engines' queues) */
};

/*
 * rawio_cache_plan - what rawio_cache_format makes of a cache device of
 * CACHE_DEV_SIZE bytes over BACKING_DEV_SIZE bytes with SEGMENT_SIZE (0: the
 * default), and the RAM an open with NR_BUFFERS (0: the default) needs.
 * Needs no device. Errors: -EINVAL bad segment or backing size, -ENOSPC the
 * cache device is too small (as rawio_cache_format).
 */
int rawio_cache_plan(uint64_t cache_dev_size, uint64_t backing_dev_size, uint32_t segment_size,
		     unsigned nr_buffers, struct rawio_cache_plan *out);

/*
 * rawio_cache_open - open the cache on CACHE over BACKING and recover it: read
 * every segment header in batches, replay the run of consecutive segments
 * after the last written-back one, zero the headers of segments past it (they
 * were never acknowledged), then start the workers. The devices stay the
 * caller's and must outlive the cache. The cache owns them while open: it
 * takes their ownership locks (rawio_dev_lock: exclusive, shared when
 * read_only) unless the handles hold them already, and drops what it took at
 * close; another owner makes the open fail with -EBUSY after
 * opts->lock_wait_ms (errbuf names the path and the holder's pid).
 * Errors: -EBUSY another process owns a device; -EUCLEAN/-EBADMSG no valid superblock or record; -EINVAL BACKING is
 * smaller than the cache was formatted for; -ENOMEM; engine and I/O errors.
 */
int rawio_cache_open(struct rawio_cache **out, struct rawio_dev *cache, struct rawio_dev *backing,
		     const struct rawio_cache_opts *opts);

/*
 * rawio_cache_open_path - rawio_cache_open on the devices at CACHE_PATH and
 * BACKING_PATH, opened read-write (read-only with opts->read_only); the cache
 * owns them and rawio_cache_close closes them. On failure nothing stays open.
 * Errors: rawio_cache_open's and rawio_dev_open's (-EINVAL also for a NULL path).
 */
int rawio_cache_open_path(struct rawio_cache **out, const char *cache_path,
			  const char *backing_path, const struct rawio_cache_opts *opts);

/*
 * rawio_cache_backing_open - open BACKING_PATH as the backing device of the
 * cache on CDEV, with OPTS as rawio_dev_open takes them. Where BACKING_PATH is
 * an NBD URI whose server cannot be reached now (refused, no socket, timed
 * out) and CDEV holds a cache, the export is opened unreached with the size
 * the cache was formatted for (rawio_dev_info()->nbd.offline): the cache then
 * opens, serves what it holds, absorbs writes and keeps them dirty, and
 * write-back retries with a growing pause until the server is back (stat's
 * backing_error says why it waits). Reads of blocks not in the cache fail
 * until then. Errors: rawio_dev_open's (the first attempt's, with its errbuf
 * line, when the fallback does not apply).
 */
struct rawio_dev_opts;
int rawio_cache_backing_open(struct rawio_dev **out, struct rawio_dev *cdev,
			     const char *backing_path, const struct rawio_dev_opts *opts);

/*
 * rawio_cache_close - seal and write what is in RAM, flush the cache device,
 * stop the workers, free (and close the devices if rawio_cache_open_path
 * opened them; the caller's handles are never closed). Dirty data stays on
 * the cache device (drain first to empty it). Returns 0 when everything
 * written is durable, or the error that prevented it. NULL is a no-op.
 */
int rawio_cache_close(struct rawio_cache *c);

/*
 * rawio_cache_read / rawio_cache_write - LEN bytes at byte offset OFF of the
 * virtual device; OFF and LEN multiples of 512, within its size; BUF needs no
 * alignment. Returns 0 or -errno: -EINVAL bad range, -EROFS read-only, -EIO
 * (or the device's error) after the cache failed, I/O errors of a read.
 * A write is atomic per 512-byte sector, not as a whole.
 */
int rawio_cache_read(struct rawio_cache *c, void *buf, size_t len, uint64_t off);
int rawio_cache_write(struct rawio_cache *c, const void *buf, size_t len, uint64_t off,
		      unsigned flags);

/* rawio_cache_flush - a FLUSH: see Durability above. */
int rawio_cache_flush(struct rawio_cache *c);

/*
 * rawio_cache_discard - the range's contents are no longer needed: whole 4 KiB
 * blocks in it are dropped from the cache and the range is discarded on the
 * backing device where it supports that. Afterwards (and after a crash) the
 * range reads as zeroes or as any data written there before.
 */
int rawio_cache_discard(struct rawio_cache *c, uint64_t off, uint64_t len);

/*
 * rawio_cache_drain - write back everything written before the call (sealing
 * the open segment), even with allow_migrate 0, and return when it is on the
 * backing device and flushed there. Returns the migration error if a batch
 * failed five times in a row meanwhile (migration keeps retrying).
 */
int rawio_cache_drain(struct rawio_cache *c);

/*
 * Tunables (see struct rawio_cache_tunables; not data: the data calls are
 * read and write).
 * rawio_cache_tunable_set - set NAME to VALUE. Errors: -ENOENT unknown name,
 * -ERANGE value out of range, -EINVAL low_watermark would be above
 * high_watermark, -EROFS read-only.
 * rawio_cache_tunable_range - NAME's valid values, MIN..MAX (needs no cache).
 * Errors: -ENOENT.
 * rawio_cache_tunable_get - the value of NAME in *VALUE. Errors: -ENOENT.
 * rawio_cache_tunables_get - all of them in *T.
 * rawio_cache_tunables_default - the defaults in *T (needs no cache).
 * rawio_cache_tunables_put - set NAME to VALUE in *T, for rawio_cache_opts
 * (needs no cache; the low/high watermark pair is checked at open, so they
 * may be put in any order). Errors: -ENOENT, -ERANGE.
 * rawio_cache_tunable_names - NULL-terminated list of the tunables' names.
 */
int rawio_cache_tunable_set(struct rawio_cache *c, const char *name, uint64_t value);
int rawio_cache_tunable_get(struct rawio_cache *c, const char *name, uint64_t *value);
int rawio_cache_tunable_range(const char *name, uint64_t *min, uint64_t *max);
void rawio_cache_tunables_get(struct rawio_cache *c, struct rawio_cache_tunables *t);
void rawio_cache_tunables_default(struct rawio_cache_tunables *t);
int rawio_cache_tunables_put(struct rawio_cache_tunables *t, const char *name, uint64_t value);
const char *const *rawio_cache_tunable_names(void);

/*
 * rawio_cache_stat - a snapshot of geometry, state and counters into *ST
 * (taken under the cache's lock: consistent, safe beside any other call).
 * rawio_cache_recovery - what recovery at open did, into *R (fixed after open).
 */
void rawio_cache_stat(struct rawio_cache *c, struct rawio_cache_stat *st);
void rawio_cache_recovery(struct rawio_cache *c, struct rawio_cache_recovery *r);

/* The cache's I/O classes, in their order in rawio_cache_sched_stat. */
#define RAWIO_CACHE_NR_CLASSES 4
extern const char
	*const rawio_cache_class_names[RAWIO_CACHE_NR_CLASSES]; /* read write flush migrate */

/*
 * rawio_cache_sched_stat - the scheduler of device DEV (0: the cache device,
 * 1: the backing device): false when it has none (no io properties: direct
 * I/O), else true with its counters in *ST and its classes' in
 * CLS[RAWIO_CACHE_NR_CLASSES]; DESC (LEN bytes, may be NULL) gets
 * rawio_sched_describe's line or "direct (no io properties)". Thread-safe.
 */
bool rawio_cache_sched_stat(struct rawio_cache *c, unsigned dev, struct rawio_sched_stat *st,
			    struct rawio_sched_class_stat *cls, char *desc, size_t len);

/* Start the latency statistics of every class of both devices' schedulers afresh
 * (rawio_sched_class_lat_reset), e.g. to see one phase's percentiles. Thread-safe. */
void rawio_cache_sched_lat_reset(struct rawio_cache *c);

/*
 * rawio_cache_check - recover read-only and verify: the superblock, both
 * record copies, every segment header (unreadable or structurally wrong ones
 * are problems; a torn segment ending the run, and orphans past it, are what
 * a crash leaves and are reported but not counted), and every replayed
 * segment's data crc. Writes one line per finding (at most REPORT_LEN bytes
 * in all) into REPORT. Returns the number of problems (0: consistent) or
 * -errno when it could not run. OPTS may be NULL; read_only is forced.
 */
int rawio_cache_check(struct rawio_dev *cache, struct rawio_dev *backing,
		      const struct rawio_cache_opts *opts, char *report, size_t report_len);

/*
 * rawio_cache_check_path - rawio_cache_check on the devices at CACHE_PATH and
 * BACKING_PATH, opened read-only and closed before it returns. Errors as
 * rawio_cache_check's, and rawio_dev_open's.
 */
int rawio_cache_check_path(const char *cache_path, const char *backing_path,
			   const struct rawio_cache_opts *opts, char *report, size_t report_len);

/*
 * Control socket: a thread of the process that has the cache open serves
 * requests on a unix stream socket at PATH (created mode 0600; only clients
 * of the same user, or root, are answered). One request per connection, one
 * line, answered with lines and closed:
 *   set NAME VALUE   ->  "ok NAME VALUE"
 *   get [NAME]       ->  "NAME VALUE" (every tunable without NAME)
 *   stat             ->  "NAME VALUE" per counter of struct rawio_cache_stat
 * Errors answer "error: MESSAGE". A stale socket file at PATH (nobody
 * listening) is replaced; any other file there is -EEXIST.
 */
struct rawio_cache_ctl;

/*
 * rawio_cache_ctl_start - serve C's control socket at PATH from a new thread
 * (rawio_cache_ctl_bind, then rawio_cache_ctl_serve).
 * C must outlive the server (stop it before closing C). Errors: -EEXIST (see
 * above), -ENAMETOOLONG (PATH empty or longer than a socket address holds),
 * socket(2), bind(2), listen(2) and thread creation errors, -ENOMEM.
 */
int rawio_cache_ctl_start(struct rawio_cache_ctl **out, struct rawio_cache *c, const char *path);
/*
 * rawio_cache_ctl_bind - the first half of rawio_cache_ctl_start: bind and
 * listen at PATH, start no thread (a process about to fork, such as nbdkit
 * before .after_fork, binds here). Peers may connect at once; their requests
 * wait in the backlog until rawio_cache_ctl_serve. Errors as
 * rawio_cache_ctl_start's, without thread creation.
 */
int rawio_cache_ctl_bind(struct rawio_cache_ctl **out, const char *path);
/*
 * rawio_cache_ctl_serve - the second half: answer requests on a bound CTL for
 * C from a new thread. C must outlive the server. -EINVAL when CTL already
 * serves, thread creation errors (CTL then stays bound: stop it).
 */
int rawio_cache_ctl_serve(struct rawio_cache_ctl *ctl, struct rawio_cache *c);
/* Stop serving (or only bound), remove the socket file, free. NULL is a no-op. */
void rawio_cache_ctl_stop(struct rawio_cache_ctl *ctl);
/*
 * rawio_cache_ctl_request - send one REQUEST line to the server at PATH and
 * put its answer (NUL-terminated, truncated to REPLY_LEN) in REPLY. Returns 0
 * when the server answered (its answer may be an error line), -errno when it
 * could not be reached (-ENOENT, -ECONNREFUSED, -ETIMEDOUT after 10 s).
 */
int rawio_cache_ctl_request(const char *path, const char *request, char *reply, size_t reply_len);

#endif
