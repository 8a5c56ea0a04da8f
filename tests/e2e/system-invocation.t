#!/bin/bash
# End to end: the system-invocation deadlock and its fix on Linux 6.12 built
# from Debian's linux-source-6.12. With CFG_NUM_THREADS=1 the kernel cannot
# keep a thread for the SCMI system session, the SCMI power-up of the eMMC
# parks in the OP-TEE call queue and the run is DEADLOCK (as the cell
# expects: exit 0); with 2 threads (the default cell) the clients finish.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run --cell 6.12-t1-c2 system-invocation (meets its expectation)" --cell 6.12-t1-c2 system-invocation
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

run_teelab 0 "teelab run system-invocation (default cell 6.12-t2-c2)" system-invocation
check "default cell: observed PASS" test "$(json_get "$run/result.json" observed)" = PASS
check "the system session got its thread (no best-effort warning)" \
	bash -c '! grep -q "do best effort" "$1"' _ "$run/nw-console.log"
check "both clients finished their 12 writes" grep -q "^tl-storage: load PASS" "$run/steps/"*-join*.log
check "every write powered the eMMC through OP-TEE's SCMI clock (scmi-clock-on >= 24)" \
	test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["scmi-clock-on"])' "$run/result.json")" -ge 24
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
