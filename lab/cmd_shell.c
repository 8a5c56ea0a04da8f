// SPDX-License-Identifier: MIT
/* cmd_shell.c - `teelab shell`: boot a lab and hand over its serial console */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "run.h"

static bool shell_gdb, shell_gdb_wait;

static const struct popt shell_options[] = {
	OPT_GROUP("Shell options:"),
	OPT_BOOL(0, "gdb", &shell_gdb, "QEMU's gdbstub on a free 127.0.0.1 port and a gdb script\n"
		 "with every symbol file of the lab (the run dir's gdb/teelab.gdb)"),
	OPT_BOOL(0, "gdb-wait", &shell_gdb_wait, "--gdb, and start the machine halted (gdb's\n"
		 "`continue` starts it)"),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_shell = {
	.name = "shell", .fn = cmd_shell, .summary = "boot a lab and use its normal-world shell",
	.usage = "[--gdb | --gdb-wait] [lab options]",
	.description =
		"Builds what is not cached, boots the lab and connects this terminal\n"
		"to the normal world's serial console (Ctrl-] leaves; the machine is\n"
		"then powered off). The secure world's console is logged to the run\n"
		"directory (tail -f it from another terminal), and the SSH command\n"
		"line for the guest is printed once it is up.",
	.options = shell_options,
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
	opt.gdb = shell_gdb || shell_gdb_wait;
	opt.gdb_wait = shell_gdb_wait;
	cfg.debug_symbols = opt.gdb;
	if (opt.gdb && cfg.machine.backend && strcmp(cfg.machine.backend, "qemu"))
		die(TL_EXIT_USAGE, "--gdb needs the qemu backend (machine '%s' uses %s)",
		    cfg.machine.name, cfg.machine.backend);
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
