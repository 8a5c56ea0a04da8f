// SPDX-License-Identifier: MIT
/*
 * tl-init: teelab's /init for the lab initramfs (PID 1), in C.
 *
 * Sets up the guest the way the scenarios expect, then hands the serial
 * console to a shell that teelab drives with /usr/bin/tl-run:
 *   1. mount proc, sysfs, devtmpfs, tmpfs (/tmp, /run), devpts, debugfs
 *   2. bring `lo` up (xtest 2001-2004 are socket tests); say so when this
 *      is a kdump capture kernel (/proc/vmcore)
 *   3. load the kernel modules of /etc/teelab/modules that a device needs
 *      (matched by modalias, see load_modules()), in order
 *      (/lib/modules/teelab/<name>.ko, decompressed by teelab)
 *   4. provision the lab eMMC's RPMB authentication key when the secure
 *      profile names one (/etc/teelab/rpmb.key, written by teelab): OP-TEE
 *      with in-kernel RPMB routing never programs the key itself, a factory
 *      does, with mmc-utils' `mmc rpmb write-key`
 *   5. install busybox's applet links and start tee-supplicant (secure
 *      storage in /var/lib/optee-client/data/tee)
 *   6. network (QEMU user networking: 10.0.2.15/24, gateway 10.0.2.2) and
 *      dropbear, started beside the two of step 5; the run's public key comes
 *      after the ready marker, typed by teelab into the console shell (so a
 *      snapshot of the booted lab holds none); dropbear makes its host key
 *      at the first connection (-R), after teelab has reseeded the RNG of a
 *      restored lab
 *   7. print the ready marker once busybox's links, tee-supplicant and
 *      dropbear are ready, and run a shell on the console (again when it
 *      exits), reaping every orphan meanwhile
 *
 * It was a busybox shell script: under TCG every program started costs
 * 10-30 ms (an exec, its page faults), and the script started about 25 of
 * them one after the other (0.87 s of a Debian 6.12 cold boot). Here the
 * mounts, modules and network are system calls, and the three programs
 * that remain run side by side. The console lines are the script's.
 *
 * Static (no dynamic loader at every boot). Never exits: PID 1's exit
 * panics the kernel.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MODULES_LIST "/etc/teelab/modules"
#define MODULES_DIR "/lib/modules/teelab"
#define RPMB_KEY "/etc/teelab/rpmb.key"

/* One line on the console (stdout is /dev/console), unbuffered. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0) {
		/* nowhere else to say it */
	}
}

static void mount_one(const char *type, const char *dir)
{
	mkdir(dir, 0755);
	if (mount(type, dir, type, 0, NULL) && errno != EBUSY)
		say("teelab-init: mount %s on %s: %s", type, dir, strerror(errno));
}

static void track(pid_t pid);

/*
 * Start @argv[0] (searched in PATH), its stdout on the console and its
 * stderr on @err_path (NULL: the console), and track it (wait_for()).
 * The pid, or -1 (said).
 */
static pid_t spawn(char *const argv[], const char *err_path)
{
	pid_t pid = fork();

	if (pid < 0) {
		say("teelab-init: fork for %s: %s", argv[0], strerror(errno));
		return -1;
	}
	if (!pid) {
		if (err_path) {
			int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0)
				dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		say("teelab-init: cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	track(pid);
	return pid;
}

/*
 * The children whose end is waited for (the rest are orphans, reaped as
 * they come): a child reaped while waiting for another keeps its status.
 */
static struct { pid_t pid; int status; int done; } waited[8];

static void track(pid_t pid)
{
	for (size_t i = 0; pid > 0 && i < sizeof(waited) / sizeof(*waited); i++)
		if (!waited[i].pid) {
			waited[i].pid = pid;
			waited[i].done = 0;
			return;
		}
}

/* Wait for @pid (tracked), reaping any other child meanwhile. Its wait status, or -1. */
static int wait_for(pid_t pid)
{
	for (;;) {
		int st;
		pid_t got;

		for (size_t i = 0; i < sizeof(waited) / sizeof(*waited); i++)
			if (waited[i].pid == pid && waited[i].done) {
				waited[i].pid = 0;
				return waited[i].status;
			}
		got = waitpid(-1, &st, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (size_t i = 0; i < sizeof(waited) / sizeof(*waited); i++)
			if (waited[i].pid == got) {
				waited[i].status = st;
				waited[i].done = 1;
			}
	}
}

/* Whether tracked child @pid exited 0 (waiting for it). */
static int finished_ok(pid_t pid)
{
	int st = pid > 0 ? wait_for(pid) : -1;

	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * The modules of /etc/teelab/modules, one per line in load order (a
 * module after what it needs), as teelab writes them from each module's
 * .modinfo: "<name> [needs=a,b] [alias=<pattern>]... [dep]". Like udev's
 * coldplug, a module with aliases is loaded only when a device's modalias
 * (MODALIAS= in /sys/bus/x/devices/y/uevent) matches one of them (fnmatch, as
 * modprobe does): no SCMI driver without an SCMI node in the DT, no
 * virtio_blk without a disk. One without aliases is loaded unless it is
 * only a "dep"; whatever a loaded module needs is loaded before it. Loading
 * a module can add devices (a bus driver): the devices are read again
 * while a module is left, until nothing more matches.
 */
#define MAX_MODULES 64

struct module {
	char name[64];
	char needs[256];		/* "a,b" */
	char **alias;
	int nr_alias;
	int dep;			/* only another module's dependency */
	int want, done;
};

static struct module mods[MAX_MODULES];
static int nr_mods;

static struct module *find_module(const char *name)
{
	for (int i = 0; i < nr_mods; i++)
		if (!strcmp(mods[i].name, name))
			return &mods[i];
	return NULL;
}

static void read_modules(void)
{
	FILE *f = fopen(MODULES_LIST, "re");
	char *line = NULL;
	size_t cap = 0;

	/* getline: a driver of many devices has hundreds of aliases */
	while (f && nr_mods < MAX_MODULES && getline(&line, &cap, f) > 0) {
		struct module *m = &mods[nr_mods];
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save);

		if (!tok)
			continue;
		snprintf(m->name, sizeof(m->name), "%s", tok);
		while ((tok = strtok_r(NULL, " \t\n", &save))) {
			if (!strncmp(tok, "needs=", 6)) {
				snprintf(m->needs, sizeof(m->needs), "%s", tok + 6);
			} else if (!strncmp(tok, "alias=", 6)) {
				char **a = realloc(m->alias, (m->nr_alias + 1) * sizeof(*a));

				if (a) {
					m->alias = a;
					m->alias[m->nr_alias++] = strdup(tok + 6);
				}
			} else if (!strcmp(tok, "dep")) {
				m->dep = 1;
			}
		}
		nr_mods++;
	}
	free(line);
	if (f)
		fclose(f);
}

/*
 * The modaliases of the devices seen so far (MODALIAS= of
 * /sys/bus/x/devices/y/uevent, as udev reads it: not every bus has a
 * modalias file, 6.12's tee bus has none), and which devices those were.
 */
#define MAX_DEVICES 256
static char *modaliases[MAX_DEVICES];
static int nr_modaliases;
static char *seen[MAX_DEVICES];
static int nr_seen;

static int was_seen(const char *dev)
{
	for (int i = 0; i < nr_seen; i++)
		if (!strcmp(seen[i], dev))
			return 1;
	return 0;
}

/* Read the modaliases of the devices not seen before; how many new devices there were. */
static int scan_devices(void)
{
	DIR *buses = opendir("/sys/bus");
	struct dirent *b;
	int added = 0;

	while (buses && (b = readdir(buses))) {
		char path[1024];
		DIR *devs;
		struct dirent *d;

		if (b->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/%.200s/devices", b->d_name);
		devs = opendir(path);
		while (devs && nr_seen < MAX_DEVICES && (d = readdir(devs))) {
			char uevent[2048], dev[512];
			int fd;
			ssize_t n;

			if (d->d_name[0] == '.')
				continue;
			snprintf(dev, sizeof(dev), "%.200s/%.200s", b->d_name, d->d_name);
			if (was_seen(dev))
				continue;
			seen[nr_seen++] = strdup(dev);
			added++;
			snprintf(path, sizeof(path), "/sys/bus/%.200s/devices/%.200s/uevent",
				 b->d_name, d->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, uevent, sizeof(uevent) - 1);
			close(fd);
			if (n <= 0)
				continue;
			uevent[n] = '\0';
			for (char *save = NULL, *l = strtok_r(uevent, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save))
				if (!strncmp(l, "MODALIAS=", 9) && l[9] && nr_modaliases < MAX_DEVICES)
					modaliases[nr_modaliases++] = strdup(l + 9);
		}
		if (devs)
			closedir(devs);
	}
	if (buses)
		closedir(buses);
	return added;
}

/* Whether a device's modalias matches one of @m's aliases (fnmatch, as modprobe). */
static int has_device(const struct module *m)
{
	for (int d = 0; d < nr_modaliases; d++)
		for (int i = 0; i < m->nr_alias; i++)
			if (modaliases[d] && !fnmatch(m->alias[i], modaliases[d], 0))
				return 1;
	return 0;
}

/* Mark @m and (first) what it needs as wanted. */
static void want(struct module *m, int depth)
{
	char needs[256], *save = NULL;

	if (m->want || depth > 16)
		return;
	m->want = 1;
	snprintf(needs, sizeof(needs), "%s", m->needs);
	for (char *n = strtok_r(needs, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		struct module *d = find_module(n);

		if (d)
			want(d, depth + 1);
	}
}

static void load_modules(void)
{
	char skipped[1024] = "";
	int loaded = 1, left;

	read_modules();
	/* a module loaded in one round may bring the devices of the next */
	for (int round = 0; loaded && round < 4; round++) {
		/* no new device since the last round: nothing new to match */
		if (!scan_devices())
			break;
		loaded = 0;
		for (int i = 0; i < nr_mods; i++)
			if (!mods[i].want && (mods[i].nr_alias ? has_device(&mods[i]) : !mods[i].dep))
				want(&mods[i], 0);
		for (int i = 0; i < nr_mods; i++) {
			struct module *m = &mods[i];
			char path[512];
			int fd;

			if (!m->want || m->done)
				continue;
			m->done = 1;
			loaded++;
			snprintf(path, sizeof(path), "%s/%.63s.ko", MODULES_DIR, m->name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			/* finit_module(2): no glibc wrapper */
			if (fd >= 0 && !syscall(SYS_finit_module, fd, "", 0))
				say("teelab-init: loaded %s", m->name);
			else
				say("teelab-init: FAILED to load module %s (%s)", m->name,
				    strerror(errno));
			if (fd >= 0)
				close(fd);
		}
		/* read the devices again only while a module is left */
		left = 0;
		for (int i = 0; i < nr_mods; i++)
			left += !mods[i].done;
		if (!left)
			break;
	}
	for (int i = 0; i < nr_mods; i++)
		if (!mods[i].done && strlen(skipped) + strlen(mods[i].name) + 2 < sizeof(skipped)) {
			strcat(skipped, " ");
			strcat(skipped, mods[i].name);
		}
	if (skipped[0])
		say("teelab-init: not loaded (no device needs them):%s", skipped);
}

/* The first /dev/mmcblk*rpmb into @out, or 0 if none yet. */
static int find_rpmb(char *out, size_t len)
{
	DIR *d = opendir("/dev");
	struct dirent *de;
	int found = 0;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (!strncmp(de->d_name, "mmcblk", 6) && n > 10 &&
		    !strcmp(de->d_name + n - 4, "rpmb")) {
			snprintf(out, len, "/dev/%s", de->d_name);
			found = 1;
			break;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void program_rpmb_key(void)
{
	char dev[300];
	int found = 0;

	if (access(RPMB_KEY, R_OK))
		return;
	/* the MMC core enumerates the card asynchronously: wait up to 5 s */
	for (int i = 0; i < 50 && !(found = find_rpmb(dev, sizeof(dev))); i++)
		usleep(100 * 1000);
	if (!found) {
		say("teelab-init: FAILED to program the RPMB key: no /dev/mmcblk*rpmb");
		return;
	}
	char *argv[] = { "mmc", "rpmb", "write-key", dev, RPMB_KEY, NULL };

	if (finished_ok(spawn(argv, NULL)))
		say("teelab-init: RPMB key programmed on %s", dev);
	else
		say("teelab-init: FAILED to program the RPMB key on %s", dev);
}

static void set_addr(int s, unsigned long req, const char *ifname, const char *addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(s, req, &ifr))
		say("teelab-init: %s: address %s: %s", ifname, addr, strerror(errno));
}

/* Bring @ifname up (SIOCSIFFLAGS). 0, or -1 (said unless @quiet). */
static int link_up(int s, const char *ifname, int quiet)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
			return 0;
	}
	if (!quiet)
		say("teelab-init: %s up: %s", ifname, strerror(errno));
	return -1;
}

/* eth0 as QEMU's user networking expects it: 10.0.2.15/24 via 10.0.2.2 */
static void network_eth0(int s)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;

	if (link_up(s, "eth0", 0))
		return;
	set_addr(s, SIOCSIFADDR, "eth0", "10.0.2.15");
	set_addr(s, SIOCSIFNETMASK, "eth0", "255.255.255.0");
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	gw->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.2.2", &gw->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = "eth0";
	if (ioctl(s, SIOCADDRT, &rt))
		say("teelab-init: default route via 10.0.2.2: %s", strerror(errno));
}

/* tee-supplicant, if the kernel has an OP-TEE (/dev/teepriv0): its pid, or -1 */
static pid_t start_supplicant(void)
{
	if (access("/dev/teepriv0", F_OK))
		return -1;
	mkdir("/var/lib/optee-client", 0755);
	mkdir("/var/lib/optee-client/data", 0755);
	mkdir("/var/lib/optee-client/data/tee", 0755);
	/* -d: its first process exits once the device is open */
	return spawn((char *[]){ "tee-supplicant", "-d", NULL }, NULL);
}

/* eth0 (through socket @s) and dropbear, if QEMU gave a NIC: dropbear's pid, or -1 */
static pid_t start_network(int s)
{
	/*
	 * with a NIC or not: teelab writes the run's key there over the
	 * serial shell either way (a kernel without IP, e.g. the
	 * memory-debugging ones, has no eth0)
	 */
	mkdir("/root", 0700);
	chmod("/root", 0700);
	mkdir("/root/.ssh", 0700);
	if (s < 0 || !if_nametoindex("eth0"))
		return -1;
	network_eth0(s);
	mkdir("/etc/dropbear", 0755);
	/* without -F its first process exits once it listens */
	return spawn((char *[]){ "dropbear", "-R", "-E", "-p", "22", NULL }, "/tmp/dropbear.log");
}

int main(void)
{
	pid_t applets, supplicant, dropbear;
	struct stat st;
	int net_sock;

	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "dumb", 1);
	umask(022);
	mount_one("proc", "/proc");
	mount_one("sysfs", "/sys");
	mount_one("devtmpfs", "/dev");
	mount_one("tmpfs", "/tmp");
	mount_one("tmpfs", "/run");
	mkdir("/dev/pts", 0755);
	mkdir("/dev/shm", 0755);
	mount_one("devpts", "/dev/pts");
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	net_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (net_sock >= 0)
		link_up(net_sock, "lo", 1);

	if (!stat("/proc/vmcore", &st))
		/* a capture kernel (kdump): the crashed kernel's memory is /proc/vmcore */
		say("teelab-init: kdump capture kernel, /proc/vmcore %lld bytes", (long long)st.st_size);

	load_modules();
	/* before tee-supplicant starts */
	program_rpmb_key();
	/*
	 * side by side; waited for below. The applet links (/usr/bin/sh,
	 * cat, ...) come only now: made during the module loads, they slowed
	 * them more than they took
	 */
	applets = spawn((char *[]){ "/usr/bin/busybox", "--install", "-s", NULL }, NULL);
	supplicant = start_supplicant();
	dropbear = start_network(net_sock);

	if (!finished_ok(applets))
		say("teelab-init: busybox --install -s failed");
	if (access("/dev/teepriv0", F_OK))
		say("teelab-init: no /dev/teepriv0, tee-supplicant not started");
	else if (finished_ok(supplicant))
		say("teelab-init: tee-supplicant started");
	if (dropbear >= 0 && finished_ok(dropbear))
		say("teelab-init: dropbear started");
	if (net_sock >= 0)
		close(net_sock);

	say("@@TL:READY@@");
	/* A shell on the console with a controlling tty, so Ctrl-C reaches commands. */
	for (;;) {
		pid_t sh = spawn((char *[]){ "setsid", "cttyhack", "sh", NULL }, NULL);
		int st = sh > 0 ? wait_for(sh) : -1;

		/* not in a tight loop when sh can't start */
		if (st == -1 || (WIFEXITED(st) && WEXITSTATUS(st) == 127))
			sleep(1);
	}
}
