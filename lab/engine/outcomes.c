// SPDX-License-Identifier: MIT
/*
 * outcomes.c - what each way a step can end means: the step's verdict,
 * whether the rest of the run is skipped, whether evidence is collected,
 * and the reason printed. One row per outcome (step.h enum outcome), read
 * by the run loop (run.c); nothing else decides it.
 */
#include "engine.h"

#include <stdlib.h>

static const struct outcome_row rows[O_COUNT] = {
	/* outcome          name            verdict          skip   skip w/o channel  evidence */
	[O_DONE]         = { O_DONE, "done", V_PASS, false, false, false },
	/* a timeout leaves the guest up; the rest goes on unless no way to reach it is left */
	[O_TIMEOUT]      = { O_TIMEOUT, "timeout", V_TIMEOUT, false, true, true },
	[O_RUN_TIMEOUT]  = { O_RUN_TIMEOUT, "run-timeout", V_TIMEOUT, true, true, true },
	/* the lab's own failure: QEMU died or never started (README: INFRA) */
	[O_EXITED]       = { O_EXITED, "exited", V_INFRA, true, true, false },
	/* the guest's: its network or dropbear is not there */
	[O_NO_CHANNEL]   = { O_NO_CHANNEL, "no-channel", V_FAIL, true, true, false },
	/* the guest's: a command never finished and Ctrl-C did not bring the shell back */
	[O_WEDGED]       = { O_WEDGED, "wedged-shell", V_FAIL, false, true, true },
	[O_INTERRUPTED]  = { O_INTERRUPTED, "interrupted", V_INTERRUPTED, true, true, false },
	[O_KERNEL_PANIC] = { O_KERNEL_PANIC, "kernel-panic", V_KERNEL_PANIC, true, true, false },
	[O_TEE_PANIC]    = { O_TEE_PANIC, "tee-panic", V_TEE_PANIC, true, true, false },
	/* the kernel reported a bug and goes on: stop there, the guest still answers */
	[O_KERNEL_BUG]   = { O_KERNEL_BUG, "kernel-bug", V_KERNEL_BUG, true, true, true },
	[O_HANG]         = { O_HANG, "hang", V_HANG, true, true, true },
	[O_DEADLOCK]     = { O_DEADLOCK, "deadlock", V_DEADLOCK, true, true, true },
};

const struct outcome_row *outcome_row(enum outcome o)
{
	return o < O_COUNT ? &rows[o] : &rows[O_EXITED];
}

char *outcome_reason(const struct engine *e, enum outcome o, double timeout)
{
	const struct bg_job *b = e->stalled;

	switch (o) {
	case O_DONE:
	case O_COUNT:
		return NULL;
	case O_TIMEOUT:
		return xasprintf("timed out after %.0f s%s", timeout,
				 e->serial_busy && !e->ssh && !e->ssh_later
				 ? " (the serial shell did not come back after Ctrl-C, and there is no SSH)" : "");
	case O_RUN_TIMEOUT:
		return xstrdup("the whole run timed out");
	case O_HANG:
		return xasprintf("no progress for %.0f s (no new console line, no step completed)",
				 e->hang_window);
	case O_DEADLOCK:
		if (b && b->proof)
			return xasprintf("'%s' deadlocked, proven from both worlds' state %.1f s "
					 "after its last progress (%zu progress lines, last: %s)",
					 b->id ? b->id : "?", b->stalled_at - b->last_progress,
					 b->progress_lines, b->last_line ? b->last_line : "none");
		return xasprintf("'%s' made no progress for %.0f s while still running "
				 "(%zu progress lines, last: %s)",
				 b && b->id ? b->id : "?", b ? b->stall : 0,
				 b ? b->progress_lines : 0,
				 b && b->last_line ? b->last_line : "none");
	case O_EXITED:
		/*
		 * the same words as a step failing because QEMU died under it
		 * (run.c): which the engine sees first, the consoles hanging up
		 * or the command's connection breaking, is a race
		 */
		return e->qemu_exited ? xasprintf("QEMU exited (status %d) during the step",
						  e->qemu_status)
				      : xstrdup("the machine stopped answering on its console");
	case O_NO_CHANNEL:
		return xstrdup(e->ssh_port ? "no channel to the guest (SSH is not connected)"
				 : "no channel to the guest");
	case O_WEDGED:
		return xstrdup("the guest's serial shell is wedged: an earlier command never "
			       "finished and Ctrl-C did not bring the prompt back");
	case O_INTERRUPTED:
		return xstrdup("interrupted");
	case O_KERNEL_BUG:
		return xasprintf("%s: %s", kreport_kind_name(e->cls.report.kind),
				 e->cls.report.line ? e->cls.report.line : "");
	case O_KERNEL_PANIC:
	case O_TEE_PANIC:
		return xasprintf("%s: %s", console_event_name(e->cls.event),
				 e->cls.event_line ? e->cls.event_line : "");
	}
	return xstrdup("?");
}
