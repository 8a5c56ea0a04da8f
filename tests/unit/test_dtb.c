// SPDX-License-Identifier: MIT
/* test_dtb.c - the lab's device-tree edits (dtb_edit) on a tree built here */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <stdbool.h>

#include <cmocka.h>
#include <libfdt.h>

#include "testutil.h"
#include "dtb.h"
#include "util.h"

/* A QEMU-like tree: /chosen and /secure-chosen with seeds, 1 MiB total. */
static char *qemu_like_tree(size_t *len, bool with_config)
{
	const size_t size = 1 << 20;
	char *fdt = xcalloc(1, size);
	static const uint32_t seed[2] = { 0x11223344, 0x55667788 };

	assert_int_equal(fdt_create(fdt, (int)size), 0);
	assert_int_equal(fdt_finish_reservemap(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, ""), 0);
	assert_int_equal(fdt_property_string(fdt, "compatible", "linux,dummy-virt"), 0);
	if (with_config) {
		assert_int_equal(fdt_begin_node(fdt, "config"), 0);
		assert_int_equal(fdt_property_u32(fdt, "bootdelay", 5), 0);
		assert_int_equal(fdt_end_node(fdt), 0);
	}
	assert_int_equal(fdt_begin_node(fdt, "chosen"), 0);
	assert_int_equal(fdt_property_string(fdt, "stdout-path", "/pl011@9000000"), 0);
	assert_int_equal(fdt_property(fdt, "rng-seed", seed, sizeof(seed)), 0);
	assert_int_equal(fdt_property(fdt, "kaslr-seed", seed, sizeof(seed)), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_begin_node(fdt, "secure-chosen"), 0);
	assert_int_equal(fdt_property_string(fdt, "stdout-path", "/pl011@9040000"), 0);
	assert_int_equal(fdt_property(fdt, "rng-seed", seed, sizeof(seed)), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_end_node(fdt), 0);
	assert_int_equal(fdt_finish(fdt), 0);
	assert_int_equal(fdt_open_into(fdt, fdt, (int)size), 0);	/* 1 MiB, like QEMU's */
	*len = size;
	return fdt;
}

static void check_edited(const char *fdt, size_t len)
{
	int off;
	const fdt32_t *v;
	int plen = 0;

	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), len);
	/* small enough for TF-A's 1 MiB window even after QEMU adds 10000 bytes */
	assert_true(len + 10000 < (1 << 20));
	/* free space left for OP-TEE's own edits of the normal world's tree */
	assert_true(len - (fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt)) >= 32 * 1024);
	off = fdt_path_offset(fdt, "/config");
	assert_true(off >= 0);
	v = fdt_getprop(fdt, off, "bootdelay", &plen);
	assert_non_null(v);
	assert_int_equal(plen, 4);
	assert_int_equal(fdt32_to_cpu(*v), 0);
	off = fdt_path_offset(fdt, "/chosen");
	assert_true(off >= 0);
	assert_null(fdt_getprop(fdt, off, "rng-seed", NULL));
	assert_null(fdt_getprop(fdt, off, "kaslr-seed", NULL));
	assert_string_equal(fdt_getprop(fdt, off, "stdout-path", NULL), "/pl011@9000000");
	off = fdt_path_offset(fdt, "/secure-chosen");
	assert_true(off >= 0);
	assert_null(fdt_getprop(fdt, off, "rng-seed", NULL));
	assert_string_equal(fdt_getprop(fdt, off, "stdout-path", NULL), "/pl011@9040000");
}

static void test_edit_adds_config(void **state)
{
	size_t len = 0;
	char *fdt = qemu_like_tree(&len, false);

	(void)state;
	assert_int_equal(dtb_edit(&fdt, &len), 0);
	check_edited(fdt, len);
	free(fdt);
}

static void test_edit_overrides_bootdelay(void **state)
{
	size_t len = 0;
	char *fdt = qemu_like_tree(&len, true);

	(void)state;
	assert_int_equal(dtb_edit(&fdt, &len), 0);
	check_edited(fdt, len);
	free(fdt);
}

static void test_edit_is_deterministic(void **state)
{
	size_t l1 = 0, l2 = 0;
	char *a = qemu_like_tree(&l1, false);
	char *b = qemu_like_tree(&l2, false);

	(void)state;
	assert_int_equal(dtb_edit(&a, &l1), 0);
	assert_int_equal(dtb_edit(&b, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(a, b, l1);
	free(a);
	free(b);
}

static void test_edit_rejects_garbage(void **state)
{
	size_t len = 4096;
	char *junk = xcalloc(1, len);
	struct capture c;
	char *err;

	(void)state;
	capture_begin(&c);
	assert_int_equal(dtb_edit(&junk, &len), -EINVAL);
	err = capture_end(&c);
	assert_non_null(strstr(err, "device tree: not a device tree"));
	free(err);
	free(junk);
}

static void test_add_scmi(void **state)
{
	size_t len = 0;
	char *fdt = qemu_like_tree(&len, false);
	int scmi, clk, reg, emmc, plen = 0;
	const fdt32_t *v;
	uint32_t ph_clk, ph_reg;

	(void)state;
	assert_int_equal(dtb_edit(&fdt, &len), 0);
	assert_int_equal(dtb_add_scmi(&fdt, &len), 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	scmi = fdt_path_offset(fdt, "/firmware/scmi");
	assert_true(scmi >= 0);
	assert_string_equal(fdt_getprop(fdt, scmi, "compatible", NULL), "linaro,scmi-optee");
	v = fdt_getprop(fdt, scmi, "linaro,optee-channel-id", &plen);
	assert_non_null(v);
	assert_int_equal(fdt32_to_cpu(*v), 0);
	/* no shmem: messages go through the SCMI PTA in TEE shared memory */
	assert_null(fdt_getprop(fdt, scmi, "shmem", NULL));
	clk = fdt_path_offset(fdt, "/firmware/scmi/protocol@14");
	reg = fdt_path_offset(fdt, "/firmware/scmi/protocol@17/regulators/regulator@0");
	emmc = fdt_path_offset(fdt, "/teelab-emmc");
	assert_true(clk >= 0 && reg >= 0 && emmc >= 0);
	assert_int_equal(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, clk, "#clock-cells", NULL)), 1);
	assert_string_equal(fdt_getprop(fdt, reg, "regulator-name", NULL), "emmc-vcc");
	ph_clk = fdt_get_phandle(fdt, clk);
	ph_reg = fdt_get_phandle(fdt, reg);
	assert_true(ph_clk && ph_reg && ph_clk != ph_reg);
	/* the eMMC consumes exactly those */
	v = fdt_getprop(fdt, emmc, "clocks", &plen);
	assert_int_equal(plen, 8);
	assert_int_equal(fdt32_to_cpu(v[0]), ph_clk);
	assert_int_equal(fdt32_to_cpu(v[1]), 0);
	v = fdt_getprop(fdt, emmc, "vmmc-supply", &plen);
	assert_int_equal(fdt32_to_cpu(*v), ph_reg);
	assert_string_equal(fdt_getprop(fdt, emmc, "compatible", NULL), "teelab,emmc-rpmb");
	assert_true(len + 10000 < (1 << 20));
	free(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_adds_config),
		cmocka_unit_test(test_edit_overrides_bootdelay),
		cmocka_unit_test(test_edit_is_deterministic),
		cmocka_unit_test(test_edit_rejects_garbage),
		cmocka_unit_test(test_add_scmi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
