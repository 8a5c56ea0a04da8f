// SPDX-License-Identifier: MIT
/*
 * run.c - the run engine: boot, then steps, driven by one poll() loop over
 * both consoles, the signal pipe and a deadline; see run.h.
 *
 * The guest side is teelab's /init (images/rootfs/overlay): it prints
 * "@@TL:READY@@" when the serial shell is up, and /usr/bin/tl-run frames a
 * command's output between "@@TL:BEGIN:<id>@@" and "@@TL:END:<id>:<rc>@@".
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "machine.h"
#include "runproc.h"
#include "xtest.h"

#define READY_MARKER "@@TL:READY@@"
#define OUTPUT_KEEP (256 * 1024)	/* bytes of a step's output kept in results */

/* What a console line can end: the thing the engine is waiting for. */
enum wait_kind { W_NONE, W_PATTERN, W_COMMAND, W_EXIT };

struct console {
	const char *name;	/* "normal" / "secure" */
	int fd;
	int log_fd;
	struct strbuf partial;	/* bytes after the last newline */
	struct strbuf history;	/* every line of this boot, without timestamps */
	size_t cursor;		/* `wait` steps match from here on */
	bool eof;
	size_t lines;
};

struct engine {
	const struct lab_config *cfg;
	const struct scenario *sc;
	const char *dir;
	struct machine m;
	struct console con[CON_COUNT];
	struct run_result *res;
	double t0;		/* run start (now_mono) */
	double run_deadline;
	bool tty;		/* progress on a terminal */
	double last_progress;
	const char *stage;	/* what is running, for the progress line */
	double stage_t0;
	/* the current wait */
	enum wait_kind wait;
	enum console_id wait_con;
	regex_t wait_re;
	bool wait_re_set;
	bool matched;
	int cmd_id;		/* W_COMMAND: id being waited for */
	bool cmd_begun;
	int cmd_rc;
	struct strbuf cmd_out;
	/* fatal events noticed on any line */
	char *panic;		/* "kernel panic: ..." / "OP-TEE panic: ..." */
	bool qemu_exited;
	int qemu_status;
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
		return TL_EXIT_FAIL;
	case V_TIMEOUT:
		return TL_EXIT_TIMEOUT;
	case V_INTERRUPTED:
		return TL_EXIT_INTERRUPTED;
	case V_ERROR:
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

	if (!e->tty || tl_quiet || (!force && now - e->last_progress < 0.25))
		return;
	e->last_progress = now;
	fprintf(stderr, "\r\033[K  %-60.60s %6.1f s  (run %.0f s, console %zu/%zu lines)",
		e->stage ? e->stage : "", now - e->stage_t0, now - e->t0,
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

static void log_line(struct engine *e, struct console *c, const char *line, size_t len)
{
	char ts[32];
	int n = snprintf(ts, sizeof(ts), "[%9.3f] ", now_mono() - e->m.started);

	if (c->log_fd >= 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_add(&sb, ts, (size_t)n);
		strbuf_add(&sb, line, len);
		strbuf_addch(&sb, '\n');
		if (write(c->log_fd, sb.buf, sb.len) < 0) {
			/* the run dir is gone or full: keep running, report once */
			close(c->log_fd);
			c->log_fd = -1;
			warning("cannot write the %s console log", c->name);
		}
		strbuf_release(&sb);
	}
}

static void check_fatal(struct engine *e, enum console_id id, const char *line)
{
	const char *p;

	if (e->panic)
		return;
	if (id == CON_NORMAL && (p = strstr(line, "Kernel panic - not syncing")))
		e->panic = xasprintf("kernel panic: %s", p);
	else if (id == CON_SECURE && ((p = strstr(line, "Panic at")) ||
				     ((p = strstr(line, "assertion")) && strstr(line, "failed"))))
		e->panic = xasprintf("OP-TEE panic: %s", p);
}

/* A full line (no newline, '\r' stripped) arrived on console @id. */
static void on_line(struct engine *e, enum console_id id, char *line)
{
	struct console *c = &e->con[id];
	size_t len = strlen(line);

	while (len && (line[len - 1] == '\r'))
		line[--len] = '\0';
	c->lines++;
	log_line(e, c, line, len);
	strbuf_add(&c->history, line, len);
	strbuf_addch(&c->history, '\n');
	check_fatal(e, id, line);

	if (e->wait == W_COMMAND && id == CON_NORMAL) {
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
			e->matched = true;
		} else if (e->cmd_begun) {
			strbuf_add(&e->cmd_out, line, len);
			strbuf_addch(&e->cmd_out, '\n');
		}
	}
}

/* Read what is available on console @id; returns false at EOF. */
static bool read_console(struct engine *e, enum console_id id)
{
	struct console *c = &e->con[id];
	char buf[16384];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	char *start, *nl;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		c->eof = true;
		if (c->partial.len) {
			char *rest = strbuf_detach(&c->partial);

			on_line(e, id, rest);
			free(rest);
		}
		return false;
	}
	strbuf_add(&c->partial, buf, (size_t)n);
	start = c->partial.buf;
	while ((nl = memchr(start, '\n', c->partial.len - (size_t)(start - c->partial.buf)))) {
		*nl = '\0';
		on_line(e, id, start);
		start = nl + 1;
	}
	if (start != c->partial.buf) {
		size_t rest = c->partial.len - (size_t)(start - c->partial.buf);

		memmove(c->partial.buf, start, rest);
		c->partial.len = rest;
		c->partial.buf[rest] = '\0';
	}
	return true;
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
		*nl = '\n';
		c->cursor = (size_t)(nl - c->history.buf) + 1;
		if (hit)
			return true;
	}
	return false;
}

enum pump_result { P_DONE, P_TIMEOUT, P_EXITED, P_INTERRUPTED, P_PANIC, P_RUN_TIMEOUT };

/*
 * Run the event loop until the current wait is satisfied, @deadline
 * passes, QEMU exits, a panic is seen or teelab is interrupted.
 */
static enum pump_result pump(struct engine *e, double deadline)
{
	int sigfd = runproc_signal_fd();

	for (;;) {
		struct pollfd pfd[CON_COUNT + 1];
		int nfd = 0, idx[CON_COUNT];
		double now = now_mono(), until = deadline;
		int timeout_ms;

		if (e->wait == W_PATTERN && scan_history(e))
			return P_DONE;
		if ((e->wait == W_COMMAND) && e->matched)
			return P_DONE;
		if (e->panic && e->wait != W_EXIT)
			return P_PANIC;
		if (runproc_interrupted())
			return P_INTERRUPTED;
		if (!e->qemu_exited && e->m.ops->exited(&e->m, &e->qemu_status)) {
			e->qemu_exited = true;
		}
		if (e->qemu_exited && (e->con[CON_NORMAL].eof || e->con[CON_NORMAL].fd < 0) &&
		    (e->con[CON_SECURE].eof || e->con[CON_SECURE].fd < 0))
			return P_EXITED;
		if (e->run_deadline < until)
			until = e->run_deadline;
		if (now >= until)
			return until == e->run_deadline && deadline > e->run_deadline
				? P_RUN_TIMEOUT : P_TIMEOUT;
		for (int i = 0; i < CON_COUNT; i++)
			if (!e->con[i].eof && e->con[i].fd >= 0) {
				pfd[nfd] = (struct pollfd){ e->con[i].fd, POLLIN, 0 };
				idx[nfd++] = i;
			}
		if (sigfd >= 0)
			pfd[nfd++] = (struct pollfd){ sigfd, POLLIN, 0 };
		timeout_ms = (int)((until - now) * 1000) + 1;
		if (timeout_ms > 200)
			timeout_ms = 200;	/* to notice QEMU's exit and refresh progress */
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
				read_console(e, (enum console_id)idx[i]);
			}
		}
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

/* ---- steps ---- */

static double step_timeout(const struct scenario_step *st,
			   double def)
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

static const char *pump_reason(struct engine *e, enum pump_result p, double timeout)
{
	static char buf[512];

	switch (p) {
	case P_DONE:
		return NULL;
	case P_TIMEOUT:
		snprintf(buf, sizeof(buf), "timed out after %.0f s", timeout);
		return buf;
	case P_RUN_TIMEOUT:
		return "the whole run timed out";
	case P_EXITED:
		snprintf(buf, sizeof(buf), "QEMU exited (status %d)", e->qemu_status);
		return buf;
	case P_INTERRUPTED:
		return "interrupted";
	case P_PANIC:
		snprintf(buf, sizeof(buf), "%s", e->panic);
		return buf;
	}
	return "?";
}

static enum verdict pump_verdict(enum pump_result p)
{
	switch (p) {
	case P_DONE:
		return V_PASS;
	case P_TIMEOUT:
	case P_RUN_TIMEOUT:
		return V_TIMEOUT;
	case P_EXITED:
		return V_ERROR;
	case P_INTERRUPTED:
		return V_INTERRUPTED;
	case P_PANIC:
		return V_FAIL;
	}
	return V_ERROR;
}

static enum pump_result step_boot(struct engine *e, double timeout)
{
	enum pump_result p;
	int ret;

	ret = e->m.ops->start(&e->m);
	if (ret) {
		e->qemu_exited = true;
		return P_EXITED;
	}
	for (int i = 0; i < CON_COUNT; i++)
		e->con[i].fd = e->m.console_fd[i];
	e->wait = W_PATTERN;
	e->wait_con = CON_NORMAL;
	regcomp(&e->wait_re, READY_MARKER, REG_NOSUB);
	e->wait_re_set = true;
	p = pump(e, now_mono() + timeout);
	/* `wait` steps after the boot see the whole boot log */
	e->con[CON_NORMAL].cursor = 0;
	return p;
}

static enum pump_result step_wait(struct engine *e, const struct scenario_step *st,
				  double timeout)
{
	if (regcomp(&e->wait_re, st->pattern, REG_EXTENDED | REG_NOSUB))
		return P_EXITED;	/* validated by the parser: not reached */
	e->wait_re_set = true;
	e->wait = W_PATTERN;
	e->wait_con = st->console;
	return pump(e, now_mono() + timeout);
}

static char *base64(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
	return out;
}

/* Run @command through tl-run; output in e->cmd_out, status in e->cmd_rc. */
static enum pump_result guest_command(struct engine *e, const char *command, double timeout)
{
	char *b64 = base64(command);
	char *line = xasprintf("tl-run %d %s\n", ++e->cmd_id, b64);
	enum pump_result p;

	free(b64);
	strbuf_reset(&e->cmd_out);
	e->matched = false;
	e->cmd_begun = false;
	e->cmd_rc = -1;
	e->wait = W_COMMAND;
	if (console_send(e, line)) {
		free(line);
		return P_EXITED;
	}
	free(line);
	p = pump(e, now_mono() + timeout);
	if (p == P_TIMEOUT) {
		/* interrupt the command (the shell has a controlling tty) */
		console_send(e, "\003");
		if (pump(e, now_mono() + 5) != P_DONE)
			e->cmd_rc = -1;	/* the shell did not answer: it is wedged */
		p = P_TIMEOUT;
	}
	e->wait = W_NONE;
	return p;
}

static bool output_matches(const char *pattern, const char *out)
{
	regex_t re;
	bool hit = false;
	char *copy, *save = NULL;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return false;
	copy = xstrdup(out);
	for (char *l = strtok_r(copy, "\n", &save); l && !hit; l = strtok_r(NULL, "\n", &save))
		hit = !regexec(&re, l, 0, NULL, 0);
	free(copy);
	regfree(&re);
	return hit;
}

static void save_step_output(struct engine *e, size_t n, const char *out)
{
	char *dir = path_join(e->dir, "steps");
	char *path = xasprintf("%s/%02zu-run.log", dir, n + 1);

	if (!mkdir_p(dir, 0755))
		write_file_str(path, out);
	free(dir);
	free(path);
}

/* A bounded tail of @s for results. */
static const char *tail(const char *s)
{
	size_t len = strlen(s);

	return len > OUTPUT_KEEP ? s + len - OUTPUT_KEEP : s;
}

static enum pump_result step_run(struct engine *e, size_t n, const struct scenario_step *st,
				 double timeout, enum verdict *v, char **msg)
{
	enum pump_result p = guest_command(e, st->command, timeout);
	const char *out = strbuf_str(&e->cmd_out);

	save_step_output(e, n, out);
	if (st->parser && !strcmp(st->parser, "xtest")) {
		struct xtest_report rep = XTEST_REPORT_INIT;

		xtest_parse(out, &rep);
		xtest_report_to_results(&rep, e->res);
		if (p == P_DONE && rep.have_summary && rep.cases_failed > 0)
			*msg = xasprintf("xtest: %ld of %ld test cases failed", rep.cases_failed,
					 rep.cases_total);
		else if (p == P_DONE && !rep.have_summary)
			*msg = xstrdup("xtest: no summary in the output (did it run?)");
		xtest_report_release(&rep);
	}
	if (p != P_DONE) {
		*v = pump_verdict(p);
		return p;
	}
	if (!*msg && e->cmd_rc != st->expect_exit)
		*msg = xasprintf("exit status %d, expected %d", e->cmd_rc, st->expect_exit);
	if (!*msg && st->expect_output && !output_matches(st->expect_output, out))
		*msg = xasprintf("no output line matches /%s/", st->expect_output);
	*v = *msg ? V_FAIL : V_PASS;
	return p;
}

static enum pump_result step_poweroff(struct engine *e, double timeout)
{
	/* PSCI SYSTEM_OFF through TF-A: QEMU exits by itself */
	e->wait = W_EXIT;
	if (console_send(e, "poweroff -f\n"))
		return P_EXITED;
	return pump(e, now_mono() + timeout);
}

/* ---- the run ---- */

static int open_log(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);

	if (fd < 0)
		error_errno("cannot create '%s'", p);
	free(p);
	return fd;
}

static void drain_consoles(struct engine *e, double secs)
{
	double deadline = now_mono() + secs;

	while (now_mono() < deadline) {
		bool open_any = false;

		for (int i = 0; i < CON_COUNT; i++) {
			struct pollfd pfd = { e->con[i].fd, POLLIN, 0 };

			if (e->con[i].fd < 0 || e->con[i].eof)
				continue;
			open_any = true;
			if (poll(&pfd, 1, 20) > 0)
				read_console(e, (enum console_id)i);
		}
		if (!open_any)
			break;
	}
	for (int i = 0; i < CON_COUNT; i++)
		if (e->con[i].partial.len) {
			char *rest = strbuf_detach(&e->con[i].partial);

			on_line(e, (enum console_id)i, rest);
			free(rest);
		}
}

static void add_environment(struct engine *e, const struct lab_images *im)
{
	struct utsname u;
	struct strbuf out = STRBUF_INIT;
	const char *argv[] = { e->cfg->machine.qemu, "--version", NULL };

	run_result_env(e->res, "profile", e->cfg->profile);
	run_result_env(e->res, "machine", e->cfg->machine.name);
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

/* Overall verdict: the worst step outcome, in a fixed order of severity. */
static void overall(struct run_result *res)
{
	static const enum verdict order[] = { V_INTERRUPTED, V_ERROR, V_TIMEOUT, V_FAIL, V_XPASS };

	if (res->verdict != V_PASS)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < res->nr_tests; i++)
			if (res->tests[i].verdict == order[k] && !strcmp(res->tests[i].group, "steps")) {
				res->verdict = order[k] == V_XPASS ? V_FAIL : order[k];
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

int run_finish(struct run_result *res, const char *dir)
{
	overall(res);
	res->exit_code = verdict_exit_code(res->verdict);
	results_write_all(res, dir);
	return res->exit_code;
}

int run_scenario(const struct lab_config *cfg, const struct lab_images *im,
		 const struct scenario *sc, const struct run_options *opt,
		 struct run_result *res)
{
	struct engine e = { .cfg = cfg, .sc = sc, .dir = opt->run_dir, .res = res };
	struct machine_spec spec = { 0 };
	struct strbuf append = STRBUF_INIT;
	double boot_to = opt->boot_timeout > 0 ? opt->boot_timeout : sc->boot_timeout;
	double step_to = opt->step_timeout > 0 ? opt->step_timeout : sc->step_timeout;
	double run_to = opt->run_timeout > 0 ? opt->run_timeout : sc->run_timeout;
	bool abort_rest = false;
	size_t i;

	e.t0 = now_mono();
	e.run_deadline = e.t0 + run_to;
	e.tty = isatty(2);
	e.con[CON_NORMAL] = (struct console){ .name = "normal", .fd = -1 };
	e.con[CON_SECURE] = (struct console){ .name = "secure", .fd = -1 };
	e.con[CON_NORMAL].log_fd = open_log(opt->run_dir, "nw-console.log");
	e.con[CON_SECURE].log_fd = open_log(opt->run_dir, "sw-console.log");
	add_environment(&e, im);

	/* panic=-1: a kernel panic reboots at once, and -no-reboot makes QEMU exit */
	strbuf_addstr(&append, "console=ttyAMA0 rdinit=/init panic=-1");
	if (cfg->kernel.cmdline)
		strbuf_addf(&append, " %s", cfg->kernel.cmdline);
	if (sc->cmdline_extra)
		strbuf_addf(&append, " %s", sc->cmdline_extra);
	run_result_env(res, "kernel_cmdline", strbuf_str(&append));
	spec.cfg = &cfg->machine;
	spec.bios = im->bios;
	spec.kernel = im->kernel;
	spec.initrd = im->initrd;
	spec.dtb = im->dtb;
	spec.append = strbuf_str(&append);
	spec.run_dir = opt->run_dir;
	machine_init(&e.m, &machine_qemu_ops, &spec);

	for (i = 0; i < sc->nr_steps && !abort_rest; i++) {
		const struct scenario_step *st = &sc->steps[i];
		enum pump_result p = P_DONE;
		enum verdict v = V_PASS;
		char *msg = NULL;
		double t1 = now_mono(), to = step_to;
		const char *output = NULL;

		stage_begin(&e, st->name);
		switch (st->type) {
		case STEP_BOOT:
			to = step_timeout(st, boot_to);
			p = step_boot(&e, to);
			if (p == P_EXITED && !e.m.priv)
				msg = xstrdup("QEMU did not start (see qemu.log)");
			v = pump_verdict(p);
			break;
		case STEP_WAIT:
			to = step_timeout(st, step_to);
			p = step_wait(&e, st, to);
			v = pump_verdict(p);
			break;
		case STEP_RUN:
			to = step_timeout(st, step_to);
			p = step_run(&e, i, st, to, &v, &msg);
			output = tail(strbuf_str(&e.cmd_out));
			break;
		case STEP_POWEROFF:
			to = step_timeout(st, 60);
			p = step_poweroff(&e, to);
			if (p == P_EXITED) {
				p = P_DONE;
				if (e.qemu_status)
					msg = xasprintf("QEMU exited with status %d", e.qemu_status);
			}
			v = msg ? V_FAIL : pump_verdict(p);
			break;
		}
		if (!msg && p != P_DONE)
			msg = xstrdup(pump_reason(&e, p, to));
		if (p == P_EXITED && !msg)
			msg = xstrdup("QEMU exited");
		v = apply_xfail(st, v);
		if (v == V_XFAIL && st->xfail) {
			char *m2 = xasprintf("expected failure (%s): %s", st->xfail, msg ? msg : "");

			free(msg);
			msg = m2;
		}
		run_result_add(res, "steps", st->name, v, now_mono() - t1, msg, output);
		stage_end(&e, v, st->name, now_mono() - t1, msg);
		free(msg);
		if (e.wait_re_set) {
			regfree(&e.wait_re);
			e.wait_re_set = false;
		}
		e.wait = W_NONE;
		/* what cannot go on: no machine, a panic, a wedged shell, a signal */
		if (p == P_EXITED || p == P_PANIC || p == P_INTERRUPTED || p == P_RUN_TIMEOUT ||
		    (p == P_TIMEOUT && st->type != STEP_WAIT && e.cmd_rc < 0) ||
		    (st->type == STEP_BOOT && p != P_DONE))
			abort_rest = true;
	}
	for (; i < sc->nr_steps; i++)
		run_result_add(res, "steps", sc->steps[i].name, V_NOTRUN, 0,
			       "not reached", NULL);

	/* teardown: QMP quit, SIGTERM, SIGKILL; then what the consoles still hold */
	stage_begin(&e, "stopping the machine");
	if (e.m.priv)
		e.m.ops->stop(&e.m, 2.0);
	drain_consoles(&e, 0.5);
	progress_clear(&e);

	if (runproc_interrupted()) {
		res->verdict = V_INTERRUPTED;
		res->reason = xasprintf("interrupted by signal %d", runproc_interrupted());
	}
	res->duration = now_mono() - e.t0;
	{
		char n1[24], n2[24];

		snprintf(n1, sizeof(n1), "%zu", e.con[CON_NORMAL].lines);
		snprintf(n2, sizeof(n2), "%zu", e.con[CON_SECURE].lines);
		run_result_env(res, "nw_console_lines", n1);
		run_result_env(res, "sw_console_lines", n2);
	}
	run_finish(res, opt->run_dir);

	machine_release(&e.m);
	for (int k = 0; k < CON_COUNT; k++) {
		if (e.con[k].log_fd >= 0)
			close(e.con[k].log_fd);
		strbuf_release(&e.con[k].partial);
		strbuf_release(&e.con[k].history);
	}
	strbuf_release(&e.cmd_out);
	strbuf_release(&append);
	free(e.panic);
	return res->exit_code;
}
