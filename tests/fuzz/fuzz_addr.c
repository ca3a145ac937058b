/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the Workload API endpoint address parser
 * (SPIFFE_ENDPOINT_SOCKET / KEST_SPIFFE_SOCKET). */
#include "tests/fuzz/fuzz.h"

#include "providers/wlapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wlapi_addr a;
    char *s = fuzz_cstr(data, size);

    if (wlapi_addr_parse(s, &a) == 0) {
        /* Both fields stay terminated and a base URL is always set. */
        FUZZ_ASSERT(memchr(a.unix_path, '\0', sizeof(a.unix_path)));
        FUZZ_ASSERT(memchr(a.base_url, '\0', sizeof(a.base_url)));
        FUZZ_ASSERT(a.base_url[0] != '\0');
    }
    free(s);
    return 0;
}
