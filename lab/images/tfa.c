// SPDX-License-Identifier: MIT
/*
 * images/tfa.c - TF-A (BL1, BL2, BL31) built from Debian's
 * arm-trusted-firmware source (or the user's tree) with BL32 = OP-TEE,
 * packed as qemu_fw.bios (bl1.bin with fip.bin at 0x40000). BL33 is U-Boot
 * for a machine with `boot: u-boot`; for `boot: direct` there is none:
 * TF-A is built with ARM_LINUX_KERNEL_AS_BL33=1 and
 * PRELOADED_BL33_BASE=DIRECT_KERNEL_BASE, so BL2 skips loading BL33 and
 * BL31 enters the kernel QEMU preloaded there with x0 = the device tree
 * (plat/qemu/common/qemu_bl2_setup.c, qemu_bl2_mem_params_desc.c;
 * docs/plat/qemu.rst, TF-A 2.x).
 *
 * Two cache entries: "tfa" is the TF-A build itself (BL1, BL2, BL31, a FIP
 * and TF-A's fiptool), keyed on the tree, flags, BL33 and SPMC manifest but
 * not on BL32, which TF-A only packs into the FIP (TOOL_ADD_IMG in its
 * Makefile and plat/qemu/qemu/platform.mk); "tfa-fip" is that FIP with
 * this OP-TEE's BL32 put in by `fiptool update --tos-fw --tos-fw-extra1
 * --tos-fw-extra2`, packed as the bios. So every OP-TEE variant of one
 * secure profile (a matrix's CFG_NUM_THREADS cells) shares one TF-A
 * build. Flags that make BL31/BL2 or a certificate depend on BL32's
 * contents (trusted board boot, encrypted BL32) key the build on BL32 too,
 * and its FIP is used as built.
 */
#include "images/kind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "runproc.h"

static const char *const bl32_files[] = {
	"tee-header_v2.bin", "tee-pager_v2.bin", "tee-pageable_v2.bin",
};

struct tfa_job {
	char *bl33;		/* U-Boot, or NULL: boot: direct */
	char *tree, *version;	/* set by tfa_inputs() */
	char *manifest;		/* the SPMC manifest DTS (FF-A), or NULL */
	bool bl32_bound;	/* the build reads BL32 beyond the FIP: tfa_bl32_bound() */
	const char *core, *core_hex;	/* tfa-fip: the "tfa" entry and its key */
};

const struct image_kind tfa_fip_kind;

/*
 * Whether TF-A's make flags @flags (VAR=VALUE strings, not owned) make more
 * than the FIP depend on BL32:
 * trusted board boot (BL2 checks BL32 against a certificate holding its
 * hash: TRUSTED_BOARD_BOOT, GENERATE_COT) or an encrypted BL32
 * (ENCRYPT_BL32, DECRYPTION_SUPPORT); TF-A's docs/getting_started/build-options.rst.
 */
bool tfa_bl32_bound(const struct strvec *flags)
{
	static const char *const vars[] = { "TRUSTED_BOARD_BOOT=", "GENERATE_COT=", "ENCRYPT_BL32=",
					    "DECRYPTION_SUPPORT=" };

	for (size_t i = 0; i < flags->nr; i++) {
		for (size_t k = 0; k < ARRAY_SIZE(vars); k++) {
			size_t n = strlen(vars[k]);
			const char *v = flags->v[i] + n;

			if (!strncmp(flags->v[i], vars[k], n) && strcmp(v, "0") && strcmp(v, "none"))
				return true;
		}
	}
	return false;
}

/*
 * Check the three BL32 files (OP-TEE's v2 header, pager, pageable) exist and
 * add them to @h unless it is NULL. 0 or -errno (reported).
 */
static int hash_bl32(struct build_ctx *b, struct hasher *h)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bl32_files) && !ret; i++) {
		char *f = path_join(b->bl32_dir, bl32_files[i]);

		if (!file_exists(f))
			ret = error_code(-ENOENT, "BL32 file '%s' missing (secure profile '%s')", f,
					 b->cfg->secure.name);
		else if (h)
			ret = hasher_addfile(h, f);
		free(f);
	}
	return ret;
}

/*
 * qemu_fw.bios = bl1.bin, zero-padded to 0x40000, then fip.bin (TF-A
 * plat/qemu layout). 0, -EFBIG if bl1.bin does not fit, or -errno (reported).
 */
static int pack_bios(const char *bl1, const char *fip, const char *out)
{
	char *a = NULL, *f = NULL, *buf = NULL;
	size_t la = 0, lf = 0;
	const size_t fip_off = 0x40000;
	int ret;

	if ((ret = read_file(bl1, &a, &la)) || (ret = read_file(fip, &f, &lf))) {
		ret = error_code(ret, "cannot read '%s' or '%s': %s", bl1, fip, strerror(-ret));
		goto out;
	}
	if (la > fip_off) {
		ret = error_code(-EFBIG, "'%s' is larger than 0x40000 bytes", bl1);
		goto out;
	}
	buf = xcalloc(1, fip_off + lf);
	memcpy(buf, a, la);
	memcpy(buf + fip_off, f, lf);
	ret = write_file(out, buf, fip_off + lf, 0644);
out:
	free(a);
	free(f);
	free(buf);
	return ret;
}

static int tfa_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct tfa_job *t = j->data;
	int ret;

	ret = input_tree(b, "TF-A", s->tfa_kind == SRC_TREE ? s->tfa_tree : NULL, &s->tfa_src,
			 h, &t->tree, &t->version);
	if (ret || (ret = hash_cross_build(b, h, j->kind->recipe, &s->tfa_flags)))
		return ret;
	/* only a bound build is keyed on BL32 (else tfa-fip is) */
	if ((ret = hash_bl32(b, t->bl32_bound ? h : NULL)))
		return ret;
	if (t->bl32_bound)
		hasher_addstr(h, "bl32-bound");
	if (t->bl33 && !file_exists(t->bl33))
		return error_code(-ENOENT, "BL33 '%s' missing (secure profile '%s')", t->bl33, s->name);
	if (s->tfa_spmc_manifest) {
		/* only FF-A profiles have one: SMC-ABI keys stay as they were */
		t->manifest = path_join(b->cfg->datadir, s->tfa_spmc_manifest);
		if (!file_exists(t->manifest))
			return error_code(-ENOENT, "SPMC manifest '%s' missing (secure profile '%s')",
					  t->manifest, s->name);
		if ((ret = hasher_addfile(h, t->manifest)))
			return ret;
	}
	j->label = t->tree;
	if (!t->bl33) {
		/* U-Boot keys stay as they were; a direct-boot key says where the kernel is */
		char *k = xasprintf("bl33=kernel@0x%llx", (unsigned long long)DIRECT_KERNEL_BASE);

		hasher_addstr(h, k);
		free(k);
		return 0;
	}
	return hasher_addfile(h, t->bl33);
}

static int tfa_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct tfa_job *t = j->data;
	struct child c = CHILD_INIT;
	char *bdir = path_join(dir, "build");
	char *bl1 = NULL, *fip = NULL;
	int ret;

	strvec_pushl(&c.argv, "make", "-C", t->tree, NULL);
	strvec_pushf(&c.argv, "-j%d", nproc());
	strvec_push(&c.argv, "CROSS_COMPILE=aarch64-linux-gnu-");
	for (size_t i = 0; i < s->tfa_flags.nr; i++)
		strvec_push(&c.argv, s->tfa_flags.v[i]);
	if (t->manifest)	/* TOS_FW_CONFIG: the SPMD reads the SPMC's attributes there */
		strvec_pushf(&c.argv, "QEMU_TOS_FW_CONFIG_DTS=%s", t->manifest);
	strvec_pushf(&c.argv, "BUILD_BASE=%s", bdir);
	strvec_pushf(&c.argv, "BL32=%s/%s", b->bl32_dir, bl32_files[0]);
	strvec_pushf(&c.argv, "BL32_EXTRA1=%s/%s", b->bl32_dir, bl32_files[1]);
	strvec_pushf(&c.argv, "BL32_EXTRA2=%s/%s", b->bl32_dir, bl32_files[2]);
	if (t->bl33) {
		strvec_pushf(&c.argv, "BL33=%s", t->bl33);
	} else {
		strvec_push(&c.argv, "ARM_LINUX_KERNEL_AS_BL33=1");
		strvec_pushf(&c.argv, "PRELOADED_BL33_BASE=0x%llx", (unsigned long long)DIRECT_KERNEL_BASE);
	}
	strvec_pushl(&c.argv, "all", "fip", NULL);
	c.log_path = log;
	ret = child_run(&c);
	child_release(&c);
	if (ret) {
		ret = error("TF-A build failed; see '%s'", log);
		goto out;
	}
	/* BUILD_BASE/<plat>/<release|debug>/{bl1.bin,fip.bin} */
	{
		const char *sub[] = { "qemu/release", "qemu/debug" };

		for (size_t i = 0; i < ARRAY_SIZE(sub) && !bl1; i++) {
			char *d = path_join(bdir, sub[i]);
			char *x = path_join(d, "bl1.bin");

			if (file_exists(x)) {
				bl1 = x;
				fip = path_join(d, "fip.bin");
			} else {
				free(x);
			}
			free(d);
		}
	}
	if (!bl1 || !file_exists(fip)) {
		ret = error("TF-A build left no bl1.bin/fip.bin under '%s'", bdir);
	} else {
		/* what tfa-fip reads: BL1, the FIP as built, and the fiptool that built it */
		char *tool = path_join(t->tree, "tools/fiptool/fiptool");
		char *o1 = path_join(dir, "bl1.bin"), *o2 = path_join(dir, "fip.bin");
		char *o3 = path_join(dir, "fiptool");

		if (!file_exists(tool))
			ret = error("TF-A build left no '%s'", tool);
		else if (!(ret = copy_path(bl1, o1)) && !(ret = copy_path(fip, o2)))
			ret = copy_path(tool, o3);
		free(tool);
		free(o1);
		free(o2);
		free(o3);
	}
out:
	free(bdir);
	free(bl1);
	free(fip);
	return ret;
}

static int fip_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	struct tfa_job *t = j->data;

	hasher_addstr(h, j->kind->recipe);
	hasher_addstr(h, t->core_hex);	/* the TF-A build's key */
	return hash_bl32(b, h);
}

/* The core's FIP with this BL32 put in, and the bios: BL1 + that FIP. */
static int fip_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log)
{
	struct tfa_job *t = j->data;
	char *src = path_join(t->core, "fip.bin"), *fip = path_join(dir, "fip.bin");
	char *bl1 = path_join(t->core, "bl1.bin"), *bios = path_join(dir, "qemu_fw.bios");
	char *from = path_join(dir, "tfa-build");
	const char *base = strrchr(t->core, '/');
	int ret = copy_path(src, fip);

	/* which TF-A build this FIP came from (tests compare two OP-TEE variants') */
	if (!ret) {
		char *line = xasprintf("%s\n", base ? base + 1 : t->core);

		ret = write_file_str(from, line);
		free(line);
	}
	if (!ret && !t->bl32_bound) {
		struct child c = CHILD_INIT;

		strvec_pushf(&c.argv, "%s/fiptool", t->core);
		strvec_push(&c.argv, "update");
		/* the options TF-A's plat/qemu gives BL32, BL32_EXTRA1, BL32_EXTRA2 */
		strvec_push(&c.argv, "--tos-fw");
		strvec_pushf(&c.argv, "%s/%s", b->bl32_dir, bl32_files[0]);
		strvec_push(&c.argv, "--tos-fw-extra1");
		strvec_pushf(&c.argv, "%s/%s", b->bl32_dir, bl32_files[1]);
		strvec_push(&c.argv, "--tos-fw-extra2");
		strvec_pushf(&c.argv, "%s/%s", b->bl32_dir, bl32_files[2]);
		strvec_push(&c.argv, fip);
		c.log_path = log;
		ret = child_run(&c);
		child_release(&c);
		if (ret)
			ret = error("fiptool update (BL32 into the FIP) failed; see '%s'", log);
	}
	if (!ret)
		ret = pack_bios(bl1, fip, bios);
	free(from);
	free(src);
	free(fip);
	free(bl1);
	free(bios);
	return ret;
}

static int tfa_run(struct build_ctx *b)
{
	const struct secure_cfg *s = &b->cfg->secure;
	struct tfa_job t = { 0 };
	struct image_job j = { .kind = &tfa_kind, .data = &t, .rebuild = s->tfa_kind != SRC_DEBIAN };
	struct image_job f = { .kind = &tfa_fip_kind, .data = &t, .rebuild = j.rebuild };
	char *uboot_root = NULL;
	int ret;

	if (s->tfa_kind == SRC_PREBUILT) {
		if (!file_exists(s->tfa_bios))
			return error_code(-ENOENT, "TF-A image '%s' (secure profile '%s') does not exist",
					  s->tfa_bios, s->name);
		b->out->bios = xstrdup(s->tfa_bios);
		provenance(b, "tfa", "prebuilt %s", s->tfa_bios);
		return 0;
	}
	if (b->cfg->machine.boot == BOOT_DIRECT) {
		provenance(b, "bl33", "none: TF-A enters Linux at 0x%llx (boot: direct)",
			   (unsigned long long)DIRECT_KERNEL_BASE);
	} else if (s->bl33_kind == SRC_DEBIAN) {
		ret = unpacked_deb(b, &s->bl33_deb, &uboot_root, NULL);
		if (ret)
			goto out;
		t.bl33 = path_join(uboot_root, s->bl33_path);
	} else {
		t.bl33 = xstrdup(s->bl33_path);
		provenance(b, "bl33", "prebuilt %s", t.bl33);
	}
	t.bl32_bound = tfa_bl32_bound(&s->tfa_flags);
	if (!(ret = image_make(b, &j))) {
		t.core = j.dir;
		t.core_hex = j.hex;
		ret = image_make(b, &f);
	}
	if (!ret) {
		static const char *const bls[] = { "bl1", "bl2", "bl31" };

		b->out->bios = path_join(f.dir, "qemu_fw.bios");
		for (size_t i = 0; i < ARRAY_SIZE(bls); i++) {
			for (int dbg = 0; dbg < 2; dbg++) {
				char *rel = xasprintf("build/qemu/%s/%s/%s.elf",
						      dbg ? "debug" : "release", bls[i], bls[i]);

				image_symbol(b, bls[i], j.dir, rel);
				free(rel);
			}
		}
		if (t.tree)
			image_symbol(b, "src", t.tree, ".");
	}
out:
	image_job_release(&f);
	image_job_release(&j);
	free(uboot_root);
	free(t.bl33);
	free(t.tree);
	free(t.version);
	free(t.manifest);
	return ret;
}

static const char *const tfa_deps[] = { "optee", NULL };

const struct image_kind tfa_kind = {
	.name = "tfa",
	.title = "TF-A (BL1, BL2, BL31 + FIP)",
	/* tfa-2: not keyed on BL32, which tfa-fip puts in */
	.recipe = "tfa-2",
	.deps = tfa_deps,
	.run = tfa_run,
	.inputs = tfa_inputs,
	.build = tfa_build,
};

/* Run from tfa_run() after tfa_kind, never by the driver: not in image_kinds[]. */
const struct image_kind tfa_fip_kind = {
	.name = "tfa-fip",
	.title = "TF-A FIP with this BL32, and the bios",
	.recipe = "tfa-fip-1",
	.inputs = fip_inputs,
	.build = fip_build,
};
