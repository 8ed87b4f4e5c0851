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
	uint64_t done, total; /* payloads verified, for progress */
};

/* Did recovery already report SLOT as damaged (listed above)? */
static bool check_listed(const struct rawio_store *s, uint64_t slot)
{
	uint64_t n =
		s->rec.nr_found < RAWIO_STORE_FOUND_MAX ? s->rec.nr_found : RAWIO_STORE_FOUND_MAX;

	for (uint64_t i = 0; i < n; i++)
		if (s->rec.found[i].slot == slot &&
		    s->rec.found[i].what == RAWIO_STORE_FOUND_DAMAGED)
			return true;
	return false;
}

static int check_obj(void *arg, const struct rawio_store_obj *obj)
{
	struct check_ctx *c = arg;
	const struct slot_meta *m = &c->s->ix.slots[obj->slot];
	int ok = check_listed(c->s, obj->slot) ? 1 : store_payload_ok(c->s, obj->slot, m);

	c->done++;
	if (c->s->opts.progress && (c->done % 4096 == 0 || c->done == c->total))
		c->s->opts.progress(c->s->opts.progress_arg, RAWIO_STORE_PHASE_PAYLOADS, c->done,
				    c->total);
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
	if (r->format_version < STORE_VERSION)
		report_add(report, report_len, &c.used,
			   "format version %u (not a problem): a read-write open (rawio store "
			   "recover) upgrades it to %u\n",
			   r->format_version, STORE_VERSION);
	/* What recovery found slot by slot, and what a read-write recovery would do. */
	for (uint64_t i = 0; i < r->nr_found && i < RAWIO_STORE_FOUND_MAX; i++) {
		char line[512];

		rawio_store_found_str(&r->found[i], line, sizeof(line));
		report_add(report, report_len, &c.used, "%s\n", line);
	}
	if (r->nr_found > RAWIO_STORE_FOUND_MAX)
		report_add(report, report_len, &c.used,
			   "... and %llu more damaged, torn or unreadable slots (%llu damaged, "
			   "%llu torn, %llu bad headers, %llu unreadable in all)\n",
			   (unsigned long long)(r->nr_found - RAWIO_STORE_FOUND_MAX),
			   (unsigned long long)r->damaged, (unsigned long long)r->dropped_torn,
			   (unsigned long long)r->bad_headers,
			   (unsigned long long)(r->unreadable + r->dropped_io));
	c.problems += (int)(r->nr_found < INT32_MAX ? r->nr_found : INT32_MAX);
	if (r->dropped_mismatch) {
		c.problems++;
		report_add(report, report_len, &c.used,
			   "%llu checkpoint entries name slots that now hold another object or "
			   "none (overwritten or removed after the checkpoint): recovery drops "
			   "them from the index\n",
			   (unsigned long long)r->dropped_mismatch);
	}
	c.total = s->ix.nr_live;
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
