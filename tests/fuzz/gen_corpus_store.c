// SPDX-License-Identifier: MIT
/* Writes the seed corpus for store_decode: one valid instance of each structure,
 * and a few damaged ones. Run by hand to regenerate tests/fuzz/corpus/store_decode. */
#include <stdio.h>
#include <string.h>

#include "store/format.h"

static void put(const char *dir, const char *name, const void *buf, size_t len)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	static char buf[STORE_BLOCK];
	const char *dir = argc > 1 ? argv[1] : ".";
	struct store_geometry g;
	struct store_cp_hdr h = {
		.seq = 3, .entry_count = 2, .next_gen = 9, .body_len = 2 * STORE_ENTRY_SIZE
	};
	struct store_entry e = {
		.key = "key", .key_len = 3, .slot = 5, .payload_len = 100, .generation = 7
	};
	struct store_slot_hdr sh = { .e = e };

	store_geometry_plan(&g, 1ull << 30, 1u << 20, 0);
	memcpy(g.uuid, "0123456789abcdef", 16);
	store_sb_encode(buf, &g);
	put(dir, "superblock", buf, 256);
	buf[40] ^= 1;
	put(dir, "superblock-badcrc", buf, 256);
	memcpy(h.uuid, g.uuid, 16);
	store_cp_hdr_encode(buf, &h);
	put(dir, "cp-header", buf, 128);
	store_entry_encode(buf, &e);
	store_entry_encode(buf + STORE_ENTRY_SIZE, &e);
	buf[STORE_ENTRY_SIZE + 44] = (char)200; /* key_len out of range */
	put(dir, "entries", buf, 2 * STORE_ENTRY_SIZE);
	memcpy(sh.uuid, g.uuid, 16);
	store_slot_hdr_encode(buf, &sh);
	put(dir, "slot-header", buf, 128);
	put(dir, "slot-header-short", buf, 40);
	put(dir, "empty", buf, 0);
	return 0;
}
