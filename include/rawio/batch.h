/* SPDX-License-Identifier: MIT */
/*
 * batch: read or write N scattered blocks as fast as the device allows.
 *
 * The batch keeps the engine's queue full until all N requests are done:
 * at most rawio_engine_queue_depth() are in flight at once, and the memory it
 * uses is bounded by that depth, not by N. Every request gets its own result;
 * a failing request fails only itself (a bad sector drops one block, not the
 * batch), so the caller judges each result on its own.
 *
 * Buffers: a request with buf set uses it (aligned for the device). A request
 * with buf NULL borrows one of the batch's own buffers (queue depth of them,
 * each as large as the largest len, aligned): the data is handed to the
 * completion callback and the buffer is reused after the callback returns.
 * This is how a million header reads run in a few MiB.
 *
 * Thread-safety: a batch runs on the calling thread on an engine context,
 * which is one thread's at a time (rawio/engine.h): batches on different
 * contexts may run at once from many threads (a batch keeps no state outside
 * its call; its buffers are its own), but never two on one context, nor a
 * batch beside other I/O on it (-EBUSY when E has requests in flight at the
 * start). The callback runs on the calling thread, one completion at a time.
 */
#ifndef RAWIO_BATCH_H
#define RAWIO_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rawio_engine;

struct rawio_batch_io {
	uint64_t off;	/* byte offset */
	uint32_t len;	/* bytes */
	void *buf;	/* NULL: borrow a batch buffer (reads; writes need their own) */
	int64_t result; /* set by the batch: bytes or -errno */
	uint64_t ns;	/* set by the batch: time in flight (queued to completion seen) */
};

/*
 * Called once per request as it completes, from the calling thread.
 * DATA is io->buf or the borrowed buffer (valid only during the call).
 * Return 0 to go on, or a negative errno to stop the batch: requests in
 * flight are waited for, those not yet queued are left with result
 * -ECANCELED, and the batch returns that errno (a positive return counts as
 * -ECANCELED, so it cannot be taken for a count of failures).
 */
typedef int (*rawio_batch_fn)(void *arg, size_t index, struct rawio_batch_io *io, void *data);

/*
 * rawio_batch_read / rawio_batch_write - run N requests on E.
 * @fn: optional completion callback (may be NULL).
 *
 * Returns the number of requests that failed (0..N; each has result < 0),
 * or a negative errno: -EINVAL (a write without a buffer, a len of 0),
 * -EBUSY (E had requests in flight), -ENOMEM, -EAGAIN (the engine refused
 * requests with nothing in flight), the engine's own failure (requests not
 * queued are then -ECANCELED), or the callback's errno.
 */
ssize_t rawio_batch_read(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n,
			 rawio_batch_fn fn, void *arg);
ssize_t rawio_batch_write(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n,
			  rawio_batch_fn fn, void *arg);

#endif
