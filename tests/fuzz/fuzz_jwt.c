/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz JWT validation (JWT-SVIDs in records, OIDC tokens) against a
 * fixed JWKS of one Ed25519 and one P-256 key. */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>

#include "core/jwt.h"

/* Public halves only; the seed tokens in corpus/jwt were signed once
 * with the matching private keys, which are not kept. */
static const char jwks_text[] =
    "{\"keys\":["
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fz-ed\","
    "\"x\":\"RMwdBH_8R3Qgm_yeEDR7X_8Ca7qIAAqIoEiRNq6qDz8\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fz-ec\","
    "\"x\":\"-ghEPmM3JmzYiqmbGEs8o4Vefj_j3091k8x63WKcupw\","
    "\"y\":\"_U1zVKjUh7pxFwvIGNeekpbSTWEE9cHNnlfQE-tNIEc\"}]}";

/* Inside the validity window of the seed tokens. */
#define FUZZ_NOW 1800000000

static json_t *jwks;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    jwks = json_loads(jwks_text, 0, NULL);
    if (jwks == NULL) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = fuzz_cstr(data, size);
    json_t *claims = NULL;
    char why[256];
    int rc;

    rc = jwt_verify(tok, jwks, NULL, FUZZ_NOW, 30, &claims, why,
                    sizeof(why));
    if (rc == 0) {
        FUZZ_ASSERT(json_is_object(claims));
        json_decref(claims);
    } else {
        FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
    }
    rc = jwt_verify(tok, jwks, "EdDSA", 0, 0, &claims, why, sizeof(why));
    if (rc == 0) {
        json_decref(claims);
    }
    free(tok);
    return 0;
}
