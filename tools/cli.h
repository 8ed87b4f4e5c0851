/* SPDX-License-Identifier: MIT */
/* Shared helpers for the rawio subcommands. The CLI parses and prints; logic lives in librawio. */
#ifndef RAWIO_CLI_H
#define RAWIO_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <rawio/rawio.h>

/* Name of the running subcommand, for messages ("rawio devinfo"). */
extern const char *cli_prog;

/* Print "rawio CMD: message" to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a size ("4k", "1G") for option OPT; prints an error naming OPT on failure. */
int cli_size(const char *opt, const char *s, uint64_t *out);

/* Parse an unsigned number for option OPT within [min, max]. */
int cli_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out);

/*
 * Parse a duration for option OPT ("1.5us", "500ms", "10s", "2m", "1h"; a bare number counts
 * DEF_UNIT_NS each) of at most MAX_NS into ns; prints an error naming OPT on failure.
 */
int cli_time(const char *opt, const char *s, uint64_t def_unit_ns, uint64_t max_ns, uint64_t *out);

/* Check an engine name for option OPT: "auto" or one of rawio_engine_list(); prints the list. */
int cli_engine(const char *opt, const char *name);

/* Print a JSON object followed by a newline, and free it. */
void cli_json_print(cJSON *obj);

/* Human-readable size: "4.0 GiB" into buf. */
const char *cli_human(uint64_t bytes, char *buf, size_t len);

/* A count as fio prints it: 12345 -> "12.3k", 12345678 -> "12.3M", 999 -> "999". */
const char *cli_count(double v, char *buf, size_t len);

/* A time in ns with its unit: "850ns", "12.5us", "3.20ms", "1.50s". */
const char *cli_ns(double ns, char *buf, size_t len);

/*
 * A progress line on stderr for long work, only when stderr is a terminal: one line rewritten
 * in place with \r, at most every CLI_PROGRESS_MS (the first at once); cli_progress_done
 * writes the last state and keeps it (a newline). Single-threaded: one thread updates it.
 */
#define CLI_PROGRESS_MS 500
struct cli_progress {
	bool on;
	bool shown;
	uint64_t next_ns;
	uint64_t t0_ns;
	char line[256]; /* the latest state, shown or not */
};
/* Start: ENABLE (a --no-progress says false) and stderr a terminal. */
void cli_progress_init(struct cli_progress *p, bool enable);
/* Rewrite the line with FMT, unless one was written less than CLI_PROGRESS_MS ago. */
void cli_progress(struct cli_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Rewrite it with FMT (NULL: the latest state given, shown or not) and keep it with a newline. */
void cli_progress_done(struct cli_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Seconds since cli_progress_init. */
double cli_progress_elapsed(const struct cli_progress *p);

/* Subcommands: int cmd_NAME(int argc, char **argv); argv[0] is the subcommand name. */
int cmd_devinfo(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_fsqual(int argc, char **argv);
int cmd_pollsim(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* The demo's step: export DIR's demo cache, mkfs.ext4, mount, write, fsck (cmd_export.c). */
int cli_export_demo(const char *dir);

int cmd_iotune(int argc, char **argv);

/* rawio bench's class mode (cmd_bench_classes.c). */
struct rawio_bench_class;
struct rawio_bench_result;
struct rawio_io_props;
int bench_class_parse(const char *arg, struct rawio_bench_class *c, char *name, size_t name_len);
int bench_io_props_load(const char *path, struct rawio_io_props *p);
void bench_classes_json(cJSON *j, const struct rawio_bench_result *r);
void bench_classes_print(const struct rawio_bench_result *r);

struct rawio_store_recovery;
/* Print what a store recovery did, a few lines (cmd_store.c; also used by demo). */
void cli_store_recovery_print(const struct rawio_store_recovery *r);

#endif
