/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS calls kest makes: credentials (environment, web identity,
 * container endpoint), STS GetCallerIdentity, KMS Sign and
 * GetPublicKey, each SigV4-signed (providers/sigv4.c) over libcurl. */
#ifndef KEST_AWSAPI_H
#define KEST_AWSAPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/key.h"

struct awsapi {
    char *access_key;
    char *secret_key;    /* secmem, wiped by awsapi_cleanup */
    char *session_token; /* secmem, wiped by awsapi_cleanup; or NULL */
    char *region;
    char *sts_url;
    char *kms_url;
    char *agentcore_url;
    const char *source;  /* "env", "web-identity", "container" */
    int timeout_ms;
    int64_t expires;     /* temporary credentials: Unix time, else 0 */
    struct config_aws *src; /* private copy, for renewal */
};

/* True if the configuration names a credential source. */
bool awsapi_have_credentials(const struct config_aws *c);
/* Endpoints and credentials from c (fetching them from STS or the
 * container endpoint if so configured). -ENOENT without credentials,
 * -EACCES if refused, -ETIMEDOUT, -ECONNREFUSED, -EIO. Clean up with
 * awsapi_cleanup, also on failure. */
KEST_WUR int awsapi_init(struct awsapi *a, const struct config_aws *c,
                         int timeout_ms);
void awsapi_cleanup(struct awsapi *a);
/* Fetch temporary credentials again if they expire within five
 * minutes; 0 if nothing was due. On failure the old ones stay. */
KEST_WUR int awsapi_renew(struct awsapi *a);
/* STS GetCallerIdentity: the caller's ARN and account, malloc'd into
 * *arn and *account (account may be NULL: not wanted). */
KEST_WUR int awsapi_caller(const struct awsapi *a, char **arn,
                           char **account);
/* Bedrock AgentCore GetWorkloadAccessToken (ForUserId if user_id, else
 * ForJWT with the token in user_token_file, else plain): the workload
 * access token, malloc'd into *token; the caller wipes and frees it. */
KEST_WUR int awsapi_workload_token(const struct awsapi *a,
                                   const char *workload,
                                   const char *user_id,
                                   const char *user_token_file,
                                   char **token);
/* KMS Sign (ECDSA_SHA_256, MessageType DIGEST) of a SHA-256 digest;
 * appends the DER signature KMS returned to der. -EACCES if KMS
 * refused. */
KEST_WUR int awsapi_kms_sign(const struct awsapi *a, const char *key_id,
                             const uint8_t digest[32], struct buf *der);
/* KMS GetPublicKey: the DER SubjectPublicKeyInfo, appended to spki. */
KEST_WUR int awsapi_kms_public_key(const struct awsapi *a,
                                   const char *key_id, struct buf *spki);

/* The parsers of AWS replies, without I/O (tests/fuzz/fuzz_aws.c). Each
 * takes a body as received: n bytes, not NUL-terminated, NULL if empty.
 * They return 0, -EBADMSG if the reply lacks what is asked for, or
 * -ENOMEM; on failure every output is NULL or left as it was. */

/* Temporary credentials, malloc'd; awsapi_creds_cleanup wipes and frees
 * them. */
struct awsapi_creds {
    char *id;
    char *secret;
    char *token;      /* NULL if none */
    char *expiration; /* as sent (2024-01-01T00:00:00Z), or NULL */
};

/* The error code of a failed call: STS's XML <Code> or the JSON __type
 * of KMS and AgentCore, cut to fit code[cap] (cap > 0); "" if none. */
void awsapi_parse_error(const char *body, size_t n, char *code,
                        size_t cap);
/* STS GetCallerIdentity: <Arn> into *arn and, unless account is NULL,
 * <Account> into *account (malloc'd). */
KEST_WUR int awsapi_parse_caller(const char *body, size_t n, char **arn,
                                 char **account);
/* STS AssumeRoleWithWebIdentity (XML): AccessKeyId, SecretAccessKey and
 * SessionToken are required, Expiration is not. */
KEST_WUR int awsapi_parse_web_identity(const char *body, size_t n,
                                       struct awsapi_creds *c);
/* The container credentials endpoint (JSON): AccessKeyId and
 * SecretAccessKey are required, Token and Expiration are not. */
KEST_WUR int awsapi_parse_container(const char *body, size_t n,
                                    struct awsapi_creds *c);
void awsapi_creds_cleanup(struct awsapi_creds *c);
/* An expiration as AWS writes it, as Unix time into *when (0 and
 * -EBADMSG if it is not understood). */
KEST_WUR int awsapi_parse_expiry(const char *iso, int64_t *when);
/* AgentCore GetWorkloadAccessToken*: the non-empty workloadAccessToken,
 * malloc'd into *token; the caller wipes and frees it. */
KEST_WUR int awsapi_parse_workload_token(const char *body, size_t n,
                                         char **token);
/* A KMS reply's base64 member field (Signature, PublicKey), decoded and
 * appended to out; -EINVAL if it is not base64. */
KEST_WUR int awsapi_parse_kms(const char *body, size_t n,
                              const char *field, struct buf *out);
/* KMS Sign's DER ECDSA signature as the raw r||s of JWS ES256: 64 bytes
 * appended to sig; -EBADMSG unless it is exactly one P-256 signature. */
KEST_WUR int awsapi_parse_signature(const uint8_t *der, size_t n,
                                    struct buf *sig);
/* KMS GetPublicKey's DER SubjectPublicKeyInfo as a key (key_free);
 * -ENOTSUP for a type kest does not sign with. */
KEST_WUR int awsapi_parse_public_key(const uint8_t *spki, size_t n,
                                     struct key **out);

#endif
