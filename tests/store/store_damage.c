// SPDX-License-Identifier: MIT
/*
 * Damage after the last checkpoint is reported, never silently absorbed: a
 * durable put whose payload later has a flipped bit is reported by key by
 * check and counted by recovery (which drops it: the format cannot tell it
 * from a torn put); a damaged slot header
 * written after the checkpoint is listed by check. After both checkpoints
 * are overwritten, check does not claim that an older one was used.
 */
#include <sys/wait.h>

#include "store_test.h"

struct find {
	const char *key;
	int64_t slot;
};

static int find_key(void *arg, const struct rawio_store_obj *o)
{
	struct find *f = arg;

	if (o->key_len == strlen(f->key) && !memcmp(o->key, f->key, o->key_len)) {
		f->slot = (int64_t)o->slot;
		return 1;
	}
	return 0;
}

/* Put KEY durably after the checkpoint, then die without closing; its slot is returned. */
static int64_t crash_after_put(struct t_store *t, const char *key)
{
	struct find f = { key, -1 };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char val[3000];

		t_fill(val, sizeof(val), 7, 0);
		if (t_store_reopen(t, false) ||
		    rawio_store_put(t->s, key, strlen(key), val, sizeof(val), RAWIO_STORE_DURABLE))
			_exit(1);
		_exit(0); /* no close, no checkpoint: a crash */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	/* Find its slot on a read-only open (recovery rolls it forward). */
	t->o.read_only = true;
	if (t_store_reopen(t, false))
		return -1;
	rawio_store_list(t->s, find_key, &f);
	rawio_store_close(t->s);
	t->s = NULL;
	t->o.read_only = false;
	return f.slot;
}

static int flip(const char *path, uint64_t off)
{
	char b;

	if (t_raw(path, false, &b, 1, off))
		return -1;
	b ^= 0x10;
	return t_raw(path, true, &b, 1, off);
}

int main(void)
{
	struct rawio_store_recovery r;
	struct store_geometry g;
	struct t_store t;
	char report[4096], hdr[STORE_BLOCK], out[64];
	int64_t victim, hslot;
	int ret;

	CHECK_OK(t_store_new(&t, "damage", 4u << 20, 64 << 10, "sync"));
	CHECK_OK(t_put_str(t.s, "base", "checkpointed", 0));
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));

	/* 1. A bit flip in the payload of a durable put made after the checkpoint. */
	victim = crash_after_put(&t, "victim");
	CHECK(victim >= 0, "the durable put was not rolled forward");
	CHECK_OK(flip(t.path, store_slot_off(&g, (uint64_t)victim) + STORE_BLOCK + 100));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret >= 1 && strstr(report, "victim"), "check: %d: %s", ret, report);
	CHECK_OK(t_raw(t.path, false, hdr, sizeof(hdr), store_slot_off(&g, (uint64_t)victim)));

	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.dropped_torn == 1, "recovery saw %llu torn or damaged",
	      (unsigned long long)r.dropped_torn);
	rawio_store_close(t.s);
	t.s = NULL;
	/* Recovery dropped it and says so; check then says nothing more. */
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0, "check after recover: %d: %s", ret, report);
	t_store_done(&t);

	/* 2. A damaged header of an object written after the checkpoint. */
	CHECK_OK(t_store_new(&t, "damage2", 4u << 20, 64 << 10, "sync"));
	rawio_store_close(t.s);
	t.s = NULL;
	hslot = crash_after_put(&t, "hvictim");
	CHECK(hslot >= 0, "the durable put was not rolled forward");
	CHECK_OK(flip(t.path, store_slot_off(&g, (uint64_t)hslot) + 30)); /* in the key */
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	snprintf(out, sizeof(out), "slot %lld", (long long)hslot);
	CHECK(ret >= 1 && strstr(report, out) && strstr(report, "header"), "check: %d: %s", ret,
	      report);

	/* 3. Both checkpoints overwritten: no "older one was used". */
	memset(hdr, 0x5a, sizeof(hdr));
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), g.cp_off[0]));
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), g.cp_off[1]));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret >= 1 && !strstr(report, "older one was used") && strstr(report, "checkpoint"),
	      "check: %d: %s", ret, report);
	t_store_done(&t);
	return T_PASS;
}
