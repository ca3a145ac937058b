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
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <time.h>
#include <unistd.h>

#include "shim/symbols.h"
#include "shim/sysconf.h"

/* pthread_atfork is a wrapper in libc_nonshared.a whose object carries
 * no IBT/SHSTK property, so linking it would strip the CET marking from
 * libkest.so; register through the libc.so.6 entry point it calls. */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void),
                             void (*child)(void), void *dso);
extern void *__dso_handle __attribute__((weak));
extern char **environ;

struct shim_state shim;
struct shim_real shim_real;

static SHIM_TLS int shim_busy; /* re-entry guard */
static bool prep_threaded;     /* set by the atfork prepare handler */

static pthread_once_t core_once = PTHREAD_ONCE_INIT;
static struct {
    int (*setup)(int);
    int (*exec)(struct kest_proc *, const struct kest_exec *, char *);
    int (*failed)(struct kest_proc *, const char *, int, char *);
    const char *(*reason)(void);
    int (*closed)(void);
    int (*warm)(struct kest_proc *);
    int (*call)(struct kest_proc *, const char *, const char *,
                const char *, const char *, char *);
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
        if (k > 0) { /* memcpy from NULL is undefined, even for 0 bytes */
            memcpy(line + n, parts[i], k);
        }
        n += k;
    }
    line[n++] = '\n';
    if (write(2, line, n) < 0) {
        return;
    }
}

static const char *snap(const char *name);

static bool env_on(const char *name, bool dflt)
{
    const char *v = snap(name);

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

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The settings as they were when this image started. KEST_*,
 * LD_PRELOAD and SPIFFE_ENDPOINT_SOCKET are re-injected into children
 * that lost them; KEST_* plus
 * HOME and XDG_STATE_HOME (which place the default log) and the
 * identity sources' own variables (SPIFFE_ENDPOINT_SOCKET) are the whole
 * environment the recorder configures itself from, in process and in
 * kest-record alike, whatever the program did to environ since. */
/* Do a and b (NAME=VALUE strings) name the same variable? */
static bool same_name(const char *a, const char *b)
{
    size_t n = strcspn(a, "=");

    return strncmp(a, b, n) == 0 && b[n] == '=';
}

static bool in_list(char *const *list, size_t n, const char *e)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (same_name(list[i], e)) {
            return true;
        }
    }
    return false;
}

/* The AWS_* variables the aws provider reads (core/config.c); other
 * AWS_* settings are the program's business and are left alone. */
static bool is_aws_setting(const char *e)
{
    static const char *const names[] = {
        "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=", "AWS_REGION=", "AWS_DEFAULT_REGION=",
        "AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_STS=",
        "AWS_ENDPOINT_URL_KMS=", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE=",
        "AWS_ROLE_ARN=",
        "AWS_WEB_IDENTITY_TOKEN_FILE=", "AWS_ROLE_SESSION_NAME=",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN=",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=",
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (has_prefix(e, names[i])) {
            return true;
        }
    }
    return false;
}

/* Copies of the settings live here, not on the heap, so that taking
 * them does not start malloc in a process that may never use it (its
 * first use costs a getrandom, a brk and page faults). Settings past
 * the arena go to malloc. */
static char snap_arena[8192];
static size_t snap_used;

static char *snap_copy(const char *e)
{
    size_t n = strlen(e) + 1;
    char *c;

    if (n <= sizeof(snap_arena) - snap_used) {
        c = snap_arena + snap_used;
        snap_used += n;
        memcpy(c, e, n);
        return c;
    }
    return strdup(e);
}

/* Could e be one of the variables save_sticky keeps? One look at the
 * first byte spares the prefix tests for almost every variable. */
static bool maybe_setting(const char *e)
{
    switch (e[0]) {
    case 'A': case 'H': case 'K': case 'L': case 'S': case 'X':
        return true;
    default:
        return false;
    }
}

static void save_sticky(void)
{
    char *file[SHIM_STICKY_MAX];
    bool override = false;
    bool secure = getauxval(AT_SECURE) != 0;
    size_t nf = shim_sysconf_read(file, SHIM_STICKY_MAX, &override);
    size_t i, n = 0, h = 0;

    /* /etc/kest/kest.conf wins over the environment unless it allows
     * overrides; in secure-execution mode the environment is not read. */
    for (i = 0; i < nf; i++) {
        if (!secure && override && environ != NULL &&
            in_list(environ, shim_env_count(environ), file[i])) {
            continue;
        }
        shim.helper_env[h++] = file[i];
    }
    for (i = 0; !secure && environ != NULL && environ[i] != NULL; i++) {
        const char *e = environ[i];
        bool kest, aws, secret, sticky, config;
        char *copy;

        if (!maybe_setting(e)) {
            continue;
        }
        kest = has_prefix(e, "KEST_") && !has_prefix(e, "KEST_PARENT=");
        aws = e[0] == 'A' && is_aws_setting(e);
        /* Secrets configure kest-record but are never put back into a
         * child's environment that dropped them. */
        secret = aws && (has_prefix(e, "AWS_SECRET_ACCESS_KEY=") ||
                         has_prefix(e, "AWS_SESSION_TOKEN=") ||
                         has_prefix(e, "AWS_CONTAINER_AUTHORIZATION_TOKEN="));
        sticky = kest || (aws && !secret) || has_prefix(e, "LD_PRELOAD=") ||
                 has_prefix(e, "SPIFFE_ENDPOINT_SOCKET=");
        config = kest || aws || has_prefix(e, "HOME=") ||
                 has_prefix(e, "XDG_STATE_HOME=") ||
                 has_prefix(e, "SPIFFE_ENDPOINT_SOCKET=");
        if (config && in_list(shim.helper_env, h, e)) {
            config = false; /* the file's value stands */
        }
        sticky = sticky && n < SHIM_STICKY_MAX;
        config = config && h < SHIM_STICKY_MAX + 1;
        if (!sticky && !config) {
            continue;
        }
        copy = snap_copy(e);
        if (copy == NULL) {
            continue;
        }
        if (sticky) {
            shim.sticky_env[n++] = copy;
        }
        if (config) {
            shim.helper_env[h++] = copy;
        }
    }
    shim.sticky_env[n] = NULL;
    shim.helper_env[h] = NULL;
}

/* A setting from the start-up snapshot (file and environment merged). */
static const char *snap(const char *name)
{
    size_t n = strlen(name);
    size_t i;

    for (i = 0; shim.helper_env[i] != NULL; i++) {
        if (strncmp(shim.helper_env[i], name, n) == 0 &&
            shim.helper_env[i][n] == '=') {
            return shim.helper_env[i] + n + 1;
        }
    }
    return NULL;
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

/* Providers that sign with a per-process session key cannot share a
 * recorder (kest-record checks too; this spares it the start). */
static bool shareable(void)
{
    const char *p = snap("KEST_PROVIDER");

    if (p != NULL && *p != '\0') {
        return strcmp(p, "static") == 0 || strcmp(p, "spire") == 0;
    }
    /* Auto-detection's order (providers/registry.c). */
    return snap("SPIFFE_ENDPOINT_SOCKET") != NULL ||
           (snap("KEST_AWS_KMS_KEY_ID") == NULL &&
            snap("KEST_OIDC_TOKEN_FILE") == NULL);
}

/* kest-record may wait KEST_TIMEOUT_MS for the log lock before it
 * signs; give it that and a margin for start-up, identity and signing
 * (3000 is the engine's default timeout). */
static int helper_wait(void)
{
    const char *v = snap("KEST_TIMEOUT_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;

    if (ms < 1 || ms > 600000) {
        ms = 3000;
    }
    return (int)ms + 7000;
}

static int load_core(void);

void shim_note_recorded(bool shared)
{
    if (shim.warm_flag != NULL) {
        shim.warm_flag[0] = 1;
        if (!shared) {
            __atomic_fetch_add(&shim.warm_flag[1], 1, __ATOMIC_RELAXED);
        }
    }
}

static long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A child has recorded. Have this process's start record made by the
 * shared recorder (started if none is up, at most once a second: one
 * may be on its way), so that later children name it as their parent
 * and find the recorder warm. If three starts did not give one (an
 * identity that cannot be shared), load the engine here instead, for
 * later children to inherit. */
static void warm_up(void)
{
    if (shim.shared) {
        if (shim_server_warm(false) == 0) {
            shim.attached = true;
            return;
        }
        if (shim.spawns < 3) {
            if (shim.spawns == 0 || mono_ms() - shim.spawned_ms >= 1000) {
                shim.spawns++;
                shim.spawned_ms = mono_ms();
                shim.attached = shim_server_warm(true) == 0;
            }
            return;
        }
    }
    if (!shim.warmed) {
        shim.warmed = true;
        shim.attached = true;
        shim_busy++;
        if (load_core() == 0 && core.warm != NULL) {
            (void)core.warm(&shim.proc);
        }
        shim_busy--;
    }
}

/* Before fork, in the parent. A shell loop forks a child per command and
 * each child would load OpenSSL and the key anew. So: at the first fork
 * share a flag page with the children; once one of them has recorded
 * by itself, start a shared recorder for the later ones (or load the
 * engine and identity here, once, for them to inherit). Only
 * single-threaded parents (a threaded parent's children record through
 * kest-record anyway). */
static void atfork_prepare(void)
{
    int saved = errno;
    void *page;

    prep_threaded = !__libc_single_threaded;
    if (shim_busy || !shim.ready || prep_threaded || shim.fork_unsafe ||
        getpid() != shim.pid) {
        return;
    }
    if (shim.warm_flag == NULL) {
        page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        shim.warm_flag = page == MAP_FAILED ? NULL : page;
    } else if (shim.warm_flag[0] &&
               (!shim.attached || shim.warm_flag[1] != shim.seen_misses)) {
        /* A child recorded; or one found no shared recorder since. */
        shim.seen_misses = shim.warm_flag[1];
        warm_up();
    }
    errno = saved;
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
    if (shim_sysconf_disabled()) {
        /* Kill switch: every hook passes straight through. */
        shim_busy--;
        errno = saved;
        return;
    }
    save_sticky();
    shim.debug = snap("KEST_DEBUG") != NULL && *snap("KEST_DEBUG");
    shim.quiet = env_on("KEST_QUIET", false);
    shim.sticky = env_on("KEST_STICKY", true);
    shim.fail_closed = snap("KEST_FAIL") != NULL &&
                       strcmp(snap("KEST_FAIL"), "closed") == 0;
    shim.helper_wait_ms = helper_wait();
    shim.shared = env_on("KEST_SHARED_RECORDER", true) && shareable();
    find_paths();
    parse_parent();
    __register_atfork(atfork_prepare, NULL, atfork_child, &__dso_handle);
    shim.ready = true;
    shim_symbols_init();
    shim_busy--;
    shim_symbols_gaps();
    errno = saved;
}

/* Configure the engine from the start-up snapshot. getenv has no other
 * source, so environ points at the snapshot for this one call, once per
 * image (the system and popen hooks hand over the environment the same
 * way). */
static void setup_core(void)
{
    char **saved = environ;
    int rc;

    environ = shim.helper_env;
    rc = core.setup(shim.debug);
    if (environ == shim.helper_env) {
        environ = saved;
    }
    if (rc < 0) {
        shim_say("configuration: ", core.reason(), "");
    }
}

/* Once per image; threads that exec at the same time wait for it. */
static void load_core_once(void)
{
    void *h;

    h = dlopen(shim.core, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        shim_say("cannot load ", shim.core, "");
        return;
    }
    *(void **)&core.setup = dlsym(h, "kest_engine_setup");
    *(void **)&core.failed = dlsym(h, "kest_engine_exec_failed");
    *(void **)&core.reason = dlsym(h, "kest_engine_reason");
    *(void **)&core.closed = dlsym(h, "kest_engine_fail_closed");
    *(void **)&core.exec = dlsym(h, "kest_engine_exec");
    *(void **)&core.warm = dlsym(h, "kest_engine_warm");
    *(void **)&core.call = dlsym(h, "kest_engine_call");
    shim.core_pid = getpid();
    if (core.setup == NULL || core.failed == NULL || core.reason == NULL ||
        core.closed == NULL || core.exec == NULL) {
        core.exec = NULL;
        return;
    }
    setup_core();
}

static int load_core(void)
{
    pthread_once(&core_once, load_core_once);
    return core.exec ? 0 : -1;
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
        shim_note_recorded(false);
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
    /* The shared recorder signs, so the key never enters the host's
     * memory and fork children do not sign in a copy-on-write image.
     * A process that loaded the engine itself (the recorder could not
     * be reached) keeps using it. */
    if (shim.shared && shim.core_pid != getpid()) {
        bool done;
        int r = shim_server_exec(ev, run, arg, &done);

        if (done) {
            return r;
        }
    }
    return exec_in_process(ev, run, arg, saved);
}

/* A designated symbol was called (shim/symbols.c). Recorded in process
 * only: in a vfork child or the fork child of a threaded program the
 * call goes unrecorded, since kest-record speaks only for execs and the
 * function must run whatever happens here. */
void shim_record_call(const char *symbol, const char *object,
                      const char *mode, const char *method)
{
    int saved = errno;
    char hash[65];

    if (shim_busy || !shim.ready) {
        return;
    }
    if (unsafe_context()) {
        shim_say("call not recorded (vfork or threaded fork child): ",
                 symbol, "");
        return;
    }
    shim_busy++;
    if (load_core() == 0 && core.call != NULL) {
        if (core.call(&shim.proc, symbol, object, mode, method, hash) !=
            KEST_SIGNED) {
            warn_unattested(symbol, core.reason());
        }
    } else {
        warn_unattested(symbol, "libkest-core.so could not be loaded");
    }
    shim_busy--;
    errno = saved;
}

bool shim_call_ok(void)
{
    return !shim_busy && shim.ready && !unsafe_context();
}
