// SPDX-License-Identifier: MIT
/*
 * images/sysroot.c - the rootfs recipe's Debian packages unpacked into one
 * tree: what the initramfs copies from, and the sysroot guest programs
 * are compiled against (libteec).
 */
#include "images/kind.h"

#include <stdlib.h>
#include <string.h>

#include "archive.h"

/* The key is the packages' file names (name_version_arch), nothing else: no recipe. */
static int sysroot_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct rootfs_cfg *r = &b->cfg->rootfs;
	struct strvec *debs = j->data;

	for (size_t i = 0; i < r->nr_pkgs; i++) {
		char *deb = NULL;
		const char *base;
		int ret = aptroot_fetch_deb(&b->apt, &r->pkgs[i], &deb);

		if (ret)
			return ret;
		strvec_push(debs, deb);
		base = strrchr(deb, '/');
		hasher_addstr(h, base ? base + 1 : deb);
		free(deb);
	}
	return 0;
}

static int sysroot_build(struct build_ctx *b UNUSED, struct image_job *j, const char *dir,
			 const char *log UNUSED)
{
	const struct strvec *debs = j->data;
	int ret = 0;

	for (size_t i = 0; i < debs->nr && !ret; i++)
		ret = deb_extract_data(debs->v[i], dir);
	return ret;
}

static int sysroot_run(struct build_ctx *b)
{
	struct strvec debs = STRVEC_INIT;
	struct image_job j = { .kind = &sysroot_kind, .data = &debs, .label = b->cfg->rootfs.name };
	int ret = image_make(b, &j);

	if (!ret) {
		provenance(b, "rootfs_packages", "%zu (%s)", debs.nr, b->cfg->rootfs.name);
		b->sysroot = xstrdup(j.dir);
		memcpy(b->sysroot_hex, j.hex, sizeof(j.hex));
	}
	image_job_release(&j);
	strvec_release(&debs);
	return ret;
}

const struct image_kind sysroot_kind = {
	.name = "sysroot",
	.title = "guest sysroot",
	.recipe = NULL,
	.run = sysroot_run,
	.inputs = sysroot_inputs,
	.build = sysroot_build,
};
