// SPDX-License-Identifier: MIT
/* test_inroot.c - unit tests for lab/inroot.c (paths resolved inside a root) */
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
#include <sys/stat.h>
#include <unistd.h>

#include "inroot.h"
#include "util.h"

/* <tmp>/root with real files, and the root's fd in *rootfd. */
static char *make_root(void **state, int *rootfd)
{
	char *root = tpath(state, "root");

	for (const char *d = "etc\0usr/lib/aarch64-linux-gnu\0"; *d; d += strlen(d) + 1) {
		char *p = path_join(root, d);

		assert_int_equal(mkdir_p(p, 0755), 0);
		free(p);
	}
	put_file(root, "etc/passwd", "inside\n");
	put_file(root, "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "loader\n");
	put_file(root, "file", "x\n");
	*rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(*rootfd >= 0);
	return root;
}

/* The text of @path opened inside @rootfd, or NULL when it does not open. */
static char *read_in(int rootfd, const char *path)
{
	char buf[64];
	int fd = inroot_open(rootfd, path, O_RDONLY, 0);
	ssize_t n = 0;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	return xstrndup(buf, (size_t)n);
}

static void assert_resolves(int rootfd, const char *path, unsigned flags, const char *want)
{
	struct strbuf canon = STRBUF_INIT;
	int ret = inroot_resolve(rootfd, path, flags, NULL, &canon);

	if (ret || strcmp(strbuf_str(&canon), want))
		fail_msg("'%s': %d '%s', wanted '%s'", path, ret, strbuf_str(&canon), want);
	strbuf_release(&canon);
}

/*
 * A merged-/usr sysroot: /lib -> usr/lib, and the loader's name an absolute
 * symlink through it. Absolute targets resolve inside the root, never on
 * the host, and every symlink met is reported (the initramfs needs them).
 */
static void test_absolute_chain(void **state)
{
	struct strvec links = STRVEC_INIT;
	struct strbuf canon = STRBUF_INIT;
	int rootfd = -1;
	char *root = make_root(state, &rootfd);
	char *text = NULL;

	put_symlink(root, "lib", "usr/lib");
	put_symlink(root, "usr/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1");
	put_symlink(root, "ld", "/usr/lib/ld-linux-aarch64.so.1");
	assert_int_equal(inroot_resolve(rootfd, "/ld", 0, &links, &canon), 0);
	assert_string_equal(canon.buf, "/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1");
	assert_int_equal(links.nr, 3);
	assert_string_equal(links.v[0], "/ld");
	assert_string_equal(links.v[1], "/usr/lib/ld-linux-aarch64.so.1");
	assert_string_equal(links.v[2], "/lib");
	text = read_in(rootfd, "/lib/ld-linux-aarch64.so.1");
	assert_string_equal(text, "loader\n");
	free(text);
	/* the last component kept: the link itself */
	assert_resolves(rootfd, "lib/ld-linux-aarch64.so.1", INROOT_PARENT,
			"/usr/lib/ld-linux-aarch64.so.1");
	strvec_release(&links);
	strbuf_release(&canon);
	close(rootfd);
	free(root);
}

/* Neither ".." nor a symlink climbs out: /etc/passwd is the root's own. */
static void test_no_escape(void **state)
{
	struct strbuf canon = STRBUF_INIT;
	int rootfd = -1;
	char *root = make_root(state, &rootfd);
	char *text = NULL;

	put_symlink(root, "up", "../../../../..");
	put_symlink(root, "abs", "/etc");
	put_symlink(root, "hostfile", "/etc/hostname");
	assert_resolves(rootfd, "../../etc/passwd", 0, "/etc/passwd");
	assert_resolves(rootfd, "up/etc/passwd", 0, "/etc/passwd");
	assert_resolves(rootfd, "abs/../abs/passwd", 0, "/etc/passwd");
	assert_resolves(rootfd, "/", 0, "/");
	text = read_in(rootfd, "up/etc/passwd");
	assert_string_equal(text, "inside\n");
	free(text);
	text = read_in(rootfd, "abs/passwd");
	assert_string_equal(text, "inside\n");
	free(text);
	/* the host has /etc/hostname, the root does not */
	assert_null(read_in(rootfd, "hostfile"));
	assert_int_equal(inroot_resolve(rootfd, "hostfile", 0, NULL, &canon), -ENOENT);
	strbuf_release(&canon);
	close(rootfd);
	free(root);
}

/* Directories made through a dangling absolute symlink are made inside. */
static void test_mkdir_inside(void **state)
{
	struct strbuf canon = STRBUF_INIT;
	char *outside = tpath(state, "outside");
	int rootfd = -1;
	char *root = make_root(state, &rootfd);
	char *inside = NULL;

	put_symlink(root, "esc", outside);
	assert_int_equal(inroot_resolve(rootfd, "esc/sub/f", INROOT_MKDIR | INROOT_PARENT,
					NULL, &canon), 0);
	inside = xasprintf("%s%s/sub", root, outside);
	assert_true(is_dir(inside));
	assert_false(file_exists(outside));
	assert_int_equal(strcmp(canon.buf + strlen(outside), "/sub/f"), 0);
	free(inside);
	free(outside);
	strbuf_release(&canon);
	close(rootfd);
	free(root);
}

static void test_errors(void **state)
{
	struct strbuf canon = STRBUF_INIT;
	int rootfd = -1;
	char *root = make_root(state, &rootfd);

	put_symlink(root, "loop", "loop2");
	put_symlink(root, "loop2", "/loop");
	assert_int_equal(inroot_resolve(rootfd, "loop/x", 0, NULL, &canon), -ELOOP);
	assert_int_equal(inroot_resolve(rootfd, "file/x", 0, NULL, &canon), -ENOTDIR);
	assert_int_equal(inroot_resolve(rootfd, "nothing/x", 0, NULL, &canon), -ENOENT);
	assert_true(inroot_open(rootfd, "loop", O_RDONLY, 0) == -ELOOP);
	strbuf_release(&canon);
	close(rootfd);
	free(root);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_absolute_chain),
		T(test_no_escape),
		T(test_mkdir_inside),
		T(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
