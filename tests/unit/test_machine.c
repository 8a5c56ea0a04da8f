// SPDX-License-Identifier: MIT
/* Unit tests for the machine layer's protocol helpers (QMP replies). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmp_reply),
		cmocka_unit_test(test_qmp_event),
		cmocka_unit_test(test_qmp_not_json),
		cmocka_unit_test(test_libvirt_uri_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
