// SPDX-License-Identifier: MIT
/*
 * The engine core drops RAWIO_REQ_NOWAIT for writes on a file whose traits
 * say NOWAIT writes do not work (nowait_writes false, the default), and sends
 * it where they say it does (as rawio fsqual sets them). Seen through a write
 * into a hole: the kernel refuses RWF_NOWAIT there (EAGAIN: it would
 * allocate), which the core resubmits and counts.
 */
#include <fcntl.h>

#include "harness.h"

static int nowait_write(struct rawio_dev *dev, void *buf, uint64_t off, uint64_t *resubmits)
{
	struct rawio_engine_stat st;
	struct rawio_engine *e;
	struct rawio_req r = { .op = RAWIO_OP_WRITE, .flags = RAWIO_REQ_NOWAIT };
	int64_t ret;

	CHECK_OK(rawio_engine_open(&e, "sync", dev, NULL));
	r.buf = buf;
	r.len = 4096;
	r.off = off;
	ret = rawio_engine_run1(e, &r);
	rawio_engine_stat(e, &st);
	rawio_engine_close(e);
	CHECK(ret == 4096, "write returned %lld", (long long)ret);
	*resubmits = st.resubmits;
	return T_PASS;
}

int main(void)
{
	struct rawio_dev_opts opts = { .size = sizeof(opts), .flags = RAWIO_DEV_CREATE };
	const struct rawio_dev_info *info;
	struct rawio_fs_traits t;
	struct rawio_dev *dev = NULL;
	uint64_t resub = 0;
	void *buf = NULL;
	int ret;

	ret = t_open_tmpfile(&dev, "nowait", &opts);
	if (ret != T_PASS)
		return ret;
	ret = T_FAIL;
	info = rawio_dev_info(dev);
	if (strcmp(info->fs_type, "ext4") && strcmp(info->fs_type, "xfs") &&
	    strcmp(info->fs_type, "btrfs")) {
		rawio_dev_close(dev);
		SKIP("%s: holes may not refuse NOWAIT here", info->fs_type);
	}
	buf = rawio_buf_alloc(4096, 4096);
	if (!buf)
		goto out;
	if (ftruncate(rawio_dev_fd(dev), 1 << 20))
		goto out;

	/* The table: nowait_writes off, so the core never sends RWF_NOWAIT. */
	if (info->fs.nowait_writes) {
		fprintf(stderr, "the table says NOWAIT writes work on %s\n", info->fs_type);
		goto out;
	}
	if (nowait_write(dev, buf, 0, &resub))
		goto out;
	if (resub) {
		fprintf(stderr, "NOWAIT was sent with nowait_writes off (%llu resubmits)\n",
			(unsigned long long)resub);
		goto out;
	}
	printf("ok: nowait_writes off: NOWAIT dropped, no EAGAIN\n");

	/* Qualified: the core sends it; a hole answers EAGAIN and is resubmitted. */
	t = info->fs;
	t.nowait_writes = true;
	if (rawio_dev_set_fs_traits(dev, &t))
		goto out;
	if (nowait_write(dev, buf, 65536, &resub))
		goto out;
	if (resub != 1) {
		fprintf(stderr, "nowait_writes on: %llu resubmits, want 1 (EAGAIN on a hole)\n",
			(unsigned long long)resub);
		goto out;
	}
	printf("ok: nowait_writes on: NOWAIT sent, EAGAIN resubmitted once\n");
	if (rawio_dev_set_fs_traits(NULL, &t) != -EINVAL)
		goto out;
	ret = T_PASS;
	printf("PASS\n");
out:
	rawio_buf_free(buf);
	rawio_dev_close(dev);
	return ret;
}
