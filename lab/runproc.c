// SPDX-License-Identifier: MIT
/* runproc.c - child processes in their own process groups; see runproc.h */
#include "runproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 64

static volatile sig_atomic_t interrupted;
static int sig_pipe[2] = { -1, -1 };
static pid_t live[MAX_CHILDREN];	/* process groups to kill at exit */

static void register_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!live[i]) {
			live[i] = pid;
			return;
		}
}

static void unregister_pid(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live[i] == pid)
			live[i] = 0;
}

void runproc_kill_all(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (live[i] > 0)
			kill(-live[i], SIGKILL);
}

static void on_signal(int sig)
{
	int saved = errno;

	if (!interrupted)
		interrupted = sig;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], "x", 1) < 0) {
		/* nothing to do: the pipe is full, so a wakeup is pending */
	}
	errno = saved;
}

static void at_exit_kill(void)
{
	runproc_kill_all();
}

void runproc_setup(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		sig_pipe[0] = sig_pipe[1] = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(at_exit_kill);
}

int runproc_interrupted(void)
{
	return interrupted;
}

int runproc_signal_fd(void)
{
	return sig_pipe[0];
}

/* What failed in the child, sent to the parent through the error pipe. */
enum exec_stage { STAGE_CHDIR = 1, STAGE_EXEC = 2 };

static void report_child_error(int err_fd, enum exec_stage stage)
{
	int msg[2] = { (int)stage, errno };

	if (write(err_fd, msg, sizeof(msg)) < 0)
		_exit(126);
	_exit(stage == STAGE_EXEC ? 127 : 126);
}

static void child_exec(struct child *c, int err_fd, int out_pipe)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = -1;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)	/* teelab died before prctl() took effect */
		_exit(127);
	/* default signal dispositions for the child */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);

	if (c->out_fd >= 0)
		out = c->out_fd;
	else if (c->log_path)
		out = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	else if (tl_verbose)
		out = dup(2);
	if (out < 0)
		out = devnull;

	dup2(c->in_fd >= 0 ? c->in_fd : devnull, 0);
	dup2(out_pipe >= 0 ? out_pipe : out, 1);
	dup2(out, 2);
	if (c->keep_fds)
		for (const int *fd = c->keep_fds; *fd >= 0; fd++)
			fcntl(*fd, F_SETFD, 0);
	for (size_t i = 0; i < c->env.nr; i++)
		putenv(c->env.v[i]);
	if (c->dir && chdir(c->dir))
		report_child_error(err_fd, STAGE_CHDIR);
	execvp(c->argv.v[0], c->argv.v);
	report_child_error(err_fd, STAGE_EXEC);
}

int child_start(struct child *c)
{
	int errp[2] = { -1, -1 };
	int outp[2] = { -1, -1 };
	int msg[2] = { 0, 0 };
	int e = 0;
	ssize_t n;
	pid_t pid;

	if (!c->argv.nr)
		return error_code(-EINVAL, "child_start: empty argv");
	if (pipe2(errp, O_CLOEXEC))
		return error_errno("pipe");
	if (c->capture && pipe2(outp, O_CLOEXEC)) {
		e = errno;
		close(errp[0]);
		close(errp[1]);
		return error_code(-e, "pipe: %s", strerror(e));
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(errp[0]);
		close(errp[1]);
		if (outp[0] >= 0) {
			close(outp[0]);
			close(outp[1]);
		}
		return error_code(-e, "cannot fork: %s", strerror(e));
	}
	if (!pid)
		child_exec(c, errp[1], outp[1]);
	/* parent: also set the group here to avoid a race with kill() */
	setpgid(pid, pid);
	register_pid(pid);
	close(errp[1]);
	if (outp[1] >= 0)
		close(outp[1]);
	do {
		n = read(errp[0], msg, sizeof(msg));
	} while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof(msg)) {
		e = msg[1];
		waitpid(pid, NULL, 0);
		unregister_pid(pid);
		if (outp[0] >= 0)
			close(outp[0]);
		if (msg[0] == STAGE_CHDIR)
			error("cannot run '%s': cannot enter directory '%s': %s", c->argv.v[0],
			      c->dir, strerror(e));
		else
			error("cannot run '%s': %s", c->argv.v[0], strerror(e));
		return -e;
	}
	c->pid = pid;
	if (c->capture) {
		char buf[8192];

		for (;;) {
			n = read(outp[0], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			strbuf_add(&c->output, buf, (size_t)n);
		}
		close(outp[0]);
	}
	return 0;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int child_finish(struct child *c)
{
	int status = 0, wait_errno = 0;
	pid_t r;

	if (c->pid <= 0)
		return -ECHILD;

	do {
		r = waitpid(c->pid, &status, 0);
		if (r < 0 && errno == EINTR && runproc_interrupted())
			kill(-c->pid, SIGTERM);	/* Ctrl-C: stop the build/fetch too */
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		wait_errno = errno;
	/* whatever the leader left behind in its group goes too */
	kill(-c->pid, SIGKILL);
	unregister_pid(c->pid);
	c->pid = 0;
	if (r < 0)
		return -wait_errno;
	return decode_status(status);
}

int child_run(struct child *c)
{
	int ret = child_start(c);

	if (ret)
		return ret;
	ret = child_finish(c);
	if (ret) {
		char *cmd = strvec_join_shell(&c->argv);

		error("command failed with status %d: %s%s%s", ret, cmd,
		      c->log_path ? "; log: " : "", c->log_path ? c->log_path : "");
		free(cmd);
	}
	return ret;
}

void child_kill(struct child *c, int sig)
{
	if (c->pid > 0)
		kill(-c->pid, sig);
}

int child_stop(struct child *c, double grace)
{
	double deadline = now_mono() + grace;
	int status = 0;

	if (c->pid <= 0)
		return -ECHILD;
	kill(-c->pid, SIGTERM);
	while (now_mono() < deadline) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid) {
			kill(-c->pid, SIGKILL);
			unregister_pid(c->pid);
			c->pid = 0;
			return decode_status(status);
		}
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	kill(-c->pid, SIGKILL);
	return child_finish(c);
}

void child_release(struct child *c)
{
	if (c->pid > 0)
		child_stop(c, 0.5);
	strvec_release(&c->argv);
	strvec_release(&c->env);
	strbuf_release(&c->output);
}

int run_capture(const char *const *argv, const char *dir, struct strbuf *out)
{
	struct child c = CHILD_INIT;
	int ret;

	for (; *argv; argv++)
		strvec_push(&c.argv, *argv);
	c.dir = dir;
	c.capture = true;
	ret = child_start(&c);
	if (!ret) {
		ret = child_finish(&c);
		if (out)
			strbuf_add(out, strbuf_str(&c.output), c.output.len);
	}
	child_release(&c);
	return ret;
}

char *program_version(const char *prog, const char *cache_dir)
{
	const char *argv[] = { prog, "--version", NULL };
	struct strbuf out = STRBUF_INIT;
	char *bin = strchr(prog, '/') ? xstrdup(prog) : path_lookup(prog);
	char *real = bin ? realpath(bin, NULL) : NULL;
	char *dir = NULL, *file = NULL, *stamp = NULL, *old = NULL, *v = NULL;
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	struct stat st;

	if (cache_dir && real && !stat(real, &st)) {
		stamp = xasprintf("%s %llu %lld %lld.%09ld", real, (unsigned long long)st.st_ino,
				  (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				  st.st_mtim.tv_nsec);
		dir = path_join(cache_dir, "versions");
		file = path_join(dir, base);
		if (!read_file(file, &old, NULL)) {
			char *nl = strchr(old, '\n');

			if (nl && (size_t)(nl - old) == strlen(stamp) &&
			    !strncmp(old, stamp, strlen(stamp)) && nl[1] && nl[1] != '\n') {
				v = xstrdup(nl + 1);
				v[strcspn(v, "\n")] = '\0';
				goto out;
			}
		}
	}
	if (!run_capture(argv, NULL, &out) && out.len) {
		v = strbuf_detach(&out);
		v[strcspn(v, "\n")] = '\0';
		if (!*v) {
			free(v);
			v = NULL;
		} else if (stamp) {
			char *line = xasprintf("%s\n%s\n", stamp, v);

			/* write_file() replaces it whole (a temporary file, renamed) */
			if (!mkdir_p(dir, 0755))
				(void)write_file(file, line, strlen(line), 0644);
			free(line);
		}
	}
out:
	strbuf_release(&out);
	free(bin);
	free(real);
	free(dir);
	free(file);
	free(stamp);
	free(old);
	return v;
}
