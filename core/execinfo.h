/* SPDX-License-Identifier: Apache-2.0 */
/* The operation block of an exec record: what is about to run. */
#ifndef KEST_EXECINFO_H
#define KEST_EXECINFO_H

#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/engine.h"

/* The canonical text of {"api","path","fd","resolved","sha256","argv",
 * "env","env_restored"} for e, issued by process pid, appended to out.
 * 0, -ENOMEM, or -EINVAL for an api name that is not UTF-8. */
__attribute__((warn_unused_result)) int
execinfo_body(const struct kest_exec *e, int32_t pid,
              const struct config *cfg, struct buf *out);
/* Hex SHA-256 of the file open at fd, cached by device, inode, size,
 * mtime and ctime. 0, or -errno (-EISDIR etc. for non-regular files). */
__attribute__((warn_unused_result)) int execinfo_hash_fd(int fd,
                                                        char out[65]);

#endif
