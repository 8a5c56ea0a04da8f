// SPDX-License-Identifier: MIT
/* Unit tests for hostpkgs.c: configs/host-packages.txt and its suite lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostpkgs.h"
#include "util.h"

static int read_list(void **state, const char *text, const char *suite, struct strvec *out,
		     char **err)
{
	char *path = tpath(state, "host-packages.txt");
	struct capture c = { -1, -1 };
	int ret;

	put_file(*state, "host-packages.txt", text);
	capture_begin(&c);
	ret = hostpkgs_read(path, suite, out);
	*err = capture_end(&c);
	free(path);
	return ret;
}

static void test_suite_lines(void **state)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"make\n"
		"libc6-dev-arm64-cross   # trailing comment\n"
		"only-bookworm [bookworm]\n"
		"both [bookworm trixie]\n"
		"not-bookworm [!bookworm]\n"
		"g++\n";
	struct strvec bw = STRVEC_INIT, tx = STRVEC_INIT;
	char *err = NULL;

	assert_int_equal(read_list(state, text, "bookworm", &bw, &err), 0);
	free(err);
	assert_int_equal(bw.nr, 5);
	assert_string_equal(bw.v[0], "make");
	assert_string_equal(bw.v[1], "libc6-dev-arm64-cross");
	assert_string_equal(bw.v[2], "only-bookworm");
	assert_string_equal(bw.v[3], "both");
	assert_string_equal(bw.v[4], "g++");
	assert_int_equal(read_list(state, text, "trixie", &tx, &err), 0);
	free(err);
	assert_int_equal(tx.nr, 5);
	assert_false(strvec_contains(&tx, "only-bookworm"));
	assert_true(strvec_contains(&tx, "both"));
	assert_true(strvec_contains(&tx, "not-bookworm"));
	strvec_release(&bw);
	strvec_release(&tx);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "make\nfoo [bookworm\n", "host-packages.txt:2: a suite qualifier" },
		{ "foo []\n", "host-packages.txt:1: empty suite qualifier" },
		{ "foo bar\n", "host-packages.txt:1: one package a line" },
		{ "Foo\n", "'Foo' is not a Debian package name" },
		{ "foo [bookworm !trixie]\n", "either suites or !suites" },
		{ "[bookworm]\n", "a suite qualifier without a package" },
		{ "foo [bookworm] bar\n", "at the end of the line" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct strvec out = STRVEC_INIT;
		char *err = NULL;

		assert_int_equal(read_list(state, bad[i].text, "bookworm", &out, &err), -EINVAL);
		assert_non_null(strstr(err, bad[i].message));
		free(err);
		strvec_release(&out);
	}
}

/* The project's own list: libc6-dev-arm64-cross on every suite (issue 13). */
static void test_project_list(void **state)
{
	char *path = xasprintf("%s/configs/host-packages.txt", test_srcdir());
	static const char *const suites[] = { "bookworm", "trixie" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++) {
		struct strvec out = STRVEC_INIT;

		assert_int_equal(hostpkgs_read(path, suites[i], &out), 0);
		assert_true(strvec_contains(&out, "libc6-dev-arm64-cross"));
		assert_true(strvec_contains(&out, "gcc-aarch64-linux-gnu"));
		assert_true(strvec_contains(&out, "qemu-system-arm"));
		strvec_release(&out);
	}
	free(path);
}

/* dpkg knows no package by this name: it is reported missing. */
static void test_missing(void **state)
{
	struct strvec pkgs = STRVEC_INIT, missing = STRVEC_INIT;

	(void)state;
	strvec_pushl(&pkgs, "dpkg", "teelab-no-such-package", NULL);
	assert_int_equal(hostpkgs_missing(&pkgs, &missing), 0);
	assert_int_equal(missing.nr, 1);
	assert_string_equal(missing.v[0], "teelab-no-such-package");
	strvec_release(&pkgs);
	strvec_release(&missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_suite_lines, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_malformed, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_project_list),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
