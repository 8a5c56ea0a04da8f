/* SPDX-License-Identifier: MIT */
/*
 * gdbscript.h - the gdb script of a `teelab run --gdb` / `teelab shell
 * --gdb` run: every symbol file teelab has for the lab, at the addresses
 * it runs at, for QEMU's gdbstub.
 *
 * <run>/gdb/teelab.gdb (gdb-multiarch -x <run>/gdb/teelab.gdb):
 *   - TF-A's bl1.elf, bl2.elf, bl31.elf (a TF-A teelab built: PLAT=qemu
 *     links each image at the address it runs at);
 *   - OP-TEE's tee.elf (an OP-TEE teelab built). OP-TEE relocates itself
 *     only with a seed (CFG_CORE_ASLR reads /secure-chosen/kaslr-seed,
 *     core/arch/arm/kernel/boot.c get_aslr_seed()); teelab's device trees
 *     carry none, so OP-TEE runs at its link address;
 *   - vmlinux (a kernel teelab built, or Debian's -dbg package when asked
 *     for), the run's command line with nokaslr;
 *   - the lab TAs: OP-TEE places each TA at a random address when it
 *     loads it (CFG_TA_ASLR), so a Python breakpoint on OP-TEE's
 *     ldelf_init_with_ldelf() (core/kernel/ldelf_loader.c) reads the
 *     loaded TA's UUID and load_addr (struct user_mode_ctx) when it
 *     returns and adds that TA's <uuid>.elf at that offset; the command
 *     `teelab-ta NAME ADDRESS` does it by hand;
 *   - the lab kernel modules: their section addresses come from
 *     /sys/module/<module>/sections after each boot, into
 *     <run>/gdb/modules.gdb; the command `teelab-modules` sources it.
 * It ends with `target remote 127.0.0.1:<port>`.
 */
#ifndef TEELAB_GDBSCRIPT_H
#define TEELAB_GDBSCRIPT_H

#include "images.h"

/*
 * Write <@run_dir>/gdb/teelab.gdb for the gdbstub on 127.0.0.1:@port,
 * from @im->symbols and @im->tas. Returns the script's path (malloc'd), or
 * NULL (reported).
 */
char *gdbscript_write(const char *run_dir, int port, const struct lab_images *im);

/*
 * The guest command (busybox sh) that prints, for each lab module with a
 * symbol file in @im, "<module> <section> <address>" lines from
 * /sys/module/<module>/sections (malloc'd); NULL when the lab has none.
 */
char *gdbscript_modules_command(const struct lab_images *im);

/*
 * Write <@run_dir>/gdb/modules.gdb from @sections (the output of
 * gdbscript_modules_command()): one add-symbol-file per module, .text at
 * its address and the other sections with -s. 0 or -errno (reported).
 */
int gdbscript_write_modules(const char *run_dir, const struct lab_images *im,
			    const char *sections);

#endif
