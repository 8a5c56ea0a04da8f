// SPDX-License-Identifier: MIT
/*
 * repeat.c - the repeat step: the steps it holds, `times` times. Its body
 * is parsed by scenario.c right after it and expanded by
 * scenario_select() (names get " [i/N]", metrics ".i"), so a run never
 * plays a repeat itself. See README "Scenario format".
 */
#include "step.h"

#include <stdlib.h>
#include <string.h>

#include "yamltree.h"

/* repeat: { times: N | "${param}", steps: [...] } - the times here */
static int parse_repeat(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *t = ynode_get(p->opts, "times"), *body = ynode_get(p->opts, "steps");
	const char *v = t && t->type == YNODE_SCALAR ? t->scalar : NULL;

	if (!t)
		return ynode_error(doc, p->where, "missing 'times' in 'repeat' step");
	if (!body || body->type != YNODE_SEQ || !body->nr)
		return ynode_error(doc, body ? body : p->where,
				   "'repeat' needs 'steps': a non-empty sequence of steps");
	if (!v)
		return ynode_error(doc, t, "'times' must be a number or \"${param}\"");
	if (starts_with(v, "${") && ends_with(v, "}")) {
		st->times_param = xstrndup(v + 2, strlen(v) - 3);
		if (!strvec_contains(&p->sc->param_keys, st->times_param))
			return ynode_error(doc, t, "'times' names '%s', which 'params' does not "
					   "declare", st->times_param);
		return 0;
	}
	return step_get_count(doc, t, "times", STEP_MAX_REPEAT, " or \"${param}\"", &st->times);
}

static void describe_repeat(const struct scenario_step *st, struct strbuf *sb)
{
	if (st->times_param)
		strbuf_addf(sb, " ${%s} times", st->times_param);
	else
		strbuf_addf(sb, " %u times", st->times);
}

static const char *const repeat_keys[] = { "times", "steps", NULL };
const struct step_ops step_repeat = {
	.name = "repeat", .order = 170, .keys = repeat_keys, .flags = STEP_F_CONTAINER,
	.summary = "the steps under `steps`, `times` times",
	.parse = parse_repeat, .describe = describe_repeat,
};
