// SPDX-License-Identifier: MIT
/*
 * The control socket: run-time tunables for a cache that another process
 * has open (`rawio cache set SOCKET NAME VALUE`). A unix stream socket,
 * mode 0600, one request line per connection, served by one thread that
 * only ever calls the cache's public, thread-safe API. Peers of another user
 * (SO_PEERCRED) are refused; a slow peer is dropped after a second.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cache_impl.h"

#define CTL_LINE_MAX  256
#define CTL_REPLY_MAX 8192

struct rawio_cache_ctl {
	struct rawio_cache *c; /* NULL until served */
	struct sockaddr_un addr;
	int fd;
	int stop[2]; /* a pipe: writing to it ends the server */
	pthread_t thread;
};

static const struct ctl_stat {
	const char *name;
	size_t off;
} ctl_stats[] = {
#define S(f)                                             \
	{                                                \
#f, offsetof(struct rawio_cache_stat, f) \
	}
	S(size),
	S(nr_segments),
	S(next_id),
	S(flushed_id),
	S(durable_id),
	S(last_migrated),
	S(dirty_segments),
	S(dirty_blocks),
	S(cached_blocks),
	S(reads),
	S(read_hits),
	S(read_hits_ram),
	S(read_partial),
	S(read_misses),
	S(writes),
	S(write_blocks),
	S(write_partial),
	S(write_stalls),
	S(fua_writes),
	S(discards),
	S(segments_flushed),
	S(segments_full),
	S(segments_partial),
	S(segment_bytes),
	S(barriers),
	S(barrier_seals),
	S(idle_seals),
	S(cache_flushes),
	S(segments_fua),
	S(seg_wait_ns),
	S(seg_write_ns),
	S(seg_depth_ns),
	S(seg_busy_ns),
	S(seg_copy_wait_ns),
	S(seg_reap_wait_ns),
	S(barrier_timed),
	S(barrier_lock_ns),
	S(barrier_queue_ns),
	S(barrier_commit_ns),
	S(barrier_wake_ns),
	S(migrate_batches),
	S(migrate_segments),
	S(migrate_blocks),
	S(migrate_writes),
	S(migrate_errors),
	S(migrate_fail_streak),
	S(backing_flushes),
#undef S
};

static size_t ctl_put(char *out, size_t len, size_t used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t ctl_put(char *out, size_t len, size_t used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (used + 1 >= len)
		return used;
	va_start(ap, fmt);
	n = vsnprintf(out + used, len - used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return used;
	return used + ((size_t)n < len - used ? (size_t)n : len - used - 1);
}

/* Answer one request line into OUT. */
/*
 * The schedulers' lines: "sched.DEV.model 0|1" (0: direct, no io properties), then per class
 * "sched.DEV.CLASS.KEY VALUE" (shares requests bytes queued queue_p99_ns disk_p99_ns
 * starved_ns), DEV "cache" or "backing".
 */
static size_t ctl_put_sched(struct rawio_cache *c, char *out, size_t len, size_t used)
{
	static const char *const devs[2] = { "cache", "backing" };

	for (unsigned d = 0; d < 2; d++) {
		struct rawio_sched_class_stat cs[RAWIO_CACHE_NR_CLASSES];
		struct rawio_sched_stat ss;
		bool on = rawio_cache_sched_stat(c, d, &ss, cs, NULL, 0);

		used = ctl_put(out, len, used, "sched.%s.model %d\n", devs[d], on && ss.model);
		for (unsigned k = 0; on && k < RAWIO_CACHE_NR_CLASSES; k++) {
			const char *n = rawio_cache_class_names[k];

			used = ctl_put(
				out, len, used,
				"sched.%s.%s.shares %u\nsched.%s.%s.requests %llu\n"
				"sched.%s.%s.bytes %llu\nsched.%s.%s.queued %llu\n"
				"sched.%s.%s.queue_p99_ns %llu\nsched.%s.%s.disk_p99_ns %llu\n"
				"sched.%s.%s.starved_ns %llu\n",
				devs[d], n, cs[k].shares, devs[d], n,
				(unsigned long long)cs[k].requests, devs[d], n,
				(unsigned long long)cs[k].bytes, devs[d], n,
				(unsigned long long)cs[k].queued, devs[d], n,
				(unsigned long long)cs[k].queue_lat.p99, devs[d], n,
				(unsigned long long)cs[k].disk_lat.p99, devs[d], n,
				(unsigned long long)cs[k].starved_ns);
		}
	}
	return used;
}

static void ctl_answer(struct rawio_cache *c, char *line, char *out, size_t len)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\r\n", &save);
	char *a1 = cmd ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char *a2 = a1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char *extra = a2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	size_t used = 0;
	uint64_t v;

	out[0] = 0;
	if (cmd && !strcmp(cmd, "set") && a1 && a2 && !extra) {
		uint64_t lo, hi;
		char *end;
		int ret;

		v = strtoull(a2, &end, 10);
		if (*end || a2[0] == '-') {
			ctl_put(out, len, 0, "error: '%s' is not a number\n", a2);
			return;
		}
		ret = rawio_cache_tunable_set(c, a1, v);
		if (ret == -ENOENT)
			ctl_put(out, len, 0, "error: no tunable '%s'\n", a1);
		else if (ret == -ERANGE && !rawio_cache_tunable_range(a1, &lo, &hi))
			ctl_put(out, len, 0, "error: %s: %llu is out of range (%llu to %llu)\n", a1,
				(unsigned long long)v, (unsigned long long)lo,
				(unsigned long long)hi);
		else if (ret == -EINVAL)
			ctl_put(out, len, 0,
				"error: %s %llu would put low_watermark above high_watermark "
				"(lower low_watermark first, raise high_watermark first)\n",
				a1, (unsigned long long)v);
		else if (ret)
			ctl_put(out, len, 0, "error: %s\n", rawio_strerror(ret));
		else
			ctl_put(out, len, 0, "ok %s %llu\n", a1, (unsigned long long)v);
		return;
	}
	if (cmd && !strcmp(cmd, "get") && !a2) {
		for (const char *const *n = rawio_cache_tunable_names(); *n; n++) {
			if (a1 && strcmp(a1, *n))
				continue;
			rawio_cache_tunable_get(c, *n, &v);
			used = ctl_put(out, len, used, "%s %llu\n", *n, (unsigned long long)v);
		}
		if (!used)
			ctl_put(out, len, 0, "error: no tunable '%s'\n", a1);
		return;
	}
	if (cmd && !strcmp(cmd, "stat") && !a1) {
		struct rawio_cache_stat st;

		rawio_cache_stat(c, &st);
		for (size_t i = 0; i < sizeof(ctl_stats) / sizeof(ctl_stats[0]); i++)
			used = ctl_put(out, len, used, "%s %llu\n", ctl_stats[i].name,
				       (unsigned long long)*(const uint64_t *)((const char *)&st +
									       ctl_stats[i].off));
		used = ctl_put(out, len, used, "error_code %d\n", st.error);
		used = ctl_put(out, len, used, "backing_error_code %d\n", st.backing_error);
		ctl_put_sched(c, out, len, used);
		return;
	}
	ctl_put(out, len, 0, "error: requests are 'set NAME VALUE', 'get [NAME]', 'stat'\n");
}

static void ctl_serve_one(struct rawio_cache_ctl *ctl, int fd)
{
	struct timeval tv = { .tv_sec = 1 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char line[CTL_LINE_MAX + 1], *reply;
	size_t n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
	    (cred.uid != geteuid() && cred.uid != 0))
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < CTL_LINE_MAX) {
		ssize_t r = read(fd, line + n, CTL_LINE_MAX - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = 0;
	reply = malloc(CTL_REPLY_MAX);
	if (!reply)
		return;
	if (n == CTL_LINE_MAX && !memchr(line, '\n', n))
		snprintf(reply, CTL_REPLY_MAX, "error: request too long\n");
	else
		ctl_answer(ctl->c, line, reply, CTL_REPLY_MAX);
	for (size_t off = 0, len = strlen(reply); off < len;) {
		ssize_t w =
			send(fd, reply + off, len - off, MSG_NOSIGNAL); /* the peer may be gone */

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(reply);
}

static void *ctl_main(void *arg)
{
	struct rawio_cache_ctl *ctl = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = ctl->fd, .events = POLLIN },
				       { .fd = ctl->stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ctl_serve_one(ctl, fd);
		close(fd);
	}
	return NULL;
}

static int ctl_addr(struct sockaddr_un *a, const char *path)
{
	if (!path || !*path || strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return 0;
}

/* Is something listening at A? 1 yes, 0 a stale socket, -errno otherwise. */
static int ctl_probe(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)a, sizeof(*a)) ? -errno : 1;
	close(fd);
	return ret == -ECONNREFUSED ? 0 : ret;
}

int rawio_cache_ctl_bind(struct rawio_cache_ctl **out, const char *path)
{
	struct rawio_cache_ctl *ctl;
	struct stat st;
	int ret;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->fd = ctl->stop[0] = ctl->stop[1] = -1;
	ret = ctl_addr(&ctl->addr, path);
	if (ret)
		goto err;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = -EEXIST;
			goto err;
		}
		ret = ctl_probe(&ctl->addr);
		if (ret) {
			ret = ret > 0 ? -EADDRINUSE : ret;
			goto err;
		}
		unlink(path); /* nobody listens: a leftover of a process that died */
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0 || pipe2(ctl->stop, O_CLOEXEC)) {
		ret = -errno;
		goto err;
	}
	if (bind(ctl->fd, (struct sockaddr *)&ctl->addr, sizeof(ctl->addr))) {
		ret = -errno;
		goto err;
	}
	/* Before listen: nobody can connect while the mode is still the umask's. */
	if (chmod(path, 0600) || listen(ctl->fd, 8)) {
		ret = -errno;
		unlink(path);
		goto err;
	}
	*out = ctl;
	return 0;
err:
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->stop[0] >= 0) {
		close(ctl->stop[0]);
		close(ctl->stop[1]);
	}
	free(ctl);
	return ret;
}

int rawio_cache_ctl_serve(struct rawio_cache_ctl *ctl, struct rawio_cache *c)
{
	int ret;

	if (!ctl || !c || ctl->c)
		return -EINVAL;
	ctl->c = c;
	ret = -pthread_create(&ctl->thread, NULL, ctl_main, ctl);
	if (ret)
		ctl->c = NULL;
	return ret;
}

int rawio_cache_ctl_start(struct rawio_cache_ctl **out, struct rawio_cache *c, const char *path)
{
	int ret = rawio_cache_ctl_bind(out, path);

	if (!ret)
		ret = rawio_cache_ctl_serve(*out, c);
	if (ret && *out) {
		rawio_cache_ctl_stop(*out);
		*out = NULL;
	}
	return ret;
}

void rawio_cache_ctl_stop(struct rawio_cache_ctl *ctl)
{
	if (!ctl)
		return;
	/* Bound and never served: no thread; peers waiting in the backlog see EOF. */
	if (ctl->c) {
		if (write(ctl->stop[1], "x", 1) < 0) {
			/* a pipe with room: cannot fail; the join below would hang if it did */
		}
		pthread_join(ctl->thread, NULL);
	}
	close(ctl->fd);
	close(ctl->stop[0]);
	close(ctl->stop[1]);
	unlink(ctl->addr.sun_path);
	free(ctl);
}

int rawio_cache_ctl_request(const char *path, const char *request, char *reply, size_t reply_len)
{
	struct timeval tv = { .tv_sec = 10 };
	struct sockaddr_un a;
	size_t n = 0, len;
	int fd, ret;

	if (!reply || !reply_len || !request)
		return -EINVAL;
	reply[0] = 0;
	ret = ctl_addr(&a, path);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		goto out;
	}
	len = strlen(request);
	if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		ret = errno == EAGAIN ? -ETIMEDOUT : -EIO;
		goto out;
	}
	shutdown(fd, SHUT_WR);
	while (n + 1 < reply_len) {
		ssize_t r = read(fd, reply + n, reply_len - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	reply[n] = 0;
	ret = 0;
out:
	close(fd);
	return ret;
}
