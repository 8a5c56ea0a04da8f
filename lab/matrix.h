/* SPDX-License-Identifier: MIT */
/*
 * matrix.h - a matrix of runs (scenarios x kernels x secure worlds), run in
 * parallel by child teelab processes, and the nightly report over them.
 *
 * A matrix file (configs/matrix/<name>.yaml):
 *
 *   name: nightly
 *   kernels: [debian-6.12, debian-6.1]   # crossed with plain scenarios (default: the profile's)
 *   secure: [debian-optee]               # likewise
 *   scenarios:
 *     - xtest-smoke                      # x kernels x secure
 *     - { scenario: reboot-after-xtest, kernels: [debian-6.12] }   # its own axes
 *     - { scenario: system-invocation, cells: [6.12-t2-c2, 6.12-t1-c2] }  # its cells, as they are
 *     - { scenario: kexec-shm, cells: all }
 *   exclude:                             # cells matching every key given
 *     - { scenario: xtest-smoke, kernel: debian-6.1, secure: optee-src }
 *   expect:                              # the verdict a cell must give (default: its scenario's)
 *     - { scenario: xtest-smoke, kernel: debian-6.1, verdict: PASS }
 */
#ifndef TEELAB_MATRIX_H
#define TEELAB_MATRIX_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct matrix_cell {
	char *id;		/* scenario[.cell][.kernel][.secure], unique */
	char *scenario;		/* a name from scenarios/ or a path */
	char *cell;		/* the scenario's cell, or NULL */
	char *kernel;		/* --kernel, or NULL: the scenario's/profile's */
	char *secure;		/* --secure, or NULL */
	char *expect;		/* a verdict name, or NULL: the scenario's expectation */
};

struct matrix {
	char *path;
	char *name;
	struct matrix_cell *cells;
	size_t nr_cells;
};
#define MATRIX_INIT { NULL, NULL, NULL, 0 }

/*
 * Load and expand matrix file @path; scenarios are looked up under
 * @datadir (for `cells: all` and to check names). Errors are reported as
 * file:line:column; returns 0 or -EINVAL/-ENOENT. Caller releases @m.
 */
int matrix_load(const char *path, const char *datadir, struct matrix *m);
void matrix_release(struct matrix *m);

struct matrix_options {
	int jobs;		/* cells at once; <= 0: matrix_default_jobs() */
	int shard, shards;	/* run cells with index % shards == shard - 1 (1-based; 1/1 = all) */
	const char *out_dir;	/* the report directory (created) */
	const char *compare;	/* a previous report directory, or NULL */
	const char *const *history;	/* earlier reports for the charts (report.h), NULL-terminated, or NULL */
	const char *const *pass;	/* extra options for every child `teelab run`, NULL-terminated */
	/*
	 * libvirt URIs to spread the cells over (--hosts), NULL-terminated, or
	 * NULL: every cell on this machine as its profile says. A cell goes to
	 * the host running the fewest cells; one whose machine does not start
	 * there is retried on the next host, and is INFRA if none could run it.
	 */
	const char *const *hosts;
	/*
	 * A lavacli identity (--lava), or NULL: every cell whose scenario
	 * exports (`teelab export lava --check`) is exported, submitted to that
	 * LAVA lab and imported (`export lava --submit`); the others run here.
	 */
	const char *lava;
	/*
	 * A JSON file of each cell's last wall time ({"<cell id>": seconds}),
	 * or NULL. Read to start the longest cells first (unknown ones before
	 * all: they may be the longest), written back after the run.
	 */
	const char *times_file;
};

/*
 * The order to start cells in: the indexes 0..@nr-1 of @ids into @order,
 * unknown cells (no number for their id in @times, a JSON object; may be
 * NULL) first in their given order, then the known ones longest first
 * (equal times keep their given order). Longest-first is the classic
 * makespan heuristic for parallel workers: a long cell started last would
 * run alone at the end.
 */
void matrix_dispatch_order(const char *const *ids, size_t nr, const json_t *times, size_t *order);

/* What the host allows: min(online CPUs, (available memory - 1 GiB) / 1.5 GiB), at least 1. */
int matrix_default_jobs(void);

/*
 * Build every cell's images (one `teelab build` per cell, in turn, so the
 * parallel runs only hit the cache), run the cells up to opt->jobs at a
 * time (each a child `teelab -q run` with its own run directory under
 * <out_dir>/cells/<id>/ and its output in <out_dir>/cells/<id>/teelab.out;
 * one line per finished cell on stderr, never interleaved; with opt->hosts
 * each run is `--connect <host>`), write
 * <out_dir>/matrix.json and the report (report.h). Returns 0 when every
 * cell met its expectation, 1 when one did not, 4 (infrastructure) when
 * nothing could run, 130 when interrupted.
 */
int matrix_run(const struct matrix *m, const struct matrix_options *opt);

#endif
