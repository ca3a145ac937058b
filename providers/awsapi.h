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

struct awsapi {
    char *access_key;
    char *secret_key;    /* wiped by awsapi_cleanup */
    char *session_token; /* wiped by awsapi_cleanup; NULL if none */
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

#endif
