// SPDX-License-Identifier: MIT
/*
 * images/ta.c - teelab's Trusted Applications (the profile's `tas:`),
 * built with the TA dev kit of the OP-TEE teelab built (or Debian's
 * optee-os-dev of the same version, the secure profile's ta-dev-kit:) and
 * signed with the key that OP-TEE trusts; installed as /usr/lib/optee_armtz/<uuid>.ta.
 */
#include "images/kind.h"

#include <errno.h>

/* What every lab TA includes (datadir-relative) */
#define TA_COMMON_DIR "images/ta/common"

static int ta_run(struct build_ctx *b)
{
	const struct lab_config *cfg = b->cfg;
	struct strvec vars = STRVEC_INIT, also = STRVEC_INIT;
	int ret;

	if (!cfg->tas.nr)
		return 0;
	if (!b->out->ta_devkit)
		return error_code(-EINVAL, "profile '%s' builds TAs (tas:) but secure profile '%s' uses a "
				  "prebuilt OP-TEE: lab TAs need the TA dev kit of an OP-TEE teelab "
				  "builds (optee: source: or tree:)", cfg->profile, cfg->secure.name);
	strvec_push(&vars, "CROSS_COMPILE=aarch64-linux-gnu-");
	strvec_push(&vars, "PYTHON3=/usr/bin/python3");
	strvec_pushf(&vars, "TA_DEV_KIT_DIR=%s", b->out->ta_devkit);
	if (b->ta_sign_key)
		strvec_pushf(&vars, "TA_SIGN_KEY=%s", b->ta_sign_key);
	/*
	 * The TAs' log level as the secure profile sets it: the dev kit's
	 * conf.mk only defaults it (?=), so Debian's dev kit (ta-dev-kit:)
	 * and OP-TEE's own export give the same TAs
	 */
	for (size_t i = 0; i < cfg->secure.optee_flags.nr; i++)
		if (starts_with(cfg->secure.optee_flags.v[i], "CFG_TEE_TA_LOG_LEVEL="))
			strvec_push(&vars, cfg->secure.optee_flags.v[i]);
	/* TAs include images/ta/common (tl_ta.h) */
	strvec_push(&also, TA_COMMON_DIR);
	ret = labprog_run_all(b, &ta_kind, &cfg->tas, &also, &vars, ".ta", "usr/lib/optee_armtz");
	strvec_release(&vars);
	strvec_release(&also);
	return ret;
}

static const char *const ta_deps[] = { "optee", NULL };

const struct image_kind ta_kind = {
	.name = "ta",
	.title = "TA",
	.recipe = "labprog-1",
	.deps = ta_deps,
	.run = ta_run,
	.inputs = labprog_inputs,
	.build = labprog_build,
};
