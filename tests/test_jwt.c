/* SPDX-License-Identifier: Apache-2.0 */
/* JWT validation against a JWKS: good tokens and every refusal. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/jwt.h"
#include "core/key.h"

#define NOW 1800000000

static struct key *ec, *ed, *rsa;
static json_t *jwks;

static void add_jwk(struct key *k)
{
    json_t *j = key_jwk(k);

    json_object_set_new(j, "kid", json_string(key_kid(k)));
    json_array_append_new(json_object_get(jwks, "keys"), j);
}

static void setup(void)
{
    ck_assert_int_eq(key_generate(KEY_P256, &ec), 0);
    ck_assert_int_eq(key_generate(KEY_ED25519, &ed), 0);
    ck_assert_int_eq(key_generate(KEY_RSA, &rsa), 0);
    jwks = json_pack("{s:[]}", "keys");
    add_jwk(ec);
    add_jwk(ed);
    add_jwk(rsa);
}

static void teardown(void)
{
    key_free(ec);
    key_free(ed);
    key_free(rsa);
    json_decref(jwks);
}

/* header.claims.signature, signed by k (NULL: empty signature). */
static char *token(const char *alg, const char *kid, long exp, long nbf,
                   struct key *k)
{
    struct buf t, sig;
    char hdr[256], cl[256];

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
    snprintf(cl, sizeof(cl), "{\"sub\":\"spiffe://example.org/w\","
             "\"aud\":[\"a\"],\"exp\":%ld,\"nbf\":%ld}", exp, nbf);
    buf_init(&t);
    buf_init(&sig);
    ck_assert_int_eq(b64url_encode(&t, hdr, strlen(hdr)), 0);
    ck_assert_int_eq(buf_putc(&t, '.'), 0);
    ck_assert_int_eq(b64url_encode(&t, cl, strlen(cl)), 0);
    if (k != NULL) {
        ck_assert_int_eq(key_sign(k, t.data, t.len, &sig), 0);
    }
    ck_assert_int_eq(buf_putc(&t, '.'), 0);
    ck_assert_int_eq(b64url_encode(&t, sig.data, sig.len), 0);
    buf_cleanup(&sig);
    return buf_steal(&t);
}

static int check(char *tok, json_t **claims)
{
    char why[256];
    int rc = jwt_verify(tok, jwks, NULL, NOW, 30, claims, why, sizeof(why));

    free(tok);
    return rc;
}

START_TEST(test_jwt_verify_good)
{
    struct key *keys[] = {ec, ed, rsa};
    const char *algs[] = {"ES256", "EdDSA", "RS256"};
    json_t *claims;
    int i;

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(check(token(algs[i], key_kid(keys[i]), NOW + 60,
                                     NOW - 60, keys[i]), &claims), 0);
        ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")),
                         "spiffe://example.org/w");
        json_decref(claims);
    }
}
END_TEST

START_TEST(test_jwt_verify_refused)
{
    json_t *claims;
    char *t;
    size_t n;

    /* alg none, and HMAC, are never accepted */
    ck_assert_int_eq(check(token("none", key_kid(ec), NOW + 60, NOW, NULL),
                           &claims), -EBADMSG);
    ck_assert_int_eq(check(token("HS256", key_kid(ec), NOW + 60, NOW, ec),
                           &claims), -EBADMSG);
    /* alg/key confusion: an RS256 header naming the EC key */
    ck_assert_int_eq(check(token("RS256", key_kid(ec), NOW + 60, NOW, ec),
                           &claims), -EBADMSG);
    /* unknown kid */
    ck_assert_int_eq(check(token("ES256", "nope", NOW + 60, NOW, ec),
                           &claims), -EBADMSG);
    /* signed by a key other than the one the kid names */
    ck_assert_int_eq(check(token("EdDSA", key_kid(ed), NOW + 60, NOW, ec),
                           &claims), -EBADMSG);
    /* expired, not yet valid */
    ck_assert_int_eq(check(token("ES256", key_kid(ec), NOW - 100, NOW - 200,
                                 ec), &claims), -EKEYEXPIRED);
    ck_assert_int_eq(check(token("ES256", key_kid(ec), NOW + 900, NOW + 300,
                                 ec), &claims), -EKEYEXPIRED);
    /* a changed signature byte */
    t = token("ES256", key_kid(ec), NOW + 60, NOW, ec);
    n = strlen(t);
    t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(check(t, &claims), -EBADMSG);
    /* not a JWS at all */
    ck_assert_int_eq(check(strdup("abc.def"), &claims), -EBADMSG);
    ck_assert_int_eq(check(strdup("a.b.c.d"), &claims), -EBADMSG);
    ck_assert_int_eq(check(strdup("!!.??.**"), &claims), -EBADMSG);
}
END_TEST

START_TEST(test_jwt_key_from_jwk_bad)
{
    struct key *k;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv",
                          "P-384", "x", "AAAA", "y", "AAAA");

    ck_assert_int_lt(jwt_key_from_jwk(j, &k), 0);
    json_decref(j);
    j = json_pack("{s:s}", "kty", "oct");
    ck_assert_int_lt(jwt_key_from_jwk(j, &k), 0);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("jwt");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_jwt_verify_good);
    tcase_add_test(tc, test_jwt_verify_refused);
    tcase_add_test(tc, test_jwt_key_from_jwk_bad);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
