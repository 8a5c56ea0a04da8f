/* SPDX-License-Identifier: MIT */
/*
 * images.h - the build graph: everything a lab boots, built or fetched
 * into <cache>/build/<kind>-<hash>/, where <hash> is the SHA-256 of every
 * input (package versions and content hashes, build flags, compiler,
 * teelab's own injected files). An output directory that exists and has
 * its ".complete" stamp is reused as it is, so a second run builds and
 * fetches nothing.
 *
 *   secure world: TF-A (BL1, BL2, BL31) built from Debian's
 *     arm-trusted-firmware source with BL32 = OP-TEE (tee-header_v2.bin,
 *     tee-pager_v2.bin, tee-pageable_v2.bin) and BL33 = U-Boot, packed as
 *     qemu_fw.bios (bl1.bin with fip.bin at 0x40000);
 *   normal world: the kernel Image, and an initramfs (newc cpio, uncompressed)
 *     with busybox, tee-supplicant, xtest, TAs, the kernel's TEE modules
 *     and teelab's /init.
 */
#ifndef TEELAB_IMAGES_H
#define TEELAB_IMAGES_H

#include "aptroot.h"
#include "config.h"
#include "results.h"

struct lab_images {
	char *bios;		/* qemu_fw.bios */
	char *kernel;		/* arm64 Image */
	char *initrd;		/* initramfs.cpio */
	char *dtb;		/* QEMU's tree, edited (dtb.h) */
	char *kexec_disk;	/* tar of kexec/Image + kexec/initrd, a read-only guest disk */
	char *ta_devkit;	/* export-ta_arm64 of an OP-TEE built by teelab, or NULL */
	char *kernel_release;	/* e.g. "6.12.117+deb12-arm64", or NULL */
	/*
	 * Symbol files teelab has for this lab, "what\tpath" (--gdb loads
	 * them, lab/gdbscript.c): bl1, bl2, bl31 (TF-A built here), tee (OP-TEE
	 * built here), vmlinux (a kernel built here),
	 * ta:<name> (<uuid>.elf of each lab TA), kmod:<module> (each .ko),
	 * src (a source tree their DWARF paths are relative to).
	 */
	struct strvec symbols;
	struct strvec tas;	/* the lab TAs, "uuid\tname" (images/ta/<name>) */
	/* provenance, recorded into result.json "environment" */
	struct strvec provenance;	/* "key=value" */
	int builds;		/* outputs built (not reused) by this call */
	int downloads;		/* files fetched from the network by this call */
};

/*
 * Produce every image for @cfg, fetching through a private apt root under
 * cfg->cache_dir and building what is not cached. Progress goes to
 * stderr via info(); build logs to <cache>/build/<kind>-<hash>/build.log.
 * 0 or -errno; the failing step is reported with its log path.
 */
int images_build(const struct lab_config *cfg, bool refresh, struct lab_images *out);
void lab_images_release(struct lab_images *im);

/*
 * Whether images_build() names every image it reuses ("cached: ..."
 * lines through info()); `teelab build` sets it, runs stay quiet.
 */
extern bool images_show_cached;

struct scenario;
/*
 * images_build(), then images_add_kexec_kernels() for the `kexec: { to: }`
 * kernels of @sc (NULL: none). 0 or -errno (reported).
 */
int images_build_scenario(const struct lab_config *cfg, const struct config_overrides *ov,
			  const struct scenario *sc, bool refresh, struct lab_images *out);
/*
 * `kexec: { to: NAME }` targets: for each configs/kernels name in
 * @kernels ("boot", the booted kernel, is skipped) build that kernel's
 * images with @ov's profile (same secure world and rootfs, its own
 * modules and initramfs), and replace im->kexec_disk with one holding
 * kexec/Image + kexec/initrd (the booted kernel) and kexec/NAME/Image +
 * kexec/NAME/initrd for each. im->builds/downloads add up. 0 or -errno
 * (reported, naming the target).
 */
int images_add_kexec_kernels(const struct config_overrides *ov, const struct strvec *kernels,
			     bool refresh, struct lab_images *im);

/* Copy provenance into a run result's environment. */
void lab_images_to_result(const struct lab_images *im, struct run_result *r);

/*
 * Decompress a single-stream file (.xz/.gz/.zst, or a plain file copied
 * as is) from @src to @dst with libarchive's raw format. 0 or -errno.
 */
int decompress_file(const char *src, const char *dst);

#endif
