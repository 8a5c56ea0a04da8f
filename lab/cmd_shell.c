// SPDX-License-Identifier: MIT
/* cmd_shell.c - `teelab shell`: boot a lab and hand over its serial console */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "run.h"

const struct command command_shell = {
	.name = "shell", .fn = cmd_shell, .summary = "boot a lab and use its normal-world shell",
	.usage = "[lab options]",
	.description =
		"Builds what is not cached, boots the lab and connects this terminal\n"
		"to the normal world's serial console (Ctrl-] leaves; the machine is\n"
		"then powered off). The secure world's console is logged to the run\n"
		"directory (tail -f it from another terminal), and the SSH command\n"
		"line for the guest is printed once it is up.",
	.options = lab_options,
};

int cmd_shell(int argc, char **argv)
{
	struct config_overrides ov;
	struct run_options opt = { 0 };
	struct lab_config cfg;
	struct lab_images im = { 0 };
	char *dir = NULL;
	int ret;

	parse_command(argc, argv, &command_shell);
	ov = global_overrides;
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
