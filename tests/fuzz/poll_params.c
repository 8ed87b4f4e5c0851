// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the simulator's parameter text (rawio pollsim --params). What
 * parses must format and parse back to the same values; the input buffer has
 * no NUL (ASan sees an overread). Built with libFuzzer by the fuzz preset;
 * otherwise replay.c's main() replays the corpus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/pollsim.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rawio_pollsim_wake w[4], w2[4];
	struct rawio_pollsim_params p, q;
	char err[256], *buf = malloc(size ? size : 1), *text;
	int ret, len;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	rawio_pollsim_params_default(&p);
	ret = rawio_pollsim_params_parse(&p, w, 4, buf, size, "fuzz", err, sizeof(err));
	free(buf);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -E2BIG);
	if (ret) {
		FUZZ_CHECK(!strncmp(err, "fuzz:", 5));
		return 0;
	}
	FUZZ_CHECK(p.wake_nr <= 4);
	len = rawio_pollsim_params_format(&p, NULL, 0);
	FUZZ_CHECK(len > 0);
	text = malloc((size_t)len + 1);
	FUZZ_CHECK(text);
	FUZZ_CHECK(rawio_pollsim_params_format(&p, text, (size_t)len + 1) == len);
	rawio_pollsim_params_default(&q);
	FUZZ_CHECK(rawio_pollsim_params_parse(&q, w2, 4, text, (size_t)len, "back", err,
					      sizeof(err)) == 0);
	FUZZ_CHECK(q.io_ns == p.io_ns && q.cs_ns == p.cs_ns && q.irq_ns == p.irq_ns &&
		   q.wake_ns == p.wake_ns && q.poll_ns == p.poll_ns &&
		   q.preempt_ppm == p.preempt_ppm && q.wake_nr == p.wake_nr);
	FUZZ_CHECK(p.preempt_ppm <= 1000000);
	FUZZ_CHECK(!p.wake_nr || !memcmp(w, w2, p.wake_nr * sizeof(w[0])));
	free(text);
	return 0;
}
