// SPDX-License-Identifier: MIT
/*
 * Trace parsers: rawio/fio latency logs, blkparse (D2C pairing), plain lists
 * and MSR-Cambridge CSV; format guessing; errors that name the file and line;
 * buffers without a terminating NUL (copied to an exact-size allocation, so
 * ASan sees any overread).
 */
#include <rawio/pollsim.h>

#include "harness.h"

static char err[256];

/* Parse TEXT (its bytes only, no NUL) as FMT into T. */
static int parse(struct rawio_poll_trace *t, const char *text, enum rawio_poll_trace_fmt fmt)
{
	size_t len = strlen(text);
	char *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	memset(t, 0, sizeof(*t));
	err[0] = '\0';
	ret = rawio_poll_trace_parse(t, buf, len, fmt, "t", err, sizeof(err));
	free(buf);
	return ret;
}

static int test_latlog(void)
{
	struct rawio_poll_trace t;

	CHECK_OK(parse(&t,
		       "0, 12000, 0, 4096, 0, 0\n1, 13000, 1, 8192, 4096, 0\n"
		       "2, 9000, 2, 4096, 0, 0\r\n3,14000,0,4096\n# end\n",
		       RAWIO_TRACE_AUTO));
	CHECK(t.fmt == RAWIO_TRACE_LATLOG, "guessed %s", rawio_poll_trace_fmt_name(t.fmt));
	CHECK(t.nr == 3 && t.skipped == 1, "3 I/Os and a trim, got %zu", t.nr);
	CHECK(t.ios[0].lat_ns == 12000 && t.ios[0].dir == 0 && t.ios[0].bytes == 4096, "first");
	CHECK(t.ios[1].lat_ns == 13000 && t.ios[1].dir == 1 && t.ios[1].bytes == 8192 &&
		      t.ios[1].t_ns == 1000000,
	      "second");
	CHECK(t.ios[2].lat_ns == 14000 && t.ios[2].t_ns == 3000000, "fio 2.x: four fields");
	rawio_poll_trace_free(&t);

	CHECK(parse(&t, "0, 1, 0, 4096\n0, abc, 0, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL, "abc");
	CHECK(strstr(err, "t:2:") && strstr(err, "latency"), "error names line 2: %s", err);
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 1, 0\n", RAWIO_TRACE_LATLOG) == -EINVAL, "three fields");
	CHECK(strstr(err, "t:1:"), "%s", err);
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 1, 3, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL, "direction 3");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 1, 0, 4096, 0, 0, 0\n", RAWIO_TRACE_LATLOG) == -EINVAL, "7 fields");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 3600000000001, 0, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL, "an hour");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 99999999999999999999999, 0, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL,
	      "overflow");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 1, 0, 2147483648\n", RAWIO_TRACE_LATLOG) == -EINVAL, "2 GiB");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, -1, 0, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL, "negative");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "0, 1 2, 0, 4096\n", RAWIO_TRACE_LATLOG) == -EINVAL, "two numbers");
	rawio_poll_trace_free(&t);
	return T_PASS;
}

static int test_plain_msr(void)
{
	struct rawio_poll_trace t;

	CHECK_OK(parse(&t, "12.5\n# comment\n\n  7  \n0.0015\n", RAWIO_TRACE_AUTO));
	CHECK(t.fmt == RAWIO_TRACE_PLAIN && t.nr == 3, "plain");
	CHECK(t.ios[0].lat_ns == 12500 && t.ios[1].lat_ns == 7000 && t.ios[2].lat_ns == 1,
	      "microseconds: %llu %llu %llu", (unsigned long long)t.ios[0].lat_ns,
	      (unsigned long long)t.ios[1].lat_ns, (unsigned long long)t.ios[2].lat_ns);
	CHECK(t.ios[0].bytes == 4096 && t.ios[0].dir == 0, "plain: 4 KiB reads");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "1\n2\n12.5us\n", RAWIO_TRACE_PLAIN) == -EINVAL, "a unit");
	CHECK(strstr(err, "t:3:"), "%s", err);
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "1.\n", RAWIO_TRACE_PLAIN) == -EINVAL, "no fraction digits");
	rawio_poll_trace_free(&t);

	CHECK_OK(parse(&t,
		       "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime\n"
		       "128166372003061629,wdev,0,Read,3617894400,4096,2135\n"
		       "128166372003061640,wdev,0,write,0,512,10\n",
		       RAWIO_TRACE_AUTO));
	CHECK(t.fmt == RAWIO_TRACE_MSR && t.nr == 2, "msr");
	CHECK(t.ios[0].lat_ns == 213500 && t.ios[0].dir == 0 && t.ios[0].bytes == 4096, "read");
	CHECK(t.ios[1].lat_ns == 1000 && t.ios[1].dir == 1 && t.ios[1].bytes == 512, "write");
	CHECK(t.ios[1].t_ns == 11 * 100 + 1000, "completion relative to the first issue");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "1,h,0,Trim,0,4096,5\n", RAWIO_TRACE_MSR) == -EINVAL, "trim");
	CHECK(strstr(err, "Type"), "%s", err);
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "1,h,0,Read,0,4096\n", RAWIO_TRACE_MSR) == -EINVAL, "6 fields");
	rawio_poll_trace_free(&t);
	return T_PASS;
}

static int test_blkparse(void)
{
	static const char text[] =
		"  8,0    1        1     0.000000000  1234  Q   R 100 + 8 [fio]\n"
		"  8,0    1        2     0.000001000  1234  D   R 100 + 8 [fio]\n"
		"  8,0    1        3     0.000002000  1234  D   W 200 + 16 [fio]\n"
		"  8,16   1        4     0.000002500  1234  D   R 100 + 8 [fio]\n"
		"  8,0    1        5     0.000051000     0  C   R 100 + 8 [0]\n"
		"  8,0    0        6     0.000102000     0  C   W 200 + 16 [0]\n"
		"  8,0    1        7     0.000200000     0  C   R 999 + 8 [0]\n"
		"  8,0    1        8     0.000300000     0  C  FN [0]\n"
		"  8,0    1        9     0.000300000  1234  D  DS 300 + 8 [fio]\n"
		"  8,0    1       10     0.000400000     0  C  DS 300 + 8 [0]\n"
		"  8,16   1       11     0.000402500     0  C   R 100 + 8 [0]\n"
		"  8,0    1        0     0.000500000     0  m   N cfq workload slice:100\n"
		"CPU1 (8,0):\n"
		" Reads Queued:           1,        4KiB\t Writes Queued:           0,        "
		"0KiB\n"
		"Total (8,0):\n"
		"Throughput (R/W): 0KiB/s / 0KiB/s\n";
	struct rawio_poll_trace t;

	CHECK_OK(parse(&t, text, RAWIO_TRACE_AUTO));
	CHECK(t.fmt == RAWIO_TRACE_BLKPARSE, "guessed %s", rawio_poll_trace_fmt_name(t.fmt));
	CHECK(t.nr == 3, "three D2C pairs, got %zu", t.nr);
	CHECK(t.ios[0].lat_ns == 50000 && t.ios[0].dir == 0 && t.ios[0].bytes == 4096, "read D2C");
	CHECK(t.ios[1].lat_ns == 100000 && t.ios[1].dir == 1 && t.ios[1].bytes == 8192, "write");
	CHECK(t.ios[2].lat_ns == 400000, "the other device's read, paired by device");
	CHECK(t.ios[1].t_ns == 102000, "completion time");
	rawio_poll_trace_free(&t);

	CHECK(parse(&t, "  8,0 1 1 0.1 1 D R 1 + 8 [x]\nhello\n", RAWIO_TRACE_BLKPARSE) == -EINVAL,
	      "a stray line before the summary");
	CHECK(strstr(err, "t:2:"), "%s", err);
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "  8,0 1 1 0.1x 1 D R 1 + 8 [x]\n", RAWIO_TRACE_BLKPARSE) == -EINVAL,
	      "bad time");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "  8,0 1 1 0.1 1 D R 1 - 8 [x]\n", RAWIO_TRACE_BLKPARSE) == -EINVAL,
	      "bad range");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "  8,0 1 1 0.1 1 D R 1 + 8 [x]\n", RAWIO_TRACE_BLKPARSE) == -ENODATA,
	      "no completion: no I/O");
	rawio_poll_trace_free(&t);
	return T_PASS;
}

/* Thousands of dispatches in flight at once, completed in reverse: the pairing table grows. */
static int test_blkparse_many(void)
{
	enum { N = 5000 };
	size_t cap = (size_t)N * 2 * 80, len = 0;
	char *text = malloc(cap);
	struct rawio_poll_trace t;

	CHECK(text, "malloc");
	for (unsigned i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len, "8,0 0 %u 0.%09u 1 D R %u + 8 [x]\n",
					i, i, i * 8);
	for (unsigned i = N; i-- > 0;)
		len += (size_t)snprintf(text + len, cap - len, "8,0 0 %u 1.%09u 0 C R %u + 8 [0]\n",
					N + i, i, i * 8);
	CHECK_OK(parse(&t, text, RAWIO_TRACE_BLKPARSE));
	CHECK(t.nr == N, "%zu pairs", t.nr);
	CHECK(t.ios[0].lat_ns == 1000000000ull, "the last dispatched, first completed");
	rawio_poll_trace_free(&t);
	free(text);
	return T_PASS;
}

static int test_misc(void)
{
	struct rawio_poll_trace t;
	enum rawio_poll_trace_fmt f;
	char path[64];
	FILE *fp;

	CHECK(parse(&t, "", RAWIO_TRACE_AUTO) == -ENODATA, "empty");
	rawio_poll_trace_free(&t);
	CHECK(parse(&t, "# only\n\n", RAWIO_TRACE_AUTO) == -ENODATA, "comments only");
	rawio_poll_trace_free(&t);
	CHECK(rawio_poll_trace_parse(&t, "1\0002\n", 4, RAWIO_TRACE_PLAIN, "t", err, sizeof(err)) ==
		      -EINVAL,
	      "a NUL byte");
	rawio_poll_trace_free(&t);
	/* The last line needs no newline. */
	CHECK_OK(parse(&t, "5\n6", RAWIO_TRACE_PLAIN));
	CHECK(t.nr == 2 && t.ios[1].lat_ns == 6000, "last line");
	/* A second parse appends. */
	CHECK_OK(rawio_poll_trace_parse(&t, "7\n", 2, RAWIO_TRACE_PLAIN, "t", err, sizeof(err)));
	CHECK(t.nr == 3, "appended");
	rawio_poll_trace_free(&t);
	CHECK(t.nr == 0 && !t.ios, "freed");

	CHECK(rawio_poll_trace_fmt_parse("fio", &f) == 0 && f == RAWIO_TRACE_LATLOG, "fio");
	CHECK(rawio_poll_trace_fmt_parse("rawio", &f) == 0 && f == RAWIO_TRACE_LATLOG, "rawio");
	CHECK(rawio_poll_trace_fmt_parse("blkparse", &f) == 0 && f == RAWIO_TRACE_BLKPARSE, "bp");
	CHECK(rawio_poll_trace_fmt_parse("csv", &f) == -EINVAL, "csv");

	/* From a file; errors name the file. */
	snprintf(path, sizeof(path), "scratch-trace-%d.log", (int)getpid());
	fp = fopen(path, "w");
	CHECK(fp, "fopen");
	fputs("0, 1000, 0, 4096, 0, 0\n1, x, 0, 4096, 0, 0\n", fp);
	fclose(fp);
	memset(&t, 0, sizeof(t));
	CHECK(rawio_poll_trace_load(&t, path, RAWIO_TRACE_AUTO, err, sizeof(err)) == -EINVAL,
	      "bad file");
	CHECK(!strncmp(err, path, strlen(path)) && strstr(err, ":2:"), "%s", err);
	rawio_poll_trace_free(&t);
	unlink(path);
	CHECK(rawio_poll_trace_load(&t, path, RAWIO_TRACE_AUTO, err, sizeof(err)) == -ENOENT,
	      "missing file");
	CHECK(strstr(err, path), "%s", err);
	return T_PASS;
}

int main(void)
{
	if (test_latlog() || test_plain_msr() || test_blkparse() || test_blkparse_many() ||
	    test_misc())
		return T_FAIL;
	return T_PASS;
}
