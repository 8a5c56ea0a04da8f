// SPDX-License-Identifier: MIT
/*
 * tl_ctx.c - tl-ctx, the normal-world client of teelab's TEE context
 * lifetime scenarios (ctx-lifetime, supp-race) and of the teelab-ctx TA
 * (images/ta/teelab-ctx).
 *
 * teelab's own code. It drives /dev/tee0 with the raw TEE ioctls of
 * <linux/tee.h> (no libteec), so every file descriptor is under its
 * control: the device file, each shared memory object's fd
 * (TEE_IOC_SHM_ALLOC, TEE_IOC_SHM_REGISTER), its mappings, and fds passed
 * to another process with SCM_RIGHTS. What it shows, case by case:
 *
 *  - the Linux TEE core keeps a context alive while anything refers to it:
 *    the device file and every tee_shm (each takes a context reference);
 *    the OP-TEE driver closes the context's sessions in OP-TEE only when
 *    the last reference goes (optee_release); 6.18's close_context callback
 *    (called when the device file is closed) is implemented by the
 *    Qualcomm driver only;
 *  - what OP-TEE holds is read back from OP-TEE itself, through its
 *    statistics PTA (d96a5b40-e2c7-b1af-8794-1002a5d5c61b, core/pta/stats.c
 *    in optee_os): STATS_CMD_TA_STATS (every loaded user TA context and its
 *    session count, CFG_TA_STATS=y) and STATS_CMD_ALLOC_STATS (core heap and
 *    TA RAM allocation). The layouts below are OP-TEE 4.10's
 *    (lib/libutee/include/pta_stats.h): struct pta_stats_alloc is 64 bytes
 *    since free2_sum was added (56 in 4.5).
 *
 * Every check prints "tl-ctx: <case> PASS ..." or "tl-ctx: <case> FAIL:
 * <why>" as its last line. Exit status: 0 pass, 1 a check or a TEE call
 * failed, 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/tee.h>

#include <teelab_ctx_ta.h>

#define PROG			"tl-ctx"

#include <tl_guest.h>

/* The TEE device of the OP-TEE driver (clients; tee-supplicant has teepriv0). */
#define TEE_DEV			"/dev/tee0"

/* GP TEE result codes (TEE Internal Core API v1.3 §3.3.3). */
#define TL_TEE_SUCCESS		0x00000000u
#define TL_TEE_ERROR_ITEM_NOT_FOUND 0xFFFF0008u
#define TL_TEE_ERROR_SHORT_BUFFER 0xFFFF0010u

/* The statistics PTA (optee_os lib/libutee/include/pta_stats.h, 4.10). */
#define STATS_UUID_STR		"d96a5b40-e2c7-b1af-8794-1002a5d5c61b"
#define STATS_CMD_ALLOC_STATS	1
#define STATS_CMD_TA_STATS	3
#define ALLOC_ID_HEAP		1
#define ALLOC_ID_TA_RAM		3

struct stats_alloc {		/* struct pta_stats_alloc, 64 bytes in 4.10 */
	char desc[32];
	uint64_t free2_sum;
	uint32_t allocated;	/* bytes currently allocated */
	uint32_t max_allocated;
	uint32_t size;
	uint32_t num_alloc_fail;
	uint32_t biggest_alloc_fail;
	uint32_t biggest_alloc_fail_used;
};

struct stats_ta {		/* struct pta_stats_ta, 88 bytes in 4.10 */
	uint32_t time_low;	/* TEE_UUID, native byte order */
	uint16_t time_mid;
	uint16_t time_hi_and_version;
	uint8_t clock_seq_and_node[8];
	uint32_t panicked;
	uint32_t sess_num;
	struct stats_alloc heap;
};

_Static_assert(sizeof(struct stats_alloc) == 64, "OP-TEE 4.10 pta_stats_alloc");
_Static_assert(sizeof(struct stats_ta) == 88, "OP-TEE 4.10 pta_stats_ta");

/* Largest number of loaded TA contexts read back at once. */
#define MAX_TA_STATS		128

/* Defaults of the command line. */
#define DEF_ALLOC_SIZE		(64u * 1024u)
#define DEF_REG_SIZE		(1024u * 1024u)
#define DEF_SESSIONS		4u
#define DEF_SLEEP_MS		3000u
#define DEF_KILL_AFTER_MS	1000u
#define DEF_BASELINE		"/tmp/tl-ctx.baseline"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " <command> [options]\n"
		"  stats                      OP-TEE's heap and TA RAM allocation, loaded TAs\n"
		"  baseline [-f FILE]         save the heap and TA RAM allocation (default " DEF_BASELINE ")\n"
		"  check [-f FILE] [-t BYTES] allocation back to the baseline (within BYTES, default 0),\n"
		"                             no teelab-ctx session left in OP-TEE\n"
		"  roundtrip -T TAG           open a session, round-trip 64 KiB, close it\n"
		"  shm-outlives -T TAG [--break]\n"
		"                             close /dev/tee0 while shm lives: the session stays open\n"
		"                             in OP-TEE until the last shm fd or mapping goes\n"
		"  shm-passed -T TAG          the same with the shm fd passed (SCM_RIGHTS) to a\n"
		"                             process that outlives the owner\n"
		"  leave-open -T TAG [-n K]   a child opens K sessions and exits without closing them\n"
		"  close-during-invoke -T TAG [-m MS]\n"
		"                             close /dev/tee0 while another thread sleeps MS in the TA\n"
		"  killed-in-wait -T TAG [-m MS] [-k MS]\n"
		"                             SIGKILL a client -k MS into a -m MS TA sleep\n"
		"  supp-race -u UUID -F FIFO [-k MS]\n"
		"                             a client's TA load blocks in tee-supplicant (FIFO);\n"
		"                             SIGKILL the client, then let the supplicant answer\n");
}

/* ---- the raw TEE ioctls ------------------------------------------------ */

/* Parse a UUID string into the 16 octets the TEE ioctls take (RFC 4122 order). */
static bool parse_uuid(const char *s, uint8_t out[TEE_IOCTL_UUID_LEN])
{
	size_t n = 0;

	for (; *s && n < 2 * TEE_IOCTL_UUID_LEN; s++) {
		int v = 0;

		if (*s == '-')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return false;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return !*s && n == 2 * TEE_IOCTL_UUID_LEN;
}

/* open(/dev/tee0). Returns the fd, or -1 (reported). */
static int tee_open(const char *what)
{
	int fd = open(TEE_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		say(PROG ": %s: open " TEE_DEV ": %s", what, strerror(errno));
	return fd;
}

/* A value parameter of type @attr (TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_*) with a = @a. */
static struct tee_ioctl_param value_param(uint64_t attr, uint64_t a)
{
	return (struct tee_ioctl_param){ .attr = attr, .a = a };
}

/*
 * A memory reference of type @attr (TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_*) to
 * the first @size bytes of shm @shm_id (<linux/tee.h>: a offset, b size,
 * c shm id).
 */
static struct tee_ioctl_param memref_param(uint64_t attr, int shm_id, size_t size)
{
	return (struct tee_ioctl_param){ .attr = attr, .a = 0, .b = size, .c = (uint64_t)shm_id };
}

/*
 * A TEE ioctl that takes a struct tee_ioctl_buf_data (@len bytes at @buf:
 * the argument and its parameters). false if it failed (reported as @what).
 */
static bool buf_ioctl(int fd, unsigned long req, void *buf, size_t len, const char *what)
{
	struct tee_ioctl_buf_data data = { .buf_ptr = (uintptr_t)buf, .buf_len = len };

	if (!ioctl(fd, req, &data))
		return true;
	say(PROG ": %s: %s", what, strerror(errno));
	return false;
}

/*
 * TEE_IOC_OPEN_SESSION with @nparams parameters (0 or 1: value input
 * a = @tag), public login. On success *@session is the session id.
 * Returns the TEE result (0 success); an ioctl failure is reported and
 * returned as 0xFFFF0000 (TEE_ERROR_GENERIC).
 */
static uint32_t open_session(int fd, const char *uuid, unsigned nparams,
			     uint32_t tag, uint32_t *session)
{
	struct {
		struct tee_ioctl_open_session_arg arg;
		struct tee_ioctl_param params[1];
	} buf;

	memset(&buf, 0, sizeof(buf));
	if (!parse_uuid(uuid, buf.arg.uuid))
		return 0xFFFF0006u;	/* TEE_ERROR_BAD_PARAMETERS */
	buf.arg.clnt_login = TEE_IOCTL_LOGIN_PUBLIC;
	buf.arg.num_params = nparams;
	buf.params[0] = value_param(TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, tag);
	if (!buf_ioctl(fd, TEE_IOC_OPEN_SESSION, &buf,
		       nparams ? sizeof(buf) : sizeof(buf.arg), "TEE_IOC_OPEN_SESSION"))
		return 0xFFFF0000u;
	if (buf.arg.ret)
		say(PROG ": open session %s: 0x%08" PRIx32 " origin %" PRIu32, uuid,
		    (uint32_t)buf.arg.ret, (uint32_t)buf.arg.ret_origin);
	*session = buf.arg.session;
	return buf.arg.ret;
}

/* TEE_IOC_CLOSE_SESSION. 0 or -1 (reported). */
static int close_session(int fd, uint32_t session)
{
	struct tee_ioctl_close_session_arg arg = { .session = session };

	if (!ioctl(fd, TEE_IOC_CLOSE_SESSION, &arg))
		return 0;
	say(PROG ": TEE_IOC_CLOSE_SESSION %" PRIu32 ": %s", session, strerror(errno));
	return -1;
}

/*
 * TEE_IOC_INVOKE of @func with the @n parameters @p (updated in place on
 * return). Returns the TEE result; an ioctl failure is reported and
 * returned as 0xFFFF0000.
 */
static uint32_t invoke(int fd, uint32_t session, uint32_t func,
		       struct tee_ioctl_param *p, unsigned n)
{
	struct {
		struct tee_ioctl_invoke_arg arg;
		struct tee_ioctl_param params[4];
	} buf;

	memset(&buf, 0, sizeof(buf));
	buf.arg.func = func;
	buf.arg.session = session;
	buf.arg.num_params = 4;
	memcpy(buf.params, p, n * sizeof(*p));
	if (!buf_ioctl(fd, TEE_IOC_INVOKE, &buf, sizeof(buf), "TEE_IOC_INVOKE"))
		return 0xFFFF0000u;
	memcpy(p, buf.params, n * sizeof(*p));
	return buf.arg.ret;
}

/* A tee_shm: its fd (the object's only handle), id and mapping. */
struct shm {
	int fd;
	int id;
	void *map;	/* mmap of an allocated shm, or the registered buffer */
	size_t size;
};

/*
 * TEE_IOC_SHM_ALLOC of @size bytes, then mmap of the returned fd. 0 or -1
 * (reported).
 */
static int shm_alloc(int fd, size_t size, struct shm *s)
{
	struct tee_ioctl_shm_alloc_data d = { .size = size };

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(fd, TEE_IOC_SHM_ALLOC, &d);
	if (s->fd < 0) {
		say(PROG ": TEE_IOC_SHM_ALLOC %zu: %s", size, strerror(errno));
		return -1;
	}
	s->id = d.id;
	s->size = size;
	s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		say(PROG ": mmap of shm %d: %s", s->id, strerror(errno));
		s->map = NULL;
		return -1;
	}
	return 0;
}

/* A page-aligned buffer of @size bytes registered with TEE_IOC_SHM_REGISTER. */
static int shm_register(int fd, size_t size, struct shm *s)
{
	struct tee_ioctl_shm_register_data d = { .length = size };

	memset(s, 0, sizeof(*s));
	s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		say(PROG ": mmap %zu: %s", size, strerror(errno));
		return -1;
	}
	d.addr = (uintptr_t)s->map;
	s->fd = ioctl(fd, TEE_IOC_SHM_REGISTER, &d);
	if (s->fd < 0) {
		say(PROG ": TEE_IOC_SHM_REGISTER %zu: %s", size, strerror(errno));
		return -1;
	}
	s->id = d.id;
	s->size = size;
	return 0;
}

/*
 * CMD_ROUNDTRIP on @s: fill it, let the TA add it up and invert it, check
 * both. true if the TA saw and changed the client's bytes.
 */
static bool roundtrip(int fd, uint32_t session, struct shm *s, uint32_t seed)
{
	uint8_t *b = s->map;
	uint32_t sum = 0;
	struct tee_ioctl_param p[2];
	uint32_t res;
	size_t i;

	for (i = 0; i < s->size; i++) {
		b[i] = (uint8_t)(i * 31u + seed);
		sum += b[i];
	}
	p[0] = memref_param(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT, s->id, s->size);
	p[1] = value_param(TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT, 0);
	res = invoke(fd, session, TEELAB_CTX_CMD_ROUNDTRIP, p, 2);
	if (res) {
		say(PROG ": roundtrip on shm %d: 0x%08" PRIx32, s->id, res);
		return false;
	}
	if ((uint32_t)p[1].a != sum) {
		say(PROG ": roundtrip on shm %d: the TA summed 0x%08" PRIx32 ", expected 0x%08" PRIx32,
		    s->id, (uint32_t)p[1].a, sum);
		return false;
	}
	for (i = 0; i < s->size; i++)
		if (b[i] != (uint8_t)((i * 31u + seed) ^ TEELAB_CTX_XOR)) {
			say(PROG ": roundtrip on shm %d: byte %zu not written back", s->id, i);
			return false;
		}
	return true;
}

/* CMD_SLEEP for @ms in the TA. The TEE result. */
static uint32_t ta_sleep(int fd, uint32_t session, uint32_t ms)
{
	struct tee_ioctl_param p[1] = { value_param(TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, ms) };

	return invoke(fd, session, TEELAB_CTX_CMD_SLEEP, p, 1);
}

/* Open /dev/tee0 and a tagged session with teelab-ctx. The fd, or -1 (reported). */
static int lab_session(uint32_t tag, uint32_t *session)
{
	int fd = tee_open("lab session");

	if (fd < 0)
		return -1;
	if (open_session(fd, TEELAB_CTX_TA_UUID_STR, 1, tag, session)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- OP-TEE's statistics PTA ------------------------------------------- */

struct tee_stats {
	uint32_t heap;		/* core heap bytes allocated */
	uint32_t ta_ram;	/* TA RAM bytes allocated */
	unsigned tas;		/* loaded user TA contexts */
	unsigned lab_ctxs;	/* of which teelab-ctx's */
	unsigned lab_sessions;	/* sessions of teelab-ctx */
	unsigned sessions;	/* sessions of every TA */
};

/* ALLOC_STATS of one allocator into *@out. The TEE result. */
static uint32_t read_alloc(int fd, uint32_t session, struct shm *s, uint32_t id,
			   uint32_t *out)
{
	struct tee_ioctl_param p[2] = {
		value_param(TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, id),
		memref_param(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, s->id,
			     sizeof(struct stats_alloc)),
	};
	uint32_t res;

	res = invoke(fd, session, STATS_CMD_ALLOC_STATS, p, 2);
	if (!res)
		*out = ((struct stats_alloc *)s->map)->allocated;
	return res;
}

/*
 * Read OP-TEE's statistics into *@st through a context of its own (opened
 * and closed here, so it holds nothing afterwards). 0, or -1 (reported).
 */
static int read_stats(struct tee_stats *st)
{
	uint8_t lab[TEE_IOCTL_UUID_LEN];
	struct tee_ioctl_param p[1];
	struct shm s = { .fd = -1 };
	uint32_t session = 0;
	uint32_t res;
	int ret = -1;
	int fd;

	memset(st, 0, sizeof(*st));
	parse_uuid(TEELAB_CTX_TA_UUID_STR, lab);
	fd = tee_open("stats");
	if (fd < 0)
		return -1;
	if (open_session(fd, STATS_UUID_STR, 0, 0, &session))
		goto out_fd;
	if (shm_alloc(fd, MAX_TA_STATS * sizeof(struct stats_ta), &s))
		goto out;
	if ((res = read_alloc(fd, session, &s, ALLOC_ID_HEAP, &st->heap)) ||
	    (res = read_alloc(fd, session, &s, ALLOC_ID_TA_RAM, &st->ta_ram))) {
		say(PROG ": STATS_CMD_ALLOC_STATS: 0x%08" PRIx32, res);
		goto out;
	}
	p[0] = memref_param(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, s.id, s.size);
	res = invoke(fd, session, STATS_CMD_TA_STATS, p, 1);
	if (res == TL_TEE_ERROR_ITEM_NOT_FOUND) {	/* no user TA loaded */
		ret = 0;
		goto out;
	}
	if (res) {
		say(PROG ": STATS_CMD_TA_STATS: 0x%08" PRIx32 "%s", res,
		    res == 0xFFFF000Au ? " (not supported: OP-TEE needs CFG_TA_STATS=y)" : "");
		goto out;
	}
	for (size_t i = 0; i < p[0].b / sizeof(struct stats_ta); i++) {
		const struct stats_ta *t = (const struct stats_ta *)s.map + i;
		uint8_t u[TEE_IOCTL_UUID_LEN];

		/* TEE_UUID in OP-TEE's (little-endian) memory -> RFC 4122 octets */
		u[0] = (uint8_t)(t->time_low >> 24);
		u[1] = (uint8_t)(t->time_low >> 16);
		u[2] = (uint8_t)(t->time_low >> 8);
		u[3] = (uint8_t)t->time_low;
		u[4] = (uint8_t)(t->time_mid >> 8);
		u[5] = (uint8_t)t->time_mid;
		u[6] = (uint8_t)(t->time_hi_and_version >> 8);
		u[7] = (uint8_t)t->time_hi_and_version;
		memcpy(u + 8, t->clock_seq_and_node, 8);
		st->tas++;
		st->sessions += t->sess_num;
		if (!memcmp(u, lab, sizeof(u))) {
			st->lab_ctxs++;
			st->lab_sessions += t->sess_num;
		}
	}
	ret = 0;
out:
	if (s.map)
		munmap(s.map, s.size);
	if (s.fd >= 0)
		close(s.fd);
	close_session(fd, session);
out_fd:
	close(fd);
	return ret;
}

/* Read the statistics and say them after @what. -1 if they cannot be read. */
static int show_stats(const char *what, struct tee_stats *st)
{
	if (read_stats(st))
		return -1;
	say(PROG ": %s: OP-TEE heap %" PRIu32 " B, TA RAM %" PRIu32 " B, %u TA context(s), "
	    "teelab-ctx: %u context(s) %u session(s)", what, st->heap, st->ta_ram, st->tas,
	    st->lab_ctxs, st->lab_sessions);
	return 0;
}

/* ---- the cases ------------------------------------------------------------ */

/* The case's verdict line; the exit status. */
static int verdict(const char *name, bool ok, const char *why)
{
	if (ok)
		say(PROG ": %s PASS", name);
	else
		say(PROG ": %s FAIL: %s", name, why);
	return ok ? EXIT_OK : EXIT_FAIL;
}

/*
 * Whether OP-TEE holds exactly @want teelab-ctx sessions now; says what it
 * found after @what. On a mismatch *@why names it.
 */
static bool expect_sessions(const char *what, unsigned want, char *why, size_t len)
{
	struct tee_stats st;

	if (show_stats(what, &st)) {
		snprintf(why, len, "%s: the statistics PTA cannot be read", what);
		return false;
	}
	if (st.lab_sessions == want)
		return true;
	snprintf(why, len, "%s: OP-TEE has %u teelab-ctx session(s), expected %u", what,
		 st.lab_sessions, want);
	return false;
}

struct opts {
	uint32_t tag;
	uint32_t n;
	uint32_t ms;
	uint32_t kill_after;
	uint32_t tolerance;
	const char *file;
	const char *uuid;
	const char *fifo;
	bool brk;
	bool have_tag;
};

/* Parse the options every command shares; -1 (usage printed) on an error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "tag", required_argument, NULL, 'T' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "ms", required_argument, NULL, 'm' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "fifo", required_argument, NULL, 'F' },
		{ "break", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .n = DEF_SESSIONS, .ms = DEF_SLEEP_MS,
			    .kill_after = DEF_KILL_AFTER_MS, .file = DEF_BASELINE };
	while ((c = getopt_long(argc, argv, "T:n:m:k:t:f:u:F:b", lo, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (!parse_u32(optarg, 1, 1000000000u, &o->tag))
				return bad_arg("--tag", optarg), -1;
			o->have_tag = true;
			break;
		case 'n':
			if (!parse_u32(optarg, 1, 64, &o->n))
				return bad_arg("--sessions", optarg), -1;
			break;
		case 'm':
			if (!parse_u32(optarg, 1, 600000, &o->ms))
				return bad_arg("--ms", optarg), -1;
			break;
		case 'k':
			if (!parse_u32(optarg, 0, 600000, &o->kill_after))
				return bad_arg("--kill-after", optarg), -1;
			break;
		case 't':
			if (!parse_u32(optarg, 0, UINT32_MAX, &o->tolerance))
				return bad_arg("--tolerance", optarg), -1;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'u':
			o->uuid = optarg;
			break;
		case 'F':
			o->fifo = optarg;
			break;
		case 'b':
			o->brk = true;
			break;
		default:
			return bad_usage("unknown option"), -1;
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument"), -1;
	return 0;
}

static int need_tag(const struct opts *o)
{
	return o->have_tag ? 0 : (bad_usage("--tag is required"), -1);
}

static int cmd_stats(int argc, char **argv)
{
	struct opts o;
	struct tee_stats st;

	if (parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	return show_stats("stats", &st) ? EXIT_FAIL : EXIT_OK;
}

static int cmd_baseline(int argc, char **argv)
{
	struct opts o;
	struct tee_stats st;
	FILE *f;

	if (parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (show_stats("baseline", &st))
		return EXIT_FAIL;
	f = fopen(o.file, "w");
	if (!f || fprintf(f, "%" PRIu32 " %" PRIu32 "\n", st.heap, st.ta_ram) < 0 || fclose(f)) {
		say(PROG ": %s: %s", o.file, strerror(errno));
		return EXIT_FAIL;
	}
	say(PROG ": heap-baseline %" PRIu32, st.heap);
	say(PROG ": ta-ram-baseline %" PRIu32, st.ta_ram);
	return EXIT_OK;
}

static int cmd_check(int argc, char **argv)
{
	struct opts o;
	struct tee_stats st;
	uint32_t heap0 = 0, ta0 = 0;
	char why[256] = "";
	FILE *f;

	if (parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	f = fopen(o.file, "r");
	if (!f || fscanf(f, "%" SCNu32 " %" SCNu32, &heap0, &ta0) != 2) {
		say(PROG ": %s: no baseline (run '" PROG " baseline' first)", o.file);
		if (f)
			fclose(f);
		return EXIT_FAIL;
	}
	fclose(f);
	if (show_stats("now", &st))
		return EXIT_FAIL;
	say(PROG ": heap %" PRIu32 " B (baseline %" PRIu32 ", %+" PRId64 "), TA RAM %" PRIu32
	    " B (baseline %" PRIu32 ", %+" PRId64 "), tolerance %" PRIu32 " B", st.heap, heap0,
	    (int64_t)st.heap - heap0, st.ta_ram, ta0, (int64_t)st.ta_ram - ta0, o.tolerance);
	say(PROG ": heap-growth %" PRId64, (int64_t)st.heap - heap0);
	say(PROG ": ta-ram-growth %" PRId64, (int64_t)st.ta_ram - ta0);
	if (st.heap > (uint64_t)heap0 + o.tolerance)
		snprintf(why, sizeof(why), "OP-TEE's heap grew by %" PRIu32 " B",
			 st.heap - heap0);
	else if (st.ta_ram > (uint64_t)ta0 + o.tolerance)
		snprintf(why, sizeof(why), "OP-TEE's TA RAM grew by %" PRIu32 " B",
			 st.ta_ram - ta0);
	else if (st.lab_ctxs)
		snprintf(why, sizeof(why), "%u teelab-ctx context(s) still loaded (%u session(s))",
			 st.lab_ctxs, st.lab_sessions);
	return verdict("check", !*why, why);
}

static int cmd_roundtrip(int argc, char **argv)
{
	struct opts o;
	uint32_t session = 0;
	struct shm s;
	bool ok = false;
	int fd;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	fd = lab_session(o.tag, &session);
	if (fd < 0)
		return verdict("roundtrip", false, "no session with teelab-ctx");
	if (!shm_alloc(fd, DEF_ALLOC_SIZE, &s)) {
		ok = roundtrip(fd, session, &s, o.tag);
		munmap(s.map, s.size);
	}
	if (s.fd >= 0)
		close(s.fd);
	close_session(fd, session);
	close(fd);
	return verdict("roundtrip", ok, "the round trip failed");
}

/* A session with a 64 KiB allocated (mmap'd) and a 1 MiB registered shm, both round-tripped. */
struct holder {
	int fd;
	uint32_t session;
	struct shm alloc, reg;
};

static int hold_open(uint32_t tag, struct holder *h)
{
	memset(h, 0, sizeof(*h));
	h->alloc.fd = h->reg.fd = -1;
	h->fd = lab_session(tag, &h->session);
	if (h->fd < 0)
		return -1;
	if (shm_alloc(h->fd, DEF_ALLOC_SIZE, &h->alloc) ||
	    shm_register(h->fd, DEF_REG_SIZE, &h->reg) ||
	    !roundtrip(h->fd, h->session, &h->alloc, tag) ||
	    !roundtrip(h->fd, h->session, &h->reg, tag + 1))
		return -1;
	say(PROG ": tag=%" PRIu32 ": session %" PRIu32 ", allocated shm %d (%zu B, mapped), "
	    "registered shm %d (%zu B), both round-tripped", tag, h->session, h->alloc.id,
	    h->alloc.size, h->reg.id, h->reg.size);
	return 0;
}

/* Whether no teelab-ctx session is in OP-TEE before a case starts. */
static bool precondition(const char *name)
{
	char why[256];

	if (expect_sessions("before", 0, why, sizeof(why)))
		return true;
	verdict(name, false, why);
	return false;
}

static int cmd_shm_outlives(int argc, char **argv)
{
	static const char *const name = "shm-outlives";
	struct opts o;
	struct holder h;
	char why[256] = "";
	int leaked = -1;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	if (!precondition(name))
		return EXIT_FAIL;
	if (hold_open(o.tag, &h))
		return verdict(name, false, "setting up the session and its shm failed");
	if (o.brk)	/* the deliberate mistake: a forgotten duplicate of an shm fd */
		leaked = dup(h.reg.fd);
	/* the device file goes first: the shm objects still hold the context */
	close(h.fd);
	if (!expect_sessions("after close(/dev/tee0)", 1, why, sizeof(why)))
		goto out;
	close(h.alloc.fd);
	if (!expect_sessions("after close(allocated shm fd), still mapped", 1, why, sizeof(why)))
		goto out;
	munmap(h.alloc.map, h.alloc.size);
	if (!expect_sessions("after munmap(allocated shm)", 1, why, sizeof(why)))
		goto out;
	close(h.reg.fd);
	/* that was the last reference: optee_release closed the session */
	expect_sessions("after close(registered shm fd), the last reference", 0, why, sizeof(why));
out:
	if (leaked >= 0)
		say(PROG ": --break: shm fd %d (a duplicate of the registered shm's) kept open", leaked);
	return verdict(name, !*why, why);
}

/* Send @fd over the socket @sock (SCM_RIGHTS). 0 or -1 (reported). */
static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);

	memset(&c, 0, sizeof(c));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) == 1)
		return 0;
	say(PROG ": sendmsg SCM_RIGHTS: %s", strerror(errno));
	return -1;
}

/* Receive an fd from @sock (SCM_RIGHTS); the fd or -1 (reported). */
static int recv_fd(int sock)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h;
	int fd = -1;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1) {
		say(PROG ": recvmsg: %s", errno ? strerror(errno) : "the owner sent nothing");
		return -1;
	}
	h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS) {
		say(PROG ": recvmsg: no SCM_RIGHTS");
		return -1;
	}
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

/* waitpid() for @pid; its wait status, or -1. */
static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static int cmd_shm_passed(int argc, char **argv)
{
	static const char *const name = "shm-passed";
	struct opts o;
	char why[256] = "";
	int sv[2];
	pid_t pid;
	int fd, status;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	if (!precondition(name))
		return EXIT_FAIL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return verdict(name, false, "socketpair failed");
	pid = fork();
	if (pid < 0)
		return verdict(name, false, "fork failed");
	if (!pid) {	/* the owner: opens everything, passes the shm fd, exits */
		struct holder h;

		close(sv[0]);
		if (hold_open(o.tag, &h) || send_fd(sv[1], h.reg.fd))
			_exit(EXIT_FAIL);
		say(PROG ": owner %d: passed registered shm %d's fd, exiting without closing anything",
		    (int)getpid(), h.reg.id);
		_exit(EXIT_OK);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	status = reap(pid);
	if (fd < 0 || status < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return verdict(name, false, "the owner failed");
	say(PROG ": owner %d gone; this process (%d) holds the shm fd", (int)pid, (int)getpid());
	if (expect_sessions("after the owner exited", 1, why, sizeof(why))) {
		close(fd);
		expect_sessions("after close(passed shm fd), the last reference", 0, why,
				sizeof(why));
	}
	return verdict(name, !*why, why);
}

static int cmd_leave_open(int argc, char **argv)
{
	static const char *const name = "leave-open";
	struct opts o;
	char why[256] = "";
	pid_t pid;
	int status;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	if (!precondition(name))
		return EXIT_FAIL;
	pid = fork();
	if (pid < 0)
		return verdict(name, false, "fork failed");
	if (!pid) {	/* K sessions on one fd, then exit without closing */
		uint32_t session = 0;
		int fd = tee_open("leave-open");

		if (fd < 0)
			_exit(EXIT_FAIL);
		for (uint32_t i = 0; i < o.n; i++)
			if (open_session(fd, TEELAB_CTX_TA_UUID_STR, 1, o.tag + i, &session))
				_exit(EXIT_FAIL);
		if (!expect_sessions("child, before exit", o.n, why, sizeof(why)))
			_exit(EXIT_FAIL);
		say(PROG ": child %d: %" PRIu32 " sessions (tag=%" PRIu32 "..%" PRIu32
		    ") open, exiting without closing them", (int)getpid(), o.n, o.tag,
		    o.tag + o.n - 1);
		_exit(EXIT_OK);
	}
	status = reap(pid);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return verdict(name, false, "the child failed");
	expect_sessions("after the child exited", 0, why, sizeof(why));
	return verdict(name, !*why, why);
}

struct sleeper {
	int fd;
	uint32_t session, ms, res;
	double start, end;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	s->start = now_s();
	s->res = ta_sleep(s->fd, s->session, s->ms);
	s->end = now_s();
	return NULL;
}

static int cmd_close_during_invoke(int argc, char **argv)
{
	static const char *const name = "close-during-invoke";
	struct opts o;
	struct sleeper s = { 0 };
	char why[256] = "";
	pthread_t th;
	double t0, t1;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	if (!precondition(name))
		return EXIT_FAIL;
	s.fd = lab_session(o.tag, &s.session);
	if (s.fd < 0)
		return verdict(name, false, "no session with teelab-ctx");
	s.ms = o.ms;
	if (pthread_create(&th, NULL, sleeper_main, &s))
		return verdict(name, false, "pthread_create failed");
	/* let the invoke reach the TA's TEE_Wait: a quarter of the sleep */
	usleep(o.ms * 250u);
	t0 = now_s();
	close(s.fd);
	t1 = now_s();
	say(PROG ": close(/dev/tee0) while the other thread sleeps in the TA returned after %.3f s",
	    t1 - t0);
	if (t1 - t0 > 0.5)
		snprintf(why, sizeof(why), "close() blocked for %.3f s", t1 - t0);
	/* the ioctl holds the file: the context and the session live on */
	if (!*why)
		expect_sessions("after close(/dev/tee0), invoke running", 1, why, sizeof(why));
	pthread_join(th, NULL);
	say(PROG ": the invoke returned 0x%08" PRIx32 " after %.3f s (%" PRIu32 " ms asked)",
	    s.res, s.end - s.start, o.ms);
	if (!*why && s.res)
		snprintf(why, sizeof(why), "the invoke failed: 0x%08" PRIx32, s.res);
	else if (!*why && s.end - s.start < o.ms / 1000.0 - 0.05)
		snprintf(why, sizeof(why), "the invoke returned early (%.3f s)", s.end - s.start);
	/* the invoke's return dropped the last file reference: release closed the session */
	if (!*why)
		expect_sessions("after the invoke returned", 0, why, sizeof(why));
	return verdict(name, !*why, why);
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int cmd_killed_in_wait(int argc, char **argv)
{
	static const char *const name = "killed-in-wait";
	struct opts o;
	struct rusage ru;
	char why[256] = "";
	double t_start, t_kill, t_reap;
	int status = 0;
	pid_t pid;
	int p[2];
	char c;

	if (parse_opts(argc, argv, &o) || need_tag(&o))
		return EXIT_USAGE;
	if (o.kill_after >= o.ms)
		return bad_usage("--kill-after must be shorter than --ms"), EXIT_USAGE;
	if (!precondition(name))
		return EXIT_FAIL;
	if (pipe(p))
		return verdict(name, false, "pipe failed");
	pid = fork();
	if (pid < 0)
		return verdict(name, false, "fork failed");
	if (!pid) {
		uint32_t session = 0;
		int fd = lab_session(o.tag, &session);

		close(p[0]);
		if (fd < 0)
			_exit(EXIT_FAIL);
		if (write(p[1], "s", 1) != 1)
			_exit(EXIT_FAIL);
		ta_sleep(fd, session, o.ms);
		_exit(EXIT_OK);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		reap(pid);
		return verdict(name, false, "the client did not open its session");
	}
	t_start = now_s();
	usleep(o.kill_after * 1000u);
	t_kill = now_s();
	kill(pid, SIGKILL);
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	t_reap = now_s();
	say(PROG ": SIGKILL %.3f s into a %" PRIu32 " ms TA sleep; reaped %.3f s after the "
	    "kill (the sleep ends %.3f s after it)", t_kill - t_start, o.ms, t_reap - t_kill,
	    o.ms / 1000.0 - (t_kill - t_start));
	say(PROG ": the killed client used %.3f s system time, %.3f s user time",
	    tv_s(&ru.ru_stime), tv_s(&ru.ru_utime));
	say(PROG ": reaped-after-kill %.3f", t_reap - t_kill);
	say(PROG ": system-time %.3f", tv_s(&ru.ru_stime));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		snprintf(why, sizeof(why), "the client was not killed by SIGKILL (status %#x)",
			 (unsigned)status);
	else
		expect_sessions("after the client was reaped", 0, why, sizeof(why));
	return verdict(name, !*why, why);
}

/* The pid of a running tee-supplicant, or 0. */
static pid_t supplicant_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && (e = readdir(d)) && !found) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "tee-supplicant\n"))
			found = (pid_t)atoi(e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

static int cmd_supp_race(int argc, char **argv)
{
	static const char *const name = "supp-race";
	struct opts o;
	char why[256] = "";
	double t_kill, t_reap;
	pid_t pid, supp;
	int status, wfd = -1;

	if (parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (!o.uuid || !o.fifo)
		return bad_usage("supp-race needs --uuid and --fifo"), EXIT_USAGE;
	supp = supplicant_pid();
	if (!supp)
		return verdict(name, false, "no tee-supplicant is running");
	unlink(o.fifo);
	if (mkfifo(o.fifo, 0644)) {
		snprintf(why, sizeof(why), "mkfifo %s: %s", o.fifo, strerror(errno));
		return verdict(name, false, why);
	}
	say(PROG ": tee-supplicant %d; %s is a FIFO: loading TA %s blocks the supplicant in open()",
	    (int)supp, o.fifo, o.uuid);
	pid = fork();
	if (pid < 0)
		return verdict(name, false, "fork failed");
	if (!pid) {
		uint32_t session = 0;
		int fd = tee_open("client");
		uint32_t res = fd < 0 ? 1 : open_session(fd, o.uuid, 0, 0, &session);

		say(PROG ": client: OPEN_SESSION returned 0x%08" PRIx32 " (it should have been killed)",
		    res);
		_exit(EXIT_FAIL);
	}
	usleep(o.kill_after * 1000u);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		unlink(o.fifo);
		return verdict(name, false, "the client's OPEN_SESSION returned: the TA load "
			       "did not block in tee-supplicant");
	}
	t_kill = now_s();
	kill(pid, SIGKILL);
	status = reap(pid);
	t_reap = now_s();
	say(PROG ": client %d killed %.3f s into its OPEN_SESSION, reaped %.3f s after the kill",
	    (int)pid, o.kill_after / 1000.0, t_reap - t_kill);
	say(PROG ": client-reaped-after-kill %.3f", t_reap - t_kill);
	if (t_reap - t_kill > 2.0)
		snprintf(why, sizeof(why), "the killed client took %.3f s to die", t_reap - t_kill);
	/*
	 * Unblock the supplicant: a writer on the FIFO ends its open(); it
	 * cannot read a TA from a FIFO and answers the stale request.
	 * O_NONBLOCK fails with ENXIO when nobody has the FIFO open for
	 * reading: then the supplicant was never blocked on it.
	 */
	wfd = open(o.fifo, O_WRONLY | O_NONBLOCK);
	if (wfd < 0) {
		if (!*why)
			snprintf(why, sizeof(why), "tee-supplicant is not blocked on %s (%s)",
				 o.fifo, strerror(errno));
	} else {
		say(PROG ": the supplicant was blocked on %s: unblocked, it answers the killed "
		    "client's request now", o.fifo);
		close(wfd);
	}
	sleep(2);
	unlink(o.fifo);
	supp = supplicant_pid();
	if (!supp)
		say(PROG ": tee-supplicant's process 2 s after its answer: gone");
	else
		say(PROG ": tee-supplicant's process 2 s after its answer: pid %d", (int)supp);
	return verdict(name, !*why, why);
}

int main(int argc, char **argv)
{
	static const struct tl_cmd cmds[] = {
		{ "stats", cmd_stats },
		{ "baseline", cmd_baseline },
		{ "check", cmd_check },
		{ "roundtrip", cmd_roundtrip },
		{ "shm-outlives", cmd_shm_outlives },
		{ "shm-passed", cmd_shm_passed },
		{ "leave-open", cmd_leave_open },
		{ "close-during-invoke", cmd_close_during_invoke },
		{ "killed-in-wait", cmd_killed_in_wait },
		{ "supp-race", cmd_supp_race },
	};

	return tl_main(argc, argv, cmds, TL_ARRAY_SIZE(cmds));
}
