/* SPDX-License-Identifier: MIT */
#ifndef RAWIO_STORE_IMPL_H
#define RAWIO_STORE_IMPL_H

#include <pthread.h>

#include <rawio/rawio.h>
#include <rawio/store.h>

#include "format.h"
#include "index.h"

#define STORE_POOL_MAX	  64  /* engine contexts and buffers kept for foreground I/O */
#define STORE_PENDING_MAX 256 /* dying and unsynced slots kept before a sync */

/* A durable put, its payload written, waiting for group commit (store_group_commit). */
struct store_flush_waiter {
	struct store_flush_waiter *next;
	void *hdr;    /* its header block, encoded, written after the payload flush */
	uint64_t off; /* where */
	int result;   /* 0: payload and header durable; or -errno */
	bool done;
};

struct rawio_store {
	struct rawio_dev *dev;
	bool own_dev;	 /* opened by rawio_store_open: closed by store_free */
	bool locked_dev; /* rawio_dev_lock took the lock at open: dropped by store_free */
	const struct rawio_dev_info *info;
	struct store_geometry g;
	struct rawio_store_opts opts;
	char engine[16];
	char lower_engine[16];
	uint32_t io_align; /* payload lengths round up to this */
	bool put_flush;	   /* durable writes: plain write + fdatasync, not FUA (opts.barrier) */
	bool read_only;
	uint32_t sb_version_min; /* lowest format version of the superblock copies read */

	/*
	 * Puts and deletes hold cp_lock shared from choosing a generation until
	 * the index shows it; a checkpoint holds it exclusive to take its snapshot,
	 * so every generation below its next_gen is in the snapshot or dead.
	 */
	pthread_rwlock_t cp_lock;
	pthread_mutex_t cp_mutex; /* one checkpoint at a time */
	pthread_mutex_t lock;	  /* the index, generations, pending list, stats */
	struct store_index ix;
	uint64_t next_gen;
	uint64_t cp_seq;	/* of the newest checkpoint on disk, 0 none */
	int cp_area;		/* where it is, -1 none */
	uint64_t nr_unreadable; /* slots in state UNREADABLE */
	/* Nonzero: checkpoints keep roll_gen at most this, since a slot that may hold a
	 * newer object could not be read. */
	uint64_t roll_floor;

	/*
	 * Slots on their way back to the pool (state DYING or UNSYNCED). Two
	 * orderings keep every acknowledged version safe across a power cut:
	 * an old version's header is zeroed only after its successor is
	 * durable, and a zeroed slot is reused only after the zero is durable
	 * (else a torn new write could leave an old header over new bytes).
	 */
	uint32_t *pending; /* grows; a sync starts at STORE_PENDING_MAX */
	unsigned nr_pending, cap_pending;
	pthread_mutex_t sync_mutex; /* one store_sync at a time */

	/*
	 * Group commit: durable puts whose writes completed wait in gc_waiting;
	 * one of them (the leader) takes the whole list, flushes once, and
	 * answers every waiter it took. Newcomers gather while a flush runs.
	 */
	pthread_mutex_t gc_lock;
	pthread_cond_t gc_cond;
	struct store_flush_waiter *gc_waiting;
	bool gc_flushing;
	unsigned gc_inflight; /* durable puts in flight (atomic): AUTO groups above one */
	uint64_t gc_flushes;  /* shared flushes run (gc_lock) */

	struct rawio_engine_pool *pool; /* foreground I/O */
	struct rawio_buf_pool *bufs;	/* slot-sized I/O buffers */
	struct rawio_buf_pool *hdrs;	/* header blocks of puts written from the caller's buffer */

	struct rawio_store_stat st;
	struct rawio_store_recovery rec;
};

/* io.c */

/* Open an engine context on the store's device with the store's engine choice. */
int store_engine_open(struct rawio_store *s, const char *engine, unsigned qd,
		      struct rawio_engine **out);

/*
 * The engine for I/O issued one request at a time (or a payload and its header):
 * s->engine, except that "auto" on a block device is chosen as at depth 1 (WHY,
 * if set, gets the reason). A name from the registry, or s->engine.
 */
const char *store_engine_one(struct rawio_store *s, char *why, size_t why_len);
/* "auto" for recovery's scan of one header per slot at depth QD (io.c); WHY as above. */
const char *store_engine_scan(struct rawio_store *s, unsigned qd, char *why, size_t why_len);

/* Make s->pool: foreground contexts of the store's engine (store_engine_one) on s->dev. */
int store_pool_open(struct rawio_store *s);

/*
 * Can a put of LEN bytes at BUF be written from BUF itself (no bounce copy)? Yes when
 * BUF meets the device's memory alignment, LEN is a multiple of s->io_align and at
 * least 1 MiB (smaller puts are cheaper copied than written twice).
 */
bool store_put_direct_ok(const struct rawio_store *s, const void *buf, size_t len);

/*
 * Run the writes IOS together on a pooled context (one batch); FN, if set, is the
 * batch's completion callback (rawio/batch.h), called with ARG on this thread.
 * Returns 0 or the first error.
 */
int store_write_ios_fn(struct rawio_store *s, struct rawio_batch_io *ios, size_t n,
		       rawio_batch_fn fn, void *arg);
int store_write_ios(struct rawio_store *s, struct rawio_batch_io *ios, size_t n);

/* Zero the header blocks of SLOTS (no flush). Returns 0 or the first error. */
int store_zero_headers(struct rawio_store *s, const uint32_t *slots, size_t n);

/* recover.c */

/* Recovery: load geometry-checked state into s->ix and s->rec. */
int store_recover(struct rawio_store *s);

/* Read and check the superblocks; fill s->g. ERRBUF gets a reason on failure. */
int store_read_super(struct rawio_store *s, bool *both_ok);

/* Rewrite both superblocks at STORE_VERSION (FUA): a v1 store opened read-write. */
int store_upgrade(struct rawio_store *s);

/* Does the payload in SLOT match its header (M)? 1 yes, 0 no, -errno when it could not be read. */
int store_payload_ok(struct rawio_store *s, uint64_t slot, const struct slot_meta *m);

/* store.c */

/* Write a checkpoint of the current index. */
int store_checkpoint(struct rawio_store *s);

static inline uint64_t store_round(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

#endif
