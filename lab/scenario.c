// SPDX-License-Identifier: MIT
/* scenario.c - see scenario.h */
#include "scenario.h"
#include "util.h"
#include "yamltree.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BOOT_TIMEOUT 120.0
#define DEFAULT_STEP_TIMEOUT 300.0
#define DEFAULT_RUN_TIMEOUT 1800.0
/* Generated "run <command>" names show at most this much of the command. */
#define NAME_COMMAND_MAX 60

static const char *const scenario_keys[] = {
	"name", "description", "profile", "kernel-cmdline", "timeouts",
	"steps", NULL
};
static const char *const timeouts_keys[] = { "boot", "step", "run", NULL };
/* A step map: its type key plus the keys common to every step. */
static const char *const step_keys[] = {
	"boot", "wait", "run", "poweroff", "name", "xfail", NULL
};
/* Options of each step type ("name" and "xfail" are accepted there too). */
static const char *const boot_keys[] = { "timeout", "name", "xfail", NULL };
static const char *const wait_keys[] = {
	"console", "pattern", "timeout", "name", "xfail", NULL
};
static const char *const run_keys[] = {
	"command", "expect-exit", "expect-output", "parser", "timeout",
	"name", "xfail", NULL
};
static const char *const poweroff_keys[] = { "timeout", "name", "xfail", NULL };

struct step_kind {
	const char *name;
	enum step_type type;
	const char *const *keys;
};

static const struct step_kind step_kinds[] = {
	{ "boot", STEP_BOOT, boot_keys },
	{ "wait", STEP_WAIT, wait_keys },
	{ "run", STEP_RUN, run_keys },
	{ "poweroff", STEP_POWEROFF, poweroff_keys },
};

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

/* Optional regular expression @key of @map, compiled once to validate it. */
static int get_regex(const struct ydoc *doc, const struct ynode *map,
		     const char *key, char **out)
{
	const struct ynode *n = ynode_get(map, key);
	regex_t re = { 0 };
	int rc = 0;
	int ret = get_string(doc, map, key, out);

	if (ret || !n)
		return ret;
	rc = regcomp(&re, *out, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[256] = "";

		regerror(rc, &re, msg, sizeof(msg));
		return ynode_error(doc, n, "invalid regular expression '%s' for '%s': %s",
				   *out, key, msg);
	}
	regfree(&re);
	return 0;
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
		strbuf_addf(&sb, " %s: ", console_name(st->console));
		add_oneline(&sb, st->pattern, (size_t)-1);
		break;
	case STEP_RUN:
		strbuf_addch(&sb, ' ');
		add_oneline(&sb, st->command, NAME_COMMAND_MAX);
		break;
	case STEP_BOOT:
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

static int parse_wait(const struct ydoc *doc, const struct ynode *opts,
		      const struct ynode *where, struct scenario_step *st)
{
	const struct ynode *con = ynode_get(opts, "console");
	int ret = 0;

	if (con) {
		if (con->type != YNODE_SCALAR)
			return ynode_error(doc, con, "expected a string for 'console'");
		if (!strcmp(con->scalar, "normal"))
			st->console = CON_NORMAL;
		else if (!strcmp(con->scalar, "secure"))
			st->console = CON_SECURE;
		else
			return ynode_error(doc, con,
					   "unknown console '%s' (expected normal or secure)",
					   con->scalar);
	}
	ret = get_regex(doc, opts, "pattern", &st->pattern);
	if (ret)
		return ret;
	if (!st->pattern)
		return ynode_error(doc, where, "missing 'pattern' in 'wait' step");
	return 0;
}

static int parse_run(const struct ydoc *doc, const struct ynode *value,
		     const struct ynode *opts, const struct ynode *where,
		     struct scenario_step *st)
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
		ret = ynode_get_int(doc, opts, "expect-exit", &st->expect_exit);
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
	if (!ret && !st->command)
		ret = ynode_error(doc, where, "missing 'command' in 'run' step");
	return ret;
}

static int parse_step(const struct ydoc *doc, const struct ynode *item,
		      struct scenario_step *st)
{
	const struct step_kind *kind = NULL;
	const struct ynode *outer = NULL;	/* the step map, if any */
	const struct ynode *value = NULL;	/* what the type key maps to */
	const struct ynode *opts = NULL;	/* options map, if any */
	struct ynode where = { .line = item->line, .column = item->column };
	struct strbuf what = STRBUF_INIT;
	int ret = 0;

	if (item->type == YNODE_SCALAR) {
		/* "- poweroff" */
		kind = find_kind(item->scalar);
		if (!kind) {
			ret = ynode_error(doc, item,
					  "unknown step type '%s' (expected boot, wait, run or poweroff)",
					  item->scalar);
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
			ret = ynode_error(doc, item,
					  "step has no type (expected one of boot, wait, run or poweroff)");
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

	strbuf_addf(&what, "'%s' step", kind->name);
	if (value && value->type == YNODE_MAP) {
		opts = value;
		ret = ynode_check_keys(doc, opts, strbuf_str(&what), kind->keys);
		if (ret)
			goto out;
	} else if (value && value->type == YNODE_SEQ) {
		ret = ynode_error(doc, value,
				  "expected a mapping of options for %s, got a sequence",
				  strbuf_str(&what));
		goto out;
	} else if (value && kind->type != STEP_RUN && !is_null_scalar(value)) {
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
		ret = parse_wait(doc, opts, &where, st);
		break;
	case STEP_RUN:
		ret = parse_run(doc, value, opts, &where, st);
		break;
	case STEP_BOOT:
	case STEP_POWEROFF:
		break;
	}
	if (!ret && !st->name)
		st->name = generated_name(st);
out:
	strbuf_release(&what);
	return ret;
}

static int parse_steps(const struct ydoc *doc, const struct ynode *root,
		       struct scenario *sc)
{
	const struct ynode *steps = ynode_get(root, "steps");
	const struct scenario_step *poweroff = NULL;
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

	sc->steps = xcalloc(steps->nr, sizeof(*sc->steps));
	for (size_t i = 0; i < steps->nr; i++) {
		struct scenario_step *st = &sc->steps[i];
		struct ynode pos = { 0 };

		sc->nr_steps = i + 1;	/* so that release frees this one */
		ret = parse_step(doc, steps->items[i], st);
		if (ret)
			return ret;
		pos.line = st->line;
		pos.column = st->column;
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
		if (st->type == STEP_POWEROFF)
			poweroff = st;
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
		ret = parse_timeouts(&doc, root, sc);
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

void scenario_release(struct scenario *sc)
{
	for (size_t i = 0; i < sc->nr_steps; i++) {
		struct scenario_step *st = &sc->steps[i];

		free(st->name);
		free(st->pattern);
		free(st->command);
		free(st->expect_output);
		free(st->parser);
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
