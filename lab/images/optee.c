// SPDX-License-Identifier: MIT
/*
 * images/optee.c - OP-TEE OS built from Debian's optee-os source (or the
 * user's tree) with teelab's overlay and patches, for PLATFORM=... from
 * the secure profile's make flags: BL32 (tee-*_v2.bin) and, when the lab
 * builds TAs, the TA dev kit (export-ta_arm64). Or Debian's prebuilt
 * optee-os package, or the user's files.
 *
 * Without lab TAs, or with Debian's TA dev kit of the same OP-TEE version
 * for them (the secure profile's ta-dev-kit:, optee-os-dev), only the
 * core is built (make's targets are tee.elf and
 * the three BL32 files, not "all"): "all" also builds the dev kit's
 * libraries (libutee, libutils, libmbedtls, libdl) and the in-tree TAs
 * (pkcs11, avb, trusted_keys, remoteproc), which the lab never loads:
 * 211 of OP-TEE 4.10's 771 objects, and about 40 % of the build's CPU
 * (measured 2026-12-05: 123 against 211 core-seconds). A full build in the
 * cache serves a core-only lab as well.
 */
#include "images/kind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runproc.h"

struct optee_job {
	char *tree, *version;	/* the source */
	struct strvec overlays;	/* <datadir>/<overlay>..., copied in this order */
	char *ta_key;		/* the key the TAs we run were signed with, or NULL */
	char *key_root;
	bool core_only;		/* no TA dev kit, no in-tree TAs (a key of its own) */
};

static int optee_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct optee_job *o = j->data;
	int ret;

	ret = input_tree(b, "OP-TEE", s->optee_kind == SRC_TREE ? s->optee_tree : NULL,
			 &s->optee_src, h, &o->tree, &o->version);
	if (ret || (ret = hash_cross_build(b, h, j->kind->recipe, &s->optee_flags)))
		return ret;
	j->label = o->tree;
	for (size_t i = 0; i < s->optee_overlays.nr; i++) {
		char *dir = path_join(b->cfg->datadir, s->optee_overlays.v[i]);

		strvec_push(&o->overlays, dir);
		free(dir);
		dir = o->overlays.v[o->overlays.nr - 1];
		if (!is_dir(dir))
			return error_code(-ENOTDIR,
					  "OP-TEE overlay '%s' (secure profile '%s') is not a directory",
					  dir, s->name);
		hasher_addstr(h, s->optee_overlays.v[i]);
		if ((ret = hash_tree(h, dir, "")))
			return ret;
	}
	for (size_t i = 0; i < s->optee_patches.nr; i++) {
		char *p = path_join(b->cfg->datadir, s->optee_patches.v[i]);

		ret = hasher_addfile(h, p);
		free(p);
		if (ret)
			return ret;
	}
	if (s->ta_key_path) {
		/* the key the TAs we run were signed with (xtest's, from optee-os-dev) */
		if ((ret = unpacked_deb(b, &s->ta_key_deb, &o->key_root, NULL)))
			return ret;
		o->ta_key = path_join(o->key_root, s->ta_key_path);
		if ((ret = hasher_addfile(h, o->ta_key)))
			return ret;
	}
	/* added only here: a full build keeps the key it always had */
	if (o->core_only)
		hasher_addstr(h, "core only: no TA dev kit, no in-tree TAs");
	return 0;
}

static int optee_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct optee_job *o = j->data;
	struct child c = CHILD_INIT;
	char *src = path_join(dir, "src"), *bdir = path_join(dir, "build");
	int ret;

	/* a private copy: the cached source stays pristine for other profiles */
	if ((ret = copy_path(o->tree, src)))
		goto out;
	for (size_t i = 0; i < o->overlays.nr && !ret; i++)
		ret = copy_path(o->overlays.v[i], src);
	if (ret)
		goto out;
	for (size_t i = 0; i < s->optee_patches.nr && !ret; i++) {
		struct child pc = CHILD_INIT;
		char *p = path_join(b->cfg->datadir, s->optee_patches.v[i]);

		strvec_pushl(&pc.argv, "patch", "-p1", "-N", "-s", "-i", p, NULL);
		pc.dir = src;
		pc.log_path = log;
		if (child_run(&pc))
			ret = error("cannot apply '%s' to OP-TEE", p);
		child_release(&pc);
		free(p);
	}
	if (ret)
		goto out;
	strvec_pushl(&c.argv, "make", "-C", src, NULL);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_pushf(&c.argv, "O=%s", bdir);
	strvec_push(&c.argv, "CROSS_COMPILE64=aarch64-linux-gnu-");
	/* Debian's interpreter: its pyelftools/cryptography, not another install's */
	strvec_push(&c.argv, "PYTHON3=/usr/bin/python3");
	for (size_t i = 0; i < s->optee_flags.nr; i++)
		strvec_push(&c.argv, s->optee_flags.v[i]);
	if (o->ta_key)
		strvec_pushf(&c.argv, "TA_PUBLIC_KEY=%s", o->ta_key);
	if (o->core_only) {
		/* core/arch/arm/kernel/link.mk's outputs that the lab uses */
		static const char *const core_targets[] = {
			"tee.elf", "tee-header_v2.bin", "tee-pager_v2.bin", "tee-pageable_v2.bin",
		};

		for (size_t i = 0; i < sizeof(core_targets) / sizeof(*core_targets); i++)
			strvec_pushf(&c.argv, "%s/core/%s", bdir, core_targets[i]);
	} else {
		strvec_push(&c.argv, "all");
	}
	c.log_path = log;
	if (child_run(&c))
		ret = error("OP-TEE build failed; see '%s'", log);
	else
		remove_tree(src);
out:
	child_release(&c);
	free(src);
	free(bdir);
	return ret;
}

static void optee_job_release(struct image_job *j, struct optee_job *o)
{
	image_job_release(j);
	free(o->tree);
	free(o->version);
	strvec_release(&o->overlays);
	free(o->ta_key);
	free(o->key_root);
	memset(o, 0, sizeof(*o));
}

/*
 * The lab TAs' dev kit from Debian (the secure profile's ta-dev-kit:, e.g.
 * optee-os-dev's usr/lib/optee-os-dev/vexpress-qemu_armv8a) when its
 * suite's newest version is the OP-TEE source's own @version: *dir gets
 * the kit's path (malloc'd) and 1 is returned; 0 when the versions differ
 * (said; OP-TEE's own build then exports the kit), -errno (reported).
 */
static int debian_devkit(struct build_ctx *b, const char *version, char **dir)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct pkg_ref ref = s->ta_devkit_deb;
	char *name = NULL, *have = NULL, *root = NULL;
	int ret = aptroot_resolve(&b->apt, &ref, &name, &have);

	*dir = NULL;
	if (ret)
		goto out;
	if (!version || strcmp(have, version)) {
		info("%s %s in %s is not OP-TEE's version %s: OP-TEE's build makes the TA dev kit",
		     name, have, ref.suite, version ? version : "(unknown)");
		goto out;
	}
	/* pinned: the version just compared, whatever the lists say later */
	ref.name = name;
	ref.version = have;
	if ((ret = unpacked_deb(b, &ref, &root, NULL)))
		goto out;
	*dir = path_join(root, s->ta_devkit_path);
	if (!is_dir(*dir)) {
		ret = error_code(-ENOENT, "%s: TA dev kit '%s' is not in %s %s (secure profile '%s')",
				 ref.where, s->ta_devkit_path, name, have, s->name);
		free(*dir);
		*dir = NULL;
	} else {
		ret = 1;
	}
out:
	free(name);
	free(have);
	free(root);
	return ret;
}

static int optee_run(struct build_ctx *b)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct optee_job o = { 0 };
	struct image_job j = { .kind = &optee_kind, .data = &o, .rebuild = s->optee_kind == SRC_TREE };
	char *root = NULL, *devkit = NULL;
	bool full_cached = false, deb_kit;
	int ret = 0;

	if (!s->optee_build) {
		if (s->optee_kind == SRC_DEBIAN) {
			if (!(ret = unpacked_deb(b, &s->optee_deb, &root, NULL)))
				b->bl32_dir = path_join(root, s->optee_dir);
			free(root);
		} else {
			b->bl32_dir = xstrdup(s->optee_dir);
			provenance(b, "optee", "prebuilt %s", b->bl32_dir);
		}
		return ret;
	}
	/*
	 * The core alone when the lab has no TAs, or when Debian's dev kit of
	 * the same OP-TEE version builds them; a full build already cached
	 * serves either. Not for a debugger (--gdb): Debian strips its kit's
	 * libraries, so gdb could not name libutee's frames under a TA's entry
	 * point; OP-TEE's own export keeps their DWARF. A user's tree is built
	 * as its owner builds it ("all", in place).
	 */
	deb_kit = b->cfg->tas.nr && s->ta_devkit_path && !b->cfg->debug_symbols;
	if (s->optee_kind != SRC_TREE && (!b->cfg->tas.nr || deb_kit)) {
		if ((ret = image_lookup(b, &j)) < 0)
			goto out;
		full_cached = ret;
		ret = 0;
		if (!full_cached && b->cfg->tas.nr &&
		    (ret = debian_devkit(b, o.version, &devkit)) < 0)
			goto out;
		if (!full_cached) {
			optee_job_release(&j, &o);
			j = (struct image_job){ .kind = &optee_kind, .data = &o };
			o.core_only = !b->cfg->tas.nr || devkit;
		}
	}
	ret = full_cached ? 0 : image_make(b, &j);
	if (!ret) {
		provenance(b, "optee-os", "%s %s, built by teelab%s (%s)",
			   s->optee_kind == SRC_TREE ? "tree" : "source",
			   o.version ? o.version : o.tree, o.core_only ? ", core only" : "", j.dir);
		b->bl32_dir = xasprintf("%s/build/core", j.dir);
		if (devkit) {
			provenance(b, "ta-dev-kit", "%s", devkit);
			b->out->ta_devkit = devkit;
			devkit = NULL;
		} else if (!o.core_only) {
			b->out->ta_devkit = xasprintf("%s/build/export-ta_arm64", j.dir);
		}
		b->ta_sign_key = o.ta_key ? xstrdup(o.ta_key) : NULL;
		image_symbol(b, "tee", j.dir, "build/core/tee.elf");
		/* its DWARF names sources relative to the tree it was built in */
		image_symbol(b, "src", o.tree, ".");
		for (size_t i = 0; i < o.overlays.nr; i++)
			image_symbol(b, "src", o.overlays.v[i], ".");
	}
out:
	free(devkit);
	optee_job_release(&j, &o);
	return ret;
}

const struct image_kind optee_kind = {
	.name = "optee",
	.title = "OP-TEE OS",
	.recipe = "optee-1",
	/* TA builds use the dev kit where it was built (TA_DEV_KIT_DIR) */
	.in_place = true,
	.run = optee_run,
	.inputs = optee_inputs,
	.build = optee_build,
};
