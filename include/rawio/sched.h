/* SPDX-License-Identifier: MIT */
/*
 * sched: a disk I/O scheduler after Seastar's io_queue / fair_queue.
 *
 * The scheduler sits between its callers (store, cache, bench) and one engine
 * context: callers submit requests on behalf of a class, the scheduler decides
 * when each goes to the engine, and hands completions back through its own reap.
 *
 * The disk model (struct rawio_io_props, measured by `rawio iotune` or read
 * from Seastar's io_properties.yaml): a request of LEN bytes in direction D
 * costs
 *      cost = 1 / iops_D + LEN / bandwidth_D        seconds of disk time
 * (kept in nanoseconds). Two limits keep the disk where latency stays low:
 *   - a token bucket of disk time, refilled at the disk's capacity (one
 *     nanosecond of disk time per nanosecond) and holding at most tau's
 *     worth (the latency goal's if longer); a request leaves when the bucket
 *     holds its cost (a request costlier than the whole bucket leaves when
 *     the bucket is full and overdraws it);
 *   - the disk time in flight (dispatched, not completed) never exceeds the
 *     latency goal (default 0.75 ms, Seastar's 1.5 x task quota), except that
 *     a single request costlier than the goal may go alone.
 * Neither limit lets more than the engine's queue depth out. When the
 * properties say duplex (Seastar's key: the disk reads and writes at once
 * without one slowing the other), reads and writes each have a bucket and a
 * bound of their own (everything not a read counts as a write), as Seastar's
 * io_queue keeps a stream per direction: a read never waits for disk time
 * that writes hold, and writes get a whole goal's worth in flight.
 *
 * Classes and fairness: each class has shares (1..65535). The scheduler keeps,
 * per class, the disk time it was given divided by its shares (its virtual
 * time) and always serves the backlogged class with the least (weighted fair
 * queueing: two backlogged classes with shares 100 and 400 get disk time 1:4,
 * counted in cost, not in requests). A class that was idle may not bank
 * credit: when it becomes backlogged again its virtual time is raised to at
 * least the latest served virtual time less tau (default 5 ms) of disk time
 * divided by its shares (Seastar's forgiving factor). Within a class, requests
 * leave in submission order. A class may also be limited to a bandwidth (bytes
 * per second, its own token bucket with 10 ms of burst).
 *
 * Splitting: a read or write longer than the direction's split length is
 * split into parts of that length, scheduled one by one in the class's order,
 * and joined. The split length is the saturation length where the properties
 * give one (read_saturation_length / write_saturation_length), and never more
 * than the largest power of two (at least 64 KiB) whose cost fits in half the
 * latency goal, so that a bulk request never needs the whole bucket to itself
 * (Seastar's max_request_length). A split request is charged as the one
 * request it is: the first part pays 1/iops and its bytes, later parts only
 * their bytes (the parts sum to exactly the whole's cost). The
 * caller sees one completion whose result is what a single request would have
 * returned (the bytes of the longest fully transferred prefix, or the first
 * part's error when nothing moved).
 *
 * Without properties the scheduler knows no costs: every request costs 1
 * (WFQ by request count among what is queued), there is no bucket and no
 * in-flight time bound, so it passes everything through at the engine's full
 * depth. rawio_sched_stat() says so (model false).
 *
 * Admission control, one context per caller (Seastar's reactor shape): the
 * scheduler never drives an engine for anyone. A caller submits through its
 * own context (rawio_sched_ctx, over the caller's own engine context); the
 * scheduler grants engine requests (parts) in WFQ order while the limits
 * allow, and the context queues what was granted to it on its own engine and
 * reaps it there itself, telling the scheduler of each completion, which
 * returns the disk time and grants the next ones, to whichever context owns
 * them. A context whose requests wait for a grant with nothing of its own in
 * flight sleeps until one is granted to it (another context's completion
 * grants and wakes it) or until tokens refill (it sleeps with 1 ns timer
 * slack, as the engine's hybrid waiter does). Grants made to a context while
 * its owner waits at its own engine are queued at its next completion.
 *
 * Threads: the scheduler, its classes and its statistics are thread-safe; a
 * context is used by one thread at a time (as an engine context is). The
 * scheduler's own context over E (rawio_sched_submit / _reap) is one such
 * context. The "sched" engine is a context over an engine of its own.
 */
#ifndef RAWIO_SCHED_H
#define RAWIO_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawio/engine.h>

/*
 * One disk's properties, Seastar's io_properties.yaml keys. Bandwidths in
 * bytes per second; 0 in a saturation length or the block size: not given.
 */
struct rawio_io_props {
	char mountpoint[256];
	uint64_t read_iops;
	uint64_t read_bandwidth;
	uint64_t write_iops;
	uint64_t write_bandwidth;
	uint64_t read_saturation_length;  /* bytes; 0: no splitting of reads */
	uint64_t write_saturation_length; /* bytes; 0: no splitting of writes */
	uint64_t physical_block_size;	  /* bytes; 0: not given */
	bool duplex; /* reads and writes do not share the disk's capacity (Seastar's duplex) */
};

/*
 * rawio_io_props_parse - parse io_properties.yaml text (Seastar's format):
 *
 *   disks:
 *     - mountpoint: /var/lib/scylla
 *       read_iops: 95000
 *       read_bandwidth: 1.2G          (sizes: plain, or with k/M/G/T suffixes, 1024-based
 *       write_iops: 80000              as Seastar's parse_memory_size)
 *       write_bandwidth: 900M
 *       read_saturation_length: 128k  (optional)
 *       write_saturation_length: 64k  (optional)
 *       physical_block_size: 4096     (optional)
 *
 * A small line parser for exactly this shape: comments (#), blank lines,
 * "disks:" at column 0, one "- key: value" per disk followed by "key: value"
 * lines indented alike; "mountpoints:" (a list) is accepted and its first
 * entry kept; "duplex" (true/false) sets duplex; "rate_factor" scales the
 * four rates, as Seastar does. Stores up to MAX disks in OUT and their count
 * in *NR.
 * Errors (ERRBUF names the line: "line 4: ..."): -EINVAL unknown key, missing
 * or zero rate, bad number, a section other than "disks", bad indentation;
 * -E2BIG more than MAX disks.
 */
int rawio_io_props_parse(const char *text, struct rawio_io_props *out, size_t max, size_t *nr,
			 char *errbuf, size_t errbuf_len);

/* rawio_io_props_load - read PATH and parse it; errors as above plus the read's (-ENOENT...),
 * ERRBUF prefixed with PATH ("FILE:4: ..."). */
int rawio_io_props_load(const char *path, struct rawio_io_props *out, size_t max, size_t *nr,
			char *errbuf, size_t errbuf_len);

/*
 * rawio_io_props_format - write NR disks as io_properties.yaml into BUF (LEN
 * bytes). Returns the length it needed (as snprintf: output is cut when >= LEN).
 */
size_t rawio_io_props_format(const struct rawio_io_props *p, size_t nr, char *buf, size_t len);

/* The cost of LEN bytes in direction OP (RAWIO_OP_READ or _WRITE) under P, ns of disk time. */
uint64_t rawio_io_props_cost_ns(const struct rawio_io_props *p, unsigned op, uint64_t len);

struct rawio_sched_opts {
	size_t size;			    /* sizeof(struct rawio_sched_opts) */
	const struct rawio_io_props *props; /* copied; NULL: pass-through (no model) */
	uint64_t latency_goal_ns;	    /* in-flight bound and bucket size; 0 means 750000 */
	uint64_t tau_ns;		    /* how much idle credit a class keeps; 0 means 5 ms */
	/* The engine each "sched" engine context opens for itself on its device
	 * (rawio_sched_ctx_engine_open): NULL means the name of E; its options are
	 * kept by reference (NULL: defaults), with queue_depth the context's. */
	const char *ctx_engine;
	const struct rawio_engine_opts *ctx_engine_opts;
};

/*
 * A request as the scheduler carries it. The caller fills req (op, flags,
 * buf, len, off, user_data) and keeps the whole struct alive until reap hands
 * it back; req.result, req.submit_ns (when the scheduler got it) and
 * req.complete_ns are set as an engine would set them.
 */
struct rawio_sched_req {
	struct rawio_req req;

	/* Set by the scheduler. */
	uint64_t seq; /* dispatch order: 1 + requests dispatched before this one's first part */
	uint64_t queued_ns; /* submission to its first part's dispatch */
	uint64_t disk_ns;   /* first dispatch to the last part's completion */
	uint32_t nr_parts;  /* 1, or the parts it was split into */

	/* Private to the scheduler. */
	struct rawio_sched_ctx *ctx; /* the context it was submitted through */
	struct rawio_sched_class *cls;
	struct rawio_sched_req *next;		    /* class queue, then ctx's done list */
	struct rawio_sched_req *gr_next, *iss_next; /* ctx's grant list, the owner's copy */
	struct rawio_req io;			    /* what the engine sees when not split */
	struct rawio_req *parts;		    /* when split: nr_parts of them */
	uint32_t parts_granted, parts_ok;	    /* granted (scheduler), taken (owner) */
	uint32_t parts_sent, parts_done;	    /* owner */
	bool in_gr;
	uint64_t dispatch_ns;
};

struct rawio_sched;
struct rawio_sched_class;

/*
 * rawio_sched_new - a scheduler over engine context E (owned by the
 * scheduler from now on until rawio_sched_free; E itself stays the caller's
 * to close afterwards). O may be NULL (pass-through).
 * Errors: -EINVAL (bad size, a props with a zero rate), -ENOMEM.
 */
int rawio_sched_new(struct rawio_sched **out, struct rawio_engine *e,
		    const struct rawio_sched_opts *o);

/* Free S and its classes. Requests still queued or in flight are lost: reap them first. */
void rawio_sched_free(struct rawio_sched *s);

/*
 * rawio_sched_class_new - a new class NAME (copied, up to 31 bytes) with
 * SHARES (1..65535); any time, from any thread. Errors: -EINVAL, -ENOMEM.
 * Classes live until rawio_sched_free.
 */
int rawio_sched_class_new(struct rawio_sched *s, const char *name, unsigned shares,
			  struct rawio_sched_class **out);

/* Change a class's shares (1..65535) at once; its queued requests keep their order. -EINVAL. */
int rawio_sched_class_set_shares(struct rawio_sched_class *c, unsigned shares);

/* Limit a class to BYTES_PER_SEC (0: no limit). 0. */
int rawio_sched_class_set_bw_limit(struct rawio_sched_class *c, uint64_t bytes_per_sec);

const char *rawio_sched_class_name(const struct rawio_sched_class *c);

/* The scheduler C belongs to. */
struct rawio_sched *rawio_sched_class_sched(const struct rawio_sched_class *c);

/*
 * rawio_sched_submit - queue R for class C on the scheduler's own context (over
 * its engine E): what is granted goes to E at once. Returns 0: R will come
 * back from rawio_sched_reap exactly once (a request the engine rejects comes
 * back with its error in req.result). -EINVAL for a NULL argument or a class
 * of another scheduler; -ENOMEM when splitting needs memory (R is not queued).
 * One thread at a time with rawio_sched_reap (the context's owner).
 */
int rawio_sched_submit(struct rawio_sched *s, struct rawio_sched_class *c,
		       struct rawio_sched_req *r);

/*
 * rawio_sched_reap - wait until at least MIN requests are complete (MIN is
 * capped at the number submitted and not yet reaped), store up to MAX in OUT.
 * Returns the number stored or -errno when the engine failed.
 */
int rawio_sched_reap(struct rawio_sched *s, struct rawio_sched_req **out, unsigned min,
		     unsigned max);

/*
 * A caller's context: the caller's own engine context E (its queue depth
 * bounds what the context has at the engine; the rest of what is granted waits
 * in the context) and what the scheduler granted to it. One thread at a time;
 * E must outlive it and is not used directly meanwhile. Errors: -EINVAL, -ENOMEM.
 */
struct rawio_sched_ctx;
int rawio_sched_ctx_new(struct rawio_sched *s, struct rawio_engine *e,
			struct rawio_sched_ctx **out);
/* Free X; its requests must all have been reaped. */
void rawio_sched_ctx_free(struct rawio_sched_ctx *x);

/* Open an engine context for a context of S on DEV (S's ctx_engine, its options, depth QD). */
int rawio_sched_ctx_engine_open(struct rawio_sched *s, struct rawio_dev *dev, unsigned qd,
				struct rawio_engine **out);

/*
 * rawio_sched_ctx_submit - queue R for class C through X: whatever the
 * scheduler grants now is queued on X's engine, not committed (commit or reap
 * sends it). Errors as rawio_sched_submit.
 */
int rawio_sched_ctx_submit(struct rawio_sched_ctx *x, struct rawio_sched_class *c,
			   struct rawio_sched_req *r);

/* Commit what X queued on its engine. 0 or the engine's -errno. */
int rawio_sched_ctx_commit(struct rawio_sched_ctx *x);

/*
 * rawio_sched_ctx_reap - wait until at least MIN of X's requests are complete
 * (MIN capped at X's pending ones; 0: do not wait), store up to MAX in OUT.
 * Waits at X's engine for its own requests, or for a grant when none of X's
 * is at the engine. Returns the number stored, or -errno when the engine failed.
 */
int rawio_sched_ctx_reap(struct rawio_sched_ctx *x, struct rawio_sched_req **out, unsigned min,
			 unsigned max);

/* X's requests submitted and not yet reaped. */
unsigned rawio_sched_ctx_pending(const struct rawio_sched_ctx *x);

/*
 * The "sched" engine: an engine context whose requests go through class
 * opts.sched_class of a scheduler (rawio_engine_open(&e, "sched", DEV, &eo),
 * DEV the device of the scheduler's engine). Each such context is a
 * rawio_sched_ctx over an engine context of its own on DEV
 * (rawio_sched_ctx_engine_open, depth opts.queue_depth, default 32), so any
 * code written against an engine (batches, pools, run1) runs in a class
 * unchanged, and submits and reaps its own I/O. The scheduler and its class
 * must outlive the context.
 */

/* Requests submitted through the scheduler's own context and not yet reaped (its owner). */
unsigned rawio_sched_pending(struct rawio_sched *s);

struct rawio_sched_lat {
	uint64_t p50, p99, max; /* ns */
};

struct rawio_sched_class_stat {
	char name[32];
	unsigned shares;
	uint64_t bw_limit;
	uint64_t requests;		  /* completed (whole requests) */
	uint64_t bytes;			  /* transferred */
	uint64_t parts;			  /* engine requests they took (> requests when split) */
	uint64_t cost_ns;		  /* disk time dispatched (model), summed */
	uint64_t queued;		  /* waiting in the class queue right now */
	struct rawio_sched_lat queue_lat; /* submission to first dispatch */
	struct rawio_sched_lat disk_lat;  /* first dispatch to completion */
	uint64_t starved_ns;		  /* time it had requests queued and none in flight */
};

struct rawio_sched_stat {
	bool model;		  /* false: no properties, pass-through */
	bool duplex;		  /* a bucket and a bound per direction (props.duplex) */
	uint64_t latency_goal_ns; /* the in-flight bound (0 without a model) */
	unsigned engine_qd;
	uint64_t dispatched;	       /* engine requests */
	uint64_t splits;	       /* requests that were split */
	uint64_t max_inflight_cost_ns; /* most disk time in flight at once (in one direction) */
	unsigned max_inflight;	       /* most engine requests in flight at once */
	uint64_t token_waits;	       /* times dispatch stopped for the bucket */
	uint64_t bound_waits;	       /* times dispatch stopped for the in-flight bound */
	uint64_t grant_waits;	       /* times a context slept for a grant */
	unsigned nr_classes;
	unsigned contexts; /* rawio_sched_ctx open now (besides the scheduler's own) */
};

/* Counters so far. Thread-safe. */
void rawio_sched_stat(struct rawio_sched *s, struct rawio_sched_stat *st);
void rawio_sched_class_stat(struct rawio_sched_class *c, struct rawio_sched_class_stat *st);

/* Start C's latency statistics (queue_lat, disk_lat) afresh; its counters go on. Thread-safe. */
void rawio_sched_class_lat_reset(struct rawio_sched_class *c);

/* One line: "model r=95000/1.2GB/s w=... goal=750us" or "pass-through (no io properties) qd=32". */
void rawio_sched_describe(struct rawio_sched *s, char *buf, size_t len);

#endif
