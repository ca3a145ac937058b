/* SPDX-License-Identifier: Apache-2.0 */
/* Log verification. */
#include "core/verify.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/htab.h"
#include "core/jcs.h"
#include "core/record.h"
#include "core/jwt.h"
#include "core/x5c.h"

#define BATCH_LINES 4096
#define OIDC_SKEW 30
#define BATCH_BYTES (64u << 20)

struct line {
    char *text;
    size_t len;
    uint64_t no;
    /* results of the parallel check */
    char *error;
    bool gap;
    char hash[65];
    char prev[65];
    char instance[33];
    uint64_t seq;
    json_t *payload;
    /* OIDC: the session key this record bound (checked), or a signature
     * left for settle() to check with a key bound earlier. */
    struct key *bound;
    int64_t bound_exp;
    bool deferred;
    char *dalg;
    char *dkid;
    struct buf din;
    struct buf dsig;
};

struct batch {
    struct line *lines;
    size_t n;
    const struct verify_opts *opts;
    int stride;
    int first;
};

/* Where a record line's members are: the payload text begins at
 * LINE_HEAD, then come the protected header and the signature, each a
 * span of the line (base64url, so the JSON strings are their bytes). */
struct parts {
    size_t plen;
    const char *prot;
    size_t pn;
    const char *sig;
    size_t sn;
};

/* What one worker thread keeps from line to line: buffers, and the
 * last protected header it decoded (a log's records mostly share one). */
struct work {
    struct buf input; /* the JWS signing input */
    struct buf raw;   /* the signature's bytes */
    struct buf prot;  /* the header hdr was read from, if kept */
    json_t *hdr;
    bool kept;
    /* hdr's x5c chain as last checked against the bundle: for principal
     * x5c_who, at record times in x5c_at, the leaf key is x5c_key. A
     * SPIRE log has one chain for thousands of records. */
    struct key *x5c_key;
    char *x5c_who;
    struct x5c_valid x5c_at;
};

static void x5c_forget(struct work *w)
{
    key_free(w->x5c_key);
    free(w->x5c_who);
    w->x5c_key = NULL;
    w->x5c_who = NULL;
}

#define LINE_HEAD "{\"payload\":"
#define LINE_PROT ",\"protected\":\""
#define LINE_SIG "\",\"signature\":\""
#define LINE_TAIL "\"}"
#define LEN(s) (sizeof(s) - 1)

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s;

    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    return s ? s : strdup("out of memory");
}

static bool hexc(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex(const char *s, size_t n)
{
    size_t i;

    if (s == NULL || strlen(s) != n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!hexc(s[i])) {
            return false;
        }
    }
    return true;
}

/* Whole string is base64url; an embedded NUL stops strspn and fails. */
static bool is_b64url(const json_t *s)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789-_";

    return strspn(json_string_value(s), alpha) == json_string_length(s);
}

static bool is_link(const char *s)
{
    return s != NULL && (strcmp(s, "0") == 0 || is_hex(s, 64));
}

static bool is_uuid7(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 36 || s[14] != '7' ||
        strchr("89ab", s[19]) == NULL) {
        return false;
    }
    for (i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !hexc(s[i])) {
            return false;
        }
    }
    return true;
}

/* The payload fields the chain and lineage checks rely on. */
static char *check_payload(struct line *l, json_t *pl)
{
    json_t *parents = json_object_get(pl, "parent_ids");
    json_t *labels = json_object_get(pl, "labels");
    json_t *proc = json_object_get(pl, "process");
    const char *op = json_string_value(json_object_get(pl, "operation"));
    const char *prev = json_string_value(json_object_get(pl, "log_prev"));
    const char *inst = json_string_value(json_object_get(proc, "instance"));
    json_t *seq = json_object_get(pl, "seq");
    size_t i;

    if (!json_is_string(json_object_get(pl, "schema_version")) ||
        strcmp(json_string_value(json_object_get(pl, "schema_version")),
               RECORD_SCHEMA) != 0) {
        return fmt("unknown schema_version");
    }
    if (!is_uuid7(json_string_value(json_object_get(pl, "entry_id")))) {
        return fmt("entry_id is not a UUIDv7");
    }
    if (op == NULL || op[0] == '\0') {
        return fmt("operation missing");
    }
    if (!json_is_integer(json_object_get(pl, "timestamp_ms"))) {
        return fmt("timestamp_ms missing");
    }
    if (!json_is_array(parents) || json_array_size(parents) == 0) {
        return fmt("parent_ids missing");
    }
    for (i = 0; i < json_array_size(parents); i++) {
        if (!is_link(json_string_value(json_array_get(parents, i)))) {
            return fmt("parent_ids[%zu] is not a record hash", i);
        }
    }
    if (!json_is_string(json_object_get(labels, "principal"))) {
        return fmt("labels.principal missing");
    }
    if (!is_link(prev)) {
        return fmt("log_prev missing or malformed");
    }
    if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
        return fmt("seq missing");
    }
    if (!is_hex(inst, 32)) {
        return fmt("process.instance missing");
    }
    strcpy(l->prev, prev);
    strcpy(l->instance, inst);
    l->seq = (uint64_t)json_integer_value(seq);
    return NULL;
}

static struct key *find_key(const struct verify_opts *o, const char *kid)
{
    size_t i;

    for (i = 0; kid != NULL && i < o->nkeys; i++) {
        if (strcmp(key_kid(o->keys[i]), kid) == 0) {
            return o->keys[i];
        }
    }
    return NULL;
}

/* The key that must have made the signature: a trusted --key named by
 * kid, or the leaf of an x5c chain that leads to the --bundle. */
/* x5c_check, or the answer it gave for this worker's header before
 * when the principal is the same and the record's time lies where every
 * certificate of the verified chain is valid (nothing else in the check
 * depends on the time). *k is the leaf's key, owned by the cache or by
 * *owned. */
static int x5c_signer(struct work *w, const json_t *x5c,
                      const struct verify_opts *o, int64_t ms,
                      const char *who, struct key **k, struct key **owned,
                      char *why, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct x5c_valid v;
    int rc;

    if (w->x5c_key != NULL && who != NULL && ms >= 0 &&
        strcmp(w->x5c_who, who) == 0 && t >= w->x5c_at.from &&
        t < w->x5c_at.until) {
        *k = w->x5c_key;
        return 0;
    }
    rc = x5c_check(x5c, o->bundle, ms, who, owned, &v, why, cap);
    if (rc < 0) {
        return rc;
    }
    *k = *owned;
    /* Kept only with the header it came from (header_of forgets it). */
    if (w->kept && who != NULL) {
        x5c_forget(w);
        w->x5c_who = strdup(who);
        if (w->x5c_who != NULL) {
            w->x5c_key = *owned;
            w->x5c_at = v;
            *owned = NULL;
        }
    }
    return 0;
}

static char *signer_key(struct line *l, const struct verify_opts *o,
                        struct work *w, const json_t *h, struct key **k,
                        struct key **owned)
{
    const char *kid = json_string_value(json_object_get(h, "kid"));
    const json_t *x5c = json_object_get(h, "x5c");
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    json_int_t ms = json_integer_value(
        json_object_get(l->payload, "timestamp_ms"));
    char why[512];

    *k = find_key(o, kid);
    if (*k != NULL && (x5c == NULL || o->bundle == NULL)) {
        return NULL;
    }
    if (x5c != NULL && o->bundle != NULL) {
        if (x5c_signer(w, x5c, o, ms, who, k, owned, why, sizeof(why)) <
            0) {
            return fmt("%s", why);
        }
        if (kid != NULL && strcmp(kid, key_kid(*k)) != 0) {
            return fmt("kid %s is not the x5c leaf's key", kid);
        }
        return NULL;
    }
    if (x5c != NULL) {
        return fmt("signed by an X.509 SVID: verify with --bundle");
    }
    return fmt("no trusted key with kid %s", kid ? kid : "(none)");
}

static bool is_provider(const struct line *l, const char *name)
{
    const char *p = json_string_value(json_object_get(
        json_object_get(l->payload, "identity"), "provider"));

    return p != NULL && strcmp(p, name) == 0;
}

static bool is_oidc(const struct line *l)
{
    return is_provider(l, "oidc");
}

static bool sha256_is(const char *s, const char *want)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[65];

    if (want == NULL ||
        EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 ||
        n != 32) {
        return false;
    }
    record_hex(md, 32, hex);
    return strcmp(hex, want) == 0;
}

/* The token must verify with the issuer's JWKS at the record's time,
 * hash to token_sha256 and name the record's principal (iss#sub); then
 * session_jwk, the key named by kid, is trusted for this process. */
static char *oidc_binding(struct line *l, const struct verify_opts *o,
                          const json_t *ident, const char *kid,
                          struct key **k)
{
    const char *tok = json_string_value(json_object_get(ident, "token"));
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    json_int_t ms = json_integer_value(
        json_object_get(l->payload, "timestamp_ms"));
    json_t *claims = NULL;
    struct key *key = NULL;
    char why[256];
    char *err = NULL;
    char *p = NULL;

    if (tok == NULL) {
        return fmt("OIDC session key binding cannot be checked offline: "
                   "the token is not embedded (KEST_OIDC_EMBED=1)");
    }
    if (jwt_verify(tok, o->oidc_jwks, NULL, ms / 1000, OIDC_SKEW, &claims,
                   why, sizeof(why)) < 0) {
        return fmt("OIDC token: %s", why);
    }
    if (!sha256_is(tok, json_string_value(json_object_get(
                            ident, "token_sha256")))) {
        err = fmt("OIDC token does not hash to token_sha256");
    } else if (asprintf(&p, "%s#%s", json_string_value(json_object_get(
                            claims, "iss")), json_string_value(
                            json_object_get(claims, "sub"))) < 0 ||
               who == NULL || strcmp(p, who) != 0) {
        err = fmt("OIDC token names %s, not the principal %s",
                  p ? p : "(none)", who ? who : "(none)");
    } else if (jwt_key_from_jwk(json_object_get(ident, "session_jwk"),
                                &key) < 0) {
        err = fmt("session_jwk is not a usable public key");
    } else if (kid == NULL || strcmp(kid, key_kid(key)) != 0) {
        err = fmt("kid %s is not the bound session key", kid ? kid : "-");
    }
    if (err == NULL) {
        l->bound = key;
        l->bound_exp = (int64_t)json_number_value(
            json_object_get(claims, "exp"));
        *k = key;
        key = NULL;
    }
    key_free(key);
    free(p);
    json_decref(claims);
    return err;
}

/* A record with session_jwk binds a key; any other is signed by a key
 * its process bound earlier: *k stays NULL and settle() checks it. */
static char *oidc_signer(struct line *l, const struct verify_opts *o,
                         const json_t *h, struct key **k)
{
    const json_t *ident = json_object_get(l->payload, "identity");
    const char *kid = json_string_value(json_object_get(h, "kid"));

    *k = NULL;
    if (json_object_get(ident, "session_jwk") != NULL) {
        return oidc_binding(l, o, ident, kid, k);
    }
    l->deferred = true;
    l->dkid = strdup(kid ? kid : "");
    return l->dkid ? NULL : fmt("out of memory");
}

/* The KMS key must have signed the JCS form of kms_binding, which
 * must name the record's principal and, as session_jwk, the key named
 * by kid; that key is then trusted for this process instance. */
static char *aws_binding(struct line *l, const struct verify_opts *o,
                         const json_t *ident, const char *kid,
                         struct key **k)
{
    const json_t *b = json_object_get(ident, "kms_binding");
    const char *sig = json_string_value(json_object_get(ident,
                                                        "kms_binding_sig"));
    const char *bp = json_string_value(json_object_get(b, "principal"));
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    struct buf canon, raw;
    struct key *key = NULL;
    char *err = NULL;

    buf_init(&canon);
    buf_init(&raw);
    if (!json_is_object(b) || sig == NULL || jcs_encode(&canon, b) < 0 ||
        b64url_decode(&raw, sig, strlen(sig)) < 0) {
        err = fmt("kms_binding or kms_binding_sig is malformed");
    } else if (key_verify(o->kms_key, "ES256", canon.data, canon.len,
                          raw.data, raw.len) < 0) {
        err = fmt("kms_binding is not signed by the --kms-key key");
    } else if (bp == NULL || who == NULL || strcmp(bp, who) != 0) {
        err = fmt("kms_binding names %s, not the principal %s",
                  bp ? bp : "(none)", who ? who : "(none)");
    } else if (jwt_key_from_jwk(json_object_get(b, "session_jwk"),
                                &key) < 0) {
        err = fmt("kms_binding session_jwk is not a usable public key");
    } else if (kid == NULL || strcmp(kid, key_kid(key)) != 0) {
        err = fmt("kid %s is not the bound session key", kid ? kid : "-");
    }
    if (err == NULL) {
        l->bound = key;
        l->bound_exp = INT64_C(1) << 50; /* bound for the process's life */
        *k = key;
        key = NULL;
    }
    key_free(key);
    buf_cleanup(&canon);
    buf_cleanup(&raw);
    return err;
}

static char *aws_signer(struct line *l, const struct verify_opts *o,
                        const json_t *h, struct key **k)
{
    const json_t *ident = json_object_get(l->payload, "identity");
    const char *kid = json_string_value(json_object_get(h, "kid"));
    const char *mode = json_string_value(json_object_get(ident,
                                                         "kms_sign"));

    *k = NULL;
    if (mode != NULL && strcmp(mode, "every") == 0) {
        return fmt("KMS-signed record: kid %s is not the --kms-key key",
                   kid ? kid : "-");
    }
    if (json_object_get(ident, "kms_binding") != NULL) {
        return aws_binding(l, o, ident, kid, k);
    }
    l->deferred = true;
    l->dkid = strdup(kid ? kid : "");
    return l->dkid ? NULL : fmt("out of memory");
}

/* No trusted key named by kid: the record may be signed by a session
 * key its process bound (OIDC, AWS KMS). Takes err; returns the verdict
 * in its place. */
static char *bound_signer(struct line *l, const struct verify_opts *o,
                          const json_t *h, struct key **k, char *err)
{
    if (is_oidc(l)) {
        free(err);
        return o->oidc_jwks ? oidc_signer(l, o, h, k)
                            : fmt("signed by an OIDC session key: verify "
                                  "with --oidc-jwks");
    }
    if (is_provider(l, "aws") || is_provider(l, "agentcore")) {
        free(err);
        return o->kms_key ? aws_signer(l, o, h, k)
                          : fmt("signed through AWS KMS: verify with "
                                "--kms-key");
    }
    return err;
}

/* The protected header's JSON, or NULL if it is not base64url JSON.
 * The worker keeps it (the caller does not free it) until a line with
 * another header comes. */
static const json_t *header_of(struct work *w, const struct parts *pt)
{
    struct buf hdr;
    json_t *h = NULL;

    if (w->kept && w->prot.len == pt->pn &&
        memcmp(w->prot.data, pt->prot, pt->pn) == 0) {
        return w->hdr;
    }
    buf_init(&hdr);
    if (b64url_decode(&hdr, pt->prot, pt->pn) == 0) {
        h = json_loadb((char *)hdr.data, hdr.len, JSON_REJECT_DUPLICATES,
                       NULL);
    }
    buf_cleanup(&hdr);
    if (h != NULL && !json_is_object(h)) {
        json_decref(h);
        h = NULL;
    }
    json_decref(w->hdr);
    x5c_forget(w);
    w->hdr = h;
    w->prot.len = 0;
    /* If it cannot be kept, the next line decodes its own. */
    w->kept = h != NULL && buf_append(&w->prot, pt->prot, pt->pn) == 0;
    return h;
}

/* Keep the signing input and the signature for settle(), which checks
 * them once it knows the key. */
static char *defer(struct line *l, const struct work *w, const char *alg)
{
    l->dalg = strdup(alg);
    if (l->dalg == NULL ||
        buf_append(&l->din, w->input.data, w->input.len) < 0 ||
        buf_append(&l->dsig, w->raw.data, w->raw.len) < 0) {
        return fmt("out of memory");
    }
    return NULL;
}

/* w->input holds the signing input. */
static char *check_signature(struct line *l, const struct verify_opts *o,
                             struct work *w, const struct parts *pt)
{
    const json_t *h = header_of(w, pt);
    const char *alg;
    const char *kid;
    struct key *k = NULL;
    struct key *owned = NULL;
    char *err = NULL;
    int rc;

    if (h == NULL) {
        return fmt("protected header is not base64url JSON");
    }
    alg = json_string_value(json_object_get(h, "alg"));
    kid = json_string_value(json_object_get(h, "kid"));
    if (alg == NULL) {
        return fmt("protected header has no alg");
    }
    if (strcmp(alg, "none") == 0) {
        l->gap = true;
        if (pt->sn != 0 ||
            strcmp(json_string_value(json_object_get(l->payload,
                                                     "operation")),
                   "gap") != 0) {
            return fmt("unsigned record that is not a gap");
        }
        return NULL;
    }
    if (o->no_signatures) {
        return NULL;
    }
    err = signer_key(l, o, w, h, &k, &owned);
    if (err != NULL) {
        err = bound_signer(l, o, h, &k, err);
    }
    if (err != NULL) {
        goto out;
    }
    w->raw.len = 0;
    if (b64url_decode(&w->raw, pt->sig, pt->sn) < 0) {
        err = fmt("signature is not base64url");
        goto out;
    }
    if (l->deferred) {
        err = defer(l, w, alg);
        goto out;
    }
    rc = key_verify(k, alg, w->input.data, w->input.len, w->raw.data,
                    w->raw.len);
    if (rc == -EPROTO) {
        err = fmt("key type mismatch: alg %s with a %s key", alg,
                  key_alg(k));
    } else if (rc < 0) {
        err = fmt("bad signature (kid %s)", kid);
    }
out:
    key_free(owned);
    return err;
}

/* An embedded JWT-SVID must verify with the JWT bundle at the record's
 * time and name the record's principal as its subject. */
static char *check_jwt_svid(struct line *l, const struct verify_opts *o)
{
    const json_t *ident = json_object_get(l->payload, "identity");
    const char *tok = json_string_value(json_object_get(ident, "jwt_svid"));
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    json_int_t ms = json_integer_value(
        json_object_get(l->payload, "timestamp_ms"));
    json_t *claims = NULL;
    const char *sub;
    char why[256];
    char *err = NULL;

    if (tok == NULL || o->jwt_bundle == NULL) {
        return NULL;
    }
    if (jwt_verify(tok, o->jwt_bundle, NULL, ms / 1000, 30, &claims, why,
                   sizeof(why)) < 0) {
        return fmt("JWT-SVID: %s", why);
    }
    sub = json_string_value(json_object_get(claims, "sub"));
    if (sub == NULL || who == NULL || strcmp(sub, who) != 0) {
        err = fmt("JWT-SVID subject %s is not the principal %s",
                  sub ? sub : "(none)", who ? who : "(none)");
    }
    json_decref(claims);
    return err;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The start of the base64url run that ends at end, not before start. */
static const char *b64_back(const char *start, const char *end)
{
    while (end > start && b64url_char(end[-1])) {
        end--;
    }
    return end;
}

/* A canonical line is LINE_HEAD payload LINE_PROT P LINE_SIG S
 * LINE_TAIL. P and S are base64url and hold no quote, so they are
 * found from the end and the payload is what is left. False if the
 * line is not laid out so. */
static bool split_line(const struct line *l, struct parts *pt)
{
    const char *t = l->text + LEN(LINE_HEAD);
    const char *e = l->text + l->len;

    if (l->len < LEN(LINE_HEAD) + LEN(LINE_TAIL) ||
        memcmp(l->text, LINE_HEAD, LEN(LINE_HEAD)) != 0 ||
        memcmp(e - LEN(LINE_TAIL), LINE_TAIL, LEN(LINE_TAIL)) != 0) {
        return false;
    }
    e -= LEN(LINE_TAIL);
    pt->sig = b64_back(t, e);
    pt->sn = (size_t)(e - pt->sig);
    if ((size_t)(pt->sig - t) < LEN(LINE_SIG) ||
        memcmp(pt->sig - LEN(LINE_SIG), LINE_SIG, LEN(LINE_SIG)) != 0) {
        return false;
    }
    e = pt->sig - LEN(LINE_SIG);
    pt->prot = b64_back(t, e);
    pt->pn = (size_t)(e - pt->prot);
    if ((size_t)(pt->prot - t) < LEN(LINE_PROT) ||
        memcmp(pt->prot - LEN(LINE_PROT), LINE_PROT, LEN(LINE_PROT)) != 0) {
        return false;
    }
    pt->plen = (size_t)(pt->prot - LEN(LINE_PROT) - t);
    return true;
}

/* The payload members the checks below and settle() read. Only these
 * are built (unless the caller wants whole payloads); a check of any
 * other member must add it here, or it would see the member missing
 * (test_verify's full_parse runs, which build everything, would
 * disagree). */
static const struct jcs_keep read_process[] = {
    {"instance", NULL},
    {NULL, NULL},
};

static const struct jcs_keep read_members[] = {
    {"entry_id", NULL},   {"gap", NULL},
    {"identity", NULL},   {"labels", NULL},
    {"log_prev", NULL},   {"operation", NULL},
    {"parent_ids", NULL}, {"process", read_process},
    {"schema_version", NULL}, {"seq", NULL},
    {"timestamp_ms", NULL}, {NULL, NULL},
};

/* The common case: the line has the record's layout and its payload is
 * canonical, which makes the whole line canonical (the three members
 * are in order). One pass checks the payload, one builds it. False
 * sends the line to load_slow(). */
static bool load_fast(struct line *l, const struct verify_opts *o,
                      struct parts *pt)
{
    const struct jcs_keep *keep = o->each != NULL ? NULL : read_members;
    json_t *pl;

    if (!split_line(l, pt) ||
        jcs_load_members(l->text + LEN(LINE_HEAD), pt->plen, keep,
                         &pl) < 0) {
        return false;
    }
    if (!json_is_object(pl)) {
        json_decref(pl);
        return false;
    }
    l->payload = pl;
    return true;
}

/* Any line: parse it whole, then prove it canonical by encoding it
 * again. Slow, but it tells what is wrong with a line. */
static char *load_slow(struct line *l, struct parts *pt)
{
    json_error_t jerr;
    struct buf canon;
    json_t *root;
    json_t *pl;
    char *err = NULL;

    root = json_loadb(l->text, l->len, JSON_REJECT_DUPLICATES |
                      JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        return fmt("damaged line, not JSON (%s)", jerr.text);
    }
    buf_init(&canon);
    pl = json_object_get(root, "payload");
    if (!json_is_object(root) || json_object_size(root) != 3 ||
        !json_is_object(pl) ||
        !json_is_string(json_object_get(root, "protected")) ||
        !json_is_string(json_object_get(root, "signature"))) {
        err = fmt("not a record: want payload, protected and signature");
        goto out;
    }
    if (jcs_encode(&canon, root) < 0 || canon.len != l->len ||
        memcmp(canon.data, l->text, l->len) != 0) {
        err = fmt("not in canonical form (RFC 8785)");
        goto out;
    }
    /* The payload offset and the hash below count on plain base64url,
     * also when signatures are not checked. */
    if (!is_b64url(json_object_get(root, "protected"))) {
        err = fmt("protected header is not base64url JSON");
        goto out;
    }
    if (!is_b64url(json_object_get(root, "signature"))) {
        err = fmt("signature is not base64url");
        goto out;
    }
    /* Canonical with base64url strings: laid out as split_line reads. */
    if (!split_line(l, pt)) {
        err = fmt("not a record: want payload, protected and signature");
        goto out;
    }
    l->payload = json_incref(pl);
out:
    json_decref(root);
    buf_cleanup(&canon);
    return err;
}

/* protected "." BASE64URL(payload), into w->input (RFC 7515 5.2). */
static int signing_input(struct work *w, const struct line *l,
                         const struct parts *pt)
{
    int rc;

    w->input.len = 0;
    rc = buf_reserve(&w->input, pt->pn + 1 + (pt->plen + 2) / 3 * 4);
    if (rc == 0) {
        rc = buf_append(&w->input, pt->prot, pt->pn);
    }
    if (rc == 0) {
        rc = buf_putc(&w->input, '.');
    }
    if (rc == 0) {
        rc = b64url_encode(&w->input, l->text + LEN(LINE_HEAD), pt->plen);
    }
    return rc;
}

static char *check_line(struct line *l, const struct verify_opts *o,
                        struct work *w)
{
    struct parts pt;
    const char *pb64;
    char *err;

    if (l->len == 0) {
        return fmt("empty line");
    }
    if (o->full_parse || !load_fast(l, o, &pt)) {
        err = load_slow(l, &pt);
        if (err != NULL) {
            return err;
        }
    }
    err = check_payload(l, l->payload);
    if (err != NULL) {
        return err;
    }
    if (signing_input(w, l, &pt) < 0) {
        return fmt("out of memory");
    }
    pb64 = (const char *)w->input.data + pt.pn + 1;
    if (record_hash_parts(pt.prot, pt.pn, pb64, w->input.len - pt.pn - 1,
                          pt.sig, pt.sn, l->hash) < 0) {
        return fmt("cannot hash record");
    }
    err = check_signature(l, o, w, &pt);
    if (err == NULL) {
        err = check_jwt_svid(l, o);
    }
    return err;
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    struct work w;
    size_t i;

    memset(&w, 0, sizeof(w));
    buf_init(&w.input);
    buf_init(&w.raw);
    buf_init(&w.prot);
    for (i = (size_t)b->first; i < b->n; i += (size_t)b->stride) {
        if (b->lines[i].error == NULL) {
            b->lines[i].error = check_line(&b->lines[i], b->opts, &w);
        }
    }
    json_decref(w.hdr);
    x5c_forget(&w);
    buf_cleanup(&w.input);
    buf_cleanup(&w.raw);
    buf_cleanup(&w.prot);
    return NULL;
}

static void check_batch(struct line *lines, size_t n,
                        const struct verify_opts *o)
{
    struct batch b[64];
    pthread_t tid[64];
    int t = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    int i;

    if (t < 1) {
        t = 1;
    }
    if (t > 64) {
        t = 64;
    }
    if ((size_t)t > n) {
        t = n > 0 ? (int)n : 1;
    }
    b[0] = (struct batch){lines, n, o, t, 0};
    for (i = 1; i < t; i++) {
        b[i] = (struct batch){lines, n, o, t, i};
    }
    for (i = 1; i < t; i++) {
        if (pthread_create(&tid[i], NULL, worker, &b[i]) != 0) {
            tid[i] = 0;
            worker(&b[i]);
        }
    }
    worker(&b[0]);
    for (i = 1; i < t; i++) {
        if (tid[i] != 0) {
            pthread_join(tid[i], NULL);
        }
    }
}

struct binding {
    struct key *key;
    char *principal;
    int64_t exp;
};

struct vstate {
    const struct verify_opts *o;
    struct htab bkeys;         /* instance and kid -> index + 1 */
    struct binding *bindings;
    size_t nbindings;
    struct verify_result *r;
    struct htab records;
    struct htab procs;
    struct htab principals;
    struct htab pending;
    char prev[65];
    size_t max;
};

/* Takes ownership of reason. */
static void issue(struct vstate *s, const char *log, uint64_t line,
                  char *reason)
{
    struct verify_result *r = s->r;
    struct verify_issue *n;

    r->failures++;
    if (r->nissues >= s->max) {
        free(reason);
        return;
    }
    n = realloc(r->issues, (r->nissues + 1) * sizeof(*n));
    if (n == NULL) {
        free(reason);
        return;
    }
    r->issues = n;
    n[r->nissues].log = strdup(log);
    n[r->nissues].line = line;
    n[r->nissues].reason = reason;
    r->nissues++;
}

static void track_sequence(struct vstate *s, const char *log,
                           struct line *l)
{
    uint8_t key[32];
    uint64_t *last;
    bool added;

    htab_key(l->instance, 32, key);
    last = htab_put(&s->procs, key, &added);
    if (last == NULL) {
        return;
    }
    if (added) {
        s->r->processes++;
        if (l->seq != 1) {
            issue(s, log, l->no, fmt("process %s begins at seq %llu: its "
                                     "earlier records are missing",
                                     l->instance,
                                     (unsigned long long)l->seq));
        }
    } else if (l->seq != *last + 1) {
        issue(s, log, l->no, fmt("process %s: seq %llu follows %llu",
                                 l->instance, (unsigned long long)l->seq,
                                 (unsigned long long)*last));
    }
    *last = l->seq;
}

static void track_lineage(struct vstate *s, struct line *l)
{
    json_t *parents = json_object_get(l->payload, "parent_ids");
    const char *who;
    uint8_t key[32];
    bool added;
    size_t i;

    htab_key(l->hash, 64, key);
    (void)htab_put(&s->records, key, &added);
    for (i = 0; i < json_array_size(parents); i++) {
        const char *p = json_string_value(json_array_get(parents, i));

        if (strcmp(p, "0") == 0) {
            continue;
        }
        htab_key(p, 64, key);
        if (htab_get(&s->records, key) == NULL) {
            (void)htab_put(&s->pending, key, &added);
        }
    }
    who = json_string_value(
        json_object_get(json_object_get(l->payload, "labels"), "principal"));
    /* An unsigned gap only claims its principal: count signed ones. */
    if (l->gap) {
        return;
    }
    htab_key(who, strlen(who), key);
    (void)htab_put(&s->principals, key, &added);
    if (added) {
        s->r->principals++;
        json_array_append_new(s->r->principal_list, json_string(who));
    }
}

static void binding_key(const struct line *l, const char *kid,
                        uint8_t key[32])
{
    char id[256];

    snprintf(id, sizeof(id), "%s/%s", l->instance, kid);
    htab_key(id, strlen(id), key);
}

/* Remember the key a checked binding record vouched for. */
static char *oidc_remember(struct vstate *s, struct line *l)
{
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    struct binding *n, *b;
    uint8_t key[32];
    uint64_t *slot;
    bool added;

    binding_key(l, key_kid(l->bound), key);
    slot = htab_put(&s->bkeys, key, &added);
    if (slot == NULL) {
        return fmt("out of memory");
    }
    if (added) {
        n = realloc(s->bindings, (s->nbindings + 1) * sizeof(*n));
        if (n == NULL) {
            return fmt("out of memory");
        }
        s->bindings = n;
        memset(&n[s->nbindings], 0, sizeof(*n));
        *slot = ++s->nbindings;
    }
    b = &s->bindings[*slot - 1];
    key_free(b->key);
    free(b->principal);
    b->key = l->bound;
    b->principal = strdup(who);
    b->exp = l->bound_exp;
    l->bound = NULL;
    return b->principal ? NULL : fmt("out of memory");
}

static char *oidc_deferred(struct vstate *s, struct line *l)
{
    const char *who = json_string_value(json_object_get(
        json_object_get(l->payload, "labels"), "principal"));
    json_int_t ms = json_integer_value(
        json_object_get(l->payload, "timestamp_ms"));
    const char *what = is_oidc(l) ? "OIDC" : "KMS";
    const struct binding *b;
    uint8_t key[32];
    uint64_t *slot;

    binding_key(l, l->dkid, key);
    slot = htab_get(&s->bkeys, key);
    if (slot == NULL) {
        return fmt("no verified %s binding for session key %s in "
                   "process %s", what, l->dkid, l->instance);
    }
    b = &s->bindings[*slot - 1];
    if (key_verify(b->key, l->dalg, l->din.data, l->din.len, l->dsig.data,
                   l->dsig.len) < 0) {
        return fmt("bad signature (%s session key %s)", what, l->dkid);
    }
    if (strcmp(who, b->principal) != 0) {
        return fmt("principal %s is not the bound %s's %s", who,
                   is_oidc(l) ? "token" : "binding", b->principal);
    }
    if (ms / 1000 > b->exp + OIDC_SKEW) {
        return fmt("record made after the bound OIDC token expired");
    }
    return NULL;
}

static void settle(struct vstate *s, const char *log, struct line *l)
{
    if (l->error == NULL && l->bound != NULL) {
        l->error = oidc_remember(s, l);
    } else if (l->error == NULL && l->deferred) {
        l->error = oidc_deferred(s, l);
    }
    if (l->error != NULL) {
        issue(s, log, l->no, l->error);
        l->error = NULL;
        return;
    }
    if (strcmp(l->prev, s->prev) != 0) {
        issue(s, log, l->no, fmt("log_prev %.12s does not name the previous "
                                 "record %.12s: a line was deleted, "
                                 "reordered or inserted", l->prev,
                                 s->prev));
    }
    memcpy(s->prev, l->hash, sizeof(s->prev));
    track_sequence(s, log, l);
    track_lineage(s, l);
    if (l->gap) {
        json_t *g = json_object_get(l->payload, "gap");
        const char *why = json_string_value(json_object_get(g, "reason"));

        s->r->gaps++;
        if (!s->o->allow_gaps) {
            issue(s, log, l->no, fmt("gap: a record could not be signed: %s",
                                     why ? why : "no reason given"));
        }
    } else {
        s->r->records++;
    }
    memcpy(s->r->head, l->hash, sizeof(s->r->head));
    if (s->o->each != NULL) {
        s->o->each(s->o->ctx, log, l->no, l->hash, l->payload);
    }
}

static void free_lines(struct line *lines, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(lines[i].text);
        free(lines[i].error);
        json_decref(lines[i].payload);
        key_free(lines[i].bound);
        free(lines[i].dalg);
        free(lines[i].dkid);
        buf_cleanup(&lines[i].din);
        buf_cleanup(&lines[i].dsig);
    }
}

static int verify_one(struct vstate *s, const char *path)
{
    struct line *lines;
    FILE *f;
    uint64_t no = 0;
    int rc = 0;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    lines = calloc(BATCH_LINES, sizeof(*lines));
    if (lines == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    strcpy(s->prev, "0");
    for (;;) {
        size_t n = 0;
        size_t bytes = 0;
        size_t i;

        while (n < BATCH_LINES && bytes < BATCH_BYTES) {
            struct line *l = &lines[n];
            size_t cap = 0;
            ssize_t got;

            memset(l, 0, sizeof(*l));
            got = getline(&l->text, &cap, f);
            if (got < 0) {
                free(l->text);
                l->text = NULL;
                break;
            }
            l->no = ++no;
            l->len = (size_t)got;
            if (got > 0 && l->text[got - 1] == '\n') {
                l->text[--l->len] = '\0';
            } else {
                l->error = fmt("torn line: no newline at the end "
                               "(interrupted append)");
            }
            bytes += l->len;
            n++;
        }
        if (n == 0) {
            break;
        }
        check_batch(lines, n, s->o);
        for (i = 0; i < n; i++) {
            settle(s, path, &lines[i]);
        }
        free_lines(lines, n);
    }
    if (ferror(f)) {
        rc = -EIO;
    }
out:
    free(lines);
    if (f != stdin) {
        (void)fclose(f); /* read only: nothing to flush */
    }
    return rc;
}

static void finish(struct vstate *s, const char *last_log)
{
    size_t i;

    for (i = 0; i < s->pending.cap; i++) {
        if (s->pending.used[i] &&
            htab_get(&s->records, s->pending.keys[i]) == NULL) {
            s->r->external++;
        }
    }
    if (s->o->expect_head != NULL &&
        strcmp(s->o->expect_head, s->r->head) != 0) {
        issue(s, last_log, 0, fmt("head is %s, expected %s: records are "
                                  "missing from the end, or were added",
                                  s->r->head[0] ? s->r->head : "(empty)",
                                  s->o->expect_head));
    }
}

int verify_logs(const char *const *paths, size_t n,
                const struct verify_opts *opts, struct verify_result *r)
{
    struct vstate s;
    size_t i;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    memset(&s, 0, sizeof(s));
    r->principal_list = json_array();
    if (r->principal_list == NULL) {
        return -ENOMEM;
    }
    s.o = opts;
    s.r = r;
    s.max = opts->max_issues ? opts->max_issues : 20;
    htab_init(&s.records);
    htab_init(&s.procs);
    htab_init(&s.principals);
    htab_init(&s.pending);
    htab_init(&s.bkeys);
    for (i = 0; i < n && rc == 0; i++) {
        rc = verify_one(&s, paths[i]);
        if (rc < 0) {
            issue(&s, paths[i], 0, fmt("cannot read: %s", strerror(-rc)));
        }
    }
    if (rc == 0) {
        finish(&s, n > 0 ? paths[n - 1] : "");
    }
    htab_cleanup(&s.records);
    htab_cleanup(&s.procs);
    htab_cleanup(&s.principals);
    htab_cleanup(&s.pending);
    htab_cleanup(&s.bkeys);
    for (i = 0; i < s.nbindings; i++) {
        key_free(s.bindings[i].key);
        free(s.bindings[i].principal);
    }
    free(s.bindings);
    return rc;
}

void verify_result_cleanup(struct verify_result *r)
{
    size_t i;

    for (i = 0; i < r->nissues; i++) {
        free(r->issues[i].log);
        free(r->issues[i].reason);
    }
    free(r->issues);
    json_decref(r->principal_list);
    memset(r, 0, sizeof(*r));
}
