// SPDX-License-Identifier: MIT
/* jobs.c - SSH jobs: background and parallel commands, progress and stalls; see engine.h */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* New complete stdout lines of @b matching its progress pattern. */
void engine_scan_progress(struct engine *e, struct bg_job *b, double now)
{
	const struct strbuf *out = e->guest->out(b->job);

	while (b->scanned < out->len) {
		const char *line = out->buf + b->scanned;
		const char *nl = memchr(line, '\n', out->len - b->scanned);
		char *copy;

		if (!nl)
			break;
		copy = xstrndup(line, (size_t)(nl - line));
		b->scanned = (size_t)(nl - out->buf) + 1;
		if (!regexec(&b->progress, copy, 0, NULL, 0)) {
			b->last_progress = now;
			b->progress_lines++;
			free(b->last_line);
			b->last_line = copy;
			copy = NULL;
		}
		free(copy);
	}
}

/*
 * The first background job with a progress pattern that still runs and
 * printed no progress line for its stall window, or NULL.
 */
struct bg_job *engine_stalled_job(struct engine *e, double now)
{
	for (size_t i = 0; i < e->nr_jobs; i++) {
		struct bg_job *b = &e->jobs[i];

		if (!b->progress_set || !b->job)
			continue;
		engine_scan_progress(e, b, now);
		if (e->guest->status(b->job) < 0 && now - b->last_progress > b->stall)
			return b;
	}
	return NULL;
}

/* Pump every SSH job; new output counts as progress. True if all waited jobs are done. */
bool engine_pump_jobs(struct engine *e, double max_wait)
{
	size_t out = 0;
	bool all = true;

	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job)
			e->guest->poll(e->jobs[i].job, e->nr_waiting ? max_wait / (double)e->nr_jobs : 0);
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job)
			out += e->guest->out(e->jobs[i].job)->len +
			       e->guest->err(e->jobs[i].job)->len;
	if (out != e->jobs_out_len) {
		e->jobs_out_len = out;
		classifier_progress(&e->cls, now_mono());
	}
	for (size_t i = 0; i < e->nr_waiting; i++)
		if (e->guest->status(e->waiting[i]) < 0 && !e->guest->poll(e->waiting[i], 0))
			all = false;
	return all;
}

struct bg_job *engine_add_job(struct engine *e, const char *id, struct guest_job *job)
{
	struct bg_job *b;

	if (e->nr_jobs == MAX_JOBS)
		return NULL;
	b = &e->jobs[e->nr_jobs++];
	memset(b, 0, sizeof(*b));
	b->id = id ? xstrdup(id) : NULL;
	b->job = job;
	b->started = now_mono();
	return b;
}

void engine_drop_job(struct engine *e, struct guest_job *job)
{
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].job == job) {
			if (e->jobs[i].detect_state) {
				/* how often `detect: state` looked, for PASS runs too */
				char n[32];

				snprintf(n, sizeof(n), "%zu", e->jobs[i].probes);
				run_result_env(e->res, "deadlock_detector_reads", n);
				if (e->jobs[i].state_unreadable)
					run_result_env(e->res, "deadlock_detector_fallback",
						       "the state cannot be read here (no thread-state "
						       "fast call, or no tl-tee-state): the stall "
						       "window decides");
			}
			e->guest->free(job);
			free(e->jobs[i].id);
			free(e->jobs[i].last_line);
			free(e->jobs[i].closed_key);
			free(e->jobs[i].proof);
			if (e->jobs[i].progress_set)
				regfree(&e->jobs[i].progress);
			e->jobs[i] = e->jobs[--e->nr_jobs];
			return;
		}
}

void engine_drop_all_jobs(struct engine *e)
{
	while (e->nr_jobs)
		engine_drop_job(e, e->jobs[0].job);
	e->nr_waiting = 0;
}

void engine_drop_hung_jobs(struct engine *e)
{
	for (size_t i = 0; i < e->nr_jobs;)
		if (e->jobs[i].hung)
			engine_drop_job(e, e->jobs[i].job);	/* moves the last job to i */
		else
			i++;
}

struct bg_job *engine_find_job(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->nr_jobs; i++)
		if (e->jobs[i].id && !strcmp(e->jobs[i].id, id))
			return &e->jobs[i];
	return NULL;
}

/* Wait for @jobs; a timeout or hang leaves them running (the caller decides). */
enum outcome engine_wait_jobs(struct engine *e, struct guest_job **jobs, size_t n,
				  double timeout)
{
	enum outcome p;

	memcpy(e->waiting, jobs, n * sizeof(*jobs));
	e->nr_waiting = n;
	e->wait = W_JOBS;
	p = engine_pump(e, now_mono() + timeout);
	e->wait = W_NONE;
	e->nr_waiting = 0;
	return p;
}
