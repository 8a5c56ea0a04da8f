// SPDX-License-Identifier: MIT
/*
 * Unit tests for the machine layer's text formats: QMP replies (jansson),
 * libvirt URIs (libxml2's URI parser), the libvirt domain XML (libxml2's
 * writer, read back with its parser and XPath).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

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
static void test_domain_xml_escaped(void **state)
{
	struct machine_cfg cfg = { 0 };
	struct machine m;
	char *hp[5] = { "/cache/bios", "/cache/Image", "/cache/init&rd", NULL, "/cache/kexec 'x'.tar" };
	char *xml;
	xmlDocPtr doc;

	(void)state;
	cfg.qemu = "qemu-system-aarch64";
	cfg.cpu = "cortex-a57";
	cfg.smp = 2;
	cfg.memory_mb = 1024;
	cfg.gic_version = 3;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmp_reply),
		cmocka_unit_test(test_qmp_event),
		cmocka_unit_test(test_qmp_not_json),
		cmocka_unit_test(test_libvirt_uri_host),
		cmocka_unit_test(test_domain_xml_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
