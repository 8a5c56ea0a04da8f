// SPDX-License-Identifier: MIT
/* Unit tests for matrix.c: loading and expanding matrix files, the cells' start order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "util.h"

/* Load @text as a matrix against the project's own scenarios. */
static int load(void **state, const char *text, struct matrix *m, char **err)
{
	char *path = tpath(state, "m.yaml");
	struct capture c = { -1, -1 };
	int ret;

	put_file(*state, "m.yaml", text);
	capture_begin(&c);
	ret = matrix_load(path, test_srcdir(), m);
	*err = capture_end(&c);
	free(path);
	return ret;
}

static const struct matrix_cell *cell(const struct matrix *m, const char *id)
{
	for (size_t i = 0; i < m->nr_cells; i++)
		if (!strcmp(m->cells[i].id, id))
			return &m->cells[i];
	return NULL;
}

static void test_expand(void **state)
{
	struct matrix m = MATRIX_INIT;
	char *err = NULL;

	assert_int_equal(load(state,
			      "kernels: [debian-6.12, debian-6.1]\n"
			      "secure: [debian-optee]\n"
			      "scenarios:\n"
			      "  - xtest-smoke\n"
			      "  - { scenario: reboot-after-xtest, kernels: [debian-6.12] }\n"
			      "  - { scenario: kexec-shm, cells: all }\n"
			      "  - { scenario: system-invocation, cells: [6.12-t1-c2] }\n"
			      "exclude:\n"
			      "  - { scenario: xtest-smoke, kernel: debian-6.1 }\n"
			      "expect:\n"
			      "  - { scenario: kexec-shm, cell: 6.12-6.1, verdict: FAIL }\n",
			      &m, &err), 0);
	assert_string_equal(m.name, "m");
	assert_int_equal(m.nr_cells, 5);
	assert_non_null(cell(&m, "xtest-smoke.debian-6.12.debian-optee"));
	assert_null(cell(&m, "xtest-smoke.debian-6.1.debian-optee"));	/* excluded */
	assert_non_null(cell(&m, "reboot-after-xtest.debian-6.12.debian-optee"));
	assert_non_null(cell(&m, "kexec-shm.debian-6.12"));
	assert_null(cell(&m, "kexec-shm.debian-6.12")->kernel);	/* a cell keeps its own */
	assert_null(cell(&m, "kexec-shm.debian-6.12")->expect);	/* the scenario's */
	assert_string_equal(cell(&m, "kexec-shm.6.12-6.1")->expect, "FAIL");
	assert_string_equal(cell(&m, "system-invocation.6.12-t1-c2")->cell, "6.12-t1-c2");
	matrix_release(&m);
	free(err);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "scenarios: []\n", "m.yaml:1:12: 'scenarios' must be a non-empty list" },
		{ "scenarios: [nosuch]\n", "m.yaml:1:13: no scenario 'nosuch'" },
		{ "scenarios: [{scenario: kexec-shm, cells: [zz]}]\n",
		  "m.yaml:1:43: scenario 'kexec-shm' has no cell 'zz'" },
		{ "scenarios: [{scenario: kexec-shm, cells: all, kernels: [a]}]\n",
		  "no 'kernels'/'secure' with 'cells'" },
		{ "scenarios: [xtest-smoke]\nexpect: [{scenario: xtest-smoke}]\n",
		  "m.yaml:2:10: an 'expect' entry needs 'verdict'" },
		{ "scenarios: [xtest-smoke]\nexpect: [{scenario: xtest-smoke, verdict: MAYBE}]\n",
		  "unknown verdict 'MAYBE'" },
		{ "scenarios: [xtest-smoke]\nexclude: [{scenario: xtest-smoke}]\n",
		  "every cell is excluded" },
		{ "scenarios: [xtest-smoke, xtest-smoke]\n", "cell 'xtest-smoke' comes twice" },
		{ "scenarios: [xtest-smoke]\nkernals: [x]\n", "m.yaml:2:1: unknown key 'kernals'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct matrix m = MATRIX_INIT;
		char *err = NULL;

		assert_int_equal(load(state, cases[i].text, &m, &err), -EINVAL);
		if (!strstr(err, cases[i].want)) {
			print_error("case %zu: wanted '%s' in: %s", i, cases[i].want, err);
			fail();
		}
		assert_int_equal(m.nr_cells, 0);
		free(err);
	}
}

/* Longest first by the last wall times; cells never timed before them; ties and unknowns keep the file's order */
static void test_dispatch_order(void **state)
{
	const char *ids[] = { "a", "b", "c", "d", "e", "f" };
	json_t *t = json_pack("{s:f, s:f, s:f, s:s, s:f}", "a", 2.5, "b", 50.2, "d", 7.0,
			      "e", "not a number", "f", 7.0);
	size_t order[6], want[] = { 2, 4, 1, 3, 5, 0 }, plain[] = { 0, 1, 2, 3, 4, 5 };

	(void)state;
	matrix_dispatch_order(ids, 6, t, order);
	assert_memory_equal(order, want, sizeof(want));
	/* no times at all (a first run): the file's order */
	matrix_dispatch_order(ids, 6, NULL, order);
	assert_memory_equal(order, plain, sizeof(plain));
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dispatch_order),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
