// SPDX-License-Identifier: MIT
/* cmd_doctor.c - `teelab doctor`: host prerequisites, and what to install */
#ifndef TEELAB_LIBVIRT_DRIVERS
#define TEELAB_LIBVIRT_DRIVERS "/usr/lib/libvirt/connection-driver"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aptroot.h"
#include "commands.h"
#include "runproc.h"

struct check {
	const char *what;
	const char *const *argv;	/* a command that must run */
	const char *package;		/* Debian package that provides it */
};

static bool runs(const char *const *argv, char **first_line)
{
	struct strbuf out = STRBUF_INIT;
	int ret = run_capture(argv, NULL, &out);

	if (first_line) {
		char *nl = out.buf ? strchr(out.buf, '\n') : NULL;

		if (nl)
			*nl = '\0';
		*first_line = strbuf_detach(&out);
	}
	strbuf_release(&out);
	return ret == 0;
}

int cmd_doctor(int argc, char **argv)
{
	const struct check checks[] = {
		{ "QEMU (aarch64 system emulator)",
		  (const char *const[]){ "qemu-system-aarch64", "--version", NULL }, "qemu-system-arm" },
		{ "cross compiler for TF-A",
		  (const char *const[]){ "aarch64-linux-gnu-gcc", "--version", NULL }, "gcc-aarch64-linux-gnu" },
		{ "make", (const char *const[]){ "make", "--version", NULL }, "make" },
		{ "patch (Debian source patches)",
		  (const char *const[]){ "patch", "--version", NULL }, "patch" },
		{ "apt-get (private apt root)",
		  (const char *const[]){ "apt-get", "--version", NULL }, "apt" },
		{ "dtc (device trees)",
		  (const char *const[]){ "dtc", "--version", NULL }, "device-tree-compiler" },
		{ "virsh (libvirt backend)",
		  (const char *const[]){ "virsh", "--version", NULL }, "libvirt-clients" },
		{ "libvirt QEMU driver (qemu:///embed)",
		  (const char *const[]){ "test", "-e",
			TEELAB_LIBVIRT_DRIVERS "/libvirt_driver_qemu.so",
			NULL }, "libvirt-daemon-driver-qemu" },
	};
	struct host_mirror m;
	struct strvec missing = STRVEC_INIT;
	int bad = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: teelab doctor\n\nChecks what `teelab run` needs on this host.\n");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		char *line = NULL;
		bool ok = runs(checks[i].argv, &line);

		printf("%-4s %-34s %s\n", ok ? "ok" : "MISS", checks[i].what,
		       ok ? line : checks[i].package);
		if (!ok) {
			bad++;
			strvec_push(&missing, checks[i].package);
		}
		free(line);
	}
	if (!access("/usr/share/keyrings/debian-archive-keyring.gpg", R_OK)) {
		printf("ok   %-34s %s\n", "Debian archive keyring", "/usr/share/keyrings/debian-archive-keyring.gpg");
	} else {
		printf("MISS %-34s %s\n", "Debian archive keyring", "debian-archive-keyring");
		strvec_push(&missing, "debian-archive-keyring");
		bad++;
	}
	if (!host_mirror_read("/etc/apt", NULL, &m)) {
		printf("ok   %-34s %s (security: %s)\n", "Debian mirror (host apt sources)",
		       m.uri, m.security_uri);
		host_mirror_release(&m);
	} else {
		printf("MISS %-34s %s\n", "Debian mirror (host apt sources)",
		       "add one to /etc/apt/sources.list or set TEELAB_DEBIAN_MIRROR");
		bad++;
	}
	if (!access("/dev/kvm", R_OK))
		printf("note %-34s %s\n", "/dev/kvm", "present, but aarch64 guests on x86 use TCG anyway");
	if (missing.nr) {
		char *list = strvec_join_shell(&missing);

		printf("\nInstall what is missing with:\n  sudo apt-get install %s\n"
		       "or everything teelab uses with `sudo make deps`.\n", list);
		free(list);
	}
	strvec_release(&missing);
	printf("%s\n", bad ? "doctor: problems found" : "doctor: all good");
	return bad ? TL_EXIT_INFRA : 0;
}
