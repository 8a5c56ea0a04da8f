// SPDX-License-Identifier: MIT
/*
 * images/kernel.c - the Linux kernel a lab boots: built from Debian's
 * linux-source-<ver> package (the tarball inside it unpacked once, then
 * each (version, base config, fragments, compiler) its own O= build
 * directory with Image, modules installed under modroot/, and the tree
 * kept for building teelab's modules), or Debian's linux-image package,
 * or the user's files.
 */
#include "images/kind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runproc.h"

struct kernel_job {
	char *src;		/* the unpacked linux-source tree */
	struct strvec frags;	/* the fragments' paths */
};

/*
 * Every option a fragment sets must be in .config as set ("=n" as not set).
 * 0 or -errno (reported).
 */
static int check_fragment(const char *config_text, const char *fragment)
{
	char *text = NULL, *save = NULL;
	int ret = 0;

	if ((ret = read_file(fragment, &text, NULL)))
		return error_code(ret, "cannot read kernel config fragment '%s': %s", fragment,
				  strerror(-ret));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq, *want;
		bool found;

		l = strtrim(l);
		if (!starts_with(l, "CONFIG_") || !(eq = strchr(l, '=')))
			continue;
		if (!strcmp(eq, "=n")) {
			*eq = '\0';
			want = xasprintf("\n%s=", l);
			found = strstr(config_text, want) != NULL;
			if (found)
				ret = error("%s: '%s' is set in the kernel's .config, the fragment says n",
					    fragment, l);
		} else {
			want = xasprintf("\n%s\n", l);
			found = strstr(config_text, want) != NULL;
			if (!found)
				ret = error("%s: '%s' did not survive olddefconfig (a dependency is missing)",
					    fragment, l);
		}
		free(want);
	}
	free(text);
	return ret;
}

/* Whether ccache runs on this host (asked once). */
static bool have_ccache(void)
{
	static int known = -1;

	if (known < 0)
		known = in_path("ccache");
	return known;
}

/*
 * make in the kernel tree, with @vars (make variables, may be NULL) before
 * the targets: its exit status (reported if non-zero) or -errno.
 */
static int kmake(const char *src, const char *obj, const char *log, const struct strvec *vars,
		 const char *const *targets)
{
	struct child c = CHILD_INIT;
	int ret;

	strvec_pushl(&c.argv, "make", "-C", src, NULL);
	strvec_pushf(&c.argv, "O=%s", obj);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_pushl(&c.argv, "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", NULL);
	/* the output does not depend on it, so it is not part of the cache key */
	if (have_ccache())
		strvec_push(&c.argv, "CC=ccache aarch64-linux-gnu-gcc");
	for (size_t i = 0; vars && i < vars->nr; i++)
		strvec_push(&c.argv, vars->v[i]);
	for (; *targets; targets++)
		strvec_push(&c.argv, *targets);
	c.log_path = log;
	ret = child_run(&c);
	child_release(&c);
	return ret;
}

/*
 * KASAN_SANITIZE_<stem>.o=y for every C file under @dir/@rel (recursively),
 * appended to @vars. kbuild names a file's variable by its path from the
 * directory of the Makefile that lists it (6.12's target-stem) or by its
 * base name (6.1's basetarget), so each path suffix gets one: a file of
 * the same name elsewhere in the tree is instrumented too. 0 or -errno
 * (reported).
 */
static int kasan_file_vars(const char *dir, const char *rel, struct strvec *vars)
{
	struct strvec names = STRVEC_INIT;
	char *path = path_join(dir, rel);
	int ret = list_dir(path, &names);

	strvec_sort(&names);
	for (size_t i = 0; !ret && i < names.nr; i++) {
		char *sub = path_join(rel, names.v[i]), *full = path_join(dir, sub);

		if (is_dir(full)) {
			ret = kasan_file_vars(dir, sub, vars);
		} else if (ends_with(sub, ".c")) {
			/* every suffix of the path, without ".c" */
			for (const char *p = sub; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL) {
				char *stem = xstrndup(p, strlen(p) - 2);
				char *var = xasprintf("KASAN_SANITIZE_%s.o=y", stem);

				if (!strvec_contains(vars, var))
					strvec_push(vars, var);
				free(var);
				free(stem);
			}
		}
		free(full);
		free(sub);
	}
	strvec_release(&names);
	free(path);
	return ret;
}

/*
 * The make variables of a kernel with `kasan-only:` directories: KASAN's
 * checks in their C files alone (appended to @vars; none without the
 * key). 0 or -errno (reported: a directory missing from the tree).
 */
static int kasan_only_vars(const struct kernel_cfg *kc, const char *src, struct strvec *vars)
{
	int ret = 0;

	if (!kc->kasan_only.nr)
		return 0;
	strvec_push(vars, "KASAN_SANITIZE=n");
	for (size_t i = 0; !ret && i < kc->kasan_only.nr; i++) {
		char *d = path_join(src, kc->kasan_only.v[i]);

		if (!is_dir(d)) {
			ret = error_code(-ENOENT, "kernel '%s': kasan-only directory '%s' is not in "
					 "the kernel tree", kc->name, kc->kasan_only.v[i]);
		} else {
			/* the parent of the named directory, so that its own name is in the stems */
			char *slash = strrchr(kc->kasan_only.v[i], '/');
			char *parent = slash ? xstrndup(kc->kasan_only.v[i], slash - kc->kasan_only.v[i])
					     : xstrdup("");
			char *pdir = path_join(src, parent);

			ret = kasan_file_vars(pdir, slash ? slash + 1 : kc->kasan_only.v[i], vars);
			free(pdir);
			free(parent);
		}
		free(d);
	}
	return ret;
}

static int kernel_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct kernel_job *kj = j->data;
	char *debroot = NULL, *sha = NULL, *tarball = NULL;
	int ret;

	if ((ret = unpacked_deb(b, &kc->src_deb, &debroot, &sha)))
		goto out;
	kj->src = xasprintf("%s/ksrc-%.16s", b->build_dir, sha);
	if (!image_entry_complete(kj->src)) {
		char *dir = path_join(debroot, "usr/src");

		tarball = find_in(dir, "linux-source-", "", ".tar.xz");
		free(dir);
		if (!tarball) {
			ret = error("%s: no usr/src/linux-source-*.tar.xz in the package", kc->src_deb.where);
			goto out;
		}
		if ((ret = unpack_once(tarball, kj->src, 1)))
			goto out;
	}
	hasher_addstr(h, sha);
	hasher_addstr(h, kc->base_config);
	for (size_t i = 0; i < kc->fragments.nr; i++) {
		char *f = path_join(b->cfg->datadir, kc->fragments.v[i]);

		strvec_push(&kj->frags, f);
		ret = hasher_addfile(h, f);
		free(f);
		if (ret)
			goto out;
	}
	/* added only when set: the other kernels keep their keys */
	if (kc->kasan_only.nr)
		hasher_addstr(h, "kasan-only");
	for (size_t i = 0; i < kc->kasan_only.nr; i++)
		hasher_addstr(h, kc->kasan_only.v[i]);
	ret = hash_cross_build(b, h, j->kind->recipe, &kc->fragments);
out:
	free(debroot);
	free(sha);
	free(tarball);
	return ret;
}

static int kernel_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct kernel_job *kj = j->data;
	char *obj = path_join(dir, "build"), *modroot = path_join(dir, "modroot");
	char *config = path_join(obj, ".config"), *text = NULL;
	struct strvec vars = STRVEC_INIT;	/* the build's make variables (kasan-only:) */
	const char *src = kj->src;
	double t0 = now_mono();
	int ret;

	if ((ret = mkdir_p(obj, 0755)))
		goto out;
	if (kmake(src, obj, log, NULL, (const char *const[]){ kc->base_config, NULL })) {
		ret = error("kernel '%s': make %s failed; see '%s'", kc->name, kc->base_config, log);
		goto out;
	}
	{
		struct child c = CHILD_INIT;
		char *script = path_join(src, "scripts/kconfig/merge_config.sh");

		strvec_pushl(&c.argv, "sh", script, "-m", "-O", obj, config, NULL);
		for (size_t i = 0; i < kj->frags.nr; i++)
			strvec_push(&c.argv, kj->frags.v[i]);
		strvec_pushl(&c.env, "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", NULL);
		c.dir = obj;
		c.log_path = log;
		ret = child_run(&c);
		child_release(&c);
		free(script);
		if (ret) {
			ret = error("kernel '%s': merging the fragments failed; see '%s'", kc->name, log);
			goto out;
		}
	}
	if (kmake(src, obj, log, NULL, (const char *const[]){ "olddefconfig", NULL })) {
		ret = error("kernel '%s': make olddefconfig failed; see '%s'", kc->name, log);
		goto out;
	}
	if ((ret = read_file(config, &text, NULL))) {
		ret = error("no '%s' after olddefconfig", config);
		goto out;
	}
	for (size_t i = 0; i < kj->frags.nr && !ret; i++)
		ret = check_fragment(text, kj->frags.v[i]);
	if (ret)
		goto out;
	if ((ret = kasan_only_vars(kc, src, &vars)))
		goto out;
	if (kmake(src, obj, log, &vars, (const char *const[]){ "Image", "modules", NULL })) {
		ret = error("kernel '%s' did not build; see '%s'", kc->name, log);
		goto out;
	}
	{
		char *arg = xasprintf("INSTALL_MOD_PATH=%s", modroot);

		ret = kmake(src, obj, log, &vars, (const char *const[]){ "modules_install", arg,
					   "INSTALL_MOD_STRIP=1", NULL });
		free(arg);
		if (ret) {
			ret = error("kernel '%s': modules_install failed; see '%s'", kc->name, log);
			goto out;
		}
	}
	{
		/* result.json's kernel_build_seconds */
		char secs[32];
		char *bs = path_join(dir, "build-seconds");

		snprintf(secs, sizeof(secs), "%.0f", now_mono() - t0);
		write_file_str(bs, secs);
		free(bs);
	}
out:
	strvec_release(&vars);
	free(obj);
	free(modroot);
	free(config);
	free(text);
	return ret;
}

/* The outputs of the built kernel in cache entry @dir (input hash @hex) into @k. */
static void kernel_built(struct build_ctx *b, const char *dir, const char *hex, struct kernel_files *k)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	char *obj = path_join(dir, "build");
	char *relf = path_join(obj, "include/config/kernel.release");
	char *bs = path_join(dir, "build-seconds");
	char *secs = NULL, *rel = NULL;

	if (!read_file(relf, &rel, NULL))
		strtrim(rel);
	if (!read_file(bs, &secs, NULL))
		provenance(b, "kernel_build_seconds", "%s", strtrim(secs));
	k->image = path_join(obj, "arch/arm64/boot/Image");
	k->release = rel ? xstrdup(rel) : NULL;
	k->modules_dir = rel ? xasprintf("%s/modroot/lib/modules/%s", dir, rel) : NULL;
	if (k->modules_dir && !is_dir(k->modules_dir)) {
		free(k->modules_dir);
		k->modules_dir = NULL;
	}
	k->build_tree = obj;
	k->key = xstrdup(hex);
	provenance(b, "kernel", "built by teelab from %s (%s)", kc->src_deb.name, dir);
	free(relf);
	free(bs);
	free(secs);
	free(rel);
}

/* A kernel teelab does not build: the user's files. 0, -ENOENT or -errno (reported). */
static int kernel_prebuilt(struct build_ctx *b, struct kernel_files *k)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct hasher *h;
	int ret = 0;

	if (!file_exists(kc->image))
		return error_code(-ENOENT,
				  "kernel image '%s' (kernel '%s') does not exist", kc->image, kc->name);
	if (kc->modules_dir && !is_dir(kc->modules_dir))
		return error_code(-ENOENT, "modules directory '%s' (kernel '%s') does not exist",
				  kc->modules_dir, kc->name);
	k->image = xstrdup(kc->image);
	k->modules_dir = kc->modules_dir ? xstrdup(kc->modules_dir) : NULL;
	if (k->modules_dir) {
		const char *slash = strrchr(k->modules_dir, '/');

		k->release = xstrdup(slash ? slash + 1 : k->modules_dir);
	}
	k->key = xmalloc(SHA256_HEX_LEN + 1);
	h = hasher_new();
	hasher_addstr(h, k->image);
	if (k->modules_dir)
		ret = hash_tree(h, k->modules_dir, "");
	hasher_finish(h, k->key);
	provenance(b, "kernel", "prebuilt %s", k->image);
	return ret;
}

/* Debian's linux-image package, unpacked. 0 or -errno (reported). */
/*
 * --gdb on a Debian kernel: its -dbg package (linux-image-<release>-dbg,
 * the same suite; about 1 GB, so only when asked for) through the private
 * apt root, for vmlinux and the TEE drivers' modules (tee.ko, optee.ko:
 * modules in Debian's kernel). A failure is a warning: the run goes on
 * without those symbols.
 */
static void debian_debug_symbols(struct build_ctx *b, const char *release)
{
	const struct pkg_ref *img = &b->cfg->kernel.deb;
	struct pkg_ref dbg = { .suite = img->suite, .arch = img->arch, .where = img->where };
	char *root = NULL, *rel;

	dbg.name = xasprintf("linux-image-%s-dbg", release);
	info("gdb: fetching %s (Debian's kernel symbols, about 1 GB the first time)", dbg.name);
	if (unpacked_deb(b, &dbg, &root, NULL)) {
		warning("gdb: no symbols for Debian's kernel %s: %s did not come", release, dbg.name);
		free(dbg.name);
		return;
	}
	rel = xasprintf("usr/lib/debug/boot/vmlinux-%s", release);
	image_symbol(b, "vmlinux", root, rel);
	free(rel);
	rel = xasprintf("usr/lib/debug/lib/modules/%s/kernel/drivers/tee/tee.ko", release);
	image_symbol(b, "kmod:tee", root, rel);
	free(rel);
	rel = xasprintf("usr/lib/debug/lib/modules/%s/kernel/drivers/tee/optee/optee.ko", release);
	image_symbol(b, "kmod:optee", root, rel);
	free(rel);
	free(root);
	free(dbg.name);
}

static int kernel_debian(struct build_ctx *b, struct kernel_files *k)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	char *root = NULL, *boot = NULL, *vmlinuz = NULL, *mods = NULL;
	int ret = unpacked_deb(b, &kc->deb, &root, &k->key);

	if (ret)
		goto out;
	boot = path_join(root, "boot");
	vmlinuz = first_match(boot, "vmlinuz-", "", "");
	if (!vmlinuz) {
		ret = error("%s: package has no boot/vmlinuz-*", kc->deb.where);
		goto out;
	}
	k->image = path_join(boot, vmlinuz);
	k->release = xstrdup(vmlinuz + strlen("vmlinuz-"));
	mods = xasprintf("%s/lib/modules/%s", root, k->release);
	if (!is_dir(mods)) {
		free(mods);
		mods = xasprintf("%s/usr/lib/modules/%s", root, k->release);
	}
	if (is_dir(mods)) {
		k->modules_dir = mods;
		mods = NULL;
	}
	if (b->cfg->debug_symbols)
		debian_debug_symbols(b, k->release);
out:
	free(root);
	free(boot);
	free(vmlinuz);
	free(mods);
	return ret;
}

static int kernel_run(struct build_ctx *b)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct kernel_job kj = { .frags = STRVEC_INIT };
	struct image_job j = { .kind = &kernel_kind, .data = &kj, .label = kc->name };
	int ret;

	memset(&b->k, 0, sizeof(b->k));
	if (kc->build) {
		if (!(ret = image_make(b, &j))) {
			kernel_built(b, j.dir, j.hex, &b->k);
			image_symbol(b, "vmlinux", b->k.build_tree, "vmlinux");
		}
	} else if (kc->kind == SRC_PREBUILT) {
		ret = kernel_prebuilt(b, &b->k);
	} else {
		ret = kernel_debian(b, &b->k);
		if (!ret && images_show_cached)
			info("cached: Linux %s, Debian's package (%s)", kc->name, b->k.image);
	}
	if (!ret) {
		b->out->kernel = xstrdup(b->k.image);
		b->out->kernel_release = b->k.release ? xstrdup(b->k.release) : NULL;
	}
	image_job_release(&j);
	free(kj.src);
	strvec_release(&kj.frags);
	return ret;
}

const struct image_kind kernel_kind = {
	.name = "kernel",
	.title = "Linux",
	.recipe = "kernel-1",
	/*
	 * Module builds use the O= tree where it was built, and ccache's
	 * hashes include the compiler's working directory.
	 */
	.in_place = true,
	.run = kernel_run,
	.inputs = kernel_inputs,
	.build = kernel_build,
};
