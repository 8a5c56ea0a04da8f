// SPDX-License-Identifier: MIT
/* aptroot.c - a private apt root for Debian artifacts; see aptroot.h */
#include "aptroot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "runproc.h"

#define DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

/* ---- host apt sources ---- */

struct src_entry {
	char *uri;
	char *signed_by;
	struct strvec suites;
};

static void entries_free(struct src_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].uri);
		free(e[i].signed_by);
		strvec_release(&e[i].suites);
	}
	free(e);
}

static void add_entry(struct src_entry **e, size_t *n, const char *uri,
		      const char *signed_by, const char *suites)
{
	struct src_entry *x;
	char *copy = xstrdup(suites), *save = NULL;

	*e = xrealloc(*e, (*n + 1) * sizeof(**e));
	x = &(*e)[(*n)++];
	memset(x, 0, sizeof(*x));
	x->uri = xstrdup(uri);
	while (x->uri[0] && x->uri[strlen(x->uri) - 1] == '/')
		x->uri[strlen(x->uri) - 1] = '\0';
	x->signed_by = signed_by ? xstrdup(signed_by) : NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		strvec_push(&x->suites, t);
	free(copy);
}

/* One-line format: deb [opts] uri suite comp... */
static void parse_list(const char *text, struct src_entry **e, size_t *n)
{
	char *copy = xstrdup(text), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strtrim(line), *signed_by = NULL, *uri, *suite;

		if (strncmp(p, "deb", 3) || (p[3] != ' ' && p[3] != '\t'))
			continue;
		p = strtrim(p + 3);
		if (*p == '[') {
			char *end = strchr(p, ']');
			char *sb;

			if (!end)
				continue;
			*end = '\0';
			sb = strstr(p, "signed-by=");
			if (sb) {
				signed_by = sb + strlen("signed-by=");
				signed_by[strcspn(signed_by, " \t]")] = '\0';
			}
			p = strtrim(end + 1);
		}
		uri = p;
		p += strcspn(p, " \t");
		if (!*p)
			continue;
		*p++ = '\0';
		suite = strtrim(p);
		suite[strcspn(suite, " \t")] = '\0';
		add_entry(e, n, uri, signed_by, suite);
	}
	free(copy);
}

/* Whether the blank-separated list @list has the word @w ("deb", not "deb-src"). */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
		    (!p[n] || p[n] == ' ' || p[n] == '\t'))
			return true;
	return false;
}

/* deb822 format: stanzas of "Key: value" separated by blank lines. */
static void parse_sources(const char *text, struct src_entry **e, size_t *n)
{
	char *copy = xstrdup(text);
	char *types = NULL, *uris = NULL, *suites = NULL, *signed_by = NULL;
	bool enabled = true;
	char *p = copy;

	for (;;) {
		char *nl = strchr(p, '\n');
		bool end = !nl;

		if (nl)
			*nl = '\0';
		if (*p != '#' && strchr(p, ':') && *strtrim(p)) {
			char *colon = strchr(p, ':');
			char *val;

			*colon = '\0';
			val = strtrim(colon + 1);
			if (!strcasecmp(strtrim(p), "Types"))
				types = val;
			else if (!strcasecmp(strtrim(p), "URIs"))
				uris = val;
			else if (!strcasecmp(strtrim(p), "Suites"))
				suites = val;
			else if (!strcasecmp(strtrim(p), "Signed-By"))
				signed_by = val;
			else if (!strcasecmp(strtrim(p), "Enabled"))
				enabled = strcasecmp(val, "no") && strcasecmp(val, "false") &&
					  strcasecmp(val, "off") && strcmp(val, "0");
		}
		if (end || !*strtrim(p)) {
			if (types && uris && suites && enabled && has_word(types, "deb")) {
				char *u = xstrdup(uris), *save = NULL;

				for (char *t = strtok_r(u, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
					add_entry(e, n, t, signed_by && signed_by[0] == '/' ? signed_by : NULL, suites);
				free(u);
			}
			types = uris = suites = signed_by = NULL;
			enabled = true;
		}
		if (end)
			break;
		p = nl + 1;
	}
	free(copy);
}

char *host_codename(void)
{
	char *text = NULL;
	char *ret = NULL;

	if (read_file("/etc/os-release", &text, NULL))
		return NULL;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (starts_with(line, "VERSION_CODENAME=")) {
			char *v = line + strlen("VERSION_CODENAME=");

			if (*v == '"')
				v++;
			v[strcspn(v, "\"")] = '\0';
			ret = xstrdup(v);
		}
	free(text);
	return ret;
}

int host_mirror_read(const char *etc_apt, const char *codename, struct host_mirror *m)
{
	struct src_entry *e = NULL;
	size_t n = 0;
	char *path = path_join(etc_apt, "sources.list");
	char *text = NULL, *own = NULL, *sec = NULL;
	DIR *d;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (!read_file(path, &text, NULL))
		parse_list(text, &e, &n);
	free(text);
	free(path);
	path = path_join(etc_apt, "sources.list.d");
	d = opendir(path);
	if (d) {
		struct dirent *de;
		struct strvec names = STRVEC_INIT;

		while ((de = readdir(d)))
			if (ends_with(de->d_name, ".list") || ends_with(de->d_name, ".sources"))
				strvec_push(&names, de->d_name);
		closedir(d);
		strvec_sort(&names);
		for (size_t i = 0; i < names.nr; i++) {
			char *f = path_join(path, names.v[i]);

			text = NULL;
			if (!read_file(f, &text, NULL)) {
				if (ends_with(names.v[i], ".list"))
					parse_list(text, &e, &n);
				else
					parse_sources(text, &e, &n);
			}
			free(text);
			free(f);
		}
		strvec_release(&names);
	}
	free(path);

	if (!codename)
		codename = own = host_codename();
	if (!codename) {
		ret = error_code(-ENOENT, "cannot tell the host's Debian codename from /etc/os-release");
		goto out;
	}
	sec = xasprintf("%s-security", codename);
	for (size_t i = 0; i < n; i++) {
		if (!m->uri && strvec_contains(&e[i].suites, codename)) {
			m->uri = xstrdup(e[i].uri);
			if (e[i].signed_by)
				m->signed_by = xstrdup(e[i].signed_by);
		}
		if (!m->security_uri && strvec_contains(&e[i].suites, sec))
			m->security_uri = xstrdup(e[i].uri);
	}
	if (getenv("TEELAB_DEBIAN_MIRROR") && *getenv("TEELAB_DEBIAN_MIRROR")) {
		free(m->uri);
		m->uri = xstrdup(getenv("TEELAB_DEBIAN_MIRROR"));
	}
	if (getenv("TEELAB_DEBIAN_SECURITY_MIRROR") && *getenv("TEELAB_DEBIAN_SECURITY_MIRROR")) {
		free(m->security_uri);
		m->security_uri = xstrdup(getenv("TEELAB_DEBIAN_SECURITY_MIRROR"));
	}
	if (!m->uri) {
		ret = error_code(-ENOENT, "no Debian mirror for '%s' in %s/sources.list{,.d}; "
				 "set TEELAB_DEBIAN_MIRROR", codename, etc_apt);
		goto out;
	}
	if (!m->security_uri) {
		/* the archive's usual sibling layout: <base>/debian-security */
		m->security_uri = ends_with(m->uri, "/debian")
			? xasprintf("%s-security", m->uri) : xstrdup(m->uri);
	}
	if (!m->signed_by)
		m->signed_by = xstrdup(DEFAULT_KEYRING);
out:
	free(own);
	free(sec);
	entries_free(e, n);
	if (ret)
		host_mirror_release(m);
	return ret;
}

void host_mirror_release(struct host_mirror *m)
{
	free(m->uri);
	free(m->security_uri);
	free(m->signed_by);
	memset(m, 0, sizeof(*m));
}

/* ---- lookup cache: what apt-cache answered, valid until the next update ---- */

static char *kv_path(const struct aptroot *a)
{
	return path_join(a->root, "var/lib/apt/lists/teelab-lookups");
}

/* Value for @key (malloc'd) or NULL. Lines are "key\tvalue". */
static char *kv_get(const struct aptroot *a, const char *key)
{
	char *path = kv_path(a), *text = NULL, *ret = NULL, *save = NULL;
	size_t klen = strlen(key);

	if (!read_file(path, &text, NULL))
		for (char *l = strtok_r(text, "\n", &save); l && !ret; l = strtok_r(NULL, "\n", &save))
			if (!strncmp(l, key, klen) && l[klen] == '\t')
				ret = xstrdup(l + klen + 1);
	free(text);
	free(path);
	return ret;
}

static void kv_put(const struct aptroot *a, const char *key, const char *value)
{
	char *path = kv_path(a);
	FILE *f = fopen(path, "a");

	if (f) {
		fprintf(f, "%s\t%s\n", key, value);
		fclose(f);
	}
	free(path);
}

/* ---- the private root ---- */

/*
 * One apt tool at a time in the root, across processes (apt-get update
 * rewrites the lists the others read; two runs, a matrix and CI's prebuild
 * share a cache): an exclusive flock on <cache>/apt.lock, nested calls of
 * one process counted. 0 or -errno (reported).
 */
static int apt_lock(struct aptroot *a)
{
	if (a->lock_depth++)
		return 0;
	a->lock_fd = cache_entry_lock(a->root, "the private apt root");
	if (a->lock_fd < 0) {
		int ret = a->lock_fd;

		a->lock_depth = 0;
		return ret;
	}
	return 0;
}

static void apt_unlock(struct aptroot *a)
{
	if (a->lock_depth && !--a->lock_depth && a->lock_fd >= 0) {
		close(a->lock_fd);
		a->lock_fd = -1;
	}
}

/* Start and wait for the apt tool @c under the root's lock: its exit status (not reported) or -errno. */
static int apt_child(struct aptroot *a, struct child *c)
{
	int ret = apt_lock(a);

	if (!ret) {
		ret = child_start(c);
		if (!ret)
			ret = child_finish(c);
		apt_unlock(a);
	}
	return ret;
}

/*
 * Run an apt tool (NULL-terminated arguments) in the private root, its
 * stdout into @out (may be NULL). Its exit status (not reported) or -errno.
 */
static int apt_cmd(struct aptroot *a, struct strbuf *out, const char *log, ...)
{
	struct child c = CHILD_INIT;
	va_list ap;
	const char *s;
	int ret;

	va_start(ap, log);
	while ((s = va_arg(ap, const char *)))
		strvec_push(&c.argv, s);
	va_end(ap);
	strvec_pushf(&c.env, "APT_CONFIG=%s", a->conf);
	strvec_push(&c.env, "LC_ALL=C");
	c.capture = out != NULL;
	c.log_path = log;
	ret = apt_child(a, &c);
	if (out)
		strbuf_add(out, strbuf_str(&c.output), c.output.len);
	child_release(&c);
	return ret;
}

/* `apt-get update` in the private root. 0 or -EIO (reported, with the log). */
static int run_update(struct aptroot *a)
{
	char *log = path_join(a->root, "update.log");
	double t0 = now_mono();
	int ret;

	info("fetch: updating the package lists (apt-get update, log %s)", log);
	unlink(log);
	{
		char *kv = kv_path(a);

		unlink(kv);
		free(kv);
	}
	ret = apt_cmd(a, NULL, log, "apt-get", "-q", "update", (char *)NULL);
	if (ret) {
		ret = error("apt-get update failed (status %d); see '%s'", ret, log);
		free(log);
		return ret;
	}
	a->updated = true;
	info("fetch: package lists updated in %.1f s", now_mono() - t0);
	free(log);
	return 0;
}

int aptroot_open(struct aptroot *a, const char *cache_dir,
		 const struct pkg_ref *const *refs, size_t nr, bool force_update)
{
	struct host_mirror m;
	struct strvec suites = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT, conf = STRBUF_INIT;
	char *dir = NULL, *path = NULL, *old = NULL, *stamp = NULL;
	bool changed;
	int ret;

	memset(a, 0, sizeof(*a));
	a->lock_fd = -1;
	ret = host_mirror_read("/etc/apt", NULL, &m);
	if (ret)
		return ret;
	a->root = path_join(cache_dir, "apt");
	/* the lists' suites are read, merged and updated by one process at a time */
	if ((ret = mkdir_p(cache_dir, 0755)) || (ret = apt_lock(a)))
		goto out;
	a->conf = path_join(a->root, "etc/apt/apt.conf");
	a->debs = path_join(cache_dir, "debs");
	a->sources = path_join(cache_dir, "sources");

	for (size_t i = 0; i < nr; i++)
		if (refs[i] && refs[i]->suite && !strvec_contains(&suites, refs[i]->suite))
			strvec_push(&suites, refs[i]->suite);
	/*
	 * Keep the suites an earlier run needed: the lists are shared by every
	 * profile, and switching profiles must not update them each time.
	 */
	path = path_join(a->root, "etc/apt/sources.list");
	if (!read_file(path, &old, NULL)) {
		char *save = NULL;

		for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *suite = NULL, *end;

			if (!starts_with(l, "deb [") || !(l = strchr(l, ']')))
				continue;
			/* "] <uri> <suite> main" */
			l = strchr(l + 2, ' ');
			if (!l)
				continue;
			suite = l + 1;
			end = strchr(suite, ' ');
			if (end)
				*end = '\0';
			if (*suite && !strvec_contains(&suites, suite))
				strvec_push(&suites, suite);
		}
		free(old);
		old = NULL;
	}
	free(path);
	path = NULL;
	strvec_sort(&suites);
	for (size_t i = 0; i < suites.nr; i++) {
		const char *uri = ends_with(suites.v[i], "-security") ? m.security_uri : m.uri;

		strbuf_addf(&list, "deb [arch=amd64,arm64 signed-by=%s] %s %s main\n",
			    m.signed_by, uri, suites.v[i]);
		strbuf_addf(&list, "deb-src [signed-by=%s] %s %s main\n",
			    m.signed_by, uri, suites.v[i]);
	}

	static const char *const subdirs[] = { "etc/apt/apt.conf.d", "etc/apt/sources.list.d",
		"etc/apt/preferences.d", "etc/apt/trusted.gpg.d", "var/lib/apt/lists/partial",
		"var/cache/apt/archives/partial", "var/lib/dpkg" };
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		dir = path_join(a->root, subdirs[i]);
		ret = mkdir_p(dir, 0755);
		free(dir);
		dir = NULL;
		if (ret)
			goto out;
	}
	if ((ret = mkdir_p(a->debs, 0755)) || (ret = mkdir_p(a->sources, 0755)))
		goto out;
	path = path_join(a->root, "var/lib/dpkg/status");
	if (!file_exists(path) && (ret = write_file_str(path, "")))
		goto out;
	free(path);

	strbuf_addf(&conf, "// written by teelab: a private apt root, not the host's\n"
		    "Dir \"%s/\";\n"
		    "Dir::State::status \"%s/var/lib/dpkg/status\";\n"
		    "Dir::Etc::SourceParts \"%s/etc/apt/sources.list.d\";\n"
		    "Dir::Etc::Parts \"%s/etc/apt/apt.conf.d\";\n"
		    "Dir::Etc::PreferencesParts \"%s/etc/apt/preferences.d\";\n"
		    "Dir::Etc::TrustedParts \"%s/etc/apt/trusted.gpg.d\";\n"
		    "APT::Architecture \"amd64\";\n"
		    "APT::Architectures { \"amd64\"; \"arm64\"; };\n"
		    "Acquire::Languages \"none\";\n"
		    /*
		     * Signatures are still checked; only the Valid-Until freshness
		     * test is off: mirrors here may serve a frozen snapshot whose
		     * sid Release file has expired against the host clock.
		     */
		    "Acquire::Check-Valid-Until \"false\";\n"
		    "APT::Get::AllowUnauthenticated \"false\";\n",
		    a->root, a->root, a->root, a->root, a->root, a->root);
	if (geteuid() == 0)
		strbuf_addstr(&conf, "APT::Sandbox::User \"root\";\n");
	if ((ret = write_file_str(a->conf, strbuf_str(&conf))))
		goto out;

	path = path_join(a->root, "etc/apt/sources.list");
	stamp = path_join(a->root, "var/lib/apt/lists/teelab.stamp");
	old = NULL;
	changed = read_file(path, &old, NULL) || strcmp(old, strbuf_str(&list)) ||
		  !file_exists(stamp);
	if (changed && (ret = write_file_str(path, strbuf_str(&list))))
		goto out;
	if (changed || force_update) {
		ret = run_update(a);
		if (!ret)
			ret = write_file_str(stamp, strbuf_str(&list));
	}
out:
	apt_unlock(a);
	free(path);
	free(old);
	free(stamp);
	strbuf_release(&list);
	strbuf_release(&conf);
	strvec_release(&suites);
	host_mirror_release(&m);
	if (ret)
		aptroot_release(a);
	return ret;
}

void aptroot_release(struct aptroot *a)
{
	if (a->lock_fd >= 0 && a->lock_depth)
		close(a->lock_fd);
	free(a->root);
	free(a->conf);
	free(a->debs);
	free(a->sources);
	memset(a, 0, sizeof(*a));
}

/* ---- Debian version comparison (deb-version(7)) ---- */

/* A character's weight in a non-digit run ('~' before everything, even the end). */
static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* Compare two upstream versions or revisions: <0, 0, >0 (a comparison, not an error). */
static int verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = order((unsigned char)*a);
			int bc = order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

static void split_version(const char *v, long *epoch, char **upstream, char **revision)
{
	const char *colon = strchr(v, ':');
	const char *dash;

	*epoch = colon ? strtol(v, NULL, 10) : 0;
	if (colon)
		v = colon + 1;
	dash = strrchr(v, '-');
	*upstream = dash ? xstrndup(v, (size_t)(dash - v)) : xstrdup(v);
	*revision = xstrdup(dash ? dash + 1 : "");
}

int debian_version_cmp(const char *a, const char *b)
{
	long ea, eb;
	char *ua, *ra, *ub, *rb;
	int r;

	split_version(a, &ea, &ua, &ra);
	split_version(b, &eb, &ub, &rb);
	if (ea != eb)
		r = ea < eb ? -1 : 1;
	else if ((r = verrevcmp(ua, ub)) == 0)
		r = verrevcmp(ra, rb);
	free(ua);
	free(ra);
	free(ub);
	free(rb);
	return r;
}

/* ---- resolution ---- */

/*
 * Parse `apt-cache madison` output: "name[:arch] | version | uri suite/comp arch Packages|Sources".
 * Keep the highest version of @ref->suite for the right arch (or Sources).
 */
static void pick_madison(const char *text, const struct pkg_ref *ref,
			 char **best_name, char **best_version)
{
	char *copy = xstrdup(text), *save = NULL;
	bool want_src = !strcmp(ref->arch, "source");
	char *suite_comp = xasprintf(" %s/", ref->suite);

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[3] = { NULL, NULL, NULL };
		char *s = line;
		char *name, *colon;
		int i;

		for (i = 0; i < 3 && s; i++) {
			char *bar = strchr(s, '|');

			f[i] = s;
			if (bar)
				*bar = '\0';
			s = bar ? bar + 1 : NULL;
		}
		if (i < 3 || !f[2])
			continue;
		name = strtrim(f[0]);
		if (!strstr(f[2], suite_comp))
			continue;
		if (want_src != (strstr(f[2], " Sources") != NULL))
			continue;
		if (!want_src && strcmp(ref->arch, "all")) {
			/* arch:all packages show up in each arch's Packages file */
			char *arch_tag = xasprintf(" %s Packages", ref->arch);
			bool ok = strstr(f[2], arch_tag) != NULL;

			free(arch_tag);
			if (!ok)
				continue;
		}
		colon = strchr(name, ':');
		if (colon)
			*colon = '\0';
		if (ref->version && strcmp(strtrim(f[1]), ref->version))
			continue;
		if (!*best_version || debian_version_cmp(strtrim(f[1]), *best_version) > 0) {
			free(*best_name);
			free(*best_version);
			*best_name = xstrdup(name);
			*best_version = xstrdup(strtrim(f[1]));
		}
	}
	free(suite_comp);
	free(copy);
}

/* madison shows only the native architecture unless asked for name:arch */
static void push_query(struct strvec *argv, const char *name, const char *arch)
{
	char *q = strcmp(arch, "all") && strcmp(arch, "source")
		  ? xasprintf("%s:%s", name, arch) : xstrdup(name);

	if (!strvec_contains(argv, q))
		strvec_push(argv, q);
	free(q);
}

/* Whether @name is a pattern: shell globs, plus ksh's +(...) etc. (glibc FNM_EXTMATCH) */
static bool is_pattern(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}

static int resolve_once(struct aptroot *a, const struct pkg_ref *ref,
			char **name, char **version)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	bool glob = is_pattern(ref->name);
	int ret = 0;

	strvec_pushl(&argv, "apt-cache", "madison", NULL);
	if (glob) {
		struct strbuf names = STRBUF_INIT;
		/* the literal part before any pattern character (a shorter prefix only lists more) */
		size_t plen = strcspn(ref->name, "*?[+@!(");
		char *prefix = xstrndup(ref->name, plen);
		char *save = NULL;

		ret = apt_cmd(a, &names, NULL, "apt-cache", "pkgnames", prefix, (char *)NULL);
		free(prefix);
		if (ret) {
			strbuf_release(&names);
			ret = -EIO;
			goto out;
		}
		for (char *n = strtok_r(names.buf, "\n", &save); n; n = strtok_r(NULL, "\n", &save))
			if (!fnmatch(ref->name, n, FNM_EXTMATCH))
				push_query(&argv, n, ref->arch);
		strbuf_release(&names);
		if (argv.nr == 2) {
			ret = -ENOENT;
			goto out;
		}
	} else {
		push_query(&argv, ref->name, ref->arch);
	}
	{
		struct child c = CHILD_INIT;

		for (size_t i = 0; i < argv.nr; i++)
			strvec_push(&c.argv, argv.v[i]);
		strvec_pushf(&c.env, "APT_CONFIG=%s", a->conf);
		c.capture = true;
		ret = apt_child(a, &c);
		strbuf_add(&out, strbuf_str(&c.output), c.output.len);
		child_release(&c);
	}
	if (ret) {
		ret = -EIO;
		goto out;
	}
	pick_madison(strbuf_str(&out), ref, name, version);
	if (!*version)
		ret = -ENOENT;
out:
	strvec_release(&argv);
	strbuf_release(&out);
	return ret;
}

int aptroot_resolve(struct aptroot *a, const struct pkg_ref *ref,
		    char **name, char **version)
{
	int ret;

	char *key = xasprintf("resolve|%s|%s|%s|%s", ref->name, ref->suite,
			      ref->version ? ref->version : "-", ref->arch);
	char *hit = kv_get(a, key);

	*name = *version = NULL;
	if (hit && strchr(hit, ' ')) {
		*strchr(hit, ' ') = '\0';
		*name = xstrdup(hit);
		*version = xstrdup(hit + strlen(hit) + 1);
		free(hit);
		free(key);
		return 0;
	}
	free(hit);
	ret = resolve_once(a, ref, name, version);
	if (ret == -ENOENT && !a->updated) {
		/* the lists may predate the package: refresh once and retry */
		info("fetch: no '%s' in %s in the package lists", ref->name, ref->suite);
		ret = run_update(a);
		if (!ret)
			ret = resolve_once(a, ref, name, version);
	}
	if (ret == -ENOENT)
		error("%s: no package '%s'%s%s%s in suite '%s' for %s", ref->where,
		      ref->name, ref->version ? " version '" : "",
		      ref->version ? ref->version : "", ref->version ? "'" : "",
		      ref->suite, ref->arch);
	else if (ret)
		error("%s: cannot resolve package '%s' (apt-cache failed)", ref->where, ref->name);
	if (!ret) {
		char *v = xasprintf("%s %s", *name, *version);

		kv_put(a, key, v);
		free(v);
	}
	free(key);
	return ret;
}

/* SHA256 of name:arch=version from the package index. 0 or -errno (reported). */
static int index_sha256(struct aptroot *a, const char *name, const char *arch,
			const char *version, char **sha)
{
	struct strbuf out = STRBUF_INIT;
	char *spec = arch ? xasprintf("%s:%s=%s", name, arch, version)
			  : xasprintf("%s=%s", name, version);
	char *key = xasprintf("sha256|%s", spec);
	int ret;

	*sha = kv_get(a, key);
	if (*sha) {
		free(key);
		free(spec);
		return 0;
	}
	ret = apt_cmd(a, &out, NULL, "apt-cache", "show", "--no-all-versions", spec, (char *)NULL);
	if (!ret) {
		char *p = strstr(strbuf_str(&out), "\nSHA256: ");

		if (p) {
			p += strlen("\nSHA256: ");
			*sha = xstrndup(p, strcspn(p, "\n"));
		}
	}
	if (*sha)
		kv_put(a, key, *sha);
	free(key);
	free(spec);
	strbuf_release(&out);
	return *sha ? 0 : error("no SHA256 in the index for '%s' %s", name, version);
}

/* The single file in @dir ending in @suffix; malloc'd path or NULL. */
static char *only_file(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *ret = NULL;

	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (ends_with(de->d_name, suffix)) {
			free(ret);
			ret = path_join(dir, de->d_name);
		}
	closedir(d);
	return ret;
}

/*
 * Where the cache keeps @ref when it pins an exact name and version
 * (malloc'd), or NULL when it does not pin one. @dir: a->debs or
 * a->sources; @suffix: "_<arch>.deb" or "".
 */
static char *pinned_path(const char *dir, const struct pkg_ref *ref, const char *suffix)
{
	if (!ref->version || is_pattern(ref->name))
		return NULL;
	return xasprintf("%s/%s_%s%s", dir, ref->name, ref->version, suffix);
}

/*
 * Resolve a package that is not in the cache. A pinned version the suite
 * no longer serves is said to be missing from the cache too (@cache_path).
 */
static int resolve_uncached(struct aptroot *a, const struct pkg_ref *ref,
			    const char *cache_path, char **name, char **version)
{
	int ret = aptroot_resolve(a, ref, name, version);

	if (ret == -ENOENT && cache_path)
		error("%s: the pinned version %s of '%s' is not in the cache ('%s') either",
		      ref->where, ref->version, ref->name, cache_path);
	return ret;
}

int aptroot_fetch_deb(struct aptroot *a, const struct pkg_ref *ref, char **path)
{
	char *name = NULL, *version = NULL, *sha = NULL, *tmp = NULL, *got = NULL;
	char *spec = NULL, *log = NULL, *dest = NULL, *sidecar = NULL, *cached = NULL;
	char *suffix = xasprintf("_%s.deb", ref->arch);
	char *pinned = pinned_path(a->debs, ref, suffix);
	char hex[SHA256_HEX_LEN + 1];
	const char *arch = ref->arch;
	int ret;

	*path = NULL;
	if (pinned) {
		/*
		 * A version's contents never change in Debian: the copy
		 * verified when it was downloaded is used without apt, so it
		 * outlives the archive's serving it.
		 */
		sidecar = xasprintf("%s.sha256", pinned);
		if (file_exists(pinned) && file_exists(sidecar)) {
			*path = pinned;
			pinned = NULL;
			ret = 0;
			goto out;
		}
		free(sidecar);
		sidecar = NULL;
	}
	ret = resolve_uncached(a, ref, pinned, &name, &version);
	if (ret)
		goto out;
	if (!strcmp(arch, "all"))
		arch = NULL;	/* arch:all: no architecture qualifier */
	dest = xasprintf("%s/%s_%s_%s.deb", a->debs, name, version, ref->arch);
	sidecar = xasprintf("%s.sha256", dest);
	ret = index_sha256(a, name, arch, version, &sha);
	if (ret)
		goto out;
	if (file_exists(dest) && !read_file(sidecar, &cached, NULL) &&
	    !strcmp(strtrim(cached), sha)) {
		*path = dest;
		dest = NULL;
		goto out;
	}
	tmp = xasprintf("%s/partial-%d", a->debs, (int)getpid());
	remove_tree(tmp);
	if ((ret = mkdir_p(tmp, 0755)))
		goto out;
	spec = arch ? xasprintf("%s:%s=%s", name, arch, version) : xasprintf("%s=%s", name, version);
	log = path_join(a->root, "download.log");
	{
		struct child c = CHILD_INIT;
		char *what = xasprintf("%s %s (%s)", name, version, ref->suite);
		struct progress *p = progress_start("fetch", what, -1, NULL, tmp, a->downloads);

		strvec_pushl(&c.argv, "apt-get", "-q", "download", spec, NULL);
		strvec_pushf(&c.env, "APT_CONFIG=%s", a->conf);
		c.dir = tmp;
		c.log_path = log;
		ret = apt_lock(a);
		if (!ret) {
			ret = child_run(&c);
			apt_unlock(a);
		}
		progress_end(p, !ret);
		child_release(&c);
		free(what);
	}
	if (ret) {
		ret = error("%s: cannot download '%s' (see '%s')", ref->where, spec, log);
		goto out;
	}
	got = only_file(tmp, ".deb");
	if (!got || (ret = sha256_file(got, hex))) {
		ret = error("download of '%s' left no .deb", spec);
		goto out;
	}
	if (strcmp(hex, sha)) {
		ret = error("'%s': sha256 %s does not match the index (%s)", spec, hex, sha);
		goto out;
	}
	if (rename(got, dest)) {
		ret = error_errno("cannot move '%s' into the cache", got);
		goto out;
	}
	a->downloads++;
	ret = write_file_str(sidecar, sha);
	if (!ret) {
		*path = dest;
		dest = NULL;
	}
out:
	if (tmp)
		remove_tree(tmp);
	free(name);
	free(version);
	free(sha);
	free(tmp);
	free(got);
	free(spec);
	free(log);
	free(dest);
	free(sidecar);
	free(cached);
	free(suffix);
	free(pinned);
	return ret;
}

int aptroot_fetch_source(struct aptroot *a, const struct pkg_ref *ref,
			 char **dir, char **version)
{
	char *name = NULL, *ver = NULL, *dest = NULL, *tmp = NULL, *spec = NULL;
	char *log = NULL, *done = NULL;
	int ret;

	*dir = *version = NULL;
	/* a pinned version in the cache: used without apt, as in aptroot_fetch_deb() */
	if ((dest = pinned_path(a->sources, ref, ""))) {
		done = path_join(dest, ".complete");
		if (file_exists(done)) {
			ver = xstrdup(ref->version);
			ret = 0;
			goto found;
		}
		free(done);
		done = NULL;
	}
	ret = resolve_uncached(a, ref, dest, &name, &ver);
	if (ret)
		goto out;
	free(dest);
	dest = xasprintf("%s/%s_%s", a->sources, name, ver);
	done = path_join(dest, ".complete");
	if (file_exists(done))
		goto found;
	tmp = xasprintf("%s.partial-%d", dest, (int)getpid());
	remove_tree(tmp);
	if ((ret = mkdir_p(tmp, 0755)))
		goto out;
	spec = xasprintf("%s=%s", name, ver);
	log = path_join(a->root, "download.log");
	{
		struct child c = CHILD_INIT;
		char *what = xasprintf("source %s %s (%s)", name, ver, ref->suite);
		struct progress *p = progress_start("fetch", what, -1, NULL, tmp, a->downloads);

		/* apt verifies every file against the .dsc and the signed index */
		strvec_pushl(&c.argv, "apt-get", "-q", "source", "--download-only", spec, NULL);
		strvec_pushf(&c.env, "APT_CONFIG=%s", a->conf);
		c.dir = tmp;
		c.log_path = log;
		ret = apt_lock(a);
		if (!ret) {
			ret = child_run(&c);
			apt_unlock(a);
		}
		progress_end(p, !ret);
		child_release(&c);
		free(what);
	}
	if (ret) {
		ret = error("%s: cannot download source '%s' (see '%s')", ref->where, spec, log);
		goto out;
	}
	remove_tree(dest);
	if (rename(tmp, dest)) {
		ret = error_errno("cannot move '%s' into the cache", tmp);
		goto out;
	}
	a->downloads++;
	if ((ret = write_file_str(done, ver)))
		goto out;
found:
	*dir = dest;
	*version = ver;
	dest = ver = NULL;
out:
	if (tmp)
		remove_tree(tmp);
	free(name);
	free(ver);
	free(dest);
	free(tmp);
	free(spec);
	free(log);
	free(done);
	return ret;
}
