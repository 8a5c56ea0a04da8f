// SPDX-License-Identifier: BSD-2-Clause
/*
 * teelab_storage_ta.c - the teelab-storage Trusted Application.
 *
 * teelab's own code, for the teelab QEMU lab (Linux TEE subsystem and
 * OP-TEE).  It puts load on OP-TEE's secure storage (RPMB FS or REE FS, as
 * the client selects) and can hold an OP-TEE thread in an RPC for a chosen
 * time.  The normal-world client is
 * images/guest/tl-storage; the interface is in include/teelab_storage_ta.h.
 *
 * GlobalPlatform TEE Internal Core API v1.3 sections used:
 *  - §4.3  TA Interface: TA_CreateEntryPoint, TA_DestroyEntryPoint,
 *          TA_OpenSessionEntryPoint, TA_CloseSessionEntryPoint,
 *          TA_InvokeCommandEntryPoint; parameter types checked against
 *          TEE_PARAM_TYPES().
 *  - §4.11 Memory Management Functions: TEE_Malloc, TEE_Free.
 *  - §5.5  Generic Object Functions: TEE_GetObjectInfo1, TEE_CloseObject.
 *  - §5.7  Persistent Object Functions: TEE_CreatePersistentObject (with
 *          TEE_DATA_FLAG_OVERWRITE and the whole content as initial data, so
 *          a replacement is atomic), TEE_OpenPersistentObject,
 *          TEE_CloseAndDeletePersistentObject1.
 *  - §5.8  Data Stream Access Functions: TEE_ReadObjectData.
 *  - §7.2  Time Functions: TEE_Wait.  In OP-TEE the waiting thread leaves
 *          the secure world in an RPC (OPTEE_RPC_CMD_SUSPEND) and the normal
 *          world sleeps on its behalf, so CMD_SLEEP holds one OP-TEE thread
 *          in an RPC for the requested time.
 *
 * Storage: chosen per command by the client's storage selector (see
 * include/teelab_storage_ta.h): TEE_STORAGE_PRIVATE (0x00000001, GP),
 * TEE_STORAGE_PRIVATE_REE (0x80000000, OP-TEE's REE FS, files kept by
 * tee-supplicant) or TEE_STORAGE_PRIVATE_RPMB (0x80000100, OP-TEE's RPMB
 * FS); selector 0 means TEE_STORAGE_PRIVATE_RPMB, the storage used before
 * the selector existed, and anything else is TEE_ERROR_BAD_PARAMETERS.  If
 * OP-TEE was built without the selected file system (CFG_REE_FS,
 * CFG_RPMB_FS), OP-TEE reports that storage as absent:
 * TEE_ERROR_ITEM_NOT_FOUND.
 *
 * Logging: DMSG only on the command paths (compiled in only at
 * CFG_TEE_TA_LOG_LEVEL >= 3), EMSG when verification finds wrong content.
 */

#include <stdio.h>
#include <string.h>
#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>
#include <tl_ta.h>

#include <teelab_storage_ta.h>

/*
 * The header's storage IDs must be the dev kit's; the TA passes them to
 * TEE_CreatePersistentObject / TEE_OpenPersistentObject unchanged.
 */
#if defined(TEE_STORAGE_PRIVATE) && \
	TEE_STORAGE_PRIVATE != TEELAB_STORAGE_PRIVATE
#error "TEELAB_STORAGE_PRIVATE differs from TEE_STORAGE_PRIVATE"
#endif
#if defined(TEE_STORAGE_PRIVATE_REE) && \
	TEE_STORAGE_PRIVATE_REE != TEELAB_STORAGE_PRIVATE_REE
#error "TEELAB_STORAGE_PRIVATE_REE differs from TEE_STORAGE_PRIVATE_REE"
#endif
#if defined(TEE_STORAGE_PRIVATE_RPMB) && \
	TEE_STORAGE_PRIVATE_RPMB != TEELAB_STORAGE_PRIVATE_RPMB
#error "TEELAB_STORAGE_PRIVATE_RPMB differs from TEE_STORAGE_PRIVATE_RPMB"
#endif

/* Bytes read per TEE_ReadObjectData call in CMD_VERIFY; a multiple of 4. */
#define VERIFY_CHUNK			4096u


/*
 * Writes the object ID of object n ("teelab-obj-<n>", no NUL counted) to
 * id, which holds TEELAB_STORAGE_OBJ_ID_MAX bytes.  Returns its length in
 * bytes; the ID always fits (the prefix plus at most 10 digits).
 */
static size_t make_object_id(uint32_t n, char id[TEELAB_STORAGE_OBJ_ID_MAX])
{
	int len = snprintf(id, TEELAB_STORAGE_OBJ_ID_MAX,
			   TEELAB_STORAGE_OBJ_PREFIX "%" PRIu32, n);

	if (len < 0 || len >= TEELAB_STORAGE_OBJ_ID_MAX)
		TEE_Panic(TEE_ERROR_GENERIC);
	return (size_t)len;
}

/* Fills p[0..len) with payload bytes 0..len-1 of object n, generation g. */
static void fill_pattern(uint8_t *p, uint32_t n, uint32_t g, uint32_t len)
{
	uint32_t off = 0;

	for (off = 0; off < len; off += 4) {
		uint32_t w = teelab_storage_pattern_word(n, g, off / 4);
		uint32_t j = 0;

		for (j = 0; j < 4 && off + j < len; j++)
			p[off + j] = (uint8_t)(w >> (8 * j));
	}
}

/*
 * Compares p[0..len) with the payload bytes starting at payload offset
 * base of object n, generation g.  Returns the payload
 * offset of the first differing byte, or UINT32_MAX if all match.
 */
static uint32_t check_pattern(const uint8_t *p, uint32_t n, uint32_t g,
			      uint32_t base, uint32_t len)
{
	uint32_t i = 0;
	uint32_t w = 0;

	for (i = 0; i < len; i++) {
		uint32_t off = base + i;

		if (i == 0 || off % 4 == 0)
			w = teelab_storage_pattern_word(n, g, off / 4);
		if (p[i] != (uint8_t)(w >> (8 * (off % 4))))
			return off;
	}
	return UINT32_MAX;
}

/*
 * Forgets *obj after a storage call failed with res: on
 * TEE_ERROR_CORRUPT_OBJECT OP-TEE has already removed the object and closed
 * the handle (TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT is not set), so it
 * must not be closed again.
 */
static void forget_if_corrupt(TEE_Result res, TEE_ObjectHandle *obj)
{
	if (res == TEE_ERROR_CORRUPT_OBJECT)
		*obj = TEE_HANDLE_NULL;
}

/*
 * Opens object n of storage (a storage ID from teelab_storage_resolve())
 * with TEE_DATA_FLAG_* flags; writes its ID to id, which holds
 * TEELAB_STORAGE_OBJ_ID_MAX bytes.  Returns TEE_OpenPersistentObject's
 * result (TEE_ERROR_ITEM_NOT_FOUND, TEE_ERROR_ACCESS_CONFLICT,
 * TEE_ERROR_CORRUPT_OBJECT, TEE_ERROR_STORAGE_NOT_AVAILABLE, ...); *obj is
 * the open handle on TEE_SUCCESS, else TEE_HANDLE_NULL.
 */
static TEE_Result open_object(uint32_t storage, uint32_t n, uint32_t flags,
			      char id[TEELAB_STORAGE_OBJ_ID_MAX],
			      TEE_ObjectHandle *obj)
{
	size_t id_len = make_object_id(n, id);
	TEE_Result res = TEE_OpenPersistentObject(storage, id, id_len, flags,
						  obj);

	if (res != TEE_SUCCESS)
		*obj = TEE_HANDLE_NULL;
	return res;
}

/*
 * CMD_WRITE: value[0].a = object N, value[0].b = payload bytes K
 * (1..65536), value[1].a = generation G, value[1].b = storage selector.
 * Creates, or atomically replaces, the object in the selected storage with
 * header {TLS1, N, G, K} + K pattern bytes.
 * Errors: TEE_ERROR_BAD_PARAMETERS (types, K out of range, unknown storage
 * selector), TEE_ERROR_OUT_OF_MEMORY (heap), and whatever
 * TEE_CreatePersistentObject returns (TEE_ERROR_STORAGE_NO_SPACE,
 * TEE_ERROR_ACCESS_CONFLICT if the object is open elsewhere,
 * TEE_ERROR_ITEM_NOT_FOUND if OP-TEE has no such storage,
 * TEE_ERROR_STORAGE_NOT_AVAILABLE, TEE_ERROR_CORRUPT_OBJECT).
 */
static TEE_Result cmd_write(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t exp_pt = TEE_PARAM_TYPES(PT_VAL_IN, PT_VAL_IN,
						PT_NONE, PT_NONE);
	const uint32_t flags = TEE_DATA_FLAG_ACCESS_READ |
			       TEE_DATA_FLAG_ACCESS_WRITE |
			       TEE_DATA_FLAG_OVERWRITE;
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_Result res = TEE_ERROR_GENERIC;
	char id[TEELAB_STORAGE_OBJ_ID_MAX] = { 0 };
	size_t id_len = 0;
	uint8_t *buf = NULL;
	size_t size = 0;
	uint32_t n = 0;
	uint32_t k = 0;
	uint32_t g = 0;
	uint32_t storage = 0;

	if (pt != exp_pt)
		return TEE_ERROR_BAD_PARAMETERS;
	n = params[0].value.a;
	k = params[0].value.b;
	g = params[1].value.a;
	storage = teelab_storage_resolve(params[1].value.b);
	if (k < TEELAB_STORAGE_MIN_PAYLOAD || k > TEELAB_STORAGE_MAX_PAYLOAD)
		return TEE_ERROR_BAD_PARAMETERS;
	if (!storage)
		return TEE_ERROR_BAD_PARAMETERS;

	id_len = make_object_id(n, id);
	size = TEELAB_STORAGE_HDR_SIZE + k;
	buf = TEE_Malloc(size, TEE_MALLOC_FILL_ZERO);
	if (!buf) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	teelab_storage_put_le32(buf + TEELAB_STORAGE_HDR_MAGIC,
				TEELAB_STORAGE_MAGIC);
	teelab_storage_put_le32(buf + TEELAB_STORAGE_HDR_OBJECT, n);
	teelab_storage_put_le32(buf + TEELAB_STORAGE_HDR_GENERATION, g);
	teelab_storage_put_le32(buf + TEELAB_STORAGE_HDR_LENGTH, k);
	fill_pattern(buf + TEELAB_STORAGE_HDR_SIZE, n, g, k);

	res = TEE_CreatePersistentObject(storage, id, id_len, flags,
					 TEE_HANDLE_NULL, buf, size, &obj);
	if (res != TEE_SUCCESS)
		obj = TEE_HANDLE_NULL;
out:
	if (obj != TEE_HANDLE_NULL)
		TEE_CloseObject(obj);
	TEE_Free(buf);
	DMSG("write %s storage %#" PRIx32 " gen %" PRIu32 " len %" PRIu32
	     ": %#" PRIx32, id, storage, g, k, res);
	return res;
}

/*
 * CMD_VERIFY: value[0].a = object N, value[0].b = storage selector; out
 * value[1].a = generation G and value[1].b = payload length K found in the
 * header.  Reads the whole object from the selected storage and checks
 * magic, object number, length and every payload byte.
 * Errors: TEE_ERROR_BAD_PARAMETERS (types, unknown storage selector),
 * TEE_ERROR_ITEM_NOT_FOUND (absent, or no such storage in OP-TEE),
 * TEE_ERROR_OUT_OF_MEMORY, TEELAB_STORAGE_ERROR_BAD_HEADER,
 * TEELAB_STORAGE_ERROR_BAD_PATTERN, and what OP-TEE's storage returns
 * (TEE_ERROR_CORRUPT_OBJECT: OP-TEE found the object corrupt and removed
 * it; TEE_ERROR_ACCESS_CONFLICT: open for writing elsewhere;
 * TEE_ERROR_STORAGE_NOT_AVAILABLE).
 */
static TEE_Result cmd_verify(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t exp_pt = TEE_PARAM_TYPES(PT_VAL_IN, PT_VAL_OUT,
						PT_NONE, PT_NONE);
	const uint32_t flags = TEE_DATA_FLAG_ACCESS_READ |
			       TEE_DATA_FLAG_SHARE_READ;
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_ObjectInfo info = { 0 };
	TEE_Result res = TEE_ERROR_GENERIC;
	char id[TEELAB_STORAGE_OBJ_ID_MAX] = { 0 };
	uint8_t hdr[TEELAB_STORAGE_HDR_SIZE] = { 0 };
	size_t count = 0;
	uint8_t *buf = NULL;
	uint32_t n = 0;
	uint32_t g = 0;
	uint32_t k = 0;
	uint32_t off = 0;
	uint32_t bad = UINT32_MAX;
	uint32_t storage = 0;

	if (pt != exp_pt)
		return TEE_ERROR_BAD_PARAMETERS;
	n = params[0].value.a;
	storage = teelab_storage_resolve(params[0].value.b);
	if (!storage)
		return TEE_ERROR_BAD_PARAMETERS;

	res = open_object(storage, n, flags, id, &obj);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_GetObjectInfo1(obj, &info);
	if (res != TEE_SUCCESS) {
		forget_if_corrupt(res, &obj);
		goto out;
	}

	res = TEE_ReadObjectData(obj, hdr, sizeof(hdr), &count);
	if (res != TEE_SUCCESS) {
		forget_if_corrupt(res, &obj);
		goto out;
	}
	if (count != sizeof(hdr)) {
		EMSG("%s: %zu bytes, shorter than the header", id, count);
		res = TEELAB_STORAGE_ERROR_BAD_HEADER;
		goto out;
	}
	g = teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_GENERATION);
	k = teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_LENGTH);
	params[1].value.a = g;
	params[1].value.b = k;
	if (teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_MAGIC) !=
	    TEELAB_STORAGE_MAGIC ||
	    teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_OBJECT) != n ||
	    k < TEELAB_STORAGE_MIN_PAYLOAD ||
	    k > TEELAB_STORAGE_MAX_PAYLOAD ||
	    info.dataSize != TEELAB_STORAGE_HDR_SIZE + (size_t)k) {
		EMSG("%s: bad header: magic %#" PRIx32 " object %" PRIu32
		     " gen %" PRIu32 " len %" PRIu32 ", data size %zu", id,
		     teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_MAGIC),
		     teelab_storage_get_le32(hdr + TEELAB_STORAGE_HDR_OBJECT),
		     g, k, info.dataSize);
		res = TEELAB_STORAGE_ERROR_BAD_HEADER;
		goto out;
	}

	buf = TEE_Malloc(VERIFY_CHUNK, TEE_MALLOC_FILL_ZERO);
	if (!buf) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	for (off = 0; off < k; off += VERIFY_CHUNK) {
		uint32_t want = k - off;

		if (want > VERIFY_CHUNK)
			want = VERIFY_CHUNK;
		res = TEE_ReadObjectData(obj, buf, want, &count);
		if (res != TEE_SUCCESS) {
			forget_if_corrupt(res, &obj);
			goto out;
		}
		if (count != want) {
			EMSG("%s: short read at payload offset %" PRIu32
			     ": %zu of %" PRIu32 " bytes", id, off, count,
			     want);
			res = TEELAB_STORAGE_ERROR_BAD_HEADER;
			goto out;
		}
		bad = check_pattern(buf, n, g, off, want);
		if (bad != UINT32_MAX) {
			EMSG("%s gen %" PRIu32 ": payload byte %" PRIu32
			     " is %#x, expected %#x", id, g, bad,
			     buf[bad - off],
			     teelab_storage_pattern_byte(n, g, bad));
			res = TEELAB_STORAGE_ERROR_BAD_PATTERN;
			goto out;
		}
	}
	res = TEE_SUCCESS;
out:
	if (obj != TEE_HANDLE_NULL)
		TEE_CloseObject(obj);
	TEE_Free(buf);
	DMSG("verify %s storage %#" PRIx32 " gen %" PRIu32 " len %" PRIu32
	     ": %#" PRIx32, id, storage, g, k, res);
	return res;
}

/*
 * CMD_DELETE: value[0].a = object N, value[0].b = storage selector.
 * Deletes the object from the selected storage.
 * Errors: TEE_ERROR_BAD_PARAMETERS (types, unknown storage selector),
 * TEE_ERROR_ITEM_NOT_FOUND (absent, or no such storage in OP-TEE),
 * TEE_ERROR_ACCESS_CONFLICT (open elsewhere), TEE_ERROR_CORRUPT_OBJECT,
 * TEE_ERROR_STORAGE_NOT_AVAILABLE.
 */
static TEE_Result cmd_delete(uint32_t pt, TEE_Param params[TEE_NUM_PARAMS])
{
	const uint32_t exp_pt = TEE_PARAM_TYPES(PT_VAL_IN, PT_NONE,
						PT_NONE, PT_NONE);
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_Result res = TEE_ERROR_GENERIC;
	char id[TEELAB_STORAGE_OBJ_ID_MAX] = { 0 };
	uint32_t storage = 0;

	if (pt != exp_pt)
		return TEE_ERROR_BAD_PARAMETERS;
	storage = teelab_storage_resolve(params[0].value.b);
	if (!storage)
		return TEE_ERROR_BAD_PARAMETERS;

	res = open_object(storage, params[0].value.a,
			  TEE_DATA_FLAG_ACCESS_WRITE_META, id, &obj);
	if (res == TEE_SUCCESS) {
		/* Closes the handle whether or not the removal worked. */
		res = TEE_CloseAndDeletePersistentObject1(obj);
	}
	DMSG("delete %s storage %#" PRIx32 ": %#" PRIx32, id, storage, res);
	return res;
}

/*
 * Dispatches TEELAB_STORAGE_CMD_*.  Returns the command's result, or
 * TEE_ERROR_NOT_SUPPORTED for an unknown command ID.
 */
TEE_Result TA_InvokeCommandEntryPoint(void *sess_ctx, uint32_t cmd,
				      uint32_t pt,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	(void)sess_ctx;

	switch (cmd) {
	case TEELAB_STORAGE_CMD_WRITE:
		return cmd_write(pt, params);
	case TEELAB_STORAGE_CMD_VERIFY:
		return cmd_verify(pt, params);
	case TEELAB_STORAGE_CMD_DELETE:
		return cmd_delete(pt, params);
	case TEELAB_STORAGE_CMD_SLEEP:
		return tl_ta_cmd_sleep(pt, params);
	default:
		DMSG("unknown command %" PRIu32, cmd);
		return TEE_ERROR_NOT_SUPPORTED;
	}
}
