# SPDX-License-Identifier: Apache-2.0
# Host programs that are hostile to a preloaded library: they close
# every descriptor, put their own files on the numbers kest uses, empty
# their environment, take SIGALRM every 500 us without SA_RESTART,
# block every signal or ignore SIGCHLD, and then exec by posix_spawn,
# fork, vfork and in place (tests/tools/*_exec.c). Each must behave as without kest (same
# output, exit status, errno and child descriptors), have every exec
# recorded, and leave a log that verifies.
. "$(dirname "$0")/shimlib.sh"

LS_FDS=(/bin/ls /proc/self/fd)

# hostile DESC CMD...: same output and status with and without kest; one
# exec record per successful exec strace sees (less CMD's own); the
# failed exec each tool tries has its exec_failed record with ENOENT; no
# gap; kest verify passes. The log of the kest run stays in $LOG.
hostile() {
    local d=$1 traced
    shift
    same "$d" "$@"
    traced=$(strace_execs "$@")
    check_eq "$d: exec records = successful execs under strace - 1" \
        "$((traced - 1))" "$(completed_execs)"
    check_eq "$d: the failed exec is recorded with ENOENT" "ENOENT" \
        "$(q '[.[] | select(.operation == "exec_failed")
               | .exec_failed.error] | join(" ")')"
    check_eq "$d: no gap record" 0 \
        "$(q '[.[] | select(.operation == "gap")] | length')"
    check "$d: kest verify passes" verify_ok
}

# (a) Every descriptor but stdout and stderr closed (the log included)
# before each exec: children list the same descriptors as without kest.
hostile "close all fds" "$TOOLS/closefds_exec" "${LS_FDS[@]}"
check_eq "close all fds: the parent's records form one process" 1 \
    "$(q '[.[] | select(.exec.api == "posix_spawn") | .process.instance]
          | unique | length')"

# (b) The program's own file, opened for appending, on every descriptor
# from 3 to 127 (where kest keeps its log) after kest opened its log.
hostile "dup2 over fds 3..127" "$TOOLS/dupover_exec" "$T/mine" \
    "${LS_FDS[@]}"
check_eq "dup2 over fds: the program's file holds only its own line" \
    "mine" "$(cat "$T/mine")"
# The same with the log itself, opened read-only by the program: its
# descriptor must survive into the children (fork first, so the fork
# child meets it before the parent records again).
hostile "dup2 the log read-only over fds 3..127" \
    "$TOOLS/dupover_exec" -r "$LOG" "${LS_FDS[@]}"

# (c) clearenv, then execv: the environment passed is empty.
hostile "clearenv" "$TOOLS/clearenv_exec" /bin/sh -c '/bin/echo nested'
check_eq "clearenv: the emptied execs say which settings came back" \
    '["KEST_KEY,KEST_LOG,LD_PRELOAD"]' \
    "$(q -c '[.[] | select(.operation == "exec" and .exec.env == [])
              | .exec.env_restored | split(",") | sort | join(",")]
             | unique')"
check_eq "clearenv: the shells' own execs of echo are recorded" 4 \
    "$(q '[.[] | select(.exec.argv[0] == "/bin/echo")] | length')"

# (d) Own SIGSEGV and SIGALRM handlers, a 500 us interval timer, no
# SA_RESTART: 20 rounds of posix_spawn, fork and vfork.
rm -f "$LOG"
check_eq "signals: handlers kept, no SIGSEGV, the timer fired" \
    "missing: rc=-1 errno=2
children: 0, SIGSEGV handler ours, SIGALRM handler ours, \
SIGSEGV caught 0, timer fired: yes" \
    "$(under timeout 60 "$TOOLS/signals_exec" 20 /bin/true 2>&1)"
check_eq "signals: 60 exec records of /bin/true" 60 \
    "$(q '[.[] | select(.operation == "exec"
                        and .exec.argv == ["/bin/true"])] | length')"
hostile "signals" "$TOOLS/signals_exec" 20 /bin/true

# (e) Every signal blocked: the children inherit the same mask, and the
# program's own mask is the same after each call (the tool says if not).
hostile "all signals blocked" "$TOOLS/sigblock_exec" \
    /bin/grep -E '^Sig(Blk|Ign)' /proc/self/status
check_eq "all signals blocked: the mask never changed under kest" "" \
    "$(under "$TOOLS/sigblock_exec" /bin/true 2>&1 | grep -v '^missing' |
       grep -v '^children: 0$')"

# (f) SIGCHLD ignored, so the kernel reaps children at once (the tools
# see ECHILD from waitpid, with and without kest): kest-record, which
# sends no SIGCHLD, must still be waited for.
hostile "SIGCHLD ignored" bash -c "trap '' CHLD; exec \"\$@\"" - \
    "$TOOLS/closefds_exec" "${LS_FDS[@]}"

finish
