# SPDX-License-Identifier: Apache-2.0
# KEST_FAIL: when the key is refused or the log cannot be written, open
# lets the program run (one warning, a gap record if the log can take
# one) and closed refuses the exec with EACCES. Both the in-process path
# (env's execvp) and kest-record (a vfork child) are covered.
. "$(dirname "$0")/shimlib.sh"

BADKEY=$T/bad.pem
cp "$KEY" "$BADKEY"
chmod 644 "$BADKEY" # group- and world-readable: kest refuses the key
LOGDIR=$T/logdir
mkdir "$LOGDIR" # a directory cannot be appended to

# attempt KEY LOG FAIL QUIET CMD...: output to $T/out, $T/err, $T/rc;
# the library preloaded is $lib.
lib=$SHIM
attempt() {
    k=$1 l=$2 f=$3 qt=$4; shift 4
    rm -f "$LOG" "$T/marker"
    env -u KEST_BUILD -u KEST_SRC LD_PRELOAD="$lib" KEST_KEY="$k" \
        KEST_LOG="$l" KEST_FAIL="$f" KEST_QUIET="$qt" "$@" \
        >"$T/out" 2>"$T/err"
    echo $? >"$T/rc"
}

warned_once() {
    [ "$(wc -l <"$T/err")" -eq 1 ] &&
        grep -q "^kest: warning: .* not attested: .*$1" "$T/err" && return 0
    echo "# stderr: $(head -c 300 "$T/err" | tr '\n' '|')"
    return 1
}

for how in env vfork_exec; do
    cmd=(env /bin/echo ran)
    [ $how = vfork_exec ] && cmd=("$TOOLS/vfork_exec" /bin/echo ran)

    attempt "$BADKEY" "$LOG" open "" "${cmd[@]}"
    check_eq "$how, open, key refused: the command runs" "ran 0" \
        "$(cat "$T/out") $(cat "$T/rc")"
    check "$how, open, key refused: one warning on stderr" \
        warned_once "readable by group or others"
    check_eq "$how, open, key refused: one gap record, action allowed" \
        "gap allowed exec" \
        "$(q '.[] | "\(.operation) \(.gap.action) \(.gap.event)"')"
    check "$how, open, key refused: verify fails without --allow-gaps" \
        verify_fails "$LOG" "gap"
    check "$how, open, key refused: verify passes with --allow-gaps" \
        "$KEST" verify -q --allow-gaps --key "$PUB" "$LOG"

    attempt "$BADKEY" "$LOG" open 1 "${cmd[@]}"
    check_eq "$how, open, key refused, KEST_QUIET=1: runs, no stderr" \
        "ran 0 " "$(cat "$T/out") $(cat "$T/rc") $(cat "$T/err")"

    attempt "$KEY" "$LOGDIR" open "" "${cmd[@]}"
    check_eq "$how, open, log unwritable: the command runs" "ran 0" \
        "$(cat "$T/out") $(cat "$T/rc")"
    check "$how, open, log unwritable: one warning on stderr" \
        warned_once "Is a directory"
    attempt "$KEY" "$LOGDIR" open 1 "${cmd[@]}"
    check_eq "$how, open, log unwritable, KEST_QUIET=1: no stderr" \
        "ran 0 " "$(cat "$T/out") $(cat "$T/rc") $(cat "$T/err")"
done

# A gap still carries lineage: the shell's gap names env's gap.
attempt "$BADKEY" "$LOG" open 1 env /bin/sh -c '/bin/true'
check_eq "open: the child's gap record links to the parent's gap" \
    "$(q '[.[0]._hash] | tojson')" "$(q '.[1].parent_ids | tojson')"

# closed: the exec is refused with EACCES and nothing runs, whichever
# API was used and whatever failed.
for why in key log; do
    k=$KEY l=$LOGDIR
    [ $why = key ] && k=$BADKEY l=$LOG
    for tool in run_execve run_execvp run_posix_spawn run_system run_popen \
                vfork_exec; do
        api=${tool#run_}
        [ $tool = vfork_exec ] && api=execve
        arg=/usr/bin/touch
        case $tool in
        run_execvp) arg="touch" ;;
        run_system | run_popen) arg="/usr/bin/touch $T/marker" ;;
        esac
        if [ "$arg" = "${arg% *}" ]; then
            attempt "$k" "$l" closed "" "$TOOLS/$tool" "$arg" "$T/marker"
        else
            attempt "$k" "$l" closed "" "$TOOLS/$tool" "$arg"
        fi
        check_eq "closed, $why fails, $tool: EACCES, nothing ran" \
            "$api: errno=13 127 absent" \
            "$(cat "$T/out") $(cat "$T/rc") \
$(test -e "$T/marker" && echo ran || echo absent)"
        if [ $why = key ]; then
            check_eq "closed, key refused, $tool: a gap record, refused" \
                "gap refused" \
                "$(q '.[] | "\(.operation) \(.gap.action)"')"
        fi
    done
done

# libkest.so without its core and kest-record next to it: the in-process
# path cannot load its core, a vfork child cannot start kest-record (and
# must not die of SIGPIPE writing to it).
mkdir "$T/alone"
cp "$SHIM" "$T/alone/"
lib=$T/alone/libkest.so
for tool in run_execve vfork_exec; do
    attempt "$KEY" "$LOG" open "" "$TOOLS/$tool" /bin/echo ran
    check_eq "$tool, open, no kest files: the command runs" "ran 0" \
        "$(cat "$T/out") $(cat "$T/rc")"
    check "$tool, open, no kest files: one warning on stderr" \
        warned_once "."
    attempt "$KEY" "$LOG" closed "" "$TOOLS/$tool" /usr/bin/touch "$T/marker"
    check_eq "$tool, closed, no kest files: EACCES, nothing ran" \
        "execve: errno=13 127 absent" \
        "$(cat "$T/out") $(cat "$T/rc") \
$(test -e "$T/marker" && echo ran || echo absent)"
done
lib=$SHIM

finish
