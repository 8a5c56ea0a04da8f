// SPDX-License-Identifier: MIT
/*
 * cmd_doctor.c - `teelab doctor`: the host's prerequisites, and what to
 * install. The package list is configs/host-packages.txt (hostpkgs.h), the
 * same file `make deps` installs from; the checks below then try what the
 * builds actually do (compile and link for arm64, run the source-build
 * tools, import OP-TEE's python modules, write the cache and runs dirs).
 *
 * Exit: 0 all good, 4 (TL_EXIT_INFRA) something missing or failing,
 * 3 (TL_EXIT_USAGE) a bad option.
 */
#ifndef TEELAB_LIBVIRT_DRIVERS
#define TEELAB_LIBVIRT_DRIVERS "/usr/lib/libvirt/connection-driver"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "aptroot.h"
#include "commands.h"
#include "hostpkgs.h"
#include "runproc.h"

/*
 * Room a source-built kernel takes in the cache, measured on Linux 6.12 from
 * linux-source-6.12 (allnoconfig + teelab's fragment, 2026-12): the unpacked
 * tree 1.7 GiB, its objects 0.18 GiB. `make check` fills about 4.5 GiB in all
 * (that kernel, three OP-TEE builds, TF-A, sysroots, Debian packages).
 */
#define KERNEL_BUILD_MIB 1900
#define ROOM_NEEDED_MIB 3072
#define CHECK_CACHE_MIB 4600

struct doctor {
	int bad;		/* MISS lines printed; non-zero: exit 4 */
	struct strvec missing;	/* packages to name in the install command */
};

static void report(struct doctor *d, bool ok, const char *what, const char *detail,
		   const char *package)
{
	printf("%-4s %-36s %s\n", ok ? "ok" : "MISS", what, detail ? detail : "");
	if (ok)
		return;
	d->bad++;
	if (package && !strvec_contains(&d->missing, package))
		strvec_push(&d->missing, package);
}

/*
 * Runs @argv; the first line of its stdout into *line (if @line). With
 * @log, stderr goes there (else to the verbose stream).
 */
static bool runs_log(const char *const *argv, const char *log, char **line)
{
	struct child c = CHILD_INIT;
	bool ok;

	if (line)
		*line = NULL;
	/* absent: a MISS line says so, no "cannot run" error on top */
	if (argv[0][0] == '/' ? access(argv[0], X_OK) : !in_path(argv[0]))
		return false;
	for (size_t i = 0; argv[i]; i++)
		strvec_push(&c.argv, argv[i]);
	c.capture = true;
	c.log_path = log;
	ok = !child_start(&c) && !child_finish(&c);	/* no "command failed": MISS says it */
	if (line) {
		char *nl = c.output.buf ? strchr(c.output.buf, '\n') : NULL;

		if (nl)
			*nl = '\0';
		*line = strbuf_detach(&c.output);
	}
	child_release(&c);
	return ok;
}

static bool runs(const char *const *argv, char **line)
{
	return runs_log(argv, NULL, line);
}

/* The first line of @path mentioning "error", else its first line. */
static char *first_error(const char *path)
{
	char *text = NULL, *ret = NULL;

	if (read_file(path, &text, NULL))
		return xstrdup("(no compiler output)");
	for (char *l = strtok(text, "\n"); l && !ret; l = strtok(NULL, "\n"))
		if (strstr(l, "error"))
			ret = xstrdup(l);
	if (!ret)
		ret = xstrdup(text);
	free(text);
	return ret;
}

struct tool {
	const char *what;
	const char *const *argv;	/* must exit 0 */
	const char *package;
};

static void check_tools(struct doctor *d)
{
	const struct tool tools[] = {
		{ "QEMU (aarch64 system emulator)",
		  (const char *const[]){ "qemu-system-aarch64", "--version", NULL }, "qemu-system-arm" },
		{ "make", (const char *const[]){ "make", "--version", NULL }, "make" },
		{ "patch (Debian source patches)",
		  (const char *const[]){ "patch", "--version", NULL }, "patch" },
		{ "apt-get (private apt root)",
		  (const char *const[]){ "apt-get", "--version", NULL }, "apt" },
		{ "dtc (device trees)",
		  (const char *const[]){ "dtc", "--version", NULL }, "device-tree-compiler" },
		{ "flex (kernel from source)", (const char *const[]){ "flex", "--version", NULL }, "flex" },
		{ "bison (kernel from source)", (const char *const[]){ "bison", "--version", NULL }, "bison" },
		{ "bc (kernel from source)", (const char *const[]){ "bc", "--version", NULL }, "bc" },
		{ "pahole (module BTF)", (const char *const[]){ "pahole", "--version", NULL }, "dwarves" },
		/* OP-TEE's scripts: teelab passes PYTHON3=/usr/bin/python3 */
		{ "python3 elftools (OP-TEE build)",
		  (const char *const[]){ "/usr/bin/python3", "-c",
			"import elftools; print('pyelftools', elftools.__version__)", NULL },
		  "python3-pyelftools" },
		{ "python3 cryptography (TA signing)",
		  (const char *const[]){ "/usr/bin/python3", "-c",
			"import cryptography; print('cryptography', cryptography.__version__)", NULL },
		  "python3-cryptography" },
		{ "virsh (libvirt backend)",
		  (const char *const[]){ "virsh", "--version", NULL }, "libvirt-clients" },
	};
	const char *driver = TEELAB_LIBVIRT_DRIVERS "/libvirt_driver_qemu.so";

	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		char *line = NULL;
		bool ok = runs(tools[i].argv, &line);

		report(d, ok, tools[i].what, ok ? line : tools[i].package, tools[i].package);
		free(line);
	}
	report(d, !access(driver, R_OK), "libvirt QEMU driver (qemu:///embed)",
	       access(driver, R_OK) ? "libvirt-daemon-driver-qemu" : driver,
	       "libvirt-daemon-driver-qemu");
}

/*
 * The guest programs are linked against the arm64 C library: compile and
 * link a program as images.c does, so a missing libc6-dev-arm64-cross (only
 * a Recommends of gcc-aarch64-linux-gnu) shows here and not in a build log.
 */
static void check_cross_link(struct doctor *d)
{
	char dir[] = "/tmp/teelab-doctor-XXXXXX";
	char *src = NULL, *exe = NULL, *log = NULL, *line = NULL;
	bool ok = false;

	if (!mkdtemp(dir)) {
		report(d, false, "cross compiler links for arm64", strerror(errno), NULL);
		return;
	}
	src = path_join(dir, "hello.c");
	exe = path_join(dir, "hello");
	log = path_join(dir, "cc.log");
	if (write_file_str(src, "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n")
	    == 0) {
		const char *const version[] = { "aarch64-linux-gnu-gcc", "--version", NULL };
		const char *const cc[] = { "aarch64-linux-gnu-gcc", "-O2", "-o", exe, src, NULL };

		if (!runs(version, NULL)) {
			report(d, false, "cross compiler for arm64",
			       "gcc-aarch64-linux-gnu", "gcc-aarch64-linux-gnu");
		} else {
			ok = runs_log(cc, log, NULL);
			line = ok ? NULL : first_error(log);
			report(d, ok, "cross compiler links for arm64",
			       ok ? "aarch64-linux-gnu-gcc: hello.c compiled and linked against glibc"
				  : line, "libc6-dev-arm64-cross");
		}
	}
	free(line);
	unlink(exe);
	unlink(src);
	unlink(log);
	rmdir(dir);
	free(log);
	free(src);
	free(exe);
}

/*
 * @dir takes a new file, or, when it does not exist yet, its nearest
 * existing parent is writable (so teelab can create it; doctor creates
 * nothing).
 */
static bool writable_dir(const char *dir, char **why)
{
	char *probe, *at = xstrdup(dir);
	int ret = 0;

	*why = NULL;
	while (!is_dir(at)) {
		char *slash = strrchr(at, '/');

		if (!slash) {
			free(at);
			at = xstrdup(".");
			break;
		}
		if (slash == at)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (strcmp(at, dir)) {
		if (access(at, W_OK))
			ret = -errno;
	} else {
		probe = path_join(dir, ".teelab-doctor");
		ret = write_file_str(probe, "");
		unlink(probe);
		free(probe);
	}
	if (ret)
		*why = xasprintf("%s: %s", at, strerror(-ret));
	free(at);
	return !ret;
}

static void check_dirs(struct doctor *d, const char *cache, const char *runs_dir)
{
	struct statvfs st;
	char *why = NULL, *line;

	if (!writable_dir(cache, &why)) {
		report(d, false, "cache directory writable", why, NULL);
		free(why);
		return;
	}
	report(d, true, "cache directory writable", cache, NULL);
	if (!writable_dir(runs_dir, &why))
		report(d, false, "runs directory writable", why, NULL);
	else
		report(d, true, "runs directory writable", runs_dir, NULL);
	free(why);
	line = xstrdup(cache);
	while (!is_dir(line) && strrchr(line, '/') && strrchr(line, '/') != line)
		*strrchr(line, '/') = '\0';
	if (statvfs(line, &st)) {
		free(line);
		report(d, false, "room in the cache", strerror(errno), NULL);
		return;
	}
	free(line);
	unsigned long long avail = (unsigned long long)st.f_bavail * st.f_frsize >> 20;

	line = xasprintf("%llu MiB free (wanted: %d; a kernel from source takes %d, "
			 "make check's images %d)", avail, ROOM_NEEDED_MIB, KERNEL_BUILD_MIB,
			 CHECK_CACHE_MIB);
	report(d, avail >= ROOM_NEEDED_MIB, "room in the cache", line, NULL);
	free(line);
}

static void check_packages(struct doctor *d, const char *suite)
{
	char *datadir = config_find_datadir();
	char *list = datadir ? path_join(datadir, "configs/host-packages.txt") : NULL;
	struct strvec pkgs = STRVEC_INIT, missing = STRVEC_INIT;
	char *line;

	if (!list) {
		report(d, false, "host package list", "no data directory", NULL);
		goto out;
	}
	if (hostpkgs_read(list, suite, &pkgs) || hostpkgs_missing(&pkgs, &missing)) {
		report(d, false, "host package list", list, NULL);
		goto out;
	}
	line = xasprintf("%zu of %zu installed (%s, %s)", pkgs.nr - missing.nr, pkgs.nr,
			 list, suite);
	report(d, !missing.nr, "host packages", line, NULL);
	free(line);
	for (size_t i = 0; i < missing.nr; i++)
		report(d, false, "  not installed", missing.v[i], missing.v[i]);
out:
	strvec_release(&pkgs);
	strvec_release(&missing);
	free(list);
	free(datadir);
}

/*
 * Transparent huge pages: a note, not a check. With "madvise" (some VM
 * kernels; Debian's own default to "always", CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS)
 * cc1's garbage-collected heap, which it maps without MADV_HUGEPAGE, is
 * faulted in 4 KiB pages. Measured on a 2-core VM, 2026-12-05, alternating:
 * Linux 6.12's kernel/ and mm/ took 153 core-seconds of user and 53 of
 * system time with "madvise", 115 and 30 with "always" (4.5 and 1.3 million
 * page faults); an OP-TEE 4.10 build 206 core-seconds and 172.
 */
static void check_thp(void)
{
	static const char path[] = "/sys/kernel/mm/transparent_hugepage/enabled";
	char *text = NULL, *mode = NULL, *end;

	if (!read_file(path, &text, NULL) && (mode = strchr(text, '[')) && (end = strchr(++mode, ']')))
		*end = '\0';
	else
		mode = NULL;
	if (mode && strcmp(mode, "always"))
		printf("note %-36s %s: kernel and OP-TEE builds take 20-40%% more CPU than with "
		       "\"always\" (Debian's default; %s)\n", "transparent huge pages", mode, path);
	free(text);
}

const struct command command_doctor = {
	.name = "doctor", .fn = cmd_doctor,
	.summary = "check the host's prerequisites and say what to install",
	.usage = "[--cache-dir DIR] [--runs-dir DIR]",
	.description =
		"Checks what teelab needs on this host: the packages of\n"
		"configs/host-packages.txt for this Debian suite, that the cross\n"
		"compiler links arm64 programs, the source-build tools, the Debian\n"
		"mirror, and that the cache and runs directories are writable with\n"
		"room for a kernel build. Prints the command that installs what is\n"
		"missing.\n\nExit: 0 all good, 4 something is missing, 3 bad option.",
	.options = lab_options,
};

int cmd_doctor(int argc, char **argv)
{
	struct config_overrides ov;
	struct doctor d = { 0, STRVEC_INIT };
	struct host_mirror m;
	char *suite, *cache, *runs_dir;

	parse_command(argc, argv, &command_doctor);
	ov = global_overrides;
	suite = host_codename();
	if (!suite) {
		report(&d, false, "Debian suite", "no VERSION_CODENAME in /etc/os-release", NULL);
		suite = xstrdup("unknown");
	} else {
		report(&d, true, "Debian suite", suite, NULL);
	}
	check_packages(&d, suite);
	check_tools(&d);
	check_cross_link(&d);
	if (!access("/usr/share/keyrings/debian-archive-keyring.gpg", R_OK))
		report(&d, true, "Debian archive keyring",
		       "/usr/share/keyrings/debian-archive-keyring.gpg", NULL);
	else
		report(&d, false, "Debian archive keyring", "debian-archive-keyring",
		       "debian-archive-keyring");
	if (!host_mirror_read("/etc/apt", NULL, &m)) {
		char *line = xasprintf("%s (security: %s)", m.uri, m.security_uri);

		report(&d, true, "Debian mirror (host apt sources)", line, NULL);
		free(line);
		host_mirror_release(&m);
	} else {
		report(&d, false, "Debian mirror (host apt sources)",
		       "add one to /etc/apt/sources.list or set TEELAB_DEBIAN_MIRROR", NULL);
	}
	cache = config_cache_dir(&ov);
	runs_dir = config_runs_dir(&ov);
	check_dirs(&d, cache, runs_dir);
	check_thp();
	if (!access("/dev/kvm", R_OK))
		printf("note %-36s %s\n", "/dev/kvm", "present, but aarch64 guests on x86 use TCG anyway");
	if (d.missing.nr) {
		char *list = strvec_join_shell(&d.missing);

		printf("\nInstall what is missing with:\n  %sapt-get install --no-install-recommends %s\n"
		       "or everything teelab uses with `make deps`.\n",
		       geteuid() ? "sudo " : "", list);
		free(list);
	}
	strvec_release(&d.missing);
	free(suite);
	free(cache);
	free(runs_dir);
	printf("%s\n", d.bad ? "doctor: problems found" : "doctor: all good");
	return d.bad ? TL_EXIT_INFRA : 0;
}
