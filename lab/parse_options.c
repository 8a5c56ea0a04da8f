// SPDX-License-Identifier: MIT
/* parse_options.c - option tables: parsing, help, roff and names (see parse_options.h) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parse_options.h"
#include "util.h"

const struct popt popt_common[] = {
	OPT_COUNT('v', "verbose", &tl_verbose, "show build and fetch output (-vvv: also libssh's protocol log)"),
	OPT_BOOL('q', "quiet", &tl_quiet, "only errors and the verdict"),
	{ .type = POPT_HELP, .short_name = 'h', .long_name = "help", .help = "this help" },
	OPT_END(),
};

/* The entry of @opts (POPT_INCLUDE followed) with short name @s or long name @l (length @n). */
static const struct popt *lookup(const struct popt *opts, int s, const char *l, size_t n)
{
	for (const struct popt *o = opts; o->type != POPT_END; o++) {
		const struct popt *hit = NULL;

		if (o->type == POPT_INCLUDE)
			hit = lookup(o->value, s, l, n);
		else if (o->type == POPT_GROUP)
			continue;
		else if (s ? o->short_name == s
			 : o->long_name && strlen(o->long_name) == n && !strncmp(o->long_name, l, n))
			hit = o;
		if (hit)
			return hit;
	}
	return NULL;
}

static const struct popt *find(const struct popt *opts, int s, const char *l, size_t n)
{
	const struct popt *o = lookup(opts, s, l, n);

	return o ? o : lookup(popt_common, s, l, n);
}

const struct popt *popt_find(const struct popt *opts, const char *arg, bool *has_value)
{
	const char *eq;

	*has_value = false;
	if (arg[0] != '-' || !arg[1])
		return NULL;
	if (arg[1] != '-')
		return arg[2] ? NULL : find(opts, (unsigned char)arg[1], NULL, 0);
	eq = strchr(arg + 2, '=');
	*has_value = eq != NULL;
	return find(opts, 0, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
}

/* "--name" or "-j" (as the user spelled it: @shrt) into @buf, for messages */
static const char *opt_name(const struct popt *o, bool shrt, char buf[64])
{
	if (o->long_name && !(shrt && o->short_name))
		snprintf(buf, 64, "--%s", o->long_name);
	else
		snprintf(buf, 64, "-%c", o->short_name);
	return buf;
}

/*
 * Store @arg (NULL for an option without a value) as @o says. 0, or -EINVAL
 * or the callback's negative errno (reported).
 */
static int store(const struct popt *o, bool shrt, const char *arg)
{
	char b[64], *end = NULL;

	switch (o->type) {
	case POPT_BOOL:
		*(bool *)o->value = true;
		return 0;
	case POPT_COUNT:
		(*(int *)o->value)++;
		return 0;
	case POPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case POPT_SECONDS: {
		double d;

		errno = 0;
		d = strtod(arg, &end);
		if (end == arg || *end || errno || !isfinite(d) || d <= 0)
			return error_code(-EINVAL, "option '%s' needs a number of seconds > 0, got '%s'",
					  opt_name(o, shrt, b), arg);
		*(double *)o->value = d;
		return 0;
	}
	case POPT_POSINT: {
		long l;

		errno = 0;
		l = strtol(arg, &end, 10);
		if (end == arg || *end || errno || l < 1 || l > INT_MAX)
			return error_code(-EINVAL, "option '%s' needs a whole number >= 1, got '%s'",
					  opt_name(o, shrt, b), arg);
		*(int *)o->value = (int)l;
		return 0;
	}
	case POPT_CALLBACK:
		return o->cb(o, arg);
	default:
		return 0;
	}
}

/*
 * One option at argv[*i]: @o (spelled short: @shrt), its value inline
 * (@inline_val, "--x=v" or "-jv") or from the next argument. 0, -ECANCELED (help) or -EINVAL.
 */
static int take(const struct popt *o, bool shrt, const char *inline_val, int argc, char **argv,
		int *i)
{
	char b[64];

	if (o->type == POPT_HELP)
		return -ECANCELED;
	if (!o->argh) {
		if (inline_val) {
			return error_code(-EINVAL, "option '%s' takes no value", opt_name(o, shrt, b));
		}
		return store(o, shrt, NULL) ? -EINVAL : 0;
	}
	if (!inline_val) {
		if (*i + 1 >= argc) {
			return error_code(-EINVAL,
					  "option '%s' needs a value (%s)", opt_name(o, shrt, b), o->argh);
		}
		inline_val = argv[++*i];
	}
	return store(o, shrt, inline_val) ? -EINVAL : 0;
}

/* A cluster of short options at argv[*i] ("-v", "-vq", "-j4"). 0, -ECANCELED or -EINVAL as take(). */
static int take_short(const struct popt *opts, int argc, char **argv, int *i)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct popt *o = find(opts, (unsigned char)*p, NULL, 0);
		int ret;

		if (!o) {
			return error_code(-EINVAL, "unknown option '-%c'", *p);
		}
		if (o->argh)	/* the rest of the cluster is its value, else the next argument */
			return take(o, true, p[1] ? p + 1 : NULL, argc, argv, i);
		ret = take(o, true, NULL, argc, argv, i);
		if (ret)
			return ret;
	}
	return 0;
}

int parse_options(int argc, char **argv, const struct popt *opts, unsigned flags)
{
	int nargs = 0, i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int ret;

		if (arg[0] != '-' || !arg[1]) {
			if (flags & POPT_STOP_AT_NON_OPTION)
				break;
			argv[nargs++] = argv[i];
			continue;
		}
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[1] == '-') {
			const char *eq = strchr(arg + 2, '=');
			size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			const struct popt *o = find(opts, 0, arg + 2, n);

			if (!o) {
				return error_code(-EINVAL, "unknown option '%.*s'", (int)n + 2, arg);
			}
			ret = take(o, false, eq ? eq + 1 : NULL, argc, argv, &i);
		} else {
			ret = take_short(opts, argc, argv, &i);
		}
		if (ret)
			return ret;
	}
	while (i < argc)
		argv[nargs++] = argv[i++];
	argv[nargs] = NULL;
	return nargs;
}

/* "-j, --jobs N" / "--timeout S" / "-v, --verbose" into @sb */
static void spell(struct strbuf *sb, const struct popt *o)
{
	if (o->short_name)
		strbuf_addf(sb, "-%c%s", o->short_name, o->long_name ? ", " : "");
	if (o->long_name)
		strbuf_addf(sb, "--%s", o->long_name);
	if (o->argh)
		strbuf_addf(sb, " %s", o->argh);
}

#define HELP_COLUMN 22

static void print_help_table(FILE *f, const struct popt *opts)
{
	for (const struct popt *o = opts; o->type != POPT_END; o++) {
		struct strbuf sb = STRBUF_INIT;
		const char *h;

		if (o->type == POPT_INCLUDE) {
			print_help_table(f, o->value);
			continue;
		}
		if (o->type == POPT_GROUP) {
			fprintf(f, "\n%s\n", o->help);
			continue;
		}
		if (o->flags & POPT_HIDDEN)
			continue;
		spell(&sb, o);
		fprintf(f, "  %s", strbuf_str(&sb));
		h = o->help ? o->help : "";
		if (sb.len + 2 >= HELP_COLUMN)
			fprintf(f, "\n%*s", HELP_COLUMN + 2, "");
		else
			fprintf(f, "%*s", (int)(HELP_COLUMN - sb.len), "");
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN + 2, "");
		fprintf(f, "%s\n", h);
		strbuf_release(&sb);
	}
}

void popt_print_help(FILE *f, const struct popt *opts)
{
	print_help_table(f, opts);
	fprintf(f, "\nCommon options (before or after the command):\n");
	print_help_table(f, popt_common);
}

void roff_escape(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
		if (*s == '\n' && (s[1] == '.' || s[1] == '\''))
			fputs("\\&", f);
	}
}

static void print_roff_table(FILE *f, const struct popt *opts, bool expand)
{
	for (const struct popt *o = opts; o->type != POPT_END; o++) {
		const struct popt *inc = o->value;
		struct strbuf sb = STRBUF_INIT;

		if (o->type == POPT_INCLUDE && expand) {
			print_roff_table(f, inc, expand);
			continue;
		}
		if (o->type == POPT_INCLUDE) {	/* "Also the lab options (see GLOBAL OPTIONS)." */
			if (inc->type == POPT_GROUP) {
				size_t n = strlen(inc->help);
				char *t = xstrndup(inc->help, n && inc->help[n - 1] == ':' ? n - 1 : n);

				t[0] = (char)tolower((unsigned char)t[0]);
				fprintf(f, ".PP\nAlso the ");
				roff_escape(f, t);
				fprintf(f, " (see GLOBAL OPTIONS).\n");
				free(t);
			}
			continue;
		}
		if (o->type == POPT_GROUP) {
			fprintf(f, ".PP\n.B ");
			roff_escape(f, o->help);
			fputc('\n', f);
			continue;
		}
		if (o->flags & POPT_HIDDEN)
			continue;
		spell(&sb, o);
		fprintf(f, ".TP\n.B ");
		roff_escape(f, sb.buf);
		fputc('\n', f);
		roff_escape(f, o->help ? o->help : "");
		fputc('\n', f);
		strbuf_release(&sb);
	}
}

void popt_print_roff(FILE *f, const struct popt *opts, bool expand)
{
	print_roff_table(f, opts, expand);
	if (expand)
		print_roff_table(f, popt_common, expand);
}

static void print_names(FILE *f, const struct popt *opts)
{
	for (const struct popt *o = opts; o->type != POPT_END; o++) {
		if (o->type == POPT_INCLUDE)
			print_names(f, o->value);
		else if (o->type == POPT_GROUP || (o->flags & POPT_HIDDEN))
			continue;
		else if (o->long_name)
			fprintf(f, "--%s\n", o->long_name);
		else
			fprintf(f, "-%c\n", o->short_name);
	}
}

void popt_print_names(FILE *f, const struct popt *opts)
{
	print_names(f, opts);
	print_names(f, popt_common);
}
