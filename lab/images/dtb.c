// SPDX-License-Identifier: MIT
/*
 * images/dtb.c - the lab's device tree: QEMU's own tree for the exact
 * machine options, dumped with `-machine ...,dumpdtb=FILE` and edited
 * (dtb.h). Keyed by the QEMU version and the dump's argv, which names the
 * content-addressed firmware; virt.dts beside it for people (every run
 * directory gets a copy).
 */
#include "images/kind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dtb.h"
#include "machine.h"
#include "runproc.h"

static int dtb_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h)
{
	const struct machine_cfg *m = &b->cfg->machine;
	struct strvec argv = STRVEC_INIT;
	char *ver = program_version(m->qemu, b->cfg->cache_dir);

	if (!ver)
		return error("cannot run '%s' (package qemu-system-arm)", m->qemu);
	hasher_addstr(h, j->kind->recipe);
	hasher_addstr(h, b->cfg->scmi ? "scmi" : "plain");
	/* the version line (the copyright line after it says nothing more) */
	hasher_addstr(h, ver);
	machine_dtb_argv(m, b->out->bios, "", &argv);
	for (size_t i = 0; i < argv.nr; i++)
		hasher_addstr(h, argv.v[i]);
	strvec_release(&argv);
	free(ver);
	return 0;
}

/* QEMU's dumped tree, edited, as @dir/virt.dtb. 0 or -errno (reported). */
static int dtb_make(struct build_ctx *b, struct image_job *j UNUSED, const char *dir,
		    const char *log)
{
	struct child c = CHILD_INIT;
	char *raw = path_join(dir, "qemu-dump.dtb"), *out = path_join(dir, "virt.dtb");
	char *dts = path_join(dir, "virt.dts"), *blob = NULL;
	const char *dargv[] = { "dtc", "-q", "-I", "dtb", "-O", "dts", "-o", dts, out, NULL };
	size_t len = 0;
	int ret;

	machine_dtb_argv(&b->cfg->machine, b->out->bios, raw, &c.argv);
	c.log_path = log;
	if ((ret = child_run(&c))) {
		ret = error("QEMU could not dump its device tree (see '%s')", log);
		goto out;
	}
	if ((ret = read_file(raw, &blob, &len))) {
		ret = error_code(ret, "QEMU wrote no device tree to '%s': %s", raw, strerror(-ret));
		goto out;
	}
	if ((ret = dtb_edit(&blob, &len)) || (b->cfg->scmi && (ret = dtb_add_scmi(&blob, &len))) ||
	    (ret = write_file(out, blob, len, 0644)))
		goto out;
	/* the same tree as source, for people */
	if (run_capture(dargv, NULL, NULL))
		warning("dtc could not decompile '%s' (package device-tree-compiler)", out);
out:
	child_release(&c);
	free(raw);
	free(out);
	free(dts);
	free(blob);
	return ret;
}

static int dtb_run(struct build_ctx *b)
{
	struct image_job j = { .kind = &dtb_kind, .label = b->cfg->machine.name };
	int ret = image_make(b, &j);

	if (!ret)
		b->out->dtb = path_join(j.dir, "virt.dtb");
	image_job_release(&j);
	return ret;
}

static const char *const dtb_deps[] = { "tfa", NULL };

const struct image_kind dtb_kind = {
	.name = "dtb",
	.title = "device tree",
	.recipe = "dtb-5",
	.deps = dtb_deps,
	.log_name = "dumpdtb.log",
	.run = dtb_run,
	.inputs = dtb_inputs,
	.build = dtb_make,
};
