// SPDX-License-Identifier: MIT
/* optee_threads.c - OP-TEE's thread table and the deadlock proven from state; see optee_threads.h */
#include "optee_threads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OPTEE_RPC_CMD_NOTIFICATION (OP-TEE 4.10 core/include/optee_rpc_cmd.h) */
#define OPTEE_RPC_NOTIFICATION 4

/* OPTEE_RPC_CMD_* (OP-TEE 4.10 core/include/optee_rpc_cmd.h) */
static const struct {
	long cmd;
	const char *name;
} rpc_names[] = {
	{ 0, "load TA" }, { 1, "RPMB (tee-supplicant)" }, { 2, "REE FS (tee-supplicant)" },
	{ 3, "get time" }, { 4, "notification (wait queue)" }, { 5, "suspend (TEE_Wait)" },
	{ 6, "shm alloc" }, { 7, "shm free" }, { 9, "gprof" }, { 10, "socket" },
	{ 11, "ftrace" }, { 12, "supplicant plugin" }, { 20, "benchmark register" },
	{ 21, "I2C transfer" }, { 22, "RPMB probe reset" }, { 23, "RPMB probe next" },
	{ 24, "RPMB frames" },
};

/* PTAs of OP-TEE 4.10 (lib/libutee/include/pta_*.h) worth naming in a deadlock */
static const struct {
	const char *uuid, *name;
} pta_names[] = {
	{ "a8cfe406-d4f5-4a2e-9f8d-a25dc754c099", "the SCMI PTA" },
	{ "3a2f8978-5dc0-11e8-9c2d-fa7ae01bbebc", "the system PTA" },
	{ "7011a688-ddde-4053-a5a9-7b3c4ddf13b8", "the device PTA" },
	{ "6e256cba-fc4d-4941-ad09-2ca1860342dd", "the secure storage TA management PTA" },
	{ "ab7a617c-b8e7-4d8f-8301-d09b61036b64", "the RNG PTA" },
	{ "d96a5b40-c3e5-21e3-8794-1002a5d5c61b", "the invoke-tests PTA" },
};

const char *optee_rpc_name(long cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(rpc_names); i++)
		if (rpc_names[i].cmd == cmd)
			return rpc_names[i].name;
	return NULL;
}

const char *optee_uuid_name(const char *uuid, const struct strvec *tas)
{
	size_t n = strlen(uuid);

	for (size_t i = 0; tas && n && i < tas->nr; i++)
		if (!strncmp(tas->v[i], uuid, n) && tas->v[i][n] == '\t')
			return tas->v[i] + n + 1;
	for (size_t i = 0; n && i < ARRAY_SIZE(pta_names); i++)
		if (!strcmp(pta_names[i].uuid, uuid))
			return pta_names[i].name;
	return NULL;
}

/* "key=value" in @tok: the value, or NULL */
static const char *value_of(const char *tok, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(tok, key, n) && tok[n] == '=' ? tok + n + 1 : NULL;
}

static int index_of(const char *v, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static void parse_thread(struct optee_threads *ot, char *rest)
{
	static const char *const states[] = { "free", "active", "suspended", NULL };
	static const char *const waits[] = { "none", "rpc", "rpc-alloc", "foreign-intr", "other", NULL };
	static const char *const sessions[] = { "none", "ta", "pta", "other", NULL };
	struct optee_thread th = { .state = OT_STATE_UNKNOWN, .rpc = -1 };
	char *save = NULL, *tok = strtok_r(rest, " ", &save), *end = NULL;
	const char *v;
	long idx;
	int i;

	if (!tok)
		return;
	idx = strtol(tok, &end, 10);
	if (end == tok || *end || idx < 0 || idx > 1024)
		return;
	th.index = (int)idx;
	while ((tok = strtok_r(NULL, " ", &save))) {
		if ((v = value_of(tok, "state")))
			th.state = (i = index_of(v, states)) < 0 ? OT_STATE_UNKNOWN : (enum ot_state)i;
		else if ((v = value_of(tok, "wait")))
			th.wait = (i = index_of(v, waits)) < 0 ? OTW_OTHER : (enum ot_wait)i;
		else if ((v = value_of(tok, "rpc")))
			th.rpc = strtol(v, NULL, 10);
		else if ((v = value_of(tok, "session")))
			th.session = (i = index_of(v, sessions)) < 0 ? OTS_OTHER : (enum ot_session)i;
		else if ((v = value_of(tok, "uuid")))
			snprintf(th.uuid, sizeof(th.uuid), "%s", v);
		else if ((v = value_of(tok, "flags")))
			th.flags = (unsigned int)strtoul(v, NULL, 0);
	}
	ot->t = xrealloc(ot->t, (ot->nr + 1) * sizeof(*ot->t));
	ot->t[ot->nr++] = th;
}

int optee_threads_parse(const char *text, struct optee_threads *out)
{
	const char *start = text ? strstr(text, "===== optee-threads\n") : NULL;
	bool section = start != NULL;
	char *copy, *save = NULL;

	memset(out, 0, sizeof(*out));
	out->scmi = -1;
	out->fast_ns = -1;
	if (!text)
		return -ENOENT;
	copy = xstrdup(section ? start + strlen("===== optee-threads\n") : text);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		long ns;

		if (starts_with(l, "====="))
			break;
		if (starts_with(l, "unavailable: ")) {
			out->present = true;
			free(out->why);
			out->why = xstrdup(l + 13);
		} else if (starts_with(l, "teelab-optee-threads ")) {
			out->present = out->available = true;
		} else if (starts_with(l, "threads ")) {
			out->count = strtoul(l + 8, NULL, 10);
		} else if (starts_with(l, "scmi-server ")) {
			out->scmi = strstr(l, " busy") ? 1 : strstr(l, " idle") ? 0 : -1;
		} else if (starts_with(l, "thread ")) {
			parse_thread(out, l + 7);
		} else if (sscanf(l, "fast-calls %*u in %ld ns", &ns) == 1) {
			out->fast_ns = ns;
		}
	}
	free(copy);
	if (out->available) {
		free(out->why);
		out->why = NULL;
	}
	return out->present ? 0 : -ENOENT;
}

void optee_threads_release(struct optee_threads *ot)
{
	free(ot->why);
	free(ot->t);
	memset(ot, 0, sizeof(*ot));
}

static size_t count_in_rpc(const struct optee_threads *ot)
{
	size_t n = 0;

	for (size_t i = 0; i < ot->nr; i++)
		n += ot->t[i].state == OT_SUSPENDED && ot->t[i].wait == OTW_RPC;
	return n;
}

static size_t count_rpc(const struct optee_threads *ot, long cmd)
{
	size_t n = 0;

	for (size_t i = 0; i < ot->nr; i++)
		n += ot->t[i].state == OT_SUSPENDED && ot->t[i].wait == OTW_RPC && ot->t[i].rpc == cmd;
	return n;
}

static void describe_thread(const struct optee_thread *t, const struct strvec *tas,
			    struct strbuf *sb)
{
	const char *name = t->uuid[0] ? optee_uuid_name(t->uuid, tas) : NULL;

	strbuf_addf(sb, "thread %d ", t->index);
	switch (t->state) {
	case OT_FREE:
		strbuf_addstr(sb, "free");
		return;
	case OT_ACTIVE:
		strbuf_addstr(sb, "running");
		return;
	case OT_STATE_UNKNOWN:
		strbuf_addstr(sb, "in an unknown state");
		return;
	case OT_SUSPENDED:
		break;
	}
	switch (t->wait) {
	case OTW_RPC: {
		const char *rpc = optee_rpc_name(t->rpc);

		if (rpc)
			strbuf_addf(sb, "in RPC %s", rpc);
		else
			strbuf_addf(sb, "in RPC command %ld", t->rpc);
		break;
	}
	case OTW_RPC_ALLOC:
		strbuf_addstr(sb, "in RPC (allocating its RPC argument)");
		break;
	case OTW_FOREIGN_INTR:
		strbuf_addstr(sb, "suspended for a normal-world interrupt");
		break;
	case OTW_NONE:
	case OTW_OTHER:
		strbuf_addstr(sb, "suspended");
		break;
	}
	if (t->session == OTS_NONE || !t->uuid[0])
		return;
	if (name && starts_with(name, "the "))
		strbuf_addf(sb, " for %s", name);
	else
		strbuf_addf(sb, " for %s %s", t->session == OTS_PTA ? "PTA" : "TA",
			    name ? name : t->uuid);
}

char *optee_threads_describe(const struct optee_threads *ot, const struct strvec *tas)
{
	struct strbuf sb = STRBUF_INIT;
	size_t suspended = 0, free_ = 0;

	if (!ot->present)
		return xstrdup("OP-TEE: no thread states (no answer from the guest)");
	if (!ot->available)
		return xasprintf("OP-TEE: no thread states: %s", ot->why ? ot->why : "unavailable");
	for (size_t i = 0; i < ot->nr; i++) {
		suspended += ot->t[i].state == OT_SUSPENDED;
		free_ += ot->t[i].state == OT_FREE;
	}
	strbuf_addf(&sb, "OP-TEE: %zu/%zu thread%s suspended", suspended, ot->count,
		    ot->count == 1 ? "" : "s");
	if (free_)
		strbuf_addf(&sb, ", %zu free", free_);
	for (size_t i = 0; i < ot->nr; i++) {
		strbuf_addstr(&sb, i ? ", " : ": ");
		describe_thread(&ot->t[i], tas, &sb);
	}
	if (ot->scmi >= 0)
		strbuf_addf(&sb, "; SCMI channel 0 %s", ot->scmi ? "busy (a message in service)"
							 : "idle (no message reached the server)");
	strbuf_addch(&sb, '.');
	return strbuf_detach(&sb);
}

size_t optee_threads_compare(const struct optee_threads *ot, const struct tee_chain *c,
			     int threads, struct strbuf *sb)
{
	size_t n = 0, in_rpc;

	if (!ot->available)
		return 0;
	in_rpc = count_in_rpc(ot);
	if (threads > 0 && (size_t)threads != ot->count) {
		strbuf_addf(sb, "The build flags say CFG_NUM_THREADS=%d, OP-TEE reports %zu threads. ",
			    threads, ot->count);
		n++;
	}
	if (c->in_rpc != in_rpc) {
		strbuf_addf(sb, "Linux's stacks show %zu task(s) serving an OP-TEE RPC, OP-TEE "
			    "reports %zu thread(s) suspended in one: they disagree%s. ", c->in_rpc,
			    in_rpc, c->in_rpc < in_rpc ? " (an RPC may be served by a thread Linux's "
			    "stacks do not name, or was answered between the two reads)" :
			    " (a task may have left OP-TEE between the two reads)");
		n++;
	}
	if (c->scmi_queued && ot->scmi == 1) {
		strbuf_addstr(sb, "Linux parks an SCMI call in the call queue, yet OP-TEE's SCMI "
			      "channel is busy: they disagree. ");
		n++;
	}
	return n;
}

bool optee_deadlock_closed(const struct optee_threads *ot, const struct tee_chain *c,
			   struct strbuf *why)
{
	size_t in_rpc;

	if (!ot->available) {
		strbuf_addstr(why, "OP-TEE's thread states cannot be read");
		return false;
	}
	in_rpc = count_in_rpc(ot);
	if (!ot->count || ot->nr != ot->count || in_rpc != ot->count) {
		strbuf_addf(why, "not every OP-TEE thread is suspended in an RPC (%zu of %zu)",
			    in_rpc, ot->count);
		return false;
	}
	if (!c->scmi_queued) {
		strbuf_addstr(why, "no SCMI call waits in the OP-TEE call queue");
		return false;
	}
	if (c->in_rpc != in_rpc) {
		strbuf_addf(why, "Linux's stacks show %zu task(s) in an RPC for %zu suspended "
			    "thread(s)", c->in_rpc, in_rpc);
		return false;
	}
	if (!c->rpc_blocked || c->rpc_blocked + c->rpc_notif != c->in_rpc) {
		strbuf_addf(why, "%zu of the %zu task(s) serving an RPC wait on something other "
			    "than the parked SCMI call or another OP-TEE thread",
			    c->in_rpc - c->rpc_blocked - c->rpc_notif, c->in_rpc);
		return false;
	}
	if (count_rpc(ot, OPTEE_RPC_NOTIFICATION) != c->rpc_notif) {
		strbuf_addf(why, "OP-TEE has %zu thread(s) in a notification wait, Linux's stacks %zu",
			    count_rpc(ot, OPTEE_RPC_NOTIFICATION), c->rpc_notif);
		return false;
	}
	strbuf_addf(why, "every OP-TEE thread (%zu/%zu) is suspended in an RPC to the normal "
		    "world. %zu of the RPCs %s blocked by the SCMI call parked in the OP-TEE "
		    "call queue (%s)", in_rpc, ot->count, c->rpc_blocked,
		    c->rpc_blocked == 1 ? "is" : "are",
		    c->rpc_scmi ? "made while serving the RPC"
				: "the power-up of the device the RPC's I/O waits for");
	if (c->rpc_notif)
		strbuf_addf(why, "; %zu %s for an OP-TEE notification (a lock another OP-TEE "
			    "thread holds), which only a running OP-TEE thread can send",
			    c->rpc_notif, c->rpc_notif == 1 ? "waits" : "wait");
	strbuf_addstr(why, ". The parked call needs a free OP-TEE thread, and no thread "
		      "returns before its RPC does: a cycle, nothing in it can move");
	return true;
}

char *optee_threads_key(const struct optee_threads *ot)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%d:%zu:%d", ot->available, ot->count, ot->scmi);
	for (size_t i = 0; i < ot->nr; i++)
		strbuf_addf(&sb, "|%d/%d/%d/%ld/%s", ot->t[i].index, ot->t[i].state, ot->t[i].wait,
			    ot->t[i].rpc, ot->t[i].uuid);
	return strbuf_detach(&sb);
}
