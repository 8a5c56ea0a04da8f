/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teelab_shm_ta.h - interface of the teelab-shm Trusted Application.
 *
 * Shared by the TA (teelab_shm_ta.c, built with the OP-TEE TA dev kit) and
 * by the normal-world client tl-shm (built against libteec).  It only needs
 * <stdint.h>, so it compiles in both worlds.
 *
 * Contents:
 *  - TEELAB_SHM_TA_UUID: the TA's UUID as an initializer for a TEEC_UUID
 *    (GlobalPlatform TEE Client API v1.0) or a TEE_UUID (TEE Internal Core
 *    API v1.3); both are {timeLow, timeMid, timeHiAndVersion,
 *    clockSeqAndNode[8]}.
 *  - The command IDs and the parameter layout of each command.
 *  - The buffer pattern, teelab_shm_pattern(), and the fill and check
 *    helpers built on it (through teelab_shm_pattern_next()), so that both
 *    sides agree on what "correct content" means.
 */
#ifndef TEELAB_SHM_TA_H
#define TEELAB_SHM_TA_H

#include <stdint.h>

/* 7b5b147d-25ce-48c4-bead-25655244f9c2 */
#define TEELAB_SHM_TA_UUID_STR "7b5b147d-25ce-48c4-bead-25655244f9c2"
#define TEELAB_SHM_TA_UUID \
	{ 0x7b5b147d, 0x25ce, 0x48c4, \
	  { 0xbe, 0xad, 0x25, 0x65, 0x52, 0x44, 0xf9, 0xc2 } }

/*
 * Commands.  Unused parameters must be NONE.  The TA returns
 * TEE_ERROR_BAD_PARAMETERS if the parameter types differ from these.
 *
 * CMD_ROUNDTRIP
 *   param0  MEMREF_INOUT   the client's shared buffer, L bytes
 *                          (0..TEELAB_SHM_MAX_SIZE, else BAD_PARAMETERS)
 *   param1  VALUE_INOUT    in  a = seed S (b is ignored)
 *                          out a = offset of the first byte that is not
 *                                  teelab_shm_pattern(S, offset), or
 *                                  TEELAB_SHM_ALL_GOOD if all L bytes are
 *                          out b = bytes compared: L if all are good,
 *                                  else a + 1
 *   The TA checks every byte i of the buffer against
 *   teelab_shm_pattern(S, i).  If all match, it overwrites the whole buffer
 *   with teelab_shm_pattern(S + 1, i) and returns TEE_SUCCESS: the client
 *   then sees S + 1 content only if the TA's writes reached it through the
 *   shared memory.  On the first mismatch it stops, leaves the buffer as it
 *   is and returns TEE_ERROR_CORRUPT_OBJECT (0xF0100001) with the offset in
 *   out a.
 *
 * CMD_SLEEP
 *   param0  VALUE_INPUT    a = milliseconds
 *   The TA calls TEE_Wait(ms): in OP-TEE an RPC that leaves the OP-TEE
 *   thread suspended in the normal world for that time.  Returns what
 *   TEE_Wait returns: TEE_SUCCESS, or TEE_ERROR_CANCEL (0xFFFF0002) if the
 *   wait was cancelled.
 */
#define TEELAB_SHM_CMD_ROUNDTRIP	0
#define TEELAB_SHM_CMD_SLEEP		1

/* CMD_ROUNDTRIP out value a when every byte matched. */
#define TEELAB_SHM_ALL_GOOD		0xFFFFFFFFu

/* Largest CMD_ROUNDTRIP buffer, bytes (256 MiB). */
#define TEELAB_SHM_MAX_SIZE		(256u * 1024u * 1024u)

/*
 * Returns the position part of the pattern for the 4-byte word number
 * word (bytes 4*word .. 4*word+3).  A bijection of uint32_t (multiply by
 * odd constants, xor-shifts), so no two words of a buffer have the same 4
 * bytes: a page or a word that lands at the wrong offset is found, not only
 * a byte that changed.
 */
static inline uint32_t teelab_shm_pattern_word(uint32_t word)
{
	uint32_t x = word * 0x9E3779B1u;

	x ^= x >> 16;
	x *= 0x85EBCA6Bu;
	x ^= x >> 13;
	x *= 0xC2B2AE35u;
	x ^= x >> 16;
	return x;
}

/*
 * Returns the seed part of the pattern: one byte, xored into every byte.
 * (s * 29) mod 256 is a bijection of s mod 256, so two seeds that differ
 * modulo 256 (S, S + 1, S + 2 in particular) give patterns that differ in
 * every single byte.
 */
static inline uint8_t teelab_shm_pattern_seed(uint32_t seed)
{
	return (uint8_t)((seed * 29u) ^ 0x5Au);
}

/*
 * Returns pattern byte number i (0-based offset in the buffer) for seed
 * seed: byte i % 4 (little-endian order) of teelab_shm_pattern_word(i / 4),
 * xored with teelab_shm_pattern_seed(seed).
 */
static inline uint8_t teelab_shm_pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)((teelab_shm_pattern_word(i / 4) >> (8 * (i % 4))) ^
			 teelab_shm_pattern_seed(seed));
}

/*
 * Returns teelab_shm_pattern(seed, i) for a walk over the bytes of a
 * buffer in order from offset 0, one hash per 4 bytes: s is
 * teelab_shm_pattern_seed(seed), and *w the walk's current word, which is
 * set to teelab_shm_pattern_word(i / 4) at each multiple of 4 (so the
 * walk must start at 0 and not skip a byte).
 */
static inline uint8_t teelab_shm_pattern_next(uint32_t *w, uint8_t s,
					      uint32_t i)
{
	if (i % 4 == 0)
		*w = teelab_shm_pattern_word(i / 4);
	return (uint8_t)((*w >> (8 * (i % 4))) ^ s);
}

/*
 * Fills buf[0..len) with teelab_shm_pattern(seed, i).  Computes one word
 * hash per 4 bytes; byte accesses only, so buf need not be aligned.
 */
static inline void teelab_shm_fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	uint8_t s = teelab_shm_pattern_seed(seed);
	uint32_t w = 0;
	uint32_t i = 0;

	for (i = 0; i < len; i++)
		buf[i] = teelab_shm_pattern_next(&w, s, i);
}

/*
 * Returns the offset of the first byte of buf[0..len) that differs from
 * teelab_shm_pattern(seed, i), or TEELAB_SHM_ALL_GOOD if none does.  len
 * must be below TEELAB_SHM_ALL_GOOD.
 */
static inline uint32_t teelab_shm_check(const uint8_t *buf, uint32_t len,
					uint32_t seed)
{
	uint8_t s = teelab_shm_pattern_seed(seed);
	uint32_t w = 0;
	uint32_t i = 0;

	for (i = 0; i < len; i++)
		if (buf[i] != teelab_shm_pattern_next(&w, s, i))
			return i;
	return TEELAB_SHM_ALL_GOOD;
}

#endif /* TEELAB_SHM_TA_H */
