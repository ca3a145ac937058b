/* SPDX-License-Identifier: Apache-2.0 */
/* kest verify: the verdict on one or more logs. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/key.h"
#include "core/verify.h"

static const char usage[] =
    "usage: kest verify [--key PUB.pem]... [--bundle CA.pem]\n"
    "                   [--jwt-bundle JWKS.json] [--oidc-jwks JWKS.json]\n"
    "                   [--kms-key PUB.pem]\n"
    "                   [--expect-head HASH]\n"
    "                   [--allow-gaps] [--json] [-q] [-j N] LOG...\n"
    "\n"
    "Checks every line of each LOG: JSON shape, RFC 8785 canonical form,\n"
    "the JWS signature with the --key whose thumbprint matches the kid,\n"
    "the log_prev chain, each process's sequence numbers, and parent_ids\n"
    "(records outside the given logs are reported as external).\n"
    "\n"
    "  --key FILE          trusted public (or private) key PEM; repeatable\n"
    "  --bundle FILE       SPIFFE trust bundle (PEM CA certificates): records\n"
    "                      signed by an X509-SVID (x5c) must chain to it at\n"
    "                      the record's time, and the leaf's URI SAN must be\n"
    "                      the record's principal\n"
    "  --jwt-bundle FILE   JWKS: embedded JWT-SVIDs must verify with it at\n"
    "                      the record's time, subject = principal\n"
    "  --oidc-jwks FILE    JWKS of the OIDC issuer: a process's session key\n"
    "                      is trusted once a record binds it to an embedded\n"
    "                      token (KEST_OIDC_EMBED=1) valid at that time\n"
    "  --kms-key FILE      public key (PEM) of the AWS KMS key: a process's\n"
    "                      session key is trusted once a record carries a\n"
    "                      binding of it this key signed; records KMS signed\n"
    "                      directly (KEST_AWS_SIGN=every) verify with it\n"
    "  --expect-head HASH  the last record must be this one (catches a\n"
    "                      truncated or extended tail)\n"
    "  --allow-gaps        unsigned gap records do not fail the log\n"
    "  --json              machine-readable report on stdout\n"
    "  -q                  print nothing; the exit status tells\n"
    "  -j N                verify with N threads (default: all cores)\n"
    "\n"
    "Exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n";

struct vargs {
    struct key **keys;
    size_t nkeys;
    struct verify_opts opts;
    int json;
    int quiet;
};

static int add_key(struct vargs *a, const char *path)
{
    struct key **n;
    struct key *k;
    int rc;

    rc = key_load_public(path, &k);
    if (rc < 0) {
        cli_err("verify", "%s: cannot load key: %s", path,
                rc == -EINVAL ? "not a PEM key" : strerror(-rc));
        return rc;
    }
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    n = realloc(a->keys, (a->nkeys + 1) * sizeof(*n));
    if (n == NULL) {
        key_free(k);
        return -ENOMEM;
    }
    a->keys = n;
    a->keys[a->nkeys++] = k;
    return 0;
}

/* -j N: a thread count from 1 to 64 (the verifier's limit). */
static int parse_threads(const char *s, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || n < 1 || n > 64) {
        return -EINVAL;
    }
    *out = (int)n;
    return 0;
}

static int parse(int argc, char **argv, struct vargs *a)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"bundle", required_argument, NULL, 'b'},
        {"jwt-bundle", required_argument, NULL, 'w'},
        {"oidc-jwks", required_argument, NULL, 'o'},
        {"kms-key", required_argument, NULL, 'K'},
        {"expect-head", required_argument, NULL, 'e'},
        {"allow-gaps", no_argument, NULL, 'g'},
        {"json", no_argument, NULL, 'J'},
        {"threads", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "k:qj:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (add_key(a, optarg) < 0) {
                return -1;
            }
            break;
        case 'b':
            if (a->opts.bundle != NULL) {
                cli_err("verify", "--bundle given twice");
                return -1;
            }
            if (x5c_load_bundle(optarg, &a->opts.bundle) < 0) {
                cli_err("verify", "%s: no PEM certificates to trust",
                        optarg);
                return -1;
            }
            break;
        case 'w':
            json_decref(a->opts.jwt_bundle);
            a->opts.jwt_bundle = json_load_file(optarg, 0, NULL);
            if (!json_is_array(json_object_get(a->opts.jwt_bundle,
                                               "keys"))) {
                cli_err("verify", "%s: not a JWKS document", optarg);
                return -1;
            }
            break;
        case 'o':
            json_decref(a->opts.oidc_jwks);
            a->opts.oidc_jwks = json_load_file(optarg, 0, NULL);
            if (!json_is_array(json_object_get(a->opts.oidc_jwks, "keys"))) {
                cli_err("verify", "%s: not a JWKS document", optarg);
                return -1;
            }
            break;
        case 'K':
            if (a->opts.kms_key != NULL) {
                cli_err("verify", "--kms-key given twice");
                return -1;
            }
            if (add_key(a, optarg) < 0) {
                return -1;
            }
            a->opts.kms_key = a->keys[a->nkeys - 1];
            break;
        case 'e':
            a->opts.expect_head = optarg;
            break;
        case 'g':
            a->opts.allow_gaps = true;
            break;
        case 'J':
            a->json = 1;
            break;
        case 'j':
            if (parse_threads(optarg, &a->opts.threads) < 0) {
                cli_err("verify", "-j takes a number from 1 to 64");
                return -1;
            }
            break;
        case 'q':
            a->quiet = 1;
            break;
        default:
            fputs(usage, stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return -1;
    }
    return 0;
}

static void report_json(const struct verify_result *r)
{
    json_t *issues = json_array();
    json_t *o;
    size_t i;

    for (i = 0; i < r->nissues; i++) {
        json_array_append_new(issues,
                              json_pack("{s:s, s:I, s:s}", "log",
                                        r->issues[i].log, "line",
                                        (json_int_t)r->issues[i].line,
                                        "reason", r->issues[i].reason));
    }
    o = json_pack("{s:b, s:I, s:I, s:I, s:O, s:I, s:s?, s:I, s:o}", "valid",
                  r->failures == 0, "records", (json_int_t)r->records,
                  "gaps", (json_int_t)r->gaps, "processes",
                  (json_int_t)r->processes, "principals", r->principal_list,
                  "external_parents", (json_int_t)r->external, "head",
                  r->head[0] ? r->head : NULL, "failures",
                  (json_int_t)r->failures, "issues", issues);
    if (o != NULL) {
        json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
        fputc('\n', stdout);
    }
    json_decref(o);
}

static void report_text(const struct verify_result *r)
{
    size_t i;

    for (i = 0; i < r->nissues; i++) {
        if (r->issues[i].line > 0) {
            fprintf(stderr, "kest: verify: %s:%llu: %s\n", r->issues[i].log,
                    (unsigned long long)r->issues[i].line,
                    r->issues[i].reason);
        } else {
            fprintf(stderr, "kest: verify: %s: %s\n", r->issues[i].log,
                    r->issues[i].reason);
        }
    }
    if (r->failures > r->nissues) {
        fprintf(stderr, "kest: verify: %llu more problems not shown\n",
                (unsigned long long)(r->failures - r->nissues));
    }
    printf("%s: %llu records, %llu processes, %llu principals, "
           "%llu gaps, %llu external parents, head %s\n",
           r->failures ? "FAIL" : "OK", (unsigned long long)r->records,
           (unsigned long long)r->processes,
           (unsigned long long)r->principals, (unsigned long long)r->gaps,
           (unsigned long long)r->external, r->head[0] ? r->head : "none");
}

int cmd_verify(int argc, char **argv)
{
    struct verify_result r;
    struct vargs a;
    size_t i;
    int rc;
    int status;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    memset(&a, 0, sizeof(a));
    if (parse(argc, argv, &a) < 0) {
        status = CLI_USAGE;
        goto out;
    }
    a.opts.keys = a.keys;
    a.opts.nkeys = a.nkeys;
    rc = verify_logs((const char *const *)argv + optind,
                     (size_t)(argc - optind), &a.opts, &r);
    if (a.json) {
        report_json(&r);
    } else if (!a.quiet) {
        report_text(&r);
    }
    status = rc < 0 ? CLI_USAGE : r.failures ? CLI_FAIL : CLI_OK;
    verify_result_cleanup(&r);
out:
    for (i = 0; i < a.nkeys; i++) {
        key_free(a.keys[i]);
    }
    x5c_store_free(a.opts.bundle);
    json_decref(a.opts.jwt_bundle);
    json_decref(a.opts.oidc_jwks);
    free(a.keys);
    return status;
}
