/* SPDX-License-Identifier: Apache-2.0 */
/* The environment handed to a child: lineage link plus re-injected
 * settings. Built without allocation so it also serves vfork children;
 * the caller's envp is never modified (no setenv). */
#include "shim/shim.h"

#include <string.h>

size_t shim_env_count(char *const *envp)
{
    size_t n = 0;

    while (envp != NULL && envp[n] != NULL) {
        n++;
    }
    return n;
}

static const char *find(char *const *envp, const char *name, size_t n)
{
    size_t i;

    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') {
            return envp[i] + n + 1;
        }
    }
    return NULL;
}

/* Does the LD_PRELOAD list (space or colon separated) name our lib? */
static bool has_lib(const char *list)
{
    size_t n = strlen(shim.lib);
    const char *p = list;

    while (n > 0 && p != NULL && (p = strstr(p, shim.lib)) != NULL) {
        if ((p == list || p[-1] == ' ' || p[-1] == ':') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == ':')) {
            return true;
        }
        p += n;
    }
    return false;
}

static void add_name(char *restored, size_t cap, const char *s, size_t n)
{
    size_t len = strlen(restored);

    if (len + n + 2 > cap) {
        return;
    }
    if (len > 0) {
        restored[len++] = ',';
    }
    memcpy(restored + len, s, n);
    restored[len + n] = '\0';
}

/* Walk the sticky variables envp lacks; for each, call back with the
 * name and the NAME=VALUE string to add (LD_PRELOAD gets our library
 * put in front of whatever the program set). */
static size_t each_missing(char *const *envp, char *restored, size_t cap,
                           char **out, char *scratch)
{
    size_t i, k = 0;

    restored[0] = '\0';
    if (!shim.sticky) {
        return 0;
    }
    for (i = 0; shim.sticky_env[i] != NULL; i++) {
        const char *s = shim.sticky_env[i];
        size_t n = (size_t)(strchr(s, '=') - s);
        const char *have = find(envp, s, n);

        if (n == 10 && strncmp(s, "LD_PRELOAD", 10) == 0) {
            if (shim.lib[0] == '\0' || (have != NULL && has_lib(have))) {
                continue;
            }
            if (out != NULL) {
                size_t need = strlen(shim.lib) + (have ? strlen(have) : 0);

                if (need + 14 > SHIM_PATH_MAX) {
                    continue;
                }
                strcpy(scratch, "LD_PRELOAD=");
                strcat(scratch, shim.lib);
                if (have != NULL && have[0] != '\0') {
                    strcat(scratch, " ");
                    strcat(scratch, have);
                }
                out[k++] = scratch;
            }
            add_name(restored, cap, s, n);
        } else if (have == NULL) {
            if (out != NULL) {
                out[k++] = (char *)s;
            }
            add_name(restored, cap, s, n);
        }
    }
    return k;
}

void shim_env_restored(char *const *envp, char *restored, size_t cap)
{
    (void)each_missing(envp, restored, cap, NULL, NULL);
}

void shim_env_build(char *const *envp, const char *parent, char **out,
                    char *scratch, char *restored, size_t cap)
{
    char *link = scratch + SHIM_PATH_MAX;
    size_t i, k = 0;
    bool preload_fixed;
    char *extra[SHIM_STICKY_MAX + 1];
    size_t nextra;

    nextra = each_missing(envp, restored, cap, extra, scratch);
    preload_fixed = false;
    for (i = 0; i < nextra; i++) {
        preload_fixed = preload_fixed || extra[i] == scratch;
    }
    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        if (strncmp(envp[i], "KEST_PARENT=", 12) == 0) {
            continue;
        }
        if (preload_fixed && strncmp(envp[i], "LD_PRELOAD=", 11) == 0) {
            continue;
        }
        out[k++] = envp[i];
    }
    strcpy(link, "KEST_PARENT=");
    strncat(link, parent, 64);
    out[k++] = link;
    for (i = 0; i < nextra; i++) {
        out[k++] = extra[i];
    }
    out[k] = NULL;
}
