/* SPDX-License-Identifier: MIT */
/*
 * The cache's state. One mutex (lock) guards everything below it; the flush
 * and migrate workers and every caller take it for decisions and bookkeeping
 * and drop it for I/O. A barrier waiting for durability reads durable_id and
 * error atomically without it (durable_word; write.c, flush.c).
 *
 * Segments are named by id (1, 2, ...) and live in slot id % nr_segments.
 * Ids move through: OPEN (the one segment taking writes, in a RAM buffer),
 * SEALED (waiting for or under its write; still in RAM), DIRTY (on the cache
 * device, not yet written back), CLEAN (written back; its blocks serve reads
 * until the slot is reused). Counters along the log:
 *
 *   last_migrated <= durable_id <= flushed_id <= last_sealed < open id
 *
 * last_migrated is what the durable superblock record says; a slot is reused
 * for id only when id - nr_segments <= last_migrated. durable_id is covered by
 * a cache-device flush; flushed_id is the highest id with it and every older
 * segment written.
 *
 * Every cache block (loc = slot * blocks_per_seg + index) holds one backing
 * block (blk[loc]) with a sector mask (mask[loc]). The index maps a backing
 * block to the loc of its newest copy. Invariant: the newest copy holds every
 * dirty sector of its block (a partial write over an older dirty copy merges
 * it first), so write-back and recovery only ever need the newest copy.
 *
 * Copies in flight (write.c): a whole-block write reserves its loc in the open
 * segment under the lock, then copies its data into the RAM buffer without it
 * (32 writers on 2 CPUs otherwise queue on the lock for each other's 4 KiB
 * memcpy). pending[loc] is 1 while that copy runs and the segment's copies
 * counts them; both drop without the lock (atomics). Whoever reads a RAM
 * block (read.c, a merge) or writes it under the lock first waits for
 * pending[loc] to be 0; the flush worker waits for copies to be 0 before the
 * crc. Reservations are made only in the OPEN segment, so once sealed a
 * segment's copies only go down, and a writer makes its copies before it
 * waits for anything.
 */
#ifndef RAWIO_CACHE_IMPL_H
#define RAWIO_CACHE_IMPL_H

#include <pthread.h>

#include <rawio/rawio.h>
#include <rawio/cache.h>

#include "format.h"
#include "util/clock.h"
#include "util/errbuf.h"

#define CACHE_POOL_MAX	  64   /* engine contexts kept per device, and bounce buffers */
#define CACHE_POOL_QD	  32   /* their queue depth */
#define CACHE_SCHED_QD	  128  /* a device scheduler's engine context */
#define CACHE_READ_CHUNK  256u /* blocks per read pass (1 MiB) */
#define CACHE_IO_RETRIES  5    /* tries of a failed segment write or cache flush */
#define CACHE_DRAIN_FAILS 5    /* failed batches in a row that make drain give up */
#define CACHE_IDLE_NS	  (100ull * 1000 * 1000) /* "no write for" between the watermarks */
#define CACHE_HUGE	  (2u << 20)		 /* x86-64 transparent huge page */
/*
 * Flush worker threads. One thread blocked in its engine's reap cannot see a segment sealed
 * meanwhile: it waited there for the next completion (docs/perf.md, fifth session: sealed
 * segments waited 0.1-0.5 s of a 0.3-0.8 s absorb so). A second thread waits on cv_flush
 * and takes it at once; more than the RAM buffers' worth cannot have work. Two, not four:
 * quietly (docs/perf.md "Quiet pass, fifth session") 1, 2 and 4 threads absorbed alike on
 * the files, and four cost the CPU-bound absorb on /dev/shm the most.
 */
#define CACHE_FLUSH_THREADS 2u
/*
 * Futex words a flush sleeps on while it waits for durability (durable_word[target %
 * CACHE_DURABLE_WORDS]) without c->lock: a commit wakes only the words of the ids it made
 * durable, so the barriers of the group still open sleep on until the flush worker wakes
 * them to seal (docs/perf.md, "A flush's wait, split", sixth session).
 */
#define CACHE_DURABLE_WORDS 8u

enum cache_seg_state {
	SEG_FREE = 0,
	SEG_OPEN,
	SEG_SEALED,
	SEG_DIRTY,
	SEG_CLEAN,
};

struct cache_buf {
	char *mem;		/* segment_size bytes: header block, then data blocks */
	struct cache_buf *next; /* free list */
};

struct cache_seg {
	uint64_t id; /* the segment in this slot; 0 none */
	uint32_t nr_blocks;
	uint8_t state;	       /* enum cache_seg_state */
	uint8_t flags;	       /* CACHE_SEG_F_* */
	bool written;	       /* sealed, and its write completed */
	uint32_t copies;       /* copies into buf in flight (atomic) */
	uint64_t sealed_ns;    /* when it was sealed (stat seg_wait_ns) */
	struct cache_buf *buf; /* OPEN and SEALED until written */
};

/* Backing block -> loc of its newest copy. Open addressing, linear probing. */
struct cache_index_ent {
	uint64_t key; /* block + 1; 0 empty */
	uint64_t loc;
};

struct cache_index {
	struct cache_index_ent *ents; /* key and loc side by side: one cache miss per lookup */
	uint64_t mask;		      /* capacity - 1 */
	unsigned shift;		      /* 64 - log2(capacity) */
	uint64_t nr;
};

/* The I/O classes (rawio_cache_class_names; tunables class.*.shares). */
enum cache_class {
	CACHE_CL_READ = 0,
	CACHE_CL_WRITE,
	CACHE_CL_FLUSH,
	CACHE_CL_MIGRATE,
	CACHE_CL_NR,
};

/* One device's scheduler: present when the device has io properties. */
struct cache_sched {
	struct rawio_engine *e; /* the scheduler's engine context */
	struct rawio_sched *s;	/* NULL: direct I/O */
	struct rawio_sched_class *cls[CACHE_CL_NR];
};

struct rawio_cache {
	struct rawio_dev *cdev, *bdev;
	bool own_devs;		       /* opened by rawio_cache_open_path: closed by cache_free */
	bool locked_cdev, locked_bdev; /* rawio_cache_open took their ownership locks */
	const struct rawio_dev_info *cinfo, *binfo;
	struct cache_geometry g;
	uint32_t bps; /* blocks per segment */
	struct rawio_cache_opts opts;
	char cache_engine[16], backing_engine[16];
	struct rawio_engine_opts *ceo, *beo; /* copies of the caller's, or NULL */
	bool read_only;
	unsigned nr_bufs;
	unsigned migrate_qd;

	pthread_mutex_t lock;
	pthread_cond_t cv_space;   /* a buffer or a slot came free */
	pthread_cond_t cv_durable; /* durable_id grew, the cache failed, writers left */
	pthread_cond_t cv_flush;   /* work for the flush worker */
	pthread_cond_t cv_migrate; /* work for the migrate worker */
	pthread_cond_t cv_clean;   /* a batch finished (or failed) */
	pthread_cond_t cv_copied;  /* a copy in flight finished (only if copy_waiters) */
	unsigned copy_waiters;	   /* atomic: threads in cache_wait_copied */

	struct cache_seg *segs; /* nr_segments */
	uint64_t *blk;		/* nr_segments * bps */
	uint8_t *mask;
	uint8_t *pending; /* nr_segments * bps: a copy into the loc is in flight (atomic) */
	struct cache_index ix;

	struct cache_buf *bufs; /* nr_bufs */
	char *bufs_mem;		/* their memory, one region (cache.c) */
	struct cache_buf *free_bufs;

	int64_t open_slot; /* -1: no open segment */
	uint64_t next_id;
	uint64_t last_sealed;
	uint64_t next_issue; /* flush worker: next sealed id to write */
	uint64_t flushed_id;
	uint64_t durable_id; /* written atomically under the lock; read without it by barriers */
	uint64_t last_migrated;
	uint64_t rec_seq;	   /* of the newest record on disk */
	uint64_t barrier_want;	   /* highest id a barrier waits to see durable */
	uint64_t barrier_since_ns; /* the open segment holds a waiting barrier since */
	/* Commits counted against tun.commit_qd (flush.c; write.c seals by it): segments sealed
	 * for a barrier until written, FUA segment writes and cache flushes in flight. */
	unsigned commits;
	unsigned syncs;		/* of them: cache flushes (tunable commit_overlap) */
	unsigned space_waiters; /* writers waiting for a segment */
	unsigned drainers;
	uint64_t last_write_ns;
	unsigned migrate_fail_streak;
	int migrate_err;
	int error; /* sticky: the cache refuses writes and barriers */
	bool stopping;
	struct rawio_cache_tunables tun;

	/* Flush workers: threads sharing one flush context (flush.c), each with its engine. */
	struct flush_ctx *flush;
	pthread_t flush_threads[CACHE_FLUSH_THREADS];
	unsigned nr_flush_started;
	pthread_t migrate_thread;
	bool migrate_started;

	struct cache_sched sched[2];		 /* cache device, backing device */
	struct rawio_engine_pool *cpool, *bpool; /* foreground I/O per device (class read) */
	struct rawio_engine_pool *cwpool;	 /* cache device, class write (or cpool) */
	struct rawio_buf_pool *bounce;		 /* 2 * CACHE_READ_CHUNK blocks each */

	struct rawio_cache_stat st;
	struct rawio_cache_recovery rec;

	/* Barriers waiting for durability without the lock (write.c, flush.c; all atomic). */
	uint32_t durable_word[CACHE_DURABLE_WORDS]; /* bumped when an id of theirs is durable */
	unsigned durable_sleepers;		    /* threads in (or about to) a futex wait */
	/* Per id % CACHE_DURABLE_WORDS, for the time split: the last id sealed there, when,
	 * and when an id there last became durable. */
	uint64_t seal_id[CACHE_DURABLE_WORDS], seal_ns[CACHE_DURABLE_WORDS];
	uint64_t durable_ns[CACHE_DURABLE_WORDS];
	/* A flush's time split (rawio_cache_stat.barrier_*_ns; atomic adds, no lock). */
	uint64_t bar_lock_ns, bar_queue_ns, bar_commit_ns, bar_wake_ns, bar_timed;
};

/* Commits a barrier's seal decision counts against commit_qd. Lock held. */
static inline unsigned cache_commits_busy(const struct rawio_cache *c)
{
	return c->commits - (c->tun.commit_overlap ? c->syncs : 0);
}

static inline uint64_t cache_loc_slot(const struct rawio_cache *c, uint64_t loc)
{
	return loc / c->bps;
}

/* Byte offset on the cache device of the data block at LOC. */
static inline uint64_t cache_loc_off(const struct rawio_cache *c, uint64_t loc)
{
	return cache_seg_dev_off(&c->g, loc / c->bps) + (1 + loc % c->bps) * (uint64_t)CACHE_BLOCK;
}

/* RAM copy of the data block at LOC, or NULL when its segment is not in RAM. */
static inline char *cache_loc_ram(const struct rawio_cache *c, uint64_t loc)
{
	const struct cache_seg *s = &c->segs[loc / c->bps];

	return s->buf ? s->buf->mem + (1 + loc % c->bps) * (size_t)CACHE_BLOCK : NULL;
}

static inline bool cache_seg_dirty(const struct cache_seg *s)
{
	return s->state == SEG_OPEN || s->state == SEG_SEALED || s->state == SEG_DIRTY;
}

/* index.c */
int cache_index_init(struct cache_index *ix, uint64_t max_entries);
void cache_index_fini(struct cache_index *ix);
int64_t cache_index_get(const struct cache_index *ix, uint64_t block);
/* Start loading BLOCK's slot into the cache; no lock needed (the table never moves). */
void cache_index_prefetch(const struct cache_index *ix, uint64_t block);
void cache_index_set(struct cache_index *ix, uint64_t block, uint64_t loc);
void cache_index_del(struct cache_index *ix, uint64_t block);
/* Call FN for every entry; FN may not change the index. */
void cache_index_walk(const struct cache_index *ix,
		      void (*fn)(void *arg, uint64_t block, uint64_t loc), void *arg);

static inline int cache_check_range(const struct rawio_cache *c, uint64_t off, uint64_t len)
{
	if (off % CACHE_SECTOR || len % CACHE_SECTOR || off > c->g.backing_size ||
	    len > c->g.backing_size - off)
		return -EINVAL;
	return 0;
}

/* io.c */
/*
 * An engine for the few single requests a cache format or a superblock probe makes on a
 * device that has no cache handle yet: sync on files and block devices (one request at a
 * time needs no ring), else the device's own (mem, nbd, rbd).
 */
int cache_engine_open_single(struct rawio_dev *dev, struct rawio_engine **out);
/* A context on a device, direct (recovery) or in class CL when the device has a scheduler. */
int cache_engine_open(struct rawio_cache *c, bool backing, unsigned qd, struct rawio_engine **out);
int cache_engine_open_cl(struct rawio_cache *c, bool backing, enum cache_class cl, unsigned qd,
			 struct rawio_engine **out);
/* Give the schedulers the shares in c->tun. Lock held (or before the workers start). */
void cache_sched_shares(struct rawio_cache *c);
/* Make / free the foreground pools (cpool, bpool) and the bounce buffers (bounce). */
int cache_pools_open(struct rawio_cache *c);
void cache_pools_close(struct rawio_cache *c);
/* Run N requests on E: 0, or the first request's error (or the batch's). */
int cache_run(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n, bool write);

/* tunables.c */
int cache_tunables_check(const struct rawio_cache_tunables *t, char *errbuf, size_t errlen);

/* write.c */
/* Make the cache refuse writes from now on with ERR. Lock held. */
void cache_fail(struct rawio_cache *c, int err);
/* Seal the open segment. Lock held. */
void cache_seal(struct rawio_cache *c, bool barrier);
/* Wait until TARGET is durable, sealing the open segment when its time comes. Lock held. */
int cache_wait_durable(struct rawio_cache *c, uint64_t target);
/*
 * Wait until *PENDING (a loc's) or *COPIES (a segment's) is 0: no copy in flight
 * there. Pass one, the other NULL. Lock held; dropped while waiting.
 */
void cache_wait_copied(struct rawio_cache *c, const uint8_t *pending, const uint32_t *copies);

/* flush.c */
/*
 * durable_id becomes ID (> durable_id): store it, wake the barriers sleeping for the ids
 * it covers and those waiting on cv_durable. Lock held.
 */
void cache_durable_set(struct rawio_cache *c, uint64_t id);
/* Wake every barrier sleeping without the lock (an error, a tunable changed). */
void cache_durable_wake_all(struct rawio_cache *c);
/* Wake the barriers sleeping for ID's word: in the open segment, they decide to seal. */
void cache_durable_wake_id(struct rawio_cache *c, uint64_t id);
/* The flush workers' shared context (c->flush), before they start / after they stopped. */
int cache_flush_init(struct rawio_cache *c);
void cache_flush_fini(struct rawio_cache *c);
void *cache_flush_main(void *arg);

/* migrate.c */
void *cache_migrate_main(void *arg);
/*
 * Should a write-back batch run now? Lock held. Wake the migrate worker only then (or when
 * its tunables change): it waits on cv_migrate with a timeout for the rest.
 */
bool cache_migrate_wanted(const struct rawio_cache *c, uint64_t now);

/* recover.c */
int cache_read_super(struct rawio_cache *c, struct cache_rec *rec, int *rec_ok);
int cache_recover(struct rawio_cache *c);

#endif
