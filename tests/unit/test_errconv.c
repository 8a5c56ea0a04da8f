// SPDX-License-Identifier: MIT
/*
 * test_errconv.c - the error convention (README "Code conventions"):
 * error() returns -EIO, error_errno() -errno of the failing call,
 * error_code() its code, and library functions the codes their comments
 * name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hostpkgs.h"
#include "scenario.h"
#include "util.h"

/* ---- the reporting functions ---- */

static void test_error_is_eio(void **state UNUSED)
{
	struct capture c = { -1, -1 };
	char *err;
	int ret;

	capture_begin(&c);
	ret = error("cannot frob '%s'", "x");
	err = capture_end(&c);
	assert_int_equal(ret, -EIO);
	assert_string_equal(err, "teelab: error: cannot frob 'x'\n");
	free(err);
}

static void test_error_errno_passes_errno_on(void **state UNUSED)
{
	struct capture c = { -1, -1 };
	char *err, *want;
	int ret;

	errno = 0;
	assert_true(open("/nonexistent/teelab-errconv", O_RDONLY) < 0);
	capture_begin(&c);
	ret = error_errno("cannot open '%s'", "/nonexistent/teelab-errconv");
	err = capture_end(&c);
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(errno, ENOENT);	/* kept for the caller */
	want = xasprintf("teelab: error: cannot open '/nonexistent/teelab-errconv': %s\n",
			 strerror(ENOENT));
	assert_string_equal(err, want);
	free(want);
	free(err);

	/* no errno to pass on: still a failure */
	errno = 0;
	capture_begin(&c);
	ret = error_errno("no errno");
	free(capture_end(&c));
	assert_int_equal(ret, -EIO);
}

static void test_error_code_returns_its_code(void **state UNUSED)
{
	struct capture c = { -1, -1 };
	int ret[4];
	char *err;

	capture_begin(&c);
	ret[0] = error_code(-EINVAL, "bad %d", 1);
	ret[1] = error_code(-ENOENT, "gone");
	ret[2] = error_code(0, "zero");
	ret[3] = error_code(EINVAL, "positive");
	err = capture_end(&c);
	assert_int_equal(ret[0], -EINVAL);
	assert_int_equal(ret[1], -ENOENT);
	/* not a negative errno: a failure all the same */
	assert_int_equal(ret[2], -EIO);
	assert_int_equal(ret[3], -EIO);
	assert_non_null(strstr(err, "teelab: error: bad 1\n"));
	assert_int_equal(tu_count(err, "teelab: error: "), 4);
	free(err);
}

/* ---- util.c ---- */

static void test_files(void **state)
{
	struct capture c = { -1, -1 };
	char *missing = tpath(state, "missing"), *copy = tpath(state, "copy");
	char *log = tpath(state, "no-dir/teelab.log");
	char hex[SHA256_HEX_LEN + 1];
	char *data = NULL;
	int ret[4];

	assert_int_equal(read_file(missing, &data, NULL), -ENOENT);
	assert_null(data);
	/* each reports; assert once stderr is back */
	capture_begin(&c);
	ret[0] = copy_file(missing, copy);
	ret[1] = log_mirror_open(log);
	ret[2] = sha256_file(missing, hex);
	ret[3] = sha256_file(*(char **)state, hex);
	free(capture_end(&c));
	assert_int_equal(ret[0], -ENOENT);
	assert_int_equal(ret[1], -ENOENT);
	assert_int_equal(ret[2], -ENOENT);
	/* a directory opens but does not read */
	assert_int_equal(ret[3], -EISDIR);
	free(missing);
	free(copy);
	free(log);
}

/* ---- scenario.c ---- */

static void test_scenario_load(void **state)
{
	struct capture c = { -1, -1 };
	struct scenario sc;
	char *missing = tpath(state, "missing.yaml"), *bad = tpath(state, "bad.yaml");
	int ret[2];

	put_file(*(char **)state, "bad.yaml", "steps: 3\n");
	capture_begin(&c);
	ret[0] = scenario_load(missing, &sc);
	ret[1] = scenario_load(bad, &sc);
	free(capture_end(&c));
	assert_int_equal(ret[0], -ENOENT);
	assert_int_equal(ret[1], -EINVAL);
	free(missing);
	free(bad);
}

/* ---- hostpkgs.c ---- */

static void test_hostpkgs_read(void **state)
{
	struct capture c = { -1, -1 };
	struct strvec out = STRVEC_INIT;
	char *path = tpath(state, "host-packages.txt");

	int ret;

	put_file(*(char **)state, "host-packages.txt", "make\nfoo bar\n");
	capture_begin(&c);
	ret = hostpkgs_read(path, "trixie", &out);
	free(capture_end(&c));
	assert_int_equal(ret, -EINVAL);
	strvec_release(&out);
	free(path);
}

/* ---- config.c, on the project's own configs/ ---- */

static int load(const struct config_overrides *ov, char **err)
{
	struct capture c = { -1, -1 };
	struct lab_config cfg;
	int ret;

	setenv("TEELAB_DATADIR", test_srcdir(), 1);
	capture_begin(&c);
	ret = config_load(&cfg, ov);
	*err = capture_end(&c);
	if (!ret)
		config_release(&cfg);
	unsetenv("TEELAB_DATADIR");
	return ret;
}

static void test_config_load(void **state UNUSED)
{
	struct config_overrides ov = { 0 };
	char *err = NULL;

	/* config.h: a missing profile part is -ENOENT */
	ov.profile = "no-such-profile";
	assert_int_equal(load(&ov, &err), -ENOENT);
	assert_non_null(strstr(err, "profile 'no-such-profile' not found"));
	free(err);

	/* a malformed --optee-flag is bad input: -EINVAL */
	ov.profile = NULL;
	ov.optee_flags[ov.nr_optee_flags++] = "lower=1";
	assert_int_equal(load(&ov, &err), -EINVAL);
	assert_non_null(strstr(err, "OP-TEE flag 'lower=1' is not NAME=VALUE"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_is_eio),
		cmocka_unit_test(test_error_errno_passes_errno_on),
		cmocka_unit_test(test_error_code_returns_its_code),
		cmocka_unit_test_setup_teardown(test_files, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_scenario_load, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hostpkgs_read, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_config_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
