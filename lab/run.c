// SPDX-License-Identifier: MIT
/*
 * run.c - the run engine: boot, then steps, driven by one poll() loop over
 * both consoles, the signal pipe, SSH jobs and deadlines; see run.h.
 *
 * The guest side is teelab's overlay (images/rootfs/overlay): /init prints
 * "@@TL:READY@@" when the serial shell is up (after every boot, reboot and
 * kexec), /usr/bin/tl-run frames a serial command's output between
 * "@@TL:BEGIN:<id>@@" and "@@TL:END:<id>:<rc>@@", tl-bg/tl-kill run and
 * stop background commands, tl-kexec loads and boots a kernel, tl-evidence
 * gathers stacks. SSH commands go through libssh (ssh.c) to dropbear.
 *
 * Verdicts: a step ends PASS/FAIL/XFAIL/XPASS/TIMEOUT; the run also ends
 * on HANG (no new console line and no step completion for the hang window,
 * classify.c), KERNEL_PANIC, TEE_PANIC, INFRA (QEMU died) or INTERRUPTED.
 */
#include "run.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive.h"
#include "classify.h"
#include "console_feed.h"
#include "machine.h"
#include "runproc.h"
#include "ssh.h"
#include "tee_chain.h"
#include "xtest.h"

#define READY_MARKER "@@TL:READY@@"
#define OUTPUT_KEEP (256 * 1024)	/* bytes of a step's output kept in results */
#define SSH_CONNECT_TIMEOUT 5.0	/* seconds after the shell is ready */
#define EVIDENCE_BUDGET 30.0		/* seconds for all evidence together */
#define MAX_JOBS 64

/* What the engine is waiting for. */
enum wait_kind {
	W_NONE,
	W_PATTERN,	/* a line matching wait_re on wait_con */
	W_COMMAND,	/* the END marker of serial command cmd_id */
	W_JOBS,		/* every SSH job in `waiting` finished */
	W_READY,	/* the next boot's READY marker (or the END marker of cmd_id: failure) */
	W_EXIT,		/* QEMU exits */
};

struct console {
	const char *name;	/* "normal" / "secure" */
	const char *file;	/* "nw-console" / "sw-console" */
	int fd;
	int log_fd;		/* the whole run */
	int seg_fd;		/* this boot only (nw-console.boot-N.log), or -1 */
	struct strbuf history;	/* every line of the run, without timestamps */
	size_t cursor;		/* `expect` steps match from here on */
	bool eof;
	size_t lines;
};

struct bg_job {
	char *id;		/* scenario id; NULL for parallel copies */
	struct guest_job *job;
	double started;
	/* stall detection (background `progress:`), else progress_set false */
	bool progress_set;
	regex_t progress;
	double stall;		/* seconds */
	size_t scanned;		/* stdout bytes already split into lines */
	double last_progress;	/* now_mono() of the last progress line (or start) */
	size_t progress_lines;
	char *last_line;	/* the last progress line, or NULL */
	double stalled_at;	/* now_mono() when the stall was detected, or 0 */
};

struct engine {
	const struct lab_config *cfg;
	const struct scenario *sc;
	const struct run_options *opt;
	const char *dir;
	struct machine m;
	struct console con[CON_COUNT];
	struct console_feed *feed;	/* drains con[].fd on its own thread (console_feed.h) */
	struct run_result *res;
	struct classifier cls;
	double t0;		/* run start (now_mono) */
	double run_deadline;
	double hang_window;
	int boot;		/* 1 for the first boot, +1 per reboot/kexec */
	/*
	 * A reboot, kexec or kdump asked for: the next boot starts (new log
	 * segment and boot record) at its first line (pending_start), so the
	 * old kernel's last lines stay in its own segment.
	 */
	const char *pending_how;	/* "reboot", "kexec", "kdump", or NULL */
	const char *pending_kernel;	/* kexec `to:`, or NULL */
	const char *pending_start;	/* the new boot's first line contains this */
	double pending_requested;	/* now_mono() of the request */
	bool panic_ok;		/* kdump: the old kernel's panic lines are expected */
	bool tty;		/* progress on a terminal */
	double last_progress_draw;
	const char *stage;
	double stage_t0;
	/* SSH */
	int ssh_port;		/* 0: no guest network */
	char *ssh_key;		/* private key path */
	char *ssh_pub;		/* "ssh-ed25519 AAAA..." */
	struct guest_ssh *ssh;
	struct bg_job jobs[MAX_JOBS];
	size_t nr_jobs;
	struct guest_job *waiting[MAX_JOBS];
	size_t nr_waiting;
	size_t jobs_out_len;	/* bytes of job output seen, for progress */
	/* the current wait */
	enum wait_kind wait;
	enum console_id wait_con;
	regex_t wait_re;
	bool wait_re_set;
	bool matched;
	char *matched_line;
	int cmd_id;
	bool cmd_begun;
	int cmd_rc;
	bool serial_busy;	/* a serial command never finished: the shell is wedged */
	struct bg_job *stalled;	/* P_DEADLOCK: the job that stalled */
	bool collecting;	/* evidence: no stall detection (the jobs are stuck, we know) */
	struct strbuf cmd_out;
	/* end of the run */
	bool qemu_exited;
	int qemu_status;
	int echo_fd;		/* `teelab shell`: raw normal-world output goes here, or -1 */
};

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case V_PASS:
	case V_XFAIL:
	case V_SKIP:
		return TL_EXIT_PASS;
	case V_FAIL:
	case V_XPASS:
	case V_ERROR:
		return TL_EXIT_FAIL;
	case V_TIMEOUT:
		return TL_EXIT_TIMEOUT;
	case V_HANG:
		return TL_EXIT_HANG;
	case V_DEADLOCK:
		return TL_EXIT_DEADLOCK;
	case V_KERNEL_PANIC:
		return TL_EXIT_KERNEL_PANIC;
	case V_TEE_PANIC:
		return TL_EXIT_TEE_PANIC;
	case V_INTERRUPTED:
		return TL_EXIT_INTERRUPTED;
	case V_INFRA:
	case V_NOTRUN:
		return TL_EXIT_INFRA;
	}
	return TL_EXIT_INFRA;
}

char *run_dir_create(const char *runs_dir, const char *name)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *base, *dir = NULL;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (mkdir_p(runs_dir, 0755))
		return NULL;
	base = xasprintf("%s/%s-%s", runs_dir, stamp, name);
	for (int i = 1; i < 1000; i++) {
		dir = i == 1 ? xstrdup(base) : xasprintf("%s-%d", base, i);
		if (!mkdir(dir, 0755))
			break;
		if (errno != EEXIST) {
			error_errno("cannot create run directory '%s'", dir);
			free(dir);
			dir = NULL;
			break;
		}
		free(dir);
		dir = NULL;
	}
	free(base);
	return dir;
}

/* ---- progress ---- */

static void progress_clear(struct engine *e)
{
	if (e->tty && !tl_quiet)
		fputs("\r\033[K", stderr);
}

static void progress(struct engine *e, bool force)
{
	double now = now_mono();

	if (!e->tty || tl_quiet || (!force && now - e->last_progress_draw < 0.25))
		return;
	e->last_progress_draw = now;
	fprintf(stderr, "\r\033[K  %-56.56s %6.1f s  (run %.0f s, boot %d, console %zu/%zu lines)",
		e->stage ? e->stage : "", now - e->stage_t0, now - e->t0, e->boot,
		e->con[CON_NORMAL].lines, e->con[CON_SECURE].lines);
	fflush(stderr);
}

static void stage_begin(struct engine *e, const char *what)
{
	e->stage = what;
	e->stage_t0 = now_mono();
	progress(e, true);
}

static void stage_end(struct engine *e, enum verdict v, const char *name,
		      double secs, const char *msg)
{
	progress_clear(e);
	if (!tl_quiet)
		fprintf(stderr, "  %-7s %s (%.1f s)%s%s\n", verdict_name(v), name, secs,
			msg ? ": " : "", msg ? msg : "");
	e->stage = NULL;
}

/* ---- consoles ---- */

static int open_log(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);

	if (fd < 0)
		error_errno("cannot create '%s'", p);
	free(p);
	return fd;
}

/*
 * A new boot (@how: "power-on", "reboot", "kexec", "kdump"; @kernel: the
 * kexec target or NULL; @requested: now_mono() of the request): the normal
 * world's log gets a new segment file and result.json a boot record.
 */
static void new_boot(struct engine *e, const char *how, const char *kernel, double requested)
{
	struct console *c = &e->con[CON_NORMAL];
	char *name;

	e->boot++;
	if (c->seg_fd >= 0)
		close(c->seg_fd);
	name = xasprintf("%s.boot-%d.log", c->file, e->boot);
	c->seg_fd = open_log(e->dir, name);
	free(name);
	run_result_boot(e->res, e->boot, how, kernel,
			e->m.started > 0 ? requested - e->m.started : 0);
	e->pending_how = NULL;
	e->panic_ok = false;
}

/* Expect the boot @how asked for now; it starts at a line containing @start. */
static void expect_boot(struct engine *e, const char *how, const char *kernel, const char *start)
{
	e->pending_how = how;
	e->pending_kernel = kernel;
	e->pending_start = start;
	e->pending_requested = now_mono();
}

/* What a normal-world line says about the current boot (result.json "boots"). */
static void note_boot_line(struct engine *e, const char *line, double stamp)
{
	struct boot_record *b = NULL;
	const char *v;

	if (e->pending_how && strstr(line, "tl-kexec: kexec -e"))
		e->pending_requested = stamp;	/* the hop starts here, not at the command */
	/* its first line; at the latest the ready marker (an unexpected first line) */
	if (e->pending_how && (strstr(line, e->pending_start) || strstr(line, READY_MARKER)))
		new_boot(e, e->pending_how, e->pending_kernel, e->pending_requested);
	b = run_result_cur_boot(e->res);
	if (!b || e->pending_how)
		return;
	if (!b->release && (v = strstr(line, "Linux version ")))
		b->release = xstrndup(v + 14, strcspn(v + 14, " "));
	if (b->optee_at < 0 && strstr(line, "optee: initialized driver"))
		b->optee_at = stamp - e->m.started;
	if (b->ready_at < 0 && strstr(line, READY_MARKER))
		b->ready_at = stamp - e->m.started;
}

static void write_all(int *fd, const char *what, const char *data, size_t len)
{
	if (*fd >= 0 && write(*fd, data, len) != (ssize_t)len) {
		/* the run dir is gone or full: keep running, report once */
		close(*fd);
		*fd = -1;
		warning("cannot write the %s log", what);
	}
}

static void log_line(struct engine *e, struct console *c, const char *line, size_t len,
		     double stamp)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "[%9.3f] ", stamp - e->m.started);
	strbuf_add(&sb, line, len);
	strbuf_addch(&sb, '\n');
	write_all(&c->log_fd, c->name, sb.buf, sb.len);
	write_all(&c->seg_fd, c->name, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* A full line (no newline) arrived on console @id at @stamp (now_mono()). */
static void on_line(struct engine *e, enum console_id id, char *line, size_t len, double stamp)
{
	struct console *c = &e->con[id];

	while (len && line[len - 1] == '\r')
		line[--len] = '\0';
	c->lines++;
	if (id == CON_NORMAL)
		note_boot_line(e, line, stamp);
	log_line(e, c, line, len, stamp);
	strbuf_add(&c->history, line, len);
	strbuf_addch(&c->history, '\n');
	classifier_line(&e->cls, id, line, stamp);

	if (id != CON_NORMAL)
		return;
	if (e->wait == W_READY && strstr(line, READY_MARKER))
		e->matched = true;
	if (e->wait == W_COMMAND || e->wait == W_READY) {
		char begin[48], end[48];
		const char *p;

		snprintf(begin, sizeof(begin), "@@TL:BEGIN:%d@@", e->cmd_id);
		snprintf(end, sizeof(end), "@@TL:END:%d:", e->cmd_id);
		if (!e->cmd_begun && strstr(line, begin)) {
			e->cmd_begun = true;
		} else if (e->cmd_begun && (p = strstr(line, end))) {
			/* text glued before the marker is output without a newline */
			strbuf_add(&e->cmd_out, line, (size_t)(p - line));
			if (p > line)
				strbuf_addch(&e->cmd_out, '\n');
			e->cmd_rc = atoi(p + strlen(end));
			e->cmd_begun = false;
			if (e->wait == W_COMMAND)
				e->matched = true;
			else
				e->wait = W_NONE;	/* W_READY: the command failed, stop waiting */
		} else if (e->cmd_begun) {
			strbuf_add(&e->cmd_out, line, len);
			strbuf_addch(&e->cmd_out, '\n');
		}
	}
}

static void feed_line(void *ctx, size_t idx, char *line, size_t len, double stamp)
{
	on_line(ctx, (enum console_id)idx, line, len, stamp);
}

static void feed_raw(void *ctx, size_t idx, const char *data, size_t len)
{
	struct engine *e = ctx;

	if (idx == CON_NORMAL && e->echo_fd >= 0 && write(e->echo_fd, data, len) < 0)
		e->echo_fd = -1;
}

/* Take what the console feed read since the last call. */
static void take_consoles(struct engine *e)
{
	static const struct console_feed_ops ops = { .line = feed_line, .raw = feed_raw };
	unsigned eof;

	if (!e->feed)
		return;
	eof = console_feed_take(e->feed, &ops, e);
	for (int i = 0; i < CON_COUNT; i++)
		if (eof & (1u << i))
			e->con[i].eof = true;
}

/* Scan the history of the wait console from its cursor for the pattern. */
static bool scan_history(struct engine *e)
{
	struct console *c = &e->con[e->wait_con];

	while (c->cursor < c->history.len) {
		char *line = c->history.buf + c->cursor;
		char *nl = strchr(line, '\n');
		bool hit;

		if (!nl)
			break;
		*nl = '\0';
		hit = !regexec(&e->wait_re, line, 0, NULL, 0);
		if (hit) {
			free(e->matched_line);
			e->matched_line = xstrdup(line);
		}
		*nl = '\n';
		c->cursor = (size_t)(nl - c->history.buf) + 1;
		if (hit)
			return true;
	}
	return false;
}

/* ---- SSH jobs ---- */

/* New complete stdout lines of @b matching its progress pattern. */
static void scan_progress(struct bg_job *b, double now)
{
	const struct strbuf *out = guest_job_stdout(b->job);

	while (b->scanned < out->len) {
		const char *line = out->buf + b->scanned;
		const char *nl = memchr(line, '\n', out->len - b->scanned);
		char *copy;

		if (!nl)
			break;
		copy = xstrndup(line, (size_t)(nl - line));
		b->scanned = (size_t)(nl - out->buf) + 1;
		if (!regexec(&b->progress, copy, 0, NULL, 0)) {
			b->last_progress = now;
			b->progress_lines++;
			free(b->last_line);
			b->last_line = copy;
			copy = NULL;
		}
		free(copy);
	}
}

/*
 * The first background job with a progress pattern that still runs and
 * printed no progress line for its stall window, or NULL.
 */
static struct bg_job *stalled_job(struct engine *e, double now)
{
	for (size_t i = 0; i < e->nr_jobs; i++) {
		struct bg_job *b = &e->jobs[i];

		if (!b->progress_set || !b->job)
			continue;
		scan_progress(b, now);
		if (guest_job_status(b->job) < 0 && now - b->last_progress > b->stall)
			return b;
	}
	return NULL;
}

/* Pump every SSH job; new output counts as progress. True if all waited jobs are done. */
static bool pump_jobs(struct engine *e, double max_wait)
{
	size_t out = 0;
	bool all = true;

	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job)
			guest_job_poll(e->jobs[i].job, e->nr_waiting ? max_wait / (double)e->nr_jobs : 0);
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job)
			out += guest_job_stdout(e->jobs[i].job)->len +
			       guest_job_stderr(e->jobs[i].job)->len;
	if (out != e->jobs_out_len) {
		e->jobs_out_len = out;
		classifier_progress(&e->cls, now_mono());
	}
	for (size_t i = 0; i < e->nr_waiting; i++)
		if (guest_job_status(e->waiting[i]) < 0 && !guest_job_poll(e->waiting[i], 0))
			all = false;
	return all;
}

enum pump_result {
	P_DONE, P_TIMEOUT, P_EXITED, P_INTERRUPTED, P_PANIC, P_RUN_TIMEOUT, P_HANG, P_DEADLOCK,
};

/*
 * Run the event loop until the current wait is satisfied, @deadline
 * passes, QEMU exits, a panic or a hang is seen, or teelab is interrupted.
 */
static enum pump_result pump(struct engine *e, double deadline)
{
	int sigfd = runproc_signal_fd();

	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0;
		double now = now_mono(), until = deadline;
		int timeout_ms;
		bool jobs = e->nr_jobs > 0;

		if (e->wait == W_PATTERN && scan_history(e))
			return P_DONE;
		if ((e->wait == W_COMMAND || e->wait == W_READY) && e->matched)
			return P_DONE;
		if (e->wait == W_NONE)	/* W_READY ended by the command's END marker */
			return P_DONE;
		if (e->wait == W_JOBS && pump_jobs(e, 0))
			return P_DONE;
		if (e->cls.event == EV_KERNEL_PANIC && e->panic_ok)
			classifier_clear_event(&e->cls);	/* the crash a kdump step made */
		if (e->cls.event != EV_NONE && e->wait != W_EXIT)
			return P_PANIC;
		if (runproc_interrupted())
			return P_INTERRUPTED;
		if (!e->qemu_exited && e->m.ops->exited(&e->m, &e->qemu_status))
			e->qemu_exited = true;
		if (e->qemu_exited && (e->con[CON_NORMAL].eof || e->con[CON_NORMAL].fd < 0) &&
		    (e->con[CON_SECURE].eof || e->con[CON_SECURE].fd < 0))
			return P_EXITED;
		if (e->wait != W_EXIT && jobs && !e->collecting && (e->stalled = stalled_job(e, now))) {
			e->stalled->stalled_at = now;
			return P_DEADLOCK;
		}
		if (e->wait != W_EXIT && classifier_hung(&e->cls, now, e->hang_window))
			return P_HANG;
		if (e->run_deadline < until)
			until = e->run_deadline;
		if (now >= until)
			return until == e->run_deadline && deadline > e->run_deadline
				? P_RUN_TIMEOUT : P_TIMEOUT;
		if (e->feed)
			pfd[nfd++] = (struct pollfd){ console_feed_fd(e->feed), POLLIN, 0 };
		if (sigfd >= 0)
			pfd[nfd++] = (struct pollfd){ sigfd, POLLIN, 0 };
		timeout_ms = (int)((until - now) * 1000) + 1;
		if (timeout_ms > (jobs ? 20 : 200))
			timeout_ms = jobs ? 20 : 200;	/* notice QEMU's exit, pump SSH, redraw */
		if (poll(pfd, (nfds_t)nfd, timeout_ms) > 0) {
			for (int i = 0; i < nfd; i++) {
				if (!pfd[i].revents)
					continue;
				if (sigfd >= 0 && pfd[i].fd == sigfd) {
					char drain[16];

					if (read(sigfd, drain, sizeof(drain)) < 0) {
						/* nothing pending */
					}
					continue;
				}
				take_consoles(e);
			}
		}
		if (jobs)
			pump_jobs(e, 0.01);
		progress(e, false);
	}
}

/* Send raw bytes to the normal-world console (teelab's own fixed text). */
static int console_send(struct engine *e, const char *s)
{
	size_t len = strlen(s);
	double deadline = now_mono() + 5;

	while (len) {
		ssize_t n = write(e->con[CON_NORMAL].fd, s, len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (now_mono() > deadline)
				return -ETIMEDOUT;
			usleep(1000);
			continue;
		}
		if (n <= 0)
			return -EPIPE;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- guest commands ---- */

static char *base64(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
	return out;
}

/* Send "<helper> <id> <base64 of @arg>" to the serial shell; sets up W_COMMAND. */
static int serial_send(struct engine *e, const char *helper, const char *arg, enum wait_kind w)
{
	char *b64 = base64(arg);
	char *line = xasprintf("%s %d %s\n", helper, ++e->cmd_id, b64);
	int ret;

	free(b64);
	strbuf_reset(&e->cmd_out);
	e->matched = false;
	e->cmd_begun = false;
	e->cmd_rc = -1;
	e->wait = w;
	ret = console_send(e, line);
	free(line);
	return ret;
}

/* Run @command on the serial shell; output in e->cmd_out, status in e->cmd_rc. */
static enum pump_result serial_command(struct engine *e, const char *command, double timeout)
{
	enum pump_result p;

	if (e->serial_busy)
		return P_EXITED;
	if (serial_send(e, "tl-run", command, W_COMMAND))
		return P_EXITED;
	p = pump(e, now_mono() + timeout);
	if (p == P_TIMEOUT || p == P_HANG || p == P_DEADLOCK) {
		/* interrupt the command (the shell has a controlling tty) */
		console_send(e, "\003");
		if (pump(e, now_mono() + 5) != P_DONE) {
			e->cmd_rc = -1;
			e->serial_busy = true;	/* the shell did not answer: it is wedged */
		}
	}
	e->wait = W_NONE;
	return p;
}

static bool have_ssh(const struct engine *e)
{
	return e->ssh != NULL;
}

static enum channel pick(const struct engine *e, enum channel c)
{
	if (c == CHAN_AUTO)
		return have_ssh(e) ? CHAN_SSH : CHAN_SERIAL;
	return c;
}

static struct bg_job *add_job(struct engine *e, const char *id, struct guest_job *job)
{
	struct bg_job *b;

	if (e->nr_jobs == MAX_JOBS)
		return NULL;
	b = &e->jobs[e->nr_jobs++];
	memset(b, 0, sizeof(*b));
	b->id = id ? xstrdup(id) : NULL;
	b->job = job;
	b->started = now_mono();
	return b;
}

static void drop_job(struct engine *e, struct guest_job *job)
{
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job == job) {
			guest_job_free(job);
			free(e->jobs[i].id);
			free(e->jobs[i].last_line);
			if (e->jobs[i].progress_set)
				regfree(&e->jobs[i].progress);
			e->jobs[i] = e->jobs[--e->nr_jobs];
			return;
		}
}

static void drop_all_jobs(struct engine *e)
{
	while (e->nr_jobs)
		drop_job(e, e->jobs[0].job);
	e->nr_waiting = 0;
}

/* Wait for @jobs; a timeout or hang leaves them running (the caller decides). */
static enum pump_result wait_jobs(struct engine *e, struct guest_job **jobs, size_t n,
				  double timeout)
{
	enum pump_result p;

	memcpy(e->waiting, jobs, n * sizeof(*jobs));
	e->nr_waiting = n;
	e->wait = W_JOBS;
	p = pump(e, now_mono() + timeout);
	e->wait = W_NONE;
	e->nr_waiting = 0;
	return p;
}

/* Run @command over SSH; stdout+stderr into e->cmd_out (stderr after stdout). */
static enum pump_result ssh_command(struct engine *e, const char *command, double timeout,
				    struct strbuf *err_out)
{
	struct guest_job *job = NULL;
	enum pump_result p;

	strbuf_reset(&e->cmd_out);
	e->cmd_rc = -1;
	if (guest_ssh_start(e->ssh, command, &job))
		return P_EXITED;
	if (!add_job(e, NULL, job)) {
		guest_job_free(job);
		return P_EXITED;
	}
	p = wait_jobs(e, &job, 1, timeout);
	strbuf_add(&e->cmd_out, strbuf_str(guest_job_stdout(job)), guest_job_stdout(job)->len);
	if (err_out)
		strbuf_add(err_out, strbuf_str(guest_job_stderr(job)), guest_job_stderr(job)->len);
	e->cmd_rc = guest_job_status(job);
	drop_job(e, job);
	return p;
}

/* One guest command on the chosen channel. *err gets SSH stderr (may be NULL). */
static enum pump_result guest_command(struct engine *e, enum channel ch, const char *command,
				      double timeout, struct strbuf *err)
{
	if (pick(e, ch) == CHAN_SSH) {
		if (!have_ssh(e))
			return P_EXITED;
		return ssh_command(e, command, timeout, err);
	}
	return serial_command(e, command, timeout);
}

/* ---- step helpers ---- */

static double step_timeout(const struct scenario_step *st, double def)
{
	return st->timeout > 0 ? st->timeout : def;
}

/* Apply xfail: a failure that was expected is XFAIL, a pass is XPASS. */
static enum verdict apply_xfail(const struct scenario_step *st, enum verdict v)
{
	if (!st->xfail)
		return v;
	if (v == V_PASS)
		return V_XPASS;
	if (v == V_FAIL || v == V_TIMEOUT)
		return V_XFAIL;
	return v;
}

static enum verdict pump_verdict(const struct engine *e, enum pump_result p)
{
	switch (p) {
	case P_DONE:
		return V_PASS;
	case P_TIMEOUT:
	case P_RUN_TIMEOUT:
		return V_TIMEOUT;
	case P_HANG:
		return V_HANG;
	case P_DEADLOCK:
		return V_DEADLOCK;
	case P_EXITED:
		return V_INFRA;
	case P_INTERRUPTED:
		return V_INTERRUPTED;
	case P_PANIC:
		return e->cls.event == EV_TEE_PANIC ? V_TEE_PANIC : V_KERNEL_PANIC;
	}
	return V_INFRA;
}

static char *pump_reason(const struct engine *e, enum pump_result p, double timeout)
{
	switch (p) {
	case P_DONE:
		return NULL;
	case P_TIMEOUT:
		return xasprintf("timed out after %.0f s", timeout);
	case P_RUN_TIMEOUT:
		return xstrdup("the whole run timed out");
	case P_HANG:
		return xasprintf("no progress for %.0f s (no new console line, no step completed)",
				 e->hang_window);
	case P_DEADLOCK:
		return xasprintf("'%s' made no progress for %.0f s while still running "
				 "(%zu progress lines, last: %s)",
				 e->stalled->id ? e->stalled->id : "?", e->stalled->stall,
				 e->stalled->progress_lines,
				 e->stalled->last_line ? e->stalled->last_line : "none");
	case P_EXITED:
		return e->qemu_exited ? xasprintf("QEMU exited (status %d)", e->qemu_status)
				      : xstrdup("no channel to the guest");
	case P_INTERRUPTED:
		return xstrdup("interrupted");
	case P_PANIC:
		return xasprintf("%s: %s", console_event_name(e->cls.event),
				 e->cls.event_line ? e->cls.event_line : "");
	}
	return xstrdup("?");
}

/*
 * Lines of @text matching the ERE @pattern; *first (if @first) gets a copy
 * of the first one, or NULL. @stop_at_first ends the scan there.
 */
static size_t match_lines(const char *text, const char *pattern, bool stop_at_first, char **first)
{
	regex_t re;
	char *copy = NULL, *save = NULL;
	size_t n = 0;

	if (first)
		*first = NULL;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return 0;	/* validated by the parser: not reached */
	copy = xstrdup(text ? text : "");
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (regexec(&re, l, 0, NULL, 0))
			continue;
		if (!n++ && first)
			*first = xstrdup(l);
		if (stop_at_first)
			break;
	}
	free(copy);
	regfree(&re);
	return n;
}

static bool output_matches(const char *pattern, const char *out)
{
	return match_lines(out, pattern, true, NULL) > 0;
}

static void save_step_file(struct engine *e, size_t n, const char *suffix, const char *data)
{
	char *dir = path_join(e->dir, "steps");
	char *path = xasprintf("%s/%02zu-%s", dir, n + 1, suffix);

	if (!mkdir_p(dir, 0755))
		write_file_str(path, data);
	free(dir);
	free(path);
}

/* A bounded tail of @s for results. */
static const char *tail(const char *s)
{
	size_t len = strlen(s);

	return len > OUTPUT_KEEP ? s + len - OUTPUT_KEEP : s;
}

/* Check a finished command: exit status, output pattern, xtest results. */
static enum verdict check_command(struct engine *e, const struct scenario_step *st,
				  const char *out, int rc, char **msg)
{
	if (st->parser && !strcmp(st->parser, "xtest")) {
		struct xtest_report rep = XTEST_REPORT_INIT;

		xtest_parse(out, &rep);
		xtest_report_to_results(&rep, e->res);
		if (rep.have_summary && rep.cases_failed > 0)
			*msg = xasprintf("xtest: %ld of %ld test cases failed", rep.cases_failed,
					 rep.cases_total);
		else if (!rep.have_summary)
			*msg = xstrdup("xtest: no summary in the output (did it run?)");
		xtest_report_release(&rep);
	}
	if (!*msg && rc != st->expect_exit)
		*msg = xasprintf("exit status %d, expected %d", rc, st->expect_exit);
	if (!*msg && st->expect_output && !output_matches(st->expect_output, out))
		*msg = xasprintf("no output line matches /%s/", st->expect_output);
	return *msg ? V_FAIL : V_PASS;
}

/* ---- SSH session ---- */

static void ssh_disconnect(struct engine *e)
{
	drop_all_jobs(e);
	guest_ssh_close(e->ssh);
	e->ssh = NULL;
}

static void ssh_connect(struct engine *e)
{
	int ret;

	if (!e->ssh_port || e->ssh)
		return;
	stage_begin(e, "connecting over SSH");
	ret = guest_ssh_connect(&e->ssh, e->m.ssh_host, e->ssh_port, "root", e->ssh_key,
				SSH_CONNECT_TIMEOUT);
	if (ret) {
		e->ssh = NULL;
		warning("no SSH to the guest (port %d); guest commands use the serial shell",
			e->ssh_port);
	}
	classifier_progress(&e->cls, now_mono());
}

/* ---- steps ---- */

static enum pump_result wait_ready(struct engine *e, double timeout)
{
	enum pump_result p;

	e->wait = W_READY;
	e->matched = false;
	p = pump(e, now_mono() + timeout);
	if (p == P_DONE && !e->matched)
		return P_DONE;	/* the command's END marker: the caller looks at cmd_rc */
	e->wait = W_NONE;
	if (p == P_DONE) {
		classifier_progress(&e->cls, now_mono());
		ssh_connect(e);
	}
	return p;
}

static enum pump_result step_boot(struct engine *e, double timeout, char **msg)
{
	enum pump_result p;
	int ret;

	new_boot(e, "power-on", NULL, 0);
	ret = e->m.ops->start(&e->m);
	if (e->m.uri[0])
		run_result_env(e->res, "libvirt_uri", e->m.uri);
	if (ret) {
		e->qemu_exited = true;
		*msg = e->m.why[0] ? xasprintf("QEMU did not start: %s", e->m.why)
				   : xstrdup("QEMU did not start (see qemu.log)");
		return P_EXITED;
	}
	classifier_init(&e->cls, now_mono());
	for (int i = 0; i < CON_COUNT; i++)
		e->con[i].fd = e->m.console_fd[i];
	e->feed = console_feed_start(e->m.console_fd, CON_COUNT,
				     e->echo_fd >= 0 ? 1u << CON_NORMAL : 0);
	if (!e->feed) {
		*msg = xstrdup("cannot read the consoles (see teelab.log)");
		return P_EXITED;
	}
	e->cmd_id = 0;
	p = wait_ready(e, timeout);
	/* `expect` steps after the boot see the whole boot log */
	e->con[CON_NORMAL].cursor = 0;
	return p;
}

/* " 'arg'" for the guest shell: single quotes, ' escaped */
static void add_quoted(struct strbuf *cmd, const char *arg)
{
	strbuf_addstr(cmd, " '");
	for (const char *c = arg; *c; c++)
		strbuf_addstr(cmd, *c == '\'' ? "'\\''" : (char[2]){ *c, 0 });
	strbuf_addch(cmd, '\'');
}

/* The tl-kexec command line of a kexec step (see images/rootfs/overlay/usr/bin/tl-kexec). */
static void kexec_command(const struct scenario_step *st, struct strbuf *cmd)
{
	strbuf_addstr(cmd, "tl-kexec");
	if (st->no_load)
		strbuf_addstr(cmd, " --no-load");
	if (st->crash)
		strbuf_addstr(cmd, " --crash");
	if (st->to) {
		strbuf_addstr(cmd, " --to");
		add_quoted(cmd, st->to);
	}
	if (st->kernel || st->initrd || st->cmdline) {
		add_quoted(cmd, st->kernel ? st->kernel : "");
		add_quoted(cmd, st->initrd ? st->initrd : "");
		add_quoted(cmd, st->cmdline ? st->cmdline : "");
	}
}

/* kexec: { crash: true }: load the capture kernel (kexec -p) and go on */
static enum pump_result step_kexec_crash(struct engine *e, const struct scenario_step *st,
					 double timeout, char **msg)
{
	struct strbuf cmd = STRBUF_INIT;
	enum pump_result p;

	kexec_command(st, &cmd);
	p = guest_command(e, CHAN_AUTO, strbuf_str(&cmd), timeout, NULL);
	if (p == P_DONE && e->cmd_rc)
		*msg = xasprintf("loading the capture kernel failed (status %d): %s", e->cmd_rc,
				 tail(strbuf_str(&e->cmd_out)));
	strbuf_release(&cmd);
	return p;
}

/* reboot -f or tl-kexec: the next boot's READY marker ends the step */
static enum pump_result step_reboot(struct engine *e, const struct scenario_step *st,
				    double timeout, char **msg)
{
	struct strbuf cmd = STRBUF_INIT;
	enum pump_result p;
	size_t from = e->con[CON_NORMAL].history.len;

	if (e->serial_busy) {
		*msg = xstrdup("the serial shell is busy with an earlier command");
		return P_EXITED;
	}
	ssh_disconnect(e);
	if (st->type == STEP_REBOOT)
		/* PSCI SYSTEM_RESET after the kernel's shutdown path (device .shutdown hooks) */
		strbuf_addstr(&cmd, "sync; reboot -f");
	else
		kexec_command(st, &cmd);
	if (serial_send(e, "tl-run", strbuf_str(&cmd), W_READY)) {
		strbuf_release(&cmd);
		return P_EXITED;
	}
	strbuf_release(&cmd);
	if (st->type == STEP_REBOOT)
		expect_boot(e, "reboot", NULL, "Booting Trusted Firmware");
	else
		expect_boot(e, "kexec", st->to ? st->to : "boot", "Booting Linux on physical CPU");
	p = wait_ready(e, timeout);
	if (p == P_DONE && !e->matched) {
		/* the command came back: no new boot */
		*msg = xasprintf("%s failed (status %d): %s", step_type_name(st->type), e->cmd_rc,
				 strbuf_str(&e->cmd_out));
		e->pending_how = NULL;
		return P_DONE;
	}
	if (p == P_DONE) {
		e->con[CON_NORMAL].cursor = from;	/* expects see this boot */
		e->cmd_id = 0;
	}
	return p;
}

static enum pump_result step_expect(struct engine *e, const struct scenario_step *st,
				    double timeout)
{
	if (regcomp(&e->wait_re, st->pattern, REG_EXTENDED | REG_NOSUB))
		return P_EXITED;	/* validated by the parser: not reached */
	e->wait_re_set = true;
	e->wait = W_PATTERN;
	e->wait_con = st->console;
	return pump(e, now_mono() + timeout);
}

static enum pump_result step_expect_not(struct engine *e, const struct scenario_step *st,
					char **msg)
{
	enum pump_result p;

	if (regcomp(&e->wait_re, st->pattern, REG_EXTENDED | REG_NOSUB))
		return P_EXITED;
	e->wait_re_set = true;
	e->wait = W_PATTERN;
	e->wait_con = st->console;
	e->con[st->console].cursor = e->con[st->console].history.len;	/* from now on */
	p = pump(e, now_mono() + st->within);
	if (p == P_DONE) {
		*msg = xasprintf("matched within %.0f s: %s", st->within,
				 e->matched_line ? e->matched_line : "");
		return P_DONE;
	}
	return p == P_TIMEOUT ? P_DONE : p;
}

static void step_assert(struct engine *e, const struct scenario_step *st, char **msg)
{
	const struct console *c = &e->con[st->console];

	for (size_t k = 0; k < st->nr_absent && !*msg; k++) {
		char *line = NULL;

		if (match_lines(strbuf_str(&c->history), st->absent[k], true, &line))
			*msg = xasprintf("%s console: %s", c->name, line);
		free(line);
	}
}

static enum pump_result step_run(struct engine *e, size_t n, const struct scenario_step *st,
				 double timeout, enum verdict *v, char **msg, char **output)
{
	struct strbuf err = STRBUF_INIT;
	enum pump_result p = guest_command(e, st->channel, st->command, timeout, &err);
	const char *out = strbuf_str(&e->cmd_out);

	save_step_file(e, n, "run.log", out);
	if (err.len)
		save_step_file(e, n, "run.stderr", strbuf_str(&err));
	*output = xasprintf("%s%s", tail(out), tail(strbuf_str(&err)));
	strbuf_release(&err);
	if (p != P_DONE) {
		*v = pump_verdict(e, p);
		return p;
	}
	*v = check_command(e, st, out, e->cmd_rc, msg);
	return p;
}

/* The first number in @out (a decimal integer or real); false if none. */
static bool first_number(const char *out, double *value)
{
	for (const char *p = out; *p; p++) {
		char *end = NULL;

		if (!isdigit((unsigned char)*p) &&
		    !((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))
			continue;
		*value = strtod(p, &end);
		if (end != p)
			return true;
	}
	return false;
}

/*
 * measure: take the value (a guest command's first number, or a count of
 * console lines), record it in the run's metrics, then check min/max and
 * at-least. A value that can't be taken records nothing and fails.
 */
static enum pump_result step_measure(struct engine *e, size_t n, const struct scenario_step *st,
				     double timeout, enum verdict *v, char **msg, char **output)
{
	double value = 0, floor = 0;
	enum pump_result p = P_DONE;

	if (st->pattern) {
		/* lines of that console's history: the whole run */
		value = (double)match_lines(strbuf_str(&e->con[st->console].history), st->pattern,
					    false, NULL);
	} else {
		struct strbuf err = STRBUF_INIT;
		const char *out;

		p = guest_command(e, st->channel, st->command, timeout, &err);
		out = strbuf_str(&e->cmd_out);
		save_step_file(e, n, "run.log", out);
		strbuf_release(&err);
		if (p != P_DONE) {
			*v = pump_verdict(e, p);
			return p;
		}
		if (e->cmd_rc)
			*msg = xasprintf("exit status %d: %s", e->cmd_rc, tail(out));
		else if (!first_number(out, &value))
			*msg = xasprintf("no number in the output: %s", tail(out));
		if (*msg) {
			*v = V_FAIL;
			return p;
		}
	}
	run_result_metric(e->res, st->metric, value);
	*output = xasprintf("%s = %.15g\n", st->metric, value);
	if (st->has_min && value < st->min)
		*msg = xasprintf("%s = %.15g, below the minimum %.15g", st->metric, value, st->min);
	else if (st->has_max && value > st->max)
		*msg = xasprintf("%s = %.15g, above the maximum %.15g", st->metric, value, st->max);
	else if (st->at_least && run_result_get_metric(e->res, st->at_least, &floor) &&
		 value < floor)
		*msg = xasprintf("%s = %.15g, below %s = %.15g", st->metric, value,
				 st->at_least, floor);
	else if (st->at_least && !run_result_get_metric(e->res, st->at_least, &floor))
		*msg = xasprintf("%s = %.15g, but %s was never measured", st->metric, value,
				 st->at_least);
	*v = *msg ? V_FAIL : V_PASS;
	return p;
}

static struct bg_job *find_job(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].id && !strcmp(e->jobs[i].id, id))
			return &e->jobs[i];
	return NULL;
}

static void step_background(struct engine *e, const struct scenario_step *st, char **msg)
{
	struct guest_job *job = NULL;
	struct bg_job *b = NULL;
	char *b64 = base64(st->command);
	char *cmd = xasprintf("tl-bg %s %s", st->id, b64);

	free(b64);
	if (!have_ssh(e))
		*msg = xstrdup("background commands need SSH, and the guest has none");
	else if (guest_ssh_start(e->ssh, cmd, &job) || !(b = add_job(e, st->id, job)))
		*msg = xstrdup("cannot start the command over SSH");
	if (b && st->progress && !regcomp(&b->progress, st->progress, REG_EXTENDED | REG_NOSUB)) {
		b->progress_set = true;
		b->stall = st->stall;
		b->last_progress = b->started;
	}
	free(cmd);
}

static enum pump_result step_join(struct engine *e, size_t n, const struct scenario_step *st,
				  double timeout, enum verdict *v, char **msg, char **output)
{
	struct bg_job *b = find_job(e, st->id);
	struct guest_job *job;
	enum pump_result p;
	const char *out;

	if (!b) {
		*msg = xasprintf("no running background command '%s'", st->id);
		*v = V_FAIL;
		return P_DONE;
	}
	job = b->job;
	p = wait_jobs(e, &job, 1, timeout);
	out = strbuf_str(guest_job_stdout(job));
	save_step_file(e, n, "join.log", out);
	if (guest_job_stderr(job)->len)
		save_step_file(e, n, "join.stderr", strbuf_str(guest_job_stderr(job)));
	*output = xstrdup(tail(out));
	if (p != P_DONE) {
		*v = pump_verdict(e, p);
		return p;	/* still running: evidence may look at it; `kill` can stop it */
	}
	*v = check_command(e, st, out, guest_job_status(job), msg);
	drop_job(e, job);
	return p;
}

static enum pump_result step_kill(struct engine *e, const struct scenario_step *st, char **msg)
{
	struct bg_job *b = find_job(e, st->id);
	char *cmd = xasprintf("tl-kill %s", st->id);
	enum pump_result p;

	if (!b) {
		free(cmd);
		*msg = xasprintf("no running background command '%s'", st->id);
		return P_DONE;
	}
	p = guest_command(e, CHAN_AUTO, cmd, 15, NULL);
	free(cmd);
	if (p == P_DONE && e->cmd_rc)
		*msg = xasprintf("tl-kill failed: %s", strbuf_str(&e->cmd_out));
	if ((b = find_job(e, st->id)))
		drop_job(e, b->job);
	return p;
}

static enum pump_result step_parallel(struct engine *e, size_t n, const struct scenario_step *st,
				      double timeout, enum verdict *v, char **msg)
{
	struct guest_job *jobs[MAX_JOBS];
	struct strbuf all = STRBUF_INIT;
	size_t started = 0;
	enum pump_result p = P_DONE;

	if (!have_ssh(e)) {
		*msg = xstrdup("parallel commands need SSH, and the guest has none");
		*v = V_FAIL;
		return P_DONE;
	}
	for (int i = 0; i < st->copies && started < MAX_JOBS - e->nr_jobs; i++) {
		struct guest_job *job = NULL;
		char *cmd = xasprintf("TL_COPY=%d; export TL_COPY; %s", i, st->command);

		if (!guest_ssh_start(e->ssh, cmd, &job) && add_job(e, NULL, job))
			jobs[started++] = job;
		free(cmd);
	}
	if (started < (size_t)st->copies)
		*msg = xasprintf("only %zu of %d copies started", started, st->copies);
	if (started)
		p = wait_jobs(e, jobs, started, timeout);
	for (size_t i = 0; i < started; i++) {
		const char *out = strbuf_str(guest_job_stdout(jobs[i]));
		char *m = NULL;

		strbuf_addf(&all, "===== copy %zu (status %d)\n%s", i, guest_job_status(jobs[i]), out);
		if (p == P_DONE && !*msg &&
		    check_command(e, st, out, guest_job_status(jobs[i]), &m) != V_PASS) {
			*msg = xasprintf("copy %zu: %s", i, m);
		}
		free(m);
		drop_job(e, jobs[i]);
	}
	save_step_file(e, n, "parallel.log", strbuf_str(&all));
	strbuf_release(&all);
	*v = p != P_DONE ? pump_verdict(e, p) : *msg ? V_FAIL : V_PASS;
	return p;
}

/* Decode base64 text (whitespace ignored) to a file. */
static int base64_to_file(const char *text, const char *path)
{
	struct strbuf clean = STRBUF_INIT;
	unsigned char *bin;
	int n, ret;

	for (const char *p = text; *p; p++)
		if (!strchr(" \t\r\n", *p))
			strbuf_addch(&clean, *p);
	bin = xmalloc(clean.len / 4 * 3 + 3);
	n = EVP_DecodeBlock(bin, (const unsigned char *)strbuf_str(&clean), (int)clean.len);
	if (n < 0) {
		ret = error("the guest's base64 output is corrupt");
	} else {
		/* EVP_DecodeBlock counts the '=' padding as zero bytes */
		if (clean.len && clean.buf[clean.len - 1] == '=')
			n--;
		if (clean.len > 1 && clean.buf[clean.len - 2] == '=')
			n--;
		ret = write_file(path, bin, (size_t)n, 0644);
	}
	free(bin);
	strbuf_release(&clean);
	return ret;
}

static enum pump_result step_collect(struct engine *e, const struct scenario_step *st,
				     double timeout, char **msg)
{
	char *dir = path_join(e->dir, "artifacts");
	enum pump_result p = P_DONE;
	double deadline = now_mono() + timeout;

	if (mkdir_p(dir, 0755)) {
		*msg = xstrdup("cannot create the artifacts directory");
		free(dir);
		return P_DONE;
	}
	for (size_t i = 0; i < st->nr_paths && !*msg && p == P_DONE; i++) {
		const char *path = st->paths[i];

		if (pick(e, st->channel) == CHAN_SSH && have_ssh(e)) {
			if (guest_ssh_fetch(e->ssh, path, dir, deadline - now_mono()))
				*msg = xasprintf("cannot fetch '%s' over SFTP", path);
		} else {
			/* serial: a tar of the path, base64-encoded, then unpacked here */
			char *cmd = xasprintf("tar -C / -cf - '%s' | base64", path + 1);
			char *tar = path_join(dir, ".collect.tar");

			p = serial_command(e, cmd, deadline - now_mono());
			if (p == P_DONE && e->cmd_rc == 0 && !base64_to_file(strbuf_str(&e->cmd_out), tar))
				tar_extract(tar, dir, 0);
			else if (p == P_DONE)
				*msg = xasprintf("cannot collect '%s' (status %d)", path, e->cmd_rc);
			unlink(tar);
			free(tar);
			free(cmd);
		}
	}
	free(dir);
	return p;
}

static enum pump_result step_sysrq(struct engine *e, const struct scenario_step *st,
				   double timeout, char **msg)
{
	char *cmd = xasprintf("echo %c > /proc/sysrq-trigger", st->sysrq);
	enum pump_result p;

	if (st->sysrq == 'c') {
		/* a crash never returns: send it raw and let the panic end the step */
		char *line = xasprintf("%s\n", cmd);

		ssh_disconnect(e);
		e->wait = W_EXIT;	/* wait for the panic line, not a marker */
		console_send(e, line);
		free(line);
		e->wait = W_NONE;
		e->wait_con = CON_NORMAL;
		regcomp(&e->wait_re, "Kernel panic - not syncing", REG_EXTENDED | REG_NOSUB);
		e->wait_re_set = true;
		e->wait = W_PATTERN;
		e->con[CON_NORMAL].cursor = e->con[CON_NORMAL].history.len;
		p = pump(e, now_mono() + timeout);
		free(cmd);
		if (p != P_DONE || !st->kdump)
			return p == P_DONE ? P_PANIC : p;
		/* kdump: the loaded capture kernel boots; its shell ends the step */
		classifier_clear_event(&e->cls);
		expect_boot(e, "kdump", NULL, "Booting Linux on physical CPU");
		e->panic_ok = true;
		e->cmd_id = 0;
		p = wait_ready(e, timeout);
		e->panic_ok = false;
		if (p == P_DONE && !e->matched)
			*msg = xstrdup("the crashed kernel's shell answered: no capture kernel booted");
		return p;
	}
	p = guest_command(e, st->channel, cmd, timeout, NULL);
	if (p == P_DONE && e->cmd_rc)
		*msg = xasprintf("sysrq %c failed (status %d)", st->sysrq, e->cmd_rc);
	free(cmd);
	return p;
}

static enum pump_result step_poweroff(struct engine *e, double timeout)
{
	ssh_disconnect(e);
	/* PSCI SYSTEM_OFF through TF-A: QEMU exits by itself */
	e->wait = W_EXIT;
	if (console_send(e, "poweroff -f\n"))
		return P_EXITED;
	return pump(e, now_mono() + timeout);
}

/* ---- evidence ---- */

static void write_evidence(struct engine *e, const char *name, const char *data)
{
	char *dir = path_join(e->dir, "evidence");
	char *path = path_join(dir, name);

	if (!mkdir_p(dir, 0755))
		write_file_str(path, data);
	free(dir);
	free(path);
}

/* The last @n lines of console @c. */
static char *console_tail(const struct console *c, int n)
{
	const char *s = strbuf_str(&c->history);
	const char *p = s + strlen(s);

	while (p > s && n >= 0) {
		p--;
		if (*p == '\n')
			n--;
	}
	return xstrdup(p == s ? s : p + 1);
}

/*
 * On HANG or TIMEOUT: what a developer needs to see why, each part with its
 * own deadline, within EVIDENCE_BUDGET in all. The verdict was written
 * before this starts, so a wedged guest cannot cost it.
 */
/* OP-TEE's CFG_NUM_THREADS from the build flags (the last one wins), or 0. */
static int optee_threads(const struct lab_config *cfg)
{
	int n = 0;

	for (size_t i = 0; cfg->secure.optee_build && i < cfg->secure.optee_flags.nr; i++)
		if (starts_with(cfg->secure.optee_flags.v[i], "CFG_NUM_THREADS="))
			n = atoi(cfg->secure.optee_flags.v[i] + 16);
	return n;
}

/* The TEE deadlock chain named from the guest's stacks, into @summary. */
static void add_chain(struct engine *e, const char *guest, struct strbuf *summary)
{
	struct tee_chain c;

	tee_chain_analyse(guest, optee_threads(e->cfg), &c);
	strbuf_addf(summary, "\n%s\n", c.summary);
	if (c.scmi_stack)
		strbuf_addf(summary, "\nThe SCMI call parked in the OP-TEE call queue:\n%s\n",
			    c.scmi_stack);
	run_result_env(e->res, "deadlock_chain", c.summary);
	tee_chain_release(&c);
}

static void collect_evidence(struct engine *e)
{
	double deadline = now_mono() + EVIDENCE_BUDGET;
	struct strbuf summary = STRBUF_INIT;
	char *reply = NULL, *t;

	stage_begin(e, "collecting evidence");
	e->collecting = true;
	if (e->stalled)
		strbuf_addf(&summary, "DEADLOCK: '%s' printed no progress line for %.0f s while "
			    "still running (%zu progress lines; last: %s)\n",
			    e->stalled->id ? e->stalled->id : "?", e->stalled->stall,
			    e->stalled->progress_lines,
			    e->stalled->last_line ? e->stalled->last_line : "none");
	strbuf_addf(&summary, "run stopped at %.1f s; boot %d; channel: %s\n",
		    now_mono() - e->t0, e->boot,
		    have_ssh(e) ? "ssh" : e->serial_busy ? "none (serial shell busy)" : "serial");
	if (!e->qemu_exited &&
	    !e->m.ops->qmp(&e->m, "{\"execute\":\"human-monitor-command\","
			   "\"arguments\":{\"command-line\":\"info registers -a\"}}", &reply, 5)) {
		/* the reply is JSON with \r\n escaped: keep it readable */
		struct strbuf sb = STRBUF_INIT;

		for (const char *p = reply; *p; p++) {
			if (p[0] == '\\' && p[1] == 'n') {
				strbuf_addch(&sb, '\n');
				p++;
			} else if (p[0] == '\\' && p[1] == 'r') {
				p++;
			} else {
				strbuf_addch(&sb, *p);
			}
		}
		write_evidence(e, "registers.txt", strbuf_str(&sb));
		strbuf_addstr(&summary, "registers.txt: QMP info registers -a (every vCPU)\n");
		strbuf_release(&sb);
	}
	free(reply);
	if (!e->qemu_exited && now_mono() < deadline && (have_ssh(e) || !e->serial_busy)) {
		struct strbuf err = STRBUF_INIT;
		double left = deadline - now_mono();
		enum pump_result p;

		/* evidence is not a step: a hang here must not end it early */
		double saved = e->hang_window;

		e->hang_window = 0;
		p = guest_command(e, CHAN_AUTO, "tl-evidence", left > 20 ? 20 : left, &err);
		e->hang_window = saved;
		if (p == P_DONE) {
			write_evidence(e, "guest.txt", strbuf_str(&e->cmd_out));
			strbuf_addstr(&summary, "guest.txt: sysrq w + t, the lab eMMC's counters, dmesg, "
				      "kernel stacks of every user thread and of blocked or TEE-related "
				      "kernel threads\n");
			if (e->stalled)
				add_chain(e, strbuf_str(&e->cmd_out), &summary);
		} else {
			strbuf_addstr(&summary, "guest.txt: the guest did not answer in time\n");
		}
		strbuf_release(&err);
	}
	for (size_t i = 0; i < e->nr_jobs; i++) {
		const struct bg_job *b = &e->jobs[i];
		char *name = NULL;

		if (!b->id || !b->job)
			continue;
		name = xasprintf("job-%s.txt", b->id);
		t = xasprintf("%s%s", strbuf_str(guest_job_stdout(b->job)),
			      strbuf_str(guest_job_stderr(b->job)));
		write_evidence(e, name, t);
		strbuf_addf(&summary, "%s: what background command '%s' printed so far\n", name,
			    b->id);
		free(t);
		free(name);
	}
	t = console_tail(&e->con[CON_NORMAL], 200);
	write_evidence(e, "nw-console.tail", t);
	free(t);
	t = console_tail(&e->con[CON_SECURE], 200);
	write_evidence(e, "sw-console.tail", t);
	free(t);
	strbuf_addstr(&summary, "nw-console.tail, sw-console.tail: the last 200 lines of each world\n");
	write_evidence(e, "summary.txt", strbuf_str(&summary));
	strbuf_release(&summary);
}

/* ---- the run ---- */

static void drain_consoles(struct engine *e, double secs)
{
	double deadline = now_mono() + secs;

	while (e->feed) {
		struct pollfd pfd = { console_feed_fd(e->feed), POLLIN, 0 };
		double left = deadline - now_mono();

		take_consoles(e);
		if ((e->con[CON_NORMAL].eof && e->con[CON_SECURE].eof) || left <= 0)
			break;
		poll(&pfd, 1, (int)(left * 1000) + 1);
	}
}

static void add_environment(struct engine *e, const struct lab_images *im)
{
	struct utsname u;
	struct strbuf out = STRBUF_INIT;
	const char *argv[] = { e->cfg->machine.qemu, "--version", NULL };

	run_result_env(e->res, "profile", e->cfg->profile);
	run_result_env(e->res, "machine", e->cfg->machine.name);
	run_result_env(e->res, "backend", e->cfg->machine.backend);
	run_result_env(e->res, "kernel", e->cfg->kernel.name);
	run_result_env(e->res, "secure", e->cfg->secure.name);
	run_result_env(e->res, "rootfs", e->cfg->rootfs.name);
	if (!uname(&u))
		run_result_env(e->res, "host", u.nodename);
	if (!run_capture(argv, NULL, &out) && out.len) {
		char *nl = strchr(out.buf, '\n');

		if (nl)
			*nl = '\0';
		run_result_env(e->res, "qemu", out.buf);
	}
	strbuf_release(&out);
	lab_images_to_result(im, e->res);
}

/* The run's verdict: the worst step outcome, in a fixed order of severity. */
static void overall(struct run_result *res)
{
	static const enum verdict order[] = { V_INTERRUPTED, V_INFRA, V_TEE_PANIC, V_KERNEL_PANIC,
		V_DEADLOCK, V_HANG, V_TIMEOUT, V_FAIL, V_XPASS, V_ERROR };

	if (res->verdict != V_PASS)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < res->nr_tests; i++)
			if (res->tests[i].verdict == order[k] && !strcmp(res->tests[i].group, "steps")) {
				res->verdict = order[k] == V_XPASS || order[k] == V_ERROR ? V_FAIL : order[k];
				if (!res->reason)
					res->reason = xasprintf("%s: %s", res->tests[i].name,
								res->tests[i].message ? res->tests[i].message
								: verdict_name(order[k]));
				return;
			}
	/* an xtest case can fail with its step still reported separately */
	for (size_t i = 0; i < res->nr_tests; i++)
		if (!verdict_ok(res->tests[i].verdict) && res->tests[i].verdict != V_NOTRUN) {
			res->verdict = V_FAIL;
			if (!res->reason)
				res->reason = xasprintf("%s failed", res->tests[i].name);
			return;
		}
}

/*
 * A scenario or cell that expects DEADLOCK (or HANG, a panic...) passes
 * when the run gives exactly that; a run that passes where something else
 * was expected fails. Interruptions and infrastructure failures stay.
 */
static void apply_expectation(struct run_result *res)
{
	const char *want = res->expected ? res->expected : "PASS";
	const char *got = verdict_name(res->verdict);
	char *reason = NULL;

	res->observed = res->verdict;
	if (!strcmp(want, "PASS") || res->verdict == V_INTERRUPTED || res->verdict == V_INFRA)
		return;
	if (!strcmp(want, got)) {
		reason = xasprintf("%s as expected: %s", got, res->reason ? res->reason : "");
		res->verdict = V_PASS;
	} else {
		reason = xasprintf("expected %s, got %s%s%s", want, got, res->reason ? ": " : "",
				   res->reason ? res->reason : "");
		if (res->verdict == V_PASS)
			res->verdict = V_FAIL;
	}
	free(res->reason);
	res->reason = reason;
}

int run_finish(struct run_result *res, const char *dir)
{
	overall(res);
	apply_expectation(res);
	res->exit_code = verdict_exit_code(res->verdict);
	results_write_all(res, dir);
	return res->exit_code;
}

/* A free TCP port on 127.0.0.1 for the SSH forward, or 0. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static enum pump_result play_step(struct engine *e, size_t i, const struct scenario_step *st,
				  enum verdict *v, char **msg, char **output, double *to)
{
	double step_to = e->opt->step_timeout > 0 ? e->opt->step_timeout : e->sc->step_timeout;
	double boot_to = e->opt->boot_timeout > 0 ? e->opt->boot_timeout : e->sc->boot_timeout;
	enum pump_result p = P_DONE;

	*to = step_timeout(st, step_to);
	switch (st->type) {
	case STEP_BOOT:
		*to = step_timeout(st, boot_to);
		p = step_boot(e, *to, msg);
		break;
	case STEP_KEXEC:
		if (st->crash) {
			p = step_kexec_crash(e, st, *to, msg);
			break;
		}
		/* fall through */
	case STEP_REBOOT:
		*to = step_timeout(st, boot_to);
		p = step_reboot(e, st, *to, msg);
		break;
	case STEP_REPEAT:	/* expanded by scenario_select() */
		break;
	case STEP_WAIT:
		p = step_expect(e, st, *to);
		break;
	case STEP_EXPECT_NOT:
		*to = st->within;
		p = step_expect_not(e, st, msg);
		break;
	case STEP_ASSERT:
		step_assert(e, st, msg);
		break;
	case STEP_RUN:
		return step_run(e, i, st, *to, v, msg, output);
	case STEP_BACKGROUND:
		step_background(e, st, msg);
		break;
	case STEP_JOIN:
		return step_join(e, i, st, *to, v, msg, output);
	case STEP_KILL:
		p = step_kill(e, st, msg);
		break;
	case STEP_PARALLEL:
		return step_parallel(e, i, st, *to, v, msg);
	case STEP_COLLECT:
		p = step_collect(e, st, *to, msg);
		break;
	case STEP_SYSRQ:
		p = step_sysrq(e, st, *to, msg);
		break;
	case STEP_MEASURE:
		return step_measure(e, i, st, *to, v, msg, output);
	case STEP_POWEROFF:
		*to = step_timeout(st, 60);
		p = step_poweroff(e, *to);
		if (p == P_EXITED) {
			p = P_DONE;
			if (e->qemu_status)
				*msg = xasprintf("QEMU exited with status %d", e->qemu_status);
		}
		break;
	}
	/* a machine that did not start (or died) is the lab's failure, not the test's */
	*v = *msg ? (p == P_EXITED && st->type == STEP_BOOT ? V_INFRA : V_FAIL) : pump_verdict(e, p);
	return p;
}

/*
 * Whether the machine has exited, waiting up to @grace seconds for the
 * backend to notice (libvirt reports it as an event, a moment after the
 * SSH connection broke).
 */
static bool machine_gone(struct engine *e, double grace)
{
	double until = now_mono() + grace;

	if (!e->m.priv)
		return false;
	while (!e->qemu_exited) {
		if (e->m.ops->exited(&e->m, &e->qemu_status))
			e->qemu_exited = true;
		else if (now_mono() >= until)
			break;
		else
			usleep(20000);
	}
	return e->qemu_exited;
}

/* Everything before the first step: logs, key pair, command line, machine. */
static void engine_setup(struct engine *e, const struct lab_images *im,
			 struct machine_spec *spec, struct strbuf *append)
{
	const struct lab_config *cfg = e->cfg;
	const struct scenario *sc = e->sc;
	double run_to = e->opt->run_timeout > 0 ? e->opt->run_timeout : sc->run_timeout;

	e->t0 = now_mono();
	e->run_deadline = e->t0 + run_to;
	e->hang_window = e->opt->hang_window > 0 ? e->opt->hang_window : sc->hang_window;
	e->tty = isatty(2);
	e->con[CON_NORMAL] = (struct console){ .name = "normal", .file = "nw-console", .fd = -1, .seg_fd = -1 };
	e->con[CON_SECURE] = (struct console){ .name = "secure", .file = "sw-console", .fd = -1, .seg_fd = -1 };
	e->con[CON_NORMAL].log_fd = open_log(e->dir, "nw-console.log");
	e->con[CON_SECURE].log_fd = open_log(e->dir, "sw-console.log");
	classifier_init(&e->cls, e->t0);
	add_environment(e, im);

	/* the guest network and a per-run key pair for the SSH channel */
	if (sc->network) {
		char *keydir = path_join(e->dir, "ssh");

		if (!ssh_keygen(keydir, &e->ssh_key, &e->ssh_pub) && (e->ssh_port = free_port()))
			spec->ssh_port = e->ssh_port;
		else
			warning("no SSH channel for this run: guest commands use the serial shell");
		free(keydir);
	}
	/*
	 * No panic= on the command line: a panic halts the kernel (and the
	 * engine ends the run on its console line) instead of rebooting, and a
	 * loaded crash kernel still takes over (kdump).
	 */
	strbuf_addstr(append, "console=ttyAMA0 rdinit=/init");
	if (e->ssh_pub && strchr(e->ssh_pub, ' '))
		strbuf_addf(append, " teelab.sshkey=%s", strchr(e->ssh_pub, ' ') + 1);
	if (cfg->kernel.cmdline)
		strbuf_addf(append, " %s", cfg->kernel.cmdline);
	if (sc->cmdline_extra)
		strbuf_addf(append, " %s", sc->cmdline_extra);
	run_result_env(e->res, "kernel_cmdline", strbuf_str(append));
	spec->cfg = &cfg->machine;
	spec->bios = im->bios;
	spec->kernel = im->kernel;
	spec->initrd = im->initrd;
	spec->dtb = im->dtb;
	spec->kexec_disk = im->kexec_disk;
	if (im->dtb) {
		/* the tree this run booted with, as source (dtb.c writes virt.dts beside it) */
		char *dts = xstrdup(im->dtb), *dst = path_join(e->dir, "device-tree.dts");

		if (ends_with(dts, ".dtb")) {
			strcpy(dts + strlen(dts) - 4, ".dts");
			if (file_exists(dts))
				copy_file(dts, dst);
		}
		free(dts);
		free(dst);
	}
	spec->append = strbuf_str(append);
	spec->run_dir = e->dir;
	spec->state_dir = cfg->cache_dir;
	machine_init(&e->m, machine_backend(cfg->machine.backend), spec);
}

/* Stop the machine, keep what the consoles still hold, free the engine. */
static void engine_teardown(struct engine *e)
{
	stage_begin(e, "stopping the machine");
	ssh_disconnect(e);
	if (e->m.priv)
		e->m.ops->stop(&e->m, 2.0);
	drain_consoles(e, 0.5);
	console_feed_stop(e->feed);
	e->feed = NULL;
	progress_clear(e);
	machine_release(&e->m);
	for (int k = 0; k < CON_COUNT; k++) {
		if (e->con[k].log_fd >= 0)
			close(e->con[k].log_fd);
		if (e->con[k].seg_fd >= 0)
			close(e->con[k].seg_fd);
		strbuf_release(&e->con[k].history);
	}
	classifier_release(&e->cls);
	strbuf_release(&e->cmd_out);
	free(e->matched_line);
	free(e->ssh_key);
	free(e->ssh_pub);
}

int run_scenario(const struct lab_config *cfg, const struct lab_images *im,
		 const struct scenario *sc, const struct run_options *opt,
		 struct run_result *res)
{
	struct engine e = { .cfg = cfg, .sc = sc, .opt = opt, .dir = opt->run_dir, .res = res,
			    .echo_fd = -1 };
	struct machine_spec spec = { 0 };
	struct strbuf append = STRBUF_INIT;
	bool abort_rest = false, evidence = false;
	enum pump_result last = P_DONE;
	size_t i;

	engine_setup(&e, im, &spec, &append);
	for (i = 0; i < sc->nr_steps && !abort_rest; i++) {
		const struct scenario_step *st = &sc->steps[i];
		enum verdict v = V_PASS;
		char *msg = NULL, *output = NULL;
		double t1 = now_mono(), to = 0;
		enum pump_result p;

		stage_begin(&e, st->name);
		p = play_step(&e, i, st, &v, &msg, &output, &to);
		if (v != V_PASS && p != P_EXITED && st->type != STEP_POWEROFF && machine_gone(&e, 1.0) &&
		    e.qemu_status != 0) {
			/*
			 * The step failed because QEMU died under it (an SSH command
			 * cut off); a guest that powered itself off (status 0) is the
			 * step's own failure.
			 */
			char *m2 = xasprintf("QEMU exited (status %d) during the step%s%s", e.qemu_status,
					     msg ? ": " : "", msg ? msg : "");

			free(msg);
			msg = m2;
			v = V_INFRA;
			p = P_EXITED;
		}
		if (!msg && p != P_DONE)
			msg = pump_reason(&e, p, to);
		v = apply_xfail(st, v);
		if (v == V_XFAIL) {
			char *m2 = xasprintf("expected failure (%s): %s", st->xfail, msg ? msg : "");

			free(msg);
			msg = m2;
		}
		run_result_add(res, "steps", st->name, v, now_mono() - t1, msg, output);
		stage_end(&e, v, st->name, now_mono() - t1, msg);
		free(msg);
		free(output);
		if (e.wait_re_set) {
			regfree(&e.wait_re);
			e.wait_re_set = false;
		}
		e.wait = W_NONE;
		classifier_progress(&e.cls, now_mono());
		last = p;
		/* what cannot go on: no machine, a panic, a hang, a wedged shell, a signal */
		if (p == P_EXITED || p == P_PANIC || p == P_INTERRUPTED || p == P_RUN_TIMEOUT ||
		    p == P_HANG || p == P_DEADLOCK || (p == P_TIMEOUT && st->type != STEP_WAIT && e.serial_busy &&
				    !have_ssh(&e)) ||
		    ((st->type == STEP_BOOT || st->type == STEP_REBOOT || st->type == STEP_KEXEC) &&
		     p != P_DONE))
			abort_rest = true;
		if (p == P_HANG || p == P_DEADLOCK || p == P_TIMEOUT || p == P_RUN_TIMEOUT)
			evidence = true;
		if (p == P_DEADLOCK && e.stalled) {
			/* how fast the verdict came: from the last progress (or the start) */
			char *secs = xasprintf("%.2f", e.stalled->stalled_at - e.stalled->last_progress);

			run_result_env(res, "deadlock_seconds_after_last_progress", secs);
			free(secs);
			secs = xasprintf("%.2f", e.stalled->last_progress - e.m.started);
			run_result_env(res, "last_progress_at", secs);
			free(secs);
		}
	}
	for (; i < sc->nr_steps; i++)
		run_result_add(res, "steps", sc->steps[i].name, V_NOTRUN, 0, "not reached", NULL);

	if (runproc_interrupted()) {
		res->verdict = V_INTERRUPTED;
		res->reason = xasprintf("interrupted by signal %d", runproc_interrupted());
	}
	/* the verdict first, so a wedged guest cannot cost it; evidence after */
	res->duration = now_mono() - e.t0;
	run_finish(res, opt->run_dir);
	if (evidence && last != P_INTERRUPTED && !runproc_interrupted()) {
		collect_evidence(&e);
		run_result_env(res, "evidence", "evidence/summary.txt");
	}

	/* teardown: QMP quit, SIGTERM, SIGKILL; then what the consoles still hold */
	{
		char n1[24], n2[24], nb[24];

		drain_consoles(&e, 0.2);
		snprintf(n1, sizeof(n1), "%zu", e.con[CON_NORMAL].lines);
		snprintf(n2, sizeof(n2), "%zu", e.con[CON_SECURE].lines);
		snprintf(nb, sizeof(nb), "%d", e.boot);
		run_result_env(res, "nw_console_lines", n1);
		run_result_env(res, "sw_console_lines", n2);
		run_result_env(res, "boots", nb);
	}
	engine_teardown(&e);
	res->duration = now_mono() - e.t0;
	results_write_all(res, opt->run_dir);
	strbuf_release(&append);
	return res->exit_code;
}

int run_shell(const struct lab_config *cfg, const struct lab_images *im,
	      const struct run_options *opt)
{
	static const struct scenario shell_sc = {
		.name = "shell", .network = true, .boot_timeout = 120, .step_timeout = 300,
		.run_timeout = 1e9, .hang_window = 0,
	};
	struct run_result res = RUN_RESULT_INIT;
	struct engine e = { .cfg = cfg, .sc = &shell_sc, .opt = opt, .dir = opt->run_dir,
			    .res = &res, .echo_fd = -1 };
	struct machine_spec spec = { 0 };
	struct strbuf append = STRBUF_INIT;
	struct termios saved, raw;
	bool is_tty = isatty(0);
	char *msg = NULL;
	enum pump_result p;
	int ret = TL_EXIT_PASS;

	engine_setup(&e, im, &spec, &append);
	e.hang_window = 0;	/* a person at the keyboard is not a hang */
	e.echo_fd = 1;
	fprintf(stderr, "teelab: booting; the secure world's console goes to %s/sw-console.log\n",
		opt->run_dir);
	e.tty = false;	/* the console itself is on the terminal: no progress line */
	stage_begin(&e, "boot");
	p = step_boot(&e, opt->boot_timeout > 0 ? opt->boot_timeout : shell_sc.boot_timeout, &msg);
	if (p != P_DONE) {
		char *why = msg ? msg : pump_reason(&e, p, shell_sc.boot_timeout);

		fprintf(stderr, "\nteelab: the lab did not boot: %s\n", why);
		free(why);
		engine_teardown(&e);
		strbuf_release(&append);
		run_result_release(&res);
		return p == P_TIMEOUT ? TL_EXIT_TIMEOUT : TL_EXIT_INFRA;
	}
	fprintf(stderr, "\nteelab: normal-world shell on the serial console; Ctrl-] leaves.\n");
	if (e.ssh)
		fprintf(stderr, "teelab: over SSH from another terminal: ssh -i %s -p %d "
			"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@%s\n",
			e.ssh_key, e.ssh_port, e.m.ssh_host);
	console_send(&e, "\n");
	if (is_tty && !tcgetattr(0, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	e.wait = W_EXIT;
	for (;;) {
		struct pollfd pfd = { 0, POLLIN, 0 };
		char buf[256];
		ssize_t n;
		char *esc;

		p = pump(&e, now_mono() + 0.05);
		if (p != P_TIMEOUT && p != P_PANIC)
			break;
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		n = read(0, buf, sizeof(buf) - 1);
		if (n <= 0)
			break;
		buf[n] = '\0';
		esc = memchr(buf, 0x1d, (size_t)n);	/* Ctrl-] */
		if (esc)
			*esc = '\0';
		if (*buf && console_send(&e, buf))
			break;
		if (esc)
			break;
	}
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
	if (p == P_EXITED)
		fprintf(stderr, "\nteelab: the machine stopped (QEMU status %d)\n", e.qemu_status);
	else if (p == P_INTERRUPTED)
		ret = TL_EXIT_INTERRUPTED;
	fprintf(stderr, "\nteelab: logs in %s\n", opt->run_dir);
	e.echo_fd = -1;
	engine_teardown(&e);
	strbuf_release(&append);
	run_result_release(&res);
	return ret;
}
