/* SPDX-License-Identifier: MIT */
/*
 * junit.h - the JUnit XML report (junit.xml) of a run and of a matrix, in
 * the form Jenkins, GitLab and junit2html read: <testsuites> of
 * <testsuite>s with <properties> and <testcase>s, each with at most one
 * <failure>, <error> or <skipped> and a <system-out>. The report is built
 * in memory, then written with libxml2's xmlTextWriter (every value
 * escaped); text is first made fit for XML 1.0 by results_add_text()
 * (invalid UTF-8 and forbidden control characters become U+FFFD, ANSI
 * escapes and '\r' are dropped). The counts of <testsuites> and
 * <testsuite> are those of the elements written.
 */
#ifndef TEELAB_JUNIT_H
#define TEELAB_JUNIT_H

#include <stddef.h>

#include "util.h"

struct junit_case {
	char *classname;
	char *name;
	double time;		/* seconds */
	const char *elem;	/* "failure", "error", "skipped" or NULL (passed) */
	char *message;		/* the element's message attribute and text, or NULL */
	char *type;		/* its type attribute (not for "skipped"), or NULL */
	struct strbuf out;	/* <system-out>, written when not empty */
};

struct junit_suite {
	char *name;
	double time;		/* seconds */
	char *timestamp;	/* ISO 8601 without a zone designator, or NULL */
	struct strvec props;	/* name, value, name, value... */
	size_t nr;
	struct junit_case *cases;
};

struct junit {
	char *name;
	double time;		/* seconds */
	size_t nr;
	struct junit_suite *suites;
};
#define JUNIT_INIT { NULL, 0, 0, NULL }

/* Start the report named @name (copied), @time seconds long. */
void junit_init(struct junit *j, const char *name, double time);
/*
 * Append a <testsuite> (@name copied; @started an ISO 8601 UTC time such as
 * result.json's "started", or NULL: the trailing 'Z' is dropped since the
 * JUnit schema's timestamp has no zone). Owned by @j, valid until the next
 * junit_add_suite().
 */
struct junit_suite *junit_add_suite(struct junit *j, const char *name, double time,
				    const char *started);
/* Append <property name value/> (both copied; NULL value: ""). */
void junit_add_property(struct junit_suite *s, const char *name, const char *value);
/*
 * Append a passed <testcase> (strings copied; NULL name: ""); set ->elem,
 * ->message, ->type and ->out for other outcomes. Valid until the next
 * junit_add_case() on @s.
 */
struct junit_case *junit_add_case(struct junit_suite *s, const char *classname,
				  const char *name, double time);
/* Write the report to @path atomically. 0 or -errno (reported). */
int junit_write(const struct junit *j, const char *path);
/* Free everything; @j is JUNIT_INIT after. */
void junit_release(struct junit *j);

#endif
