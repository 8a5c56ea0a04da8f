/* SPDX-License-Identifier: MIT */
/*
 * yamlemit.h - write a YAML document with libyaml's emitter, event by
 * event: nothing YAML is assembled from strings, so a value with ": ",
 * a leading '-', a newline or a quote comes out as the reader expects.
 *
 * Scalars written as strings are quoted whenever a YAML 1.1 reader
 * (PyYAML, as LAVA uses) would resolve the plain form to something else
 * ("on", "1.5", "~", "2001-12-14"); numbers and booleans are written plain.
 *
 * Usage: yemit_init(), then a balanced sequence of yemit_map()/yemit_seq()
 * ... yemit_end() with scalars in between (in a mapping: key, value, key,
 * value ...; yemit_key() and the yemit_kv_*() pairs help), then
 * yemit_finish(). The first error is kept; every later call does nothing.
 */
#ifndef TEELAB_YAMLEMIT_H
#define TEELAB_YAMLEMIT_H

#include <stdbool.h>
#include <yaml.h>

#include "util.h"

struct yemit {
	yaml_emitter_t em;
	struct strbuf out;	/* the document so far */
	int err;		/* 0, or the first -errno (-EINVAL: libyaml refused an event) */
	const char *problem;	/* libyaml's message for that error, or NULL */
	struct strvec open;	/* "m"/"s" per open mapping/sequence, innermost last */
};

/* Start a document (block style, UTF-8, 2-space indent). Never fails. */
void yemit_init(struct yemit *y);
/* Open a block mapping / sequence; @flow: one line ("{a: 1}", "[x, y]"). */
void yemit_map(struct yemit *y, bool flow);
void yemit_seq(struct yemit *y, bool flow);
/* Close the innermost mapping or sequence. */
void yemit_end(struct yemit *y);
/* A string scalar (quoted when its plain form would not read back as this string). */
void yemit_str(struct yemit *y, const char *s);
/* A string kept as a literal block ("|") when it has several lines. */
void yemit_text(struct yemit *y, const char *s);
void yemit_int(struct yemit *y, long long v);
void yemit_bool(struct yemit *y, bool v);
/* A null ("~"). */
void yemit_null(struct yemit *y);
/* A mapping key (a string). */
#define yemit_key yemit_str
/* key: value pairs */
void yemit_kv_str(struct yemit *y, const char *key, const char *value);
void yemit_kv_int(struct yemit *y, const char *key, long long value);
void yemit_kv_bool(struct yemit *y, const char *key, bool value);
void yemit_kv_null(struct yemit *y, const char *key);
/* key: then a mapping / sequence opened (closed by yemit_end()) */
void yemit_kv_map(struct yemit *y, const char *key, bool flow);
void yemit_kv_seq(struct yemit *y, const char *key, bool flow);
/*
 * End the document and hand over its text (*out, malloc'd, caller frees).
 * Returns 0, or the first error (reported once here with libyaml's
 * message); *out is NULL then.
 */
int yemit_finish(struct yemit *y, char **out);

/* Whether YAML 1.1 reads @s, written plain, back as the same string. */
bool yemit_plain_safe(const char *s);

#endif
