// SPDX-License-Identifier: MIT
/* cmd_build.c - `teelab build`: fetch and build the images of a profile */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"

int cmd_build(int argc, char **argv)
{
	struct config_overrides ov = global_overrides;
	struct lab_config cfg;
	struct lab_images im = { 0 };
	struct scenario sc = SCENARIO_INIT;
	struct scenario_choice choice = { 0 };
	const char *scenario = NULL;
	bool refresh = false;
	double t0 = now_mono();
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: teelab build [--refresh] [--scenario NAME [--cell NAME]] "
			       "[lab options]\n\n"
			       "Fetches and builds everything the profile boots, and prints the\n"
			       "paths. A second call reuses the cache and fetches nothing.\n"
			       "--scenario takes the scenario's profile, --cell also its cell's\n"
			       "kernel, secure world and OP-TEE flags.\n\n%s",
			       lab_options_help);
			return 0;
		} else if (!strcmp(argv[i], "--scenario") && i + 1 < argc) {
			scenario = argv[++i];
		} else if (parse_scenario_option(argc, argv, &i, &choice)) {
			continue;
		} else if (!strcmp(argv[i], "--refresh")) {
			refresh = true;
		} else if (!parse_lab_option(argc, argv, &i, &ov)) {
			die(TL_EXIT_USAGE, "unknown argument '%s' (see teelab build --help)", argv[i]);
		}
	}
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
