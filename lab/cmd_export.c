// SPDX-License-Identifier: MIT
/* cmd_export.c - `teelab export lava <scenario>`: the scenario as a LAVA job */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "lava.h"
#include "run.h"

static struct scenario_choice export_choice;
static const char *export_out, *export_base_url, *export_submit;
static bool export_lossy, export_check;

static const struct popt export_options[] = {
	OPT_GROUP("Export options:"),
	OPT_STRING(0, "out", &export_out, "DIR",
		   "where to write the job (default: lava-export/<scenario>[.<cell>])", NULL),
	OPT_STRING(0, "image-base-url", &export_base_url, "URL",
		   "the images' URLs: URL/<file> (a lab's artifact server)\n"
		   "instead of file:// URLs of DIR/images", NULL),
	OPT_BOOL(0, "lossy", &export_lossy,
		 "drop the steps LAVA cannot carry (listed in the job's\n"
		 "description) instead of refusing"),
	OPT_STRING(0, "submit", &export_submit, "IDENTITY",
		   "submit the job with `lavacli -i IDENTITY`, wait for it and\n"
		   "import its result into a run directory", NULL),
	OPT_BOOL(0, "check", &export_check,
		 "only say whether the scenario exports (exit 0, or 3 with\n"
		 "the steps LAVA cannot carry); nothing is built or written"),
	OPT_SCENARIO_CHOICE(&export_choice),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_export = {
	.name = "export", .fn = cmd_export,
	.summary = "write a scenario as a LAVA job (images, job.yaml, device files)",
	.usage = "lava [options] <scenario>",
	.description =
		"Builds the scenario's images (as `teelab build`) and writes DIR/job.yaml\n"
		"(a LAVA job for the qemu device type), DIR/images/ (with sha256),\n"
		"DIR/device.yaml and DIR/dispatcher.yaml (for `lava-run` on this\n"
		"machine), DIR/device-dictionary.jinja2 (for a lab's qemu device) and\n"
		"DIR/mapping.json (which step became which LAVA action and test case).\n"
		"A step with no faithful LAVA form makes it refuse, with file:line and\n"
		"why (README \"LAVA\"). Run the job here with:\n"
		"  lava-run --device DIR/device.yaml --dispatcher DIR/dispatcher.yaml \\\n"
		"    --output-dir DIR/output --job-id 1 DIR/job.yaml 2> DIR/output/job.log\n"
		"and bring its result back with `teelab import lava DIR/output`.",
	.options = export_options, .min_args = 2, .max_args = 2, .complete_args = "scenarios",
};

/* --submit: the job on a LAVA lab, its log into OUT/output/job.log, imported */
static int submit(const char *identity, const char *out, const struct scenario *sc,
		  const struct lab_config *cfg)
{
	char *odir = path_join(out, "output"), *log = path_join(odir, "job.log");
	char *mapping = path_join(out, "mapping.json"), *id = NULL;
	int ret = mkdir_p(odir, 0755) ? error_errno("cannot create '%s'", odir) : 0;

	/* LAVA's own deadline is the job's timeout; lavacli waits a little longer */
	if (!ret)
		ret = lava_submit_job(identity, out, sc->run_timeout + 300, &id);
	if (id && !lava_fetch_log(identity, id, log)) {
		char *job = xasprintf("%s job %s", identity, id);

		ret = lava_import_run(log, mapping, NULL, cfg->runs_dir, job);
		free(job);
	} else {
		ret = TL_EXIT_INFRA;
	}
	free(id);
	free(mapping);
	free(log);
	free(odir);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	struct config_overrides ov;
	struct lab_config cfg;
	struct lab_images im = { 0 };
	struct scenario sc = SCENARIO_INIT;
	struct scenario_choice choice;
	struct lava_export_options o = { 0 };
	struct strbuf cmdline = STRBUF_INIT;
	struct lava_plan plan;
	char *out;
	int ret;

	parse_command(argc, argv, &command_export);
	if (strcmp(argv[0], "lava"))
		die(TL_EXIT_USAGE, "export: unknown format '%s' (the one there is: lava)", argv[0]);
	ov = global_overrides;
	/*
	 * LAVA's qemu device boots with -kernel/-initrd/-append from its
	 * deploy step: BL33 must be U-Boot, which takes them from fw_cfg.
	 */
	if (ov.boot && strcmp(ov.boot, "u-boot"))
		die(TL_EXIT_USAGE, "export lava: LAVA's qemu device gives the kernel with -kernel, "
		    "so exported jobs boot through U-Boot (--boot u-boot), not --boot %s", ov.boot);
	ov.boot = "u-boot";
	choice = export_choice;
	open_scenario(argv[1], &choice, &ov, &sc);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	/* refused steps are said before anything builds */
	if (lava_plan(&sc, export_lossy, &plan))
		die(TL_EXIT_USAGE, "%s: not exported (--lossy drops what LAVA cannot carry)",
		    sc.name);
	lava_plan_release(&plan);
	if (export_check) {
		scenario_release(&sc);
		config_release(&cfg);
		return TL_EXIT_PASS;
	}
	if (export_out)
		out = xstrdup(export_out);
	else
		out = xasprintf("lava-export/%s%s%s", sc.name, sc.cell ? "." : "",
				sc.cell ? sc.cell->name : "");
	if (images_build_scenario(&cfg, &ov, &sc, false, &im))
		die(TL_EXIT_INFRA, "building the images failed");
	kernel_cmdline(&cfg, &sc, &cmdline);
	o.out_dir = out;
	o.image_base_url = export_base_url;
	o.lossy = export_lossy;
	o.kernel_cmdline = strbuf_str(&cmdline);
	ret = lava_export(&cfg, &sc, &im, &o);
	if (!ret) {
		info("LAVA job written to %s/job.yaml", out);
		printf("%s\n", out);
	}
	if (ret)
		ret = ret == -EINVAL ? TL_EXIT_USAGE : TL_EXIT_INFRA;
	else if (export_submit)
		ret = submit(export_submit, out, &sc, &cfg);
	strbuf_release(&cmdline);
	lab_images_release(&im);
	config_release(&cfg);
	scenario_release(&sc);
	free(out);
	return ret;
}
