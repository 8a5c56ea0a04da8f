// SPDX-License-Identifier: MIT
/* scenario.c - see scenario.h */
#include "scenario.h"

#include "config.h"
#include "util.h"
#include "yamltree.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BOOT_TIMEOUT 120.0
#define DEFAULT_STEP_TIMEOUT 300.0
#define DEFAULT_RUN_TIMEOUT 1800.0
#define DEFAULT_HANG_WINDOW 60.0
#define DEFAULT_COPIES 2
/* Generated "run <command>" names show at most this much of the command. */
#define NAME_COMMAND_MAX 60

static const char *const scenario_keys[] = {
	"name", "description", "profile", "kernel-cmdline", "network",
	"timeouts", "steps", "params", "expect", "cells", "default-cell", NULL
};
static const char *const cell_keys[] = {
	"description", "kernel", "secure", "optee-flags", "params", "expect", NULL
};
/* Verdicts a scenario or cell may expect (results.h names). */
static const char *const expectable[] = {
	"PASS", "FAIL", "DEADLOCK", "HANG", "TIMEOUT", "KERNEL_PANIC", "TEE_PANIC", NULL
};
#define PARAM_VALUE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:/=+-"
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
static const char *const timeouts_keys[] = {
	"boot", "step", "run", "hang", NULL
};
/* A step map: its type key plus the keys common to every step. */
static const char *const step_keys[] = {
	"boot", "expect", "wait", "expect-not", "run", "background", "join",
	"kill", "parallel", "collect", "reboot", "kexec", "sysrq", "assert",
	"poweroff", "measure", "repeat", "name", "xfail", NULL
};
/* Seconds without a progress line before a background command is stalled. */
#define DEFAULT_STALL 20

/* Options of each step type ("name" and "xfail" are accepted there too). */
static const char *const boot_keys[] = { "timeout", "name", "xfail", NULL };
static const char *const wait_keys[] = {
	"console", "pattern", "timeout", "name", "xfail", NULL
};
static const char *const expect_not_keys[] = {
	"console", "pattern", "within", "name", "xfail", NULL
};
static const char *const run_keys[] = {
	"command", "expect-exit", "expect-output", "parser", "timeout",
	"channel", "name", "xfail", NULL
};
static const char *const background_keys[] = {
	"id", "command", "channel", "progress", "stall", "name", "xfail", NULL
};
static const char *const join_keys[] = {
	"id", "timeout", "expect-exit", "expect-output", "parser",
	"name", "xfail", NULL
};
static const char *const kill_keys[] = { "id", "name", "xfail", NULL };
static const char *const parallel_keys[] = {
	"command", "copies", "expect-exit", "expect-output", "timeout",
	"channel", "name", "xfail", NULL
};
static const char *const collect_keys[] = {
	"paths", "channel", "name", "xfail", NULL
};
static const char *const reboot_keys[] = { "timeout", "name", "xfail", NULL };
static const char *const kexec_keys[] = {
	"kernel", "initrd", "cmdline", "no-load", "to", "crash", "timeout", "name", "xfail",
	NULL
};
static const char *const sysrq_keys[] = {
	"key", "channel", "kdump", "timeout", "name", "xfail", NULL
};
static const char *const repeat_keys[] = { "times", "steps", "name", "xfail", NULL };
#define MAX_REPEAT 1000
static const char *const assert_keys[] = {
	"console", "absent", "name", "xfail", NULL
};
static const char *const poweroff_keys[] = { "timeout", "name", "xfail", NULL };
static const char *const measure_keys[] = {
	"metric", "command", "channel", "console", "pattern", "min", "max",
	"at-least", "timeout", "name", "xfail", NULL
};

/* What a step type key may map to besides nothing and a mapping. */
#define FORM_SCALAR 1u	/* a shorthand string: "run: ls", "join: srv" */
#define FORM_SEQ 2u	/* a shorthand list: "collect: [/a, /b]" */

struct step_kind {
	const char *name;
	enum step_type type;
	const char *const *keys;
	unsigned forms;		/* FORM_* */
	bool alias;		/* another name for an earlier kind */
};

/* The first kind of each type names it (step_type_name()). */
static const struct step_kind step_kinds[] = {
	{ "boot", STEP_BOOT, boot_keys, 0, false },
	{ "expect", STEP_WAIT, wait_keys, 0, false },
	{ "wait", STEP_WAIT, wait_keys, 0, true },
	{ "expect-not", STEP_EXPECT_NOT, expect_not_keys, 0, false },
	{ "run", STEP_RUN, run_keys, FORM_SCALAR, false },
	{ "background", STEP_BACKGROUND, background_keys, 0, false },
	{ "join", STEP_JOIN, join_keys, FORM_SCALAR, false },
	{ "kill", STEP_KILL, kill_keys, FORM_SCALAR, false },
	{ "parallel", STEP_PARALLEL, parallel_keys, 0, false },
	{ "collect", STEP_COLLECT, collect_keys, FORM_SCALAR | FORM_SEQ, false },
	{ "reboot", STEP_REBOOT, reboot_keys, 0, false },
	{ "kexec", STEP_KEXEC, kexec_keys, 0, false },
	{ "sysrq", STEP_SYSRQ, sysrq_keys, FORM_SCALAR, false },
	{ "assert", STEP_ASSERT, assert_keys, 0, false },
	{ "poweroff", STEP_POWEROFF, poweroff_keys, 0, false },
	{ "measure", STEP_MEASURE, measure_keys, 0, false },
	{ "repeat", STEP_REPEAT, repeat_keys, 0, false },
};

/* The patterns of an `assert` without `absent`: OP-TEE panics and asserts. */
static const char *const default_absent[] = { "Panic at", "assertion .* failed" };

const char *step_type_name(enum step_type t)
{
	for (size_t i = 0; i < ARRAY_SIZE(step_kinds); i++)
		if (step_kinds[i].type == t)
			return step_kinds[i].name;
	return "unknown";
}

const char *console_name(enum console_id c)
{
	switch (c) {
	case CON_NORMAL:
		return "normal";
	case CON_SECURE:
		return "secure";
	case CON_COUNT:
		break;
	}
	return "unknown";
}

static const struct step_kind *find_kind(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(step_kinds); i++)
		if (!strcmp(step_kinds[i].name, name))
			return &step_kinds[i];
	return NULL;
}

/* "boot, expect, ..., assert or poweroff" (aliases left out), for messages. */
static char *kind_list(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0, last = 0;

	for (size_t i = 0; i < ARRAY_SIZE(step_kinds); i++)
		if (!step_kinds[i].alias)
			last = i;
	for (size_t i = 0; i < ARRAY_SIZE(step_kinds); i++) {
		if (step_kinds[i].alias)
			continue;
		if (n++)
			strbuf_addstr(&sb, i == last ? " or " : ", ");
		strbuf_addstr(&sb, step_kinds[i].name);
	}
	return strbuf_detach(&sb);
}

/* A scalar that YAML reads as null: "key:" with nothing, "~" or "null". */
static bool is_null_scalar(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR &&
	       (!*n->scalar || !strcmp(n->scalar, "~") ||
		!strcmp(n->scalar, "null"));
}

/*
 * Optional string @key of @map copied into *out. An empty value is an
 * error, or when @empty_ok is set the same as leaving the key out.
 */
static int get_str_opt(const struct ydoc *doc, const struct ynode *map,
		       const char *key, bool empty_ok, char **out)
{
	const char *s = NULL;
	int ret = ynode_get_str(doc, map, key, &s);

	if (ret || !s || (!*s && empty_ok))
		return ret;
	if (!*s)
		return ynode_error(doc, ynode_get(map, key),
				   "'%s' must not be empty", key);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

/* Optional non-empty string @key of @map copied into *out. */
static int get_string(const struct ydoc *doc, const struct ynode *map,
		      const char *key, char **out)
{
	return get_str_opt(doc, map, key, false, out);
}

/* Compile @re_str once to validate it; a bad one is an error at @n. */
static int check_regex(const struct ydoc *doc, const struct ynode *n,
		       const char *key, const char *re_str)
{
	regex_t re = { 0 };
	int rc = 0;

	if (strstr(re_str, "${"))
		return 0;	/* a parameter: checked once substituted (scenario_select()) */
	rc = regcomp(&re, re_str, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[256] = "";

		regerror(rc, &re, msg, sizeof(msg));
		return ynode_error(doc, n, "invalid regular expression '%s' for '%s': %s",
				   re_str, key, msg);
	}
	regfree(&re);
	return 0;
}

/* Optional regular expression @key of @map, compiled once to validate it. */
static int get_regex(const struct ydoc *doc, const struct ynode *map,
		     const char *key, char **out)
{
	const struct ynode *n = ynode_get(map, key);
	int ret = get_string(doc, map, key, out);

	if (ret || !n)
		return ret;
	return check_regex(doc, n, key, *out);
}

/* Optional number of seconds; > 0, or >= 0 when @zero_ok. */
static int get_seconds(const struct ydoc *doc, const struct ynode *map,
		       const char *key, bool zero_ok, double *out)
{
	double v = *out;
	int ret = ynode_get_double(doc, map, key, &v);

	if (ret)
		return ret;
	if (v < 0 || (!zero_ok && v == 0))
		return ynode_error(doc, ynode_get(map, key),
				   "'%s' must be a %s number of seconds", key,
				   zero_ok ? "non-negative" : "positive");
	*out = v;
	return 0;
}

static int check_name(const struct ydoc *doc, const struct ynode *n,
		      const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return ynode_error(doc, n, "invalid scenario name '%s'", name);
	for (const char *p = name; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return ynode_error(doc, n,
					   "invalid scenario name '%s': no '/' or control characters allowed",
					   name);
	return 0;
}

/* "foo/bar/xtest-smoke.yaml" -> "xtest-smoke" */
static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len = 0;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (ends_with(base, ".yaml") && len > 5)
		len -= 5;
	else if (ends_with(base, ".yml") && len > 4)
		len -= 4;
	return xstrndup(base, len);
}

/* Append @s to @sb on one line: control characters become spaces. */
static void add_oneline(struct strbuf *sb, const char *s, size_t max)
{
	size_t len = strlen(s);
	bool cut = len > max;

	if (cut) {
		len = max;
		/* do not split a UTF-8 sequence */
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++)
		strbuf_addch(sb, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
	if (cut)
		strbuf_addstr(sb, "...");
}

static char *generated_name(const struct scenario_step *st)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, step_type_name(st->type));
	switch (st->type) {
	case STEP_WAIT:
	case STEP_EXPECT_NOT:
		strbuf_addf(&sb, " %s: ", console_name(st->console));
		add_oneline(&sb, st->pattern, (size_t)-1);
		if (st->type == STEP_EXPECT_NOT)
			strbuf_addf(&sb, " (%g s)", st->within);
		break;
	case STEP_RUN:
		strbuf_addch(&sb, ' ');
		add_oneline(&sb, st->command, NAME_COMMAND_MAX);
		break;
	case STEP_BACKGROUND:
		strbuf_addf(&sb, " %s: ", st->id);
		add_oneline(&sb, st->command, NAME_COMMAND_MAX);
		break;
	case STEP_JOIN:
	case STEP_KILL:
		strbuf_addf(&sb, " %s", st->id);
		break;
	case STEP_PARALLEL:
		strbuf_addf(&sb, " %dx ", st->copies);
		add_oneline(&sb, st->command, NAME_COMMAND_MAX);
		break;
	case STEP_COLLECT:
		strbuf_addch(&sb, ' ');
		add_oneline(&sb, st->paths[0], (size_t)-1);
		if (st->nr_paths > 1)
			strbuf_addf(&sb, " +%zu", st->nr_paths - 1);
		break;
	case STEP_SYSRQ:
		strbuf_addf(&sb, " %c", st->sysrq);
		break;
	case STEP_ASSERT:
		strbuf_addf(&sb, " %s clean", console_name(st->console));
		break;
	case STEP_MEASURE:
		strbuf_addf(&sb, " %s", st->metric);
		break;
	case STEP_REPEAT:
		if (st->times_param)
			strbuf_addf(&sb, " ${%s} times", st->times_param);
		else
			strbuf_addf(&sb, " %u times", st->times);
		break;
	case STEP_BOOT:
	case STEP_REBOOT:
	case STEP_KEXEC:
	case STEP_POWEROFF:
		break;
	}
	return strbuf_detach(&sb);
}

/*
 * "name" and "xfail" may be given next to the type key or among its
 * options, but not in both places.
 */
static int get_common(const struct ydoc *doc, const struct ynode *outer,
		      const struct ynode *opts, const char *key, char **out)
{
	const struct ynode *a = ynode_get(outer, key);
	const struct ynode *b = ynode_get(opts, key);
	int ret = 0;

	if (a && b)
		return ynode_error(doc, b, "'%s' given twice for one step", key);
	ret = get_string(doc, outer, key, out);
	if (!ret)
		ret = get_string(doc, opts, key, out);
	return ret;
}

/* Optional "console" of @opts into *out. */
static int get_console(const struct ydoc *doc, const struct ynode *opts,
		       enum console_id *out)
{
	const struct ynode *con = ynode_get(opts, "console");

	if (!con)
		return 0;
	if (con->type != YNODE_SCALAR)
		return ynode_error(doc, con, "expected a string for 'console'");
	if (!strcmp(con->scalar, "normal"))
		*out = CON_NORMAL;
	else if (!strcmp(con->scalar, "secure"))
		*out = CON_SECURE;
	else
		return ynode_error(doc, con,
				   "unknown console '%s' (expected normal or secure)",
				   con->scalar);
	return 0;
}

/*
 * Optional "channel" of @opts into st->channel (default auto). SSH needs
 * the guest network. @needs_ssh, when not NULL, is the error for a step
 * that cannot use the serial shell.
 */
static int get_channel(const struct ydoc *doc, const struct ynode *opts,
		       const struct scenario *sc, const char *needs_ssh,
		       struct scenario_step *st)
{
	const struct ynode *n = ynode_get(opts, "channel");
	const char *s = NULL;
	int ret = ynode_get_str(doc, opts, "channel", &s);

	st->channel = CHAN_AUTO;
	if (ret || !n)
		return ret;
	if (!strcmp(s, "auto"))
		st->channel = CHAN_AUTO;
	else if (!strcmp(s, "ssh"))
		st->channel = CHAN_SSH;
	else if (!strcmp(s, "serial"))
		st->channel = CHAN_SERIAL;
	else
		return ynode_error(doc, n,
				   "unknown channel '%s' (expected auto, ssh or serial)",
				   s);
	if (st->channel == CHAN_SSH && !sc->network)
		return ynode_error(doc, n, "channel ssh needs network: true");
	if (st->channel == CHAN_SERIAL && needs_ssh)
		return ynode_error(doc, n, "%s", needs_ssh);
	return 0;
}

/* "expect-exit", "expect-output" and "parser" (when the step allows them). */
static int get_checks(const struct ydoc *doc, const struct ynode *opts,
		      struct scenario_step *st)
{
	int ret = ynode_get_int(doc, opts, "expect-exit", &st->expect_exit);

	if (!ret && (st->expect_exit < 0 || st->expect_exit > 255))
		ret = ynode_error(doc, ynode_get(opts, "expect-exit"),
				  "'expect-exit' must be between 0 and 255");
	if (!ret)
		ret = get_regex(doc, opts, "expect-output", &st->expect_output);
	if (!ret)
		ret = get_string(doc, opts, "parser", &st->parser);
	if (!ret && st->parser && strcmp(st->parser, "xtest"))
		ret = ynode_error(doc, ynode_get(opts, "parser"),
				  "unknown parser '%s' (known: xtest)", st->parser);
	return ret;
}

/*
 * A string or a list of strings at @n (the value of @key) into a
 * NULL-terminated malloc'd array of malloc'd copies. Neither the list
 * nor an item may be empty.
 */
static int get_list(const struct ydoc *doc, const struct ynode *n,
		    const char *key, char ***out, size_t *nr)
{
	size_t count = n->type == YNODE_SEQ ? n->nr : 1;
	char **list = NULL;

	if (n->type == YNODE_MAP)
		return ynode_error(doc, n,
				   "expected a string or a list of strings for '%s', got a mapping",
				   key);
	if (is_null_scalar(n) || (n->type == YNODE_SEQ && !n->nr))
		return ynode_error(doc, n, "'%s' must not be empty", key);
	for (size_t i = 0; n->type == YNODE_SEQ && i < n->nr; i++) {
		const struct ynode *it = n->items[i];

		if (it->type != YNODE_SCALAR)
			return ynode_error(doc, it,
					   "expected a string in list '%s', got %s", key,
					   it->type == YNODE_MAP ? "a mapping" : "a sequence");
		if (!*it->scalar)
			return ynode_error(doc, it, "empty string in list '%s'", key);
	}
	list = xcalloc(count + 1, sizeof(*list));
	for (size_t i = 0; i < count; i++)
		list[i] = xstrdup(n->type == YNODE_SEQ ? n->items[i]->scalar : n->scalar);
	*out = list;
	*nr = count;
	return 0;
}

/* Item @i of what get_list() read from @n, for locating errors. */
static const struct ynode *list_item(const struct ynode *n, size_t i)
{
	return n->type == YNODE_SEQ ? n->items[i] : n;
}

/* A guest path for @key: absolute, no ".." component. */
static int check_guest_path(const struct ydoc *doc, const struct ynode *n,
			    const char *key, const char *path)
{
	if (*path != '/')
		return ynode_error(doc, n,
				   "'%s' must be an absolute guest path (start with '/'), got '%s'",
				   key, path);
	for (const char *p = path; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || !p[3])
			return ynode_error(doc, n,
					   "'%s' must not contain '..' components, got '%s'",
					   key, path);
	return 0;
}

/* Optional guest path @key of @opts into *out. */
static int get_guest_path(const struct ydoc *doc, const struct ynode *opts,
			  const char *key, char **out)
{
	int ret = get_string(doc, opts, key, out);

	if (ret || !*out)
		return ret;
	return check_guest_path(doc, ynode_get(opts, key), key, *out);
}

static int parse_wait(const struct ydoc *doc, const struct step_kind *kind,
		      const struct ynode *opts, const struct ynode *where,
		      struct scenario_step *st)
{
	int ret = get_console(doc, opts, &st->console);

	if (!ret)
		ret = get_regex(doc, opts, "pattern", &st->pattern);
	if (!ret && !st->pattern)
		ret = ynode_error(doc, where, "missing 'pattern' in '%s' step",
				  kind->name);
	if (ret || st->type != STEP_EXPECT_NOT)
		return ret;
	if (!ynode_get(opts, "within"))
		return ynode_error(doc, where, "missing 'within' in 'expect-not' step");
	return get_seconds(doc, opts, "within", false, &st->within);
}

static int parse_run(const struct ydoc *doc, const struct scenario *sc,
		     const struct ynode *value, const struct ynode *opts,
		     const struct ynode *where, struct scenario_step *st)
{
	int ret = 0;

	if (value && value->type == YNODE_SCALAR) {
		/* shorthand "run: <command>" */
		if (!*value->scalar)
			return ynode_error(doc, value, "missing command for 'run' step");
		st->command = xstrdup(value->scalar);
		return 0;
	}
	ret = get_string(doc, opts, "command", &st->command);
	if (!ret)
		ret = get_checks(doc, opts, st);
	if (!ret)
		ret = get_channel(doc, opts, sc, NULL, st);
	if (!ret && !st->command)
		ret = ynode_error(doc, where, "missing 'command' in 'run' step");
	return ret;
}

/* The background step of @sc before @st whose id is @id, or NULL. */
static const struct scenario_step *find_background(const struct scenario *sc,
						   const struct scenario_step *st,
						   const char *id)
{
	for (const struct scenario_step *p = sc->steps; p < st; p++)
		if (p->type == STEP_BACKGROUND && !strcmp(p->id, id))
			return p;
	return NULL;
}

/*
 * "id" of a background, join or kill step: from the shorthand @value or
 * the options. A background id is new; a join or kill names an earlier
 * background step.
 */
static int parse_id(const struct ydoc *doc, const struct scenario *sc,
		    const struct step_kind *kind, const struct ynode *value,
		    const struct ynode *opts, const struct ynode *where,
		    struct scenario_step *st)
{
	const struct ynode *n = ynode_get(opts, "id");
	const struct scenario_step *bg = NULL;
	int ret = 0;

	if (value && value->type == YNODE_SCALAR && !is_null_scalar(value)) {
		/* shorthand "join: <id>" */
		n = value;
		st->id = xstrdup(value->scalar);
	} else {
		ret = get_string(doc, opts, "id", &st->id);
		if (ret)
			return ret;
	}
	if (!st->id)
		return ynode_error(doc, where, "missing 'id' in '%s' step", kind->name);
	if (strspn(st->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_-") != strlen(st->id))
		return ynode_error(doc, n,
				   "invalid id '%s' (letters, digits, '_' and '-' only)",
				   st->id);
	bg = find_background(sc, st, st->id);
	if (st->type == STEP_BACKGROUND && bg)
		return ynode_error(doc, n,
				   "duplicate background id '%s' (first at line %u)",
				   st->id, bg->line);
	if (st->type != STEP_BACKGROUND && !bg)
		return ynode_error(doc, n,
				   "unknown background id '%s' (it must name an earlier 'background' step)",
				   st->id);
	return 0;
}

static int parse_background(const struct ydoc *doc, const struct scenario *sc,
			    const struct step_kind *kind, const struct ynode *opts,
			    const struct ynode *where, struct scenario_step *st)
{
	int ret = parse_id(doc, sc, kind, NULL, opts, where, st);

	if (!ret)
		ret = get_string(doc, opts, "command", &st->command);
	if (!ret)
		ret = get_channel(doc, opts, sc,
				  "'background' cannot use channel serial (background commands need ssh)",
				  st);
	if (!ret && !st->command)
		ret = ynode_error(doc, where, "missing 'command' in 'background' step");
	if (!ret)
		ret = get_regex(doc, opts, "progress", &st->progress);
	if (!ret && ynode_get(opts, "stall") && !st->progress)
		ret = ynode_error(doc, ynode_get(opts, "stall"),
				  "'stall' needs 'progress' (the lines that show progress)");
	if (!ret && st->progress) {
		st->stall = DEFAULT_STALL;
		ret = get_seconds(doc, opts, "stall", false, &st->stall);
	}
	if (!ret && !sc->network)
		ret = ynode_error(doc, where,
				  "'background' needs ssh, which needs network: true");
	return ret;
}

static int parse_parallel(const struct ydoc *doc, const struct scenario *sc,
			  const struct ynode *opts, const struct ynode *where,
			  struct scenario_step *st)
{
	int ret = get_string(doc, opts, "command", &st->command);

	st->copies = DEFAULT_COPIES;
	if (!ret)
		ret = ynode_get_int(doc, opts, "copies", &st->copies);
	if (!ret && st->copies < 1)
		ret = ynode_error(doc, ynode_get(opts, "copies"),
				  "'copies' must be at least 1");
	if (!ret)
		ret = get_checks(doc, opts, st);
	if (!ret)
		ret = get_channel(doc, opts, sc,
				  "'parallel' cannot use channel serial (the serial shell runs one command at a time)",
				  st);
	if (!ret && !st->command)
		ret = ynode_error(doc, where, "missing 'command' in 'parallel' step");
	if (!ret && !sc->network)
		ret = ynode_error(doc, where,
				  "'parallel' needs ssh, which needs network: true");
	return ret;
}

static int parse_collect(const struct ydoc *doc, const struct scenario *sc,
			 const struct ynode *value, const struct ynode *opts,
			 const struct ynode *where, struct scenario_step *st)
{
	const struct ynode *n = ynode_get(opts, "paths");
	int ret = 0;

	if (value && value->type != YNODE_MAP && !is_null_scalar(value))
		n = value;	/* shorthand "collect: /path" or "collect: [/a, /b]" */
	ret = get_channel(doc, opts, sc, NULL, st);
	if (ret)
		return ret;
	if (!n)
		return ynode_error(doc, where, "missing 'paths' in 'collect' step");
	ret = get_list(doc, n, "paths", &st->paths, &st->nr_paths);
	for (size_t i = 0; !ret && i < st->nr_paths; i++)
		ret = check_guest_path(doc, list_item(n, i), "paths", st->paths[i]);
	return ret;
}

/* "a" or "a,b,c": kernel names ([A-Za-z0-9_.-]+) */
static bool valid_kernel_list(const char *v)
{
	size_t n;

	do {
		n = strcspn(v, ",");
		if (!n || strspn(v, NAME_CHARS) < n)
			return false;
		v += n;
	} while (*v++ == ',');
	return true;
}

static int parse_kexec(const struct ydoc *doc, const struct ynode *opts,
		       struct scenario_step *st)
{
	static const char *const loaded[] = { "kernel", "initrd", "cmdline", "to", "crash" };
	int ret = get_guest_path(doc, opts, "kernel", &st->kernel);

	if (!ret)
		ret = get_guest_path(doc, opts, "initrd", &st->initrd);
	if (!ret)
		ret = get_string(doc, opts, "cmdline", &st->cmdline);
	if (!ret)
		ret = ynode_get_bool(doc, opts, "no-load", &st->no_load);
	if (!ret)
		ret = get_string(doc, opts, "to", &st->to);
	if (!ret)
		ret = ynode_get_bool(doc, opts, "crash", &st->crash);
	for (size_t i = 0; !ret && st->no_load && i < ARRAY_SIZE(loaded); i++)
		if (ynode_get(opts, loaded[i]))
			ret = ynode_error(doc, ynode_get(opts, loaded[i]),
					  "'%s' has no effect with 'no-load: true'",
					  loaded[i]);
	if (!ret && st->to && (st->kernel || st->initrd))
		ret = ynode_error(doc, ynode_get(opts, "to"),
				  "'to' names a lab kernel; 'kernel'/'initrd' give guest paths: not both");
	if (!ret && st->to && !strstr(st->to, "${") && !valid_kernel_list(st->to))
		ret = ynode_error(doc, ynode_get(opts, "to"),
				  "invalid kernel name '%s' (a configs/kernels name or 'boot'; "
				  "in a repeat, a comma list the hops cycle through)", st->to);
	return ret;
}

static int parse_sysrq(const struct ydoc *doc, const struct scenario *sc,
		       const struct ynode *value, const struct ynode *opts,
		       const struct ynode *where, struct scenario_step *st)
{
	const struct ynode *n = ynode_get(opts, "key");
	const char *key = NULL;
	int ret = 0;

	if (value && value->type == YNODE_SCALAR && !is_null_scalar(value)) {
		/* shorthand "sysrq: <key>" */
		n = value;
		key = value->scalar;
	} else {
		ret = ynode_get_str(doc, opts, "key", &key);
	}
	if (!ret)
		ret = get_channel(doc, opts, sc, NULL, st);
	if (ret)
		return ret;
	if (!key)
		return ynode_error(doc, where, "missing 'key' in 'sysrq' step");
	if (strlen(key) != 1 || !strchr("0123456789abcdefghijklmnopqrstuvwxyz", *key))
		return ynode_error(doc, n,
				   "invalid sysrq key '%s' (expected one character from 0-9 or a-z)",
				   key);
	st->sysrq = *key;
	ret = ynode_get_bool(doc, opts, "kdump", &st->kdump);
	if (!ret && st->kdump && st->sysrq != 'c')
		ret = ynode_error(doc, ynode_get(opts, "kdump"),
				  "'kdump: true' needs key 'c' (a crash), got '%c'", st->sysrq);
	return ret;
}

static int parse_assert(const struct ydoc *doc, const struct ynode *opts,
			struct scenario_step *st)
{
	const struct ynode *n = ynode_get(opts, "absent");
	int ret = 0;

	st->console = CON_SECURE;
	ret = get_console(doc, opts, &st->console);
	if (ret)
		return ret;
	if (!n) {
		st->absent = xcalloc(ARRAY_SIZE(default_absent) + 1, sizeof(*st->absent));
		for (size_t i = 0; i < ARRAY_SIZE(default_absent); i++)
			st->absent[i] = xstrdup(default_absent[i]);
		st->nr_absent = ARRAY_SIZE(default_absent);
		return 0;
	}
	ret = get_list(doc, n, "absent", &st->absent, &st->nr_absent);
	for (size_t i = 0; !ret && i < st->nr_absent; i++)
		ret = check_regex(doc, list_item(n, i), "absent", st->absent[i]);
	return ret;
}

/*
 * repeat: { times: N | "${param}", steps: [...] } - the times here; the
 * body is parsed by parse_step_list() right after this step.
 */
static int parse_repeat(const struct ydoc *doc, const struct scenario *sc,
			const struct ynode *opts, const struct ynode *where,
			struct scenario_step *st)
{
	const struct ynode *t = ynode_get(opts, "times"), *body = ynode_get(opts, "steps");
	const char *v = t && t->type == YNODE_SCALAR ? t->scalar : NULL;
	char *end = NULL;
	unsigned long n;

	if (!t)
		return ynode_error(doc, where, "missing 'times' in 'repeat' step");
	if (!body || body->type != YNODE_SEQ || !body->nr)
		return ynode_error(doc, body ? body : where,
				   "'repeat' needs 'steps': a non-empty sequence of steps");
	if (!v)
		return ynode_error(doc, t, "'times' must be a number or \"${param}\"");
	if (starts_with(v, "${") && ends_with(v, "}")) {
		st->times_param = xstrndup(v + 2, strlen(v) - 3);
		if (!strvec_contains(&sc->param_keys, st->times_param))
			return ynode_error(doc, t, "'times' names '%s', which 'params' does not "
					   "declare", st->times_param);
		return 0;
	}
	n = strtoul(v, &end, 10);
	if (!*v || *end || n < 1 || n > MAX_REPEAT)
		return ynode_error(doc, t, "'times' must be 1..%d or \"${param}\", got '%s'",
				   MAX_REPEAT, v);
	st->times = (unsigned)n;
	return 0;
}

/*
 * Parse one step into @st, the last of sc->steps so far: the steps
 * before it are complete (a join names an earlier background step).
 */
/* The measure step of @sc before @st that records @metric, or NULL. */
static const struct scenario_step *find_metric(const struct scenario *sc,
					       const struct scenario_step *st,
					       const char *metric)
{
	for (const struct scenario_step *p = sc->steps; p < st; p++)
		if (p->type == STEP_MEASURE && !strcmp(p->metric, metric))
			return p;
	return NULL;
}

static bool valid_metric(const char *m)
{
	return *m && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == strlen(m);
}

/*
 * measure: { metric: <name>, command: <guest command> | pattern: <ERE>
 *            [console: ...], min: N, max: N, at-least: <earlier metric> }
 */
static int parse_measure(const struct ydoc *doc, const struct scenario *sc,
			 const struct ynode *opts, const struct ynode *where,
			 struct scenario_step *st)
{
	const struct scenario_step *prev = NULL;
	int ret = get_string(doc, opts, "metric", &st->metric);

	if (!ret && !st->metric)
		return ynode_error(doc, where, "missing 'metric' in 'measure' step");
	if (!ret && !valid_metric(st->metric))
		return ynode_error(doc, ynode_get(opts, "metric"),
				   "invalid metric '%s' (letters, digits, '_', '.' and '-' only)",
				   st->metric);
	if (!ret && (prev = find_metric(sc, st, st->metric)))
		return ynode_error(doc, ynode_get(opts, "metric"),
				   "duplicate metric '%s' (first at line %u)", st->metric,
				   prev->line);
	if (!ret)
		ret = get_string(doc, opts, "command", &st->command);
	if (!ret)
		ret = get_regex(doc, opts, "pattern", &st->pattern);
	if (!ret)
		ret = get_console(doc, opts, &st->console);
	if (!ret)
		ret = get_channel(doc, opts, sc, NULL, st);
	if (ret)
		return ret;
	if (!st->command == !st->pattern)
		return ynode_error(doc, where,
				   "a 'measure' step needs exactly one of 'command' and 'pattern'");
	if (st->command && ynode_get(opts, "console"))
		return ynode_error(doc, ynode_get(opts, "console"),
				   "'console' goes with 'pattern', not 'command'");
	if (st->pattern && ynode_get(opts, "channel"))
		return ynode_error(doc, ynode_get(opts, "channel"),
				   "'channel' goes with 'command', not 'pattern'");
	st->has_min = ynode_get(opts, "min") != NULL;
	st->has_max = ynode_get(opts, "max") != NULL;
	ret = ynode_get_double(doc, opts, "min", &st->min);
	if (!ret)
		ret = ynode_get_double(doc, opts, "max", &st->max);
	if (!ret && st->has_min && st->has_max && st->min > st->max)
		return ynode_error(doc, ynode_get(opts, "max"), "'max' (%g) is below 'min' (%g)",
				   st->max, st->min);
	if (!ret)
		ret = get_string(doc, opts, "at-least", &st->at_least);
	if (!ret && st->at_least && !find_metric(sc, st, st->at_least))
		return ynode_error(doc, ynode_get(opts, "at-least"),
				   "unknown metric '%s' (it must name an earlier 'measure' step)",
				   st->at_least);
	return ret;
}

static int parse_step(const struct ydoc *doc, const struct ynode *item,
		      const struct scenario *sc, struct scenario_step *st)
{
	const struct step_kind *kind = NULL;
	const struct ynode *outer = NULL;	/* the step map, if any */
	const struct ynode *value = NULL;	/* what the type key maps to */
	const struct ynode *opts = NULL;	/* options map, if any */
	struct ynode where = { .line = item->line, .column = item->column };
	struct strbuf what = STRBUF_INIT;
	char *kinds = NULL;
	int ret = 0;

	if (item->type == YNODE_SCALAR) {
		/* "- poweroff" */
		kind = find_kind(item->scalar);
		if (!kind) {
			kinds = kind_list();
			ret = ynode_error(doc, item,
					  "unknown step type '%s' (expected %s)",
					  item->scalar, kinds);
			goto out;
		}
	} else if (item->type == YNODE_MAP) {
		outer = item;
		ret = ynode_check_keys(doc, item, "step", step_keys);
		if (ret)
			goto out;
		for (size_t i = 0; i < item->nr; i++) {
			const struct step_kind *k = find_kind(item->keys[i]);

			if (!k)
				continue;
			if (kind) {
				struct ynode pos = { .line = item->key_lines[i],
						     .column = item->key_columns[i] };

				ret = ynode_error(doc, &pos,
						  "a step has exactly one type, got '%s' and '%s'",
						  kind->name, k->name);
				goto out;
			}
			kind = k;
			value = item->items[i];
			where.line = item->key_lines[i];
			where.column = item->key_columns[i];
		}
		if (!kind) {
			kinds = kind_list();
			ret = ynode_error(doc, item,
					  "step has no type (expected one of %s)", kinds);
			goto out;
		}
	} else {
		ret = ynode_error(doc, item,
				  "expected a step (a mapping or a step type), got a sequence");
		goto out;
	}

	st->type = kind->type;
	st->line = where.line;
	st->column = where.column;
	st->console = CON_NORMAL;
	st->expect_exit = 0;
	st->timeout = 0;
	st->channel = CHAN_AUTO;

	strbuf_addf(&what, "'%s' step", kind->name);
	if (value && value->type == YNODE_MAP) {
		opts = value;
		ret = ynode_check_keys(doc, opts, strbuf_str(&what), kind->keys);
		if (ret)
			goto out;
	} else if (value && value->type == YNODE_SEQ && !(kind->forms & FORM_SEQ)) {
		ret = ynode_error(doc, value,
				  "expected a mapping of options for %s, got a sequence",
				  strbuf_str(&what));
		goto out;
	} else if (value && value->type == YNODE_SCALAR &&
		   !(kind->forms & FORM_SCALAR) && !is_null_scalar(value)) {
		ret = ynode_error(doc, value,
				  "expected a mapping of options for %s, got '%s'",
				  strbuf_str(&what), value->scalar);
		goto out;
	}

	ret = get_common(doc, outer, opts, "name", &st->name);
	if (!ret)
		ret = get_common(doc, outer, opts, "xfail", &st->xfail);
	if (!ret)
		ret = get_seconds(doc, opts, "timeout", true, &st->timeout);
	if (ret)
		goto out;

	switch (kind->type) {
	case STEP_WAIT:
	case STEP_EXPECT_NOT:
		ret = parse_wait(doc, kind, opts, &where, st);
		break;
	case STEP_RUN:
		ret = parse_run(doc, sc, value, opts, &where, st);
		break;
	case STEP_BACKGROUND:
		ret = parse_background(doc, sc, kind, opts, &where, st);
		break;
	case STEP_JOIN:
		ret = parse_id(doc, sc, kind, value, opts, &where, st);
		if (!ret)
			ret = get_checks(doc, opts, st);
		break;
	case STEP_KILL:
		ret = parse_id(doc, sc, kind, value, opts, &where, st);
		break;
	case STEP_PARALLEL:
		ret = parse_parallel(doc, sc, opts, &where, st);
		break;
	case STEP_COLLECT:
		ret = parse_collect(doc, sc, value, opts, &where, st);
		break;
	case STEP_KEXEC:
		ret = parse_kexec(doc, opts, st);
		break;
	case STEP_SYSRQ:
		ret = parse_sysrq(doc, sc, value, opts, &where, st);
		break;
	case STEP_ASSERT:
		ret = parse_assert(doc, opts, st);
		break;
	case STEP_MEASURE:
		ret = parse_measure(doc, sc, opts, &where, st);
		break;
	case STEP_REPEAT:
		ret = parse_repeat(doc, sc, opts, &where, st);
		break;
	case STEP_BOOT:
	case STEP_REBOOT:
	case STEP_POWEROFF:
		break;
	}
	if (!ret && !st->name)
		st->name = generated_name(st);
out:
	free(kinds);
	strbuf_release(&what);
	return ret;
}

/*
 * Append the steps of @seq to sc->steps (@cap: its allocated length). A
 * repeat's body follows the repeat step; @in_repeat: this is one.
 */
static int parse_step_list(const struct ydoc *doc, const struct ynode *seq,
			   struct scenario *sc, size_t *cap, bool in_repeat)
{
	for (size_t i = 0; i < seq->nr; i++) {
		size_t at = sc->nr_steps;
		const struct ynode *body = NULL;
		int ret;

		if (at == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			sc->steps = xrealloc(sc->steps, *cap * sizeof(*sc->steps));
			memset(sc->steps + at, 0, (*cap - at) * sizeof(*sc->steps));
		}
		sc->nr_steps = at + 1;	/* so that release frees this one */
		ret = parse_step(doc, seq->items[i], sc, &sc->steps[at]);
		if (ret)
			return ret;
		if (sc->steps[at].type != STEP_REPEAT)
			continue;
		if (in_repeat) {
			struct ynode pos = { .line = sc->steps[at].line,
					     .column = sc->steps[at].column };

			return ynode_error(doc, &pos, "a 'repeat' cannot hold another 'repeat'");
		}
		body = ynode_get(ynode_get(seq->items[i], "repeat"), "steps");
		ret = parse_step_list(doc, body, sc, cap, true);
		if (ret)
			return ret;
		sc->steps[at].nr_body = sc->nr_steps - at - 1;
	}
	return 0;
}

static int parse_steps(const struct ydoc *doc, const struct ynode *root,
		       struct scenario *sc)
{
	const struct ynode *steps = ynode_get(root, "steps");
	const struct scenario_step *poweroff = NULL;
	size_t cap = 0, repeat_end = 0;
	unsigned repeat_line = 0;
	int ret = 0;

	if (!steps)
		return ynode_error(doc, root, "missing required key 'steps'");
	if (steps->type != YNODE_SEQ)
		return ynode_error(doc, steps,
				   "expected a sequence of steps for 'steps', got %s",
				   steps->type == YNODE_MAP ? "a mapping" :
				   *steps->scalar ? "a string" : "nothing");
	if (!steps->nr)
		return ynode_error(doc, steps, "'steps' must not be empty");

	ret = parse_step_list(doc, steps, sc, &cap, false);
	if (ret)
		return ret;
	for (size_t i = 0; i < sc->nr_steps; i++) {
		const struct scenario_step *st = &sc->steps[i];
		struct ynode pos = { .line = st->line, .column = st->column };

		if (i == 0 && st->type != STEP_BOOT)
			return ynode_error(doc, &pos,
					   "the first step must be 'boot', got '%s'",
					   step_type_name(st->type));
		if (i > 0 && st->type == STEP_BOOT)
			return ynode_error(doc, &pos,
					   "only one 'boot' step is supported (first at line %u)",
					   sc->steps[0].line);
		if (poweroff)
			return ynode_error(doc, &pos,
					   "no step can follow 'poweroff' (at line %u)",
					   poweroff->line);
		if (st->type == STEP_POWEROFF && i < repeat_end)
			return ynode_error(doc, &pos,
					   "'poweroff' cannot be repeated (the 'repeat' at line %u)",
					   repeat_line);
		if (st->type == STEP_POWEROFF)
			poweroff = st;
		if (st->type == STEP_REPEAT) {
			repeat_end = i + 1 + st->nr_body;
			repeat_line = st->line;
		}
	}
	return 0;
}

static int parse_timeouts(const struct ydoc *doc, const struct ynode *root,
			  struct scenario *sc)
{
	const struct ynode *t = ynode_get(root, "timeouts");
	int ret = 0;

	if (!t || is_null_scalar(t))
		return 0;
	ret = ynode_check_keys(doc, t, "'timeouts'", timeouts_keys);
	if (!ret)
		ret = get_seconds(doc, t, "boot", false, &sc->boot_timeout);
	if (!ret)
		ret = get_seconds(doc, t, "step", false, &sc->step_timeout);
	if (!ret)
		ret = get_seconds(doc, t, "run", false, &sc->run_timeout);
	if (!ret)
		ret = get_seconds(doc, t, "hang", false, &sc->hang_window);
	return ret;
}

/* params: { key: value, ... } appended to @keys / @values (parallel). */
static int parse_params(const struct ydoc *doc, const struct ynode *n, struct strvec *keys,
			struct strvec *values)
{
	if (!n)
		return 0;
	if (n->type != YNODE_MAP)
		return ynode_error(doc, n, "'params' must be a mapping of names to values");
	for (size_t i = 0; i < n->nr; i++) {
		const struct ynode *v = n->items[i];
		struct ynode pos = { .line = n->key_lines[i], .column = n->key_columns[i] };

		if (!*n->keys[i] || strspn(n->keys[i], NAME_CHARS) != strlen(n->keys[i]))
			return ynode_error(doc, &pos,
					   "invalid parameter name '%s' (letters, digits, '_', '.', '-')",
					   n->keys[i]);
		if (v->type != YNODE_SCALAR)
			return ynode_error(doc, v, "parameter '%s' must be a plain value",
					   n->keys[i]);
		if (strspn(v->scalar, PARAM_VALUE_CHARS) != strlen(v->scalar))
			return ynode_error(doc, v,
					   "parameter '%s' = '%s': only letters, digits and _.,:/=+- "
					   "(values go into guest commands)", n->keys[i], v->scalar);
		strvec_push(keys, n->keys[i]);
		strvec_push(values, v->scalar);
	}
	return 0;
}

/* "expect: DEADLOCK" of @map into *out (validated). */
static int get_expect(const struct ydoc *doc, const struct ynode *map, char **out)
{
	int ret = get_string(doc, map, "expect", out);

	if (ret || !*out)
		return ret;
	for (size_t i = 0; expectable[i]; i++)
		if (!strcmp(*out, expectable[i]))
			return 0;
	return ynode_error(doc, ynode_get(map, "expect"),
			   "unknown verdict '%s' for 'expect' (PASS, FAIL, DEADLOCK, HANG, TIMEOUT, "
			   "KERNEL_PANIC or TEE_PANIC)", *out);
}

static int parse_cells(const struct ydoc *doc, const struct ynode *root, struct scenario *sc)
{
	const struct ynode *n = ynode_get(root, "cells");
	int ret = 0;

	if (!n)
		return 0;
	if (n->type != YNODE_MAP || !n->nr)
		return ynode_error(doc, n, "'cells' must be a non-empty mapping of cell names");
	sc->cells = xcalloc(n->nr, sizeof(*sc->cells));
	for (size_t i = 0; i < n->nr && !ret; i++) {
		struct scenario_cell *c = &sc->cells[sc->nr_cells++];
		const struct ynode *v = n->items[i];
		const struct ynode *flags = ynode_get(v, "optee-flags");
		struct ynode pos = { .line = n->key_lines[i], .column = n->key_columns[i] };

		c->name = xstrdup(n->keys[i]);
		c->line = pos.line;
		if (!*c->name || strspn(c->name, NAME_CHARS) != strlen(c->name))
			return ynode_error(doc, &pos,
					   "invalid cell name '%s' (letters, digits, '_', '.', '-')",
					   c->name);
		ret = ynode_check_keys(doc, v, "cell", cell_keys);
		if (!ret)
			ret = get_string(doc, v, "description", &c->description);
		if (!ret)
			ret = get_string(doc, v, "kernel", &c->kernel);
		if (!ret)
			ret = get_string(doc, v, "secure", &c->secure);
		if (!ret)
			ret = get_expect(doc, v, &c->expect);
		if (!ret && flags)
			ret = get_list(doc, flags, "optee-flags", &c->optee_flags,
				       &c->nr_optee_flags);
		for (size_t k = 0; !ret && k < c->nr_optee_flags; k++) {
			const char *f = c->optee_flags[k];
			size_t m = strspn(f, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

			if (!m || f[m] != '=' || strspn(f + m + 1, PARAM_VALUE_CHARS) !=
			    strlen(f + m + 1))
				ret = ynode_error(doc, list_item(flags, k),
						  "OP-TEE flag '%s' is not NAME=VALUE", f);
		}
		if (!ret)
			ret = parse_params(doc, ynode_get(v, "params"), &c->param_keys,
					   &c->param_values);
	}
	if (!ret)
		ret = get_string(doc, root, "default-cell", &sc->default_cell);
	if (!ret && sc->default_cell) {
		bool found = false;

		for (size_t i = 0; i < sc->nr_cells; i++)
			found = found || !strcmp(sc->cells[i].name, sc->default_cell);
		if (!found)
			ret = ynode_error(doc, ynode_get(root, "default-cell"),
					  "default-cell '%s' is not one of the cells", sc->default_cell);
	}
	return ret;
}

int scenario_load(const char *path, struct scenario *sc)
{
	struct ydoc doc = YDOC_INIT;
	const struct ynode *root = NULL;
	int ret = ydoc_load(path, &doc);

	memset(sc, 0, sizeof(*sc));
	if (ret)
		return ret;
	root = doc.root;
	sc->path = xstrdup(path);
	sc->boot_timeout = DEFAULT_BOOT_TIMEOUT;
	sc->step_timeout = DEFAULT_STEP_TIMEOUT;
	sc->run_timeout = DEFAULT_RUN_TIMEOUT;
	sc->hang_window = DEFAULT_HANG_WINDOW;
	sc->network = true;

	if (!root) {
		ret = -EINVAL;
		error("%s:1:1: empty scenario (expected a mapping with 'steps')",
		      path);
		goto out;
	}
	ret = ynode_check_keys(&doc, root, "scenario", scenario_keys);
	if (!ret)
		ret = get_string(&doc, root, "name", &sc->name);
	if (!ret && sc->name)
		ret = check_name(&doc, ynode_get(root, "name"), sc->name);
	if (!ret)
		ret = get_str_opt(&doc, root, "description", true,
				  &sc->description);
	if (!ret)
		ret = get_str_opt(&doc, root, "profile", true,
				  &sc->profile);
	if (!ret)
		ret = get_str_opt(&doc, root, "kernel-cmdline", true,
				  &sc->cmdline_extra);
	if (!ret)
		ret = ynode_get_bool(&doc, root, "network", &sc->network);
	if (!ret)
		ret = parse_timeouts(&doc, root, sc);
	if (!ret)
		ret = parse_params(&doc, ynode_get(root, "params"), &sc->param_keys,
				   &sc->param_values);
	if (!ret)
		ret = get_expect(&doc, root, &sc->expect);
	if (!ret && ynode_get(root, "default-cell") && !ynode_get(root, "cells"))
		ret = ynode_error(&doc, ynode_get(root, "default-cell"),
				  "'default-cell' needs 'cells'");
	if (!ret)
		ret = parse_cells(&doc, root, sc);
	if (!ret)
		ret = parse_steps(&doc, root, sc);
	if (ret)
		goto out;
	if (!sc->name)
		sc->name = default_name(path);
out:
	if (ret)
		scenario_release(sc);
	ydoc_release(&doc);
	return ret;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void scenario_release(struct scenario *sc)
{
	for (size_t i = 0; i < sc->nr_cells; i++) {
		struct scenario_cell *c = &sc->cells[i];

		free(c->name);
		free(c->description);
		free(c->kernel);
		free(c->secure);
		free_strings(c->optee_flags, c->nr_optee_flags);
		strvec_release(&c->param_keys);
		strvec_release(&c->param_values);
		free(c->expect);
	}
	free(sc->cells);
	strvec_release(&sc->param_keys);
	strvec_release(&sc->param_values);
	free(sc->expect);
	free(sc->default_cell);
	for (size_t i = 0; i < sc->nr_steps; i++) {
		struct scenario_step *st = &sc->steps[i];

		free(st->name);
		free(st->pattern);
		free(st->command);
		free(st->expect_output);
		free(st->parser);
		free(st->id);
		for (size_t j = 0; st->paths && st->paths[j]; j++)
			free(st->paths[j]);
		free(st->paths);
		free(st->kernel);
		free(st->initrd);
		free(st->cmdline);
		free(st->to);
		free(st->times_param);
		for (size_t j = 0; st->absent && st->absent[j]; j++)
			free(st->absent[j]);
		free(st->absent);
		free(st->progress);
		free(st->metric);
		free(st->at_least);
		free(st->xfail);
	}
	free(sc->steps);
	free(sc->path);
	free(sc->name);
	free(sc->description);
	free(sc->profile);
	free(sc->cmdline_extra);
	memset(sc, 0, sizeof(*sc));
}

/* ---- cells and parameters ---- */

/* The value of parameter @key: the last of @keys that names it. */
static const char *param_value(const struct strvec *keys, const struct strvec *values,
			       const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < keys->nr; i++)
		if (!strcmp(keys->v[i], key))
			v = values->v[i];
	return v;
}

/* @field of @st, once parameters are substituted, must still compile. */
static int recheck_regex(const struct scenario *sc, const struct scenario_step *st,
			 const char *what, const char *field)
{
	regex_t re;
	char msg[256] = "";
	int rc = 0;

	if (!field)
		return 0;
	rc = regcomp(&re, field, REG_EXTENDED | REG_NOSUB);
	if (!rc) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, msg, sizeof(msg));
	return error("%s:%u: invalid regular expression '%s' for '%s' (parameters "
		     "substituted): %s", sc->path, st->line, field, what, msg);
}

/*
 * Replace ${key} in *@field for every declared parameter key; any other
 * ${...} ("${d#/proc/}", "${HOME}") is the guest shell's and stays.
 */
static void substitute(char **field, const struct strvec *keys, const struct strvec *values)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = *field;

	if (!p || !strstr(p, "${"))
		return;
	while (*p) {
		const char *open = strstr(p, "${"), *close = NULL, *v = NULL;
		char *key = NULL;

		if (!open) {
			strbuf_addstr(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(open - p));
		close = strchr(open + 2, '}');
		if (close) {
			key = xstrndup(open + 2, (size_t)(close - open - 2));
			v = param_value(keys, values, key);
			free(key);
		}
		if (v) {
			strbuf_addstr(&sb, v);
			p = close + 1;
		} else {
			strbuf_addstr(&sb, "${");
			p = open + 2;
		}
	}
	free(*field);
	*field = strbuf_detach(&sb);
}

static char **dup_list(char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	if (!v)
		return NULL;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A deep copy of @src for iteration @i of @n of a repeat; @body: its steps. */
static void copy_repeated(struct scenario_step *dst, const struct scenario_step *src,
			  unsigned i, unsigned n, const struct scenario_step *body, size_t nr_body)
{
	*dst = *src;
	dst->name = xasprintf("%s [%u/%u]", src->name, i, n);
	dst->pattern = dup_or_null(src->pattern);
	dst->command = dup_or_null(src->command);
	dst->expect_output = dup_or_null(src->expect_output);
	dst->parser = dup_or_null(src->parser);
	dst->id = dup_or_null(src->id);
	dst->progress = dup_or_null(src->progress);
	dst->paths = dup_list(src->paths);
	dst->kernel = dup_or_null(src->kernel);
	dst->initrd = dup_or_null(src->initrd);
	dst->cmdline = dup_or_null(src->cmdline);
	dst->to = NULL;
	if (src->to) {
		/* "a,b": hop i goes to the ((i - 1) mod 2)-th */
		size_t count = 1, k = 0;
		const char *p = src->to;

		for (const char *c = src->to; *c; c++)
			count += *c == ',';
		for (k = (i - 1) % count; k; k--)
			p = strchr(p, ',') + 1;
		dst->to = xstrndup(p, strcspn(p, ","));
	}
	dst->times_param = NULL;
	dst->absent = dup_list(src->absent);
	dst->metric = src->metric ? xasprintf("%s.%u", src->metric, i) : NULL;
	dst->at_least = dup_or_null(src->at_least);
	/* a bound by a metric of the same body is this iteration's */
	for (size_t k = 0; src->at_least && k < nr_body; k++)
		if (body[k].type == STEP_MEASURE && !strcmp(body[k].metric, src->at_least)) {
			free(dst->at_least);
			dst->at_least = xasprintf("%s.%u", src->at_least, i);
			break;
		}
	dst->xfail = dup_or_null(src->xfail);
}

/* Replace every repeat step by `times` copies of its body. */
static int expand_repeats(struct scenario *sc, const struct strvec *keys,
			  const struct strvec *values)
{
	struct scenario_step *out = NULL;
	size_t nr = 0, cap = 0;

	for (size_t i = 0; i < sc->nr_steps; i++) {
		struct scenario_step *st = &sc->steps[i];
		const struct scenario_step *body = st + 1;
		unsigned times = st->times;

		if (st->type != STEP_REPEAT) {
			if (nr == cap)
				out = xrealloc(out, (cap = cap ? 2 * cap : 16) * sizeof(*out));
			out[nr++] = *st;
			memset(st, 0, sizeof(*st));	/* moved */
			continue;
		}
		if (st->times_param) {
			const char *v = param_value(keys, values, st->times_param);
			char *end = NULL;
			unsigned long n = v ? strtoul(v, &end, 10) : 0;

			if (!v || !*v || *end || n < 1 || n > MAX_REPEAT) {
				error("%s:%u: 'times' is ${%s} = '%s', not 1..%d", sc->path, st->line,
				      st->times_param, v ? v : "", MAX_REPEAT);
				struct scenario done = { .steps = out, .nr_steps = nr };

				scenario_release(&done);	/* sc->steps keeps zeroed slots: fine */
				return -EINVAL;
			}
			times = (unsigned)n;
		}
		for (unsigned it = 1; it <= times; it++)
			for (size_t k = 0; k < st->nr_body; k++) {
				if (nr == cap)
					out = xrealloc(out, (cap = cap ? 2 * cap : 16) * sizeof(*out));
				copy_repeated(&out[nr++], &body[k], it, times, body, st->nr_body);
			}
		i += st->nr_body;
	}
	/* what stays in sc->steps: the repeat steps and the bodies' originals */
	{
		struct scenario old = { .steps = sc->steps, .nr_steps = sc->nr_steps };

		scenario_release(&old);
	}
	sc->steps = out;
	sc->nr_steps = nr;
	return 0;
}

int scenario_select(struct scenario *sc, const char *cell_name, char *const *params,
		    size_t nr_params, struct config_overrides *ov)
{
	const char *want = cell_name ? cell_name : sc->default_cell;
	struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;	/* later entries win */
	int ret = 0;

	sc->cell = NULL;
	for (size_t i = 0; want && i < sc->nr_cells; i++)
		if (!strcmp(sc->cells[i].name, want))
			sc->cell = &sc->cells[i];
	if (want && !sc->cell) {
		struct strbuf names = STRBUF_INIT;

		for (size_t i = 0; i < sc->nr_cells; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", sc->cells[i].name);
		error("%s: no cell '%s' (cells: %s)", sc->path, want,
		      sc->nr_cells ? strbuf_str(&names) : "none");
		strbuf_release(&names);
		return -EINVAL;
	}
	/* scenario < cell < command line */
	for (size_t i = 0; i < sc->param_keys.nr; i++) {
		strvec_push(&keys, sc->param_keys.v[i]);
		strvec_push(&values, sc->param_values.v[i]);
	}
	for (size_t i = 0; sc->cell && i < sc->cell->param_keys.nr; i++) {
		strvec_push(&keys, sc->cell->param_keys.v[i]);
		strvec_push(&values, sc->cell->param_values.v[i]);
	}
	for (size_t i = 0; i < nr_params && !ret; i++) {
		const char *eq = strchr(params[i], '=');

		if (!eq || eq == params[i] || strspn(eq + 1, PARAM_VALUE_CHARS) != strlen(eq + 1)) {
			ret = error("--param '%s': expected key=value, the value in "
				    "[A-Za-z0-9_.,:/=+-]", params[i]);
			break;
		}
		strvec_pushf(&keys, "%.*s", (int)(eq - params[i]), params[i]);
		strvec_push(&values, eq + 1);
	}
	for (size_t i = 0; i < sc->nr_steps && !ret; i++) {
		struct scenario_step *st = &sc->steps[i];

		substitute(&st->command, &keys, &values);
		substitute(&st->pattern, &keys, &values);
		substitute(&st->expect_output, &keys, &values);
		substitute(&st->progress, &keys, &values);
		substitute(&st->to, &keys, &values);
		ret = recheck_regex(sc, st, "pattern", st->pattern);
		if (!ret)
			ret = recheck_regex(sc, st, "expect-output", st->expect_output);
		if (!ret)
			ret = recheck_regex(sc, st, "progress", st->progress);
	}
	if (!ret)
		ret = expand_repeats(sc, &keys, &values);
	for (size_t i = 0; i < sc->nr_steps && !ret; i++) {
		const char *to = sc->steps[i].to;

		if (to && (strchr(to, ',') || !valid_kernel_list(to)))
			ret = error("%s:%u: kexec 'to' is '%s' here: one kernel name (a list "
				    "only in a 'repeat')", sc->path, sc->steps[i].line, to);
	}
	strvec_release(&keys);
	strvec_release(&values);
	if (ret)
		return -EINVAL;
	if (!sc->cell || !ov)
		return 0;
	if (!ov->kernel)
		ov->kernel = sc->cell->kernel;
	if (!ov->secure)
		ov->secure = sc->cell->secure;
	for (size_t i = 0; i < sc->cell->nr_optee_flags; i++) {
		if (ov->nr_optee_flags == ARRAY_SIZE(ov->optee_flags)) {
			error("%s:%u: too many OP-TEE flags", sc->path, sc->cell->line);
			return -EINVAL;
		}
		ov->optee_flags[ov->nr_optee_flags++] = sc->cell->optee_flags[i];
	}
	return 0;
}

char *scenario_path(const char *datadir, const char *arg)
{
	if (strchr(arg, '/') || ends_with(arg, ".yaml") || ends_with(arg, ".yml"))
		return xstrdup(arg);
	return xasprintf("%s/scenarios/%s.yaml", datadir, arg);
}

void scenario_kexec_targets(const struct scenario *sc, struct strvec *out)
{
	for (size_t i = 0; i < sc->nr_steps; i++)
		if (sc->steps[i].type == STEP_KEXEC && sc->steps[i].to &&
		    !strvec_contains(out, sc->steps[i].to))
			strvec_push(out, sc->steps[i].to);
}

const char *scenario_expected(const struct scenario *sc)
{
	if (sc->cell && sc->cell->expect)
		return sc->cell->expect;
	return sc->expect ? sc->expect : "PASS";
}
