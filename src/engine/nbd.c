// SPDX-License-Identifier: MIT
/*
 * nbd: an engine over an NBD export, with libnbd's asynchronous API.
 *
 * Each context opens its own connections to the URI the device was opened
 * with: several (opts.nbd_conns, default 4, or one per 16 of its depth) when the server offers
 * multi-conn, which promises that a flush on one connection covers writes
 * completed on every other; one otherwise. queue() cuts a request into pieces
 * of at most the server's maximum block size, sends each on the first
 * connection with fewer than NBD_CONN_DEPTH commands out (nbdeng_pick), with
 * nbd_aio_pread/pwrite/flush/trim/zero, which write to the non-blocking socket
 * at once, and returns. Completion callbacks run inside
 * libnbd calls made from this thread, with the handle's lock held: they only
 * count pieces and put a finished request on a list, never call libnbd. reap()
 * hands out that list and, when it must wait, polls the sockets in the
 * direction each handle wants (nbd_aio_get_direction) and tells libnbd
 * (nbd_aio_notify_read/write), which runs the callbacks.
 *
 * A context opens even when the server cannot be reached at that moment (its
 * requests fail until it can). Failure. libnbd completes every command in
 * flight on a connection that dies (the server closed the socket, a protocol
 * error) with ENOTCONN, exactly
 * once; a command refused at once (a dead handle) has no callback, and the
 * piece is failed here instead. A request fails with its first piece's error,
 * and the context keeps a line saying which server and which request
 * (rawio_engine_describe). A dead connection is reopened, at most every
 * NBD_RECONNECT_NS, by a later queue(): a server that comes back is used
 * again without reopening the context. Writes acknowledged before a
 * connection died may have been lost with the server's volatile cache, so
 * the next flush after such a death fails with -EIO instead of vouching for
 * them: a failed flush is never reported as success.
 *
 * FUA maps to NBD_CMD_FLAG_FUA where the server takes it, else to a flush sent
 * when the write is in; fsync and fdatasync to NBD_CMD_FLUSH (success when the
 * server has no flush: it advertises no volatile cache); discard to
 * NBD_CMD_TRIM, else NBD_CMD_WRITE_ZEROES, else nothing (the contract allows
 * old data).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include <rawio/rawio.h>

#include "engine_impl.h"

#define NBD_MAX_CONNS	  16u
#define NBD_DEFAULT_CONNS 4u
#define NBD_DEFAULT_MAX	  (32u << 20) /* the protocol's default maximum payload */
#define NBD_LIBNBD_MAX	  (64u << 20) /* libnbd's own limit on a read or write */
#define NBD_TRIM_MAX	  (1u << 30)  /* trim and zero counts are 32-bit on the wire */
#define NBD_POLL_MS	  1000	      /* a wait wakes this often to look at dead handles */
#define NBD_RECONNECT_NS  (100ull * 1000 * 1000)
#define NBD_ERR_LEN	  512
#define NBD_CONN_DEPTH	  16 /* nbdkit's threads per connection, qemu-nbd's requests */
#define NBD_READ_BUDGET	  64 /* replies read from one socket per wakeup, at most */

struct nbdeng_conn {
	struct nbd_handle *h;
	bool dead;
	uint64_t retry_ns; /* no reconnect before */
	char why[160];	   /* libnbd's reason it died */
};

struct nbdeng_priv;

/* One request in flight: its pieces, and how they went. */
struct nbdeng_slot {
	struct nbdeng_priv *p;
	struct rawio_req *req;
	unsigned pieces;  /* sent, not yet completed */
	bool issuing;	  /* queue() is still sending pieces: completions must not finish it */
	bool flush_after; /* FUA by a flush once the write is in */
	int err;	  /* first error, positive errno */
	int err_conn;	  /* connection it came from, -1 if none */
	uint64_t bytes;	  /* read/write: bytes asked of the server */
	uint64_t gen;	  /* flush: p->write_gen when it was sent */
	bool flushed;	  /* a flush was sent for it (fsync, or FUA by flush) */
	struct nbdeng_slot *next_free;
};

/* What the server offers: the device's probe, or (opened unreached) the first connection's. */
struct nbdeng_caps {
	bool can_flush, can_fua, can_trim, can_zero;
};

struct nbdeng_priv {
	struct nbdeng_conn conns[NBD_MAX_CONNS];
	struct nbdeng_caps caps;
	bool learn_caps; /* the device was opened unreached: take the caps from a connection */
	unsigned nr_conns;
	struct nbdeng_slot *slots;
	struct nbdeng_slot *free;
	unsigned nr_free;
	struct req_fifo done; /* finished by a callback, for reap */
	uint64_t replies;     /* pieces called back, ever: did a notify_read finish one? */
	uint32_t max_piece;
	/* Writes acknowledged, and how many a successful flush covered. */
	uint64_t write_gen, flushed_gen;
	/* Deaths of connections holding writes not yet flushed, and how many of them a
	 * failed flush has reported. A flush succeeds only if none is unreported. */
	uint64_t poison_epoch, poison_reported;
	char last_err[NBD_ERR_LEN];
};

const char *rawio_engine_default(const struct rawio_dev_info *info)
{
	if (info && info->kind == RAWIO_DEV_MEM)
		return "mem";
	if (info && info->kind == RAWIO_DEV_NBD)
		return "nbd";
	if (info && info->kind == RAWIO_DEV_RBD)
		return "rbd";
	return "uring";
}

static const char *nbdeng_op_name(unsigned op)
{
	static const char *const names[RAWIO_OP_NR] = { "read", "write", "fsync", "fdatasync",
							"discard" };

	return op < RAWIO_OP_NR ? names[op] : "?";
}

/* Remember which server and which request failed, and why. */
static void nbdeng_note_error(struct rawio_engine *e, const struct rawio_req *r, int err, int conn)
{
	struct nbdeng_priv *p = e->priv;
	const char *why = conn >= 0 && p->conns[conn].dead ? p->conns[conn].why : "";

	if (r->op == RAWIO_OP_READ || r->op == RAWIO_OP_WRITE || r->op == RAWIO_OP_DISCARD)
		snprintf(p->last_err, sizeof(p->last_err),
			 "%.200s: %s of %llu bytes at %llu%s: %s%s%.160s%s", e->info->path,
			 nbdeng_op_name(r->op), (unsigned long long)req_left(r),
			 (unsigned long long)req_pos(r), r->flags & RAWIO_REQ_FUA ? " (FUA)" : "",
			 rawio_strerror(-err), why[0] ? " (" : "", why, why[0] ? ")" : "");
	else
		snprintf(p->last_err, sizeof(p->last_err), "%.200s: %s: %s%s%.160s%s",
			 e->info->path, nbdeng_op_name(r->op), rawio_strerror(-err),
			 why[0] ? " (" : "", why, why[0] ? ")" : "");
}

static void nbdeng_conn_died(struct nbdeng_priv *p, struct nbdeng_conn *c)
{
	const char *msg = nbd_get_error();

	if (c->dead)
		return;
	c->dead = true;
	c->retry_ns = rawio_now_ns() + NBD_RECONNECT_NS;
	snprintf(c->why, sizeof(c->why), "%s", msg ? msg : "connection lost");
	/* What the server acknowledged since the last flush may be gone with it. */
	if (p->write_gen > p->flushed_gen)
		p->poison_epoch++;
}

/* Connect C to the device's URI; 0 or -errno. Blocks for the handshake. */
static int nbdeng_conn_open(struct rawio_engine *e, struct nbdeng_conn *c)
{
	struct nbdeng_priv *p = e->priv;
	struct nbd_handle *h = nbd_create();
	int64_t size;
	int ret;

	if (!h)
		return -ENOMEM;
	/* A failed read leaves its buffer undefined anyway: skip libnbd's memset. */
	nbd_set_pread_initialize(h, false);
	/*
	 * Simple replies: a read's reply is a 16-byte header and the data, two
	 * recv calls; a structured reply (header, chunk length, offset, data) took
	 * four. The engine asks for nothing only structured replies carry (block
	 * status, sparse reads), and every server must accept simple ones.
	 */
	nbd_set_request_structured_replies(h, false);
	if (nbd_connect_uri(h, e->info->path) == -1) {
		ret = nbd_get_errno() > 0 ? -nbd_get_errno() : -ENOTCONN;
		snprintf(c->why, sizeof(c->why), "%s", nbd_get_error());
		goto close;
	}
	size = nbd_get_size(h);
	/* Opened unreached, the size is the user's (a cache's): the export must hold it. */
	if (size < 0 || (e->info->nbd.offline ? (uint64_t)size < e->info->size
					      : (uint64_t)size != e->info->size)) {
		snprintf(c->why, sizeof(c->why), "export size is now %lld, was %llu",
			 (long long)size, (unsigned long long)e->info->size);
		ret = -ESTALE;
		goto close;
	}
	if (p->learn_caps) {
		int64_t max = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);

		p->caps = (struct nbdeng_caps){ .can_flush = nbd_can_flush(h) == 1,
						.can_fua = nbd_can_fua(h) == 1,
						.can_trim = nbd_can_trim(h) == 1,
						.can_zero = nbd_can_zero(h) == 1 };
		if (max > 0 && (uint64_t)max < p->max_piece)
			p->max_piece = (uint32_t)(max - max % e->info->offset_align);
		if (!p->max_piece)
			p->max_piece = e->info->offset_align;
		p->learn_caps = false;
	}
	c->h = h;
	c->dead = false;
	c->why[0] = '\0';
	return 0;
close:
	nbd_close(h);
	return ret;
}

static void nbdeng_fini(struct rawio_engine *e)
{
	struct nbdeng_priv *p = e->priv;

	/* Closing may complete what is still in flight: the slots outlive it. */
	for (unsigned i = 0; i < p->nr_conns; i++)
		nbd_close(p->conns[i].h);
	free(p->slots);
}

static int nbdeng_init(struct rawio_engine *e, const struct rawio_engine_opts *opts)
{
	const struct rawio_nbd_info *n = &e->info->nbd;
	struct nbdeng_priv *p = e->priv;
	unsigned want;
	int ret;

	if (e->info->kind != RAWIO_DEV_NBD)
		return -EINVAL;
	/* Enough connections for the depth: a server runs NBD_CONN_DEPTH per connection. */
	want = (e->qd + NBD_CONN_DEPTH - 1) / NBD_CONN_DEPTH;
	if (want < NBD_DEFAULT_CONNS)
		want = NBD_DEFAULT_CONNS;
	if (opts->nbd_conns)
		want = opts->nbd_conns;
	if (want > NBD_MAX_CONNS)
		want = NBD_MAX_CONNS;
	if (want > e->qd)
		want = e->qd;
	if (!n->can_multi_conn)
		want = 1;
	p->caps = (struct nbdeng_caps){ .can_flush = n->can_flush,
					.can_fua = n->can_fua,
					.can_trim = n->can_trim,
					.can_zero = n->can_zero };
	/* Opened unreached: one connection (multi-conn unknown) until a reopen. */
	p->learn_caps = n->offline;
	p->max_piece = n->max_block ? n->max_block : NBD_DEFAULT_MAX;
	if (p->max_piece > NBD_LIBNBD_MAX)
		p->max_piece = NBD_LIBNBD_MAX;
	/* Pieces stay multiples of the alignment. */
	p->max_piece -= p->max_piece % e->info->offset_align;
	if (!p->max_piece)
		return -EINVAL;

	p->slots = calloc(e->qd, sizeof(*p->slots));
	if (!p->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < e->qd; i++) {
		p->slots[i].p = p;
		p->slots[i].next_free = p->free;
		p->free = &p->slots[i];
	}
	p->nr_free = e->qd;
	for (p->nr_conns = 0; p->nr_conns < want; p->nr_conns++) {
		struct nbdeng_conn *c = &p->conns[p->nr_conns];

		ret = nbdeng_conn_open(e, c);
		if (!ret)
			continue;
		snprintf(p->last_err, sizeof(p->last_err), "%.200s: connection %u: %.160s",
			 e->info->path, p->nr_conns, c->why);
		/*
		 * The device was reachable when it was opened: a server that is
		 * away now (restarting) is a failure of the I/O, not of the
		 * context, so that a cache can keep its writes and wait for it.
		 * A different export or no memory is the context's.
		 */
		if (ret == -ESTALE || ret == -ENOMEM) {
			nbdeng_fini(e);
			return ret;
		}
		c->dead = true;
		c->retry_ns = rawio_now_ns() + NBD_RECONNECT_NS;
	}
	return 0;
}

/*
 * The first live connection with fewer than NBD_CONN_DEPTH commands in flight,
 * else the least busy; reopen dead ones when due. Spread evenly, 32 commands on
 * 4 sockets cost the client and the server more wakeups per I/O than on one
 * (on 2 vCPUs, nbdkit memory: 0.57-0.97x of one connection, 2.5x the server's
 * context switches per I/O); but one connection gets at most as many commands
 * run at once as the server runs per connection (nbdkit: 16 threads), which
 * behind a 1 ms delay made one connection 0.56x of four at QD 32. Filling one
 * before the next is one connection up to that depth, and more beyond it.
 */
static int nbdeng_pick(struct rawio_engine *e)
{
	struct nbdeng_priv *p = e->priv;
	uint64_t now = 0;
	int best = -1, best_load = 0;

	for (unsigned i = 0; i < p->nr_conns; i++) {
		struct nbdeng_conn *c = &p->conns[i];
		int load;

		if (c->dead) {
			if (!now)
				now = rawio_now_ns();
			if (now < c->retry_ns || (c->h && nbd_aio_in_flight(c->h) > 0))
				continue;
			nbd_close(c->h);
			c->h = NULL;
			if (nbdeng_conn_open(e, c)) {
				c->retry_ns = now + NBD_RECONNECT_NS;
				continue;
			}
		}
		load = nbd_aio_in_flight(c->h);
		if (load < NBD_CONN_DEPTH)
			return (int)i;
		if (best < 0 || load < best_load) {
			best = (int)i;
			best_load = load;
		}
	}
	return best;
}

static int nbdeng_piece_done(void *user_data, int *error)
{
	struct nbdeng_slot *s = user_data;

	if (*error && !s->err)
		s->err = *error;
	s->p->replies++;
	s->pieces--;
	if (!s->pieces && !s->issuing)
		fifo_push(&s->p->done, s->req);
	return 1; /* retire the command */
}

/* Send one piece on a connection. 0, or a positive errno if it was refused. */
static int nbdeng_send(struct rawio_engine *e, struct nbdeng_slot *s, unsigned op, void *buf,
		       uint64_t len, uint64_t off, uint32_t flags)
{
	struct nbdeng_priv *p = e->priv;
	nbd_completion_callback cb = { .callback = nbdeng_piece_done, .user_data = s };

	/* A handle found dead only now refused the piece unsent: try the next one. */
	for (unsigned tries = 0; tries <= p->nr_conns; tries++) {
		struct nbdeng_conn *c;
		int64_t cookie;
		int i = nbdeng_pick(e), err;

		if (i < 0)
			break;
		c = &p->conns[i];
		s->pieces++;
		switch (op) {
		case RAWIO_OP_READ:
			cookie = nbd_aio_pread(c->h, buf, len, off, cb, 0);
			break;
		case RAWIO_OP_WRITE:
			cookie = nbd_aio_pwrite(c->h, buf, len, off, cb, flags);
			break;
		case RAWIO_OP_DISCARD:
			cookie = p->caps.can_trim ? nbd_aio_trim(c->h, len, off, cb, 0)
						  : nbd_aio_zero(c->h, len, off, cb, 0);
			break;
		default:
			cookie = nbd_aio_flush(c->h, cb, 0);
			break;
		}
		if (cookie != -1) {
			/* Sending may have found the socket closed (and failed the piece). */
			if (nbd_aio_is_dead(c->h) || nbd_aio_is_closed(c->h))
				nbdeng_conn_died(p, c);
			return 0;
		}
		/* Refused at once: libnbd will not call back. */
		err = nbd_get_errno() > 0 ? nbd_get_errno() : EIO;
		s->pieces--;
		s->err_conn = i;
		if (!nbd_aio_is_dead(c->h) && !nbd_aio_is_closed(c->h))
			return err;
		nbdeng_conn_died(p, c);
	}
	s->err_conn = 0;
	return ENOTCONN;
}

/*
 * Send S's request (or its flush) as pieces. Returns true if it finished
 * here (every piece refused or already called back), false if pieces are out.
 */
static bool nbdeng_issue(struct rawio_engine *e, struct nbdeng_slot *s, unsigned op)
{
	struct nbdeng_priv *p = e->priv;
	struct rawio_req *r = s->req;
	uint64_t pos = req_pos(r), left = s->bytes;
	char *buf = req_data(r);
	uint32_t flags = 0, piece = op == RAWIO_OP_DISCARD ? NBD_TRIM_MAX : p->max_piece;
	int err = 0;

	s->issuing = true;
	if (op == RAWIO_OP_WRITE && (r->flags & RAWIO_REQ_FUA) && p->caps.can_fua)
		flags = LIBNBD_CMD_FLAG_FUA;
	if (op == RAWIO_OP_FSYNC) {
		s->gen = p->write_gen;
		s->flushed = true;
		err = nbdeng_send(e, s, op, NULL, 0, 0, 0);
	}
	while (op != RAWIO_OP_FSYNC && left && !err) {
		uint64_t n = left < piece ? left : piece;

		err = nbdeng_send(e, s, op, buf, n, pos, flags);
		pos += n;
		if (buf)
			buf += n;
		left -= n;
	}
	if (err && !s->err)
		s->err = err;
	s->issuing = false;
	return s->pieces == 0;
}

/*
 * Did a connection die holding writes not yet flushed, since a flush last said
 * so? Then this flush must fail: those writes may be gone with the server.
 */
static bool nbdeng_flush_lost(struct rawio_engine *e, const struct rawio_req *r)
{
	struct nbdeng_priv *p = e->priv;

	if (p->poison_epoch == p->poison_reported)
		return false;
	p->poison_reported = p->poison_epoch;
	p->flushed_gen = p->write_gen; /* the caller now knows: start counting afresh */
	snprintf(p->last_err, sizeof(p->last_err),
		 "%.200s: %s: a connection died holding acknowledged writes not yet flushed; "
		 "they may be lost",
		 e->info->path, r->op == RAWIO_OP_WRITE ? "FUA write" : nbdeng_op_name(r->op));
	return true;
}

/* S is done: set its request's result, note a failure, free the slot. */
static struct rawio_req *nbdeng_finish(struct rawio_engine *e, struct nbdeng_slot *s)
{
	struct nbdeng_priv *p = e->priv;
	struct rawio_req *r = s->req;
	bool flush = r->op == RAWIO_OP_FSYNC || r->op == RAWIO_OP_FDATASYNC;

	if (s->err) {
		r->result = -s->err;
		nbdeng_note_error(e, r, r->result, s->err_conn);
	} else if (s->flushed && nbdeng_flush_lost(e, r)) {
		r->result = -EIO;
	} else if (flush) {
		r->result = 0;
		if (s->gen > p->flushed_gen)
			p->flushed_gen = s->gen;
	} else {
		r->result = r->op == RAWIO_OP_DISCARD ? 0 : (int64_t)s->bytes;
		/* A FUA write is durable; a plain one waits for the next flush. */
		if (r->op == RAWIO_OP_WRITE && !(r->flags & RAWIO_REQ_FUA))
			p->write_gen++;
		/* A FUA write done by a flush covers what was written before it too. */
		if (s->gen > p->flushed_gen)
			p->flushed_gen = s->gen;
	}
	s->req = NULL;
	s->next_free = p->free;
	p->free = s;
	p->nr_free++;
	return r;
}

static int nbdeng_poll(struct rawio_engine *e, int timeout_ms);

static int nbdeng_done_now(struct rawio_req *r, int64_t result)
{
	r->result = result;
	return RAWIO_Q_DONE;
}

static int nbdeng_queue(struct rawio_engine *e, struct rawio_req *r)
{
	struct nbdeng_priv *p = e->priv;
	const struct nbdeng_caps *n = &p->caps;
	uint64_t size = e->info->size, pos = req_pos(r), len = req_left(r);
	unsigned op = r->op;
	struct nbdeng_slot *s;

	switch (op) {
	case RAWIO_OP_READ:
		if (pos >= size)
			return nbdeng_done_now(r, 0);
		break;
	case RAWIO_OP_WRITE:
		if (pos >= size)
			return nbdeng_done_now(r, -ENOSPC);
		break;
	case RAWIO_OP_DISCARD:
		if (r->off > size || r->len > size - r->off)
			return nbdeng_done_now(r, -EINVAL);
		if (!r->len || (!n->can_trim && !n->can_zero))
			return nbdeng_done_now(r, 0);
		break;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		op = RAWIO_OP_FSYNC;
		/* Let idle connections report a closed socket before deciding. */
		nbdeng_poll(e, 0);
		if (nbdeng_flush_lost(e, r))
			return nbdeng_done_now(r, -EIO);
		if (!n->can_flush)
			return nbdeng_done_now(r, 0);
		break;
	default:
		return nbdeng_done_now(r, -EINVAL);
	}
	if (!p->free)
		return RAWIO_Q_BUSY;
	s = p->free;
	p->free = s->next_free;
	p->nr_free--;
	s->req = r;
	s->err = 0;
	s->err_conn = -1;
	s->pieces = 0;
	s->gen = 0;
	s->flushed = false;
	s->bytes = len > size - pos ? size - pos : len;
	if (op == RAWIO_OP_DISCARD)
		s->bytes = r->len;
	s->flush_after =
		op == RAWIO_OP_WRITE && (r->flags & RAWIO_REQ_FUA) && !n->can_fua && n->can_flush;
	r->eng_index = (uint32_t)(s - p->slots);
	if (!nbdeng_issue(e, s, op))
		return RAWIO_Q_QUEUED;
	nbdeng_finish(e, s);
	return RAWIO_Q_DONE;
}

/* Hand out finished requests; a write that owes a flush sends it first. */
static unsigned nbdeng_collect(struct rawio_engine *e, struct rawio_req **out, unsigned max)
{
	struct nbdeng_priv *p = e->priv;
	unsigned got = 0;
	struct rawio_req *r;

	while (got < max && (r = fifo_pop(&p->done))) {
		struct nbdeng_slot *s = &p->slots[r->eng_index];

		if (s->flush_after && !s->err) {
			s->flush_after = false;
			if (!nbdeng_issue(e, s, RAWIO_OP_FSYNC))
				continue; /* comes back through the list */
		}
		out[got++] = nbdeng_finish(e, s);
	}
	return got;
}

/*
 * C's socket is readable: let libnbd read. One notify_read takes one reply and
 * stops, so with more commands out ask again while each call finishes a reply:
 * at depth the next reply is often there already, and a recv that finds it
 * saves the poll that would have said so. The first call that finishes none
 * (the socket is empty, or a reply is half read) ends it: -1 or 0. Only while
 * libnbd waits for nothing but replies: libnbd 1.14 told of a read that finds
 * the socket empty goes back to its ready state and forgets a write it had
 * paused half sent (seen as a hang with 1 MiB writes).
 */
static int nbdeng_read_replies(struct nbdeng_priv *p, struct nbdeng_conn *c)
{
	for (unsigned budget = NBD_READ_BUDGET;; budget--) {
		uint64_t before = p->replies;

		if (nbd_aio_notify_read(c->h) == -1)
			return -1;
		if (p->replies == before || !budget || nbd_aio_in_flight(c->h) <= 0 ||
		    nbd_aio_get_direction(c->h) != LIBNBD_AIO_DIRECTION_READ)
			return 0;
	}
}

/* Wait up to TIMEOUT_MS for the sockets and let libnbd run. 0 or -errno. */
static int nbdeng_poll(struct rawio_engine *e, int timeout_ms)
{
	struct nbdeng_priv *p = e->priv;
	struct pollfd pfd[NBD_MAX_CONNS];
	unsigned idx[NBD_MAX_CONNS], nfds = 0;
	int n;

	for (unsigned i = 0; i < p->nr_conns; i++) {
		struct nbdeng_conn *c = &p->conns[i];
		unsigned dir;

		if (c->dead)
			continue;
		if (nbd_aio_is_dead(c->h) || nbd_aio_is_closed(c->h)) {
			nbdeng_conn_died(p, c);
			continue;
		}
		dir = nbd_aio_get_direction(c->h);
		if (!dir)
			continue;
		pfd[nfds] = (struct pollfd){
			.fd = nbd_aio_get_fd(c->h),
			.events = (short)(((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
					  ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0))
		};
		if (pfd[nfds].fd < 0) {
			nbdeng_conn_died(p, c);
			continue;
		}
		idx[nfds++] = i;
	}
	if (!nfds)
		return p->done.nr ? 0 : -EIO; /* nothing can complete: never wait forever */
	n = poll(pfd, nfds, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	e->st.reap_calls++;
	for (unsigned k = 0; k < nfds && n; k++) {
		struct nbdeng_conn *c = &p->conns[idx[k]];
		short rev = pfd[k].revents;
		int ret = 0;

		if (!rev)
			continue;
		if (rev & (POLLIN | POLLHUP | POLLERR))
			ret = nbdeng_read_replies(p, c);
		if (ret != -1 && (rev & POLLOUT) &&
		    (nbd_aio_get_direction(c->h) & LIBNBD_AIO_DIRECTION_WRITE))
			ret = nbd_aio_notify_write(c->h);
		if (ret == -1 || nbd_aio_is_dead(c->h) || nbd_aio_is_closed(c->h))
			nbdeng_conn_died(p, c);
	}
	return 0;
}

static int nbdeng_reap(struct rawio_engine *e, struct rawio_req **out, unsigned min, unsigned max)
{
	struct nbdeng_priv *p = e->priv;
	unsigned got = 0;
	bool polled = false;

	for (;;) {
		int ret;

		got += nbdeng_collect(e, out + got, max - got);
		if (got >= max || (got >= min && (got || polled)))
			break;
		ret = nbdeng_poll(e, got >= min ? 0 : NBD_POLL_MS);
		polled = true;
		if (ret < 0) {
			/* Every piece is accounted for by libnbd; a wait with nothing
			 * out is our bug, not the server's: fail rather than hang. */
			if (got >= min)
				break;
			if (p->done.nr)
				continue;
			return ret;
		}
	}
	return (int)got;
}

static void nbdeng_describe(const struct rawio_engine *e, char *buf, size_t len)
{
	const struct nbdeng_priv *p = e->priv;
	unsigned live = 0;

	for (unsigned i = 0; i < p->nr_conns; i++)
		live += !p->conns[i].dead;
	snprintf(buf, len, "nbd qd=%u conns=%u/%u%s max_piece=%u%s%s", e->qd, live, p->nr_conns,
		 e->info->nbd.can_multi_conn ? " multi-conn" : "", p->max_piece,
		 p->last_err[0] ? " last error: " : "", p->last_err);
}

const struct rawio_engine_ops rawio_engine_nbd = {
	.version = RAWIO_ENGINE_OPS_VERSION,
	.name = "nbd",
	.caps = RAWIO_CAP_ASYNC | RAWIO_CAP_FUA,
	.priv_size = sizeof(struct nbdeng_priv),
	.init = nbdeng_init,
	.queue = nbdeng_queue,
	.reap = nbdeng_reap,
	.fini = nbdeng_fini,
	.describe = nbdeng_describe,
};
