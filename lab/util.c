// SPDX-License-Identifier: MIT
/* util.c - see util.h */
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

int tl_verbose;
bool tl_quiet;

static FILE *mirror;		/* log_mirror_open() */
static double mirror_t0;

int log_mirror_open(const char *path)
{
	log_mirror_close();
	mirror = fopen(path, "ae");
	if (!mirror)
		return error_errno("cannot open '%s'", path);
	setvbuf(mirror, NULL, _IOLBF, 0);
	mirror_t0 = now_mono();
	return 0;
}

void log_mirror_close(void)
{
	if (mirror)
		fclose(mirror);
	mirror = NULL;
}

static void mirror_line(const char *line)
{
	if (mirror)
		fprintf(mirror, "[%8.3f] %s", now_mono() - mirror_t0, line);
}

void report_line(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stderr);
	mirror_line(sb.buf);
	strbuf_release(&sb);
}

static void vreport(const char *prefix, const char *fmt, va_list ap,
		    const char *suffix, bool print)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "teelab: ");
	strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	if (suffix) {
		strbuf_addstr(&sb, ": ");
		strbuf_addstr(&sb, suffix);
	}
	strbuf_addch(&sb, '\n');
	if (print)
		fputs(sb.buf, stderr);
	mirror_line(sb.buf);
	strbuf_release(&sb);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL, true);
	va_end(ap);
	return -EIO;
}

int error_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, saved ? strerror(saved) : NULL, true);
	va_end(ap);
	errno = saved;
	return saved > 0 ? -saved : -EIO;
}

int error_code(int err, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL, true);
	va_end(ap);
	errno = saved;
	return err < 0 ? err : -EIO;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, NULL, true);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap, NULL, !tl_quiet);
	va_end(ap);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL, true);
	va_end(ap);
	exit(code);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("teelab: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p) {
		fputs("teelab: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("teelab: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

/* ---- strbuf ---- */

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1;

	if (want <= sb->alloc)
		return;
	if (want < sb->alloc * 2)
		want = sb->alloc * 2;
	if (want < 64)
		want = 64;
	sb->buf = xrealloc(sb->buf, want);
	sb->alloc = want;
	sb->buf[sb->len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

/* ---- strvec ---- */

void strvec_push(struct strvec *sv, const char *s)
{
	if (sv->nr + 2 > sv->alloc) {
		sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
		sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
	}
	sv->v[sv->nr++] = xstrdup(s);
	sv->v[sv->nr] = NULL;
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(sv, strbuf_str(&sb));
	strbuf_release(&sb);
}

void strvec_pushl(struct strvec *sv, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, sv);
	while ((s = va_arg(ap, const char *)))
		strvec_push(sv, s);
	va_end(ap);
}

void strvec_release(struct strvec *sv)
{
	for (size_t i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->nr = sv->alloc = 0;
}

bool strvec_contains(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int list_dir(const char *dir, struct strvec *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return error_errno("cannot open directory '%s'", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(out, de->d_name);
	closedir(d);
	return 0;
}

void iso_time_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void strvec_sort(struct strvec *sv)
{
	if (sv->nr > 1)
		qsort(sv->v, sv->nr, sizeof(*sv->v), cmp_entries);
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("@%+=:,./_-", *s))
			return false;
	return true;
}

char *strvec_join_shell(const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sv->nr; i++) {
		const char *s = sv->v[i];

		if (i)
			strbuf_addch(&sb, ' ');
		if (shell_safe(s)) {
			strbuf_addstr(&sb, s);
			continue;
		}
		strbuf_addch(&sb, '\'');
		for (; *s; s++) {
			if (*s == '\'')
				strbuf_addstr(&sb, "'\\''");
			else
				strbuf_addch(&sb, *s);
		}
		strbuf_addch(&sb, '\'');
	}
	return strbuf_detach(&sb);
}

/* ---- files ---- */

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			ret = error_errno("cannot create directory '%s'", p);
			goto out;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!is_dir(path)) {
		ret = error_code(-ENOTDIR, "'%s' exists and is not a directory", path);
	}
out:
	free(p);
	return ret;
}

static int rm_cb(const char *path, const struct stat *st UNUSED,
		 int flag UNUSED, struct FTW *ftw UNUSED)
{
	if (remove(path) && errno != ENOENT)
		return -errno;
	return 0;
}

void prefetch_file_data(int fd)
{
	off_t pos = lseek(fd, 0, SEEK_CUR), off = 0, data, hole;

	if (pos < 0)
		return;
	while ((data = lseek(fd, off, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole <= data)
			break;
		posix_fadvise(fd, data, hole - data, POSIX_FADV_WILLNEED);
		off = hole;
	}
	/* the offset is the open file's, shared with whoever reads it next */
	lseek(fd, pos, SEEK_SET);
}

int cache_entry_lock(const char *dir, const char *what)
{
	char *path = xasprintf("%s.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fd = error_errno("cannot open the lock '%s'", path);
		free(path);
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int r;

		if (errno == EWOULDBLOCK) {
			info("waiting for another teelab process: %s (%s)", what, path);
			/* teelab's handlers are not SA_RESTART: Ctrl-C ends the wait (EINTR) */
			r = flock(fd, LOCK_EX);
		} else {
			r = -1;
		}
		if (r) {
			r = errno == EINTR ? error_code(-EINTR, "interrupted while waiting for '%s'", path)
					   : error_errno("cannot lock '%s'", path);
			close(fd);
			fd = r;
		}
	}
	free(path);
	return fd;
}

int remove_tree(const char *path)
{
	struct stat st;
	int ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	/* make sure everything is writable/traversable first */
	ret = nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
	if (ret == -1)
		ret = -errno;	/* nftw's own failure, or rm_cb's -EPERM */
	if (ret)
		return error_code(ret, "cannot remove '%s': %s", path, strerror(-ret));
	return 0;
}

int read_file(const char *path, char **out, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			strbuf_release(&sb);
			return (int)n;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (len)
		*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	const char *p = data;
	int ret = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0) {
		ret = error_errno("cannot write '%s'", path);
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = error_errno("cannot write '%s'", path);
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) || rename(tmp, path)) {
		ret = error_errno("cannot write '%s'", path);
		unlink(tmp);
	}
out:
	free(tmp);
	return ret;
}

int write_file_str(const char *path, const char *s)
{
	return write_file(path, s, strlen(s), 0644);
}

char *path_lookup(const char *prog)
{
	char *path = xstrdup(getenv("PATH") ? getenv("PATH") : ""), *save = NULL, *hit = NULL;

	for (char *d = strtok_r(path, ":", &save); d && !hit; d = strtok_r(NULL, ":", &save)) {
		char *exe = path_join(d, prog);

		if (!access(exe, X_OK) && !is_dir(exe))
			hit = exe;
		else
			free(exe);
	}
	free(path);
	return hit;
}

bool in_path(const char *prog)
{
	char *exe = path_lookup(prog);

	free(exe);
	return exe != NULL;
}

bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

int copy_file(const char *src, const char *dst)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (stat(src, &st))
		return error_errno("cannot stat '%s'", src);
	ret = read_file(src, &data, &len);
	if (ret)
		return error_code(ret, "cannot read '%s': %s", src, strerror(-ret));
	ret = write_file(dst, data, len, st.st_mode & 07777);
	free(data);
	return ret;
}

int copy_file_sparse(int src_fd, const char *dst)
{
	struct stat st;
	off_t pos = 0;
	size_t bufsz = 1 << 20;
	char *buf = NULL;
	int out, ret = 0;

	if (fstat(src_fd, &st))
		return error_errno("cannot stat the file to copy to '%s'", dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		return error_errno("cannot create '%s'", dst);
	buf = xmalloc(bufsz);
	while (!ret && pos < st.st_size) {
		off_t data = lseek(src_fd, pos, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO)	/* ENXIO: no data after pos, only a hole */
				ret = -errno;
			break;
		}
		hole = lseek(src_fd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			break;
		}
		for (pos = data; !ret && pos < hole;) {
			size_t want = (size_t)(hole - pos) < bufsz ? (size_t)(hole - pos) : bufsz;
			ssize_t n = pread(src_fd, buf, want, pos);

			if (n <= 0)
				ret = n < 0 ? -errno : -EIO;
			else if (pwrite(out, buf, (size_t)n, pos) != n)
				ret = errno ? -errno : -EIO;
			else
				pos += n;
		}
	}
	if (!ret && ftruncate(out, st.st_size))
		ret = -errno;
	if (close(out) && !ret)
		ret = -errno;
	free(buf);
	if (ret) {
		unlink(dst);
		return error_code(ret, "cannot copy into '%s': %s", dst, strerror(-ret));
	}
	return 0;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (!la)
		return xstrdup(b);
	if (b[0] == '/' && a[la - 1] == '/')
		b++;
	if (a[la - 1] == '/' || b[0] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- hashing ---- */

struct hasher {
	EVP_MD_CTX *ctx;
};

static void to_hex(const unsigned char *md, unsigned int n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

struct hasher *hasher_new(void)
{
	struct hasher *h = xcalloc(1, sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		fputs("teelab: libcrypto cannot initialise sha256\n", stderr);
		abort();
	}
	return h;
}

void hasher_add(struct hasher *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void hasher_addstr(struct hasher *h, const char *s)
{
	hasher_add(h, s, strlen(s) + 1);
}

int hasher_addfile(struct hasher *h, const char *path)
{
	char hex[SHA256_HEX_LEN + 1];
	int ret = sha256_file(path, hex);

	if (!ret)
		hasher_addstr(h, hex);
	return ret;
}

void hasher_finish(struct hasher *h, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	to_hex(md, n, hex);
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	struct hasher *h;
	char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return error_errno("cannot open '%s'", path);
	h = hasher_new();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		hasher_add(h, buf, (size_t)n);
	if (n < 0)
		n = -errno;
	close(fd);
	hasher_finish(h, hex);
	if (n < 0)
		return error_code((int)n, "cannot read '%s': %s", path, strerror((int)-n));
	return 0;
}

void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct hasher *h = hasher_new();

	hasher_add(h, data, len);
	hasher_finish(h, hex);
}

/* ---- strings ---- */

bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

char *strtrim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

char *base64_str(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
	return out;
}
