// SPDX-License-Identifier: MIT
/* test_yamltree.c - unit tests for lab/yamltree.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "yamltree.h"

struct fixture {
	char dir[64];		/* private temporary directory */
	char *path;		/* <dir>/t.yaml */
	struct ydoc doc;
	char *err;		/* what the last captured call printed on stderr */
};


/* Restore stderr and keep what was written meanwhile in f->err. */
static void capture_into(struct fixture *f, struct capture *c)
{
	free(f->err);
	f->err = capture_end(c);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/teelab-yt-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->path = path_join(f->dir, "t.yaml");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ydoc_release(&f->doc);
	remove_tree(f->dir);
	free(f->path);
	free(f->err);
	free(f);
	return 0;
}

/* Write @text to f->path and load it, capturing stderr into f->err. */
static int load(struct fixture *f, const char *text)
{
	struct capture c = { -1, -1 };
	int ret = 0;

	ydoc_release(&f->doc);
	assert_int_equal(write_file_str(f->path, text), 0);
	capture_begin(&c);
	ret = ydoc_load(f->path, &f->doc);
	capture_into(f, &c);
	return ret;
}

/* Assert that stderr said "teelab: error: <path>:<where>" exactly. */
static void assert_error(const struct fixture *f, const char *where)
{
	char *want = xasprintf("teelab: error: %s:%s\n", f->path, where);

	if (strcmp(f->err, want)) {
		print_error("expected stderr: %swhat it was:     %s", want, f->err);
		free(want);
		fail();
	}
	free(want);
}

/* ---- loading ---- */

static void test_tree_and_positions(void **state)
{
	struct fixture *f = *state;
	const struct ynode *r = NULL, *n = NULL;

	assert_int_equal(load(f,
		"# comment\n"
		"name: demo\n"
		"list:\n"
		"  - one\n"
		"  - 'two'\n"
		"nested:\n"
		"    inner: \"quoted: yes\"\n"
		"flow: {a: 1, b: [x, y]}\n"
		"empty:\n"), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->doc.path, f->path);
	r = f->doc.root;
	assert_non_null(r);
	assert_int_equal(r->type, YNODE_MAP);
	assert_int_equal(r->nr, 5);
	assert_string_equal(r->keys[0], "name");
	assert_int_equal(r->key_lines[0], 2);
	assert_int_equal(r->key_columns[0], 1);
	assert_string_equal(r->keys[4], "empty");
	assert_int_equal(r->key_lines[4], 9);

	n = ynode_get(r, "name");
	assert_non_null(n);
	assert_int_equal(n->type, YNODE_SCALAR);
	assert_string_equal(n->scalar, "demo");
	assert_int_equal(n->line, 2);
	assert_int_equal(n->column, 7);

	n = ynode_get(r, "list");
	assert_int_equal(n->type, YNODE_SEQ);
	assert_int_equal(n->nr, 2);
	assert_int_equal(n->line, 4);
	assert_int_equal(n->column, 3);
	assert_string_equal(n->items[0]->scalar, "one");
	assert_int_equal(n->items[0]->column, 5);
	assert_string_equal(n->items[1]->scalar, "two");
	assert_int_equal(n->items[1]->line, 5);
	assert_int_equal(n->items[1]->column, 5);

	n = ynode_get(r, "nested");
	assert_int_equal(n->type, YNODE_MAP);
	assert_int_equal(n->key_lines[0], 7);
	assert_int_equal(n->key_columns[0], 5);
	n = ynode_get(n, "inner");
	assert_string_equal(n->scalar, "quoted: yes");
	assert_int_equal(n->column, 12);

	n = ynode_get(r, "flow");
	assert_int_equal(n->type, YNODE_MAP);
	assert_int_equal(n->line, 8);
	assert_int_equal(n->column, 7);
	assert_string_equal(ynode_get(n, "a")->scalar, "1");
	assert_int_equal(ynode_get(n, "b")->type, YNODE_SEQ);
	assert_string_equal(ynode_get(n, "b")->items[1]->scalar, "y");
	assert_int_equal(ynode_get(n, "b")->items[1]->column, 21);

	n = ynode_get(r, "empty");
	assert_int_equal(n->type, YNODE_SCALAR);
	assert_string_equal(n->scalar, "");

	assert_null(ynode_get(r, "missing"));
	assert_null(ynode_get(ynode_get(r, "name"), "x"));
	assert_null(ynode_get(NULL, "x"));
}

static void test_empty_documents(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_null(f->doc.root);
	assert_string_equal(f->doc.path, f->path);
	assert_int_equal(load(f, "# only a comment\n\n"), 0);
	assert_null(f->doc.root);
	assert_int_equal(load(f, "---\n"), 0);
	assert_null(f->doc.root);
	assert_string_equal(f->err, "");
	/* an explicitly empty string is not an empty document */
	assert_int_equal(load(f, "''\n"), 0);
	assert_non_null(f->doc.root);
	assert_string_equal(f->doc.root->scalar, "");
}

static void test_load_string(void **state)
{
	struct fixture *f = *state;
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(ydoc_load_string("mem", "- a\n- b\n", &f->doc), 0);
	assert_string_equal(f->doc.path, "mem");
	assert_int_equal(f->doc.root->type, YNODE_SEQ);
	assert_int_equal(f->doc.root->nr, 2);
	ydoc_release(&f->doc);
	assert_null(f->doc.root);
	assert_null(f->doc.path);

	capture_begin(&c);
	ret = ydoc_load_string("mem", "a: [\n", &f->doc);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(f->err, "teelab: error: mem:2:1: "));
	assert_null(f->doc.root);
	assert_null(f->doc.path);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct capture c = { -1, -1 };
	char *path = path_join(f->dir, "nope.yaml");
	int ret = 0;

	capture_begin(&c);
	ret = ydoc_load(path, &f->doc);
	capture_into(f, &c);
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(f->err, "cannot read '"));
	assert_non_null(strstr(f->err, "nope.yaml"));
	assert_null(f->doc.root);
	free(path);
}

static void test_syntax_tab_indent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "steps:\n  - boot\n\t- run: x\n"), -EINVAL);
	assert_error(f, "3:1: found a tab character that violates indentation "
		     "while scanning a plain scalar started at line 2 column 5");
	assert_null(f->doc.root);
	assert_null(f->doc.path);
	assert_int_equal(load(f, "a:\n\tb: 1\n"), -EINVAL);
	assert_error(f, "2:1: found character that cannot start any token "
		     "while scanning for the next token");
	assert_null(f->doc.path);
}

static void test_syntax_unclosed_quote(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "a: 1\nb: \"open\nc: 2\n"), -EINVAL);
	assert_error(f, "4:1: found unexpected end of stream while scanning a "
		     "quoted scalar started at line 2 column 4");
}

static void test_syntax_bad_indent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "a:\n  b: 1\n c: 2\n"), -EINVAL);
	assert_error(f, "3:2: did not find expected key while parsing a block "
		     "mapping started at line 1 column 1");
}

static void test_reader_error_position(void **state)
{
	struct fixture *f = *state;

	/* a control character: libyaml only gives a byte offset */
	assert_int_equal(load(f, "a: 1\nbb: \x01\n"), -EINVAL);
	assert_error(f, "2:5: control characters are not allowed");
	/* invalid UTF-8 after a multi-byte character: columns count characters */
	assert_int_equal(load(f, "k: \xc3\xa9\xff\n"), -EINVAL);
	assert_non_null(strstr(f->err, ":1:5: "));
}

static void test_duplicate_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n"), -EINVAL);
	assert_error(f, "5:3: duplicate key 'x' (first at line 3 column 3)");
	assert_null(f->doc.root);
}

static void test_rejects_anchor_alias_tag(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "a: &x 1\n"), -EINVAL);
	assert_error(f, "1:4: anchors are not supported ('&x')");
	assert_int_equal(load(f, "a: 1\nb: *x\n"), -EINVAL);
	/* libyaml itself does not resolve aliases, so this is ours */
	assert_error(f, "2:4: aliases are not supported ('*x')");
	assert_int_equal(load(f, "a:\n  - !!str 1\n"), -EINVAL);
	assert_error(f, "2:5: tags are not supported ('tag:yaml.org,2002:str')");
	assert_int_equal(load(f, "a: !local {}\n"), -EINVAL);
	assert_error(f, "1:4: tags are not supported ('!local')");
}

static void test_rejects_multiple_documents(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "a: 1\n---\nb: 2\n"), -EINVAL);
	assert_error(f, "2:1: only one YAML document is allowed");
	assert_int_equal(load(f, "--- 1\n...\n--- 2\n"), -EINVAL);
	assert_error(f, "3:1: only one YAML document is allowed");
}

static void test_rejects_complex_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "? [a, b]\n: 1\n"), -EINVAL);
	assert_error(f, "1:3: mapping keys must be scalars");
}

static void test_deep_nesting(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 200; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 200; i++)
		strbuf_addch(&sb, ']');
	strbuf_addch(&sb, '\n');
	assert_int_equal(load(f, sb.buf), -EINVAL);
	assert_non_null(strstr(f->err, ":1:130: nesting deeper than 128 levels"));
	strbuf_release(&sb);
}

/* ---- access ---- */

static void test_ynode_error(void **state)
{
	struct fixture *f = *state;
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(load(f, "a:\n  b: 'x'\n"), 0);
	capture_begin(&c);
	ret = ynode_error(&f->doc, ynode_get(ynode_get(f->doc.root, "a"), "b"),
			  "bad value '%s' number %d", "x", 7);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "2:6: bad value 'x' number 7");
}

static void test_check_keys(void **state)
{
	struct fixture *f = *state;
	static const char *const allowed[] = { "one", "two", NULL };
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(load(f, "one: 1\ntwo: 2\nseq: [1]\nm:\n  one: 1\n"), 0);
	assert_int_equal(ynode_check_keys(&f->doc, ynode_get(f->doc.root, "m"),
					  "the thing", allowed), 0);

	capture_begin(&c);
	ret = ynode_check_keys(&f->doc, f->doc.root, "the root", allowed);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "3:1: unknown key 'seq' in the root");

	capture_begin(&c);
	ret = ynode_check_keys(&f->doc, ynode_get(f->doc.root, "seq"), "seq",
			       allowed);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "3:6: expected a mapping for seq, got a sequence");
}

static void test_check_keys_position_of_unknown(void **state)
{
	struct fixture *f = *state;
	static const char *const allowed[] = { "one", NULL };
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(load(f, "m:\n  one: 1\n\n  three: 3\n"), 0);
	capture_begin(&c);
	ret = ynode_check_keys(&f->doc, ynode_get(f->doc.root, "m"), "m",
			       allowed);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "4:3: unknown key 'three' in m");
}

static void test_get_str(void **state)
{
	struct fixture *f = *state;
	const char *s = "untouched";
	struct capture c = { -1, -1 };
	int ret = 0;

	assert_int_equal(load(f, "s: hello world\nm: {a: 1}\n"), 0);
	assert_int_equal(ynode_get_str(&f->doc, f->doc.root, "absent", &s), 0);
	assert_string_equal(s, "untouched");
	assert_int_equal(ynode_get_str(&f->doc, f->doc.root, "s", &s), 0);
	assert_string_equal(s, "hello world");

	capture_begin(&c);
	ret = ynode_get_str(&f->doc, f->doc.root, "m", &s);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "2:4: expected a string for 'm', got a mapping");
	assert_string_equal(s, "hello world");
}

static void test_get_double(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "e", "f", "g", "h", "i", "j" };
	double d = -1;

	assert_int_equal(load(f,
		"a: 10\nb: 2.5\nc: 1e3\nd: -4\n"
		"e: 10s\nf: ''\ng: nan\nh: inf\ni: [1]\nj: ' 5'\n"), 0);
	assert_int_equal(ynode_get_double(&f->doc, f->doc.root, "zz", &d), 0);
	assert_true(d == -1);
	assert_int_equal(ynode_get_double(&f->doc, f->doc.root, "a", &d), 0);
	assert_true(d == 10);
	assert_int_equal(ynode_get_double(&f->doc, f->doc.root, "b", &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(ynode_get_double(&f->doc, f->doc.root, "c", &d), 0);
	assert_true(d == 1000);
	assert_int_equal(ynode_get_double(&f->doc, f->doc.root, "d", &d), 0);
	assert_true(d == -4);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct capture c = { -1, -1 };
		int ret = 0;

		capture_begin(&c);
		ret = ynode_get_double(&f->doc, f->doc.root, bad[i], &d);
		capture_into(f, &c);
		assert_int_equal(ret, -EINVAL);
		assert_true(d == -4);
		assert_non_null(strstr(f->err, "expected a number for '"));
	}
	assert_error(f, "10:4: expected a number for 'j', got ' 5'");
}

static void test_get_int(void **state)
{
	struct fixture *f = *state;
	struct capture c = { -1, -1 };
	int v = 42, ret = 0;

	assert_int_equal(load(f, "a: 7\nb: -3\nc: 1.5\nd: 99999999999\ne: 0x10\n"), 0);
	assert_int_equal(ynode_get_int(&f->doc, f->doc.root, "zz", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ynode_get_int(&f->doc, f->doc.root, "a", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ynode_get_int(&f->doc, f->doc.root, "b", &v), 0);
	assert_int_equal(v, -3);

	capture_begin(&c);
	ret = ynode_get_int(&f->doc, f->doc.root, "c", &v);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "3:4: expected an integer for 'c', got '1.5'");

	capture_begin(&c);
	ret = ynode_get_int(&f->doc, f->doc.root, "d", &v);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "4:4: integer out of range for 'd': '99999999999'");

	capture_begin(&c);
	ret = ynode_get_int(&f->doc, f->doc.root, "e", &v);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(v, -3);
}

static void test_get_bool(void **state)
{
	struct fixture *f = *state;
	static const char *const yes[] = { "a", "b", "c" };
	static const char *const no[] = { "d", "e", "f" };
	struct capture c = { -1, -1 };
	bool b = false;
	int ret = 0;

	assert_int_equal(load(f, "a: true\nb: YES\nc: On\nd: False\ne: no\n"
				 "f: OFF\ng: 1\n"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(ynode_get_bool(&f->doc, f->doc.root, yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(ynode_get_bool(&f->doc, f->doc.root, no[i], &b), 0);
		assert_false(b);
	}
	b = true;
	assert_int_equal(ynode_get_bool(&f->doc, f->doc.root, "zz", &b), 0);
	assert_true(b);

	capture_begin(&c);
	ret = ynode_get_bool(&f->doc, f->doc.root, "g", &b);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_error(f, "7:4: expected true or false for 'g', got '1'");
}

static void test_get_strlist(void **state)
{
	struct fixture *f = *state;
	const char **list = NULL;
	struct capture c = { -1, -1 };
	size_t nr = 99;
	int ret = 0;

	assert_int_equal(load(f, "one: x\nmany: [a, b, c]\nnone: []\n"
				 "bad:\n  - a\n  - [b]\nmap: {}\n"), 0);
	assert_int_equal(ynode_get_strlist(&f->doc, f->doc.root, "zz", &list, &nr), 0);
	assert_null(list);
	assert_int_equal(nr, 99);

	assert_int_equal(ynode_get_strlist(&f->doc, f->doc.root, "one", &list, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(list[0], "x");
	assert_null(list[1]);
	free(list);

	assert_int_equal(ynode_get_strlist(&f->doc, f->doc.root, "many", &list, &nr), 0);
	assert_int_equal(nr, 3);
	assert_string_equal(list[0], "a");
	assert_string_equal(list[2], "c");
	assert_null(list[3]);
	free(list);

	assert_int_equal(ynode_get_strlist(&f->doc, f->doc.root, "none", &list, &nr), 0);
	assert_int_equal(nr, 0);
	assert_null(list[0]);
	free(list);
	list = NULL;

	capture_begin(&c);
	ret = ynode_get_strlist(&f->doc, f->doc.root, "bad", &list, &nr);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_null(list);
	assert_error(f, "6:5: expected a string in list 'bad', got a sequence");

	capture_begin(&c);
	ret = ynode_get_strlist(&f->doc, f->doc.root, "map", &list, &nr);
	capture_into(f, &c);
	assert_int_equal(ret, -EINVAL);
	assert_null(list);
	assert_non_null(strstr(f->err, ":7:6: expected a string or a list"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tree_and_positions),
		T(test_empty_documents),
		T(test_load_string),
		T(test_missing_file),
		T(test_syntax_tab_indent),
		T(test_syntax_unclosed_quote),
		T(test_syntax_bad_indent),
		T(test_reader_error_position),
		T(test_duplicate_key),
		T(test_rejects_anchor_alias_tag),
		T(test_rejects_multiple_documents),
		T(test_rejects_complex_key),
		T(test_deep_nesting),
		T(test_ynode_error),
		T(test_check_keys),
		T(test_check_keys_position_of_unknown),
		T(test_get_str),
		T(test_get_double),
		T(test_get_int),
		T(test_get_bool),
		T(test_get_strlist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
