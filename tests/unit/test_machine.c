// SPDX-License-Identifier: MIT
/*
 * Unit tests for the machine layer's text formats: QMP replies (jansson),
 * libvirt URIs (libxml2's URI parser), the libvirt domain XML (libxml2's
 * writer, read back with its parser and XPath), and a direct boot's layout
 * (the kernel Image header, the initramfs address, /chosen read back with
 * libfdt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>
#include <libxml/parser.h>

#include "machine.h"
#include "util.h"

static void test_qmp_reply(void **state)
{
	(void)state;
	assert_true(qmp_is_reply("{\"return\": {}}"));
	assert_true(qmp_is_reply("{\"return\": \"...\", \"id\": 1}"));
	assert_true(qmp_is_reply("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}"));
	assert_true(qmp_is_reply("{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}"));
}

/*
 * Events are not replies, even when their data carries an "error" or
 * "return" member: a strstr() on the text took this one for the reply.
 */
static void test_qmp_event(void **state)
{
	(void)state;
	assert_false(qmp_is_reply("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				  "\"event\": \"BLOCK_IO_ERROR\", \"data\": {\"device\": \"kexec\", "
				  "\"operation\": \"read\", \"action\": \"report\", \"nospace\": false, "
				  "\"reason\": \"Input/output error\", \"error\": \"EIO\"}}"));
	assert_false(qmp_is_reply("{\"event\": \"X\", \"data\": {\"return\": 1}}"));
	assert_false(qmp_is_reply("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}"));
}

static void test_qmp_not_json(void **state)
{
	(void)state;
	assert_false(qmp_is_reply(""));
	assert_false(qmp_is_reply("\"return\""));
	assert_false(qmp_is_reply("{\"data\": {\"error\": 1}}"));
	assert_false(qmp_is_reply("[{\"return\": {}}]"));
	assert_false(qmp_is_reply("{\"return\": {}"));
}

static void test_libvirt_uri_host(void **state)
{
	static const struct {
		const char *uri, *host;	/* host NULL: names none */
	} cases[] = {
		{ "qemu+tcp://127.0.0.1:16510/system", "127.0.0.1" },
		{ "qemu+ssh://root@lab.example.org:2222/system", "lab.example.org" },
		{ "qemu+tcp://[::1]/system", "::1" },	/* was "[" by hand */
		{ "qemu+tcp://[fe80::1%25eth0]:16509/system", "fe80::1%eth0" },	/* RFC 6874 zone */
		{ "qemu:///system", NULL },
		{ "qemu:///embed?root=/root/.cache/teelab/libvirt/embed-0", NULL },
		{ "qemu+ssh://host/system?keyfile=/a@b", "host" },
	};
	char host[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool ok = libvirt_uri_host(cases[i].uri, host, sizeof(host));

		if (ok != !!cases[i].host || (ok && strcmp(host, cases[i].host))) {
			print_error("%s: got %s, wanted %s\n", cases[i].uri, ok ? host : "(none)",
				    cases[i].host ? cases[i].host : "(none)");
			fail();
		}
	}
	assert_false(libvirt_uri_host("qemu+tcp://a-rather-long-host-name/system", host, 8));
}

/*
 * Every value is escaped: a run dir with '&' and '<' (`--runs-dir 'a&b'`)
 * made the hand-assembled XML invalid, and libvirt refused the domain.
 */
/* The lab board of configs/machines/virt.yaml, booting @boot */
static void lab_board(struct machine_cfg *cfg, enum boot_mode boot)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->qemu = "qemu-system-aarch64";
	cfg->cpu = "cortex-a57";
	cfg->smp = 2;
	cfg->memory_mb = 1024;
	cfg->gic_version = 3;
	cfg->boot = boot;
}

static void test_domain_xml_escaped(void **state)
{
	struct machine_cfg cfg = { 0 };
	struct machine m;
	char *hp[5] = { "/cache/bios", "/cache/Image", "/cache/init&rd", NULL, "/cache/kexec 'x'.tar" };
	char *xml;
	xmlDocPtr doc;

	(void)state;
	lab_board(&cfg, BOOT_UBOOT);
	memset(&m, 0, sizeof(m));
	m.spec.cfg = &cfg;
	m.spec.run_dir = "/tmp/a&b <runs>/20261203-xtest-smoke";
	m.spec.append = "console=ttyAMA0 tl.key=\"a&b\"";
	m.spec.ssh_port = 2222;
	strcpy(m.ssh_host, "127.0.0.1");
	xml = libvirt_domain_xml(&m, "teelab-test-1", hp);
	assert_non_null(xml);
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
	if (!doc)
		print_error("not XML:\n%s\n", xml);
	assert_non_null(doc);
	assert_xpath(doc, "/domain/description", "teelab lab machine (run /tmp/a&b <runs>/20261203-xtest-smoke)");
	assert_xpath(doc, "/domain/os/initrd", "/cache/init&rd");
	assert_xpath(doc, "/domain/os/cmdline", "console=ttyAMA0 tl.key=\"a&b\"");
	assert_xpath(doc, "/domain/devices/disk/source/@file", "/cache/kexec 'x'.tar");
	assert_null(xpath_text(doc, "/domain/os/dtb"));
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[2]/@value", "secure=on,virtualization=off");
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[4]/@value", "user,id=tlnet0,hostfwd=tcp:127.0.0.1:2222-:22");
	assert_xpath(doc, "/domain/devices/serial[2]/target/@port", "1");
	xmlFreeDoc(doc);
	free(xml);
}

/* boot: direct: no <kernel>; the loaders and the run's tree on QEMU's command line */
static void test_domain_xml_direct(void **state)
{
	struct machine_cfg cfg = { 0 };
	struct machine m;
	char *hp[5] = { "/cache/bios", "/cache/Im,age", "/cache/initrd", "/run/boot.dtb", NULL };
	char *xml;
	xmlDocPtr doc;

	(void)state;
	lab_board(&cfg, BOOT_DIRECT);
	memset(&m, 0, sizeof(m));
	m.spec.cfg = &cfg;
	m.spec.run_dir = "/run";
	m.spec.append = "console=ttyAMA0";
	m.spec.initrd_addr = 0x48000000;
	xml = libvirt_domain_xml(&m, "teelab-test-2", hp);
	assert_non_null(xml);
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	assert_null(xpath_text(doc, "/domain/os/kernel"));
	assert_null(xpath_text(doc, "/domain/os/cmdline"));
	assert_xpath(doc, "/domain/os/loader", "/cache/bios");
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[4]/@value",
		     "loader,file=/cache/Im,,age,addr=0x42200000,force-raw=on");
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[6]/@value",
		     "loader,file=/cache/initrd,addr=0x48000000,force-raw=on");
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[7]/@value", "-dtb");
	assert_xpath(doc, "/domain/qemu:commandline/qemu:arg[8]/@value", "/run/boot.dtb");
	xmlFreeDoc(doc);
	free(xml);
}

/* A fake arm64 Image: the 64-byte header with @image_size, then @pad bytes. */
static void put_image(const char *path, uint64_t image_size, size_t pad, bool magic)
{
	unsigned char *b = calloc(1, 64 + pad);

	assert_non_null(b);
	for (int i = 0; i < 8; i++)
		b[0x10 + i] = (unsigned char)(image_size >> (8 * i));
	if (magic)
		memcpy(b + 0x38, "ARM\x64", 4);
	assert_int_equal(write_file(path, b, 64 + pad, 0644), 0);
	free(b);
}

/* QEMU's tree stand-in: an empty root with /chosen, as dtb_edit() leaves it. */
static void put_tree(const char *path)
{
	char buf[4096];

	assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	assert_true(fdt_add_subnode(buf, 0, "chosen") >= 0);
	assert_int_equal(write_file(path, buf, fdt_totalsize(buf), 0644), 0);
}

static uint64_t chosen_u64(const void *fdt, const char *name)
{
	int len = 0;
	const fdt64_t *v = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), name, &len);

	assert_non_null(v);
	assert_int_equal(len, 8);
	return fdt64_to_cpu(*v);
}

static void test_direct_boot_layout(void **state)
{
	struct machine_cfg cfg = { .name = "virt", .memory_mb = 1024 };
	char *k = tpath(state, "Image"), *big = tpath(state, "Image.big"), *gz = tpath(state, "Image.gz");
	char *ird = tpath(state, "initrd"), *in = tpath(state, "in.dtb"), *out = tpath(state, "boot.dtb");
	char *blob = NULL;
	size_t len = 0;
	uint64_t at = 0;
	struct capture c;
	char *err;

	put_image(k, 0x2b40000, 0, true);	/* Debian 6.12: ends at 0x44d40000 */
	put_image(big, 0x7000000, 0, true);	/* a KASAN kernel: 112 MiB */
	put_image(gz, 0, 0, false);
	assert_int_equal(write_file(ird, "0123456789", 10, 0644), 0);
	put_tree(in);

	assert_int_equal(direct_boot_prepare(&cfg, k, ird, in, "console=ttyAMA0 rdinit=/init", out, &at), 0);
	assert_int_equal(at, 0x48000000);	/* DIRECT_INITRD_MIN */
	assert_int_equal(read_file(out, &blob, &len), 0);
	assert_string_equal(fdt_getprop(blob, fdt_path_offset(blob, "/chosen"), "bootargs", NULL),
			    "console=ttyAMA0 rdinit=/init");
	assert_int_equal(chosen_u64(blob, "linux,initrd-start"), 0x48000000);
	assert_int_equal(chosen_u64(blob, "linux,initrd-end"), 0x4800000a);
	free(blob);

	/* above a big kernel: its end rounded up to 2 MiB */
	assert_int_equal(direct_boot_prepare(&cfg, big, ird, in, "x", out, &at), 0);
	assert_int_equal(at, 0x49200000);

	/* a compressed kernel is refused, naming the file and the way out */
	capture_begin(&c);
	assert_int_equal(direct_boot_prepare(&cfg, gz, ird, in, "x", out, &at), -EINVAL);
	err = capture_end(&c);
	assert_non_null(strstr(err, "Image.gz' is not an uncompressed arm64 Image"));
	assert_non_null(strstr(err, "--boot u-boot"));
	free(err);

	/* too little RAM for the layout */
	cfg.memory_mb = 128;
	capture_begin(&c);
	assert_int_equal(direct_boot_prepare(&cfg, k, ird, in, "x", out, &at), -EINVAL);
	err = capture_end(&c);
	assert_non_null(strstr(err, "give machine 'virt' more memory"));
	free(err);
	free(k);
	free(big);
	free(gz);
	free(ird);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmp_reply),
		cmocka_unit_test(test_qmp_event),
		cmocka_unit_test(test_qmp_not_json),
		cmocka_unit_test(test_libvirt_uri_host),
		cmocka_unit_test(test_domain_xml_escaped),
		cmocka_unit_test(test_domain_xml_direct),
		cmocka_unit_test_setup_teardown(test_direct_boot_layout, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
