/* SPDX-License-Identifier: MIT */
/*
 * run.h - the run engine: one scenario against one booted lab, writing a
 * complete run directory whatever happens (pass, failure, timeout, QEMU
 * death, Ctrl-C):
 *
 *   runs/<YYYYmmdd-HHMMSS>-<scenario>/
 *     nw-console.log   UART0: TF-A, U-Boot, Linux (each line "[   s.mmm] ")
 *     nw-console.boot-N.log  the same, one file per boot (reboot, kexec)
 *     sw-console.log   UART1: OP-TEE
 *     qemu.cmdline     the exact QEMU argv; qemu-rerun.sh reruns it by hand
 *     qemu.log         QEMU's own stderr
 *     steps/NN-*.log   each guest command's output (.stderr: SSH stderr)
 *     ssh/             the run's key pair (0700 dir, 0600 key)
 *     artifacts/       files fetched by `collect` steps
 *     evidence/        on HANG/TIMEOUT: registers, guest stacks, console tails
 *     result.json, junit.xml, results.tap
 */
#ifndef TEELAB_RUN_H
#define TEELAB_RUN_H

#include "config.h"
#include "images.h"
#include "results.h"
#include "scenario.h"

struct run_options {
	double boot_timeout;	/* seconds; 0 = the scenario's */
	double step_timeout;	/* seconds; 0 = the scenario's */
	double run_timeout;	/* seconds; 0 = the scenario's */
	double hang_window;	/* seconds without progress -> HANG; 0 = the scenario's */
	const char *run_dir;	/* already created run directory */
	/* --cold / --warm: override the warm-start rule (snapshot.h) */
	bool cold, warm;
	/*
	 * --gdb: QEMU's gdbstub on a free 127.0.0.1 port and <run>/gdb/teelab.gdb
	 * (gdbscript.h); no timeouts, hangs or stalls (a debugger stops the
	 * machine). --gdb-wait: QEMU starts halted, gdb's `continue` starts it.
	 */
	bool gdb, gdb_wait;
};

/*
 * Create runs/<timestamp>-<name>/ under @runs_dir (suffix -2, -3... if
 * taken). Returns the malloc'd path, or NULL (reported).
 */
char *run_dir_create(const char *runs_dir, const char *name);

/*
 * Boot @im on the machine of @cfg and play @sc's steps. Fills @res
 * (tests, overall verdict, reason, exit code) and writes the result files
 * and console logs into opt->run_dir. Returns the process exit code
 * (enum tl_exit).
 */
int run_scenario(const struct lab_config *cfg, const struct lab_images *im,
		 const struct scenario *sc, const struct run_options *opt,
		 struct run_result *res);

/*
 * `teelab shell`: boot @im, then hand the normal-world serial console to
 * the user's terminal (raw mode; Ctrl-] leaves) while both consoles are
 * logged into opt->run_dir as in a run. Prints how to reach the guest over
 * SSH too. Returns an exit code (0 when the user left, INFRA/TIMEOUT when
 * the boot failed).
 */
int run_shell(const struct lab_config *cfg, const struct lab_images *im,
	      const struct run_options *opt);

/*
 * Finish @res (overall verdict from its tests unless already set, exit
 * code) and write result.json, junit.xml and results.tap into @dir; used
 * for runs that end before the machine starts (e.g. a failed build).
 * Returns the exit code.
 */
int run_finish(struct run_result *res, const char *dir);

/*
 * The lab kernel's command line for @cfg and @sc into @sb: the console,
 * /init, the kernel config's and the scenario's additions. Nothing per run
 * (the SSH key goes in over the serial shell: engine_personalise()).
 */
struct strbuf;
void kernel_cmdline(const struct lab_config *cfg, const struct scenario *sc, struct strbuf *sb);

/* Exit code for an overall verdict (README "Exit codes"). */
int verdict_exit_code(enum verdict v);

#endif
