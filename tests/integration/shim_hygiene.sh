# SPDX-License-Identifier: Apache-2.0
# What libkest.so leaves in the programs it is preloaded into: only the
# hooks exported, libc as its only dependency, CET marking kept, no
# OpenSSL in a process that records nothing, no descriptor passed on to
# a child, errno untouched by a successful call.
. "$(dirname "$0")/shimlib.sh"

HOOKS="dlopen execl execle execlp execv execve execveat execvp execvpe
       fexecve popen posix_spawn posix_spawnp system"
check_eq "nm -D: exactly the 14 hooks are exported" \
    "$(printf '%s\n' $HOOKS | sort)" \
    "$(nm -D --defined-only "$SHIM" | awk '{print $3}' | sort)"
needed=$(readelf -d "$SHIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
check "readelf -d: libc.so.6 is NEEDED" grep -qx libc.so.6 <<<"$needed"
check_eq "readelf -d: nothing NEEDED but libc and the dynamic loader" "" \
    "$(grep -vxE 'libc\.so\.6|ld-linux-x86-64\.so\.2' <<<"$needed")"
check "readelf -n: marked for IBT and SHSTK" \
    grep -q "x86 feature: IBT, SHSTK" <(readelf -n "$SHIM")

# maps_of PID PATTERN: its memory map, once PATTERN shows up in it.
maps_of() {
    for _ in $(seq 100); do
        if grep -q "$2" "/proc/$1/maps" 2>/dev/null; then
            cat "/proc/$1/maps"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# background CMD...: start CMD under the shim; its pid in $pid.
background() {
    (exec env -u KEST_BUILD -u KEST_SRC LD_PRELOAD="$SHIM" \
        KEST_LOG="$LOG" KEST_KEY="$KEY" "$@") &
    pid=$!
}

# A process that records nothing pays for nothing.
rm -f "$LOG"
background /bin/sleep 30
maps=$(maps_of $pid libkest.so)
check "idle process: libkest.so is loaded" test -n "$maps"
for lib in libkest-core libcrypto libjansson; do
    check_not "idle process: no $lib mapped" grep -q $lib <<<"$maps"
done
kill $pid
wait $pid 2>/dev/null
under /bin/true
check_not "idle processes: no log written" test -e "$LOG"

# A process that recorded through the shared recorder maps none of
# them either: the key and OpenSSL stay out of the host.
background "$TOOLS/run_posix_spawn" /bin/sleep 30
for _ in $(seq 100); do
    [ -s "$LOG" ] && break
    sleep 0.05
done
maps=$(grep -e libkest -e libcrypto -e libjansson "/proc/$pid/maps")
check "recording process: it recorded" test -s "$LOG"
for lib in libkest-core libcrypto libjansson; do
    check_not "recording process (shared recorder): no $lib mapped" \
        grep -q $lib <<<"$maps"
done
kill $(ps -o pid= --ppid $pid)
wait $pid

# The same check sees the libraries in a process that recorded itself.
KEST_SHARED_RECORDER=0 background "$TOOLS/run_posix_spawn" /bin/sleep 30
maps=$(maps_of $pid libkest-core)
for lib in libkest-core libcrypto libjansson; do
    check "recording in process: $lib mapped" grep -q $lib <<<"$maps"
done
kill $(ps -o pid= --ppid $pid)
wait $pid

# The child sees the descriptors it would see without kest, whether the
# parent recorded in process (fork_exec: it has the log open), spawned,
# went through kest-record (vfork) or the shell.
for tool in fork_exec run_posix_spawn run_execve vfork_exec; do
    same "$tool: descriptors of the child" \
        "$TOOLS/$tool" /bin/ls /proc/self/fd
    check "$tool: the child's records exist" test -s "$LOG"
    check_eq "$tool: none of them is the log or a socket" "" \
        "$(under "$TOOLS/$tool" /usr/bin/find /proc/self/fd -lname "$LOG" \
           -o -lname 'socket:*')"
done
same "system: descriptors of the shell's child" \
    "$TOOLS/run_system" 'exec /bin/ls /proc/self/fd'
check_eq "system: none of them is the log or a socket" "" \
    "$(under "$TOOLS/run_system" \
       "exec /usr/bin/find /proc/self/fd -lname '$LOG' -o -lname 'socket:*'")"

# errno is left alone by a successful spawn (the tools print it if not).
for tool in run_posix_spawn run_system run_popen; do
    arg=/bin/true
    [ $tool = run_posix_spawn ] || arg=true
    rm -f "$LOG"
    check_eq "$tool: errno unchanged by a successful call" "" \
        "$(under "$TOOLS/$tool" "$arg" 2>&1)"
    check "$tool: and it was recorded" test -s "$LOG"
done

finish
