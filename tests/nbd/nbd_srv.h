/* SPDX-License-Identifier: MIT */
/*
 * nbdkit for the C tests in tests/nbd: one server on a unix socket in a temp
 * directory, started with --exit-with-parent (it dies with the test, whatever
 * happens) and a pidfile, stopped by srv_stop on every exit path.
 */
#ifndef RAWIO_TEST_NBD_SRV_H
#define RAWIO_TEST_NBD_SRV_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct srv {
	char dir[128];
	char sock[192];
	char pidfile[192];
	char uri[256];
	pid_t pid; /* our child: nbdkit runs in the foreground */
};

/* Find nbdkit and make the temp directory: 0, 77 (no nbdkit) or 1, as a test's exit code. */
static inline int srv_setup(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	if (system("command -v nbdkit >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skip: needs nbdkit\n");
		return 77;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/rawio-nbd.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s->dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(s->sock, sizeof(s->sock), "%s/srv.sock", s->dir);
	snprintf(s->pidfile, sizeof(s->pidfile), "%s/srv.pid", s->dir);
	snprintf(s->uri, sizeof(s->uri), "nbd+unix:///?socket=%s", s->sock);
	return 0;
}

static inline void srv_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Start nbdkit with ARGV (plugin, filters, parameters; NULL-terminated). 0 or -1. */
static inline int srv_start(struct srv *s, const char *const *args)
{
	const char *argv[64] = { "nbdkit", "-U", s->sock, "-P", s->pidfile, "--exit-with-parent" };
	size_t n = 6;
	struct stat st;

	while (*args && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	unlink(s->pidfile);
	unlink(s->sock);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		execvp("nbdkit", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		int status;

		if (stat(s->pidfile, &st) == 0 && st.st_size > 0)
			return 0;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		srv_sleep_ms(25);
	}
	return -1;
}

/* Stop the server with SIG and reap it; SIGKILL if it is still there after 5 s (nbdkit waits
 * for its clients on SIGTERM). */
static inline void srv_stop(struct srv *s, int sig)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	for (int i = 0; i < 200; i++) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		srv_sleep_ms(25);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

/* Stop and remove the directory (and whatever the test left in it). */
static inline void srv_fini(struct srv *s)
{
	char cmd[256];

	srv_stop(s, SIGKILL);
	if (s->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
	}
}

#endif
