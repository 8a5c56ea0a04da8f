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

#include "util.h"


enum console_id { CON_NORMAL = 0, CON_SECURE = 1, CON_COUNT };

/* How a guest command reaches the normal world. */
enum channel {
	CHAN_AUTO,	/* SSH when the guest network is up, else the serial shell */
	CHAN_SSH,	/* libssh to the guest's dropbear (separate stdout/stderr) */
	CHAN_SERIAL,	/* the serial console shell (works before the network, and when SSH is wedged) */
};

struct step_ops;

struct scenario_step {
	const struct step_ops *ops;	/* its kind (step.h) */
	void *data;		/* kind-private options (ops->release frees them), or NULL */
	char *name;		/* display name; generated when not given */
	unsigned line, column;	/* where the step starts in the file */
	double timeout;		/* seconds; 0 = scenario default */
	/* expect, expect-not, assert, measure */
	enum console_id console;	/* default normal (secure for assert) */
	char *pattern;		/* POSIX extended regex, matched per line */
	double within;		/* expect-not: seconds to watch (required, > 0) */
	unsigned count;		/* expect: matching lines to wait for (1 when not given) */
	/* run, background, parallel, measure */
	char *command;		/* a guest shell command line (busybox sh) */
	int expect_exit;	/* expected exit status, default 0 (also join) */
	char *expect_output;	/* ERE that must match some output line, or NULL (also join) */
	char *parser;		/* "xtest" to record per-case results, or NULL (also join) */
	enum channel channel;	/* also collect, sysrq */
	/* background, join, kill */
	char *id;		/* the background command's name ([A-Za-z0-9_-]+) */
	/*
	 * background: output lines matching `progress` (ERE) are the
	 * command's progress; none for `stall` seconds while it still runs
	 * ends the run with DEADLOCK.
	 */
	char *progress;		/* or NULL: no stall detection */
	double stall;		/* seconds (default 20 with `progress`) */
	/*
	 * background `detect: state`: also prove a TEE thread-exhaustion
	 * deadlock from both worlds' state (lab/engine/detector.c), the stall
	 * window staying the fallback; false: `detect: stall`, the default
	 */
	bool detect_state;
	/*
	 * `detect-after`: seconds without a progress line before the first
	 * state read (default 1, below `stall`); or "${param}": then
	 * detect_after_param names it until scenario_select()
	 */
	double detect_after;
	char *detect_after_param;
	/* parallel */
	int copies;		/* >= 1 (default 2) */
	/* collect */
	char **paths;		/* guest paths (absolute), NULL-terminated */
	size_t nr_paths;
	/* kexec */
	char *kernel;		/* guest path of the kernel, or NULL = the lab's kernel */
	char *initrd;		/* guest path of the initrd, or NULL = the lab's initramfs */
	char *cmdline;		/* the new kernel's command line, or NULL = the current one */
	bool no_load;		/* skip `kexec -l` (a deliberately broken hop) */
	/*
	 * The lab kernel to kexec into: a configs/kernels name built with the
	 * run's secure world and rootfs (its own initramfs), or "boot" for
	 * the kernel the run booted; NULL = the booted one too.
	 */
	char *to;
	bool crash;		/* `kexec -p`: load a capture kernel (kdump) and go on */
	/* sysrq */
	char sysrq;		/* the sysrq key, e.g. 'w', 't', 'c' */
	bool kdump;		/* 'c' with a capture kernel loaded: done when it is up */
	/*
	 * repeat: the `nr_body` steps after it run `times` times (names
	 * get " [i/N]", metrics ".i"). `times` may be a parameter
	 * ("${hops}"): then times_param names it until scenario_select().
	 */
	unsigned times;
	char *times_param;
	size_t nr_body;
	/* assert */
	char **absent;		/* EREs, NULL-terminated; default: OP-TEE panic/assert */
	size_t nr_absent;
	/*
	 * measure: the value is the first number a guest `command`
	 * prints (exit status 0 required), or the count of lines matching
	 * `pattern` on `console` since the run started.
	 */
	char *metric;		/* result.json "metrics" key ([A-Za-z0-9_.-]+, unique) */
	bool has_min, has_max;
	double min, max;	/* inclusive bounds */
	/* "${param}" bounds: the parameter names until scenario_select() sets min/max */
	char *min_param, *max_param;
	char *at_least;		/* an earlier metric the value must reach, or NULL */
	/* any step */
	char *xfail;		/* expected to fail, with this reason; NULL = must pass */
};

/*
 * One cell of a scenario's matrix: the same steps on another kernel,
 * secure world, OP-TEE build flags or parameters, with the verdict this
 * combination is expected to give.
 */
struct scenario_cell {
	char *name;		/* [A-Za-z0-9_.-]+ */
	char *description;	/* or NULL */
	unsigned line;		/* where it starts in the file */
	char *kernel;		/* configs/kernels/<name>, or NULL: the profile's */
	char *secure;		/* configs/secure/<name>, or NULL */
	char **optee_flags;	/* "CFG_X=Y" on top of the secure profile's */
	size_t nr_optee_flags;
	struct strvec param_keys, param_values;	/* override the scenario's params */
	char *expect;		/* verdict name ("PASS", "DEADLOCK", ...), or NULL: the scenario's */
};

struct scenario {
	char *path;		/* file it came from */
	char *name;		/* "name:" or the file's base name without .yaml */
	char *description;	/* may be NULL */
	char *profile;		/* "profile:" lab profile name, or NULL for default */
	char *cmdline_extra;	/* "kernel-cmdline:" appended to the kernel command line, or NULL */
	bool network;		/* "network:" guest network + SSH (default true) */
	/* "cold-boot:": never start from a snapshot (it tests the boot itself; snapshot.h) */
	bool cold_boot;
	double boot_timeout;	/* seconds (timeouts.boot, default 120) */
	double step_timeout;	/* seconds (timeouts.step, default 300) */
	double run_timeout;	/* seconds (timeouts.run, whole run, default 1800) */
	double hang_window;	/* seconds (timeouts.hang, default 60): no progress -> HANG */
	struct scenario_step *steps;
	size_t nr_steps;
	/* "params:": ${name} in commands, patterns and expect-output */
	struct strvec param_keys, param_values;	/* parallel */
	char *expect;		/* "expect:": the verdict expected (default PASS) */
	/* "ignore-kernel-bugs:": bit 1u << enum kreport_kind (classify.h) per kind not reported */
	unsigned kernel_bugs_ignore;
	struct scenario_cell *cells;	/* "cells:", in file order */
	size_t nr_cells;
	char *default_cell;	/* "default-cell:", or NULL */
	const struct scenario_cell *cell;	/* the one scenario_select() chose, or NULL */
};
#define SCENARIO_INIT { 0 }

/*
 * Parse @path into @sc. Errors are printed as "PATH:LINE:COL: message";
 * returns 0, -EINVAL for a malformed scenario, -ENOENT if unreadable.
 * On failure @sc is left released. Caller owns @sc (scenario_release()).
 */
int scenario_load(const char *path, struct scenario *sc);
void scenario_release(struct scenario *sc);

/*
 * Choose the cell @cell_name (NULL: the scenario's default-cell, if any),
 * merge parameters (scenario < cell < @params "key=value" from the command
 * line) and substitute ${key} in every step's command, pattern,
 * expect-output and progress (any other ${...} is left to the guest
 * shell). The cell's kernel/secure go to @ov unless already set there (the
 * command line wins); its optee-flags are appended. Errors (unknown cell,
 * a value outside [A-Za-z0-9_.,:/=+-], a pattern no longer a regex)
 * are reported with file:line; returns 0 or -EINVAL.
 */
struct config_overrides;
int scenario_select(struct scenario *sc, const char *cell_name, char *const *params,
		    size_t nr_params, struct config_overrides *ov);
/* Resolve a scenario argument: a path, or <datadir>/scenarios/<name>.yaml (malloc'd). */
char *scenario_path(const char *datadir, const char *arg);

/* Whether @sc kexecs or crashes into a capture kernel (kexec steps, sysrq with kdump). */
bool scenario_has_kexec(const struct scenario *sc);

/*
 * Whether a lab playing @sc gets the read-only disk with the lab's kernels
 * and initrds (/dev/vda, what tl-kexec unpacks): kexec and kdump steps, a
 * guest command naming tl-kexec, and a scenario without steps (`teelab
 * shell`, where a person may kexec by hand). Without it the guest has no
 * virtio-blk device and /init loads no virtio_blk (about 0.1 s of a
 * Debian 6.12 cold boot under TCG).
 */
bool scenario_needs_lab_disk(const struct scenario *sc);

/* The distinct `to:` kernels of @sc's kexec steps, appended to @out. */
void scenario_kexec_targets(const struct scenario *sc, struct strvec *out);

/* The verdict name the run must give: the cell's expect, else the scenario's. */
const char *scenario_expected(const struct scenario *sc);
const char *console_name(enum console_id c);	/* "normal" / "secure" */

#endif
