#!/bin/bash
# make bench: the speed targets, measured on this host (never in a unit test).
#   - a cached `teelab run xtest-smoke` rebuilds and fetches nothing, and
#     takes under 10 s wall (the same boot by hand took 4.7 s on 2 cores).
#   - a kexec hop (tl-kexec's "kexec -e" -> "optee: initialized driver" on
#     the new kernel, result.json boots[].optee_seconds) under 10 s, for
#     every hop of kexec-shm (BENCH_HOPS, default 3) on its default cell and
#     on the 6.12 <-> 6.1 cell.
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

HOPS=${BENCH_HOPS:-3}
HOP_LIMIT=${BENCH_HOP_LIMIT_S:-10}
echo
printf '%-12s %-4s %-6s %-24s %-12s %s\n' cell hop how release optee_s ready_s
for cell in debian-6.12 6.12-6.1; do
	d="$RUNS/kexec-$cell"
	"$TEELAB" -q run --runs-dir "$d" --cell "$cell" --param hops="$HOPS" kexec-shm \
		>/dev/null 2>"$RUNS/err.kexec-$cell" || { echo "  kexec-shm --cell $cell failed"; fail=1; }
	python3 - "$(ls -d "$d"/*/ | tail -n 1)result.json" "$cell" "$HOP_LIMIT" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
bad = 0
for b in r["boots"][1:]:
    t = b["optee_seconds"]
    print("%-12s %-4s %-6s %-24s %-12s %s" % (sys.argv[2], b["boot"] - 1, b["how"], b["release"],
          "%.2f" % t if t is not None else "-", b["ready_seconds"]))
    if t is None or t >= float(sys.argv[3]):
        print("  hop %d: over the %s s target" % (b["boot"] - 1, sys.argv[3]))
        bad = 1
sys.exit(bad)
PY
done
[ $fail -eq 0 ] && echo "bench: PASS (cached xtest-smoke under ${LIMIT}s, nothing rebuilt or fetched; kexec hops under ${HOP_LIMIT}s)" ||
	echo "bench: FAIL"
exit $fail
