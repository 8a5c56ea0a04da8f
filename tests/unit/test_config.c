// SPDX-License-Identifier: MIT
/* test_config.c - unit tests for lab/config.c (profiles and their parts) */
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

#include "config.h"
#include "util.h"

struct fixture {
	char dir[64];		/* private data directory */
	struct lab_config cfg;
	char *err;		/* what the last config_load() printed */
};


/* ---- fixtures ---- */

/* Write @text to <dir>/@rel. */
static void put(const struct fixture *f, const char *rel, const char *text)
{
	put_file(f->dir, rel, text);
}

/* A small valid lab, every part written by hand. */
static void put_valid_tree(const struct fixture *f)
{
	put(f, "configs/profiles/default.yaml",
	    "description: a test lab\n"
	    "machine: m\n"
	    "kernel: k\n"
	    "secure: s\n"
	    "rootfs: r\n");
	put(f, "configs/machines/m.yaml",
	    "cpu: max\n"
	    "smp: 4\n"
	    "memory: 2048\n"
	    "gic-version: 2\n"
	    "extra-args: [-d, guest_errors]\n");
	put(f, "configs/kernels/k.yaml",
	    "deb: { package: linux-image-arm64, suite: trixie, version: \"6.12.6-1\" }\n"
	    "modules: tee\n"
	    "cmdline: quiet\n");
	put(f, "configs/kernels/img.yaml",
	    "image: build/Image\n"
	    "modules-dir: /opt/modules/6.12.0\n"
	    "modules: [tee, optee]\n");
	put(f, "configs/secure/s.yaml",
	    "tfa:\n"
	    "  tree: tf-a\n"
	    "  make-flags: PLAT=qemu\n"
	    "optee:\n"
	    "  path: /opt/optee\n"
	    "bl33:\n"
	    "  path: u-boot.bin\n");
	put(f, "images/rootfs/r.yaml",
	    "suite: trixie\n"
	    "packages:\n"
	    "  - busybox-static\n"
	    "  - { package: \"libssl*\", suite: bookworm, version: \"3.0.15-1\", arch: all }\n"
	    "programs: /usr/bin/busybox\n"
	    "links: [bin=usr/bin]\n");
}

static int setup(void **state)
{
	static const char *const dirs[] = { "configs/profiles", "configs/machines",
		"configs/kernels", "configs/secure", "images/rootfs" };
	struct fixture *f = xcalloc(1, sizeof(*f));

	unsetenv("TEELAB_CACHE_DIR");
	unsetenv("TEELAB_RUNS_DIR");
	strcpy(f->dir, "/tmp/teelab-cfg-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *p = path_join(f->dir, dirs[i]);
		int ret = mkdir_p(p, 0755);

		free(p);
		if (ret) {
			remove_tree(f->dir);
			free(f);
			return -1;
		}
	}
	setenv("TEELAB_DATADIR", f->dir, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	config_release(&f->cfg);
	remove_tree(f->dir);
	unsetenv("TEELAB_DATADIR");
	unsetenv("TEELAB_CACHE_DIR");
	unsetenv("TEELAB_RUNS_DIR");
	free(f->err);
	free(f);
	return 0;
}

/* config_load() with stderr into f->err. */
static int load(struct fixture *f, const struct config_overrides *ov)
{
	struct capture c = { -1, -1 };
	int ret;

	config_release(&f->cfg);
	free(f->err);
	capture_begin(&c);
	ret = config_load(&f->cfg, ov);
	f->err = capture_end(&c);
	return ret;
}

/* A failed load leaves nothing behind in @cfg. */
static void assert_released(const struct lab_config *cfg)
{
	assert_null(cfg->datadir);
	assert_null(cfg->cache_dir);
	assert_null(cfg->runs_dir);
	assert_null(cfg->profile);
	assert_null(cfg->machine.name);
	assert_null(cfg->kernel.name);
	assert_null(cfg->kernel.deb.name);
	assert_null(cfg->secure.name);
	assert_null(cfg->rootfs.pkgs);
	assert_int_equal(cfg->rootfs.nr_pkgs, 0);
}

/* Assert stderr was exactly "teelab: error: <dir>/<rel>:<msg>\n". */
static void assert_located(const struct fixture *f, const char *rel, const char *msg)
{
	char *want = xasprintf("teelab: error: %s/%s:%s\n", f->dir, rel, msg);

	if (strcmp(f->err, want)) {
		print_error("expected stderr: %swhat it was:     %s", want, f->err);
		free(want);
		fail();
	}
	free(want);
}

/* Load with @file replaced by @text: expect -EINVAL and the located @msg. */
static void expect_invalid(struct fixture *f, const char *file, const char *text,
			   const char *msg)
{
	put_valid_tree(f);
	put(f, file, text);
	assert_int_equal(load(f, NULL), -EINVAL);
	assert_located(f, file, msg);
	assert_released(&f->cfg);
}

/* ---- the repository's own profiles ---- */

static void use_repo_datadir(void)
{
	assert_int_equal(setenv("TEELAB_DATADIR", test_srcdir(), 1), 0);
}

static void test_repo_default_profile(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;

	use_repo_datadir();
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(cfg->datadir, test_srcdir());
	assert_string_equal(cfg->profile, "default");
	assert_string_equal(cfg->runs_dir, "runs");
	assert_non_null(cfg->cache_dir);

	assert_string_equal(cfg->machine.name, "virt");
	assert_string_equal(cfg->machine.qemu, "qemu-system-aarch64");
	assert_string_equal(cfg->machine.cpu, "cortex-a57");
	assert_int_equal(cfg->machine.smp, 2);
	assert_int_equal(cfg->machine.memory_mb, 1024);
	assert_int_equal(cfg->machine.gic_version, 3);

	assert_int_equal(cfg->kernel.kind, SRC_DEBIAN);
	assert_non_null(cfg->kernel.deb.name);
	assert_true(starts_with(cfg->kernel.deb.name, "linux-image-"));
	assert_string_equal(cfg->kernel.deb.suite, "bookworm-security");
	assert_string_equal(cfg->kernel.deb.arch, "arm64");
	assert_null(cfg->kernel.deb.version);
	assert_null(cfg->kernel.image);
	/* tee and optee first, then the optional guest-channel modules ("?name") */
	assert_true(cfg->kernel.modules.nr >= 2);
	assert_string_equal(cfg->kernel.modules.v[0], "tee");
	assert_string_equal(cfg->kernel.modules.v[1], "optee");
	assert_true(strvec_contains(&cfg->kernel.modules, "?virtio_net"));
	assert_null(cfg->kernel.modules.v[cfg->kernel.modules.nr]);

	assert_int_equal(cfg->secure.tfa_kind, SRC_DEBIAN);
	assert_string_equal(cfg->secure.tfa_src.arch, "source");
	assert_true(strvec_contains(&cfg->secure.tfa_flags, "SPD=opteed"));
	assert_true(strvec_contains(&cfg->secure.tfa_flags, "QEMU_USE_GIC_DRIVER=QEMU_GICV3"));
	assert_true(strvec_contains(&cfg->secure.tfa_flags, "PLAT=qemu"));
	assert_int_equal(cfg->secure.optee_kind, SRC_DEBIAN);
	assert_int_equal(cfg->secure.bl33_kind, SRC_DEBIAN);
	assert_string_equal(cfg->secure.bl33_deb.arch, "all");

	assert_string_equal(cfg->rootfs.name, "xtest");
	assert_true(cfg->rootfs.nr_pkgs > 0);
	{
		bool found = false;

		for (size_t i = 0; i < cfg->rootfs.nr_pkgs; i++)
			if (!strcmp(cfg->rootfs.pkgs[i].name, "tee-supplicant")) {
				found = true;
				assert_string_equal(cfg->rootfs.pkgs[i].suite,
						    cfg->rootfs.default_suite);
				assert_string_equal(cfg->rootfs.pkgs[i].arch, "arm64");
			}
		assert_true(found);
	}
	assert_true(strvec_contains(&cfg->rootfs.programs, "/usr/bin/xtest"));
	assert_string_equal(cfg->rootfs.overlay, "images/rootfs/overlay");
}

static void test_repo_kernel_override(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;
	struct config_overrides ov = { .kernel = "debian-6.1" };
	char *where_prefix;

	use_repo_datadir();
	assert_int_equal(load(f, &ov), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(cfg->profile, "default");
	assert_string_equal(cfg->kernel.name, "debian-6.1");
	assert_int_equal(cfg->kernel.kind, SRC_DEBIAN);
	assert_string_equal(cfg->kernel.deb.name, "linux-image-6.1.0-+([0-9])-arm64-unsigned");
	assert_string_equal(cfg->kernel.deb.suite, "bookworm-security");
	where_prefix = xasprintf("%s/configs/kernels/debian-6.1.yaml:", test_srcdir());
	assert_true(starts_with(cfg->kernel.deb.where, where_prefix));
	free(where_prefix);
	/* the rest is the default profile's */
	assert_string_equal(cfg->machine.name, "virt");
	assert_string_equal(cfg->secure.name, "debian-optee");
	assert_string_equal(cfg->rootfs.name, "xtest");
}

/*
 * The ABI: the FF-A secure world (SPD=spmd) needs a kernel with the FF-A
 * transport, found in its fragments; the pair is refused before anything
 * is fetched, with the reason.
 */
static void test_repo_ffa_pairing(void **state)
{
	struct fixture *f = *state;
	struct config_overrides ov = { .profile = "ffa" };

	use_repo_datadir();
	assert_int_equal(load(f, &ov), 0);
	assert_true(f->cfg.secure.ffa);
	assert_true(f->cfg.kernel.ffa_transport);
	assert_string_equal(f->cfg.secure.tfa_spmc_manifest, "images/tfa/spmc-optee-sel1.dts");
	ov.kernel = "src-6.1-ffa";
	assert_int_equal(load(f, &ov), 0);
	assert_true(f->cfg.kernel.ffa_transport);
	/* the SMC-ABI profiles, on the same lab kernel (one build per version serves both ABIs) */
	ov = (struct config_overrides){ .profile = "scmi-src" };
	assert_int_equal(load(f, &ov), 0);
	assert_false(f->cfg.secure.ffa);
	assert_true(f->cfg.kernel.ffa_transport);
	/* Debian's kernels have none */
	ov = (struct config_overrides){ .profile = "default" };
	assert_int_equal(load(f, &ov), 0);
	assert_false(f->cfg.kernel.ffa_transport);
	/* FF-A with Debian's prebuilt kernel: no transport */
	ov = (struct config_overrides){ .profile = "ffa", .kernel = "debian-6.12" };
	assert_int_equal(load(f, &ov), -EINVAL);
	assert_non_null(strstr(f->err, "secure profile 'optee-ffa' talks FF-A"));
	assert_non_null(strstr(f->err, "kernel 'debian-6.12' has no FF-A transport"));
}

/* configs/known-failures/<secure>.yaml: read with the secure world; errors located */
static void test_known_failures(void **state)
{
	struct fixture *f = *state;
	char *p = path_join(f->dir, "configs/known-failures");

	put_valid_tree(f);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->cfg.secure.nr_known, 0);
	assert_int_equal(mkdir_p(p, 0755), 0);
	put(f, "configs/known-failures/s.yaml",
	    "- { case: regression_1009, reason: needs a free thread, link: https://x.invalid/1 }\n"
	    "- { case: regression_4011, reason: no such algorithm here }\n");
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->cfg.secure.nr_known, 2);
	assert_string_equal(f->cfg.secure.known[0].id, "regression_1009");
	assert_string_equal(f->cfg.secure.known[0].link, "https://x.invalid/1");
	assert_null(f->cfg.secure.known[1].link);
	put(f, "configs/known-failures/s.yaml", "- { case: regression_1009 }\n");
	assert_int_equal(load(f, NULL), -EINVAL);
	assert_non_null(strstr(f->err, "known-failures/s.yaml:1:3: a known failure needs 'case' and 'reason'"));
	free(p);
}

/* Overrides of every part and of the directories. */
static void test_overrides(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;
	struct config_overrides ov = { .kernel = "img", .cache_dir = "/tmp/c",
				       .runs_dir = "/tmp/r" };

	put_valid_tree(f);
	assert_int_equal(setenv("TEELAB_CACHE_DIR", "/env/cache", 1), 0);
	assert_int_equal(setenv("TEELAB_RUNS_DIR", "/env/runs", 1), 0);
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(cfg->cache_dir, "/env/cache");
	assert_string_equal(cfg->runs_dir, "/env/runs");
	assert_string_equal(cfg->kernel.name, "k");

	assert_int_equal(load(f, &ov), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(cfg->cache_dir, "/tmp/c");
	assert_string_equal(cfg->runs_dir, "/tmp/r");
	assert_string_equal(cfg->kernel.name, "img");
	assert_int_equal(cfg->kernel.kind, SRC_PREBUILT);
}

/* ---- a hand-written lab ---- */

static void test_valid_tree(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;
	char *p;

	put_valid_tree(f);
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(cfg->datadir, f->dir);

	assert_string_equal(cfg->machine.name, "m");
	assert_string_equal(cfg->machine.qemu, "qemu-system-aarch64");
	assert_string_equal(cfg->machine.cpu, "max");
	assert_int_equal(cfg->machine.smp, 4);
	assert_int_equal(cfg->machine.memory_mb, 2048);
	assert_int_equal(cfg->machine.gic_version, 2);
	assert_int_equal(cfg->machine.extra_args.nr, 2);
	assert_string_equal(cfg->machine.extra_args.v[0], "-d");
	assert_string_equal(cfg->machine.extra_args.v[1], "guest_errors");

	assert_string_equal(cfg->kernel.name, "k");
	assert_int_equal(cfg->kernel.kind, SRC_DEBIAN);
	assert_string_equal(cfg->kernel.deb.name, "linux-image-arm64");
	assert_string_equal(cfg->kernel.deb.suite, "trixie");
	assert_string_equal(cfg->kernel.deb.version, "6.12.6-1");
	assert_string_equal(cfg->kernel.deb.arch, "arm64");
	p = xasprintf("%s/configs/kernels/k.yaml:1:6", f->dir);
	assert_string_equal(cfg->kernel.deb.where, p);
	free(p);
	assert_int_equal(cfg->kernel.modules.nr, 1);
	assert_string_equal(cfg->kernel.modules.v[0], "tee");
	assert_string_equal(cfg->kernel.cmdline, "quiet");

	assert_string_equal(cfg->secure.name, "s");
	assert_int_equal(cfg->secure.tfa_kind, SRC_TREE);
	p = xasprintf("%s/configs/secure/tf-a", f->dir);
	assert_string_equal(cfg->secure.tfa_tree, p);
	free(p);
	assert_null(cfg->secure.tfa_src.name);
	assert_int_equal(cfg->secure.tfa_flags.nr, 1);
	assert_string_equal(cfg->secure.tfa_flags.v[0], "PLAT=qemu");
	assert_int_equal(cfg->secure.optee_kind, SRC_PREBUILT);
	assert_string_equal(cfg->secure.optee_dir, "/opt/optee");
	assert_int_equal(cfg->secure.bl33_kind, SRC_PREBUILT);
	p = xasprintf("%s/configs/secure/u-boot.bin", f->dir);
	assert_string_equal(cfg->secure.bl33_path, p);
	free(p);

	assert_string_equal(cfg->rootfs.name, "r");
	assert_string_equal(cfg->rootfs.default_suite, "trixie");
	assert_int_equal(cfg->rootfs.nr_pkgs, 2);
	assert_string_equal(cfg->rootfs.pkgs[0].name, "busybox-static");
	assert_string_equal(cfg->rootfs.pkgs[0].suite, "trixie");
	assert_null(cfg->rootfs.pkgs[0].version);
	assert_string_equal(cfg->rootfs.pkgs[0].arch, "arm64");
	p = xasprintf("%s/images/rootfs/r.yaml:3:5", f->dir);
	assert_string_equal(cfg->rootfs.pkgs[0].where, p);
	free(p);
	assert_string_equal(cfg->rootfs.pkgs[1].name, "libssl*");
	assert_string_equal(cfg->rootfs.pkgs[1].suite, "bookworm");
	assert_string_equal(cfg->rootfs.pkgs[1].version, "3.0.15-1");
	assert_string_equal(cfg->rootfs.pkgs[1].arch, "all");
	assert_int_equal(cfg->rootfs.programs.nr, 1);
	assert_string_equal(cfg->rootfs.programs.v[0], "/usr/bin/busybox");
	assert_int_equal(cfg->rootfs.links.nr, 1);
	assert_string_equal(cfg->rootfs.links.v[0], "bin=usr/bin");
	assert_string_equal(cfg->rootfs.overlay, "images/rootfs/overlay");

	p = config_file(cfg, "configs/kernels", "k");
	{
		char *want = xasprintf("%s/configs/kernels/k.yaml", f->dir);

		assert_string_equal(p, want);
		free(want);
	}
	free(p);
}

/* A prebuilt kernel: paths relative to the kernel file's directory. */
static void test_prebuilt_kernel(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;
	struct config_overrides ov = { .kernel = "img" };
	char *p;

	put_valid_tree(f);
	assert_int_equal(load(f, &ov), 0);
	assert_string_equal(f->err, "");
	assert_int_equal(cfg->kernel.kind, SRC_PREBUILT);
	p = xasprintf("%s/configs/kernels/build/Image", f->dir);
	assert_string_equal(cfg->kernel.image, p);
	free(p);
	assert_string_equal(cfg->kernel.modules_dir, "/opt/modules/6.12.0");
	assert_null(cfg->kernel.deb.name);
	assert_null(cfg->kernel.cmdline);
	assert_int_equal(cfg->kernel.modules.nr, 2);
}

/* Defaults when a profile names only kernel and secure. */
static void test_profile_defaults(void **state)
{
	struct fixture *f = *state;
	const struct lab_config *cfg = &f->cfg;

	put_valid_tree(f);
	put(f, "configs/profiles/default.yaml", "kernel: k\nsecure: s\n");
	put(f, "configs/machines/virt.yaml", "description: all defaults\n");
	put(f, "images/rootfs/xtest.yaml", "packages: [{ package: busybox, suite: sid }]\n");
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(cfg->machine.name, "virt");
	assert_string_equal(cfg->machine.qemu, "qemu-system-aarch64");
	assert_string_equal(cfg->machine.cpu, "cortex-a57");
	assert_int_equal(cfg->machine.smp, 2);
	assert_int_equal(cfg->machine.memory_mb, 1024);
	assert_int_equal(cfg->machine.gic_version, 3);
	assert_int_equal(cfg->machine.extra_args.nr, 0);
	assert_string_equal(cfg->rootfs.name, "xtest");
	assert_null(cfg->rootfs.default_suite);
	assert_int_equal(cfg->rootfs.nr_pkgs, 1);
	assert_string_equal(cfg->rootfs.pkgs[0].suite, "sid");
}

/* ---- errors ---- */

static void test_unknown_key(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "configs/machines/m.yaml",
		       "cpu: max\n"
		       "smp: 2\n"
		       "  \n"
		       "cores: 4\n",
		       "4:1: unknown key 'cores' in a machine");
	expect_invalid(f, "configs/profiles/default.yaml",
		       "kernel: k\nsecure: s\n  # c\nsecurre: s\n",
		       "4:1: unknown key 'securre' in a profile");
	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa:\n  tree: t\n  flags: [A=1]\noptee: { path: o }\nbl33: { path: b }\n",
		       "3:3: unknown key 'flags' in tfa");
	expect_invalid(f, "images/rootfs/r.yaml",
		       "packages:\n  - { package: p, suite: s, arc: all }\n",
		       "2:29: unknown key 'arc' in a package");
}

/* backend: / connect: in the machine file and --backend / --connect over it */
static void test_machine_backend(void **state)
{
	struct fixture *f = *state;
	struct config_overrides ov = { 0 };

	expect_invalid(f, "configs/machines/m.yaml", "backend: lxc\n",
		       "1:10: backend must be qemu or libvirt, not 'lxc'");
	expect_invalid(f, "configs/machines/m.yaml", "connect: qemu:///system\n",
		       "1:10: connect: is a libvirt URI; it needs backend: libvirt");
	put_valid_tree(f);
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->cfg.machine.backend, "qemu");	/* the default */
	assert_null(f->cfg.machine.connect);
	put(f, "configs/machines/m.yaml", "backend: libvirt\nconnect: qemu+ssh://lab2/system\n");
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->cfg.machine.backend, "libvirt");
	assert_string_equal(f->cfg.machine.connect, "qemu+ssh://lab2/system");
	/* --connect alone means libvirt, over a machine file that says qemu */
	put(f, "configs/machines/m.yaml", "backend: qemu\n");
	ov.connect = "qemu:///system";
	assert_int_equal(load(f, &ov), 0);
	assert_string_equal(f->cfg.machine.backend, "libvirt");
	assert_string_equal(f->cfg.machine.connect, "qemu:///system");
	ov.backend = "qemu";
	assert_int_not_equal(load(f, &ov), 0);
	assert_non_null(strstr(f->err, "--connect needs --backend libvirt"));
	ov = (struct config_overrides){ .backend = "docker" };
	assert_int_not_equal(load(f, &ov), 0);
	assert_non_null(strstr(f->err, "--backend must be qemu or libvirt, not 'docker'"));
}

static void test_machine_values(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "configs/machines/m.yaml", "cpu: max\nsmp: 99\n",
		       "2:6: smp must be 1..8");
	expect_invalid(f, "configs/machines/m.yaml", "smp: 0\n",
		       "1:6: smp must be 1..8");
	expect_invalid(f, "configs/machines/m.yaml", "memory:   128\n",
		       "1:11: memory is in MiB and must be at least 256");
	expect_invalid(f, "configs/machines/m.yaml", "gic-version: 4\n",
		       "1:14: gic-version must be 2 or 3");
	expect_invalid(f, "configs/machines/m.yaml", "smp: two\n",
		       "1:6: expected an integer for 'smp', got 'two'");
	expect_invalid(f, "configs/machines/m.yaml", "cpu: [a, b]\n",
		       "1:6: expected a string for 'cpu', got a sequence");
	/* the limits themselves are fine */
	put_valid_tree(f);
	put(f, "configs/machines/m.yaml", "smp: 8\nmemory: 256\n");
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->cfg.machine.smp, 8);
	assert_int_equal(f->cfg.machine.memory_mb, 256);
	assert_int_equal(f->cfg.machine.boot, BOOT_DIRECT);	/* the default */
	assert_string_equal(f->cfg.machine.tcg_thread, "single");	/* the default */

	/* tcg-thread: single | multi */
	expect_invalid(f, "configs/machines/m.yaml", "tcg-thread: many\n",
		       "1:13: tcg-thread must be single or multi (QEMU's -accel tcg,thread=), not 'many'");
	put(f, "configs/machines/m.yaml", "tcg-thread: multi\n");
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->cfg.machine.tcg_thread, "multi");
	put(f, "configs/machines/m.yaml", "smp: 8\nmemory: 256\n");

	/* boot: direct | u-boot, and --boot over it */
	expect_invalid(f, "configs/machines/m.yaml", "boot: grub\n",
		       "1:7: boot must be direct (TF-A enters Linux) or u-boot (BL33 = U-Boot), not 'grub'");
	put(f, "configs/machines/m.yaml", "boot: u-boot\n");
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->cfg.machine.boot, BOOT_UBOOT);
	{
		struct config_overrides ov = { .boot = "direct" };

		assert_int_equal(load(f, &ov), 0);
		assert_int_equal(f->cfg.machine.boot, BOOT_DIRECT);
		ov.boot = "uboot";
		assert_int_equal(load(f, &ov), -EINVAL);
		assert_non_null(strstr(f->err, "--boot must be direct or u-boot, not 'uboot'"));
	}
}

static void test_missing_parts(void **state)
{
	struct fixture *f = *state;
	struct config_overrides ov = { .profile = "nope" };
	char *want;

	put_valid_tree(f);
	put(f, "configs/profiles/default.yaml", "machine: m\nkernel: nokernel\nsecure: s\nrootfs: r\n");
	assert_int_equal(load(f, NULL), -ENOENT);
	want = xasprintf("teelab: error: kernel 'nokernel' not found (no file "
			 "'%s/configs/kernels/nokernel.yaml')\n", f->dir);
	assert_string_equal(f->err, want);
	free(want);
	assert_released(&f->cfg);

	assert_int_equal(load(f, &ov), -ENOENT);
	want = xasprintf("teelab: error: profile 'nope' not found (no file "
			 "'%s/configs/profiles/nope.yaml')\n", f->dir);
	assert_string_equal(f->err, want);
	free(want);
	assert_released(&f->cfg);

	put_valid_tree(f);
	ov = (struct config_overrides){ .rootfs = "norootfs" };
	assert_int_equal(load(f, &ov), -ENOENT);
	assert_non_null(strstr(f->err, "rootfs recipe 'norootfs' not found"));
	ov = (struct config_overrides){ .secure = "nosecure" };
	assert_int_equal(load(f, &ov), -ENOENT);
	assert_non_null(strstr(f->err, "secure-world profile 'nosecure' not found"));
	ov = (struct config_overrides){ .machine = "nomachine" };
	assert_int_equal(load(f, &ov), -ENOENT);
	assert_non_null(strstr(f->err, "machine 'nomachine' not found"));
	assert_released(&f->cfg);
}

static void test_kernel_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "configs/kernels/k.yaml",
		       "image: /boot/Image\n"
		       "deb: { package: linux-image-arm64, suite: trixie }\n",
		       "2:6: a kernel has either 'deb' or 'image', not both");
	expect_invalid(f, "configs/kernels/k.yaml",
		       "modules: [tee]\n",
		       "1:1: missing 'deb'");
	expect_invalid(f, "configs/kernels/k.yaml",
		       "deb: linux-image-arm64\n",
		       "1:6: package 'linux-image-arm64' needs a suite");
	expect_invalid(f, "configs/kernels/k.yaml",
		       "deb: { suite: trixie }\n",
		       "1:6: a package needs a name");
	expect_invalid(f, "configs/kernels/k.yaml",
		       "deb: { package: l, suite: trixie }\nmodules: { tee: 1 }\n",
		       "2:10: expected a string or a list of strings for 'modules', got a mapping");
	expect_invalid(f, "configs/kernels/k.yaml",
		       "source:\n  deb: { package: linux-source-6.12, suite: trixie, arch: all }\n"
		       "  kasan-only: [../tee]\n",
		       "3:15: kasan-only names directories of the kernel tree (e.g. drivers/tee), not '../tee'");
}

static void test_profile_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "configs/profiles/default.yaml", "machine: m\nsecure: s\n",
		       "1:1: a profile needs 'kernel' and 'secure'");
	expect_invalid(f, "configs/profiles/default.yaml", "- kernel\n",
		       "1:1: expected a mapping at the top of the profile");
	expect_invalid(f, "configs/profiles/default.yaml", "kernel: [k]\nsecure: s\n",
		       "1:9: expected a string for 'kernel', got a sequence");
}

static void test_secure_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa: { tree: t }\noptee: { path: o }\n",
		       "1:1: a secure-world profile needs 'tfa', 'optee' and 'bl33'");
	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa: { tree: t }\noptee: { deb: { package: o, suite: s } }\nbl33: { path: b }\n",
		       "2:8: optee needs 'path' (the directory with tee-*_v2.bin)");
	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa: {}\noptee: { path: o }\nbl33: { path: b }\n",
		       "1:6: missing 'source'");
	/* the TA dev kit from a package goes with a source package's version */
	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa: { tree: t }\nbl33: { path: b }\noptee:\n  tree: o\n"
		       "  ta-dev-kit: { deb: { package: optee-os-dev, suite: sid }, path: d }\n",
		       "5:15: ta-dev-kit goes with 'source:' (its version is the source's); a tree's TAs use the dev kit its build exports");
	expect_invalid(f, "configs/secure/s.yaml",
		       "tfa: { tree: t }\nbl33: { path: b }\noptee:\n  source: { package: optee-os, suite: sid }\n"
		       "  ta-dev-kit: { deb: { package: optee-os-dev, suite: sid } }\n",
		       "5:15: ta-dev-kit needs 'path'");
}

/* ta-dev-kit: read into the secure profile; the repo's TA labs use Debian's */
static void test_repo_ta_dev_kit(void **state)
{
	struct fixture *f = *state;
	struct config_overrides ov = { .profile = "ctx-lifetime" };

	use_repo_datadir();
	assert_int_equal(load(f, &ov), 0);
	assert_string_equal(f->cfg.secure.ta_devkit_deb.name, "optee-os-dev");
	assert_string_equal(f->cfg.secure.ta_devkit_deb.suite, f->cfg.secure.optee_src.suite);
	assert_null(f->cfg.secure.ta_devkit_deb.version);
	assert_string_equal(f->cfg.secure.ta_devkit_path, "usr/lib/optee-os-dev/vexpress-qemu_armv8a");
	/* its kernel: KASAN in the TEE subsystem only */
	assert_int_equal(f->cfg.kernel.kasan_only.nr, 1);
	assert_string_equal(f->cfg.kernel.kasan_only.v[0], "drivers/tee");
	/* and no IP: no SSH channel */
	assert_true(f->cfg.kernel.no_ip);
	ov.profile = "default";
	assert_int_equal(load(f, &ov), 0);
	assert_null(f->cfg.secure.ta_devkit_path);
	assert_false(f->cfg.kernel.no_ip);
	ov.profile = "scmi-src";
	assert_int_equal(load(f, &ov), 0);
	assert_false(f->cfg.kernel.no_ip);
}

static void test_rootfs_errors(void **state)
{
	struct fixture *f = *state;

	expect_invalid(f, "images/rootfs/r.yaml", "suite: trixie\npackages: []\n",
		       "2:11: a rootfs recipe needs a non-empty 'packages' list");
	expect_invalid(f, "images/rootfs/r.yaml", "suite: trixie\n",
		       "1:1: a rootfs recipe needs a non-empty 'packages' list");
	expect_invalid(f, "images/rootfs/r.yaml", "packages: [busybox]\n",
		       "1:12: package 'busybox' needs a suite");
	expect_invalid(f, "images/rootfs/r.yaml",
		       "suite: trixie\npackages: [busybox]\nlinks: [bin=usr/bin, sbin]\n",
		       "3:8: a link is written 'path=target', not 'sbin'");
}

static void test_yaml_syntax_error(void **state)
{
	struct fixture *f = *state;

	put_valid_tree(f);
	put(f, "configs/machines/m.yaml", "smp: 2\nsmp: 3\n");
	assert_int_equal(load(f, NULL), -EINVAL);
	assert_located(f, "configs/machines/m.yaml",
		       "2:1: duplicate key 'smp' (first at line 1 column 1)");
	assert_released(&f->cfg);
}

/* A loaded config can be released twice and loaded again. */
static void test_release_reuse(void **state)
{
	struct fixture *f = *state;

	put_valid_tree(f);
	assert_int_equal(load(f, NULL), 0);
	config_release(&f->cfg);
	assert_released(&f->cfg);
	config_release(&f->cfg);
	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->cfg.machine.cpu, "max");
}

static void test_find_datadir_env(void **state)
{
	struct fixture *f = *state;
	char *d;

	d = config_find_datadir();
	assert_non_null(d);
	assert_string_equal(d, f->dir);
	free(d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_repo_default_profile),
		T(test_repo_kernel_override),
		T(test_repo_ffa_pairing),
		T(test_known_failures),
		T(test_overrides),
		T(test_valid_tree),
		T(test_prebuilt_kernel),
		T(test_profile_defaults),
		T(test_unknown_key),
		T(test_machine_values),
		T(test_machine_backend),
		T(test_missing_parts),
		T(test_kernel_errors),
		T(test_profile_errors),
		T(test_secure_errors),
		T(test_repo_ta_dev_kit),
		T(test_rootfs_errors),
		T(test_yaml_syntax_error),
		T(test_release_reuse),
		T(test_find_datadir_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
