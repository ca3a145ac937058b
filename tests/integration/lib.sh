# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the integration tests. Source it; it sets:
#   KEST    the kest command under test
#   SHIM    libkest.so
#   TOOLS   directory of the test programs from tests/tools
#   T       a fresh temporary directory, removed on exit
#   KEY/PUB an Ed25519 key pair in $T
# and provides ok/fail/check helpers that print TAP-like lines.
set -u
KEST_BUILD=${KEST_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
KEST_SRC=${KEST_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
KEST=$KEST_BUILD/bin/kest
SHIM=$KEST_BUILD/lib/libkest.so
TOOLS=$KEST_BUILD/tests/tools
T=$(mktemp -d "${TMPDIR:-/tmp}/kest-it.XXXXXX")
# Test doubles started with spawn_double, stopped on exit.
declare -A SRV
stop_server() {
    local pid=${SRV[$1]:-}
    unset "SRV[$1]"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
stop_servers() {
    local n
    for n in "${!SRV[@]}"; do
        kill -TERM "${SRV[$n]}" 2>/dev/null
    done
    for n in "${!SRV[@]}"; do
        wait "${SRV[$n]}" 2>/dev/null
    done
    SRV=()
}
trap 'stop_servers; rm -rf "$T"' EXIT
# spawn_double NAME CMD...: run a double in the background; CMD writes
# its address to $T/NAME.ready. Waits up to 15 s; the address goes to
# READY. Fails (showing the double's output) if it never gets ready.
spawn_double() {
    local name=$1 i
    shift
    rm -f "$T/$name.ready"
    "$@" >"$T/$name.srv" 2>&1 &
    SRV[$name]=$!
    for i in $(seq 150); do
        [ -s "$T/$name.ready" ] && break
        sleep 0.1
    done
    READY=$(cat "$T/$name.ready" 2>/dev/null)
    [ -n "$READY" ] && return 0
    echo "# double $name not ready:"
    sed 's/^/#   /' "$T/$name.srv" | head -5
    return 1
}
# krun LOG ARGS...: kest run with a fresh log, without ctest's KEST_BUILD
# and KEST_SRC (they would count as kest settings); status in RC, stdout
# in $T/out, stderr in $T/err, elapsed milliseconds in MS.
krun() {
    local log=$1 t0
    shift
    rm -f "$log"
    t0=$(date +%s%N)
    env -u KEST_BUILD -u KEST_SRC "$KEST" run --log "$log" "$@" \
        >"$T/out" 2>"$T/err"
    RC=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
}
KEY=$T/key.pem
PUB=$T/key.pub.pem
"$KEST" keygen --out "$KEY" >/dev/null
# Tests start from no kest setting at all: a KEST_* variable of the
# caller's (KEST_FUZZ_SECONDS from tests/run, say) would be re-injected
# and recorded like any other.
for _v in $(compgen -e | grep '^KEST_'); do
    case $_v in KEST_BUILD | KEST_SRC) ;; *) unset "$_v" ;; esac
done
_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
fail() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
    d=$1; shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}
# check_not DESCRIPTION COMMAND...: passes when the command fails
check_not() {
    d=$1; shift
    if "$@"; then fail "$d"; else ok "$d"; fi
}
# verify_fails LOG PATTERN: kest verify exits 1 and says PATTERN
verify_fails() {
    out=$("$KEST" verify --key "$PUB" "$1" 2>&1)
    rc=$?
    [ $rc -eq 1 ] && printf '%s' "$out" | grep -q -- "$2" && return 0
    echo "# verify gave rc=$rc: $out" | head -5
    return 1
}
# count_ops LOG OP: number of records with that operation
count_ops() {
    jq -r '.payload.operation' "$1" | grep -cx "$2"
}
# Assertions on logs, shared by the provider tests.
# all_recs LOG FILTER: FILTER holds for every record's payload
all_recs() {
    local got
    got=$(jq -s "length > 0 and all(.[].payload; $2)" "$1")
    [ "$got" = true ] && return 0
    echo "# records fail '$2':"
    jq -c '.payload | [.operation, .labels.principal, .gap.reason]' "$1" |
        head -5 | sed 's/^/#   /'
    return 1
}
signed() { all_recs "$1" '.operation != "gap"'; }
# gap_says LOG PATTERN: the log has a gap whose reason matches
gap_says() {
    jq -r 'select(.payload.operation == "gap") | .payload.gap.reason' \
        "$1" | grep -q -- "$2" && return 0
    echo "# no gap reason matching '$2':"
    jq -c '.payload | [.operation, .gap.reason]' "$1" | head -3 |
        sed 's/^/#   /'
    return 1
}
# one_line FILE PATTERN: FILE is a single line and matches PATTERN
one_line() {
    [ "$(wc -l <"$1")" -eq 1 ] && grep -q -- "$2" "$1" && return 0
    echo "# wanted one line matching '$2':"
    sed 's/^/#   /' "$1" | head -4
    return 1
}
same() {
    [ "$1" = "$2" ] && return 0
    echo "# wanted '$1', got '$2'"
    return 1
}
# vfails PATTERN ARGS...: kest verify ARGS exits 1 and says PATTERN
vfails() {
    local pat=$1 out rc
    shift
    out=$("$KEST" verify "$@" 2>&1)
    rc=$?
    [ $rc -eq 1 ] && printf '%s' "$out" | grep -q -- "$pat" && return 0
    echo "# verify gave rc=$rc, wanted '$pat':"
    printf '%s\n' "$out" | head -4 | sed 's/^/#   /'
    return 1
}
finish() {
    echo "1..$_n"
    echo "$((_n - _failed)) passed, $_failed failed"
    [ $_failed -eq 0 ]
}
