// SPDX-License-Identifier: MIT
/*
 * tl-tee-state - both worlds' side of a TEE deadlock, read in one go and
 * fast enough to run once a second while a scenario's progress has stopped
 * (teelab's structural deadlock detector) and as part of the evidence.
 *
 * Prints, in this order:
 *   ===== optee-threads
 *   <the contents of /proc/teelab/optee-threads (images/kmod/teelab-tee-state),
 *    or "unavailable: ..." when the module is not loaded>
 *   ===== task <pid>/<tid> (<comm>) state <State:>: <cmdline>
 *   [<0>] function+0xoff/0xlen
 *   ...
 *   ===== end
 *
 * The task blocks use tl-evidence's format (lab/tee_chain.h parses both)
 * and cover the tasks a TEE deadlock chain can go through: every task
 * whose kernel stack is in the TEE, SCMI, MMC, RPMB or block code, every
 * task in uninterruptible sleep (D), and every tee-supplicant thread. No
 * fork, no exec: a shell loop over /proc costs seconds under TCG, this
 * costs a few tens of milliseconds.
 *
 * Usage: tl-tee-state        (exit status 0; 1 if /proc cannot be read)
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS_FILE "/proc/teelab/optee-threads"

/* Read a small /proc file whole into @buf (NUL-terminated); its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Whether the stack or the task says it may be on a TEE chain. */
static bool relevant(const char *stack, const char *state, const char *comm)
{
	static const char *const words[] = { "optee", "tee_", "scmi", "mmc", "rpmb", "blk_",
					     "submit_bio", "folio_wait", NULL };

	if (state[0] == 'D' || !strcmp(comm, "tee-supplicant"))
		return true;
	for (size_t i = 0; words[i]; i++)
		if (strstr(stack, words[i]))
			return true;
	return false;
}

static void one_task(long pid, long tid)
{
	static char stack[16384], status[4096], comm[64], cmdline[512], path[96];
	char state[32] = "?";
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/stack", pid, tid);
	if (slurp(path, stack, sizeof(stack)) < 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/status", pid, tid);
	if (slurp(path, status, sizeof(status)) >= 0 && (p = strstr(status, "State:"))) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
		snprintf(state, sizeof(state), "%.*s", (int)strcspn(p, "\n"), p);
	}
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/comm", pid, tid);
	if (slurp(path, comm, sizeof(comm)) < 0)
		comm[0] = '\0';
	chomp(comm);
	if (!relevant(stack, state, comm))
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	n = slurp(path, cmdline, sizeof(cmdline));
	for (ssize_t i = 0; i < n; i++)
		if (!cmdline[i])
			cmdline[i] = ' ';
	if (n > 0)
		chomp(cmdline);
	else
		cmdline[0] = '\0';
	printf("===== task %ld/%ld (%s) state %s: %s\n%s", pid, tid, comm, state, cmdline, stack);
	if (stack[0] && stack[strlen(stack) - 1] != '\n')
		putchar('\n');
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int main(void)
{
	static char threads[8192];
	struct dirent *d, *t;
	DIR *proc;

	puts("===== optee-threads");
	if (slurp(THREADS_FILE, threads, sizeof(threads)) > 0)
		fputs(threads, stdout);
	else
		puts("unavailable: no " THREADS_FILE " (module teelab_tee_state not loaded)");
	proc = opendir("/proc");
	if (!proc) {
		perror("tl-tee-state: /proc");
		return 1;
	}
	while ((d = readdir(proc))) {
		char dir[64];
		DIR *tasks;

		if (!numeric(d->d_name))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%ld/task", atol(d->d_name));
		tasks = opendir(dir);
		if (!tasks)
			continue;
		while ((t = readdir(tasks)))
			if (numeric(t->d_name))
				one_task(atol(d->d_name), atol(t->d_name));
		closedir(tasks);
	}
	closedir(proc);
	puts("===== end");
	return 0;
}
