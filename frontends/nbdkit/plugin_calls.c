// SPDX-License-Identifier: MIT
/*
 * plugin_calls: what an nbdkit plugin's pread/pwrite cost without the
 * protocol. Loads the plugin as nbdkit would (load, config, config_complete,
 * get_ready, after_fork, open), then THREADS threads call pread or pwrite of
 * BS bytes at random BS-aligned offsets for SECONDS; prints calls per second
 * and the process's CPU time per call (getrusage: what the plugin and the
 * library under it spend, the part of nbdkit's per-request CPU that is ours),
 * and of it the user time (the kernel's part is the same pread or pwrite for
 * every plugin; the user part is the plugin's own: tick-sampled, so compare
 * medians of several runs).
 * The buffers are malloc'd like nbdkit's own request buffers (16-byte
 * aligned). Built in the tree (build/PRESET/frontends/nbdkit/plugin_calls,
 * linked with librawio for rawio_parse_size). It loads nbdkit's own memory
 * plugin too (/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-memory-plugin.so
 * size=1G) and its file plugin (nbdkit-file-plugin.so file=PATH [cache=none]). A measurement tool for docs/perf.md, not a test:
 *
 *   plugin_calls PLUGIN.so THREADS[xROUNDS] SECONDS [fill]read|[fill]write BS KEY=VALUE...
 *
 * fillread, fillwrite: the whole device written first with 1 MiB pwrites
 * (untimed), so that reads copy data and writes find memory allocated; each
 * 8-byte word holds its own offset, a read checks the first word of what it
 * got, a write stores its offset there, and after the run every BS block is
 * read back and checked the same way (exit 1 on a mismatch: tests/frontend
 * fe_threads runs it as a test). ROUNDS: THREADS threads started and joined
 * ROUNDS times (SECONDS each), as nbdkit starts and joins a connection's
 * workers; the plugin's cleanup and unload run at the end.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <rawio/dev.h>

/* The nbdkit functions the plugin calls, as the server would answer them. */
void nbdkit_error(const char *fs, ...)
{
	va_list ap;

	va_start(ap, fs);
	vfprintf(stderr, fs, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void nbdkit_debug(const char *fs, ...)
{
	(void)fs;
}

void nbdkit_set_error(int err)
{
	(void)err;
}

int nbdkit_parse_bool(const char *str)
{
	if (!strcmp(str, "1") || !strcasecmp(str, "true") || !strcasecmp(str, "on") ||
	    !strcasecmp(str, "yes"))
		return 1;
	if (!strcmp(str, "0") || !strcasecmp(str, "false") || !strcasecmp(str, "off") ||
	    !strcasecmp(str, "no"))
		return 0;
	nbdkit_error("could not decipher boolean (%s)", str);
	return -1;
}

int nbdkit_parse_uint64_t(const char *what, const char *str, uint64_t *r)
{
	char *end;

	errno = 0;
	*r = strtoull(str, &end, 0);
	if (errno || end == str || *end) {
		nbdkit_error("%s: could not parse number: %s", what, str);
		return -1;
	}
	return 0;
}

int nbdkit_parse_unsigned(const char *what, const char *str, unsigned *r)
{
	uint64_t v;

	if (nbdkit_parse_uint64_t(what, str, &v) || v > 0xffffffffu)
		return -1;
	*r = (unsigned)v;
	return 0;
}

int64_t nbdkit_parse_size(const char *str)
{
	uint64_t v;

	return rawio_parse_size(str, &v) || v > INT64_MAX ? -1 : (int64_t)v;
}

/* nbdkit's own memory and file plugins link these; pread and pwrite never call most. */
void nbdkit_extents_free(struct nbdkit_extents *ex);
void nbdkit_exports_free(struct nbdkit_exports *ex);

int nbdkit_add_export(struct nbdkit_exports *ex, const char *name, const char *desc)
{
	return -1;
}

const char *nbdkit_export_name(void)
{
	return "";
}

char *nbdkit_realpath(const char *path) /* the file plugin's file= */
{
	return realpath(path, NULL);
}

int nbdkit_add_extent(struct nbdkit_extents *ex, uint64_t off, uint64_t len, uint32_t type)
{
	return -1;
}

void nbdkit_extents_free(struct nbdkit_extents *ex)
{
}

void nbdkit_exports_free(struct nbdkit_exports *ex)
{
}

static struct nbdkit_plugin *pl;
static void *handle;
static int64_t size;
static uint32_t bs;
static int writing, fill;
static atomic_int stop, bad;
static atomic_ullong calls;

/* Filled devices: the first word of the block at OFF holds OFF. */
static int block_ok(const char *buf, uint64_t off)
{
	uint64_t v;

	if (bs < sizeof(v) || off % sizeof(v))
		return 1;
	memcpy(&v, buf, sizeof(v));
	if (v == off)
		return 1;
	if (!atomic_exchange(&bad, 1))
		fprintf(stderr, "plugin_calls: block at %" PRIu64 " holds %" PRIu64 "\n", off, v);
	return 0;
}

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1, n = 0;
	uint64_t blocks = (uint64_t)size / bs;
	char *buf = malloc(bs);

	if (!buf)
		return NULL;
	memset(buf, 0x5a, bs);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = x % blocks * bs;
		if (writing && fill && bs >= sizeof(off))
			memcpy(buf, &off, sizeof(off));
		if (writing ? pl->pwrite(handle, buf, bs, off, 0)
			    : pl->pread(handle, buf, bs, off, 0))
			break;
		if (!writing && fill && !block_ok(buf, off))
			break;
		n++;
	}
	atomic_fetch_add(&calls, n);
	free(buf);
	return NULL;
}

/* The process's CPU time in seconds: user and system, or (USER_ONLY) user. */
static double cpu_s(int user_only)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	if (user_only)
		return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct nbdkit_plugin *(*init)(void);
	pthread_t th[256];
	unsigned nt, rounds = 1;
	double secs, c0, u0, t0, c1, u1, t1;
	struct timespec ts;
	char *x;
	void *so;

	if (argc < 6) {
		fprintf(stderr, "usage: plugin_calls PLUGIN.so THREADS SECONDS read|write BS "
				"KEY=VALUE...\n");
		return 2;
	}
	nt = (unsigned)atoi(argv[2]);
	x = strchr(argv[2], 'x');
	if (x)
		rounds = (unsigned)atoi(x + 1);
	secs = atof(argv[3]);
	fill = !strncmp(argv[4], "fill", 4);
	writing = !strcmp(argv[4] + (fill ? 4 : 0), "write");
	bs = (uint32_t)atoi(argv[5]);
	if (!nt || nt > 256 || !rounds || secs <= 0 || !bs) {
		fprintf(stderr, "plugin_calls: THREADS 1..256, ROUNDS > 0, SECONDS > 0, BS > 0\n");
		return 2;
	}
	so = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	init = so ? (struct nbdkit_plugin * (*)(void)) dlsym(so, "plugin_init") : NULL;
	if (!init) {
		fprintf(stderr, "plugin_calls: %s\n", dlerror());
		return 1;
	}
	pl = init();
	if (pl->load)
		pl->load();
	for (int i = 6; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fprintf(stderr, "plugin_calls: %s: want KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (pl->config(argv[i], eq + 1))
			return 1;
	}
	if ((pl->config_complete && pl->config_complete()) || (pl->get_ready && pl->get_ready()) ||
	    (pl->after_fork && pl->after_fork()))
		return 1;
	handle = pl->open(0);
	if (!handle)
		return 1;
	size = pl->get_size(handle);
	if (size < bs)
		return 1;
	if (fill) {
		uint64_t *buf = malloc(1 << 20);

		for (int64_t off = 0; buf && off + (1 << 20) <= size; off += 1 << 20) {
			for (size_t i = 0; i < (1 << 20) / sizeof(*buf); i++)
				buf[i] = (uint64_t)off + i * sizeof(*buf);
			if (pl->pwrite(handle, buf, 1 << 20, (uint64_t)off, 0))
				return 1;
		}
		free(buf);
	}
	c0 = cpu_s(0);
	u0 = cpu_s(1);
	t0 = now_s();
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	for (unsigned r = 0; r < rounds && !atomic_load(&bad); r++) {
		atomic_store(&stop, 0);
		for (unsigned i = 0; i < nt; i++)
			pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(r * nt + i + 1));
		nanosleep(&ts, NULL);
		atomic_store(&stop, 1);
		for (unsigned i = 0; i < nt; i++)
			pthread_join(th[i], NULL);
	}
	c1 = cpu_s(0);
	u1 = cpu_s(1);
	t1 = now_s();
	printf("%s %s %u threads x %u rounds %u B: %.0f calls/s, %.0f ns CPU per call (%.0f "
	       "user)\n",
	       argv[1], argv[4], nt, rounds, bs, atomic_load(&calls) / (t1 - t0),
	       (c1 - c0) * 1e9 / atomic_load(&calls), (u1 - u0) * 1e9 / atomic_load(&calls));
	if (fill) {
		char *buf = malloc(bs);

		for (uint64_t off = 0; buf && off + bs <= (uint64_t)size; off += bs)
			if (pl->pread(handle, buf, bs, off, 0) || !block_ok(buf, off))
				atomic_store(&bad, 1);
		free(buf);
	}
	if (pl->close)
		pl->close(handle);
	if (pl->cleanup)
		pl->cleanup();
	if (pl->unload)
		pl->unload();
	return atomic_load(&bad) ? 1 : 0;
}
