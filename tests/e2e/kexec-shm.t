#!/bin/bash
# End to end: OP-TEE shared memory across kexec and kdump on Debian's 6.12
# (OP-TEE 4.10 from source, teelab's shm TA). Two hops of kexec-shm with a
# client holding 4K..4M of registered and allocated shm; kdump-shm with
# clients asleep in the TA; and two deliberately broken variants that must
# FAIL with their reason in result.json.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)
boots() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join("%s:%s:%s:%s" % (b["boot"], b["how"], b["passed"], b["optee_seconds"] is not None) for b in d["boots"]))' "$1/result.json"; }

run_teelab 0 "teelab run --param hops=2 kexec-shm" --param hops=2 kexec-shm
check "result.json boots: power-on, then 2 kexec hops, each passed with the driver up" \
	test "$(boots "$run")" = "1:power-on:True:True 2:kexec:True:True 3:kexec:True:True"
check "one normal-world log segment per boot" test -s "$run/nw-console.boot-3.log"
check "a segment starts at the new kernel's first line" \
	bash -c 'head -n 1 "$1" | grep -q "Booting Linux on physical CPU"' _ "$run/nw-console.boot-2.log"
check "the old kernel's last lines stay in its segment" grep -q "tl-kexec: kexec -e" "$run/nw-console.boot-1.log"
check "a scenario with kexec steps gets the lab disk: virtio_blk loaded" \
	grep -q "teelab-init: loaded virtio_blk" "$run/nw-console.boot-1.log"
check "the secure log is one file across the hops" \
	bash -c '[ ! -e "$1/sw-console.boot-2.log" ] && grep -q "Primary CPU switching to normal world boot" "$1/sw-console.log"' _ "$run"
check "a 4 MiB registered buffer round-tripped on the new kernel" \
	grep -rq "^tl-shm: roundtrip registered 4194304 round 1 ok" "$run/steps"
check "a 4 MiB allocated buffer was held across the hop" \
	grep -rq "^tl-shm: hold allocated 4194304 ok" "$run/steps"

run_teelab 1 "kexec-shm with a client checking a wrong pattern" --param hops=1 --param break=--break kexec-shm
check "its verdict is FAIL" test "$(json_get "$run/result.json" verdict)" = FAIL
check "its reason names the round-trip step" \
	bash -c 'json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"reason\"])" "$1"; }; json "$1" | grep -q "shm round-trips on the first kernel"' _ "$run/result.json"
check "the client said why" grep -rq -- "--break: checked against a wrong pattern on purpose" "$run/steps"

run_teelab 1 "kexec -e without kexec -l" "$SRC/tests/e2e/scenarios/kexec-no-load.yaml"
check "its verdict is FAIL" test "$(json_get "$run/result.json" verdict)" = FAIL
check "its reason is tl-kexec's" bash -c 'grep -q "\"reason\": \"kexec: kexec failed (status 4): .*kexec -e returned" "$1"' _ "$run/result.json"
check "no second boot was recorded" test "$(boots "$run")" = "1:power-on:False:True"

run_teelab 0 "teelab run kdump-shm" kdump-shm
check "the capture kernel is boot 2 (kdump), without the OP-TEE driver" \
	test "$(boots "$run")" = "1:power-on:True:True 2:kdump:True:False"
check "the capture kernel saw /proc/vmcore" grep -q "teelab-init: kdump capture kernel, /proc/vmcore [1-9]" "$run/nw-console.boot-2.log"
check "the OP-TEE module refused to load under kdump" grep -q "teelab-init: FAILED to load module optee (No such device)" "$run/nw-console.boot-2.log"
check "the first MiB of /proc/vmcore is an ELF core (artifact)" \
	bash -c 'head -c 4 "$1" | od -A n -t x1 | grep -q "7f 45 4c 46"' _ "$run/artifacts/vmcore-head"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
