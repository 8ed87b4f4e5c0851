/* SPDX-License-Identifier: MIT */
/*
 * export: serve a rawio device over NBD with nbdkit and the rawio plugin, and
 * optionally make it a local block device (nbdfuse + a loop device). Used by
 * `rawio export` and the demo; the processes it starts are its children, in
 * their own process group (a terminal's ^C reaches rawio alone, which then
 * tears down in order), and nbdkit runs with --exit-with-parent.
 *
 * Teardown order (DESIGN.md): unmount what is mounted on the loop device
 * (lazily), detach the loop device, unmount the FUSE file, wait for nbdfuse,
 * then stop nbdkit with SIGTERM (the plugin makes every acknowledged write
 * durable and closes the cache) and wait for it.
 *
 * Functions return 0 or -errno and put a one-line reason into ERR.
 */
#ifndef RAWIO_TOOLS_EXPORT_H
#define RAWIO_TOOLS_EXPORT_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct export_opts {
	const char *const *params; /* plugin parameters KEY=VALUE, NULL-terminated */
	const char *socket;	   /* unix socket; NULL: DIR/nbd.sock */
	const char *tcp;	   /* "ADDR:PORT": TCP instead of a unix socket */
	unsigned threads;	   /* nbdkit --threads; 0: nbdkit's default */
	bool verbose;		   /* nbdkit --verbose */
};

struct export
{
	char dir[64];	   /* our temporary directory (sockets, pid files, FUSE mount) */
	char socket[4096]; /* the unix socket, "" with tcp */
	char uri[4200];
	char fuse_dir[128];
	char fuse_file[160];
	char loop[64]; /* "/dev/loopN" once attached */
	pid_t nbdkit, nbdfuse;
	int nbdkit_status; /* wait status once reaped, else -1 */
	bool own_socket;
	sigset_t old_mask; /* the caller's signal mask, restored by export_stop */
};

/* The plugin: $RAWIO_NBDKIT_PLUGIN, beside the build tree's rawio, installed, or "rawio". */
const char *export_plugin_path(char *buf, size_t len);

/* Run ARGV (PATH searched) to completion; stdout and stderr, trailing newline dropped, into OUT
 * (may be NULL). Returns its exit code (128 + signal when killed) or -errno. */
int export_run(char *const argv[], char *out, size_t out_len);

/* Start nbdkit and wait until it accepts connections (its pid file). */
int export_start(struct export *x, const struct export_opts *o, char *err, size_t err_len);

/* nbdfuse on the export, then a loop device over its file (x->loop). Needs root. */
int export_attach(struct export *x, char *err, size_t err_len);

/*
 * Wait for SIGINT or SIGTERM (blocked by export_start in the calling thread),
 * or for nbdkit or nbdfuse to exit. Returns the signal, or 0 when a child
 * died (x->nbdkit_status then says how, if it was nbdkit).
 */
int export_wait(struct export *x);

/* Tear down whatever was set up, in order; safe to call more than once. Returns 0 or the
 * first error (ERR says which step). nbdkit's failure to exit cleanly is -EIO. */
int export_stop(struct export *x, char *err, size_t err_len);

#endif
