// SPDX-License-Identifier: MIT
/* test_xtest.c - unit tests for the xtest console output parser */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "util.h"
#include "xtest.h"

/* A transcript from tests/data/xtest/ (TEELAB_SRCDIR, default "."). */
static char *load(const char *name)
{
	char *path = xasprintf("%s/tests/data/xtest/%s", test_srcdir(), name);
	char *text = NULL;
	int ret = read_file(path, &text, NULL);

	if (ret)
		fail_msg("cannot read '%s'", path);
	free(path);
	return text;
}

static const struct xtest_case *find(const struct xtest_report *rep,
				     const char *id)
{
	for (size_t i = 0; i < rep->nr; i++)
		if (!strcmp(rep->cases[i].id, id))
			return &rep->cases[i];
	fail_msg("no case '%s'", id);
	return NULL;
}

static void assert_clean_output(const struct xtest_report *rep)
{
	for (size_t i = 0; i < rep->nr; i++) {
		const char *o = rep->cases[i].output;

		assert_non_null(o);
		assert_null(strchr(o, '\r'));
		assert_null(strchr(o, '\x1b'));
	}
}

static void test_pass3(void **state)
{
	char *text = load("pass-3.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	const struct xtest_case *c = NULL;

	(void)state;
	xtest_parse(text, &rep);
	assert_int_equal(rep.nr, 3);
	assert_string_equal(rep.cases[0].id, "regression_1001");
	assert_string_equal(rep.cases[0].title, "Core self tests");
	assert_string_equal(rep.cases[1].id, "regression_1002");
	assert_string_equal(rep.cases[1].title, "PTA parameters");
	assert_string_equal(rep.cases[2].id, "regression_1004");
	assert_string_equal(rep.cases[2].title, "Test User Crypt TA");
	for (size_t i = 0; i < rep.nr; i++) {
		assert_int_equal(rep.cases[i].verdict, V_PASS);
		assert_null(rep.cases[i].message);
		assert_true(rep.cases[i].duration == 0);
	}
	assert_int_equal(rep.cases[0].nr_subcases, 3);
	assert_int_equal(rep.cases[1].nr_subcases, 0);
	assert_int_equal(rep.cases[2].nr_subcases, 5);
	assert_int_equal(rep.cases[2].nr_subcases_failed, 0);

	assert_true(rep.have_summary);
	assert_true(rep.finished);
	assert_false(rep.aborted);
	assert_int_equal(rep.subtests, 16);
	assert_int_equal(rep.subtests_failed, 0);
	assert_int_equal(rep.cases_total, 3);
	assert_int_equal(rep.cases_failed, 0);
	assert_int_equal(rep.cases_skipped, 126);

	/* each case owns its lines, from its start line to its verdict */
	c = find(&rep, "regression_1001");
	assert_true(starts_with(c->output, "* regression_1001 Core self tests\n"));
	assert_true(ends_with(c->output, "  regression_1001 OK\n"));
	assert_non_null(strstr(c->output,
			       "o regression_1001.2 Core dt_driver self tests\n"));
	assert_null(strstr(c->output, "regression_1002"));
	c = find(&rep, "regression_1002");
	assert_string_equal(c->output,
			    "* regression_1002 PTA parameters\n"
			    "  regression_1002 OK\n");
	assert_clean_output(&rep);
	xtest_report_release(&rep);
	assert_int_equal(rep.nr, 0);
	assert_null(rep.cases);
	free(text);
}

static void test_fail1(void **state)
{
	char *text = load("fail-1.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	const struct xtest_case *c = NULL;

	(void)state;
	xtest_parse(text, &rep);
	assert_int_equal(rep.nr, 2);

	c = find(&rep, "regression_1004");
	assert_int_equal(c->verdict, V_FAIL);
	assert_string_equal(c->message,
			    "regression_1004.2 FAILED first error at "
			    "regression_1000.c:117: memcmp(crypt_in, out, "
			    "sizeof(crypt_in)) has an unexpected value: 0x1, "
			    "expected 0x0");
	assert_int_equal(c->nr_subcases, 5);
	assert_int_equal(c->nr_subcases_failed, 1);
	assert_non_null(strstr(c->output, "crypt_in:\n  16:11:00:00 "));
	assert_true(ends_with(c->output, "  regression_1004 FAILED\n"));

	/* "E/TA:  test_time:579 ..." is a TA log line, not a failure */
	c = find(&rep, "regression_1006");
	assert_int_equal(c->verdict, V_PASS);
	assert_null(c->message);
	assert_string_equal(c->title, "Test Basic OS features");
	assert_non_null(strstr(c->output, "E/TA:  test_time:579"));

	assert_true(rep.have_summary);
	assert_int_equal(rep.subtests, 12);
	assert_int_equal(rep.subtests_failed, 1);
	assert_int_equal(rep.cases_total, 2);
	assert_int_equal(rep.cases_failed, 1);
	assert_int_equal(rep.cases_skipped, 127);
	assert_true(rep.finished);
	xtest_report_release(&rep);
	free(text);
}

/* A secure world's known failures: a listed failure is XFAIL, a listed pass XPASS. */
static void test_known_failures(void **state)
{
	char *text = load("fail-1.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	const struct known_failure known[] = {
		{ "regression_1004", "AES decrypt differs on this build", "https://example.invalid/1" },
		{ "regression_1006", "listed but passes", NULL },
		{ "regression_9999", "not run here", NULL },
	};
	const struct xtest_case *c = NULL;
	long failed;

	(void)state;
	xtest_parse(text, &rep);
	failed = rep.cases_failed;
	assert_int_equal(xtest_apply_known(&rep, known, ARRAY_SIZE(known)), 1);
	c = find(&rep, "regression_1004");
	assert_int_equal(c->verdict, V_XFAIL);
	assert_true(starts_with(c->message, "known failure: AES decrypt differs on this build "
				"(https://example.invalid/1): regression_1004.2 FAILED"));
	assert_int_equal(rep.cases_failed, failed - 1);
	c = find(&rep, "regression_1006");
	assert_int_equal(c->verdict, V_XPASS);
	assert_string_equal(c->message, "listed as a known failure (listed but passes) but passed: "
			    "drop it from the list");
	xtest_report_release(&rep);
	free(text);
}

static void test_truncated(void **state)
{
	char *text = load("truncated.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	const struct xtest_case *c = NULL;

	(void)state;
	xtest_parse(text, &rep);
	assert_int_equal(rep.nr, 3);
	assert_int_equal(find(&rep, "regression_1001")->verdict, V_PASS);
	assert_int_equal(find(&rep, "regression_1002")->verdict, V_PASS);
	c = find(&rep, "regression_1003");
	assert_int_equal(c->verdict, V_ERROR);
	assert_string_equal(c->title, "Core internal read/write mutex");
	assert_string_equal(c->message, "no verdict (xtest did not finish)");
	/* kernel lines seen while the case ran belong to it */
	assert_non_null(strstr(c->output,
			       "[   52.318220] rcu: INFO: rcu_preempt detected "
			       "stalls on CPUs/tasks:\n"));
	assert_false(rep.have_summary);
	assert_false(rep.finished);
	assert_int_equal(rep.cases_total, 0);
	assert_clean_output(&rep);
	xtest_report_release(&rep);
	free(text);
}

static void test_interleaved(void **state)
{
	char *text = load("interleaved.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	const struct xtest_case *c = NULL;

	(void)state;
	xtest_parse(text, &rep);
	assert_int_equal(rep.nr, 3);
	c = find(&rep, "regression_1001");
	assert_int_equal(c->verdict, V_PASS);
	/* "  regression_10" + kernel line + "01 OK" is joined again */
	assert_non_null(strstr(c->output, "\n  regression_1001 OK\n"));
	assert_non_null(strstr(c->output, "[   41.602113] random: crng init done\n"));
	assert_non_null(strstr(c->output, "[   48.201337] hrtimer: interrupt took"));
	c = find(&rep, "regression_1004");
	assert_string_equal(c->title, "Test User Crypt TA");
	assert_int_equal(c->verdict, V_PASS);
	assert_int_equal(c->nr_subcases, 5);
	assert_int_equal(find(&rep, "regression_1002")->verdict, V_PASS);
	assert_true(rep.have_summary);
	assert_int_equal(rep.subtests, 16);
	assert_int_equal(rep.cases_total, 3);
	assert_int_equal(rep.cases_failed, 0);
	assert_int_equal(rep.cases_skipped, 126);
	assert_clean_output(&rep);
	xtest_report_release(&rep);
	free(text);
}

/* Formats of older optee_test (SKIPPED), abort, timing, odd input. */
static void test_edge_cases(void **state)
{
	struct xtest_report rep = XTEST_REPORT_INIT;
	const char *text =
		" \n"
		"* regression_6001 Test TEE_CreatePersistentObject\n"
		"o regression_6001.1 Storage id: 00000001\n"
		"+-----------------------------------------------------\n"
		"  regression_6001.1 OK\n"
		"  regression_6001 OK (2.500 s)\n"
		" \n"
		"* regression_6002 Test TEE_OpenPersistentObject\n"
		"  regression_6002 OK\n"
		" \n"
		"* pkcs11_1001\n"
		"  pkcs11_1001 FAILED\n"
		"Test suite aborted by pkcs11_1001!\n"
		"+-----------------------------------------------------\n"
		"Result of testsuite regression+pkcs11:\n"
		"regression_6001 OK\n"
		"regression_6002 SKIPPED: \"no RPMB\"\n"
		"pkcs11_1001 FAILED\n"
		"regression_9999 OK\n"
		"+-----------------------------------------------------\n"
		"Test suite was ABORTED\n"
		"1 subtest of which 1 failed\n"
		"1 test case of which 1 failed\n"
		"1 test case was skipped\n"
		"TEE test application done!";
	const struct xtest_case *c = NULL;

	(void)state;
	xtest_parse(text, &rep);
	assert_int_equal(rep.nr, 4);
	c = find(&rep, "regression_6001");
	assert_int_equal(c->verdict, V_PASS);
	assert_true(c->duration > 2.49 && c->duration < 2.51);
	/* a "+---" line inside a running case is its output */
	assert_non_null(strstr(c->output, "+-----"));
	c = find(&rep, "regression_6002");
	assert_int_equal(c->verdict, V_SKIP);
	assert_string_equal(c->message, "no RPMB");
	c = find(&rep, "pkcs11_1001");
	assert_string_equal(c->title, "");
	assert_int_equal(c->verdict, V_FAIL);
	assert_string_equal(c->message, "pkcs11_1001 FAILED");
	/* only in the summary: still reported */
	c = find(&rep, "regression_9999");
	assert_int_equal(c->verdict, V_PASS);
	assert_true(rep.aborted);
	assert_true(rep.finished);
	assert_int_equal(rep.subtests, 1);
	assert_int_equal(rep.subtests_failed, 1);
	assert_int_equal(rep.cases_total, 1);
	assert_int_equal(rep.cases_skipped, 1);
	xtest_report_release(&rep);

	xtest_parse("", &rep);
	assert_int_equal(rep.nr, 0);
	assert_false(rep.have_summary);
	xtest_report_release(&rep);
	xtest_parse(NULL, &rep);
	assert_int_equal(rep.nr, 0);
	xtest_report_release(&rep);

	/* kernel text at the end of a line, xtest's '\n' alone after it;
	 * a new start line while a case is open leaves that one unfinished */
	xtest_parse("* regression_1001 Core self tests\r\n"
		    "\x1b(B  regression_1001 OK[  3.140000] foo: bar\r\n"
		    "\r\n"
		    "* regression_1002 PTA parameters\r\n"
		    "* regression_1003 Core internal read/write mutex\r\n"
		    "  regression_1003 OK", &rep);
	assert_int_equal(rep.nr, 3);
	assert_int_equal(rep.cases[0].verdict, V_PASS);
	assert_int_equal(rep.cases[1].verdict, V_ERROR);
	assert_int_equal(rep.cases[2].verdict, V_PASS);
	xtest_report_release(&rep);

	/* a verdict line lost in the noise: the summary still tells */
	xtest_parse("* regression_1002 PTA parameters\n"
		    "+-----------------------------------------------------\n"
		    "Result of testsuite regression:\n"
		    "regression_1002 OK\n"
		    "+-----------------------------------------------------\n"
		    "3 subtests of which 0 failed\n"
		    "1 test case of which 0 failed\n"
		    "4 test cases was skipped\n", &rep);
	assert_int_equal(rep.nr, 1);
	assert_int_equal(rep.cases[0].verdict, V_PASS);
	assert_string_equal(rep.cases[0].output,
			    "* regression_1002 PTA parameters\n");
	assert_true(rep.have_summary);
	assert_int_equal(rep.subtests, 3);
	assert_int_equal(rep.cases_skipped, 4);
	xtest_report_release(&rep);
}

static void test_to_results(void **state)
{
	char *text = load("fail-1.log");
	struct xtest_report rep = XTEST_REPORT_INIT;
	struct run_result r = RUN_RESULT_INIT;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	xtest_parse(text, &rep);
	xtest_report_to_results(&rep, &r);
	assert_int_equal(r.nr_tests, 2);
	assert_string_equal(r.tests[0].group, "xtest.regression");
	assert_string_equal(r.tests[0].name, "regression_1004");
	assert_int_equal(r.tests[0].verdict, V_FAIL);
	assert_string_equal(r.tests[0].message, rep.cases[0].message);
	assert_string_equal(r.tests[0].output, rep.cases[0].output);
	assert_string_equal(r.tests[1].name, "regression_1006");
	assert_int_equal(r.tests[1].verdict, V_PASS);
	assert_null(r.tests[1].message);
	xtest_report_release(&rep);
	run_result_release(&r);

	/* suite from the id prefix; long output kept to 16 KiB */
	strbuf_addstr(&big, "* pkcs11_1004 PKCS11: create/destroy objects\n");
	for (int i = 0; i < 4000; i++)
		strbuf_addf(&big, "line %04d of hex dump output\n", i);
	strbuf_addstr(&big, "  pkcs11_1004 OK\n");
	xtest_parse(big.buf, &rep);
	xtest_report_to_results(&rep, &r);
	assert_int_equal(r.nr_tests, 1);
	assert_string_equal(r.tests[0].group, "xtest.pkcs11");
	assert_string_equal(r.tests[0].name, "pkcs11_1004");
	assert_true(strlen(r.tests[0].output) <= 16 * 1024 + 64);
	assert_true(strlen(r.tests[0].output) > 12 * 1024);
	assert_true(starts_with(r.tests[0].output, "* pkcs11_1004 PKCS11"));
	assert_true(ends_with(r.tests[0].output,
			      "line 3999 of hex dump output\n  pkcs11_1004 OK\n"));
	assert_non_null(strstr(r.tests[0].output, " bytes elided ...]\nline "));
	xtest_report_release(&rep);
	run_result_release(&r);
	strbuf_release(&big);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass3),
		cmocka_unit_test(test_fail1),
		cmocka_unit_test(test_known_failures),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_to_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
