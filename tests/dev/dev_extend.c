// SPDX-License-Identifier: MIT
/*
 * rawio_dev_extend: grows a file ahead of appends in STEP units (fallocate,
 * so the blocks are reserved), never shrinks it, keeps info.size in step, and
 * refuses what it cannot do.
 */
#include <sys/stat.h>

#include "harness.h"

int main(void)
{
	struct rawio_dev_opts opts = { .size = sizeof(opts), .flags = RAWIO_DEV_CREATE };
	struct rawio_dev *dev = NULL, *mem = NULL;
	struct stat st;
	int ret;

	ret = t_open_tmpfile(&dev, "extend", &opts);
	if (ret != T_PASS)
		return ret;
	ret = T_FAIL;

#define EXPECT(cond, ...)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			goto out;                                                  \
		}                                                                  \
	} while (0)

	EXPECT(rawio_dev_extend(dev, 1, 0) == 0, "extend to 1 byte");
	EXPECT(!fstat(rawio_dev_fd(dev), &st) && st.st_size == 1 << 20, "size %lld, want 1 MiB",
	       (long long)st.st_size);
	EXPECT(rawio_dev_info(dev)->size == 1 << 20, "info.size %llu",
	       (unsigned long long)rawio_dev_info(dev)->size);
	/* fallocate reserved the blocks (ftruncate would leave a hole). */
	if (strcmp(rawio_dev_info(dev)->fs_type, "tmpfs"))
		EXPECT((uint64_t)st.st_blocks * 512 >= 1 << 20, "only %lld blocks reserved",
		       (long long)st.st_blocks);

	EXPECT(rawio_dev_extend(dev, 1000, 0) == 0, "inside the file");
	EXPECT(rawio_dev_info(dev)->size == 1 << 20, "grew for nothing");

	EXPECT(rawio_dev_extend(dev, (1 << 20) + 1, 65536) == 0, "one byte past");
	EXPECT(!fstat(rawio_dev_fd(dev), &st) && st.st_size == (1 << 20) + 65536,
	       "size %lld, want 1 MiB + 64 KiB", (long long)st.st_size);

	EXPECT(rawio_dev_extend(dev, 1 << 22, 3000) == -EINVAL, "step 3000 accepted");
	EXPECT(rawio_dev_extend(dev, UINT64_MAX - 10, 0) == -EINVAL, "huge end accepted");
	EXPECT(rawio_dev_extend(NULL, 1, 0) == -EINVAL, "NULL accepted");
	EXPECT(rawio_dev_open_mem(&mem, 1 << 20, 512) == 0, "mem device");
	EXPECT(rawio_dev_extend(mem, 1 << 21, 0) == -EINVAL, "RAM device extended");
	ret = T_PASS;
	printf("PASS\n");
out:
	rawio_dev_close(mem);
	rawio_dev_close(dev);
	return ret;
}
