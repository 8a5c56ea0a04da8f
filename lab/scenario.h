/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - the declarative scenario format (scenarios/<name>.yaml).
 *
 * A scenario is a list of steps run against one booted lab; see
 * README "Scenario format" for the user-facing description. Parsing is
 * strict: unknown keys, wrong types and bad regular expressions are
 * errors located at file:line:column.
 */
#ifndef TEELAB_SCENARIO_H
#define TEELAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

enum step_type {
	STEP_BOOT,	/* power on; done when the guest shell is ready */
	STEP_WAIT,	/* wait for a pattern on one console */
	STEP_RUN,	/* run a guest shell command on the serial shell */
	STEP_POWEROFF,	/* clean power-off through the guest, then QMP */
};

enum console_id { CON_NORMAL = 0, CON_SECURE = 1, CON_COUNT };

struct scenario_step {
	enum step_type type;
	char *name;		/* display name; generated when not given */
	unsigned line, column;	/* where the step starts in the file */
	double timeout;		/* seconds; 0 = scenario default */
	/* STEP_WAIT */
	enum console_id console;
	char *pattern;		/* POSIX extended regex, matched per line */
	/* STEP_RUN */
	char *command;		/* a guest shell command line (busybox sh) */
	int expect_exit;	/* expected exit status, default 0 */
	char *expect_output;	/* ERE that must match some output line, or NULL */
	char *parser;		/* "xtest" to record per-case results, or NULL */
	/* any step */
	char *xfail;		/* expected to fail, with this reason; NULL = must pass */
};

struct scenario {
	char *path;		/* file it came from */
	char *name;		/* "name:" or the file's base name without .yaml */
	char *description;	/* may be NULL */
	char *profile;		/* "profile:" lab profile name, or NULL for default */
	char *cmdline_extra;	/* "kernel-cmdline:" appended to the kernel command line, or NULL */
	double boot_timeout;	/* seconds (timeouts.boot, default 120) */
	double step_timeout;	/* seconds (timeouts.step, default 300) */
	double run_timeout;	/* seconds (timeouts.run, whole run, default 1800) */
	struct scenario_step *steps;
	size_t nr_steps;
};
#define SCENARIO_INIT { 0 }

/*
 * Parse @path into @sc. Errors are printed as "PATH:LINE:COL: message";
 * returns 0, -EINVAL for a malformed scenario, -ENOENT if unreadable.
 * On failure @sc is left released. Caller owns @sc (scenario_release()).
 */
int scenario_load(const char *path, struct scenario *sc);
void scenario_release(struct scenario *sc);
const char *step_type_name(enum step_type t);
const char *console_name(enum console_id c);	/* "normal" / "secure" */

#endif
