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
#include <tl_ta.h>

#include <teelab_shm_ta.h>

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
		return tl_ta_cmd_sleep(pt, params);
	default:
		DMSG("unknown command %" PRIu32, cmd);
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
