/* SPDX-License-Identifier: MIT */
/*
 * machine.h - the machine layer: define, start, stop, consoles and QMP of
 * one emulated aarch64 `virt` board with TrustZone (secure=on).
 *
 * A backend implements struct machine_ops. The default backend runs
 * qemu-system-aarch64 directly (machine_qemu.c); the libvirt backend
 * (machine_libvirt.c) has libvirt run it, in process or through a local
 * or remote daemon. Whatever the backend, the run engine
 * sees two console fds (UART0 = normal world: TF-A, U-Boot, Linux;
 * UART1 = secure world: OP-TEE) and a QMP connection.
 */
#ifndef TEELAB_MACHINE_H
#define TEELAB_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "scenario.h"

/*
 * Direct boot (machine_cfg.boot == BOOT_DIRECT): where QEMU preloads the
 * kernel Image, the address TF-A is built with (PRELOADED_BL33_BASE). Above
 * the device tree (0x40000000, at most 1 MiB: TF-A's PLAT_QEMU_DT_BASE/
 * _MAX_SIZE, plat/qemu/qemu/include/platform_def.h) and OP-TEE's static shm
 * (CFG_SHMEM_START 0x42000000, 2 MiB: optee_os plat-vexpress/conf.mk);
 * 2 MiB aligned as the arm64 boot protocol wants (Linux
 * Documentation/arch/arm64/booting.rst). build.git uses the same address.
 */
#define DIRECT_KERNEL_BASE 0x42200000ULL
/* The lowest address of the initramfs in a direct boot (2 MiB aligned). */
#define DIRECT_INITRD_MIN 0x48000000ULL
/* Guest RAM starts here on QEMU's virt board (hw/arm/virt.c, VIRT_MEM). */
#define VIRT_RAM_BASE 0x40000000ULL

/* What to boot. Paths are borrowed from the caller for the machine's life. */
struct machine_spec {
	const struct machine_cfg *cfg;
	const char *bios;	/* BL1 + FIP image (qemu_fw.bios), -bios */
	/*
	 * arm64 Image. BOOT_UBOOT: -kernel (U-Boot takes it from fw_cfg);
	 * BOOT_DIRECT: loaded raw at DIRECT_KERNEL_BASE (QEMU's generic loader).
	 */
	const char *kernel;
	/* initramfs: -initrd, or BOOT_DIRECT: loaded raw at @initrd_addr */
	const char *initrd;
	uint64_t initrd_addr;	/* BOOT_DIRECT, from direct_boot_prepare() */
	/* kernel command line: -append (BOOT_DIRECT: in @dtb's /chosen, not passed) */
	const char *append;
	/* device tree to pass instead of QEMU's, or NULL (BOOT_DIRECT: the run's own) */
	const char *dtb;
	const char *run_dir;	/* qemu.cmdline, qemu-rerun.sh and qemu.log go here */
	int ssh_port;		/* user networking with 127.0.0.1:ssh_port -> guest :22, or 0 */
	const char *kexec_disk;	/* read-only virtio-blk disk for kexec steps, or NULL */
	const char *state_dir;	/* backend state (libvirt's embed roots), the cache dir */
	/*
	 * > 0: start from the machine state saved in this file (a warm start,
	 * snapshot.h; needs ram_fd): QEMU starts with `-incoming defer` and
	 * inherits the descriptor; the caller sets x-ignore-shared and sends
	 * `migrate-incoming fd:N` over QMP, and QEMU is paused once it is
	 * loaded. Borrowed.
	 */
	int incoming_fd;
	/*
	 * > 0: guest RAM is this open file's (QEMU's memory-backend-file on
	 * /proc/self/fd/N, so that it may already be unlinked) instead of
	 * anonymous memory; the direct qemu backend only. ram_shared: the
	 * guest writes the file (a run that makes a snapshot: the save copies
	 * it), else it is mapped private, copy-on-write (a warm start from a
	 * snapshot's RAM, never written). Borrowed.
	 */
	int ram_fd;
	bool ram_shared;
	/* > 0: QEMU's gdbstub on 127.0.0.1:gdb_port (-gdb); gdb_wait: start halted (-S) */
	int gdb_port;
	bool gdb_wait;
};

struct machine;

struct machine_ops {
	const char *name;
	/* Start the machine; console fds are valid afterwards. 0 or -errno. */
	int (*start)(struct machine *m);
	/*
	 * Stop: QMP "quit", then SIGTERM, then SIGKILL after @grace seconds.
	 * Safe to call twice and on a machine that already exited. 0 or -errno.
	 */
	int (*stop)(struct machine *m, double grace);
	/* Whether the emulator process has exited; *status as runproc. */
	bool (*exited)(struct machine *m, int *status);
	/*
	 * Send one QMP command (JSON text); reply (malloc'd) optional. 0, or
	 * -EPIPE (no monitor or it closed), -ETIMEDOUT, -EIO, -EOPNOTSUPP (none
	 * in this backend); not reported as errors (callers go on without).
	 */
	int (*qmp)(struct machine *m, const char *json, char **reply, double timeout);
	/*
	 * As qmp, with descriptor @fd passed along (SCM_RIGHTS), as QMP's
	 * getfd wants; NULL when the backend cannot (no warm snapshots then).
	 */
	int (*qmp_fd)(struct machine *m, const char *json, int fd, char **reply, double timeout);
	/* Free the backend state (m->priv) after stop; machine_release() closes the fds and clears m->priv. */
	void (*release)(struct machine *m);
	/*
	 * Seconds the backend may take to notice that its emulator exited
	 * (libvirt: an event, a moment after the consoles hung up); the
	 * engine waits that long before blaming a failed step on the machine.
	 */
	double exit_latency;
	/* The guest channel, when the backend has its own (replay); NULL: SSH (guest_ssh_ops). */
	const struct guest_ops *guest;
};

struct machine {
	const struct machine_ops *ops;
	struct machine_spec spec;
	int console_fd[CON_COUNT];	/* owned by the machine; read/write, non-blocking */
	/* where to write to the normal console when it is not console_fd (a FIFO pair), or -1 */
	int console_in_fd;
	double started;			/* now_mono() when the emulator was started */
	/* where the guest's SSH forward listens (spec.ssh_port): "127.0.0.1" or the libvirt host */
	char ssh_host[64];
	/* the libvirt URI the machine runs under ("" for the direct backend) */
	char uri[512];
	/* why start() failed, when the backend knows better than qemu.log */
	char why[1024];
	void *priv;			/* backend state */
	/* CPU seconds (user + system) the emulator used, known once it stopped (qemu backend), else 0 */
	double cpu_seconds;
};

/* The direct qemu-system-aarch64 backend. */
extern const struct machine_ops machine_qemu_ops;
/* The libvirt backend; URI from spec.cfg->connect (see config.h). */
extern const struct machine_ops machine_libvirt_ops;

/*
 * The replay backend: no emulator; the captured consoles and script of
 * spec.cfg->replay are played to the engine (machine_replay.c).
 */
extern const struct machine_ops machine_replay_ops;

/* The backend named @name ("qemu", "libvirt", "replay"), or NULL. */
const struct machine_ops *machine_backend(const char *name);

/*
 * The qemu-system-aarch64 argv that dumps QEMU's device tree for @cfg
 * booting firmware @bios into @dtb_out (-machine ...,dumpdtb=FILE with the
 * same -machine, -cpu, -smp, -m, UARTs and -bios as a boot), appended to
 * @argv.
 */
void machine_dtb_argv(const struct machine_cfg *cfg, const char *bios,
		      const char *dtb_out, struct strvec *argv);

/*
 * Prepare a direct boot of @kernel with @initrd for machine @cfg: check
 * that @kernel is an uncompressed arm64 Image (magic "ARM\x64" at 0x38;
 * its image_size at 0x10, little-endian; Linux
 * Documentation/arch/arm64/booting.rst), place the initramfs at the first
 * 2 MiB boundary at or above DIRECT_INITRD_MIN and above the kernel's
 * image_size, check both fit in the guest's RAM, and write @dtb_in with
 * /chosen (bootargs = @bootargs, the initramfs' range) to @dtb_out.
 * *@initrd_addr: the initramfs' guest-physical address. 0, or -EINVAL
 * (a compressed or foreign kernel, too little RAM) / -errno (reported,
 * naming the file).
 */
int direct_boot_prepare(const struct machine_cfg *cfg, const char *kernel, const char *initrd,
			const char *dtb_in, const char *bootargs, const char *dtb_out,
			uint64_t *initrd_addr);

/*
 * The value of QEMU's `-device loader,...` that loads @path as it is at
 * guest-physical @addr (hw/core/generic-loader.c, force-raw=on); a comma in
 * @path is doubled as QEMU's option syntax wants. malloc'd.
 */
char *loader_value(const char *path, uint64_t addr);

/* Fill @m for @ops and @spec (nothing started yet). */
void machine_init(struct machine *m, const struct machine_ops *ops,
		  const struct machine_spec *spec);
/* Stop if running, close fds, free backend state. */
void machine_release(struct machine *m);

/*
 * Whether one line read from a QMP monitor is the answer to a command: a
 * JSON object with a top-level "return" or "error" member, or the "QMP"
 * greeting; an asynchronous event (top-level "event", whatever its "data"
 * holds) or a line that is not JSON is not. QEMU's QMP specification
 * (docs/interop/qmp-spec). Parsed with jansson.
 */
bool qmp_is_reply(const char *line);

/*
 * The host a libvirt URI names, parsed with libxml2's URI parser (as libvirt
 * parses its own URIs): "qemu+ssh://user@host:22/system" -> "host",
 * "qemu+tcp://[::1]/system" -> "::1". Copied into @host (@len bytes with
 * the NUL); false when the URI names no host (qemu:///system,
 * qemu:///embed?root=...), does not parse, or the host does not fit.
 */
bool libvirt_uri_host(const char *uri, char *host, size_t len);

/*
 * The libvirt domain XML for @m (the libvirt backend's transient domain),
 * written with libxml2's xmlTextWriter so every value (run dir, paths,
 * kernel command line, QEMU arguments) is escaped. @name: the domain name;
 * @hp: the host's paths of bios, kernel, initrd, dtb and kexec disk (the
 * last three may be NULL). malloc'd, NULL if libxml2 failed.
 */
char *libvirt_domain_xml(const struct machine *m, const char *name, char *const hp[5]);

#endif
