/* SPDX-License-Identifier: MIT */
/*
 * dtb.h - the device tree the lab boots with, composed with libfdt.
 *
 * QEMU's own tree for the exact machine options (-machine/-cpu/-smp/-m
 * must be identical at boot) is dumped with `-machine ...,dumpdtb=FILE`,
 * then edited:
 *   - /config/bootdelay = <0>: U-Boot (BL33) boots at once instead of
 *     waiting 2 s for a key (U-Boot reads /config properties);
 *   - /chosen and /secure-chosen rng-seed and kaslr-seed are removed, so
 *     the blob is the same every time (QEMU adds fresh ones at boot);
 * The blob is never padded: TF-A on qemu maps at most 1 MiB for it
 * (a padded tree gives "Invalid Device Tree at 0x40000000").
 */
#ifndef TEELAB_DTB_H
#define TEELAB_DTB_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

/*
 * Edit the flattened tree in @blob (@len bytes, malloc'd; may be
 * reallocated) as described above. *len is updated. 0 or -errno (reported).
 */
int dtb_edit(char **blob, size_t *len);

/*
 * Add the board dependencies teelab injects (@blob as for dtb_edit()):
 *  /firmware/scmi: compatible "linaro,scmi-optee", linaro,optee-channel-id
 *    = <0>, no shmem (messages in TEE shared memory); protocol@14 (clocks,
 *    #clock-cells = <1>) and protocol@17 (voltage domains) with
 *    regulators/regulator@0 "emmc-vcc", 1.8-3.3 V
 *    (Linux Documentation/devicetree/bindings/firmware/arm,scmi.yaml);
 *  /teelab-emmc: compatible "teelab,emmc-rpmb", the lab eMMC consuming
 *    clock 0 (clock-names "core") and vmmc-supply = the regulator.
 * Channel, clock and regulator are the ones images/optee/scmi serves.
 * 0 or -errno (reported).
 */
int dtb_add_scmi(char **blob, size_t *len);

/*
 * Set what a bootloader would put in /chosen for a kernel entered directly
 * by TF-A (boot: direct): bootargs = @bootargs, linux,initrd-start and
 * linux,initrd-end = the initramfs' guest-physical range [@initrd_start,
 * @initrd_end) (64-bit cells; Linux Documentation/devicetree/usage-model,
 * drivers/of/fdt.c reads one or two cells; none when @initrd_end <=
 * @initrd_start). @blob as for dtb_edit(); the
 * free space dtb_edit() left for OP-TEE is kept. 0 or -EINVAL (reported).
 */
int dtb_set_chosen(char **blob, size_t *len, const char *bootargs, uint64_t initrd_start,
		   uint64_t initrd_end);

#endif
