/* SPDX-License-Identifier: MIT */
/*
 * config.h - the lab's configuration: where data, cache and runs live, and
 * the parsed profile (machine + kernel + secure world + rootfs recipe).
 *
 * Files (all YAML, located errors, see README "Configuration"):
 *   configs/profiles/<name>.yaml   picks one of each below
 *   configs/machines/<name>.yaml   QEMU machine options
 *   configs/kernels/<name>.yaml    normal-world kernel (Debian .deb or user Image)
 *   configs/secure/<name>.yaml     TF-A, OP-TEE (BL32) and BL33 sources
 *   images/rootfs/<name>.yaml      initramfs recipe (packages, programs, files)
 *
 * struct lab_config is parsed and validated once, before any process
 * starts; nothing in it changes during a run.
 */
#ifndef TEELAB_CONFIG_H
#define TEELAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

/* A Debian package: name (may be an fnmatch glob), suite, optional version. */
struct pkg_ref {
	char *name;
	char *suite;		/* e.g. "trixie", "bookworm-security" */
	char *version;		/* exact version, or NULL for the suite's newest */
	char *arch;		/* "arm64" (default), "amd64" or "all" */
	char *where;		/* "file:line:col" of the reference, for errors */
};

/* How an input is provided. */
enum src_kind {
	SRC_DEBIAN,	/* a Debian source or binary package */
	SRC_TREE,	/* the user's own source tree (built by teelab) */
	SRC_PREBUILT,	/* the user's own binaries (used as they are) */
};

struct machine_cfg {
	char *name;
	char *qemu;		/* emulator binary, default qemu-system-aarch64 */
	char *cpu;		/* -cpu, default cortex-a57 */
	int smp;		/* vCPUs, default 2 */
	int memory_mb;		/* -m, MiB, default 1024 */
	int gic_version;	/* 2 or 3, default 3 (Debian's OP-TEE is GICv3) */
	/*
	 * TCG's threading, QEMU's `-accel tcg,thread=`: "single" (default:
	 * every vCPU on one host thread, taking turns) or "multi" (a host
	 * thread per vCPU, QEMU's own default). See configs/machines/virt.yaml
	 * for why single is the default.
	 */
	char *tcg_thread;
	struct strvec extra_args;	/* appended to the QEMU argv */
	/*
	 * "qemu" (default): teelab runs qemu-system-aarch64 itself;
	 * "libvirt": libvirt runs it (machine_libvirt.c) through @connect, a
	 * libvirt URI (NULL: qemu:///embed?root=<cache dir>/libvirt/embed-N,
	 * libvirt's in-process driver, no daemon).
	 */
	char *backend;
	char *connect;
	/*
	 * What BL31 hands the normal world to (machine file `boot:`, --boot):
	 * BOOT_DIRECT (default): TF-A built with ARM_LINUX_KERNEL_AS_BL33=1
	 * enters Linux itself; QEMU preloads the Image at DIRECT_KERNEL_BASE and
	 * the initramfs above it, and the run's device tree carries /chosen
	 * (bootargs, linux,initrd-start/-end) (TF-A docs/plat/qemu.rst).
	 * BOOT_UBOOT: BL33 = U-Boot, which takes -kernel/-initrd/-append from
	 * QEMU's fw_cfg (a user's bootflow; LAVA's qemu device boots this way).
	 * A prebuilt TF-A image (secure profile `tfa: prebuilt`) carries its own
	 * BL33, so it always boots as BOOT_UBOOT.
	 */
	enum boot_mode { BOOT_DIRECT, BOOT_UBOOT } boot;
	/*
	 * "replay" backend (machine_replay.c, the engine's unit tests): a
	 * directory of captured consoles and a script played instead of a
	 * machine. Set by the caller, not read from a machine file.
	 */
	char *replay;
};

/*
 * An xtest case known to fail on a secure world for a reason outside
 * teelab (an OP-TEE/xtest version mismatch, a feature the build lacks):
 * its failure is XFAIL, a pass XPASS (configs/known-failures/).
 */
struct known_failure {
	char *id;		/* the case id, "regression_1009" */
	char *reason;		/* why, one line */
	char *link;		/* an upstream report or commit, or NULL */
};

struct kernel_cfg {
	char *name;
	enum src_kind kind;	/* SRC_DEBIAN or SRC_PREBUILT */
	struct pkg_ref deb;	/* SRC_DEBIAN: linux-image-*-arm64-unsigned */
	char *image;		/* SRC_PREBUILT: path to an arm64 Image */
	char *modules_dir;	/* SRC_PREBUILT: lib/modules/<ver> dir, or NULL */
	struct strvec modules;	/* modules to load from /init, in order (e.g. tee optee) */
	char *cmdline;		/* extra kernel command line, or NULL */
	/*
	 * SRC_DEBIAN: the packages to build out-of-tree modules against; "{abi}"
	 * in a name is replaced by the image's ABI (linux-image-<abi>-arm64-unsigned)
	 * and the version is the image's.
	 */
	size_t nr_headers;
	struct pkg_ref *headers;
	/* built by teelab: `source:` { deb: linux-source-X, base:, fragments: } */
	bool build;
	struct pkg_ref src_deb;	/* Debian linux-source-* package (a tarball inside) */
	char *base_config;	/* make target for the base config, e.g. allnoconfig */
	struct strvec fragments;	/* config fragments, datadir-relative */
	/*
	 * `kasan-only:` directories of the kernel tree (e.g. drivers/tee)
	 * whose C files alone get KASAN's checks (make KASAN_SANITIZE=n and
	 * KASAN_SANITIZE_<file>.o=y for theirs, Documentation/dev-tools/kasan.rst);
	 * empty: every file kbuild instruments
	 */
	struct strvec kasan_only;
	/*
	 * Whether the kernel has the FF-A transport (CONFIG_ARM_FFA_TRANSPORT):
	 * for a source kernel, a fragment sets it; otherwise the kernel file
	 * says so (`ffa-transport: true`; Debian's arm64 6.1 and 6.12 images
	 * have "# CONFIG_ARM_FFA_TRANSPORT is not set").
	 */
	bool ffa_transport;
	/*
	 * A guest without IP (no SSH channel): a source kernel none of whose
	 * fragments sets CONFIG_INET (lab-devices.config does; the
	 * memory-debugging kernels have none). Debian's and a user's kernels
	 * are taken to have it.
	 */
	bool no_ip;
};

struct secure_cfg {
	char *name;
	/* TF-A (BL1, BL2, BL31 and the FIP) */
	enum src_kind tfa_kind;
	struct pkg_ref tfa_src;	/* SRC_DEBIAN: source package */
	char *tfa_tree;		/* SRC_TREE */
	char *tfa_bios;		/* SRC_PREBUILT: a ready qemu_fw.bios */
	struct strvec tfa_flags;	/* make variables (PLAT=qemu SPD=opteed ...) */
	/*
	 * The SPMC manifest (datadir-relative DTS, teelab's own) for an FF-A
	 * secure world with the SPMC at S-EL1 (SPD=spmd SPMC_OPTEE=1): built
	 * by TF-A as TOS_FW_CONFIG (QEMU_TOS_FW_CONFIG_DTS), hashed into the
	 * TF-A cache key; NULL for the SMC ABI (SPD=opteed).
	 */
	char *tfa_spmc_manifest;
	/* the FF-A ABI (TF-A SPD=spmd, OP-TEE the SPMC) rather than the SMC ABI (SPD=opteed) */
	bool ffa;
	/* OP-TEE OS (BL32): tee-header_v2.bin, tee-pager_v2.bin, tee-pageable_v2.bin */
	enum src_kind optee_kind;	/* SRC_DEBIAN (binary .deb), SRC_PREBUILT, or built: */
	bool optee_build;	/* built by teelab from optee_src (Debian source) or optee_tree */
	struct pkg_ref optee_deb;
	char *optee_dir;	/* directory inside the package, or the user's dir */
	struct pkg_ref optee_src;	/* optee_build: the Debian source package */
	char *optee_tree;	/* optee_build: the user's optee_os tree instead */
	struct strvec optee_flags;	/* make variables (PLATFORM=..., CFG_...=...) */
	struct strvec optee_overlays;	/* teelab's own file trees copied over the source, in order (datadir-relative) */
	struct strvec optee_patches;	/* patch files (datadir-relative, -p1) applied after the overlay */
	struct pkg_ref ta_key_deb;	/* TA_PUBLIC_KEY taken from this package... */
	char *ta_key_path;	/* ...at this path inside it; NULL: the tree's default key */
	/*
	 * "ta-dev-kit:": the lab TAs' dev kit (export-ta_arm64) taken from this
	 * package (optee-os-dev) at the OP-TEE source's own version, so that
	 * OP-TEE is built core only; NULL path: OP-TEE's build exports it
	 */
	struct pkg_ref ta_devkit_deb;
	char *ta_devkit_path;	/* ...this directory inside it */
	/* BL33 (U-Boot) */
	enum src_kind bl33_kind;
	struct pkg_ref bl33_deb;
	char *bl33_path;	/* path inside the package, or the user's file */
	/*
	 * "rpmb-key:": the RPMB authentication key (JESD84-B51 6.6.22, 32
	 * bytes) the OP-TEE build uses; the lab eMMC is provisioned with it
	 * at boot (/etc/teelab/rpmb.key, `mmc rpmb write-key`), as a factory
	 * would, because OP-TEE with in-kernel RPMB routing never programs it.
	 */
	bool has_rpmb_key;
	unsigned char rpmb_key[32];
	/* configs/known-failures/<name>.yaml: xtest cases known to fail here */
	struct known_failure *known;
	size_t nr_known;
};

struct rootfs_cfg {
	char *name;
	char *default_suite;
	size_t nr_pkgs;
	struct pkg_ref *pkgs;	/* arm64 packages unpacked into the sysroot */
	struct strvec programs;	/* ELF programs whose library closure is copied */
	struct strvec copy;	/* sysroot paths (files or trees) copied as they are */
	struct strvec dirs;	/* empty directories created */
	struct strvec links;	/* "path=target" symlinks created */
	char *overlay;		/* teelab's own files (tl-run...), dir relative to the data dir */
	/*
	 * "init:": the directory of the /init program teelab builds for every
	 * lab (make O=..., its output `init`), relative to the data dir; NULL:
	 * the overlay has /init
	 */
	char *init;
};

struct lab_config {
	char *datadir;		/* configs/, scenarios/, images/ live here */
	char *cache_dir;	/* apt root, downloads, builds */
	char *runs_dir;		/* run directories */
	char *profile;		/* profile name */
	bool scmi;		/* profile "scmi: true": SCMI OP-TEE node + lab eMMC node in the DT */
	struct strvec kmods;	/* profile "kmods:": teelab's out-of-tree module dirs (datadir-relative) */
	struct strvec tas;	/* profile "tas:": teelab's TA dirs, built with the OP-TEE's TA dev kit */
	struct strvec guest;	/* profile "guest:": teelab's guest program dirs, cross-compiled */
	struct machine_cfg machine;
	struct kernel_cfg kernel;
	struct secure_cfg secure;
	struct rootfs_cfg rootfs;
	/*
	 * --gdb: also fetch what only a debugger needs (Debian's kernel -dbg
	 * package for vmlinux and its TEE modules' symbols); not a cache key
	 */
	bool debug_symbols;
};

/* Command-line overrides, applied on top of the profile. */
struct config_overrides {
	const char *profile;
	const char *machine, *kernel, *secure, *rootfs;
	const char *cache_dir, *runs_dir;
	const char *backend, *connect;	/* --backend, --connect */
	const char *boot;		/* --boot: "direct" or "u-boot" (machine_cfg.boot) */
	/*
	 * OP-TEE make variables ("CFG_NUM_THREADS=1") appended to the secure
	 * profile's make-flags (the later wins); only for an OP-TEE teelab
	 * builds. --optee-flag, or a scenario cell's optee-flags.
	 */
	const char *optee_flags[32];
	size_t nr_optee_flags;
};

/*
 * Find the data directory: $TEELAB_DATADIR, else the directory of the
 * running executable if it has configs/ (a source checkout), else
 * ../share/teelab beside it (an installed binary, whatever PREFIX it was
 * built for), else the compiled-in TEELAB_DATADIR. Returns a malloc'd path or NULL (reported).
 */
char *config_find_datadir(void);

/*
 * Load profile @ov->profile (default "default") and its parts from the
 * data directory. Errors are located (file:line:col) and return -EINVAL;
 * a missing file is -ENOENT with the name of the profile part. Caller owns
 * @cfg and frees it with config_release().
 */
int config_load(struct lab_config *cfg, const struct config_overrides *ov);

/*
 * The cache and runs directories config_load() would use, without loading
 * anything (for `teelab doctor`): --cache-dir, else $TEELAB_CACHE_DIR, else
 * $XDG_CACHE_HOME/teelab or ~/.cache/teelab; --runs-dir, else
 * $TEELAB_RUNS_DIR, else "runs". malloc'd, never NULL.
 */
/* "direct" or "u-boot" for result.json and messages. */
const char *boot_mode_name(enum boot_mode b);
/* @c's TCG threading, "single" or "multi" ("single" when unset, as in a bare test fixture); static */
const char *machine_tcg_thread(const struct machine_cfg *c);

char *config_cache_dir(const struct config_overrides *ov);
char *config_runs_dir(const struct config_overrides *ov);
void config_release(struct lab_config *cfg);
void pkg_ref_release(struct pkg_ref *r);

/* Path of "<datadir>/<sub>/<name>.yaml" (malloc'd). */
char *config_file(const struct lab_config *cfg, const char *sub, const char *name);

#endif
