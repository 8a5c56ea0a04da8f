/* SPDX-License-Identifier: MIT */
/*
 * timeline.h - where a run's time went, as a picture: <run>/timeline.svg.
 *
 * One time axis (seconds since the run started) for both worlds: each
 * console's lines as activity marks, with the boot's landmarks labelled
 * (TF-A, BL31, U-Boot, Linux, OP-TEE, the optee driver, the ready marker,
 * or the snapshot restore of a warm start), each reboot or kexec as a
 * dashed boundary, then one bar per step coloured by its verdict, and a
 * DEADLOCK's stall window shaded. Static SVG written with libxml2's
 * xmlTextWriter (every text escaped): no script, no external reference,
 * readable in a browser on its own and as an <img> in the matrix report.
 */
#ifndef TEELAB_TIMELINE_H
#define TEELAB_TIMELINE_H

#include "results.h"

/*
 * Write @dir/timeline.svg for the run @r whose consoles are
 * @dir/nw-console.log and @dir/sw-console.log ("[ seconds] line", times
 * since QEMU started; r->timeline.qemu_start places them on the run's
 * axis; a warm start's recorded boot, between teelab's marker lines, has
 * another run's times and is not drawn). Missing console logs give empty
 * lanes. 0, or -errno (reported, naming the file).
 */
int timeline_write(const struct run_result *r, const char *dir);

#endif
