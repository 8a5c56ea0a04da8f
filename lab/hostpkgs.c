// SPDX-License-Identifier: MIT
/* hostpkgs.c - configs/host-packages.txt; see hostpkgs.h */
#include "hostpkgs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runproc.h"

/* Debian policy 5.6.1: [a-z0-9][a-z0-9+.-]+ */
static bool package_name_ok(const char *s)
{
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("+.-", *p))
			return false;
	return strlen(s) >= 2;
}

/*
 * Whether qualifier text @q ("bookworm trixie" or "!bookworm") admits
 * @suite: 1 or 0, or -EINVAL (reported at @where) for a malformed one.
 */
static int qualifier_admits(char *q, const char *suite, const char *where)
{
	char *save = NULL;
	int neg = -1, hit = 0, n = 0;

	for (char *w = strtok_r(q, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		int this_neg = w[0] == '!';

		if (neg >= 0 && this_neg != neg)
			return error_code(-EINVAL, "%s: a qualifier is either suites or !suites, not both",
					  where);
		neg = this_neg;
		if (!strcmp(w + this_neg, suite))
			hit = 1;
		n++;
	}
	if (!n)
		return error_code(-EINVAL, "%s: empty suite qualifier", where);
	return hit != neg;
}

int hostpkgs_read(const char *path, const char *suite, struct strvec *out)
{
	char *text = NULL, *save = NULL;
	int ret = read_file(path, &text, NULL), lineno = 0;

	if (ret)
		return error_code(ret, "cannot read '%s': %s", path, strerror(-ret));
	for (char *p = text, *eol; p && *p; p = eol ? eol + 1 : NULL) {
		char *line, *name, *q, *where;
		int admits = 1;

		eol = strchr(p, '\n');
		if (eol)
			*eol = '\0';
		lineno++;
		line = p;
		line[strcspn(line, "#")] = '\0';
		where = xasprintf("%s:%d", path, lineno);
		q = strchr(line, '[');
		if (q) {
			char *close = strchr(q, ']');

			if (!close || strspn(close + 1, " \t") != strlen(close + 1)) {
				ret = error_code(-EINVAL,
						 "%s: a suite qualifier is '[suite ...]' at the end of the line",
						 where);
			} else {
				*close = '\0';
				*q = '\0';
				admits = qualifier_admits(q + 1, suite, where);
				if (admits < 0)
					ret = admits;
			}
		}
		save = NULL;
		name = strtok_r(line, " \t\r", &save);
		if (!ret && name && strtok_r(NULL, " \t\r", &save)) {
			ret = error_code(-EINVAL, "%s: one package a line", where);
		} else if (!ret && name && !package_name_ok(name)) {
			ret = error_code(-EINVAL, "%s: '%s' is not a Debian package name", where, name);
		} else if (!ret && !name && q) {
			ret = error_code(-EINVAL, "%s: a suite qualifier without a package", where);
		}
		free(where);
		if (ret)
			break;
		if (name && admits)
			strvec_push(out, name);
	}
	free(text);
	return ret;
}

int hostpkgs_missing(const struct strvec *pkgs, struct strvec *missing)
{
	struct strvec argv = STRVEC_INIT, installed = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	char *save = NULL;
	int ret;

	if (!pkgs->nr)
		return 0;
	strvec_pushl(&argv, "dpkg-query", "-W", "-f", "${Package}\\t${Status}\\n", NULL);
	for (size_t i = 0; i < pkgs->nr; i++)
		strvec_push(&argv, pkgs->v[i]);
	/* exit 1 names packages dpkg has never heard of: those are missing too */
	ret = run_capture((const char *const *)argv.v, NULL, &out);
	if (ret < 0 || ret > 1) {
		ret = error_code(ret < 0 ? ret : -ENOEXEC, "cannot run dpkg-query (status %d)", ret);
		goto out;
	}
	ret = 0;
	for (char *l = strtok_r(out.buf ? out.buf : (char[]){ 0 }, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');

		if (tab && !strcmp(tab + 1, "install ok installed")) {
			*tab = '\0';
			strvec_push(&installed, l);
		}
	}
	for (size_t i = 0; i < pkgs->nr; i++)
		if (!strvec_contains(&installed, pkgs->v[i]))
			strvec_push(missing, pkgs->v[i]);
out:
	strvec_release(&argv);
	strvec_release(&installed);
	strbuf_release(&out);
	return ret;
}
