// SPDX-License-Identifier: MIT
/* yamlemit.c - YAML documents through libyaml's emitter (yamlemit.h) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "yamlemit.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	strbuf_add(data, buffer, size);
	return 1;
}

static void emit(struct yemit *y, yaml_event_t *ev, int made)
{
	if (y->err) {
		if (made)
			yaml_event_delete(ev);
		return;
	}
	/* yaml_emitter_emit() takes the event, also when it fails */
	if (!made || !yaml_emitter_emit(&y->em, ev)) {
		y->err = -EINVAL;
		y->problem = y->em.problem ? y->em.problem : "an event libyaml could not make";
	}
}

void yemit_init(struct yemit *y)
{
	yaml_event_t ev;

	memset(y, 0, sizeof(*y));
	yaml_emitter_initialize(&y->em);
	yaml_emitter_set_output(&y->em, write_handler, &y->out);
	yaml_emitter_set_unicode(&y->em, 1);
	yaml_emitter_set_indent(&y->em, 2);
	yaml_emitter_set_width(&y->em, 100);
	emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
}

void yemit_map(struct yemit *y, bool flow)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
	strvec_push(&y->open, "m");
}

void yemit_seq(struct yemit *y, bool flow)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
	strvec_push(&y->open, "s");
}

void yemit_end(struct yemit *y)
{
	yaml_event_t ev;
	bool map;

	if (!y->open.nr) {
		if (!y->err) {
			y->err = -EINVAL;
			y->problem = "yemit_end() with nothing open";
		}
		return;
	}
	map = y->open.v[y->open.nr - 1][0] == 'm';
	free(y->open.v[--y->open.nr]);
	y->open.v[y->open.nr] = NULL;
	if (map)
		emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
	else
		emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

bool yemit_plain_safe(const char *s)
{
	/* YAML 1.1's booleans and nulls (PyYAML's resolver), any case it accepts */
	static const char *const words[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", NULL
	};
	char c = s[0];

	/*
	 * Numbers, timestamps, ".inf"/".nan", "~", "<<" and "=" all start with
	 * something else than a letter, '_' or '/': such strings are quoted.
	 */
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '/'))
		return false;
	for (size_t i = 0; words[i]; i++)
		if (!strcmp(s, words[i]))
			return false;
	return true;
}

static void scalar(struct yemit *y, const char *s, bool plain_ok, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	/*
	 * plain_implicit 0 makes the emitter quote; quoted_implicit 1 lets a
	 * quoted scalar stand without a tag (a quoted scalar is a string).
	 */
	emit(y, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
		(int)strlen(s), plain_ok, 1, style));
}

void yemit_str(struct yemit *y, const char *s)
{
	scalar(y, s, yemit_plain_safe(s), YAML_ANY_SCALAR_STYLE);
}

void yemit_text(struct yemit *y, const char *s)
{
	if (!strchr(s, '\n'))
		yemit_str(y, s);
	else
		scalar(y, s, false, YAML_LITERAL_SCALAR_STYLE);
}

void yemit_int(struct yemit *y, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	scalar(y, buf, true, YAML_PLAIN_SCALAR_STYLE);
}

void yemit_bool(struct yemit *y, bool v)
{
	scalar(y, v ? "true" : "false", true, YAML_PLAIN_SCALAR_STYLE);
}

void yemit_null(struct yemit *y)
{
	scalar(y, "~", true, YAML_PLAIN_SCALAR_STYLE);
}

void yemit_kv_str(struct yemit *y, const char *key, const char *value)
{
	yemit_key(y, key);
	yemit_str(y, value);
}

void yemit_kv_int(struct yemit *y, const char *key, long long value)
{
	yemit_key(y, key);
	yemit_int(y, value);
}

void yemit_kv_bool(struct yemit *y, const char *key, bool value)
{
	yemit_key(y, key);
	yemit_bool(y, value);
}

void yemit_kv_null(struct yemit *y, const char *key)
{
	yemit_key(y, key);
	yemit_null(y);
}

void yemit_kv_map(struct yemit *y, const char *key, bool flow)
{
	yemit_key(y, key);
	yemit_map(y, flow);
}

void yemit_kv_seq(struct yemit *y, const char *key, bool flow)
{
	yemit_key(y, key);
	yemit_seq(y, flow);
}

int yemit_finish(struct yemit *y, char **out)
{
	yaml_event_t ev;
	int ret;

	*out = NULL;
	if (y->open.nr && !y->err) {
		y->err = -EINVAL;
		y->problem = "a mapping or sequence left open";
	}
	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(y, &ev, yaml_stream_end_event_initialize(&ev));
	if (!y->err && !yaml_emitter_flush(&y->em)) {
		y->err = -EIO;
		y->problem = "flushing the output";
	}
	yaml_emitter_delete(&y->em);
	strvec_release(&y->open);
	ret = y->err;
	if (ret) {
		error("writing YAML: %s", y->problem);
		strbuf_release(&y->out);
	} else {
		*out = strbuf_detach(&y->out);
	}
	return ret;
}
