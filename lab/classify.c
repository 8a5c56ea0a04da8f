// SPDX-License-Identifier: MIT
/* classify.c - panics and progress from console lines; see classify.h */
#include "classify.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void classifier_init(struct classifier *c, double now)
{
	memset(c, 0, sizeof(*c));
	c->last_progress = now;
}

void classifier_release(struct classifier *c)
{
	free(c->event_line);
	c->event_line = NULL;
}

/* Skip the kernel's "[    1.234567] " stamp so reprinted lines compare equal. */
static const char *strip_stamp(const char *line)
{
	const char *p = line;

	while (*p == ' ')
		p++;
	if (*p != '[')
		return line;
	p++;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return line;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (*p != ']')
		return line;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_line(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool seen_recently(struct classifier *c, enum console_id con, uint64_t h)
{
	for (unsigned i = 0; i < c->ring_fill[con]; i++)
		if (c->ring[con][i] == h)
			return true;
	c->ring[con][c->ring_pos[con]] = h;
	c->ring_pos[con] = (c->ring_pos[con] + 1) % CLASSIFY_RING;
	if (c->ring_fill[con] < CLASSIFY_RING)
		c->ring_fill[con]++;
	return false;
}

static enum console_event detect(enum console_id con, const char *line)
{
	const char *a;

	if (con == CON_NORMAL)
		return strstr(line, "Kernel panic - not syncing") ? EV_KERNEL_PANIC : EV_NONE;
	if (strstr(line, "Panic at ") || strstr(line, "Panic '"))
		return EV_TEE_PANIC;
	a = strstr(line, "assertion '");
	if (a && strstr(a, "' failed at "))
		return EV_TEE_PANIC;
	return EV_NONE;
}

enum console_event classifier_line(struct classifier *c, enum console_id con,
				   const char *line, double now)
{
	const char *body = strip_stamp(line);
	enum console_event ev;

	if (*body && !seen_recently(c, con, hash_line(body))) {
		c->last_progress = now;
		c->novel_lines++;
	} else {
		c->repeated_lines++;
	}
	ev = detect(con, line);
	if (ev == EV_NONE || c->event != EV_NONE)
		return EV_NONE;
	c->event = ev;
	c->event_line = xstrdup(body);
	return ev;
}

void classifier_progress(struct classifier *c, double now)
{
	c->last_progress = now;
}

bool classifier_hung(const struct classifier *c, double now, double window)
{
	return window > 0 && now - c->last_progress >= window;
}

void classifier_clear_event(struct classifier *c)
{
	c->event = EV_NONE;
	free(c->event_line);
	c->event_line = NULL;
}

const char *console_event_name(enum console_event e)
{
	switch (e) {
	case EV_NONE:
		return "none";
	case EV_KERNEL_PANIC:
		return "kernel panic";
	case EV_TEE_PANIC:
		return "OP-TEE panic";
	}
	return "?";
}
