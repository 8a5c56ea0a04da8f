// SPDX-License-Identifier: MIT
/*
 * test_engine.c - the run engine (run.c, lab/engine/, lab/steps/) on the
 * replay backend (machine_replay.c): captured consoles from
 * tests/data/consoles played back instead of QEMU, scripted SSH commands,
 * and the verdict, the steps' outcomes, result.json and evidence checked.
 * Each run takes well under a second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "images.h"
#include "machine.h"
#include "run.h"
#include "scenario.h"
#include "util.h"

struct play {
	struct run_result res;
	char *run_dir;
	int exit_code;
	char *log;		/* what teelab printed */
};

/* The first @nr lines of tests/data/consoles/@name (0: all) into <@dir>/@as. */
static void put_console(const char *dir, const char *as, const char *name, size_t nr,
			const char *append)
{
	char *src = xasprintf("%s/tests/data/consoles", test_srcdir());
	char *text = tu_slurp(src, name), *p = text;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(mkdir_p(dir, 0755), 0);
	for (size_t i = 0; *p && (!nr || i < nr); i++) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		strbuf_add(&sb, p, len);
		p += len;
	}
	if (append)
		strbuf_addstr(&sb, append);
	put_file(dir, as, strbuf_str(&sb));
	strbuf_release(&sb);
	free(text);
	free(src);
}

/*
 * Play scenario @yaml on the replay in <tmp>/@name/replay (set up by the
 * caller) and fill @p.
 */
static void play(void **state, const char *name, const char *yaml, struct play *p)
{
	char *base = tpath(state, name);
	char *replay = path_join(base, "replay");
	char *scen = path_join(base, "scenario.yaml");
	struct lab_config cfg = { 0 };
	struct lab_images im = { 0 };
	struct scenario sc = SCENARIO_INIT;
	struct run_options opt = { 0 };
	struct capture cap;

	assert_int_equal(mkdir_p(base, 0755), 0);
	put_file(base, "scenario.yaml", yaml);
	assert_int_equal(scenario_load(scen, &sc), 0);
	assert_int_equal(scenario_select(&sc, NULL, NULL, 0, NULL), 0);
	cfg.profile = "replay";
	cfg.cache_dir = base;
	cfg.machine.name = "replay";
	cfg.machine.qemu = "true";
	cfg.machine.backend = "replay";
	cfg.machine.replay = replay;
	p->run_dir = path_join(base, "run");
	assert_int_equal(mkdir_p(p->run_dir, 0755), 0);
	opt.run_dir = p->run_dir;
	p->res = (struct run_result)RUN_RESULT_INIT;
	p->res.expected = xstrdup(scenario_expected(&sc));	/* as cmd_run.c */
	capture_begin(&cap);
	p->exit_code = run_scenario(&cfg, &im, &sc, &opt, &p->res);
	p->log = capture_end(&cap);
	scenario_release(&sc);
	free(scen);
	free(replay);
	free(base);
}

static void play_release(struct play *p)
{
	run_result_release(&p->res);
	free(p->run_dir);
	free(p->log);
}

/* The step named @name of @p's run. */
static const struct test_result *step(const struct play *p, const char *name)
{
	for (size_t i = 0; i < p->res.nr_tests; i++)
		if (!strcmp(p->res.tests[i].name, name))
			return &p->res.tests[i];
	fail_msg("no step '%s'", name);
	return NULL;
}

static void assert_verdict(const struct play *p, enum verdict v)
{
	if (p->res.verdict != v)
		fail_msg("verdict %s, expected %s (%s)\n%s", verdict_name(p->res.verdict),
			 verdict_name(v), p->res.reason ? p->res.reason : "", p->log);
}

static void assert_file_has(const char *dir, const char *name, const char *needle)
{
	char *text = tu_slurp(dir, name);

	if (!strstr(text, needle))
		fail_msg("%s/%s has no '%s'", dir, name, needle);
	free(text);
}

/* A replay of the xtest-smoke consoles (Linux 6.12, serial shell), first @nr nw lines. */
static char *smoke_replay(void **state, const char *name, size_t nr, const char *script)
{
	char *dir = xasprintf("%s/%s/replay", (char *)*state, name);

	put_console(dir, "nw-console.log", "xtest-smoke-nw.log", nr, NULL);
	put_console(dir, "sw-console.log", "xtest-smoke-sw.log", 0, NULL);
	put_file(dir, "script", script ? script : "");
	return dir;
}

#define SMOKE_STEPS \
	"steps:\n" \
	"  - boot\n" \
	"  - expect: { pattern: 'optee: initialized driver' }\n" \
	"  - expect: { console: secure, pattern: 'OP-TEE version: ' }\n" \
	"  - run: { name: supplicant, command: pidof tee-supplicant }\n" \
	"  - run: { name: xtest, command: 'xtest -t regression 1001 1004 6001', parser: xtest }\n"

/* The captured run replayed whole: PASS, with xtest's cases and a clean power-off. */
static void test_pass(void **state)
{
	struct play p;

	free(smoke_replay(state, "pass", 0, NULL));
	play(state, "pass", "name: pass\nnetwork: false\n" SMOKE_STEPS
	     "  - sleep: 0.05\n  - repeat: { times: 2, steps: [ { sleep: { seconds: 0.01 } } ] }\n"
	     "  - poweroff\n", &p);
	assert_verdict(&p, V_PASS);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(step(&p, "regression_1004")->verdict, V_PASS);
	assert_int_equal(step(&p, "poweroff")->verdict, V_PASS);
	/* a kind with data of its own (sleep.c), copied for each repeat */
	assert_int_equal(step(&p, "sleep 0.05 s")->verdict, V_PASS);
	assert_int_equal(step(&p, "sleep 0.01 s [2/2]")->verdict, V_PASS);
	assert_file_has(p.run_dir, "nw-console.log", "@@TL:END:2:0@@");
	assert_file_has(p.run_dir, "result.json", "\"verdict\": \"PASS\"");
	assert_file_has(p.run_dir, "steps/05-run.log", "3 test cases of which 0 failed");
	play_release(&p);
}

/* A line that never comes within the step's timeout: TIMEOUT, evidence collected. */
static void test_timeout(void **state)
{
	struct play p;

	free(smoke_replay(state, "timeout", 0, NULL));
	play(state, "timeout", "name: timeout\nnetwork: false\ntimeouts: { hang: 60 }\n"
	     "steps:\n  - boot\n  - expect: { name: never, pattern: 'no such line', timeout: 0.3 }\n"
	     "  - poweroff\n", &p);
	assert_verdict(&p, V_TIMEOUT);
	assert_int_equal(step(&p, "never")->verdict, V_TIMEOUT);
	assert_string_equal(step(&p, "never")->message, "timed out after 0 s");
	/* the guest still answers: the run goes on to the power-off */
	assert_int_equal(step(&p, "poweroff")->verdict, V_PASS);
	assert_file_has(p.run_dir, "evidence/summary.txt", "nw-console.tail");
	play_release(&p);
}

/* Consoles silent and no step completing for the hang window: HANG, the rest not run. */
static void test_hang(void **state)
{
	struct play p;

	free(smoke_replay(state, "hang", 0, NULL));
	play(state, "hang", "name: hang\nnetwork: false\ntimeouts: { hang: 0.3 }\n"
	     "steps:\n  - boot\n  - expect: { name: never, pattern: 'no such line', timeout: 30 }\n"
	     "  - poweroff\n", &p);
	assert_verdict(&p, V_HANG);
	assert_int_equal(p.exit_code, TL_EXIT_HANG);
	assert_non_null(strstr(step(&p, "never")->message, "no progress for 0 s"));
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	assert_file_has(p.run_dir, "evidence/summary.txt", "run stopped at");
	play_release(&p);
}

/*
 * Linux dying at boot (captured): KERNEL_PANIC at the boot step, the oops
 * before the panic quoted in result.json.
 */
static void test_kernel_panic(void **state)
{
	char *dir = xasprintf("%s/kpanic/replay", (char *)*state);
	struct play p;

	put_console(dir, "nw-console.log", "kernel-panic-nw.log", 0, NULL);
	put_file(dir, "script", "");
	play(state, "kpanic", "name: kpanic\nnetwork: false\nsteps:\n  - boot\n  - poweroff\n", &p);
	assert_verdict(&p, V_KERNEL_PANIC);
	assert_int_equal(p.exit_code, TL_EXIT_KERNEL_PANIC);
	assert_non_null(strstr(step(&p, "boot")->message, "Attempted to kill init"));
	assert_string_equal(p.res.kernel_bug.kind, "OOPS");
	assert_string_equal(p.res.kernel_bug.line,
			    "Internal error: synchronous external abort: 0000000096000010 [#1] SMP");
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	free(dir);
	play_release(&p);
}

/*
 * OP-TEE panicking under xtest: the captured secure console with OP-TEE's
 * core panic line (core/kernel/panic.c's format) added at 3.5 s, while
 * command 2 (xtest) runs on the normal world.
 */
static void test_tee_panic(void **state)
{
	char *dir = xasprintf("%s/tpanic/replay", (char *)*state);
	struct play p;

	put_console(dir, "nw-console.log", "xtest-smoke-nw.log", 330, NULL);
	put_console(dir, "sw-console.log", "xtest-smoke-sw.log", 0,
		    "[    3.500] E/TC:0 0 Panic at core/kernel/tee_ta_manager.c:123 <tee_ta_close_session>\n");
	put_file(dir, "script", "");
	play(state, "tpanic", "name: tpanic\nnetwork: false\n" SMOKE_STEPS "  - poweroff\n", &p);
	assert_verdict(&p, V_TEE_PANIC);
	assert_int_equal(p.exit_code, TL_EXIT_TEE_PANIC);
	assert_non_null(strstr(step(&p, "xtest")->message, "OP-TEE panic: "));
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	free(dir);
	play_release(&p);
}

/*
 * The system-invocation deadlock captured on Linux 6.1 (2 OP-TEE threads,
 * 2 storage clients): the clients print no progress line while still
 * running: DEADLOCK, with the TEE chain named from the guest's stacks (a
 * captured tl-evidence output of the same deadlock).
 */
static void test_deadlock(void **state)
{
	char *dir = xasprintf("%s/deadlock/replay", (char *)*state);
	char *ev = xasprintf("%s/tests/data/evidence", test_srcdir());
	char *guest = tu_slurp(ev, "deadlock-6.1-t2.txt");
	struct play p;

	put_console(dir, "nw-console.log", "deadlock-6.1-t2-nw.log", 0, NULL);
	put_console(dir, "sw-console.log", "deadlock-6.1-t2-sw.log", 0, NULL);
	put_console(dir, "clients.txt", "deadlock-6.1-t2-clients.txt", 0, NULL);
	put_file(dir, "guest.txt", guest);
	put_file(dir, "script", "ssh\n"
		 "job ^tl-bg clients.txt running\n"
		 "job ^tl-evidence guest.txt 0\n");
	/* as system-invocation.yaml: the deadlock's hung-task reports are its symptom */
	play(state, "deadlock", "name: deadlock\ntimeouts: { hang: 60 }\n"
	     "ignore-kernel-bugs: HUNG_TASK\nsteps:\n  - boot\n"
	     "  - background: { id: clients, command: 'tl-storage load -c 2', "
	     "progress: '^tl-storage: progress client ', stall: 0.3 }\n"
	     "  - join: { id: clients, timeout: 30 }\n  - poweroff\n", &p);
	assert_verdict(&p, V_DEADLOCK);
	assert_int_equal(p.exit_code, TL_EXIT_DEADLOCK);
	assert_non_null(strstr(step(&p, "join clients")->message,
			       "'clients' made no progress for 0 s while still running (0 progress lines"));
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	assert_file_has(p.run_dir, "evidence/job-clients.txt", "tl-storage: load clients 2");
	assert_file_has(p.run_dir, "evidence/summary.txt", "DEADLOCK: 'clients'");
	assert_file_has(p.run_dir, "evidence/summary.txt", "scmi_optee_send_message");
	assert_file_has(p.run_dir, "result.json", "deadlock_chain");
	assert_file_has(p.run_dir, "nw-console.log", "blocked for more than 10 seconds");
	assert_null(p.res.kernel_bug.kind);
	free(guest);
	free(ev);
	free(dir);
	play_release(&p);
}

/*
 * The xtest-smoke consoles cut while xtest (serial command 2) runs, then
 * tests/data/consoles/@report on the normal world (@tail after it).
 */
static void report_replay(void **state, const char *name, const char *report, const char *tail)
{
	char *dir = xasprintf("%s/%s/replay", (char *)*state, name);
	char *src = xasprintf("%s/tests/data/consoles", test_srcdir());
	char *text = tu_slurp(src, report);
	char *append = xasprintf("%s%s", text, tail ? tail : "");

	put_console(dir, "nw-console.log", "xtest-smoke-nw.log", 330, append);
	put_console(dir, "sw-console.log", "xtest-smoke-sw.log", 0, NULL);
	put_file(dir, "script", "");
	free(append);
	free(text);
	free(src);
	free(dir);
}

#define REPORT_STEPS \
	"steps:\n" \
	"  - boot\n" \
	"  - run: { name: supplicant, command: pidof tee-supplicant }\n" \
	"  - run: { name: xtest, command: 'xtest -t regression 1001 1004 6001', timeout: 1 }\n" \
	"  - poweroff\n"

/*
 * KASAN reports a use-after-free while xtest runs (the report is written
 * in mm/kasan/report.c's format, tests/data/consoles/README.md): the step
 * ends KERNEL_BUG once the closing rule came, the rest is not run, the
 * block is quoted in result.json, junit.xml and evidence/kernel-bug.txt.
 */
static void test_kernel_bug(void **state)
{
	struct play p;
	const struct test_result *t;

	report_replay(state, "kbug", "kasan-uaf-6.1.170-nw.log", NULL);
	play(state, "kbug", "name: kbug\nnetwork: false\n" REPORT_STEPS, &p);
	assert_verdict(&p, V_KERNEL_BUG);
	assert_int_equal(p.exit_code, TL_EXIT_KERNEL_BUG);
	assert_int_equal(p.exit_code, 9);
	t = step(&p, "xtest");
	assert_int_equal(t->verdict, V_KERNEL_BUG);
	assert_string_equal(t->message, "KASAN: BUG: KASAN: use-after-free in "
			    "optee_supp_send+0x410/0x41c");
	assert_non_null(strstr(t->output, "Freed by task 79:"));
	assert_string_equal(p.res.reason, "xtest: KASAN: BUG: KASAN: use-after-free in "
			    "optee_supp_send+0x410/0x41c");
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	/* the whole block, from rule to rule, in result.json */
	assert_string_equal(p.res.kernel_bug.kind, "KASAN");
	assert_string_equal(p.res.kernel_bug.line, "BUG: KASAN: use-after-free in "
			    "optee_supp_send+0x410/0x41c");
	assert_true(starts_with(p.res.kernel_bug.report, "[    8.490020] =================="));
	assert_true(ends_with(p.res.kernel_bug.report, "==================\n"));
	assert_true(p.res.kernel_bug.at >= 0);
	assert_file_has(p.run_dir, "result.json", "\"kernel_bug\": {");
	assert_file_has(p.run_dir, "result.json", "\"kind\": \"KASAN\"");
	assert_file_has(p.run_dir, "result.json", "Read of size 8 at addr ffffff8006f55620 by task tee-supplicant/55\\n");
	assert_file_has(p.run_dir, "result.json", "\"kernel_bug\": 1");
	assert_file_has(p.run_dir, "result.json", "\"exit_code\": 9");
	assert_file_has(p.run_dir, "junit.xml", "<failure message=\"KASAN: BUG: KASAN: use-after-free");
	assert_file_has(p.run_dir, "junit.xml", "type=\"KERNEL_BUG\"");
	assert_file_has(p.run_dir, "results.tap", "not ok 3 - steps/xtest\n  ---\n  message: \"KASAN: ");
	assert_file_has(p.run_dir, "results.tap", "  verdict: KERNEL_BUG\n");
	assert_file_has(p.run_dir, "evidence/summary.txt", "KERNEL_BUG: KASAN: BUG: KASAN: use-after-free");
	assert_file_has(p.run_dir, "evidence/kernel-bug.txt", "Memory state around the buggy address:");
	play_release(&p);

	/* the same run where the scenario expects it passes */
	report_replay(state, "kbug-expected", "kasan-uaf-6.1.170-nw.log", NULL);
	play(state, "kbug-expected", "name: kbug\nnetwork: false\nexpect: KERNEL_BUG\n" REPORT_STEPS, &p);
	assert_verdict(&p, V_PASS);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(p.res.observed, V_KERNEL_BUG);
	assert_true(starts_with(p.res.reason, "KERNEL_BUG as expected: xtest: KASAN: "));
	assert_string_equal(p.res.kernel_bug.kind, "KASAN");
	play_release(&p);

	/* expected but not there: the run passing is a failure */
	free(smoke_replay(state, "kbug-missing", 0, NULL));
	play(state, "kbug-missing", "name: kbug\nnetwork: false\nexpect: KERNEL_BUG\n" SMOKE_STEPS
	     "  - poweroff\n", &p);
	assert_verdict(&p, V_FAIL);
	assert_int_equal(p.exit_code, TL_EXIT_FAIL);
	assert_string_equal(p.res.reason, "expected KERNEL_BUG, got PASS");
	assert_null(p.res.kernel_bug.kind);
	play_release(&p);

	/* a kind the scenario ignores changes nothing: xtest, cut there, times out */
	report_replay(state, "kbug-ignored", "kmemleak-nw.log", NULL);
	play(state, "kbug-ignored", "name: kbug\nnetwork: false\nignore-kernel-bugs: [KMEMLEAK]\n"
	     REPORT_STEPS, &p);
	assert_verdict(&p, V_TIMEOUT);
	assert_null(p.res.kernel_bug.kind);
	play_release(&p);
}

/*
 * An oops, then the panic it led to: KERNEL_PANIC (the worse one), with the
 * oops quoted in result.json as what came before it.
 */
static void test_oops_then_panic(void **state)
{
	struct play p;

	report_replay(state, "oops", "oops-nw.log",
		      "[    3.400] Kernel panic - not syncing: Oops: Fatal exception\n");
	play(state, "oops", "name: oops\nnetwork: false\n" REPORT_STEPS, &p);
	assert_verdict(&p, V_KERNEL_PANIC);
	assert_int_equal(p.exit_code, TL_EXIT_KERNEL_PANIC);
	assert_string_equal(step(&p, "xtest")->message,
			    "kernel panic: Kernel panic - not syncing: Oops: Fatal exception");
	assert_string_equal(p.res.kernel_bug.kind, "OOPS");
	assert_non_null(strstr(p.res.kernel_bug.report, "\nInternal error: Oops: 0000000096000006"));
	assert_file_has(p.run_dir, "result.json", "\"kind\": \"OOPS\"");
	play_release(&p);
}

/*
 * A serial command that never finishes and a shell that does not come
 * back after Ctrl-C: that step times out; a later serial command is the
 * wedged-shell outcome (FAIL, not INFRA); SSH still works.
 */
static void test_wedged_shell(void **state)
{
	/* xtest (command 2) starts and its output stops mid-way */
	free(smoke_replay(state, "wedged", 320, "ssh\njob ^uname uname.txt 0\n"));
	put_file((char *)*state, "wedged/replay/uname.txt", "Linux\n");
	{
		struct play p;

		play(state, "wedged", "name: wedged\ntimeouts: { hang: 60 }\nsteps:\n  - boot\n"
		     "  - run: { name: one, command: pidof tee-supplicant, channel: serial }\n"
		     "  - run: { name: stuck, command: xtest, channel: serial, timeout: 0.3 }\n"
		     "  - run: { name: again, command: 'echo hi', channel: serial }\n"
		     "  - run: { name: over ssh, command: uname, expect-output: Linux }\n", &p);
		assert_verdict(&p, V_TIMEOUT);
		assert_int_equal(step(&p, "one")->verdict, V_PASS);
		assert_int_equal(step(&p, "stuck")->verdict, V_TIMEOUT);
		assert_int_equal(step(&p, "again")->verdict, V_FAIL);
		assert_non_null(strstr(step(&p, "again")->message, "serial shell is wedged"));
		assert_int_equal(step(&p, "over ssh")->verdict, V_PASS);
		play_release(&p);
	}
}

/* QEMU dying under the boot: INFRA with its status, nothing after it run. */
static void test_qemu_dies(void **state)
{
	struct play p;

	free(smoke_replay(state, "dies", 100, "exit 137\n"));
	play(state, "dies", "name: dies\nnetwork: false\nsteps:\n  - boot\n  - poweroff\n", &p);
	assert_verdict(&p, V_INFRA);
	assert_string_equal(step(&p, "boot")->message, "QEMU exited (status 137) during the step");
	assert_int_equal(step(&p, "poweroff")->verdict, V_NOTRUN);
	play_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_kernel_panic),
		cmocka_unit_test(test_tee_panic),
		cmocka_unit_test(test_kernel_bug),
		cmocka_unit_test(test_oops_then_panic),
		cmocka_unit_test(test_deadlock),
		cmocka_unit_test(test_wedged_shell),
		cmocka_unit_test(test_qemu_dies),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
