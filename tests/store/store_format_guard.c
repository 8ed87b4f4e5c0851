// SPDX-License-Identifier: MIT
/* Formatting never destroys a store or other data unless forced; open refuses non-stores. */
#include "store_test.h"

int main(void)
{
	struct rawio_store_format_opts f = { .size = sizeof(f),
					     .slot_size = 1u << 20,
					     .create_size = 8u << 20 };
	struct rawio_store_opts o = { .size = sizeof(o) };
	struct rawio_store *s;
	char path[64], err[512], junk[512];
	int fd;

	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	t_scratch(path, sizeof(path), "guard");
	unlink(path);

	/* Foreign data in the first 8 KiB. */
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0, "create");
	memset(junk, 0xab, sizeof(junk));
	CHECK(pwrite(fd, junk, sizeof(junk), 4096 + 100) == sizeof(junk), "write junk");
	close(fd);
	CHECK(rawio_store_open(&s, path, &o) == -EUCLEAN, "open of a non-store");
	CHECK(rawio_store_format(path, &f) == -EEXIST, "formatted over foreign data");
	CHECK(strstr(err, "not zero") && strstr(err, "--force"), "message: %s", err);
	f.force = true;
	CHECK_OK(rawio_store_format(path, &f));

	/* A store. */
	f.force = false;
	CHECK(rawio_store_format(path, &f) == -EEXIST, "formatted over a store");
	CHECK(strstr(err, "holds a rawio store"), "message: %s", err);

	/* Bad geometry is refused with a reason. */
	f.force = true;
	f.slot_size = 3000;
	CHECK(rawio_store_format(path, &f) == -EINVAL, "slot size 3000");
	f.slot_size = 128u << 20;
	CHECK(rawio_store_format(path, &f) == -EINVAL, "slot size 128 MiB");
	f.slot_size = 8u << 20;
	CHECK(rawio_store_format(path, &f) == -ENOSPC,
	      "8 MiB cannot hold an 8 MiB slot and metadata");
	unlink(path);
	return T_PASS;
}
