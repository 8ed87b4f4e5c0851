/* SPDX-License-Identifier: MIT */
/*
 * engine: one submit/reap interface over several I/O engines.
 *
 * An engine context drives one device from one thread (contexts are not
 * thread-safe: one thread at a time; a context may move between threads, as a
 * pool's do, except that uring with SINGLE_ISSUER or DEFER_TASKRUN binds the
 * ring to the thread that opened it). The model is fio's and blk-mq's:
 *
 *   rawio_engine_queue()  hand one request to the engine. Answers
 *                         RAWIO_Q_QUEUED (it will come back from reap),
 *                         RAWIO_Q_DONE (complete now; it will not come back
 *                         from reap) or RAWIO_Q_BUSY (the engine is full: reap
 *                         something, then queue it again). Never blocks on I/O.
 *   rawio_engine_commit() make queued requests visible to the device (one
 *                         io_submit / io_uring_enter for the batch).
 *   rawio_engine_reap()   wait for at least MIN completions and return up to MAX.
 *
 * Every request that was QUEUED comes back from reap exactly once, with its
 * result set: the number of bytes transferred, or -errno. Short transfers are
 * completed by resubmitting the remainder inside the core; a read that ends at
 * the end of the device returns the bytes up to the end (0 past it). EAGAIN from
 * the kernel and full submission or completion queues are handled inside: a
 * request is resubmitted up to 1000 times before it completes with -EAGAIN.
 *
 * Requests must follow the device's direct I/O rules (rawio_dev_check_io);
 * one that does not completes at queue time with -EINVAL (RAWIO_Q_DONE).
 *
 * Engines (rawio_engine_list()):
 *   sync     pread/pwrite inline; the baseline
 *   threads  a POSIX thread pool of opts.threads workers
 *   aio      Linux AIO (libaio), completion ring reaped in user space
 *   uring    io_uring (liburing), batched submit, optional registered files
 *            and buffers, SQPOLL, COOP/DEFER_TASKRUN, IOPOLL where supported
 *   mem      RAM device (rawio_dev_open_mem / "mem:SIZE[,opts]"): hardware
 *            queues with tags, sq/mq, inline/thread/timer completion (dev.h)
 *   fault    stacks on another engine and fails requests touching ranges
 *            (and models a volatile write cache: rawio_fault_model)
 *   throttle stacks on another engine and completes requests when an
 *            emulated slow device would have (rawio_throttle, below)
 *   nbd      an NBD export (libnbd's asynchronous API), docs/remote.md
 *   rbd      a Ceph RBD image (librbd's asynchronous API; docs/remote.md); only
 *            in a rawio built with librbd
 */
#ifndef RAWIO_ENGINE_H
#define RAWIO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rawio_dev;
struct rawio_dev_info; /* rawio/dev.h */
struct rawio_poll_cfg; /* rawio/predict.h */

enum rawio_op {
	RAWIO_OP_READ = 0,
	RAWIO_OP_WRITE,
	RAWIO_OP_FSYNC,
	RAWIO_OP_FDATASYNC,
	RAWIO_OP_DISCARD, /* off/len: contents afterwards read as zeroes or old data */
	RAWIO_OP_NR,
};

/* Request flags. */
#define RAWIO_REQ_FUA	 (1u << 0) /* write: durable on completion (RWF_DSYNC) */
#define RAWIO_REQ_NOWAIT (1u << 1) /* try RWF_NOWAIT; on EAGAIN the core resubmits without */

struct rawio_req {
	/* Set by the caller. */
	uint8_t op;	 /* enum rawio_op */
	uint32_t flags;	 /* RAWIO_REQ_* */
	void *buf;	 /* READ/WRITE: aligned buffer */
	uint64_t len;	 /* bytes */
	uint64_t off;	 /* byte offset */
	void *user_data; /* the caller's; untouched */

	/* Set by rawio. */
	int64_t result;	      /* bytes transferred or -errno */
	uint64_t submit_ns;   /* CLOCK_MONOTONIC when queued */
	uint64_t complete_ns; /* CLOCK_MONOTONIC when completion was seen */
	/* Phases (RAWIO_MEM_PHASES, sampled; tag_ns 0 where not recorded), blktrace's G, D and C:
	 * a tag acquired, dispatched to the hardware queue, completed by the device. */
	uint64_t tag_ns, dispatch_ns, device_ns;

	/* Private to the core and the engine. */
	uint64_t done; /* bytes completed by earlier partial transfers */
	uint32_t core_flags;
	uint32_t eng_flags;
	uint32_t eng_index;
	struct rawio_req *eng_next;
};

/* Answers of rawio_engine_queue(). */
enum rawio_q {
	RAWIO_Q_QUEUED = 0,
	RAWIO_Q_DONE = 1,
	RAWIO_Q_BUSY = 2,
};

/* Engine capability flags (rawio_engine_caps). */
#define RAWIO_CAP_ASYNC	   (1u << 0) /* more than one request in flight per context */
#define RAWIO_CAP_FD	   (1u << 1) /* needs a file descriptor (not a RAM device) */
#define RAWIO_CAP_MEM	   (1u << 2) /* needs a RAM device */
#define RAWIO_CAP_STACKED  (1u << 3) /* drives another engine */
#define RAWIO_CAP_FUA	   (1u << 4) /* FUA writes without a separate flush */
#define RAWIO_CAP_REG_BUFS (1u << 5) /* registered buffers */
/*
 * Completions arrive in batches a reap can take together (a ring or a kernel
 * event array: uring, aio, mem), so waiting for several saves wake-ups. Engines
 * without it complete one request at a time (a worker thread or a network
 * callback per request: sync, threads, nbd, rbd): there a reap that waits for
 * more than one leaves finished slots idle (rbd QD 32 randread: 0.65x fio's
 * IOPS waiting for 4, 0.99x for 1), and rawio bench reaps from 1 on.
 */
#define RAWIO_CAP_BATCH_REAP (1u << 6)

/* uring setup flags we ask for (rawio_engine_opts.uring_flags). */
#define RAWIO_URING_REG_FILES	  (1u << 0) /* io_uring_register_files + IOSQE_FIXED_FILE */
#define RAWIO_URING_REG_BUFS	  (1u << 1) /* register opts.reg_buf as one fixed buffer */
#define RAWIO_URING_SQPOLL	  (1u << 2) /* IORING_SETUP_SQPOLL */
#define RAWIO_URING_COOP_TASKRUN  (1u << 3) /* IORING_SETUP_COOP_TASKRUN | TASKRUN_FLAG */
#define RAWIO_URING_SINGLE_ISSUER (1u << 4) /* IORING_SETUP_SINGLE_ISSUER */
#define RAWIO_URING_DEFER_TASKRUN (1u << 5) /* IORING_SETUP_DEFER_TASKRUN (implies SINGLE_ISSUER) */
#define RAWIO_URING_IOPOLL	  (1u << 6) /* IORING_SETUP_IOPOLL: needs poll queues */
#define RAWIO_URING_HYBRID_IOPOLL (1u << 7) /* IOPOLL | HYBRID_IOPOLL (6.13): needs poll queues */

/*
 * One range the fault engine acts on. A request matches when its op is in OPS
 * and its bytes overlap [off, off + len) (fsync and fdatasync match any range
 * that names them). A match fails the request with ERR, or, when SHORT_LEN is
 * set, transfers only SHORT_LEN bytes of it (a short read or write, which the
 * core completes by resubmitting the rest), or, with BITROT, lets a read
 * succeed but flips one bit (chosen from the offset) in the bytes it returns
 * from the range.
 */
struct rawio_fault_range {
	uint64_t off;
	uint64_t len;
	unsigned ops;	    /* bit mask of (1u << RAWIO_OP_*); 0 means read and write */
	int err;	    /* positive errno to fail with; 0 means EIO */
	uint32_t short_len; /* non-zero: truncate the transfer to this many bytes instead */
	uint32_t count;	    /* act on the first COUNT matches only; 0 means always */
	bool bitrot;	    /* reads succeed, with a flipped bit in the range */
};

/*
 * A device's volatile write cache, for crash tests (SQLite's test6, in the
 * engine layer). Every fault engine context given the same model shares it:
 * writes without FUA are held in the model until a flush (fsync/fdatasync)
 * writes them down; reads see them; FUA writes go down at once and supersede
 * held data they overlap. The plug is pulled at the Nth flush, the Nth write,
 * at a time, or by rawio_fault_model_cut(): each held write is then kept,
 * lost, or torn (a prefix of its sectors, or any subset) by a choice drawn
 * from the seed, and every later I/O through the model fails with -EIO.
 * With a model, fault engines complete every request synchronously.
 */
struct rawio_fault_model;

enum rawio_cut {
	RAWIO_CUT_NONE = 0, /* only rawio_fault_model_cut() pulls the plug */
	RAWIO_CUT_AT_FLUSH, /* the cut_at-th flush (1-based) never happens: cut instead */
	RAWIO_CUT_AT_WRITE, /* the cut_at-th write never happens: cut instead */
	RAWIO_CUT_AT_NS,    /* the first I/O cut_at ns after the model was made: cut */
};

struct rawio_fault_model_opts {
	size_t size;   /* sizeof(struct rawio_fault_model_opts) */
	uint64_t seed; /* every choice derives from it */
	enum rawio_cut cut;
	uint64_t cut_at;
	unsigned keep_pct; /* odds a held write is kept / lost at the cut; the rest tear. */
	unsigned lose_pct; /* both 0: a third each */
};

struct rawio_fault_model_stat {
	uint64_t writes, fua_writes, reads, flushes;
	uint64_t held;				       /* writes held right now */
	uint64_t kept, lost, torn_prefix, torn_subset; /* at the cut */
	bool cut;
};

/*
 * rawio_fault_model_new - a model with nothing held. O->size must be
 * sizeof(struct rawio_fault_model_opts). Writes counted by RAWIO_CUT_AT_WRITE
 * include discards. Errors: -EINVAL (size, keep_pct + lose_pct > 100), -ENOMEM.
 * Thread-safe, as are the calls below.
 */
int rawio_fault_model_new(struct rawio_fault_model **out, const struct rawio_fault_model_opts *o);
/* Free; engines using it must be closed first. NULL is a no-op. */
void rawio_fault_model_free(struct rawio_fault_model *m);
/* Pull the plug now (no-op if already cut). Returns 0 or the error writing down kept data. */
int rawio_fault_model_cut(struct rawio_fault_model *m);
/* Counters so far, and whether the plug was pulled. */
void rawio_fault_model_stat(struct rawio_fault_model *m, struct rawio_fault_model_stat *st);

struct rawio_engine_opts {
	size_t size;	      /* sizeof(struct rawio_engine_opts) */
	unsigned queue_depth; /* requests in flight per context; 0 means 32 */
	unsigned threads;     /* threads engine: workers; 0 means queue_depth, capped at 64 */

	/* uring */
	unsigned uring_flags;	 /* RAWIO_URING_* wanted */
	unsigned sqpoll_idle_ms; /* SQPOLL idle before the kernel thread sleeps; 0 means 100 */
	void *reg_buf;		 /* RAWIO_URING_REG_BUFS: one region to register ... */
	size_t reg_buf_len;	 /* ... requests whose buffer lies inside it use READ/WRITE_FIXED */

	/* fault */
	const char *lower; /* engine under the fault engine; NULL means "sync" */
	const struct rawio_engine_opts *lower_opts; /* NULL: these opts, less the fault part */
	const struct rawio_fault_range *faults;
	size_t nr_faults;
	struct rawio_fault_model *fault_model; /* optional volatile-cache model, shared */

	/* mem */
	unsigned mem_flags; /* RAWIO_MEM_* */

	/* Waiting for completions (every engine; the predictor: rawio/predict.h). */
	unsigned wait_mode;		   /* RAWIO_WAIT_BLOCK (0), _SPIN or _HYBRID */
	unsigned wait_flags;		   /* RAWIO_WAIT_F_* */
	const struct rawio_poll_cfg *poll; /* hybrid: the predictor (copied); NULL: linux */

	/*
	 * mem: completion latency (null_blk's completion_nsec, irqmode=timer): each
	 * request completes mem_lat_ns after it was queued, or the Nth request
	 * queued takes mem_lat[N % mem_lat_nr] ns (kept by reference: the array
	 * must outlive the context).
	 */
	uint64_t mem_lat_ns;
	const uint64_t *mem_lat;
	size_t mem_lat_nr;

	/* throttle: the emulated device (required); the engine under it is opts.lower
	 * (NULL: "mem" on a RAM device, else "sync") with opts.lower_opts */
	struct rawio_throttle *throttle;

	/* nbd: connections per context when the server offers multi-conn; 0 means 4, or
	 * queue_depth / 16 (rounded up, at most 16) when that is more.
	 * Without multi-conn the engine opens one whatever is asked. */
	unsigned nbd_conns;

	/* mem: 0: each request goes to the hardware queue of the CPU that submits it
	 * (cpu % queues, blk-mq's map); N: always to queue N - 1 (1..queues). */
	unsigned mem_queue;

	/* sched: the class whose scheduler carries this context's requests (rawio/sched.h) */
	struct rawio_sched_class *sched_class;
};

/*
 * Wait modes (rawio_engine_opts.wait_mode): how rawio_engine_reap() waits when
 * it must. BLOCK sleeps in the kernel until completions arrive (io_uring_enter,
 * io_getevents, a condition variable; the mem engine with a latency sleeps to
 * the first completion's time, like null_blk's timer). SPIN polls the
 * completion queue without sleeping (uring: peeks the CQ ring, entering the
 * kernel only when the ring says completion work waits there, as under
 * DEFER_TASKRUN). HYBRID sleeps the predictor's time once per request (the
 * most recently queued one it has not slept for), then spins. The kernel's
 * own IOPOLL and HYBRID_IOPOLL need poll queues (RAWIO_URING_IOPOLL,
 * RAWIO_URING_HYBRID_IOPOLL: -EOPNOTSUPP without them).
 * SPIN and HYBRID lower the calling thread's timer slack to 1 ns at their
 * first sleep (PR_SET_TIMERSLACK; the default 50 us would swamp any
 * prediction) unless RAWIO_WAIT_F_KEEP_SLACK; so does BLOCK on a mem device
 * with a latency.
 */
#define RAWIO_WAIT_BLOCK  0u
#define RAWIO_WAIT_SPIN	  1u
#define RAWIO_WAIT_HYBRID 2u
#define RAWIO_WAIT_NR	  3u

/* "block", "spin", "hybrid" <-> RAWIO_WAIT_*. Parse: 0 or -EINVAL; name: "?" when unknown. */
int rawio_wait_mode_parse(const char *s, unsigned *mode);
const char *rawio_wait_mode_name(unsigned mode);

/*
 * Wait flags (rawio_engine_opts.wait_flags). ACCOUNT: measure wait_cpu_ns with
 * the thread's CPU clock (two system calls per wait) and count block waits
 * too. KEEP_SLACK: leave the thread's timer slack alone.
 */
#define RAWIO_WAIT_F_ACCOUNT	(1u << 0)
#define RAWIO_WAIT_F_KEEP_SLACK (1u << 1)

/* mem engine flags (rawio_engine_opts.mem_flags). */
#define RAWIO_MEM_NULL \
	(1u << 0) /* move no data (null_blk without memory backing): reads leave
				  * the buffer as it is, writes store nothing; what remains is
				  * the stack's own cost per I/O */
#define RAWIO_MEM_PHASES \
	(1u << 1) /* stamp tag_ns, dispatch_ns and device_ns, and complete_ns when
				  * reaped, on one request in eight (the first of every eight a
				  * context queues; the others get tag_ns 0): four clock reads */

/*
 * Any engine's flag in mem_flags: record request phases for rawio bench --phases
 * (rawio_req's tag_ns, dispatch_ns, device_ns). The mem engine stamps its own
 * (RAWIO_MEM_PHASES); on sync, threads, aio, uring, nbd and rbd the core stamps
 * every request: tag = submitted (no tags), dispatched when the engine took it
 * (its commit returned, for engines that batch; threads: a worker took it from the
 * pool's queue, so the wait for a worker is G2D), device when the engine saw the
 * completion (the CQE, the event, the worker done), and complete_ns moves to when
 * the caller reaped it. Stacked engines (fault, throttle) record none.
 */
#define RAWIO_ENGINE_PHASES RAWIO_MEM_PHASES

/* Counters kept by the core for every engine. */
struct rawio_engine_stat {
	uint64_t queued;       /* requests accepted */
	uint64_t completed;    /* requests completed (either way) */
	uint64_t resubmits;    /* short transfers and EAGAIN resubmitted */
	uint64_t busy;	       /* RAWIO_Q_BUSY answers */
	uint64_t submit_calls; /* system calls that submitted I/O */
	uint64_t reap_calls;   /* system calls that waited for or fetched completions */
	uint64_t user_reaps;   /* completions found without a system call */

	/* Waiting: spin and hybrid count the reaps that found nothing ready and waited;
	 * block counts the reaps that were asked to wait, with RAWIO_WAIT_F_ACCOUNT only. */
	uint64_t waits;
	uint64_t wait_ns;     /* wall time of those waits */
	uint64_t wait_cpu_ns; /* CPU time of the thread in them (RAWIO_WAIT_F_ACCOUNT, else 0) */
	uint64_t spin_ns;     /* wall time spent polling (spin, hybrid after its sleep) */
	uint64_t sleeps;      /* hybrid sleeps */
	uint64_t sleep_ns;    /* the sleeps asked for, summed */
	uint64_t oversleeps;  /* sleeps that woke to a completion already waiting */
};

struct rawio_engine;

/*
 * rawio_engine_open - create an engine context on DEV.
 * @name: "sync", "threads", "aio", "uring", "mem", "fault" or "throttle"
 *        (rawio_engine_list() names them all).
 * @opts: may be NULL for defaults.
 *
 * An engine is never swapped for another: one that needs a file descriptor
 * (sync, threads, aio, uring) is refused on a device without one (a RAM
 * device, an NBD export, an RBD image). Callers that choose for the user
 * take rawio_engine_default() or "auto", which pick mem, nbd or rbd there.
 *
 * Errors: -ENOENT unknown engine; -EINVAL bad options or an engine that cannot
 * drive this kind of device (mem on a file, sync on a RAM device or an RBD
 * image);
 * -EOPNOTSUPP on an RBD image in a rawio built without librbd;
 * -EOPNOTSUPP a feature asked for that the device or kernel lacks (IOPOLL
 * without poll queues); -ENOMEM; errors from io_setup / io_uring_setup.
 */
int rawio_engine_open(struct rawio_engine **out, const char *name, struct rawio_dev *dev,
		      const struct rawio_engine_opts *opts);

/* Wait for every request in flight, then free. NULL is a no-op. */
void rawio_engine_close(struct rawio_engine *e);

/* Queue one request. Returns enum rawio_q, or -errno if the engine itself has failed. */
int rawio_engine_queue(struct rawio_engine *e, struct rawio_req *req);

/* Submit what was queued. Returns 0 or -errno. */
int rawio_engine_commit(struct rawio_engine *e);

/*
 * Reap completions: wait until at least MIN are available (MIN is capped at the
 * number in flight), store up to MAX in OUT. Returns the number stored, or
 * -errno if the engine failed. Commits queued requests first.
 */
int rawio_engine_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max);

/* Requests queued and not yet reaped. */
unsigned rawio_engine_inflight(const struct rawio_engine *e);

/* Queue depth in force (opts.queue_depth, possibly lowered by the engine). */
unsigned rawio_engine_queue_depth(const struct rawio_engine *e);

const char *rawio_engine_name(const struct rawio_engine *e);
unsigned rawio_engine_caps(const struct rawio_engine *e);
struct rawio_dev *rawio_engine_dev(const struct rawio_engine *e);
/* The core's counters for E so far (a copy; same thread rule as every call on E). */
void rawio_engine_stat(const struct rawio_engine *e, struct rawio_engine_stat *st);

/*
 * rawio_engine_describe - one line on what the engine really set up
 * (for uring: which setup flags stuck after probing). Writes at most LEN bytes.
 */
void rawio_engine_describe(const struct rawio_engine *e, char *buf, size_t len);

/*
 * rawio_uring_setup_flags - the IORING_SETUP_* bits the uring engine's ring
 * was created with after probing (the flags that stuck); 0 for other engines.
 */
unsigned rawio_uring_setup_flags(const struct rawio_engine *e);

/*
 * rawio_engine_run1 - run one request to completion (queue, commit, reap) and
 * return its result: bytes or -errno. E must have nothing else in flight
 * (-EBUSY otherwise).
 */
int64_t rawio_engine_run1(struct rawio_engine *e, struct rawio_req *req);

/*
 * Engine "auto" (rawio_engine_open with name "auto", the default wherever a
 * user names no engine): the engine that neither blocks nor punts on this
 * device at depth QD (0 means 32), and why:
 *   mem       a RAM device
 *   uring     RWF_NOWAIT reads work (a one-read probe; and fsqual's cached
 *             verdict, where there is one, does not say io_uring reads stall)
 *   sync      depth 1 where io_uring would punt to io-wq (no NOWAIT: zram,
 *             loop without direct I/O), or buffered I/O at depth 1
 *   aio       depth > 1 there, unless fsqual's cache says aio reads stall
 *   threads   both would stall, or buffered I/O at depth > 1
 * fsqual's verdicts come from its cache (rawio/fsqual.h), written by every
 * rawio fsqual run; without one the probe and the device's traits decide.
 * rawio_engine_open("auto") falls back to aio, then sync, when the pick
 * cannot be opened (io_uring disabled), and rawio_engine_describe ends with
 * "auto: WHY". Returns 0 (always picks something for a valid DEV).
 */
struct rawio_engine_choice {
	char engine[16];
	char why[256];
	bool from_cache; /* fsqual's cached verdicts were used */
	bool uring_punts; /* O_DIRECT here without NOWAIT reads: io_uring hands every read to io-wq */
	bool aio_async;	  /* O_DIRECT here and fsqual does not say aio reads stall */
};

int rawio_engine_choose(struct rawio_dev *dev, unsigned qd, struct rawio_engine_choice *out);

/* The registry: NULL-terminated list of engine names ("auto" is not in it). */
const char *const *rawio_engine_list(void);

/* The RAWIO_CAP_* flags of the engine NAME in the registry (no context needed); 0 if unknown. */
unsigned rawio_engine_name_caps(const char *name);

/*
 * rawio_engine_default - the engine to use on a device when the caller names
 * none: "mem" on a RAM device, "nbd" on an NBD export, "rbd" on a Ceph RBD
 * image, "uring" otherwise.
 */
const char *rawio_engine_default(const struct rawio_dev_info *info);

/*
 * rawio_engine_io - one synchronous I/O on E (rawio_engine_run1 on a request
 * built from OP, FLAGS, BUF, LEN, OFF) for callers that never go past a
 * device's end: a read or write that moves fewer than LEN bytes is -EIO.
 * Returns bytes (LEN for a read or write, 0 for a flush) or -errno. E must
 * have nothing in flight (-EBUSY otherwise).
 */
int64_t rawio_engine_io(struct rawio_engine *e, int op, unsigned flags, void *buf, uint64_t len,
			uint64_t off);

/*
 * Engine pools: contexts of one engine on one device, kept for reuse by many
 * threads (a context is one thread's at a time; a pool hands each borrower
 * its own). The store and the cache do their foreground I/O through one.
 *
 * rawio_engine_pool_new - a pool of engine NAME on DEV, each context opened
 * with OPTS (copied, NULL for defaults; what its pointers point at, such as
 * opts.faults or opts.lower, must outlive the pool). It keeps up to MAX_IDLE
 * returned contexts; it opens none until the first borrow. DEV must outlive it.
 * Errors: -EINVAL (NULL NAME or DEV, a name longer than 15 bytes, MAX_IDLE 0,
 * OPTS->size too small), -ENOMEM. Engine errors come from the first borrow.
 *
 * rawio_engine_pool_free - close the kept contexts and free. Every borrowed
 * context must have been returned. NULL is a no-op.
 *
 * rawio_engine_pool_get - borrow a context: a kept one, else a new one.
 * Returns 0 or rawio_engine_open's errors.
 *
 * rawio_engine_pool_put - return E (nothing in flight): kept, or closed when
 * MAX_IDLE are kept already. NULL is a no-op.
 *
 * rawio_engine_pool_io - borrow, rawio_engine_io, return: one synchronous I/O.
 * Returns what rawio_engine_io returns, or the borrow's error.
 *
 * Thread-safety: get, put and io may be called from any number of threads at
 * once; new and free by one thread with no other call on the pool.
 */
struct rawio_engine_pool;

int rawio_engine_pool_new(struct rawio_engine_pool **out, const char *name, struct rawio_dev *dev,
			  const struct rawio_engine_opts *opts, unsigned max_idle);
void rawio_engine_pool_free(struct rawio_engine_pool *p);
int rawio_engine_pool_get(struct rawio_engine_pool *p, struct rawio_engine **out);
void rawio_engine_pool_put(struct rawio_engine_pool *p, struct rawio_engine *e);
int64_t rawio_engine_pool_io(struct rawio_engine_pool *p, int op, unsigned flags, void *buf,
			     uint64_t len, uint64_t off);

/*
 * Buffer pools: I/O buffers of one size and alignment, kept for reuse (a
 * fresh 4 MiB buffer costs 1024 page faults).
 *
 * rawio_buf_pool_new - buffers of LEN bytes (rounded up to ALIGN) aligned to
 * ALIGN (a power of two, at least sizeof(void *)); up to MAX_IDLE returned
 * ones are kept. Errors: -EINVAL (LEN or MAX_IDLE 0, a bad ALIGN), -ENOMEM.
 * rawio_buf_pool_free - free the kept buffers and the pool (borrowed ones
 * must have been returned); NULL is a no-op.
 * rawio_buf_pool_get - a buffer (contents undefined: not zeroed), or NULL
 * when out of memory.
 * rawio_buf_pool_put - return BUF (from this pool): kept, or freed when
 * MAX_IDLE are kept already. NULL is a no-op.
 *
 * Thread-safety: as for engine pools.
 */
struct rawio_buf_pool;

int rawio_buf_pool_new(struct rawio_buf_pool **out, size_t len, size_t align, unsigned max_idle);
void rawio_buf_pool_free(struct rawio_buf_pool *p);
void *rawio_buf_pool_get(struct rawio_buf_pool *p);
void rawio_buf_pool_put(struct rawio_buf_pool *p, void *buf);

/*
 * throttle: an emulated slow device (docs/engines.md, "throttle"). The engine
 * stacks on another and passes every request down at once, but hands its
 * completion back only when an emulated device, one per rawio_throttle and
 * shared by every context given it, would have finished it. That device
 * serves one request at a time, in arrival order; a request costs
 *   1/iops + len/bw + seek_us * sqrt(distance / span)     (reads and writes)
 *   flush_us                                               (fsync, fdatasync)
 *   1/iops                                                 (discard)
 * where distance is how far its offset is from where the previous request
 * ended (0 for a sequential one). Throughput at any queue depth follows the
 * model exactly; the latency of one request is at least the model's (the
 * sleep to its finish time wakes with the thread's timer slack).
 */
struct rawio_throttle;

struct rawio_throttle_params {
	size_t size;	   /* sizeof(struct rawio_throttle_params) */
	uint64_t iops;	   /* fixed cost 1/iops s per request; 0: none */
	uint64_t bw;	   /* bytes per second; 0: transfers cost nothing */
	uint64_t seek_us;  /* a full-stroke seek */
	uint64_t flush_us; /* a flush of the volatile cache */
	uint64_t span;	   /* bytes of a full stroke; 0: the size of the first device opened */
};

struct rawio_throttle_stat {
	uint64_t requests, flushes, bytes;
	uint64_t busy_ns; /* emulated time the device was busy */
	uint64_t seek_ns; /* of which: seeking */
};

/* Errors: -EINVAL (P NULL or too small), -ENOMEM. */
int rawio_throttle_new(struct rawio_throttle **out, const struct rawio_throttle_params *p);
/* Free; contexts using it must be closed first. NULL is a no-op. */
void rawio_throttle_free(struct rawio_throttle *t);
/*
 * The emulated device's counters so far. Thread-safe: contexts on many
 * threads may share one throttle, and stat may run beside them.
 */
void rawio_throttle_stat(struct rawio_throttle *t, struct rawio_throttle_stat *st);
/*
 * rawio_throttle_parse - fill P from SPEC: a preset ("hdd": iops=5000,
 * bw=150m, seek=4ms, flush=5ms; "ssd": iops=200000, bw=500m, seek=0,
 * flush=100us) and/or comma-separated KEY=VALUE (iops, bw and span take
 * sizes like 150m; seek and flush take times like 4ms, 100us, 1s, or plain
 * microseconds), later ones overriding earlier ones: "hdd,seek=8ms".
 * Returns 0 or -EINVAL.
 */
int rawio_throttle_parse(const char *spec, struct rawio_throttle_params *p);

/*
 * rawio_throttle_stack - make EO drive INFO's device through an emulated slow
 * device: parse SPEC (as rawio_throttle_parse), create the throttle in *OUT,
 * set eo->throttle and eo->lower (LOWER, or rawio_engine_default(INFO) when
 * NULL). The caller opens the "throttle" engine with EO and frees *OUT after
 * closing every context. Returns 0, -EINVAL (SPEC malformed) or -ENOMEM.
 */
int rawio_throttle_stack(const char *spec, const char *lower, const struct rawio_dev_info *info,
			 struct rawio_throttle **out, struct rawio_engine_opts *eo);

/* Monotonic clock in nanoseconds. */
uint64_t rawio_now_ns(void);

#endif
