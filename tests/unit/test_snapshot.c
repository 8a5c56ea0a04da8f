// SPDX-License-Identifier: MIT
/*
 * Unit tests for warm starts (snapshot.c): the written rule that keeps a
 * scenario cold, the snapshot key (what makes a snapshot stale), and the
 * cache's eviction. Nothing here starts QEMU: a shell script stands in
 * for `qemu-system-aarch64 --version`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "snapshot.h"
#include "step.h"

/* A scenario from @yaml (written to the fixture dir), selected (default cell). */
static void load(void **state, const char *yaml, struct scenario *sc)
{
	char *path = tpath(state, "s.yaml");
	struct config_overrides ov = { 0 };

	put_file(*state, "s.yaml", yaml);
	memset(sc, 0, sizeof(*sc));
	assert_int_equal(scenario_load(path, sc), 0);
	assert_int_equal(scenario_select(sc, NULL, NULL, 0, &ov), 0);
	free(path);
}

static const struct machine_ops can_save = { .name = "t", .qmp_fd = (void *)1 };
static const struct machine_ops cannot_save = { .name = "t" };

static void test_rule(void **state)
{
	struct lab_config cfg = { 0 };
	struct scenario sc;

	load(state, "name: a\nsteps:\n  - boot\n  - run: xtest -t regression 1001\n", &sc);
	assert_null(snapshot_cold_reason(&cfg, &sc, &can_save, false));
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &cannot_save, false), "backend"));
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &cannot_save, true), "backend"));
	cfg.secure.ffa = true;
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &can_save, false), "FF-A"));
	assert_null(snapshot_cold_reason(&cfg, &sc, &can_save, true));	/* --warm */
	cfg.secure.ffa = false;
	scenario_release(&sc);

	load(state, "name: b\nsteps:\n  - boot\n  - reboot\n", &sc);
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &can_save, false), "reboots"));
	scenario_release(&sc);
	load(state, "name: c\nsteps:\n  - boot\n  - repeat: { times: 2, steps: [ kexec ] }\n", &sc);
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &can_save, false), "kexecs"));
	scenario_release(&sc);
	load(state, "name: d\nkernel-cmdline: \"loglevel=8\"\nsteps:\n  - boot\n", &sc);
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &can_save, false), "kernel-cmdline"));
	scenario_release(&sc);
	load(state, "name: e\ncold-boot: true\nsteps:\n  - boot\n", &sc);
	assert_non_null(strstr(snapshot_cold_reason(&cfg, &sc, &can_save, false), "cold-boot: true"));
	scenario_release(&sc);
}

/* A stand-in QEMU: `--version` prints <dir>/version and adds a line to <dir>/calls. */
static char *fake_qemu(void **state, const char *version)
{
	char *q = tpath(state, "qemu"), *script;

	put_file(*state, "version", version);
	script = xasprintf("#!/bin/sh\necho >>'%s/calls'\ncat '%s/version'\n", (char *)*state,
			   (char *)*state);
	put_file(*state, "qemu", script);
	assert_int_equal(chmod(q, 0755), 0);
	free(script);
	return q;
}

/* Lines of <dir>/@name (0 when missing). */
static int count_lines(void **state, const char *name)
{
	char *p = tpath(state, name), *text = NULL;
	int n = 0;

	if (!read_file(p, &text, NULL))
		for (const char *c = text; *c; c++)
			n += *c == '\n';
	free(text);
	free(p);
	return n;
}

/* Set @path's modification time to @secs before a fixed moment (a rebuild is a new time). */
static void age(const char *path, int secs)
{
	struct timeval tv[2] = { { 1796000000 - secs, 0 }, { 1796000000 - secs, 0 } };

	assert_int_equal(utimes(path, tv), 0);
}

static void test_key(void **state)
{
	struct machine_cfg mc = { .cpu = "cortex-a57", .smp = 2, .memory_mb = 1024, .gic_version = 3 };
	struct machine_spec spec = { .cfg = &mc };
	struct snapshot a, b;
	char *kernel = tpath(state, "Image"), *cache = tpath(state, "cache");

	mc.qemu = fake_qemu(state, "QEMU emulator version 7.2.22\n");
	age(mc.qemu, 10);
	put_file(*state, "Image", "kernel");
	age(kernel, 100);
	spec.kernel = kernel;
	spec.bios = "/nonexistent/bios";

	assert_int_equal(snapshot_lookup(&a, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_equal(a.qemu_version, "QEMU emulator version 7.2.22");
	assert_false(a.exists);
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_equal(a.key, b.key);	/* the same lab: the same snapshot */
	assert_string_equal(b.qemu_version, "QEMU emulator version 7.2.22");
	snapshot_release(&b);
	/* QEMU was asked its version once: the second lookup had it from the cache */
	assert_int_equal(count_lines(state, "calls"), 1);

	/* each of these makes the snapshot another one */
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0 loglevel=8"), 0);
	assert_string_not_equal(a.key, b.key);
	snapshot_release(&b);
	age(kernel, 50);	/* the kernel rebuilt */
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_not_equal(a.key, b.key);
	snapshot_release(&b);
	age(kernel, 100);
	put_file(*state, "version", "QEMU emulator version 7.2.23\n");	/* another QEMU */
	age(mc.qemu, 5);	/* installed: another binary stamp, so asked again */
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_equal(b.qemu_version, "QEMU emulator version 7.2.23");
	assert_string_not_equal(a.key, b.key);
	assert_int_equal(count_lines(state, "calls"), 2);
	snapshot_release(&b);
	mc.memory_mb = 512;
	put_file(*state, "version", "QEMU emulator version 7.2.22\n");
	age(mc.qemu, 10);
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_not_equal(a.key, b.key);
	snapshot_release(&b);
	mc.memory_mb = 1024;
	mc.boot = BOOT_UBOOT;
	assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
	assert_string_not_equal(a.key, b.key);
	snapshot_release(&b);

	/* found once it has a state and a meta.json */
	{
		char *f;

		assert_int_equal(mkdir_p(a.dir, 0755), 0);
		f = path_join(a.dir, "state.mig");
		put_file(a.dir, "state.mig", "x");
		put_file(a.dir, "meta.json", "{\"made\": \"2026-12-03T18:00:00Z\", \"save_seconds\": 0.2}");
		free(f);
		mc.boot = BOOT_DIRECT;
		age(kernel, 100);
		/* not without its RAM file */
		assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
		assert_false(b.exists);
		snapshot_release(&b);
		put_file(a.dir, "ram", "");
		assert_int_equal(snapshot_lookup(&b, cache, &spec, "console=ttyAMA0"), 0);
		assert_string_equal(a.key, b.key);
		assert_true(b.exists);
		assert_string_equal(b.made, "2026-12-03T18:00:00Z");
		snapshot_drop(&b);
		assert_false(file_exists(a.dir));
		snapshot_release(&b);
	}
	snapshot_release(&a);
	free((char *)mc.qemu);
	free(kernel);
	free(cache);
}

/* The RAM file of a run that makes a snapshot: sized, a hole, unnamed. */
static void test_ram_file(void **state)
{
	char *cache = xasprintf("%s/cache", (char *)*state), *root = path_join(cache, "snapshots");
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd = snapshot_ram_create(cache, 64), n = 0;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 64 << 20);
	assert_true(st.st_blocks < 64);	/* nothing written yet */
	d = opendir(root);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);	/* no name in the cache */
	close(fd);
	free(root);
	free(cache);
}

/* A snapshot dir <cache>/snapshots/<64 x c> whose image is @image, used @ago seconds ago. */
static char *put_snapshot(void **state, char c, const char *image, int ago)
{
	char key[SHA256_HEX_LEN + 1], *dir, *meta, *text;

	memset(key, c, SHA256_HEX_LEN);
	key[SHA256_HEX_LEN] = '\0';
	dir = xasprintf("%s/cache/snapshots/%s", (char *)*state, key);
	assert_int_equal(mkdir_p(dir, 0755), 0);
	text = xasprintf("{\"made\": \"x\", \"images\": {\"kernel\": \"%s\"}}", image);
	put_file(dir, "meta.json", text);
	put_file(dir, "state.mig", "x");
	meta = path_join(dir, "meta.json");
	age(meta, ago);
	free(meta);
	free(text);
	return dir;
}

static void test_evict(void **state)
{
	char *img = tpath(state, "Image"), *cache = tpath(state, "cache");
	char *a, *b, *c, *gone;

	put_file(*state, "Image", "k");
	a = put_snapshot(state, 'a', img, 300);
	b = put_snapshot(state, 'b', img, 100);
	c = put_snapshot(state, 'c', img, 200);
	gone = put_snapshot(state, 'd', "/nonexistent/Image", 0);
	put_file(*state, "cache/snapshots/xyz.lock", "");
	snapshot_evict(cache, 2);
	assert_false(file_exists(gone));	/* its image is gone */
	assert_false(file_exists(a));		/* the least recently used of three, keep 2 */
	assert_true(file_exists(b));
	assert_true(file_exists(c));
	free(a);
	free(b);
	free(c);
	free(gone);
	free(img);
	free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rule, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_key, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_evict, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_ram_file, setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
