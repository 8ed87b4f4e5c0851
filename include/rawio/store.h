/* SPDX-License-Identifier: MIT */
/*
 * store: a slot store on a raw block device or a file (seed 000, RawBlockCore).
 *
 * The device is cut into fixed-size slots (a power of two from 4 KiB to
 * 64 MiB, chosen at format). A slot holds one object: a key of 1 to 32 bytes
 * and a payload of up to slot_size - 4 KiB bytes, behind a self-describing
 * header block. An in-memory index maps keys to slots; checkpoints save it.
 * The format is in docs/store-format.md.
 *
 * Crash behaviour: a put that returned with RAWIO_STORE_DURABLE is on stable
 * storage and survives a power cut. A put that did not return, or returned
 * without DURABLE, leaves the key at its old value or its new one after a
 * crash, never a mix and never garbage (a torn payload fails its crc and the
 * older version is used). Overwrites never write over the old version: they go
 * to a free slot, and the old slot's header is zeroed only once the new one is
 * on stable storage. A delete zeroes the object's header.
 *
 * Recovery on open reads every slot header in batches on the chosen engine
 * (the read step), judges each with one engine-independent function (the
 * judge step), and applies the verdicts once: entries whose header no longer
 * matches are dropped, objects written after the last checkpoint are rolled
 * forward, the newest generation of each key wins.
 *
 * Handles and paths (the rule for the store and the cache alike): format,
 * open and check come in two forms. The one named without a suffix takes
 * what the part is usually given (the store: a path); the other is named by
 * what it takes instead: _dev (a rawio_dev handle) or _path (paths). A
 * handle passed in stays the caller's: rawio never closes it, and it must
 * outlive the store. What a path variant opens, rawio closes (at
 * rawio_store_close for an open store). The path variants are thin wrappers
 * over the _dev ones and add only rawio_dev_open's errors.
 *
 * Thread-safety: every call on one store may run concurrently from many
 * threads, except close. Format and check take a device no store has open.
 */
#ifndef RAWIO_STORE_H
#define RAWIO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rawio/engine.h>

#define RAWIO_STORE_KEY_MAX	 32
#define RAWIO_STORE_DEFAULT_SLOT (4u << 20)

struct rawio_store;
struct rawio_store_stat;
struct rawio_dev;

struct rawio_store_format_opts {
	size_t size;	      /* sizeof(struct rawio_store_format_opts) */
	uint64_t slot_size;   /* power of two, 4 KiB .. 64 MiB; 0 means 4 MiB */
	uint64_t slot_count;  /* 0: as many as fit */
	uint64_t create_size; /* a regular file that does not exist is created this big */
	bool force;	      /* format over a store or any non-zero superblock area */
	char *errbuf;	      /* optional: one line on why formatting failed */
	size_t errbuf_len;
	int lock_wait_ms; /* wait for another owner of the device: rawio_dev_opts.lock_wait_ms */
	/* optional: on success, what was made (uuid, slot_size, slot_count, payload_max,
	 * data_off, dev_size, and index_bytes: the RAM every open will need) */
	struct rawio_store_stat *made;
};

enum rawio_store_recover {
	RAWIO_STORE_RECOVER_DEFAULT = 0, /* newest valid checkpoint, validate, roll forward */
	RAWIO_STORE_RECOVER_SCAN,	 /* ignore checkpoints: rebuild from slot headers alone */
	RAWIO_STORE_RECOVER_NO_ROLL,	 /* seed 000 exactly: validate checkpoint entries only;
					  * read-only (it cannot know the newest generation) */
};

/* What a progress callback counts. */
enum rawio_store_phase {
	RAWIO_STORE_PHASE_HEADERS = 0, /* recovery: slot headers read */
	RAWIO_STORE_PHASE_PAYLOADS,    /* check: object payloads verified */
};

/*
 * Progress of long work in open (recovery) and check: DONE of TOTAL units of
 * PHASE, about every 4096 units and once with DONE == TOTAL. Called from the
 * opening (checking) thread; it must not call into the store.
 */
typedef void (*rawio_store_progress_fn)(void *arg, enum rawio_store_phase phase, uint64_t done,
					uint64_t total);

/*
 * How durable puts reach stable storage (rawio_store_opts.group_commit). A
 * durable put's payload is always durable before its header, flagged "payload
 * durable", is written (format v2). Ungrouped it writes payload then header
 * on its own, each with FUA or each followed by a flush (rawio_store_barrier). Grouped, it writes its payload without FUA, waits for a flush
 * shared with every put whose write completed before that flush began, writes
 * its header, waits for a second shared flush: N concurrent puts then cost
 * about two flushes between them instead of two each. Off by default: on ext4
 * over virtio-blk the kernel already merges the flushes of concurrent FUA
 * writes, and grouping in the store measured slower there (docs/perf.md,
 * "Puts at the limit"); it is meant for devices whose flushes nothing below
 * merges.
 */
enum rawio_store_group_commit {
	RAWIO_STORE_GROUP_OFF = 0, /* never: every durable put two ordered durable writes */
	RAWIO_STORE_GROUP_AUTO,	   /* grouped while another durable put is in flight */
	RAWIO_STORE_GROUP_ALWAYS,  /* always, a lone put too (write, flush, write, flush) */
};

/*
 * How an ungrouped durable put (and a durable delete) makes its writes durable
 * (rawio_store_opts.barrier). The order is the same either way: the payload is
 * durable before the header flagged "payload durable" is written, so a power
 * cut between them never leaves a flagged header over a payload that was not
 * durable. FUA: each write with FUA (RWF_DSYNC). FLUSH: each write plain, then
 * a flush (fdatasync): payload, flush, header, flush. Where the disk has no
 * FUA of its own the kernel turns a FUA write into a write and a flush anyway,
 * and on ext4 over virtio-blk RWF_DSYNC per write measured slower than the
 * write and one fdatasync (docs/perf.md, "Puts at the limit").
 */
enum rawio_store_barrier {
	RAWIO_STORE_BARRIER_AUTO = 0, /* FUA where rawio_dev_fua_cheap, else FLUSH */
	RAWIO_STORE_BARRIER_FUA,
	RAWIO_STORE_BARRIER_FLUSH,
};

/* "auto", "fua", "flush"; "?" for anything else. */
const char *rawio_store_barrier_name(enum rawio_store_barrier b);

/*
 * The store's engine: ENGINE (NULL: uring) opened with ENGINE_OPTS, which is
 * copied at open (its size field need not be set). The store sets the queue
 * depth of each context: engine_opts.queue_depth is that of recovery's batch
 * reads (0 means 128), foreground contexts use 4; engine_opts.threads 0 means
 * 8. With engine "fault", engine_opts.lower (NULL: sync), .faults, .nr_faults
 * and .fault_model act on every I/O the store does. What engine_opts points
 * to (fault ranges, a fault model, a throttle, lower_opts) must outlive the
 * store; the lower engine's name is copied.
 */
struct rawio_store_opts {
	size_t size;	    /* sizeof(struct rawio_store_opts) */
	const char *engine; /* sync|threads|aio|uring|mem|fault|...; NULL: uring */
	struct rawio_engine_opts engine_opts;
	enum rawio_store_recover recover;
	bool read_only; /* no writes at all: no repairs, no checkpoint on close */
	rawio_store_progress_fn progress;
	void *progress_arg;
	char *errbuf; /* optional: one line on why opening failed */
	size_t errbuf_len;
	int lock_wait_ms; /* wait for another owner, as rawio_dev_opts.lock_wait_ms */
	/*
	 * I/O scheduler classes (rawio/sched.h), each of a scheduler whose engine is on
	 * the store's device: recovery's batch reads of slot headers go in
	 * recovery_class, every other I/O (puts, bulk or not, gets, deletes,
	 * checkpoints, recovery's single reads and repairs) in io_class. NULL: ENGINE
	 * directly. The classes and their schedulers must outlive the store; the
	 * engine options above then apply to the scheduler's engine, not here.
	 */
	struct rawio_sched_class *io_class;
	struct rawio_sched_class *recovery_class;
	enum rawio_store_group_commit group_commit; /* durable puts: see the enum */
	enum rawio_store_barrier barrier;	    /* durable puts and deletes: see the enum */
};

/* What recovery found in one slot that is damage, a torn put or unreadable. */
enum rawio_store_finding {
	RAWIO_STORE_FOUND_DAMAGED = 1, /* a durable put's payload fails its crc (v2): kept in
					* the index, its slot reserved; get fails with
					* -EBADMSG until the key is removed or put again */
	RAWIO_STORE_FOUND_TORN,	       /* a put that was not durable (or a v1 header) and its
					* payload fails its crc: a torn put; dropped, zeroed */
	RAWIO_STORE_FOUND_BAD_HEADER,  /* a slot header with our magic fails its crc (a torn
					* header write or damage): zeroed */
	RAWIO_STORE_FOUND_BAD_ENTRY,   /* a checkpoint entry's slot holds a damaged header:
					* the object is dropped from the index */
	RAWIO_STORE_FOUND_UNREADABLE,  /* a slot that could not be read: left alone, not
					* reused, looked at again by the next recovery */
};

struct rawio_store_found {
	enum rawio_store_finding what;
	bool applied;	  /* done by this (read-write) recovery; false: read-only, it would */
	bool key_trusted; /* key from a sound header or checkpoint entry; false: as read from
			   * a damaged header (may be wrong), or key_len 0 when unreadable */
	uint8_t key_len;
	uint8_t key[RAWIO_STORE_KEY_MAX];
	uint64_t slot;
	uint64_t off;	     /* byte offset of the slot (its header) on the device */
	uint64_t generation; /* 0 when unknown */
};

#define RAWIO_STORE_FOUND_MAX 64 /* findings kept in rawio_store_recovery.found */

/* What recovery did (rawio_store_recovery). */
struct rawio_store_recovery {
	char engine[16];      /* the header reads' engine; "auto:ENGINE" when chosen by auto */
	char engine_why[256]; /* auto: why that engine (rawio_engine_choose's reason, the one
			       * the chosen depth gave); "" when the engine was named */
	enum rawio_store_recover mode;
	int checkpoint; /* area used (0 or 1), -1 none */
	uint64_t checkpoint_seq;
	bool checkpoint_fallback;  /* the newest checkpoint was bad; the older one was used */
	uint64_t loaded;	   /* entries in the checkpoint */
	uint64_t validated;	   /* checkpoint entries whose header matched */
	uint64_t dropped_mismatch; /* header is another object (identity, length, generation) */
	uint64_t dropped_corrupt;  /* header unreadable as one of ours (crc, magic, uuid) */
	uint64_t dropped_io;	   /* header read failed, also when retried alone: out of the
				    * index now, still named by checkpoints */
	uint64_t dropped_torn;	   /* a put that was not durable, its payload failing its crc */
	uint64_t damaged;	   /* a durable put's payload failing its crc: kept, reserved */
	uint64_t bad_headers;	   /* slot headers of ours failing their crc: zeroed */
	uint64_t rolled_forward;   /* objects written after the checkpoint, found by scan */
	uint64_t superseded;	   /* older versions of a key that a newer one replaced */
	uint64_t stale_zeroed;	   /* leftover headers (superseded, torn, stale) zeroed */
	uint64_t unreadable;	   /* other slots or candidate payloads unreadable: not reused,
				    * looked at again by the next recovery */
	uint64_t headers_read;	   /* slot headers read */
	uint64_t retried;	   /* headers re-read alone after a failed batch read */
	uint64_t payloads_read;	   /* payloads read to verify roll-forward candidates */
	uint64_t entries;	   /* objects in the index afterwards */
	uint64_t ns;		   /* wall time of recovery */
	uint64_t read_ns;	   /* of which: reading slot headers */
	uint32_t format_version;   /* of the store as found (STORE_VERSION: docs/store-format.md) */
	bool upgraded;	   /* a v1 store: this read-write open made it the current version */
	uint64_t nr_found; /* damaged, torn or unreadable slots; the first
				    * RAWIO_STORE_FOUND_MAX of them in found[] */
	struct rawio_store_found found[RAWIO_STORE_FOUND_MAX];
	/*
	 * The whole open by phase (wall time): open_ns from the call to the
	 * return, of which super_ns reading the superblocks, index_ns allocating
	 * the index, checkpoint_ns loading the checkpoint into it, read_ns above
	 * (reading and judging every slot header), roll_ns roll-forward and
	 * zeroing leftovers. read_cpu_ns is the process CPU time (every thread,
	 * io-wq workers included) spent while the headers were read: headers
	 * per CPU second is headers_read * 1e9 / read_cpu_ns; checkpoint_cpu_ns
	 * the same while the checkpoint was loaded.
	 */
	uint64_t open_ns;
	uint64_t super_ns;
	uint64_t index_ns;
	uint64_t checkpoint_ns;
	uint64_t roll_ns;
	uint64_t read_cpu_ns;
	uint64_t checkpoint_cpu_ns;
};

struct rawio_store_stat {
	uint64_t slot_size;
	uint64_t slot_count;
	uint64_t slots_used; /* objects, plus slots on their way back to the pool */
	uint64_t objects;
	uint64_t index_bytes; /* memory of the in-memory index */
	uint64_t payload_max;
	uint64_t bytes_used; /* sum of payload lengths */
	uint64_t next_generation;
	uint64_t checkpoint_seq;
	uint64_t puts, gets, deletes, checkpoints;
	uint64_t grouped_puts;	/* durable puts that went through the shared flushes */
	uint64_t group_flushes; /* flushes those puts shared (two per put when none shared) */
	enum rawio_store_barrier barrier; /* in force (FUA or FLUSH, never AUTO) */
	uint8_t uuid[16];
	uint64_t data_off;
	uint64_t dev_size;
};

/* One object, as list() reports it. */
struct rawio_store_obj {
	uint8_t key[RAWIO_STORE_KEY_MAX];
	size_t key_len;
	uint64_t slot;
	uint64_t off; /* byte offset of the slot (its header) on the device */
	uint64_t payload_len;
	uint32_t payload_crc;
	uint64_t generation;
};

/* put / delete flags */
#define RAWIO_STORE_DURABLE \
	(1u << 0) /* on stable storage before the call returns;
				       * puts: rawio_store_group_commit */

/*
 * rawio_store_format - write a new, empty store on PATH.
 *
 * Refuses (-EEXIST) when the superblock area holds a store or anything that
 * is not zero, unless opts->force. OPTS is required (size set).
 * Errors: -EINVAL (bad opts, slot size or count, or a device that needs more
 * than 4 KiB alignment), -ENOSPC (too small for the slots asked for, or one),
 * -EEXIST (see above), rawio_dev_open's errors, I/O errors.
 */
int rawio_store_format(const char *path, const struct rawio_store_format_opts *opts);

/*
 * rawio_store_format_dev - rawio_store_format on DEV (opened read-write by
 * the caller, left open). opts->create_size is ignored. It owns DEV while it
 * formats (rawio_dev_lock exclusive, -EBUSY after opts->lock_wait_ms when
 * another holder has it; a lock it took is dropped before it returns).
 * Errors as rawio_store_format's (-EINVAL also for a NULL DEV).
 */
int rawio_store_format_dev(struct rawio_dev *dev, const struct rawio_store_format_opts *opts);

/*
 * rawio_store_open - open the store on PATH and recover its index.
 * OPTS may be NULL (uring, default recovery, read-write).
 * Errors: -EINVAL (opts->size too small, or a device that needs more than
 * 4 KiB alignment); rawio_dev_open's (-ENOENT, -ENAMETOOLONG, ...);
 * -EUCLEAN/-EBADMSG when there is no valid superblock (not a store, or both
 * copies destroyed) or the device is smaller than the store; the recovery
 * engine's open errors; -ENOMEM; I/O errors reading what recovery must read.
 */
int rawio_store_open(struct rawio_store **out, const char *path,
		     const struct rawio_store_opts *opts);

/*
 * rawio_store_open_dev - open the store on DEV and recover its index. DEV
 * stays the caller's (rawio_store_close does not close it) and must outlive
 * the store; the store is read-only when DEV was opened read-only. Like
 * rawio_store_open it owns DEV while open (rawio_dev_lock: exclusive for a
 * writer, shared read-only; -EBUSY after opts.lock_wait_ms when another
 * holder has it), dropping a lock it took at close. The device's path
 * (rawio_dev_info) names it in errbuf. Errors as rawio_store_open's
 * (-EINVAL also for a NULL DEV), less rawio_dev_open's.
 */
int rawio_store_open_dev(struct rawio_store **out, struct rawio_dev *dev,
			 const struct rawio_store_opts *opts);

/*
 * rawio_store_close - write a checkpoint (unless read-only) and free; close
 * the device if rawio_store_open opened it. NULL is a no-op. Returns 0 or the
 * checkpoint's error.
 */
int rawio_store_close(struct rawio_store *s);

/*
 * rawio_store_put - store LEN bytes at BUF under KEY (1..32 bytes), replacing
 * any object with that key. Errors: -EINVAL bad key, -EFBIG longer than a
 * slot holds, -ENOSPC no free slot, -EROFS read-only, I/O errors (the old
 * object, if any, is then still there). A durable put whose shared flush
 * failed returns that flush's error, its header not written.
 */
int rawio_store_put(struct rawio_store *s, const void *key, size_t key_len, const void *buf,
		    size_t len, unsigned flags);

/*
 * rawio_store_get - read the object under KEY into BUF (BUF_LEN bytes).
 * Returns the payload length; if that is more than BUF_LEN nothing is copied
 * (call again with a larger buffer). Errors: -EINVAL bad key, -ENOENT,
 * -EBADMSG (the payload or header failed its crc: never returned as data;
 * also an object recovery found damaged, RAWIO_STORE_FOUND_DAMAGED),
 * -EUCLEAN (the slot holds something the index does not expect), -EIO (the
 * key kept moving under concurrent overwrites), -ENOMEM, I/O errors.
 */
ssize_t rawio_store_get(struct rawio_store *s, const void *key, size_t key_len, void *buf,
			size_t buf_len);

/*
 * rawio_store_lookup - where the object under KEY is (slot, offset, length,
 * crc, generation) into *OBJ, without reading it: to name the place of a
 * damaged object. Errors: -EINVAL bad key, -ENOENT.
 */
int rawio_store_lookup(struct rawio_store *s, const void *key, size_t key_len,
		       struct rawio_store_obj *obj);

/*
 * rawio_store_delete - remove KEY (its header is zeroed; pending older versions
 * of the key are made durably dead first). DURABLE as for put.
 * Errors: -EINVAL bad key, -ENOENT absent, -EROFS, -ENOMEM, I/O errors (the
 * object is then still there).
 */
int rawio_store_delete(struct rawio_store *s, const void *key, size_t key_len, unsigned flags);

/*
 * rawio_store_list - call FN for each object (in slot order) until it returns
 * non-zero, which list then returns. The index may change meanwhile: list
 * reports a consistent snapshot taken when it starts. -ENOMEM if the
 * snapshot cannot be taken.
 */
int rawio_store_list(struct rawio_store *s, int (*fn)(void *arg, const struct rawio_store_obj *obj),
		     void *arg);

/*
 * rawio_store_checkpoint - save the index to the older checkpoint area,
 * durably (every put and delete that returned before it is then durable too).
 * Errors: -EROFS, -ENOMEM, I/O errors (the previous checkpoint stays valid).
 */
int rawio_store_checkpoint(struct rawio_store *s);

/*
 * rawio_store_stat - a snapshot of geometry and counters into *ST (taken
 * under the store's lock: consistent, safe beside any other call).
 * rawio_store_recovery - what recovery at open did, into *R (fixed after open).
 */
void rawio_store_stat(struct rawio_store *s, struct rawio_store_stat *st);
void rawio_store_recovery(struct rawio_store *s, struct rawio_store_recovery *r);

/*
 * rawio_store_check - verify the store on PATH without changing it: both
 * superblocks, the checkpoint recovery uses (and whether a newer one was
 * damaged), the checkpoint entries against their slot headers, and every
 * object's payload crc. Writes one line per problem (at most
 * REPORT_LEN bytes in all) into REPORT: what recovery found, slot by slot
 * (rawio_store_found_str, saying what a read-write recovery would do), then
 * what else check found. Returns the number of problems found
 * (0: consistent) or -errno when it could not run.
 */
int rawio_store_check(const char *path, const struct rawio_store_opts *opts, char *report,
		      size_t report_len);

/* rawio_store_check_dev - rawio_store_check on DEV (the caller's, left open). */
int rawio_store_check_dev(struct rawio_dev *dev, const struct rawio_store_opts *opts, char *report,
			  size_t report_len);

/*
 * rawio_store_found_str - one line (no newline) into BUF saying what F is and
 * what recovery did about it (or, when !F->applied, would do). Returns what
 * snprintf returns.
 */
int rawio_store_found_str(const struct rawio_store_found *f, char *buf, size_t len);

/* "default", "scan", "no-roll"; "?" for anything else. */
const char *rawio_store_recover_name(enum rawio_store_recover mode);

#endif
