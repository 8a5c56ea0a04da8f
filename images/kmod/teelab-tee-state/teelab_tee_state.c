// SPDX-License-Identifier: GPL-2.0
/*
 * teelab_tee_state.c - /proc/teelab/optee-threads: every OP-TEE thread's
 * state, read with teelab's lab-only fast call (no OP-TEE thread needed,
 * so it answers while every thread is suspended in a deadlock).
 *
 * The secure side is images/optee/thread-state (built into teelab's lab
 * OP-TEE profiles with CFG_TEELAB_THREAD_STATE=y); its comment defines the
 * function ID (0xF3000001: SMCCC fast call, SMC64, OEN 51, a Trusted OS
 * OEN that OP-TEE's own ABI does not use) and the registers. This module
 * only issues the call and prints the raw answer, one line per thread; teelab
 * (lab/optee_threads.c) names the RPC commands and the TAs.
 *
 * Each read of the file asks OP-TEE anew: 1 + thread_count fast calls,
 * issued with the SMC conduit (QEMU virt with secure=on runs TF-A at EL3;
 * PSCI uses SMC there), never through the OP-TEE driver, whose call queue
 * is exactly what is stuck. Output (text, one item per line):
 *
 *   teelab-optee-threads 1
 *   threads 2
 *   scmi-server yes channel-0 idle
 *   thread 0 state=suspended wait=rpc rpc=24 session=ta uuid=<uuid> flags=0x1
 *   thread 1 state=free flags=0x0
 *   fast-calls 3 in 41250 ns
 *
 * or "unavailable: ..." when the secure world does not know the call
 * (Debian's OP-TEE, an FF-A secure world: SMC_UNK / unknown function).
 *
 * All of the code is teelab's own. GPL-2.0 as a kernel module.
 */
#include <linux/arm-smccc.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#define TEELAB_SMC_THREAD_STATE		0xF3000001UL
#define TEELAB_TS_MAGIC			0x544c5453UL
#define TEELAB_TS_QUERY_HEADER		0
#define TEELAB_TS_QUERY_THREAD		1
#define TEELAB_TS_MAX_THREADS		64	/* sanity bound on the header's count */

static struct proc_dir_entry *teelab_dir;

static const char *const state_names[] = { "free", "active", "suspended" };
static const char *const wait_names[] = { "none", "rpc", "rpc-alloc", "foreign-intr", "other" };
static const char *const sess_names[] = { "none", "ta", "pta", "other" };

static const char *name_of(const char *const *names, size_t nr, unsigned long v)
{
	return v < nr ? names[v] : "unknown";
}

static void put_uuid(struct seq_file *m, unsigned long hi, unsigned long lo)
{
	seq_printf(m, " uuid=%08lx-%04lx-%04lx-%04lx-%012lx", hi >> 32, (hi >> 16) & 0xffff,
		   hi & 0xffff, lo >> 48, lo & 0xffffffffffffUL);
}

static int threads_show(struct seq_file *m, void *v)
{
	struct arm_smccc_res res;
	unsigned long n, i, calls = 1;
	ktime_t t0 = ktime_get(), spent;

	arm_smccc_smc(TEELAB_SMC_THREAD_STATE, TEELAB_TS_QUERY_HEADER, 0, 0, 0, 0, 0, 0, &res);
	if (res.a0 != 0 || res.a1 >> 32 != TEELAB_TS_MAGIC) {
		seq_printf(m, "unavailable: the secure world does not answer fast call %#lx "
			   "(x0 %#lx): not a teelab lab OP-TEE (CFG_TEELAB_THREAD_STATE), "
			   "or not the SMC ABI\n", TEELAB_SMC_THREAD_STATE, res.a0);
		return 0;
	}
	seq_printf(m, "teelab-optee-threads %lu\n", res.a1 & 0xffffffffUL);
	n = res.a2;
	seq_printf(m, "threads %lu\n", n);
	if (res.a3 >> 63)
		seq_printf(m, "scmi-server yes channel-0 %s\n", res.a3 & 1 ? "busy" : "idle");
	else
		seq_puts(m, "scmi-server no\n");
	if (n > TEELAB_TS_MAX_THREADS)
		n = TEELAB_TS_MAX_THREADS;
	for (i = 0; i < n; i++) {
		unsigned long w, state, wait, sess, flags, rpc;

		arm_smccc_smc(TEELAB_SMC_THREAD_STATE, TEELAB_TS_QUERY_THREAD, i, 0, 0, 0, 0, 0,
			      &res);
		calls++;
		if (res.a0 != 0) {
			seq_printf(m, "thread %lu error x0=%#lx\n", i, res.a0);
			continue;
		}
		w = res.a1;
		state = w & 0xff;
		wait = (w >> 8) & 0xff;
		sess = (w >> 16) & 0xff;
		flags = (w >> 24) & 0xff;
		rpc = w >> 32;
		seq_printf(m, "thread %lu state=%s", i,
			   name_of(state_names, ARRAY_SIZE(state_names), state));
		if (wait)
			seq_printf(m, " wait=%s", name_of(wait_names, ARRAY_SIZE(wait_names), wait));
		if (rpc != 0xffffffffUL)
			seq_printf(m, " rpc=%lu", rpc);
		if (sess) {
			seq_printf(m, " session=%s", name_of(sess_names, ARRAY_SIZE(sess_names), sess));
			put_uuid(m, res.a2, res.a3);
		}
		seq_printf(m, " flags=%#lx\n", flags);
	}
	spent = ktime_sub(ktime_get(), t0);
	seq_printf(m, "fast-calls %lu in %lld ns\n", calls, (long long)ktime_to_ns(spent));
	return 0;
}

static int __init teelab_tee_state_init(void)
{
	teelab_dir = proc_mkdir("teelab", NULL);
	if (!teelab_dir)
		return -ENOMEM;
	if (!proc_create_single("optee-threads", 0444, teelab_dir, threads_show)) {
		proc_remove(teelab_dir);
		return -ENOMEM;
	}
	pr_info("teelab-tee-state: /proc/teelab/optee-threads (fast call %#lx)\n",
		TEELAB_SMC_THREAD_STATE);
	return 0;
}

static void __exit teelab_tee_state_exit(void)
{
	proc_remove(teelab_dir);
}

module_init(teelab_tee_state_init);
module_exit(teelab_tee_state_exit);
MODULE_DESCRIPTION("teelab: OP-TEE thread states through a lab-only fast call");
MODULE_LICENSE("GPL");
