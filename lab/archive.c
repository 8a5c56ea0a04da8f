// SPDX-License-Identifier: MIT
/* archive.c - .deb, tarball and initramfs cpio handling with libarchive */
#include "archive.h"
#include "inroot.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define READ_BLOCK (1 << 16)

/* ---- libarchive helpers ---- */

static const char *aerr(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s ? s : "unknown libarchive error";
}

/* The negative errno for the last libarchive failure on @a. */
static int aret(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 ? -e : -EIO;
}

/* Report a failed archive_read_open_*() of @path; returns -errno. */
static int open_error(struct archive *a, const char *path)
{
	int ret = aret(a);

	if (archive_errno(a) > 0)
		error("cannot open '%s': %s", path, strerror(-ret));
	else
		error("cannot open '%s': %s", path, aerr(a));
	return ret;
}

static const char *entry_name(struct archive_entry *e)
{
	const char *s = archive_entry_pathname(e);

	return s ? s : archive_entry_pathname_utf8(e);
}

/*
 * A reader for tar members: compression auto-detected, only tar formats
 * (never "all": mtree, for one, would read files named in the archive).
 */
static struct archive *new_tar_reader(void)
{
	struct archive *a = archive_read_new();

	if (!a) {
		error("cannot allocate a libarchive reader");
		abort();
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	return a;
}

/* ---- .deb: a tar member of an ar archive, streamed ---- */

struct deb {
	struct archive *outer;	/* the ar archive */
	struct archive *inner;	/* the member, as a tar reader */
	char member[64];
	char buf[READ_BLOCK];
};

/*
 * libarchive read callback for the member of a .deb: bytes read, 0 at the
 * end, -1 with archive_set_error() on failure (libarchive's contract).
 */
static la_ssize_t member_read(struct archive *a, void *data,
			      const void **buf)
{
	struct deb *d = data;
	la_ssize_t n = archive_read_data(d->outer, d->buf, sizeof(d->buf));

	if (n < 0) {
		archive_set_error(a, archive_errno(d->outer) > 0 ?
				  archive_errno(d->outer) : EIO,
				  "%s", aerr(d->outer));
		return -1;
	}
	*buf = d->buf;
	return n;
}

static void deb_close(struct deb *d)
{
	if (d->inner)
		archive_read_free(d->inner);
	if (d->outer)
		archive_read_free(d->outer);
	free(d);
}

/*
 * Open the member of @deb whose name starts with @prefix ("data.tar",
 * "control.tar") as a tar reader in *out. 0 or -errno (reported).
 */
static int deb_open_member(const char *deb, const char *prefix,
			   struct deb **out)
{
	struct deb *d = xcalloc(1, sizeof(*d));
	struct archive_entry *e = NULL;
	int ret = 0;
	int r = 0;

	d->outer = archive_read_new();
	if (!d->outer) {
		error("cannot allocate a libarchive reader");
		abort();
	}
	archive_read_support_format_ar(d->outer);
	if (archive_read_open_filename(d->outer, deb, READ_BLOCK)) {
		ret = open_error(d->outer, deb);
		goto out;
	}
	for (;;) {
		const char *name = NULL;

		r = archive_read_next_header(d->outer, &e);
		if (r == ARCHIVE_EOF) {
			ret = error_code(-EINVAL, "'%s' has no %s.* member", deb, prefix);
			goto out;
		}
		if (r < ARCHIVE_WARN) {
			ret = aret(d->outer);
			error("cannot read '%s': %s", deb, aerr(d->outer));
			goto out;
		}
		name = entry_name(e);
		if (name && starts_with(name, prefix))
			break;
	}
	snprintf(d->member, sizeof(d->member), "%s", entry_name(e));
	d->inner = new_tar_reader();
	if (archive_read_open(d->inner, d, NULL, member_read, NULL)) {
		ret = aret(d->inner);
		error("cannot read '%s' in '%s': %s", d->member, deb,
		      aerr(d->inner));
		goto out;
	}
out:
	if (ret)
		deb_close(d);
	else
		*out = d;
	return ret;
}

/* ---- safe extraction ---- */

/*
 * Normalise an archive member name into a relative path in @out: leading
 * "./" and "." components dropped, then the first @strip components.
 * Returns 0, 1 when there is nothing left (skip the entry), or -EINVAL
 * (reported) for an absolute name or a ".." component.
 */
static int clean_name(const char *name, int strip, const char *src,
		      struct strbuf *out)
{
	const char *p = name;
	int skipped = 0;

	strbuf_reset(out);
	if (name[0] == '/')
		return error_code(-EINVAL, "'%s' in '%s': absolute path refused",
				  name, src);
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && !memcmp(p, "..", 2))
			return error_code(-EINVAL, "'%s' in '%s': '..' component refused",
					  name, src);
		if (n && !(n == 1 && *p == '.')) {
			if (skipped < strip) {
				skipped++;
			} else {
				if (out->len)
					strbuf_addch(out, '/');
				strbuf_add(out, p, n);
			}
		}
		p = *e ? e + 1 : e;
	}
	return out->len ? 0 : 1;
}

struct extract {
	struct archive *a;
	const char *src;	/* archive name, for messages */
	const char *dest;
	int rootfd;		/* @dest: every path is resolved inside it */
	const char *rel;	/* current entry, cleaned */
	struct archive_entry *e;
	struct strbuf host;	/* dest + the entry's resolved path, for messages */
};

/*
 * The directory holding the entry path @rel inside x->rootfd, missing
 * directories made on the way (symlinks followed inside the root, see
 * inroot.h), as an O_PATH fd in *@pfd and the last component, never
 * followed, in *@name (malloc'd); x->host gets dest + the resolved path.
 * 0 or -errno (not reported).
 */
static int entry_at(struct extract *x, const char *rel, unsigned flags, int *pfd, char **name)
{
	struct strbuf canon = STRBUF_INIT;
	char *slash = NULL;
	int ret = inroot_resolve(x->rootfd, rel, flags | INROOT_PARENT, NULL, &canon);

	*pfd = -1;
	*name = NULL;
	if (!ret) {
		strbuf_reset(&x->host);
		strbuf_addf(&x->host, "%s%s", x->dest, canon.buf);
		slash = strrchr(canon.buf, '/');
		*slash = '\0';
		*pfd = inroot_open(x->rootfd, canon.buf, O_PATH | O_DIRECTORY, 0);
		if (*pfd < 0)
			ret = *pfd;
		else
			*name = xstrdup(slash + 1);
	}
	strbuf_release(&canon);
	return ret;
}

/*
 * Make room at @name in @dfd for a new entry: a file or symlink is unlinked
 * (never followed), an empty directory removed, a non-empty one gives -EISDIR.
 */
static int clear_slot(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (!unlinkat(dfd, name, AT_REMOVEDIR))
			return 0;
		return errno == ENOTEMPTY || errno == EEXIST ? -EISDIR : -errno;
	}
	return unlinkat(dfd, name, 0) ? -errno : 0;
}

/* The entry's mtime on the open @fd, else on @name in @dfd (not followed). */
static void set_times(int fd, int dfd, const char *name, struct archive_entry *e)
{
	struct timespec ts[2];

	if (!archive_entry_mtime_is_set(e))
		return;
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (fd >= 0)
		futimens(fd, ts);
	else
		utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Create entry @x as @name in @dfd: a regular file, directory, symlink or
 * hard link. Each 0 or -errno (reported with the entry and archive).
 */
static int extract_file(struct extract *x, int dfd, const char *name, mode_t perm)
{
	const char *host = x->host.buf;
	const void *buf = NULL;
	size_t size = 0;
	la_int64_t off = 0;
	int fd = -1;
	int ret = clear_slot(dfd, name);
	int r;

	if (ret) {
		error("cannot extract '%s' from '%s': cannot replace '%s': %s",
		      x->rel, x->src, host, strerror(-ret));
		goto out;
	}
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = error_errno("cannot create '%s'", host);
		goto out;
	}
	while ((r = archive_read_data_block(x->a, &buf, &size, &off)) !=
	       ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			ret = aret(x->a);
			error("cannot extract '%s' from '%s': %s", x->rel,
			      x->src, aerr(x->a));
			goto out;
		}
		ret = pwrite_all(fd, buf, size, (off_t)off);
		if (ret) {
			errno = -ret;
			error_errno("cannot write '%s'", host);
			goto out;
		}
	}
	/* a sparse file may end with a hole */
	if (archive_entry_size_is_set(x->e) &&
	    ftruncate(fd, (off_t)archive_entry_size(x->e))) {
		ret = error_errno("cannot write '%s'", host);
		goto out;
	}
	if (fchmod(fd, perm)) {
		ret = error_errno("cannot chmod '%s'", host);
		goto out;
	}
	set_times(fd, dfd, name, x->e);
out:
	if (fd >= 0 && close(fd) && !ret) {
		ret = error_errno("cannot write '%s'", host);
	}
	return ret;
}

static int extract_dir(struct extract *x, int dfd, const char *name, mode_t perm)
{
	const char *host = x->host.buf;
	struct strbuf canon = STRBUF_INIT;
	struct stat st;
	int fd = -1;
	int ret = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno != ENOENT || mkdirat(dfd, name, perm)) {
			ret = error_errno("cannot create directory '%s'", host);
			goto out;
		}
	} else if (S_ISLNK(st.st_mode)) {
		/* like dpkg: a symlink to a directory stays a symlink */
		ret = inroot_resolve(x->rootfd, x->rel, INROOT_MKDIR, NULL, &canon);
		if (ret)
			error("cannot extract '%s' from '%s': '%s' is a "
			      "symlink to no directory", x->rel, x->src, host);
		goto out;
	} else if (!S_ISDIR(st.st_mode)) {
		ret = error_code(-EEXIST, "cannot extract '%s' from '%s': '%s' exists and is not a "
				 "directory", x->rel, x->src, host);
		goto out;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, perm)) {
		ret = error_errno("cannot chmod '%s'", host);
	}
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&canon);
	return ret;
}

static int extract_symlink(struct extract *x, int dfd, const char *name)
{
	const char *target = archive_entry_symlink(x->e);
	int ret = 0;

	if (!target)
		target = archive_entry_symlink_utf8(x->e);
	if (!target || !*target)
		return error_code(-EINVAL, "'%s' in '%s': symlink without a target",
				  x->rel, x->src);
	ret = clear_slot(dfd, name);
	if (ret)
		return error_code(ret, "cannot extract '%s' from '%s': cannot replace "
				  "'%s': %s", x->rel, x->src, x->host.buf, strerror(-ret));
	if (symlinkat(target, dfd, name)) {
		ret = error_errno("cannot create symlink '%s'", x->host.buf);
		return ret;
	}
	set_times(-1, dfd, name, x->e);
	return 0;
}

static int extract_hardlink(struct extract *x, int dfd, const char *name,
			    const char *target_rel)
{
	char *host = xstrdup(x->host.buf);
	char *tname = NULL;
	struct stat st, cur;
	int tfd = -1;
	int ret = entry_at(x, target_rel, 0, &tfd, &tname);

	if (ret || fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW)) {
		ret = ret ? ret : -errno;
		error("cannot extract '%s' from '%s': link target '%s' "
		      "missing", x->rel, x->src, target_rel);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = error_code(-EPERM, "'%s' in '%s': hard link to directory '%s' refused",
				 x->rel, x->src, target_rel);
		goto out;
	}
	if (!fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) &&
	    cur.st_dev == st.st_dev && cur.st_ino == st.st_ino)
		goto out;
	ret = clear_slot(dfd, name);
	if (ret) {
		error("cannot extract '%s' from '%s': cannot replace '%s': %s",
		      x->rel, x->src, host, strerror(-ret));
		goto out;
	}
	if (linkat(tfd, tname, dfd, name, 0)) {
		ret = error_errno("cannot link '%s' to '%s'", host, x->host.buf);
	}
out:
	if (tfd >= 0)
		close(tfd);
	free(tname);
	free(host);
	return ret;
}

/* Unpack every entry of the opened reader @a into @dest. 0 or -errno (reported). */
static int extract_all(struct archive *a, const char *src, const char *dest,
		       int strip)
{
	struct strbuf rel = STRBUF_INIT;
	struct strbuf link_rel = STRBUF_INIT;
	struct extract x = { .a = a, .src = src, .dest = dest, .rootfd = -1,
			     .host = STRBUF_INIT };
	int ret = mkdir_p(dest, 0755);

	if (ret)
		goto out;
	x.rootfd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x.rootfd < 0) {
		ret = error_errno("cannot open '%s'", dest);
		goto out;
	}
	for (;;) {
		struct archive_entry *e = NULL;
		const char *name = NULL;
		const char *hardlink = NULL;
		char *last = NULL;
		mode_t type = 0;
		mode_t perm = 0;
		int dfd = -1;
		int r = archive_read_next_header(a, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = aret(a);
			error("cannot read '%s': %s", src, aerr(a));
			goto out;
		}
		name = entry_name(e);
		if (!name) {
			ret = error_code(-EILSEQ, "'%s': entry with an unreadable name", src);
			goto out;
		}
		ret = clean_name(name, strip, src, &rel);
		if (ret < 0)
			goto out;
		if (ret > 0) {
			ret = 0;
			continue;
		}
		x.rel = rel.buf;
		x.e = e;
		type = archive_entry_filetype(e);
		/* sticky and rwx bits; setuid/setgid need the owner back */
		perm = archive_entry_perm(e) & 01777;
		hardlink = archive_entry_hardlink(e);
		if (!hardlink)
			hardlink = archive_entry_hardlink_utf8(e);
		if (!hardlink && type != AE_IFREG && type != AE_IFDIR &&
		    type != AE_IFLNK)
			continue;	/* devices, fifos, sockets */
		if (hardlink) {
			ret = clean_name(hardlink, strip, src, &link_rel);
			if (ret < 0)
				goto out;
			if (ret > 0) {
				warning("'%s' in '%s': link target '%s' "
					"stripped away, entry skipped",
					rel.buf, src, hardlink);
				ret = 0;
				continue;
			}
		}
		ret = entry_at(&x, rel.buf, INROOT_MKDIR, &dfd, &last);
		if (ret) {
			error("cannot extract '%s' from '%s': %s", rel.buf, src,
			      strerror(-ret));
			goto out;
		}
		if (hardlink)
			ret = extract_hardlink(&x, dfd, last, link_rel.buf);
		else if (type == AE_IFREG)
			ret = extract_file(&x, dfd, last, perm | 0600);
		else if (type == AE_IFDIR)
			ret = extract_dir(&x, dfd, last, perm | 0700);
		else
			ret = extract_symlink(&x, dfd, last);
		close(dfd);
		free(last);
		if (ret)
			goto out;
	}
out:
	if (x.rootfd >= 0)
		close(x.rootfd);
	strbuf_release(&rel);
	strbuf_release(&link_rel);
	strbuf_release(&x.host);
	return ret;
}

int deb_extract_data(const char *deb, const char *dest)
{
	struct deb *d = NULL;
	char *what = NULL;
	int ret = deb_open_member(deb, "data.tar", &d);

	if (ret)
		return ret;
	what = xasprintf("%s(%s)", deb, d->member);
	ret = extract_all(d->inner, what, dest, 0);
	free(what);
	deb_close(d);
	return ret;
}

int deb_read_control(const char *deb, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	struct deb *d = NULL;
	int ret = deb_open_member(deb, "control.tar", &d);
	char buf[READ_BLOCK];

	if (ret)
		return ret;
	for (;;) {
		struct archive_entry *e = NULL;
		const char *name = NULL;
		int r = archive_read_next_header(d->inner, &e);

		if (r == ARCHIVE_EOF) {
			ret = error_code(-ENOENT, "'%s' has no control file", deb);
			goto out;
		}
		if (r < ARCHIVE_WARN) {
			ret = aret(d->inner);
			error("cannot read '%s' in '%s': %s", d->member, deb,
			      aerr(d->inner));
			goto out;
		}
		name = entry_name(e);
		while (name && starts_with(name, "./"))
			name += 2;
		if (name && !strcmp(name, "control") &&
		    archive_entry_filetype(e) == AE_IFREG)
			break;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(d->inner, buf, sizeof(buf));

		if (!n)
			break;
		if (n < 0) {
			ret = aret(d->inner);
			error("cannot read '%s' in '%s': %s", d->member, deb,
			      aerr(d->inner));
			goto out;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	*out = strbuf_detach(&sb);
out:
	strbuf_release(&sb);
	deb_close(d);
	return ret;
}

int tar_extract(const char *tarball, const char *dest, int strip)
{
	struct archive *a = new_tar_reader();
	int ret = 0;

	if (strip < 0) {
		ret = error_code(-EINVAL, "invalid strip count %d for '%s'", strip, tarball);
		goto out;
	}
	if (archive_read_open_filename(a, tarball, READ_BLOCK)) {
		ret = open_error(a, tarball);
		goto out;
	}
	ret = extract_all(a, tarball, dest, strip);
out:
	archive_read_free(a);
	return ret;
}

/* ---- initramfs ---- */

/* Collect the paths under @root/@rel (relative, no "./") into @out. 0 or -errno (reported). */
static int collect_tree(const char *root, const char *rel,
			struct strvec *out)
{
	char *dir = *rel ? path_join(root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *de = NULL;
	int ret = 0;

	if (!d) {
		ret = error_errno("cannot open directory '%s'", dir);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		char *child = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = *rel ? xasprintf("%s/%s", rel, de->d_name) :
			       xstrdup(de->d_name);
		strvec_push(out, child);
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			struct stat st;
			char *full = path_join(root, child);

			if (!lstat(full, &st) && S_ISDIR(st.st_mode))
				ret = collect_tree(root, child, out);
			free(full);
		}
		free(child);
		if (ret)
			goto out;
	}
	if (errno) {
		ret = error_errno("cannot read directory '%s'", dir);
	}
out:
	if (d)
		closedir(d);
	free(dir);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add @name (cleaned) and its parents to @paths unless present. */
static void add_extra_dir(struct strvec *paths, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = name;

	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n && !(n == 1 && *p == '.') &&
		    !(n == 2 && !memcmp(p, "..", 2))) {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
			if (!strvec_contains(paths, sb.buf))
				strvec_push(paths, sb.buf);
		}
		p = *e ? e + 1 : e;
	}
	strbuf_release(&sb);
}

/* Copy @size bytes of the file @full into the archive entry. 0 or -errno (reported). */
static int write_file_data(struct archive *a, const char *full, off_t size)
{
	char buf[READ_BLOCK];
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	off_t done = 0;
	int ret = 0;

	if (fd < 0)
		return error_errno("cannot open '%s'", full);
	while (done < size) {
		size_t want = size - done < (off_t)sizeof(buf) ?
			      (size_t)(size - done) : sizeof(buf);
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = error_errno("cannot read '%s'", full);
			goto out;
		}
		if (!n) {
			ret = error("'%s' shrank while being archived", full);
			goto out;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			ret = aret(a);
			error("cannot write cpio data for '%s': %s", full,
			      aerr(a));
			goto out;
		}
		done += n;
	}
out:
	close(fd);
	return ret;
}

/* Write one entry for the tree path @rel (or an extra directory). 0 or -errno (reported). */
static int cpio_add(struct archive *a, struct archive_entry *e,
		    const char *root, const char *rel, time_t mtime,
		    la_int64_t ino)
{
	char *full = path_join(root, rel);
	char target[PATH_MAX];
	struct stat st;
	int ret = 0;

	archive_entry_clear(e);
	if (lstat(full, &st)) {
		if (errno != ENOENT) {
			ret = error_errno("cannot stat '%s'", full);
			goto out;
		}
		/* an extra directory */
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFDIR | 0755;
	}
	archive_entry_set_pathname(e, rel);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_ino64(e, ino);
	archive_entry_set_perm(e, st.st_mode & 07777);
	if (S_ISDIR(st.st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_nlink(e, 2);
		archive_entry_set_size(e, 0);
	} else if (S_ISREG(st.st_mode)) {
		/* hard links are stored as independent copies */
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_nlink(e, 1);
		archive_entry_set_size(e, st.st_size);
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(full, target, sizeof(target));

		if (n < 0 || (size_t)n >= sizeof(target)) {
			ret = n < 0 ? -errno : -ENAMETOOLONG;
			error("cannot read symlink '%s': %s", full,
			      strerror(-ret));
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_nlink(e, 1);
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, n);
	} else {
		warning("'%s' is not a file, directory or symlink: not in the "
			"initramfs", full);
		goto out;
	}
	if (archive_write_header(a, e) < ARCHIVE_WARN) {
		ret = aret(a);
		error("cannot write cpio entry '%s': %s", rel, aerr(a));
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size)
		ret = write_file_data(a, full, st.st_size);
	if (!ret && archive_write_finish_entry(a) < ARCHIVE_WARN) {
		ret = aret(a);
		error("cannot write cpio entry '%s': %s", rel, aerr(a));
	}
out:
	free(full);
	return ret;
}

int cpio_write_tree(const char *root, const char *out, time_t mtime,
		    const char *const *extra_dirs, bool gzip)
{
	struct strvec paths = STRVEC_INIT;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	char *tmp = xasprintf("%s.tmp", out);
	int ret = 0;

	if (!is_dir(root)) {
		ret = error_code(-ENOTDIR, "initramfs root '%s' is not a directory", root);
		goto out;
	}
	ret = collect_tree(root, "", &paths);
	if (ret)
		goto out;
	for (size_t i = 0; extra_dirs && extra_dirs[i]; i++)
		add_extra_dir(&paths, extra_dirs[i]);
	if (paths.nr)
		qsort(paths.v, paths.nr, sizeof(*paths.v), cmp_str);

	a = archive_write_new();
	e = archive_entry_new();
	if (!a || !e) {
		error("cannot allocate a libarchive writer");
		abort();
	}
	if (archive_write_set_format_cpio_newc(a) ||
	    (gzip && (archive_write_add_filter_gzip(a) ||
		      archive_write_set_filter_option(a, "gzip", "timestamp", NULL))) ||
	    archive_write_set_bytes_in_last_block(a, 1)) {
		ret = aret(a);
		error("cannot set up cpio writer for '%s': %s", out, aerr(a));
		goto out;
	}
	if (archive_write_open_filename(a, tmp)) {
		ret = aret(a);
		error("cannot create '%s': %s", tmp, aerr(a));
		goto out;
	}
	for (size_t i = 0; i < paths.nr; i++) {
		ret = cpio_add(a, e, root, paths.v[i], mtime,
			       (la_int64_t)i + 1);
		if (ret)
			goto out;
	}
	if (archive_write_close(a)) {
		ret = aret(a);
		error("cannot write '%s': %s", tmp, aerr(a));
		goto out;
	}
	if (rename(tmp, out)) {
		ret = error_errno("cannot rename '%s' to '%s'", tmp, out);
	}
out:
	if (a)
		archive_write_free(a);
	if (e)
		archive_entry_free(e);
	if (ret)
		unlink(tmp);
	free(tmp);
	strvec_release(&paths);
	return ret;
}

int cpio_list(const char *cpio, char ***paths, size_t *nr)
{
	struct strvec sv = STRVEC_INIT;
	struct archive *a = archive_read_new();
	int ret = 0;

	if (!a) {
		error("cannot allocate a libarchive reader");
		abort();
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	if (archive_read_open_filename(a, cpio, READ_BLOCK)) {
		ret = open_error(a, cpio);
		goto out;
	}
	for (;;) {
		struct archive_entry *e = NULL;
		const char *name = NULL;
		int r = archive_read_next_header(a, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = aret(a);
			error("cannot read '%s': %s", cpio, aerr(a));
			goto out;
		}
		name = entry_name(e);
		strvec_push(&sv, name ? name : "");
	}
	*nr = sv.nr;
	*paths = sv.nr ? sv.v : xcalloc(1, sizeof(char *));
	if (!sv.nr)
		free(sv.v);
	sv.v = NULL;
	sv.nr = sv.alloc = 0;
out:
	strvec_release(&sv);
	archive_read_free(a);
	return ret;
}

int tar_write_files(const char *out, const char *const *files,
		    const char *const *names, size_t nr, time_t mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char *tmp = xasprintf("%s.tmp", out);
	char buf[65536];
	int ret = 0;

	if (archive_write_set_format_pax_restricted(a) ||
	    archive_write_set_bytes_per_block(a, 10240) ||
	    archive_write_open_filename(a, tmp)) {
		ret = error("cannot write '%s': %s", tmp, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < nr && !ret; i++) {
		struct stat st;
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0 || fstat(fd, &st)) {
			ret = error_errno("cannot read '%s'", files[i]);
			if (fd >= 0)
				close(fd);
			break;
		}
		archive_entry_clear(e);
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		archive_entry_set_mtime(e, mtime, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			ret = error("cannot write '%s': %s", out, archive_error_string(a));
			close(fd);
			break;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (archive_write_data(a, buf, (size_t)n) != n) {
				ret = error("cannot write '%s': %s", out, archive_error_string(a));
				break;
			}
		if (n < 0)
			ret = error_errno("cannot read '%s'", files[i]);
		close(fd);
	}
	if (archive_write_close(a) != ARCHIVE_OK && !ret)
		ret = error("cannot write '%s': %s", out, archive_error_string(a));
	if (!ret && rename(tmp, out))
		ret = error_errno("cannot write '%s'", out);
out:
	if (ret)
		unlink(tmp);
	archive_entry_free(e);
	archive_write_free(a);
	free(tmp);
	return ret ? -EIO : 0;
}
