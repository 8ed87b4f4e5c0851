// SPDX-License-Identifier: MIT
/*
 * A transient read error during recovery loses nothing:
 *  - a checkpoint entry whose header cannot be read is out of the index for
 *    that open, but later checkpoints still name it and the next open brings
 *    it back;
 *  - a roll-forward candidate whose payload cannot be read is neither adopted
 *    nor zeroed, and the next open adopts it;
 *  - a no-roll open (which cannot know the newest generation) is read-only.
 */
#include "store_test.h"

struct find {
	const char *key;
	int64_t slot;
};

static int find_fn(void *arg, const struct rawio_store_obj *o)
{
	struct find *f = arg;

	if (o->key_len == strlen(f->key) && !memcmp(o->key, f->key, o->key_len))
		f->slot = (int64_t)o->slot;
	return 0;
}

int main(void)
{
	struct rawio_fault_range bad;
	struct rawio_store_recovery r;
	struct rawio_store *crashed;
	struct store_geometry g;
	struct find f = { "victim", -1 }, late = { "late", -1 };
	struct t_store t;

	CHECK_OK(t_store_new(&t, "transient", 8u << 20, 64 << 10, "uring"));
	CHECK_OK(t_put_str(t.s, "victim", "precious", RAWIO_STORE_DURABLE));
	CHECK_OK(t_put_str(t.s, "other", "x", 0));
	rawio_store_list(t.s, find_fn, &f);
	CHECK_OK(t_store_reopen(&t, true));
	CHECK_OK(t_geometry(t.path, &g));

	/* 1. victim's header fails twice (batch and the retry alone), then heals. */
	bad = (struct rawio_fault_range){ .off = store_slot_off(&g, (uint64_t)f.slot),
					  .len = 512,
					  .ops = 1u << RAWIO_OP_READ,
					  .count = 2 };
	t.o.engine = "fault";
	t.o.engine_opts.lower = "uring";
	t.o.engine_opts.faults = &bad;
	t.o.engine_opts.nr_faults = 1;
	CHECK_OK(t_store_reopen(&t, true));
	rawio_store_recovery(t.s, &r);
	CHECK(r.dropped_io == 1, "dropped_io %llu", (unsigned long long)r.dropped_io);
	CHECK(rawio_store_get(t.s, "victim", 6, NULL, 0) == -ENOENT, "unreadable entry served");
	CHECK_OK(t_put_str(t.s, "during", "y", 0));
	t.o.engine = "uring";
	t.o.engine_opts.faults = NULL;
	t.o.engine_opts.nr_faults = 0;
	CHECK_OK(t_store_reopen(&t, true)); /* its close wrote a checkpoint */
	CHECK_OK(t_get_is(t.s, "victim", "precious"));
	CHECK_OK(t_get_is(t.s, "during", "y"));

	/* 2. A post-checkpoint object whose payload cannot be read at the next open. */
	CHECK_OK(rawio_store_checkpoint(t.s));
	CHECK_OK(t_put_str(t.s, "late", "after the checkpoint", RAWIO_STORE_DURABLE));
	rawio_store_list(t.s, find_fn, &late);
	crashed = t.s; /* not closed: as if the process had died */
	t_store_crashed(t.s);
	t.s = NULL;
	bad = (struct rawio_fault_range){ .off = store_slot_off(&g, (uint64_t)late.slot) +
						 STORE_BLOCK,
					  .len = 512,
					  .ops = 1u << RAWIO_OP_READ,
					  .count = 1 };
	t.o.engine = "fault";
	t.o.engine_opts.faults = &bad;
	t.o.engine_opts.nr_faults = 1;
	CHECK_OK(t_store_reopen(&t, false));
	rawio_store_recovery(t.s, &r);
	CHECK(r.unreadable == 1 && r.rolled_forward == 0 && r.dropped_torn == 0,
	      "unreadable %llu, rolled forward %llu, torn %llu", (unsigned long long)r.unreadable,
	      (unsigned long long)r.rolled_forward, (unsigned long long)r.dropped_torn);
	t.o.engine = "uring";
	t.o.engine_opts.faults = NULL;
	t.o.engine_opts.nr_faults = 0;
	CHECK_OK(t_store_reopen(&t, true));
	rawio_store_recovery(t.s, &r);
	CHECK(r.rolled_forward == 1, "rolled forward %llu", (unsigned long long)r.rolled_forward);
	CHECK_OK(t_get_is(t.s, "late", "after the checkpoint"));

	/* 3. No-roll recovery cannot know the newest generation: it only looks. */
	t.o.recover = RAWIO_STORE_RECOVER_NO_ROLL;
	CHECK_OK(t_store_reopen(&t, true));
	CHECK(t_put_str(t.s, "k", "v", 0) == -EROFS, "put after a no-roll open");
	t_store_done(&t);
	rawio_store_close(crashed);
	return T_PASS;
}
