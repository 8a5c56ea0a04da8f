// SPDX-License-Identifier: MIT
/* log.c - read a LAVA job log (lava.h): one YAML flow mapping per line */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lava.h"
#include "yamltree.h"

/* Seconds of an ISO 8601 "YYYY-MM-DDTHH:MM:SS[.ffffff]" (UTC), or -1. */
static double iso_seconds(const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	double frac = 0;

	if (!end)
		return -1;
	if (*end == '.')
		frac = strtod(end, NULL);
	return (double)timegm(&tm) + frac;
}

static char *scalar_dup(const struct ynode *map, const char *key)
{
	const struct ynode *n = ynode_get(map, key);

	return n && n->type == YNODE_SCALAR ? xstrdup(n->scalar) : NULL;
}

/* One log line into @e; false when it is not an entry. */
static bool parse_entry(const char *name, const char *line, struct lava_entry *e)
{
	struct ydoc doc = YDOC_INIT;
	const struct ynode *root, *msg;
	bool ok = false;

	if (starts_with(line, "- "))
		line += 2;
	if (line[0] != '{')
		return false;
	/* quiet: a line that is not YAML is only counted */
	if (ydoc_load_string_quiet(name, line, &doc))
		return false;
	root = doc.root;
	msg = ynode_get(root, "msg");
	if (root && root->type == YNODE_MAP && ynode_get(root, "lvl") && msg) {
		memset(e, 0, sizeof(*e));
		e->dt = scalar_dup(root, "dt");
		e->lvl = scalar_dup(root, "lvl");
		e->ns = scalar_dup(root, "ns");
		if (msg->type == YNODE_SCALAR) {
			e->msg = xstrdup(msg->scalar);
		} else if (msg->type == YNODE_MAP) {
			e->definition = scalar_dup(msg, "definition");
			e->tcase = scalar_dup(msg, "case");
			e->result = scalar_dup(msg, "result");
			e->measurement = scalar_dup(msg, "measurement");
			e->units = scalar_dup(msg, "units");
			e->error_type = scalar_dup(msg, "error_type");
			e->error_msg = scalar_dup(msg, "error_msg");
		}
		ok = e->lvl != NULL;
	}
	ydoc_release(&doc);
	return ok;
}

int lava_log_parse(const char *name, const char *text, struct lava_log *log)
{
	const char *p = text;
	double t0 = -1;

	memset(log, 0, sizeof(*log));
	while (*p) {
		const char *nl = strchrnul(p, '\n');
		char *line = xstrndup(p, (size_t)(nl - p));
		struct lava_entry e;

		if (parse_entry(name, line, &e)) {
			double t = e.dt ? iso_seconds(e.dt) : -1;

			if (t >= 0 && t0 < 0)
				t0 = t;
			e.t = t >= 0 && t0 >= 0 ? t - t0 : 0;
			if (log->nr == log->alloc) {
				log->alloc = log->alloc ? 2 * log->alloc : 256;
				log->v = xrealloc(log->v, log->alloc * sizeof(*log->v));
			}
			log->v[log->nr++] = e;
		} else if (*strtrim(line)) {
			log->skipped++;
		}
		free(line);
		p = *nl ? nl + 1 : nl;
	}
	if (!log->nr)
		return error_code(-EINVAL, "%s: not a LAVA job log (no line is a log entry)", name);
	return 0;
}

int lava_log_load(const char *path, struct lava_log *log)
{
	char *text;
	size_t len;
	int ret;

	memset(log, 0, sizeof(*log));
	if (read_file(path, &text, &len))
		return error_errno("cannot read LAVA job log '%s'", path);
	ret = lava_log_parse(path, text, log);
	free(text);
	return ret;
}

void lava_log_release(struct lava_log *log)
{
	for (size_t i = 0; i < log->nr; i++) {
		struct lava_entry *e = &log->v[i];

		free(e->dt);
		free(e->lvl);
		free(e->ns);
		free(e->msg);
		free(e->definition);
		free(e->tcase);
		free(e->result);
		free(e->measurement);
		free(e->units);
		free(e->error_type);
		free(e->error_msg);
	}
	free(log->v);
	memset(log, 0, sizeof(*log));
}
