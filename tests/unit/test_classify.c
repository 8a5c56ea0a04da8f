// SPDX-License-Identifier: MIT
/* test_classify.c - the verdict classifier fed with captured console logs (and kernel reports written in the kernel's format) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "classify.h"
#include "util.h"

struct line {
	double t;
	enum console_id con;
	char *text;
};

struct log {
	struct line *v;
	size_t nr;
};

/* Load tests/data/consoles/<name> ("[   s.mmm] text" lines) into @log. */
static void load(struct log *log, const char *name, enum console_id con)
{
	char *path = xasprintf("%s/tests/data/consoles/%s", test_srcdir(), name);
	char *text = NULL, *save = NULL;

	assert_int_equal(read_file(path, &text, NULL), 0);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *close = strchr(l, ']');

		assert_true(l[0] == '[' && close);
		log->v = xrealloc(log->v, (log->nr + 1) * sizeof(*log->v));
		log->v[log->nr].t = strtod(l + 1, NULL);
		log->v[log->nr].con = con;
		log->v[log->nr].text = xstrdup(close[1] == ' ' ? close + 2 : close + 1);
		log->nr++;
	}
	free(text);
	free(path);
}

static int by_time(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static void release(struct log *log)
{
	for (size_t i = 0; i < log->nr; i++)
		free(log->v[i].text);
	free(log->v);
}

/* Feed every line in time order; returns the longest stretch without progress. */
static double replay(struct classifier *c, struct log *log, enum console_event *first)
{
	double worst = 0;

	qsort(log->v, log->nr, sizeof(*log->v), by_time);
	classifier_init(c, log->nr ? log->v[0].t : 0);
	*first = EV_NONE;
	for (size_t i = 0; i < log->nr; i++) {
		enum console_event e;

		if (log->v[i].t - c->last_progress > worst)
			worst = log->v[i].t - c->last_progress;
		e = classifier_line(c, log->v[i].con, log->v[i].text, log->v[i].t);
		if (e != EV_NONE && *first == EV_NONE)
			*first = e;
	}
	return worst;
}

static void test_passing_run_is_quiet(void **state)
{
	struct log log = { 0 };
	struct classifier c;
	enum console_event ev;
	double worst;

	(void)state;
	load(&log, "xtest-smoke-nw.log", CON_NORMAL);
	load(&log, "xtest-smoke-sw.log", CON_SECURE);
	worst = replay(&c, &log, &ev);
	assert_int_equal(ev, EV_NONE);
	assert_int_equal(c.event, EV_NONE);
	/* a healthy boot + xtest never goes 3 s without a new line */
	assert_true(worst < 3.0);
	assert_false(classifier_hung(&c, log.v[log.nr - 1].t, 10));
	assert_true(c.novel_lines > c.repeated_lines);
	classifier_release(&c);
	release(&log);
}

static void test_kernel_panic(void **state)
{
	struct log log = { 0 };
	struct classifier c;
	enum console_event ev;

	(void)state;
	load(&log, "kernel-panic-nw.log", CON_NORMAL);
	replay(&c, &log, &ev);
	assert_int_equal(ev, EV_KERNEL_PANIC);
	assert_non_null(c.event_line);
	assert_non_null(strstr(c.event_line, "Kernel panic - not syncing: Attempted to kill init!"));
	/* the kernel's own "[ 0.375925]" stamp is not part of the event line */
	assert_true(starts_with(c.event_line, "Kernel panic"));
	assert_string_equal(console_event_name(c.event), "kernel panic");
	classifier_release(&c);
	release(&log);
}

static void test_gicv2_storm_is_a_hang(void **state)
{
	struct log log = { 0 };
	struct classifier c;
	enum console_event ev;
	double end;

	(void)state;
	load(&log, "gicv2-storm-nw.log", CON_NORMAL);
	load(&log, "gicv2-storm-sw.log", CON_SECURE);
	replay(&c, &log, &ev);
	end = log.v[log.nr - 1].t;
	/* the secure console floods, but with the same abort dump again and again */
	assert_int_equal(ev, EV_NONE);
	assert_true(c.repeated_lines > 10 * c.novel_lines);
	assert_true(c.last_progress < 0.2);
	assert_true(end - c.last_progress > 0.3);
	assert_true(classifier_hung(&c, end, 0.3));
	/* a step completing is progress */
	classifier_progress(&c, end);
	assert_false(classifier_hung(&c, end, 0.3));
	classifier_release(&c);
	release(&log);
}

static void test_tee_panic_lines(void **state)
{
	struct classifier c;

	(void)state;
	classifier_init(&c, 0);
	assert_int_equal(classifier_line(&c, CON_SECURE, "I/TC: OP-TEE version: 4.5", 1), EV_NONE);
	/* the normal world printing the words is not an OP-TEE panic */
	assert_int_equal(classifier_line(&c, CON_NORMAL, "xtest: Panic at nothing", 1), EV_NONE);
	assert_int_equal(classifier_line(&c, CON_SECURE,
		"E/TC:0 0 Panic at core/kernel/tee_ta_manager.c:123 <tee_ta_close_session>", 2),
		EV_TEE_PANIC);
	assert_int_equal(c.event, EV_TEE_PANIC);
	/* the first event sticks */
	assert_int_equal(classifier_line(&c, CON_NORMAL, "[ 9.1] Kernel panic - not syncing: x", 3),
			 EV_NONE);
	assert_int_equal(c.event, EV_TEE_PANIC);
	classifier_clear_event(&c);
	assert_int_equal(classifier_line(&c, CON_SECURE,
		"E/TC:1 0 assertion 'thr->state == THREAD_STATE_ACTIVE' failed at core/arch/arm/kernel/thread.c:567 <thread_state_free>", 4),
		EV_TEE_PANIC);
	classifier_release(&c);
}

static void test_repeats_are_not_progress(void **state)
{
	struct classifier c;

	(void)state;
	classifier_init(&c, 0);
	classifier_line(&c, CON_NORMAL, "[    1.000000] rcu: INFO: rcu_sched self-detected stall", 1);
	/* the same message later, with a new kernel timestamp: no progress */
	classifier_line(&c, CON_NORMAL, "[   22.000000] rcu: INFO: rcu_sched self-detected stall", 22);
	assert_true(classifier_hung(&c, 22, 20));
	/* the same text on the other console is new for that console */
	classifier_line(&c, CON_SECURE, "rcu: INFO: rcu_sched self-detected stall", 23);
	assert_false(classifier_hung(&c, 23, 20));
	assert_false(classifier_hung(&c, 23, 0));	/* window 0: detection off */
	classifier_release(&c);
}

/*
 * Feed tests/data/consoles/@name (normal world); the report the classifier
 * kept, of @kind with first line @line. No panic event comes of it.
 */
static const struct kernel_report *feed_report(struct classifier *c, const char *name,
					       enum kreport_kind kind, const char *line)
{
	struct log log = { 0 };
	enum console_event ev;

	load(&log, name, CON_NORMAL);
	replay(c, &log, &ev);
	assert_int_equal(ev, EV_NONE);
	release(&log);
	assert_int_equal(c->report.kind, kind);
	assert_string_equal(c->report.line, line);
	return &c->report;
}

/* The block's first and last lines (without '\n'). */
static void assert_block(const struct kernel_report *r, const char *first, const char *last)
{
	const char *text = strbuf_str(&r->text);
	size_t len = strlen(text);
	const char *end;

	if (!starts_with(text, first))
		fail_msg("first lines '%.160s', expected '%s'", text, first);
	assert_true(len > 1 && text[len - 1] == '\n');
	for (end = text + len - 1; end > text && end[-1] != '\n'; end--)
		;
	if (strncmp(end, last, strlen(last)) || end[strlen(last)] != '\n')
		fail_msg("last line '%.*s', expected '%s'", (int)(text + len - 1 - end), end, last);
}

/*
 * KASAN: the block from the "=====" rule before "BUG: KASAN:" to the
 * closing rule (the line after it is not part of it). Captured: Linux
 * 6.1.170's use-after-free in optee_supp_send() (CVE-2026-53273, scenario
 * supp-race, cell 6.1.170).
 */
static void test_kasan_report(void **state)
{
	struct classifier c;
	const struct kernel_report *r;

	(void)state;
	r = feed_report(&c, "kasan-uaf-6.1.170-nw.log", KREPORT_KASAN,
			"BUG: KASAN: use-after-free in optee_supp_send+0x410/0x41c");
	assert_string_equal(kreport_kind_name(r->kind), "KASAN");
	assert_true(r->complete);
	/* the rule was glued to busybox's prompt: the block drops the prompt, keeps stamps */
	assert_block(r, "[    8.490020] ==================================================================\n"
		     "[    8.491932] BUG: KASAN: use-after-free in optee_supp_send+0x410/0x41c\n",
		     "[    8.526768] ==================================================================");
	/* allocated and freed by the killed client, read by tee-supplicant */
	assert_non_null(strstr(strbuf_str(&r->text), "by task tee-supplicant/55\n"));
	assert_non_null(strstr(strbuf_str(&r->text), "] Freed by task 79:\n"));
	assert_null(strstr(strbuf_str(&r->text), "Disabling lock debugging"));
	assert_int_equal(r->lines, 79);
	assert_true(r->at > 11.90 && r->at < 11.91);
	/* complete: ready once settled (a panic may still follow), not before */
	assert_false(classifier_report_ready(&c, r->last + KREPORT_SETTLE / 2, KREPORT_QUIET));
	assert_true(classifier_report_ready(&c, r->last + KREPORT_SETTLE, KREPORT_QUIET));
	c.report.taken = true;
	assert_false(classifier_report_pending(&c));
	assert_false(classifier_report_ready(&c, r->last + 10, KREPORT_QUIET));
	classifier_release(&c);
}

/*
 * WARN(): from "[ cut here ]" to "---[ end trace ]---", the kernel's own
 * printk stamps kept in the block and dropped from the reason's line.
 * Written in kernel/panic.c __warn()'s format, not captured.
 */
static void test_warning_report(void **state)
{
	struct classifier c;
	const struct kernel_report *r;

	(void)state;
	r = feed_report(&c, "warning-nw.log", KREPORT_WARNING,
			"WARNING: CPU: 0 PID: 93 at drivers/tee/tee_shm.c:512 tee_shm_put+0x9c/0xb0");
	assert_true(r->complete);
	assert_block(r, "[   14.512301] ------------[ cut here ]------------\n"
		     "[   14.512438] WARNING: CPU: 0 PID: 93 at ",
		     "[   14.515178] ---[ end trace 0000000000000000 ]---");
	assert_int_equal(r->lines, 22);
	classifier_release(&c);
}

/*
 * An arm64 oops: "Unable to handle kernel ..." (arch/arm64/mm/fault.c),
 * then die()'s "Internal error: Oops: ..." in the same block, up to the end
 * trace; a panic right after it is the panic event, the report stays
 * (KERNEL_PANIC wins in the engine). Written in the kernel's format.
 */
static void test_oops_report(void **state)
{
	struct classifier c;
	const struct kernel_report *r;

	(void)state;
	r = feed_report(&c, "oops-nw.log", KREPORT_OOPS, "Unable to handle kernel NULL pointer "
			"dereference at virtual address 0000000000000008");
	assert_true(r->complete);
	assert_non_null(strstr(strbuf_str(&r->text), "\nInternal error: Oops: 0000000096000006 [#1] PREEMPT SMP\n"));
	assert_block(r, "Unable to handle kernel NULL", "---[ end trace 0000000000000000 ]---");
	assert_int_equal(classifier_line(&c, CON_NORMAL, "Kernel panic - not syncing: Oops: Fatal exception",
					 9), EV_KERNEL_PANIC);
	assert_int_equal(c.report.kind, KREPORT_OOPS);
	assert_null(strstr(strbuf_str(&c.report.text), "Kernel panic"));
	classifier_release(&c);

	/*
	 * Captured (Linux 6.12.117 Debian, a secure-only device left in the
	 * normal world's tree): die()'s line first, with the kernel's stamps,
	 * up to the end trace; then the panic
	 */
	{
		struct log log = { 0 };
		enum console_event ev;

		load(&log, "kernel-panic-nw.log", CON_NORMAL);
		replay(&c, &log, &ev);
		assert_int_equal(ev, EV_KERNEL_PANIC);
		release(&log);
	}
	assert_int_equal(c.report.kind, KREPORT_OOPS);
	assert_string_equal(c.report.line, "Internal error: synchronous external abort: "
			    "0000000096000010 [#1] SMP");
	assert_block(&c.report, "[    0.368374] Internal error: synchronous external abort",
		     "[    0.375484] ---[ end trace 0000000000000000 ]---");
	assert_int_equal(c.report.lines, 31);
	classifier_release(&c);

	/* die() alone (a BUG_ON's "Oops - BUG") starts one too; the panic line ends it */
	classifier_init(&c, 0);
	classifier_line(&c, CON_NORMAL, "Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP", 1);
	assert_int_equal(c.report.kind, KREPORT_OOPS);
	assert_false(c.report.complete);
	classifier_line(&c, CON_NORMAL, "Kernel panic - not syncing: Oops - BUG: Fatal exception", 1);
	assert_true(c.report.complete);
	assert_int_equal(c.report.lines, 2);
	assert_int_equal(c.event, EV_KERNEL_PANIC);
	classifier_release(&c);
}

/*
 * Hung tasks, captured (system-invocation, Linux 6.12, CFG_NUM_THREADS=1):
 * the first report glued to busybox's prompt and its cursor query
 * ("/ # \033[6nINFO: task ..."). No end line: the block runs on (the next
 * task's report too) until the quiet time or the line bound.
 */
static void test_hung_task_report(void **state)
{
	struct classifier c;
	const struct kernel_report *r;

	(void)state;
	r = feed_report(&c, "hung-task-6.12-nw.log", KREPORT_HUNG_TASK,
			"INFO: task irq/26-optee_no:39 blocked for more than 10 seconds.");
	assert_false(r->complete);
	/* printed while busybox waited at its prompt: the block drops the prompt */
	assert_true(starts_with(strbuf_str(&r->text), "INFO: task irq/26-optee_no:39"));
	assert_non_null(strstr(strbuf_str(&r->text), "\nINFO: task tl-storage:93 blocked"));
	assert_int_equal(r->lines, 22);
	assert_false(classifier_report_ready(&c, r->last + 1.9, 2));
	assert_true(classifier_report_ready(&c, r->last + 2, 2));
	classifier_release(&c);

	/* the captured 6.1 deadlock: three reports, the first at line start */
	r = feed_report(&c, "deadlock-6.1-t2-nw.log", KREPORT_HUNG_TASK,
			"INFO: task irq/26-optee_no:33 blocked for more than 10 seconds.");
	/* the serial command's END marker after the reports is not part of them */
	assert_null(strstr(strbuf_str(&r->text), "@@TL:"));
	assert_true(r->lines <= KREPORT_MAX_LINES_OPEN);
	classifier_release(&c);

	/* a scenario's `ignore-kernel-bugs: HUNG_TASK` */
	classifier_init(&c, 0);
	c.report_ignore = 1u << KREPORT_HUNG_TASK;
	classifier_line(&c, CON_NORMAL, "INFO: task tl-storage:93 blocked for more than 10 seconds.", 1);
	assert_false(classifier_report_pending(&c));
	classifier_line(&c, CON_NORMAL, "BUG: scheduling while atomic: tl-storage/93/0x00000002", 2);
	assert_int_equal(c.report.kind, KREPORT_BUG);
	classifier_release(&c);
}

/* kmemleak's scan summary (mm/kmemleak.c): one line, complete at once. */
static void test_kmemleak_report(void **state)
{
	struct classifier c;
	const struct kernel_report *r;

	(void)state;
	r = feed_report(&c, "kmemleak-nw.log", KREPORT_KMEMLEAK,
			"kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)");
	assert_true(r->complete);
	assert_int_equal(r->lines, 1);
	/* the first report sticks */
	classifier_line(&c, CON_NORMAL, "BUG: soft lockup - CPU#0 stuck for 22s! [tl-bug:97]", 5);
	assert_int_equal(c.report.kind, KREPORT_KMEMLEAK);
	classifier_clear_report(&c);
	classifier_line(&c, CON_NORMAL, "[   30.1] BUG: soft lockup - CPU#0 stuck for 22s! [tl-bug:97]", 5);
	assert_int_equal(c.report.kind, KREPORT_BUG);
	assert_string_equal(c.report.line, "BUG: soft lockup - CPU#0 stuck for 22s! [tl-bug:97]");
	classifier_release(&c);
}

/* Lines that only carry the words: a shell echoing a command, output mid-line, the secure world. */
static void test_not_a_report(void **state)
{
	static const char *const lines[] = {
		"/ # echo BUG: x",
		"/ # echo 'WARNING: CPU: 0 PID: 1 at x'",
		"~ $ INFO: task x:1 blocked for more than 10 seconds.",	/* typed, no escape */
		"/ # \033[6necho BUG: x",
		"xtest: BUG: nothing",
		"[    1.000000] tl-storage: Internal error: none",
		"Internal error: the program's own words",
		"WARNING: CPU: x PID: 1 at y",
		"WARNING: the lab eMMC is slow",
		"INFO: task list done",
		"kmemleak: Kernel memory leak detector initialized (mem pool available: 15787)",
		"=================================================================="
	};
	struct classifier c;

	(void)state;
	classifier_init(&c, 0);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		classifier_line(&c, CON_NORMAL, lines[i], 1);
		if (classifier_report_pending(&c))
			fail_msg("'%s' started a %s report", lines[i], kreport_kind_name(c.report.kind));
	}
	/* the secure world's words are OP-TEE's, not a kernel report */
	classifier_line(&c, CON_SECURE, "BUG: KASAN: nothing", 1);
	assert_false(classifier_report_pending(&c));
	assert_false(classifier_report_ready(&c, 100, 2));
	assert_int_equal(kreport_kind_parse("HUNG_TASK"), KREPORT_HUNG_TASK);
	assert_int_equal(kreport_kind_parse("hung_task"), KREPORT_NONE);
	assert_int_equal(kreport_kind_parse("none"), KREPORT_NONE);
	classifier_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passing_run_is_quiet),
		cmocka_unit_test(test_kernel_panic),
		cmocka_unit_test(test_gicv2_storm_is_a_hang),
		cmocka_unit_test(test_tee_panic_lines),
		cmocka_unit_test(test_repeats_are_not_progress),
		cmocka_unit_test(test_kasan_report),
		cmocka_unit_test(test_warning_report),
		cmocka_unit_test(test_oops_report),
		cmocka_unit_test(test_hung_task_report),
		cmocka_unit_test(test_kmemleak_report),
		cmocka_unit_test(test_not_a_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
