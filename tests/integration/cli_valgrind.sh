# SPDX-License-Identifier: Apache-2.0
# The kest command and a sample of programs running under libkest.so,
# under valgrind memcheck: no error and no definite or indirect leak in
# any process valgrind follows (issue #8). Programs the sample only
# starts (true, echo, python3) run natively.
. "$(dirname "$0")/lib.sh"

if ldd "$KEST" | grep -q libasan; then
    ok "# SKIP valgrind: a sanitizer build does not run under valgrind"
    finish
    exit
fi
if ! command -v valgrind >/dev/null; then
    fail "valgrind is installed (scripts/deps)"
    finish
    exit
fi

VG=$T/vg
mkdir "$VG"
# vg NAME CMD...: CMD under memcheck, children too; status in RC, stdout
# in $T/out, stderr in $T/err. Each process logs to $VG/NAME.PID.N (a
# process that forks and then execs gets one file per image); with -q
# a log holds only errors and leaks.
vg() {
    local name=$1
    shift
    valgrind -q --trace-children=yes \
        --trace-children-skip='*/true,*/echo,*/python3*' \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --log-file="$VG/$name.%p.%n" "$@" >"$T/out" 2>"$T/err"
    RC=$?
}
# valgrind 3.19 does not know mlock2 (syscall 325), which OpenSSL's
# secure heap (core/secmem.c starts it) tries before mlock; that notice
# is not a memcheck finding.
VG_NOTE='^--[0-9]+-- (WARNING: unhandled amd64-linux syscall: 325$'
VG_NOTE="$VG_NOTE|You may be able to write|Read the file README_MISSING"
VG_NOTE="$VG_NOTE|Nevertheless we consider|it at http://valgrind\.org/)"
# clean NAME: valgrind followed it, and every log it wrote is empty
# (but for VG_NOTE)
clean() {
    local f n=0 bad=0
    for f in "$VG/$1".*; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        grep -qvE "$VG_NOTE" "$f" || continue
        bad=1
        echo "# $f:"
        head -40 "$f" | sed 's/^/#   /'
    done
    [ $n -gt 0 ] && [ $bad -eq 0 ]
}
# vcheck NAME WANT CMD...: CMD under valgrind exits WANT, cleanly
vcheck() {
    local name=$1 want=$2
    shift 2
    vg "$name" "$@"
    check "$name: exit $want" same "$want" "$RC"
    check "$name: no memcheck error or leak" clean "$name"
}

t0=$(date +%s)
L=$T/run.log
S=$T/shim.log

# The command. kest run exits through a failed exec (exec_failed) for
# the leak check, which an exec that succeeds does not get.
vcheck keygen 0 "$KEST" keygen --type p256 --out "$T/p256.pem"
vcheck run 0 env -u KEST_BUILD -u KEST_SRC "$KEST" run --log "$L" \
    --key "$KEY" --principal vg -- /bin/true
vcheck run_missing 127 env -u KEST_BUILD -u KEST_SRC "$KEST" run \
    --log "$L" --key "$T/p256.pem" -- "$T/missing"
vcheck verify 0 "$KEST" verify --key "$PUB" --key "$T/p256.pem" "$L"
vcheck verify_json 0 "$KEST" verify --json --key "$PUB" \
    --key "$T/p256.pem" "$L"
check "verify_json: valid, five records" \
    same "true 5" "$(jq -r '"\(.valid) \(.records)"' "$T/out")"
sed '2s/"vg"/"gv"/' "$L" >"$T/tampered.log"
vcheck verify_tampered 1 "$KEST" verify --key "$PUB" --key "$T/p256.pem" \
    "$T/tampered.log"
vcheck show 0 "$KEST" show "$L"
vcheck show_tree 0 "$KEST" show --tree "$L"

# The SPIRE provider against the Workload API test double: kest run
# signs with the SVID, kest bundle fetches the trust bundle, and kest
# verify --bundle checks the chains.
CERTS=$T/certs
if sh "$KEST_SRC/tests/doubles/mkcerts.sh" "$CERTS" >/dev/null 2>&1 &&
    spawn_double wl /usr/bin/python3 \
        "$KEST_SRC/tests/doubles/workload_api.py" --socket "$T/wl.sock" \
        --certs "$CERTS" --mode ok --ready-file "$T/wl.ready"; then
    # valgrind slows the fetches down many times over
    export KEST_TIMEOUT_MS=30000
    vcheck bundle 0 env SPIFFE_ENDPOINT_SOCKET="$READY" "$KEST" bundle \
        --out "$T/bundle.pem"
    check "bundle: a PEM certificate" grep -q "BEGIN CERTIFICATE" \
        "$T/bundle.pem"
    vcheck spire_run 127 env -u KEST_BUILD -u KEST_SRC \
        SPIFFE_ENDPOINT_SOCKET="$READY" "$KEST" run --log "$T/spire.log" \
        -- "$T/missing"
    vcheck verify_bundle 0 "$KEST" verify --bundle "$T/bundle.pem" \
        "$T/spire.log"
    check "verify_bundle: three records signed by the SVID" \
        same "OK: 3 records" "$(cut -d, -f1 "$T/out")"
    stop_server wl
    unset KEST_TIMEOUT_MS
else
    fail "spire: the Workload API double started"
fi

# Programs under libkest.so: a shell's fork and exec, posix_spawn of a
# vfork child (recorded by the kest-record helper), system(3), and a
# fork child of a process that has recorded already.
shim=(env -u KEST_BUILD -u KEST_SRC LD_PRELOAD="$SHIM" KEST_LOG="$S"
      KEST_KEY="$KEY")
vcheck shim_sh 0 "${shim[@]}" sh -c '/bin/true; /bin/echo x >/dev/null'
vcheck shim_spawn_vfork 0 "${shim[@]}" "$TOOLS/run_posix_spawn" \
    "$TOOLS/vfork_exec" /bin/true
vcheck shim_system 0 "${shim[@]}" "$TOOLS/run_system" /bin/true
vcheck shim_fork 0 "${shim[@]}" "$TOOLS/fork_exec" /bin/true
check "shim: the programs' records verify" \
    "$KEST" verify -q --key "$PUB" "$S"
check "shim: each program recorded its kind of exec" \
    same "execv execve posix_spawn system" \
    "$(jq -r 'select(.payload.operation == "exec") | .payload.exec.api' \
        "$S" | sort -u | xargs)"

echo "# valgrind: $(($(date +%s) - t0)) s"
finish
