/* SPDX-License-Identifier: MIT */
/*
 * xtest.h - parse the output of OP-TEE's xtest (optee_test) into one
 * result per test case, e.g. regression_1004, including the case title,
 * OK / FAILED / SKIPPED, the subtest counts and the summary lines
 * ("N subtests of which M failed", "N test cases of which M failed",
 * "N test cases were skipped").
 */
#ifndef TEELAB_XTEST_H
#define TEELAB_XTEST_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "results.h"

struct xtest_case {
	char *id;		/* "regression_1004" */
	char *title;		/* "Test User Crypt TA" (may be "") */
	enum verdict verdict;	/* V_PASS, V_FAIL, V_SKIP; V_ERROR if unfinished */
	char *output;		/* the lines that belong to this case */
	double duration;	/* seconds, from "(N.NNN s)" timing if printed, else 0 */
	/*
	 * Why it did not pass, NULL for PASS: for FAIL the xtest failure
	 * line (the summary's "<id>.N FAILED first error at file:line" when
	 * seen, with the first assertion message appended), for SKIP the
	 * reason, for ERROR "no verdict (xtest did not finish)".
	 */
	char *message;
	unsigned nr_subcases;		/* "o <id>.N ..." lines seen */
	unsigned nr_subcases_failed;	/* "  <id>.N FAILED" lines seen */
};

struct xtest_report {
	size_t nr;
	struct xtest_case *cases;
	bool have_summary;	/* the closing summary was seen */
	long subtests, subtests_failed, cases_total, cases_failed, cases_skipped;
	bool aborted;		/* "Test suite aborted by <id>!" or "... was ABORTED" */
	bool finished;		/* "TEE test application done!" was seen */
};
#define XTEST_REPORT_INIT { 0 }

/*
 * Parse @text (the full console output of one xtest invocation; kernel
 * log lines interleaved with it are tolerated). Never fails: unknown lines
 * are ignored; a case with a start line but no verdict gets V_ERROR.
 */
void xtest_parse(const char *text, struct xtest_report *rep);
void xtest_report_release(struct xtest_report *rep);
/*
 * Add every case to @r under group "xtest.<suite>" (suite: the id up to
 * its first '_', e.g. "regression"), named by its id, with its message
 * and its output bounded to 16 KiB (head and tail kept).
 */
void xtest_report_to_results(const struct xtest_report *rep, struct run_result *r);

/*
 * Apply a secure world's known failures (@known, @nr; config.h) to @rep:
 * a listed case that failed becomes XFAIL with the reason (and link) in
 * its message and no longer counts in cases_failed; a listed case that
 * passed becomes XPASS (a failure: the list is stale). Returns how many
 * listed cases passed.
 */
size_t xtest_apply_known(struct xtest_report *rep, const struct known_failure *known, size_t nr);

#endif
