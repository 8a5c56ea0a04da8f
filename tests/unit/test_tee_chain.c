// SPDX-License-Identifier: MIT
/* Unit tests for tee_chain.c on stacks captured from real deadlocked guests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "tee_chain.h"
#include "util.h"

/* tests/data/evidence/@name */
static char *load_evidence(const char *name)
{
	char *rel = xasprintf("evidence/%s", name), *text = test_data(rel);

	free(rel);
	return text;
}

/*
 * Linux 6.12 built from linux-source-6.12, OP-TEE 4.10 with
 * CFG_NUM_THREADS=1, two tl-storage clients: the client serving an RPMB
 * RPC powers the eMMC up through the SCMI regulator and parks in the call
 * queue (captured by `teelab run --cell 6.12-t1-c2 system-invocation`).
 */
static void test_deadlock_612_one_thread(void **state)
{
	char *guest = load_evidence("deadlock-6.12-t1.txt");
	struct tee_chain c;

	(void)state;
	tee_chain_analyse(guest, 1, &c);
	assert_int_equal(c.queued, 3);	/* both clients and the notification thread */
	assert_int_equal(c.scmi_queued, 1);
	assert_int_equal(c.rpc_scmi, 1);
	assert_int_equal(c.in_rpc, 1);
	assert_non_null(strstr(c.summary, "3 task(s) wait for a free OP-TEE thread"));
	assert_non_null(strstr(c.summary, "(RPMB frames -> block request -> mmc host power-up -> regulator "
			       "enable -> SCMI over OP-TEE)"));
	assert_non_null(strstr(c.summary, "1/1 OP-TEE threads held by tasks in an RPC "
			       "(CFG_NUM_THREADS=1)"));
	assert_non_null(strstr(c.summary, "tee-supplicant is idle"));
	assert_non_null(c.scmi_stack);
	assert_true(starts_with(c.scmi_stack, "===== task "));
	assert_non_null(strstr(c.scmi_stack, "scmi_optee_send_message"));
	assert_non_null(strstr(c.scmi_stack, "rpmb_route_frames"));
	tee_chain_release(&c);
	free(guest);
}

/*
 * Linux 6.1 built from linux-source-6.1 (no in-kernel RPMB), OP-TEE 4.10
 * with CFG_NUM_THREADS=2 and the REE FS on the lab eMMC, two clients: one
 * client's RPC is a tee-supplicant file write whose fsync waits for a block
 * request, and the kblockd worker powering the eMMC up for it parks its SCMI
 * call in the queue (captured by `teelab run --cell 6.1-t2-c2 system-invocation`).
 */
static void test_deadlock_61_two_threads(void **state)
{
	char *guest = load_evidence("deadlock-6.1-t2.txt");
	struct tee_chain c;

	(void)state;
	tee_chain_analyse(guest, 2, &c);
	assert_int_equal(c.queued, 2);	/* the kblockd worker and the notification thread */
	assert_int_equal(c.scmi_queued, 1);
	assert_int_equal(c.rpc_scmi, 0);	/* the SCMI call is not made inside an RPC */
	assert_int_equal(c.in_rpc, 2);
	assert_non_null(strstr(c.summary, "(block request -> mmc host power-up -> regulator "
			       "enable -> SCMI over OP-TEE)"));
	assert_non_null(strstr(c.summary, "2/2 OP-TEE threads held by tasks in an RPC"));
	assert_non_null(strstr(c.summary, "tee-supplicant thread 65/94 serves an RPC and waits "
			       "for block I/O (submit_bio_wait, from fsync())"));
	assert_non_null(strstr(c.summary, "waits for kworker/0:1H+kblockd 27/27"));
	assert_null(strstr(c.summary, "tee-supplicant is idle"));
	assert_non_null(strstr(c.scmi_stack, "__mmc_claim_host"));
	tee_chain_release(&c);
	free(guest);
}

/* A guest that is merely slow: nothing waits for an OP-TEE thread. */
static void test_no_chain(void **state)
{
	struct tee_chain c;
	const char *guest =
		"===== task 65/65 (tee-supplicant) state S (sleeping): tee-supplicant -d\n"
		"[<0>] optee_supp_recv+0x12c/0x210\n"
		"[<0>] tee_ioctl+0x69c/0xbe8\n"
		"===== task 90/90 (sleep) state S (sleeping): sleep 100000\n"
		"[<0>] hrtimer_nanosleep+0x8c/0x120\n";

	(void)state;
	tee_chain_analyse(guest, 2, &c);
	assert_int_equal(c.queued, 0);
	assert_null(c.scmi_stack);
	assert_non_null(strstr(c.summary, "not the TEE thread-exhaustion chain"));
	tee_chain_release(&c);
	tee_chain_analyse(NULL, 0, &c);
	assert_int_equal(c.queued, 0);
	assert_non_null(c.summary);
	tee_chain_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadlock_612_one_thread),
		cmocka_unit_test(test_deadlock_61_two_threads),
		cmocka_unit_test(test_no_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
