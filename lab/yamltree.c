// SPDX-License-Identifier: MIT
/* yamltree.c - see yamltree.h */
#include "yamltree.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

/* Deeper nesting than this is certainly not a teelab file (and would risk
 * the stack, since the tree is built recursively). */
#define YTREE_MAX_DEPTH 128

struct loader {
	yaml_parser_t parser;
	struct ydoc *doc;
	const char *text;	/* the whole input, for reader error positions */
	bool quiet;		/* errors are returned, not reported */
	size_t len;
};

/* ---- tree ---- */

static struct ynode *ynode_new(enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (unsigned)mark->line + 1;
	n->column = (unsigned)mark->column + 1;
	return n;
}

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	free(n->scalar);
	for (size_t i = 0; i < n->nr; i++) {
		ynode_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->key_lines);
	free(n->key_columns);
	free(n);
}

/* Append @child (and for a map its key at @kmark) to @n; @alloc is the
 * capacity of the parallel arrays. */
static void ynode_append(struct ynode *n, size_t *alloc, struct ynode *child,
			 const char *key, const yaml_mark_t *kmark)
{
	if (n->nr == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 4;
		n->items = xrealloc(n->items, *alloc * sizeof(*n->items));
		if (n->type == YNODE_MAP) {
			n->keys = xrealloc(n->keys, *alloc * sizeof(*n->keys));
			n->key_lines = xrealloc(n->key_lines,
						*alloc * sizeof(*n->key_lines));
			n->key_columns = xrealloc(n->key_columns,
						  *alloc * sizeof(*n->key_columns));
		}
	}
	n->items[n->nr] = child;
	if (n->type == YNODE_MAP) {
		n->keys[n->nr] = xstrdup(key);
		n->key_lines[n->nr] = (unsigned)kmark->line + 1;
		n->key_columns[n->nr] = (unsigned)kmark->column + 1;
	}
	n->nr++;
}

/* ---- loading ---- */

/* Report "PATH:LINE:COL: message" at @mark; returns -EINVAL. */
static int located(struct loader *l, const yaml_mark_t *mark,
		   const char *fmt, ...) PRINTF(3, 4);

static int located(struct loader *l, const yaml_mark_t *mark,
		   const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (l->quiet)
		return -EINVAL;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	error("%s:%u:%u: %s", l->doc->path, (unsigned)mark->line + 1,
	      (unsigned)mark->column + 1, strbuf_str(&sb));
	strbuf_release(&sb);
	return -EINVAL;
}

/* Line/column (0-based, in characters) of byte @offset of the input. */
static yaml_mark_t offset_mark(const struct loader *l, size_t offset)
{
	yaml_mark_t m = { .index = offset, .line = 0, .column = 0 };

	if (offset > l->len)
		offset = l->len;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)l->text[i];

		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;	/* count characters, not UTF-8 bytes */
		}
	}
	return m;
}

static int syntax_error(struct loader *l)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t mark = p->problem_mark;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fputs("teelab: out of memory\n", stderr);
		abort();
	case YAML_READER_ERROR:
		/* libyaml only records a byte offset for these */
		mark = offset_mark(l, p->problem_offset);
		return located(l, &mark, "%s", problem);
	default:
		break;
	}
	if (p->context) {
		if (p->context_mark.line != p->problem_mark.line ||
		    p->context_mark.column != p->problem_mark.column)
			return located(l, &mark, "%s %s started at line %u column %u",
				       problem, p->context,
				       (unsigned)p->context_mark.line + 1,
				       (unsigned)p->context_mark.column + 1);
		return located(l, &mark, "%s %s", problem, p->context);
	}
	return located(l, &mark, "%s", problem);
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev))
		return syntax_error(l);
	return 0;
}

/*
 * Anchors, aliases and tags are deliberately unsupported, but for the
 * non-specific tag "!" (a scalar to be taken as it is written; PyYAML puts
 * it on quoted numbers, as in LAVA's job logs).
 */
static int check_plain_node(struct loader *l, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return located(l, &ev->start_mark,
			       "aliases are not supported ('*%s')",
			       (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		return located(l, &ev->start_mark, "unexpected YAML event");
	}
	if (anchor)
		return located(l, &ev->start_mark,
			       "anchors are not supported ('&%s')",
			       (const char *)anchor);
	if (tag && strcmp((const char *)tag, "!"))
		return located(l, &ev->start_mark,
			       "tags are not supported ('%s')",
			       (const char *)tag);
	return 0;
}

static int build_node(struct loader *l, const yaml_event_t *start,
		      unsigned depth, struct ynode **out);

static int build_seq(struct loader *l, struct ynode *n, unsigned depth)
{
	size_t alloc = 0;
	int ret = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *child = NULL;

		ret = next_event(l, &ev);
		if (ret)
			return ret;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		ret = build_node(l, &ev, depth + 1, &child);
		yaml_event_delete(&ev);
		if (ret)
			return ret;
		ynode_append(n, &alloc, child, NULL, NULL);
	}
}

static int build_map(struct loader *l, struct ynode *n, unsigned depth)
{
	size_t alloc = 0;
	int ret = 0;

	for (;;) {
		yaml_event_t kev, vev;
		struct ynode *child = NULL;
		const char *key = NULL;

		ret = next_event(l, &kev);
		if (ret)
			return ret;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		ret = check_plain_node(l, &kev);
		if (!ret && kev.type != YAML_SCALAR_EVENT)
			ret = located(l, &kev.start_mark,
				      "mapping keys must be scalars");
		if (ret)
			goto key_out;
		key = (const char *)kev.data.scalar.value;
		for (size_t i = 0; i < n->nr; i++) {
			if (strcmp(n->keys[i], key))
				continue;
			ret = located(l, &kev.start_mark,
				      "duplicate key '%s' (first at line %u column %u)",
				      key, n->key_lines[i], n->key_columns[i]);
			goto key_out;
		}
		ret = next_event(l, &vev);
		if (ret)
			goto key_out;
		ret = build_node(l, &vev, depth + 1, &child);
		yaml_event_delete(&vev);
		if (!ret)
			ynode_append(n, &alloc, child, key, &kev.start_mark);
key_out:
		yaml_event_delete(&kev);
		if (ret)
			return ret;
	}
}

/* Build the node that starts with event @start (not consumed). */
static int build_node(struct loader *l, const yaml_event_t *start,
		      unsigned depth, struct ynode **out)
{
	struct ynode *n = NULL;
	int ret = check_plain_node(l, start);

	if (ret)
		return ret;
	if (depth > YTREE_MAX_DEPTH)
		return located(l, &start->start_mark,
			       "nesting deeper than %d levels", YTREE_MAX_DEPTH);
	switch (start->type) {
	case YAML_SCALAR_EVENT:
		n = ynode_new(YNODE_SCALAR, &start->start_mark);
		n->scalar = xstrndup((const char *)start->data.scalar.value,
				     start->data.scalar.length);
		break;
	case YAML_SEQUENCE_START_EVENT:
		n = ynode_new(YNODE_SEQ, &start->start_mark);
		ret = build_seq(l, n, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		n = ynode_new(YNODE_MAP, &start->start_mark);
		ret = build_map(l, n, depth);
		break;
	default:
		/* check_plain_node() rejected everything else */
		break;
	}
	if (ret) {
		ynode_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

/* An implicit null root ("---" alone) counts as an empty document. */
static bool is_empty_root(const yaml_event_t *ev)
{
	return ev->type == YAML_SCALAR_EVENT &&
	       ev->data.scalar.length == 0 &&
	       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !ev->data.scalar.anchor && !ev->data.scalar.tag;
}

/* Stream: STREAM-START [DOCUMENT-START node DOCUMENT-END] STREAM-END */
static int load_stream(struct loader *l)
{
	yaml_event_t ev;
	int ret = next_event(l, &ev);	/* STREAM-START */

	if (ret)
		return ret;
	yaml_event_delete(&ev);

	ret = next_event(l, &ev);
	if (ret)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT)
		goto out;	/* nothing but comments or blanks */
	yaml_event_delete(&ev);	/* DOCUMENT-START */

	ret = next_event(l, &ev);
	if (ret)
		return ret;
	if (!is_empty_root(&ev))
		ret = build_node(l, &ev, 0, &l->doc->root);
	yaml_event_delete(&ev);
	if (ret)
		return ret;

	ret = next_event(l, &ev);	/* DOCUMENT-END */
	if (ret)
		return ret;
	yaml_event_delete(&ev);

	ret = next_event(l, &ev);
	if (ret)
		return ret;
	if (ev.type != YAML_STREAM_END_EVENT)
		ret = located(l, &ev.start_mark,
			      "only one YAML document is allowed");
out:
	yaml_event_delete(&ev);
	return ret;
}

static int load_buffer(const char *name, const char *text, size_t len,
		       struct ydoc *doc, bool quiet)
{
	struct loader l = { .doc = doc, .text = text, .len = len, .quiet = quiet };
	int ret = 0;

	doc->path = xstrdup(name);
	doc->root = NULL;
	if (!yaml_parser_initialize(&l.parser)) {
		fputs("teelab: out of memory\n", stderr);
		abort();
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)text,
				     len);
	ret = load_stream(&l);
	yaml_parser_delete(&l.parser);
	if (ret)
		ydoc_release(doc);
	return ret;
}

int ydoc_load(const char *path, struct ydoc *doc)
{
	char *text = NULL;
	size_t len = 0;
	int ret = read_file(path, &text, &len);

	if (ret) {
		return error_code(-ENOENT, "cannot read '%s': %s", path, strerror(-ret));
	}
	ret = load_buffer(path, text, len, doc, false);
	free(text);
	return ret;
}

int ydoc_load_string(const char *name, const char *text, struct ydoc *doc)
{
	return load_buffer(name, text, strlen(text), doc, false);
}

int ydoc_load_string_quiet(const char *name, const char *text, struct ydoc *doc)
{
	return load_buffer(name, text, strlen(text), doc, true);
}

void ydoc_release(struct ydoc *doc)
{
	ynode_free(doc->root);
	free(doc->path);
	doc->root = NULL;
	doc->path = NULL;
}

/* ---- access ---- */

int ynode_error(const struct ydoc *doc, const struct ynode *n,
		const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	const char *path = doc && doc->path ? doc->path : "<yaml>";
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (n)
		error("%s:%u:%u: %s", path, n->line, n->column, strbuf_str(&sb));
	else
		error("%s: %s", path, strbuf_str(&sb));
	strbuf_release(&sb);
	return -EINVAL;
}

static const char *type_desc(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_SCALAR:
		return "a scalar";
	case YNODE_SEQ:
		return "a sequence";
	case YNODE_MAP:
		return "a mapping";
	}
	return "?";
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->nr; i++)
		if (!strcmp(map->keys[i], key))
			return map->items[i];
	return NULL;
}

int ynode_check_keys(const struct ydoc *doc, const struct ynode *map,
		     const char *what, const char *const *allowed)
{
	if (!map)
		return ynode_error(doc, NULL, "expected a mapping for %s", what);
	if (map->type != YNODE_MAP)
		return ynode_error(doc, map, "expected a mapping for %s, got %s",
				   what, type_desc(map));
	for (size_t i = 0; i < map->nr; i++) {
		bool ok = false;
		struct ynode pos = { .line = map->key_lines[i],
				     .column = map->key_columns[i] };

		for (const char *const *a = allowed; a && *a; a++)
			if (!strcmp(*a, map->keys[i]))
				ok = true;
		if (!ok)
			return ynode_error(doc, &pos, "unknown key '%s' in %s",
					   map->keys[i], what);
	}
	return 0;
}

int ynode_get_str(const struct ydoc *doc, const struct ynode *map,
		  const char *key, const char **out)
{
	const struct ynode *n = ynode_get(map, key);

	if (!n)
		return 0;
	if (n->type != YNODE_SCALAR)
		return ynode_error(doc, n, "expected a string for '%s', got %s",
				   key, type_desc(n));
	*out = n->scalar;
	return 0;
}

int ynode_get_double(const struct ydoc *doc, const struct ynode *map,
		     const char *key, double *out)
{
	const struct ynode *n = ynode_get(map, key);
	char *end = NULL;
	double v = 0;

	if (!n)
		return 0;
	if (n->type != YNODE_SCALAR)
		return ynode_error(doc, n, "expected a number for '%s', got %s",
				   key, type_desc(n));
	errno = 0;
	if (*n->scalar && !isspace((unsigned char)*n->scalar))
		v = strtod(n->scalar, &end);
	if (!end || end == n->scalar || *end || errno == ERANGE || !isfinite(v))
		return ynode_error(doc, n, "expected a number for '%s', got '%s'",
				   key, n->scalar);
	*out = v;
	return 0;
}

int ynode_get_int(const struct ydoc *doc, const struct ynode *map,
		  const char *key, int *out)
{
	const struct ynode *n = ynode_get(map, key);
	char *end = NULL;
	long v = 0;

	if (!n)
		return 0;
	if (n->type != YNODE_SCALAR)
		return ynode_error(doc, n, "expected an integer for '%s', got %s",
				   key, type_desc(n));
	errno = 0;
	if (*n->scalar && !isspace((unsigned char)*n->scalar))
		v = strtol(n->scalar, &end, 10);
	if (!end || end == n->scalar || *end)
		return ynode_error(doc, n, "expected an integer for '%s', got '%s'",
				   key, n->scalar);
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return ynode_error(doc, n, "integer out of range for '%s': '%s'",
				   key, n->scalar);
	*out = (int)v;
	return 0;
}

int ynode_get_bool(const struct ydoc *doc, const struct ynode *map,
		   const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const struct ynode *n = ynode_get(map, key);

	if (!n)
		return 0;
	if (n->type == YNODE_SCALAR) {
		for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
			if (!strcasecmp(n->scalar, yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcasecmp(n->scalar, no[i])) {
				*out = false;
				return 0;
			}
		}
		return ynode_error(doc, n,
				   "expected true or false for '%s', got '%s'",
				   key, n->scalar);
	}
	return ynode_error(doc, n, "expected true or false for '%s', got %s",
			   key, type_desc(n));
}

int ynode_get_strlist(const struct ydoc *doc, const struct ynode *map,
		      const char *key, const char ***out, size_t *nr)
{
	const struct ynode *n = ynode_get(map, key);
	const char **list = NULL;

	if (!n)
		return 0;
	if (n->type == YNODE_MAP)
		return ynode_error(doc, n,
				   "expected a string or a list of strings for '%s', got a mapping",
				   key);
	if (n->type == YNODE_SCALAR) {
		list = xcalloc(2, sizeof(*list));
		list[0] = n->scalar;
		*out = list;
		*nr = 1;
		return 0;
	}
	for (size_t i = 0; i < n->nr; i++)
		if (n->items[i]->type != YNODE_SCALAR)
			return ynode_error(doc, n->items[i],
					   "expected a string in list '%s', got %s",
					   key, type_desc(n->items[i]));
	list = xcalloc(n->nr + 1, sizeof(*list));
	for (size_t i = 0; i < n->nr; i++)
		list[i] = n->items[i]->scalar;
	*out = list;
	*nr = n->nr;
	return 0;
}
