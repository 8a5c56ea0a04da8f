// SPDX-License-Identifier: BSD-2-Clause
/*
 * teelab_ctx_ta.c - the teelab-ctx Trusted Application.
 *
 * teelab's own code. It makes a session's life visible on the secure
 * console: one line per entry point (create, open, invoke, close,
 * destroy), each naming the tag its client gave, so teelab's ctx-lifetime
 * scenario can see exactly when OP-TEE closes a session whose client went
 * away (Linux closes a context's sessions only when the context's last
 * reference goes: the device file and every shared memory object hold
 * one). It can also round-trip a shared buffer (CMD_ROUNDTRIP) and wait in
 * an RPC (CMD_SLEEP). Interface: include/teelab_ctx_ta.h; the client is
 * images/guest/tl-ctx.
 *
 * GlobalPlatform TEE Internal Core API v1.3: §4.3 (the five entry points),
 * §7.2 (TEE_Wait).
 *
 * Logging: IMSG, shown when OP-TEE's TA dev kit was built with
 * CFG_TEE_TA_LOG_LEVEL >= 2 (teelab's optee-stats secure profile).
 */

#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>

#define TL_TA_OWN_ENTRY_POINTS
#include <tl_ta.h>

#include <teelab_ctx_ta.h>

/*
 * The tag of this instance's session. Multi-instance TA (TA_FLAGS 0): one
 * instance, so one session, per client session; 0 until OPEN_SESSION.
 */
static uint32_t session_tag;

TEE_Result TA_CreateEntryPoint(void)
{
	IMSG("teelab-ctx: create instance");
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
	IMSG("teelab-ctx: destroy instance tag=%" PRIu32, session_tag);
}

/* OPEN_SESSION: value[0].a = the client's tag (teelab_ctx_ta.h). */
TEE_Result TA_OpenSessionEntryPoint(uint32_t pt,
				    TEE_Param params[TEE_NUM_PARAMS],
				    void **sess_ctx)
{
	if (pt != TEE_PARAM_TYPES(PT_VAL_IN, PT_NONE, PT_NONE, PT_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	session_tag = params[0].value.a;
	*sess_ctx = NULL;
	IMSG("teelab-ctx: open session tag=%" PRIu32, session_tag);
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *sess_ctx)
{
	(void)sess_ctx;
	IMSG("teelab-ctx: close session tag=%" PRIu32, session_tag);
}

/*
 * CMD_ROUNDTRIP: adds up the bytes of memref[0] into value[1].a, then
 * inverts each byte in place (teelab_ctx_ta.h). Errors:
 * TEE_ERROR_BAD_PARAMETERS (types).
 */
static TEE_Result cmd_roundtrip(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	uint8_t *buf = params[0].memref.buffer;
	size_t len = params[0].memref.size;
	uint32_t sum = 0;
	size_t i = 0;

	if (pt != TEE_PARAM_TYPES(PT_MEM_INOUT, PT_VAL_OUT, PT_NONE, PT_NONE))
		return TEE_ERROR_BAD_PARAMETERS;
	for (i = 0; i < len; i++) {
		sum += buf[i];
		buf[i] ^= TEELAB_CTX_XOR;
	}
	params[1].value.a = sum;
	params[1].value.b = 0;
	IMSG("teelab-ctx: tag=%" PRIu32 " roundtrip %zu bytes", session_tag, len);
	return TEE_SUCCESS;
}

TEE_Result TA_InvokeCommandEntryPoint(void *sess_ctx, uint32_t cmd,
				      uint32_t pt,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	TEE_Result res = TEE_ERROR_GENERIC;

	(void)sess_ctx;
	switch (cmd) {
	case TEELAB_CTX_CMD_ROUNDTRIP:
		return cmd_roundtrip(pt, params);
	case TEELAB_CTX_CMD_SLEEP:
		if (pt == TEE_PARAM_TYPES(PT_VAL_IN, PT_NONE, PT_NONE, PT_NONE))
			IMSG("teelab-ctx: tag=%" PRIu32 " sleep %" PRIu32 " ms",
			     session_tag, params[0].value.a);
		res = tl_ta_cmd_sleep(pt, params);
		IMSG("teelab-ctx: tag=%" PRIu32 " sleep done: %#" PRIx32,
		     session_tag, res);
		return res;
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
