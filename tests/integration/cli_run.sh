# SPDX-License-Identifier: Apache-2.0
# kest run: the records it writes, its failure policy (--fail open or
# closed), the exit status it passes on, and the help and version text.
. "$(dirname "$0")/lib.sh"

# same WANT GOT: string equality with a note on mismatch
same() {
    [ "$1" = "$2" ] && return 0
    echo "# wanted '$1', got '$2'"
    return 1
}
# has FILE PATTERN: grep -q with the file shown on failure
has() {
    grep -q -- "$2" "$1" && return 0
    echo "# '$2' not in $1:"
    sed 's/^/#   /' "$1" | head -5
    return 1
}
# run_kest LOG KEYFILE [OPTIONS] -- CMD...: kest run; status in RC,
# stderr in $T/err
run_kest() {
    local log=$1 key=$2
    shift 2
    "$KEST" run --log "$log" --key "$key" --principal run-test "$@" \
        2>"$T/err"
    RC=$?
}
ops() { jq -r .payload.operation "$1" | xargs; }
status() { "$@" >/dev/null 2>&1; echo $?; }

# A sanitizer build instruments libkest.so, which then cannot be loaded
# into ordinary programs; the sections that start a program under kest
# run are skipped there, and say so.
SHIM_LOADS=1
if ! LD_PRELOAD=$SHIM /bin/true 2>/dev/null; then
    SHIM_LOADS=0
    echo "# libkest.so cannot be preloaded into /bin/true here"
fi
# with_program SECTION: run the function SECTION if programs can run
# under kest run, else report it skipped
with_program() {
    if [ $SHIM_LOADS -eq 1 ]; then
        "$1"
    else
        ok "# SKIP $1: libkest.so does not load in this build"
    fi
}

# A good run: start and exec records, the command's output untouched.
good_run() {
    local log=$T/good.log
    run_kest "$log" "$KEY" -- cat <<<hello >"$T/out"
    check "good: exit 0" same 0 "$RC"
    check "good: stdin and stdout pass through" same hello "$(cat "$T/out")"
    check "good: nothing on stderr" same "" "$(cat "$T/err")"
    check "good: a start and an exec record" \
        same "start exec" "$(ops "$log")"
    check "good: the exec record names the command and the principal" \
        same 'kest run cat run-test' \
        "$(sed -n 2p "$log" | jq -r '.payload | "\(.exec.api)
            \(.exec.argv[0]) \(.labels.principal)"' | xargs)"
    check "good: the exec record's parent is the start record" \
        same "$(sed -n 2p "$log" | jq -r .payload.log_prev)" \
        "$(sed -n 2p "$log" | jq -r '.payload.parent_ids[0]')"
    check "good: kest verify accepts the log" \
        "$KEST" verify -q --key "$PUB" "$log"
}

# The exit status of the command is kest run's.
exit_status() {
    local log=$T/status.log
    run_kest "$log" "$KEY" -- sh -c 'exit 7'
    check "status: sh -c 'exit 7' gives 7" same 7 "$RC"
    run_kest "$log" "$KEY" -- false
    check "status: false gives 1" same 1 "$RC"
    run_kest "$log" "$KEY" --fail closed -- true
    check "status: true under --fail closed gives 0" same 0 "$RC"
    check "status: the log of the three runs verifies" \
        "$KEST" verify -q --key "$PUB" "$log"
    check "status: -h after -- belongs to the command, not to kest" \
        same 3 "$(status "$KEST" run --log "$log" --key "$KEY" -- \
                      sh -c 'exit 3' -h)"
}

# Execs below the command are recorded by the preloaded shim.
child_exec() {
    local log=$T/child.log
    run_kest "$log" "$KEY" -- sh -c '/bin/echo child >/dev/null; exit 3'
    check "child: exit 3" same 3 "$RC"
    check "child: start, exec of sh, exec of echo" \
        same "start exec exec" "$(ops "$log")"
    check "child: the shim's record names /bin/echo" \
        same /bin/echo "$(sed -n 3p "$log" | jq -r .payload.exec.path)"
    check "child: kest verify accepts the log" \
        "$KEST" verify -q --key "$PUB" "$log"
}

# A relative --log is made absolute before the command changes directory.
relative_log() {
    mkdir -p "$T/here" "$T/there"
    (cd "$T/here" &&
        "$KEST" run --log rel.log --key "$KEY" -- \
            sh -c 'cd ../there && /bin/true' 2>/dev/null)
    check "relative log: all three records in here/rel.log" \
        same 3 "$(wc -l <"$T/here/rel.log" 2>/dev/null)"
    check "relative log: nothing written in there/" \
        test ! -e "$T/there/rel.log"
}

# A command that cannot be run: 127 or 126 and an exec_failed record.
not_run() {
    local log=$T/missing.log
    run_kest "$log" "$KEY" -- "$T/no-such-command" arg
    check "missing command: exit 127" same 127 "$RC"
    check "missing command: the error is on stderr" \
        has "$T/err" "no-such-command: No such file or directory"
    check "missing command: start, exec, exec_failed" \
        same "start exec exec_failed" "$(ops "$log")"
    check "missing command: exec_failed says ENOENT about the exec" \
        same "ENOENT $(sed -n 3p "$log" | jq -r .payload.log_prev)" \
        "$(sed -n 3p "$log" | jq -r '.payload.exec_failed |
                                     "\(.error) \(.exec)"')"
    check "missing command: kest verify accepts the log" \
        "$KEST" verify -q --key "$PUB" "$log"
    run_kest "$T/path.log" "$KEY" -- no-such-command-on-path
    check "missing command on PATH: exit 127" same 127 "$RC"
    printf 'not a program\n' >"$T/plain"
    chmod 0644 "$T/plain"
    run_kest "$T/noexec.log" "$KEY" -- "$T/plain"
    check "not executable: exit 126" same 126 "$RC"
    check "not executable: exec_failed says EACCES" \
        same EACCES "$(jq -r 'select(.payload.operation == "exec_failed")
                              | .payload.exec_failed.error' \
                           "$T/noexec.log")"
}

# An unusable key: mode 0644 is refused by the static provider.
BADKEY=$T/open.pem
cp "$KEY" "$BADKEY"
chmod 0644 "$BADKEY"
MARK=$T/marker

fail_closed() {
    local log=$T/closed.log
    rm -f "$MARK"
    run_kest "$log" "$BADKEY" --fail closed -- touch "$MARK"
    check "closed: exit 126" same 126 "$RC"
    check "closed: the command did not run" test ! -e "$MARK"
    check "closed: stderr says refused and why" \
        has "$T/err" "refused (--fail closed): .*readable by group or others"
    check "closed: the log holds one gap record, action refused" \
        same "gap refused" \
        "$(jq -r '.payload | "\(.operation) \(.gap.action)"' "$log" | xargs)"
    check "closed: the key itself is not in the log" \
        test "$(grep -c 'PRIVATE KEY' "$log")" = 0
}

fail_open() {
    local log=$T/open.log
    rm -f "$MARK"
    run_kest "$log" "$BADKEY" --fail open -- touch "$MARK"
    check "open: exit 0" same 0 "$RC"
    check "open: the command ran" test -e "$MARK"
    check "open: a warning on stderr" has "$T/err" "warning: not attested"
    check "open: the log holds one gap record for the exec, allowed" \
        same "gap exec allowed touch" \
        "$(jq -r '.payload | "\(.operation) \(.gap.event) \(.gap.action)
                  \(.gap.exec.argv[0])"' "$log" | xargs)"
    "$KEST" verify --key "$PUB" "$log" >"$T/out" 2>"$T/verr"
    check "open: kest verify fails (exit 1) on the gap" same 1 "$?"
    check "open: verify names the gap at line 1" \
        has "$T/verr" "^kest: verify: $log:1: gap: a record could not be"
    "$KEST" verify --allow-gaps --key "$PUB" "$log" >"$T/out" 2>&1
    check "open: kest verify --allow-gaps passes (exit 0)" same 0 "$?"
    check "open: --allow-gaps still counts the gap" \
        has "$T/out" "^OK: 0 records, 1 processes, 0 principals, 1 gaps"
    run_kest "$T/open7.log" "$BADKEY" --fail open -- sh -c 'exit 7'
    check "open: the exit status still passes through" same 7 "$RC"
}

# A log that cannot be written (a directory): open runs the command with
# a warning, closed refuses it.
mkdir -p "$T/logdir"
unwritable_open() {
    run_kest "$T/logdir" "$KEY" --fail open -- sh -c 'exit 5'
    check "unwritable log, open: the command runs, exit 5" same 5 "$RC"
    check "unwritable log, open: a warning on stderr" \
        has "$T/err" "warning: not attested: .*Is a directory"
}
unwritable_closed() {
    rm -f "$MARK"
    run_kest "$T/logdir" "$KEY" --fail closed -- touch "$MARK"
    check "unwritable log, closed: exit 126, the command did not run" \
        same "126 no" "$RC $([ -e "$MARK" ] && echo yes || echo no)"
}
# When nothing could be recorded, the exec_failed record that follows a
# failed exec must not refer to a hash that was never set.
unwritable_valgrind() {
    local rc
    if ! command -v valgrind >/dev/null ||
        ldd "$KEST" | grep -q 'libasan'; then
        ok "# SKIP no valgrind, or a sanitizer build"
        return
    fi
    valgrind -q --error-exitcode=99 "$KEST" run --log "$T/logdir" \
        --key "$KEY" --fail open -- "$T/no-such-command" >/dev/null \
        2>"$T/vg"
    rc=$?
    grep -m3 '^==' "$T/vg" | sed 's/^/# /'
    check "unwritable log, missing command: 127, valgrind clean" \
        same 127 "$rc"
}

usage_errors() {
    check "usage: kest run without a command exits 2" \
        same 2 "$(status "$KEST" run --log "$T/u.log" --key "$KEY")"
    check "usage: --fail with a bad value exits 2" \
        same 2 "$(status "$KEST" run --log "$T/u.log" --fail maybe -- true)"
    check "usage: an unknown option exits 2" \
        same 2 "$(status "$KEST" run --log "$T/u.log" --bogus -- true)"
    check "usage: none of these wrote a log" test ! -e "$T/u.log"
}

help_version() {
    local c rc version
    for c in run verify show keygen; do
        "$KEST" $c --help >"$T/help" 2>"$T/err"
        rc=$?
        check "help: kest $c --help exits 0" same 0 "$rc"
        check "help: kest $c --help prints its usage on stdout" \
            has "$T/help" "^usage: kest $c"
    done
    "$KEST" --help >"$T/help" 2>&1
    rc=$?
    check "help: kest --help exits 0" same 0 "$rc"
    check "help: kest --help lists the commands" has "$T/help" "^  verify"
    version=$(sed -n 's/^project(kest VERSION \([0-9.]*\).*/\1/p' \
                  "$KEST_SRC/CMakeLists.txt")
    check "version: kest --version prints kest $version" \
        same "kest $version" "$("$KEST" --version)"
}

with_program good_run
with_program exit_status
with_program child_exec
with_program relative_log
not_run
fail_closed
with_program fail_open
with_program unwritable_open
unwritable_closed
unwritable_valgrind
usage_errors
help_version
finish
