/* SPDX-License-Identifier: Apache-2.0 */
/* JWT validation. */
#include "core/jwt.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <string.h>

#include "core/b64.h"
#include "core/config.h"

static int decode_member(const json_t *jwk, const char *name,
                         struct buf *out)
{
    const char *v = json_string_value(json_object_get(jwk, name));

    if (v == NULL) {
        return -EINVAL;
    }
    return b64url_decode(out, v, strlen(v));
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pk = NULL;

    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

static EVP_PKEY *ec_key(const json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    OSSL_PARAM_BLD *bld = NULL;
    struct buf x, y, pt;
    EVP_PKEY *pk = NULL;

    buf_init(&x);
    buf_init(&y);
    buf_init(&pt);
    if (crv == NULL || strcmp(crv, "P-256") != 0 ||
        decode_member(jwk, "x", &x) < 0 || decode_member(jwk, "y", &y) < 0 ||
        x.len != 32 || y.len != 32 || buf_putc(&pt, 4) < 0 ||
        buf_append(&pt, x.data, 32) < 0 || buf_append(&pt, y.data, 32) < 0) {
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                         pt.data, pt.len)) {
        pk = from_params("EC", bld);
    }
out:
    OSSL_PARAM_BLD_free(bld);
    buf_cleanup(&x);
    buf_cleanup(&y);
    buf_cleanup(&pt);
    return pk;
}

static EVP_PKEY *rsa_key(const json_t *jwk)
{
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *n = NULL, *e = NULL;
    struct buf nb, eb;
    EVP_PKEY *pk = NULL;

    buf_init(&nb);
    buf_init(&eb);
    if (decode_member(jwk, "n", &nb) < 0 || decode_member(jwk, "e", &eb) < 0 ||
        nb.len < 256) {
        goto out;
    }
    n = BN_bin2bn(nb.data, (int)nb.len, NULL);
    e = BN_bin2bn(eb.data, (int)eb.len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n != NULL && e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        pk = from_params("RSA", bld);
    }
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    buf_cleanup(&nb);
    buf_cleanup(&eb);
    return pk;
}

static EVP_PKEY *okp_key(const json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    EVP_PKEY *pk = NULL;
    struct buf x;

    buf_init(&x);
    if (crv != NULL && strcmp(crv, "Ed25519") == 0 &&
        decode_member(jwk, "x", &x) == 0 && x.len == 32) {
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.data,
                                         x.len);
    }
    buf_cleanup(&x);
    return pk;
}

int jwt_key_from_jwk(const json_t *jwk, struct key **out)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    EVP_PKEY *pk = NULL;
    int rc;

    if (kty == NULL) {
        return -EINVAL;
    }
    if (strcmp(kty, "EC") == 0) {
        pk = ec_key(jwk);
    } else if (strcmp(kty, "RSA") == 0) {
        pk = rsa_key(jwk);
    } else if (strcmp(kty, "OKP") == 0) {
        pk = okp_key(jwk);
    }
    if (pk == NULL) {
        return -EINVAL;
    }
    rc = key_from_pkey(pk, out);
    EVP_PKEY_free(pk);
    return rc;
}

static json_t *decode_json(const char *s, size_t n)
{
    struct buf b;
    json_t *v = NULL;

    buf_init(&b);
    if (b64url_decode(&b, s, n) == 0) {
        v = json_loadb((char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
    }
    buf_cleanup(&b);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static const json_t *find_jwk(const json_t *jwks, const char *kid)
{
    const json_t *keys = json_object_get(jwks, "keys");
    size_t i;

    if (kid == NULL) {
        return json_array_size(keys) == 1 ? json_array_get(keys, 0) : NULL;
    }
    for (i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        const char *id = json_string_value(json_object_get(k, "kid"));

        if (id != NULL && strcmp(id, kid) == 0) {
            return k;
        }
    }
    return NULL;
}

static int check_times(const json_t *claims, int64_t now, int skew,
                       char *why, size_t cap)
{
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *nbf = json_object_get(claims, "nbf");

    if (!json_is_number(exp)) {
        snprintf(why, cap, "token has no exp");
        return -EBADMSG;
    }
    if ((double)now > json_number_value(exp) + skew) {
        snprintf(why, cap, "token expired");
        return -EKEYEXPIRED;
    }
    if (json_is_number(nbf) && (double)now + skew < json_number_value(nbf)) {
        snprintf(why, cap, "token not yet valid (nbf)");
        return -EKEYEXPIRED;
    }
    return 0;
}

static int check_sig(const char *token, const char *dot2, const json_t *hdr,
                     const json_t *jwks, const char *algs, char *why,
                     size_t cap)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    const json_t *jwk;
    struct key *k = NULL;
    struct buf sig;
    int rc = -EBADMSG;

    buf_init(&sig);
    if (alg == NULL || strcmp(alg, "none") == 0 ||
        !config_list_has(algs ? algs : "ES256,RS256,PS256,EdDSA", alg,
                         strlen(alg))) {
        snprintf(why, cap, "algorithm %s not allowed", alg ? alg : "(none)");
        goto out;
    }
    jwk = find_jwk(jwks, kid);
    if (jwk == NULL || jwt_key_from_jwk(jwk, &k) < 0) {
        snprintf(why, cap, "no usable key for kid %s in the JWKS",
                 kid ? kid : "(none)");
        goto out;
    }
    if (b64url_decode(&sig, dot2 + 1, strlen(dot2 + 1)) < 0) {
        snprintf(why, cap, "signature is not base64url");
        goto out;
    }
    rc = key_verify(k, alg, token, (size_t)(dot2 - token), sig.data,
                    sig.len);
    if (rc == -EPROTO) {
        snprintf(why, cap, "alg %s does not fit the key for kid %s", alg,
                 kid ? kid : "(none)");
    } else if (rc < 0) {
        snprintf(why, cap, "bad token signature");
    }
    rc = rc < 0 ? -EBADMSG : 0;
out:
    key_free(k);
    buf_cleanup(&sig);
    return rc;
}

int jwt_verify(const char *token, const json_t *jwks, const char *algs,
               int64_t now, int skew, json_t **claims, char *why, size_t cap)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    json_t *hdr = NULL, *cl = NULL;
    int rc = -EBADMSG;

    *claims = NULL;
    if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL) {
        snprintf(why, cap, "not a compact JWS");
        return -EBADMSG;
    }
    hdr = decode_json(token, (size_t)(dot1 - token));
    cl = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (hdr == NULL || cl == NULL) {
        snprintf(why, cap, "header or claims are not base64url JSON");
        goto out;
    }
    rc = check_sig(token, dot2, hdr, jwks, algs, why, cap);
    if (rc == 0) {
        rc = check_times(cl, now, skew, why, cap);
    }
    if (rc == 0) {
        *claims = cl;
        cl = NULL;
    }
out:
    json_decref(hdr);
    json_decref(cl);
    return rc;
}
