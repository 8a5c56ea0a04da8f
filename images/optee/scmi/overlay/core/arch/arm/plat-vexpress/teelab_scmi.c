// SPDX-License-Identifier: BSD-2-Clause
/*
 * teelab_scmi.c - teelab's SCMI resources for OP-TEE's built-in SCMI
 * server (scmi-msg) on PLATFORM=vexpress-qemu_armv8a.
 *
 * What this implements
 *   The platform callbacks that scmi-msg calls to serve SCMI requests. They
 *   are declared in core/include/drivers/scmi-msg.h ("Platform callback
 *   functions"); core/drivers/scmi-msg/{clock,voltage_domain}.c provide
 *   __weak defaults that these definitions replace. The resources are:
 *     - SCMI channel 0 only, message (MSG header) transport: no shared
 *       memory of its own. Linux's "linaro,scmi-optee" transport without a
 *       shmem property hands each message to the SCMI PTA (core/pta/scmi.c,
 *       PTA_SCMI_CMD_PROCESS_MSG_CHANNEL), which calls
 *       scmi_msg_threaded_entry() (core/drivers/scmi-msg/shm_msg.c).
 *     - Base protocol (0x10): vendor "teelab", sub-vendor "vexpress-qemu";
 *       protocol list { 0x14, 0x17 } (the list and the count exclude the
 *       Base protocol itself, as BASE_PROTOCOL_ATTRIBUTES and
 *       BASE_DISCOVER_LIST_PROTOCOLS define them).
 *     - Clock management protocol (0x14): clock 0 "emmc-clk", discrete
 *       rates { 26 MHz, 52 MHz } (ascending), initially off at 52 MHz.
 *     - Voltage domain management protocol (0x17): domain 0 "emmc-vcc",
 *       levels { 1800000, 3300000 } uV, initially off at 3300000 uV.
 *       The levels are reported to the agent as one segment (lowest,
 *       highest, step) = (1800000, 3300000, 1500000), which describes exactly
 *       the same two levels. The list form is not used because the 4.10
 *       scmi-msg VOLTAGE_DESCRIBE_LEVELS handler reports "remaining levels"
 *       as (total - first index asked) instead of (total - index after the
 *       returned ones): with a list of 2 levels Linux would read 2 returned +
 *       2 remaining and build a 4-entry table with two 0 uV levels.
 *
 * Console trace
 *   Every accepted set request (clock on/off, clock rate, voltage domain
 *   on/off, voltage level) prints exactly one IMSG() line on the secure
 *   console, numbered by a counter shared by all of them:
 *     teelab-scmi: clock 0 emmc-clk on (count 7)
 *     teelab-scmi: clock 0 emmc-clk off (count 8)
 *     teelab-scmi: clock 0 emmc-clk rate 26000000 Hz (count 9)
 *     teelab-scmi: voltd 0 emmc-vcc on 3300000 uV (count 10)
 *     teelab-scmi: voltd 0 emmc-vcc off 3300000 uV (count 11)
 *     teelab-scmi: voltd 0 emmc-vcc level 1800000 uV (count 12)
 *   (OP-TEE prefixes each line with "I/TC: ".) Rejected requests print
 *   nothing and leave the counter unchanged.
 *
 * References
 *   - Arm System Control and Management Interface, Arm DEN0056 (the Voltage
 *     domain management protocol was introduced with SCMI v3.0), chapters
 *     "Base protocol", "Clock management protocol" (protocol ID 0x14:
 *     CLOCK_ATTRIBUTES, CLOCK_DESCRIBE_RATES, CLOCK_RATE_SET, CLOCK_RATE_GET,
 *     CLOCK_CONFIG_SET) and "Voltage domain management protocol" (protocol
 *     ID 0x17: VOLTAGE_DOMAIN_ATTRIBUTES, VOLTAGE_DESCRIBE_LEVELS,
 *     VOLTAGE_CONFIG_SET/GET, VOLTAGE_LEVEL_SET/GET).
 *     Message names as in the spec and in OP-TEE's scmi-msg headers.
 *   - OP-TEE 4.10: core/include/drivers/scmi-msg.h (callback contracts),
 *     core/include/drivers/scmi.h (protocol IDs, SCMI status codes),
 *     core/pta/scmi.c (the SCMI PTA the Linux transport talks to).
 *   - Linux: Documentation/devicetree/bindings/firmware/arm,scmi.yaml
 *     (compatible "linaro,scmi-optee", linaro,optee-channel-id).
 *
 * Built only with CFG_TEELAB_SCMI=y (see plat-vexpress-sub.mk.patch and
 * README.md beside this tree in teelab's images/optee/scmi/).
 */

#include <assert.h>
#include <atomic.h>
#include <compiler.h>
#include <config.h>
#include <confine_array_index.h>
#include <drivers/scmi-msg.h>
#include <drivers/scmi.h>
#include <initcall.h>
#include <stdbool.h>
#include <stdint.h>
#include <trace.h>
#include <util.h>

#if !defined(CFG_SCMI_MSG_DRIVERS) || !defined(CFG_SCMI_MSG_SHM_MSG) || \
	!defined(CFG_SCMI_MSG_CLOCK) || !defined(CFG_SCMI_MSG_VOLTAGE_DOMAIN) || \
	!defined(CFG_SCMI_PTA)
#error "CFG_TEELAB_SCMI=y needs =y: CFG_SCMI_PTA CFG_SCMI_MSG_DRIVERS CFG_SCMI_MSG_SHM_MSG CFG_SCMI_MSG_CLOCK CFG_SCMI_MSG_VOLTAGE_DOMAIN"
#endif

#define TEELAB_SCMI_CHANNEL	0

/* Names must stay shorter than 16 bytes (SCMI short name fields) */
#define TEELAB_VENDOR		"teelab"
#define TEELAB_SUB_VENDOR	"vexpress-qemu"
#define TEELAB_CLK_NAME		"emmc-clk"
#define TEELAB_VOLTD_NAME	"emmc-vcc"

/* The one channel: message transport, so no shared memory is described */
static struct scmi_msg_channel teelab_channel;

/* Protocols besides Base, null terminated */
static const uint8_t teelab_protocols[] = {
	SCMI_PROTOCOL_ID_CLOCK,
	SCMI_PROTOCOL_ID_VOLTAGE_DOMAIN,
	0
};

/* Supported clock rates in Hz, ascending */
static const unsigned long teelab_clk_rates[] = { 26000000UL, 52000000UL };

/* Supported voltage levels in microvolts, ascending */
static const long teelab_voltd_levels[] = { 1800000L, 3300000L };

static struct {
	bool on;
	unsigned long rate;
} teelab_clk = { .on = false, .rate = 52000000UL };

static struct {
	bool on;
	long level;
} teelab_voltd = { .on = false, .level = 3300000L };

/* Shared running counter of the state change lines */
static uint32_t teelab_event_count;

static uint32_t next_count(void)
{
	return atomic_inc32(&teelab_event_count);
}

static bool is_our_channel(unsigned int channel_id)
{
	return channel_id == TEELAB_SCMI_CHANNEL;
}

static bool is_our_clock(unsigned int channel_id, unsigned int scmi_id)
{
	return is_our_channel(channel_id) && scmi_id == 0;
}

static bool is_our_voltd(unsigned int channel_id, unsigned int scmi_id)
{
	return is_our_channel(channel_id) && scmi_id == 0;
}

/*
 * Base protocol and channel
 */

struct scmi_msg_channel *plat_scmi_get_channel(unsigned int channel_id)
{
	if (!is_our_channel(channel_id))
		return NULL;

	return &teelab_channel;
}

size_t plat_scmi_protocol_count(void)
{
	/* Entries of teelab_protocols[] before its terminating 0 */
	return ARRAY_SIZE(teelab_protocols) - 1;
}

const uint8_t *plat_scmi_protocol_list(unsigned int channel_id)
{
	static const uint8_t none[] = { 0 };

	if (!is_our_channel(channel_id))
		return none;

	return teelab_protocols;
}

const char *plat_scmi_vendor_name(void)
{
	return TEELAB_VENDOR;
}

const char *plat_scmi_sub_vendor_name(void)
{
	return TEELAB_SUB_VENDOR;
}

/*
 * Clock management protocol (0x14)
 */

size_t plat_scmi_clock_count(unsigned int channel_id)
{
	return is_our_channel(channel_id) ? 1 : 0;
}

const char *plat_scmi_clock_get_name(unsigned int channel_id,
				     unsigned int scmi_id)
{
	if (!is_our_clock(channel_id, scmi_id))
		return NULL;

	return TEELAB_CLK_NAME;
}

int32_t plat_scmi_clock_rates_array(unsigned int channel_id,
				    unsigned int scmi_id, size_t start_index,
				    unsigned long *rates, size_t *nb_elts)
{
	const size_t total = ARRAY_SIZE(teelab_clk_rates);
	size_t n = 0;

	if (!is_our_clock(channel_id, scmi_id) || !nb_elts)
		return SCMI_NOT_FOUND;

	if (start_index > total)
		return SCMI_INVALID_PARAMETERS;

	if (!rates) {
		/* Query only: how many rates from start_index on */
		*nb_elts = total - start_index;
		return SCMI_SUCCESS;
	}

	for (n = 0; n < *nb_elts && start_index + n < total; n++)
		rates[n] = teelab_clk_rates[start_index + n];

	*nb_elts = n;

	return SCMI_SUCCESS;
}

unsigned long plat_scmi_clock_get_rate(unsigned int channel_id,
				       unsigned int scmi_id)
{
	if (!is_our_clock(channel_id, scmi_id))
		return 0;

	return teelab_clk.rate;
}

int32_t plat_scmi_clock_set_rate(unsigned int channel_id, unsigned int scmi_id,
				 unsigned long rate)
{
	unsigned long new_rate = 0;
	size_t n = 0;

	if (!is_our_clock(channel_id, scmi_id))
		return SCMI_NOT_FOUND;

	/*
	 * scmi-msg does not pass the CLOCK_RATE_SET rounding flags down:
	 * pick the highest supported rate not above the request (the SCMI
	 * default rounding is "round down").
	 */
	for (n = 0; n < ARRAY_SIZE(teelab_clk_rates); n++)
		if (teelab_clk_rates[n] <= rate)
			new_rate = teelab_clk_rates[n];

	if (!new_rate)
		return SCMI_OUT_OF_RANGE;

	teelab_clk.rate = new_rate;
	IMSG("teelab-scmi: clock %u %s rate %lu Hz (count %"PRIu32")",
	     scmi_id, TEELAB_CLK_NAME, new_rate, next_count());

	return SCMI_SUCCESS;
}

int32_t plat_scmi_clock_get_state(unsigned int channel_id,
				  unsigned int scmi_id)
{
	if (!is_our_clock(channel_id, scmi_id))
		return SCMI_NOT_FOUND;

	return teelab_clk.on ? 1 : 0;
}

int32_t plat_scmi_clock_set_state(unsigned int channel_id, unsigned int scmi_id,
				  bool enable_not_disable)
{
	if (!is_our_clock(channel_id, scmi_id))
		return SCMI_NOT_FOUND;

	teelab_clk.on = enable_not_disable;
	IMSG("teelab-scmi: clock %u %s %s (count %"PRIu32")",
	     scmi_id, TEELAB_CLK_NAME, enable_not_disable ? "on" : "off",
	     next_count());

	return SCMI_SUCCESS;
}

/*
 * Voltage domain management protocol (0x17)
 */

size_t plat_scmi_voltd_count(unsigned int channel_id)
{
	return is_our_channel(channel_id) ? 1 : 0;
}

const char *plat_scmi_voltd_get_name(unsigned int channel_id,
				     unsigned int scmi_id)
{
	if (!is_our_voltd(channel_id, scmi_id))
		return NULL;

	return TEELAB_VOLTD_NAME;
}

/*
 * plat_scmi_voltd_levels_array() is deliberately left to its __weak
 * default (SCMI_NOT_SUPPORTED) so that scmi-msg falls back to this segment
 * description; see the header comment for why.
 */
int32_t plat_scmi_voltd_levels_by_step(unsigned int channel_id,
				       unsigned int scmi_id,
				       long *min_max_step)
{
	const size_t last = ARRAY_SIZE(teelab_voltd_levels) - 1;

	static_assert(ARRAY_SIZE(teelab_voltd_levels) == 2);

	if (!is_our_voltd(channel_id, scmi_id) || !min_max_step)
		return SCMI_NOT_FOUND;

	min_max_step[0] = teelab_voltd_levels[0];
	min_max_step[1] = teelab_voltd_levels[last];
	min_max_step[2] = teelab_voltd_levels[last] - teelab_voltd_levels[0];

	return SCMI_SUCCESS;
}

int32_t plat_scmi_voltd_get_level(unsigned int channel_id, unsigned int scmi_id,
				  long *level)
{
	if (!is_our_voltd(channel_id, scmi_id) || !level)
		return SCMI_NOT_FOUND;

	*level = teelab_voltd.level;

	return SCMI_SUCCESS;
}

int32_t plat_scmi_voltd_set_level(unsigned int channel_id, unsigned int scmi_id,
				  long level)
{
	size_t n = 0;

	if (!is_our_voltd(channel_id, scmi_id))
		return SCMI_NOT_FOUND;

	for (n = 0; n < ARRAY_SIZE(teelab_voltd_levels); n++)
		if (teelab_voltd_levels[n] == level)
			break;

	if (n == ARRAY_SIZE(teelab_voltd_levels))
		return SCMI_INVALID_PARAMETERS;

	teelab_voltd.level = level;
	IMSG("teelab-scmi: voltd %u %s level %ld uV (count %"PRIu32")",
	     scmi_id, TEELAB_VOLTD_NAME, level, next_count());

	return SCMI_SUCCESS;
}

int32_t plat_scmi_voltd_get_config(unsigned int channel_id,
				   unsigned int scmi_id, uint32_t *config)
{
	if (!is_our_voltd(channel_id, scmi_id) || !config)
		return SCMI_NOT_FOUND;

	if (teelab_voltd.on)
		*config = SCMI_VOLTAGE_DOMAIN_CONFIG_ARCH_ON;
	else
		*config = SCMI_VOLTAGE_DOMAIN_CONFIG_ARCH_OFF;

	return SCMI_SUCCESS;
}

int32_t plat_scmi_voltd_set_config(unsigned int channel_id,
				   unsigned int scmi_id, uint32_t config)
{
	bool on = false;

	if (!is_our_voltd(channel_id, scmi_id))
		return SCMI_NOT_FOUND;

	/* Only the two architectural modes; no implementation defined ones */
	if (config == SCMI_VOLTAGE_DOMAIN_CONFIG_ARCH_ON)
		on = true;
	else if (config == SCMI_VOLTAGE_DOMAIN_CONFIG_ARCH_OFF)
		on = false;
	else
		return SCMI_INVALID_PARAMETERS;

	teelab_voltd.on = on;
	IMSG("teelab-scmi: voltd %u %s %s %ld uV (count %"PRIu32")",
	     scmi_id, TEELAB_VOLTD_NAME, on ? "on" : "off",
	     teelab_voltd.level, next_count());

	return SCMI_SUCCESS;
}

/* One boot line, so a log shows the overlay is in (not counted) */
static TEE_Result teelab_scmi_init(void)
{
	IMSG("teelab-scmi: ready: channel %d, clock 0 %s, voltd 0 %s",
	     TEELAB_SCMI_CHANNEL, TEELAB_CLK_NAME, TEELAB_VOLTD_NAME);

	return TEE_SUCCESS;
}

service_init(teelab_scmi_init);
