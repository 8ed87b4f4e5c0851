// SPDX-License-Identifier: MIT
/*
 * The simulator's model parameters as text: what rawio pollsim --calibrate
 * measured on this machine, read back for later runs. The text is external
 * input: every line is parsed within its bounds and every number range-checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rawio/pollsim.h>

#define PARAMS_MAX_NS (3600ull * 1000000000ull)

int rawio_pollsim_params_format(const struct rawio_pollsim_params *par, char *buf, size_t len)
{
	char scratch[1];
	size_t n = 0;
	int w;

	if (!par || (len && !buf) || (par->wake_nr && !par->wake))
		return -EINVAL;
	if (!buf) {
		/* Measuring only: snprintf into nothing. */
		buf = scratch;
		len = 0;
	}
#define PARAMS_PUT(...)                                                                      \
	do {                                                                                 \
		w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__); \
		if (w < 0)                                                                   \
			return -EINVAL;                                                      \
		n += (size_t)w;                                                              \
	} while (0)
	PARAMS_PUT("# rawio pollsim model parameters (ns)\n");
	PARAMS_PUT("io_ns %llu\ncs_ns %llu\nirq_ns %llu\nwake_ns %llu\npoll_ns %llu\n"
		   "preempt_ppm %llu\n",
		   (unsigned long long)par->io_ns, (unsigned long long)par->cs_ns,
		   (unsigned long long)par->irq_ns, (unsigned long long)par->wake_ns,
		   (unsigned long long)par->poll_ns, (unsigned long long)par->preempt_ppm);
	for (size_t i = 0; i < par->wake_nr; i++) {
		PARAMS_PUT("wake %llu %llu", (unsigned long long)par->wake[i].sleep_ns,
			   (unsigned long long)par->wake[i].cpu_ns);
		for (unsigned q = 0; q < RAWIO_POLLSIM_WAKE_Q; q++)
			PARAMS_PUT(" %llu", (unsigned long long)par->wake[i].q[q]);
		PARAMS_PUT("\n");
	}
#undef PARAMS_PUT
	return n > (size_t)0x7fffffff ? -EINVAL : (int)n;
}

struct params_ctx {
	const char *name;
	unsigned long long line;
	char *errbuf;
	size_t errlen;
	const char *p, *end; /* the rest of the line */
};

static int params_err(struct params_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int params_err(struct params_ctx *c, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	if (c->errbuf && c->errlen) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(c->errbuf, c->errlen, "%s:%llu: %s", c->name, c->line, msg);
	}
	return -EINVAL;
}

/* The next blank-separated word; false at the end of the line. */
static bool params_word(struct params_ctx *c, const char **w, size_t *wlen)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	if (c->p == c->end)
		return false;
	*w = c->p;
	while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
		c->p++;
	*wlen = (size_t)(c->p - *w);
	return true;
}

static int params_num(struct params_ctx *c, const char *what, uint64_t *out)
{
	const char *w;
	size_t n;
	uint64_t v = 0;

	if (!params_word(c, &w, &n))
		return params_err(c, "%s: missing", what);
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return params_err(c, "%s: '%.*s' is not a number", what,
					  (int)(n > 24 ? 24 : n), w);
		v = v * 10 + (uint64_t)(w[i] - '0');
		if (v > PARAMS_MAX_NS)
			return params_err(c, "%s: more than an hour", what);
	}
	*out = v;
	return 0;
}

static bool params_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !memcmp(w, s, n);
}

int rawio_pollsim_params_parse(struct rawio_pollsim_params *par, struct rawio_pollsim_wake *wake,
			       size_t nr_wake, const char *data, size_t len, const char *name,
			       char *errbuf, size_t errlen)
{
	struct params_ctx c = { .name = name ? name : "params",
				.errbuf = errbuf,
				.errlen = errlen };
	const char *p = data, *end = data + len;
	size_t rows = 0;
	int ret;

	if (!par || (!data && len) || (nr_wake && !wake))
		return -EINVAL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *w;
		uint64_t *field = NULL;
		size_t n;

		c.p = p;
		c.end = nl ? nl : end;
		p = nl ? nl + 1 : end;
		c.line++;
		if (c.end > c.p && c.end[-1] == '\r')
			c.end--;
		if (!params_word(&c, &w, &n) || w[0] == '#')
			continue;
		if (params_is(w, n, "io_ns"))
			field = &par->io_ns;
		else if (params_is(w, n, "cs_ns"))
			field = &par->cs_ns;
		else if (params_is(w, n, "irq_ns"))
			field = &par->irq_ns;
		else if (params_is(w, n, "wake_ns"))
			field = &par->wake_ns;
		else if (params_is(w, n, "poll_ns"))
			field = &par->poll_ns;
		else if (params_is(w, n, "preempt_ppm"))
			field = &par->preempt_ppm;
		if (field) {
			ret = params_num(&c, "value", field);
			if (ret)
				return ret;
			if (field == &par->preempt_ppm && *field > 1000000)
				return params_err(&c, "preempt_ppm: more than 1000000");
		} else if (params_is(w, n, "wake")) {
			struct rawio_pollsim_wake row;

			if (rows == nr_wake) {
				params_err(&c, "more than %zu wake rows", nr_wake);
				return -E2BIG;
			}
			ret = params_num(&c, "sleep", &row.sleep_ns);
			if (!ret)
				ret = params_num(&c, "cpu", &row.cpu_ns);
			for (unsigned q = 0; !ret && q < RAWIO_POLLSIM_WAKE_Q; q++)
				ret = params_num(&c, "quantile", &row.q[q]);
			if (ret)
				return ret;
			if (!row.sleep_ns || (rows && row.sleep_ns <= wake[rows - 1].sleep_ns))
				return params_err(&c,
						  "wake rows must have ascending, non-zero sleeps");
			for (unsigned q = 1; q < RAWIO_POLLSIM_WAKE_Q; q++)
				if (row.q[q] < row.q[q - 1])
					return params_err(&c, "a wake row's quantiles must ascend");
			wake[rows++] = row;
		} else {
			return params_err(&c, "unknown key '%.*s'", (int)(n > 24 ? 24 : n), w);
		}
		if (params_word(&c, &w, &n))
			return params_err(&c, "extra words at the end of the line");
	}
	par->wake = rows ? wake : NULL;
	par->wake_nr = rows;
	return 0;
}
