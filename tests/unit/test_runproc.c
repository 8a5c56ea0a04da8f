// SPDX-License-Identifier: MIT
/* test_runproc.c - unit tests for lab/runproc.c (child processes and their groups) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
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

#include "runproc.h"
#include "util.h"

#define MISSING_PROGRAM "teelab-test-no-such-program"


/* ---- helpers ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* child_run() of @argv (NULL-terminated), stderr into *err. */
static int run_argv(const char *const *argv, char **err)
{
	struct child c = CHILD_INIT;
	struct capture cap = { -1, -1 };
	int ret;

	for (; *argv; argv++)
		strvec_push(&c.argv, *argv);
	capture_begin(&cap);
	ret = child_run(&c);
	*err = capture_end(&cap);
	assert_int_equal(c.pid, 0);
	child_release(&c);
	return ret;
}

/* Number of processes whose process group is @pgid (from /proc). */
static int count_group(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char *path, *text = NULL, *p;
		long pgrp = 0;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		path = xasprintf("/proc/%s/stat", de->d_name);
		if (!read_file(path, &text, NULL)) {
			/* "pid (comm) state ppid pgrp ...": comm may hold spaces */
			p = strrchr(text, ')');
			if (p && sscanf(p + 1, " %*c %*d %ld", &pgrp) == 1 && pgrp == pgid)
				n++;
		}
		free(text);
		free(path);
	}
	closedir(d);
	return n;
}

/*
 * Wait up to @ms for process group @pgid to be gone, reaping its zombies
 * (this process is a child subreaper, so orphans of the group come here).
 * True if kill(-pgid, 0) then fails with ESRCH.
 */
static bool group_gone(pid_t pgid, long ms)
{
	for (long t = 0;; t += 20) {
		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		errno = 0;
		if (kill(-pgid, 0) == -1 && errno == ESRCH)
			return true;
		if (t >= ms)
			return false;
		sleep_ms(20);
	}
}

/* Wait up to @ms until group @pgid has at least @n processes. */
static bool group_has(pid_t pgid, int n, long ms)
{
	for (long t = 0; t <= ms; t += 20) {
		if (count_group(pgid) >= n)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* ---- child_run ---- */

static void test_run_true(void **state)
{
	static const char *const argv[] = { "true", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(run_argv(argv, &err), 0);
	assert_string_equal(err, "");
	free(err);
}

static void test_run_false(void **state)
{
	static const char *const argv[] = { "false", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(run_argv(argv, &err), 1);
	assert_string_equal(err, "teelab: error: command failed with status 1: false\n");
	free(err);
}

static void test_run_exit_status_and_signal(void **state)
{
	static const char *const exit7[] = { "sh", "-c", "exit 7", NULL };
	static const char *const killed[] = { "sh", "-c", "kill -KILL $$", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(run_argv(exit7, &err), 7);
	assert_non_null(strstr(err, "command failed with status 7: sh -c"));
	free(err);
	assert_int_equal(run_argv(killed, &err), 128 + SIGKILL);
	assert_non_null(strstr(err, "command failed with status 137"));
	free(err);
}

static void test_run_missing_program(void **state)
{
	static const char *const argv[] = { MISSING_PROGRAM, "arg", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(run_argv(argv, &err), -ENOENT);
	assert_non_null(strstr(err, MISSING_PROGRAM));
	assert_string_equal(err, "teelab: error: cannot run '" MISSING_PROGRAM
			    "': No such file or directory\n");
	free(err);
}

static void test_start_empty_argv(void **state)
{
	struct child c = CHILD_INIT;
	struct capture cap = { -1, -1 };
	char *err;

	(void)state;
	capture_begin(&cap);
	assert_int_equal(child_start(&c), -EINVAL);
	err = capture_end(&cap);
	assert_string_equal(err, "teelab: error: child_start: empty argv\n");
	free(err);
	assert_int_equal(child_finish(&c), -ECHILD);
	assert_int_equal(child_stop(&c, 0.1), -ECHILD);
	child_release(&c);
}

/* The child leads its own process group; finishing twice is -ECHILD. */
static void test_own_process_group(void **state)
{
	struct child c = CHILD_INIT;
	pid_t pid;

	(void)state;
	strvec_pushl(&c.argv, "sleep", "5", NULL);
	assert_int_equal(child_start(&c), 0);
	pid = c.pid;
	assert_true(pid > 0);
	assert_int_equal(getpgid(pid), pid);
	assert_true(getpgid(pid) != getpgrp());
	child_kill(&c, SIGKILL);
	assert_int_equal(child_finish(&c), 128 + SIGKILL);
	assert_int_equal(c.pid, 0);
	assert_int_equal(child_finish(&c), -ECHILD);
	child_release(&c);
}

/* ---- output ---- */

static void test_run_capture_echo(void **state)
{
	static const char *const argv[] = { "echo", "hi", NULL };
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(run_capture(argv, NULL, &out), 0);
	assert_int_equal(out.len, 3);
	assert_string_equal(strbuf_str(&out), "hi\n");
	strbuf_release(&out);
	/* no output buffer is fine too */
	assert_int_equal(run_capture(argv, NULL, NULL), 0);
}

/* Only stdout is captured; the status comes back as it is. */
static void test_run_capture_status(void **state)
{
	static const char *const argv[] = { "sh", "-c",
		"printf 'a\\nb'; echo err >&2; exit 3", NULL };
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(run_capture(argv, NULL, &out), 3);
	assert_string_equal(strbuf_str(&out), "a\nb");
	strbuf_release(&out);
}

static void test_run_capture_dir(void **state)
{
	static const char *const argv[] = { "pwd", "-P", NULL };
	struct strbuf out = STRBUF_INIT;
	char *want = xasprintf("%s\n", (const char *)*state);

	assert_int_equal(run_capture(argv, *state, &out), 0);
	assert_string_equal(strbuf_str(&out), want);
	free(want);
	strbuf_release(&out);
}

static void test_run_capture_missing(void **state)
{
	static const char *const argv[] = { MISSING_PROGRAM, NULL };
	struct strbuf out = STRBUF_INIT;
	struct capture cap = { -1, -1 };
	char *err;

	(void)state;
	capture_begin(&cap);
	assert_int_equal(run_capture(argv, NULL, &out), -ENOENT);
	err = capture_end(&cap);
	assert_non_null(strstr(err, "'" MISSING_PROGRAM "'"));
	assert_int_equal(out.len, 0);
	free(err);
	strbuf_release(&out);
}

/* A missing working directory must not read as a missing program. */
static void test_missing_dir(void **state)
{
	static const char *const argv[] = { "true", NULL };
	struct capture cap = { -1, -1 };
	char *dir = path_join(*state, "no-such-dir");
	char *err;
	int ret;

	capture_begin(&cap);
	ret = run_capture(argv, dir, NULL);
	err = capture_end(&cap);
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(err, dir));
	free(err);
	free(dir);
}

/* Any other chdir() failure names the directory. */
static void test_dir_not_a_directory(void **state)
{
	static const char *const argv[] = { "true", NULL };
	struct capture cap = { -1, -1 };
	char *file = path_join(*state, "file");
	char *want, *err;

	assert_int_equal(write_file_str(file, "x\n"), 0);
	capture_begin(&cap);
	assert_int_equal(run_capture(argv, file, NULL), -ENOTDIR);
	err = capture_end(&cap);
	want = xasprintf("teelab: error: cannot run 'true': cannot enter directory '%s': Not a directory\n", file);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(file);
}

static void test_log_path(void **state)
{
	struct child c = CHILD_INIT;
	char *log = path_join(*state, "child.log");
	char *text = NULL;

	assert_int_equal(write_file_str(log, "earlier\n"), 0);
	strvec_pushl(&c.argv, "sh", "-c", "echo to-stdout; echo to-stderr >&2", NULL);
	c.log_path = log;
	assert_int_equal(child_run(&c), 0);
	assert_int_equal(read_file(log, &text, NULL), 0);
	/* appended, both streams */
	assert_string_equal(text, "earlier\nto-stdout\nto-stderr\n");
	free(text);
	child_release(&c);

	/* a new log file is created */
	assert_int_equal(unlink(log), 0);
	strvec_pushl(&c.argv, "sh", "-c", "echo again >&2", NULL);
	c.log_path = log;
	assert_int_equal(child_run(&c), 0);
	assert_int_equal(read_file(log, &text, NULL), 0);
	assert_string_equal(text, "again\n");
	free(text);
	child_release(&c);
	free(log);
}

/* With capture, stdout goes to @output and stderr to the log. */
static void test_capture_with_log(void **state)
{
	struct child c = CHILD_INIT;
	char *log = path_join(*state, "err.log");
	char *text = NULL;

	strvec_pushl(&c.argv, "sh", "-c", "echo out; echo err >&2", NULL);
	c.log_path = log;
	c.capture = true;
	assert_int_equal(child_start(&c), 0);
	assert_int_equal(child_finish(&c), 0);
	assert_string_equal(strbuf_str(&c.output), "out\n");
	assert_int_equal(read_file(log, &text, NULL), 0);
	assert_string_equal(text, "err\n");
	free(text);
	child_release(&c);
	free(log);
}

/* out_fd takes both streams and wins over log_path; in_fd is stdin. */
static void test_in_out_fds(void **state)
{
	struct child c = CHILD_INIT;
	char *log = path_join(*state, "unused.log");
	int in[2], out[2];
	char buf[64];
	ssize_t n;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(write(in[1], "from-stdin\n", 11), 11);
	close(in[1]);
	strvec_pushl(&c.argv, "sh", "-c", "cat; echo e >&2", NULL);
	c.in_fd = in[0];
	c.out_fd = out[1];
	c.log_path = log;
	assert_int_equal(child_run(&c), 0);
	close(in[0]);
	close(out[1]);
	n = read(out[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "from-stdin\ne\n");
	close(out[0]);
	assert_false(file_exists(log));
	child_release(&c);
	free(log);
}

/* Without in_fd the child reads /dev/null. */
static void test_stdin_devnull(void **state)
{
	static const char *const argv[] = { "sh", "-c", "cat; echo end", NULL };
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(run_capture(argv, NULL, &out), 0);
	assert_string_equal(strbuf_str(&out), "end\n");
	strbuf_release(&out);
}

static void test_env(void **state)
{
	struct child c = CHILD_INIT;

	(void)state;
	strvec_pushl(&c.argv, "sh", "-c", "echo \"$TEELAB_T1:$TEELAB_T2\"", NULL);
	strvec_push(&c.env, "TEELAB_T1=one");
	strvec_push(&c.env, "TEELAB_T2=two words");
	c.capture = true;
	assert_int_equal(child_start(&c), 0);
	assert_int_equal(child_finish(&c), 0);
	assert_string_equal(strbuf_str(&c.output), "one:two words\n");
	child_release(&c);
	assert_null(getenv("TEELAB_T1"));
}

/* keep_fds passes a close-on-exec fd through; without it the fd is closed. */
static void test_keep_fds(void **state)
{
	struct child c = CHILD_INIT, plain = CHILD_INIT;
	int p[2], keep[2];
	char *script;
	char buf[16];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	script = xasprintf("echo x >&%d", p[1]);
	keep[0] = p[1];
	keep[1] = -1;
	strvec_pushl(&c.argv, "sh", "-c", script, NULL);
	c.keep_fds = keep;
	assert_int_equal(child_run(&c), 0);
	child_release(&c);
	/* the caller still owns the fd, and it is still close-on-exec here */
	assert_int_equal(fcntl(p[1], F_GETFD), FD_CLOEXEC);

	/* the same without keep_fds: the shell cannot write */
	strvec_pushl(&plain.argv, "sh", "-c", script, NULL);
	assert_int_equal(child_start(&plain), 0);
	assert_int_equal(child_finish(&plain), 2);	/* sh: Bad file descriptor */
	child_release(&plain);

	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_int_equal(n, 2);
	buf[n] = '\0';
	assert_string_equal(buf, "x\n");
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);	/* EOF: no second write */
	close(p[0]);
	free(script);
}

/* ---- stopping ---- */

/* A background grandchild goes with its group; child_stop is quick. */
static void test_stop_kills_group(void **state)
{
	struct child c = CHILD_INIT;
	double t0, dt;
	pid_t pgid;
	int ret;

	(void)state;
	strvec_pushl(&c.argv, "sh", "-c", "sleep 30 & sleep 30", NULL);
	assert_int_equal(child_start(&c), 0);
	pgid = c.pid;
	assert_true(group_has(pgid, 3, 2000));	/* sh and both sleeps */
	t0 = now_mono();
	ret = child_stop(&c, 1.0);
	dt = now_mono() - t0;
	assert_int_equal(ret, 128 + SIGTERM);
	assert_true(dt < 2.0);
	assert_int_equal(c.pid, 0);
	assert_true(group_gone(pgid, 500));
	child_release(&c);
}

/* A grandchild that ignores SIGTERM is killed when the leader is done. */
static void test_stop_kills_stubborn_grandchild(void **state)
{
	struct child c = CHILD_INIT;
	double t0;
	pid_t pgid;

	(void)state;
	strvec_pushl(&c.argv, "sh", "-c", "(trap '' TERM; sleep 30) & sleep 30", NULL);
	assert_int_equal(child_start(&c), 0);
	pgid = c.pid;
	assert_true(group_has(pgid, 3, 2000));
	t0 = now_mono();
	assert_int_equal(child_stop(&c, 1.0), 128 + SIGTERM);
	assert_true(now_mono() - t0 < 2.0);
	assert_true(group_gone(pgid, 500));
	child_release(&c);
}

/* A leader that ignores SIGTERM gets SIGKILL once the grace is over. */
static void test_stop_grace_then_kill(void **state)
{
	struct child c = CHILD_INIT;
	double t0, dt;
	pid_t pgid;

	(void)state;
	strvec_pushl(&c.argv, "sh", "-c", "trap '' TERM; sleep 30 & sleep 30", NULL);
	assert_int_equal(child_start(&c), 0);
	pgid = c.pid;
	assert_true(group_has(pgid, 3, 2000));
	t0 = now_mono();
	assert_int_equal(child_stop(&c, 0.3), 128 + SIGKILL);
	dt = now_mono() - t0;
	assert_true(dt >= 0.25);
	assert_true(dt < 2.0);
	assert_true(group_gone(pgid, 500));
	child_release(&c);
}

/* child_finish() also clears what the leader left behind in its group. */
static void test_finish_kills_leftovers(void **state)
{
	struct child c = CHILD_INIT;
	pid_t pgid;

	(void)state;
	strvec_pushl(&c.argv, "sh", "-c", "sleep 30 & exit 0", NULL);
	assert_int_equal(child_start(&c), 0);
	pgid = c.pid;
	assert_int_equal(child_finish(&c), 0);
	assert_true(group_gone(pgid, 1000));
	child_release(&c);
}

/* child_release() of a running child stops it. */
static void test_release_stops(void **state)
{
	struct child c = CHILD_INIT;
	pid_t pgid;

	(void)state;
	strvec_pushl(&c.argv, "sleep", "30", NULL);
	assert_int_equal(child_start(&c), 0);
	pgid = c.pid;
	child_release(&c);
	assert_int_equal(c.argv.nr, 0);
	assert_true(group_gone(pgid, 1000));
}

/* With SIGCHLD ignored waitpid() fails with ECHILD: that is the result. */
static void test_finish_reports_wait_errno(void **state)
{
	struct child c = CHILD_INIT;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int ret;

	(void)state;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
	strvec_pushl(&c.argv, "true", NULL);
	ret = child_start(&c);
	if (!ret)
		ret = child_finish(&c);
	assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
	child_release(&c);
	assert_int_equal(ret, -ECHILD);
}

/* ---- signals ---- */

/* Runs last: the recorded signal stays. */
static void test_signal_recorded(void **state)
{
	struct pollfd pfd;
	char b;

	(void)state;
	assert_int_equal(runproc_interrupted(), 0);
	pfd.fd = runproc_signal_fd();
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(runproc_interrupted(), SIGHUP);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(read(pfd.fd, &b, 1), 1);
	/* the first signal is the one remembered */
	assert_int_equal(raise(SIGINT), 0);
	assert_int_equal(runproc_interrupted(), SIGHUP);
}

/*
 * program_version(): asked once per binary, then read from the cache; a
 * changed binary (another modification time) is asked again. The fake
 * program counts its starts in a file beside it.
 */
static void test_program_version_cached(void **state)
{
	const char *dir = *state;
	char *prog = tpath(state, "bin/fakeqemu"), *cache = tpath(state, "cache"), *v;
	char *script = xasprintf("#!/bin/sh\necho x >> '%s/starts'\n"
				 "echo 'Fake emulator version 1.2.3'\necho 'Copyright line'\n", dir);
	char *starts, *bindir = tpath(state, "bin");
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };

	assert_int_equal(mkdir_p(bindir, 0755), 0);
	put_file(dir, "bin/fakeqemu", script);
	assert_int_equal(chmod(prog, 0755), 0);
	for (int i = 0; i < 3; i++) {
		v = program_version(prog, cache);
		assert_non_null(v);
		assert_string_equal(v, "Fake emulator version 1.2.3");
		free(v);
	}
	starts = tu_slurp(dir, "starts");
	assert_string_equal(starts, "x\n");	/* started once for three answers */
	free(starts);
	/* "upgraded": a new modification time, asked again */
	assert_int_equal(utimensat(AT_FDCWD, prog, times, 0), 0);
	v = program_version(prog, cache);
	assert_string_equal(v, "Fake emulator version 1.2.3");
	free(v);
	starts = tu_slurp(dir, "starts");
	assert_string_equal(starts, "x\nx\n");
	free(starts);
	/* no cache dir: asked every time; a missing program: NULL */
	free(program_version(prog, NULL));
	starts = tu_slurp(dir, "starts");
	assert_string_equal(starts, "x\nx\nx\n");
	free(starts);
	assert_null(program_version("teelab-no-such-program", cache));
	free(script);
	free(prog);
	free(cache);
	free(bindir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_true),
		cmocka_unit_test(test_run_false),
		cmocka_unit_test(test_run_exit_status_and_signal),
		cmocka_unit_test(test_run_missing_program),
		cmocka_unit_test(test_start_empty_argv),
		cmocka_unit_test(test_own_process_group),
		cmocka_unit_test(test_run_capture_echo),
		cmocka_unit_test(test_run_capture_status),
		T(test_run_capture_dir),
		cmocka_unit_test(test_run_capture_missing),
		T(test_missing_dir),
		T(test_dir_not_a_directory),
		T(test_log_path),
		T(test_capture_with_log),
		T(test_in_out_fds),
		cmocka_unit_test(test_stdin_devnull),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_keep_fds),
		cmocka_unit_test(test_stop_kills_group),
		cmocka_unit_test(test_stop_kills_stubborn_grandchild),
		cmocka_unit_test(test_stop_grace_then_kill),
		cmocka_unit_test(test_finish_kills_leftovers),
		cmocka_unit_test(test_release_stops),
		cmocka_unit_test(test_finish_reports_wait_errno),
		cmocka_unit_test(test_signal_recorded),
		T(test_program_version_cached),
	};

	runproc_setup();
	/* orphaned grandchildren come back here to be reaped (see group_gone) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
