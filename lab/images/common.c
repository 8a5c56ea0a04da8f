// SPDX-License-Identifier: MIT
/* images/common.c - helpers every image kind uses: trees, Debian packages, source trees; see kind.h */
#include "images/kind.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "progress.h"
#include "runproc.h"

void image_symbol(struct build_ctx *b, const char *what, const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);

	if (file_exists(p))
		strvec_pushf(&b->out->symbols, "%s\t%s", what, p);
	free(p);
}

void provenance(struct build_ctx *b, const char *key, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "%s=", key);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(&b->out->provenance, strbuf_str(&sb));
	strbuf_release(&sb);
}

/* ---- small tree helpers ---- */

int hash_tree(struct hasher *h, const char *dir, const char *rel)
{
	char *path = rel[0] ? path_join(dir, rel) : xstrdup(dir);
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, alphasort);
	int ret = 0;

	if (n < 0) {
		ret = error_errno("cannot read directory '%s'", path);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *sub = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		char *full = path_join(dir, sub);
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, "..") || lstat(full, &st)) {
			free(sub);
			free(full);
			continue;
		}
		hasher_addstr(h, sub);
		hasher_add(h, &st.st_mode, sizeof(st.st_mode));
		if (S_ISDIR(st.st_mode)) {
			if (!ret)
				ret = hash_tree(h, dir, sub);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlink(full, target, sizeof(target) - 1);

			if (len >= 0) {
				target[len] = '\0';
				hasher_addstr(h, target);
			}
		} else if (!ret) {
			ret = hasher_addfile(h, full);
		}
		free(sub);
		free(full);
	}
out:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(path);
	return ret;
}

/* Copy @src (file, symlink or tree) to @dst, keeping symlinks as links. */
int copy_path(const char *src, const char *dst)
{
	struct stat st;
	int ret = 0;

	if (lstat(src, &st))
		return error_errno("cannot copy '%s'", src);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0)
			return error_errno("cannot read link '%s'", src);
		target[n] = '\0';
		if (symlink(target, dst) && errno != EEXIST)
			return error_errno("cannot create link '%s'", dst);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;

		if (mkdir(dst, (st.st_mode & 07777) | 0700) && errno != EEXIST)
			return error_errno("cannot create directory '%s'", dst);
		d = opendir(src);
		if (!d)
			return error_errno("cannot read directory '%s'", src);
		while (!ret && (de = readdir(d))) {
			char *s, *t;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			s = path_join(src, de->d_name);
			t = path_join(dst, de->d_name);
			ret = copy_path(s, t);
			free(s);
			free(t);
		}
		closedir(d);
		return ret;
	}
	if (S_ISREG(st.st_mode)) {
		unlink(dst);
		return copy_file(src, dst);
	}
	return 0;	/* devices, fifos: not needed in the guest */
}

/* mkdir -p the parent of @path (which is under @root). */
int mkparent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int ret = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		ret = mkdir_p(dir, 0755);
	}
	free(dir);
	return ret;
}

int fresh_dir(const char *dir)
{
	int ret = remove_tree(dir);

	return ret ? ret : mkdir_p(dir, 0755);
}

int nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* ---- Debian packages ---- */

/* Fetch @ref and unpack it once into <build>/deb-<sha>/; *dir malloc'd. */
int unpacked_deb(struct build_ctx *b, const struct pkg_ref *ref, char **dir, char **sha_out)
{
	char *deb = NULL, *out = NULL;
	char sha[SHA256_HEX_LEN + 1];
	char *sidecar = NULL, *sidecar_sha = NULL;
	int ret = aptroot_fetch_deb(&b->apt, ref, &deb);

	*dir = NULL;
	if (ret)
		goto out;
	sidecar = xasprintf("%s.sha256", deb);
	if (!read_file(sidecar, &sidecar_sha, NULL) && strlen(strtrim(sidecar_sha)) == SHA256_HEX_LEN)
		snprintf(sha, sizeof(sha), "%s", strtrim(sidecar_sha));
	else if ((ret = sha256_file(deb, sha)))
		goto out;
	/* keyed by the .deb's own hash, not a hash of inputs: no image kind */
	out = xasprintf("%s/deb-%.16s", b->build_dir, sha);
	{
		int lfd = image_entry_claim(out, deb);

		if (lfd < 0) {
			ret = lfd;
			goto out;
		}
		if (lfd > 0) {
			if (!(ret = fresh_dir(out)) && !(ret = deb_extract_data(deb, out)))
				ret = image_entry_stamp(out, -1);
			close(lfd);
			if (ret)
				goto out;
		}
	}
	if (sha_out)
		*sha_out = xstrdup(sha);
	*dir = out;
	out = NULL;
	{
		const char *base = strrchr(deb, '/');

		provenance(b, ref->name, "%s", base ? base + 1 : deb);
	}
out:
	free(deb);
	free(out);
	free(sidecar);
	free(sidecar_sha);
	return ret;
}

/* ---- source packages ---- */


/*
 * The first name in @dir, in sorted order, that starts with @prefix,
 * contains @infix and ends with @suffix ("" matches anything): the name
 * (malloc'd), or NULL if none matches or @dir cannot be read (reported).
 */
char *first_match(const char *dir, const char *prefix, const char *infix,
			 const char *suffix)
{
	struct strvec names = STRVEC_INIT;
	char *found = NULL;

	if (!list_dir(dir, &names)) {
		strvec_sort(&names);
		for (size_t i = 0; i < names.nr && !found; i++)
			if (starts_with(names.v[i], prefix) && strstr(names.v[i], infix) &&
			    ends_with(names.v[i], suffix))
				found = xstrdup(names.v[i]);
	}
	strvec_release(&names);
	return found;
}

/* first_match() as a path under @dir */
char *find_in(const char *dir, const char *prefix, const char *infix, const char *suffix)
{
	char *name = first_match(dir, prefix, infix, suffix), *path;

	if (!name)
		return NULL;
	path = path_join(dir, name);
	free(name);
	return path;
}

/* Apply debian/patches/series (quilt layout) with patch(1), argv only. 0 or -errno (reported). */
static int apply_series(const char *tree, const char *log)
{
	char *series = path_join(tree, "debian/patches/series");
	char *text = NULL, *save = NULL;
	int ret = 0;

	if (read_file(series, &text, NULL)) {
		free(series);
		return 0;	/* no patches */
	}
	for (char *line = strtok_r(text, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char *p = strtrim(line), *opt;
		struct child c = CHILD_INIT;
		const char *level = "-p1";

		if (!*p || *p == '#')
			continue;
		opt = strpbrk(p, " \t");
		if (opt) {
			*opt++ = '\0';
			opt = strtrim(opt);
			if (starts_with(opt, "-p"))
				level = opt;
		}
		strvec_pushl(&c.argv, "patch", level, "-N", "-s", "-i", NULL);
		strvec_pushf(&c.argv, "debian/patches/%s", p);
		c.dir = tree;
		c.log_path = log;
		ret = child_run(&c);
		if (ret)
			ret = error("cannot apply Debian patch '%s' in '%s'", p, tree);
		child_release(&c);
	}
	free(text);
	free(series);
	return ret;
}

/* Download, unpack and patch a source package once; *tree malloc'd. 0 or -errno (reported). */
static int source_tree(struct build_ctx *b, const struct pkg_ref *ref,
		       char **tree, char **version)
{
	char *dl = NULL, *out = NULL, *orig = NULL, *deb = NULL, *log = NULL;
	int lfd = -1, ret = aptroot_fetch_source(&b->apt, ref, &dl, version);

	*tree = NULL;
	if (ret)
		goto out;
	out = xasprintf("%s/src-%s_%s", b->build_dir, ref->name, *version);
	if ((lfd = image_entry_claim(out, ref->name)) <= 0) {
		ret = lfd;
		lfd = -1;
		if (ret)
			goto out;
		goto done;
	}
	orig = find_in(dl, "", ".orig.tar.", "");
	deb = find_in(dl, "", ".debian.tar.", "");
	if (!orig) {
		/* a native package: one tarball */
		orig = find_in(dl, "", ".tar.", "");
	}
	if (!orig) {
		ret = error("no source tarball in '%s'", dl);
		goto out;
	}
	log = xasprintf("%s.log", out);
	{
		char *what = xasprintf("source %s %s", ref->name, *version);
		struct progress *p = progress_start("unpack", what, -1, NULL, NULL, -1);

		if (!(ret = fresh_dir(out)) && !(ret = tar_extract(orig, out, 1)) &&
		    !(deb && ((ret = tar_extract(deb, out, 0)) || (ret = apply_series(out, log)))))
			ret = image_entry_stamp(out, -1);
		progress_end(p, !ret);
		free(what);
	}
	if (ret)
		goto out;
done:
	provenance(b, ref->name, "source %s (%s)", *version, ref->suite);
	*tree = out;
	out = NULL;
out:
	if (lfd >= 0)
		close(lfd);
	free(dl);
	free(out);
	free(orig);
	free(deb);
	free(log);
	return ret;
}

int hash_cross_build(struct build_ctx *b, struct hasher *h, const char *recipe,
		     const struct strvec *flags)
{
	char *cc = program_version("aarch64-linux-gnu-gcc", b->cfg->cache_dir);

	if (!cc)
		return error_code(-ENOENT, "the cross compiler 'aarch64-linux-gnu-gcc' is missing "
				  "(package gcc-aarch64-linux-gnu)");
	hasher_addstr(h, recipe);
	hasher_addstr(h, cc);
	for (size_t i = 0; i < flags->nr; i++)
		hasher_addstr(h, flags->v[i]);
	free(cc);
	return 0;
}

/*
 * The source tree of a build: the user's own tree (@user_tree, rebuilt on
 * every run since it changes under us; make is incremental), or the Debian
 * source package @ref, unpacked and patched once. Its identity goes into @h.
 * *tree and *version (NULL for a user tree) are malloc'd.
 */
int input_tree(struct build_ctx *b, const char *what, const char *user_tree,
		      const struct pkg_ref *ref, struct hasher *h, char **tree, char **version)
{
	*tree = *version = NULL;
	if (user_tree) {
		if (!is_dir(user_tree))
			return error_code(-ENOENT, "%s tree '%s' (secure profile '%s') does not exist", what,
					  user_tree, b->cfg->secure.name);
		*tree = xstrdup(user_tree);
		hasher_addstr(h, user_tree);
		hasher_addstr(h, "user-tree");
		return 0;
	}
	if (source_tree(b, ref, tree, version))
		return -EIO;
	hasher_addstr(h, *version);
	return 0;
}

int decompress_file(const char *src, const char *dst)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct strbuf data = STRBUF_INIT;
	char buf[65536];
	la_ssize_t n;
	int ret = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, src, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		ret = error("cannot read '%s': %s", src, archive_error_string(a));
		goto out;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		strbuf_add(&data, buf, (size_t)n);
	if (n < 0) {
		ret = error("cannot decompress '%s': %s", src, archive_error_string(a));
		goto out;
	}
	ret = write_file(dst, data.buf ? data.buf : "", data.len, 0644);
out:
	archive_read_free(a);
	strbuf_release(&data);
	return ret;
}

int unpack_once(const char *tarball, const char *dir, int strip)
{
	struct progress *p;
	int ret, lfd = image_entry_claim(dir, tarball);

	if (lfd <= 0)
		return lfd;
	p = progress_start("unpack", tarball, -1, NULL, NULL, -1);
	if (!(ret = fresh_dir(dir)) && !(ret = tar_extract(tarball, dir, strip)))
		ret = image_entry_stamp(dir, -1);
	progress_end(p, !ret);
	close(lfd);
	return ret;
}
