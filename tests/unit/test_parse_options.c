// SPDX-License-Identifier: MIT
/* test_parse_options.c - the option tables: spellings, errors, help, roff, names */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse_options.h"
#include "testutil.h"
#include "util.h"

static const char *o_profile, *o_cell;
static double o_timeout;
static int o_jobs;
static bool o_refresh;
static char o_flags[4][32];
static int o_nflags;

static int flag_cb(const struct popt *opt UNUSED, const char *arg)
{
	if (o_nflags == 4)
		return error("too many");
	snprintf(o_flags[o_nflags++], sizeof(o_flags[0]), "%s", arg);
	return 0;
}

static const struct popt shared[] = {
	OPT_GROUP("Shared options:"),
	OPT_STRING(0, "profile", &o_profile, "NAME", "a profile", "configs/profiles"),
	OPT_CALLBACK(0, "flag", NULL, "V=X", "repeatable", flag_cb),
	OPT_END(),
};

static const struct popt table[] = {
	OPT_GROUP("Test options:"),
	OPT_SECONDS("timeout", &o_timeout, "seconds\nsecond line"),
	OPT_POSINT('j', "jobs", &o_jobs, "N", "cells at once"),
	OPT_BOOL(0, "refresh", &o_refresh, "refresh"),
	{ .type = POPT_STRING, .long_name = "cell", .value = &o_cell, .argh = "NAME",
	  .help = "hidden", .flags = POPT_HIDDEN },
	OPT_INCLUDE(shared),
	OPT_END(),
};

static int reset(void **state UNUSED)
{
	o_profile = o_cell = NULL;
	o_timeout = 0;
	o_jobs = 0;
	o_refresh = false;
	o_nflags = 0;
	tl_verbose = 0;
	tl_quiet = false;
	return 0;
}

/* parse @... (NULL-terminated, after a "cmd" argv[0]); the result, the rest in @rest */
static int parse(unsigned flags, char **rest, char **errs, ...)
{
	char *argv[32] = { "cmd" };
	int argc = 1, n;
	struct capture c;
	va_list ap;

	va_start(ap, errs);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	capture_begin(&c);
	n = parse_options(argc, argv, table, flags);
	*errs = capture_end(&c);
	for (int i = 0; rest && i < (n > 0 ? n : 0); i++)
		rest[i] = argv[i];
	return n;
}

static void test_value_spellings(void **state UNUSED)
{
	char *rest[8], *err;

	assert_int_equal(parse(0, rest, &err, "--timeout=5", "--profile", "scmi", "x", NULL), 1);
	assert_true(o_timeout == 5.0);
	assert_string_equal(o_profile, "scmi");
	assert_string_equal(rest[0], "x");
	free(err);
	reset(NULL);
	assert_int_equal(parse(0, rest, &err, "--timeout", "2.5", "--profile=a=b", NULL), 0);
	assert_true(o_timeout == 2.5);
	assert_string_equal(o_profile, "a=b");	/* only the first '=' splits */
	free(err);
	reset(NULL);
	assert_int_equal(parse(0, rest, &err, "-j4", NULL), 0);
	assert_int_equal(o_jobs, 4);
	assert_int_equal(parse(0, rest, &err, "-j", "7", "--jobs=9", NULL), 0);
	assert_int_equal(o_jobs, 9);	/* the last wins */
	free(err);
	/* an empty value is a value */
	assert_int_equal(parse(0, rest, &err, "--profile=", NULL), 0);
	assert_string_equal(o_profile, "");
	free(err);
}

static void test_repeatable_and_included(void **state UNUSED)
{
	char *err;

	assert_int_equal(parse(0, NULL, &err, "--flag", "A=1", "--flag=B=2", "--refresh", NULL), 0);
	assert_int_equal(o_nflags, 2);
	assert_string_equal(o_flags[0], "A=1");
	assert_string_equal(o_flags[1], "B=2");
	assert_true(o_refresh);
	free(err);
	/* a hidden option still parses */
	assert_int_equal(parse(0, NULL, &err, "--cell=c1", NULL), 0);
	assert_string_equal(o_cell, "c1");
	free(err);
}

static void test_unknown_and_missing(void **state UNUSED)
{
	char *err;

	assert_int_equal(parse(0, NULL, &err, "x", "--bogus", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	free(err);
	assert_int_equal(parse(0, NULL, &err, "--bogus=1", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	free(err);
	assert_int_equal(parse(0, NULL, &err, "-x", NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown option '-x'"));
	free(err);
	/* no prefix matching: --time is not --timeout */
	assert_int_equal(parse(0, NULL, &err, "--time=3", NULL), -EINVAL);
	free(err);
	assert_int_equal(parse(0, NULL, &err, "--profile", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '--profile' needs a value"));
	free(err);
	assert_int_equal(parse(0, NULL, &err, "-j", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '-j' needs a value"));
	free(err);
	assert_int_equal(parse(0, NULL, &err, "--refresh=yes", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '--refresh' takes no value"));
	free(err);
}

static void test_bad_numbers(void **state UNUSED)
{
	const char *bad_seconds[] = { "5s", "0", "-1", "", "abc", "1e999", "nan", "5 " };
	const char *bad_ints[] = { "0", "-2", "4x", "", "1.5", "99999999999" };
	char *err, *arg;

	for (size_t i = 0; i < ARRAY_SIZE(bad_seconds); i++) {
		arg = xasprintf("--timeout=%s", bad_seconds[i]);
		assert_int_equal(parse(0, NULL, &err, arg, NULL), -EINVAL);
		assert_non_null(strstr(err, "needs a number of seconds > 0"));
		assert_true(o_timeout == 0);
		free(err);
		free(arg);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_ints); i++) {
		assert_int_equal(parse(0, NULL, &err, "-j", bad_ints[i], NULL), -EINVAL);
		assert_non_null(strstr(err, "option '-j' needs a whole number >= 1"));
		assert_int_equal(o_jobs, 0);
		free(err);
	}
	assert_int_equal(parse(0, NULL, &err, "--jobs=x", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '--jobs' needs a whole number"));
	free(err);
}

static void test_common_anywhere(void **state UNUSED)
{
	char *rest[8], *err;

	assert_int_equal(parse(0, rest, &err, "x", "-v", "--verbose", "-q", NULL), 1);
	assert_int_equal(tl_verbose, 2);
	assert_true(tl_quiet);
	free(err);
	reset(NULL);
	/* a cluster of flags, then one with its value attached */
	assert_int_equal(parse(0, rest, &err, "-vvj3", NULL), 0);
	assert_int_equal(tl_verbose, 2);
	assert_int_equal(o_jobs, 3);
	free(err);
	assert_int_equal(parse(0, rest, &err, "x", "-h", "--bogus", NULL), -ECANCELED);
	free(err);
	assert_int_equal(parse(0, rest, &err, "--help", NULL), -ECANCELED);
	free(err);
}

static void test_double_dash_and_order(void **state UNUSED)
{
	char *rest[8], *err;

	assert_int_equal(parse(0, rest, &err, "a", "--refresh", "b", "--", "--timeout=1", "-", NULL), 4);
	assert_string_equal(rest[0], "a");
	assert_string_equal(rest[1], "b");
	assert_string_equal(rest[2], "--timeout=1");
	assert_string_equal(rest[3], "-");
	assert_true(o_refresh);
	assert_true(o_timeout == 0);
	free(err);
	reset(NULL);
	/* global options: the first argument ends them */
	assert_int_equal(parse(POPT_STOP_AT_NON_OPTION, rest, &err, "-v", "--profile", "p", "run",
			       "--bogus", "-q", NULL), 3);
	assert_string_equal(rest[0], "run");
	assert_string_equal(rest[1], "--bogus");
	assert_string_equal(o_profile, "p");
	assert_int_equal(tl_verbose, 1);
	assert_false(tl_quiet);
	free(err);
}

static char *print(void (*fn)(FILE *, const struct popt *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, table);
	fclose(f);
	return buf;
}

static void roff_expanded(FILE *f, const struct popt *o)
{
	popt_print_roff(f, o, true);
}

static void roff_short(FILE *f, const struct popt *o)
{
	popt_print_roff(f, o, false);
}

static void test_help_roff_names(void **state UNUSED)
{
	char *s = print(popt_print_help);

	assert_non_null(strstr(s, "Test options:\n  --timeout S"));
	assert_non_null(strstr(s, "  -j, --jobs N "));
	assert_non_null(strstr(s, "seconds\n                        second line\n"));
	assert_non_null(strstr(s, "Shared options:\n  --profile NAME"));
	assert_non_null(strstr(s, "  -v, --verbose"));
	assert_null(strstr(s, "--cell"));	/* hidden */
	free(s);
	s = print(roff_expanded);
	assert_non_null(strstr(s, ".TP\n.B \\-j, \\-\\-jobs N\ncells at once\n"));
	assert_non_null(strstr(s, ".B \\-\\-profile NAME"));
	assert_non_null(strstr(s, "\\-\\-verbose"));
	free(s);
	s = print(roff_short);
	assert_null(strstr(s, "profile"));
	assert_non_null(strstr(s, "Also the shared options (see GLOBAL OPTIONS).\n"));
	free(s);
	s = print(popt_print_names);
	assert_string_equal(s, "--timeout\n--jobs\n--refresh\n--profile\n--flag\n"
			    "--verbose\n--quiet\n--help\n");
	free(s);
}

static void test_find_and_escape(void **state UNUSED)
{
	bool has_value;
	const struct popt *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	o = popt_find(table, "--profile=x", &has_value);
	assert_non_null(o);
	assert_string_equal(o->long_name, "profile");
	assert_true(has_value);
	o = popt_find(table, "-j", &has_value);
	assert_non_null(o);
	assert_false(has_value);
	assert_null(popt_find(table, "profile", &has_value));
	assert_null(popt_find(table, "--nope", &has_value));
	f = open_memstream(&buf, &len);
	roff_escape(f, ".x a-b \\ c\n'd");
	fclose(f);
	assert_string_equal(buf, "\\&.x a\\-b \\e c\n\\&'d");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_value_spellings, reset),
		cmocka_unit_test_setup(test_repeatable_and_included, reset),
		cmocka_unit_test_setup(test_unknown_and_missing, reset),
		cmocka_unit_test_setup(test_bad_numbers, reset),
		cmocka_unit_test_setup(test_common_anywhere, reset),
		cmocka_unit_test_setup(test_double_dash_and_order, reset),
		cmocka_unit_test(test_help_roff_names),
		cmocka_unit_test(test_find_and_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
