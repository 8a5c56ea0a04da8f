// SPDX-License-Identifier: MIT
/* ssh.c - SSH channel to the guest over libssh: keys, commands, jobs, SFTP; see ssh.h */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "runproc.h"

#define RETRY_DELAY 0.25	/* between connection tries (s) */
#define POLL_SLICE 0.1		/* longest single wait inside libssh (s) */
#define CLOSE_TIMEOUT 2.0	/* bound for closing channels and sessions (s) */
#define SETTLE_TIMEOUT 2.0	/* bound for waiting on retired channels (s) */
#define PROBE_TIMEOUT 5.0	/* bound for finding a connection's process group (s) */
#define READ_CHUNK 32768	/* bytes asked by one SFTP read */
#define KEY_NAME "id_ed25519"

/*
 * Connections. Dropbear up to 2024.85 (the guest's is 2022.83) checks
 * every channel of a connection for closing when one of the connection's
 * children exits (SIGCHLD), and takes a session channel that has no
 * process yet as finished. A channel opened while another command of the
 * same connection ends can thus be closed before its exec request
 * arrives, or the whole connection aborts on an assertion (dropbear
 * issues #173, #321). So a connection only opens a channel while none of
 * its commands may end:
 *  - the main connection runs one command at a time (guest_ssh_exec());
 *    a command it killed (deadline) is first waited for ("retired"
 *    channels, settle()), or the connection is replaced (main_ready());
 *  - each background job, and each SFTP copy, has a connection of its own.
 *
 * Killing. Without a pty, dropbear starts "shell -c command" in the
 * process group of its process for the connection, and an SSH "signal"
 * request reaches the shell only, not what it started (dash forks even
 * the last command). Killing that process group ends everything the
 * connection ran (connection_pgid()).
 */
struct retired {
	struct retired *next;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	bool ended;		/* the server reported the end (status or close) */
};

struct guest_ssh {
	ssh_session session;	/* main connection: guest_ssh_exec() */
	int fd;			/* its socket */
	int pgid;		/* its process group in the guest, or 0 */
	bool tainted;		/* a command it ran may have left processes */
	char *host, *user;	/* to open the jobs' connections */
	int port;
	ssh_key key;
	struct addrinfo *addrs;
	char *target;		/* "user@host:port", for messages */
	struct guest_job *jobs;	/* jobs and running commands, pumped together */
	struct retired *retired;	/* main channels whose command may still run */
	char *dead;		/* why the main connection was lost, or NULL */
};

struct guest_job {
	struct guest_ssh *ssh;	/* NULL once orphaned by guest_ssh_close() */
	struct guest_job *next;
	ssh_session session;	/* ssh->session, or the job's own when @own */
	bool own;
	int fd;			/* the socket of an own session, or -1 */
	int pgid;		/* the own connection's process group, or 0 */
	char *pgid_file;	/* own connection: guest file the command writes its group to */
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;	/* must outlive its registration */
	char *command;
	struct strbuf out, err;
	int status;		/* exit status or 128+signal, -1 while unknown */
	bool eof;		/* the server sent EOF */
	bool closed;		/* the server closed the channel */
	bool failed;		/* the channel or its connection broke */
	bool lost;		/* ... because the connection was lost */
	char *why;		/* why an own connection was lost */
	bool done;
};

/* ---- small helpers ---- */

static double left(double deadline)
{
	return deadline - now_mono();
}

/* Seconds to poll() milliseconds, rounded up; 0 for the past. */
static int to_ms(double secs)
{
	if (secs <= 0)
		return 0;
	if (secs > 86400.0)
		secs = 86400.0;
	return (int)(secs * 1000.0 + 0.999);
}

static void sleep_for(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);	/* a signal ends it early: callers recheck */
}

/*
 * Bound every blocking libssh wait of @ss to @secs: in blocking mode its
 * internal "default" timeouts (channel open, requests, reads, SFTP
 * packets) use the session timeout option. Never 0, which means forever.
 */
static void set_timeout(ssh_session ss, double secs)
{
	long sec = 0, usec = 0;

	if (secs < 0.001)
		secs = 0.001;
	if (secs > 86400.0)
		secs = 86400.0;
	sec = (long)secs;
	/* whole milliseconds, rounded up: libssh waits in ms */
	usec = ((long)((secs - (double)sec) * 1e6) + 999) / 1000 * 1000;
	if (usec >= 1000000) {
		sec++;
		usec -= 1000000;
	}
	ssh_options_set(ss, SSH_OPTIONS_TIMEOUT, &sec);
	ssh_options_set(ss, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

/* Initialise libssh once. 0 or -EIO (reported). */
static int lib_init(void)
{
	static int state;	/* 0 not yet, 1 done, -1 failed */

	if (!state)
		state = ssh_init() == SSH_OK ? 1 : -1;
	if (state < 0)
		return error("cannot initialise libssh");
	return 0;
}

/* Passphrase callback: the lab's keys have none, and nothing may prompt. */
static int no_passphrase(const char *prompt UNUSED, char *buf UNUSED,
			 size_t len UNUSED, int echo UNUSED, int verify UNUSED,
			 void *userdata UNUSED)
{
	return -1;
}

/* ---- keys ---- */

int ssh_keygen(const char *dir, char **priv_path, char **pub_line)
{
	ssh_key key = NULL, pub = NULL;
	char *priv_b64 = NULL, *pub_b64 = NULL;
	char *priv = NULL, *pubfile = NULL, *line = NULL, *text = NULL;
	int ret = 0;

	ret = lib_init();
	if (ret)
		goto out;
	ret = mkdir_p(dir, 0700);
	if (ret)
		goto out;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		ret = error("cannot generate an ed25519 key for '%s'", dir);
		goto out;
	}
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv_b64) != SSH_OK ||
	    ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &pub_b64) != SSH_OK) {
		ret = error("cannot export the ed25519 key for '%s'", dir);
		goto out;
	}
	priv = path_join(dir, KEY_NAME);
	pubfile = path_join(dir, KEY_NAME ".pub");
	line = xasprintf("%s %s", ssh_key_type_to_char(ssh_key_type(pub)), pub_b64);
	text = xasprintf("%s%s", priv_b64,
			 ends_with(priv_b64, "\n") ? "" : "\n");
	ret = write_file(priv, text, strlen(text), 0600);
	if (ret)
		goto out;
	/* write_file() creates with @mode; make sure of it on a replaced key too */
	if (chmod(priv, 0600)) {
		ret = error_errno("cannot chmod '%s'", priv);
		goto out;
	}
	free(text);
	text = xasprintf("%s\n", line);
	ret = write_file(pubfile, text, strlen(text), 0644);
	if (ret)
		goto out;
	if (priv_path) {
		*priv_path = priv;
		priv = NULL;
	}
	if (pub_line) {
		*pub_line = line;
		line = NULL;
	}
out:
	ssh_key_free(key);
	ssh_key_free(pub);
	ssh_string_free_char(priv_b64);
	ssh_string_free_char(pub_b64);
	free(priv);
	free(pubfile);
	free(line);
	free(text);
	return ret;
}

/* ---- connecting ---- */

/* The private key @path. 0, -errno if unreadable or -EINVAL if not a key (reported). */
static int load_key(const char *path, ssh_key *key)
{
	if (access(path, R_OK))
		return error_errno("cannot read private key '%s'", path);
	if (ssh_pki_import_privkey_file(path, NULL, no_passphrase, NULL, key) != SSH_OK)
		return error_code(-EINVAL, "cannot load private key '%s'", path);
	return 0;
}

/* @host:@port as addresses (caller frees). 0 or -EINVAL (reported). */
static int resolve(const char *host, int port, struct addrinfo **addrs)
{
	struct addrinfo hints;
	char service[16];
	int rc = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, addrs);
	if (rc)
		return error_code(-EINVAL, "cannot resolve '%s': %s", host, gai_strerror(rc));
	return 0;
}

/* Wait for a non-blocking connect() on @fd to complete. 0 or -errno. */
static int wait_connected(int fd, double deadline)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	socklen_t len = sizeof(int);
	int err = 0, n = 0;

	for (;;) {
		if (runproc_interrupted())
			return -EINTR;
		if (left(deadline) <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, to_ms(left(deadline)));
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/* TCP connection to the first address of @addrs that answers: fd or -errno. */
static int tcp_connect(const struct addrinfo *addrs, double deadline)
{
	int ret = -EHOSTUNREACH, one = 1;

	for (const struct addrinfo *ai = addrs; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);

		if (fd < 0) {
			ret = -errno;
			continue;
		}
		/* small request packets back to back: no Nagle delay */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			return fd;
		ret = errno == EINPROGRESS ? wait_connected(fd, deadline) : -errno;
		if (!ret)
			return fd;
		close(fd);
		if (ret == -ETIMEDOUT || ret == -EINTR)
			break;
	}
	return ret;
}

/* Log the (unverified) host key's fingerprint at verbose level. */
static void log_host_key(ssh_session ss, const char *target)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;

	if (!tl_verbose)
		return;
	if (ssh_get_server_publickey(ss, &key) == SSH_OK &&
	    !ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen))
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	info("host key of '%s' (not verified): %s %s", target,
	     key ? ssh_key_type_to_char(ssh_key_type(key)) : "unknown",
	     fp ? fp : "(no fingerprint)");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
}

static void set_session_options(ssh_session ss, const char *host, int port,
				const char *user)
{
	int verbosity = tl_verbose >= 3 ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
	unsigned int uport = (unsigned int)port;
	bool no_config = false;
	int off = 0;

	ssh_options_set(ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(ss, SSH_OPTIONS_HOST, host);
	ssh_options_set(ss, SSH_OPTIONS_PORT, &uport);
	ssh_options_set(ss, SSH_OPTIONS_USER, user);
	/* nothing of the host user's ~/.ssh or /etc/ssh applies to the lab */
	ssh_options_set(ss, SSH_OPTIONS_PROCESS_CONFIG, &no_config);
	ssh_options_set(ss, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	ssh_options_set(ss, SSH_OPTIONS_STRICTHOSTKEYCHECK, &off);
}

/*
 * Disconnect and free @ss (NULL is fine), then close its socket @fd (-1 is
 * fine): libssh leaves a socket given with SSH_OPTIONS_FD open.
 */
static void session_free(ssh_session ss, int fd)
{
	if (ss) {
		set_timeout(ss, CLOSE_TIMEOUT);
		ssh_disconnect(ss);
		ssh_free(ss);
	}
	if (fd >= 0)
		close(fd);
}

#define ATTEMPT_TIMEOUT 3.0	/* seconds, one connection try */

/*
 * One connection try. 0 with *out and *out_fd (its socket, which libssh
 * does not close: see session_free()) set, or -errno with the reason in
 * @why; *retry tells whether trying again may help.
 */
static int connect_once(ssh_session *out, int *out_fd,
			const struct addrinfo *addrs, const char *host, int port,
			const char *user, ssh_key key, double deadline,
			const char *target, struct strbuf *why, bool *retry)
{
	ssh_session ss = NULL;
	int fd = -1, ret = 0, rc = 0;

	*retry = true;
	/*
	 * One try gets at most ATTEMPT_TIMEOUT: a port forward accepts at once
	 * even while the guest's sshd is not answering yet (QEMU user
	 * networking), so a try that waits for the banner must give up and
	 * start again rather than spend the whole deadline on one connection.
	 */
	if (deadline - now_mono() > ATTEMPT_TIMEOUT)
		deadline = now_mono() + ATTEMPT_TIMEOUT;
	fd = tcp_connect(addrs, deadline);
	if (fd < 0) {
		ret = fd;
		strbuf_addstr(why, strerror(-ret));
		goto out;
	}
	ss = ssh_new();
	if (!ss) {
		ret = -ENOMEM;
		*retry = false;
		strbuf_addstr(why, "cannot create a libssh session");
		goto out;
	}
	set_session_options(ss, host, port, user);
	if (ssh_options_set(ss, SSH_OPTIONS_FD, &fd) != SSH_OK) {
		ret = -EIO;
		strbuf_addstr(why, ssh_get_error(ss));
		goto out;
	}
	set_timeout(ss, left(deadline));
	if (ssh_connect(ss) != SSH_OK) {
		ret = left(deadline) <= 0 ? -ETIMEDOUT : -EPROTO;
		strbuf_addf(why, "SSH handshake failed: %s", ssh_get_error(ss));
		goto out;
	}
	log_host_key(ss, target);
	set_timeout(ss, left(deadline));
	rc = ssh_userauth_publickey(ss, NULL, key);
	if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL) {
		ret = -EACCES;
		*retry = false;
		strbuf_addf(why, "public key authentication as '%s' refused", user);
		goto out;
	}
	if (rc != SSH_AUTH_SUCCESS) {
		ret = left(deadline) <= 0 ? -ETIMEDOUT : -EPROTO;
		strbuf_addf(why, "authentication failed: %s", ssh_get_error(ss));
		goto out;
	}
	*out = ss;
	*out_fd = fd;
	ss = NULL;
	fd = -1;
out:
	session_free(ss, fd);
	return ret;
}

/*
 * connect_once() again until it succeeds, fails for good, or @deadline
 * passes (-ETIMEDOUT, the last try's reason in @why); only one try when
 * @single. A guest busy for a few seconds (an emulated CPU writing a
 * synchronous file system) answers a later try.
 */
static int connect_until(ssh_session *out, int *out_fd, const struct addrinfo *addrs,
			 const char *host, int port, const char *user, ssh_key key,
			 double deadline, const char *target, struct strbuf *why, bool single)
{
	bool retry = false;
	int ret;

	for (;;) {
		strbuf_reset(why);
		ret = connect_once(out, out_fd, addrs, host, port, user, key, deadline, target,
				   why, &retry);
		if (!ret || !retry || ret == -EINTR || runproc_interrupted() || single)
			return ret;
		/* a last try needs a little time to be worth it */
		if (left(deadline) <= 0.05)
			return -ETIMEDOUT;
		sleep_for(left(deadline) - 0.05 < RETRY_DELAY ? left(deadline) - 0.05 : RETRY_DELAY);
	}
}

/* connect_until() with @s's target and key */
static int reconnect(struct guest_ssh *s, ssh_session *out, int *out_fd, double deadline,
		     struct strbuf *why)
{
	return connect_until(out, out_fd, s->addrs, s->host, s->port, s->user, s->key,
			     deadline, s->target, why, false);
}

static int connection_pgid(struct guest_ssh *s, ssh_session ss, double deadline);

int guest_ssh_connect(struct guest_ssh **out, const char *host, int port,
		      const char *user, const char *priv_path, double timeout)
{
	bool single = timeout <= 0;	/* one try, bounded by GUEST_SSH_OP_TIMEOUT */
	double deadline = now_mono() + (single ? GUEST_SSH_OP_TIMEOUT : timeout);
	struct addrinfo *addrs = NULL;
	struct strbuf why = STRBUF_INIT;
	struct guest_ssh *s = NULL;
	ssh_session ss = NULL;
	ssh_key key = NULL;
	char *target = NULL;
	int ret = 0, fd = -1;

	if (!host || !*host || !user || !*user || port <= 0 || port > 65535) {
		ret = error_code(-EINVAL,
				 "bad SSH target '%s@%s:%d'", user ? user : "", host ? host : "", port);
		goto out;
	}
	target = xasprintf("%s@%s:%d", user, host, port);
	ret = lib_init();
	if (ret)
		goto out;
	ret = load_key(priv_path, &key);
	if (ret)
		goto out;
	ret = resolve(host, port, &addrs);
	if (ret)
		goto out;
	ret = connect_until(&ss, &fd, addrs, host, port, user, key, deadline, target, &why,
			    single);
	if (ret && runproc_interrupted()) {
		ret = -EINTR;
		goto out;
	}
	if (ret == -ETIMEDOUT && !single) {
		error("cannot connect to '%s' within %g s: %s", target, timeout,
		      strbuf_str(&why));
		goto out;
	}
	if (ret) {
		error("cannot connect to '%s': %s", target, strbuf_str(&why));
		goto out;
	}
	s = xcalloc(1, sizeof(*s));
	s->session = ss;
	s->fd = fd;
	s->host = xstrdup(host);
	s->user = xstrdup(user);
	s->port = port;
	s->key = key;
	key = NULL;
	s->addrs = addrs;
	addrs = NULL;
	s->target = target;
	target = NULL;
	s->pgid = connection_pgid(s, ss, deadline < now_mono() + PROBE_TIMEOUT ?
					  deadline : now_mono() + PROBE_TIMEOUT);
	*out = s;
out:
	if (addrs)
		freeaddrinfo(addrs);
	ssh_key_free(key);
	strbuf_release(&why);
	free(target);
	return ret;
}

/* ---- jobs ---- */

static void on_eof(ssh_session ss UNUSED, ssh_channel ch UNUSED, void *data)
{
	struct guest_job *job = data;

	job->eof = true;
}

static void on_close(ssh_session ss UNUSED, ssh_channel ch UNUSED, void *data)
{
	struct guest_job *job = data;

	job->closed = true;
}

static void on_exit_status(ssh_session ss UNUSED, ssh_channel ch UNUSED,
			   int status, void *data)
{
	struct guest_job *job = data;

	job->status = status >= 0 && status <= 255 ? status : 255;
}

/* Signal number of an SSH signal name ("KILL"); 127 if unknown. */
static int signal_number(const char *name)
{
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && !strcmp(abbrev, name))
			return i;
	}
	return 127;
}

static void on_exit_signal(ssh_session ss UNUSED, ssh_channel ch UNUSED,
			   const char *sig, int core UNUSED,
			   const char *errmsg UNUSED, const char *lang UNUSED,
			   void *data)
{
	struct guest_job *job = data;

	job->status = 128 + signal_number(sig ? sig : "");
}

static bool session_broken(ssh_session ss)
{
	return !ssh_is_connected(ss) ||
	       (ssh_get_status(ss) & (SSH_CLOSED | SSH_CLOSED_ERROR));
}

static char *session_error(ssh_session ss)
{
	const char *msg = ssh_get_error(ss);

	return xstrdup(msg && *msg ? msg : "connection closed");
}

/* The main connection is lost: remember why, fail its commands. */
static void mark_dead(struct guest_ssh *s)
{
	if (s->dead)
		return;
	s->dead = session_error(s->session);
	for (struct guest_job *j = s->jobs; j; j = j->next)
		if (j->session == s->session)
			j->failed = j->lost = true;
}

/*
 * Let libssh read the main connection and the connections of running
 * jobs for at most @secs, returning at the first activity. Incoming data
 * is buffered in the channels; end events go to the callbacks.
 */
static void process_input(struct guest_ssh *s, double secs)
{
	ssh_session *list = NULL;
	ssh_event ev = NULL;
	size_t n = 0, added = 0;

	for (struct guest_job *j = s->jobs; j; j = j->next)
		n++;
	list = xcalloc(n + 1, sizeof(*list));
	n = 0;
	if (!s->dead)
		list[n++] = s->session;
	for (struct guest_job *j = s->jobs; j; j = j->next) {
		bool seen = false;

		if (j->done || !j->session || j->session == s->session)
			continue;
		for (size_t i = 0; i < n; i++)
			seen |= list[i] == j->session;
		if (!seen)
			list[n++] = j->session;
	}
	ev = ssh_event_new();
	for (size_t i = 0; ev && i < n; i++) {
		if (ssh_event_add_session(ev, list[i]) == SSH_OK)
			added++;
		else
			list[i] = NULL;
	}
	if (added)
		ssh_event_dopoll(ev, to_ms(secs));
	else
		sleep_for(secs < POLL_SLICE ? secs : POLL_SLICE);
	for (size_t i = 0; ev && i < n; i++)
		if (list[i])
			ssh_event_remove_session(ev, list[i]);
	if (ev)
		ssh_event_free(ev);
	free(list);
}

/* Move what libssh buffered for @job into its strbufs. False on error. */
static bool job_drain(struct guest_job *job)
{
	char buf[16384];

	for (int is_err = 0; is_err <= 1; is_err++) {
		for (;;) {
			int n = ssh_channel_read_nonblocking(job->channel, buf,
							     sizeof(buf), is_err);

			if (n == SSH_ERROR)
				return false;
			if (n <= 0)	/* nothing now, or SSH_EOF */
				break;
			strbuf_add(is_err ? &job->err : &job->out, buf, (size_t)n);
		}
	}
	return true;
}

/*
 * Collect @job's buffered output and decide whether it is finished. The
 * end is decided before draining: all data precedes the server's EOF and
 * close, so once those are seen, one more drain has everything.
 */
static void job_update(struct guest_job *job)
{
	bool ending = false;

	if (job->done)
		return;
	ending = job->closed || job->failed || (job->status >= 0 && job->eof);
	if (!job_drain(job) || session_broken(job->session)) {
		if (job->ssh && job->session == job->ssh->session) {
			mark_dead(job->ssh);
		} else if (!job->lost) {
			job->lost = true;
			job->why = session_error(job->session);
		}
		job->failed = true;
		ending = true;
	}
	if (ending)
		job->done = true;
}

/* Update every job of @s from what libssh has buffered (no waiting). */
static void pump_all(struct guest_ssh *s)
{
	if (!s->dead && session_broken(s->session))
		mark_dead(s);
	for (struct guest_job *j = s->jobs; j; j = j->next)
		job_update(j);
}

static bool job_poll(struct guest_job *job, double deadline)
{
	struct guest_ssh *s = job->ssh;

	if (!s)
		return true;
	for (;;) {
		double t = 0;

		pump_all(s);
		if (job->done)
			return true;
		if (runproc_interrupted())
			return false;
		t = left(deadline);
		/* even without time left, take what the sockets already hold */
		process_input(s, t <= 0 ? 0 : t < POLL_SLICE ? t : POLL_SLICE);
		if (t <= 0) {
			pump_all(s);
			return job->done;
		}
	}
}

static void on_retired_close(ssh_session ss UNUSED, ssh_channel ch UNUSED,
			     void *data)
{
	struct retired *r = data;

	r->ended = true;
}

static void on_retired_status(ssh_session ss UNUSED, ssh_channel ch UNUSED,
			      int status UNUSED, void *data)
{
	struct retired *r = data;

	r->ended = true;
}

static void on_retired_signal(ssh_session ss UNUSED, ssh_channel ch UNUSED,
			      const char *sig UNUSED, int core UNUSED,
			      const char *errmsg UNUSED, const char *lang UNUSED,
			      void *data)
{
	struct retired *r = data;

	r->ended = true;
}

/*
 * Close @ch, a channel of the main connection whose command may still be
 * running, and keep it until the server tells the command ended (see the
 * comment at struct retired). @ch must have no other callbacks.
 */
static void retire_channel(struct guest_ssh *s, ssh_channel ch, bool ended)
{
	struct retired *r = xcalloc(1, sizeof(*r));

	r->channel = ch;
	r->ended = ended;
	ssh_callbacks_init(&r->cb);
	r->cb.userdata = r;
	r->cb.channel_close_function = on_retired_close;
	r->cb.channel_exit_status_function = on_retired_status;
	r->cb.channel_exit_signal_function = on_retired_signal;
	ssh_set_channel_callbacks(ch, &r->cb);
	set_timeout(s->session, CLOSE_TIMEOUT);
	ssh_channel_close(ch);
	r->next = s->retired;
	s->retired = r;
}

static void free_retired(struct guest_ssh *s)
{
	while (s->retired) {
		struct retired *r = s->retired;

		s->retired = r->next;
		ssh_remove_channel_callbacks(r->channel, &r->cb);
		set_timeout(s->session, CLOSE_TIMEOUT);
		ssh_channel_free(r->channel);
		free(r);
	}
}

/*
 * Before a channel opens on the main connection: wait (until @deadline,
 * at most SETTLE_TIMEOUT) for the commands of retired channels to end.
 */
static void settle(struct guest_ssh *s, double deadline)
{
	double limit = now_mono() + SETTLE_TIMEOUT;

	if (deadline < limit)
		limit = deadline;
	for (;;) {
		bool pending = false;

		for (struct retired *r = s->retired; r; r = r->next)
			pending |= !r->ended;
		if (!pending || s->dead || left(limit) <= 0 || runproc_interrupted())
			break;
		process_input(s, left(limit) < POLL_SLICE ? left(limit) : POLL_SLICE);
		if (session_broken(s->session))
			mark_dead(s);
	}
	free_retired(s);
}

static struct guest_job *job_new(const char *command, ssh_session ss)
{
	struct guest_job *job = xcalloc(1, sizeof(*job));

	job->status = -1;
	job->command = xstrdup(command);
	job->session = ss;
	job->fd = -1;
	return job;
}

static void job_destroy(struct guest_job *job)
{
	if (job->channel) {
		ssh_remove_channel_callbacks(job->channel, &job->cb);
		set_timeout(job->session, CLOSE_TIMEOUT);
		ssh_channel_free(job->channel);
	}
	if (job->own)
		session_free(job->session, job->fd);
	strbuf_release(&job->out);
	strbuf_release(&job->err);
	free(job->command);
	free(job->pgid_file);
	free(job->why);
	free(job);
}

/*
 * Report a failed channel operation (unless @quiet); returns -EPIPE,
 * -ETIMEDOUT or -EIO.
 */
static int channel_failure(struct guest_ssh *s, struct guest_job *job,
			   const char *what, double deadline, bool quiet)
{
	char *why = NULL;
	int ret = -EIO;

	if (session_broken(job->session)) {
		if (job->session == s->session)
			mark_dead(s);
		why = session_error(job->session);
		ret = -EPIPE;
	} else if (left(deadline) <= 0) {
		why = xstrdup("timed out");
		ret = -ETIMEDOUT;
	} else {
		why = xstrdup(ssh_get_error(job->session));
	}
	if (!quiet)
		error("cannot %s '%s' on '%s': %s", what, job->command, s->target, why);
	free(why);
	return ret;
}

/*
 * Open a channel on @job's connection, start @job's command there and
 * link @job to @s. 0 or -errno (reported unless @quiet).
 */
static int job_open(struct guest_ssh *s, struct guest_job *job, double deadline,
		    bool quiet)
{
	job->channel = ssh_channel_new(job->session);
	if (!job->channel)
		return channel_failure(s, job, "open a channel for", deadline, quiet);
	set_timeout(job->session, left(deadline));
	if (ssh_channel_open_session(job->channel) != SSH_OK)
		return channel_failure(s, job, "open a channel for", deadline, quiet);
	ssh_callbacks_init(&job->cb);
	job->cb.userdata = job;
	job->cb.channel_eof_function = on_eof;
	job->cb.channel_close_function = on_close;
	job->cb.channel_exit_status_function = on_exit_status;
	job->cb.channel_exit_signal_function = on_exit_signal;
	ssh_set_channel_callbacks(job->channel, &job->cb);
	set_timeout(job->session, left(deadline));
	if (ssh_channel_request_exec(job->channel, job->command) != SSH_OK)
		return channel_failure(s, job, "run", deadline, quiet);
	/* empty stdin: a command reading it sees EOF instead of hanging */
	if (ssh_channel_send_eof(job->channel) != SSH_OK)
		return channel_failure(s, job, "run", deadline, quiet);
	job->ssh = s;
	job->next = s->jobs;
	s->jobs = job;
	return 0;
}

/* Unlink @job from its session's list. */
static void job_unlink(struct guest_job *job)
{
	struct guest_job **p = &job->ssh->jobs;

	while (*p && *p != job)
		p = &(*p)->next;
	if (*p)
		*p = job->next;
	job->next = NULL;
	job->ssh = NULL;
}

/*
 * Run a helper command of ours on connection @ss and wait for it (until
 * @deadline). Its stdout goes to @out (may be NULL). Returns its exit
 * status or -errno; nothing is reported.
 */
static int run_helper(struct guest_ssh *s, ssh_session ss, const char *command,
		      double deadline, struct strbuf *out)
{
	struct guest_job *job = job_new(command, ss);
	int ret = 0;

	ret = job_open(s, job, deadline, true);
	if (ret)
		goto out;
	if (!job_poll(job, deadline))
		ret = -ETIMEDOUT;
	else
		ret = job->status >= 0 ? job->status : -EIO;
	if (out)
		strbuf_add(out, job->out.buf ? job->out.buf : "", job->out.len);
	job_unlink(job);
out:
	job_destroy(job);
	return ret;
}

/*
 * The process group to kill to end every process of connection @ss: the
 * group of dropbear's process for the connection, which its commands
 * inherit (a session without a pty gets no group of its own, so killing
 * the command's shell would leave its children running). 0 when unknown
 * or when that process does not lead its own group.
 */
static int connection_pgid(struct guest_ssh *s, ssh_session ss, double deadline)
{
	struct strbuf out = STRBUF_INIT;
	long pid = 0, pgrp = 0;
	int ret = 0;

	ret = run_helper(s, ss, "read -r pid comm state ppid pgrp rest < /proc/$PPID/stat"
			 " && echo \"$pid $pgrp\"", deadline, &out);
	if (!ret && sscanf(strbuf_str(&out), "%ld %ld", &pid, &pgrp) == 2 &&
	    pid > 1 && pid == pgrp && pid <= INT32_MAX)
		ret = (int)pid;
	else
		ret = 0;
	if (!ret && tl_verbose)
		info("cannot find the process group of a connection to '%s'",
		     s->target);
	strbuf_release(&out);
	return ret;
}

#define KILL_CMD "kill -s KILL --"	/* then " -PGID"... */

/* SIGKILL the process groups @pgids (@n of them) through connection @ss. */
static void kill_groups(struct guest_ssh *s, ssh_session ss, const int *pgids,
			size_t n, double deadline)
{
	struct strbuf cmd = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&cmd, KILL_CMD);
	for (size_t i = 0; i < n; i++)
		if (pgids[i] > 0)
			strbuf_addf(&cmd, " -%d", pgids[i]);
	if (cmd.len > strlen(KILL_CMD))
		ret = run_helper(s, ss, cmd.buf, deadline, NULL);
	if (ret && tl_verbose)
		info("cannot run '%s' on '%s'", cmd.buf, s->target);
	strbuf_release(&cmd);
}

/*
 * A command of the main connection outlived its deadline: its shell got
 * SIGKILL, but not the processes it started. Replace the main connection
 * with a new one and, through it, kill every process of the old one
 * (see connection_pgid()). Then wait for retired channels (settle()).
 */
static void main_ready(struct guest_ssh *s, double deadline)
{
	struct strbuf why = STRBUF_INIT;
	ssh_session ss = NULL, old = NULL;
	int fd = -1, old_fd = -1, old_pgid = 0;

	if (s->tainted && !s->dead && !runproc_interrupted()) {
		s->tainted = false;
		if (reconnect(s, &ss, &fd, deadline, &why)) {
			if (tl_verbose)
				info("cannot reconnect to '%s': %s", s->target,
				     strbuf_str(&why));
		} else {
			/* the old connection goes: its retired channels too */
			free_retired(s);
			old = s->session;
			old_fd = s->fd;
			old_pgid = s->pgid;
			s->session = ss;
			s->fd = fd;
			s->pgid = connection_pgid(s, ss, deadline);
			kill_groups(s, ss, &old_pgid, 1, deadline);
			session_free(old, old_fd);
		}
	}
	strbuf_release(&why);
	settle(s, deadline);
}

/* Start @command on the main connection, or on a new one when @own. */
static int job_start(struct guest_ssh *s, const char *command, double deadline,
		     bool own, struct guest_job **out)
{
	struct strbuf why = STRBUF_INIT;
	struct guest_job *job = NULL;
	int ret = 0;

	if (!s->dead && !own)
		main_ready(s, deadline);
	if (s->dead) {
		return error_code(-EPIPE, "cannot run '%s': lost connection to '%s': %s", command,
				  s->target, s->dead);
	}
	job = job_new(command, own ? NULL : s->session);
	if (own) {
		job->own = true;
		ret = reconnect(s, &job->session, &job->fd, deadline, &why);
		if (ret) {
			job->session = NULL;
			if (ret != -EINTR)
				error("cannot run '%s': cannot connect to '%s': %s",
				      command, s->target, strbuf_str(&why));
			ret = ret == -ETIMEDOUT || ret == -EINTR ? ret : -EPIPE;
			goto out;
		}
		/*
		 * No probe command on this connection before the job: with
		 * dropbear < 2024.86 a channel opened after another channel's
		 * command exited on the same connection can hang (see above).
		 * The job's own shell records its process group instead, and
		 * kill_own_jobs() reads it through the main connection.
		 */
		{
			static unsigned serial;
			char *wrapped;

			job->pgid_file = xasprintf("/tmp/.tl-job-%d-%u.pgid", (int)getpid(), ++serial);
			wrapped = xasprintf("read -r _p _c _s _pp _g _r < /proc/$PPID/stat 2>/dev/null"
					    " && [ \"$_p\" = \"$_g\" ] && echo \"$_g\" > %s; %s",
					    job->pgid_file, command);
			free(job->command);
			job->command = wrapped;
		}
	}
	ret = job_open(s, job, deadline, false);
	if (ret)
		goto out;
	*out = job;
	job = NULL;
out:
	if (job)
		job_destroy(job);
	strbuf_release(&why);
	return ret;
}

int guest_ssh_start(struct guest_ssh *s, const char *command,
		    struct guest_job **job)
{
	return job_start(s, command, now_mono() + GUEST_SSH_OP_TIMEOUT, true, job);
}

bool guest_job_poll(struct guest_job *job, double max_wait)
{
	return job_poll(job, now_mono() + (max_wait > 0 ? max_wait : 0));
}

/* Outcome of a finished job: 0 with a status, else -EPIPE/-EIO (reported). */
static int job_result(const struct guest_job *job)
{
	const struct guest_ssh *s = job->ssh;

	if (job->status >= 0)
		return 0;
	if (!s) {
		return error_code(-EPIPE, "'%s' did not finish: its session was closed", job->command);
	}
	if (job->lost) {
		return error_code(-EPIPE, "lost connection to '%s' while running '%s': %s", s->target,
				  job->command, job->session == s->session ? s->dead : job->why);
	}
	return error("'%s' on '%s' ended without an exit status", job->command, s->target);
}

int guest_job_wait(struct guest_job *job, double timeout)
{
	if (!guest_job_poll(job, timeout))
		return runproc_interrupted() ? -EINTR : -ETIMEDOUT;
	return job_result(job);
}

int guest_job_status(const struct guest_job *job)
{
	return job->done ? job->status : -1;
}

const struct strbuf *guest_job_stdout(const struct guest_job *job)
{
	return &job->out;
}

const struct strbuf *guest_job_stderr(const struct guest_job *job)
{
	return &job->err;
}

/*
 * Stop the processes of running jobs of @s that have their own
 * connection: kill their connections' process groups through the main
 * connection, or at least their shells when that cannot be.
 */
static void kill_own_jobs(struct guest_ssh *s, struct guest_job *only,
			  double deadline)
{
	size_t n = 0, i = 0;
	int *pgids = NULL;

	for (struct guest_job *j = s->jobs; j; j = j->next)
		n++;
	pgids = xcalloc(n + 1, sizeof(*pgids));
	for (struct guest_job *j = s->jobs; j; j = j->next) {
		if ((only && j != only) || !j->own || j->done || !j->channel)
			continue;
		ssh_channel_request_send_signal(j->channel, "KILL");
		pgids[i++] = j->pgid;
		if (j->pgid_file && !s->dead) {
			/* the group the job's shell recorded (see job_start()) */
			char *cmd = xasprintf("g=$(cat %s 2>/dev/null) && [ \"$g\" -gt 1 ] && "
					      "kill -s KILL -- -$g; rm -f %s", j->pgid_file,
					      j->pgid_file);
			struct strbuf out = STRBUF_INIT;

			main_ready(s, deadline);
			if (!s->dead)
				run_helper(s, s->session, cmd, deadline, &out);
			strbuf_release(&out);
			free(cmd);
		}
	}
	if (i && !s->dead) {
		main_ready(s, deadline);
		if (!s->dead)
			kill_groups(s, s->session, pgids, i, deadline);
	}
	free(pgids);
}

void guest_job_free(struct guest_job *job)
{
	struct guest_ssh *s = NULL;

	if (!job)
		return;
	s = job->ssh;
	if (s && job->own) {
		kill_own_jobs(s, job, now_mono() + CLOSE_TIMEOUT);
	} else if (s && !job->done && !job->failed && job->channel) {
		/* a command of the main connection: see main_ready() */
		ssh_channel_request_send_signal(job->channel, "KILL");
		ssh_remove_channel_callbacks(job->channel, &job->cb);
		retire_channel(s, job->channel, job->closed);
		job->channel = NULL;
		if (s->pgid > 0)
			s->tainted = true;
	}
	if (s)
		job_unlink(job);
	job_destroy(job);
}

int guest_ssh_exec(struct guest_ssh *s, const char *command, double timeout,
		   struct strbuf *out, struct strbuf *err, int *status)
{
	double deadline = now_mono() + timeout;
	struct guest_job *job = NULL;
	int ret = 0;

	if (status)
		*status = -1;
	ret = job_start(s, command, deadline, false, &job);
	if (ret)
		goto out;
	if (!job_poll(job, deadline)) {
		ret = runproc_interrupted() ? -EINTR : -ETIMEDOUT;
		if (ret == -ETIMEDOUT)
			error("'%s' on '%s' timed out after %g s", command,
			      s->target, timeout);
	} else {
		ret = job_result(job);
		if (!ret && status)
			*status = job->status;
	}
	if (out)
		strbuf_add(out, job->out.buf ? job->out.buf : "", job->out.len);
	if (err)
		strbuf_add(err, job->err.buf ? job->err.buf : "", job->err.len);
out:
	guest_job_free(job);
	return ret;
}

void guest_ssh_close(struct guest_ssh *s)
{
	double deadline = now_mono() + CLOSE_TIMEOUT;

	if (!s)
		return;
	pump_all(s);	/* last output of the jobs about to be orphaned */
	kill_own_jobs(s, NULL, deadline);
	/* a command left by a deadline goes too: main_ready() kills it */
	if (s->tainted)
		main_ready(s, deadline);
	while (s->jobs) {
		struct guest_job *job = s->jobs;

		s->jobs = job->next;
		job->next = NULL;
		job->done = true;
		if (job->channel) {
			ssh_remove_channel_callbacks(job->channel, &job->cb);
			set_timeout(job->session, CLOSE_TIMEOUT);
			ssh_channel_free(job->channel);
			job->channel = NULL;
		}
		if (job->own)
			session_free(job->session, job->fd);
		job->session = NULL;
		job->fd = -1;
		job->ssh = NULL;
	}
	free_retired(s);
	session_free(s->session, s->fd);
	ssh_key_free(s->key);
	if (s->addrs)
		freeaddrinfo(s->addrs);
	free(s->host);
	free(s->user);
	free(s->target);
	free(s->dead);
	free(s);
}

/* ---- SFTP download ---- */

/*
 * libssh 0.10's SFTP calls wait for a reply in a loop that the session
 * timeout does not end (a silent server blocks them for ever). So SFTP
 * runs on a connection of its own, and a watchdog thread shuts that
 * connection's socket down at the deadline (or when teelab is signalled):
 * the blocked call then fails at once. The thread touches nothing but
 * the socket; libssh stays in the calling thread.
 */
struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;
	double deadline;	/* now_mono() time */
	bool stop;
	bool started;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		double t = left(w->deadline);
		double until = now_mono() + (t < POLL_SLICE ? t : POLL_SLICE);
		struct timespec ts;

		if (t <= 0 || runproc_interrupted()) {
			shutdown(w->fd, SHUT_RDWR);
			break;
		}
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Start the watchdog of socket @fd; without it, SFTP calls may block. */
static int watchdog_start(struct watchdog *w, int fd, double deadline)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc = 0;

	w->fd = fd;
	w->deadline = deadline;
	w->stop = false;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);	/* as now_mono() */
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	/* signals stay with the main thread (runproc's handlers) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, watchdog_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->started = !rc;
	if (rc) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return error_code(-rc, "cannot start a thread: %s", strerror(rc));
	}
	return 0;
}

static void watchdog_stop(struct watchdog *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	w->started = false;
}

struct fetch {
	struct guest_ssh *s;
	ssh_session ss;		/* the SFTP connection */
	sftp_session sftp;
	double deadline;
	double timeout;
	int first_err;	/* first error of a skipped entry */
	bool fatal;	/* stop the whole copy */
};

/*
 * Before an SFTP call: bound its libssh waits by the deadline, and clear
 * the last server status (public in sftp.h) so that a failure without
 * one reads as a broken SFTP session, not as a stale "no such file".
 */
static void fetch_arm(struct fetch *f)
{
	set_timeout(f->ss, left(f->deadline));
	if (f->sftp)
		f->sftp->errnum = SSH_FX_OK;
}

/* Stop conditions checked between SFTP calls: 0 or -errno (reported). */
static int fetch_check(struct fetch *f, const char *remote)
{
	if (runproc_interrupted()) {
		f->fatal = true;
		return -EINTR;
	}
	if (left(f->deadline) <= 0) {
		f->fatal = true;
		return error_code(-ETIMEDOUT, "cannot fetch '%s' from '%s': timed out after %g s", remote,
				  f->s->target, f->timeout);
	}
	return 0;
}

/* Errno for a failed SFTP call on @remote (reported). */
static int fetch_fail(struct fetch *f, const char *remote)
{
	int ret = fetch_check(f, remote);

	if (ret)
		return ret;
	if (session_broken(f->ss)) {
		char *why = session_error(f->ss);

		f->fatal = true;
		error("cannot fetch '%s': lost connection to '%s': %s", remote,
		      f->s->target, why);
		free(why);
		return -EPIPE;
	}
	switch (f->sftp ? sftp_get_error(f->sftp) : SSH_FX_OK) {
	case SSH_FX_OK:		/* no server status: the SFTP session broke */
		f->fatal = true;
		return error("cannot fetch '%s' from '%s': %s", remote, f->s->target,
			     ssh_get_error(f->ss));
	case SSH_FX_NO_SUCH_FILE:
	case SSH_FX_NO_SUCH_PATH:
		ret = -ENOENT;
		break;
	case SSH_FX_PERMISSION_DENIED:
	case SSH_FX_WRITE_PROTECT:
		ret = -EACCES;
		break;
	case SSH_FX_OP_UNSUPPORTED:
		ret = -EOPNOTSUPP;
		break;
	case SSH_FX_NO_CONNECTION:
	case SSH_FX_CONNECTION_LOST:
		f->fatal = true;
		ret = -EPIPE;
		break;
	default:
		ret = -EIO;
		break;
	}
	return error_code(ret, "cannot fetch '%s' from '%s': %s", remote, f->s->target,
			  strerror(-ret));
}

/* A local failure (errno set) stops the copy. Returns -errno (reported). */
static int local_fail(struct fetch *f, const char *what, const char *path)
{
	int e = errno ? errno : EIO;

	f->fatal = true;
	return error_code(-e, "cannot %s '%s': %s", what, path, strerror(e));
}

/* Write all of @p to @fd. 0 or -errno (not reported). */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;	/* errno kept for local_fail() */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Remove a non-directory at @path so it can be created anew. */
static int make_room(struct fetch *f, const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return local_fail(f, "replace", path);
	return 0;
}

static int fetch_file(struct fetch *f, const char *remote, const char *local,
		      mode_t mode)
{
	char buf[READ_CHUNK];
	sftp_file file = NULL;
	bool created = false;
	int fd = -1, ret = 0;

	fetch_arm(f);
	file = sftp_open(f->sftp, remote, O_RDONLY, 0);
	if (!file) {
		ret = fetch_fail(f, remote);
		goto out;
	}
	ret = make_room(f, local);
	if (ret)
		goto out;
	fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = local_fail(f, "create", local);
		goto out;
	}
	created = true;
	/* until EOF: /proc and /sys files report size 0 */
	for (;;) {
		ssize_t n = 0;

		ret = fetch_check(f, remote);
		if (ret)
			goto out;
		fetch_arm(f);
		n = sftp_read(file, buf, sizeof(buf));
		if (n < 0) {
			ret = fetch_fail(f, remote);
			goto out;
		}
		if (!n)
			break;
		if (write_all(fd, buf, (size_t)n)) {
			ret = local_fail(f, "write", local);
			goto out;
		}
	}
	if (fchmod(fd, mode)) {
		ret = local_fail(f, "chmod", local);
		goto out;
	}
	ret = close(fd) ? local_fail(f, "write", local) : 0;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (ret && created)
		unlink(local);
	if (file) {
		set_timeout(f->ss, CLOSE_TIMEOUT);
		sftp_close(file);
	}
	return ret;
}

static int fetch_link(struct fetch *f, const char *remote, const char *local)
{
	char *target = NULL;
	int ret = 0;

	fetch_arm(f);
	target = sftp_readlink(f->sftp, remote);
	if (!target) {
		ret = fetch_fail(f, remote);
		goto out;
	}
	ret = make_room(f, local);
	if (ret)
		goto out;
	if (symlink(target, local))
		ret = local_fail(f, "create symbolic link", local);
out:
	ssh_string_free_char(target);
	return ret;
}

static int fetch_entry(struct fetch *f, const char *remote, const char *local,
		       sftp_attributes attrs);

/* Create (or reuse) the local directory @local, writable while filled. */
static int make_dir(struct fetch *f, const char *local)
{
	struct stat st;

	if (!lstat(local, &st) && !S_ISDIR(st.st_mode) && unlink(local))
		return local_fail(f, "replace", local);
	if (mkdir(local, 0700) && errno != EEXIST)
		return local_fail(f, "create directory", local);
	if (chmod(local, 0700))
		return local_fail(f, "chmod", local);
	return 0;
}

static int fetch_dir(struct fetch *f, const char *remote, const char *local,
		     mode_t mode)
{
	sftp_attributes attrs = NULL;
	sftp_dir dir = NULL;
	int ret = 0;

	ret = make_dir(f, local);
	if (ret)
		goto out;
	fetch_arm(f);
	dir = sftp_opendir(f->sftp, remote);
	if (!dir) {
		ret = fetch_fail(f, remote);
		goto out;
	}
	for (;;) {
		char *rchild = NULL, *lchild = NULL;
		int sub = 0;

		ret = fetch_check(f, remote);
		if (ret)
			goto out;
		fetch_arm(f);
		attrs = sftp_readdir(f->sftp, dir);
		if (!attrs) {
			if (!sftp_dir_eof(dir))
				ret = fetch_fail(f, remote);
			break;
		}
		/* a name with a slash or a dot name would escape @local */
		if (!attrs->name || !*attrs->name || strchr(attrs->name, '/') ||
		    !strcmp(attrs->name, ".") || !strcmp(attrs->name, "..")) {
			sftp_attributes_free(attrs);
			attrs = NULL;
			continue;
		}
		rchild = path_join(remote, attrs->name);
		lchild = path_join(local, attrs->name);
		sub = fetch_entry(f, rchild, lchild, attrs);
		free(rchild);
		free(lchild);
		sftp_attributes_free(attrs);
		attrs = NULL;
		if (sub && f->fatal) {
			ret = sub;
			goto out;
		}
		if (sub && !f->first_err)
			f->first_err = sub;
	}
	if (!ret && chmod(local, mode))
		ret = local_fail(f, "chmod", local);
out:
	sftp_attributes_free(attrs);
	if (dir) {
		set_timeout(f->ss, CLOSE_TIMEOUT);
		sftp_closedir(dir);
	}
	return ret;
}

static int fetch_entry(struct fetch *f, const char *remote, const char *local,
		       sftp_attributes attrs)
{
	mode_t mode = 0644;
	int ret = fetch_check(f, remote);

	if (ret)
		return ret;
	if (attrs->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		mode = attrs->permissions & 07777 & ~(mode_t)(S_ISUID | S_ISGID);
	else if (attrs->type == SSH_FILEXFER_TYPE_DIRECTORY)
		mode = 0755;
	switch (attrs->type) {
	case SSH_FILEXFER_TYPE_REGULAR:
		return fetch_file(f, remote, local, mode);
	case SSH_FILEXFER_TYPE_DIRECTORY:
		return fetch_dir(f, remote, local, mode);
	case SSH_FILEXFER_TYPE_SYMLINK:
		return fetch_link(f, remote, local);
	default:
		if (tl_verbose)
			info("not fetching special file '%s'", remote);
		return 0;
	}
}

int guest_ssh_fetch(struct guest_ssh *s, const char *remote_path,
		    const char *local_dir, double timeout)
{
	struct fetch f = { s, NULL, NULL, now_mono() + timeout, timeout, 0, false };
	struct watchdog dog = { .started = false };
	struct strbuf why = STRBUF_INIT;
	sftp_attributes attrs = NULL;
	char *remote = xstrdup(remote_path ? remote_path : "");
	char *local = NULL, *slash = NULL;
	size_t len = strlen(remote);
	int ret = 0, fd = -1;

	while (len > 1 && remote[len - 1] == '/')
		remote[--len] = '\0';
	if (!len) {
		ret = error_code(-EINVAL, "cannot fetch '': empty remote path");
		goto out;
	}
	if (s->dead) {
		ret = error_code(-EPIPE, "cannot fetch '%s': lost connection to '%s': %s", remote,
				 s->target, s->dead);
		goto out;
	}
	ret = mkdir_p(local_dir, 0755);
	if (ret)
		goto out;
	slash = strrchr(remote, '/');
	if (!strcmp(remote, "/"))
		local = xstrdup(local_dir);
	else
		local = path_join(local_dir, slash ? slash + 1 : remote);
	ret = reconnect(s, &f.ss, &fd, f.deadline, &why);
	if (ret) {
		f.ss = NULL;
		if (ret != -EINTR)
			error("cannot fetch '%s': cannot connect to '%s': %s", remote,
			      s->target, strbuf_str(&why));
		ret = ret == -ETIMEDOUT || ret == -EINTR ? ret : -EPIPE;
		goto out;
	}
	ret = watchdog_start(&dog, fd, f.deadline);
	if (ret)
		goto out;
	fetch_arm(&f);
	f.sftp = sftp_new(f.ss);
	if (!f.sftp) {
		ret = fetch_fail(&f, remote);
		goto out;
	}
	fetch_arm(&f);
	if (sftp_init(f.sftp) != SSH_OK) {
		ret = fetch_check(&f, remote);
		if (!ret && session_broken(f.ss))
			ret = fetch_fail(&f, remote);
		if (!ret) {
			ret = error("cannot start SFTP on '%s' (does the guest have an sftp-server?): %s",
				    s->target, ssh_get_error(f.ss));
		}
		goto out;
	}
	fetch_arm(&f);
	attrs = sftp_lstat(f.sftp, remote);
	if (!attrs) {
		ret = fetch_fail(&f, remote);
		goto out;
	}
	ret = fetch_entry(&f, remote, local, attrs);
	if (!ret)
		ret = f.first_err;
out:
	if (f.sftp) {
		set_timeout(f.ss, CLOSE_TIMEOUT);
		sftp_free(f.sftp);
	}
	watchdog_stop(&dog);
	session_free(f.ss, fd);
	sftp_attributes_free(attrs);
	strbuf_release(&why);
	free(remote);
	free(local);
	return ret;
}

const struct guest_ops guest_ssh_ops = {
	.connect = guest_ssh_connect,
	.close = guest_ssh_close,
	.start = guest_ssh_start,
	.poll = guest_job_poll,
	.status = guest_job_status,
	.out = guest_job_stdout,
	.err = guest_job_stderr,
	.free = guest_job_free,
	.fetch = guest_ssh_fetch,
};
