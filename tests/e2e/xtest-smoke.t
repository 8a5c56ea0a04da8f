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
check "/init loaded optee for the DT's OP-TEE node (its modalias)" grep -q "teelab-init: loaded optee" "$run/nw-console.log"
check "no lab disk without kexec steps, so no virtio_blk, nor SCMI without its node" \
	grep -qE "teelab-init: not loaded \(no device needs them\): scmi_transport_optee virtio_blk" "$run/nw-console.log"
check "xtest opened TA sessions (regression_1004 OK)" grep -rq "regression_1004 OK" "$run/steps"
for c in regression_1001 regression_1004 regression_6001; do
	check "junit.xml lists $c" grep -q "name=\"$c\"" "$run/junit.xml"
done
check "results.tap has no failure" bash -c "! grep -q '^not ok' '$run/results.tap'"
check "qemu.cmdline names secure=on" grep -q "secure=on" "$run/qemu.cmdline"
check "qemu.cmdline runs TCG single-threaded (the machine default)" grep -q -- "-accel tcg,thread=single" "$run/qemu.cmdline"

# qemu-rerun.sh boots the same machine by hand, from any directory, even for
# a run made with a relative --runs-dir (boot.dtb is a relative path then)
(cd "$WORK" && "$TEELAB" -q run --runs-dir rel xtest-smoke >/dev/null 2>&1)
rerun=$(ls -d "$WORK"/rel/*/ | tail -n 1)qemu-rerun.sh
(cd / && exec setsid sh "$rerun" </dev/null >"$WORK/rerun.out" 2>&1) &
rpid=$!
for _ in $(seq 120); do
	grep -q '@@TL:READY@@' "$WORK/rerun.out" && break
	sleep 0.5
done
kill -TERM -- "-$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
for _ in $(seq 50); do
	pgrep -f "path=$(dirname "$rerun")/sw-console.rerun.log" >/dev/null || break
	sleep 0.1
done
check_grep "qemu-rerun.sh (run from /) boots the guest to the ready marker" '@@TL:READY@@' "$WORK/rerun.out"
check "qemu-rerun.sh: OP-TEE's console went to sw-console.rerun.log in the run dir" \
	grep -q "OP-TEE version: " "$(dirname "$rerun")/sw-console.rerun.log"

sleep 0.2
after=$(qemu_pids)
ok $([ "$before" = "$after" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
