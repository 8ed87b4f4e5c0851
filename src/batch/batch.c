// SPDX-License-Identifier: MIT
/*
 * batch: keep the engine at its queue depth until N requests are done.
 *
 * Seed 000's lessons are the design: one read path per engine (this file
 * drives any engine through the same calls), bounded batches (at most queue
 * depth requests and buffers exist at once, whatever N is), and a bad block
 * fails only itself (each request carries its own result; nothing here
 * turns one error into a batch error).
 */
#include <stdint.h>
#include <stdlib.h>

#include <rawio/rawio.h>

struct batch {
	struct rawio_engine *e;
	struct rawio_batch_io *ios;
	rawio_batch_fn fn;
	void *arg;
	unsigned qd;
	struct rawio_req *slots; /* qd requests */
	unsigned *free_slots;	 /* stack of free slot numbers */
	unsigned nr_free;
	char *bufs; /* qd borrowed buffers of buf_len each, or NULL */
	size_t buf_len;
	ssize_t failed;
	int stop; /* the callback's non-zero return */
};

static void batch_complete(struct batch *b, struct rawio_req *r)
{
	size_t idx = (size_t)(uintptr_t)r->user_data;
	struct rawio_batch_io *io = &b->ios[idx];
	unsigned slot = (unsigned)(r - b->slots);

	io->result = r->result;
	io->ns = r->complete_ns > r->submit_ns ? r->complete_ns - r->submit_ns : 0;
	if (r->result < 0)
		b->failed++;
	if (b->fn && !b->stop) {
		int rc = b->fn(b->arg, idx, io, r->buf);

		b->stop = rc > 0 ? -ECANCELED : rc;
	}
	b->free_slots[b->nr_free++] = slot;
}

/* Largest len among the requests that borrow a buffer; -EINVAL for a bad request. */
static ssize_t batch_borrow_len(int op, const struct rawio_batch_io *ios, size_t n)
{
	size_t max = 0;

	for (size_t i = 0; i < n; i++) {
		if (!ios[i].len)
			return -EINVAL;
		if (ios[i].buf)
			continue;
		if (op == RAWIO_OP_WRITE)
			return -EINVAL;
		if (ios[i].len > max)
			max = ios[i].len;
	}
	return (ssize_t)max;
}

static int batch_setup(struct batch *b, int op, size_t n)
{
	struct rawio_dev *dev = rawio_engine_dev(b->e);
	ssize_t borrow = batch_borrow_len(op, b->ios, n);

	if (borrow < 0)
		return (int)borrow;
	b->qd = rawio_engine_queue_depth(b->e);
	if (b->qd > n)
		b->qd = n ? (unsigned)n : 1;
	b->slots = calloc(b->qd, sizeof(*b->slots));
	b->free_slots = calloc(b->qd, sizeof(*b->free_slots));
	if (!b->slots || !b->free_slots)
		return -ENOMEM;
	if (borrow) {
		const struct rawio_dev_info *info = rawio_dev_info(dev);
		size_t a =
			info->offset_align > info->mem_align ? info->offset_align : info->mem_align;

		if (!a)
			a = 4096;
		b->buf_len = ((size_t)borrow + a - 1) / a * a;
		b->bufs = rawio_buf_alloc(b->buf_len * b->qd, a);
		if (!b->bufs)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < b->qd; i++)
		b->free_slots[b->nr_free++] = b->qd - 1 - i;
	return 0;
}

static void batch_teardown(struct batch *b)
{
	rawio_buf_free(b->bufs);
	free(b->free_slots);
	free(b->slots);
}

static ssize_t batch_run(struct rawio_engine *e, int op, struct rawio_batch_io *ios, size_t n,
			 rawio_batch_fn fn, void *arg)
{
	struct batch b = { .e = e, .ios = ios, .fn = fn, .arg = arg };
	struct rawio_req **done = NULL;
	size_t next = 0;
	ssize_t ret;

	if (rawio_engine_inflight(e))
		return -EBUSY;
	if (n == 0)
		return 0;
	ret = batch_setup(&b, op, n);
	if (ret)
		goto out;
	done = calloc(b.qd, sizeof(*done));
	if (!done) {
		ret = -ENOMEM;
		goto out;
	}

	while (next < n || rawio_engine_inflight(e)) {
		int got;

		while (!b.stop && next < n && b.nr_free) {
			unsigned slot = b.free_slots[--b.nr_free];
			struct rawio_req *r = &b.slots[slot];
			int q;

			*r = (struct rawio_req){
				.op = (uint8_t)op,
				.buf = ios[next].buf ? ios[next].buf : b.bufs + slot * b.buf_len,
				.len = ios[next].len,
				.off = ios[next].off,
				.user_data = (void *)(uintptr_t)next,
			};
			q = rawio_engine_queue(e, r);
			if (q == RAWIO_Q_BUSY) {
				b.nr_free++;
				if (!rawio_engine_inflight(e))
					b.stop = -EAGAIN; /* full with nothing in flight: broken */
				break;
			}
			if (q < 0) {
				/* The engine itself failed: stop queueing, drain, report. */
				b.nr_free++;
				b.stop = q;
				break;
			}
			next++;
			if (q == RAWIO_Q_DONE)
				batch_complete(&b, r);
		}
		if (b.stop && !rawio_engine_inflight(e))
			break;
		if (!rawio_engine_inflight(e))
			continue;
		got = rawio_engine_reap(e, done, 1, b.qd);
		if (got < 0) {
			/*
			 * The engine failed. Requests still in flight own our slots and
			 * buffers: wait for them, and if even that fails, leak rather
			 * than free memory the kernel may still write into.
			 */
			ret = got;
			while (rawio_engine_inflight(e)) {
				got = rawio_engine_reap(e, done, 1, b.qd);
				if (got <= 0) {
					b.slots = NULL;
					b.free_slots = NULL;
					b.bufs = NULL;
					break;
				}
				for (int i = 0; i < got; i++)
					batch_complete(&b, done[i]);
			}
			for (size_t i = next; i < n; i++)
				ios[i].result = -ECANCELED;
			goto out;
		}
		for (int i = 0; i < got; i++)
			batch_complete(&b, done[i]);
	}
	for (size_t i = next; i < n; i++)
		ios[i].result = -ECANCELED;
	ret = b.stop ? b.stop : b.failed;
out:
	free(done);
	batch_teardown(&b);
	return ret;
}

ssize_t rawio_batch_read(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n,
			 rawio_batch_fn fn, void *arg)
{
	return batch_run(e, RAWIO_OP_READ, ios, n, fn, arg);
}

ssize_t rawio_batch_write(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n,
			  rawio_batch_fn fn, void *arg)
{
	return batch_run(e, RAWIO_OP_WRITE, ios, n, fn, arg);
}
