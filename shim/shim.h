/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interface of libkest.so. Nothing here is exported. */
#ifndef KEST_SHIM_H
#define KEST_SHIM_H

#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "core/engine.h"

#define SHIM_STICKY_MAX 32
/* Thread-locals are reached without __tls_get_addr, which may allocate
 * (a vfork child must not) when the host has dlopen'd modules with TLS
 * since the thread started. */
#define SHIM_TLS __thread __attribute__((tls_model("initial-exec")))
#define SHIM_PATH_MAX 4096

/* Runs the real call with the environment to pass. Returns what the
 * hook returns on failure (-1 and errno for the exec family; posix_spawn
 * wrappers put the error number in errno and return -1 too). */
typedef int (*shim_run_fn)(const struct kest_exec *ev, char *const *envp,
                           void *arg);

struct shim_real {
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    int (*posix_spawn)(pid_t *, const char *,
                       const posix_spawn_file_actions_t *,
                       const posix_spawnattr_t *, char *const[],
                       char *const[]);
    int (*posix_spawnp)(pid_t *, const char *,
                        const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[],
                        char *const[]);
    int (*system)(const char *);
    FILE *(*popen)(const char *, const char *);
};

/* Process-wide state, written only by the constructor, the fork child
 * handler and (under the engine's lock) the in-process recorder. */
struct shim_state {
    bool ready;
    bool debug;
    bool quiet;
    bool fail_closed;
    bool sticky;
    bool warned;
    pid_t pid;          /* whose memory this is; vfork children differ */
    volatile int *warm_flag; /* shared with fork children: [0] one has
                              * recorded, [1] records made without a
                              * shared recorder */
    bool warmed;        /* the engine was loaded ahead of a fork */
    bool fork_unsafe;   /* fork child of a multithreaded parent */
    bool shared;        /* a shared recorder may be used (see helper.c) */
    pid_t core_pid;     /* the process that loaded libkest-core.so */
    int spawns;         /* shared recorders this process started */
    long spawned_ms;    /* when the last one was started */
    int seen_misses;    /* warm page's miss count at the last look */
    bool attached;      /* children can be served: start record made */
    int helper_wait_ms; /* how long kest-record may take to answer */
    char lib[SHIM_PATH_MAX];    /* this libkest.so */
    char core[SHIM_PATH_MAX];   /* libkest-core.so */
    char helper[SHIM_PATH_MAX]; /* kest-record */
    char *sticky_env[SHIM_STICKY_MAX + 1]; /* NAME=VALUE to re-inject */
    char *helper_env[SHIM_STICKY_MAX + 2]; /* settings at start-up */
    struct kest_proc proc;
};

extern struct shim_state shim;
extern struct shim_real shim_real;

/* Record ev, run it, record a failure. The one path every hook takes. */
int shim_exec(const struct kest_exec *ev, shim_run_fn run, void *arg);
/* Tell the forking parent that a child recorded, and whether a shared
 * recorder took it (see atfork_prepare). */
void shim_note_recorded(bool shared);
/* Make sure the constructor has run (hooks called before it). */
void shim_init(void);
/* Debug line to fd 2 when KEST_DEBUG is set; fixed text only. */
void shim_say(const char *a, const char *b, const char *c);

/* The new environment for a child: envp without KEST_PARENT, then
 * KEST_PARENT=parent, then any sticky variable envp lacks. out has room
 * for envc + SHIM_STICKY_MAX + 2 pointers; restored (cap bytes) gets the
 * comma list of re-injected names. Strings for LD_PRELOAD and
 * KEST_PARENT go to scratch (SHIM_PATH_MAX * 2 bytes). No allocation. */
void shim_env_build(char *const *envp, const char *parent, char **out,
                    char *scratch, char *restored, size_t cap);
size_t shim_env_count(char *const *envp);
/* Names that would be re-injected for envp, without building it. */
void shim_env_restored(char *const *envp, char *restored, size_t cap);

/* Record through the kest-record helper process: for hooks running in a
 * vfork child or in a fork child of a threaded program, where signing
 * in-process could deadlock or corrupt the parent. No allocation. */
int shim_helper_exec(const struct kest_exec *ev, shim_run_fn run,
                     void *arg);
/* Record through the shared recorder (kest-record serving many
 * processes of one configuration; started if none answers), run ev,
 * record a failure. *done is false, and nothing was run, if no record
 * could be written that way (the caller records in process). */
int shim_server_exec(const struct kest_exec *ev, shim_run_fn run,
                     void *arg, bool *done);
/* Make this process ready for its children to use the shared recorder:
 * with start, start one through kest-record first; without, only if
 * one is up. A root process gets its start record from it. 0 when the
 * recorder took the request, else -errno. */
int shim_server_warm(bool start);
/* The shared recorder's abstract name into out, or NULL if none may be
 * used; its socket address into a (0 if none). No allocation. */
const char *shim_server_name(char out[64]);
socklen_t shim_server_addr(struct sockaddr_un *a);
#endif
