/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the cmocka unit tests. Include after
 * <cmocka.h>: the helpers assert through cmocka.
 */
#ifndef TEELAB_TESTUTIL_H
#define TEELAB_TESTUTIL_H

#include <stddef.h>

#include <libxml/tree.h>

/* Redirect fd 2 into a temporary file until capture_end(). */
struct capture {
	int saved_fd;
	int tmp_fd;
};

void capture_begin(struct capture *c);
/* Restore stderr and return what was written meanwhile (caller frees). */
char *capture_end(struct capture *c);

/* cmocka group fixtures: *state = a fresh /tmp/teelab-test-XXXXXX dir (malloc'd), removed after. */
int setup_tmp(void **state);
int teardown_tmp(void **state);
/* <the fixture dir>/<rel>, malloc'd. */
char *tpath(void **state, const char *rel);

/* The project root: $TEELAB_SRCDIR, or "." (the Makefile sets it). */
const char *test_srcdir(void);
/* The whole of tests/data/@rel (malloc'd; asserts that it reads). */
char *test_data(const char *rel);
/* Write @text to <@dir>/@rel (asserts on failure). */
void put_file(const char *dir, const char *rel, const char *text);

/* A symlink <@dir>/@rel -> @target (asserts on failure). */
void put_symlink(const char *dir, const char *rel, const char *target);
/* <@dir>/@name's contents (malloc'd); fails the test if unreadable. */
char *tu_slurp(const char *dir, const char *name);
/* How many times @needle occurs in @hay (overlapping). */
size_t tu_count(const char *hay, const char *needle);

/*
 * XML read back with libxml2, for the writers' tests. tu_xml_read() fails
 * the test unless <@dir>/@name is well-formed XML (free with xmlFreeDoc).
 * The prefix "qemu" names libvirt's QEMU namespace in expressions.
 */
xmlDocPtr tu_xml_read(const char *dir, const char *name);
/* The text of the first node @xpath selects in @doc (malloc'd) or NULL. */
char *xpath_text(xmlDocPtr doc, const char *xpath);
/* The first node @xpath selects has the text @want (fails the test otherwise). */
void assert_xpath(xmlDocPtr doc, const char *xpath, const char *want);
/*
 * The element @elem selects has the attributes @attrs, given as
 * "name=value name=value" (values without spaces).
 */
void assert_xpath_attrs(xmlDocPtr doc, const char *elem, const char *attrs);
/* No C0 control character in @text but newlines (fails the test naming its offset). */
void assert_no_controls(const char *text);
/* The number the expression @xpath gives, e.g. "count(//testcase)". */
double xpath_number(xmlDocPtr doc, const char *xpath);

#endif
