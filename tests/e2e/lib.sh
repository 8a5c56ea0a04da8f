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

qemu_pids() { pgrep -f '^qemu-system-aarch64 ' | sort; }

# the run directory created by the last `teelab run`
last_run() { ls -d "$RUNS"/*/ 2>/dev/null | tail -n 1; }

# json_get FILE KEY: a top-level string/number field of result.json
json_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
