#!/bin/bash
# End to end: CVE-2026-53273 both ways (scenario supp-race). A client is
# killed while tee-supplicant serves its TA load, then the supplicant
# answers: on Debian's 6.1.170-3 (KASAN) the answer touches the freed
# request, a KERNEL_BUG as the cell expects; on 6.12 it is refused and the
# next client works.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run supp-race --cell 6.12 passes" supp-race --cell 6.12
check "the killed client was reaped at once" grep -q "^tl-ctx: client-reaped-after-kill 0\." "$run/steps/03-run.log"
check "the supplicant was blocked on the FIFO and answered" grep -q "the supplicant was blocked on" "$run/steps/03-run.log"
check "no kernel report" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["observed"] == "PASS" and "kernel_bug" not in r, r.get("kernel_bug")' "$run/result.json"
check "the next client worked, with the supplicant started again" grep -q "^tl-ctx: roundtrip PASS" "$run/steps/06-run.log"

run_teelab 0 "teelab run supp-race --cell 6.1.170 gives the expected KERNEL_BUG" supp-race --cell 6.1.170
check "result.json: KASAN's use-after-free in optee_supp_send, read by tee-supplicant" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["observed"] == "KERNEL_BUG" and r["expected"] == "KERNEL_BUG", r["observed"]
b = r["kernel_bug"]
assert b["kind"] == "KASAN" and "use-after-free in optee_supp_send" in b["line"], b["line"]
assert "by task tee-supplicant/" in b["report"] and "optee_supp_thrd_req" in b["report"], b["report"][:300]' "$run/result.json"
check "evidence/kernel-bug.txt has the report" grep -q "BUG: KASAN: use-after-free in optee_supp_send" "$run/evidence/kernel-bug.txt"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
