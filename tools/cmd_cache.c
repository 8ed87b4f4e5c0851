// SPDX-License-Identifier: MIT
/*
 * rawio cache: the write-back cache from the command line. format, stat,
 * check and drain open the cache (recovering it) and do one thing; serve
 * keeps it open with a control socket that set and get talk to; bench runs
 * the benchmarks of bench/cache.sh.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rawio/bench.h>
#include <rawio/cache.h>

#include "cli.h"
#include "util/report.h"

#define CC_BLOCK 4096u

/* How one device is driven: an engine, optionally behind an emulated slow device. */
struct cc_dev {
	const char *path;
	const char *engine;   /* --cache-engine / --backing-engine */
	const char *throttle; /* --cache-throttle / --backing-throttle */
	uint64_t create_size; /* --size / --backing-size: create a file this big */
	struct rawio_dev *dev;
	struct rawio_throttle *thr;
	struct rawio_engine_opts eo;
	const char *open_engine; /* what the cache opens */
	bool existed;		 /* the path was there before we ran */
	off_t orig_size;	 /* and this long (a regular file) */
};

struct cc_args {
	const char *cmd;
	struct cc_dev c, b;
	const char *socket;
	const char *mode;
	uint32_t segment_size;
	bool force, json, read_only;
	int lock_wait_ms; /* --lock-wait: 0 default, < 0 do not wait */
	unsigned threads, writers, qd, buffers;
	uint64_t bytes;
	double seconds;
	char batches[128];
	struct rawio_cache_opts o;
	struct rawio_cache_tunables tun;
	struct rawio_io_props props[2]; /* --io-properties: cache device, backing device */
	unsigned readers;
};

static void cache_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio cache COMMAND ...\n"
		"  format CACHE BACKING [--segment-size 512k] [--force] [--size S] [--backing-size "
		"S]\n"
		"  stat CACHE BACKING [--json]        geometry, dirty data, what recovery found\n"
		"  stat --socket SOCKET               counters of a cache that `serve` has open\n"
		"  check CACHE BACKING [--json]       verify; exit 1 on a problem\n"
		"  drain CACHE BACKING [--json]       write every dirty block back\n"
		"  serve CACHE BACKING --socket SOCKET [--seconds S]\n"
		"                                     keep the cache open (migrating) and answer\n"
		"                                     set/get/stat on SOCKET until SIGINT/SIGTERM\n"
		"  set SOCKET NAME VALUE              change a tunable of a served cache\n"
		"  get SOCKET [NAME]                  show its tunables\n"
		"  bench absorb|drain|fsync CACHE BACKING [--json] ...   (bench/cache.sh)\n"
		"tunables: allow_migrate, nr_batched_migration (1..256), low_watermark <=\n"
		"  high_watermark (percent of segments dirty; both 0: write back at once),\n"
		"  barrier_deadline_us, seal_idle_ms, commit_qd (1..16), commit_fua (0 off,\n"
		"  1 on, 2 auto), commit_overlap (0|1); --tunable NAME=VALUE sets any at open\n"
		"device options (CACHE and BACKING may be files, block devices, mem:SIZE or NBD "
		"URIs):\n"
		"  --cache-engine E, --backing-engine E   (default uring; mem for mem:SIZE, nbd "
		"for\n"
		"        nbd://HOST/EXPORT or nbd+unix:///EXPORT?socket=PATH)\n"
		"  --cache-throttle SPEC, --backing-throttle SPEC\n"
		"        emulate a slower device (the throttle engine): hdd, ssd, or\n"
		"        iops=N,bw=SIZE,seek=TIME,flush=TIME (docs/engines.md)\n"
		"  --buffers N (RAM segment buffers)  --batch N (nr_batched_migration at open)\n"
		"  --migrate-qd N (write-back requests in flight per device, default 32)\n"
		"  --lock-wait MS (wait for another process using the devices, default 5000; 0:\n"
		"        fail at once)\n"
		"  --io-properties FILE (Seastar's io_properties.yaml: its first disk for the "
		"cache\n"
		"        device, its second, else the first, for the backing device: every I/O "
		"goes\n"
		"        through an I/O scheduler in classes read, write, flush, migrate)\n"
		"bench options: --threads N (absorb writers, 32), --bytes SIZE (absorb and drain\n"
		"  data, 256m), --batch 1,4,32,128 (drain), --writers N (fsync, 1), --deadline-us "
		"N,\n"
		"  --seconds S (fsync, 3), --readers N (drain: N threads read 4 KiB cache hits,\n"
		"  alone for 2 s, then during the drain: their p50/p99)\n");
}

/* ---- devices ---- */

/* CDEV: open D as the backing of the cache on CDEV (a remote one that is away still opens). */
static int cc_dev_open(struct cc_dev *d, bool read_only, int lock_wait_ms, struct rawio_dev *cdev)
{
	struct rawio_dev_opts o = { .size = sizeof(o), .lock_wait_ms = lock_wait_ms };
	const struct rawio_dev_info *info;
	struct stat st;
	char err[512] = "";
	int ret;

	d->existed = !stat(d->path, &st);
	d->orig_size = d->existed && S_ISREG(st.st_mode) ? st.st_size : -1;
	if (d->create_size && d->existed && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > d->create_size) {
		/* Refused, never silently ignored: rawio does not shrink files. */
		cli_err("%s: the file is %llu bytes, larger than the size asked for (%llu); "
			"truncate it first or leave out the size",
			d->path, (unsigned long long)st.st_size,
			(unsigned long long)d->create_size);
		return -EFBIG;
	}
	if (d->create_size) {
		o.flags |= RAWIO_DEV_CREATE;
		o.create_size = d->create_size;
	}
	/* A writer owns the device (serve, drain, format, bench); readers share it. */
	o.flags |= read_only ? RAWIO_DEV_RDONLY | RAWIO_DEV_LOCK_SH : RAWIO_DEV_LOCK_EX;
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = cdev ? rawio_cache_backing_open(&d->dev, cdev, d->path, &o)
		   : rawio_dev_open(&d->dev, d->path, &o);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return ret;
	}
	info = rawio_dev_info(d->dev);
	d->eo = (struct rawio_engine_opts){ .size = sizeof(d->eo) };
	/* An NBD export: the nbd engine unless told (the cache's own default is uring). */
	d->open_engine = d->engine		       ? d->engine
			 : info->kind == RAWIO_DEV_NBD ? rawio_engine_default(info)
						       : NULL;
	if (d->throttle) {
		ret = rawio_throttle_stack(d->throttle, d->engine, info, &d->thr, &d->eo);
		if (ret) {
			if (ret == -EINVAL)
				cli_err("'%s' is not a throttle spec (hdd, ssd, "
					"iops=N,bw=SIZE,seek=T,flush=T)",
					d->throttle);
			return ret;
		}
		d->open_engine = "throttle";
	}
	return 0;
}

static void cc_dev_close(struct cc_dev *d)
{
	rawio_dev_close(d->dev);
	rawio_throttle_free(d->thr);
	d->dev = NULL;
	d->thr = NULL;
}

/* A command failed: leave the filesystem as we found it (a file we made, a file we grew). */
static void cc_dev_undo(struct cc_dev *d)
{
	struct stat st;

	if (!d->create_size || !d->path)
		return;
	if (!d->existed) {
		unlink(d->path);
	} else if (d->orig_size >= 0 && !stat(d->path, &st) && st.st_size > d->orig_size) {
		int r = truncate(d->path, d->orig_size);

		(void)r; /* best effort: the command's error is what the user needs */
	}
}

static int cc_open(struct cc_args *a, struct rawio_cache **c, bool read_only)
{
	char err[512] = "";
	int ret;

	a->o.size = sizeof(a->o);
	a->o.cache_engine = a->c.open_engine;
	a->o.cache_engine_opts = &a->c.eo;
	a->o.backing_engine = a->b.open_engine;
	a->o.backing_engine_opts = &a->b.eo;
	a->o.read_only = read_only;
	a->o.tunables = &a->tun;
	if (a->buffers)
		a->o.nr_buffers = a->buffers;
	a->o.errbuf = err;
	a->o.errbuf_len = sizeof(err);
	ret = rawio_cache_open(c, a->c.dev, a->b.dev, &a->o);
	a->o.errbuf = NULL;
	if (ret)
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
	return ret;
}

/* Say what a format made, and what opening it will take. */
static void cc_format_print(struct cc_args *a)
{
	uint64_t csize = rawio_dev_info(a->c.dev)->size, bsize = rawio_dev_info(a->b.dev)->size;
	char h1[32], h2[32], h3[32];
	struct rawio_cache_plan p;

	if (rawio_cache_plan(csize, bsize, a->segment_size, a->buffers, &p))
		return; /* the format just succeeded with these: cannot happen */
	printf("made a cache on %s (%s): %llu segments of %s (%u data blocks each)\n", a->c.path,
	       cli_human(csize, h1, sizeof(h1)), (unsigned long long)p.nr_segments,
	       cli_human(p.segment_size, h2, sizeof(h2)), p.blocks_per_segment);
	printf("caching %s (%s); opening it needs about %s of RAM (%u segment buffers of %s, "
	       "the block map and index)\n",
	       a->b.path, cli_human(bsize, h1, sizeof(h1)), cli_human(p.ram_bytes, h3, sizeof(h3)),
	       p.nr_buffers, h2);
}

static int cc_format(struct cc_args *a)
{
	struct rawio_cache_format_opts f = { .size = sizeof(f),
					     .segment_size = a->segment_size,
					     .force = a->force };
	char err[512] = "";
	int ret;

	f.errbuf = err;
	f.errbuf_len = sizeof(err);
	ret = rawio_cache_format(a->c.dev, a->b.dev, &f);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return ret;
	}
	cc_format_print(a);
	return 0;
}

/* ---- stat ---- */

#define J(obj, st, f) cJSON_AddNumberToObject(obj, #f, (double)(st)->f)

static cJSON *cc_stat_json(const struct rawio_cache_stat *st)
{
	cJSON *j = cJSON_CreateObject();
	char uuid[RAWIO_UUID_STR_LEN];

	rawio_uuid_str(st->uuid, uuid);
	cJSON_AddStringToObject(j, "uuid", uuid);
	J(j, st, size);
	J(j, st, segment_size);
	J(j, st, blocks_per_segment);
	J(j, st, nr_segments);
	J(j, st, nr_buffers);
	J(j, st, next_id);
	J(j, st, flushed_id);
	J(j, st, durable_id);
	J(j, st, last_migrated);
	J(j, st, dirty_segments);
	J(j, st, dirty_blocks);
	J(j, st, cached_blocks);
	J(j, st, error);
	J(j, st, backing_error);
	J(j, st, migrate_fail_streak);
	J(j, st, reads);
	J(j, st, read_hits);
	J(j, st, read_hits_ram);
	J(j, st, read_partial);
	J(j, st, read_misses);
	J(j, st, read_retries);
	J(j, st, writes);
	J(j, st, write_blocks);
	J(j, st, write_partial);
	J(j, st, write_overwrites);
	J(j, st, write_merge_reads);
	J(j, st, write_stalls);
	J(j, st, fua_writes);
	J(j, st, discards);
	J(j, st, discarded_blocks);
	J(j, st, segments_flushed);
	J(j, st, segments_full);
	J(j, st, segments_partial);
	J(j, st, segment_blocks);
	J(j, st, segment_bytes);
	J(j, st, barriers);
	J(j, st, barrier_seals);
	J(j, st, barrier_deadline_seals);
	J(j, st, barrier_timed);
	J(j, st, barrier_lock_ns);
	J(j, st, barrier_queue_ns);
	J(j, st, barrier_commit_ns);
	J(j, st, barrier_wake_ns);
	J(j, st, idle_seals);
	J(j, st, cache_flushes);
	J(j, st, segment_write_errors);
	J(j, st, migrate_batches);
	J(j, st, migrate_segments);
	J(j, st, migrate_blocks);
	J(j, st, migrate_skipped);
	J(j, st, migrate_writes);
	J(j, st, migrate_rmw);
	J(j, st, migrate_bytes);
	J(j, st, migrate_errors);
	J(j, st, migrate_read_ns);
	J(j, st, migrate_write_ns);
	J(j, st, migrate_flush_ns);
	J(j, st, migrate_inflight_ns);
	J(j, st, backing_flushes);
	J(j, st, max_batch_segments);
	cJSON_AddNumberToObject(j, "migrate_seconds", (double)st->migrate_ns / 1e9);
	return j;
}

static cJSON *cc_recovery_json(const struct rawio_cache_recovery *r)
{
	cJSON *j = cJSON_CreateObject();

	J(j, r, last_migrated);
	J(j, r, record_seq);
	cJSON_AddBoolToObject(j, "record_fallback", r->record_fallback);
	J(j, r, headers_read);
	J(j, r, headers_retried);
	J(j, r, valid);
	J(j, r, run_first);
	J(j, r, run_last);
	J(j, r, replayed);
	J(j, r, replayed_blocks);
	J(j, r, stop_id);
	cJSON_AddStringToObject(j, "stop_reason", r->stop_reason ? r->stop_reason : "");
	J(j, r, torn);
	J(j, r, corrupt);
	J(j, r, io_errors);
	J(j, r, orphans);
	J(j, r, orphans_zeroed);
	J(j, r, unreadable_zeroed);
	cJSON_AddNumberToObject(j, "seconds", (double)r->ns / 1e9);
	cJSON_AddNumberToObject(j, "read_seconds", (double)r->read_ns / 1e9);
	return j;
}

static void cc_stat_print(const struct rawio_cache_stat *st)
{
	char uuid[RAWIO_UUID_STR_LEN], h1[32], h2[32];

	rawio_uuid_str(st->uuid, uuid);
	printf("uuid:              %s\n", uuid);
	printf("virtual size:      %s\n", cli_human(st->size, h1, sizeof(h1)));
	printf("segments:          %llu of %s (%u data blocks each)\n",
	       (unsigned long long)st->nr_segments, cli_human(st->segment_size, h2, sizeof(h2)),
	       st->blocks_per_segment);
	printf("log:               next id %llu, written %llu, durable %llu, written back %llu\n",
	       (unsigned long long)st->next_id, (unsigned long long)st->flushed_id,
	       (unsigned long long)st->durable_id, (unsigned long long)st->last_migrated);
	printf("dirty:             %llu segments, %llu blocks (%s); %llu blocks cached\n",
	       (unsigned long long)st->dirty_segments, (unsigned long long)st->dirty_blocks,
	       cli_human(st->dirty_blocks * CC_BLOCK, h1, sizeof(h1)),
	       (unsigned long long)st->cached_blocks);
	printf("reads:             %llu calls; blocks: %llu hits (%llu in RAM), %llu partial, "
	       "%llu misses\n",
	       (unsigned long long)st->reads, (unsigned long long)st->read_hits,
	       (unsigned long long)st->read_hits_ram, (unsigned long long)st->read_partial,
	       (unsigned long long)st->read_misses);
	printf("writes:            %llu calls, %llu blocks absorbed (%llu partial), %llu FUA, "
	       "%llu stalls\n",
	       (unsigned long long)st->writes, (unsigned long long)st->write_blocks,
	       (unsigned long long)st->write_partial, (unsigned long long)st->fua_writes,
	       (unsigned long long)st->write_stalls);
	printf("segments flushed:  %llu (%llu full, %llu partial), %s; %llu barriers, %llu seals "
	       "for them, %llu cache flushes\n",
	       (unsigned long long)st->segments_flushed, (unsigned long long)st->segments_full,
	       (unsigned long long)st->segments_partial,
	       cli_human(st->segment_bytes, h1, sizeof(h1)), (unsigned long long)st->barriers,
	       (unsigned long long)st->barrier_seals, (unsigned long long)st->cache_flushes);
	printf("migration:         %llu batches (%.1f segments avg, %llu max), %llu blocks in "
	       "%llu writes, %llu errors\n",
	       (unsigned long long)st->migrate_batches,
	       st->migrate_batches ? (double)st->migrate_segments / (double)st->migrate_batches
				   : 0.0,
	       (unsigned long long)st->max_batch_segments, (unsigned long long)st->migrate_blocks,
	       (unsigned long long)st->migrate_writes, (unsigned long long)st->migrate_errors);
	if (st->backing_error)
		printf("backing:           write-back waits: %s (%llu failed batches in a row; "
		       "retried with a growing pause)\n",
		       rawio_strerror(st->backing_error),
		       (unsigned long long)st->migrate_fail_streak);
}

static void cc_recovery_print(const struct rawio_cache_recovery *r)
{
	printf("recovery:          %llu headers read in %.3f s; written back up to %llu (record "
	       "#%llu%s);\n"
	       "                   replayed %llu segments (%llu blocks), stopped at %llu (%s); "
	       "%llu torn, %llu orphans\n",
	       (unsigned long long)r->headers_read, (double)r->read_ns / 1e9,
	       (unsigned long long)r->last_migrated, (unsigned long long)r->record_seq,
	       r->record_fallback ? ", the other copy is damaged" : "",
	       (unsigned long long)r->replayed, (unsigned long long)r->replayed_blocks,
	       (unsigned long long)r->stop_id, r->stop_reason ? r->stop_reason : "?",
	       (unsigned long long)r->torn, (unsigned long long)r->orphans);
}

/* The devices' schedulers (docs/sched.md): a "sched" array for --json, else lines. */
static void cc_sched_report(struct rawio_cache *c, cJSON *parent)
{
	static const char *const devs[2] = { "cache", "backing" };
	cJSON *arr = parent ? cJSON_AddArrayToObject(parent, "sched") : NULL;

	for (unsigned d = 0; d < 2; d++) {
		struct rawio_sched_class_stat cs[RAWIO_CACHE_NR_CLASSES];
		struct rawio_sched_stat ss;
		char desc[160];
		bool on = rawio_cache_sched_stat(c, d, &ss, cs, desc, sizeof(desc));
		cJSON *dj = NULL, *cl = NULL;

		if (arr) {
			dj = cJSON_CreateObject();
			cJSON_AddStringToObject(dj, "device", devs[d]);
			cJSON_AddBoolToObject(dj, "model", on && ss.model);
			cJSON_AddStringToObject(dj, "describe", desc);
			cl = cJSON_AddArrayToObject(dj, "classes");
			cJSON_AddItemToArray(arr, dj);
		} else {
			printf("sched %-8s %s\n", devs[d], desc);
		}
		for (unsigned k = 0; on && k < RAWIO_CACHE_NR_CLASSES; k++) {
			if (cl) {
				cJSON *x = cJSON_CreateObject();

				cJSON_AddStringToObject(x, "name", cs[k].name);
				cJSON_AddNumberToObject(x, "shares", cs[k].shares);
				cJSON_AddNumberToObject(x, "requests", (double)cs[k].requests);
				cJSON_AddNumberToObject(x, "bytes", (double)cs[k].bytes);
				cJSON_AddNumberToObject(x, "queued", (double)cs[k].queued);
				cJSON_AddNumberToObject(x, "queue_p99_ns",
							(double)cs[k].queue_lat.p99);
				cJSON_AddNumberToObject(x, "disk_p99_ns",
							(double)cs[k].disk_lat.p99);
				cJSON_AddNumberToObject(x, "starved_ns", (double)cs[k].starved_ns);
				cJSON_AddItemToArray(cl, x);
			} else {
				printf("  %-8s shares %5u: %llu requests, %llu bytes, queued p99 "
				       "%llu us, "
				       "disk p99 %llu us\n",
				       cs[k].name, cs[k].shares, (unsigned long long)cs[k].requests,
				       (unsigned long long)cs[k].bytes,
				       (unsigned long long)(cs[k].queue_lat.p99 / 1000),
				       (unsigned long long)(cs[k].disk_lat.p99 / 1000));
			}
		}
	}
}

static int cc_cmd_stat(struct cc_args *a)
{
	struct rawio_cache_recovery r;
	struct rawio_cache_stat st;
	struct rawio_cache *c;

	if (cc_open(a, &c, true))
		return 1;
	rawio_cache_stat(c, &st);
	rawio_cache_recovery(c, &r);
	if (a->json) {
		cJSON *j = cc_stat_json(&st);

		cJSON_AddItemToObject(j, "recovery", cc_recovery_json(&r));
		cc_sched_report(c, j);
		cli_json_print(j);
	} else {
		cc_stat_print(&st);
		cc_recovery_print(&r);
		cc_sched_report(c, NULL);
	}
	rawio_cache_close(c);
	return 0;
}

static int cc_cmd_check(struct cc_args *a)
{
	char report[8192];
	int ret;

	a->o.size = sizeof(a->o);
	a->o.cache_engine = a->c.open_engine;
	a->o.cache_engine_opts = &a->c.eo;
	a->o.backing_engine = a->b.open_engine;
	a->o.backing_engine_opts = &a->b.eo;
	ret = rawio_cache_check(a->c.dev, a->b.dev, &a->o, report, sizeof(report));
	if (ret < 0) {
		cli_err("%s: %s", a->c.path, rawio_strerror(ret));
		return 1;
	}
	if (a->json) {
		cJSON *j = cJSON_CreateObject(), *lines = cJSON_CreateArray();
		char *save = NULL;

		cJSON_AddStringToObject(j, "cache", a->c.path);
		cJSON_AddStringToObject(j, "backing", a->b.path);
		cJSON_AddBoolToObject(j, "consistent", !ret);
		cJSON_AddNumberToObject(j, "problems", ret);
		for (char *l = strtok_r(report, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			cJSON_AddItemToArray(lines, cJSON_CreateString(l));
		cJSON_AddItemToObject(j, "findings", lines);
		cli_json_print(j);
	} else {
		fputs(report, stdout);
		printf("%s: %s\n", a->c.path, ret ? "PROBLEMS FOUND" : "consistent");
	}
	return ret ? 1 : 0;
}

/* The progress line of a drain: a thread that reads the counters while drain waits. */
struct cc_drain_progress {
	struct rawio_cache *c;
	uint64_t dirty; /* at the start */
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool done;
	struct cli_progress pr;
};

static void *cc_drain_progress_main(void *arg)
{
	struct cc_drain_progress *d = arg;
	struct rawio_cache_stat st;
	struct timespec ts;
	bool done = false;

	while (!done) {
		uint64_t left, moved;

		rawio_cache_stat(d->c, &st);
		left = st.dirty_blocks < d->dirty ? st.dirty_blocks : d->dirty;
		moved = d->dirty - left;
		cli_progress(&d->pr,
			     "drain: %llu of %llu dirty blocks written back (%.0f%%), %.0fs",
			     (unsigned long long)moved, (unsigned long long)d->dirty,
			     d->dirty ? 100.0 * (double)moved / (double)d->dirty : 100.0,
			     cli_progress_elapsed(&d->pr));
		pthread_mutex_lock(&d->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += CLI_PROGRESS_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!d->done)
			pthread_cond_timedwait(&d->cv, &d->lock, &ts);
		done = d->done;
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

static int cc_cmd_drain(struct cc_args *a)
{
	struct cc_drain_progress d = { .lock = PTHREAD_MUTEX_INITIALIZER,
				       .cv = PTHREAD_COND_INITIALIZER };
	struct rawio_cache_stat st;
	struct rawio_cache *c;
	uint64_t t0, t1, dirty;
	pthread_t thr;
	bool thr_on = false;
	int ret;

	if (cc_open(a, &c, false))
		return 1;
	rawio_cache_stat(c, &st);
	dirty = st.dirty_blocks;
	d.c = c;
	d.dirty = dirty;
	cli_progress_init(&d.pr, true);
	if (d.pr.on && dirty)
		thr_on = !pthread_create(&thr, NULL, cc_drain_progress_main, &d);
	t0 = rawio_now_ns();
	ret = rawio_cache_drain(c);
	t1 = rawio_now_ns();
	if (thr_on) {
		pthread_mutex_lock(&d.lock);
		d.done = true;
		pthread_cond_signal(&d.cv);
		pthread_mutex_unlock(&d.lock);
		pthread_join(thr, NULL);
		rawio_cache_stat(c, &st);
		st.dirty_blocks = st.dirty_blocks < dirty ? st.dirty_blocks : dirty;
		cli_progress_done(
			&d.pr, "drain: %llu of %llu dirty blocks written back (%.0f%%), %.0fs",
			(unsigned long long)(dirty - st.dirty_blocks), (unsigned long long)dirty,
			100.0 * (double)(dirty - st.dirty_blocks) / (double)dirty,
			(double)(t1 - t0) / 1e9);
	}
	rawio_cache_stat(c, &st);
	if (ret)
		cli_err("%s: drain: %s", a->c.path, rawio_strerror(ret));
	if (a->json) {
		cJSON *j = cc_stat_json(&st);

		cJSON_AddNumberToObject(j, "drained_blocks", (double)dirty);
		cJSON_AddNumberToObject(j, "seconds", (double)(t1 - t0) / 1e9);
		cli_json_print(j);
	} else {
		printf("drained %llu dirty blocks in %.3f s: %llu batches, %llu backing writes\n",
		       (unsigned long long)dirty, (double)(t1 - t0) / 1e9,
		       (unsigned long long)st.migrate_batches,
		       (unsigned long long)st.migrate_writes);
	}
	if (rawio_cache_close(c))
		ret = -EIO;
	return ret ? 1 : 0;
}

static int cc_cmd_serve(struct cc_args *a)
{
	struct rawio_cache_ctl *ctl = NULL;
	struct rawio_cache *c;
	struct timespec ts;
	sigset_t set;
	int ret, sig;

	if (!a->socket) {
		cli_err("serve: --socket PATH is required");
		return 2;
	}
	/* Block the signals before the workers start, so only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (cc_open(a, &c, false))
		return 1;
	ret = rawio_cache_ctl_start(&ctl, c, a->socket);
	if (ret) {
		cli_err("%s: %s", a->socket,
			ret == -EADDRINUSE ? "another server listens there" : rawio_strerror(ret));
		rawio_cache_close(c);
		return 1;
	}
	fprintf(stderr, "serving %s on %s\n", a->c.path, a->socket);
	ts.tv_sec = (time_t)a->seconds;
	ts.tv_nsec = (long)((a->seconds - (double)ts.tv_sec) * 1e9);
	do /* EINTR: something else woke us (a thread starting, a stop/continue) */
		sig = a->seconds > 0 ? sigtimedwait(&set, NULL, &ts) : sigwaitinfo(&set, NULL);
	while (sig < 0 && errno == EINTR);
	rawio_cache_ctl_stop(ctl);
	ret = rawio_cache_close(c);
	if (ret) {
		cli_err("%s: close: %s", a->c.path, rawio_strerror(ret));
		return 1;
	}
	return 0;
}

/* Send REQ; print the answer (a refusal on stderr: exit REFUSED_RC). */
static int cc_request(const char *socket, const char *req, int refused_rc)
{
	char reply[8192];
	int ret = rawio_cache_ctl_request(socket, req, reply, sizeof(reply));

	if (ret) {
		cli_err("%s: %s", socket,
			ret == -ENOENT || ret == -ECONNREFUSED ? "no cache is served there (rawio "
								 "cache serve ... --socket)"
							       : rawio_strerror(ret));
		return 1;
	}
	if (!strncmp(reply, "error: ", 7)) {
		reply[strcspn(reply, "\n")] = 0;
		cli_err("%s: %s", socket, reply + 7);
		return refused_rc;
	}
	fputs(reply, stdout);
	return 0;
}

/* set NAME VALUE: a tunable we know, a value in its range, before asking the server. */
static int cc_set_check(const char *name, const char *value)
{
	uint64_t lo, hi, v;
	char *end;

	if (rawio_cache_tunable_range(name, &lo, &hi)) {
		char list[256];
		size_t used = 0;

		list[0] = 0;
		for (const char *const *n = rawio_cache_tunable_names(); *n; n++)
			report_add(list, sizeof(list), &used, " %s", *n);
		cli_err("set: no tunable '%s' (tunables:%s)", name, list);
		return -1;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end || errno || v < lo || v > hi) {
		cli_err("set: %s: '%s' is not a value from %llu to %llu", name, value,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

/* ---- bench ---- */

static void bench_emit(struct cc_args *a, cJSON *j)
{
	if (a->json) {
		char *s = cJSON_PrintUnformatted(j);

		puts(s);
		free(s);
	}
	cJSON_Delete(j);
	fflush(stdout);
}

/* The library's benchmark options: our devices, and the cache opened as cc_open would. */
static void bench_opts(struct cc_args *a, struct rawio_cache_bench_opts *o, char *err,
		       size_t err_len)
{
	a->o.size = sizeof(a->o);
	a->o.cache_engine = a->c.open_engine;
	a->o.cache_engine_opts = &a->c.eo;
	a->o.backing_engine = a->b.open_engine;
	a->o.backing_engine_opts = &a->b.eo;
	a->o.tunables = &a->tun;
	if (a->buffers)
		a->o.nr_buffers = a->buffers;
	*o = (struct rawio_cache_bench_opts){ .size = sizeof(*o),
					      .cache_dev = a->c.dev,
					      .backing_dev = a->b.dev,
					      .cache_opts = &a->o,
					      .segment_size = a->segment_size,
					      .bytes = a->bytes,
					      .threads = a->threads,
					      .writers = a->writers,
					      .readers = a->readers,
					      .errbuf = err,
					      .errbuf_len = err_len };
	if (a->seconds > 0)
		o->runtime_ns = (uint64_t)(a->seconds * 1e9);
}

static int bench_absorb(struct cc_args *a, const struct rawio_cache_bench_opts *o)
{
	struct rawio_cache_bench_absorb r;
	cJSON *j;
	int ret = rawio_cache_bench_absorb(o, &r);

	if (ret)
		return ret;
	if (!a->json)
		printf("absorb: %llu random 4 KiB writes from %u threads in %.2f s: %.0f IOPS\n"
		       "  cache device sequential write %.1f MB/s -> 75%% goal %.0f IOPS (%.0f%% "
		       "of "
		       "it reached)\n"
		       "  backing device random 4 KiB writes (QD 32) %.0f IOPS -> %.1fx\n",
		       (unsigned long long)r.writes, r.threads, r.seconds, r.iops, r.cache_seq_mb_s,
		       r.goal_iops, r.pct_of_goal, r.backing_rand_iops, r.x_backing);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", "absorb");
	cJSON_AddNumberToObject(j, "writes", (double)r.writes);
	cJSON_AddNumberToObject(j, "threads", r.threads);
	cJSON_AddNumberToObject(j, "seconds", r.seconds);
	cJSON_AddNumberToObject(j, "iops", r.iops);
	cJSON_AddNumberToObject(j, "cache_seq_mb_s", r.cache_seq_mb_s);
	cJSON_AddNumberToObject(j, "goal_iops", r.goal_iops);
	cJSON_AddNumberToObject(j, "pct_of_goal", r.pct_of_goal);
	cJSON_AddNumberToObject(j, "backing_rand_iops", r.backing_rand_iops);
	cJSON_AddNumberToObject(j, "x_backing", r.x_backing);
	cJSON_AddNumberToObject(j, "segments", (double)r.segments);
	cJSON_AddNumberToObject(j, "write_stalls", (double)r.write_stalls);
	cJSON_AddNumberToObject(j, "cpu_us_per_write", r.cpu_us_per_write);
	cJSON_AddNumberToObject(j, "csw_per_write", r.csw_per_write);
	cJSON_AddNumberToObject(j, "flush_seconds", r.flush_seconds);
	cJSON_AddNumberToObject(j, "seg_wait_us", r.seg_wait_us);
	cJSON_AddNumberToObject(j, "seg_write_us", r.seg_write_us);
	cJSON_AddNumberToObject(j, "seg_depth", r.seg_depth);
	cJSON_AddNumberToObject(j, "seg_busy_pct", r.seg_busy_pct);
	cJSON_AddNumberToObject(j, "seg_copy_wait_us", r.seg_copy_wait_us);
	cJSON_AddNumberToObject(j, "seg_reap_wait_us", r.seg_reap_wait_us);
	cJSON_AddNumberToObject(j, "ceiling_sync_seconds", r.ceiling_sync_seconds);
	bench_emit(a, j);
	return 0;
}

static int bench_drain(struct cc_args *a, struct rawio_cache_bench_opts *o)
{
	char list[128], *save = NULL, *tok;

	snprintf(list, sizeof(list), "%s", a->batches[0] ? a->batches : "1,4,32,128");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct rawio_cache_bench_drain r;
		cJSON *j;
		int ret;

		o->batch = (unsigned)atoi(tok);
		ret = rawio_cache_bench_drain(o, &r);
		if (ret)
			return ret;
		if (!a->json)
			printf("drain %6.1f MiB, nr_batched_migration %3u: %7.2f s (%.1f MB/s), "
			       "%llu "
			       "batches, %llu blocks in %llu writes, backing busy %.1f%% (seek "
			       "%.0f%% "
			       "of it)\n",
			       (double)r.blocks * CC_BLOCK / (1 << 20), r.batch, r.seconds, r.mb_s,
			       (unsigned long long)r.batches, (unsigned long long)r.migrate_blocks,
			       (unsigned long long)r.backing_writes, r.backing_busy_pct,
			       r.backing_seek_pct);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", "drain");
		cJSON_AddNumberToObject(j, "nr_batched_migration", r.batch);
		cJSON_AddNumberToObject(j, "blocks", (double)r.blocks);
		cJSON_AddNumberToObject(j, "seconds", r.seconds);
		cJSON_AddNumberToObject(j, "batches", (double)r.batches);
		cJSON_AddNumberToObject(j, "migrate_blocks", (double)r.migrate_blocks);
		cJSON_AddNumberToObject(j, "backing_writes", (double)r.backing_writes);
		cJSON_AddNumberToObject(j, "backing_flushes", (double)r.backing_flushes);
		cJSON_AddNumberToObject(j, "read_seconds", r.read_s);
		cJSON_AddNumberToObject(j, "write_seconds", r.write_s);
		cJSON_AddNumberToObject(j, "flush_seconds", r.flush_s);
		cJSON_AddNumberToObject(j, "mean_in_flight", r.inflight);
		cJSON_AddNumberToObject(j, "backing_busy_seconds", r.backing_busy_s);
		cJSON_AddNumberToObject(j, "backing_seek_seconds", r.backing_seek_s);
		cJSON_AddBoolToObject(j, "sched", a->o.cache_io_props != NULL);
		if (o->readers) {
			if (!a->json)
				printf("  %u readers: alone %.0f reads/s p50 %.0f us p99 %.0f us; "
				       "during "
				       "the drain %.0f reads/s p50 %.0f us p99 %.0f us\n",
				       o->readers, r.idle_read_iops,
				       (double)r.idle_read_p50_ns / 1e3,
				       (double)r.idle_read_p99_ns / 1e3, r.read_iops,
				       (double)r.read_p50_ns / 1e3, (double)r.read_p99_ns / 1e3);
			cJSON_AddNumberToObject(j, "readers", o->readers);
			cJSON_AddNumberToObject(j, "idle_read_iops", r.idle_read_iops);
			cJSON_AddNumberToObject(j, "idle_read_p50_ns", (double)r.idle_read_p50_ns);
			cJSON_AddNumberToObject(j, "idle_read_p99_ns", (double)r.idle_read_p99_ns);
			cJSON_AddNumberToObject(j, "read_iops", r.read_iops);
			cJSON_AddNumberToObject(j, "read_p50_ns", (double)r.read_p50_ns);
			cJSON_AddNumberToObject(j, "read_p99_ns", (double)r.read_p99_ns);
			cJSON_AddNumberToObject(j, "read_max_ns", (double)r.read_max_ns);
		}
		if (r.sched) {
			cJSON_AddNumberToObject(j, "read_queue_p99_ns",
						(double)r.read_queue_p99_ns);
			cJSON_AddNumberToObject(j, "read_disk_p99_ns", (double)r.read_disk_p99_ns);
			cJSON_AddNumberToObject(j, "migrate_queue_p99_ns",
						(double)r.migrate_queue_p99_ns);
			cJSON_AddNumberToObject(j, "migrate_disk_p99_ns",
						(double)r.migrate_disk_p99_ns);
			cJSON_AddNumberToObject(j, "bound_waits", (double)r.bound_waits);
			cJSON_AddNumberToObject(j, "token_waits", (double)r.token_waits);
			cJSON_AddNumberToObject(j, "grant_waits", (double)r.grant_waits);
		}
		bench_emit(a, j);
	}
	return 0;
}

static int bench_fsync(struct cc_args *a, const struct rawio_cache_bench_opts *o)
{
	struct rawio_cache_bench_fsync r;
	cJSON *j;
	int ret = rawio_cache_bench_fsync(o, &r);

	if (ret)
		return ret;
	if (!a->json)
		printf("fsync: %u writers, deadline %u us: %.0f write+flush/s (p50 %.0f us, p99 "
		       "%.0f us, p99.9 %.0f us); %.3f segments and %.1f KiB written per flush, "
		       "%.2f cache flushes per flush\n",
		       r.writers, r.deadline_us, r.iops, r.p50_us, r.p99_us, r.p999_us,
		       r.segments_per_flush, r.kib_per_flush, r.cache_flushes_per_flush);
	if (!a->json && r.flush_commit_us > 0)
		printf("fsync: a flush's mean split: lock %.1f us, queue %.1f us, commit %.1f us, "
		       "wake-up %.1f us\n",
		       r.flush_lock_us, r.flush_queue_us, r.flush_commit_us, r.flush_wake_us);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", "fsync");
	cJSON_AddNumberToObject(j, "writers", r.writers);
	cJSON_AddNumberToObject(j, "deadline_us", r.deadline_us);
	cJSON_AddNumberToObject(j, "ops", (double)r.ops);
	cJSON_AddNumberToObject(j, "seconds", r.seconds);
	cJSON_AddNumberToObject(j, "iops", r.iops);
	cJSON_AddNumberToObject(j, "p50_us", r.p50_us);
	cJSON_AddNumberToObject(j, "p99_us", r.p99_us);
	cJSON_AddNumberToObject(j, "p999_us", r.p999_us);
	cJSON_AddNumberToObject(j, "flush_lock_us", r.flush_lock_us);
	cJSON_AddNumberToObject(j, "flush_queue_us", r.flush_queue_us);
	cJSON_AddNumberToObject(j, "flush_commit_us", r.flush_commit_us);
	cJSON_AddNumberToObject(j, "flush_wake_us", r.flush_wake_us);
	cJSON_AddNumberToObject(j, "segments_per_flush", r.segments_per_flush);
	cJSON_AddNumberToObject(j, "kib_per_flush", r.kib_per_flush);
	cJSON_AddNumberToObject(j, "cache_flushes_per_flush", r.cache_flushes_per_flush);
	cJSON_AddNumberToObject(j, "write_stalls", (double)r.write_stalls);
	cJSON_AddNumberToObject(j, "migrate_batches", (double)r.migrate_batches);
	bench_emit(a, j);
	return 0;
}

static int cc_cmd_bench(struct cc_args *a)
{
	struct rawio_cache_bench_opts o;
	char err[512] = "";
	int ret;

	/* A benchmark writes over both devices and formats the cache: ask first. */
	for (int i = 0; i < 2 && !a->force; i++) {
		const char *path = i ? a->b.path : a->c.path;
		char what[4200];
		int r = rawio_dev_probe_data(path, what, sizeof(what));

		if (r == 1) {
			cli_err("bench: %s holds %s, which the benchmark would overwrite "
				"(--force to write anyway)",
				path, what);
			return 2;
		}
		if (r < 0) {
			cli_err("bench: %s: %s", path, rawio_strerror(r));
			return 1;
		}
	}
	bench_opts(a, &o, err, sizeof(err));
	if (!strcmp(a->mode, "absorb")) {
		ret = bench_absorb(a, &o);
	} else if (!strcmp(a->mode, "drain")) {
		ret = bench_drain(a, &o);
	} else if (!strcmp(a->mode, "fsync")) {
		ret = bench_fsync(a, &o);
	} else {
		cli_err("bench: '%s' is not one of absorb, drain, fsync", a->mode);
		return 2;
	}
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return 1;
	}
	return 0;
}

/* ---- parsing ---- */

int cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "segment-size", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },
		{ "backing-size", required_argument, NULL, 'Z' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 's' },
		{ "cache-engine", required_argument, NULL, 'e' },
		{ "backing-engine", required_argument, NULL, 'E' },
		{ "cache-throttle", required_argument, NULL, 't' },
		{ "backing-throttle", required_argument, NULL, 'T' },
		{ "buffers", required_argument, NULL, 'B' },
		{ "batch", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'n' },
		{ "writers", required_argument, NULL, 'w' },
		{ "bytes", required_argument, NULL, 'y' },
		{ "deadline-us", required_argument, NULL, 'd' },
		{ "lock-wait", required_argument, NULL, 'L' },
		{ "migrate-qd", required_argument, NULL, 'M' },
		{ "io-properties", required_argument, NULL, 'P' },
		{ "readers", required_argument, NULL, 'R' },
		{ "tunable", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_args a = { 0 };
	unsigned v;
	uint64_t sz;
	int c, nargs, rc;
	char **pos;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cache_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	a.cmd = argv[1];
	argc--;
	argv++;
	argv[0] = (char *)cli_prog; /* for getopt's messages */
	rawio_cache_tunables_default(&a.tun);
	a.bytes = 256ull << 20;
	/* set and get take no options: "set SOCK low_watermark -1" is a value, not an option. */
	while ((c = getopt_long(argc, argv,
				!strcmp(a.cmd, "set") || !strcmp(a.cmd, "get") ? "+h" : "h",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (cli_size("--segment-size", optarg, &sz))
				return 2;
			a.segment_size = (uint32_t)sz;
			break;
		case 'f':
			a.force = true;
			break;
		case 'z':
			if (cli_size("--size", optarg, &a.c.create_size))
				return 2;
			break;
		case 'Z':
			if (cli_size("--backing-size", optarg, &a.b.create_size))
				return 2;
			break;
		case 'j':
			a.json = true;
			break;
		case 'k':
			a.socket = optarg;
			break;
		case 's':
			a.seconds = atof(optarg);
			break;
		case 'e':
			if (cli_engine("--cache-engine", optarg))
				return 2;
			a.c.engine = optarg;
			break;
		case 'E':
			if (cli_engine("--backing-engine", optarg))
				return 2;
			a.b.engine = optarg;
			break;
		case 't':
			a.c.throttle = optarg;
			break;
		case 'T':
			a.b.throttle = optarg;
			break;
		case 'B':
			if (cli_uint("--buffers", optarg, 2, 1024, &a.buffers))
				return 2;
			break;
		case 'b':
			snprintf(a.batches, sizeof(a.batches), "%s", optarg);
			if (!strchr(optarg, ',')) {
				if (cli_uint("--batch", optarg, 1, 256, &v))
					return 2;
				a.tun.nr_batched_migration = v;
			}
			break;
		case 'n':
			if (cli_uint("--threads", optarg, 1, 256, &a.threads))
				return 2;
			break;
		case 'w':
			if (cli_uint("--writers", optarg, 1, 256, &a.writers))
				return 2;
			break;
		case 'y':
			if (cli_size("--bytes", optarg, &a.bytes))
				return 2;
			break;
		case 'd':
			if (cli_uint("--deadline-us", optarg, 0, 1000000, &v))
				return 2;
			a.tun.barrier_deadline_us = v;
			break;
		case 'M':
			if (cli_uint("--migrate-qd", optarg, 1, 1024, &a.o.migrate_qd))
				return 2;
			break;
		case 'L':
			if (cli_uint("--lock-wait", optarg, 0, 86400000, &v))
				return 2;
			a.lock_wait_ms = v ? (int)v : -1;
			break;
		case 'P': {
			char err[512];
			size_t nr;
			int ret = rawio_io_props_load(optarg, a.props, 2, &nr, err, sizeof(err));

			if (!ret && !nr)
				snprintf(err, sizeof(err), "%s: no disks", optarg);
			if (ret || !nr) {
				cli_err("%s", err);
				return 2;
			}
			if (nr < 2)
				a.props[1] = a.props[0];
			a.o.cache_io_props = &a.props[0];
			a.o.backing_io_props = &a.props[1];
			break;
		}
		case 'R':
			if (cli_uint("--readers", optarg, 1, 256, &a.readers))
				return 2;
			break;
		case 'U': {
			char *eq = strchr(optarg, '='), *end = NULL;
			unsigned long long val = 0;

			if (eq) {
				*eq = '\0';
				val = strtoull(eq + 1, &end, 0);
			}
			if (!eq || !eq[1] || *end ||
			    rawio_cache_tunables_put(&a.tun, optarg, val)) {
				cli_err("--tunable %s%s%s: want NAME=VALUE, a tunable in its range",
					optarg, eq ? "=" : "", eq ? eq + 1 : "");
				return 2;
			}
			break;
		}
		case 'h':
			cache_usage(stdout);
			return 0;
		default:
			cache_usage(stderr);
			return 2;
		}
	}
	nargs = argc - optind;
	pos = argv + optind;

	/* Commands that talk to a served cache. */
	if (!strcmp(a.cmd, "set") || !strcmp(a.cmd, "get") ||
	    (!strcmp(a.cmd, "stat") && a.socket && !nargs)) {
		char req[512];
		uint64_t lo, hi;

		if (!strcmp(a.cmd, "set") && nargs == 3) {
			if (cc_set_check(pos[1], pos[2]))
				return 2;
			snprintf(req, sizeof(req), "set %s %s", pos[1], pos[2]);
		} else if (!strcmp(a.cmd, "get") && nargs == 2 &&
			   rawio_cache_tunable_range(pos[1], &lo, &hi)) {
			cli_err("get: no tunable '%s'", pos[1]);
			return 2;
		} else if (!strcmp(a.cmd, "get") && (nargs == 1 || nargs == 2)) {
			snprintf(req, sizeof(req), "get%s%s", nargs == 2 ? " " : "",
				 nargs == 2 ? pos[1] : "");
		} else if (!strcmp(a.cmd, "stat")) {
			snprintf(req, sizeof(req), "stat");
		} else {
			cli_err("%s: wrong number of arguments", a.cmd);
			cache_usage(stderr);
			return 2;
		}
		return cc_request(!strcmp(a.cmd, "stat") ? a.socket : pos[0], req,
				  !strcmp(a.cmd, "set") ? 2 : 1);
	}
	if (!strcmp(a.cmd, "bench")) {
		if (nargs != 3) {
			cli_err("bench MODE CACHE BACKING");
			return 2;
		}
		a.mode = pos[0];
		pos++;
		nargs--;
	} else if (strcmp(a.cmd, "format") && strcmp(a.cmd, "stat") && strcmp(a.cmd, "check") &&
		   strcmp(a.cmd, "drain") && strcmp(a.cmd, "serve")) {
		cli_err("unknown command '%s'", a.cmd);
		cache_usage(stderr);
		return 2;
	}
	if (nargs != 2) {
		cli_err("%s: CACHE and BACKING are needed", a.cmd);
		cache_usage(stderr);
		return 2;
	}
	a.c.path = pos[0];
	a.b.path = pos[1];
	a.read_only = !strcmp(a.cmd, "stat") || !strcmp(a.cmd, "check");
	if (rawio_dev_same_path(a.c.path, a.b.path)) {
		cli_err("%s: CACHE and BACKING are the same device (%s, %s)", a.cmd, a.c.path,
			a.b.path);
		return 2;
	}
	if (cc_dev_open(&a.c, a.read_only, a.lock_wait_ms, NULL) ||
	    cc_dev_open(&a.b, a.read_only, a.lock_wait_ms,
			strcmp(a.cmd, "format") && strcmp(a.cmd, "bench") ? a.c.dev : NULL)) {
		cc_dev_close(&a.c);
		cc_dev_close(&a.b);
		cc_dev_undo(&a.c);
		cc_dev_undo(&a.b);
		return 1;
	}
	if (!strcmp(a.cmd, "format"))
		rc = cc_format(&a) ? 1 : 0;
	else if (!strcmp(a.cmd, "stat"))
		rc = cc_cmd_stat(&a);
	else if (!strcmp(a.cmd, "check"))
		rc = cc_cmd_check(&a);
	else if (!strcmp(a.cmd, "drain"))
		rc = cc_cmd_drain(&a);
	else if (!strcmp(a.cmd, "serve"))
		rc = cc_cmd_serve(&a);
	else
		rc = cc_cmd_bench(&a);
	cc_dev_close(&a.c);
	cc_dev_close(&a.b);
	if (rc && !strcmp(a.cmd, "format")) {
		cc_dev_undo(&a.c);
		cc_dev_undo(&a.b);
	}
	return rc;
}
