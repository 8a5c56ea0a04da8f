#!/bin/bash
# End to end: TEE context lifetime (scenario ctx-lifetime, cell 6.12: Linux
# 6.12 from source with KASAN and kmemleak, OP-TEE 4.10 with TA statistics).
# A session outlives close(/dev/tee0) while shm lives and closes with the
# last shm; the checks fail when tl-ctx keeps an shm fd by mistake.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run ctx-lifetime (cell 6.12, 3 repeats)" ctx-lifetime --param repeat=3
log="$run/sw-console.log"
check "OP-TEE still had the session after close(/dev/tee0)" \
	grep -q "after close(/dev/tee0): .* teelab-ctx: 1 context(s) 1 session(s)" "$run/steps/05-run.log"
check "and none after the last shm reference" \
	grep -q "the last reference: .* teelab-ctx: 0 context(s) 0 session(s)" "$run/steps/05-run.log"
check "the TA logged open, close and destroy for tag 101, in that order" python3 -c '
import sys
lines = [l for l in open(sys.argv[1], errors="replace") if "tag=101" in l]
want = ["open session tag=101", "close session tag=101", "destroy instance tag=101"]
pos = [next(i for i, l in enumerate(lines) if w in l) for w in want]
assert pos == sorted(pos), pos' "$log"
check "4 sessions left open at exit: 4 close lines per round (1 + 3 repeats)" \
	test "$(grep -c 'teelab-ctx: close session tag=70[0-3]$' "$log")" -eq 12
check "result.json: the killed client was reaped after the TA's wait, having spent it in the kernel" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
assert m["killed-reaped-after-s"] >= 8.5 and m["killed-system-time-s"] >= 4.5, m
assert m["optee-heap-growth"] == 0 and m["optee-ta-ram-growth"] == 0, m' "$run/result.json"
check "kmemleak found nothing" grep -rq "^kmemleak-unreferenced 0$" "$run/steps"
check "OP-TEE built core only with the lab TA from Debian's dev kit (optee-os-dev), or a cached full build" python3 -c '
import json, sys
env = json.load(open(sys.argv[1]))["environment"]
core, kit = "core only" in env["optee-os"], env.get("ta-dev-kit", "")
assert core == bool(kit), env
assert not kit or kit.endswith("/usr/lib/optee-os-dev/vexpress-qemu_armv8a"), kit
assert core or "export-ta_arm64" not in kit, env' "$run/result.json"

run_teelab 1 "teelab run ctx-lifetime --param break=--break fails" ctx-lifetime --param repeat=1 --param break=--break
check "with the reason: the session stayed open" grep -rq \
	"shm-outlives FAIL: after close(registered shm fd), the last reference: OP-TEE has 1 teelab-ctx session(s), expected 0" "$run/steps"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
