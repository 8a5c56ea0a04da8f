// SPDX-License-Identifier: MIT
/* consoles.c - both consoles: logs, boot segments, line history; see engine.h */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* Create (truncate) @dir/@name for appending: an fd, or -1 (reported, errno set). */
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
void engine_new_boot(struct engine *e, const char *how, const char *kernel, double requested)
{
	struct console *c = &e->con[CON_NORMAL];
	char *name;

	e->boot++;
	engine_console_flush(c);	/* the lines before belong to the old segment */
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
void engine_expect_boot(struct engine *e, const char *how, const char *kernel, const char *start)
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

	if (e->pending_how && strstr(line, "tl-kexec: kexec -e"))
		e->pending_requested = stamp;	/* the hop starts here, not at the command */
	/* its first line; at the latest the ready marker (an unexpected first line) */
	if (e->pending_how && (strstr(line, e->pending_start) || strstr(line, READY_MARKER)))
		engine_new_boot(e, e->pending_how, e->pending_kernel, e->pending_requested);
	b = run_result_cur_boot(e->res);
	if (!b || e->pending_how)
		return;
	boot_record_line(b, line, stamp - e->m.started);
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

/*
 * One write per log and engine_take_consoles(), not one per line: a boot
 * is ~800 lines, and a write a line was a tenth of teelab's CPU.
 */
void engine_console_flush(struct console *c)
{
	if (!c->pending.len)
		return;
	write_all(&c->log_fd, c->name, c->pending.buf, c->pending.len);
	write_all(&c->seg_fd, c->name, c->pending.buf, c->pending.len);
	strbuf_reset(&c->pending);
}

static void log_line(struct engine *e, struct console *c, const char *line, size_t len,
		     double stamp)
{
	strbuf_addf(&c->pending, "[%9.3f] ", stamp - e->m.started);
	strbuf_add(&c->pending, line, len);
	strbuf_addch(&c->pending, '\n');
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
void engine_take_consoles(struct engine *e)
{
	static const struct console_feed_ops ops = { .line = feed_line, .raw = feed_raw };
	unsigned eof;

	if (!e->feed)
		return;
	eof = console_feed_take(e->feed, &ops, e);
	for (int i = 0; i < CON_COUNT; i++) {
		engine_console_flush(&e->con[i]);
		if (eof & (1u << i))
			e->con[i].eof = true;
	}
}

/* Scan the history of the wait console from its cursor for the pattern. */
bool engine_scan_history(struct engine *e)
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

void engine_drain_consoles(struct engine *e, double secs)
{
	double deadline = now_mono() + secs;

	while (e->feed) {
		struct pollfd pfd = { console_feed_fd(e->feed), POLLIN, 0 };
		double left = deadline - now_mono();

		engine_take_consoles(e);
		if ((e->con[CON_NORMAL].eof && e->con[CON_SECURE].eof) || left <= 0)
			break;
		poll(&pfd, 1, (int)(left * 1000) + 1);
	}
}

/* Send raw bytes to the normal-world console (teelab's own fixed text). */
int engine_console_send(struct engine *e, const char *s)
{
	size_t len = strlen(s);
	double deadline = now_mono() + 5;

	while (len) {
		/* the FIFO QEMU reads, when the console is a pair of them */
		int fd = e->m.console_in_fd >= 0 ? e->m.console_in_fd : e->con[CON_NORMAL].fd;
		ssize_t n = write(fd, s, len);

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

/* The last @n lines of console @c. */
char *engine_console_tail(const struct console *c, int n)
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

void engine_consoles_open(struct engine *e)
{
	e->con[CON_NORMAL] = (struct console){ .name = "normal", .file = "nw-console", .fd = -1,
					       .seg_fd = -1 };
	e->con[CON_SECURE] = (struct console){ .name = "secure", .file = "sw-console", .fd = -1,
					       .seg_fd = -1 };
	e->con[CON_NORMAL].log_fd = open_log(e->dir, "nw-console.log");
	e->con[CON_SECURE].log_fd = open_log(e->dir, "sw-console.log");
}

void engine_consoles_close(struct engine *e)
{
	for (int k = 0; k < CON_COUNT; k++) {
		engine_console_flush(&e->con[k]);
		strbuf_release(&e->con[k].pending);
		if (e->con[k].log_fd >= 0)
			close(e->con[k].log_fd);
		if (e->con[k].seg_fd >= 0)
			close(e->con[k].seg_fd);
		e->con[k].log_fd = e->con[k].seg_fd = -1;
		strbuf_release(&e->con[k].history);
	}
}
