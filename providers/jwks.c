/* SPDX-License-Identifier: Apache-2.0 */
/* JWKS retrieval for the OIDC provider. */
#include "providers/jwks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/klog.h"
#include "providers/http.h"

#define JWKS_MAX_BODY (1024 * 1024)

static bool is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* GET url into rs; 0 only once a 200 response arrived. */
static int fetch(const char *url, int timeout_ms, struct http_resp *rs)
{
    static const char *const hdrs[] = {"Accept: application/json", NULL};
    struct http_req rq = {0};
    int rc;

    rq.url = url;
    rq.headers = hdrs;
    rq.timeout_ms = timeout_ms;
    rq.max_body = JWKS_MAX_BODY;
    rc = http_do(&rq, rs);
    if (rc < 0) {
        klog_error("oidc", "%s: %s", url, rc == -ETIMEDOUT
                   ? "timed out" : strerror(-rc));
        return rc;
    }
    if (rs->status != 200) {
        klog_error("oidc", "%s: HTTP status %ld", url, rs->status);
        return -EIO;
    }
    return 0;
}

/* A JSON object, duplicate names refused; src names it in the log. */
static int parse_object(const char *text, size_t n, const char *src,
                        json_t **out)
{
    json_error_t jerr;

    *out = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL || !json_is_object(*out)) {
        klog_error("oidc", "%s: not a JSON object (%s)", src, jerr.text);
        json_decref(*out);
        *out = NULL;
        return -EBADMSG;
    }
    return 0;
}

static int check_keys(const json_t *doc, const char *src)
{
    if (!json_is_array(json_object_get(doc, "keys"))) {
        klog_error("oidc", "%s: not a JWKS (no keys array)", src);
        return -EBADMSG;
    }
    return 0;
}

int jwks_parse(const char *text, size_t n, const char *src, json_t **out)
{
    int rc = parse_object(text, n, src, out);

    if (rc == 0) {
        rc = check_keys(*out, src);
    }
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int read_json(const char *path, json_t **out)
{
    json_error_t jerr;

    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL) {
        klog_error("oidc", "%s: cannot read JWKS: %s", path, jerr.text);
        return -ENOENT;
    }
    return 0;
}

/* OpenID Connect Discovery 1.0, section 4: the configuration lives under
 * the issuer, and its "issuer" must be that same issuer. */
int jwks_parse_discovery(const char *text, size_t n, const char *src,
                         const char *issuer, char **jwks_uri)
{
    const char *got, *uri;
    json_t *doc = NULL;
    int rc;

    *jwks_uri = NULL;
    rc = parse_object(text, n, src, &doc);
    if (rc < 0) {
        goto out;
    }
    got = json_string_value(json_object_get(doc, "issuer"));
    uri = json_string_value(json_object_get(doc, "jwks_uri"));
    if (got == NULL || strcmp(got, issuer) != 0 || uri == NULL ||
        !is_url(uri)) {
        klog_error("oidc", "%s: discovery document lacks issuer %s or an "
                   "http(s) jwks_uri", src, issuer);
        rc = -EBADMSG;
        goto out;
    }
    *jwks_uri = strdup(uri);
    rc = *jwks_uri ? 0 : -ENOMEM;
out:
    json_decref(doc);
    return rc;
}

static int discover(const char *issuer, int timeout_ms, char **jwks_uri)
{
    struct http_resp rs;
    struct buf url;
    size_t n = strlen(issuer);
    int rc;

    buf_init(&url);
    http_resp_init(&rs);
    while (n > 0 && issuer[n - 1] == '/') {
        n--;
    }
    rc = buf_printf(&url, "%.*s/.well-known/openid-configuration", (int)n,
                    issuer);
    if (rc == 0) {
        rc = fetch((char *)url.data, timeout_ms, &rs);
    }
    if (rc == 0) {
        rc = jwks_parse_discovery((const char *)rs.body.data, rs.body.len,
                                  (char *)url.data, issuer, jwks_uri);
    }
    http_resp_cleanup(&rs);
    buf_cleanup(&url);
    return rc;
}

/* The JWKS at src, a URL or a file. */
static int get_jwks(const char *src, int timeout_ms, json_t **out)
{
    struct http_resp rs;
    int rc;

    if (!is_url(src)) {
        rc = read_json(src, out);
        return rc == 0 ? check_keys(*out, src) : rc;
    }
    http_resp_init(&rs);
    rc = fetch(src, timeout_ms, &rs);
    if (rc == 0) {
        rc = jwks_parse((const char *)rs.body.data, rs.body.len, src, out);
    }
    http_resp_cleanup(&rs);
    return rc;
}

int jwks_load(const char *src, const char *issuer, int timeout_ms,
              json_t **out)
{
    char *found = NULL;
    json_t *doc = NULL;
    int rc;

    *out = NULL;
    if (src == NULL && issuer == NULL) {
        klog_error("oidc", "no JWKS: set KEST_OIDC_JWKS or "
                   "KEST_OIDC_ISSUER");
        return -ENOENT;
    }
    if (src == NULL) {
        rc = discover(issuer, timeout_ms, &found);
        src = found;
    } else {
        rc = 0;
    }
    if (rc == 0) {
        rc = get_jwks(src, timeout_ms, &doc);
    }
    if (rc == 0) {
        klog_trace("oidc", "JWKS from %s: %zu keys", src,
                   json_array_size(json_object_get(doc, "keys")));
        *out = doc;
        doc = NULL;
    }
    json_decref(doc);
    free(found);
    return rc;
}
