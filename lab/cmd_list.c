// SPDX-License-Identifier: MIT
/* cmd_list.c - `teelab list`: scenarios, configurations, recent runs */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "scenario.h"

static void list_yaml(const char *datadir, const char *sub, const char *title)
{
	char *dir = path_join(datadir, sub);
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	printf("%s (%s):\n", title, sub);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (ends_with(name, ".yaml"))
			printf("  %.*s\n", (int)(strlen(name) - 5), name);
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

static void list_scenarios(const char *datadir)
{
	char *dir = path_join(datadir, "scenarios");
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	printf("scenarios:\n");
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (ends_with(name, ".yaml")) {
			struct scenario sc = SCENARIO_INIT;
			char *p = path_join(dir, name);

			if (!scenario_load(p, &sc))
				printf("  %-24s %s\n", sc.name, sc.description ? sc.description : "");
			else
				printf("  %-24s (invalid, see the error above)\n", name);
			scenario_release(&sc);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

static void list_runs(const char *runs_dir)
{
	struct dirent **ents = NULL;
	int n = scandir(runs_dir, &ents, NULL, alphasort);
	int shown = 0;

	printf("recent runs (%s):\n", runs_dir);
	for (int i = n - 1; i >= 0; i--) {
		char *p = xasprintf("%s/%s/result.json", runs_dir, ents[i]->d_name);
		json_t *j;

		if (shown < 10 && ents[i]->d_name[0] != '.' &&
		    (j = json_load_file(p, 0, NULL))) {
			printf("  %-44s %-11s %6.1f s\n", ents[i]->d_name,
			       json_string_value(json_object_get(j, "verdict")),
			       json_real_value(json_object_get(j, "duration")));
			json_decref(j);
			shown++;
		}
		free(p);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (!shown)
		printf("  (none)\n");
}

const struct command command_list = {
	.name = "list", .fn = cmd_list, .summary = "list scenarios, configurations and recent runs",
	.usage = "[--runs-dir DIR]",
	.description = "Lists the scenarios (with their descriptions), profiles, machines, kernels,\n"
		"secure-world profiles and rootfs recipes of the data directory, and the\n"
		"ten most recent runs under the runs directory.",
	.options = lab_options,
};

int cmd_list(int argc, char **argv)
{
	struct config_overrides ov;
	char *datadir;
	const char *runs;

	parse_command(argc, argv, &command_list);
	ov = global_overrides;
	datadir = config_find_datadir();
	if (!datadir)
		return TL_EXIT_USAGE;
	printf("data: %s\n", datadir);
	list_scenarios(datadir);
	list_yaml(datadir, "configs/profiles", "profiles");
	list_yaml(datadir, "configs/machines", "machines");
	list_yaml(datadir, "configs/kernels", "kernels");
	list_yaml(datadir, "configs/secure", "secure-world profiles");
	list_yaml(datadir, "images/rootfs", "rootfs recipes");
	runs = ov.runs_dir ? ov.runs_dir : getenv("TEELAB_RUNS_DIR");
	list_runs(runs && *runs ? runs : "runs");
	free(datadir);
	return 0;
}
