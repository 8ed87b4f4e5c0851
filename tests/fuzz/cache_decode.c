// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the cache's on-disk decoders (superblock, superblock record,
 * segment header with its entries) get the same bytes, against the geometry
 * the input itself describes when it is a valid superblock, else a fixed one
 * whose uuid is taken from bytes 16..31 of the input (where a record and a
 * segment header keep theirs), and the slot a segment of the input's id
 * (bytes 32..39) would live in. Decoders must never read out of range nor
 * accept what breaks the geometry. Built with libFuzzer by the fuzz preset;
 * otherwise replay.c's main() replays the files named on the command line (the
 * checked-in corpus, made by hand with the encoders in src/cache/format.c).
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/format.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t blocks[CACHE_BLOCK / CACHE_ENTRY_SIZE];
	static uint8_t masks[CACHE_BLOCK / CACHE_ENTRY_SIZE];
	struct cache_geometry g;
	struct cache_rec r;
	struct cache_seg_hdr h;
	uint64_t id = 0;
	/* Copy into a buffer of exactly SIZE bytes, so ASan sees any overread. */
	uint8_t *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	if (cache_sb_decode(buf, size, &g)) {
		FUZZ_CHECK(cache_geometry_plan(&g, 64ull << 20, 16ull << 20, 64u << 10) == 0);
		if (size >= 32)
			memcpy(g.uuid, buf + 16, 16);
	} else {
		FUZZ_CHECK(g.nr_segments >= CACHE_MIN_SEGMENTS && g.blocks_per_seg >= 3 &&
			   g.blocks_per_seg <= 255 && g.cache_size > g.seg_off &&
			   g.backing_size % CACHE_BLOCK == 0 && g.backing_size);
	}
	if (!cache_rec_decode(buf, size, &g, &r))
		FUZZ_CHECK(r.seq >= 1);
	if (size >= 40)
		memcpy(&id, buf + 32, sizeof(id));
	if (!cache_seg_hdr_decode(buf, size, &g, le64toh(id) % g.nr_segments, &h, blocks, masks)) {
		FUZZ_CHECK(h.id && h.nr_blocks <= g.blocks_per_seg);
		FUZZ_CHECK(CACHE_SEG_HDR_LEN + (size_t)h.nr_blocks * CACHE_ENTRY_SIZE <= size);
		for (uint32_t i = 0; i < h.nr_blocks; i++) {
			FUZZ_CHECK(masks[i] && blocks[i] < g.backing_size / CACHE_BLOCK);
			for (uint32_t j = 0; j < i; j++)
				FUZZ_CHECK(blocks[i] != blocks[j]);
		}
	}
	free(buf);
	return 0;
}
