/* SPDX-License-Identifier: MIT */
/*
 * aptroot.h - a private apt root owned by teelab, for fetching Debian
 * binary (.deb, arm64/amd64/all) and source packages without touching the
 * host's apt configuration.
 *
 * Layout under <cache>/apt: etc/apt/{apt.conf,sources.list}, var/lib/apt
 * (lists), var/cache/apt, var/lib/dpkg/status (empty); downloads are kept
 * by content under <cache>/debs and <cache>/sources. apt-get/apt-cache
 * run with APT_CONFIG pointing at our apt.conf, so no host setting applies.
 *
 * The archive URI is never configured in teelab: it is read from the
 * host's own apt sources (/etc/apt/sources.list, sources.list.d (*.list and
 * deb822 *.sources)), taking the entry that serves the host's codename for
 * ordinary suites and the one serving "<codename>-security" for security
 * suites. $TEELAB_DEBIAN_MIRROR / $TEELAB_DEBIAN_SECURITY_MIRROR override.
 */
#ifndef TEELAB_APTROOT_H
#define TEELAB_APTROOT_H

#include <stdbool.h>
#include "config.h"
#include "util.h"

struct host_mirror {
	char *uri;		/* e.g. the host's ".../debian" URI */
	char *security_uri;	/* the host's ".../debian-security" URI */
	char *signed_by;	/* keyring, default debian-archive-keyring.gpg */
};

/*
 * Parse apt sources in @etc_apt (normally "/etc/apt") into @m.
 * @codename is the host's (VERSION_CODENAME of /etc/os-release when NULL).
 * Returns 0, or -ENOENT (reported) if no Debian entry was found or the
 * host's codename is unknown.
 */
int host_mirror_read(const char *etc_apt, const char *codename, struct host_mirror *m);
void host_mirror_release(struct host_mirror *m);

/*
 * The host's Debian suite: VERSION_CODENAME of /etc/os-release ("bookworm",
 * "trixie"). malloc'd, NULL when the file or the field is missing.
 */
char *host_codename(void);

struct aptroot {
	char *root;		/* <cache>/apt */
	char *conf;		/* <root>/etc/apt/apt.conf */
	char *debs;		/* <cache>/debs */
	char *sources;		/* <cache>/sources */
	bool updated;		/* apt-get update ran in this process */
	int downloads;		/* files fetched from the network by this process */
	int lock_fd;		/* <cache>/apt.lock while held (apt_lock()), else -1 */
	int lock_depth;		/* nested apt_lock() calls of this process */
};

/*
 * Create or refresh the apt root under @cache_dir for the suites of @refs
 * (every distinct pkg_ref.suite). Writes sources.list for those suites
 * (deb for amd64+arm64, deb-src) and runs `apt-get update` only when the
 * lists are missing or the sources changed (or @force_update).
 * 0 or -errno (reported).
 */
int aptroot_open(struct aptroot *a, const char *cache_dir,
		 const struct pkg_ref *const *refs, size_t nr, bool force_update);
void aptroot_release(struct aptroot *a);

/*
 * Resolve @ref to an exact package name and version in its suite (a glob
 * name picks the highest version among matching names). *name and
 * *version are malloc'd. 0, -ENOENT when the suite has no such package
 * or version, or another -errno when apt failed (reported with ref->where).
 */
int aptroot_resolve(struct aptroot *a, const struct pkg_ref *ref,
		    char **name, char **version);

/*
 * Make the .deb for @ref available locally and return its path in *path
 * (malloc'd). A cached file with the index's SHA256 is used without any
 * network access. A pinned package (exact name and @ref->version) already
 * in the cache is used without apt at all, so it stays usable after the
 * archive stops serving that version. 0 or -errno (reported; -ENOENT when
 * the suite lacks the package or version and, if pinned, the cache too).
 */
int aptroot_fetch_deb(struct aptroot *a, const struct pkg_ref *ref, char **path);

/*
 * Download the source package @ref (.dsc, .orig.tar.*, .debian.tar.*)
 * into a cached directory, returned in *dir (malloc'd); *version gets the
 * exact version. A pinned version already in the cache is used without
 * apt, as in aptroot_fetch_deb(). 0 or -errno (reported).
 */
int aptroot_fetch_source(struct aptroot *a, const struct pkg_ref *ref,
			 char **dir, char **version);

/* Debian version comparison (deb-version(7)): <0, 0, >0. */
int debian_version_cmp(const char *a, const char *b);

#endif
