# Shared helpers for the end-to-end tests (TAP through prove).
# These boot the real stack under QEMU: nothing is mocked.
set -u
SRC=${TEELAB_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TEELAB="$SRC/teelab"
WORK=$(mktemp -d /tmp/teelab-e2e.XXXXXX)
RUNS="$WORK/runs"
n=0
failed=0
trap 'rm -rf "$WORK"' EXIT

ok() { # ok <condition-exit-status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

check() { # check <description> <command...>
	local d=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}

diag() { sed 's/^/# /' "$@" >&2 || true; }

check_grep() { # check_grep <description> <extended regex> <file>: the file's
	# first 40 lines as diagnostics when no line matches
	if grep -qE -- "$2" "$3" 2>/dev/null; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "# no line of $3 matches: $2" >&2
		head -n 40 "$3" 2>&1 | sed 's/^/#   /' >&2
	fi
}

# every live QEMU of this machine: teelab's children and libvirt's (full path, maybe
# another user); by command line, so a zombie waiting for its reaper is not counted
qemu_pids() { pgrep -f '^(/usr/bin/)?qemu-system-aarch64 ' | sort; }

# run_teelab <expected exit> <what> <teelab run arguments...>: runs it in a
# runs directory of its own, one ok line "<what> exits <N> (got <rc>)" with
# teelab's stderr as diagnostics when it differs; sets $rc and $run (the
# run directory it made).
nruns=0
run_teelab() {
	local want=$1 what=$2 dir
	shift 2
	nruns=$((nruns + 1))
	dir="$RUNS/$nruns"
	"$TEELAB" run --runs-dir "$dir" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	run=$(ls -d "$dir"/*/ 2>/dev/null | tail -n 1)
	ok $([ $rc -eq "$want" ] && echo 0 || echo 1) "$what exits $want (got $rc)"
	[ $rc -eq "$want" ] || diag "$WORK/err"
}


# json_get FILE KEY: a top-level string/number field of result.json
json_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
