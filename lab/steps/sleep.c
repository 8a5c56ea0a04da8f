// SPDX-License-Identifier: MIT
/*
 * sleep.c - the sleep step: let the lab run for a while, reading both
 * consoles ("sleep: 2" or "sleep: { seconds: 2 }"). A panic during the
 * sleep ends the next step that waits; QEMU exiting ends this one (INFRA).
 * The smallest step kind: a file of its own is all it takes (step.h).
 */
#include "engine.h"

#include <stdlib.h>

static int parse_sleep(const struct step_parse *p, struct scenario_step *st)
{
	double *secs = xmalloc(sizeof(*secs));
	char *end = NULL;
	int ret = 0;

	st->data = secs;
	*secs = 0;
	if (p->value && p->value->type == YNODE_SCALAR && !step_is_null(p->value)) {
		/* shorthand "sleep: <seconds>" */
		*secs = strtod(p->value->scalar, &end);
		if (end == p->value->scalar || *end)
			ret = ynode_error(p->doc, p->value, "expected a number of seconds for 'sleep', "
					  "got '%s'", p->value->scalar);
	} else {
		ret = step_get_seconds(p->doc, p->opts, "seconds", false, secs);
	}
	if (!ret && *secs <= 0)
		ret = ynode_error(p->doc, p->where, "'sleep' needs a positive number of seconds");
	return ret;
}

static void describe_sleep(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %g s", *(const double *)st->data);
}

static enum outcome play_sleep(struct engine *e, size_t n, const struct scenario_step *st,
			       struct step_report *r)
{
	enum outcome o;

	(void)n;
	r->timeout = *(const double *)st->data;
	e->wait = W_EXIT;	/* nothing to wait for but the time (or QEMU's end) */
	o = engine_pump(e, now_mono() + r->timeout);
	return o == O_TIMEOUT ? O_DONE : o;
}

static void *dup_sleep(const void *data)
{
	double *copy = xmalloc(sizeof(*copy));

	*copy = *(const double *)data;
	return copy;
}

static const char *const sleep_keys[] = { "seconds", NULL };
const struct step_ops step_sleep = {
	.name = "sleep", .order = 145, .keys = sleep_keys, .forms = STEP_FORM_SCALAR,
	.summary = "let the lab run for some seconds, both consoles read",
	.parse = parse_sleep, .describe = describe_sleep, .play = play_sleep,
	.release = free, .dup = dup_sleep,
};
