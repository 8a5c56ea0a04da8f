// SPDX-License-Identifier: MIT
/* cmd_build.c - `teelab build`: fetch and build the images of a profile */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"

static const char *build_scenario;
static struct scenario_choice build_choice;
static bool build_refresh;

static const struct popt build_options[] = {
	OPT_GROUP("Build options:"),
	OPT_BOOL(0, "refresh", &build_refresh, "update the package lists before resolving packages"),
	OPT_STRING(0, "scenario", &build_scenario, "NAME",
		   "the images this scenario boots (its profile)", "scenarios"),
	OPT_SCENARIO_CHOICE(&build_choice),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_build = {
	.name = "build", .fn = cmd_build, .summary = "fetch and build the images only",
	.usage = "[--refresh] [--scenario NAME [--cell NAME] [--param K=V]] [lab options]",
	.description =
		"Fetches and builds everything the profile boots, and prints the\n"
		"paths. A second call reuses the cache and fetches nothing.\n"
		"--scenario takes the scenario's profile, --cell also its cell's\n"
		"kernel, secure world and OP-TEE flags.",
	.options = build_options,
};

int cmd_build(int argc, char **argv)
{
	struct config_overrides ov;
	struct lab_config cfg;
	struct lab_images im = { 0 };
	struct scenario sc = SCENARIO_INIT;
	struct scenario_choice choice = { 0 };
	const char *scenario = NULL;
	bool refresh = false;
	double t0 = now_mono();
	int ret;

	parse_command(argc, argv, &command_build);
	ov = global_overrides;
	scenario = build_scenario;
	choice = build_choice;
	refresh = build_refresh;
	if ((choice.cell || choice.nr_params) && !scenario)
		die(TL_EXIT_USAGE, "--cell and --param need --scenario");
	if (scenario)
		open_scenario(scenario, &choice, &ov, &sc);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	images_show_cached = true;
	ret = images_build_scenario(&cfg, &ov, &sc, refresh, &im);
	if (!ret) {
		printf("bios    %s\nkernel  %s\ninitrd  %s\ndtb     %s\n", im.bios, im.kernel,
		       im.initrd, im.dtb);
		for (size_t i = 0; i < im.provenance.nr; i++)
			printf("  %s\n", im.provenance.v[i]);
		info("images ready in %.1f s (%d built, %d downloaded)", now_mono() - t0,
		     im.builds, im.downloads);
	}
	lab_images_release(&im);
	config_release(&cfg);
	scenario_release(&sc);
	return ret ? TL_EXIT_INFRA : TL_EXIT_PASS;
}
