/* SPDX-License-Identifier: Apache-2.0 */
/* OIDC identity: a JWT from a token file (KEST_OIDC_TOKEN_FILE), checked
 * against its issuer's JWKS before use, vouches for a per-process
 * Ed25519 session key that signs the records. The principal is
 * "<iss>#<sub>". Each process's first record (and the first after the
 * token changed) binds the session key to the token; see
 * docs/THREAT-MODEL.md for what the verifier can check. */
#include "providers/providers.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/jwt.h"
#include "core/key.h"
#include "core/klog.h"
#include "core/record.h"
#include "core/secmem.h"
#include "providers/jwks.h"

#define OIDC_SKEW 30
#define OIDC_TOKEN_MAX (64 * 1024)

struct oidc_state {
    char *token_file;
    char *jwks_src; /* KEST_OIDC_JWKS, NULL: discovery */
    char *issuer;   /* KEST_OIDC_ISSUER, NULL: any */
    char *audience; /* KEST_OIDC_AUDIENCE, NULL: any */
    bool embed;
    int timeout_ms;
    json_t *jwks;
    struct key *session;
    char *token; /* secmem */
    char *iss;
    char *sub;
    char *principal;
    int64_t exp;
    char token_sha[65];
    struct stat seen;  /* the token file as last read */
    unsigned gen;      /* bumped on every token adopted */
    pid_t bound_pid;   /* process whose records carry the binding */
    unsigned bound_gen;
};

static bool oidc_detect(const struct config *cfg)
{
    return cfg->oidc_token_file != NULL;
}

static void free_token(char **t)
{
    secmem_free(*t);
    *t = NULL;
}

/* The whole file, trailing white space removed, in secmem. Not
 * O_NOFOLLOW: token files are usually symlinks (Kubernetes projected
 * volumes swap them). */
static int read_token(const char *path, char **out, struct stat *st)
{
    char *t = NULL;
    ssize_t got = 0;
    size_t len;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, st) < 0) {
        rc = -errno;
        klog_error("oidc", "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st->st_mode) || st->st_size > OIDC_TOKEN_MAX) {
        klog_error("oidc", "%s: not a regular file of at most %d bytes",
                   path, OIDC_TOKEN_MAX);
        rc = -EBADMSG;
        goto out;
    }
    t = secmem_alloc((size_t)st->st_size + 1);
    if (t == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    got = read(fd, t, (size_t)st->st_size);
    len = got > 0 ? (size_t)got : 0;
    while (len > 0 && strchr(" \t\r\n", t[len - 1]) != NULL) {
        t[--len] = '\0';
    }
    if (got < 0) {
        rc = -errno;
        klog_error("oidc", "%s: %s", path, strerror(errno));
    } else if (len == 0) {
        klog_error("oidc", "%s: empty token file", path);
        rc = -ENODATA;
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc == 0 && t == NULL) {
        rc = -EIO; /* a failed call left errno 0 (an interposed open?) */
    }
    if (rc < 0) {
        free_token(&t);
    }
    *out = t;
    return rc;
}

/* "aud" is a string or an array of strings (RFC 7519, 4.1.3). */
static bool aud_has(const json_t *claims, const char *want)
{
    const json_t *aud = json_object_get(claims, "aud");
    size_t i;

    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), want) == 0;
    }
    for (i = 0; i < json_array_size(aud); i++) {
        const char *a = json_string_value(json_array_get(aud, i));

        if (a != NULL && strcmp(a, want) == 0) {
            return true;
        }
    }
    return false;
}

static int check_claims(const struct oidc_state *st, const json_t *claims)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));

    if (iss == NULL || sub == NULL || *iss == '\0' || *sub == '\0') {
        klog_error("oidc", "token rejected: no iss or sub claim");
        return -EBADMSG;
    }
    if (st->issuer != NULL && strcmp(iss, st->issuer) != 0) {
        klog_error("oidc", "token rejected: issuer %s is not %s", iss,
                   st->issuer);
        return -EBADMSG;
    }
    if (st->audience != NULL && !aud_has(claims, st->audience)) {
        klog_error("oidc", "token rejected: audience %s not in aud",
                   st->audience);
        return -EBADMSG;
    }
    return 0;
}

/* Signature, alg and times by core/jwt.c; then issuer and audience. A
 * key the cached JWKS lacks may be a rotation: fetch it once more. */
static int validate(struct oidc_state *st, const char *token, bool fresh,
                    json_t **claims)
{
    char why[256];
    int rc;

    rc = jwt_verify(token, st->jwks, NULL, (int64_t)time(NULL), OIDC_SKEW,
                    claims, why, sizeof(why));
    if (rc == -EBADMSG && !fresh && strstr(why, "no usable key") != NULL) {
        json_t *again = NULL;

        if (jwks_load(st->jwks_src, st->issuer, st->timeout_ms,
                      &again) == 0) {
            json_decref(st->jwks);
            st->jwks = again;
            return validate(st, token, true, claims);
        }
    }
    if (rc < 0) {
        klog_error("oidc", "token rejected: %s", why);
        return rc;
    }
    rc = check_claims(st, *claims);
    if (rc < 0) {
        json_decref(*claims);
        *claims = NULL;
    }
    return rc;
}

static int sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 ||
        n != 32) {
        return -EIO;
    }
    record_hex(md, 32, out);
    return 0;
}

/* Make a validated token the current one; takes token and claims. */
static int adopt(struct oidc_state *st, char *token, json_t *claims,
                 const struct stat *sb)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    char *p = NULL;
    char *i = strdup(iss);
    char *s = strdup(sub);
    int rc = -ENOMEM;

    if (i != NULL && s != NULL && asprintf(&p, "%s#%s", iss, sub) >= 0) {
        rc = sha256_hex(token, st->token_sha);
    }
    if (rc < 0) {
        free(i);
        free(s);
        free(p);
        free_token(&token);
        json_decref(claims);
        return rc;
    }
    free_token(&st->token);
    free(st->iss);
    free(st->sub);
    free(st->principal);
    st->token = token;
    st->iss = i;
    st->sub = s;
    st->principal = p;
    st->exp = (int64_t)json_number_value(json_object_get(claims, "exp"));
    st->seen = *sb;
    st->gen++;
    json_decref(claims);
    klog_info("oidc", "token for %s valid until %lld", p,
              (long long)st->exp);
    return 0;
}

static int load_token(struct oidc_state *st, bool fresh)
{
    json_t *claims = NULL;
    struct stat sb;
    char *token = NULL;
    int rc;

    rc = read_token(st->token_file, &token, &sb);
    if (rc == 0) {
        rc = validate(st, token, fresh, &claims);
    }
    if (rc != 0) {
        free_token(&token);
        return rc;
    }
    return adopt(st, token, claims, &sb);
}

static void oidc_release(void *state)
{
    struct oidc_state *st = state;

    free_token(&st->token);
    key_free(st->session);
    json_decref(st->jwks);
    free(st->token_file);
    free(st->jwks_src);
    free(st->issuer);
    free(st->audience);
    free(st->iss);
    free(st->sub);
    free(st->principal);
    free(st);
}

static int copy_config(const struct config *cfg, struct oidc_state *st)
{
    st->token_file = strdup(cfg->oidc_token_file);
    st->jwks_src = cfg->oidc_jwks ? strdup(cfg->oidc_jwks) : NULL;
    st->issuer = cfg->oidc_issuer ? strdup(cfg->oidc_issuer) : NULL;
    st->audience = cfg->oidc_audience ? strdup(cfg->oidc_audience) : NULL;
    st->embed = cfg->oidc_embed;
    st->timeout_ms = cfg->timeout_ms;
    if (st->token_file == NULL ||
        (cfg->oidc_jwks != NULL && st->jwks_src == NULL) ||
        (cfg->oidc_issuer != NULL && st->issuer == NULL) ||
        (cfg->oidc_audience != NULL && st->audience == NULL)) {
        return -ENOMEM;
    }
    return 0;
}

static int oidc_open(const struct config *cfg, void **state)
{
    struct oidc_state *st;
    int rc;

    if (cfg->oidc_token_file == NULL) {
        klog_error("oidc", "KEST_OIDC_TOKEN_FILE is not set");
        return -ENOENT;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return -ENOMEM;
    }
    rc = copy_config(cfg, st);
    if (rc == 0) {
        rc = jwks_load(st->jwks_src, st->issuer, st->timeout_ms, &st->jwks);
    }
    if (rc == 0) {
        rc = load_token(st, true);
    }
    if (rc == 0) {
        rc = key_generate(KEY_ED25519, &st->session);
    }
    if (rc < 0) {
        oidc_release(st);
        return rc;
    }
    *state = st;
    return 0;
}

static bool file_changed(const struct stat *a, const struct stat *b)
{
    return a->st_dev != b->st_dev || a->st_ino != b->st_ino ||
           a->st_size != b->st_size ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* Before each record: a replaced or rewritten token file is read and
 * validated again. A complete new token that fails validation fails
 * the record (it supersedes the old one); an empty file is a writer
 * caught between truncate and write, so the old token stays until the
 * next look. An expired token never signs. */
static int oidc_refresh(void *state)
{
    struct oidc_state *st = state;
    struct stat sb;
    int rc;

    if (stat(st->token_file, &sb) < 0) {
        rc = -errno;
        klog_error("oidc", "%s: %s", st->token_file, strerror(errno));
        return rc;
    }
    if (file_changed(&sb, &st->seen)) {
        klog_trace("oidc", "%s changed, reading it again", st->token_file);
        rc = load_token(st, false);
        if (rc == -ENODATA) {
            klog_info("oidc", "%s is empty; keeping the current token",
                      st->token_file);
        } else if (rc < 0) {
            return rc;
        }
    }
    if ((int64_t)time(NULL) >= st->exp) {
        klog_error("oidc", "token for %s expired at %lld", st->principal,
                   (long long)st->exp);
        return -EKEYEXPIRED;
    }
    return 0;
}

static const char *oidc_principal(void *state)
{
    return ((struct oidc_state *)state)->principal;
}

static int oidc_header(void *state, json_t *hdr)
{
    struct oidc_state *st = state;

    if (json_object_set_new(hdr, "alg", json_string(key_alg(st->session))) ||
        json_object_set_new(hdr, "kid",
                            json_string(key_kid(st->session)))) {
        return -ENOMEM;
    }
    return 0;
}

/* Every record names the token; the first of each process (and the
 * first after a new token) also carries the session key it binds. */
static int oidc_describe(void *state, json_t *ident)
{
    struct oidc_state *st = state;
    bool bind = st->bound_pid != getpid() || st->bound_gen != st->gen;

    if (json_object_set_new(ident, "issuer", json_string(st->iss)) ||
        json_object_set_new(ident, "subject", json_string(st->sub)) ||
        json_object_set_new(ident, "token_sha256",
                            json_string(st->token_sha)) ||
        json_object_set_new(ident, "token_exp",
                            json_integer((json_int_t)st->exp))) {
        return -ENOMEM;
    }
    if (!bind) {
        return 0;
    }
    if (json_object_set_new(ident, "session_jwk", key_jwk(st->session)) ||
        (st->embed &&
         json_object_set_new(ident, "token", json_string(st->token)))) {
        return -ENOMEM;
    }
    st->bound_pid = getpid();
    st->bound_gen = st->gen;
    return 0;
}

static int oidc_sign(void *state, const void *msg, size_t n,
                     struct buf *sig)
{
    struct oidc_state *st = state;

    if ((int64_t)time(NULL) >= st->exp) {
        klog_error("oidc", "refusing to sign under an expired token");
        return -EKEYEXPIRED;
    }
    return key_sign(st->session, msg, n, sig);
}

const struct ident_ops provider_oidc = {
    .name = "oidc",
    .per_process = true,
    .detect = oidc_detect,
    .open = oidc_open,
    .refresh = oidc_refresh,
    .principal = oidc_principal,
    .header = oidc_header,
    .describe = oidc_describe,
    .sign = oidc_sign,
    .release = oidc_release,
};
