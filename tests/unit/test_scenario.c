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

#include "scenario.h"
#include "util.h"

struct fixture {
	char dir[64];		/* private temporary directory */
	char *path;		/* <dir>/xtest-smoke.yaml */
	struct scenario sc;
	char *err;		/* what the last load printed on stderr */
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
	assert_int_equal(st->type, STEP_BOOT);
	assert_string_equal(st->name, "boot");
	assert_int_equal(st->line, 10);
	assert_int_equal(st->column, 5);
	assert_true(st->timeout == 45);
	assert_null(st->xfail);

	st = &sc->steps[1];
	assert_int_equal(st->type, STEP_WAIT);
	assert_string_equal(st->name, "tee up");
	assert_int_equal(st->line, 12);
	assert_int_equal(st->column, 5);
	assert_int_equal(st->console, CON_SECURE);
	assert_string_equal(st->pattern, "optee: initialized driver");
	assert_true(st->timeout == 30);
	assert_null(st->command);

	st = &sc->steps[2];
	assert_int_equal(st->type, STEP_RUN);
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
	assert_int_equal(st->type, STEP_POWEROFF);
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
	assert_int_equal(sc->nr_steps, 4);

	assert_string_equal(sc->steps[0].name, "boot");
	assert_true(sc->steps[0].timeout == 0);

	assert_int_equal(sc->steps[1].console, CON_NORMAL);
	assert_string_equal(sc->steps[1].name, "wait normal: login: *$");
	assert_true(sc->steps[1].timeout == 0);

	assert_string_equal(sc->steps[2].command, "echo one\necho two\n");
	/* generated names stay on one line */
	assert_string_equal(sc->steps[2].name, "run echo one echo two ");
	assert_int_equal(sc->steps[2].expect_exit, 0);
	assert_null(sc->steps[2].expect_output);
	assert_null(sc->steps[2].parser);
	assert_null(sc->steps[2].xfail);

	assert_int_equal(sc->steps[3].type, STEP_POWEROFF);
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
	assert_int_equal(sc->steps[0].type, STEP_BOOT);
	assert_int_equal(sc->steps[0].line, 2);
	assert_int_equal(sc->steps[0].column, 3);
	assert_int_equal(sc->steps[1].type, STEP_RUN);
	assert_string_equal(sc->steps[1].command, "uname -a");
	assert_string_equal(sc->steps[1].name, "run uname -a");
	assert_int_equal(sc->steps[1].expect_exit, 0);
	assert_int_equal(sc->steps[1].line, 3);
	assert_int_equal(sc->steps[1].column, 3);
	assert_string_equal(sc->steps[2].command, "true");
	assert_string_equal(sc->steps[2].name, "always");
	assert_string_equal(sc->steps[2].xfail, "why not");
	assert_int_equal(sc->steps[3].type, STEP_POWEROFF);
	assert_string_equal(sc->steps[3].name, "poweroff");
	assert_int_equal(sc->steps[3].line, 7);

	/* "- poweroff:" with a null value and "~" */
	assert_int_equal(load(f, "steps:\n- boot: ~\n- poweroff:\n"), 0);
	assert_int_equal(sc->nr_steps, 2);
	assert_int_equal(sc->steps[1].type, STEP_POWEROFF);
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
	assert_string_equal(step_type_name(STEP_BOOT), "boot");
	assert_string_equal(step_type_name(STEP_WAIT), "wait");
	assert_string_equal(step_type_name(STEP_RUN), "run");
	assert_string_equal(step_type_name(STEP_POWEROFF), "poweroff");
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

static void test_step_shape_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "steps:\n- reboot\n",
		       "2:3: unknown step type 'reboot' (expected boot, wait, run or poweroff)");
	expect_invalid(f, "steps:\n- boot\n- name: x\n",
		       "3:3: step has no type (expected one of boot, wait, run or poweroff)");
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
		T(test_reload_after_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
