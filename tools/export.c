// SPDX-License-Identifier: MIT
/*
 * export: nbdkit with the rawio plugin, and the local block device over it
 * (nbdfuse + losetup). See export.h for the order of teardown and why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"

#define EXPORT_READY_MS 30000 /* nbdkit or nbdfuse not serving after this: give up */
#define EXPORT_STOP_MS	60000 /* nbdkit closing the cache (writes RAM segments) */

static void export_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void export_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len || err[0])
		return; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static void export_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static sigset_t export_sigs(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	return set;
}

/*
 * Fork and exec ARGV in a process group of its own with signals unblocked.
 * OUT_FD >= 0 becomes its stdout and stderr. Returns the pid or -errno.
 */
static pid_t export_spawn(char *const argv[], const char *preload, int out_fd)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (out_fd >= 0) {
		dup2(out_fd, STDOUT_FILENO);
		dup2(out_fd, STDERR_FILENO);
	}
	if (preload) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "rawio: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int export_run(char *const argv[], char *out, size_t out_len)
{
	int fds[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = export_spawn(argv, NULL, out ? fds[1] : -1);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return (int)pid;
	}
	while (out && (size_t)got + 1 < out_len &&
	       (n = read(fds[0], out + got, out_len - 1 - (size_t)got)) > 0)
		got += n;
	close(fds[0]);
	if (out) {
		out[got] = '\0';
		while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
			out[--got] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Wait until PIDFILE holds a pid, or PID exits (-ECHILD, *STATUS set), or time
 * runs out. The plugin binds its control socket (socket=) in .get_ready, before
 * nbdkit writes the pid file: a `rawio cache get` right after it connects, and
 * is answered once .after_fork has opened the cache.
 */
static int export_wait_ready(const char *pidfile, pid_t pid, int *status)
{
	for (unsigned ms = 0; ms < EXPORT_READY_MS; ms += 10) {
		struct stat st;

		if (waitpid(pid, status, WNOHANG) == pid)
			return -ECHILD;
		if (!stat(pidfile, &st) && st.st_size > 0)
			return 0;
		export_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* Wait up to MS for PID to exit; 0 and *STATUS, or -ETIMEDOUT. */
static int export_reap(pid_t pid, int *status, unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		export_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

const char *export_plugin_path(char *buf, size_t len)
{
	const char *env = getenv("RAWIO_NBDKIT_PLUGIN");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && env[0])
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/../frontends/nbdkit/nbdkit-rawio-plugin.so", exe);
			if (!access(buf, R_OK))
				return buf;
		}
	}
#ifdef RAWIO_NBDKIT_PLUGIN
	if (!access(RAWIO_NBDKIT_PLUGIN, R_OK))
		return RAWIO_NBDKIT_PLUGIN;
#endif
	return "rawio"; /* nbdkit looks in its own plugin directory */
}

/* The sanitizer runtimes, for an nbdkit that loads a sanitized plugin. */
static const char *export_preload(void)
{
	const char *env = getenv("RAWIO_NBDKIT_PRELOAD");

	if (env && env[0])
		return env;
#ifdef RAWIO_NBDKIT_PRELOAD
	return RAWIO_NBDKIT_PRELOAD;
#else
	return NULL;
#endif
}

/* nbdkit leaves its socket behind: remove PATH if it is a socket nobody listens on. */
static void export_drop_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}

int export_start(struct export *x, const struct export_opts *o, char *err, size_t err_len)
{
	char plugin[PATH_MAX], pidfile[128], threads[16], *argv[64];
	char addr[256] = "", *port = NULL;
	sigset_t set = export_sigs();
	size_t n = 0;
	int ret, status;

	memset(x, 0, sizeof(*x));
	x->nbdkit = x->nbdfuse = -1;
	x->nbdkit_status = -1;
	pthread_sigmask(SIG_SETMASK, NULL, &x->old_mask);
	/* /tmp, not $TMPDIR: a unix socket path must stay under 108 bytes. */
	snprintf(x->dir, sizeof(x->dir), "/tmp/rawio-export.XXXXXX");
	if (!mkdtemp(x->dir)) {
		ret = -errno;
		export_err(err, err_len, "%s: %s", x->dir, strerror(-ret));
		x->dir[0] = '\0';
		return ret;
	}
	/* Signals arrive through export_wait; children unblock them. */
	pthread_sigmask(SIG_BLOCK, &set, &x->old_mask);

	argv[n++] = "nbdkit";
	argv[n++] = "--foreground";
	argv[n++] = "--exit-with-parent";
	snprintf(pidfile, sizeof(pidfile), "%s/nbdkit.pid", x->dir);
	argv[n++] = "-P";
	argv[n++] = pidfile;
	if (o->tcp) {
		snprintf(addr, sizeof(addr), "%s", o->tcp);
		port = strrchr(addr, ':');
		if (!port || port == addr || !port[1]) {
			export_err(err, err_len, "--tcp %s: expected ADDR:PORT", o->tcp);
			return -EINVAL;
		}
		*port++ = '\0';
		argv[n++] = "-i";
		argv[n++] = addr;
		argv[n++] = "-p";
		argv[n++] = port;
		snprintf(x->uri, sizeof(x->uri), "nbd://%s:%s", addr, port);
	} else {
		if (o->socket) {
			char *abs = realpath(".", NULL);

			if (o->socket[0] == '/' || !abs)
				snprintf(x->socket, sizeof(x->socket), "%s", o->socket);
			else
				snprintf(x->socket, sizeof(x->socket), "%s/%s", abs, o->socket);
			free(abs);
		} else {
			snprintf(x->socket, sizeof(x->socket), "%s/nbd.sock", x->dir);
			x->own_socket = true;
		}
		export_drop_stale(x->socket);
		argv[n++] = "-U";
		argv[n++] = x->socket;
		snprintf(x->uri, sizeof(x->uri), "nbd+unix:///?socket=%s", x->socket);
	}
	if (o->threads) {
		snprintf(threads, sizeof(threads), "%u", o->threads);
		argv[n++] = "--threads";
		argv[n++] = threads;
	}
	if (o->verbose)
		argv[n++] = "--verbose";
	argv[n++] = (char *)export_plugin_path(plugin, sizeof(plugin));
	for (size_t i = 0; o->params && o->params[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = (char *)o->params[i];
	argv[n] = NULL;

	x->nbdkit = export_spawn(argv, export_preload(), -1);
	if (x->nbdkit < 0) {
		ret = x->nbdkit;
		x->nbdkit = -1;
		export_err(err, err_len, "cannot start nbdkit: %s", strerror(-ret));
		return ret;
	}
	ret = export_wait_ready(pidfile, x->nbdkit, &status);
	if (ret == -ECHILD) {
		x->nbdkit = -1; /* reported here, not again by export_stop */
		export_err(err, err_len, "nbdkit %s %d before serving (its messages are above)",
			   WIFEXITED(status) ? "exited with" : "was killed by signal",
			   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	if (ret) {
		export_err(err, err_len, "nbdkit did not start serving within %d s",
			   EXPORT_READY_MS / 1000);
		return ret;
	}
	return 0;
}

int export_attach(struct export *x, char *err, size_t err_len)
{
	char pidfile[128], *argv[12];
	size_t n = 0;
	int ret, status;

	if (geteuid()) {
		export_err(err, err_len, "--attach needs root (losetup)");
		return -EPERM;
	}
	snprintf(x->fuse_dir, sizeof(x->fuse_dir), "%s/fuse", x->dir);
	snprintf(x->fuse_file, sizeof(x->fuse_file), "%s/disk", x->fuse_dir);
	snprintf(pidfile, sizeof(pidfile), "%s/nbdfuse.pid", x->dir);
	if (mkdir(x->fuse_dir, 0700)) {
		ret = -errno;
		export_err(err, err_len, "%s: %s", x->fuse_dir, strerror(errno));
		return ret;
	}
	argv[n++] = "nbdfuse";
	argv[n++] = "-P";
	argv[n++] = pidfile;
	argv[n++] = x->fuse_file;
	if (x->socket[0]) {
		argv[n++] = "--unix";
		argv[n++] = x->socket;
	} else {
		argv[n++] = x->uri;
	}
	argv[n] = NULL;
	x->nbdfuse = export_spawn(argv, NULL, -1);
	if (x->nbdfuse < 0) {
		ret = x->nbdfuse;
		x->nbdfuse = -1;
		export_err(err, err_len, "cannot start nbdfuse: %s", strerror(-ret));
		return ret;
	}
	ret = export_wait_ready(pidfile, x->nbdfuse, &status);
	if (ret) {
		if (ret == -ECHILD)
			x->nbdfuse = -1;
		export_err(err, err_len, "nbdfuse on %s did not start (%s)", x->fuse_file,
			   ret == -ECHILD ? "it exited" : "timed out");
		return -EIO;
	}
	{
		char *largv[] = { "losetup", "-f", "--show", x->fuse_file, NULL };
		char out[64];

		ret = export_run(largv, out, sizeof(out));
		if (ret || strncmp(out, "/dev/loop", 9)) {
			export_err(err, err_len, "losetup -f --show %s failed (%d): %s",
				   x->fuse_file, ret, out);
			return -EIO;
		}
		snprintf(x->loop, sizeof(x->loop), "%s", out);
	}
	return 0;
}

int export_wait(struct export *x)
{
	sigset_t set = export_sigs();
	int status;

	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD)
			return sig;
		if (x->nbdkit > 0 && waitpid(x->nbdkit, &status, WNOHANG) == x->nbdkit) {
			x->nbdkit = -1;
			x->nbdkit_status = status;
			return 0;
		}
		if (x->nbdfuse > 0 && waitpid(x->nbdfuse, &status, WNOHANG) == x->nbdfuse) {
			x->nbdfuse = -1;
			return 0;
		}
	}
}

/* Lazily unmount every mount of DEV (its filesystems), as the teardown order asks. */
static void export_umount_dev(const char *dev)
{
	char line[8192], target[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT TARGET OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
		char *sep = strstr(line, " - "), src[4096], fstype[64];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", target) != 1 ||
		    sscanf(sep + 3, "%63s %4095s", fstype, src) != 2 || strcmp(src, dev))
			continue;
		fprintf(stderr, "rawio export: unmounting %s from %s (lazily)\n", target, dev);
		umount2(target, MNT_DETACH);
	}
	fclose(f);
}

int export_stop(struct export *x, char *err, size_t err_len)
{
	char path[256];
	int status, ret = 0;

	if (x->loop[0]) {
		char *argv[] = { "losetup", "-d", x->loop, NULL };

		export_umount_dev(x->loop);
		if (export_run(argv, NULL, 0)) {
			export_err(err, err_len, "losetup -d %s failed", x->loop);
			ret = -EIO;
		}
		x->loop[0] = '\0';
	}
	if (x->fuse_dir[0]) {
		/* nbdfuse exits once its mount is gone. */
		if (umount2(x->fuse_dir, 0) && errno != EINVAL && errno != ENOENT)
			umount2(x->fuse_dir, MNT_DETACH);
		if (x->nbdfuse > 0 && export_reap(x->nbdfuse, &status, 10000)) {
			kill(x->nbdfuse, SIGTERM);
			export_reap(x->nbdfuse, &status, 5000);
		}
		x->nbdfuse = -1;
		rmdir(x->fuse_dir);
		x->fuse_dir[0] = '\0';
	}
	if (x->nbdkit > 0) {
		kill(x->nbdkit, SIGTERM);
		if (export_reap(x->nbdkit, &status, EXPORT_STOP_MS)) {
			export_err(err, err_len, "nbdkit did not exit within %d s: killed",
				   EXPORT_STOP_MS / 1000);
			kill(x->nbdkit, SIGKILL);
			export_reap(x->nbdkit, &status, 5000);
			ret = ret ? ret : -EIO;
		}
		x->nbdkit = -1;
		x->nbdkit_status = status;
	}
	if (x->nbdkit_status != -1 &&
	    !(WIFEXITED(x->nbdkit_status) && WEXITSTATUS(x->nbdkit_status) == 0)) {
		export_err(err, err_len, "nbdkit %s %d (its messages are above)",
			   WIFEXITED(x->nbdkit_status) ? "exited with" : "was killed by signal",
			   WIFEXITED(x->nbdkit_status) ? WEXITSTATUS(x->nbdkit_status)
						       : WTERMSIG(x->nbdkit_status));
		ret = ret ? ret : -EIO;
	}
	if (x->dir[0]) {
		snprintf(path, sizeof(path), "%s/nbdkit.pid", x->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/nbdfuse.pid", x->dir);
		unlink(path);
		if (x->own_socket)
			unlink(x->socket);
		rmdir(x->dir);
		x->dir[0] = '\0';
	}
	pthread_sigmask(SIG_SETMASK, &x->old_mask, NULL);
	return ret;
}
