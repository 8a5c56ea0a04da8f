// SPDX-License-Identifier: MIT
/*
 * images/initramfs.c - the guest's root as a newc cpio (uncompressed: under
 * TCG the kernel inflating 21 MB of gzip took 0.3-0.5 s of Debian 6.12's
 * 3 s boot, measured in pairs 2026-12-05; QEMU loads the bigger file from
 * the page cache in no measurable time): the rootfs
 * recipe's programs with their shared libraries from the sysroot, its
 * overlay (tl-run and friends), the kernel's configured modules and
 * teelab's own (decompressed, in load order), the RPMB key, lab TAs and
 * programs, and /init (the recipe's `init:`, built by guest.c).
 */
#include "images/kind.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "elfdeps.h"
#include "images.h"

struct initramfs_job {
	char *recipe;	/* the rootfs recipe file */
	char *overlay;	/* its overlay directory */
};

/* @name as Linux names a loaded module ('-' is '_'), malloc'd; @len bytes of it. */
static char *module_name(const char *name, size_t len)
{
	char *norm = xstrndup(name, len);

	for (char *c = norm; *c; c++)
		if (*c == '-')
			*c = '_';
	return norm;
}

/* Index every "<name>.ko[.xz|.zst|.gz]" under @dir: name -> path. */
static void index_modules(const char *dir, struct strvec *names, struct strvec *paths)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;
		char *full = path_join(dir, d);
		const char *ko = strstr(d, ".ko");

		if (d[0] != '.' && is_dir(full)) {
			index_modules(full, names, paths);
		} else if (ko && (!ko[3] || ko[3] == '.')) {
			char *name = module_name(d, (size_t)(ko - d));

			strvec_push(names, name);
			strvec_push(paths, full);
			free(name);
		}
		free(full);
		free(ents[i]);
	}
	free(ents);
}

/*
 * Decompress module @name into @dir/<name>.ko after its dependencies,
 * read from the module's own .modinfo "depends=" (modules.dep is made by
 * depmod at install time, so a .deb does not ship it). 0, -ENOENT (not
 * reported: the caller decides) when @name is not among @names, or
 * another -errno (reported).
 */
static int stage_module(const struct strvec *names, const struct strvec *paths,
			const char *name, const char *dir, struct strvec *order, int depth)
{
	struct strvec info = STRVEC_INIT;
	char *norm = module_name(name, strlen(name)), *dst = NULL;
	size_t i;
	int ret = 0;

	if (strvec_contains(order, norm))
		goto out;
	if (depth > 16) {
		ret = error("module dependency loop at '%s'", name);
		goto out;
	}
	for (i = 0; i < names->nr && strcmp(names->v[i], norm); i++)
		;
	if (i == names->nr) {
		ret = -ENOENT;
		goto out;
	}
	dst = xasprintf("%s/%s.ko", dir, norm);
	if ((ret = decompress_file(paths->v[i], dst)) || (ret = elf_read_modinfo(dst, &info)))
		goto out;
	for (i = 0; i < info.nr && !ret; i++) {
		char *list, *save = NULL;

		if (strncmp(info.v[i], "depends=", 8))
			continue;
		list = xstrdup(info.v[i] + 8);
		for (char *d = strtok_r(list, ",", &save); d && !ret; d = strtok_r(NULL, ",", &save))
			ret = stage_module(names, paths, d, dir, order, depth + 1);
		free(list);
		if (ret == -ENOENT)
			ret = error("module '%s' needs '%s', which the kernel does not ship", norm,
				    info.v[i] + 8);
	}
	if (!ret)
		strvec_push(order, norm);
out:
	strvec_release(&info);
	free(norm);
	free(dst);
	return ret;
}

/*
 * One line of /etc/teelab/modules for the staged module @dir/@name.ko:
 * "<name> [needs=a,b] [alias=<modalias pattern>]... [dep]" (tl_init.c reads
 * it: a module with aliases is loaded when a device's modalias matches one,
 * one without when it is not "dep" (only another module's dependency),
 * either way after what it needs). 0 or -errno (reported).
 */
static int module_line(const char *dir, const char *name, bool dep, struct strbuf *out)
{
	struct strvec info = STRVEC_INIT;
	char *path = xasprintf("%s/%s.ko", dir, name);
	int ret = elf_read_modinfo(path, &info);

	strbuf_addstr(out, name);
	for (size_t i = 0; i < info.nr && !ret; i++) {
		const char *v = info.v[i];

		if (!strncmp(v, "depends=", 8) && v[8])
			strbuf_addf(out, " needs=%s", v + 8);
		/* a space would split the line; Linux's aliases have none */
		else if (!strncmp(v, "alias=", 6) && v[6] && !strpbrk(v, " \t\n"))
			strbuf_addf(out, " %s", v);
	}
	strbuf_addf(out, "%s\n", dep ? " dep" : "");
	strvec_release(&info);
	free(path);
	return ret;
}

/* @name as Linux names a loaded module, into @sv. */
static void push_module_name(struct strvec *sv, const char *name)
{
	char *norm = module_name(name, strlen(name));

	strvec_push(sv, norm);
	free(norm);
}

/* Copy the configured modules (and their deps), decompressed, into @stage. 0 or -errno (reported). */
static int stage_modules(struct build_ctx *b, const char *stage)
{
	const struct kernel_files *k = &b->k;
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct strvec names = STRVEC_INIT, paths = STRVEC_INIT, order = STRVEC_INIT;
	struct strvec listed = STRVEC_INIT;	/* named by the kernel file or kmods: not "dep" */
	struct strbuf list = STRBUF_INIT;
	char *dir = NULL, *listf = NULL;
	int ret = 0;

	if (kc->modules.nr && !k->modules_dir) {
		ret = error("kernel '%s' lists modules but has no modules directory", kc->name);
		goto out;
	}
	dir = path_join(stage, "lib/modules/teelab");
	if (kc->modules.nr) {
		index_modules(k->modules_dir, &names, &paths);
		if ((ret = mkdir_p(dir, 0755)))
			goto out;
	}
	for (size_t i = 0; i < kc->modules.nr && !ret; i++) {
		/* "?name": load it if the kernel has it as a module (else built in or absent) */
		const char *m = kc->modules.v[i];
		bool optional = m[0] == '?';

		ret = stage_module(&names, &paths, m + optional, dir, &order, 0);
		if (ret == -ENOENT && optional)
			ret = 0;
		else if (ret == -ENOENT)
			ret = error("kernel '%s' has no module '%s' under '%s'", kc->name, m,
				    k->modules_dir);
		else if (!ret)
			push_module_name(&listed, m + optional);
	}
	if (ret)
		goto out;
	if (b->cfg->kmods.nr) {
		size_t before = order.nr;

		if ((ret = mkdir_p(dir, 0755)) || (ret = module_copy(b, dir, &order)))
			goto out;
		for (size_t i = before; i < order.nr; i++)
			push_module_name(&listed, order.v[i]);
	}
	for (size_t i = 0; i < order.nr && !ret; i++) {
		char *norm = module_name(order.v[i], strlen(order.v[i]));

		ret = module_line(dir, order.v[i], !strvec_contains(&listed, norm), &list);
		free(norm);
	}
	if (ret)
		goto out;
	listf = path_join(stage, "etc/teelab/modules");
	if (!(ret = mkparent(listf)))
		ret = write_file_str(listf, strbuf_str(&list));
out:
	strvec_release(&names);
	strvec_release(&paths);
	strvec_release(&order);
	strvec_release(&listed);
	strbuf_release(&list);
	free(dir);
	free(listf);
	return ret;
}

/*
 * The secure profile's RPMB key, if any, as /etc/teelab/rpmb.key (32 raw
 * bytes, mode 0600): /init programs the lab eMMC with it (`mmc rpmb
 * write-key`) before tee-supplicant starts.
 */
static int stage_rpmb_key(const struct secure_cfg *s, const char *stage)
{
	char *path = NULL;
	int ret = 0;

	if (!s->has_rpmb_key)
		return 0;
	path = path_join(stage, "etc/teelab/rpmb.key");
	if (!(ret = mkparent(path)))
		ret = write_file(path, s->rpmb_key, sizeof(s->rpmb_key), 0600);
	free(path);
	return ret;
}

/* The symlinks @links ("path=target") under @root. 0 or -errno (reported). */
static int create_links(const char *root, const struct strvec *links)
{
	for (size_t i = 0; i < links->nr; i++) {
		char *spec = xstrdup(links->v[i]);
		char *eq = strchr(spec, '=');
		char *path;
		struct stat st;
		int ret = 0;

		*eq = '\0';
		path = path_join(root, spec);
		if (lstat(path, &st)) {
			ret = mkparent(path);
			if (!ret && symlink(eq + 1, path))
				ret = error_errno("cannot create link '%s'", path);
		}
		free(path);
		free(spec);
		if (ret)
			return ret;
	}
	return 0;
}


/* Copy @files ("built=stage-relative") into @stage. */
static int stage_files(const struct strvec *files, const char *stage)
{
	int ret = 0;

	for (size_t i = 0; i < files->nr && !ret; i++) {
		char *spec = xstrdup(files->v[i]);
		char *eq = strchr(spec, '=');
		char *dst = path_join(stage, eq + 1);

		*eq = '\0';
		if (!(ret = mkparent(dst)))
			ret = copy_file(spec, dst);
		free(dst);
		free(spec);
	}
	return ret;
}

static int initramfs_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct lab_config *cfg = b->cfg;
	const struct rootfs_cfg *r = &cfg->rootfs;
	struct initramfs_job *ij = j->data;
	int ret;

	hasher_addstr(h, b->sysroot_hex);
	ij->recipe = config_file(cfg, "images/rootfs", r->name);
	ij->overlay = path_join(cfg->datadir, r->overlay);
	if (!is_dir(ij->overlay))
		return error_code(-ENOTDIR,
				  "rootfs overlay '%s' (recipe '%s') is not a directory", ij->overlay,
				  ij->recipe);
	hasher_addstr(h, j->kind->recipe);
	if ((ret = hasher_addfile(h, ij->recipe)) || (ret = hash_tree(h, ij->overlay, "")))
		return ret;
	hasher_addstr(h, b->k.key ? b->k.key : "");
	for (size_t i = 0; i < cfg->kernel.modules.nr; i++)
		hasher_addstr(h, cfg->kernel.modules.v[i]);
	for (size_t i = 0; i < cfg->kmods.nr; i++) {
		char *src = path_join(cfg->datadir, cfg->kmods.v[i]);

		hasher_addstr(h, cfg->kmods.v[i]);
		if (is_dir(src))
			ret = hash_tree(h, src, "");
		free(src);
		if (ret)
			return ret;
	}
	if (cfg->secure.has_rpmb_key)
		hasher_add(h, cfg->secure.rpmb_key, sizeof(cfg->secure.rpmb_key));
	/* the TAs' and guest programs' own keys */
	for (size_t i = 0; i < b->prog_keys.nr; i++)
		hasher_addstr(h, b->prog_keys.v[i]);
	return 0;
}

/*
 * Copy the recipe's programs with their libraries' closure, and its copies,
 * from the sysroot. 0 or -errno (reported).
 */
static int stage_programs(struct build_ctx *b, const char *stage)
{
	static const char *const libdirs[] = { "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
		"/lib", "/usr/lib", NULL };
	const struct rootfs_cfg *r = &b->cfg->rootfs;
	struct strvec closure = STRVEC_INIT;
	int ret;

	ret = elf_resolve_closure(b->sysroot, (const char *const *)r->programs.v, r->programs.nr,
				  libdirs, &closure);
	for (size_t i = 0; i < r->programs.nr && !ret; i++)
		if (!strvec_contains(&closure, r->programs.v[i]))
			strvec_push(&closure, r->programs.v[i]);
	for (size_t i = 0; i < r->copy.nr && !ret; i++)
		strvec_push(&closure, r->copy.v[i]);
	for (size_t i = 0; i < closure.nr && !ret; i++) {
		/* "path" copies to the same place, "src=dest" elsewhere */
		char *spec = xstrdup(closure.v[i]);
		char *eq = strchr(spec, '=');
		char *src, *dst;
		struct stat st;

		if (eq)
			*eq++ = '\0';
		src = path_join(b->sysroot, spec);
		dst = path_join(stage, eq ? eq : spec);
		if (lstat(src, &st)) {
			ret = error("'%s' (rootfs recipe '%s') is not in the unpacked packages",
				    spec, r->name);
		} else if (!lstat(dst, &st) && S_ISLNK(st.st_mode)) {
			/* already there as a link (e.g. lib -> usr/lib) */
		} else if (!(ret = mkparent(dst))) {
			ret = copy_path(src, dst);
		}
		free(spec);
		free(src);
		free(dst);
	}
	strvec_release(&closure);
	return ret;
}

static int initramfs_build(struct build_ctx *b, struct image_job *j, const char *dir,
			   const char *log UNUSED)
{
	static const char *const extra_dirs[] = { "dev", "proc", "sys", "tmp", "run", "root", NULL };
	const struct rootfs_cfg *r = &b->cfg->rootfs;
	struct initramfs_job *ij = j->data;
	char *stage = path_join(dir, "stage"), *cpio = path_join(dir, "initramfs.cpio");
	int ret;

	/* links first (lib -> usr/lib), so copies land where the guest looks */
	if ((ret = mkdir_p(stage, 0755)) || (ret = create_links(b->sysroot, &r->links)) ||
	    (ret = create_links(stage, &r->links)) || (ret = stage_programs(b, stage)))
		goto out;
	for (size_t i = 0; i < r->dirs.nr && !ret; i++) {
		char *d = path_join(stage, r->dirs.v[i]);

		ret = mkdir_p(d, 0755);
		free(d);
	}
	if (ret || (ret = copy_path(ij->overlay, stage)) || (ret = stage_modules(b, stage)) ||
	    (ret = stage_rpmb_key(&b->cfg->secure, stage)) || (ret = stage_files(&b->lab_files, stage)))
		goto out;
	if (!(ret = cpio_write_tree(stage, cpio, 0, extra_dirs, false)))
		remove_tree(stage);
out:
	free(stage);
	free(cpio);
	return ret;
}

static int initramfs_run(struct build_ctx *b)
{
	struct initramfs_job ij = { 0 };
	struct image_job j = { .kind = &initramfs_kind, .data = &ij, .label = b->cfg->rootfs.name };
	int ret = image_make(b, &j);

	if (!ret)
		b->out->initrd = path_join(j.dir, "initramfs.cpio");
	image_job_release(&j);
	free(ij.recipe);
	free(ij.overlay);
	return ret;
}

static const char *const initramfs_deps[] = { "sysroot", "kernel", "kmod", "ta", "guest", NULL };

const struct image_kind initramfs_kind = {
	.name = "initramfs",
	.title = "initramfs",
	.recipe = "initramfs-4",	/* 4: /etc/teelab/modules with needs=, alias=, dep */
	.deps = initramfs_deps,
	.run = initramfs_run,
	.inputs = initramfs_inputs,
	.build = initramfs_build,
};
