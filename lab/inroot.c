// SPDX-License-Identifier: MIT
/* inroot.c - paths resolved inside a root directory; see inroot.h */
#include "inroot.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#define MAX_SYMLINKS 40

int inroot_open(int rootfd, const char *path, int flags, mode_t mode)
{
	/* glibc before 2.40 has no openat2() wrapper */
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = flags & (O_CREAT | O_TMPFILE) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = -1;

	/* EAGAIN: a rename or mount raced the lookup; the kernel asks for a retry */
	for (int tries = 0; tries < 16; tries++) {
		fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : (int)fd;
}

/* Drop the last component of the root-relative @canon ("" is the root). */
static void canon_up(struct strbuf *canon)
{
	char *slash = strrchr(strbuf_str(canon), '/');

	if (slash) {
		canon->len = (size_t)(slash - canon->buf);
		canon->buf[canon->len] = '\0';
	}
}

int inroot_resolve(int rootfd, const char *path, unsigned flags,
		   struct strvec *links, struct strbuf *canon)
{
	struct strbuf todo = STRBUF_INIT;
	struct strbuf next = STRBUF_INIT;
	char target[PATH_MAX];
	const char *p = NULL;
	int nr_links = 0;
	int ret = 0;

	strbuf_reset(canon);
	strbuf_addstr(&todo, path);
	p = todo.buf;
	while (*p) {
		const char *e = NULL;
		char *name = NULL;
		size_t n = 0;
		bool last = false;
		struct stat st;
		ssize_t len = 0;
		int dfd = -1;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		last = !e[strspn(e, "/")];
		if (n == 1 && *p == '.') {
			p = e;
			continue;
		}
		if (n == 2 && !memcmp(p, "..", 2)) {
			canon_up(canon);
			p = e;
			continue;
		}
		if (last && (flags & INROOT_PARENT)) {
			strbuf_addch(canon, '/');
			strbuf_add(canon, p, n);
			break;
		}
		dfd = inroot_open(rootfd, strbuf_str(canon), O_PATH | O_DIRECTORY, 0);
		if (dfd < 0) {
			ret = dfd;
			goto out;
		}
		name = xstrndup(p, n);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
			ret = -errno;
			if (ret == -ENOENT && (flags & INROOT_MKDIR)) {
				ret = mkdirat(dfd, name, 0755) && errno != EEXIST ? -errno : 0;
				if (!ret && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
					ret = -errno;
			}
		}
		if (!ret && S_ISLNK(st.st_mode)) {
			len = readlinkat(dfd, name, target, sizeof(target));
			if (len < 0 || (size_t)len >= sizeof(target))
				ret = len < 0 ? -errno : -ENAMETOOLONG;
			else if (++nr_links > MAX_SYMLINKS)
				ret = -ELOOP;
		}
		free(name);
		close(dfd);
		if (ret)
			goto out;
		if (S_ISLNK(st.st_mode)) {
			if (links)
				strvec_pushf(links, "%s/%.*s", strbuf_str(canon), (int)n, p);
			strbuf_reset(&next);
			strbuf_add(&next, target, (size_t)len);
			strbuf_addch(&next, '/');
			strbuf_addstr(&next, e);
			if (target[0] == '/')
				strbuf_reset(canon);
			strbuf_reset(&todo);
			strbuf_addstr(&todo, next.buf);
			p = todo.buf;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			ret = -ENOTDIR;
			goto out;
		}
		strbuf_addch(canon, '/');
		strbuf_add(canon, p, n);
		p = e;
	}
	if (!canon->len)
		strbuf_addch(canon, '/');
out:
	strbuf_release(&todo);
	strbuf_release(&next);
	return ret;
}
