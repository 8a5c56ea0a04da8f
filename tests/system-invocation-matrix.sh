#!/bin/bash
# The system-invocation matrix: every cell of scenarios/system-invocation.yaml
# run REPEAT times (default 5) with images cached, each run's observed verdict
# checked against the cell's expectation. Prints one line per run and a
# table cell -> expected -> observed verdicts -> wall time, then
# "N passed, N failed". A run fails when it does not give its expected
# verdict, takes 120 s or more (the issue's bound for a cached cell), or -
# on DEADLOCK - the verdict came more than 10 s after the stall window
# following the last progress line (result.json's
# deadlock_seconds_after_last_progress against the step's stall).
#
#   tests/system-invocation-matrix.sh [REPEAT] [CELL...]
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
TEELAB="$SRC/teelab"
REPEAT=${1:-5}
shift || true
RUNS=${RUNS:-$(mktemp -d /tmp/teelab-matrix.XXXXXX)}
cells=("$@")
if [ ${#cells[@]} -eq 0 ]; then
	# `teelab show` lists the cells: "cells     <name> expect ..." then indented
	mapfile -t cells < <("$TEELAB" show system-invocation |
		sed -n 's/^cells \{5\}\([^ ]*\) .*/\1/p; s/^ \{10\}\([0-9][^ ]*\) \+expect .*/\1/p')
fi
# build every cell's images first, so the timings are of cached runs
for c in "${cells[@]}"; do
	"$TEELAB" -q build --scenario system-invocation --cell "$c" >/dev/null || {
		echo "matrix: building the images of cell $c failed" >&2
		exit 4
	}
done
pass=0
fail=0
declare -A verdicts times expect
for c in "${cells[@]}"; do
	for i in $(seq "$REPEAT"); do
		t0=$(date +%s%N)
		"$TEELAB" -q run --runs-dir "$RUNS/$c-$i" --cell "$c" system-invocation >/dev/null 2>&1
		rc=$?
		t1=$(date +%s%N)
		res=$(ls -d "$RUNS/$c-$i"/*/ | tail -n 1)result.json
		exp=$(sed -n 's/^  "expected": "\(.*\)",$/\1/p' "$res")
		obs=$(sed -n 's/^  "observed": "\(.*\)",$/\1/p' "$res")
		ms=$(((t1 - t0) / 1000000))
		wall="$((ms / 1000)).$(((ms % 1000) / 100))"
		why=""
		[ $rc -eq 0 ] || why="exit $rc"
		[ $ms -lt 120000 ] || why="${why:+$why, }took ${wall} s"
		late=""
		if [ "$obs" = DEADLOCK ]; then
			# "... made no progress for 15 s ..." and the measured delay
			stall=$(sed -n 's/.*made no progress for \([0-9.]*\) s.*/\1/p' "$res" | head -n 1)
			late=$(sed -n 's/^    "deadlock_seconds_after_last_progress": "\(.*\)",\?$/\1/p' "$res")
			python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) <= float(sys.argv[1]) + 10 else 1)' \
				"${stall:-0}" "${late:-1e9}" || why="${why:+$why, }verdict ${late:-?} s after the last progress (stall ${stall:-?} s)"
			late=", verdict ${late} s after the last progress"
		fi
		if [ -z "$why" ]; then pass=$((pass + 1)); ok=ok; else fail=$((fail + 1)); ok="FAIL: $why"; fi
		echo "$c run $i: expected $exp, observed $obs, ${wall} s$late, $ok ($res)"
		expect[$c]=$exp
		verdicts[$c]="${verdicts[$c]:-}${verdicts[$c]:+ }$obs"
		times[$c]="${times[$c]:-}${times[$c]:+ }$wall"
	done
done
echo
printf '| %-11s | %-8s | %-44s | %-34s |\n' cell expected "observed (each run)" "wall seconds (each run)"
printf '|-------------|----------|----------------------------------------------|------------------------------------|\n'
for c in "${cells[@]}"; do
	printf '| %-11s | %-8s | %-44s | %-34s |\n' "$c" "${expect[$c]}" "${verdicts[$c]}" "${times[$c]}"
done
echo
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
