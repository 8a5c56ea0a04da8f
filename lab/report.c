// SPDX-License-Identifier: MIT
/* report.c - the nightly report of a matrix run; see report.h */
#include "report.h"
#include "junit.h"
#include "results.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- the model: matrix.json and the cells' result.json ---- */

struct cell {
	json_t *j;		/* the cell's object in the matrix (borrowed) */
	const char *id;		/* never NULL */
	const char *scenario, *cell, *kernel, *secure;	/* NULL: default */
	const char *expected;	/* never NULL ("PASS" when absent) */
	const char *verdict;	/* teelab's verdict, or NULL */
	const char *observed;	/* what the run gave: "observed", else "verdict", else "NONE" */
	const char *reason;	/* or NULL */
	const char *host;	/* the libvirt URI it ran on (--hosts), or NULL */
	const char *run_dir;	/* relative to the report, or NULL */
	bool met;
	double wall;		/* seconds */
	long long exit_code;
	char *dir;		/* the run directory as a path (malloc'd), or NULL */
	json_t *result;		/* its result.json (owned), or NULL */
};

struct report_matrix {
	char *path;		/* matrix.json (malloc'd) */
	json_t *root;		/* owned; every const char * above points into it */
	const char *name, *file, *started, *shard;
	double duration;	/* seconds */
	long long jobs;
	size_t nr;
	struct cell *cells;
	/* earlier reports (--history), oldest first, for each cell's wall-time chart */
	struct report_matrix *history;
	size_t nr_history;
};

struct compare {
	const char *against;	/* the previous report directory */
	struct strvec new_failures, fixed, still_failing, new_cells, gone;
};

/* @key of @o if it is a string, else NULL. */
static const char *jget_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* @key of @o if it is a number, else 0. */
static double jget_num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* A copy of @key of @o, or null. */
static json_t *jget_copy(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return v ? json_deep_copy(v) : json_null();
}

/* Parse the JSON file @path into *out. 0 or -errno (reported, unless !@report). */
static int load_json(const char *path, json_t **out, bool report)
{
	json_error_t jerr = { 0 };
	char *text = NULL;
	size_t len = 0;
	int ret = read_file(path, &text, &len);

	*out = NULL;
	if (ret) {
		if (report)
			error("cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	*out = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!*out) {
		if (report)
			error("'%s': line %d, column %d: %s", path, jerr.line,
			      jerr.column, jerr.text);
		return -EINVAL;
	}
	return 0;
}

static bool valid_id(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	}
	return true;
}

static void report_matrix_release(struct report_matrix *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->cells[i].dir);
		json_decref(m->cells[i].result);
	}
	free(m->cells);
	json_decref(m->root);
	free(m->path);
	for (size_t i = 0; i < m->nr_history; i++)
		report_matrix_release(&m->history[i]);
	free(m->history);
	memset(m, 0, sizeof(*m));
}

/*
 * Load <@dir>/matrix.json into @m: an object with a "cells" array of objects,
 * each with a unique valid "id" and a boolean "met". 0 or -errno (reported).
 */
static int report_load(const char *dir, struct report_matrix *m)
{
	json_t *cells = NULL, *o = NULL;
	size_t idx = 0;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->path = path_join(dir, "matrix.json");
	ret = load_json(m->path, &m->root, true);
	if (ret)
		return ret;
	if (!json_is_object(m->root))
		return error_code(-EINVAL, "'%s': not a JSON object", m->path);
	cells = json_object_get(m->root, "cells");
	if (!json_is_array(cells))
		return error_code(-EINVAL, "'%s': no \"cells\" array", m->path);
	m->name = jget_str(m->root, "name");
	m->file = jget_str(m->root, "file");
	m->started = jget_str(m->root, "started");
	m->shard = jget_str(m->root, "shard");
	m->duration = jget_num(m->root, "duration");
	m->jobs = (long long)jget_num(m->root, "jobs");
	m->cells = xcalloc(json_array_size(cells) + 1, sizeof(*m->cells));
	json_array_foreach(cells, idx, o) {
		struct cell *c = &m->cells[m->nr];
		json_t *met = json_object_get(o, "met");

		if (!json_is_object(o))
			return error_code(-EINVAL, "'%s': cell %zu is not an object", m->path, idx + 1);
		c->j = o;
		c->id = jget_str(o, "id");
		if (!valid_id(c->id))
			return error_code(-EINVAL, "'%s': cell %zu: \"id\" must be a non-empty string of "
				        "[A-Za-z0-9_.-]", m->path, idx + 1);
		for (size_t k = 0; k < m->nr; k++)
			if (!strcmp(m->cells[k].id, c->id))
				return error_code(-EINVAL, "'%s': cell id '%s' appears twice", m->path,
					        c->id);
		if (!json_is_boolean(met))
			return error_code(-EINVAL, "'%s': cell '%s': \"met\" must be true or false",
				        m->path, c->id);
		c->met = json_is_true(met);
		c->scenario = jget_str(o, "scenario");
		c->cell = jget_str(o, "cell");
		c->kernel = jget_str(o, "kernel");
		c->secure = jget_str(o, "secure");
		c->expected = jget_str(o, "expected");
		if (!c->expected)
			c->expected = "PASS";
		c->verdict = jget_str(o, "verdict");
		c->observed = jget_str(o, "observed");
		if (!c->observed)
			c->observed = c->verdict ? c->verdict : "NONE";
		c->reason = jget_str(o, "reason");
		c->host = jget_str(o, "host");
		c->run_dir = jget_str(o, "run_dir");
		if (c->run_dir && !*c->run_dir)
			c->run_dir = NULL;
		c->wall = jget_num(o, "wall");
		c->exit_code = (long long)jget_num(o, "exit_code");
		m->nr++;
	}
	return 0;
}

/* Each cell's run directory and its result.json (a warning when unreadable). */
static void report_load_runs(struct report_matrix *m, const char *out_dir)
{
	for (size_t i = 0; i < m->nr; i++) {
		struct cell *c = &m->cells[i];
		char *path = NULL;
		int ret = 0;

		if (!c->run_dir)
			continue;
		c->dir = c->run_dir[0] == '/' ? xstrdup(c->run_dir)
					      : path_join(out_dir, c->run_dir);
		path = path_join(c->dir, "result.json");
		ret = load_json(path, &c->result, false);
		if (ret == -EINVAL)
			warning("cell '%s': '%s' is not valid JSON; reported without its tests",
				c->id, path);
		else if (ret)
			warning("cell '%s': cannot read '%s': %s; reported without its tests",
				c->id, path, strerror(-ret));
		else if (!json_is_object(c->result)) {
			warning("cell '%s': '%s' is not a JSON object; reported without its tests",
				c->id, path);
			json_decref(c->result);
			c->result = NULL;
		}
		free(path);
	}
}

static const struct cell *find_cell(const struct report_matrix *m, const char *id)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->cells[i].id, id))
			return &m->cells[i];
	return NULL;
}

static void compare_build(struct compare *cmp, const struct report_matrix *cur,
			  const struct report_matrix *prev)
{
	for (size_t i = 0; i < cur->nr; i++) {
		const struct cell *c = &cur->cells[i];
		const struct cell *p = find_cell(prev, c->id);

		if (!p)
			strvec_push(&cmp->new_cells, c->id);
		if (!c->met && (!p || p->met))
			strvec_push(&cmp->new_failures, c->id);
		else if (c->met && p && !p->met)
			strvec_push(&cmp->fixed, c->id);
		else if (!c->met && p && !p->met)
			strvec_push(&cmp->still_failing, c->id);
	}
	for (size_t i = 0; i < prev->nr; i++)
		if (!find_cell(cur, prev->cells[i].id))
			strvec_push(&cmp->gone, prev->cells[i].id);
}

static void compare_release(struct compare *cmp)
{
	strvec_release(&cmp->new_failures);
	strvec_release(&cmp->fixed);
	strvec_release(&cmp->still_failing);
	strvec_release(&cmp->new_cells);
	strvec_release(&cmp->gone);
}

static size_t count_met(const struct report_matrix *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nr; i++)
		n += m->cells[i].met;
	return n;
}

/* "expected X, got Y[: reason]" (caller frees). */
static char *cell_message(const struct cell *c)
{
	return xasprintf("expected %s, got %s%s%s", c->expected, c->observed,
			 c->reason ? ": " : "", c->reason ? c->reason : "");
}

/* ---- junit.xml ---- */

/*
 * The run's tests as <testcase>s of @s (classname "<cell id>.<group>"),
 * the testcases themselves results.c's.
 */
static void junit_run_tests(struct junit_suite *s, const struct cell *c)
{
	struct run_result r = RUN_RESULT_INIT;
	json_t *tests = json_object_get(c->result, "tests");
	json_t *t = NULL;
	size_t idx = 0;

	json_array_foreach(tests, idx, t) {
		const char *group = jget_str(t, "group");
		const char *vname = jget_str(t, "verdict");
		const char *message = jget_str(t, "message");
		char *classname = group ? xasprintf("%s.%s", c->id, group) : xstrdup(c->id);
		char *unknown = NULL;
		enum verdict v = V_ERROR;

		if (verdict_parse(vname, &v)) {
			v = V_ERROR;
			unknown = xasprintf("unknown verdict '%s'%s%s", vname ? vname : "(none)",
					    message ? ": " : "", message ? message : "");
			message = unknown;
		}
		run_result_add(&r, classname, jget_str(t, "name"), v,
			       jget_num(t, "duration"), message, jget_str(t, "output"));
		results_junit_testcase(s, &r.tests[r.nr_tests - 1]);
		free(unknown);
		free(classname);
	}
	run_result_release(&r);
}

/* One <testsuite> for the cell: its run's tests, then the cell verdict, which fails unless met. */
static void junit_suite(struct junit *j, const struct cell *c)
{
	struct junit_suite *s = junit_add_suite(j, c->id, c->wall,
						c->result ? jget_str(c->result, "started") : NULL);
	struct junit_case *verdict = NULL;
	char *exit_code = xasprintf("%lld", c->exit_code);

	junit_add_property(s, "teelab.scenario", c->scenario);
	if (c->cell)
		junit_add_property(s, "teelab.cell", c->cell);
	junit_add_property(s, "teelab.kernel", c->kernel ? c->kernel : "default");
	junit_add_property(s, "teelab.secure", c->secure ? c->secure : "default");
	junit_add_property(s, "teelab.expected", c->expected);
	junit_add_property(s, "teelab.verdict", c->verdict);
	junit_add_property(s, "teelab.observed", c->observed);
	junit_add_property(s, "teelab.met", c->met ? "true" : "false");
	junit_add_property(s, "teelab.exit_code", exit_code);
	if (c->run_dir)
		junit_add_property(s, "teelab.run_dir", c->run_dir);
	if (c->reason)
		junit_add_property(s, "teelab.reason", c->reason);
	if (c->host)
		junit_add_property(s, "teelab.host", c->host);
	if (c->result)
		junit_run_tests(s, c);
	verdict = junit_add_case(s, c->id, "cell verdict", c->wall);
	if (!c->met) {
		verdict->elem = "failure";
		verdict->message = cell_message(c);
		verdict->type = xstrdup(c->observed);
	}
	free(exit_code);
}

static int write_junit(const struct report_matrix *m, const struct compare *cmp UNUSED,
		       const char *path)
{
	struct junit j = JUNIT_INIT;
	int ret = 0;

	junit_init(&j, m->name ? m->name : "teelab-matrix", m->duration);
	for (size_t i = 0; i < m->nr; i++)
		junit_suite(&j, &m->cells[i]);
	ret = junit_write(&j, path);
	junit_release(&j);
	return ret;
}

/* ---- results.tap ---- */

/* "  key: <quoted value or null>\n" */
static void yaml_field(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_addf(sb, "  %s: ", key);
	if (value)
		results_yaml_quoted(sb, value);
	else
		strbuf_addstr(sb, "null");
	strbuf_addch(sb, '\n');
}

static int write_tap(const struct report_matrix *m, const struct compare *cmp UNUSED,
		     const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&sb, "TAP version 13\n");
	strbuf_addf(&sb, "1..%zu\n", m->nr);
	for (size_t i = 0; i < m->nr; i++) {
		const struct cell *c = &m->cells[i];

		strbuf_addf(&sb, "%s %zu - ", c->met ? "ok" : "not ok", i + 1);
		results_tap_desc(&sb, c->id);
		strbuf_addch(&sb, ' ');
		results_tap_desc(&sb, c->observed);
		if (strcmp(c->expected, "PASS") && c->met) {
			strbuf_addstr(&sb, " as expected");
		} else if (strcmp(c->expected, "PASS")) {
			strbuf_addstr(&sb, ", expected ");
			results_tap_desc(&sb, c->expected);
		}
		strbuf_addf(&sb, " (%.1f s)\n", isfinite(c->wall) && c->wall > 0 ? c->wall : 0.0);
		if (c->met)
			continue;
		strbuf_addstr(&sb, "  ---\n");
		yaml_field(&sb, "expected", c->expected);
		yaml_field(&sb, "observed", c->observed);
		yaml_field(&sb, "verdict", c->verdict);
		strbuf_addf(&sb, "  exit_code: %lld\n", c->exit_code);
		yaml_field(&sb, "reason", c->reason);
		yaml_field(&sb, "run_dir", c->run_dir);
		strbuf_addstr(&sb, "  ...\n");
	}
	strbuf_addstr(&sb, "# ");
	results_add_text(&sb, m->name ? m->name : "matrix", TEXT_YAML_LINE);
	strbuf_addf(&sb, ": %zu/%zu cells met\n", count_met(m), m->nr);
	ret = write_file(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return ret;
}

/* ---- result.json ---- */

static json_t *json_ids(const struct strvec *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->nr; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

/* The report of @m (and @cmp) as JSON into @path. 0 or -errno (reported). */
static int write_json(const struct report_matrix *m, const struct compare *cmp,
		      const char *path)
{
	static const char *const keys[] = {
		"name", "teelab_version", "file", "started", "duration", "build_seconds", "jobs",
		"shard",
	};
	json_t *root = json_object(), *cells = json_array(), *totals = json_object();
	struct strbuf sb = STRBUF_INIT;
	size_t met = count_met(m);
	char *text = NULL;
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		json_object_set_new(root, keys[i], jget_copy(m->root, keys[i]));
	for (size_t i = 0; i < m->nr; i++) {
		const struct cell *c = &m->cells[i];
		json_t *o = json_deep_copy(c->j);
		json_t *sum = c->result ? json_object_get(c->result, "summary") : NULL;

		json_object_set_new(o, "summary",
				    json_is_object(sum) ? json_deep_copy(sum) : json_null());
		json_array_append_new(cells, o);
	}
	json_object_set_new(root, "cells", cells);
	json_object_set_new(totals, "cells", json_integer((json_int_t)m->nr));
	json_object_set_new(totals, "met", json_integer((json_int_t)met));
	json_object_set_new(totals, "not_met", json_integer((json_int_t)(m->nr - met)));
	json_object_set_new(root, "totals", totals);
	if (cmp) {
		json_t *o = json_object();

		json_object_set_new(o, "against", json_string(cmp->against));
		json_object_set_new(o, "new_failures", json_ids(&cmp->new_failures));
		json_object_set_new(o, "fixed", json_ids(&cmp->fixed));
		json_object_set_new(o, "still_failing", json_ids(&cmp->still_failing));
		json_object_set_new(o, "new_cells", json_ids(&cmp->new_cells));
		json_object_set_new(o, "gone", json_ids(&cmp->gone));
		json_object_set_new(root, "compare", o);
	} else {
		json_object_set_new(root, "compare", json_null());
	}

	text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	if (!text) {
		ret = error_code(-ENOMEM, "cannot encode '%s'", path);
	} else {
		strbuf_addstr(&sb, text);
		strbuf_addch(&sb, '\n');
		ret = write_file(path, sb.buf, sb.len, 0644);
	}
	strbuf_release(&sb);
	free(text);
	json_decref(root);
	return ret;
}

/* ---- index.html ---- */

static void html(struct strbuf *sb, const char *s)
{
	results_add_text(sb, s, TEXT_XML);
}

/* Attribute @attr = @dir/@file percent-encoded (a path, '/' kept), then attribute-escaped. */
static void html_path_attr(struct strbuf *sb, const char *attr, const char *dir, const char *file)
{
	static const char hex[] = "0123456789ABCDEF";
	char *p = path_join(dir, file);

	strbuf_addf(sb, " %s=\"", attr);
	for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~/", *s)) {
			strbuf_addch(sb, (char)*s);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[*s >> 4]);
			strbuf_addch(sb, hex[*s & 15]);
		}
	}
	strbuf_addch(sb, '"');
	free(p);
}

/* An href: @dir/@file (html_path_attr) */
static void html_href(struct strbuf *sb, const char *dir, const char *file)
{
	html_path_attr(sb, "href", dir, file);
}

/* The colour class of a cell: by what the run gave, green when it met a non-PASS expectation. */
static const char *verdict_class(const struct cell *c)
{
	static const struct {
		const char *verdict, *cls;
	} classes[] = {
		{ "PASS", "v-pass" }, { "XFAIL", "v-met" },
		{ "FAIL", "v-fail" }, { "XPASS", "v-fail" },
		{ "DEADLOCK", "v-stall" }, { "HANG", "v-stall" }, { "TIMEOUT", "v-stall" },
		{ "KERNEL_PANIC", "v-panic" }, { "KERNEL_BUG", "v-panic" }, { "TEE_PANIC", "v-panic" },
		{ "INFRA", "v-infra" },
	};

	if (c->met && strcmp(c->expected, "PASS"))
		return "v-met";
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (!strcmp(c->observed, classes[i].verdict))
			return classes[i].cls;
	return "v-other";
}

static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

static const char html_style[] =
	"<style>\n"
	"body { font-family: sans-serif; margin: 1.5em; color: #222; }\n"
	"h1 { margin-bottom: 0.2em; }\n"
	".summary { margin-top: 0; font-size: 1.1em; }\n"
	".summary .bad { color: #b71c1c; font-weight: bold; }\n"
	".summary .good { color: #1b5e20; font-weight: bold; }\n"
	"table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n"
	"th, td { border: 1px solid #999; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }\n"
	"th { background: #eee; }\n"
	"table.matrix td { padding: 0; min-width: 9em; }\n"
	"table.matrix td.none { color: #999; padding: 0.3em 0.5em; text-align: center; }\n"
	".c { padding: 0.3em 0.5em; }\n"
	".c + .c { border-top: 1px solid #999; }\n"
	".c .verdict { font-weight: bold; color: inherit; }\n"
	".c .wall { display: block; font-size: 0.85em; }\n"
	".c .expect { display: block; font-size: 0.85em; font-style: italic; }\n"
	".c .links { display: block; font-size: 0.8em; }\n"
	".c .links a { color: inherit; margin-right: 0.4em; }\n"
	".v-pass { background: #a5d6a7; }\n"
	".v-met { background: #c5e1a5; }\n"
	".v-fail { background: #ef9a9a; }\n"
	".v-stall { background: #ffb74d; }\n"
	".v-panic { background: #8b0000; color: #fff; }\n"
	".v-infra { background: #bdbdbd; }\n"
	".v-other { background: #e0e0e0; }\n"
	".notmet { outline: 3px solid #000; outline-offset: -3px; }\n"
	".legend span { display: inline-block; padding: 0.2em 0.6em; margin: 0 0.3em 0.3em 0; border: 1px solid #999; }\n"
	".changes h3 { margin: 0.8em 0 0.2em; font-size: 1em; }\n"
	".changes .new-failures h3, .changes .new-failures a { color: #b71c1c; }\n"
	".changes .fixed h3, .changes .fixed a { color: #1b5e20; }\n"
	".changes ul { margin: 0.2em 0; }\n"
	".none-listed { color: #777; }\n"
	"tr.tl td { padding: 0 0 0.8em 1.5em; border-top: none; }\n"
	"tr.tl img { border: 1px solid #ddd; max-width: 100%; }\n"
	"svg.hist { vertical-align: middle; }\n"
	"</style>\n";

static void html_summary(struct strbuf *sb, const struct report_matrix *m)
{
	size_t met = count_met(m);

	strbuf_addstr(sb, "<h1>teelab matrix ");
	html(sb, m->name ? m->name : "(unnamed)");
	strbuf_addstr(sb, "</h1>\n<p class=\"summary\">started ");
	html(sb, m->started ? m->started : "(unknown)");
	strbuf_addf(sb, ", %.1f s, %lld job%s", isfinite(m->duration) && m->duration > 0 ?
		    m->duration : 0.0, m->jobs, m->jobs == 1 ? "" : "s");
	if (m->shard) {
		strbuf_addstr(sb, ", shard ");
		html(sb, m->shard);
	}
	strbuf_addf(sb, ", <span class=\"%s\">%zu/%zu cells met</span>",
		    met == m->nr ? "good" : "bad", met, m->nr);
	if (m->file) {
		strbuf_addstr(sb, " (");
		html(sb, m->file);
		strbuf_addch(sb, ')');
	}
	strbuf_addstr(sb, "</p>\n");
}

static void html_id_list(struct strbuf *sb, const char *cls, const char *title,
			 const struct strvec *ids, bool link)
{
	strbuf_addf(sb, "<div class=\"%s\">\n<h3>%s (%zu)</h3>\n", cls, title, ids->nr);
	if (!ids->nr) {
		strbuf_addstr(sb, "<p class=\"none-listed\">none</p>\n</div>\n");
		return;
	}
	strbuf_addstr(sb, "<ul>\n");
	for (size_t i = 0; i < ids->nr; i++) {
		strbuf_addstr(sb, "<li>");
		if (link) {
			/* ids are [A-Za-z0-9_.-]: fine as fragment and element id */
			strbuf_addstr(sb, "<a href=\"#cell-");
			results_add_text(sb, ids->v[i], TEXT_XML_ATTR);
			strbuf_addstr(sb, "\">");
		}
		html(sb, ids->v[i]);
		if (link)
			strbuf_addstr(sb, "</a>");
		strbuf_addstr(sb, "</li>\n");
	}
	strbuf_addstr(sb, "</ul>\n</div>\n");
}

static void html_changes(struct strbuf *sb, const struct compare *cmp)
{
	strbuf_addstr(sb, "<section class=\"changes\">\n<h2>Changes since ");
	html(sb, cmp->against);
	strbuf_addstr(sb, "</h2>\n");
	html_id_list(sb, "new-failures", "New failures", &cmp->new_failures, true);
	html_id_list(sb, "fixed", "Fixed", &cmp->fixed, true);
	html_id_list(sb, "still-failing", "Still failing", &cmp->still_failing, true);
	html_id_list(sb, "new-cells", "New cells", &cmp->new_cells, true);
	html_id_list(sb, "gone", "Gone", &cmp->gone, false);
	strbuf_addstr(sb, "</section>\n");
}

/* A row label: "scenario" or "scenario / cell" (caller frees). */
static char *row_label(const struct cell *c)
{
	const char *s = c->scenario ? c->scenario : "(no scenario)";

	return c->cell ? xasprintf("%s / %s", s, c->cell) : xstrdup(s);
}

/* A column label: "kernel\nsecure", "default" for either when NULL (caller frees). */
static char *col_label(const struct cell *c)
{
	return xasprintf("%s\n%s", c->kernel ? c->kernel : "default",
			 c->secure ? c->secure : "default");
}

/* One run in a matrix position: verdict, wall time, links to its files. */
static void html_matrix_entry(struct strbuf *sb, const struct cell *c)
{
	static const struct {
		const char *file, *label;
	} links[] = {
		{ "result.json", "result" },
		{ "nw-console.log", "nw" },
		{ "sw-console.log", "sw" },
		{ "teelab.log", "log" },
		{ "evidence/summary.txt", "evidence" },
	};

	strbuf_addf(sb, "<div class=\"c %s%s\"", verdict_class(c), c->met ? "" : " notmet");
	results_xml_attr(sb, "title", c->id);
	strbuf_addstr(sb, "><a class=\"verdict\" href=\"#cell-");
	results_add_text(sb, c->id, TEXT_XML_ATTR);
	strbuf_addstr(sb, "\">");
	html(sb, c->observed);
	strbuf_addstr(sb, "</a>");
	if (!c->met) {
		strbuf_addstr(sb, "<span class=\"expect\">expected ");
		html(sb, c->expected);
		strbuf_addstr(sb, "</span>");
	} else if (strcmp(c->expected, "PASS")) {
		strbuf_addstr(sb, "<span class=\"expect\">as expected</span>");
	}
	strbuf_addf(sb, "<span class=\"wall\">%.1f s</span>",
		    isfinite(c->wall) && c->wall > 0 ? c->wall : 0.0);
	if (c->dir) {
		strbuf_addstr(sb, "<span class=\"links\">");
		for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
			char *p = path_join(c->dir, links[i].file);

			if (file_exists(p)) {
				strbuf_addstr(sb, "<a");
				html_href(sb, c->run_dir, links[i].file);
				strbuf_addf(sb, ">%s</a>", links[i].label);
			}
			free(p);
		}
		strbuf_addstr(sb, "</span>");
	}
	strbuf_addstr(sb, "</div>");
}

static void html_matrix(struct strbuf *sb, const struct report_matrix *m)
{
	struct strvec rows = STRVEC_INIT, cols = STRVEC_INIT;
	char **row_of = xcalloc(m->nr + 1, sizeof(char *));
	char **col_of = xcalloc(m->nr + 1, sizeof(char *));

	/* rows and columns in the order they first appear in the matrix */
	for (size_t i = 0; i < m->nr; i++) {
		row_of[i] = row_label(&m->cells[i]);
		col_of[i] = col_label(&m->cells[i]);
		if (!strvec_contains(&rows, row_of[i]))
			strvec_push(&rows, row_of[i]);
		if (!strvec_contains(&cols, col_of[i]))
			strvec_push(&cols, col_of[i]);
	}

	strbuf_addstr(sb, "<h2>Matrix</h2>\n<table class=\"matrix\">\n<thead><tr><th>scenario</th>");
	for (size_t k = 0; k < cols.nr; k++) {
		const char *nl = strchr(cols.v[k], '\n');
		char *kernel = xstrndup(cols.v[k], (size_t)(nl - cols.v[k]));

		strbuf_addstr(sb, "<th>");
		html(sb, kernel);
		strbuf_addstr(sb, "<br>");
		html(sb, nl + 1);
		strbuf_addstr(sb, "</th>");
		free(kernel);
	}
	strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < rows.nr; r++) {
		strbuf_addstr(sb, "<tr><th>");
		html(sb, rows.v[r]);
		strbuf_addstr(sb, "</th>");
		for (size_t k = 0; k < cols.nr; k++) {
			bool any = false;

			for (size_t i = 0; i < m->nr; i++) {
				if (strcmp(row_of[i], rows.v[r]) || strcmp(col_of[i], cols.v[k]))
					continue;
				if (!any)
					strbuf_addstr(sb, "<td>");
				any = true;
				html_matrix_entry(sb, &m->cells[i]);
			}
			strbuf_addstr(sb, any ? "</td>" : "<td class=\"none\">&mdash;</td>");
		}
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n");

	strbuf_addstr(sb, "<p class=\"legend\">"
		      "<span class=\"v-pass\">PASS</span>"
		      "<span class=\"v-fail\">FAIL, XPASS</span>"
		      "<span class=\"v-stall\">DEADLOCK, HANG, TIMEOUT</span>"
		      "<span class=\"v-panic\">KERNEL_PANIC, KERNEL_BUG, TEE_PANIC</span>"
		      "<span class=\"v-infra\">INFRA</span>"
		      "<span class=\"v-met\">XFAIL, or the expected non-PASS verdict</span>"
		      "<span class=\"v-other\">other (ERROR, INTERRUPTED, ...)</span>"
		      "<span class=\"notmet\">outlined: expectation not met</span>"
		      "</p>\n");

	for (size_t i = 0; i < m->nr; i++) {
		free(row_of[i]);
		free(col_of[i]);
	}
	free(row_of);
	free(col_of);
	strvec_release(&rows);
	strvec_release(&cols);
}

/* The colour of a verdict class in the history chart (as html_style's classes) */
static const char *class_colour(const char *cls)
{
	static const struct {
		const char *cls, *colour;
	} colours[] = {
		{ "v-pass", "#2e7d32" }, { "v-met", "#558b2f" }, { "v-fail", "#c62828" },
		{ "v-stall", "#6a1b9a" }, { "v-panic", "#b71c1c" }, { "v-infra", "#546e7a" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(colours); i++)
		if (!strcmp(cls, colours[i].cls))
			return colours[i].colour;
	return "#9e9e9e";
}

/*
 * @c's wall time and verdict across the earlier reports and this one, as a
 * small inline SVG bar chart (oldest left; a gap where a report had no
 * such cell; a bar's title says when, how long, what).
 */
static void html_history(struct strbuf *sb, const struct report_matrix *m, const struct cell *c)
{
	const struct cell *pts[64];
	const char *when[64];
	size_t n = 0;
	double max = 0;

	for (size_t h = 0; h < m->nr_history && n < ARRAY_SIZE(pts) - 1; h++) {
		pts[n] = find_cell(&m->history[h], c->id);
		when[n++] = m->history[h].started ? m->history[h].started : "?";
	}
	pts[n] = c;
	when[n++] = m->started ? m->started : "this report";
	for (size_t i = 0; i < n; i++)
		if (pts[i] && isfinite(pts[i]->wall) && pts[i]->wall > max)
			max = pts[i]->wall;
	strbuf_addf(sb, "<svg class=\"hist\" width=\"%zu\" height=\"24\" viewBox=\"0 0 %zu 24\" "
		    "xmlns=\"http://www.w3.org/2000/svg\">", n * 9 + 1, n * 9 + 1);
	for (size_t i = 0; i < n; i++) {
		double h;

		if (!pts[i])
			continue;
		h = max > 0 && isfinite(pts[i]->wall) ? 2 + 21 * pts[i]->wall / max : 2;
		strbuf_addf(sb, "<rect x=\"%zu\" y=\"%.1f\" width=\"7\" height=\"%.1f\" fill=\"%s\">"
			    "<title>", i * 9 + 1, 24 - h, h, class_colour(verdict_class(pts[i])));
		html(sb, when[i]);
		strbuf_addf(sb, ": %.1f s, ", isfinite(pts[i]->wall) ? pts[i]->wall : 0.0);
		html(sb, pts[i]->observed);
		strbuf_addstr(sb, pts[i]->met ? " (met)" : " (NOT met)");
		strbuf_addstr(sb, "</title></rect>");
	}
	strbuf_addstr(sb, "</svg>");
}

static void html_cell_list(struct strbuf *sb, const struct report_matrix *m)
{
	strbuf_addstr(sb, "<h2>Cells</h2>\n<table class=\"cells\">\n<thead><tr>"
		      "<th>id</th><th>expected</th><th>verdict</th><th>met</th>"
		      "<th>wall</th><th>tests passed</th><th>host</th><th>reason</th>");
	if (m->nr_history)
		strbuf_addf(sb, "<th>wall over %zu reports</th>", m->nr_history + 1);
	strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < m->nr; i++) {
		const struct cell *c = &m->cells[i];
		json_t *sum = c->result ? json_object_get(c->result, "summary") : NULL;

		strbuf_addstr(sb, "<tr id=\"cell-");
		results_add_text(sb, c->id, TEXT_XML_ATTR);
		strbuf_addstr(sb, "\"><td>");
		html(sb, c->id);
		strbuf_addstr(sb, "</td><td>");
		html(sb, c->expected);
		strbuf_addf(sb, "</td><td class=\"%s\">", verdict_class(c));
		html(sb, c->observed);
		if (c->verdict && strcmp(c->verdict, c->observed)) {
			strbuf_addstr(sb, " (run: ");
			html(sb, c->verdict);
			strbuf_addch(sb, ')');
		}
		strbuf_addf(sb, "</td><td>%s</td><td>%.1f s</td><td>", c->met ? "yes" : "<b>NO</b>",
			    isfinite(c->wall) && c->wall > 0 ? c->wall : 0.0);
		if (json_is_object(sum))
			strbuf_addf(sb, "%lld/%lld", (long long)jget_num(sum, "passed"),
				    (long long)jget_num(sum, "total"));
		strbuf_addstr(sb, "</td><td>");
		html(sb, c->host ? c->host : "this machine");
		strbuf_addstr(sb, "</td><td>");
		html(sb, c->reason);
		if (m->nr_history) {
			strbuf_addstr(sb, "</td><td>");
			html_history(sb, m, c);
		}
		strbuf_addstr(sb, "</td></tr>\n");
		if (c->dir && c->run_dir) {
			/* the run's timeline.svg (timeline.h), when it has one */
			char *svg = path_join(c->dir, "timeline.svg");

			if (file_exists(svg)) {
				strbuf_addf(sb, "<tr class=\"tl\"><td colspan=\"%d\"><a",
					    m->nr_history ? 9 : 8);
				html_href(sb, c->run_dir, "timeline.svg");
				strbuf_addstr(sb, "><img alt=\"timeline of ");
				results_add_text(sb, c->id, TEXT_XML_ATTR);
				strbuf_addstr(sb, "\" width=\"700\"");
				html_path_attr(sb, "src", c->run_dir, "timeline.svg");
				strbuf_addstr(sb, "></a></td></tr>\n");
			}
			free(svg);
		}
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n");
}

static int write_html(const struct report_matrix *m, const struct compare *cmp,
		      const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&sb, html_head);
	strbuf_addstr(&sb, "<title>teelab matrix ");
	html(&sb, m->name ? m->name : "(unnamed)");
	strbuf_addstr(&sb, "</title>\n");
	strbuf_addstr(&sb, html_style);
	strbuf_addstr(&sb, "</head>\n<body>\n");
	html_summary(&sb, m);
	if (cmp)
		html_changes(&sb, cmp);
	html_matrix(&sb, m);
	html_cell_list(&sb, m);
	strbuf_addstr(&sb, "</body>\n</html>\n");
	ret = write_file(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return ret;
}

/* ---- all four ---- */

int report_write(const char *out_dir, const char *compare_dir)
{
	return report_write_history(out_dir, compare_dir, NULL);
}

int report_write_history(const char *out_dir, const char *compare_dir,
			 const char *const *history)
{
	static const struct {
		const char *name;
		int (*write)(const struct report_matrix *, const struct compare *, const char *);
	} sinks[] = {
		{ "junit.xml", write_junit },
		{ "results.tap", write_tap },
		{ "result.json", write_json },
		{ "index.html", write_html },
	};
	struct report_matrix cur = { 0 }, prev = { 0 };
	struct compare cmp = { 0 };
	int ret = report_load(out_dir, &cur);

	if (!ret && compare_dir) {
		ret = report_load(compare_dir, &prev);
		if (!ret) {
			cmp.against = compare_dir;
			compare_build(&cmp, &cur, &prev);
		}
	}
	if (ret)
		goto out;
	report_load_runs(&cur, out_dir);
	for (size_t i = 0; history && history[i]; i++) {
		cur.history = xrealloc(cur.history, (cur.nr_history + 1) * sizeof(*cur.history));
		memset(&cur.history[cur.nr_history], 0, sizeof(*cur.history));
		if (report_load(history[i], &cur.history[cur.nr_history])) {
			warning("--history '%s': no report there; left out of the charts", history[i]);
			report_matrix_release(&cur.history[cur.nr_history]);
		} else {
			cur.nr_history++;
		}
	}

	/* write every file even when one fails: partial reports help */
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		char *path = path_join(out_dir, sinks[i].name);
		int err = sinks[i].write(&cur, compare_dir ? &cmp : NULL, path);

		if (err && !ret)
			ret = err;
		free(path);
	}
out:
	compare_release(&cmp);
	report_matrix_release(&prev);
	report_matrix_release(&cur);
	return ret;
}
