#!/bin/bash
# End to end: `teelab run --gdb-wait` and the gdb script it writes. QEMU
# starts halted with its gdbstub; gdb-multiarch, driven by
# tests/e2e/gdb-both-worlds.gdb in batch mode, stops in TF-A BL31's SMC
# handler, Linux's optee_open_session, OP-TEE's yielding-call entry and the
# lab TA's command handler (its symbols added by the script's hook when
# OP-TEE loads it), prints a backtrace at each, and detaches; the run then
# completes as without a debugger.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)
mkdir -p "$RUNS"

"$TEELAB" run --runs-dir "$RUNS" --gdb-wait system-invocation >"$WORK/run.log" 2>&1 &
tl=$!
for i in $(seq 1 600); do
	grep -q "gdb-multiarch -x" "$WORK/run.log" && break
	kill -0 $tl 2>/dev/null || break
	sleep 1
done
script=$(sed -n 's/^ *gdb-multiarch -x \(.*\)$/\1/p' "$WORK/run.log")
check "teelab printed the gdb command line" test -n "$script"
check "the script loads TF-A, OP-TEE and Linux symbols and targets the gdbstub" \
	bash -c 'grep -q "bl31/bl31.elf" "$1" && grep -q "core/tee.elf" "$1" && grep -q "/vmlinux$" "$1" &&
		grep -q "^target remote 127.0.0.1:[0-9]*$" "$1"' _ "$script"
[ -n "$script" ] || script=/dev/null
timeout 600 gdb-multiarch -batch -x "$script" -x "$SRC/tests/e2e/gdb-both-worlds.gdb" >"$WORK/gdb.log" 2>&1
ok $? "gdb-multiarch -batch with the run's script and gdb-both-worlds.gdb exits 0"
check "stop 1: TF-A BL31's opteed_smc_handler, with a backtrace" \
	grep -qE "^#0 +0x[0-9a-f]+ in opteed_smc_handler \(\)" "$WORK/gdb.log"
check "stop 2: Linux's optee_open_session, called from tee_client_open_session" \
	bash -c 'grep -qE "^#0 +0x[0-9a-f]+ in optee_open_session \(\)" "$1" && grep -qE "^#1 .* in tee_client_open_session" "$1"' _ "$WORK/gdb.log"
check "stop 3: OP-TEE's __thread_std_smc_entry, with source lines" \
	grep -qE "^#0 +__thread_std_smc_entry \(.*\) at core/arch/arm/kernel/thread_optee_smc.c:[0-9]+" "$WORK/gdb.log"
check "the script's hook added the lab TA's symbols when OP-TEE loaded it" \
	grep -qE "^teelab: TA teelab-storage \(71d830b9-f34c-4edd-867d-1d886ebf5a75\) symbols at 0x[0-9a-f]+" "$WORK/gdb.log"
check "stop 4: the TA's TA_InvokeCommandEntryPoint, called through libutee" \
	bash -c 'grep -qE "^#0 +TA_InvokeCommandEntryPoint \(.*\) at teelab_storage_ta.c:[0-9]+" "$1" && grep -qE "^#1 .* in entry_invoke_command" "$1"' _ "$WORK/gdb.log"
check "gdb detached" grep -q "detached" "$WORK/gdb.log"
wait $tl
ok $? "the run went on after the debugger left and exits 0"
run=$(ls -d "$RUNS"/*/ | head -1)
check "the run dir keeps the script and the modules' addresses of the boot" \
	bash -c 'test -s "$1/gdb/teelab.gdb" && grep -q "^add-symbol-file .*teelab_tee_state.ko 0xffff" "$1/gdb/modules.gdb"' _ "$run"
check "result.json names the script" grep -q '"gdb": ".*gdb/teelab.gdb"' "$run/result.json"
check "the kernel ran with nokaslr" grep -q "nokaslr" "$run/result.json"
[ $failed -eq 0 ] || diag "$WORK/gdb.log"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
