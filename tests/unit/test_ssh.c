// SPDX-License-Identifier: MIT
/* test_ssh.c - unit tests for lab/ssh.c against a real dropbear on 127.0.0.1 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runproc.h"
#include "ssh.h"
#include "util.h"

/*
 * The server: the host's dropbear (the guest's SSH server too), run as
 * the current user on a free port for the whole group. dropbear takes
 * the user's home (so ~/.ssh/authorized_keys) from the passwd database,
 * not from $HOME; libnss_wrapper (LD_PRELOAD) gives it a passwd file
 * whose user "teelab" has the current uid and a temporary home, so the
 * host user's ~/.ssh is never read or touched. SFTP needs the sftp-server
 * that dropbear runs (openssh-sftp-server).
 */
#define TEST_USER "teelab"
#define SFTP_SERVER "/usr/lib/sftp-server"

struct server {
	char *tmp;		/* scratch directory of the group */
	char *priv;		/* key authorised on the server */
	char *pub;
	int port;		/* 0 when no server runs */
	bool sftp;		/* the server can do SFTP */
	const char *why;	/* why no server runs */
	struct child child;
};

/* ---- helpers ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Full path of @name in $PATH or an sbin directory, or NULL (caller frees). */
static char *find_program(const char *name)
{
	char *path = xasprintf("%s:/usr/sbin:/sbin", getenv("PATH") ? getenv("PATH") : "");
	char *found = NULL, *save = NULL;

	for (char *dir = strtok_r(path, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand = path_join(dir, name);

		if (!access(cand, X_OK))
			found = cand;
		else
			free(cand);
	}
	free(path);
	return found;
}

static char *find_nss_wrapper(void)
{
	static const char *const patterns[] = {
		"/usr/lib/*/libnss_wrapper.so", "/usr/lib64/libnss_wrapper.so",
		"/usr/lib/libnss_wrapper.so", "/usr/local/lib/libnss_wrapper.so",
	};
	char *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(patterns) && !found; i++) {
		glob_t g;

		if (!glob(patterns[i], 0, NULL, &g) && g.gl_pathc)
			found = xstrdup(g.gl_pathv[0]);
		globfree(&g);
	}
	return found;
}

/* A TCP port on 127.0.0.1 that nothing listens on right now. */
static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = 0;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(write_file(path, text, strlen(text), mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	char *text = NULL;

	assert_int_equal(read_file(path, &text, NULL), 0);
	return text;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static struct server *need_server(void **state)
{
	struct server *srv = *state;

	if (!srv->port) {
		print_message("# skipped: %s\n", srv->why);
		skip();
	}
	return srv;
}

static struct guest_ssh *connect_ok(const struct server *srv)
{
	struct guest_ssh *s = NULL;

	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", srv->port, TEST_USER,
					   srv->priv, 10.0), 0);
	assert_non_null(s);
	return s;
}

/* ---- the server ---- */

static int start_server(struct server *srv, const char *dropbear,
			const char *nss)
{
	char *home = path_join(srv->tmp, "home");
	char *dotssh = path_join(home, ".ssh");
	char *keys = path_join(dotssh, "authorized_keys");
	char *passwd = path_join(srv->tmp, "passwd");
	char *group = path_join(srv->tmp, "group");
	char *hostkey = path_join(srv->tmp, "hostkey");
	char *keygen = find_program("dropbearkey");
	char *text = NULL;
	int ret = -1;

	if (!keygen || mkdir(home, 0700) || mkdir(dotssh, 0700))
		goto out;
	text = xasprintf("%s\n", srv->pub);
	if (write_file(keys, text, strlen(text), 0600))
		goto out;
	free(text);
	text = xasprintf(TEST_USER ":x:%u:%u:teelab test:%s:/bin/sh\n",
			 (unsigned)getuid(), (unsigned)getgid(), home);
	if (write_file(passwd, text, strlen(text), 0644))
		goto out;
	free(text);
	text = xasprintf(TEST_USER ":x:%u:\n", (unsigned)getgid());
	if (write_file(group, text, strlen(text), 0644))
		goto out;
	{
		const char *argv[] = { keygen, "-t", "ed25519", "-f", hostkey, NULL };

		if (run_capture(argv, NULL, NULL))
			goto out;
	}
	srv->port = free_port();
	strvec_pushl(&srv->child.argv, dropbear, "-F", "-E", "-s", "-r", hostkey, "-p", NULL);
	strvec_pushf(&srv->child.argv, "127.0.0.1:%d", srv->port);
	strvec_push(&srv->child.argv, "-P");
	strvec_pushf(&srv->child.argv, "%s/dropbear.pid", srv->tmp);
	strvec_pushf(&srv->child.env, "LD_PRELOAD=%s", nss);
	strvec_pushf(&srv->child.env, "NSS_WRAPPER_PASSWD=%s", passwd);
	strvec_pushf(&srv->child.env, "NSS_WRAPPER_GROUP=%s", group);
	free(text);
	text = path_join(srv->tmp, "dropbear.log");
	srv->child.log_path = text;
	text = NULL;
	if (child_start(&srv->child))
		goto out;
	for (int i = 0; i < 250 && !port_open(srv->port); i++)
		sleep_ms(20);
	if (!port_open(srv->port)) {
		fprintf(stderr, "dropbear did not listen on port %d\n", srv->port);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		srv->port = 0;
	free(home);
	free(dotssh);
	free(keys);
	free(passwd);
	free(group);
	free(hostkey);
	free(keygen);
	free(text);
	return ret;
}

static int group_setup(void **state)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct child init = CHILD_INIT;
	char tmpl[] = "/tmp/teelab-test-ssh-XXXXXX";
	char *keydir = NULL, *dropbear = NULL, *nss = NULL;
	int ret = 0;

	srv->child = init;
	*state = srv;
	if (!mkdtemp(tmpl))
		return -1;
	srv->tmp = xstrdup(tmpl);
	keydir = path_join(srv->tmp, "keys");
	ret = ssh_keygen(keydir, &srv->priv, &srv->pub);
	free(keydir);
	if (ret)
		return -1;
	dropbear = find_program("dropbear");
	nss = find_nss_wrapper();
	if (!dropbear)
		srv->why = "no dropbear (package dropbear-bin)";
	else if (!nss)
		srv->why = "no libnss_wrapper.so (package libnss-wrapper)";
	else if (start_server(srv, dropbear, nss))
		ret = -1;
	srv->sftp = srv->port && !access(SFTP_SERVER, X_OK);
	free(dropbear);
	free(nss);
	return ret;
}

static int group_teardown(void **state)
{
	struct server *srv = *state;
	char *log = NULL;
	int ret = 0;

	if (srv->child.pid)
		child_stop(&srv->child, 2.0);
	/* dropbear must not have aborted a connection (see "Connections" in ssh.h) */
	if (srv->child.log_path && !read_file(srv->child.log_path, &log, NULL) &&
	    strstr(log, "Failed assertion")) {
		fprintf(stderr, "dropbear aborted a connection:\n%s", log);
		ret = -1;
	}
	free(log);
	free((char *)srv->child.log_path);
	srv->child.log_path = NULL;
	child_release(&srv->child);
	if (srv->tmp)
		remove_tree(srv->tmp);
	free(srv->tmp);
	free(srv->priv);
	free(srv->pub);
	free(srv);
	return ret;
}

/* ---- keys ---- */

static void test_keygen(void **state)
{
	struct server *srv = *state;
	char *dir = xasprintf("%s/kg/nested", srv->tmp);
	char *priv = NULL, *pub = NULL, *pub2 = NULL, *text = NULL;
	char *pubfile = path_join(dir, "id_ed25519.pub");
	char *want = path_join(dir, "id_ed25519");
	char *keygen = find_program("ssh-keygen");

	assert_int_equal(ssh_keygen(dir, &priv, &pub), 0);
	assert_string_equal(priv, want);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(priv), 0600);
	assert_int_equal(mode_of(pubfile), 0644);
	text = slurp(priv);
	assert_true(starts_with(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
	assert_true(ends_with(text, "-----END OPENSSH PRIVATE KEY-----\n"));
	free(text);
	/* type and base64, no comment */
	assert_true(starts_with(pub, "ssh-ed25519 AAAA"));
	assert_non_null(strchr(pub, ' '));
	assert_null(strchr(strchr(pub, ' ') + 1, ' '));
	assert_null(strchr(pub, '\n'));
	text = slurp(pubfile);
	assert_true(starts_with(text, pub));
	assert_string_equal(text + strlen(pub), "\n");
	free(text);

	/* OpenSSH reads the private key and derives the same public key */
	if (keygen) {
		const char *argv[] = { keygen, "-y", "-f", priv, NULL };
		struct strbuf out = STRBUF_INIT;

		assert_int_equal(run_capture(argv, NULL, &out), 0);
		assert_true(starts_with(strbuf_str(&out), pub));
		strbuf_release(&out);
	}

	/* again: a new key replaces the old one; NULL outputs are fine */
	assert_int_equal(ssh_keygen(dir, NULL, &pub2), 0);
	assert_string_not_equal(pub, pub2);
	text = slurp(pubfile);
	assert_true(starts_with(text, pub2));
	free(text);
	assert_int_equal(mode_of(priv), 0600);
	assert_int_equal(ssh_keygen(dir, NULL, NULL), 0);

	free(keygen);
	free(want);
	free(pubfile);
	free(priv);
	free(pub);
	free(pub2);
	free(dir);
}

static void test_keygen_bad_dir(void **state)
{
	struct server *srv = *state;
	char *file = path_join(srv->tmp, "not-a-dir");
	char *dir = path_join(file, "keys");
	char *priv = NULL, *pub = NULL, *err = NULL;
	struct capture cap = { -1, -1 };

	write_text(file, "x\n", 0644);
	capture_begin(&cap);
	assert_int_equal(ssh_keygen(dir, &priv, &pub), -ENOTDIR);
	err = capture_end(&cap);
	assert_non_null(strstr(err, "teelab: error: "));
	assert_null(priv);
	assert_null(pub);
	free(err);
	free(dir);
	free(file);
}

/* ---- connecting ---- */

/* Nothing listens: retried until the timeout, then -ETIMEDOUT with why. */
static void test_connect_closed_port(void **state)
{
	struct server *srv = *state;
	struct guest_ssh *s = NULL;
	struct capture cap = { -1, -1 };
	int port = free_port();
	char *err = NULL, *target = xasprintf("'root@127.0.0.1:%d'", port);
	double t0 = 0, dt = 0;

	capture_begin(&cap);
	t0 = now_mono();
	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", port, "root", srv->priv, 1.0),
			 -ETIMEDOUT);
	dt = now_mono() - t0;
	err = capture_end(&cap);
	assert_null(s);
	assert_true(dt >= 0.5);
	assert_true(dt < 1.5);
	assert_non_null(strstr(err, "teelab: error: cannot connect to "));
	assert_non_null(strstr(err, target));
	assert_non_null(strstr(err, "Connection refused"));
	free(err);

	/* no timeout: a single try and its own error */
	capture_begin(&cap);
	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", port, "root", srv->priv, 0),
			 -ECONNREFUSED);
	err = capture_end(&cap);
	assert_non_null(strstr(err, target));
	assert_null(s);
	free(err);
	free(target);
}

static void test_connect_bad_args(void **state)
{
	struct server *srv = *state;
	struct guest_ssh *s = NULL;
	struct capture cap = { -1, -1 };
	char *missing = path_join(srv->tmp, "no-such-key");
	char *err = NULL;

	capture_begin(&cap);
	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", 22, "root", missing, 1.0),
			 -ENOENT);
	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", 0, "root", srv->priv, 1.0),
			 -EINVAL);
	err = capture_end(&cap);
	assert_non_null(strstr(err, missing));
	assert_null(s);
	guest_ssh_close(NULL);
	free(err);
	free(missing);
}

static void test_connect_wrong_key(void **state)
{
	struct server *srv = need_server(state);
	char *dir = path_join(srv->tmp, "other-key");
	struct guest_ssh *s = NULL;
	struct capture cap = { -1, -1 };
	char *priv = NULL, *err = NULL;
	double t0 = 0;

	assert_int_equal(ssh_keygen(dir, &priv, NULL), 0);
	capture_begin(&cap);
	t0 = now_mono();
	assert_int_equal(guest_ssh_connect(&s, "127.0.0.1", srv->port, TEST_USER, priv, 10.0),
			 -EACCES);
	err = capture_end(&cap);
	assert_true(now_mono() - t0 < 5.0);	/* not retried until the timeout */
	assert_null(s);
	assert_non_null(strstr(err, "public key authentication as '" TEST_USER "' refused"));
	free(err);
	free(priv);
	free(dir);
}

/* ---- commands ---- */

static void test_exec_status_and_streams(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status = -2;

	assert_int_equal(guest_ssh_exec(s, "echo out; echo err >&2; exit 3", 10.0,
					&out, &err, &status), 0);
	assert_string_equal(strbuf_str(&out), "out\n");
	assert_string_equal(strbuf_str(&err), "err\n");
	assert_int_equal(status, 3);

	/* appended; streams may be dropped */
	assert_int_equal(guest_ssh_exec(s, "echo more", 10.0, &out, NULL, &status), 0);
	assert_string_equal(strbuf_str(&out), "out\nmore\n");
	assert_int_equal(status, 0);
	assert_int_equal(guest_ssh_exec(s, "echo x; echo y >&2", 10.0, NULL, NULL, NULL), 0);

	/* stdin is empty, not left open */
	strbuf_reset(&out);
	assert_int_equal(guest_ssh_exec(s, "cat; echo done", 5.0, &out, NULL, &status), 0);
	assert_string_equal(strbuf_str(&out), "done\n");

	/* a shell command line for the user's shell, run as that user */
	strbuf_reset(&out);
	assert_int_equal(guest_ssh_exec(s, "a=1; b=2; echo $((a + b)) $(id -u)", 5.0,
					&out, NULL, &status), 0);
	{
		char *want = xasprintf("3 %u\n", (unsigned)getuid());

		assert_string_equal(strbuf_str(&out), want);
		free(want);
	}

	strbuf_release(&out);
	strbuf_release(&err);
	guest_ssh_close(s);
}

static void test_exec_signal(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	int status = -2;

	assert_int_equal(guest_ssh_exec(s, "kill -KILL $$", 10.0, NULL, NULL, &status), 0);
	assert_int_equal(status, 128 + SIGKILL);
	assert_int_equal(guest_ssh_exec(s, "kill -TERM $$", 10.0, NULL, NULL, &status), 0);
	assert_int_equal(status, 128 + SIGTERM);
	guest_ssh_close(s);
}

/* Output larger than any channel window arrives whole, on both streams. */
static void test_exec_large_output(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status = -2;

	assert_int_equal(guest_ssh_exec(s, "head -c 3000000 /dev/zero | tr '\\0' x; "
					"head -c 500000 /dev/zero | tr '\\0' y >&2",
					30.0, &out, &err, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(out.len, 3000000);
	assert_int_equal(err.len, 500000);
	assert_int_equal(out.buf[0], 'x');
	assert_int_equal(out.buf[out.len - 1], 'x');
	assert_int_equal(err.buf[err.len - 1], 'y');
	strbuf_release(&out);
	strbuf_release(&err);
	guest_ssh_close(s);
}

/*
 * Wait up to @ms for @pid to be gone or a zombie (killed processes whose
 * parent died too wait for an init that may not reap them here).
 */
static bool process_gone(pid_t pid, long ms)
{
	for (long t = 0; t <= ms; t += 20) {
		char *path = xasprintf("/proc/%d/stat", (int)pid);
		char *text = NULL, *paren = NULL;
		bool gone = read_file(path, &text, NULL) != 0;

		paren = text ? strrchr(text, ')') : NULL;
		if (paren && (paren[1] && (paren[2] == 'Z' || paren[2] == 'X')))
			gone = true;
		free(text);
		free(path);
		if (gone)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Wait up to @ms for @path to hold a pid; returns it. */
static pid_t read_pidfile(const char *path, long ms)
{
	char *text = NULL;
	pid_t pid = 0;

	for (long t = 0; t <= ms && !pid; t += 20) {
		if (!read_file(path, &text, NULL))
			pid = (pid_t)atoi(text);
		free(text);
		text = NULL;
		if (!pid)
			sleep_ms(20);
	}
	assert_true(pid > 0);
	return pid;
}

/* The deadline holds; the remote command is killed; the session lives on. */
static void test_exec_timeout(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct strbuf out = STRBUF_INIT;
	struct capture cap = { -1, -1 };
	char *pidfile = path_join(srv->tmp, "sleep.pid");
	char *cmd = xasprintf("echo started; echo $$ > %s; exec sleep 30", pidfile);
	char *err = NULL, *text = NULL;
	int status = -2;
	double t0 = 0, dt = 0;

	capture_begin(&cap);
	t0 = now_mono();
	assert_int_equal(guest_ssh_exec(s, cmd, 1.0, &out, NULL, &status), -ETIMEDOUT);
	dt = now_mono() - t0;
	err = capture_end(&cap);
	assert_true(dt >= 0.9);
	assert_true(dt < 2.0);
	assert_int_equal(status, -1);
	assert_string_equal(strbuf_str(&out), "started\n");	/* what came in time */
	assert_non_null(strstr(err, "timed out after 1 s"));
	assert_non_null(strstr(err, "'echo started;"));

	text = slurp(pidfile);
	assert_true(process_gone((pid_t)atoi(text), 3000));

	strbuf_reset(&out);
	assert_int_equal(guest_ssh_exec(s, "echo again", 5.0, &out, NULL, &status), 0);
	assert_string_equal(strbuf_str(&out), "again\n");
	assert_int_equal(status, 0);

	/* what the command started goes too, by the next command at the latest */
	free(cmd);
	free(err);
	unlink(pidfile);
	cmd = xasprintf("sleep 30 & echo $! > %s; wait", pidfile);
	capture_begin(&cap);
	assert_int_equal(guest_ssh_exec(s, cmd, 0.5, NULL, NULL, &status), -ETIMEDOUT);
	err = capture_end(&cap);
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, &status), 0);
	assert_true(process_gone(read_pidfile(pidfile, 1000), 3000));

	free(text);
	free(err);
	free(cmd);
	free(pidfile);
	strbuf_release(&out);
	guest_ssh_close(s);
}

/* The server's connection process dies under us: -EPIPE, then and later. */
static void test_exec_connection_lost(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct capture cap = { -1, -1 };
	char *err = NULL;
	int status = -2;
	double t0 = now_mono();

	capture_begin(&cap);
	/* the command's parent is dropbear's process for this connection */
	assert_int_equal(guest_ssh_exec(s, "kill -KILL $PPID; sleep 10", 5.0, NULL, NULL,
					&status), -EPIPE);
	assert_true(now_mono() - t0 < 4.0);
	assert_int_equal(status, -1);
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, &status), -EPIPE);
	assert_int_equal(guest_ssh_fetch(s, "/proc/version", srv->tmp, 5.0), -EPIPE);
	err = capture_end(&cap);
	assert_non_null(strstr(err, "lost connection to '" TEST_USER "@127.0.0.1:"));
	free(err);
	guest_ssh_close(s);
}

/* ---- background jobs ---- */

static void test_jobs_in_parallel(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct guest_job *a = NULL, *b = NULL;
	double t0 = now_mono();

	assert_int_equal(guest_ssh_start(s, "sleep 1; echo a; echo ea >&2; exit 4", &a), 0);
	assert_int_equal(guest_ssh_start(s, "echo b", &b), 0);
	assert_int_equal(guest_job_status(a), -1);

	assert_int_equal(guest_job_wait(b, 5.0), 0);
	assert_true(now_mono() - t0 < 0.9);
	assert_string_equal(strbuf_str(guest_job_stdout(b)), "b\n");
	assert_string_equal(strbuf_str(guest_job_stderr(b)), "");
	assert_int_equal(guest_job_status(b), 0);
	assert_false(guest_job_poll(a, 0));
	assert_int_equal(guest_job_status(a), -1);

	/* a short wait times out and leaves the job running */
	assert_int_equal(guest_job_wait(a, 0.1), -ETIMEDOUT);
	while (!guest_job_poll(a, 0.2))
		assert_true(now_mono() - t0 < 5.0);
	assert_true(now_mono() - t0 >= 0.9);
	assert_int_equal(guest_job_wait(a, 0), 0);
	assert_string_equal(strbuf_str(guest_job_stdout(a)), "a\n");
	assert_string_equal(strbuf_str(guest_job_stderr(a)), "ea\n");
	assert_int_equal(guest_job_status(a), 4);

	guest_job_free(a);
	guest_job_free(b);
	guest_job_free(NULL);
	guest_ssh_close(s);
}

/* A job's output comes in while another one is waited for. */
static void test_jobs_pumped_together(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct guest_job *chatty = NULL, *slow = NULL;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(guest_ssh_start(s, "for i in 1 2 3; do echo $i; sleep 0.1; done", &chatty), 0);
	assert_int_equal(guest_ssh_start(s, "sleep 0.8", &slow), 0);
	assert_int_equal(guest_job_wait(slow, 5.0), 0);
	/* no poll of @chatty: waiting for @slow pumped it */
	assert_true(guest_job_poll(chatty, 0));
	assert_string_equal(strbuf_str(guest_job_stdout(chatty)), "1\n2\n3\n");
	/* exec pumps the jobs too */
	guest_job_free(chatty);
	assert_int_equal(guest_ssh_start(s, "echo late", &chatty), 0);
	assert_int_equal(guest_ssh_exec(s, "sleep 0.3", 5.0, &out, NULL, NULL), 0);
	assert_true(guest_job_poll(chatty, 0));
	assert_string_equal(strbuf_str(guest_job_stdout(chatty)), "late\n");

	strbuf_release(&out);
	guest_job_free(chatty);
	guest_job_free(slow);
	guest_ssh_close(s);
}

/* Freeing a running job kills it at once; closing the session orphans jobs. */
static void test_job_free_and_orphan(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct guest_job *job = NULL;
	struct capture cap = { -1, -1 };
	char *pidfile = path_join(srv->tmp, "job.pid");
	char *cmd = xasprintf("echo $$ > %s; exec sleep 30", pidfile);
	char *err = NULL;
	double t0 = 0;
	pid_t pid = 0;

	unlink(pidfile);
	assert_int_equal(guest_ssh_start(s, cmd, &job), 0);
	pid = read_pidfile(pidfile, 3000);
	t0 = now_mono();
	guest_job_free(job);
	assert_true(now_mono() - t0 < 1.0);
	assert_true(process_gone(pid, 3000));

	/* what a job started goes with it */
	free(cmd);
	unlink(pidfile);
	cmd = xasprintf("sleep 30 & echo $! > %s; wait", pidfile);
	assert_int_equal(guest_ssh_start(s, cmd, &job), 0);
	pid = read_pidfile(pidfile, 3000);
	guest_job_free(job);
	assert_true(process_gone(pid, 3000));

	/* the session is still good; closing it kills and orphans its jobs */
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, NULL), 0);
	unlink(pidfile);
	assert_int_equal(guest_ssh_start(s, cmd, &job), 0);
	pid = read_pidfile(pidfile, 3000);
	guest_ssh_close(s);
	assert_true(process_gone(pid, 3000));
	/* finished: killed, whether the news of it came before the close or not */
	assert_true(guest_job_poll(job, 0));
	if (guest_job_status(job) == -1) {
		capture_begin(&cap);
		assert_int_equal(guest_job_wait(job, 1.0), -EPIPE);
		err = capture_end(&cap);
		assert_non_null(strstr(err, "'sleep 30 &"));
	} else {
		assert_int_equal(guest_job_status(job), 128 + SIGKILL);
	}
	guest_job_free(job);
	free(err);
	free(cmd);
	free(pidfile);
}

/*
 * Commands ending all the time while others start, with SFTP in between:
 * dropbear 2022.83 would close new channels or abort the connection if
 * channels opened on a connection where a command may end meanwhile.
 */
static void test_busy_session(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	struct guest_job *jobs[3] = { NULL, NULL, NULL };
	struct strbuf out = STRBUF_INIT;
	char *dst = path_join(srv->tmp, "busy");

	for (int round = 0; round < 15; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
			char *cmd = NULL;

			if (jobs[i] && !guest_job_poll(jobs[i], 0))
				continue;
			if (jobs[i]) {
				assert_int_equal(guest_job_wait(jobs[i], 0), 0);
				assert_string_equal(strbuf_str(guest_job_stdout(jobs[i])), "j\n");
				guest_job_free(jobs[i]);
			}
			cmd = xasprintf("sleep 0.0%d; echo j", (round * 3 + (int)i) % 10);
			assert_int_equal(guest_ssh_start(s, cmd, &jobs[i]), 0);
			free(cmd);
		}
		strbuf_reset(&out);
		assert_int_equal(guest_ssh_exec(s, "echo x; sleep 0.01", 10.0, &out, NULL, NULL), 0);
		assert_string_equal(strbuf_str(&out), "x\n");
		if (srv->sftp && round % 5 == 0)
			assert_int_equal(guest_ssh_fetch(s, "/proc/version", dst, 10.0), 0);
		if (round % 4 == 0) {	/* a command killed on its deadline */
			struct capture cap = { -1, -1 };
			int ret = 0;

			capture_begin(&cap);
			ret = guest_ssh_exec(s, "sleep 5", 0.05, NULL, NULL, NULL);
			free(capture_end(&cap));
			assert_int_equal(ret, -ETIMEDOUT);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		assert_int_equal(guest_job_wait(jobs[i], 5.0), 0);
		guest_job_free(jobs[i]);
	}
	strbuf_release(&out);
	free(dst);
	guest_ssh_close(s);
}

/* ---- SFTP ---- */

static struct server *need_sftp(void **state)
{
	struct server *srv = need_server(state);

	if (!srv->sftp) {
		print_message("# skipped: no " SFTP_SERVER " (package openssh-sftp-server)\n");
		skip();
	}
	return srv;
}

static void test_fetch_tree(void **state)
{
	struct server *srv = need_sftp(state);
	struct guest_ssh *s = connect_ok(srv);
	char *src = path_join(srv->tmp, "src/tree");
	char *dst = path_join(srv->tmp, "dst");
	char *p = NULL, *text = NULL;
	char link[64];
	ssize_t n = 0;

	assert_int_equal(mkdir_p(src, 0755), 0);
	p = path_join(src, "a.txt");
	write_text(p, "hello\n", 0640);
	free(p);
	p = path_join(src, "sub");
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);
	p = path_join(src, "sub/b.txt");
	write_text(p, "bee\n", 0600);
	free(p);
	p = path_join(src, "tool");
	write_text(p, "#!/bin/sh\n", 04755);
	free(p);
	p = path_join(src, "ro");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = path_join(src, "ro/f");
	write_text(p, "", 0444);
	free(p);
	p = path_join(src, "ro");
	assert_int_equal(chmod(p, 0555), 0);
	free(p);
	p = path_join(src, "ln");
	assert_int_equal(symlink("a.txt", p), 0);
	free(p);
	p = path_join(src, "dangling");
	assert_int_equal(symlink("/nonexistent/target", p), 0);
	free(p);
	p = path_join(src, "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	free(p);

	for (int round = 0; round < 2; round++) {	/* the second replaces */
		assert_int_equal(guest_ssh_fetch(s, src, dst, 10.0), 0);
		p = path_join(dst, "tree/a.txt");
		text = slurp(p);
		assert_string_equal(text, "hello\n");
		assert_int_equal(mode_of(p), 0640);
		free(text);
		free(p);
		p = path_join(dst, "tree/sub/b.txt");
		text = slurp(p);
		assert_string_equal(text, "bee\n");
		assert_int_equal(mode_of(p), 0600);
		free(text);
		free(p);
		p = path_join(dst, "tree/sub");
		assert_int_equal(mode_of(p), 0750);
		free(p);
		p = path_join(dst, "tree/tool");
		assert_int_equal(mode_of(p), 0755);	/* no setuid */
		free(p);
		p = path_join(dst, "tree/ro");
		assert_int_equal(mode_of(p), 0555);
		free(p);
		p = path_join(dst, "tree/ro/f");
		assert_true(file_exists(p));
		free(p);
		p = path_join(dst, "tree/ln");
		n = readlink(p, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, "a.txt");
		free(p);
		p = path_join(dst, "tree/dangling");
		n = readlink(p, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, "/nonexistent/target");
		free(p);
		p = path_join(dst, "tree/fifo");
		assert_false(file_exists(p));	/* special files are skipped */
		free(p);
	}

	/* a single file, a trailing slash */
	p = path_join(srv->tmp, "src/tree/sub/b.txt");
	assert_int_equal(guest_ssh_fetch(s, p, dst, 10.0), 0);
	free(p);
	p = path_join(dst, "b.txt");
	text = slurp(p);
	assert_string_equal(text, "bee\n");
	free(text);
	free(p);
	p = xasprintf("%s/src/tree/sub/", srv->tmp);
	assert_int_equal(guest_ssh_fetch(s, p, dst, 10.0), 0);
	free(p);
	p = path_join(dst, "sub/b.txt");
	assert_true(file_exists(p));
	free(p);

	/* a writable tree again, for remove_tree() */
	p = path_join(src, "ro");
	chmod(p, 0755);
	free(p);
	p = path_join(dst, "tree/ro");
	chmod(p, 0755);
	free(p);
	free(src);
	free(dst);
	guest_ssh_close(s);
}

/* /proc files say size 0 over SFTP but have content. */
static void test_fetch_proc(void **state)
{
	struct server *srv = need_sftp(state);
	struct guest_ssh *s = connect_ok(srv);
	char *dst = path_join(srv->tmp, "proc");
	char *p = NULL, *text = NULL, *local = NULL;

	assert_int_equal(guest_ssh_fetch(s, "/proc/version", dst, 10.0), 0);
	p = path_join(dst, "version");
	text = slurp(p);
	local = slurp("/proc/version");
	assert_true(strlen(text) > 0);
	assert_string_equal(text, local);
	free(text);
	free(local);
	free(p);

	assert_int_equal(guest_ssh_fetch(s, "/proc/self/status", dst, 10.0), 0);
	p = path_join(dst, "status");
	text = slurp(p);
	assert_true(starts_with(text, "Name:"));
	assert_non_null(strstr(text, "\nPid:"));
	free(text);
	free(p);
	free(dst);
	guest_ssh_close(s);
}

static void test_fetch_missing(void **state)
{
	struct server *srv = need_sftp(state);
	struct guest_ssh *s = connect_ok(srv);
	char *dst = path_join(srv->tmp, "missing");
	struct capture cap = { -1, -1 };
	char *err = NULL;

	capture_begin(&cap);
	assert_int_equal(guest_ssh_fetch(s, "/nonexistent-teelab-path", dst, 10.0), -ENOENT);
	err = capture_end(&cap);
	assert_non_null(strstr(err, "teelab: error: cannot fetch '/nonexistent-teelab-path'"));
	assert_non_null(strstr(err, "No such file or directory"));
	free(err);
	/* the session is fine afterwards */
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, NULL), 0);
	free(dst);
	guest_ssh_close(s);
}

/* An unreadable entry is reported and skipped; the rest is copied. */
static void test_fetch_partial(void **state)
{
	static const char *const dir = "/proc/sys/net/ipv4/route";
	struct server *srv = need_sftp(state);
	struct guest_ssh *s = NULL;
	char *dst = path_join(srv->tmp, "partial");
	char *p = NULL, *text = NULL, *err = NULL;
	struct capture cap = { -1, -1 };
	int ret = 0;

	/* write-only sysctl files cannot be read, even by root */
	if (access("/proc/sys/net/ipv4/route/flush", F_OK) ||
	    !access("/proc/sys/net/ipv4/route/flush", R_OK)) {
		print_message("# skipped: no unreadable file in %s\n", dir);
		free(dst);
		skip();
	}
	s = connect_ok(srv);
	capture_begin(&cap);
	ret = guest_ssh_fetch(s, dir, dst, 10.0);
	err = capture_end(&cap);
	assert_int_equal(ret, -EACCES);
	assert_non_null(strstr(err, "cannot fetch '/proc/sys/net/ipv4/route/flush'"));
	assert_non_null(strstr(err, "Permission denied"));
	p = path_join(dst, "route/gc_interval");
	text = slurp(p);
	assert_true(strlen(text) > 0);
	free(text);
	free(p);
	p = path_join(dst, "route/flush");
	assert_false(file_exists(p));
	free(p);
	p = path_join(dst, "route");
	chmod(p, 0755);	/* for remove_tree() as non-root */
	free(p);
	/* the session goes on */
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, NULL), 0);
	free(err);
	free(dst);
	guest_ssh_close(s);
}

/* Parent pid and command name of @pid from /proc, false if gone. */
static bool proc_info(pid_t pid, pid_t *ppid, char *comm, size_t size)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid);
	char *text = NULL, *open_paren = NULL, *close_paren = NULL;
	bool ok = false;
	int parent = 0;

	if (!read_file(path, &text, NULL)) {
		/* "pid (comm) state ppid ...": comm may hold spaces */
		open_paren = strchr(text, '(');
		close_paren = strrchr(text, ')');
		if (open_paren && close_paren > open_paren &&
		    sscanf(close_paren + 1, " %*c %d", &parent) == 1) {
			snprintf(comm, size, "%.*s", (int)(close_paren - open_paren - 1),
				 open_paren + 1);
			*ppid = parent;
			ok = true;
		}
	}
	free(text);
	free(path);
	return ok;
}

/* The sftp-server processes below @ancestor (at most @max). */
static int find_sftp_servers(pid_t ancestor, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de = NULL;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(de->d_name), up = 0;
		char comm[64];

		if (pid <= 0 || !proc_info(pid, &up, comm, sizeof(comm)) ||
		    strcmp(comm, "sftp-server"))
			continue;
		for (int depth = 0; depth < 4 && up > 1; depth++) {
			pid_t next = 0;

			if (up == ancestor) {
				pids[n++] = pid;
				break;
			}
			if (!proc_info(up, &next, comm, sizeof(comm)))
				break;
			up = next;
		}
	}
	closedir(d);
	return n;
}

/*
 * The fetch deadline holds even when the server stops answering in the
 * middle of a file: a helper process stops the sftp-server of our
 * dropbear meanwhile (libssh's own SFTP calls would wait for ever).
 */
static void test_fetch_deadline(void **state)
{
	struct server *srv = need_sftp(state);
	struct guest_ssh *s = connect_ok(srv);
	char *big = path_join(srv->tmp, "big");
	char *dst = path_join(srv->tmp, "big-dst");
	char *p = path_join(dst, "big");
	struct capture cap = { -1, -1 };
	pid_t helper = 0, stopped[8];
	char *err = NULL;
	double t0 = 0, dt = 0;
	int ret = 0, fds[2] = { -1, -1 }, n = 0;
	ssize_t got = 0;

	/* sparse: reading it takes many seconds, storing it takes no room */
	write_text(big, "", 0644);
	assert_int_equal(truncate(big, 4L << 30), 0);
	assert_int_equal(pipe(fds), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (!helper) {
		sleep_ms(300);
		n = find_sftp_servers(srv->child.pid, stopped, (int)ARRAY_SIZE(stopped));
		for (int i = 0; i < n; i++)
			kill(stopped[i], SIGSTOP);
		if (write(fds[1], stopped, (size_t)n * sizeof(pid_t)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	capture_begin(&cap);
	t0 = now_mono();
	ret = guest_ssh_fetch(s, big, dst, 2.0);
	dt = now_mono() - t0;
	err = capture_end(&cap);
	/* resume the stopped server whatever happened */
	assert_int_equal(waitpid(helper, NULL, 0), helper);
	got = read(fds[0], stopped, sizeof(stopped));
	close(fds[0]);
	n = got > 0 ? (int)(got / (ssize_t)sizeof(pid_t)) : 0;
	for (int i = 0; i < n; i++)
		kill(stopped[i], SIGCONT);
	assert_true(n > 0);	/* stopped, not just slow */
	assert_int_equal(ret, -ETIMEDOUT);
	assert_true(dt >= 1.9);
	assert_true(dt < 3.0);
	assert_non_null(strstr(err, "timed out after 2 s"));
	assert_false(file_exists(p));	/* no partial copy left */
	/* the session goes on */
	assert_int_equal(guest_ssh_exec(s, "true", 5.0, NULL, NULL, NULL), 0);
	assert_int_equal(guest_ssh_fetch(s, "/proc/version", dst, 5.0), 0);
	free(err);
	free(p);
	free(dst);
	unlink(big);
	free(big);
	guest_ssh_close(s);
}

/* A signal to teelab ends a wait with -EINTR. Last: the state sticks. */
static void test_exec_interrupted(void **state)
{
	struct server *srv = need_server(state);
	struct guest_ssh *s = connect_ok(srv);
	pid_t pid = 0;
	double t0 = 0;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		sleep_ms(300);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	t0 = now_mono();
	assert_int_equal(guest_ssh_exec(s, "exec sleep 30", 10.0, NULL, NULL, NULL), -EINTR);
	assert_true(now_mono() - t0 < 2.0);
	assert_int_equal(runproc_interrupted(), SIGTERM);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	guest_ssh_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_keygen_bad_dir),
		cmocka_unit_test(test_connect_closed_port),
		cmocka_unit_test(test_connect_bad_args),
		cmocka_unit_test(test_connect_wrong_key),
		cmocka_unit_test(test_exec_status_and_streams),
		cmocka_unit_test(test_exec_signal),
		cmocka_unit_test(test_exec_large_output),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_exec_connection_lost),
		cmocka_unit_test(test_jobs_in_parallel),
		cmocka_unit_test(test_jobs_pumped_together),
		cmocka_unit_test(test_job_free_and_orphan),
		cmocka_unit_test(test_busy_session),
		cmocka_unit_test(test_fetch_tree),
		cmocka_unit_test(test_fetch_proc),
		cmocka_unit_test(test_fetch_missing),
		cmocka_unit_test(test_fetch_partial),
		cmocka_unit_test(test_fetch_deadline),
		cmocka_unit_test(test_exec_interrupted),	/* last */
	};

	runproc_setup();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
