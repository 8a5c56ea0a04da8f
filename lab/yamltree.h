/* SPDX-License-Identifier: MIT */
/*
 * yamltree.h - a YAML document (libyaml) loaded into a small node tree that
 * remembers where each node came from, so every config and scenario error
 * can say file:line:column.
 *
 * Only what teelab's files need: mappings, sequences, scalars (plain or
 * quoted, single document, no anchors/aliases/tags - those are rejected
 * with a located error).
 */
#ifndef TEELAB_YAMLTREE_H
#define TEELAB_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_type type;
	unsigned line, column;	/* 1-based position of the node's start */
	char *scalar;		/* YNODE_SCALAR: the text (never NULL) */
	size_t nr;		/* YNODE_SEQ/YNODE_MAP: number of items */
	struct ynode **items;	/* seq items, or map values */
	char **keys;		/* YNODE_MAP: keys (scalars), parallel to items */
	unsigned *key_lines, *key_columns; /* YNODE_MAP: where each key is */
};

struct ydoc {
	char *path;		/* as given to ydoc_load(), owned */
	struct ynode *root;	/* NULL for an empty document */
};
#define YDOC_INIT { NULL, NULL }

/*
 * Load @path. On a syntax error prints "PATH:LINE:COL: <libyaml problem>"
 * through error() and returns -EINVAL; -ENOENT (reported) if unreadable.
 * On success the caller owns @doc and frees it with ydoc_release().
 */
int ydoc_load(const char *path, struct ydoc *doc);
/* Same from a memory buffer; @name is used in messages. */
int ydoc_load_string(const char *name, const char *text, struct ydoc *doc);
/* ydoc_load_string() that reports nothing: -EINVAL for text that is not YAML. */
int ydoc_load_string_quiet(const char *name, const char *text, struct ydoc *doc);
void ydoc_release(struct ydoc *doc);

/* Report "PATH:LINE:COL: message" for @n via error(); returns -EINVAL. */
int ynode_error(const struct ydoc *doc, const struct ynode *n,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Value for @key in map @map, or NULL (also NULL if @map is not a map). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

/*
 * Reject keys of @map not in the NULL-terminated @allowed list:
 * "PATH:LINE:COL: unknown key 'x' in <what>". 0 or -EINVAL.
 * Also fails if @map is not a mapping ("expected a mapping").
 */
int ynode_check_keys(const struct ydoc *doc, const struct ynode *map,
		     const char *what, const char *const *allowed);

/*
 * Typed getters for an optional key of @map. If the key is absent the
 * output is left untouched and 0 is returned. If present but of the wrong
 * type, a located error is printed and -EINVAL returned.
 *  - str: scalar; *out points into the tree (do not free)
 *  - double: a number (accepts "10", "2.5", "1e3"); seconds for timeouts
 *  - int: a decimal integer (may be negative)
 *  - bool: true/false/yes/no
 *  - strlist: a scalar (one item) or a sequence of scalars; *out is a
 *    NULL-terminated malloc'd array of pointers into the tree (free the
 *    array only), *nr its length
 */
int ynode_get_str(const struct ydoc *doc, const struct ynode *map,
		  const char *key, const char **out);
int ynode_get_double(const struct ydoc *doc, const struct ynode *map,
		     const char *key, double *out);
int ynode_get_int(const struct ydoc *doc, const struct ynode *map,
		  const char *key, int *out);
int ynode_get_bool(const struct ydoc *doc, const struct ynode *map,
		   const char *key, bool *out);
int ynode_get_strlist(const struct ydoc *doc, const struct ynode *map,
		      const char *key, const char ***out, size_t *nr);

#endif
