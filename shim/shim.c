/* SPDX-License-Identifier: Apache-2.0 */
/* libkest.so: set-up, and the in-process path from hook to record.
 * Heavy code (OpenSSL, jansson) lives in libkest-core.so, loaded on the
 * first record of a process; a process that records nothing pays for
 * a few dlsym calls and getenv. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <unistd.h>

struct shim_state shim;
struct shim_real shim_real;

static __thread int shim_busy; /* re-entry guard */
static bool prep_threaded;     /* set by the atfork prepare handler */

static struct {
    bool tried;
    int (*setup)(int);
    int (*exec)(struct kest_proc *, const struct kest_exec *, char *);
    int (*failed)(struct kest_proc *, const char *, int, char *);
    const char *(*reason)(void);
    int (*closed)(void);
} core;

void shim_say(const char *a, const char *b, const char *c)
{
    char line[1024];
    size_t n = 0;
    const char *parts[4] = {"kest: ", a, b, c};
    size_t i;

    if (!shim.debug) {
        return;
    }
    for (i = 0; i < 4; i++) {
        size_t k = parts[i] ? strlen(parts[i]) : 0;

        if (k > sizeof(line) - 2 - n) {
            k = sizeof(line) - 2 - n;
        }
        memcpy(line + n, parts[i], k);
        n += k;
    }
    line[n++] = '\n';
    if (write(2, line, n) < 0) {
        return;
    }
}

static bool env_on(const char *name, bool dflt)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        return dflt;
    }
    return strcmp(v, "0") != 0 && strcmp(v, "no") != 0 &&
           strcmp(v, "false") != 0 && strcmp(v, "off") != 0;
}

static void find_paths(void)
{
    Dl_info info;
    char *slash;

    if (dladdr((void *)&shim_init, &info) == 0 || info.dli_fname == NULL ||
        strlen(info.dli_fname) >= SHIM_PATH_MAX - 32) {
        return;
    }
    strcpy(shim.lib, info.dli_fname);
    strcpy(shim.core, info.dli_fname);
    slash = strrchr(shim.core, '/');
    if (slash == NULL) {
        shim.core[0] = '\0';
        return;
    }
    strcpy(slash + 1, "kest/libkest-core.so");
    strcpy(shim.helper, shim.core);
    strcpy(strrchr(shim.helper, '/') + 1, "kest-record");
}

/* KEST_* and LD_PRELOAD as they were when this image started. */
static void save_sticky(void)
{
    extern char **environ;
    size_t i, n = 0, h = 0;

    for (i = 0; environ != NULL && environ[i] != NULL; i++) {
        const char *e = environ[i];
        bool kest = strncmp(e, "KEST_", 5) == 0 &&
                    strncmp(e, "KEST_PARENT=", 12) != 0;

        if (n < SHIM_STICKY_MAX &&
            (kest || strncmp(e, "LD_PRELOAD=", 11) == 0)) {
            shim.sticky_env[n] = strdup(e);
            if (shim.sticky_env[n] != NULL) {
                n++;
            }
        }
        if (kest && h < SHIM_STICKY_MAX) {
            shim.helper_env[h++] = shim.sticky_env[n - 1];
        }
    }
    shim.sticky_env[n] = NULL;
    shim.helper_env[h] = NULL;
}

static void parse_parent(void)
{
    const char *p = getenv("KEST_PARENT");
    size_t i;

    strcpy(shim.proc.origin, "0");
    shim.proc.pid = (int32_t)shim.pid;
    if (p == NULL || strlen(p) != 64) {
        return;
    }
    for (i = 0; i < 64; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return;
        }
    }
    memcpy(shim.proc.origin, p, 65);
}

static void atfork_prepare(void)
{
    prep_threaded = !__libc_single_threaded;
}

/* In the child of fork: only the forking thread exists. Start a new
 * process instance; origin (the lineage parent) stays. */
static void atfork_child(void)
{
    shim.pid = getpid();
    shim.fork_unsafe = shim.fork_unsafe || prep_threaded;
    shim.proc.pid = (int32_t)shim.pid;
    shim.proc.instance[0] = '\0';
    shim.proc.seq = 0;
    shim.warned = false;
}

#define REAL(name) \
    (*(void **)&shim_real.name = dlsym(RTLD_NEXT, #name))

__attribute__((constructor)) void shim_init(void)
{
    static bool started;
    int saved = errno;

    if (started) {
        return;
    }
    started = true;
    shim_busy++;
    REAL(execve);
    REAL(execvpe);
    REAL(fexecve);
    REAL(execveat);
    REAL(posix_spawn);
    REAL(posix_spawnp);
    REAL(system);
    REAL(popen);
    shim.pid = getpid();
    shim.debug = getenv("KEST_DEBUG") != NULL && *getenv("KEST_DEBUG");
    shim.quiet = env_on("KEST_QUIET", false);
    shim.sticky = env_on("KEST_STICKY", true);
    shim.fail_closed = getenv("KEST_FAIL") != NULL &&
                       strcmp(getenv("KEST_FAIL"), "closed") == 0;
    find_paths();
    save_sticky();
    parse_parent();
    pthread_atfork(atfork_prepare, NULL, atfork_child);
    shim.ready = true;
    shim_busy--;
    errno = saved;
}

static int load_core(void)
{
    void *h;

    if (core.tried) {
        return core.exec ? 0 : -1;
    }
    core.tried = true;
    h = dlopen(shim.core, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        shim_say("cannot load ", shim.core, "");
        return -1;
    }
    *(void **)&core.setup = dlsym(h, "kest_engine_setup");
    *(void **)&core.failed = dlsym(h, "kest_engine_exec_failed");
    *(void **)&core.reason = dlsym(h, "kest_engine_reason");
    *(void **)&core.closed = dlsym(h, "kest_engine_fail_closed");
    *(void **)&core.exec = dlsym(h, "kest_engine_exec");
    if (core.setup == NULL || core.failed == NULL || core.reason == NULL ||
        core.closed == NULL || core.exec == NULL) {
        core.exec = NULL;
        return -1;
    }
    if (core.setup(shim.debug) < 0) {
        shim_say("configuration: ", core.reason(), "");
    }
    return 0;
}

/* Once per process, unless KEST_QUIET: the exec goes ahead unattested. */
static void warn_unattested(const char *what, const char *why)
{
    char line[600];
    size_t n;

    if (shim.quiet || shim.warned) {
        return;
    }
    shim.warned = true;
    n = (size_t)snprintf(line, sizeof(line),
                         "kest: warning: %s not attested: %s\n", what, why);
    if (n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    if (write(2, line, n) < 0) {
        return;
    }
}

static int refuse(const struct kest_exec *ev, const char *why)
{
    shim_say("refused (KEST_FAIL=closed): ", ev->api, why);
    errno = EACCES;
    return -1;
}

static int exec_in_process(const struct kest_exec *ev, shim_run_fn run,
                           void *arg, int saved)
{
    char restored[256];
    char hash[65];
    char *scratch = NULL;
    char **envp = NULL;
    const char *why = "libkest-core.so could not be loaded";
    struct kest_exec rec = *ev;
    int rc = -1;
    int r, err;

    shim_busy++;
    if (load_core() == 0) {
        shim_env_restored(ev->envp, restored, sizeof(restored));
        rec.restored = restored[0] ? restored : NULL;
        rc = core.exec(&shim.proc, &rec, hash);
        why = core.reason();
    }
    if (rc != KEST_SIGNED) {
        if (shim.fail_closed || (core.closed && core.closed())) {
            shim_busy--;
            return refuse(ev, why);
        }
        warn_unattested(ev->api, why);
    }
    envp = malloc((shim_env_count(ev->envp) + SHIM_STICKY_MAX + 2) *
                  sizeof(char *));
    scratch = malloc(SHIM_PATH_MAX * 2);
    if (envp == NULL || scratch == NULL) {
        free(envp);
        free(scratch);
        shim_busy--;
        errno = saved;
        return run(ev, ev->envp, arg);
    }
    shim_env_build(ev->envp, rc >= 0 ? hash : shim.proc.origin, envp,
                   scratch, restored, sizeof(restored));
    shim_busy--;
    errno = saved;
    r = run(ev, envp, arg);
    err = errno;
    if (r == -1 && rc >= 0) {
        char h2[65];

        shim_busy++;
        (void)core.failed(&shim.proc, hash, err, h2);
        shim_busy--;
    }
    free(envp);
    free(scratch);
    errno = err;
    return r;
}

/* Where may this hook do real work? Not in a vfork child (our memory is
 * the parent's: its pid differs from the one recorded here) and not in
 * the child of a multithreaded fork (locks other threads held, such as
 * OpenSSL's, stay locked). Both go through the helper process. */
static bool unsafe_context(void)
{
    return getpid() != shim.pid || shim.fork_unsafe;
}

int shim_exec(const struct kest_exec *ev, shim_run_fn run, void *arg)
{
    int saved = errno;

    if (!shim.ready) {
        shim_init();
    }
    if (shim_busy || !shim.ready) {
        return run(ev, ev->envp, arg);
    }
    if (unsafe_context()) {
        return shim_helper_exec(ev, run, arg);
    }
    return exec_in_process(ev, run, arg, saved);
}
