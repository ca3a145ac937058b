/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the parser of /etc/kest/kest.conf. It is file-local to the shim,
 * so this target compiles shim/sysconf.c into itself and feeds parse()
 * the text that shim_sysconf_read would have read. */
#include "tests/fuzz/fuzz.h"

#include "shim/sysconf.c"

#define FUZZ_CONF_MAX 64

void shim_say(const char *a, const char *b, const char *c)
{
    (void)a;
    (void)b;
    (void)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out[FUZZ_CONF_MAX];
    char *text;
    bool override = false;
    size_t n;
    size_t i;

    if (size > CONF_MAX) {
        return 0;
    }
    text = fuzz_cstr(data, size);
    n = parse(text, out, FUZZ_CONF_MAX, &override);
    FUZZ_ASSERT(n <= FUZZ_CONF_MAX);
    for (i = 0; i < n; i++) {
        /* NAME=VALUE with a name of [A-Z0-9_]+ */
        char *eq = strchr(out[i], '=');

        FUZZ_ASSERT(eq != NULL && eq > out[i]);
        FUZZ_ASSERT(name_ok(out[i], (size_t)(eq - out[i])));
        free(out[i]);
    }
    free(text);
    return 0;
}
