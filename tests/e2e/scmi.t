#!/bin/bash
# End to end: OP-TEE OS built from Debian's source with teelab's SCMI server,
# the DT node added with libfdt, Linux's SCMI OP-TEE transport probing it.
. "$(dirname "$0")/lib.sh"
before=$(qemu_pids)

run_teelab 0 "teelab run scmi-probe" scmi-probe
check "OP-TEE built from source says revision 4.10" grep -q "optee: revision 4.10" "$run/nw-console.log"
check "teelab's SCMI server is in OP-TEE" grep -q "teelab-scmi: ready: channel 0, clock 0 emmc-clk, voltd 0 emmc-vcc" "$run/sw-console.log"
check "Linux found the SCMI firmware over OP-TEE" grep -q "SCMI Protocol v2.0 'teelab:vexpress-qemu'" "$run/nw-console.log"
check "the run dir has the device tree as source" grep -q 'compatible = "linaro,scmi-optee"' "$run/device-tree.dts"
check "the lab eMMC node consumes the SCMI clock" grep -q 'compatible = "teelab,emmc-rpmb"' "$run/device-tree.dts"
check "the emulated eMMC has an RPMB partition" grep -q "mmcblk0rpmb: mmc0:0001 TLEMMC 4.00 MiB" "$run/nw-console.log"
check "every eMMC power-up is an SCMI clock call into OP-TEE" grep -q "teelab-scmi: clock 0 emmc-clk on (count" "$run/sw-console.log"
check "xtest passes with TAs signed by the 4.5 dev-kit key" grep -q 'name="regression_1004"' "$run/junit.xml"
sleep 0.3
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"
finish
