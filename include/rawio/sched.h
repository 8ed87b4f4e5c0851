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
 *     nanosecond of disk time per nanosecond) and holding at most the latency
 *     goal's worth; a request leaves when the bucket holds its cost (a request
 *     costlier than the whole bucket leaves when the bucket is full and
 *     overdraws it);
 *   - the disk time in flight (dispatched, not completed) never exceeds the
 *     latency goal (default 0.75 ms, Seastar's 1.5 x task quota), except that
 *     a single request costlier than the goal may go alone.
 * Neither limit lets more than the engine's queue depth out.
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
 * (Seastar's max_request_length). The
 * caller sees one completion whose result is what a single request would have
 * returned (the bytes of the longest fully transferred prefix, or the first
 * part's error when nothing moved).
 *
 * Without properties the scheduler knows no costs: every request costs 1
 * (WFQ by request count among what is queued), there is no bucket and no
 * in-flight time bound, so it passes everything through at the engine's full
 * depth. rawio_sched_stat() says so (model false).
 *
 * Threads: every call is thread-safe. rawio_sched_submit never blocks on I/O:
 * it queues the request and, when no other thread is driving the engine,
 * dispatches what the limits allow. rawio_sched_reap drives the engine (one
 * thread at a time; others wait for it): it dispatches, waits for the engine
 * or for tokens, joins parts and hands out whole requests. A request submitted
 * while another thread waits in reap is dispatched when that wait ends (at the
 * latest when one request in flight completes, or tokens refill; a reap that
 * sleeps for tokens lowers its thread's timer slack to 1 ns, as the engine's
 * hybrid waiter does). Requests are
 * reaped by whichever thread calls reap: a caller with several threads keeps
 * its own per-request bookkeeping in user_data. The engine context must not be
 * used directly while the scheduler owns it.
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
 * entry kept; "duplex" and "rate_factor" are accepted (rate_factor scales the
 * four rates, as Seastar does). Stores up to MAX disks in OUT and their count
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
	struct rawio_sched_cq *cq; /* NULL: handed out by rawio_sched_reap */
	struct rawio_sched_class *cls;
	struct rawio_sched_req *next;
	struct rawio_req io;	 /* what the engine sees when not split */
	struct rawio_req *parts; /* when split: nr_parts of them */
	uint32_t parts_sent, parts_done;
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
 * rawio_sched_submit - queue R for class C. Returns 0: R will come back from
 * rawio_sched_reap exactly once (a request the engine rejects comes back with
 * its error in req.result). -EINVAL for a NULL argument or a class of another
 * scheduler; -ENOMEM when splitting needs memory (R is not queued).
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
 * A caller's own completion queue, for callers with several threads that each
 * wait for their own requests (the cache's workers and readers): a request
 * submitted with rawio_sched_submit_cq comes back only from
 * rawio_sched_reap_cq on the same CQ. Zero it (or `= { 0 }`) before use; one
 * thread per CQ at a time. The fields are private.
 */
struct rawio_sched_cq {
	struct rawio_sched_req *head, *tail; /* completed, not yet reaped */
	unsigned pending;		     /* submitted, not yet reaped */
};

/* rawio_sched_submit for CQ's owner. -EINVAL also for a NULL CQ. */
int rawio_sched_submit_cq(struct rawio_sched *s, struct rawio_sched_class *c,
			  struct rawio_sched_cq *cq, struct rawio_sched_req *r);

/*
 * rawio_sched_reap_cq - wait until at least MIN of CQ's requests are complete
 * (MIN capped at CQ's pending ones; 0: do not wait), store up to MAX in OUT.
 * While one thread drives the engine (dispatch, reap, sleep for tokens) the
 * others wait to be told their requests completed, and one of them takes over
 * when it stops: every thread's requests progress whichever thread drives.
 * Returns the number stored, or -errno when the engine failed.
 */
int rawio_sched_reap_cq(struct rawio_sched *s, struct rawio_sched_cq *cq,
			struct rawio_sched_req **out, unsigned min, unsigned max);

/*
 * The "sched" engine: an engine context whose requests go through class
 * opts.sched_class of a scheduler (rawio_engine_open(&e, "sched", DEV, &eo),
 * DEV the device of the scheduler's engine). Every context has its own
 * completion queue, so any code written against an engine (batches, pools,
 * run1) runs in a class unchanged. Queue depth: opts.queue_depth (default
 * 32). The scheduler and its class must outlive the context.
 */

/* Requests submitted and not yet reaped. */
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
	uint64_t latency_goal_ns; /* the in-flight bound (0 without a model) */
	unsigned engine_qd;
	uint64_t dispatched;	       /* engine requests */
	uint64_t splits;	       /* requests that were split */
	uint64_t max_inflight_cost_ns; /* most disk time in flight at once */
	unsigned max_inflight;	       /* most engine requests in flight at once */
	uint64_t token_waits;	       /* times dispatch stopped for the bucket */
	uint64_t bound_waits;	       /* times dispatch stopped for the in-flight bound */
	unsigned nr_classes;
};

/* Counters so far. Thread-safe. */
void rawio_sched_stat(struct rawio_sched *s, struct rawio_sched_stat *st);
void rawio_sched_class_stat(struct rawio_sched_class *c, struct rawio_sched_class_stat *st);

/* One line: "model r=95000/1.2GB/s w=... goal=750us" or "pass-through (no io properties) qd=32". */
void rawio_sched_describe(struct rawio_sched *s, char *buf, size_t len);

#endif
