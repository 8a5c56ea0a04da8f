// SPDX-License-Identifier: MIT
/*
 * images/driver.c - the one place that builds an image: hash -> cache ->
 * build -> stamp, the kinds table and its order; images.h's entry points.
 */
#include "images/kind.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"
#include "scenario.h"

bool images_show_cached;

/*
 * Every kind, in the order a lab needs them (image_kinds_order() checks
 * it against the deps and would reorder).
 */
const struct image_kind *const image_kinds[] = {
	&optee_kind,	/* OP-TEE OS (BL32) and the TA dev kit */
	&tfa_kind,	/* TF-A + FIP: qemu_fw.bios */
	&kernel_kind,	/* Linux Image and modules */
	&module_kind,	/* teelab's out-of-tree kernel modules */
	&sysroot_kind,	/* the guest's Debian packages, unpacked */
	&ta_kind,	/* teelab's TAs */
	&guest_kind,	/* teelab's guest programs */
	&initramfs_kind,	/* the guest's root */
	&dtb_kind,	/* QEMU's device tree, edited */
	&disk_kind,	/* the kexec disk */
};
const size_t image_kinds_nr = ARRAY_SIZE(image_kinds);

/* ---- cache entries ---- */

static char *stamp_path(const char *dir)
{
	return path_join(dir, ".complete");
}

bool image_entry_complete(const char *dir)
{
	char *s = stamp_path(dir);
	bool ok = file_exists(s);

	free(s);
	return ok;
}

int image_entry_claim(const char *dir, const char *what)
{
	int fd;

	if (image_entry_complete(dir))
		return 0;
	fd = cache_entry_lock(dir, what);
	if (fd >= 0 && image_entry_complete(dir)) {
		close(fd);	/* built by the process we waited for */
		return 0;
	}
	return fd;
}

int image_entry_stamp(const char *dir, double seconds)
{
	char *s = stamp_path(dir);
	char text[32] = "";
	int ret;

	if (seconds >= 0)
		snprintf(text, sizeof(text), "%.1f\n", seconds);
	ret = write_file_str(s, text);
	free(s);
	return ret;
}

/* The seconds recorded in @dir/@name, or -1. */
static double read_seconds(const char *dir, const char *name)
{
	char *path = path_join(dir, name), *text = NULL, *end = NULL;
	double secs = -1;

	if (!read_file(path, &text, NULL)) {
		secs = strtod(text, &end);
		if (end == text)
			secs = -1;
	}
	free(path);
	free(text);
	return secs;
}

double image_last_seconds(const char *build_dir, const char *name)
{
	struct strvec names = STRVEC_INIT;
	size_t len = strlen(name);
	double best = -1;
	time_t newest = 0;

	if (list_dir(build_dir, &names))
		return -1;
	for (size_t i = 0; i < names.nr; i++) {
		const char *n = names.v[i];
		char *dir, *stamp;
		struct stat st;
		double secs;

		/* <name>-<16 hex digits>, not a .tmp */
		if (strncmp(n, name, len) || n[len] != '-' || strlen(n + len + 1) != 16)
			continue;
		dir = path_join(build_dir, n);
		stamp = stamp_path(dir);
		if (!stat(stamp, &st) && st.st_mtime >= newest) {
			secs = read_seconds(dir, ".complete");
			if (secs < 0)
				secs = read_seconds(dir, "build-seconds");	/* kernels before stamps had it */
			if (secs >= 0) {
				best = secs;
				newest = st.st_mtime;
			}
		}
		free(dir);
		free(stamp);
	}
	strvec_release(&names);
	return best;
}

/* ---- the driver ---- */

void image_job_release(struct image_job *j)
{
	free(j->dir);
	j->dir = NULL;
}

/*
 * Move the finished build @tmp to @dir (another process may have finished
 * it meanwhile). 0 or -errno (reported).
 */
static int publish(const char *tmp, const char *dir)
{
	int ret;

	if (image_entry_complete(dir))
		return remove_tree(tmp);
	if ((ret = remove_tree(dir)))
		return ret;
	if (rename(tmp, dir))
		return error_errno("cannot move '%s' to '%s'", tmp, dir);
	return 0;
}

/* Hash @j's inputs into j->hex and name its entry (j->dir). 0 or -errno (reported). */
static int image_key(struct build_ctx *b, struct image_job *j)
{
	const struct image_kind *k = j->kind;
	struct hasher *h = hasher_new();
	int ret = k->inputs(b, j, h);

	hasher_finish(h, j->hex);
	if (ret)
		return ret;
	free(j->dir);
	j->dir = xasprintf("%s/%s-%.16s", b->build_dir, k->name, j->hex);
	j->built = false;
	return 0;
}

/* "<kind title> <label>" for messages, malloc'd */
static char *job_what(const struct image_job *j)
{
	return j->label ? xasprintf("%s %s", j->kind->title, j->label) : xstrdup(j->kind->title);
}

int image_lookup(struct build_ctx *b, struct image_job *j)
{
	int ret = image_key(b, j);

	if (ret)
		return ret;
	if (!image_entry_complete(j->dir))
		return 0;
	if (images_show_cached) {
		char *what = job_what(j);

		info("cached: %s (%s)", what, j->dir);
		free(what);
	}
	return 1;
}

int image_make(struct build_ctx *b, struct image_job *j)
{
	const struct image_kind *k = j->kind;
	struct progress *p;
	char *what = NULL, *tmp = NULL, *log = NULL;
	double secs;
	int lfd = -1, ret = image_key(b, j);

	if (ret)
		return ret;
	what = job_what(j);
	/* one builder per entry across processes (a matrix, two runs, CI's prebuild) */
	lfd = j->rebuild ? cache_entry_lock(j->dir, what)
			 : image_entry_claim(j->dir, what);
	if (lfd <= 0) {
		if (!lfd && images_show_cached)
			info("cached: %s (%s)", what, j->dir);
		ret = lfd;
		lfd = -1;
		goto out;
	}
	tmp = k->in_place ? xstrdup(j->dir) : xasprintf("%s.tmp", j->dir);
	log = path_join(tmp, k->log_name ? k->log_name : "build.log");
	if ((ret = fresh_dir(tmp)))
		goto out;
	p = progress_start("build", what, image_last_seconds(b->build_dir, k->name),
			   log, NULL, -1);
	ret = k->build(b, j, tmp, log);
	secs = progress_end(p, !ret);
	if (ret) {
		error("%s: build failed after %.0f s; its log is '%s'", what, secs, log);
		goto out;
	}
	if ((ret = image_entry_stamp(tmp, secs)) || (!k->in_place && (ret = publish(tmp, j->dir))))
		goto out;
	j->built = true;
	b->out->builds++;
out:
	if (lfd >= 0)
		close(lfd);
	free(what);
	free(tmp);
	free(log);
	return ret;
}

/* The index of kind @name in @kinds, or -1 (not an error code) if none. */
static int kind_index(const struct image_kind *const *kinds, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(kinds[i]->name, name))
			return (int)i;
	return -1;
}

int image_kinds_order(const struct image_kind *const *kinds, size_t nr, size_t *order)
{
	bool *placed = xcalloc(nr ? nr : 1, sizeof(*placed));
	size_t done = 0;
	int ret = 0;

	for (size_t i = 0; i < nr && !ret; i++)
		for (const char *const *d = kinds[i]->deps; d && *d && !ret; d++)
			if (kind_index(kinds, nr, *d) < 0)
				ret = error_code(-EINVAL, "image kind '%s' depends on '%s', which is no kind",
						 kinds[i]->name, *d);
	/* repeatedly take the first kind, in table order, whose deps are placed */
	while (!ret && done < nr) {
		size_t i;

		for (i = 0; i < nr; i++) {
			bool ready = !placed[i];

			for (const char *const *d = kinds[i]->deps; ready && d && *d; d++)
				ready = placed[kind_index(kinds, nr, *d)];
			if (ready)
				break;
		}
		if (i == nr) {
			for (i = 0; placed[i]; i++)
				;
			ret = error_code(-EINVAL,
					 "image kinds depend on each other in a cycle (one of them: '%s')",
					 kinds[i]->name);
			break;
		}
		placed[i] = true;
		order[done++] = i;
	}
	free(placed);
	return ret;
}

/* ---- entry points ---- */

static void kernel_files_release(struct kernel_files *k)
{
	free(k->build_tree);
	free(k->image);
	free(k->modules_dir);
	free(k->release);
	free(k->key);
}

/* Every package the kinds of @cfg read, for the apt root's suites. */
static const struct pkg_ref **apt_refs(const struct lab_config *cfg, size_t *nr)
{
	const struct pkg_ref **refs = xcalloc(cfg->rootfs.nr_pkgs + 6, sizeof(*refs));

	*nr = 0;
	if (cfg->secure.tfa_kind == SRC_DEBIAN)
		refs[(*nr)++] = &cfg->secure.tfa_src;
	if (cfg->secure.optee_build && cfg->secure.optee_kind == SRC_DEBIAN)
		refs[(*nr)++] = &cfg->secure.optee_src;
	else if (cfg->secure.optee_kind == SRC_DEBIAN)
		refs[(*nr)++] = &cfg->secure.optee_deb;
	if (cfg->secure.ta_key_path)
		refs[(*nr)++] = &cfg->secure.ta_key_deb;
	if (cfg->secure.bl33_kind == SRC_DEBIAN)
		refs[(*nr)++] = &cfg->secure.bl33_deb;
	if (cfg->kernel.build)
		refs[(*nr)++] = &cfg->kernel.src_deb;
	else if (cfg->kernel.kind == SRC_DEBIAN)
		refs[(*nr)++] = &cfg->kernel.deb;
	for (size_t i = 0; i < cfg->rootfs.nr_pkgs; i++)
		refs[(*nr)++] = &cfg->rootfs.pkgs[i];
	return refs;
}

int images_build(const struct lab_config *cfg, bool refresh, struct lab_images *out)
{
	struct build_ctx b = { .cfg = cfg, .out = out, .prog_keys = STRVEC_INIT,
			       .lab_files = STRVEC_INIT };
	size_t order[ARRAY_SIZE(image_kinds)];
	const struct pkg_ref **refs = NULL;
	size_t nr = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	b.build_dir = path_join(cfg->cache_dir, "build");
	if ((ret = mkdir_p(b.build_dir, 0755)) ||
	    (ret = image_kinds_order(image_kinds, image_kinds_nr, order)))
		goto out;
	refs = apt_refs(cfg, &nr);
	if ((ret = aptroot_open(&b.apt, cfg->cache_dir, refs, nr, refresh)))
		goto out;
	for (size_t i = 0; i < image_kinds_nr && !ret; i++)
		ret = image_kinds[order[i]]->run(&b);
out:
	out->downloads += b.apt.downloads;
	kernel_files_release(&b.k);
	aptroot_release(&b.apt);
	free(refs);
	free(b.build_dir);
	free(b.ta_sign_key);
	free(b.bl32_dir);
	free(b.kmod_dir);
	free(b.sysroot);
	strvec_release(&b.prog_keys);
	strvec_release(&b.lab_files);
	return ret;
}

int images_add_kexec_kernels(const struct config_overrides *ov, const struct strvec *kernels,
			     bool refresh, struct lab_images *im)
{
	struct strvec files = STRVEC_INIT, names = STRVEC_INIT;
	struct build_ctx b = { .out = im };
	int ret = 0;

	strvec_push(&files, im->kernel);
	strvec_push(&names, "kexec/Image");
	strvec_push(&files, im->initrd);
	strvec_push(&names, "kexec/initrd");
	for (size_t i = 0; i < kernels->nr && !ret; i++) {
		struct config_overrides other = *ov;
		struct lab_config cfg = { 0 };
		struct lab_images o = { 0 };

		if (!strcmp(kernels->v[i], "boot"))
			continue;
		other.kernel = kernels->v[i];
		info("images for kexec into kernel '%s'", kernels->v[i]);
		ret = config_load(&cfg, &other);
		if (ret) {
			error("kexec target '%s': not a usable kernel configuration",
			      kernels->v[i]);
			break;
		}
		ret = images_build(&cfg, refresh, &o);
		if (!ret) {
			strvec_push(&files, o.kernel);
			strvec_pushf(&names, "kexec/%s/Image", kernels->v[i]);
			strvec_push(&files, o.initrd);
			strvec_pushf(&names, "kexec/%s/initrd", kernels->v[i]);
			strvec_pushf(&im->provenance, "kexec_kernel_%s=%s", kernels->v[i],
				     o.kernel_release ? o.kernel_release : o.kernel);
			if (!b.build_dir)
				b.build_dir = path_join(cfg.cache_dir, "build");
		} else {
			error("kexec target '%s': its images could not be built", kernels->v[i]);
		}
		im->builds += o.builds;
		im->downloads += o.downloads;
		lab_images_release(&o);
		config_release(&cfg);
	}
	if (!ret && b.build_dir)
		ret = disk_make(&b, (const char *const *)files.v, (const char *const *)names.v,
				files.nr, &im->kexec_disk);
	free(b.build_dir);
	strvec_release(&files);
	strvec_release(&names);
	return ret;
}

int images_build_scenario(const struct lab_config *cfg, const struct config_overrides *ov,
			  const struct scenario *sc, bool refresh, struct lab_images *out)
{
	struct strvec targets = STRVEC_INIT;
	int ret = images_build(cfg, refresh, out);

	if (!ret && sc)
		scenario_kexec_targets(sc, &targets);
	if (!ret && targets.nr)
		ret = images_add_kexec_kernels(ov, &targets, refresh, out);
	strvec_release(&targets);
	return ret;
}

void lab_images_release(struct lab_images *im)
{
	free(im->bios);
	free(im->kernel);
	free(im->initrd);
	free(im->dtb);
	free(im->kexec_disk);
	free(im->ta_devkit);
	free(im->kernel_release);
	strvec_release(&im->provenance);
	strvec_release(&im->symbols);
	strvec_release(&im->tas);
	memset(im, 0, sizeof(*im));
}

void lab_images_to_result(const struct lab_images *im, struct run_result *r)
{
	for (size_t i = 0; i < im->provenance.nr; i++) {
		char *kv = xstrdup(im->provenance.v[i]);
		char *eq = strchr(kv, '=');

		if (eq) {
			*eq = '\0';
			run_result_env(r, kv, eq + 1);
		}
		free(kv);
	}
	if (im->kernel_release)
		run_result_env(r, "kernel_release", im->kernel_release);
}
