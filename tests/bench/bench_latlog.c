// SPDX-License-Identifier: MIT
/*
 * The latency log written by a run, parsed back with
 * rawio_bench_lat_log_parse, matches the run: one line per counted I/O, per
 * direction, in time order, sizes and offsets in the region; a one-pass
 * random run touches every block exactly once. The parser also takes fio's
 * own log lines and refuses what is not one.
 */
#include <rawio/bench.h>

#include "harness.h"

#define BS     4096u
#define REGION (8u << 20)

struct counts {
	uint64_t lines, dir[2], bad_size, bad_off, backwards;
	uint64_t last_ms;
	unsigned char *seen;
	uint64_t dup;
};

static int read_log(const char *path, struct counts *c)
{
	char line[256];
	FILE *f = fopen(path, "r");

	CHECK(f, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		struct rawio_bench_lat_entry e;

		CHECK(rawio_bench_lat_log_parse(line, &e) == 0, "line %llu: '%s'",
		      (unsigned long long)c->lines + 1, line);
		c->lines++;
		CHECK(e.dir < 2, "direction %u", e.dir);
		c->dir[e.dir]++;
		c->bad_size += e.size != BS;
		c->bad_off += e.off % BS || e.off >= REGION;
		c->backwards += e.time_ms < c->last_ms;
		c->last_ms = e.time_ms;
		if (c->seen && e.off < REGION) {
			c->dup += c->seen[e.off / BS];
			c->seen[e.off / BS] = 1;
		}
	}
	fclose(f);
	return T_PASS;
}

static int run(struct rawio_bench_opts *o, struct rawio_bench_result *r, const char *log)
{
	char err[512] = "";
	int ret;

	o->size = sizeof(*o);
	o->engine = "mem";
	o->bs = BS;
	o->region = REGION;
	o->lat_log = log;
	o->errbuf = err;
	o->errbuf_len = sizeof(err);
	ret = rawio_bench_run(o, r);
	CHECK(ret == 0, "run: %s (%s)", rawio_strerror(ret), err);
	return T_PASS;
}

int main(void)
{
	static struct rawio_bench_result r;
	struct rawio_bench_lat_entry e;
	struct counts c = { 0 };
	char log[128];

	t_scratch(log, sizeof(log), "latlog");

	/* One pass of random reads: every block once, every line one I/O. */
	{
		struct rawio_bench_opts o = { .rw = RAWIO_BENCH_RANDREAD, .qd = 8 };

		if (run(&o, &r, log))
			return T_FAIL;
		c.seen = calloc(REGION / BS, 1);
		CHECK(c.seen, "calloc");
		if (read_log(log, &c))
			return T_FAIL;
		CHECK(r.ios == REGION / BS, "one pass did %llu I/Os", (unsigned long long)r.ios);
		CHECK(c.lines == r.ios && r.lat_log_lines == r.ios, "%llu lines, %llu I/Os",
		      (unsigned long long)c.lines, (unsigned long long)r.ios);
		CHECK(c.dir[0] == r.ios && !c.dir[1], "directions");
		CHECK(!c.bad_size && !c.bad_off, "sizes or offsets off");
		CHECK(!c.dup, "%llu blocks twice in one pass", (unsigned long long)c.dup);
		CHECK(!c.backwards, "time goes backwards");
		free(c.seen);
	}

	/* Time based, two jobs, mixed: per-direction counts match, merged in time order. */
	{
		struct rawio_bench_opts o = { .rw = RAWIO_BENCH_RANDRW,
					      .qd = 4,
					      .jobs = 2,
					      .runtime_ns = 200000000,
					      .ramp_ns = 50000000,
					      .rwmix_read = 70 };

		memset(&c, 0, sizeof(c));
		if (run(&o, &r, log))
			return T_FAIL;
		if (read_log(log, &c))
			return T_FAIL;
		/* How many I/Os fit in 200 ms depends on the machine's load: only "some". */
		CHECK(r.ios > 0, "no I/O in a 200 ms run");
		CHECK(c.lines == r.ios, "%llu lines, %llu I/Os", (unsigned long long)c.lines,
		      (unsigned long long)r.ios);
		CHECK(c.dir[0] == r.dir[0].ios && c.dir[1] == r.dir[1].ios,
		      "reads %llu/%llu writes %llu/%llu", (unsigned long long)c.dir[0],
		      (unsigned long long)r.dir[0].ios, (unsigned long long)c.dir[1],
		      (unsigned long long)r.dir[1].ios);
		CHECK(r.ios < 200 || c.dir[0] > c.dir[1],
		      "a 70%% read mix read less than it wrote");
		CHECK(!c.backwards, "jobs not merged in time order");
		CHECK(c.last_ms <= 200, "a line at %llu ms of a 200 ms window",
		      (unsigned long long)c.last_ms);
	}
	unlink(log);

	/* fio 3.33's own lines (log_offset=1, and without it), and garbage. */
	CHECK(rawio_bench_lat_log_parse("12, 27040, 1, 4096, 61440, 0\n", &e) == 0 &&
		      e.time_ms == 12 && e.lat_ns == 27040 && e.dir == 1 && e.size == 4096 &&
		      e.off == 61440,
	      "fio line with offset");
	CHECK(rawio_bench_lat_log_parse("0, 2474, 0, 4096\n", &e) == 0 && e.off == 0,
	      "four columns");
	CHECK(rawio_bench_lat_log_parse("", &e) == -EINVAL, "empty line");
	CHECK(rawio_bench_lat_log_parse("a, b, c\n", &e) == -EINVAL, "letters");
	CHECK(rawio_bench_lat_log_parse("1, 2, 7, 4096, 0, 0\n", &e) == -EINVAL, "direction 7");
	CHECK(rawio_bench_lat_log_parse("1, 2, 0, 4096, 0, 0, 9\n", &e) == -EINVAL, "7 columns");
	CHECK(rawio_bench_lat_log_parse("1, 2, 0\n", &e) == -EINVAL, "3 columns");
	CHECK(rawio_bench_lat_log_parse("1, 2, 0, 4096 x\n", &e) == -EINVAL, "trailing junk");
	printf("PASS\n");
	return T_PASS;
}
