// SPDX-License-Identifier: MIT
/*
 * Engine "auto": the engine that neither blocks nor punts on this device,
 * from the device's traits, a one-read NOWAIT probe and fsqual's cached
 * verdicts. Measured (docs/perf.md): where NOWAIT reads work io_uring issues
 * inline and is fastest. On a block device without NOWAIT (zram, loop
 * without direct I/O) io_uring hands every request to io-wq: at depth 1 a
 * blocking pread is cheaper; deeper the uring engine measures IOSQE_ASYNC
 * (several io-wq workers) against one worker and keeps the faster, and uring
 * is ahead of aio there (perf.md "zram, uring: one io-wq worker" and
 * "IOSQE_ASYNC, quiet and at load"). Elsewhere (fsqual
 * says io_uring reads stall on a file) aio submits inline and stays ahead of
 * a thread pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <rawio/rawio.h>

#include "auto_rule.h"
#include "engine_impl.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* Does a RWF_NOWAIT read of the first block get past the "not supported" check? */
static bool auto_nowait_reads(struct rawio_dev *dev, const struct rawio_dev_info *info)
{
	size_t len = info->offset_align > 512 ? info->offset_align : 4096;
	struct iovec iov;
	void *buf;
	ssize_t n;

	buf = rawio_dev_buf_alloc(dev, len);
	if (!buf)
		return info->fs.nowait_reads;
	iov.iov_base = buf;
	iov.iov_len = len;
	n = preadv2(rawio_dev_fd(dev), &iov, 1, 0, RWF_NOWAIT);
	rawio_buf_free(buf);
	return n >= 0 || errno != EOPNOTSUPP;
}

void auto_rule(const struct auto_traits *t, struct rawio_engine_choice *out)
{
	unsigned qd = t->qd ? t->qd : 32;
	const char *punts =
		t->nowait ? "io_uring reads punted (fsqual)" : "no NOWAIT on this device";
	char from[96] = "";
	/* O_DIRECT through a file descriptor: where io_uring and aio apply at all. */
	bool fd_direct = t->direct && (t->kind == RAWIO_DEV_FILE || t->kind == RAWIO_DEV_BLOCK);

	memset(out, 0, sizeof(*out));
	out->from_cache = t->cached;
	out->uring_punts = fd_direct && !t->nowait;
	out->aio_async = fd_direct && (!t->v.have_aio || t->v.aio_reads_ok);
	if (t->kind == RAWIO_DEV_MEM) {
		snprintf(out->engine, sizeof(out->engine), "mem");
		snprintf(out->why, sizeof(out->why), "a RAM device");
		return;
	}
	if (t->kind == RAWIO_DEV_NBD) {
		snprintf(out->engine, sizeof(out->engine), "nbd");
		snprintf(out->why, sizeof(out->why), "an NBD export: only libnbd reaches it");
		return;
	}
	if (t->kind == RAWIO_DEV_RBD) {
		snprintf(out->engine, sizeof(out->engine), "rbd");
		snprintf(out->why, sizeof(out->why), "a Ceph RBD image: only librbd reaches it");
		return;
	}
	if (!t->direct) {
		snprintf(out->engine, sizeof(out->engine), qd > 1 ? "threads" : "sync");
		snprintf(out->why, sizeof(out->why),
			 "buffered I/O: aio and io_uring would block or punt in the page cache%s",
			 qd > 1 ? "; a thread pool keeps the depth" : "");
		return;
	}
	if (t->cached)
		snprintf(from, sizeof(from), "; fsqual (cached): uring reads %s, aio reads %s",
			 !t->v.have_uring      ? "?"
			 : t->v.uring_reads_ok ? "ok"
					       : "stall",
			 !t->v.have_aio	     ? "?"
			 : t->v.aio_reads_ok ? "ok"
					     : "stall");
	if (t->nowait && (!t->v.have_uring || t->v.uring_reads_ok)) {
		snprintf(out->engine, sizeof(out->engine), "uring");
		snprintf(out->why, sizeof(out->why),
			 "NOWAIT reads work: io_uring issues inline, no io-wq%s", from);
	} else if (qd > 1 && !t->nowait && t->kind == RAWIO_DEV_BLOCK) {
		/* The uring engine's own probe (uring_punts_all) agrees: async=yes. */
		snprintf(out->engine, sizeof(out->engine), "uring");
		snprintf(out->why, sizeof(out->why),
			 "no NOWAIT on this device: io_uring hands every request to io-wq, "
			 "measuring one worker against several (IOSQE_ASYNC); ahead of aio at "
			 "depth");
	} else if (qd <= 1) {
		snprintf(out->engine, sizeof(out->engine), "sync");
		snprintf(out->why, sizeof(out->why),
			 "%s: io_uring would punt to io-wq; at depth 1 a blocking pread is "
			 "cheapest%s",
			 punts, from);
	} else if (!t->v.have_aio || t->v.aio_reads_ok) {
		snprintf(out->engine, sizeof(out->engine), "aio");
		snprintf(out->why, sizeof(out->why),
			 "%s: io_uring would punt every request to io-wq; aio submits without a "
			 "hand-off%s",
			 punts, from);
	} else {
		snprintf(out->engine, sizeof(out->engine), "threads");
		snprintf(out->why, sizeof(out->why),
			 "io_uring punts and aio stalls the submitter here: a thread pool%s", from);
	}
}

int rawio_engine_choose(struct rawio_dev *dev, unsigned qd, struct rawio_engine_choice *out)
{
	const struct rawio_dev_info *info = rawio_dev_info(dev);
	struct auto_traits t = { .kind = info->kind, .direct = info->direct, .qd = qd };

	/* Probe only what the rule reads: a RAM, NBD or RBD device or buffered I/O needs none. */
	if (info->direct && (info->kind == RAWIO_DEV_FILE || info->kind == RAWIO_DEV_BLOCK)) {
		if (info->kind == RAWIO_DEV_FILE && !rawio_dev_fs_verdicts_load(info->path, &t.v))
			t.cached = true;
		else
			t.v = (struct rawio_fs_verdicts){ 0 };
		t.nowait = auto_nowait_reads(dev, info);
	}
	auto_rule(&t, out);
	return 0;
}
