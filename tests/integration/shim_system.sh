# SPDX-License-Identifier: Apache-2.0
# System-wide mode: /etc/ld.so.preload, /etc/kest/kest.conf, the kill
# switch, and secure-execution mode. Runs in a private mount namespace
# with a copy of /etc bound over /etc: the machine's own /etc is never
# touched.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
    echo "# SKIP: needs root and mount namespaces"
    finish
    exit $?
fi
E=$T/root/etc
mkdir -p "$T/root"
cp -a /etc "$E"
mkdir -p "$E/kest"
chmod 755 "$T" "$T/root"
check "kest enable writes the private ld.so.preload" \
    "$KEST" enable --root "$T/root" --lib "$SHIM"
write_conf() { # extra lines...
    {
        echo "# kest system-wide settings"
        echo "KEST_LOG=$T/sys.log"
        echo "KEST_KEY=$KEY"
        echo "KEST_PRINCIPAL=host://test"
        for l in "$@"; do echo "$l"; done
    } > "$E/kest/kest.conf"
    chown root:root "$E/kest/kest.conf"
    chmod 644 "$E/kest/kest.conf"
}
# in_ns CMD...: run with the private /etc
in_ns() {
    unshare -m sh -c 'mount --bind "$1" /etc && shift && exec "$@"' \
        sh "$E" "$@"
}

write_conf
rm -f "$T/sys.log"
in_ns env -i PATH=/usr/bin:/bin sh -c 'ls / >/dev/null; true'
n=$(count_ops "$T/sys.log" exec)
check "no environment at all: execs are recorded from the config file" \
    test "${n:-0}" -ge 2
check "the system log verifies" "$KEST" verify -q --key "$PUB" "$T/sys.log"
check "principal comes from the file" sh -c \
    "jq -r .payload.labels.principal '$T/sys.log' | grep -qx host://test"

rm -f "$T/sys.log" "$T/env.log"
in_ns env KEST_LOG="$T/env.log" sh -c '/bin/true'
check "the file wins over the environment" test -s "$T/sys.log"
check_not "the environment's log is not used" test -e "$T/env.log"

write_conf KEST_ENV_OVERRIDE=1
rm -f "$T/sys.log" "$T/env.log"
in_ns env KEST_LOG="$T/env.log" sh -c '/bin/true'
check "KEST_ENV_OVERRIDE=1 lets the environment win" test -s "$T/env.log"

write_conf
chmod 666 "$E/kest/kest.conf"
rm -f "$T/sys.log"
in_ns env -i PATH=/usr/bin:/bin KEST_QUIET=1 sh -c '/bin/true' 2>/dev/null
check_not "a config file others may write is ignored" test -e "$T/sys.log"
chmod 644 "$E/kest/kest.conf"

touch "$E/kest/disabled"
rm -f "$T/sys.log"
out=$(in_ns env -i PATH=/usr/bin:/bin sh -c 'echo still-works')
check "kill switch: programs still run" test "$out" = still-works
check_not "kill switch: nothing is recorded" test -e "$T/sys.log"
rm -f "$E/kest/disabled"

# Secure-execution mode: a setuid-root program run by nobody ignores
# every KEST_* variable the user sets.
cp "$TOOLS/setuid_exec" "$T/setuid_exec"
chown root:root "$T/setuid_exec"
chmod 4755 "$T/setuid_exec"
chmod 644 "$KEY" 2>/dev/null; chmod 600 "$KEY"
rm -f "$T/sys.log" "$T/evil.log"
out=$(in_ns setpriv --reuid=65534 --regid=65534 --clear-groups \
    env KEST_LOG="$T/evil.log" KEST_KEY=/nonexistent \
    "$T/setuid_exec" /bin/true 2>&1)
check "the setuid program runs in secure mode" sh -c \
    "printf '%s' '$out' | grep -q secure=1"
n=$(count_ops "$T/sys.log" exec)
check "its exec is recorded in the configured log" test "${n:-0}" -ge 1
check_not "the user's KEST_LOG is ignored" test -e "$T/evil.log"
# setpriv's child env runs as nobody, who cannot read the root-only key:
# its exec leaves a gap; the setuid program (euid 0) signs.
check "the setuid program's record is signed and verifies" sh -c \
    "'$KEST' verify -q --allow-gaps --key '$PUB' '$T/sys.log' &&
     jq -e 'select(.payload.operation == \"exec\" and
                   .payload.process.euid == 0 and
                   .payload.process.uid == 65534)' '$T/sys.log' >/dev/null"

check "kest disable removes only our entry" \
    "$KEST" disable --root "$T/root" --lib "$SHIM"
check_not "ld.so.preload no longer names libkest.so" \
    grep -q libkest "$E/ld.so.preload"
finish
