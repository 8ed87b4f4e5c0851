// SPDX-License-Identifier: MIT
/*
 * rawio store: the slot store from the command line. Every command but
 * format opens the store (recovering it), does one thing, and closes it
 * (which writes a checkpoint unless read-only).
 */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawio/store.h>

#include "cli.h"

struct store_args {
	const char *cmd;
	const char *path;
	const char *key;
	const char *file;
	uint64_t slot_size, slots, create_size;
	uint64_t count, obj_size;
	unsigned threads;
	bool force, durable, json, read_only;
	bool found_printed; /* the command prints recovery's findings itself (recover) */
	struct rawio_store_opts o;
	struct cli_progress pr; /* open's and check's progress (ARG of store_progress) */
};

static void store_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio store COMMAND PATH [ARGS] [OPTIONS]\n"
		"  format PATH [--slot-size 4M] [--slots N] [--size SIZE] [--force]\n"
		"  put PATH KEY [FILE|-] [--durable]     store FILE (or stdin) under KEY (1..32 "
		"bytes)\n"
		"  get PATH KEY [FILE|-]                 write the object to FILE (or stdout)\n"
		"  rm PATH KEY [--durable]\n"
		"  ls PATH [--json]\n"
		"  checkpoint PATH\n"
		"  stat PATH [--json]\n"
		"  recover PATH [--json] [--read-only]   recover and report what recovery did\n"
		"  check PATH                            verify everything; exit 1 on a problem\n"
		"  fill PATH --count N [--obj-size BYTES] [--fill-threads T] [--durable]\n"
		"                                        N puts of keys fill-0.. (for benchmarks)\n"
		"  --group-commit off|auto|always        durable puts share flushes: never "
		"(default),\n"
		"                                        when concurrent (auto), always (put, "
		"fill)\n"
		"  --barrier auto|fua|flush              durable puts and rm: FUA writes, or "
		"write +\n"
		"                                        fdatasync (auto: flush where the disk "
		"has no FUA)\n"
		"options for every command that opens a store:\n"
		"  --engine auto|sync|threads|aio|uring|nbd|rbd (recovery reads; default auto)\n"
		"  --qd N (recovery queue depth, default 128)  --threads N (threads engine, "
		"default 8)\n"
		"  --mode default|scan|no-roll (scan: rebuild from slot headers, ignoring "
		"checkpoints)\n"
		"  --lock-wait MS (wait for another process using the store, default 5000; 0: "
		"fail at once)\n");
}

/* Progress of open and check, on a terminal only (cli_progress); ARG is a struct cli_progress. */
static void store_progress(void *arg, enum rawio_store_phase phase, uint64_t done, uint64_t total)
{
	struct cli_progress *pr = arg;
	char line[128];

	snprintf(line, sizeof(line), "%s: %llu / %llu %s",
		 phase == RAWIO_STORE_PHASE_PAYLOADS ? "checking" : "recovering",
		 (unsigned long long)done, (unsigned long long)total,
		 phase == RAWIO_STORE_PHASE_PAYLOADS ? "payloads" : "slot headers");
	if (done == total)
		cli_progress_done(pr, "%s", line);
	else
		cli_progress(pr, "%s", line);
}

/* Progress through A->pr, when stderr is a terminal. */
static void store_progress_on(struct store_args *a)
{
	cli_progress_init(&a->pr, true);
	a->o.progress = a->pr.on ? store_progress : NULL;
	a->o.progress_arg = &a->pr;
}

/* One line per finding of recovery (rawio_store_found_str), to F. */
static void store_found_print(FILE *f, const char *prefix, const struct rawio_store_recovery *r)
{
	for (uint64_t i = 0; i < r->nr_found && i < RAWIO_STORE_FOUND_MAX; i++) {
		char line[512];

		rawio_store_found_str(&r->found[i], line, sizeof(line));
		fprintf(f, "%s%s\n", prefix, line);
	}
	if (r->nr_found > RAWIO_STORE_FOUND_MAX)
		fprintf(f, "%s... and %llu more (rawio store recover --json counts them)\n", prefix,
			(unsigned long long)(r->nr_found - RAWIO_STORE_FOUND_MAX));
}

static int store_open_cli(struct store_args *a, struct rawio_store **s)
{
	char err[512] = "";
	int ret;

	a->o.errbuf = err;
	a->o.errbuf_len = sizeof(err);
	store_progress_on(a);
	ret = rawio_store_open(s, a->path, &a->o);
	a->o.errbuf = NULL;
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return ret;
	}
	if (!a->found_printed) {
		/* Damage recovery found (and, read-write, acted on) is never silent. */
		struct rawio_store_recovery r;
		char prefix[300];

		rawio_store_recovery(*s, &r);
		snprintf(prefix, sizeof(prefix), "rawio: %s: recovery: ", a->path);
		store_found_print(stderr, prefix, &r);
	}
	return 0;
}

static int store_close_cli(struct store_args *a, struct rawio_store *s)
{
	int ret = rawio_store_close(s);

	if (ret) {
		cli_err("%s: writing the checkpoint on close: %s", a->path, rawio_strerror(ret));
		return 1;
	}
	return 0;
}

/* Read a whole file (or stdin) of at most MAX bytes. */
static int slurp(const char *file, uint64_t max, char **out, size_t *len)
{
	int fd = !file || !strcmp(file, "-") ? STDIN_FILENO : open(file, O_RDONLY);
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (fd < 0) {
		cli_err("%s: %s", file, strerror(errno));
		return -1;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (!buf)
			break;
		if (n == cap) {
			char *nb = cap > max ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cli_err("%s: %s", file ? file : "stdin", strerror(errno));
			free(buf);
			buf = NULL;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > max) {
			cli_err("%s: more than the %llu bytes a slot holds", file ? file : "stdin",
				(unsigned long long)max);
			free(buf);
			buf = NULL;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (!buf)
		return -1;
	*out = buf;
	*len = n;
	return 0;
}

static int cmd_put(struct store_args *a)
{
	struct rawio_store *s;
	struct rawio_store_stat st;
	char *buf;
	size_t len;
	int ret;

	if (store_open_cli(a, &s))
		return 1;
	rawio_store_stat(s, &st);
	if (slurp(a->file, st.payload_max, &buf, &len)) {
		rawio_store_close(s);
		return 1;
	}
	ret = rawio_store_put(s, a->key, strlen(a->key), buf, len,
			      a->durable ? RAWIO_STORE_DURABLE : 0);
	free(buf);
	if (ret)
		cli_err("%s: put %s: %s", a->path, a->key, rawio_strerror(ret));
	return store_close_cli(a, s) || ret ? 1 : 0;
}

static int cmd_get(struct store_args *a)
{
	struct rawio_store *s;
	ssize_t len;
	char *buf = NULL;
	int fd = STDOUT_FILENO, rc = 1;

	a->o.read_only = true; /* a reader changes nothing on the device */
	/* cp refuses "same file": writing the object over the store would destroy it. */
	if (a->file && strcmp(a->file, "-") && rawio_dev_same_path(a->file, a->path)) {
		cli_err("get: %s is the store itself (%s); give another output path", a->file,
			a->path);
		return 2;
	}
	if (store_open_cli(a, &s))
		return 1;
	len = rawio_store_get(s, a->key, strlen(a->key), NULL, 0);
	if (len > 0) {
		buf = malloc((size_t)len);
		len = buf ? rawio_store_get(s, a->key, strlen(a->key), buf, (size_t)len) : -ENOMEM;
	}
	if (len == -EBADMSG) {
		struct rawio_store_obj o;

		if (rawio_store_lookup(s, a->key, strlen(a->key), &o))
			o.slot = o.off = 0;
		cli_err("%s: get %s: the object is damaged: slot %llu at offset %llu fails its "
			"crc32c (rawio store check %s lists it; rawio store rm %s %s removes it)",
			a->path, a->key, (unsigned long long)o.slot, (unsigned long long)o.off,
			a->path, a->path, a->key);
		goto out;
	}
	if (len < 0) {
		cli_err("%s: get %s: %s", a->path, a->key,
			len == -ENOENT ? "no such key" : rawio_strerror((int)len));
		goto out;
	}
	if (a->file && strcmp(a->file, "-")) {
		fd = open(a->file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			cli_err("%s: %s", a->file, strerror(errno));
			goto out;
		}
	}
	for (ssize_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, (size_t)(len - off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			cli_err("%s: %s", a->file ? a->file : "stdout", strerror(errno));
			goto out;
		}
		off += w;
	}
	rc = 0;
out:
	if (fd != STDOUT_FILENO && fd >= 0)
		close(fd);
	free(buf);
	rawio_store_close(s);
	return rc;
}

static int cmd_rm(struct store_args *a)
{
	struct rawio_store *s;
	int ret;

	if (store_open_cli(a, &s))
		return 1;
	ret = rawio_store_delete(s, a->key, strlen(a->key), a->durable ? RAWIO_STORE_DURABLE : 0);
	if (ret)
		cli_err("%s: rm %s: %s", a->path, a->key,
			ret == -ENOENT ? "no such key" : rawio_strerror(ret));
	return store_close_cli(a, s) || ret ? 1 : 0;
}

static void key_print(FILE *f, const uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (key[i] >= 0x21 && key[i] < 0x7f && key[i] != '\\')
			fputc(key[i], f);
		else
			fprintf(f, "\\x%02x", key[i]);
	}
}

static int ls_print(void *arg, const struct rawio_store_obj *o)
{
	cJSON *arr = arg;

	if (arr) {
		cJSON *j = cJSON_CreateObject();
		char key[RAWIO_STORE_KEY_MAX + 1];

		memcpy(key, o->key, o->key_len);
		key[o->key_len] = 0;
		cJSON_AddStringToObject(j, "key", key);
		cJSON_AddNumberToObject(j, "slot", (double)o->slot);
		cJSON_AddNumberToObject(j, "len", (double)o->payload_len);
		cJSON_AddNumberToObject(j, "generation", (double)o->generation);
		cJSON_AddItemToArray(arr, j);
		return 0;
	}
	key_print(stdout, o->key, o->key_len);
	printf("\t%llu\tslot %llu\tgen %llu\n", (unsigned long long)o->payload_len,
	       (unsigned long long)o->slot, (unsigned long long)o->generation);
	return 0;
}

static int cmd_ls(struct store_args *a)
{
	struct rawio_store *s;
	cJSON *arr = a->json ? cJSON_CreateArray() : NULL;
	int ret;

	a->o.read_only = true;
	if (store_open_cli(a, &s)) {
		cJSON_Delete(arr);
		return 1;
	}
	ret = rawio_store_list(s, ls_print, arr);
	if (ret) {
		cli_err("%s: ls: %s", a->path, rawio_strerror(ret));
		cJSON_Delete(arr);
		rawio_store_close(s);
		return 1;
	}
	if (arr)
		cli_json_print(arr);
	return store_close_cli(a, s);
}

static int cmd_stat(struct store_args *a)
{
	struct rawio_store *s;
	struct rawio_store_stat st;
	char uuid[RAWIO_UUID_STR_LEN], h1[32], h2[32];

	a->o.read_only = true;
	if (store_open_cli(a, &s))
		return 1;
	rawio_store_stat(s, &st);
	rawio_uuid_str(st.uuid, uuid);
	if (a->json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "path", a->path);
		cJSON_AddStringToObject(j, "uuid", uuid);
		cJSON_AddNumberToObject(j, "slot_size", (double)st.slot_size);
		cJSON_AddNumberToObject(j, "slot_count", (double)st.slot_count);
		cJSON_AddNumberToObject(j, "objects", (double)st.objects);
		cJSON_AddNumberToObject(j, "slots_used", (double)st.slots_used);
		cJSON_AddNumberToObject(j, "bytes_used", (double)st.bytes_used);
		cJSON_AddNumberToObject(j, "payload_max", (double)st.payload_max);
		cJSON_AddNumberToObject(j, "next_generation", (double)st.next_generation);
		cJSON_AddNumberToObject(j, "checkpoint_seq", (double)st.checkpoint_seq);
		cJSON_AddNumberToObject(j, "index_bytes", (double)st.index_bytes);
		cJSON_AddNumberToObject(j, "data_off", (double)st.data_off);
		cJSON_AddNumberToObject(j, "dev_size", (double)st.dev_size);
		cli_json_print(j);
	} else {
		printf("uuid:            %s\n", uuid);
		printf("slots:           %llu of %s (payload up to %llu bytes)\n",
		       (unsigned long long)st.slot_count, cli_human(st.slot_size, h1, sizeof(h1)),
		       (unsigned long long)st.payload_max);
		printf("objects:         %llu (%s of payload)\n", (unsigned long long)st.objects,
		       cli_human(st.bytes_used, h2, sizeof(h2)));
		printf("slots in use:    %llu\n", (unsigned long long)st.slots_used);
		printf("next generation: %llu\n", (unsigned long long)st.next_generation);
		printf("checkpoint:      #%llu\n", (unsigned long long)st.checkpoint_seq);
		printf("index memory:    %s (%.1f bytes per slot)\n",
		       cli_human(st.index_bytes, h1, sizeof(h1)),
		       (double)st.index_bytes / (double)st.slot_count);
		printf("data starts at:  %llu; store spans %llu bytes\n",
		       (unsigned long long)st.data_off, (unsigned long long)st.dev_size);
	}
	return store_close_cli(a, s);
}

/* What recovery did, in one object; shared by recover --json and the benchmark. */
static cJSON *recovery_json(const struct rawio_store_recovery *r)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "engine", r->engine);
	cJSON_AddStringToObject(j, "mode", rawio_store_recover_name(r->mode));
	cJSON_AddNumberToObject(j, "checkpoint", r->checkpoint);
	cJSON_AddNumberToObject(j, "checkpoint_seq", (double)r->checkpoint_seq);
	cJSON_AddBoolToObject(j, "checkpoint_fallback", r->checkpoint_fallback);
	cJSON_AddNumberToObject(j, "loaded", (double)r->loaded);
	cJSON_AddNumberToObject(j, "validated", (double)r->validated);
	cJSON_AddNumberToObject(j, "dropped_mismatch", (double)r->dropped_mismatch);
	cJSON_AddNumberToObject(j, "dropped_corrupt", (double)r->dropped_corrupt);
	cJSON_AddNumberToObject(j, "dropped_io", (double)r->dropped_io);
	cJSON_AddNumberToObject(j, "dropped_torn", (double)r->dropped_torn);
	cJSON_AddNumberToObject(j, "damaged", (double)r->damaged);
	cJSON_AddNumberToObject(j, "bad_headers", (double)r->bad_headers);
	cJSON_AddNumberToObject(j, "rolled_forward", (double)r->rolled_forward);
	cJSON_AddNumberToObject(j, "superseded", (double)r->superseded);
	cJSON_AddNumberToObject(j, "stale_zeroed", (double)r->stale_zeroed);
	cJSON_AddNumberToObject(j, "unreadable", (double)r->unreadable);
	cJSON_AddNumberToObject(j, "headers_read", (double)r->headers_read);
	cJSON_AddNumberToObject(j, "retried", (double)r->retried);
	cJSON_AddNumberToObject(j, "payloads_read", (double)r->payloads_read);
	cJSON_AddNumberToObject(j, "entries", (double)r->entries);
	cJSON_AddNumberToObject(j, "seconds", (double)r->ns / 1e9);
	cJSON_AddNumberToObject(j, "read_seconds", (double)r->read_ns / 1e9);
	cJSON_AddNumberToObject(j, "format_version", r->format_version);
	cJSON_AddBoolToObject(j, "upgraded", r->upgraded);
	cJSON_AddNumberToObject(j, "nr_found", (double)r->nr_found);
	{
		cJSON *arr = cJSON_AddArrayToObject(j, "found");

		for (uint64_t i = 0; i < r->nr_found && i < RAWIO_STORE_FOUND_MAX; i++) {
			const struct rawio_store_found *f = &r->found[i];
			static const char *const what[] = {
				"?", "damaged", "torn", "bad_header", "bad_entry", "unreadable"
			};
			cJSON *o = cJSON_CreateObject();
			char key[RAWIO_STORE_KEY_MAX + 1], line[512];

			memcpy(key, f->key, f->key_len);
			key[f->key_len] = 0;
			rawio_store_found_str(f, line, sizeof(line));
			cJSON_AddStringToObject(o, "what",
						(unsigned)f->what < 6 ? what[f->what] : "?");
			cJSON_AddNumberToObject(o, "slot", (double)f->slot);
			cJSON_AddNumberToObject(o, "offset", (double)f->off);
			if (f->key_len)
				cJSON_AddStringToObject(o, "key", key);
			cJSON_AddBoolToObject(o, "key_trusted", f->key_trusted);
			cJSON_AddNumberToObject(o, "generation", (double)f->generation);
			cJSON_AddBoolToObject(o, "applied", f->applied);
			cJSON_AddStringToObject(o, "text", line);
			cJSON_AddItemToArray(arr, o);
		}
	}
	cJSON_AddNumberToObject(j, "open_seconds", (double)r->open_ns / 1e9);
	cJSON_AddNumberToObject(j, "super_seconds", (double)r->super_ns / 1e9);
	cJSON_AddNumberToObject(j, "index_seconds", (double)r->index_ns / 1e9);
	cJSON_AddNumberToObject(j, "checkpoint_seconds", (double)r->checkpoint_ns / 1e9);
	cJSON_AddNumberToObject(j, "roll_seconds", (double)r->roll_ns / 1e9);
	cJSON_AddNumberToObject(j, "read_cpu_seconds", (double)r->read_cpu_ns / 1e9);
	cJSON_AddNumberToObject(j, "checkpoint_cpu_seconds", (double)r->checkpoint_cpu_ns / 1e9);
	return j;
}

void cli_store_recovery_print(const struct rawio_store_recovery *r)
{
	uint64_t dropped = r->dropped_mismatch + r->dropped_corrupt + r->dropped_io;

	printf("recovered %llu objects in %.3f s (engine %s, mode %s)\n",
	       (unsigned long long)r->entries, (double)r->ns / 1e9, r->engine,
	       rawio_store_recover_name(r->mode));
	if (r->checkpoint >= 0)
		printf("  checkpoint #%llu (area %d%s): %llu entries, %llu validated, %llu dropped "
		       "(%llu other object, %llu corrupt, %llu unreadable)\n",
		       (unsigned long long)r->checkpoint_seq, r->checkpoint,
		       r->checkpoint_fallback ? ", the newer one was damaged" : "",
		       (unsigned long long)r->loaded, (unsigned long long)r->validated,
		       (unsigned long long)dropped, (unsigned long long)r->dropped_mismatch,
		       (unsigned long long)r->dropped_corrupt, (unsigned long long)r->dropped_io);
	else
		printf("  no checkpoint used%s\n",
		       r->checkpoint_fallback ? " (both are damaged)" : "");
	printf("  rolled forward %llu, superseded %llu, torn %llu, damaged %llu (kept), bad "
	       "headers %llu, leftover headers zeroed %llu, other slots unreadable %llu\n",
	       (unsigned long long)r->rolled_forward, (unsigned long long)r->superseded,
	       (unsigned long long)r->dropped_torn, (unsigned long long)r->damaged,
	       (unsigned long long)r->bad_headers, (unsigned long long)r->stale_zeroed,
	       (unsigned long long)r->unreadable);
	printf("  %llu slot headers read in %.3f s (%.0f/s), %llu re-read alone, %llu payloads "
	       "verified\n",
	       (unsigned long long)r->headers_read, (double)r->read_ns / 1e9,
	       r->read_ns ? (double)r->headers_read * 1e9 / (double)r->read_ns : 0.0,
	       (unsigned long long)r->retried, (unsigned long long)r->payloads_read);
	if (r->upgraded)
		printf("  format version %u upgraded to the current one\n", r->format_version);
	store_found_print(stdout, "  ", r);
	printf("  open %.4f s: superblock %.4f, index %.4f, checkpoint %.4f (%.4f s CPU), "
	       "headers %.4f (%.4f s CPU), roll-forward %.4f\n",
	       (double)r->open_ns / 1e9, (double)r->super_ns / 1e9, (double)r->index_ns / 1e9,
	       (double)r->checkpoint_ns / 1e9, (double)r->checkpoint_cpu_ns / 1e9,
	       (double)r->read_ns / 1e9, (double)r->read_cpu_ns / 1e9, (double)r->roll_ns / 1e9);
}

/*
 * Engine "auto": which engine recovery read with, and why, as recovery recorded
 * it (R->engine "auto:ENGINE", R->engine_why: the reason at the depth that chose it).
 */
static void store_auto_note(const struct rawio_store_recovery *r, cJSON *j)
{
	if (strncmp(r->engine, "auto:", 5) || !r->engine_why[0])
		return;
	if (j) {
		cJSON_AddStringToObject(j, "engine_auto", r->engine + 5);
		cJSON_AddStringToObject(j, "engine_auto_why", r->engine_why);
	} else {
		printf("  engine auto: %s, because %s\n", r->engine + 5, r->engine_why);
	}
}

static int cmd_recover(struct store_args *a)
{
	struct rawio_store_recovery r;
	struct rawio_store *s;

	a->o.read_only = a->read_only;
	a->found_printed = true;
	if (store_open_cli(a, &s))
		return 1;
	rawio_store_recovery(s, &r);
	if (a->json) {
		cJSON *j = recovery_json(&r);

		store_auto_note(&r, j);
		cli_json_print(j);
	} else {
		cli_store_recovery_print(&r);
		store_auto_note(&r, NULL);
	}
	return store_close_cli(a, s);
}

static int cmd_check(struct store_args *a)
{
	char report[8192], err[512] = "";
	int ret;

	a->o.errbuf = err;
	a->o.errbuf_len = sizeof(err);
	store_progress_on(a);
	ret = rawio_store_check(a->path, &a->o, report, sizeof(report));
	a->o.errbuf = NULL;
	if (ret < 0) {
		if (err[0])
			cli_err("%s", err);
		else
			cli_err("%s: %s", a->path, rawio_strerror(ret));
		return 1;
	}
	fputs(report, stdout);
	printf("%s: %s\n", a->path, ret ? "PROBLEMS FOUND" : "consistent");
	return ret ? 1 : 0;
}

static int cmd_checkpoint(struct store_args *a)
{
	struct rawio_store *s;
	int ret;

	if (store_open_cli(a, &s))
		return 1;
	ret = rawio_store_checkpoint(s);
	if (ret)
		cli_err("%s: checkpoint: %s", a->path, rawio_strerror(ret));
	return store_close_cli(a, s) || ret ? 1 : 0;
}

static int cmd_format(struct store_args *a)
{
	struct rawio_store_format_opts f = {
		.size = sizeof(f),
		.slot_size = a->slot_size,
		.slot_count = a->slots,
		.create_size = a->create_size,
		.force = a->force,
		.lock_wait_ms = a->o.lock_wait_ms,
	};
	struct rawio_store_stat made;
	char err[512] = "", uuid[RAWIO_UUID_STR_LEN], h1[32], h2[32], h3[32];
	int ret;

	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	f.made = &made;
	ret = rawio_store_format(a->path, &f);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return 1;
	}
	rawio_uuid_str(made.uuid, uuid);
	printf("%s: a store of %s (%llu bytes), %llu slots of %s (payload up to %llu bytes), "
	       "uuid %s; opening it needs %s of RAM for the index\n",
	       a->path, cli_human(made.dev_size, h1, sizeof(h1)), (unsigned long long)made.dev_size,
	       (unsigned long long)made.slot_count, cli_human(made.slot_size, h2, sizeof(h2)),
	       (unsigned long long)made.payload_max, uuid,
	       cli_human(made.index_bytes, h3, sizeof(h3)));
	return 0;
}

struct fill_ctx {
	struct rawio_store *s;
	uint64_t next, count, size;
	uint64_t landed; /* puts that succeeded */
	unsigned flags;
	int err;
};

static void *fill_worker(void *arg)
{
	struct fill_ctx *c = arg;
	/* Page-aligned and touched, as a caller's I/O buffer would be: puts write from it. */
	char key[32], *buf = rawio_buf_alloc(c->size ? c->size : 1, 4096);

	if (!buf) {
		__atomic_store_n(&c->err, -ENOMEM, __ATOMIC_RELAXED);
		return NULL;
	}
	for (;;) {
		uint64_t i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
		int ret;

		if (i >= c->count || __atomic_load_n(&c->err, __ATOMIC_RELAXED))
			break;
		snprintf(key, sizeof(key), "fill-%llu", (unsigned long long)i);
		memset(buf, (int)(i & 0xff), c->size < 64 ? c->size : 64);
		ret = rawio_store_put(c->s, key, strlen(key), buf, c->size, c->flags);
		if (ret)
			__atomic_store_n(&c->err, ret, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&c->landed, 1, __ATOMIC_RELAXED);
	}
	rawio_buf_free(buf);
	return NULL;
}

static int cmd_fill(struct store_args *a)
{
	struct fill_ctx c = { .count = a->count,
			      .size = a->obj_size,
			      .flags = a->durable ? RAWIO_STORE_DURABLE : 0 };
	unsigned nt = a->threads ? a->threads : 8;
	struct rawio_store_stat st;
	pthread_t tids[256];
	unsigned started;
	uint64_t t0, t1;
	double secs;

	if (!a->count) {
		cli_err("fill: --count N is required");
		return 2;
	}
	if (store_open_cli(a, &c.s))
		return 1;
	t0 = rawio_now_ns();
	for (started = 0; started < nt; started++) {
		if (pthread_create(&tids[started], NULL, fill_worker, &c)) {
			__atomic_store_n(&c.err, -EAGAIN, __ATOMIC_RELAXED);
			break;
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	t1 = rawio_now_ns();
	secs = (double)(t1 - t0) / 1e9;
	if (c.err) {
		/* Say what landed: those objects are in the store (fill-0.. with gaps). */
		cli_err("%s: fill: %s after %llu of %llu puts landed%s", a->path,
			c.err == -ENOSPC ? "the store is full (no free slot)"
					 : rawio_strerror(c.err),
			(unsigned long long)c.landed, (unsigned long long)a->count,
			c.err == -ENOSPC ? "; rawio store stat shows the slot count" : "");
		rawio_store_close(c.s);
		return 1;
	}
	rawio_store_stat(c.s, &st);
	if (a->json) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "puts", (double)a->count);
		cJSON_AddNumberToObject(j, "grouped_puts", (double)st.grouped_puts);
		cJSON_AddNumberToObject(j, "group_flushes", (double)st.group_flushes);
		cJSON_AddStringToObject(j, "barrier", rawio_store_barrier_name(st.barrier));
		cJSON_AddNumberToObject(j, "obj_size", (double)a->obj_size);
		cJSON_AddNumberToObject(j, "threads", nt);
		cJSON_AddNumberToObject(j, "seconds", secs);
		cJSON_AddNumberToObject(j, "puts_per_s", (double)a->count / secs);
		cJSON_AddNumberToObject(j, "mb_per_s",
					(double)a->count * (double)a->obj_size / secs / 1e6);
		cli_json_print(j);
	} else {
		printf("%llu puts of %llu bytes from %u threads in %.2f s: %.0f puts/s, %.1f "
		       "MB/s\n",
		       (unsigned long long)a->count, (unsigned long long)a->obj_size, nt, secs,
		       (double)a->count / secs,
		       (double)a->count * (double)a->obj_size / secs / 1e6);
	}
	return store_close_cli(a, c.s);
}

static int store_parse_group(const char *s, enum rawio_store_group_commit *g)
{
	if (!strcmp(s, "auto"))
		*g = RAWIO_STORE_GROUP_AUTO;
	else if (!strcmp(s, "off"))
		*g = RAWIO_STORE_GROUP_OFF;
	else if (!strcmp(s, "always"))
		*g = RAWIO_STORE_GROUP_ALWAYS;
	else
		return -1;
	return 0;
}

/* The library's names, back to the enum. */
static int store_parse_barrier(const char *s, enum rawio_store_barrier *b)
{
	for (int v = RAWIO_STORE_BARRIER_AUTO; v <= RAWIO_STORE_BARRIER_FLUSH; v++) {
		if (!strcmp(s, rawio_store_barrier_name((enum rawio_store_barrier)v))) {
			*b = (enum rawio_store_barrier)v;
			return 0;
		}
	}
	return -1;
}

static int store_parse_mode(const char *s, enum rawio_store_recover *m)
{
	for (int v = RAWIO_STORE_RECOVER_DEFAULT; v <= RAWIO_STORE_RECOVER_NO_ROLL; v++) {
		if (!strcmp(s, rawio_store_recover_name((enum rawio_store_recover)v))) {
			*m = (enum rawio_store_recover)v;
			return 0;
		}
	}
	return -1;
}

int cmd_store(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "slot-size", required_argument, NULL, 'S' },
		{ "slots", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "force", no_argument, NULL, 'f' },
		{ "durable", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'e' },
		{ "qd", required_argument, NULL, 'q' },
		{ "threads", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "count", required_argument, NULL, 'c' },
		{ "obj-size", required_argument, NULL, 'o' },
		{ "fill-threads", required_argument, NULL, 'T' },
		{ "lock-wait", required_argument, NULL, 'L' },
		{ "group-commit", required_argument, NULL, 'g' },
		{ "barrier", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(struct store_args *a);
		int min_args, max_args; /* after PATH */
	} cmds[] = {
		{ "format", cmd_format, 0, 0 }, { "put", cmd_put, 1, 2 },
		{ "get", cmd_get, 1, 2 },	{ "rm", cmd_rm, 1, 1 },
		{ "ls", cmd_ls, 0, 0 },		{ "checkpoint", cmd_checkpoint, 0, 0 },
		{ "stat", cmd_stat, 0, 0 },	{ "recover", cmd_recover, 0, 0 },
		{ "check", cmd_check, 0, 0 },	{ "fill", cmd_fill, 0, 0 },
	};
	struct store_args a = { .o = { .size = sizeof(a.o), .engine = "auto" } };
	unsigned v;
	int c, nargs;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		store_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	a.cmd = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (cli_size("--slot-size", optarg, &a.slot_size))
				return 2;
			break;
		case 'n':
			if (cli_uint("--slots", optarg, 1, 0x7fffffff, &v))
				return 2;
			a.slots = v;
			break;
		case 'z':
			if (cli_size("--size", optarg, &a.create_size))
				return 2;
			break;
		case 'f':
			a.force = true;
			break;
		case 'd':
			a.durable = true;
			break;
		case 'j':
			a.json = true;
			break;
		case 'e':
			if (cli_engine("--engine", optarg))
				return 2;
			a.o.engine = optarg;
			break;
		case 'q':
			if (cli_uint("--qd", optarg, 1, 4096, &a.o.engine_opts.queue_depth))
				return 2;
			break;
		case 't':
			if (cli_uint("--threads", optarg, 1, 256, &a.o.engine_opts.threads))
				return 2;
			break;
		case 'm':
			if (store_parse_mode(optarg, &a.o.recover)) {
				cli_err("--mode: '%s' is not one of default, scan, no-roll",
					optarg);
				return 2;
			}
			break;
		case 'r':
			a.read_only = true;
			break;
		case 'c':
			if (cli_size("--count", optarg, &a.count))
				return 2;
			break;
		case 'o':
			if (cli_size("--obj-size", optarg, &a.obj_size))
				return 2;
			break;
		case 'T':
			if (cli_uint("--fill-threads", optarg, 1, 256, &a.threads))
				return 2;
			break;
		case 'L':
			if (cli_uint("--lock-wait", optarg, 0, 86400000, &v))
				return 2;
			a.o.lock_wait_ms = v ? (int)v : -1;
			break;
		case 'g':
			if (store_parse_group(optarg, &a.o.group_commit)) {
				cli_err("--group-commit: '%s' is not one of off, auto, always",
					optarg);
				return 2;
			}
			break;
		case 'B':
			if (store_parse_barrier(optarg, &a.o.barrier)) {
				cli_err("--barrier: '%s' is not one of auto, fua, flush", optarg);
				return 2;
			}
			break;
		case 'h':
			store_usage(stdout);
			return 0;
		default:
			store_usage(stderr);
			return 2;
		}
	}
	nargs = argc - optind;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(a.cmd, cmds[i].name))
			continue;
		if (nargs < 1 + cmds[i].min_args || nargs > 1 + cmds[i].max_args) {
			cli_err("%s: wrong number of arguments", a.cmd);
			store_usage(stderr);
			return 2;
		}
		a.path = argv[optind];
		if (nargs > 1) {
			a.key = argv[optind + 1];
			if (!*a.key || strlen(a.key) > RAWIO_STORE_KEY_MAX) {
				cli_err("key '%s': must be 1 to %d bytes", a.key,
					RAWIO_STORE_KEY_MAX);
				return 2;
			}
		}
		if (nargs > 2)
			a.file = argv[optind + 2];
		return cmds[i].fn(&a);
	}
	cli_err("unknown command '%s'", a.cmd);
	store_usage(stderr);
	return 2;
}
