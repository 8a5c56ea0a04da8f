#!/bin/bash
# End to end (make e2e; not in CI: it builds Linux 6.1 from source): the
# secure side of the system-invocation deadlock on Linux 6.1, and the
# structural detector on every PASS cell of system-invocation, each run
# TEE_STATE_REPEAT times (default 10) with writes slow enough for it to read
# the state: zero false DEADLOCKs. The 6.12
# DEADLOCK cell is in system-invocation.t (CI).
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)
repeat=${TEE_STATE_REPEAT:-10}
env_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["environment"].get(sys.argv[2], ""))' "$1" "$2"; }

run_teelab 0 "system-invocation --cell 6.1-t2-c2 (DEADLOCK, as expected)" --cell 6.1-t2-c2 system-invocation
check "6.1-t2-c2: observed DEADLOCK" test "$(json_get "$run/result.json" observed)" = DEADLOCK
check "... proven from both worlds' state" test "$(env_of "$run/result.json" deadlock_detector)" = state
# which client got which OP-TEE thread varies from run to run
fs='thread [01] in RPC REE FS \(tee-supplicant\) for TA teelab-storage' wq='thread [01] in RPC notification \(wait queue\)'
check_grep "OP-TEE: one thread in an REE FS RPC for the storage TA, the other waiting for a notification" \
	"^OP-TEE: 2/2 threads suspended: ($fs, $wq|$wq, $fs);" "$run/evidence/summary.txt"
check "Linux: the supplicant's fsync waits for the eMMC whose SCMI power-up is parked" \
	grep -q "tee-supplicant thread .* waits for block I/O (submit_bio_wait, from fsync()); that I/O waits for kworker" "$run/evidence/summary.txt"
check "the proof names the notification wait" grep -q "1 waits for an OP-TEE notification" "$run/evidence/summary.txt"

# 64 KiB writes and detect_after=0.3: the detector reads both worlds' state
# whenever the clients pause for 0.3 s, so it reads it while OP-TEE threads
# are suspended in RPCs - at 2 KiB and the default 1 s it never did, and the
# 6.1 cells print a line every ~0.5 s (7 reads in 10 runs at 1 s)
for cell in 6.12-t2-c2 6.1-t3-c2 6.12-t3-c4; do
	false_deadlocks=0 reads=0
	least=
	for i in $(seq 1 "$repeat"); do
		run_teelab 0 "system-invocation --cell $cell, run $i of $repeat (PASS)" --cell "$cell" \
			--param bytes=65536 --param ops=4 --param detect_after=0.3 system-invocation
		[ "$(json_get "$run/result.json" observed)" = PASS ] || false_deadlocks=$((false_deadlocks + 1))
		got=$(env_of "$run/result.json" deadlock_detector_reads)
		reads=$((reads + ${got:-0}))
		[ -n "$least" ] && [ "$least" -le "${got:-0}" ] || least=${got:-0}
	done
	ok $false_deadlocks "$cell: $repeat PASS runs with the detector on, no DEADLOCK ($reads state reads in all)"
	ok $([ "$least" -ge 1 ] && echo 0 || echo 1) "$cell: the detector read the state in every run ($least reads in the run with fewest)"
done
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
