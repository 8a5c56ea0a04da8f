#!/bin/bash
# End to end: `make install` as users type it. The binary is installed under
# a prefix it was not built for (DESTDIR staging, so the compiled-in data path
# does not exist) and must find configs/, scenarios/ and images/ beside itself
# (../share/teelab), list them and run xtest-smoke from another directory;
# `teelab --version` and result.json carry the checkout's version; the man
# page and bash completion are installed and work; `make uninstall` removes
# what install put there.
. "$(dirname "$0")/lib.sh"

stage="$WORK/stage"
prefix=/opt/teelab-install-test
bin="$stage$prefix/bin/teelab"
want_version=$(cd "$SRC" && make -s --no-print-directory print-version)

make -s -C "$SRC" install DESTDIR="$stage" PREFIX="$prefix" >"$WORK/make.out" 2>&1
ok $? "make install DESTDIR=... PREFIX=$prefix"
[ -x "$bin" ] || diag "$WORK/make.out"
check "the data is installed (configs/host-packages.txt)" test -f "$stage$prefix/share/teelab/configs/host-packages.txt"
check "the compiled-in data path does not exist here" test ! -e "$prefix"
man1="$stage$prefix/share/man/man1/teelab.1"
compl="$stage$prefix/share/bash-completion/completions/teelab"
check "the man page is installed (share/man/man1/teelab.1)" test -s "$man1"
check "it is teelab(1), with the run command's options" \
	bash -c "MANWIDTH=80 man -l '$man1' 2>/dev/null | grep -qE '^ +--timeout S\$'"
check "the bash completion is installed (share/bash-completion/completions/teelab)" test -s "$compl"
check "it completes with the installed binary" \
	bash --norc -c ". '$compl'; COMP_LINE='$stage$prefix/bin/teelab ma'; COMP_POINT=\${#COMP_LINE}; _teelab; [ \"\${COMPREPLY[*]}\" = matrix ]"

cd "$WORK"
"$bin" list >"$WORK/list" 2>&1
ok $? "installed teelab list, from another directory"
check "list shows the installed data directory" grep -q "^data: $stage$prefix/share/teelab\$" "$WORK/list"
check "list shows the xtest-smoke scenario" grep -q "^  xtest-smoke " "$WORK/list"

"$bin" --version >"$WORK/version"
ok $? "teelab --version"
check "--version prints the checkout's version ($want_version)" grep -qx "teelab $want_version" "$WORK/version"
check "the version is not the old constant 0.1" bash -c "! grep -qx 'teelab 0.1' '$WORK/version'"

before=$(qemu_pids)
TEELAB="$bin" run_teelab 0 "installed teelab run xtest-smoke (from $WORK)" xtest-smoke
check "result.json records teelab_version $want_version" \
	test "$(json_get "$run/result.json" teelab_version)" = "$want_version"
check "xtest opened TA sessions (regression_1004 OK)" grep -rq "regression_1004 OK" "$run/steps"
sleep 0.2
ok $([ "$before" = "$(qemu_pids)" ] && echo 0 || echo 1) "no QEMU process left behind"

make -s -C "$SRC" uninstall DESTDIR="$stage" PREFIX="$prefix" >"$WORK/make.out" 2>&1
ok $? "make uninstall"
check "uninstall removed the binary" test ! -e "$bin"
check "uninstall removed the data" test ! -e "$stage$prefix/share/teelab"
check "uninstall removed the man page" test ! -e "$man1"
check "uninstall removed the bash completion" test ! -e "$compl"
# the checkout's ./teelab back to its default data path for the tests after this one
make -s -C "$SRC" >/dev/null 2>&1
finish
