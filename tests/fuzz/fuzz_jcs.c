/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the RFC 8785 canonicalizer: parse any JSON text, canonicalize it,
 * and check that canonicalizing the canonical form again changes
 * nothing; and that jcs_check calls a text canonical exactly when
 * parsing and canonicalizing it gives it back, jcs_load reading it as
 * jansson does. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <jansson.h>

#include "core/jcs.h"

#define LOAD_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* What the checker says about the input, which jansson read as v:
 * canonical if and only if it encodes to itself. */
static void check_agrees(const uint8_t *data, size_t size, int checked,
                         const json_t *v, const struct buf *once, int rc)
{
    json_t *loaded = NULL;

    if (checked == -E2BIG) {
        return;
    }
    FUZZ_ASSERT((checked == 0) ==
                (rc == 0 && once->len == size &&
                 memcmp(once->data, data, size) == 0));
    if (checked == 0) {
        FUZZ_ASSERT(jcs_load((const char *)data, size, &loaded) == 0);
        FUZZ_ASSERT(json_equal(loaded, v));
        json_decref(loaded);
    }
    if (rc == 0) {
        int again = jcs_check((const char *)once->data, once->len);

        FUZZ_ASSERT(again == 0 || again == -E2BIG);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf once, twice;
    json_error_t jerr;
    json_t *v;
    json_t *again;
    int checked;
    int rc;

    /* Any input: the checker must not read outside it. */
    checked = jcs_check((const char *)data, size);
    v = json_loadb((const char *)data, size, LOAD_FLAGS, NULL);
    if (v == NULL) {
        return 0;
    }
    buf_init(&once);
    buf_init(&twice);
    rc = jcs_encode(&once, v);
    check_agrees(data, size, checked, v, &once, rc);
    if (rc == 0) {
        again = json_loadb((const char *)once.data, once.len, LOAD_FLAGS,
                           &jerr);
        if (again == NULL) {
            /* ECMAScript writes 1e20 as 100000000000000000000, which
             * jansson reads as an integer and refuses as too big for
             * json_int_t: a parser limit, not a canonicalizer bug. */
            FUZZ_ASSERT(strstr(jerr.text, "too big") != NULL);
            goto out;
        }
        FUZZ_ASSERT(jcs_encode(&twice, again) == 0);
        FUZZ_ASSERT(twice.len == once.len);
        FUZZ_ASSERT(memcmp(twice.data, once.data, once.len) == 0);
        json_decref(again);
    }
out:
    buf_cleanup(&twice);
    buf_cleanup(&once);
    json_decref(v);
    return 0;
}
