// SPDX-License-Identifier: MIT
/* classify.c - panics, kernel reports and progress from console lines; see classify.h */
#include "classify.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void classifier_init(struct classifier *c, double now)
{
	memset(c, 0, sizeof(*c));
	c->last_progress = now;
}

void classifier_release(struct classifier *c)
{
	free(c->event_line);
	c->event_line = NULL;
	classifier_clear_report(c);
	free(c->prev_rule);
	c->prev_rule = NULL;
}

/* Skip the kernel's "[    1.234567] " stamp so reprinted lines compare equal. */
static const char *strip_stamp(const char *line)
{
	const char *p = line;

	while (*p == ' ')
		p++;
	if (*p != '[')
		return line;
	p++;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return line;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (*p != ']')
		return line;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/*
 * A shell prompt the kernel's line was glued to: "<cwd> # " or "<cwd> $ "
 * followed by at least one CSI escape sequence (busybox ash asks the
 * terminal for the cursor position, "\033[6n", after its prompt). A
 * command line the shell echoes has text after the prompt, not an escape.
 */
static const char *skip_prompt(const char *line)
{
	const char *p = line + strcspn(line, " ");

	if (!*p || (p[1] != '#' && p[1] != '$') || p[2] != ' ' || p[3] != '\033')
		return line;
	p += 3;
	while (p[0] == '\033' && p[1] == '[') {
		p += 2;
		while (*p && !(*p >= 0x40 && *p <= 0x7e))	/* parameters up to the final byte */
			p++;
		if (!*p)
			return line;
		p++;
	}
	return p;
}

/*
 * @line without a shell prompt the kernel's line was glued to ("[ 1.2] / #
 * \033[6n[ 8.4] BUG: ..." -> "[ 8.4] BUG: ..."), or @line itself.
 */
static const char *unprompted(const char *line)
{
	const char *unstamped = strip_stamp(line), *p = skip_prompt(unstamped);

	return p != unstamped ? p : line;
}

/* Where a kernel report would start in @line: after stamp, prompt and stamp. */
static const char *report_body(const char *line)
{
	return strip_stamp(unprompted(line));
}

/* "<digits>" at @p followed by @then: the rest after it, or NULL. */
static const char *digits_then(const char *p, const char *then)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return starts_with(p, then) ? p + strlen(then) : NULL;
}

/* How a report ends (kernel_report.end). */
enum report_end {
	END_QUIET,	/* no end line: the quiet time or the line bound */
	END_RULE,	/* the next "=====" rule (it began after one) */
	END_TRACE,	/* "---[ end trace <n> ]---" */
	END_LINE,	/* its one line */
};

/* A "=====" rule (KASAN, KFENCE, UBSAN frame their reports with one). */
static bool is_rule(const char *body)
{
	size_t n = strspn(body, "=");

	return n >= 20 && !body[n];
}

static enum kreport_kind report_kind(const char *b, enum report_end *end)
{
	const char *p;

	*end = END_QUIET;
	if (starts_with(b, "BUG: KASAN: "))
		return KREPORT_KASAN;
	if (starts_with(b, "BUG: "))
		return KREPORT_BUG;
	if (starts_with(b, "kernel BUG at ")) {
		*end = END_TRACE;
		return KREPORT_BUG;
	}
	/* die(): "Internal error: <what>: <esr> [#<n>] ..." (a program's own words lack the count) */
	if (starts_with(b, "Unable to handle kernel ") ||
	    (starts_with(b, "Internal error: ") && (p = strstr(b, " [#")) && isdigit((unsigned char)p[3]))) {
		*end = END_TRACE;
		return KREPORT_OOPS;
	}
	if (starts_with(b, "WARNING: CPU: ") && (p = digits_then(b + 14, " PID: ")) &&
	    digits_then(p, " at ")) {
		*end = END_TRACE;
		return KREPORT_WARNING;
	}
	if (starts_with(b, "INFO: task ") && strstr(b, " blocked for more than "))
		return KREPORT_HUNG_TASK;
	if (starts_with(b, "kmemleak: ") && (p = digits_then(b + 10, " new suspected memory leak"))) {
		*end = END_LINE;
		return KREPORT_KMEMLEAK;
	}
	return KREPORT_NONE;
}

/*
 * Add @line to the report's block as printed, but without a shell prompt
 * the kernel's line was glued to (its printk stamp stays).
 */
static void report_add(struct kernel_report *r, const char *line, double now)
{
	strbuf_addstr(&r->text, unprompted(line));
	strbuf_addch(&r->text, '\n');
	r->lines++;
	r->last = now;
}

/* A normal-world line: start, continue or end the kernel report. */
static void note_report(struct classifier *c, const char *line, double now)
{
	struct kernel_report *r = &c->report;
	const char *body = report_body(line);
	enum report_end end;
	enum kreport_kind kind;

	if (r->kind == KREPORT_NONE) {
		kind = report_kind(body, &end);
		if (kind == KREPORT_NONE || (c->report_ignore & (1u << kind))) {
			free(c->prev_rule);
			c->prev_rule = is_rule(body) || strstr(body, "[ cut here ]") ? xstrdup(line) : NULL;
			return;
		}
		r->kind = kind;
		r->end = end == END_QUIET && c->prev_rule && is_rule(report_body(c->prev_rule))
			 ? END_RULE : end;
		r->line = xstrdup(body);
		r->at = now;
		if (c->prev_rule)
			report_add(r, c->prev_rule, now);
		report_add(r, line, now);
		r->complete = r->end == END_LINE;
		return;
	}
	if (r->complete)
		return;
	if (strstr(line, "@@TL:")) {	/* teelab's own marker: the guest's shell goes on */
		r->complete = true;
		return;
	}
	report_add(r, line, now);
	if ((r->end == END_RULE && is_rule(body)) ||
	    (r->end == END_TRACE && starts_with(body, "---[ end trace ")) ||
	    strstr(body, "Kernel panic - not syncing") ||
	    r->lines >= (r->end == END_QUIET ? KREPORT_MAX_LINES_OPEN : KREPORT_MAX_LINES) ||
	    r->text.len >= KREPORT_MAX_BYTES)
		r->complete = true;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_line(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool seen_recently(struct classifier *c, enum console_id con, uint64_t h)
{
	for (unsigned i = 0; i < c->ring_fill[con]; i++)
		if (c->ring[con][i] == h)
			return true;
	c->ring[con][c->ring_pos[con]] = h;
	c->ring_pos[con] = (c->ring_pos[con] + 1) % CLASSIFY_RING;
	if (c->ring_fill[con] < CLASSIFY_RING)
		c->ring_fill[con]++;
	return false;
}

static enum console_event detect(enum console_id con, const char *line)
{
	const char *a;

	if (con == CON_NORMAL)
		return strstr(line, "Kernel panic - not syncing") ? EV_KERNEL_PANIC : EV_NONE;
	if (strstr(line, "Panic at ") || strstr(line, "Panic '"))
		return EV_TEE_PANIC;
	a = strstr(line, "assertion '");
	if (a && strstr(a, "' failed at "))
		return EV_TEE_PANIC;
	return EV_NONE;
}

enum console_event classifier_line(struct classifier *c, enum console_id con,
				   const char *line, double now)
{
	const char *body = strip_stamp(line);
	enum console_event ev;

	if (*body && !seen_recently(c, con, hash_line(body))) {
		c->last_progress = now;
		c->novel_lines++;
	} else {
		c->repeated_lines++;
	}
	if (con == CON_NORMAL)
		note_report(c, line, now);
	ev = detect(con, line);
	if (ev == EV_NONE || c->event != EV_NONE)
		return EV_NONE;
	c->event = ev;
	c->event_line = xstrdup(body);
	return ev;
}

void classifier_progress(struct classifier *c, double now)
{
	c->last_progress = now;
}

bool classifier_hung(const struct classifier *c, double now, double window)
{
	return window > 0 && now - c->last_progress >= window;
}

void classifier_clear_event(struct classifier *c)
{
	c->event = EV_NONE;
	free(c->event_line);
	c->event_line = NULL;
}

bool classifier_report_pending(const struct classifier *c)
{
	return c->report.kind != KREPORT_NONE && !c->report.taken;
}

bool classifier_report_ready(const struct classifier *c, double now, double quiet)
{
	const struct kernel_report *r = &c->report;

	return classifier_report_pending(c) &&
	       ((r->complete && now - r->last >= KREPORT_SETTLE) || now - r->last >= quiet);
}

void classifier_clear_report(struct classifier *c)
{
	free(c->report.line);
	strbuf_release(&c->report.text);
	memset(&c->report, 0, sizeof(c->report));
}

static const char *const kreport_names[KREPORT_COUNT] = {
	[KREPORT_NONE] = "none",
	[KREPORT_KASAN] = "KASAN",
	[KREPORT_BUG] = "BUG",
	[KREPORT_OOPS] = "OOPS",
	[KREPORT_WARNING] = "WARNING",
	[KREPORT_HUNG_TASK] = "HUNG_TASK",
	[KREPORT_KMEMLEAK] = "KMEMLEAK",
};

const char *kreport_kind_name(enum kreport_kind k)
{
	return (unsigned)k < KREPORT_COUNT ? kreport_names[k] : "?";
}

enum kreport_kind kreport_kind_parse(const char *name)
{
	for (unsigned k = KREPORT_NONE + 1; name && k < KREPORT_COUNT; k++)
		if (!strcmp(name, kreport_names[k]))
			return (enum kreport_kind)k;
	return KREPORT_NONE;
}

const char *console_event_name(enum console_event e)
{
	switch (e) {
	case EV_NONE:
		return "none";
	case EV_KERNEL_PANIC:
		return "kernel panic";
	case EV_TEE_PANIC:
		return "OP-TEE panic";
	}
	return "?";
}
