// SPDX-License-Identifier: MIT
/*
 * The run-time tunables: their table (name, range, default), get and set.
 * The control socket (ctl.c) serves them to other processes.
 */
#include <stddef.h>
#include <string.h>

#include "cache_impl.h"
#include "util/errbuf.h"

static const struct cache_tunable {
	const char *name;
	size_t off;
	uint32_t min, max, def;
} cache_tunables[] = {
	{ "allow_migrate", offsetof(struct rawio_cache_tunables, allow_migrate), 0, 1, 1 },
	{ "nr_batched_migration", offsetof(struct rawio_cache_tunables, nr_batched_migration), 1,
	  256, 32 },
	{ "low_watermark", offsetof(struct rawio_cache_tunables, low_watermark), 0, 100, 10 },
	{ "high_watermark", offsetof(struct rawio_cache_tunables, high_watermark), 0, 100, 50 },
	{ "barrier_deadline_us", offsetof(struct rawio_cache_tunables, barrier_deadline_us), 0,
	  1000000, 3000 },
	{ "seal_idle_ms", offsetof(struct rawio_cache_tunables, seal_idle_ms), 0, 3600000,
	  RAWIO_CACHE_SEAL_IDLE_MS },
	{ "class.read.shares", offsetof(struct rawio_cache_tunables, read_shares), 1, 65535, 1000 },
	{ "class.write.shares", offsetof(struct rawio_cache_tunables, write_shares), 1, 65535,
	  1000 },
	{ "class.flush.shares", offsetof(struct rawio_cache_tunables, flush_shares), 1, 65535,
	  1000 },
	{ "class.migrate.shares", offsetof(struct rawio_cache_tunables, migrate_shares), 1, 65535,
	  100 },
	{ "commit_qd", offsetof(struct rawio_cache_tunables, commit_qd), 1, RAWIO_CACHE_COMMIT_MAX,
	  1 },
	{ "commit_fua", offsetof(struct rawio_cache_tunables, commit_fua), 0, 2,
	  RAWIO_CACHE_FUA_AUTO },
	{ "commit_overlap", offsetof(struct rawio_cache_tunables, commit_overlap), 0, 1, 0 },
};

#define NR_TUNABLES (sizeof(cache_tunables) / sizeof(cache_tunables[0]))

static const char *const cache_tunable_name_list[NR_TUNABLES + 1] = {
	"allow_migrate",       "nr_batched_migration",
	"low_watermark",       "high_watermark",
	"barrier_deadline_us", "seal_idle_ms",
	"class.read.shares",   "class.write.shares",
	"class.flush.shares",  "class.migrate.shares",
	"commit_qd",	       "commit_fua",
	"commit_overlap",      NULL,
};

const char *const *rawio_cache_tunable_names(void)
{
	return cache_tunable_name_list;
}

static uint32_t *cache_tunable_field(struct rawio_cache_tunables *t, const struct cache_tunable *d)
{
	return (uint32_t *)((char *)t + d->off);
}

void rawio_cache_tunables_default(struct rawio_cache_tunables *t)
{
	for (size_t i = 0; i < NR_TUNABLES; i++)
		*cache_tunable_field(t, &cache_tunables[i]) = cache_tunables[i].def;
}

/* The watermarks bound a band: at or below low the worker idles, at or above high it runs. */
static bool cache_watermarks_ok(const struct rawio_cache_tunables *t)
{
	return t->low_watermark <= t->high_watermark;
}

int cache_tunables_check(const struct rawio_cache_tunables *t, char *errbuf, size_t errlen)
{
	struct rawio_cache_tunables copy = *t;

	for (size_t i = 0; i < NR_TUNABLES; i++) {
		uint32_t v = *cache_tunable_field(&copy, &cache_tunables[i]);

		if (v < cache_tunables[i].min || v > cache_tunables[i].max) {
			errbuf_set(errbuf, errlen, "tunable %s: %u is out of range (%u to %u)",
				   cache_tunables[i].name, v, cache_tunables[i].min,
				   cache_tunables[i].max);
			return -ERANGE;
		}
	}
	if (!cache_watermarks_ok(t)) {
		errbuf_set(errbuf, errlen,
			   "tunables: low_watermark %u is above high_watermark %u (low <= high)",
			   t->low_watermark, t->high_watermark);
		return -EINVAL;
	}
	return 0;
}

static const struct cache_tunable *cache_tunable_find(const char *name)
{
	for (size_t i = 0; name && i < NR_TUNABLES; i++)
		if (!strcmp(cache_tunables[i].name, name))
			return &cache_tunables[i];
	return NULL;
}

int rawio_cache_tunable_range(const char *name, uint64_t *min, uint64_t *max)
{
	const struct cache_tunable *d = cache_tunable_find(name);

	if (!d)
		return -ENOENT;
	*min = d->min;
	*max = d->max;
	return 0;
}

int rawio_cache_tunables_put(struct rawio_cache_tunables *t, const char *name, uint64_t value)
{
	const struct cache_tunable *d = cache_tunable_find(name);

	if (!d)
		return -ENOENT;
	if (value < d->min || value > d->max)
		return -ERANGE;
	*cache_tunable_field(t, d) = (uint32_t)value;
	return 0;
}

int rawio_cache_tunable_set(struct rawio_cache *c, const char *name, uint64_t value)
{
	const struct cache_tunable *d = cache_tunable_find(name);
	struct rawio_cache_tunables t;

	if (!d)
		return -ENOENT;
	if (value < d->min || value > d->max)
		return -ERANGE;
	if (c->read_only)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	t = c->tun;
	*cache_tunable_field(&t, d) = (uint32_t)value;
	if (!cache_watermarks_ok(&t)) {
		pthread_mutex_unlock(&c->lock);
		return -EINVAL;
	}
	c->tun = t;
	cache_sched_shares(c);
	/* Whoever decides with it decides again now. */
	pthread_cond_broadcast(&c->cv_migrate);
	pthread_cond_broadcast(&c->cv_durable);
	cache_durable_wake_all(c);
	pthread_cond_broadcast(&c->cv_flush);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int rawio_cache_tunable_get(struct rawio_cache *c, const char *name, uint64_t *value)
{
	const struct cache_tunable *d = cache_tunable_find(name);

	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	*value = *cache_tunable_field(&c->tun, d);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void rawio_cache_tunables_get(struct rawio_cache *c, struct rawio_cache_tunables *t)
{
	pthread_mutex_lock(&c->lock);
	*t = c->tun;
	pthread_mutex_unlock(&c->lock);
}
