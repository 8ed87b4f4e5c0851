// SPDX-License-Identifier: MIT
/*
 * The control socket: set, get and stat from another "process" (the client
 * call), errors answered as lines, one server per path, a stale socket file
 * replaced, anything else at the path refused, the file gone after stop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cache_test.h"

int main(void)
{
	struct rawio_cache_ctl *ctl, *ctl2;
	char path[96], reply[8192];
	struct t_cache t;
	struct stat st;
	uint64_t v;

	snprintf(path, sizeof(path), "scratch-cache-ctl-%d.sock", (int)getpid());
	unlink(path);
	CHECK_OK(t_cache_new(&t, 8u << 20, 4u << 20, 0));
	CHECK(rawio_cache_ctl_request(path, "get", reply, sizeof(reply)) == -ENOENT,
	      "nobody serves yet");
	CHECK_OK(rawio_cache_ctl_start(&ctl, t.c, path));
	CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "a socket of mode 0600");

	CHECK_OK(rawio_cache_ctl_request(path, "set nr_batched_migration 7", reply, sizeof(reply)));
	CHECK(!strcmp(reply, "ok nr_batched_migration 7\n"), "set: %s", reply);
	CHECK_OK(rawio_cache_tunable_get(t.c, "nr_batched_migration", &v));
	CHECK(v == 7, "the cache sees it: %llu", (unsigned long long)v);
	CHECK_OK(rawio_cache_ctl_request(path, "get nr_batched_migration", reply, sizeof(reply)));
	CHECK(!strcmp(reply, "nr_batched_migration 7\n"), "get one: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "get", reply, sizeof(reply)));
	CHECK(strstr(reply, "allow_migrate 0\n") && strstr(reply, "barrier_deadline_us 3000\n"),
	      "get all: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "stat", reply, sizeof(reply)));
	CHECK(strstr(reply, "nr_segments 14\n") && strstr(reply, "writes 0\n"), "stat: %s", reply);
	CHECK(strstr(reply, "\nsegments_fua 0\n"), "stat lacks segments_fua: %s", reply);

	CHECK_OK(rawio_cache_ctl_request(path, "set nr_batched_migration 999", reply,
					 sizeof(reply)));
	CHECK(!strncmp(reply, "error:", 6) && strstr(reply, "out of range"), "range: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "set bogus 1", reply, sizeof(reply)));
	CHECK(!strncmp(reply, "error:", 6), "unknown: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "set allow_migrate -1", reply, sizeof(reply)));
	CHECK(!strncmp(reply, "error:", 6), "negative: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "drop tables", reply, sizeof(reply)));
	CHECK(!strncmp(reply, "error:", 6), "nonsense: %s", reply);
	CHECK_OK(rawio_cache_ctl_request(path, "", reply, sizeof(reply)));
	CHECK(!strncmp(reply, "error:", 6), "empty: %s", reply);

	/* One server per path. */
	CHECK(rawio_cache_ctl_start(&ctl2, t.c, path) == -EADDRINUSE, "second server");
	rawio_cache_ctl_stop(ctl);
	CHECK(stat(path, &st) && errno == ENOENT, "socket removed on stop");

	/* A stale socket (its process died) is replaced. */
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)), "stale socket");
		close(fd);
	}
	CHECK_OK(rawio_cache_ctl_start(&ctl, t.c, path));
	CHECK_OK(rawio_cache_ctl_request(path, "get allow_migrate", reply, sizeof(reply)));
	CHECK(!strcmp(reply, "allow_migrate 0\n"), "after replacing a stale socket: %s", reply);
	rawio_cache_ctl_stop(ctl);

	/* Anything else at the path is left alone. */
	{
		FILE *f = fopen(path, "w");

		CHECK(f, "file");
		fclose(f);
	}
	CHECK(rawio_cache_ctl_start(&ctl, t.c, path) == -EEXIST, "a regular file at the path");
	unlink(path);
	t_cache_done(&t);
	return T_PASS;
}
