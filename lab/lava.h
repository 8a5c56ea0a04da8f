/* SPDX-License-Identifier: MIT */
/*
 * lava.h - teelab scenarios as LAVA jobs, and LAVA's results back as
 * teelab run directories (README "LAVA").
 *
 * Facts used here, all from LAVA 2023.01 as Debian bookworm ships it
 * (lava-dispatcher, lava-common, lavacli 1.2):
 *  - a job log is one YAML flow mapping per line (lava_common/log.py:
 *    dump(), default_style '"'): {"dt": ISO time, "lvl": level, "msg":
 *    string or mapping[, "ns": namespace]}; `lava-run` writes it to stderr,
 *    the server keeps it as a YAML sequence of the same mappings
 *    (`lavacli jobs logs --raw`);
 *  - levels: "target" (the device's output on the connection the running
 *    action uses), "feedback" (another namespace's connection, with "ns"),
 *    "results" (msg {definition, case, result[, measurement, units,
 *    error_type, error_msg, ...]}), "info", "debug", "error", "input", ...;
 *    each action logs "start: <level> <name> (timeout <t>) [<namespace>]"
 *    and "end: ..." at info level;
 *  - the last result is definition "lava", case "job": "pass" or "fail"
 *    with error_type Infrastructure, Configuration, Bug, Job, Test,
 *    Canceled or LAVATimeout (lava_common/exceptions.py) and error_msg.
 */
#ifndef TEELAB_LAVA_H
#define TEELAB_LAVA_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "images.h"
#include "results.h"
#include "scenario.h"

/* ---- the job log ---- */

struct lava_entry {
	char *dt;		/* ISO 8601 UTC, as LAVA wrote it */
	double t;		/* seconds since the log's first entry */
	char *lvl;
	char *ns;		/* "ns", or NULL */
	char *msg;		/* a string message, or NULL */
	/* a results message (lvl "results"), else all NULL */
	char *definition, *tcase, *result, *measurement, *units, *error_type, *error_msg;
};

struct lava_log {
	struct lava_entry *v;
	size_t nr, alloc;
	size_t skipped;		/* lines that were not log entries (e.g. Python warnings) */
};

/*
 * Read a LAVA job log from @path: lava-run's stderr as saved, or the
 * server's raw log ("- " before each mapping). Lines that are not a log
 * entry are counted in ->skipped. 0, -ENOENT (reported), or -EINVAL when
 * no line was an entry (reported). Caller releases @log.
 */
int lava_log_load(const char *path, struct lava_log *log);
/* Same from text in memory; @name for messages. */
int lava_log_parse(const char *name, const char *text, struct lava_log *log);
void lava_log_release(struct lava_log *log);

/* ---- export ---- */

struct lava_export_options {
	const char *out_dir;		/* created (must be empty or absent) */
	const char *image_base_url;	/* NULL: file:// URLs of <out_dir>/images/ */
	bool lossy;			/* drop steps with no LAVA form (listed) instead of refusing */
	const char *kernel_cmdline;	/* the kernel command line the lab boots with */
};

/*
 * How a scenario step is carried by a LAVA job (README "LAVA", the step
 * mapping table).
 */
enum lava_form {
	LAVA_FORM_BOOT,		/* deploy (tmpfs) + boot (qemu), the boot check a test case */
	LAVA_FORM_EXPECT,	/* interactive test on the console's follower connection */
	LAVA_FORM_RUN,		/* a step of an inline definition: tl-lava-case */
	LAVA_FORM_SLEEP,	/* a step of an inline definition: sleep */
	LAVA_FORM_POWEROFF,	/* interactive: `poweroff -f`, "reboot: Power down" */
	LAVA_FORM_REBOOT,	/* interactive: a marker, `reboot -f`, the new boot's ready marker */
	LAVA_FORM_IMPORT,	/* checked by `teelab import lava` on the imported console */
	LAVA_FORM_NONE,		/* no faithful form: refused, or dropped with --lossy */
};

struct lava_step {
	enum lava_form form;
	char *why;		/* LAVA_FORM_NONE: the reason (malloc'd) */
	char *tcase;		/* "NN-<name>": the LAVA test case that gives its verdict */
};

struct lava_plan {
	struct lava_step *steps;	/* one per scenario step */
	size_t nr;
	size_t nr_dropped;
};

/*
 * Decide the LAVA form of every step of @sc (after scenario_select()).
 * A step without one is reported as "file:line: step N 'name' (kind): no
 * faithful LAVA form: <why>" (warnings with @lossy, else errors). Returns
 * 0, or -EINVAL when a step was refused. Caller releases @plan.
 */
int lava_plan(const struct scenario *sc, bool lossy, struct lava_plan *plan);
void lava_plan_release(struct lava_plan *plan);

/*
 * Append to @out the Python regular expression (for LAVA's pexpect, which
 * searches the console stream with DOTALL) that matches where POSIX ERE
 * @ere matches one console line: "(?m)" first, '.' and negated brackets
 * kept off line ends, '$' before an optional '\r', POSIX bracket classes
 * spelled out, and the rest of the matching line consumed. Returns 0, or
 * -EINVAL with *why (static) for what has no equivalent (back-references,
 * \<letter>, an unknown class).
 */
int lava_pattern(const char *ere, struct strbuf *out, const char **why);

/*
 * Write the LAVA export of @sc (booting @im, as @cfg's machine) into
 * o->out_dir: job.yaml, images/ (with sha256), device.yaml (the qemu
 * device rendered for `lava-run` on this machine), device-dictionary.jinja2
 * (what a lab admin adds to the qemu device), mapping.json (step -> LAVA
 * action/test case). 0, -EINVAL (refused steps, reported), or -errno
 * (reported with the file).
 */
int lava_export(const struct lab_config *cfg, const struct scenario *sc,
		const struct lab_images *im, const struct lava_export_options *o);

/* ---- import ---- */

/*
 * Turn the LAVA job log @log (lava_log_load()) into @res and the run
 * directory @dir (created by the caller): nw-console.log and
 * sw-console.log from the connections' output, the tests from LAVA's
 * results mapped back to the scenario's steps through @mapping_path (an
 * export's mapping.json; NULL: LAVA's test cases as they are), and the
 * verdict (README "LAVA": infrastructure errors -> INFRA, timeouts ->
 * TIMEOUT, a kernel panic on the normal console -> KERNEL_PANIC, an OP-TEE
 * panic on the secure console -> TEE_PANIC, ...). Writes the results with
 * run_finish(); returns its exit code, or -errno (reported) when the
 * mapping cannot be read.
 */
int lava_import(const struct lava_log *log, const char *mapping_path, const char *dir,
		struct run_result *res);
/* ---- a LAVA lab (lavacli) ---- */

/*
 * Submit @export_dir/job.yaml with `lavacli -i @identity jobs submit` and
 * wait for it (`jobs wait`, at most @timeout seconds; then `jobs cancel`).
 * `jobs wait` answers 0 for any finished job: the verdict is the log's
 * (lava_import()). *job_id gets the
 * server's id (malloc'd) once submitted, else NULL. 0, or lavacli's exit
 * status / -errno (reported).
 */
int lava_submit_job(const char *identity, const char *export_dir, double timeout, char **job_id);
/* The job's raw log (`lavacli jobs logs --raw`) into @path. 0 or as above. */
int lava_fetch_log(const char *identity, const char *job_id, const char *path);

/*
 * `teelab import lava`: read the log at @log_path, make the run directory
 * (@run_dir, or a new one under @runs_dir named after the mapping's
 * scenario), keep the log there as lava-job.log, lava_import(), and print
 * the verdict line. @lava_job ("<identity> job <id>", or NULL) goes to
 * result.json's environment as "lava_job". Returns the run's exit code
 * (TL_EXIT_*).
 */
int lava_import_run(const char *log_path, const char *mapping, const char *run_dir,
		    const char *runs_dir, const char *lava_job);

/* The scenario an export's mapping.json is of (malloc'd), or NULL (unreadable: not reported). */
char *lava_mapping_scenario(const char *mapping_path);

#endif
