/* SPDX-License-Identifier: Apache-2.0 */
/* The verifier: every line's shape, canonical form and signature, the
 * log_prev chain, per-process sequences and lineage references. Logs
 * are read in batches, so memory stays bounded by the batch and the
 * record/process sets; signatures are checked on every core. */
#ifndef KEST_VERIFY_H
#define KEST_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/key.h"
#include "core/x5c.h"

struct verify_opts {
    struct key **keys; /* trusted public keys, matched by kid */
    size_t nkeys;
    struct x509_store_st *bundle; /* X.509 trust anchors for x5c, or NULL */
    json_t *jwt_bundle; /* JWKS for embedded JWT-SVIDs, or NULL */
    /* JWKS of the OIDC issuer: records of provider oidc are checked
     * against the session key their process bound to an embedded,
     * valid token. NULL: such records fail as signed by an unknown key. */
    json_t *oidc_jwks;
    /* Public half of the AWS KMS key: records of provider aws are
     * checked against the session key their process's KMS-signed
     * binding names. NULL: such records fail as signed by an unknown
     * key. (KMS-signed records need the same key in keys.) */
    struct key *kms_key;
    bool allow_gaps;
    bool no_signatures; /* shape and chain only (kest show) */
    const char *expect_head; /* NULL, or the hash the last log must end on */
    int threads;             /* 0: one per online CPU */
    size_t max_issues;       /* issues kept for the report (0: 20) */
    /* Test aid: read every line the slow way (parse it whole, encode it
     * again, compare), which must find exactly what the fast one does. */
    bool full_parse;
    /* Called for each valid record, in order, if set (kest show). */
    void (*each)(void *ctx, const char *log, uint64_t line,
                 const char *hash, json_t *payload);
    void *ctx;
};

struct verify_issue {
    char *log;
    uint64_t line; /* 1-based; 0 for a whole-log finding */
    char *reason;
};

struct verify_result {
    uint64_t records;    /* valid lines */
    uint64_t gaps;       /* unsigned gap records */
    uint64_t processes;  /* distinct process instances */
    uint64_t principals; /* distinct principals */
    uint64_t external;   /* parent_ids naming records not in the logs */
    uint64_t failures;   /* issues found, including those not kept */
    char head[65];       /* hash of the last valid record, "" if none */
    struct verify_issue *issues;
    size_t nissues;
    json_t *principal_list; /* array of strings */
};

/* Verify the logs in order. Returns 0 when the run completed (see
 * result->failures for the verdict), -errno if a log cannot be read. */
__attribute__((warn_unused_result)) int
verify_logs(const char *const *paths, size_t n,
            const struct verify_opts *opts, struct verify_result *result);
void verify_result_cleanup(struct verify_result *r);

#endif
