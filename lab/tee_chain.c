// SPDX-License-Identifier: MIT
/* tee_chain.c - the TEE thread-exhaustion chain from guest stacks; see tee_chain.h */
#include "tee_chain.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Kernel functions (Linux 6.1..6.12) that place a task on the chain. */
static const char *const queue_fns[] = {	/* waiting for a free OP-TEE thread */
	"optee_cq_wait_init", "optee_cq_wait_for_completion", NULL
};
static const char *const rpc_fns[] = {	/* serving an RPC inside an OP-TEE call */
	"optee_rpc_cmd", "optee_handle_rpc", "handle_rpc_func_cmd", "optee_supp_thrd_req", NULL
};
/* Waiting for block I/O to complete (Linux 6.1..6.12 block layer and page cache) */
static const char *const io_fns[] = {
	"submit_bio_wait", "blkdev_issue_flush", "folio_wait_bit_common", "folio_wait_writeback",
	"wait_on_page_bit_common", "__wait_on_buffer", "__filemap_fdatawait_range", "io_schedule",
	NULL
};
/* A parked SCMI call on these is the power-up of the device block I/O waits for */
static const char *const powerup_fns[] = {
	"__mmc_claim_host", "blk_mq_dispatch_rq_list", "rpmb_route_frames", NULL
};
/* The steps of the RPC path worth naming, in call order (outermost first). */
static const struct {
	const char *fn, *what;
} path_steps[] = {
	{ "optee_supp_thrd_req", "tee-supplicant request" },
	{ "rpmb_route_frames", "RPMB frames" },
	{ "blk_mq_dispatch_rq_list", "block request" },
	{ "__mmc_claim_host", "mmc host power-up" },
	{ "clk_prepare", "clock enable" },
	{ "clk_core_prepare", "clock enable" },
	{ "regulator_enable", "regulator enable" },
	{ "scmi_optee_send_message", "SCMI over OP-TEE" },
};

struct task {
	char *header;	/* "pid/tid (comm) state S" */
	char *comm;
	struct strbuf stack;	/* the raw lines */
	struct strvec fns;	/* function names, innermost first */
};

static bool has_fn(const struct task *t, const char *fn)
{
	return strvec_contains(&t->fns, fn);
}

static bool has_any(const struct task *t, const char *const *fns)
{
	for (size_t i = 0; fns[i]; i++)
		if (has_fn(t, fns[i]))
			return true;
	return false;
}

/* "[<0>] optee_cq_wait_init+0xb4/0x184 [mod]" -> "optee_cq_wait_init" */
static char *fn_name(const char *line)
{
	const char *p = strstr(line, "] ");
	size_t n;

	p = p ? p + 2 : line;
	n = strcspn(p, "+ \t");
	return n ? xstrndup(p, n) : NULL;
}

static void parse_tasks(const char *text, struct task **tasks, size_t *nr)
{
	char *copy = xstrdup(text ? text : ""), *save = NULL;
	struct task *cur = NULL;

	*tasks = NULL;
	*nr = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (starts_with(l, "===== task ")) {
			/* comm may hold spaces and ')' too: it ends at ") state " */
			const char *open = strchr(l, '('), *close = strstr(l, ") state ");

			*tasks = xrealloc(*tasks, (*nr + 1) * sizeof(**tasks));
			cur = &(*tasks)[(*nr)++];
			memset(cur, 0, sizeof(*cur));
			cur->header = xstrdup(l + 11);
			cur->comm = open && close > open ? xstrndup(open + 1, (size_t)(close - open - 1))
							 : xstrdup("?");
		} else if (starts_with(l, "=====")) {
			cur = NULL;
		} else if (cur && strstr(l, "[<")) {
			char *fn = fn_name(l);

			strbuf_addf(&cur->stack, "%s\n", l);
			if (fn)
				strvec_push(&cur->fns, fn);
			free(fn);
		}
	}
	free(copy);
}

/* "RPMB frames -> mmc host power-up -> regulator enable -> SCMI over OP-TEE" */
static void describe_path(const struct task *t, struct strbuf *sb)
{
	const char *last = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(path_steps); i++) {
		if (!has_fn(t, path_steps[i].fn) || (last && !strcmp(last, path_steps[i].what)))
			continue;
		strbuf_addf(sb, "%s%s", last ? " -> " : "", path_steps[i].what);
		last = path_steps[i].what;
	}
}

/* ", from fsync" for a stack entered through __arm64_sys_fsync */
static void describe_syscall(const struct task *t, struct strbuf *sb)
{
	for (size_t i = 0; i < t->fns.nr; i++)
		if (starts_with(t->fns.v[i], "__arm64_sys_")) {
			strbuf_addf(sb, ", from %s()", t->fns.v[i] + strlen("__arm64_sys_"));
			return;
		}
}

void tee_chain_analyse(const char *guest, int threads, struct tee_chain *out)
{
	struct task *tasks = NULL;
	struct strbuf sb = STRBUF_INIT, who = STRBUF_INIT;
	const struct task *scmi = NULL, *supp = NULL, *supp_io = NULL;
	size_t nr = 0;

	memset(out, 0, sizeof(*out));
	parse_tasks(guest, &tasks, &nr);
	for (size_t i = 0; i < nr; i++) {
		const struct task *t = &tasks[i];
		bool queued = has_any(t, queue_fns);
		bool rpc = has_any(t, rpc_fns);

		/* its threads: the one in the TEE driver says what it does */
		if (!strcmp(t->comm, "tee-supplicant") &&
		    (!supp || has_fn(t, "tee_ioctl") || has_any(t, queue_fns)))
			supp = t;
		/* a supplicant thread serving a file system RPC, stuck on the disk */
		if (!strcmp(t->comm, "tee-supplicant") && !supp_io && has_any(t, io_fns))
			supp_io = t;
		if (queued) {
			out->queued++;
			strbuf_addf(&who, "%s%s %.*s", who.len ? ", " : "", t->comm,
				    (int)strcspn(t->header, " "), t->header);
		}
		if (queued && has_fn(t, "scmi_optee_send_message")) {
			out->scmi_queued++;
			if (!scmi)
				scmi = t;
			if (rpc)
				out->rpc_scmi++;
		}
		/* a task queued for a thread in its own RPC still holds the outer thread */
		if (rpc)
			out->in_rpc++;
	}
	/* each RPC that the parked SCMI call blocks, directly or through I/O */
	for (size_t i = 0; scmi && has_any(scmi, powerup_fns) && i < nr; i++) {
		const struct task *t = &tasks[i];

		if (!has_any(t, rpc_fns) || (has_any(t, queue_fns) && has_fn(t, "scmi_optee_send_message")))
			continue;	/* not in an RPC, or counted in rpc_scmi */
		if ((has_any(t, io_fns) || has_fn(t, "blk_execute_rq")) ||
		    (has_fn(t, "optee_supp_thrd_req") && supp_io))
			out->rpc_blocked++;
	}
	out->rpc_blocked += out->rpc_scmi;
	for (size_t i = 0; i < nr; i++)
		if (has_any(&tasks[i], rpc_fns) && has_fn(&tasks[i], "optee_notif_wait"))
			out->rpc_notif++;
	if (!out->queued) {
		strbuf_addstr(&sb, "No task waits for an OP-TEE thread (no optee_cq_wait_* in any "
			      "kernel stack): not the TEE thread-exhaustion chain.");
	} else {
		strbuf_addf(&sb, "%zu task(s) wait for a free OP-TEE thread in the OP-TEE call "
			    "queue (optee_cq_wait_init): %s.", out->queued, strbuf_str(&who));
		if (scmi) {
			strbuf_addf(&sb, " %zu of them %s an SCMI call (scmi_optee_send_message)",
				    out->scmi_queued, out->scmi_queued == 1 ? "is" : "are");
			if (out->rpc_scmi) {
				strbuf_addstr(&sb, " made while serving an OP-TEE RPC (");
				describe_path(scmi, &sb);
				strbuf_addstr(&sb, "): that RPC holds an OP-TEE thread until the SCMI "
					      "call returns, and the SCMI call needs a free thread.");
			} else {
				strbuf_addstr(&sb, " (");
				describe_path(scmi, &sb);
				strbuf_addstr(&sb, ").");
			}
		}
		if (out->rpc_notif)
			strbuf_addf(&sb, " %zu task(s) serving an RPC wait for an OP-TEE "
				    "notification (optee_notif_wait: a lock another OP-TEE thread "
				    "holds).", out->rpc_notif);
		if (threads > 0)
			strbuf_addf(&sb, " %zu/%d OP-TEE threads held by tasks in an RPC "
				    "(CFG_NUM_THREADS=%d).", out->in_rpc, threads, threads);
		else
			strbuf_addf(&sb, " %zu task(s) in an OP-TEE RPC.", out->in_rpc);
	}
	if (supp_io) {
		strbuf_addf(&sb, " tee-supplicant thread %.*s serves an RPC and waits for block I/O "
			    "(%s", (int)strcspn(supp_io->header, " "), supp_io->header,
			    supp_io->fns.v[0]);
		describe_syscall(supp_io, &sb);
		strbuf_addch(&sb, ')');
		if (scmi && has_fn(scmi, "blk_mq_dispatch_rq_list"))
			strbuf_addf(&sb, "; that I/O waits for %s %.*s, whose eMMC power-up is "
				    "the SCMI call parked above: the RPC cannot complete, so its "
				    "OP-TEE thread stays held.", scmi->comm,
				    (int)strcspn(scmi->header, " "), scmi->header);
		else
			strbuf_addch(&sb, '.');
	} else if (supp) {
		if (has_fn(supp, "optee_supp_recv"))
			strbuf_addstr(&sb, " tee-supplicant is idle (optee_supp_recv).");
		else if (has_any(supp, queue_fns))
			strbuf_addstr(&sb, " tee-supplicant itself is parked in the OP-TEE call queue.");
		else if (supp->fns.nr)
			strbuf_addf(&sb, " tee-supplicant is blocked in %s.", supp->fns.v[0]);
	}
	out->summary = strbuf_detach(&sb);
	if (scmi)
		out->scmi_stack = xasprintf("===== task %s\n%s", scmi->header,
					    strbuf_str(&scmi->stack));
	for (size_t i = 0; i < nr; i++) {
		free(tasks[i].header);
		free(tasks[i].comm);
		strbuf_release(&tasks[i].stack);
		strvec_release(&tasks[i].fns);
	}
	free(tasks);
	strbuf_release(&who);
}

void tee_chain_release(struct tee_chain *c)
{
	free(c->scmi_stack);
	free(c->summary);
	memset(c, 0, sizeof(*c));
}
