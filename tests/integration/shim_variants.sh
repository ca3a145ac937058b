# SPDX-License-Identifier: Apache-2.0
# Every hooked exec entry point, each through its own small program and
# once more from another preloaded library's constructor: the program
# behaves as without kest, the exec record names the API, argv and the
# resolved file, the child's records link back to it, and the log
# verifies.
. "$(dirname "$0")/shimlib.sh"

SH=$(realpath /bin/sh)
APIS="execve execv execvp execvpe execl execlp execle fexecve execveat
      posix_spawn posix_spawnp system popen"

# The run_API tools exec (or spawn, or hand to the shell) a shell that
# runs /bin/echo: two exec records, the second from the child.
for api in $APIS; do
    cmd="/bin/echo hello $api"
    case $api in
    system | popen) args=("$cmd") ;;
    execvp | execvpe | execlp | posix_spawnp) args=(sh -c "$cmd") ;;
    *) args=(/bin/sh -c "$cmd") ;;
    esac
    same "$api" "$TOOLS/run_$api" "${args[@]}"
    check_eq "$api: one exec record with exec.api $api" 1 \
        "$(q '[.[] | select(.operation == "exec" and .exec.api == $a
                            and .exec.argv[0] != "/bin/echo")] | length' \
             --arg a "$api")"
    rec='.[] | select(.operation == "exec" and .exec.api == $a
                      and .exec.argv[0] != "/bin/echo")'
    case $api in
    system | popen) want=$(jq -nc --arg c "$cmd" '["sh", "-c", $c]') ;;
    *) want=$(jq -nc --arg p "${args[0]}" --arg c "$cmd" '[$p, "-c", $c]') ;;
    esac
    check_eq "$api: exec.argv" "$want" \
        "$(q "$rec | .exec.argv | tojson" --arg a "$api")"
    check_eq "$api: exec.resolved is the shell" "$SH" \
        "$(q "$rec | .exec.resolved" --arg a "$api")"
    check_eq "$api: exec.sha256 is the shell's" \
        "$(sha256sum "$SH" | cut -d' ' -f1)" \
        "$(q "$rec | .exec.sha256" --arg a "$api")"
    check_eq "$api: the caller's exec record follows its start record" \
        "$(q '[.[] | select(.operation == "start") | ._hash] | tojson')" \
        "$(q "[$rec | .parent_ids[]] | tojson" --arg a "$api")"
    check_eq "$api: the child's exec has parent_ids [that record]" \
        "$(q "[$rec | ._hash] | tojson" --arg a "$api")" \
        "$(q '[.[] | select(.operation == "exec"
                           and .exec.argv[0] == "/bin/echo")
                  | .parent_ids[]] | tojson')"
    check "$api: kest verify passes" verify_ok
done

# The same calls from a library constructor that runs before ours:
# the hook must set itself up.
cat >"$T/ctor.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void run_shell(const char *api)
{
    char cmd[64];
    char buf[256];
    size_t n;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "/bin/echo ctor %s", api);
    if (strcmp(api, "system") == 0) {
        if (system(cmd) != 0) {
            puts("system failed");
        }
        return;
    }
    f = popen(cmd, "r");
    if (f == NULL) {
        puts("popen failed");
        return;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    pclose(f);
}

static void spawn(const char *api, char **argv)
{
    pid_t pid;
    int st;
    int rc;

    if (strcmp(api, "posix_spawn") == 0) {
        rc = posix_spawn(&pid, "/bin/echo", NULL, NULL, argv, environ);
    } else {
        rc = posix_spawnp(&pid, "echo", NULL, NULL, argv, environ);
    }
    if (rc != 0 || waitpid(pid, &st, 0) != pid) {
        puts("spawn failed");
    }
}

__attribute__((constructor)) static void early_exec(void)
{
    char api[32];
    const char *v = getenv("CTOR_API");
    char *argv[] = {"/bin/echo", "ctor", api, NULL};
    int fd;

    if (v == NULL || strlen(v) >= sizeof(api)) {
        return;
    }
    strcpy(api, v);
    unsetenv("CTOR_API");
    fflush(stdout);
    if (strcmp(api, "execve") == 0) {
        execve("/bin/echo", argv, environ);
    } else if (strcmp(api, "execv") == 0) {
        execv("/bin/echo", argv);
    } else if (strcmp(api, "execvp") == 0) {
        execvp("echo", argv);
    } else if (strcmp(api, "execvpe") == 0) {
        execvpe("echo", argv, environ);
    } else if (strcmp(api, "execl") == 0) {
        execl("/bin/echo", "/bin/echo", "ctor", api, (char *)NULL);
    } else if (strcmp(api, "execlp") == 0) {
        execlp("echo", "/bin/echo", "ctor", api, (char *)NULL);
    } else if (strcmp(api, "execle") == 0) {
        execle("/bin/echo", "/bin/echo", "ctor", api, (char *)NULL,
               environ);
    } else if (strcmp(api, "fexecve") == 0) {
        fd = open("/bin/echo", O_RDONLY | O_CLOEXEC);
        fexecve(fd, argv, environ);
    } else if (strcmp(api, "execveat") == 0) {
        fd = open("/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        execveat(fd, "echo", argv, environ, 0);
    } else if (strncmp(api, "posix_spawn", 11) == 0) {
        spawn(api, argv);
        return;
    } else {
        run_shell(api);
        return;
    }
    perror(api);
}
EOF
cc -shared -fPIC -o "$T/ctor.so" "$T/ctor.c"
for api in $APIS; do
    plain=$(CTOR_API=$api LD_PRELOAD="$T/ctor.so" /bin/true 2>&1)
    rm -f "$LOG"
    shimmed=$(CTOR_API=$api LD_PRELOAD="$SHIM $T/ctor.so" KEST_LOG="$LOG" \
              KEST_KEY="$KEY" /bin/true 2>&1)
    check_eq "constructor $api: output" "ctor $api|ctor $api" \
        "$plain|$shimmed"
    case $api in
    system | popen) want='["sh","-c","/bin/echo ctor '$api'"]' ;;
    *) want='["/bin/echo","ctor","'$api'"]' ;;
    esac
    check_eq "constructor $api: exec record with its argv" "$want" \
        "$(q '.[] | select(.operation == "exec" and .exec.api == $a)
              | .exec.argv | tojson' --arg a "$api")"
    check "constructor $api: kest verify passes" verify_ok
done

finish
