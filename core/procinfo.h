/* SPDX-License-Identifier: Apache-2.0 */
/* The process block of a record: who is acting. */
#ifndef KEST_PROCINFO_H
#define KEST_PROCINFO_H

#include <jansson.h>
#include <stdint.h>

/* {"pid","ppid","uid","gid","euid","egid","exe","cwd","instance"} for
 * pid (this process, or through /proc for another). NULL if out of
 * memory; fields that cannot be read are null. */
json_t *procinfo_json(int32_t pid, const char *instance);
/* argv of pid from /proc/PID/cmdline, as lossless byte strings. */
json_t *procinfo_cmdline(int32_t pid);
/* Read the link /proc/PID/NAME (exe, cwd, fd/N) as a JSON byte string,
 * or JSON null. */
json_t *procinfo_link(int32_t pid, const char *name);

#endif
