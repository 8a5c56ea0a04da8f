#!/bin/bash
# End to end: `teelab run xtest-smoke` builds (or reuses) the images, boots
# TF-A + OP-TEE + Linux under QEMU and runs xtest against real TAs.
. "$(dirname "$0")/lib.sh"

before=$(qemu_pids)
run_teelab 0 "teelab run xtest-smoke" xtest-smoke
check "a run directory was created" test -d "$run"
check "stdout says PASS" grep -qx PASS "$WORK/out"
check "result.json verdict is PASS" test "$(json_get "$run/result.json" verdict)" = PASS
check "optee: initialized driver in the normal-world log" grep -q "optee: initialized driver" "$run/nw-console.log"
check "OP-TEE version line in the secure-world log" grep -q "OP-TEE version: " "$run/sw-console.log"
check "console lines carry timestamps" grep -qE '^\[ *[0-9]+\.[0-9]{3}\] ' "$run/nw-console.log"
check "xtest opened TA sessions (regression_1004 OK)" grep -rq "regression_1004 OK" "$run/steps"
for c in regression_1001 regression_1004 regression_6001; do
	check "junit.xml lists $c" grep -q "name=\"$c\"" "$run/junit.xml"
done
check "results.tap has no failure" bash -c "! grep -q '^not ok' '$run/results.tap'"
check "qemu.cmdline names secure=on" grep -q "secure=on" "$run/qemu.cmdline"
check "qemu.cmdline runs TCG single-threaded (the machine default)" grep -q -- "-accel tcg,thread=single" "$run/qemu.cmdline"
sleep 0.2
after=$(qemu_pids)
ok $([ "$before" = "$after" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
