# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the shim_*.sh tests (sourced; not a test itself).
# On top of lib.sh it sets:
#   LOG     the log the preloaded programs write ($T/log)
#   PY      the system Python, used to recompute record hashes
# and provides:
#   under CMD...     run CMD with libkest.so preloaded, recording to $LOG
#                    with $KEY (no other KEST_* variable)
#   recs [LOG]       every record's payload plus "_hash", one JSON a line
#   q FILTER [ARG]...  jq -s -r FILTER over recs of $LOG (ARGs: --arg ...)
#   same DESC CMD... CMD's stdout, stderr and status match without kest
#   verify_ok [LOG]  kest verify --key $PUB passes
#   strace_execs CMD...  successful execve/execveat calls under strace
#   completed_execs  exec records of $LOG that no exec_failed refers to
. "$(dirname "$0")/lib.sh"
LOG=$T/log
PY=/usr/bin/python3

# KEST_BUILD and KEST_SRC (set by ctest) would count as kest settings.
under() {
    env -u KEST_BUILD -u KEST_SRC LD_PRELOAD="$SHIM" KEST_LOG="$LOG" \
        KEST_KEY="$KEY" "$@"
}

# The hash is computed here from the line's bytes (SHA-256 of the
# compact JWS), independently of what kest wrote into log_prev.
recs() {
    "$PY" - "${1:-$LOG}" <<'EOF'
import base64, hashlib, json, sys
for raw in open(sys.argv[1], 'rb'):
    line = raw.rstrip(b'\n')
    if not line:
        continue
    head = b'{"payload":'
    prot_at, sig_at = b',"protected":"', b'","signature":"'
    i = line.rindex(prot_at)
    j = line.rindex(sig_at)
    pay = line[len(head):i]
    prot = line[i + len(prot_at):j]
    sig = line[j + len(sig_at):-2]
    b64 = base64.urlsafe_b64encode(pay).rstrip(b'=')
    rec = json.loads(pay)
    rec['_hash'] = hashlib.sha256(prot + b'.' + b64 + b'.' + sig).hexdigest()
    print(json.dumps(rec))
EOF
}

q() {
    f=$1; shift
    recs "$LOG" | jq -s -r "$@" "$f"
}

# Run CMD plainly and under the shim (fresh log); both outputs and both
# exit statuses must be the same. The shim run's log stays in $LOG.
same() {
    d=$1; shift
    plain=$("$@" 2>&1; echo "status $?")
    rm -f "$LOG"
    shimmed=$(under "$@" 2>&1; echo "status $?")
    if [ "$plain" = "$shimmed" ]; then
        ok "$d: same output and status with and without kest"
        return 0
    fi
    fail "$d: same output and status with and without kest"
    echo "# without: $(printf '%s' "$plain" | head -c 300 | tr '\n' '|')"
    echo "# with:    $(printf '%s' "$shimmed" | head -c 300 | tr '\n' '|')"
    return 1
}

verify_ok() {
    out=$("$KEST" verify --key "$PUB" "${1:-$LOG}" 2>&1) && return 0
    echo "# $(printf '%s' "$out" | head -3 | tr '\n' '|')"
    return 1
}

# Count successful execve and execveat calls of CMD and all its
# descendants, strace's own exec of CMD included.
strace_execs() {
    rm -rf "$T/strace"
    mkdir "$T/strace"
    strace -f -ff -qq -e trace=execve,execveat -e signal=none \
        -o "$T/strace/t" "$@" >/dev/null 2>&1
    cat "$T/strace"/t.* | grep -Ec '^execve(at)?\(.* = 0$'
}

completed_execs() {
    q '[.[] | select(.operation == "exec_failed") | .exec_failed.exec]
       as $failed
       | [.[] | select(.operation == "exec")
              | select(._hash as $h | any($failed[]; . == $h) | not)]
       | length'
}

# check_eq DESC WANT GOT
check_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        fail "$1"
        echo "# want: $(printf '%s' "$2" | head -c 300)"
        echo "# got:  $(printf '%s' "$3" | head -c 300)"
    fi
}
