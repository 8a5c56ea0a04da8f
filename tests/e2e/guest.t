#!/bin/bash
# End to end: guest control over SSH, reboot, kexec, and the verdicts that
# tell a hang from a panic. Each boots the real stack.
. "$(dirname "$0")/lib.sh"
S="$SRC/tests/e2e/scenarios"
before=$(qemu_pids)

run_scenario() { # run_scenario <name-or-path> <expected exit>; sets $rc and $run
	run_teelab "$2" "teelab run $(basename "$1" .yaml)" "$1"
}

# 1. commands over SSH, SFTP, background/join, parallel
run_scenario guest-control 0
check "guest-control verdict PASS" test "$(json_get "$run/result.json" verdict)" = PASS
check "ssh stdout kept apart from stderr" grep -q "^Linux version" "$run/steps/03-run.log"
check "ssh stderr in its own file" grep -qx "to-stderr" "$run/steps/03-run.stderr"
check "SFTP fetched /proc/version" grep -q "^Linux version" "$run/artifacts/version"
check "SFTP fetched a directory tree" grep -qx hello "$run/artifacts/out/sub/file"
check "SFTP kept a symlink" test -L "$run/artifacts/out/link"
check "per-run key is private (0600)" test "$(stat -c %a "$run/ssh/id_ed25519")" = 600
check "key directory is 0700" test "$(stat -c %a "$run/ssh")" = 700
check "the SSH forward listens on 127.0.0.1 only" grep -q "hostfwd=tcp:127.0.0.1:" "$run/qemu.cmdline"
metric() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"][sys.argv[2]])' "$run/result.json" "$1"; }
check "measure: a guest number in result.json metrics" test "$(metric cpus)" = 2
check "measure: a console line count in metrics" test "$(metric init-lines)" -ge 3
check "measure: a failed bound still records the value" test "$(metric cpus-over-64)" = 2
check "measure: the failed bound is the step's message" grep -q "cpus-over-64 = 2, below the minimum 64" "$run/result.json"
check "measure: metrics in junit properties" grep -q 'name="teelab.metric.cpus" value="2"' "$run/junit.xml"

# 2. a kernel panic is KERNEL_PANIC (exit 6), not a timeout
run_scenario "$S/panic.yaml" 6
check "panic verdict KERNEL_PANIC" test "$(json_get "$run/result.json" verdict)" = KERNEL_PANIC
check "panic reason quotes the kernel" bash -c "json=\$(cat '$run/result.json'); [[ \$json == *'sysrq triggered crash'* ]]"

# 3. a command that blocks forever is HANG (exit 5), with evidence
run_scenario "$S/hang.yaml" 5
check "hang verdict HANG" test "$(json_get "$run/result.json" verdict)" = HANG
check "evidence: summary" test -s "$run/evidence/summary.txt"
check "evidence: registers of every vCPU" grep -q "CPU#1" "$run/evidence/registers.txt"
check "evidence: sysrq w output in the guest's log" grep -q "sysrq: Show Blocked State" "$run/evidence/guest.txt"
check "evidence: the stuck command's stack" grep -q "state S (sleeping): sleep 100000" "$run/evidence/guest.txt"
check "evidence: tee-supplicant's stack" grep -q "(tee-supplicant)" "$run/evidence/guest.txt"
check "evidence: console tails" test -s "$run/evidence/nw-console.tail" -a -s "$run/evidence/sw-console.tail"

# 4. reboot: the second boot comes back with OP-TEE
run_scenario reboot-after-xtest 0
check "two boot segments" test -s "$run/nw-console.boot-2.log"
check "the second boot initialised the OP-TEE driver" grep -q "optee: initialized driver" "$run/nw-console.boot-2.log"

# 5. kexec into the lab kernel, then xtest-smoke on it
run_scenario kexec-smoke 0
check "kexec: the new kernel started" grep -q "kexec_core: Starting new kernel" "$run/nw-console.log"
check "kexec: OP-TEE driver up on the new kernel" grep -q "optee: initialized driver" "$run/nw-console.boot-2.log"
check "kexec: xtest passed after the hop" grep -q 'regression_6001' "$run/junit.xml"

sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
