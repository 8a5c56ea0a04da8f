// SPDX-License-Identifier: MIT
/* guest.c - guest commands over SSH or the serial shell; see engine.h */
#include "engine.h"
#include "gdbscript.h"

#include <errno.h>
#include <regex.h>
#include <sys/random.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "xtest.h"


/* Send @line (one shell line, its own markers inside) and wait for @w from here on. */
static int send_command_line(struct engine *e, const char *line, enum wait_kind w)
{
	strbuf_reset(&e->cmd_out);
	e->matched = false;
	e->cmd_begun = false;
	e->cmd_rc = -1;
	e->wait = w;
	return engine_console_send(e, line);
}

/* Send "<helper> <id> <base64 of @arg>" to the serial shell; sets up W_COMMAND. */
int engine_serial_send(struct engine *e, const char *helper, const char *arg, enum wait_kind w)
{
	char *b64 = base64_str(arg);
	char *line = xasprintf("%s %d %s\n", helper, ++e->cmd_id, b64);
	int ret = send_command_line(e, line, w);

	free(b64);
	free(line);
	return ret;
}

/* Run @command on the serial shell; output in e->cmd_out, status in e->cmd_rc. */
/*
 * Type @cmd at the serial shell as it is, framed by W_COMMAND's markers
 * (quoted, so the terminal's echo of the typed line does not match them).
 * For teelab's own commands only (never a scenario's text): no helper
 * process starts, so a lab just restored from a snapshot, whose QEMU has
 * translated none of the guest's code yet, answers at once. @after, if
 * not NULL, runs on the same line once the END marker is out (the shell
 * is busy with it meanwhile; a later command waits in the terminal).
 * 0 or -errno.
 */
static int serial_type(struct engine *e, const char *cmd, const char *after)
{
	int id = ++e->cmd_id;
	char *line = xasprintf("echo @@TL:BE''GIN:%d@@; %s; echo @@TL:E''ND:%d:$?@@%s%s\n", id, cmd, id,
			       after ? "; " : "", after ? after : "");
	int ret = send_command_line(e, line, W_COMMAND);

	free(line);
	return ret;
}

/*
 * engine_serial_command() of @command through tl-run, or typed as it is
 * (@typed: serial_type(), with @after)
 */
static enum outcome serial_run(struct engine *e, const char *command, double timeout, bool typed,
			       const char *after)
{
	enum outcome p;

	if (e->serial_busy)
		return O_WEDGED;
	if (typed ? serial_type(e, command, after) : engine_serial_send(e, "tl-run", command, W_COMMAND))
		return O_NO_CHANNEL;
	p = engine_pump(e, now_mono() + timeout);
	if (p == O_TIMEOUT || p == O_HANG || p == O_DEADLOCK || p == O_KERNEL_BUG) {
		/*
		 * interrupt the command (the shell has a controlling tty); after
		 * a kernel report it may still run, and evidence needs the shell
		 */
		engine_console_send(e, "\003");
		/* as long as the step had, at most 5 s, for the prompt to come back */
		if (engine_pump(e, now_mono() + (timeout < 5 ? timeout : 5)) != O_DONE) {
			e->cmd_rc = -1;
			e->serial_busy = true;	/* the shell did not answer: it is wedged */
		}
	}
	e->wait = W_NONE;
	return p;
}

enum outcome engine_serial_command(struct engine *e, const char *command, double timeout)
{
	return serial_run(e, command, timeout, false, NULL);
}

bool engine_have_ssh(struct engine *e)
{
	if (!e->ssh && e->ssh_later)
		engine_ssh_connect(e);
	return e->ssh != NULL;
}

void engine_ssh_later(struct engine *e)
{
	e->ssh_later = true;
}

enum channel engine_pick(struct engine *e, enum channel c)
{
	if (c == CHAN_AUTO)
		return engine_have_ssh(e) ? CHAN_SSH : CHAN_SERIAL;
	return c;
}

/* Run @command over SSH; stdout+stderr into e->cmd_out (stderr after stdout). */
static enum outcome ssh_command(struct engine *e, const char *command, double timeout,
				    struct strbuf *err_out)
{
	struct guest_job *job = NULL;
	enum outcome p;

	strbuf_reset(&e->cmd_out);
	e->cmd_rc = -1;
	if (e->guest->start(e->ssh, command, &job))
		return O_NO_CHANNEL;
	if (!engine_add_job(e, NULL, job)) {
		e->guest->free(job);
		return O_NO_CHANNEL;
	}
	p = engine_wait_jobs(e, &job, 1, timeout);
	strbuf_add(&e->cmd_out, strbuf_str(e->guest->out(job)), e->guest->out(job)->len);
	if (err_out)
		strbuf_add(err_out, strbuf_str(e->guest->err(job)), e->guest->err(job)->len);
	e->cmd_rc = e->guest->status(job);
	/*
	 * A command cut off by a hang, deadlock or timeout keeps running until
	 * run_scenario() has taken the evidence: killed now, a process blocked
	 * in the TEE driver would wake with a fatal signal pending and change
	 * what the evidence reads (a TA in TEE_Wait() spins through its RPC:
	 * msleep_interruptible() returns at once).
	 */
	if ((p == O_HANG || p == O_DEADLOCK || p == O_TIMEOUT) && e->cmd_rc < 0) {
		for (size_t i = 0; i < e->nr_jobs; i++)
			if (e->jobs[i].job == job)
				e->jobs[i].hung = true;
	} else {
		engine_drop_job(e, job);
	}
	return p;
}

/* One guest command on the chosen channel. *err gets SSH stderr (may be NULL). */
enum outcome engine_guest_command(struct engine *e, enum channel ch, const char *command,
				      double timeout, struct strbuf *err)
{
	if (engine_pick(e, ch) == CHAN_SSH) {
		if (!engine_have_ssh(e))
			return O_NO_CHANNEL;
		return ssh_command(e, command, timeout, err);
	}
	return engine_serial_command(e, command, timeout);
}

enum outcome engine_guest_command_ok(struct engine *e, enum channel ch, const char *command,
				     double timeout, const char *what, struct step_report *r)
{
	enum outcome p = engine_guest_command(e, ch, command, timeout, NULL);

	if (p == O_DONE && e->cmd_rc)
		r->msg = xasprintf("%s failed (status %d): %s", what, e->cmd_rc,
				   engine_tail(strbuf_str(&e->cmd_out)));
	return p;
}

/*
 * Lines of @text matching the ERE @pattern; *first (if @first) gets a copy
 * of the first one, or NULL. @stop_at_first ends the scan there.
 */
size_t engine_match_lines(const char *text, const char *pattern, bool stop_at_first, char **first)
{
	regex_t re;
	char *copy = NULL, *save = NULL;
	size_t n = 0;

	if (first)
		*first = NULL;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return 0;	/* validated by the parser: not reached */
	copy = xstrdup(text ? text : "");
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (regexec(&re, l, 0, NULL, 0))
			continue;
		if (!n++ && first)
			*first = xstrdup(l);
		if (stop_at_first)
			break;
	}
	free(copy);
	regfree(&re);
	return n;
}

static bool output_matches(const char *pattern, const char *out)
{
	return engine_match_lines(out, pattern, true, NULL) > 0;
}

void engine_save_step_file(struct engine *e, size_t n, const char *suffix, const char *data)
{
	char *dir = path_join(e->dir, "steps");
	char *path = xasprintf("%s/%02zu-%s", dir, n + 1, suffix);

	if (!mkdir_p(dir, 0755))
		write_file_str(path, data);
	free(dir);
	free(path);
}

/* A bounded tail of @s for results. */
const char *engine_tail(const char *s)
{
	size_t len = strlen(s);

	return len > OUTPUT_KEEP ? s + len - OUTPUT_KEEP : s;
}

/* Check a finished command: exit status, output pattern, xtest results. */
enum verdict engine_check_command(struct engine *e, const struct scenario_step *st,
				  const char *out, int rc, char **msg)
{
	if (st->parser && !strcmp(st->parser, "xtest")) {
		struct xtest_report rep = XTEST_REPORT_INIT;
		size_t xpass;

		xtest_parse(out, &rep);
		xpass = xtest_apply_known(&rep, e->cfg->secure.known, e->cfg->secure.nr_known);
		xtest_report_to_results(&rep, e->res);
		if (rep.have_summary && xpass)
			*msg = xasprintf("xtest: %zu case(s) listed in configs/known-failures/%s.yaml "
					 "passed", xpass, e->cfg->secure.name);
		else if (rep.have_summary && rep.cases_failed > 0)
			*msg = xasprintf("xtest: %ld of %ld test cases failed", rep.cases_failed,
					 rep.cases_total);
		else if (!rep.have_summary)
			*msg = xstrdup("xtest: no summary in the output (did it run?)");
		xtest_report_release(&rep);
	}
	if (!*msg && rc != st->expect_exit)
		*msg = xasprintf("exit status %d, expected %d", rc, st->expect_exit);
	if (!*msg && st->expect_output && !output_matches(st->expect_output, out))
		*msg = xasprintf("no output line matches /%s/", st->expect_output);
	return *msg ? V_FAIL : V_PASS;
}

void engine_ssh_disconnect(struct engine *e)
{
	e->ssh_later = false;
	engine_drop_all_jobs(e);
	e->guest->close(e->ssh);
	e->ssh = NULL;
}

void engine_ssh_connect(struct engine *e)
{
	int ret;

	e->ssh_later = false;
	if (!e->ssh_port || e->ssh)
		return;
	engine_stage_begin(e, "connecting over SSH");
	ret = e->guest->connect(&e->ssh, e->m.ssh_host, e->ssh_port, "root", e->ssh_key,
				SSH_CONNECT_TIMEOUT);
	if (ret) {
		e->ssh = NULL;
		warning("no SSH to the guest (port %d); guest commands use the serial shell",
			e->ssh_port);
	}
	classifier_progress(&e->cls, now_mono());
}

/* --gdb: where this boot put the lab modules, into <run>/gdb/modules.gdb (gdbscript.h). */
static void gdb_modules(struct engine *e, double timeout)
{
	char *cmd = gdbscript_modules_command(e->im);

	if (cmd && engine_serial_command(e, cmd, timeout) == O_DONE &&
	    !gdbscript_write_modules(e->dir, e->im, strbuf_str(&e->cmd_out)))
		info("gdb: the lab modules' addresses of boot %d are in %s/gdb/modules.gdb "
		     "(teelab-modules in gdb)", e->boot, e->dir);
	free(cmd);
}

int engine_personalise(struct engine *e, bool restored, double timeout)
{
	struct strbuf cmd = STRBUF_INIT;
	char *after = NULL;
	enum outcome p;
	int ret = 0;

	if (e->m.ops->guest || e->m.spec.cfg->replay)
		return 0;	/* a replayed machine: nothing runs there */
	if (e->ssh_port && e->ssh_pub) {
		/* "ssh-ed25519 <base64>": teelab's own key, no shell metacharacters */
		/* /init made /root/.ssh (0700); builtins only (serial_type()) */
		strbuf_addf(&cmd, "umask 077 && echo '%s teelab' >/root/.ssh/authorized_keys", e->ssh_pub);
	}
	if (restored) {
		unsigned char rnd[32];
		struct timespec ts;

		/* the snapshot's clock stopped when it was saved; its RNG state is every restore's */
		clock_gettime(CLOCK_REALTIME, &ts);
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		/*
		 * builtins before the END marker; date is a process: it sets the
		 * clock right after (while the SSH connection is made)
		 */
		after = xasprintf("date -u -s @%lld >/dev/null 2>&1", (long long)ts.tv_sec);
		strbuf_addstr(&cmd, cmd.len ? " && echo " : "echo ");
		for (size_t i = 0; i < sizeof(rnd); i++)
			strbuf_addf(&cmd, "%02x", rnd[i]);
		strbuf_addstr(&cmd, " >/dev/urandom");
	}
	if (cmd.len) {
		p = serial_run(e, strbuf_str(&cmd), timeout, true, after);
		if (p != O_DONE || e->cmd_rc != 0)
			ret = -EIO;
	}
	strbuf_release(&cmd);
	free(after);
	if (!ret && e->opt->gdb)
		gdb_modules(e, timeout);
	return ret;
}

enum outcome engine_wait_ready(struct engine *e, double timeout)
{
	enum outcome p;

	e->wait = W_READY;
	e->matched = false;
	p = engine_pump(e, now_mono() + timeout);
	if (p == O_DONE && !e->matched)
		return O_DONE;	/* the command's END marker: the caller looks at cmd_rc */
	e->wait = W_NONE;
	if (p == O_DONE) {
		classifier_progress(&e->cls, now_mono());
		/* before anything of this run's own goes in: the snapshot is every run's */
		if (e->snap_save && !e->m.ops->guest) {
			/*
			 * the console shell started and answering (an empty command)
			 * before the save: a restored lab answers at once
			 */
			if (engine_serial_command(e, "true", SERIAL_SETUP_TIMEOUT) == O_DONE &&
			    e->cmd_rc == 0)
				engine_snapshot_save(e);
			else
				e->snap_save = false;
		}
		if (engine_personalise(e, false, SERIAL_SETUP_TIMEOUT))
			warning("the serial shell did not take this run's SSH key: guest commands "
				"use the serial shell");
		else
			engine_ssh_later(e);
	}
	return p;
}
