/* SPDX-License-Identifier: MIT */
/*
 * classify.h - reads both consoles line by line and tells the run engine
 * what they reveal: a kernel panic, an OP-TEE panic, or that the system has
 * stopped making progress (the input of the HANG verdict).
 *
 *  - kernel panic: "Kernel panic - not syncing" on the normal world
 *    (kernel/panic.c prints it before anything else, also before a crash
 *    kernel is entered);
 *  - kernel report (the KERNEL_BUG verdict): a report the kernel prints and
 *    goes on, on the normal world, at the start of a line (after the
 *    optional "[   12.345678] " printk stamp, or after a shell prompt that
 *    ends in a terminal escape sequence, as busybox ash's "/ # \033[6n"
 *    does when the kernel prints while the shell waits: a command line the
 *    shell echoes never matches). Kinds and first lines, from the Linux
 *    sources named:
 *      KASAN     "BUG: KASAN: <type> in <function>" (mm/kasan/report.c)
 *      BUG       any other "BUG: ..." (sleeping function called from invalid
 *                context, scheduling while atomic: kernel/sched/core.c; soft
 *                lockup: kernel/watchdog.c; workqueue lockup:
 *                kernel/workqueue.c; KFENCE, bad page state, ...) and
 *                "kernel BUG at <file>:<line>!" (BUG_ON)
 *      OOPS      "Unable to handle kernel <what> at virtual address <addr>"
 *                (arch/arm64/mm/fault.c) or "Internal error: <what>: <esr>
 *                [#N] ..." (arch/arm64/kernel/traps.c die())
 *      WARNING   "WARNING: CPU: <n> PID: <n> at <where>" (kernel/panic.c __warn())
 *      HUNG_TASK "INFO: task <comm>:<pid> blocked for more than <n> seconds."
 *                (kernel/hung_task.c)
 *      KMEMLEAK  "kmemleak: <n> new suspected memory leaks (see ...)" (mm/kmemleak.c)
 *    The report's block is kept: from its first line (with the line just
 *    before it when that is a "=====" rule or "[ cut here ]") to its end:
 *    the next "=====" rule when it began after one (KASAN, KFENCE), the
 *    "---[ end trace <n> ]---" line (WARNING, OOPS, kernel BUG at), a
 *    "Kernel panic - not syncing" line, or else the caller's quiet time
 *    (classifier_report_ready()); at most KREPORT_MAX_LINES lines (100 for
 *    a report without an end line), never a teelab marker ("@@TL:").
 *    KMEMLEAK is its one line. Only the first report is kept; kinds in
 *    report_ignore (a scenario's `ignore-kernel-bugs`) are not reported;
 *  - TEE panic: OP-TEE's "Panic at <file>:<line>" or "assertion '<expr>'
 *    failed at <file>:<line>" on the secure console (core/kernel/panic.c,
 *    lib/libutils/isoc/include/assert.h in optee_os);
 *  - progress: a console line counts only if it is new: the exact line
 *    (after the kernel's "[ seconds]" stamp is removed) was not among the
 *    last CLASSIFY_RING lines of that console. A loop that prints the same
 *    lines again and again, like OP-TEE's data-abort storm when the GIC
 *    version is wrong (megabytes on the secure console while Linux never
 *    starts), makes no progress. Step completions count as progress too.
 */
#ifndef TEELAB_CLASSIFY_H
#define TEELAB_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "scenario.h"
#include "util.h"

#define CLASSIFY_RING 1024
#define KREPORT_MAX_LINES 400		/* a report with an end line */
#define KREPORT_MAX_LINES_OPEN 100	/* a report without one */
#define KREPORT_MAX_BYTES (64 * 1024)
/* Seconds after a complete report's last line before it is ready (a panic may follow an oops). */
#define KREPORT_SETTLE 0.5
/* Seconds without a new line after which a report without an end line is over (the engine's). */
#define KREPORT_QUIET 2.0

enum console_event {
	EV_NONE,
	EV_KERNEL_PANIC,
	EV_TEE_PANIC,
};

/* Kinds of kernel report (above); the names are kreport_kind_name()'s. */
enum kreport_kind {
	KREPORT_NONE,
	KREPORT_KASAN,
	KREPORT_BUG,
	KREPORT_OOPS,
	KREPORT_WARNING,
	KREPORT_HUNG_TASK,
	KREPORT_KMEMLEAK,
	KREPORT_COUNT
};

/* The first kernel report of the run on the normal world. */
struct kernel_report {
	enum kreport_kind kind;	/* KREPORT_NONE: none yet */
	char *line;		/* its first line, printk stamp and prompt removed (malloc'd) */
	struct strbuf text;	/* the block as printed, one '\n' per line */
	size_t lines;
	double at, last;	/* caller's clock: its first line, its latest line */
	bool complete;		/* its end came (end line, line bound, a teelab marker) */
	bool taken;		/* the engine ended a step on it (set by the engine) */
	int end;		/* what ends it (classify.c) */
};

struct classifier {
	uint64_t ring[CON_COUNT][CLASSIFY_RING];	/* hashes of recent lines */
	unsigned ring_pos[CON_COUNT];
	unsigned ring_fill[CON_COUNT];
	double last_progress;	/* seconds (caller's clock) */
	enum console_event event;	/* the first event seen, sticky */
	char *event_line;	/* the line that revealed it (malloc'd) */
	unsigned long novel_lines, repeated_lines;
	struct kernel_report report;	/* the first kernel report, sticky */
	unsigned report_ignore;	/* bit 1u << kind: kinds not reported (the scenario's) */
	char *prev_rule;	/* the last normal-world line if a rule or "cut here" (malloc'd) */
};

/* Start at time @now (seconds, any monotonic clock the caller uses). */
void classifier_init(struct classifier *c, double now);
void classifier_release(struct classifier *c);
/*
 * Feed one line (no newline) of console @con seen at @now. Returns the
 * event this line reveals, or EV_NONE (also for events after the first).
 */
enum console_event classifier_line(struct classifier *c, enum console_id con,
				   const char *line, double now);
/* Record progress that is not console output (a step completed). */
void classifier_progress(struct classifier *c, double now);
/* Whether nothing progressed during the last @window seconds. */
bool classifier_hung(const struct classifier *c, double now, double window);
/* Forget the panic event (e.g. a panic the scenario provoked on purpose). */
void classifier_clear_event(struct classifier *c);
const char *console_event_name(enum console_event e);

/*
 * Whether the kernel report is there and ready to end a step on: complete
 * and KREPORT_SETTLE seconds old, or no line added for @quiet seconds
 * (@now: the caller's clock). False once taken.
 */
bool classifier_report_ready(const struct classifier *c, double now, double quiet);
/* Whether a report is there, not yet taken (complete or not). */
bool classifier_report_pending(const struct classifier *c);
/* Forget the report (a crash the scenario provoked); the next one is kept. */
void classifier_clear_report(struct classifier *c);
/* "KASAN", "BUG", "OOPS", "WARNING", "HUNG_TASK", "KMEMLEAK" ("none" for KREPORT_NONE). */
const char *kreport_kind_name(enum kreport_kind k);
/* The kind named @name (exactly as kreport_kind_name() spells it), or KREPORT_NONE. */
enum kreport_kind kreport_kind_parse(const char *name);

#endif
