/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4, computed with OpenSSL. */
#include "providers/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/record.h"

#define SIGV4_MAX_HEADERS 32

struct lhdr {
    char name[64];
    const char *value;
};

static int cmp_hdr(const void *a, const void *b)
{
    return strcmp(((const struct lhdr *)a)->name,
                  ((const struct lhdr *)b)->name);
}

static int sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        return -EIO;
    }
    record_hex(md, 32, out);
    return 0;
}

static int hmac(const void *key, size_t kn, const char *msg,
                unsigned char out[32])
{
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, (int)kn, (const unsigned char *)msg,
             strlen(msg), out, &len) == NULL || len != 32) {
        return -EIO;
    }
    return 0;
}

static bool date_ok(const char *d)
{
    size_t i;

    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') {
        return false;
    }
    for (i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)d[i])) {
            return false;
        }
    }
    return true;
}

/* RFC 3986 unreserved characters pass; '/' separates segments. */
static int put_path(struct buf *out, const char *path)
{
    const char *p = (path == NULL || *path == '\0') ? "/" : path;
    int rc = 0;

    for (; *p != '\0' && rc == 0; p++) {
        unsigned char c = (unsigned char)*p;

        if (isalnum(c) || strchr("-._~/", c) != NULL) {
            rc = buf_putc(out, c);
        } else {
            rc = buf_printf(out, "%%%02X", c);
        }
    }
    return rc;
}

/* Value with leading and trailing blanks dropped and inner runs of
 * spaces folded to one, as SigV4 task 1 requires. */
static int put_value(struct buf *out, const char *v)
{
    const char *end = v + strlen(v);
    bool space = false;
    int rc = 0;

    while (*v == ' ' || *v == '\t') {
        v++;
    }
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    for (; v < end && rc == 0; v++) {
        if (*v == '\r' || *v == '\n') {
            return -EINVAL;
        }
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space) {
            rc = buf_putc(out, ' ');
            space = false;
        }
        if (rc == 0) {
            rc = buf_putc(out, *v);
        }
    }
    return rc;
}

static int sort_headers(const struct sigv4_req *r, struct lhdr *h)
{
    size_t i, j;

    if (r->nheaders == 0 || r->nheaders > SIGV4_MAX_HEADERS) {
        return -EINVAL;
    }
    for (i = 0; i < r->nheaders; i++) {
        const char *n = r->headers[i].name;

        if (n == NULL || r->headers[i].value == NULL || *n == '\0' ||
            strlen(n) >= sizeof(h[i].name)) {
            return -EINVAL;
        }
        for (j = 0; n[j] != '\0'; j++) {
            h[i].name[j] = (char)tolower((unsigned char)n[j]);
        }
        h[i].name[j] = '\0';
        h[i].value = r->headers[i].value;
    }
    qsort(h, r->nheaders, sizeof(*h), cmp_hdr);
    for (i = 1; i < r->nheaders; i++) {
        if (strcmp(h[i - 1].name, h[i].name) == 0) {
            return -EINVAL;
        }
    }
    return 0;
}

static int put_signed_names(struct buf *out, const struct lhdr *h, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = buf_printf(out, "%s%s", i ? ";" : "", h[i].name);
    }
    return rc;
}

int sigv4_canonical_request(const struct sigv4_req *r, struct buf *out)
{
    struct lhdr h[SIGV4_MAX_HEADERS];
    char hash[65];
    size_t i;
    int rc;

    if (r->method == NULL || !date_ok(r->amz_date)) {
        return -EINVAL;
    }
    rc = sort_headers(r, h);
    if (rc == 0) {
        rc = buf_printf(out, "%s\n", r->method);
    }
    if (rc == 0) {
        rc = put_path(out, r->path);
    }
    if (rc == 0) {
        rc = buf_printf(out, "\n%s\n", r->query ? r->query : "");
    }
    for (i = 0; rc == 0 && i < r->nheaders; i++) {
        rc = buf_printf(out, "%s:", h[i].name);
        if (rc == 0) {
            rc = put_value(out, h[i].value);
        }
        if (rc == 0) {
            rc = buf_putc(out, '\n');
        }
    }
    if (rc == 0) {
        rc = buf_putc(out, '\n');
    }
    if (rc == 0) {
        rc = put_signed_names(out, h, r->nheaders);
    }
    if (rc == 0) {
        rc = sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0,
                        hash);
    }
    return rc == 0 ? buf_printf(out, "\n%s", hash) : rc;
}

int sigv4_string_to_sign(const struct sigv4_req *r, const char *canonical,
                         struct buf *out)
{
    char hash[65];
    int rc;

    if (!date_ok(r->amz_date) || r->region == NULL || r->service == NULL) {
        return -EINVAL;
    }
    rc = sha256_hex(canonical, strlen(canonical), hash);
    if (rc < 0) {
        return rc;
    }
    return buf_printf(out, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
                      r->amz_date, r->amz_date, r->region, r->service, hash);
}

int sigv4_signing_key(const char *secret, const char *date8,
                      const char *region, const char *service,
                      unsigned char key[32])
{
    char date[9];
    struct buf k0;
    unsigned char a[32], b[32];
    int rc;

    buf_init(&k0);
    snprintf(date, sizeof(date), "%.8s", date8);
    rc = buf_printf(&k0, "AWS4%s", secret);
    if (rc == 0) {
        rc = hmac(k0.data, k0.len, date, a);
    }
    if (rc == 0) {
        rc = hmac(a, 32, region, b);
    }
    if (rc == 0) {
        rc = hmac(b, 32, service, a);
    }
    if (rc == 0) {
        rc = hmac(a, 32, "aws4_request", key);
    }
    explicit_bzero(a, sizeof(a));
    explicit_bzero(b, sizeof(b));
    buf_wipe(&k0);
    return rc;
}

static int put_auth(const struct sigv4_req *r, const unsigned char sig[32],
                    struct buf *out)
{
    struct lhdr h[SIGV4_MAX_HEADERS];
    char hex[65];
    int rc;

    rc = sort_headers(r, h);
    if (rc < 0) {
        return rc;
    }
    record_hex(sig, 32, hex);
    rc = buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/"
                    "aws4_request, SignedHeaders=", r->access_key,
                    r->amz_date, r->region, r->service);
    if (rc == 0) {
        rc = put_signed_names(out, h, r->nheaders);
    }
    return rc == 0 ? buf_printf(out, ", Signature=%s", hex) : rc;
}

int sigv4_authorization(const struct sigv4_req *r, struct buf *out)
{
    struct buf canon, sts;
    unsigned char key[32], sig[32];
    int rc;

    if (r->access_key == NULL || r->secret_key == NULL) {
        return -EINVAL;
    }
    buf_init(&canon);
    buf_init(&sts);
    rc = sigv4_canonical_request(r, &canon);
    if (rc == 0) {
        rc = buf_putc(&canon, '\0');
    }
    if (rc == 0) {
        rc = sigv4_string_to_sign(r, (const char *)canon.data, &sts);
    }
    if (rc == 0) {
        rc = buf_putc(&sts, '\0');
    }
    if (rc == 0) {
        rc = sigv4_signing_key(r->secret_key, r->amz_date, r->region,
                               r->service, key);
    }
    if (rc == 0) {
        rc = hmac(key, 32, (const char *)sts.data, sig);
    }
    if (rc == 0) {
        rc = put_auth(r, sig, out);
    }
    explicit_bzero(key, sizeof(key));
    buf_cleanup(&canon);
    buf_cleanup(&sts);
    return rc;
}

void sigv4_now(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 0) {
        out[0] = '\0'; /* no date: the service refuses the request */
    }
}
