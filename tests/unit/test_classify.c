// SPDX-License-Identifier: MIT
/* test_classify.c - the verdict classifier fed with real captured console logs */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passing_run_is_quiet),
		cmocka_unit_test(test_kernel_panic),
		cmocka_unit_test(test_gicv2_storm_is_a_hang),
		cmocka_unit_test(test_tee_panic_lines),
		cmocka_unit_test(test_repeats_are_not_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
