/* SPDX-License-Identifier: Apache-2.0 */
/* SPIRE identity: the workload's own X509-SVID from the SPIFFE Workload
 * API. Fetched by the workload process itself on its first record (the
 * agent attests the peer pid), renewed past half its lifetime, never
 * used once expired. */
#include "providers/providers.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/key.h"
#include "core/klog.h"
#include "core/secmem.h"
#include "core/x5c.h"
#include "providers/wlapi.h"

struct spire_state {
    struct wlapi_addr addr;
    char *want;     /* KEST_SPIFFE_ID */
    char *audience; /* KEST_SPIFFE_JWT_AUDIENCE */
    int timeout_ms;
    char principal[2048];
    struct key *key;
    json_t *x5c;
    time_t not_before;
    time_t not_after;
    char *jwt;
    pid_t jwt_pid; /* process whose first record carried the JWT-SVID */
};

static bool spire_detect(const struct config *cfg)
{
    return cfg->spiffe_socket != NULL;
}

static int load_key(X509 *leaf, const struct buf *der, struct key **out)
{
    const uint8_t *p = der->data;
    EVP_PKEY *pk;
    int rc;

    (void)secmem_crypto_init(); /* OpenSSL keeps the key there */
    pk = d2i_PrivateKey_ex(EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)),
                           NULL, &p, (long)der->len, NULL, NULL);
    if (pk == NULL) {
        klog_error("spire", "SVID private key is not PKCS#8 DER");
        return -EBADMSG;
    }
    if (X509_check_private_key(leaf, pk) != 1) {
        klog_error("spire", "SVID private key does not match the leaf");
        EVP_PKEY_free(pk);
        return -EBADMSG;
    }
    rc = key_from_pkey(pk, out);
    EVP_PKEY_free(pk);
    if (rc < 0) {
        klog_error("spire", "SVID key type not supported");
    }
    return rc;
}

/* x5c: every certificate of the SVID chain (leaf and intermediates). */
static int certs_to_x5c(const struct buf *certs, X509 **leaf, json_t **out)
{
    const uint8_t *p = certs->data;
    const uint8_t *end = p + certs->len;
    json_t *arr = json_array();
    int rc = 0;

    *leaf = NULL;
    while (arr != NULL && rc == 0 && p < end) {
        const uint8_t *start = p;
        X509 *c = d2i_X509(NULL, &p, (long)(end - p));
        struct buf b;

        if (c == NULL) {
            rc = -EBADMSG;
            break;
        }
        buf_init(&b);
        rc = b64std_encode(&b, start, (size_t)(p - start));
        if (rc == 0 && json_array_append_new(arr, json_string(
                                                      (char *)b.data))) {
            rc = -ENOMEM;
        }
        buf_cleanup(&b);
        if (*leaf == NULL) {
            *leaf = c;
        } else {
            X509_free(c);
        }
    }
    if (arr == NULL || rc < 0 || *leaf == NULL) {
        klog_error("spire", "SVID certificate chain is not DER");
        X509_free(*leaf);
        *leaf = NULL;
        json_decref(arr);
        return rc < 0 ? rc : -EBADMSG;
    }
    *out = arr;
    return 0;
}

/* Replace the held SVID with a newly fetched one. */
static int adopt(struct spire_state *st, struct wlapi_x509 *x)
{
    char id[2048];
    struct key *key = NULL;
    json_t *x5c = NULL;
    X509 *leaf = NULL;
    time_t nb, na;
    int rc;

    rc = certs_to_x5c(&x->certs, &leaf, &x5c);
    if (rc == 0 && (x5c_uri_san(leaf, id, sizeof(id)) < 0 ||
                    strcmp(id, x->spiffe_id) != 0)) {
        klog_error("spire", "leaf URI SAN does not match SPIFFE ID %s",
                   x->spiffe_id);
        rc = -EBADMSG;
    }
    if (rc == 0) {
        rc = x5c_validity(leaf, &nb, &na);
    }
    if (rc == 0) {
        rc = load_key(leaf, &x->key, &key);
    }
    X509_free(leaf);
    if (rc < 0) {
        json_decref(x5c);
        return rc;
    }
    key_free(st->key);
    json_decref(st->x5c);
    st->key = key;
    st->x5c = x5c;
    st->not_before = nb;
    st->not_after = na;
    strcpy(st->principal, id);
    klog_info("spire", "SVID %s valid until %lld", id, (long long)na);
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* PermissionDenied and Unavailable are retried with a doubling backoff
 * until the timeout, keeping FETCH_LAST_MS for the last attempt; anything
 * else, a missing socket included, is not. */
#define FETCH_LAST_MS 50

static int fetch(struct spire_state *st)
{
    long deadline = now_ms() + st->timeout_ms;
    long nap = 50;
    struct wlapi_x509 x;
    int rc;

    for (;;) {
        long left = deadline - now_ms();
        long wait;
        struct timespec ts;

        rc = wlapi_fetch_x509(&st->addr, st->want,
                              (int)(left > 0 ? left : 1), &x);
        if (rc == 0) {
            rc = adopt(st, &x);
            wlapi_x509_cleanup(&x);
            return rc;
        }
        if (rc != -EACCES && rc != -EAGAIN && rc != -ECONNREFUSED) {
            return rc;
        }
        wait = deadline - FETCH_LAST_MS - now_ms();
        if (wait <= 0) {
            return rc;
        }
        ts.tv_sec = 0;
        ts.tv_nsec = (wait < nap ? wait : nap) * 1000000L;
        nanosleep(&ts, NULL);
        if (nap < 400) {
            nap *= 2;
        }
    }
}

static void spire_release(void *state)
{
    struct spire_state *st = state;

    key_free(st->key);
    json_decref(st->x5c);
    free(st->want);
    free(st->audience);
    if (st->jwt != NULL) {
        explicit_bzero(st->jwt, strlen(st->jwt));
        free(st->jwt);
    }
    free(st);
}

static int spire_open(const struct config *cfg, void **state)
{
    struct spire_state *st = calloc(1, sizeof(*st));
    int rc;

    if (st == NULL) {
        return -ENOMEM;
    }
    st->timeout_ms = cfg->timeout_ms;
    st->want = cfg->spiffe_id ? strdup(cfg->spiffe_id) : NULL;
    st->audience = cfg->spiffe_jwt_audience ? strdup(cfg->spiffe_jwt_audience)
                                            : NULL;
    if (cfg->spiffe_socket != NULL) {
        rc = wlapi_addr_parse(cfg->spiffe_socket, &st->addr);
    } else {
        klog_error("spire", "no Workload API address: set "
                   "SPIFFE_ENDPOINT_SOCKET or KEST_SPIFFE_SOCKET");
        rc = -ENOENT;
    }
    if (rc == 0) {
        rc = fetch(st);
    }
    if (rc < 0) {
        spire_release(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* Before each signature: renew past half the lifetime; never sign with
 * an expired SVID. A failed renewal keeps a still-valid SVID. */
static int spire_refresh(void *state)
{
    struct spire_state *st = state;
    time_t now = time(NULL);
    int rc;

    if (now < st->not_before + (st->not_after - st->not_before) / 2 &&
        now >= st->not_before) {
        return 0;
    }
    rc = fetch(st);
    if (rc < 0 && time(NULL) >= st->not_after) {
        klog_error("spire", "SVID expired and could not be renewed");
        return -EKEYEXPIRED;
    }
    if (rc < 0 && time(NULL) < st->not_before) {
        return -EKEYEXPIRED;
    }
    return 0;
}

static const char *spire_principal(void *state)
{
    return ((struct spire_state *)state)->principal;
}

static int spire_header(void *state, json_t *hdr)
{
    struct spire_state *st = state;

    if (json_object_set_new(hdr, "alg", json_string(key_alg(st->key))) ||
        json_object_set_new(hdr, "kid", json_string(key_kid(st->key))) ||
        json_object_set(hdr, "x5c", st->x5c)) {
        return -ENOMEM;
    }
    return 0;
}

static int spire_describe(void *state, json_t *ident)
{
    struct spire_state *st = state;
    int rc;

    if (json_object_set_new(ident, "svid_not_after",
                            json_integer((json_int_t)st->not_after))) {
        return -ENOMEM;
    }
    if (st->audience == NULL || st->jwt_pid == getpid()) {
        return 0;
    }
    if (st->jwt != NULL) {
        explicit_bzero(st->jwt, strlen(st->jwt));
        free(st->jwt);
        st->jwt = NULL;
    }
    rc = wlapi_fetch_jwt(&st->addr, st->audience, st->want, st->timeout_ms,
                         &st->jwt);
    if (rc < 0) {
        return rc;
    }
    st->jwt_pid = getpid();
    return json_object_set_new(ident, "jwt_svid", json_string(st->jwt))
               ? -ENOMEM : 0;
}

static int spire_sign(void *state, const void *msg, size_t n,
                      struct buf *sig)
{
    struct spire_state *st = state;

    if (time(NULL) >= st->not_after) {
        klog_error("spire", "refusing to sign with an expired SVID");
        return -EKEYEXPIRED;
    }
    return key_sign(st->key, msg, n, sig);
}

const struct ident_ops provider_spire = {
    .name = "spire",
    .detect = spire_detect,
    .open = spire_open,
    .refresh = spire_refresh,
    .principal = spire_principal,
    .header = spire_header,
    .describe = spire_describe,
    .sign = spire_sign,
    .release = spire_release,
};
