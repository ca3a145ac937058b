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
trap 'rm -rf "$T"' EXIT
KEY=$T/key.pem
PUB=$T/key.pub.pem
"$KEST" keygen --out "$KEY" >/dev/null
unset KEST_PARENT KEST_LOG KEST_KEY KEST_PRINCIPAL KEST_FAIL KEST_DEBUG
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
finish() {
    echo "1..$_n"
    echo "$((_n - _failed)) passed, $_failed failed"
    [ $_failed -eq 0 ]
}
