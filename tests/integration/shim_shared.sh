# SPDX-License-Identifier: Apache-2.0
# The shared recorder: fork children of a shell loop, vfork children and
# spawning threads hand their records to one kest-record process per
# configuration, which answers only its own user and only for the pid
# the kernel reports, and leaves when idle. Records, lineage and the
# chain must be exactly what in-process recording gives.
. "$(dirname "$0")/shimlib.sh"

# servers LOG: pids of the kest-record processes serving LOG
servers() {
    local p
    for p in $(pgrep -x kest-record); do
        { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null |
            grep -qxF "KEST_LOG=$1" && echo "$p"
    done
}
stop_recorders() {
    local p
    for p in $(servers "$LOG"); do kill "$p" 2>/dev/null; done
    sleep 0.2
}
trap 'stop_recorders; stop_servers; rm -rf "$T"' EXIT
loop='for i in $(seq 40); do /bin/true; done'

# --- a shell loop: one start record for bash, 40 children under it ----
rm -f "$LOG"
under bash -c "$loop"
check_eq "loop: 40 exec records" 40 \
    "$(q '[.[] | select(.operation == "exec" and
                        .exec.argv == ["/bin/true"])] | length')"
check_eq "loop: every exec names the shell's start record as parent" \
    "$(q '[.[] | select(.exec.argv == ["/bin/true"]) | .process.ppid]
          | unique | join(" ")')" \
    "$(q '(map({key: ._hash, value: .}) | from_entries) as $by
          | [.[] | select(.exec.argv == ["/bin/true"])
             | $by[.parent_ids[0]] | select(.operation == "start")
             | .process.pid] | unique | join(" ")')"
check_eq "loop: each exec is its own process" 40 \
    "$(q '[.[] | select(.exec.argv == ["/bin/true"]) | .process.pid]
          | unique | length')"
check "loop: kest verify passes" verify_ok
srv=$(servers "$LOG")
check_eq "loop: one shared recorder serves this configuration" 1 \
    "$(echo "$srv" | grep -c .)"
check_eq "loop: it works from /, not the host's directory" / \
    "$(readlink "/proc/$srv/cwd")"
check_eq "loop: it holds none of the host's descriptors (0-2 /dev/null)" \
    "/dev/null /dev/null /dev/null" \
    "$(readlink "/proc/$srv/fd/0" "/proc/$srv/fd/1" "/proc/$srv/fd/2" |
       tr '\n' ' ' | sed 's/ $//')"
sleep 0.5
check_not "loop: at rest it has let go of the log" \
    sh -c "ls -l /proc/$srv/fd | grep -qF '$LOG'"

# --- the next program of the same configuration uses the same one ----
under bash -c "$loop"
check_eq "again: the same recorder, no second one" "$srv" \
    "$(servers "$LOG" | tr '\n' ' ' | sed 's/ $//')"
check_eq "again: 80 exec records in all" 80 \
    "$(q '[.[] | select(.operation == "exec" and
                        .exec.argv == ["/bin/true"])] | length')"
check "again: kest verify passes" verify_ok

# --- the log rotated away under a living recorder ---------------------
mv "$LOG" "$LOG.1"
under bash -c "$loop"
check_eq "rotated: the new log has the 40 new exec records" 40 \
    "$(q '[.[] | select(.operation == "exec" and
                        .exec.argv == ["/bin/true"])] | length')"
check "rotated: the new log verifies" verify_ok
check "rotated: the old log is whole and verifies" verify_ok "$LOG.1"

# --- vfork children and posix_spawn threads go through it too ---------
rm -f "$LOG"
out=$(under "$TOOLS/vfork_exec" /bin/echo via-vfork 2>&1)
check_eq "vfork: the program's output" via-vfork "$out"
out=$(under "$TOOLS/spawn_threads" 8 2 /bin/true 2>&1)
check_eq "threads: every spawn ran" "spawns 16, failed 0" "$out"
check_eq "vfork + threads: 17 exec records" 17 \
    "$(q '[.[] | select(.operation == "exec")] | length')"
check "vfork + threads: kest verify passes (seq per process in order)" \
    verify_ok

# --- a request for another pid is refused -----------------------------
name=$(tr '\0' '\n' <"/proc/$srv/cmdline" | sed -n 3p)
lines=$(wc -l <"$LOG")
reply=$("$PY" - "$name" <<'EOF'
import socket, struct, sys
def field(tag, s):
    b = s.encode()
    return tag.encode() + struct.pack('<I', len(b)) + b
req = b'KREQ1' + b''.join(field(t, v) for t, v in [
    ('o', 'exec'), ('a', 'execve'), ('p', '/bin/true'), ('f', '-100'),
    ('V', ''), ('v', '/bin/true'), ('P', '1'), ('q', '0'), ('O', '0')])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('\0' + sys.argv[1])
s.sendall(req)
s.shutdown(socket.SHUT_WR)
print(s.recv(4096).decode().split(' ')[0])
EOF
)
check_eq "impostor: a request naming pid 1 is refused (-EPERM)" -1 "$reply"
check_eq "impostor: nothing was appended" "$lines" "$(wc -l <"$LOG")"

# --- another user squatting on the name is never used -----------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    stop_recorders
    mkdir -m 1777 "$T/sq"
    chmod 755 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" - "$name" \
        "$T/sq/squat" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind('\0' + sys.argv[1])
s.listen(64)
open(sys.argv[2] + '.ready', 'w').write('up')
got = 0
s.settimeout(20)
try:
    while True:
        c, _ = s.accept()
        got += len(c.recv(65536))
        c.sendall(b'0 ' + b'a' * 64 + b' 0 - 1 faked\n')
        c.close()
        open(sys.argv[2], 'w').write(str(got))
except OSError:
    pass
EOF
    squat=$!
    for _ in $(seq 50); do [ -e "$T/sq/squat.ready" ] && break; sleep 0.1; done
    rm -f "$LOG"
    under bash -c "$loop"
    check_eq "squatter: every exec still recorded" 40 \
        "$(q '[.[] | select(.operation == "exec" and
                        .exec.argv == ["/bin/true"])] | length')"
    check "squatter: kest verify passes" verify_ok
    check_eq "squatter: it was sent no request byte" 0 \
        "$(cat "$T/sq/squat" 2>/dev/null || echo 0)"
    kill "$squat" 2>/dev/null
    wait "$squat" 2>/dev/null
    sleep 0.2
else
    ok "squatter: # SKIP needs root and setpriv"
fi

# --- KEST_SHARED_RECORDER=0: each process records for itself ----------
stop_recorders
rm -f "$LOG"
KEST_SHARED_RECORDER=0 under bash -c "$loop"
check_eq "off: 40 exec records" 40 \
    "$(q '[.[] | select(.operation == "exec" and
                        .exec.argv == ["/bin/true"])] | length')"
check "off: kest verify passes" verify_ok
check_eq "off: no shared recorder was started" "" "$(servers "$LOG")"

# --- idle, it leaves ----------------------------------------------------
under bash -c "$loop"
srv=$(servers "$LOG")
check "idle: a recorder is up after a run" test -n "$srv"
sleep 11
check_eq "idle: gone 10 s after its last request" "" "$(servers "$LOG")"

finish
