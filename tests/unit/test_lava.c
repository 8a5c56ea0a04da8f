// SPDX-License-Identifier: MIT
/*
 * test_lava.c - the LAVA export's pieces (the YAML emitter, the pattern
 * translation, the step plan) and the import of captured LAVA job logs
 * (tests/data/lava/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lava.h"
#include "results.h"
#include "scenario.h"
#include "util.h"
#include "yamlemit.h"
#include "yamltree.h"

/* ---- yamlemit ---- */

static void test_emit_reads_back(void **state)
{
	static const char *const values[] = {
		"on", "off", "yes", "No", "1.5", "42", "0x1f", "~", "null", "", "2001-12-14",
		"a: b", "- x", "#c", "{x}", "'q'", "\"dq\"", "line1\nline2\n", "plain text",
		"/ # ", ".inf", "-bios {bios}", "  leading", "trailing  ",
	};
	struct yemit y;
	struct ydoc doc = YDOC_INIT;
	char *text, key[16];

	(void)state;
	yemit_init(&y);
	yemit_map(&y, false);
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		yemit_key(&y, key);
		if (i % 2)
			yemit_text(&y, values[i]);
		else
			yemit_str(&y, values[i]);
	}
	yemit_kv_int(&y, "num", 7);
	yemit_kv_int(&y, "n", 1);
	yemit_kv_bool(&y, "b", true);
	yemit_end(&y);
	assert_int_equal(yemit_finish(&y, &text), 0);
	assert_int_equal(ydoc_load_string("emitted", text, &doc), 0);
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		const struct ynode *n;

		snprintf(key, sizeof(key), "k%zu", i);
		n = ynode_get(doc.root, key);
		assert_non_null(n);
		assert_string_equal(n->scalar, values[i]);
	}
	/* what PyYAML would take for a boolean or a number is quoted */
	assert_non_null(strstr(text, "k0: 'on'"));
	assert_non_null(strstr(text, "k4: '1.5'"));
	assert_non_null(strstr(text, "num: 7\n"));
	/* and a key that is a YAML 1.1 boolean */
	assert_non_null(strstr(text, "\n'n': 1\n"));
	assert_non_null(strstr(text, "b: true\n"));
	ydoc_release(&doc);
	free(text);
}

static void test_emit_unbalanced(void **state)
{
	struct yemit y;
	struct capture cap;
	char *text, *err;

	(void)state;
	yemit_init(&y);
	yemit_map(&y, false);
	yemit_kv_str(&y, "a", "b");
	capture_begin(&cap);
	assert_int_equal(yemit_finish(&y, &text), -EINVAL);
	err = capture_end(&cap);
	assert_null(text);
	assert_non_null(strstr(err, "left open"));
	free(err);
}

/* ---- patterns ---- */

static void expect_pattern(const char *ere, const char *python)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;

	assert_int_equal(lava_pattern(ere, &sb, &why), 0);
	assert_string_equal(strbuf_str(&sb), python);
	strbuf_release(&sb);
}

static void test_pattern(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;

	(void)state;
	expect_pattern("OP-TEE version: ", "(?m)OP-TEE version: [^\\n]*\\n");
	/* '.' and a negated class stay on the line; '$' before the serial line's \r */
	expect_pattern("^a.b$", "(?m)^a[^\\r\\n]b\\r?$[^\\n]*\\n");
	expect_pattern("[^x]y", "(?m)[^\\r\\nx]y[^\\n]*\\n");
	expect_pattern("[[:digit:]]+ ok", "(?m)[0-9]+ ok[^\\n]*\\n");
	expect_pattern("[]a]", "(?m)[\\]a][^\\n]*\\n");
	expect_pattern("a\\.b", "(?m)a\\.b[^\\n]*\\n");
	assert_int_equal(lava_pattern("(a)\\1", &sb, &why), -EINVAL);
	assert_non_null(strstr(why, "back-reference"));
	strbuf_reset(&sb);
	assert_int_equal(lava_pattern("\\d+", &sb, &why), -EINVAL);
	strbuf_reset(&sb);
	assert_int_equal(lava_pattern("[[:punct:]]", &sb, &why), -EINVAL);
	strbuf_release(&sb);
}

/* ---- the plan ---- */

static void load_scenario(const char *name, struct scenario *sc)
{
	struct config_overrides ov = { 0 };
	char *path = xasprintf("%s/scenarios/%s.yaml", test_srcdir(), name);

	assert_int_equal(scenario_load(path, sc), 0);
	assert_int_equal(scenario_select(sc, NULL, NULL, 0, &ov), 0);
	free(path);
}

static void test_plan_xtest_smoke(void **state)
{
	static const enum lava_form want[] = { LAVA_FORM_BOOT, LAVA_FORM_EXPECT, LAVA_FORM_EXPECT,
		LAVA_FORM_RUN, LAVA_FORM_RUN, LAVA_FORM_POWEROFF };
	struct scenario sc = SCENARIO_INIT;
	struct lava_plan plan;

	(void)state;
	load_scenario("xtest-smoke", &sc);
	assert_int_equal(lava_plan(&sc, false, &plan), 0);
	assert_int_equal(plan.nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < plan.nr; i++)
		assert_int_equal(plan.steps[i].form, want[i]);
	assert_string_equal(plan.steps[4].tcase, "05-xtest-regression-1001-1004-6001");
	lava_plan_release(&plan);
	scenario_release(&sc);
}

static void test_plan_reboot(void **state)
{
	struct scenario sc = SCENARIO_INIT;
	struct lava_plan plan;

	(void)state;
	load_scenario("reboot-after-xtest", &sc);
	assert_int_equal(lava_plan(&sc, false, &plan), 0);
	assert_int_equal(plan.steps[2].form, LAVA_FORM_REBOOT);
	assert_int_equal(plan.steps[6].form, LAVA_FORM_IMPORT);	/* assert */
	lava_plan_release(&plan);
	scenario_release(&sc);
}

static void test_plan_refuses(void **state)
{
	struct scenario sc = SCENARIO_INIT;
	struct lava_plan plan;
	struct capture cap;
	char *err;
	int ret;

	(void)state;
	load_scenario("system-invocation", &sc);
	capture_begin(&cap);
	ret = lava_plan(&sc, false, &plan);
	err = capture_end(&cap);
	assert_int_equal(ret, -EINVAL);
	/* file:line of the step, and why */
	assert_non_null(strstr(err, "system-invocation.yaml:107: step 5"));
	assert_non_null(strstr(err, "no faithful LAVA form: DEADLOCK detection"));
	assert_non_null(strstr(err, "(measure): no faithful LAVA form"));
	free(err);
	capture_begin(&cap);
	assert_int_equal(lava_plan(&sc, true, &plan), 0);
	free(capture_end(&cap));
	assert_int_equal(plan.nr_dropped, 5);
	assert_int_equal(plan.steps[4].form, LAVA_FORM_NONE);
	assert_non_null(plan.steps[4].why);
	lava_plan_release(&plan);
	scenario_release(&sc);
}

/* ---- the log and the import ---- */

static char *data_path(const char *name)
{
	return xasprintf("%s/tests/data/lava/%s", test_srcdir(), name);
}

static void test_log_parse(void **state)
{
	char *p = data_path("xtest-smoke.job.log");
	struct lava_log log;
	const struct lava_entry *last = NULL, *xt = NULL;
	size_t targets = 0;

	(void)state;
	assert_int_equal(lava_log_load(p, &log), 0);
	assert_true(log.nr > 500);
	for (size_t i = 0; i < log.nr; i++) {
		const struct lava_entry *e = &log.v[i];

		targets += !strcmp(e->lvl, "target");
		if (!strcmp(e->lvl, "results"))
			last = e;
		if (e->tcase && !strcmp(e->tcase, "regression_1004"))
			xt = e;
	}
	assert_true(targets > 100);
	assert_non_null(last);
	assert_string_equal(last->definition, "lava");
	assert_string_equal(last->tcase, "job");
	assert_string_equal(last->result, "pass");
	/* PyYAML's '! "1029"' (a non-specific tag) reads as the string */
	assert_non_null(xt);
	assert_string_equal(xt->definition, "0_steps-04");
	assert_string_equal(xt->result, "pass");
	assert_true(log.v[log.nr - 1].t > 5 && log.v[log.nr - 1].t < 120);
	lava_log_release(&log);
	free(p);
}

static void test_log_not_lava(void **state)
{
	struct lava_log log;
	struct capture cap;
	char *err;

	(void)state;
	capture_begin(&cap);
	assert_int_equal(lava_log_parse("x.log", "hello\n{not: [yaml\n", &log), -EINVAL);
	err = capture_end(&cap);
	assert_non_null(strstr(err, "x.log: not a LAVA job log"));
	free(err);
	lava_log_release(&log);
}

/* Import tests/data/lava/@log (with @mapping or NULL) into the fixture dir. */
static int import(void **state, const char *log_name, const char *mapping_name,
		  const char *extra, struct run_result *res)
{
	char *p = data_path(log_name), *m = mapping_name ? data_path(mapping_name) : NULL;
	char *text = NULL;
	struct lava_log log;
	struct capture cap;
	int ret;

	assert_int_equal(read_file(p, &text, NULL), 0);
	if (extra) {
		/* a line put before the job's last result */
		char *last = strstr(text, "{\"dt\": \"2026-12-03T14:42:58.7");
		char *joined;

		assert_non_null(last);
		joined = xasprintf("%.*s%s\n%s", (int)(last - text), text, extra, last);
		free(text);
		text = joined;
	}
	assert_int_equal(lava_log_parse(p, text, &log), 0);
	res->scenario = xstrdup("t");
	capture_begin(&cap);
	ret = lava_import(&log, m, *state, res);
	free(capture_end(&cap));
	lava_log_release(&log);
	free(text);
	free(p);
	free(m);
	return ret;
}

static const struct test_result *find(const struct run_result *r, const char *name)
{
	for (size_t i = 0; i < r->nr_tests; i++)
		if (!strcmp(r->tests[i].name, name))
			return &r->tests[i];
	fail_msg("no test '%s'", name);
	return NULL;
}

static void test_import_pass(void **state)
{
	static const char *const steps[] = { "boot", "expect normal: optee: initialized driver",
		"expect secure: OP-TEE version: ", "tee-supplicant is running",
		"xtest regression 1001 1004 6001", "poweroff" };
	struct run_result res = RUN_RESULT_INIT;
	char *nw, *sw;

	assert_int_equal(import(state, "xtest-smoke.job.log", "xtest-smoke.mapping.json", NULL,
				&res), 0);
	assert_int_equal(res.verdict, V_PASS);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		assert_int_equal(find(&res, steps[i])->verdict, V_PASS);
	assert_string_equal(find(&res, "regression_1004")->group, "xtest.regression");
	assert_int_equal(find(&res, "regression_6001")->verdict, V_PASS);
	/* the step's output between tl-lava-case's markers */
	assert_non_null(strstr(find(&res, "xtest regression 1001 1004 6001")->output,
			       "regression_1004 OK"));
	assert_int_equal(res.nr_tests, ARRAY_SIZE(steps) + 3);
	nw = tu_slurp(*state, "nw-console.log");
	sw = tu_slurp(*state, "sw-console.log");
	assert_non_null(strstr(nw, "optee: initialized driver"));
	assert_non_null(strstr(sw, "OP-TEE version: "));
	/* the replayed UART0 log is not a second copy of the normal world */
	assert_int_equal(tu_count(nw, "optee: initialized driver"), 1);
	assert_null(strstr(sw, "Linux version"));
	assert_true(res.boots[0].optee_at > 0 && res.boots[0].ready_at > res.boots[0].optee_at);
	free(nw);
	free(sw);
	run_result_release(&res);
}

static void test_import_step_fails(void **state)
{
	struct run_result res = RUN_RESULT_INIT;
	const struct test_result *t;

	assert_int_equal(import(state, "lava-fail.job.log", "lava-fail.mapping.json", NULL, &res),
			 TL_EXIT_FAIL);
	assert_int_equal(res.verdict, V_FAIL);
	t = find(&res, "a daemon that is not there");
	assert_int_equal(t->verdict, V_FAIL);
	assert_string_equal(t->message, "exit status 1, expected 0");
	assert_int_equal(find(&res, "poweroff")->verdict, V_PASS);
	run_result_release(&res);
}

static void test_import_missing_image(void **state)
{
	struct run_result res = RUN_RESULT_INIT;

	assert_int_equal(import(state, "missing-image.job.log", NULL, NULL, &res), TL_EXIT_INFRA);
	assert_int_equal(res.verdict, V_INFRA);
	assert_non_null(strstr(res.reason, "LAVA did not run the job"));
	assert_non_null(strstr(res.reason, "does not exist or is not readable"));
	run_result_release(&res);
}

static void test_import_boot_timeout(void **state)
{
	struct run_result res = RUN_RESULT_INIT;

	assert_int_equal(import(state, "boot-timeout.job.log", NULL, NULL, &res), TL_EXIT_TIMEOUT);
	assert_int_equal(res.verdict, V_TIMEOUT);
	assert_non_null(strstr(res.reason, "wait for prompt timed out"));
	run_result_release(&res);
}

static void test_import_tee_panic(void **state)
{
	struct run_result res = RUN_RESULT_INIT;

	/* an OP-TEE panic on the replayed UART1, read as another namespace's feedback */
	assert_int_equal(import(state, "xtest-smoke.job.log", "xtest-smoke.mapping.json",
				"{\"dt\": \"2026-12-03T14:42:58.70\", \"lvl\": \"feedback\", \"msg\": "
				"\"E/TC:0 0 Panic at core/kernel/tee_ta_manager.c:123 <x>\", "
				"\"ns\": \"secure-03\"}", &res), TL_EXIT_TEE_PANIC);
	assert_int_equal(res.verdict, V_TEE_PANIC);
	assert_non_null(strstr(res.reason, "Panic at core/kernel/tee_ta_manager.c:123"));
	run_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emit_reads_back),
		cmocka_unit_test(test_emit_unbalanced),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_plan_xtest_smoke),
		cmocka_unit_test(test_plan_reboot),
		cmocka_unit_test(test_plan_refuses),
		cmocka_unit_test(test_log_parse),
		cmocka_unit_test(test_log_not_lava),
		cmocka_unit_test_setup_teardown(test_import_pass, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_import_step_fails, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_import_missing_image, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_import_boot_timeout, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_import_tee_panic, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
