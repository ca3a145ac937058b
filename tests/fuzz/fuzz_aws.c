/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the parsers of AWS replies (providers/awsapi.c): STS
 * GetCallerIdentity and AssumeRoleWithWebIdentity, the container
 * credentials endpoint, AgentCore GetWorkloadAccessToken*, KMS Sign and
 * GetPublicKey, error replies. The first byte picks the parser (a
 * letter of `parsers` below, else its value modulo their number); the
 * rest is the body. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdbool.h>

#include "core/b64.h"
#include "core/jwt.h"
#include "providers/awsapi.h"

/* One letter per parser, in the order of the switch below. */
static const char parsers[] = "ecwtaspxdk";

/* The body as received: exactly n bytes, not NUL-terminated, so that
 * ASan catches a parser reading one byte too far. */
static char *body_copy(const uint8_t *data, size_t n)
{
    char *b = malloc(n ? n : 1);

    if (b == NULL) {
        abort();
    }
    memcpy(b, data, n);
    return b;
}

/* A string a parser returned: terminated, and a piece of the body. */
static void check_piece(const char *s, const char *body, size_t n,
                        bool nonempty)
{
    size_t len;

    FUZZ_ASSERT(s != NULL);
    len = strlen(s);
    FUZZ_ASSERT(len <= n);
    FUZZ_ASSERT(!nonempty || len > 0);
    FUZZ_ASSERT(len == 0 || memmem(body, n, s, len) != NULL);
}

static void fuzz_error(const char *body, size_t n)
{
    char code[128], tiny[4];

    awsapi_parse_error(body, n, code, sizeof(code));
    FUZZ_ASSERT(memchr(code, '\0', sizeof(code)) != NULL);
    awsapi_parse_error(body, n, tiny, sizeof(tiny));
    FUZZ_ASSERT(memchr(tiny, '\0', sizeof(tiny)) != NULL);
    FUZZ_ASSERT(strncmp(code, tiny, strlen(tiny)) == 0);
}

static void fuzz_caller(const char *body, size_t n)
{
    char *arn = NULL, *account = NULL, *only = NULL;
    int rc;

    rc = awsapi_parse_caller(body, n, &arn, &account);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
    if (rc == 0) {
        /* XML markup or entities never reach a principal. */
        check_piece(arn, body, n, true);
        check_piece(account, body, n, true);
        FUZZ_ASSERT(strpbrk(arn, "<&") == NULL);
        FUZZ_ASSERT(strpbrk(account, "<&") == NULL);
    } else {
        FUZZ_ASSERT(arn == NULL && account == NULL);
    }
    rc = awsapi_parse_caller(body, n, &only, NULL);
    FUZZ_ASSERT(rc != 0 || strcmp(only, arn ? arn : only) == 0);
    free(only);
    free(account);
    free(arn);
}

static void check_expiry(const char *iso)
{
    int64_t when = 1;

    /* Years 0 to 9999, seconds up to 61 (leap seconds) allowed. */
    if (awsapi_parse_expiry(iso, &when) == 0) {
        FUZZ_ASSERT(when >= -62167219200LL && when < 253402387200LL);
    } else {
        FUZZ_ASSERT(when == 0);
    }
}

static void fuzz_creds(const char *body, size_t n, bool xml)
{
    struct awsapi_creds c;
    int rc;

    rc = xml ? awsapi_parse_web_identity(body, n, &c)
             : awsapi_parse_container(body, n, &c);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
    if (rc < 0) {
        FUZZ_ASSERT(c.id == NULL && c.secret == NULL && c.token == NULL &&
                    c.expiration == NULL);
        return;
    }
    FUZZ_ASSERT(c.id != NULL && c.secret != NULL);
    FUZZ_ASSERT(!xml || c.token != NULL);
    if (xml) {
        /* XML values are the text between the tags, never empty. */
        check_piece(c.id, body, n, true);
        check_piece(c.secret, body, n, true);
        check_piece(c.token, body, n, true);
    }
    if (c.expiration != NULL) {
        check_expiry(c.expiration);
    }
    awsapi_creds_cleanup(&c);
    FUZZ_ASSERT(c.id == NULL && c.secret == NULL);
}

static void fuzz_workload(const char *body, size_t n)
{
    char *token = NULL;
    int rc = awsapi_parse_workload_token(body, n, &token);

    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
    FUZZ_ASSERT((rc == 0) == (token != NULL));
    if (token != NULL) {
        FUZZ_ASSERT(token[0] != '\0' && strlen(token) <= n);
        free(token);
    }
}

/* A decoded KMS member must encode back to base64 no longer than the
 * body it came from. */
static void check_kms(int rc, const struct buf *out, size_t n)
{
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -EINVAL ||
                rc == -ENOMEM);
    FUZZ_ASSERT(rc == 0 || out->len == 0);
    FUZZ_ASSERT(out->len <= n);
}

static void check_signature(const uint8_t *der, size_t n)
{
    struct buf raw;
    int rc;

    buf_init(&raw);
    rc = awsapi_parse_signature(der, n, &raw);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
    FUZZ_ASSERT(raw.len == (rc == 0 ? 64u : 0u));
    buf_cleanup(&raw);
}

/* A key KMS hands out must survive its JWK: same type, same kid. */
static void check_public_key(const uint8_t *spki, size_t n)
{
    struct key *k = NULL, *again = NULL;
    json_t *jwk;
    int rc;

    rc = awsapi_parse_public_key(spki, n, &k);
    FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP);
    FUZZ_ASSERT((rc == 0) == (k != NULL));
    if (k == NULL) {
        return;
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

static void fuzz_kms(const char *body, size_t n, bool sign)
{
    struct buf out;
    int rc;

    buf_init(&out);
    rc = awsapi_parse_kms(body, n, sign ? "Signature" : "PublicKey", &out);
    check_kms(rc, &out, n);
    if (rc == 0 && sign) {
        check_signature(out.data, out.len);
    } else if (rc == 0) {
        check_public_key(out.data, out.len);
    }
    buf_cleanup(&out);
}

static void fuzz_expiry(const uint8_t *data, size_t n)
{
    char *s = fuzz_cstr(data, n);

    check_expiry(s);
    free(s);
}

/* An empty reply arrives as (NULL, 0): every parser must refuse it. */
static void empty_reply(void)
{
    struct awsapi_creds c;
    struct buf out;
    struct key *k = NULL;
    char *arn = NULL, *account = NULL, *token = NULL;
    char code[16];

    buf_init(&out);
    awsapi_parse_error(NULL, 0, code, sizeof(code));
    FUZZ_ASSERT(code[0] == '\0');
    FUZZ_ASSERT(awsapi_parse_caller(NULL, 0, &arn, &account) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_web_identity(NULL, 0, &c) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_container(NULL, 0, &c) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_workload_token(NULL, 0, &token) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_kms(NULL, 0, "Signature", &out) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_signature(NULL, 0, &out) == -EBADMSG);
    FUZZ_ASSERT(awsapi_parse_public_key(NULL, 0, &k) == -EBADMSG);
    FUZZ_ASSERT(arn == NULL && token == NULL && k == NULL && out.len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *which;
    char *body;
    size_t n;
    int sel;

    if (size == 0) {
        empty_reply();
        return 0;
    }
    which = data[0] ? strchr(parsers, data[0]) : NULL;
    sel = which ? (int)(which - parsers)
                : data[0] % (int)(sizeof(parsers) - 1);
    n = size - 1;
    body = body_copy(data + 1, n);
    switch (sel) {
    case 0: fuzz_error(body, n); break;
    case 1: fuzz_caller(body, n); break;
    case 2: fuzz_creds(body, n, true); break;
    case 3: fuzz_creds(body, n, false); break;
    case 4: fuzz_workload(body, n); break;
    case 5: fuzz_kms(body, n, true); break;
    case 6: fuzz_kms(body, n, false); break;
    case 7: fuzz_expiry(data + 1, n); break;
    case 8: check_signature((const uint8_t *)body, n); break;
    default: check_public_key((const uint8_t *)body, n); break;
    }
    free(body);
    return 0;
}
