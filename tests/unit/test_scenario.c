// SPDX-License-Identifier: MIT
/* test_scenario.c - unit tests for lab/scenario.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "config.h"
#include "scenario.h"
#include "step.h"
#include "util.h"

struct fixture {
	char dir[64];		/* private temporary directory */
	char *path;		/* <dir>/xtest-smoke.yaml */
	struct scenario sc;
	char *err;		/* what the last load printed on stderr */
	struct capture cap;
};


static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/teelab-sc-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->path = path_join(f->dir, "xtest-smoke.yaml");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	scenario_release(&f->sc);
	remove_tree(f->dir);
	free(f->path);
	free(f->err);
	free(f);
	return 0;
}

/* Write @text as the scenario file and load it, stderr into f->err. */
static int load(struct fixture *f, const char *text)
{
	struct capture c = { -1, -1 };
	int ret = 0;

	scenario_release(&f->sc);
	free(f->err);
	assert_int_equal(write_file_str(f->path, text), 0);
	capture_begin(&c);
	ret = scenario_load(f->path, &f->sc);
	f->err = capture_end(&c);
	return ret;
}

/* Assert stderr was exactly "teelab: error: <path>:<where>\n". */
static void assert_error(const struct fixture *f, const char *where)
{
	char *want = xasprintf("teelab: error: %s:%s\n", f->path, where);

	if (strcmp(f->err, want)) {
		print_error("expected stderr: %swhat it was:     %s", want, f->err);
		free(want);
		fail();
	}
	free(want);
}

/* Load @text, expect -EINVAL, the located message and a released @sc. */
static void expect_invalid(struct fixture *f, const char *text,
			   const char *where)
{
	assert_int_equal(load(f, text), -EINVAL);
	assert_error(f, where);
	assert_null(f->sc.path);
	assert_null(f->sc.steps);
	assert_int_equal(f->sc.nr_steps, 0);
}

/* Load @text, then scenario_select() with the one parameter @param fails with @msg. */
static void expect_select_error(struct fixture *f, const char *text, char *param, const char *msg)
{
	char *cli[] = { param };

	assert_int_equal(load(f, text), 0);
	capture_begin(&f->cap);
	assert_int_equal(scenario_select(&f->sc, NULL, cli, 1, NULL), -EINVAL);
	free(f->err);
	f->err = capture_end(&f->cap);
	assert_non_null(strstr(f->err, msg));
}

/* ---- valid scenarios ---- */

static void test_full_scenario(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;
	const struct scenario_step *st = NULL;

	assert_int_equal(load(f,
		"name: my-smoke\n"
		"description: checks the basics\n"
		"profile: fast\n"
		"kernel-cmdline: \"quiet loglevel=3\"\n"
		"timeouts:\n"
		"  boot: 60\n"
		"  step: 2.5\n"
		"  run: 1e3\n"
		"steps:\n"
		"  - boot:\n"
		"      timeout: 45\n"
		"  - wait:\n"
		"      console: secure\n"
		"      pattern: \"optee: initialized driver\"\n"
		"      timeout: 30\n"
		"    name: tee up\n"
		"  - run:\n"
		"      command: \"xtest -t regression 1001\"\n"
		"      expect-exit: 3\n"
		"      expect-output: \"0 failed\"\n"
		"      parser: xtest\n"
		"      timeout: 120\n"
		"      xfail: known flaky\n"
		"  - poweroff:\n"
		"      timeout: 10\n"
		"      name: bye\n"), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(sc->path, f->path);
	assert_string_equal(sc->name, "my-smoke");
	assert_string_equal(sc->description, "checks the basics");
	assert_string_equal(sc->profile, "fast");
	assert_string_equal(sc->cmdline_extra, "quiet loglevel=3");
	assert_true(sc->boot_timeout == 60);
	assert_true(sc->step_timeout == 2.5);
	assert_true(sc->run_timeout == 1000);
	assert_int_equal(sc->nr_steps, 4);

	st = &sc->steps[0];
	assert_ptr_equal(st->ops, &step_boot);
	assert_string_equal(st->name, "boot");
	assert_int_equal(st->line, 10);
	assert_int_equal(st->column, 5);
	assert_true(st->timeout == 45);
	assert_null(st->xfail);

	st = &sc->steps[1];
	assert_ptr_equal(st->ops, &step_expect);
	assert_string_equal(st->name, "tee up");
	assert_int_equal(st->line, 12);
	assert_int_equal(st->column, 5);
	assert_int_equal(st->console, CON_SECURE);
	assert_string_equal(st->pattern, "optee: initialized driver");
	assert_true(st->timeout == 30);
	assert_null(st->command);

	st = &sc->steps[2];
	assert_ptr_equal(st->ops, &step_run);
	assert_string_equal(st->name, "run xtest -t regression 1001");
	assert_int_equal(st->line, 17);
	assert_string_equal(st->command, "xtest -t regression 1001");
	assert_int_equal(st->expect_exit, 3);
	assert_string_equal(st->expect_output, "0 failed");
	assert_string_equal(st->parser, "xtest");
	assert_string_equal(st->xfail, "known flaky");
	assert_true(st->timeout == 120);
	assert_null(st->pattern);

	st = &sc->steps[3];
	assert_ptr_equal(st->ops, &step_poweroff);
	assert_string_equal(st->name, "bye");
	assert_true(st->timeout == 10);
	assert_int_equal(st->line, 24);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;

	assert_int_equal(load(f,
		"steps:\n"
		"  - boot:\n"
		"  - wait:\n"
		"      pattern: 'login: *$'\n"
		"  - run:\n"
		"      command: |\n"
		"        echo one\n"
		"        echo two\n"
		"  - poweroff: {}\n"), 0);
	assert_string_equal(sc->name, "xtest-smoke");
	assert_null(sc->description);
	assert_null(sc->profile);
	assert_null(sc->cmdline_extra);
	assert_true(sc->boot_timeout == 120);
	assert_true(sc->step_timeout == 300);
	assert_true(sc->run_timeout == 1800);
	assert_true(sc->hang_window == 60);
	assert_true(sc->network);
	assert_int_equal(sc->nr_steps, 4);

	assert_string_equal(sc->steps[0].name, "boot");
	assert_true(sc->steps[0].timeout == 0);

	assert_int_equal(sc->steps[1].console, CON_NORMAL);
	/* "wait" is an alias of "expect" */
	assert_ptr_equal(sc->steps[1].ops, &step_expect);
	assert_string_equal(sc->steps[1].name, "expect normal: login: *$");
	assert_true(sc->steps[1].timeout == 0);

	assert_string_equal(sc->steps[2].command, "echo one\necho two\n");
	/* generated names stay on one line */
	assert_string_equal(sc->steps[2].name, "run echo one echo two ");
	assert_int_equal(sc->steps[2].expect_exit, 0);
	assert_int_equal(sc->steps[2].channel, CHAN_AUTO);
	assert_null(sc->steps[2].expect_output);
	assert_null(sc->steps[2].parser);
	assert_null(sc->steps[2].xfail);

	assert_ptr_equal(sc->steps[3].ops, &step_poweroff);
	assert_string_equal(sc->steps[3].name, "poweroff");
	for (size_t i = 0; i < sc->nr_steps; i++)
		assert_null(sc->steps[i].xfail);
}

static void test_shorthand_forms(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;

	assert_int_equal(load(f,
		"steps:\n"
		"- boot\n"
		"- run: \"uname -a\"\n"
		"- run: true\n"
		"  name: always\n"
		"  xfail: why not\n"
		"- poweroff\n"), 0);
	assert_int_equal(sc->nr_steps, 4);
	assert_ptr_equal(sc->steps[0].ops, &step_boot);
	assert_int_equal(sc->steps[0].line, 2);
	assert_int_equal(sc->steps[0].column, 3);
	assert_ptr_equal(sc->steps[1].ops, &step_run);
	assert_string_equal(sc->steps[1].command, "uname -a");
	assert_string_equal(sc->steps[1].name, "run uname -a");
	assert_int_equal(sc->steps[1].expect_exit, 0);
	assert_int_equal(sc->steps[1].line, 3);
	assert_int_equal(sc->steps[1].column, 3);
	assert_string_equal(sc->steps[2].command, "true");
	assert_string_equal(sc->steps[2].name, "always");
	assert_string_equal(sc->steps[2].xfail, "why not");
	assert_ptr_equal(sc->steps[3].ops, &step_poweroff);
	assert_string_equal(sc->steps[3].name, "poweroff");
	assert_int_equal(sc->steps[3].line, 7);

	/* "- poweroff:" with a null value and "~" */
	assert_int_equal(load(f, "steps:\n- boot: ~\n- poweroff:\n"), 0);
	assert_int_equal(sc->nr_steps, 2);
	assert_ptr_equal(sc->steps[1].ops, &step_poweroff);
	assert_int_equal(sc->steps[1].line, 3);
	assert_int_equal(sc->steps[1].column, 3);
}

static void test_generated_run_name_truncated(void **state)
{
	struct fixture *f = *state;
	const char *cmd = "echo 0123456789012345678901234567890123456789"
			  "0123456789abcdefghij";
	char *text = xasprintf("steps:\n- boot\n- run: '%s'\n", cmd);

	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->sc.steps[1].command, cmd);
	assert_string_equal(f->sc.steps[1].name,
			    "run echo 0123456789012345678901234567890123456789"
			    "0123456789abcde...");
	free(text);

	/* background and parallel commands are cut the same way */
	text = xasprintf("steps:\n- boot\n- background: {id: b, command: '%s'}\n"
			 "- parallel: {command: '%s', copies: 3}\n", cmd, cmd);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->sc.steps[1].name,
			    "background b: echo 0123456789012345678901234567890123456789"
			    "0123456789abcde...");
	assert_string_equal(f->sc.steps[2].name,
			    "parallel 3x echo 0123456789012345678901234567890123456789"
			    "0123456789abcde...");
	free(text);
}

static void test_default_name_from_file(void **state)
{
	struct fixture *f = *state;
	char *path = path_join(f->dir, "other.yml");
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(write_file_str(path, "steps: [boot]\n"), 0);
	capture_begin(&c);
	ret = scenario_load(path, &f->sc);
	f->err = capture_end(&c);
	assert_int_equal(ret, 0);
	assert_string_equal(f->sc.name, "other");
	assert_int_equal(f->sc.nr_steps, 1);
	free(path);
}

static void test_names(void **state)
{
	assert_string_equal(step_boot.name, "boot");
	assert_string_equal(step_expect.name, "expect");
	assert_string_equal(step_expect_not.name, "expect-not");
	assert_string_equal(step_run.name, "run");
	assert_string_equal(step_background.name, "background");
	assert_string_equal(step_join.name, "join");
	assert_string_equal(step_kill.name, "kill");
	assert_string_equal(step_parallel.name, "parallel");
	assert_string_equal(step_collect.name, "collect");
	assert_string_equal(step_reboot.name, "reboot");
	assert_string_equal(step_kexec.name, "kexec");
	assert_string_equal(step_sysrq.name, "sysrq");
	assert_string_equal(step_assert.name, "assert");
	assert_string_equal(step_poweroff.name, "poweroff");
	assert_string_equal(console_name(CON_NORMAL), "normal");
	assert_string_equal(console_name(CON_SECURE), "secure");
	(void)state;
}

/* ---- errors ---- */

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct capture c = { -1, -1 };
	char *path = path_join(f->dir, "nope.yaml");
	int ret = 0;

	capture_begin(&c);
	ret = scenario_load(path, &f->sc);
	f->err = capture_end(&c);
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(f->err, "nope.yaml"));
	assert_null(f->sc.path);
	free(path);
}

static void test_syntax_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n  - boot\n\t- run: ls\n",
		       "3:1: found a tab character that violates indentation "
		       "while scanning a plain scalar started at line 2 column 5");
	expect_invalid(f, "name: x\nsteps:\n  - run: \"ls\n  - poweroff\n",
		       "5:1: found unexpected end of stream while scanning a "
		       "quoted scalar started at line 3 column 10");
}

static void test_empty_file(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "", "1:1: empty scenario (expected a mapping with 'steps')");
	expect_invalid(f, "# nothing here\n",
		       "1:1: empty scenario (expected a mapping with 'steps')");
}

static void test_duplicate_key(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- run:\n    command: a\n    command: b\n",
		       "5:5: duplicate key 'command' (first at line 4 column 5)");
}

static void test_unknown_keys(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "name: a\nstep:\n  - boot\n",
		       "2:1: unknown key 'step' in scenario");
	expect_invalid(f, "timeouts:\n  boot: 1\n  total: 2\nsteps: [boot]\n",
		       "3:3: unknown key 'total' in 'timeouts'");
	expect_invalid(f, "steps:\n  - boot:\n      timeout: 1\n      pattern: x\n",
		       "4:7: unknown key 'pattern' in 'boot' step");
	expect_invalid(f, "steps:\n  - boot\n  - run: ls\n    retries: 3\n",
		       "4:5: unknown key 'retries' in step");
}

static void test_missing_or_empty_steps(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "name: x\ndescription: y\n",
		       "1:1: missing required key 'steps'");
	expect_invalid(f, "name: x\nsteps: []\n", "2:8: 'steps' must not be empty");
	expect_invalid(f, "name: x\nsteps:\n",
		       "2:7: expected a sequence of steps for 'steps', got nothing");
	expect_invalid(f, "steps:\n  boot: {}\n",
		       "2:3: expected a sequence of steps for 'steps', got a mapping");
}

static void test_first_step_not_boot(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n  - run: ls\n  - boot\n",
		       "2:5: the first step must be 'boot', got 'run'");
	expect_invalid(f, "steps:\n  - boot\n  - run: ls\n  - boot: {}\n",
		       "4:5: only one 'boot' step is supported (first at line 2)");
	expect_invalid(f, "steps:\n  - boot\n  - poweroff\n  - run: ls\n",
		       "4:5: no step can follow 'poweroff' (at line 3)");
}

static void test_bad_regex(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "steps:\n- boot\n- wait:\n    pattern: \"a(b\"\n"),
			 -EINVAL);
	assert_non_null(strstr(f->err, ":4:14: invalid regular expression 'a(b' "
			       "for 'pattern': "));
	assert_null(f->sc.steps);
	assert_int_equal(load(f, "steps:\n- boot\n- run:\n    command: ls\n"
			      "    expect-output: '[z-a]'\n"), -EINVAL);
	assert_non_null(strstr(f->err, ":5:20: invalid regular expression '[z-a]' "
			       "for 'expect-output': "));
}

static void test_wrong_types(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- wait: 'login:'\n",
		       "3:9: expected a mapping of options for 'wait' step, got 'login:'");
	expect_invalid(f, "timeouts: 5\nsteps: [boot]\n",
		       "1:11: expected a mapping for 'timeouts', got a scalar");
	expect_invalid(f, "steps:\n- boot\n- run:\n    command: {a: 1}\n",
		       "4:14: expected a string for 'command', got a mapping");
	expect_invalid(f, "name: [a]\nsteps: [boot]\n",
		       "1:7: expected a string for 'name', got a sequence");
	expect_invalid(f, "steps:\n- boot\n- run: [ls]\n",
		       "3:8: expected a mapping of options for 'run' step, got a sequence");
	expect_invalid(f, "steps:\n- [boot]\n",
		       "2:3: expected a step (a mapping or a step type), got a sequence");
	expect_invalid(f, "steps: hello\n",
		       "1:8: expected a sequence of steps for 'steps', got a string");
	expect_invalid(f, "- boot\n",
		       "1:1: expected a mapping for scenario, got a sequence");
}

static void test_bad_values(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "timeouts:\n  boot: 0\nsteps: [boot]\n",
		       "2:9: 'boot' must be a positive number of seconds");
	expect_invalid(f, "timeouts:\n  run: soon\nsteps: [boot]\n",
		       "2:8: expected a number for 'run', got 'soon'");
	expect_invalid(f, "steps:\n- boot:\n    timeout: -1\n",
		       "3:14: 'timeout' must be a non-negative number of seconds");
	expect_invalid(f, "steps:\n- boot\n- wait:\n    console: tz\n    pattern: x\n",
		       "4:14: unknown console 'tz' (expected normal or secure)");
	expect_invalid(f, "steps:\n- boot\n- run:\n    command: ls\n    parser: ltp\n",
		       "5:13: unknown parser 'ltp' (known: xtest)");
	expect_invalid(f, "steps:\n- boot\n- run:\n    command: ls\n    expect-exit: 256\n",
		       "5:18: 'expect-exit' must be between 0 and 255");
	expect_invalid(f, "steps:\n- boot\n- run:\n    command: ls\n    expect-exit: yes\n",
		       "5:18: expected an integer for 'expect-exit', got 'yes'");
	expect_invalid(f, "name: ''\nsteps: [boot]\n", "1:7: 'name' must not be empty");
	expect_invalid(f, "name: a/b\nsteps: [boot]\n",
		       "1:7: invalid scenario name 'a/b': no '/' or control characters allowed");
}

#define ALL_TYPES "boot, expect, expect-not, run, background, join, kill, " \
	"parallel, collect, reboot, kexec, sysrq, assert, sleep, poweroff, measure or repeat"

static void test_step_shape_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- sleep: soon\n",
		       "3:10: expected a number of seconds for 'sleep', got 'soon'");
	expect_invalid(f, "steps:\n- boot\n- sleep: { seconds: 0 }\n",
		       "3:21: 'seconds' must be a positive number of seconds");
	expect_invalid(f, "steps:\n- boot\n- sleep: { seconds: 1, timeout: 2 }\n",
		       "3:24: unknown key 'timeout' in 'sleep' step");
	expect_invalid(f, "steps:\n- reset\n",
		       "2:3: unknown step type 'reset' (expected " ALL_TYPES ")");
	expect_invalid(f, "steps:\n- boot\n- name: x\n",
		       "3:3: step has no type (expected one of " ALL_TYPES ")");
	expect_invalid(f, "steps:\n- boot\n- run: ls\n  wait: {pattern: x}\n",
		       "4:3: a step has exactly one type, got 'run' and 'wait'");
	expect_invalid(f, "steps:\n- boot\n- wait:\n    console: secure\n",
		       "3:3: missing 'pattern' in 'wait' step");
	expect_invalid(f, "steps:\n- boot\n- run:\n    expect-exit: 1\n",
		       "3:3: missing 'command' in 'run' step");
	expect_invalid(f, "steps:\n- boot\n- run\n",
		       "3:3: missing 'command' in 'run' step");
	expect_invalid(f, "steps:\n- boot\n- run: ''\n",
		       "3:8: missing command for 'run' step");
	expect_invalid(f, "steps:\n- boot\n- run:\n    command: ls\n    name: a\n  name: b\n",
		       "5:11: 'name' given twice for one step");
	expect_invalid(f, "steps:\n- boot:\n    xfail: ''\n",
		       "3:12: 'xfail' must not be empty");
}

static void test_every_step_type(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;
	const struct scenario_step *st = NULL;

	assert_int_equal(load(f,
		"name: stress\n"				/* 1 */
		"network: true\n"
		"timeouts:\n"
		"  hang: 30\n"
		"steps:\n"					/* 5 */
		"  - boot\n"
		"  - expect:\n"
		"      console: secure\n"
		"      pattern: \"OP-TEE version\"\n"
		"      timeout: 10\n"				/* 10 */
		"  - wait:\n"
		"      pattern: \"login:\"\n"
		"  - expect-not:\n"
		"      console: normal\n"
		"      pattern: \"Oops|BUG:\"\n"		/* 15 */
		"      within: 2.5\n"
		"  - run:\n"
		"      command: \"xtest -t regression 1001\"\n"
		"      channel: ssh\n"
		"      parser: xtest\n"				/* 20 */
		"  - background:\n"
		"      id: load_1\n"
		"      command: \"stress-ng --cpu 2\"\n"
		"      channel: ssh\n"
		"  - parallel:\n"				/* 25 */
		"      command: \"xtest 4001\"\n"
		"      copies: 4\n"
		"      expect-exit: 1\n"
		"      expect-output: \"fail(ed)?\"\n"
		"      timeout: 90\n"				/* 30 */
		"      channel: auto\n"
		"  - join:\n"
		"      id: load_1\n"
		"      timeout: 20\n"
		"      expect-exit: 2\n"			/* 35 */
		"      expect-output: \"stress-ng: info\"\n"
		"      parser: xtest\n"
		"  - background:\n"
		"      id: Sleeper-2\n"
		"      command: \"sleep 1000\"\n"		/* 40 */
		"  - kill:\n"
		"      id: Sleeper-2\n"
		"      name: stop it\n"
		"  - collect:\n"
		"      paths: [/var/log/messages, /tmp/a.txt, /proc/interrupts]\n" /* 45 */
		"      channel: serial\n"
		"  - sysrq:\n"
		"      key: t\n"
		"      channel: serial\n"
		"  - reboot:\n"					/* 50 */
		"      timeout: 50\n"
		"  - kexec:\n"
		"      kernel: /boot/Image\n"
		"      initrd: /boot/initrd.img\n"
		"      cmdline: \"console=ttyAMA0 quiet\"\n"	/* 55 */
		"      no-load: false\n"
		"      timeout: 40\n"
		"  - kexec:\n"
		"      no-load: true\n"
		"      xfail: broken hop\n"			/* 60 */
		"  - assert:\n"
		"      console: normal\n"
		"      absent: [\"BUG:\", \"Oops\"]\n"
		"  - poweroff\n"), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(sc->name, "stress");
	assert_true(sc->network);
	assert_true(sc->hang_window == 30);
	assert_true(sc->boot_timeout == 120);
	assert_true(sc->step_timeout == 300);
	assert_true(sc->run_timeout == 1800);
	assert_int_equal(sc->nr_steps, 17);

	st = &sc->steps[0];
	assert_ptr_equal(st->ops, &step_boot);
	assert_int_equal(st->line, 6);

	st = &sc->steps[1];
	assert_ptr_equal(st->ops, &step_expect);
	assert_string_equal(st->name, "expect secure: OP-TEE version");
	assert_int_equal(st->line, 7);
	assert_int_equal(st->column, 5);
	assert_int_equal(st->console, CON_SECURE);
	assert_string_equal(st->pattern, "OP-TEE version");
	assert_true(st->timeout == 10);

	st = &sc->steps[2];
	assert_ptr_equal(st->ops, &step_expect);
	assert_string_equal(st->name, "expect normal: login:");
	assert_int_equal(st->console, CON_NORMAL);
	assert_string_equal(st->pattern, "login:");
	assert_true(st->timeout == 0);

	st = &sc->steps[3];
	assert_ptr_equal(st->ops, &step_expect_not);
	assert_string_equal(st->name, "expect-not normal: Oops|BUG: (2.5 s)");
	assert_int_equal(st->line, 13);
	assert_int_equal(st->console, CON_NORMAL);
	assert_string_equal(st->pattern, "Oops|BUG:");
	assert_true(st->within == 2.5);
	assert_true(st->timeout == 0);

	st = &sc->steps[4];
	assert_ptr_equal(st->ops, &step_run);
	assert_string_equal(st->name, "run xtest -t regression 1001");
	assert_string_equal(st->command, "xtest -t regression 1001");
	assert_int_equal(st->channel, CHAN_SSH);
	assert_string_equal(st->parser, "xtest");
	assert_int_equal(st->expect_exit, 0);
	assert_null(st->expect_output);

	st = &sc->steps[5];
	assert_ptr_equal(st->ops, &step_background);
	assert_string_equal(st->name, "background load_1: stress-ng --cpu 2");
	assert_int_equal(st->line, 21);
	assert_string_equal(st->id, "load_1");
	assert_string_equal(st->command, "stress-ng --cpu 2");
	assert_int_equal(st->channel, CHAN_SSH);
	assert_null(st->expect_output);
	assert_null(st->parser);

	st = &sc->steps[6];
	assert_ptr_equal(st->ops, &step_parallel);
	assert_string_equal(st->name, "parallel 4x xtest 4001");
	assert_int_equal(st->line, 25);
	assert_string_equal(st->command, "xtest 4001");
	assert_int_equal(st->copies, 4);
	assert_int_equal(st->expect_exit, 1);
	assert_string_equal(st->expect_output, "fail(ed)?");
	assert_true(st->timeout == 90);
	assert_int_equal(st->channel, CHAN_AUTO);
	assert_null(st->parser);
	assert_null(st->id);

	st = &sc->steps[7];
	assert_ptr_equal(st->ops, &step_join);
	assert_string_equal(st->name, "join load_1");
	assert_int_equal(st->line, 32);
	assert_string_equal(st->id, "load_1");
	assert_true(st->timeout == 20);
	assert_int_equal(st->expect_exit, 2);
	assert_string_equal(st->expect_output, "stress-ng: info");
	assert_string_equal(st->parser, "xtest");
	assert_null(st->command);

	st = &sc->steps[8];
	assert_ptr_equal(st->ops, &step_background);
	assert_string_equal(st->name, "background Sleeper-2: sleep 1000");
	assert_string_equal(st->id, "Sleeper-2");
	assert_int_equal(st->channel, CHAN_AUTO);

	st = &sc->steps[9];
	assert_ptr_equal(st->ops, &step_kill);
	assert_string_equal(st->name, "stop it");
	assert_int_equal(st->line, 41);
	assert_string_equal(st->id, "Sleeper-2");

	st = &sc->steps[10];
	assert_ptr_equal(st->ops, &step_collect);
	assert_string_equal(st->name, "collect /var/log/messages +2");
	assert_int_equal(st->line, 44);
	assert_int_equal(st->nr_paths, 3);
	assert_string_equal(st->paths[0], "/var/log/messages");
	assert_string_equal(st->paths[1], "/tmp/a.txt");
	assert_string_equal(st->paths[2], "/proc/interrupts");
	assert_null(st->paths[3]);
	assert_int_equal(st->channel, CHAN_SERIAL);

	st = &sc->steps[11];
	assert_ptr_equal(st->ops, &step_sysrq);
	assert_string_equal(st->name, "sysrq t");
	assert_int_equal(st->sysrq, 't');
	assert_int_equal(st->channel, CHAN_SERIAL);

	st = &sc->steps[12];
	assert_ptr_equal(st->ops, &step_reboot);
	assert_string_equal(st->name, "reboot");
	assert_int_equal(st->line, 50);
	assert_true(st->timeout == 50);

	st = &sc->steps[13];
	assert_ptr_equal(st->ops, &step_kexec);
	assert_string_equal(st->name, "kexec");
	assert_int_equal(st->line, 52);
	assert_string_equal(st->kernel, "/boot/Image");
	assert_string_equal(st->initrd, "/boot/initrd.img");
	assert_string_equal(st->cmdline, "console=ttyAMA0 quiet");
	assert_false(st->no_load);
	assert_true(st->timeout == 40);
	assert_null(st->xfail);

	st = &sc->steps[14];
	assert_ptr_equal(st->ops, &step_kexec);
	assert_string_equal(st->name, "kexec");
	assert_true(st->no_load);
	assert_null(st->kernel);
	assert_null(st->initrd);
	assert_null(st->cmdline);
	assert_string_equal(st->xfail, "broken hop");

	st = &sc->steps[15];
	assert_ptr_equal(st->ops, &step_assert);
	assert_string_equal(st->name, "assert normal clean");
	assert_int_equal(st->line, 61);
	assert_int_equal(st->console, CON_NORMAL);
	assert_int_equal(st->nr_absent, 2);
	assert_string_equal(st->absent[0], "BUG:");
	assert_string_equal(st->absent[1], "Oops");
	assert_null(st->absent[2]);
	assert_null(st->pattern);

	st = &sc->steps[16];
	assert_ptr_equal(st->ops, &step_poweroff);
	assert_string_equal(st->name, "poweroff");
	assert_int_equal(st->line, 64);
}

static void test_new_step_defaults(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;
	const struct scenario_step *st = NULL;

	assert_int_equal(load(f,
		"steps:\n"
		"  - boot\n"
		"  - expect-not:\n"
		"      pattern: panic\n"
		"      within: 5\n"
		"  - background:\n"
		"      id: bg\n"
		"      command: \"cat /dev/zero > /dev/null\"\n"
		"  - join:\n"
		"      id: bg\n"
		"  - parallel:\n"
		"      command: \"xtest 1001\"\n"
		"  - collect:\n"
		"      paths: /var/log/dmesg.txt\n"
		"  - kexec:\n"
		"  - sysrq:\n"
		"      key: \"0\"\n"
		"  - assert:\n"
		"  - reboot: {}\n"), 0);
	assert_string_equal(f->err, "");
	assert_true(sc->network);
	assert_true(sc->hang_window == 60);
	assert_int_equal(sc->nr_steps, 10);

	st = &sc->steps[1];
	assert_ptr_equal(st->ops, &step_expect_not);
	assert_int_equal(st->console, CON_NORMAL);
	assert_true(st->within == 5);
	assert_true(st->timeout == 0);
	assert_string_equal(st->name, "expect-not normal: panic (5 s)");

	st = &sc->steps[2];
	assert_ptr_equal(st->ops, &step_background);
	assert_int_equal(st->channel, CHAN_AUTO);
	assert_string_equal(st->name, "background bg: cat /dev/zero > /dev/null");

	st = &sc->steps[3];
	assert_ptr_equal(st->ops, &step_join);
	assert_string_equal(st->id, "bg");
	assert_int_equal(st->expect_exit, 0);
	assert_null(st->expect_output);
	assert_null(st->parser);
	assert_null(st->command);
	assert_true(st->timeout == 0);
	assert_string_equal(st->name, "join bg");

	st = &sc->steps[4];
	assert_ptr_equal(st->ops, &step_parallel);
	assert_int_equal(st->copies, 2);
	assert_int_equal(st->expect_exit, 0);
	assert_null(st->expect_output);
	assert_int_equal(st->channel, CHAN_AUTO);
	assert_true(st->timeout == 0);
	assert_string_equal(st->name, "parallel 2x xtest 1001");

	st = &sc->steps[5];
	assert_ptr_equal(st->ops, &step_collect);
	assert_int_equal(st->nr_paths, 1);
	assert_string_equal(st->paths[0], "/var/log/dmesg.txt");
	assert_null(st->paths[1]);
	assert_int_equal(st->channel, CHAN_AUTO);
	assert_string_equal(st->name, "collect /var/log/dmesg.txt");

	st = &sc->steps[6];
	assert_ptr_equal(st->ops, &step_kexec);
	assert_null(st->kernel);
	assert_null(st->initrd);
	assert_null(st->cmdline);
	assert_false(st->no_load);
	assert_true(st->timeout == 0);

	st = &sc->steps[7];
	assert_ptr_equal(st->ops, &step_sysrq);
	assert_int_equal(st->sysrq, '0');
	assert_int_equal(st->channel, CHAN_AUTO);
	assert_string_equal(st->name, "sysrq 0");

	st = &sc->steps[8];
	assert_ptr_equal(st->ops, &step_assert);
	assert_int_equal(st->console, CON_SECURE);
	assert_int_equal(st->nr_absent, 2);
	assert_string_equal(st->absent[0], "Panic at");
	assert_string_equal(st->absent[1], "assertion .* failed");
	assert_null(st->absent[2]);
	assert_string_equal(st->name, "assert secure clean");

	st = &sc->steps[9];
	assert_ptr_equal(st->ops, &step_reboot);
	assert_true(st->timeout == 0);
	assert_string_equal(st->name, "reboot");
}

static void test_new_shorthands(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;

	assert_int_equal(load(f,
		"steps:\n"
		"- boot\n"
		"- background: {id: srv-1, command: \"tee-supplicant -d\"}\n"
		"- join: srv-1\n"
		"- background: {id: srv_2, command: \"sleep 9\"}\n"
		"- kill: srv_2\n"				/* 6 */
		"- collect: /tmp/out.log\n"
		"- collect: [/a, /b/..c]\n"
		"- reboot\n"
		"- reboot:\n"					/* 10 */
		"- kexec\n"
		"- kexec: ~\n"
		"- sysrq: w\n"
		"- assert\n"
		"- assert: {absent: \"Oops\"}\n"		/* 15 */
		"- expect: {pattern: x}\n"
		"- poweroff\n"), 0);
	assert_string_equal(f->err, "");
	assert_int_equal(sc->nr_steps, 16);

	assert_ptr_equal(sc->steps[2].ops, &step_join);
	assert_string_equal(sc->steps[2].id, "srv-1");
	assert_string_equal(sc->steps[2].name, "join srv-1");
	assert_int_equal(sc->steps[2].line, 4);
	assert_int_equal(sc->steps[2].column, 3);
	assert_int_equal(sc->steps[2].expect_exit, 0);

	assert_ptr_equal(sc->steps[4].ops, &step_kill);
	assert_string_equal(sc->steps[4].id, "srv_2");
	assert_string_equal(sc->steps[4].name, "kill srv_2");

	assert_ptr_equal(sc->steps[5].ops, &step_collect);
	assert_int_equal(sc->steps[5].nr_paths, 1);
	assert_string_equal(sc->steps[5].paths[0], "/tmp/out.log");
	assert_null(sc->steps[5].paths[1]);
	assert_string_equal(sc->steps[5].name, "collect /tmp/out.log");
	assert_int_equal(sc->steps[5].channel, CHAN_AUTO);

	assert_int_equal(sc->steps[6].nr_paths, 2);
	assert_string_equal(sc->steps[6].paths[0], "/a");
	assert_string_equal(sc->steps[6].paths[1], "/b/..c");
	assert_null(sc->steps[6].paths[2]);
	assert_string_equal(sc->steps[6].name, "collect /a +1");

	for (size_t i = 7; i < 9; i++) {
		assert_ptr_equal(sc->steps[i].ops, &step_reboot);
		assert_string_equal(sc->steps[i].name, "reboot");
	}
	assert_int_equal(sc->steps[8].line, 10);
	for (size_t i = 9; i < 11; i++) {
		assert_ptr_equal(sc->steps[i].ops, &step_kexec);
		assert_string_equal(sc->steps[i].name, "kexec");
		assert_null(sc->steps[i].kernel);
		assert_false(sc->steps[i].no_load);
	}

	assert_ptr_equal(sc->steps[11].ops, &step_sysrq);
	assert_int_equal(sc->steps[11].sysrq, 'w');
	assert_string_equal(sc->steps[11].name, "sysrq w");
	assert_int_equal(sc->steps[11].channel, CHAN_AUTO);

	assert_ptr_equal(sc->steps[12].ops, &step_assert);
	assert_int_equal(sc->steps[12].console, CON_SECURE);
	assert_int_equal(sc->steps[12].nr_absent, 2);
	assert_string_equal(sc->steps[12].absent[0], "Panic at");
	assert_string_equal(sc->steps[12].absent[1], "assertion .* failed");

	assert_int_equal(sc->steps[13].console, CON_SECURE);
	assert_int_equal(sc->steps[13].nr_absent, 1);
	assert_string_equal(sc->steps[13].absent[0], "Oops");
	assert_null(sc->steps[13].absent[1]);

	assert_ptr_equal(sc->steps[14].ops, &step_expect);
	assert_string_equal(sc->steps[14].name, "expect normal: x");
	assert_ptr_equal(sc->steps[15].ops, &step_poweroff);
}

static void test_network_and_hang(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;

	/* defaults */
	assert_int_equal(load(f, "steps: [boot]\n"), 0);
	assert_true(sc->network);
	assert_true(sc->hang_window == 60);

	/* explicit; the serial shell and "auto" still work without a network */
	assert_int_equal(load(f,
		"network: false\n"
		"timeouts: {hang: 7.5}\n"
		"steps:\n"
		"- boot\n"
		"- run: {command: ls, channel: serial}\n"
		"- run: ls\n"
		"- collect: {paths: /x, channel: auto}\n"
		"- sysrq: {key: s, channel: serial}\n"), 0);
	assert_false(sc->network);
	assert_true(sc->hang_window == 7.5);
	assert_true(sc->boot_timeout == 120);
	assert_int_equal(sc->steps[1].channel, CHAN_SERIAL);
	assert_int_equal(sc->steps[2].channel, CHAN_AUTO);
	assert_int_equal(sc->steps[3].channel, CHAN_AUTO);
	assert_int_equal(sc->steps[4].channel, CHAN_SERIAL);

	assert_int_equal(load(f, "network: yes\ntimeouts:\n  hang: 1\nsteps: [boot]\n"), 0);
	assert_true(sc->network);
	assert_true(sc->hang_window == 1);

	expect_invalid(f, "timeouts:\n  hang: 0\nsteps: [boot]\n",
		       "2:9: 'hang' must be a positive number of seconds");
	expect_invalid(f, "timeouts:\n  hang: -5\nsteps: [boot]\n",
		       "2:9: 'hang' must be a positive number of seconds");
	expect_invalid(f, "network: maybe\nsteps: [boot]\n",
		       "1:10: expected true or false for 'network', got 'maybe'");
}

static void test_step_order_new_types(void **state)
{
	struct fixture *f = *state;

	/* reboot and kexec any number of times */
	assert_int_equal(load(f, "steps:\n- boot\n- reboot\n- kexec\n- reboot\n"
			      "- kexec\n- run: ls\n- poweroff\n"), 0);
	assert_int_equal(f->sc.nr_steps, 7);
	expect_invalid(f, "steps:\n- boot\n- poweroff\n- reboot\n",
		       "4:3: no step can follow 'poweroff' (at line 3)");
	expect_invalid(f, "steps:\n- wait: {pattern: x}\n- boot\n",
		       "2:3: the first step must be 'boot', got 'expect'");
	expect_invalid(f, "steps:\n- kexec\n",
		       "2:3: the first step must be 'boot', got 'kexec'");
	expect_invalid(f, "steps:\n- boot\n- reboot\n- boot\n",
		       "4:3: only one 'boot' step is supported (first at line 2)");
}

static void test_id_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- background:\n    id: a b\n    command: ls\n",
		       "4:9: invalid id 'a b' (letters, digits, '_' and '-' only)");
	expect_invalid(f, "steps:\n- boot\n- join: x/y\n",
		       "3:9: invalid id 'x/y' (letters, digits, '_' and '-' only)");
	expect_invalid(f, "steps:\n- boot\n- background: {id: '', command: ls}\n",
		       "3:20: 'id' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- background: {id: bg, command: a}\n"
		       "- background: {id: bg, command: b}\n",
		       "4:20: duplicate background id 'bg' (first at line 3)");
	/* an id stays taken after its join */
	expect_invalid(f, "steps:\n- boot\n- background: {id: bg, command: a}\n"
		       "- join: bg\n- background: {id: bg, command: b}\n",
		       "5:20: duplicate background id 'bg' (first at line 3)");
	expect_invalid(f, "steps:\n- boot\n- join: nope\n",
		       "3:9: unknown background id 'nope' (it must name an earlier "
		       "'background' step)");
	expect_invalid(f, "steps:\n- boot\n- kill:\n    id: nope\n",
		       "4:9: unknown background id 'nope' (it must name an earlier "
		       "'background' step)");
	expect_invalid(f, "steps:\n- boot\n- background: {id: bg, command: a}\n"
		       "- kill: BG\n",
		       "4:9: unknown background id 'BG' (it must name an earlier "
		       "'background' step)");
	/* defined only later */
	expect_invalid(f, "steps:\n- boot\n- join: bg\n- background: {id: bg, command: a}\n",
		       "3:9: unknown background id 'bg' (it must name an earlier "
		       "'background' step)");
	expect_invalid(f, "steps:\n- boot\n- run: {command: a}\n- join: {id: run}\n",
		       "4:14: unknown background id 'run' (it must name an earlier "
		       "'background' step)");
	expect_invalid(f, "steps:\n- boot\n- kill:\n",
		       "3:3: missing 'id' in 'kill' step");
	expect_invalid(f, "steps:\n- boot\n- join\n",
		       "3:3: missing 'id' in 'join' step");
	expect_invalid(f, "steps:\n- boot\n- background: {command: ls}\n",
		       "3:3: missing 'id' in 'background' step");
	expect_invalid(f, "steps:\n- boot\n- background: {id: x}\n",
		       "3:3: missing 'command' in 'background' step");
	expect_invalid(f, "steps:\n- boot\n- background: ls\n",
		       "3:15: expected a mapping of options for 'background' step, got 'ls'");
	expect_invalid(f, "steps:\n- boot\n- join: [a]\n",
		       "3:9: expected a mapping of options for 'join' step, got a sequence");
	expect_invalid(f, "steps:\n- boot\n- background: {id: x, command: ls}\n"
		       "- join: {id: x, expect-exit: 300}\n",
		       "4:30: 'expect-exit' must be between 0 and 255");
	expect_invalid(f, "steps:\n- boot\n- background: {id: x, command: ls}\n"
		       "- kill: {id: x, timeout: 3}\n",
		       "4:17: unknown key 'timeout' in 'kill' step");
}

static void test_channel_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "network: false\nsteps:\n- boot\n- run:\n    command: ls\n"
		       "    channel: ssh\n",
		       "6:14: channel ssh needs network: true");
	expect_invalid(f, "network: false\nsteps:\n- boot\n"
		       "- collect: {paths: /x, channel: ssh}\n",
		       "4:33: channel ssh needs network: true");
	expect_invalid(f, "network: off\nsteps:\n- boot\n- sysrq: {key: c, channel: ssh}\n",
		       "4:28: channel ssh needs network: true");
	expect_invalid(f, "steps:\n- boot\n- parallel:\n    command: ls\n    channel: serial\n",
		       "5:14: 'parallel' cannot use channel serial (the serial shell "
		       "runs one command at a time)");
	expect_invalid(f, "steps:\n- boot\n- background:\n    id: x\n    command: ls\n"
		       "    channel: serial\n",
		       "6:14: 'background' cannot use channel serial (background "
		       "commands need ssh)");
	/* "auto" without a network is the serial shell */
	expect_invalid(f, "network: false\nsteps:\n- boot\n- background: {id: x, command: ls}\n",
		       "4:3: 'background' needs ssh, which needs network: true");
	expect_invalid(f, "network: false\nsteps:\n- boot\n- parallel: {command: ls}\n",
		       "4:3: 'parallel' needs ssh, which needs network: true");
	expect_invalid(f, "steps:\n- boot\n- run: {command: ls, channel: tcp}\n",
		       "3:31: unknown channel 'tcp' (expected auto, ssh or serial)");
	expect_invalid(f, "steps:\n- boot\n- run: {command: ls, channel: [ssh]}\n",
		       "3:31: expected a string for 'channel', got a sequence");
	expect_invalid(f, "steps:\n- boot\n- reboot: {channel: ssh}\n",
		       "3:12: unknown key 'channel' in 'reboot' step");
}

static void test_expect_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- expect-not:\n    pattern: x\n",
		       "3:3: missing 'within' in 'expect-not' step");
	expect_invalid(f, "steps:\n- boot\n- expect-not:\n    pattern: x\n    within: 0\n",
		       "5:13: 'within' must be a positive number of seconds");
	expect_invalid(f, "steps:\n- boot\n- expect-not: {within: 1}\n",
		       "3:3: missing 'pattern' in 'expect-not' step");
	expect_invalid(f, "steps:\n- boot\n- expect-not: {pattern: x, within: 1, timeout: 3}\n",
		       "3:39: unknown key 'timeout' in 'expect-not' step");
	expect_invalid(f, "steps:\n- boot\n- expect-not: panic\n",
		       "3:15: expected a mapping of options for 'expect-not' step, got 'panic'");
	expect_invalid(f, "steps:\n- boot\n- expect: {}\n",
		       "3:3: missing 'pattern' in 'expect' step");
	expect_invalid(f, "steps:\n- boot\n- expect: {pattern: x, within: 3}\n",
		       "3:24: unknown key 'within' in 'expect' step");
	assert_int_equal(load(f, "steps:\n- boot\n- expect-not:\n    pattern: \"(x\"\n"
			      "    within: 1\n"), -EINVAL);
	assert_non_null(strstr(f->err, ":4:14: invalid regular expression '(x' "
			       "for 'pattern': "));
	assert_null(f->sc.steps);
	/* count: how many matching lines an expect waits for */
	expect_invalid(f, "steps:\n- boot\n- expect: {pattern: x, count: 0}\n",
		       "3:31: 'count' must be 1..10000, got '0'");
	expect_invalid(f, "steps:\n- boot\n- expect: {pattern: x, count: two}\n",
		       "3:31: 'count' must be 1..10000, got 'two'");
	expect_invalid(f, "steps:\n- boot\n- expect-not: {pattern: x, within: 1, count: 2}\n",
		       "3:39: unknown key 'count' in 'expect-not' step");
	assert_int_equal(load(f, "steps:\n- boot\n- expect: {pattern: x, count: 4}\n"
			      "- expect: {pattern: y}\n"), 0);
	assert_int_equal(f->sc.steps[1].count, 4);
	assert_int_equal(f->sc.steps[2].count, 1);
}

static void test_parallel_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- parallel:\n    command: ls\n    copies: 0\n",
		       "5:13: 'copies' must be at least 1");
	expect_invalid(f, "steps:\n- boot\n- parallel:\n    command: ls\n    copies: -2\n",
		       "5:13: 'copies' must be at least 1");
	expect_invalid(f, "steps:\n- boot\n- parallel:\n    command: ls\n    copies: two\n",
		       "5:13: expected an integer for 'copies', got 'two'");
	expect_invalid(f, "steps:\n- boot\n- parallel: {copies: 3}\n",
		       "3:3: missing 'command' in 'parallel' step");
	expect_invalid(f, "steps:\n- boot\n- parallel: ls\n",
		       "3:13: expected a mapping of options for 'parallel' step, got 'ls'");
	expect_invalid(f, "steps:\n- boot\n- parallel: {command: ls, parser: xtest}\n",
		       "3:27: unknown key 'parser' in 'parallel' step");
}

static void test_collect_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- collect: var/log\n",
		       "3:12: 'paths' must be an absolute guest path (start with '/'), "
		       "got 'var/log'");
	expect_invalid(f, "steps:\n- boot\n- collect:\n    paths:\n      - /ok\n      - rel\n",
		       "6:9: 'paths' must be an absolute guest path (start with '/'), "
		       "got 'rel'");
	expect_invalid(f, "steps:\n- boot\n- collect: [/a, /tmp/../etc]\n",
		       "3:17: 'paths' must not contain '..' components, got '/tmp/../etc'");
	expect_invalid(f, "steps:\n- boot\n- collect: /var/..\n",
		       "3:12: 'paths' must not contain '..' components, got '/var/..'");
	expect_invalid(f, "steps:\n- boot\n- collect: []\n",
		       "3:12: 'paths' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- collect: {paths: []}\n",
		       "3:20: 'paths' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- collect: [/a, '']\n",
		       "3:17: empty string in list 'paths'");
	expect_invalid(f, "steps:\n- boot\n- collect: [{a: 1}]\n",
		       "3:13: expected a string in list 'paths', got a mapping");
	expect_invalid(f, "steps:\n- boot\n- collect: {paths: {a: 1}}\n",
		       "3:20: expected a string or a list of strings for 'paths', got a mapping");
	expect_invalid(f, "steps:\n- boot\n- collect: {channel: serial}\n",
		       "3:3: missing 'paths' in 'collect' step");
	expect_invalid(f, "steps:\n- boot\n- collect\n",
		       "3:3: missing 'paths' in 'collect' step");
}

static void test_sysrq_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- sysrq: ww\n",
		       "3:10: invalid sysrq key 'ww' (expected one character from 0-9 or a-z)");
	expect_invalid(f, "steps:\n- boot\n- sysrq: {key: W}\n",
		       "3:16: invalid sysrq key 'W' (expected one character from 0-9 or a-z)");
	expect_invalid(f, "steps:\n- boot\n- sysrq: {key: ''}\n",
		       "3:16: invalid sysrq key '' (expected one character from 0-9 or a-z)");
	expect_invalid(f, "steps:\n- boot\n- sysrq\n",
		       "3:3: missing 'key' in 'sysrq' step");
	expect_invalid(f, "steps:\n- boot\n- sysrq: {channel: serial}\n",
		       "3:3: missing 'key' in 'sysrq' step");
	expect_invalid(f, "steps:\n- boot\n- sysrq: [w]\n",
		       "3:10: expected a mapping of options for 'sysrq' step, got a sequence");
}

static void test_assert_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "steps:\n- boot\n- assert:\n    absent:\n      - ok\n"
			      "      - \"a(b\"\n"), -EINVAL);
	assert_non_null(strstr(f->err, ":6:9: invalid regular expression 'a(b' "
			       "for 'absent': "));
	assert_null(f->sc.steps);
	assert_int_equal(load(f, "steps:\n- boot\n- assert: {absent: '[z-a]'}\n"),
			 -EINVAL);
	assert_non_null(strstr(f->err, ":3:20: invalid regular expression '[z-a]' "
			       "for 'absent': "));
	assert_null(f->sc.steps);
	expect_invalid(f, "steps:\n- boot\n- assert: {absent: []}\n",
		       "3:20: 'absent' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- assert: {absent: }\n",
		       "3:20: 'absent' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- assert: {console: tz}\n",
		       "3:21: unknown console 'tz' (expected normal or secure)");
	expect_invalid(f, "steps:\n- boot\n- assert: x\n",
		       "3:11: expected a mapping of options for 'assert' step, got 'x'");
	expect_invalid(f, "steps:\n- boot\n- assert: {pattern: x}\n",
		       "3:12: unknown key 'pattern' in 'assert' step");
}

static void test_kexec_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- kexec: {kernel: Image}\n",
		       "3:19: 'kernel' must be an absolute guest path (start with '/'), "
		       "got 'Image'");
	expect_invalid(f, "steps:\n- boot\n- kexec: {initrd: boot/initrd}\n",
		       "3:19: 'initrd' must be an absolute guest path (start with '/'), "
		       "got 'boot/initrd'");
	expect_invalid(f, "steps:\n- boot\n- kexec:\n    no-load: true\n    cmdline: quiet\n",
		       "5:14: 'cmdline' has no effect with 'no-load: true'");
	expect_invalid(f, "steps:\n- boot\n- kexec: {no-load: maybe}\n",
		       "3:20: expected true or false for 'no-load', got 'maybe'");
	expect_invalid(f, "steps:\n- boot\n- kexec: {cmdline: ''}\n",
		       "3:20: 'cmdline' must not be empty");
	expect_invalid(f, "steps:\n- boot\n- kexec: /boot/Image\n",
		       "3:10: expected a mapping of options for 'kexec' step, got '/boot/Image'");
	expect_invalid(f, "steps:\n- boot\n- reboot: now\n",
		       "3:11: expected a mapping of options for 'reboot' step, got 'now'");
}

/* measure bounds from parameters: each cell its own min/max */
static void test_measure_param_bounds(void **state)
{
	struct fixture *f = *state;
	const char *text =
		"params: {lo: 3, hi: 100}\n"
		"cells:\n  a: {}\n  b: {params: {lo: 0, hi: 0}}\n"
		"steps:\n- boot\n"
		"- measure: {metric: sri, command: 'echo 5', min: '${lo}', max: '${hi}'}\n";

	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->sc.steps[1].min_param, "lo");
	assert_int_equal(scenario_select(&f->sc, "a", NULL, 0, NULL), 0);
	assert_null(f->sc.steps[1].min_param);
	assert_true(f->sc.steps[1].has_min && f->sc.steps[1].min == 3);
	assert_true(f->sc.steps[1].has_max && f->sc.steps[1].max == 100);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(scenario_select(&f->sc, "b", NULL, 0, NULL), 0);
	assert_true(f->sc.steps[1].min == 0 && f->sc.steps[1].max == 0);
	/* a value that is no number, bounds crossed, an undeclared parameter */
	assert_int_equal(load(f, text), 0);
	{
		char *cli[] = { "lo=few" };

		capture_begin(&f->cap);
		assert_int_equal(scenario_select(&f->sc, "a", cli, 1, NULL), -EINVAL);
		free(f->err);
		f->err = capture_end(&f->cap);
		assert_non_null(strstr(f->err, ":7: 'min' is ${lo} = 'few', not a number"));
	}
	assert_int_equal(load(f, text), 0);
	{
		char *cli[] = { "lo=200" };

		capture_begin(&f->cap);
		assert_int_equal(scenario_select(&f->sc, "a", cli, 1, NULL), -EINVAL);
		free(f->err);
		f->err = capture_end(&f->cap);
		assert_non_null(strstr(f->err, ":7: 'max' (100) is below 'min' (200) here"));
	}
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: m, command: x, min: '${nope}'}\n",
		       "3:41: 'min' names 'nope', which 'params' does not declare");
}

static void test_measure(void **state)
{
	struct fixture *f = *state;
	const struct scenario_step *st = NULL;

	assert_int_equal(load(f, "steps:\n- boot\n"
			      "- measure: {metric: rpmb-writes, command: 'cat /sys/x', min: 1}\n"
			      "- measure:\n    metric: scmi.on\n    console: secure\n"
			      "    pattern: 'clock 0 .* on'\n    at-least: rpmb-writes\n"
			      "    max: 1e6\n"), 0);
	assert_int_equal(f->sc.nr_steps, 3);
	st = &f->sc.steps[1];
	assert_ptr_equal(st->ops, &step_measure);
	assert_string_equal(st->metric, "rpmb-writes");
	assert_string_equal(st->command, "cat /sys/x");
	assert_null(st->pattern);
	assert_true(st->has_min);
	assert_false(st->has_max);
	assert_true(st->min == 1);
	assert_null(st->at_least);
	assert_string_equal(st->name, "measure rpmb-writes");
	st = &f->sc.steps[2];
	assert_null(st->command);
	assert_string_equal(st->pattern, "clock 0 .* on");
	assert_int_equal(st->console, CON_SECURE);
	assert_string_equal(st->at_least, "rpmb-writes");
	assert_false(st->has_min);
	assert_true(st->has_max);
	assert_true(st->max == 1e6);

	expect_invalid(f, "steps:\n- boot\n- measure: {command: ls}\n",
		       "3:3: missing 'metric' in 'measure' step");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: 'a b', command: ls}\n",
		       "3:21: invalid metric 'a b' (letters, digits, '_', '.' and '-' only)");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a}\n",
		       "3:3: a 'measure' step needs exactly one of 'command' and 'pattern'");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, command: ls, pattern: x}\n",
		       "3:3: a 'measure' step needs exactly one of 'command' and 'pattern'");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, command: ls, console: secure}\n",
		       "3:46: 'console' goes with 'pattern', not 'command'");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: x, channel: ssh}\n",
		       "3:45: 'channel' goes with 'command', not 'pattern'");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: x, min: lots}\n",
		       "3:41: expected a number for 'min', got 'lots'");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: x, min: 2, max: 1}\n",
		       "3:49: 'max' (1) is below 'min' (2)");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: x, at-least: b}\n",
		       "3:46: unknown metric 'b' (it must name an earlier 'measure' step)");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: x}\n"
		       "- measure: {metric: a, pattern: y}\n",
		       "4:21: duplicate metric 'a' (first at line 3)");
	expect_invalid(f, "steps:\n- boot\n- measure: {metric: a, pattern: 'x('}\n",
		       "3:33: invalid regular expression 'x(' for 'pattern': Unmatched ( or \\(");
}

static void test_cells_and_params(void **state)
{
	struct fixture *f = *state;
	struct config_overrides ov = { 0 };
	char *cli[] = { "ops=5" };
	const char *text =
		"params: {clients: 2, ops: 10}\n"
		"expect: PASS\n"
		"default-cell: a\n"
		"cells:\n"
		"  a: {expect: PASS}\n"
		"  b:\n"
		"    kernel: src-6.1\n"
		"    optee-flags: [CFG_NUM_THREADS=1]\n"
		"    params: {clients: 3}\n"
		"    expect: DEADLOCK\n"
		"steps:\n- boot\n"
		"- background: {id: c, command: 'load -c ${clients} -n ${ops}', "
		"progress: '^p ${clients}', stall: 5}\n"
		"- join: c\n";

	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->sc.nr_cells, 2);
	assert_string_equal(f->sc.default_cell, "a");
	assert_true(f->sc.steps[1].stall == 5);
	/* cell b, one parameter from the command line */
	assert_int_equal(scenario_select(&f->sc, "b", cli, 1, &ov), 0);
	assert_string_equal(f->sc.steps[1].command, "load -c 3 -n 5");
	assert_string_equal(f->sc.steps[1].progress, "^p 3");
	assert_string_equal(cli[0], "ops=5");	/* the caller's string is untouched */
	assert_string_equal(ov.kernel, "src-6.1");
	assert_int_equal(ov.nr_optee_flags, 1);
	assert_string_equal(ov.optee_flags[0], "CFG_NUM_THREADS=1");
	assert_string_equal(scenario_expected(&f->sc), "DEADLOCK");
	/* the default cell */
	assert_int_equal(load(f, text), 0);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), 0);
	assert_string_equal(f->sc.cell->name, "a");
	assert_string_equal(f->sc.steps[1].command, "load -c 2 -n 10");
	assert_string_equal(scenario_expected(&f->sc), "PASS");
	/* errors */
	assert_int_equal(load(f, text), 0);
	capture_begin(&f->cap);
	assert_int_equal(scenario_select(&f->sc, "zz", NULL, 0, NULL), -EINVAL);
	free(f->err);
	f->err = capture_end(&f->cap);
	assert_non_null(strstr(f->err, "no cell 'zz' (cells: a, b)"));
	/* ${...} that is no parameter is the guest shell's */
	assert_int_equal(load(f, "params: {n: 2}\nsteps:\n- boot\n"
			      "- run: 'echo ${n} ${d#/proc/} ${HOME} $${n'\n"), 0);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), 0);
	assert_string_equal(f->sc.steps[1].command, "echo 2 ${d#/proc/} ${HOME} $${n");
	assert_int_equal(load(f, "params: {n: '+'}\nsteps:\n- boot\n"
			      "- expect: {pattern: '${n}'}\n"), 0);
	capture_begin(&f->cap);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), -EINVAL);
	free(f->err);
	f->err = capture_end(&f->cap);
	assert_non_null(strstr(f->err, ":4: invalid regular expression '+' for 'pattern'"));
	expect_invalid(f, "params: {a: 'x; rm -rf /'}\nsteps:\n- boot\n",
		       "1:13: parameter 'a' = 'x; rm -rf /': only letters, digits and _.,:/=+- "
		       "(values go into guest commands)");
	expect_invalid(f, "expect: MAYBE\nsteps:\n- boot\n",
		       "1:9: unknown verdict 'MAYBE' for 'expect' (PASS, FAIL, DEADLOCK, HANG, "
		       "TIMEOUT, KERNEL_PANIC, KERNEL_BUG or TEE_PANIC)");
	/* a kernel report expected, or some kinds of it not reported */
	assert_int_equal(load(f, "expect: KERNEL_BUG\nignore-kernel-bugs: [HUNG_TASK, KMEMLEAK]\n"
			      "steps:\n- boot\n"), 0);
	assert_string_equal(f->sc.expect, "KERNEL_BUG");
	assert_int_equal(f->sc.kernel_bugs_ignore,
			 (1u << KREPORT_HUNG_TASK) | (1u << KREPORT_KMEMLEAK));
	assert_int_equal(load(f, "ignore-kernel-bugs: all\nsteps:\n- boot\n"), 0);
	assert_int_equal(f->sc.kernel_bugs_ignore, ~0u);
	assert_int_equal(load(f, "steps:\n- boot\n"), 0);
	assert_int_equal(f->sc.kernel_bugs_ignore, 0);
	expect_invalid(f, "ignore-kernel-bugs: [WARNING, hung]\nsteps:\n- boot\n",
		       "1:31: unknown kind of kernel report 'hung' for 'ignore-kernel-bugs' "
		       "(KASAN, BUG, OOPS, WARNING, HUNG_TASK, KMEMLEAK or all)");
	expect_invalid(f, "default-cell: x\ncells: {a: {}}\nsteps:\n- boot\n",
		       "1:15: default-cell 'x' is not one of the cells");
	expect_invalid(f, "cells: {a: {optee-flags: [threads]}}\nsteps:\n- boot\n",
		       "1:27: OP-TEE flag 'threads' is not NAME=VALUE");
	expect_invalid(f, "cells: {a: {kernal: x}}\nsteps:\n- boot\n",
		       "1:13: unknown key 'kernal' in cell");
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, stall: 3}\n",
		       "3:42: 'stall' needs 'progress' (the lines that show progress)");
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, detect: state}\n",
		       "3:43: 'detect' needs 'progress' (the lines that show progress)");
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, progress: p, detect: "
		       "proof}\n", "3:56: 'detect' is 'stall' (no progress for 'stall' seconds) or "
		       "'state' (a TEE deadlock proven from both worlds' state), not 'proof'");
	/* detect-after: a number of seconds below stall, or a parameter */
	assert_int_equal(load(f, "steps:\n- boot\n- background: {id: a, command: x, progress: p, "
			      "detect: state}\n"), 0);
	assert_true(f->sc.steps[1].detect_after == 1.0);
	assert_int_equal(load(f, "params: {quiet: 1}\nsteps:\n- boot\n- background: {id: a, command: x, "
			      "progress: p, detect: state, stall: 5, detect-after: '${quiet}'}\n"), 0);
	assert_string_equal(f->sc.steps[1].detect_after_param, "quiet");
	{
		char *quiet[] = { "quiet=0.3" };
		const char *quiet_text = "params: {quiet: 1}\nsteps:\n- boot\n- background: {id: a, "
				   "command: x, progress: p, detect: state, stall: 5, detect-after: "
				   "'${quiet}'}\n";

		assert_int_equal(scenario_select(&f->sc, NULL, quiet, 1, NULL), 0);
		assert_null(f->sc.steps[1].detect_after_param);
		assert_true(f->sc.steps[1].detect_after == 0.3);
		expect_select_error(f, quiet_text, "quiet=5",
				    ":4: 'detect-after' is 5 here, not above 0 and below 'stall' (5 s)");
		expect_select_error(f, quiet_text, "quiet=soon",
				    ":4: 'detect-after' is ${quiet} = 'soon', not a number");
	}
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, progress: p, "
		       "detect: state, stall: 5, detect-after: 6}\n",
		       "3:87: 'detect-after' must be above 0 and below 'stall' (5 s), not 6");
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, progress: p, "
		       "detect-after: 0.5}\n",
		       "3:62: 'detect-after' goes with 'detect: state'");
	expect_invalid(f, "steps:\n- boot\n- background: {id: a, command: x, progress: p, "
		       "detect: state, detect-after: '${nope}'}\n",
		       "3:77: 'detect-after' names 'nope', which 'params' does not declare");
}

/* repeat: unrolled by scenario_select(), times literal or a parameter */
static void test_repeat(void **state)
{
	struct fixture *f = *state;
	const struct scenario *sc = &f->sc;
	char *cli[] = { "hops=3" };

	assert_int_equal(load(f, "params: {hops: 2}\nsteps:\n- boot\n"
			      "- background: {id: hold, command: tl-shm hold}\n"
			      "- repeat:\n    times: ${hops}\n    steps:\n"
			      "    - kexec: {to: debian-6.1}\n"
			      "    - measure: {metric: m, command: 'echo ${hops}'}\n"
			      "    - measure: {metric: n, command: 'echo 2', at-least: m}\n"
			      "- run: {name: after, command: 'true'}\n"), 0);
	assert_int_equal(sc->nr_steps, 7);	/* boot, background, repeat + 3, run */
	assert_ptr_equal(sc->steps[2].ops, &step_repeat);
	assert_string_equal(sc->steps[2].times_param, "hops");
	assert_int_equal(sc->steps[2].nr_body, 3);
	assert_string_equal(sc->steps[2].name, "repeat ${hops} times");
	assert_int_equal(scenario_select(&f->sc, NULL, cli, 1, NULL), 0);
	assert_int_equal(sc->nr_steps, 2 + 3 * 3 + 1);
	assert_ptr_equal(sc->steps[2].ops, &step_kexec);
	assert_string_equal(sc->steps[2].to, "debian-6.1");
	assert_string_equal(sc->steps[2].name, "kexec [1/3]");
	assert_string_equal(sc->steps[3].metric, "m.1");
	assert_string_equal(sc->steps[3].command, "echo 3");
	assert_string_equal(sc->steps[4].at_least, "m.1");	/* the same iteration's */
	assert_string_equal(sc->steps[10].metric, "n.3");
	assert_string_equal(sc->steps[10].at_least, "m.3");
	assert_string_equal(sc->steps[10].name, "measure n [3/3]");
	assert_string_equal(sc->steps[11].name, "after");
	{
		struct strvec t = STRVEC_INIT;

		scenario_kexec_targets(sc, &t);
		assert_int_equal(t.nr, 1);
		assert_string_equal(t.v[0], "debian-6.1");
		strvec_release(&t);
	}
	/* a literal count */
	assert_int_equal(load(f, "steps:\n- boot\n- repeat: {times: 2, steps: [reboot]}\n"), 0);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), 0);
	assert_int_equal(sc->nr_steps, 3);
	assert_string_equal(sc->steps[2].name, "reboot [2/2]");
	/* a parameter that is no count: an error at the repeat's line */
	assert_int_equal(load(f, "params: {k: x}\nsteps:\n- boot\n"
			      "- repeat: {times: '${k}', steps: [reboot]}\n"), 0);
	capture_begin(&f->cap);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), -EINVAL);
	free(f->err);
	f->err = capture_end(&f->cap);
	assert_non_null(strstr(f->err, ":4: 'times' is ${k} = 'x', not 1..1000"));
	expect_invalid(f, "steps:\n- boot\n- repeat: {times: 0, steps: [reboot]}\n",
		       "3:19: 'times' must be 1..1000 or \"${param}\", got '0'");
	expect_invalid(f, "steps:\n- boot\n- repeat: {times: '${n}', steps: [reboot]}\n",
		       "3:19: 'times' names 'n', which 'params' does not declare");
	expect_invalid(f, "steps:\n- boot\n- repeat: {times: 2}\n",
		       "3:3: 'repeat' needs 'steps': a non-empty sequence of steps");
	expect_invalid(f, "steps:\n- boot\n- repeat: {times: 2, steps: [{repeat: "
		       "{times: 2, steps: [reboot]}}]}\n",
		       "3:31: a 'repeat' cannot hold another 'repeat'");
	expect_invalid(f, "steps:\n- boot\n- repeat: {times: 2, steps: [poweroff]}\n",
		       "3:30: 'poweroff' cannot be repeated (the 'repeat' at line 3)");
	expect_invalid(f, "steps:\n- boot\n- kexec: {to: 'a b'}\n",
		       "3:15: invalid kernel name 'a b' (a configs/kernels name or 'boot'; "
		       "in a repeat, a comma list the hops cycle through)");
	/* a list cycles through the hops; from a parameter too */
	assert_int_equal(load(f, "params: {k: 'x,boot'}\nsteps:\n- boot\n"
			      "- repeat: {times: 3, steps: [{kexec: {to: '${k}'}}]}\n"), 0);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), 0);
	assert_int_equal(sc->nr_steps, 4);
	assert_string_equal(sc->steps[1].to, "x");
	assert_string_equal(sc->steps[2].to, "boot");
	assert_string_equal(sc->steps[3].to, "x");
	assert_int_equal(load(f, "params: {k: 'x,boot'}\nsteps:\n- boot\n- kexec: {to: '${k}'}\n"), 0);
	capture_begin(&f->cap);
	assert_int_equal(scenario_select(&f->sc, NULL, NULL, 0, NULL), -EINVAL);
	free(f->err);
	f->err = capture_end(&f->cap);
	assert_non_null(strstr(f->err, ":4: kexec 'to' is 'x,boot' here: one kernel name"));
	expect_invalid(f, "steps:\n- boot\n- kexec: {to: x, kernel: /Image}\n",
		       "3:15: 'to' names a lab kernel; 'kernel'/'initrd' give guest paths: not both");
	expect_invalid(f, "steps:\n- boot\n- sysrq: {key: w, kdump: true}\n",
		       "3:26: 'kdump: true' needs key 'c' (a crash), got 'w'");
}

static void test_reload_after_error(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- boot\n- run: ls\n- wait: {}\n",
		       "4:3: missing 'pattern' in 'wait' step");
	assert_int_equal(load(f, "steps:\n- boot\n- run: ls\n"), 0);
	assert_int_equal(f->sc.nr_steps, 2);
	assert_string_equal(f->sc.steps[1].command, "ls");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_scenario),
		T(test_repeat),
		T(test_defaults),
		T(test_shorthand_forms),
		T(test_generated_run_name_truncated),
		T(test_default_name_from_file),
		T(test_names),
		T(test_missing_file),
		T(test_syntax_errors),
		T(test_empty_file),
		T(test_duplicate_key),
		T(test_unknown_keys),
		T(test_missing_or_empty_steps),
		T(test_first_step_not_boot),
		T(test_bad_regex),
		T(test_wrong_types),
		T(test_bad_values),
		T(test_step_shape_errors),
		T(test_every_step_type),
		T(test_new_step_defaults),
		T(test_new_shorthands),
		T(test_network_and_hang),
		T(test_step_order_new_types),
		T(test_id_errors),
		T(test_channel_errors),
		T(test_expect_errors),
		T(test_parallel_errors),
		T(test_collect_errors),
		T(test_sysrq_errors),
		T(test_assert_errors),
		T(test_kexec_errors),
		T(test_measure),
		T(test_measure_param_bounds),
		T(test_cells_and_params),
		T(test_reload_after_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
