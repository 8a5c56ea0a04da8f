/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user_ta_header_defines.h - properties of the teelab-shm TA, read by the
 * OP-TEE dev kit (src/user_ta_header.c) to build the TA header and the GP
 * properties (TEE Internal Core API v1.3 §4.5 "TA Properties":
 * gpd.ta.singleInstance, gpd.ta.multiSession, gpd.ta.instanceKeepAlive,
 * gpd.ta.dataSize, gpd.ta.stackSize).
 */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <teelab_shm_ta.h>

#define TA_UUID			TEELAB_SHM_TA_UUID

/*
 * Multi-instance: no TA_FLAG_SINGLE_INSTANCE, so every session gets its own
 * instance and N clients run in OP-TEE concurrently, each on its own thread
 * (tl-shm sleep -c N holds N OP-TEE threads in TEE_Wait at once).
 */
#define TA_FLAGS		0

/* Bytes.  The TA's own call depth is small and it keeps no buffers. */
#define TA_STACK_SIZE		(8 * 1024)

/*
 * Heap, bytes.  The TA allocates nothing itself: CMD_ROUNDTRIP works on the
 * client's buffer in place, which OP-TEE maps into the TA from shared
 * memory (up to TEELAB_SHM_MAX_SIZE; the default 4 MiB is not TA memory).
 * 32 KiB is for libutee's own allocations.
 */
#define TA_DATA_SIZE		(32 * 1024)

#define TA_VERSION		"1.0"
#define TA_DESCRIPTION		"teelab: shared memory round-trip and RPC sleep TA"

#endif /* USER_TA_HEADER_DEFINES_H */
