// SPDX-License-Identifier: MIT
/*
 * rawio_store_check: open read-only (recovery judges every slot header),
 * then read back every live payload. Sits on top of store.c and recover.c.
 */
#include "store_impl.h"
#include "util/report.h"

struct check_ctx {
	struct rawio_store *s;
	char *report;
	size_t len, used;
	int problems;
};

static int check_obj(void *arg, const struct rawio_store_obj *obj)
{
	struct check_ctx *c = arg;
	const struct slot_meta *m = &c->s->ix.slots[obj->slot];
	int ok = store_payload_ok(c->s, obj->slot, m);

	if (ok != 1) {
		c->problems++;
		report_add(c->report, c->len, &c->used, "slot %llu (key %.*s): payload %s\n",
			   (unsigned long long)obj->slot, (int)obj->key_len, (const char *)obj->key,
			   ok < 0 ? rawio_strerror(ok) : "fails its crc32c");
	}
	return 0;
}

int rawio_store_check_dev(struct rawio_dev *dev, const struct rawio_store_opts *opts, char *report,
			  size_t report_len)
{
	struct rawio_store_opts o = { .size = sizeof(o) };
	struct check_ctx c = { .report = report, .len = report_len };
	const struct rawio_store_recovery *r;
	struct rawio_store *s;
	bool both_ok;
	int ret;

	if (opts)
		o = *opts;
	o.read_only = true;
	o.recover = RAWIO_STORE_RECOVER_DEFAULT;
	if (report && report_len)
		report[0] = 0;
	ret = rawio_store_open_dev(&s, dev, &o);
	if (ret)
		return ret;
	c.s = s;
	r = &s->rec;
	ret = store_read_super(s, &both_ok);
	if (ret)
		goto out;
	if (!both_ok) {
		c.problems++;
		report_add(report, report_len, &c.used, "one superblock copy is damaged\n");
	}
	if (r->checkpoint_fallback && r->checkpoint < 0) {
		c.problems++;
		report_add(report, report_len, &c.used,
			   "no checkpoint is valid (damaged headers or bodies): recovery scanned "
			   "every "
			   "slot header instead and keeps what passes its crc32c\n");
	} else if (r->checkpoint_fallback) {
		c.problems++;
		report_add(report, report_len, &c.used,
			   "the newest checkpoint is damaged; the older one (#%llu) was used\n",
			   (unsigned long long)r->checkpoint_seq);
	}
	for (uint64_t i = 0; i < s->g.slot_count; i++) {
		const struct slot_meta *m = &s->ix.slots[i];

		if (m->state != SLOT_DAMAGED)
			continue;
		c.problems++;
		if (m->key_len)
			report_add(
				report, report_len, &c.used,
				"slot %llu (key %.*s, generation %llu): written after the last "
				"checkpoint, its payload fails its crc32c (a torn put that never "
				"returned, or damage to an acknowledged one: the format cannot "
				"tell): recovery drops it\n",
				(unsigned long long)i, (int)m->key_len, (const char *)m->key,
				(unsigned long long)slot_gen(m));
		else
			report_add(
				report, report_len, &c.used,
				"slot %llu: header has our magic but fails its crc32c (a torn put "
				"or damage; its key cannot be trusted): recovery will zero it\n",
				(unsigned long long)i);
	}
	if (r->dropped_mismatch + r->dropped_corrupt + r->dropped_io) {
		c.problems++;
		report_add(report, report_len, &c.used,
			   "%llu checkpoint entries do not match their slots (%llu other object, "
			   "%llu corrupt header, %llu unreadable)\n",
			   (unsigned long long)(r->dropped_mismatch + r->dropped_corrupt +
						r->dropped_io),
			   (unsigned long long)r->dropped_mismatch,
			   (unsigned long long)r->dropped_corrupt,
			   (unsigned long long)r->dropped_io);
	}
	ret = rawio_store_list(s, check_obj, &c);
	if (!ret)
		ret = c.problems;
out:
	rawio_store_close(s);
	return ret;
}

int rawio_store_check(const char *path, const struct rawio_store_opts *opts, char *report,
		      size_t report_len)
{
	/* A shared lock: check reads beside other readers, never beside a writer. */
	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_RDONLY | RAWIO_DEV_LOCK_SH };
	struct rawio_dev *dev;
	int ret;

	if (report && report_len)
		report[0] = 0;
	if (!path || (opts && opts->size < sizeof(*opts)))
		return -EINVAL;
	dopts.errbuf = opts ? opts->errbuf : NULL;
	dopts.errbuf_len = opts ? opts->errbuf_len : 0;
	dopts.lock_wait_ms = opts ? opts->lock_wait_ms : 0;
	ret = rawio_dev_open(&dev, path, &dopts);
	if (ret)
		return ret;
	ret = rawio_store_check_dev(dev, opts, report, report_len);
	rawio_dev_close(dev);
	return ret;
}
