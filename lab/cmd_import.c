// SPDX-License-Identifier: MIT
/* cmd_import.c - `teelab import lava <dir|log>`: a LAVA job's result as a teelab run */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lava.h"
#include "run.h"

static const char *import_mapping, *import_run_dir;

static const struct popt import_options[] = {
	OPT_GROUP("Import options:"),
	OPT_STRING(0, "mapping", &import_mapping, "FILE",
		   "the export's mapping.json (default: beside the log or one\n"
		   "directory up); without one, LAVA's test cases as they are", NULL),
	OPT_STRING(0, "run-dir", &import_run_dir, "DIR",
		   "the run directory to write (default: a new one under runs/)", NULL),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_import = {
	.name = "import", .fn = cmd_import,
	.summary = "turn a LAVA job's log into a teelab run directory",
	.usage = "lava [options] <lava output dir | job log>",
	.description =
		"Reads a LAVA job log: `lava-run`'s stderr saved as job.log in its\n"
		"output directory (or any file), or a server's `lavacli jobs logs --raw`.\n"
		"Writes a run directory as `teelab run` does: both consoles from the\n"
		"connections' output, result.json, junit.xml and results.tap with the\n"
		"scenario's steps and xtest cases mapped back through the export's\n"
		"mapping.json, and the verdict (README \"LAVA\"). The verdict is printed\n"
		"last and is the exit code, as for `teelab run`.",
	.options = import_options, .min_args = 2, .max_args = 2,
};

/* @dir/@name if it is a file, else NULL */
static char *file_in(const char *dir, const char *name)
{
	char *p = path_join(dir, name);

	if (file_exists(p) && !is_dir(p))
		return p;
	free(p);
	return NULL;
}

int cmd_import(int argc, char **argv)
{
	struct config_overrides ov;
	struct lab_config cfg;
	char *logpath = NULL, *mapping = NULL, *up;
	const char *src;
	int ret;

	parse_command(argc, argv, &command_import);
	if (strcmp(argv[0], "lava"))
		die(TL_EXIT_USAGE, "import: unknown format '%s' (the one there is: lava)", argv[0]);
	src = argv[1];
	if (is_dir(src)) {
		if (!(logpath = file_in(src, "job.log")))
			die(TL_EXIT_USAGE, "%s: no job.log in it (lava-run's stderr: `2> %s/job.log`)",
			    src, src);
	} else {
		logpath = xstrdup(src);
	}
	/* the mapping: given, beside the log, or in the directory above (the export's) */
	up = xstrdup(logpath);
	if (strrchr(up, '/'))
		*strrchr(up, '/') = '\0';
	else
		strcpy(up, ".");
	if (import_mapping) {
		mapping = xstrdup(import_mapping);
	} else if (!(mapping = file_in(up, "mapping.json"))) {
		char *parent = path_join(up, "..");

		mapping = file_in(parent, "mapping.json");
		free(parent);
	}
	free(up);
	ov = global_overrides;
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");
	ret = lava_import_run(logpath, mapping, import_run_dir, cfg.runs_dir, NULL);
	config_release(&cfg);
	free(logpath);
	free(mapping);
	return ret;
}
