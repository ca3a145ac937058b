/* SPDX-License-Identifier: Apache-2.0 */
/* AWS identity: the principal is the caller ARN from STS
 * GetCallerIdentity (provider aws) or the Bedrock AgentCore workload
 * identity whose access token the caller obtained (provider agentcore),
 * and a KMS key (KEST_AWS_KMS_KEY_ID) that never leaves KMS vouches for
 * the records. By default each process makes an in-memory Ed25519
 * session key, has KMS sign a binding of it to the principal once, and
 * signs its records locally; KEST_AWS_SIGN=every has KMS sign every
 * record instead. docs/THREAT-MODEL.md says what a verifier holding the
 * KMS public key can conclude. */
#include "providers/providers.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/jcs.h"
#include "core/key.h"
#include "core/klog.h"
#include "core/record.h"
#include "providers/awsapi.h"

struct aws_state {
    struct awsapi api;
    char *kms_key_id;
    char *principal;
    char *caller;       /* agentcore: the STS caller ARN */
    char *workload;     /* agentcore: the workload name */
    char token_sha[65]; /* agentcore: SHA-256 of the access token */
    bool every;
    struct key *session; /* session mode */
    struct key *kms_pub; /* every mode: names the kid */
    pid_t bound_pid;
};

static bool aws_detect(const struct config *cfg)
{
    return cfg->aws.kms_key_id != NULL &&
           awsapi_have_credentials(&cfg->aws);
}

static void aws_release(void *state)
{
    struct aws_state *st = state;

    awsapi_cleanup(&st->api);
    key_free(st->session);
    key_free(st->kms_pub);
    free(st->kms_key_id);
    free(st->principal);
    free(st->caller);
    free(st->workload);
    free(st);
}

/* The KMS key's public half, so that records name it by thumbprint. */
static int load_kms_pub(struct aws_state *st)
{
    struct buf spki;
    int rc;

    buf_init(&spki);
    rc = awsapi_kms_public_key(&st->api, st->kms_key_id, &spki);
    if (rc == 0) {
        rc = awsapi_parse_public_key(spki.data, spki.len, &st->kms_pub);
    }
    if (rc == 0 && key_get_type(st->kms_pub) != KEY_P256) {
        klog_error("aws", "KMS key %s is not ECC_NIST_P256",
                   st->kms_key_id);
        rc = -ENOTSUP;
    }
    buf_cleanup(&spki);
    return rc;
}

static int token_hash(const char *t, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(t, strlen(t), md, &n, EVP_sha256(), NULL) != 1) {
        return -EIO;
    }
    record_hex(md, 32, out);
    return 0;
}

/* The workload's access token proves, at record time, that this caller
 * may act as the workload; the principal is the workload identity's
 * ARN. The token is a bearer credential: only its hash is kept. */
static int agentcore_identity(struct aws_state *st, const struct config *c)
{
    char *account = NULL, *token = NULL;
    int rc;

    st->workload = strdup(c->aws.agentcore_workload);
    rc = st->workload ? awsapi_caller(&st->api, &st->caller, &account)
                      : -ENOMEM;
    if (rc == 0) {
        rc = awsapi_workload_token(&st->api, st->workload,
                                   c->aws.agentcore_user_id,
                                   c->aws.agentcore_user_token_file,
                                   &token);
    }
    if (rc == 0) {
        rc = token_hash(token, st->token_sha);
    }
    if (rc == 0 &&
        asprintf(&st->principal, "arn:aws:bedrock-agentcore:%s:%s:"
                 "workload-identity-directory/default/workload-identity/%s",
                 st->api.region, account, st->workload) < 0) {
        st->principal = NULL;
        rc = -ENOMEM;
    }
    if (token != NULL) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    free(account);
    return rc;
}

static int open_common(const struct config *cfg, bool agentcore,
                       void **state)
{
    struct aws_state *st;
    int rc;

    if (cfg->aws.kms_key_id == NULL ||
        (agentcore && cfg->aws.agentcore_workload == NULL)) {
        klog_error("aws", "%s is not set", cfg->aws.kms_key_id == NULL
                   ? "KEST_AWS_KMS_KEY_ID" : "KEST_AGENTCORE_WORKLOAD");
        return -ENOENT;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return -ENOMEM;
    }
    st->every = cfg->aws.sign_every;
    st->kms_key_id = strdup(cfg->aws.kms_key_id);
    rc = st->kms_key_id ? awsapi_init(&st->api, &cfg->aws, cfg->timeout_ms)
                        : -ENOMEM;
    if (rc == 0) {
        rc = agentcore ? agentcore_identity(st, cfg)
                       : awsapi_caller(&st->api, &st->principal, NULL);
    }
    if (rc == 0) {
        rc = st->every ? load_kms_pub(st)
                       : key_generate(KEY_ED25519, &st->session);
    }
    if (rc < 0) {
        aws_release(st);
        return rc;
    }
    klog_info("aws", "principal %s (credentials: %s, KMS key %s, %s)",
              st->principal, st->api.source, st->kms_key_id,
              st->every ? "every record signed in KMS" : "session key");
    *state = st;
    return 0;
}

static int aws_open(const struct config *cfg, void **state)
{
    return open_common(cfg, false, state);
}

static int agentcore_open(const struct config *cfg, void **state)
{
    return open_common(cfg, true, state);
}

static bool agentcore_detect(const struct config *cfg)
{
    return cfg->aws.agentcore_workload != NULL && aws_detect(cfg);
}

/* Before each record: temporary credentials near expiry are renewed.
 * A failed renewal fails the record once the old ones have expired. */
static int aws_refresh(void *state)
{
    struct aws_state *st = state;
    int rc = awsapi_renew(&st->api);

    if (rc < 0 && st->api.expires > (int64_t)time(NULL)) {
        klog_info("aws", "renewal failed; the current credentials are "
                  "still valid");
        rc = 0;
    }
    return rc;
}

static const char *aws_principal(void *state)
{
    return ((struct aws_state *)state)->principal;
}

static int aws_header(void *state, json_t *hdr)
{
    struct aws_state *st = state;
    const struct key *k = st->every ? st->kms_pub : st->session;

    if (json_object_set_new(hdr, "alg", json_string(key_alg(k))) ||
        json_object_set_new(hdr, "kid", json_string(key_kid(k)))) {
        return -ENOMEM;
    }
    return 0;
}

/* ES256 in KMS: SHA-256 here, MessageType DIGEST there. */
static int kms_es256(struct aws_state *st, const void *msg, size_t n,
                     struct buf *sig)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    struct buf der;
    int rc;

    if (EVP_Digest(msg, n, md, &mdlen, EVP_sha256(), NULL) != 1) {
        return -EIO;
    }
    buf_init(&der);
    rc = awsapi_kms_sign(&st->api, st->kms_key_id, md, &der);
    if (rc == 0) {
        rc = awsapi_parse_signature(der.data, der.len, sig);
    }
    buf_cleanup(&der);
    return rc;
}

/* binding = JCS {principal, session_jwk, kms_key_id, iat}, signed ES256
 * by the KMS key; both go into the process's first record. */
static int add_binding(struct aws_state *st, json_t *ident)
{
    json_t *b = json_pack("{s:s, s:o, s:s, s:I}", "principal",
                          st->principal, "session_jwk",
                          key_jwk(st->session), "kms_key_id",
                          st->kms_key_id, "iat", (json_int_t)time(NULL));
    struct buf canon, raw, sig;
    int rc = b ? 0 : -ENOMEM;

    buf_init(&canon);
    buf_init(&raw);
    buf_init(&sig);
    if (rc == 0) {
        rc = jcs_encode(&canon, b);
    }
    if (rc == 0) {
        rc = kms_es256(st, canon.data, canon.len, &raw);
    }
    if (rc == 0) {
        rc = b64url_encode(&sig, raw.data, raw.len);
    }
    if (rc == 0 && buf_putc(&sig, '\0') == 0 &&
        json_object_set(ident, "kms_binding", b) == 0 &&
        json_object_set_new(ident, "kms_binding_sig",
                            json_string((const char *)sig.data)) == 0) {
        klog_trace("aws", "session key %s bound by KMS",
                   key_kid(st->session));
    } else if (rc == 0) {
        rc = -ENOMEM;
    }
    json_decref(b);
    buf_cleanup(&canon);
    buf_cleanup(&raw);
    buf_cleanup(&sig);
    return rc;
}

static int aws_describe(void *state, json_t *ident)
{
    struct aws_state *st = state;
    int rc;

    if (json_object_set_new(ident, "kms_key_id",
                            json_string(st->kms_key_id)) ||
        json_object_set_new(ident, "kms_sign",
                            json_string(st->every ? "every" : "session"))) {
        return -ENOMEM;
    }
    if (st->workload != NULL &&
        (json_object_set_new(ident, "workload_name",
                             json_string(st->workload)) ||
         json_object_set_new(ident, "caller_arn", json_string(st->caller)) ||
         json_object_set_new(ident, "workload_token_sha256",
                             json_string(st->token_sha)))) {
        return -ENOMEM;
    }
    if (st->every || st->bound_pid == getpid()) {
        return 0;
    }
    rc = add_binding(st, ident);
    if (rc == 0) {
        st->bound_pid = getpid();
    }
    return rc;
}

static int aws_sign(void *state, const void *msg, size_t n, struct buf *sig)
{
    struct aws_state *st = state;

    if (st->every) {
        return kms_es256(st, msg, n, sig);
    }
    return key_sign(st->session, msg, n, sig);
}

const struct ident_ops provider_aws = {
    .name = "aws",
    .per_process = true,
    .detect = aws_detect,
    .open = aws_open,
    .refresh = aws_refresh,
    .principal = aws_principal,
    .header = aws_header,
    .describe = aws_describe,
    .sign = aws_sign,
    .release = aws_release,
};

const struct ident_ops provider_agentcore = {
    .name = "agentcore",
    .per_process = true,
    .detect = agentcore_detect,
    .open = agentcore_open,
    .refresh = aws_refresh,
    .principal = aws_principal,
    .header = aws_header,
    .describe = aws_describe,
    .sign = aws_sign,
    .release = aws_release,
};
