// SPDX-License-Identifier: MIT
/* cmd_run.c - `teelab run <scenario>`: build, boot, play, write the run dir */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "images.h"
#include "run.h"
#include "runproc.h"
#include "scenario.h"

static struct run_options run_opt;
static struct scenario_choice run_choice;
static bool run_refresh;
static const char *run_matrix;	/* never set here: `run --matrix` goes to cmd_matrix() */

static const struct popt run_options[] = {
	OPT_GROUP("Run options:"),
	OPT_SECONDS("boot-timeout", &run_opt.boot_timeout,
		    "seconds for the boot step (default: the scenario's)"),
	OPT_SECONDS("step-timeout", &run_opt.step_timeout,
		    "seconds for each other step (default: the scenario's)"),
	OPT_SECONDS("timeout", &run_opt.run_timeout,
		    "seconds for the whole run (default: the scenario's)"),
	OPT_SECONDS("hang-window", &run_opt.hang_window,
		    "seconds without progress before HANG (default: the scenario's)"),
	OPT_BOOL(0, "cold", &run_opt.cold, "boot from power-on even if a snapshot of the lab exists"),
	OPT_BOOL(0, "warm", &run_opt.warm, "start from a snapshot of the booted lab even where the\n"
		 "rule would boot cold (the first run makes it)"),
	OPT_BOOL(0, "gdb", &run_opt.gdb, "QEMU's gdbstub on a free 127.0.0.1 port and a gdb script\n"
		 "with every symbol file of the lab (the run dir's gdb/teelab.gdb);\n"
		 "no timeouts, hangs or stalls while a debugger may stop the machine"),
	OPT_BOOL(0, "gdb-wait", &run_opt.gdb_wait, "--gdb, and start the machine halted (gdb's\n"
		 "`continue` starts it)"),
	OPT_SCENARIO_CHOICE(&run_choice),
	OPT_BOOL(0, "refresh", &run_refresh, "update the package lists before resolving packages"),
	OPT_STRING(0, "matrix", &run_matrix, "NAME|FILE",
		   "run a matrix instead: the same as `teelab matrix NAME|FILE`\n"
		   "(its options: `teelab help matrix`)", "configs/matrix"),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_run = {
	.name = "run", .fn = cmd_run,
	.summary = "build the images if needed, boot the lab and play a scenario",
	.usage = "[options] <scenario>\n--matrix <name|file> [matrix options]",
	.description =
		"<scenario> is a name from scenarios/ (see `teelab list`) or a path to a\n"
		"scenario file. Builds what is not cached, boots the lab, plays the steps\n"
		"and writes runs/<time>-<scenario>/ (consoles, result.json, junit.xml,\n"
		"results.tap). The verdict is printed last and is the exit code.",
	.options = run_options, .min_args = 1, .max_args = 1, .complete_args = "scenarios",
};

/* `run --matrix X` (or --matrix=X) before any `--`: a matrix run */
static bool wants_matrix(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--matrix") || starts_with(argv[i], "--matrix="))
			return true;
	return false;
}

int cmd_run(int argc, char **argv)
{
	struct config_overrides ov = global_overrides;
	struct run_options opt = { 0 };
	struct scenario sc = SCENARIO_INIT;
	struct lab_config cfg;
	struct lab_images im = { 0 };
	struct run_result res = RUN_RESULT_INIT;
	struct scenario_choice choice = { 0 };
	const char *arg = NULL;
	char *dir = NULL, *base;
	char started[32];
	bool refresh = false;
	int ret;

	if (wants_matrix(argc, argv))
		return cmd_matrix(argc, argv);
	argc = parse_command(argc, argv, &command_run);
	arg = argv[0];
	ov = global_overrides;
	opt = run_opt;
	choice = run_choice;
	refresh = run_refresh;

	if (opt.cold && opt.warm)
		die(TL_EXIT_USAGE, "--cold and --warm: choose one");
	opt.gdb |= opt.gdb_wait;
	if (opt.gdb && opt.warm)
		die(TL_EXIT_USAGE, "--gdb boots cold (the debugger attaches from power-on): drop --warm");
	/* 1. everything the user wrote is validated before anything starts */
	open_scenario(arg, &choice, &ov, &sc);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid (profile '%s')",
		    ov.profile ? ov.profile : "default");
	cfg.debug_symbols = opt.gdb;
	if (opt.gdb && cfg.machine.backend && strcmp(cfg.machine.backend, "qemu"))
		die(TL_EXIT_USAGE, "--gdb needs the qemu backend (machine '%s' uses %s)",
		    cfg.machine.name, cfg.machine.backend);
	if (cfg.secure.ffa && scenario_has_kexec(&sc))
		/* a known limitation, said before anything builds rather than a hang */
		die(TL_EXIT_USAGE, "%s kexecs, and secure profile '%s' is FF-A: OP-TEE 4.10 as "
		    "the S-EL1 SPMC does not answer the SPMD's PSCI CPU_OFF framework message "
		    "(TF-A: \"spmd_cpu_off_handler invalid SPMC response\"), so the secondary CPUs "
		    "cannot go down for kexec or kdump; use an SMC-ABI profile", sc.name,
		    cfg.secure.name);

	/* 2. the run directory exists from here on, whatever happens */
	dir = run_dir_create(cfg.runs_dir, sc.name);
	if (!dir)
		die(TL_EXIT_INFRA, "cannot create a run directory under '%s'", cfg.runs_dir);
	{
		/* what teelab itself reports (errors behind a step's message) */
		char *log = path_join(dir, "teelab.log");

		log_mirror_open(log);
		free(log);
	}
	base = strrchr(dir, '/');
	iso_time_now(started, sizeof(started));
	res.scenario = xstrdup(sc.name);
	res.run_id = xstrdup(base ? base + 1 : dir);
	res.started = xstrdup(started);
	res.expected = xstrdup(scenario_expected(&sc));
	if (sc.cell)
		run_result_env(&res, "cell", sc.cell->name);
	info("run: %s%s%s (profile %s) -> %s", sc.name, sc.cell ? ", cell " : "",
	     sc.cell ? sc.cell->name : "", cfg.profile, dir);

	/* 3. images */
	{
		double t0 = now_mono();

		ret = images_build_scenario(&cfg, &ov, &sc, refresh, &im);
		if (!ret)
			info("images ready in %.1f s (%d built, %d downloaded)", now_mono() - t0,
			     im.builds, im.downloads);
	}
	if (ret || runproc_interrupted()) {
		/* no machine: still a complete run directory with a verdict */
		char *p;

		for (const char *const *f = (const char *const[]){ "nw-console.log",
				"sw-console.log", NULL }; *f; f++) {
			p = path_join(dir, *f);
			write_file_str(p, "");
			free(p);
		}
		lab_images_to_result(&im, &res);
		res.verdict = runproc_interrupted() ? V_INTERRUPTED : V_INFRA;
		res.reason = xstrdup(runproc_interrupted() ? "interrupted while building the images"
				     : "building the images failed (see teelab.log)");
		for (size_t i = 0; i < sc.nr_steps; i++)
			run_result_add(&res, "steps", sc.steps[i].name, V_NOTRUN, 0,
				       "images not available", NULL);
		ret = run_finish(&res, dir);
		goto out;
	}

	/* 4. boot and play */
	opt.run_dir = dir;
	ret = run_scenario(&cfg, &im, &sc, &opt, &res);
out:
	report_line("teelab: %s %s%s%s (%.1f s) - %s", sc.name, verdict_name(res.verdict),
		 res.reason ? ": " : "", res.reason ? res.reason : "", res.duration, dir);
	log_mirror_close();
	printf("%s\n", verdict_name(res.verdict));
	run_result_release(&res);
	lab_images_release(&im);
	config_release(&cfg);
	scenario_release(&sc);
	free(dir);
	return ret;
}
