// SPDX-License-Identifier: GPL-2.0-only
/*
 * teelab_emmc.c - emulated eMMC host controller + eMMC 5.1 card with an
 * RPMB partition, registered with the real Linux MMC core.
 *
 * This is teelab's own code, written for the teelab QEMU lab (Linux TEE /
 * OP-TEE).  It is not derived from any Linux host driver.  It is licensed
 * GPL-2.0 because it is a Linux kernel module that links against GPL-only
 * exports (clk_prepare_enable(), the MMC host API, ...).
 *
 * What it implements
 * ------------------
 * A platform driver for the DT node
 *
 *     teelab-emmc { compatible = "teelab,emmc-rpmb";
 *                   clocks = <&scmi_clk 0>; clock-names = "core";
 *                   vmmc-supply = <&emmc_vcc>; };
 *
 * that registers an mmc_host whose ->request() runs an in-memory eMMC card
 * model.  The MMC core therefore enumerates a real "MMC" card, and mmc_block
 * creates /dev/mmcblk0 (user area, vmalloc'd) and /dev/mmcblk0rpmb (the RPMB
 * character device of drivers/mmc/core/block.c), and sysfs shows the CID/CSD
 * under /sys/class/mmc_host/mmc0/mmc0:0001/.
 *
 * References are to JEDEC JESD84-B51 (eMMC 5.1):
 *  - 6.4  Card identification mode / 6.4.3 power-up (CMD0 GO_IDLE_STATE,
 *         CMD1 SEND_OP_COND answered with the OCR (7.1): busy bit 31 set =
 *         power-up done, bits 30:29 = 10b sector access mode, VDD window
 *         2.7-3.6 V + 1.70-1.95 V), CMD2 ALL_SEND_CID, CMD3 SET_RELATIVE_ADDR.
 *  - 6.5/6.6 Data transfer mode: CMD7 SELECT/DESELECT, CMD9 SEND_CSD,
 *         CMD10 SEND_CID, CMD13 SEND_STATUS (R1 card status, 6.13),
 *         CMD12 STOP_TRANSMISSION, CMD16 SET_BLOCKLEN, CMD17/18 reads,
 *         CMD23 SET_BLOCK_COUNT (bit 31 = reliable write), CMD24/25 writes,
 *         CMD5 SLEEP_AWAKE, CMD6 SWITCH (6.6.1: access modes 0..3 on one
 *         EXT_CSD byte; unsupported bytes/values set SWITCH_ERROR, bit 7 of
 *         the status returned by the following CMD13).
 *  - 7.2  CID register (MID, CBX, OID, PNM "TLEMMC", PRV, PSN, MDT, CRC7).
 *  - 7.3  CSD register (CSD_STRUCTURE 3 = "version in EXT_CSD", SPEC_VERS 4,
 *         CCC = classes 0/2/4 (basic, block read, block write), 512-byte
 *         blocks, CRC7).
 *  - 7.4  EXT_CSD, by byte index: [504] S_CMD_SET, [267..269] PRE_EOL_INFO /
 *         DEVICE_LIFE_TIME_EST, [254..261] FIRMWARE_VERSION,
 *         [248] GENERIC_CMD6_TIME, [247] POWER_OFF_LONG_TIME,
 *         [226] BOOT_SIZE_MULT (0: no boot partitions), [224]
 *         HC_ERASE_GRP_SIZE, [223] ERASE_TIMEOUT_MULT, [222] REL_WR_SEC_C = 1,
 *         [221] HC_WP_GRP_SIZE, [217] S_A_TIMEOUT, [215..212] SEC_COUNT,
 *         [199] PARTITION_SWITCH_TIME, [196] DEVICE_TYPE (HS 26/52 MHz),
 *         [194] CSD_STRUCTURE, [192] EXT_CSD_REV = 8 (v5.1); writable modes
 *         segment: [185] HS_TIMING, [183] BUS_WIDTH, [179] PARTITION_CONFIG
 *         (PARTITION_ACCESS bits 2:0: 0 = user, 3 = RPMB), [175]
 *         ERASE_GROUP_DEF, [168] RPMB_SIZE_MULT (128 KiB units), [166]
 *         WR_REL_PARAM, [160] PARTITION_SUPPORT, [34] POWER_OFF_NOTIFICATION.
 *  - 6.6.22 Replay Protected Memory Block: 512-byte frames (stuff bytes
 *         [0..195], key/MAC [196..227], data [228..483], nonce [484..499],
 *         write counter [500..503] BE, address [504..505] BE (256-byte half
 *         sector units), block count [506..507] BE, result [508..509] BE,
 *         request/response type [510..511] BE).  Requests 0x0001 program
 *         key, 0x0002 read write counter, 0x0003 authenticated data write,
 *         0x0004 authenticated data read, 0x0005 result read; responses
 *         0x0100..0x0400.  Results: 0 OK, 1 general failure, 2
 *         authentication failure, 3 counter failure, 4 address failure,
 *         5 write failure, 6 read failure, 7 key not programmed; +0x80 when
 *         the write counter has expired.  MAC = HMAC-SHA256 over bytes
 *         228..511 of every frame of the message, in order.
 *
 * RPMB state (key, key-programmed flag, write counter, data) and the user
 * area live in kernel memory only; they survive card re-initialisation and
 * runtime suspend, not a module reload or a reboot.
 *
 * Every RPMB operation is logged with one pr_info() line:
 *   teelab-emmc: rpmb program-key result 0
 *   teelab-emmc: rpmb get-counter counter 5 result 0
 *   teelab-emmc: rpmb write addr 3 blocks 1 counter 5 result 0
 *   teelab-emmc: rpmb read addr 3 blocks 1 result 0
 *   teelab-emmc: rpmb result-read type 0x0300 counter 5 result 0
 * and counted in sysfs attributes of the platform device
 * (/sys/devices/platform/teelab-emmc/rpmb_writes, rpmb_reads, ...).
 *
 * Linux APIs relied on (checked against 6.12, Debian 6.12.117+deb12-arm64)
 * -----------------------------------------------------------------------
 *  - MMC host API: devm_mmc_alloc_host(), mmc_priv(), mmc_add_host(),
 *    mmc_remove_host(), mmc_request_done(), mmc_regulator_get_supply(),
 *    struct mmc_host_ops {request, set_ios, get_ro, get_cd},
 *    MMC_CAP_NONREMOVABLE | MMC_CAP_CMD23 (needed for the RPMB partition,
 *    see mmc_decode_ext_csd()) | MMC_CAP_WAIT_WHILE_BUSY | MMC_CAP_4_BIT_DATA
 *    | MMC_CAP_MMC_HIGHSPEED | MMC_CAP_SYNC_RUNTIME_PM (mmc_release_host()
 *    then suspends synchronously instead of queueing an autosuspend, so the
 *    card is powered down after every request and the next RPMB access
 *    always powers it up again through SCMI), MMC_CAP2_NO_SD | MMC_CAP2_NO_SDIO (the rescan
 *    then only sends the eMMC init sequence of drivers/mmc/core/mmc.c).
 *  - The RPMB ioctl path of drivers/mmc/core/block.c (6.12): every command
 *    issued through /dev/mmcblk0rpmb gets mrq->sbc = CMD23 with
 *    arg = blocks | (write_flag & BIT(31)); a stand-alone CMD23 from user
 *    space is also accepted.  As on a real card the last CMD23 wins.
 *  - Clock/regulator: devm_clk_get_optional(), clk_prepare_enable(),
 *    regulator_enable()/disable() on mmc->supply.vmmc.
 *  - Runtime PM: pm_runtime_set_autosuspend_delay(dev, 0),
 *    pm_runtime_use_autosuspend(), pm_runtime_enable(),
 *    pm_runtime_resume_and_get(), pm_runtime_mark_last_busy(),
 *    pm_runtime_put_autosuspend(), DEFINE_RUNTIME_DEV_PM_OPS().
 *  - Crypto: crypto_alloc_shash("hmac(sha256)", 0, 0), crypto_shash_setkey(),
 *    crypto_shash_init/update/final(), crypto_memneq().
 *  - platform_driver.remove returns void since 6.11, int before (6.1).
 *  - devm_mmc_alloc_host() since 6.2; on 6.1 mmc_alloc_host() with a devm
 *    action that calls mmc_free_host().
 */

#define pr_fmt(fmt) "teelab-emmc: " fmt

#include <linux/clk.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mmc/card.h>
#include <linux/mmc/core.h>
#include <linux/mmc/host.h>
#include <linux/mmc/mmc.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/regulator/consumer.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <linux/version.h>
#include <crypto/hash.h>
#if __has_include(<crypto/utils.h>)
#include <crypto/utils.h>		/* crypto_memneq() since 6.5 */
#else
#include <crypto/algapi.h>		/* crypto_memneq() before */
#endif

#define TL_DRV_NAME		"teelab-emmc"

/* ---- module parameters ---------------------------------------------- */

static unsigned int user_size_mib = 16;
module_param(user_size_mib, uint, 0444);
MODULE_PARM_DESC(user_size_mib, "user data area size in MiB (1..512, default 16)");

static unsigned int rpmb_size_mult = 32;
module_param(rpmb_size_mult, uint, 0444);
MODULE_PARM_DESC(rpmb_size_mult, "EXT_CSD RPMB_SIZE_MULT, RPMB size in 128 KiB units (1..128, default 32: 4 MiB, common on real parts)");

static unsigned int cid_serial = 0x7ee1ab01;
module_param(cid_serial, uint, 0444);
MODULE_PARM_DESC(cid_serial, "product serial number (PSN) in the CID");

static int vmmc = -1;
module_param(vmmc, int, 0444);
MODULE_PARM_DESC(vmmc, "vmmc-supply: -1 auto (use it if a regulator driver can serve it), 0 ignore, 1 require");

/* ---- card constants --------------------------------------------------- */

#define TL_SECTOR		512u
#define TL_MAX_REQ		(512u * 1024u)	/* == MMC_IOC_MAX_BYTES */
#define TL_MAX_BLKS		(TL_MAX_REQ / TL_SECTOR)
#define TL_F_MIN		400000u
#define TL_F_MAX		52000000u

/* OCR (JESD84-B51 7.1): 1.70-1.95 V, 2.7-3.6 V, sector access mode */
#define TL_OCR_VDD		(0x00ff8000u | 0x80u)
#define TL_OCR_SECTOR_MODE	(1u << 30)

/* eMMC state "slp" (R1 CURRENT_STATE 10) is not in linux/mmc/mmc.h */
#define TL_STATE_SLP		10

/* ---- RPMB frame format (JESD84-B51 6.6.22) ------------------------------ */

#define RPMB_FRAME		512u
#define RPMB_HALF_SECTOR	256u
#define RPMB_OFF_MAC		196u
#define RPMB_OFF_DATA		228u
#define RPMB_OFF_NONCE		484u
#define RPMB_OFF_WCNT		500u
#define RPMB_OFF_ADDR		504u
#define RPMB_OFF_BCNT		506u
#define RPMB_OFF_RESULT		508u
#define RPMB_OFF_TYPE		510u
#define RPMB_MAC_LEN		32u
#define RPMB_NONCE_LEN		16u
#define RPMB_MAC_SPAN		(RPMB_FRAME - RPMB_OFF_DATA)	/* 284 */
#define RPMB_MAX_WR_FRAMES	32u	/* EN_RPMB_REL_WR (WR_REL_PARAM bit 4) */

#define RPMB_REQ_KEY		0x0001
#define RPMB_REQ_WCNT		0x0002
#define RPMB_REQ_WRITE		0x0003
#define RPMB_REQ_READ		0x0004
#define RPMB_REQ_RESULT		0x0005
#define RPMB_RESP_KEY		0x0100
#define RPMB_RESP_WCNT		0x0200
#define RPMB_RESP_WRITE		0x0300
#define RPMB_RESP_READ		0x0400

#define RPMB_RES_OK		0x0000
#define RPMB_RES_GENERAL	0x0001
#define RPMB_RES_AUTH		0x0002
#define RPMB_RES_COUNTER	0x0003
#define RPMB_RES_ADDRESS	0x0004
#define RPMB_RES_WRITE		0x0005
#define RPMB_RES_READ		0x0006
#define RPMB_RES_NO_KEY		0x0007
#define RPMB_RES_EXPIRED	0x0080

/* pending read-type request (rpmb.pend_req) that is not valid */
#define RPMB_PEND_INVALID	0xffff

struct tl_rpmb {
	u8 *data;			/* rpmb.blocks * 256 bytes */
	u32 blocks;			/* size in 256-byte half sectors */
	bool key_set;
	u8 key[RPMB_MAC_LEN];
	u32 wcnt;			/* write counter */
	struct crypto_shash *hmac;	/* keyed once the key is programmed */

	/* last read-type request, answered by the next CMD18 */
	u16 pend_req;
	u16 pend_addr;
	u8 pend_nonce[RPMB_NONCE_LEN];

	/* result register of the last write-type request */
	bool res_valid;
	u16 res_type;
	u16 res_result;
	u16 res_addr;

	/* statistics */
	u64 writes;
	u64 reads;
	u64 counter_reads;
	u64 key_programs;
	u64 result_reads;
	u64 failures;
};

struct tl_emmc {
	struct mmc_host *mmc;
	struct device *dev;
	struct clk *clk;
	bool have_vmmc;
	bool clk_on;
	bool vmmc_on;

	struct workqueue_struct *wq;
	struct work_struct work;
	spinlock_t mrq_lock;		/* protects mrq */
	struct mmc_request *mrq;	/* the one request in flight */

	struct mutex lock;		/* card state below */
	bool powered;			/* per set_ios() power_mode */
	u32 state;			/* R1_STATE_* / TL_STATE_SLP */
	u16 rca;
	u32 status_err;			/* reported by the next R1 response */
	bool cnt_valid;			/* CMD23 seen, not yet consumed */
	u16 cnt;
	bool cnt_rel;
	u8 ext_csd[512];
	u32 cid[4];
	u32 csd[4];

	u8 *user;
	u32 user_sectors;

	u8 *xfer;			/* TL_MAX_REQ bounce buffer for RPMB */
	struct tl_rpmb rpmb;

	u64 requests;
	u64 runtime_resumes;
	u64 runtime_suspends;
};

/* ---- small helpers ------------------------------------------------------ */

static inline u16 tl_get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 tl_get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void tl_put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void tl_put_be32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* ======================================================================
 * RPMB engine (JESD84-B51 6.6.22).  Operates on whole 512-byte frames in
 * a linear buffer; the MAC is provided by tl_rpmb_mac().
 * ====================================================================== */

static int tl_rpmb_mac(struct tl_rpmb *r, const u8 *frames, unsigned int n,
		       u8 *out);
static int tl_rpmb_setkey(struct tl_rpmb *r, const u8 *key);

static u16 tl_rpmb_expired(const struct tl_rpmb *r)
{
	return (r->key_set && r->wcnt == 0xffffffffu) ? RPMB_RES_EXPIRED : 0;
}

/* Frames written by the host (CMD25 on the RPMB partition). */
static void tl_rpmb_write_frames(struct tl_rpmb *r, const u8 *f,
				 unsigned int n, bool rel)
{
	const u8 *last = f + (size_t)(n - 1) * RPMB_FRAME;
	u16 type = tl_get_be16(f + RPMB_OFF_TYPE);
	u8 mac[RPMB_MAC_LEN];
	u16 res, addr, bcnt;
	unsigned int i;
	u32 wc;

	switch (type) {
	case RPMB_REQ_KEY:
		r->pend_req = 0;
		r->key_programs++;
		if (n != 1 || !rel || r->key_set)
			res = RPMB_RES_GENERAL;
		else if (tl_rpmb_setkey(r, f + RPMB_OFF_MAC))
			res = RPMB_RES_WRITE;
		else
			res = RPMB_RES_OK;
		r->res_valid = true;
		r->res_type = RPMB_RESP_KEY;
		r->res_result = res;
		r->res_addr = 0;
		if (res)
			r->failures++;
		pr_info("rpmb program-key result %u\n", res);
		return;

	case RPMB_REQ_WRITE:
		r->pend_req = 0;
		r->writes++;
		addr = tl_get_be16(last + RPMB_OFF_ADDR);
		bcnt = tl_get_be16(last + RPMB_OFF_BCNT);
		wc = tl_get_be32(last + RPMB_OFF_WCNT);
		if (!r->key_set) {
			res = RPMB_RES_NO_KEY;
		} else if (!rel || bcnt != n || n > RPMB_MAX_WR_FRAMES) {
			res = RPMB_RES_GENERAL;
		} else if (r->wcnt == 0xffffffffu) {
			res = RPMB_RES_WRITE;
		} else if (addr >= r->blocks || n > r->blocks - addr) {
			res = RPMB_RES_ADDRESS;
		} else if (tl_rpmb_mac(r, f, n, mac)) {
			res = RPMB_RES_GENERAL;
		} else if (crypto_memneq(mac, last + RPMB_OFF_MAC,
					 RPMB_MAC_LEN)) {
			res = RPMB_RES_AUTH;
		} else if (wc != r->wcnt) {
			res = RPMB_RES_COUNTER;
		} else {
			for (i = 0; i < n; i++)
				memcpy(r->data + (size_t)(addr + i) *
				       RPMB_HALF_SECTOR,
				       f + (size_t)i * RPMB_FRAME +
				       RPMB_OFF_DATA, RPMB_HALF_SECTOR);
			r->wcnt++;
			res = RPMB_RES_OK;
		}
		res |= tl_rpmb_expired(r);
		r->res_valid = true;
		r->res_type = RPMB_RESP_WRITE;
		r->res_result = res;
		r->res_addr = addr;
		if (res & ~RPMB_RES_EXPIRED)
			r->failures++;
		memzero_explicit(mac, sizeof(mac));
		pr_info("rpmb write addr %u blocks %u counter %u result %u\n",
			addr, n, r->wcnt, res);
		return;

	case RPMB_REQ_WCNT:
	case RPMB_REQ_READ:
	case RPMB_REQ_RESULT:
		/* read-type requests: one frame, answered by the next CMD18 */
		r->pend_req = (n == 1) ? type : RPMB_PEND_INVALID;
		r->pend_addr = tl_get_be16(f + RPMB_OFF_ADDR);
		memcpy(r->pend_nonce, f + RPMB_OFF_NONCE, RPMB_NONCE_LEN);
		return;

	default:
		r->pend_req = RPMB_PEND_INVALID;
		r->failures++;
		pr_info("rpmb unknown request type 0x%04x blocks %u result %u\n",
			type, n, RPMB_RES_GENERAL);
		return;
	}
}

/* Fill n response frames in f (CMD18 on the RPMB partition). */
static void tl_rpmb_read_frames(struct tl_rpmb *r, u8 *f, unsigned int n)
{
	u8 *last = f + (size_t)(n - 1) * RPMB_FRAME;
	u16 req = r->pend_req;
	u16 type, res, addr = 0;
	bool mac = false;
	unsigned int i;
	u32 wcnt = 0;

	memset(f, 0, (size_t)n * RPMB_FRAME);
	r->pend_req = 0;	/* a request is answered once */

	switch (req) {
	case RPMB_REQ_WCNT:
		r->counter_reads++;
		type = RPMB_RESP_WCNT;
		if (n != 1)
			res = RPMB_RES_GENERAL;
		else if (!r->key_set)
			res = RPMB_RES_NO_KEY;
		else
			res = RPMB_RES_OK;
		wcnt = r->key_set ? r->wcnt : 0;
		mac = r->key_set && n == 1;
		break;

	case RPMB_REQ_READ:
		r->reads++;
		type = RPMB_RESP_READ;
		addr = r->pend_addr;
		if (!r->key_set)
			res = RPMB_RES_NO_KEY;
		else if (addr >= r->blocks || n > r->blocks - addr)
			res = RPMB_RES_ADDRESS;
		else
			res = RPMB_RES_OK;
		if (res == RPMB_RES_OK)
			for (i = 0; i < n; i++)
				memcpy(f + (size_t)i * RPMB_FRAME +
				       RPMB_OFF_DATA,
				       r->data + (size_t)(addr + i) *
				       RPMB_HALF_SECTOR, RPMB_HALF_SECTOR);
		mac = r->key_set;
		break;

	case RPMB_REQ_RESULT:
		r->result_reads++;
		if (r->res_valid && n == 1) {
			type = r->res_type;
			res = r->res_result;
			addr = r->res_addr;
		} else {
			type = RPMB_RESP_WRITE;
			res = RPMB_RES_GENERAL;
		}
		wcnt = r->key_set ? r->wcnt : 0;
		/* the key programming result carries no MAC */
		mac = r->key_set && type == RPMB_RESP_WRITE && n == 1;
		break;

	default:
		/* CMD18 without (a valid) preceding request */
		type = 0;
		res = RPMB_RES_GENERAL;
		break;
	}
	res |= tl_rpmb_expired(r);
	/* a result read re-reports a write already counted as failed */
	if ((res & ~RPMB_RES_EXPIRED) && req != RPMB_REQ_RESULT)
		r->failures++;

	for (i = 0; i < n; i++) {
		u8 *fr = f + (size_t)i * RPMB_FRAME;

		if (req == RPMB_REQ_WCNT || req == RPMB_REQ_READ)
			memcpy(fr + RPMB_OFF_NONCE, r->pend_nonce,
			       RPMB_NONCE_LEN);
		tl_put_be32(fr + RPMB_OFF_WCNT, wcnt);
		tl_put_be16(fr + RPMB_OFF_ADDR, addr);
		tl_put_be16(fr + RPMB_OFF_BCNT,
			    req == RPMB_REQ_READ ? (u16)n : 0);
		tl_put_be16(fr + RPMB_OFF_RESULT, res);
		tl_put_be16(fr + RPMB_OFF_TYPE, type);
	}
	if (mac && tl_rpmb_mac(r, f, n, last + RPMB_OFF_MAC)) {
		/* could not compute the MAC: report it, do not leak data */
		memset(f, 0, (size_t)n * RPMB_FRAME);
		res = RPMB_RES_READ | tl_rpmb_expired(r);
		for (i = 0; i < n; i++) {
			u8 *fr = f + (size_t)i * RPMB_FRAME;

			tl_put_be16(fr + RPMB_OFF_RESULT, res);
			tl_put_be16(fr + RPMB_OFF_TYPE, type);
		}
	}

	switch (req) {
	case RPMB_REQ_WCNT:
		pr_info("rpmb get-counter counter %u result %u\n", wcnt, res);
		break;
	case RPMB_REQ_READ:
		pr_info("rpmb read addr %u blocks %u result %u\n",
			addr, n, res);
		break;
	case RPMB_REQ_RESULT:
		pr_info("rpmb result-read type 0x%04x counter %u result %u\n",
			type, wcnt, res);
		break;
	default:
		pr_info("rpmb read without request blocks %u result %u\n",
			n, res);
		break;
	}
}

/* ==================== end of the RPMB engine ========================== */

static int tl_rpmb_setkey(struct tl_rpmb *r, const u8 *key)
{
	int ret;

	ret = crypto_shash_setkey(r->hmac, key, RPMB_MAC_LEN);
	if (ret)
		return ret;
	memcpy(r->key, key, RPMB_MAC_LEN);
	r->key_set = true;
	return 0;
}

static int tl_rpmb_mac(struct tl_rpmb *r, const u8 *frames, unsigned int n,
		       u8 *out)
{
	SHASH_DESC_ON_STACK(desc, r->hmac);
	unsigned int i;
	int ret;

	desc->tfm = r->hmac;
	ret = crypto_shash_init(desc);
	for (i = 0; !ret && i < n; i++)
		ret = crypto_shash_update(desc, frames + (size_t)i * RPMB_FRAME +
					  RPMB_OFF_DATA, RPMB_MAC_SPAN);
	if (!ret)
		ret = crypto_shash_final(desc, out);
	shash_desc_zero(desc);
	return ret;
}

/* ---- CID / CSD / EXT_CSD ------------------------------------------------ */

/* CRC7, G(x) = x^7 + x^3 + 1, MSB first (JESD84-B51 8.2) */
static u8 tl_crc7(const u8 *buf, size_t len)
{
	u8 crc = 0;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		for (bit = 7; bit >= 0; bit--) {
			u8 in = (buf[i] >> bit) & 1;
			u8 fb = in ^ ((crc >> 6) & 1);

			crc = (crc << 1) & 0x7f;
			if (fb)
				crc ^= 0x09;
		}
	}
	return crc;
}

/* put @val into bits [lsb + width - 1 : lsb] of a 128-bit register */
static void tl_reg_bits(u8 raw[16], unsigned int lsb, unsigned int width,
			u32 val)
{
	unsigned int i;

	for (i = 0; i < width; i++) {
		unsigned int bit = lsb + i;

		if (bit < 128 && ((val >> i) & 1))
			raw[15 - bit / 8] |= 1u << (bit % 8);
	}
}

/* finish a 128-bit register (CRC7 + end bit) and store it as an R2 reply */
static void tl_reg_finish(u8 raw[16], u32 resp[4])
{
	unsigned int i;

	raw[15] = (tl_crc7(raw, 15) << 1) | 1;
	for (i = 0; i < 4; i++)
		resp[i] = tl_get_be32(raw + 4 * i);
}

static void tl_build_cid(struct tl_emmc *h)
{
	static const char pnm[6] = { 'T', 'L', 'E', 'M', 'M', 'C' };
	u8 raw[16] = { 0 };
	unsigned int i;

	tl_reg_bits(raw, 120, 8, 0xa5);		/* MID */
	tl_reg_bits(raw, 112, 2, 0x1);		/* CBX: BGA (discrete embedded) */
	tl_reg_bits(raw, 104, 8, 0x54);		/* OID */
	for (i = 0; i < 6; i++)			/* PNM [103:56] */
		tl_reg_bits(raw, 96 - 8 * i, 8, pnm[i]);
	tl_reg_bits(raw, 48, 8, 0x10);		/* PRV 1.0 */
	tl_reg_bits(raw, 16, 32, cid_serial);	/* PSN */
	tl_reg_bits(raw, 12, 4, 1);		/* MDT month: January */
	tl_reg_bits(raw, 8, 4, 12);		/* MDT year: 2009 + 16 = 2025 */
	tl_reg_finish(raw, h->cid);
}

static void tl_build_csd(struct tl_emmc *h)
{
	u8 raw[16] = { 0 };
	u32 c_size;

	/* legacy capacity (C_SIZE+1) * 2^(C_SIZE_MULT+2) * 2^READ_BL_LEN */
	c_size = min_t(u32, h->user_sectors / 512u, 4096u) - 1;

	tl_reg_bits(raw, 126, 2, 3);	/* CSD_STRUCTURE: in EXT_CSD */
	tl_reg_bits(raw, 122, 4, 4);	/* SPEC_VERS: 4.x+ */
	tl_reg_bits(raw, 112, 8, 0x0e);	/* TAAC: 1 ms */
	tl_reg_bits(raw, 104, 8, 0x00);	/* NSAC */
	tl_reg_bits(raw, 96, 8, 0x32);	/* TRAN_SPEED: 25 MHz */
	tl_reg_bits(raw, 84, 12, 0x015);	/* CCC: classes 0, 2, 4 */
	tl_reg_bits(raw, 80, 4, 9);	/* READ_BL_LEN: 512 */
	tl_reg_bits(raw, 62, 12, c_size);	/* C_SIZE */
	tl_reg_bits(raw, 59, 3, 7);	/* VDD_R_CURR_MIN */
	tl_reg_bits(raw, 56, 3, 7);	/* VDD_R_CURR_MAX */
	tl_reg_bits(raw, 53, 3, 7);	/* VDD_W_CURR_MIN */
	tl_reg_bits(raw, 50, 3, 7);	/* VDD_W_CURR_MAX */
	tl_reg_bits(raw, 47, 3, 7);	/* C_SIZE_MULT: 512 */
	tl_reg_bits(raw, 26, 3, 2);	/* R2W_FACTOR */
	tl_reg_bits(raw, 22, 4, 9);	/* WRITE_BL_LEN: 512 */
	tl_reg_finish(raw, h->csd);
}

static void tl_build_ext_csd(struct tl_emmc *h)
{
	u8 *e = h->ext_csd;

	memset(e, 0, sizeof(h->ext_csd));
	/* properties segment */
	e[504] = 0x01;					/* S_CMD_SET */
	e[EXT_CSD_DEVICE_LIFE_TIME_EST_TYP_B] = 0x01;
	e[EXT_CSD_DEVICE_LIFE_TIME_EST_TYP_A] = 0x01;
	e[EXT_CSD_PRE_EOL_INFO] = 0x01;
	memcpy(&e[EXT_CSD_FIRMWARE_VERSION], "teelab01", 8);
	e[EXT_CSD_GENERIC_CMD6_TIME] = 10;		/* 100 ms */
	e[EXT_CSD_POWER_OFF_LONG_TIME] = 50;		/* 500 ms */
	e[EXT_CSD_BOOT_MULT] = 0;
	e[EXT_CSD_HC_ERASE_GRP_SIZE] = 1;
	e[EXT_CSD_ERASE_TIMEOUT_MULT] = 1;
	e[EXT_CSD_REL_WR_SEC_C] = 1;
	e[EXT_CSD_HC_WP_GRP_SIZE] = 1;
	e[EXT_CSD_S_A_TIMEOUT] = 0x10;
	e[EXT_CSD_SEC_CNT + 0] = h->user_sectors & 0xff;
	e[EXT_CSD_SEC_CNT + 1] = (h->user_sectors >> 8) & 0xff;
	e[EXT_CSD_SEC_CNT + 2] = (h->user_sectors >> 16) & 0xff;
	e[EXT_CSD_SEC_CNT + 3] = (h->user_sectors >> 24) & 0xff;
	e[EXT_CSD_PART_SWITCH_TIME] = 1;		/* 10 ms */
	e[EXT_CSD_OUT_OF_INTERRUPT_TIME] = 1;
	e[EXT_CSD_DRIVER_STRENGTH] = 0x01;
	e[EXT_CSD_CARD_TYPE] = EXT_CSD_CARD_TYPE_HS_26 | EXT_CSD_CARD_TYPE_HS_52;
	e[EXT_CSD_STRUCTURE] = 2;
	e[EXT_CSD_REV] = 8;				/* eMMC 5.1 */
	/* modes segment */
	e[EXT_CSD_RPMB_MULT] = rpmb_size_mult;
	e[EXT_CSD_WR_REL_PARAM] = EXT_CSD_WR_REL_PARAM_EN |
				  EXT_CSD_WR_REL_PARAM_EN_RPMB_REL_WR;
	e[EXT_CSD_PARTITION_SUPPORT] = EXT_CSD_PART_SUPPORT_PART_EN;
	e[EXT_CSD_PARTITION_SETTING_COMPLETED] = EXT_CSD_PART_SETTING_COMPLETED;
	e[EXT_CSD_PART_CONFIG] = 0;
}

/* CMD0 / power cycle: everything volatile goes back to its default */
static void tl_card_reset(struct tl_emmc *h)
{
	h->state = R1_STATE_IDLE;
	h->rca = 1;
	h->status_err = 0;
	h->cnt_valid = false;
	h->ext_csd[EXT_CSD_HS_TIMING] = 0;
	h->ext_csd[EXT_CSD_BUS_WIDTH] = 0;
	h->ext_csd[EXT_CSD_PART_CONFIG] &= ~EXT_CSD_PART_CONFIG_ACC_MASK;
	h->ext_csd[EXT_CSD_POWER_OFF_NOTIFICATION] = 0;
	h->ext_csd[EXT_CSD_ERASE_GROUP_DEF] = 0;
	h->ext_csd[EXT_CSD_POWER_CLASS] = 0;
	h->rpmb.pend_req = 0;
}

/* ---- command handling --------------------------------------------------- */

static u32 tl_r1(struct tl_emmc *h)
{
	u32 st = (h->state << 9) | h->status_err;

	if (h->state == R1_STATE_TRAN || h->state == R1_STATE_STBY)
		st |= R1_READY_FOR_DATA;
	h->status_err = 0;	/* "clear on read" bits */
	return st;
}

static bool tl_rca_match(struct tl_emmc *h, u32 arg)
{
	return (arg >> 16) == h->rca;
}

static size_t tl_sg_len(struct mmc_data *data)
{
	struct scatterlist *sg;
	size_t len = 0;
	unsigned int i;

	for_each_sg(data->sg, sg, data->sg_len, i)
		len += sg->length;
	return len;
}

static bool tl_ext_csd_writable(unsigned int idx)
{
	switch (idx) {
	case EXT_CSD_FLUSH_CACHE:
	case EXT_CSD_CACHE_CTRL:
	case EXT_CSD_POWER_OFF_NOTIFICATION:
	case EXT_CSD_HPI_MGMT:
	case EXT_CSD_RST_N_FUNCTION:
	case EXT_CSD_BKOPS_EN:
	case EXT_CSD_BOOT_WP:
	case EXT_CSD_ERASE_GROUP_DEF:
	case EXT_CSD_PART_CONFIG:
	case EXT_CSD_BUS_WIDTH:
	case EXT_CSD_HS_TIMING:
	case EXT_CSD_POWER_CLASS:
		return true;
	default:
		return false;
	}
}

static bool tl_ext_csd_value_ok(struct tl_emmc *h, unsigned int idx, u8 val)
{
	switch (idx) {
	case EXT_CSD_PART_CONFIG:
		switch (val & EXT_CSD_PART_CONFIG_ACC_MASK) {
		case 0:
			return true;
		case EXT_CSD_PART_CONFIG_ACC_RPMB:
			return h->rpmb.blocks != 0;
		default:
			return false;	/* no boot or GP partitions */
		}
	case EXT_CSD_BUS_WIDTH:
		return val == EXT_CSD_BUS_WIDTH_1 || val == EXT_CSD_BUS_WIDTH_4 ||
		       val == EXT_CSD_BUS_WIDTH_8;
	case EXT_CSD_HS_TIMING:
		return (val & 0x0f) <= EXT_CSD_TIMING_HS;
	case EXT_CSD_POWER_OFF_NOTIFICATION:
		return val <= 4;
	case EXT_CSD_CACHE_CTRL:
		return val == 0;	/* CACHE_SIZE is 0 */
	default:
		return true;
	}
}

static void tl_cmd_switch(struct tl_emmc *h, struct mmc_command *cmd)
{
	unsigned int mode = (cmd->arg >> 24) & 0x3;
	unsigned int idx = (cmd->arg >> 16) & 0xff;
	u8 val = (cmd->arg >> 8) & 0xff;
	u8 nv;

	cmd->resp[0] = tl_r1(h);
	if (mode == MMC_SWITCH_MODE_CMD_SET)
		return;
	if (!tl_ext_csd_writable(idx)) {
		h->status_err |= R1_SWITCH_ERROR;
		dev_dbg(h->dev, "CMD6 to read-only EXT_CSD[%u]\n", idx);
		return;
	}
	switch (mode) {
	case MMC_SWITCH_MODE_SET_BITS:
		nv = h->ext_csd[idx] | val;
		break;
	case MMC_SWITCH_MODE_CLEAR_BITS:
		nv = h->ext_csd[idx] & ~val;
		break;
	default:
		nv = val;
		break;
	}
	if (!tl_ext_csd_value_ok(h, idx, nv)) {
		h->status_err |= R1_SWITCH_ERROR;
		dev_dbg(h->dev, "CMD6 EXT_CSD[%u] = 0x%02x rejected\n", idx, nv);
		return;
	}
	if (idx == EXT_CSD_FLUSH_CACHE)
		nv = 0;		/* nothing cached; the bit self-clears */
	h->ext_csd[idx] = nv;
	dev_dbg(h->dev, "CMD6 EXT_CSD[%u] = 0x%02x\n", idx, nv);
}

/* CMD8 SEND_EXT_CSD, CMD17/18 reads, CMD24/25 writes */
static void tl_cmd_data(struct tl_emmc *h, struct mmc_command *cmd,
			struct mmc_data *data, bool write, bool multi)
{
	unsigned int part = h->ext_csd[EXT_CSD_PART_CONFIG] &
			    EXT_CSD_PART_CONFIG_ACC_MASK;
	bool cnt_valid = h->cnt_valid, rel = h->cnt_rel;
	unsigned int cnt = h->cnt;
	size_t len, done;

	/* a CMD23 applies to the next data command only */
	h->cnt_valid = false;
	h->cnt_rel = false;
	/*
	 * block.c (6.12) puts sbc = CMD23 with arg = data.blocks in front of
	 * every RPMB ioctl command, also data-less ones: count 0 = no count.
	 */
	if (!cnt) {
		cnt_valid = false;
		rel = false;
	}

	if (!data || !data->sg || !data->sg_len) {
		cmd->error = -EINVAL;
		return;
	}
	cmd->resp[0] = tl_r1(h);

	if (data->blksz != TL_SECTOR || !data->blocks ||
	    data->blocks > TL_MAX_BLKS || (!multi && data->blocks != 1) ||
	    !!(data->flags & MMC_DATA_WRITE) != write ||
	    !!(data->flags & MMC_DATA_READ) == write) {
		cmd->resp[0] |= R1_BLOCK_LEN_ERROR;
		data->error = -EINVAL;
		return;
	}
	len = (size_t)data->blocks * TL_SECTOR;
	if (tl_sg_len(data) < len) {
		data->error = -EINVAL;
		return;
	}
	if (multi && cnt_valid && cnt != data->blocks) {
		dev_warn_ratelimited(h->dev,
				     "CMD%u: CMD23 count %u != %u data blocks\n",
				     cmd->opcode, cnt, data->blocks);
		cmd->resp[0] |= R1_ERROR;
		data->error = -EIO;
		return;
	}

	if (cmd->opcode == MMC_SEND_EXT_CSD) {
		done = sg_copy_from_buffer(data->sg, data->sg_len, h->ext_csd,
					   sizeof(h->ext_csd));
		data->bytes_xfered = done;
		if (done != sizeof(h->ext_csd))
			data->error = -EIO;
		return;
	}

	if (part == EXT_CSD_PART_CONFIG_ACC_RPMB) {
		/* RPMB: CMD25 / CMD18 with CMD23 only (JESD84-B51 6.6.22) */
		if (!multi) {
			cmd->resp[0] |= R1_ERROR;
			cmd->error = -EINVAL;
			return;
		}
		if (write) {
			done = sg_copy_to_buffer(data->sg, data->sg_len,
						 h->xfer, len);
			if (done != len) {
				data->error = -EIO;
				return;
			}
			tl_rpmb_write_frames(&h->rpmb, h->xfer, data->blocks,
					     cnt_valid && rel);
		} else {
			tl_rpmb_read_frames(&h->rpmb, h->xfer, data->blocks);
			done = sg_copy_from_buffer(data->sg, data->sg_len,
						   h->xfer, len);
			if (done != len) {
				data->error = -EIO;
				return;
			}
		}
		data->bytes_xfered = len;
		return;
	}

	if (part != 0) {
		cmd->resp[0] |= R1_ERROR;
		data->error = -EIO;
		return;
	}

	/* user data area, sector addressing */
	if (cmd->arg >= h->user_sectors ||
	    data->blocks > h->user_sectors - cmd->arg) {
		cmd->resp[0] |= R1_OUT_OF_RANGE;
		data->error = -EIO;
		return;
	}
	if (write)
		done = sg_copy_to_buffer(data->sg, data->sg_len,
					 h->user + (size_t)cmd->arg * TL_SECTOR,
					 len);
	else
		done = sg_copy_from_buffer(data->sg, data->sg_len,
					   h->user + (size_t)cmd->arg * TL_SECTOR,
					   len);
	data->bytes_xfered = done;
	if (done != len)
		data->error = -EIO;
}

static void tl_do_cmd(struct tl_emmc *h, struct mmc_command *cmd,
		      struct mmc_data *data)
{
	u32 arg = cmd->arg;

	memset(cmd->resp, 0, sizeof(cmd->resp));
	cmd->error = 0;

	if (!h->powered) {
		cmd->error = -ETIMEDOUT;
		return;
	}

	switch (cmd->opcode) {
	case MMC_GO_IDLE_STATE:		/* CMD0, bc, no response */
		tl_card_reset(h);
		return;

	case MMC_SEND_OP_COND:		/* CMD1, bcr, R3 */
		if (h->state != R1_STATE_IDLE && h->state != R1_STATE_READY)
			goto no_response;
		/* power-up is instantaneous: busy bit (ready) always set */
		cmd->resp[0] = MMC_CARD_BUSY | TL_OCR_SECTOR_MODE | TL_OCR_VDD;
		if (arg & TL_OCR_VDD)
			h->state = R1_STATE_READY;
		return;

	case MMC_ALL_SEND_CID:		/* CMD2, bcr, R2 */
		if (h->state != R1_STATE_READY)
			goto no_response;
		memcpy(cmd->resp, h->cid, sizeof(h->cid));
		h->state = R1_STATE_IDENT;
		return;

	case MMC_SET_RELATIVE_ADDR:	/* CMD3, ac, R1 */
		if (h->state != R1_STATE_IDENT || !(arg >> 16))
			goto no_response;
		cmd->resp[0] = tl_r1(h);
		h->rca = arg >> 16;
		h->state = R1_STATE_STBY;
		return;

	case MMC_SLEEP_AWAKE:		/* CMD5, ac, R1b */
		if (mmc_cmd_type(cmd) == MMC_CMD_BCR)
			goto no_response;	/* SDIO CMD5 probe */
		if (!tl_rca_match(h, arg))
			goto no_response;
		if (arg & (1u << 15)) {
			if (h->state != R1_STATE_STBY)
				goto no_response;
			cmd->resp[0] = tl_r1(h);
			h->state = TL_STATE_SLP;
		} else {
			if (h->state != TL_STATE_SLP)
				goto no_response;
			cmd->resp[0] = tl_r1(h);
			h->state = R1_STATE_STBY;
		}
		return;

	case MMC_SWITCH:		/* CMD6, ac, R1b */
		if (h->state != R1_STATE_TRAN)
			goto no_response;
		tl_cmd_switch(h, cmd);
		return;

	case MMC_SELECT_CARD:		/* CMD7, ac, R1/R1b */
		if (tl_rca_match(h, arg) && h->rca) {
			if (h->state != R1_STATE_STBY &&
			    h->state != R1_STATE_TRAN)
				goto no_response;
			cmd->resp[0] = tl_r1(h);
			h->state = R1_STATE_TRAN;
		} else if (h->state == R1_STATE_TRAN) {
			/* deselected: moves to stby, does not answer */
			h->state = R1_STATE_STBY;
		}
		return;

	case MMC_SEND_EXT_CSD:		/* CMD8, adtc, R1 */
		if (!data)
			goto no_response;	/* SD SEND_IF_COND probe */
		if (h->state != R1_STATE_TRAN)
			goto no_response;
		tl_cmd_data(h, cmd, data, false, false);
		return;

	case MMC_SEND_CSD:		/* CMD9, ac, R2 */
	case MMC_SEND_CID:		/* CMD10, ac, R2 */
		if (h->state != R1_STATE_STBY || !tl_rca_match(h, arg))
			goto no_response;
		if (cmd->opcode == MMC_SEND_CSD)
			memcpy(cmd->resp, h->csd, sizeof(h->csd));
		else
			memcpy(cmd->resp, h->cid, sizeof(h->cid));
		return;

	case MMC_STOP_TRANSMISSION:	/* CMD12, ac, R1/R1b */
		if (h->state != R1_STATE_TRAN && h->state != R1_STATE_DATA &&
		    h->state != R1_STATE_RCV)
			goto no_response;
		cmd->resp[0] = tl_r1(h);
		h->state = R1_STATE_TRAN;
		h->cnt_valid = false;
		return;

	case MMC_SEND_STATUS:		/* CMD13, ac, R1 */
		if (!tl_rca_match(h, arg) || h->state == R1_STATE_IDLE ||
		    h->state == R1_STATE_READY || h->state == R1_STATE_IDENT ||
		    h->state == TL_STATE_SLP)
			goto no_response;
		cmd->resp[0] = tl_r1(h);
		return;

	case MMC_SET_BLOCKLEN:		/* CMD16, ac, R1 */
		if (h->state != R1_STATE_TRAN)
			goto no_response;
		cmd->resp[0] = tl_r1(h);
		if (arg != TL_SECTOR)
			cmd->resp[0] |= R1_BLOCK_LEN_ERROR;
		return;

	case MMC_READ_SINGLE_BLOCK:	/* CMD17 */
	case MMC_READ_MULTIPLE_BLOCK:	/* CMD18 */
	case MMC_WRITE_BLOCK:		/* CMD24 */
	case MMC_WRITE_MULTIPLE_BLOCK:	/* CMD25 */
		if (h->state != R1_STATE_TRAN)
			goto no_response;
		tl_cmd_data(h, cmd, data,
			    cmd->opcode == MMC_WRITE_BLOCK ||
			    cmd->opcode == MMC_WRITE_MULTIPLE_BLOCK,
			    cmd->opcode == MMC_READ_MULTIPLE_BLOCK ||
			    cmd->opcode == MMC_WRITE_MULTIPLE_BLOCK);
		return;

	case MMC_SET_BLOCK_COUNT:	/* CMD23, ac, R1 */
		if (h->state != R1_STATE_TRAN)
			goto no_response;
		cmd->resp[0] = tl_r1(h);
		h->cnt = arg & 0xffff;
		h->cnt_rel = !!(arg & (1u << 31));
		h->cnt_valid = true;
		return;

	default:
		dev_dbg(h->dev, "unsupported CMD%u arg 0x%08x\n",
			cmd->opcode, arg);
		cmd->error = -EINVAL;
		return;
	}

no_response:
	/* a real card ignores a command that is illegal in its state */
	dev_dbg(h->dev, "CMD%u arg 0x%08x ignored in state %u\n",
		cmd->opcode, arg, h->state);
	cmd->error = -ETIMEDOUT;
}

static void tl_handle_mrq(struct tl_emmc *h, struct mmc_request *mrq)
{
	struct mmc_data *data = mrq->data;

	h->requests++;
	if (mrq->sbc) {
		tl_do_cmd(h, mrq->sbc, NULL);
		if (mrq->sbc->error)
			return;
	}
	tl_do_cmd(h, mrq->cmd, data);
	if (mrq->cmd->error)
		return;
	/* with CMD23 the transfer ends by itself: CMD12 only after an error */
	if (mrq->stop && data && (!mrq->sbc || data->error))
		tl_do_cmd(h, mrq->stop, NULL);
}

static void tl_work(struct work_struct *work)
{
	struct tl_emmc *h = container_of(work, struct tl_emmc, work);
	struct mmc_request *mrq;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&h->mrq_lock, flags);
	mrq = h->mrq;
	spin_unlock_irqrestore(&h->mrq_lock, flags);
	if (!mrq)
		return;

	/* every access powers the controller (clock, vmmc) up again */
	ret = pm_runtime_resume_and_get(h->dev);
	if (ret < 0) {
		dev_err_ratelimited(h->dev, "runtime resume failed: %d\n", ret);
		mrq->cmd->error = ret;
	} else {
		mutex_lock(&h->lock);
		tl_handle_mrq(h, mrq);
		mutex_unlock(&h->lock);
		pm_runtime_mark_last_busy(h->dev);
		pm_runtime_put_autosuspend(h->dev);
	}

	spin_lock_irqsave(&h->mrq_lock, flags);
	h->mrq = NULL;
	spin_unlock_irqrestore(&h->mrq_lock, flags);
	mmc_request_done(h->mmc, mrq);
}

/* ---- mmc_host_ops ------------------------------------------------------- */

static void tl_request(struct mmc_host *mmc, struct mmc_request *mrq)
{
	struct tl_emmc *h = mmc_priv(mmc);
	unsigned long flags;
	bool busy;

	spin_lock_irqsave(&h->mrq_lock, flags);
	busy = h->mrq != NULL;
	if (!busy)
		h->mrq = mrq;
	spin_unlock_irqrestore(&h->mrq_lock, flags);

	if (busy) {
		/* the core never overlaps requests; refuse, do not crash */
		dev_err_ratelimited(h->dev, "request while busy\n");
		mrq->cmd->error = -EBUSY;
		mmc_request_done(mmc, mrq);
		return;
	}
	queue_work(h->wq, &h->work);
}

static void tl_set_ios(struct mmc_host *mmc, struct mmc_ios *ios)
{
	struct tl_emmc *h = mmc_priv(mmc);

	mutex_lock(&h->lock);
	switch (ios->power_mode) {
	case MMC_POWER_OFF:
		if (h->powered)
			dev_dbg(h->dev, "card power off\n");
		h->powered = false;
		tl_card_reset(h);
		break;
	case MMC_POWER_UP:
	case MMC_POWER_ON:
		if (!h->powered) {
			dev_dbg(h->dev, "card power on\n");
			tl_card_reset(h);
		}
		h->powered = true;
		break;
	default:
		break;
	}
	mutex_unlock(&h->lock);
	dev_dbg(h->dev, "ios: clock %u Hz, bus width %u, timing %u, vdd %u\n",
		ios->clock, 1u << ios->bus_width, ios->timing, ios->vdd);
}

static int tl_get_ro(struct mmc_host *mmc)
{
	return 0;
}

static int tl_get_cd(struct mmc_host *mmc)
{
	return 1;
}

static const struct mmc_host_ops tl_ops = {
	.request	= tl_request,
	.set_ios	= tl_set_ios,
	.get_ro		= tl_get_ro,
	.get_cd		= tl_get_cd,
};

/* ---- power (clock + optional vmmc), runtime PM -------------------------- */

static int tl_power_on(struct tl_emmc *h)
{
	int ret;

	if (h->have_vmmc && !h->vmmc_on) {
		ret = regulator_enable(h->mmc->supply.vmmc);
		if (ret)
			return ret;
		h->vmmc_on = true;
	}
	if (!h->clk_on) {
		ret = clk_prepare_enable(h->clk);
		if (ret) {
			if (h->vmmc_on) {
				regulator_disable(h->mmc->supply.vmmc);
				h->vmmc_on = false;
			}
			return ret;
		}
		h->clk_on = true;
	}
	return 0;
}

static void tl_power_off(struct tl_emmc *h)
{
	if (h->clk_on) {
		clk_disable_unprepare(h->clk);
		h->clk_on = false;
	}
	if (h->vmmc_on) {
		regulator_disable(h->mmc->supply.vmmc);
		h->vmmc_on = false;
	}
}

static int tl_runtime_suspend(struct device *dev)
{
	struct tl_emmc *h = dev_get_drvdata(dev);

	tl_power_off(h);
	WRITE_ONCE(h->runtime_suspends, h->runtime_suspends + 1);
	dev_dbg(dev, "runtime suspend\n");
	return 0;
}

static int tl_runtime_resume(struct device *dev)
{
	struct tl_emmc *h = dev_get_drvdata(dev);
	int ret;

	ret = tl_power_on(h);
	if (ret) {
		dev_err(dev, "power on failed: %d\n", ret);
		return ret;
	}
	WRITE_ONCE(h->runtime_resumes, h->runtime_resumes + 1);
	dev_dbg(dev, "runtime resume\n");
	return 0;
}

static DEFINE_RUNTIME_DEV_PM_OPS(tl_pm_ops, tl_runtime_suspend,
				 tl_runtime_resume, NULL);

/* ---- sysfs -------------------------------------------------------------- */

#define TL_RPMB_ATTR(_name, _field)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct tl_emmc *h = dev_get_drvdata(dev);			\
	u64 v;								\
									\
	mutex_lock(&h->lock);						\
	v = (u64)(_field);						\
	mutex_unlock(&h->lock);						\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)v);	\
}									\
static DEVICE_ATTR_RO(_name)

TL_RPMB_ATTR(rpmb_writes, h->rpmb.writes);
/* every RPMB request but result reads: key, counter, data write, data read */
TL_RPMB_ATTR(rpmb_accesses, h->rpmb.key_programs + h->rpmb.counter_reads +
	     h->rpmb.writes + h->rpmb.reads);
TL_RPMB_ATTR(rpmb_reads, h->rpmb.reads);
TL_RPMB_ATTR(rpmb_counter_reads, h->rpmb.counter_reads);
TL_RPMB_ATTR(rpmb_key_programs, h->rpmb.key_programs);
TL_RPMB_ATTR(rpmb_result_reads, h->rpmb.result_reads);
TL_RPMB_ATTR(rpmb_failures, h->rpmb.failures);
TL_RPMB_ATTR(rpmb_key_programmed, h->rpmb.key_set);
TL_RPMB_ATTR(rpmb_write_counter, h->rpmb.wcnt);
TL_RPMB_ATTR(requests, h->requests);
TL_RPMB_ATTR(runtime_resumes, READ_ONCE(h->runtime_resumes));
TL_RPMB_ATTR(runtime_suspends, READ_ONCE(h->runtime_suspends));

static struct attribute *tl_attrs[] = {
	&dev_attr_rpmb_writes.attr,
	&dev_attr_rpmb_accesses.attr,
	&dev_attr_rpmb_reads.attr,
	&dev_attr_rpmb_counter_reads.attr,
	&dev_attr_rpmb_key_programs.attr,
	&dev_attr_rpmb_result_reads.attr,
	&dev_attr_rpmb_failures.attr,
	&dev_attr_rpmb_key_programmed.attr,
	&dev_attr_rpmb_write_counter.attr,
	&dev_attr_requests.attr,
	&dev_attr_runtime_resumes.attr,
	&dev_attr_runtime_suspends.attr,
	NULL,
};
ATTRIBUTE_GROUPS(tl);

/* ---- platform driver ---------------------------------------------------- */

static int tl_get_supply(struct tl_emmc *h)
{
	struct mmc_host *mmc = h->mmc;
	int ret;

	ret = mmc_regulator_get_supply(mmc);
	if (ret == -EPROBE_DEFER) {
		/*
		 * vmmc-supply names a regulator nobody serves yet.  Debian's
		 * 6.12 arm64 kernel has no SCMI regulator driver
		 * (CONFIG_REGULATOR_ARM_SCMI is not set), so in "auto" mode
		 * waiting would block forever: fall back to the clock only.
		 */
		if (vmmc > 0 ||
		    (vmmc < 0 && IS_ENABLED(CONFIG_REGULATOR_ARM_SCMI)))
			return ret;
		dev_warn(h->dev, "vmmc-supply not available, using the clock only\n");
		mmc->supply.vmmc = ERR_PTR(-ENODEV);
		mmc->supply.vqmmc = ERR_PTR(-ENODEV);
	} else if (ret) {
		return dev_err_probe(h->dev, ret, "getting supplies\n");
	}

	h->have_vmmc = !IS_ERR(mmc->supply.vmmc) && vmmc != 0;
	if (vmmc > 0 && !h->have_vmmc)
		return dev_err_probe(h->dev, -ENODEV,
				     "vmmc=1 but no vmmc-supply\n");
	return 0;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static struct mmc_host *tl_alloc_host(struct device *dev, int extra)
{
	return devm_mmc_alloc_host(dev, extra);
}
#else
static void tl_free_host(void *mmc)
{
	mmc_free_host(mmc);
}

/* 6.1 has no devm_mmc_alloc_host(): the same with a devm action */
static struct mmc_host *tl_alloc_host(struct device *dev, int extra)
{
	struct mmc_host *mmc = mmc_alloc_host(extra, dev);

	if (mmc && devm_add_action_or_reset(dev, tl_free_host, mmc))
		return NULL;
	return mmc;
}
#endif

static int tl_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mmc_host *mmc;
	struct tl_emmc *h;
	int ret;

	if (user_size_mib < 1 || user_size_mib > 512) {
		dev_err(dev, "user_size_mib must be 1..512\n");
		return -EINVAL;
	}
	if (rpmb_size_mult < 1 || rpmb_size_mult > 128) {
		dev_err(dev, "rpmb_size_mult must be 1..128\n");
		return -EINVAL;
	}

	mmc = tl_alloc_host(dev, sizeof(*h));
	if (!mmc)
		return -ENOMEM;
	h = mmc_priv(mmc);
	h->mmc = mmc;
	h->dev = dev;
	spin_lock_init(&h->mrq_lock);
	mutex_init(&h->lock);
	INIT_WORK(&h->work, tl_work);
	platform_set_drvdata(pdev, h);

	h->clk = devm_clk_get_optional(dev, "core");
	if (IS_ERR(h->clk))
		return dev_err_probe(dev, PTR_ERR(h->clk), "getting clock\n");

	ret = tl_get_supply(h);
	if (ret)
		return ret;
	if (!mmc->ocr_avail)
		mmc->ocr_avail = MMC_VDD_32_33 | MMC_VDD_33_34;

	mmc->ops = &tl_ops;
	mmc->f_min = TL_F_MIN;
	mmc->f_max = TL_F_MAX;
	mmc->caps = MMC_CAP_NONREMOVABLE | MMC_CAP_CMD23 |
		    MMC_CAP_WAIT_WHILE_BUSY | MMC_CAP_4_BIT_DATA |
		    MMC_CAP_MMC_HIGHSPEED | MMC_CAP_SYNC_RUNTIME_PM;
	mmc->caps2 = MMC_CAP2_NO_SD | MMC_CAP2_NO_SDIO;
	mmc->max_busy_timeout = 0;	/* no limit: always R1b */
	mmc->max_blk_size = TL_SECTOR;
	mmc->max_blk_count = TL_MAX_BLKS;
	mmc->max_req_size = TL_MAX_REQ;
	mmc->max_seg_size = TL_MAX_REQ;
	mmc->max_segs = 128;

	h->user_sectors = user_size_mib * (1024u * 1024u / TL_SECTOR);
	h->user = vzalloc((size_t)h->user_sectors * TL_SECTOR);
	h->rpmb.blocks = rpmb_size_mult * (128u * 1024u / RPMB_HALF_SECTOR);
	h->rpmb.data = vzalloc((size_t)h->rpmb.blocks * RPMB_HALF_SECTOR);
	h->xfer = vmalloc(TL_MAX_REQ);
	if (!h->user || !h->rpmb.data || !h->xfer) {
		ret = -ENOMEM;
		goto err_free;
	}

	h->rpmb.hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(h->rpmb.hmac)) {
		ret = dev_err_probe(dev, PTR_ERR(h->rpmb.hmac),
				    "allocating hmac(sha256)\n");
		h->rpmb.hmac = NULL;
		goto err_free;
	}

	h->wq = alloc_ordered_workqueue("teelab-emmc", WQ_MEM_RECLAIM);
	if (!h->wq) {
		ret = -ENOMEM;
		goto err_free;
	}

	tl_build_ext_csd(h);
	tl_build_cid(h);
	tl_build_csd(h);
	tl_card_reset(h);

	/* powered down until the first access; autosuspend right after */
	pm_runtime_set_autosuspend_delay(dev, 0);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_enable(dev);

	ret = mmc_add_host(mmc);
	if (ret)
		goto err_pm;

	dev_info(dev, "%s: emulated eMMC 5.1, user %u MiB, RPMB %u KiB, clock %s, vmmc %s\n",
		 mmc_hostname(mmc), user_size_mib, rpmb_size_mult * 128,
		 h->clk ? "yes" : "none", h->have_vmmc ? "yes" : "none");
	return 0;

err_pm:
	pm_runtime_disable(dev);
	pm_runtime_dont_use_autosuspend(dev);
	tl_power_off(h);
	destroy_workqueue(h->wq);
err_free:
	if (h->rpmb.hmac)
		crypto_free_shash(h->rpmb.hmac);
	vfree(h->xfer);
	vfree(h->rpmb.data);
	vfree(h->user);
	return ret;
}

static void tl_remove(struct platform_device *pdev)
{
	struct tl_emmc *h = platform_get_drvdata(pdev);
	struct device *dev = &pdev->dev;

	mmc_remove_host(h->mmc);
	destroy_workqueue(h->wq);

	pm_runtime_disable(dev);
	pm_runtime_dont_use_autosuspend(dev);
	tl_power_off(h);
	pm_runtime_set_suspended(dev);

	memzero_explicit(h->rpmb.key, sizeof(h->rpmb.key));
	crypto_free_shash(h->rpmb.hmac);
	vfree(h->xfer);
	vfree(h->rpmb.data);
	vfree(h->user);
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
/* before 6.11 platform_driver.remove returns int */
static int tl_remove_int(struct platform_device *pdev)
{
	tl_remove(pdev);
	return 0;
}
#define TL_REMOVE tl_remove_int
#else
#define TL_REMOVE tl_remove
#endif

static const struct of_device_id tl_of_match[] = {
	{ .compatible = "teelab,emmc-rpmb" },
	{ }
};
MODULE_DEVICE_TABLE(of, tl_of_match);

static struct platform_driver tl_driver = {
	.probe	= tl_probe,
	.remove	= TL_REMOVE,
	.driver	= {
		.name		= TL_DRV_NAME,
		.of_match_table	= tl_of_match,
		.dev_groups	= tl_groups,
		.pm		= pm_ptr(&tl_pm_ops),
		/*
		 * Synchronous: probe allocates hmac(sha256), which may have to
		 * request_module() the template, and that must not wait from
		 * an async probe (kernel/module/kmod.c warns).
		 */
		.probe_type	= PROBE_FORCE_SYNCHRONOUS,
	},
};
module_platform_driver(tl_driver);

MODULE_DESCRIPTION("teelab emulated eMMC host + eMMC 5.1 card with RPMB");
MODULE_AUTHOR("teelab");
MODULE_LICENSE("GPL");
