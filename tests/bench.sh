#!/bin/bash
# make bench: the speed targets, measured on this host (never in a unit test).
#   - a cached `teelab run xtest-smoke` rebuilds and fetches nothing, and
#     takes under 10 s wall (the same boot by hand took 4.7 s on 2 cores).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
TEELAB="$SRC/teelab"
RUNS=$(mktemp -d /tmp/teelab-bench.XXXXXX)
trap 'rm -rf "$RUNS"' EXIT
LIMIT=${BENCH_LIMIT_S:-10}
N=${BENCH_RUNS:-3}
fail=0

echo "warming the cache (teelab build)..."
"$TEELAB" -q build >/dev/null || { echo "bench: teelab build failed"; exit 1; }

printf '%-4s %-8s %-10s %s\n' run verdict wall_s "built/downloaded"
for i in $(seq 1 "$N"); do
	t0=$(date +%s.%N)
	"$TEELAB" run --runs-dir "$RUNS" xtest-smoke >"$RUNS/out.$i" 2>"$RUNS/err.$i"
	rc=$?
	[ -z "${BENCH_VERBOSE:-}" ] || cat "$RUNS/err.$i"
	t1=$(date +%s.%N)
	wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
	cache=$(grep -o '([0-9]* built, [0-9]* downloaded)' "$RUNS/err.$i" | tr -d '()')
	printf '%-4s %-8s %-10s %s\n' "$i" "$(cat "$RUNS/out.$i")" "$wall" "$cache"
	[ $rc -eq 0 ] || { echo "  run $i failed (exit $rc)"; fail=1; }
	[ "$cache" = "0 built, 0 downloaded" ] || { echo "  run $i rebuilt or fetched something"; fail=1; }
	python3 -c "import sys; sys.exit(0 if $wall < $LIMIT else 1)" ||
		{ echo "  run $i took ${wall}s, over the ${LIMIT}s target"; fail=1; }
done
[ $fail -eq 0 ] && echo "bench: PASS (cached xtest-smoke under ${LIMIT}s, nothing rebuilt or fetched)" ||
	echo "bench: FAIL"
exit $fail
