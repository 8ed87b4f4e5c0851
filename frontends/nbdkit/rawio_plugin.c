// SPDX-License-Identifier: MIT
/*
 * nbdkit-rawio-plugin: any rawio device served over NBD (docs/frontend.md).
 *
 *   nbdkit rawio dev=PATH|mem:SIZE [engine=E] [throttle=SPEC] [buffered=BOOL]
 *   nbdkit rawio cache=PATH backing=PATH [cache-engine=E] [backing-engine=E]
 *          [cache-throttle=SPEC] [backing-throttle=SPEC] [buffers=N] [batch=N]
 *          [TUNABLE=VALUE ...] [socket=CTL_SOCKET]
 *   either with [io-properties=FILE] (Seastar's io_properties.yaml: an I/O
 *   scheduler, rawio/sched.h), plain devices also with [class=NAME:SHARES]
 *
 * The device is global to the plugin and opened once: files in .get_ready
 * (so that errors come before nbdkit writes its pid file), engines and the
 * cache's workers and the control socket's thread in .after_fork (threads must
 * not predate nbdkit's fork; the control socket is bound in .get_ready);
 * .open per connection only hands out a pointer. Thread model PARALLEL: each
 * of nbdkit's worker threads drives a plain device through its own engine
 * context and bounce buffer (struct rp_thread: taken from the pools at the
 * thread's first request, given back when it exits), so a request takes no
 * lock; the cache is thread-safe.
 *
 * Requests not aligned to the logical block are split into an aligned middle
 * and read-modify-write head and tail blocks; each RMW holds a lock for its
 * block (striped), so two RMWs of one block never lose an update.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/cache.h>
#include <rawio/rawio.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

#define RP_CHUNK     (1u << 20) /* bounce buffers, zero buffer, I/O split */
#define RP_HUGE	     (2u << 20) /* x86-64 transparent huge page */
#define RP_MAX_BLOCK (32u << 20)
#define RP_LOCKS     256u
#define RP_SECTOR    512u

/* How one device is driven: an engine, optionally behind an emulated slow device. */
struct rp_dev {
	const char *path;
	const char *engine;
	const char *throttle;
	struct rawio_dev *dev;
	struct rawio_throttle *thr;
	struct rawio_engine_opts eo;
	const char *open_engine;
	bool buffered; /* buffered=: no O_DIRECT (files, block devices) */
};

static struct {
	/* configuration */
	struct rp_dev d;      /* dev= */
	struct rp_dev c, b;   /* cache=, backing= */
	const char *ctl_path; /* socket= */
	const char *fault;    /* cache-fault=SEED:FLUSH (tests: a power cut) */
	struct rawio_fault_model *model;
	unsigned buffers;
	struct rawio_cache_tunables tun;
	unsigned nr_sets;	/* TUNABLE= given: they need a cache */
	const char *props_path; /* io-properties= */
	struct rawio_io_props props[2];
	char class_name[32]; /* class= (plain devices): the export's scheduler class */
	unsigned class_shares;

	/* state, from .after_fork to .cleanup */
	struct rawio_engine *sched_e; /* plain device with io-properties: the scheduler's */
	struct rawio_sched *sched;
	struct rawio_sched_class *cls;
	bool open;
	struct rawio_cache *cache;
	struct rawio_cache_ctl *ctl;
	const char *name; /* path named in errors */
	uint64_t size;
	uint32_t align;	     /* logical block: RMW below it */
	uint32_t preferred;  /* physical block or optimal I/O */
	bool fua_native;     /* the engine does FUA writes (else write + fdatasync) */
	bool discard_zeroes; /* a discard reads back as zeroes (mem, files) */
	bool mem;	     /* a RAM device: a discard is a memset */
	char *mem_base;	     /* a plain RAM device: reads and writes are a memcpy here */
	bool mem_null;	     /* mem_base set, backed=0: nothing is kept */
	bool can_trim;
	void *zeroes;			   /* RP_CHUNK of zeroes, shared (never written) */
	struct rawio_engine_pool *engines; /* plain device: the worker threads' contexts */
	struct rawio_buf_pool *bounce;	   /* their RP_CHUNK buffers aligned for the device */
	pthread_mutex_t locks[RP_LOCKS];

	/* worker threads' own contexts (plain devices), under rp_threads_lock */
	pthread_key_t thread_key; /* its destructor gives a thread's back at exit */
	bool thread_key_made;
	struct rp_thread *threads; /* every thread's, for .cleanup */
	unsigned gen;		   /* bumped at .after_fork and .cleanup: older ones are gone */
} rp;

/*
 * One worker thread's engine context and bounce buffer. nbdkit starts worker
 * threads per connection and joins them when it closes, so a thread's exit
 * (the key's destructor) returns them to the pools; .cleanup takes back those
 * of threads still alive (nbdkit's main thread, a connection thread that
 * serves requests itself and exits after .cleanup: then the destructor finds
 * its entry gone and touches nothing).
 */
struct rp_thread {
	struct rp_thread *next;
	struct rawio_engine *e;
	void *bounce; /* RP_CHUNK, made at the first bounced request */
};

static pthread_mutex_t rp_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread struct rp_thread *rp_self;
static __thread unsigned rp_self_gen;

static void rp_error(int err, const char *what, uint64_t len, uint64_t off)
{
	nbdkit_error("%s: %s of %" PRIu64 " bytes at offset %" PRIu64 ": %s", rp.name, what, len,
		     off, rawio_strerror(err));
	nbdkit_set_error(err < 0 ? -err : err);
}

/* ---- configuration ---- */

static void rp_thread_exit(void *arg);

static void rp_load(void)
{
	rawio_cache_tunables_default(&rp.tun);
	for (unsigned i = 0; i < RP_LOCKS; i++)
		pthread_mutex_init(&rp.locks[i], NULL);
	/* Without a key, threads' contexts are only taken back at .cleanup. */
	rp.thread_key_made = !pthread_key_create(&rp.thread_key, rp_thread_exit);
}

static bool rp_is_tunable(const char *key)
{
	for (const char *const *n = rawio_cache_tunable_names(); *n; n++)
		if (!strcmp(*n, key))
			return true;
	return false;
}

static int rp_config(const char *key, const char *value)
{
	struct {
		const char *key;
		const char **val;
	} strs[] = {
		{ "dev", &rp.d.path },
		{ "engine", &rp.d.engine },
		{ "throttle", &rp.d.throttle },
		{ "cache", &rp.c.path },
		{ "backing", &rp.b.path },
		{ "cache-engine", &rp.c.engine },
		{ "backing-engine", &rp.b.engine },
		{ "cache-throttle", &rp.c.throttle },
		{ "backing-throttle", &rp.b.throttle },
		{ "socket", &rp.ctl_path },
		{ "cache-fault", &rp.fault },
		{ "io-properties", &rp.props_path },
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(key, strs[i].key))
			continue;
		/* nbdkit keeps VALUE for the plugin's life: no copy needed. */
		*strs[i].val = value;
		return 0;
	}
	if (!strcmp(key, "buffers"))
		return nbdkit_parse_unsigned("buffers", value, &rp.buffers);
	if (!strcmp(key, "buffered")) {
		int b = nbdkit_parse_bool(value);

		if (b < 0)
			return -1;
		rp.d.buffered = b;
		return 0;
	}
	if (!strcmp(key, "class")) {
		const char *colon = strrchr(value, ':');
		size_t n = colon ? (size_t)(colon - value) : 0;

		if (!colon || !n || n >= sizeof(rp.class_name) ||
		    nbdkit_parse_unsigned("class shares", colon + 1, &rp.class_shares) ||
		    !rp.class_shares || rp.class_shares > 65535) {
			nbdkit_error("class=%s: want NAME:SHARES (NAME up to 31 bytes, SHARES "
				     "1..65535)",
				     value);
			return -1;
		}
		memcpy(rp.class_name, value, n);
		rp.class_name[n] = '\0';
		return 0;
	}
	if (!strcmp(key, "batch") || rp_is_tunable(key)) {
		const char *name = strcmp(key, "batch") ? key : "nr_batched_migration";
		uint64_t v, lo = 0, hi = 0;

		if (nbdkit_parse_uint64_t(key, value, &v))
			return -1;
		/*
		 * All of them go to the cache together at open, so their order
		 * does not matter: it checks the final low/high watermark pair.
		 */
		if (rawio_cache_tunables_put(&rp.tun, name, v)) {
			rawio_cache_tunable_range(name, &lo, &hi);
			nbdkit_error("%s=%s: out of range (%" PRIu64 " to %" PRIu64 ")", key, value,
				     lo, hi);
			return -1;
		}
		rp.nr_sets++;
		return 0;
	}
	nbdkit_error("unknown parameter '%s' (nbdkit rawio --help)", key);
	return -1;
}

static int rp_config_complete(void)
{
	if (rp.d.path && (rp.c.path || rp.b.path)) {
		nbdkit_error("dev= and cache=/backing= exclude each other");
		return -1;
	}
	if (!rp.d.path && !(rp.c.path && rp.b.path)) {
		nbdkit_error("give dev=PATH|mem:SIZE, or cache=PATH and backing=PATH");
		return -1;
	}
	if (rp.d.buffered && !rp.d.path) {
		nbdkit_error("buffered= is for dev= (the cache opens its devices O_DIRECT)");
		return -1;
	}
	if (rp.d.path && (rp.ctl_path || rp.nr_sets || rp.buffers || rp.fault)) {
		nbdkit_error("socket=, buffers=, cache-fault= and cache tunables need cache= and "
			     "backing=");
		return -1;
	}
	if (rp.class_name[0] && !rp.d.path) {
		nbdkit_error("class= is for dev=; the cache has its own classes (class.*.shares)");
		return -1;
	}
	if (rp.class_name[0] && !rp.props_path) {
		nbdkit_error("class= needs io-properties=FILE (without a disk model there is "
			     "nothing to share)");
		return -1;
	}
	if (rp.props_path) {
		char err[512];
		size_t nr = 0;
		int ret = rawio_io_props_load(rp.props_path, rp.props, 2, &nr, err, sizeof(err));

		if (ret || !nr) {
			nbdkit_error("%s", ret ? err : "io-properties: no disks");
			return -1;
		}
		if (nr < 2)
			rp.props[1] = rp.props[0];
	}
	if (rp.fault && rp.c.throttle) {
		nbdkit_error("cache-fault= and cache-throttle= exclude each other");
		return -1;
	}
	return 0;
}

#define rp_config_help                                                                             \
	"dev=PATH|mem:SIZE        a plain device (file, block device, RAM)\n"                      \
	"engine=E throttle=SPEC   its engine (default sync; mem for mem:) and an emulated disk\n"  \
	"buffered=true            dev=: through the page cache (default false: O_DIRECT)\n"        \
	"cache=PATH backing=PATH  the write-back cache (rawio cache format first)\n"               \
	"cache-engine= backing-engine= cache-throttle= backing-throttle= buffers= batch=\n"        \
	"TUNABLE=VALUE            allow_migrate, nr_batched_migration, ... (rawio cache --help)\n" \
	"socket=PATH              the cache's control socket (rawio cache set/get/stat)\n"         \
	"cache-fault=SEED:N       tests: the cache device on the fault engine's volatile cache,\n" \
	"                         the power cut at its Nth flush (docs/frontend.md)\n"             \
	"io-properties=FILE       Seastar's io_properties.yaml: I/O through a scheduler\n"         \
	"class=NAME:SHARES        dev=: the export's class in it (default export:1000)"

/* ---- the engine and bounce buffer pools, a thread's own (plain devices) ---- */

/* T's context and buffer back to the pools; T unlinked, rp_threads_lock held. */
static void rp_thread_free(struct rp_thread *t)
{
	rawio_engine_pool_put(rp.engines, t->e);
	rawio_buf_pool_put(rp.bounce, t->bounce);
	free(t);
}

/* The thread key's destructor: ARG is freed only if .cleanup has not taken it. */
static void rp_thread_exit(void *arg)
{
	struct rp_thread **p;

	pthread_mutex_lock(&rp_threads_lock);
	for (p = &rp.threads; *p && *p != arg; p = &(*p)->next)
		;
	if (*p) {
		*p = (*p)->next;
		rp_thread_free(arg);
	}
	pthread_mutex_unlock(&rp_threads_lock);
}

/* Every thread's context back (.cleanup: no request runs). */
static void rp_threads_free(void)
{
	struct rp_thread *t;

	pthread_mutex_lock(&rp_threads_lock);
	while ((t = rp.threads)) {
		rp.threads = t->next;
		rp_thread_free(t);
	}
	rp.gen++;
	pthread_mutex_unlock(&rp_threads_lock);
}

/* The calling thread's own context: made at its first request. 0 or -errno. */
static int rp_thread(struct rp_thread **out)
{
	struct rp_thread *t = rp_self;
	int ret;

	if (t && rp_self_gen == rp.gen && t->e) {
		*out = t;
		return 0;
	}
	if (!t || rp_self_gen != rp.gen) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		pthread_mutex_lock(&rp_threads_lock);
		t->next = rp.threads;
		rp.threads = t;
		pthread_mutex_unlock(&rp_threads_lock);
		if (rp.thread_key_made)
			pthread_setspecific(rp.thread_key, t);
		rp_self = t;
		rp_self_gen = rp.gen;
	}
	ret = rawio_engine_pool_get(rp.engines, &t->e);
	if (ret)
		return ret;
	*out = t;
	return 0;
}

/* One synchronous request on the device through the thread's context: 0 or -errno. */
static int rp_dev_io(uint8_t op, void *buf, uint64_t len, uint64_t off, unsigned flags)
{
	struct rp_thread *t;
	int64_t res;
	int ret = rp_thread(&t);

	if (ret)
		return ret;
	res = rawio_engine_io(t->e, op, flags, buf, len, off);
	/* A context left with a request in flight (a failed reap) is not reused. */
	if (res < 0 && rawio_engine_inflight(t->e)) {
		rawio_engine_close(t->e);
		t->e = NULL;
	}
	return res < 0 ? (int)res : 0;
}

/* The thread's bounce buffer (RP_CHUNK, aligned for the device), or NULL. */
static char *rp_bounce(void)
{
	struct rp_thread *t;

	if (rp_thread(&t))
		return NULL;
	if (!t->bounce)
		t->bounce = rawio_buf_pool_get(rp.bounce);
	return t->bounce;
}

static int rp_pools_new(const struct rawio_dev_info *info)
{
	struct rawio_engine_opts eo = rp.d.eo;
	struct rawio_engine *e;
	int ret;

	if (rp.props_path) {
		/* The export's class of a scheduler over one context of the engine. */
		struct rawio_sched_opts so = { .size = sizeof(so), .props = &rp.props[0] };

		eo.queue_depth = 64;
		ret = rawio_engine_open(&rp.sched_e, rp.d.open_engine, rp.d.dev, &eo);
		if (!ret)
			ret = rawio_sched_new(&rp.sched, rp.sched_e, &so);
		if (!ret)
			ret = rawio_sched_class_new(
				rp.sched, rp.class_name[0] ? rp.class_name : "export",
				rp.class_shares ? rp.class_shares : 1000, &rp.cls);
		if (ret) {
			nbdkit_error("%s: scheduler: %s", rp.d.path, rawio_strerror(ret));
			return ret;
		}
		eo = (struct rawio_engine_opts){ .size = sizeof(eo), .sched_class = rp.cls };
	}
	eo.queue_depth = 1; /* one request at a time per context */
	ret = rawio_engine_pool_new(&rp.engines, rp.cls ? "sched" : rp.d.open_engine, rp.d.dev, &eo,
				    64);
	/*
	 * Bounce buffers on a transparent huge page (the pool advises one from
	 * this alignment on): a bounced 1 MiB O_DIRECT write is then one
	 * physically contiguous segment, where 256 scattered 4 KiB pages can
	 * exceed a queue's max_segments (254 on virtio-blk here) and be split
	 * into two requests.
	 */
	if (!ret)
		ret = rawio_buf_pool_new(&rp.bounce, RP_CHUNK,
					 info->mem_align > RP_HUGE ? info->mem_align : RP_HUGE, 64);
	/* One context now: the engine's errors surface at start, not at first I/O. */
	if (!ret)
		ret = rawio_engine_pool_get(rp.engines, &e);
	if (ret) {
		nbdkit_error("%s: engine %s: %s", rp.d.path, rp.d.open_engine, rawio_strerror(ret));
		return ret;
	}
	rp.fua_native = rawio_engine_caps(e) & RAWIO_CAP_FUA;
	rawio_engine_pool_put(rp.engines, e);
	return 0;
}

/*
 * A RAM device with nothing to emulate (completion inline, no rate limit, bad
 * blocks or volatile cache, no throttle or scheduler on top) is served by
 * memcpy from the plugin: the mem engine would only add its null_blk model's
 * bookkeeping (the engine pool's lock, the hardware queue's lock twice, clock
 * reads: 4 lock round trips per request among nbdkit's 16 workers). Its
 * hardware-queue statistics then count nothing; nobody reads them here.
 */
static void rp_mem_direct(const struct rawio_dev_info *info)
{
	const struct rawio_mem_opts *mo = rawio_dev_mem_opts(rp.d.dev);

	if (info->kind != RAWIO_DEV_MEM || !mo || rp.d.thr || rp.props_path || rp.d.engine ||
	    mo->complete != RAWIO_MEM_COMPLETE_INLINE || mo->bw || mo->iops || mo->nr_badblocks ||
	    mo->cache)
		return;
	rp.mem_base = rawio_dev_mem(rp.d.dev);
	rp.mem_null = !mo->backed;
}

/* ---- opening ---- */

/*
 * DEF_ENGINE: the engine when none is named (NULL: the cache's own default).
 * FLAGS: RAWIO_DEV_LOCK_EX for a plain device served read-write (a cache's
 * devices are owned by rawio_cache_open itself).
 */
static int rp_dev_open(struct rp_dev *d, const char *def_engine, unsigned flags)
{
	struct rawio_dev_opts o = { .size = sizeof(o),
				    .flags = flags | (d->buffered ? RAWIO_DEV_BUFFERED : 0) };
	const struct rawio_dev_info *info;
	char err[512] = "";
	int ret;

	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = rawio_dev_open(&d->dev, d->path, &o);
	if (ret) {
		nbdkit_error("%s", err[0] ? err : rawio_strerror(ret));
		return ret;
	}
	info = rawio_dev_info(d->dev);
	d->eo = (struct rawio_engine_opts){ .size = sizeof(d->eo) };
	d->open_engine = d->engine;
	if (d->throttle) {
		ret = rawio_throttle_stack(d->throttle,
					   d->engine			 ? d->engine
					   : info->kind != RAWIO_DEV_MEM ? def_engine
									 : NULL,
					   info, &d->thr, &d->eo);
		if (ret) {
			if (ret == -EINVAL)
				nbdkit_error("'%s' is not a throttle spec (hdd, ssd, "
					     "iops=N,bw=SIZE,seek=T,flush=T)",
					     d->throttle);
			return ret;
		}
		d->open_engine = "throttle";
	} else if (!d->open_engine && def_engine) {
		d->open_engine = rawio_dev_fd(d->dev) < 0 ? rawio_engine_default(info) : def_engine;
	}
	return 0;
}

static void rp_dev_close(struct rp_dev *d)
{
	rawio_dev_close(d->dev);
	rawio_throttle_free(d->thr);
	d->dev = NULL;
	d->thr = NULL;
}

/*
 * cache-fault=SEED:N: the cache device behind the fault engine with a volatile
 * write cache model (include/rawio/engine.h) that pulls the plug at the
 * device's Nth flush, keeping, losing or tearing what it holds by SEED. Every
 * I/O after the cut fails, so nothing reaches the device afterwards: what a
 * power cut leaves, for tests/frontend/fe_powercut.sh.
 */
static int rp_fault_setup(void)
{
	struct rawio_fault_model_opts mo = { .size = sizeof(mo), .cut = RAWIO_CUT_AT_FLUSH };
	unsigned long long seed, n;
	int ret;

	if (sscanf(rp.fault, "%llu:%llu", &seed, &n) != 2 || !n) {
		nbdkit_error("cache-fault=%s: expected SEED:N (N >= 1)", rp.fault);
		return -EINVAL;
	}
	mo.seed = seed;
	mo.cut_at = n;
	ret = rawio_fault_model_new(&rp.model, &mo);
	if (ret) {
		nbdkit_error("cache-fault=%s: %s", rp.fault, rawio_strerror(ret));
		return ret;
	}
	rp.c.eo.fault_model = rp.model;
	rp.c.eo.lower = rp.c.engine ? rp.c.engine : "sync";
	rp.c.open_engine = "fault";
	return 0;
}

static int rp_open_cache(void)
{
	struct rawio_cache_opts o = { .size = sizeof(o) };
	char err[512] = "";
	int ret;

	if (rp.fault && rp_fault_setup())
		return -EINVAL;
	o.cache_engine = rp.c.open_engine; /* NULL: the cache's own default */
	o.cache_engine_opts = &rp.c.eo;
	o.backing_engine = rp.b.open_engine;
	o.backing_engine_opts = &rp.b.eo;
	o.tunables = &rp.tun;
	o.nr_buffers = rp.buffers;
	if (rp.props_path) {
		o.cache_io_props = &rp.props[0];
		o.backing_io_props = &rp.props[1];
	}
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = rawio_cache_open(&rp.cache, rp.c.dev, rp.b.dev, &o);
	if (ret) {
		nbdkit_error("%s", err[0] ? err : rawio_strerror(ret));
		return ret;
	}
	if (rp.ctl) {
		ret = rawio_cache_ctl_serve(rp.ctl, rp.cache);
		if (ret) {
			nbdkit_error("%s: %s", rp.ctl_path, rawio_strerror(ret));
			return ret;
		}
	}
	return 0;
}

/*
 * Before nbdkit writes its pid file, runs --run and accepts connections: open
 * the devices and, for a cache, recover it read-only once, so that a missing
 * file or an unformatted cache fails nbdkit before anyone (rawio export) takes
 * it as serving; and bind the control socket, so that it exists from then on
 * (a `rawio cache get` sent before .after_fork waits in its backlog and is
 * answered once the cache is open). Nothing here starts a thread: nbdkit may
 * still fork.
 */
static int rp_get_ready(void)
{
	struct rawio_cache_opts o = { .size = sizeof(o), .read_only = true };
	struct rawio_cache *c = NULL;
	char err[512] = "";
	int ret;

	if (rp.d.path)
		return rp_dev_open(&rp.d, "sync", RAWIO_DEV_LOCK_EX) ? -1 : 0;
	if (rp_dev_open(&rp.c, NULL, 0) || rp_dev_open(&rp.b, NULL, 0))
		return -1;
	o.tunables = &rp.tun; /* a wrong low/high watermark pair fails here, before serving */
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	ret = rawio_cache_open(&c, rp.c.dev, rp.b.dev, &o);
	if (ret) {
		nbdkit_error("%s", err[0] ? err : rawio_strerror(ret));
		return -1;
	}
	rawio_cache_close(c);
	if (rp.ctl_path) {
		ret = rawio_cache_ctl_bind(&rp.ctl, rp.ctl_path);
		if (ret) {
			nbdkit_error("%s: %s", rp.ctl_path,
				     ret == -EADDRINUSE ? "another server listens there"
							: rawio_strerror(ret));
			return -1;
		}
	}
	return 0;
}

/* The engines and the cache's workers: threads may start now. */
static int rp_after_fork(void)
{
	struct rawio_cache_stat st;

	rp.gen++;
	if (rp.d.path) {
		const struct rawio_dev_info *info;

		info = rawio_dev_info(rp.d.dev);
		rp.name = rp.d.path;
		rp.size = info->size;
		rp.align = info->offset_align ? info->offset_align : RP_SECTOR;
		rp.preferred =
			info->physical_block_size > rp.align ? info->physical_block_size : rp.align;
		if (rp.preferred < 4096)
			rp.preferred = 4096;
		rp.discard_zeroes = info->kind == RAWIO_DEV_MEM || info->kind == RAWIO_DEV_FILE;
		rp.mem = info->kind == RAWIO_DEV_MEM;
		rp.can_trim = info->kind == RAWIO_DEV_MEM || info->kind == RAWIO_DEV_FILE ||
			      info->discard;
		if (rp_pools_new(info))
			return -1;
		rp_mem_direct(info);
	} else {
		if (rp_open_cache())
			return -1;
		rawio_cache_stat(rp.cache, &st);
		rp.name = rp.c.path;
		rp.size = st.size;
		rp.align = RP_SECTOR; /* the cache's atomic unit */
		rp.preferred = 4096;  /* its block: smaller writes merge with older data */
		rp.fua_native = true;
		rp.can_trim = true;
	}
	if (rp.align & (rp.align - 1)) {
		nbdkit_error("%s: logical block %u is not a power of two", rp.name, rp.align);
		return -1;
	}
	rp.zeroes = rawio_buf_alloc(RP_CHUNK, 4096);
	if (!rp.zeroes) {
		nbdkit_error("out of memory");
		return -1;
	}
	rp.open = true;
	nbdkit_debug("rawio: %s, %" PRIu64 " bytes, block %u/%u%s", rp.name, rp.size, rp.align,
		     rp.preferred,
		     rp.d.path && !rawio_dev_info(rp.d.dev)->direct ? ", buffered" : "");
	return 0;
}

/*
 * Every acknowledged write durable, the cache closed cleanly. nbdkit calls
 * this once every connection has closed (SIGINT, SIGTERM, or a client that
 * asked for the server to exit); .unload repeats it in case it did not.
 */
static void rp_cleanup(void)
{
	int ret;

	if (rp.ctl)
		rawio_cache_ctl_stop(rp.ctl);
	rp.ctl = NULL;
	if (rp.cache) {
		ret = rawio_cache_close(rp.cache);
		if (ret)
			nbdkit_error("%s: close: %s: writes may be lost", rp.c.path,
				     rawio_strerror(ret));
		rp.cache = NULL;
	}
	if (rp.engines && rawio_dev_info(rp.d.dev)->kind != RAWIO_DEV_MEM) {
		ret = rp_dev_io(RAWIO_OP_FDATASYNC, NULL, 0, 0, 0);
		if (ret)
			nbdkit_error("%s: fdatasync: %s", rp.d.path, rawio_strerror(ret));
	}
	rp_threads_free();
	rawio_engine_pool_free(rp.engines);
	rawio_sched_free(rp.sched);
	rawio_engine_close(rp.sched_e);
	rp.sched = NULL;
	rp.sched_e = NULL;
	rp.cls = NULL;
	rawio_buf_pool_free(rp.bounce);
	rp.mem_base = NULL;
	rp.mem_null = false;
	rp.engines = NULL;
	rp.bounce = NULL;
	rp_dev_close(&rp.d);
	rp_dev_close(&rp.c);
	rp_dev_close(&rp.b);
	if (rp.model) {
		struct rawio_fault_model_stat fs;

		/* Tests look for this line: a cut that never happened tests nothing. */
		rawio_fault_model_stat(rp.model, &fs);
		fprintf(stderr,
			"nbdkit: rawio: cache-fault=%s: %s after %" PRIu64 " flushes; held "
			"writes kept %" PRIu64 ", lost %" PRIu64 ", torn %" PRIu64 "\n",
			rp.fault, fs.cut ? "power cut" : "no power cut", fs.flushes, fs.kept,
			fs.lost, fs.torn_prefix + fs.torn_subset);
	}
	rawio_fault_model_free(rp.model);
	rp.model = NULL;
	rawio_buf_free(rp.zeroes);
	rp.zeroes = NULL;
	rp.open = false;
}

static void rp_unload(void)
{
	rp_cleanup();
	/* No destructor may run after nbdkit unmaps the plugin. */
	if (rp.thread_key_made)
		pthread_key_delete(rp.thread_key);
	rp.thread_key_made = false;
}

static void *rp_open(int readonly)
{
	if (!rp.open) {
		nbdkit_error("rawio: device not open");
		return NULL;
	}
	return &rp;
}

/* ---- aligned I/O: OFF and LEN multiples of rp.align, BUF anywhere ---- */

static int rp_read_aligned(void *buf, uint64_t len, uint64_t off)
{
	char *bounce;
	int ret = 0;

	if (rp.cache)
		return rawio_cache_read(rp.cache, buf, len, off);
	if (rp.mem_base) {
		if (!rp.mem_null)
			memcpy(buf, rp.mem_base + off, len);
		return 0;
	}
	if (!rawio_dev_check_io(rp.d.dev, buf, len, off))
		return rp_dev_io(RAWIO_OP_READ, buf, len, off, 0);
	bounce = rp_bounce();
	if (!bounce)
		return -ENOMEM;
	for (uint64_t done = 0; !ret && done < len; done += RP_CHUNK) {
		uint64_t n = len - done < RP_CHUNK ? len - done : RP_CHUNK;

		ret = rp_dev_io(RAWIO_OP_READ, bounce, n, off + done, 0);
		if (!ret)
			memcpy((char *)buf + done, bounce, n);
	}
	return ret;
}

static int rp_write_aligned(const void *buf, uint64_t len, uint64_t off, bool fua)
{
	unsigned flags = fua && rp.fua_native ? RAWIO_REQ_FUA : 0;
	char *bounce;
	int ret = 0;

	if (rp.cache)
		return rawio_cache_write(rp.cache, buf, len, off, fua ? RAWIO_CACHE_FUA : 0);
	if (rp.mem_base) {
		if (!rp.mem_null)
			memcpy(rp.mem_base + off, buf, len);
		return 0;
	}
	if (!rawio_dev_check_io(rp.d.dev, buf, len, off)) {
		ret = rp_dev_io(RAWIO_OP_WRITE, (void *)buf, len, off, flags);
	} else {
		bounce = rp_bounce();
		if (!bounce)
			return -ENOMEM;
		for (uint64_t done = 0; !ret && done < len; done += RP_CHUNK) {
			uint64_t n = len - done < RP_CHUNK ? len - done : RP_CHUNK;

			memcpy(bounce, (const char *)buf + done, n);
			ret = rp_dev_io(RAWIO_OP_WRITE, bounce, n, off + done, flags);
		}
	}
	if (!ret && fua && !rp.fua_native)
		ret = rp_dev_io(RAWIO_OP_FDATASYNC, NULL, 0, 0, 0);
	return ret;
}

static int rp_discard_aligned(uint64_t len, uint64_t off)
{
	if (!len)
		return 0;
	if (rp.cache)
		return rawio_cache_discard(rp.cache, off, len);
	return rp_dev_io(RAWIO_OP_DISCARD, NULL, len, off, 0);
}

/* ---- any alignment ---- */

static pthread_mutex_t *rp_block_lock(uint64_t block)
{
	return &rp.locks[(block * 0x9e3779b97f4a7c15ull) >> 56];
}

/*
 * Read-modify-write of one logical block: LEN bytes from SRC (NULL: zeroes) at
 * byte SKIP of the block at BLOCK_OFF. The block's lock makes two RMWs of the
 * same block serial, so neither writes back bytes the other changed.
 */
static int rp_rmw(uint64_t block_off, uint32_t skip, const void *src, uint32_t len, bool fua)
{
	pthread_mutex_t *lock = rp_block_lock(block_off / rp.align);
	char stack[4096], *blk = stack;
	int ret;

	if (rp.align > sizeof(stack)) {
		blk = malloc(rp.align);
		if (!blk)
			return -ENOMEM;
	}
	pthread_mutex_lock(lock);
	ret = rp_read_aligned(blk, rp.align, block_off);
	if (!ret) {
		if (src)
			memcpy(blk + skip, src, len);
		else
			memset(blk + skip, 0, len);
		ret = rp_write_aligned(blk, rp.align, block_off, fua);
	}
	pthread_mutex_unlock(lock);
	if (blk != stack)
		free(blk);
	return ret;
}

/* Write (SRC NULL: zeroes) LEN bytes at OFF, any alignment. */
static int rp_write_any(const char *src, uint64_t len, uint64_t off, bool fua, bool zero)
{
	uint64_t a = rp.align, head = off & (a - 1); /* a power of two */
	int ret;

	if (head) {
		uint64_t n = a - head < len ? a - head : len;

		ret = rp_rmw(off - head, (uint32_t)head, zero ? NULL : src, (uint32_t)n, fua);
		if (ret)
			return ret;
		off += n;
		len -= n;
		if (!zero)
			src += n;
	}
	if (len >= a) {
		uint64_t mid = len & ~(a - 1);

		if (!zero) {
			ret = rp_write_aligned(src, mid, off, fua);
			src += mid;
		} else {
			ret = 0;
			for (uint64_t done = 0; !ret && done < mid; done += RP_CHUNK)
				ret = rp_write_aligned(
					rp.zeroes, mid - done < RP_CHUNK ? mid - done : RP_CHUNK,
					off + done, fua);
		}
		if (ret)
			return ret;
		off += mid;
		len -= mid;
	}
	if (len)
		return rp_rmw(off, 0, zero ? NULL : src, (uint32_t)len, fua);
	return 0;
}

/* ---- callbacks ---- */

static int64_t rp_get_size(void *h)
{
	return (int64_t)rp.size;
}

static int rp_block_size(void *h, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	*minimum = rp.align;
	*preferred = rp.preferred;
	*maximum = RP_MAX_BLOCK;
	return 0;
}

static int rp_pread(void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t a = rp.align, start, end;
	char *tmp;
	int ret;

	/* A mask, not two divisions, on every aligned request (rp.align is a power of two). */
	if (!((offset | count) & (a - 1))) {
		ret = rp_read_aligned(buf, count, offset);
	} else {
		start = offset - offset % a;
		end = (offset + count + a - 1) / a * a;
		/* Read the covering blocks and copy out the part asked for. */
		tmp = malloc(end - start);
		if (!tmp) {
			rp_error(-ENOMEM, "read", count, offset);
			return -1;
		}
		ret = rp_read_aligned(tmp, end - start, start);
		if (!ret)
			memcpy(buf, tmp + (offset - start), count);
		free(tmp);
	}
	if (ret) {
		rp_error(ret, "read", count, offset);
		return -1;
	}
	return 0;
}

static int rp_pwrite(void *h, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	int ret = rp_write_any(buf, count, offset, flags & NBDKIT_FLAG_FUA, false);

	if (ret) {
		rp_error(ret, "write", count, offset);
		return -1;
	}
	return 0;
}

/*
 * A flush makes every write completed before it durable, whichever connection
 * sent it: the cache's flush covers every write that returned, and fdatasync
 * covers every write the file saw. That is what can_multi_conn promises.
 */
static int rp_flush(void *h, uint32_t flags)
{
	int ret;

	if (rp.cache)
		ret = rawio_cache_flush(rp.cache);
	else
		ret = rp_dev_io(RAWIO_OP_FDATASYNC, NULL, 0, 0, 0);
	if (ret) {
		rp_error(ret, "flush", 0, 0);
		return -1;
	}
	return 0;
}

/* Trim is advisory: only whole logical blocks inside the range are discarded. */
static int rp_trim(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t a = rp.align, first = (offset + a - 1) / a * a, last = (offset + count) / a * a;
	int ret = 0;

	if (first < last)
		ret = rp_discard_aligned(last - first, first);
	if (!ret && (flags & NBDKIT_FLAG_FUA))
		ret = rp_flush(h, 0) ? -EIO : 0;
	if (ret) {
		rp_error(ret, "trim", count, offset);
		return -1;
	}
	return 0;
}

/*
 * Zero: where a discard reads back as zeroes (RAM devices, punched holes in
 * files, the latter only when the client allows a hole: NBDKIT_FLAG_MAY_TRIM),
 * the aligned middle is discarded and only the edges are written;
 * elsewhere (the cache, whose discard may leave old data; block devices)
 * zeroes are written from one shared buffer, never allocated per request.
 */
static int rp_zero(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t a = rp.align, first = (offset + a - 1) / a * a, last = (offset + count) / a * a;
	bool fua = flags & NBDKIT_FLAG_FUA;
	/* A hole where the client allows one; RAM is allocated either way. */
	bool hole = rp.discard_zeroes && (flags & NBDKIT_FLAG_MAY_TRIM || rp.mem);
	int ret = 0;

	if (!hole || first >= last) {
		if ((flags & NBDKIT_FLAG_FAST_ZERO) && !hole) {
			nbdkit_set_error(ENOTSUP);
			return -1;
		}
		ret = rp_write_any(NULL, count, offset, fua, true);
	} else {
		if (first > offset)
			ret = rp_write_any(NULL, first - offset, offset, false, true);
		if (!ret)
			ret = rp_discard_aligned(last - first, first);
		if (!ret && offset + count > last)
			ret = rp_write_any(NULL, offset + count - last, last, false, true);
		if (!ret && fua)
			ret = rp_flush(h, 0) ? -EIO : 0;
	}
	if (ret) {
		rp_error(ret, "zero", count, offset);
		return -1;
	}
	return 0;
}

static int rp_can_write(void *h)
{
	return 1;
}

static int rp_can_flush(void *h)
{
	return 1;
}

static int rp_can_multi_conn(void *h)
{
	return 1;
}

static int rp_can_fua(void *h)
{
	return NBDKIT_FUA_NATIVE;
}

static int rp_can_trim(void *h)
{
	return rp.can_trim;
}

static int rp_can_zero(void *h)
{
	return 1;
}

static int rp_can_fast_zero(void *h)
{
	return rp.discard_zeroes;
}

static int rp_is_rotational(void *h)
{
	const struct rawio_dev_info *info;

	if (rp.cache)
		return 0;
	info = rawio_dev_info(rp.d.dev);
	return info->rotational == 1 || rp.d.thr;
}

static struct nbdkit_plugin plugin = {
	.name = "rawio",
	.longname = "rawio: a rawio device or write-back cache",
	.version = RAWIO_VERSION,
	.description = "Serves a rawio device (file, block device, mem:SIZE) or a rawio "
		       "write-back cache over NBD.",
	.load = rp_load,
	.unload = rp_unload,
	.config = rp_config,
	.config_complete = rp_config_complete,
	.config_help = rp_config_help,
	.magic_config_key = "dev",
	.get_ready = rp_get_ready,
	.after_fork = rp_after_fork,
	.cleanup = rp_cleanup,
	.open = rp_open,
	.get_size = rp_get_size,
	.block_size = rp_block_size,
	.can_write = rp_can_write,
	.can_flush = rp_can_flush,
	.can_multi_conn = rp_can_multi_conn,
	.can_fua = rp_can_fua,
	.can_trim = rp_can_trim,
	.can_zero = rp_can_zero,
	.can_fast_zero = rp_can_fast_zero,
	.is_rotational = rp_is_rotational,
	.pread = rp_pread,
	.pwrite = rp_pwrite,
	.flush = rp_flush,
	.trim = rp_trim,
	.zero = rp_zero,
	.errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
