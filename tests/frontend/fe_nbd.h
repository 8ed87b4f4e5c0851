/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the frontend tests that talk NBD through libnbd: start nbdkit
 * with the rawio plugin ($RAWIO_PLUGIN; its sanitizer runtimes preloaded from
 * $RAWIO_NBDKIT_PRELOAD in sanitized builds) on a unix socket, connect.
 */
#ifndef RAWIO_TESTS_FE_NBD_H
#define RAWIO_TESTS_FE_NBD_H

#include <errno.h>
#include <libnbd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* 0 when nbdkit and the plugin are there, else prints why (the caller skips). */
static inline int fe_available(void)
{
	const char *p = getenv("RAWIO_PLUGIN");

	if (!p || access(p, R_OK)) {
		fprintf(stderr, "skip: RAWIO_PLUGIN is not set to the plugin\n");
		return -1;
	}
	if (system("nbdkit --version >/dev/null 2>&1")) {
		fprintf(stderr, "skip: needs nbdkit\n");
		return -1;
	}
	return 0;
}

/*
 * Start `nbdkit -f -U SOCK PLUGIN PARAMS...` (PARAMS NULL-terminated) and wait
 * until it serves (its pid file). Returns its pid, or -1.
 */
static inline pid_t fe_nbdkit_start(const char *sock, const char *pidfile,
				    const char *const *params)
{
	const char *preload = getenv("RAWIO_NBDKIT_PRELOAD");
	char *argv[32];
	size_t n = 0;
	pid_t pid;

	unlink(pidfile);
	unlink(sock); /* nbdkit leaves its socket behind */
	argv[n++] = "nbdkit";
	argv[n++] = "-f";
	argv[n++] = "--exit-with-parent";
	argv[n++] = "-U";
	argv[n++] = (char *)sock;
	argv[n++] = "-P";
	argv[n++] = (char *)pidfile;
	argv[n++] = getenv("RAWIO_PLUGIN");
	for (size_t i = 0; params[i] && n < 31; i++)
		argv[n++] = (char *)params[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (preload && preload[0]) {
			setenv("LD_PRELOAD", preload, 1);
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		}
		execvp("nbdkit", argv);
		_exit(127);
	}
	for (int i = 0; i < 3000; i++) {
		struct timespec ts = { 0, 10000000 };
		struct stat st;
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "nbdkit exited before serving\n");
			return -1;
		}
		if (!stat(pidfile, &st) && st.st_size > 0)
			return pid;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* SIGTERM (clean close) or SIGKILL, and reap. Returns the wait status. */
static inline int fe_nbdkit_stop(pid_t pid, int sig)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* A handle on SOCK that lets unaligned requests through to the server. */
static inline struct nbd_handle *fe_connect(const char *sock)
{
	struct nbd_handle *h = nbd_create();

	if (!h)
		return NULL;
	nbd_set_strict_mode(h, nbd_get_strict_mode(h) & ~LIBNBD_STRICT_ALIGN);
	if (nbd_connect_unix(h, sock)) {
		fprintf(stderr, "connect %s: %s\n", sock, nbd_get_error());
		nbd_close(h);
		return NULL;
	}
	return h;
}

#endif
