// SPDX-License-Identifier: MIT
/* Model parameters as text: a round trip, and malformed input refused with its line. */
#include <rawio/pollsim.h>

#include "harness.h"

static char err[256];

static int parse(struct rawio_pollsim_params *p, struct rawio_pollsim_wake *w, size_t nr,
		 const char *text)
{
	size_t len = strlen(text);
	char *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len); /* no NUL: ASan sees an overread */
	ret = rawio_pollsim_params_parse(p, w, nr, buf, len, "p", err, sizeof(err));
	free(buf);
	return ret;
}

int main(void)
{
	struct rawio_pollsim_wake w[3], back[4];
	struct rawio_pollsim_params p, q;
	char text[4096], row[512];
	int len;

	rawio_pollsim_params_default(&p);
	p.io_ns = 812;
	p.cs_ns = 15000;
	p.irq_ns = 0;
	p.wake_ns = 17000;
	p.poll_ns = 300;
	p.preempt_ppm = 50000;
	for (unsigned i = 0; i < 3; i++) {
		w[i].sleep_ns = (i + 1) * 10000;
		w[i].cpu_ns = 15000 + i;
		for (unsigned k = 0; k < RAWIO_POLLSIM_WAKE_Q; k++)
			w[i].q[k] = 10000 + i * 1000 + k * 100;
	}
	p.wake = w;
	p.wake_nr = 3;
	len = rawio_pollsim_params_format(&p, NULL, 0);
	CHECK(len > 0 && len < (int)sizeof(text), "length %d", len);
	CHECK(rawio_pollsim_params_format(&p, text, sizeof(text)) == len, "same length");
	CHECK(strlen(text) == (size_t)len, "terminated");
	CHECK(rawio_pollsim_params_format(&p, row, 8) == len && strlen(row) == 7, "truncated");

	rawio_pollsim_params_default(&q);
	CHECK_OK(parse(&q, back, 4, text));
	CHECK(q.io_ns == 812 && q.cs_ns == 15000 && q.irq_ns == 0 && q.wake_ns == 17000, "fields");
	CHECK(q.poll_ns == 300 && q.preempt_ppm == 50000, "spinner fields");
	CHECK(parse(&q, back, 4, "preempt_ppm 1000001\n") == -EINVAL, "more than all of it");
	CHECK(q.wake == back && q.wake_nr == 3, "rows");
	CHECK(!memcmp(back, w, sizeof(w)), "rows round trip");
	CHECK(q.threads == 1, "other fields untouched");

	CHECK(parse(&q, back, 2, text) == -E2BIG, "more rows than room");
	CHECK(parse(&q, back, 4, "io_ns 5\ncs_ns x\n") == -EINVAL && strstr(err, "p:2:"), "%s",
	      err);
	CHECK(parse(&q, back, 4, "io_ns 5 6\n") == -EINVAL, "extra word");
	CHECK(parse(&q, back, 4, "speed 5\n") == -EINVAL, "unknown key");
	CHECK(parse(&q, back, 4, "io_ns 3600000000001\n") == -EINVAL, "over an hour");
	CHECK(parse(&q, back, 4, "wake 1000 5 1 2 3\n") == -EINVAL, "short row");
	snprintf(row, sizeof(row), "wake 1000 5");
	for (unsigned k = 0; k < RAWIO_POLLSIM_WAKE_Q; k++)
		snprintf(row + strlen(row), sizeof(row) - strlen(row), " %u", 100 - k);
	CHECK(parse(&q, back, 4, row) == -EINVAL && strstr(err, "ascend"), "descending: %s", err);
	CHECK_OK(parse(&q, back, 4, "# nothing\n\n  io_ns 7\r\n"));
	CHECK(q.io_ns == 7 && q.wake_nr == 0 && !q.wake, "comments, CRLF");
	return T_PASS;
}
