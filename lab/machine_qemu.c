// SPDX-License-Identifier: MIT
/*
 * machine_qemu.c - the direct qemu-system-aarch64 backend.
 *
 * Consoles and QMP are socketpairs handed to QEMU as `-chardev
 * socket,fd=N`: nothing to connect, no socket paths, no output lost
 * before teelab is listening. QEMU runs in its own process group with
 * PR_SET_PDEATHSIG (runproc.c), so it cannot outlive teelab.
 */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "runproc.h"

struct qemu_priv {
	struct child child;
	int peer_fd[CON_COUNT];	/* QEMU's ends of the console socketpair and pipe */
	/*
	 * The normal console as two FIFOs (fifo_dir/nw.in, nw.out: QEMU's
	 * pipe chardev), and teelab's own writer of nw.out, held until QEMU
	 * is gone so that its end reads as EOF even if QEMU never opened it
	 */
	char *fifo_dir;
	int nw_hold;
	int qmp_fd, qmp_peer;
	bool qmp_ready;
	bool exited;
	int status;
	struct strbuf qmp_buf;
};

void machine_init(struct machine *m, const struct machine_ops *ops,
		  const struct machine_spec *spec)
{
	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->spec = *spec;
	m->console_fd[CON_NORMAL] = m->console_fd[CON_SECURE] = -1;
	m->console_in_fd = -1;
	snprintf(m->ssh_host, sizeof(m->ssh_host), "127.0.0.1");
}

const struct machine_ops *machine_backend(const char *name)
{
	if (!name || !strcmp(name, "qemu"))
		return &machine_qemu_ops;
	if (!strcmp(name, "libvirt"))
		return &machine_libvirt_ops;
	if (!strcmp(name, "replay"))
		return &machine_replay_ops;
	return NULL;
}

void machine_release(struct machine *m)
{
	if (m->ops && m->priv)
		m->ops->stop(m, 2.0);
	for (int i = 0; i < CON_COUNT; i++)
		if (m->console_fd[i] >= 0)
			close(m->console_fd[i]);
	m->console_fd[CON_NORMAL] = m->console_fd[CON_SECURE] = -1;
	if (m->console_in_fd >= 0)
		close(m->console_in_fd);
	m->console_in_fd = -1;
	if (m->ops && m->priv)
		m->ops->release(m);
	m->priv = NULL;
}

/* Remove the normal console's FIFOs and their directory, if any. */
static void remove_fifos(struct qemu_priv *p)
{
	if (!p->fifo_dir)
		return;
	for (int i = 0; i < 2; i++) {
		char *f = xasprintf("%s/nw.%s", p->fifo_dir, i ? "out" : "in");

		unlink(f);
		free(f);
	}
	rmdir(p->fifo_dir);
	free(p->fifo_dir);
	p->fifo_dir = NULL;
}

/*
 * The normal console as a FIFO pair in <run dir>/.nw-console/ for QEMU's
 * pipe chardev (it opens nw.in and nw.out): *@rd reads what the guest
 * prints, *@wr types into it, p->nw_hold is teelab's writer of nw.out.
 * Its UART writes a byte at a time, and through a socket every byte is a
 * buffer of its own that the reader frees; a pipe packs them into pages
 * (make bench: teelab's CPU). 0, or -1 (nothing said: the caller uses a
 * socketpair, e.g. on a file system without FIFOs).
 */
static int make_fifos(struct qemu_priv *p, const char *run_dir, int *rd, int *wr)
{
	char *in = NULL, *out = NULL;
	int ret = -1;

	*rd = *wr = -1;
	p->fifo_dir = path_join(run_dir, ".nw-console");
	if (mkdir(p->fifo_dir, 0700) && errno != EEXIST)
		goto out;
	in = xasprintf("%s/nw.in", p->fifo_dir);
	out = xasprintf("%s/nw.out", p->fifo_dir);
	if ((mkfifo(in, 0600) && errno != EEXIST) || (mkfifo(out, 0600) && errno != EEXIST))
		goto out;
	/* the reader first: a FIFO's writer cannot open without one */
	*rd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	p->nw_hold = *rd >= 0 ? open(out, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	/* read-write: never blocks, whether QEMU has opened it yet or not */
	*wr = open(in, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*rd >= 0 && p->nw_hold >= 0 && *wr >= 0)
		ret = 0;
out:
	if (ret) {
		if (*rd >= 0)
			close(*rd);
		if (*wr >= 0)
			close(*wr);
		if (p->nw_hold >= 0)
			close(p->nw_hold);
		*rd = *wr = p->nw_hold = -1;
		remove_fifos(p);
	}
	free(in);
	free(out);
	return ret;
}

/* @s for a QEMU option value (a comma doubled), malloc'd. */
static char *opt_escape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == ',')
			strbuf_addch(&sb, ',');
		strbuf_addch(&sb, *s);
	}
	return strbuf_detach(&sb);
}

static void qemu_release(struct machine *m)
{
	struct qemu_priv *p = m->priv;

	child_release(&p->child);
	if (p->qmp_fd >= 0)
		close(p->qmp_fd);
	if (p->nw_hold >= 0)
		close(p->nw_hold);
	remove_fifos(p);
	strbuf_release(&p->qmp_buf);
	free(p);
}

/* -machine, -accel, -cpu, -smp, -m: identical for boots and for dumping the DTB */
static void machine_args(const struct machine_cfg *c, const char *dumpdtb,
			 struct strvec *argv)
{
	strvec_push(argv, "-machine");
	strvec_pushf(argv, "virt,secure=on,virtualization=off,gic-version=%d%s%s",
		     c->gic_version, dumpdtb ? ",dumpdtb=" : "", dumpdtb ? dumpdtb : "");
	strvec_push(argv, "-accel");
	strvec_pushf(argv, "tcg,thread=%s", machine_tcg_thread(c));
	strvec_pushl(argv, "-cpu", c->cpu, NULL);
	strvec_push(argv, "-smp");
	strvec_pushf(argv, "%d", c->smp);
	strvec_push(argv, "-m");
	strvec_pushf(argv, "%d", c->memory_mb);
}

void machine_dtb_argv(const struct machine_cfg *cfg, const char *bios,
		      const char *dtb_out, struct strvec *argv)
{
	/*
	 * As at boot: two UARTs (the second is the secure world's, with
	 * secure-status) and the firmware (with -bios QEMU leaves out the
	 * PSCI enable-method and the non-secure GPIO the firmware owns).
	 */
	strvec_pushl(argv, cfg->qemu, "-nographic", "-nic", "none", "-monitor", "none",
		     "-serial", "null", "-serial", "null", "-bios", bios, NULL);
	machine_args(cfg, dtb_out, argv);
}

char *loader_value(const char *path, uint64_t addr)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "loader,file=");
	for (const char *p = path; *p; p++) {
		if (*p == ',')
			strbuf_addch(&sb, ',');
		strbuf_addch(&sb, *p);
	}
	strbuf_addf(&sb, ",addr=0x%llx,force-raw=on", (unsigned long long)addr);
	return strbuf_detach(&sb);
}

static void push_loader(struct strvec *argv, const char *path, uint64_t addr)
{
	char *v = loader_value(path, addr);

	strvec_pushl(argv, "-device", v, NULL);
	free(v);
}

/* The argv, with QEMU's console/QMP chardev specs @nw, @sw and @qmp. */
static void build_argv(const struct machine_spec *s, struct strvec *argv,
		       const char *nw, const char *sw, const char *qmp)
{
	const struct machine_cfg *c = s->cfg;

	strvec_push(argv, c->qemu);
	/*
	 * No -no-reboot: `reboot` steps need the reset to go through TF-A again.
	 * A kernel panic does not reboot either (no panic= on the command line);
	 * the engine ends the run on its console line.
	 */
	strvec_pushl(argv, "-nographic", NULL);
	machine_args(c, NULL, argv);
	strvec_pushl(argv, "-bios", s->bios, NULL);
	if (c->boot == BOOT_DIRECT) {
		/*
		 * BL31 enters the kernel: QEMU's generic loader puts the Image
		 * and the initramfs in RAM as they are (force-raw: no ELF/uImage
		 * probing), again at every reset; the command line and the
		 * initramfs' range are in the run's device tree.
		 */
		push_loader(argv, s->kernel, DIRECT_KERNEL_BASE);
		if (s->initrd)
			push_loader(argv, s->initrd, s->initrd_addr);
	} else {
		strvec_pushl(argv, "-kernel", s->kernel, NULL);
		if (s->initrd)
			strvec_pushl(argv, "-initrd", s->initrd, NULL);
		strvec_pushl(argv, "-append", s->append, NULL);
	}
	if (s->dtb)
		strvec_pushl(argv, "-dtb", s->dtb, NULL);
	if (s->ssh_port) {
		/* user networking; the SSH forward listens on the loopback only */
		strvec_pushl(argv, "-netdev", NULL);
		strvec_pushf(argv, "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22", s->ssh_port);
		strvec_pushl(argv, "-device", "virtio-net-pci,netdev=net0,romfile=", NULL);
	} else {
		strvec_pushl(argv, "-nic", "none", NULL);
	}
	/* entropy for the guest: crng is ready at once (dropbear waits for it) */
	strvec_pushl(argv, "-device", "virtio-rng-pci,romfile=", "-monitor", "none", NULL);
	/* the lab's own kernel and initrd, for kexec steps (tl-kexec reads /dev/vda) */
	if (s->kexec_disk) {
		strvec_push(argv, "-drive");
		strvec_pushf(argv, "file=%s,if=none,format=raw,readonly=on,id=kexec", s->kexec_disk);
		strvec_pushl(argv, "-device", "virtio-blk-pci,drive=kexec,romfile=", NULL);
	}
	/* UART0: normal world (TF-A, U-Boot, Linux); UART1: OP-TEE */
	strvec_pushl(argv, "-chardev", nw, "-serial", "chardev:nw", NULL);
	strvec_pushl(argv, "-chardev", sw, "-serial", "chardev:sw", NULL);
	if (qmp)
		strvec_pushl(argv, "-chardev", qmp, "-mon", "chardev=qmp,mode=control", NULL);
	for (size_t i = 0; i < c->extra_args.nr; i++)
		strvec_push(argv, c->extra_args.v[i]);
	if (s->gdb_port > 0) {
		/* the gdbstub, on the loopback only; -S: no vCPU runs before gdb continues */
		strvec_push(argv, "-gdb");
		strvec_pushf(argv, "tcp:127.0.0.1:%d", s->gdb_port);
		if (s->gdb_wait)
			strvec_push(argv, "-S");
	}
	if (qmp && s->ram_fd > 0) {
		/* the guest RAM as a file (snapshot.h), by the descriptor QEMU inherits */
		strvec_push(argv, "-object");
		strvec_pushf(argv, "memory-backend-file,id=teelab-ram,size=%dM,share=%s,"
			     "mem-path=/proc/self/fd/%d", c->memory_mb, s->ram_shared ? "on" : "off",
			     s->ram_fd);
		strvec_pushl(argv, "-machine", "memory-backend=teelab-ram", NULL);
	}
	if (qmp && s->incoming_fd > 0) {
		/* a warm start: the machine's state from a file, once QMP says so */
		strvec_pushl(argv, "-incoming", "defer", NULL);
	}
}

static void push_malloc_tunable(struct strvec *env);

static int write_cmdlines(const struct machine_spec *s, const struct strvec *argv)
{
	struct strvec cd = STRVEC_INIT, rerun = STRVEC_INIT;
	char *path = NULL, *line = NULL, *script = NULL, *cwd = NULL, *dir = NULL, *cdline;
	int ret;

	line = strvec_join_shell(argv);
	path = path_join(s->run_dir, "qemu.cmdline");
	ret = write_file_str(path, line);
	if (ret)
		goto out;
	/*
	 * The same machine by hand: normal world on stdio, OP-TEE into a file
	 * in the run dir, QEMU's environment as teelab gives it. It runs in
	 * teelab's directory, where the argv's relative paths (a relative
	 * --runs-dir: boot.dtb) were meant.
	 */
	cwd = getcwd(NULL, 0);
	dir = realpath(s->run_dir, NULL);
	if (!cwd || !dir) {
		ret = error_errno("cannot resolve the run directory '%s'", s->run_dir);
		goto out;
	}
	strvec_pushl(&cd, "cd", cwd, NULL);
	strvec_push(&rerun, "env");
	push_malloc_tunable(&rerun);
	{
		char *sw = xasprintf("file,id=sw,path=%s/sw-console.rerun.log", dir);

		build_argv(s, &rerun, "stdio,id=nw,mux=on,signal=off", sw, NULL);
		free(sw);
	}
	free(line);
	line = strvec_join_shell(&rerun);
	cdline = strvec_join_shell(&cd);
	script = xasprintf("#!/bin/sh\n"
			   "# Reruns this lab's machine by hand: the normal world on this\n"
			   "# terminal (Ctrl-A x quits), OP-TEE's console into sw-console.rerun.log.\n"
			   "%s || exit 1\n"
			   "exec %s\n", cdline, line);
	free(cdline);
	free(path);
	path = path_join(s->run_dir, "qemu-rerun.sh");
	ret = write_file(path, script, strlen(script), 0755);
out:
	strvec_release(&cd);
	strvec_release(&rerun);
	free(path);
	free(line);
	free(script);
	free(cwd);
	free(dir);
	return ret;
}

/*
 * QEMU's heap on transparent huge pages: glibc's malloc tunable
 * glibc.malloc.hugetlb=1 (glibc 2.35) madvises its mmap'd chunks
 * MADV_HUGEPAGE, which a host whose THP mode is "madvise" (Debian's default)
 * needs. The largest are the generic loader's copies of the kernel Image and
 * the initramfs (50 MB here), written page by page before QMP answers: with
 * 4 KiB pages that was 0.2-0.3 s of every QEMU start on a VM whose every
 * first touch of a page costs a fault in the hypervisor too. The guest's RAM
 * is QEMU's own mapping (madvised already) or a file, so it is not concerned.
 * Any GLIBC_TUNABLES of the user's comes first.
 */
static void push_malloc_tunable(struct strvec *env)
{
	const char *user = getenv("GLIBC_TUNABLES");

	if (user && strstr(user, "glibc.malloc.hugetlb"))
		return;	/* the user's choice */
	strvec_pushf(env, "GLIBC_TUNABLES=%s%sglibc.malloc.hugetlb=1", user ? user : "",
		     user && *user ? ":" : "");
}

static int qemu_start(struct machine *m)
{
	struct qemu_priv *p = xcalloc(1, sizeof(*p));
	int pairs[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int keep[6], nkeep;
	char sw[64], qmp[64], *nw = NULL;
	char *log = NULL;
	int ret = 0;

	m->priv = p;
	p->qmp_fd = p->qmp_peer = p->nw_hold = -1;
	p->child = (struct child)CHILD_INIT;
	/*
	 * The consoles' UARTs write a byte at a time; through a socket every
	 * byte is a buffer of its own that the reader frees. So the secure
	 * console, output only, is a pipe (QEMU's file chardev opens it as
	 * /proc/self/fd/N), the normal one a FIFO pair (make_fifos(), else a
	 * socketpair), QMP a socketpair.
	 */
	if (!make_fifos(p, m->spec.run_dir, &pairs[CON_NORMAL][0], &m->console_in_fd)) {
		char *esc = opt_escape(p->fifo_dir);

		nw = xasprintf("pipe,id=nw,path=%s/nw", esc);
		free(esc);
	} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[CON_NORMAL])) {
		ret = error_errno("socketpair");
		goto out;
	}
	if (pipe2(pairs[CON_SECURE], O_CLOEXEC)) {
		ret = error_errno("pipe");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[2])) {
		ret = error_errno("socketpair");
		goto out;
	}
	for (int i = 0; i < CON_COUNT; i++) {
		m->console_fd[i] = pairs[i][0];
		p->peer_fd[i] = pairs[i][1];
		fcntl(m->console_fd[i], F_SETFL, O_NONBLOCK);
	}
	p->qmp_fd = pairs[2][0];
	p->qmp_peer = pairs[2][1];
	if (!nw)
		nw = xasprintf("socket,id=nw,fd=%d", p->peer_fd[CON_NORMAL]);
	snprintf(sw, sizeof(sw), "file,id=sw,path=/proc/self/fd/%d", p->peer_fd[CON_SECURE]);
	snprintf(qmp, sizeof(qmp), "socket,id=qmp,fd=%d", p->qmp_peer);
	build_argv(&m->spec, &p->child.argv, nw, sw, qmp);
	ret = write_cmdlines(&m->spec, &p->child.argv);
	if (ret)
		goto out;
	nkeep = 0;
	if (p->peer_fd[CON_NORMAL] >= 0)
		keep[nkeep++] = p->peer_fd[CON_NORMAL];
	keep[nkeep++] = p->peer_fd[CON_SECURE];
	keep[nkeep++] = p->qmp_peer;
	if (m->spec.incoming_fd > 0)
		keep[nkeep++] = m->spec.incoming_fd;
	if (m->spec.ram_fd > 0)
		keep[nkeep++] = m->spec.ram_fd;
	keep[nkeep] = -1;	/* the list's end */
	p->child.keep_fds = keep;
	push_malloc_tunable(&p->child.env);
	log = path_join(m->spec.run_dir, "qemu.log");
	p->child.log_path = log;
	m->started = now_mono();
	ret = child_start(&p->child);
	p->child.log_path = NULL;
	p->child.keep_fds = NULL;
out:
	/* QEMU holds its ends now (or failed): ours would keep EOF from coming */
	for (int i = 0; i < CON_COUNT; i++)
		if (pairs[i][1] >= 0)
			close(pairs[i][1]);
	if (pairs[2][1] >= 0)
		close(pairs[2][1]);
	p->peer_fd[CON_NORMAL] = p->peer_fd[CON_SECURE] = p->qmp_peer = -1;
	free(log);
	free(nw);
	return ret;
}

static bool qemu_exited(struct machine *m, int *status)
{
	struct qemu_priv *p = m->priv;
	int st = 0;

	if (!p)
		return true;
	if (!p->exited && p->child.pid > 0) {
		struct rusage ru;
		pid_t r = wait4(p->child.pid, &st, WNOHANG, &ru);

		if (r == p->child.pid) {
			m->cpu_seconds = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
					 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
			p->exited = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			/* QEMU's writer of nw.out is gone: now ours, and the reader sees EOF */
			if (p->nw_hold >= 0)
				close(p->nw_hold);
			p->nw_hold = -1;
			remove_fifos(p);
			kill(-p->child.pid, SIGKILL);
			p->child.pid = 0;
		}
	}
	if (status)
		*status = p->status;
	return p->exited;
}

bool qmp_is_reply(const char *line)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	bool reply = json_is_object(o) && !json_object_get(o, "event") &&
		     (json_object_get(o, "return") || json_object_get(o, "error") ||
		      json_object_get(o, "QMP"));

	json_decref(o);
	return reply;
}

/* Read QMP until a reply or the greeting (or @timeout); skip events. */
static int qmp_read_reply(struct qemu_priv *p, char **reply, double timeout)
{
	double deadline = now_mono() + timeout;

	for (;;) {
		char *nl;
		char buf[4096];
		struct pollfd pfd = { p->qmp_fd, POLLIN, 0 };
		double left = deadline - now_mono();
		ssize_t n;

		while ((nl = memchr(strbuf_str(&p->qmp_buf), '\n', p->qmp_buf.len))) {
			size_t len = (size_t)(nl - p->qmp_buf.buf) + 1;
			char *line = xstrndup(p->qmp_buf.buf, len - 1);
			bool is_reply = qmp_is_reply(line);

			memmove(p->qmp_buf.buf, p->qmp_buf.buf + len, p->qmp_buf.len - len);
			p->qmp_buf.len -= len;
			p->qmp_buf.buf[p->qmp_buf.len] = '\0';
			if (is_reply) {
				if (reply)
					*reply = line;
				else
					free(line);
				return 0;
			}
			free(line);
		}
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(p->qmp_fd, buf, sizeof(buf));
		if (n <= 0)
			return -EPIPE;
		strbuf_add(&p->qmp_buf, buf, (size_t)n);
	}
}

static int qmp_send(struct qemu_priv *p, const char *json)
{
	size_t len = strlen(json);

	if (write(p->qmp_fd, json, len) != (ssize_t)len || write(p->qmp_fd, "\n", 1) != 1)
		return -EPIPE;
	return 0;
}

/* @json with descriptor @fd attached (SCM_RIGHTS), for QMP's getfd. */
static int qmp_send_fd(struct qemu_priv *p, const char *json, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)json, strlen(json) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(p->qmp_fd, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len ||
	    write(p->qmp_fd, "\n", 1) != 1)
		return -EPIPE;
	return 0;
}

static int qemu_qmp_fd(struct machine *m, const char *json, int fd, char **reply, double timeout)
{
	struct qemu_priv *p = m->priv;
	int ret;

	if (!p || p->qmp_fd < 0 || qemu_exited(m, NULL))
		return -EPIPE;
	if (!p->qmp_ready) {
		/* greeting, then capabilities negotiation */
		ret = qmp_read_reply(p, NULL, timeout);
		if (!ret)
			ret = qmp_send(p, "{\"execute\":\"qmp_capabilities\"}");
		if (!ret)
			ret = qmp_read_reply(p, NULL, timeout);
		if (ret)
			return ret;
		p->qmp_ready = true;
	}
	ret = fd >= 0 ? qmp_send_fd(p, json, fd) : qmp_send(p, json);
	if (!ret)
		ret = qmp_read_reply(p, reply, timeout);
	return ret;
}

static int qemu_qmp(struct machine *m, const char *json, char **reply, double timeout)
{
	return qemu_qmp_fd(m, json, -1, reply, timeout);
}

/* utime + stime of process @pid in seconds (/proc/PID/stat fields 14 and 15, proc(5)), or 0. */
static double proc_cpu_seconds(pid_t pid)
{
	char path[64], *text = NULL, *p;
	size_t len = 0;
	unsigned long long ut = 0, st = 0;
	double v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, &text, &len))
		return 0;
	/* after "(comm)", which may hold spaces: field 3 onwards */
	p = strrchr(text, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
		v = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	free(text);
	return v;
}

static int qemu_stop(struct machine *m, double grace)
{
	struct qemu_priv *p = m->priv;
	double deadline = now_mono() + grace;

	if (!p || qemu_exited(m, NULL))
		return 0;
	m->cpu_seconds = proc_cpu_seconds(p->child.pid);	/* before it goes */
	/* 1. ask QEMU to quit (it flushes its chardevs) */
	qemu_qmp(m, "{\"execute\":\"quit\"}", NULL, grace / 2);
	while (now_mono() < deadline) {
		if (qemu_exited(m, NULL))
			return 0;
		usleep(10000);
	}
	/* 2. and 3.: SIGTERM, then SIGKILL, to the whole process group */
	child_stop(&p->child, 1.0);
	p->exited = true;
	return 0;
}

const struct machine_ops machine_qemu_ops = {
	.name = "qemu",
	.start = qemu_start,
	.stop = qemu_stop,
	.exited = qemu_exited,
	.qmp = qemu_qmp,
	.qmp_fd = qemu_qmp_fd,
	.release = qemu_release,
	.exit_latency = 1.0,
};
