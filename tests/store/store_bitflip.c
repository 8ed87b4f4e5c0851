// SPDX-License-Identifier: MIT
/* A payload with a flipped bit is -EBADMSG on get, never returned as data; check reports it. */
#include "store_test.h"

struct find {
	int64_t slot;
};

static int first_slot(void *arg, const struct rawio_store_obj *o)
{
	((struct find *)arg)->slot = (int64_t)o->slot;
	return 1;
}

int main(void)
{
	struct store_geometry g;
	struct find f = { -1 };
	struct t_store t;
	char payload[3000], out[4096], report[1024];
	uint64_t off;

	t_fill(payload, sizeof(payload), 3, 0);
	CHECK_OK(t_store_new(&t, "flip", 8u << 20, 64 << 10, "uring"));
	CHECK_OK(rawio_store_put(t.s, "victim", 6, payload, sizeof(payload), RAWIO_STORE_DURABLE));
	rawio_store_list(t.s, first_slot, &f);
	CHECK(f.slot >= 0, "no slot");
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK(rawio_store_check(t.path, NULL, report, sizeof(report)) == 0, "check: %s", report);

	CHECK_OK(t_geometry(t.path, &g));
	off = store_slot_off(&g, (uint64_t)f.slot) + STORE_BLOCK + 1234;
	CHECK_OK(t_raw(t.path, false, out, 1, off));
	out[0] ^= 0x08;
	CHECK_OK(t_raw(t.path, true, out, 1, off));

	CHECK_OK(t_store_reopen(&t, false));
	memset(out, 0, sizeof(out));
	CHECK(rawio_store_get(t.s, "victim", 6, out, sizeof(out)) == -EBADMSG,
	      "get of a flipped payload");
	CHECK(store_all_zero(out, sizeof(out)), "bytes of a bad payload reached the caller");
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK(rawio_store_check(t.path, NULL, report, sizeof(report)) == 1, "check found nothing");
	CHECK(strstr(report, "crc32c"), "report: %s", report);
	t_store_done(&t);
	return T_PASS;
}
