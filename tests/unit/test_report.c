// SPDX-License-Identifier: MIT
/* test_report.c - unit tests for the nightly report of a matrix run */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"
#include "results.h"
#include "testutil.h"
#include "util.h"

#define SMOKE "xtest-smoke.debian-6.12.debian-optee"
#define SMOKE_RUN "cells/" SMOKE "/20261121-132001-xtest-smoke"
#define KEXEC "kexec-shm.debian-6.12"
#define KEXEC_RUN "cells/" KEXEC "/20261121-132015-kexec-shm"
#define INFRA "system-invocation.6.12-t1-c2"
#define GONE "old-scenario.debian-6.1"

/* put_file() that first creates the file's directory. */
static void put(const char *dir, const char *rel, const char *text)
{
	char *path = path_join(dir, rel);
	char *parent = xstrdup(path);

	assert_int_equal(mkdir_p(dirname(parent), 0755), 0);
	assert_int_equal(write_file_str(path, text), 0);
	free(parent);
	free(path);
}


/* The text from @start up to (not including) the next @end in @x (a copy). */
static char *between(const char *x, const char *start, const char *end)
{
	const char *s = strstr(x, start);
	const char *e = s ? strstr(s, end) : NULL;

	if (!e)
		fail_msg("no '%s' ... '%s'", start, end);
	return xstrndup(s, (size_t)(e - s));
}

static const char matrix_json[] =
	"{\n"
	"  \"name\": \"nightly\",\n"
	"  \"file\": \"configs/matrix/nightly.yaml\",\n"
	"  \"started\": \"2026-11-21T13:20:00Z\",\n"
	"  \"duration\": 312.4,\n"
	"  \"jobs\": 2, \"shard\": \"1/1\",\n"
	"  \"cells\": [\n"
	"    { \"id\": \"" SMOKE "\", \"scenario\": \"xtest-smoke\", \"cell\": null,\n"
	"      \"kernel\": \"debian-6.12\", \"secure\": \"debian-optee\",\n"
	"      \"expected\": \"PASS\", \"exit_code\": 0, \"verdict\": \"PASS\",\n"
	"      \"observed\": \"PASS\", \"met\": true, \"wall\": 12.3,\n"
	"      \"run_dir\": \"" SMOKE_RUN "\", \"reason\": null },\n"
	"    { \"id\": \"" KEXEC "\", \"scenario\": \"kexec-shm\", \"cell\": \"debian-6.12\",\n"
	"      \"kernel\": \"debian-6.12\", \"secure\": \"debian-optee\",\n"
	"      \"expected\": \"PASS\", \"exit_code\": 1, \"verdict\": \"FAIL\",\n"
	"      \"observed\": \"FAIL\", \"met\": false, \"wall\": 52.1,\n"
	"      \"run_dir\": \"" KEXEC_RUN "\",\n"
	"      \"reason\": \"regression_1004 <&> failed\",\n"
	"      \"host\": \"qemu+ssh://lab&co@[fd00::1]/system\" },\n"
	"    { \"id\": \"" INFRA "\", \"scenario\": \"system-invocation\",\n"
	"      \"cell\": \"6.12-t1-c2\", \"kernel\": null, \"secure\": null,\n"
	"      \"expected\": \"DEADLOCK\", \"exit_code\": 4, \"verdict\": \"INFRA\",\n"
	"      \"observed\": \"INFRA\", \"met\": false, \"wall\": 0.4,\n"
	"      \"run_dir\": null, \"reason\": \"qemu-system-aarch64 not found\" }\n"
	"  ]\n"
	"}\n";

static const char smoke_result[] =
	"{ \"scenario\": \"xtest-smoke\", \"started\": \"2026-11-21T13:20:01Z\",\n"
	"  \"verdict\": \"PASS\", \"reason\": null, \"expected\": \"PASS\",\n"
	"  \"observed\": \"PASS\", \"exit_code\": 0, \"duration\": 12.1,\n"
	"  \"environment\": {}, \"metrics\": {}, \"boots\": [],\n"
	"  \"summary\": { \"total\": 2, \"passed\": 1, \"failed\": 0, \"skipped\": 1 },\n"
	"  \"tests\": [\n"
	"    { \"group\": \"steps\", \"name\": \"boot\", \"verdict\": \"PASS\",\n"
	"      \"duration\": 3.25, \"message\": null },\n"
	"    { \"group\": \"xtest.pkcs11\", \"name\": \"pkcs11_1001\", \"verdict\": \"SKIP\",\n"
	"      \"duration\": 0, \"message\": \"no token\" } ] }\n";

static const char kexec_result[] =
	"{ \"scenario\": \"kexec-shm\", \"verdict\": \"FAIL\", \"expected\": \"PASS\",\n"
	"  \"observed\": \"FAIL\", \"exit_code\": 1, \"duration\": 52.0,\n"
	"  \"summary\": { \"total\": 2, \"passed\": 1, \"failed\": 1 },\n"
	"  \"tests\": [\n"
	"    { \"group\": \"steps\", \"name\": \"boot\", \"verdict\": \"PASS\",\n"
	"      \"duration\": 4.5, \"message\": null },\n"
	"    { \"group\": \"xtest.regression\", \"name\": \"regression_1004\",\n"
	"      \"verdict\": \"FAIL\", \"duration\": 1.5, \"message\": \"bad <value>\",\n"
	"      \"output\": \"o \\u001b[31mred\\u001b[0m\\r\\n\" } ] }\n";

/* The previous night: SMOKE failed, KEXEC passed, INFRA failed, GONE ran. */
static const char prev_json[] =
	"{ \"name\": \"nightly\", \"started\": \"2026-11-20T13:20:00Z\", \"cells\": [\n"
	"  { \"id\": \"" GONE "\", \"met\": true, \"observed\": \"PASS\" },\n"
	"  { \"id\": \"" KEXEC "\", \"met\": true, \"observed\": \"PASS\" },\n"
	"  { \"id\": \"" SMOKE "\", \"met\": false, \"observed\": \"HANG\" },\n"
	"  { \"id\": \"" INFRA "\", \"met\": false, \"observed\": \"INFRA\" } ] }\n";

/* <tmp>/out: the matrix run; <tmp>/prev: the previous report. */
static void make_fixture(void **state)
{
	char *out = tpath(state, "out");
	char *prev = tpath(state, "prev");

	put(out, "matrix.json", matrix_json);
	put(out, SMOKE_RUN "/result.json", smoke_result);
	put(out, SMOKE_RUN "/nw-console.log", "[0.1] Booting Linux\n");
	put(out, SMOKE_RUN "/sw-console.log", "[0.0] OP-TEE\n");
	put(out, SMOKE_RUN "/teelab.log", "[0.0] run\n");
	put(out, SMOKE_RUN "/evidence/summary.txt", "nothing stuck\n");
	put(out, KEXEC_RUN "/result.json", kexec_result);
	put(out, KEXEC_RUN "/nw-console.log", "[0.1] Booting Linux\n");
	put(prev, "matrix.json", prev_json);
	free(out);
	free(prev);
}

/* testsuite @cell, then @rest: an XPath expression */
#define SUITE(cell, rest) "/testsuites/testsuite[@name='" cell "']" rest
#define PROP(cell, name) SUITE(cell, "/properties/property[@name='" name "']/@value")

static void test_junit(void **state)
{
	char *out = tpath(state, "out");
	xmlDocPtr doc = NULL;
	char *x = NULL;

	make_fixture(state);
	assert_int_equal(report_write(out, NULL), 0);
	x = tu_slurp(out, "junit.xml");
	assert_true(starts_with(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
	doc = tu_xml_read(out, "junit.xml");

	assert_xpath_attrs(doc, "/testsuites",
			   "name=nightly tests=7 failures=3 errors=0 skipped=1 time=312.400");
	assert_int_equal(xpath_number(doc, "count(/testsuites/testsuite)"), 3);
	assert_int_equal(xpath_number(doc, "count(//testcase)"), 7);
	assert_int_equal(xpath_number(doc, "count(//testcase/failure)"), 3);

	/* the passing cell: its two tests (results.c's testcases) and the cell verdict */
	assert_xpath_attrs(doc, SUITE(SMOKE, ""), "tests=3 failures=0 errors=0 skipped=1 "
			   "time=12.300 timestamp=2026-11-21T13:20:01");
	assert_xpath_attrs(doc, SUITE(SMOKE, "/testcase[1]"),
			   "classname=" SMOKE ".steps name=boot time=3.250");
	assert_int_equal(xpath_number(doc, "count(" SUITE(SMOKE, "/testcase[1]/*") ")"), 0);
	assert_xpath(doc, SUITE(SMOKE, "/testcase[2]/@classname"), SMOKE ".xtest.pkcs11");
	assert_xpath(doc, SUITE(SMOKE, "/testcase[2]/@time"), "0.000");
	assert_xpath(doc, SUITE(SMOKE, "/testcase[2]/skipped/@message"), "no token");
	assert_xpath(doc, SUITE(SMOKE, "/testcase[3]/@classname"), SMOKE);
	assert_xpath(doc, SUITE(SMOKE, "/testcase[3]/@name"), "cell verdict");
	assert_xpath(doc, SUITE(SMOKE, "/testcase[3]/@time"), "12.300");
	assert_int_equal(xpath_number(doc, "count(" SUITE(SMOKE, "//failure") ")"), 0);
	assert_xpath(doc, PROP(SMOKE, "teelab.scenario"), "xtest-smoke");
	assert_xpath(doc, PROP(SMOKE, "teelab.met"), "true");
	assert_null(xpath_text(doc, PROP(SMOKE, "teelab.cell")));
	assert_null(xpath_text(doc, PROP(SMOKE, "teelab.reason")));

	/* the failing cell: the failed test and the cell verdict fail */
	assert_xpath_attrs(doc, SUITE(KEXEC, ""), "tests=3 failures=2 errors=0 skipped=0");
	assert_xpath_attrs(doc, SUITE(KEXEC, "/testcase[2]"),
			   "classname=" KEXEC ".xtest.regression name=regression_1004 time=1.500");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[2]/failure/@message"), "bad <value>");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[2]/failure/@type"), "FAIL");
	/* output cleaned as results.c does: no ESC, no CR */
	assert_xpath(doc, SUITE(KEXEC, "/testcase[2]/system-out"), "o red\n");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[3]/@name"), "cell verdict");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[3]/@time"), "52.100");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[3]/failure/@message"),
		     "expected PASS, got FAIL: regression_1004 <&> failed");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[3]/failure"),
		     "expected PASS, got FAIL: regression_1004 <&> failed");
	assert_xpath(doc, SUITE(KEXEC, "/testcase[3]/failure/@type"), "FAIL");
	assert_xpath(doc, PROP(KEXEC, "teelab.run_dir"), KEXEC_RUN);
	assert_xpath(doc, PROP(KEXEC, "teelab.cell"), "debian-6.12");
	assert_xpath(doc, PROP(KEXEC, "teelab.met"), "false");
	assert_xpath(doc, PROP(KEXEC, "teelab.exit_code"), "1");
	assert_xpath(doc, PROP(KEXEC, "teelab.reason"), "regression_1004 <&> failed");
	assert_xpath(doc, PROP(KEXEC, "teelab.host"), "qemu+ssh://lab&co@[fd00::1]/system");
	assert_null(xpath_text(doc, PROP(SMOKE, "teelab.host")));

	/* no run directory: only the cell verdict */
	assert_xpath_attrs(doc, SUITE(INFRA, ""), "tests=1 failures=1 time=0.400");
	assert_null(xpath_text(doc, SUITE(INFRA, "/@timestamp")));
	assert_int_equal(xpath_number(doc, "count(" SUITE(INFRA, "/testcase") ")"), 1);
	assert_xpath(doc, SUITE(INFRA, "/testcase/failure/@message"),
		     "expected DEADLOCK, got INFRA: qemu-system-aarch64 not found");
	assert_xpath(doc, SUITE(INFRA, "/testcase/failure/@type"), "INFRA");
	assert_xpath(doc, PROP(INFRA, "teelab.kernel"), "default");
	assert_xpath(doc, PROP(INFRA, "teelab.secure"), "default");
	assert_null(xpath_text(doc, PROP(INFRA, "teelab.run_dir")));

	assert_no_controls(x);
	xmlFreeDoc(doc);
	free(x);
	free(out);
}

static void test_tap(void **state)
{
	char *out = tpath(state, "out");
	char *t = NULL;

	make_fixture(state);
	assert_int_equal(report_write(out, NULL), 0);
	t = tu_slurp(out, "results.tap");
	assert_string_equal(t,
		"TAP version 13\n"
		"1..3\n"
		"ok 1 - " SMOKE " PASS (12.3 s)\n"
		"not ok 2 - " KEXEC " FAIL (52.1 s)\n"
		"  ---\n"
		"  expected: \"PASS\"\n"
		"  observed: \"FAIL\"\n"
		"  verdict: \"FAIL\"\n"
		"  exit_code: 1\n"
		"  reason: \"regression_1004 <&> failed\"\n"
		"  run_dir: \"" KEXEC_RUN "\"\n"
		"  ...\n"
		"not ok 3 - " INFRA " INFRA, expected DEADLOCK (0.4 s)\n"
		"  ---\n"
		"  expected: \"DEADLOCK\"\n"
		"  observed: \"INFRA\"\n"
		"  verdict: \"INFRA\"\n"
		"  exit_code: 4\n"
		"  reason: \"qemu-system-aarch64 not found\"\n"
		"  run_dir: null\n"
		"  ...\n"
		"# nightly: 1/3 cells met\n");
	assert_int_equal(tu_count(t, "not ok "), 2);
	free(t);
	free(out);
}

/* The array @key of @o as "a,b,c". */
static char *ids(json_t *o, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *a = json_object_get(o, key), *v = NULL;
	size_t i = 0;

	assert_true(json_is_array(a));
	json_array_foreach(a, i, v) {
		assert_true(json_is_string(v));
		if (i)
			strbuf_addch(&sb, ',');
		strbuf_addstr(&sb, json_string_value(v));
	}
	return strbuf_detach(&sb);
}

static void assert_ids(json_t *o, const char *key, const char *want)
{
	char *got = ids(o, key);

	assert_string_equal(got, want);
	free(got);
}

static void test_json(void **state)
{
	char *out = tpath(state, "out");
	char *prev = tpath(state, "prev");
	char *path = path_join(out, "result.json");
	json_error_t jerr = { 0 };
	json_t *root = NULL, *cells = NULL, *c = NULL, *cmp = NULL, *totals = NULL;

	make_fixture(state);
	assert_int_equal(report_write(out, prev), 0);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("result.json: %s (line %d)", jerr.text, jerr.line);
	assert_string_equal(json_string_value(json_object_get(root, "name")), "nightly");
	assert_string_equal(json_string_value(json_object_get(root, "started")),
			    "2026-11-21T13:20:00Z");
	assert_true(json_real_value(json_object_get(root, "duration")) == 312.4);
	assert_int_equal(json_integer_value(json_object_get(root, "jobs")), 2);
	assert_string_equal(json_string_value(json_object_get(root, "shard")), "1/1");

	cells = json_object_get(root, "cells");
	assert_int_equal(json_array_size(cells), 3);
	c = json_array_get(cells, 0);
	assert_string_equal(json_string_value(json_object_get(c, "id")), SMOKE);
	assert_string_equal(json_string_value(json_object_get(c, "run_dir")), SMOKE_RUN);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "summary"),
							    "total")), 2);
	c = json_array_get(cells, 1);
	assert_true(json_is_false(json_object_get(c, "met")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "summary"),
							    "failed")), 1);
	c = json_array_get(cells, 2);
	assert_true(json_is_null(json_object_get(c, "run_dir")));
	assert_true(json_is_null(json_object_get(c, "summary")));

	totals = json_object_get(root, "totals");
	assert_int_equal(json_integer_value(json_object_get(totals, "cells")), 3);
	assert_int_equal(json_integer_value(json_object_get(totals, "met")), 1);
	assert_int_equal(json_integer_value(json_object_get(totals, "not_met")), 2);

	cmp = json_object_get(root, "compare");
	assert_true(json_is_object(cmp));
	assert_string_equal(json_string_value(json_object_get(cmp, "against")), prev);
	assert_ids(cmp, "new_failures", KEXEC);
	assert_ids(cmp, "fixed", SMOKE);
	assert_ids(cmp, "still_failing", INFRA);
	assert_ids(cmp, "new_cells", "");
	assert_ids(cmp, "gone", GONE);
	json_decref(root);

	/* without a comparison: null */
	assert_int_equal(report_write(out, NULL), 0);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_null(json_object_get(root, "compare")));
	json_decref(root);
	free(path);
	free(prev);
	free(out);
}

static void test_html(void **state)
{
	char *out = tpath(state, "out");
	char *prev = tpath(state, "prev");
	char *h = NULL, *again = NULL, *changes = NULL;
	const char *table = NULL, *nf = NULL;

	make_fixture(state);
	assert_int_equal(report_write(out, prev), 0);
	h = tu_slurp(out, "index.html");

	assert_true(starts_with(h, "<!DOCTYPE html>\n"));
	assert_true(ends_with(h, "</html>\n"));
	assert_null(strcasestr(h, "<script"));
	assert_null(strcasestr(h, " onclick="));	/* no event handlers */
	assert_null(strcasestr(h, " onload="));
	assert_null(strstr(h, "http:"));
	assert_null(strstr(h, "https:"));
	assert_null(strstr(h, " src="));
	assert_null(strstr(h, "<link"));
	assert_non_null(strstr(h, "<title>teelab matrix nightly</title>"));
	assert_non_null(strstr(h, "2026-11-21T13:20:00Z, 312.4 s, 2 jobs, shard 1/1"));
	assert_non_null(strstr(h, "1/3 cells met"));

	/* changes: new failures first, before the matrix */
	table = strstr(h, "<table class=\"matrix\">");
	assert_non_null(table);
	nf = strstr(h, KEXEC);
	assert_non_null(nf);
	assert_true(nf < table);
	changes = between(h, "<h2>Changes since ", "</section>");
	assert_non_null(strstr(changes, prev));
	assert_true(strstr(changes, "New failures") < strstr(changes, "Fixed"));
	assert_true(strstr(changes, KEXEC) < strstr(changes, SMOKE));
	assert_true(strstr(changes, "Fixed") < strstr(changes, "Still failing"));
	assert_true(strstr(changes, "Still failing") < strstr(changes, "New cells"));
	assert_true(strstr(changes, "New cells") < strstr(changes, "Gone"));
	assert_true(strstr(changes, GONE) > strstr(changes, "Gone"));
	assert_true(strstr(changes, "New failures") > changes);
	free(changes);

	/* the matrix: links to the run's files, evidence only where it exists */
	assert_non_null(strstr(h, "<a href=\"" SMOKE_RUN "/evidence/summary.txt\">"));
	assert_non_null(strstr(h, "<a href=\"" SMOKE_RUN "/result.json\">"));
	assert_non_null(strstr(h, "<a href=\"" SMOKE_RUN "/nw-console.log\">"));
	assert_non_null(strstr(h, "<a href=\"" SMOKE_RUN "/sw-console.log\">"));
	assert_non_null(strstr(h, "<a href=\"" SMOKE_RUN "/teelab.log\">"));
	assert_non_null(strstr(h, "<a href=\"" KEXEC_RUN "/result.json\">"));
	assert_null(strstr(h, KEXEC_RUN "/evidence"));
	assert_null(strstr(h, KEXEC_RUN "/teelab.log"));
	/* rows and columns */
	assert_non_null(strstr(h, "<th>xtest-smoke</th>"));
	assert_non_null(strstr(h, "<th>kexec-shm / debian-6.12</th>"));
	assert_non_null(strstr(h, "<th>system-invocation / 6.12-t1-c2</th>"));
	assert_non_null(strstr(h, "<th>debian-6.12<br>debian-optee</th>"));
	assert_non_null(strstr(h, "<th>default<br>default</th>"));
	/* colours: not met outlined */
	assert_non_null(strstr(h, "<div class=\"c v-pass\" title=\"" SMOKE "\">"));
	assert_non_null(strstr(h, "<div class=\"c v-fail notmet\" title=\"" KEXEC "\">"));
	assert_non_null(strstr(h, "<div class=\"c v-infra notmet\" title=\"" INFRA "\">"));
	assert_non_null(strstr(h, "class=\"legend\""));
	/* the per-cell list, escaped */
	assert_non_null(strstr(h, "<tr id=\"cell-" KEXEC "\">"));
	assert_non_null(strstr(h, "regression_1004 &lt;&amp;&gt; failed"));
	assert_null(strstr(h, "<&>"));
	assert_true(strstr(h, "<table class=\"cells\">") > table);

	/* deterministic */
	assert_int_equal(report_write(out, prev), 0);
	again = tu_slurp(out, "index.html");
	assert_string_equal(h, again);
	free(again);
	free(h);

	/* no comparison: no changes section */
	assert_int_equal(report_write(out, NULL), 0);
	h = tu_slurp(out, "index.html");
	assert_null(strstr(h, "Changes since"));
	free(h);
	free(prev);
	free(out);
}

/* report_write() fails with @want and an error naming @file. */
static void assert_fails(const char *out, const char *cmp, int want, const char *file)
{
	struct capture c;
	char *err = NULL;
	int ret = 0;

	capture_begin(&c);
	ret = report_write(out, cmp);
	err = capture_end(&c);
	assert_int_equal(ret, want);
	if (!strstr(err, "teelab: error: ") || !strstr(err, file))
		fail_msg("error does not name '%s': %s", file, err);
	free(err);
}

static void test_errors(void **state)
{
	char *out = tpath(state, "out");
	char *prev = tpath(state, "prev");
	char *mj = path_join(out, "matrix.json");
	char *pj = path_join(prev, "matrix.json");
	char *index = path_join(out, "index.html");
	struct capture c;
	char *err = NULL;

	assert_int_equal(mkdir_p(out, 0755), 0);
	assert_fails(out, NULL, -ENOENT, mj);
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": ");
	assert_fails(out, NULL, -EINVAL, mj);
	put(out, "matrix.json", "[]");
	assert_fails(out, NULL, -EINVAL, mj);
	put(out, "matrix.json", "{ \"name\": \"x\" }");
	assert_fails(out, NULL, -EINVAL, mj);
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": \"a b\", \"met\": true } ] }");
	assert_fails(out, NULL, -EINVAL, mj);
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": \"a\", \"met\": true },"
	    " { \"id\": \"a\", \"met\": true } ] }");
	assert_fails(out, NULL, -EINVAL, mj);
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": \"a\", \"met\": \"yes\" } ] }");
	assert_fails(out, NULL, -EINVAL, mj);
	/* nothing was written */
	assert_false(file_exists(index));

	/* a good matrix, but the comparison's is missing or garbled */
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": \"a\", \"met\": true } ] }");
	assert_fails(out, prev, -ENOENT, pj);
	put(prev, "matrix.json", "not json");
	assert_fails(out, prev, -EINVAL, pj);

	/* a cell whose run directory lost its result.json: a warning, not an error */
	put(out, "matrix.json", "{ \"cells\": [ { \"id\": \"a\", \"met\": false,"
	    " \"observed\": \"HANG\", \"run_dir\": \"cells/a/run\" } ] }");
	capture_begin(&c);
	assert_int_equal(report_write(out, NULL), 0);
	err = capture_end(&c);
	assert_non_null(strstr(err, "teelab: warning: "));
	assert_non_null(strstr(err, "cells/a/run/result.json"));
	free(err);
	err = tu_slurp(out, "results.tap");
	assert_string_equal(err, "TAP version 13\n1..1\n"
			    "not ok 1 - a HANG (0.0 s)\n  ---\n"
			    "  expected: \"PASS\"\n  observed: \"HANG\"\n  verdict: null\n"
			    "  exit_code: 0\n  reason: null\n  run_dir: \"cells/a/run\"\n  ...\n"
			    "# matrix: 0/1 cells met\n");
	free(err);
	free(index);
	free(pj);
	free(mj);
	free(prev);
	free(out);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_junit),
		T(test_tap),
		T(test_json),
		T(test_html),
		T(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
