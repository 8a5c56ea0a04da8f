/* SPDX-License-Identifier: MIT */
/*
 * step.h - step kinds: one struct step_ops per kind of scenario step, in
 * lab/steps/<family>.c, registered in one table that both the scenario
 * parser (scenario.c) and the run engine (run.c) use.
 *
 * Adding a kind is one new file in lab/steps/ (or one more ops in a
 * family's file): define `const struct step_ops step_<name> = { ... };`
 * at the start of a line; the Makefile collects every such definition
 * into the table (build/step_table.h, read by step.c). The kind's
 * options, shorthand forms, parser, generated name and what it does in a
 * run are all in that one place. See lab/steps/sleep.c for the smallest.
 */
#ifndef TEELAB_STEP_H
#define TEELAB_STEP_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"
#include "scenario.h"
#include "util.h"
#include "yamltree.h"

struct engine;

/*
 * How a step ended, as the run engine saw it (its event loop's result).
 * What each one means for the step's verdict, for the rest of the run and
 * for evidence is decided in one table (lab/engine/outcomes.c).
 */
enum outcome {
	O_DONE,		/* what the step waited for happened (it may still have failed: see msg) */
	O_TIMEOUT,	/* the step's own timeout */
	O_RUN_TIMEOUT,	/* the whole run's timeout (timeouts.run) */
	O_EXITED,	/* QEMU exited or did not start: the lab's failure (INFRA) */
	O_NO_CHANNEL,	/* no way to reach the guest for a command (no SSH, SSH refused) */
	O_WEDGED,	/* the serial shell never finished an earlier command: it answers no more */
	O_INTERRUPTED,	/* SIGINT/SIGTERM to teelab */
	O_KERNEL_PANIC,	/* "Kernel panic - not syncing" on the normal world */
	O_TEE_PANIC,	/* OP-TEE "Panic at" / an assertion on the secure world */
	O_KERNEL_BUG,	/* a kernel report on the normal world, complete (classify.h) */
	O_HANG,		/* no console line and no step completion for the hang window */
	O_DEADLOCK,	/* a background command's progress stalled while it still ran */
	O_COUNT
};

/* What a kind's parse() gets: the step's YAML and where it sits. */
struct step_parse {
	const struct ydoc *doc;
	const struct scenario *sc;	/* the steps before this one are complete */
	const struct step_ops *kind;
	const char *key;		/* the type key as written: the kind's name or an alias */
	const struct ynode *value;	/* what the type key maps to, or NULL ("- boot") */
	const struct ynode *opts;	/* the options mapping, or NULL (shorthand or none) */
	const struct ynode *where;	/* the type key's position, for errors */
};

/* What a kind's play() reports besides its outcome. Owned by the engine. */
struct step_report {
	/*
	 * Seconds the step may take: set by the engine from the step's
	 * `timeout:` or the scenario's (boot timeout for STEP_F_BOOTS kinds)
	 * before play(); a kind with its own rule (expect-not's `within`)
	 * sets it in play(). Reported in timeout reasons.
	 */
	double timeout;
	/* malloc'd, or NULL: why the step failed (O_DONE + msg = FAIL) */
	char *msg;
	/* malloc'd, or NULL: output kept in the results (bounded by the kind) */
	char *output;
	/* a verdict of the kind's own (e.g. a command's check); else from the outcome table */
	bool has_verdict;
	enum verdict verdict;
};

/* step_ops.forms: what the type key may map to besides nothing and a mapping */
#define STEP_FORM_SCALAR 1u	/* a shorthand string: "run: ls", "join: srv" */
#define STEP_FORM_SEQ 2u	/* a shorthand list: "collect: [/a, /b]" */

/* step_ops.flags */
#define STEP_F_BOOTS 1u		/* (re)boots the guest: the boot timeout, and a boot that fails ends the run */
#define STEP_F_STOPS 2u		/* ends with QEMU exiting (poweroff): that exit is not a death */
#define STEP_F_CONTAINER 4u	/* holds the next steps (repeat); gone after scenario_select() */

struct step_ops {
	const char *name;		/* the type key ("run") */
	const char *const *aliases;	/* other keys for it (NULL-terminated), or NULL */
	unsigned order;			/* place in listings and messages (README's order) */
	const char *summary;		/* one line for `teelab help steps` and the README */
	const char *const *keys;	/* its options (NULL-terminated); "name" and "xfail" go with every kind */
	unsigned forms;			/* STEP_FORM_* */
	unsigned flags;			/* STEP_F_* */
	/*
	 * Fill @st from @p (st->ops, line, column and the common keys are set
	 * already). Errors through ynode_error() (file:line:column); 0 or
	 * -EINVAL. NULL: the kind has no options of its own.
	 */
	int (*parse)(const struct step_parse *p, struct scenario_step *st);
	/* Append what makes a generated name specific (" normal: pattern") to @sb; NULL: just the kind's name. */
	void (*describe)(const struct scenario_step *st, struct strbuf *sb);
	/*
	 * Play step number @n (0-based, for steps/NN-* files) on the running
	 * lab @e; fill @r. Returns how it ended. NULL for containers.
	 */
	enum outcome (*play)(struct engine *e, size_t n, const struct scenario_step *st,
			     struct step_report *r);
	/* Free kind-private st->data; copy it for a repeat. Both NULL when the kind has none. */
	void (*release)(void *data);
	void *(*dup)(const void *data);
};

/* Every kind, in `order` (then name) order; *nr gets the count. Never fails. */
const struct step_ops *const *step_kinds(size_t *nr);
/* The kind whose name or alias is @key, or NULL. */
const struct step_ops *step_kind_find(const char *key);

/* Kinds other code names (the generated table lists every kind). */
extern const struct step_ops step_boot, step_expect, step_expect_not, step_assert, step_run,
	step_background, step_join, step_kill, step_parallel, step_collect, step_reboot,
	step_kexec, step_sysrq, step_poweroff, step_measure, step_repeat;

/*
 * Parse helpers for kinds (scenario.c). Each reads an optional key of
 * @map (NULL map: absent), reports through ynode_error() with
 * file:line:column and returns 0 or -EINVAL.
 */
/* A YAML null ("key:", "~", "null"). */
bool step_is_null(const struct ynode *n);
/* Non-empty string @key copied into *out (malloc'd, replacing it). */
int step_get_string(const struct ydoc *doc, const struct ynode *map, const char *key, char **out);
/* A POSIX extended regex (compiled once to validate it; "${param}" checked later). */
int step_get_regex(const struct ydoc *doc, const struct ynode *map, const char *key, char **out);
int step_check_regex(const struct ydoc *doc, const struct ynode *n, const char *key,
		     const char *re_str);
/* Seconds, > 0 (>= 0 when @zero_ok); *out kept when absent. */
int step_get_seconds(const struct ydoc *doc, const struct ynode *map, const char *key,
		     bool zero_ok, double *out);
/*
 * A number @key of @p->opts into *out, or "${param}": then *param (malloc'd)
 * names a parameter the scenario declares, for scenario_select() to
 * resolve with the cell's values; *out kept when absent.
 */
int step_get_number_or_param(const struct step_parse *p, const char *key, double *out,
			     char **param);
/*
 * @n's scalar as a whole number 1..@max into *out. The error names @key,
 * the range and then @alt, what else the key takes ("" or " or
 * \"${param}\""), and the value given. 0 or -EINVAL (reported).
 */
int step_get_count(const struct ydoc *doc, const struct ynode *n, const char *key, unsigned max,
		   const char *alt, unsigned *out);
/* "console": normal or secure into *out (kept when absent). */
int step_get_console(const struct ydoc *doc, const struct ynode *map, enum console_id *out);
/*
 * "channel" (auto, ssh, serial) into st->channel; ssh needs the network.
 * @needs_ssh: the error for a kind that cannot use the serial shell, or NULL.
 */
int step_get_channel(const struct step_parse *p, const char *needs_ssh,
		     struct scenario_step *st);
/* "expect-exit", "expect-output", "parser" into @st. */
int step_get_checks(const struct step_parse *p, struct scenario_step *st);
/* A string or list of strings at @n into a NULL-terminated malloc'd array. */
int step_get_list(const struct ydoc *doc, const struct ynode *n, const char *key,
		  char ***out, size_t *nr);
/* Item @i of what step_get_list() read from @n (for error positions). */
const struct ynode *step_list_item(const struct ynode *n, size_t i);
/* An absolute guest path without ".." components. */
int step_check_guest_path(const struct ydoc *doc, const struct ynode *n, const char *key,
			  const char *path);
int step_get_guest_path(const struct ydoc *doc, const struct ynode *map, const char *key,
			char **out);
/*
 * "id" of a background (new), join or kill step (an earlier background
 * step's), from the shorthand @p->value or the options.
 */
int step_get_id(const struct step_parse *p, struct scenario_step *st);
/*
 * The step of @sc before @st of @kind (step_background or step_measure)
 * whose id (background) or metric (measure) is @id, or NULL.
 */
const struct scenario_step *step_find_before(const struct scenario *sc,
					     const struct scenario_step *st,
					     const struct step_ops *kind, const char *id);
/* Append @s to @sb on one line (control characters as spaces), at most @max bytes then "...". */
void step_add_oneline(struct strbuf *sb, const char *s, size_t max);
/* Most iterations of a repeat. */
#define STEP_MAX_REPEAT 1000
/* The most lines an `expect` step's `count` may ask for. */
#define STEP_MAX_COUNT 10000
/* Generated names show at most this much of a command. */
#define STEP_NAME_COMMAND_MAX 60

#endif
