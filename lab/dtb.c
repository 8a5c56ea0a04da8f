// SPDX-License-Identifier: MIT
/* dtb.c - edit QEMU's device tree with libfdt; see dtb.h (images/dtb.c dumps and caches it) */
#include "dtb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "machine.h"
#include "runproc.h"

#define DTB_FREE_SPACE (64 * 1024)

/* Report libfdt error @err while doing @what; returns -EINVAL. */
static int fdt_err(const char *what, int err)
{
	return error_code(-EINVAL, "device tree: %s: %s", what, fdt_strerror(err));
}

int dtb_edit(char **blob, size_t *len)
{
	static const char *const chosen[] = { "/chosen", "/secure-chosen" };
	static const char *const seeds[] = { "rng-seed", "kaslr-seed" };
	/*
	 * QEMU hands out a 1 MiB blob; adds 10000 bytes of its own when it
	 * loads a -dtb file; TF-A accepts at most 1 MiB; and OP-TEE edits the
	 * normal world's tree in place (/firmware/optee, reserved-memory), so
	 * it needs free space: keep the structure plus 64 KiB.
	 */
	size_t size = 0;
	char *fdt = NULL;
	int off, err;

	/* drop QEMU's free space first: fdt_open_into() can't shrink a blob */
	err = fdt_check_header(*blob);
	if (!err)
		err = fdt_pack(*blob);
	if (err)
		return fdt_err("not a device tree", err);
	size = fdt_totalsize(*blob) + DTB_FREE_SPACE;
	fdt = xcalloc(1, size);
	err = fdt_open_into(*blob, fdt, (int)size);
	if (err) {
		free(fdt);
		return fdt_err("cannot open QEMU's tree", err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(chosen); i++) {
		off = fdt_path_offset(fdt, chosen[i]);
		for (size_t k = 0; off >= 0 && k < ARRAY_SIZE(seeds); k++)
			fdt_delprop(fdt, off, seeds[k]);	/* absent is fine */
	}
	off = fdt_path_offset(fdt, "/config");
	if (off == -FDT_ERR_NOTFOUND)
		off = fdt_add_subnode(fdt, 0, "config");
	if (off < 0) {
		free(fdt);
		return fdt_err("cannot add /config", off);
	}
	err = fdt_setprop_u32(fdt, off, "bootdelay", 0);
	if (err) {
		free(fdt);
		return fdt_err("cannot set /config/bootdelay", err);
	}
	free(*blob);
	*len = size;
	*blob = fdt;
	return 0;
}

/* fdt_setprop_u32 for a list of cells. */
static int set_cells(void *fdt, int node, const char *name, const uint32_t *v, size_t n)
{
	fdt32_t cells[8];

	for (size_t i = 0; i < n && i < ARRAY_SIZE(cells); i++)
		cells[i] = cpu_to_fdt32(v[i]);
	return fdt_setprop(fdt, node, name, cells, (int)(n * sizeof(fdt32_t)));
}

int dtb_add_scmi(char **blob, size_t *len)
{
	char *fdt = *blob;
	uint32_t ph_clk = 0, ph_reg = 0, max = 0;
	int fw, scmi, clk, volt, regs, reg, emmc, err;

	err = fdt_find_max_phandle(fdt, &max);
	if (err)
		return fdt_err("no phandles", err);
	ph_clk = max + 1;
	ph_reg = max + 2;
	fw = fdt_path_offset(fdt, "/firmware");
	if (fw == -FDT_ERR_NOTFOUND)
		fw = fdt_add_subnode(fdt, 0, "firmware");
	if (fw < 0)
		return fdt_err("cannot add /firmware", fw);
	scmi = fdt_add_subnode(fdt, fw, "scmi");
	if (scmi < 0)
		return fdt_err("cannot add /firmware/scmi", scmi);
	err = fdt_setprop_string(fdt, scmi, "compatible", "linaro,scmi-optee");
	err = err ? err : fdt_setprop_u32(fdt, scmi, "linaro,optee-channel-id", 0);
	err = err ? err : fdt_setprop_u32(fdt, scmi, "#address-cells", 1);
	err = err ? err : fdt_setprop_u32(fdt, scmi, "#size-cells", 0);
	if (err)
		return fdt_err("cannot fill /firmware/scmi", err);
	/* subnodes are added in front: add protocol@17 first to list @14 first */
	volt = fdt_add_subnode(fdt, scmi, "protocol@17");
	if (volt < 0)
		return fdt_err("cannot add protocol@17", volt);
	err = fdt_setprop_u32(fdt, volt, "reg", 0x17);
	regs = err ? err : fdt_add_subnode(fdt, volt, "regulators");
	if (regs < 0)
		return fdt_err("cannot add the regulators node", regs);
	err = fdt_setprop_u32(fdt, regs, "#address-cells", 1);
	err = err ? err : fdt_setprop_u32(fdt, regs, "#size-cells", 0);
	reg = err ? err : fdt_add_subnode(fdt, regs, "regulator@0");
	if (reg < 0)
		return fdt_err("cannot add regulator@0", reg);
	err = fdt_setprop_u32(fdt, reg, "reg", 0);
	err = err ? err : fdt_setprop_string(fdt, reg, "regulator-name", "emmc-vcc");
	err = err ? err : fdt_setprop_u32(fdt, reg, "regulator-min-microvolt", 1800000);
	err = err ? err : fdt_setprop_u32(fdt, reg, "regulator-max-microvolt", 3300000);
	err = err ? err : fdt_setprop_u32(fdt, reg, "phandle", ph_reg);
	if (err)
		return fdt_err("cannot fill regulator@0", err);
	volt = fdt_path_offset(fdt, "/firmware/scmi");
	clk = fdt_add_subnode(fdt, volt, "protocol@14");
	if (clk < 0)
		return fdt_err("cannot add protocol@14", clk);
	err = fdt_setprop_u32(fdt, clk, "reg", 0x14);
	err = err ? err : fdt_setprop_u32(fdt, clk, "#clock-cells", 1);
	err = err ? err : fdt_setprop_u32(fdt, clk, "phandle", ph_clk);
	if (err)
		return fdt_err("cannot fill protocol@14", err);
	emmc = fdt_add_subnode(fdt, 0, "teelab-emmc");
	if (emmc < 0)
		return fdt_err("cannot add /teelab-emmc", emmc);
	err = fdt_setprop_string(fdt, emmc, "compatible", "teelab,emmc-rpmb");
	err = err ? err : set_cells(fdt, emmc, "clocks", (const uint32_t[]){ ph_clk, 0 }, 2);
	err = err ? err : fdt_setprop_string(fdt, emmc, "clock-names", "core");
	err = err ? err : fdt_setprop_u32(fdt, emmc, "vmmc-supply", ph_reg);
	if (err)
		return fdt_err("cannot fill /teelab-emmc", err);
	*len = fdt_totalsize(fdt);
	return 0;
}

int dtb_set_chosen(char **blob, size_t *len, const char *bootargs, uint64_t initrd_start,
		   uint64_t initrd_end)
{
	/* room for the three properties, the free space OP-TEE needs kept */
	size_t size;
	char *fdt;
	int off, err;

	err = fdt_check_header(*blob);
	if (err)
		return fdt_err("not a device tree", err);
	size = fdt_totalsize(*blob) + strlen(bootargs) + 256;
	fdt = xcalloc(1, size);
	err = fdt_open_into(*blob, fdt, (int)size);
	if (err) {
		free(fdt);
		return fdt_err("cannot open the lab's tree", err);
	}
	off = fdt_path_offset(fdt, "/chosen");
	if (off == -FDT_ERR_NOTFOUND)
		off = fdt_add_subnode(fdt, 0, "chosen");
	err = off < 0 ? off : fdt_setprop_string(fdt, off, "bootargs", bootargs);
	if (!err && initrd_end > initrd_start)
		err = fdt_setprop_u64(fdt, off, "linux,initrd-start", initrd_start);
	if (!err && initrd_end > initrd_start)
		err = fdt_setprop_u64(fdt, off, "linux,initrd-end", initrd_end);
	if (err) {
		free(fdt);
		return fdt_err("cannot set /chosen", err);
	}
	free(*blob);
	*len = size;
	*blob = fdt;
	return 0;
}
