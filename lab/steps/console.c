// SPDX-License-Identifier: MIT
/*
 * console.c - the steps that read a console: expect (alias wait),
 * expect-not, assert. Patterns are POSIX extended regexes matched per
 * line. See README "Scenario format".
 */
#include "engine.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* The patterns of an `assert` without `absent`: OP-TEE panics and asserts. */
static const char *const default_absent[] = { "Panic at", "assertion .* failed" };

/* expect's `count`: a number of lines, 1..STEP_MAX_COUNT; 1 when not given. */
static int parse_count(const struct step_parse *p, struct scenario_step *st)
{
	const struct ynode *c = ynode_get(p->opts, "count");

	st->count = 1;
	return c ? step_get_count(p->doc, c, "count", STEP_MAX_COUNT, "", &st->count) : 0;
}

static int parse_wait(const struct step_parse *p, struct scenario_step *st)
{
	int ret = step_get_console(p->doc, p->opts, &st->console);

	if (!ret)
		ret = step_get_regex(p->doc, p->opts, "pattern", &st->pattern);
	if (!ret && !st->pattern)
		ret = ynode_error(p->doc, p->where, "missing 'pattern' in '%s' step", p->key);
	if (!ret && st->ops == &step_expect)
		ret = parse_count(p, st);
	if (ret || st->ops != &step_expect_not)
		return ret;
	if (!ynode_get(p->opts, "within"))
		return ynode_error(p->doc, p->where, "missing 'within' in 'expect-not' step");
	return step_get_seconds(p->doc, p->opts, "within", false, &st->within);
}

static void describe_wait(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %s: ", console_name(st->console));
	step_add_oneline(sb, st->pattern, (size_t)-1);
	if (st->count > 1)
		strbuf_addf(sb, " (%u lines)", st->count);
	if (st->ops == &step_expect_not)
		strbuf_addf(sb, " (%g s)", st->within);
}

/* Wait on st->console for st->pattern (the parser validated it). */
static enum outcome wait_pattern(struct engine *e, const struct scenario_step *st, double secs)
{
	if (e->wait_re_set) {	/* expect's next line of `count` */
		regfree(&e->wait_re);
		e->wait_re_set = false;
	}
	if (regcomp(&e->wait_re, st->pattern, REG_EXTENDED | REG_NOSUB))
		return O_EXITED;	/* validated by the parser: not reached */
	e->wait_re_set = true;
	e->wait = W_PATTERN;
	e->wait_con = st->console;
	return engine_pump(e, now_mono() + secs);
}

/*
 * expect: `count` lines (1 by default) matching the pattern, each read
 * after the previous one, all within the step's timeout.
 */
static enum outcome play_expect(struct engine *e, size_t n, const struct scenario_step *st,
				struct step_report *r)
{
	double deadline = now_mono() + r->timeout;
	unsigned want = st->count ? st->count : 1, got = 0;
	enum outcome o = O_DONE;

	(void)n;
	while (got < want) {
		o = wait_pattern(e, st, deadline - now_mono());
		if (o != O_DONE)
			break;
		got++;
	}
	if (want > 1 && o == O_TIMEOUT)
		r->msg = xasprintf("%u of %u matching lines within %.0f s", got, want, r->timeout);
	return o;
}

static const char *const wait_keys[] = { "console", "pattern", "timeout", "count", NULL };
static const char *const wait_aliases[] = { "wait", NULL };
const struct step_ops step_expect = {
	.name = "expect", .aliases = wait_aliases, .order = 20, .keys = wait_keys,
	.summary = "a line matching a pattern on one console within the timeout",
	.parse = parse_wait, .describe = describe_wait, .play = play_expect,
};

static enum outcome play_expect_not(struct engine *e, size_t n, const struct scenario_step *st,
				    struct step_report *r)
{
	enum outcome p;

	(void)n;
	r->timeout = st->within;
	e->con[st->console].cursor = e->con[st->console].history.len;	/* from now on */
	p = wait_pattern(e, st, st->within);
	if (p == O_DONE) {
		r->msg = xasprintf("matched within %.0f s: %s", st->within,
				   e->matched_line ? e->matched_line : "");
		return O_DONE;
	}
	return p == O_TIMEOUT ? O_DONE : p;
}

static const char *const expect_not_keys[] = { "console", "pattern", "within", NULL };
const struct step_ops step_expect_not = {
	.name = "expect-not", .order = 30, .keys = expect_not_keys,
	.summary = "no line matching a pattern on one console for `within` seconds",
	.parse = parse_wait, .describe = describe_wait, .play = play_expect_not,
};

static int parse_assert(const struct step_parse *p, struct scenario_step *st)
{
	const struct ynode *n = ynode_get(p->opts, "absent");
	int ret = 0;

	st->console = CON_SECURE;
	ret = step_get_console(p->doc, p->opts, &st->console);
	if (ret)
		return ret;
	if (!n) {
		st->absent = xcalloc(ARRAY_SIZE(default_absent) + 1, sizeof(*st->absent));
		for (size_t i = 0; i < ARRAY_SIZE(default_absent); i++)
			st->absent[i] = xstrdup(default_absent[i]);
		st->nr_absent = ARRAY_SIZE(default_absent);
		return 0;
	}
	ret = step_get_list(p->doc, n, "absent", &st->absent, &st->nr_absent);
	for (size_t i = 0; !ret && i < st->nr_absent; i++)
		ret = step_check_regex(p->doc, step_list_item(n, i), "absent", st->absent[i]);
	return ret;
}

static void describe_assert(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %s clean", console_name(st->console));
}

static enum outcome play_assert(struct engine *e, size_t n, const struct scenario_step *st,
				struct step_report *r)
{
	const struct console *c = &e->con[st->console];

	(void)n;
	for (size_t k = 0; k < st->nr_absent && !r->msg; k++) {
		char *line = NULL;

		if (engine_match_lines(strbuf_str(&c->history), st->absent[k], true, &line))
			r->msg = xasprintf("%s console: %s", c->name, line);
		free(line);
	}
	return O_DONE;
}

static const char *const assert_keys[] = { "console", "absent", NULL };
const struct step_ops step_assert = {
	.name = "assert", .order = 140, .keys = assert_keys,
	.summary = "no line matching any `absent` pattern on a console so far (default: OP-TEE panics)",
	.parse = parse_assert, .describe = describe_assert, .play = play_assert,
};
