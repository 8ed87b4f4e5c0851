// SPDX-License-Identifier: MIT
/*
 * Fuzz target: predictor configuration names ("min:70:10ms", "linux", ...).
 * A name that parses must pass the check, name itself back to an equivalent
 * configuration, and drive a predictor through a few windows without
 * overflow or a crash. Built with libFuzzer by the fuzz preset; otherwise
 * replay.c's main() replays the corpus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/predict.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rawio_poll_cfg c, back;
	struct rawio_poll_pred *p;
	char *s = malloc(size + 1), name[64];
	uint64_t now = 0;

	FUZZ_CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';
	if (rawio_poll_cfg_parse(s, &c)) {
		free(s);
		return 0;
	}
	FUZZ_CHECK(rawio_poll_cfg_check(&c) == 0);
	rawio_poll_cfg_name(&c, name, sizeof(name));
	FUZZ_CHECK(rawio_poll_cfg_parse(name, &back) == 0);
	FUZZ_CHECK(back.rule == c.rule && back.ratio == c.ratio);
	if (c.rule != RAWIO_POLL_RUNMIN && c.rule != RAWIO_POLL_FIXED)
		FUZZ_CHECK(back.period_ns == c.period_ns);
	FUZZ_CHECK(rawio_poll_pred_new(&p, &c) == 0);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t lat = (uint64_t)(i * 2654435761u) % 200000 + (i == 7 ? UINT64_MAX / 2 : 0);
		uint64_t sleep = rawio_poll_predict(p, i & 1, 512u << (i % 9), now);

		FUZZ_CHECK(sleep <= RAWIO_POLL_MAX_LAT_NS * 10 + 10000000000ull);
		rawio_poll_observe(p, i & 1, 512u << (i % 9), lat, sleep, now + lat % 1000000);
		now += 1000000 + (i % 5) * 50000000ull;
	}
	rawio_poll_pred_free(p);
	free(s);
	return 0;
}
