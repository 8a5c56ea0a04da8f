// SPDX-License-Identifier: MIT
/* xtest.c - parse OP-TEE xtest console output into per-case results */
#include "xtest.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/*
 * What optee_test's ADBG framework prints (host/xtest/adbg/src/adbg_case.c,
 * adbg_run.c, adbg_expect.c, host/xtest/xtest_main.c), one line each:
 *
 *   " "                                   before every case
 *   "* regression_1004 Test User Crypt TA"  case start (title may be empty)
 *   "o regression_1004.1 AES encrypt"     subcase start (any depth)
 *   "file.c:123: expr has an unexpected value: 0x1, expected 0x0"
 *   "  regression_1004.1 OK"              subcase / case end: OK or FAILED
 *   "  regression_1004 FAILED"
 *   "Test suite aborted by regression_1004!"
 *   "+-----------------------------------------------------"
 *   "Result of testsuite regression:"     (or '... filtered by "1004":')
 *   "regression_1004.2 FAILED first error at file.c:123"
 *   "regression_1004 FAILED"  /  "regression_1006 OK"
 *   "regression_1006 SKIPPED: \"reason\""  (old ADBG versions only)
 *   "+-----------------------------------------------------"
 *   "Test suite was ABORTED"
 *   "12 subtests of which 1 failed"
 *   "2 test cases of which 1 failed"
 *   "150 test cases were skipped"         ("1 test case was skipped")
 *   "TEE test application done!"
 *
 * The console adds '\r', ANSI escapes and kernel log lines ("[   12.3] ..."),
 * which may land in the middle of an xtest line: the text before the
 * timestamp is kept and joined with the next non-kernel line.
 */

#define FIRST_ERROR_AT " first error at "
#define OUTPUT_MAX (16 * 1024)
#define OUTPUT_HEAD (4 * 1024)

/* Parser-only state of one case, parallel to rep->cases. */
struct case_state {
	bool has_verdict;
	char *summary_line;	/* "<id>[.N] FAILED first error at ..." */
	char *first_failed_sub;	/* "<id>.N" of the first failed subcase */
	char *detail;		/* first "file.c:N: ..." assertion line */
	char *skip_reason;
	bool ended;		/* the summary began before its verdict */
	struct strbuf out;
};

struct parser {
	struct xtest_report *rep;
	struct case_state *st;	/* rep->nr entries */
	size_t alloc;
	ssize_t cur;		/* index of the last started case, -1 if none */
	bool in_summary;
	/* out.len of the running case before a "+-----" line, or -1 */
	ssize_t rule_at;
	struct strbuf pending;	/* xtest text cut by a kernel log line */
};

/* ---- small lexing helpers ---- */

static bool is_id_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/*
 * Length of a test id at @s ("regression_1004", "pkcs11_1001.2.1"): a
 * letter, then letters, digits and '_', a '_' somewhere before the first
 * '.', optional ".N" parts. 0 if @s does not start with one.
 */
static size_t id_len(const char *s)
{
	size_t n = 0;
	bool underscore = false;
	bool dot = false;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (is_id_char(s[n])) {
		if (s[n] == '_' && !dot)
			underscore = true;
		if (s[n] == '.') {
			if (!underscore || !isdigit((unsigned char)s[n + 1]))
				return 0;
			dot = true;
		}
		n++;
	}
	return underscore ? n : 0;
}

/* Parse a "(1.234 s)" timing suffix anywhere in @s; 0 if none. */
static double parse_timing(const char *s)
{
	const char *p = strchr(s, '(');

	for (; p; p = strchr(p + 1, '(')) {
		char *end = NULL;
		double d = strtod(p + 1, &end);

		if (end != p + 1 && starts_with(end, " s)") && d >= 0)
			return d;
	}
	return 0;
}

/*
 * A verdict line: "<id> OK", "<id> FAILED[ ...]", "<id> SKIPPED[: ...]".
 * On success *id is a new string, *rest points past the verdict word.
 */
static bool parse_verdict_line(const char *s, char **id, enum verdict *v,
			       const char **rest)
{
	size_t n = id_len(s);
	const char *w = s + n;
	static const struct {
		const char *word;
		enum verdict v;
	} words[] = {
		{ "OK", V_PASS },
		{ "FAILED", V_FAIL },
		{ "SKIPPED", V_SKIP },
	};

	if (!n || *w != ' ')
		return false;
	w++;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t wl = strlen(words[i].word);

		if (strncmp(w, words[i].word, wl))
			continue;
		if (w[wl] && w[wl] != ' ' && w[wl] != ':')
			continue;
		/* "OK" must end the line, timing apart */
		if (words[i].v == V_PASS && w[wl] && w[wl + 1] != '(')
			continue;
		*id = xstrndup(s, n);
		*v = words[i].v;
		*rest = w + wl;
		return true;
	}
	return false;
}

/* "N subtest[s] of which M failed" style lines. */
static bool parse_count_line(const char *s, const char *noun, long *total,
			     long *failed)
{
	char *end = NULL;
	long a = strtol(s, &end, 10);
	size_t nl = strlen(noun);

	if (end == s || *end != ' ' || strncmp(end + 1, noun, nl))
		return false;
	end += 1 + nl;
	if (*end == 's')
		end++;
	if (!starts_with(end, " of which "))
		return false;
	s = end + strlen(" of which ");
	*failed = strtol(s, &end, 10);
	if (end == s || strcmp(end, " failed"))
		return false;
	*total = a;
	return true;
}

/* "N test case[s] was|were skipped" */
static bool parse_skipped_line(const char *s, long *skipped)
{
	char *end = NULL;
	long a = strtol(s, &end, 10);

	if (end == s || !starts_with(end, " test case"))
		return false;
	end += strlen(" test case");
	if (*end == 's')
		end++;
	if (strcmp(end, " was skipped") && strcmp(end, " were skipped"))
		return false;
	*skipped = a;
	return true;
}

/* An ADBG assertion message: "<file with a dot>:<line>: ..." */
static bool is_assert_line(const char *s)
{
	const char *c = strchr(s, ':');
	const char *p = NULL;

	if (!c || c == s || !memchr(s, '.', (size_t)(c - s)) ||
	    memchr(s, ' ', (size_t)(c - s)))
		return false;
	p = c + 1;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return p[0] == ':' && p[1] == ' ';
}

/*
 * Offset of a kernel log timestamp "[ <digits>.<digits>]" in @s, or -1.
 */
static ssize_t find_kernel_stamp(const char *s)
{
	for (const char *p = strchr(s, '['); p; p = strchr(p + 1, '[')) {
		const char *q = p + 1;

		while (*q == ' ')
			q++;
		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q++ != '.' || !isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == ']')
			return p - s;
	}
	return -1;
}

/*
 * Copy one raw console line into @sb without '\r', ANSI escape sequences
 * and other control characters (tabs are kept).
 */
static void clean_line(struct strbuf *sb, const char *s, size_t len)
{
	size_t i = 0;

	strbuf_reset(sb);
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			i++;
			if (i < len && s[i] == '[') {
				/* CSI: parameters, intermediates, final byte */
				i++;
				while (i < len && (unsigned char)s[i] >= 0x20 &&
				       (unsigned char)s[i] <= 0x3f)
					i++;
				if (i < len && (unsigned char)s[i] >= 0x40 &&
				    (unsigned char)s[i] <= 0x7e)
					i++;
			} else if (i < len && s[i] == ']') {
				/* OSC: up to BEL or ESC \ */
				while (i < len && s[i] != '\a' && s[i] != 0x1b)
					i++;
				if (i < len && s[i] == '\a')
					i++;
				else if (i + 1 < len && s[i + 1] == '\\')
					i += 2;
			} else {
				/* intermediates, then one final byte */
				while (i < len && (unsigned char)s[i] >= 0x20 &&
				       (unsigned char)s[i] <= 0x2f)
					i++;
				if (i < len && (unsigned char)s[i] >= 0x30 &&
				    (unsigned char)s[i] <= 0x7e)
					i++;
			}
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			i++;
			continue;
		}
		strbuf_addch(sb, (char)c);
		i++;
	}
	/* trailing blanks carry nothing and break end-of-line matches */
	while (sb->len && isspace((unsigned char)sb->buf[sb->len - 1]))
		sb->buf[--sb->len] = '\0';
}

/* ---- cases ---- */

/* The index of the case @id (@len bytes) in the report, newest first, or -1. */
static ssize_t find_case(const struct parser *p, const char *id, size_t len)
{
	for (size_t i = p->rep->nr; i-- > 0;) {
		const char *cid = p->rep->cases[i].id;

		if (strlen(cid) == len && !strncmp(cid, id, len))
			return (ssize_t)i;
	}
	return -1;
}

static size_t new_case(struct parser *p, const char *id, const char *title)
{
	struct xtest_report *rep = p->rep;
	struct xtest_case *c = NULL;
	size_t i = rep->nr;

	if (rep->nr == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 16;
		rep->cases = xrealloc(rep->cases, p->alloc * sizeof(*rep->cases));
		p->st = xrealloc(p->st, p->alloc * sizeof(*p->st));
	}
	c = &rep->cases[i];
	memset(c, 0, sizeof(*c));
	c->id = xstrdup(id);
	c->title = xstrdup(title);
	c->verdict = V_ERROR;
	memset(&p->st[i], 0, sizeof(p->st[i]));	/* out: STRBUF_INIT */
	rep->nr++;
	return i;
}

static bool case_open(const struct parser *p)
{
	return p->cur >= 0 && !p->st[p->cur].has_verdict &&
	       !p->st[p->cur].ended;
}

static void add_output(struct parser *p, size_t i, const char *line)
{
	strbuf_addstr(&p->st[i].out, line);
	strbuf_addch(&p->st[i].out, '\n');
}

static void set_str_once(char **dst, const char *s)
{
	if (!*dst)
		*dst = xstrdup(s);
}

/* The reason in what follows "SKIPPED": ': "reason"' */
static void set_skip_reason(struct case_state *st, const char *rest)
{
	while (*rest == ':' || *rest == ' ' || *rest == '"')
		rest++;
	free(st->skip_reason);
	st->skip_reason = xstrndup(rest, strlen(rest) -
				   (ends_with(rest, "\"") ? 1 : 0));
}

/* ---- line handlers ---- */

static bool handle_start(struct parser *p, const char *s)
{
	size_t n = 0;
	char *id = NULL;

	if (s[0] != '*' || s[1] != ' ')
		return false;
	s += 2;
	n = id_len(s);
	if (!n || memchr(s, '.', n) || (s[n] && s[n] != ' '))
		return false;
	id = xstrndup(s, n);
	s += n;
	while (*s == ' ')
		s++;
	p->cur = (ssize_t)new_case(p, id, s);
	p->in_summary = false;
	p->rule_at = -1;
	free(id);
	return true;
}

static void summary_verdict(struct parser *p, const char *line, const char *id,
			    enum verdict v, const char *rest)
{
	const char *dot = strchr(id, '.');
	size_t toplen = dot ? (size_t)(dot - id) : strlen(id);
	ssize_t i = find_case(p, id, toplen);
	struct case_state *st = NULL;

	if (i < 0) {
		/* the case's own lines were lost; the summary still counts */
		char *top = xstrndup(id, toplen);

		i = (ssize_t)new_case(p, top, "");
		free(top);
	}
	st = &p->st[i];
	if (dot) {
		if (v == V_FAIL) {
			set_str_once(&st->summary_line, line);
			set_str_once(&st->first_failed_sub, id);
		}
		return;
	}
	if (v == V_FAIL && strstr(rest, FIRST_ERROR_AT))
		set_str_once(&st->summary_line, line);
	if (v == V_SKIP)
		set_skip_reason(st, rest);
	if (!st->has_verdict || v == V_SKIP) {
		p->rep->cases[i].verdict = v;
		st->has_verdict = true;
		if (!st->out.len)
			add_output(p, (size_t)i, line);
	}
}

static void handle_summary_line(struct parser *p, const char *s)
{
	char *id = NULL;
	enum verdict v = V_ERROR;
	const char *rest = NULL;

	if (parse_verdict_line(s, &id, &v, &rest))
		summary_verdict(p, s, id, v, rest);
	free(id);
}

static void handle_run_verdict(struct parser *p, const char *line,
			       const char *id, enum verdict v, const char *rest)
{
	struct xtest_case *c = &p->rep->cases[p->cur];
	struct case_state *st = &p->st[p->cur];
	size_t cl = strlen(c->id);

	if (!strcmp(id, c->id)) {
		add_output(p, (size_t)p->cur, line);
		c->verdict = v;
		c->duration = parse_timing(rest);
		st->has_verdict = true;
		if (v == V_SKIP)
			set_skip_reason(st, rest);
		return;
	}
	add_output(p, (size_t)p->cur, line);
	if (!strncmp(id, c->id, cl) && id[cl] == '.' && v == V_FAIL) {
		c->nr_subcases_failed++;
		set_str_once(&st->first_failed_sub, id);
	}
}

static void handle_line(struct parser *p, const char *line)
{
	const char *s = line;
	char *id = NULL;
	enum verdict v = V_ERROR;
	const char *rest = NULL;
	long a = 0, b = 0;

	while (*s == ' ' || *s == '\t')
		s++;

	if (handle_start(p, s)) {
		add_output(p, (size_t)p->cur, line);
		return;
	}
	if (!strcmp(s, "TEE test application done!")) {
		p->rep->finished = true;
		return;
	}
	if (!case_open(p)) {
		if (parse_count_line(s, "subtest", &a, &b)) {
			p->rep->subtests = a;
			p->rep->subtests_failed = b;
			return;
		}
		if (parse_count_line(s, "test case", &a, &b)) {
			p->rep->cases_total = a;
			p->rep->cases_failed = b;
			p->rep->have_summary = true;
			return;
		}
		if (parse_skipped_line(s, &b)) {
			p->rep->cases_skipped = b;
			return;
		}
		if (!strcmp(s, "Test suite was ABORTED")) {
			p->rep->aborted = true;
			return;
		}
		if (starts_with(s, "+-----")) {
			p->in_summary = true;
			return;
		}
		if (starts_with(s, "Test suite aborted by ")) {
			p->rep->aborted = true;
			return;
		}
		if (p->in_summary)
			handle_summary_line(p, s);
		return;
	}

	/* inside a running case */
	if (p->rule_at >= 0 && starts_with(s, "Result of testsuite ")) {
		/* the summary: this case's verdict line was lost */
		struct case_state *st = &p->st[p->cur];

		st->out.len = (size_t)p->rule_at;
		st->out.buf[st->out.len] = '\0';
		st->ended = true;
		p->in_summary = true;
		p->rule_at = -1;
		return;
	}
	p->rule_at = -1;
	if (starts_with(s, "+-----"))
		p->rule_at = (ssize_t)p->st[p->cur].out.len;
	if (parse_verdict_line(s, &id, &v, &rest)) {
		handle_run_verdict(p, line, id, v, rest);
		free(id);
		return;
	}
	add_output(p, (size_t)p->cur, line);
	if (s[0] == 'o' && s[1] == ' ' && id_len(s + 2) &&
	    starts_with(s + 2, p->rep->cases[p->cur].id))
		p->rep->cases[p->cur].nr_subcases++;
	else if (is_assert_line(s))
		set_str_once(&p->st[p->cur].detail, s);
}

/* A kernel log line: part of the running case's output, nothing more. */
static void handle_kernel_line(struct parser *p, const char *s)
{
	if (case_open(p))
		add_output(p, (size_t)p->cur, s);
}

static void feed_line(struct parser *p, const char *line)
{
	ssize_t k = find_kernel_stamp(line);

	if (k >= 0) {
		/* "[   12.345678] msg", possibly after an xtest fragment */
		strbuf_add(&p->pending, line, (size_t)k);
		handle_kernel_line(p, line + k);
		return;
	}
	if (p->pending.len) {
		strbuf_addstr(&p->pending, line);
		handle_line(p, p->pending.buf);
		strbuf_reset(&p->pending);
		return;
	}
	handle_line(p, line);
}

/* ---- finishing ---- */

/* @detail without a leading "file:line: " that @summary already names. */
static const char *strip_known_location(const char *summary, const char *detail)
{
	const char *at = summary ? strstr(summary, FIRST_ERROR_AT) : NULL;
	size_t n = 0;

	if (!at)
		return detail;
	at += strlen(FIRST_ERROR_AT);
	n = strlen(at);
	if (!strncmp(detail, at, n) && detail[n] == ':') {
		detail += n + 1;
		while (*detail == ' ')
			detail++;
	}
	return detail;
}

static char *fail_message(const struct xtest_case *c,
			  const struct case_state *st)
{
	struct strbuf sb = STRBUF_INIT;

	if (st->summary_line)
		strbuf_addstr(&sb, st->summary_line);
	else if (st->first_failed_sub)
		strbuf_addf(&sb, "%s FAILED", st->first_failed_sub);
	else
		strbuf_addf(&sb, "%s FAILED", c->id);
	if (st->detail) {
		strbuf_addstr(&sb, ": ");
		strbuf_addstr(&sb, strip_known_location(st->summary_line,
							st->detail));
	}
	return strbuf_detach(&sb);
}

static void finish_case(struct xtest_case *c, struct case_state *st)
{
	if (!st->has_verdict) {
		c->verdict = V_ERROR;
		c->message = xstrdup("no verdict (xtest did not finish)");
	} else if (c->verdict == V_FAIL) {
		c->message = fail_message(c, st);
	} else if (c->verdict == V_SKIP) {
		c->message = xstrdup(st->skip_reason ? st->skip_reason : "skipped");
	}
	c->output = strbuf_detach(&st->out);
	free(st->summary_line);
	free(st->first_failed_sub);
	free(st->detail);
	free(st->skip_reason);
}

void xtest_parse(const char *text, struct xtest_report *rep)
{
	struct parser p = { rep, NULL, 0, -1, false, -1, STRBUF_INIT };
	struct strbuf line = STRBUF_INIT;
	const char *s = text ? text : "";

	memset(rep, 0, sizeof(*rep));
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		clean_line(&line, s, len);
		feed_line(&p, strbuf_str(&line));
		s += len + (nl ? 1 : 0);
	}
	if (p.pending.len)
		handle_line(&p, p.pending.buf);
	for (size_t i = 0; i < rep->nr; i++)
		finish_case(&rep->cases[i], &p.st[i]);
	free(p.st);
	strbuf_release(&p.pending);
	strbuf_release(&line);
}

void xtest_report_release(struct xtest_report *rep)
{
	for (size_t i = 0; i < rep->nr; i++) {
		free(rep->cases[i].id);
		free(rep->cases[i].title);
		free(rep->cases[i].output);
		free(rep->cases[i].message);
	}
	free(rep->cases);
	memset(rep, 0, sizeof(*rep));
}

/* Keep the head and the tail of a long case output. */
static char *bounded_output(const char *out)
{
	size_t len = strlen(out);
	size_t head = OUTPUT_HEAD;
	size_t tail = 0;
	struct strbuf sb = STRBUF_INIT;

	if (len <= OUTPUT_MAX)
		return xstrdup(out);
	/* cut on line boundaries where one is near */
	while (head > OUTPUT_HEAD / 2 && out[head - 1] != '\n')
		head--;
	if (out[head - 1] != '\n')
		head = OUTPUT_HEAD;
	tail = len - (OUTPUT_MAX - OUTPUT_HEAD - 64);
	for (size_t t = tail; t < len && t < tail + 512; t++) {
		if (out[t - 1] == '\n') {
			tail = t;
			break;
		}
	}
	/* never split a UTF-8 sequence */
	while (head > 0 && ((unsigned char)out[head] & 0xc0) == 0x80)
		head--;
	while (tail < len && ((unsigned char)out[tail] & 0xc0) == 0x80)
		tail++;
	strbuf_add(&sb, out, head);
	strbuf_addf(&sb, "[... %zu bytes elided ...]\n", tail - head);
	strbuf_addstr(&sb, out + tail);
	return strbuf_detach(&sb);
}

void xtest_report_to_results(const struct xtest_report *rep,
			     struct run_result *r)
{
	for (size_t i = 0; i < rep->nr; i++) {
		const struct xtest_case *c = &rep->cases[i];
		const char *us = strchr(c->id, '_');
		size_t sl = us ? (size_t)(us - c->id) : strlen(c->id);
		char *group = xasprintf("xtest.%.*s", (int)sl, c->id);
		char *out = c->output ? bounded_output(c->output) : NULL;

		run_result_add(r, group, c->id, c->verdict, c->duration,
			       c->message, out);
		free(out);
		free(group);
	}
}

size_t xtest_apply_known(struct xtest_report *rep, const struct known_failure *known, size_t nr)
{
	size_t xpass = 0;

	for (size_t i = 0; i < rep->nr; i++) {
		struct xtest_case *c = &rep->cases[i];
		const struct known_failure *k = NULL;
		char *m = NULL;

		for (size_t j = 0; j < nr && !k; j++)
			if (!strcmp(known[j].id, c->id))
				k = &known[j];
		if (!k)
			continue;
		if (c->verdict == V_FAIL) {
			m = xasprintf("known failure: %s%s%s%s", k->reason, k->link ? " (" : "",
				      k->link ? k->link : "", k->link ? ")" : "");
			if (c->message) {
				char *m2 = xasprintf("%s: %s", m, c->message);

				free(m);
				m = m2;
			}
			c->verdict = V_XFAIL;
			if (rep->cases_failed > 0)
				rep->cases_failed--;
		} else if (c->verdict == V_PASS) {
			m = xasprintf("listed as a known failure (%s) but passed: drop it from the list",
				      k->reason);
			c->verdict = V_XPASS;
			xpass++;
		}
		if (m) {
			free(c->message);
			c->message = m;
		}
	}
	return xpass;
}
