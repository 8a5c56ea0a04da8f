/* SPDX-License-Identifier: MIT */
/*
 * commands.h - one entry point per `teelab <command>`, each in its own
 * lab/cmd_<name>.c. main() parses global options and dispatches; only
 * these files may die(). Options are declared in tables (parse_options.h).
 */
#ifndef TEELAB_COMMANDS_H
#define TEELAB_COMMANDS_H

#include "config.h"
#include "parse_options.h"
#include "scenario.h"

int cmd_run(int argc, char **argv);
int cmd_matrix(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/*
 * A `teelab <name>`: its entry point and everything --help, `teelab help`,
 * the man page and bash completion say about it, from one place. Each
 * lab/cmd_<name>.c defines its command_<name>; main.c lists them.
 */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;		/* one line for `teelab help` */
	const char *usage;		/* after "teelab <name> " ("[options] <scenario>"); \n: another form */
	const char *description;	/* paragraphs for --help and the man page */
	const struct popt *options;	/* its option table (values in the cmd file's statics) */
	int min_args, max_args;		/* arguments besides the options */
	/* what an argument completes to: "scenarios", "matrices", "runs", "commands" or NULL */
	const char *complete_args;
	bool hidden;			/* not in `teelab help` or the man page */
};

extern const struct command command_run, command_matrix, command_build, command_list,
	command_shell, command_logs, command_show, command_doctor, command_export, command_import;

/*
 * Parse a command's options (parse_options() with cmd->options; argv[0] is
 * the command's name) and return how many arguments are left in
 * argv[0..n). -h/--help prints the command's help and exits 0; a bad
 * option, or fewer than min_args or more than max_args arguments, prints
 * the error with the usage and exits TL_EXIT_USAGE. main.c.
 */
int parse_command(int argc, char **argv, const struct command *cmd);

/*
 * The options every lab command shares (--profile, --kernel, --secure,
 * --machine, --rootfs, --optee-flag, --cache-dir, --runs-dir, --backend,
 * --connect), also accepted before the command's name. They store into
 * global_overrides: a command copies it after parse_command().
 */
extern const struct popt lab_options[];
extern struct config_overrides global_overrides;

/* Which cell of a scenario, and parameters from the command line. */
struct scenario_choice {
	const char *cell;	/* --cell NAME, or NULL: the scenario's default-cell */
	char *params[32];	/* --param KEY=VALUE, argv strings */
	size_t nr_params;
};

/*
 * --cell NAME and --param KEY=VALUE (repeatable) into @ch (a static of the
 * command: the table points at it).
 */
#define OPT_SCENARIO_CHOICE(ch) \
	OPT_STRING(0, "cell", &(ch)->cell, "NAME", \
		   "one cell of the scenario's cells: (kernel, OP-TEE flags,\n" \
		   "params, expected verdict); default: its default-cell", NULL), \
	OPT_CALLBACK(0, "param", (ch), "KEY=VALUE", \
		     "set a scenario parameter, ${KEY} in its commands (repeatable)", \
		     scenario_param_cb)
int scenario_param_cb(const struct popt *opt, const char *arg);

/*
 * Load scenario @arg (a name or a path) into @sc, apply @ch (cell and
 * parameters, see scenario_select()) and take the scenario's profile into
 * @ov unless the command line named one. Exits with TL_EXIT_USAGE on any
 * error (reported with file:line). Caller releases @sc.
 */
void open_scenario(const char *arg, const struct scenario_choice *ch, struct config_overrides *ov,
		   struct scenario *sc);

#endif
