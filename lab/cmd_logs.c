// SPDX-License-Identifier: MIT
/* cmd_logs.c - `teelab logs <run>`: a run's summary and where its logs are */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "commands.h"

/* A run directory from "last", a run id under the runs dir, or a path. */
static char *find_run(const char *runs_dir, const char *arg)
{
	struct dirent **ents = NULL;
	char *ret = NULL;
	int n;

	if (strcmp(arg, "last")) {
		char *p = is_dir(arg) ? xstrdup(arg) : path_join(runs_dir, arg);

		if (is_dir(p))
			return p;
		free(p);
		return NULL;
	}
	n = scandir(runs_dir, &ents, NULL, alphasort);
	for (int i = n - 1; i >= 0; i--) {
		char *p = path_join(runs_dir, ents[i]->d_name);
		char *res = path_join(p, "result.json");

		if (!ret && ents[i]->d_name[0] != '.' && file_exists(res))
			ret = xstrdup(p);
		free(res);
		free(p);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

const struct command command_logs = {
	.name = "logs", .fn = cmd_logs, .summary = "a run's verdict, steps and log paths",
	.usage = "[--runs-dir DIR] [last | <run id> | <run dir>]",
	.description = "Prints a run's verdict, its steps, the paths of its logs and its evidence\n"
		"summary (default: the last run).",
	.options = lab_options, .max_args = 1, .complete_args = "runs",
};

int cmd_logs(int argc, char **argv)
{
	struct config_overrides ov;
	const char *arg = NULL, *runs;
	struct dirent **ents = NULL;
	json_t *j, *tests;
	char *dir, *res;
	size_t idx;
	json_t *t;
	int n;

	argc = parse_command(argc, argv, &command_logs);
	ov = global_overrides;
	arg = argc ? argv[0] : NULL;
	runs = ov.runs_dir ? ov.runs_dir : getenv("TEELAB_RUNS_DIR");
	if (!runs || !*runs)
		runs = "runs";
	dir = find_run(runs, arg ? arg : "last");
	if (!dir)
		die(TL_EXIT_USAGE, "no run '%s' (under '%s'); see `teelab list`", arg ? arg : "last", runs);
	res = path_join(dir, "result.json");
	j = json_load_file(res, 0, NULL);
	if (!j)
		die(TL_EXIT_USAGE, "'%s' has no readable result.json", dir);
	printf("run       %s\nscenario  %s\nverdict   %s%s%s\nduration  %.1f s\nexit code %lld\n",
	       dir, jstr(j, "scenario"), jstr(j, "verdict"),
	       *jstr(j, "reason") ? ": " : "", jstr(j, "reason"),
	       json_number_value(json_object_get(j, "duration")),
	       json_integer_value(json_object_get(j, "exit_code")));
	printf("\nsteps:\n");
	tests = json_object_get(j, "tests");
	json_array_foreach(tests, idx, t) {
		if (strcmp(jstr(t, "group"), "steps"))
			continue;
		printf("  %-12s %-50.50s %7.1f s  %s\n", jstr(t, "verdict"), jstr(t, "name"),
		       json_number_value(json_object_get(t, "duration")), jstr(t, "message"));
	}
	printf("\nfiles:\n");
	n = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			char *p = path_join(dir, ents[i]->d_name);
			struct stat st;

			if (!stat(p, &st))
				printf("  %-28s %s%s\n", ents[i]->d_name,
				       S_ISDIR(st.st_mode) ? "(directory) " : "", p);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	{
		char *ev = xasprintf("%s/evidence/summary.txt", dir);
		char *text = NULL;

		if (!read_file(ev, &text, NULL))
			printf("\nevidence (%s):\n%s", ev, text);
		free(text);
		free(ev);
	}
	json_decref(j);
	free(res);
	free(dir);
	return 0;
}
