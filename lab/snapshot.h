/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h - warm starts: the whole lab (both worlds, every device, guest
 * RAM) saved at the guest's ready marker by QEMU's migration to a file, and
 * later runs of the same machine started from it instead of booting.
 *
 * A snapshot lives in <cache>/snapshots/<key>/: ram (the guest's RAM as a
 * sparse file), state.mig (QEMU's migration stream without the RAM: the
 * devices, both worlds' CPU state and the small RAM blocks such as the
 * secure RAM), both read-only once made, so any number of runs can start
 * from it at once, meta.json (what it was made from, when, by which QEMU)
 * and the boot's two consoles (nw-console.log, sw-console.log). The key hashes
 * everything the saved state depends on: QEMU's version and binary, the
 * machine (CPU, vCPUs, RAM, GIC, boot mode, extra arguments, networking),
 * the firmware, kernel, initramfs, device tree and kexec disk (path, size
 * and modification time: cache entries are content-addressed, a user's
 * rebuilt image gets a new time), and the kernel command line. Nothing
 * per run is in it: the SSH key is written over the serial shell after the
 * ready marker (after a cold boot too), the clock is set and the RNG
 * reseeded after a restore, and the SSH port forward is the new QEMU's.
 *
 * The rule (README "Warm starts"): a run starts warm when the
 * scenario's first step is `boot`, the backend can save and restore (the
 * direct qemu one), no step reboots, kexecs or sysrqs, the scenario and
 * its cell add nothing to the kernel command line, the secure world talks
 * the SMC ABI (FF-A's notification path is not checked after a restore),
 * the scenario does not say `cold-boot: true`, and every `wait`/`expect`
 * before the first guest command matches the snapshot's boot console.
 * --cold and --warm override it (--warm still needs a backend that can).
 */
#ifndef TEELAB_SNAPSHOT_H
#define TEELAB_SNAPSHOT_H

#include <stdbool.h>

#include "config.h"
#include "machine.h"
#include "scenario.h"
#include "util.h"

/*
 * How many snapshots the cache keeps (the least recently used go first):
 * the nightly matrix has about 15 labs that start warm; a snapshot is
 * 60-200 MB (what the guest's RAM holds that is not zero)
 */
#define SNAPSHOT_KEEP 24

/* Bump when what a snapshot holds or how it is made changes: every key changes. */
#define SNAPSHOT_RECIPE "snapshot-2"

struct snapshot {
	char key[SHA256_HEX_LEN + 1];
	char *dir;		/* <cache>/snapshots/<key> */
	char *qemu_version;	/* the first line of `qemu --version` */
	bool exists;		/* ram, state.mig and meta.json are there */
	char *made;		/* exists: when it was made (ISO 8601, UTC) */
	double made_secs;	/* exists: how long the save took, seconds */
};

/*
 * Why a run of @sc (on @cfg, with the machine backend @ops) must boot
 * cold by the rule above (a static string for result.json), or NULL when
 * it may start warm. @forced: --warm (only the backend's inability counts).
 */
const char *snapshot_cold_reason(const struct lab_config *cfg, const struct scenario *sc,
				 const struct machine_ops *ops, bool forced);

/*
 * The snapshot for @spec booted with @bootargs (the kernel command line,
 * no per-run part) under @cache_dir: fills @s (key, dir, QEMU's version,
 * and whether it exists). 0, or -errno when QEMU's version cannot be read
 * (reported). Release with snapshot_release().
 */
int snapshot_lookup(struct snapshot *s, const char *cache_dir, const struct machine_spec *spec,
		    const char *bootargs);

/*
 * The guest RAM file of a run that will make a snapshot: a new unnamed
 * file (O_TMPFILE, else created and unlinked at once: nothing is left
 * behind whatever happens) of @memory_mb MiB, all a hole, on the cache's
 * file system, for QEMU's memory-backend-file with share=on
 * (machine_spec.ram_fd), so that the save copies the RAM as a file and
 * leaves it out of the migration stream (x-ignore-shared). The open
 * descriptor (close-on-exec; snapshot_save() reads it), or -errno
 * (reported).
 */
int snapshot_ram_create(const char *cache_dir, int memory_mb);

/*
 * <dir>/ram of @s (malloc'd): a warm start maps it private
 * (memory-backend-file, share=off: copy-on-write, pages read when the guest
 * touches them) instead of loading all the guest's RAM.
 */
char *snapshot_ram_path(const struct snapshot *s);

/*
 * Save the running machine @m into @s (which must not exist yet): QMP
 * stop, migration (x-ignore-shared: without the RAM in @ram_fd, the file
 * snapshot_ram_create() made and @m's guest RAM lives in) into a temporary
 * file with a descriptor passed by getfd, the RAM file copied beside it
 * keeping its holes,
 * wait for it to complete (at most @timeout seconds), then @nw_log and
 * @sw_log (the boot's console logs so far) and meta.json beside it, and
 * the directory renamed into place. The machine is left stopped
 * (postmigrate): the caller sends "cont". Another run making the same
 * snapshot (a lock) is not an error: 1 is returned and nothing is saved.
 * 0 when saved (s->exists, s->made, s->made_secs set), -errno otherwise
 * (reported as a warning; the run goes on cold).
 */
int snapshot_save(struct snapshot *s, struct machine *m, int ram_fd, const char *nw_log,
		  const char *sw_log, double timeout);

/*
 * Open @s's state read-only for QEMU's incoming migration ("fd:N"; the
 * descriptor survives a concurrent removal). The fd (close-on-exec; the
 * machine keeps it open in QEMU), or -errno.
 */
int snapshot_open(const struct snapshot *s);

/* Remove @s from the cache (a snapshot that failed to restore). */
void snapshot_drop(struct snapshot *s);

/*
 * Keep at most @keep snapshots under @cache_dir/snapshots (the least
 * recently used go; a restore touches meta.json), and remove those whose
 * images are gone. Never fails the caller.
 */
void snapshot_evict(const char *cache_dir, int keep);

void snapshot_release(struct snapshot *s);

#endif
