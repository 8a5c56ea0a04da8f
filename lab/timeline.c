// SPDX-License-Identifier: MIT
/* timeline.c - <run>/timeline.svg; see timeline.h */
#include "timeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "util.h"

#define W 1000.0		/* picture width, px */
#define LEFT 118.0		/* the lanes' names */
#define RIGHT 24.0
#define LANE_H 26.0		/* a console lane */
#define LABEL_H 11.0		/* one row of landmark labels */
#define ROW_H 15.0		/* one step */
#define MAX_STEP_ROWS 48	/* more steps share one row */

static double maxd(double a, double b)
{
	return a > b ? a : b;
}

/* A landmark: the first line of a boot that contains @needle */
struct landmark {
	const char *needle, *label;
};

static const struct landmark nw_marks[] = {
	{ "Booting Trusted Firmware", "TF-A" },
	{ "BL31: v", "BL31" },
	{ "U-Boot 20", "U-Boot" },
	{ "Booting Linux on physical CPU", "Linux" },
	{ "optee: initialized driver", "optee driver" },
	{ "@@TL:READY@@", "ready" },
};
static const struct landmark sw_marks[] = {
	{ "OP-TEE version: ", "OP-TEE" },
	{ "Primary CPU switching to normal world boot", "OP-TEE ready" },
};

struct line_t {
	double t;		/* seconds since the run started */
	const struct landmark *mark;	/* or NULL */
};

struct lane {
	struct line_t *v;
	size_t n;
};

/* One console log: every line's time, and the landmarks (once per boot, found again after a reset). */
static void read_lane(const char *path, double offset, const struct landmark *marks, size_t nm,
		      struct lane *l)
{
	char *text = NULL, *save = NULL;
	size_t len = 0;
	bool recorded = false;
	unsigned seen = 0;

	memset(l, 0, sizeof(*l));
	if (read_file(path, &text, &len))
		return;
	for (char *s = strtok_r(text, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		double t;
		char *body;

		if (s[0] != '[' || !(body = strstr(s, "] ")))
			continue;
		body += 2;
		if (strstr(body, "teelab: the boot below was recorded")) {
			recorded = true;	/* another run's times */
			continue;
		}
		if (strstr(body, "teelab: end of the recorded boot")) {
			recorded = false;
			continue;
		}
		if (recorded)
			continue;
		t = strtod(s + 1, NULL) + offset;
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n].t = t;
		l->v[l->n].mark = NULL;
		if (strstr(body, "Booting Trusted Firmware"))
			seen = 0;	/* a reset: the landmarks come again */
		for (size_t i = 0; i < nm; i++)
			if (!(seen & (1u << i)) && strstr(body, marks[i].needle)) {
				l->v[l->n].mark = &marks[i];
				seen |= 1u << i;
				break;
			}
		l->n++;
	}
	free(text);
}

static const char *verdict_colour(enum verdict v)
{
	switch (v) {
	case V_PASS: return "#2e7d32";
	case V_XFAIL: return "#9e9d24";
	case V_SKIP: case V_NOTRUN: return "#9e9e9e";
	case V_FAIL: case V_XPASS: return "#c62828";
	case V_TIMEOUT: case V_HANG: return "#ef6c00";
	case V_DEADLOCK: return "#6a1b9a";
	case V_KERNEL_PANIC: case V_TEE_PANIC: case V_KERNEL_BUG: return "#b71c1c";
	case V_INFRA: case V_ERROR: case V_INTERRUPTED: return "#546e7a";
	}
	return "#546e7a";
}

/* ---- the writer ---- */

struct svg {
	xmlTextWriterPtr w;
	double t_end;		/* seconds the axis spans */
};

static double X(const struct svg *g, double t)
{
	double pw = W - LEFT - RIGHT;

	if (t < 0)
		t = 0;
	return LEFT + pw * (t > g->t_end ? 1.0 : t / g->t_end);
}

static void attr(struct svg *g, const char *name, const char *fmt, ...) PRINTF(3, 4);
static void attr(struct svg *g, const char *name, const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xmlTextWriterWriteAttribute(g->w, BAD_CAST name, BAD_CAST buf);
}

static void title(struct svg *g, const char *text)
{
	xmlTextWriterWriteElement(g->w, BAD_CAST "title", BAD_CAST text);
}

static void rect(struct svg *g, double x, double y, double w, double h, const char *fill,
		 double opacity, const char *tip)
{
	xmlTextWriterStartElement(g->w, BAD_CAST "rect");
	attr(g, "x", "%.1f", x);
	attr(g, "y", "%.1f", y);
	attr(g, "width", "%.1f", w < 1 ? 1 : w);
	attr(g, "height", "%.1f", h);
	attr(g, "fill", "%s", fill);
	if (opacity < 1)
		attr(g, "fill-opacity", "%.2f", opacity);
	if (tip)
		title(g, tip);
	xmlTextWriterEndElement(g->w);
}

static void line(struct svg *g, double x1, double y1, double x2, double y2, const char *stroke,
		 bool dashed)
{
	xmlTextWriterStartElement(g->w, BAD_CAST "line");
	attr(g, "x1", "%.1f", x1);
	attr(g, "y1", "%.1f", y1);
	attr(g, "x2", "%.1f", x2);
	attr(g, "y2", "%.1f", y2);
	attr(g, "stroke", "%s", stroke);
	if (dashed)
		attr(g, "stroke-dasharray", "4 3");
	xmlTextWriterEndElement(g->w);
}

static void text(struct svg *g, double x, double y, const char *anchor, const char *cls,
		 const char *s)
{
	xmlTextWriterStartElement(g->w, BAD_CAST "text");
	attr(g, "x", "%.1f", x);
	attr(g, "y", "%.1f", y);
	if (anchor)
		attr(g, "text-anchor", "%s", anchor);
	if (cls)
		attr(g, "class", "%s", cls);
	xmlTextWriterWriteString(g->w, BAD_CAST s);
	xmlTextWriterEndElement(g->w);
}

/* The lines of @l as marks in the lane at @y, and its landmarks labelled above it (staggered). */
static void draw_lane(struct svg *g, const struct lane *l, double y, const char *name,
		      const char *colour)
{
	double last_end[3] = { -1e9, -1e9, -1e9 };
	int px = (int)(W - LEFT - RIGHT) + 1;
	unsigned *count = xcalloc((size_t)px + 1, sizeof(*count));

	text(g, 8, y + LANE_H / 2 + 4, NULL, "lane", name);
	rect(g, LEFT, y, W - LEFT - RIGHT, LANE_H, "#f5f5f5", 1, NULL);
	for (size_t i = 0; i < l->n; i++) {
		int x = (int)(X(g, l->v[i].t) - LEFT);

		if (x >= 0 && x <= px)
			count[x]++;
	}
	for (int x = 0; x <= px; x++)
		if (count[x])	/* a console line (or many) at this pixel */
			rect(g, LEFT + x, y + 3, 1, LANE_H - 6, colour,
			     count[x] > 8 ? 1.0 : 0.3 + 0.08 * count[x], NULL);
	free(count);
	for (size_t i = 0; i < l->n; i++) {
		const struct landmark *m = l->v[i].mark;
		double x = X(g, l->v[i].t), w;
		char tip[128];
		int row = 0;

		if (!m)
			continue;
		w = 6.0 * (double)strlen(m->label) + 8;
		while (row < 3 && x < last_end[row])
			row++;
		if (row == 3)	/* every row taken here: the one free soonest */
			for (int k = row = 0; k < 3; k++)
				if (last_end[k] < last_end[row])
					row = k;
		last_end[row] = x + w;
		line(g, x, y - row * LABEL_H - 2, x, y + LANE_H, "#333", false);
		snprintf(tip, sizeof(tip), "%s at %.3f s", m->label, l->v[i].t);
		xmlTextWriterStartElement(g->w, BAD_CAST "text");
		attr(g, "x", "%.1f", x + 2);
		attr(g, "y", "%.1f", y - row * LABEL_H - 3);
		attr(g, "class", "mark");
		title(g, tip);
		xmlTextWriterWriteString(g->w, BAD_CAST m->label);
		xmlTextWriterEndElement(g->w);
	}
}

/* A tick every 1, 2, 5, 10, ... seconds, about ten along the axis. */
static void draw_axis(struct svg *g, double y, double bottom)
{
	static const double steps[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200 };
	double step = steps[ARRAY_SIZE(steps) - 1];
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (g->t_end / steps[i] <= 12) {
			step = steps[i];
			break;
		}
	for (double t = 0; t <= g->t_end + 1e-9; t += step) {
		double x = X(g, t);

		line(g, x, y, x, bottom, "#e0e0e0", false);
		snprintf(buf, sizeof(buf), step < 1 ? "%.1f s" : "%.0f s", t);
		text(g, x, y - 4, "middle", "axis", buf);
	}
}

int timeline_write(const struct run_result *r, const char *dir)
{
	double off = r->timeline.has_qemu_start ? r->timeline.qemu_start : 0;
	char *nw = path_join(dir, "nw-console.log"), *sw = path_join(dir, "sw-console.log");
	char *out = path_join(dir, "timeline.svg"), *tmp = xasprintf("%s.tmp", out);
	struct lane ln, ls;
	struct svg g = { 0 };
	size_t nsteps = 0, row = 0;
	bool one_row;
	double y, height, restore_end = -1;
	char buf[512];
	unsigned used = 0;
	int ret = 0;

	read_lane(nw, off, nw_marks, ARRAY_SIZE(nw_marks), &ln);
	read_lane(sw, off, sw_marks, ARRAY_SIZE(sw_marks), &ls);
	g.t_end = r->duration > 0 ? r->duration : 1;
	for (size_t i = 0; i < ln.n; i++)
		g.t_end = maxd(g.t_end, ln.v[i].t);
	for (size_t i = 0; i < ls.n; i++)
		g.t_end = maxd(g.t_end, ls.v[i].t);
	for (size_t i = 0; i < r->nr_tests; i++) {
		const struct test_result *t = &r->tests[i];

		if (!t->has_start)
			continue;
		nsteps++;
		g.t_end = maxd(g.t_end, t->start + t->duration);
		if (r->nr_boots && !strcmp(r->boots[0].how, "snapshot") && !strcmp(t->name, "boot") &&
		    restore_end < 0)
			restore_end = t->start + t->duration;
	}
	one_row = nsteps > MAX_STEP_ROWS;
	height = 40 + 2 * (LANE_H + 3 * LABEL_H + 8) + 14 +
		 (one_row ? 1 : (double)nsteps) * ROW_H + 44;

	g.w = xmlNewTextWriterFilename(tmp, 0);
	if (!g.w) {
		ret = error_code(-EIO, "cannot write '%s'", tmp);
		goto out;
	}
	xmlTextWriterSetIndent(g.w, 1);
	xmlTextWriterStartDocument(g.w, NULL, "UTF-8", NULL);
	xmlTextWriterStartElement(g.w, BAD_CAST "svg");
	attr(&g, "xmlns", "http://www.w3.org/2000/svg");
	attr(&g, "width", "%.0f", W);
	attr(&g, "height", "%.0f", height);
	attr(&g, "viewBox", "0 0 %.0f %.0f", W, height);
	xmlTextWriterWriteElement(g.w, BAD_CAST "style", BAD_CAST
		"text{font-family:sans-serif;font-size:10px;fill:#222}"
		".lane{font-size:11px;font-weight:bold}.axis{fill:#666}.mark{font-size:9.5px}"
		".step{font-size:10px}.head{font-size:12px;font-weight:bold}");
	rect(&g, 0, 0, W, height, "#ffffff", 1, NULL);
	snprintf(buf, sizeof(buf), "%s%s%s: %s in %.1f s (times since the run started)",
		 r->scenario ? r->scenario : "run", r->run_id ? " " : "", r->run_id ? r->run_id : "",
		 verdict_name(r->verdict), r->duration);
	text(&g, 8, 14, NULL, "head", buf);

	y = 40 + 3 * LABEL_H;
	draw_axis(&g, 40, height - 44);
	draw_lane(&g, &ln, y, "normal world", "#1565c0");
	draw_lane(&g, &ls, y + LANE_H + 3 * LABEL_H + 8, "secure world", "#6d4c41");
	/* a warm start: the restore instead of a boot, over both lanes */
	if (restore_end >= 0) {
		snprintf(buf, sizeof(buf), "snapshot restore: QEMU loads the saved lab, teelab resumes it "
			 "and gives it the run's key (%.3f s to %.3f s)", off, restore_end);
		rect(&g, X(&g, off), y, X(&g, restore_end) - X(&g, off), 2 * LANE_H + 3 * LABEL_H + 8,
		     "#1565c0", 0.22, buf);
		text(&g, X(&g, off) + 2, y - 3, NULL, "mark", "snapshot restore");
	}
	y += 2 * LANE_H + 3 * LABEL_H + 8 + 14;

	/* reboots and kexec hops: a dashed boundary across everything */
	for (size_t i = 1; i < r->nr_boots; i++) {
		const struct boot_record *b = &r->boots[i];
		double x = X(&g, b->requested + off);

		line(&g, x, 40, x, height - 44, "#d84315", true);
		snprintf(buf, sizeof(buf), "%s", b->how ? b->how : "boot");
		text(&g, x + 2, 40 + LABEL_H - 2, NULL, "mark", buf);
	}
	/* a DEADLOCK's stall: the stalled job's last progress to the moment it was called */
	if (r->timeline.has_stall) {
		double x1 = X(&g, r->timeline.stall_from), x2 = X(&g, r->timeline.stall_to);

		snprintf(buf, sizeof(buf), "stall: no progress from %.1f s to %.1f s (DEADLOCK%s)",
			 r->timeline.stall_from, r->timeline.stall_to,
			 r->timeline.stall_proven ? ", proven from both worlds' state" : "");
		rect(&g, x1, 40, x2 - x1, height - 84, "#6a1b9a", 0.10, buf);
		text(&g, x2 - 2, height - 17, "end", "mark", r->timeline.stall_proven
		     ? "shaded: last progress to the DEADLOCK proven from state"
		     : "shaded: the stall that made the DEADLOCK");
	}

	text(&g, 8, y + ROW_H - 4, NULL, "lane", "steps");
	for (size_t i = 0; i < r->nr_tests; i++) {
		const struct test_result *t = &r->tests[i];
		double x, wpx, ry;

		if (!t->has_start)
			continue;
		ry = y + (one_row ? 0 : (double)row++) * ROW_H;
		x = X(&g, t->start);
		wpx = X(&g, t->start + t->duration) - x;
		snprintf(buf, sizeof(buf), "%s: %s, %.3f s from %.3f s%s%s", t->name,
			 verdict_name(t->verdict), t->duration, t->start, t->message ? " - " : "",
			 t->message ? t->message : "");
		rect(&g, x, ry + 2, wpx, ROW_H - 4, verdict_colour(t->verdict), 1, buf);
		used |= 1u << t->verdict;
		if (!one_row) {
			snprintf(buf, sizeof(buf), "%s (%.1f s)", t->name, t->duration);
			/* the label after the bar, or before it when the bar ends near the right edge */
			if (x + wpx + 6 + 5.5 * (double)strlen(buf) < W)
				text(&g, x + wpx + 4, ry + ROW_H - 4, NULL, "step", buf);
			else
				text(&g, x - 4, ry + ROW_H - 4, "end", "step", buf);
		}
	}
	/* the legend: the verdicts drawn */
	{
		double lx = LEFT;

		for (int v = 0; v <= V_KERNEL_BUG; v++) {
			if (!(used & (1u << v)))
				continue;
			rect(&g, lx, height - 26, 10, 10, verdict_colour((enum verdict)v), 1, NULL);
			text(&g, lx + 14, height - 17, NULL, "step", verdict_name((enum verdict)v));
			lx += 24 + 6.5 * (double)strlen(verdict_name((enum verdict)v));
		}
	}
	xmlTextWriterEndElement(g.w);	/* svg */
	if (xmlTextWriterEndDocument(g.w) < 0)
		ret = error_code(-EIO, "cannot write '%s'", tmp);
	xmlFreeTextWriter(g.w);
	if (!ret && rename(tmp, out))
		ret = error_code(-errno, "cannot write '%s': %s", out, strerror(errno));
out:
	if (ret)
		unlink(tmp);
	free(ln.v);
	free(ls.v);
	free(nw);
	free(sw);
	free(out);
	free(tmp);
	return ret;
}
