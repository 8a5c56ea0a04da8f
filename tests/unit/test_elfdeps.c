// SPDX-License-Identifier: MIT
/* test_elfdeps.c - unit tests for lab/elfdeps.c (ELF needs and closures) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <elf.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfdeps.h"
#include "util.h"

#define CROSS_CC "aarch64-linux-gnu-gcc"
#define CROSS_SYSROOT "/usr/aarch64-linux-gnu"

static void mkdirs(const char *root, const char *rel)
{
	char *p = path_join(root, rel);

	assert_int_equal(mkdir_p(p, 0755), 0);
	free(p);
}

static void copy_in(const char *root, const char *rel, const char *src)
{
	char *p = path_join(root, rel);

	assert_int_equal(copy_file(src, p), 0);
	free(p);
}

static bool have_tool(const char *tool)
{
	char *cmd = xasprintf("command -v %s >/dev/null 2>&1", tool);
	bool ok = !system(cmd);

	free(cmd);
	return ok;
}

/* ---- synthetic ELF files: every class and byte order ---- */

struct wr {
	unsigned char *b;
	bool is64;
	bool msb;
};

static void put(const struct wr *w, size_t off, uint64_t v, size_t width)
{
	for (size_t i = 0; i < width; i++)
		w->b[off + (w->msb ? width - 1 - i : i)] =
			(unsigned char)(v >> (8 * i));
}

#define PUT(w, T, fld, base, v)						\
	put((w), (base) + ((w)->is64 ? offsetof(Elf64_##T, fld) :	\
			   offsetof(Elf32_##T, fld)), (v),		\
	    (w)->is64 ? sizeof(((Elf64_##T *)0)->fld) :			\
	    sizeof(((Elf32_##T *)0)->fld))

/*
 * A minimal dynamic executable: Ehdr, PT_INTERP, PT_LOAD (whole file at
 * vaddr 0x10000), PT_DYNAMIC; DT_NEEDED x2, DT_RUNPATH or DT_RPATH.
 * With @bad_strtab the DT_STRTAB address is outside the PT_LOAD.
 */
static void write_elf(const char *path, bool is64, bool msb, bool rpath,
		      bool bad_strtab, size_t truncate_to)
{
	static const char interp[] = "/lib/ld-test.so.1";
	static const char strtab[] = "\0libfoo.so.1\0libbar.so\0"
				     "$ORIGIN/../lib:/opt/x";
	const size_t foo = 1, bar = 13, rp = 23;
	unsigned char buf[1024];
	struct wr w = { buf, is64, msb };
	size_t eh = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t ph = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t dsz = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t interp_off = eh + 3 * ph;
	size_t str_off = interp_off + sizeof(interp);
	size_t dyn_off = (str_off + sizeof(strtab) + 7) & ~(size_t)7;
	size_t total = dyn_off + 6 * dsz;
	const uint64_t base = 0x10000;
	uint64_t dyn[][2] = {
		{ DT_NEEDED, foo },
		{ DT_NEEDED, bar },
		{ DT_STRTAB, (bad_strtab ? 0x900000 : base) + str_off },
		{ DT_STRSZ, sizeof(strtab) },
		{ rpath ? DT_RPATH : DT_RUNPATH, rp },
		{ DT_NULL, 0 },
	};
	size_t p = eh;

	assert_true(total <= sizeof(buf));
	memset(buf, 0, sizeof(buf));
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	buf[EI_DATA] = msb ? ELFDATA2MSB : ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
	PUT(&w, Ehdr, e_type, 0, ET_EXEC);
	PUT(&w, Ehdr, e_machine, 0, msb ? EM_PPC : EM_ARM);
	PUT(&w, Ehdr, e_version, 0, EV_CURRENT);
	PUT(&w, Ehdr, e_phoff, 0, eh);
	PUT(&w, Ehdr, e_ehsize, 0, eh);
	PUT(&w, Ehdr, e_phentsize, 0, ph);
	PUT(&w, Ehdr, e_phnum, 0, 3);

	PUT(&w, Phdr, p_type, p, PT_INTERP);
	PUT(&w, Phdr, p_offset, p, interp_off);
	PUT(&w, Phdr, p_filesz, p, sizeof(interp));
	p += ph;
	PUT(&w, Phdr, p_type, p, PT_LOAD);
	PUT(&w, Phdr, p_offset, p, 0);
	PUT(&w, Phdr, p_vaddr, p, base);
	PUT(&w, Phdr, p_filesz, p, total);
	PUT(&w, Phdr, p_memsz, p, total);
	p += ph;
	PUT(&w, Phdr, p_type, p, PT_DYNAMIC);
	PUT(&w, Phdr, p_offset, p, dyn_off);
	PUT(&w, Phdr, p_vaddr, p, base + dyn_off);
	PUT(&w, Phdr, p_filesz, p, 6 * dsz);

	memcpy(buf + interp_off, interp, sizeof(interp));
	memcpy(buf + str_off, strtab, sizeof(strtab));
	for (size_t i = 0; i < ARRAY_SIZE(dyn); i++) {
		PUT(&w, Dyn, d_tag, dyn_off + i * dsz, dyn[i][0]);
		PUT(&w, Dyn, d_un.d_val, dyn_off + i * dsz, dyn[i][1]);
	}
	if (truncate_to)
		total = truncate_to;
	assert_int_equal(write_file(path, buf, total, 0755), 0);
}

static void test_synthetic(void **state)
{
	static const struct {
		bool is64, msb, rpath;
	} kinds[] = {
		{ false, false, false },
		{ false, true, true },
		{ true, false, true },
		{ true, true, false },
	};
	char *path = tpath(state, "synthetic");

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct strvec needed = STRVEC_INIT;
		struct strvec runpath = STRVEC_INIT;
		char *interp = NULL;

		write_elf(path, kinds[i].is64, kinds[i].msb, kinds[i].rpath,
			  false, 0);
		assert_int_equal(elf_read_deps(path, &interp, &needed,
					       &runpath), 0);
		assert_string_equal(interp, "/lib/ld-test.so.1");
		assert_int_equal(needed.nr, 2);
		assert_string_equal(needed.v[0], "libfoo.so.1");
		assert_string_equal(needed.v[1], "libbar.so");
		assert_int_equal(runpath.nr, 2);
		assert_string_equal(runpath.v[0], "$ORIGIN/../lib");
		assert_string_equal(runpath.v[1], "/opt/x");
		free(interp);
		strvec_release(&needed);
		strvec_release(&runpath);
	}
	free(path);
}

static void test_corrupt(void **state)
{
	char *path = tpath(state, "corrupt");
	struct strvec needed = STRVEC_INIT;
	struct strvec runpath = STRVEC_INIT;
	char *interp = NULL;

	/* ELF magic but cut inside the header */
	write_elf(path, true, false, false, false, 40);
	assert_int_equal(elf_read_deps(path, &interp, &needed, &runpath),
			 -EINVAL);
	/* cut inside the program headers, then inside the dynamic section */
	write_elf(path, true, false, false, false, 200);
	assert_int_equal(elf_read_deps(path, &interp, &needed, &runpath),
			 -EINVAL);
	write_elf(path, true, false, false, false, 300);
	assert_int_equal(elf_read_deps(path, &interp, &needed, &runpath),
			 -EINVAL);
	/* DT_STRTAB not loaded by any segment */
	write_elf(path, false, true, false, true, 0);
	assert_int_equal(elf_read_deps(path, &interp, &needed, &runpath),
			 -EINVAL);
	assert_null(interp);
	assert_int_equal(needed.nr, 0);
	assert_int_equal(runpath.nr, 0);
	free(path);
}

/*
 * Every cut of a valid ELF file is refused with a message naming the file
 * and what is missing, never read past its end (libelf does the bounds).
 */
static void test_truncated(void **state)
{
	static const struct {
		size_t len;
		const char *msg;
	} cuts[] = {
		{ 40, "corrupt ELF file: not readable as ELF" },
		{ 100, "corrupt ELF file: program headers out of the file" },
		{ 200, "corrupt ELF file: program headers out of the file" },
		{ 240, "corrupt ELF file: PT_INTERP out of the file" },
		{ 300, "corrupt ELF file: dynamic section out of the file" },
	};
	char *path = tpath(state, "cut");
	char *full = NULL;
	size_t size = 0;

	write_elf(path, true, false, false, false, 0);
	assert_int_equal(read_file(path, &full, &size), 0);
	for (size_t len = SELFMAG + 2; len < size; len++) {
		struct strvec needed = STRVEC_INIT;
		struct strvec runpath = STRVEC_INIT;
		struct capture cap;
		char *interp = NULL;
		char *err = NULL;
		int ret = 0;

		assert_int_equal(write_file(path, full, len, 0644), 0);
		capture_begin(&cap);
		ret = elf_read_deps(path, &interp, &needed, &runpath);
		err = capture_end(&cap);
		if (len < EI_NIDENT) {
			assert_int_equal(ret, -ENOEXEC);
		} else {
			if (ret != -EINVAL)
				fail_msg("cut at %zu: %d, stderr '%s'", len, ret, err);
			assert_non_null(strstr(err, path));
			assert_non_null(strstr(err, "is a corrupt ELF file: "));
		}
		for (size_t i = 0; i < ARRAY_SIZE(cuts); i++)
			if (cuts[i].len == len && !strstr(err, cuts[i].msg))
				fail_msg("cut at %zu: '%s' without '%s'", len, err, cuts[i].msg);
		assert_null(interp);
		assert_int_equal(needed.nr, 0);
		free(err);
	}
	free(full);
	free(path);
}

static void test_not_elf(void **state)
{
	char *script = tpath(state, "script.sh");
	char *empty = tpath(state, "empty");
	struct strvec needed = STRVEC_INIT;
	struct strvec runpath = STRVEC_INIT;
	char *interp = (char *)"unset";

	assert_int_equal(write_file_str(script, "#!/bin/sh\necho hi\n"), 0);
	assert_int_equal(write_file_str(empty, ""), 0);
	assert_int_equal(elf_read_deps(script, &interp, &needed, &runpath),
			 -ENOEXEC);
	assert_null(interp);
	assert_int_equal(elf_read_deps(empty, &interp, &needed, &runpath),
			 -ENOEXEC);
	assert_int_equal(needed.nr, 0);
	assert_int_equal(elf_read_deps("/nonexistent/x", &interp, &needed,
				       &runpath), -ENOENT);
	assert_true(elf_read_deps(*state, &interp, &needed, &runpath) < 0);
	free(script);
	free(empty);
}

/*
 * elf_read_modinfo() on an object built the way Linux's MODULE_ALIAS()
 * and "depends=" land in a .ko: NUL-terminated strings in ".modinfo",
 * with padding between them; an object without the section adds nothing.
 */
static void test_modinfo(void **state)
{
	char *src = tpath(state, "mod.c"), *obj = tpath(state, "mod.ko");
	char *plain = tpath(state, "plain.o"), *script = tpath(state, "s.sh");
	char *cmd;
	struct strvec info = STRVEC_INIT;

	assert_int_equal(write_file_str(src,
		"#define I(n, s) static const char n[] __attribute__((section(\".modinfo\"), used, aligned(8))) = s\n"
		"I(a, \"alias=of:N*T*Clinaro,optee-tz\");\n"
		"I(b, \"depends=tee,failover\");\n"
		"I(c, \"alias=virtio:d00000001v*\");\n"
		"int x;\n"), 0);
	cmd = xasprintf("cc -c -o %s %s && cc -c -DNONE -x c -o %s /dev/null", obj, src, plain);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(elf_read_modinfo(obj, &info), 0);
	assert_int_equal(info.nr, 3);
	assert_true(strvec_contains(&info, "alias=of:N*T*Clinaro,optee-tz"));
	assert_true(strvec_contains(&info, "depends=tee,failover"));
	assert_true(strvec_contains(&info, "alias=virtio:d00000001v*"));
	strvec_release(&info);
	assert_int_equal(elf_read_modinfo(plain, &info), 0);
	assert_int_equal(info.nr, 0);
	assert_int_equal(write_file_str(script, "#!/bin/sh\n"), 0);
	assert_int_equal(elf_read_modinfo(script, &info), -ENOEXEC);
	assert_int_equal(elf_read_modinfo("/nonexistent/x.ko", &info), -ENOENT);
	assert_int_equal(info.nr, 0);
	free(src);
	free(obj);
	free(plain);
	free(script);
}

/* ---- closures ---- */

/*
 * The contract of elf_resolve_closure(): each path once, present in the
 * sysroot as a symlink or a regular file, under real directories only
 * (so that copying the paths one by one rebuilds the same tree).
 */
static void check_closure(const char *sysroot, const struct strvec *out)
{
	for (size_t i = 0; i < out->nr; i++) {
		char *host = xasprintf("%s%s", strcmp(sysroot, "/") ?
				       sysroot : "", out->v[i]);
		char *dir = xstrdup(host);
		char real[PATH_MAX];
		char *want = NULL;
		struct stat st;

		assert_true(out->v[i][0] == '/');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(out->v[i], out->v[j]);
		assert_int_equal(lstat(host, &st), 0);
		assert_true(S_ISLNK(st.st_mode) || S_ISREG(st.st_mode));
		assert_non_null(realpath(dirname(dir), real));
		want = xstrdup(host);
		assert_string_equal(real, dirname(want));
		free(want);
		free(dir);
		free(host);
	}
}

static bool out_has_suffix(const struct strvec *out, const char *suffix)
{
	for (size_t i = 0; i < out->nr; i++)
		if (ends_with(out->v[i], suffix))
			return true;
	return false;
}

static void test_host_ls(void **state UNUSED)
{
#if defined(__x86_64__) && defined(__linux__)
	static const char *const libdirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
		"/usr/lib", NULL,
	};
	static const char *const progs[] = { "/bin/ls" };
	struct strvec needed = STRVEC_INIT;
	struct strvec runpath = STRVEC_INIT;
	struct strvec out = STRVEC_INIT;
	char *interp = NULL;

	assert_int_equal(elf_read_deps("/bin/ls", &interp, &needed,
				       &runpath), 0);
	assert_string_equal(interp, "/lib64/ld-linux-x86-64.so.2");
	assert_true(strvec_contains(&needed, "libc.so.6"));
	free(interp);

	assert_int_equal(elf_resolve_closure("/", progs, 1, libdirs, &out),
			 0);
	assert_true(out_has_suffix(&out, "/libc.so.6"));
	assert_true(out_has_suffix(&out, "/ld-linux-x86-64.so.2"));
	for (size_t i = 0; i < needed.nr; i++) {
		char *suffix = xasprintf("/%s", needed.v[i]);

		assert_true(out_has_suffix(&out, suffix));
		free(suffix);
	}
	check_closure("/", &out);
	/* the program itself is not part of its closure */
	assert_false(strvec_contains(&out, "/bin/ls"));
	assert_false(strvec_contains(&out, "/usr/bin/ls"));
	strvec_release(&needed);
	strvec_release(&runpath);
	strvec_release(&out);
#else
	skip();
#endif
}

static void compile(const char *args)
{
	char *cmd = xasprintf(CROSS_CC " %s", args);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/*
 * A merged-/usr arm64 sysroot like the unpacked trixie .debs: lib ->
 * usr/lib, the loader reached through an absolute symlink, a library
 * found only through DT_RUNPATH=$ORIGIN/..., and a wrong-architecture
 * libc.so.6 that must be passed over.
 */
static void test_aarch64_merged_usr(void **state)
{
	static const char *const libdirs[] = {
		"/usr/lib/wrong", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib", NULL,
	};
	static const char *const progs[] = { "/usr/bin/hello",
					     "/bin/hello.sh" };
	static const char *const want[] = {
		"/lib",
		"/usr/lib/ld-linux-aarch64.so.1",
		"/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
		"/usr/lib/aarch64-linux-gnu/libc.so.6",
		"/usr/lib/foo/libfoo.so",
	};
	char *root = NULL;
	char *src = NULL;
	char *lsrc = NULL;
	char *args = NULL;
	char *p = NULL;
	struct strvec needed = STRVEC_INIT;
	struct strvec runpath = STRVEC_INIT;
	struct strvec out = STRVEC_INIT;
	char *interp = NULL;

	if (!have_tool(CROSS_CC) ||
	    !file_exists(CROSS_SYSROOT "/lib/libc.so.6"))
		skip();
	root = tpath(state, "sysroot");
	src = tpath(state, "hello.c");
	lsrc = tpath(state, "foo.c");
	mkdirs(root, "usr/bin");
	mkdirs(root, "usr/lib/aarch64-linux-gnu");
	mkdirs(root, "usr/lib/foo");
	mkdirs(root, "usr/lib/wrong");
	put_symlink(root, "lib", "usr/lib");
	put_symlink(root, "bin", "usr/bin");
	copy_in(root, "usr/lib/aarch64-linux-gnu/libc.so.6",
		CROSS_SYSROOT "/lib/libc.so.6");
	copy_in(root, "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
		CROSS_SYSROOT "/lib/ld-linux-aarch64.so.1");
	put_symlink(root, "usr/lib/ld-linux-aarch64.so.1",
		   "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1");
	/* an ELF of another machine, first in the search order */
	copy_in(root, "usr/lib/wrong/libc.so.6", "/bin/ls");
	p = path_join(root, "usr/bin/hello.sh");
	assert_int_equal(write_file(p, "#!/bin/sh\n", 10, 0755), 0);
	free(p);

	assert_int_equal(write_file_str(lsrc, "int foo(void) { return 1; }\n"),
			 0);
	assert_int_equal(write_file_str(src, "int foo(void);\n"
					"int main(void) { return foo(); }\n"),
			 0);
	args = xasprintf("-shared -fPIC -o %s/usr/lib/foo/libfoo.so %s", root,
			 lsrc);
	compile(args);
	free(args);
	args = xasprintf("-o %s/usr/bin/hello %s -L%s/usr/lib/foo -lfoo "
			 "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib/foo'",
			 root, src, root);
	compile(args);
	free(args);

	p = path_join(root, "usr/bin/hello");
	assert_int_equal(elf_read_deps(p, &interp, &needed, &runpath), 0);
	free(p);
	assert_string_equal(interp, "/lib/ld-linux-aarch64.so.1");
	assert_true(strvec_contains(&needed, "libc.so.6"));
	assert_true(strvec_contains(&needed, "libfoo.so"));
	assert_int_equal(runpath.nr, 1);
	assert_string_equal(runpath.v[0], "$ORIGIN/../lib/foo");

	assert_int_equal(elf_resolve_closure(root, progs, ARRAY_SIZE(progs),
					     libdirs, &out), 0);
	assert_int_equal(out.nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_true(strvec_contains(&out, want[i]));
	check_closure(root, &out);
	/* the same again: stable order */
	{
		struct strvec again = STRVEC_INIT;

		assert_int_equal(elf_resolve_closure(root, progs,
						     ARRAY_SIZE(progs),
						     libdirs, &again), 0);
		assert_int_equal(again.nr, out.nr);
		for (size_t i = 0; i < out.nr; i++)
			assert_string_equal(again.v[i], out.v[i]);
		strvec_release(&again);
	}
	free(interp);
	strvec_release(&needed);
	strvec_release(&runpath);
	strvec_release(&out);
	free(root);
	free(src);
	free(lsrc);
}

/* The Debian cross sysroot, as installed: flat /lib. */
static void test_aarch64_cross_sysroot(void **state UNUSED)
{
	static const char *const libdirs[] = { "/lib", NULL };
	static const char *const progs[] = { "/lib/libstdc++.so.6" };
	static const char *const want[] = {
		"/lib/libm.so.6", "/lib/libc.so.6", "/lib/libgcc_s.so.1",
		"/lib/ld-linux-aarch64.so.1",
	};
	struct strvec out = STRVEC_INIT;

	if (!file_exists(CROSS_SYSROOT "/lib/libstdc++.so.6"))
		skip();
	assert_int_equal(elf_resolve_closure(CROSS_SYSROOT, progs, 1, libdirs,
					     &out), 0);
	assert_int_equal(out.nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_true(strvec_contains(&out, want[i]));
	check_closure(CROSS_SYSROOT, &out);
	strvec_release(&out);
}

static void test_missing_lib(void **state)
{
	static const char *const libdirs[] = { "/lib", "/usr/lib", NULL };
	static const char *const progs[] = { "/bin/ls" };
	static const char *const missing[] = { "/bin/nothing" };
	char *root = tpath(state, "sysroot");
	struct strvec out = STRVEC_INIT;
	struct strvec needed = STRVEC_INIT;
	struct strvec runpath = STRVEC_INIT;
	char *interp = NULL;

	mkdirs(root, "bin");
	mkdirs(root, "lib");
	copy_in(root, "bin/ls", "/bin/ls");
	assert_int_equal(elf_resolve_closure(root, progs, 1, libdirs, &out),
			 -ENOENT);
	assert_int_equal(elf_resolve_closure(root, missing, 1, libdirs, &out),
			 -ENOENT);
	/* with the loader present, the libraries are missing */
	assert_int_equal(elf_read_deps("/bin/ls", &interp, &needed, &runpath),
			 0);
	if (interp) {
		char *dir = xstrdup(interp);

		mkdirs(root, dirname(dir));
		copy_in(root, interp, "/bin/ls");
		free(dir);
	}
	assert_int_equal(elf_resolve_closure(root, progs, 1, libdirs, &out),
			 -ENOENT);
	/* a symlink loop is a missing library, not a hang */
	put_symlink(root, "lib/libc.so.6", "libc.so.6");
	put_symlink(root, "lib/libselinux.so.1", "/lib/libselinux.so.1");
	assert_int_equal(elf_resolve_closure(root, progs, 1, libdirs, &out),
			 -ENOENT);
	assert_int_equal(elf_resolve_closure("/nonexistent", progs, 1,
					     libdirs, &out), -ENOENT);
	strvec_release(&out);
	strvec_release(&needed);
	strvec_release(&runpath);
	free(interp);
	free(root);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_synthetic),
		T(test_corrupt),
		T(test_truncated),
		T(test_not_elf),
		T(test_modinfo),
		T(test_host_ls),
		T(test_aarch64_merged_usr),
		T(test_aarch64_cross_sysroot),
		T(test_missing_lib),
	};

	tl_quiet = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
