/* SPDX-License-Identifier: MIT */
/*
 * report.h - the nightly report of a matrix run.
 *
 * The matrix runner leaves <out_dir>/matrix.json: the matrix's name, file,
 * start time, duration (seconds), jobs, shard and one object per cell
 * ("id" unique and [A-Za-z0-9_.-], "scenario", "cell", "kernel", "secure",
 * "expected", "exit_code", "verdict", "observed", "met", "wall" in seconds,
 * "run_dir" relative to out_dir or null, "reason"). Every cell's run
 * directory holds what `teelab run` writes (README "The run directory").
 * The report is four files next to it:
 *
 *   junit.xml    one <testsuite> per cell: its run's tests (classname
 *                "<cell id>.<group>") plus a "cell verdict" testcase that
 *                fails when the cell did not meet the matrix's expectation;
 *   results.tap  TAP 13, one test per cell (ok = met), YAML diagnostics for
 *                the others;
 *   result.json  the aggregate: the cells as given plus their runs' test
 *                summaries, totals, and the comparison with an earlier report;
 *   index.html   one static page (inline CSS and SVG, no JavaScript,
 *                relative links only): summary, changes since the earlier
 *                report (new failures first), the scenario x kernel/secure
 *                matrix and a per-cell list with each run's timeline.svg and,
 *                given earlier reports, each cell's wall time across them.
 *
 * Everything written is a function of the inputs (no clock is read), so
 * rewriting a report gives the same bytes.
 */
#ifndef TEELAB_REPORT_H
#define TEELAB_REPORT_H

/*
 * Write the matrix report into @out_dir from @out_dir/matrix.json (see above)
 * and every cell's run directory: junit.xml, results.tap, result.json and
 * index.html, each atomically.
 * @compare_dir: a previous report directory (its matrix.json is read; cells
 * are matched by id) or NULL for no comparison.
 * A cell whose run directory has no readable result.json is reported with a
 * warning and counted as having no tests; it does not stop the report.
 * Returns 0 or -errno: a missing or malformed matrix.json (either one), or
 * the first file that could not be written (every file is still tried);
 * each reported with error() naming the file.
 */
int report_write(const char *out_dir, const char *compare_dir);

/*
 * report_write(), and @history: earlier report directories (oldest first,
 * NULL-terminated, or NULL), whose matrix.json give each cell a column
 * "wall over N reports": a small inline SVG bar per report (height = wall
 * time, colour = verdict; a gap where that report had no such cell). A
 * directory without a readable matrix.json is left out with a warning.
 * Each cell with a timeline.svg in its run directory gets it shown under
 * its row (an <img> linking to it) whatever the history.
 */
int report_write_history(const char *out_dir, const char *compare_dir,
			 const char *const *history);

#endif
