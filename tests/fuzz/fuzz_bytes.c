/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz bytes_from_json, the decoder of lossless byte strings in records
 * (argv, paths), and check its result survives bytes_to_json. */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "core/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out, back;
    json_t *v;
    json_t *j;

    v = json_loadb((const char *)data, size,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (v == NULL) {
        return 0;
    }
    buf_init(&out);
    buf_init(&back);
    if (bytes_from_json(v, &out) == 0) {
        /* Whatever was decoded is encoded again and decodes the same. */
        j = bytes_to_json((const char *)out.data, out.len);
        FUZZ_ASSERT(j != NULL);
        FUZZ_ASSERT(bytes_from_json(j, &back) == 0);
        FUZZ_ASSERT(back.len == out.len);
        FUZZ_ASSERT(out.len == 0 ||
                    memcmp(back.data, out.data, out.len) == 0);
        json_decref(j);
    }
    buf_cleanup(&back);
    buf_cleanup(&out);
    json_decref(v);
    return 0;
}
