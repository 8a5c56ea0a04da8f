#!/bin/bash
# The system-invocation matrix: every cell of scenarios/system-invocation.yaml
# run REPEAT times (default 5) with images cached, each run's observed verdict
# checked against the cell's expectation. Prints one line per run and a
# table cell -> expected -> observed verdicts -> wall time, then
# "N passed, N failed"; exits 1 if any run did not give its expected verdict.
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
		if [ $rc -eq 0 ]; then pass=$((pass + 1)); ok=ok; else fail=$((fail + 1)); ok=FAIL; fi
		echo "$c run $i: expected $exp, observed $obs, ${wall} s, $ok ($res)"
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
