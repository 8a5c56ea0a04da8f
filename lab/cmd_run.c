// SPDX-License-Identifier: MIT
/* cmd_run.c - `teelab run <scenario>`: build, boot, play, write the run dir */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "matrix.h"
#include "images.h"
#include "run.h"
#include "runproc.h"
#include "scenario.h"

static void run_usage(FILE *f)
{
	fprintf(f, "usage: teelab run [options] <scenario>\n\n"
		"<scenario> is a name from scenarios/ (see `teelab list`) or a path to a\n"
		"scenario file. Builds what is not cached, boots the lab, plays the steps\n"
		"and writes runs/<time>-<scenario>/ (consoles, result.json, junit.xml,\n"
		"results.tap). The verdict is printed last and is the exit code.\n\n"
		"Run options:\n"
		"  --boot-timeout S   seconds for the boot step (default: the scenario's)\n"
		"  --step-timeout S   seconds for each other step (default: the scenario's)\n"
		"  --timeout S        seconds for the whole run (default: the scenario's)\n"
		"  --hang-window S    seconds without progress before HANG (default: the scenario's)\n"
		"  --cell NAME        one cell of the scenario's cells: (kernel, OP-TEE flags,\n"
		"                     params, expected verdict); default: its default-cell\n"
		"  --param KEY=VALUE  set a scenario parameter, ${KEY} in its commands (repeatable)\n"
		"  --refresh          update the package lists before resolving packages\n\n%s",
		lab_options_help);
}

static double seconds_arg(const char *opt, const char *v)
{
	char *end = NULL;
	double d = v ? strtod(v, &end) : 0;

	if (!v || end == v || *end || d <= 0)
		die(TL_EXIT_USAGE, "option '%s' needs a number of seconds > 0", opt);
	return d;
}

static void matrix_usage(FILE *f)
{
	fprintf(f, "usage: teelab run --matrix FILE [-j N] [--shard I/N] [--compare DIR] [--out DIR]\n"
		"                  [--hosts URI,URI...]\n\n"
		"Runs every cell of a matrix file (configs/matrix/: scenarios x kernels x secure\n"
		"worlds, exclusions, expectations), each as its own `teelab run` with its own run\n"
		"directory under <out>/cells/, up to N at once, and writes the report: junit.xml,\n"
		"results.tap, result.json and index.html. Exit 0 only if every cell met its\n"
		"expectation.\n\n"
		"  -j N           cells at once (default: what the host's CPUs and memory allow)\n"
		"  --shard I/N    only the cells whose index %% N is I - 1 (for CI job arrays)\n"
		"  --compare DIR  a previous report: new failures first in the report\n"
		"  --out DIR      the report directory (default: <runs>/matrix-<time>-<name>)\n"
		"  --hosts URIS   libvirt URIs, comma-separated: each cell runs on the least\n"
		"                 loaded one (--connect URI); a cell whose machine does not start\n"
		"                 there is retried on another, and is INFRA if none can run it\n"
		"  --cache-dir, --runs-dir, --profile, --machine, --rootfs, --backend,\n"
		"  --connect: passed to every cell\n");
}

/* `teelab run --matrix FILE ...` */
static int cmd_run_matrix(int argc, char **argv)
{
	struct config_overrides ov = global_overrides;
	struct matrix_options opt = { .shard = 1, .shards = 1 };
	struct strvec pass = STRVEC_INIT, hosts = STRVEC_INIT;
	struct matrix m = MATRIX_INIT;
	struct lab_config cfg;
	const char *file = NULL;
	char *out = NULL, *path = NULL;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int before = i;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			matrix_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--matrix") && v) {
			file = argv[++i];
		} else if (!strcmp(argv[i], "-j") && v) {
			opt.jobs = atoi(argv[++i]);
			if (opt.jobs < 1)
				die(TL_EXIT_USAGE, "-j needs a number of cells >= 1, got '%s'", v);
		} else if (!strcmp(argv[i], "--shard") && v) {
			if (sscanf(v, "%d/%d", &opt.shard, &opt.shards) != 2 || opt.shards < 1 ||
			    opt.shard < 1 || opt.shard > opt.shards)
				die(TL_EXIT_USAGE, "--shard needs I/N with 1 <= I <= N, got '%s'", v);
			i++;
		} else if (!strcmp(argv[i], "--compare") && v) {
			opt.compare = argv[++i];
		} else if (!strcmp(argv[i], "--out") && v) {
			out = xstrdup(argv[++i]);
		} else if (!strcmp(argv[i], "--hosts") && v) {
			char *list = xstrdup(argv[++i]), *save = NULL;

			for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save))
				if (*h)
					strvec_push(&hosts, h);
			free(list);
			if (!hosts.nr)
				die(TL_EXIT_USAGE, "--hosts needs libvirt URIs, got '%s'", v);
		} else if (parse_lab_option(argc, argv, &i, &ov)) {
			if (!strcmp(argv[before], "--kernel") || !strcmp(argv[before], "--secure"))
				die(TL_EXIT_USAGE, "%s: the matrix chooses each cell's", argv[before]);
			for (int k = before; k <= i; k++)
				strvec_push(&pass, argv[k]);
		} else {
			matrix_usage(stderr);
			die(TL_EXIT_USAGE, "unknown argument '%s' for a matrix run", argv[i]);
		}
	}
	if (!file)
		die(TL_EXIT_USAGE, "--matrix needs a file");
	if (hosts.nr && ov.connect)
		die(TL_EXIT_USAGE, "--hosts and --connect: give the hosts in --hosts only");
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	path = strchr(file, '/') || ends_with(file, ".yaml")
		? xstrdup(file) : xasprintf("%s/configs/matrix/%s.yaml", cfg.datadir, file);
	if (matrix_load(path, cfg.datadir, &m))
		die(TL_EXIT_USAGE, "matrix '%s' is not valid", path);
	if (!out) {
		char started[32];

		iso_time_now(started, sizeof(started));
		started[4] = started[7] = started[13] = started[16] = '-';	/* no ':' in paths */
		out = xasprintf("%s/matrix-%s-%s", cfg.runs_dir, started, m.name);
	}
	opt.out_dir = out;
	opt.pass = (const char *const *)pass.v;
	opt.hosts = hosts.nr ? (const char *const *)hosts.v : NULL;
	ret = matrix_run(&m, &opt);
	matrix_release(&m);
	config_release(&cfg);
	strvec_release(&pass);
	strvec_release(&hosts);
	free(path);
	free(out);
	return ret;
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

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--matrix"))
			return cmd_run_matrix(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			run_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--boot-timeout")) {
			opt.boot_timeout = seconds_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
			i++;
		} else if (!strcmp(argv[i], "--step-timeout")) {
			opt.step_timeout = seconds_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
			i++;
		} else if (!strcmp(argv[i], "--timeout")) {
			opt.run_timeout = seconds_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
			i++;
		} else if (!strcmp(argv[i], "--hang-window")) {
			opt.hang_window = seconds_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
			i++;
		} else if (parse_scenario_option(argc, argv, &i, &choice)) {
			continue;
		} else if (!strcmp(argv[i], "--refresh")) {
			refresh = true;
		} else if (parse_lab_option(argc, argv, &i, &ov)) {
			continue;
		} else if (argv[i][0] == '-') {
			run_usage(stderr);
			die(TL_EXIT_USAGE, "unknown option '%s'", argv[i]);
		} else if (arg) {
			die(TL_EXIT_USAGE, "one scenario at a time ('%s' and '%s')", arg, argv[i]);
		} else {
			arg = argv[i];
		}
	}
	if (!arg) {
		run_usage(stderr);
		return TL_EXIT_USAGE;
	}

	/* 1. everything the user wrote is validated before anything starts */
	open_scenario(arg, &choice, &ov, &sc);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid (profile '%s')",
		    ov.profile ? ov.profile : "default");

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
