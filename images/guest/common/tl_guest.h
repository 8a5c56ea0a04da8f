/* SPDX-License-Identifier: MIT */
/*
 * tl_guest.h - helpers shared by teelab's lab guest programs
 * (images/guest/<program>: tl-storage, tl-shm), the normal-world libteec
 * clients of the lab's Trusted Applications.
 *
 * teelab adds images/guest/common to every guest program's build inputs
 * (lab/images.c, GUEST_COMMON_DIR); a program's Makefile includes
 * ../common/guest.mk, which puts this directory on the include path and
 * lists this header among the binary's prerequisites.
 *
 * Header only: every function is static inline, so a program compiles what
 * it uses and the rest raises no -Wunused-function.  What is here:
 *  - say(): one output line, one write(2);
 *  - result_name(), origin_name(): TEEC/TEE result codes and return
 *    origins by name (hex when unknown);
 *  - format_teec(), report_teec(): the "<step>: <NAME> (0x...) origin
 *    <ORIGIN>" failure line;
 *  - struct tl_conn, tl_open(), tl_close(), tl_open_report(): a context and
 *    a session with a TA;
 *  - struct tl_client, tl_alloc_clients(), tl_run_clients(): N concurrent
 *    client threads, started and joined;
 *  - now_s(), parse_u32(), bad_usage(), bad_arg(), and tl_main(), the
 *    subcommand dispatcher that main() calls;
 *  - EXIT_OK, EXIT_FAIL, EXIT_USAGE, the exit statuses.
 *
 * What the including program provides:
 *  - _POSIX_C_SOURCE 200809L, defined before any system header;
 *  - PROG, its name as a string literal ("tl-storage"), defined before
 *    this header: it starts report_teec()'s lines and the usage errors;
 *  - optionally TL_TA_RESULT_NAMES, defined before this header: its TA's
 *    own result codes as initializers of struct code_name, each followed by
 *    a comma ("{ MY_TA_ERROR_X, \"MY_TA_ERROR_X\" },"), named by
 *    result_name() after the standard codes;
 *  - static void usage(FILE *f), declared below and defined by the
 *    program: bad_usage(), bad_arg() and tl_main() print it.
 *
 * Output: say() writes every line to stdout with a single write(2), so
 * lines from concurrent threads never interleave; usage goes to stderr.
 */
#ifndef TL_GUEST_H
#define TL_GUEST_H

#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#error "define _POSIX_C_SOURCE 200809L before any #include"
#endif

#ifndef PROG
#error "define PROG, the program's name, before including tl_guest.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

/* Exit statuses. */
#define EXIT_OK			0
#define EXIT_FAIL		1
#define EXIT_USAGE		2

/* Longest output line in bytes, newline included; longer lines are cut. */
#define OUT_LINE_MAX		512

/* Stack of each client thread of tl_run_clients(), bytes. */
#define TL_CLIENT_STACK		(256u * 1024u)

/* Number of elements of array a. */
#define TL_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * TEE_ERROR_CORRUPT_OBJECT of the Internal Core API (tee_client_api.h has
 * no TEEC_ name for it): a TA's "content is wrong" result.
 */
#define TL_ERROR_CORRUPT_OBJECT	0xF0100001u

/* The program's usage, printed to f; defined by the program. */
static void usage(FILE *f);

/*
 * Prints one line to stdout with a single write(2) (retried only for
 * EINTR or a short write), so that lines written by concurrent threads
 * never interleave.  fmt must not end in a newline; one is added.  Lines
 * longer than OUT_LINE_MAX - 1 bytes are truncated.  Output errors are
 * ignored (there is nowhere to report them).
 */
static inline void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	char buf[OUT_LINE_MAX] = { 0 };
	size_t len = 0;
	size_t done = 0;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) - 1 ? (size_t)n : sizeof(buf) - 2;
	buf[len++] = '\n';

	while (done < len) {
		ssize_t w = write(STDOUT_FILENO, buf + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		done += (size_t)w;
	}
}

/* Name and value of a TEEC/TEE result code. */
struct code_name {
	uint32_t code;
	const char *name;
};

/* A buffer for a code printed in hex when it has no name. */
struct name_buf {
	char s[24];
};

/*
 * Returns the name of TEEC result res ("TEEC_ERROR_ITEM_NOT_FOUND"), or
 * res as "0x%08x" written into nb if it has no name.  Named are all TEEC_*
 * codes of tee_client_api.h, the TEE_* codes of the Internal Core API that
 * OP-TEE can pass through to a client, and the program's
 * TL_TA_RESULT_NAMES.
 */
static inline const char *result_name(TEEC_Result res, struct name_buf *nb)
{
	static const struct code_name names[] = {
		{ TEEC_SUCCESS, "TEEC_SUCCESS" },
		{ TEEC_ERROR_STORAGE_NOT_AVAILABLE,
		  "TEEC_ERROR_STORAGE_NOT_AVAILABLE" },
		{ TEEC_ERROR_GENERIC, "TEEC_ERROR_GENERIC" },
		{ TEEC_ERROR_ACCESS_DENIED, "TEEC_ERROR_ACCESS_DENIED" },
		{ TEEC_ERROR_CANCEL, "TEEC_ERROR_CANCEL" },
		{ TEEC_ERROR_ACCESS_CONFLICT, "TEEC_ERROR_ACCESS_CONFLICT" },
		{ TEEC_ERROR_EXCESS_DATA, "TEEC_ERROR_EXCESS_DATA" },
		{ TEEC_ERROR_BAD_FORMAT, "TEEC_ERROR_BAD_FORMAT" },
		{ TEEC_ERROR_BAD_PARAMETERS, "TEEC_ERROR_BAD_PARAMETERS" },
		{ TEEC_ERROR_BAD_STATE, "TEEC_ERROR_BAD_STATE" },
		{ TEEC_ERROR_ITEM_NOT_FOUND, "TEEC_ERROR_ITEM_NOT_FOUND" },
		{ TEEC_ERROR_NOT_IMPLEMENTED, "TEEC_ERROR_NOT_IMPLEMENTED" },
		{ TEEC_ERROR_NOT_SUPPORTED, "TEEC_ERROR_NOT_SUPPORTED" },
		{ TEEC_ERROR_NO_DATA, "TEEC_ERROR_NO_DATA" },
		{ TEEC_ERROR_OUT_OF_MEMORY, "TEEC_ERROR_OUT_OF_MEMORY" },
		{ TEEC_ERROR_BUSY, "TEEC_ERROR_BUSY" },
		{ TEEC_ERROR_COMMUNICATION, "TEEC_ERROR_COMMUNICATION" },
		{ TEEC_ERROR_SECURITY, "TEEC_ERROR_SECURITY" },
		{ TEEC_ERROR_SHORT_BUFFER, "TEEC_ERROR_SHORT_BUFFER" },
		/* not in every tee_client_api.h, hence the numbers */
		{ 0xFFFF0011u, "TEEC_ERROR_EXTERNAL_CANCEL" },
		{ 0xFFFF3024u, "TEEC_ERROR_TARGET_DEAD" },
		{ 0xFFFF3041u, "TEEC_ERROR_STORAGE_NO_SPACE" },
		{ TL_ERROR_CORRUPT_OBJECT, "TEE_ERROR_CORRUPT_OBJECT" },
		{ 0xF0100002u, "TEE_ERROR_CORRUPT_OBJECT_2" },
		{ 0xF0100004u, "TEE_ERROR_STORAGE_NOT_AVAILABLE_2" },
		{ 0xFFFF3001u, "TEE_ERROR_TIMEOUT" },
		{ 0xFFFF300Fu, "TEE_ERROR_OVERFLOW" },
		{ 0xFFFF3071u, "TEE_ERROR_MAC_INVALID" },
		{ 0xFFFF3072u, "TEE_ERROR_SIGNATURE_INVALID" },
		{ 0xFFFF5000u, "TEE_ERROR_TIME_NOT_SET" },
		{ 0xFFFF5001u, "TEE_ERROR_TIME_NEEDS_RESET" },
#ifdef TL_TA_RESULT_NAMES
		TL_TA_RESULT_NAMES
#endif
	};
	size_t i = 0;

	for (i = 0; i < TL_ARRAY_SIZE(names); i++)
		if (names[i].code == res)
			return names[i].name;
	snprintf(nb->s, sizeof(nb->s), "0x%08" PRIx32, (uint32_t)res);
	return nb->s;
}

/*
 * Returns the name of return origin origin ("TEEC_ORIGIN_TRUSTED_APP"), or
 * origin as "0x%x" written into nb if it has no name.
 */
static inline const char *origin_name(uint32_t origin, struct name_buf *nb)
{
	switch (origin) {
	case TEEC_ORIGIN_API:
		return "TEEC_ORIGIN_API";
	case TEEC_ORIGIN_COMMS:
		return "TEEC_ORIGIN_COMMS";
	case TEEC_ORIGIN_TEE:
		return "TEEC_ORIGIN_TEE";
	case TEEC_ORIGIN_TRUSTED_APP:
		return "TEEC_ORIGIN_TRUSTED_APP";
	default:
		snprintf(nb->s, sizeof(nb->s), "0x%" PRIx32, origin);
		return nb->s;
	}
}

/*
 * Writes "<what>: <NAME> (0x<code>) origin <ORIGIN>" for a failed TEE
 * Client API call to out (size bytes).  what names the failing step
 * ("TEEC_OpenSession", "invoke CMD_WRITE object 3 generation 7 bytes
 * 4096").
 */
static inline void format_teec(char *out, size_t size, const char *what,
			       TEEC_Result res, uint32_t origin)
{
	struct name_buf rb = { { 0 } };
	struct name_buf ob = { { 0 } };

	snprintf(out, size, "%s: %s (0x%08" PRIx32 ") origin %s", what,
		 result_name(res, &rb), (uint32_t)res,
		 origin_name(origin, &ob));
}

/*
 * Prints "PROG: <prefix><what>: <NAME> (0x...) origin <ORIGIN>" for a
 * failed TEE Client API call; prefix is "" or ends in a space
 * ("client 3 ").
 */
static inline void report_teec(const char *prefix, const char *what,
			       TEEC_Result res, uint32_t origin)
{
	char msg[256] = { 0 };

	format_teec(msg, sizeof(msg), what, res, origin);
	say(PROG ": %s%s", prefix, msg);
}

/* Seconds on CLOCK_MONOTONIC, as a double (nanosecond resolution). */
static inline double now_s(void)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A context and a session with a TA, and which of them are open. */
struct tl_conn {
	TEEC_Context ctx;
	TEEC_Session sess;
	bool have_ctx;
	bool have_sess;
};

/*
 * Opens a context on the default TEE and a session (TEEC_LOGIN_PUBLIC, no
 * parameters) with the TA uuid.  On failure returns the TEEC result, sets
 * *origin (TEEC_ORIGIN_API for TEEC_InitializeContext, which reports none)
 * and *step to the failing function's name; whatever was opened stays
 * recorded in c for tl_close().
 */
static inline TEEC_Result tl_open(struct tl_conn *c, const TEEC_UUID *uuid,
				  uint32_t *origin, const char **step)
{
	TEEC_Result res = TEEC_ERROR_GENERIC;

	*origin = TEEC_ORIGIN_API;
	*step = "TEEC_InitializeContext";
	res = TEEC_InitializeContext(NULL, &c->ctx);
	if (res != TEEC_SUCCESS)
		return res;
	c->have_ctx = true;

	*step = "TEEC_OpenSession";
	res = TEEC_OpenSession(&c->ctx, &c->sess, uuid, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, origin);
	if (res != TEEC_SUCCESS)
		return res;
	c->have_sess = true;
	return TEEC_SUCCESS;
}

/* Closes the session and finalizes the context that tl_open() opened. */
static inline void tl_close(struct tl_conn *c)
{
	if (c->have_sess)
		TEEC_CloseSession(&c->sess);
	if (c->have_ctx)
		TEEC_FinalizeContext(&c->ctx);
	c->have_sess = false;
	c->have_ctx = false;
}

/*
 * tl_open() for a subcommand that runs one session: reports a failure
 * with report_teec().  Returns true if c is open; tl_close() c either way.
 */
static inline bool tl_open_report(struct tl_conn *c, const TEEC_UUID *uuid)
{
	const char *step = NULL;
	uint32_t origin = 0;
	TEEC_Result res = tl_open(c, uuid, &origin, &step);

	if (res != TEEC_SUCCESS) {
		report_teec("", step, res, origin);
		return false;
	}
	return true;
}

/*
 * One client thread of tl_run_clients().  A program's own client struct
 * has it as its first member, so that a pointer to the one is a pointer to
 * the other: tl_run_clients() walks an array of the program's structs and
 * the thread body gets its struct.
 */
struct tl_client {
	pthread_t thread;
	uint32_t id;		/* 1..n, set by tl_run_clients() */
	bool started;		/* pthread_create() succeeded */
	bool failed;		/* set by the thread body, or if not started */
};

/*
 * Returns n zeroed client structs of client_size bytes each (the
 * program's struct, a struct tl_client first), for tl_run_clients() and
 * then free().  On failure prints "PROG: <what>: out of memory for N
 * clients" and returns NULL.  what names the subcommand ("load").
 */
static inline void *tl_alloc_clients(const char *what, uint32_t n,
				     size_t client_size)
{
	void *clients = calloc(n, client_size);

	if (!clients)
		say(PROG ": %s: out of memory for %" PRIu32 " clients", what,
		    n);
	return clients;
}

/* Client i (0-based) of an array of client_size-byte client structs. */
static inline struct tl_client *tl_client_at(void *clients,
					     size_t client_size, uint32_t i)
{
	return (struct tl_client *)((char *)clients + (size_t)i * client_size);
}

/*
 * Runs n clients (1..) at the same time, each a thread with a
 * TL_CLIENT_STACK stack: clients is an array of n structs of client_size
 * bytes (from tl_alloc_clients(), the program's fields set), each starting
 * with a struct tl_client.  Numbers them 1..n (id), starts fn(&struct) for
 * each in that order, then joins them all.  fn sets failed if its client
 * failed.  A thread that cannot be started counts as failed, with a line
 * "PROG: <what> FAIL client C: pthread_create: <strerror>"; the others run
 * anyway.  what names the subcommand ("load").
 *
 * Returns the number of failed clients, or -1 if the thread attributes
 * could not be set up ("PROG: <what>: pthread_attr_init: <strerror>" or
 * "...: pthread_attr_setstacksize: ..."), in which case no thread ran.
 */
static inline int tl_run_clients(const char *what, void *clients,
				 size_t client_size, uint32_t n,
				 void *(*fn)(void *))
{
	pthread_attr_t attr;
	uint32_t i = 0;
	int failed = 0;
	int err = 0;

	err = pthread_attr_init(&attr);
	if (err) {
		say(PROG ": %s: pthread_attr_init: %s", what, strerror(err));
		return -1;
	}
	err = pthread_attr_setstacksize(&attr, TL_CLIENT_STACK);
	if (err) {
		say(PROG ": %s: pthread_attr_setstacksize: %s", what,
		    strerror(err));
		pthread_attr_destroy(&attr);
		return -1;
	}

	for (i = 0; i < n; i++) {
		struct tl_client *cl = tl_client_at(clients, client_size, i);

		cl->id = i + 1;
		err = pthread_create(&cl->thread, &attr, fn, cl);
		if (err) {
			say(PROG ": %s FAIL client %" PRIu32
			    ": pthread_create: %s", what, cl->id,
			    strerror(err));
			cl->failed = true;
			continue;
		}
		cl->started = true;
	}
	for (i = 0; i < n; i++) {
		struct tl_client *cl = tl_client_at(clients, client_size, i);

		if (cl->started)
			pthread_join(cl->thread, NULL);
		if (cl->failed)
			failed++;
	}
	pthread_attr_destroy(&attr);
	return failed;
}

/*
 * Parses decimal s into *out.  Returns false unless s is all digits and
 * the value is in min..max.
 */
static inline bool parse_u32(const char *s, uint32_t min, uint32_t max,
			     uint32_t *out)
{
	unsigned long long v = 0;
	char *end = NULL;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Reports a bad command line (msg) and returns EXIT_USAGE. */
static inline int bad_usage(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * Reports a bad option argument and returns EXIT_USAGE.  name is the
 * option as typed ("-s").
 */
static inline int bad_arg(const char *name, const char *arg)
{
	fprintf(stderr, PROG ": invalid value for %s: '%s'\n", name,
		arg ? arg : "");
	usage(stderr);
	return EXIT_USAGE;
}

/* A subcommand: its name and what runs it (argv[0] is the name). */
struct tl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
};

/*
 * The whole main() of a guest program with subcommands cmds (ncmds of
 * them): "-h", "--help" and "help" print the usage to stdout; otherwise
 * argv[1] is looked up in cmds and run with argv[1] as its argv[0], after
 * resetting getopt() (optind = 1, opterr = 0: the subcommands report
 * rejected options themselves).  A missing or unknown command is a usage
 * error.  Returns the exit status.
 */
static inline int tl_main(int argc, char **argv, const struct tl_cmd *cmds,
			  size_t ncmds)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i = 0;

	if (!cmd)
		return bad_usage("no command");
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}

	optind = 1;
	opterr = 0;
	for (i = 0; i < ncmds; i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);

	fprintf(stderr, PROG ": unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}

#endif /* TL_GUEST_H */
