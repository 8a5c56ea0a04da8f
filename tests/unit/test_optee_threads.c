// SPDX-License-Identifier: MIT
/*
 * Unit tests for optee_threads.c: the lab fast call's answer parsed, the
 * chain from both sides, and the deadlock decided from state, on reads
 * captured from real deadlocked guests (tests/data/evidence/state-*.txt:
 * evidence/detector-state.txt of `teelab run system-invocation --cell ...`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "optee_threads.h"
#include "tee_chain.h"
#include "util.h"

#define STORAGE_UUID "71d830b9-f34c-4edd-867d-1d886ebf5a75"

/* tests/data/evidence/@name */
static char *load_evidence(const char *name)
{
	char *rel = xasprintf("evidence/%s", name), *text = test_data(rel);

	free(rel);
	return text;
}

/* @text with the first @from replaced by @to (malloc'd): a variant of a capture */
static char *edited(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);

	assert_non_null(p);
	return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static void lab_tas(struct strvec *tas)
{
	strvec_push(tas, STORAGE_UUID "\tteelab-storage");
}

/* The module's answer alone (evidence/optee-threads.txt, no section header). */
static void test_parse_raw_answer(void **state)
{
	char *text = load_evidence("optee-threads-6.12-t1.txt");
	struct optee_threads ot;

	(void)state;
	assert_int_equal(optee_threads_parse(text, &ot), 0);
	assert_true(ot.present);
	assert_true(ot.available);
	assert_int_equal(ot.count, 1);
	assert_int_equal(ot.nr, 1);
	assert_int_equal(ot.scmi, 0);
	assert_int_equal(ot.t[0].index, 0);
	assert_int_equal(ot.t[0].state, OT_SUSPENDED);
	assert_int_equal(ot.t[0].wait, OTW_RPC);
	assert_int_equal(ot.t[0].rpc, 24);
	assert_int_equal(ot.t[0].session, OTS_TA);
	assert_string_equal(ot.t[0].uuid, STORAGE_UUID);
	assert_int_equal(ot.t[0].flags, 0x7);
	assert_int_equal(ot.fast_ns, 214704);
	optee_threads_release(&ot);
	free(text);
}

static void test_parse_unavailable_and_missing(void **state)
{
	struct optee_threads ot;

	(void)state;
	assert_int_equal(optee_threads_parse("===== optee-threads\nunavailable: the secure world does "
					     "not answer fast call 0xf3000001 (x0 0xffffffff)\n"
					     "===== task 1/1 (init) state S: /init\n", &ot), 0);
	assert_true(ot.present);
	assert_false(ot.available);
	assert_non_null(strstr(ot.why, "0xf3000001"));
	{
		char *line = optee_threads_describe(&ot, NULL);

		assert_non_null(strstr(line, "no thread states: the secure"));
		free(line);
	}
	optee_threads_release(&ot);
	assert_int_equal(optee_threads_parse("cat: can't open '/proc/teelab/optee-threads'\n", &ot),
			 -ENOENT);
	assert_false(ot.present);
	optee_threads_release(&ot);
	/* a newer module's extra tokens and lines are skipped */
	assert_int_equal(optee_threads_parse("teelab-optee-threads 2\nthreads 1\nnew-line x\n"
					     "thread 0 state=free flags=0x0 future=1\n", &ot), 0);
	assert_int_equal(ot.nr, 1);
	assert_int_equal(ot.t[0].state, OT_FREE);
	optee_threads_release(&ot);
}

static void test_names(void **state)
{
	struct strvec tas = STRVEC_INIT;

	(void)state;
	lab_tas(&tas);
	assert_string_equal(optee_rpc_name(24), "RPMB frames");
	assert_string_equal(optee_rpc_name(2), "REE FS (tee-supplicant)");
	assert_null(optee_rpc_name(99));
	assert_string_equal(optee_uuid_name(STORAGE_UUID, &tas), "teelab-storage");
	assert_string_equal(optee_uuid_name("a8cfe406-d4f5-4a2e-9f8d-a25dc754c099", &tas),
			    "the SCMI PTA");
	assert_null(optee_uuid_name("00000000-0000-0000-0000-000000000000", &tas));
	strvec_release(&tas);
}

/* 6.12, CFG_NUM_THREADS=1: the client in RPMB frames made the SCMI call itself. */
static void test_612_t1_closed(void **state)
{
	char *text = load_evidence("state-6.12-t1.txt"), *line;
	struct strvec tas = STRVEC_INIT;
	struct optee_threads ot;
	struct tee_chain c;
	struct strbuf why = STRBUF_INIT, diff = STRBUF_INIT;

	(void)state;
	lab_tas(&tas);
	assert_int_equal(optee_threads_parse(text, &ot), 0);
	tee_chain_analyse(text, 1, &c);
	line = optee_threads_describe(&ot, &tas);
	assert_string_equal(line, "OP-TEE: 1/1 thread suspended: thread 0 in RPC RPMB frames for TA "
			    "teelab-storage; SCMI channel 0 idle (no message reached the server).");
	assert_int_equal(c.in_rpc, 1);
	assert_int_equal(c.rpc_scmi, 1);
	assert_int_equal(c.rpc_blocked, 1);
	assert_int_equal(c.rpc_notif, 0);
	assert_int_equal(optee_threads_compare(&ot, &c, 1, &diff), 0);
	assert_true(optee_deadlock_closed(&ot, &c, &why));
	assert_non_null(strstr(strbuf_str(&why), "every OP-TEE thread (1/1) is suspended in an RPC"));
	assert_non_null(strstr(strbuf_str(&why), "made while serving the RPC"));
	free(line);
	strbuf_release(&why);
	strbuf_release(&diff);
	tee_chain_release(&c);
	optee_threads_release(&ot);
	strvec_release(&tas);
	free(text);
}

/*
 * 6.1, CFG_NUM_THREADS=2, REE FS: thread 0 in an REE FS RPC whose
 * supplicant fsync waits for the eMMC the parked SCMI call powers; thread 1
 * waits for an OP-TEE notification (a lock thread 0 holds).
 */
static void test_61_t2_closed(void **state)
{
	char *text = load_evidence("state-6.1-t2.txt"), *line;
	struct optee_threads ot;
	struct tee_chain c;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(optee_threads_parse(text, &ot), 0);
	tee_chain_analyse(text, 2, &c);
	line = optee_threads_describe(&ot, NULL);
	assert_non_null(strstr(line, "OP-TEE: 2/2 threads suspended: thread 0 in RPC REE FS "
			       "(tee-supplicant) for TA " STORAGE_UUID ", thread 1 in RPC "
			       "notification (wait queue)"));
	assert_int_equal(c.in_rpc, 2);
	assert_int_equal(c.rpc_scmi, 0);
	assert_int_equal(c.rpc_blocked, 1);
	assert_int_equal(c.rpc_notif, 1);
	assert_true(optee_deadlock_closed(&ot, &c, &why));
	assert_non_null(strstr(strbuf_str(&why), "the power-up of the device the RPC's I/O waits for"));
	assert_non_null(strstr(strbuf_str(&why), "1 waits for an OP-TEE notification"));
	free(line);
	strbuf_release(&why);
	tee_chain_release(&c);
	optee_threads_release(&ot);
	free(text);
}

/* The same reads with one fact changed: the cycle is not closed, and says why. */
static void test_not_closed(void **state)
{
	char *text = load_evidence("state-6.1-t2.txt");
	char *freed = edited(text, "thread 1 state=suspended wait=rpc rpc=4 flags=0x3",
			     "thread 1 state=free flags=0x3");
	char *no_scmi = edited(text, "scmi_optee_send_message", "scmi_other_transport");
	char *unavailable = edited(text, "teelab-optee-threads 1", "unavailable: no module");
	struct optee_threads ot;
	struct tee_chain c;
	struct strbuf why = STRBUF_INIT, diff = STRBUF_INIT;

	(void)state;
	optee_threads_parse(freed, &ot);
	tee_chain_analyse(freed, 2, &c);
	assert_false(optee_deadlock_closed(&ot, &c, &why));
	assert_non_null(strstr(strbuf_str(&why), "not every OP-TEE thread is suspended in an RPC (1 of 2)"));
	/* Linux still shows 2 tasks in RPCs: the two sides disagree, and the summary says so */
	assert_int_equal(optee_threads_compare(&ot, &c, 2, &diff), 1);
	assert_non_null(strstr(strbuf_str(&diff), "Linux's stacks show 2 task(s) serving an OP-TEE "
			       "RPC, OP-TEE reports 1 thread(s) suspended in one: they disagree"));
	optee_threads_release(&ot);
	tee_chain_release(&c);

	strbuf_reset(&why);
	optee_threads_parse(no_scmi, &ot);
	tee_chain_analyse(no_scmi, 2, &c);
	assert_false(optee_deadlock_closed(&ot, &c, &why));
	assert_string_equal(strbuf_str(&why), "no SCMI call waits in the OP-TEE call queue");
	optee_threads_release(&ot);
	tee_chain_release(&c);

	strbuf_reset(&why);
	optee_threads_parse(unavailable, &ot);
	tee_chain_analyse(unavailable, 2, &c);
	assert_false(optee_deadlock_closed(&ot, &c, &why));
	assert_string_equal(strbuf_str(&why), "OP-TEE's thread states cannot be read");
	optee_threads_release(&ot);
	tee_chain_release(&c);

	strbuf_reset(&diff);
	optee_threads_parse(text, &ot);
	tee_chain_analyse(text, 3, &c);
	assert_int_equal(optee_threads_compare(&ot, &c, 3, &diff), 1);
	assert_non_null(strstr(strbuf_str(&diff), "CFG_NUM_THREADS=3, OP-TEE reports 2 threads"));
	optee_threads_release(&ot);
	tee_chain_release(&c);
	strbuf_release(&why);
	strbuf_release(&diff);
	free(text);
	free(freed);
	free(no_scmi);
	free(unavailable);
}

static void test_key_tracks_state(void **state)
{
	char *text = load_evidence("state-6.1-t2.txt");
	char *moved = edited(text, "rpc=4", "rpc=5");
	struct optee_threads a, b;
	char *ka, *kb;

	(void)state;
	optee_threads_parse(text, &a);
	optee_threads_parse(moved, &b);
	ka = optee_threads_key(&a);
	kb = optee_threads_key(&b);
	assert_string_not_equal(ka, kb);
	free(kb);
	kb = optee_threads_key(&a);
	assert_string_equal(ka, kb);
	free(ka);
	free(kb);
	optee_threads_release(&a);
	optee_threads_release(&b);
	free(text);
	free(moved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_raw_answer),
		cmocka_unit_test(test_parse_unavailable_and_missing),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_612_t1_closed),
		cmocka_unit_test(test_61_t2_closed),
		cmocka_unit_test(test_not_closed),
		cmocka_unit_test(test_key_tracks_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
