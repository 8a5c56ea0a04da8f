// SPDX-License-Identifier: MIT
/* main.c - global options, the command table, help, man page and completion */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runproc.h"
#include "step.h"
#include "util.h"

struct config_overrides global_overrides;

static int optee_flag_cb(const struct popt *opt UNUSED, const char *arg)
{
	struct config_overrides *ov = &global_overrides;

	if (ov->nr_optee_flags == ARRAY_SIZE(ov->optee_flags))
		return error_code(-EINVAL, "too many --optee-flag options (at most %zu)",
				  ARRAY_SIZE(ov->optee_flags));
	ov->optee_flags[ov->nr_optee_flags++] = arg;
	return 0;
}

const struct popt lab_options[] = {
	OPT_GROUP("Lab options:"),
	OPT_STRING(0, "profile", &global_overrides.profile, "NAME",
		   "configs/profiles/NAME.yaml (default: default)", "configs/profiles"),
	OPT_STRING(0, "kernel", &global_overrides.kernel, "NAME",
		   "configs/kernels/NAME.yaml instead of the profile's", "configs/kernels"),
	OPT_STRING(0, "secure", &global_overrides.secure, "NAME",
		   "configs/secure/NAME.yaml instead of the profile's", "configs/secure"),
	OPT_STRING(0, "machine", &global_overrides.machine, "NAME",
		   "configs/machines/NAME.yaml instead of the profile's", "configs/machines"),
	OPT_STRING(0, "rootfs", &global_overrides.rootfs, "NAME",
		   "images/rootfs/NAME.yaml instead of the profile's", "images/rootfs"),
	OPT_CALLBACK(0, "optee-flag", NULL, "V=X",
		     "an OP-TEE make variable on top of the secure profile's\n"
		     "(repeatable; e.g. CFG_NUM_THREADS=1)", optee_flag_cb),
	OPT_STRING(0, "cache-dir", &global_overrides.cache_dir, "DIR",
		   "downloads and builds (default $XDG_CACHE_HOME/teelab)", NULL),
	OPT_STRING(0, "runs-dir", &global_overrides.runs_dir, "DIR",
		   "run directories (default ./runs)", NULL),
	OPT_STRING(0, "backend", &global_overrides.backend, "NAME",
		   "qemu (teelab runs QEMU) or libvirt (default: the machine's)",
		   "words:qemu libvirt"),
	OPT_STRING(0, "connect", &global_overrides.connect, "URI",
		   "libvirt URI (implies --backend libvirt; default\n"
		   "qemu:///embed?root=<cache dir>/libvirt/embed-N, no daemon);\n"
		   "qemu:///system, qemu+ssh://host/system, qemu+tcp://host/system",
		   "words:qemu:///system"),
	OPT_STRING(0, "boot", &global_overrides.boot, "HOW",
		   "direct (TF-A enters Linux, the default) or u-boot\n"
		   "(BL33 = U-Boot; default: the machine's boot:)", "words:direct u-boot"),
	OPT_END(),
};

static bool show_version;
static const struct popt global_options[] = {
	OPT_BOOL(0, "version", &show_version, "print the version"),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

static int cmd_help(int argc, char **argv);
static int cmd_complete(int argc, char **argv);

static bool help_man;
static const struct popt help_options[] = {
	{ .type = POPT_BOOL, .long_name = "man", .value = &help_man, .flags = POPT_HIDDEN,
	  .help = "the man page teelab(1) as roff (make man)" },
	OPT_END(),
};
static const struct command command_help = {
	.name = "help", .fn = cmd_help, .summary = "this list, or a command's options and usage",
	.usage = "[<command> | steps]",
	.description = "Without a command: the commands and the global options. With one: the same\n"
		"as `teelab <command> --help`. `teelab help steps`: the scenario step kinds.",
	.options = help_options, .max_args = 1, .complete_args = "commands",
};

static const struct popt no_options[] = { OPT_END() };
static const struct command command_complete = {
	.name = "__complete", .fn = cmd_complete, .usage = "<word>... <current word>",
	.description = "The words bash completion offers for a command line (contrib/completion).",
	.options = no_options, .max_args = 1000, .hidden = true,
};

static const struct command *const commands[] = {
	&command_run, &command_matrix, &command_build, &command_list, &command_shell,
	&command_logs, &command_show, &command_export, &command_import, &command_doctor,
	&command_help, &command_complete,
};

static const char exit_codes_help[] =
	"Exit codes: 0 pass, 1 test failure, 2 timeout, 3 usage or scenario error,\n"
	"4 infrastructure error (fetch, build, QEMU), 5 hang, 6 kernel panic,\n"
	"7 OP-TEE panic, 8 deadlock, 9 kernel bug report (KASAN, oops, WARNING, ...),\n"
	"130 interrupted.\n";

static const struct command *find_command(const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
		if (!strcmp(name, commands[k]->name))
			return commands[k];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: teelab [-v] [-q] [lab options] <command> [options]\n\n"
		"teelab boots TF-A + OP-TEE + Linux under QEMU and runs scenarios against\n"
		"the Linux TEE subsystem, collecting both worlds' logs.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!commands[i]->hidden)
			fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nGlobal options:\n");
	popt_print_help(f, global_options);
	fprintf(f, "\n`teelab help <command>` or `teelab <command> --help`: a command's options;\n"
		"`man teelab` (make man): all of them. --opt=VALUE and --opt VALUE are the same.\n\n%s",
		exit_codes_help);
}

/* "usage: teelab run [options] <scenario>" and the other forms ("\n" in cmd->usage) */
static void print_usage_lines(FILE *f, const struct command *cmd)
{
	const char *u = cmd->usage;

	for (const char *lead = "usage:"; u; lead = "   or:") {
		const char *nl = strchr(u, '\n');

		fprintf(f, "%s teelab %s %.*s\n", lead, cmd->name, nl ? (int)(nl - u) : (int)strlen(u), u);
		u = nl ? nl + 1 : NULL;
	}
}

static void command_usage(FILE *f, const struct command *cmd)
{
	print_usage_lines(f, cmd);
	fprintf(f, "\n%s\n", cmd->description);
	popt_print_help(f, cmd->options);
}

int parse_command(int argc, char **argv, const struct command *cmd)
{
	int n = parse_options(argc, argv, cmd->options, 0);

	if (n == -ECANCELED) {
		command_usage(stdout, cmd);
		exit(0);
	}
	if (n >= 0 && n < cmd->min_args) {
		/* the usage's last <name>: "show: missing <scenario>" */
		const char *nl = strchr(cmd->usage, '\n'), *lt = memrchr(cmd->usage, '<',
			nl ? (size_t)(nl - cmd->usage) : strlen(cmd->usage));

		error("%s: missing %.*s", cmd->name, lt ? (int)strcspn(lt, ">") + 1 : 8,
		      lt ? lt : "argument");
	}
	else if (n > cmd->max_args)
		error("%s: unexpected argument '%s'", cmd->name, argv[cmd->max_args]);
	else if (n >= 0)
		return n;
	print_usage_lines(stderr, cmd);
	fprintf(stderr, "See `teelab help %s`.\n", cmd->name);
	exit(TL_EXIT_USAGE);
}

int scenario_param_cb(const struct popt *opt, const char *arg)
{
	struct scenario_choice *ch = opt->value;

	if (ch->nr_params == ARRAY_SIZE(ch->params))
		return error_code(-EINVAL, "too many --param options (at most %zu)", ARRAY_SIZE(ch->params));
	ch->params[ch->nr_params++] = (char *)arg;
	return 0;
}

void open_scenario(const char *arg, const struct scenario_choice *ch, struct config_overrides *ov,
		   struct scenario *sc)
{
	char *datadir = config_find_datadir();
	char *path = NULL;

	if (!datadir)
		exit(TL_EXIT_USAGE);
	path = scenario_path(datadir, arg);
	if (!file_exists(path))
		die(TL_EXIT_USAGE, "no scenario '%s' (no file '%s'); see `teelab list`", arg, path);
	if (scenario_load(path, sc))
		die(TL_EXIT_USAGE, "scenario '%s' is not valid", path);
	if (scenario_select(sc, ch ? ch->cell : NULL, ch ? ch->params : NULL,
			    ch ? ch->nr_params : 0, ov))
		die(TL_EXIT_USAGE, "scenario '%s': cannot apply the cell or parameters", path);
	if (!ov->profile && sc->profile)
		ov->profile = sc->profile;
	free(path);
	free(datadir);
}


/* A paragraph text as roff: "\n\n" starts a new paragraph. */
static void roff_text(FILE *f, const char *s)
{
	for (const char *p; *s; s = p) {
		char *para;

		p = strstr(s, "\n\n");
		para = xstrndup(s, p ? (size_t)(p - s) : strlen(s));
		roff_escape(f, para);
		fprintf(f, "\n%s", p ? ".PP\n" : "");
		free(para);
		p = p ? p + 2 : s + strlen(s);
	}
}

/* The scenario step kinds, from their table (step.h): `teelab help steps`, the man page. */
static void print_steps(FILE *f, bool roff)
{
	size_t nr;
	const struct step_ops *const *k = step_kinds(&nr);

	if (!roff)
		fprintf(f, "Scenario step kinds (README \"Scenario format\"); every step also takes "
			"name: and xfail:.\n\n");
	for (size_t i = 0; i < nr; i++) {
		struct strbuf keys = STRBUF_INIT;

		for (const char *const *o = k[i]->keys; o && *o; o++)
			strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", *o);
		for (const char *const *a = k[i]->aliases; a && *a; a++)
			strbuf_addf(&keys, "%s(alias: %s)", keys.len ? "; " : "", *a);
		if (roff) {
			fprintf(f, ".TP\n.B %s\n", k[i]->name);
			roff_escape(f, k[i]->summary ? k[i]->summary : "");
			if (keys.len) {
				fprintf(f, " (options: ");
				roff_escape(f, strbuf_str(&keys));
				fprintf(f, ")");
			}
			fprintf(f, "\n");
		} else {
			fprintf(f, "  %-11s %s\n", k[i]->name, k[i]->summary ? k[i]->summary : "");
			if (keys.len)
				fprintf(f, "  %-11s options: %s\n", "", strbuf_str(&keys));
		}
		strbuf_release(&keys);
	}
}

/* teelab(1): every command with its options, from the tables. */
static void print_man(FILE *f)
{
	fprintf(f, ".\\\" generated by `teelab help --man` (make man); do not edit\n"
		".TH TEELAB 1 \"\" \"teelab %s\" \"User Commands\"\n.nh\n"
		".SH NAME\nteelab \\- integration lab for the Linux TEE subsystem and OP\\-TEE under QEMU\n"
		".SH SYNOPSIS\n.B teelab\n[\\-v] [\\-q] [\\fIlab options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] "
		"[\\fIarguments\\fR]\n"
		".SH DESCRIPTION\n", teelab_version());
	roff_text(f, "teelab boots TF-A + OP-TEE + Linux (QEMU aarch64 virt, secure=on) and runs "
		  "scenarios against the Linux TEE subsystem, collecting both worlds' logs into a "
		  "run directory.\n\n"
		  "Every option with a value takes --opt=VALUE and --opt VALUE; -v and -q are "
		  "accepted before and after the command; -- ends the options.");
	fprintf(f, ".SH COMMANDS\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct command *cmd = commands[i];
		const char *u = cmd->usage;

		if (cmd->hidden)
			continue;
		fprintf(f, ".SS %s\n", cmd->name);
		for (const char *nl; u; u = nl ? nl + 1 : NULL) {
			char *line;

			nl = strchr(u, '\n');
			line = xstrndup(u, nl ? (size_t)(nl - u) : strlen(u));
			fprintf(f, ".B teelab %s\n", cmd->name);
			roff_escape(f, line);
			fprintf(f, "\n.br\n");
			free(line);
		}
		fprintf(f, ".PP\n");
		roff_text(f, cmd->description);
		popt_print_roff(f, cmd->options, false);
	}
	fprintf(f, ".SH SCENARIO STEPS\nThe kinds of step a scenario's steps: list may hold; every "
		"step also takes name: and xfail:.\n");
	print_steps(f, true);
	fprintf(f, ".SH GLOBAL OPTIONS\nBefore the command; the lab options are also accepted after it by "
		"every command that boots or reads the configuration.\n");
	popt_print_roff(f, global_options, true);
	fprintf(f, ".SH EXIT STATUS\n");
	roff_text(f, exit_codes_help);
	fprintf(f, ".SH ENVIRONMENT\n");
	roff_text(f, "TEELAB_DATADIR: the data directory (configs/, scenarios/, images/); by default "
		  "the checkout beside the binary, ../share/teelab beside it, or the compiled-in path.\n\n"
		  "TEELAB_CACHE_DIR, XDG_CACHE_HOME: the cache (--cache-dir).\n\n"
		  "TEELAB_RUNS_DIR: the run directories (--runs-dir).");
	fprintf(f, ".SH SEE ALSO\n");
	roff_text(f, "README.md of the teelab sources; `teelab help <command>`; bash completion: "
		  "share/bash-completion/completions/teelab.");
}

static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	argc = parse_command(argc, argv, &command_help);
	if (help_man) {
		print_man(stdout);
		return 0;
	}
	if (!argc) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[0], "steps")) {
		print_steps(stdout, false);
		return 0;
	}
	cmd = find_command(argv[0]);
	if (!cmd || cmd->hidden)
		die(TL_EXIT_USAGE, "'%s' is not a teelab command; see `teelab help`", argv[0]);
	command_usage(stdout, cmd);
	return 0;
}

/* The *.yaml names under @datadir/@sub (or "words:a b") starting with @prefix, after @lead. */
static void complete_values(const char *spec, const char *lead, const char *prefix)
{
	struct strvec names = STRVEC_INIT;
	char *datadir, *dir;

	if (starts_with(spec, "words:")) {
		char *w = xstrdup(spec + 6), *save = NULL;

		for (char *t = strtok_r(w, " ", &save); t; t = strtok_r(NULL, " ", &save))
			strvec_push(&names, t);
		free(w);
	} else if (!strcmp(spec, "commands")) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (!commands[i]->hidden)
				strvec_push(&names, commands[i]->name);
	} else if (!strcmp(spec, "runs")) {
		char *runs = config_runs_dir(&global_overrides);

		strvec_push(&names, "last");
		list_dir(runs, &names);
		free(runs);
	} else if ((datadir = config_find_datadir())) {
		dir = path_join(datadir, !strcmp(spec, "scenarios") ? "scenarios"
				: !strcmp(spec, "matrices") ? "configs/matrix" : spec);
		if (!list_dir(dir, &names)) {
			for (size_t i = 0; i < names.nr; i++) {
				if (ends_with(names.v[i], ".yaml"))
					names.v[i][strlen(names.v[i]) - 5] = '\0';
				else
					names.v[i][0] = '\0';
			}
		}
		free(dir);
		free(datadir);
	}
	strvec_sort(&names);
	for (size_t i = 0; i < names.nr; i++)
		if (names.v[i][0] && names.v[i][0] != '.' && starts_with(names.v[i], prefix))
			printf("%s%s\n", lead, names.v[i]);
	strvec_release(&names);
}

/*
 * `teelab __complete WORD... CUR`: the words after "teelab" on the command
 * line, the last the one being completed (maybe ""); prints the candidates
 * starting with it, one a line (contrib/completion/teelab.bash).
 */
static int cmd_complete(int argc, char **argv)
{
	const struct popt *opts = global_options, *o;
	const struct command *cmd = NULL;
	const char *cur;
	bool has_value;
	int i;

	/* no parse_command(): every word is the user's, options included */
	if (argc < 2)
		return 0;
	cur = argv[argc - 1];
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		o = popt_find(opts, argv[i], &has_value);
		if (o && o->argh && !has_value && argv[i][1] == '-')
			i++;	/* its value */
		else if (o && o->argh && !has_value && !argv[i][2])
			i++;
		else if (!o && argv[i][0] != '-' && !cmd) {
			cmd = find_command(argv[i]);
			if (!cmd)
				return 0;
			opts = cmd->options;
		}
	}
	if (i == argc) {	/* the current word is the value of the option before it */
		o = popt_find(opts, argv[argc - 2], &has_value);
		if (o && o->complete)
			complete_values(o->complete, "", cur);
		return 0;
	}
	if (starts_with(cur, "--") && strchr(cur, '=')) {
		char *lead = xstrndup(cur, strchr(cur, '=') - cur + 1);

		o = popt_find(opts, cur, &has_value);
		if (o && o->complete)
			complete_values(o->complete, lead, cur + strlen(lead));
		free(lead);
	} else if (cur[0] == '-') {
		FILE *mem;
		char *names = NULL, *save = NULL;
		size_t len = 0;

		mem = open_memstream(&names, &len);
		if (!mem)
			return 0;
		popt_print_names(mem, opts);
		fclose(mem);
		for (char *t = strtok_r(names, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
			if (starts_with(t, cur))
				printf("%s\n", t);
		free(names);
	} else if (!cmd) {
		complete_values("commands", "", cur);
	} else if (cmd->complete_args) {
		complete_values(cmd->complete_args, "", cur);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	runproc_setup();
	argc = parse_options(argc, argv, global_options, POPT_STOP_AT_NON_OPTION);
	if (argc == -ECANCELED) {
		usage(stdout);
		return 0;
	}
	if (argc < 0) {
		fprintf(stderr, "usage: teelab [-v] [-q] [lab options] <command> [options]\n"
			"See `teelab help`.\n");
		return TL_EXIT_USAGE;
	}
	if (show_version) {
		printf("teelab %s\n", teelab_version());
		return 0;
	}
	if (!argc) {
		usage(stderr);
		return TL_EXIT_USAGE;
	}
	cmd = find_command(argv[0]);
	if (cmd)
		return cmd->fn(argc, argv);
	fprintf(stderr, "teelab: '%s' is not a teelab command\n", argv[0]);
	usage(stderr);
	return TL_EXIT_USAGE;
}
