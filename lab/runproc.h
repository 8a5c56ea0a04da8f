/* SPDX-License-Identifier: MIT */
/*
 * runproc.h - child processes run from an argv list (never a shell
 * command built from text), each in its own process group, killed with
 * its whole group when teelab exits, is signalled, or dies
 * (PR_SET_PDEATHSIG).
 *
 * fd ownership: the child gets /dev/null on stdin unless @in_fd is set;
 * stdout/stderr go to @log_path (appended) when set, else to teelab's
 * stderr when tl_verbose, else /dev/null. Fds given to the child are not
 * closed by runproc; the caller keeps owning them.
 */
#ifndef TEELAB_RUNPROC_H
#define TEELAB_RUNPROC_H

#include <stdbool.h>
#include <sys/types.h>
#include "util.h"

struct child {
	struct strvec argv;	/* argv[0] is looked up in PATH */
	struct strvec env;	/* extra "K=V" entries added to the environment */
	const char *dir;	/* working directory, or NULL */
	const char *log_path;	/* append stdout+stderr here, or NULL */
	int in_fd;		/* child's stdin, or -1 for /dev/null */
	int out_fd;		/* child's stdout+stderr if >= 0 (overrides log_path) */
	const int *keep_fds;	/* extra fds inherited as-is (end with -1), or NULL */
	pid_t pid;		/* set by child_start() */
	bool capture;		/* collect stdout into @output (stderr → log) */
	struct strbuf output;	/* stdout when @capture */
};
#define CHILD_INIT { STRVEC_INIT, STRVEC_INIT, NULL, NULL, -1, -1, NULL, 0, false, STRBUF_INIT }

/*
 * Start @c. The exec failure of argv[0] is reported through a pipe, so a
 * missing program is an error here (-ENOENT), not a silent exit 127.
 * The child is registered for group kill at exit/signal. 0 or -errno.
 */
int child_start(struct child *c);
/*
 * Wait for @c; returns its exit status (0..255), 128+signal if killed, or
 * -errno. With @capture, reads stdout until EOF first.
 */
int child_finish(struct child *c);
/*
 * child_start + child_finish: the exit status as child_finish() (a non-zero
 * one reported with the command) or -errno.
 */
int child_run(struct child *c);
/* Send @sig to the child's whole process group. */
void child_kill(struct child *c, int sig);
/*
 * Stop a child: SIGTERM to the group, wait up to @grace seconds, then
 * SIGKILL and reap. Returns the exit status as child_finish().
 */
int child_stop(struct child *c, double grace);
void child_release(struct child *c);

/*
 * Run argv (NULL-terminated) and capture its stdout into @out (may be NULL).
 * Returns the exit status or -errno; stderr goes to the verbose stream.
 */
int run_capture(const char *const *argv, const char *dir, struct strbuf *out);

/*
 * The first line of `@prog --version` (found in PATH), malloc'd; NULL
 * when it cannot run or prints nothing. Kept in <@cache_dir>/versions/
 * under the binary's stamp (its resolved path, inode, size, modification
 * time): later calls for the same binary read the file instead of
 * starting it (qemu-system-aarch64 --version: 70 ms, and every run asked
 * it two or three times); an upgraded or rebuilt binary has another stamp
 * and is asked again. @cache_dir NULL: always asked. A failure to keep
 * the answer only costs the next call a start.
 */
char *program_version(const char *prog, const char *cache_dir);

/*
 * Install SIGINT/SIGTERM/SIGHUP handlers that record the signal (see
 * runproc_interrupted()) and an atexit hook that kills every registered
 * child's process group. Call once from main().
 */
void runproc_setup(void);
/* The signal that interrupted teelab (SIGINT/SIGTERM/SIGHUP), or 0. */
int runproc_interrupted(void);
/* A pipe fd that becomes readable when a signal arrives (for poll loops). */
int runproc_signal_fd(void);
/* Kill every registered child's group now (SIGKILL). Async-signal-safe. */
void runproc_kill_all(void);

#endif
