// SPDX-License-Identifier: MIT
/*
 * command.c - the steps that run guest commands: run, background, join,
 * kill, parallel. A command is busybox sh text run over SSH or the serial
 * shell (channel); background and parallel need SSH. See README
 * "Scenario format".
 */
#include "engine.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Copies of a parallel step's command when `copies` is not given. */
#define DEFAULT_COPIES 2
/* Seconds without a progress line before a background command is stalled. */
#define DEFAULT_STALL 20
#define DEFAULT_DETECT_AFTER 1.0	/* seconds without progress before the first state read */

/* ---- run ---- */

static int parse_run(const struct step_parse *p, struct scenario_step *st)
{
	int ret = 0;

	if (p->value && p->value->type == YNODE_SCALAR) {
		/* shorthand "run: <command>" */
		if (!*p->value->scalar)
			return ynode_error(p->doc, p->value, "missing command for 'run' step");
		st->command = xstrdup(p->value->scalar);
		return 0;
	}
	ret = step_get_string(p->doc, p->opts, "command", &st->command);
	if (!ret)
		ret = step_get_checks(p, st);
	if (!ret)
		ret = step_get_channel(p, NULL, st);
	if (!ret && !st->command)
		ret = ynode_error(p->doc, p->where, "missing 'command' in 'run' step");
	return ret;
}

static void describe_command(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addch(sb, ' ');
	if (st->ops == &step_background)
		strbuf_addf(sb, "%s: ", st->id);
	else if (st->ops == &step_parallel)
		strbuf_addf(sb, "%dx ", st->copies);
	step_add_oneline(sb, st->command, STEP_NAME_COMMAND_MAX);
}

static enum outcome play_run(struct engine *e, size_t n, const struct scenario_step *st,
			     struct step_report *r)
{
	struct strbuf err = STRBUF_INIT;
	enum outcome p = engine_guest_command(e, st->channel, st->command, r->timeout, &err);
	const char *out = strbuf_str(&e->cmd_out);

	engine_save_step_file(e, n, "run.log", out);
	if (err.len)
		engine_save_step_file(e, n, "run.stderr", strbuf_str(&err));
	r->output = xasprintf("%s%s", engine_tail(out), engine_tail(strbuf_str(&err)));
	strbuf_release(&err);
	if (p != O_DONE)
		return p;
	r->has_verdict = true;
	r->verdict = engine_check_command(e, st, out, e->cmd_rc, &r->msg);
	return p;
}

static const char *const run_keys[] = {
	"command", "expect-exit", "expect-output", "parser", "timeout", "channel", NULL
};
const struct step_ops step_run = {
	.name = "run", .order = 40, .keys = run_keys, .forms = STEP_FORM_SCALAR,
	.summary = "run a guest command, wait for it, check its status and output",
	.parse = parse_run, .describe = describe_command, .play = play_run,
};

/* ---- background, join, kill ---- */

static int parse_background(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	int ret = step_get_id(p, st);

	if (!ret)
		ret = step_get_string(doc, p->opts, "command", &st->command);
	if (!ret)
		ret = step_get_channel(p, "'background' cannot use channel serial "
				       "(background commands need ssh)", st);
	if (!ret && !st->command)
		ret = ynode_error(doc, p->where, "missing 'command' in 'background' step");
	if (!ret)
		ret = step_get_regex(doc, p->opts, "progress", &st->progress);
	if (!ret && ynode_get(p->opts, "stall") && !st->progress)
		ret = ynode_error(doc, ynode_get(p->opts, "stall"),
				  "'stall' needs 'progress' (the lines that show progress)");
	if (!ret && st->progress) {
		st->stall = DEFAULT_STALL;
		ret = step_get_seconds(doc, p->opts, "stall", false, &st->stall);
	}
	if (!ret && ynode_get(p->opts, "detect")) {
		const char *how = NULL;

		ret = step_get_string(doc, p->opts, "detect", (char **)&how);
		if (!ret && !st->progress)
			ret = ynode_error(doc, ynode_get(p->opts, "detect"),
					  "'detect' needs 'progress' (the lines that show progress)");
		else if (!ret && strcmp(how, "state") && strcmp(how, "stall"))
			ret = ynode_error(doc, ynode_get(p->opts, "detect"),
					  "'detect' is 'stall' (no progress for 'stall' seconds) or "
					  "'state' (a TEE deadlock proven from both worlds' state), "
					  "not '%s'", how);
		else if (!ret)
			st->detect_state = !strcmp(how, "state");
		free((char *)how);
	}
	if (!ret && ynode_get(p->opts, "detect-after") && !st->detect_state)
		ret = ynode_error(doc, ynode_get(p->opts, "detect-after"),
				  "'detect-after' goes with 'detect: state'");
	if (!ret && st->detect_state) {
		st->detect_after = DEFAULT_DETECT_AFTER;
		ret = step_get_number_or_param(p, "detect-after", &st->detect_after,
					       &st->detect_after_param);
		if (!ret && !st->detect_after_param &&
		    !(st->detect_after > 0 && st->detect_after < st->stall))
			ret = ynode_error(doc, ynode_get(p->opts, "detect-after"),
					  "'detect-after' must be above 0 and below 'stall' (%g s), not %g",
					  st->stall, st->detect_after);
	}
	if (!ret && !p->sc->network)
		ret = ynode_error(doc, p->where,
				  "'background' needs ssh, which needs network: true");
	return ret;
}

static enum outcome play_background(struct engine *e, size_t n, const struct scenario_step *st,
				    struct step_report *r)
{
	struct guest_job *job = NULL;
	struct bg_job *b = NULL;
	char *b64 = base64_str(st->command);
	char *cmd = xasprintf("tl-bg %s %s", st->id, b64);

	(void)n;
	free(b64);
	if (!engine_have_ssh(e))
		r->msg = xstrdup("background commands need SSH, and the guest has none");
	else if (e->guest->start(e->ssh, cmd, &job) || !(b = engine_add_job(e, st->id, job)))
		r->msg = xstrdup("cannot start the command over SSH");
	if (b && st->progress && !regcomp(&b->progress, st->progress, REG_EXTENDED | REG_NOSUB)) {
		b->progress_set = true;
		b->stall = st->stall;
		b->last_progress = b->started;
		b->detect_state = st->detect_state;
		b->detect_after = st->detect_after;
	}
	free(cmd);
	return O_DONE;
}

static const char *const background_keys[] = {
	"id", "command", "channel", "progress", "stall", "detect", "detect-after", NULL
};
const struct step_ops step_background = {
	.name = "background", .order = 50, .keys = background_keys,
	.summary = "start a guest command over SSH and go on (`id` names it; `progress` + `stall`: DEADLOCK detection)",
	.parse = parse_background, .describe = describe_command, .play = play_background,
};

static int parse_join(const struct step_parse *p, struct scenario_step *st)
{
	int ret = step_get_id(p, st);

	return ret ? ret : step_get_checks(p, st);
}

static void describe_id(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %s", st->id);
}

static enum outcome play_join(struct engine *e, size_t n, const struct scenario_step *st,
			      struct step_report *r)
{
	struct bg_job *b = engine_find_job(e, st->id);
	struct guest_job *job;
	enum outcome p;
	const char *out;

	if (!b) {
		r->msg = xasprintf("no running background command '%s'", st->id);
		return O_DONE;
	}
	job = b->job;
	p = engine_wait_jobs(e, &job, 1, r->timeout);
	out = strbuf_str(e->guest->out(job));
	engine_save_step_file(e, n, "join.log", out);
	if (e->guest->err(job)->len)
		engine_save_step_file(e, n, "join.stderr", strbuf_str(e->guest->err(job)));
	r->output = xstrdup(engine_tail(out));
	if (p != O_DONE)
		return p;	/* still running: evidence may look at it; `kill` can stop it */
	r->has_verdict = true;
	r->verdict = engine_check_command(e, st, out, e->guest->status(job), &r->msg);
	engine_drop_job(e, job);
	return p;
}

static const char *const join_keys[] = {
	"id", "timeout", "expect-exit", "expect-output", "parser", NULL
};
const struct step_ops step_join = {
	.name = "join", .order = 60, .keys = join_keys, .forms = STEP_FORM_SCALAR,
	.summary = "wait for a background command and check it like `run`",
	.parse = parse_join, .describe = describe_id, .play = play_join,
};

static enum outcome play_kill(struct engine *e, size_t n, const struct scenario_step *st,
			      struct step_report *r)
{
	struct bg_job *b = engine_find_job(e, st->id);
	char *cmd;
	enum outcome p;

	(void)n;
	if (!b) {
		r->msg = xasprintf("no running background command '%s'", st->id);
		return O_DONE;
	}
	cmd = xasprintf("tl-kill %s", st->id);
	p = engine_guest_command_ok(e, CHAN_AUTO, cmd, 15, "tl-kill", r);
	free(cmd);
	if ((b = engine_find_job(e, st->id)))
		engine_drop_job(e, b->job);
	return p;
}

static const char *const kill_keys[] = { "id", NULL };
const struct step_ops step_kill = {
	.name = "kill", .order = 70, .keys = kill_keys, .forms = STEP_FORM_SCALAR,
	.summary = "stop a background command",
	.parse = step_get_id, .describe = describe_id, .play = play_kill,
};

/* ---- parallel ---- */

static int parse_parallel(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	int ret = step_get_string(doc, p->opts, "command", &st->command);

	st->copies = DEFAULT_COPIES;
	if (!ret)
		ret = ynode_get_int(doc, p->opts, "copies", &st->copies);
	if (!ret && st->copies < 1)
		ret = ynode_error(doc, ynode_get(p->opts, "copies"),
				  "'copies' must be at least 1");
	if (!ret)
		ret = step_get_checks(p, st);
	if (!ret)
		ret = step_get_channel(p, "'parallel' cannot use channel serial "
				       "(the serial shell runs one command at a time)", st);
	if (!ret && !st->command)
		ret = ynode_error(doc, p->where, "missing 'command' in 'parallel' step");
	if (!ret && !p->sc->network)
		ret = ynode_error(doc, p->where,
				  "'parallel' needs ssh, which needs network: true");
	return ret;
}

static enum outcome play_parallel(struct engine *e, size_t n, const struct scenario_step *st,
				  struct step_report *r)
{
	struct guest_job *jobs[MAX_JOBS];
	struct strbuf all = STRBUF_INIT;
	size_t started = 0;
	enum outcome p = O_DONE;

	if (!engine_have_ssh(e)) {
		r->msg = xstrdup("parallel commands need SSH, and the guest has none");
		return O_DONE;
	}
	for (int i = 0; i < st->copies && started < MAX_JOBS - e->nr_jobs; i++) {
		struct guest_job *job = NULL;
		char *cmd = xasprintf("TL_COPY=%d; export TL_COPY; %s", i, st->command);

		if (!e->guest->start(e->ssh, cmd, &job) && engine_add_job(e, NULL, job))
			jobs[started++] = job;
		free(cmd);
	}
	if (started < (size_t)st->copies)
		r->msg = xasprintf("only %zu of %d copies started", started, st->copies);
	if (started)
		p = engine_wait_jobs(e, jobs, started, r->timeout);
	for (size_t i = 0; i < started; i++) {
		const char *out = strbuf_str(e->guest->out(jobs[i]));
		char *m = NULL;

		strbuf_addf(&all, "===== copy %zu (status %d)\n%s", i, e->guest->status(jobs[i]),
			    out);
		if (p == O_DONE && !r->msg &&
		    engine_check_command(e, st, out, e->guest->status(jobs[i]), &m) != V_PASS)
			r->msg = xasprintf("copy %zu: %s", i, m);
		free(m);
		engine_drop_job(e, jobs[i]);
	}
	engine_save_step_file(e, n, "parallel.log", strbuf_str(&all));
	strbuf_release(&all);
	return p;
}

static const char *const parallel_keys[] = {
	"command", "copies", "expect-exit", "expect-output", "timeout", "channel", NULL
};
const struct step_ops step_parallel = {
	.name = "parallel", .order = 80, .keys = parallel_keys,
	.summary = "N copies of a guest command at once over SSH, each checked",
	.parse = parse_parallel, .describe = describe_command, .play = play_parallel,
};
