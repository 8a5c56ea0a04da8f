// SPDX-License-Identifier: MIT
/* pump.c - the event loop and the progress line; see engine.h */
#include "engine.h"

#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "runproc.h"


void engine_progress_clear(struct engine *e)
{
	if (e->tty && !tl_quiet)
		fputs("\r\033[K", stderr);
}

static void engine_progress(struct engine *e, bool force)
{
	double now = now_mono();

	if (!e->tty || tl_quiet || (!force && now - e->last_progress_draw < 0.25))
		return;
	e->last_progress_draw = now;
	fprintf(stderr, "\r\033[K  %-56.56s %6.1f s  (run %.0f s, boot %d, console %zu/%zu lines)",
		e->stage ? e->stage : "", now - e->stage_t0, now - e->t0, e->boot,
		e->con[CON_NORMAL].lines, e->con[CON_SECURE].lines);
	fflush(stderr);
}

void engine_stage_begin(struct engine *e, const char *what)
{
	e->stage = what;
	e->stage_t0 = now_mono();
	engine_progress(e, true);
}

void engine_stage_end(struct engine *e, enum verdict v, const char *name,
		      double secs, const char *msg)
{
	engine_progress_clear(e);
	if (!tl_quiet)
		fprintf(stderr, "  %-7s %s (%.1f s)%s%s\n", verdict_name(v), name, secs,
			msg ? ": " : "", msg ? msg : "");
	e->stage = NULL;
}

/*
 * Whether a kernel report ends the step now: complete (and settled, so a
 * panic right after an oops wins) or quiet for KREPORT_QUIET seconds.
 * While one is still being printed, *@pending holds the step open: the
 * report belongs to the step it began in.
 */
static bool kernel_report_ends(struct engine *e, double now, bool *pending)
{
	*pending = false;
	if (e->wait == W_EXIT || e->collecting || !classifier_report_pending(&e->cls))
		return false;	/* evidence comes after the verdict: a report then changes nothing */
	if (e->panic_ok) {
		classifier_clear_report(&e->cls);	/* the crash a kdump step made */
		return false;
	}
	if (e->cls.event != EV_NONE)
		return false;	/* the panic outcome wins */
	if (!classifier_report_ready(&e->cls, now, KREPORT_QUIET)) {
		*pending = true;
		return false;
	}
	e->cls.report.taken = true;
	return true;
}

/* Whether the current wait is satisfied (a line, the command's end, the jobs). */
static bool wait_met(struct engine *e)
{
	switch (e->wait) {
	case W_PATTERN:
		return engine_scan_history(e);
	case W_COMMAND:
	case W_READY:
		return e->matched;
	case W_NONE:	/* W_READY ended by the command's END marker */
		return true;
	case W_JOBS:
		return engine_pump_jobs(e, 0);
	case W_EXIT:	/* QEMU exiting ends the loop itself */
		break;
	}
	return false;
}

/*
 * Run the event loop until the current wait is satisfied, @deadline
 * passes, QEMU exits, a panic, a kernel report or a hang is seen, or
 * teelab is interrupted.
 */
enum outcome engine_pump(struct engine *e, double deadline)
{
	int sigfd = runproc_signal_fd();

	if (e->opt->gdb && !e->collecting)
		deadline = e->run_deadline;	/* a debugger may hold the machine: no step times out */

	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0;
		double now = now_mono(), until = deadline;
		int timeout_ms;
		bool jobs = e->nr_jobs > 0, report;

		if (kernel_report_ends(e, now, &report))
			return O_KERNEL_BUG;
		if (!report && wait_met(e))
			return O_DONE;
		if (e->cls.event == EV_KERNEL_PANIC && e->panic_ok)
			classifier_clear_event(&e->cls);	/* the crash a kdump step made */
		if (e->cls.event != EV_NONE && e->wait != W_EXIT)
			return e->cls.event == EV_TEE_PANIC ? O_TEE_PANIC : O_KERNEL_PANIC;
		if (runproc_interrupted())
			return O_INTERRUPTED;
		/*
		 * QEMU's exit: at once when a console ends (its pipes close
		 * with it), else every 50 ms, not at each console line (a
		 * system call each; make bench: teelab's CPU)
		 */
		if (!e->qemu_exited && (now - e->exit_checked >= 0.05 || e->con[CON_NORMAL].eof ||
					e->con[CON_SECURE].eof)) {
			e->exit_checked = now;
			if (e->m.ops->exited(&e->m, &e->qemu_status))
				e->qemu_exited = true;
		}
		if (e->qemu_exited && (e->con[CON_NORMAL].eof || e->con[CON_NORMAL].fd < 0) &&
		    (e->con[CON_SECURE].eof || e->con[CON_SECURE].fd < 0))
			return O_EXITED;
		if (e->wait != W_EXIT && jobs && !e->collecting && !e->opt->gdb &&
		    ((e->stalled = engine_detect_deadlock(e, now)) ||
		     (e->stalled = engine_stalled_job(e, now)))) {
			now = now_mono();	/* a state read takes time */
			e->stalled->stalled_at = now;
			e->res->timeline.has_stall = true;
			e->res->timeline.stall_proven = e->stalled->proof != NULL;
			e->res->timeline.stall_from = e->stalled->last_progress - e->t0;
			e->res->timeline.stall_to = now - e->t0;
			return O_DEADLOCK;
		}
		if (e->wait != W_EXIT && classifier_hung(&e->cls, now, e->hang_window))
			return O_HANG;
		if (e->run_deadline < until)
			until = e->run_deadline;
		if (now >= until && report) {
			e->cls.report.taken = true;	/* cut short by the deadline: what came of it */
			return O_KERNEL_BUG;
		}
		if (now >= until)
			return until == e->run_deadline && deadline > e->run_deadline
				? O_RUN_TIMEOUT : O_TIMEOUT;
		if (e->feed)
			pfd[nfd++] = (struct pollfd){ console_feed_fd(e->feed), POLLIN, 0 };
		if (sigfd >= 0)
			pfd[nfd++] = (struct pollfd){ sigfd, POLLIN, 0 };
		/* notice QEMU's exit, pump SSH, redraw (in double: --gdb's deadline overflows an int) */
		timeout_ms = until - now < (jobs ? 0.02 : 0.2) ? (int)((until - now) * 1000) + 1
							       : (jobs ? 20 : 200);
		if (poll(pfd, (nfds_t)nfd, timeout_ms) > 0) {
			for (int i = 0; i < nfd; i++) {
				if (!pfd[i].revents)
					continue;
				if (sigfd >= 0 && pfd[i].fd == sigfd) {
					char drain[16];

					if (read(sigfd, drain, sizeof(drain)) < 0) {
						/* nothing pending */
					}
					continue;
				}
				engine_take_consoles(e);
			}
		}
		if (jobs)
			engine_pump_jobs(e, 0.01);
		engine_progress(e, false);
	}
}
