/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tl_ta.h - what every teelab Trusted Application has in common.
 *
 * teelab's own code. The lab TAs are stateless: no instance data, no
 * session context, sessions opened without parameters; each offers a
 * CMD_SLEEP that holds an OP-TEE thread in an RPC. This header gives them
 * the parameter-type shorthands, tl_ta_cmd_sleep() and the four entry
 * points other than TA_InvokeCommandEntryPoint (GlobalPlatform TEE
 * Internal Core API v1.3, section 4.3).
 *
 * It defines functions: include it from exactly one source file of a TA,
 * after <tee_internal_api.h>. A TA's sub.mk adds the directory with
 * `global-incdirs-y += ../common/include`; teelab hashes images/ta/common
 * into every TA's build (lab/images.c).
 */
#ifndef TL_TA_H
#define TL_TA_H

#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>

#define PT_NONE		TEE_PARAM_TYPE_NONE
#define PT_VAL_IN	TEE_PARAM_TYPE_VALUE_INPUT
#define PT_VAL_OUT	TEE_PARAM_TYPE_VALUE_OUTPUT
#define PT_VAL_INOUT	TEE_PARAM_TYPE_VALUE_INOUT
#define PT_MEM_IN	TEE_PARAM_TYPE_MEMREF_INPUT
#define PT_MEM_INOUT	TEE_PARAM_TYPE_MEMREF_INOUT

/*
 * CMD_SLEEP: value[0].a = milliseconds.  Returns TEE_Wait()'s result:
 * TEE_SUCCESS after the time, or TEE_ERROR_CANCEL if the client cancelled
 * and cancellation was unmasked (OP-TEE masks it by default, so in
 * practice TEE_SUCCESS).  In OP-TEE the waiting thread leaves the secure
 * world in an RPC (OPTEE_RPC_CMD_SUSPEND), so this holds one OP-TEE thread
 * for the time.  Errors: TEE_ERROR_BAD_PARAMETERS (types).
 */
static TEE_Result tl_ta_cmd_sleep(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t exp_pt = TEE_PARAM_TYPES(PT_VAL_IN, PT_NONE,
						PT_NONE, PT_NONE);
	TEE_Result res = TEE_ERROR_GENERIC;

	if (pt != exp_pt)
		return TEE_ERROR_BAD_PARAMETERS;
	res = TEE_Wait(params[0].value.a);
	DMSG("sleep %" PRIu32 " ms: %#" PRIx32, params[0].value.a, res);
	return res;
}

#ifndef TL_TA_OWN_ENTRY_POINTS
/*
 * The four entry points below are those of a stateless TA. A TA that keeps
 * state or logs its entry points (teelab-ctx) defines TL_TA_OWN_ENTRY_POINTS
 * before including this header and provides them itself.
 */

/* Instance constructor; nothing to set up.  Always TEE_SUCCESS. */
TEE_Result TA_CreateEntryPoint(void)
{
	return TEE_SUCCESS;
}

/* Instance destructor; nothing to release. */
void TA_DestroyEntryPoint(void)
{
}

/*
 * Opens a session.  Takes no parameters: TEE_ERROR_BAD_PARAMETERS unless all
 * four are NONE.  No session context.
 */
TEE_Result TA_OpenSessionEntryPoint(uint32_t pt,
				    TEE_Param params[TEE_NUM_PARAMS],
				    void **sess_ctx)
{
	(void)params;

	if (pt != TEE_PARAM_TYPES(PT_NONE, PT_NONE, PT_NONE, PT_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	*sess_ctx = NULL;
	return TEE_SUCCESS;
}

/* Closes a session; nothing to release. */
void TA_CloseSessionEntryPoint(void *sess_ctx)
{
	(void)sess_ctx;
}
#endif /* TL_TA_OWN_ENTRY_POINTS */

#endif
