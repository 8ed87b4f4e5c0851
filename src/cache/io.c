// SPDX-License-Identifier: MIT
/*
 * The cache's engines: the options its contexts open with, its foreground
 * pools (one per device, and the read path's bounce buffers), and a batch run
 * to its end. One I/O at a time goes through rawio_engine_io (on a context in
 * hand) or rawio_engine_pool_io; every cache file does its I/O through these
 * (never pread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_impl.h"

static void cache_engine_opts(const struct rawio_cache *c, bool backing, unsigned qd,
			      struct rawio_engine_opts *o)
{
	const struct rawio_engine_opts *user = backing ? c->beo : c->ceo;

	*o = (struct rawio_engine_opts){ .size = sizeof(*o) };
	if (user)
		*o = *user;
	o->size = sizeof(*o);
	o->queue_depth = qd;
}

int cache_engine_open_single(struct rawio_dev *dev, struct rawio_engine **out)
{
	const struct rawio_dev_info *i = rawio_dev_info(dev);

	return rawio_engine_open(out,
				 i->kind == RAWIO_DEV_FILE || i->kind == RAWIO_DEV_BLOCK
					 ? "sync"
					 : rawio_engine_default(i),
				 dev, NULL);
}

int cache_engine_open(struct rawio_cache *c, bool backing, unsigned qd, struct rawio_engine **out)
{
	struct rawio_engine_opts o;

	cache_engine_opts(c, backing, qd, &o);
	return rawio_engine_open(out, backing ? c->backing_engine : c->cache_engine,
				 backing ? c->bdev : c->cdev, &o);
}

/* The options of a context in class CL of a scheduled device. */
static void cache_class_opts(const struct rawio_cache *c, bool backing, enum cache_class cl,
			     unsigned qd, struct rawio_engine_opts *o)
{
	*o = (struct rawio_engine_opts){ .size = sizeof(*o),
					 .queue_depth = qd,
					 .sched_class = c->sched[backing].cls[cl] };
}

int cache_engine_open_cl(struct rawio_cache *c, bool backing, enum cache_class cl, unsigned qd,
			 struct rawio_engine **out)
{
	struct rawio_engine_opts o;

	if (!c->sched[backing].s)
		return cache_engine_open(c, backing, qd, out);
	cache_class_opts(c, backing, cl, qd, &o);
	return rawio_engine_open(out, "sched", backing ? c->bdev : c->cdev, &o);
}

const char *const rawio_cache_class_names[RAWIO_CACHE_NR_CLASSES] = { "read", "write", "flush",
								      "migrate" };

void cache_sched_shares(struct rawio_cache *c)
{
	const uint32_t shares[CACHE_CL_NR] = { c->tun.read_shares, c->tun.write_shares,
					       c->tun.flush_shares, c->tun.migrate_shares };

	for (unsigned d = 0; d < 2; d++)
		for (unsigned k = 0; c->sched[d].s && k < CACHE_CL_NR; k++)
			rawio_sched_class_set_shares(c->sched[d].cls[k], shares[k]);
}

/* Device BACKING's scheduler over one engine context, when it has io properties. */
static int cache_sched_open(struct rawio_cache *c, bool backing)
{
	const struct rawio_io_props *p =
		backing ? c->opts.backing_io_props : c->opts.cache_io_props;
	struct cache_sched *cs = &c->sched[backing];
	/* Each context opens its own engine, as the direct pools do (the scheduler only grants). */
	struct rawio_sched_opts so = { .size = sizeof(so),
				       .props = p,
				       .ctx_engine = backing ? c->backing_engine : c->cache_engine,
				       .ctx_engine_opts = backing ? c->beo : c->ceo };
	int ret;

	if (!p)
		return 0;
	ret = cache_engine_open(c, backing, CACHE_SCHED_QD, &cs->e);
	if (!ret)
		ret = rawio_sched_new(&cs->s, cs->e, &so);
	for (unsigned k = 0; !ret && k < CACHE_CL_NR; k++)
		ret = rawio_sched_class_new(cs->s, rawio_cache_class_names[k], 1, &cs->cls[k]);
	return ret;
}

static void cache_sched_close(struct cache_sched *cs)
{
	rawio_sched_free(cs->s);
	rawio_engine_close(cs->e);
	*cs = (struct cache_sched){ 0 };
}

/* A pool of contexts on device BACKING in class CL (direct without a scheduler). */
static int cache_pool_new(struct rawio_cache *c, bool backing, enum cache_class cl,
			  struct rawio_engine_pool **out)
{
	struct rawio_engine_opts o;

	if (!c->sched[backing].s) {
		cache_engine_opts(c, backing, CACHE_POOL_QD, &o);
		return rawio_engine_pool_new(out, backing ? c->backing_engine : c->cache_engine,
					     backing ? c->bdev : c->cdev, &o, CACHE_POOL_MAX);
	}
	cache_class_opts(c, backing, cl, CACHE_POOL_QD, &o);
	return rawio_engine_pool_new(out, "sched", backing ? c->bdev : c->cdev, &o, CACHE_POOL_MAX);
}

int cache_pools_open(struct rawio_cache *c)
{
	int ret;

	ret = cache_sched_open(c, false);
	if (!ret)
		ret = cache_sched_open(c, true);
	c->opts.cache_io_props = c->opts.backing_io_props = NULL; /* the schedulers copied them */
	if (ret)
		return ret;
	cache_sched_shares(c);
	ret = cache_pool_new(c, false, CACHE_CL_READ, &c->cpool);
	if (ret)
		return ret;
	ret = cache_pool_new(c, true, CACHE_CL_READ, &c->bpool);
	if (ret)
		return ret;
	if (c->sched[0].s) {
		ret = cache_pool_new(c, false, CACHE_CL_WRITE, &c->cwpool);
		if (ret)
			return ret;
	}
	return rawio_buf_pool_new(&c->bounce, 2 * CACHE_READ_CHUNK * (size_t)CACHE_BLOCK,
				  CACHE_BLOCK, CACHE_POOL_MAX);
}

void cache_pools_close(struct rawio_cache *c)
{
	rawio_buf_pool_free(c->bounce);
	rawio_engine_pool_free(c->cwpool);
	rawio_engine_pool_free(c->bpool);
	rawio_engine_pool_free(c->cpool);
	c->cwpool = c->bpool = c->cpool = NULL;
	cache_sched_close(&c->sched[1]);
	cache_sched_close(&c->sched[0]);
}

bool rawio_cache_sched_stat(struct rawio_cache *c, unsigned dev, struct rawio_sched_stat *st,
			    struct rawio_sched_class_stat *cls, char *desc, size_t len)
{
	struct cache_sched *cs = dev < 2 ? &c->sched[dev] : NULL;

	if (!cs || !cs->s) {
		if (desc)
			snprintf(desc, len, "direct (no io properties)");
		return false;
	}
	rawio_sched_stat(cs->s, st);
	for (unsigned k = 0; k < CACHE_CL_NR; k++)
		rawio_sched_class_stat(cs->cls[k], &cls[k]);
	if (desc)
		rawio_sched_describe(cs->s, desc, len);
	return true;
}

void rawio_cache_sched_lat_reset(struct rawio_cache *c)
{
	for (unsigned d = 0; d < 2; d++)
		for (unsigned k = 0; c->sched[d].s && k < CACHE_CL_NR; k++)
			rawio_sched_class_lat_reset(c->sched[d].cls[k]);
}

int cache_run(struct rawio_engine *e, struct rawio_batch_io *ios, size_t n, bool write)
{
	ssize_t failed;

	if (!n)
		return 0;
	if (n == 1) {
		/* rawio_engine_io's -EIO for a short one is what the loop below says too. */
		uint64_t t0 = rawio_now_ns();

		ios[0].result = rawio_engine_io(e, write ? RAWIO_OP_WRITE : RAWIO_OP_READ, 0,
						ios[0].buf, ios[0].len, ios[0].off);
		ios[0].ns = rawio_now_ns() - t0;
	} else {
		failed = write ? rawio_batch_write(e, ios, n, NULL, NULL)
			       : rawio_batch_read(e, ios, n, NULL, NULL);
		if (failed < 0)
			return (int)failed;
	}
	for (size_t i = 0; i < n; i++) {
		if (ios[i].result < 0)
			return (int)ios[i].result;
		if ((uint64_t)ios[i].result != ios[i].len)
			return -EIO; /* the cache never reads or writes past a device's end */
	}
	return 0;
}
