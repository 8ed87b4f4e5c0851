// SPDX-License-Identifier: MIT
/*
 * The RAM device: "mem:SIZE[,opt=val...]" parsing (one parser for every place
 * a path is accepted), and the state every engine context on the device
 * shares: hardware queues (lock, tags, counters), the volatile write cache,
 * bad blocks and the rate limit. null_blk is the model; the mem engine
 * (src/engine/mem.c) is the block layer that drives it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dev_impl.h"
#include "mem_dev.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/errbuf.h"

#define MEM_PREFIX	   "mem:"
#define MEM_DEFAULT_DEPTH  64u
#define MEM_DEFAULT_LAT_NS 10000u /* null_blk's completion_nsec */
#define MEM_MAX_LAT_NS	   10000000000ull
#define MEM_HUGE_PAGE	   (2u << 20) /* x86-64 transparent huge page */
#define MEM_OPT_NAMES \
	"queues, depth, mode, complete, lat, backed, bw, iops, badblocks, cache, bs, prefault"

/* A decimal number at S (no sign, no space); END is left after it. */
static int mem_parse_num(const char *s, unsigned long long *v, char **end)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -EINVAL : 0;
}

static int mem_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (mem_parse_num(s, &v, &end) || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "A-B[:C-D...]": byte ranges [A, B), sizes with suffixes. */
static int mem_parse_badblocks(char *s, struct rawio_mem_opts *o, char *errbuf, size_t len)
{
	char *save = NULL;

	for (char *tok = strtok_r(s, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		char *dash = strchr(tok, '-');
		uint64_t a, b;

		if (o->nr_badblocks == RAWIO_MEM_MAX_BADBLOCKS) {
			errbuf_set(errbuf, len, "mem: badblocks: at most %u ranges",
				   RAWIO_MEM_MAX_BADBLOCKS);
			return -EINVAL;
		}
		if (dash)
			*dash = '\0';
		if (!dash || rawio_parse_size(tok, &a) || rawio_parse_size(dash + 1, &b) ||
		    b <= a) {
			if (dash)
				*dash = '-';
			errbuf_set(errbuf, len,
				   "mem: badblocks=%s: not a byte range START-END (END > START)",
				   tok);
			return -EINVAL;
		}
		o->badblocks[o->nr_badblocks++] = (struct rawio_mem_range){ a, b - a };
	}
	return 0;
}

/* One KEY=VAL into O. */
static int mem_parse_opt(char *kv, struct rawio_mem_opts *o, char *errbuf, size_t len)
{
	char *val = strchr(kv, '=');
	uint64_t v;

	if (!val) {
		errbuf_set(errbuf, len, "mem: '%s': options are KEY=VALUE (" MEM_OPT_NAMES ")", kv);
		return -EINVAL;
	}
	*val++ = '\0';
	if (!strcmp(kv, "queues")) {
		if (mem_parse_uint(val, 1, RAWIO_MEM_MAX_QUEUES, &v))
			goto range;
		o->queues = (unsigned)v;
	} else if (!strcmp(kv, "depth")) {
		if (mem_parse_uint(val, 1, 65536, &v))
			goto range;
		o->depth = (unsigned)v;
	} else if (!strcmp(kv, "mode")) {
		if (!strcmp(val, "mq"))
			o->mode = RAWIO_MEM_MQ;
		else if (!strcmp(val, "sq"))
			o->mode = RAWIO_MEM_SQ;
		else
			goto range;
	} else if (!strcmp(kv, "complete")) {
		if (!strcmp(val, "inline"))
			o->complete = RAWIO_MEM_COMPLETE_INLINE;
		else if (!strcmp(val, "thread"))
			o->complete = RAWIO_MEM_COMPLETE_THREAD;
		else if (!strcmp(val, "timer"))
			o->complete = RAWIO_MEM_COMPLETE_TIMER;
		else
			goto range;
	} else if (!strcmp(kv, "lat")) {
		if (duration_parse_ns(val, 1, MEM_MAX_LAT_NS, &o->lat_ns))
			goto range;
	} else if (!strcmp(kv, "backed") || !strcmp(kv, "prefault")) {
		if (mem_parse_uint(val, 0, 1, &v))
			goto range;
		*(kv[0] == 'b' ? &o->backed : &o->prefault) = v;
		if (kv[0] == 'p')
			o->prefault_set = true;
	} else if (!strcmp(kv, "bw")) {
		if (rawio_parse_size(val, &o->bw))
			goto range;
	} else if (!strcmp(kv, "iops")) {
		if (mem_parse_uint(val, 0, 1000000000ull, &o->iops))
			goto range;
	} else if (!strcmp(kv, "cache")) {
		if (rawio_parse_size(val, &o->cache))
			goto range;
	} else if (!strcmp(kv, "bs")) {
		if (mem_parse_uint(val, 512, 65536, &v) || (v & (v - 1)))
			goto range;
		o->block_size = (uint32_t)v;
	} else if (!strcmp(kv, "badblocks")) {
		return mem_parse_badblocks(val, o, errbuf, len);
	} else {
		errbuf_set(errbuf, len, "mem: %s=%s: unknown option (" MEM_OPT_NAMES ")", kv, val);
		return -EINVAL;
	}
	return 0;

range : {
	static const struct {
		const char *key, *want;
	} wants[] = {
		{ "queues", "must be 1..256" },
		{ "depth", "must be 1..65536" },
		{ "mode", "must be mq or sq" },
		{ "complete", "must be inline, thread or timer" },
		{ "lat", "must be a time up to 10s (500ns, 20us, 1ms)" },
		{ "backed", "must be 0 or 1" },
		{ "prefault", "must be 0 or 1" },
		{ "bw", "must be bytes per second (150m, 1g)" },
		{ "iops", "must be 0..1000000000" },
		{ "cache", "must be a size (64m)" },
		{ "bs", "must be a power of two, 512..65536" },
	};
	const char *want = "bad value";

	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		if (!strcmp(kv, wants[i].key))
			want = wants[i].want;
	errbuf_set(errbuf, len, "mem: %s=%s: %s", kv, val, want);
	return -EINVAL;
}
}

int rawio_mem_opts_parse(const char *path, struct rawio_mem_opts *o, char *errbuf, size_t len)
{
	char *copy, *save = NULL, *tok;
	int ret = 0;

	if (!path || strncmp(path, MEM_PREFIX, strlen(MEM_PREFIX)))
		return 0;
	memset(o, 0, sizeof(*o));
	o->block_size = 512;
	o->queues = 1;
	o->depth = MEM_DEFAULT_DEPTH;
	o->lat_ns = MEM_DEFAULT_LAT_NS;
	o->backed = true;
	copy = strdup(path + strlen(MEM_PREFIX));
	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, ",", &save);
	if (!tok || rawio_parse_size(tok, &o->size) || !o->size) {
		errbuf_set(errbuf, len, "%s: not a RAM device size (example: mem:64M,queues=4)",
			   path);
		ret = -EINVAL;
		goto out;
	}
	while ((tok = strtok_r(NULL, ",", &save)))
		if ((ret = mem_parse_opt(tok, o, errbuf, len)))
			goto out;
	if (o->size % o->block_size || o->size > SIZE_MAX) {
		errbuf_set(errbuf, len, "mem: size %llu: must be a multiple of bs=%u",
			   (unsigned long long)o->size, o->block_size);
		ret = -EINVAL;
	} else if (o->cache && !o->backed) {
		errbuf_set(errbuf, len,
			   "mem: cache=%llu: needs backed=1 (a null device keeps no data)",
			   (unsigned long long)o->cache);
		ret = -EINVAL;
	} else if (o->cache && o->cache < o->block_size) {
		errbuf_set(errbuf, len, "mem: cache=%llu: must hold at least one block (bs=%u)",
			   (unsigned long long)o->cache, o->block_size);
		ret = -EINVAL;
	} else if (o->mode == RAWIO_MEM_SQ && o->queues != 1) {
		errbuf_set(errbuf, len, "mem: queues=%u: mode=sq has one queue", o->queues);
		ret = -EINVAL;
	}
out:
	free(copy);
	return ret ? ret : 1;
}

/* Timer-mode heap of held tags, ordered by due time. */
static void mem_due_push(struct mem_hwq *q, struct mem_due d)
{
	unsigned i = q->due_nr++;

	while (i && q->due[(i - 1) / 2].due_ns > d.due_ns) {
		q->due[i] = q->due[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->due[i] = d;
}

static struct mem_due mem_due_pop(struct mem_hwq *q)
{
	struct mem_due top = q->due[0], last = q->due[--q->due_nr];
	unsigned i = 0;

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= q->due_nr)
			break;
		if (c + 1 < q->due_nr && q->due[c + 1].due_ns < q->due[c].due_ns)
			c++;
		if (q->due[c].due_ns >= last.due_ns)
			break;
		q->due[i] = q->due[c];
		i = c;
	}
	if (q->due_nr)
		q->due[i] = last;
	return top;
}

void mem_hwq_expire(struct mem_hwq *q, uint64_t now)
{
	while (q->due_nr && q->due[0].due_ns <= now) {
		struct mem_due d = mem_due_pop(q);

		q->used--;
		q->st.completed++;
		q->st.bytes_completed += d.bytes;
		if (!q->used)
			q->st.busy_ns += d.due_ns - q->busy_since;
	}
}

void mem_hwq_push_due(struct mem_hwq *q, uint64_t due_ns, uint64_t bytes)
{
	mem_due_push(q, (struct mem_due){ due_ns, bytes });
}

uint64_t mem_dev_limit(struct mem_dev *md, uint64_t now, uint64_t len)
{
	uint64_t cost = 0, old, start;

	if (md->o.iops)
		cost += 1000000000ull / md->o.iops;
	if (md->o.bw)
		cost += (uint64_t)((double)len * 1e9 / (double)md->o.bw);
	old = atomic_load_explicit(&md->limit_next_ns, memory_order_relaxed);
	/* Up to 5 ms of idle time banks credit (a burst), so a submitter that was
	 * descheduled for a moment does not lose the device's rate. */
	do
		start = old + 5000000 > now ? old : now - 5000000;
	while (!atomic_compare_exchange_weak_explicit(&md->limit_next_ns, &old, start + cost,
						      memory_order_relaxed, memory_order_relaxed));
	return start + cost;
}

static bool mem_bad(const struct mem_dev *md, uint64_t pos, uint64_t n)
{
	for (unsigned i = 0; i < md->o.nr_badblocks; i++) {
		const struct rawio_mem_range *b = &md->o.badblocks[i];

		if (pos < b->off + b->len && b->off < pos + n)
			return true;
	}
	return false;
}

static bool mem_dirty_test(const struct mem_dev *md, uint64_t blk)
{
	return md->dirty[blk / 64] & (1ull << (blk % 64));
}

/* Copy block BLK from the cache down to the durable copy (cache_lock held). */
static void mem_cache_clean(struct mem_dev *md, char *view, uint64_t blk)
{
	uint64_t bs = md->o.block_size;

	memcpy(md->durable + blk * bs, view + blk * bs, bs);
	md->dirty[blk / 64] &= ~(1ull << (blk % 64));
	md->dirty_nr--;
}

/* Write back every dirty block (flush). */
static void mem_cache_flush(struct mem_dev *md, char *view)
{
	uint64_t words = (md->o.size / md->o.block_size + 63) / 64;

	for (uint64_t w = 0; w < words && md->dirty_nr; w++)
		while (md->dirty[w])
			mem_cache_clean(md, view, w * 64 + (uint64_t)__builtin_ctzll(md->dirty[w]));
}

/* A write of [POS, POS + N) went into VIEW: hold it (or write it through for FUA). */
static void mem_cache_write(struct mem_dev *md, char *view, uint64_t pos, uint64_t n, bool fua)
{
	uint64_t bs = md->o.block_size, nblocks = md->o.size / bs;

	for (uint64_t blk = pos / bs; blk < (pos + n + bs - 1) / bs; blk++) {
		if (!mem_dirty_test(md, blk)) {
			md->dirty[blk / 64] |= 1ull << (blk % 64);
			md->dirty_nr++;
		}
		if (fua)
			mem_cache_clean(md, view, blk);
	}
	/* Overflow: write back from a rotating cursor (null_blk writes back what it finds). */
	while (md->dirty_nr > md->dirty_max) {
		uint64_t blk = md->wb_cursor;

		md->wb_cursor = blk + 1 == nblocks ? 0 : blk + 1;
		if (mem_dirty_test(md, blk))
			mem_cache_clean(md, view, blk);
	}
}

/*
 * Zero LEN bytes at P of the device's RAM. Whole pages are given back to the
 * kernel (they read as zeroes and take no RAM until written again, as brd frees
 * pages on discard: mkfs discards the whole device first), the edges are
 * cleared. MADV_DONTNEED on private anonymous memory cannot fail on a range we
 * mapped; if it does, memset does the same job.
 */
static void mem_zero(char *p, uint64_t len)
{
	const uintptr_t pg = 4096;
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), b = ((uintptr_t)p + len) & ~(pg - 1);

	if (b <= a || madvise((void *)a, b - a, MADV_DONTNEED)) {
		memset(p, 0, len);
		return;
	}
	memset(p, 0, a - (uintptr_t)p);
	memset((void *)b, 0, (uintptr_t)p + len - b);
}

int64_t mem_dev_rw(struct rawio_dev *dev, struct mem_dev *md, struct rawio_req *r, bool null_io)
{
	char *view = dev->mem;
	uint64_t size = md->o.size, pos = r->off + r->done, n = r->len - r->done;
	char *data = (char *)r->buf + r->done;

	switch (r->op) {
	case RAWIO_OP_READ:
		if (pos >= size)
			return 0;
		if (n > size - pos)
			n = size - pos;
		if (md->o.nr_badblocks && mem_bad(md, pos, n))
			return -EIO;
		if (!null_io)
			memcpy(data, view + pos, n);
		return (int64_t)n;
	case RAWIO_OP_WRITE:
		if (pos >= size)
			return -ENOSPC;
		if (n > size - pos)
			n = size - pos;
		if (md->o.nr_badblocks && mem_bad(md, pos, n))
			return -EIO;
		if (null_io)
			return (int64_t)n;
		if (!md->dirty) {
			memcpy(view + pos, data, n);
			return (int64_t)n;
		}
		pthread_mutex_lock(&md->cache_lock);
		memcpy(view + pos, data, n);
		mem_cache_write(md, view, pos, n, r->flags & RAWIO_REQ_FUA);
		pthread_mutex_unlock(&md->cache_lock);
		return (int64_t)n;
	case RAWIO_OP_DISCARD:
		if (r->off >= size || r->len > size - r->off)
			return -EINVAL;
		if (null_io)
			return 0;
		if (md->dirty)
			pthread_mutex_lock(&md->cache_lock);
		mem_zero(view + r->off, r->len);
		if (md->dirty) {
			mem_cache_write(md, view, r->off, r->len, false);
			pthread_mutex_unlock(&md->cache_lock);
		}
		return 0;
	case RAWIO_OP_FSYNC:
	case RAWIO_OP_FDATASYNC:
		if (md->dirty && !null_io) {
			pthread_mutex_lock(&md->cache_lock);
			mem_cache_flush(md, view);
			pthread_mutex_unlock(&md->cache_lock);
		}
		return 0;
	default:
		return -EINVAL;
	}
}

struct mem_dev *mem_dev_of(struct rawio_dev *dev)
{
	return dev ? dev->md : NULL;
}

/*
 * Write every page once from user space. MAP_POPULATE alone is not enough on
 * these VMs (shadow-paged guests): a page the kernel populated still costs
 * several microseconds at its first user access (docs/perf.md).
 */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * LEN bytes of anonymous RAM at *OUT, on transparent huge pages where the kernel
 * has them (advice, no error if not). With PREFAULT every page is allocated and
 * touched before we return. On these shadow-paged VMs the first user touch of a
 * 4 KiB page costs 15-30 us (a 1 GiB device took 4-8 s to open); on 2 MiB pages
 * populate + touch take 0.1-0.2 s when the kernel has free huge pages (seconds
 * again when it must compact memory for them). MAP_POPULATE would run before the
 * advice, so the kernel populates after it (MADV_POPULATE_WRITE), and the loop
 * does it where the kernel is older.
 */
static int mem_map(void **out, size_t len, bool prefault)
{
	const size_t huge = MEM_HUGE_PAGE;
	size_t span = len >= huge ? len + huge : len;
	char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *mem;

	if (raw == MAP_FAILED)
		return -ENOMEM;
	/*
	 * Start on a 2 MiB boundary, so every 2 MiB of the device can be one huge
	 * page (the kernel aligns large anonymous mappings itself only since 6.7,
	 * and only for sizes that are multiples of 2 MiB). The slack is given back.
	 */
	mem = raw;
	if (span != len) {
		mem = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
		if (mem != raw)
			munmap(raw, (size_t)(mem - raw));
		if (mem + len != raw + span)
			munmap(mem + len, (size_t)(raw + span - (mem + len)));
	}
	(void)madvise(mem, len, MADV_HUGEPAGE);
	if (prefault) {
		if (madvise(mem, len, MADV_POPULATE_WRITE) && errno != EINVAL) {
			munmap(mem, len);
			return -ENOMEM;
		}
		for (size_t i = 0; i < len; i += 4096)
			((volatile char *)mem)[i] = 0;
	}
	*out = mem;
	return 0;
}

int mem_dev_new(struct mem_dev **out, const struct rawio_mem_opts *o)
{
	struct mem_dev *md = calloc(1, sizeof(*md));
	int ret = -ENOMEM;

	if (!md)
		return -ENOMEM;
	md->o = *o;
	pthread_mutex_init(&md->cache_lock, NULL);
	pthread_mutex_init(&md->ctx_lock, NULL);
	md->q = aligned_alloc(MEM_HWQ_ALIGN, sizeof(*md->q) * o->queues);
	if (!md->q)
		goto free_md;
	memset(md->q, 0, sizeof(*md->q) * o->queues);
	for (unsigned i = 0; i < o->queues; i++) {
		struct mem_hwq *q = &md->q[i];

		q->md = md;
		q->idx = i;
		pthread_mutex_init(&q->lock, NULL);
		pthread_cond_init(&q->tag_cv, NULL);
		pthread_cond_init(&q->work_cv, NULL);
		q->due = calloc(o->depth, sizeof(*q->due));
		if (!q->due)
			goto free_queues;
	}
	if (o->cache) {
		uint64_t nblocks = o->size / o->block_size;
		void *durable;

		md->dirty = calloc((nblocks + 63) / 64, sizeof(uint64_t));
		if (!md->dirty)
			goto free_queues;
		md->dirty_max = o->cache / o->block_size;
		ret = mem_map(&durable, o->size, o->prefault);
		if (ret)
			goto free_queues;
		md->durable = durable;
	}
	*out = md;
	return 0;

free_queues:
	mem_dev_free(md);
	return ret;
free_md:
	free(md);
	return ret;
}

int mem_dev_start_threads(struct mem_dev *md, void *(*main)(void *))
{
	int ret = 0;

	pthread_mutex_lock(&md->ctx_lock);
	if (md->threads_started)
		goto out;
	for (unsigned i = 0; i < md->o.queues; i++) {
		ret = -pthread_create(&md->q[i].thread, NULL, main, &md->q[i]);
		if (ret)
			goto out;
		md->q[i].thread_ok = true;
	}
	md->threads_started = true;
out:
	pthread_mutex_unlock(&md->ctx_lock);
	return ret;
}

int mem_dev_ctx_add(struct mem_dev *md, struct mem_dev_ctx *c)
{
	int idx = -EMFILE;

	pthread_mutex_lock(&md->ctx_lock);
	for (unsigned i = 0; i < MEM_DEV_MAX_CTX; i++) {
		if (!md->ctx[i]) {
			md->ctx[i] = c;
			idx = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&md->ctx_lock);
	return idx;
}

void mem_dev_ctx_del(struct mem_dev *md, int idx)
{
	pthread_mutex_lock(&md->ctx_lock);
	md->ctx[idx] = NULL;
	pthread_mutex_unlock(&md->ctx_lock);
}

void mem_dev_free(struct mem_dev *md)
{
	if (!md)
		return;
	for (unsigned i = 0; md->q && i < md->o.queues; i++) {
		struct mem_hwq *q = &md->q[i];

		if (q->thread_ok) {
			pthread_mutex_lock(&q->lock);
			q->stop = true;
			pthread_cond_signal(&q->work_cv);
			pthread_mutex_unlock(&q->lock);
			pthread_join(q->thread, NULL);
		}
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->tag_cv);
		pthread_cond_destroy(&q->work_cv);
		free(q->due);
	}
	free(md->q);
	free(md->dirty);
	if (md->durable)
		munmap(md->durable, md->o.size);
	pthread_mutex_destroy(&md->cache_lock);
	pthread_mutex_destroy(&md->ctx_lock);
	free(md);
}

int rawio_dev_open_mem_opts(struct rawio_dev **out, const struct rawio_mem_opts *o)
{
	struct rawio_dev *dev;
	int ret;

	if (!out || !o || !o->queues || o->queues > RAWIO_MEM_MAX_QUEUES || !o->depth ||
	    o->nr_badblocks > RAWIO_MEM_MAX_BADBLOCKS || (o->cache && !o->backed))
		return -EINVAL;
	*out = NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	ret = dev_mem_info(&dev->info, o->size, o->block_size);
	if (ret)
		goto free_dev;
	/* Pre-faulted: first touch of RAM costs several times a copy on these VMs. A null
	 * device (backed=0) never touches its memory, so it costs nothing. */
	dev->mem_len = (size_t)o->size;
	ret = mem_map(&dev->mem, dev->mem_len, o->backed && o->prefault);
	if (ret)
		goto free_dev;
	ret = mem_dev_new(&dev->md, o);
	if (ret)
		goto unmap;
	dev->fd = -1;
	*out = dev;
	return 0;

unmap:
	munmap(dev->mem, dev->mem_len);
free_dev:
	free(dev);
	return ret;
}

int rawio_dev_open_mem(struct rawio_dev **out, uint64_t size, uint32_t block_size)
{
	struct rawio_mem_opts o;
	char path[64];

	snprintf(path, sizeof(path), MEM_PREFIX "%llu", (unsigned long long)size);
	if (rawio_mem_opts_parse(path, &o, NULL, 0) != 1)
		return -EINVAL;
	o.block_size = block_size;
	return rawio_dev_open_mem_opts(out, &o);
}

const struct rawio_mem_opts *rawio_dev_mem_opts(const struct rawio_dev *dev)
{
	return dev && dev->md ? &dev->md->o : NULL;
}

unsigned rawio_dev_mem_nr_queues(const struct rawio_dev *dev)
{
	return dev && dev->md ? dev->md->o.queues : 0;
}

int rawio_dev_mem_queue_stat(struct rawio_dev *dev, unsigned qi, struct rawio_mem_queue_stat *st)
{
	struct mem_hwq *q;

	if (!dev || !dev->md || qi >= dev->md->o.queues || !st)
		return -EINVAL;
	q = &dev->md->q[qi];
	pthread_mutex_lock(&q->lock);
	mem_hwq_expire(q, rawio_now_ns());
	*st = q->st;
	st->inflight = q->used;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void rawio_dev_mem_reset_stats(struct rawio_dev *dev)
{
	if (!dev || !dev->md)
		return;
	for (unsigned i = 0; i < dev->md->o.queues; i++) {
		struct mem_hwq *q = &dev->md->q[i];

		pthread_mutex_lock(&q->lock);
		memset(&q->st, 0, sizeof(q->st));
		q->st.max_inflight = q->used;
		q->busy_since = rawio_now_ns();
		pthread_mutex_unlock(&q->lock);
	}
}

int64_t rawio_dev_mem_cut(struct rawio_dev *dev)
{
	struct mem_dev *md = dev ? dev->md : NULL;
	uint64_t words, bs, lost = 0;

	if (!md)
		return -EINVAL;
	if (!md->dirty)
		return 0;
	bs = md->o.block_size;
	words = (md->o.size / bs + 63) / 64;
	pthread_mutex_lock(&md->cache_lock);
	for (uint64_t w = 0; w < words; w++) {
		while (md->dirty[w]) {
			uint64_t blk = w * 64 + (uint64_t)__builtin_ctzll(md->dirty[w]);

			memcpy((char *)dev->mem + blk * bs, md->durable + blk * bs, bs);
			md->dirty[w] &= md->dirty[w] - 1;
			lost++;
		}
	}
	md->dirty_nr = 0;
	pthread_mutex_unlock(&md->cache_lock);
	return (int64_t)lost;
}
