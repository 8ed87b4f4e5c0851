// SPDX-License-Identifier: MIT
/*
 * rawio_cache_check: open read-only (recovery reads and judges every
 * segment header) and report what recovery found. Sits on top of cache.c.
 * rawio_cache_plan: what a format makes of two devices, and what opening the
 * result allocates (kept beside cache_alloc's counterpart: a change to one
 * is a change to the other).
 */
#include "cache_impl.h"
#include "util/report.h"

int rawio_cache_check(struct rawio_dev *cdev, struct rawio_dev *bdev,
		      const struct rawio_cache_opts *opts, char *report, size_t report_len)
{
	struct rawio_cache_opts o = { .size = sizeof(o) };
	const struct rawio_cache_recovery *rc;
	struct rawio_cache *c;
	size_t used = 0;
	int ret, problems = 0;

	if (opts)
		o = *opts;
	o.size = sizeof(o);
	o.read_only = true;
	if (report && report_len)
		report[0] = 0;
	ret = rawio_cache_open(&c, cdev, bdev, &o);
	if (ret)
		return ret;
	rc = &c->rec;
	if (rc->record_fallback) {
		problems++;
		report_add(report, report_len, &used,
			   "a superblock record copy is damaged; the other was used\n");
	}
	if (rc->corrupt) {
		problems++;
		report_add(report, report_len, &used,
			   "%llu segment headers have our magic and a good crc but a wrong "
			   "structure\n",
			   (unsigned long long)rc->corrupt);
	}
	if (rc->io_errors) {
		problems++;
		report_add(report, report_len, &used, "%llu segments could not be read\n",
			   (unsigned long long)rc->io_errors);
	}
	report_add(report, report_len, &used,
		   "record #%llu: written back up to segment %llu; replayed %llu segments "
		   "(%llu..%llu, %llu blocks), stopped at %llu (%s)\n",
		   (unsigned long long)rc->record_seq, (unsigned long long)rc->last_migrated,
		   (unsigned long long)rc->replayed, (unsigned long long)rc->run_first,
		   (unsigned long long)rc->run_last, (unsigned long long)rc->replayed_blocks,
		   (unsigned long long)rc->stop_id, rc->stop_reason);
	if (rc->torn || rc->orphans)
		report_add(
			report, report_len, &used,
			"crash leftovers (not problems): %llu torn segments, %llu valid segments "
			"past the run (never acknowledged; zeroed at the next read-write open)\n",
			(unsigned long long)rc->torn, (unsigned long long)rc->orphans);
	rawio_cache_close(c);
	return problems;
}

int rawio_cache_plan(uint64_t cache_dev_size, uint64_t backing_dev_size, uint32_t segment_size,
		     unsigned nr_buffers, struct rawio_cache_plan *out)
{
	struct cache_geometry g;
	uint64_t blocks, cap = 16;
	unsigned bufs;
	int ret;

	ret = cache_geometry_plan(&g, cache_dev_size, backing_dev_size, segment_size);
	if (ret)
		return ret;
	blocks = g.nr_segments * g.blocks_per_seg;
	/* As rawio_cache_open: the buffer count, then cache_alloc and cache_index_init. */
	bufs = nr_buffers ? nr_buffers : RAWIO_CACHE_DEFAULT_BUFFERS;
	if (bufs > g.nr_segments / 2)
		bufs = (unsigned)(g.nr_segments / 2);
	if (bufs < 2)
		bufs = 2;
	while (cap < 2 * blocks)
		cap <<= 1;
	*out = (struct rawio_cache_plan){
		.nr_segments = g.nr_segments,
		.segment_size = g.segment_size,
		.blocks_per_segment = g.blocks_per_seg,
		.cache_bytes = g.cache_size,
		.nr_buffers = bufs,
		.ram_bytes = g.nr_segments * sizeof(struct cache_seg) +
			     blocks * (sizeof(uint64_t) + sizeof(uint8_t)) +
			     cap * 2 * sizeof(uint64_t) +
			     (uint64_t)bufs * (g.segment_size + sizeof(struct cache_buf)),
	};
	return 0;
}
