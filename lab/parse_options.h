/* SPDX-License-Identifier: MIT */
/*
 * parse_options.h - command-line options declared once, as a table.
 *
 * Each command lists its options in one `struct popt` array (the OPT_*
 * macros below, ended by OPT_END()); the same table parses argv, prints
 * `--help`, the man page and the words bash completion offers. Every long
 * option with a value takes `--name=value` and `--name value`, a short one
 * `-jN` and `-j N`; `--` ends the options; a lone `-` is an argument.
 * Options and arguments may be mixed unless POPT_STOP_AT_NON_OPTION.
 *
 * Every table also has the common options (popt_common): -v/--verbose,
 * -q/--quiet and -h/--help, so they are accepted before and after a
 * command's name alike.
 */
#ifndef TEELAB_PARSE_OPTIONS_H
#define TEELAB_PARSE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

enum popt_type {
	POPT_END = 0,
	POPT_GROUP,	/* a heading in the help (help = the title) */
	POPT_INCLUDE,	/* the options of another table (value: const struct popt *) */
	POPT_BOOL,	/* bool *value = true */
	POPT_COUNT,	/* int *value += 1 */
	POPT_STRING,	/* const char **value = the argument (argv's string, not copied) */
	POPT_SECONDS,	/* double *value = a number of seconds > 0 ("1.5"; no suffix) */
	POPT_POSINT,	/* int *value = a decimal integer >= 1 */
	POPT_CALLBACK,	/* cb(opt, arg); arg is NULL for an option without a value */
	POPT_HELP,	/* -h/--help: parse_options() returns -ECANCELED */
};

#define POPT_HIDDEN 1u	/* parsed, but not in the help, man page or completion */

struct popt {
	enum popt_type type;
	int short_name;		/* 'j' for -j, or 0 */
	const char *long_name;	/* "timeout" for --timeout, or NULL */
	const char *argh;	/* the value's name in the help ("S"); NULL: takes no value */
	const char *help;	/* one line per '\n' */
	void *value;		/* where the value goes, see enum popt_type */
	/* POPT_CALLBACK: store @arg; 0, or a negative errno after reporting with error() */
	int (*cb)(const struct popt *opt, const char *arg);
	/*
	 * What the value completes to: NULL nothing (bash then offers file
	 * names), "words:a b c" those words, else a directory of the data dir
	 * whose *.yaml names are the values ("configs/profiles").
	 */
	const char *complete;
	unsigned flags;		/* POPT_HIDDEN */
};

#define OPT_END() { .type = POPT_END }
#define OPT_GROUP(t) { .type = POPT_GROUP, .help = (t) }
#define OPT_INCLUDE(tbl) { .type = POPT_INCLUDE, .value = (void *)(tbl) }
#define OPT_BOOL(s, l, v, h) { .type = POPT_BOOL, .short_name = (s), .long_name = (l), \
	.value = (v), .help = (h) }
#define OPT_COUNT(s, l, v, h) { .type = POPT_COUNT, .short_name = (s), .long_name = (l), \
	.value = (v), .help = (h) }
#define OPT_STRING(s, l, v, a, h, c) { .type = POPT_STRING, .short_name = (s), \
	.long_name = (l), .value = (v), .argh = (a), .help = (h), .complete = (c) }
#define OPT_SECONDS(l, v, h) { .type = POPT_SECONDS, .long_name = (l), .value = (v), \
	.argh = "S", .help = (h) }
#define OPT_POSINT(s, l, v, a, h) { .type = POPT_POSINT, .short_name = (s), .long_name = (l), \
	.value = (v), .argh = (a), .help = (h) }
#define OPT_CALLBACK(s, l, v, a, h, f) { .type = POPT_CALLBACK, .short_name = (s), \
	.long_name = (l), .value = (v), .argh = (a), .help = (h), .cb = (f) }

/* -v/--verbose (tl_verbose), -q/--quiet (tl_quiet), -h/--help: in every table. */
extern const struct popt popt_common[];

/* parse_options() flags */
#define POPT_STOP_AT_NON_OPTION 1u	/* the first argument ends the options (global options) */

/*
 * Parse @argv[1..@argc) (argv[0] is the program or command name) against
 * @opts and popt_common, storing each value where its entry says.
 * The arguments that are not options are moved to argv[0..n), in order,
 * followed by NULL; with POPT_STOP_AT_NON_OPTION that is the first one and
 * everything after it. Returns n (>= 0); -ECANCELED when -h/--help was
 * seen (the caller prints the help; nothing after it is parsed); -EINVAL
 * for an unknown option, a missing or bad value, or a value given to an
 * option that takes none (each reported with error()).
 */
int parse_options(int argc, char **argv, const struct popt *opts, unsigned flags);

/*
 * The help of @opts, then of popt_common under "Common options:", one
 * option a line ("  -j, --jobs N   help"), POPT_GROUP titles as headings.
 */
void popt_print_help(FILE *f, const struct popt *opts);

/*
 * The same as roff for a man page: a .TP paragraph per option, each group
 * a bold heading. With @expand, included tables in full and popt_common
 * after; without, an included table is one line naming its group ("Also
 * the lab options (see GLOBAL OPTIONS).").
 */
void popt_print_roff(FILE *f, const struct popt *opts, bool expand);

/* @s for a roff text line: '-' as \-, '\' as \e, a leading '.' or '\'' escaped. */
void roff_escape(FILE *f, const char *s);

/*
 * The option of @opts (or popt_common) @arg names: "--name", "--name=x",
 * "-j"; NULL if none. Sets *@has_value when @arg carries its value after '='.
 */
const struct popt *popt_find(const struct popt *opts, const char *arg, bool *has_value);

/*
 * Every visible option name of @opts and popt_common ("--timeout", then
 * "-j" for options without a long name), one a line, to @f.
 */
void popt_print_names(FILE *f, const struct popt *opts);

#endif
