// SPDX-License-Identifier: MIT
/*
 * machine_replay.c - a machine that replays captured consoles, so the run
 * engine can be tested without QEMU (tests/unit/test_engine.c): verdicts,
 * timeouts, hang, deadlock and panic detection, in milliseconds.
 *
 * spec.cfg->replay is a directory:
 *   nw-console.log, sw-console.log  captured consoles as a run directory
 *       has them ("[   s.mmm] text"; the stamps only order the two), both
 *       optional;
 *   script  optional, one rule a line ('#' comments):
 *       exit STATUS           after the last line, the machine exits
 *                             (STATUS as a wait status, runproc.h);
 *                             without it the machine stays up, silent
 *       ssh                   the guest channel (guest_ops) connects
 *       job ERE FILE STATUS   a guest command matching the ERE (no spaces) prints FILE
 *                             (relative to the directory; "-": nothing)
 *                             and ends with STATUS, or never ends when
 *                             STATUS is "running"; the first match wins;
 *                             a command without a rule fails at start.
 *
 * The replay is as fast as the engine reads, except that a line holding
 * the BEGIN marker of serial command N ("@@TL:BEGIN:N@@") waits until the
 * engine has sent command N ("tl-<helper> N ..."), as the guest would;
 * "poweroff -f" sent to the normal world ends the machine with status 0.
 */
#include "machine.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>

#include "ssh.h"
#include "util.h"

struct line {
	double stamp;
	int con;
	char *text;
};

struct replay {
	char *dir;
	struct line *lines;
	size_t nr, cap;
	int peer[CON_COUNT];	/* our ends of the console socketpairs */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	bool stop, exited;
	int status;		/* wait status once exited */
	bool has_exit;
	int exit_status;
	bool ssh;
	struct strbuf input;	/* what the engine wrote to the normal world */
};

/* "[   12.345] text" -> 12.345 and "text"; a line without a stamp keeps its order. */
static void add_line(struct replay *r, int con, const char *line, double order)
{
	double stamp = order;
	const char *text = line;
	char *end = NULL;

	if (*line == '[') {
		double v = strtod(line + 1, &end);

		if (end && *end == ']') {
			stamp = v;
			text = end + 1 + (end[1] == ' ');
		}
	}
	if (r->nr == r->cap)
		r->lines = xrealloc(r->lines, (r->cap = r->cap ? 2 * r->cap : 256) * sizeof(*r->lines));
	r->lines[r->nr++] = (struct line){ stamp, con, xstrdup(text) };
}

static int load_console(struct replay *r, int con, const char *name)
{
	char *path = path_join(r->dir, name), *data = NULL, *save = NULL;
	size_t n = 0;
	int ret = 0;

	if (file_exists(path) && !(ret = read_file(path, &data, NULL)))
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			add_line(r, con, l, (double)n++ * 1e-6);
	free(data);
	free(path);
	return ret;
}

static int by_stamp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->stamp != y->stamp)
		return x->stamp < y->stamp ? -1 : 1;
	return x < y ? -1 : 1;
}

/* Read what the engine sent; true when "@want" has arrived. */
static bool sent(struct replay *r, const char *want)
{
	char buf[512];
	ssize_t n;
	bool hit;

	while ((n = read(r->peer[CON_NORMAL], buf, sizeof(buf))) > 0)
		strbuf_add(&r->input, buf, (size_t)n);
	hit = want && strstr(strbuf_str(&r->input), want);
	return hit;
}

static void write_line(struct replay *r, const struct line *l)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	size_t left;

	strbuf_addf(&sb, "%s\n", l->text);
	for (p = sb.buf, left = sb.len; left && !r->stop;) {
		ssize_t n = write(r->peer[l->con], p, left);

		if (n > 0) {
			p += n;
			left -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { r->peer[l->con], POLLOUT, 0 };

			poll(&pfd, 1, 20);
		} else {
			break;
		}
	}
	strbuf_release(&sb);
}

static void finish(struct replay *r, int status)
{
	pthread_mutex_lock(&r->lock);
	if (!r->exited) {
		r->exited = true;
		r->status = status;
		for (int i = 0; i < CON_COUNT; i++)
			shutdown(r->peer[i], SHUT_RDWR);
	}
	pthread_mutex_unlock(&r->lock);
}

static void *replay_thread(void *arg)
{
	struct replay *r = arg;

	for (size_t i = 0; i < r->nr && !r->stop; i++) {
		const char *begin = strstr(r->lines[i].text, "@@TL:BEGIN:");

		if (begin && r->lines[i].con == CON_NORMAL) {
			/* the guest answers command N only once it was sent */
			char want[32];

			snprintf(want, sizeof(want), " %d ", atoi(begin + 11));
			while (!r->stop && !sent(r, want)) {
				if (strstr(strbuf_str(&r->input), "poweroff -f")) {
					finish(r, 0);
					return NULL;
				}
				usleep(1000);
			}
		}
		write_line(r, &r->lines[i]);
		if (sent(r, "poweroff -f")) {
			finish(r, 0);
			return NULL;
		}
	}
	while (!r->stop && !r->has_exit) {
		if (sent(r, "poweroff -f")) {
			finish(r, 0);
			return NULL;
		}
		usleep(2000);
	}
	if (r->has_exit)
		finish(r, r->exit_status);
	return NULL;
}

static int load_script(struct replay *r)
{
	char *path = path_join(r->dir, "script"), *data = NULL, *save = NULL;
	int ret = 0;

	if (file_exists(path) && !(ret = read_file(path, &data, NULL)))
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (starts_with(l, "exit ")) {
				r->has_exit = true;
				r->exit_status = atoi(l + 5);
			} else if (!strcmp(l, "ssh")) {
				r->ssh = true;
			}
		}
	free(data);
	free(path);
	return ret;
}

static int replay_start(struct machine *m)
{
	struct replay *r = xcalloc(1, sizeof(*r));
	int ret = 0;

	m->priv = r;
	r->dir = xstrdup(m->spec.cfg->replay ? m->spec.cfg->replay : ".");
	pthread_mutex_init(&r->lock, NULL);
	r->input = (struct strbuf)STRBUF_INIT;
	for (int i = 0; i < CON_COUNT; i++)
		r->peer[i] = m->console_fd[i] = -1;
	ret = load_console(r, CON_NORMAL, "nw-console.log");
	if (!ret)
		ret = load_console(r, CON_SECURE, "sw-console.log");
	if (!ret)
		ret = load_script(r);
	if (ret) {
		snprintf(m->why, sizeof(m->why), "cannot read the replay in '%s'", r->dir);
		return ret;
	}
	qsort(r->lines, r->nr, sizeof(*r->lines), by_stamp);
	for (int i = 0; i < CON_COUNT; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
			return error_errno("socketpair");
		m->console_fd[i] = sv[0];
		r->peer[i] = sv[1];
	}
	snprintf(m->ssh_host, sizeof(m->ssh_host), "127.0.0.1");
	m->started = now_mono();
	if (pthread_create(&r->thread, NULL, replay_thread, r))
		return error("cannot start the replay thread");
	r->thread_started = true;
	return 0;
}

static int replay_stop(struct machine *m, double grace)
{
	struct replay *r = m->priv;

	(void)grace;
	if (!r)
		return 0;
	r->stop = true;
	if (r->thread_started) {
		pthread_join(r->thread, NULL);
		r->thread_started = false;
	}
	finish(r, 9);	/* as SIGKILL, unless it had exited */
	return 0;
}

static bool replay_exited(struct machine *m, int *status)
{
	struct replay *r = m->priv;
	bool done;

	if (!r)
		return true;
	pthread_mutex_lock(&r->lock);
	done = r->exited;
	if (done && status)
		*status = r->status;
	pthread_mutex_unlock(&r->lock);
	return done;
}

static int replay_qmp(struct machine *m, const char *json, char **reply, double timeout)
{
	(void)m;
	(void)json;
	(void)timeout;
	if (reply)
		*reply = NULL;
	return -EOPNOTSUPP;	/* no monitor: evidence goes without registers */
}

static void replay_release(struct machine *m)
{
	struct replay *r = m->priv;

	if (!r)
		return;
	for (size_t i = 0; i < r->nr; i++)
		free(r->lines[i].text);
	free(r->lines);
	for (int i = 0; i < CON_COUNT; i++)
		if (r->peer[i] >= 0)
			close(r->peer[i]);
	strbuf_release(&r->input);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r);
}

/* ---- the guest channel: scripted commands ---- */

/* The replay's session: which directory its job rules come from. */
struct guest_ssh {
	char *dir;
};

/* A scripted command: its whole output at once, a status or running for ever. */
struct guest_job {
	struct strbuf out, err;
	int status;		/* -1: running */
};

/* The directory of the replay that connect() was last called for (one run at a time). */
static char *current_dir;
static bool current_ssh;

static int rguest_connect(struct guest_ssh **out, const char *host, int port, const char *user,
			  const char *key, double timeout)
{
	(void)host;
	(void)port;
	(void)user;
	(void)key;
	(void)timeout;
	if (!current_ssh)
		return -ECONNREFUSED;
	*out = xcalloc(1, sizeof(**out));
	(*out)->dir = xstrdup(current_dir);
	return 0;
}

static void rguest_close(struct guest_ssh *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s);
}

static int rguest_start(struct guest_ssh *s, const char *command, struct guest_job **job)
{
	char *path = path_join(s->dir, "script"), *data = NULL, *save = NULL;
	int ret = -EIO;

	if (read_file(path, &data, NULL)) {
		free(path);
		return -EIO;
	}
	for (char *l = strtok_r(data, "\n", &save); l && ret; l = strtok_r(NULL, "\n", &save)) {
		char re_s[256], file[256], status[32];
		regex_t re;
		bool hit;

		if (!starts_with(l, "job ") || sscanf(l + 4, "%255s %255s %31s", re_s, file, status) != 3)
			continue;
		if (regcomp(&re, re_s, REG_EXTENDED | REG_NOSUB))
			continue;
		hit = !regexec(&re, command, 0, NULL, 0);
		regfree(&re);
		if (!hit)
			continue;
		*job = xcalloc(1, sizeof(**job));
		(*job)->out = (struct strbuf)STRBUF_INIT;
		(*job)->err = (struct strbuf)STRBUF_INIT;
		(*job)->status = strcmp(status, "running") ? atoi(status) : -1;
		if (strcmp(file, "-")) {
			char *fp = path_join(s->dir, file), *text = NULL;

			if (!read_file(fp, &text, NULL))
				strbuf_addstr(&(*job)->out, text);
			free(text);
			free(fp);
		}
		ret = 0;
	}
	free(data);
	free(path);
	return ret;
}

static bool rguest_poll(struct guest_job *job, double max_wait)
{
	if (job->status < 0 && max_wait > 0)
		usleep((useconds_t)(max_wait > 0.01 ? 10000 : max_wait * 1e6));
	return job->status >= 0;
}

static int rguest_status(const struct guest_job *job)
{
	return job->status;
}

static const struct strbuf *rguest_out(const struct guest_job *job)
{
	return &job->out;
}

static const struct strbuf *rguest_err(const struct guest_job *job)
{
	return &job->err;
}

static void rguest_free(struct guest_job *job)
{
	if (!job)
		return;
	strbuf_release(&job->out);
	strbuf_release(&job->err);
	free(job);
}

static int rguest_fetch(struct guest_ssh *s, const char *remote, const char *local, double timeout)
{
	(void)s;
	(void)remote;
	(void)local;
	(void)timeout;
	return -EOPNOTSUPP;
}

static const struct guest_ops replay_guest_ops = {
	.connect = rguest_connect, .close = rguest_close, .start = rguest_start,
	.poll = rguest_poll, .status = rguest_status, .out = rguest_out, .err = rguest_err,
	.free = rguest_free, .fetch = rguest_fetch,
};

static int replay_start_guest(struct machine *m)
{
	int ret = replay_start(m);
	struct replay *r = m->priv;

	free(current_dir);
	current_dir = xstrdup(r->dir);
	current_ssh = r->ssh;
	return ret;
}

const struct machine_ops machine_replay_ops = {
	.name = "replay",
	.start = replay_start_guest,
	.stop = replay_stop,
	.exited = replay_exited,
	.qmp = replay_qmp,
	.release = replay_release,
	.guest = &replay_guest_ops,
};
