// SPDX-License-Identifier: MIT
/*
 * run.c - the run: set the engine up, play the scenario's steps through
 * their kinds (step.h), decide what each outcome means through the
 * outcome table (engine/outcomes.c), write the results, collect evidence
 * and tear down. The engine's parts are listed in engine.h.
 *
 * Verdicts: a step ends PASS/FAIL/XFAIL/XPASS/TIMEOUT; the run also ends
 * on HANG (no new console line and no step completion for the hang window,
 * classify.c), DEADLOCK, KERNEL_PANIC, KERNEL_BUG (a kernel report, classify.h),
 * TEE_PANIC, INFRA (QEMU died) or
 * INTERRUPTED.
 */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "gdbscript.h"
#include "runproc.h"
#include "timeline.h"

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case V_PASS:
	case V_XFAIL:
	case V_SKIP:
		return TL_EXIT_PASS;
	case V_FAIL:
	case V_XPASS:
	case V_ERROR:
		return TL_EXIT_FAIL;
	case V_TIMEOUT:
		return TL_EXIT_TIMEOUT;
	case V_HANG:
		return TL_EXIT_HANG;
	case V_DEADLOCK:
		return TL_EXIT_DEADLOCK;
	case V_KERNEL_PANIC:
		return TL_EXIT_KERNEL_PANIC;
	case V_KERNEL_BUG:
		return TL_EXIT_KERNEL_BUG;
	case V_TEE_PANIC:
		return TL_EXIT_TEE_PANIC;
	case V_INTERRUPTED:
		return TL_EXIT_INTERRUPTED;
	case V_INFRA:
	case V_NOTRUN:
		return TL_EXIT_INFRA;
	}
	return TL_EXIT_INFRA;
}

char *run_dir_create(const char *runs_dir, const char *name)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *base, *dir = NULL;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (mkdir_p(runs_dir, 0755))
		return NULL;
	base = xasprintf("%s/%s-%s", runs_dir, stamp, name);
	for (int i = 1; i < 1000; i++) {
		dir = i == 1 ? xstrdup(base) : xasprintf("%s-%d", base, i);
		if (!mkdir(dir, 0755))
			break;
		if (errno != EEXIST) {
			error_errno("cannot create run directory '%s'", dir);
			free(dir);
			dir = NULL;
			break;
		}
		free(dir);
		dir = NULL;
	}
	free(base);
	return dir;
}

static void add_environment(struct engine *e, const struct lab_images *im)
{
	struct utsname u;
	char *qemu = program_version(e->cfg->machine.qemu, e->cfg->cache_dir);

	run_result_env(e->res, "profile", e->cfg->profile);
	run_result_env(e->res, "machine", e->cfg->machine.name);
	run_result_env(e->res, "backend", e->cfg->machine.backend);
	run_result_env(e->res, "kernel", e->cfg->kernel.name);
	run_result_env(e->res, "secure", e->cfg->secure.name);
	run_result_env(e->res, "rootfs", e->cfg->rootfs.name);
	if (!uname(&u))
		run_result_env(e->res, "host", u.nodename);
	if (qemu)
		run_result_env(e->res, "qemu", qemu);
	free(qemu);
	lab_images_to_result(im, e->res);
}

/* The run's verdict: the worst step outcome, in a fixed order of severity. */
static void overall(struct run_result *res)
{
	static const enum verdict order[] = { V_INTERRUPTED, V_INFRA, V_TEE_PANIC, V_KERNEL_PANIC,
		V_KERNEL_BUG, V_DEADLOCK, V_HANG, V_TIMEOUT, V_FAIL, V_XPASS, V_ERROR };

	if (res->verdict != V_PASS)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < res->nr_tests; i++)
			if (res->tests[i].verdict == order[k] && !strcmp(res->tests[i].group, "steps")) {
				res->verdict = order[k] == V_XPASS || order[k] == V_ERROR ? V_FAIL : order[k];
				if (!res->reason)
					res->reason = xasprintf("%s: %s", res->tests[i].name,
								res->tests[i].message ? res->tests[i].message
								: verdict_name(order[k]));
				return;
			}
	/* an xtest case can fail with its step still reported separately */
	for (size_t i = 0; i < res->nr_tests; i++)
		if (!verdict_ok(res->tests[i].verdict) && res->tests[i].verdict != V_NOTRUN) {
			res->verdict = V_FAIL;
			if (!res->reason)
				res->reason = xasprintf("%s failed", res->tests[i].name);
			return;
		}
}

/*
 * A scenario or cell that expects DEADLOCK (or HANG, a panic...) passes
 * when the run gives exactly that; a run that passes where something else
 * was expected fails. Interruptions and infrastructure failures stay.
 */
static void apply_expectation(struct run_result *res)
{
	const char *want = res->expected ? res->expected : "PASS";
	const char *got = verdict_name(res->verdict);
	char *reason = NULL;

	res->observed = res->verdict;
	if (!strcmp(want, "PASS") || res->verdict == V_INTERRUPTED || res->verdict == V_INFRA)
		return;
	if (!strcmp(want, got)) {
		reason = xasprintf("%s as expected: %s", got, res->reason ? res->reason : "");
		res->verdict = V_PASS;
	} else {
		reason = xasprintf("expected %s, got %s%s%s", want, got, res->reason ? ": " : "",
				   res->reason ? res->reason : "");
		if (res->verdict == V_PASS)
			res->verdict = V_FAIL;
	}
	free(res->reason);
	res->reason = reason;
}

int run_finish(struct run_result *res, const char *dir)
{
	overall(res);
	apply_expectation(res);
	res->exit_code = verdict_exit_code(res->verdict);
	results_write_all(res, dir);
	if (timeline_write(res, dir))
		warning("no timeline.svg for this run");
	return res->exit_code;
}

/* A free TCP port on 127.0.0.1 for the SSH forward, or 0. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/*
 * Whether the machine has exited, waiting up to @grace seconds for the
 * backend to notice (libvirt reports it as an event, a moment after the
 * SSH connection broke).
 */
static bool machine_gone(struct engine *e, double grace)
{
	double until = now_mono() + grace;

	if (!e->m.priv)
		return false;
	while (!e->qemu_exited) {
		if (e->m.ops->exited(&e->m, &e->qemu_status))
			e->qemu_exited = true;
		else if (now_mono() >= until)
			break;
		else
			usleep(20000);
	}
	return e->qemu_exited;
}

void kernel_cmdline(const struct lab_config *cfg, const struct scenario *sc, struct strbuf *sb)
{
	strbuf_addstr(sb, "console=ttyAMA0 rdinit=/init");
	if (cfg->kernel.cmdline)
		strbuf_addf(sb, " %s", cfg->kernel.cmdline);
	if (sc->cmdline_extra)
		strbuf_addf(sb, " %s", sc->cmdline_extra);
}

/* Everything before the first step: logs, key pair, command line, machine. */
void engine_setup(struct engine *e, const struct lab_images *im,
			 struct machine_spec *spec, struct strbuf *append)
{
	const struct lab_config *cfg = e->cfg;
	const struct scenario *sc = e->sc;
	double run_to = e->opt->run_timeout > 0 ? e->opt->run_timeout : sc->run_timeout;

	e->im = im;
	e->t0 = now_mono();
	e->run_deadline = e->t0 + run_to;
	e->hang_window = e->opt->hang_window > 0 ? e->opt->hang_window : sc->hang_window;
	e->step_to = e->opt->step_timeout > 0 ? e->opt->step_timeout : sc->step_timeout;
	e->boot_to = e->opt->boot_timeout > 0 ? e->opt->boot_timeout : sc->boot_timeout;
	e->tty = isatty(2);
	engine_consoles_open(e);
	classifier_init(&e->cls, e->t0);	/* again at power-on (engine_boot) */
	add_environment(e, im);

	/* the guest network and a per-run key pair for the SSH channel */
	if (sc->network && cfg->kernel.no_ip)
		info("kernel '%s' has no IP (no fragment sets CONFIG_INET): guest commands "
		     "use the serial shell", cfg->kernel.name);
	else if (sc->network) {
		char *keydir = path_join(e->dir, "ssh");

		if (!ssh_keygen(keydir, &e->ssh_key, &e->ssh_pub) && (e->ssh_port = free_port()))
			spec->ssh_port = e->ssh_port;
		else
			warning("no SSH channel for this run: guest commands use the serial shell");
		free(keydir);
	}
	/*
	 * No panic= on the command line: a panic halts the kernel (and the
	 * engine ends the run on its console line) instead of rebooting, and a
	 * loaded crash kernel still takes over (kdump).
	 */
	/*
	 * The SSH key is not on it: it goes in over the serial shell at the
	 * ready marker (engine_personalise()), so the command line and a
	 * snapshot of the booted lab are every run's.
	 */
	kernel_cmdline(cfg, sc, append);
	if (e->opt->gdb) {
		/* the kernel where vmlinux says it is (gdbscript.h) */
		strbuf_addstr(append, " nokaslr");
		e->hang_window = 0;	/* a debugger stops the machine: no HANG, no timeouts */
		e->run_deadline = e->t0 + GDB_FOREVER;
		spec->gdb_port = free_port();
		spec->gdb_wait = e->opt->gdb_wait;
	}
	run_result_env(e->res, "kernel_cmdline", strbuf_str(append));
	run_result_env(e->res, "boot", boot_mode_name(cfg->machine.boot));
	spec->cfg = &cfg->machine;
	spec->bios = im->bios;
	spec->kernel = im->kernel;
	spec->initrd = im->initrd;
	spec->dtb = im->dtb;
	spec->kexec_disk = scenario_needs_lab_disk(sc) ? im->kexec_disk : NULL;
	if (im->dtb) {
		/* the tree this run booted with, as source (dtb.c writes virt.dts beside it) */
		char *dts = xstrdup(im->dtb), *dst = path_join(e->dir, "device-tree.dts");

		if (ends_with(dts, ".dtb")) {
			strcpy(dts + strlen(dts) - 4, ".dts");
			if (file_exists(dts))
				copy_file(dts, dst);
		}
		free(dts);
		free(dst);
	}
	spec->append = strbuf_str(append);
	spec->run_dir = e->dir;
	if (spec->gdb_port > 0) {
		char *script = gdbscript_write(e->dir, spec->gdb_port, im);

		run_result_env(e->res, "gdb", script ? script : "the script could not be written");
		if (script)
			info("gdb: QEMU's gdbstub is on 127.0.0.1:%d%s; attach with\n"
			     "  gdb-multiarch -x %s", spec->gdb_port,
				spec->gdb_wait ? " and the machine waits for gdb's `continue`" : "",
				script);
		free(script);
	}
	spec->state_dir = cfg->cache_dir;
	machine_init(&e->m, machine_backend(cfg->machine.backend), spec);
	e->guest = e->m.ops->guest ? e->m.ops->guest : &guest_ssh_ops;
}

/* Stop the machine, keep what the consoles still hold, free the engine. */
void engine_teardown(struct engine *e)
{
	engine_stage_begin(e, "stopping the machine");
	engine_ssh_disconnect(e);
	if (e->m.priv)
		e->m.ops->stop(&e->m, 2.0);
	if (e->m.cpu_seconds > 0) {
		/* what the lab costs the host: QEMU's CPU against teelab's own (make bench) */
		struct rusage ru;
		char v[32];

		snprintf(v, sizeof(v), "%.3f", e->m.cpu_seconds);
		run_result_env(e->res, "cpu_qemu_seconds", v);
		if (!getrusage(RUSAGE_SELF, &ru)) {
			snprintf(v, sizeof(v), "%.3f", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
				 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
			run_result_env(e->res, "cpu_teelab_seconds", v);
		}
	}
	engine_drain_consoles(e, 0.5);
	console_feed_stop(e->feed);
	e->feed = NULL;
	engine_progress_clear(e);
	machine_release(&e->m);
	engine_consoles_close(e);
	classifier_release(&e->cls);
	strbuf_release(&e->cmd_out);
	free(e->matched_line);
	free(e->ssh_key);
	free(e->ssh_pub);
	free(e->boot_dtb);
	if (e->snap_ram_open)
		close(e->snap_ram_fd);
	e->snap_ram_open = false;
	snapshot_release(&e->snap);
}

/*
 * Play step @i through its kind and decide its verdict: the kind's own,
 * else FAIL with a message (INFRA when the machine is gone), else the
 * outcome table's.
 */
static enum outcome play_step(struct engine *e, size_t i, const struct scenario_step *st,
			      struct step_report *r)
{
	enum outcome o = O_DONE;

	r->timeout = st->timeout > 0 ? st->timeout
		     : st->ops->flags & STEP_F_BOOTS ? e->boot_to : e->step_to;
	if (st->ops->play)
		o = st->ops->play(e, i, st, r);
	if (!r->has_verdict)
		r->verdict = r->msg ? (o == O_EXITED ? V_INFRA : V_FAIL) : outcome_row(o)->verdict;
	r->has_verdict = true;
	return o;
}

/* Apply xfail: a failure that was expected is XFAIL, a pass is XPASS. */
static enum verdict apply_xfail(const struct scenario_step *st, enum verdict v)
{
	if (!st->xfail)
		return v;
	if (v == V_PASS)
		return V_XPASS;
	if (v == V_FAIL || v == V_TIMEOUT)
		return V_XFAIL;
	return v;
}

/* Whether no way to reach the guest's shell is left (serial wedged, no SSH). */
static bool no_channel_left(const struct engine *e)
{
	return e->serial_busy && !e->ssh && !e->ssh_later;
}

/* result.json: how fast a DEADLOCK verdict came, from the stalled job's last progress. */
static void note_deadlock(struct engine *e)
{
	char *secs = xasprintf("%.2f", e->stalled->stalled_at - e->stalled->last_progress);

	run_result_env(e->res, "deadlock_seconds_after_last_progress", secs);
	run_result_env(e->res, "deadlock_detector", e->stalled->proof ? "state" : "stall");
	if (e->stalled->proof)
		run_result_env(e->res, "deadlock_proof", e->stalled->proof);
	free(secs);
	secs = xasprintf("%.2f", e->stalled->last_progress - e->m.started);
	run_result_env(e->res, "last_progress_at", secs);
	free(secs);
}

/* result.json "kernel_bug": the report the run ended on, or the oops before its panic. */
static void note_kernel_bug(struct engine *e)
{
	const struct kernel_report *k = &e->cls.report;

	run_result_kernel_bug(e->res, kreport_kind_name(k->kind), k->line, strbuf_str(&k->text),
			      e->m.started > 0 ? k->at - e->m.started : 0);
}

int run_scenario(const struct lab_config *cfg, const struct lab_images *im,
		 const struct scenario *sc, const struct run_options *opt,
		 struct run_result *res)
{
	struct engine e = { .cfg = cfg, .sc = sc, .opt = opt, .dir = opt->run_dir, .res = res,
			    .echo_fd = -1 };
	struct machine_spec spec = { 0 };
	struct strbuf append = STRBUF_INIT;
	bool skip_rest = false, evidence = false;
	enum outcome last = O_DONE;
	size_t i;

	engine_setup(&e, im, &spec, &append);
	for (i = 0; i < sc->nr_steps && !skip_rest; i++) {
		const struct scenario_step *st = &sc->steps[i];
		struct step_report r = { 0 };
		double t1 = now_mono();
		const struct outcome_row *row;
		enum outcome o;

		engine_stage_begin(&e, st->name);
		o = play_step(&e, i, st, &r);
		if (r.verdict != V_PASS && o != O_EXITED && !(st->ops->flags & STEP_F_STOPS) &&
		    machine_gone(&e, e.m.ops->exit_latency) && e.qemu_status != 0) {
			/*
			 * The step failed because QEMU died under it (an SSH command
			 * cut off); a guest that powered itself off (status 0) is the
			 * step's own failure.
			 */
			char *m2 = xasprintf("QEMU exited (status %d) during the step%s%s", e.qemu_status,
					     r.msg ? ": " : "", r.msg ? r.msg : "");

			free(r.msg);
			r.msg = m2;
			r.verdict = V_INFRA;
			o = O_EXITED;
		}
		row = outcome_row(o);
		if (o == O_EXITED && !r.msg)
			/*
			 * The consoles hang up a moment before the backend reports
			 * the exit (libvirt: an event): wait for it, so that the
			 * reason names QEMU's status rather than a silent console
			 * (libvirt.t's killed QEMU, once, under CI's load)
			 */
			machine_gone(&e, e.m.ops->exit_latency);
		if (!r.msg && o != O_DONE)
			r.msg = outcome_reason(&e, o, r.timeout);
		if (o == O_KERNEL_BUG && !r.output)	/* JUnit's system-out quotes it */
			r.output = xstrdup(strbuf_str(&e.cls.report.text));
		r.verdict = apply_xfail(st, r.verdict);
		if (r.verdict == V_XFAIL) {
			char *m2 = xasprintf("expected failure (%s): %s", st->xfail, r.msg ? r.msg : "");

			free(r.msg);
			r.msg = m2;
		}
		{
			struct test_result *t = run_result_add(res, "steps", st->name, r.verdict,
							       now_mono() - t1, r.msg, r.output);

			t->start = t1 - e.t0;
			t->has_start = true;
		}
		engine_stage_end(&e, r.verdict, st->name, now_mono() - t1, r.msg);
		free(r.msg);
		free(r.output);
		if (e.wait_re_set) {
			regfree(&e.wait_re);
			e.wait_re_set = false;
		}
		e.wait = W_NONE;
		classifier_progress(&e.cls, now_mono());
		last = o;
		/* what cannot go on: no machine, a panic, a hang, a signal, no way to the guest */
		if (row->skip_rest || (row->skip_rest_without_channel && no_channel_left(&e)) ||
		    ((st->ops->flags & STEP_F_BOOTS) && o != O_DONE))
			skip_rest = true;
		if (row->evidence)
			evidence = true;
		if (!skip_rest)	/* the run goes on: a cut-off command stops now */
			engine_drop_hung_jobs(&e);
		if (o == O_DEADLOCK && e.stalled)
			note_deadlock(&e);
	}
	for (; i < sc->nr_steps; i++)
		run_result_add(res, "steps", sc->steps[i].name, V_NOTRUN, 0, "not reached", NULL);

	if (e.cls.report.taken || (last == O_KERNEL_PANIC && e.cls.report.kind != KREPORT_NONE))
		note_kernel_bug(&e);
	if (runproc_interrupted()) {
		res->verdict = V_INTERRUPTED;
		res->reason = xasprintf("interrupted by signal %d", runproc_interrupted());
	}
	/* the verdict first, so a wedged guest cannot cost it; evidence after */
	res->duration = now_mono() - e.t0;
	run_finish(res, opt->run_dir);
	if (evidence && last != O_INTERRUPTED && !runproc_interrupted()) {
		engine_collect_evidence(&e);
		run_result_env(res, "evidence", "evidence/summary.txt");
	}
	engine_drop_hung_jobs(&e);

	/* teardown: QMP quit, SIGTERM, SIGKILL; then what the consoles still hold */
	{
		char n1[24], n2[24], nb[24];

		engine_drain_consoles(&e, 0.2);
		snprintf(n1, sizeof(n1), "%zu", e.con[CON_NORMAL].lines);
		snprintf(n2, sizeof(n2), "%zu", e.con[CON_SECURE].lines);
		snprintf(nb, sizeof(nb), "%d", e.boot);
		run_result_env(res, "nw_console_lines", n1);
		run_result_env(res, "sw_console_lines", n2);
		run_result_env(res, "boots", nb);
	}
	engine_teardown(&e);
	res->duration = now_mono() - e.t0;
	results_write_all(res, opt->run_dir);
	strbuf_release(&append);
	return res->exit_code;
}
