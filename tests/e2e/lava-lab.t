#!/bin/bash
# End to end against a real LAVA lab on this machine: lava-server 2023.01
# (PostgreSQL, the API, the scheduler, a worker driving the dispatcher, one
# qemu device with teelab's device dictionary) started by
# tests/lava-lab/lab.sh in a fresh bookworm root made by .ci/clean-root (never
# on this machine itself: it is a database and a web service), then
# `teelab run --matrix tests/e2e/matrix/lava.yaml --lava <identity>`: the
# cells whose scenario exports (xtest-smoke on 6.12 and on 6.1,
# reboot-after-xtest) are submitted to the lab with lavacli and imported, the
# one that does not (guest-control: SSH) runs here, and one report says where
# each ran. About 4 minutes, most of it installing
# LAVA into the root. Needs root, debootstrap and lavacli
# (configs/test-packages.txt), and Debian bookworm (LAVA's suite).
. "$(dirname "$0")/lib.sh"

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
	echo "1..0 # SKIP LAVA is packaged for bookworm only (here: ${VERSION_CODENAME:-?})"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (a debootstrap root for the LAVA lab)"
	exit 0
fi
check "lavacli is installed (make deps: configs/host-packages.txt)" command -v lavacli
LAB="$WORK/lab"
mkdir -p "$LAB"
# lavacli's identities for this test only
export XDG_CONFIG_HOME="$WORK/xdg"
free_port() { $PY_SYS -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PY_SYS=/usr/bin/python3
port=$(free_port) pubport=$(free_port) evport=$(free_port)

# the device dictionary teelab gives a lab, from an export
"$TEELAB" -q export lava xtest-smoke --out "$WORK/x" >/dev/null 2>"$WORK/err"
ok $? "teelab export lava xtest-smoke (for its device dictionary)"
cp "$WORK/x/device-dictionary.jinja2" "$LAB/device.jinja2"

before=$(qemu_pids)
t0=$(date +%s)
"$SRC/.ci/clean-root" --bind "$WORK" bookworm "$SRC" \
	"LAVA_LAB_PORT=$port LAVA_LAB_PUBPORT=$pubport LAVA_LAB_EVENTPORT=$evport \
	 LAVA_LAB_PACKAGES=qemu-system-arm LAVA_LAB_DEVICE_DICT=$LAB/device.jinja2 \
	 bash tests/lava-lab/lab.sh serve $LAB" >"$WORK/lab.log" 2>&1 &
labpid=$!
stop_lab() {
	touch "$LAB/stop"
	for _ in $(seq 120); do kill -0 $labpid 2>/dev/null || break; sleep 1; done
	kill $labpid 2>/dev/null
	wait $labpid 2>/dev/null
}
trap 'stop_lab; rm -rf "$WORK"' EXIT
for _ in $(seq 900); do
	[ -e "$LAB/ready" ] || ! kill -0 $labpid 2>/dev/null && break
	sleep 1
done
ok $([ -e "$LAB/ready" ] && echo 0 || echo 1) "a LAVA lab started in a fresh bookworm root ($(($(date +%s) - t0)) s)"
[ -e "$LAB/ready" ] || { tail -n 30 "$WORK/lab.log" | diag; finish; exit; }
token=$(sed -n 's/^token=//p' "$LAB/ready")
lavacli identities add --uri "http://127.0.0.1:$port/RPC2" --username admin --token "$token" lava-lab
check "lavacli reaches it" lavacli -i lava-lab system version
check "its qemu device is there" bash -c "lavacli -i lava-lab devices list | grep -q qemu01"

t0=$(date +%s)
"$TEELAB" run --matrix "$SRC/tests/e2e/matrix/lava.yaml" --lava lava-lab -j 2 --out "$WORK/m" \
	>"$WORK/out" 2>"$WORK/err"
rc=$?
ok $rc "teelab run --matrix tests/e2e/matrix/lava.yaml --lava lava-lab exits 0 (got $rc, $(($(date +%s) - t0)) s)"
[ $rc -eq 0 ] || diag "$WORK/err"
# where each cell ran, from matrix.json
$PY_SYS -c 'import json,sys
for c in json.load(open(sys.argv[1]))["cells"]: print(c["id"], "|", c["verdict"], "|", c["host"], "|", c["run_dir"])' \
	"$WORK/m/matrix.json" >"$WORK/cells" 2>&1
diag "$WORK/cells"
check "xtest-smoke on debian-6.12 ran on the LAVA lab and passed" grep -q "^xtest-smoke.debian-6.12.debian-optee | PASS | LAVA lava-lab |" "$WORK/cells"
check "xtest-smoke on debian-6.1 ran on the LAVA lab and passed" grep -q "^xtest-smoke.debian-6.1.debian-optee | PASS | LAVA lava-lab |" "$WORK/cells"
check "reboot-after-xtest (a reboot mid-job) ran on the LAVA lab and passed" grep -q "^reboot-after-xtest.* | PASS | LAVA lava-lab |" "$WORK/cells"
check "guest-control (not exportable: SSH) ran here and passed" grep -q "^guest-control.* | PASS | this machine (not exportable" "$WORK/cells"
lava_run=$(awk -F' [|] ' '/^xtest-smoke.debian-6.12/ { print $4 }' "$WORK/cells")
check "the LAVA cell's run directory: both consoles and LAVA's log" \
	test -s "$WORK/m/$lava_run/sw-console.log" -a -s "$WORK/m/$lava_run/nw-console.log" -a -s "$WORK/m/$lava_run/lava-job.log"
check "... with the xtest cases" grep -q '"regression_1004"' "$WORK/m/$lava_run/result.json"
check "... and the server's job id" grep -q '"lava_job": "lava-lab job [0-9]*"' "$WORK/m/$lava_run/result.json"
check "the report's page says which cells ran on LAVA" grep -q "LAVA lava-lab" "$WORK/m/index.html"
check "junit.xml carries the host" grep -q 'name="teelab.host" value="LAVA lava-lab"' "$WORK/m/junit.xml"

stop_lab
trap 'rm -rf "$WORK"' EXIT
sleep 0.5
after=$(qemu_pids)
ok $([ "$before" = "$after" ] && echo 0 || echo 1) "no QEMU process left behind"
# (bracketed first letters: the pattern must not match this check's own command line)
check "no LAVA daemon left behind" bash -c "! pgrep -f '[l]ava-server manage|[l]ava-worker|[g]unicorn3? lava_server' >/dev/null"
finish
