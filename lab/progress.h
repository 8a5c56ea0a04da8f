/* SPDX-License-Identifier: MIT */
/*
 * progress.h - what a long build or fetch is doing, on stderr.
 *
 * On a terminal (stderr a tty, TERM set and not "dumb", no -v) one live
 * line per task, rewritten in place twice a second by a thread:
 *
 *   build kernel src-6.12  2m03s (~9m)  CC drivers/tee/optee/core.o
 *
 * (the kind, what, elapsed time, the previous build's time as an
 * estimate, then the log's last line or the bytes and packages fetched),
 * cut to the terminal's width; when the task ends it is replaced by a
 * plain "done" line. Otherwise plain lines only: one when the task
 * starts, one when it ends, no escape sequences. NO_COLOR (any value)
 * turns colour off. -q prints neither; failures are reported by the
 * caller with error().
 */
#ifndef TEELAB_PROGRESS_H
#define TEELAB_PROGRESS_H

#include <stdbool.h>
#include "util.h"

enum progress_mode {
	PROGRESS_OFF,	/* -q */
	PROGRESS_PLAIN,	/* start and end lines */
	PROGRESS_LIVE,	/* one line rewritten in place */
};

/*
 * The mode for a stream that is (@tty) a terminal of type @term (NULL:
 * unset) under -v (@verbose) / -q (@quiet).
 */
enum progress_mode progress_mode_pick(bool tty, const char *term, bool verbose, bool quiet);
/* Whether to colour a live line: @no_color is $NO_COLOR (NULL: unset). */
bool progress_use_color(const char *no_color);

/* One snapshot of a task, as progress_format() shows it. */
struct progress_view {
	const char *verb;	/* "build", "fetch", "unpack" */
	const char *what;	/* "kernel src-6.12" */
	double elapsed;		/* seconds */
	double estimate;	/* the previous build's seconds, <0: unknown */
	long long bytes;	/* fetched so far, <0: not a fetch */
	int packages;		/* fetched before this one, <0: not counted */
	const char *tail;	/* the log's last line, or NULL */
	bool color;
};

/*
 * The live line for @v into @out (reset first), at most @width - 1
 * visible columns (escape sequences do not count; control characters of
 * @v->tail become spaces).
 */
void progress_format(struct strbuf *out, const struct progress_view *v, int width);
/* "45s", "2m03s", "1h02m": @seconds for people into @out (appended). */
void progress_add_duration(struct strbuf *out, double seconds);

struct progress;
/*
 * Start reporting a task: @verb and @what as in struct progress_view,
 * @estimate seconds (<0 unknown), @log a file whose last line is shown
 * (NULL: none), @bytes_dir a directory whose files' sizes are summed as
 * the bytes fetched (NULL: none), @packages as in the view (<0: none).
 * The strings are copied. Never NULL.
 */
struct progress *progress_start(const char *verb, const char *what, double estimate,
				const char *log, const char *bytes_dir, int packages);
/*
 * End the task: on success a line "<verb>: <what> done in <time>"
 * (info()); on failure the live line is cleared and nothing is printed.
 * Frees @p. Returns the elapsed seconds.
 */
double progress_end(struct progress *p, bool ok);

/* For tests: force the mode and width instead of asking stderr (width 0: ask). */
void progress_force(enum progress_mode mode, bool color, int width);

#endif
