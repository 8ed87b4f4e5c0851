// SPDX-License-Identifier: MIT
/*
 * The store in scheduler classes: puts and gets in io_class, recovery's
 * header scan in recovery_class. Objects put through the scheduler read back
 * after a reopen (recovery through it too); each class counts its own I/O
 * and nothing else went to the scheduler.
 */
#include <rawio/store.h>

#include "sched_test.h"

#define NR   20u
#define SLOT (64u << 10)

static int put_all(struct rawio_dev *dev, const struct rawio_store_opts *o)
{
	struct rawio_store *s;
	char key[16], val[1000];

	CHECK_OK(rawio_store_open_dev(&s, dev, o));
	for (unsigned i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		memset(val, 'a' + (int)(i % 26), sizeof(val));
		CHECK_OK(rawio_store_put(s, key, strlen(key), val, sizeof(val), 0));
	}
	CHECK_OK(rawio_store_close(s));
	return T_PASS;
}

static int get_all(struct rawio_dev *dev, const struct rawio_store_opts *o)
{
	struct rawio_store_stat st;
	struct rawio_store *s;
	char key[16], val[1000], want[1000];

	CHECK_OK(rawio_store_open_dev(&s, dev, o));
	rawio_store_stat(s, &st);
	CHECK(st.objects == NR, "objects %llu", (unsigned long long)st.objects);
	for (unsigned i = 0; i < NR; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		memset(want, 'a' + (int)(i % 26), sizeof(want));
		CHECK(rawio_store_get(s, key, strlen(key), val, sizeof(val)) == sizeof(val),
		      "get %s", key);
		CHECK(!memcmp(val, want, sizeof(val)), "%s reads wrong", key);
	}
	CHECK_OK(rawio_store_close(s));
	return T_PASS;
}

int main(void)
{
	struct rawio_io_props p = st_props(100000, 1000ull << 20);
	struct rawio_store_format_opts f = { .size = sizeof(f), .slot_size = SLOT };
	struct rawio_store_opts o = { .size = sizeof(o) };
	struct rawio_sched_class_stat io, rec;
	struct rawio_sched_class *cio, *crec;
	struct rawio_sched_stat ss;
	struct st_env t;
	uint64_t after_put;

	struct rawio_dev_opts dopts = { .size = sizeof(dopts),
					.flags = RAWIO_DEV_CREATE,
					.create_size = 8 << 20 };
	struct rawio_engine_opts eo = { .size = sizeof(eo), .queue_depth = 16 };
	struct rawio_sched_opts so = { .size = sizeof(so), .props = &p };
	int ret;

	/* The store formats with the sync engine: a file, not a RAM device. */
	memset(&t, 0, sizeof(t));
	ret = t_open_tmpfile(&t.dev, "sched-store", &dopts);
	if (ret)
		return ret;
	CHECK_OK(rawio_engine_open(&t.e, "threads", t.dev, &eo));
	CHECK_OK(rawio_sched_new(&t.s, t.e, &so));
	CHECK_OK(rawio_sched_class_new(t.s, "store-io", 1000, &cio));
	CHECK_OK(rawio_sched_class_new(t.s, "store-recovery", 100, &crec));
	CHECK_OK(rawio_store_format_dev(t.dev, &f));
	o.io_class = cio;
	o.recovery_class = crec;
	if (put_all(t.dev, &o))
		return T_FAIL;
	rawio_sched_class_stat(cio, &io);
	after_put = io.requests;
	/* Each put writes its slot (header and payload): at least one request each. */
	CHECK(io.requests >= NR && io.bytes >= NR * 1000, "io class %llu requests %llu bytes",
	      (unsigned long long)io.requests, (unsigned long long)io.bytes);
	if (get_all(t.dev, &o))
		return T_FAIL;
	rawio_sched_class_stat(cio, &io);
	rawio_sched_class_stat(crec, &rec);
	CHECK(io.requests >= after_put + NR, "gets: %llu requests",
	      (unsigned long long)(io.requests - after_put));
	/* Two opens, each reading every slot header in recovery's batches. */
	CHECK(rec.requests > 0 && rec.bytes > 0, "recovery class %llu requests",
	      (unsigned long long)rec.requests);
	rawio_sched_stat(t.s, &ss);
	CHECK(ss.dispatched >= io.requests + rec.requests, "dispatched %llu",
	      (unsigned long long)ss.dispatched);
	/* Without classes the same store opens directly; the scheduler sees nothing new. */
	o.io_class = o.recovery_class = NULL;
	if (get_all(t.dev, &o))
		return T_FAIL;
	rawio_sched_class_stat(cio, &rec);
	CHECK(rec.requests == io.requests, "direct open went through the scheduler");
	st_close(&t);
	return T_PASS;
}
