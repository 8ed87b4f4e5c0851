// SPDX-License-Identifier: MIT
/*
 * The fault engine's volatile write cache: writes without FUA are held here
 * until a flush; a power cut keeps, loses or tears each held write by a
 * seeded choice. Shared by every fault engine context given the same model,
 * under one lock: requests through a model run synchronously and in order,
 * which is what makes the outcome a function of the seed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "util/rng.h"

struct held_write {
	uint64_t off, len;
	char *data;
	struct held_write *next;
};

struct rawio_fault_model {
	pthread_mutex_t lock;
	struct rawio_fault_model_opts o;
	uint64_t rng;
	uint64_t t0;
	struct held_write *head, *tail;
	struct rawio_fault_model_stats st;
	struct rawio_engine *io; /* writes held data down; opened on the first attach */
	unsigned users;
	uint32_t sector; /* tearing granularity */
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
	rawio_engine_close(m->io);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int fault_model_attach(struct rawio_fault_model *m, struct rawio_dev *dev)
{
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (!m->users++) {
		ret = rawio_engine_open(&m->io, info->kind == RAWIO_DEV_MEM ? "mem" : "sync", dev,
					NULL);
		m->sector = info->offset_align > 512 ? info->offset_align : 512;
		if (ret)
			m->users--;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void fault_model_detach(struct rawio_fault_model *m)
{
	pthread_mutex_lock(&m->lock);
	if (!--m->users) {
		/* The device goes away with the last user: what is still held stays
		 * held (a crash test cuts before it closes), but cannot go down now. */
		rawio_engine_close(m->io);
		m->io = NULL;
	}
	pthread_mutex_unlock(&m->lock);
}

static int64_t model_rw(struct rawio_fault_model *m, int op, unsigned flags, void *buf,
			uint64_t len, uint64_t off)
{
	struct rawio_req r = {
		.op = (uint8_t)op, .flags = flags, .buf = buf, .len = len, .off = off
	};

	if (!m->io)
		return -ENODEV;
	return rawio_engine_run1(m->io, &r);
}

/* The plug is pulled: each held write is kept, lost or torn. Lock held. */
static int model_cut(struct rawio_fault_model *m)
{
	int ret = 0;

	if (m->st.cut)
		return 0;
	m->st.cut = true;
	for (struct held_write *h = m->head; h; h = h->next) {
		uint64_t roll = rng_below(&m->rng, 100), n = h->len / m->sector;
		int64_t res = 0;

		if (roll < m->o.keep_pct) {
			m->st.kept++;
			res = model_rw(m, RAWIO_OP_WRITE, 0, h->data, h->len, h->off);
		} else if (roll < m->o.keep_pct + m->o.lose_pct || n < 2) {
			m->st.lost++;
		} else if (rng_next(&m->rng) & 1) {
			/* A prefix of its sectors made it. */
			uint64_t k = 1 + rng_below(&m->rng, n - 1);

			m->st.torn_prefix++;
			res = model_rw(m, RAWIO_OP_WRITE, 0, h->data, k * m->sector, h->off);
		} else {
			/* Any subset of its sectors made it. */
			m->st.torn_subset++;
			for (uint64_t i = 0; i < n && res >= 0; i++)
				if (rng_next(&m->rng) & 1)
					res = model_rw(m, RAWIO_OP_WRITE, 0,
						       h->data + i * m->sector, m->sector,
						       h->off + i * m->sector);
		}
		if (res < 0 && !ret)
			ret = (int)res;
	}
	model_drop_held(m);
	if (m->io) {
		int64_t res = model_rw(m, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);

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

void rawio_fault_model_stats(struct rawio_fault_model *m, struct rawio_fault_model_stats *st)
{
	pthread_mutex_lock(&m->lock);
	*st = m->st;
	pthread_mutex_unlock(&m->lock);
}

/* Copy held data over [off, off + len) of BUF, oldest first so the newest wins. */
static void model_overlay(struct rawio_fault_model *m, char *buf, uint64_t len, uint64_t off)
{
	for (struct held_write *h = m->head; h; h = h->next) {
		uint64_t lo = h->off > off ? h->off : off;
		uint64_t hi = h->off + h->len < off + len ? h->off + h->len : off + len;

		if (lo < hi)
			memcpy(buf + (lo - off), h->data + (lo - h->off), hi - lo);
	}
}

/* Newer data written through (FUA) supersedes what is held for the same bytes. */
static void model_supersede(struct rawio_fault_model *m, const char *buf, uint64_t len,
			    uint64_t off)
{
	for (struct held_write *h = m->head; h; h = h->next) {
		uint64_t lo = h->off > off ? h->off : off;
		uint64_t hi = h->off + h->len < off + len ? h->off + h->len : off + len;

		if (lo < hi)
			memcpy(h->data + (lo - h->off), buf + (lo - off), hi - lo);
	}
}

static int64_t model_hold(struct rawio_fault_model *m, const void *data, uint64_t len, uint64_t off)
{
	struct held_write *h = calloc(1, sizeof(*h));

	/* Aligned: it goes down later through an O_DIRECT engine. */
	if (!h || !(h->data = rawio_buf_alloc(len ? len : 1, 4096))) {
		free(h);
		return -ENOMEM;
	}
	if (data)
		memcpy(h->data, data, len); /* else a discard: zeroes, as allocated */
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

static int64_t model_flush(struct rawio_fault_model *m)
{
	int64_t res = 0;

	for (struct held_write *h = m->head; h && res >= 0; h = h->next)
		res = model_rw(m, RAWIO_OP_WRITE, 0, h->data, h->len, h->off);
	if (res < 0)
		return res;
	model_drop_held(m);
	return model_rw(m, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
}

int64_t fault_model_io(struct rawio_fault_model *m, struct rawio_req *r)
{
	uint64_t pos = req_pos(r), left = req_left(r);
	int64_t res;

	pthread_mutex_lock(&m->lock);
	if (!m->st.cut && m->o.cut == RAWIO_CUT_AT_NS && rawio_now_ns() - m->t0 >= m->o.cut_at)
		model_cut(m);
	if (m->st.cut) {
		res = -EIO;
		goto out;
	}
	switch (r->op) {
	case RAWIO_OP_READ:
		m->st.reads++;
		res = model_rw(m, RAWIO_OP_READ, 0, req_data(r), left, pos);
		if (res > 0)
			model_overlay(m, req_data(r), (uint64_t)res, pos);
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
			res = model_hold(m, NULL, r->len, r->off);
			res = res < 0 ? res : 0;
		} else if (r->flags & RAWIO_REQ_FUA) {
			m->st.fua_writes++;
			model_supersede(m, req_data(r), left, pos);
			res = model_rw(m, RAWIO_OP_WRITE, RAWIO_REQ_FUA, req_data(r), left, pos);
		} else {
			res = model_hold(m, req_data(r), left, pos);
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
		res = model_flush(m);
		break;
	default:
		res = -EINVAL;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return res;
}
