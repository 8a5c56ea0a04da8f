// SPDX-License-Identifier: MIT
/* images.c - fetch and build what a lab boots, cached by input hash; see images.h */
#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "dtb.h"
#include "elfdeps.h"
#include "runproc.h"
#include "scenario.h"

/* Bump when the way an image is assembled changes, to invalidate caches. */
#define TFA_RECIPE_VERSION "tfa-1"
#define INITRAMFS_RECIPE_VERSION "initramfs-2"

struct build_ctx {
	const struct lab_config *cfg;
	struct aptroot apt;
	char *build_dir;	/* <cache>/build */
	char *ta_sign_key;	/* the private key lab TAs are signed with, or NULL: the dev kit's */
	struct lab_images *out;
};

static void provenance(struct build_ctx *b, const char *key, const char *fmt, ...)
	PRINTF(3, 4);
static void provenance(struct build_ctx *b, const char *key, const char *fmt, ...)
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

/* Hash every file under @dir (sorted relative paths, modes, contents). */
static int hash_tree(struct hasher *h, const char *dir, const char *rel)
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
static int copy_path(const char *src, const char *dst)
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
static int mkparent(const char *path)
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

static char *stamp_path(const char *dir)
{
	return path_join(dir, ".complete");
}

static bool is_complete(const char *dir)
{
	char *s = stamp_path(dir);
	bool ok = file_exists(s);

	free(s);
	return ok;
}

static int mark_complete(const char *dir)
{
	char *s = stamp_path(dir);
	int ret = write_file_str(s, "");

	free(s);
	return ret;
}

/* A fresh, empty directory for an output being built. */
static int fresh_dir(const char *dir)
{
	int ret = remove_tree(dir);

	return ret ? ret : mkdir_p(dir, 0755);
}

/*
 * The cache entry for an output of @kind whose inputs hash to @hex:
 * *dir = <build>/<kind>-<first 16 hex digits> (malloc'd, also on error).
 * *cached: it holds a finished output and @reuse allows using it; else it
 * is now an empty directory to build into. 0 or -errno (reported).
 */
static int cache_entry(const struct build_ctx *b, const char *kind, const char *hex, bool reuse,
		       char **dir, bool *cached)
{
	*dir = xasprintf("%s/%s-%.16s", b->build_dir, kind, hex);
	*cached = reuse && is_complete(*dir);
	return *cached ? 0 : fresh_dir(*dir);
}

/* A build into cache entry @dir finished: mark it complete and count it. 0 or -errno. */
static int cache_built(struct build_ctx *b, const char *dir)
{
	int ret = mark_complete(dir);

	if (!ret)
		b->out->builds++;
	return ret;
}

/* ---- Debian packages ---- */

/* Fetch @ref and unpack it once into <build>/deb-<sha>/; *dir malloc'd. */
static int unpacked_deb(struct build_ctx *b, const struct pkg_ref *ref,
			char **dir, char **sha_out)
{
	char *deb = NULL, *out = NULL;
	char sha[SHA256_HEX_LEN + 1];
	char *sidecar = NULL, *sidecar_sha = NULL;
	bool cached = false;
	int ret = aptroot_fetch_deb(&b->apt, ref, &deb);

	*dir = NULL;
	if (ret)
		goto out;
	sidecar = xasprintf("%s.sha256", deb);
	if (!read_file(sidecar, &sidecar_sha, NULL) && strlen(strtrim(sidecar_sha)) == SHA256_HEX_LEN)
		snprintf(sha, sizeof(sha), "%s", strtrim(sidecar_sha));
	else if ((ret = sha256_file(deb, sha)))
		goto out;
	ret = cache_entry(b, "deb", sha, true, &out, &cached);
	if (!ret && !cached && !(ret = deb_extract_data(deb, out)))
		ret = mark_complete(out);
	if (ret)
		goto out;
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
static char *first_match(const char *dir, const char *prefix, const char *infix,
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
static char *find_in(const char *dir, const char *prefix, const char *infix, const char *suffix)
{
	char *name = first_match(dir, prefix, infix, suffix), *path;

	if (!name)
		return NULL;
	path = path_join(dir, name);
	free(name);
	return path;
}

/* Apply debian/patches/series (quilt layout) with patch(1), argv only. */
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

/* Download, unpack and patch a source package once; *tree malloc'd. */
static int source_tree(struct build_ctx *b, const struct pkg_ref *ref,
		       char **tree, char **version)
{
	char *dl = NULL, *out = NULL, *orig = NULL, *deb = NULL, *log = NULL;
	int ret = aptroot_fetch_source(&b->apt, ref, &dl, version);

	*tree = NULL;
	if (ret)
		goto out;
	out = xasprintf("%s/src-%s_%s", b->build_dir, ref->name, *version);
	if (is_complete(out))
		goto done;
	info("build: unpacking source %s %s", ref->name, *version);
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
	if ((ret = fresh_dir(out)) || (ret = tar_extract(orig, out, 1)))
		goto out;
	if (deb && ((ret = tar_extract(deb, out, 0)) || (ret = apply_series(out, log))))
		goto out;
	if ((ret = mark_complete(out)))
		goto out;
done:
	provenance(b, ref->name, "source %s (%s)", *version, ref->suite);
	*tree = out;
	out = NULL;
out:
	free(dl);
	free(out);
	free(orig);
	free(deb);
	free(log);
	return ret;
}

static char *compiler_id(const char *cc)
{
	struct strbuf out = STRBUF_INIT;
	const char *argv[] = { cc, "--version", NULL };
	char *nl;

	if (run_capture(argv, NULL, &out) || !out.len) {
		strbuf_release(&out);
		return NULL;
	}
	nl = strchr(out.buf, '\n');
	if (nl)
		*nl = '\0';
	return strbuf_detach(&out);
}

static int nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* ---- secure world ---- */

/* What every cross build's key shares: recipe version, cross compiler, make flags. */
static int hash_cross_build(struct hasher *h, const char *recipe, const struct strvec *flags)
{
	char *cc = compiler_id("aarch64-linux-gnu-gcc");

	if (!cc)
		return error("the cross compiler 'aarch64-linux-gnu-gcc' is missing (package gcc-aarch64-linux-gnu)");
	hasher_addstr(h, recipe);
	hasher_addstr(h, cc);
	for (size_t i = 0; i < flags->nr; i++)
		hasher_addstr(h, flags->v[i]);
	free(cc);
	return 0;
}



static const char *const bl32_files[] = {
	"tee-header_v2.bin", "tee-pager_v2.bin", "tee-pageable_v2.bin",
};

/* qemu_fw.bios = bl1.bin, zero-padded to 0x40000, then fip.bin (TF-A plat/qemu layout). */
static int pack_bios(const char *bl1, const char *fip, const char *out)
{
	char *a = NULL, *f = NULL, *buf = NULL;
	size_t la = 0, lf = 0;
	const size_t fip_off = 0x40000;
	int ret;

	if ((ret = read_file(bl1, &a, &la)) || (ret = read_file(fip, &f, &lf))) {
		ret = error("cannot read '%s' or '%s'", bl1, fip);
		goto out;
	}
	if (la > fip_off) {
		ret = error("'%s' is larger than 0x40000 bytes", bl1);
		goto out;
	}
	buf = xcalloc(1, fip_off + lf);
	memcpy(buf, a, la);
	memcpy(buf + fip_off, f, lf);
	ret = write_file(out, buf, fip_off + lf, 0644);
out:
	free(a);
	free(f);
	free(buf);
	return ret;
}

/*
 * The source tree of a build: the user's own tree (@user_tree, rebuilt on
 * every run since it changes under us; make is incremental), or the Debian
 * source package @ref, unpacked and patched once. Its identity goes into @h.
 * *tree and *version (NULL for a user tree) are malloc'd.
 */
static int input_tree(struct build_ctx *b, const char *what, const char *user_tree,
		      const struct pkg_ref *ref, struct hasher *h, char **tree, char **version)
{
	*tree = *version = NULL;
	if (user_tree) {
		if (!is_dir(user_tree))
			return error("%s tree '%s' (secure profile '%s') does not exist", what,
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

static int build_tfa(struct build_ctx *b, const char *bl32_dir, const char *bl33)
{
	bool cached = false;
	const struct secure_cfg *s = &b->cfg->secure;
	struct hasher *h = hasher_new();
	char key[SHA256_HEX_LEN + 1];
	char *tree = NULL, *version = NULL, *out = NULL, *log = NULL;
	char *bios = NULL, *bdir = NULL, *bl1 = NULL, *fip = NULL;
	struct child c = CHILD_INIT;
	double t0;
	int ret = 0;

	if (s->tfa_kind == SRC_PREBUILT) {
		hasher_finish(h, key);
		if (!file_exists(s->tfa_bios))
			return error("TF-A image '%s' (secure profile '%s') does not exist",
				     s->tfa_bios, s->name);
		b->out->bios = xstrdup(s->tfa_bios);
		provenance(b, "tfa", "prebuilt %s", s->tfa_bios);
		return 0;
	}
	ret = input_tree(b, "TF-A", s->tfa_kind == SRC_TREE ? s->tfa_tree : NULL, &s->tfa_src,
			 h, &tree, &version);
	if (ret)
		goto out;
	if ((ret = hash_cross_build(h, TFA_RECIPE_VERSION, &s->tfa_flags)))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(bl32_files); i++) {
		char *f = path_join(bl32_dir, bl32_files[i]);

		if (!file_exists(f)) {
			ret = error("BL32 file '%s' missing (secure profile '%s')", f, s->name);
			free(f);
			goto out;
		}
		ret = hasher_addfile(h, f);
		free(f);
		if (ret)
			goto out;
	}
	if (!file_exists(bl33)) {
		ret = error("BL33 '%s' missing (secure profile '%s')", bl33, s->name);
		goto out;
	}
	if ((ret = hasher_addfile(h, bl33)))
		goto out;
	hasher_finish(h, key);
	h = NULL;

	ret = cache_entry(b, "tfa", key, s->tfa_kind == SRC_DEBIAN, &out, &cached);
	bios = path_join(out, "qemu_fw.bios");
	if (!ret && cached)
		goto done;
	if (ret)
		goto out;
	log = path_join(out, "build.log");
	bdir = path_join(out, "build");
	info("build: TF-A (BL1, BL2, BL31 + FIP) from %s, log %s", tree, log);
	t0 = now_mono();
	strvec_pushl(&c.argv, "make", "-C", tree, NULL);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_push(&c.argv, "CROSS_COMPILE=aarch64-linux-gnu-");
	for (size_t i = 0; i < s->tfa_flags.nr; i++)
		strvec_push(&c.argv, s->tfa_flags.v[i]);
	strvec_pushf(&c.argv, "BUILD_BASE=%s", bdir);
	strvec_pushf(&c.argv, "BL32=%s/%s", bl32_dir, bl32_files[0]);
	strvec_pushf(&c.argv, "BL32_EXTRA1=%s/%s", bl32_dir, bl32_files[1]);
	strvec_pushf(&c.argv, "BL32_EXTRA2=%s/%s", bl32_dir, bl32_files[2]);
	strvec_pushf(&c.argv, "BL33=%s", bl33);
	strvec_pushl(&c.argv, "all", "fip", NULL);
	c.log_path = log;
	ret = child_run(&c);
	if (ret) {
		ret = error("TF-A build failed; see '%s'", log);
		goto out;
	}
	/* BUILD_BASE/<plat>/<release|debug>/{bl1.bin,fip.bin} */
	{
		const char *sub[] = { "qemu/release", "qemu/debug" };

		for (size_t i = 0; i < ARRAY_SIZE(sub) && !bl1; i++) {
			char *d = path_join(bdir, sub[i]);
			char *x = path_join(d, "bl1.bin");

			if (file_exists(x)) {
				bl1 = x;
				fip = path_join(d, "fip.bin");
			} else {
				free(x);
			}
			free(d);
		}
	}
	if (!bl1 || !file_exists(fip)) {
		ret = error("TF-A build left no bl1.bin/fip.bin under '%s'", bdir);
		goto out;
	}
	if ((ret = pack_bios(bl1, fip, bios)) || (ret = cache_built(b, out)))
		goto out;
	info("build: TF-A done in %.1f s", now_mono() - t0);
done:
	b->out->bios = bios;
	bios = NULL;
out:
	if (h)
		hasher_finish(h, key);
	child_release(&c);
	free(tree);
	free(version);
	free(out);
	free(log);
	free(bios);
	free(bdir);
	free(bl1);
	free(fip);
	return ret;
}

#define OPTEE_RECIPE_VERSION "optee-1"

/*
 * OP-TEE OS built from Debian's optee-os source (or the user's tree) with
 * teelab's overlay and patches, for PLATFORM=... from the profile's make
 * flags. *bl32_dir gets the directory with tee-*_v2.bin; the TA dev kit
 * (export-ta_arm64) is kept beside it for lab TAs.
 */
static int build_optee(struct build_ctx *b, char **bl32_dir)
{
	bool cached = false;
	const struct secure_cfg *s = &b->cfg->secure;
	struct hasher *h = hasher_new();
	struct child c = CHILD_INIT;
	char key[SHA256_HEX_LEN + 1];
	char *tree = NULL, *version = NULL, *out = NULL, *src = NULL;
	char *bdir = NULL, *log = NULL, *overlay = NULL, *ta_key = NULL, *key_root = NULL;
	double t0;
	int ret = 0;

	*bl32_dir = NULL;
	ret = input_tree(b, "OP-TEE", s->optee_kind == SRC_TREE ? s->optee_tree : NULL,
			 &s->optee_src, h, &tree, &version);
	if (ret)
		goto out;
	if ((ret = hash_cross_build(h, OPTEE_RECIPE_VERSION, &s->optee_flags)))
		goto out;
	if (s->optee_overlay) {
		overlay = path_join(b->cfg->datadir, s->optee_overlay);
		if (!is_dir(overlay)) {
			ret = error("OP-TEE overlay '%s' (secure profile '%s') is not a directory",
				    overlay, s->name);
			goto out;
		}
		if ((ret = hash_tree(h, overlay, "")))
			goto out;
	}
	for (size_t i = 0; i < s->optee_patches.nr; i++) {
		char *p = path_join(b->cfg->datadir, s->optee_patches.v[i]);

		ret = hasher_addfile(h, p);
		free(p);
		if (ret)
			goto out;
	}
	if (s->ta_key_path) {
		/* the key the TAs we run were signed with (xtest's, from optee-os-dev) */
		if ((ret = unpacked_deb(b, &s->ta_key_deb, &key_root, NULL)))
			goto out;
		ta_key = path_join(key_root, s->ta_key_path);
		if ((ret = hasher_addfile(h, ta_key)))
			goto out;
	}
	hasher_finish(h, key);
	h = NULL;

	ret = cache_entry(b, "optee", key, s->optee_kind != SRC_TREE, &out, &cached);
	bdir = path_join(out, "build");
	if (!ret && cached)
		goto done;
	if (ret)
		goto out;
	log = path_join(out, "build.log");
	src = path_join(out, "src");
	/* a private copy: the cached source stays pristine for other profiles */
	info("build: OP-TEE OS from %s, log %s", tree, log);
	t0 = now_mono();
	if ((ret = copy_path(tree, src)) || (overlay && (ret = copy_path(overlay, src))))
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
	if (ta_key)
		strvec_pushf(&c.argv, "TA_PUBLIC_KEY=%s", ta_key);
	strvec_push(&c.argv, "all");
	c.log_path = log;
	if (child_run(&c)) {
		ret = error("OP-TEE build failed; see '%s'", log);
		goto out;
	}
	remove_tree(src);
	if ((ret = cache_built(b, out)))
		goto out;
	info("build: OP-TEE OS done in %.1f s", now_mono() - t0);
done:
	provenance(b, "optee-os", "%s %s, built by teelab (%s)", s->optee_kind == SRC_TREE ? "tree" : "source",
		   version ? version : tree, out);
	*bl32_dir = path_join(bdir, "core");
	b->out->ta_devkit = path_join(bdir, "export-ta_arm64");
	b->ta_sign_key = ta_key ? xstrdup(ta_key) : NULL;
out:
	if (h)
		hasher_finish(h, key);
	child_release(&c);
	free(tree);
	free(version);
	free(out);
	free(src);
	free(bdir);
	free(log);
	free(overlay);
	free(ta_key);
	free(key_root);
	return ret;
}

static int build_secure(struct build_ctx *b)
{
	const struct secure_cfg *s = &b->cfg->secure;
	char *optee_root = NULL, *uboot_root = NULL, *bl32_dir = NULL, *bl33 = NULL;
	int ret = 0;

	if (s->optee_build) {
		if ((ret = build_optee(b, &bl32_dir)))
			goto out;
	} else if (s->optee_kind == SRC_DEBIAN) {
		ret = unpacked_deb(b, &s->optee_deb, &optee_root, NULL);
		if (ret)
			goto out;
		bl32_dir = path_join(optee_root, s->optee_dir);
	} else {
		bl32_dir = xstrdup(s->optee_dir);
		provenance(b, "optee", "prebuilt %s", bl32_dir);
	}
	if (s->bl33_kind == SRC_DEBIAN) {
		ret = unpacked_deb(b, &s->bl33_deb, &uboot_root, NULL);
		if (ret)
			goto out;
		bl33 = path_join(uboot_root, s->bl33_path);
	} else {
		bl33 = xstrdup(s->bl33_path);
		provenance(b, "bl33", "prebuilt %s", bl33);
	}
	ret = build_tfa(b, bl32_dir, bl33);
out:
	free(optee_root);
	free(uboot_root);
	free(bl32_dir);
	free(bl33);
	return ret;
}

/* ---- kernel ---- */

struct kernel_files {
	char *build_tree;	/* a kernel built by teelab: its O= dir (for kmods), or NULL */
	char *image;
	char *modules_dir;	/* lib/modules/<release>, or NULL */
	char *release;
	char *key;		/* content identity for the initramfs hash */
};

#define KERNEL_RECIPE_VERSION "kernel-1"

/* Every option a fragment sets must be in .config as set ("=n" as not set). */
static int check_fragment(const char *config_text, const char *fragment)
{
	char *text = NULL, *save = NULL;
	int ret = 0;

	if (read_file(fragment, &text, NULL))
		return error("cannot read kernel config fragment '%s'", fragment);
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

static int kmake(const char *src, const char *obj, const char *log, const char *const *targets)
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
	for (; *targets; targets++)
		strvec_push(&c.argv, *targets);
	c.log_path = log;
	ret = child_run(&c);
	child_release(&c);
	return ret;
}

/*
 * A kernel built from Debian's linux-source-<ver> package: the tarball
 * inside it is unpacked once, then each (version, base config, fragments,
 * compiler) gets its own O= build directory with Image, modules installed
 * under modroot/, and the tree kept for building teelab's modules.
 */
static int build_kernel(struct build_ctx *b, struct kernel_files *k)
{
	bool cached = false;
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct hasher *h = hasher_new();
	char key[SHA256_HEX_LEN + 1];
	char *debroot = NULL, *sha = NULL, *tarball = NULL, *src = NULL, *out = NULL;
	char *obj = NULL, *log = NULL, *config = NULL, *text = NULL, *rel = NULL, *modroot = NULL;
	struct strvec frags = STRVEC_INIT;
	double t0;
	int ret;

	if ((ret = unpacked_deb(b, &kc->src_deb, &debroot, &sha)))
		goto out;
	src = xasprintf("%s/ksrc-%.16s", b->build_dir, sha);
	if (!is_complete(src)) {
		char *dir = path_join(debroot, "usr/src");

		tarball = find_in(dir, "linux-source-", "", ".tar.xz");
		free(dir);
		if (!tarball) {
			ret = error("%s: no usr/src/linux-source-*.tar.xz in the package", kc->src_deb.where);
			goto out;
		}
		info("build: unpacking %s", tarball);
		if ((ret = fresh_dir(src)) || (ret = tar_extract(tarball, src, 1)) ||
		    (ret = mark_complete(src)))
			goto out;
	}
	hasher_addstr(h, sha);
	hasher_addstr(h, kc->base_config);
	for (size_t i = 0; i < kc->fragments.nr; i++) {
		char *f = path_join(b->cfg->datadir, kc->fragments.v[i]);

		strvec_push(&frags, f);
		ret = hasher_addfile(h, f);
		free(f);
		if (ret)
			goto out;
	}
	if ((ret = hash_cross_build(h, KERNEL_RECIPE_VERSION, &kc->fragments)))
		goto out;
	hasher_finish(h, key);
	h = NULL;
	ret = cache_entry(b, "kernel", key, true, &out, &cached);
	obj = path_join(out, "build");
	modroot = path_join(out, "modroot");
	log = path_join(out, "build.log");
	config = path_join(obj, ".config");
	if (!ret && cached)
		goto done;
	if (ret || (ret = mkdir_p(obj, 0755)))
		goto out;
	info("build: Linux from %s (%s + %zu fragment(s)), log %s", kc->src_deb.name,
	     kc->base_config, frags.nr, log);
	t0 = now_mono();
	if (kmake(src, obj, log, (const char *const[]){ kc->base_config, NULL })) {
		ret = error("kernel '%s': make %s failed; see '%s'", kc->name, kc->base_config, log);
		goto out;
	}
	{
		struct child c = CHILD_INIT;
		char *script = path_join(src, "scripts/kconfig/merge_config.sh");

		strvec_pushl(&c.argv, "sh", script, "-m", "-O", obj, config, NULL);
		for (size_t i = 0; i < frags.nr; i++)
			strvec_push(&c.argv, frags.v[i]);
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
	if (kmake(src, obj, log, (const char *const[]){ "olddefconfig", NULL })) {
		ret = error("kernel '%s': make olddefconfig failed; see '%s'", kc->name, log);
		goto out;
	}
	if ((ret = read_file(config, &text, NULL))) {
		ret = error("no '%s' after olddefconfig", config);
		goto out;
	}
	for (size_t i = 0; i < frags.nr && !ret; i++)
		ret = check_fragment(text, frags.v[i]);
	if (ret)
		goto out;
	if (kmake(src, obj, log, (const char *const[]){ "Image", "modules", NULL })) {
		ret = error("kernel '%s' did not build; see '%s'", kc->name, log);
		goto out;
	}
	{
		char *arg = xasprintf("INSTALL_MOD_PATH=%s", modroot);

		ret = kmake(src, obj, log, (const char *const[]){ "modules_install", arg,
					   "INSTALL_MOD_STRIP=1", NULL });
		free(arg);
		if (ret) {
			ret = error("kernel '%s': modules_install failed; see '%s'", kc->name, log);
			goto out;
		}
	}
	{
		char secs[32];
		char *bs = path_join(out, "build-seconds");

		snprintf(secs, sizeof(secs), "%.0f", now_mono() - t0);
		write_file_str(bs, secs);
		free(bs);
	}
	if ((ret = cache_built(b, out)))
		goto out;
	info("build: Linux done in %.0f s", now_mono() - t0);
done:
	{
		char *relf = path_join(obj, "include/config/kernel.release");
		char *bs = path_join(out, "build-seconds");
		char *secs = NULL;

		if (!read_file(relf, &rel, NULL))
			strtrim(rel);
		if (!read_file(bs, &secs, NULL))
			provenance(b, "kernel_build_seconds", "%s", strtrim(secs));
		free(secs);
		free(relf);
		free(bs);
	}
	k->image = path_join(obj, "arch/arm64/boot/Image");
	k->release = rel ? xstrdup(strtrim(rel)) : NULL;
	k->modules_dir = rel ? xasprintf("%s/lib/modules/%s", modroot, strtrim(rel)) : NULL;
	if (k->modules_dir && !is_dir(k->modules_dir)) {
		free(k->modules_dir);
		k->modules_dir = NULL;
	}
	k->build_tree = xstrdup(obj);
	k->key = xstrdup(key);
	provenance(b, "kernel", "built by teelab from %s (%s)", kc->src_deb.name, out);
out:
	if (h)
		hasher_finish(h, key);
	strvec_release(&frags);
	free(debroot);
	free(sha);
	free(tarball);
	free(src);
	free(out);
	free(obj);
	free(log);
	free(config);
	free(text);
	free(rel);
	free(modroot);
	return ret;
}

static int prepare_kernel(struct build_ctx *b, struct kernel_files *k)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	char *root = NULL, *boot = NULL, *vmlinuz = NULL, *mods = NULL;
	int ret = 0;

	memset(k, 0, sizeof(*k));
	if (kc->build)
		return build_kernel(b, k);
	if (kc->kind == SRC_PREBUILT) {
		if (!file_exists(kc->image))
			return error("kernel image '%s' (kernel '%s') does not exist",
				     kc->image, kc->name);
		if (kc->modules_dir && !is_dir(kc->modules_dir))
			return error("modules directory '%s' (kernel '%s') does not exist",
				     kc->modules_dir, kc->name);
		k->image = xstrdup(kc->image);
		k->modules_dir = kc->modules_dir ? xstrdup(kc->modules_dir) : NULL;
		if (k->modules_dir) {
			const char *slash = strrchr(k->modules_dir, '/');

			k->release = xstrdup(slash ? slash + 1 : k->modules_dir);
		}
		k->key = xmalloc(SHA256_HEX_LEN + 1);
		{
			struct hasher *h = hasher_new();

			hasher_addstr(h, k->image);
			if (k->modules_dir)
				ret = hash_tree(h, k->modules_dir, "");
			hasher_finish(h, k->key);
		}
		provenance(b, "kernel", "prebuilt %s", k->image);
		return ret;
	}
	ret = unpacked_deb(b, &kc->deb, &root, &k->key);
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
out:
	free(root);
	free(boot);
	free(vmlinuz);
	free(mods);
	return ret;
}

static void kernel_files_release(struct kernel_files *k)
{
	free(k->build_tree);
	free(k->image);
	free(k->modules_dir);
	free(k->release);
	free(k->key);
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

struct kernel_files;
static int build_kmods(struct build_ctx *b, const struct kernel_files *k, const char *dir,
		       struct strvec *order);

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
			char *name = xstrndup(d, (size_t)(ko - d));

			for (char *c = name; *c; c++)
				if (*c == '-')
					*c = '_';
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
 * depmod at install time, so a .deb does not ship it).
 */
static int stage_module(const struct strvec *names, const struct strvec *paths,
			const char *name, const char *dir, struct strvec *order, int depth)
{
	char *norm = xstrdup(name), *dst = NULL, *data = NULL;
	size_t i, len = 0;
	const char *dep;
	int ret = 0;

	for (char *c = norm; *c; c++)
		if (*c == '-')
			*c = '_';
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
	if ((ret = decompress_file(paths->v[i], dst)) || (ret = read_file(dst, &data, &len)))
		goto out;
	dep = memmem(data, len, "\0depends=", 9);
	if (dep) {
		char *list = xstrdup(dep + 9), *save = NULL;

		for (char *d = strtok_r(list, ",", &save); d && !ret; d = strtok_r(NULL, ",", &save))
			ret = stage_module(names, paths, d, dir, order, depth + 1);
		free(list);
		if (ret == -ENOENT)
			ret = error("module '%s' needs '%s', which the kernel does not ship", norm, dep + 9);
		if (ret)
			goto out;
	}
	strvec_push(order, norm);
out:
	free(norm);
	free(dst);
	free(data);
	return ret;
}

/* Copy the configured modules (and their deps), decompressed, into @stage. */
static int stage_modules(struct build_ctx *b, const struct kernel_files *k, const char *stage)
{
	const struct kernel_cfg *kc = &b->cfg->kernel;
	struct strvec names = STRVEC_INIT, paths = STRVEC_INIT, order = STRVEC_INIT;
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
	}
	if (ret)
		goto out;
	if (b->cfg->kmods.nr) {
		if ((ret = mkdir_p(dir, 0755)) || (ret = build_kmods(b, k, dir, &order)))
			goto out;
	}
	for (size_t i = 0; i < order.nr; i++)
		strbuf_addf(&list, "%s\n", order.v[i]);
	listf = path_join(stage, "etc/teelab/modules");
	if (!(ret = mkparent(listf)))
		ret = write_file_str(listf, strbuf_str(&list));
out:
	strvec_release(&names);
	strvec_release(&paths);
	strvec_release(&order);
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

/* ---- teelab's TAs and guest programs ---- */

#define LABPROG_RECIPE_VERSION "labprog-1"

/*
 * `make -C <datadir>/<rel> O=<cache>/build/<kind>-<hash>/build <vars>`:
 * the source directory is only read (the data dir may be read-only). The
 * hash covers the recipe version, @rel's tree, @also's trees (sources
 * @rel includes from elsewhere) and @vars (which name content-addressed
 * inputs: the TA dev kit, the sysroot); it is added to @key. *outdir gets
 * the O= directory. 0 or -errno (the log path is reported).
 */
static int make_lab_dir(struct build_ctx *b, const char *kind, const char *rel,
			const struct strvec *also, const struct strvec *vars, struct hasher *key,
			char **outdir)
{
	bool cached = false;
	struct hasher *h = hasher_new();
	struct child c = CHILD_INIT;
	char hex[SHA256_HEX_LEN + 1];
	char *src = path_join(b->cfg->datadir, rel), *out = NULL, *obj = NULL, *log = NULL;
	double t0 = now_mono();
	int ret = 0;

	*outdir = NULL;
	hasher_addstr(h, LABPROG_RECIPE_VERSION);
	hasher_addstr(h, kind);
	hasher_addstr(h, rel);
	ret = is_dir(src) ? hash_tree(h, src, "") :
			    error("%s source '%s' (profile '%s') is not a directory", kind, src,
				  b->cfg->profile);
	for (size_t i = 0; also && i < also->nr && !ret; i++) {
		char *dir = path_join(b->cfg->datadir, also->v[i]);

		hasher_addstr(h, also->v[i]);
		if (is_dir(dir))
			ret = hash_tree(h, dir, "");
		free(dir);
	}
	for (size_t i = 0; i < vars->nr; i++)
		hasher_addstr(h, vars->v[i]);
	hasher_finish(h, hex);
	if (ret)
		goto out;
	hasher_addstr(key, hex);
	ret = cache_entry(b, kind, hex, true, &out, &cached);
	obj = path_join(out, "build");
	if (!ret && cached)
		goto done;
	if (ret || (ret = mkdir_p(obj, 0755)))
		goto out;
	log = path_join(out, "build.log");
	info("build: %s %s, log %s", kind, rel, log);
	strvec_pushl(&c.argv, "make", "-C", src, NULL);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_pushf(&c.argv, "O=%s", obj);
	for (size_t i = 0; i < vars->nr; i++)
		strvec_push(&c.argv, vars->v[i]);
	c.log_path = log;
	if (child_run(&c)) {
		ret = error("%s '%s' did not build; see '%s'", kind, rel, log);
		goto out;
	}
	if ((ret = cache_built(b, out)))
		goto out;
	info("build: %s %s done in %.1f s", kind, rel, now_mono() - t0);
done:
	*outdir = obj;
	obj = NULL;
out:
	child_release(&c);
	free(src);
	free(out);
	free(obj);
	free(log);
	return ret;
}

/*
 * Files of @dir to install: "*.ta" when @suffix is ".ta", else regular
 * executable files without a '.' in their name. Each goes to @files as
 * "<absolute path>=<@dest>/<name>".
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

/*
 * The profile's `tas:` (built with the TA dev kit of the OP-TEE teelab
 * built, signed with the key that OP-TEE trusts) and `guest:` programs
 * (cross-compiled against libteec from @sysroot). Their build hashes go
 * to @key; @files gets "built=stage-relative" pairs for the initramfs.
 */
/* What every lab guest program may include (datadir-relative) */
#define GUEST_COMMON_DIR "images/guest/common"
/* What every lab TA includes (datadir-relative) */
#define TA_COMMON_DIR "images/ta/common"

static int build_lab_programs(struct build_ctx *b, const char *sysroot, struct hasher *key,
			      struct strvec *files)
{
	const struct lab_config *cfg = b->cfg;
	struct strvec vars = STRVEC_INIT, also = STRVEC_INIT;
	char *obj = NULL;
	int ret = 0;

	if (cfg->tas.nr && !b->out->ta_devkit)
		return error("profile '%s' builds TAs (tas:) but secure profile '%s' uses a "
			     "prebuilt OP-TEE: lab TAs need the TA dev kit of an OP-TEE teelab "
			     "builds (optee: source: or tree:)", cfg->profile, cfg->secure.name);
	strvec_push(&vars, "CROSS_COMPILE=aarch64-linux-gnu-");
	strvec_push(&vars, "PYTHON3=/usr/bin/python3");
	strvec_pushf(&vars, "TA_DEV_KIT_DIR=%s", b->out->ta_devkit ? b->out->ta_devkit : "");
	if (b->ta_sign_key)
		strvec_pushf(&vars, "TA_SIGN_KEY=%s", b->ta_sign_key);
	/* TAs include images/ta/common (tl_ta.h) */
	strvec_push(&also, TA_COMMON_DIR);
	for (size_t i = 0; i < cfg->tas.nr && !ret; i++) {
		ret = make_lab_dir(b, "ta", cfg->tas.v[i], &also, &vars, key, &obj);
		if (!ret)
			ret = collect_outputs(obj, ".ta", "usr/lib/optee_armtz", files);
		free(obj);
		obj = NULL;
	}
	strvec_release(&vars);
	strvec_release(&also);
	strvec_push(&vars, "CC=aarch64-linux-gnu-gcc");
	strvec_pushf(&vars, "TEEC_SYSROOT=%s", sysroot);
	/* guest programs include their TAs' headers and images/guest/common */
	for (size_t i = 0; i < cfg->tas.nr; i++)
		strvec_push(&also, cfg->tas.v[i]);
	strvec_push(&also, GUEST_COMMON_DIR);
	for (size_t i = 0; i < cfg->guest.nr && !ret; i++) {
		ret = make_lab_dir(b, "guest", cfg->guest.v[i], &also, &vars, key, &obj);
		if (!ret)
			ret = collect_outputs(obj, NULL, "usr/bin", files);
		free(obj);
		obj = NULL;
	}
	if (!ret && (cfg->tas.nr || cfg->guest.nr))
		provenance(b, "lab-programs", "%zu TA(s), %zu guest program(s)", cfg->tas.nr,
			   cfg->guest.nr);
	strvec_release(&vars);
	strvec_release(&also);
	return ret;
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

/* ---- teelab's out-of-tree kernel modules ---- */

#define KMOD_RECIPE_VERSION "kmod-1"

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

/* Build `kmods:` against a kernel teelab built (its O= tree has everything). */
static int build_kmods_in_tree(struct build_ctx *b, const struct kernel_files *k,
			       const char *dir, struct strvec *order)
{
	bool cached = false;
	const struct lab_config *cfg = b->cfg;
	struct hasher *h = hasher_new();
	char hex[SHA256_HEX_LEN + 1];
	char *out = NULL, *log = NULL;
	int ret = 0;

	hasher_addstr(h, KMOD_RECIPE_VERSION);
	hasher_addstr(h, k->key ? k->key : "");
	for (size_t i = 0; i < cfg->kmods.nr && !ret; i++) {
		char *src = path_join(cfg->datadir, cfg->kmods.v[i]);

		hasher_addstr(h, cfg->kmods.v[i]);
		ret = is_dir(src) ? hash_tree(h, src, "") : error("module source '%s' is not a directory", src);
		free(src);
	}
	hasher_finish(h, hex);
	if (ret)
		return ret;
	ret = cache_entry(b, "kmod", hex, true, &out, &cached);
	log = path_join(out, "build.log");
	if (!ret && !cached && !(ret = make_kmods(b, out, log, k->build_tree, NULL)))
		ret = cache_built(b, out);
	if (ret)
		goto out;
	ret = copy_kmods(out, cfg->kmods.nr, dir, order);
out:
	free(out);
	free(log);
	return ret;
}

/*
 * Build every module directory of the profile's `kmods:` against the
 * kernel's own headers (Debian: linux-headers-<abi>-arm64, -common and the
 * amd64 linux-kbuild-<abi>, unpacked into one root so the arm64 headers'
 * relative links reach host tools), and copy the .ko files into @dir.
 * Their names are appended to @order (load order: after the kernel's).
 */
static int build_kmods(struct build_ctx *b, const struct kernel_files *k, const char *dir,
		       struct strvec *order)
{
	bool cached = false;
	const struct lab_config *cfg = b->cfg;
	const struct kernel_cfg *kc = &cfg->kernel;
	struct hasher *h = NULL;
	char hex[SHA256_HEX_LEN + 1];
	char *name = NULL, *version = NULL, *abi = NULL, *root = NULL, *out = NULL;
	char *hdir = NULL, *common = NULL, *log = NULL;
	int ret = 0;

	if (!cfg->kmods.nr)
		return 0;
	if (k->build_tree)
		return build_kmods_in_tree(b, k, dir, order);
	if (kc->kind != SRC_DEBIAN || !kc->nr_headers)
		return error("profile '%s' builds modules (kmods) but kernel '%s' names no 'headers'",
			     cfg->profile, kc->name);
	if ((ret = aptroot_resolve(&b->apt, &kc->deb, &name, &version)))
		goto out;
	/* linux-image-<abi>-arm64-unsigned */
	abi = xstrdup(name + (starts_with(name, "linux-image-") ? strlen("linux-image-") : 0));
	if (strstr(abi, "-arm64"))
		*strstr(abi, "-arm64") = '\0';

	h = hasher_new();
	hasher_addstr(h, KMOD_RECIPE_VERSION);
	hasher_addstr(h, name);
	hasher_addstr(h, version);
	for (size_t i = 0; i < cfg->kmods.nr; i++) {
		char *src = path_join(cfg->datadir, cfg->kmods.v[i]);

		hasher_addstr(h, cfg->kmods.v[i]);
		ret = is_dir(src) ? hash_tree(h, src, "") : error("module source '%s' is not a directory", src);
		free(src);
		if (ret)
			goto out;
	}
	hasher_finish(h, hex);
	h = NULL;
	ret = cache_entry(b, "kmod", hex, true, &out, &cached);
	if (!ret && cached)
		goto copy;
	if (ret)
		goto out;
	root = path_join(out, "headers");
	log = path_join(out, "build.log");
	for (size_t i = 0; i < kc->nr_headers; i++) {
		struct pkg_ref ref = kc->headers[i];
		char *deb = NULL;

		ref.name = subst_abi(kc->headers[i].name, abi);
		ref.version = version;
		ret = aptroot_fetch_deb(&b->apt, &ref, &deb);
		if (!ret)
			ret = deb_extract_data(deb, root);
		free(ref.name);
		free(deb);
		if (ret)
			goto out;
	}
	hdir = xasprintf("%s/usr/src/linux-headers-%s-arm64", root, abi);
	common = xasprintf("%s/usr/src/linux-headers-%s-common/Makefile", root, abi);
	if (!is_dir(hdir) || !file_exists(common)) {
		ret = error("the headers of kernel %s are not where expected ('%s', '%s')", abi, hdir, common);
		goto out;
	}
	info("build: out-of-tree modules against %s headers, log %s", abi, log);
	ret = make_kmods(b, out, log, hdir, common);
	if (ret || (ret = cache_built(b, out)))
		goto out;
copy:
	ret = copy_kmods(out, cfg->kmods.nr, dir, order);
	provenance(b, "kmods", "%zu built against %s", cfg->kmods.nr, abi);
out:
	if (h)
		hasher_finish(h, hex);
	free(name);
	free(version);
	free(abi);
	free(root);
	free(out);
	free(hdir);
	free(common);
	free(log);
	return ret;
}

/* ---- initramfs ---- */

static int build_sysroot(struct build_ctx *b, char **sysroot, struct hasher *key)
{
	bool cached = false;
	const struct rootfs_cfg *r = &b->cfg->rootfs;
	struct strvec debs = STRVEC_INIT;
	struct hasher *h = hasher_new();
	char hex[SHA256_HEX_LEN + 1];
	char *out = NULL;
	int ret = 0;

	*sysroot = NULL;
	for (size_t i = 0; i < r->nr_pkgs; i++) {
		char *deb = NULL;

		ret = aptroot_fetch_deb(&b->apt, &r->pkgs[i], &deb);
		if (ret)
			goto out;
		strvec_push(&debs, deb);
		{
			const char *base = strrchr(deb, '/');

			hasher_addstr(h, base ? base + 1 : deb);
		}
		free(deb);
	}
	hasher_finish(h, hex);
	h = NULL;
	hasher_addstr(key, hex);
	ret = cache_entry(b, "sysroot", hex, true, &out, &cached);
	if (!ret && cached)
		goto done;
	if (ret)
		goto out;
	info("build: unpacking %zu packages into the guest sysroot", debs.nr);
	for (size_t i = 0; i < debs.nr; i++)
		if ((ret = deb_extract_data(debs.v[i], out)))
			goto out;
	if ((ret = mark_complete(out)))
		goto out;
done:
	provenance(b, "rootfs_packages", "%zu (%s)", debs.nr, r->name);
	*sysroot = out;
	out = NULL;
out:
	if (h)
		hasher_finish(h, hex);
	strvec_release(&debs);
	free(out);
	return ret;
}

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

static int build_initramfs(struct build_ctx *b, const struct kernel_files *k)
{
	bool cached = false;
	const struct rootfs_cfg *r = &b->cfg->rootfs;
	static const char *const libdirs[] = { "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
		"/lib", "/usr/lib", NULL };
	static const char *const extra_dirs[] = { "dev", "proc", "sys", "tmp", "run", "root", NULL };
	struct hasher *h = hasher_new();
	struct strvec closure = STRVEC_INIT;
	char hex[SHA256_HEX_LEN + 1];
	char *sysroot = NULL, *out = NULL, *stage = NULL, *cpio = NULL, *recipe = NULL;
	char *overlay = NULL;
	struct strvec lab_files = STRVEC_INIT;
	double t0 = now_mono();
	int ret;

	ret = build_sysroot(b, &sysroot, h);
	if (ret)
		goto out;
	recipe = config_file(b->cfg, "images/rootfs", r->name);
	overlay = path_join(b->cfg->datadir, r->overlay);
	if (!is_dir(overlay)) {
		ret = error("rootfs overlay '%s' (recipe '%s') is not a directory", overlay, recipe);
		goto out;
	}
	hasher_addstr(h, INITRAMFS_RECIPE_VERSION);
	if ((ret = hasher_addfile(h, recipe)) || (ret = hash_tree(h, overlay, "")))
		goto out;
	hasher_addstr(h, k->key ? k->key : "");
	for (size_t i = 0; i < b->cfg->kernel.modules.nr; i++)
		hasher_addstr(h, b->cfg->kernel.modules.v[i]);
	for (size_t i = 0; i < b->cfg->kmods.nr; i++) {
		char *src = path_join(b->cfg->datadir, b->cfg->kmods.v[i]);

		hasher_addstr(h, b->cfg->kmods.v[i]);
		if (is_dir(src))
			ret = hash_tree(h, src, "");
		free(src);
		if (ret)
			goto out;
	}
	if (b->cfg->secure.has_rpmb_key)
		hasher_add(h, b->cfg->secure.rpmb_key, sizeof(b->cfg->secure.rpmb_key));
	if ((ret = build_lab_programs(b, sysroot, h, &lab_files)))
		goto out;
	hasher_finish(h, hex);
	h = NULL;
	ret = cache_entry(b, "initramfs", hex, true, &out, &cached);
	cpio = path_join(out, "initramfs.cpio.gz");
	if (!ret && cached)
		goto done;
	info("build: initramfs (%s)", r->name);
	stage = path_join(out, "stage");
	if (ret || (ret = mkdir_p(stage, 0755)))
		goto out;
	/* links first (lib -> usr/lib), so copies land where the guest looks */
	if ((ret = create_links(sysroot, &r->links)) || (ret = create_links(stage, &r->links)))
		goto out;
	ret = elf_resolve_closure(sysroot, (const char *const *)r->programs.v, r->programs.nr,
				  libdirs, &closure);
	if (ret)
		goto out;
	for (size_t i = 0; i < r->programs.nr; i++)
		if (!strvec_contains(&closure, r->programs.v[i]))
			strvec_push(&closure, r->programs.v[i]);
	for (size_t i = 0; i < r->copy.nr; i++)
		strvec_push(&closure, r->copy.v[i]);
	for (size_t i = 0; i < closure.nr && !ret; i++) {
		/* "path" copies to the same place, "src=dest" elsewhere */
		char *spec = xstrdup(closure.v[i]);
		char *eq = strchr(spec, '=');
		char *src, *dst;
		struct stat st;

		if (eq)
			*eq++ = '\0';
		src = path_join(sysroot, spec);
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
	for (size_t i = 0; i < r->dirs.nr && !ret; i++) {
		char *d = path_join(stage, r->dirs.v[i]);

		ret = mkdir_p(d, 0755);
		free(d);
	}
	if (ret || (ret = copy_path(overlay, stage)) || (ret = stage_modules(b, k, stage)) ||
	    (ret = stage_rpmb_key(&b->cfg->secure, stage)) || (ret = stage_files(&lab_files, stage)))
		goto out;
	if ((ret = cpio_write_tree(stage, cpio, 0, extra_dirs)))
		goto out;
	remove_tree(stage);
	if ((ret = cache_built(b, out)))
		goto out;
	info("build: initramfs done in %.1f s", now_mono() - t0);
done:
	b->out->initrd = cpio;
	cpio = NULL;
out:
	if (h)
		hasher_finish(h, hex);
	strvec_release(&closure);
	strvec_release(&lab_files);
	free(sysroot);
	free(out);
	free(stage);
	free(cpio);
	free(recipe);
	free(overlay);
	return ret;
}

/*
 * The lab's kernel and initramfs as an uncompressed tar, handed to the
 * guest as a read-only virtio-blk disk for `kexec` steps (tl-kexec
 * unpacks it with `tar -x -f /dev/vda`): fw_cfg would work too, but Linux
 * reads fw_cfg files a byte at a time, minutes for a 40 MB Image under TCG.
 */
static int kexec_disk(const char *build_dir, const char *const *files, const char *const *names,
		      size_t n, char **out)
{
	struct hasher *h = hasher_new();
	char hex[SHA256_HEX_LEN + 1];
	char *dir = NULL, *tar = NULL;
	int ret = 0;

	hasher_addstr(h, "kexec-disk-2");
	for (size_t i = 0; i < n; i++) {
		hasher_addstr(h, names[i]);
		hasher_addstr(h, files[i]);	/* the paths are content-addressed */
	}
	hasher_finish(h, hex);
	dir = xasprintf("%s/kexec-%.16s", build_dir, hex);
	tar = path_join(dir, "kexec.tar");
	if (!is_complete(dir)) {
		if ((ret = fresh_dir(dir)) ||
		    (ret = tar_write_files(tar, files, names, n, 0)) ||
		    (ret = mark_complete(dir)))
			goto out;
	}
	free(*out);
	*out = tar;
	tar = NULL;
out:
	free(dir);
	free(tar);
	return ret;
}

static int build_kexec_disk(struct build_ctx *b)
{
	const char *files[] = { b->out->kernel, b->out->initrd };
	static const char *const names[] = { "kexec/Image", "kexec/initrd" };

	return kexec_disk(b->build_dir, files, names, ARRAY_SIZE(files), &b->out->kexec_disk);
}

int images_add_kexec_kernels(const struct config_overrides *ov, const struct strvec *kernels,
			     bool refresh, struct lab_images *im)
{
	struct strvec files = STRVEC_INIT, names = STRVEC_INIT;
	char *build_dir = NULL;
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
			if (!build_dir)
				build_dir = path_join(cfg.cache_dir, "build");
		} else {
			error("kexec target '%s': its images could not be built", kernels->v[i]);
		}
		im->builds += o.builds;
		im->downloads += o.downloads;
		lab_images_release(&o);
		config_release(&cfg);
	}
	if (!ret && build_dir)
		ret = kexec_disk(build_dir, (const char *const *)files.v,
				 (const char *const *)names.v, files.nr, &im->kexec_disk);
	free(build_dir);
	strvec_release(&files);
	strvec_release(&names);
	return ret;
}

/* ---- entry point ---- */

int images_build(const struct lab_config *cfg, bool refresh, struct lab_images *out)
{
	struct build_ctx b = { .cfg = cfg, .out = out };
	const struct pkg_ref **refs = NULL;
	struct kernel_files k = { 0 };
	size_t nr = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	b.build_dir = path_join(cfg->cache_dir, "build");
	if ((ret = mkdir_p(b.build_dir, 0755)))
		goto out;
	refs = xcalloc(cfg->rootfs.nr_pkgs + 6, sizeof(*refs));
	if (cfg->secure.tfa_kind == SRC_DEBIAN)
		refs[nr++] = &cfg->secure.tfa_src;
	if (cfg->secure.optee_build && cfg->secure.optee_kind == SRC_DEBIAN)
		refs[nr++] = &cfg->secure.optee_src;
	else if (cfg->secure.optee_kind == SRC_DEBIAN)
		refs[nr++] = &cfg->secure.optee_deb;
	if (cfg->secure.ta_key_path)
		refs[nr++] = &cfg->secure.ta_key_deb;
	if (cfg->secure.bl33_kind == SRC_DEBIAN)
		refs[nr++] = &cfg->secure.bl33_deb;
	if (cfg->kernel.build)
		refs[nr++] = &cfg->kernel.src_deb;
	else if (cfg->kernel.kind == SRC_DEBIAN)
		refs[nr++] = &cfg->kernel.deb;
	for (size_t i = 0; i < cfg->rootfs.nr_pkgs; i++)
		refs[nr++] = &cfg->rootfs.pkgs[i];
	ret = aptroot_open(&b.apt, cfg->cache_dir, refs, nr, refresh);
	if (ret)
		goto out;
	if ((ret = build_secure(&b)))
		goto out;
	if ((ret = prepare_kernel(&b, &k)))
		goto out;
	out->kernel = xstrdup(k.image);
	out->kernel_release = k.release ? xstrdup(k.release) : NULL;
	ret = build_initramfs(&b, &k);
	if (!ret)
		ret = dtb_build(&cfg->machine, out->bios, cfg->scmi, b.build_dir, &out->dtb);
	if (!ret)
		ret = build_kexec_disk(&b);
out:
	out->downloads += b.apt.downloads;
	kernel_files_release(&k);
	aptroot_release(&b.apt);
	free(refs);
	free(b.build_dir);
	free(b.ta_sign_key);
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
