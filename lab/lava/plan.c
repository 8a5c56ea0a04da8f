// SPDX-License-Identifier: MIT
/*
 * plan.c - which LAVA form carries each scenario step (lava.h), and the
 * translation of a step's pattern (POSIX ERE, matched per console line)
 * into the Python regular expression LAVA's pexpect searches the stream
 * with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lava.h"
#include "step.h"

/* POSIX bracket classes and their members, for Python's re (which has none). */
static const struct {
	const char *name, *members;
} classes[] = {
	{ "digit", "0-9" }, { "alpha", "A-Za-z" }, { "alnum", "A-Za-z0-9" },
	{ "upper", "A-Z" }, { "lower", "a-z" }, { "xdigit", "0-9A-Fa-f" },
	{ "space", " \\t\\r\\n\\v\\f" }, { "blank", " \\t" },
};

int lava_pattern(const char *ere, struct strbuf *out, const char **why)
{
	bool in_bracket = false;
	const char *p = ere;

	/* (?m): ^ and $ at line ends; LAVA's pexpect searches with DOTALL */
	strbuf_addstr(out, "(?m)");
	while (*p) {
		char c = *p;

		if (in_bracket) {
			if (c == '[' && p[1] == ':') {
				const char *end = strstr(p + 2, ":]");
				size_t k;

				for (k = 0; end && k < ARRAY_SIZE(classes); k++)
					if ((size_t)(end - p - 2) == strlen(classes[k].name) &&
					    !strncmp(p + 2, classes[k].name, (size_t)(end - p - 2)))
						break;
				if (!end || k == ARRAY_SIZE(classes)) {
					*why = "a POSIX bracket class Python's re has no equivalent for";
					return -EINVAL;
				}
				strbuf_addstr(out, classes[k].members);
				p = end + 2;
				continue;
			}
			if (c == '\\')	/* a literal backslash in an ERE bracket */
				strbuf_addstr(out, "\\\\");
			else
				strbuf_addch(out, c);
			if (c == ']')	/* a leading ']' was taken as a member at '[' */
				in_bracket = false;
			p++;
			continue;
		}
		switch (c) {
		case '[':
			in_bracket = true;
			strbuf_addch(out, '[');
			if (p[1] == '^') {
				/* a line never holds a line end: nor may a negated class */
				strbuf_addstr(out, "^\\r\\n");
				p++;
			}
			if (p[1] == ']') {	/* a leading ']' is a member */
				strbuf_addstr(out, "\\]");
				p++;
			}
			break;
		case '.':
			strbuf_addstr(out, "[^\\r\\n]");
			break;
		case '$':
			strbuf_addstr(out, "\\r?$");
			break;
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				*why = "a back-reference";
				return -EINVAL;
			}
			if (!p[1]) {
				*why = "a trailing backslash";
				return -EINVAL;
			}
			/* ERE escapes of punctuation are Python's too; \<letter> is undefined in ERE */
			if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')) {
				*why = "a backslash-letter escape, which ERE leaves undefined";
				return -EINVAL;
			}
			strbuf_addch(out, '\\');
			strbuf_addch(out, p[1]);
			p++;
			break;
		default:
			strbuf_addch(out, c);
		}
		p++;
	}
	/*
	 * The rest of the line is consumed with the match: as teelab's cursor,
	 * the next pattern on this console is searched from the next line.
	 */
	strbuf_addstr(out, "[^\\n]*\\n");
	return 0;
}

/* @name as a LAVA test case or definition name: [a-z0-9._-], at most 48 bytes. */
static void slug(struct strbuf *sb, const char *name)
{
	size_t start = sb->len;
	bool dash = false;

	for (const char *p = name; *p && sb->len - start < 48; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_') {
			strbuf_addch(sb, c);
			dash = false;
		} else if (!dash && sb->len > start) {
			strbuf_addch(sb, '-');
			dash = true;
		}
	}
	while (sb->len > start && sb->buf[sb->len - 1] == '-')
		sb->buf[--sb->len] = '\0';
	if (sb->len == start)
		strbuf_addstr(sb, "step");
}

/* The step's test case name: "NN-<slug>" (NN its 1-based number). */
static char *case_name(size_t n, const struct scenario_step *st)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%02zu-", n + 1);
	slug(&sb, st->name);
	return strbuf_detach(&sb);
}

/* Why @st has no faithful LAVA form (malloc'd), or NULL when it has one (*form set). */
static char *form_of(size_t n, const struct scenario_step *st, enum lava_form *form)
{
	const struct step_ops *k = st->ops;
	const char *why = NULL;

	*form = LAVA_FORM_NONE;
	if (k == &step_boot) {
		*form = LAVA_FORM_BOOT;
		if (n)
			why = "a second power-on: teelab's export makes one boot action";
	} else if (k == &step_expect) {
		struct strbuf re = STRBUF_INIT;
		int bad = lava_pattern(st->pattern, &re, &why);

		strbuf_release(&re);
		*form = LAVA_FORM_EXPECT;
		if (bad)
			return xasprintf("its pattern has %s", why);
	} else if (k == &step_run) {
		*form = LAVA_FORM_RUN;
		if (st->channel == CHAN_SSH)
			why = "an SSH command: a LAVA job reaches the guest on its serial console only";
	} else if (k == &step_assert) {
		*form = LAVA_FORM_IMPORT;
	} else if (k == &step_poweroff) {
		*form = LAVA_FORM_POWEROFF;
	} else if (!strcmp(k->name, "sleep")) {
		*form = LAVA_FORM_SLEEP;
	} else if (k == &step_expect_not) {
		why = "an expect-not window: LAVA waits for a line, it cannot watch that none "
		      "comes for a time";
	} else if ((k == &step_background || k == &step_join || k == &step_kill) && st->progress) {
		why = "DEADLOCK detection (a background command's progress and stall window) "
		      "has no LAVA form";
	} else if (k == &step_background || k == &step_join || k == &step_kill ||
		   k == &step_parallel) {
		why = "commands at once over SSH: a LAVA job has only the serial console, one "
		      "command at a time";
	} else if (k == &step_collect) {
		why = "collect copies guest files over SFTP into the run directory: a LAVA job "
		      "has no such channel";
	} else if (k == &step_measure) {
		why = "measure (metrics with bounds) is not exported yet";
	} else if (k == &step_reboot) {
		*form = LAVA_FORM_REBOOT;
	} else if (k == &step_kexec || k == &step_sysrq) {
		why = "a kexec or sysrq mid-job (the lab kernel's disk, QMP evidence, the "
		      "capture kernel) is not exported yet";
	} else {
		why = "this kind of step has no LAVA form";
	}
	return why ? xstrdup(why) : NULL;
}

int lava_plan(const struct scenario *sc, bool lossy, struct lava_plan *plan)
{
	int ret = 0;

	memset(plan, 0, sizeof(*plan));
	plan->nr = sc->nr_steps;
	plan->steps = xcalloc(sc->nr_steps ? sc->nr_steps : 1, sizeof(*plan->steps));
	if (!sc->nr_steps || sc->steps[0].ops != &step_boot)
		ret = error_code(-EINVAL, "%s: a LAVA job starts by booting: the scenario's "
				 "first step must be 'boot'", sc->path);
	for (size_t i = 0; i < sc->nr_steps; i++) {
		const struct scenario_step *st = &sc->steps[i];
		struct lava_step *ls = &plan->steps[i];
		char *why = form_of(i, st, &ls->form);

		ls->tcase = case_name(i, st);
		if (!why)
			continue;
		ls->why = why;
		ls->form = LAVA_FORM_NONE;
		if (lossy) {
			warning("%s:%u: step %zu '%s' (%s) dropped: no faithful LAVA form: %s",
				sc->path, st->line, i + 1, st->name, st->ops->name, why);
			plan->nr_dropped++;
		} else {
			ret = error_code(-EINVAL, "%s:%u: step %zu '%s' (%s): no faithful LAVA "
					 "form: %s", sc->path, st->line, i + 1, st->name,
					 st->ops->name, why);
		}
	}
	if (ret)
		lava_plan_release(plan);
	return ret;
}

void lava_plan_release(struct lava_plan *plan)
{
	for (size_t i = 0; i < plan->nr; i++) {
		free(plan->steps[i].tcase);
		free(plan->steps[i].why);
	}
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}
