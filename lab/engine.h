/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the run engine's insides, shared by its parts and the step
 * kinds (not for other code: run.h is the engine's interface):
 *
 *   lab/engine/consoles.c  both consoles: logs, boot segments, line history
 *   lab/engine/pump.c      the event loop (engine_pump) and the progress line
 *   lab/engine/jobs.c      SSH jobs: background and parallel commands, stalls
 *   lab/engine/guest.c     guest commands over SSH or the serial shell
 *   lab/engine/outcomes.c  what each outcome means (verdict, rest, evidence)
 *   lab/engine/evidence.c  evidence on HANG, DEADLOCK, TIMEOUT and KERNEL_BUG
 *   lab/engine/shell.c     `teelab shell`
 *   lab/run.c              the run: setup, the steps, results, teardown
 *   lab/steps/             the step kinds (step.h), one family per file
 *
 * The guest side is teelab's /init (images/rootfs/init, C), which prints
 * "@@TL:READY@@" when the serial shell is up (after every boot, reboot and
 * kexec), and its overlay (images/rootfs/overlay): /usr/bin/tl-run frames a serial command's output between
 * "@@TL:BEGIN:<id>@@" and "@@TL:END:<id>:<rc>@@", tl-bg/tl-kill run and
 * stop background commands, tl-kexec loads and boots a kernel, tl-evidence
 * gathers stacks. SSH commands go through the guest channel (guest_ops:
 * libssh to dropbear, ssh.c).
 */
#ifndef TEELAB_ENGINE_H
#define TEELAB_ENGINE_H

#include <regex.h>

#include "classify.h"
#include "images.h"
#include "console_feed.h"
#include "machine.h"
#include "run.h"
#include "snapshot.h"
#include "ssh.h"
#include "step.h"

#define OUTPUT_KEEP (256 * 1024)	/* bytes of a step's output kept in results */
#define SSH_CONNECT_TIMEOUT 5.0	/* seconds after the shell is ready */
#define EVIDENCE_BUDGET 30.0		/* seconds for all evidence together */
#define MAX_JOBS 64
#define GDB_FOREVER (365.0 * 24 * 3600)	/* --gdb: the run's and every step's "timeout" */

/* What the engine is waiting for. */
enum wait_kind {
	W_NONE,
	W_PATTERN,	/* a line matching wait_re on wait_con */
	W_COMMAND,	/* the END marker of serial command cmd_id */
	W_JOBS,		/* every SSH job in `waiting` finished */
	W_READY,	/* the next boot's READY marker (or the END marker of cmd_id: failure) */
	W_EXIT,		/* QEMU exits */
};

struct console {
	const char *name;	/* "normal" / "secure" */
	const char *file;	/* "nw-console" / "sw-console" */
	int fd;
	int log_fd;		/* the whole run */
	int seg_fd;		/* this boot only (nw-console.boot-N.log), or -1 */
	struct strbuf history;	/* every line of the run, without timestamps */
	struct strbuf pending;	/* stamped lines not yet in the logs (engine_console_flush()) */
	size_t cursor;		/* `expect` steps match from here on */
	bool eof;
	size_t lines;
};

struct bg_job {
	char *id;		/* scenario id; NULL for parallel copies */
	struct guest_job *job;
	double started;
	/* stall detection (background `progress:`), else progress_set false */
	bool progress_set;
	regex_t progress;
	double stall;		/* seconds */
	size_t scanned;		/* stdout bytes already split into lines */
	double last_progress;	/* now_mono() of the last progress line (or start) */
	size_t progress_lines;
	char *last_line;	/* the last progress line, or NULL */
	double stalled_at;	/* now_mono() when the stall was detected, or 0 */
	/* `detect: state` (lab/engine/detector.c) */
	bool detect_state;
	double detect_after;	/* seconds without progress before the first read */
	bool state_unreadable;	/* OP-TEE said it has no thread-state fast call: stall window only */
	double next_probe;	/* now_mono() of the next read of both worlds' state */
	char *closed_key;	/* the secure state of the last read that closed the cycle, or NULL */
	double closed_at;	/* now_mono() of that read */
	size_t probes;		/* reads made */
	char *proof;		/* DEADLOCK proven: why (malloc'd), or NULL: the stall window ran out */
	/*
	 * a foreground command cut off by a hang, deadlock or timeout: left
	 * running until the evidence is taken (engine_drop_hung_jobs()), so
	 * that the evidence shows the hang and not teelab's SIGKILL
	 */
	bool hung;
};

struct engine {
	const struct lab_config *cfg;
	const struct lab_images *im;	/* the lab's images, symbol files and TA names */
	const struct scenario *sc;
	const struct run_options *opt;
	const char *dir;
	struct machine m;
	struct console con[CON_COUNT];
	struct console_feed *feed;	/* drains con[].fd on its own thread (console_feed.h) */
	struct run_result *res;
	struct classifier cls;
	const struct guest_ops *guest;	/* the guest channel: libssh, or the machine's own (replay) */
	double t0;		/* run start (now_mono) */
	double step_to, boot_to;	/* seconds: the default step and boot timeouts of this run */
	double run_deadline;
	double hang_window;
	int boot;		/* 1 for the first boot, +1 per reboot/kexec */
	/*
	 * A reboot, kexec or kdump asked for: the next boot starts (new log
	 * segment and boot record) at its first line (pending_start), so the
	 * old kernel's last lines stay in its own segment.
	 */
	const char *pending_how;	/* "reboot", "kexec", "kdump", or NULL */
	const char *pending_kernel;	/* kexec `to:`, or NULL */
	const char *pending_start;	/* the new boot's first line contains this */
	double pending_requested;	/* now_mono() of the request */
	bool panic_ok;		/* kdump: the old kernel's panic lines are expected */
	bool tty;		/* progress on a terminal */
	double last_progress_draw;
	const char *stage;
	double stage_t0;
	/* SSH */
	int ssh_port;		/* 0: no guest network */
	char *ssh_key;		/* private key path */
	char *ssh_pub;		/* "ssh-ed25519 AAAA..." */
	struct guest_ssh *ssh;
	bool ssh_later;		/* connect at the first need (engine_have_ssh()) */
	struct bg_job jobs[MAX_JOBS];
	size_t nr_jobs;
	struct guest_job *waiting[MAX_JOBS];
	size_t nr_waiting;
	size_t jobs_out_len;	/* bytes of job output seen, for progress */
	/* the current wait */
	enum wait_kind wait;
	enum console_id wait_con;
	regex_t wait_re;
	bool wait_re_set;
	bool matched;
	char *matched_line;
	int cmd_id;
	bool cmd_begun;
	int cmd_rc;
	bool serial_busy;	/* a serial command never finished: the shell is wedged */
	struct bg_job *stalled;	/* O_DEADLOCK: the job that stalled */
	bool collecting;	/* evidence: no stall detection (the jobs are stuck, we know) */
	struct strbuf cmd_out;
	/* end of the run */
	bool qemu_exited;
	double exit_checked;	/* now_mono() of engine_pump()'s last look at QEMU's exit */
	int qemu_status;
	int echo_fd;		/* `teelab shell`: raw normal-world output goes here, or -1 */
	char *boot_dtb;		/* boot: direct: <run>/boot.dtb (the tree with /chosen), or NULL */
	/* warm starts (snapshot.h) */
	struct snapshot snap;	/* this lab's snapshot (key, dir), when the rule allows one */
	bool snap_save;		/* save at the next ready marker (a cold boot that makes one) */
	/* snap_save: the guest RAM's unnamed file (snapshot_ram_create()), open */
	bool snap_ram_open;
	int snap_ram_fd;
	bool warm;		/* the first boot came from the snapshot */
};


/* ---- consoles (lab/engine/consoles.c) ---- */

/* Set both consoles up and open their run-directory logs (before the machine starts). */
void engine_consoles_open(struct engine *e);
/* Close the logs and free the histories. */
void engine_consoles_close(struct engine *e);

/*
 * A new boot (@how: "power-on", "reboot", "kexec", "kdump"; @kernel: the
 * kexec target or NULL; @requested: now_mono() of the request): the normal
 * world's log gets a new segment file and result.json a boot record.
 */
void engine_new_boot(struct engine *e, const char *how, const char *kernel, double requested);
/* Expect the boot @how asked for now; it starts at a line containing @start. */
void engine_expect_boot(struct engine *e, const char *how, const char *kernel, const char *start);
/* Take what the console feed read since the last call (lines go to on_line()). */
void engine_take_consoles(struct engine *e);
/*
 * Write console @c's lines gathered since the last call to its run log and
 * boot segment (each take flushes once; also before other writes to them).
 * A failed write closes that log and warns once; the run goes on.
 */
void engine_console_flush(struct console *c);
/* Scan the wait console's history from its cursor for wait_re; true on a match (matched_line). */
bool engine_scan_history(struct engine *e);
/* Keep reading the consoles for up to @secs seconds or until both ended. */
void engine_drain_consoles(struct engine *e, double secs);
/* Send raw bytes (teelab's own fixed text) to the normal-world console: 0, -ETIMEDOUT (5 s), -EPIPE. */
int engine_console_send(struct engine *e, const char *s);
/* The last @n lines of console @c (malloc'd). */
char *engine_console_tail(const struct console *c, int n);

/* ---- the event loop and the progress line (lab/engine/pump.c) ---- */

/*
 * Run the event loop until the current wait (e->wait) is satisfied,
 * @deadline (now_mono() seconds) passes, QEMU exits, a panic, a hang or a
 * stall is seen, or teelab is interrupted.
 */
enum outcome engine_pump(struct engine *e, double deadline);
void engine_stage_begin(struct engine *e, const char *what);
void engine_stage_end(struct engine *e, enum verdict v, const char *name, double secs,
		      const char *msg);
void engine_progress_clear(struct engine *e);

/* ---- SSH jobs (lab/engine/jobs.c) ---- */

/* Track @job under @id (NULL for parallel copies); NULL when MAX_JOBS are running. */
struct bg_job *engine_add_job(struct engine *e, const char *id, struct guest_job *job);
/* Stop tracking and free @job. */
void engine_drop_job(struct engine *e, struct guest_job *job);
void engine_drop_all_jobs(struct engine *e);
/* Stop and forget the jobs left running by a cut-off foreground command (bg_job.hung). */
void engine_drop_hung_jobs(struct engine *e);
/* The running background command @id, or NULL. */
struct bg_job *engine_find_job(struct engine *e, const char *id);
/* Pump every job; true if all waited jobs are done. New output counts as progress. */
bool engine_pump_jobs(struct engine *e, double max_wait);
/* Split @b's new output into lines and count its progress lines (at @now). */
void engine_scan_progress(struct engine *e, struct bg_job *b, double now);
/*
 * `detect: state` (lab/engine/detector.c): the first background job whose
 * TEE deadlock both worlds' state proves (b->proof says why), or NULL.
 * May read the guest's state over SSH (up to a few seconds).
 */
struct bg_job *engine_detect_deadlock(struct engine *e, double now);
/* OP-TEE's CFG_NUM_THREADS from the secure profile's build flags, or 0. (evidence.c) */
int engine_cfg_threads(const struct engine *e);
/* The first background job whose progress stalled, or NULL. */
struct bg_job *engine_stalled_job(struct engine *e, double now);
/* Wait for @jobs; a timeout or hang leaves them running (the caller decides). */
enum outcome engine_wait_jobs(struct engine *e, struct guest_job **jobs, size_t n, double timeout);

/* ---- guest commands (lab/engine/guest.c) ---- */

/*
 * Whether guest commands can go over SSH; the connection is made here, at
 * the first need after a ready marker (engine_ssh_later()), so a boot ends
 * as soon as the guest's shell took the run's key.
 */
bool engine_have_ssh(struct engine *e);
/* The channel @c resolves to now (auto: SSH when connected). */
enum channel engine_pick(struct engine *e, enum channel c);
/* Send "<helper> <id> <base64 of @arg>" to the serial shell and wait for @w. 0 or -errno. */
int engine_serial_send(struct engine *e, const char *helper, const char *arg, enum wait_kind w);
/*
 * After a ready marker (or a restore, @restored): what each run has of its
 * own, over the serial shell: the run's SSH public key into
 * /root/.ssh/authorized_keys; after a restore also the clock (the host's
 * time) and 32 host random bytes mixed into the guest's RNG. 0, or -EIO
 * (the shell did not answer in @timeout seconds, or the command failed).
 */
int engine_personalise(struct engine *e, bool restored, double timeout);
/* Seconds the serial shell gets for engine_personalise() */
#define SERIAL_SETUP_TIMEOUT 15.0
/*
 * Save the lab into e->snap at the ready marker (snapshot_save()), then
 * let it run on; a failure is a warning, never the run's. (steps/power.c)
 */
void engine_snapshot_save(struct engine *e);

/* Run @command on the serial shell: output in e->cmd_out, status in e->cmd_rc. */
enum outcome engine_serial_command(struct engine *e, const char *command, double timeout);
/* One guest command on channel @ch; *err gets SSH stderr (may be NULL). */
enum outcome engine_guest_command(struct engine *e, enum channel ch, const char *command,
				  double timeout, struct strbuf *err);
/*
 * engine_guest_command(), then a non-zero exit status is the step's
 * failure: r->msg = "@what failed (status N): <output tail>".
 */
enum outcome engine_guest_command_ok(struct engine *e, enum channel ch, const char *command,
				     double timeout, const char *what, struct step_report *r);
/* Wait for the next READY marker (or the END marker of cmd_id: then !e->matched). */
enum outcome engine_wait_ready(struct engine *e, double timeout);
void engine_ssh_connect(struct engine *e);
/* Connect over SSH at the first need (engine_have_ssh()), not now. */
void engine_ssh_later(struct engine *e);
void engine_ssh_disconnect(struct engine *e);
/* Lines of @text matching ERE @pattern; *first gets a copy of the first (or NULL). */
size_t engine_match_lines(const char *text, const char *pattern, bool stop_at_first, char **first);
/* Write runs/<id>/steps/NN-@suffix for step @n. */
void engine_save_step_file(struct engine *e, size_t n, const char *suffix, const char *data);
/* A bounded tail of @s (OUTPUT_KEEP bytes) for results. */
const char *engine_tail(const char *s);
/* Check a finished command: exit status, output pattern, xtest results; FAIL sets *msg. */
enum verdict engine_check_command(struct engine *e, const struct scenario_step *st,
				  const char *out, int rc, char **msg);
/* Power the machine on and wait for the shell (the boot step; `teelab shell`). */
enum outcome engine_boot(struct engine *e, double timeout, char **msg);

/* ---- outcomes (lab/engine/outcomes.c) ---- */

/* One row per outcome: what it means for the step, the rest of the run and evidence. */
struct outcome_row {
	enum outcome outcome;
	const char *name;		/* "done", "timeout", ... (teelab.log, tests) */
	enum verdict verdict;		/* the step's verdict when the kind gave none and no msg */
	/* the rest of the steps are skipped: always, or only when no channel to the guest is left */
	bool skip_rest, skip_rest_without_channel;
	bool evidence;			/* collect evidence after the verdict */
};
const struct outcome_row *outcome_row(enum outcome o);
/* Why the step ended so (malloc'd), NULL for O_DONE; @timeout: the step's seconds. */
char *outcome_reason(const struct engine *e, enum outcome o, double timeout);

/* ---- evidence (lab/engine/evidence.c) ---- */

/*
 * Registers, guest stacks, jobs' output and console tails into evidence/
 * (EVIDENCE_BUDGET); the kernel report a step ended on as kernel-bug.txt.
 */
void engine_collect_evidence(struct engine *e);

/* ---- setup and teardown (lab/run.c) ---- */

void engine_setup(struct engine *e, const struct lab_images *im, struct machine_spec *spec,
		  struct strbuf *append);
void engine_teardown(struct engine *e);

#endif
