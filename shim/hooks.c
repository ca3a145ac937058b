/* SPDX-License-Identifier: Apache-2.0 */
/* The exported hooks: every exec-family entry point of glibc, plus
 * posix_spawn, system and popen, whose internal exec bypasses execve. */
#include "shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEST_HOOK __attribute__((visibility("default")))

extern char **environ;

static const char *search_path(void)
{
    const char *p = getenv("PATH");

    /* glibc's execvp default when PATH is unset */
    return p ? p : "/bin:/usr/bin";
}

static int run_execve(const struct kest_exec *ev, char *const *envp,
                      void *arg)
{
    (void)arg;
    if (shim_real.execve == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return shim_real.execve(ev->path, ev->argv, envp);
}

static int run_execvpe(const struct kest_exec *ev, char *const *envp,
                       void *arg)
{
    (void)arg;
    if (shim_real.execvpe == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return shim_real.execvpe(ev->path, ev->argv, envp);
}

static int run_fexecve(const struct kest_exec *ev, char *const *envp,
                       void *arg)
{
    (void)arg;
    if (shim_real.fexecve == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return shim_real.fexecve(ev->fd, ev->argv, envp);
}

static int run_execveat(const struct kest_exec *ev, char *const *envp,
                        void *arg)
{
    (void)arg;
    if (shim_real.execveat == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return shim_real.execveat(ev->fd, ev->path, ev->argv, envp,
                              ev->at_flags);
}

static int exec_with(const char *api, const char *path, char *const argv[],
                     char *const envp[], bool search)
{
    struct kest_exec ev = {
        .api = api, .path = path, .fd = AT_FDCWD, .argv = argv,
        .envp = envp, .search_path = search ? search_path() : NULL,
    };

    return shim_exec(&ev, search ? run_execvpe : run_execve, NULL);
}

KEST_HOOK int execve(const char *path, char *const argv[],
                     char *const envp[])
{
    return exec_with("execve", path, argv, envp, false);
}

KEST_HOOK int execv(const char *path, char *const argv[])
{
    return exec_with("execv", path, argv, environ, false);
}

KEST_HOOK int execvp(const char *file, char *const argv[])
{
    return exec_with("execvp", file, argv, environ, true);
}

KEST_HOOK int execvpe(const char *file, char *const argv[],
                      char *const envp[])
{
    return exec_with("execvpe", file, argv, envp, true);
}

/* The variadic forms count their arguments and rebuild argv on the
 * stack; varargs are never forwarded to another library's execl. */
#define COUNT_ARGS(first, ap, n)                                         \
    do {                                                                 \
        va_start(ap, first);                                             \
        for ((n) = 1; va_arg(ap, const char *) != NULL; (n)++) {         \
        }                                                                \
        va_end(ap);                                                      \
    } while (0)

KEST_HOOK int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    size_t n, i;

    COUNT_ARGS(arg, ap, n);
    {
        char *argv[n + 1];

        va_start(ap, arg);
        argv[0] = (char *)arg;
        for (i = 1; i <= n; i++) {
            argv[i] = va_arg(ap, char *);
        }
        va_end(ap);
        return exec_with("execl", path, argv, environ, false);
    }
}

KEST_HOOK int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    size_t n, i;

    COUNT_ARGS(arg, ap, n);
    {
        char *argv[n + 1];

        va_start(ap, arg);
        argv[0] = (char *)arg;
        for (i = 1; i <= n; i++) {
            argv[i] = va_arg(ap, char *);
        }
        va_end(ap);
        return exec_with("execlp", file, argv, environ, true);
    }
}

KEST_HOOK int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    size_t n, i;
    char *const *envp;

    COUNT_ARGS(arg, ap, n);
    {
        char *argv[n + 1];

        va_start(ap, arg);
        argv[0] = (char *)arg;
        for (i = 1; i <= n; i++) {
            argv[i] = va_arg(ap, char *);
        }
        envp = va_arg(ap, char *const *);
        va_end(ap);
        return exec_with("execle", path, argv, envp, false);
    }
}

KEST_HOOK int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct kest_exec ev = {
        .api = "fexecve", .path = NULL, .fd = fd, .argv = argv,
        .envp = envp,
    };

    return shim_exec(&ev, run_fexecve, NULL);
}

KEST_HOOK int execveat(int dirfd, const char *path, char *const argv[],
                       char *const envp[], int flags)
{
    struct kest_exec ev = {
        .api = "execveat", .path = path, .fd = dirfd, .at_flags = flags,
        .argv = argv, .envp = envp,
    };

    return shim_exec(&ev, run_execveat, NULL);
}

struct spawn_args {
    pid_t *pid;
    const posix_spawn_file_actions_t *fa;
    const posix_spawnattr_t *attr;
    bool search;
};

/* posix_spawn reports failure as a returned error number; shim_exec
 * speaks -1/errno, so translate both ways. */
static int run_spawn(const struct kest_exec *ev, char *const *envp,
                     void *arg)
{
    struct spawn_args *a = arg;
    int (*fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
              const posix_spawnattr_t *, char *const[], char *const[]) =
        a->search ? shim_real.posix_spawnp : shim_real.posix_spawn;
    int rc;

    if (fn == NULL) {
        errno = ENOSYS;
        return -1;
    }
    rc = fn(a->pid, ev->path, a->fa, a->attr, ev->argv, envp);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

static int spawn_with(const char *api, pid_t *pid, const char *path,
                      const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *attr, char *const argv[],
                      char *const envp[], bool search)
{
    struct spawn_args a = {pid, fa, attr, search};
    struct kest_exec ev = {
        .api = api, .path = path, .fd = AT_FDCWD, .argv = argv,
        .envp = envp, .search_path = search ? search_path() : NULL,
    };
    int saved = errno;
    int rc;

    rc = shim_exec(&ev, run_spawn, &a);
    if (rc == 0) {
        return 0;
    }
    rc = errno;
    errno = saved;
    return rc;
}

KEST_HOOK int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr,
                          char *const argv[], char *const envp[])
{
    return spawn_with("posix_spawn", pid, path, fa, attr, argv, envp,
                      false);
}

KEST_HOOK int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr,
                           char *const argv[], char *const envp[])
{
    return spawn_with("posix_spawnp", pid, file, fa, attr, argv, envp,
                      true);
}

/* system and popen run "/bin/sh -c CMD" with the process environment.
 * To hand the shell its lineage link without setenv, environ points at
 * the rebuilt array for the duration of the real call. */
struct shell_args {
    const char *cmd;
    const char *mode;
    int status;
    FILE *fp;
};

static int run_shell(const struct kest_exec *ev, char *const *envp,
                     void *arg)
{
    struct shell_args *a = arg;
    char **saved = environ;

    environ = (char **)envp;
    if (a->mode == NULL) {
        a->status = shim_real.system ? shim_real.system(a->cmd) : -1;
    } else {
        a->fp = shim_real.popen ? shim_real.popen(a->cmd, a->mode) : NULL;
    }
    if (environ == (char **)envp) {
        environ = saved;
    }
    (void)ev;
    return 0;
}

static int shell_with(const char *api, struct shell_args *a)
{
    char *argv[] = {"sh", "-c", (char *)a->cmd, NULL};
    struct kest_exec ev = {
        .api = api, .path = "/bin/sh", .fd = AT_FDCWD, .argv = argv,
        .envp = environ,
    };

    return shim_exec(&ev, run_shell, a);
}

KEST_HOOK int system(const char *cmd)
{
    struct shell_args a = {cmd, NULL, -1, NULL};

    if (cmd == NULL) {
        /* Only asks whether a shell exists: nothing runs. */
        return shim_real.system ? shim_real.system(NULL) : 0;
    }
    if (shell_with("system", &a) < 0) {
        return -1;
    }
    return a.status;
}

KEST_HOOK FILE *popen(const char *cmd, const char *mode)
{
    struct shell_args a = {cmd, mode, -1, NULL};

    if (shell_with("popen", &a) < 0) {
        return NULL;
    }
    return a.fp;
}
