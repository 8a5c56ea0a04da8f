/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user_ta_header_defines.h - properties of the teelab-ctx TA, read by the
 * OP-TEE dev kit (src/user_ta_header.c) to build the TA header and the GP
 * properties (TEE Internal Core API v1.3 §4.5 "TA Properties").
 */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <teelab_ctx_ta.h>

#define TA_UUID			TEELAB_CTX_TA_UUID

/*
 * Multi-instance, not kept alive: every session gets its own instance, and
 * the instance is destroyed when its session closes. OP-TEE's statistics
 * PTA (STATS_CMD_TA_STATS) then lists one context per open session, and
 * none once every session is closed: "no lab TA left loaded".
 */
#define TA_FLAGS		0

/* Bytes: a small call depth, no buffers of its own. */
#define TA_STACK_SIZE		(8 * 1024)

/* Heap, bytes, for libutee; the TA allocates nothing itself. */
#define TA_DATA_SIZE		(32 * 1024)

#define TA_VERSION		"1.0"
#define TA_DESCRIPTION		"teelab: TEE context lifetime TA (logs every entry point)"

#endif /* USER_TA_HEADER_DEFINES_H */
