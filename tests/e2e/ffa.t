#!/bin/bash
# End to end: the FF-A secure world (TF-A's SPMD at EL3, OP-TEE 4.10 as the
# SPMC at S-EL1) with Linux 6.12 built with the FF-A transport: scenario
# ffa-notif, cell 6.12 - asynchronous notifications enabled and delivered.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run ffa-notif (cell 6.12)" ffa-notif
check "FF-A driver 1.1 on the normal world" grep -q "ARM FF-A: Driver version 1.1" "$run/nw-console.log"
check "the OP-TEE driver came up over FF-A" grep -q "optee: initialized driver" "$run/nw-console.log"
check "no SMC-ABI probe of OP-TEE" bash -c '! grep -q "optee: probing for conduit method" "$1"' _ "$run/nw-console.log"
check "OP-TEE is the SPMC (0x8000)" grep -q "SPMC ID 0x8000" "$run/sw-console.log"
check "OP-TEE saw notifications started" grep -q "Asynchronous notifications started" "$run/sw-console.log"
check "bottom halves served" grep -q "Clearing pending" "$run/sw-console.log"
check "result.json: notifications started once, the SRI count rose by at least 3 in 5 s" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
assert m["async-notif-started"] == 1 and m["sri-delta-5s"] >= 3 and m["ffa-driver-version"] == 1.1, m' "$run/result.json"
check "xtest passed over FF-A" grep -q 'name="regression_6001"' "$run/junit.xml"
# a lab without TAs: OP-TEE's core alone (no TA dev kit, no in-tree TAs),
# unless a full build of the same OP-TEE was already in the cache
check "the ffa profile (no lab TAs) built OP-TEE's core only, or reused a full build" python3 -c '
import json, os, sys
p = json.load(open(sys.argv[1]))["environment"]["optee-os"]
entry = p.rsplit("(", 1)[1].rstrip(")")
kit = os.path.isdir(entry + "/build/export-ta_arm64")
intree = os.path.isdir(entry + "/build/ta/pkcs11")
assert os.path.isfile(entry + "/build/core/tee-pager_v2.bin"), entry
assert ("core only" in p) == (not kit) and kit == intree, (p, kit, intree)' "$run/result.json"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
