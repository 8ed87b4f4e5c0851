// SPDX-License-Identifier: MIT
/*
 * rawio_store_format: check that the device holds nothing of value, then
 * write empty checkpoint areas and the two superblocks (encoders: format.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"
#include "util/clock.h"
#include "util/errbuf.h"

/* The superblock area: does it hold anything? 1 a store, 2 other data, 0 zeroes. */
static int store_sb_area_used(void *buf, struct store_geometry *found)
{
	bool any = false;

	for (int i = 0; i < 2; i++) {
		char *blk = (char *)buf + i * STORE_BLOCK;

		if (store_sb_decode(blk, STORE_BLOCK, found) == 0)
			return 1;
		any |= !store_all_zero(blk, STORE_BLOCK);
	}
	return any ? 2 : 0;
}

/* RAM the index of NR_SLOTS slots takes at open (index_init in index.c). */
static uint64_t store_mkfs_index_bytes(uint64_t nr_slots)
{
	uint64_t table = 16;

	while (table < nr_slots + nr_slots / 2)
		table <<= 1;
	return nr_slots * sizeof(struct slot_meta) + table * sizeof(uint32_t) +
	       (nr_slots + 63) / 64 * 8;
}

int rawio_store_format_dev(struct rawio_dev *dev, const struct rawio_store_format_opts *opts)
{
	struct rawio_store s = { 0 };
	struct store_geometry found;
	char *errbuf = opts ? opts->errbuf : NULL;
	size_t errlen = opts ? opts->errbuf_len : 0;
	char uuid[RAWIO_UUID_STR_LEN];
	const char *path;
	void *buf = NULL;
	int64_t res;
	bool locked;
	int ret, used;

	if (!dev || !opts || opts->size < sizeof(*opts))
		return -EINVAL;
	/* Own the device whoever opened it (rawio_store_format already holds the lock). */
	ret = rawio_dev_lock(dev, RAWIO_DEV_LOCK_EX, opts->lock_wait_ms, errbuf, errlen);
	if (ret < 0)
		return ret;
	locked = ret == 1;
	s.dev = dev;
	s.info = rawio_dev_info(s.dev);
	path = s.info->path;
	snprintf(s.engine, sizeof(s.engine), "%s",
		 rawio_dev_fd(dev) < 0 ? rawio_engine_default(s.info) : "sync");
	ret = store_pool_open(&s);
	if (ret)
		goto out;
	if (s.info->offset_align > STORE_BLOCK) {
		errbuf_set(errbuf, errlen, "%s: needs %u-byte alignment; the store's blocks are %u",
			   path, s.info->offset_align, STORE_BLOCK);
		ret = -EINVAL;
		goto out;
	}
	buf = rawio_buf_alloc(2 * STORE_BLOCK, STORE_BLOCK);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	if (s.info->size >= 2 * STORE_BLOCK) {
		res = rawio_engine_pool_io(s.pool, RAWIO_OP_READ, 0, buf, 2 * STORE_BLOCK, 0);
		if (res < 0) {
			ret = (int)res;
			errbuf_set(errbuf, errlen, "%s: reading the superblock area: %s", path,
				   rawio_strerror(ret));
			goto out;
		}
		used = store_sb_area_used(buf, &found);
		if (used && !opts->force) {
			if (used == 1) {
				rawio_uuid_str(found.uuid, uuid);
				errbuf_set(errbuf, errlen,
					   "%s holds a rawio store (uuid %s, %llu slots of %llu "
					   "bytes); "
					   "formatting destroys it: use --force",
					   path, uuid, (unsigned long long)found.slot_count,
					   (unsigned long long)found.slot_size);
			} else {
				errbuf_set(
					errbuf, errlen,
					"%s: its first 8 KiB are not zero (another filesystem or "
					"data?); formatting destroys it: use --force",
					path);
			}
			ret = -EEXIST;
			goto out;
		}
	}
	ret = store_geometry_plan(&s.g, s.info->size, opts->slot_size, opts->slot_count);
	if (!ret && !opts->force) {
		/* Opening holds the index in RAM: refuse a store this machine could not open. */
		uint64_t need = store_mkfs_index_bytes(s.g.slot_count);
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
		uint64_t limit = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 2 : 0;

		if (limit && need > limit) {
			errbuf_set(errbuf, errlen,
				   "%s: %llu slots need %llu MiB of RAM for the index at every "
				   "open, more than half of this machine's %llu MiB; use a larger "
				   "--slot-size, fewer --slots, or --force",
				   path, (unsigned long long)s.g.slot_count,
				   (unsigned long long)(need >> 20),
				   (unsigned long long)(limit >> 19));
			ret = -ENOMEM;
			goto out;
		}
	}
	if (ret) {
		errbuf_set(errbuf, errlen,
			   ret == -ENOSPC
				   ? "%s: %llu bytes cannot hold %s slots of %llu bytes"
				   : "%s: bad geometry (%llu bytes, %s slots of %llu bytes); "
				     "slot size must be a power of two from 4 KiB to 64 MiB",
			   path, (unsigned long long)s.info->size,
			   opts->slot_count ? "the asked-for" : "any",
			   (unsigned long long)(opts->slot_size ? opts->slot_size
								: RAWIO_STORE_DEFAULT_SLOT));
		goto out;
	}
	if (getrandom(s.g.uuid, sizeof(s.g.uuid), 0) != sizeof(s.g.uuid)) {
		ret = -EIO;
		goto out;
	}
	s.g.uuid[6] = (s.g.uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	s.g.uuid[8] = (s.g.uuid[8] & 0x3f) | 0x80;
	s.g.format_ns = clock_realtime_ns();

	/* Old checkpoints go first, so a crash mid-format never pairs them with the new superblock. */
	memset(buf, 0, 2 * STORE_BLOCK);
	for (int i = 0; i < 2 && !ret; i++) {
		res = rawio_engine_pool_io(s.pool, RAWIO_OP_WRITE, 0, buf, STORE_BLOCK,
					   s.g.cp_off[i]);
		ret = res < 0 ? (int)res : 0;
	}
	if (!ret) {
		store_sb_encode(buf, &s.g);
		store_sb_encode((char *)buf + STORE_BLOCK, &s.g);
		res = rawio_engine_pool_io(s.pool, RAWIO_OP_WRITE, RAWIO_REQ_FUA, buf,
					   2 * STORE_BLOCK, 0);
		ret = res < 0 ? (int)res : 0;
	}
	if (!ret) {
		res = rawio_engine_pool_io(s.pool, RAWIO_OP_FDATASYNC, 0, NULL, 0, 0);
		ret = res < 0 ? (int)res : 0;
	}
	if (ret)
		errbuf_set(errbuf, errlen, "%s: writing the new store: %s", path,
			   rawio_strerror(ret));
	if (!ret && opts->made) {
		struct rawio_store_stat *st = opts->made;

		memset(st, 0, sizeof(*st));
		memcpy(st->uuid, s.g.uuid, sizeof(st->uuid));
		st->slot_size = s.g.slot_size;
		st->slot_count = s.g.slot_count;
		st->payload_max = store_payload_max(&s.g);
		st->index_bytes = store_mkfs_index_bytes(s.g.slot_count);
		st->data_off = s.g.data_off;
		st->dev_size = s.g.dev_size;
		st->next_generation = 1;
	}
out:
	rawio_engine_pool_free(s.pool);
	rawio_buf_free(buf);
	if (locked)
		rawio_dev_unlock(dev);
	return ret;
}

int rawio_store_format(const char *path, const struct rawio_store_format_opts *opts)
{
	struct rawio_dev_opts dopts = { .size = sizeof(dopts) };
	struct rawio_dev *dev;
	struct stat st;
	bool existed;
	int ret;

	if (!path || !opts || opts->size < sizeof(*opts))
		return -EINVAL;
	if (opts->create_size) {
		dopts.flags |= RAWIO_DEV_CREATE;
		dopts.create_size = opts->create_size;
	}
	dopts.flags |= RAWIO_DEV_LOCK_EX;
	dopts.lock_wait_ms = opts->lock_wait_ms;
	dopts.errbuf = opts->errbuf;
	dopts.errbuf_len = opts->errbuf_len;
	/* A failed format leaves the filesystem as it found it: what existed, how long. */
	existed = stat(path, &st) == 0;
	/* --size on a larger file: refused, never silently ignored (rawio does not shrink files). */
	if (existed && S_ISREG(st.st_mode) && opts->create_size &&
	    (uint64_t)st.st_size > opts->create_size) {
		errbuf_set(opts->errbuf, opts->errbuf_len,
			   "%s: the file is %llu bytes, larger than the size asked for (%llu); "
			   "rawio does not shrink files: truncate it first or leave out the size",
			   path, (unsigned long long)st.st_size,
			   (unsigned long long)opts->create_size);
		return -EFBIG;
	}
	ret = rawio_dev_open(&dev, path, &dopts);
	if (ret)
		return ret;
	ret = rawio_store_format_dev(dev, opts);
	rawio_dev_close(dev);
	if (ret && !existed && opts->create_size) {
		unlink(path);
	} else if (ret && existed && S_ISREG(st.st_mode) && opts->create_size) {
		/* Best effort: the format's error is what the caller needs. */
		int r = truncate(path, st.st_size);

		(void)r;
	}
	return ret;
}
