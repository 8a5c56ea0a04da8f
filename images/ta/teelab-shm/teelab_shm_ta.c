// SPDX-License-Identifier: BSD-2-Clause
/*
 * teelab_shm_ta.c - the teelab-shm Trusted Application.
 *
 * teelab's own code, for the teelab QEMU lab (Linux TEE subsystem and
 * OP-TEE).  It checks that a client's shared memory buffer reaches the TA
 * intact and that the TA's writes reach the client (CMD_ROUNDTRIP), and it
 * can hold an OP-TEE thread in an RPC for a chosen time (CMD_SLEEP), so
 * that teelab can look at OP-TEE shared memory and suspended OP-TEE
 * threads across kexec and kdump.  The normal-world client is
 * images/guest/tl-shm; the interface is in include/teelab_shm_ta.h.
 *
 * GlobalPlatform TEE Internal Core API v1.3 sections used:
 *  - §4.3  TA Interface: TA_CreateEntryPoint, TA_DestroyEntryPoint,
 *          TA_OpenSessionEntryPoint, TA_CloseSessionEntryPoint,
 *          TA_InvokeCommandEntryPoint; parameter types checked against
 *          TEE_PARAM_TYPES().  A MEMREF parameter is the client's shared
 *          memory, mapped into the TA by OP-TEE; the TA reads and writes it
 *          in place.
 *  - §7.2  Time Functions: TEE_Wait.  In OP-TEE the waiting thread leaves
 *          the secure world in an RPC (OPTEE_RPC_CMD_SUSPEND) and the normal
 *          world sleeps on its behalf, so CMD_SLEEP holds one OP-TEE thread
 *          in an RPC for the requested time.
 *
 * No heap: the TA never calls TEE_Malloc.
 *
 * Logging: DMSG only on the command paths (compiled in only at
 * CFG_TEE_TA_LOG_LEVEL >= 3), EMSG when CMD_ROUNDTRIP finds wrong content.
 */

#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>

#include <teelab_shm_ta.h>

#define PT_NONE		TEE_PARAM_TYPE_NONE
#define PT_VAL_IN	TEE_PARAM_TYPE_VALUE_INPUT
#define PT_VAL_INOUT	TEE_PARAM_TYPE_VALUE_INOUT
#define PT_MEM_INOUT	TEE_PARAM_TYPE_MEMREF_INOUT

/*
 * CMD_ROUNDTRIP: memref[0] = the client's buffer, L bytes; value[1].a in =
 * seed S.  Checks every byte i against teelab_shm_pattern(S, i); if all
 * match, rewrites the buffer with teelab_shm_pattern(S + 1, i).  Out
 * value[1].a = first bad offset or TEELAB_SHM_ALL_GOOD, value[1].b = bytes
 * compared.
 * Errors: TEE_ERROR_BAD_PARAMETERS (types, L above TEELAB_SHM_MAX_SIZE),
 * TEE_ERROR_CORRUPT_OBJECT (a byte differs; the buffer is left untouched).
 */
static TEE_Result cmd_roundtrip(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t exp_pt = TEE_PARAM_TYPES(PT_MEM_INOUT, PT_VAL_INOUT,
						PT_NONE, PT_NONE);
	uint8_t *buf = NULL;
	size_t size = 0;
	uint32_t len = 0;
	uint32_t seed = 0;
	uint32_t bad = TEELAB_SHM_ALL_GOOD;

	if (pt != exp_pt)
		return TEE_ERROR_BAD_PARAMETERS;
	buf = params[0].memref.buffer;
	size = params[0].memref.size;
	seed = params[1].value.a;
	if (size > TEELAB_SHM_MAX_SIZE || (!buf && size))
		return TEE_ERROR_BAD_PARAMETERS;
	len = (uint32_t)size;

	bad = teelab_shm_check(buf, len, seed);
	params[1].value.a = bad;
	if (bad != TEELAB_SHM_ALL_GOOD) {
		params[1].value.b = bad + 1;
		EMSG("roundtrip seed %" PRIu32 " len %" PRIu32 ": byte %" PRIu32
		     " is %#x, expected %#x", seed, len, bad, buf[bad],
		     teelab_shm_pattern(seed, bad));
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	params[1].value.b = len;
	teelab_shm_fill(buf, len, seed + 1);
	DMSG("roundtrip seed %" PRIu32 " len %" PRIu32 " ok", seed, len);
	return TEE_SUCCESS;
}

/*
 * CMD_SLEEP: value[0].a = milliseconds.  Returns TEE_Wait()'s result:
 * TEE_SUCCESS after the time, or TEE_ERROR_CANCEL if the client cancelled
 * and cancellation was unmasked (OP-TEE masks it by default, so in
 * practice TEE_SUCCESS).  Errors: TEE_ERROR_BAD_PARAMETERS (types).
 */
static TEE_Result cmd_sleep(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
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

/*
 * Dispatches TEELAB_SHM_CMD_*.  Returns the command's result, or
 * TEE_ERROR_NOT_SUPPORTED for an unknown command ID.
 */
TEE_Result TA_InvokeCommandEntryPoint(void *sess_ctx, uint32_t cmd,
				      uint32_t pt,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	(void)sess_ctx;

	switch (cmd) {
	case TEELAB_SHM_CMD_ROUNDTRIP:
		return cmd_roundtrip(pt, params);
	case TEELAB_SHM_CMD_SLEEP:
		return cmd_sleep(pt, params);
	default:
		DMSG("unknown command %" PRIu32, cmd);
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
