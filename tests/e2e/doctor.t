#!/bin/bash
# teelab doctor on this host: all good after `make deps`; a package of the
# list that is not installed, and a cross compiler that cannot link against
# the arm64 C library (libc6-dev-arm64-cross missing), are each named with
# the command that installs them, exit 4; a bad option is exit 3. No boot.
. "$(dirname "$0")/lib.sh"

"$TEELAB" doctor >"$WORK/out" 2>&1
ok $? "teelab doctor exits 0 on this host"
[ "$(tail -n 1 "$WORK/out")" = "doctor: all good" ] || diag "$WORK/out"
check "it ends with 'doctor: all good'" test "$(tail -n 1 "$WORK/out")" = "doctor: all good"
check "it checked the host package list" grep -q "^ok   host packages .* installed (.*host-packages.txt" "$WORK/out"
check "it linked an arm64 program" grep -q "^ok   cross compiler links for arm64" "$WORK/out"

# the project's data with one more package on the list
cp -r "$SRC/configs" "$SRC/scenarios" "$SRC/images" "$WORK/" 2>/dev/null
echo "teelab-no-such-package" >>"$WORK/configs/host-packages.txt"
TEELAB_DATADIR="$WORK" "$TEELAB" doctor >"$WORK/out" 2>&1
rc=$?
ok $([ $rc -eq 4 ] && echo 0 || echo 1) "a listed package not installed: exit 4 (got $rc)"
check "it is named" grep -q "^MISS   not installed  *teelab-no-such-package" "$WORK/out"
check "with the command that installs it" \
	grep -qE "^  (sudo )?apt-get install --no-install-recommends teelab-no-such-package\$" "$WORK/out"

# a cross compiler that finds no arm64 C library, as without libc6-dev-arm64-cross
mkdir -p "$WORK/bin" "$WORK/empty"
cat >"$WORK/bin/aarch64-linux-gnu-gcc" <<SH
#!/bin/sh
exec $(command -v aarch64-linux-gnu-gcc) --sysroot="$WORK/empty" -nostdinc "\$@"
SH
chmod +x "$WORK/bin/aarch64-linux-gnu-gcc"
PATH="$WORK/bin:$PATH" "$TEELAB" doctor >"$WORK/out" 2>&1
rc=$?
ok $([ $rc -eq 4 ] && echo 0 || echo 1) "no arm64 C library: exit 4 (got $rc)"
check "the link check fails, quoting the compiler" grep -q "^MISS cross compiler links for arm64 .*stdio.h" "$WORK/out"
check "libc6-dev-arm64-cross is named in the install command" \
	grep -qE "^  (sudo )?apt-get install --no-install-recommends libc6-dev-arm64-cross\$" "$WORK/out"

"$TEELAB" doctor --bogus >"$WORK/out" 2>&1
rc=$?
ok $([ $rc -eq 3 ] && echo 0 || echo 1) "an unknown option: exit 3 (got $rc)"
check "and says which" grep -q "unknown option '--bogus'" "$WORK/out"
finish
