/* SPDX-License-Identifier: MIT */
/*
 * hostpkgs.h - configs/host-packages.txt, the one list of the host's Debian
 * packages: what `make deps` installs and what `teelab doctor` checks.
 *
 * Format (the file's header says the same): one package a line, `#` starts
 * a comment, blank lines are skipped; a line may end with a suite qualifier
 * in brackets: `pkg [bookworm]` (only there), `pkg [bookworm trixie]`,
 * `pkg [!bookworm]` (everywhere but there). The Makefile's HOST_PKGS reads
 * it the same way.
 */
#ifndef TEELAB_HOSTPKGS_H
#define TEELAB_HOSTPKGS_H

#include "util.h"

/*
 * Append to @out the packages of @path that apply to @suite (a Debian
 * codename), in file order. Returns 0, -errno when the file can't be read,
 * or -EINVAL for a malformed line (reported as path:line: an unclosed or
 * empty qualifier, two package names, a name that is not a Debian package
 * name, a qualifier mixing "!" and plain suites).
 */
int hostpkgs_read(const char *path, const char *suite, struct strvec *out);

/*
 * Append to @missing the packages of @pkgs that dpkg does not record as
 * "install ok installed" on this host (one `dpkg-query -W` for all).
 * Returns 0, or -errno when dpkg-query could not be run (reported).
 */
int hostpkgs_missing(const struct strvec *pkgs, struct strvec *missing);

#endif
