/* SPDX-License-Identifier: Apache-2.0 */
/* x5c chains and SPIFFE IDs. */
#include "core/x5c.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "core/b64.h"

int x5c_uri_san(struct x509_st *cert, char *out, size_t cap)
{
    GENERAL_NAMES *names;
    int i, found = 0;
    int rc = -ENOENT;

    names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        const ASN1_STRING *u;
        int n;

        if (g->type != GEN_URI) {
            continue;
        }
        u = g->d.uniformResourceIdentifier;
        n = ASN1_STRING_length(u);
        if (++found > 1 || n <= 0 || (size_t)n >= cap) {
            rc = -EINVAL;
            break;
        }
        memcpy(out, ASN1_STRING_get0_data(u), (size_t)n);
        out[n] = '\0';
        rc = 0;
    }
    GENERAL_NAMES_free(names);
    return rc;
}

static int asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
        return -EINVAL;
    }
    *out = timegm(&tm);
    return 0;
}

int x5c_validity(struct x509_st *cert, time_t *not_before, time_t *not_after)
{
    int rc = asn1_time(X509_get0_notBefore(cert), not_before);

    return rc == 0 ? asn1_time(X509_get0_notAfter(cert), not_after) : rc;
}

int x5c_load_bundle(const char *path, struct x509_store_st **out)
{
    X509_STORE *s;
    FILE *f;
    X509 *c;
    int n = 0;

    f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    s = X509_STORE_new();
    while (s != NULL && (c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(s, c)) {
            n++;
        }
        X509_free(c);
    }
    (void)fclose(f); /* read only: nothing to flush */
    if (s == NULL || n == 0) {
        X509_STORE_free(s);
        return s ? -EINVAL : -ENOMEM;
    }
    *out = s;
    return 0;
}

void x5c_store_free(struct x509_store_st *s)
{
    X509_STORE_free(s);
}

static X509 *decode_cert(const json_t *v)
{
    const uint8_t *p;
    struct buf der;
    X509 *c = NULL;

    buf_init(&der);
    if (json_is_string(v) &&
        b64std_decode(&der, json_string_value(v), json_string_length(v)) ==
            0) {
        p = der.data;
        c = d2i_X509(NULL, &p, (long)der.len);
        if (c != NULL && p != der.data + der.len) {
            X509_free(c);
            c = NULL;
        }
    }
    buf_cleanup(&der);
    return c;
}

/* The times of the verified chain (anchor included) inside which every
 * certificate of it is valid: [*lo, *hi), as OpenSSL checks them. */
static void chain_window(X509_STORE_CTX *ctx, time_t *lo, time_t *hi)
{
    STACK_OF(X509) *ch = X509_STORE_CTX_get0_chain(ctx);
    int i;

    *lo = 0;
    *hi = 0; /* empty unless every certificate's times are read */
    for (i = 0; ch != NULL && i < sk_X509_num(ch); i++) {
        time_t nb, na;

        if (x5c_validity(sk_X509_value(ch, i), &nb, &na) < 0) {
            *lo = *hi = 0;
            return;
        }
        if (i == 0 || nb > *lo) {
            *lo = nb;
        }
        if (i == 0 || na < *hi) {
            *hi = na;
        }
    }
}

static int chain_ok(X509 *leaf, STACK_OF(X509) *rest, X509_STORE *store,
                    int64_t at_ms, struct x5c_valid *v, char *why,
                    size_t cap)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err, ok = 0;

    if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, leaf, rest)) {
        X509_STORE_CTX_free(ctx);
        snprintf(why, cap, "out of memory");
        return 0;
    }
    X509_STORE_CTX_set_time(ctx, 0, (time_t)(at_ms / 1000));
    ok = X509_verify_cert(ctx) == 1;
    if (!ok) {
        err = X509_STORE_CTX_get_error(ctx);
        snprintf(why, cap, "x5c chain rejected at the record's time: %s",
                 X509_verify_cert_error_string(err));
    } else if (v != NULL) {
        chain_window(ctx, &v->from, &v->until);
    }
    X509_STORE_CTX_free(ctx);
    return ok;
}

int x5c_check(const json_t *x5c, struct x509_store_st *store, int64_t at_ms,
              const char *principal, struct key **leafkey,
              struct x5c_valid *valid, char *why, size_t cap)
{
    STACK_OF(X509) *rest = sk_X509_new_null();
    X509 *leaf = NULL;
    char id[2048];
    size_t i;
    int rc = -EBADMSG;

    if (!json_is_array(x5c) || json_array_size(x5c) == 0 || rest == NULL) {
        snprintf(why, cap, "x5c is not a non-empty array");
        goto out;
    }
    leaf = decode_cert(json_array_get(x5c, 0));
    for (i = 1; leaf != NULL && i < json_array_size(x5c); i++) {
        X509 *c = decode_cert(json_array_get(x5c, i));

        if (c == NULL || !sk_X509_push(rest, c)) {
            X509_free(c);
            snprintf(why, cap, "x5c[%zu] is not a DER certificate", i);
            goto out;
        }
    }
    if (leaf == NULL) {
        snprintf(why, cap, "x5c[0] is not a DER certificate");
        goto out;
    }
    if (!chain_ok(leaf, rest, store, at_ms, valid, why, cap)) {
        goto out;
    }
    if (x5c_uri_san(leaf, id, sizeof(id)) < 0) {
        snprintf(why, cap, "leaf certificate has no single URI SAN");
        goto out;
    }
    if (principal == NULL || strcmp(id, principal) != 0) {
        snprintf(why, cap, "leaf URI SAN %s is not the principal %s", id,
                 principal ? principal : "(none)");
        goto out;
    }
    rc = key_from_pkey(X509_get0_pubkey(leaf), leafkey);
    if (rc < 0) {
        snprintf(why, cap, "leaf key type not supported");
        rc = -EBADMSG;
    }
out:
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    return rc;
}
