// SPDX-License-Identifier: MIT
/*
 * import.c - a LAVA job's log back into a teelab run (lava.h): both
 * consoles, the scenario's steps and xtest cases from LAVA's results, and
 * the verdict.
 */
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "lava.h"
#include "run.h"

/* Which console a namespace's connection shows: CON_NORMAL, CON_SECURE, or -1 (a duplicate). */
static int ns_console(json_t *namespaces, const char *ns)
{
	const char *c = ns ? json_string_value(json_object_get(namespaces, ns)) : NULL;

	if (!ns)
		return CON_NORMAL;
	if (c)
		return !strcmp(c, "secure") ? CON_SECURE : !strcmp(ns, "normal") ? CON_NORMAL : -1;
	/* a job teelab did not export: the names its exports use */
	if (starts_with(ns, "secure"))
		return CON_SECURE;
	return starts_with(ns, "normal-log") ? -1 : CON_NORMAL;
}

/* The namespace of a "start: <level> <name> (timeout <t>) [<ns>]" line, or NULL. */
static char *start_namespace(const char *msg)
{
	const char *open, *close;

	if (!starts_with(msg, "start: "))
		return NULL;
	open = strrchr(msg, '[');
	close = strrchr(msg, ']');
	if (!open || !close || close < open || close[1])
		return NULL;
	return xstrndup(open + 1, (size_t)(close - open - 1));
}

/* lava_dispatcher/power.py (the job's finalize): the namespace whose connection is read next */
#define FINALISING "Finalising connection for namespace '"

/* A definition's name without LAVA's "<stage>_" prefix. */
static const char *bare_definition(const char *d)
{
	const char *p = d;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > d && *p == '_' ? p + 1 : d;
}

struct importer {
	const struct lava_log *log;
	json_t *map;		/* mapping.json, or NULL */
	struct run_result *res;
	struct strbuf con[CON_COUNT];	/* the consoles as teelab writes them */
	struct classifier cls;
	double t0;		/* the log's time of QEMU's start (the first console line) */
	const struct lava_entry *job;	/* the "lava"/"job" result, or NULL */
	bool invalid;		/* LAVA's "validate" or "deployimages" failed: the job never booted */
	bool login_failed;	/* its "auto-login-action" failed: no shell prompt */
};

static void console_line(struct importer *im, int con, const struct lava_entry *e)
{
	double at;

	if (im->t0 < 0)
		im->t0 = e->t;
	at = e->t - im->t0;
	strbuf_addf(&im->con[con], "[%9.3f] %s\n", at, e->msg);
	classifier_line(&im->cls, (enum console_id)con, e->msg, at);
	if (con == CON_NORMAL && im->res->nr_boots)
		boot_record_line(&im->res->boots[0], e->msg, at);
}

/* Both consoles from the target and feedback lines. */
static void read_consoles(struct importer *im)
{
	json_t *namespaces = im->map ? json_object_get(im->map, "namespaces") : NULL;
	char *cur = NULL;

	for (size_t i = 0; i < im->log->nr; i++) {
		const struct lava_entry *e = &im->log->v[i];
		char *ns;
		int con;

		if (e->msg && !strcmp(e->lvl, "info") && (ns = start_namespace(e->msg))) {
			free(cur);
			cur = ns;
		} else if (e->msg && starts_with(e->msg, FINALISING)) {
			/* the job's end reads each connection once more */
			free(cur);
			cur = xstrndup(e->msg + strlen(FINALISING),
				       strcspn(e->msg + strlen(FINALISING), "'"));
		} else if (e->msg && !strcmp(e->lvl, "target")) {
			if ((con = ns_console(namespaces, cur)) >= 0)
				console_line(im, con, e);
		} else if (e->msg && !strcmp(e->lvl, "feedback")) {
			if ((con = ns_console(namespaces, e->ns)) >= 0)
				console_line(im, con, e);
		} else if (!strcmp(e->lvl, "results") && e->definition && e->tcase &&
			   !strcmp(e->definition, "lava") && !strcmp(e->tcase, "job")) {
			im->job = e;
		} else if (!strcmp(e->lvl, "results") && e->definition && e->tcase &&
			   !strcmp(e->definition, "lava") && e->result && strcmp(e->result, "pass")) {
			/* LAVA's own actions (lava_dispatcher/actions/...) */
			if (!strcmp(e->tcase, "validate") || !strcmp(e->tcase, "deployimages"))
				im->invalid = true;
			else if (!strcmp(e->tcase, "auto-login-action"))
				im->login_failed = true;
		}
	}
	free(cur);
}

static enum verdict lava_verdict(const char *result)
{
	if (!result)
		return V_ERROR;
	if (!strcmp(result, "pass"))
		return V_PASS;
	if (!strcmp(result, "skip"))
		return V_SKIP;
	return V_FAIL;	/* fail, unknown */
}

/*
 * The verdict LAVA gave @definition's case @tcase, and its cases
 * "@tcase.N" (an expect's further lines): FAIL if one failed, NOTRUN if
 * none was reported. *at gets the first one's time, *idx its log index.
 */
static enum verdict case_verdict(const struct importer *im, const char *definition,
				 const char *tcase, double *at, size_t *idx)
{
	enum verdict v = V_NOTRUN;
	size_t len = strlen(tcase);

	for (size_t i = 0; i < im->log->nr; i++) {
		const struct lava_entry *e = &im->log->v[i];

		if (strcmp(e->lvl, "results") || !e->definition || !e->tcase ||
		    strcmp(bare_definition(e->definition), definition) ||
		    strncmp(e->tcase, tcase, len) || (e->tcase[len] && e->tcase[len] != '.'))
			continue;
		if (v == V_NOTRUN) {
			*at = e->t;
			*idx = i;
		}
		if (v == V_NOTRUN || v == V_PASS)
			v = lava_verdict(e->result);
	}
	return v;
}

/* tl-lava-case's "tl-lava-case: <case>: <how>: <why>" line on the normal console. */
static char *case_reason(const struct importer *im, const char *tcase, bool *timeout)
{
	char *key = xasprintf("tl-lava-case: %s: ", tcase);
	const char *p = strstr(strbuf_str(&im->con[CON_NORMAL]), key);
	char *why = NULL;

	if (p) {
		p += strlen(key);
		*timeout = starts_with(p, "timeout: ");
		p = strstr(p, ": ");
		if (p)
			why = xstrndup(p + 2, strcspn(p + 2, "\n"));
	}
	free(key);
	return why;
}

/* A run step's output: between its @@TL:BEGIN/END markers on the normal console. */
static char *case_output(const struct importer *im, const char *tcase)
{
	char *begin = xasprintf("@@TL:BEGIN:%s@@\n", tcase), *end = xasprintf("@@TL:END:%s:", tcase);
	const char *text = strbuf_str(&im->con[CON_NORMAL]);
	const char *b = strstr(text, begin), *e;
	struct strbuf out = STRBUF_INIT;

	if (b && (e = strstr(b, end))) {
		/* drop the "[ seconds] " stamps the consoles carry */
		for (const char *p = b + strlen(begin); p < e;) {
			const char *nl = strchr(p, '\n'), *line = p;

			if (*line == '[' && strchr(line, ']') && strchr(line, ']') < nl)
				line = strchr(line, ']') + 2;
			/* e is inside the END marker's line: its stamp is not output */
			if (nl && nl < e)
				strbuf_add(&out, line, (size_t)(nl - line + 1));
			p = nl ? nl + 1 : e;
		}
	}
	free(begin);
	free(end);
	return strbuf_detach(&out);
}

/*
 * The xtest cases tl-lava-case reported in @definition between log
 * entries @from and @to (a run step's, before its own case).
 */
static void add_xtest_cases(struct importer *im, const char *definition, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < im->log->nr; i++) {
		const struct lava_entry *e = &im->log->v[i];
		char *group;

		if (strcmp(e->lvl, "results") || !e->definition || !e->tcase ||
		    strcmp(bare_definition(e->definition), definition) ||
		    (e->tcase[0] >= '0' && e->tcase[0] <= '9') || !strchr(e->tcase, '_'))
			continue;
		group = xasprintf("xtest.%.*s", (int)strcspn(e->tcase, "_"), e->tcase);
		run_result_add(im->res, group, e->tcase, lava_verdict(e->result), 0, NULL, NULL);
		free(group);
	}
}

/* An `assert` step, checked on the imported console: none of its patterns on any line. */
static enum verdict check_absent(const struct importer *im, json_t *step, char **msg)
{
	const char *con = json_string_value(json_object_get(step, "console"));
	const struct strbuf *text = &im->con[con && !strcmp(con, "normal") ? CON_NORMAL : CON_SECURE];
	json_t *absent = json_object_get(step, "absent"), *pat;
	size_t k;

	json_array_foreach(absent, k, pat) {
		regex_t re;
		regmatch_t m;

		if (regcomp(&re, json_string_value(pat), REG_EXTENDED | REG_NEWLINE))
			continue;
		if (!regexec(&re, strbuf_str(text), 1, &m, 0)) {
			const char *s = strbuf_str(text) + m.rm_so;
			const char *bol = s, *eol = strchr(s, '\n');

			while (bol > strbuf_str(text) && bol[-1] != '\n')
				bol--;
			*msg = xasprintf("matched: %.*s", (int)((eol ? eol : s + strlen(s)) - bol), bol);
			regfree(&re);
			return V_FAIL;
		}
		regfree(&re);
	}
	return V_PASS;
}

/*
 * What the job's own failure means for the step it stopped at and for the
 * run: a job LAVA refused before running it (an image it cannot fetch, a
 * sha256 that does not match) tested nothing: INFRA, as a missing image is
 * for `teelab run`; a boot that never reached the shell prompt in time is
 * the boot step's TIMEOUT.
 */
static enum verdict job_verdict(const struct importer *im)
{
	static const struct {
		const char *type;
		enum verdict v;
	} table[] = {
		{ "Infrastructure", V_INFRA }, { "Configuration", V_INFRA }, { "Bug", V_INFRA },
		{ "LAVATimeout", V_TIMEOUT }, { "Canceled", V_INTERRUPTED },
		{ "Job", V_FAIL }, { "Test", V_FAIL },
	};
	const char *type = im->job ? im->job->error_type : NULL;

	if (im->invalid)
		return V_INFRA;
	/* the boot step's timeout, as `teelab run` gives it */
	if (im->login_failed && im->job && im->job->error_msg && strstr(im->job->error_msg, "timed out"))
		return V_TIMEOUT;
	for (size_t i = 0; type && i < ARRAY_SIZE(table); i++)
		if (!strcmp(type, table[i].type))
			return table[i].v;
	return V_FAIL;
}

/* "LAVA job <error_type>: <error_msg>" (malloc'd) */
static char *job_reason(const struct importer *im, const char *what)
{
	char *r = xasprintf("%s%s: %s", what, im->job && im->job->error_type ?
			    im->job->error_type : "error",
			    im->job && im->job->error_msg ? im->job->error_msg : "");

	strtrim(r);	/* error_msg ends in a newline; r starts with @what */
	return r;
}

/* The scenario's steps, in order, from the mapping. */
static void add_steps(struct importer *im)
{
	json_t *steps = json_object_get(im->map, "steps"), *st;
	bool stopped = false;	/* a step was not reached: the job ended there */
	double prev = im->t0 > 0 ? im->t0 : 0;	/* when the step before ended (log time) */
	size_t from = 0;	/* the log entry after the step before's result */
	size_t k;

	json_array_foreach(steps, k, st) {
		const char *form = json_string_value(json_object_get(st, "form"));
		const char *name = json_string_value(json_object_get(st, "name"));
		const char *def = json_string_value(json_object_get(st, "definition"));
		const char *tcase = json_string_value(json_object_get(st, "case"));
		const char *xfail = json_string_value(json_object_get(st, "xfail"));
		enum verdict v = V_NOTRUN;
		char *msg = NULL, *out = NULL;
		double at = 0;
		size_t idx = 0;
		bool timeout = false;

		if (!form || !name)
			continue;
		if (!strcmp(form, "dropped")) {
			v = V_SKIP;
			msg = xasprintf("not in the LAVA job (--lossy): %s",
					json_string_value(json_object_get(st, "dropped")));
		} else if (!strcmp(form, "import")) {
			v = stopped ? V_NOTRUN : check_absent(im, st, &msg);
		} else if (!strcmp(form, "sleep")) {
			v = stopped ? V_NOTRUN : V_PASS;
		} else if (def && tcase) {
			v = case_verdict(im, def, tcase, &at, &idx);
			if (!strcmp(form, "run")) {
				out = case_output(im, tcase);
				msg = case_reason(im, tcase, &timeout);
				if (v == V_FAIL && timeout)
					v = V_TIMEOUT;
				if (json_string_value(json_object_get(st, "parser")))
					add_xtest_cases(im, def, from, v == V_NOTRUN ? im->log->nr : idx);
			}
		}
		if (v == V_NOTRUN && !stopped) {
			/* the first step LAVA did not report: where the job ended */
			stopped = true;
			if (im->job && im->job->result && strcmp(im->job->result, "pass")) {
				v = job_verdict(im);
				msg = job_reason(im, im->invalid ? "LAVA did not run the job: "
						 : "the LAVA job ended here: ");
			} else {
				v = V_ERROR;
				msg = xstrdup("LAVA reported no result for it");
			}
		} else if (v == V_NOTRUN) {
			msg = xstrdup("not reached in the LAVA job");
		}
		if (xfail && v == V_FAIL) {
			free(msg);
			msg = xstrdup(xfail);
			v = V_XFAIL;
		} else if (xfail && v == V_PASS) {
			v = V_XPASS;
		}
		/* a step's duration: from the previous step's result to its own */
		run_result_add(im->res, "steps", name, v, at > prev ? at - prev : 0, msg,
			       out && *out ? out : NULL);
		if (at > prev)
			prev = at;
		if (idx)
			from = idx + 1;
		free(msg);
		free(out);
	}
}

/* Without a mapping: every case LAVA reported outside its own "lava" definition. */
static void add_cases(struct importer *im)
{
	for (size_t i = 0; i < im->log->nr; i++) {
		const struct lava_entry *e = &im->log->v[i];

		if (!strcmp(e->lvl, "results") && e->definition && e->tcase &&
		    strcmp(e->definition, "lava"))
			run_result_add(im->res, bare_definition(e->definition), e->tcase,
				       lava_verdict(e->result), 0, NULL, NULL);
	}
}

/* The run's verdict from what the consoles revealed and how the job ended. */
static void judge(struct importer *im)
{
	struct run_result *res = im->res;
	const struct kernel_report *kr = &im->cls.report;

	if (kr->kind != KREPORT_NONE)
		run_result_kernel_bug(res, kreport_kind_name(kr->kind), kr->line,
				      strbuf_str(&kr->text), kr->at);
	if (im->cls.event == EV_TEE_PANIC) {
		res->verdict = V_TEE_PANIC;
		res->reason = xasprintf("OP-TEE panicked: %s", im->cls.event_line);
	} else if (im->cls.event == EV_KERNEL_PANIC) {
		res->verdict = V_KERNEL_PANIC;
		res->reason = xasprintf("Linux panicked: %s", im->cls.event_line);
	} else if (kr->kind != KREPORT_NONE) {
		res->verdict = V_KERNEL_BUG;
		res->reason = xasprintf("kernel report %s: %s", kreport_kind_name(kr->kind), kr->line);
	} else if (im->job && im->job->result && strcmp(im->job->result, "pass")) {
		res->verdict = job_verdict(im);
		res->reason = job_reason(im, im->invalid ? "LAVA did not run the job: "
					 : "LAVA job ");
	} else if (!im->job) {
		res->verdict = V_INFRA;
		res->reason = xstrdup("the LAVA log has no job result (the job did not finish)");
	} else {
		res->verdict = V_PASS;	/* run_finish(): the worst step's verdict */
	}
}

static unsigned ignored_kinds(json_t *map)
{
	json_t *kinds = json_object_get(map, "ignore_kernel_bugs"), *k;
	unsigned bits = 0;
	size_t i;

	json_array_foreach(kinds, i, k) {
		enum kreport_kind kind = kreport_kind_parse(json_string_value(k));

		if (kind != KREPORT_NONE)
			bits |= 1u << kind;
	}
	return bits;
}

int lava_import(const struct lava_log *log, const char *mapping_path, const char *dir,
		struct run_result *res)
{
	struct importer im = { .log = log, .res = res, .t0 = -1 };
	const char *files[CON_COUNT] = { "nw-console.log", "sw-console.log" };
	json_error_t jerr;
	int ret = 0;

	if (mapping_path) {
		im.map = json_load_file(mapping_path, 0, &jerr);
		if (!im.map)
			return error("%s:%d: %s", mapping_path, jerr.line, jerr.text);
	}
	classifier_init(&im.cls, 0);
	if (im.map)
		im.cls.report_ignore = ignored_kinds(im.map);
	run_result_boot(res, 1, "power-on", NULL, 0);
	read_consoles(&im);
	for (int c = 0; c < CON_COUNT; c++) {
		char *p = path_join(dir, files[c]);

		if (write_file_str(p, strbuf_str(&im.con[c])))
			ret = error_errno("cannot write '%s'", p);
		free(p);
	}
	/* the boot's result.json record covers every test */
	if (im.map)
		add_steps(&im);
	else
		add_cases(&im);
	res->boots[0].end_test = res->nr_tests;
	if (im.map) {
		const char *s = json_string_value(json_object_get(im.map, "expected"));

		free(res->expected);
		res->expected = s ? xstrdup(s) : NULL;
	}
	judge(&im);
	res->duration = log->nr ? log->v[log->nr - 1].t : 0;
	run_result_env(res, "backend", "lava");
	if (im.job && im.job->error_type)
		run_result_env(res, "lava_error_type", im.job->error_type);
	if (im.map) {
		static const char *const keys[] = { "cell", "profile", "kernel", "secure", NULL };

		for (size_t k = 0; keys[k]; k++)
			if (json_string_value(json_object_get(im.map, keys[k])))
				run_result_env(res, keys[k],
					       json_string_value(json_object_get(im.map, keys[k])));
	}
	for (int c = 0; c < CON_COUNT; c++)
		strbuf_release(&im.con[c]);
	classifier_release(&im.cls);
	json_decref(im.map);
	return ret ? ret : run_finish(res, dir);
}

char *lava_mapping_scenario(const char *mapping_path)
{
	json_t *map = json_load_file(mapping_path, 0, NULL);
	const char *s = json_string_value(json_object_get(map, "scenario"));
	char *name = s ? xstrdup(s) : NULL;

	json_decref(map);
	return name;
}

int lava_import_run(const char *log_path, const char *mapping, const char *run_dir,
		    const char *runs_dir, const char *lava_job)
{
	struct lava_log log;
	struct run_result res = RUN_RESULT_INIT;
	char *dir, *copy, started[32];
	const char *base;
	int ret;

	if (lava_log_load(log_path, &log))
		return TL_EXIT_USAGE;
	if (mapping) {
		json_error_t jerr;
		json_t *m = json_load_file(mapping, 0, &jerr);

		if (!m) {
			lava_log_release(&log);
			return error("%s:%d: %s", mapping, jerr.line, jerr.text), TL_EXIT_USAGE;
		}
		json_decref(m);
	}
	res.scenario = mapping ? lava_mapping_scenario(mapping) : NULL;
	if (!res.scenario)
		res.scenario = xstrdup("lava-job");
	if (run_dir) {
		dir = xstrdup(run_dir);
		if (mkdir_p(dir, 0755)) {
			error_errno("cannot create '%s'", dir);
			free(dir);
			dir = NULL;
		}
	} else {
		dir = run_dir_create(runs_dir, res.scenario);
	}
	if (!dir) {
		lava_log_release(&log);
		run_result_release(&res);
		return TL_EXIT_INFRA;
	}
	base = strrchr(dir, '/');
	res.run_id = xstrdup(base ? base + 1 : dir);
	iso_time_now(started, sizeof(started));
	res.started = xstrdup(started);
	run_result_env(&res, "lava_log", log_path);
	if (lava_job)
		run_result_env(&res, "lava_job", lava_job);
	/* the log as LAVA wrote it, beside what teelab made of it */
	copy = path_join(dir, "lava-job.log");
	if (copy_file(log_path, copy))
		warning("cannot copy '%s' into the run directory", log_path);
	free(copy);
	if (!mapping)
		warning("%s: no mapping.json: LAVA's test cases are imported as they are", log_path);
	ret = lava_import(&log, mapping, dir, &res);
	if (ret < 0)
		ret = TL_EXIT_USAGE;
	report_line("teelab: %s %s%s%s (LAVA, %.1f s) - %s", res.scenario,
		    verdict_name(res.verdict), res.reason ? ": " : "", res.reason ? res.reason : "",
		    res.duration, dir);
	printf("%s\n", verdict_name(res.verdict));
	lava_log_release(&log);
	run_result_release(&res);
	free(dir);
	return ret;
}
