/* SPDX-License-Identifier: MIT */
/*
 * inroot.h - paths inside a directory that stands for a root file system
 * (an unpacked package tree, the guest sysroot): symlinks are followed as
 * the guest would follow them, absolute targets and ".." stay inside the
 * root, as under chroot. The kernel keeps every lookup inside with
 * openat2(RESOLVE_IN_ROOT) (Linux 5.6+, <linux/openat2.h>), so a symlink
 * changed under a walk cannot lead it out.
 */
#ifndef TEELAB_INROOT_H
#define TEELAB_INROOT_H

#include <sys/types.h>

struct strbuf;
struct strvec;

/*
 * open(2) of @path (relative or absolute, both meaning "under the root")
 * inside the root directory @rootfd: openat2() with RESOLVE_IN_ROOT and
 * RESOLVE_NO_MAGICLINKS. @flags and @mode as for open(2). Returns the new
 * fd or -errno (not reported); -ENOSYS before Linux 5.6.
 */
int inroot_open(int rootfd, const char *path, int flags, mode_t mode);

enum {
	INROOT_MKDIR = 1,	/* create missing directories (mode 0755) */
	INROOT_PARENT = 2,	/* resolve the parent only: the last component is kept as is */
};

/*
 * Resolve @path inside @rootfd component by component, following every
 * symlink (but the last component's with INROOT_PARENT): an absolute
 * target restarts at the root, ".." never climbs above it, at most 40
 * symlinks (-ELOOP). Each symlink met is pushed to @links (may be NULL) as
 * a root-relative path ("/lib") whose directories are all real; @canon gets
 * the resolved root-relative path ("/" for the root itself). Every lookup
 * is made from a directory opened with inroot_open(). 0 or -errno (not
 * reported): -ENOENT, -ENOTDIR (a non-directory in the middle), -ELOOP.
 */
int inroot_resolve(int rootfd, const char *path, unsigned flags,
		   struct strvec *links, struct strbuf *canon);

#endif
