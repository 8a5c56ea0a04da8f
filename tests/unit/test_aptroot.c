// SPDX-License-Identifier: MIT
/* test_aptroot.c - unit tests for lab/aptroot.c (host apt sources, Debian versions) */
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
#include <unistd.h>
#include <sys/stat.h>

#include "aptroot.h"
#include "util.h"

#define KEYRING_DEFAULT "/usr/share/keyrings/debian-archive-keyring.gpg"

struct fixture {
	char dir[64];		/* private temporary "etc/apt" */
	struct host_mirror m;
	char *err;		/* what the last host_mirror_read() printed */
};


/* ---- fixtures ---- */

static void clear_env(void)
{
	unsetenv("TEELAB_DEBIAN_MIRROR");
	unsetenv("TEELAB_DEBIAN_SECURITY_MIRROR");
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *d;

	clear_env();
	strcpy(f->dir, "/tmp/teelab-apt-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	d = path_join(f->dir, "sources.list.d");
	if (mkdir_p(d, 0755)) {
		free(d);
		remove_tree(f->dir);
		free(f);
		return -1;
	}
	free(d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	char *lock = xasprintf("%s.lock", f->dir);

	clear_env();
	host_mirror_release(&f->m);
	remove_tree(f->dir);
	/* apt_lock()'s file, beside the root (<cache>/apt.lock for <cache>/apt) */
	unlink(lock);
	free(lock);
	free(f->err);
	free(f);
	return 0;
}

/* Write @text to <dir>/@rel. */
static void put(const struct fixture *f, const char *rel, const char *text)
{
	put_file(f->dir, rel, text);
}

/* host_mirror_read() on the fixture dir, stderr into f->err. */
static int read_mirror(struct fixture *f, const char *codename)
{
	struct capture c = { -1, -1 };
	int ret;

	host_mirror_release(&f->m);
	free(f->err);
	capture_begin(&c);
	ret = host_mirror_read(f->dir, codename, &f->m);
	f->err = capture_end(&c);
	return ret;
}

static void expect_mirror(const struct fixture *f, const char *uri,
			  const char *security_uri, const char *signed_by)
{
	assert_non_null(f->m.uri);
	assert_non_null(f->m.security_uri);
	assert_non_null(f->m.signed_by);
	assert_string_equal(f->m.uri, uri);
	assert_string_equal(f->m.security_uri, security_uri);
	assert_string_equal(f->m.signed_by, signed_by);
	assert_string_equal(f->err, "");
}

/* ---- one-line format ---- */

static const char ONE_LINE[] =
	"# the host's sources\n"
	"# deb http://commented.example.invalid/debian bookworm main\n"
	"\n"
	"deb-src http://src.example.invalid/debian bookworm main\n"
	"deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.invalid/debian bookworm main\n"
	"deb http://sec.example.invalid/debian-security bookworm-security main\n"
	"   # an indented comment\n";

static void test_list_one_line(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list", ONE_LINE);
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://sec.example.invalid/debian-security", "/k.gpg");
}

/* The first matching entry wins; sources.list comes before sources.list.d. */
static void test_list_first_entry_wins(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list",
	    "deb\thttp://first.example.invalid/debian/\tbookworm main contrib\n"
	    "deb http://second.example.invalid/debian bookworm main\n");
	put(f, "sources.list.d/a.list",
	    "deb http://third.example.invalid/debian bookworm main\n"
	    "deb http://sec1.example.invalid/debian-security bookworm-security main\n"
	    "deb http://sec2.example.invalid/debian-security bookworm-security main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	/* trailing slashes are dropped; no signed-by means Debian's keyring */
	expect_mirror(f, "http://first.example.invalid/debian",
		      "http://sec1.example.invalid/debian-security", KEYRING_DEFAULT);
}

/* Only the suite equal to the codename counts (not bookworm-updates etc.). */
static void test_list_codename_exact(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list",
	    "deb http://upd.example.invalid/debian bookworm-updates main\n"
	    "deb http://old.example.invalid/debian bullseye main\n"
	    "deb http://mirror.example.invalid/debian bookworm main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://mirror.example.invalid/debian-security", KEYRING_DEFAULT);
	/* the same files, another codename */
	assert_int_equal(read_mirror(f, "bullseye"), 0);
	expect_mirror(f, "http://old.example.invalid/debian",
		      "http://old.example.invalid/debian-security", KEYRING_DEFAULT);
}

/* ---- deb822 ---- */

static void test_deb822_sources(void **state)
{
	struct fixture *f = *state;

	/* sorted before debian.sources: must lose for not serving bookworm */
	put(f, "sources.list.d/a-thirdparty.sources",
	    "Types: deb\n"
	    "URIs: http://vendor.example.invalid/repo\n"
	    "Suites: nodistro\n"
	    "Components: main\n"
	    "Signed-By: /etc/apt/keyrings/vendor.gpg\n");
	put(f, "sources.list.d/debian.sources",
	    "# disabled: must be ignored although it comes first\n"
	    "Types: deb\n"
	    "URIs: http://disabled.example.invalid/debian\n"
	    "Suites: bookworm bookworm-security\n"
	    "Components: main\n"
	    "Enabled: no\n"
	    "Signed-By: /etc/apt/keyrings/disabled.gpg\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://mirror.example.invalid/debian/\n"
	    "Suites: bookworm bookworm-updates\n"
	    "Components: main contrib non-free-firmware\n"
	    "Signed-By: /usr/share/keyrings/test-archive.gpg\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://sec.example.invalid/debian-security\n"
	    "Suites: bookworm-security\n"
	    "Components: main\n"
	    "Signed-By: /usr/share/keyrings/test-security.gpg");	/* no final newline */
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://sec.example.invalid/debian-security",
		      "/usr/share/keyrings/test-archive.gpg");
}

/* Field names are case-insensitive; "Enabled: yes" keeps a stanza. */
static void test_deb822_case_and_enabled_yes(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list.d/debian.sources",
	    "types: deb deb-src\n"
	    "uris: http://mirror.example.invalid/debian\n"
	    "suites: bookworm\n"
	    "components: main\n"
	    "enabled: yes\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://mirror.example.invalid/debian-security", KEYRING_DEFAULT);
}

/* "Enabled" is an apt boolean: "false" and "off" disable a stanza like "no". */
static void test_deb822_enabled_false(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list.d/debian.sources",
	    "Types: deb\n"
	    "URIs: http://disabled.example.invalid/debian\n"
	    "Suites: bookworm\n"
	    "Components: main\n"
	    "Enabled: false\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://mirror.example.invalid/debian\n"
	    "Suites: bookworm\n"
	    "Components: main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	assert_non_null(f->m.uri);
	assert_string_equal(f->m.uri, "http://mirror.example.invalid/debian");
}

/* A deb-src only stanza is not a binary archive, as deb-src lines are not. */
static void test_deb822_deb_src_only_ignored(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list.d/debian.sources",
	    "Types: deb-src\n"
	    "URIs: http://src.example.invalid/debian\n"
	    "Suites: bookworm\n"
	    "Components: main\n"
	    "\n"
	    "Types: deb\n"
	    "URIs: http://mirror.example.invalid/debian\n"
	    "Suites: bookworm\n"
	    "Components: main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	assert_non_null(f->m.uri);
	assert_string_equal(f->m.uri, "http://mirror.example.invalid/debian");
}

/* Both formats together: sources.list first, then sorted sources.list.d. */
static void test_mixed_formats(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list", "# moved to debian.sources\n");
	put(f, "sources.list.d/debian.sources",
	    "Types: deb\n"
	    "URIs: http://mirror.example.invalid/debian\n"
	    "Suites: bookworm\n"
	    "Components: main\n");
	put(f, "sources.list.d/security.list",
	    "deb http://sec.example.invalid/debian-security bookworm-security main\n");
	put(f, "sources.list.d/00-old.list.save",
	    "deb http://ignored.example.invalid/debian bookworm main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://sec.example.invalid/debian-security", KEYRING_DEFAULT);
}

/* ---- no entry ---- */

static void test_no_entry(void **state)
{
	struct fixture *f = *state;
	char *want;

	put(f, "sources.list",
	    "deb http://mirror.example.invalid/debian trixie main\n"
	    "deb-src http://mirror.example.invalid/debian bookworm main\n"
	    "# deb http://mirror.example.invalid/debian bookworm main\n");
	put(f, "sources.list.d/vendor.sources",
	    "Types: deb\n"
	    "URIs: http://vendor.example.invalid/repo\n"
	    "Suites: nodistro\n"
	    "Components: main\n");
	assert_int_equal(read_mirror(f, "bookworm"), -ENOENT);
	assert_null(f->m.uri);
	assert_null(f->m.security_uri);
	assert_null(f->m.signed_by);
	want = xasprintf("teelab: error: no Debian mirror for 'bookworm' in "
			 "%s/sources.list{,.d}; set TEELAB_DEBIAN_MIRROR\n", f->dir);
	assert_string_equal(f->err, want);
	free(want);
}

/* No apt configuration at all is the same -ENOENT. */
static void test_no_files(void **state)
{
	struct fixture *f = *state;
	char *d = path_join(f->dir, "sources.list.d");

	assert_int_equal(remove_tree(d), 0);
	free(d);
	assert_int_equal(read_mirror(f, "bookworm"), -ENOENT);
	assert_null(f->m.uri);
	assert_non_null(strstr(f->err, "TEELAB_DEBIAN_MIRROR"));
	assert_non_null(strstr(f->err, "'bookworm'"));
}

/* ---- derived security URI ---- */

static void test_security_derived(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list",
	    "deb [signed-by=/k.gpg] http://mirror.example.invalid/debian bookworm main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://mirror.example.invalid/debian-security", "/k.gpg");
}

/* A URI not ending in /debian is used for security suites as it is. */
static void test_security_same_uri(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list",
	    "deb http://proxy.example.invalid:3142/archive bookworm main\n");
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://proxy.example.invalid:3142/archive",
		      "http://proxy.example.invalid:3142/archive", KEYRING_DEFAULT);
}

/* ---- environment overrides ---- */

static void test_env_mirror_override(void **state)
{
	struct fixture *f = *state;

	put(f, "sources.list", ONE_LINE);
	assert_int_equal(setenv("TEELAB_DEBIAN_MIRROR",
				"http://override.example.invalid/debian", 1), 0);
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	/* the host's security entry and keyring stay */
	expect_mirror(f, "http://override.example.invalid/debian",
		      "http://sec.example.invalid/debian-security", "/k.gpg");

	assert_int_equal(setenv("TEELAB_DEBIAN_SECURITY_MIRROR",
				"http://osec.example.invalid/debian-security", 1), 0);
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://override.example.invalid/debian",
		      "http://osec.example.invalid/debian-security", "/k.gpg");

	/* empty values are no override */
	assert_int_equal(setenv("TEELAB_DEBIAN_MIRROR", "", 1), 0);
	assert_int_equal(setenv("TEELAB_DEBIAN_SECURITY_MIRROR", "", 1), 0);
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://sec.example.invalid/debian-security", "/k.gpg");

	/* and without the variables, the host's own entry again */
	clear_env();
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://mirror.example.invalid/debian",
		      "http://sec.example.invalid/debian-security", "/k.gpg");
}

/* The override alone suffices when the host has no Debian entry. */
static void test_env_mirror_without_sources(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(setenv("TEELAB_DEBIAN_MIRROR",
				"http://override.example.invalid/debian", 1), 0);
	assert_int_equal(read_mirror(f, "bookworm"), 0);
	expect_mirror(f, "http://override.example.invalid/debian",
		      "http://override.example.invalid/debian-security", KEYRING_DEFAULT);
	unsetenv("TEELAB_DEBIAN_MIRROR");
	assert_int_equal(read_mirror(f, "bookworm"), -ENOENT);
	assert_null(f->m.uri);
}

/* ---- debian_version_cmp ---- */

#define assert_ver_lt(a, b)                                     \
	do {                                                    \
		assert_true(debian_version_cmp((a), (b)) < 0);  \
		assert_true(debian_version_cmp((b), (a)) > 0);  \
	} while (0)

#define assert_ver_eq(a, b)                                       \
	do {                                                      \
		assert_int_equal(debian_version_cmp((a), (b)), 0); \
		assert_int_equal(debian_version_cmp((b), (a)), 0); \
	} while (0)

static void test_version_epoch(void **state)
{
	(void)state;
	assert_ver_lt("2.0", "1:1.0");
	assert_ver_lt("1:9.9", "2:0.1");
	assert_ver_eq("0:1.0", "1.0");
	assert_ver_lt("1:1.0-1", "1:1.0-2");
	assert_ver_lt("10:1.0", "11:0");
}

static void test_version_tilde(void **state)
{
	(void)state;
	assert_ver_lt("1.0~rc1", "1.0");
	assert_ver_lt("1.0~rc1", "1.0~rc2");
	assert_ver_lt("1.0~~", "1.0~");
	assert_ver_lt("1.0~", "1.0");
	assert_ver_lt("1.0", "1.0a");
	assert_ver_lt("1.0", "1.0+dfsg");
	assert_ver_lt("1.0-1~bpo12+1", "1.0-1");
}

static void test_version_revisions(void **state)
{
	(void)state;
	assert_ver_lt("6.12.115-1~deb12u1", "6.12.117-1~deb12u1");
	assert_ver_lt("2.12.1+dfsg-1", "2.12.1+dfsg-2");
	assert_ver_lt("6.1.0-1", "6.1.0-1+deb12u1");
	assert_ver_lt("1.0", "1.0-1");
	assert_ver_lt("1.0-9", "1.0-10");
	/* the revision is what follows the last hyphen */
	assert_ver_lt("1.0-beta-1", "1.0-beta-2");
	assert_ver_lt("4.5.0-1", "4.5.0.1-1");
}

static void test_version_numeric(void **state)
{
	(void)state;
	assert_ver_lt("1.9", "1.10");
	assert_ver_lt("1.99", "1.100");
	assert_ver_lt("2", "10");
	assert_ver_lt("1.2.3", "1.2.10");
	assert_ver_lt("a", "b");
	assert_ver_lt("1.0a", "1.0b");
	assert_ver_lt("1.0Z", "1.0a");	/* ASCII order for letters */
	assert_ver_lt("1.0a", "1.0.");	/* non-letters sort after letters */
}

static void test_version_equal(void **state)
{
	(void)state;
	assert_ver_eq("1.0", "1.0");
	assert_ver_eq("6.12.117-1~deb12u1", "6.12.117-1~deb12u1");
	assert_ver_eq("1.01", "1.1");	/* leading zeros do not count */
	assert_ver_eq("1.0-0", "1.0");	/* an absent revision is "0" */
	assert_ver_eq("", "");
}


/* ---- a pinned version and the cache ---- */

/*
 * A private apt root in the fixture dir whose apt tools are two scripts on
 * PATH: apt-cache knows no package (prints nothing), apt-get update works.
 * @with_apt false: no apt tool at all, so any apt call fails.
 */
struct pinroot {
	struct aptroot a;
	char *old_path;
};

static void pinroot_open(struct fixture *f, struct pinroot *p, bool with_apt)
{
	char *bin = path_join(f->dir, "bin");

	memset(p, 0, sizeof(*p));
	p->a.root = xstrdup(f->dir);
	p->a.conf = path_join(f->dir, "apt.conf");
	p->a.debs = path_join(f->dir, "debs");
	p->a.sources = path_join(f->dir, "sources");
	assert_int_equal(mkdir_p(p->a.debs, 0755), 0);
	assert_int_equal(mkdir_p(p->a.sources, 0755), 0);
	assert_int_equal(mkdir_p(bin, 0755), 0);
	if (with_apt) {
		static const char *const tools[] = { "apt-cache", "apt-get" };

		for (size_t i = 0; i < 2; i++) {
			char *tool = path_join(bin, tools[i]);

			write_file_str(tool, "#!/bin/sh\nexit 0\n");
			assert_int_equal(chmod(tool, 0755), 0);
			free(tool);
		}
	}
	p->old_path = xstrdup(getenv("PATH"));
	setenv("PATH", bin, 1);
	free(bin);
}

static void pinroot_close(struct pinroot *p)
{
	setenv("PATH", p->old_path, 1);
	free(p->old_path);
	free(p->a.root);
	free(p->a.conf);
	free(p->a.debs);
	free(p->a.sources);
}

static const struct pkg_ref pinned_src = {
	.name = "linux-source-6.1", .suite = "bookworm", .version = "6.1.170-3",
	.arch = "all", .where = "src-6.1.170.yaml:3:8",
};

static void test_pinned_deb_from_cache_without_apt(void **state)
{
	struct fixture *f = *state;
	struct pinroot p;
	char *path = NULL;

	pinroot_open(f, &p, false);
	put(f, "debs/linux-source-6.1_6.1.170-3_all.deb", "a .deb");
	put(f, "debs/linux-source-6.1_6.1.170-3_all.deb.sha256", "00ff\n");
	assert_int_equal(aptroot_fetch_deb(&p.a, &pinned_src, &path), 0);
	assert_non_null(path);
	assert_true(ends_with(path, "/debs/linux-source-6.1_6.1.170-3_all.deb"));
	free(path);
	pinroot_close(&p);
}

static void test_pinned_source_from_cache_without_apt(void **state)
{
	struct fixture *f = *state;
	struct pinroot p;
	char *dir = NULL, *version = NULL, *src;

	pinroot_open(f, &p, false);
	src = path_join(p.a.sources, "linux-source-6.1_6.1.170-3");
	assert_int_equal(mkdir_p(src, 0755), 0);
	free(src);
	put(f, "sources/linux-source-6.1_6.1.170-3/.complete", "6.1.170-3");
	assert_int_equal(aptroot_fetch_source(&p.a, &pinned_src, &dir, &version), 0);
	assert_true(ends_with(dir, "/sources/linux-source-6.1_6.1.170-3"));
	assert_string_equal(version, "6.1.170-3");
	free(dir);
	free(version);
	pinroot_close(&p);
}

/*
 * aptroot_fetch_deb() in a root whose apt knows no package, with a .deb of
 * @cached_version in the cache: it must fail with -ENOENT; what it printed
 * (malloc'd).
 */
static char *fetch_missing(struct fixture *f, const struct pkg_ref *ref, const char *cached_version)
{
	struct pinroot p;
	struct capture c;
	char *path = NULL, *err, *deb;
	int ret;

	pinroot_open(f, &p, true);
	deb = xasprintf("debs/linux-source-6.1_%s_all.deb", cached_version);
	put(f, deb, "a .deb");
	free(deb);
	deb = xasprintf("debs/linux-source-6.1_%s_all.deb.sha256", cached_version);
	put(f, deb, "00ff\n");
	free(deb);
	capture_begin(&c);
	ret = aptroot_fetch_deb(&p.a, ref, &path);
	err = capture_end(&c);
	assert_int_equal(ret, -ENOENT);
	assert_null(path);
	pinroot_close(&p);
	return err;
}

/* Not in the cache, not in the archive: the error names package, version, suite and the cache. */
static void test_pinned_deb_gone_everywhere(void **state)
{
	/* another version in the cache does not stand in for the pinned one */
	char *err = fetch_missing(*state, &pinned_src, "6.1.176-1");

	assert_non_null(strstr(err, "src-6.1.170.yaml:3:8: no package 'linux-source-6.1' "
				    "version '6.1.170-3' in suite 'bookworm'"));
	assert_non_null(strstr(err, "the pinned version 6.1.170-3 of 'linux-source-6.1' is not "
				    "in the cache"));
	assert_non_null(strstr(err, "/debs/linux-source-6.1_6.1.170-3_all.deb"));
	free(err);
}

/* Without a version the cached file is not used blindly: apt decides (here: nothing). */
static void test_unpinned_deb_asks_apt(void **state)
{
	struct pkg_ref ref = pinned_src;
	char *err;

	ref.version = NULL;
	err = fetch_missing(*state, &ref, "6.1.170-3");
	assert_null(strstr(err, "pinned"));
	free(err);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_list_one_line),
		T(test_list_first_entry_wins),
		T(test_list_codename_exact),
		T(test_deb822_sources),
		T(test_deb822_case_and_enabled_yes),
		T(test_deb822_enabled_false),
		T(test_deb822_deb_src_only_ignored),
		T(test_mixed_formats),
		T(test_no_entry),
		T(test_no_files),
		T(test_security_derived),
		T(test_security_same_uri),
		T(test_env_mirror_override),
		T(test_env_mirror_without_sources),
		cmocka_unit_test(test_version_epoch),
		cmocka_unit_test(test_version_tilde),
		cmocka_unit_test(test_version_revisions),
		cmocka_unit_test(test_version_numeric),
		cmocka_unit_test(test_version_equal),
		T(test_pinned_deb_from_cache_without_apt),
		T(test_pinned_source_from_cache_without_apt),
		T(test_pinned_deb_gone_everywhere),
		T(test_unpinned_deb_asks_apt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
