// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the trace parsers (rawio/fio latency logs, blkparse, plain,
 * MSR CSV, and the guesser). The first byte picks the format, the rest is the
 * text, in a buffer of exactly its size (no NUL: ASan sees any overread).
 * Whatever parses must be in range; whatever fails must say where. Built with
 * libFuzzer by the fuzz preset; otherwise replay.c's main() replays the corpus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/pollsim.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rawio_poll_trace t = { 0 };
	enum rawio_poll_trace_fmt fmt;
	char err[256];
	char *buf;
	int ret;

	if (!size)
		return 0;
	fmt = (enum rawio_poll_trace_fmt)(data[0] % RAWIO_TRACE_FMT_NR);
	buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(buf);
	memcpy(buf, data + 1, size - 1);
	ret = rawio_poll_trace_parse(&t, buf, size - 1, fmt, "fuzz", err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENODATA || ret == -E2BIG ||
		   ret == -ENOMEM);
	FUZZ_CHECK(strlen(err) < sizeof(err));
	if (ret == -EINVAL)
		FUZZ_CHECK(!strncmp(err, "fuzz:", 5));
	if (!ret) {
		FUZZ_CHECK(t.nr > 0 && t.nr <= t.cap && t.fmt != RAWIO_TRACE_AUTO);
		for (size_t i = 0; i < t.nr; i++)
			FUZZ_CHECK(t.ios[i].lat_ns <= RAWIO_TRACE_MAX_LAT && t.ios[i].dir <= 1 &&
				   t.ios[i].bytes <= RAWIO_TRACE_MAX_BYTES);
	}
	rawio_poll_trace_free(&t);
	free(buf);
	return 0;
}
