/* SPDX-License-Identifier: Apache-2.0 */
/* /etc/kest/kest.conf and the kill switch. */
#include "shim/sysconf.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/shim.h"

#define CONF_MAX 65536

bool shim_sysconf_disabled(void)
{
    struct stat st;

    return stat(SHIM_KILL_PATH, &st) == 0;
}

static bool name_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return false;
        }
    }
    return n > 0;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
        *--e = '\0';
    }
    return s;
}

static size_t parse(char *text, char **out, size_t max, bool *override)
{
    char *save = NULL;
    char *line;
    size_t n = 0;

    for (line = strtok_r(text, "\n", &save); line != NULL && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char *l = trim(line);
        char *eq = strchr(l, '=');
        char *name_end;

        if (*l == '#' || *l == '\0' || eq == NULL) {
            continue;
        }
        name_end = eq;
        while (name_end > l && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
            name_end--;
        }
        if (!name_ok(l, (size_t)(name_end - l))) {
            shim_say("ignoring malformed line in ", SHIM_CONF_PATH, "");
            continue;
        }
        *name_end = '\0';
        if (strcmp(l, "KEST_ENV_OVERRIDE") == 0) {
            *override = strcmp(trim(eq + 1), "1") == 0;
            continue;
        }
        {
            const char *v = trim(eq + 1);
            size_t len = strlen(l) + strlen(v) + 2;
            char *e = malloc(len);

            if (e == NULL) {
                break;
            }
            strcpy(e, l);
            strcat(e, "=");
            strcat(e, v);
            out[n++] = e;
        }
    }
    return n;
}

size_t shim_sysconf_read(char **out, size_t max, bool *env_override)
{
    struct stat st;
    char *text;
    ssize_t got;
    size_t n = 0;
    int fd;

    *env_override = false;
    fd = open(SHIM_CONF_PATH, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
              O_NONBLOCK);
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
        (st.st_mode & 022) != 0 || st.st_size > CONF_MAX) {
        shim_say("ignoring ", SHIM_CONF_PATH,
                 ": not a root-owned file writable only by root");
        close(fd);
        return 0;
    }
    text = malloc((size_t)st.st_size + 1);
    if (text != NULL) {
        got = read(fd, text, (size_t)st.st_size);
        if (got >= 0) {
            text[got] = '\0';
            n = parse(text, out, max, env_override);
        }
        free(text);
    }
    close(fd);
    return n;
}
