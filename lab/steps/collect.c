// SPDX-License-Identifier: MIT
/*
 * collect.c - the collect step: guest paths into runs/<id>/artifacts/,
 * over SFTP or, on the serial shell, as a base64 tar unpacked here. See
 * README "Scenario format".
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive.h"

static int parse_collect(const struct step_parse *p, struct scenario_step *st)
{
	const struct ynode *n = ynode_get(p->opts, "paths");
	int ret = 0;

	if (p->value && p->value->type != YNODE_MAP && !step_is_null(p->value))
		n = p->value;	/* shorthand "collect: /path" or "collect: [/a, /b]" */
	ret = step_get_channel(p, NULL, st);
	if (ret)
		return ret;
	if (!n)
		return ynode_error(p->doc, p->where, "missing 'paths' in 'collect' step");
	ret = step_get_list(p->doc, n, "paths", &st->paths, &st->nr_paths);
	for (size_t i = 0; !ret && i < st->nr_paths; i++)
		ret = step_check_guest_path(p->doc, step_list_item(n, i), "paths", st->paths[i]);
	return ret;
}

static void describe_collect(const struct scenario_step *st, struct strbuf *sb)
{
	strbuf_addch(sb, ' ');
	step_add_oneline(sb, st->paths[0], (size_t)-1);
	if (st->nr_paths > 1)
		strbuf_addf(sb, " +%zu", st->nr_paths - 1);
}

/* Decode the guest's base64 @text into @path. 0 or -errno (reported). */
static int base64_to_file(const char *text, const char *path)
{
	struct strbuf clean = STRBUF_INIT;
	unsigned char *bin;
	int n, ret;

	for (const char *p = text; *p; p++)
		if (!strchr(" \t\r\n", *p))
			strbuf_addch(&clean, *p);
	bin = xmalloc(clean.len / 4 * 3 + 3);
	n = EVP_DecodeBlock(bin, (const unsigned char *)strbuf_str(&clean), (int)clean.len);
	if (n < 0) {
		ret = error("the guest's base64 output is corrupt");
	} else {
		/* EVP_DecodeBlock counts the '=' padding as zero bytes */
		if (clean.len && clean.buf[clean.len - 1] == '=')
			n--;
		if (clean.len > 1 && clean.buf[clean.len - 2] == '=')
			n--;
		ret = write_file(path, bin, (size_t)n, 0644);
	}
	free(bin);
	strbuf_release(&clean);
	return ret;
}

static enum outcome play_collect(struct engine *e, size_t n, const struct scenario_step *st,
				 struct step_report *r)
{
	char *dir = path_join(e->dir, "artifacts");
	enum outcome p = O_DONE;
	double deadline = now_mono() + r->timeout;

	(void)n;
	if (mkdir_p(dir, 0755)) {
		r->msg = xstrdup("cannot create the artifacts directory");
		free(dir);
		return O_DONE;
	}
	for (size_t i = 0; i < st->nr_paths && !r->msg && p == O_DONE; i++) {
		const char *path = st->paths[i];

		if (engine_pick(e, st->channel) == CHAN_SSH && engine_have_ssh(e)) {
			if (e->guest->fetch(e->ssh, path, dir, deadline - now_mono()))
				r->msg = xasprintf("cannot fetch '%s' over SFTP", path);
		} else {
			/* serial: a tar of the path, base64-encoded, then unpacked here */
			char *cmd = xasprintf("tar -C / -cf - '%s' | base64", path + 1);
			char *tar = path_join(dir, ".collect.tar");

			p = engine_serial_command(e, cmd, deadline - now_mono());
			if (p == O_DONE && e->cmd_rc == 0 &&
			    !base64_to_file(strbuf_str(&e->cmd_out), tar))
				tar_extract(tar, dir, 0);
			else if (p == O_DONE)
				r->msg = xasprintf("cannot collect '%s' (status %d)", path, e->cmd_rc);
			unlink(tar);
			free(tar);
			free(cmd);
		}
	}
	free(dir);
	return p;
}

static const char *const collect_keys[] = { "paths", "channel", NULL };
const struct step_ops step_collect = {
	.name = "collect", .order = 90, .keys = collect_keys,
	.forms = STEP_FORM_SCALAR | STEP_FORM_SEQ,
	.summary = "guest paths into the run directory's artifacts/",
	.parse = parse_collect, .describe = describe_collect, .play = play_collect,
};
