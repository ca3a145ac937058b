/* SPDX-License-Identifier: Apache-2.0 */
/* AWS credentials, STS and KMS over SigV4. */
#include "providers/awsapi.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/klog.h"
#include "core/secmem.h"
#include "providers/http.h"
#include "providers/sigv4.h"

#define AWS_BODY_MAX (256 * 1024)
#define AWS_TOKEN_MAX (64 * 1024)
#define AWS_CONTAINER_HOST "http://169.254.170.2"
#define AWS_RENEW_EARLY 300 /* seconds before expiry */
#define STS_FORM "application/x-www-form-urlencoded; charset=utf-8"
#define KMS_JSON "application/x-amz-json-1.1"

static int read_small(const char *path, char **out);

/* A secret that passed through the heap (a reply, a request body). */
static void free_secret(char **s)
{
    if (*s != NULL) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

/* A secret we read or keep: those live in secmem. */
static void free_secmem(char **s)
{
    secmem_free(*s);
    *s = NULL;
}

bool awsapi_have_credentials(const struct config_aws *c)
{
    return (c->access_key_id != NULL && c->secret_access_key != NULL) ||
           (c->role_arn != NULL && c->web_identity_token_file != NULL) ||
           c->container_full_uri != NULL ||
           c->container_relative_uri != NULL;
}

/* The authority of an http(s) URL, as curl would send it in Host. */
static int url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    size_t n;

    if (p == NULL || strchr(url, '?') != NULL) {
        return -EINVAL;
    }
    p += 3;
    n = strcspn(p, "/?#");
    if (n == 0 || n >= cap || memchr(p, '@', n) != NULL) {
        return -EINVAL;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Percent-encoding of everything but RFC 3986 unreserved characters. */
static int form_put(struct buf *b, const char *name, const char *v)
{
    int rc = buf_printf(b, "%s%s=", b->len ? "&" : "", name);

    for (; rc == 0 && *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;

        rc = isalnum(c) || strchr("-._~", c) ? buf_putc(b, c)
                                              : buf_printf(b, "%%%02X", c);
    }
    return rc;
}

/* The text of the first <tag> element; AWS values kest reads (ARNs,
 * key ids, base64) carry no markup, so any '&' or '<' is refused, and
 * no NUL, which would cut the value short (an empty ARN, say). */
static int xml_text(const char *s, size_t n, const char *tag, char **out)
{
    char open[64], close[64];
    const char *a, *e;

    *out = NULL;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    /* An empty reply arrives as (NULL, 0), which memmem must not see. */
    a = n > 0 ? memmem(s, n, open, strlen(open)) : NULL;
    if (a == NULL) {
        return -EBADMSG;
    }
    a += strlen(open);
    e = memmem(a, n - (size_t)(a - s), close, strlen(close));
    if (e == NULL || e == a || memchr(a, '&', (size_t)(e - a)) ||
        memchr(a, '<', (size_t)(e - a)) ||
        memchr(a, '\0', (size_t)(e - a))) {
        return -EBADMSG;
    }
    *out = strndup(a, (size_t)(e - a));
    return *out ? 0 : -ENOMEM;
}

void awsapi_parse_error(const char *body, size_t n, char *code,
                        size_t cap)
{
    const char *t;
    char *x = NULL;
    json_t *j;

    code[0] = '\0';
    if (xml_text(body, n, "Code", &x) == 0) {
        snprintf(code, cap, "%s", x);
        free(x);
    } else if ((j = json_loadb(body, n, 0, NULL)) != NULL) {
        t = json_string_value(json_object_get(j, "__type"));
        snprintf(code, cap, "%s", t ? t : "");
        json_decref(j);
    }
}

/* A string member of a JSON object, copied; NULL if absent or not a
 * string. */
static int json_dup(const json_t *j, const char *name, char **out)
{
    const char *v = json_string_value(json_object_get(j, name));

    *out = v ? strdup(v) : NULL;
    return v == NULL || *out != NULL ? 0 : -ENOMEM;
}

int awsapi_parse_caller(const char *body, size_t n, char **arn,
                        char **account)
{
    int rc;

    if (account != NULL) {
        *account = NULL;
    }
    rc = xml_text(body, n, "Arn", arn);
    if (rc == 0 && account != NULL) {
        rc = xml_text(body, n, "Account", account);
    }
    if (rc < 0) {
        free(*arn);
        *arn = NULL;
    }
    return rc;
}

void awsapi_creds_cleanup(struct awsapi_creds *c)
{
    free(c->id);
    free_secret(&c->secret);
    free_secret(&c->token);
    free(c->expiration);
    memset(c, 0, sizeof(*c));
}

int awsapi_parse_web_identity(const char *body, size_t n,
                              struct awsapi_creds *c)
{
    int rc = -EBADMSG;

    memset(c, 0, sizeof(*c));
    if (xml_text(body, n, "AccessKeyId", &c->id) < 0 ||
        xml_text(body, n, "SecretAccessKey", &c->secret) < 0 ||
        xml_text(body, n, "SessionToken", &c->token) < 0) {
        goto out;
    }
    /* Optional: without it the credentials are never renewed. */
    (void)xml_text(body, n, "Expiration", &c->expiration);
    rc = 0;
out:
    if (rc < 0) {
        awsapi_creds_cleanup(c);
    }
    return rc;
}

int awsapi_parse_container(const char *body, size_t n,
                           struct awsapi_creds *c)
{
    json_t *j = json_loadb(body, n, 0, NULL);
    int rc;

    memset(c, 0, sizeof(*c));
    rc = json_dup(j, "AccessKeyId", &c->id);
    if (rc == 0) {
        rc = json_dup(j, "SecretAccessKey", &c->secret);
    }
    if (rc == 0) {
        rc = json_dup(j, "Token", &c->token);
    }
    if (rc == 0) {
        rc = json_dup(j, "Expiration", &c->expiration);
    }
    if (rc == 0 && (c->id == NULL || c->secret == NULL)) {
        rc = -EBADMSG;
    }
    if (rc < 0) {
        awsapi_creds_cleanup(c);
    }
    json_decref(j);
    return rc;
}

int awsapi_parse_expiry(const char *iso, int64_t *when)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    *when = 0;
    if (strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
        return -EBADMSG;
    }
    *when = (int64_t)timegm(&tm);
    return 0;
}

int awsapi_parse_workload_token(const char *body, size_t n, char **token)
{
    json_t *j = json_loadb(body, n, 0, NULL);
    const char *t;

    t = json_string_value(json_object_get(j, "workloadAccessToken"));
    *token = t && *t ? strdup(t) : NULL;
    json_decref(j);
    return *token ? 0 : -EBADMSG;
}

int awsapi_parse_kms(const char *body, size_t n, const char *field,
                     struct buf *out)
{
    json_t *j = json_loadb(body, n, 0, NULL);
    const char *v = json_string_value(json_object_get(j, field));
    int rc = v ? b64std_decode(out, v, strlen(v)) : -EBADMSG;

    json_decref(j);
    return rc;
}

/* KMS returns an X9.62 DER signature; JWS ES256 wants raw r||s. */
int awsapi_parse_signature(const uint8_t *der, size_t n, struct buf *sig)
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
    unsigned char raw[64];
    int rc = -EBADMSG;

    if (s != NULL && p == der + n &&
        BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32) == 32 &&
        BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32) == 32) {
        rc = buf_append(sig, raw, sizeof(raw));
    }
    if (rc == -EBADMSG) {
        klog_error("aws", "KMS signature is not a P-256 DER signature");
    }
    ECDSA_SIG_free(s);
    return rc;
}

int awsapi_parse_public_key(const uint8_t *spki, size_t n,
                            struct key **out)
{
    const unsigned char *p = spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)n);
    int rc;

    *out = NULL;
    rc = pk ? key_from_pkey(pk, out) : -EBADMSG;
    EVP_PKEY_free(pk);
    return rc;
}

/* AWS errors: XML <Code> (STS) or JSON __type (KMS); 403 and
 * AccessDenied mean refused. */
static int check_status(const struct http_resp *r, const char *what)
{
    char code[128];

    if (r->status == 200) {
        return 0;
    }
    awsapi_parse_error((const char *)r->body.data, r->body.len, code,
                       sizeof(code));
    klog_error("aws", "%s: HTTP %ld %s", what, r->status,
               code[0] ? code : "(no error code)");
    if (r->status == 403 || r->status == 401 ||
        strstr(code, "AccessDenied") != NULL ||
        strstr(code, "SignatureDoesNotMatch") != NULL ||
        strstr(code, "InvalidClientTokenId") != NULL) {
        return -EACCES;
    }
    return -EIO;
}

static int do_http(const struct awsapi *a, const char *url,
                   const char *const *hdrs, const char *body,
                   struct http_resp *resp, const char *what)
{
    struct http_req req;
    int rc;

    memset(&req, 0, sizeof(req));
    req.url = url;
    req.headers = hdrs;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = a->timeout_ms;
    req.max_body = AWS_BODY_MAX;
    rc = http_do(&req, resp);
    if (rc < 0) {
        klog_error("aws", "%s: %s: %s", what, url, strerror(-rc));
        return rc;
    }
    return check_status(resp, what);
}

struct signed_hdrs {
    char host[256];
    char date[17];
    struct sigv4_header sig[5];
    size_t n;
    char *lines[8];
};

static void hdrs_cleanup(struct signed_hdrs *h)
{
    size_t i;

    for (i = 0; i < 8; i++) {
        if (h->lines[i] != NULL) {
            explicit_bzero(h->lines[i], strlen(h->lines[i]));
            free(h->lines[i]);
        }
    }
}

static void hdrs_add(struct signed_hdrs *h, const char *n, const char *v)
{
    h->sig[h->n].name = n;
    h->sig[h->n].value = v;
    h->n++;
}

/* Header lines for curl: the signed ones, Authorization, and an empty
 * Expect so that curl never waits for 100-continue. */
static int hdrs_lines(struct signed_hdrs *h, const char *auth)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (asprintf(&h->lines[i], "%s: %s", h->sig[i].name,
                     h->sig[i].value) < 0) {
            h->lines[i] = NULL;
            return -ENOMEM;
        }
    }
    if (asprintf(&h->lines[i], "Authorization: %s", auth) < 0) {
        h->lines[i] = NULL;
        return -ENOMEM;
    }
    h->lines[i + 1] = strdup("Expect:");
    return h->lines[i + 1] ? 0 : -ENOMEM;
}

/* POST body to url, signed for service. target: X-Amz-Target or NULL. */
static int aws_post(const struct awsapi *a, const char *url,
                    const char *service, const char *ctype,
                    const char *target, const char *body,
                    struct http_resp *resp)
{
    struct signed_hdrs h;
    struct sigv4_req r;
    struct buf auth;
    int rc;

    memset(&h, 0, sizeof(h));
    buf_init(&auth);
    rc = url_host(url, h.host, sizeof(h.host));
    if (rc < 0) {
        klog_error("aws", "%s: not an http(s) URL", url);
        return rc;
    }
    sigv4_now(h.date);
    hdrs_add(&h, "Content-Type", ctype);
    hdrs_add(&h, "Host", h.host);
    hdrs_add(&h, "X-Amz-Date", h.date);
    if (a->session_token != NULL) {
        hdrs_add(&h, "X-Amz-Security-Token", a->session_token);
    }
    if (target != NULL) {
        hdrs_add(&h, "X-Amz-Target", target);
    }
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = strstr(url, "://") + 3 + strlen(h.host);
    r.headers = h.sig;
    r.nheaders = h.n;
    r.body = body;
    r.body_len = strlen(body);
    r.amz_date = h.date;
    r.region = a->region;
    r.service = service;
    r.access_key = a->access_key;
    r.secret_key = a->secret_key;
    rc = sigv4_authorization(&r, &auth);
    if (rc == 0) {
        rc = buf_putc(&auth, '\0');
    }
    if (rc == 0) {
        rc = hdrs_lines(&h, (const char *)auth.data);
    }
    if (rc == 0) {
        rc = do_http(a, url, (const char *const *)h.lines, body, resp,
                     target ? target
                            : strcmp(service, "sts") == 0
                                  ? "STS GetCallerIdentity"
                                  : strrchr(url, '/') + 1);
    }
    hdrs_cleanup(&h);
    buf_cleanup(&auth);
    return rc;
}

int awsapi_caller(const struct awsapi *a, char **arn, char **account)
{
    struct http_resp resp;
    int rc;

    *arn = NULL;
    http_resp_init(&resp);
    rc = aws_post(a, a->sts_url, "sts", STS_FORM, NULL,
                  "Action=GetCallerIdentity&Version=2011-06-15", &resp);
    if (rc == 0) {
        rc = awsapi_parse_caller((const char *)resp.body.data,
                                 resp.body.len, arn, account);
    }
    if (rc == -EBADMSG) {
        klog_error("aws", "GetCallerIdentity: no Arn or Account in the "
                   "reply");
    }
    http_resp_cleanup(&resp);
    return rc;
}

/* 3 to 255 of [A-Za-z0-9_.-], as AgentCore requires. */
static bool workload_name_ok(const char *n)
{
    size_t len = strlen(n);

    return len >= 3 && len <= 255 &&
           strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_.-") == len;
}

static int workload_request(const char *workload, const char *user_id,
                            const char *user_token, const char **op,
                            char **body)
{
    json_t *req = json_pack("{s:s}", "workloadName", workload);
    int rc = req ? 0 : -ENOMEM;

    *op = "GetWorkloadAccessToken";
    if (rc == 0 && user_id != NULL) {
        *op = "GetWorkloadAccessTokenForUserId";
        rc = json_object_set_new(req, "userId", json_string(user_id));
    } else if (rc == 0 && user_token != NULL) {
        *op = "GetWorkloadAccessTokenForJWT";
        rc = json_object_set_new(req, "userToken", json_string(user_token));
    }
    *body = rc == 0 ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return *body ? 0 : -ENOMEM;
}

int awsapi_workload_token(const struct awsapi *a, const char *workload,
                          const char *user_id, const char *user_token_file,
                          char **token)
{
    struct http_resp resp;
    const char *op = NULL;
    char *body = NULL, *url = NULL, *user_token = NULL;
    int rc = 0;

    *token = NULL;
    if (!workload_name_ok(workload)) {
        klog_error("aws", "KEST_AGENTCORE_WORKLOAD: not 3 to 255 of "
                   "[A-Za-z0-9_.-]");
        return -EINVAL;
    }
    http_resp_init(&resp);
    if (user_id == NULL && user_token_file != NULL) {
        rc = read_small(user_token_file, &user_token);
    }
    if (rc == 0) {
        rc = workload_request(workload, user_id, user_token, &op, &body);
    }
    if (rc == 0 && asprintf(&url, "%s/identities/%s", a->agentcore_url,
                            op) < 0) {
        url = NULL;
        rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = aws_post(a, url, "bedrock-agentcore", "application/json", NULL,
                      body, &resp);
    }
    if (rc == 0) {
        rc = awsapi_parse_workload_token((const char *)resp.body.data,
                                         resp.body.len, token);
    }
    free_secmem(&user_token);
    free_secret(&body);
    free(url);
    buf_wipe(&resp.body);
    http_resp_cleanup(&resp);
    return rc;
}

/* POST a KMS JSON request; the reply's field `field`, base64-decoded. */
static int kms_call(const struct awsapi *a, const char *target,
                    json_t *req, const char *field, struct buf *out)
{
    struct http_resp resp;
    char *body = json_dumps(req, JSON_COMPACT);
    int rc = body ? 0 : -ENOMEM;

    http_resp_init(&resp);
    if (rc == 0) {
        rc = aws_post(a, a->kms_url, "kms", KMS_JSON, target, body, &resp);
    }
    if (rc == 0) {
        rc = awsapi_parse_kms((const char *)resp.body.data, resp.body.len,
                              field, out);
        if (rc < 0) {
            klog_error("aws", "%s: no usable %s in the reply", target,
                       field);
        }
    }
    free(body);
    http_resp_cleanup(&resp);
    return rc;
}

int awsapi_kms_sign(const struct awsapi *a, const char *key_id,
                    const uint8_t digest[32], struct buf *der)
{
    struct buf msg;
    json_t *req = NULL;
    int rc;

    buf_init(&msg);
    rc = b64std_encode(&msg, digest, 32);
    if (rc == 0) {
        req = json_pack("{s:s, s:s%, s:s, s:s}", "KeyId", key_id, "Message",
                        (const char *)msg.data, msg.len, "MessageType",
                        "DIGEST", "SigningAlgorithm", "ECDSA_SHA_256");
        rc = req ? kms_call(a, "TrentService.Sign", req, "Signature", der)
                 : -ENOMEM;
    }
    json_decref(req);
    buf_cleanup(&msg);
    return rc;
}

int awsapi_kms_public_key(const struct awsapi *a, const char *key_id,
                          struct buf *spki)
{
    json_t *req = json_pack("{s:s}", "KeyId", key_id);
    int rc;

    rc = req ? kms_call(a, "TrentService.GetPublicKey", req, "PublicKey",
                        spki)
             : -ENOMEM;
    json_decref(req);
    return rc;
}

/* A small file read whole (a token) into secmem; trailing white space
 * removed. */
static int read_small(const char *path, char **out)
{
    char *t = secmem_alloc(AWS_TOKEN_MAX + 1);
    ssize_t got = -1;
    size_t len = 0;
    int fd, rc = 0;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t == NULL || fd < 0) {
        rc = t ? -errno : -ENOMEM;
    } else {
        got = read(fd, t, AWS_TOKEN_MAX);
        rc = got < 0 ? -errno : 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    len = got > 0 ? (size_t)got : 0;
    while (len > 0 && isspace((unsigned char)t[len - 1])) {
        t[--len] = '\0';
    }
    if (rc == 0 && len == 0) {
        rc = -ENODATA;
    }
    if (rc < 0) {
        klog_error("aws", "%s: %s", path, strerror(-rc));
        free_secmem(&t);
    }
    *out = t;
    return rc;
}

/* Replace the credentials only once the new set is complete, so that a
 * failed renewal leaves the old ones in place. */
static int adopt_creds(struct awsapi *a, const char *id, const char *secret,
                       const char *token)
{
    char *i = id ? strdup(id) : NULL;
    char *k = secmem_strdup(secret);
    char *t = secmem_strdup(token);

    if (i == NULL || k == NULL || (token != NULL && t == NULL)) {
        klog_error("aws", "%s credentials incomplete", a->source);
        free(i);
        free_secmem(&k);
        free_secmem(&t);
        return -EBADMSG;
    }
    free(a->access_key);
    free_secmem(&a->secret_key);
    free_secmem(&a->session_token);
    a->access_key = i;
    a->secret_key = k;
    a->session_token = t;
    return 0;
}

/* Expiration as AWS writes it (2024-01-01T00:00:00Z); unparsable or
 * absent: never renewed. */
static void set_expiry(struct awsapi *a, const char *iso)
{
    a->expires = 0;
    if (iso != NULL && awsapi_parse_expiry(iso, &a->expires) < 0) {
        klog_info("aws", "credential expiration '%s' not understood; "
                  "they will not be renewed", iso);
    }
}

static int web_identity_body(const struct config_aws *c, struct buf *b)
{
    char *tok = NULL;
    int rc;

    rc = read_small(c->web_identity_token_file, &tok);
    if (rc == 0) {
        rc = form_put(b, "Action", "AssumeRoleWithWebIdentity");
    }
    if (rc == 0) {
        rc = form_put(b, "Version", "2011-06-15");
    }
    if (rc == 0) {
        rc = form_put(b, "RoleArn", c->role_arn);
    }
    if (rc == 0) {
        rc = form_put(b, "RoleSessionName",
                      c->role_session_name ? c->role_session_name : "kest");
    }
    if (rc == 0) {
        rc = form_put(b, "WebIdentityToken", tok);
    }
    if (rc == 0) {
        rc = buf_putc(b, '\0');
    }
    free_secmem(&tok);
    return rc;
}

/* STS AssumeRoleWithWebIdentity: an unsigned call; the token is the
 * credential. */
static int creds_web_identity(struct awsapi *a, const struct config_aws *c)
{
    static const char *const hdrs[] = {"Content-Type: " STS_FORM,
                                       "Expect:", NULL};
    struct awsapi_creds cr = {NULL, NULL, NULL, NULL};
    struct http_resp resp;
    struct buf body;
    int rc;

    a->source = "web-identity";
    buf_init(&body);
    http_resp_init(&resp);
    rc = web_identity_body(c, &body);
    if (rc == 0) {
        rc = do_http(a, a->sts_url, hdrs, (const char *)body.data, &resp,
                     "AssumeRoleWithWebIdentity");
    }
    if (rc == 0) {
        rc = awsapi_parse_web_identity((const char *)resp.body.data,
                                       resp.body.len, &cr);
    }
    if (rc == 0) {
        rc = adopt_creds(a, cr.id, cr.secret, cr.token);
    }
    if (rc == 0) {
        set_expiry(a, cr.expiration);
    }
    awsapi_creds_cleanup(&cr);
    buf_wipe(&body);
    buf_wipe(&resp.body);
    http_resp_cleanup(&resp);
    return rc;
}

/* The Authorization header line, in secmem (*line stays NULL without a
 * token). */
static int container_auth(const struct config_aws *c, char **line)
{
    static const char name[] = "Authorization: ";
    char *tok = NULL;
    size_t n;
    int rc = 0;

    *line = NULL;
    if (c->container_token_file != NULL) {
        rc = read_small(c->container_token_file, &tok);
    } else if (c->container_token != NULL) {
        tok = secmem_strdup(c->container_token);
        rc = tok ? 0 : -ENOMEM;
    }
    if (rc == 0 && tok != NULL && strpbrk(tok, "\r\n") != NULL) {
        rc = -EINVAL;
    }
    if (rc == 0 && tok != NULL) {
        n = strlen(tok);
        *line = secmem_alloc(sizeof(name) + n);
        if (*line == NULL) {
            rc = -ENOMEM;
        } else {
            memcpy(*line, name, sizeof(name) - 1);
            memcpy(*line + sizeof(name) - 1, tok, n);
        }
    }
    free_secmem(&tok);
    return rc;
}

/* As the AWS SDKs do: a full URI over plain http must stay on this host
 * or on the ECS/EKS link-local agents, so that the authorization token
 * is never sent in clear text across a network. */
static bool container_url_ok(const char *url)
{
    static const char *const local[] = {
        "127.0.0.1", "localhost", "[::1]", "169.254.170.2",
        "169.254.170.23", "[fd00:ec2::23]",
    };
    char host[256];
    size_t i, n;

    if (strncmp(url, "https://", 8) == 0) {
        return true;
    }
    if (strncmp(url, "http://", 7) != 0 ||
        url_host(url, host, sizeof(host)) < 0) {
        return false;
    }
    for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        n = strlen(local[i]);
        if (strncmp(host, local[i], n) == 0 &&
            (host[n] == '\0' || host[n] == ':')) {
            return true;
        }
    }
    return false;
}

/* The ECS/EKS container credentials endpoint (GET, JSON reply). */
static int creds_container(struct awsapi *a, const struct config_aws *c)
{
    const char *hdrs[2] = {NULL, NULL};
    struct awsapi_creds cr = {NULL, NULL, NULL, NULL};
    char *url = NULL, *authline = NULL;
    struct http_resp resp;
    int rc;

    a->source = "container";
    http_resp_init(&resp);
    rc = container_auth(c, &authline);
    hdrs[0] = authline;
    if (rc == 0 && (c->container_full_uri != NULL
                        ? (url = strdup(c->container_full_uri)) == NULL
                        : asprintf(&url, "%s%s", AWS_CONTAINER_HOST,
                                   c->container_relative_uri) < 0)) {
        url = NULL;
        rc = -ENOMEM;
    }
    if (rc == 0 && !container_url_ok(url)) {
        klog_error("aws", "%s: container credentials need https, or http "
                   "to this host or the ECS/EKS agent", url);
        rc = -EPERM;
    }
    if (rc == 0) {
        rc = do_http(a, url, hdrs, NULL, &resp, "container credentials");
    }
    if (rc == 0) {
        rc = awsapi_parse_container((const char *)resp.body.data,
                                    resp.body.len, &cr);
        if (rc == -EBADMSG) {
            klog_error("aws", "%s credentials incomplete", a->source);
        }
    }
    if (rc == 0) {
        rc = adopt_creds(a, cr.id, cr.secret, cr.token);
    }
    if (rc == 0) {
        set_expiry(a, cr.expiration);
    }
    awsapi_creds_cleanup(&cr);
    free_secmem(&authline);
    free(url);
    buf_wipe(&resp.body);
    http_resp_cleanup(&resp);
    return rc;
}

/* A service's endpoint: its own variable, the general one, or AWS's. */
static char *endpoint(const char *own, const char *general,
                      const char *service, const char *region)
{
    char *u = NULL;
    size_t n;

    if (own != NULL || general != NULL) {
        u = strdup(own ? own : general);
        n = u ? strlen(u) : 0;
        while (n > 0 && u[n - 1] == '/') {
            u[--n] = '\0'; /* paths are appended to it */
        }
        return u;
    }
    if (asprintf(&u, "https://%s.%s.amazonaws.com", service, region) < 0) {
        return NULL;
    }
    return u;
}

static void source_free(struct config_aws *c)
{
    if (c == NULL) {
        return;
    }
    free(c->role_arn);
    free(c->web_identity_token_file);
    free(c->role_session_name);
    free(c->container_full_uri);
    free(c->container_relative_uri);
    free_secmem(&c->container_token);
    free(c->container_token_file);
    free(c);
}

static char *dup_or_null(const char *s, bool *failed)
{
    char *d = s ? strdup(s) : NULL;

    *failed = *failed || (s != NULL && d == NULL);
    return d;
}

/* What renewing temporary credentials needs, kept past the config. */
static int source_copy(struct awsapi *a, const struct config_aws *c)
{
    struct config_aws *s = calloc(1, sizeof(*s));
    bool failed = s == NULL;

    if (s != NULL) {
        s->role_arn = dup_or_null(c->role_arn, &failed);
        s->web_identity_token_file = dup_or_null(c->web_identity_token_file,
                                                 &failed);
        s->role_session_name = dup_or_null(c->role_session_name, &failed);
        s->container_full_uri = dup_or_null(c->container_full_uri, &failed);
        s->container_relative_uri = dup_or_null(c->container_relative_uri,
                                                &failed);
        s->container_token = secmem_strdup(c->container_token);
        failed = failed ||
                 (c->container_token != NULL && s->container_token == NULL);
        s->container_token_file = dup_or_null(c->container_token_file,
                                              &failed);
    }
    if (failed) {
        source_free(s);
        return -ENOMEM;
    }
    a->src = s;
    return 0;
}

int awsapi_renew(struct awsapi *a)
{
    int rc;

    if (a->expires == 0 || a->src == NULL ||
        (int64_t)time(NULL) < a->expires - AWS_RENEW_EARLY) {
        return 0;
    }
    klog_info("aws", "%s credentials expire at %lld: renewing", a->source,
              (long long)a->expires);
    if (strcmp(a->source, "web-identity") == 0) {
        rc = creds_web_identity(a, a->src);
    } else {
        rc = creds_container(a, a->src);
    }
    return rc;
}

int awsapi_init(struct awsapi *a, const struct config_aws *c,
                int timeout_ms)
{
    memset(a, 0, sizeof(*a));
    a->timeout_ms = timeout_ms;
    /* STS's global endpoint signs for us-east-1; so does kest when no
     * region is configured. */
    a->region = strdup(c->region ? c->region : "us-east-1");
    a->sts_url = endpoint(c->endpoint_sts, c->endpoint, "sts", a->region);
    a->kms_url = endpoint(c->endpoint_kms, c->endpoint, "kms", a->region);
    a->agentcore_url = endpoint(c->endpoint_agentcore, c->endpoint,
                                "bedrock-agentcore", a->region);
    if (a->region == NULL || a->sts_url == NULL || a->kms_url == NULL ||
        a->agentcore_url == NULL) {
        return -ENOMEM;
    }
    if (c->access_key_id != NULL && c->secret_access_key != NULL) {
        a->source = "env";
        return adopt_creds(a, c->access_key_id, c->secret_access_key,
                           c->session_token);
    }
    if (c->role_arn != NULL && c->web_identity_token_file != NULL) {
        return source_copy(a, c) == 0 ? creds_web_identity(a, c) : -ENOMEM;
    }
    if (c->container_full_uri != NULL || c->container_relative_uri != NULL) {
        return source_copy(a, c) == 0 ? creds_container(a, c) : -ENOMEM;
    }
    klog_error("aws", "no AWS credentials: set AWS_ACCESS_KEY_ID and "
               "AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN and "
               "AWS_WEB_IDENTITY_TOKEN_FILE, or a container endpoint");
    return -ENOENT;
}

void awsapi_cleanup(struct awsapi *a)
{
    free(a->access_key);
    free_secmem(&a->secret_key);
    free_secmem(&a->session_token);
    free(a->region);
    free(a->sts_url);
    free(a->kms_url);
    free(a->agentcore_url);
    source_free(a->src);
    memset(a, 0, sizeof(*a));
}
