/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the protobuf reader and the X509SVIDResponse decoder built on
 * it (the bytes a Workload API server sends). */
#include "tests/fuzz/fuzz.h"

#include "providers/pb.h"
#include "providers/wlapi.h"

static void walk(const uint8_t *data, size_t size, int depth)
{
    struct pb_reader r;
    struct pb_field f;

    pb_reader_init(&r, data, size);
    while (pb_next(&r, &f) > 0) {
        if (f.wire == 2) {
            /* Every length-delimited field lies inside the message. */
            FUZZ_ASSERT(f.data >= data && f.len <= size &&
                        f.data + f.len <= data + size);
            if (depth < 3) {
                walk(f.data, f.len, depth + 1);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wlapi_x509 x;

    walk(data, size, 0);
    if (wlapi_parse_x509(data, size, NULL, &x) == 0) {
        FUZZ_ASSERT(x.spiffe_id != NULL && x.certs.len > 0);
        wlapi_x509_cleanup(&x);
    }
    if (wlapi_parse_x509(data, size, "spiffe://example.org/fuzz",
                         &x) == 0) {
        wlapi_x509_cleanup(&x);
    }
    return 0;
}
