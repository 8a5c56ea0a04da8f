// SPDX-License-Identifier: MIT
/* main.c - global options and the command table */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runproc.h"
#include "util.h"

struct config_overrides global_overrides;

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "build the images if needed, boot the lab and play a scenario" },
	{ "build", cmd_build, "fetch and build the images only" },
	{ "list", cmd_list, "list scenarios, configurations and recent runs" },
	{ "shell", cmd_shell, "boot a lab and use its normal-world shell" },
	{ "logs", cmd_logs, "a run's verdict, steps and log paths" },
	{ "show", cmd_show, "a scenario with its configuration resolved" },
	{ "doctor", cmd_doctor, "check the host's prerequisites and say what to install" },
};

const char lab_options_help[] =
	"Lab options:\n"
	"  --profile NAME     configs/profiles/NAME.yaml (default: default)\n"
	"  --kernel NAME      configs/kernels/NAME.yaml instead of the profile's\n"
	"  --secure NAME      configs/secure/NAME.yaml instead of the profile's\n"
	"  --machine NAME     configs/machines/NAME.yaml instead of the profile's\n"
	"  --rootfs NAME      images/rootfs/NAME.yaml instead of the profile's\n"
	"  --optee-flag V=X   an OP-TEE make variable on top of the secure profile's\n"
	"                     (repeatable; e.g. CFG_NUM_THREADS=1)\n"
	"  --cache-dir DIR    downloads and builds (default $XDG_CACHE_HOME/teelab)\n"
	"  --runs-dir DIR     run directories (default ./runs)\n"
	"  --backend NAME     qemu (teelab runs QEMU) or libvirt (default: the machine's)\n"
	"  --connect URI      libvirt URI (implies --backend libvirt; default\n"
	"                     qemu:///embed?root=<cache dir>/libvirt/embed-N, no daemon);\n"
	"                     qemu:///system, qemu+ssh://host/system, qemu+tcp://host/system\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: teelab [-v] [-q] <command> [options]\n\n"
		"teelab boots TF-A + OP-TEE + Linux under QEMU and runs scenarios against\n"
		"the Linux TEE subsystem, collecting both worlds' logs.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nGlobal options:\n"
		"  -v, --verbose   show build and fetch output\n"
		"  -q, --quiet     only errors and the verdict\n"
		"  --version       print the version\n"
		"  -h, --help      this help; `teelab <command> --help` for a command\n\n"
		"Exit codes: 0 pass, 1 test failure, 2 timeout, 3 usage or scenario error,\n"
		"4 infrastructure error (fetch, build, QEMU), 5 hang, 6 kernel panic,\n"
		"7 OP-TEE panic, 8 deadlock, 130 interrupted.\n");
}

bool parse_lab_option(int argc, char **argv, int *i, struct config_overrides *ov)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "--profile", offsetof(struct config_overrides, profile) },
		{ "--kernel", offsetof(struct config_overrides, kernel) },
		{ "--secure", offsetof(struct config_overrides, secure) },
		{ "--machine", offsetof(struct config_overrides, machine) },
		{ "--rootfs", offsetof(struct config_overrides, rootfs) },
		{ "--cache-dir", offsetof(struct config_overrides, cache_dir) },
		{ "--runs-dir", offsetof(struct config_overrides, runs_dir) },
		{ "--backend", offsetof(struct config_overrides, backend) },
		{ "--connect", offsetof(struct config_overrides, connect) },
	};
	const char *arg = argv[*i];

	if (!strncmp(arg, "--optee-flag", 12) && (arg[12] == '=' || !arg[12])) {
		if (!arg[12] && *i + 1 >= argc)
			die(TL_EXIT_USAGE, "option '--optee-flag' needs a value");
		if (ov->nr_optee_flags == ARRAY_SIZE(ov->optee_flags))
			die(TL_EXIT_USAGE, "too many --optee-flag options");
		ov->optee_flags[ov->nr_optee_flags++] = arg[12] ? arg + 13 : argv[++*i];
		return true;
	}
	for (size_t k = 0; k < ARRAY_SIZE(opts); k++) {
		size_t n = strlen(opts[k].name);
		const char **slot = (const char **)((char *)ov + opts[k].off);

		if (strncmp(arg, opts[k].name, n))
			continue;
		if (arg[n] == '=') {
			*slot = arg + n + 1;
			return true;
		}
		if (arg[n])
			continue;
		if (*i + 1 >= argc)
			die(TL_EXIT_USAGE, "option '%s' needs a value", opts[k].name);
		*slot = argv[++*i];
		return true;
	}
	return false;
}

bool parse_scenario_option(int argc, char **argv, int *i, struct scenario_choice *ch)
{
	bool cell = !strcmp(argv[*i], "--cell");

	if (!cell && strcmp(argv[*i], "--param"))
		return false;
	if (*i + 1 >= argc)
		die(TL_EXIT_USAGE, "option '%s' needs %s", argv[*i], cell ? "a cell name" : "KEY=VALUE");
	if (cell) {
		ch->cell = argv[++*i];
	} else {
		if (ch->nr_params == ARRAY_SIZE(ch->params))
			die(TL_EXIT_USAGE, "too many --param options");
		ch->params[ch->nr_params++] = argv[++*i];
	}
	return true;
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

int main(int argc, char **argv)
{
	int i = 1;

	runproc_setup();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			tl_verbose++;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			tl_quiet = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("teelab %s\n", teelab_version());
			return 0;
		} else if (!parse_lab_option(argc, argv, &i, &global_overrides)) {
			fprintf(stderr, "teelab: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return TL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return TL_EXIT_USAGE;
	}
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(argc - i, argv + i);
	fprintf(stderr, "teelab: '%s' is not a teelab command\n", argv[i]);
	usage(stderr);
	return TL_EXIT_USAGE;
}
