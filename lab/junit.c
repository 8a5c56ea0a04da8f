// SPDX-License-Identifier: MIT
/* junit.c - the JUnit XML report written with libxml2; see junit.h */
#include "junit.h"
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

void junit_init(struct junit *j, const char *name, double time)
{
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	j->time = time;
}

struct junit_suite *junit_add_suite(struct junit *j, const char *name, double time,
				    const char *started)
{
	struct junit_suite *s = NULL;

	j->suites = xrealloc(j->suites, (j->nr + 1) * sizeof(*j->suites));
	s = &j->suites[j->nr++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name ? name : "");
	s->time = time;
	if (started) {
		s->timestamp = xstrdup(started);
		if (ends_with(s->timestamp, "Z"))
			s->timestamp[strlen(s->timestamp) - 1] = '\0';
	}
	return s;
}

void junit_add_property(struct junit_suite *s, const char *name, const char *value)
{
	strvec_push(&s->props, name);
	strvec_push(&s->props, value ? value : "");
}

struct junit_case *junit_add_case(struct junit_suite *s, const char *classname,
				  const char *name, double time)
{
	struct junit_case *c = NULL;

	s->cases = xrealloc(s->cases, (s->nr + 1) * sizeof(*s->cases));
	c = &s->cases[s->nr++];
	memset(c, 0, sizeof(*c));
	c->classname = xstrdup(classname ? classname : "");
	c->name = xstrdup(name ? name : "");
	c->time = time;
	return c;
}

void junit_release(struct junit *j)
{
	for (size_t i = 0; i < j->nr; i++) {
		struct junit_suite *s = &j->suites[i];

		for (size_t k = 0; k < s->nr; k++) {
			free(s->cases[k].classname);
			free(s->cases[k].name);
			free(s->cases[k].message);
			free(s->cases[k].type);
			strbuf_release(&s->cases[k].out);
		}
		free(s->cases);
		free(s->name);
		free(s->timestamp);
		strvec_release(&s->props);
	}
	free(j->suites);
	free(j->name);
	memset(j, 0, sizeof(*j));
}

/* ---- writing ---- */

struct counts {
	size_t tests, failures, errors, skipped;
};

static void count_suite(const struct junit_suite *s, struct counts *n)
{
	for (size_t i = 0; i < s->nr; i++) {
		const char *e = s->cases[i].elem;

		n->tests++;
		if (!e)
			continue;
		if (!strcmp(e, "failure"))
			n->failures++;
		else if (!strcmp(e, "error"))
			n->errors++;
		else if (!strcmp(e, "skipped"))
			n->skipped++;
	}
}

/* The writer and a scratch buffer for cleaned text; @failed once any call failed. */
struct xw {
	xmlTextWriterPtr w;
	struct strbuf tmp;
	bool failed;
};

/* @s fit for XML 1.0 (see junit.h), valid until the next call. */
static const xmlChar *clean(struct xw *x, const char *s)
{
	strbuf_reset(&x->tmp);
	results_add_text(&x->tmp, s ? s : "", TEXT_PLAIN);
	return BAD_CAST strbuf_str(&x->tmp);
}

static void start(struct xw *x, const char *tag)
{
	x->failed |= xmlTextWriterStartElement(x->w, BAD_CAST tag) < 0;
}

static void end(struct xw *x)
{
	x->failed |= xmlTextWriterEndElement(x->w) < 0;
}

static void attr(struct xw *x, const char *name, const char *value)
{
	x->failed |= xmlTextWriterWriteAttribute(x->w, BAD_CAST name, clean(x, value)) < 0;
}

static void text(struct xw *x, const char *s)
{
	x->failed |= xmlTextWriterWriteString(x->w, clean(x, s)) < 0;
}

/* name="1.500": @d seconds with 3 decimals (negative or not finite: 0). */
static void attr_secs(struct xw *x, const char *name, double d)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.3f", isfinite(d) && d >= 0 ? d : 0);
	attr(x, name, buf);
}

static void attr_counts(struct xw *x, const struct counts *n)
{
	char buf[4][32];

	snprintf(buf[0], sizeof(buf[0]), "%zu", n->tests);
	snprintf(buf[1], sizeof(buf[1]), "%zu", n->failures);
	snprintf(buf[2], sizeof(buf[2]), "%zu", n->errors);
	snprintf(buf[3], sizeof(buf[3]), "%zu", n->skipped);
	attr(x, "tests", buf[0]);
	attr(x, "failures", buf[1]);
	attr(x, "errors", buf[2]);
	attr(x, "skipped", buf[3]);
}

static void write_case(struct xw *x, const struct junit_case *c)
{
	start(x, "testcase");
	attr(x, "classname", c->classname);
	attr(x, "name", c->name);
	attr_secs(x, "time", c->time);
	if (c->elem) {
		start(x, c->elem);
		attr(x, "message", c->message);
		if (strcmp(c->elem, "skipped")) {
			attr(x, "type", c->type);
			text(x, c->message);
		}
		end(x);
	}
	if (c->out.len) {
		start(x, "system-out");
		text(x, c->out.buf);
		end(x);
	}
	end(x);
}

static void write_suite(struct xw *x, const struct junit_suite *s)
{
	struct counts n = { 0 };

	count_suite(s, &n);
	start(x, "testsuite");
	attr(x, "name", s->name);
	attr_counts(x, &n);
	attr_secs(x, "time", s->time);
	if (s->timestamp)
		attr(x, "timestamp", s->timestamp);
	start(x, "properties");
	for (size_t i = 0; i + 1 < s->props.nr; i += 2) {
		start(x, "property");
		attr(x, "name", s->props.v[i]);
		attr(x, "value", s->props.v[i + 1]);
		end(x);
	}
	end(x);
	for (size_t i = 0; i < s->nr; i++)
		write_case(x, &s->cases[i]);
	end(x);
}

int junit_write(const struct junit *j, const char *path)
{
	xmlBufferPtr buf = xmlBufferCreate();
	struct xw x = { .w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL, .tmp = STRBUF_INIT };
	struct counts total = { 0 };
	int ret = 0;

	if (!x.w) {
		ret = error_code(-ENOMEM, "'%s': cannot start the XML writer", path);
		goto out;
	}
	for (size_t i = 0; i < j->nr; i++)
		count_suite(&j->suites[i], &total);
	xmlTextWriterSetIndent(x.w, 1);
	xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
	x.failed |= xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0;
	start(&x, "testsuites");
	attr(&x, "name", j->name);
	attr_counts(&x, &total);
	attr_secs(&x, "time", j->time);
	for (size_t i = 0; i < j->nr; i++)
		write_suite(&x, &j->suites[i]);
	end(&x);
	x.failed |= xmlTextWriterEndDocument(x.w) < 0;
	xmlFreeTextWriter(x.w);	/* flushes into @buf */
	x.w = NULL;
	if (x.failed) {
		ret = error_code(-ENOMEM, "'%s': cannot write the JUnit XML", path);
		goto out;
	}
	ret = write_file(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf), 0644);
out:
	if (x.w)
		xmlFreeTextWriter(x.w);
	if (buf)
		xmlBufferFree(buf);
	strbuf_release(&x.tmp);
	return ret;
}
