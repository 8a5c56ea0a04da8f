// SPDX-License-Identifier: MIT
/*
 * detector.c - the structural deadlock detector: a background command with
 * `progress:` and `detect: state` is declared DEADLOCK as soon as both
 * worlds' state closes the TEE thread-exhaustion cycle, instead of after
 * its `stall` window (which stays the fallback when the state cannot be
 * read: no SSH, no thread-state module, a secure world without the fast
 * call).
 *
 * Once the command has printed no progress line for its `detect-after`
 * seconds (default 1), the engine runs tl-tee-state in the guest (OP-TEE's
 * thread table through the lab fast call, and the TEE-related kernel
 * stacks; images/guest/tl-tee-state), and again DETECT_INTERVAL after the
 * previous read ended (a read takes 0.1-0.3 s over SSH under TCG). A read closes the cycle when
 * optee_deadlock_closed() says so (optee_threads.h); the verdict needs two
 * such reads in a row with the same secure state and no progress line in
 * between, so a state sampled mid-change cannot make it.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "optee_threads.h"
#include "tee_chain.h"

#define DETECT_INTERVAL 0.4	/* seconds from the end of one read to the next */
#define DETECT_READ_TIMEOUT 3.0	/* seconds one read may take */

/*
 * Run tl-tee-state over SSH, polling the job here: the caller is the event
 * loop, which must not be entered again. Its output (malloc'd), or NULL;
 * *@status gets the exit status (-1: none, 127: the lab has no tl-tee-state).
 */
static char *read_state(struct engine *e, double timeout, int *status)
{
	struct guest_job *job = NULL;
	double end = now_mono() + timeout;
	char *out = NULL;

	*status = -1;
	if (!engine_have_ssh(e) || e->guest->start(e->ssh, "tl-tee-state", &job))
		return NULL;
	while (e->guest->status(job) < 0 && now_mono() < end) {
		e->guest->poll(job, 0.02);
		engine_take_consoles(e);
	}
	*status = e->guest->status(job);
	if (*status == 0)
		out = xstrdup(strbuf_str(e->guest->out(job)));
	e->guest->free(job);
	return out;
}

static void forget(struct bg_job *b)
{
	free(b->closed_key);
	b->closed_key = NULL;
}

/* Keep the read that proved the deadlock: evidence/detector-state.txt. */
static void keep_read(struct engine *e, const char *text)
{
	char *dir = path_join(e->dir, "evidence");
	char *path = path_join(dir, "detector-state.txt");

	if (!mkdir_p(dir, 0755))
		write_file_str(path, text);
	free(dir);
	free(path);
}

/* One read for @b: true if it proved the deadlock (b->proof set). */
static bool probe(struct engine *e, struct bg_job *b)
{
	double start = now_mono(), end;
	size_t lines = b->progress_lines;
	int status;
	char *text = read_state(e, DETECT_READ_TIMEOUT, &status), *key;
	struct optee_threads ot;
	struct tee_chain c;
	struct strbuf why = STRBUF_INIT;
	bool closed, proven = false;

	end = now_mono();
	b->probes++;
	b->next_probe = end + DETECT_INTERVAL;
	engine_scan_progress(e, b, end);
	if (status == 127)
		b->state_unreadable = true;	/* the profile has no tl-tee-state */
	if (!text || b->progress_lines != lines) {
		forget(b);	/* no state, or the command moved meanwhile */
		free(text);
		return false;
	}
	optee_threads_parse(text, &ot);
	if (ot.present && !ot.available) {
		/* no fast call in this secure world (FF-A, Debian's OP-TEE): the stall window decides */
		b->state_unreadable = true;
	}
	tee_chain_analyse(text, engine_cfg_threads(e), &c);
	closed = optee_deadlock_closed(&ot, &c, &why);
	{
		char *secure = optee_threads_key(&ot);

		key = xasprintf("%s|%zu/%zu/%zu/%zu", secure, c.queued, c.in_rpc, c.rpc_blocked,
				c.rpc_notif);
		free(secure);
	}
	if (!closed) {
		forget(b);
	} else if (b->closed_key && !strcmp(b->closed_key, key) && b->last_progress < b->closed_at) {
		b->proof = xasprintf("%s (the same state read twice, %.1f s apart, no progress "
				     "line in between; %zu reads)", strbuf_str(&why),
				     start - b->closed_at, b->probes);
		keep_read(e, text);
		proven = true;
	} else {
		forget(b);
		b->closed_key = key;
		b->closed_at = start;
		key = NULL;
	}
	free(key);
	strbuf_release(&why);
	tee_chain_release(&c);
	optee_threads_release(&ot);
	free(text);
	return proven;
}

struct bg_job *engine_detect_deadlock(struct engine *e, double now)
{
	for (size_t i = 0; i < e->nr_jobs; i++) {
		struct bg_job *b = &e->jobs[i];

		if (!b->detect_state || b->state_unreadable || !b->progress_set || !b->job ||
		    e->guest->status(b->job) >= 0)
			continue;
		engine_scan_progress(e, b, now);
		if (now - b->last_progress < b->detect_after) {
			forget(b);
			continue;
		}
		if (now >= b->next_probe && probe(e, b))
			return b;
	}
	return NULL;
}
