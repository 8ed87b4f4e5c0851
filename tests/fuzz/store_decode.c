// SPDX-License-Identifier: MIT
/*
 * Fuzz target: every decoder of the slot store's on-disk structures gets the
 * same bytes (superblock, checkpoint header, entry, slot header), against a
 * geometry decoded from the input itself when it is a valid superblock.
 * Decoders must never read out of range nor accept a structure that breaks
 * the geometry. Built with libFuzzer by the fuzz preset; otherwise replay.c's
 * main() replays the files named on the command line (the checked-in corpus).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/format.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_geometry g;
	struct store_cp_hdr h;
	struct store_entry e;
	struct store_slot_hdr sh;
	/* Copy into a buffer of exactly SIZE bytes, so ASan sees any overread. */
	uint8_t *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	if (store_sb_decode(buf, size, &g)) {
		/* A plausible geometry for the other decoders. */
		FUZZ_CHECK(store_geometry_plan(&g, 1ull << 30, 1u << 20, 0) == 0);
		memset(g.uuid, 0, sizeof(g.uuid));
		if (size >= 24)
			memcpy(g.uuid, buf + 8, 16);
	} else {
		FUZZ_CHECK(g.slot_count && g.slot_size >= STORE_MIN_SLOT &&
			   g.data_off < g.dev_size && g.version >= STORE_VERSION_MIN &&
			   g.version <= STORE_VERSION);
	}
	if (!store_cp_hdr_decode(buf, size, &g, &h))
		FUZZ_CHECK(h.entry_count <= g.slot_count && h.body_len <= g.cp_len);
	for (size_t off = 0; off + STORE_ENTRY_SIZE <= size && off < 64 * STORE_ENTRY_SIZE;
	     off += STORE_ENTRY_SIZE)
		if (!store_entry_decode(buf + off, size - off, &g, &e))
			FUZZ_CHECK(e.slot < g.slot_count && e.key_len >= 1 &&
				   e.key_len <= RAWIO_STORE_KEY_MAX &&
				   e.payload_len <= g.slot_size);
	if (!store_slot_hdr_decode(buf, size, &g, &sh))
		FUZZ_CHECK(sh.e.payload_len <= store_payload_max(&g) && sh.e.key_len >= 1 &&
			   !(sh.flags & ~STORE_SLOT_FLAGS_KNOWN));
	free(buf);
	return 0;
}
