// SPDX-License-Identifier: BSD-2-Clause
/*
 * teelab_thread_state.c - a lab-only fast call that reports what every
 * OP-TEE thread is doing, for teelab's deadlock evidence and detector.
 *
 * Why a fast call
 *   In a thread-exhaustion deadlock every OP-TEE thread is suspended in an
 *   RPC, so nothing that needs a yielding call (a session, a PTA) can ask
 *   OP-TEE anything. A fast call runs on the calling CPU's temporary stack
 *   without an OP-TEE thread (SMC Calling Convention, Arm DEN0028, "Fast
 *   Calls"), with every exception masked, and returns at once.
 *
 * Function ID
 *   TEELAB_SMC_THREAD_STATE = 0xF3000001: fast call (bit 31), SMC64 (bit
 *   30), owning entity number 51, function 1. OENs 50-63 are SMCCC's
 *   "Trusted OS" range, which TF-A's opteed dispatcher forwards to OP-TEE
 *   (services/spd/opteed: OEN_TOS_START..OEN_TOS_END). OP-TEE's own ABI
 *   uses OEN 50 (OPTEE_SMC_OWNER_TRUSTED_OS) and 63
 *   (OPTEE_SMC_OWNER_TRUSTED_OS_API) only (core/arch/arm/include/sm/
 *   optee_smc.h), so no OP-TEE function can ever have this ID. The normal
 *   world's side is images/kmod/teelab-tee-state.
 *
 *   Request  x1 = 0: the header.
 *              x0 = OPTEE_SMC_RETURN_OK
 *              x1 = 0x544c5453 ("TLTS") << 32 | version (1)
 *              x2 = the number of threads (thread_count, CFG_NUM_THREADS)
 *              x3 = bit 63: teelab's SCMI server is built in;
 *                   bit 0: its channel 0 is busy (a message being served)
 *   Request  x1 = 1, x2 = thread index:
 *              x0 = OPTEE_SMC_RETURN_OK, or OPTEE_SMC_RETURN_EBADCMD if
 *                   the index is out of range
 *              x1 = bits 0-7 state (TEELAB_TS_FREE/ACTIVE/SUSPENDED),
 *                   bits 8-15 what a suspended thread waits for
 *                   (TEELAB_TS_WAIT_*), bits 16-23 its session's kind
 *                   (TEELAB_TS_SESS_*), bits 24-31 struct thread_ctx.flags,
 *                   bits 32-63 the RPC command (OPTEE_RPC_CMD_*,
 *                   core/include/optee_rpc_cmd.h) for TEELAB_TS_WAIT_RPC,
 *                   else 0xffffffff
 *              x2, x3 = the UUID of the thread's current session's TA or
 *                   PTA as 16 bytes in RFC 4122 order, x2 the first 8
 *                   bytes (big-endian), x3 the last 8; 0 with no session
 *   Any other x1: x0 = OPTEE_SMC_RETURN_EBADCMD.
 *
 * What is read, and how safe it is
 *   threads[] and thread_count (core/kernel/thread.c), without the global
 *   thread lock, which is private to thread.c: a thread may change state
 *   while it is read (the answer is a sample, the detector reads twice).
 *   Only a suspended thread's session and RPC argument are read: nothing
 *   else touches them while it is suspended. Every pointer followed points
 *   into core heap memory or the thread's mapped RPC argument buffer, which
 *   stay mapped, so a stale read gives a stale answer, never an abort.
 *   - A thread suspended with THREAD_FLAGS_COPY_ARGS_ON_RETURN left in
 *     thread_rpc() (thread_optee_smc_a64.S): an RPC. With its RPC argument
 *     allocated (threads[n].rpc_arg, struct optee_msg_arg), the RPC was
 *     OPTEE_SMC_RETURN_RPC_CMD and arg->cmd names it (get_rpc_arg() in
 *     thread_optee_smc.c writes it before every RPC command); without, it
 *     was the allocation of that argument (OPTEE_SMC_RETURN_RPC_ALLOC).
 *   - THREAD_FLAGS_EXIT_ON_FOREIGN_INTR: left for a normal-world interrupt
 *     (OPTEE_SMC_RETURN_RPC_FOREIGN_INTR, thread_a64.S). thread_state_
 *     suspend() ORs the flags in and only COPY_ARGS_ON_RETURN is cleared
 *     on resume (core/arch/arm/kernel/thread.c), so EXIT_ON_FOREIGN_INTR
 *     stays set once a thread was interrupted: COPY_ARGS is checked first.
 *   - The current session is the head of tsd.sess_stack (ts_push_current_
 *     session() inserts at the head).
 *
 * Built only with CFG_TEELAB_THREAD_STATE=y (../../../../../plat-vexpress-
 * sub.mk.patch), and only into teelab's lab secure profiles: a product
 * must not tell the normal world what its threads do. The SMC ABI only:
 * with CFG_CORE_FFA OP-TEE takes no SMCCC fast calls (thread_spmc.c), and
 * the normal-world module says the fast call is not there.
 *
 * References: OP-TEE 4.10 core/arch/arm/tee/entry_fast.c (tee_entry_fast()
 * is __weak "to let platforms add special handling", and an override must
 * still call __tee_entry_fast(); plat-zynq7k does the same),
 * core/include/kernel/thread_private.h (struct thread_ctx, enum
 * thread_state), core/include/kernel/thread.h (THREAD_FLAGS_*).
 */
#include <drivers/scmi-msg.h>
#include <initcall.h>
#include <kernel/pseudo_ta.h>
#include <kernel/thread.h>
#include <kernel/thread_private.h>
#include <kernel/ts_manager.h>
#include <kernel/user_ta.h>
#include <optee_msg.h>
#include <sm/optee_smc.h>
#include <tee/entry_fast.h>
#include <trace.h>

#define TEELAB_SMC_THREAD_STATE		0xF3000001UL
#define TEELAB_TS_MAGIC			0x544c5453UL	/* "TLTS" */
#define TEELAB_TS_VERSION		1UL

#define TEELAB_TS_QUERY_HEADER		0
#define TEELAB_TS_QUERY_THREAD		1

#define TEELAB_TS_FREE			0
#define TEELAB_TS_ACTIVE		1
#define TEELAB_TS_SUSPENDED		2

#define TEELAB_TS_WAIT_NONE		0
#define TEELAB_TS_WAIT_RPC		1	/* OPTEE_SMC_RETURN_RPC_CMD */
#define TEELAB_TS_WAIT_RPC_ALLOC	2	/* OPTEE_SMC_RETURN_RPC_ALLOC of the RPC argument */
#define TEELAB_TS_WAIT_FOREIGN_INTR	3	/* OPTEE_SMC_RETURN_RPC_FOREIGN_INTR */
#define TEELAB_TS_WAIT_OTHER		4

#define TEELAB_TS_SESS_NONE		0
#define TEELAB_TS_SESS_TA		1
#define TEELAB_TS_SESS_PTA		2
#define TEELAB_TS_SESS_OTHER		3

#define TEELAB_TS_NO_RPC		0xffffffffUL

static unsigned long scmi_word(void)
{
#ifdef CFG_TEELAB_SCMI
	struct scmi_msg_channel *ch = plat_scmi_get_channel(0);

	return BIT64(63) | (ch && ch->busy ? 1 : 0);
#else
	return 0;
#endif
}

static uint64_t uuid_half(const TEE_UUID *u, bool second)
{
	uint64_t v = 0;

	if (!second)
		return (uint64_t)u->timeLow << 32 | (uint64_t)u->timeMid << 16 |
		       u->timeHiAndVersion;
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | u->clockSeqAndNode[i];
	return v;
}

static void answer_thread(struct thread_smc_args *args, size_t n)
{
	struct thread_ctx *thr = threads + n;
	enum thread_state st = thr->state;
	uint32_t flags = thr->flags;
	unsigned long state = TEELAB_TS_FREE, wait = TEELAB_TS_WAIT_NONE;
	unsigned long sess_kind = TEELAB_TS_SESS_NONE, rpc = TEELAB_TS_NO_RPC;
	struct ts_session *s = NULL;

	args->a2 = 0;
	args->a3 = 0;
	if (st == THREAD_STATE_ACTIVE)
		state = TEELAB_TS_ACTIVE;
	if (st == THREAD_STATE_SUSPENDED) {
		struct optee_msg_arg *arg = thr->rpc_arg;

		state = TEELAB_TS_SUSPENDED;
		if (flags & THREAD_FLAGS_COPY_ARGS_ON_RETURN) {
			wait = arg ? TEELAB_TS_WAIT_RPC : TEELAB_TS_WAIT_RPC_ALLOC;
			if (arg)
				rpc = arg->cmd;
		} else if (flags & THREAD_FLAGS_EXIT_ON_FOREIGN_INTR) {
			wait = TEELAB_TS_WAIT_FOREIGN_INTR;
		} else {
			wait = TEELAB_TS_WAIT_OTHER;
		}
		s = TAILQ_FIRST(&thr->tsd.sess_stack);
	}
	if (s && s->ctx) {
		if (is_user_ta_ctx(s->ctx))
			sess_kind = TEELAB_TS_SESS_TA;
		else if (is_pseudo_ta_ctx(s->ctx))
			sess_kind = TEELAB_TS_SESS_PTA;
		else
			sess_kind = TEELAB_TS_SESS_OTHER;
		args->a2 = uuid_half(&s->ctx->uuid, false);
		args->a3 = uuid_half(&s->ctx->uuid, true);
	}
	args->a1 = state | wait << 8 | sess_kind << 16 | (unsigned long)(flags & 0xff) << 24 |
		   rpc << 32;
	args->a0 = OPTEE_SMC_RETURN_OK;
}

/* Overrides the __weak default in core/arch/arm/tee/entry_fast.c */
void tee_entry_fast(struct thread_smc_args *args)
{
	if (args->a0 != TEELAB_SMC_THREAD_STATE) {
		__tee_entry_fast(args);
		return;
	}
	switch (args->a1) {
	case TEELAB_TS_QUERY_HEADER:
		args->a0 = OPTEE_SMC_RETURN_OK;
		args->a1 = TEELAB_TS_MAGIC << 32 | TEELAB_TS_VERSION;
		args->a2 = thread_count;
		args->a3 = scmi_word();
		break;
	case TEELAB_TS_QUERY_THREAD:
		if (args->a2 < thread_count) {
			answer_thread(args, args->a2);
			break;
		}
		fallthrough;
	default:
		args->a0 = OPTEE_SMC_RETURN_EBADCMD;
		args->a1 = 0;
		args->a2 = 0;
		args->a3 = 0;
		break;
	}
}

static TEE_Result teelab_thread_state_init(void)
{
	IMSG("teelab-thread-state: fast call %#lx answers for %zu threads",
	     TEELAB_SMC_THREAD_STATE, thread_count);
	return TEE_SUCCESS;
}

service_init(teelab_thread_state_init);
