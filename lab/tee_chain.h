/* SPDX-License-Identifier: MIT */
/*
 * tee_chain.h - names the TEE thread-exhaustion chain in a stuck guest from
 * the kernel stacks `tl-evidence` prints (images/rootfs/overlay/usr/bin).
 *
 * The chain (Linux 6.8 "optee: add system thread support", cover letter):
 * every OP-TEE thread is suspended in an RPC to the normal world (frames
 * for RPMB, a tee-supplicant request...); serving that RPC powers a device
 * up through SCMI, and the SCMI OP-TEE transport's call into OP-TEE gets
 * OPTEE_SMC_RETURN_ETHREAD_LIMIT, so the kernel parks it in the OP-TEE
 * call queue (drivers/tee/optee/call.c: optee_cq_wait_init(), then
 * optee_cq_wait_for_completion()) until a thread returns - never.
 *
 * Input format, per task (tl-evidence):
 *   ===== task <pid>/<tid> (<comm>) state <state>
 *   [<0>] function+0xoff/0xlen [module]
 *   ...
 */
#ifndef TEELAB_TEE_CHAIN_H
#define TEELAB_TEE_CHAIN_H

#include <stddef.h>

struct tee_chain {
	size_t queued;		/* tasks parked in the OP-TEE call queue */
	size_t scmi_queued;	/* ... of which SCMI calls (scmi_optee_send_message) */
	size_t in_rpc;		/* tasks serving an OP-TEE RPC (each holds an OP-TEE thread) */
	size_t rpc_scmi;	/* ... whose RPC waits for a queued SCMI call */
	/*
	 * ... blocked by the parked SCMI call: made it themselves (rpc_scmi),
	 * or wait on block I/O, or on a tee-supplicant thread that waits on
	 * block I/O, while the parked call is the storage device's power-up
	 */
	size_t rpc_blocked;
	/*
	 * ... whose RPC is a wait for an OP-TEE notification (optee_notif_wait:
	 * an OP-TEE mutex or condvar another OP-TEE thread holds), which only
	 * a running OP-TEE thread can end
	 */
	size_t rpc_notif;
	char *scmi_stack;	/* the stack of the first queued SCMI call (malloc'd), or NULL */
	char *summary;		/* one paragraph (malloc'd), never NULL */
};

/*
 * Analyse tl-evidence output @guest. @threads is OP-TEE's CFG_NUM_THREADS
 * if known, else 0. Fills @out (release with tee_chain_release()).
 */
void tee_chain_analyse(const char *guest, int threads, struct tee_chain *out);
void tee_chain_release(struct tee_chain *c);

#endif
