/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the strict base64url and standard base64 decoders: no crash, and
 * whatever decodes must encode back to exactly the input (one encoding
 * per byte string). */
#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "core/b64.h"

static void round_trip(const uint8_t *data, size_t size, int url)
{
    struct buf dec, enc;
    int rc;

    buf_init(&dec);
    buf_init(&enc);
    rc = url ? b64url_decode(&dec, (const char *)data, size)
             : b64std_decode(&dec, (const char *)data, size);
    FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        rc = url ? b64url_encode(&enc, dec.data, dec.len)
                 : b64std_encode(&enc, dec.data, dec.len);
        FUZZ_ASSERT(rc == 0);
        FUZZ_ASSERT(enc.len == size);
        FUZZ_ASSERT(size == 0 || memcmp(enc.data, data, size) == 0);
    } else {
        FUZZ_ASSERT(dec.len == 0);
    }
    buf_cleanup(&enc);
    buf_cleanup(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    round_trip(data, size, 1);
    round_trip(data, size, 0);
    return 0;
}
