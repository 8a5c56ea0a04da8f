// SPDX-License-Identifier: MIT
/* testutil.c - helpers shared by the unit tests; see testutil.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "testutil.h"
#include "util.h"

void capture_begin(struct capture *c)
{
	char tmpl[] = "/tmp/teelab-stderr-XXXXXX";

	fflush(stderr);
	c->tmp_fd = mkstemp(tmpl);
	assert_true(c->tmp_fd >= 0);
	unlink(tmpl);
	c->saved_fd = dup(2);
	assert_true(c->saved_fd >= 0);
	assert_true(dup2(c->tmp_fd, 2) >= 0);
}

char *capture_end(struct capture *c)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n = 0;

	fflush(stderr);
	assert_true(dup2(c->saved_fd, 2) >= 0);
	close(c->saved_fd);
	assert_true(lseek(c->tmp_fd, 0, SEEK_SET) == 0);
	while ((n = read(c->tmp_fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(c->tmp_fd);
	return strbuf_detach(&sb);
}

int setup_tmp(void **state)
{
	char tmpl[] = "/tmp/teelab-test-XXXXXX";

	if (!mkdtemp(tmpl))
		return -1;
	*state = xstrdup(tmpl);
	return 0;
}

int teardown_tmp(void **state)
{
	char *dir = *state;

	remove_tree(dir);
	free(dir);
	return 0;
}

char *tpath(void **state, const char *rel)
{
	return path_join(*state, rel);
}

const char *test_srcdir(void)
{
	const char *s = getenv("TEELAB_SRCDIR");

	return s && *s ? s : ".";
}

char *test_data(const char *rel)
{
	char *path = xasprintf("%s/tests/data/%s", test_srcdir(), rel);
	char *text = NULL;

	assert_int_equal(read_file(path, &text, NULL), 0);
	free(path);
	return text;
}

void put_file(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel);

	assert_int_equal(write_file_str(p, text), 0);
	free(p);
}

void put_symlink(const char *dir, const char *rel, const char *target)
{
	char *p = path_join(dir, rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

char *tu_slurp(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	char *text = NULL;

	if (read_file(path, &text, NULL))
		fail_msg("cannot read '%s'", path);
	free(path);
	return text;
}

size_t tu_count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

xmlDocPtr tu_xml_read(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);

	if (!doc)
		fail_msg("'%s' is not well-formed XML", path);
	free(path);
	return doc;
}

/* @xpath evaluated in @doc (xmlXPathFreeObject() it), NULL if invalid. */
static xmlXPathObjectPtr xpath_eval(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = NULL;

	xmlXPathRegisterNs(ctx, BAD_CAST "qemu", BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0");
	o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	xmlXPathFreeContext(ctx);
	return o;
}

char *xpath_text(xmlDocPtr doc, const char *xpath)
{
	xmlXPathObjectPtr o = xpath_eval(doc, xpath);
	char *ret = NULL;

	if (o && o->nodesetval && o->nodesetval->nodeNr) {
		xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);

		ret = strdup((const char *)t);
		xmlFree(t);
	}
	xmlXPathFreeObject(o);
	return ret;
}

void assert_xpath(xmlDocPtr doc, const char *xpath, const char *want)
{
	char *t = xpath_text(doc, xpath);

	if (!t || strcmp(t, want))
		print_error("%s: got '%s', wanted '%s'\n", xpath, t ? t : "(nothing)", want);
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
}

double xpath_number(xmlDocPtr doc, const char *xpath)
{
	xmlXPathObjectPtr o = xpath_eval(doc, xpath);
	double n = o ? xmlXPathCastToNumber(o) : -1;

	if (!o)
		fail_msg("invalid XPath '%s'", xpath);
	xmlXPathFreeObject(o);
	return n;
}

void assert_xpath_attrs(xmlDocPtr doc, const char *elem, const char *attrs)
{
	const char *p = attrs;

	while (*p) {
		const char *eq = strchr(p, '=');
		const char *end = strchrnul(p, ' ');
		char *xpath = NULL;
		char *want = NULL;

		assert_true(eq && eq < end);
		xpath = xasprintf("%s/@%.*s", elem, (int)(eq - p), p);
		want = xstrndup(eq + 1, (size_t)(end - eq - 1));
		assert_xpath(doc, xpath, want);
		free(xpath);
		free(want);
		p = *end ? end + 1 : end;
	}
}

void assert_no_controls(const char *text)
{
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			fail_msg("control character 0x%02x at offset %zu",
				 (unsigned char)*p, (size_t)(p - text));
}
