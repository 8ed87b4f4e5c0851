// SPDX-License-Identifier: MIT
/*
 * The store's engines: the options its contexts open with, its pool of
 * foreground contexts (rawio_engine_pool), writing a put from the caller's
 * buffer, and zeroing slot headers in a batch. Everything in the store does its I/O through these (never pread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

#define STORE_POOL_QD 4 /* queue depth of a foreground context: one I/O at a time */

static void store_engine_opts(const struct rawio_store *s, unsigned qd, struct rawio_engine_opts *o)
{
	*o = s->opts.engine_opts;
	o->size = sizeof(*o);
	o->queue_depth = qd;
	if (!o->threads)
		o->threads = 8;
}

int store_engine_open(struct rawio_store *s, const char *engine, unsigned qd,
		      struct rawio_engine **out)
{
	struct rawio_engine_opts o;

	store_engine_opts(s, qd, &o);
	if (s->opts.recovery_class) {
		o.sched_class = s->opts.recovery_class;
		engine = "sched";
	}
	return rawio_engine_open(out, engine, s->dev, &o);
}

/*
 * "auto" where the store does one I/O at a time: on a block device, choose as at
 * depth 1. Where the device has NOWAIT that is still uring; without it (zram)
 * one blocking call beats io_uring's hand-off to io-wq. Used for recovery's
 * large sequential reads (checkpoint chunks of 1 MiB, runs of 64 headers of 4 KiB
 * slots: sync 4-30x faster than uring on zram up to 20,000 entries, tied at
 * 524,288; docs/perf.md, "auto against the fixed engines") and for the
 * foreground pool (puts, gets, superblock reads: one request, or a payload and
 * its header). Small reads at depth (one 4 KiB header per larger slot):
 * store_engine_scan.
 */
const char *store_engine_one(struct rawio_store *s, char *why, size_t why_len)
{
	struct rawio_engine_choice ch;

	if (strcmp(s->engine, "auto") || s->info->kind != RAWIO_DEV_BLOCK || s->opts.recovery_class)
		return s->engine;
	rawio_engine_choose(s->dev, 1, &ch);
	for (const char *const *n = rawio_engine_list(); *n; n++) {
		if (strcmp(*n, ch.engine))
			continue;
		if (why)
			snprintf(why, why_len,
				 "%.200s (one request at a time: chosen as at depth 1)", ch.why);
		return *n;
	}
	return s->engine;
}

/*
 * "auto" for recovery's scan of one 4 KiB header per slot (slots larger than a
 * block) at depth QD: the depth's choice, except where that choice is io_uring
 * and aio stays asynchronous here (O_DIRECT, and fsqual does not say aio reads
 * stall): a bounded batch of small reads goes faster through aio. On a block
 * device without NOWAIT, io_uring hands every read to io-wq while io_submit runs
 * them inline (zram): 65,536 and 3,750 headers read 2.7x and 1.7-1.9x faster,
 * at a fifth to a third of uring's CPU per header. On a file that takes NOWAIT
 * reads both submit inline, and aio read the headers 2-15% faster in each of
 * two runs (less CPU per header). docs/perf.md, "Quiet pass, sixth session" and
 * "seventh session". Streaming benchmarks at depth keep uring: there io-wq's
 * workers use both CPUs, or nothing is punted.
 */
const char *store_engine_scan(struct rawio_store *s, unsigned qd, char *why, size_t why_len)
{
	struct rawio_engine_choice ch;

	/* aio_async holds only for O_DIRECT on a file or block device (no probe elsewhere). */
	if (strcmp(s->engine, "auto") || s->opts.recovery_class ||
	    rawio_engine_choose(s->dev, qd, &ch) || strcmp(ch.engine, "uring") || !ch.aio_async)
		return s->engine;
	if (why && ch.uring_punts)
		snprintf(why, why_len,
			 "no NOWAIT on this device: io_uring would hand every header read to "
			 "io-wq; a batch of small reads goes through aio without that hand-off");
	else if (why)
		snprintf(why, why_len,
			 "a batch of small header reads: aio submits them inline as io_uring "
			 "does, at less CPU per read");
	return "aio";
}

int store_pool_open(struct rawio_store *s)
{
	struct rawio_engine_opts o;

	store_engine_opts(s, STORE_POOL_QD, &o);
	o.sched_class = s->opts.io_class;
	return rawio_engine_pool_new(&s->pool,
				     o.sched_class ? "sched" : store_engine_one(s, NULL, 0), s->dev,
				     &o, STORE_POOL_MAX);
}

/*
 * Below this a put is copied: the copy costs less than the second write (4 KiB puts
 * from one thread ran at 0.70x with two writes each, bench/puts.sh, docs/perf.md).
 */
#define STORE_DIRECT_MIN (1u << 20)

bool store_put_direct_ok(const struct rawio_store *s, const void *buf, size_t len)
{
	uintptr_t ma = s->info->mem_align > 1 ? s->info->mem_align : 1;

	return len >= STORE_DIRECT_MIN && len % s->io_align == 0 && (uintptr_t)buf % ma == 0;
}

int store_write_ios_fn(struct rawio_store *s, struct rawio_batch_io *ios, size_t n,
		       rawio_batch_fn fn, void *arg)
{
	struct rawio_engine *e;
	ssize_t failed;
	int ret;

	ret = rawio_engine_pool_get(s->pool, &e);
	if (ret)
		return ret;
	failed = rawio_batch_write(e, ios, n, fn, arg);
	rawio_engine_pool_put(s->pool, e);
	if (failed < 0)
		return (int)failed;
	for (size_t i = 0; failed > 0 && i < n; i++)
		if (ios[i].result < 0)
			return (int)ios[i].result;
	return 0;
}

int store_write_ios(struct rawio_store *s, struct rawio_batch_io *ios, size_t n)
{
	return store_write_ios_fn(s, ios, n, NULL, NULL);
}

int store_zero_headers(struct rawio_store *s, const uint32_t *slots, size_t n)
{
	struct rawio_batch_io *ios;
	void *zero;
	int ret = -ENOMEM;

	if (!n)
		return 0;
	ios = calloc(n, sizeof(*ios));
	zero = rawio_buf_alloc(STORE_BLOCK, STORE_BLOCK);
	if (ios && zero) {
		for (size_t i = 0; i < n; i++)
			ios[i] = (struct rawio_batch_io){ .off = store_slot_off(&s->g, slots[i]),
							  .len = STORE_BLOCK,
							  .buf = zero };
		ret = store_write_ios(s, ios, n);
	}
	rawio_buf_free(zero);
	free(ios);
	return ret;
}
