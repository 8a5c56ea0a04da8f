// SPDX-License-Identifier: MIT
/*
 * evidence.c - what a developer needs to see why a run hung, deadlocked,
 * timed out or hit a kernel report; see engine.h
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "tee_chain.h"


static void write_evidence(struct engine *e, const char *name, const char *data)
{
	char *dir = path_join(e->dir, "evidence");
	char *path = path_join(dir, name);

	if (!mkdir_p(dir, 0755))
		write_file_str(path, data);
	free(dir);
	free(path);
}

/* OP-TEE's CFG_NUM_THREADS from the build flags (the last one wins), or 0. */
static int optee_threads(const struct lab_config *cfg)
{
	int n = 0;

	for (size_t i = 0; cfg->secure.optee_build && i < cfg->secure.optee_flags.nr; i++)
		if (starts_with(cfg->secure.optee_flags.v[i], "CFG_NUM_THREADS="))
			n = atoi(cfg->secure.optee_flags.v[i] + 16);
	return n;
}

/* The TEE deadlock chain named from the guest's stacks, into @summary. */
static void add_chain(struct engine *e, const char *guest, struct strbuf *summary)
{
	struct tee_chain c;

	tee_chain_analyse(guest, optee_threads(e->cfg), &c);
	strbuf_addf(summary, "\n%s\n", c.summary);
	if (c.scmi_stack)
		strbuf_addf(summary, "\nThe SCMI call parked in the OP-TEE call queue:\n%s\n",
			    c.scmi_stack);
	run_result_env(e->res, "deadlock_chain", c.summary);
	tee_chain_release(&c);
}

void engine_collect_evidence(struct engine *e)
{
	double deadline = now_mono() + EVIDENCE_BUDGET;
	struct strbuf summary = STRBUF_INIT;
	char *reply = NULL, *t;

	engine_stage_begin(e, "collecting evidence");
	e->collecting = true;
	if (e->cls.report.taken) {
		strbuf_addf(&summary, "KERNEL_BUG: %s: %s (at %.1f s)\n"
			    "kernel-bug.txt: the kernel's report as printed (%zu lines)\n",
			    kreport_kind_name(e->cls.report.kind), e->cls.report.line,
			    e->cls.report.at - e->m.started, e->cls.report.lines);
		write_evidence(e, "kernel-bug.txt", strbuf_str(&e->cls.report.text));
	}
	if (e->stalled)
		strbuf_addf(&summary, "DEADLOCK: '%s' printed no progress line for %.0f s while "
			    "still running (%zu progress lines; last: %s)\n",
			    e->stalled->id ? e->stalled->id : "?", e->stalled->stall,
			    e->stalled->progress_lines,
			    e->stalled->last_line ? e->stalled->last_line : "none");
	strbuf_addf(&summary, "run stopped at %.1f s; boot %d; channel: %s\n",
		    now_mono() - e->t0, e->boot,
		    engine_have_ssh(e) ? "ssh" : e->serial_busy ? "none (serial shell busy)" : "serial");
	if (!e->qemu_exited &&
	    !e->m.ops->qmp(&e->m, "{\"execute\":\"human-monitor-command\","
			   "\"arguments\":{\"command-line\":\"info registers -a\"}}", &reply, 5)) {
		/* the reply is JSON with \r\n escaped: keep it readable */
		struct strbuf sb = STRBUF_INIT;

		for (const char *p = reply; *p; p++) {
			if (p[0] == '\\' && p[1] == 'n') {
				strbuf_addch(&sb, '\n');
				p++;
			} else if (p[0] == '\\' && p[1] == 'r') {
				p++;
			} else {
				strbuf_addch(&sb, *p);
			}
		}
		write_evidence(e, "registers.txt", strbuf_str(&sb));
		strbuf_addstr(&summary, "registers.txt: QMP info registers -a (every vCPU)\n");
		strbuf_release(&sb);
	}
	free(reply);
	if (!e->qemu_exited && now_mono() < deadline && (engine_have_ssh(e) || !e->serial_busy)) {
		struct strbuf err = STRBUF_INIT;
		double left = deadline - now_mono();
		enum outcome p;

		/* evidence is not a step: a hang here must not end it early */
		double saved = e->hang_window;

		e->hang_window = 0;
		p = engine_guest_command(e, CHAN_AUTO, "tl-evidence", left > 20 ? 20 : left, &err);
		e->hang_window = saved;
		if (p == O_DONE) {
			write_evidence(e, "guest.txt", strbuf_str(&e->cmd_out));
			strbuf_addstr(&summary, "guest.txt: sysrq w + t, the lab eMMC's counters, dmesg, "
				      "kernel stacks of every user thread and of blocked or TEE-related "
				      "kernel threads\n");
			if (e->stalled)
				add_chain(e, strbuf_str(&e->cmd_out), &summary);
		} else {
			strbuf_addstr(&summary, "guest.txt: the guest did not answer in time\n");
		}
		strbuf_release(&err);
	}
	for (size_t i = 0; i < e->nr_jobs; i++) {
		const struct bg_job *b = &e->jobs[i];
		char *name = NULL;

		if (!b->id || !b->job)
			continue;
		name = xasprintf("job-%s.txt", b->id);
		t = xasprintf("%s%s", strbuf_str(e->guest->out(b->job)),
			      strbuf_str(e->guest->err(b->job)));
		write_evidence(e, name, t);
		strbuf_addf(&summary, "%s: what background command '%s' printed so far\n", name,
			    b->id);
		free(t);
		free(name);
	}
	t = engine_console_tail(&e->con[CON_NORMAL], 200);
	write_evidence(e, "nw-console.tail", t);
	free(t);
	t = engine_console_tail(&e->con[CON_SECURE], 200);
	write_evidence(e, "sw-console.tail", t);
	free(t);
	strbuf_addstr(&summary, "nw-console.tail, sw-console.tail: the last 200 lines of each world\n");
	write_evidence(e, "summary.txt", strbuf_str(&summary));
	strbuf_release(&summary);
}
