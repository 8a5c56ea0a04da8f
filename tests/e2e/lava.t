#!/bin/bash
# End to end on LAVA's own dispatcher: `teelab export lava xtest-smoke`, the
# job checked against LAVA's strict submission schema and with
# `lava-run --validate`, then run for real by `lava-run` on this machine
# (LAVA starts QEMU itself), imported with `teelab import lava` and compared
# with `teelab run xtest-smoke` on the same images: same verdict, same steps
# and xtest cases, both consoles. Then what must not export (system-invocation,
# with file:line; --lossy listing what it dropped) and two jobs that fail on
# purpose (a missing image: INFRA; a failing step: FAIL), each with its reason.
# Needs lava-dispatcher (configs/test-packages.txt, Debian bookworm) and root.
. "$(dirname "$0")/lib.sh"

if ! command -v lava-run >/dev/null; then
	. /etc/os-release
	if [ "${VERSION_CODENAME:-}" = bookworm ]; then
		ok 1 "lava-run is installed (make test-deps)"
		finish
		exit
	fi
	echo "1..0 # SKIP LAVA's dispatcher is packaged for bookworm only (here: ${VERSION_CODENAME:-?})"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP lava-run runs only as root (it checks its effective uid)"
	exit 0
fi
PY=/usr/bin/python3	# LAVA's modules are the system Python's
SCHEMA=/usr/share/lava-common/lava-schema.py
job_id=$((90000 + $$ % 10000))

# lava_run <export dir> [--validate]: lava-run on that export, its log in DIR/output/job.log
lava_run() {
	local d=$1
	shift
	job_id=$((job_id + 1))
	mkdir -p "$d/output"
	lava-run "$@" --device "$d/device.yaml" --dispatcher "$d/dispatcher.yaml" \
		--output-dir "$d/output" --job-id "$job_id" "$d/job.yaml" 2>"$d/output/job.log"
	lrc=$?
	rm -rf "/var/lib/lava/dispatcher/tmp/$job_id"
}
# import <export dir> <runs dir>: teelab import lava; sets $rc, $irun
import() {
	"$TEELAB" import lava "$1/output" --runs-dir "$2" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	irun=$(ls -d "$2"/*/ 2>/dev/null | tail -n 1)
}
# tests FILE: "group name verdict" per test of a result.json, sorted
tests_of() {
	$PY -c 'import json,sys
for t in json.load(open(sys.argv[1]))["tests"]: print(t["group"], "|", t["name"], "|", t["verdict"])' "$1" | sort
}

before=$(qemu_pids)
X="$WORK/lava"
"$TEELAB" export lava xtest-smoke --out "$X" >"$WORK/out" 2>"$WORK/err"
ok $? "teelab export lava xtest-smoke"
for f in job.yaml device.yaml dispatcher.yaml device-dictionary.jinja2 mapping.json \
	images/qemu_fw.bios images/virt.dtb images/initramfs.cpio; do
	check "the export has $f" test -s "$X/$f"
done
check "job.yaml passes LAVA's strict submission schema" $PY "$SCHEMA" job --strict "$X/job.yaml"
check "device.yaml passes LAVA's device schema" $PY "$SCHEMA" device "$X/device.yaml"
check "job.yaml: every image has its sha256" test "$(grep -c 'sha256sum:' "$X/job.yaml")" -eq 4
check "job.yaml: the secure console is a second connection (uart1)" grep -q 'connection: uart1' "$X/job.yaml"
lava_run "$X" --validate
ok $lrc "lava-run --validate passes"

t0=$(date +%s.%N)
lava_run "$X"
t_lava=$(printf "%.1f" "$(echo "$(date +%s.%N) - $t0" | bc)")
ok $lrc "lava-run of the exported job passes (${t_lava} s)"
[ $lrc -eq 0 ] || tail -n 20 "$X/output/job.log" | diag
import "$X" "$RUNS/lava"
ok $([ $rc -eq 0 ] && echo 0 || echo 1) "teelab import lava exits 0 (got $rc)"
[ $rc -eq 0 ] || diag "$WORK/err"
check "the import says PASS" grep -qx PASS "$WORK/out"
lava_run_dir=$irun

t0=$(date +%s.%N)
run_teelab 0 "teelab run xtest-smoke" xtest-smoke
t_run=$(printf "%.1f" "$(echo "$(date +%s.%N) - $t0" | bc)")
diag <<<"wall: lava-run ${t_lava} s, teelab run ${t_run} s"
check "same verdict: $(json_get "$lava_run_dir/result.json" verdict) (LAVA) and $(json_get "$run/result.json" verdict) (teelab)" \
	test "$(json_get "$lava_run_dir/result.json" verdict)" = "$(json_get "$run/result.json" verdict)"
tests_of "$lava_run_dir/result.json" >"$WORK/lava.tests"
tests_of "$run/result.json" >"$WORK/run.tests"
check "same steps and xtest cases, same verdicts" cmp -s "$WORK/lava.tests" "$WORK/run.tests"
cmp -s "$WORK/lava.tests" "$WORK/run.tests" || diff "$WORK/run.tests" "$WORK/lava.tests" | diag
check "the xtest cases are there (regression_1004)" grep -q "regression_1004 | PASS" "$WORK/lava.tests"
check "imported normal console: optee: initialized driver" grep -q "optee: initialized driver" "$lava_run_dir/nw-console.log"
check "imported secure console: OP-TEE version" grep -q "OP-TEE version: " "$lava_run_dir/sw-console.log"
check "imported secure console has no normal-world line" bash -c "! grep -q 'Linux version' '$lava_run_dir/sw-console.log'"
check "the run directory keeps LAVA's log" test -s "$lava_run_dir/lava-job.log"
check "junit.xml lists regression_6001" grep -q 'name="regression_6001"' "$lava_run_dir/junit.xml"

# what has no LAVA form
"$TEELAB" export lava system-invocation --out "$WORK/si" >"$WORK/out" 2>"$WORK/err"
rc=$?
check "export of system-invocation refuses (exit 3, got $rc)" test $rc -eq 3
check "... naming the file and line of the background step" grep -q 'system-invocation.yaml:[0-9]*: step 5 .*(background): no faithful LAVA form: DEADLOCK detection' "$WORK/err"
check "... and writing no job" test ! -e "$WORK/si/job.yaml"
"$TEELAB" -q export lava system-invocation --lossy --out "$WORK/si" >"$WORK/out" 2>"$WORK/err"
ok $? "export --lossy of system-invocation"
check "... lists what it dropped in the job's description" grep -q "step 5 'N clients write secure storage" "$WORK/si/job.yaml"
check "... and validates" $PY "$SCHEMA" job --strict "$WORK/si/job.yaml"

# a job LAVA cannot start: an image URL that does not exist
"$TEELAB" -q export lava xtest-smoke --out "$WORK/nourl" --image-base-url "file://$WORK/no-such-dir" \
	>/dev/null 2>"$WORK/err"
ok $? "export with an image URL that does not exist"
lava_run "$WORK/nourl"
check "lava-run fails (exit 1)" test $lrc -eq 1
import "$WORK/nourl" "$RUNS/nourl"
check "imported: INFRA, exit 4 (got $rc)" test $rc -eq 4
check "... with LAVA's reason (the missing image)" grep -q "LAVA did not run the job: .*does not exist" "$WORK/err"

# a job whose step fails
"$TEELAB" -q export lava "$SRC/tests/e2e/scenarios/lava-fail.yaml" --out "$WORK/fail" >/dev/null 2>"$WORK/err"
ok $? "export of lava-fail"
lava_run "$WORK/fail"
ok $lrc "lava-run of lava-fail completes (a failed test case does not fail a LAVA job)"
import "$WORK/fail" "$RUNS/fail"
check "imported: FAIL, exit 1 (got $rc)" test $rc -eq 1
check "... with the step's reason" grep -q "a daemon that is not there: exit status 1, expected 0" "$WORK/err"

sleep 0.2
after=$(qemu_pids)
ok $([ "$before" = "$after" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
