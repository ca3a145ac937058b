/* SPDX-License-Identifier: Apache-2.0 */
/* The process block of a record: who is acting. */
#ifndef KEST_PROCINFO_H
#define KEST_PROCINFO_H

#include <jansson.h>
#include <stdint.h>

#include "core/jw.h"

/* {"pid","ppid","uid","gid","euid","egid","exe","cwd","instance"} for
 * pid (this process, or through /proc for another), as member name of
 * parent. Links that cannot be read are null; the ids are left out
 * when another process's status cannot be read (it is gone). 0, or
 * -ENOMEM (errors of the writer stick in parent's struct jw). */
__attribute__((warn_unused_result)) int
procinfo_write(struct jw_obj *parent, const char *name, int32_t pid,
               const char *instance);
/* argv of pid from /proc/PID/cmdline, as lossless byte strings. */
json_t *procinfo_cmdline(int32_t pid);
#endif
