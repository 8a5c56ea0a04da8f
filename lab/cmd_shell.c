// SPDX-License-Identifier: MIT
/* cmd_shell.c - `teelab shell`: boot a lab and hand over its serial console */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "run.h"

int cmd_shell(int argc, char **argv)
{
	struct config_overrides ov = global_overrides;
	struct run_options opt = { 0 };
	struct lab_config cfg;
	struct lab_images im = { 0 };
	char *dir = NULL;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: teelab shell [lab options]\n\n"
			       "Builds what is not cached, boots the lab and connects this terminal\n"
			       "to the normal world's serial console (Ctrl-] leaves; the machine is\n"
			       "then powered off). The secure world's console is logged to the run\n"
			       "directory (tail -f it from another terminal), and the SSH command\n"
			       "line for the guest is printed once it is up.\n\n%s", lab_options_help);
			return 0;
		}
		if (!parse_lab_option(argc, argv, &i, &ov))
			die(TL_EXIT_USAGE, "unknown argument '%s' (see teelab shell --help)", argv[i]);
	}
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	ret = images_build(&cfg, false, &im);
	if (ret) {
		ret = TL_EXIT_INFRA;
		goto out;
	}
	dir = run_dir_create(cfg.runs_dir, "shell");
	if (!dir) {
		ret = TL_EXIT_INFRA;
		goto out;
	}
	opt.run_dir = dir;
	ret = run_shell(&cfg, &im, &opt);
out:
	free(dir);
	lab_images_release(&im);
	config_release(&cfg);
	return ret;
}
