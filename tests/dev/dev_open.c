// SPDX-License-Identifier: MIT
/*
 * dev_open: rawio_dev_open on files and RAM devices, the direct I/O rules of
 * rawio_dev_check_io, aligned buffers.
 * Runs in the current directory (ctest: the build directory, on ext4 here).
 * Exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rawio/rawio.h>

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                          \
		}                                                                          \
	} while (0)

static char tmp_path[64];

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static struct rawio_dev_opts opts_with(unsigned flags, uint64_t create_size, char *err,
				       size_t err_len)
{
	struct rawio_dev_opts o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.create_size = create_size;
	o.errbuf = err;
	o.errbuf_len = err_len;
	return o;
}

/* Does the kernel take a direct write of LEN at OFF from BUF? 1 yes, 0 EINVAL, -1 other. */
static int kernel_accepts(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n == (ssize_t)len)
		return 1;
	return n < 0 && errno == EINVAL ? 0 : -1;
}

static int test_create_and_direct_io(void)
{
	struct rawio_dev *dev;
	const struct rawio_dev_info *in;
	struct rawio_dev_opts o;
	struct rawio_dev_info d;
	char err[256] = "";
	uint8_t *buf;
	uint32_t ma, oa;
	int fd;

	o = opts_with(RAWIO_DEV_CREATE, 1 << 20, err, sizeof(err));
	if (rawio_dev_open(&dev, tmp_path, &o) == -EINVAL) {
		fprintf(stderr, "skip: %s\n", err);
		return 77; /* the build directory's filesystem refuses O_DIRECT */
	}
	in = rawio_dev_info(dev);
	CHECK(in->kind == RAWIO_DEV_FILE);
	CHECK(in->direct && !in->read_only);
	CHECK(in->size == 1 << 20);
	CHECK(!strcmp(in->path, tmp_path));
	CHECK(is_pow2(in->mem_align) && is_pow2(in->offset_align));
	CHECK(in->logical_block_size >= 512 && is_pow2(in->logical_block_size));
	CHECK(in->physical_block_size >= in->logical_block_size);
	CHECK(in->align_source != RAWIO_ALIGN_BUFFERED && in->align_source != RAWIO_ALIGN_MEM);
	CHECK(in->fs_type[0] && in->fs_block_size > 0 && in->fs_magic != 0);
	CHECK(in->kernel_release[0]);
	CHECK(rawio_dev_mem(dev) == NULL);
	fd = rawio_dev_fd(dev);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFL) & O_DIRECT);
	ma = in->mem_align;
	oa = in->offset_align;

	/* Aligned I/O passes check_io and the kernel; each misalignment fails both. */
	buf = rawio_dev_buf_alloc(dev, 4 * (size_t)oa);
	CHECK(buf && (uintptr_t)buf % ma == 0);
	memset(buf, 0xab, 4 * (size_t)oa);
	CHECK(rawio_dev_check_io(dev, buf, oa, oa) == 0);
	CHECK(kernel_accepts(fd, buf, oa, oa) == 1);
	CHECK(pread(fd, buf, 2 * (size_t)oa, 0) == 2 * (ssize_t)oa);
	/*
	 * check_io holds to the kernel's numbers. The kernel itself cannot be
	 * asked: ext4 (ext4_should_use_dio) quietly turns a misaligned O_DIRECT
	 * request into buffered I/O instead of failing it with EINVAL.
	 */
	if (ma > 1)
		CHECK(rawio_dev_check_io(dev, buf + ma / 2, oa, 0) == -EINVAL);
	if (oa > 1) {
		CHECK(rawio_dev_check_io(dev, buf, oa / 2, 0) == -EINVAL);
		CHECK(rawio_dev_check_io(dev, buf, oa, oa / 2) == -EINVAL);
	}
	rawio_buf_free(buf);
	rawio_dev_close(dev);

	/* Describe agrees with open, and says O_DIRECT works. */
	CHECK(rawio_dev_describe(tmp_path, &d) == 0);
	CHECK(d.kind == RAWIO_DEV_FILE && d.direct && d.size == 1 << 20);

	/* CREATE on an existing, longer file does not shrink it; on a shorter one extends. */
	o = opts_with(RAWIO_DEV_CREATE, 4096, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, tmp_path, &o) == 0);
	CHECK(rawio_dev_info(dev)->size == 1 << 20);
	rawio_dev_close(dev);
	o = opts_with(RAWIO_DEV_CREATE, 2 << 20, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, tmp_path, &o) == 0);
	CHECK(rawio_dev_info(dev)->size == 2 << 20);
	rawio_dev_close(dev);

	/* NULL opts: O_DIRECT read-write. */
	CHECK(rawio_dev_open(&dev, tmp_path, NULL) == 0);
	CHECK(rawio_dev_info(dev)->direct && !rawio_dev_info(dev)->read_only);
	rawio_dev_close(dev);

	/* Read-only. */
	o = opts_with(RAWIO_DEV_RDONLY, 0, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, tmp_path, &o) == 0);
	CHECK(rawio_dev_info(dev)->read_only);
	CHECK((fcntl(rawio_dev_fd(dev), F_GETFL) & O_ACCMODE) == O_RDONLY);
	rawio_dev_close(dev);

	/* Buffered: no alignment rules at all. */
	o = opts_with(RAWIO_DEV_BUFFERED, 0, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, tmp_path, &o) == 0);
	in = rawio_dev_info(dev);
	CHECK(!in->direct && in->align_source == RAWIO_ALIGN_BUFFERED);
	CHECK(!(fcntl(rawio_dev_fd(dev), F_GETFL) & O_DIRECT));
	CHECK(rawio_dev_check_io(dev, (void *)(uintptr_t)3, 7, 5) == 0);
	rawio_dev_close(dev);

	/* CREATE and read-only contradict each other. */
	o = opts_with(RAWIO_DEV_CREATE | RAWIO_DEV_RDONLY, 4096, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, tmp_path, &o) == -EINVAL);
	CHECK(dev == NULL);
	return 0;
}

static int test_errors(void)
{
	struct rawio_dev *dev = (struct rawio_dev *)&dev;
	struct rawio_dev_opts o;
	char err[256] = "";
	char missing[96];

	snprintf(missing, sizeof(missing), "%s.does-not-exist", tmp_path);
	o = opts_with(0, 0, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, missing, &o) == -ENOENT);
	CHECK(dev == NULL);
	CHECK(strstr(err, missing) != NULL);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(access(missing, F_OK) != 0);

	err[0] = '\0';
	o = opts_with(0, 0, err, sizeof(err));
	CHECK(rawio_dev_open(&dev, ".", &o) == -ENOTBLK);
	CHECK(strstr(err, ".") != NULL && strstr(err, "directory") != NULL);
	CHECK(rawio_dev_open(&dev, "/dev/null", &o) == -ENOTBLK);

	/* Errors without an errbuf, and with a tiny one, are safe. */
	CHECK(rawio_dev_open(&dev, missing, NULL) == -ENOENT);
	o = opts_with(0, 0, err, 4);
	CHECK(rawio_dev_open(&dev, missing, &o) == -ENOENT);
	CHECK(strlen(err) == 3);

	CHECK(rawio_dev_open(&dev, "", NULL) == -EINVAL);
	CHECK(rawio_dev_describe(missing, &(struct rawio_dev_info){ 0 }) == -ENOENT);
	rawio_dev_close(NULL);
	return 0;
}

static int test_mem(void)
{
	struct rawio_dev *dev;
	const struct rawio_dev_info *in;
	struct rawio_dev_info d;
	uint8_t *mem, *buf;

	CHECK(rawio_dev_open_mem(&dev, 64 << 20, 4096) == 0);
	in = rawio_dev_info(dev);
	CHECK(in->kind == RAWIO_DEV_MEM && in->size == 64 << 20);
	CHECK(in->logical_block_size == 4096 && in->physical_block_size == 4096);
	CHECK(in->mem_align == 512 && in->offset_align == 4096);
	CHECK(in->align_source == RAWIO_ALIGN_MEM && in->direct);
	CHECK(rawio_dev_fd(dev) == -1);
	mem = rawio_dev_mem(dev);
	CHECK(mem != NULL && mem[0] == 0 && mem[(64 << 20) - 1] == 0);
	mem[12345] = 1; /* writable */

	buf = rawio_buf_alloc(8192, 4096);
	CHECK(buf);
	CHECK(rawio_dev_check_io(dev, buf, 4096, 0) == 0);
	CHECK(rawio_dev_check_io(dev, buf, 8192, 4096 * 7) == 0);
	CHECK(rawio_dev_check_io(dev, buf + 512, 4096, 0) == 0);
	CHECK(rawio_dev_check_io(dev, buf + 256, 4096, 0) == -EINVAL);
	CHECK(rawio_dev_check_io(dev, buf, 512, 0) == -EINVAL);
	CHECK(rawio_dev_check_io(dev, buf, 4096, 512) == -EINVAL);
	CHECK(rawio_dev_check_io(NULL, buf, 4096, 0) == -EINVAL);
	rawio_buf_free(buf);
	rawio_dev_close(dev);

	/* Bad geometry. */
	CHECK(rawio_dev_open_mem(&dev, 64 << 20, 1000) == -EINVAL);
	CHECK(rawio_dev_open_mem(&dev, 64 << 20, 256) == -EINVAL);
	CHECK(rawio_dev_open_mem(&dev, 64 << 20, 131072) == -EINVAL);
	CHECK(rawio_dev_open_mem(&dev, 4096 + 512, 4096) == -EINVAL);
	CHECK(rawio_dev_open_mem(&dev, 0, 512) == -EINVAL);

	/* "mem:SIZE" through rawio_dev_open: 512-byte blocks. */
	CHECK(rawio_dev_open(&dev, "mem:64M", NULL) == 0);
	in = rawio_dev_info(dev);
	CHECK(in->kind == RAWIO_DEV_MEM && in->size == 64 << 20);
	CHECK(in->logical_block_size == 512 && in->offset_align == 512 && in->mem_align == 512);
	CHECK(rawio_dev_mem(dev) != NULL && rawio_dev_fd(dev) == -1);
	rawio_dev_close(dev);
	CHECK(rawio_dev_open(&dev, "mem:64X", NULL) == -EINVAL);
	CHECK(rawio_dev_open(&dev, "mem:", NULL) == -EINVAL);
	CHECK(rawio_dev_open(&dev, "mem:1000", NULL) == -EINVAL);
	CHECK(rawio_dev_describe("mem:1g", &d) == 0);
	CHECK(d.kind == RAWIO_DEV_MEM && d.size == 1ull << 30);
	return 0;
}

static int test_buffers(void)
{
	static const size_t aligns[] = { 0, 8, 512, 4096, 65536 };
	uint8_t *b;

	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		size_t a = aligns[i] ? aligns[i] : 4096;

		b = rawio_buf_alloc(1000, aligns[i]);
		CHECK(b && (uintptr_t)b % a == 0);
		for (size_t j = 0; j < 1000; j++)
			CHECK(b[j] == 0);
		rawio_buf_free(b);
	}
	CHECK(rawio_buf_alloc(4096, 3000) == NULL);
	rawio_buf_free(NULL);
	CHECK(rawio_dev_buf_alloc(NULL, 4096) == NULL);
	return 0;
}

static int test_names(void)
{
	CHECK(!strcmp(rawio_dev_kind_name(RAWIO_DEV_FILE), "file"));
	CHECK(!strcmp(rawio_dev_kind_name(RAWIO_DEV_BLOCK), "block"));
	CHECK(!strcmp(rawio_dev_kind_name(RAWIO_DEV_MEM), "mem"));
	CHECK(!strcmp(rawio_align_source_name(RAWIO_ALIGN_STATX), "statx"));
	CHECK(!strcmp(rawio_align_source_name(RAWIO_ALIGN_GUESS), "guess"));
	CHECK(rawio_dev_kind_name((enum rawio_dev_kind)99) != NULL);
	CHECK(rawio_align_source_name((enum rawio_align_source)99) != NULL);
	return 0;
}

int main(void)
{
	int ret;

	snprintf(tmp_path, sizeof(tmp_path), "dev_open.%d.tmp", (int)getpid());
	unlink(tmp_path);
	ret = test_errors();
	if (!ret)
		ret = test_mem();
	if (!ret)
		ret = test_buffers();
	if (!ret)
		ret = test_names();
	if (!ret)
		ret = test_create_and_direct_io();
	unlink(tmp_path);
	return ret;
}
