#!/bin/bash
# End to end: the system-invocation deadlock and its fix on Linux 6.12 built
# from Debian's linux-source-6.12. With CFG_NUM_THREADS=1 the kernel cannot
# keep a thread for the SCMI system session, the SCMI power-up of the eMMC
# parks in the OP-TEE call queue and the run is DEADLOCK (as the cell
# expects: exit 0); with 2 threads (the default cell) the clients finish.
# The DEADLOCK's evidence has OP-TEE's own thread table (the lab fast call),
# and the structural detector proves it from state (its speed: make bench). A TA sleeping forever
# (ta-sleep-hang) is a HANG whose evidence shows the sleeping thread.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run --cell 6.12-t1-c2 system-invocation (meets its expectation)" --cell 6.12-t1-c2 system-invocation
run_t1=$run
check "cell 6.12-t1-c2: observed DEADLOCK" test "$(json_get "$run/result.json" observed)" = DEADLOCK
check "cell 6.12-t1-c2: expected DEADLOCK" test "$(json_get "$run/result.json" expected)" = DEADLOCK
check "the kernel could not reserve a system thread" grep -q "Could not switch to system session, do best effort" "$run/nw-console.log"
check "evidence/summary.txt names the SCMI call parked in the call queue" \
	grep -q "is an SCMI call (scmi_optee_send_message) made while serving an OP-TEE RPC" "$run/evidence/summary.txt"
check "the parked stack goes from the RPMB RPC through the regulator to the call queue" \
	bash -c 'sed -n "/^The SCMI call parked/,/^\$/p" "$1" | tr "\n" " " |
		grep -qE "optee_cq_wait_[a-z_]+\+.*scmi_optee_send_message.*regulator_enable.*rpmb_route_frames.*optee_rpc_cmd"' _ "$run/evidence/summary.txt"
check "the guest's stacks were collected" grep -q "^===== task .*(tl-storage)" "$run/evidence/guest.txt"
check "both consoles kept" test -s "$run/nw-console.log" -a -s "$run/sw-console.log"
# the secure side, read from OP-TEE with teelab's lab fast call
check "OP-TEE announced the lab fast call" grep -q "teelab-thread-state: fast call 0xf3000001 answers for 1 threads" "$run/sw-console.log"
check "evidence/optee-threads.txt: OP-TEE's own answer, thread 0 suspended in RPC 24 (RPMB frames) for the storage TA" \
	grep -q "^thread 0 state=suspended wait=rpc rpc=24 session=ta uuid=71d830b9-f34c-4edd-867d-1d886ebf5a75" "$run/evidence/optee-threads.txt"
check "summary.txt states the chain from both sides" \
	grep -q "^OP-TEE: 1/1 thread suspended: thread 0 in RPC RPMB frames for TA teelab-storage" "$run/evidence/summary.txt"
check "... and that the two sides agree" grep -q "^The two sides agree on the threads held in RPCs" "$run/evidence/summary.txt"
check "the answer came from the fast calls (the module times them)" grep -qE "^fast-calls 2 in [0-9]+ ns$" "$run/evidence/optee-threads.txt"
# the structural detector (detect: state): proven, not timed out
check "the DEADLOCK was proven from state" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["environment"]["deadlock_detector"])' "$run/result.json")" = state
check "... with the proof in summary.txt and the read that proved it kept" \
	grep -q "proven from both worlds' state .*every OP-TEE thread (1/1) is suspended in an RPC" "$run/evidence/summary.txt"
check "evidence/detector-state.txt has both worlds" bash -c 'grep -q "^===== optee-threads" "$1" && grep -q "^===== task .*(tl-storage)" "$1"' _ "$run/evidence/detector-state.txt"

run_teelab 0 "teelab run system-invocation (default cell 6.12-t2-c2)" system-invocation
check "default cell: observed PASS" test "$(json_get "$run/result.json" observed)" = PASS
check "the system session got its thread (no best-effort warning)" \
	bash -c '! grep -q "do best effort" "$1"' _ "$run/nw-console.log"
check "both clients finished their 12 writes" grep -q "^tl-storage: load PASS" "$run/steps/"*-join*.log
check "every write powered the eMMC through OP-TEE's SCMI clock (scmi-clock-on >= 24)" \
	test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["scmi-clock-on"])' "$run/result.json")" -ge 24
check "the PASS cell: the detector never called a DEADLOCK" bash -c '! grep -q deadlock_proof "$1"' _ "$run/result.json"
# the two cells' OP-TEEs differ (CFG_NUM_THREADS 1 and 2) but not their TF-A:
# one TF-A build, a FIP per OP-TEE (lab/images/tfa.c)
bios_of() { sed -nE 's/.* -bios ([^ ]+).*/\1/p' "$1/qemu.cmdline"; }
check "two OP-TEE variants boot two FIPs made from one TF-A build" bash -c '
	a=$(dirname "$1") b=$(dirname "$2")
	[ "$a" != "$b" ] && [ -s "$a/tfa-build" ] && cmp -s "$a/tfa-build" "$b/tfa-build"' _ \
	"$(bios_of "$run_t1")" "$(bios_of "$run")"

# a PASS-looking run hung on purpose (the storage TA sleeps in TEE_Wait()):
# HANG, and the evidence shows OP-TEE's sleeping thread
run_teelab 0 "teelab run ta-sleep-hang (HANG, as expected)" ta-sleep-hang
check "ta-sleep-hang: observed HANG" test "$(json_get "$run/result.json" observed)" = HANG
# which thread serves the TA is OP-TEE's choice (the first free one when the
# session's command arrives; an SCMI call may hold thread 0 at that moment)
check_grep "summary.txt names the sleeping OP-TEE thread, its RPC and its TA" \
	"^OP-TEE: 1/3 threads suspended, 2 free: .*thread [0-2] in RPC suspend \(TEE_Wait\) for TA teelab-storage" "$run/evidence/summary.txt"
# the evidence is taken before teelab stops the hung command: its client
# still sleeps in the TEE driver (a SIGKILL first would wake it, and the TA's
# TEE_Wait() would spin through its RPC)
check_grep "... whose client still sleeps in the TEE driver when the evidence is taken" \
	"^===== task [0-9]+/[0-9]+ \(tl-storage\) state S " "$run/evidence/guest.txt"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
