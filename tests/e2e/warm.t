#!/bin/bash
# End to end: warm starts. A run of xtest-smoke makes the lab's snapshot at
# its ready marker; the next run starts from it (the boot step under a
# second) with the same verdict and the same xtest cases; the run directory
# says where its boot came from. A snapshot made stale (an image rebuilt,
# QEMU's version string changed) is not used; a corrupt one falls back to a
# cold boot with a warning and is replaced. system-invocation's DEADLOCK
# cell gives the same verdict warm and cold. Real QEMU, nothing mocked.
. "$(dirname "$0")/lib.sh"

env_get() { # env_get RUN KEY: result.json environment.KEY ("" when absent)
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["environment"].get(sys.argv[2], ""))' \
		"$1/result.json" "$2"
}
cases() { # cases RUN: "id status" of the xtest cases, sorted
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print("\n".join(sorted(t["name"] + " " + t["verdict"] for t in r["tests"] if t["name"].startswith("regression_"))))' \
		"$1/result.json"
}

before=$(qemu_pids)

# 1. a cold run that makes the snapshot (one already there is dropped first)
run_teelab 0 "teelab run xtest-smoke (the snapshot, if any)" xtest-smoke
key=$(env_get "$run" snapshot)
[ -n "$key" ] || key=$(env_get "$run" snapshot_made)
snapdir=$(python3 -c 'import os; print(os.path.join(os.environ.get("TEELAB_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "teelab"), "snapshots"))')/$key
rm -rf "$snapdir"
run_teelab 0 "teelab run xtest-smoke with no snapshot" xtest-smoke
cold=$run
check "it booted cold, and says why" test "$(env_get "$cold" cold_reason)" = "no snapshot of this lab yet (this run makes one)"
check "... and made the snapshot" test "$(env_get "$cold" snapshot_made)" = "$key"
check "the snapshot holds the state, meta.json and both boot consoles" \
	test -s "$snapdir/state.mig" -a -s "$snapdir/meta.json" -a -s "$snapdir/nw-console.log" -a -s "$snapdir/sw-console.log"
check "no SSH key on the kernel command line" bash -c "! grep -q sshkey '$cold/qemu.cmdline' '$snapdir/nw-console.log'"

# 2. the warm run
run_teelab 0 "teelab run xtest-smoke from the snapshot" xtest-smoke
warm=$run
check "it started from the snapshot" test "$(env_get "$warm" boot_start)" = snapshot
check "result.json names the snapshot, when it was made and by which QEMU" \
	test "$(env_get "$warm" snapshot)" = "$key" -a -n "$(env_get "$warm" snapshot_made_at)" -a -n "$(env_get "$warm" snapshot_qemu)"
check "the boot record says snapshot" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["boots"][0]["how"] != "snapshot")' "$warm/result.json"
check "the recorded boot is in the console log, marked" grep -q "teelab: the boot below was recorded when snapshot ${key:0:16}" "$warm/nw-console.log"
check "... with both worlds' boot lines" bash -c "grep -q 'optee: initialized driver' '$warm/nw-console.log' && grep -q 'OP-TEE version: ' '$warm/sw-console.log'"
boot_step() { # boot_step RUN: the boot step's seconds
	python3 -c 'import json,sys; print([t["duration"] for t in json.load(open(sys.argv[1]))["tests"] if t["group"] == "steps" and t["name"] == "boot"][0])' "$1/result.json"
}
boot_s=$(boot_step "$warm")
echo "# warm boot step: ${boot_s} s; cold: $(boot_step "$cold") s"
check "the warm boot step took under 3 s (a cold boot's is 4-6 s)" python3 -c "import sys; sys.exit(not $boot_s < 3)"
check "same verdict warm and cold" test "$(json_get "$warm/result.json" verdict)" = "$(json_get "$cold/result.json" verdict)"
check "same xtest cases and results warm and cold" test "$(cases "$warm")" = "$(cases "$cold")"
cases "$warm" | grep -x 'regression_1004 PASS' >/dev/null
ok $? "the xtest cases are there (regression_1004 PASS)"

# 3. --cold on the same lab
run_teelab 0 "teelab run --cold xtest-smoke" --cold xtest-smoke
check "--cold boots cold" test "$(env_get "$run" cold_reason)" = "--cold"

# 4. a corrupt snapshot: a warning, a cold boot, a new snapshot
truncate -s 4096 "$snapdir/state.mig"
run_teelab 0 "teelab run xtest-smoke on a corrupt snapshot" xtest-smoke
check "a warning says the snapshot did not restore" grep -q "did not restore" "$WORK/err"
check "the run booted cold and says so" bash -c "grep -q 'the snapshot did not restore' '$run/result.json'"
check "... and made a new snapshot" test "$(env_get "$run" snapshot_made)" = "$key"
check "the new snapshot is whole" test "$(stat -c %s "$snapdir/state.mig")" -gt 1000000
check "... its guest RAM a sparse file of the machine's 1 GiB" \
	bash -c 'set -- $(stat -c "%s %b %B" "$1"); [ "$1" = 1073741824 ] && [ $(($2 * $3)) -gt 10000000 ] && [ $(($2 * $3)) -lt 600000000 ]' _ "$snapdir/ram"
# 4b. a RAM file cut short: not mapped (QEMU would grow it with zeros), a cold boot
truncate -s 0 "$snapdir/ram"
run_teelab 0 "teelab run xtest-smoke on a snapshot whose RAM file is empty" xtest-smoke
check "a warning says why the snapshot did not restore" grep -q "its RAM file is not the size of the machine's RAM" "$WORK/err"
check "... a new snapshot with its RAM" test "$(stat -c %s "$snapdir/ram")" = 1073741824

# 5. stale: QEMU's version string changed (a wrapper first in PATH)
mkdir -p "$WORK/bin"
cat >"$WORK/bin/qemu-system-aarch64" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "QEMU emulator version 7.2.99 (teelab test)"; exit 0; }
exec /usr/bin/qemu-system-aarch64 "\$@"
EOF
chmod +x "$WORK/bin/qemu-system-aarch64"
PATH="$WORK/bin:$PATH" run_teelab 0 "teelab run xtest-smoke under another QEMU version" xtest-smoke
check "the snapshot of the other QEMU is not used" test "$(env_get "$run" boot_start)" = cold
check "... a new one is made for this one" bash -c "k=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"environment\"].get(\"snapshot_made\", \"\"))' '$run/result.json'); [ -n \"\$k\" ] && [ \"\$k\" != '$key' ]"
rm -rf "$(dirname "$snapdir")/$(env_get "$run" snapshot_made)"

# 6. stale: an image rebuilt (the initramfs gets a new modification time)
initrd=$(python3 -c 'import shlex,sys; a=shlex.split(open(sys.argv[1]).read()); print([x for x in a if "initramfs" in x][0].split("file=")[-1].split(",")[0])' "$warm/qemu.cmdline")
touch "$initrd"
run_teelab 0 "teelab run xtest-smoke after its initramfs was rebuilt" xtest-smoke
check "the old snapshot is not used" test "$(env_get "$run" boot_start)" = cold
newkey=$(env_get "$run" snapshot_made)
check "... a new one is made" test -n "$newkey" -a "$newkey" != "$key"

# 7. the DEADLOCK cell, warm and cold: the same verdict
run_teelab 0 "system-invocation 6.12-t1-c2 (makes or uses its snapshot)" --cell 6.12-t1-c2 system-invocation
run_teelab 0 "system-invocation 6.12-t1-c2 warm" --warm --cell 6.12-t1-c2 system-invocation
check "... from the snapshot" test "$(env_get "$run" boot_start)" = snapshot
check "... DEADLOCK, as expected" test "$(json_get "$run/result.json" observed)" = DEADLOCK
run_teelab 0 "system-invocation 6.12-t1-c2 cold" --cold --cell 6.12-t1-c2 system-invocation
check "... DEADLOCK, as expected" test "$(json_get "$run/result.json" observed)" = DEADLOCK

# 8. the rule keeps a scenario that reboots cold
run_teelab 0 "reboot-after-xtest" reboot-after-xtest
check "a scenario that reboots boots cold, and says why" bash -c "grep -q 'reboots, kexecs or uses sysrq' '$run/result.json'"

sleep 0.2
after=$(qemu_pids)
ok $([ "$before" = "$after" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
