// SPDX-License-Identifier: MIT
/*
 * rawio fsqual [DIR] [--engine aio|uring|all] [--ios N] [--json]: does
 * asynchronous direct I/O stay asynchronous on DIR's filesystem?
 * (rawio_fsqual_run in <rawio/fsqual.h> does the work; docs/fsqual.md
 * explains the rows.)
 *
 * Text output streams a row at a time (a run takes a while); --json prints one
 * object at the end. Exit 0 when every row ran, whatever the verdicts; 1 on
 * bad input (one line on stderr) or when a row or an engine failed; 2 on bad
 * usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rawio/fsqual.h>

#include "cli.h"

#define FSQUAL_KEY "%-24s "

struct fsqual_cli {
	bool json;
	bool header_done;
	const char *dir;
	unsigned ios;
	struct cli_progress pr; /* when the rows do not stream to the terminal */
};

static void fsqual_usage(FILE *f)
{
	fprintf(f, "usage: rawio fsqual [DIR] [--engine aio|uring|all] [--ios N] [--json]\n"
		   "  DIR       a writable directory on the filesystem to qualify (default: .)\n"
		   "  --engine  which engine submits (default: all, i.e. aio then uring)\n"
		   "  --ios     I/Os per row (default 10000; the NOWAIT row does at most 1000)\n"
		   "  --json    one JSON object instead of text\n");
}

static const char *fsqual_yn(bool b)
{
	return b ? "yes" : "no";
}

/* "950 us", "2.1 ms", "1.20 s". */
static const char *fsqual_dur(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000000ull)
		snprintf(buf, len, "%llu us", (unsigned long long)(ns / 1000));
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

static void fsqual_print_header(const struct rawio_fsqual_report *rep, const char *dir)
{
	printf(FSQUAL_KEY "%s\n", "directory:", dir);
	printf(FSQUAL_KEY "%u (%s)\n", "memory DMA alignment:", rep->mem_align,
	       rawio_align_source_name(rep->align_source));
	printf(FSQUAL_KEY "%u\n", "disk DMA alignment:", rep->disk_align);
	printf(FSQUAL_KEY "%u\n", "filesystem block size:", rep->fs_block_size);
	if (rep->disk[0])
		printf(FSQUAL_KEY "%s (on %s)\n", "filesystem type:", rep->fs_type, rep->disk);
	else
		printf(FSQUAL_KEY "%s\n", "filesystem type:", rep->fs_type);
	printf(FSQUAL_KEY "%s\n", "kernel version:", rep->kernel_release);
	if (rep->meaningless)
		printf("WARNING: %s never sleeps in direct I/O (it is a memory copy): "
		       "the verdicts below mean nothing; qualify the filesystem you will use\n",
		       rep->fs_type);
}

static void fsqual_print_row(const struct rawio_fsqual_report *rep,
			     const struct rawio_fsqual_row *row)
{
	char desc[160], a[32], b[32], c[32];

	rawio_fsqual_row_describe(row, desc, sizeof(desc));
	if (row->kind == RAWIO_FSQUAL_NOWAIT) {
		printf("RWF_NOWAIT writes answered EAGAIN (%s, %llu writes %llu us apart): ", desc,
		       (unsigned long long)row->ios, (unsigned long long)row->gap_us);
		if (row->verdict == RAWIO_FSQUAL_FAILED)
			printf("failed: %s\n", rawio_strerror(row->err));
		else if (row->err)
			printf("all refused: %s (%s)\n", rawio_strerror(row->err),
			       rawio_fsqual_verdict_name(row->verdict));
		else
			printf("%llu (%s)\n", (unsigned long long)row->eagain,
			       rawio_fsqual_verdict_name(row->verdict));
	} else {
		printf("context switch per %s io (%s): ",
		       row->kind == RAWIO_FSQUAL_READ ? "read" : "write", desc);
		if (row->verdict == RAWIO_FSQUAL_FAILED)
			printf("failed after %llu I/Os: %s\n", (unsigned long long)row->ios,
			       rawio_strerror(row->err));
		else if (row->verdict == RAWIO_FSQUAL_SKIPPED)
			printf("- (skipped: %s)\n", rawio_strerror(row->err));
		else
			printf("%.4g (%s)\n", row->ctxsw_per_io,
			       rawio_fsqual_verdict_name(row->verdict));
	}
	if (!row->ios)
		return;
	printf("    submit avg %s max %s; latency avg %s p99 %s; page cache %llu of %llu pages%s\n",
	       fsqual_dur(row->submit_ns_avg, a, sizeof(a)),
	       fsqual_dur(row->submit_ns_max, b, sizeof(b)),
	       fsqual_dur(row->lat_ns_avg, c, sizeof(c)),
	       fsqual_dur(row->lat_ns_p99, desc, sizeof(desc)),
	       (unsigned long long)row->cached_pages, (unsigned long long)row->file_pages,
	       row->cached_pages && !rep->meaningless ? " (BAD: went through the page cache)" : "");
	if (!strcmp(rep->engine, "uring")) {
		if (rawio_fsqual_row_punted(row))
			printf("    punted to io-wq: %u workers, %llu wake-ups, %s CPU\n",
			       row->iowq_workers, (unsigned long long)row->iowq_switches,
			       fsqual_dur(row->iowq_cpu_ns, a, sizeof(a)));
		else
			printf("    punted to io-wq: no\n");
	}
}

static void fsqual_print_traits(const struct rawio_fsqual_report *rep)
{
	struct rawio_fs_traits t;

	rawio_fsqual_traits(rep, &t);
	printf("traits for %s: append_challenged=%s append_concurrency=%u nowait_writes=%s",
	       rep->engine, fsqual_yn(t.append_challenged), t.append_concurrency,
	       fsqual_yn(t.nowait_writes));
	if (rep->meaningless)
		printf(" (the table's: nothing measured)\n");
	else
		printf(" (table: %s, %u, %s)\n", fsqual_yn(rep->table.append_challenged),
		       rep->table.append_concurrency, fsqual_yn(rep->table.nowait_writes));
}

static void fsqual_row_done(void *arg, const struct rawio_fsqual_report *rep, unsigned i)
{
	struct fsqual_cli *cli = arg;

	cli_progress(&cli->pr, "fsqual %s: %u of %u rows, %.0fs", rep->engine, i + 1,
		     RAWIO_FSQUAL_NR_ROWS, cli_progress_elapsed(&cli->pr));
	if (cli->json)
		return;
	if (i == 0) {
		if (!cli->header_done)
			fsqual_print_header(rep, cli->dir);
		cli->header_done = true;
		printf(FSQUAL_KEY "%s (set up as for the deepest row)\n",
		       "engine:", rep->engine_desc);
	}
	fsqual_print_row(rep, &rep->rows[i]);
	fflush(stdout);
}

static cJSON *fsqual_json_traits(const struct rawio_fs_traits *t)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "append_challenged", t->append_challenged);
	cJSON_AddNumberToObject(o, "append_concurrency", t->append_concurrency);
	cJSON_AddBoolToObject(o, "fsync_is_exclusive", t->fsync_is_exclusive);
	cJSON_AddBoolToObject(o, "nowait_reads", t->nowait_reads);
	cJSON_AddBoolToObject(o, "nowait_writes", t->nowait_writes);
	cJSON_AddBoolToObject(o, "dio_never_blocks", t->dio_never_blocks);
	return o;
}

static cJSON *fsqual_json_row(const struct rawio_fsqual_report *rep,
			      const struct rawio_fsqual_row *row)
{
	cJSON *o = cJSON_CreateObject(), *l, *w;
	char desc[160];

	if (!o)
		return NULL;
	rawio_fsqual_row_describe(row, desc, sizeof(desc));
	cJSON_AddStringToObject(o, "id", row->id);
	cJSON_AddStringToObject(o, "kind", rawio_fsqual_kind_name(row->kind));
	cJSON_AddStringToObject(o, "description", desc);
	cJSON_AddBoolToObject(o, "size_changing", row->kind == RAWIO_FSQUAL_APPEND);
	cJSON_AddNumberToObject(o, "depth", row->depth);
	cJSON_AddNumberToObject(o, "io_size", row->io_size);
	cJSON_AddBoolToObject(o, "dsync", row->dsync);
	cJSON_AddNumberToObject(o, "ios", (double)row->ios);
	cJSON_AddNumberToObject(o, "submits", (double)row->submits);
	cJSON_AddNumberToObject(o, "ctxsw", (double)row->ctxsw);
	cJSON_AddNumberToObject(o, "ctxsw_per_io", row->ctxsw_per_io);
	cJSON_AddNumberToObject(o, "submit_us_avg", (double)row->submit_ns_avg / 1e3);
	cJSON_AddNumberToObject(o, "submit_us_max", (double)row->submit_ns_max / 1e3);
	l = cJSON_AddObjectToObject(o, "latency_us");
	if (l) {
		cJSON_AddNumberToObject(l, "avg", (double)row->lat_ns_avg / 1e3);
		cJSON_AddNumberToObject(l, "p50", (double)row->lat_ns_p50 / 1e3);
		cJSON_AddNumberToObject(l, "p99", (double)row->lat_ns_p99 / 1e3);
		cJSON_AddNumberToObject(l, "max", (double)row->lat_ns_max / 1e3);
	}
	cJSON_AddNumberToObject(o, "file_pages", (double)row->file_pages);
	cJSON_AddNumberToObject(o, "cached_pages", (double)row->cached_pages);
	if (!strcmp(rep->engine, "uring")) {
		w = cJSON_AddObjectToObject(o, "iowq");
		if (w) {
			cJSON_AddBoolToObject(w, "punted", rawio_fsqual_row_punted(row));
			cJSON_AddNumberToObject(w, "workers", row->iowq_workers);
			cJSON_AddNumberToObject(w, "switches", (double)row->iowq_switches);
			cJSON_AddNumberToObject(w, "cpu_ms", (double)row->iowq_cpu_ns / 1e6);
		}
	} else {
		cJSON_AddNullToObject(o, "iowq");
	}
	if (row->kind == RAWIO_FSQUAL_NOWAIT) {
		cJSON_AddNumberToObject(o, "eagain", (double)row->eagain);
		cJSON_AddNumberToObject(o, "gap_us", (double)row->gap_us);
	}
	if (row->err)
		cJSON_AddStringToObject(o, "error", rawio_strerror(row->err));
	else
		cJSON_AddNullToObject(o, "error");
	cJSON_AddStringToObject(o, "verdict", rawio_fsqual_verdict_name(row->verdict));
	return o;
}

static void fsqual_json_header(cJSON *o, const struct rawio_fsqual_report *rep, const char *dir)
{
	cJSON_AddStringToObject(o, "directory", dir);
	cJSON_AddNumberToObject(o, "mem_align", rep->mem_align);
	cJSON_AddNumberToObject(o, "disk_align", rep->disk_align);
	cJSON_AddStringToObject(o, "align_source", rawio_align_source_name(rep->align_source));
	cJSON_AddNumberToObject(o, "fs_block_size", rep->fs_block_size);
	cJSON_AddStringToObject(o, "fs_type", rep->fs_type);
	if (rep->disk[0])
		cJSON_AddStringToObject(o, "disk", rep->disk);
	else
		cJSON_AddNullToObject(o, "disk");
	cJSON_AddStringToObject(o, "kernel_release", rep->kernel_release);
	cJSON_AddBoolToObject(o, "tmpfile", rep->tmpfile);
	cJSON_AddBoolToObject(o, "meaningful", !rep->meaningless);
	if (rep->meaningless)
		cJSON_AddStringToObject(o, "warning",
					"direct I/O never sleeps on this filesystem: the verdicts "
					"mean nothing");
	else
		cJSON_AddNullToObject(o, "warning");
	cJSON_AddItemToObject(o, "table_traits", fsqual_json_traits(&rep->table));
}

static cJSON *fsqual_json_run(const struct rawio_fsqual_report *rep)
{
	cJSON *o = cJSON_CreateObject(), *rows;
	struct rawio_fs_traits t;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "engine", rep->engine);
	cJSON_AddStringToObject(o, "engine_desc", rep->engine_desc);
	rows = cJSON_AddArrayToObject(o, "rows");
	for (unsigned i = 0; rows && i < rep->nr_rows; i++)
		cJSON_AddItemToArray(rows, fsqual_json_row(rep, &rep->rows[i]));
	rawio_fsqual_traits(rep, &t);
	cJSON_AddItemToObject(o, "traits", fsqual_json_traits(&t));
	return o;
}

/* Did every row of REP run? */
static bool fsqual_all_ran(const struct rawio_fsqual_report *rep)
{
	for (unsigned i = 0; i < rep->nr_rows; i++)
		if (rep->rows[i].verdict == RAWIO_FSQUAL_FAILED)
			return false;
	return rep->nr_rows == RAWIO_FSQUAL_NR_ROWS;
}

int cmd_fsqual(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "ios", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const all[] = { "aio", "uring" };
	static struct rawio_fsqual_report rep;
	struct fsqual_cli cli = { .dir = "." };
	struct rawio_fsqual_opts opts;
	const char *engine = "all";
	cJSON *json = NULL, *runs = NULL;
	char errbuf[512];
	int c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:n:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine = optarg;
			break;
		case 'n':
			if (cli_uint("--ios", optarg, 1, 10000000, &cli.ios))
				return 2;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			fsqual_usage(stdout);
			return 0;
		default:
			fsqual_usage(stderr);
			return 2;
		}
	}
	if (strcmp(engine, "aio") && strcmp(engine, "uring") && strcmp(engine, "all")) {
		cli_err("--engine: '%s' is not aio, uring or all", engine);
		return 2;
	}
	if (argc - optind > 1) {
		cli_err("expected at most one DIR");
		fsqual_usage(stderr);
		return 2;
	}
	if (argc - optind == 1)
		cli.dir = argv[optind];

	if (cli.json) {
		json = cJSON_CreateObject();
		runs = json ? cJSON_CreateArray() : NULL;
		if (!runs) {
			cJSON_Delete(json);
			cli_err("out of memory");
			return 1;
		}
	}
	/* On a terminal the text rows are the progress; JSON or a pipe shows nothing until the end. */
	cli_progress_init(&cli.pr, cli.json || !isatty(STDOUT_FILENO));
	for (size_t i = 0; i < 2; i++) {
		const char *name = strcmp(engine, "all") ? engine : all[i];
		int ret;

		if (i && strcmp(engine, "all"))
			break;
		memset(&opts, 0, sizeof(opts));
		opts.size = sizeof(opts);
		opts.engine = name;
		opts.ios = cli.ios;
		opts.row_done = fsqual_row_done;
		opts.arg = &cli;
		errbuf[0] = '\0';
		opts.errbuf = errbuf;
		opts.errbuf_len = sizeof(errbuf);
		ret = rawio_fsqual_run(cli.dir, &opts, &rep);
		if (ret) {
			cli_progress_done(&cli.pr, NULL);
			cli_err("%s", errbuf[0] ? errbuf : rawio_strerror(ret));
			status = 1;
			/* Bad input is the same for every engine: stop at the first. */
			if (!rep.fs_type[0])
				break;
			continue;
		}
		if (!fsqual_all_ran(&rep))
			status = 1;
		if (cli.json) {
			if (!cJSON_GetObjectItem(json, "directory"))
				fsqual_json_header(json, &rep, cli.dir);
			cJSON_AddItemToArray(runs, fsqual_json_run(&rep));
		} else {
			fsqual_print_traits(&rep);
		}
	}
	cli_progress_done(&cli.pr, NULL);
	if (cli.json) {
		if (cJSON_GetObjectItem(json, "directory")) {
			cJSON_AddItemToObject(json, "runs", runs);
			cli_json_print(json);
		} else {
			cJSON_Delete(runs);
			cJSON_Delete(json);
		}
	}
	return status;
}
