// SPDX-License-Identifier: MIT
/*
 * images/module.c - teelab's out-of-tree kernel modules (the profile's
 * `kmods:`), built against the kernel teelab built (its O= tree) or
 * against Debian's headers of the kernel package (linux-headers-<abi>-arm64,
 * -common and the amd64 linux-kbuild-<abi>, unpacked into one root so the
 * arm64 headers' relative links reach host tools).
 */
#include "images/kind.h"

#include <errno.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "runproc.h"

struct module_job {
	char *name, *version;	/* the Debian kernel package, or NULL for a kernel teelab built */
	char *abi;		/* e.g. "6.12.41+deb13" */
};

/* "{abi}" in @pattern replaced by @abi; malloc'd. */
static char *subst_abi(const char *pattern, const char *abi)
{
	const char *p = strstr(pattern, "{abi}");

	if (!p)
		return xstrdup(pattern);
	return xasprintf("%.*s%s%s", (int)(p - pattern), pattern, abi, p + 5);
}

/* Copy the .ko files of @out/src-0..@n-1 into @dir; their names go to @order. */
static int copy_kmods(const char *out, size_t n, const char *dir, struct strvec *order)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		char *copy = xasprintf("%s/src-%zu", out, i);
		struct dirent **ents = NULL;
		int m = scandir(copy, &ents, NULL, alphasort);

		for (int k = 0; k < m; k++) {
			if (!ret && ends_with(ents[k]->d_name, ".ko")) {
				char *from = path_join(copy, ents[k]->d_name);
				char *to = path_join(dir, ents[k]->d_name);
				char *mod = xstrndup(ents[k]->d_name, strlen(ents[k]->d_name) - 3);

				ret = copy_file(from, to);
				if (!strvec_contains(order, mod))
					strvec_push(order, mod);
				free(from);
				free(to);
				free(mod);
			}
			free(ents[k]);
		}
		free(ents);
		free(copy);
	}
	return ret;
}

/*
 * Copy each `kmods:` directory to @out/src-N and run the kernel's kbuild on
 * it: make -C @kdir [-f @makefile] M=<copy> modules. 0 or -errno (reported).
 */
static int make_kmods(struct build_ctx *b, const char *out, const char *log,
		      const char *kdir, const char *makefile)
{
	const struct lab_config *cfg = b->cfg;
	int ret = 0;

	for (size_t i = 0; i < cfg->kmods.nr && !ret; i++) {
		char *src = path_join(cfg->datadir, cfg->kmods.v[i]);
		char *copy = xasprintf("%s/src-%zu", out, i);
		struct child c = CHILD_INIT;

		ret = copy_path(src, copy);
		if (!ret) {
			strvec_pushl(&c.argv, "make", "-C", kdir, NULL);
			if (makefile)
				strvec_pushl(&c.argv, "-f", makefile, NULL);
			strvec_pushf(&c.argv, "M=%s", copy);
			strvec_pushl(&c.argv, "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-",
				     "modules", NULL);
			c.log_path = log;
			if (child_run(&c))
				ret = error("module '%s' did not build; see '%s'", cfg->kmods.v[i], log);
			child_release(&c);
		}
		free(src);
		free(copy);
	}
	return ret;
}

static int module_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct lab_config *cfg = b->cfg;
	const struct kernel_cfg *kc = &cfg->kernel;
	struct module_job *m = j->data;
	int ret = 0;

	hasher_addstr(h, j->kind->recipe);
	if (b->k.build_tree) {
		hasher_addstr(h, b->k.key ? b->k.key : "");
	} else {
		if (kc->kind != SRC_DEBIAN || !kc->nr_headers)
			return error_code(-EINVAL,
					  "profile '%s' builds modules (kmods) but kernel '%s' names no 'headers'",
					  cfg->profile, kc->name);
		if ((ret = aptroot_resolve(&b->apt, &kc->deb, &m->name, &m->version)))
			return ret;
		/* linux-image-<abi>-arm64-unsigned */
		m->abi = xstrdup(m->name + (starts_with(m->name, "linux-image-") ?
					    strlen("linux-image-") : 0));
		if (strstr(m->abi, "-arm64"))
			*strstr(m->abi, "-arm64") = '\0';
		hasher_addstr(h, m->name);
		hasher_addstr(h, m->version);
		j->label = m->abi;
	}
	for (size_t i = 0; i < cfg->kmods.nr && !ret; i++) {
		char *src = path_join(cfg->datadir, cfg->kmods.v[i]);

		hasher_addstr(h, cfg->kmods.v[i]);
		ret = is_dir(src) ? hash_tree(h, src, "")
				  : error_code(-ENOTDIR, "module source '%s' is not a directory", src);
		free(src);
	}
	return ret;
}

/*
 * Debian's headers of the kernel package, unpacked into @root; *hdir and
 * *common malloc'd. 0 or -errno (reported).
 */
static int fetch_headers(struct build_ctx *b, const struct module_job *m, const char *root,
			 char **hdir, char **common)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	int ret = 0;

	for (size_t i = 0; i < kc->nr_headers && !ret; i++) {
		struct pkg_ref ref = kc->headers[i];
		char *deb = NULL;

		ref.name = subst_abi(kc->headers[i].name, m->abi);
		ref.version = m->version;
		ret = aptroot_fetch_deb(&b->apt, &ref, &deb);
		if (!ret)
			ret = deb_extract_data(deb, root);
		free(ref.name);
		free(deb);
	}
	*hdir = xasprintf("%s/usr/src/linux-headers-%s-arm64", root, m->abi);
	*common = xasprintf("%s/usr/src/linux-headers-%s-common/Makefile", root, m->abi);
	if (!ret && (!is_dir(*hdir) || !file_exists(*common)))
		ret = error("the headers of kernel %s are not where expected ('%s', '%s')", m->abi,
			    *hdir, *common);
	return ret;
}

static int module_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	struct module_job *m = j->data;
	char *root, *hdir = NULL, *common = NULL;
	int ret;

	if (b->k.build_tree)
		return make_kmods(b, dir, log, b->k.build_tree, NULL);
	root = path_join(dir, "headers");
	ret = fetch_headers(b, m, root, &hdir, &common);
	if (!ret)
		ret = make_kmods(b, dir, log, hdir, common);
	free(root);
	free(hdir);
	free(common);
	return ret;
}

int module_copy(struct build_ctx *b, const char *dir, struct strvec *order)
{
	if (!b->kmod_dir)
		return 0;
	return copy_kmods(b->kmod_dir, b->cfg->kmods.nr, dir, order);
}

static int module_run(struct build_ctx *b)
{
	struct module_job m = { 0 };
	struct image_job j = { .kind = &module_kind, .data = &m };
	int ret;

	if (!b->cfg->kmods.nr)
		return 0;
	ret = image_make(b, &j);
	if (!ret) {
		b->kmod_dir = xstrdup(j.dir);
		for (size_t i = 0; i < b->cfg->kmods.nr; i++) {
			char *src = xasprintf("%s/src-%zu", j.dir, i);
			struct dirent **ents = NULL;
			int n = scandir(src, &ents, NULL, alphasort);

			for (int k = 0; k < n; k++) {
				if (ends_with(ents[k]->d_name, ".ko")) {
					char *what = xasprintf("kmod:%.*s", (int)strlen(ents[k]->d_name) - 3,
							       ents[k]->d_name);

					image_symbol(b, what, src, ents[k]->d_name);
					free(what);
				}
				free(ents[k]);
			}
			free(ents);
			free(src);
		}
		if (m.abi)
			provenance(b, "kmods", "%zu built against %s", b->cfg->kmods.nr, m.abi);
	}
	image_job_release(&j);
	free(m.name);
	free(m.version);
	free(m.abi);
	return ret;
}

static const char *const module_deps[] = { "kernel", NULL };

const struct image_kind module_kind = {
	.name = "kmod",
	.title = "out-of-tree modules",
	.recipe = "kmod-1",
	.deps = module_deps,
	.run = module_run,
	.inputs = module_inputs,
	.build = module_build,
};
