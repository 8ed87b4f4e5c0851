// SPDX-License-Identifier: MIT
/*
 * rawio_engine_kick on ENGINE (argv[1]: threads, aio, uring, uring+coop): a
 * context opened without opts.kickable refuses kicks (threads takes them
 * always, sync never); kicks made before a reap are merged into at most one
 * early return; under a thread that kicks all the time, every request still
 * comes back exactly once with its data, and a reap returns short only as
 * often as it was kicked. On threads, a reap waiting for a read that cannot
 * finish (its buffer's page is held by userfaultfd) returns at the kick with
 * the read still in flight.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "harness.h"

#define KICK_BLOCKS 256u /* the file: 1 MiB */
#define KICK_DEPTH  8u
#define KICK_REQS   2000u

struct kicker {
	struct rawio_engine *e;
	volatile int stop;
	unsigned kicks;
	int err;
};

static void *kicker_main(void *arg)
{
	struct kicker *k = arg;

	while (!k->stop) {
		int ret = rawio_engine_kick(k->e);

		if (ret)
			k->err = ret;
		k->kicks++;
		nanosleep(&(struct timespec){ 0, 20000 }, NULL);
	}
	return NULL;
}

static int open_engine(struct rawio_engine **e, const char *spec, struct rawio_dev *dev,
		       bool kickable)
{
	struct rawio_engine_opts o = { .size = sizeof(o), .queue_depth = KICK_DEPTH };
	const char *name = spec;

	if (!strcmp(spec, "uring+coop")) {
		name = "uring";
		o.uring_flags = RAWIO_URING_COOP_TASKRUN;
	}
	o.kickable = kickable;
	return rawio_engine_open(e, name, dev, &o);
}

/* Read block B into BUF through E (alone in flight), reaping until it is back. */
static int read_back(struct rawio_engine *e, char *buf, uint64_t b, unsigned *early)
{
	struct rawio_req r = { .op = RAWIO_OP_READ, .buf = buf, .len = 4096, .off = b * 4096 };
	struct rawio_req *done;
	int n;

	CHECK(rawio_engine_queue(e, &r) == RAWIO_Q_QUEUED, "queue");
	CHECK_OK(rawio_engine_commit(e));
	while ((n = rawio_engine_reap(e, &done, 1, 1)) == 0)
		(*early)++;
	CHECK(n == 1 && done == &r, "reap returned %d", n);
	CHECK(r.result == 4096, "read returned %lld", (long long)r.result);
	CHECK(!t_verify(buf, 4096, 7, b * 4096), "block %llu's data", (unsigned long long)b);
	return T_PASS;
}

/* Kicks before a reap: one early return at most, then reaps wait as before. */
static int kick_merged(struct rawio_engine *e, char *buf)
{
	unsigned early = 0;

	for (int i = 0; i < 3; i++)
		CHECK_OK(rawio_engine_kick(e));
	/* The kicks may be seen by the first reap or, when it returned with its read
	 * before the kick's event arrived, by a later one: once in all. */
	for (uint64_t b = 1; b < 34; b++)
		CHECK(read_back(e, buf, b, &early) == T_PASS, "read %llu", (unsigned long long)b);
	CHECK(early <= 1, "three kicks made %u early returns", early);
	return T_PASS;
}

/* A thread kicks all the time while requests flow at depth: each comes back once. */
static int kick_storm(struct rawio_engine *e, char *bufs)
{
	static struct rawio_req reqs[KICK_DEPTH];
	struct rawio_req *done[KICK_DEPTH];
	struct kicker k = { .e = e };
	unsigned issued = 0, finished = 0, early = 0, inflight = 0;
	uint8_t seen[KICK_DEPTH] = { 0 };
	pthread_t t;

	CHECK(!pthread_create(&t, NULL, kicker_main, &k), "thread");
	while (finished < KICK_REQS) {
		while (inflight < KICK_DEPTH && issued < KICK_REQS) {
			unsigned slot = issued % KICK_DEPTH;
			uint64_t b = (issued * 37u) % KICK_BLOCKS;

			/* Slot reuse is in order: a slot's old request came back first. */
			if (seen[slot] == 1)
				break;
			reqs[slot] = (struct rawio_req){ .op = RAWIO_OP_READ,
							 .buf = bufs + (size_t)slot * 4096,
							 .len = 4096,
							 .off = b * 4096,
							 .user_data = (void *)(uintptr_t)issued };
			if (rawio_engine_queue(e, &reqs[slot]) != RAWIO_Q_QUEUED)
				break;
			seen[slot] = 1;
			issued++;
			inflight++;
		}
		CHECK_OK(rawio_engine_commit(e));
		int n = rawio_engine_reap(e, done, 1, KICK_DEPTH);

		CHECK(n >= 0, "reap: %s", rawio_strerror(n));
		early += !n;
		for (int i = 0; i < n; i++) {
			struct rawio_req *r = done[i];
			unsigned slot = (unsigned)(r - reqs),
				 id = (unsigned)(uintptr_t)r->user_data;

			CHECK(slot < KICK_DEPTH && seen[slot] == 1, "request %u came back twice",
			      id);
			CHECK(r->result == 4096, "request %u: %lld", id, (long long)r->result);
			CHECK(!t_verify(r->buf, 4096, 7, r->off), "request %u's data", id);
			seen[slot] = 0;
			inflight--;
			finished++;
		}
	}
	k.stop = 1;
	pthread_join(t, NULL);
	CHECK(!k.err, "kick: %s", rawio_strerror(k.err));
	CHECK(early <= k.kicks, "%u short reaps for %u kicks", early, k.kicks);
	fprintf(stderr, "storm: %u requests, %u kicks, %u short reaps\n", KICK_REQS, k.kicks,
		early);
	return T_PASS;
}

static void *uffd_resolve_main(void *arg)
{
	int uffd = (int)(intptr_t)arg;
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	static char page[4096] __attribute__((aligned(4096)));

	if (poll(&pfd, 1, -1) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return NULL;
	/* Started once the kicked reap returned: give the page, the read goes on. */
	struct uffdio_copy c = { .dst = msg.arg.pagefault.address & ~4095ull,
				 .src = (uintptr_t)page,
				 .len = 4096 };
	(void)ioctl(uffd, UFFDIO_COPY, &c);
	return NULL;
}

/*
 * threads: a read whose buffer's page userfaultfd holds cannot finish; a kick
 * from another thread returns the reap with it still in flight, and once the
 * page is given the read completes with the file's data.
 */
static int kick_stuck_on(struct rawio_engine *e)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct rawio_req r = { .op = RAWIO_OP_READ, .len = 4096, .off = 5 * 4096 };
	struct rawio_req *done;
	struct kicker k = { .e = e };
	pthread_t kt, rt;
	unsigned early = 0;
	char *mem;
	int uffd, n;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		fprintf(stderr, "no userfaultfd here: the stuck read is not tried\n");
		if (uffd >= 0)
			close(uffd);
		return T_PASS;
	}
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED, "mmap");
	reg.range.start = (uintptr_t)mem;
	reg.range.len = 4096;
	CHECK(!ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER");
	r.buf = mem;
	CHECK(rawio_engine_queue(e, &r) == RAWIO_Q_QUEUED, "queue");
	CHECK_OK(rawio_engine_commit(e));
	CHECK(!pthread_create(&kt, NULL, kicker_main, &k), "thread");
	n = rawio_engine_reap(e, &done, 1, 1);
	k.stop = 1;
	pthread_join(kt, NULL);
	CHECK(n == 0, "a reap with the read stuck returned %d, not 0 at the kick", n);
	CHECK(rawio_engine_inflight(e) == 1, "the read left flight");
	CHECK(!pthread_create(&rt, NULL, uffd_resolve_main, (void *)(intptr_t)uffd), "thread");
	while ((n = rawio_engine_reap(e, &done, 1, 1)) == 0)
		early++; /* the kicker's last kicks, merged into one at most */
	pthread_join(rt, NULL);
	CHECK(early <= 1, "%u early returns after the kicks stopped", early);
	CHECK(n == 1 && done == &r && r.result == 4096, "the read: %d, %lld", n,
	      (long long)r.result);
	CHECK(!t_verify(mem, 4096, 7, 5 * 4096), "the read's data");
	munmap(mem, 4096);
	close(uffd);
	return T_PASS;
}

static int kick_stuck(const char *spec, struct rawio_dev *dev)
{
	struct rawio_engine *e;
	int ret;

	/* A context of its own: no kick left over from the storm. */
	CHECK_OK(open_engine(&e, spec, dev, true));
	ret = kick_stuck_on(e);
	rawio_engine_close(e);
	return ret;
}

int main(int argc, char **argv)
{
	struct rawio_dev_opts opts = { .size = sizeof(opts), .flags = RAWIO_DEV_CREATE };
	struct rawio_engine *e = NULL, *s = NULL;
	struct rawio_dev *dev = NULL;
	const char *spec = argc > 1 ? argv[1] : "uring";
	char *bufs = NULL;
	int ret;

	ret = t_open_tmpfile(&dev, "kick", &opts);
	if (ret != T_PASS)
		return ret;
	ret = T_FAIL;
	bufs = rawio_buf_alloc(KICK_DEPTH * 4096, 4096);
	if (!bufs || rawio_engine_open(&s, "sync", dev, NULL))
		goto out;
	for (uint64_t b = 0; b < KICK_BLOCKS; b++) {
		t_fill(bufs, 4096, 7, b * 4096);
		if (rawio_engine_io(s, RAWIO_OP_WRITE, 0, bufs, 4096, b * 4096) != 4096)
			goto out;
	}
	if (rawio_engine_kick(s) != -EOPNOTSUPP) {
		fprintf(stderr, "sync took a kick\n");
		goto out;
	}
	ret = open_engine(&e, spec, dev, false);
	if (ret) {
		fprintf(stderr, "%s: %s\n", spec, rawio_strerror(ret));
		ret = ret == -ENOSYS || ret == -EPERM ? T_SKIP : T_FAIL;
		goto out;
	}
	ret = T_FAIL;
	if ((rawio_engine_kick(e) == 0) != !strcmp(spec, "threads")) {
		fprintf(stderr, "%s without kickable: kick answered wrongly\n", spec);
		goto out;
	}
	rawio_engine_close(e);
	e = NULL;
	if (open_engine(&e, spec, dev, true))
		goto out;
	if (kick_merged(e, bufs) || kick_storm(e, bufs))
		goto out;
	if (!strcmp(spec, "threads") && kick_stuck(spec, dev))
		goto out;
	ret = T_PASS;
out:
	rawio_engine_close(e);
	rawio_engine_close(s);
	rawio_buf_free(bufs);
	rawio_dev_close(dev);
	return ret;
}
