// SPDX-License-Identifier: MIT
/* test_results.c - unit tests for the run result model and its writers */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "results.h"
#include "util.h"

#define NASTY "<&\"'>"

struct fixture {
	char *dir;
	struct run_result r;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/teelab-test-results.XXXXXX";
	struct run_result *r = &f->r;

	if (!mkdtemp(tmpl))
		return -1;
	f->dir = xstrdup(tmpl);
	r->scenario = xstrdup("smoke " NASTY);
	r->run_id = xstrdup("20240501-100000-smoke");
	r->started = xstrdup("2024-05-01T10:00:00Z");
	r->duration = 12.5;
	r->verdict = V_FAIL;
	r->reason = xstrdup("2 tests failed");
	r->exit_code = 1;
	run_result_env(r, "qemu", "8.2.1");
	run_result_env(r, "note", "a" NASTY "b");
	run_result_env(r, "qemu", "9.0.0");	/* replaces */
	run_result_metric(r, "rpmb-writes", 1);
	run_result_metric(r, "rate", 2.5);
	run_result_metric(r, "rpmb-writes", 297);	/* replaces */

	run_result_add(r, "steps", "boot", V_PASS, 3.25, NULL,
		       "login: \x1b[32mok\x1b[0m\r\n");
	run_result_add(r, "xtest.regression", "regression_1004", V_FAIL, 1.5,
		       "bad " NASTY " value\x1b[0m\r",
		       "line1\r\nfail \x01 here\n\xff end\x1b(B\xc2\x85\n");
	run_result_add(r, "steps", "known-bug", V_XFAIL, 0.5,
		       "upstream issue #42", NULL);
	run_result_add(r, "steps", "flaky", V_XPASS, 0.25, NULL, NULL);
	run_result_add(r, "xtest.pkcs11", "pkcs11_1001", V_SKIP, 0, "no token",
		       NULL);
	run_result_add(r, "steps", "run xtest", V_TIMEOUT, 600, NULL, NULL);
	run_result_add(r, "steps", "qemu", V_ERROR, 0, "qemu died", NULL);
	run_result_add(r, "steps", "shutdown", V_NOTRUN, 0, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	remove_tree(f->dir);
	free(f->dir);
	run_result_release(&f->r);
	free(f);
	return 0;
}


static void test_verdicts(void **state)
{
	(void)state;
	assert_string_equal(verdict_name(V_PASS), "PASS");
	assert_string_equal(verdict_name(V_FAIL), "FAIL");
	assert_string_equal(verdict_name(V_XFAIL), "XFAIL");
	assert_string_equal(verdict_name(V_XPASS), "XPASS");
	assert_string_equal(verdict_name(V_SKIP), "SKIP");
	assert_string_equal(verdict_name(V_TIMEOUT), "TIMEOUT");
	assert_string_equal(verdict_name(V_ERROR), "ERROR");
	assert_string_equal(verdict_name(V_INTERRUPTED), "INTERRUPTED");
	assert_string_equal(verdict_name(V_NOTRUN), "NOTRUN");
	assert_true(verdict_ok(V_PASS));
	assert_true(verdict_ok(V_XFAIL));
	assert_true(verdict_ok(V_SKIP));
	assert_false(verdict_ok(V_FAIL));
	assert_false(verdict_ok(V_XPASS));
	assert_false(verdict_ok(V_TIMEOUT));
	assert_false(verdict_ok(V_ERROR));
	assert_false(verdict_ok(V_INTERRUPTED));
	assert_false(verdict_ok(V_NOTRUN));
}

static void test_model(void **state)
{
	struct fixture *f = *state;
	struct run_result *r = &f->r;

	assert_int_equal(r->nr_env, 2);
	assert_string_equal(r->env_keys[0], "qemu");
	assert_string_equal(r->env_values[0], "9.0.0");
	assert_int_equal(r->nr_tests, 8);
	assert_null(r->tests[0].message);
	assert_string_equal(r->tests[4].message, "no token");
	assert_null(r->tests[4].output);
}

static long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return (long)json_integer_value(v);
}

static const char *jstring(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	char *path = path_join(f->dir, "result.json");
	json_error_t jerr = { 0 };
	json_t *root = NULL, *sum = NULL, *tests = NULL, *t = NULL, *env = NULL;
	char *text = NULL;

	assert_int_equal(results_write_all(&f->r, f->dir), 0);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("result.json: %s (line %d)", jerr.text, jerr.line);
	assert_string_equal(jstring(root, "scenario"), "smoke " NASTY);
	assert_string_equal(jstring(root, "run_id"), "20240501-100000-smoke");
	assert_string_equal(jstring(root, "started"), "2024-05-01T10:00:00Z");
	assert_true(json_real_value(json_object_get(root, "duration")) == 12.5);
	assert_string_equal(jstring(root, "verdict"), "FAIL");
	assert_string_equal(jstring(root, "reason"), "2 tests failed");
	assert_int_equal(jint(root, "exit_code"), 1);

	env = json_object_get(root, "environment");
	assert_int_equal(json_object_size(env), 2);
	assert_string_equal(jstring(env, "qemu"), "9.0.0");
	assert_string_equal(jstring(env, "note"), "a" NASTY "b");

	/* metrics: counts as JSON integers, others as reals */
	assert_int_equal(json_object_size(json_object_get(root, "metrics")), 2);
	assert_true(json_is_integer(json_object_get(json_object_get(root, "metrics"),
						    "rpmb-writes")));
	assert_int_equal(jint(json_object_get(root, "metrics"), "rpmb-writes"), 297);
	assert_true(json_real_value(json_object_get(json_object_get(root, "metrics"),
						    "rate")) == 2.5);

	sum = json_object_get(root, "summary");
	assert_int_equal(jint(sum, "total"), 8);
	assert_int_equal(jint(sum, "passed"), 1);
	assert_int_equal(jint(sum, "failed"), 1);
	assert_int_equal(jint(sum, "xfail"), 1);
	assert_int_equal(jint(sum, "xpass"), 1);
	assert_int_equal(jint(sum, "skipped"), 1);
	assert_int_equal(jint(sum, "timeout"), 1);
	assert_int_equal(jint(sum, "error"), 1);
	assert_int_equal(jint(sum, "notrun"), 1);

	tests = json_object_get(root, "tests");
	assert_int_equal(json_array_size(tests), 8);
	t = json_array_get(tests, 0);
	assert_string_equal(jstring(t, "group"), "steps");
	assert_string_equal(jstring(t, "name"), "boot");
	assert_string_equal(jstring(t, "verdict"), "PASS");
	assert_true(json_real_value(json_object_get(t, "duration")) == 3.25);
	assert_true(json_is_null(json_object_get(t, "message")));
	/* JSON keeps output as it was (escapes and \r included) */
	assert_string_equal(jstring(t, "output"), "login: \x1b[32mok\x1b[0m\r\n");
	t = json_array_get(tests, 1);
	assert_string_equal(jstring(t, "verdict"), "FAIL");
	assert_string_equal(jstring(t, "message"), "bad " NASTY " value\x1b[0m\r");
	/* ... but invalid UTF-8 becomes U+FFFD */
	assert_string_equal(jstring(t, "output"),
			    "line1\r\nfail \x01 here\n\xef\xbf\xbd end\x1b(B"
			    "\xc2\x85\n");
	t = json_array_get(tests, 2);
	assert_string_equal(jstring(t, "verdict"), "XFAIL");
	assert_null(json_object_get(t, "output"));
	assert_string_equal(jstring(json_array_get(tests, 3), "verdict"), "XPASS");
	assert_string_equal(jstring(json_array_get(tests, 7), "verdict"), "NOTRUN");

	/* pretty printed with two-space indentation */
	text = tu_slurp(f->dir, "result.json");
	assert_true(starts_with(text, "{\n  \"scenario\": "));
	json_decref(root);
	free(text);
	free(path);
}

/* testcase @name of the one testsuite, then @rest: an XPath expression */
#define TC(name, rest) "/testsuites/testsuite/testcase[@name='" name "']" rest

static void test_junit(void **state)
{
	struct fixture *f = *state;
	xmlDocPtr doc = NULL;
	char *x = NULL;

	assert_int_equal(results_write_junit(&f->r, "/nonexistent/dir/junit.xml") < 0,
			 true);
	assert_int_equal(results_write_all(&f->r, f->dir), 0);
	x = tu_slurp(f->dir, "junit.xml");
	assert_true(starts_with(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				"<testsuites"));
	doc = tu_xml_read(f->dir, "junit.xml");

	assert_xpath_attrs(doc, "/testsuites",
			   "name=teelab tests=8 failures=3 errors=1 skipped=2 time=12.500");
	assert_xpath(doc, "/testsuites/testsuite/@name", "smoke " NASTY);
	assert_xpath_attrs(doc, "/testsuites/testsuite", "tests=8 failures=3 errors=1 "
			   "skipped=2 time=12.500 timestamp=2024-05-01T10:00:00");
	assert_int_equal(xpath_number(doc, "count(//testcase)"), 8);
	assert_int_equal(xpath_number(doc, "count(//testcase/failure)"), 3);
	assert_int_equal(xpath_number(doc, "count(//testcase/error)"), 1);
	assert_int_equal(xpath_number(doc, "count(//testcase/skipped)"), 2);
	assert_xpath(doc, "//property[@name='teelab.run_id']/@value", "20240501-100000-smoke");
	assert_xpath(doc, "//property[@name='teelab.verdict']/@value", "FAIL");
	assert_xpath(doc, "//property[@name='teelab.reason']/@value", "2 tests failed");
	assert_xpath(doc, "//property[@name='teelab.exit_code']/@value", "1");
	assert_xpath(doc, "//property[@name='teelab.metric.rpmb-writes']/@value", "297");
	assert_xpath(doc, "//property[@name='teelab.metric.rate']/@value", "2.5");
	assert_xpath(doc, "//property[@name='qemu']/@value", "9.0.0");
	assert_xpath(doc, "//property[@name='note']/@value", "a" NASTY "b");
	assert_int_equal(xpath_number(doc, "count(//property)"), 8);

	assert_xpath(doc, TC("boot", "/@classname"), "steps");
	assert_xpath(doc, TC("boot", "/@time"), "3.250");
	assert_xpath(doc, TC("boot", "/system-out"), "login: ok\n");
	assert_int_equal(xpath_number(doc, "count(" TC("boot", "/*") ")"), 1);
	/* ANSI escapes and '\r' dropped from message and output */
	assert_xpath(doc, TC("regression_1004", "/failure/@message"), "bad " NASTY " value");
	assert_xpath(doc, TC("regression_1004", "/failure/@type"), "FAIL");
	assert_xpath(doc, TC("regression_1004", "/failure"), "bad " NASTY " value");
	assert_xpath(doc, TC("regression_1004", "/@classname"), "xtest.regression");
	/* ESC ( B dropped; \x01, a stray byte and U+0085 (a YAML line break) replaced */
	assert_xpath(doc, TC("regression_1004", "/system-out"),
		     "line1\nfail \xef\xbf\xbd here\n\xef\xbf\xbd end\xef\xbf\xbd\n");
	assert_xpath(doc, TC("flaky", "/failure/@message"), "passed but was expected to fail");
	assert_xpath(doc, TC("flaky", "/failure/@type"), "XPASS");
	assert_xpath(doc, TC("run xtest", "/failure/@type"), "TIMEOUT");
	assert_xpath(doc, TC("qemu", "/error/@message"), "qemu died");
	assert_xpath(doc, TC("qemu", "/error/@type"), "ERROR");
	assert_xpath(doc, TC("pkcs11_1001", "/skipped/@message"), "no token");
	assert_xpath(doc, TC("shutdown", "/skipped/@message"), "not run");
	assert_null(xpath_text(doc, TC("shutdown", "/skipped/@type")));
	/* XFAIL passes: no failure element, the reason in its output */
	assert_xpath(doc, TC("known-bug", "/system-out"), "expected failure: upstream issue #42\n");
	assert_int_equal(xpath_number(doc, "count(" TC("known-bug", "/*") ")"), 1);
	/* no raw control characters at all (newlines apart) */
	assert_no_controls(x);
	xmlFreeDoc(doc);
	free(x);
}

/*
 * Text no XML 1.0 document may hold, in every field: markup characters
 * and "]]>" escaped, forbidden characters (C0 controls, U+FFFE, a UTF-16
 * surrogate's bytes, stray bytes) replaced by U+FFFD; the file stays
 * well-formed and reads back as written.
 */
static void test_junit_hostile(void **state)
{
	static const char bad[] = "a&b<c>d]]>e\x01" "f\x0bg\x1fh\xef\xbf\xbei\xed\xa0\x80j\xffk\"'";
	static const char want[] = "a&b<c>d]]>e\xef\xbf\xbd" "f\xef\xbf\xbd" "g\xef\xbf\xbd"
				   "h\xef\xbf\xbd" "i\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				   "j\xef\xbf\xbd" "k\"'";
	struct fixture *f = *state;
	struct run_result r = RUN_RESULT_INIT;
	char *path = path_join(f->dir, "hostile.xml");
	char *xfail_out = NULL;
	xmlDocPtr doc = NULL;

	r.scenario = xstrdup(bad);
	r.run_id = xstrdup(bad);
	r.reason = xstrdup(bad);
	run_result_env(&r, bad, bad);
	run_result_add(&r, bad, bad, V_FAIL, 1, bad, bad);
	run_result_add(&r, bad, "xfail", V_XFAIL, 1, bad, NULL);
	assert_int_equal(results_write_junit(&r, path), 0);
	doc = tu_xml_read(f->dir, "hostile.xml");
	assert_xpath(doc, "/testsuites/testsuite/@name", want);
	assert_xpath(doc, "//property[@name='teelab.run_id']/@value", want);
	assert_xpath(doc, "//property[@name='teelab.reason']/@value", want);
	assert_xpath(doc, "//property[5]/@name", want);
	assert_xpath(doc, "//property[5]/@value", want);
	assert_xpath(doc, "//testcase[1]/@classname", want);
	assert_xpath(doc, "//testcase[1]/@name", want);
	assert_xpath(doc, "//testcase[1]/failure/@message", want);
	assert_xpath(doc, "//testcase[1]/failure", want);
	assert_xpath(doc, "//testcase[1]/system-out", want);
	xfail_out = xasprintf("expected failure: %s\n", want);
	assert_xpath(doc, "//testcase[2]/system-out", xfail_out);
	free(xfail_out);
	xmlFreeDoc(doc);
	run_result_release(&r);
	free(path);
}

static void test_junit_truncates(void **state)
{
	struct fixture *f = *state;
	struct run_result r = RUN_RESULT_INIT;
	struct strbuf big = STRBUF_INIT;
	char *path = path_join(f->dir, "big.xml");
	char *x = NULL;
	size_t len = 0;

	strbuf_addstr(&big, "START\n");
	for (int i = 0; i < 100 * 1024 / 16; i++)
		strbuf_addstr(&big, "0123456789abcde\n");
	strbuf_addstr(&big, "END\n");
	run_result_add(&r, NULL, "big", V_FAIL, 0, NULL, big.buf);
	assert_int_equal(results_write_junit(&r, path), 0);
	assert_int_equal(read_file(path, &x, &len), 0);
	assert_true(len < 70 * 1024);
	assert_true(len > 64 * 1024);
	assert_null(strstr(x, "START"));
	assert_non_null(strstr(x, "END\n</system-out>"));
	assert_non_null(strstr(x, " bytes truncated ...]"));
	/* defaults: classname and message */
	assert_non_null(strstr(x, "<testcase classname=\"teelab\" name=\"big\""));
	assert_non_null(strstr(x, "<failure message=\"failed\" type=\"FAIL\">"));
	/* the whole run, no scenario */
	assert_non_null(strstr(x, "<testsuite name=\"teelab\" tests=\"1\" "
			       "failures=\"1\" errors=\"0\" skipped=\"0\""));
	free(x);
	free(path);
	strbuf_release(&big);
	run_result_release(&r);
}

static void test_tap(void **state)
{
	struct fixture *f = *state;
	char *t = NULL;

	assert_int_equal(results_write_all(&f->r, f->dir), 0);
	t = tu_slurp(f->dir, "results.tap");
	assert_true(starts_with(t, "TAP version 13\n1..8\n"
				"ok 1 - steps/boot\n"
				"not ok 2 - xtest.regression/regression_1004\n"
				"  ---\n"
				"  message: \"bad <&\\\"'> value\"\n"
				"  verdict: FAIL\n"
				"  duration: 1.500\n"
				"  output: |2-\n"
				"    line1\n"
				"    fail \xef\xbf\xbd here\n"
				"    \xef\xbf\xbd end\xef\xbf\xbd\n"
				"  ...\n"
				"ok 3 - steps/known-bug # TODO upstream issue \\#42\n"
				"not ok 4 - steps/flaky # XPASS: was expected to fail\n"
				"  ---\n"
				"  message: \"passed but was expected to fail\"\n"
				"  verdict: XPASS\n"));
	assert_non_null(strstr(t, "\nok 5 - xtest.pkcs11/pkcs11_1001 # SKIP no token\n"));
	assert_non_null(strstr(t, "\nnot ok 6 - steps/run xtest\n  ---\n"
			       "  message: \"timed out\"\n  verdict: TIMEOUT\n"
			       "  duration: 600.000\n  ...\n"));
	assert_non_null(strstr(t, "\nnot ok 7 - steps/qemu\n  ---\n"
			       "  message: \"qemu died\"\n  verdict: ERROR\n"));
	assert_non_null(strstr(t, "\nok 8 - steps/shutdown # SKIP not run\n"));
	assert_true(ends_with(t, "\n# smoke " NASTY ": FAIL (2 tests failed)\n"));
	assert_int_equal(tu_count(t, "\nok "), 4);
	assert_int_equal(tu_count(t, "\nnot ok "), 4);
	assert_null(strchr(t, '\r'));
	assert_null(strchr(t, '\x1b'));
	free(t);
}

static void test_empty_run(void **state)
{
	struct fixture *f = *state;
	struct run_result r = RUN_RESULT_INIT;
	char *t = NULL;
	json_t *root = NULL;
	json_error_t jerr = { 0 };
	char *sub = path_join(f->dir, "sub/dir");
	char *path = path_join(sub, "result.json");

	r.verdict = V_INTERRUPTED;
	r.exit_code = 130;
	/* creates the directory; NULL strings become null / defaults */
	assert_int_equal(results_write_all(&r, sub), 0);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_null(json_object_get(root, "scenario")));
	assert_true(json_is_null(json_object_get(root, "reason")));
	assert_string_equal(jstring(root, "verdict"), "INTERRUPTED");
	assert_int_equal(jint(root, "exit_code"), 130);
	assert_int_equal(json_array_size(json_object_get(root, "tests")), 0);
	assert_int_equal(json_object_size(json_object_get(root, "metrics")), 0);
	assert_int_equal(jint(json_object_get(root, "summary"), "total"), 0);
	json_decref(root);
	t = tu_slurp(sub, "results.tap");
	assert_string_equal(t, "TAP version 13\n1..0\n# run: INTERRUPTED\n");
	free(t);
	t = tu_slurp(sub, "junit.xml");
	assert_non_null(strstr(t, "tests=\"0\" failures=\"0\" errors=\"0\" "
			       "skipped=\"0\""));
	free(t);
	run_result_release(&r);
	assert_null(r.tests);
	free(path);
	free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junit_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junit_truncates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
