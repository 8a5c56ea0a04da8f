/* SPDX-License-Identifier: MIT */
/*
 * optee_threads.h - OP-TEE's own thread table, as the lab-only fast call
 * reports it, and the thread-exhaustion deadlock decided from both worlds'
 * state instead of a timeout.
 *
 * The answer comes from /proc/teelab/optee-threads in the guest
 * (images/kmod/teelab-tee-state, which issues the fast call that
 * images/optee/thread-state adds to teelab's lab OP-TEE builds; the
 * registers are defined there). tl-tee-state and tl-evidence print it
 * after a "===== optee-threads" line:
 *
 *   teelab-optee-threads 1
 *   threads 2
 *   scmi-server yes channel-0 idle
 *   thread 0 state=suspended wait=rpc rpc=24 session=ta uuid=<uuid> flags=0x1
 *   thread 1 state=free flags=0x0
 *   fast-calls 3 in 41250 ns
 *
 * or "unavailable: <why>".
 */
#ifndef TEELAB_OPTEE_THREADS_H
#define TEELAB_OPTEE_THREADS_H

#include <stdbool.h>
#include <stddef.h>

#include "tee_chain.h"
#include "util.h"

enum ot_state { OT_FREE, OT_ACTIVE, OT_SUSPENDED, OT_STATE_UNKNOWN };
enum ot_wait { OTW_NONE, OTW_RPC, OTW_RPC_ALLOC, OTW_FOREIGN_INTR, OTW_OTHER };
enum ot_session { OTS_NONE, OTS_TA, OTS_PTA, OTS_OTHER };

struct optee_thread {
	int index;
	enum ot_state state;
	enum ot_wait wait;
	long rpc;		/* OPTEE_RPC_CMD_* for OTW_RPC, else -1 */
	enum ot_session session;
	char uuid[37];		/* the current session's TA/PTA, or "" */
	unsigned int flags;	/* struct thread_ctx.flags (THREAD_FLAGS_*) */
};

struct optee_threads {
	bool present;		/* a "===== optee-threads" section (or the raw answer) was found */
	bool available;		/* OP-TEE answered the fast call */
	char *why;		/* !available: the module's reason (malloc'd), or NULL */
	size_t count;		/* OP-TEE's thread_count (CFG_NUM_THREADS) */
	int scmi;		/* teelab's SCMI channel 0: -1 no server, 0 idle, 1 busy */
	struct optee_thread *t;	/* the threads reported (malloc'd), nr of them */
	size_t nr;
	long fast_ns;		/* the module's time for all its fast calls, or -1 */
};

/*
 * Parse the answer in @text: the lines after "===== optee-threads" up to
 * the next "=====" line, or, with no such line, all of @text. Unknown
 * lines and tokens are skipped (a newer module may add some). Returns
 * 0, or -ENOENT if @text has no answer at all (out->present false).
 */
int optee_threads_parse(const char *text, struct optee_threads *out);
void optee_threads_release(struct optee_threads *ot);

/* OPTEE_RPC_CMD_* by name ("RPMB frames"); NULL for numbers OP-TEE 4.10 does not define.
 * Values: OP-TEE 4.10 core/include/optee_rpc_cmd.h (= Linux drivers/tee/optee/optee_rpc_cmd.h). */
const char *optee_rpc_name(long cmd);

/*
 * A name for @uuid: the lab TA it is (@tas: "uuid\tname" lines, may be
 * NULL), or a PTA OP-TEE 4.10 defines (core/include/pta_*.h), else NULL.
 */
const char *optee_uuid_name(const char *uuid, const struct strvec *tas);

/*
 * "OP-TEE: 2/2 threads suspended: thread 0 in RPC RPMB frames for TA
 * teelab-storage, thread 1 ...; SCMI channel 0 idle." (malloc'd).
 */
char *optee_threads_describe(const struct optee_threads *ot, const struct strvec *tas);

/*
 * Where the normal world's inference (@c, from the kernel stacks) and the
 * secure world's answer disagree, one sentence per disagreement appended
 * to @sb; @threads is CFG_NUM_THREADS from the build flags (0 unknown).
 * Returns the number of disagreements.
 */
size_t optee_threads_compare(const struct optee_threads *ot, const struct tee_chain *c,
			     int threads, struct strbuf *sb);

/*
 * Whether @ot and @c together close the thread-exhaustion cycle (see
 * tee_chain.h): every OP-TEE thread is suspended in an RPC (none free,
 * none running), an SCMI call is parked in the OP-TEE call queue, and
 * every task serving one of those RPCs is blocked by that parked call
 * (it made it, or it waits on I/O or tee-supplicant whose device power-up
 * it is). The proof, or the first condition that fails, goes to @why.
 * One sample only: the caller asks for the same answer twice.
 */
bool optee_deadlock_closed(const struct optee_threads *ot, const struct tee_chain *c,
			   struct strbuf *why);

/* A fingerprint of the secure state (each thread's state, wait, RPC, UUID), malloc'd. */
char *optee_threads_key(const struct optee_threads *ot);

#endif
