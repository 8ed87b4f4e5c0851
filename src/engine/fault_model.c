// SPDX-License-Identifier: MIT
/*
 * The fault engine's volatile write cache: writes without FUA are held here
 * until a flush; a power cut keeps, loses or tears each held write by a
 * seeded choice. Shared by every fault engine context given the same model,
 * under one lock: requests through a model run synchronously and in order,
 * which is what makes the outcome a function of the seed. One model can hold
 * writes for several devices (a cache and its backing device): the cut takes
 * them all down at the same moment, and a flush of one writes down only its
 * own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "util/rng.h"

#define MODEL_MAX_DEVS 4 /* a cut takes every device of the model down at once */

struct held_write {
	unsigned dev; /* index into the model's devices */
	uint64_t off, len;
	char *data;
	struct held_write *next;
};

struct model_dev {
	struct rawio_dev *dev;
	struct rawio_engine *io; /* writes held data down */
	unsigned users;		 /* fault engine contexts attached */
	uint32_t sector;	 /* tearing granularity */
};

struct rawio_fault_model {
	pthread_mutex_t lock;
	struct rawio_fault_model_opts o;
	uint64_t rng;
	uint64_t t0;
	struct held_write *head, *tail;
	struct rawio_fault_model_stat st;
	struct model_dev devs[MODEL_MAX_DEVS];
};

int rawio_fault_model_new(struct rawio_fault_model **out, const struct rawio_fault_model_opts *o)
{
	struct rawio_fault_model *m;

	*out = NULL;
	if (!o || o->size < sizeof(*o) || o->keep_pct + o->lose_pct > 100)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->o = *o;
	if (!m->o.keep_pct && !m->o.lose_pct) {
		m->o.keep_pct = 33;
		m->o.lose_pct = 33;
	}
	m->rng = o->seed;
	m->t0 = rawio_now_ns();
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

static void model_drop_held(struct rawio_fault_model *m)
{
	while (m->head) {
		struct held_write *h = m->head;

		m->head = h->next;
		rawio_buf_free(h->data);
		free(h);
	}
	m->tail = NULL;
	m->st.held = 0;
}

void rawio_fault_model_free(struct rawio_fault_model *m)
{
	if (!m)
		return;
	model_drop_held(m);
	for (unsigned i = 0; i < MODEL_MAX_DEVS; i++)
		rawio_engine_close(m->devs[i].io);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct model_dev *model_find(struct rawio_fault_model *m, const struct rawio_dev *dev)
{
	for (unsigned i = 0; i < MODEL_MAX_DEVS; i++)
		if (m->devs[i].dev == dev)
			return &m->devs[i];
	return NULL;
}

int fault_model_attach(struct rawio_fault_model *m, struct rawio_dev *dev)
{
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	struct model_dev *d;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	d = model_find(m, dev);
	if (!d) {
		d = model_find(m, NULL);
		if (!d) {
			ret = -ENOSPC;
			goto out;
		}
		ret = rawio_engine_open(&d->io, info->kind == RAWIO_DEV_MEM ? "mem" : "sync", dev,
					NULL);
		if (ret)
			goto out;
		d->dev = dev;
		d->sector = info->offset_align > 512 ? info->offset_align : 512;
	}
	d->users++;
out:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void fault_model_detach(struct rawio_fault_model *m, struct rawio_dev *dev)
{
	struct model_dev *d;

	pthread_mutex_lock(&m->lock);
	d = model_find(m, dev);
	if (d && !--d->users) {
		/* The device goes away with its last user: what is still held for it
		 * stays held (a crash test cuts before it closes), but cannot go down. */
		rawio_engine_close(d->io);
		d->io = NULL;
		d->dev = NULL;
		for (struct held_write *h = m->head; h; h = h->next)
			if (h->dev == (unsigned)(d - m->devs))
				h->dev = MODEL_MAX_DEVS; /* orphaned */
	}
	pthread_mutex_unlock(&m->lock);
}

static int64_t model_rw(struct rawio_fault_model *m, unsigned dev, int op, unsigned flags,
			void *buf, uint64_t len, uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};

	if (dev >= MODEL_MAX_DEVS || !m->devs[dev].io)
		return -ENODEV;
	return rawio_engine_run1(m->devs[dev].io, &r);
}

/* The plug is pulled: each held write is kept, lost or torn; every device goes down. Lock held. */
static int model_cut(struct rawio_fault_model *m)
{
	int ret = 0;

	if (m->st.cut)
		return 0;
	m->st.cut = true;
	for (struct held_write *h = m->head; h; h = h->next) {
		uint32_t sector = h->dev < MODEL_MAX_DEVS ? m->devs[h->dev].sector : 512;
		uint64_t roll = rng_below(&m->rng, 100), n = h->len / sector;
		int64_t res = 0;

		if (roll < m->o.keep_pct) {
			m->st.kept++;
			res = model_rw(m, h->dev, RAWIO_OP_WRITE, 0, h->data, h->len, h->off);
		} else if (roll < m->o.keep_pct + m->o.lose_pct || n < 2) {
			m->st.lost++;
		} else if (rng_next(&m->rng) & 1) {
			/* A prefix of its sectors made it. */
			uint64_t k = 1 + rng_below(&m->rng, n - 1);

			m->st.torn_prefix++;
			res = model_rw(m, h->dev, RAWIO_OP_WRITE, 0, h->data, k * sector, h->off);
		} else {
			/* Any subset of its sectors made it. */
			m->st.torn_subset++;
			for (uint64_t i = 0; i < n && res >= 0; i++)
				if (rng_next(&m->rng) & 1)
					res = model_rw(m, h->dev, RAWIO_OP_WRITE, 0,
						       h->data + i * sector, sector,
						       h->off + i * sector);
		}
		if (res < 0 && res != -ENODEV && !ret)
			ret = (int)res;
	}
	model_drop_held(m);
	for (unsigned i = 0; i < MODEL_MAX_DEVS; i++) {
		int64_t res;

		if (!m->devs[i].io)
			continue;
		res = model_rw(m, i, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
		if (res < 0 && !ret)
			ret = (int)res;
	}
	return ret;
}

int rawio_fault_model_cut(struct rawio_fault_model *m)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = model_cut(m);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void rawio_fault_model_stat(struct rawio_fault_model *m, struct rawio_fault_model_stat *st)
{
	pthread_mutex_lock(&m->lock);
	*st = m->st;
	pthread_mutex_unlock(&m->lock);
}

/* Copy held data over [off, off + len) of BUF, oldest first so the newest wins. */
static void model_overlay(struct rawio_fault_model *m, unsigned dev, char *buf, uint64_t len,
			  uint64_t off)
{
	for (struct held_write *h = m->head; h; h = h->next) {
		if (h->dev != dev)
			continue;
		uint64_t lo = h->off > off ? h->off : off;
		uint64_t hi = h->off + h->len < off + len ? h->off + h->len : off + len;

		if (lo < hi)
			memcpy(buf + (lo - off), h->data + (lo - h->off), hi - lo);
	}
}

/* Newer data written through (FUA) supersedes what is held for the same bytes. */
static void model_supersede(struct rawio_fault_model *m, unsigned dev, const char *buf,
			    uint64_t len, uint64_t off)
{
	for (struct held_write *h = m->head; h; h = h->next) {
		if (h->dev != dev)
			continue;
		uint64_t lo = h->off > off ? h->off : off;
		uint64_t hi = h->off + h->len < off + len ? h->off + h->len : off + len;

		if (lo < hi)
			memcpy(h->data + (lo - h->off), buf + (lo - off), hi - lo);
	}
}

static int64_t model_hold(struct rawio_fault_model *m, unsigned dev, const void *data, uint64_t len,
			  uint64_t off)
{
	struct held_write *h = calloc(1, sizeof(*h));

	/* Aligned: it goes down later through an O_DIRECT engine. */
	if (!h || !(h->data = rawio_buf_alloc(len ? len : 1, 4096))) {
		free(h);
		return -ENOMEM;
	}
	if (data)
		memcpy(h->data, data, len); /* else a discard: zeroes, as allocated */
	h->dev = dev;
	h->off = off;
	h->len = len;
	if (m->tail)
		m->tail->next = h;
	else
		m->head = h;
	m->tail = h;
	m->st.held++;
	return (int64_t)len;
}

/* A flush of one device writes down what is held for it, in order, and flushes it. */
static int64_t model_flush(struct rawio_fault_model *m, unsigned dev)
{
	struct held_write **pp = &m->head, *h;
	int64_t res = 0;

	for (h = m->head; h && res >= 0; h = h->next)
		if (h->dev == dev)
			res = model_rw(m, dev, RAWIO_OP_WRITE, 0, h->data, h->len, h->off);
	if (res < 0)
		return res;
	m->tail = NULL;
	while ((h = *pp)) {
		if (h->dev == dev) {
			*pp = h->next;
			rawio_buf_free(h->data);
			free(h);
			m->st.held--;
		} else {
			m->tail = h;
			pp = &h->next;
		}
	}
	return model_rw(m, dev, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
}

int64_t fault_model_io(struct rawio_fault_model *m, struct rawio_dev *rdev, struct rawio_req *r)
{
	uint64_t pos = req_pos(r), left = req_left(r);
	struct model_dev *d;
	unsigned dev;
	int64_t res;

	pthread_mutex_lock(&m->lock);
	d = model_find(m, rdev);
	dev = d ? (unsigned)(d - m->devs) : MODEL_MAX_DEVS;
	if (!m->st.cut && m->o.cut == RAWIO_CUT_AT_NS && rawio_now_ns() - m->t0 >= m->o.cut_at)
		model_cut(m);
	if (m->st.cut) {
		res = -EIO;
		goto out;
	}
	switch (r->op) {
	case RAWIO_OP_READ:
		m->st.reads++;
		res = model_rw(m, dev, RAWIO_OP_READ, 0, req_data(r), left, pos);
		if (res > 0)
			model_overlay(m, dev, req_data(r), (uint64_t)res, pos);
		break;
	case RAWIO_OP_WRITE:
	case RAWIO_OP_DISCARD:
		m->st.writes++;
		if (m->o.cut == RAWIO_CUT_AT_WRITE && m->st.writes == m->o.cut_at) {
			model_cut(m);
			res = -EIO;
			break;
		}
		if (r->op == RAWIO_OP_DISCARD) {
			res = model_hold(m, dev, NULL, r->len, r->off);
			res = res < 0 ? res : 0;
		} else if (r->flags & RAWIO_REQ_FUA) {
			m->st.fua_writes++;
			model_supersede(m, dev, req_data(r), left, pos);
			res = model_rw(m, dev, RAWIO_OP_WRITE, RAWIO_REQ_FUA, req_data(r), left,
				       pos);
		} else {
			res = model_hold(m, dev, req_data(r), left, pos);
		}
		break;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		m->st.flushes++;
		if (m->o.cut == RAWIO_CUT_AT_FLUSH && m->st.flushes == m->o.cut_at) {
			model_cut(m);
			res = -EIO;
			break;
		}
		res = model_flush(m, dev);
		break;
	default:
		res = -EINVAL;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return res;
}
