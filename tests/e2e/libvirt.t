#!/bin/bash
# End to end: the libvirt backend. xtest-smoke on both backends (same
# verdicts, same guest hardware, the run dirs differ only by libvirt's own
# files); QEMU killed under libvirt is INFRA; teelab killed takes its
# libvirt QEMU along. As root with libvirtd installed, also a second
# libvirt daemon on this machine as a remote host (qemu+tcp://) and the
# matrix's fail-over from a dead host to it.
. "$(dirname "$0")/lib.sh"

before=$(qemu_pids)
run_teelab 0 "xtest-smoke on the direct QEMU backend" --backend qemu xtest-smoke
A=$run
# a relative runs directory (as the default ./runs): libvirt's QEMU runs elsewhere
(cd "$WORK" && "$TEELAB" run --runs-dir rel-runs --backend libvirt xtest-smoke >"$WORK/out" 2>"$WORK/err")
rc=$?
ok $rc "xtest-smoke on the libvirt backend (embed driver, no daemon, relative --runs-dir) exits 0 (got $rc)"
[ $rc -eq 0 ] || diag "$WORK/err"
B=$(ls -d "$WORK"/rel-runs/*/ | tail -n 1)
B=${B%/}
check "result.json: backend libvirt and the embed URI" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["environment"]
assert e["backend"] == "libvirt" and e["libvirt_uri"].startswith("qemu:///embed?root="), e' "$B/result.json"
check "domain.xml: two PL011 serials and secure=on through qemu:commandline" \
	bash -c '[ "$(grep -c "<model name=.pl011./>" "$1")" -eq 2 ] && grep -q "qemu:arg value=.secure=on" "$1"' _ "$B/domain.xml"
check "libvirt's QEMU command line has -machine secure=on and -bios" \
	bash -c 'grep -q -- "-machine secure=on" "$1" && grep -q -- "-bios " "$1"' _ "$B/qemu.cmdline"
check "the run dirs hold the same files but libvirt's domain.xml and libvirt.log" \
	diff <(cd "$A" && find . -type f | sort) \
	     <(cd "$B" && find . -type f ! -name domain.xml ! -name libvirt.log | sort)
check "the same steps and tests with the same verdicts" python3 -c '
import json, sys
a, b = (json.load(open(p + "/result.json")) for p in sys.argv[1:3])
key = lambda r: [(t["group"], t["name"], t["verdict"]) for t in r["tests"]]
assert a["verdict"] == b["verdict"] == "PASS" and key(a) == key(b), (key(a), key(b))' "$A" "$B"
pci() { sed -nE 's/^.*\] (pci 0000:00:0[1-3]\.0: \[[0-9a-f:]+\].*)/\1/p' "$1/nw-console.log"; }
check "the guest sees the same PCI devices (net 00:01, rng 00:02, kexec disk 00:03)" \
	bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$(pci "$A")" "$(pci "$B")"

# QEMU killed under libvirt: the step is INFRA, the run dir complete
"$TEELAB" -q run --runs-dir "$WORK/kill" --backend libvirt xtest-regression >"$WORK/kout" 2>"$WORK/kerr" &
tl=$!
q=""
for _ in $(seq 300); do
	grep -q "optee: initialized driver" "$WORK"/kill/*/nw-console.log 2>/dev/null &&
		q=$(pgrep -f "guest=teelab-.*-$tl-" | head -n 1)
	[ -n "$q" ] && break
	sleep 0.1
done
ok $([ -n "$q" ] && echo 0 || echo 1) "libvirt's QEMU found once the guest booted"
sleep 4	# xtest's full regression runs for minutes: QEMU dies under it
[ -n "$q" ] && kill -KILL "$q"
wait $tl
rc=$?
ok $([ $rc -eq 4 ] && echo 0 || echo 1) "QEMU killed under libvirt: exit 4 (INFRA) (got $rc)"
kr=$(ls -d "$WORK"/kill/*/ | tail -n 1)
check_grep "its result.json says QEMU exited during the step" "QEMU exited \(status 137\) during the step" "$kr/result.json"
check "and both consoles are in the run dir" test -s "$kr/nw-console.log" -a -s "$kr/sw-console.log"

# teelab SIGKILLed: its watchdog takes the embed driver's QEMU along
"$TEELAB" -q run --runs-dir "$WORK/kill2" --backend libvirt xtest-regression >/dev/null 2>&1 &
tl=$!
q=""
for _ in $(seq 300); do
	q=$(pgrep -f "guest=teelab-.*-$tl-" | head -n 1)
	[ -n "$q" ] && break
	sleep 0.1
done
sleep 2
kill -KILL $tl
wait $tl 2>/dev/null
for _ in $(seq 30); do kill -0 "$q" 2>/dev/null || break; sleep 0.1; done
ok $([ -n "$q" ] && ! kill -0 "$q" 2>/dev/null && echo 0 || echo 1) "teelab killed with SIGKILL: its libvirt QEMU is gone too"

if [ "$(id -u)" -eq 0 ] && command -v libvirtd >/dev/null && command -v unshare >/dev/null; then
	# a free port from the kernel: $$ is small and alike in every CI root's PID namespace
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	host="$WORK/lvhost"
	trap '"$SRC/tests/libvirt-second-host.sh" stop "$host"; rm -rf "$WORK"' EXIT
	uri=$("$SRC/tests/libvirt-second-host.sh" start "$host" "$port" 2>"$WORK/lverr")
	ok $? "a second libvirtd on this machine answers on $uri"
	[ -n "$uri" ] || diag "$WORK/lverr" "$host"/log/libvirtd.log
	run_teelab 0 "xtest-smoke on the second libvirt host (--connect $uri)" --connect "$uri" xtest-smoke
	check "its images were uploaded to that host's pool 'teelab'" \
		bash -c 'ls "$1"/lib/images/teelab/ | grep -q qemu_fw.bios' _ "$host"
	check "result.json names the remote URI" grep -q "\"libvirt_uri\": \"$uri\"" "$run/result.json"
	dead="qemu+tcp://127.0.0.1:1/system"
	"$TEELAB" run --matrix "$SRC/tests/e2e/matrix/one.yaml" -j 1 --hosts "$dead,$uri" \
		--out "$WORK/mx" >"$WORK/mout" 2>"$WORK/merr"
	rc=$?
	ok $([ $rc -eq 0 ] && echo 0 || echo 1) "matrix over a dead host and the second host: exit 0 (got $rc)"
	[ $rc -eq 0 ] || diag "$WORK/merr"
	check "the cell ran on the second host after failing to start on the dead one" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["cells"][0]
assert c["verdict"] == "PASS" and c["host"] == sys.argv[2], c
assert c["hosts_failed"][0].startswith(sys.argv[3] + ": boot: QEMU did not start"), c' \
		"$WORK/mx/matrix.json" "$uri" "$dead"
	"$TEELAB" run --matrix "$SRC/tests/e2e/matrix/one.yaml" --hosts "$dead" \
		--out "$WORK/mx2" >/dev/null 2>&1
	rc=$?
	check "no host can start it: the cell is INFRA and the matrix exits 1 (got $rc)" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["cells"][0]
assert sys.argv[2] == "1" and c["verdict"] == "INFRA" and "could not start on any" in c["reason"], c' \
		"$WORK/mx2/matrix.json" "$rc"
else
	echo "# not root or no libvirtd: the second-host checks are left out"
fi
sleep 0.5
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
