// SPDX-License-Identifier: MIT
/*
 * evidence.c - what a developer needs to see why a run hung, deadlocked,
 * timed out or hit a kernel report; see engine.h
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "optee_threads.h"
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
int engine_cfg_threads(const struct engine *e)
{
	const struct lab_config *cfg = e->cfg;
	int n = 0;

	for (size_t i = 0; cfg->secure.optee_build && i < cfg->secure.optee_flags.nr; i++)
		if (starts_with(cfg->secure.optee_flags.v[i], "CFG_NUM_THREADS="))
			n = atoi(cfg->secure.optee_flags.v[i] + 16);
	return n;
}

/* Whether the lab loads teelab's thread-state module (images/kmod/teelab-tee-state). */
static bool have_thread_state(const struct engine *e)
{
	for (size_t i = 0; i < e->cfg->kmods.nr; i++)
		if (ends_with(e->cfg->kmods.v[i], "/teelab-tee-state"))
			return true;
	return false;
}

/*
 * OP-TEE's thread table, read first and on its own (a few fast calls: it
 * answers while every OP-TEE thread is stuck), over SSH or the serial
 * shell, within @budget seconds: evidence/optee-threads.txt, @ot parsed.
 */
static void read_thread_table(struct engine *e, double budget, struct optee_threads *ot,
			      struct strbuf *summary)
{
	double t0 = now_mono(), saved = e->hang_window;
	enum channel ch = engine_pick(e, CHAN_AUTO);
	enum outcome p;
	char *line;

	memset(ot, 0, sizeof(*ot));
	e->hang_window = 0;
	p = engine_guest_command(e, CHAN_AUTO, "cat /proc/teelab/optee-threads",
				 budget < 5 ? budget : 5, NULL);
	if (p != O_DONE && ch == CHAN_SSH && !e->serial_busy) {
		/* SSH is there but dead (the guest's network stack stuck, dropbear gone) */
		ch = CHAN_SERIAL;
		p = engine_guest_command(e, CHAN_SERIAL, "cat /proc/teelab/optee-threads", 5, NULL);
	}
	e->hang_window = saved;
	if (p != O_DONE) {
		strbuf_addstr(summary, "optee-threads.txt: OP-TEE's thread table did not come in "
			      "time\n");
		return;
	}
	write_evidence(e, "optee-threads.txt", strbuf_str(&e->cmd_out));
	optee_threads_parse(strbuf_str(&e->cmd_out), ot);
	strbuf_addf(summary, "optee-threads.txt: OP-TEE's thread table (teelab's lab fast call), "
		    "read in %.0f ms over %s", (now_mono() - t0) * 1000,
		    ch == CHAN_SSH ? "ssh" : "the serial shell");
	if (ot->fast_ns >= 0)
		strbuf_addf(summary, ", the fast calls themselves %.2f ms", ot->fast_ns / 1e6);
	strbuf_addch(summary, '\n');
	line = optee_threads_describe(ot, &e->im->tas);
	run_result_env(e->res, "optee_threads", line);
	free(line);
}

/* The TEE deadlock chain from both sides (OP-TEE's answer @ot, Linux's stacks), into @summary. */
static void add_chain(struct engine *e, const char *guest, const struct optee_threads *ot,
		      struct strbuf *summary)
{
	struct tee_chain c;
	struct strbuf diff = STRBUF_INIT;
	char *secure = optee_threads_describe(ot, &e->im->tas);

	tee_chain_analyse(guest, engine_cfg_threads(e), &c);
	strbuf_addf(summary, "\nThe chain, from both sides:\n%s\nLinux: %s\n", secure, c.summary);
	if (ot->available) {
		if (optee_threads_compare(ot, &c, engine_cfg_threads(e), &diff))
			strbuf_addf(summary, "The two sides disagree: %s\n", strbuf_str(&diff));
		else
			strbuf_addstr(summary, "The two sides agree on the threads held in RPCs.\n");
	}
	if (c.scmi_stack)
		strbuf_addf(summary, "\nThe SCMI call parked in the OP-TEE call queue:\n%s\n",
			    c.scmi_stack);
	run_result_env(e->res, "deadlock_chain", c.summary);
	strbuf_release(&diff);
	free(secure);
	tee_chain_release(&c);
}

void engine_collect_evidence(struct engine *e)
{
	double deadline = now_mono() + EVIDENCE_BUDGET;
	struct strbuf summary = STRBUF_INIT;
	struct optee_threads ot;
	bool chain = false;
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
	if (e->stalled && e->stalled->proof)
		strbuf_addf(&summary, "DEADLOCK: '%s' deadlocked, proven from both worlds' state "
			    "%.1f s after its last progress (%zu progress lines; last: %s): %s.\n"
			    "detector-state.txt: the read that proved it\n",
			    e->stalled->id ? e->stalled->id : "?",
			    e->stalled->stalled_at - e->stalled->last_progress,
			    e->stalled->progress_lines,
			    e->stalled->last_line ? e->stalled->last_line : "none", e->stalled->proof);
	else if (e->stalled)
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
	memset(&ot, 0, sizeof(ot));
	if (!e->qemu_exited && have_thread_state(e) && (engine_have_ssh(e) || !e->serial_busy))
		read_thread_table(e, deadline - now_mono(), &ot, &summary);
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
			if (e->stalled) {
				add_chain(e, strbuf_str(&e->cmd_out), &ot, &summary);
				chain = true;
			}
		} else {
			strbuf_addstr(&summary, "guest.txt: the guest did not answer in time\n");
		}
		strbuf_release(&err);
	}
	if (!chain && ot.present) {
		t = optee_threads_describe(&ot, &e->im->tas);
		strbuf_addf(&summary, "\n%s\n\n", t);
		free(t);
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
	optee_threads_release(&ot);
}
