// SPDX-License-Identifier: MIT
/*
 * images/optee.c - OP-TEE OS built from Debian's optee-os source (or the
 * user's tree) with teelab's overlay and patches, for PLATFORM=... from
 * the secure profile's make flags: BL32 (tee-*_v2.bin) and the TA dev kit
 * (export-ta_arm64) for lab TAs. Or Debian's prebuilt optee-os package,
 * or the user's files.
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
};

static int optee_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct optee_job *o = j->data;
	int ret;

	ret = input_tree(b, "OP-TEE", s->optee_kind == SRC_TREE ? s->optee_tree : NULL,
			 &s->optee_src, h, &o->tree, &o->version);
	if (ret || (ret = hash_cross_build(h, j->kind->recipe, &s->optee_flags)))
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
		return hasher_addfile(h, o->ta_key);
	}
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
	strvec_push(&c.argv, "all");
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

static int optee_run(struct build_ctx *b)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct optee_job o = { 0 };
	struct image_job j = { .kind = &optee_kind, .data = &o, .rebuild = s->optee_kind == SRC_TREE };
	char *root = NULL;
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
	if (!(ret = image_make(b, &j))) {
		provenance(b, "optee-os", "%s %s, built by teelab (%s)",
			   s->optee_kind == SRC_TREE ? "tree" : "source",
			   o.version ? o.version : o.tree, j.dir);
		b->bl32_dir = xasprintf("%s/build/core", j.dir);
		b->out->ta_devkit = xasprintf("%s/build/export-ta_arm64", j.dir);
		b->ta_sign_key = o.ta_key ? xstrdup(o.ta_key) : NULL;
		image_symbol(b, "tee", j.dir, "build/core/tee.elf");
		/* its DWARF names sources relative to the tree it was built in */
		image_symbol(b, "src", o.tree, ".");
		for (size_t i = 0; i < o.overlays.nr; i++)
			image_symbol(b, "src", o.overlays.v[i], ".");
	}
	image_job_release(&j);
	free(o.tree);
	free(o.version);
	strvec_release(&o.overlays);
	free(o.ta_key);
	free(o.key_root);
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
