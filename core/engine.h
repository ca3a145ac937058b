/* SPDX-License-Identifier: Apache-2.0 */
/* The recorder behind the shim, the kest-record helper and `kest run`:
 * turns one event into a signed record appended to the log. This is the
 * only interface libkest-core.so exports (shim/ reaches it by dlsym). */
#ifndef KEST_ENGINE_H
#define KEST_ENGINE_H

#include <stdint.h>

#define KEST_API __attribute__((visibility("default")))

/* Per process image; owned by the caller. A fork child starts a new
 * instance (fresh id, seq 0) but keeps origin. */
struct kest_proc {
    int32_t pid;       /* the process the records describe */
    uint64_t seq;      /* records this instance has appended */
    char instance[33]; /* 128-bit random id, hex; "" = not yet made */
    char origin[65];   /* hash of the record that made us, "0" = root */
};

/* One exec-family call. */
struct kest_exec {
    const char *api;         /* execve, execvp, posix_spawn, system ... */
    const char *path;        /* as given; NULL for fexecve */
    int fd;                  /* fexecve fd or execveat dirfd; else -100 */
    int at_flags;            /* execveat flags */
    const char *search_path; /* PATH for a PATH search, else NULL */
    char *const *argv;
    char *const *envp;
    const char *restored;    /* comma list of re-injected names, or NULL */
};

/* Outcomes: a signed record was appended; a gap record was appended
 * instead (identity, signing or policy failed); or nothing could be. */
enum kest_outcome {
    KEST_SIGNED = 0,
    KEST_GAP = 1,
};

/* Read the configuration (KEST_* variables) once; debug output goes to
 * fd 2 behind "kest[pid]: " when debug is set. 0 or -errno. */
KEST_API int kest_engine_setup(int debug);
/* Record an exec before it happens. Returns KEST_SIGNED or KEST_GAP with
 * the record's hash in hash, or -errno when nothing was written. */
KEST_API int kest_engine_exec(struct kest_proc *p, const struct kest_exec *e,
                              char hash[65]);
/* The exec recorded as exec_hash returned with errno err. */
KEST_API int kest_engine_exec_failed(struct kest_proc *p,
                                     const char *exec_hash, int err,
                                     char hash[65]);
/* Get ready to record cheaply in fork children: open the identity and,
 * for a root process, write its start record now, so that children
 * inherit both. Called by the shim in a parent whose children record. */
KEST_API int kest_engine_warm(struct kest_proc *p);
/* The caller is a kest program (kest-record), not a host program:
 * OpenSSL's secure heap may be started for the keys. Before setup. */
KEST_API void kest_engine_own_process(void);
/* Open the identity; 1 if one recorder process may sign for many
 * processes with it (no per-process session key), 0 if not, or -errno
 * (the reason is set). */
KEST_API int kest_engine_shareable(void);
/* Close the log until the next record (a long-lived recorder at rest
 * keeps no file system busy). */
KEST_API void kest_engine_idle(void);
/* Record a call of a designated entry symbol (operation "call"):
 * symbol, the object defining it (path, may be ""), mode ("first" or
 * "every") and hook method ("got" or "inline"). Same outcomes as
 * kest_engine_exec. */
KEST_API int kest_engine_call(struct kest_proc *p, const char *symbol,
                              const char *object, const char *mode,
                              const char *method, char hash[65]);
/* Why the last call of this thread did not produce a signed record. */
KEST_API const char *kest_engine_reason(void);
/* 1 if KEST_FAIL=closed is in force. */
KEST_API int kest_engine_fail_closed(void);
/* Fill p for the calling process as a root or, with KEST_PARENT set, as
 * a child of that record. */
KEST_API void kest_engine_proc_init(struct kest_proc *p);

#endif
