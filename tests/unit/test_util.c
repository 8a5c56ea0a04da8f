// SPDX-License-Identifier: MIT
/* test_util.c - string builder, argv vector, sorting, shell quoting for display, sparse copies */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

/* copy_file_sparse(): the data where it was, the holes left holes, the size kept */
static void test_copy_sparse(void **state)
{
	char *src = path_join(*state, "src"), *dst = path_join(*state, "dst"), got[8] = "";
	int fd = open(src, O_RDWR | O_CREAT, 0600), in;
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	assert_int_equal(pwrite(fd, "first", 5, 0), 5);
	assert_int_equal(pwrite(fd, "middle", 6, (8 << 20) + 3), 6);
	assert_int_equal(copy_file_sparse(fd, dst), 0);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, 16 << 20);
	assert_true(st.st_blocks * 512 < (4 << 20));	/* not 16 MiB written */
	in = open(dst, O_RDONLY);
	assert_int_equal(pread(in, got, 5, 0), 5);
	assert_memory_equal(got, "first", 5);
	assert_int_equal(pread(in, got, 6, (8 << 20) + 3), 6);
	assert_memory_equal(got, "middle", 6);
	assert_int_equal(pread(in, got, 4, 4 << 20), 4);
	assert_memory_equal(got, "\0\0\0\0", 4);
	close(in);
	/* never over an existing file */
	assert_int_equal(copy_file_sparse(fd, dst), -EEXIST);
	close(fd);
	free(src);
	free(dst);
}

static void test_strvec_sort(void **state)
{
	/* many entries, so an order that depends on pointer values shows */
	struct strvec sv = STRVEC_INIT;
	char name[32];

	(void)state;
	for (int i = 40; i > 0; i--) {
		snprintf(name, sizeof(name), "suite-%02d", (i * 7) % 41);
		strvec_push(&sv, name);
	}
	strvec_sort(&sv);
	for (size_t i = 1; i < sv.nr; i++)
		assert_true(strcmp(sv.v[i - 1], sv.v[i]) <= 0);
	assert_null(sv.v[sv.nr]);
	strvec_release(&sv);
}

/* prefetch_file_data(): best effort, and the offset stays (QEMU reads the snapshot's stream from it) */
static void test_prefetch_keeps_offset(void **state)
{
	char *path = path_join(*state, "sparse");
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	char got[4] = "";

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8 << 20), 0);
	assert_int_equal(pwrite(fd, "head", 4, 0), 4);
	assert_int_equal(pwrite(fd, "tail", 4, (4 << 20) + 3), 4);
	assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
	prefetch_file_data(fd);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 2);
	assert_int_equal(read(fd, got, 2), 2);
	assert_memory_equal(got, "ad", 2);
	close(fd);
	free(path);
}

static void test_join_shell(void **state)
{
	struct strvec sv = STRVEC_INIT;
	char *s;

	(void)state;
	strvec_pushl(&sv, "qemu-system-aarch64", "-append", "console=ttyAMA0 rdinit=/init",
		     "it's", "", NULL);
	s = strvec_join_shell(&sv);
	assert_string_equal(s, "qemu-system-aarch64 -append 'console=ttyAMA0 rdinit=/init' "
			    "'it'\\''s' ''");
	free(s);
	strvec_release(&sv);
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_addf(&sb, "%d-%s", 42, "x");
	strbuf_addch(&sb, '!');
	assert_int_equal(sb.len, 5);
	s = strbuf_detach(&sb);
	assert_string_equal(s, "42-x!");
	assert_null(sb.buf);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strvec_sort),
		cmocka_unit_test(test_join_shell),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test_setup_teardown(test_copy_sparse, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_prefetch_keeps_offset, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
