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

/* GET url; 200 with a JSON object body, else an error. */
static int get_json(const char *url, int timeout_ms, json_t **out)
{
    static const char *const hdrs[] = {"Accept: application/json", NULL};
    struct http_req rq = {0};
    struct http_resp rs;
    json_error_t jerr;
    int rc;

    rq.url = url;
    rq.headers = hdrs;
    rq.timeout_ms = timeout_ms;
    rq.max_body = JWKS_MAX_BODY;
    http_resp_init(&rs);
    rc = http_do(&rq, &rs);
    if (rc < 0) {
        klog_error("oidc", "%s: %s", url, rc == -ETIMEDOUT
                   ? "timed out" : strerror(-rc));
        goto out;
    }
    if (rs.status != 200) {
        klog_error("oidc", "%s: HTTP status %ld", url, rs.status);
        rc = -EIO;
        goto out;
    }
    *out = json_loadb((char *)rs.body.data, rs.body.len,
                      JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL || !json_is_object(*out)) {
        klog_error("oidc", "%s: not a JSON object (%s)", url, jerr.text);
        json_decref(*out);
        *out = NULL;
        rc = -EBADMSG;
    }
out:
    http_resp_cleanup(&rs);
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
static int discover(const char *issuer, int timeout_ms, char **jwks_uri)
{
    const char *got, *uri;
    json_t *doc = NULL;
    struct buf url;
    size_t n = strlen(issuer);
    int rc;

    buf_init(&url);
    while (n > 0 && issuer[n - 1] == '/') {
        n--;
    }
    rc = buf_printf(&url, "%.*s/.well-known/openid-configuration", (int)n,
                    issuer);
    if (rc == 0) {
        rc = get_json((char *)url.data, timeout_ms, &doc);
    }
    if (rc < 0) {
        goto out;
    }
    got = json_string_value(json_object_get(doc, "issuer"));
    uri = json_string_value(json_object_get(doc, "jwks_uri"));
    if (got == NULL || strcmp(got, issuer) != 0 || uri == NULL ||
        !is_url(uri)) {
        klog_error("oidc", "%s: discovery document lacks issuer %s or an "
                   "http(s) jwks_uri", (char *)url.data, issuer);
        rc = -EBADMSG;
        goto out;
    }
    *jwks_uri = strdup(uri);
    rc = *jwks_uri ? 0 : -ENOMEM;
out:
    json_decref(doc);
    buf_cleanup(&url);
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
        rc = is_url(src) ? get_json(src, timeout_ms, &doc)
                         : read_json(src, &doc);
    }
    if (rc == 0 && !json_is_array(json_object_get(doc, "keys"))) {
        klog_error("oidc", "%s: not a JWKS (no keys array)", src);
        rc = -EBADMSG;
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
