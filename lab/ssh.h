/* SPDX-License-Identifier: MIT */
/*
 * ssh.h - the SSH channel to the guest (libssh): a per-run key pair, an
 * authenticated session, commands with deadlines, background jobs and
 * SFTP downloads.
 *
 * Units: every timeout is in seconds (a double; fractions allowed).
 * Errors: functions returning int give 0 or a negative errno and report
 * what failed with error() (naming the remote target or path), except
 * where a comment says otherwise.
 *
 * Threads: a session and its jobs belong to one thread (libssh sessions
 * are not thread-safe). guest_ssh_fetch() runs a watchdog thread for its
 * duration that only shuts a socket down (libssh's SFTP calls have no
 * working timeout); libssh is only used from the calling thread.
 *
 * Blocking: no call waits on the network past its own deadline.
 * guest_ssh_start() bounds its waits to GUEST_SSH_OP_TIMEOUT;
 * guest_job_free() and guest_ssh_close() wait at most a few seconds to
 * send their last packets.
 *
 * Interruption: once teelab is signalled (runproc_interrupted()), waits
 * stop early and return -EINTR (not reported).
 *
 * Connections: guest_ssh_exec() uses the session's connection, one
 * command at a time; each background job and each guest_ssh_fetch() gets
 * an SSH connection of its own, authenticated like the first (a key
 * exchange: ~10 ms on a host, more on an emulated guest). The guest's
 * dropbear (2022.83; fixed in 2024.86) may close a channel just opened,
 * or abort the whole connection, when another command of the same
 * connection ends meanwhile (dropbear issues #173, #321): a connection
 * here never opens a channel while one of its commands may be ending.
 *
 * Killing: a command is killed with its whole process tree (everything
 * in the process group of dropbear's process for its connection), not
 * just the shell that ran it; this needs /proc and kill(1) in the guest,
 * else only the shell gets SIGKILL. No pty is ever requested, so closing
 * a channel alone would not send SIGHUP.
 *
 * Link with libssh and pthreads (pkg-config libssh; -lssh -lpthread).
 */
#ifndef TEELAB_SSH_H
#define TEELAB_SSH_H

#include <stdbool.h>
#include "util.h"

/* Upper bound for network waits of calls that take no timeout (s). */
#define GUEST_SSH_OP_TIMEOUT 30.0

/*
 * Per-run key pair: ed25519 generated with libssh, the private key
 * written in OpenSSH format to <dir>/id_ed25519 (mode 0600), the public
 * key to <dir>/id_ed25519.pub (0644, "ssh-ed25519 AAAA...\n", no
 * comment). @dir is created with mode 0700 when missing (an existing
 * directory is left as it is); existing key files are replaced.
 * On success *priv_path (malloc'd path of the private key) and *pub_line
 * (malloc'd "ssh-ed25519 AAAA...": type and base64, no comment, no
 * newline) belong to the caller; either pointer may be NULL when not
 * wanted. On failure both are left untouched. 0 or -errno (reported).
 */
int ssh_keygen(const char *dir, char **priv_path, char **pub_line);

/* One authenticated libssh session (opaque). */
struct guest_ssh;

/*
 * Connect to @host:@port as @user with the private key file @priv_path,
 * retrying every 0.25 s (the guest may still be booting; a QEMU user-net
 * port forward accepts TCP connections before the guest listens) until
 * @timeout seconds have passed. Each try is bounded by what is left of
 * @timeout, and by 3 s (a port forward may accept and then never answer),
 * so this returns within @timeout. With @timeout <= 0 a single try is
 * made.
 *
 * The host key is NOT verified: the lab guest gets a fresh host key at
 * every boot and is only reachable through a local port forward, so
 * there is nothing to verify against. Its SHA256 fingerprint is logged
 * with info() when tl_verbose. No OpenSSH or libssh configuration file
 * and no known_hosts file is read or written, nor is an agent used.
 *
 * On success *out is the session (free with guest_ssh_close()).
 * Errors (reported, *out untouched):
 *   -ETIMEDOUT     the deadline passed; the report names the last failure
 *                  (e.g. "connection refused");
 *   -ECONNREFUSED, -EHOSTUNREACH, ... or -EPROTO (SSH handshake failed):
 *                  the single try made when @timeout <= 0 failed;
 *   -EACCES        the server refused the key (not retried);
 *   -EINTR         teelab was signalled (runproc_interrupted(); not reported);
 *   -ENOENT, -EINVAL ...  @priv_path cannot be read or is not a key;
 *   -EINVAL        a bad @host or @port.
 */
int guest_ssh_connect(struct guest_ssh **out, const char *host, int port,
		      const char *user, const char *priv_path, double timeout);

/*
 * Disconnect and free @s (NULL is fine), within a few seconds. Running
 * jobs are killed (see "Killing"), and so is what a command that timed
 * out left. Jobs still open on @s are orphaned: their connections are
 * closed, they read as finished (status 128+9, or -1 if no status came
 * in time) and must still be freed with guest_job_free().
 */
void guest_ssh_close(struct guest_ssh *s);

/*
 * Run @command (a shell command line, run by the remote user's login
 * shell as "shell -c command"; no pty; its stdin is empty: EOF is sent
 * at once) and wait at most @timeout seconds for it to finish.
 * Its stdout and stderr are appended separately to @out and @err (either
 * may be NULL to drop that stream); on timeout or failure whatever
 * arrived so far is appended too. *status (@status may be NULL) gets the
 * exit status 0..255, or 128+N when the server says signal N killed it,
 * or -1 on any error.
 *
 * As with ssh(1), the command is finished when its exit status is known
 * and its output is closed: background children that keep stdout open
 * keep it running.
 *
 * Returns 0 (whatever the exit status), or
 *   -ETIMEDOUT  the deadline passed: *status is -1, the command's shell
 *               is sent SIGKILL and its channel closed at once; what the
 *               shell started is killed at the next call on @s (or by
 *               guest_ssh_close()), which first replaces the session's
 *               connection with a new one, within its own deadline;
 *   -EPIPE      the connection is lost (the session is then dead: every
 *               later call on it fails with -EPIPE);
 *   -EIO        another SSH failure (e.g. the server refused the channel);
 *   -EINTR      teelab was signalled (not reported).
 * Errors are reported with the command.
 */
int guest_ssh_exec(struct guest_ssh *s, const char *command, double timeout,
		   struct strbuf *out, struct strbuf *err, int *status);

/* A command running in the background on a session (opaque). */
struct guest_job;

/*
 * Start @command (as guest_ssh_exec()) without waiting for it. Several
 * jobs may run at once on one session, one channel each, each channel on
 * a connection of its own (see "Connections" above; opening one takes a
 * key exchange). *job belongs to the caller (guest_job_free()), before or
 * after guest_ssh_close() of its session. 0, -ETIMEDOUT (not started
 * within GUEST_SSH_OP_TIMEOUT), -EPIPE (no connection), -EIO or -EINTR
 * (reported but -EINTR).
 */
int guest_ssh_start(struct guest_ssh *s, const char *command,
		    struct guest_job **job);

/*
 * Collect pending output of every job of @job's session, waiting up to
 * @max_wait seconds (0: do not wait) for @job to finish. Returns true
 * once @job is finished: its exit status is known, or its channel or
 * session ended without one (then guest_job_status() stays -1 and
 * guest_job_wait() tells why). Never reports errors itself.
 */
bool guest_job_poll(struct guest_job *job, double max_wait);

/*
 * Wait until @job is finished or @timeout seconds passed. 0 when it
 * finished with an exit status; -ETIMEDOUT (not reported: the job keeps
 * running); -EPIPE when the connection was lost or the session closed,
 * -EIO when the channel closed without an exit status (both reported);
 * -EINTR (not reported).
 */
int guest_job_wait(struct guest_job *job, double timeout);

/* Exit status as for guest_ssh_exec(); -1 while running or if unknown. */
int guest_job_status(const struct guest_job *job);

/* Output collected so far (by guest_job_poll/guest_job_wait). */
const struct strbuf *guest_job_stdout(const struct guest_job *job);
const struct strbuf *guest_job_stderr(const struct guest_job *job);

/*
 * Stop and free @job (NULL is fine). A job still running is killed with
 * its process tree (see "Killing": a kill(1) run on the session's
 * connection, waited for at most 2 s), then its connection is closed.
 */
void guest_job_free(struct guest_job *job);

/*
 * Copy the remote file or directory tree @remote_path into @local_dir
 * (created 0755 if missing) as <local_dir>/<basename of remote_path>
 * ("/" copies the remote root's content into @local_dir itself), over
 * SFTP on a connection of its own (the guest needs an sftp-server for
 * its SSH server: dropbear runs /usr/lib/sftp-server).
 *
 * Directories are copied recursively; symbolic links are copied as links
 * (never followed, also when @remote_path is one); special files
 * (devices, fifos, sockets) are skipped; modes are kept without the
 * setuid and setgid bits; existing local files are replaced. Regular
 * files are read until EOF whatever size the server reports (files under
 * /proc and /sys report size 0).
 *
 * Inside a tree, an entry that cannot be read (permission denied, gone
 * meanwhile) is reported and skipped, and the first such error is
 * returned at the end. A lost connection, a local write error or the
 * deadline (@timeout seconds for the whole copy) stops the copy at once.
 * 0 or -errno (-ENOENT, -EACCES, -ETIMEDOUT, -EPIPE, -EIO, local errors,
 * or -EINTR), each failure but -EINTR reported with the remote path.
 */
int guest_ssh_fetch(struct guest_ssh *s, const char *remote_path,
		    const char *local_dir, double timeout);

/*
 * The guest channel as the run engine uses it: the functions above, or a
 * machine backend's own (the replay backend's scripted commands, for the
 * engine's unit tests). Same contracts as the functions they name; a
 * backend's session and job types are its own behind the opaque
 * struct guest_ssh and struct guest_job.
 */
struct guest_ops {
	int (*connect)(struct guest_ssh **out, const char *host, int port, const char *user,
		       const char *priv_path, double timeout);
	void (*close)(struct guest_ssh *s);
	int (*start)(struct guest_ssh *s, const char *command, struct guest_job **job);
	bool (*poll)(struct guest_job *job, double max_wait);
	int (*status)(const struct guest_job *job);
	const struct strbuf *(*out)(const struct guest_job *job);
	const struct strbuf *(*err)(const struct guest_job *job);
	void (*free)(struct guest_job *job);
	int (*fetch)(struct guest_ssh *s, const char *remote_path, const char *local_dir,
		     double timeout);
};
/* libssh to the guest's dropbear: the functions above. */
extern const struct guest_ops guest_ssh_ops;

#endif
