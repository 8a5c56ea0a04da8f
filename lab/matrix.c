// SPDX-License-Identifier: MIT
/* matrix.c - parallel matrix runs; see matrix.h */
#include "matrix.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "report.h"
#include "results.h"
#include "runproc.h"
#include "scenario.h"
#include "util.h"
#include "yamltree.h"

static const char *const matrix_keys[] = {
	"name", "description", "kernels", "secure", "scenarios", "exclude", "expect", NULL
};
static const char *const entry_keys[] = { "scenario", "cells", "kernels", "secure", NULL };
static const char *const match_keys[] = { "scenario", "cell", "kernel", "secure", "verdict", NULL };
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

static void cell_release(struct matrix_cell *c)
{
	free(c->id);
	free(c->scenario);
	free(c->cell);
	free(c->kernel);
	free(c->secure);
	free(c->expect);
}

static void add_cell(struct matrix *m, const char *scenario, const char *cell,
		     const char *kernel, const char *secure)
{
	struct matrix_cell *c;
	struct strbuf id = STRBUF_INIT;
	const char *base = strrchr(scenario, '/');

	m->cells = xrealloc(m->cells, (m->nr_cells + 1) * sizeof(*m->cells));
	c = &m->cells[m->nr_cells++];
	memset(c, 0, sizeof(*c));
	/* the id: scenario's base name without .yaml, then the axes given */
	strbuf_add(&id, base ? base + 1 : scenario,
		   strcspn(base ? base + 1 : scenario, "."));
	if (cell)
		strbuf_addf(&id, ".%s", cell);
	if (kernel)
		strbuf_addf(&id, ".%s", kernel);
	if (secure)
		strbuf_addf(&id, ".%s", secure);
	c->id = strbuf_detach(&id);
	c->scenario = xstrdup(scenario);
	c->cell = cell ? xstrdup(cell) : NULL;
	c->kernel = kernel ? xstrdup(kernel) : NULL;
	c->secure = secure ? xstrdup(secure) : NULL;
}

/* An axis list: the entry's own, else the matrix's, else one NULL (the profile's). */
static int axis(const struct ydoc *doc, const struct ynode *entry, const struct ynode *root,
		const char *key, const char ***out, size_t *nr)
{
	static const char *none[] = { NULL };
	int ret = 0;

	*out = NULL;
	*nr = 0;
	if (entry && ynode_get(entry, key))
		ret = ynode_get_strlist(doc, entry, key, out, nr);
	else if (ynode_get(root, key))
		ret = ynode_get_strlist(doc, root, key, out, nr);
	if (!ret && !*nr) {
		free(*out);
		*out = xcalloc(1, sizeof(**out));
		memcpy(*out, none, sizeof(none));
		*nr = 1;
	}
	return ret;
}

/* The cells a `cells:` value names: "all" = every cell of the scenario. */
static int scenario_cells(const struct ydoc *doc, const struct ynode *n, const char *datadir,
			  const char *scenario, struct strvec *out)
{
	struct scenario sc = SCENARIO_INIT;
	char *path = scenario_path(datadir, scenario);
	int ret = scenario_load(path, &sc);

	if (ret) {
		ret = ynode_error(doc, n, "scenario '%s' cannot be loaded (%s)", scenario, path);
		goto out;
	}
	if (n->type == YNODE_SCALAR && !strcmp(n->scalar, "all")) {
		for (size_t i = 0; i < sc.nr_cells; i++)
			strvec_push(out, sc.cells[i].name);
		if (!sc.nr_cells)
			ret = ynode_error(doc, n, "scenario '%s' has no cells", scenario);
		goto out;
	}
	if (n->type != YNODE_SEQ) {
		ret = ynode_error(doc, n, "'cells' must be 'all' or a list of cell names");
		goto out;
	}
	for (size_t i = 0; i < n->nr && !ret; i++) {
		const struct ynode *it = n->items[i];
		bool found = false;

		for (size_t k = 0; it->type == YNODE_SCALAR && k < sc.nr_cells; k++)
			found = found || !strcmp(sc.cells[k].name, it->scalar);
		if (!found)
			ret = ynode_error(doc, it, "scenario '%s' has no cell '%s'", scenario,
					  it->type == YNODE_SCALAR ? it->scalar : "?");
		else
			strvec_push(out, it->scalar);
	}
out:
	scenario_release(&sc);
	free(path);
	return ret;
}

static int expand_entry(const struct ydoc *doc, const struct ynode *root, const struct ynode *e,
			const char *datadir, struct matrix *m)
{
	const struct ynode *map = e->type == YNODE_MAP ? e : NULL;
	const char *scenario = e->type == YNODE_SCALAR ? e->scalar : NULL;
	const char **kernels = NULL, **secures = NULL;
	size_t nk = 0, ns = 0;
	int ret = 0;

	if (map) {
		ret = ynode_check_keys(doc, map, "matrix entry", entry_keys);
		if (!ret)
			ret = ynode_get_str(doc, map, "scenario", &scenario);
		if (!ret && !scenario)
			ret = ynode_error(doc, map, "missing 'scenario' in matrix entry");
	} else if (!scenario) {
		ret = ynode_error(doc, e, "expected a scenario name or a mapping");
	}
	if (ret)
		return ret;
	if (map && ynode_get(map, "cells")) {
		struct strvec cells = STRVEC_INIT;

		if (ynode_get(map, "kernels") || ynode_get(map, "secure"))
			return ynode_error(doc, ynode_get(map, "cells"),
					   "a scenario's cells choose their own kernel and secure "
					   "world: no 'kernels'/'secure' with 'cells'");
		ret = scenario_cells(doc, ynode_get(map, "cells"), datadir, scenario, &cells);
		for (size_t i = 0; !ret && i < cells.nr; i++)
			add_cell(m, scenario, cells.v[i], NULL, NULL);
		strvec_release(&cells);
		return ret;
	}
	{
		char *path = scenario_path(datadir, scenario);

		if (!file_exists(path))
			ret = ynode_error(doc, e, "no scenario '%s' (%s)", scenario, path);
		free(path);
	}
	if (!ret)
		ret = axis(doc, map, root, "kernels", &kernels, &nk);
	if (!ret)
		ret = axis(doc, map, root, "secure", &secures, &ns);
	for (size_t k = 0; !ret && k < nk; k++)
		for (size_t s = 0; s < ns; s++)
			add_cell(m, scenario, NULL, kernels[k], secures[s]);
	free(kernels);
	free(secures);
	return ret;
}

/* Does @c match the mapping @n (every key given)? */
static bool matches(const struct ynode *n, const struct matrix_cell *c)
{
	const struct {
		const char *key, *value;
	} f[] = { { "scenario", c->scenario }, { "cell", c->cell }, { "kernel", c->kernel },
		  { "secure", c->secure } };

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		const struct ynode *v = ynode_get(n, f[i].key);

		if (v && (v->type != YNODE_SCALAR || !f[i].value || strcmp(v->scalar, f[i].value)))
			return false;
	}
	return true;
}

/* exclude: and expect: lists of mappings; @verdict: expect needs one. */
static int check_rules(const struct ydoc *doc, const struct ynode *list, const char *what,
		       bool verdict)
{
	static const char *const verdicts[] = {
		"PASS", "FAIL", "DEADLOCK", "HANG", "TIMEOUT", "KERNEL_PANIC", "KERNEL_BUG", "TEE_PANIC",
		"INFRA", NULL
	};

	if (!list)
		return 0;
	if (list->type != YNODE_SEQ)
		return ynode_error(doc, list, "'%s' must be a list of mappings", what);
	for (size_t i = 0; i < list->nr; i++) {
		const struct ynode *n = list->items[i], *v = NULL;
		int ret;

		if (n->type != YNODE_MAP)
			return ynode_error(doc, n, "'%s' entries are mappings (scenario, cell, "
					   "kernel, secure%s)", what, verdict ? ", verdict" : "");
		ret = ynode_check_keys(doc, n, what, match_keys);
		if (ret)
			return ret;
		v = ynode_get(n, "verdict");
		if (verdict && (!v || v->type != YNODE_SCALAR))
			return ynode_error(doc, n, "an 'expect' entry needs 'verdict'");
		if (!verdict && v)
			return ynode_error(doc, v, "'verdict' belongs in 'expect', not 'exclude'");
		for (size_t k = 0; v && verdicts[k]; k++)
			if (!strcmp(verdicts[k], v->scalar))
				v = NULL;
		if (v)
			return ynode_error(doc, v, "unknown verdict '%s'", v->scalar);
	}
	return 0;
}

int matrix_load(const char *path, const char *datadir, struct matrix *m)
{
	struct ydoc doc = YDOC_INIT;
	const struct ynode *root, *list, *excl, *exp;
	const char *name = NULL;
	int ret = ydoc_load(path, &doc);

	memset(m, 0, sizeof(*m));
	if (ret)
		return ret;
	root = doc.root;
	m->path = xstrdup(path);
	if (!root || root->type != YNODE_MAP) {
		ret = error_code(-EINVAL, "%s:1:1: a matrix is a mapping with 'scenarios'", path);
		goto out;
	}
	ret = ynode_check_keys(&doc, root, "matrix", matrix_keys);
	if (!ret)
		ret = ynode_get_str(&doc, root, "name", &name);
	list = ynode_get(root, "scenarios");
	excl = ynode_get(root, "exclude");
	exp = ynode_get(root, "expect");
	if (!ret && (!list || list->type != YNODE_SEQ || !list->nr))
		ret = ynode_error(&doc, list ? list : root, "'scenarios' must be a non-empty list");
	if (!ret)
		ret = check_rules(&doc, excl, "exclude", false);
	if (!ret)
		ret = check_rules(&doc, exp, "expect", true);
	for (size_t i = 0; !ret && i < list->nr; i++)
		ret = expand_entry(&doc, root, list->items[i], datadir, m);
	if (ret)
		goto out;
	/* exclusions, then expectations (the last matching rule wins) */
	for (size_t i = 0; i < m->nr_cells;) {
		bool drop = false;

		for (size_t k = 0; excl && k < excl->nr && !drop; k++)
			drop = matches(excl->items[k], &m->cells[i]);
		if (!drop) {
			i++;
			continue;
		}
		cell_release(&m->cells[i]);
		memmove(&m->cells[i], &m->cells[i + 1], (m->nr_cells - i - 1) * sizeof(*m->cells));
		m->nr_cells--;
	}
	for (size_t i = 0; i < m->nr_cells; i++) {
		for (size_t k = 0; exp && k < exp->nr; k++)
			if (matches(exp->items[k], &m->cells[i])) {
				free(m->cells[i].expect);
				m->cells[i].expect = xstrdup(ynode_get(exp->items[k], "verdict")->scalar);
			}
		if (strspn(m->cells[i].id, ID_CHARS) != strlen(m->cells[i].id))
			ret = error_code(-EINVAL, "%s: cell id '%s' has characters other than [A-Za-z0-9_.-]",
					 path, m->cells[i].id);
		for (size_t k = 0; k < i && !ret; k++)
			if (!strcmp(m->cells[k].id, m->cells[i].id))
				ret = error_code(-EINVAL, "%s: cell '%s' comes twice", path, m->cells[i].id);
	}
	if (!ret && !m->nr_cells)
		ret = error_code(-EINVAL, "%s: every cell is excluded", path);
	if (!ret) {
		const char *base = strrchr(path, '/');

		m->name = name ? xstrdup(name)
			       : xstrndup(base ? base + 1 : path, strcspn(base ? base + 1 : path, "."));
	}
out:
	if (ret) {
		matrix_release(m);
		ret = ret == -ENOENT ? ret : -EINVAL;
	}
	ydoc_release(&doc);
	return ret;
}

void matrix_release(struct matrix *m)
{
	for (size_t i = 0; i < m->nr_cells; i++)
		cell_release(&m->cells[i]);
	free(m->cells);
	free(m->path);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

int matrix_default_jobs(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long jobs = cpus > 0 ? cpus : 1;
	char *meminfo = NULL;

	if (!read_file("/proc/meminfo", &meminfo, NULL)) {
		const char *p = strstr(meminfo, "MemAvailable:");
		long kib = p ? strtol(p + 13, NULL, 10) : 0;
		/* a lab machine: QEMU -m 1024 plus TCG's code cache, about 1.5 GiB */
		long by_mem = (kib - 1024L * 1024) / (1536L * 1024);

		if (p && by_mem < jobs)
			jobs = by_mem;
	}
	free(meminfo);
	return jobs < 1 ? 1 : (int)jobs;
}

/* ---- running ---- */

struct cell_run {
	const struct matrix_cell *cell;
	int exit_code;		/* -1: not run */
	double wall;
	char *run_dir;		/* relative to out_dir, or NULL */
	char *verdict, *observed, *reason;
	bool met;
	const char *host;	/* the libvirt URI it ran on, or NULL (this machine) */
	bool *tried;		/* per opt->hosts entry: its machine did not start there */
	bool on_lava;		/* --lava: exported and run on the LAVA lab */
	struct strvec failed;	/* "URI: why" for each of those, for matrix.json */
};

struct runner {
	const struct matrix *m;
	const struct matrix_options *opt;
	char *self;		/* this teelab */
	struct cell_run *runs;
	size_t nr, next, done;
	size_t *order;		/* runs[] indexes in the order they start (matrix_dispatch_order()) */
	size_t nr_hosts;
	int *host_load;		/* cells running on each of opt->hosts */
	char *lava_host;	/* --lava: "LAVA <identity>", the report's host of its cells */
	double build_seconds;	/* the `teelab build` of every cell, before the first run */
	pthread_mutex_t lock;
};

/*
 * argv of a child teelab for @c: @cmd is "run", "build", "export" (the
 * cell on the LAVA lab: exported, submitted, imported into @runs_dir) or
 * "check" (`export lava --check`: whether it can be exported).
 */
static void child_argv(const struct runner *r, const struct matrix_cell *c, const char *cmd,
		       const char *runs_dir, const char *host, struct strvec *argv)
{
	bool lava = !strcmp(cmd, "export") || !strcmp(cmd, "check");

	strvec_pushl(argv, r->self, "-q", lava ? "export" : cmd, NULL);
	if (lava)
		strvec_push(argv, "lava");
	if (!strcmp(cmd, "check"))
		strvec_push(argv, "--check");
	if (!strcmp(cmd, "export")) {
		strvec_pushl(argv, "--submit", r->opt->lava, "--out", NULL);
		strvec_pushf(argv, "%s/lava", runs_dir);
	}
	for (size_t i = 0; r->opt->pass && r->opt->pass[i]; i++)
		strvec_push(argv, r->opt->pass[i]);
	if (host)
		strvec_pushl(argv, "--connect", host, NULL);
	if (runs_dir)
		strvec_pushl(argv, "--runs-dir", runs_dir, NULL);
	if (c->kernel)
		strvec_pushl(argv, "--kernel", c->kernel, NULL);
	if (c->secure)
		strvec_pushl(argv, "--secure", c->secure, NULL);
	if (c->cell)
		strvec_pushl(argv, "--cell", c->cell, NULL);
	if (!strcmp(cmd, "build"))
		strvec_push(argv, "--scenario");
	strvec_push(argv, c->scenario);
}

static int list_sorted(const char *dir, struct strvec *out)
{
	int ret = list_dir(dir, out);

	if (!ret)
		strvec_sort(out);
	return ret;
}

/* The run directory the child made (the newest under @runs_dir), relative to out_dir. */
static char *find_run_dir(const struct runner *r, const char *cell_dir)
{
	struct strvec entries = STRVEC_INIT;
	char *abs = path_join(r->opt->out_dir, cell_dir), *found = NULL;

	if (!list_sorted(abs, &entries)) {
		for (size_t i = entries.nr; i-- > 0 && !found;) {
			char *p = xasprintf("%s/%s/result.json", abs, entries.v[i]);

			if (file_exists(p))
				found = xasprintf("%s/%s", cell_dir, entries.v[i]);
			free(p);
		}
	}
	strvec_release(&entries);
	free(abs);
	return found;
}

static char *json_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static void finish_cell(struct runner *r, struct cell_run *cr, const char *cell_dir)
{
	cr->run_dir = find_run_dir(r, cell_dir);
	if (cr->run_dir) {
		char *p = xasprintf("%s/%s/result.json", r->opt->out_dir, cr->run_dir);
		json_t *j = json_load_file(p, 0, NULL);

		if (j) {
			cr->verdict = json_field(j, "verdict");
			cr->observed = json_field(j, "observed");
			cr->reason = json_field(j, "reason");
			json_decref(j);
		}
		free(p);
	}
	if (!cr->verdict) {
		cr->verdict = xstrdup(runproc_interrupted() ? "INTERRUPTED" : "INFRA");
		cr->observed = xstrdup(cr->verdict);
		if (!cr->reason)
			cr->reason = xasprintf("no result.json (teelab exited %d; see %s/teelab.out)",
					       cr->exit_code, cell_dir);
	}
	/* the matrix's expectation, else the run's own (exit 0 = met) */
	cr->met = cr->cell->expect ? !strcmp(cr->observed, cr->cell->expect)
				   : cr->exit_code == 0;
}

/* The least loaded host @cr has not tried yet (index), or -1. Called with r->lock. */
static int pick_host(struct runner *r, const struct cell_run *cr)
{
	int best = -1;

	for (size_t h = 0; h < r->nr_hosts; h++)
		if (!cr->tried[h] && (best < 0 || r->host_load[h] < r->host_load[best]))
			best = (int)h;
	return best;
}

/* Whether the run's machine did not start at all (another host may do better). */
static bool did_not_start(const struct cell_run *cr)
{
	return cr->verdict && !strcmp(cr->verdict, "INFRA") && cr->reason &&
	       strstr(cr->reason, "boot: QEMU did not start");
}

static void forget_result(struct cell_run *cr)
{
	free(cr->run_dir);
	free(cr->verdict);
	free(cr->observed);
	free(cr->reason);
	cr->run_dir = cr->verdict = cr->observed = cr->reason = NULL;
}

static void run_one(struct runner *r, struct cell_run *cr)
{
	const struct matrix_cell *c = cr->cell;
	char *cell_dir = xasprintf("cells/%s", c->id);
	char *abs = path_join(r->opt->out_dir, cell_dir);
	char *out = path_join(abs, "teelab.out");
	double t0 = now_mono();
	int host = -1;

	mkdir_p(abs, 0755);
	close(open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));	/* each attempt appends */
	for (;;) {
		struct child ch = CHILD_INIT;
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		pthread_mutex_lock(&r->lock);
		if (r->nr_hosts && !cr->on_lava) {
			host = pick_host(r, cr);
			r->host_load[host]++;
			cr->host = r->opt->hosts[host];
		}
		pthread_mutex_unlock(&r->lock);
		if (cr->on_lava)
			child_argv(r, c, "export", abs, NULL, &ch.argv);
		else	/* cr->host is a libvirt URI only when a host was picked */
			child_argv(r, c, "run", abs, host >= 0 ? cr->host : NULL, &ch.argv);
		ch.out_fd = fd;
		pthread_mutex_lock(&r->lock);	/* runproc's child registry */
		cr->exit_code = child_start(&ch) ? -1 : 0;
		pthread_mutex_unlock(&r->lock);
		if (!cr->exit_code)
			cr->exit_code = child_finish(&ch);
		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&r->lock);
		child_release(&ch);
		if (host >= 0)
			r->host_load[host]--;
		finish_cell(r, cr, cell_dir);
		if (host < 0 || !did_not_start(cr) || runproc_interrupted()) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		/* the machine did not start on that host: the next one, if any */
		cr->tried[host] = true;
		strvec_pushf(&cr->failed, "%s: %s", cr->host, cr->reason);
		if (pick_host(r, cr) < 0) {
			char *why = xasprintf("could not start on any of the %zu hosts (%s)",
					      r->nr_hosts, cr->failed.v[0]);

			free(cr->reason);
			cr->reason = why;
			pthread_mutex_unlock(&r->lock);
			break;
		}
		warning("matrix: %s did not start on %s; trying another host", c->id, cr->host);
		forget_result(cr);
		pthread_mutex_unlock(&r->lock);
	}
	cr->wall = now_mono() - t0;
	pthread_mutex_lock(&r->lock);
	r->done++;
	/* one line per cell, whole: parallel cells never interleave */
	fprintf(stderr, "teelab: [%zu/%zu] %-44s %-12s%s (%.1f s)%s%s\n", r->done, r->nr, c->id,
		cr->verdict, cr->met ? "" : " NOT MET", cr->wall, cr->met ? "" : ": ",
		cr->met ? "" : (cr->reason ? cr->reason : ""));
	pthread_mutex_unlock(&r->lock);
	free(out);
	free(abs);
	free(cell_dir);
}

static void *worker(void *arg)
{
	struct runner *r = arg;

	for (;;) {
		struct cell_run *cr = NULL;

		pthread_mutex_lock(&r->lock);
		if (r->next < r->nr && !runproc_interrupted())
			cr = &r->runs[r->order[r->next++]];
		pthread_mutex_unlock(&r->lock);
		if (!cr)
			return NULL;
		run_one(r, cr);
	}
}

/*
 * --lava: whether the cell's scenario exports (`teelab export lava --check`,
 * its answer in cells/<id>/lava-check.log): then it runs on the lab; else
 * here, and the report's host column says why.
 */
static void lava_check(struct runner *r, struct cell_run *cr)
{
	struct child ch = CHILD_INIT;
	char *log = xasprintf("%s/cells/%s/lava-check.log", r->opt->out_dir, cr->cell->id);

	child_argv(r, cr->cell, "check", NULL, NULL, &ch.argv);
	ch.log_path = log;
	ch.capture = true;
	cr->on_lava = !child_start(&ch) && !child_finish(&ch);
	cr->host = cr->on_lava ? r->lava_host : "this machine (not exportable to LAVA: see lava-check.log)";
	if (!cr->on_lava)
		info("matrix: %s has steps LAVA cannot carry: it runs here (%s)", cr->cell->id, log);
	child_release(&ch);
	free(log);
}

/* One `teelab build` per cell, in turn: the cache is then warm for every run. */
static int build_images(struct runner *r)
{
	int failed = 0;

	for (size_t i = 0; i < r->nr && !runproc_interrupted(); i++) {
		struct child ch = CHILD_INIT;
		char *log = xasprintf("%s/cells/%s/build.log", r->opt->out_dir, r->runs[i].cell->id);
		char *dir = xasprintf("%s/cells/%s", r->opt->out_dir, r->runs[i].cell->id);
		int st;

		mkdir_p(dir, 0755);
		child_argv(r, r->runs[i].cell, "build", NULL, NULL, &ch.argv);
		ch.log_path = log;
		ch.capture = true;	/* the image list is of no interest here */
		st = child_start(&ch) ? -1 : child_finish(&ch);
		if (st) {
			warning("matrix: building the images of %s failed (exit %d, see %s); "
				"its run will say why", r->runs[i].cell->id, st, log);
			failed++;
		}
		child_release(&ch);
		free(log);
		free(dir);
		if (r->opt->lava)
			lava_check(r, &r->runs[i]);
	}
	return failed;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* <out_dir>/matrix.json: the matrix, its cells and their outcomes. 0 or -EIO (reported). */
static int write_matrix_json(const struct runner *r, const char *started, double duration)
{
	json_t *root = json_object(), *cells = json_array();
	char *path = path_join(r->opt->out_dir, "matrix.json");
	char shard[32];
	int ret;

	snprintf(shard, sizeof(shard), "%d/%d", r->opt->shard, r->opt->shards);
	json_object_set_new(root, "name", json_string(r->m->name));
	json_object_set_new(root, "teelab_version", json_string(teelab_version()));
	json_object_set_new(root, "file", json_string(r->m->path));
	json_object_set_new(root, "started", json_string(started));
	json_object_set_new(root, "duration", json_real(duration));
	/* of duration: the images' builds (or cache checks) before the first cell ran */
	json_object_set_new(root, "build_seconds", json_real(r->build_seconds));
	json_object_set_new(root, "jobs", json_integer(r->opt->jobs));
	json_object_set_new(root, "shard", json_string(shard));
	for (size_t i = 0; i < r->nr; i++) {
		const struct cell_run *cr = &r->runs[i];
		const struct matrix_cell *c = cr->cell;
		json_t *o = json_object();

		json_object_set_new(o, "id", json_string(c->id));
		json_object_set_new(o, "scenario", json_string(c->scenario));
		json_object_set_new(o, "cell", jstr_or_null(c->cell));
		json_object_set_new(o, "kernel", jstr_or_null(c->kernel));
		json_object_set_new(o, "secure", jstr_or_null(c->secure));
		json_object_set_new(o, "expected", json_string(c->expect ? c->expect : "the scenario's"));
		json_object_set_new(o, "exit_code", json_integer(cr->exit_code));
		json_object_set_new(o, "verdict", jstr_or_null(cr->verdict ? cr->verdict : "NOTRUN"));
		json_object_set_new(o, "observed", jstr_or_null(cr->observed ? cr->observed : "NOTRUN"));
		json_object_set_new(o, "met", json_boolean(cr->met));
		json_object_set_new(o, "wall", json_real(cr->wall));
		json_object_set_new(o, "run_dir", jstr_or_null(cr->run_dir));
		json_object_set_new(o, "reason", jstr_or_null(cr->reason));
		json_object_set_new(o, "host", jstr_or_null(cr->host));
		if (cr->failed.nr) {
			json_t *t = json_array();

			for (size_t k = 0; k < cr->failed.nr; k++)
				json_array_append_new(t, json_string(cr->failed.v[k]));
			json_object_set_new(o, "hosts_failed", t);
		}
		json_array_append_new(cells, o);
	}
	json_object_set_new(root, "cells", cells);
	ret = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? -EIO : 0;
	if (ret)
		error("cannot write '%s'", path);
	json_decref(root);
	free(path);
	return ret;
}

struct dispatch_key {
	size_t idx;
	double secs;	/* < 0: unknown */
};

static int by_time_desc(const void *a, const void *b)
{
	const struct dispatch_key *x = a, *y = b;
	bool ux = x->secs < 0, uy = y->secs < 0;

	if (ux != uy)
		return ux ? -1 : 1;	/* unknown first */
	if (!ux && x->secs != y->secs)
		return x->secs > y->secs ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;	/* stable */
}

void matrix_dispatch_order(const char *const *ids, size_t nr, const json_t *times, size_t *order)
{
	struct dispatch_key *k = xcalloc(nr ? nr : 1, sizeof(*k));

	for (size_t i = 0; i < nr; i++) {
		json_t *v = times ? json_object_get(times, ids[i]) : NULL;

		k[i].idx = i;
		k[i].secs = json_is_number(v) && json_number_value(v) >= 0 ? json_number_value(v) : -1;
	}
	qsort(k, nr, sizeof(*k), by_time_desc);
	for (size_t i = 0; i < nr; i++)
		order[i] = k[i].idx;
	free(k);
}

/* The last wall times, or an empty object (a missing or unreadable file is not an error). */
static json_t *times_load(const char *path)
{
	json_t *t = path ? json_load_file(path, 0, NULL) : NULL;

	if (!json_is_object(t)) {
		json_decref(t);
		t = json_object();
	}
	return t;
}

/* Keep the wall time of every cell that ran to a verdict (not INFRA: it says nothing of its length). */
static void times_save(const struct runner *r, json_t *times)
{
	char *text;

	if (!r->opt->times_file)
		return;
	for (size_t i = 0; i < r->nr; i++) {
		const struct cell_run *cr = &r->runs[i];

		if (cr->exit_code >= 0 && cr->verdict && strcmp(cr->verdict, "INFRA") &&
		    strcmp(cr->verdict, "NOTRUN") && strcmp(cr->verdict, "INTERRUPTED"))
			json_object_set_new(times, cr->cell->id, json_real((double)(long long)(cr->wall * 10 + 0.5) / 10));
	}
	text = json_dumps(times, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(6));
	{
		char *dir = xstrdup(r->opt->times_file), *slash = strrchr(dir, '/');

		if (slash)
			*slash = '\0';
		if (!text || (slash && mkdir_p(dir, 0755)) || write_file_str(r->opt->times_file, text))
			warning("the cells' times are not kept ('%s')", r->opt->times_file);
		free(dir);
	}
	free(text);
}

int matrix_run(const struct matrix *m, const struct matrix_options *opt_in)
{
	struct matrix_options opt = *opt_in;
	struct runner r = { .m = m, .opt = &opt };
	pthread_t *threads = NULL;
	char started[32], exe[4096];
	json_t *times;
	double t0 = now_mono();
	size_t met = 0;
	ssize_t n;
	int ret = 0;

	if (opt.jobs <= 0)
		opt.jobs = matrix_default_jobs();
	if (opt.shards <= 0)
		opt.shard = opt.shards = 1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		error_errno("cannot find teelab's own executable");
		return TL_EXIT_INFRA;
	}
	exe[n] = '\0';
	r.self = exe;
	if (mkdir_p(opt.out_dir, 0755))
		return TL_EXIT_INFRA;
	iso_time_now(started, sizeof(started));
	pthread_mutex_init(&r.lock, NULL);
	r.runs = xcalloc(m->nr_cells, sizeof(*r.runs));
	while (opt.hosts && opt.hosts[r.nr_hosts])
		r.nr_hosts++;
	r.host_load = xcalloc(r.nr_hosts + 1, sizeof(*r.host_load));
	if (opt.lava)
		r.lava_host = xasprintf("LAVA %s", opt.lava);
	for (size_t i = 0; i < m->nr_cells; i++)
		if ((int)(i % (size_t)opt.shards) == opt.shard - 1) {
			r.runs[r.nr].cell = &m->cells[i];
			r.runs[r.nr].tried = xcalloc(r.nr_hosts + 1, sizeof(bool));
			r.runs[r.nr++].exit_code = -1;
		}
	times = times_load(opt.times_file);
	{
		const char **ids = xcalloc(r.nr ? r.nr : 1, sizeof(*ids));

		for (size_t i = 0; i < r.nr; i++)
			ids[i] = r.runs[i].cell->id;
		r.order = xcalloc(r.nr ? r.nr : 1, sizeof(*r.order));
		matrix_dispatch_order(ids, r.nr, times, r.order);
		free(ids);
	}
	info("matrix %s: %zu cell(s)%s, %d at a time%s%s -> %s", m->name, r.nr,
	     opt.shards > 1 ? " (this shard)" : "", opt.jobs, r.nr_hosts ? " over libvirt hosts " : "",
	     r.nr_hosts ? (opt.hosts[1] ? "(several)" : opt.hosts[0]) : "", opt.out_dir);
	r.build_seconds = now_mono();
	build_images(&r);
	r.build_seconds = now_mono() - r.build_seconds;
	threads = xcalloc((size_t)opt.jobs, sizeof(*threads));
	for (int i = 0; i < opt.jobs; i++)
		pthread_create(&threads[i], NULL, worker, &r);
	for (int i = 0; i < opt.jobs; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < r.nr; i++) {
		if (!r.runs[i].verdict) {	/* not started (interrupted) */
			r.runs[i].verdict = xstrdup("NOTRUN");
			r.runs[i].observed = xstrdup("NOTRUN");
			r.runs[i].reason = xstrdup("not started: interrupted");
		}
		met += r.runs[i].met;
	}
	write_matrix_json(&r, started, now_mono() - t0);
	times_save(&r, times);
	json_decref(times);
	if (report_write_history(opt.out_dir, opt.compare, opt.history))
		warning("the report in '%s' is incomplete", opt.out_dir);
	info("matrix %s: %zu/%zu cell(s) met their expectation in %.1f s; report %s/index.html",
	     m->name, met, r.nr, now_mono() - t0, opt.out_dir);
	ret = runproc_interrupted() ? TL_EXIT_INTERRUPTED : met == r.nr ? 0 : 1;
	for (size_t i = 0; i < r.nr; i++) {
		free(r.runs[i].run_dir);
		free(r.runs[i].verdict);
		free(r.runs[i].observed);
		free(r.runs[i].reason);
		strvec_release(&r.runs[i].failed);
		free(r.runs[i].tried);
	}
	free(r.runs);
	free(r.order);
	free(r.host_load);
	free(r.lava_host);
	free(threads);
	pthread_mutex_destroy(&r.lock);
	return ret;
}
