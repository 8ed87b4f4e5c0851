// SPDX-License-Identifier: MIT
/*
 * Engine "auto"'s rule (src/engine/auto_rule.h) on made-up device traits:
 * each case names the traits, the depth and the engine a storage engineer
 * would expect, and the reason must say why. Then the public
 * rawio_engine_choose on a real RAM device, which needs no probe.
 */
#include "harness.h"

#include "../../src/engine/auto_rule.h"

struct rule_case {
	const char *name;
	struct auto_traits t;
	const char *engine;
	const char *why; /* a phrase the reason must contain */
};

/* An O_DIRECT file with NOWAIT reads and fsqual's verdicts (1 ok, 0 stall, -1 none). */
#define FSQ(uring, aio, depth)                                                          \
	{                                                                               \
		.kind = RAWIO_DEV_FILE, .direct = true, .nowait = true, .cached = true, \
		.v = { .have_uring = (uring) >= 0,                                      \
		       .uring_reads_ok = (uring) > 0,                                   \
		       .have_aio = (aio) >= 0,                                          \
		       .aio_reads_ok = (aio) > 0 },                                     \
		.qd = (depth)                                                           \
	}

static const struct rule_case cases[] = {
	{ "RAM device", { .kind = RAWIO_DEV_MEM, .direct = true, .qd = 32 }, "mem", "RAM" },
	{ "NBD export", { .kind = RAWIO_DEV_NBD, .direct = true, .qd = 1 }, "nbd", "libnbd" },
	{ "RBD image", { .kind = RAWIO_DEV_RBD, .direct = true, .qd = 1 }, "rbd", "librbd" },
	{ "buffered file, depth 1", { .kind = RAWIO_DEV_FILE, .qd = 1 }, "sync", "page cache" },
	{ "buffered file, depth 32",
	  { .kind = RAWIO_DEV_FILE, .qd = 32 },
	  "threads",
	  "thread pool" },
	/* ext4 with O_DIRECT: NOWAIT reads work, io_uring issues inline at any depth. */
	{ "ext4 file, depth 1",
	  { .kind = RAWIO_DEV_FILE, .direct = true, .nowait = true, .qd = 1 },
	  "uring",
	  "NOWAIT reads work" },
	{ "ext4 file, depth 32, fsqual ok", FSQ(1, 1, 32), "uring",
	  "fsqual (cached): uring reads ok" },
	/* zram (no NOWAIT): one blocking pread at depth 1, io-wq measured at depth. */
	{ "zram, depth 1",
	  { .kind = RAWIO_DEV_BLOCK, .direct = true, .qd = 1 },
	  "sync",
	  "blocking pread" },
	{ "zram, depth 32",
	  { .kind = RAWIO_DEV_BLOCK, .direct = true, .qd = 32 },
	  "uring",
	  "IOSQE_ASYNC" },
	{ "zram, depth 0 (32)", { .kind = RAWIO_DEV_BLOCK, .direct = true }, "uring", "io-wq" },
	/* fsqual found io_uring reads stall on this file: aio at depth, sync at depth 1. */
	{ "file, uring stalls, depth 32", FSQ(0, 1, 32), "aio", "uring reads stall, aio reads ok" },
	{ "file, uring stalls, no aio verdict, depth 32", FSQ(0, -1, 32), "aio", "aio reads ?" },
	{ "file, uring stalls, depth 1", FSQ(0, -1, 1), "sync", "blocking pread" },
	{ "file, both stall, depth 32", FSQ(0, 0, 32), "threads", "aio stalls" },
	/* A file without NOWAIT and no verdicts: aio at depth (no hand-off). */
	{ "file without NOWAIT, depth 8",
	  { .kind = RAWIO_DEV_FILE, .direct = true, .qd = 8 },
	  "aio",
	  "aio submits without a hand-off" },
};

int main(void)
{
	struct rawio_engine_choice ch;
	struct rawio_dev *dev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rule_case *c = &cases[i];

		memset(&ch, 0x5a, sizeof(ch));
		auto_rule(&c->t, &ch);
		CHECK(!strcmp(ch.engine, c->engine), "%s: picked %s, expected %s (%s)", c->name,
		      ch.engine, c->engine, ch.why);
		CHECK(strstr(ch.why, c->why), "%s: the reason '%s' does not say '%s'", c->name,
		      ch.why, c->why);
		CHECK(ch.from_cache == c->t.cached, "%s: from_cache %d", c->name, ch.from_cache);
	}
	CHECK_OK(rawio_dev_open(&dev, "mem:1m", NULL));
	CHECK_OK(rawio_engine_choose(dev, 32, &ch));
	rawio_dev_close(dev);
	CHECK(!strcmp(ch.engine, "mem"), "mem:1m: picked %s (%s)", ch.engine, ch.why);
	return T_PASS;
}
