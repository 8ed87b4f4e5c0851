/* SPDX-License-Identifier: MIT */
/* Helpers for the store tests: a scratch store file, raw access to its bytes. */
#ifndef RAWIO_STORE_TEST_H
#define RAWIO_STORE_TEST_H

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <rawio/dev.h>

#include <rawio/store.h>

#include "harness.h"
#include "store/format.h"
#include "store/store_impl.h"

struct t_store {
	char path[128];
	struct rawio_store *s;
	struct rawio_store_opts o;
};

/* Format a fresh store file of SIZE bytes with SLOT-byte slots, and open it on ENGINE. */
static inline int t_store_new(struct t_store *t, const char *tag, uint64_t size, uint64_t slot,
			      const char *engine)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = slot,
					     .create_size = size };
	char err[256] = "";
	int ret;

	t_scratch(t->path, sizeof(t->path), tag);
	unlink(t->path);
	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	ret = rawio_store_format(t->path, &f);
	if (ret) {
		fprintf(stderr, "format %s: %s: %s\n", t->path, rawio_strerror(ret), err);
		return ret;
	}
	memset(&t->o, 0, sizeof(t->o));
	t->o.size = sizeof(t->o);
	t->o.engine = engine;
	ret = rawio_store_open(&t->s, t->path, &t->o);
	if (ret)
		fprintf(stderr, "open %s: %s\n", t->path, rawio_strerror(ret));
	return ret;
}

static inline int t_store_reopen(struct t_store *t, bool close_first)
{
	char err[256] = "";
	int ret;

	if (close_first && t->s)
		rawio_store_close(t->s);
	t->s = NULL;
	t->o.errbuf = err;
	t->o.errbuf_len = sizeof(err);
	ret = rawio_store_open(&t->s, t->path, &t->o);
	t->o.errbuf = NULL;
	if (ret)
		fprintf(stderr, "reopen %s: %s: %s\n", t->path, rawio_strerror(ret), err);
	return ret;
}

/*
 * S stays open but stands for a writer that died: drop its ownership of the
 * device (a dead process's flock goes with it), so that a recovery may open it.
 */
static inline void t_store_crashed(struct rawio_store *s)
{
	flock(rawio_dev_fd(s->dev), LOCK_UN);
}

static inline void t_store_done(struct t_store *t)
{
	rawio_store_close(t->s);
	t->s = NULL;
	unlink(t->path);
}

/* Read or write raw bytes of the store's file, behind the store's back. */
static inline int t_raw(const char *path, bool write, void *buf, size_t len, uint64_t off)
{
	int fd = open(path, write ? O_WRONLY : O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (write)
		fdatasync(fd);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Geometry of the store file at PATH, from its superblock. */
static inline int t_geometry(const char *path, struct store_geometry *g)
{
	char buf[STORE_BLOCK];
	int ret = t_raw(path, false, buf, sizeof(buf), 0);

	return ret ? ret : store_sb_decode(buf, sizeof(buf), g);
}

/*
 * Close T's store and open it again read-only through the fault engine over LOWER, with
 * reads of the first 512 bytes of each of the N slot headers in SLOTS failing (EIO).
 * BAD holds N ranges and must live as long as the store.
 */
static inline int t_reopen_faulty(struct t_store *t, const char *lower, const uint64_t *slots,
				  int n, struct rawio_fault_range *bad)
{
	struct store_geometry g;
	int ret;

	rawio_store_close(t->s);
	t->s = NULL;
	ret = t_geometry(t->path, &g);
	if (ret)
		return ret;
	for (int i = 0; i < n; i++)
		bad[i] = (struct rawio_fault_range){ .off = store_slot_off(&g, slots[i]),
						     .len = 512,
						     .ops = 1u << RAWIO_OP_READ };
	t->o.engine = "fault";
	t->o.engine_opts.lower = lower;
	t->o.engine_opts.faults = bad;
	t->o.engine_opts.nr_faults = (size_t)n;
	t->o.read_only = true;
	return t_store_reopen(t, false);
}

static inline int t_put_str(struct rawio_store *s, const char *key, const char *val, unsigned fl)
{
	return rawio_store_put(s, key, strlen(key), val, strlen(val), fl);
}

/* 0 if KEY reads back as VAL. */
static inline int t_get_is(struct rawio_store *s, const char *key, const char *val)
{
	char buf[4096];
	ssize_t n = rawio_store_get(s, key, strlen(key), buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return (size_t)n == strlen(val) && !memcmp(buf, val, (size_t)n) ? 0 : -EILSEQ;
}

#endif
