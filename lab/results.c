// SPDX-License-Identifier: MIT
/* results.c - the run result model and its JSON, JUnit XML and TAP writers */
#include "results.h"
#include "junit.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define JUNIT_OUTPUT_MAX (64 * 1024)	/* <system-out>: the last 64 KiB */
#define TAP_OUTPUT_MAX (4 * 1024)	/* YAML "output": the last 4 KiB */

static const char *const verdict_names[] = {
	[V_PASS] = "PASS",
	[V_FAIL] = "FAIL",
	[V_XFAIL] = "XFAIL",
	[V_XPASS] = "XPASS",
	[V_SKIP] = "SKIP",
	[V_TIMEOUT] = "TIMEOUT",
	[V_ERROR] = "ERROR",
	[V_INTERRUPTED] = "INTERRUPTED",
	[V_NOTRUN] = "NOTRUN",
	[V_HANG] = "HANG",
	[V_DEADLOCK] = "DEADLOCK",
	[V_KERNEL_PANIC] = "KERNEL_PANIC",
	[V_TEE_PANIC] = "TEE_PANIC",
	[V_INFRA] = "INFRA",
	[V_KERNEL_BUG] = "KERNEL_BUG",
};

const char *verdict_name(enum verdict v)
{
	if ((unsigned)v >= ARRAY_SIZE(verdict_names))
		return "UNKNOWN";
	return verdict_names[v];
}

bool verdict_ok(enum verdict v)
{
	return v == V_PASS || v == V_XFAIL || v == V_SKIP;
}

int verdict_parse(const char *name, enum verdict *v)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(verdict_names); i++) {
		if (verdict_names[i] && !strcmp(verdict_names[i], name)) {
			*v = (enum verdict)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *verdict_junit_element(enum verdict v)
{
	switch (v) {
	case V_FAIL:
	case V_XPASS:
	case V_TIMEOUT:
	case V_HANG:
	case V_DEADLOCK:
	case V_KERNEL_PANIC:
	case V_KERNEL_BUG:
	case V_TEE_PANIC:
		return "failure";
	case V_ERROR:
	case V_INTERRUPTED:
	case V_INFRA:
		return "error";
	case V_SKIP:
	case V_NOTRUN:
		return "skipped";
	case V_PASS:
	case V_XFAIL:
		break;
	}
	return NULL;
}

/* ---- the model ---- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct test_result *run_result_add(struct run_result *r, const char *group,
				   const char *name, enum verdict v,
				   double duration, const char *message,
				   const char *output)
{
	struct test_result *t = NULL;

	r->tests = xrealloc(r->tests, (r->nr_tests + 1) * sizeof(*r->tests));
	t = &r->tests[r->nr_tests++];
	t->group = dup_or_null(group);
	t->name = xstrdup(name ? name : "");
	t->verdict = v;
	t->duration = duration;
	t->message = dup_or_null(message);
	t->output = dup_or_null(output);
	t->start = 0;
	t->has_start = false;
	return t;
}

void run_result_metric(struct run_result *r, const char *name, double value)
{
	for (size_t i = 0; i < r->nr_metrics; i++) {
		if (!strcmp(r->metric_names[i], name)) {
			r->metric_values[i] = value;
			return;
		}
	}
	r->metric_names = xrealloc(r->metric_names, (r->nr_metrics + 1) * sizeof(char *));
	r->metric_values = xrealloc(r->metric_values, (r->nr_metrics + 1) * sizeof(double));
	r->metric_names[r->nr_metrics] = xstrdup(name);
	r->metric_values[r->nr_metrics] = value;
	r->nr_metrics++;
}

bool run_result_get_metric(const struct run_result *r, const char *name, double *value)
{
	for (size_t i = 0; i < r->nr_metrics; i++) {
		if (!strcmp(r->metric_names[i], name)) {
			*value = r->metric_values[i];
			return true;
		}
	}
	return false;
}

/* A metric as JSON: an integer when it is one (counts), else a real. */
static json_t *jmetric(double v)
{
	if (v == (double)(json_int_t)v && v > -9e15 && v < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

void run_result_env(struct run_result *r, const char *key, const char *value)
{
	for (size_t i = 0; i < r->nr_env; i++) {
		if (!strcmp(r->env_keys[i], key)) {
			free(r->env_values[i]);
			r->env_values[i] = xstrdup(value ? value : "");
			return;
		}
	}
	r->env_keys = xrealloc(r->env_keys, (r->nr_env + 1) * sizeof(char *));
	r->env_values = xrealloc(r->env_values,
				 (r->nr_env + 1) * sizeof(char *));
	r->env_keys[r->nr_env] = xstrdup(key);
	r->env_values[r->nr_env] = xstrdup(value ? value : "");
	r->nr_env++;
}

struct boot_record *run_result_boot(struct run_result *r, int n, const char *how,
				    const char *kernel, double requested)
{
	struct boot_record *b;

	if (r->nr_boots)
		r->boots[r->nr_boots - 1].end_test = r->nr_tests;
	r->boots = xrealloc(r->boots, (r->nr_boots + 1) * sizeof(*r->boots));
	b = &r->boots[r->nr_boots++];
	*b = (struct boot_record){ .n = n, .how = xstrdup(how),
				   .kernel = kernel ? xstrdup(kernel) : NULL,
				   .requested = requested, .optee_at = -1, .ready_at = -1,
				   .first_test = r->nr_tests, .end_test = (size_t)-1 };
	return b;
}

void run_result_kernel_bug(struct run_result *r, const char *kind, const char *line,
			   const char *report, double at)
{
	free(r->kernel_bug.kind);
	free(r->kernel_bug.line);
	free(r->kernel_bug.report);
	r->kernel_bug.kind = xstrdup(kind);
	r->kernel_bug.line = xstrdup(line ? line : "");
	r->kernel_bug.report = xstrdup(report ? report : "");
	r->kernel_bug.at = at;
}

struct boot_record *run_result_cur_boot(struct run_result *r)
{
	return r->nr_boots ? &r->boots[r->nr_boots - 1] : NULL;
}

void run_result_release(struct run_result *r)
{
	for (size_t i = 0; i < r->nr_boots; i++) {
		free(r->boots[i].how);
		free(r->boots[i].kernel);
		free(r->boots[i].release);
	}
	free(r->boots);
	for (size_t i = 0; i < r->nr_tests; i++) {
		free(r->tests[i].name);
		free(r->tests[i].group);
		free(r->tests[i].message);
		free(r->tests[i].output);
	}
	free(r->tests);
	for (size_t i = 0; i < r->nr_env; i++) {
		free(r->env_keys[i]);
		free(r->env_values[i]);
	}
	for (size_t i = 0; i < r->nr_metrics; i++)
		free(r->metric_names[i]);
	free(r->metric_names);
	free(r->metric_values);
	free(r->env_keys);
	free(r->env_values);
	free(r->scenario);
	free(r->run_id);
	free(r->started);
	free(r->reason);
	free(r->expected);
	free(r->kernel_bug.kind);
	free(r->kernel_bug.line);
	free(r->kernel_bug.report);
	memset(r, 0, sizeof(*r));
}

/* ---- text hygiene ---- */

/*
 * Length of the valid UTF-8 sequence at @s (at most @n bytes), its code
 * point in *cp; 0 if the bytes are not valid UTF-8 (overlong forms and
 * surrogates included).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = 0;
	uint32_t c = 0;
	uint32_t min = 0;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Bytes of an ANSI escape sequence starting with ESC at @s (n bytes left). */
static size_t ansi_len(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 2)
		return 1;
	if (s[1] == '[') {
		i = 2;
		while (i < n && (unsigned char)s[i] >= 0x20 &&
		       (unsigned char)s[i] <= 0x3f)
			i++;
		if (i < n && (unsigned char)s[i] >= 0x40 &&
		    (unsigned char)s[i] <= 0x7e)
			i++;
		return i;
	}
	if (s[1] == ']') {
		i = 2;
		while (i < n && s[i] != '\a' && s[i] != 0x1b)
			i++;
		if (i < n && s[i] == '\a')
			return i + 1;
		if (i + 1 < n && s[i + 1] == '\\')
			return i + 2;
		return i;
	}
	/* nF / Fp / Fe / Fs: intermediates 0x20-0x2f, then one final byte */
	while (i < n && (unsigned char)s[i] >= 0x20 &&
	       (unsigned char)s[i] <= 0x2f)
		i++;
	if (i < n && (unsigned char)s[i] >= 0x30 &&
	    (unsigned char)s[i] <= 0x7e)
		i++;
	return i;
}

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/*
 * Append @len bytes of @s to @sb made fit for @mode: invalid UTF-8 becomes
 * U+FFFD; for every mode but JSON, ANSI escapes and '\r' are dropped and
 * the characters XML 1.0 / YAML do not allow become U+FFFD.
 */
static void add_text(struct strbuf *sb, const char *s, size_t len,
		     enum text_mode mode)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t n = utf8_seq(u + i, len - i, &cp);

		if (!n) {
			strbuf_addstr(sb, REPLACEMENT);
			i++;
			continue;
		}
		if (mode == TEXT_JSON) {
			strbuf_add(sb, s + i, n);
			i += n;
			continue;
		}
		if (cp == 0x1b) {
			i += ansi_len(s + i, len - i);
			continue;
		}
		i += n;
		if (cp == '\r')
			continue;
		if (cp == '\n' || cp == '\t') {
			if (mode == TEXT_XML || mode == TEXT_PLAIN)
				strbuf_addch(sb, (char)cp);
			else if (mode == TEXT_XML_ATTR)
				strbuf_addstr(sb, cp == '\n' ? "&#10;" : "&#9;");
			else
				strbuf_addch(sb, ' ');
			continue;
		}
		/* C0/C1 controls, non-characters, YAML's extra line breaks */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029 ||
		    cp == 0xfffe || cp == 0xffff) {
			strbuf_addstr(sb, REPLACEMENT);
			continue;
		}
		if (mode == TEXT_XML || mode == TEXT_XML_ATTR) {
			switch (cp) {
			case '&': strbuf_addstr(sb, "&amp;"); continue;
			case '<': strbuf_addstr(sb, "&lt;"); continue;
			case '>': strbuf_addstr(sb, "&gt;"); continue;
			case '"': strbuf_addstr(sb, "&quot;"); continue;
			case '\'': strbuf_addstr(sb, "&apos;"); continue;
			default: break;
			}
		}
		strbuf_add(sb, s + i - n, n);
	}
}

void results_add_text(struct strbuf *sb, const char *s, enum text_mode mode)
{
	if (s)
		add_text(sb, s, strlen(s), mode);
}

/* Start of the last @max bytes of @s (on a UTF-8 boundary), or @s. */
static const char *tail_of(const char *s, size_t max, size_t *dropped)
{
	size_t len = strlen(s);
	size_t off = 0;

	*dropped = 0;
	if (len <= max)
		return s;
	off = len - max;
	while (off < len && ((unsigned char)s[off] & 0xc0) == 0x80)
		off++;
	*dropped = off;
	return s + off;
}

/* ---- result.json ---- */

static json_t *jstr(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j = NULL;

	if (!s)
		return json_null();
	results_add_text(&sb, s, TEXT_JSON);
	j = json_stringn(strbuf_str(&sb), sb.len);
	strbuf_release(&sb);
	return j ? j : json_string("");
}

static json_t *jsecs(double d)
{
	if (!isfinite(d) || d < 0)
		d = 0;
	/* milliseconds are enough, and keep the JSON readable */
	return json_real((double)(long long)(d * 1000.0 + 0.5) / 1000.0);
}

struct counts {
	size_t total, passed, failed, xfail, xpass, skipped, timeout, error,
	       interrupted, notrun, hang, deadlock, kernel_panic, kernel_bug, tee_panic, infra;
};

static void count_tests(const struct run_result *r, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->nr_tests; i++) {
		c->total++;
		switch (r->tests[i].verdict) {
		case V_PASS: c->passed++; break;
		case V_FAIL: c->failed++; break;
		case V_XFAIL: c->xfail++; break;
		case V_XPASS: c->xpass++; break;
		case V_SKIP: c->skipped++; break;
		case V_TIMEOUT: c->timeout++; break;
		case V_ERROR: c->error++; break;
		case V_INTERRUPTED: c->interrupted++; break;
		case V_NOTRUN: c->notrun++; break;
		case V_HANG: c->hang++; break;
		case V_DEADLOCK: c->deadlock++; break;
		case V_KERNEL_PANIC: c->kernel_panic++; break;
		case V_KERNEL_BUG: c->kernel_bug++; break;
		case V_TEE_PANIC: c->tee_panic++; break;
		case V_INFRA: c->infra++; break;
		}
	}
}

static json_t *json_summary(const struct run_result *r)
{
	struct counts c = { 0 };
	json_t *o = json_object();

	count_tests(r, &c);
	json_object_set_new(o, "total", json_integer((json_int_t)c.total));
	json_object_set_new(o, "passed", json_integer((json_int_t)c.passed));
	json_object_set_new(o, "failed", json_integer((json_int_t)c.failed));
	json_object_set_new(o, "xfail", json_integer((json_int_t)c.xfail));
	json_object_set_new(o, "xpass", json_integer((json_int_t)c.xpass));
	json_object_set_new(o, "skipped", json_integer((json_int_t)c.skipped));
	json_object_set_new(o, "timeout", json_integer((json_int_t)c.timeout));
	json_object_set_new(o, "error", json_integer((json_int_t)c.error));
	json_object_set_new(o, "interrupted",
			    json_integer((json_int_t)c.interrupted));
	json_object_set_new(o, "notrun", json_integer((json_int_t)c.notrun));
	json_object_set_new(o, "hang", json_integer((json_int_t)c.hang));
	json_object_set_new(o, "deadlock", json_integer((json_int_t)c.deadlock));
	json_object_set_new(o, "kernel_panic", json_integer((json_int_t)c.kernel_panic));
	json_object_set_new(o, "kernel_bug", json_integer((json_int_t)c.kernel_bug));
	json_object_set_new(o, "tee_panic", json_integer((json_int_t)c.tee_panic));
	json_object_set_new(o, "infra", json_integer((json_int_t)c.infra));
	return o;
}

/* seconds since QEMU started, or null when not seen */
static json_t *jstamp(double t)
{
	return t < 0 ? json_null() : jsecs(t);
}

/* a duration from @from to @to, or null if either is missing */
static json_t *jspan(double from, double to)
{
	return from < 0 || to < 0 ? json_null() : jsecs(to - from);
}

/*
 * "boots": per boot, how it came, timings (hop = the trigger to the OP-TEE
 * driver initialized on the new kernel) and its step checks.
 */
static json_t *json_boots(const struct run_result *r)
{
	json_t *boots = json_array();

	for (size_t i = 0; i < r->nr_boots; i++) {
		const struct boot_record *b = &r->boots[i];
		size_t end = b->end_test == (size_t)-1 || b->end_test > r->nr_tests
			? r->nr_tests : b->end_test;
		json_t *o = json_object(), *checks = json_array();
		bool ok = true;

		json_object_set_new(o, "boot", json_integer(b->n));
		json_object_set_new(o, "how", jstr(b->how));
		json_object_set_new(o, "kernel", jstr(b->kernel));
		json_object_set_new(o, "release", jstr(b->release));
		json_object_set_new(o, "requested_at", jstamp(b->requested));
		json_object_set_new(o, "optee_initialized_at", jstamp(b->optee_at));
		json_object_set_new(o, "ready_at", jstamp(b->ready_at));
		json_object_set_new(o, "optee_seconds", jspan(b->requested, b->optee_at));
		json_object_set_new(o, "ready_seconds", jspan(b->requested, b->ready_at));
		for (size_t k = b->first_test; k < end; k++) {
			const struct test_result *t = &r->tests[k];
			json_t *c;

			ok = ok && verdict_ok(t->verdict);
			if (strcmp(t->group, "steps"))
				continue;	/* xtest cases: in "tests" */
			c = json_object();
			json_object_set_new(c, "name", jstr(t->name));
			json_object_set_new(c, "verdict", json_string(verdict_name(t->verdict)));
			json_array_append_new(checks, c);
		}
		json_object_set_new(o, "checks", checks);
		json_object_set_new(o, "passed", json_boolean(ok));
		json_array_append_new(boots, o);
	}
	return boots;
}

static json_t *json_run(const struct run_result *r)
{
	json_t *root = json_object();
	json_t *env = json_object();
	json_t *metrics = json_object();
	json_t *tests = json_array();

	json_object_set_new(root, "scenario", jstr(r->scenario));
	json_object_set_new(root, "teelab_version", json_string(teelab_version()));
	json_object_set_new(root, "run_id", jstr(r->run_id));
	json_object_set_new(root, "started", jstr(r->started));
	json_object_set_new(root, "duration", jsecs(r->duration));
	json_object_set_new(root, "verdict", json_string(verdict_name(r->verdict)));
	json_object_set_new(root, "reason", jstr(r->reason));
	json_object_set_new(root, "expected", json_string(r->expected ? r->expected : "PASS"));
	json_object_set_new(root, "observed", json_string(verdict_name(r->observed)));
	json_object_set_new(root, "exit_code", json_integer(r->exit_code));
	if (r->kernel_bug.kind) {
		json_t *k = json_object();

		json_object_set_new(k, "kind", jstr(r->kernel_bug.kind));
		json_object_set_new(k, "line", jstr(r->kernel_bug.line));
		json_object_set_new(k, "report", jstr(r->kernel_bug.report));
		json_object_set_new(k, "at", jsecs(r->kernel_bug.at));
		json_object_set_new(root, "kernel_bug", k);
	}
	for (size_t i = 0; i < r->nr_env; i++) {
		struct strbuf key = STRBUF_INIT;

		results_add_text(&key, r->env_keys[i], TEXT_JSON);
		json_object_set_new(env, strbuf_str(&key), jstr(r->env_values[i]));
		strbuf_release(&key);
	}
	for (size_t i = 0; i < r->nr_metrics; i++)
		json_object_set_new(metrics, r->metric_names[i], jmetric(r->metric_values[i]));
	json_object_set_new(root, "environment", env);
	json_object_set_new(root, "metrics", metrics);
	json_object_set_new(root, "summary", json_summary(r));
	json_object_set_new(root, "boots", json_boots(r));
	if (r->timeline.has_qemu_start || r->timeline.has_stall) {
		json_t *tl = json_object();

		if (r->timeline.has_qemu_start)
			json_object_set_new(tl, "qemu_start", jsecs(r->timeline.qemu_start));
		if (r->timeline.has_stall)
			json_object_set_new(tl, "stall", json_pack("[o, o]", jsecs(r->timeline.stall_from),
								   jsecs(r->timeline.stall_to)));
		json_object_set_new(root, "timeline", tl);
	}
	for (size_t i = 0; i < r->nr_tests; i++) {
		const struct test_result *t = &r->tests[i];
		json_t *o = json_object();

		json_object_set_new(o, "group", jstr(t->group));
		json_object_set_new(o, "name", jstr(t->name));
		json_object_set_new(o, "verdict",
				    json_string(verdict_name(t->verdict)));
		json_object_set_new(o, "duration", jsecs(t->duration));
		if (t->has_start)
			json_object_set_new(o, "start", jsecs(t->start));
		json_object_set_new(o, "message", jstr(t->message));
		if (t->output)
			json_object_set_new(o, "output", jstr(t->output));
		json_array_append_new(tests, o);
	}
	json_object_set_new(root, "tests", tests);
	return root;
}

int results_write_json(const struct run_result *r, const char *path)
{
	json_t *root = json_run(r);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	if (!text) {
		ret = error_code(-ENOMEM, "cannot encode '%s'", path);
		goto out;
	}
	strbuf_addstr(&sb, text);
	strbuf_addch(&sb, '\n');
	ret = write_file(path, sb.buf, sb.len, 0644);
out:
	strbuf_release(&sb);
	free(text);
	json_decref(root);
	return ret;
}

/* ---- junit.xml (junit.c writes it) ---- */

void results_xml_attr(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_addf(sb, " %s=\"", name);
	results_add_text(sb, value ? value : "", TEXT_XML_ATTR);
	strbuf_addch(sb, '"');
}

/* The default message of a verdict that is not a pass. */
static const char *default_message(enum verdict v)
{
	switch (v) {
	case V_FAIL: return "failed";
	case V_XPASS: return "passed but was expected to fail";
	case V_TIMEOUT: return "timed out";
	case V_ERROR: return "could not run";
	case V_INTERRUPTED: return "interrupted";
	case V_SKIP: return "skipped";
	case V_NOTRUN: return "not run";
	case V_HANG: return "no progress (hang)";
	case V_DEADLOCK: return "clients stopped making progress (deadlock)";
	case V_KERNEL_PANIC: return "kernel panic";
	case V_KERNEL_BUG: return "kernel bug report";
	case V_TEE_PANIC: return "OP-TEE panic";
	case V_INFRA: return "infrastructure failure";
	case V_XFAIL: return "expected failure";
	case V_PASS: break;
	}
	return "";
}

void results_junit_testcase(struct junit_suite *s, const struct test_result *t)
{
	const char *msg = t->message ? t->message : default_message(t->verdict);
	struct junit_case *c = junit_add_case(s, t->group ? t->group : "teelab", t->name,
					      t->duration);
	size_t dropped = 0;

	c->elem = verdict_junit_element(t->verdict);
	if (c->elem) {
		c->message = xstrdup(msg);
		c->type = xstrdup(verdict_name(t->verdict));
	}
	if (t->verdict == V_XFAIL)
		strbuf_addf(&c->out, "expected failure: %s\n", msg);
	if (t->output) {
		const char *out = tail_of(t->output, JUNIT_OUTPUT_MAX, &dropped);

		if (dropped)
			strbuf_addf(&c->out, "[... %zu bytes truncated ...]\n", dropped);
		strbuf_addstr(&c->out, out);
	}
}

int results_write_junit(const struct run_result *r, const char *path)
{
	struct junit j = JUNIT_INIT;
	struct junit_suite *s = NULL;
	char *exit_code = xasprintf("%d", r->exit_code);
	int ret = 0;

	junit_init(&j, "teelab", r->duration);
	s = junit_add_suite(&j, r->scenario ? r->scenario : "teelab", r->duration, r->started);
	junit_add_property(s, "teelab.run_id", r->run_id);
	junit_add_property(s, "teelab.verdict", verdict_name(r->verdict));
	if (r->reason)
		junit_add_property(s, "teelab.reason", r->reason);
	junit_add_property(s, "teelab.exit_code", exit_code);
	for (size_t i = 0; i < r->nr_env; i++)
		junit_add_property(s, r->env_keys[i], r->env_values[i]);
	for (size_t i = 0; i < r->nr_metrics; i++) {
		char *k = xasprintf("teelab.metric.%s", r->metric_names[i]);
		char *v = xasprintf("%.15g", r->metric_values[i]);

		junit_add_property(s, k, v);
		free(k);
		free(v);
	}
	for (size_t i = 0; i < r->nr_tests; i++)
		results_junit_testcase(s, &r->tests[i]);
	ret = junit_write(&j, path);
	junit_release(&j);
	free(exit_code);
	return ret;
}

/* ---- results.tap ---- */

/* A TAP description: one line, '#' escaped so it starts no directive. */
void results_tap_desc(struct strbuf *sb, const char *s)
{
	struct strbuf tmp = STRBUF_INIT;

	results_add_text(&tmp, s, TEXT_YAML_LINE);
	for (size_t i = 0; i < tmp.len; i++) {
		if (tmp.buf[i] == '#' || tmp.buf[i] == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, tmp.buf[i]);
	}
	strbuf_release(&tmp);
}

/* A YAML double-quoted scalar. */
void results_yaml_quoted(struct strbuf *sb, const char *s)
{
	struct strbuf tmp = STRBUF_INIT;

	results_add_text(&tmp, s, TEXT_YAML_LINE);
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < tmp.len; i++) {
		if (tmp.buf[i] == '"' || tmp.buf[i] == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, tmp.buf[i]);
	}
	strbuf_addch(sb, '"');
	strbuf_release(&tmp);
}

/* The YAML diagnostic block that follows a "not ok" line. */
static void tap_yaml(struct strbuf *sb, const struct test_result *t,
		     const char *msg)
{
	size_t dropped = 0;

	strbuf_addstr(sb, "  ---\n  message: ");
	results_yaml_quoted(sb, msg);
	strbuf_addf(sb, "\n  verdict: %s\n", verdict_name(t->verdict));
	strbuf_addf(sb, "  duration: %.3f\n",
		    isfinite(t->duration) && t->duration > 0 ? t->duration : 0.0);
	if (t->output && *t->output) {
		const char *out = tail_of(t->output, TAP_OUTPUT_MAX, &dropped);
		struct strbuf clean = STRBUF_INIT;
		const char *p = NULL;

		results_add_text(&clean, out, TEXT_PLAIN);
		/* explicit indentation: the first line may start with blanks */
		strbuf_addstr(sb, "  output: |2-\n");
		if (dropped)
			strbuf_addf(sb, "    [... %zu bytes truncated ...]\n",
				    dropped);
		p = strbuf_str(&clean);
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			strbuf_addstr(sb, "    ");
			strbuf_add(sb, p, n);
			strbuf_addch(sb, '\n');
			p += n + (nl ? 1 : 0);
		}
		strbuf_release(&clean);
	}
	strbuf_addstr(sb, "  ...\n");
}

int results_write_tap(const struct run_result *r, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	strbuf_addstr(&sb, "TAP version 13\n");
	strbuf_addf(&sb, "1..%zu\n", r->nr_tests);
	for (size_t i = 0; i < r->nr_tests; i++) {
		const struct test_result *t = &r->tests[i];
		const char *msg = t->message ? t->message :
				  default_message(t->verdict);
		bool ok = t->verdict == V_PASS || t->verdict == V_XFAIL ||
			  t->verdict == V_SKIP || t->verdict == V_NOTRUN;

		strbuf_addf(&sb, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
		if (t->group) {
			results_tap_desc(&sb, t->group);
			strbuf_addch(&sb, '/');
		}
		results_tap_desc(&sb, t->name);
		switch (t->verdict) {
		case V_XFAIL:
			strbuf_addstr(&sb, " # TODO ");
			results_tap_desc(&sb, msg);
			break;
		case V_XPASS:
			strbuf_addstr(&sb, " # XPASS: was expected to fail");
			break;
		case V_SKIP:
		case V_NOTRUN:
			strbuf_addstr(&sb, " # SKIP ");
			results_tap_desc(&sb, msg);
			break;
		default:
			break;
		}
		strbuf_addch(&sb, '\n');
		if (!ok)
			tap_yaml(&sb, t, msg);
	}
	strbuf_addf(&sb, "# %s: %s", r->scenario ? r->scenario : "run",
		    verdict_name(r->verdict));
	if (r->reason) {
		strbuf_addstr(&sb, " (");
		results_add_text(&sb, r->reason, TEXT_YAML_LINE);
		strbuf_addch(&sb, ')');
	}
	strbuf_addch(&sb, '\n');

	ret = write_file(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return ret;
}

/* ---- all three ---- */

int results_write_all(const struct run_result *r, const char *dir)
{
	static const struct {
		const char *name;
		int (*write)(const struct run_result *, const char *);
	} sinks[] = {
		{ "result.json", results_write_json },
		{ "junit.xml", results_write_junit },
		{ "results.tap", results_write_tap },
	};
	int ret = mkdir_p(dir, 0755);

	if (ret)
		return ret;
	/* write every sink even when one fails: partial results help */
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		char *path = path_join(dir, sinks[i].name);
		int err = sinks[i].write(r, path);

		if (err && !ret)
			ret = err;
		free(path);
	}
	return ret;
}

void boot_record_line(struct boot_record *b, const char *line, double at)
{
	const char *v;

	if (!b->release && (v = strstr(line, "Linux version ")))
		b->release = xstrndup(v + 14, strcspn(v + 14, " "));
	if (b->optee_at < 0 && strstr(line, "optee: initialized driver"))
		b->optee_at = at;
	if (b->ready_at < 0 && strstr(line, READY_MARKER))
		b->ready_at = at;
}
