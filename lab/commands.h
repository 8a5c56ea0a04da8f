/* SPDX-License-Identifier: MIT */
/*
 * commands.h - one entry point per `teelab <command>`, each in its own
 * lab/cmd_<name>.c. main() parses global options and dispatches; only
 * these files may die().
 */
#ifndef TEELAB_COMMANDS_H
#define TEELAB_COMMANDS_H

#include "config.h"
#include "scenario.h"

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


/* Which cell of a scenario, and parameters from the command line. */
struct scenario_choice {
	const char *cell;	/* --cell NAME, or NULL: the scenario's default-cell */
	char *params[32];	/* --param KEY=VALUE, argv strings */
	size_t nr_params;
};

/*
 * Parse --cell NAME or --param KEY=VALUE at argv[*i] like
 * parse_lab_option(); exits with TL_EXIT_USAGE on a missing value.
 */
bool parse_scenario_option(int argc, char **argv, int *i, struct scenario_choice *ch);

/*
 * Load scenario @arg (a name or a path) into @sc, apply @ch (cell and
 * parameters, see scenario_select()) and take the scenario's profile into
 * @ov unless the command line named one. Exits with TL_EXIT_USAGE on any
 * error (reported with file:line). Caller releases @sc.
 */
void open_scenario(const char *arg, const struct scenario_choice *ch, struct config_overrides *ov,
		   struct scenario *sc);

#endif
