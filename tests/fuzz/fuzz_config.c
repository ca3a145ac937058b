/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz config_from_env: the input's lines become the values of the
 * variables it reads, in the order of the table below (a missing line
 * leaves the variable unset). */
#include "tests/fuzz/fuzz.h"

#include "core/config.h"

static const char *const names[] = {
    "KEST_FAIL",          "KEST_TIMEOUT_MS",   "KEST_LOG_MODE",
    "KEST_HASH",          "KEST_QUIET",        "KEST_OIDC_EMBED",
    "KEST_LOG",           "KEST_KEY",          "KEST_PRINCIPAL",
    "KEST_PROVIDER",      "KEST_ENV_ALLOW",    "KEST_SPIFFE_SOCKET",
    "SPIFFE_ENDPOINT_SOCKET", "KEST_SPIFFE_ID", "KEST_SPIFFE_JWT_AUDIENCE",
    "KEST_OIDC_TOKEN_FILE", "KEST_OIDC_JWKS",  "KEST_OIDC_ISSUER",
    "KEST_OIDC_AUDIENCE", "XDG_STATE_HOME",    "HOME",
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *p = text;
    struct config c;
    size_t i;

    for (i = 0; i < NNAMES; i++) {
        char *nl = p ? strchr(p, '\n') : NULL;

        if (nl != NULL) {
            *nl = '\0';
        }
        if (p != NULL) {
            setenv(names[i], p, 1);
        } else {
            unsetenv(names[i]);
        }
        p = nl ? nl + 1 : NULL;
    }
    if (config_from_env(&c) == 0) {
        FUZZ_ASSERT(c.log_path != NULL);
        FUZZ_ASSERT(c.timeout_ms >= 0);
        config_cleanup(&c);
    }
    free(text);
    return 0;
}
