# SPDX-License-Identifier: Apache-2.0
# Where the hook may not sign in process: a vfork child, and the child
# of fork in a multithreaded program whose other threads hold OpenSSL's
# locks. Both go through kest-record; neither may hang or crash, and
# every record must be valid. Also threads racing to exec at once.
. "$(dirname "$0")/shimlib.sh"

# vfork: the child execs a shell that execs echo.
same "vfork" "$TOOLS/vfork_exec" /bin/sh -c '/bin/echo hello vfork'
vfork_rec='.[] | select(.operation == "exec" and .exec.argv[0] == "/bin/sh")'
check_eq "vfork: exec record of the vfork child" \
    '"execve" ["/bin/sh","-c","/bin/echo hello vfork"]' \
    "$(q "$vfork_rec | \"\\(.exec.api | tojson) \\(.exec.argv | tojson)\"")"
check "vfork: the record describes the child, not the parent" \
    test "$(q "$vfork_rec | .process.pid")" != \
    "$(q "$vfork_rec | .process.ppid")"
check_eq "vfork: the child's child links to that record" \
    "$(q "[$vfork_rec | ._hash] | tojson")" \
    "$(q '[.[] | select(.exec.argv[0] == "/bin/echo") | .parent_ids[]]
          | tojson')"
check "vfork: kest verify passes" verify_ok

# Several vfork children of one parent; the parent records in process
# in between, and its own state must survive what the children did.
rm -f "$LOG"
out=$(under /bin/sh -c "$TOOLS/vfork_exec /bin/true && \
    $TOOLS/fork_exec $TOOLS/vfork_exec /bin/echo twice" 2>&1)
check_eq "vfork after in-process records: output" "twice" "$out"
check_eq "vfork after in-process records: exec records" 6 \
    "$(q '[.[] | select(.operation == "exec")] | length')"
check "vfork after in-process records: kest verify passes" verify_ok

# 8 threads hash with OpenSSL while a ninth forks and execs 1000 times.
rm -f "$LOG"
out=$(under timeout 300 "$TOOLS/threaded_fork" 1000 /bin/true 2>&1)
rc=$?
check_eq "threaded fork: no hang, no crash, every child ran" \
    "forks 1000, failed 0 (status 0)" "$out (status $rc)"
check_eq "threaded fork: 1000 exec records from the fork children" 1000 \
    "$(q '[.[] | select(.operation == "exec" and .exec.api == "execv"
                        and .exec.argv == ["/bin/true"])] | length')"
check_eq "threaded fork: none of them failed or is a gap" 0 \
    "$(q '[.[] | select(.operation != "exec" and .operation != "start")]
          | length')"
check_eq "threaded fork: the children keep the parent's lineage" 1 \
    "$(q '[.[] | select(.exec.api == "execv") | .parent_ids[0]] | unique
          | length')"
check "threaded fork: kest verify passes" verify_ok

# Eight threads exec at the same moment, the first exec of the process
# included (the shim loads its core then); ten processes, since the
# threads do not always meet.
rm -f "$LOG"
out=$(for _ in $(seq 10); do
          under "$TOOLS/spawn_threads" 8 2 /bin/true 2>&1
      done | sort | uniq -c | sed 's/^ *//')
check_eq "racing threads: every spawn ran, nothing on stderr" \
    "10 spawns 16, failed 0" "$out"
check_eq "racing threads: 160 signed exec records" 160 \
    "$(q '[.[] | select(.operation == "exec"
                        and .exec.api == "posix_spawn")] | length')"
check_eq "racing threads: every record has the right file hash" \
    "$(sha256sum "$(realpath /bin/true)" | cut -d' ' -f1)" \
    "$(q '[.[] | select(.exec.api == "posix_spawn") | .exec.sha256]
          | unique | join(" ")')"
check "racing threads: kest verify passes" verify_ok

# A preloaded allocator that, holding its lock, spawns a program from
# inside malloc (the first call may come from our own set-up): whatever
# the shim does there must not deadlock on that lock or recurse.
cat >"$T/mspawn.c" <<'EOF'
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

extern void *__libc_malloc(size_t);
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;
static int spawned;

void *malloc(size_t n)
{
    char *argv[] = {"/bin/echo", "from malloc", NULL};
    char *envp[] = {NULL};
    pid_t pid;
    void *p;

    if (inside) {
        return __libc_malloc(n);
    }
    inside = 1;
    pthread_mutex_lock(&mu);
    if (!spawned && getenv("MALLOC_SPAWN") != NULL) {
        spawned = 1;
        if (posix_spawn(&pid, argv[0], NULL, NULL, argv, envp) == 0) {
            waitpid(pid, NULL, 0);
        }
    }
    p = __libc_malloc(n);
    pthread_mutex_unlock(&mu);
    inside = 0;
    return p;
}
EOF
cc -shared -fPIC -o "$T/mspawn.so" "$T/mspawn.c"
for tool in run_execve run_posix_spawn vfork_exec; do
    rm -f "$LOG"
    out=$(timeout 60 env MALLOC_SPAWN=1 LD_PRELOAD="$SHIM $T/mspawn.so" \
              KEST_LOG="$LOG" KEST_KEY="$KEY" "$TOOLS/$tool" /bin/echo main \
              2>&1; echo "status $?")
    check_eq "spawning malloc, $tool: no hang, the program ran" \
        "main|status 0" "$(grep -v '^from malloc$' <<<"$out" | paste -sd'|')"
    check "spawning malloc, $tool: malloc did spawn" \
        grep -qx "from malloc" <<<"$out"
    check_eq "spawning malloc, $tool: its exec is recorded" 1 \
        "$(q '[.[] | select(.operation == "exec"
                            and .exec.argv == ["/bin/echo", "main"])]
              | length')"
    check "spawning malloc, $tool: kest verify passes" verify_ok
done

finish
