// SPDX-License-Identifier: MIT
/*
 * fsqual: ScyllaDB's fsqual over rawio's engines. Each row gets a fresh
 * unlinked file and a thread of its own; the only thing measured for the
 * verdict is what happens to the submitting thread inside
 * rawio_engine_commit(), the call that makes io_submit / io_uring_enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rawio/rawio.h>
#include <rawio/fsqual.h>

#include "fsqual_impl.h"
#include "util/errbuf.h"
#include "util/rng.h"

#define FSQUAL_IOS	   10000u
#define FSQUAL_NOWAIT_MAX  1000u
#define FSQUAL_NOWAIT_GAP  1000u      /* microseconds */
#define FSQUAL_MAX_DEPTH   30u	      /* the deepest row */
#define FSQUAL_SAMPLE_NS   2000000ull /* io-wq worker sampling period during a row */
#define FSQUAL_PREFILL	   (1u << 20) /* bytes per write when pre-writing a file */
#define FSQUAL_NAME_PREFIX ".rawio-fsqual."

/* Rows size their I/O by the filesystem block or by the disk DMA alignment. */
enum fsqual_unit {
	FSQUAL_BS,
	FSQUAL_DMA,
};

struct fsqual_spec {
	const char *id;
	enum rawio_fsqual_kind kind;
	enum fsqual_unit unit;
	unsigned depth;
	bool dsync;
	bool mem_aligned; /* buffers at the memory DMA alignment, not the block */
};

/* clang-format off */
static const struct fsqual_spec fsqual_matrix[RAWIO_FSQUAL_NR_ROWS] = {
	[RAWIO_FSQUAL_ROW_APPEND_BS_QD1] =
		{ "append_bs_qd1", RAWIO_FSQUAL_APPEND, FSQUAL_BS, 1, false, false },
	[RAWIO_FSQUAL_ROW_APPEND_BS_QD3] =
		{ "append_bs_qd3", RAWIO_FSQUAL_APPEND, FSQUAL_BS, 3, false, false },
	[RAWIO_FSQUAL_ROW_FILL_BS_QD3] =
		{ "fill_bs_qd3", RAWIO_FSQUAL_FILL, FSQUAL_BS, 3, false, false },
	[RAWIO_FSQUAL_ROW_FILL_BS_QD7] =
		{ "fill_bs_qd7", RAWIO_FSQUAL_FILL, FSQUAL_BS, 7, false, false },
	[RAWIO_FSQUAL_ROW_FILL_DMA_QD1] =
		{ "fill_dma_qd1", RAWIO_FSQUAL_FILL, FSQUAL_DMA, 1, false, false },
	[RAWIO_FSQUAL_ROW_OVERWRITE_DMA_QD1] =
		{ "overwrite_dma_qd1", RAWIO_FSQUAL_OVERWRITE, FSQUAL_DMA, 1, false, false },
	[RAWIO_FSQUAL_ROW_OVERWRITE_DSYNC_DMA_QD1] =
		{ "overwrite_dsync_dma_qd1", RAWIO_FSQUAL_OVERWRITE, FSQUAL_DMA, 1, true, false },
	[RAWIO_FSQUAL_ROW_OVERWRITE_DSYNC_DMA_QD3] =
		{ "overwrite_dsync_dma_qd3", RAWIO_FSQUAL_OVERWRITE, FSQUAL_DMA, 3, true, false },
	[RAWIO_FSQUAL_ROW_READ_DMA_QD30] =
		{ "read_dma_qd30", RAWIO_FSQUAL_READ, FSQUAL_DMA, 30, false, false },
	[RAWIO_FSQUAL_ROW_NOWAIT] =
		{ "nowait", RAWIO_FSQUAL_NOWAIT, FSQUAL_BS, 1, false, false },
	[RAWIO_FSQUAL_ROW_PREALLOC_BS_QD3] =
		{ "prealloc_bs_qd3", RAWIO_FSQUAL_PREALLOC, FSQUAL_BS, 3, false, false },
	[RAWIO_FSQUAL_ROW_FILL_BS_QD3_MEMALIGN] =
		{ "fill_bs_qd3_memalign", RAWIO_FSQUAL_FILL, FSQUAL_BS, 3, false, true },
};
/* clang-format on */

/* What every row of one run shares. */
struct fsqual_run {
	const char *dir;
	const char *engine;
	bool tmpfile; /* O_TMPFILE works in DIR */
	bool uring;   /* sample io-wq workers */
	unsigned ios;
	unsigned nowait_ios;
	unsigned gap_us;
	uint32_t bs;	    /* filesystem block size, a multiple of dma */
	uint32_t dma;	    /* O_DIRECT offset alignment */
	uint32_t mem;	    /* O_DIRECT memory alignment */
	uint32_t buf_align; /* the rows' buffers: bs, at least the page */
	bool meaningless;
};

/* One row, run in its own thread. */
struct fsqual_job {
	const struct fsqual_run *run;
	const struct fsqual_spec *spec;
	struct rawio_fsqual_row *row;
	char errbuf[256]; /* why the row's file could not be opened (not reported) */
};

/* A row's moving parts. */
struct fsqual_io {
	struct rawio_engine *e;
	struct rawio_req *reqs;	 /* depth of them */
	struct rawio_req **free; /* stack of idle requests */
	unsigned nr_free;
	struct rawio_req **out; /* depth completions */
	char *region;		/* the allocation holding the buffers */
	char *bufs;		/* depth buffers of io_size */
	uint64_t *lat_ns;	/* one per I/O */
	uint64_t nr_lat;
	pid_t tid;
	uint64_t next_sample_ns;
	uint64_t submit_ns_total;
	uint64_t rng;
};

const char *rawio_fsqual_verdict_name(enum rawio_fsqual_verdict v)
{
	switch (v) {
	case RAWIO_FSQUAL_GOOD:
		return "GOOD";
	case RAWIO_FSQUAL_BAD:
		return "BAD";
	case RAWIO_FSQUAL_MEANINGLESS:
		return "n/a (tmpfs)";
	case RAWIO_FSQUAL_FAILED:
		return "FAILED";
	case RAWIO_FSQUAL_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

const char *rawio_fsqual_kind_name(enum rawio_fsqual_kind k)
{
	switch (k) {
	case RAWIO_FSQUAL_APPEND:
		return "append";
	case RAWIO_FSQUAL_FILL:
		return "fill";
	case RAWIO_FSQUAL_OVERWRITE:
		return "overwrite";
	case RAWIO_FSQUAL_READ:
		return "read";
	case RAWIO_FSQUAL_NOWAIT:
		return "nowait";
	case RAWIO_FSQUAL_PREALLOC:
		return "prealloc";
	}
	return "unknown";
}

void rawio_fsqual_row_describe(const struct rawio_fsqual_row *row, char *buf, size_t len)
{
	const char *size = row->kind == RAWIO_FSQUAL_APPEND ? "size-changing" : "size-unchanging";
	const char *what = "append";
	char align[48] = "";

	if (row->kind == RAWIO_FSQUAL_OVERWRITE || row->kind == RAWIO_FSQUAL_NOWAIT)
		what = "overwrite";
	else if (row->kind == RAWIO_FSQUAL_READ)
		what = "written data";
	else if (row->kind == RAWIO_FSQUAL_PREALLOC)
		what = "preallocated";
	if (row->mem_aligned)
		snprintf(align, sizeof(align), ", buffer alignment %u", row->buf_align);
	snprintf(buf, len, "%s, %s, blocksize %u%s%s, iodepth %u", size, what, row->io_size, align,
		 row->dsync ? ", O_DSYNC" : "", row->depth);
}

bool rawio_fsqual_row_punted(const struct rawio_fsqual_row *row)
{
	return row->iowq_workers > 0;
}

/* A row that ran and whose submitter slept, or whose requests went to io-wq. */
static bool fsqual_stalls(const struct rawio_fsqual_row *row)
{
	return row->verdict == RAWIO_FSQUAL_BAD ||
	       (row->verdict == RAWIO_FSQUAL_GOOD && rawio_fsqual_row_punted(row));
}

static bool fsqual_answered(const struct rawio_fsqual_row *row)
{
	return row->verdict == RAWIO_FSQUAL_GOOD || row->verdict == RAWIO_FSQUAL_BAD;
}

void rawio_fsqual_traits(const struct rawio_fsqual_report *rep, struct rawio_fs_traits *t)
{
	const struct rawio_fsqual_row *a1, *a3, *nw;

	*t = rep->table;
	if (rep->meaningless || rep->nr_rows < RAWIO_FSQUAL_NR_ROWS)
		return;
	a1 = &rep->rows[RAWIO_FSQUAL_ROW_APPEND_BS_QD1];
	a3 = &rep->rows[RAWIO_FSQUAL_ROW_APPEND_BS_QD3];
	nw = &rep->rows[RAWIO_FSQUAL_ROW_NOWAIT];
	if (fsqual_answered(a1) && fsqual_answered(a3)) {
		t->append_challenged = fsqual_stalls(a1) || fsqual_stalls(a3);
		if (fsqual_stalls(a1))
			t->append_concurrency = 0;
		else if (fsqual_stalls(a3))
			t->append_concurrency = 1;
	}
	if (fsqual_answered(nw))
		t->nowait_writes = nw->verdict == RAWIO_FSQUAL_GOOD;
}

/* DIR's filesystem refuses O_DIRECT: say so, naming it (FILE is a file in DIR). */
static int fsqual_no_direct(const char *dir, const char *file, char *errbuf, size_t errlen)
{
	struct rawio_dev_info *info = malloc(sizeof(*info));

	if (info && rawio_dev_describe(file, info) == 0 && info->fs_type[0])
		errbuf_set(errbuf, errlen, "%s: the %s filesystem refuses O_DIRECT", dir,
			   info->fs_type);
	else
		errbuf_set(errbuf, errlen, "%s: the filesystem refuses O_DIRECT", dir);
	free(info);
	return -EINVAL;
}

static int fsqual_create_err(const char *dir, int err, char *errbuf, size_t errlen)
{
	if (err == -EACCES || err == -EPERM || err == -EROFS)
		errbuf_set(errbuf, errlen, "%s: not writable (%s)", dir, rawio_strerror(err));
	else
		errbuf_set(errbuf, errlen, "%s: cannot create a file: %s", dir,
			   rawio_strerror(err));
	return err;
}

/*
 * Open the row's file through O_TMPFILE: unlinked from the start, reopened by
 * rawio_dev_open through /proc/self/fd. Returns 0, 1 when O_TMPFILE (or /proc)
 * is not there, or -errno with errbuf set.
 */
static int fsqual_open_tmpfile(const char *dir, const struct rawio_dev_opts *opts,
			       struct rawio_dev **out)
{
	char path[64];
	int fd, ret;

	fd = open(dir, O_TMPFILE | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EINVAL) {
		/* O_DIRECT refused, or O_TMPFILE with it: ask without. */
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return 1;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ret = fsqual_no_direct(dir, path, opts->errbuf, opts->errbuf_len);
		close(fd);
		return ret;
	}
	if (fd < 0) {
		if (errno == EOPNOTSUPP || errno == EISDIR)
			return 1;
		return fsqual_create_err(dir, -errno, opts->errbuf, opts->errbuf_len);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = rawio_dev_open(out, path, opts);
	if (ret == -EINVAL)
		ret = fsqual_no_direct(dir, path, opts->errbuf, opts->errbuf_len);
	else if (ret == -ENOENT)
		ret = 1; /* no /proc */
	close(fd);
	return ret;
}

/* The fallback: a named file, unlinked as soon as it is open. */
static int fsqual_open_named(const char *dir, const struct rawio_dev_opts *opts,
			     struct rawio_dev **out)
{
	char path[4200];
	int fd, ret;

	if (snprintf(path, sizeof(path), "%s/" FSQUAL_NAME_PREFIX "XXXXXX", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return fsqual_create_err(dir, -errno, opts->errbuf, opts->errbuf_len);
	ret = rawio_dev_open(out, path, opts);
	if (ret == -EINVAL)
		ret = fsqual_no_direct(dir, path, opts->errbuf, opts->errbuf_len);
	unlink(path);
	close(fd);
	return ret;
}

/* A fresh unlinked O_DIRECT file in DIR (O_DSYNC too if asked). */
static int fsqual_open_file(const struct fsqual_run *run, bool dsync, bool *tmpfile,
			    struct rawio_dev **out, char *errbuf, size_t errlen)
{
	struct rawio_dev_opts opts = { .size = sizeof(opts) };
	int ret = 1;

	*out = NULL;
	opts.flags = dsync ? RAWIO_DEV_DSYNC : 0;
	opts.errbuf = errbuf;
	opts.errbuf_len = errlen;
	if (*tmpfile) {
		ret = fsqual_open_tmpfile(run->dir, &opts, out);
		if (ret <= 0)
			return ret;
		*tmpfile = false;
	}
	return fsqual_open_named(run->dir, &opts, out);
}

/* Fill BUF with a pattern that is not zeroes (some devices shortcut zeroes). */
static void fsqual_pattern(void *buf, size_t len, uint64_t seed)
{
	uint64_t *p = buf;

	for (size_t i = 0; i < len / sizeof(*p); i++)
		p[i] = (seed + i) * 0x9e3779b97f4a7c15ull;
}

/* Write LEN bytes of data from offset 0 and make it durable: the rows that overwrite or read. */
static int fsqual_prewrite(struct rawio_dev *dev, uint64_t len)
{
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	int fd = rawio_dev_fd(dev);
	uint64_t off = 0;
	void *buf;
	int ret = 0;

	buf = rawio_buf_alloc(FSQUAL_PREFILL, info->mem_align > 4096 ? info->mem_align : 4096);
	if (!buf)
		return -ENOMEM;
	fsqual_pattern(buf, FSQUAL_PREFILL, 1);
	while (off < len) {
		size_t n = len - off < FSQUAL_PREFILL ? (size_t)(len - off) : FSQUAL_PREFILL;
		ssize_t w = pwrite(fd, buf, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			goto free_buf;
		}
		off += (uint64_t)w;
	}
	if (fdatasync(fd))
		ret = -errno;
free_buf:
	rawio_buf_free(buf);
	return ret;
}

/* The file each kind starts from. */
static int fsqual_prepare(struct rawio_dev *dev, const struct fsqual_spec *spec, uint64_t len)
{
	switch (spec->kind) {
	case RAWIO_FSQUAL_APPEND:
		return 0;
	case RAWIO_FSQUAL_FILL:
		if (ftruncate(rawio_dev_fd(dev), (off_t)len))
			return -errno;
		return 0;
	case RAWIO_FSQUAL_PREALLOC:
		if (fallocate(rawio_dev_fd(dev), 0, 0, (off_t)len))
			return errno == ENOSYS ? -EOPNOTSUPP : -errno;
		return 0;
	case RAWIO_FSQUAL_OVERWRITE:
	case RAWIO_FSQUAL_READ:
	case RAWIO_FSQUAL_NOWAIT:
		return fsqual_prewrite(dev, len);
	}
	return -EINVAL;
}

static void fsqual_sample_iowq(struct fsqual_io *io, struct rawio_fsqual_row *row, bool force)
{
	struct fsqual_iowq w;
	uint64_t now = rawio_now_ns();

	if (!force && now < io->next_sample_ns)
		return;
	io->next_sample_ns = now + FSQUAL_SAMPLE_NS;
	if (fsqual_iowq_scan(io->tid, false, &w) == 0 && w.workers > row->iowq_workers)
		row->iowq_workers = w.workers;
}

/* The call the verdict is about: submit what was queued, counting the sleeps. */
static int fsqual_commit(struct fsqual_io *io, struct rawio_fsqual_row *row)
{
	uint64_t before, t0, t;
	int ret;

	before = fsqual_nvcsw();
	t0 = rawio_now_ns();
	ret = rawio_engine_commit(io->e);
	t = rawio_now_ns() - t0;
	row->ctxsw += fsqual_nvcsw() - before;
	row->submits++;
	io->submit_ns_total += t;
	if (t > row->submit_ns_max)
		row->submit_ns_max = t;
	return ret;
}

/* A request is back: account for it. Returns 0 or the I/O's error. */
static int fsqual_complete(struct fsqual_io *io, struct rawio_fsqual_row *row, struct rawio_req *r)
{
	io->free[io->nr_free++] = r;
	row->ios++;
	if (r->complete_ns >= r->submit_ns)
		io->lat_ns[io->nr_lat++] = r->complete_ns - r->submit_ns;
	if (r->result < 0)
		return (int)r->result;
	if ((uint64_t)r->result != r->len)
		return -EIO;
	return 0;
}

/*
 * The matrix rows: keep DEPTH requests in flight over NR sequential I/Os.
 * Each round queues what is free (in a shuffled order), commits once
 * (measured), then waits for at least one completion.
 */
static int fsqual_loop(struct fsqual_io *io, struct rawio_fsqual_row *row,
		       const struct fsqual_run *run, uint64_t nr)
{
	uint8_t op = row->kind == RAWIO_FSQUAL_READ ? RAWIO_OP_READ : RAWIO_OP_WRITE;
	struct rawio_req *batch[FSQUAL_MAX_DEPTH];
	uint64_t issued = 0;
	unsigned inflight = 0;
	int err = 0;

	while (row->ios < nr) {
		unsigned n = 0;
		int got;

		while (!err && issued < nr && inflight < row->depth) {
			struct rawio_req *r = io->free[--io->nr_free];

			r->op = op;
			r->flags = 0;
			r->len = row->io_size;
			r->off = issued++ * row->io_size;
			batch[n++] = r;
			inflight++;
		}
		for (unsigned i = n; i > 1; i--) {
			unsigned j = (unsigned)(rng_xorshift(&io->rng) % i);
			struct rawio_req *t = batch[i - 1];

			batch[i - 1] = batch[j];
			batch[j] = t;
		}
		for (unsigned i = 0; i < n; i++) {
			int q = rawio_engine_queue(io->e, batch[i]);

			if (q == RAWIO_Q_DONE) {
				inflight--;
				if (!err)
					err = fsqual_complete(io, row, batch[i]);
			} else if (q != RAWIO_Q_QUEUED) {
				/* BUSY cannot happen below the depth the engine was opened with. */
				inflight--;
				io->free[io->nr_free++] = batch[i];
				if (!err)
					err = q < 0 ? q : -EBUSY;
			}
		}
		if (n) {
			int ret = fsqual_commit(io, row);

			if (ret && !err)
				err = ret;
		}
		if (!inflight) {
			if (err)
				break;
			continue;
		}
		got = rawio_engine_reap(io->e, io->out, 1, row->depth);
		if (got < 0)
			return got; /* the engine is dead: nothing more comes back */
		for (int i = 0; i < got; i++) {
			int ret = fsqual_complete(io, row, io->out[i]);

			inflight--;
			if (ret && !err)
				err = ret;
		}
		if (run->uring)
			fsqual_sample_iowq(io, row, false);
		if (err && !inflight)
			break;
	}
	return err;
}

/*
 * The NOWAIT row: one RWF_NOWAIT overwrite at a time, GAP_US apart. The core
 * resubmits an EAGAIN without the flag (docs/engines.md) and counts it among
 * its resubmissions; an overwrite of a whole block is never short, so every
 * resubmission here is an EAGAIN.
 */
static int fsqual_nowait_loop(struct fsqual_io *io, struct rawio_fsqual_row *row,
			      const struct fsqual_run *run, uint64_t nr)
{
	struct rawio_engine_stat before, after;
	struct rawio_req *r = &io->reqs[0];
	struct timespec next;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t i = 0; i < nr; i++) {
		int q;

		if (i) {
			next.tv_nsec += (long)run->gap_us * 1000;
			next.tv_sec += next.tv_nsec / 1000000000;
			next.tv_nsec %= 1000000000;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
			       EINTR)
				;
		}
		r->op = RAWIO_OP_WRITE;
		r->flags = RAWIO_REQ_NOWAIT;
		r->len = row->io_size;
		r->off = i * row->io_size;
		rawio_engine_stat(io->e, &before);
		io->nr_free--;
		q = rawio_engine_queue(io->e, r);
		if (q == RAWIO_Q_QUEUED) {
			ret = fsqual_commit(io, row);
			if (ret)
				return ret;
			ret = rawio_engine_reap(io->e, io->out, 1, 1);
			if (ret < 0)
				return ret;
			if (ret != 1)
				return -EIO;
		} else if (q != RAWIO_Q_DONE) {
			return q < 0 ? q : -EBUSY;
		}
		rawio_engine_stat(io->e, &after);
		row->eagain += after.resubmits - before.resubmits;
		ret = fsqual_complete(io, row, r);
		if (ret)
			return ret;
		if (run->uring)
			fsqual_sample_iowq(io, row, false);
	}
	return 0;
}

static int fsqual_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void fsqual_latency(struct fsqual_io *io, struct rawio_fsqual_row *row)
{
	uint64_t sum = 0, n = io->nr_lat;

	if (!n)
		return;
	qsort(io->lat_ns, n, sizeof(*io->lat_ns), fsqual_u64_cmp);
	for (uint64_t i = 0; i < n; i++)
		sum += io->lat_ns[i];
	row->lat_ns_avg = sum / n;
	row->lat_ns_p50 = io->lat_ns[(n - 1) / 2];
	row->lat_ns_p99 = io->lat_ns[(n - 1) * 99 / 100];
	row->lat_ns_max = io->lat_ns[n - 1];
}

/*
 * DEPTH buffers of IO_SIZE, each aligned to exactly ALIGN: a larger power of
 * two would hide what the row is about, so the region starts ALIGN past a
 * boundary of twice that.
 */
static int fsqual_io_setup(struct fsqual_io *io, unsigned depth, uint32_t io_size, uint32_t align,
			   uint64_t nr)
{
	size_t stride = ((size_t)io_size + align - 1) / align * align;
	size_t len;

	if (stride % (2 * (size_t)align) == 0)
		stride += align; /* keep every buffer off the larger boundary */
	len = stride * depth + align;
	io->reqs = calloc(depth, sizeof(*io->reqs));
	io->free = calloc(depth, sizeof(*io->free));
	io->out = calloc(depth, sizeof(*io->out));
	io->lat_ns = calloc(nr ? nr : 1, sizeof(*io->lat_ns));
	io->region = rawio_buf_alloc(len, 2 * (size_t)align);
	if (!io->reqs || !io->free || !io->out || !io->lat_ns || !io->region)
		return -ENOMEM;
	io->bufs = io->region + align;
	fsqual_pattern(io->region, len, 2);
	for (unsigned i = 0; i < depth; i++) {
		io->reqs[i].buf = io->bufs + (size_t)i * stride;
		io->free[io->nr_free++] = &io->reqs[i];
	}
	io->tid = gettid();
	io->rng = 0x2545f4914f6cdd1dull ^ (uint64_t)io->tid;
	return 0;
}

static void fsqual_io_free(struct fsqual_io *io)
{
	rawio_buf_free(io->region);
	free(io->lat_ns);
	free(io->out);
	free(io->free);
	free(io->reqs);
}

static int fsqual_row(struct fsqual_job *job)
{
	const struct fsqual_run *run = job->run;
	const struct fsqual_spec *spec = job->spec;
	struct rawio_fsqual_row *row = job->row;
	struct rawio_engine_opts eopts = { .size = sizeof(eopts) };
	struct rawio_dev *dev = NULL;
	struct fsqual_io io = { 0 };
	struct fsqual_iowq w;
	struct stat st;
	bool tmpfile = run->tmpfile;
	uint64_t nr = row->kind == RAWIO_FSQUAL_NOWAIT ? run->nowait_ios : run->ios;
	int ret;

	ret = fsqual_open_file(run, spec->dsync, &tmpfile, &dev, job->errbuf, sizeof(job->errbuf));
	if (ret)
		return ret;
	ret = fsqual_prepare(dev, spec, nr * row->io_size);
	if (ret)
		goto close_dev;
	if (row->kind == RAWIO_FSQUAL_NOWAIT) {
		/* Let NOWAIT through to the kernel: the dev's table would drop it. */
		struct rawio_fs_traits t = rawio_dev_info(dev)->fs;

		t.nowait_writes = true;
		rawio_dev_set_fs_traits(dev, &t);
	}
	ret = fsqual_io_setup(&io, row->depth, row->io_size, row->buf_align, nr);
	if (ret)
		goto free_io;
	eopts.queue_depth = row->depth;
	ret = rawio_engine_open(&io.e, run->engine, dev, &eopts);
	if (ret)
		goto free_io;

	if (row->kind == RAWIO_FSQUAL_NOWAIT)
		ret = fsqual_nowait_loop(&io, row, run, nr);
	else
		ret = fsqual_loop(&io, row, run, nr);

	/* Workers idle for seconds before they exit: all of this row's are still here. */
	if (run->uring && fsqual_iowq_scan(io.tid, true, &w) == 0) {
		if (w.workers > row->iowq_workers)
			row->iowq_workers = w.workers;
		row->iowq_switches = w.switches;
		row->iowq_cpu_ns = w.cpu_ns;
	}
	rawio_engine_close(io.e);
	io.e = NULL;
	if (!fstat(rawio_dev_fd(dev), &st))
		fsqual_page_cache(rawio_dev_fd(dev), (uint64_t)st.st_size, &row->file_pages,
				  &row->cached_pages);
	row->ctxsw_per_io = row->ios ? (double)row->ctxsw / (double)row->ios : 0;
	row->submit_ns_avg = row->submits ? io.submit_ns_total / row->submits : 0;
	fsqual_latency(&io, row);
free_io:
	rawio_engine_close(io.e);
	fsqual_io_free(&io);
close_dev:
	rawio_dev_close(dev);
	return ret;
}

static void *fsqual_row_thread(void *arg)
{
	struct fsqual_job *job = arg;

	job->row->err = fsqual_row(job);
	return NULL;
}

static enum rawio_fsqual_verdict fsqual_verdict(const struct fsqual_run *run,
						const struct rawio_fsqual_row *row)
{
	if (row->err == -EOPNOTSUPP && row->kind == RAWIO_FSQUAL_PREALLOC && !row->ios)
		return RAWIO_FSQUAL_SKIPPED;
	/* The kernel refuses RWF_NOWAIT on this file outright: it does not work here. */
	if (row->err == -EOPNOTSUPP && row->kind == RAWIO_FSQUAL_NOWAIT)
		return run->meaningless ? RAWIO_FSQUAL_MEANINGLESS : RAWIO_FSQUAL_BAD;
	if (row->err)
		return RAWIO_FSQUAL_FAILED;
	if (run->meaningless)
		return RAWIO_FSQUAL_MEANINGLESS;
	if (row->kind == RAWIO_FSQUAL_NOWAIT)
		return row->eagain <= 1 ? RAWIO_FSQUAL_GOOD : RAWIO_FSQUAL_BAD;
	return row->ctxsw_per_io < 0.1 ? RAWIO_FSQUAL_GOOD : RAWIO_FSQUAL_BAD;
}

/*
 * Check DIR, open one file and the engine on it: fills the header and decides
 * O_TMPFILE, so that bad input fails here with one clear line.
 */
static int fsqual_probe(struct fsqual_run *run, struct rawio_fsqual_report *rep, char *errbuf,
			size_t errlen)
{
	struct rawio_engine_opts eopts = { .size = sizeof(eopts) };
	const struct rawio_dev_info *info;
	struct rawio_engine *e;
	struct rawio_dev *dev;
	struct stat st;
	long page;
	int ret;

	if (stat(run->dir, &st)) {
		ret = -errno;
		errbuf_set(errbuf, errlen, "%s: %s", run->dir, rawio_strerror(ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		errbuf_set(errbuf, errlen, "%s: not a directory", run->dir);
		return -ENOTDIR;
	}
	run->tmpfile = true;
	ret = fsqual_open_file(run, false, &run->tmpfile, &dev, errbuf, errlen);
	if (ret)
		return ret;
	info = rawio_dev_info(dev);
	snprintf(rep->fs_type, sizeof(rep->fs_type), "%s", info->fs_type);
	snprintf(rep->disk, sizeof(rep->disk), "%s", info->disk);
	snprintf(rep->kernel_release, sizeof(rep->kernel_release), "%s", info->kernel_release);
	rep->mem_align = info->mem_align;
	rep->disk_align = info->offset_align;
	rep->align_source = info->align_source;
	rep->fs_block_size = info->fs_block_size;
	rep->tmpfile = run->tmpfile;
	rep->table = info->fs;
	rep->meaningless = info->fs.dio_never_blocks;
	run->meaningless = rep->meaningless;

	run->dma = info->offset_align > 1 ? info->offset_align : 512;
	run->bs = info->fs_block_size;
	if (run->bs < run->dma || run->bs % run->dma || run->bs > (1u << 20))
		run->bs = run->dma > 4096 ? run->dma : 4096 / run->dma * run->dma;

	run->mem = info->mem_align > 1 ? info->mem_align : 512;
	run->buf_align = run->bs;
	page = sysconf(_SC_PAGESIZE);
	if (page > 0 && (uint32_t)page > run->buf_align)
		run->buf_align = (uint32_t)page;
	if (run->mem > run->buf_align)
		run->buf_align = run->mem;

	eopts.queue_depth = FSQUAL_MAX_DEPTH;
	ret = rawio_engine_open(&e, run->engine, dev, &eopts);
	if (ret) {
		if (ret == -ENOENT)
			errbuf_set(errbuf, errlen, "no engine named '%s'", run->engine);
		else
			errbuf_set(errbuf, errlen, "engine %s: cannot open on %s: %s", run->engine,
				   run->dir, rawio_strerror(ret));
	} else {
		rawio_engine_describe(e, rep->engine_desc, sizeof(rep->engine_desc));
		rawio_engine_close(e);
	}
	rawio_dev_close(dev);
	return ret;
}

int rawio_fsqual_run(const char *dir, const struct rawio_fsqual_opts *opts,
		     struct rawio_fsqual_report *rep)
{
	struct rawio_fsqual_opts o = { .size = sizeof(o) };
	struct fsqual_run run = { 0 };
	struct fsqual_job job;
	int ret;

	if (opts)
		memcpy(&o, opts, opts->size && opts->size < sizeof(o) ? opts->size : sizeof(o));
	if (!rep)
		return -EINVAL;
	memset(rep, 0, sizeof(*rep));
	if (!dir || !*dir) {
		errbuf_set(o.errbuf, o.errbuf_len, "no directory given");
		return -EINVAL;
	}
	run.dir = dir;
	run.engine = o.engine ? o.engine : "aio";
	run.uring = !strcmp(run.engine, "uring");
	run.ios = o.ios ? o.ios : FSQUAL_IOS;
	run.nowait_ios = o.nowait_ios ? o.nowait_ios
				      : (run.ios < FSQUAL_NOWAIT_MAX ? run.ios : FSQUAL_NOWAIT_MAX);
	run.gap_us = o.nowait_gap_us ? o.nowait_gap_us : FSQUAL_NOWAIT_GAP;
	snprintf(rep->engine, sizeof(rep->engine), "%s", run.engine);

	ret = fsqual_probe(&run, rep, o.errbuf, o.errbuf_len);
	if (ret)
		return ret;

	for (unsigned i = 0; i < RAWIO_FSQUAL_NR_ROWS; i++) {
		const struct fsqual_spec *spec = &fsqual_matrix[i];
		struct rawio_fsqual_row *row = &rep->rows[i];
		pthread_t th;

		row->id = spec->id;
		row->kind = spec->kind;
		row->depth = spec->depth;
		row->io_size = spec->unit == FSQUAL_BS ? run.bs : run.dma;
		row->dsync = spec->dsync;
		row->buf_align = spec->mem_aligned ? run.mem : run.buf_align;
		row->mem_aligned = spec->mem_aligned;
		row->gap_us = spec->kind == RAWIO_FSQUAL_NOWAIT ? run.gap_us : 0;
		memset(&job, 0, sizeof(job));
		job.run = &run;
		job.spec = spec;
		job.row = row;
		ret = pthread_create(&th, NULL, fsqual_row_thread, &job);
		if (ret) {
			errbuf_set(o.errbuf, o.errbuf_len, "cannot start a thread: %s",
				   rawio_strerror(ret));
			return -ret;
		}
		pthread_join(th, NULL);
		row->verdict = fsqual_verdict(&run, row);
		rep->nr_rows = i + 1;
		if (o.row_done)
			o.row_done(o.arg, rep, i);
	}
	/* Remember the verdicts for engine "auto" (best effort: a read-only HOME is no error). */
	(void)rawio_fsqual_cache_store(dir, rep);
	return 0;
}
