// SPDX-License-Identifier: MIT
/*
 * images/labprog.c - what teelab's TAs (ta.c) and guest programs
 * (guest.c) share: `make -C <datadir>/<rel> O=<entry>/build <vars>` (the
 * source directory is only read: the data dir may be read-only), and
 * collecting what it made for the initramfs.
 */
#include "images/kind.h"

#include <errno.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runproc.h"

/*
 * The key covers the recipe version, the kind, @rel's tree, the trees of
 * `also` (sources @rel includes from elsewhere) and the make variables
 * (which name content-addressed inputs: the TA dev kit, the sysroot).
 */
int labprog_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct labprog *p = j->data;
	char *src = path_join(b->cfg->datadir, p->rel);
	int ret;

	hasher_addstr(h, j->kind->recipe);
	hasher_addstr(h, j->kind->name);
	hasher_addstr(h, p->rel);
	ret = is_dir(src) ? hash_tree(h, src, "") :
			    error_code(-ENOTDIR,
				       "%s source '%s' (profile '%s') is not a directory", j->kind->name,
				       src, b->cfg->profile);
	for (size_t i = 0; p->also && i < p->also->nr && !ret; i++) {
		char *dir = path_join(b->cfg->datadir, p->also->v[i]);

		hasher_addstr(h, p->also->v[i]);
		if (is_dir(dir))
			ret = hash_tree(h, dir, "");
		free(dir);
	}
	for (size_t i = 0; i < p->vars->nr; i++)
		hasher_addstr(h, p->vars->v[i]);
	free(src);
	return ret;
}

int labprog_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	const struct labprog *p = j->data;
	struct child c = CHILD_INIT;
	char *src = path_join(b->cfg->datadir, p->rel), *obj = path_join(dir, "build");
	int ret = mkdir_p(obj, 0755);

	strvec_pushl(&c.argv, "make", "-C", src, NULL);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_pushf(&c.argv, "O=%s", obj);
	for (size_t i = 0; i < p->vars->nr; i++)
		strvec_push(&c.argv, p->vars->v[i]);
	c.log_path = log;
	if (!ret && child_run(&c))
		ret = error("%s '%s' did not build; see '%s'", j->kind->name, p->rel, log);
	child_release(&c);
	free(src);
	free(obj);
	return ret;
}

/*
 * Files of @dir to install: "*.ta" when @suffix is ".ta", else regular
 * executable files without a '.' in their name. Each goes to @files as
 * "<absolute path>=<@dest>/<name>". 0, or -errno (reported; -EIO when
 * the build produced none).
 */
static int collect_outputs(const char *dir, const char *suffix, const char *dest,
			   struct strvec *files)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t before = files->nr;

	if (!d)
		return error_errno("cannot read '%s'", dir);
	while ((de = readdir(d))) {
		char *p = path_join(dir, de->d_name);
		struct stat st;
		bool take = false;

		if (de->d_name[0] != '.' && !stat(p, &st) && S_ISREG(st.st_mode))
			take = suffix ? ends_with(de->d_name, suffix) :
					(st.st_mode & S_IXUSR) && !strchr(de->d_name, '.');
		if (take)
			strvec_pushf(files, "%s=%s/%s", p, dest, de->d_name);
		free(p);
	}
	closedir(d);
	if (files->nr == before)
		return error("the build in '%s' produced no %s", dir,
			     suffix ? suffix : "executable");
	return 0;
}

/* A lab TA's <uuid>.elf in @obj: its symbols (ta:<name>) and its UUID's name (lab_images.tas). */
static void record_ta(struct build_ctx *b, const char *obj, const char *rel)
{
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	DIR *d = opendir(obj);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n != 36 + 4 || !ends_with(de->d_name, ".elf"))
			continue;	/* <uuid>.elf, not <uuid>.stripped.elf */
		strvec_pushf(&b->out->tas, "%.36s\t%s", de->d_name, name);
		{
			char *what = xasprintf("ta:%s", name);

			image_symbol(b, what, obj, de->d_name);
			free(what);
			what = path_join(b->cfg->datadir, rel);
			image_symbol(b, "src", what, ".");
			free(what);
		}
	}
	if (d)
		closedir(d);
}

int labprog_run_all(struct build_ctx *b, const struct image_kind *kind, const struct strvec *rels,
		    const struct strvec *also, const struct strvec *vars, const char *suffix,
		    const char *dest)
{
	int ret = 0;

	for (size_t i = 0; i < rels->nr && !ret; i++) {
		struct labprog p = { .rel = rels->v[i], .also = also, .vars = vars };
		struct image_job j = { .kind = kind, .data = &p, .label = rels->v[i] };

		ret = image_make(b, &j);
		if (!ret) {
			char *obj = path_join(j.dir, "build");

			strvec_push(&b->prog_keys, j.hex);
			ret = collect_outputs(obj, suffix, dest, &b->lab_files);
			if (!ret && suffix && !strcmp(suffix, ".ta"))
				record_ta(b, obj, rels->v[i]);
			free(obj);
		}
		image_job_release(&j);
	}
	return ret;
}
