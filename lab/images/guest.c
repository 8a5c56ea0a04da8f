// SPDX-License-Identifier: MIT
/*
 * images/guest.c - teelab's guest programs (the profile's `guest:`),
 * cross-compiled against libteec from the guest sysroot; installed in
 * /usr/bin. And the rootfs recipe's /init program (`init:`), built the
 * same way and installed as /init.
 */
#include "images/kind.h"

/* What every lab guest program may include (datadir-relative) */
#define GUEST_COMMON_DIR "images/guest/common"

static int guest_run(struct build_ctx *b)
{
	const struct lab_config *cfg = b->cfg;
	struct strvec vars = STRVEC_INIT, also = STRVEC_INIT;
	int ret;

	strvec_push(&vars, "CC=aarch64-linux-gnu-gcc");
	strvec_pushf(&vars, "TEEC_SYSROOT=%s", b->sysroot);
	/* guest programs include their TAs' headers and images/guest/common */
	for (size_t i = 0; i < cfg->tas.nr; i++)
		strvec_push(&also, cfg->tas.v[i]);
	strvec_push(&also, GUEST_COMMON_DIR);
	ret = labprog_run_all(b, &guest_kind, &cfg->guest, &also, &vars, NULL, "usr/bin");
	if (!ret && cfg->rootfs.init) {
		/* the rootfs recipe's /init (images/rootfs/init): built like a guest program */
		struct strvec init = STRVEC_INIT;

		strvec_push(&init, cfg->rootfs.init);
		ret = labprog_run_all(b, &guest_kind, &init, NULL, &vars, NULL, ".");
		strvec_release(&init);
	}
	if (!ret && (cfg->tas.nr || cfg->guest.nr))
		provenance(b, "lab-programs", "%zu TA(s), %zu guest program(s)", cfg->tas.nr,
			   cfg->guest.nr);
	strvec_release(&vars);
	strvec_release(&also);
	return ret;
}

/* ta: the programs' keys enter the initramfs key TAs first */
static const char *const guest_deps[] = { "sysroot", "ta", NULL };

const struct image_kind guest_kind = {
	.name = "guest",
	.title = "guest program",
	.recipe = "labprog-1",
	.deps = guest_deps,
	.run = guest_run,
	.inputs = labprog_inputs,
	.build = labprog_build,
};
