// SPDX-License-Identifier: MIT
/* scenario.c - see scenario.h */
#include "scenario.h"

#include "classify.h"
#include "config.h"
#include "step.h"
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

static const char *const scenario_keys[] = {
	"name", "description", "profile", "kernel-cmdline", "network", "cold-boot",
	"timeouts", "steps", "params", "expect", "cells", "default-cell", "ignore-kernel-bugs", NULL
};
static const char *const cell_keys[] = {
	"description", "kernel", "secure", "optee-flags", "params", "expect", NULL
};
/* Verdicts a scenario or cell may expect (results.h names). */
static const char *const expectable[] = {
	"PASS", "FAIL", "DEADLOCK", "HANG", "TIMEOUT", "KERNEL_PANIC", "KERNEL_BUG", "TEE_PANIC", NULL
};
#define PARAM_VALUE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:/=+-"
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
static const char *const timeouts_keys[] = {
	"boot", "step", "run", "hang", NULL
};
/* Keys of a step map besides its type key (the kind's options go under it too). */
static const char *const common_keys[] = { "name", "xfail" };

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

/* "boot, expect, ..., measure or repeat" (aliases left out), for messages. */
static char *kind_list(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t nr;
	const struct step_ops *const *k = step_kinds(&nr);

	for (size_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addstr(&sb, i == nr - 1 ? " or " : ", ");
		strbuf_addstr(&sb, k[i]->name);
	}
	return strbuf_detach(&sb);
}

/* A scalar that YAML reads as null: "key:" with nothing, "~" or "null". */
bool step_is_null(const struct ynode *n)
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
int step_get_string(const struct ydoc *doc, const struct ynode *map,
		      const char *key, char **out)
{
	return get_str_opt(doc, map, key, false, out);
}

/* Compile @re_str once to validate it; a bad one is an error at @n. */
int step_check_regex(const struct ydoc *doc, const struct ynode *n,
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
int step_get_regex(const struct ydoc *doc, const struct ynode *map,
		     const char *key, char **out)
{
	const struct ynode *n = ynode_get(map, key);
	int ret = step_get_string(doc, map, key, out);

	if (ret || !n)
		return ret;
	return step_check_regex(doc, n, key, *out);
}

/* Optional number of seconds; > 0, or >= 0 when @zero_ok. */
int step_get_seconds(const struct ydoc *doc, const struct ynode *map,
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

int step_get_number_or_param(const struct step_parse *p, const char *key, double *out,
			     char **param)
{
	const struct ynode *n = ynode_get(p->opts, key);
	const char *v = n && n->type == YNODE_SCALAR ? n->scalar : NULL;

	if (v && starts_with(v, "${") && ends_with(v, "}")) {
		free(*param);
		*param = xstrndup(v + 2, strlen(v) - 3);
		if (!strvec_contains(&p->sc->param_keys, *param))
			return ynode_error(p->doc, n, "'%s' names '%s', which 'params' does not declare",
					   key, *param);
		return 0;
	}
	return ynode_get_double(p->doc, p->opts, key, out);
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
void step_add_oneline(struct strbuf *sb, const char *s, size_t max)
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
	ret = step_get_string(doc, outer, key, out);
	if (!ret)
		ret = step_get_string(doc, opts, key, out);
	return ret;
}

/* Optional "console" of @opts into *out. */
int step_get_count(const struct ydoc *doc, const struct ynode *n, const char *key, unsigned max,
		   const char *alt, unsigned *out)
{
	const char *v = n->type == YNODE_SCALAR ? n->scalar : NULL;
	char *end = NULL;
	unsigned long x = v ? strtoul(v, &end, 10) : 0;

	if (!v || !*v || *end || x < 1 || x > max)
		return ynode_error(doc, n, "'%s' must be 1..%u%s, got '%s'", key, max, alt,
				   v ? v : "(not a number)");
	*out = (unsigned)x;
	return 0;
}

int step_get_console(const struct ydoc *doc, const struct ynode *opts,
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
int step_get_channel(const struct step_parse *p, const char *needs_ssh,
		     struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *opts = p->opts;
	const struct scenario *sc = p->sc;
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
int step_get_checks(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *opts = p->opts;
	int ret = ynode_get_int(doc, opts, "expect-exit", &st->expect_exit);

	if (!ret && (st->expect_exit < 0 || st->expect_exit > 255))
		ret = ynode_error(doc, ynode_get(opts, "expect-exit"),
				  "'expect-exit' must be between 0 and 255");
	if (!ret)
		ret = step_get_regex(doc, opts, "expect-output", &st->expect_output);
	if (!ret)
		ret = step_get_string(doc, opts, "parser", &st->parser);
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
int step_get_list(const struct ydoc *doc, const struct ynode *n,
		    const char *key, char ***out, size_t *nr)
{
	size_t count = n->type == YNODE_SEQ ? n->nr : 1;
	char **list = NULL;

	if (n->type == YNODE_MAP)
		return ynode_error(doc, n,
				   "expected a string or a list of strings for '%s', got a mapping",
				   key);
	if (step_is_null(n) || (n->type == YNODE_SEQ && !n->nr))
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

/* Item @i of what step_get_list() read from @n, for locating errors. */
const struct ynode *step_list_item(const struct ynode *n, size_t i)
{
	return n->type == YNODE_SEQ ? n->items[i] : n;
}

/* A guest path for @key: absolute, no ".." component. */
int step_check_guest_path(const struct ydoc *doc, const struct ynode *n,
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
int step_get_guest_path(const struct ydoc *doc, const struct ynode *opts,
			  const char *key, char **out)
{
	int ret = step_get_string(doc, opts, key, out);

	if (ret || !*out)
		return ret;
	return step_check_guest_path(doc, ynode_get(opts, key), key, *out);
}

const struct scenario_step *step_find_before(const struct scenario *sc,
					     const struct scenario_step *st,
					     const struct step_ops *kind, const char *id)
{
	for (const struct scenario_step *p = sc->steps; p < st; p++) {
		const char *key = kind == &step_measure ? p->metric : p->id;

		if (p->ops == kind && key && !strcmp(key, id))
			return p;
	}
	return NULL;
}

/*
 * "id" of a background, join or kill step: from the shorthand @value or
 * the options. A background id is new; a join or kill names an earlier
 * background step.
 */
int step_get_id(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *value = p->value, *opts = p->opts;
	const struct ynode *n = ynode_get(opts, "id");
	const struct scenario_step *bg = NULL;
	int ret = 0;

	if (value && value->type == YNODE_SCALAR && !step_is_null(value)) {
		/* shorthand "join: <id>" */
		n = value;
		st->id = xstrdup(value->scalar);
	} else {
		ret = step_get_string(doc, opts, "id", &st->id);
		if (ret)
			return ret;
	}
	if (!st->id)
		return ynode_error(doc, p->where, "missing 'id' in '%s' step", p->key);
	if (strspn(st->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_-") != strlen(st->id))
		return ynode_error(doc, n,
				   "invalid id '%s' (letters, digits, '_' and '-' only)",
				   st->id);
	bg = step_find_before(p->sc, st, &step_background, st->id);
	if (st->ops == &step_background && bg)
		return ynode_error(doc, n,
				   "duplicate background id '%s' (first at line %u)",
				   st->id, bg->line);
	if (st->ops != &step_background && !bg)
		return ynode_error(doc, n,
				   "unknown background id '%s' (it must name an earlier 'background' step)",
				   st->id);
	return 0;
}

/* NULL-terminated keys: @kind's options and the keys every step has. */
static void step_keys_of(const struct step_ops *kind, struct strvec *out)
{
	for (const char *const *k = kind->keys; k && *k; k++)
		strvec_push(out, *k);
	for (size_t i = 0; i < ARRAY_SIZE(common_keys); i++)
		strvec_push(out, common_keys[i]);
}

/* The keys a step map may have: every kind's name and alias, and the common keys. */
static void step_map_keys(struct strvec *out)
{
	size_t nr;
	const struct step_ops *const *k = step_kinds(&nr);

	for (size_t i = 0; i < nr; i++) {
		strvec_push(out, k[i]->name);
		for (const char *const *a = k[i]->aliases; a && *a; a++)
			strvec_push(out, *a);
	}
	for (size_t i = 0; i < ARRAY_SIZE(common_keys); i++)
		strvec_push(out, common_keys[i]);
}

/*
 * Parse one step into @st, the last of sc->steps so far: the steps
 * before it are complete (a join names an earlier background step).
 * The shape (one type key, its value's form, known keys) is checked here;
 * the kind's own options by its parse().
 */
static int parse_step(const struct ydoc *doc, const struct ynode *item,
		      const struct scenario *sc, struct scenario_step *st)
{
	const struct step_ops *kind = NULL;
	const char *kind_key = NULL;		/* as written: a name or an alias */
	const struct ynode *outer = NULL;	/* the step map, if any */
	const struct ynode *value = NULL;	/* what the type key maps to */
	const struct ynode *opts = NULL;	/* options map, if any */
	struct ynode where = { .line = item->line, .column = item->column };
	struct strbuf what = STRBUF_INIT;
	struct strvec keys = STRVEC_INIT;
	char *kinds = NULL;
	int ret = 0;

	if (item->type == YNODE_SCALAR) {
		/* "- poweroff" */
		kind = step_kind_find(item->scalar);
		kind_key = item->scalar;
		if (!kind) {
			kinds = kind_list();
			ret = ynode_error(doc, item,
					  "unknown step type '%s' (expected %s)",
					  item->scalar, kinds);
			goto out;
		}
	} else if (item->type == YNODE_MAP) {
		outer = item;
		step_map_keys(&keys);
		ret = ynode_check_keys(doc, item, "step", (const char *const *)keys.v);
		strvec_release(&keys);
		if (ret)
			goto out;
		for (size_t i = 0; i < item->nr; i++) {
			const struct step_ops *k = step_kind_find(item->keys[i]);

			if (!k)
				continue;
			if (kind) {
				struct ynode pos = { .line = item->key_lines[i],
						     .column = item->key_columns[i] };

				ret = ynode_error(doc, &pos,
						  "a step has exactly one type, got '%s' and '%s'",
						  kind_key, item->keys[i]);
				goto out;
			}
			kind = k;
			kind_key = item->keys[i];
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

	st->ops = kind;
	st->line = where.line;
	st->column = where.column;
	st->console = CON_NORMAL;
	st->expect_exit = 0;
	st->timeout = 0;
	st->channel = CHAN_AUTO;

	strbuf_addf(&what, "'%s' step", kind_key);
	if (value && value->type == YNODE_MAP) {
		opts = value;
		step_keys_of(kind, &keys);
		ret = ynode_check_keys(doc, opts, strbuf_str(&what), (const char *const *)keys.v);
		if (ret)
			goto out;
	} else if (value && value->type == YNODE_SEQ && !(kind->forms & STEP_FORM_SEQ)) {
		ret = ynode_error(doc, value,
				  "expected a mapping of options for %s, got a sequence",
				  strbuf_str(&what));
		goto out;
	} else if (value && value->type == YNODE_SCALAR &&
		   !(kind->forms & STEP_FORM_SCALAR) && !step_is_null(value)) {
		ret = ynode_error(doc, value,
				  "expected a mapping of options for %s, got '%s'",
				  strbuf_str(&what), value->scalar);
		goto out;
	}

	ret = get_common(doc, outer, opts, "name", &st->name);
	if (!ret)
		ret = get_common(doc, outer, opts, "xfail", &st->xfail);
	if (!ret)
		ret = step_get_seconds(doc, opts, "timeout", true, &st->timeout);
	if (!ret && kind->parse) {
		struct step_parse p = { .doc = doc, .sc = sc, .kind = kind, .key = kind_key, .value = value,
					.opts = opts, .where = &where };

		ret = kind->parse(&p, st);
	}
	if (!ret && !st->name) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addstr(&name, kind->name);
		if (kind->describe)
			kind->describe(st, &name);
		st->name = strbuf_detach(&name);
	}
out:
	free(kinds);
	strvec_release(&keys);
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
		if (!(sc->steps[at].ops->flags & STEP_F_CONTAINER))
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

		if (i == 0 && st->ops != &step_boot)
			return ynode_error(doc, &pos,
					   "the first step must be 'boot', got '%s'",
					   st->ops->name);
		if (i > 0 && st->ops == &step_boot)
			return ynode_error(doc, &pos,
					   "only one 'boot' step is supported (first at line %u)",
					   sc->steps[0].line);
		if (poweroff)
			return ynode_error(doc, &pos,
					   "no step can follow 'poweroff' (at line %u)",
					   poweroff->line);
		if (st->ops == &step_poweroff && i < repeat_end)
			return ynode_error(doc, &pos,
					   "'poweroff' cannot be repeated (the 'repeat' at line %u)",
					   repeat_line);
		if (st->ops == &step_poweroff)
			poweroff = st;
		if (st->ops->flags & STEP_F_CONTAINER) {
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

	if (!t || step_is_null(t))
		return 0;
	ret = ynode_check_keys(doc, t, "'timeouts'", timeouts_keys);
	if (!ret)
		ret = step_get_seconds(doc, t, "boot", false, &sc->boot_timeout);
	if (!ret)
		ret = step_get_seconds(doc, t, "step", false, &sc->step_timeout);
	if (!ret)
		ret = step_get_seconds(doc, t, "run", false, &sc->run_timeout);
	if (!ret)
		ret = step_get_seconds(doc, t, "hang", false, &sc->hang_window);
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
	int ret = step_get_string(doc, map, "expect", out);

	if (ret || !*out)
		return ret;
	for (size_t i = 0; expectable[i]; i++)
		if (!strcmp(*out, expectable[i]))
			return 0;
	return ynode_error(doc, ynode_get(map, "expect"),
			   "unknown verdict '%s' for 'expect' (PASS, FAIL, DEADLOCK, HANG, TIMEOUT, "
			   "KERNEL_PANIC, KERNEL_BUG or TEE_PANIC)", *out);
}

/* "ignore-kernel-bugs: [HUNG_TASK, ...]" (kinds of classify.h, or "all") into a mask. */
static int get_ignore_kernel_bugs(const struct ydoc *doc, const struct ynode *root, unsigned *mask)
{
	const struct ynode *n = ynode_get(root, "ignore-kernel-bugs");
	char **list = NULL;
	size_t nr = 0;
	int ret;

	if (!n)
		return 0;
	ret = step_get_list(doc, n, "ignore-kernel-bugs", &list, &nr);
	for (size_t i = 0; !ret && i < nr; i++) {
		enum kreport_kind k = kreport_kind_parse(list[i]);

		if (!strcmp(list[i], "all"))
			*mask = ~0u;
		else if (k != KREPORT_NONE)
			*mask |= 1u << k;
		else
			ret = ynode_error(doc, step_list_item(n, i),
					  "unknown kind of kernel report '%s' for 'ignore-kernel-bugs' "
					  "(KASAN, BUG, OOPS, WARNING, HUNG_TASK, KMEMLEAK or all)", list[i]);
	}
	for (size_t i = 0; i < nr; i++)
		free(list[i]);
	free(list);
	return ret;
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
			ret = step_get_string(doc, v, "description", &c->description);
		if (!ret)
			ret = step_get_string(doc, v, "kernel", &c->kernel);
		if (!ret)
			ret = step_get_string(doc, v, "secure", &c->secure);
		if (!ret)
			ret = get_expect(doc, v, &c->expect);
		if (!ret && flags)
			ret = step_get_list(doc, flags, "optee-flags", &c->optee_flags,
				       &c->nr_optee_flags);
		for (size_t k = 0; !ret && k < c->nr_optee_flags; k++) {
			const char *f = c->optee_flags[k];
			size_t m = strspn(f, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

			if (!m || f[m] != '=' || strspn(f + m + 1, PARAM_VALUE_CHARS) !=
			    strlen(f + m + 1))
				ret = ynode_error(doc, step_list_item(flags, k),
						  "OP-TEE flag '%s' is not NAME=VALUE", f);
		}
		if (!ret)
			ret = parse_params(doc, ynode_get(v, "params"), &c->param_keys,
					   &c->param_values);
	}
	if (!ret)
		ret = step_get_string(doc, root, "default-cell", &sc->default_cell);
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
		ret = error_code(-EINVAL, "%s:1:1: empty scenario (expected a mapping with 'steps')",
				 path);
		goto out;
	}
	ret = ynode_check_keys(&doc, root, "scenario", scenario_keys);
	if (!ret)
		ret = step_get_string(&doc, root, "name", &sc->name);
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
		ret = ynode_get_bool(&doc, root, "cold-boot", &sc->cold_boot);
	if (!ret)
		ret = parse_timeouts(&doc, root, sc);
	if (!ret)
		ret = parse_params(&doc, ynode_get(root, "params"), &sc->param_keys,
				   &sc->param_values);
	if (!ret)
		ret = get_expect(&doc, root, &sc->expect);
	if (!ret)
		ret = get_ignore_kernel_bugs(&doc, root, &sc->kernel_bugs_ignore);
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

		if (st->data && st->ops && st->ops->release)
			st->ops->release(st->data);
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
		free(st->min_param);
		free(st->max_param);
		free(st->detect_after_param);
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

/* @field of @st, once parameters are substituted, must still compile. 0 or -EINVAL (reported). */
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
	return error_code(-EINVAL, "%s:%u: invalid regular expression '%s' for '%s' (parameters "
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
	dst->detect_state = src->detect_state;
	dst->detect_after_param = dup_or_null(src->detect_after_param);
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
	dst->min_param = dup_or_null(src->min_param);
	dst->max_param = dup_or_null(src->max_param);
	dst->absent = dup_list(src->absent);
	dst->metric = src->metric ? xasprintf("%s.%u", src->metric, i) : NULL;
	dst->at_least = dup_or_null(src->at_least);
	/* a bound by a metric of the same body is this iteration's */
	for (size_t k = 0; src->at_least && k < nr_body; k++)
		if (body[k].ops == &step_measure && !strcmp(body[k].metric, src->at_least)) {
			free(dst->at_least);
			dst->at_least = xasprintf("%s.%u", src->at_least, i);
			break;
		}
	dst->xfail = dup_or_null(src->xfail);
	dst->data = src->data && src->ops->dup ? src->ops->dup(src->data) : NULL;
}

/* A "${param}" bound (*param) of @st's @key into *out; *param freed. 0 or -EINVAL (reported). */
static int resolve_bound(const struct scenario *sc, const struct scenario_step *st,
			 const char *key, char **param, double *out, const struct strvec *keys,
			 const struct strvec *values)
{
	const char *v;
	char *end = NULL;

	if (!*param)
		return 0;
	v = param_value(keys, values, *param);
	if (v && *v)
		*out = strtod(v, &end);
	if (!v || !*v || *end)
		return error_code(-EINVAL, "%s:%u: '%s' is ${%s} = '%s', not a number", sc->path,
				  st->line, key, *param, v ? v : "");
	free(*param);
	*param = NULL;
	return 0;
}

/* Replace every repeat step by `times` copies of its body. 0 or -EINVAL (reported). */
static int expand_repeats(struct scenario *sc, const struct strvec *keys,
			  const struct strvec *values)
{
	struct scenario_step *out = NULL;
	size_t nr = 0, cap = 0;

	for (size_t i = 0; i < sc->nr_steps; i++) {
		struct scenario_step *st = &sc->steps[i];
		const struct scenario_step *body = st + 1;
		unsigned times = st->times;

		if (!(st->ops->flags & STEP_F_CONTAINER)) {
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

			if (!v || !*v || *end || n < 1 || n > STEP_MAX_REPEAT) {
				error("%s:%u: 'times' is ${%s} = '%s', not 1..%d", sc->path, st->line,
				      st->times_param, v ? v : "", STEP_MAX_REPEAT);
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
			ret = error_code(-EINVAL, "--param '%s': expected key=value, the value in "
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
	for (size_t i = 0; i < sc->nr_steps && !ret; i++) {
		struct scenario_step *st = &sc->steps[i];

		ret = resolve_bound(sc, st, "min", &st->min_param, &st->min, &keys, &values);
		if (!ret)
			ret = resolve_bound(sc, st, "max", &st->max_param, &st->max, &keys, &values);
		if (!ret && st->has_min && st->has_max && st->min > st->max)
			ret = error_code(-EINVAL, "%s:%u: 'max' (%g) is below 'min' (%g) here", sc->path,
					 st->line, st->max, st->min);
		if (!ret)
			ret = resolve_bound(sc, st, "detect-after", &st->detect_after_param,
					    &st->detect_after, &keys, &values);
		if (!ret && st->detect_state && !(st->detect_after > 0 && st->detect_after < st->stall))
			ret = error_code(-EINVAL, "%s:%u: 'detect-after' is %g here, not above 0 and "
					 "below 'stall' (%g s)", sc->path, st->line, st->detect_after,
					 st->stall);
	}
	if (!ret)
		ret = expand_repeats(sc, &keys, &values);
	for (size_t i = 0; i < sc->nr_steps && !ret; i++) {
		const char *to = sc->steps[i].to;

		if (to && (!*to || strspn(to, NAME_CHARS) != strlen(to)))
			ret = error_code(-EINVAL, "%s:%u: kexec 'to' is '%s' here: one kernel name (a list "
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
			return error_code(-EINVAL, "%s:%u: too many OP-TEE flags", sc->path, sc->cell->line);
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

bool scenario_has_kexec(const struct scenario *sc)
{
	for (size_t i = 0; i < sc->nr_steps; i++)
		if (sc->steps[i].ops == &step_kexec || sc->steps[i].kdump)
			return true;
	return false;
}

bool scenario_needs_lab_disk(const struct scenario *sc)
{
	if (!sc->nr_steps || scenario_has_kexec(sc))
		return true;
	for (size_t i = 0; i < sc->nr_steps; i++)
		if (sc->steps[i].command && strstr(sc->steps[i].command, "tl-kexec"))
			return true;
	return false;
}

void scenario_kexec_targets(const struct scenario *sc, struct strvec *out)
{
	for (size_t i = 0; i < sc->nr_steps; i++)
		if (sc->steps[i].ops == &step_kexec && sc->steps[i].to &&
		    !strvec_contains(out, sc->steps[i].to))
			strvec_push(out, sc->steps[i].to);
}

const char *scenario_expected(const struct scenario *sc)
{
	if (sc->cell && sc->cell->expect)
		return sc->cell->expect;
	return sc->expect ? sc->expect : "PASS";
}
