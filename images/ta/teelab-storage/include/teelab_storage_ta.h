/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teelab_storage_ta.h - interface of the teelab-storage Trusted Application.
 *
 * Shared by the TA (teelab_storage_ta.c, built with the OP-TEE TA dev kit)
 * and by the normal-world client tl-storage (built against libteec).  It
 * only needs <stdint.h>, so it compiles in both worlds.
 *
 * Contents:
 *  - TEELAB_STORAGE_TA_UUID: the TA's UUID as an initializer for a TEEC_UUID
 *    (GlobalPlatform TEE Client API v1.0) or a TEE_UUID (TEE Internal Core
 *    API v1.3); both are {timeLow, timeMid, timeHiAndVersion,
 *    clockSeqAndNode[8]}.
 *  - The command IDs and the parameter layout of each command.
 *  - The format of the persistent objects the TA writes, and the payload
 *    pattern, so that both sides agree on what "correct content" means.
 *  - Two TA-defined result codes for content mismatches found by CMD_VERIFY.
 *  - The storage selector of CMD_WRITE, CMD_VERIFY and CMD_DELETE: the
 *    GlobalPlatform / OP-TEE storage IDs under teelab names, and
 *    teelab_storage_resolve(), which maps a selector to a storage ID.
 */
#ifndef TEELAB_STORAGE_TA_H
#define TEELAB_STORAGE_TA_H

#include <stdint.h>

/* 71d830b9-f34c-4edd-867d-1d886ebf5a75 */
#define TEELAB_STORAGE_TA_UUID_STR "71d830b9-f34c-4edd-867d-1d886ebf5a75"
#define TEELAB_STORAGE_TA_UUID \
	{ 0x71d830b9, 0xf34c, 0x4edd, \
	  { 0x86, 0x7d, 0x1d, 0x88, 0x6e, 0xbf, 0x5a, 0x75 } }

/*
 * Commands.  "value[i]" is parameter i of type VALUE_INPUT/VALUE_OUTPUT;
 * unused parameters must be NONE.  The TA returns TEE_ERROR_BAD_PARAMETERS
 * if the parameter types differ from these.
 *
 * CMD_WRITE   in  value[0].a = object number N
 *             in  value[0].b = payload size K in bytes, 1..65536
 *             in  value[1].a = generation G (chosen by the client)
 *             in  value[1].b = storage selector S (see below)
 *   Creates or atomically replaces object "teelab-obj-<N>" in storage S
 *   with header {TLS1, N, G, K} + K pattern bytes.
 *
 * CMD_VERIFY  in  value[0].a = object number N
 *             in  value[0].b = storage selector S
 *             out value[1].a = generation G found in the header
 *             out value[1].b = payload length K found in the header
 *   Reads the whole object from storage S and checks header and pattern.
 *
 * CMD_DELETE  in  value[0].a = object number N
 *             in  value[0].b = storage selector S
 *   Deletes the object from storage S.
 *
 * CMD_SLEEP   in  value[0].a = milliseconds; TEE_Wait() in the TA.
 */
#define TEELAB_STORAGE_CMD_WRITE	0
#define TEELAB_STORAGE_CMD_VERIFY	1
#define TEELAB_STORAGE_CMD_DELETE	2
#define TEELAB_STORAGE_CMD_SLEEP	3

/*
 * Storage selector S of CMD_WRITE (value[1].b), CMD_VERIFY and CMD_DELETE
 * (value[0].b).  Each storage is a separate namespace: object N written to
 * one storage is not found in another.
 *
 *   0                               TEELAB_STORAGE_SEL_DEFAULT: the
 *                                   storage used before the selector
 *                                   existed, TEELAB_STORAGE_PRIVATE_RPMB
 *   TEELAB_STORAGE_PRIVATE          0x00000001, TEE_STORAGE_PRIVATE (GP TEE
 *                                   Internal Core API v1.3 §5.7).  OP-TEE
 *                                   maps it to the REE FS if built with
 *                                   CFG_REE_FS, else to the RPMB FS.
 *   TEELAB_STORAGE_PRIVATE_REE      0x80000000, TEE_STORAGE_PRIVATE_REE
 *                                   (OP-TEE extension): the REE FS, files
 *                                   kept by tee-supplicant (CFG_REE_FS)
 *   TEELAB_STORAGE_PRIVATE_RPMB     0x80000100, TEE_STORAGE_PRIVATE_RPMB
 *                                   (OP-TEE extension): the RPMB FS
 *                                   (CFG_RPMB_FS)
 *
 * The values are those of OP-TEE's tee_api_defines_extensions.h and GP's
 * tee_api_defines.h, defined here under teelab names so that the client,
 * which does not see those headers, can use them too.  Any other S makes
 * the command fail with TEE_ERROR_BAD_PARAMETERS.  A storage that OP-TEE was
 * built without is reported by OP-TEE as TEE_ERROR_ITEM_NOT_FOUND.
 */
#define TEELAB_STORAGE_SEL_DEFAULT	0u
#define TEELAB_STORAGE_PRIVATE		0x00000001u
#define TEELAB_STORAGE_PRIVATE_REE	0x80000000u
#define TEELAB_STORAGE_PRIVATE_RPMB	0x80000100u

/*
 * Returns the storage ID that selector sel stands for (sel itself for the
 * three accepted IDs, TEELAB_STORAGE_PRIVATE_RPMB for
 * TEELAB_STORAGE_SEL_DEFAULT), or 0 if sel is not accepted.  0 is not a
 * storage ID, so it can mean "invalid".
 */
static inline uint32_t teelab_storage_resolve(uint32_t sel)
{
	switch (sel) {
	case TEELAB_STORAGE_SEL_DEFAULT:
		return TEELAB_STORAGE_PRIVATE_RPMB;
	case TEELAB_STORAGE_PRIVATE:
	case TEELAB_STORAGE_PRIVATE_REE:
	case TEELAB_STORAGE_PRIVATE_RPMB:
		return sel;
	default:
		return 0;
	}
}

/* Payload size limits of CMD_WRITE, bytes. */
#define TEELAB_STORAGE_MIN_PAYLOAD	1u
#define TEELAB_STORAGE_MAX_PAYLOAD	65536u

/*
 * TA-defined results of CMD_VERIFY (origin TEEC_ORIGIN_TRUSTED_APP).  They
 * are distinct from TEE_ERROR_CORRUPT_OBJECT (0xF0100001), which the TA
 * passes through unchanged when OP-TEE's storage layer itself finds the
 * object corrupt (and removes it).  These two mean: OP-TEE returned the data
 * without complaint, but it is not what CMD_WRITE stored.
 *
 * BAD_HEADER:  magic is not "TLS1", the object number in the header is not
 *              N, the length field is out of range, or the object's data
 *              size is not 16 + length.
 * BAD_PATTERN: the header is fine but a payload byte differs from the
 *              pattern for (N, G, offset).
 */
#define TEELAB_STORAGE_ERROR_BAD_HEADER		0x7E1A0001u
#define TEELAB_STORAGE_ERROR_BAD_PATTERN	0x7E1A0002u

/*
 * Object ID: the ASCII string TEELAB_STORAGE_OBJ_PREFIX followed by N in
 * decimal, without a terminating NUL ("teelab-obj-0", "teelab-obj-17").
 */
#define TEELAB_STORAGE_OBJ_PREFIX	"teelab-obj-"
#define TEELAB_STORAGE_OBJ_ID_MAX	32

/*
 * Object content: a 16-byte header of four little-endian uint32 values,
 * then K payload bytes.
 *
 *   offset 0  magic       TEELAB_STORAGE_MAGIC (the bytes 'T' 'L' 'S' '1')
 *   offset 4  object      N
 *   offset 8  generation  G
 *   offset 12 length      K
 *   offset 16 payload     byte i (0 <= i < K) =
 *                         teelab_storage_pattern_byte(N, G, i)
 */
#define TEELAB_STORAGE_MAGIC		0x31534C54u	/* "TLS1" as LE u32 */
#define TEELAB_STORAGE_HDR_SIZE		16u
#define TEELAB_STORAGE_HDR_MAGIC	0u
#define TEELAB_STORAGE_HDR_OBJECT	4u
#define TEELAB_STORAGE_HDR_GENERATION	8u
#define TEELAB_STORAGE_HDR_LENGTH	12u

/* Stores v at p as 4 little-endian bytes. */
static inline void teelab_storage_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Returns the little-endian uint32 stored at p. */
static inline uint32_t teelab_storage_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * Returns the 32-bit pattern word for payload bytes 4*word .. 4*word+3 of
 * object n, generation g.  An integer hash (xor-shift / multiply rounds) so
 * that different objects, generations and offsets give different data and a
 * stale generation or a misplaced block is detected.
 */
static inline uint32_t teelab_storage_pattern_word(uint32_t n, uint32_t g,
						   uint32_t word)
{
	uint32_t x = (n * 0x9E3779B1u) ^ (g * 0x85EBCA77u) ^
		     (word * 0xC2B2AE3Du) ^ 0x5EE1AB00u;

	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	x *= 0x846CA68Bu;
	x ^= x >> 16;
	return x;
}

/* Returns payload byte number off (0-based, after the header) of (n, g). */
static inline uint8_t teelab_storage_pattern_byte(uint32_t n, uint32_t g,
						  uint32_t off)
{
	return (uint8_t)(teelab_storage_pattern_word(n, g, off / 4) >>
			 (8 * (off % 4)));
}

#endif /* TEELAB_STORAGE_TA_H */
