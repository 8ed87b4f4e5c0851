/* SPDX-License-Identifier: MIT */
/*
 * The RAM device's shared state (src/dev/mem.c), which the mem engine
 * (src/engine/mem.c) drives: hardware queues with their locks, tags and
 * counters, the volatile write cache, bad blocks and the rate limit. Every
 * engine context on one device shares it, as CPUs share a disk's queues.
 */
#ifndef RAWIO_DEV_MEM_DEV_H
#define RAWIO_DEV_MEM_DEV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

/* Engine contexts a device can deliver thread completions to. */
#define MEM_DEV_MAX_CTX 1024u

/* A held tag of a timer-mode queue: freed when the device finishes, at due_ns. */
struct mem_due {
	uint64_t due_ns;
	uint64_t bytes;
};

struct mem_dev;

/*
 * A hardware queue is written by its own submitters on every request (lock,
 * tags, counters): queues never share a cache line, nor an adjacent pair of
 * lines (x86 L2 prefetchers fetch 128-byte pairs, so two queues 64 bytes apart
 * would still bounce a line between two CPUs' submitters).
 */
#define MEM_HWQ_ALIGN 128

struct mem_hwq {
	pthread_mutex_t lock;
	struct mem_dev *md;
	unsigned idx;
	pthread_cond_t tag_cv; /* a tag was freed (thread mode) */
	unsigned used;	       /* tags held */
	unsigned waiters;      /* submitters waiting on tag_cv */
	uint64_t busy_since;
	struct mem_due *due; /* timer mode: min-heap of held tags, DEPTH entries */
	unsigned due_nr;
	/* complete=thread: requests dispatched, waiting for the completion thread */
	pthread_cond_t work_cv;
	struct rawio_req *work_head, *work_tail;
	bool thread_idle, stop;
	pthread_t thread;
	bool thread_ok;
	struct rawio_mem_queue_stat st;
} __attribute__((aligned(MEM_HWQ_ALIGN)));

/* Where a completion thread hands a request back (one per engine context). */
struct mem_dev_ctx {
	void (*deliver)(struct mem_dev_ctx *c, struct rawio_req *r);
};

struct mem_dev {
	struct rawio_mem_opts o;
	struct mem_hwq *q;
	char *durable;	    /* cache: what survives a cut; NULL without a cache */
	uint64_t *dirty;    /* cache: one bit per block held in the cache */
	uint64_t dirty_nr;  /* blocks held */
	uint64_t dirty_max; /* cache capacity in blocks */
	uint64_t wb_cursor; /* next block to write back when the cache overflows */
	pthread_mutex_t cache_lock;
	_Atomic uint64_t limit_next_ns; /* bw / iops: when the device is next free */
	uint64_t limit_t0;
	/* Contexts that complete=thread delivers to, by eng_index. */
	pthread_mutex_t ctx_lock;
	struct mem_dev_ctx *ctx[MEM_DEV_MAX_CTX];
	bool threads_started;
	/* The engine's completion thread, started on the first context (dev cannot call up). */
	void *(*thread_main)(void *arg);
};

/* State of the RAM device DEV (NULL if it is not one). */
struct mem_dev *mem_dev_of(struct rawio_dev *dev);

/*
 * Move the bytes of R (len LEFT at POS from DATA), through the cache and bad
 * blocks. NULL_IO: check only. Returns bytes or -errno, as a read or write would.
 */
int64_t mem_dev_rw(struct rawio_dev *dev, struct mem_dev *md, struct rawio_req *r, bool null_io);

/* Timer mode: free tags whose due time passed (lock held). */
void mem_hwq_expire(struct mem_hwq *q, uint64_t now);
/* Timer mode: hold a tag until DUE_NS (lock held, a tag counted in used). */
void mem_hwq_push_due(struct mem_hwq *q, uint64_t due_ns, uint64_t bytes);

/* Bandwidth / IOPS limit: when a request of LEN bytes queued at NOW finishes. 0: no limit. */
uint64_t mem_dev_limit(struct mem_dev *md, uint64_t now, uint64_t len);

/* Start the completion threads (once per device; MAIN gets a struct mem_hwq *). 0 or -errno. */
int mem_dev_start_threads(struct mem_dev *md, void *(*main)(void *));

/* Register / unregister a context for thread completions: its index, or -EMFILE. */
int mem_dev_ctx_add(struct mem_dev *md, struct mem_dev_ctx *c);
void mem_dev_ctx_del(struct mem_dev *md, int idx);

/* Free MD (stops the completion threads). */
void mem_dev_free(struct mem_dev *md);
/* Build MD for O; the data memory itself belongs to the dev. */
int mem_dev_new(struct mem_dev **out, const struct rawio_mem_opts *o);

#endif
