// SPDX-License-Identifier: MIT
/* test_archive.c - unit tests for lab/archive.c (.deb, tar, initramfs cpio) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/*
 * Only teelab's archive.h: the unit tests are built with -Ilab, which
 * shadows libarchive's <archive.h>. Fixtures are therefore written by
 * hand (ustar, ar) and the cpio output is parsed by hand (newc), which
 * also checks the formats independently of libarchive.
 */
#include "archive.h"
#include "util.h"

/* ---- fixtures ---- */

struct tent {
	const char *name;
	char type;	/* f file, d dir, l symlink, h hard link, c chardev */
	mode_t perm;
	const char *data;	/* file content, or link target */
};

static void octal(char *field, size_t width, unsigned long long v)
{
	/* width - 1 octal digits and a NUL, as ustar wants */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
	assert_int_equal(v, 0);
}

/* One ustar header (POSIX.1-1988) for @t, names of up to 99 bytes. */
static void tar_header(struct strbuf *sb, const struct tent *t, size_t size)
{
	char h[512];
	unsigned int sum = 0;
	char type = '0';

	memset(h, 0, sizeof(h));
	assert_true(strlen(t->name) < 100);
	memcpy(h, t->name, strlen(t->name));
	octal(h + 100, 8, t->perm);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 1700000000);
	switch (t->type) {
	case 'f': type = '0'; break;
	case 'h': type = '1'; break;
	case 'l': type = '2'; break;
	case 'c': type = '3'; break;
	case 'd': type = '5'; break;
	default: fail();
	}
	h[156] = type;
	if (t->type == 'h' || t->type == 'l') {
		assert_true(strlen(t->data) < 100);
		memcpy(h + 157, t->data, strlen(t->data));
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	octal(h + 329, 8, t->type == 'c' ? 1 : 0);
	octal(h + 337, 8, t->type == 'c' ? 3 : 0);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	strbuf_add(sb, h, sizeof(h));
}

static bool have_tool(const char *tool)
{
	char *cmd = xasprintf("command -v %s >/dev/null 2>&1", tool);
	bool ok = !system(cmd);

	free(cmd);
	return ok;
}

/*
 * Write the entries as a tarball at @path compressed with the program
 * @filter ("none", "gzip", "xz", "bzip2", "zstd"); false when that
 * program is not installed.
 */
static bool write_tar(const char *path, const char *filter,
		      const struct tent *ents, size_t n)
{
	static const char zeros[1024];
	struct strbuf sb = STRBUF_INIT;
	char *raw = NULL;
	char *cmd = NULL;

	if (strcmp(filter, "none") && !have_tool(filter))
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = ents[i].type == 'f' ? strlen(ents[i].data) : 0;

		tar_header(&sb, &ents[i], len);
		strbuf_add(&sb, ents[i].data ? ents[i].data : "", len);
		strbuf_add(&sb, zeros, (512 - len % 512) % 512);
	}
	strbuf_add(&sb, zeros, sizeof(zeros));
	if (!strcmp(filter, "none")) {
		assert_int_equal(write_file(path, sb.buf, sb.len, 0644), 0);
		strbuf_release(&sb);
		return true;
	}
	raw = xasprintf("%s.raw", path);
	assert_int_equal(write_file(raw, sb.buf, sb.len, 0644), 0);
	cmd = xasprintf("%s -c '%s' > '%s'", filter, raw, path);
	assert_int_equal(system(cmd), 0);
	unlink(raw);
	free(cmd);
	free(raw);
	strbuf_release(&sb);
	return true;
}

static const char *filter_ext(const char *filter)
{
	if (!strcmp(filter, "gzip"))
		return ".gz";
	if (!strcmp(filter, "xz"))
		return ".xz";
	if (!strcmp(filter, "zstd"))
		return ".zst";
	if (!strcmp(filter, "bzip2"))
		return ".bz2";
	return "";
}

/* One member of a common ar archive, as dpkg-deb writes them. */
static void ar_add(struct strbuf *sb, const char *name, const void *data,
		   size_t len)
{
	char h[61];

	snprintf(h, sizeof(h), "%-16s%-12u%-6u%-6u%-8o%-10zu`\n", name,
		 1700000000u, 0u, 0u, 0100644u, len);
	strbuf_add(sb, h, 60);
	strbuf_add(sb, data, len);
	if (len % 2)
		strbuf_addch(sb, '\n');
}

static const struct tent control_ents[] = {
	{ "./", 'd', 0755, NULL },
	{ "./control", 'f', 0644,
	  "Package: teelab-test\nVersion: 1.0\nArchitecture: arm64\n"
	  "Maintainer: teelab <teelab@example.org>\n"
	  "Description: teelab unit test package\n" },
	{ "./md5sums", 'f', 0644, "" },
};

static const struct tent data_ents[] = {
	{ "./", 'd', 0755, NULL },
	{ "./usr/", 'd', 0755, NULL },
	{ "./usr/bin/", 'd', 0755, NULL },
	{ "./usr/bin/hello", 'f', 0755, "#!/bin/sh\necho hello\n" },
	{ "./usr/bin/hi", 'l', 0777, "hello" },
	{ "./usr/bin/hello-hard", 'h', 0755, "./usr/bin/hello" },
	{ "./usr/bin/su", 'f', 04755, "setuid\n" },
	{ "./usr/share/", 'd', 0755, NULL },
	{ "./usr/share/ro/", 'd', 0555, NULL },
	{ "./usr/share/ro/file", 'f', 0444, "read only\n" },
	{ "./lib", 'l', 0777, "/usr/lib" },
	{ "./etc/alternatives/", 'd', 0755, NULL },
	{ "./usr/bin/editor", 'l', 0777, "/etc/alternatives/editor" },
	{ "./dev/", 'd', 0755, NULL },
	{ "./dev/null", 'c', 0666, NULL },
};

/*
 * Build a .deb at @deb with the data member compressed by @filter.
 * false when the compression program is not installed.
 */
static bool write_deb(void **state, const char *deb, const char *filter,
		      const struct tent *ents, size_t n, bool with_data)
{
	struct strbuf sb = STRBUF_INIT;
	char *ctl = tpath(state, "control.tar.gz");
	char *data_name = xasprintf("data.tar%s", filter_ext(filter));
	char *dat = tpath(state, data_name);
	char *buf = NULL;
	size_t len = 0;
	bool ok = write_tar(dat, filter, ents, n);

	if (!ok)
		goto out;
	assert_true(write_tar(ctl, "gzip", control_ents,
			      ARRAY_SIZE(control_ents)));
	strbuf_addstr(&sb, "!<arch>\n");
	ar_add(&sb, "debian-binary", "2.0\n", 4);
	assert_int_equal(read_file(ctl, &buf, &len), 0);
	ar_add(&sb, "control.tar.gz", buf, len);
	free(buf);
	if (with_data) {
		assert_int_equal(read_file(dat, &buf, &len), 0);
		ar_add(&sb, data_name, buf, len);
		free(buf);
	}
	assert_int_equal(write_file(deb, sb.buf, sb.len, 0644), 0);
	unlink(ctl);
	unlink(dat);
out:
	strbuf_release(&sb);
	free(ctl);
	free(dat);
	free(data_name);
	return ok;
}

static mode_t perm_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	char *path = path_join(dir, rel);
	char *got = NULL;
	size_t len = 0;

	assert_int_equal(read_file(path, &got, &len), 0);
	assert_string_equal(got, want);
	free(got);
	free(path);
}

static void assert_link(const char *dir, const char *rel, const char *want)
{
	char *path = path_join(dir, rel);
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
	free(path);
}

static bool exists(const char *dir, const char *rel)
{
	char *path = path_join(dir, rel);
	struct stat st;
	bool ok = !lstat(path, &st);

	free(path);
	return ok;
}

/* ---- .deb ---- */

static void check_data_tree(const char *dest)
{
	struct stat a, b;
	char *hello = path_join(dest, "usr/bin/hello");
	char *hard = path_join(dest, "usr/bin/hello-hard");
	char *p = NULL;

	assert_file(dest, "usr/bin/hello", "#!/bin/sh\necho hello\n");
	assert_int_equal(perm_of(hello), 0755);
	assert_link(dest, "usr/bin/hi", "hello");
	/* absolute targets are kept: the guest resolves them */
	assert_link(dest, "lib", "/usr/lib");
	assert_link(dest, "usr/bin/editor", "/etc/alternatives/editor");
	/* a hard link shares the inode */
	assert_int_equal(stat(hello, &a), 0);
	assert_int_equal(stat(hard, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	/* no setuid without root, everything user-writable */
	p = path_join(dest, "usr/bin/su");
	assert_int_equal(perm_of(p), 0755);
	free(p);
	p = path_join(dest, "usr/share/ro/file");
	assert_int_equal(perm_of(p), 0644);
	free(p);
	p = path_join(dest, "usr/share/ro");
	assert_int_equal(perm_of(p), 0755);
	free(p);
	/* device nodes are skipped, their directory is not */
	assert_true(exists(dest, "dev"));
	assert_false(exists(dest, "dev/null"));
	free(hello);
	free(hard);
}

static void test_deb_extract(void **state)
{
	char *deb = tpath(state, "test.deb");
	char *dest = tpath(state, "root/sub");
	char *control = NULL;

	assert_true(write_deb(state, deb, "xz", data_ents,
			      ARRAY_SIZE(data_ents), true));
	assert_int_equal(deb_extract_data(deb, dest), 0);
	check_data_tree(dest);
	/* extracting again over the same tree works (dpkg --unpack twice) */
	assert_int_equal(deb_extract_data(deb, dest), 0);
	check_data_tree(dest);

	assert_int_equal(deb_read_control(deb, &control), 0);
	assert_non_null(strstr(control, "Package: teelab-test\n"));
	assert_non_null(strstr(control, "Architecture: arm64\n"));
	free(control);
	free(dest);
	free(deb);
}

static void test_deb_compressions(void **state)
{
	static const char *const filters[] = { "gzip", "bzip2", "zstd",
					       "none" };

	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		char *deb = tpath(state, "c.deb");
		char *dest = tpath(state, filters[i]);

		if (!write_deb(state, deb, filters[i], data_ents,
			       ARRAY_SIZE(data_ents), true)) {
			print_message("# no %s program, not tested\n",
				      filters[i]);
			free(deb);
			free(dest);
			continue;
		}
		assert_int_equal(deb_extract_data(deb, dest), 0);
		check_data_tree(dest);
		unlink(deb);
		free(deb);
		free(dest);
	}
}

/* The test .deb is a real one: dpkg-deb reads it too (when installed). */
static void test_deb_dpkg_reads_it(void **state)
{
	char *deb = tpath(state, "dpkg.deb");
	char *cmd = NULL;
	char line[256] = "";
	FILE *p = NULL;

	if (system("command -v dpkg-deb >/dev/null 2>&1")) {
		free(deb);
		skip();
	}
	assert_true(write_deb(state, deb, "xz", data_ents,
			      ARRAY_SIZE(data_ents), true));
	cmd = xasprintf("dpkg-deb -f '%s' Package 2>/dev/null", deb);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	while (fgetc(p) != EOF)
		;
	assert_int_equal(pclose(p), 0);
	assert_string_equal(line, "teelab-test\n");
	/* and its tar reads the data member */
	free(cmd);
	cmd = xasprintf("dpkg-deb -c '%s' >/dev/null 2>&1", deb);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(deb);
}

static void test_deb_errors(void **state)
{
	char *deb = tpath(state, "nodata.deb");
	char *text = tpath(state, "text.deb");
	char *dest = tpath(state, "dest");
	char *control = NULL;

	assert_true(write_deb(state, deb, "xz", data_ents,
			      ARRAY_SIZE(data_ents), false));
	assert_int_equal(deb_extract_data(deb, dest), -EINVAL);
	assert_int_equal(write_file_str(text, "not an ar archive\n"), 0);
	assert_true(deb_extract_data(text, dest) < 0);
	assert_true(deb_read_control(text, &control) < 0);
	assert_null(control);
	assert_true(deb_extract_data("/nonexistent/x.deb", dest) < 0);
	free(deb);
	free(text);
	free(dest);
}

/* ---- tarballs ---- */

static void test_tar_refuses_dotdot(void **state)
{
	static const struct tent evil[] = {
		{ "ok.txt", 'f', 0644, "fine\n" },
		{ "../evil", 'f', 0644, "gotcha\n" },
	};
	static const struct tent evil2[] = {
		{ "a/../../evil2", 'f', 0644, "gotcha\n" },
	};
	static const struct tent abs[] = {
		{ "/tmp/teelab-evil-abs", 'f', 0644, "gotcha\n" },
	};
	char *tar = tpath(state, "evil.tar");
	char *dest = tpath(state, "dest");

	assert_true(write_tar(tar, "gzip", evil, ARRAY_SIZE(evil)));
	assert_true(tar_extract(tar, dest, 0) < 0);
	assert_false(exists(*state, "evil"));

	assert_true(write_tar(tar, "none", evil2, ARRAY_SIZE(evil2)));
	assert_true(tar_extract(tar, dest, 0) < 0);
	assert_false(exists(*state, "evil2"));

	assert_true(write_tar(tar, "none", abs, ARRAY_SIZE(abs)));
	assert_true(tar_extract(tar, dest, 0) < 0);
	assert_false(exists("/", "tmp/teelab-evil-abs"));
	free(tar);
	free(dest);
}

/* Symlinks in the archive cannot carry later entries out of @dest. */
static void test_tar_symlink_escape(void **state)
{
	char *outside = tpath(state, "outside");
	struct tent ents[] = {
		{ "esc", 'l', 0777, outside },
		{ "esc/pwned", 'f', 0644, "gotcha\n" },
		{ "up", 'l', 0777, "../../../.." },
		{ "up/pwned2", 'f', 0644, "gotcha\n" },
		{ "h", 'h', 0644, "up/pwned2" },
	};
	char *tar = tpath(state, "esc.tar");
	char *dest = tpath(state, "dest");
	char *inside = NULL;

	assert_int_equal(mkdir(outside, 0755), 0);
	assert_true(write_tar(tar, "xz", ents, ARRAY_SIZE(ents)));
	assert_int_equal(tar_extract(tar, dest, 0), 0);
	assert_false(exists(outside, "pwned"));
	assert_false(exists(*state, "pwned2"));
	/* both land inside, as if @dest were the root */
	inside = path_join(dest, outside);
	assert_file(inside, "pwned", "gotcha\n");
	assert_file(dest, "pwned2", "gotcha\n");
	assert_file(dest, "h", "gotcha\n");
	assert_link(dest, "esc", outside);
	free(inside);
	free(outside);
	free(tar);
	free(dest);
}

/*
 * A root prepared as apt leaves it, with absolute symlinks (normal in
 * Debian packages) and one pointing at a host directory: every entry
 * through them, a directory, a file, a hard link and a dangling link's
 * target, lands inside @dest, nothing is written on the host.
 */
static void test_tar_absolute_links_in_root(void **state)
{
	char *outside = tpath(state, "host-dir");
	char *dest = tpath(state, "root");
	char *tar = tpath(state, "abs.tar");
	char *p = NULL;
	char *inside = NULL;
	struct tent ents[] = {
		{ "var/run/", 'd', 0755, NULL },
		{ "var/run/pid", 'f', 0644, "42\n" },
		{ "host/evil", 'f', 0644, "gotcha\n" },
		{ "host/sub/", 'd', 0755, NULL },
		{ "hard", 'h', 0644, "host/evil" },
		{ "dangling/made/file", 'f', 0644, "deep\n" },
	};

	assert_int_equal(mkdir(outside, 0755), 0);
	p = path_join(dest, "var");
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
	/* /var/run -> /run as base-files ships it; /run not there yet */
	put_symlink(dest, "var/run", "/run");
	put_symlink(dest, "host", outside);
	put_symlink(dest, "dangling", "/nowhere/at/all");
	assert_true(write_tar(tar, "none", ents, ARRAY_SIZE(ents)));
	assert_int_equal(tar_extract(tar, dest, 0), 0);

	assert_link(dest, "var/run", "/run");
	assert_file(dest, "run/pid", "42\n");
	assert_false(exists(outside, "evil"));
	assert_false(exists(outside, "sub"));
	inside = path_join(dest, outside);
	assert_file(inside, "evil", "gotcha\n");
	assert_true(exists(inside, "sub"));
	assert_file(dest, "hard", "gotcha\n");
	assert_file(dest, "nowhere/at/all/made/file", "deep\n");
	assert_false(exists("/", "nowhere"));
	free(inside);
	free(outside);
	free(dest);
	free(tar);
}

static void test_tar_strip(void **state)
{
	static const struct tent ents[] = {
		{ "pkg-1.0/", 'd', 0755, NULL },
		{ "pkg-1.0/README", 'f', 0644, "read me\n" },
		{ "pkg-1.0/src/main.c", 'f', 0644, "int main(void);\n" },
		{ "pkg-1.0/README.hard", 'h', 0644, "pkg-1.0/README" },
		{ "pkg-1.0/src/link", 'l', 0777, "../README" },
	};
	char *tar = tpath(state, "pkg-1.0.tar.bz2");
	char *dest = tpath(state, "src");
	char *a = path_join(dest, "README");
	char *b = path_join(dest, "README.hard");
	struct stat sa, sb;

	if (!write_tar(tar, "bzip2", ents, ARRAY_SIZE(ents)))
		assert_true(write_tar(tar, "gzip", ents, ARRAY_SIZE(ents)));
	assert_int_equal(tar_extract(tar, dest, 1), 0);
	assert_false(exists(dest, "pkg-1.0"));
	assert_file(dest, "README", "read me\n");
	assert_file(dest, "src/main.c", "int main(void);\n");
	assert_file(dest, "src/link", "read me\n");
	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(stat(b, &sb), 0);
	assert_true(sa.st_ino == sb.st_ino);
	assert_true(tar_extract(tar, dest, -1) < 0);
	assert_true(tar_extract("/nonexistent.tar", dest, 0) < 0);
	free(a);
	free(b);
	free(tar);
	free(dest);
}

/* Unpacking into a merged-/usr root goes through lib -> usr/lib. */
static void test_tar_merged_usr(void **state)
{
	static const struct tent ents[] = {
		{ "./lib/", 'd', 0755, NULL },
		{ "./lib/aarch64-linux-gnu/", 'd', 0755, NULL },
		{ "./lib/aarch64-linux-gnu/libc.so.6", 'f', 0755, "elf\n" },
		{ "./lib/ld-linux-aarch64.so.1", 'l', 0777,
		  "aarch64-linux-gnu/ld-linux-aarch64.so.1" },
	};
	char *tar = tpath(state, "libc.tar.gz");
	char *dest = tpath(state, "root");
	char *usrlib = path_join(dest, "usr/lib");
	char *lib = path_join(dest, "lib");
	struct stat st;

	assert_int_equal(mkdir_p(usrlib, 0755), 0);
	assert_int_equal(symlink("usr/lib", lib), 0);
	assert_true(write_tar(tar, "gzip", ents, ARRAY_SIZE(ents)));
	assert_int_equal(tar_extract(tar, dest, 0), 0);
	assert_int_equal(lstat(lib, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file(dest, "usr/lib/aarch64-linux-gnu/libc.so.6", "elf\n");
	assert_link(dest, "usr/lib/ld-linux-aarch64.so.1",
		    "aarch64-linux-gnu/ld-linux-aarch64.so.1");
	free(tar);
	free(dest);
	free(usrlib);
	free(lib);
}

/* ---- initramfs ---- */

static void make_tree(const char *root)
{
	char *p = NULL;

	p = path_join(root, "bin");
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
	p = path_join(root, "etc");
	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
	p = path_join(root, "mnt");
	assert_int_equal(mkdir_p(p, 0700), 0);
	free(p);
	p = path_join(root, "bin/busybox");
	assert_int_equal(write_file(p, "BUSYBOX", 7, 0755), 0);
	free(p);
	p = path_join(root, "bin/sh");
	assert_int_equal(symlink("busybox", p), 0);
	free(p);
	p = path_join(root, "etc/passwd");
	assert_int_equal(write_file(p, "root:x:0:0::/:/bin/sh\n", 22, 0644),
			 0);
	free(p);
	p = path_join(root, "etc/passwd-");
	assert_int_equal(write_file(p, "", 0, 0600), 0);
	free(p);
	{
		char *a = path_join(root, "etc/passwd");
		char *b = path_join(root, "etc/hard");

		assert_int_equal(link(a, b), 0);
		free(a);
		free(b);
	}
}

/* One entry of a newc cpio, parsed the way the kernel reads it. */
struct newc {
	char *name;
	unsigned long f[13];	/* magic excluded: ino mode uid gid nlink
				   mtime filesize devmajor devminor
				   rdevmajor rdevminor namesize check */
	const char *data;
};
enum { N_INO, N_MODE, N_UID, N_GID, N_NLINK, N_MTIME, N_SIZE,
       N_NAMESIZE = 11 };

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Parse the entry at *off; false at the trailer. */
static bool newc_next(const char *buf, size_t len, size_t *off,
		      struct newc *e)
{
	const char *h = buf + *off;
	size_t name_end = 0;

	assert_true(*off + 110 <= len);
	assert_memory_equal(h, "070701", 6);
	for (int i = 0; i < 13; i++) {
		char field[9];

		memcpy(field, h + 6 + 8 * i, 8);
		field[8] = '\0';
		e->f[i] = strtoul(field, NULL, 16);
	}
	name_end = *off + 110 + e->f[N_NAMESIZE];
	assert_true(name_end <= len);
	assert_int_equal(buf[name_end - 1], '\0');
	e->name = xstrdup(h + 110);
	*off = align4(name_end);
	e->data = buf + *off;
	assert_true(*off + e->f[N_SIZE] <= len);
	*off = align4(*off + e->f[N_SIZE]);
	if (!strcmp(e->name, "TRAILER!!!")) {
		free(e->name);
		e->name = NULL;
		return false;
	}
	return true;
}

static void gunzip(const char *path, struct strbuf *out)
{
	char *cmd = xasprintf("gzip -dc '%s'", path);
	FILE *p = popen(cmd, "r");
	char buf[4096];
	size_t n = 0;

	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(out, buf, n);
	assert_int_equal(pclose(p), 0);
	free(cmd);
}

static void test_cpio_roundtrip(void **state)
{
	static const char *const extra[] = { "dev", "/proc/", "./sys",
					     "run/lock", "etc", NULL };
	static const char *const want[] = {
		"bin", "bin/busybox", "bin/sh", "dev", "etc", "etc/hard",
		"etc/passwd", "etc/passwd-", "mnt", "proc", "run", "run/lock",
		"sys",
	};
	char *root = tpath(state, "root");
	char *out = tpath(state, "initramfs.cpio");
	char *gz = tpath(state, "initramfs.cpio.gz");
	char *tmp = xasprintf("%s.tmp", out);
	struct strbuf unz = STRBUF_INIT;
	char *raw = NULL;
	size_t raw_len = 0;
	struct newc e = { 0 };
	unsigned long inos[ARRAY_SIZE(want)] = { 0 };
	char **paths = NULL;
	size_t nr = 0;
	size_t off = 0;
	size_t seen = 0;

	make_tree(root);
	assert_int_equal(cpio_write_tree(root, out, 1234567890, extra, false), 0);
	assert_false(file_exists(tmp));
	assert_int_equal(cpio_list(out, &paths, &nr), 0);
	assert_int_equal(nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < nr; i++) {
		assert_string_equal(paths[i], want[i]);
		free(paths[i]);
	}
	free(paths);

	/* look at the entries as the kernel will: uncompressed, and gzip's
	 * output is the same archive */
	assert_int_equal(read_file(out, &raw, &raw_len), 0);
	assert_int_equal(cpio_write_tree(root, gz, 1234567890, extra, true), 0);
	assert_int_equal(cpio_list(gz, &paths, &nr), 0);
	assert_int_equal(nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	if (have_tool("gzip")) {
		gunzip(gz, &unz);
		assert_int_equal(unz.len, raw_len);
		assert_memory_equal(unz.buf, raw, raw_len);
	}
	while (newc_next(raw, raw_len, &off, &e)) {
		unsigned long type = e.f[N_MODE] & S_IFMT;
		unsigned long perm = e.f[N_MODE] & 07777;

		assert_true(seen < ARRAY_SIZE(want));
		assert_string_equal(e.name, want[seen]);
		assert_int_equal(e.f[N_UID], 0);
		assert_int_equal(e.f[N_GID], 0);
		assert_int_equal(e.f[N_MTIME], 1234567890);
		/* unique inodes: the kernel makes no hard links */
		for (size_t i = 0; i < seen; i++)
			assert_true(inos[i] != e.f[N_INO]);
		inos[seen] = e.f[N_INO];
		if (type == S_IFREG)
			assert_int_equal(e.f[N_NLINK], 1);
		if (!strcmp(e.name, "bin/sh")) {
			assert_int_equal(type, S_IFLNK);
			assert_int_equal(e.f[N_SIZE], 7);
			assert_memory_equal(e.data, "busybox", 7);
		} else if (!strcmp(e.name, "etc/hard") ||
			   !strcmp(e.name, "etc/passwd")) {
			/* hard links are stored as two full files */
			assert_int_equal(type, S_IFREG);
			assert_int_equal(e.f[N_SIZE], 22);
			assert_memory_equal(e.data, "root:x:0:0::/:/bin/sh\n",
					    22);
		} else if (!strcmp(e.name, "bin/busybox")) {
			assert_int_equal(type, S_IFREG);
			assert_int_equal(perm, 0755);
			assert_memory_equal(e.data, "BUSYBOX", 7);
		} else if (!strcmp(e.name, "mnt")) {
			assert_int_equal(type, S_IFDIR);
			assert_int_equal(perm, 0700);
		} else if (!strcmp(e.name, "proc") ||
			   !strcmp(e.name, "run/lock")) {
			assert_int_equal(type, S_IFDIR);
			assert_int_equal(perm, 0755);
		}
		free(e.name);
		seen++;
	}
	assert_int_equal(seen, ARRAY_SIZE(want));
	/* nothing but padding after the trailer */
	for (; off < raw_len; off++)
		assert_int_equal(raw[off], '\0');
	free(raw);
	strbuf_release(&unz);
	free(root);
	free(out);
	free(gz);
	free(tmp);
}

static void test_cpio_deterministic(void **state)
{
	char *root = tpath(state, "root");
	char *out1 = tpath(state, "one.cpio.gz");
	char *out2 = tpath(state, "two.cpio.gz");
	char *passwd = NULL;
	char *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct timeval tv[2] = { { 1000, 0 }, { 1000, 0 } };

	make_tree(root);
	assert_int_equal(cpio_write_tree(root, out1, 0, NULL, true), 0);
	/* the tree's own timestamps do not matter */
	passwd = path_join(root, "etc/passwd");
	assert_int_equal(utimes(passwd, tv), 0);
	assert_int_equal(utimes(root, tv), 0);
	sleep(1);	/* a gzip header timestamp would differ */
	assert_int_equal(cpio_write_tree(root, out2, 0, NULL, true), 0);
	assert_int_equal(read_file(out1, &d1, &l1), 0);
	assert_int_equal(read_file(out2, &d2, &l2), 0);
	assert_true(l1 > 10);
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	/* gzip magic, then MTIME (bytes 4-7) zero */
	assert_int_equal((unsigned char)d1[0], 0x1f);
	assert_int_equal((unsigned char)d1[1], 0x8b);
	assert_memory_equal(d1 + 4, "\0\0\0\0", 4);
	/* overwriting an existing output works */
	assert_int_equal(cpio_write_tree(root, out1, 0, NULL, true), 0);
	free(d1);
	free(d2);
	free(passwd);
	free(root);
	free(out1);
	free(out2);
}

static void test_cpio_errors(void **state)
{
	char *out = tpath(state, "x.cpio.gz");
	char *tmp = xasprintf("%s.tmp", out);
	char **paths = NULL;
	size_t nr = 0;

	assert_true(cpio_write_tree("/nonexistent-root", out, 0, NULL, true) < 0);
	assert_false(file_exists(out));
	assert_false(file_exists(tmp));
	assert_true(cpio_list("/nonexistent.cpio", &paths, &nr) < 0);
	assert_true(cpio_list(out, &paths, &nr) < 0);
	free(out);
	free(tmp);
}

static void test_cpio_empty(void **state)
{
	char *root = tpath(state, "empty");
	char *out = tpath(state, "e.cpio.gz");
	static const char *const extra[] = { "dev", NULL };
	char **paths = NULL;
	size_t nr = 99;

	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(cpio_write_tree(root, out, 0, NULL, false), 0);
	assert_int_equal(cpio_list(out, &paths, &nr), 0);
	assert_int_equal(nr, 0);
	free(paths);
	assert_int_equal(cpio_write_tree(root, out, 0, extra, true), 0);
	assert_int_equal(cpio_list(out, &paths, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(paths[0], "dev");
	free(paths[0]);
	free(paths);
	free(root);
	free(out);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_deb_extract),
		T(test_deb_compressions),
		T(test_deb_dpkg_reads_it),
		T(test_deb_errors),
		T(test_tar_refuses_dotdot),
		T(test_tar_symlink_escape),
		T(test_tar_absolute_links_in_root),
		T(test_tar_strip),
		T(test_tar_merged_usr),
		T(test_cpio_roundtrip),
		T(test_cpio_deterministic),
		T(test_cpio_errors),
		T(test_cpio_empty),
	};

	tl_quiet = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
