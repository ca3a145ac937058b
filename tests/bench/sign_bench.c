/* SPDX-License-Identifier: Apache-2.0 */
/* Sign+append and verify rates per key type (or a SPIRE SVID), beside
 * the bare OpenSSL sign and verify rates measured in the same run. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/key.h"
#include "core/verify.h"
#include "core/x5c.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A signing input the size of a typical exec record's. */
static void message(unsigned char *m, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        m[i] = (unsigned char)('A' + i % 26);
    }
}

static double bare_sign(const struct key *k, int n)
{
    unsigned char m[1400];
    struct buf sig;
    double t;
    int i;

    message(m, sizeof(m));
    buf_init(&sig);
    t = now();
    for (i = 0; i < n; i++) {
        sig.len = 0;
        if (key_sign(k, m, sizeof(m), &sig) < 0) {
            exit(1);
        }
    }
    t = now() - t;
    buf_cleanup(&sig);
    return n / t;
}

static double bare_verify(const struct key *k, int n)
{
    unsigned char m[1400];
    struct buf sig;
    double t;
    int i;

    message(m, sizeof(m));
    buf_init(&sig);
    if (key_sign(k, m, sizeof(m), &sig) < 0) {
        exit(1);
    }
    t = now();
    for (i = 0; i < n; i++) {
        if (key_verify(k, key_alg(k), m, sizeof(m), sig.data, sig.len)) {
            exit(1);
        }
    }
    t = now() - t;
    buf_cleanup(&sig);
    return n / t;
}

static double kest_append(int n)
{
    char *argv[] = {"true", "--flag", "some/argument", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C", NULL};
    struct kest_exec ev = {"execve", "/bin/true", -100, 0, NULL, argv,
                           envp, NULL};
    struct kest_proc p;
    char hash[65];
    double t;
    int i;

    kest_engine_proc_init(&p);
    t = now();
    for (i = 0; i < n; i++) {
        if (kest_engine_exec(&p, &ev, hash) != KEST_SIGNED) {
            fprintf(stderr, "append failed: %s\n", kest_engine_reason());
            exit(1);
        }
    }
    return n / (now() - t);
}

static double kest_verify(const char *log, struct key *pub,
                          struct x509_store_st *bundle, int threads,
                          uint64_t *records)
{
    struct verify_opts o;
    struct verify_result r;
    const char *logs[] = {log};
    double t;

    memset(&o, 0, sizeof(o));
    if (bundle != NULL) {
        o.bundle = bundle;
    } else {
        o.keys = &pub;
        o.nkeys = 1;
    }
    o.threads = threads;
    t = now();
    if (verify_logs(logs, 1, &o, &r) < 0) {
        fprintf(stderr, "sign_bench: cannot read %s\n", log);
        exit(1);
    }
    if (r.failures != 0) {
        fprintf(stderr, "sign_bench: verify failed: %s\n",
                r.nissues > 0 ? r.issues[0].reason : "?");
        exit(1);
    }
    t = now() - t;
    *records = r.records;
    verify_result_cleanup(&r);
    return (double)*records / t;
}

static void print_header(void)
{
    printf("%-9s %9s %9s %8s %9s %9s %8s %9s\n", "key", "sign/s",
           "append/s", "overhead", "verify/s", "kverify/s", "overhead",
           "kverify/s");
    printf("%-9s %9s %9s %8s %9s %9s %8s %9s\n", "", "(bare)", "(kest)", "",
           "(bare)", "(1 core)", "", "(all)");
}

static int parse_type(const char *s, enum key_type *type, const char **name)
{
    static const struct {
        const char *arg, *name;
        enum key_type type;
    } types[] = {{"ed25519", "Ed25519", KEY_ED25519},
                 {"p256", "P-256", KEY_P256},
                 {"rsa", "RSA-2048", KEY_RSA},
                 {"spire", "SPIRE", KEY_P256}};
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(s, types[i].arg) == 0) {
            *type = types[i].type;
            *name = types[i].name;
            return 0;
        }
    }
    return -EINVAL;
}

/* usage: sign_bench --header | sign_bench [-t] TYPE [N [BUNDLE]]
 * TYPE ed25519, p256 or rsa: a fresh static key. TYPE spire: records
 * are signed with the SVID of the Workload API that SPIFFE_ENDPOINT_SOCKET
 * names and verified against the trust bundle BUNDLE (PEM); the bare
 * rates are those of a fresh P-256 key, the SVID's key type. -t prints
 * the five rates, tab-separated, for tests/bench/run. One key type per
 * process: the engine keeps its identity for the life of the process,
 * as it does in a workload. */
int main(int argc, char **argv)
{
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    char dir[] = "/tmp/kest-bench.XXXXXX";
    char keyp[64], logp[64];
    struct x509_store_st *bundle = NULL;
    enum key_type type;
    const char *name;
    struct key *k;
    double s, a, v, kv, kvall;
    uint64_t recs;
    int tsv = 0;
    int n;

    if (argc > 1 && strcmp(argv[1], "--header") == 0) {
        print_header();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "-t") == 0) {
        tsv = 1;
        argc--;
        argv++;
    }
    if (argc < 2 || parse_type(argv[1], &type, &name) < 0 ||
        (strcmp(argv[1], "spire") == 0) != (argc > 3)) {
        fprintf(stderr, "usage: sign_bench --header | "
                        "sign_bench [-t] ed25519|p256|rsa [N]\n"
                        "       sign_bench [-t] spire N BUNDLE.pem\n");
        return 2;
    }
    n = argc > 2 ? atoi(argv[2]) : 2000;
    if (argc > 3 && x5c_load_bundle(argv[3], &bundle) < 0) {
        fprintf(stderr, "sign_bench: cannot load bundle %s\n", argv[3]);
        return 1;
    }
    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    snprintf(keyp, sizeof(keyp), "%s/key.pem", dir);
    snprintf(logp, sizeof(logp), "%s/log", dir);
    if (key_generate(type, &k) < 0 || key_write_private(k, keyp) < 0) {
        return 1;
    }
    if (bundle == NULL) {
        setenv("KEST_KEY", keyp, 1);
        setenv("KEST_PRINCIPAL", "spiffe://bench.example/worker", 1);
    }
    setenv("KEST_LOG", logp, 1);
    /* Records are signed in kest-record, which owns its descriptors and
     * keeps keys in OpenSSL's secure heap; measure that path. */
    kest_engine_own_process();
    if (kest_engine_setup(0) < 0) {
        return 1;
    }
    /* Warm both paths once so first-use set-up is not in the rates. */
    bare_sign(k, 10);
    s = bare_sign(k, n);
    a = kest_append(n);
    v = bare_verify(k, n);
    kv = kest_verify(logp, k, bundle, 1, &recs);
    kvall = kest_verify(logp, k, bundle, cores, &recs);
    if (tsv) {
        printf("%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", s, a, v, kv, kvall);
    } else {
        printf("%-9s %9.0f %9.0f %7.0f%% %9.0f %9.0f %7.0f%% %9.0f\n",
               name, s, a, (s / a - 1) * 100, v, kv, (v / kv - 1) * 100,
               kvall);
    }
    key_free(k);
    x5c_store_free(bundle);
    unlink(keyp);
    unlink(logp);
    rmdir(dir);
    return 0;
}
