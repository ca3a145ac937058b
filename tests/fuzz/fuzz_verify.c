/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the path of `kest verify`: the input is written to a log file
 * and verified with no trusted key and with a fixed Ed25519 key; every
 * line also goes through record_line_hash, the parser that finds the
 * previous hash when appending. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/key.h"
#include "core/record.h"
#include "core/verify.h"

/* The key that signed the seed logs in corpus/verify (its private half
 * is not kept). */
static const char pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAACqaZ8f1UyJwlvlTdMJ/v9qME0cedbl+nExY/BY9k18=\n"
    "-----END PUBLIC KEY-----\n";

/* Trusted for embedded JWT-SVIDs and OIDC tokens in the keyed run, so
 * those checks are reached too (the keys of corpus/jwt). */
static const char jwks_text[] =
    "{\"keys\":["
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fz-ed\","
    "\"x\":\"RMwdBH_8R3Qgm_yeEDR7X_8Ca7qIAAqIoEiRNq6qDz8\"}]}";

static struct key *fixed;
static json_t *jwks;
static char path[64];
static int fd = -1;

static void cleanup(void)
{
    if (fd >= 0) {
        close(fd);
    }
    key_free(fixed);
    json_decref(jwks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (key_parse_pem(pub_pem, sizeof(pub_pem) - 1, false, &fixed) < 0) {
        abort();
    }
    jwks = json_loads(jwks_text, 0, NULL);
    if (jwks == NULL) {
        abort();
    }
    /* In memory: rewriting a file on disk 100s of times a second
     * waits on the file system. */
    fd = memfd_create("kest-fuzz-log", MFD_CLOEXEC);
    if (fd < 0) {
        abort();
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    atexit(cleanup);
    return 0;
}

static void put_log(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) < 0 ||
        (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        abort();
    }
}

static bool same_result(const struct verify_result *a,
                        const struct verify_result *b)
{
    size_t i;

    if (a->records != b->records || a->gaps != b->gaps ||
        a->processes != b->processes || a->principals != b->principals ||
        a->external != b->external || a->failures != b->failures ||
        a->nissues != b->nissues || strcmp(a->head, b->head) != 0) {
        return false;
    }
    for (i = 0; i < a->nissues; i++) {
        if (a->issues[i].line != b->issues[i].line ||
            strcmp(a->issues[i].reason, b->issues[i].reason) != 0) {
            return false;
        }
    }
    return true;
}

/* Also the slow way, every line parsed whole and encoded again: the
 * verdicts must be the same, word for word. */
static void verify(struct key **keys, size_t nkeys, json_t *bundle)
{
    const char *paths[1] = {path};
    struct verify_opts o;
    struct verify_result r, slow;

    memset(&o, 0, sizeof(o));
    o.keys = keys;
    o.nkeys = nkeys;
    o.allow_gaps = bundle != NULL;
    o.jwt_bundle = bundle;
    o.oidc_jwks = bundle;
    o.threads = 1;
    FUZZ_ASSERT(verify_logs(paths, 1, &o, &r) == 0);
    FUZZ_ASSERT(r.nissues <= r.failures);
    o.full_parse = true;
    FUZZ_ASSERT(verify_logs(paths, 1, &o, &slow) == 0);
    FUZZ_ASSERT(same_result(&r, &slow));
    verify_result_cleanup(&slow);
    verify_result_cleanup(&r);
}

static void hash_lines(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    const uint8_t *end = data + size;
    char hash[RECORD_HASH_HEX];

    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* Its own allocation, so ASan sees any read past the line. */
        char *line = fuzz_cstr(p, n);

        if (record_line_hash(line, n, hash) == 0) {
            FUZZ_ASSERT(strlen(hash) == RECORD_HASH_HEX - 1);
        }
        free(line);
        p += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put_log(data, size);
    verify(NULL, 0, NULL);
    verify(&fixed, 1, jwks);
    hash_lines(data, size);
    return 0;
}
