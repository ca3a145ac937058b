# SPDX-License-Identifier: Apache-2.0
# The Workload API endpoint failing mid-conversation: a peer that
# stalls, hangs up, answers with garbage, or sends half an
# X509SVIDResponse and then closes, stalls or dies
# (tests/doubles/h2_faults.py); the grpcio double answering with a body
# that is not protobuf, or killed with SIGKILL while a fetch waits on
# it. With KEST_FAIL=open the program runs, one warning names the
# fault, and a gap record says it (kest verify reports it); with closed
# the exec is refused with EACCES and one message. Nothing waits longer
# than KEST_TIMEOUT_MS. Both kest run and programs under the shim (in
# process, and through kest-record from a vfork child) are checked.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
DOUBLES=$KEST_SRC/tests/doubles
CERTS=$T/certs
TMO=700
unset SPIFFE_ENDPOINT_SOCKET KEST_SPIFFE_SOCKET KEST_SPIFFE_ID \
    KEST_SPIFFE_JWT_AUDIENCE KEST_TIMEOUT_MS KEST_PROVIDER KEST_QUIET

# endpoint KIND MODE [ARGS...]: make sure a double serves MODE on
# $T/KIND.sock (KIND h2: h2_faults.py; wl: workload_api.py) and set
# ADDR. A double that kills itself (cut-die) is started anew each time.
CUR=
endpoint() {
    local kind=$1 mode=$2 want="$*"
    shift 2
    if [ "$CUR" = "$want" ] && [ "$mode" != cut-die ]; then
        return 0
    fi
    stop_server h2
    stop_server wl
    CUR=
    if [ "$kind" = h2 ]; then
        spawn_double h2 "$PY" "$DOUBLES/h2_faults.py" \
            --socket "$T/h2.sock" --certs "$CERTS" --mode "$mode" \
            --ready-file "$T/h2.ready" --calls-log "$T/h2.calls" || return 1
        # It will die of SIGKILL: no job notice from bash, please.
        [ "$mode" = cut-die ] && disown "${SRV[h2]}"
    else
        spawn_double wl "$PY" "$DOUBLES/workload_api.py" \
            --socket "$T/wl.sock" --certs "$CERTS" --mode "$mode" \
            --ready-file "$T/wl.ready" --calls-log "$T/wl.calls" "$@" ||
            return 1
    fi
    ADDR=$READY
    CUR=$want
}

# go CMD...: CMD against $ADDR with KEST_TIMEOUT_MS=$TMO, never longer
# than 30 s; status in RC, milliseconds in MS, output in $T/out and
# $T/err.
go() {
    local t0
    rm -f "$T/ran"
    t0=$(date +%s%N)
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=$TMO timeout 30 \
        env -u KEST_BUILD -u KEST_SRC "$@" >"$T/out" 2>"$T/err"
    RC=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
}
# kest_run LOG [RUN-OPTIONS] -- CMD...: kest run through go
kest_run() {
    local log=$1
    shift
    rm -f "$log"
    go "$KEST" run --log "$log" "$@"
}
# shim LOG FAIL CMD...: CMD with libkest.so preloaded, through go
shim() {
    local log=$1 fail=$2
    shift 2
    rm -f "$log"
    go env LD_PRELOAD="$SHIM" KEST_LOG="$log" KEST_FAIL="$fail" "$@"
}

ran() { [ -e "$T/ran" ] && echo yes || echo no; }
# bounded: the last run took less than KEST_TIMEOUT_MS plus 2 s
bounded() {
    [ "$MS" -lt $((TMO + 2000)) ] && return 0
    echo "# took $MS ms (KEST_TIMEOUT_MS=$TMO)"
    return 1
}

# fault WHAT PATTERN KIND MODE [ARGS...]: the endpoint fails every fetch
# the way MODE says, and the reason must match PATTERN.
fault() {
    local what=$1 pat=$2 L=$T/fault.log
    shift 2
    endpoint "$@" || { fail "$what: the double starts"; return; }
    kest_run "$L" -- /usr/bin/touch "$T/ran"
    check "$what, open: kest run exits 0, the command ran ($MS ms)" \
        eval '[ "$RC" = 0 ] && [ "$(ran)" = yes ] && bounded'
    check "$what, open: one warning naming the fault" \
        one_line "$T/err" "warning: not attested: .*$pat"
    check "$what, open: a gap record with that reason" gap_says "$L" "$pat"
    check "$what, open: kest verify reports the gap" \
        vfails "fault.log:1: gap: .*$pat" --bundle "$CERTS/bundle.pem" "$L"

    endpoint "$@" || { fail "$what: the double starts again"; return; }
    kest_run "$L" --fail closed -- /usr/bin/touch "$T/ran"
    check "$what, closed: kest run refuses (126), the command did not run" \
        same "126 no" "$RC $(ran)"
    check "$what, closed: one message saying why" \
        one_line "$T/err" "refused.*$pat"
    check "$what, closed: bounded ($MS ms)" bounded

    endpoint "$@" || { fail "$what: the double starts again"; return; }
    shim "$L" closed "$TOOLS/run_execve" /usr/bin/touch "$T/ran"
    check "$what, shim, closed: EACCES, the program did not run" \
        same "execve: errno=13 127 no" "$(cat "$T/out") $RC $(ran)"
    check "$what, shim, closed: a refused gap with the reason" \
        eval 'all_recs "$L" ".operation == \"gap\" and
                            .gap.action == \"refused\"" &&
              gap_says "$L" "$pat"'

    endpoint "$@" || { fail "$what: the double starts again"; return; }
    shim "$L" open "$TOOLS/vfork_exec" /usr/bin/touch "$T/ran"
    check "$what, kest-record (vfork), open: the program ran ($MS ms)" \
        eval '[ "$RC" = 0 ] && [ "$(ran)" = yes ] && bounded'
    check "$what, kest-record (vfork), open: one warning, gap record" \
        eval 'one_line "$T/err" "warning: execve not attested: .*$pat" &&
              gap_says "$L" "$pat"'
}

sh "$DOUBLES/mkcerts.sh" "$CERTS" >/dev/null 2>&1 ||
    { fail "mkcerts.sh made the fixtures"; finish; exit 1; }

# Below gRPC (raw HTTP/2).
fault "stall (no answer at all)" "timed out" h2 stall
fault "hang up at once" "Connection reset by peer" h2 hangup
fault "garbage instead of HTTP/2" "Connection reset by peer" h2 garbage
fault "half a message, then close" "Connection reset by peer" h2 cut-close
fault "half a message, then stall" "timed out" h2 cut-stall
fault "half a message, then the agent dies" "Connection reset by peer" \
    h2 cut-die
check "the double saw whole requests before cutting them short" \
    same true "$(jq -s 'map(select(.mode | startswith("cut")))
                        | length > 0 and all(.[]; .stream > 0)' \
                 "$T/h2.calls")"
# In gRPC: a well-framed body that is not protobuf.
fault "garbage message" "malformed X509SVIDResponse" wl garbage \
    --garbage-kind length

# The grpcio double killed with SIGKILL while it holds a fetch (slow
# mode: it has admitted the call and waits before answering).
killed() {
    local fail=$1 L=$T/killed.log pid i t0
    endpoint wl slow --delay-ms 20000 ||
        { fail "SIGKILL: the double starts"; return 1; }
    rm -f "$L" "$T/ran" "$T/wl.calls"
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=10000 timeout 30 \
        env -u KEST_BUILD -u KEST_SRC "$KEST" run --fail "$fail" \
        --log "$L" -- /usr/bin/touch "$T/ran" >"$T/out" 2>"$T/err" &
    pid=$!
    for i in $(seq 100); do
        [ -s "$T/wl.calls" ] && break
        sleep 0.1
    done
    t0=$(date +%s%N)
    disown "${SRV[wl]}"
    kill -KILL "${SRV[wl]}"
    wait "$pid"
    RC=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
    CUR=
    stop_server wl
}
killed open
check "SIGKILL mid-fetch, open: exit 0, the command ran" \
    same "0 yes" "$RC $(ran)"
check "SIGKILL mid-fetch, open: over at once, not at the timeout" \
    test "$MS" -lt 2000
check "SIGKILL mid-fetch, open: one warning naming the reset" \
    one_line "$T/err" "warning: not attested: .*Connection reset by peer"
check "SIGKILL mid-fetch, open: kest verify reports the gap" \
    vfails "killed.log:1: gap: .*Connection reset" \
    --bundle "$CERTS/bundle.pem" "$T/killed.log"
killed closed
check "SIGKILL mid-fetch, closed: refused (126), the command did not run" \
    same "126 no" "$RC $(ran)"
check "SIGKILL mid-fetch, closed: one message saying why" \
    one_line "$T/err" "refused.*Connection reset by peer"

# The agent is gone but its socket file is left behind: connecting is
# refused, retried until KEST_TIMEOUT_MS, then a gap.
check "dead agent's socket: the socket file is still there" \
    test -S "$T/wl.sock"
ADDR=unix://$T/wl.sock
kest_run "$T/dead.log" -- /usr/bin/touch "$T/ran"
check "dead agent's socket, open: the command ran after the timeout" \
    eval '[ "$RC" = 0 ] && [ "$(ran)" = yes ] && bounded &&
          [ "$MS" -ge $((TMO - 100)) ]'
check "dead agent's socket, open: one warning, a gap" \
    eval 'one_line "$T/err" "warning: not attested: .*Connection refused" &&
          gap_says "$T/dead.log" "Connection refused"'

# A host taking SIGALRM every 500 us without SA_RESTART while its
# records are fetched and signed: every call the fetch makes may fail
# with EINTR.
endpoint wl ok || fail "ok: the double starts"
shim "$T/sig.log" closed "$TOOLS/signals_exec" 10 /bin/true
check_sig() {
    same "missing: rc=-1 errno=2
children: 0, SIGSEGV handler ours, SIGALRM handler ours, SIGSEGV caught 0, \
timer fired: yes 0" "$(cat "$T/out") $RC"
}
check "signals: the program runs as without kest" check_sig
check "signals: 31 signed exec records, no gap" \
    eval 'signed "$T/sig.log" &&
          same 31 "$(grep -c "\"operation\":\"exec\"" "$T/sig.log")"'
check "signals: kest verify --bundle passes" \
    "$KEST" verify -q --bundle "$CERTS/bundle.pem" "$T/sig.log"

stop_servers
finish
