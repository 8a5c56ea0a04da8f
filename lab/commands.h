/* SPDX-License-Identifier: MIT */
/*
 * commands.h - one entry point per `teelab <command>`, each in its own
 * lab/cmd_<name>.c. main() parses global options and dispatches; only
 * these files may die().
 */
#ifndef TEELAB_COMMANDS_H
#define TEELAB_COMMANDS_H

#include "config.h"

int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_show(int argc, char **argv);

/* Global options given before the command (main.c). */
extern struct config_overrides global_overrides;

/*
 * Parse the options every lab command shares (--profile, --kernel,
 * --secure, --machine, --rootfs, --cache-dir, --runs-dir) at argv[*i];
 * returns true and advances *i if argv[*i] was one of them. An option
 * without its value exits with TL_EXIT_USAGE.
 */
bool parse_lab_option(int argc, char **argv, int *i, struct config_overrides *ov);
extern const char lab_options_help[];

/* Resolve a scenario argument: a path, or <datadir>/scenarios/<name>.yaml. */
char *scenario_path(const char *datadir, const char *arg);

#endif
