/* SPDX-License-Identifier: Apache-2.0 */
/* The append-only attestation log: JSON Lines, one record a line, each
 * record naming the hash of the one before (log_prev). Appends from many
 * processes are serialised by an advisory lock held while the previous
 * hash is read and the new record is signed. */
#ifndef KEST_LOG_H
#define KEST_LOG_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/record.h"

struct log {
    int fd;
    pid_t pid;        /* process that opened fd; a fork child reopens */
    dev_t dev;
    ino_t ino;
    off_t end;        /* file size after our last append */
    char last[RECORD_HASH_HEX]; /* hash of the record ending at end */
    char *path;
    mode_t mode;
    int timeout_ms;
    /* No host program's code runs in this process (kest-record, kest):
     * nothing else can close or replace fd, so it is not checked
     * before each append. */
    bool own_fds;
};

/* Builds a record line for prev (the previous record's hash, "0" for the
 * first) into line, and its hash. Called with the log locked. */
typedef int (*log_seal_fn)(void *ctx, const char *prev, struct buf *line,
                           char hash[RECORD_HASH_HEX]);

/* Set up lg for path; nothing is opened yet. */
KEST_WUR int log_init(struct log *lg, const char *path, mode_t mode,
                      int timeout_ms);
/* Close the file; the next append opens it again. */
void log_close(struct log *lg);
/* Close the file and free what log_init took. */
void log_cleanup(struct log *lg);
/* Lock, find the previous hash, seal, append one whole line, unlock.
 * The new record's hash goes to hash. -ETIMEDOUT if the lock is not had
 * within the timeout; -ENOSPC etc. from the write, in which case the
 * partial line is cut off again. */
KEST_WUR int log_append(struct log *lg, log_seal_fn seal, void *ctx,
                        char hash[RECORD_HASH_HEX]);
/* Forget the descriptor without closing it: after fork, or when the
 * number was taken over by the host program. */
void log_forget(struct log *lg);

#endif
