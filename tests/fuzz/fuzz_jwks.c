/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz JWKS documents (providers/jwks.c, then the keys through
 * core/jwt.c) and OpenID discovery documents: the input is the body an
 * issuer sent. Fixed tokens are verified against it, and one that
 * verifies must have met the key that signed it. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdio.h>

#include "core/jwt.h"
#include "providers/jwks.h"

#define FUZZ_ISSUER "https://issuer.example"
#define FUZZ_NOW 1800000000
#define FUZZ_MAX_KEYS 8

/* The public halves of the signers (kids fz-ed, fz-ec, fz-rsa); their
 * private halves were used once for the tokens below and not kept. */
static const char genuine_text[] =
    "{\"keys\":["
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fz-ed\",\"x\":\"hEyEuhl"
    "QCykiqHDFZOuy8jboMMWeTHNgKogcYmau3lM\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fz-ec\",\"x\":\"Y5FGipa2n5"
    "RKu7Duw9VPwAH0uL3Y-32Nw_gxhwNngbg\",\"y\":\"th3o09FqmmCTGnTxQNMbT_QUCh"
    "mP1cGljYM_Ev6ny44\"},"
    "{\"kty\":\"RSA\",\"kid\":\"fz-rsa\",\"n\":\"t4tZaLyV9bbYvTi6_Q-c3GXgIu"
    "TT3sQxFUCrpvY3NUMrTd4vIymvrlclBkUlAu40KvI2hAN2HptGWLQme-zsg-5io2O5hOCH"
    "jL_KA4ol6A4CYZlithc43L3nW7XOFqFMIuf5rKUmNJyUyMBHm-udUOQ-D9zK6cOxh-EVQj"
    "0ifjHliw0i5DRbj9eTS-ylQ0kERPiOIuz-AOIXeBULa2D_f2IdXkCO9lhm3kQu6jYdzvkC"
    "Rl0SyFLXw6Y1KO7-r4knfOYieEsEJ7Eqn3xAGLUpoxjacucqIrbCnco7xGnDH06hb3WiHO"
    "MS3rfxNxbExboMo7oYE6c3zDigHMzzQOPEsQ\",\"e\":\"AQAB\"}"
    "]}";

/* EdDSA (kid fz-ed), EdDSA without kid, ES256 (fz-ec), RS256 and PS256
 * (fz-rsa); iss FUZZ_ISSUER, exp 4000000000. */
static const char *const tokens[] = {
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImZ6LWVkIn0.eyJpc3MiOiJodH"
    "RwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmNp"
    "OnJ1bm5lciIsImF1ZCI6Imtlc3QiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDAwMDAwMD"
    "AwMH0.irrGqzuV9gWxOeoTkRFVJxTADXZjywQ-AY9bnpOF5r0maAbqZMYBkfjj-wW_Q-nM"
    "V-LKL44zIF33hRY7OC7FAg",
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5le"
    "GFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmNpOnJ1bm5lciIsImF1ZCI"
    "6Imtlc3QiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDAwMDAwMDAwMH0.lJtqfgJTmHjLE"
    "2HN8n4UDaR-cIF9xVFm1ToCGArb19LEpOROWS7YeLchlkwBCvXdYyYgzF85afG_G9koM9b"
    "uCw",
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZ6LWVjIn0.eyJpc3MiOiJodH"
    "RwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmNp"
    "OnJ1bm5lciIsImF1ZCI6Imtlc3QiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDAwMDAwMD"
    "AwMH0.k06UlnaDJ91OtoMHbYF1Iua7BWyl7FWh48wc0wtpckg4wf8Ycl48NlCuANxF238g"
    "FkB9LyBhabBFsgjSAJEtpg",
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZ6LXJzYSJ9.eyJpc3MiOiJod"
    "HRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmN"
    "pOnJ1bm5lciIsImF1ZCI6Imtlc3QiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDAwMDAwM"
    "DAwMH0.SEC3GUAV4q7reQBRQUuN3b6RSvfWiUM2_g6Z1JD-rAQlQH4YluiMpulueCZO4wZ"
    "qzmSQlbsPq10I4YPuUynT62EGcFRrszZSHT8tJnLscaMK5mom4U0XyCSI-0sAtXnZT9yBr"
    "34I7ktlXKiifb59uXPo8ihQsOMG2kDamL4DUtwpZrytKEWZqf6mYQMSpJ4wAdllaY1BKq1"
    "Z9iAEjTnNbPxkgsS0k_X4Q9yohBd8cyAIzMxs1b7gacA_qcBv1gyM6l3RsEGgh1_4QDmHe"
    "OyeH0TAAJhKFT3uyoX3f-hCAl3ausjWbZWQKC2KwxD_9DcFx4zZArHYeDxYo8SP2ZrDhA",
    "eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZ6LXJzYSJ9.eyJpc3MiOiJod"
    "HRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmN"
    "pOnJ1bm5lciIsImF1ZCI6Imtlc3QiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDAwMDAwM"
    "DAwMH0.di4ptdcek-TJWvivIVHEiY5g6qAS3oInuoQnydERYY7kCHhtA18cdGU3o0q4U0i"
    "CJ91YNjeLkknQH-PUpFTLeYvx0B8blIPKJp7cUyMSLumtz-gpoWZHfy-LHNEuiEXFF681V"
    "YDi_K-DFqgvInz6TKrCIwiJXoctzRKClnYmT_iYs3d7pqVGquJfzNoWaaFh5EJsDlLsGtq"
    "Z805Ev1l-ZSM2u2imvoRxg6gbURHBiV79IPcjesPj5oSUZiZZpUQA_VIX3ZRTM5HHVhbdx"
    "pY_dfNNFQxgUe-jRiRZf3WqTwrIum5FfGVCNtyKGmLNPTNQIJKbCxbCtQE-uKIXjfenog",
};

static json_t *genuine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    genuine = json_loads(genuine_text, 0, NULL);
    if (genuine == NULL) {
        abort();
    }
    return 0;
}

/* The kid each token names; the one without uses the only key. */
static const char *const token_kids[] = {
    "fz-ed", NULL, "fz-ec", "fz-rsa", "fz-rsa",
};

/* The thumbprint of the key jwt_verify picks in doc for kid (the only
 * key if kid is NULL), copied into out; -1 if there is none. */
static int thumbprint(const json_t *doc, const char *kid, char *out,
                      size_t cap)
{
    const json_t *keys = json_object_get(doc, "keys");
    const json_t *jwk = NULL;
    struct key *k = NULL;
    size_t i;

    if (kid == NULL && json_array_size(keys) == 1) {
        jwk = json_array_get(keys, 0);
    }
    for (i = 0; kid != NULL && jwk == NULL && i < json_array_size(keys);
         i++) {
        const json_t *c = json_array_get(keys, i);
        const char *id = json_string_value(json_object_get(c, "kid"));

        if (id != NULL && strcmp(id, kid) == 0) {
            jwk = c;
        }
    }
    if (jwk == NULL || jwt_key_from_jwk(jwk, &k) < 0) {
        return -1;
    }
    snprintf(out, cap, "%s", key_kid(k));
    key_free(k);
    return 0;
}

/* Every key that parses must survive its own JWK. */
static void check_keys(const json_t *doc)
{
    const json_t *keys = json_object_get(doc, "keys");
    struct key *k, *again;
    json_t *jwk;
    size_t i;

    for (i = 0; i < json_array_size(keys) && i < FUZZ_MAX_KEYS; i++) {
        k = NULL;
        again = NULL;
        if (jwt_key_from_jwk(json_array_get(keys, i), &k) < 0) {
            continue;
        }
        FUZZ_ASSERT(key_kid(k) != NULL && key_alg(k) != NULL);
        jwk = key_jwk(k);
        FUZZ_ASSERT(jwk != NULL);
        FUZZ_ASSERT(jwt_key_from_jwk(jwk, &again) == 0);
        FUZZ_ASSERT(key_get_type(again) == key_get_type(k));
        FUZZ_ASSERT(strcmp(key_kid(again), key_kid(k)) == 0);
        json_decref(jwk);
        key_free(again);
        key_free(k);
    }
}

/* A token verifies only against the key that signed it. */
static void check_tokens(const json_t *doc)
{
    char why[256], got[64], want[64];
    json_t *claims;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        why[0] = '\0';
        rc = jwt_verify(tokens[i], doc, NULL, FUZZ_NOW, 30, &claims, why,
                        sizeof(why));
        if (rc < 0) {
            FUZZ_ASSERT(claims == NULL);
            FUZZ_ASSERT(why[0] != '\0' &&
                        memchr(why, '\0', sizeof(why)) != NULL);
            continue;
        }
        FUZZ_ASSERT(rc == 0 && json_is_object(claims));
        FUZZ_ASSERT(thumbprint(doc, token_kids[i], got, sizeof(got)) == 0);
        FUZZ_ASSERT(thumbprint(genuine,
                               token_kids[i] ? token_kids[i] : "fz-ed",
                               want, sizeof(want)) == 0);
        FUZZ_ASSERT(strcmp(got, want) == 0);
        json_decref(claims);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly the body, not NUL-terminated; an empty one is NULL, as
     * libcurl leaves it. */
    char *text = size ? malloc(size) : NULL;
    char *uri = NULL;
    json_t *doc = NULL;
    int rc;

    if (size > 0 && text == NULL) {
        abort();
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    rc = jwks_parse(text, size, "fuzz", &doc);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
    if (rc == 0) {
        FUZZ_ASSERT(json_is_array(json_object_get(doc, "keys")));
        check_keys(doc);
        check_tokens(doc);
        json_decref(doc);
    } else {
        FUZZ_ASSERT(doc == NULL);
    }
    rc = jwks_parse_discovery(text, size, "fuzz", FUZZ_ISSUER, &uri);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
    FUZZ_ASSERT((rc == 0) == (uri != NULL));
    if (uri != NULL) {
        FUZZ_ASSERT(strncmp(uri, "http://", 7) == 0 ||
                    strncmp(uri, "https://", 8) == 0);
        free(uri);
    }
    free(text);
    return 0;
}
