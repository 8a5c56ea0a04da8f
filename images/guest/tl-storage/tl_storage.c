// SPDX-License-Identifier: MIT
/*
 * tl_storage.c - tl-storage, the normal-world client of the teelab-storage
 * Trusted Application (images/ta/teelab-storage).
 *
 * teelab's own code, for the teelab QEMU lab (Linux TEE subsystem and
 * OP-TEE).  It writes, verifies and deletes objects in OP-TEE's secure
 * storage through the TA (the RPMB FS by default; -S selects the REE FS or
 * TEE_STORAGE_PRIVATE instead), makes the TA sleep in TEE_Wait() (an OP-TEE
 * thread parked in an RPC), and runs N concurrent clients, each with its
 * own context and session, as a load generator whose one-line-per-op
 * progress output is teelab's progress signal for deadlock detection.
 *
 * GlobalPlatform TEE Client API Specification v1.0 sections used:
 *  - §4.3  Types: TEEC_Context, TEEC_Session, TEEC_UUID, TEEC_Operation,
 *          TEEC_Value.
 *  - §4.4  Constants: return codes (printed by name), return origins
 *          (TEEC_ORIGIN_*), parameter types, TEEC_LOGIN_PUBLIC.
 *  - §4.5  Functions: TEEC_InitializeContext, TEEC_FinalizeContext,
 *          TEEC_OpenSession, TEEC_CloseSession, TEEC_InvokeCommand,
 *          TEEC_PARAM_TYPES.
 * The TA side uses GlobalPlatform TEE Internal Core API v1.3 (§5.7
 * Persistent Object Functions, §7.2 TEE_Wait); see the TA's README.md.
 *
 * Output: every line goes to stdout with a single write(2), so lines from
 * concurrent clients never interleave; usage goes to stderr.
 * Exit status: 0 success, 1 a TEE/TA operation failed or verification
 * failed, 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

#include <teelab_storage_ta.h>

#define PROG			"tl-storage"

/* The TA's own result codes, for result_name() (tl_guest.h). */
#define TL_TA_RESULT_NAMES \
	{ TEELAB_STORAGE_ERROR_BAD_HEADER, "TEELAB_STORAGE_ERROR_BAD_HEADER" }, \
	{ TEELAB_STORAGE_ERROR_BAD_PATTERN, "TEELAB_STORAGE_ERROR_BAD_PATTERN" },

#include <tl_guest.h>

/* Defaults and limits of the command line. */
#define DEF_BYTES		4096u
#define DEF_LOAD_OPS		20u
#define MAX_OPS			1000000u
#define MAX_CLIENTS		1024u
#define MAX_SLEEP_MS		3600000u

static const TEEC_UUID ta_uuid = TEELAB_STORAGE_TA_UUID;

/* A storage the -S option can select: its name and its TA storage ID. */
struct storage_name {
	const char *name;
	uint32_t id;
};

/*
 * The -S names.  The first entry is the default.  The client always sends
 * the storage ID itself, never the TA's selector 0, so the default is sent
 * as TEELAB_STORAGE_PRIVATE_RPMB (which is what 0 means to the TA).
 */
static const struct storage_name storage_names[] = {
	{ "rpmb", TEELAB_STORAGE_PRIVATE_RPMB },
	{ "ree", TEELAB_STORAGE_PRIVATE_REE },
	{ "private", TEELAB_STORAGE_PRIVATE },
};

#define DEF_STORAGE		(&storage_names[0])

/*
 * CMD_WRITE: object n in storage st (a TEELAB_STORAGE_PRIVATE* ID) gets
 * generation g and k payload bytes (1..65536).  Returns the TEEC result and
 * sets *origin.
 */
static TEEC_Result ta_write(TEEC_Session *s, uint32_t st, uint32_t n,
			    uint32_t k, uint32_t g, uint32_t *origin)
{
	TEEC_Operation op = { 0 };

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_INPUT,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = n;
	op.params[0].value.b = k;
	op.params[1].value.a = g;
	op.params[1].value.b = st;
	return TEEC_InvokeCommand(s, TEELAB_STORAGE_CMD_WRITE, &op, origin);
}

/*
 * CMD_VERIFY of object n in storage st; on success sets *g to the
 * generation and *k to the payload length (bytes) found.  Returns the TEEC
 * result (the TA's TEELAB_STORAGE_ERROR_* on wrong content) and sets
 * *origin.
 */
static TEEC_Result ta_verify(TEEC_Session *s, uint32_t st, uint32_t n,
			     uint32_t *g, uint32_t *k, uint32_t *origin)
{
	TEEC_Operation op = { 0 };
	TEEC_Result res = TEEC_ERROR_GENERIC;

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = n;
	op.params[0].value.b = st;
	res = TEEC_InvokeCommand(s, TEELAB_STORAGE_CMD_VERIFY, &op, origin);
	if (res == TEEC_SUCCESS) {
		*g = op.params[1].value.a;
		*k = op.params[1].value.b;
	}
	return res;
}

/*
 * CMD_DELETE of object n in storage st.  Returns the TEEC result and sets
 * *origin.
 */
static TEEC_Result ta_delete(TEEC_Session *s, uint32_t st, uint32_t n,
			     uint32_t *origin)
{
	TEEC_Operation op = { 0 };

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = n;
	op.params[0].value.b = st;
	return TEEC_InvokeCommand(s, TEELAB_STORAGE_CMD_DELETE, &op, origin);
}

/*
 * CMD_SLEEP: the TA waits ms milliseconds in TEE_Wait().  Returns the TEEC
 * result and sets *origin.
 */
static TEEC_Result ta_sleep(TEEC_Session *s, uint32_t ms, uint32_t *origin)
{
	TEEC_Operation op = { 0 };

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = ms;
	return TEEC_InvokeCommand(s, TEELAB_STORAGE_CMD_SLEEP, &op, origin);
}

/* Prints the usage to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " write  [-o N] [-b K] [-n M] [-S STORAGE]\n"
		"       " PROG " verify [-o N] [-g G] [-S STORAGE]\n"
		"       " PROG " delete [-o N] [-S STORAGE]\n"
		"       " PROG " sleep  -t MS\n"
		"       " PROG " load   -c N [-n M] [-b K] [-s MS] [-S STORAGE]\n"
		"\n"
		"  write   M writes (default 1) of K bytes (default %u, 1..%u) to\n"
		"          object N (default 0), generations 1..M\n"
		"  verify  read object N back and check it; -g G: also require\n"
		"          generation G\n"
		"  delete  delete object N\n"
		"  sleep   the TA waits MS milliseconds in TEE_Wait()\n"
		"  load    N clients (1..%u), each with its own context and\n"
		"          session; client C does M ops (default %u): writes of K\n"
		"          bytes to object C, generations 1..M, or with -s MS\n"
		"          sleeps of MS milliseconds in the TA\n"
		"\n"
		"  -S STORAGE  where the TA keeps the objects:\n"
		"          rpmb     TEE_STORAGE_PRIVATE_RPMB, OP-TEE's RPMB FS\n"
		"                   (default)\n"
		"          ree      TEE_STORAGE_PRIVATE_REE, OP-TEE's REE FS\n"
		"                   (files kept by tee-supplicant)\n"
		"          private  TEE_STORAGE_PRIVATE, OP-TEE's choice (REE FS\n"
		"                   if built with it, else RPMB FS)\n"
		"          Each storage has its own objects.  load -s ignores -S.\n"
		"\n"
		"Objects live in OP-TEE's secure storage (TA " TEELAB_STORAGE_TA_UUID_STR ").\n"
		"Exit status: 0 ok, 1 TEE/TA failure, 2 usage.\n",
		DEF_BYTES, TEELAB_STORAGE_MAX_PAYLOAD, MAX_CLIENTS,
		DEF_LOAD_OPS);
}

/*
 * Looks up -S name s.  Returns its storage_names entry, or NULL if s is not
 * one of the names.
 */
static const struct storage_name *parse_storage(const char *s)
{
	size_t i = 0;

	for (i = 0; i < TL_ARRAY_SIZE(storage_names); i++)
		if (s && !strcmp(s, storage_names[i].name))
			return &storage_names[i];
	return NULL;
}

/*
 * Reports the option getopt() rejected (unknown, or its value missing) for
 * subcommand cmd and returns EXIT_USAGE.
 */
static int bad_option(const char *cmd)
{
	fprintf(stderr, PROG ": %s: unknown option -%c or missing value\n",
		cmd, optopt);
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * The options of a subcommand.  The caller sets the defaults, then
 * parse_opts() stores what the command line gives.
 */
struct opts {
	uint32_t object;	/* -o: object number */
	uint32_t bytes;		/* -b: payload bytes per write */
	uint32_t ops;		/* -n: number of ops */
	uint32_t gen;		/* -g: expected generation, if have_gen */
	uint32_t ms;		/* -t, -s: milliseconds, if have_ms */
	uint32_t clients;	/* -c: number of clients, if have_clients */
	const struct storage_name *storage;	/* -S */
	bool have_gen;
	bool have_ms;
	bool have_clients;
};

/*
 * Parses the options of subcommand argv[0] that getopt string optstr
 * allows into *o: -o N and -g G 0..UINT32_MAX, -b K 1..65536 bytes, -n M
 * 1..MAX_OPS, -t MS and -s MS 0..MAX_SLEEP_MS milliseconds, -c N
 * 1..MAX_CLIENTS, -S a storage name.  No other arguments may follow.
 * Returns EXIT_OK, or EXIT_USAGE after reporting the first error.
 */
static int parse_opts(int argc, char **argv, const char *optstr,
		      struct opts *o)
{
	char msg[64] = { 0 };
	char name[4] = { 0 };
	int opt = 0;

	while ((opt = getopt(argc, argv, optstr)) != -1) {
		bool ok = false;

		switch (opt) {
		case 'o':
			ok = parse_u32(optarg, 0, UINT32_MAX, &o->object);
			break;
		case 'b':
			ok = parse_u32(optarg, TEELAB_STORAGE_MIN_PAYLOAD,
				       TEELAB_STORAGE_MAX_PAYLOAD, &o->bytes);
			break;
		case 'n':
			ok = parse_u32(optarg, 1, MAX_OPS, &o->ops);
			break;
		case 'g':
			ok = parse_u32(optarg, 0, UINT32_MAX, &o->gen);
			o->have_gen = true;
			break;
		case 't':
		case 's':
			ok = parse_u32(optarg, 0, MAX_SLEEP_MS, &o->ms);
			o->have_ms = true;
			break;
		case 'c':
			ok = parse_u32(optarg, 1, MAX_CLIENTS, &o->clients);
			o->have_clients = true;
			break;
		case 'S':
			o->storage = parse_storage(optarg);
			ok = o->storage != NULL;
			break;
		default:
			return bad_option(argv[0]);
		}
		if (!ok) {
			snprintf(name, sizeof(name), "-%c", opt);
			return bad_arg(name, optarg);
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "%s: unexpected argument", argv[0]);
		return bad_usage(msg);
	}
	return EXIT_OK;
}

/*
 * "write [-o N] [-b K] [-n M] [-S STORAGE]": M writes of K bytes to object
 * N in STORAGE, generations 1..M, one TEEC_InvokeCommand each.  Returns an
 * exit status; stops at the first failure.
 */
static int cmd_write(int argc, char **argv)
{
	struct opts o = { .bytes = DEF_BYTES, .ops = 1,
			  .storage = DEF_STORAGE };
	struct tl_conn c = { .have_ctx = false };
	uint32_t origin = 0;
	uint32_t g = 0;
	TEEC_Result res = TEEC_ERROR_GENERIC;
	int rc = EXIT_FAIL;

	if (parse_opts(argc, argv, "o:b:n:S:", &o) != EXIT_OK)
		return EXIT_USAGE;

	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	for (g = 1; g <= o.ops; g++) {
		res = ta_write(&c.sess, o.storage->id, o.object, o.bytes, g,
			       &origin);
		if (res != TEEC_SUCCESS) {
			char what[96] = { 0 };

			snprintf(what, sizeof(what),
				 "invoke CMD_WRITE object %" PRIu32
				 " generation %" PRIu32 " bytes %" PRIu32,
				 o.object, g, o.bytes);
			report_teec("", what, res, origin);
			goto out;
		}
		say(PROG ": write object %" PRIu32 " generation %" PRIu32
		    " bytes %" PRIu32 " ok", o.object, g, o.bytes);
	}
	rc = EXIT_OK;
out:
	tl_close(&c);
	return rc;
}

/*
 * "verify [-o N] [-g G] [-S STORAGE]": CMD_VERIFY of object N in STORAGE;
 * with -g the generation found must be G.  Returns an exit status.
 */
static int cmd_verify(int argc, char **argv)
{
	struct opts o = { .storage = DEF_STORAGE };
	struct tl_conn c = { .have_ctx = false };
	uint32_t origin = 0;
	uint32_t g = 0;
	uint32_t k = 0;
	TEEC_Result res = TEEC_ERROR_GENERIC;
	int rc = EXIT_FAIL;

	if (parse_opts(argc, argv, "o:g:S:", &o) != EXIT_OK)
		return EXIT_USAGE;

	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	res = ta_verify(&c.sess, o.storage->id, o.object, &g, &k, &origin);
	if (res != TEEC_SUCCESS) {
		char what[64] = { 0 };

		snprintf(what, sizeof(what),
			 "invoke CMD_VERIFY object %" PRIu32, o.object);
		report_teec("", what, res, origin);
		goto out;
	}
	if (o.have_gen && g != o.gen) {
		say(PROG ": verify object %" PRIu32 " generation %" PRIu32
		    " bytes %" PRIu32 " FAIL: expected generation %" PRIu32,
		    o.object, g, k, o.gen);
		goto out;
	}
	say(PROG ": verify object %" PRIu32 " generation %" PRIu32
	    " bytes %" PRIu32 " ok", o.object, g, k);
	rc = EXIT_OK;
out:
	tl_close(&c);
	return rc;
}

/*
 * "delete [-o N] [-S STORAGE]": CMD_DELETE of object N in STORAGE.
 * Returns an exit status.
 */
static int cmd_delete(int argc, char **argv)
{
	struct opts o = { .storage = DEF_STORAGE };
	struct tl_conn c = { .have_ctx = false };
	uint32_t origin = 0;
	TEEC_Result res = TEEC_ERROR_GENERIC;
	int rc = EXIT_FAIL;

	if (parse_opts(argc, argv, "o:S:", &o) != EXIT_OK)
		return EXIT_USAGE;

	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	res = ta_delete(&c.sess, o.storage->id, o.object, &origin);
	if (res != TEEC_SUCCESS) {
		char what[64] = { 0 };

		snprintf(what, sizeof(what),
			 "invoke CMD_DELETE object %" PRIu32, o.object);
		report_teec("", what, res, origin);
		goto out;
	}
	say(PROG ": delete object %" PRIu32 " ok", o.object);
	rc = EXIT_OK;
out:
	tl_close(&c);
	return rc;
}

/*
 * "sleep -t MS": the TA waits MS milliseconds in TEE_Wait(), holding an
 * OP-TEE thread in an RPC.  Returns an exit status.
 */
static int cmd_sleep(int argc, char **argv)
{
	struct opts o = { .have_ms = false };
	struct tl_conn c = { .have_ctx = false };
	uint32_t origin = 0;
	double t0 = 0.0;
	TEEC_Result res = TEEC_ERROR_GENERIC;
	int rc = EXIT_FAIL;

	if (parse_opts(argc, argv, "t:", &o) != EXIT_OK)
		return EXIT_USAGE;
	if (!o.have_ms)
		return bad_usage("sleep: -t MS is required");

	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	t0 = now_s();
	res = ta_sleep(&c.sess, o.ms, &origin);
	if (res != TEEC_SUCCESS) {
		char what[64] = { 0 };

		snprintf(what, sizeof(what), "invoke CMD_SLEEP %" PRIu32 " ms",
			 o.ms);
		report_teec("", what, res, origin);
		goto out;
	}
	say(PROG ": sleep %" PRIu32 " ms ok in %.3f s", o.ms, now_s() - t0);
	rc = EXIT_OK;
out:
	tl_close(&c);
	return rc;
}

/* What every load client does; shared read-only by the client threads. */
struct load_cfg {
	uint32_t clients;	/* number of clients, 1..MAX_CLIENTS */
	uint32_t ops;		/* ops per client */
	uint32_t bytes;		/* payload bytes per write */
	uint32_t sleep_ms;	/* ms per CMD_SLEEP if use_sleep */
	bool use_sleep;		/* CMD_SLEEP instead of CMD_WRITE */
	const struct storage_name *storage;	/* where CMD_WRITE writes */
	double t0;		/* load start, now_s() */
};

/*
 * One load client: its thread, its number (base.id, 1..clients; also its
 * object number) and, after the thread ends, its outcome (base.failed).
 */
struct load_client {
	struct tl_client base;	/* first, for tl_run_clients() */
	const struct load_cfg *cfg;
};

_Static_assert(offsetof(struct load_client, base) == 0,
	       "tl_run_clients() needs struct tl_client first");

/*
 * Prints the detail and the "load FAIL" line for client cl failing at op
 * (0: while opening) with res/origin in step what.
 */
static void load_fail(struct load_client *cl, uint32_t op, const char *what,
		      TEEC_Result res, uint32_t origin)
{
	struct name_buf rb = { { 0 } };
	struct name_buf ob = { { 0 } };
	char prefix[32] = { 0 };

	snprintf(prefix, sizeof(prefix), "client %" PRIu32 " ", cl->base.id);
	report_teec(prefix, what, res, origin);
	say(PROG ": load FAIL client %" PRIu32 " op %" PRIu32 ": %s origin %s",
	    cl->base.id, op, result_name(res, &rb), origin_name(origin, &ob));
	cl->base.failed = true;
}

/*
 * Thread body of load client arg (a struct load_client *): opens its own
 * context and session, then does cfg->ops writes of object id (generation
 * = op number) or sleeps, printing a progress line after each.  Stops at
 * its first failure (cl->base.failed).  Returns NULL.
 */
static void *load_client_main(void *arg)
{
	struct load_client *cl = arg;
	const struct load_cfg *cfg = cl->cfg;
	struct tl_conn c = { .have_ctx = false };
	const char *step = NULL;
	uint32_t origin = 0;
	uint32_t i = 0;
	double t_first = 0.0;
	TEEC_Result res = TEEC_ERROR_GENERIC;

	res = tl_open(&c, &ta_uuid, &origin, &step);
	if (res != TEEC_SUCCESS) {
		load_fail(cl, 0, step, res, origin);
		goto out;
	}
	say(PROG ": client %" PRIu32 " session open", cl->base.id);

	t_first = now_s();
	for (i = 1; i <= cfg->ops; i++) {
		char what[96] = { 0 };

		if (cfg->use_sleep) {
			res = ta_sleep(&c.sess, cfg->sleep_ms, &origin);
			if (res != TEEC_SUCCESS)
				snprintf(what, sizeof(what),
					 "invoke CMD_SLEEP %" PRIu32 " ms",
					 cfg->sleep_ms);
		} else {
			res = ta_write(&c.sess, cfg->storage->id, cl->base.id,
				       cfg->bytes, i, &origin);
			if (res != TEEC_SUCCESS)
				snprintf(what, sizeof(what),
					 "invoke CMD_WRITE object %" PRIu32
					 " generation %" PRIu32
					 " bytes %" PRIu32,
					 cl->base.id, i, cfg->bytes);
		}
		if (res != TEEC_SUCCESS) {
			load_fail(cl, i, what, res, origin);
			goto out;
		}
		say(PROG ": progress client %" PRIu32 " op %" PRIu32
		    "/%" PRIu32 " t=%.3f", cl->base.id, i, cfg->ops,
		    now_s() - cfg->t0);
	}
	say(PROG ": client %" PRIu32 " done %" PRIu32 " ops in %.3f s",
	    cl->base.id, cfg->ops, now_s() - t_first);
out:
	tl_close(&c);
	return NULL;
}

/*
 * "load -c N [-n M] [-b K] [-s MS] [-S STORAGE]": N concurrent clients,
 * each a pthread with its own TEEC context and session, writing to STORAGE
 * (ignored with -s).  Returns EXIT_OK if every client did all its ops,
 * EXIT_FAIL otherwise (the other clients still finish).
 */
static int cmd_load(int argc, char **argv)
{
	struct opts o = { .ops = DEF_LOAD_OPS, .bytes = DEF_BYTES,
			  .storage = DEF_STORAGE };
	struct load_cfg cfg = { .clients = 0 };
	struct load_client *cl = NULL;
	uint32_t i = 0;
	int failed = 0;
	int rc = EXIT_FAIL;

	if (parse_opts(argc, argv, "c:n:b:s:S:", &o) != EXIT_OK)
		return EXIT_USAGE;
	if (!o.have_clients)
		return bad_usage("load: -c N is required");
	cfg.clients = o.clients;
	cfg.ops = o.ops;
	cfg.bytes = o.bytes;
	cfg.sleep_ms = o.ms;
	cfg.use_sleep = o.have_ms;
	cfg.storage = o.storage;

	cl = tl_alloc_clients("load", cfg.clients, sizeof(*cl));
	if (!cl)
		goto out;
	for (i = 0; i < cfg.clients; i++)
		cl[i].cfg = &cfg;

	if (cfg.use_sleep)
		say(PROG ": load clients %" PRIu32 " ops %" PRIu32
		    " bytes 0 sleep %" PRIu32 " ms",
		    cfg.clients, cfg.ops, cfg.sleep_ms);
	else
		say(PROG ": load clients %" PRIu32 " ops %" PRIu32
		    " bytes %" PRIu32 " storage %s", cfg.clients, cfg.ops,
		    cfg.bytes, cfg.storage->name);
	cfg.t0 = now_s();

	failed = tl_run_clients("load", cl, sizeof(*cl), cfg.clients,
				load_client_main);
	if (failed < 0)
		goto out;
	if (failed) {
		say(PROG ": load FAIL %d of %" PRIu32 " clients failed", failed,
		    cfg.clients);
		goto out;
	}
	say(PROG ": load PASS %" PRIu32 " clients %" PRIu32 " ops",
	    cfg.clients, cfg.ops);
	rc = EXIT_OK;
out:
	free(cl);
	return rc;
}

/* The subcommands, for tl_main(). */
static const struct tl_cmd cmds[] = {
	{ "write", cmd_write },
	{ "verify", cmd_verify },
	{ "delete", cmd_delete },
	{ "sleep", cmd_sleep },
	{ "load", cmd_load },
};

/* Runs the subcommand argv[1] names.  Returns the exit status. */
int main(int argc, char **argv)
{
	return tl_main(argc, argv, cmds, TL_ARRAY_SIZE(cmds));
}
