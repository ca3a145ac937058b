# SPDX-License-Identifier: Apache-2.0
# Secrets stay where they belong (docs/THREAT-MODEL.md): the signing key
# is not in the core dump of a process that records with it (gcore
# leaves out pages marked MADV_DONTDUMP, as the kernel does), and
# credentials are never re-injected into a child's environment, written
# to the log or printed by the debug trace.
. "$(dirname "$0")/shimlib.sh"

# The Ed25519 private key (raw seed), its public key and the PEM text.
openssl pkey -in "$KEY" -outform DER | tail -c 32 >"$T/seed"
openssl pkey -in "$KEY" -pubout -outform DER | tail -c 32 >"$T/pub"
sed -n 2p "$KEY" | tr -d '\n' >"$T/pemline"
check "the key is a 32-byte Ed25519 seed" \
    test "$(wc -c <"$T/seed")" -eq 32 -a "$(wc -c <"$T/pemline")" -gt 40

# in_core CORE NEEDLE: how often the bytes of file NEEDLE occur in CORE.
in_core() {
    "$PY" -c 'import sys
core = open(sys.argv[1], "rb").read()
print(core.count(open(sys.argv[2], "rb").read()))' "$1" "$2"
}

# dump_clean DESC CORE: the seed and the PEM text are absent while the
# public key, which sits beside them in the key object, is present (so
# the dump did take the memory the key lives in).
dump_clean() {
    check "$1: core dump written" test -s "$2"
    check "$1: the public key is in the dump" \
        test "$(in_core "$2" "$T/pub")" -ge 1
    check_eq "$1: the private key is not" 0 "$(in_core "$2" "$T/seed")"
    check_eq "$1: nor the key file's text" \
        0 "$(in_core "$2" "$T/pemline")"
}

if ! command -v gcore >/dev/null; then
    fail "gcore (package gdb, see scripts/deps) is not installed"
    finish
    exit 1
fi

# 1. A recorder that loaded the key, signed and appended, dumped as it
# calls exit (before any clean-up could wipe anything).
env -u KEST_BUILD -u KEST_SRC KEST_LOG="$T/app.log" KEST_KEY="$KEY" \
    gdb -q -nx -batch -ex 'set breakpoint pending on' -ex 'break exit' \
    -ex run -ex "gcore $T/app.core" -ex kill \
    --args "$TOOLS/appender" 3 >"$T/gdb.out" 2>&1
check_eq "appender: three records signed" 4 "$(wc -l <"$T/app.log")"
dump_clean "appender at exit" "$T/app.core"

# 2. A host program that recorded a child under libkest.so and runs on:
# every process of this run that holds the key (the host itself, or a
# kest-record that recorded for it) is dumped while alive.
LOG=$T/host.log
under "$PY" -c 'import os, sys, time
os.system("/bin/true")
print("ready", flush=True)
time.sleep(60)' >"$T/host.out" 2>&1 &
host=$!
for _ in $(seq 100); do
    grep -q ready "$T/host.out" 2>/dev/null && break
    sleep 0.1
done
holders=""
for d in /proc/[0-9]*; do
    { tr '\0' '\n' <"$d/environ"; } 2>/dev/null |
        grep -qx "KEST_LOG=$LOG" || continue
    if grep -q 'libkest-core\.so' "$d/maps" 2>/dev/null ||
        [ "$(basename "$(readlink "$d/exe" 2>/dev/null)")" = kest-record ]
    then
        holders="$holders ${d#/proc/}"
    fi
done
check "host: the exec was recorded" test "$(count_ops "$LOG" exec)" -ge 1
check "host: some process of the run holds the key" test -n "$holders"
for pid in $holders; do
    gcore -o "$T/host" "$pid" >/dev/null 2>&1
    dump_clean "live recorder $(tr '\0\n' '  ' <"/proc/$pid/cmdline" |
        cut -c1-24)" "$T/host.$pid"
    rm -f "$T/host.$pid"
done
kill "$host" 2>/dev/null
wait "$host" 2>/dev/null

# 3. Children's environments. env -i drops everything; the shim puts
# back kest's own settings and the non-secret AWS ones, never a secret.
# (The secrets come from the environment: argv is recorded.)
LOG=$T/env.log
out=$(AWS_SECRET_ACCESS_KEY=sekrit-access-key \
    AWS_SESSION_TOKEN=sekrit-session-token \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=sekrit-container-token \
    AWS_REGION=eu-west-3 KEST_DEBUG=1 \
    under /usr/bin/env -i /usr/bin/env 2>"$T/env.err")
check "env -i: the child got its settings back (AWS_REGION, LD_PRELOAD)" \
    test "$(printf '%s\n' "$out" |
        grep -cE '^(AWS_REGION=eu-west-3|LD_PRELOAD=.*libkest\.so)$')" -eq 2
for v in AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_CONTAINER_AUTHORIZATION_TOKEN; do
    check_eq "env -i: $v is not re-injected" \
        0 "$(printf '%s\n' "$out" | grep -c "^$v=")"
done
check_eq "env -i: env_restored names none of the secrets" 0 \
    "$(jq -r '.payload.exec.env_restored // empty' "$LOG" | grep -c \
        -e AWS_SECRET -e AWS_SESSION -e AWS_CONTAINER_AUTH)"
check_eq "no secret value in the log" 0 "$(grep -c sekrit "$LOG")"
check "the debug trace ran" test -s "$T/env.err"
check_eq "no secret value in the debug trace" \
    0 "$(grep -c sekrit "$T/env.err")"
check_eq "no key text in the log or the trace" 0 \
    "$(cat "$T"/*.log "$T/env.err" | grep -cF "$(cat "$T/pemline")")"

finish
