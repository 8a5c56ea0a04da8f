#!/bin/bash
# End to end: a matrix run (configs/matrix/smoke.yaml, three cells, two at a
# time) where one cell's QEMU is killed mid-run: that cell must be INFRA,
# the other two PASS, the matrix exit 1, and the report complete.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)
out="$WORK/report"
victim=xtest-smoke.debian-6.1.debian-optee

"$TEELAB" run --matrix smoke -j 2 --out "$out" >"$WORK/out" 2>"$WORK/err" &
matrix=$!
# the victim cell's teelab, then its QEMU (a child of that teelab)
qemu=""
for i in $(seq 600); do
	cell=$(pgrep -f -- "--runs-dir $out/cells/$victim " | head -n 1)
	# the lab's QEMU (its consoles: -serial chardev:nw), not a build's: a
	# cold cache runs QEMU first for the device tree (dumpdtb=) and its version
	[ -n "$cell" ] && qemu=$(pgrep -P "$cell" -f '^qemu-system-aarch64 .* -serial chardev:nw ' | head -n 1)
	[ -n "$qemu" ] && break
	sleep 0.2
done
ok $([ -n "$qemu" ] && echo 0 || echo 1) "the victim cell's QEMU was found running"
# kill it as soon as its first guest command runs (steps/04-run.log): a fixed
# 2 s wait let a fast cell finish first on a loaded machine ("kill: No such
# process"), and a kill during a warm start's restore (the console log is
# written at once then) is a snapshot that did not restore: the cell boots
# cold instead and passes
for i in $(seq 300); do
	[ -n "$(find "$out/cells/$victim" -path '*/steps/04-run.log' 2>/dev/null)" ] && break
	sleep 0.1
done
[ -n "$qemu" ] && kill -KILL "$qemu"
wait $matrix
rc=$?
ok $([ $rc -eq 1 ] && echo 0 || echo 1) "the matrix exits 1 when a cell did not meet its expectation (got $rc)"
[ $rc -eq 1 ] || diag "$WORK/err"
cellv() { python3 -c 'import json,sys; print({c["id"]: c["verdict"] for c in json.load(open(sys.argv[1]))["cells"]}[sys.argv[2]])' "$out/matrix.json" "$1"; }
check "the killed cell is INFRA" test "$(cellv $victim)" = INFRA
check "the other cells passed" \
	bash -c '[ "$1" = PASS ] && [ "$2" = PASS ]' _ "$(cellv xtest-smoke.debian-6.12.debian-optee)" "$(cellv reboot-after-xtest.debian-6.12.debian-optee)"
check "one line per cell, none interleaved" \
	test "$(grep -cE '^teelab: \[[123]/3\] [a-z0-9.-]+ +[A-Z]+' "$WORK/err")" -eq 3
check "junit.xml has a testsuite per cell" test "$(grep -c '<testsuite ' "$out/junit.xml")" -eq 3
check "results.tap: 1..3 and the killed cell not ok" \
	bash -c 'grep -qx "1..3" "$1" && grep -q "^not ok .* $2" "$1"' _ "$out/results.tap" "$victim"
check "index.html links the killed cell's console logs" grep -q "cells/$victim/.*/nw-console.log" "$out/index.html"
check "index.html needs no JavaScript" bash -c '! grep -qi "<script" "$1"' _ "$out/index.html"
check "matrix.json records teelab_version ($("$TEELAB" --version))" \
	test "teelab $(json_get "$out/matrix.json" teelab_version)" = "$("$TEELAB" --version)"
check "each cell has its own run directory" test "$(ls -d "$out"/cells/*/*/result.json | wc -l)" -eq 3
# the cells' wall times kept for the next run's order (longest first); INFRA says nothing of a length
check "<cache>/matrix-times/smoke.json has the passed cells' wall times" python3 -c '
import json, os, sys
cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
t = json.load(open(os.path.join(cache, "teelab", "matrix-times", "smoke.json")))
for c in json.load(open(sys.argv[1]))["cells"]:
    if c["verdict"] == "PASS":
        assert abs(t[c["id"]] - c["wall"]) <= 0.06, (c["id"], t.get(c["id"]), c["wall"])' "$out/matrix.json"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
