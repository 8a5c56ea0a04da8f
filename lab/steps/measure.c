// SPDX-License-Identifier: MIT
/*
 * measure.c - the measure step: a number into result.json "metrics",
 * checked against bounds. See README "Scenario format".
 */
#include "engine.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool valid_metric(const char *m)
{
	return *m && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == strlen(m);
}

/*
 * measure: { metric: <name>, command: <guest command> | pattern: <ERE>
 *            [console: ...], min: N, max: N, at-least: <earlier metric> }
 */
static int parse_measure(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *opts = p->opts;
	const struct scenario_step *prev = NULL;
	int ret = step_get_string(doc, opts, "metric", &st->metric);

	if (!ret && !st->metric)
		return ynode_error(doc, p->where, "missing 'metric' in 'measure' step");
	if (!ret && !valid_metric(st->metric))
		return ynode_error(doc, ynode_get(opts, "metric"),
				   "invalid metric '%s' (letters, digits, '_', '.' and '-' only)",
				   st->metric);
	if (!ret && (prev = step_find_before(p->sc, st, &step_measure, st->metric)))
		return ynode_error(doc, ynode_get(opts, "metric"),
				   "duplicate metric '%s' (first at line %u)", st->metric,
				   prev->line);
	if (!ret)
		ret = step_get_string(doc, opts, "command", &st->command);
	if (!ret)
		ret = step_get_regex(doc, opts, "pattern", &st->pattern);
	if (!ret)
		ret = step_get_console(doc, opts, &st->console);
	if (!ret)
		ret = step_get_channel(p, NULL, st);
	if (ret)
		return ret;
	if (!st->command == !st->pattern)
		return ynode_error(doc, p->where,
				   "a 'measure' step needs exactly one of 'command' and 'pattern'");
	if (st->command && ynode_get(opts, "console"))
		return ynode_error(doc, ynode_get(opts, "console"),
				   "'console' goes with 'pattern', not 'command'");
	if (st->pattern && ynode_get(opts, "channel"))
		return ynode_error(doc, ynode_get(opts, "channel"),
				   "'channel' goes with 'command', not 'pattern'");
	st->has_min = ynode_get(opts, "min") != NULL;
	st->has_max = ynode_get(opts, "max") != NULL;
	ret = step_get_number_or_param(p, "min", &st->min, &st->min_param);
	if (!ret)
		ret = step_get_number_or_param(p, "max", &st->max, &st->max_param);
	if (!ret && st->has_min && st->has_max && !st->min_param && !st->max_param &&
	    st->min > st->max)
		return ynode_error(doc, ynode_get(opts, "max"), "'max' (%g) is below 'min' (%g)",
				   st->max, st->min);
	if (!ret)
		ret = step_get_string(doc, opts, "at-least", &st->at_least);
	if (!ret && st->at_least && !step_find_before(p->sc, st, &step_measure, st->at_least))
		return ynode_error(doc, ynode_get(opts, "at-least"),
				   "unknown metric '%s' (it must name an earlier 'measure' step)",
				   st->at_least);
	return ret;
}

static void describe_measure(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %s", st->metric);
}

/* The first number in @out (a decimal integer or real); false if none. */
static bool first_number(const char *out, double *value)
{
	for (const char *p = out; *p; p++) {
		char *end = NULL;

		if (!isdigit((unsigned char)*p) &&
		    !((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))
			continue;
		*value = strtod(p, &end);
		if (end != p)
			return true;
	}
	return false;
}

/*
 * Take the value (a guest command's first number, or a count of console
 * lines), record it in the run's metrics, then check min/max and
 * at-least. A value that can't be taken records nothing and fails.
 */
static enum outcome play_measure(struct engine *e, size_t n, const struct scenario_step *st,
				 struct step_report *r)
{
	double value = 0, floor = 0;
	enum outcome p = O_DONE;

	if (st->pattern) {
		/* lines of that console's history: the whole run */
		value = (double)engine_match_lines(strbuf_str(&e->con[st->console].history),
						   st->pattern, false, NULL);
	} else {
		const char *out;

		p = engine_guest_command(e, st->channel, st->command, r->timeout, NULL);
		out = strbuf_str(&e->cmd_out);
		engine_save_step_file(e, n, "run.log", out);
		if (p != O_DONE)
			return p;
		if (e->cmd_rc)
			r->msg = xasprintf("exit status %d: %s", e->cmd_rc, engine_tail(out));
		else if (!first_number(out, &value))
			r->msg = xasprintf("no number in the output: %s", engine_tail(out));
		if (r->msg)
			return p;
	}
	run_result_metric(e->res, st->metric, value);
	r->output = xasprintf("%s = %.15g\n", st->metric, value);
	if (st->has_min && value < st->min)
		r->msg = xasprintf("%s = %.15g, below the minimum %.15g", st->metric, value, st->min);
	else if (st->has_max && value > st->max)
		r->msg = xasprintf("%s = %.15g, above the maximum %.15g", st->metric, value, st->max);
	else if (st->at_least && run_result_get_metric(e->res, st->at_least, &floor) &&
		 value < floor)
		r->msg = xasprintf("%s = %.15g, below %s = %.15g", st->metric, value,
				   st->at_least, floor);
	else if (st->at_least && !run_result_get_metric(e->res, st->at_least, &floor))
		r->msg = xasprintf("%s = %.15g, but %s was never measured", st->metric, value,
				   st->at_least);
	return p;
}

static const char *const measure_keys[] = {
	"metric", "command", "channel", "console", "pattern", "min", "max", "at-least", "timeout",
	NULL
};
const struct step_ops step_measure = {
	.name = "measure", .order = 160, .keys = measure_keys,
	.summary = "record a number in result.json \"metrics\" and check its bounds",
	.parse = parse_measure, .describe = describe_measure, .play = play_measure,
};
