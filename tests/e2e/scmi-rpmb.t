#!/bin/bash
# End to end: OP-TEE's secure storage on the lab eMMC's RPMB partition,
# routed in-kernel by a Linux 6.12 built from Debian's linux-source-6.12,
# every access powering the card through OP-TEE's SCMI clock and regulator.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run scmi-rpmb-smoke" scmi-rpmb-smoke
metric() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"][sys.argv[2]])' "$run/result.json" "$1"; }
check "the kernel was built from Debian's linux-source-6.12" grep -q '"kernel": "built by teelab from linux-source-6.12' "$run/result.json"
check "/init programmed the RPMB key" grep -q "teelab-init: RPMB key programmed on /dev/mmcblk0rpmb" "$run/nw-console.log"
check "the kernel routes OP-TEE's RPMB frames (rpmb_routing_model)" grep -qx "kernel" "$run/steps/07-run.log"
check "authenticated writes reached the emulated card" grep -q "teelab-emmc: rpmb write addr [0-9]* blocks 1 counter [0-9]* result 0" "$run/nw-console.log"
check "xtest 6001 ran on RPMB storage (id 80000100)" grep -qE "regression_6001\.[0-9]+ Storage id: 80000100" "$run/steps/09-run.log"
check "metrics: RPMB writes counted" test "$(metric rpmb-writes)" -ge 3
check "metrics: one SCMI clock power-on per RPMB access" test "$(metric scmi-clock-on)" -ge "$(metric rpmb-accesses)"
check "metrics: one SCMI regulator power-on per RPMB access" test "$(metric scmi-regulator-on)" -ge "$(metric rpmb-accesses)"
check "metrics: the second read went to RPMB" test "$(metric rpmb-reads-by-second-read)" -ge 1
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
