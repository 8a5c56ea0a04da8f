#!/bin/bash
# The command line without a boot: every spelling users type parses to the
# same thing (--opt=VALUE and --opt VALUE, -v/-q before and after the
# command, lab options before and after it, run --matrix and matrix), an
# unknown option is a usage error (exit 3) in every command, --help and
# `teelab help <command>` come from the same table, the man page is valid
# roff, and bash completion offers commands, options, scenarios and matrices.
# Nothing here boots QEMU: each run stops at a usage error or a missing
# scenario/matrix, which happens after the options were parsed.
. "$(dirname "$0")/lib.sh"

# expect <exit> <what> <teelab arguments...>: stdout+stderr in $WORK/out
expect() {
	local want=$1 what=$2 rc
	shift 2
	"$TEELAB" "$@" >"$WORK/out" 2>&1
	rc=$?
	ok $([ $rc -eq "$want" ] && echo 0 || echo 1) "$what: exit $want (got $rc)"
	[ $rc -eq "$want" ] || diag "$WORK/out"
}
has() { # has <what> <grep -E pattern>: in the last expect's output
	check "$1" grep -qE -- "$2" "$WORK/out"
}

# --help and teelab help <command>: one table
expect 0 "teelab run --help" run --help
cp "$WORK/out" "$WORK/run-help"
for o in --boot-timeout --step-timeout --timeout --hang-window --cell --param --refresh --matrix \
	--profile --kernel --secure --machine --rootfs --optee-flag --cache-dir --runs-dir \
	--backend --connect --verbose --quiet; do
	check "run --help lists $o" grep -qE -- "^  (-., )?$o( |\$)" "$WORK/run-help"
done
expect 0 "teelab help run" help run
check "teelab help run is teelab run --help" cmp -s "$WORK/out" "$WORK/run-help"
expect 0 "teelab run --timeout=5 --help (options before --help are parsed)" run --timeout=5 --help
expect 0 "teelab -v run -q --help" -v run -q --help
expect 0 "teelab help" help
cp "$WORK/out" "$WORK/help"
for c in run matrix build list shell logs show doctor help; do
	check "teelab help lists $c" grep -qE "^  $c  +[a-z]" "$WORK/help"
	expect 0 "teelab $c --help" "$c" --help
	has "$c --help starts with its usage" "^usage: teelab $c "
done
expect 0 "teelab --help" --help
has "teelab --help lists the commands" "^  matrix +run every cell"
expect 3 "teelab help no-such-command" help no-such-command

# unknown options: a usage error with the usage, in every command (before anything runs)
for c in run matrix build list shell logs show export import doctor help; do
	expect 3 "teelab $c --bogus" "$c" --bogus
	has "$c names the unknown option" "unknown option '--bogus'"
	has "$c prints its usage" "^usage: teelab $c "
done
expect 3 "teelab --bogus run" --bogus run
has "the global unknown option is named" "unknown option '--bogus'"
expect 3 "teelab doctor --bogus" doctor --bogus
expect 3 "teelab doctor -x" doctor -x
has "a short unknown option is named" "unknown option '-x'"

# FF-A: what cannot work is refused before anything is fetched, with the reason
expect 3 "FF-A with Debian's kernel (no FF-A transport)" run --profile ffa --kernel debian-6.12 xtest-smoke
has "the missing transport is named" "kernel 'debian-6.12' has no FF-A transport"
expect 3 "kexec on the FF-A profile" run --profile ffa kexec-smoke
has "the CPU_OFF limitation is named" "does not answer the SPMD's PSCI CPU_OFF"
"$TEELAB" show --profile ffa xtest-smoke >"$WORK/out" 2>&1
has "teelab show: the kernel's FF-A transport" "^kernel +src-6.12-ffa \\(FF-A transport: yes, IP: yes\\)"
has "teelab show: the secure world's ABI" "^secure +optee-ffa \\(FF-A ABI"
# the memory-debugging kernels: a TEE kernel, KASAN in the TEE subsystem
"$TEELAB" show ctx-lifetime >"$WORK/out" 2>&1
has "teelab show: a kernel without IP" "^kernel +src-6.12-memdebug \\(FF-A transport: no, IP: no\\)"
has "teelab show: where KASAN checks" "^  KASAN +in drivers/tee only"

# missing arguments and values
expect 3 "teelab show without a scenario" show
has "show: a usage error" "^usage: teelab show "
check "show: not 'error: usage:'" bash -c "! grep -q 'error: usage:' '$WORK/out'"
expect 3 "teelab run without a scenario" run
has "run: its usage" "^usage: teelab run "
expect 3 "teelab run a b (one scenario at a time)" run xtest-smoke xtest-regression
has "the extra argument is named" "unexpected argument 'xtest-regression'"
expect 3 "teelab run --timeout without a value" run xtest-smoke --timeout
has "the missing value is named" "option '--timeout' needs a value"
for v in 5x 0 -1 abc; do
	expect 3 "teelab run --timeout=$v" run --timeout="$v" xtest-smoke
	has "--timeout=$v: needs seconds" "needs a number of seconds > 0, got '$v'"
done
expect 3 "teelab matrix -j 0" matrix -j 0 smoke
expect 3 "teelab matrix -j4x" matrix -j4x smoke
expect 3 "teelab run --matrix smoke --shard 3/2" run --matrix smoke --shard 3/2
has "--shard I/N checked" "--shard needs I/N"
expect 3 "teelab matrix smoke --kernel x" matrix smoke --kernel x
has "the matrix chooses the kernel" "the matrix chooses each cell's"
expect 3 "teelab matrix (no matrix)" matrix

# every spelling reaches the scenario loader: parsed, then "no scenario" (exit 3, no boot)
nosc=no-such-scenario
while IFS= read -r line; do
	# shellcheck disable=SC2086
	expect 3 "teelab $line" $line
	has "'$line' parsed up to the scenario" "no scenario '$nosc'"
done <<EOF2
run --timeout=5 $nosc
run --timeout 5 $nosc
run $nosc --timeout 5
run --boot-timeout=30 --step-timeout 20 --hang-window=10 $nosc
run -v $nosc
run $nosc -v
run $nosc -q
-v run $nosc -q
-q run -v $nosc
run --cell=c1 --param k=v --param=k2=v2 $nosc
run --cell c1 $nosc
run --optee-flag=CFG_NUM_THREADS=1 --optee-flag CFG_X=2 $nosc
run --refresh $nosc
run --profile=default $nosc
run --profile default $nosc
--profile default run $nosc
--profile=default run $nosc
run --runs-dir=$WORK/runs --cache-dir $WORK/cache $nosc
run --backend=qemu --connect qemu:///system $nosc
show $nosc --cell=x
show --profile scmi $nosc
build --scenario=$nosc
build --scenario $nosc --refresh
EOF2
expect 3 "teelab run -- --no-such" run -- --no-such
has "after --, an option-like word is the scenario" "no scenario '--no-such'"

# the same configuration whichever way the option is spelled
"$TEELAB" show --profile scmi xtest-smoke >"$WORK/a" 2>&1
ok $? "teelab show --profile scmi xtest-smoke"
check "it is the scmi profile" grep -q "^profile   scmi\$" "$WORK/a"
for args in "show --profile=scmi xtest-smoke" "--profile scmi show xtest-smoke" \
	"--profile=scmi show xtest-smoke" "show xtest-smoke --profile scmi" "show -v xtest-smoke -q --profile=scmi"; do
	# shellcheck disable=SC2086
	"$TEELAB" $args >"$WORK/b" 2>&1
	check "teelab $args: the same output" cmp -s "$WORK/a" "$WORK/b"
done
"$TEELAB" show --cell 6.1-t3-c3 system-invocation >"$WORK/a" 2>&1
check "show --cell 6.1-t3-c3 takes that cell" grep -q "^cell      6.1-t3-c3\$" "$WORK/a"
"$TEELAB" show system-invocation --cell=6.1-t3-c3 >"$WORK/b" 2>&1
check "show --cell=6.1-t3-c3: the same output" cmp -s "$WORK/a" "$WORK/b"

# run --matrix and matrix: the same command
bad="$WORK/no-such-matrix.yaml"
for args in "matrix $bad" "run --matrix $bad" "run --matrix=$bad" "run -j 2 --matrix $bad" "matrix --jobs=2 $bad"; do
	# shellcheck disable=SC2086
	expect 3 "teelab $args" $args
	has "'$args' loads the matrix file" "matrix '$bad' is not valid"
done
expect 3 "teelab matrix --matrix A B: one matrix" matrix --matrix "$bad" other

# list and logs take the lab options after the command
expect 0 "teelab list --runs-dir=DIR" list --runs-dir="$WORK/empty-runs"
has "list uses it" "^recent runs \($WORK/empty-runs\):"
expect 3 "teelab logs --runs-dir DIR nope" logs --runs-dir "$WORK/empty-runs" nope
has "logs uses it" "no run 'nope' \(under '$WORK/empty-runs'\)"
expect 0 "teelab --version" --version
has "--version prints the version" "^teelab [^ ]+\$"

# the man page: valid roff, every command, the options
# (what `make man` writes to build/teelab.1; make install is tested in install.t)
man1="$WORK/teelab.1"
"$TEELAB" help --man >"$man1"
ok $? "teelab help --man"
groff -man -Tutf8 -ww -z "$man1" >"$WORK/groff.err" 2>&1
ok $? "groff -man accepts the man page"
check "groff has no warnings" test ! -s "$WORK/groff.err"
MANWIDTH=80 man -l "$man1" >"$WORK/man.txt" 2>"$WORK/man.err"
ok $? "man -l renders it"
for c in run matrix build list shell logs show doctor help; do
	check "the man page has a section for $c" grep -qE "^   $c\$" "$WORK/man.txt"
done
check "the man page lists --timeout" grep -qE "^ +--timeout S\$" "$WORK/man.txt"
check "the man page lists the lab options" grep -qE "^ +--optee-flag V=X\$" "$WORK/man.txt"
check "the man page has the exit codes" grep -q "EXIT STATUS" "$WORK/man.txt"

# bash completion: the script, with the binary behind it
comp() { # comp <command line>: the candidates bash would offer, space-separated
	bash --norc -c '. "$1/contrib/completion/teelab.bash"; COMP_LINE=$2; COMP_POINT=${#2}
		_teelab; echo "${COMPREPLY[*]}"' bash "$SRC" "$1"
}
c() { # c <what> <command line> <expected candidates>
	local got
	got=$(comp "$2")
	ok $([ "$got" = "$3" ] && echo 0 || echo 1) "completion: $1 ('$2' -> '$3')"
	[ "$got" = "$3" ] || echo "# got '$got'" >&2
}
c "a command" "$TEELAB r" "run"
c "every command" "$TEELAB " "build doctor export help import list logs matrix run shell show"
c "an option" "$TEELAB run --ti" "--timeout"
c "options of show" "$TEELAB show --c" "--cell --cache-dir --connect"
c "scenarios" "$TEELAB run xtest-" "xtest-regression xtest-smoke"
c "scenarios after options" "$TEELAB -v run --timeout 5 xtest-s" "xtest-smoke"
c "matrices" "$TEELAB matrix " "nightly nightly-core smoke"
c "run --matrix" "$TEELAB run --matrix s" "smoke"
c "a profile, separate value" "$TEELAB run --profile scmi-" "scmi-rpmb scmi-src"
c "a profile after =" "$TEELAB run --profile=scmi-" "scmi-rpmb scmi-src"
c "a backend" "$TEELAB --backend " "libvirt qemu"
c "help's commands" "$TEELAB help ma" "matrix"
c "nothing after --" "$TEELAB run -- x" ""
check "complete is registered for teelab" bash --norc -c ". '$SRC/contrib/completion/teelab.bash'; complete -p teelab"

# libvirt is loaded by the libvirt backend only (dlopen): not a dependency of the binary
# (libvirt.t runs that backend)
ldd "$TEELAB" >"$WORK/ldd" 2>&1
ok $(grep -q libvirt "$WORK/ldd" && echo 1 || echo 0) "the binary does not link libvirt (ldd)"
check "the binary names libvirt.so.0 for its dlopen()" \
	grep -q 'libvirt.so.0' "$TEELAB"
finish
