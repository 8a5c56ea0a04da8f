# gdb-both-worlds.gdb - one gdb session over both worlds, in batch mode (tests/e2e/gdb.t):
#   gdb-multiarch -batch -x <run>/gdb/teelab.gdb -x tests/e2e/gdb-both-worlds.gdb
# on `teelab run --gdb-wait system-invocation` (the TA call comes from its clients)
echo \n===== 1. TF-A BL31: the OP-TEE dispatcher's SMC handler (EL3)\n
break opteed_smc_handler
continue
bt 6
info registers x0 x1 cpsr
delete
echo \n===== 2. Linux: optee_open_session (EL1, normal world)\n
break optee_open_session
continue
bt 12
delete
echo \n===== 3. OP-TEE: the entry of a yielding call (S-EL1)\n
break __thread_std_smc_entry
continue
bt 6
delete
echo \n===== 4. the lab TA teelab-storage: its command handler (S-EL0)\n
break TA_InvokeCommandEntryPoint
continue
bt 8
info symbol $pc
delete
echo \n===== done: detach, the run goes on\n
detach
