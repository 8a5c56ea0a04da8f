// SPDX-License-Identifier: MIT
/*
 * cmd_matrix.c - `teelab matrix <name|file>` (also `teelab run --matrix
 * <name|file>`): every cell of a matrix file, in parallel, and the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matrix.h"

static struct matrix_options matrix_opt = { .shard = 1, .shards = 1 };
static struct strvec matrix_hosts = STRVEC_INIT;
static struct strvec matrix_history = STRVEC_INIT;

static int history_cb(const struct popt *opt UNUSED, const char *arg)
{
	strvec_push(&matrix_history, arg);
	return 0;
}
static const char *matrix_file, *matrix_out;

static int shard_cb(const struct popt *opt UNUSED, const char *arg)
{
	int i, n, end = 0;

	if (sscanf(arg, "%d/%d%n", &i, &n, &end) != 2 || arg[end] || n < 1 || i < 1 || i > n)
		return error_code(-EINVAL, "--shard needs I/N with 1 <= I <= N, got '%s'", arg);
	matrix_opt.shard = i;
	matrix_opt.shards = n;
	return 0;
}

static int hosts_cb(const struct popt *opt UNUSED, const char *arg)
{
	char *list = xstrdup(arg), *save = NULL;

	for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save))
		strvec_push(&matrix_hosts, h);
	free(list);
	if (!matrix_hosts.nr)
		return error_code(-EINVAL, "--hosts needs libvirt URIs, got '%s'", arg);
	return 0;
}

static const struct popt matrix_options[] = {
	OPT_GROUP("Matrix options:"),
	OPT_POSINT('j', "jobs", &matrix_opt.jobs, "N",
		   "cells at once (default: what the host's CPUs and memory allow)"),
	OPT_CALLBACK(0, "shard", NULL, "I/N",
		     "only the cells whose index % N is I - 1 (for CI job arrays)", shard_cb),
	OPT_STRING(0, "compare", &matrix_opt.compare, "DIR",
		   "a previous report: new failures first in the report", NULL),
	OPT_CALLBACK(0, "history", NULL, "DIR",
		     "an earlier report (repeatable, oldest first): each cell gets\n"
		     "a chart of its wall time and verdict across them", history_cb),
	OPT_STRING(0, "out", &matrix_out, "DIR",
		   "the report directory (default: <runs>/matrix-<time>-<name>)", NULL),
	OPT_CALLBACK(0, "hosts", NULL, "URIS",
		     "libvirt URIs, comma-separated: each cell runs on the least\n"
		     "loaded one (--connect URI); a cell whose machine does not start\n"
		     "there is retried on another, and is INFRA if none can run it", hosts_cb),
	OPT_STRING(0, "lava", &matrix_opt.lava, "IDENTITY",
		   "run every cell whose scenario exports on a LAVA lab\n"
		   "(`lavacli -i IDENTITY`; `teelab export lava --submit`); the\n"
		   "others here. The report says where each cell ran", NULL),
	/* `teelab run --matrix X ...` comes here with its argv */
	{ .type = POPT_STRING, .long_name = "matrix", .value = &matrix_file, .argh = "NAME|FILE",
	  .help = "the matrix (`teelab run --matrix`)", .flags = POPT_HIDDEN,
	  .complete = "configs/matrix" },
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_matrix = {
	.name = "matrix", .fn = cmd_matrix,
	.summary = "run every cell of a matrix in parallel and write its report",
	.usage = "[options] <name|file>",
	.description =
		"Runs every cell of a matrix file (configs/matrix/<name>.yaml or a path:\n"
		"scenarios x kernels x secure worlds, exclusions, expectations), each as its\n"
		"own `teelab run` with its own run directory under <out>/cells/, up to N at\n"
		"once, and writes the report: junit.xml, results.tap, result.json and\n"
		"index.html. Exit 0 only if every cell met its expectation. `teelab run\n"
		"--matrix <name|file> [options]` is the same. The lab options but --kernel\n"
		"and --secure (the matrix chooses each cell's) are passed to every cell.",
	.options = matrix_options, .min_args = 0, .max_args = 1, .complete_args = "matrices",
};

/* The lab options in @ov as `teelab run` options, for every cell. */
static void pass_lab_options(const struct config_overrides *ov, struct strvec *pass)
{
	const struct { const char *name, *value; } v[] = {
		{ "--profile", ov->profile }, { "--machine", ov->machine },
		{ "--rootfs", ov->rootfs }, { "--cache-dir", ov->cache_dir },
		{ "--runs-dir", ov->runs_dir }, { "--backend", ov->backend },
		{ "--connect", ov->connect }, { "--boot", ov->boot },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (v[i].value)
			strvec_pushl(pass, v[i].name, v[i].value, NULL);
	for (size_t i = 0; i < ov->nr_optee_flags; i++)
		strvec_pushl(pass, "--optee-flag", ov->optee_flags[i], NULL);
}

int cmd_matrix(int argc, char **argv)
{
	struct config_overrides ov;
	struct matrix_options opt;
	struct strvec pass = STRVEC_INIT;
	struct matrix m = MATRIX_INIT;
	struct lab_config cfg;
	const char *file;
	char *out, *path = NULL, *times;
	int ret;

	argc = parse_command(argc, argv, &command_matrix);
	ov = global_overrides;
	opt = matrix_opt;
	if (argc && matrix_file)
		die(TL_EXIT_USAGE, "a matrix as --matrix '%s' and as '%s': one of them", matrix_file,
		    argv[0]);
	file = argc ? argv[0] : matrix_file;
	if (!file)
		die(TL_EXIT_USAGE, "matrix: which matrix? (a name from configs/matrix/ or a file)");
	if (ov.kernel || ov.secure)
		die(TL_EXIT_USAGE, "%s: the matrix chooses each cell's", ov.kernel ? "--kernel" : "--secure");
	if (matrix_hosts.nr && ov.connect)
		die(TL_EXIT_USAGE, "--hosts and --connect: give the hosts in --hosts only");
	pass_lab_options(&ov, &pass);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	path = strchr(file, '/') || ends_with(file, ".yaml")
		? xstrdup(file) : xasprintf("%s/configs/matrix/%s.yaml", cfg.datadir, file);
	if (matrix_load(path, cfg.datadir, &m))
		die(TL_EXIT_USAGE, "matrix '%s' is not valid", path);
	if (matrix_out) {
		out = xstrdup(matrix_out);
	} else {
		char started[32];

		iso_time_now(started, sizeof(started));
		started[4] = started[7] = started[13] = started[16] = '-';	/* no ':' in paths */
		out = xasprintf("%s/matrix-%s-%s", cfg.runs_dir, started, m.name);
	}
	opt.out_dir = out;
	opt.history = matrix_history.nr ? (const char *const *)matrix_history.v : NULL;
	opt.pass = (const char *const *)pass.v;
	opt.hosts = matrix_hosts.nr ? (const char *const *)matrix_hosts.v : NULL;
	/* by the matrix's name: only the order of the cells depends on it */
	times = xasprintf("%s/matrix-times/%s.json", cfg.cache_dir, m.name);
	opt.times_file = times;
	ret = matrix_run(&m, &opt);
	free(times);
	matrix_release(&m);
	config_release(&cfg);
	strvec_release(&pass);
	strvec_release(&matrix_hosts);
	free(path);
	free(out);
	return ret;
}
