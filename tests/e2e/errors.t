#!/bin/bash
# End to end: bad input and interruptions give clear errors, the documented
# exit codes, a complete run directory and no QEMU left behind.
. "$(dirname "$0")/lib.sh"

# 1. a scenario with a YAML error: file:line:column, exit code 3
cat >"$WORK/broken.yaml" <<'YAML'
name: broken
steps:
  - boot
  - run: "unterminated
YAML
"$TEELAB" run --runs-dir "$RUNS" "$WORK/broken.yaml" 2>"$WORK/err"
rc=$?
ok $([ $rc -eq 3 ] && echo 0 || echo 1) "YAML error exits 3 (got $rc)"
check "YAML error names file:line:column" grep -qE "broken\.yaml:[0-9]+:[0-9]+: " "$WORK/err"
diag "$WORK/err"

# 2. a scenario with an unknown key: located, exit code 3
printf 'name: typo\nsteps:\n  - boot\n  - run:\n      comand: ls\n' >"$WORK/typo.yaml"
"$TEELAB" run --runs-dir "$RUNS" "$WORK/typo.yaml" 2>"$WORK/err"
rc=$?
ok $([ $rc -eq 3 ] && echo 0 || echo 1) "unknown key exits 3 (got $rc)"
check "unknown key reported at typo.yaml:5:7" grep -q "typo.yaml:5:7: unknown key 'comand'" "$WORK/err"

# 3. no such scenario: exit 3
"$TEELAB" run --runs-dir "$RUNS" no-such-scenario 2>"$WORK/err"
rc=$?
ok $([ $rc -eq 3 ] && echo 0 || echo 1) "missing scenario exits 3 (got $rc)"

# 4. a missing kernel image: INFRA (4), still a run directory with a verdict
mkdir -p "$WORK/data"
cp -R "$SRC/configs" "$SRC/images" "$SRC/scenarios" "$WORK/data/"
printf 'image: /nonexistent/Image\nmodules: []\n' >"$WORK/data/configs/kernels/missing.yaml"
TEELAB_DATADIR="$WORK/data" "$TEELAB" run --runs-dir "$RUNS/missing" --kernel missing xtest-smoke 2>"$WORK/err"
rc=$?
ok $([ $rc -eq 4 ] && echo 0 || echo 1) "missing kernel image exits 4 (got $rc)"
check "the error names the missing image" grep -q "/nonexistent/Image" "$WORK/err"
run=$(ls -d "$RUNS"/missing/*/ | tail -n 1)
check "run directory has result.json" test -s "$run/result.json"
check "result.json verdict is INFRA" test "$(json_get "$run/result.json" verdict)" = INFRA
check "run directory has both console logs" test -e "$run/nw-console.log" -a -e "$run/sw-console.log"

# 5. Ctrl-C (SIGINT) during boot: INTERRUPTED (130), complete run dir, no QEMU
before=$(qemu_pids)
"$TEELAB" run --runs-dir "$RUNS/int" xtest-smoke >/dev/null 2>"$WORK/err" &
pid=$!
for _ in $(seq 1 1200); do	# until QEMU is up and the normal world has printed (2 min at most)
	r=$(ls -d "$RUNS"/int/*/ 2>/dev/null | tail -n 1)
	[ -n "$r" ] && [ -s "$r/nw-console.log" ] && break
	sleep 0.1
done
sleep 1
kill -INT $pid
t0=$(date +%s.%N)
wait $pid
rc=$?
t1=$(date +%s.%N)
ok $([ $rc -eq 130 ] && echo 0 || echo 1) "SIGINT during boot exits 130 (got $rc)"
ok $(python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 5 else 1)"; echo $?) "teardown after SIGINT took under 5 s"
run=$(ls -d "$RUNS"/int/*/ | tail -n 1)
check "interrupted run has result.json with INTERRUPTED" test "$(json_get "$run/result.json" verdict)" = INTERRUPTED
check "interrupted run kept the normal-world log" test -s "$run/nw-console.log"
check "interrupted run kept the secure-world log" test -s "$run/sw-console.log"
check "interrupted run has junit.xml and results.tap" test -s "$run/junit.xml" -a -s "$run/results.tap"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU left after SIGINT"

# 6. SIGKILL of teelab mid-boot: QEMU dies with it (PR_SET_PDEATHSIG).
# The QEMU waited for is teelab's child that runs a machine: teelab also runs
# `qemu-system-aarch64 --version` for a moment (the snapshot key), which any
# QEMU of the machine would catch.
"$TEELAB" run --runs-dir "$RUNS/kill" xtest-smoke >/dev/null 2>&1 &
pid=$!
# up to 2 min for QEMU to appear: a loaded 2-core machine (two CI roots at
# once) took over 30 s; the loop ends as soon as it is there
qemu=
for _ in $(seq 1 1200); do
	qemu=$(pgrep -P $pid -f '^(/usr/bin/)?qemu-system-aarch64 .*-machine virt' | head -n 1)
	[ -n "$qemu" ] && break
	sleep 0.1
done
check "teelab's QEMU was running before SIGKILL" test -n "$qemu"
kill -KILL $pid
wait $pid 2>/dev/null
sleep 1
# by qemu_pids (command line), so a zombie not yet reaped counts as dead
ok $([ -n "$qemu" ] && ! qemu_pids | grep -qx "$qemu" && echo 0 || echo 1) "teelab's QEMU (pid ${qemu:-none}) died with it"
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU left after SIGKILL of teelab"
finish
