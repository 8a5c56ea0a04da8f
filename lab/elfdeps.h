/* SPDX-License-Identifier: MIT */
/*
 * elfdeps.h - resolve the shared libraries an ELF program needs, inside a
 * sysroot (the unpacked arm64 .debs), the way the guest's dynamic loader
 * will: DT_NEEDED entries searched in DT_RUNPATH/DT_RPATH (with $ORIGIN),
 * then the multiarch and default library directories, transitively, plus
 * the PT_INTERP loader itself. Reads ELF32/ELF64 of either endianness with
 * libelf (elfutils, its class- and byte-order-neutral gelf API); no code
 * is run.
 */
#ifndef TEELAB_ELFDEPS_H
#define TEELAB_ELFDEPS_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

/*
 * Read one ELF file. *interp receives the PT_INTERP path (malloc'd, or
 * NULL if static), @needed gets the DT_NEEDED sonames, @runpath the
 * DT_RUNPATH or DT_RPATH entries split at ':'. Returns 0, -ENOEXEC if
 * @path is not ELF (not reported: callers skip scripts), -EINVAL for a
 * corrupt or truncated ELF file (reported: "'<path>' is a corrupt ELF file:
 * <what>"), other -errno (reported).
 */
int elf_read_deps(const char *path, char **interp, struct strvec *needed,
		  struct strvec *runpath);

/*
 * The strings of a kernel module's ".modinfo" section ("depends=tee",
 * "alias=of:N*T*Clinaro,optee-tz", "vermagic=...", in file order; the
 * format is Linux's, include/linux/moduleparam.h __MODULE_INFO) appended
 * to @out. A module without the section adds nothing. 0, -ENOEXEC if
 * @path is not ELF, -EINVAL if it is corrupt, other -errno; all reported.
 */
int elf_read_modinfo(const char *path, struct strvec *out);

/*
 * Resolve the full closure for the programs @progs (sysroot-relative paths
 * like "/usr/bin/xtest") inside @sysroot. Library directories searched,
 * in order: runpath entries, then each of @libdirs (sysroot-relative, e.g.
 * "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib",
 * "/usr/lib"). Symlinks inside the sysroot are followed within the
 * sysroot (absolute link targets are re-rooted). On success @out gets every
 * sysroot-relative path that must be copied (the libraries, and the
 * symlink names through which they were found, and the interpreter),
 * each once, in a stable order. A missing library is an error naming the
 * program that needs it: -ENOENT; other failures (an unreadable sysroot, a
 * corrupt ELF file) are another negative errno. All reported.
 */
int elf_resolve_closure(const char *sysroot, const char *const *progs,
			size_t nr_progs, const char *const *libdirs,
			struct strvec *out);

#endif
