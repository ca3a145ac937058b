/* SPDX-License-Identifier: Apache-2.0 */
/* System-wide settings: the root-owned /etc/kest/kest.conf and the kill
 * switch /etc/kest/disabled (docs/USAGE.md). */
#ifndef KEST_SHIM_SYSCONF_H
#define KEST_SHIM_SYSCONF_H

#include <stdbool.h>
#include <stddef.h>

#define SHIM_CONF_PATH "/etc/kest/kest.conf"
#define SHIM_KILL_PATH "/etc/kest/disabled"

/* True if the kill switch exists: the shim then does nothing at all. */
bool shim_sysconf_disabled(void);
/* Read NAME=VALUE lines of the config file into out (strdup'd strings,
 * at most max). The file counts only if it is a regular file owned by
 * root and writable by nobody else. *env_override is set by the line
 * KEST_ENV_OVERRIDE=1. Returns the number of entries. Constructor only. */
size_t shim_sysconf_read(char **out, size_t max, bool *env_override);

#endif
