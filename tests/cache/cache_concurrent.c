// SPDX-License-Identifier: MIT
/*
 * Read-your-writes under concurrency, against an in-memory model, while the
 * tunables change under load.
 *
 * Writers own 2 KiB stripes (sector / 4 % NR_WRITERS), so two writers share
 * every 4 KiB block and their partial writes must merge. Each writer checks
 * its own sectors after every few writes; a scanner reads everything and
 * checks that each sector holds some version written there (no garbage, no
 * torn sector); a tuner changes every tunable every few milliseconds. Then the
 * cache is drained, and the backing device must equal the model.
 *
 *   cache_concurrent [SECONDS]
 */
#include <pthread.h>

#include "cache_test.h"

#define NR_WRITERS 4
#define CACHE_SZ   (4u << 20)
#define BACKING_SZ (2u << 20)
#define SECTORS	   (BACKING_SZ / 512)
#define SEG	   (32u << 10)

static struct rawio_cache *cache;
static uint32_t model[SECTORS]; /* each sector written by its owner only */
static int stop;
#define STOPPED() __atomic_load_n(&stop, __ATOMIC_RELAXED)
#define STOP()	  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED)
static uint64_t deadline_ns;

struct writer {
	unsigned id;
	uint64_t rng;
	uint32_t version;
	uint64_t writes, reads;
	char why[256];
};

static unsigned owner(uint64_t s)
{
	return (unsigned)(s / 4 % NR_WRITERS);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char buf[4 * 512], rbuf[4 * 512];

	while (!STOPPED() && rawio_now_ns() < deadline_ns) {
		/* A stripe of ours, and 1..4 sectors in it. */
		uint64_t stripe = rng_below(&w->rng, SECTORS / 4 / NR_WRITERS) * NR_WRITERS + w->id;
		unsigned first = (unsigned)rng_below(&w->rng, 4);
		unsigned n = 1 + (unsigned)rng_below(&w->rng, 4 - first);
		uint64_t s = stripe * 4 + first;
		unsigned roll = (unsigned)rng_below(&w->rng, 100);
		int ret;

		uint32_t v = ++w->version * NR_WRITERS + w->id; /* unique per writer */

		for (unsigned i = 0; i < n; i++)
			t_sector_fill(buf + i * 512, s + i, v);
		ret = rawio_cache_write(cache, buf, n * 512, s * 512,
					roll < 3 ? RAWIO_CACHE_FUA : 0);
		if (ret) {
			snprintf(w->why, sizeof(w->why), "write: %s", rawio_strerror(ret));
			break;
		}
		for (unsigned i = 0; i < n; i++)
			__atomic_store_n(&model[s + i], v, __ATOMIC_RELAXED);
		w->writes++;
		if (roll >= 3 && roll < 5 && (ret = rawio_cache_flush(cache))) {
			snprintf(w->why, sizeof(w->why), "flush: %s", rawio_strerror(ret));
			break;
		}
		if (roll < 40) {
			/* Read back one of our stripes, anywhere. */
			uint64_t st =
				rng_below(&w->rng, SECTORS / 4 / NR_WRITERS) * NR_WRITERS + w->id;

			ret = rawio_cache_read(cache, rbuf, 4 * 512, st * 4 * 512);
			if (ret) {
				snprintf(w->why, sizeof(w->why), "read: %s", rawio_strerror(ret));
				break;
			}
			w->reads++;
			for (unsigned i = 0; i < 4; i++) {
				uint64_t sec = st * 4 + i;
				int64_t got = t_sector_version(rbuf + i * 512, sec);

				if (got != model[sec]) {
					snprintf(w->why, sizeof(w->why),
						 "sector %llu: read version %lld, wrote %u last",
						 (unsigned long long)sec, (long long)got,
						 model[sec]);
					STOP();
					return NULL;
				}
			}
		}
	}
	return NULL;
}

static char scan_why[256];
static uint64_t tears;

static void *scanner_main(void *arg)
{
	static char buf[256 * 512];

	while (!STOPPED() && rawio_now_ns() < deadline_ns) {
		for (uint64_t s = 0; s < SECTORS && !STOPPED(); s += 256) {
			int ret = rawio_cache_read(cache, buf, sizeof(buf), s * 512);

			if (ret) {
				snprintf(scan_why, sizeof(scan_why), "read: %s",
					 rawio_strerror(ret));
				STOP();
				break;
			}
			for (unsigned i = 0; i < 256; i++) {
				int64_t v = t_sector_version(buf + i * 512, s + i);

				if (v < 0) {
					/*
					 * A RAM device is memcpy: a read racing a write of the
					 * same sector (write-back of a newer version) can see
					 * half of each, where a disk returns one or the other.
					 * Such a tear is gone when read again; garbage that
					 * the cache made is not.
					 */
					static char again[512];

					if (!rawio_cache_read(cache, again, 512, (s + i) * 512) &&
					    t_sector_version(again, s + i) >= 0) {
						tears++;
						continue;
					}
				}
				if (v < 0 || (v && (uint64_t)v % NR_WRITERS != owner(s + i))) {
					snprintf(scan_why, sizeof(scan_why),
						 "sector %llu: garbage (version %lld)",
						 (unsigned long long)(s + i), (long long)v);
					STOP();
					break;
				}
			}
		}
	}
	return NULL;
}

static char tune_why[256];

static void *tuner_main(void *arg)
{
	uint64_t rng = 7;
	const char *const *names = rawio_cache_tunable_names();
	static const uint64_t max[] = { 1, 256, 100, 100, 5000 };

	while (!STOPPED() && rawio_now_ns() < deadline_ns) {
		unsigned k = (unsigned)rng_below(&rng, 5);
		uint64_t v = rng_below(&rng, max[k] + 1);
		int ret;

		if (k == 0)
			v = rng_below(&rng, 4) != 0; /* migrate most of the time */
		if (k == 1 && !v)
			v = 1;
		if (k == 2 || k == 3)
			v /= 2; /* mostly below half: migration runs */
		ret = rawio_cache_tunable_set(cache, names[k], v);
		if (ret == -EINVAL && (k == 2 || k == 3))
			ret = 0; /* refused: low_watermark would be above high_watermark */
		if (ret) {
			snprintf(tune_why, sizeof(tune_why), "set %s %llu: %s", names[k],
				 (unsigned long long)v, rawio_strerror(ret));
			STOP();
			break;
		}
		usleep(2000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct writer w[NR_WRITERS];
	pthread_t tw[NR_WRITERS], ts, tt;
	struct rawio_cache_stat st;
	double secs = argc > 1 ? atof(argv[1]) : 1.5;
	uint64_t writes = 0, reads = 0;
	struct t_cache t;

	CHECK_OK(t_cache_new(&t, CACHE_SZ, BACKING_SZ, SEG));
	t_backing_init(t.bdev);
	cache = t.c;
	deadline_ns = rawio_now_ns() + (uint64_t)(secs * 1e9);
	for (unsigned i = 0; i < NR_WRITERS; i++) {
		w[i] = (struct writer){ .id = i, .rng = 1000 + i };
		pthread_create(&tw[i], NULL, writer_main, &w[i]);
	}
	pthread_create(&ts, NULL, scanner_main, NULL);
	pthread_create(&tt, NULL, tuner_main, NULL);
	for (unsigned i = 0; i < NR_WRITERS; i++)
		pthread_join(tw[i], NULL);
	STOP();
	pthread_join(ts, NULL);
	pthread_join(tt, NULL);
	for (unsigned i = 0; i < NR_WRITERS; i++) {
		CHECK(!w[i].why[0], "writer %u: %s", i, w[i].why);
		writes += w[i].writes;
		reads += w[i].reads;
	}
	CHECK(!scan_why[0], "scanner: %s", scan_why);
	CHECK(!tune_why[0], "tuner: %s", tune_why);

	CHECK_OK(rawio_cache_drain(cache));
	rawio_cache_stat(cache, &st);
	printf("%llu transient tears of the RAM device seen by the scanner\n",
	       (unsigned long long)tears);
	printf("%llu writes, %llu reads; %llu segments (%llu partial) through %llu slots; "
	       "%llu batches (max %llu segments), %llu blocks written back; %llu merge reads, "
	       "%llu read retries, %llu stalls\n",
	       (unsigned long long)writes, (unsigned long long)reads,
	       (unsigned long long)st.segments_flushed, (unsigned long long)st.segments_partial,
	       (unsigned long long)st.nr_segments, (unsigned long long)st.migrate_batches,
	       (unsigned long long)st.max_batch_segments, (unsigned long long)st.migrate_blocks,
	       (unsigned long long)st.write_merge_reads, (unsigned long long)st.read_retries,
	       (unsigned long long)st.write_stalls);
	CHECK(st.dirty_blocks == 0, "dirty blocks after drain: %llu",
	      (unsigned long long)st.dirty_blocks);
	if (t_check_model(&t, model, SECTORS, "after the drain"))
		return T_FAIL;
	t_cache_done(&t);
	return T_PASS;
}
