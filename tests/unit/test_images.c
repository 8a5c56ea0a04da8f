// SPDX-License-Identifier: MIT
/* test_images.c - the image driver with a fake kind, the kinds' order, progress lines */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "images/kind.h"
#include "progress.h"

/* ---- a fake kind: its input is a string, its build writes it to out.txt ---- */

struct fake {
	const char *input;
	bool fail;
	int builds;
};

static int fake_inputs(struct build_ctx *b UNUSED, struct image_job *j, struct hasher *h)
{
	const struct fake *f = j->data;

	hasher_addstr(h, j->kind->recipe);
	hasher_addstr(h, f->input);
	return 0;
}

static int fake_build(struct build_ctx *b UNUSED, struct image_job *j, const char *dir,
		      const char *log)
{
	struct fake *f = j->data;
	char *out = path_join(dir, "out.txt");
	int ret;

	f->builds++;
	write_file_str(log, "compiling\nlinking fake.o\n");
	ret = f->fail ? error("fake: it broke") : write_file_str(out, f->input);
	free(out);
	return ret;
}

static const struct image_kind fake_kind = {
	.name = "fake", .title = "fake image", .recipe = "fake-1",
	.inputs = fake_inputs, .build = fake_build,
};

/* a slow build that counts itself in <build dir>/builds (shared by processes) */
static int slow_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	char *count = path_join(b->build_dir, "builds");
	int fd = open(count, O_WRONLY | O_CREAT | O_APPEND, 0644), ret;

	free(count);
	if (fd < 0 || write(fd, "b\n", 2) != 2)
		return -EIO;
	close(fd);
	usleep(300 * 1000);
	ret = fake_build(b, j, dir, log);
	return ret;
}

static const struct image_kind slow_kind = {
	.name = "slow", .title = "slow image", .recipe = "slow-1",
	.inputs = fake_inputs, .build = slow_build,
};

/* Two processes make the same entry at once: one builds, the other waits for it and uses it */
static void test_two_processes_one_build(void **state)
{
	struct lab_images out = { 0 };
	struct build_ctx b = { .build_dir = *state, .out = &out };
	struct fake f = { .input = "shared" };
	struct image_job j = { .kind = &slow_kind, .data = &f };
	struct capture cap;
	char *text, *count;
	int status;
	pid_t pid;

	progress_force(PROGRESS_PLAIN, false, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		tl_quiet = true;
		_exit(image_make(&b, &j) ? 1 : 0);
	}
	usleep(100 * 1000);	/* the child is inside its build (300 ms) */
	capture_begin(&cap);
	assert_int_equal(image_make(&b, &j), 0);
	text = capture_end(&cap);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* this process waited, said so, and built nothing */
	assert_non_null(strstr(text, "waiting for another teelab process: slow image"));
	assert_false(j.built);
	assert_int_equal(f.builds, 0);
	free(text);
	count = tu_slurp(*state, "builds");
	assert_string_equal(count, "b\n");
	free(count);
	text = tu_slurp(j.dir, "out.txt");
	assert_string_equal(text, "shared");
	free(text);
	image_job_release(&j);
}

static void test_miss_build_stamp_hit(void **state)
{
	struct lab_images out = { 0 };
	struct build_ctx b = { .build_dir = *state, .out = &out };
	struct fake f = { .input = "hello" };
	struct image_job j = { .kind = &fake_kind, .data = &f, .label = "one" };
	char *text, *first;
	struct capture cap;

	progress_force(PROGRESS_PLAIN, false, 0);
	capture_begin(&cap);
	assert_int_equal(image_make(&b, &j), 0);
	text = capture_end(&cap);
	assert_non_null(strstr(text, "build: fake image one"));
	assert_non_null(strstr(text, "done in"));
	free(text);
	assert_true(j.built);
	assert_int_equal(f.builds, 1);
	assert_int_equal(out.builds, 1);
	/* <build>/fake-<16 hex>, stamped, the output there and no .tmp left */
	assert_true(starts_with(j.dir, *state));
	assert_int_equal(strlen(strrchr(j.dir, '/') + 1), strlen("fake-") + 16);
	assert_true(image_entry_complete(j.dir));
	text = tu_slurp(j.dir, "out.txt");
	assert_string_equal(text, "hello");
	free(text);
	{
		char *tmp = xasprintf("%s.tmp", j.dir);

		assert_false(file_exists(tmp));
		free(tmp);
	}
	/* the stamp has the build's seconds: the next build's estimate */
	assert_true(image_last_seconds(*state, "fake") >= 0);
	assert_true(image_last_seconds(*state, "other") < 0);
	first = xstrdup(j.dir);

	/* the same inputs again: a hit, nothing built */
	assert_int_equal(image_make(&b, &j), 0);
	assert_false(j.built);
	assert_int_equal(f.builds, 1);
	assert_int_equal(out.builds, 1);
	assert_string_equal(j.dir, first);

	/* other inputs: another entry */
	f.input = "world";
	capture_begin(&cap);
	assert_int_equal(image_make(&b, &j), 0);
	free(capture_end(&cap));
	assert_true(j.built);
	assert_string_not_equal(j.dir, first);
	free(first);
	image_job_release(&j);
}

static void test_same_inputs_same_key(void **state)
{
	struct lab_images out = { 0 };
	struct build_ctx b = { .build_dir = *state, .out = &out };
	struct fake f = { .input = "same" };
	struct image_job a = { .kind = &fake_kind, .data = &f };
	struct image_job c = { .kind = &fake_kind, .data = &f };
	struct hasher *h = hasher_new();
	char hex[SHA256_HEX_LEN + 1];

	progress_force(PROGRESS_OFF, false, 0);
	assert_int_equal(image_make(&b, &a), 0);
	assert_int_equal(image_make(&b, &c), 0);
	assert_string_equal(a.hex, c.hex);
	/* the key is exactly what inputs() hashed: the cache stays warm across versions */
	hasher_addstr(h, "fake-1");
	hasher_addstr(h, "same");
	hasher_finish(h, hex);
	assert_string_equal(a.hex, hex);
	image_job_release(&a);
	image_job_release(&c);
}

static void test_failed_build_not_stamped(void **state)
{
	struct lab_images out = { 0 };
	struct build_ctx b = { .build_dir = *state, .out = &out };
	struct fake f = { .input = "broken", .fail = true };
	struct image_job j = { .kind = &fake_kind, .data = &f, .label = "two" };
	struct capture cap;
	char *text, *tmp;

	progress_force(PROGRESS_PLAIN, false, 0);
	capture_begin(&cap);
	assert_int_not_equal(image_make(&b, &j), 0);
	text = capture_end(&cap);
	/* the kind and its log are named */
	assert_non_null(strstr(text, "fake image two: build failed"));
	tmp = xasprintf("%s.tmp", j.dir);
	assert_non_null(strstr(text, tmp));
	assert_null(strstr(text, "done in"));
	free(text);
	assert_false(image_entry_complete(j.dir));
	assert_false(is_dir(j.dir));
	assert_int_equal(out.builds, 0);
	/* the log stays for reading */
	text = tu_slurp(tmp, "build.log");
	assert_non_null(strstr(text, "linking fake.o"));
	free(text);
	/* and the next try builds again */
	f.fail = false;
	capture_begin(&cap);
	assert_int_equal(image_make(&b, &j), 0);
	free(capture_end(&cap));
	assert_int_equal(f.builds, 2);
	assert_true(image_entry_complete(j.dir));
	free(tmp);
	image_job_release(&j);
}

static void test_rebuild_flag(void **state)
{
	struct lab_images out = { 0 };
	struct build_ctx b = { .build_dir = *state, .out = &out };
	struct fake f = { .input = "tree" };
	struct image_job j = { .kind = &fake_kind, .data = &f, .rebuild = true };

	progress_force(PROGRESS_OFF, false, 0);
	assert_int_equal(image_make(&b, &j), 0);
	assert_int_equal(image_make(&b, &j), 0);
	assert_int_equal(f.builds, 2);
	image_job_release(&j);
}

static void test_last_seconds(void **state)
{
	char *a = tpath(state, "kernel-0123456789abcdef");
	char *tmp = tpath(state, "kernel-fedcba9876543210.tmp");

	assert_true(image_last_seconds(*state, "kernel") < 0);
	assert_int_equal(mkdir_p(a, 0755), 0);
	assert_int_equal(mkdir_p(tmp, 0755), 0);
	/* a kernel stamped before stamps had seconds: its build-seconds file */
	put_file(a, "build-seconds", "229");
	put_file(a, ".complete", "");
	assert_true(image_last_seconds(*state, "kernel") == 229);
	/* a stamp's own seconds win */
	put_file(a, ".complete", "301.5\n");
	assert_true(image_last_seconds(*state, "kernel") == 301.5);
	/* a build still in its .tmp is no estimate */
	put_file(tmp, ".complete", "5\n");
	assert_true(image_last_seconds(*state, "kernel") == 301.5);
	assert_true(image_last_seconds(*state, "kern") < 0);
	free(a);
	free(tmp);
}

/* ---- order ---- */

static size_t position(const struct image_kind *const *kinds, const size_t *order, size_t nr,
		       const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(kinds[order[i]]->name, name))
			return i;
	fail_msg("kind '%s' not in the order", name);
	return 0;
}

static void test_real_table_order(void **state)
{
	size_t order[32];

	(void)state;
	assert_true(image_kinds_nr <= ARRAY_SIZE(order));
	assert_int_equal(image_kinds_order(image_kinds, image_kinds_nr, order), 0);
	/* every kind exactly once, each after what it depends on */
	for (size_t i = 0; i < image_kinds_nr; i++) {
		const struct image_kind *k = image_kinds[order[i]];

		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(order[j], order[i]);
		for (const char *const *d = k->deps; d && *d; d++)
			assert_true(position(image_kinds, order, image_kinds_nr, *d) < i);
	}
	assert_true(position(image_kinds, order, image_kinds_nr, "optee") <
		    position(image_kinds, order, image_kinds_nr, "tfa"));
	assert_true(position(image_kinds, order, image_kinds_nr, "initramfs") <
		    position(image_kinds, order, image_kinds_nr, "kexec"));
}

static const char *const dep_a[] = { "a", NULL };
static const char *const dep_b[] = { "b", NULL };
static const char *const dep_c[] = { "c", NULL };
static const char *const dep_x[] = { "nosuch", NULL };

static void test_order_from_deps(void **state)
{
	/* declared c, b, a with c -> b -> a: resolved a, b, c */
	const struct image_kind a = { .name = "a" }, b = { .name = "b", .deps = dep_a },
				c = { .name = "c", .deps = dep_b };
	const struct image_kind *kinds[] = { &c, &b, &a };
	size_t order[3];

	(void)state;
	assert_int_equal(image_kinds_order(kinds, 3, order), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
}

static void test_order_errors(void **state)
{
	const struct image_kind a = { .name = "a", .deps = dep_c }, b = { .name = "b", .deps = dep_a },
				c = { .name = "c", .deps = dep_b }, x = { .name = "x", .deps = dep_x };
	const struct image_kind *cycle[] = { &a, &b, &c };
	const struct image_kind *unknown[] = { &x };
	size_t order[3];
	struct capture cap;
	char *text;

	(void)state;
	capture_begin(&cap);
	assert_int_equal(image_kinds_order(cycle, 3, order), -EINVAL);
	assert_int_equal(image_kinds_order(unknown, 1, order), -EINVAL);
	text = capture_end(&cap);
	assert_non_null(strstr(text, "cycle"));
	assert_non_null(strstr(text, "'x' depends on 'nosuch'"));
	free(text);
}

/* ---- progress ---- */

/* TF-A is shared across OP-TEE variants unless its flags bind it to BL32 */
static void test_tfa_bl32_bound(void **state)
{
	static const char *const free_[][3] = {
		{ "PLAT=qemu", "SPD=opteed", "BL32_RAM_LOCATION=tdram" },
		{ "PLAT=qemu", "TRUSTED_BOARD_BOOT=0", "GENERATE_COT=0" },
		{ "SPD=spmd", "ENCRYPT_BL32=0", "DECRYPTION_SUPPORT=none" },
	};
	static const char *const bound[][3] = {
		{ "PLAT=qemu", "SPD=opteed", "TRUSTED_BOARD_BOOT=1" },
		{ "PLAT=qemu", "GENERATE_COT=1", "DEBUG=0" },
		{ "ENCRYPT_BL32=1", "PLAT=qemu", "DEBUG=0" },
		{ "DECRYPTION_SUPPORT=aes_gcm", "PLAT=qemu", "DEBUG=0" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(free_) + ARRAY_SIZE(bound); i++) {
		struct strvec sv = STRVEC_INIT;
		bool want = i >= ARRAY_SIZE(free_);
		const char *const *row = want ? bound[i - ARRAY_SIZE(free_)] : free_[i];

		for (int k = 0; k < 3; k++)
			strvec_push(&sv, row[k]);
		assert_int_equal(tfa_bl32_bound(&sv), want);
		strvec_release(&sv);
	}
}

static void test_mode_pick(void **state)
{
	(void)state;
	assert_int_equal(progress_mode_pick(true, "xterm-256color", false, false), PROGRESS_LIVE);
	assert_int_equal(progress_mode_pick(false, "xterm", false, false), PROGRESS_PLAIN);
	assert_int_equal(progress_mode_pick(true, "dumb", false, false), PROGRESS_PLAIN);
	assert_int_equal(progress_mode_pick(true, NULL, false, false), PROGRESS_PLAIN);
	assert_int_equal(progress_mode_pick(true, "xterm", true, false), PROGRESS_PLAIN);
	assert_int_equal(progress_mode_pick(true, "xterm", false, true), PROGRESS_OFF);
	assert_true(progress_use_color(NULL));
	assert_true(progress_use_color(""));
	assert_false(progress_use_color("1"));
}

static void test_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct progress_view v = {
		.verb = "build", .what = "Linux src-6.12", .elapsed = 123, .estimate = 540,
		.bytes = -1, .packages = -1, .tail = "  CC\tdrivers/tee/optee/core.o",
	};

	(void)state;
	progress_format(&sb, &v, 200);
	assert_string_equal(sb.buf, "build Linux src-6.12  2m03s (~9m00s)    CC drivers/tee/optee/core.o");
	/* cut to width - 1 columns */
	progress_format(&sb, &v, 30);
	assert_int_equal(sb.len, 29);
	assert_string_equal(sb.buf, "build Linux src-6.12  2m03s (");
	/* colour: escapes around the name, not counted in the width */
	v.color = true;
	progress_format(&sb, &v, 30);
	assert_true(starts_with(sb.buf, "\033[1mbuild Linux src-6.12\033[0m  2m03s ("));
	assert_int_equal(sb.len, 29 + strlen("\033[1m\033[0m"));
	/* a fetch: bytes and packages, no estimate */
	v.color = false;
	v.verb = "fetch";
	v.what = "linux-source-6.12";
	v.elapsed = 7;
	v.estimate = -1;
	v.bytes = 3 * 1024 * 1024 + 512 * 1024;
	v.packages = 4;
	v.tail = NULL;
	progress_format(&sb, &v, 120);
	assert_string_equal(sb.buf, "fetch linux-source-6.12  7s  3.5 MB  4 package(s) fetched");
	strbuf_release(&sb);
}

static void test_durations(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	progress_add_duration(&sb, 0.4);
	strbuf_addch(&sb, ' ');
	progress_add_duration(&sb, 59.6);
	strbuf_addch(&sb, ' ');
	progress_add_duration(&sb, 3725);
	assert_string_equal(sb.buf, "0s 1m00s 1h02m");
	strbuf_release(&sb);
}

static void test_plain_and_dumb_have_no_escapes(void **state)
{
	struct capture cap;
	struct progress *p;
	char *text;
	char *log = tpath(state, "x.log");

	write_file_str(log, "last line\n");
	/* not a tty or TERM=dumb: plain start and done lines */
	progress_force(progress_mode_pick(true, "dumb", false, false), true, 0);
	capture_begin(&cap);
	p = progress_start("build", "thing", 65, log, NULL, -1);
	progress_end(p, true);
	text = capture_end(&cap);
	assert_null(strchr(text, '\033'));
	assert_null(strchr(text, '\r'));
	assert_non_null(strstr(text, "teelab: build: thing (last build 1m05s), log "));
	assert_non_null(strstr(text, "teelab: build: thing done in 0s\n"));
	free(text);
	/* a failure prints no done line (the caller reports it) */
	capture_begin(&cap);
	p = progress_start("build", "thing", -1, NULL, NULL, -1);
	progress_end(p, false);
	text = capture_end(&cap);
	assert_null(strstr(text, "done"));
	free(text);
	/* live: the line is drawn at once, rewritten in place, cleared at the end */
	progress_force(PROGRESS_LIVE, false, 40);
	capture_begin(&cap);
	p = progress_start("build", "thing", -1, log, NULL, -1);
	progress_end(p, true);
	text = capture_end(&cap);
	assert_non_null(strstr(text, "\r\033[Kbuild thing  0s  last line"));
	assert_non_null(strstr(text, "\r\033[Kteelab: build: thing done in 0s\n"));
	free(text);
	free(log);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tmp, teardown_tmp)
	const struct CMUnitTest tests[] = {
		T(test_miss_build_stamp_hit),
		T(test_same_inputs_same_key),
		T(test_failed_build_not_stamped),
		T(test_rebuild_flag),
		T(test_last_seconds),
		T(test_two_processes_one_build),
		cmocka_unit_test(test_real_table_order),
		cmocka_unit_test(test_order_from_deps),
		cmocka_unit_test(test_order_errors),
		cmocka_unit_test(test_tfa_bl32_bound),
		cmocka_unit_test(test_mode_pick),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_durations),
		T(test_plain_and_dumb_have_no_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
