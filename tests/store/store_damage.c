// SPDX-License-Identifier: MIT
/*
 * Damage after the last checkpoint is reported, never silently absorbed:
 *  1. a durable put whose payload later has a flipped bit is damage, not a
 *     torn put: recovery and check name it by key, get fails with -EBADMSG
 *     (not -ENOENT), its slot is not reused, later checkpoints keep it, and
 *     removing the key clears it;
 *  2. the same flip in a put that was not durable is a torn put: dropped and
 *     reported by key, and check is clean after a read-write recovery;
 *  3. a damaged slot header written after the checkpoint is reported by slot
 *     and key (as it reads) by check and by the read-write recovery that
 *     zeroes it;
 *  4. after both checkpoints are overwritten, check does not claim that an
 *     older one was used.
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

/* Put KEY after the checkpoint (FLAGS), then die without closing; its slot is returned. */
static int64_t crash_after_put(struct t_store *t, const char *key, unsigned flags)
{
	struct find f = { key, -1 };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char val[3000];

		t_fill(val, sizeof(val), 7, 0);
		if (t_store_reopen(t, false) ||
		    rawio_store_put(t->s, key, strlen(key), val, sizeof(val), flags))
			_exit(1);
		if (!(flags & RAWIO_STORE_DURABLE))
			fdatasync(rawio_dev_fd(t->s->dev)); /* on disk, but no checkpoint */
		_exit(0);				    /* no close, no checkpoint: a crash */
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

/* The first finding of kind WHAT, or NULL. */
static const struct rawio_store_found *found(const struct rawio_store_recovery *r,
					     enum rawio_store_finding what)
{
	for (uint64_t i = 0; i < r->nr_found && i < RAWIO_STORE_FOUND_MAX; i++)
		if (r->found[i].what == what)
			return &r->found[i];
	return NULL;
}

static bool found_key(const struct rawio_store_found *f, const char *key)
{
	return f && f->key_len == strlen(key) && !memcmp(f->key, key, f->key_len);
}

int main(void)
{
	struct rawio_store_recovery r;
	const struct rawio_store_found *f;
	struct store_geometry g;
	struct rawio_store_obj o;
	struct t_store t;
	char report[8192], hdr[STORE_BLOCK], out[4096], val[100];
	int64_t victim, torn, hslot;
	int ret, n;

	CHECK_OK(t_store_new(&t, "damage", 4u << 20, 64 << 10, "sync"));
	CHECK_OK(t_put_str(t.s, "base", "checkpointed", 0));
	rawio_store_close(t.s);
	t.s = NULL;
	CHECK_OK(t_geometry(t.path, &g));

	/* 1. A bit flip in the payload of a durable put made after the checkpoint. */
	victim = crash_after_put(&t, "victim", RAWIO_STORE_DURABLE);
	CHECK(victim >= 0, "the durable put was not rolled forward");
	CHECK_OK(flip(t.path, store_slot_off(&g, (uint64_t)victim) + STORE_BLOCK + 100));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 1 && strstr(report, "key victim") && strstr(report, "damaged") &&
		      !strstr(report, "torn"),
	      "check: %d: %s", ret, report);

	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	f = found(&r, RAWIO_STORE_FOUND_DAMAGED);
	CHECK(r.damaged == 1 && r.dropped_torn == 0 && found_key(f, "victim") &&
		      f->slot == (uint64_t)victim && f->applied &&
		      f->off == store_slot_off(&g, (uint64_t)victim),
	      "recovery: %llu damaged, %llu torn, %llu found", (unsigned long long)r.damaged,
	      (unsigned long long)r.dropped_torn, (unsigned long long)r.nr_found);
	CHECK(rawio_store_get(t.s, "victim", 6, out, sizeof(out)) == -EBADMSG,
	      "get of a damaged object is not -EBADMSG");
	CHECK_OK(rawio_store_lookup(t.s, "victim", 6, &o));
	CHECK(o.slot == (uint64_t)victim, "lookup: slot %llu", (unsigned long long)o.slot);
	/* Its slot is reserved: fill the store, the victim's slot is never taken. */
	memset(val, 'f', sizeof(val));
	for (n = 0;; n++) {
		char key[16];

		snprintf(key, sizeof(key), "fill-%d", n);
		ret = rawio_store_put(t.s, key, strlen(key), val, sizeof(val), 0);
		if (ret)
			break;
	}
	CHECK(ret == -ENOSPC && n > 10, "fill: %d after %d", ret, n);
	CHECK_OK(rawio_store_lookup(t.s, "victim", 6, &o));
	CHECK(o.slot == (uint64_t)victim, "the damaged object moved");
	CHECK(rawio_store_get(t.s, "victim", 6, out, sizeof(out)) == -EBADMSG, "get after fill");
	/* Checkpoints keep it: a second session still reports it by key. */
	CHECK_OK(t_store_reopen(&t, true));
	CHECK(rawio_store_get(t.s, "victim", 6, out, sizeof(out)) == -EBADMSG,
	      "get after a checkpoint");
	rawio_store_close(t.s);
	t.s = NULL;
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 1 && strstr(report, "victim") && strstr(report, "crc32c"), "check: %d: %s",
	      ret, report);
	/* Removing the key is the repair. */
	CHECK_OK(t_store_reopen(&t, false));
	CHECK_OK(rawio_store_delete(t.s, "victim", 6, RAWIO_STORE_DURABLE));
	rawio_store_close(t.s);
	t.s = NULL;
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0, "check after rm: %d: %s", ret, report);
	t_store_done(&t);

	/* 2. The same flip in a put that was not durable: a torn put, dropped and named. */
	CHECK_OK(t_store_new(&t, "damage2", 4u << 20, 64 << 10, "sync"));
	rawio_store_close(t.s);
	t.s = NULL;
	torn = crash_after_put(&t, "plain", 0);
	CHECK(torn >= 0, "the plain put was not rolled forward");
	CHECK_OK(flip(t.path, store_slot_off(&g, (uint64_t)torn) + STORE_BLOCK + 100));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 1 && strstr(report, "key plain") && strstr(report, "torn put") &&
		      strstr(report, "recovery drops it"),
	      "check: %d: %s", ret, report);
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	f = found(&r, RAWIO_STORE_FOUND_TORN);
	CHECK(r.dropped_torn == 1 && r.damaged == 0 && found_key(f, "plain") && f->applied,
	      "recovery: %llu torn, %llu damaged", (unsigned long long)r.dropped_torn,
	      (unsigned long long)r.damaged);
	CHECK(rawio_store_get(t.s, "plain", 5, out, sizeof(out)) == -ENOENT, "torn put kept");
	rawio_store_close(t.s);
	t.s = NULL;
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0, "check after recover: %d: %s", ret, report);

	/* 3. A damaged header of an object written after the checkpoint. */
	hslot = crash_after_put(&t, "hvictim", RAWIO_STORE_DURABLE);
	CHECK(hslot >= 0, "the durable put was not rolled forward");
	CHECK_OK(flip(t.path, store_slot_off(&g, (uint64_t)hslot) + 80)); /* written_ns */
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	snprintf(out, sizeof(out), "slot %lld", (long long)hslot);
	CHECK(ret == 1 && strstr(report, out) && strstr(report, "header") &&
		      strstr(report, "hvictim") && strstr(report, "recovery zeroes it"),
	      "check: %d: %s", ret, report);
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	f = found(&r, RAWIO_STORE_FOUND_BAD_HEADER);
	CHECK(r.bad_headers == 1 && f && f->slot == (uint64_t)hslot && found_key(f, "hvictim") &&
		      !f->key_trusted && f->applied,
	      "read-write recovery did not report the damaged header (%llu found)",
	      (unsigned long long)r.nr_found);
	rawio_store_found_str(f, report, sizeof(report));
	CHECK(strstr(report, out) && strstr(report, "zeroed"), "finding: %s", report);
	rawio_store_close(t.s);
	t.s = NULL;
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret == 0, "check after recover: %d: %s", ret, report);

	/* 4. Both checkpoints overwritten: no "older one was used". */
	memset(hdr, 0x5a, sizeof(hdr));
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), g.cp_off[0]));
	CHECK_OK(t_raw(t.path, true, hdr, sizeof(hdr), g.cp_off[1]));
	ret = rawio_store_check(t.path, NULL, report, sizeof(report));
	CHECK(ret >= 1 && !strstr(report, "older one was used") && strstr(report, "checkpoint"),
	      "check: %d: %s", ret, report);
	t_store_done(&t);
	return T_PASS;
}
