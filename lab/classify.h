/* SPDX-License-Identifier: MIT */
/*
 * classify.h - reads both consoles line by line and tells the run engine
 * what they reveal: a kernel panic, an OP-TEE panic, or that the system has
 * stopped making progress (the input of the HANG verdict).
 *
 *  - kernel panic: "Kernel panic - not syncing" on the normal world
 *    (kernel/panic.c prints it before anything else, also before a crash
 *    kernel is entered);
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

#define CLASSIFY_RING 1024

enum console_event {
	EV_NONE,
	EV_KERNEL_PANIC,
	EV_TEE_PANIC,
};

struct classifier {
	uint64_t ring[CON_COUNT][CLASSIFY_RING];	/* hashes of recent lines */
	unsigned ring_pos[CON_COUNT];
	unsigned ring_fill[CON_COUNT];
	double last_progress;	/* seconds (caller's clock) */
	enum console_event event;	/* the first event seen, sticky */
	char *event_line;	/* the line that revealed it (malloc'd) */
	unsigned long novel_lines, repeated_lines;
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

#endif
