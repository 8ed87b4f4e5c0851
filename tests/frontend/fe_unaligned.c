// SPDX-License-Identifier: MIT
/*
 * Requests of any size at any offset through the plugin, against a model of
 * the device in memory, on a RAM device, a file and a cache: fixed edge cases
 * (1 byte at 511, 4097 bytes at 3, ...), then seeded random writes, zeroes,
 * trims and reads; then rounds of concurrent unaligned writes to disjoint
 * bytes of one logical block, in flight together, which lose an update
 * unless read-modify-write serialises them. Finally the export is stopped
 * (SIGTERM), served again, and must read back as the model.
 * usage: fe_unaligned [SEED]
 */
#include <fcntl.h>
#include <inttypes.h>

#include <rawio/cache.h>

#include "fe_nbd.h"

#define FE_SIZE (8u << 20)

struct fe_model {
	uint8_t *m;	/* expected bytes */
	uint8_t *known; /* 0: trimmed since last written (any value reads back) */
};

static uint64_t fe_rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int fe_check(struct nbd_handle *h, struct fe_model *md, uint64_t off, uint32_t len,
		    const char *what)
{
	uint8_t *buf = malloc(len ? len : 1);

	CHECK(buf, "malloc");
	CHECK(nbd_pread(h, buf, len, off, 0) == 0, "%s: pread %u at %" PRIu64 ": %s", what, len,
	      off, nbd_get_error());
	for (uint32_t i = 0; i < len; i++) {
		if (md->known[off + i] && buf[i] != md->m[off + i]) {
			fprintf(stderr,
				"%s: byte %" PRIu64 " reads %02x, model has %02x (read of %u at "
				"%" PRIu64 ")\n",
				what, off + i, buf[i], md->m[off + i], len, off);
			free(buf);
			return T_FAIL;
		}
	}
	free(buf);
	return T_PASS;
}

static int fe_write(struct nbd_handle *h, struct fe_model *md, uint64_t *rng, uint64_t off,
		    uint32_t len, uint32_t flags)
{
	uint8_t *buf = malloc(len);

	CHECK(buf, "malloc");
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)fe_rng(rng);
	CHECK(nbd_pwrite(h, buf, len, off, flags) == 0, "pwrite %u at %" PRIu64 ": %s", len, off,
	      nbd_get_error());
	memcpy(md->m + off, buf, len);
	memset(md->known + off, 1, len);
	free(buf);
	return T_PASS;
}

/* Eight writes to disjoint bytes of one block (or two, straddling), all in flight at once. */
static int fe_concurrent(struct nbd_handle *h, struct fe_model *md, uint64_t *rng, uint32_t align)
{
	enum { N = 8 };
	uint8_t bufs[N][64];
	int64_t cookies[N];
	uint64_t base = (fe_rng(rng) % (FE_SIZE / align - 2)) * align;

	if (fe_rng(rng) & 1)
		base += align / 2; /* straddle two blocks */
	for (int k = 0; k < N; k++) {
		uint64_t off = base + (uint64_t)k * (align / N) + 1;
		uint32_t len = align / N - 2 < 60 ? align / N - 2 : 60;

		for (uint32_t i = 0; i < len; i++)
			bufs[k][i] = (uint8_t)fe_rng(rng);
		cookies[k] = nbd_aio_pwrite(h, bufs[k], len, off, NBD_NULL_COMPLETION, 0);
		CHECK(cookies[k] > 0, "aio_pwrite: %s", nbd_get_error());
		memcpy(md->m + off, bufs[k], len);
		memset(md->known + off, 1, len);
	}
	while (nbd_aio_in_flight(h) > 0)
		CHECK(nbd_poll(h, -1) >= 0, "poll: %s", nbd_get_error());
	for (int k = 0; k < N; k++)
		CHECK(nbd_aio_command_completed(h, (uint64_t)cookies[k]) == 1, "write %d: %s", k,
		      nbd_get_error());
	return fe_check(h, md, base - base % align, 2 * align, "concurrent");
}

/* Edge cases, then random requests; every read checked against the model. */
static int fe_body(struct nbd_handle *h, struct fe_model *md, uint64_t *rng)
{
	static const struct {
		uint64_t off;
		uint32_t len;
	} edges[] = {
		{ 511, 1 },
		{ 3, 4097 },
		{ 0, 1 },
		{ 1, 511 },
		{ 4095, 513 },
		{ 4093, 8193 },
		{ 512, 512 },
		{ 7, 65537 },
		{ 100000, 3 },
		{ 131071, 2 },
		{ FE_SIZE - 3, 3 },
		{ FE_SIZE - 4097, 4097 },
		{ 1u << 20, 1 },
		{ (1u << 20) - 1, 2 },
		/* more than a bounce piece (256 KiB): pieces in flight together, FUA or not */
		{ 8192, (3u << 20) + 4096 },
		{ 307200, 307200 },
		{ 1536, (1u << 20) + 1000 },
	};
	uint32_t align;
	int64_t v;

	CHECK(nbd_get_size(h) == FE_SIZE, "size %" PRId64, nbd_get_size(h));
	CHECK(nbd_can_multi_conn(h) == 1 && nbd_can_fua(h) == 1 && nbd_can_flush(h) == 1 &&
		      nbd_can_zero(h) == 1,
	      "multi-conn, fua, flush and zero advertised");
	v = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	CHECK(v >= 512 && v <= 4096, "minimum block size %" PRId64, v);
	align = (uint32_t)v;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint64_t start = edges[i].off - edges[i].off % 8192;
		uint64_t n = 16384 + (uint64_t)edges[i].len;

		if (fe_write(h, md, rng, edges[i].off, edges[i].len,
			     i % 3 ? 0 : LIBNBD_CMD_FLAG_FUA))
			return T_FAIL;
		if (fe_check(h, md, start, (uint32_t)(n < FE_SIZE - start ? n : FE_SIZE - start),
			     "edge"))
			return T_FAIL;
	}
	for (int i = 0; i < 1500; i++) {
		uint64_t r = fe_rng(rng), off = fe_rng(rng) % FE_SIZE;
		uint32_t len = (uint32_t)(fe_rng(rng) % (r & 16 ? 70000 : 1500)) + 1;

		if (len > FE_SIZE - off)
			len = (uint32_t)(FE_SIZE - off);
		switch (r % 8) {
		case 0: /* zero: reads back as zeroes */
			CHECK(nbd_zero(h, len, off, r & 8 ? LIBNBD_CMD_FLAG_NO_HOLE : 0) == 0,
			      "zero %u at %" PRIu64 ": %s", len, off, nbd_get_error());
			memset(md->m + off, 0, len);
			memset(md->known + off, 1, len);
			break;
		case 1: /* trim: contents undefined until written */
			CHECK(nbd_trim(h, len, off, 0) == 0, "trim %u at %" PRIu64 ": %s", len, off,
			      nbd_get_error());
			memset(md->known + off, 0, len);
			break;
		case 2:
		case 3:
			if (fe_check(h, md, off, len, "random read"))
				return T_FAIL;
			break;
		case 4:
			if (fe_concurrent(h, md, rng, align))
				return T_FAIL;
			break;
		case 5:
			CHECK(nbd_flush(h, 0) == 0, "flush: %s", nbd_get_error());
			break;
		default:
			if (fe_write(h, md, rng, off, len, r & 32 ? LIBNBD_CMD_FLAG_FUA : 0))
				return T_FAIL;
		}
	}
	for (int i = 0; i < 200; i++)
		if (fe_concurrent(h, md, rng, align))
			return T_FAIL;
	return fe_check(h, md, 0, FE_SIZE, "whole device");
}

/* Serve PARAMS, run the body, stop cleanly; serve again and compare (persistent devices). */
static int fe_run(const char *name, const char *const *params, bool persistent, const char *dir,
		  uint64_t seed)
{
	struct fe_model md = { calloc(FE_SIZE, 1), malloc(FE_SIZE) };
	char sock[256], pidfile[256];
	struct nbd_handle *h = NULL;
	uint64_t rng = seed * 2654435761u + 1;
	int rc = T_FAIL, status;
	pid_t pid;

	if (!md.m || !md.known)
		goto out;
	memset(md.known, 1, FE_SIZE);
	snprintf(sock, sizeof(sock), "%s/nbd.sock", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/nbdkit.pid", dir);
	pid = fe_nbdkit_start(sock, pidfile, params);
	if (pid < 0)
		goto out;
	h = fe_connect(sock);
	rc = h ? fe_body(h, &md, &rng) : T_FAIL;
	nbd_close(h);
	status = fe_nbdkit_stop(pid, SIGTERM);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "%s: nbdkit did not exit cleanly on SIGTERM (status %#x)\n", name,
			status);
		rc = T_FAIL;
	}
	if (rc == T_PASS && persistent) {
		pid = fe_nbdkit_start(sock, pidfile, params);
		h = pid > 0 ? fe_connect(sock) : NULL;
		rc = h ? fe_check(h, &md, 0, FE_SIZE, "after a restart") : T_FAIL;
		nbd_close(h);
		fe_nbdkit_stop(pid, SIGTERM);
	}
	fprintf(stderr, "%s: %s (seed %" PRIu64 ")\n", name, rc ? "FAIL" : "ok", seed);
out:
	free(md.m);
	free(md.known);
	return rc;
}

static int fe_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
	char dir[] = "/tmp/rawio-fe-unaligned.XXXXXX", file[128], cache[128], backing[128];
	char p_file[160], p_cache[160], p_backing[160];
	struct rawio_cache_format_opts fo = { .size = sizeof(fo), .segment_size = 64 << 10 };
	struct rawio_dev *cd = NULL, *bd = NULL;
	int rc = T_FAIL;

	if (fe_available())
		return T_SKIP;
	if (!mkdtemp(dir)) {
		perror(dir);
		return T_FAIL;
	}
	snprintf(file, sizeof(file), "%s/file.img", dir);
	snprintf(cache, sizeof(cache), "%s/cache.img", dir);
	snprintf(backing, sizeof(backing), "%s/backing.img", dir);
	if (fe_file(file, FE_SIZE) || fe_file(cache, 4u << 20) || fe_file(backing, FE_SIZE))
		goto out;
	if (rawio_dev_open(&cd, cache, NULL) || rawio_dev_open(&bd, backing, NULL) ||
	    rawio_cache_format(cd, bd, &fo)) {
		fprintf(stderr, "cannot format the cache\n");
		goto out;
	}
	rawio_dev_close(cd);
	rawio_dev_close(bd);
	cd = bd = NULL;
	snprintf(p_file, sizeof(p_file), "dev=%s", file);
	snprintf(p_cache, sizeof(p_cache), "cache=%s", cache);
	snprintf(p_backing, sizeof(p_backing), "backing=%s", backing);
	{
		const char *mem[] = { "dev=mem:8m", NULL };
		const char *f[] = { p_file, NULL };
		const char *c[] = { p_cache, p_backing, "nr_batched_migration=4", NULL };

		rc = fe_run("mem", mem, false, dir, seed);
		if (rc == T_PASS)
			rc = fe_run("file", f, true, dir, seed + 1);
		if (rc == T_PASS)
			rc = fe_run("cache", c, true, dir, seed + 2);
	}
out:
	rawio_dev_close(cd);
	rawio_dev_close(bd);
	unlink(file);
	unlink(cache);
	unlink(backing);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/nbd.sock", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/nbdkit.pid", dir);
		unlink(p);
	}
	rmdir(dir);
	if (rc)
		fprintf(stderr, "replay: %s %" PRIu64 "\n", argv[0], seed);
	return rc;
}
