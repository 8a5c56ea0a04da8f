/* SPDX-License-Identifier: MIT */
/*
 * results.h - the outcome of a run and its writers.
 *
 * One model, three sinks written into the run directory at the end of
 * every run (also on timeout and Ctrl-C): result.json (jansson),
 * junit.xml (JUnit XML as read by Jenkins/GitLab: <testsuites><testsuite>
 * <testcase classname name time><failure|skipped|system-out>),
 * results.tap (TAP version 13: "ok N - name # SKIP|TODO reason").
 */
#ifndef TEELAB_RESULTS_H
#define TEELAB_RESULTS_H

#include <stddef.h>
#include <stdbool.h>

/* Verdict of one test (a step or an xtest case) and of the whole run. */
enum verdict {
	V_PASS,
	V_FAIL,
	V_XFAIL,	/* failed as the scenario expected (TAP: TODO) */
	V_XPASS,	/* passed but was expected to fail: counts as a failure */
	V_SKIP,
	V_TIMEOUT,
	V_ERROR,	/* a test produced no verdict (e.g. xtest stopped mid-case) */
	V_INTERRUPTED,	/* Ctrl-C / SIGTERM */
	V_NOTRUN,	/* a later step not reached */
	V_HANG,		/* no progress on either console and no step completed for the hang window */
	V_DEADLOCK,	/* clients with a progress pattern stalled for their window while still running */
	V_KERNEL_PANIC,	/* "Kernel panic - not syncing" on the normal world */
	V_TEE_PANIC,	/* OP-TEE "Panic at" / "assertion ... failed" on the secure console */
	V_INFRA,	/* infrastructure: QEMU died, an image is missing, a build failed */
	V_KERNEL_BUG,	/* a kernel report (KASAN, BUG, oops, WARNING, hung task, kmemleak): classify.h */
};
const char *verdict_name(enum verdict v);	/* "PASS", "FAIL", ... */
/* Whether @v counts as success for the run (PASS, XFAIL, SKIP). */
bool verdict_ok(enum verdict v);
/* The verdict named @name (exactly as verdict_name() spells it) into *v. 0 or -EINVAL (not reported). */
int verdict_parse(const char *name, enum verdict *v);
/*
 * The JUnit element a testcase with verdict @v carries: "failure" (FAIL,
 * XPASS, TIMEOUT, HANG, DEADLOCK, KERNEL_PANIC, KERNEL_BUG, TEE_PANIC), "error" (ERROR,
 * INTERRUPTED, INFRA), "skipped" (SKIP, NOTRUN), NULL (PASS, XFAIL).
 */
const char *verdict_junit_element(enum verdict v);

struct test_result {
	char *name;		/* e.g. "boot", "run xtest", "regression_1004" */
	char *group;		/* JUnit classname: "steps" or "xtest.regression" */
	enum verdict verdict;
	double duration;	/* seconds */
	char *message;		/* why it failed / the xfail reason; may be NULL */
	char *output;		/* captured output (may be NULL), kept bounded by the caller */
	/* steps: when it started, seconds since the run started (result.json "start"; timeline.svg) */
	double start;
	bool has_start;
};

/*
 * One boot of the machine (power-on, reboot, kexec hop, kdump capture):
 * result.json "boots". Times are seconds since QEMU started (the consoles'
 * clock), < 0 when not seen.
 */
struct boot_record {
	int n;			/* 1, 2, ... (nw-console.boot-N.log) */
	char *how;		/* "power-on", "reboot", "kexec", "kdump" */
	char *kernel;		/* the lab kernel a kexec went to (`to:`), or NULL */
	char *release;		/* from the "Linux version X" line, or NULL */
	double requested;	/* power on, `reboot -f` sent, "tl-kexec: kexec -e", the panic line */
	double optee_at;	/* "optee: initialized driver" */
	double ready_at;	/* the guest shell ready (teelab's marker) */
	size_t first_test;	/* tests[] recorded during this boot: [first_test, end_test) */
	size_t end_test;
};

struct run_result {
	char *scenario;		/* scenario name */
	char *run_id;		/* run directory base name */
	char *started;		/* ISO 8601 UTC start time */
	double duration;	/* seconds, whole run */
	enum verdict verdict;	/* overall (after the expectation, see run_finish()) */
	char *expected;		/* verdict name the scenario expects, or NULL: PASS */
	enum verdict observed;	/* what the run gave before the expectation was applied */
	char *reason;		/* one line: why the overall verdict (may be NULL) */
	int exit_code;		/* process exit code that goes with it */
	/* free-form context, written to result.json "environment" */
	size_t nr_env;
	char **env_keys, **env_values;
	size_t nr_tests;
	struct test_result *tests;
	/* numbers recorded by `measure` steps, result.json "metrics" */
	size_t nr_metrics;
	char **metric_names;
	double *metric_values;
	/* every boot, in order (result.json "boots") */
	size_t nr_boots;
	struct boot_record *boots;
	/*
	 * result.json "kernel_bug": the kernel report a KERNEL_BUG verdict (or
	 * the oops before a KERNEL_PANIC) came from; kind NULL when none.
	 */
	struct {
		char *kind;	/* "KASAN", "BUG", "OOPS", "WARNING", "HUNG_TASK", "KMEMLEAK" */
		char *line;	/* its first line */
		char *report;	/* the block as printed */
		double at;	/* seconds since QEMU started (the consoles' clock) */
	} kernel_bug;
	/*
	 * result.json "timeline" (timeline.svg draws the run from it): when
	 * QEMU started, seconds since the run started (the consoles' times
	 * are QEMU's), and a DEADLOCK's stall window: the stalled job's last
	 * progress and the moment the stall was called (seconds since the run
	 * started). has_* false when unknown.
	 */
	struct {
		bool has_qemu_start, has_stall;
		bool stall_proven;	/* the DEADLOCK was proven from state (detect: state) */
		double qemu_start, stall_from, stall_to;
	} timeline;
};
#define RUN_RESULT_INIT { 0 }

/*
 * Append a test; strings are copied (NULL allowed for group, message and
 * output). The pointer is valid until the next run_result_add().
 */
struct test_result *run_result_add(struct run_result *r, const char *group,
				   const char *name, enum verdict v,
				   double duration, const char *message,
				   const char *output);
/* Record "key": "value" in the environment object (copied). */
void run_result_env(struct run_result *r, const char *key, const char *value);
/* Record metric @name = @value (copied; a second record replaces it). */
void run_result_metric(struct run_result *r, const char *name, double value);
/* The value of metric @name into *value; false if not recorded. */
bool run_result_get_metric(const struct run_result *r, const char *name, double *value);
/* Free everything, scenario/run_id/started/reason included (heap strings). */
/*
 * Start boot record @n (how: "power-on", "reboot", "kexec", "kdump"; kernel
 * may be NULL) at @requested seconds; it holds the tests added from now
 * until the next one. Returns it (owned by @r, valid until the next call).
 */
struct boot_record *run_result_boot(struct run_result *r, int n, const char *how,
				    const char *kernel, double requested);
/* Record the kernel report (strings copied; replaces an earlier one). */
void run_result_kernel_bug(struct run_result *r, const char *kind, const char *line,
			   const char *report, double at);
/* What teelab's /init prints when the guest's shell is ready. */
#define READY_MARKER "@@TL:READY@@"
/*
 * Note what normal-world console line @line (seen @at seconds after QEMU
 * started) says about boot @b: the kernel release ("Linux version X"),
 * "optee: initialized driver", the ready marker; the first of each counts.
 */
void boot_record_line(struct boot_record *b, const char *line, double at);
/* The current boot record, or NULL before the first. */
struct boot_record *run_result_cur_boot(struct run_result *r);
void run_result_release(struct run_result *r);

/*
 * Each writes @path atomically; 0 or -errno (reported). result.json keeps
 * strings as they are (invalid UTF-8 becomes U+FFFD); junit.xml and
 * results.tap also drop ANSI escapes and '\r' and replace other control
 * characters. junit.xml keeps the last 64 KiB of each output.
 */
int results_write_json(const struct run_result *r, const char *path);
int results_write_junit(const struct run_result *r, const char *path);
int results_write_tap(const struct run_result *r, const char *path);
/* All three into @dir (created if needed) as result.json, junit.xml,
 * results.tap; tries every file, returns 0 or the first -errno (reported). */
int results_write_all(const struct run_result *r, const char *dir);

/*
 * ---- text hygiene and pieces of the writers, shared with report.c ----
 * Each appends to @sb (util.h); a NULL string adds nothing (attributes: "").
 */
struct strbuf;

enum text_mode {
	TEXT_JSON,	/* valid UTF-8 only; jansson escapes the rest */
	TEXT_XML,	/* XML 1.0 (and HTML) character data, escaped */
	TEXT_XML_ATTR,	/* XML/HTML attribute value, escaped, newlines as &#10; */
	TEXT_PLAIN,	/* printable lines, not escaped (YAML block) */
	TEXT_YAML_LINE,	/* printable, one line (TAP descriptions, YAML) */
};

/*
 * @s made fit for @mode: invalid UTF-8 becomes U+FFFD; for every mode but
 * JSON, ANSI escapes and '\r' are dropped and the characters XML 1.0 / YAML
 * do not allow become U+FFFD; XML modes escape & < > " '.
 */
void results_add_text(struct strbuf *sb, const char *s, enum text_mode mode);
/* ` name="value"`, the value escaped (TEXT_XML_ATTR): the HTML report's attributes. */
void results_xml_attr(struct strbuf *sb, const char *name, const char *value);
/*
 * Append one JUnit <testcase> for @t to @s (junit.h): classname =
 * @t->group ("teelab" when NULL), the element of verdict_junit_element()
 * with the message (or the verdict's default) and the verdict as its type,
 * <system-out> with the XFAIL reason and the last 64 KiB of the output.
 */
struct junit_suite;
void results_junit_testcase(struct junit_suite *s, const struct test_result *t);
/* A TAP description: one line, '#' and '\\' escaped so it starts no directive. */
void results_tap_desc(struct strbuf *sb, const char *s);
/* A YAML double-quoted scalar (one line, '"' and '\\' escaped). */
void results_yaml_quoted(struct strbuf *sb, const char *s);

#endif
