/* SPDX-License-Identifier: MIT */
/*
 * archive.h - everything teelab reads or writes as an archive, through
 * libarchive: Debian binary packages (.deb = ar of control.tar.* and
 * data.tar.*), source tarballs (.orig.tar.*, .debian.tar.*) and the
 * initramfs (a "newc" cpio, uncompressed or gzip, the format the Linux kernel
 * unpacks: Documentation/driver-api/early-userspace/buffer-format.rst).
 */
#ifndef TEELAB_ARCHIVE_H
#define TEELAB_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Unpack the data.tar.{gz,xz,zst,bz2,} member of the Debian package @deb
 * into directory @dest (created if needed), keeping relative symlinks,
 * modes (without setuid/setgid) and hard links; absolute paths and ".."
 * components are refused. An entry below a symlink (from the archive or
 * already in @dest, absolute ones included) follows it inside @dest as if
 * @dest were the root (inroot.h: the kernel keeps every lookup inside);
 * nothing is written outside @dest. The caller does not need root:
 * ownership is not restored. 0 or -errno; every failure is reported with
 * the file name.
 */
int deb_extract_data(const char *deb, const char *dest);

/*
 * Read the "control" file from the control.tar.* member of @deb into a
 * malloc'd NUL-terminated string (*out, caller frees). 0 or -errno.
 */
int deb_read_control(const char *deb, char **out);

/*
 * Unpack any tarball libarchive can read (compression auto-detected) into
 * @dest, dropping the first @strip path components (like tar
 * --strip-components). Same safety rules as deb_extract_data(). 0 or -errno.
 */
int tar_extract(const char *tarball, const char *dest, int strip);

/*
 * Write the tree under directory @root as a newc cpio to @out (written
 * atomically), gzip-compressed when @gzip (else as it is: the kernel then
 * copies it instead of inflating it, measured 0.3-0.5 s of a 3 s boot of
 * Debian's 6.12 under TCG for a 21 MB initramfs). Entries are sorted by
 * path, owned by 0:0, with mtime forced to @mtime (seconds since the epoch) so the same tree
 * always gives the same bytes. Regular files, directories and symlinks are
 * stored; device nodes are not needed (the guest mounts devtmpfs).
 * Extra entries can be listed in @extra_dirs (NULL-terminated, may be
 * NULL): directories created in the archive even if absent from @root
 * (e.g. "dev", "proc"). 0 or -errno.
 */
int cpio_write_tree(const char *root, const char *out, time_t mtime,
		    const char *const *extra_dirs, bool gzip);

/*
 * Write an uncompressed POSIX (pax restricted) tar to @out (atomically)
 * holding the regular files @files[i] under the archive names @names[i]
 * (@nr of them), owned by 0:0, mode 0644, mtime @mtime. The archive is a
 * whole number of 512-byte blocks, so it can be handed to a guest as a raw
 * block device and read back with `tar -x -f /dev/vda`. 0 or -errno.
 */
int tar_write_files(const char *out, const char *const *files,
		    const char *const *names, size_t nr, time_t mtime);

/*
 * List the entries of a cpio (any compression) into a malloc'd array of
 * malloc'd path strings (*paths, *nr); caller frees each and the array.
 * Used by tests and `teelab build --list`. 0 or -errno.
 */
int cpio_list(const char *cpio, char ***paths, size_t *nr);

#endif
