/* SPDX-License-Identifier: MIT */
/* Engine operations: what an engine implements, and the core's state around it. */
#ifndef RAWIO_ENGINE_IMPL_H
#define RAWIO_ENGINE_IMPL_H

#include <errno.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

#define RAWIO_ENGINE_OPS_VERSION 1

struct rawio_engine;

/*
 * An engine is a const table of these, listed in the static registry in
 * engine.c. The core validates requests, stamps times, counts, completes short
 * transfers and retries EAGAIN; the engine only moves bytes.
 *
 * queue:  start REQ (or finish it inline). Returns RAWIO_Q_QUEUED, RAWIO_Q_DONE
 *         (req->result set) or RAWIO_Q_BUSY; -errno only if the context is dead.
 *         Must not block on I/O. The engine transfers req->len - req->done bytes
 *         at req->off + req->done from req->buf + req->done.
 * commit: submit what queue prepared. May be NULL.
 * reap:   wait for at least MIN completions (MIN <= in flight), store up to MAX
 *         in OUT with result set. Returns the count or -errno.
 */
struct rawio_engine_ops {
	unsigned version;
	const char *name;
	unsigned caps;	  /* RAWIO_CAP_* */
	size_t priv_size; /* bytes of private state allocated by the core */
	int (*init)(struct rawio_engine *e, const struct rawio_engine_opts *opts);
	int (*queue)(struct rawio_engine *e, struct rawio_req *req);
	int (*commit)(struct rawio_engine *e);
	int (*reap)(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max);
	void (*fini)(struct rawio_engine *e);
	void (*describe)(const struct rawio_engine *e, char *buf, size_t len);
	/* Phases: the engine stamps req->dispatch_ns itself, when its worker takes
	 * the request (threads), so a wait in its own queue is G2D, not D2C. */
	bool stamps_dispatch;
};

struct rawio_engine {
	const struct rawio_engine_ops *ops;
	struct rawio_dev *dev;
	const struct rawio_dev_info *info;
	int fd;		   /* -1 for a RAM device */
	unsigned qd;	   /* queue depth in force */
	unsigned inflight; /* QUEUED and not yet reaped (counted by the core) */
	struct rawio_engine_stat st;
	void *priv; /* ops->priv_size bytes, zeroed */
};

extern const struct rawio_engine_ops rawio_engine_sync;
extern const struct rawio_engine_ops rawio_engine_threads;
extern const struct rawio_engine_ops rawio_engine_aio;
extern const struct rawio_engine_ops rawio_engine_uring;
extern const struct rawio_engine_ops rawio_engine_mem;
extern const struct rawio_engine_ops rawio_engine_fault;
extern const struct rawio_engine_ops rawio_engine_throttle;
extern const struct rawio_engine_ops rawio_engine_nbd;
extern const struct rawio_engine_ops rawio_engine_sched; /* src/sched/engine.c */
extern const struct rawio_engine_ops rawio_engine_rbd;	 /* with librbd only */

/*
 * Blocking helpers shared by the engines that do the work in user threads
 * (sync, threads): perform one request with pread/pwrite/fsync/..., return
 * bytes or -errno. Also the discard path of every fd engine.
 */
int64_t engine_do_sync(int fd, const struct rawio_dev_info *info, struct rawio_req *req);
int engine_discard(int fd, const struct rawio_dev_info *info, uint64_t off, uint64_t len);

/* rawio_engine_run1 for a request whose stamps nobody reads (rawio_engine_io's). */
int64_t engine_run1_unstamped(struct rawio_engine *e, struct rawio_req *req);

/* The fault engine's volatile-cache model (fault_model.c). */
int fault_model_attach(struct rawio_fault_model *m, struct rawio_dev *dev);
void fault_model_detach(struct rawio_fault_model *m, struct rawio_dev *dev);
/* Perform R on DEV synchronously through the model; bytes or -errno. */
int64_t fault_model_io(struct rawio_fault_model *m, struct rawio_dev *dev, struct rawio_req *r);

/* RWF_* flags newer than some headers (values from linux/fs.h). */
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* req->core_flags bits the engines may read. */
#define CORE_NOWAIT_OFF (1u << 0) /* NOWAIT answered EAGAIN once: submit blocking now */
#define CORE_UNSTAMPED	(1u << 1) /* nobody reads submit_ns, complete_ns: they stay 0 */

/* RWF_* flags for a read or write: RWF_DSYNC for FUA, RWF_NOWAIT when asked and not yet refused. */
static inline int req_rw_flags(const struct rawio_req *r)
{
	int flags = 0;

	if (r->op == RAWIO_OP_WRITE && (r->flags & RAWIO_REQ_FUA))
		flags |= RWF_DSYNC;
	if ((r->flags & RAWIO_REQ_NOWAIT) && !(r->core_flags & CORE_NOWAIT_OFF))
		flags |= RWF_NOWAIT;
	return flags;
}

/* A FIFO of requests linked through eng_next, for engines that keep their own lists. */
struct req_fifo {
	struct rawio_req *head, *tail;
	unsigned nr;
};

static inline void fifo_push(struct req_fifo *f, struct rawio_req *r)
{
	r->eng_next = NULL;
	if (f->tail)
		f->tail->eng_next = r;
	else
		f->head = r;
	f->tail = r;
	f->nr++;
}

static inline struct rawio_req *fifo_pop(struct req_fifo *f)
{
	struct rawio_req *r = f->head;

	if (r) {
		f->head = r->eng_next;
		if (!f->head)
			f->tail = NULL;
		f->nr--;
	}
	return r;
}

static inline void fifo_splice(struct req_fifo *dst, struct req_fifo *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->eng_next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->nr += src->nr;
	src->head = src->tail = NULL;
	src->nr = 0;
}

/* Bytes still to transfer and where (after earlier partial completions). */
static inline uint64_t req_left(const struct rawio_req *r)
{
	return r->len - r->done;
}

static inline uint64_t req_pos(const struct rawio_req *r)
{
	return r->off + r->done;
}

static inline void *req_data(const struct rawio_req *r)
{
	return (char *)r->buf + r->done;
}

#endif
