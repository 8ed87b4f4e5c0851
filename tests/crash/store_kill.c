// SPDX-License-Identifier: MIT
/*
 * A real process dies mid-write: a child puts durable objects through the
 * store (uring) and reports each acknowledged put on a pipe; the parent kills
 * it with SIGKILL at a seeded random moment, reopens the store, and checks
 * that every acknowledged put is there (or the one newer put that was in
 * flight), that nothing else is, and that rawio store check passes.
 *
 *   store_kill [--rounds N] [--seed S]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <rawio/store.h>

#include "harness.h"
#include "util/rng.h"

#define NKEYS 50

static void payload(uint32_t v, char *buf, size_t *len)
{
	uint64_t st = v;

	*len = 64 + rng_below(&st, 3000);
	for (size_t i = 0; i < *len; i++)
		buf[i] = (char)(v * 31 + i);
	memcpy(buf, &v, sizeof(v));
}

static void child(const char *path, int fd, uint64_t seed)
{
	struct rawio_store_opts o = { .size = sizeof(o) };
	struct rawio_store *s;
	uint64_t rng = seed;
	char key[16], buf[4096];
	size_t len;

	if (rawio_store_open(&s, path, &o))
		_exit(2);
	for (uint32_t v = 1;; v++) {
		unsigned k = v % NKEYS;

		snprintf(key, sizeof(key), "key-%u", k);
		payload(v, buf, &len);
		if (rawio_store_put(s, key, strlen(key), buf, len, RAWIO_STORE_DURABLE))
			_exit(3);
		if (write(fd, &v, sizeof(v)) != sizeof(v))
			_exit(4);
		if (rng_below(&rng, 64) == 0 && rawio_store_checkpoint(s))
			_exit(5);
	}
}

static int round_once(const char *path, uint64_t seed)
{
	struct rawio_store_format_opts f = {
		.size = sizeof(f), .slot_size = 8 << 10, .create_size = 8 << 20, .force = true
	};
	struct rawio_store_opts o = { .size = sizeof(o) };
	uint32_t acked[NKEYS] = { 0 }, v, last = 0;
	uint64_t rng = seed;
	struct rawio_store *s;
	char key[16], buf[4096], want[4096], report[2048];
	int pipefd[2], status;
	size_t len;
	pid_t pid;

	unlink(path);
	CHECK_OK(rawio_store_format(path, &f));
	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pipefd[0]);
		child(path, pipefd[1], seed);
	}
	close(pipefd[1]);
	usleep((useconds_t)(50000 + rng_below(&rng, 300000)));
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(status), "the child exited by itself: status %d", status);
	t_read_acks(pipefd[0], acked, NKEYS, &last, UINT_MAX);
	close(pipefd[0]);
	/* Killed before its first acknowledgement (a slow start): still a crash to recover. */

	CHECK_OK(rawio_store_open(&s, path, &o));
	for (unsigned k = 0; k < NKEYS; k++) {
		ssize_t n;

		snprintf(key, sizeof(key), "key-%u", k);
		n = rawio_store_get(s, key, strlen(key), buf, sizeof(buf));
		if (!acked[k] && n == -ENOENT)
			continue;
		CHECK(n >= 4, "seed %llu: %s: %zd (acked version %u)", (unsigned long long)seed,
		      key, n, acked[k]);
		memcpy(&v, buf, sizeof(v));
		/* The acknowledged version, or the one put in flight when it died. */
		CHECK(v == acked[k] || (v == last + 1 && v % NKEYS == k),
		      "seed %llu: %s holds version %u, acked %u, last acked %u",
		      (unsigned long long)seed, key, v, acked[k], last);
		payload(v, want, &len);
		CHECK((size_t)n == len && !memcmp(buf, want, len), "seed %llu: %s: bytes differ",
		      (unsigned long long)seed, key);
	}
	CHECK_OK(rawio_store_close(s));
	CHECK(rawio_store_check(path, NULL, report, sizeof(report)) == 0, "seed %llu: check: %s",
	      (unsigned long long)seed, report);
	printf("seed %llu: killed after %u acknowledged puts: all there\n",
	       (unsigned long long)seed, last);
	return T_PASS;
}

int main(int argc, char **argv)
{
	unsigned rounds = 5;
	uint64_t seed = 1;
	char path[64];
	int c, ret = T_PASS;

	while ((c = getopt(argc, argv, "r:s:")) != -1) {
		if (c == 'r')
			rounds = (unsigned)strtoul(optarg, NULL, 0);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			return T_FAIL;
	}
	t_scratch(path, sizeof(path), "kill");
	for (unsigned i = 0; i < rounds && ret == T_PASS; i++)
		ret = round_once(path, seed + i);
	unlink(path);
	return ret;
}
