// SPDX-License-Identifier: MIT
/*
 * power.c - the steps that power the guest on, restart or stop it: boot,
 * reboot, kexec (and kexec crash: loading a kdump kernel), sysrq,
 * poweroff. See README "Scenario format".
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- boot ---- */

/*
 * boot: direct: the run's tree (<run>/boot.dtb), QEMU's with /chosen
 * saying what a bootloader would have said (machine.h). Once per run: a
 * reset reloads the same tree. 0, or -errno with *@msg set.
 */
static int direct_boot_tree(struct engine *e, char **msg)
{
	struct machine_spec *s = &e->m.spec;
	int ret;

	if (s->cfg->boot != BOOT_DIRECT || s->cfg->replay || e->boot_dtb)
		return 0;
	if (!s->dtb) {
		*msg = xstrdup("a direct boot needs the lab's device tree (boot: direct)");
		return -EINVAL;
	}
	e->boot_dtb = path_join(e->dir, "boot.dtb");
	ret = direct_boot_prepare(s->cfg, s->kernel, s->initrd, s->dtb, s->append, e->boot_dtb,
				  &s->initrd_addr);
	if (ret) {
		*msg = xstrdup("cannot prepare the direct boot (see teelab.log)");
		return ret;
	}
	s->dtb = e->boot_dtb;
	return 0;
}

/* The consoles' reader thread on the started machine; false (with *@msg) if it cannot start. */
static bool attach_consoles(struct engine *e, char **msg)
{
	e->res->timeline.has_qemu_start = true;
	e->res->timeline.qemu_start = e->m.started - e->t0;
	classifier_init(&e->cls, now_mono());
	e->cls.report_ignore = e->sc ? e->sc->kernel_bugs_ignore : 0;
	for (int i = 0; i < CON_COUNT; i++)
		e->con[i].fd = e->m.console_fd[i];
	e->feed = console_feed_start(e->m.console_fd, CON_COUNT,
				     e->echo_fd >= 0 ? 1u << CON_NORMAL : 0);
	if (!e->feed)
		*msg = xstrdup("cannot read the consoles (see teelab.log)");
	return e->feed != NULL;
}

/* A console log line without its "[ seconds] " stamp (engine/consoles.c's log_line()) */
static const char *unstamped(const char *line)
{
	const char *p = line[0] == '[' ? strstr(line, "] ") : NULL;

	return p ? p + 2 : line;
}

/*
 * Whether every wait/expect between the boot and the first other step
 * matches a line of the snapshot's recorded console: the restored run
 * sees only those lines of the boot. NULL, or why not (static).
 */
static const char *boot_waits_recorded(struct engine *e)
{
	const struct scenario *sc = e->sc;
	const char *why = NULL;

	for (size_t i = 1; i < sc->nr_steps && !why; i++) {
		const struct scenario_step *st = &sc->steps[i];
		char *log, *text = NULL;
		size_t len = 0;
		regex_t re;
		bool hit = false;

		if (strcmp(st->ops->name, "expect"))
			break;
		log = path_join(e->snap.dir, st->console == CON_SECURE ? "sw-console.log"
				: "nw-console.log");
		if (!read_file(log, &text, &len) && !regcomp(&re, st->pattern, REG_EXTENDED | REG_NOSUB)) {
			for (char *l = strtok(text, "\n"); l && !hit; l = strtok(NULL, "\n")) {
				hit = !regexec(&re, unstamped(l), 0, NULL, 0);
			}
			regfree(&re);
		}
		if (!hit)
			why = "a wait/expect after the boot looks for a line the snapshot's boot did not print";
		free(text);
		free(log);
	}
	return why;
}

/* @s into the console's whole-run log and its boot segment */
static void write_both(struct console *c, const char *s)
{
	size_t len = strlen(s);

	engine_console_flush(c);
	if (c->log_fd >= 0 && write(c->log_fd, s, len) != (ssize_t)len)
		warning("cannot write the %s log", c->name);
	if (c->seg_fd >= 0 && write(c->seg_fd, s, len) != (ssize_t)len)
		warning("cannot write the %s log", c->name);
}

/* Decide how the first boot starts (the rule in snapshot.h); result.json says which and why. */
static bool plan_first_boot(struct engine *e)
{
	const char *why = e->opt->gdb ? "--gdb (the debugger attaches from power-on)"
			  : e->opt->cold ? "--cold"
			  : snapshot_cold_reason(e->cfg, e->sc, e->m.ops, e->opt->warm);

	if (!why && snapshot_lookup(&e->snap, e->cfg->cache_dir, &e->m.spec, e->m.spec.append))
		why = "QEMU's version could not be read for the snapshot key";
	if (!why && !e->snap.exists) {
		e->snap_save = true;
		why = "no snapshot of this lab yet (this run makes one)";
	}
	if (!why && !e->opt->warm)
		why = boot_waits_recorded(e);
	run_result_env(e->res, "boot_start", why ? "cold" : "snapshot");
	if (why)
		run_result_env(e->res, "cold_reason", why);
	return !why;
}

/*
 * The snapshot's boot consoles into the run: each line into the console's
 * history (wait/expect steps see the boot), and into the run's console
 * logs as it was recorded (its own times), between two marker lines.
 */
static void restore_consoles(struct engine *e)
{
	static const char *const name[CON_COUNT] = { "nw-console", "sw-console" };

	for (int i = 0; i < CON_COUNT; i++) {
		struct console *c = &e->con[i];
		char *src = xasprintf("%s/%s.log", e->snap.dir, name[i]);
		char *text = NULL, *head, *tail;
		size_t len = 0;

		head = xasprintf("[    0.000] teelab: the boot below was recorded when snapshot %.16s was "
				 "made (%s); its times are that boot's\n", e->snap.key, e->snap.made);
		tail = xasprintf("[    0.000] teelab: end of the recorded boot; this run restored the "
				 "snapshot and goes on from its ready marker\n");
		write_both(c, head);
		if (!read_file(src, &text, &len)) {
			for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
				strbuf_addstr(&c->history, unstamped(l));
				strbuf_addch(&c->history, '\n');
				write_both(c, l);
				write_both(c, "\n");
			}
		}
		write_both(c, tail);
		free(head);
		free(tail);
		free(text);
		free(src);
	}
}

/* "status" of QMP query-status, malloc'd, or NULL. */
static char *qmp_status(struct engine *e)
{
	char *reply = NULL, *st = NULL;
	json_t *j;

	if (e->m.ops->qmp(&e->m, "{\"execute\":\"query-status\"}", &reply, 5.0))
		return NULL;
	j = json_loads(reply, 0, NULL);
	if (j && json_is_string(json_object_get(json_object_get(j, "return"), "status")))
		st = xstrdup(json_string_value(json_object_get(json_object_get(j, "return"), "status")));
	json_decref(j);
	free(reply);
	return st;
}

/*
 * Start the first boot from e->snap: QEMU with -incoming, paused once the
 * state is in; the consoles' reader first (a console socket left unread
 * stalls QEMU's UART, and the whole machine with it), then cont, then the
 * run's own key, clock and entropy over the serial shell. 0, or -EIO with
 * *@why (static) when the caller must boot cold instead.
 */
static int warm_start(struct engine *e, const char **why, char **msg)
{
	double t0 = now_mono(), deadline = t0 + 20.0;
	int fd = snapshot_open(&e->snap), ram_fd, ret;
	char *st = NULL, *v, *ram, *cmd;
	struct stat rst;

	if (fd < 0) {
		*why = "its state file could not be opened";
		return -EIO;
	}
	ram = snapshot_ram_path(&e->snap);
	ram_fd = open(ram, O_RDONLY | O_CLOEXEC);
	free(ram);
	if (ram_fd < 0 || fstat(ram_fd, &rst) ||
	    rst.st_size != (off_t)e->cfg->machine.memory_mb << 20) {
		/* QEMU would size a short file itself: guest RAM of zeros */
		if (ram_fd >= 0)
			close(ram_fd);
		close(fd);
		*why = ram_fd < 0 ? "its RAM file could not be opened"
				  : "its RAM file is not the size of the machine's RAM";
		return -EIO;
	}
	/*
	 * Its pages into the page cache while QEMU starts (about 0.15 s): a
	 * host that reclaims idle page cache (DAMON's pageout on this CI's VM,
	 * memory pressure elsewhere) would otherwise have the guest fault them
	 * in from disk one by one - 0.5-1.5 s instead of 0.3 s to the state
	 * loaded. About 100 MB read at ~1 GB/s; nothing to do when cached.
	 */
	prefetch_file_data(ram_fd);
	prefetch_file_data(fd);
	e->m.spec.incoming_fd = fd;
	e->m.spec.ram_fd = ram_fd;	/* mapped private: the snapshot's file is never written */
	e->m.spec.ram_shared = false;
	ret = e->m.ops->start(&e->m);
	e->m.spec.ram_fd = 0;
	close(ram_fd);	/* QEMU has its own */
	if (ret) {
		close(fd);
		e->m.spec.incoming_fd = 0;
		*why = "QEMU did not start with it";
		return -EIO;
	}
	/* the RAM is the file's: the stream has the rest (x-ignore-shared, as it was saved) */
	cmd = xasprintf("{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:%d\"}}", fd);
	ret = e->m.ops->qmp(&e->m, "{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
			    "{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}",
			    NULL, 5.0) ||
	      e->m.ops->qmp(&e->m, cmd, NULL, 5.0);
	free(cmd);
	close(fd);
	e->m.spec.incoming_fd = 0;
	if (ret) {
		*why = "QEMU did not take its incoming migration";
		return -EIO;
	}
	/* "inmigrate" while loading; "paused" once loaded (it was saved stopped) */
	while (now_mono() < deadline && !e->m.ops->exited(&e->m, NULL)) {
		free(st);
		st = qmp_status(e);
		if (st && strcmp(st, "inmigrate"))
			break;
		usleep(10000);
	}
	if (!st || strcmp(st, "paused")) {
		free(st);
		*why = "QEMU did not load it (see qemu.log)";
		return -EIO;
	}
	free(st);
	v = xasprintf("%.3f", now_mono() - t0);
	run_result_env(e->res, "snapshot_load_seconds", v);	/* QEMU start to the state loaded */
	free(v);
	engine_new_boot(e, "snapshot", NULL, 0);
	restore_consoles(e);
	if (!attach_consoles(e, msg))
		return -EIO;
	if (e->m.ops->qmp(&e->m, "{\"execute\":\"cont\"}", NULL, 5.0)) {
		*why = "QEMU did not resume it";
		return -EIO;
	}
	e->cmd_id = 0;
	if (engine_personalise(e, true, 10.0)) {
		*why = "the restored guest's serial shell did not answer";
		return -EIO;
	}
	e->warm = true;
	v = xasprintf("%.3f", now_mono() - t0);
	run_result_env(e->res, "snapshot_restore_seconds", v);
	free(v);
	engine_ssh_later(e);
	return 0;
}

/* Undo a failed warm start: the machine gone, the history empty, a cold boot next. */
static void warm_fallback(struct engine *e, const struct machine_spec *spec, const char *why)
{
	const struct machine_ops *ops = e->m.ops;

	warning("snapshot %.16s did not restore (%s): booting cold; the snapshot is removed",
		e->snap.key, why);
	run_result_env(e->res, "boot_start", "cold");
	run_result_env(e->res, "cold_reason", "the snapshot did not restore: it was removed, "
		       "this run boots cold and makes a new one");
	run_result_env(e->res, "snapshot_failed", why);
	engine_ssh_disconnect(e);
	if (e->m.priv)
		ops->stop(&e->m, 1.0);
	engine_drain_consoles(e, 0.2);
	console_feed_stop(e->feed);
	e->feed = NULL;
	machine_release(&e->m);
	machine_init(&e->m, ops, spec);
	for (int i = 0; i < CON_COUNT; i++) {
		strbuf_reset(&e->con[i].history);
		e->con[i].cursor = 0;
		e->con[i].eof = false;
	}
	e->qemu_exited = false;
	snapshot_drop(&e->snap);
	e->snap_save = true;
}

void engine_snapshot_save(struct engine *e)
{
	char *nw = path_join(e->dir, "nw-console.log"), *sw = path_join(e->dir, "sw-console.log");
	int ret;

	e->snap_save = false;
	engine_stage_begin(e, "saving a snapshot of the lab");
	ret = snapshot_save(&e->snap, &e->m, e->snap_ram_open ? e->snap_ram_fd : -1, nw, sw, 60.0);
	if (e->snap_ram_open)
		close(e->snap_ram_fd);	/* QEMU keeps its mapping; the copy is made */
	e->snap_ram_open = false;
	if (ret >= 0 && e->m.ops->qmp(&e->m, "{\"execute\":\"cont\"}", NULL, 5.0))
		warning("QEMU did not resume after the snapshot");
	if (!ret) {
		char *v = xasprintf("%.3f", e->snap.made_secs);

		run_result_env(e->res, "snapshot_made", e->snap.key);
		run_result_env(e->res, "snapshot_save_seconds", v);
		free(v);
		snapshot_evict(e->cfg->cache_dir, SNAPSHOT_KEEP);
	}
	free(nw);
	free(sw);
}

enum outcome engine_boot(struct engine *e, double timeout, char **msg)
{
	enum outcome p;
	int ret;

	if (!e->boot && plan_first_boot(e)) {
		struct machine_spec spec = e->m.spec;
		const char *why = NULL;

		if (!direct_boot_tree(e, msg)) {
			spec.dtb = e->m.spec.dtb;
			spec.initrd_addr = e->m.spec.initrd_addr;
			if (!warm_start(e, &why, msg)) {
				run_result_env(e->res, "snapshot", e->snap.key);
				run_result_env(e->res, "snapshot_made_at", e->snap.made);
				run_result_env(e->res, "snapshot_qemu", e->snap.qemu_version);
				e->con[CON_NORMAL].cursor = 0;
				return O_DONE;
			}
			if (*msg)
				return O_EXITED;
			warm_fallback(e, &spec, why);
		}
	}
	engine_new_boot(e, "power-on", NULL, 0);
	if (direct_boot_tree(e, msg)) {
		e->qemu_exited = true;
		return O_EXITED;
	}
	if (e->snap_save && !e->snap_ram_open && !e->m.ops->guest) {
		/* the guest RAM as a file, so that the save can copy it (snapshot.h) */
		int fd = snapshot_ram_create(e->cfg->cache_dir, e->cfg->machine.memory_mb);

		if (fd < 0) {
			warning("no snapshot will be made: the guest RAM file could not be created");
			e->snap_save = false;
		} else {
			e->snap_ram_fd = fd;
			e->snap_ram_open = true;
		}
	}
	e->m.spec.ram_fd = e->snap_save && e->snap_ram_open ? e->snap_ram_fd : 0;
	e->m.spec.ram_shared = true;
	ret = e->m.ops->start(&e->m);
	e->m.spec.ram_fd = 0;
	if (e->m.uri[0])
		run_result_env(e->res, "libvirt_uri", e->m.uri);
	if (ret) {
		e->qemu_exited = true;
		*msg = e->m.why[0] ? xasprintf("QEMU did not start: %s", e->m.why)
				   : xstrdup("QEMU did not start (see qemu.log)");
		return O_EXITED;
	}
	if (!attach_consoles(e, msg))
		return O_EXITED;
	e->cmd_id = 0;
	p = engine_wait_ready(e, timeout);
	/* `expect` steps after the boot see the whole boot log */
	e->con[CON_NORMAL].cursor = 0;
	return p;
}

static enum outcome play_boot(struct engine *e, size_t n, const struct scenario_step *st,
			      struct step_report *r)
{
	(void)n;
	(void)st;
	return engine_boot(e, r->timeout, &r->msg);
}

static const char *const boot_keys[] = { "timeout", NULL };
const struct step_ops step_boot = {
	.name = "boot", .order = 10, .keys = boot_keys, .flags = STEP_F_BOOTS,
	.summary = "power the lab on; done when the guest's shell is ready",
	.play = play_boot,
};

/* ---- reboot, kexec ---- */

/* " 'arg'" for the guest shell: single quotes, ' escaped */
static void add_quoted(struct strbuf *cmd, const char *arg)
{
	strbuf_addstr(cmd, " '");
	for (const char *c = arg; *c; c++)
		strbuf_addstr(cmd, *c == '\'' ? "'\\''" : (char[2]){ *c, 0 });
	strbuf_addch(cmd, '\'');
}

/* The tl-kexec command line of a kexec step (see images/rootfs/overlay/usr/bin/tl-kexec). */
static void kexec_command(const struct scenario_step *st, struct strbuf *cmd)
{
	strbuf_addstr(cmd, "tl-kexec");
	if (st->no_load)
		strbuf_addstr(cmd, " --no-load");
	if (st->crash)
		strbuf_addstr(cmd, " --crash");
	if (st->to) {
		strbuf_addstr(cmd, " --to");
		add_quoted(cmd, st->to);
	}
	if (st->kernel || st->initrd || st->cmdline) {
		add_quoted(cmd, st->kernel ? st->kernel : "");
		add_quoted(cmd, st->initrd ? st->initrd : "");
		add_quoted(cmd, st->cmdline ? st->cmdline : "");
	}
}

/* kexec: { crash: true }: load the capture kernel (kexec -p) and go on */
static enum outcome kexec_crash(struct engine *e, const struct scenario_step *st,
				struct step_report *r)
{
	struct strbuf cmd = STRBUF_INIT;
	enum outcome p;

	if (st->timeout <= 0)
		r->timeout = e->step_to;	/* a command, not a boot */
	kexec_command(st, &cmd);
	p = engine_guest_command_ok(e, CHAN_AUTO, strbuf_str(&cmd), r->timeout,
				    "loading the capture kernel", r);
	strbuf_release(&cmd);
	return p;
}

/* reboot -f or tl-kexec: the next boot's READY marker ends the step */
static enum outcome play_reboot(struct engine *e, size_t n, const struct scenario_step *st,
				struct step_report *r)
{
	struct strbuf cmd = STRBUF_INIT;
	enum outcome p;
	size_t from = e->con[CON_NORMAL].history.len;
	bool reboot = st->ops == &step_reboot;

	(void)n;
	if (!reboot && st->crash)
		return kexec_crash(e, st, r);
	if (e->serial_busy) {
		r->msg = xstrdup("the serial shell is busy with an earlier command");
		return O_WEDGED;
	}
	engine_ssh_disconnect(e);
	if (reboot)
		/* PSCI SYSTEM_RESET after the kernel's shutdown path (device .shutdown hooks) */
		strbuf_addstr(&cmd, "sync; reboot -f");
	else
		kexec_command(st, &cmd);
	if (engine_serial_send(e, "tl-run", strbuf_str(&cmd), W_READY)) {
		strbuf_release(&cmd);
		return O_NO_CHANNEL;
	}
	strbuf_release(&cmd);
	if (reboot)
		engine_expect_boot(e, "reboot", NULL, "Booting Trusted Firmware");
	else
		engine_expect_boot(e, "kexec", st->to ? st->to : "boot",
				   "Booting Linux on physical CPU");
	p = engine_wait_ready(e, r->timeout);
	if (p == O_DONE && !e->matched) {
		/* the command came back: no new boot */
		r->msg = xasprintf("%s failed (status %d): %s", st->ops->name, e->cmd_rc,
				   strbuf_str(&e->cmd_out));
		e->pending_how = NULL;
		return O_DONE;
	}
	if (p == O_DONE) {
		e->con[CON_NORMAL].cursor = from;	/* expects see this boot */
		e->cmd_id = 0;
	}
	return p;
}

static const char *const reboot_keys[] = { "timeout", NULL };
const struct step_ops step_reboot = {
	.name = "reboot", .order = 110, .keys = reboot_keys, .flags = STEP_F_BOOTS,
	.summary = "`reboot -f` in the guest (PSCI SYSTEM_RESET); done when the shell is back",
	.play = play_reboot,
};

/* "a" or "a,b,c": kernel names ([A-Za-z0-9_.-]+) */
static bool valid_kernel_list(const char *v)
{
	size_t n;

	do {
		n = strcspn(v, ",");
		if (!n || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789_.-") < n)
			return false;
		v += n;
	} while (*v++ == ',');
	return true;
}

static int parse_kexec(const struct step_parse *p, struct scenario_step *st)
{
	static const char *const loaded[] = { "kernel", "initrd", "cmdline", "to", "crash" };
	const struct ydoc *doc = p->doc;
	const struct ynode *opts = p->opts;
	int ret = step_get_guest_path(doc, opts, "kernel", &st->kernel);

	if (!ret)
		ret = step_get_guest_path(doc, opts, "initrd", &st->initrd);
	if (!ret)
		ret = step_get_string(doc, opts, "cmdline", &st->cmdline);
	if (!ret)
		ret = ynode_get_bool(doc, opts, "no-load", &st->no_load);
	if (!ret)
		ret = step_get_string(doc, opts, "to", &st->to);
	if (!ret)
		ret = ynode_get_bool(doc, opts, "crash", &st->crash);
	for (size_t i = 0; !ret && st->no_load && i < ARRAY_SIZE(loaded); i++)
		if (ynode_get(opts, loaded[i]))
			ret = ynode_error(doc, ynode_get(opts, loaded[i]),
					  "'%s' has no effect with 'no-load: true'",
					  loaded[i]);
	if (!ret && st->to && (st->kernel || st->initrd))
		ret = ynode_error(doc, ynode_get(opts, "to"),
				  "'to' names a lab kernel; 'kernel'/'initrd' give guest paths: not both");
	if (!ret && st->to && !strstr(st->to, "${") && !valid_kernel_list(st->to))
		ret = ynode_error(doc, ynode_get(opts, "to"),
				  "invalid kernel name '%s' (a configs/kernels name or 'boot'; "
				  "in a repeat, a comma list the hops cycle through)", st->to);
	return ret;
}

static const char *const kexec_keys[] = {
	"kernel", "initrd", "cmdline", "no-load", "to", "crash", "timeout", NULL
};
const struct step_ops step_kexec = {
	.name = "kexec", .order = 120, .keys = kexec_keys, .flags = STEP_F_BOOTS,
	.summary = "kexec -l + kexec -e into a kernel (crash: load a kdump kernel and go on)",
	.parse = parse_kexec, .play = play_reboot,
};

/* ---- sysrq ---- */

static int parse_sysrq(const struct step_parse *p, struct scenario_step *st)
{
	const struct ydoc *doc = p->doc;
	const struct ynode *n = ynode_get(p->opts, "key");
	const char *key = NULL;
	int ret = 0;

	if (p->value && p->value->type == YNODE_SCALAR && !step_is_null(p->value)) {
		/* shorthand "sysrq: <key>" */
		n = p->value;
		key = p->value->scalar;
	} else {
		ret = ynode_get_str(doc, p->opts, "key", &key);
	}
	if (!ret)
		ret = step_get_channel(p, NULL, st);
	if (ret)
		return ret;
	if (!key)
		return ynode_error(doc, p->where, "missing 'key' in 'sysrq' step");
	if (strlen(key) != 1 || !strchr("0123456789abcdefghijklmnopqrstuvwxyz", *key))
		return ynode_error(doc, n,
				   "invalid sysrq key '%s' (expected one character from 0-9 or a-z)",
				   key);
	st->sysrq = *key;
	ret = ynode_get_bool(doc, p->opts, "kdump", &st->kdump);
	if (!ret && st->kdump && st->sysrq != 'c')
		ret = ynode_error(doc, ynode_get(p->opts, "kdump"),
				  "'kdump: true' needs key 'c' (a crash), got '%c'", st->sysrq);
	return ret;
}

static void describe_sysrq(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addf(sb, " %c", st->sysrq);
}

/* echo c: the panic ends the step, or with kdump the capture kernel's shell */
static enum outcome sysrq_crash(struct engine *e, const struct scenario_step *st,
				struct step_report *r)
{
	char *line = xasprintf("echo %c > /proc/sysrq-trigger\n", st->sysrq);
	enum outcome p;

	engine_ssh_disconnect(e);
	engine_console_send(e, line);
	free(line);
	e->wait_con = CON_NORMAL;
	regcomp(&e->wait_re, "Kernel panic - not syncing", REG_EXTENDED | REG_NOSUB);
	e->wait_re_set = true;
	e->wait = W_PATTERN;
	e->con[CON_NORMAL].cursor = e->con[CON_NORMAL].history.len;
	p = engine_pump(e, now_mono() + r->timeout);
	if (p != O_DONE || !st->kdump)
		return p == O_DONE ? O_KERNEL_PANIC : p;
	/* kdump: the loaded capture kernel boots; its shell ends the step */
	classifier_clear_event(&e->cls);
	engine_expect_boot(e, "kdump", NULL, "Booting Linux on physical CPU");
	e->panic_ok = true;
	e->cmd_id = 0;
	p = engine_wait_ready(e, r->timeout);
	e->panic_ok = false;
	if (p == O_DONE && !e->matched)
		r->msg = xstrdup("the crashed kernel's shell answered: no capture kernel booted");
	return p;
}

static enum outcome play_sysrq(struct engine *e, size_t n, const struct scenario_step *st,
			       struct step_report *r)
{
	char *cmd;
	enum outcome p;

	(void)n;
	if (st->sysrq == 'c')
		return sysrq_crash(e, st, r);	/* a crash never returns */
	cmd = xasprintf("echo %c > /proc/sysrq-trigger", st->sysrq);
	p = engine_guest_command_ok(e, st->channel, cmd, r->timeout, "sysrq", r);
	free(cmd);
	return p;
}

static const char *const sysrq_keys[] = { "key", "channel", "kdump", "timeout", NULL };
const struct step_ops step_sysrq = {
	.name = "sysrq", .order = 130, .keys = sysrq_keys, .forms = STEP_FORM_SCALAR,
	.summary = "echo <key> > /proc/sysrq-trigger (c: a crash; kdump: the capture kernel boots)",
	.parse = parse_sysrq, .describe = describe_sysrq, .play = play_sysrq,
};

/* ---- poweroff ---- */

static enum outcome play_poweroff(struct engine *e, size_t n, const struct scenario_step *st,
				  struct step_report *r)
{
	enum outcome p;

	(void)n;
	if (st->timeout <= 0)
		r->timeout = 60;
	engine_ssh_disconnect(e);
	/* PSCI SYSTEM_OFF through TF-A: QEMU exits by itself */
	e->wait = W_EXIT;
	if (engine_console_send(e, "poweroff -f\n"))
		return O_NO_CHANNEL;
	p = engine_pump(e, now_mono() + r->timeout);
	if (p == O_EXITED) {
		p = O_DONE;
		if (e->qemu_status)
			r->msg = xasprintf("QEMU exited with status %d", e->qemu_status);
	}
	return p;
}

static const char *const poweroff_keys[] = { "timeout", NULL };
const struct step_ops step_poweroff = {
	.name = "poweroff", .order = 150, .keys = poweroff_keys, .flags = STEP_F_STOPS,
	.summary = "clean power-off through the guest (PSCI SYSTEM_OFF); QEMU exits",
	.play = play_poweroff,
};
