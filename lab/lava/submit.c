// SPDX-License-Identifier: MIT
/*
 * submit.c - an exported job on a LAVA lab through lavacli (lava.h):
 * submit, wait, fetch the raw log, import it. Every lavacli call is an
 * argv list; lavacli's identities (~/.config/lavacli.yaml) hold the
 * server's URL and token.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lava.h"
#include "run.h"
#include "runproc.h"

/* `lavacli -i ID <args...>` with stdout into @out (may be NULL): its exit status or -errno. */
static int lavacli(const char *identity, const char *const *args, struct strbuf *out)
{
	struct strvec argv = STRVEC_INIT;
	int ret;

	if (!in_path("lavacli"))
		return error_code(-ENOENT, "lavacli is not installed: it comes with `make deps` "
				  "(configs/host-packages.txt: lavacli, bookworm)");
	strvec_pushl(&argv, "lavacli", "-i", identity, NULL);
	for (size_t i = 0; args[i]; i++)
		strvec_push(&argv, args[i]);
	ret = run_capture((const char *const *)argv.v, NULL, out);
	if (ret)
		error("lavacli -i %s %s: %s", identity, args[0] ? args[0] : "",
		      ret < 0 ? strerror(-ret) : "failed (see above)");
	strvec_release(&argv);
	return ret;
}

int lava_submit_job(const char *identity, const char *export_dir, double timeout, char **job_id)
{
	char *job = path_join(export_dir, "job.yaml");
	struct strbuf out = STRBUF_INIT;
	int ret = lavacli(identity, (const char *const[]){ "jobs", "submit", job, NULL }, &out);
	char *id = strtrim(out.buf ? out.buf : (char *)"");

	*job_id = NULL;
	if (!ret && (!*id || strspn(id, "0123456789.") != strlen(id)))
		ret = error("lavacli jobs submit %s: no job id in its answer '%s'", job, id);
	if (!ret) {
		char *secs = xasprintf("%.0f", timeout);

		*job_id = xstrdup(id);
		info("LAVA job %s submitted; waiting (at most %s s)", id, secs);
		ret = lavacli(identity, (const char *const[]){ "jobs", "wait", id, "--timeout",
				secs, NULL }, NULL);
		free(secs);
		/* not finished in time: it is not left to hold the lab's device */
		if (ret && lavacli(identity, (const char *const[]){ "jobs", "cancel", id, NULL },
				   NULL))
			warning("LAVA job %s may still run on %s", id, identity);
	}
	strbuf_release(&out);
	free(job);
	return ret;
}

int lava_fetch_log(const char *identity, const char *job_id, const char *path)
{
	struct strbuf out = STRBUF_INIT;
	int ret = lavacli(identity, (const char *const[]){ "jobs", "logs", "--raw", job_id, NULL },
			  &out);

	if (!ret && (ret = write_file_str(path, strbuf_str(&out))))
		error_errno("cannot write '%s'", path);
	strbuf_release(&out);
	return ret;
}
