// SPDX-License-Identifier: MIT
/*
 * tl_shm.c - tl-shm, the normal-world client of the teelab-shm Trusted
 * Application (images/ta/teelab-shm).
 *
 * teelab's own code, for the teelab QEMU lab (Linux TEE subsystem and
 * OP-TEE).  It exercises OP-TEE shared memory of both kinds the TEE Client
 * API offers, "registered" (the client's own page-aligned buffer, given to
 * TEEC_RegisterSharedMemory) and "allocated" (TEEC_AllocateSharedMemory),
 * at sizes up to several MiB (4 MiB is what the kernel's tee_bnxt_fw driver
 * shares), by a round trip through the TA: the client writes a pattern, the
 * TA checks it and writes another, the client checks that.  It can keep
 * such buffers registered while the kernel kexecs or crashes into kdump
 * (hold), and it can park OP-TEE threads in an RPC (sleep: the TA sits in
 * TEE_Wait).
 *
 * GlobalPlatform TEE Client API Specification v1.0 sections used:
 *  - §4.3  Types: TEEC_Context, TEEC_Session, TEEC_SharedMemory, TEEC_UUID,
 *          TEEC_Operation, TEEC_Value, TEEC_RegisteredMemoryReference.
 *  - §4.4  Constants: return codes (printed by name), return origins
 *          (TEEC_ORIGIN_*), parameter types (TEEC_MEMREF_WHOLE,
 *          TEEC_VALUE_INPUT, TEEC_VALUE_INOUT, TEEC_NONE), shared memory
 *          flags (TEEC_MEM_INPUT, TEEC_MEM_OUTPUT), TEEC_LOGIN_PUBLIC.
 *  - §4.5  Functions: TEEC_InitializeContext, TEEC_FinalizeContext,
 *          TEEC_RegisterSharedMemory, TEEC_AllocateSharedMemory,
 *          TEEC_ReleaseSharedMemory, TEEC_OpenSession, TEEC_CloseSession,
 *          TEEC_InvokeCommand, TEEC_PARAM_TYPES.
 * The TA side uses GlobalPlatform TEE Internal Core API v1.3 (§4.3 memory
 * reference parameters, §7.2 TEE_Wait); see the TA's README.md.
 *
 * Output: every line goes to stdout with a single write(2), so lines from
 * concurrent clients never interleave; usage goes to stderr.
 * Exit status: 0 success, 1 a TEE/TA operation failed or a check failed,
 * 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

#include <teelab_shm_ta.h>

#define PROG			"tl-shm"

#include <tl_guest.h>

/* Defaults and limits of the command line. */
#define DEF_SIZES		"4K,64K,1M,4M"
#define MAX_SIZES		16u
#define MAX_ROUNDS		100000u
#define MAX_CLIENTS		1024u
#define MAX_SLEEP_MS		3600000u
#define MAX_HOLD_S		(366u * 24u * 3600u)

/* getopt_long() value of --break; outside the range of option letters. */
#define OPT_BREAK		0x100

static const TEEC_UUID ta_uuid = TEELAB_SHM_TA_UUID;

/* The two kinds of shared memory of the TEE Client API. */
enum shm_kind {
	KIND_REGISTERED,	/* our buffer, TEEC_RegisterSharedMemory */
	KIND_ALLOCATED,		/* TEEC_AllocateSharedMemory's buffer */
	KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
	[KIND_REGISTERED] = "registered",
	[KIND_ALLOCATED] = "allocated",
};

/* One shared memory buffer and what of it is set up. */
struct tl_buf {
	TEEC_SharedMemory shm;
	void *mem;		/* KIND_REGISTERED: our posix_memalign() block */
	enum shm_kind kind;
	uint32_t size;		/* bytes shared with the TA */
	bool have_shm;		/* registered / allocated, to be released */
};

/*
 * Sets up b as a shared memory buffer of kind and size bytes (1..
 * TEELAB_SHM_MAX_SIZE) in context ctx, readable and writable by the TA
 * (TEEC_MEM_INPUT | TEEC_MEM_OUTPUT):
 *  - KIND_REGISTERED: a page-aligned block from posix_memalign(), rounded
 *    up to whole pages, whose first size bytes go to
 *    TEEC_RegisterSharedMemory;
 *  - KIND_ALLOCATED: TEEC_AllocateSharedMemory of size bytes.
 * Returns true on success.  On failure writes ": <step>: <reason>" to why
 * (why_size bytes) and returns false; tl_buf_release() b either way.
 */
static bool tl_buf_setup(TEEC_Context *ctx, struct tl_buf *b,
			 enum shm_kind kind, uint32_t size, char *why,
			 size_t why_size)
{
	TEEC_Result res = TEEC_ERROR_GENERIC;
	const char *step = NULL;
	long page = sysconf(_SC_PAGESIZE);
	size_t alloc = 0;
	char msg[256] = { 0 };
	int err = 0;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->size = size;
	b->shm.size = size;
	b->shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;

	if (kind == KIND_REGISTERED) {
		if (page <= 0)
			page = 4096;
		alloc = ((size_t)size + (size_t)page - 1) /
			(size_t)page * (size_t)page;
		err = posix_memalign(&b->mem, (size_t)page, alloc);
		if (err) {
			b->mem = NULL;
			snprintf(why, why_size, ": posix_memalign %zu: %s",
				 alloc, strerror(err));
			return false;
		}
		b->shm.buffer = b->mem;
		step = "TEEC_RegisterSharedMemory";
		res = TEEC_RegisterSharedMemory(ctx, &b->shm);
	} else {
		step = "TEEC_AllocateSharedMemory";
		res = TEEC_AllocateSharedMemory(ctx, &b->shm);
	}
	if (res != TEEC_SUCCESS) {
		/* Neither function reports an origin: TEEC_ORIGIN_API. */
		format_teec(msg, sizeof(msg), step, res, TEEC_ORIGIN_API);
		snprintf(why, why_size, ": %s", msg);
		return false;
	}
	b->have_shm = true;
	return true;
}

/* Releases what tl_buf_setup() set up in b. */
static void tl_buf_release(struct tl_buf *b)
{
	if (b->have_shm)
		TEEC_ReleaseSharedMemory(&b->shm);
	b->have_shm = false;
	free(b->mem);
	b->mem = NULL;
}

/*
 * One round trip on buffer b in session s: fills it with pattern seed,
 * invokes CMD_ROUNDTRIP on the whole buffer (TEEC_MEMREF_WHOLE), then
 * checks that it holds pattern seed + 1 (seed + 2 if brk: a check meant to
 * fail).  Returns true if all is well.  Otherwise writes the reason to why
 * (why_size bytes), either " at offset N: <reason>" (the content is wrong
 * at buffer offset N) or ": <step>: <NAME> (0x...) origin <ORIGIN>" (a
 * TEE Client API call failed), and returns false.
 */
static bool roundtrip(TEEC_Session *s, struct tl_buf *b, uint32_t seed,
		      bool brk, char *why, size_t why_size)
{
	TEEC_Operation op = { 0 };
	TEEC_Result res = TEEC_ERROR_GENERIC;
	uint8_t *p = b->shm.buffer;
	uint32_t origin = 0;
	uint32_t want = seed + (brk ? 2u : 1u);
	uint32_t bad = TEELAB_SHM_ALL_GOOD;
	char msg[256] = { 0 };

	teelab_shm_fill(p, b->size, seed);

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_VALUE_INOUT,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &b->shm;
	op.params[1].value.a = seed;
	op.params[1].value.b = 0;
	res = TEEC_InvokeCommand(s, TEELAB_SHM_CMD_ROUNDTRIP, &op, &origin);
	if (res == TL_ERROR_CORRUPT_OBJECT &&
	    origin == TEEC_ORIGIN_TRUSTED_APP) {
		bad = op.params[1].value.a;
		format_teec(msg, sizeof(msg), "invoke CMD_ROUNDTRIP", res,
			    origin);
		snprintf(why, why_size, " at offset %" PRIu32
			 ": the TA did not see pattern seed %" PRIu32 ": %s",
			 bad, seed, msg);
		return false;
	}
	if (res != TEEC_SUCCESS) {
		format_teec(msg, sizeof(msg), "invoke CMD_ROUNDTRIP", res,
			    origin);
		snprintf(why, why_size, ": %s", msg);
		return false;
	}
	if (op.params[1].value.a != TEELAB_SHM_ALL_GOOD ||
	    op.params[1].value.b != b->size) {
		snprintf(why, why_size, " at offset %" PRIu32
			 ": the TA returned success but checked %" PRIu32
			 " of %" PRIu32 " bytes (first bad 0x%08" PRIx32 ")",
			 op.params[1].value.b, op.params[1].value.b, b->size,
			 op.params[1].value.a);
		return false;
	}

	bad = teelab_shm_check(p, b->size, want);
	if (bad != TEELAB_SHM_ALL_GOOD) {
		snprintf(why, why_size, " at offset %" PRIu32 ": byte 0x%02x,"
			 " expected 0x%02x (pattern seed %" PRIu32 ")%s", bad,
			 p[bad], teelab_shm_pattern(want, bad), want,
			 brk ? "; --break: checked against a wrong pattern"
			       " on purpose" : "");
		return false;
	}
	return true;
}

/*
 * Seed of check number k (0-based, counted over the whole run).  A stride
 * of 4 keeps seed, seed + 1 (the TA's pattern) and seed + 2 (--break) of
 * one check apart from those of the next; patterns depend on the seed
 * modulo 256.
 */
static uint32_t check_seed(uint32_t k)
{
	return 4u * k + 1u;
}

/* Prints the usage to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " roundtrip [-s SIZES] [-n ROUNDS] [--break]\n"
		"       " PROG " hold      [-s SIZES] [-t SECONDS]\n"
		"       " PROG " sleep     -m MS [-c CLIENTS]\n"
		"\n"
		"  roundtrip  one session; for every round (default 1, 1..%u),\n"
		"             size and kind of shared memory (registered,\n"
		"             allocated): fill with a pattern, the TA checks it\n"
		"             and writes the next one, check that.  --break checks\n"
		"             against a wrong pattern so that every check fails.\n"
		"  hold       one session; set up every size of both kinds, one\n"
		"             round trip each, then keep them for SECONDS (0 or\n"
		"             absent: until SIGTERM/SIGINT/SIGHUP) and release\n"
		"  sleep      CLIENTS threads (default 1, 1..%u), each with its own\n"
		"             context and session; the TA waits MS milliseconds\n"
		"             (0..%u) in TEE_Wait(), an RPC\n"
		"\n"
		"  -s SIZES   comma list of sizes in bytes, K = 1024, M = 1048576,\n"
		"             1..%u bytes each, at most %u sizes (default "
		DEF_SIZES ")\n"
		"\n"
		"TA " TEELAB_SHM_TA_UUID_STR ".\n"
		"Exit status: 0 ok, 1 TEE/TA failure or a check failed, 2 usage.\n",
		MAX_ROUNDS, MAX_CLIENTS, MAX_SLEEP_MS, TEELAB_SHM_MAX_SIZE,
		MAX_SIZES);
}

/*
 * Parses size list s ("4K,64K,1M,4M"): comma-separated decimal numbers,
 * each with an optional suffix K or k (x 1024) or M or m (x 1048576), each
 * 1..TEELAB_SHM_MAX_SIZE bytes, at most MAX_SIZES of them, no empty
 * elements.  Stores them in sizes[] and their number in *n.  Returns false
 * (leaving *n unspecified) on anything else.
 */
static bool parse_sizes(const char *s, uint32_t sizes[MAX_SIZES],
			uint32_t *n)
{
	const char *p = s;

	*n = 0;
	if (!s)
		return false;
	for (;;) {
		unsigned long long v = 0;
		unsigned long long mul = 1;
		char *end = NULL;

		if (*p < '0' || *p > '9' || *n == MAX_SIZES)
			return false;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno)
			return false;
		if (*end == 'K' || *end == 'k') {
			mul = 1024u;
			end++;
		} else if (*end == 'M' || *end == 'm') {
			mul = 1024u * 1024u;
			end++;
		}
		if (v == 0 || v > TEELAB_SHM_MAX_SIZE / mul)
			return false;
		sizes[(*n)++] = (uint32_t)(v * mul);
		if (*end == '\0')
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

/*
 * The options of a subcommand.  The caller sets the defaults, then
 * parse_opts() stores what the command line gives.
 */
struct opts {
	uint32_t sizes[MAX_SIZES];	/* -s: buffer sizes, bytes */
	uint32_t nsizes;		/* -s: number of sizes */
	uint32_t rounds;		/* -n: rounds */
	uint32_t seconds;		/* -t: hold time, 0 = forever */
	uint32_t ms;			/* -m: sleep, if have_ms */
	uint32_t clients;		/* -c: sleep clients */
	bool brk;			/* --break */
	bool have_ms;
};

/* Long options: none, or --break (roundtrip only). */
static const struct option no_long_opts[] = {
	{ NULL, 0, NULL, 0 },
};

static const struct option break_long_opts[] = {
	{ "break", no_argument, NULL, OPT_BREAK },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parses the options of subcommand argv[0] that getopt string optstr and
 * long option table longopts allow into *o: -s SIZES (parse_sizes()), -n
 * ROUNDS 1..MAX_ROUNDS, -t SECONDS 0..MAX_HOLD_S, -m MS 0..MAX_SLEEP_MS, -c
 * CLIENTS 1..MAX_CLIENTS, --break.  No other arguments may follow.
 * Returns EXIT_OK, or EXIT_USAGE after reporting the first error.
 */
static int parse_opts(int argc, char **argv, const char *optstr,
		      const struct option *longopts, struct opts *o)
{
	char msg[96] = { 0 };
	char name[4] = { 0 };
	int opt = 0;

	while ((opt = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		bool ok = false;

		switch (opt) {
		case 's':
			ok = parse_sizes(optarg, o->sizes, &o->nsizes);
			break;
		case 'n':
			ok = parse_u32(optarg, 1, MAX_ROUNDS, &o->rounds);
			break;
		case 't':
			ok = parse_u32(optarg, 0, MAX_HOLD_S, &o->seconds);
			break;
		case 'm':
			ok = parse_u32(optarg, 0, MAX_SLEEP_MS, &o->ms);
			o->have_ms = true;
			break;
		case 'c':
			ok = parse_u32(optarg, 1, MAX_CLIENTS, &o->clients);
			break;
		case OPT_BREAK:
			o->brk = true;
			ok = true;
			break;
		default:
			snprintf(msg, sizeof(msg),
				 "%s: unknown option or missing value: '%s'",
				 argv[0], argv[optind - 1]);
			return bad_usage(msg);
		}
		if (!ok) {
			snprintf(name, sizeof(name), "-%c", opt);
			return bad_arg(name, optarg);
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "%s: unexpected argument '%s'",
			 argv[0], argv[optind]);
		return bad_usage(msg);
	}
	return EXIT_OK;
}

/*
 * Default options: sizes DEF_SIZES, 1 round, hold forever, 1 client, no
 * -m, no --break.
 */
static void default_opts(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	if (!parse_sizes(DEF_SIZES, o->sizes, &o->nsizes))
		abort();	/* DEF_SIZES is a valid list */
	o->rounds = 1;
	o->clients = 1;
}

/*
 * "roundtrip [-s SIZES] [-n ROUNDS] [--break]": in one context and session,
 * for every round, size and kind, a fresh buffer and one round trip.
 * Prints one line per check and a summary.  Returns EXIT_OK if every check
 * passed, else EXIT_FAIL (all checks still run).
 */
static int cmd_roundtrip(int argc, char **argv)
{
	struct opts o;
	struct tl_conn c = { .have_ctx = false };
	uint32_t checks = 0;
	uint32_t failed = 0;
	uint32_t r = 0;
	uint32_t i = 0;
	int kind = 0;
	int rc = EXIT_FAIL;

	default_opts(&o);
	if (parse_opts(argc, argv, "s:n:", break_long_opts, &o) != EXIT_OK)
		return EXIT_USAGE;

	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	for (r = 1; r <= o.rounds; r++) {
		for (i = 0; i < o.nsizes; i++) {
			for (kind = 0; kind < KIND_COUNT; kind++) {
				struct tl_buf b;
				char why[320] = { 0 };
				bool ok = false;

				ok = tl_buf_setup(&c.ctx, &b, kind,
						  o.sizes[i], why,
						  sizeof(why)) &&
				     roundtrip(&c.sess, &b,
					       check_seed(checks), o.brk,
					       why, sizeof(why));
				tl_buf_release(&b);
				checks++;
				if (ok) {
					say(PROG ": roundtrip %s %" PRIu32
					    " round %" PRIu32 " ok",
					    kind_names[kind], o.sizes[i], r);
					continue;
				}
				failed++;
				say(PROG ": roundtrip %s %" PRIu32
				    " round %" PRIu32 " FAIL%s",
				    kind_names[kind], o.sizes[i], r, why);
			}
		}
	}
	if (failed) {
		say(PROG ": roundtrip FAIL (%" PRIu32 " of %" PRIu32
		    " checks failed)", failed, checks);
		goto out;
	}
	say(PROG ": roundtrip PASS (%" PRIu32 " checks)", checks);
	rc = EXIT_OK;
out:
	tl_close(&c);
	return rc;
}

/*
 * Waits until seconds have passed (0: forever) or SIGTERM, SIGINT or SIGHUP
 * arrives; these are blocked on entry, so none is lost between checks.
 * Returns the signal number, or 0 if the time ran out.
 */
static int hold_wait(uint32_t seconds)
{
	sigset_t set;
	double end = now_s() + (double)seconds;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (;;) {
		struct timespec ts = { 0, 0 };
		double left = end - now_s();
		int sig = 0;

		if (seconds == 0) {
			sig = sigwaitinfo(&set, NULL);
		} else {
			if (left <= 0.0)
				return 0;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(&set, NULL, &ts);
		}
		if (sig > 0)
			return sig;
		/* EINTR (another signal), or EAGAIN: look at the time again */
	}
}

/* Returns the name of a signal hold_wait() returns. */
static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "signal";
	}
}

/*
 * "hold [-s SIZES] [-t SECONDS]": in one context and session, sets up
 * every size of both kinds and does one round trip on each (one line per
 * buffer), then keeps them all registered for SECONDS (0: until a
 * signal), releases them and exits.  Returns EXIT_OK, or EXIT_FAIL if a
 * buffer could not be set up or its round trip failed (then nothing is
 * held).
 */
static int cmd_hold(int argc, char **argv)
{
	struct opts o;
	struct tl_conn c = { .have_ctx = false };
	struct tl_buf *bufs = NULL;
	uint32_t nbufs = 0;
	uint32_t nheld = 0;
	uint64_t bytes = 0;
	uint32_t i = 0;
	int kind = 0;
	double t0 = 0.0;
	int sig = 0;
	int rc = EXIT_FAIL;

	default_opts(&o);
	if (parse_opts(argc, argv, "s:t:", no_long_opts, &o) != EXIT_OK)
		return EXIT_USAGE;

	nbufs = o.nsizes * KIND_COUNT;
	bufs = calloc(nbufs, sizeof(*bufs));
	if (!bufs) {
		say(PROG ": hold: out of memory for %" PRIu32 " buffers",
		    nbufs);
		goto out;
	}
	if (!tl_open_report(&c, &ta_uuid))
		goto out;
	for (i = 0; i < o.nsizes; i++) {
		for (kind = 0; kind < KIND_COUNT; kind++) {
			struct tl_buf *b = &bufs[nheld];
			char why[320] = { 0 };
			bool ok = false;

			ok = tl_buf_setup(&c.ctx, b, kind, o.sizes[i], why,
					  sizeof(why));
			nheld++;	/* tl_buf_release() it in any case */
			if (ok)
				ok = roundtrip(&c.sess, b, check_seed(nheld - 1),
					       false, why, sizeof(why));
			if (!ok) {
				say(PROG ": hold %s %" PRIu32 " FAIL%s",
				    kind_names[kind], o.sizes[i], why);
				goto out;
			}
			say(PROG ": hold %s %" PRIu32 " ok", kind_names[kind],
			    o.sizes[i]);
			bytes += o.sizes[i];
		}
	}

	say(PROG ": holding %" PRIu32 " buffers (%" PRIu64
	    " bytes) in 1 session", nheld, bytes);
	t0 = now_s();
	sig = hold_wait(o.seconds);
	if (sig)
		say(PROG ": hold stopped by %s after %.3f s", sig_name(sig),
		    now_s() - t0);
	rc = EXIT_OK;
out:
	for (i = 0; i < nheld; i++)
		tl_buf_release(&bufs[i]);
	tl_close(&c);
	if (rc == EXIT_OK)
		say(PROG ": released %" PRIu32 " buffers after %.3f s", nheld,
		    now_s() - t0);
	free(bufs);
	return rc;
}

/* What every sleep client does; shared read-only by the client threads. */
struct sleep_cfg {
	uint32_t ms;		/* CMD_SLEEP milliseconds */
	double t0;		/* start, now_s() */
};

/*
 * One sleep client: its thread, its number (base.id, 1..clients) and,
 * after the thread ends, its outcome (base.failed).
 */
struct sleep_client {
	struct tl_client base;	/* first, for tl_run_clients() */
	const struct sleep_cfg *cfg;
};

_Static_assert(offsetof(struct sleep_client, base) == 0,
	       "tl_run_clients() needs struct tl_client first");

/*
 * Thread body of sleep client arg (a struct sleep_client *): opens its own
 * context and session and invokes CMD_SLEEP once, with a line before and
 * after.  Sets cl->base.failed unless all returned TEEC_SUCCESS.  Returns
 * NULL.
 */
static void *sleep_client_main(void *arg)
{
	struct sleep_client *cl = arg;
	struct tl_conn c = { .have_ctx = false };
	TEEC_Operation op = { 0 };
	struct name_buf rb = { { 0 } };
	struct name_buf ob = { { 0 } };
	char prefix[32] = { 0 };
	const char *step = NULL;
	uint32_t origin = 0;
	double t = 0.0;
	TEEC_Result res = TEEC_ERROR_GENERIC;

	cl->base.failed = true;
	res = tl_open(&c, &ta_uuid, &origin, &step);
	if (res != TEEC_SUCCESS) {
		snprintf(prefix, sizeof(prefix), "client %" PRIu32 " ",
			 cl->base.id);
		report_teec(prefix, step, res, origin);
		goto out;
	}

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = cl->cfg->ms;
	say(PROG ": client %" PRIu32 " sleeping %" PRIu32 " ms in the TA",
	    cl->base.id, cl->cfg->ms);
	t = now_s();
	res = TEEC_InvokeCommand(&c.sess, TEELAB_SHM_CMD_SLEEP, &op, &origin);
	say(PROG ": client %" PRIu32 " woke: 0x%08" PRIx32 " %s origin %s"
	    " after %.3f s", cl->base.id, (uint32_t)res,
	    result_name(res, &rb), origin_name(origin, &ob), now_s() - t);
	cl->base.failed = res != TEEC_SUCCESS;
out:
	tl_close(&c);
	return NULL;
}

/*
 * "sleep -m MS [-c CLIENTS]": CLIENTS threads, each with its own context
 * and session, invoke CMD_SLEEP(MS) at the same time.  Returns EXIT_OK if
 * every invoke returned TEEC_SUCCESS, else EXIT_FAIL.
 */
static int cmd_sleep(int argc, char **argv)
{
	struct opts o;
	struct sleep_cfg cfg = { .ms = 0 };
	struct sleep_client *cl = NULL;
	uint32_t i = 0;
	int failed = 0;
	int rc = EXIT_FAIL;

	default_opts(&o);
	if (parse_opts(argc, argv, "m:c:", no_long_opts, &o) != EXIT_OK)
		return EXIT_USAGE;
	if (!o.have_ms)
		return bad_usage("sleep: -m MS is required");
	cfg.ms = o.ms;

	cl = tl_alloc_clients("sleep", o.clients, sizeof(*cl));
	if (!cl)
		goto out;
	for (i = 0; i < o.clients; i++)
		cl[i].cfg = &cfg;

	cfg.t0 = now_s();
	failed = tl_run_clients("sleep", cl, sizeof(*cl), o.clients,
				sleep_client_main);
	if (failed < 0)
		goto out;
	if (failed) {
		say(PROG ": sleep FAIL (%d of %" PRIu32 " clients failed)",
		    failed, o.clients);
		goto out;
	}
	say(PROG ": sleep PASS (%" PRIu32 " clients, %.3f s)", o.clients,
	    now_s() - cfg.t0);
	rc = EXIT_OK;
out:
	free(cl);
	return rc;
}

/* The subcommands, for tl_main(). */
static const struct tl_cmd cmds[] = {
	{ "roundtrip", cmd_roundtrip },
	{ "hold", cmd_hold },
	{ "sleep", cmd_sleep },
};

/* Runs the subcommand argv[1] names.  Returns the exit status. */
int main(int argc, char **argv)
{
	return tl_main(argc, argv, cmds, TL_ARRAY_SIZE(cmds));
}
