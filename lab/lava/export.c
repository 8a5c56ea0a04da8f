// SPDX-License-Identifier: MIT
/*
 * export.c - write a scenario as a LAVA job (lava.h): job.yaml, the
 * images, device.yaml for lava-run here, the device dictionary for a lab
 * and mapping.json. Every YAML file goes through libyaml's emitter
 * (yamlemit.h), the mapping through jansson.
 *
 * The job (README "LAVA" has the table):
 *   deploy to tmpfs     bios, kernel (+ its command line), initrd (with
 *                       LAVA's overlay), dtb
 *   boot qemu           namespace "normal", the shell prompt
 *   expect              a new connection that replays the console's log
 *                       from its first byte (uart1: the secure world; uart0-log:
 *                       the normal world), in a namespace of its own, and
 *                       an interactive test that waits, without a command,
 *                       for the earlier expects' lines on that console and
 *                       then for its own
 *   run, sleep          consecutive ones: one inline definition, each run
 *                       one `tl-lava-case` (images/rootfs/overlay/usr/bin)
 *   poweroff            interactive: `poweroff -f`, "reboot: Power down"
 *   reboot              interactive: a marker line, `reboot -f`, the new boot's ready
 *                       marker (a normal-world expect after it starts at the marker)
 *   assert              checked by `teelab import lava` on the imported console
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classify.h"
#include "lava.h"
#include "results.h"
#include "step.h"
#include "yamlemit.h"

/* LAVA connection names in the device dictionary, and what they replay */
#define CONN_SECURE "uart1"
#define CONN_NORMAL_LOG "uart0-log"
/* an interactive test needs a prompt; a replayed log has none: one never printed */
#define NO_PROMPT "@@TL:NO-PROMPT@@"
/* the shell prompt of teelab's initramfs (busybox ash as root) */
#define SHELL_PROMPT "/ # "
/* what LAVA gives its actions on top of teelab's own timeouts (seconds) */
#define LAVA_MARGIN 60

struct exporter {
	const struct lab_config *cfg;
	const struct scenario *sc;
	const struct lab_images *im;
	const struct lava_export_options *o;
	struct lava_plan plan;
	char *dir;		/* absolute */
	char *consoles;		/* where QEMU logs UART0/UART1 for lava-run here */
	json_t *steps;		/* mapping.json "steps" */
	json_t *namespaces;	/* mapping.json "namespaces": namespace -> console */
};

static void kv_seconds(struct yemit *y, const char *key, double seconds)
{
	yemit_kv_map(y, key, true);
	yemit_kv_int(y, "seconds", (long long)(seconds + 0.999));
	yemit_end(y);
}

static double step_timeout(const struct exporter *x, const struct scenario_step *st)
{
	return st->timeout > 0 ? st->timeout : x->sc->step_timeout;
}

/* ---- images ---- */

static const struct {
	const char *label, *arg;
} image_labels[] = {
	{ "bios", "-bios {bios}" },
	{ "kernel", NULL },	/* -kernel {kernel} -append "..." */
	{ "initrd", "-initrd {initrd}" },
	{ "dtb", "-dtb {dtb}" },
};

static const char *image_path(const struct lab_images *im, size_t i)
{
	const char *p[] = { im->bios, im->kernel, im->initrd, im->dtb };

	return p[i];
}

/* Copy the images into <dir>/images/ and emit deploy's "images" mapping. */
static int emit_images(struct exporter *x, struct yemit *y)
{
	char *idir = path_join(x->dir, "images");
	int ret = mkdir_p(idir, 0755);

	if (ret)
		error_errno("cannot create '%s'", idir);
	yemit_kv_map(y, "images", false);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(image_labels); i++) {
		const char *src = image_path(x->im, i), *base;
		char hex[SHA256_HEX_LEN + 1], *dst, *url;

		if (!src)
			continue;
		base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
		dst = path_join(idir, base);
		ret = copy_file(src, dst);
		if (!ret && (ret = sha256_file(dst, hex)))
			error("cannot hash '%s'", dst);
		if (x->o->image_base_url)
			url = xasprintf("%s%s%s", x->o->image_base_url,
					ends_with(x->o->image_base_url, "/") ? "" : "/", base);
		else
			url = xasprintf("file://%s", dst);
		yemit_kv_map(y, image_labels[i].label, false);
		yemit_kv_str(y, "url", url);
		yemit_kv_str(y, "sha256sum", hex);
		if (image_labels[i].arg) {
			yemit_kv_str(y, "image_arg", image_labels[i].arg);
		} else {
			char *arg = xasprintf("-kernel {kernel} -append \"%s\"", x->o->kernel_cmdline);

			yemit_kv_str(y, "image_arg", arg);
			free(arg);
		}
		if (!strcmp(image_labels[i].label, "initrd")) {
			/* LAVA unpacks it, adds its test overlay (/lava-<job>) and packs it again */
			yemit_kv_str(y, "format", "cpio.newc");
			if (ends_with(src, ".gz"))
				yemit_kv_str(y, "compression", "gz");
			yemit_kv_map(y, "overlays", false);
			yemit_kv_bool(y, "lava", true);
			yemit_end(y);
		}
		yemit_end(y);
		free(url);
		free(dst);
	}
	yemit_end(y);
	free(idir);
	return ret;
}

/* @text (NULL: an earlier error, nothing written) into <export dir>/@name; 0 or -errno (reported). */
static int write_out(const struct exporter *x, const char *name, const char *text)
{
	char *path = path_join(x->dir, name);
	int ret = text ? write_file_str(path, text) : -EINVAL;

	if (text && ret)
		error_errno("cannot write '%s'", path);
	free(path);
	return ret;
}

/* ---- the job's actions ---- */

static void map_step(struct exporter *x, size_t i, const char *form, const char *definition,
		     const char *ns)
{
	const struct scenario_step *st = &x->sc->steps[i];
	const struct lava_step *ls = &x->plan.steps[i];
	json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "n", (json_int_t)i + 1, "name",
			      st->name, "kind", st->ops->name, "line", (json_int_t)st->line,
			      "form", form);

	if (definition) {
		json_object_set_new(o, "definition", json_string(definition));
		json_object_set_new(o, "case", json_string(ls->tcase));
	}
	if (ns)
		json_object_set_new(o, "namespace", json_string(ns));
	if (ls->why)
		json_object_set_new(o, "dropped", json_string(ls->why));
	if (st->xfail)
		json_object_set_new(o, "xfail", json_string(st->xfail));
	if (st->parser)
		json_object_set_new(o, "parser", json_string(st->parser));
	if (st->ops == &step_assert || st->ops == &step_expect)
		json_object_set_new(o, "console", json_string(console_name(st->console)));
	if (st->ops == &step_assert) {
		json_t *a = json_array();

		for (size_t k = 0; k < st->nr_absent; k++)
			json_array_append_new(a, json_string(st->absent[k]));
		json_object_set_new(o, "absent", a);
	}
	json_array_append_new(x->steps, o);
}

/* The line a reboot step prints before `reboot -f`: where the normal console's next boot starts. */
static char *reboot_marker(size_t i)
{
	return xasprintf("@@TL:REBOOT:%02zu@@", i + 1);
}

/* An interactive test: one named item per name, items with no name wait silently. */
static void interactive_start(struct yemit *y, const char *ns, double timeout, const char *name,
			      const char *prompt)
{
	yemit_map(y, false);
	yemit_kv_map(y, "test", false);
	yemit_kv_str(y, "namespace", ns);
	yemit_kv_str(y, "connection-namespace", ns);
	kv_seconds(y, "timeout", timeout);
	yemit_kv_seq(y, "interactive", false);
	yemit_map(y, false);
	yemit_kv_str(y, "name", name);
	yemit_kv_seq(y, "prompts", true);
	yemit_str(y, prompt);
	yemit_end(y);
	yemit_kv_seq(y, "script", false);
}

static void interactive_end(struct yemit *y)
{
	yemit_end(y);	/* script */
	yemit_end(y);	/* the test */
	yemit_end(y);	/* interactive */
	yemit_end(y);	/* test */
	yemit_end(y);	/* the action */
}

/* One script item: @command (NULL: send nothing), then wait for @python_re. */
static void interactive_item(struct yemit *y, const char *name, const char *command,
			     const char *python_re)
{
	yemit_map(y, false);
	if (name)
		yemit_kv_str(y, "name", name);
	yemit_key(y, "command");
	if (command)
		yemit_str(y, command);
	else
		yemit_null(y);
	yemit_kv_seq(y, "successes", false);
	yemit_map(y, false);
	yemit_kv_str(y, "message", python_re);
	yemit_end(y);
	yemit_end(y);
	yemit_kv_bool(y, "wait_for_prompt", false);
	yemit_end(y);
}

static void boot_connection(struct yemit *y, const char *ns, const char *connection)
{
	yemit_map(y, false);
	yemit_kv_map(y, "boot", false);
	yemit_kv_str(y, "namespace", ns);
	yemit_kv_str(y, "method", "new_connection");
	yemit_kv_str(y, "connection", connection);
	kv_seconds(y, "timeout", 60);
	yemit_end(y);
	yemit_end(y);
}

/*
 * An expect step: a fresh connection replaying its console from the first
 * byte, the patterns of the earlier expects on that console waited for in
 * order (teelab's cursor), then its own, `count` times.
 */
static void emit_expect(struct exporter *x, struct yemit *y, size_t i)
{
	const struct scenario_step *st = &x->sc->steps[i];
	const char *why;
	char *ns = xasprintf("%s-%02zu", st->console == CON_SECURE ? "secure" : "normal-log", i + 1);
	char *test = xasprintf("expect-%02zu", i + 1);
	struct strbuf re = STRBUF_INIT;

	size_t first = 1;

	boot_connection(y, ns, st->console == CON_SECURE ? CONN_SECURE : CONN_NORMAL_LOG);
	interactive_start(y, ns, step_timeout(x, st), test, NO_PROMPT);
	/* teelab's normal-world cursor restarts at a reboot: at its marker here */
	for (size_t k = 1; k < i && st->console == CON_NORMAL; k++)
		if (x->plan.steps[k].form == LAVA_FORM_REBOOT)
			first = k;
	if (first > 1) {
		char *marker = reboot_marker(first);

		interactive_item(y, NULL, NULL, marker);
		free(marker);
	}
	for (size_t k = first; k < i; k++) {
		const struct scenario_step *p = &x->sc->steps[k];

		if (p->ops != &step_expect || p->console != st->console ||
		    x->plan.steps[k].form == LAVA_FORM_NONE)
			continue;
		for (unsigned c = 0; c < (p->count ? p->count : 1); c++) {
			strbuf_reset(&re);
			lava_pattern(p->pattern, &re, &why);
			interactive_item(y, NULL, NULL, strbuf_str(&re));
		}
	}
	strbuf_reset(&re);
	lava_pattern(st->pattern, &re, &why);
	for (unsigned c = 0; c < (st->count ? st->count : 1); c++) {
		char *name = c ? xasprintf("%s.%u", x->plan.steps[i].tcase, c + 1)
			       : xstrdup(x->plan.steps[i].tcase);

		interactive_item(y, name, NULL, strbuf_str(&re));
		free(name);
	}
	interactive_end(y);
	map_step(x, i, "expect", test, ns);
	json_object_set_new(x->namespaces, ns, json_string(console_name(st->console)));
	strbuf_release(&re);
	free(ns);
	free(test);
}

/* The `tl-lava-case` line of a run step: names, numbers and base64 only. */
static char *run_line(const struct exporter *x, size_t i)
{
	const struct scenario_step *st = &x->sc->steps[i];
	char *cmd = base64_str(st->command);
	char *re = st->expect_output ? base64_str(st->expect_output) : xstrdup("-");
	char *line = xasprintf("tl-lava-case %s %.0f %d %s %s %s", x->plan.steps[i].tcase,
			       step_timeout(x, st), st->expect_exit, re,
			       st->parser ? st->parser : "-", cmd);

	free(cmd);
	free(re);
	return line;
}

/* Run and sleep steps from @i on, up to the next other step: one inline definition. */
static size_t emit_definition(struct exporter *x, struct yemit *y, size_t i)
{
	char *name = xasprintf("steps-%02zu", i + 1), *path;
	double timeout = LAVA_MARGIN;
	size_t end = i;

	while (end < x->sc->nr_steps && (x->plan.steps[end].form == LAVA_FORM_RUN ||
					 x->plan.steps[end].form == LAVA_FORM_SLEEP ||
					 x->plan.steps[end].form == LAVA_FORM_NONE)) {
		const struct scenario_step *st = &x->sc->steps[end];

		if (x->plan.steps[end].form == LAVA_FORM_SLEEP)
			timeout += *(const double *)st->data;
		else if (x->plan.steps[end].form == LAVA_FORM_RUN)
			timeout += step_timeout(x, st);
		end++;
	}
	yemit_map(y, false);
	yemit_kv_map(y, "test", false);
	yemit_kv_str(y, "namespace", "normal");
	kv_seconds(y, "timeout", timeout);
	yemit_kv_seq(y, "definitions", false);
	yemit_map(y, false);
	yemit_kv_str(y, "from", "inline");
	yemit_kv_str(y, "name", name);
	path = xasprintf("inline/%s.yaml", name);
	yemit_kv_str(y, "path", path);
	free(path);
	yemit_kv_map(y, "repository", false);
	yemit_kv_map(y, "metadata", false);
	yemit_kv_str(y, "format", "Lava-Test Test Definition 1.0");
	yemit_kv_str(y, "name", name);
	yemit_kv_str(y, "description", x->sc->description ? x->sc->description : x->sc->name);
	yemit_end(y);
	yemit_kv_map(y, "run", false);
	yemit_kv_seq(y, "steps", false);
	for (size_t k = i; k < end; k++) {
		const struct scenario_step *st = &x->sc->steps[k];
		char *line = NULL;

		if (x->plan.steps[k].form == LAVA_FORM_RUN) {
			line = run_line(x, k);
			map_step(x, k, "run", name, "normal");
		} else if (x->plan.steps[k].form == LAVA_FORM_SLEEP) {
			line = xasprintf("sleep %.0f", *(const double *)st->data);
			map_step(x, k, "sleep", NULL, "normal");
		} else {
			map_step(x, k, "dropped", NULL, NULL);
		}
		if (line)
			yemit_str(y, line);
		free(line);
	}
	yemit_end(y);	/* steps */
	yemit_end(y);	/* run */
	yemit_end(y);	/* repository */
	yemit_end(y);	/* the definition */
	yemit_end(y);	/* definitions */
	yemit_end(y);	/* test */
	yemit_end(y);	/* the action */
	free(name);
	return end;
}

static void emit_poweroff(struct exporter *x, struct yemit *y, size_t i)
{
	char *test = xasprintf("poweroff-%02zu", i + 1);

	/*
	 * Wait for the kernel's last line before PSCI SYSTEM_OFF
	 * (kernel/reboot.c), not for a prompt: the one the last test left
	 * in LAVA's buffer would match first.
	 */
	interactive_start(y, "normal", step_timeout(x, &x->sc->steps[i]), test, NO_PROMPT);
	interactive_item(y, x->plan.steps[i].tcase, "poweroff -f", "reboot: Power down");
	interactive_end(y);
	map_step(x, i, "poweroff", test, "normal");
	free(test);
}

/*
 * reboot: print a marker, `reboot -f` (PSCI SYSTEM_RESET through TF-A
 * again), and wait for the new boot's ready marker. The initramfs LAVA
 * deployed (with its overlay) is loaded again, so later definitions run.
 */
static void emit_reboot(struct exporter *x, struct yemit *y, size_t i)
{
	char *test = xasprintf("reboot-%02zu", i + 1), *marker = reboot_marker(i);
	char *cmd = xasprintf("echo %s; sync; reboot -f", marker);

	interactive_start(y, "normal", step_timeout(x, &x->sc->steps[i]) + x->sc->boot_timeout,
			  test, NO_PROMPT);
	interactive_item(y, x->plan.steps[i].tcase, cmd, READY_MARKER);
	yemit_end(y);	/* script */
	yemit_end(y);	/* the test */
	/*
	 * An interactive test leaves its prompts as the connection's: a second
	 * one, waiting for the shell's prompt after a command, puts the shell
	 * prompt back for the lava-test-shell actions that follow.
	 */
	yemit_map(y, false);
	yemit_kv_str(y, "name", "shell-prompt");
	yemit_kv_seq(y, "prompts", true);
	yemit_str(y, SHELL_PROMPT);
	yemit_end(y);
	yemit_kv_seq(y, "script", false);
	yemit_map(y, false);
	yemit_kv_str(y, "command", "true");
	yemit_end(y);
	yemit_end(y);	/* script */
	yemit_end(y);	/* the test */
	yemit_end(y);	/* interactive */
	yemit_end(y);	/* test */
	yemit_end(y);	/* the action */
	map_step(x, i, "reboot", test, "normal");
	free(cmd);
	free(marker);
	free(test);
}

static void emit_metadata(struct exporter *x, struct yemit *y)
{
	yemit_kv_map(y, "metadata", false);
	yemit_kv_str(y, "teelab.scenario", x->sc->name);
	if (x->sc->cell)
		yemit_kv_str(y, "teelab.cell", x->sc->cell->name);
	yemit_kv_str(y, "teelab.profile", x->cfg->profile);
	yemit_kv_str(y, "teelab.kernel", x->cfg->kernel.name);
	yemit_kv_str(y, "teelab.secure", x->cfg->secure.name);
	yemit_kv_str(y, "teelab.version", teelab_version());
	if (x->plan.nr_dropped) {
		/* the job's description of what --lossy left out (no other free text passes the schema) */
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "exported with --lossy: %zu step(s) of %s not carried:",
			    x->plan.nr_dropped, x->sc->path);
		for (size_t i = 0; i < x->plan.nr; i++)
			if (x->plan.steps[i].why)
				strbuf_addf(&sb, "\n- step %zu '%s' (%s, line %u): %s", i + 1,
					    x->sc->steps[i].name, x->sc->steps[i].ops->name,
					    x->sc->steps[i].line, x->plan.steps[i].why);
		yemit_key(y, "teelab.dropped");
		yemit_text(y, strbuf_str(&sb));
		strbuf_release(&sb);
	}
	yemit_end(y);
}

/* "-accel tcg,thread=..." as teelab's own QEMU runs the machine (config.h tcg_thread), malloc'd */
static char *accel_option(const struct machine_cfg *m)
{
	return xasprintf("-accel tcg,thread=%s", machine_tcg_thread(m));
}

static int write_job(struct exporter *x)
{
	const struct machine_cfg *m = &x->cfg->machine;
	struct yemit y;
	char *text, *s;
	int ret;

	yemit_init(&y);
	yemit_map(&y, false);
	s = xasprintf("teelab %s%s%s%s", x->sc->name, x->sc->cell ? " cell " : "",
		      x->sc->cell ? x->sc->cell->name : "", x->plan.nr_dropped ? " (lossy)" : "");
	yemit_kv_str(&y, "job_name", s);
	free(s);
	yemit_kv_str(&y, "device_type", "qemu");
	yemit_kv_str(&y, "visibility", "public");
	yemit_kv_str(&y, "priority", "medium");
	yemit_kv_map(&y, "timeouts", false);
	kv_seconds(&y, "job", x->sc->run_timeout + 2 * LAVA_MARGIN);
	kv_seconds(&y, "action", x->sc->step_timeout + LAVA_MARGIN);
	kv_seconds(&y, "connection", x->sc->step_timeout + LAVA_MARGIN);
	yemit_end(&y);
	/* the machine, as a lab's qemu.jinja2 renders it from the job's context */
	yemit_kv_map(&y, "context", false);
	yemit_kv_str(&y, "arch", "arm64");
	s = xasprintf("virt,secure=on,virtualization=off,gic-version=%d", m->gic_version);
	yemit_kv_str(&y, "machine", s);
	free(s);
	yemit_kv_str(&y, "cpu", m->cpu);
	yemit_kv_int(&y, "memory", m->memory_mb);
	yemit_kv_seq(&y, "extra_options", false);
	s = xasprintf("-smp %d", m->smp);
	yemit_str(&y, s);
	free(s);
	s = accel_option(m);
	yemit_str(&y, s);
	free(s);
	for (size_t i = 0; i < m->extra_args.nr; i++)
		yemit_str(&y, m->extra_args.v[i]);
	yemit_end(&y);
	yemit_end(&y);
	emit_metadata(x, &y);

	yemit_kv_seq(&y, "actions", false);
	/* deploy */
	yemit_map(&y, false);
	yemit_kv_map(&y, "deploy", false);
	yemit_kv_str(&y, "namespace", "normal");
	yemit_kv_str(&y, "to", "tmpfs");
	kv_seconds(&y, "timeout", 300);
	ret = emit_images(x, &y);
	yemit_end(&y);
	yemit_end(&y);
	/* boot */
	yemit_map(&y, false);
	yemit_kv_map(&y, "boot", false);
	yemit_kv_str(&y, "namespace", "normal");
	yemit_kv_str(&y, "method", "qemu");
	yemit_kv_str(&y, "media", "tmpfs");
	kv_seconds(&y, "timeout", x->sc->boot_timeout);
	yemit_kv_seq(&y, "prompts", true);
	yemit_str(&y, SHELL_PROMPT);
	yemit_end(&y);
	yemit_end(&y);
	yemit_end(&y);
	/* LAVA's auto-login result: the shell answered */
	map_step(x, 0, "boot", "lava", "normal");
	json_object_set_new(x->namespaces, "normal", json_string("normal"));
	json_object_set(json_array_get(x->steps, 0), "case", json_string("login-action"));

	for (size_t i = 1; i < x->plan.nr;) {
		switch (x->plan.steps[i].form) {
		case LAVA_FORM_EXPECT:
			emit_expect(x, &y, i++);
			break;
		case LAVA_FORM_POWEROFF:
			emit_poweroff(x, &y, i++);
			break;
		case LAVA_FORM_REBOOT:
			emit_reboot(x, &y, i++);
			break;
		case LAVA_FORM_IMPORT:
			map_step(x, i++, "import", NULL, NULL);
			break;
		default:
			i = emit_definition(x, &y, i);
		}
	}
	yemit_end(&y);	/* actions */
	yemit_end(&y);
	if (yemit_finish(&y, &text))
		return -EINVAL;
	if (!ret)
		ret = write_out(x, "job.yaml", text);
	free(text);
	return ret;
}

/* ---- the device ---- */

/* QEMU's serial options: UART0 on stdio (LAVA's connection) also into a log, UART1 into one. */
static char *serial_options(const char *uart0_log, const char *uart1_log)
{
	return xasprintf("-chardev stdio,id=uart0,signal=off,logfile=%s -serial chardev:uart0 "
			 "-chardev file,id=uart1,path=%s -serial chardev:uart1", uart0_log, uart1_log);
}

/* device.yaml: the qemu device type rendered for `lava-run` on this machine. */
static int write_device(struct exporter *x)
{
	const struct machine_cfg *m = &x->cfg->machine;
	char *uart0 = path_join(x->consoles, "uart0.log"), *uart1 = path_join(x->consoles, "uart1.log");
	char *text = NULL, *s;
	struct yemit y;
	int ret;

	yemit_init(&y);
	yemit_map(&y, false);
	yemit_kv_seq(&y, "available_architectures", false);
	yemit_str(&y, "arm64");
	yemit_end(&y);
	yemit_kv_map(&y, "constants", false);
	yemit_kv_map(&y, "posix", false);
	yemit_kv_str(&y, "lava_test_sh_cmd", "/bin/sh");
	yemit_kv_str(&y, "lava_test_results_dir", "/lava-%s");
	yemit_kv_str(&y, "lava_test_shell_file", "~/.bashrc");
	yemit_end(&y);
	yemit_kv_str(&y, "kernel-start-message", "Linux version [0-9]");
	yemit_kv_str(&y, "default-shell-prompt", "lava-test: # ");
	yemit_kv_str(&y, "spawn_maxread", "4092");
	yemit_kv_int(&y, "failure_retry", 1);
	yemit_kv_null(&y, "boot_retry");
	yemit_end(&y);
	/* required by the device schema (lava_common/schemas/device.py) */
	yemit_kv_map(&y, "parameters", false);
	yemit_kv_null(&y, "pass");
	yemit_end(&y);
	yemit_kv_map(&y, "commands", false);
	yemit_kv_map(&y, "connections", false);
	for (int k = 0; k < 2; k++) {
		yemit_kv_map(&y, k ? CONN_NORMAL_LOG : CONN_SECURE, false);
		s = xasprintf("tail -c +1 -F %s", k ? uart0 : uart1);
		yemit_kv_str(&y, "connect", s);
		free(s);
		/* a connection with tags is chosen by its name (lava_dispatcher/connections/serial.py) */
		yemit_kv_seq(&y, "tags", true);
		yemit_str(&y, "teelab");
		yemit_end(&y);
		yemit_end(&y);
	}
	yemit_end(&y);
	yemit_end(&y);
	yemit_kv_map(&y, "actions", false);
	yemit_kv_map(&y, "deploy", false);
	yemit_kv_map(&y, "connections", false);
	yemit_kv_null(&y, "serial");
	yemit_end(&y);
	/* deploy to tmpfs is the "image" method; its guest disk is required, not used */
	yemit_kv_map(&y, "methods", false);
	yemit_kv_map(&y, "image", false);
	yemit_kv_map(&y, "parameters", false);
	yemit_kv_map(&y, "guest", true);
	yemit_kv_int(&y, "size", 512);
	yemit_kv_str(&y, "interface", "virtio");
	yemit_kv_str(&y, "driveid", "lavatest");
	yemit_end(&y);
	yemit_end(&y);
	yemit_end(&y);
	yemit_end(&y);
	yemit_end(&y);
	yemit_kv_map(&y, "boot", false);
	yemit_kv_map(&y, "connections", false);
	yemit_kv_null(&y, "serial");
	yemit_end(&y);
	yemit_kv_map(&y, "methods", false);
	yemit_kv_map(&y, "qemu", false);
	yemit_kv_map(&y, "parameters", false);
	yemit_kv_str(&y, "command", m->qemu);
	yemit_kv_seq(&y, "options", false);
	yemit_str(&y, "-nographic");
	s = xasprintf("-machine virt,secure=on,virtualization=off,gic-version=%d", m->gic_version);
	yemit_str(&y, s);
	free(s);
	s = xasprintf("-cpu %s", m->cpu);
	yemit_str(&y, s);
	free(s);
	s = xasprintf("-smp %d", m->smp);
	yemit_str(&y, s);
	free(s);
	s = xasprintf("-m %d", m->memory_mb);
	yemit_str(&y, s);
	free(s);
	s = accel_option(m);
	yemit_str(&y, s);
	free(s);
	yemit_str(&y, "-monitor none");
	yemit_str(&y, "-nic none");
	s = serial_options(uart0, uart1);
	yemit_str(&y, s);
	free(s);
	for (size_t i = 0; i < m->extra_args.nr; i++)
		yemit_str(&y, m->extra_args.v[i]);
	yemit_end(&y);	/* options */
	yemit_end(&y);	/* parameters */
	yemit_end(&y);	/* qemu */
	yemit_end(&y);	/* methods */
	yemit_end(&y);	/* boot */
	yemit_end(&y);	/* actions */
	/* the device schema wants both; the job's own timeouts are what count */
	yemit_kv_map(&y, "timeouts", false);
	yemit_kv_map(&y, "actions", false);
	kv_seconds(&y, "power-off", 10);
	yemit_end(&y);
	yemit_kv_map(&y, "connections", false);
	kv_seconds(&y, "lava-test-shell", 10);
	yemit_end(&y);
	yemit_end(&y);
	yemit_end(&y);
	yemit_finish(&y, &text);
	ret = write_out(x, "device.yaml", text);
	free(text);
	free(uart0);
	free(uart1);
	return ret;
}

/*
 * device-dictionary.jinja2: what a lab admin gives a qemu device so that
 * teelab's jobs find the secure console (Jinja2, LAVA's device format;
 * lava-server's qemu.jinja2 puts `serial` among QEMU's options for arm64).
 */
static int write_dictionary(struct exporter *x)
{
	const char *dir = "/var/lib/lava/dispatcher/tmp";
	char *uart0 = xasprintf("%s/teelab-qemu01-uart0.log", dir);
	char *uart1 = xasprintf("%s/teelab-qemu01-uart1.log", dir);
	char *serial = serial_options(uart0, uart1);
	char *text = xasprintf(
		"{# teelab: a qemu device for `teelab export lava` jobs (README \"LAVA\").\n"
		"   UART0 (the normal world) stays LAVA's serial connection on QEMU's stdio\n"
		"   and is also logged; UART1 (the secure world: TF-A, OP-TEE) goes to a\n"
		"   file from power-on. The connections replay each log from its first\n"
		"   byte, so nothing printed before LAVA connects is lost. One file pair\n"
		"   per device: rename teelab-qemu01 for each. #}\n"
		"{%% extends 'qemu.jinja2' %%}\n"
		"{%% set serial = '%s' %%}\n"
		"{%% set connection_list = ['%s', '%s'] %%}\n"
		"{%% set connection_commands = {'%s': 'tail -c +1 -F %s', '%s': 'tail -c +1 -F %s'} %%}\n"
		"{# tags make LAVA pick a connection by its name; an empty list renders as\n"
		"   null, which lava-server's device schema refuses (the device goes Bad) #}\n"
		"{%% set connection_tags = {'%s': ['teelab'], '%s': ['teelab']} %%}\n",
		serial, CONN_SECURE, CONN_NORMAL_LOG, CONN_SECURE, uart1, CONN_NORMAL_LOG, uart0,
		CONN_SECURE, CONN_NORMAL_LOG);
	int ret = write_out(x, "device-dictionary.jinja2", text);

	free(text);
	free(serial);
	free(uart0);
	free(uart1);
	return ret;
}

/* dispatcher.yaml: lava-run's qemu boot wants the dispatcher's address (no default route here) */
static int write_dispatcher(struct exporter *x)
{
	struct yemit y;
	char *text;
	int ret;

	yemit_init(&y);
	yemit_map(&y, false);
	yemit_kv_str(&y, "dispatcher_ip", "127.0.0.1");
	yemit_end(&y);
	yemit_finish(&y, &text);
	ret = write_out(x, "dispatcher.yaml", text);
	free(text);
	return ret;
}

static int write_mapping(struct exporter *x)
{
	json_t *dropped = json_array(), *ignore = json_array();
	json_t *root;
	char *path = path_join(x->dir, "mapping.json");
	int ret;

	for (size_t i = 0; i < x->plan.nr; i++)
		if (x->plan.steps[i].why)
			json_array_append_new(dropped, json_integer((json_int_t)i + 1));
	for (int k = 1; k < KREPORT_COUNT; k++)
		if (x->sc->kernel_bugs_ignore & (1u << k))
			json_array_append_new(ignore, json_string(kreport_kind_name(k)));
	root = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:o, s:o, s:O, s:O}",
			 "teelab_version", teelab_version(), "scenario", x->sc->name,
			 "scenario_path", x->sc->path, "cell", x->sc->cell ? x->sc->cell->name : NULL,
			 "expected", scenario_expected(x->sc), "profile", x->cfg->profile,
			 "kernel", x->cfg->kernel.name, "secure", x->cfg->secure.name,
			 "dropped", dropped, "ignore_kernel_bugs", ignore,
			 "namespaces", x->namespaces, "steps", x->steps);
	ret = json_dump_file(root, path, JSON_INDENT(1) | JSON_SORT_KEYS) ? -EIO : 0;
	if (ret)
		error("cannot write '%s'", path);
	json_decref(root);
	free(path);
	return ret;
}

int lava_export(const struct lab_config *cfg, const struct scenario *sc,
		const struct lab_images *im, const struct lava_export_options *o)
{
	struct exporter x = { .cfg = cfg, .sc = sc, .im = im, .o = o };
	int ret;

	if (strpbrk(o->kernel_cmdline, "\"\\$`"))
		return error_code(-EINVAL, "%s: the kernel command line '%s' holds a quote, "
				  "'\\', '$' or '`': LAVA puts it in a QEMU command line of "
				  "its own", sc->path, o->kernel_cmdline);
	ret = lava_plan(sc, o->lossy, &x.plan);
	if (ret)
		return ret;
	if (mkdir_p(o->out_dir, 0755)) {
		lava_plan_release(&x.plan);
		return error_errno("cannot create '%s'", o->out_dir);
	}
	x.dir = realpath(o->out_dir, NULL);
	x.consoles = path_join(x.dir, "consoles");
	x.steps = json_array();
	x.namespaces = json_object();
	ret = mkdir_p(x.consoles, 0755);
	if (ret)
		error_errno("cannot create '%s'", x.consoles);
	if (!ret)
		ret = write_job(&x);
	if (!ret)
		ret = write_device(&x);
	if (!ret)
		ret = write_dictionary(&x);
	if (!ret)
		ret = write_dispatcher(&x);
	if (!ret)
		ret = write_mapping(&x);
	json_decref(x.steps);
	json_decref(x.namespaces);
	lava_plan_release(&x.plan);
	free(x.consoles);
	free(x.dir);
	return ret;
}
