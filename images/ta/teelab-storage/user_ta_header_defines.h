/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user_ta_header_defines.h - properties of the teelab-storage TA, read by
 * the OP-TEE dev kit (src/user_ta_header.c) to build the TA header and the
 * GP properties (TEE Internal Core API v1.3 §4.5 "TA Properties":
 * gpd.ta.singleInstance, gpd.ta.multiSession, gpd.ta.instanceKeepAlive,
 * gpd.ta.dataSize, gpd.ta.stackSize).
 */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <teelab_storage_ta.h>

#define TA_UUID			TEELAB_STORAGE_TA_UUID

/*
 * Multi-instance: no TA_FLAG_SINGLE_INSTANCE, so every session gets its own
 * instance and N clients run in OP-TEE concurrently, each on its own thread.
 */
#define TA_FLAGS		0

/* Bytes.  The TA's own call depth is small; buffers live on the heap. */
#define TA_STACK_SIZE		(8 * 1024)

/*
 * Heap, bytes.  CMD_WRITE allocates header + payload (at most 16 + 64 KiB);
 * CMD_VERIFY reads in 4 KiB chunks.  256 KiB leaves room for the allocator
 * and libutee's own allocations.
 */
#define TA_DATA_SIZE		(256 * 1024)

#define TA_VERSION		"1.0"
#define TA_DESCRIPTION		"teelab: RPMB/REE FS storage load and RPC hold TA"

#endif /* USER_TA_HEADER_DEFINES_H */
