/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teelab_ctx_ta.h - interface of the teelab-ctx Trusted Application, the
 * TA of teelab's TEE context lifetime scenarios (ctx-lifetime, supp-race).
 *
 * Shared by the TA (teelab_ctx_ta.c, built with the OP-TEE TA dev kit) and
 * by the normal-world client tl-ctx (raw TEE ioctls, <linux/tee.h>). Only
 * <stdint.h> is needed, so it compiles in both worlds.
 *
 * The TA is multi-instance (one instance per session) and writes one line
 * on the secure console (OP-TEE's TA trace, IMSG: "I/TA: " prefix, needs
 * CFG_TEE_TA_LOG_LEVEL >= 2) for every entry point, each naming the tag
 * the client gave at OPEN_SESSION:
 *
 *   teelab-ctx: create instance
 *   teelab-ctx: open session tag=T
 *   teelab-ctx: tag=T roundtrip N bytes
 *   teelab-ctx: tag=T sleep MS ms
 *   teelab-ctx: tag=T sleep done: 0x<TEE_Result>
 *   teelab-ctx: close session tag=T
 *   teelab-ctx: destroy instance tag=T
 *
 * so a scenario can tell from the secure console which client's session
 * OP-TEE closed and when.
 */
#ifndef TEELAB_CTX_TA_H
#define TEELAB_CTX_TA_H

#include <stdint.h>

/* b9908461-68b4-4c1e-bba7-1ace9252a841 */
#define TEELAB_CTX_TA_UUID_STR "b9908461-68b4-4c1e-bba7-1ace9252a841"
#define TEELAB_CTX_TA_UUID \
	{ 0xb9908461, 0x68b4, 0x4c1e, \
	  { 0xbb, 0xa7, 0x1a, 0xce, 0x92, 0x52, 0xa8, 0x41 } }

/*
 * OPEN_SESSION
 *   param0  VALUE_INPUT    a = the client's tag (any number; it names the
 *                          session in the TA's log lines)
 *   other parameters NONE, else TEE_ERROR_BAD_PARAMETERS.
 *
 * CMD_ROUNDTRIP
 *   param0  MEMREF_INOUT   the client's shared memory, L bytes
 *   param1  VALUE_OUTPUT   a = sum of the L input bytes (mod 2^32)
 *   The TA adds up the bytes, then replaces every byte b by b ^ 0xFF: the
 *   client sees the sum it expects and the inverted buffer only if the TA
 *   read and wrote its shared memory.
 *
 * CMD_SLEEP
 *   param0  VALUE_INPUT    a = milliseconds
 *   TEE_Wait(a): the OP-TEE thread waits in RPCs (OPTEE_RPC_CMD_SUSPEND)
 *   served by the normal world. Returns TEE_Wait's result.
 */
#define TEELAB_CTX_CMD_ROUNDTRIP	0
#define TEELAB_CTX_CMD_SLEEP		1

/* What CMD_ROUNDTRIP xors every byte with. */
#define TEELAB_CTX_XOR			0xFFu

#endif /* TEELAB_CTX_TA_H */
