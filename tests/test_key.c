/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/key: key types, JWS signatures, RFC 7638
 * thumbprints and key files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/key.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 7638 section 3.1. */
#define RFC7638_KID "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define RFC7638_N                                                          \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1R" \
    "K7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9" \
    "yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZg" \
    "nYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6We" \
    "Zu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK" \
    "gw"

/* RFC 8037 appendices A.1 to A.4: an Ed25519 key, its thumbprint and a
 * JWS signature, which is deterministic for Ed25519. */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define RFC8037_INPUT \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define RFC8037_SIG                                                        \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsP" \
    "t9g7sVvpAr_MuM0KAg"

static const char msg[] = "the quick brown fox jumps over the lazy dog";

struct variant {
    enum key_type type;
    bool pss;
    const char *alg;
    size_t siglen;
};

static const struct variant variants[] = {
    {KEY_ED25519, false, "EdDSA", 64},
    {KEY_P256, false, "ES256", 64},
    {KEY_RSA, false, "RS256", 256},
    {KEY_RSA, true, "PS256", 256},
};

struct wrong_alg {
    enum key_type type;
    const char *alg;
};

static const struct wrong_alg wrong_algs[] = {
    {KEY_ED25519, "ES256"}, {KEY_ED25519, "RS256"}, {KEY_ED25519, "PS256"},
    {KEY_ED25519, "none"},  {KEY_ED25519, ""},      {KEY_ED25519, "eddsa"},
    {KEY_P256, "EdDSA"},    {KEY_P256, "ES384"},    {KEY_P256, "RS256"},
    {KEY_P256, "es256"},    {KEY_RSA, "ES256"},     {KEY_RSA, "EdDSA"},
    {KEY_RSA, "RS512"},     {KEY_RSA, "HS256"},     {KEY_RSA, "none"},
};

static const char *const garbage_pems[] = {
    "",
    "garbage\n",
    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n"
    "-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\n",
};

static const struct {
    mode_t mode;
    int want;
} modes[] = {
    {0600, 0},      {0400, 0},      {0644, -EPERM}, {0640, -EPERM},
    {0604, -EPERM}, {0660, -EPERM}, {0610, -EPERM}, {0601, -EPERM},
};

static char tmpdir[256];

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/kest-key.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmp_path(char out[512], const char *name)
{
    snprintf(out, 512, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    size_t n = strlen(text);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static struct key *make_key(const struct variant *v)
{
    struct key *k = NULL;

    ck_assert_int_eq(key_generate(v->type, &k), 0);
    ck_assert_ptr_nonnull(k);
    if (v->pss) {
        key_use_pss(k);
    }
    return k;
}

static void sign_ok(const struct key *k, struct buf *sig)
{
    buf_init(sig);
    ck_assert_int_eq(key_sign(k, msg, sizeof(msg) - 1, sig), 0);
}

static void decode_url(const char *s, struct buf *out)
{
    buf_init(out);
    ck_assert_int_eq(b64url_decode(out, s, strlen(s)), 0);
}

static bool is_b64url_text(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == strlen(s);
}

/* Wait up to about five seconds; a child still blocked is killed, since
 * a passphrase prompt also ignores SIGALRM. */
static bool wait_briefly(pid_t pid, int *status)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            return true;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return false;
}

START_TEST(test_key_generate_types)
{
    const struct variant *v = &variants[_i];
    struct key *k = make_key(v);
    json_t *jwk = key_jwk(k);
    static const char *const kty[] = {NULL, "OKP", "EC", "RSA"};

    ck_assert_int_eq(key_get_type(k), v->type);
    ck_assert_str_eq(key_alg(k), v->alg);
    ck_assert_uint_eq(strlen(key_kid(k)), 43);
    ck_assert(is_b64url_text(key_kid(k)));
    ck_assert_ptr_nonnull(jwk);
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "kty")),
                     kty[v->type]);
    ck_assert_ptr_null(json_object_get(jwk, "d"));
    ck_assert_ptr_null(json_object_get(jwk, "p"));
    json_decref(jwk);
    key_free(k);
}
END_TEST

START_TEST(test_key_generate_distinct)
{
    struct key *a = make_key(&variants[_i]);
    struct key *b = make_key(&variants[_i]);

    ck_assert_str_ne(key_kid(a), key_kid(b));
    key_free(a);
    key_free(b);
}
END_TEST

START_TEST(test_key_sign_roundtrip)
{
    const struct variant *v = &variants[_i];
    struct key *k = make_key(v);
    struct buf sig;

    sign_ok(k, &sig);
    ck_assert_uint_eq(sig.len, v->siglen);
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1, sig.data,
                                sig.len), 0);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_sign_es256_is_raw)
{
    struct key *k = make_key(&variants[1]);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    struct buf sig;
    int derlen;

    /* Check with OpenSSL alone that the 64 bytes are r || s. */
    sign_ok(k, &sig);
    ck_assert_uint_eq(sig.len, 64);
    ck_assert_int_eq(ECDSA_SIG_set0(es, BN_bin2bn(sig.data, 32, NULL),
                                    BN_bin2bn(sig.data + 32, 32, NULL)),
                     1);
    derlen = i2d_ECDSA_SIG(es, &der);
    ck_assert_int_gt(derlen, 0);
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
                                          key_pkey(k)), 1);
    ck_assert_int_eq(EVP_DigestVerify(ctx, der, (size_t)derlen,
                                      (const unsigned char *)msg,
                                      sizeof(msg) - 1), 1);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_sign_rfc8037_vector)
{
    struct buf d, want, sig;
    EVP_PKEY *pk;
    struct key *k = NULL;

    decode_url(RFC8037_D, &d);
    decode_url(RFC8037_SIG, &want);
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d.data,
                                      d.len);
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(key_from_pkey(pk, &k), 0);
    ck_assert_str_eq(key_kid(k), RFC8037_KID);
    buf_init(&sig);
    ck_assert_int_eq(key_sign(k, RFC8037_INPUT, strlen(RFC8037_INPUT),
                              &sig), 0);
    ck_assert_uint_eq(sig.len, want.len);
    ck_assert_mem_eq(sig.data, want.data, want.len);
    EVP_PKEY_free(pk);
    key_free(k);
    buf_wipe(&d);
    buf_cleanup(&want);
    buf_cleanup(&sig);
}
END_TEST

START_TEST(test_key_verify_tampered_message)
{
    const struct variant *v = &variants[_i];
    struct key *k = make_key(v);
    char bad[sizeof(msg)];
    struct buf sig;
    size_t at;

    sign_ok(k, &sig);
    for (at = 0; at < sizeof(msg) - 1; at += 7) {
        memcpy(bad, msg, sizeof(msg));
        bad[at] ^= 0x01;
        ck_assert_int_eq(key_verify(k, v->alg, bad, sizeof(msg) - 1,
                                    sig.data, sig.len), -EBADMSG);
    }
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 2, sig.data,
                                sig.len), -EBADMSG);
    ck_assert_int_eq(key_verify(k, v->alg, msg, 0, sig.data, sig.len),
                     -EBADMSG);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_verify_tampered_signature)
{
    const struct variant *v = &variants[_i];
    struct key *k = make_key(v);
    struct buf sig;
    size_t at;

    sign_ok(k, &sig);
    for (at = 0; at < sig.len; at += sig.len / 8) {
        sig.data[at] ^= 0x80;
        ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1,
                                    sig.data, sig.len), -EBADMSG);
        sig.data[at] ^= 0x80;
    }
    sig.data[sig.len - 1] ^= 0x01;
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1, sig.data,
                                sig.len), -EBADMSG);
    sig.data[sig.len - 1] ^= 0x01;
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1, sig.data,
                                sig.len - 1), -EBADMSG);
    ck_assert_int_eq(buf_putc(&sig, 0), 0);
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1, sig.data,
                                sig.len), -EBADMSG);
    ck_assert_int_eq(key_verify(k, v->alg, msg, sizeof(msg) - 1, sig.data,
                                0), -EBADMSG);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_verify_other_key)
{
    const struct variant *v = &variants[_i];
    struct key *k = make_key(v);
    struct key *other = make_key(v);
    struct buf sig;

    sign_ok(k, &sig);
    ck_assert_int_eq(key_verify(other, v->alg, msg, sizeof(msg) - 1,
                                sig.data, sig.len), -EBADMSG);
    buf_cleanup(&sig);
    key_free(k);
    key_free(other);
}
END_TEST

START_TEST(test_key_verify_wrong_alg)
{
    const struct wrong_alg *w = &wrong_algs[_i];
    struct variant v = {w->type, false, NULL, 0};
    struct key *k = make_key(&v);
    struct buf sig;

    /* A valid signature does not help when alg names another type. */
    sign_ok(k, &sig);
    ck_assert_int_eq(key_verify(k, key_alg(k), msg, sizeof(msg) - 1,
                                sig.data, sig.len), 0);
    ck_assert_int_eq(key_verify(k, w->alg, msg, sizeof(msg) - 1, sig.data,
                                sig.len), -EPROTO);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_verify_rsa_padding_mismatch)
{
    struct key *k = make_key(&variants[2]);
    struct buf sig;

    sign_ok(k, &sig);
    ck_assert_int_eq(key_verify(k, "PS256", msg, sizeof(msg) - 1, sig.data,
                                sig.len), -EBADMSG);
    buf_cleanup(&sig);
    key_use_pss(k);
    sign_ok(k, &sig);
    ck_assert_int_eq(key_verify(k, "RS256", msg, sizeof(msg) - 1, sig.data,
                                sig.len), -EBADMSG);
    ck_assert_int_eq(key_verify(k, "PS256", msg, sizeof(msg) - 1, sig.data,
                                sig.len), 0);
    buf_cleanup(&sig);
    key_free(k);
}
END_TEST

START_TEST(test_key_kid_rfc7638)
{
    struct key *k = NULL;
    json_t *jwk;

    ck_assert_int_eq(key_load_public(KEST_TESTDATA "/rfc7638_rsa.pub.pem",
                                     &k), 0);
    ck_assert_int_eq(key_get_type(k), KEY_RSA);
    ck_assert_str_eq(key_kid(k), RFC7638_KID);
    jwk = key_jwk(k);
    ck_assert_ptr_nonnull(jwk);
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "n")),
                     RFC7638_N);
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "e")), "AQAB");
    json_decref(jwk);
    key_free(k);
}
END_TEST

START_TEST(test_key_kid_rfc8037)
{
    struct buf x;
    EVP_PKEY *pk;
    struct key *k = NULL;

    decode_url(RFC8037_X, &x);
    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.data,
                                     x.len);
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(key_from_pkey(pk, &k), 0);
    ck_assert_str_eq(key_kid(k), RFC8037_KID);
    EVP_PKEY_free(pk);
    key_free(k);
    buf_cleanup(&x);
}
END_TEST

/* base64url of a public parameter, fixed width when width > 0. */
static void bn_url(EVP_PKEY *pk, const char *param, int width,
                   struct buf *out)
{
    unsigned char bin[512];
    BIGNUM *bn = NULL;
    int len;

    ck_assert_int_eq(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
    len = width > 0 ? width : BN_num_bytes(bn);
    ck_assert_int_eq(BN_bn2binpad(bn, bin, len), len);
    buf_init(out);
    ck_assert_int_eq(b64url_encode(out, bin, (size_t)len), 0);
    BN_free(bn);
}

/* The RFC 7638 input written out by hand for each key type. */
static void thumbprint_input(struct key *k, char *out, size_t cap)
{
    EVP_PKEY *pk = key_pkey(k);
    unsigned char raw[32];
    size_t rawlen = sizeof(raw);
    struct buf a, b;

    if (key_get_type(k) == KEY_ED25519) {
        ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
        buf_init(&a);
        ck_assert_int_eq(b64url_encode(&a, raw, rawlen), 0);
        snprintf(out, cap, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
                 "\"x\":\"%s\"}", (char *)a.data);
        buf_cleanup(&a);
        return;
    }
    if (key_get_type(k) == KEY_P256) {
        bn_url(pk, OSSL_PKEY_PARAM_EC_PUB_X, 32, &a);
        bn_url(pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32, &b);
        snprintf(out, cap, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
                 "\"y\":\"%s\"}", (char *)a.data, (char *)b.data);
    } else {
        bn_url(pk, OSSL_PKEY_PARAM_RSA_E, 0, &a);
        bn_url(pk, OSSL_PKEY_PARAM_RSA_N, 0, &b);
        snprintf(out, cap, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                 (char *)a.data, (char *)b.data);
    }
    buf_cleanup(&a);
    buf_cleanup(&b);
}

START_TEST(test_key_kid_matches_thumbprint)
{
    struct key *k = make_key(&variants[_i]);
    unsigned char md[SHA256_DIGEST_LENGTH];
    char input[1024];
    struct buf want;

    thumbprint_input(k, input, sizeof(input));
    SHA256((const unsigned char *)input, strlen(input), md);
    buf_init(&want);
    ck_assert_int_eq(b64url_encode(&want, md, sizeof(md)), 0);
    ck_assert_str_eq(key_kid(k), (char *)want.data);
    buf_cleanup(&want);
    key_free(k);
}
END_TEST

START_TEST(test_key_write_private_roundtrip)
{
    struct key *k = make_key(&variants[_i]);
    struct key *back = NULL;
    struct stat st;
    struct buf sig;
    char path[512];

    tmp_path(path, "key.pem");
    ck_assert_int_eq(key_write_private(k, path), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(key_load_private(path, &back), 0);
    ck_assert_int_eq(key_get_type(back), key_get_type(k));
    ck_assert_str_eq(key_kid(back), key_kid(k));
    /* The loaded key signs, the original verifies. */
    sign_ok(back, &sig);
    ck_assert_int_eq(key_verify(k, key_alg(k), msg, sizeof(msg) - 1,
                                sig.data, sig.len), 0);
    buf_cleanup(&sig);
    key_free(back);
    key_free(k);
}
END_TEST

START_TEST(test_key_write_public_roundtrip)
{
    struct key *k = make_key(&variants[_i]);
    struct key *pub = NULL;
    struct key *priv = NULL;
    struct stat st;
    struct buf sig;
    char path[512];

    tmp_path(path, "key.pub.pem");
    ck_assert_int_eq(key_write_public(k, path), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(key_load_public(path, &pub), 0);
    ck_assert_str_eq(key_kid(pub), key_kid(k));
    sign_ok(k, &sig);
    ck_assert_int_eq(key_verify(pub, key_alg(k), msg, sizeof(msg) - 1,
                                sig.data, sig.len), 0);
    /* A public key is not a private key, whatever its mode. */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_lt(key_load_private(path, &priv), 0);
    ck_assert_ptr_null(priv);
    buf_cleanup(&sig);
    key_free(pub);
    key_free(k);
}
END_TEST

START_TEST(test_key_write_private_no_overwrite)
{
    struct key *k = make_key(&variants[0]);
    char path[512];
    char link[512];
    char target[512];
    char got[32] = {0};
    int fd;

    tmp_path(path, "existing.pem");
    write_text(path, "precious", 0600);
    ck_assert_int_eq(key_write_private(k, path), -EEXIST);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, got, sizeof(got) - 1), 8);
    close(fd);
    ck_assert_str_eq(got, "precious");
    /* Nor through a symlink, even a dangling one. */
    tmp_path(link, "link.pem");
    tmp_path(target, "target.pem");
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_lt(key_write_private(k, link), 0);
    ck_assert_int_eq(access(target, F_OK), -1);
    ck_assert_int_lt(key_write_public(k, path), 0);
    key_free(k);
}
END_TEST

START_TEST(test_key_load_private_mode)
{
    struct key *k = make_key(&variants[0]);
    struct key *back = NULL;
    char path[512];
    int rc;

    tmp_path(path, "key.pem");
    ck_assert_int_eq(key_write_private(k, path), 0);
    ck_assert_int_eq(chmod(path, modes[_i].mode), 0);
    rc = key_load_private(path, &back);
    ck_assert_msg(rc == modes[_i].want, "mode %o: rc %d",
                  (unsigned)modes[_i].mode, rc);
    if (rc == 0) {
        ck_assert_str_eq(key_kid(back), key_kid(k));
        key_free(back);
    }
    key_free(k);
}
END_TEST

START_TEST(test_key_load_private_symlink)
{
    struct key *k = make_key(&variants[0]);
    struct key *back = NULL;
    char path[512];
    char link[512];

    tmp_path(path, "key.pem");
    tmp_path(link, "link.pem");
    ck_assert_int_eq(key_write_private(k, path), 0);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(key_load_private(link, &back), -ELOOP);
    ck_assert_int_eq(key_load_public(link, &back), -ELOOP);
    key_free(k);
}
END_TEST

START_TEST(test_key_load_public_garbage)
{
    struct key *k = NULL;
    char path[512];

    tmp_path(path, "bad.pem");
    write_text(path, garbage_pems[_i], 0644);
    ck_assert_int_lt(key_load_public(path, &k), 0);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_lt(key_load_private(path, &k), 0);
    ck_assert_ptr_null(k);
    ck_assert_int_lt(key_parse_pem(garbage_pems[_i],
                                   strlen(garbage_pems[_i]), false, &k), 0);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(test_key_load_public_not_a_file)
{
    struct key *k = NULL;
    char path[512];

    ck_assert_int_eq(key_load_public(tmpdir, &k), -EINVAL);
    tmp_path(path, "missing.pem");
    ck_assert_int_eq(key_load_public(path, &k), -ENOENT);
    ck_assert_int_eq(key_load_private(path, &k), -ENOENT);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(test_key_load_public_fifo)
{
    char path[512];
    int status;
    pid_t pid;

    /* Opening a FIFO for reading waits for a writer: it must not. */
    tmp_path(path, "key.fifo");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct key *k = NULL;

        _exit(key_load_public(path, &k) == -EINVAL &&
                      key_load_private(path, &k) == -EINVAL
                  ? 0 : 1);
    }
    ck_assert_msg(wait_briefly(pid, &status), "blocked on a FIFO");
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_key_load_public_from_private)
{
    struct key *k = make_key(&variants[_i]);
    struct key *pub = NULL;
    char path[512];

    tmp_path(path, "key.pem");
    ck_assert_int_eq(key_write_private(k, path), 0);
    ck_assert_int_eq(key_load_public(path, &pub), 0);
    ck_assert_str_eq(key_kid(pub), key_kid(k));
    key_free(pub);
    key_free(k);
}
END_TEST

START_TEST(test_key_parse_pem_traditional)
{
    struct key *k = make_key(&variants[_i + 1]);
    struct key *back = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long n;

    /* SEC1 for P-256, PKCS#1 for RSA. */
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(
                         bio, key_pkey(k), NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &pem);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(key_parse_pem(pem, (size_t)n, true, &back), 0);
    ck_assert_str_eq(key_kid(back), key_kid(k));
    key_free(back);
    BIO_free(bio);
    key_free(k);
}
END_TEST

/* PKCS#8 PEM as OpenSSL writes it (the form `kest keygen` and
 * `openssl genpkey` write), read back by key_parse_pem's DER path: the
 * same key, by kid and by a signature the original verifies. */
static char *pkcs8_pem(const struct key *k, size_t *n)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    char *pem;
    long len;

    ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, key_pkey(k), NULL,
                                                   NULL, 0, NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    ck_assert_int_gt(len, 0);
    pem = strndup(data, (size_t)len);
    *n = (size_t)len;
    BIO_free(bio);
    return pem;
}

START_TEST(test_key_parse_pem_pkcs8)
{
    struct key *k = make_key(&variants[_i]);
    struct key *back = NULL;
    struct buf sig;
    size_t n;
    char *pem = pkcs8_pem(k, &n);
    static const char text[] = "signed after a DER parse";

    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    ck_assert_int_eq(key_parse_pem(pem, n, true, &back), 0);
    ck_assert_str_eq(key_kid(back), key_kid(k));
    if (variants[_i].pss) {
        key_use_pss(back); /* a use, not part of the key file */
    }
    buf_init(&sig);
    ck_assert_int_eq(key_sign(back, text, sizeof(text), &sig), 0);
    ck_assert_int_eq(key_verify(k, key_alg(k), text, sizeof(text), sig.data,
                                sig.len), 0);
    buf_cleanup(&sig);
    key_free(back);
    free(pem);
    key_free(k);
}
END_TEST

/* Damaged PKCS#8: a flipped base64 character inside the key, a
 * truncated body, no END line, and a second block glued on. Each is
 * refused or read whole by the general path; never a different key. */
START_TEST(test_key_parse_pem_pkcs8_damaged)
{
    struct key *k = make_key(&variants[_i]);
    struct key *back = NULL;
    size_t n;
    char *pem = pkcs8_pem(k, &n);
    char *bad = malloc(2 * n + 1);
    const char *body = strchr(pem, '\n') + 1;
    size_t at = (size_t)(body - pem) + 10;
    int rc;

    ck_assert_ptr_nonnull(bad);
    /* A character of the key changed. */
    memcpy(bad, pem, n + 1);
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    rc = key_parse_pem(bad, n, true, &back);
    ck_assert(rc < 0 || strcmp(key_kid(back), key_kid(k)) != 0);
    key_free(back);
    back = NULL;
    /* Cut in the middle of the body, END line gone. */
    memcpy(bad, pem, at);
    ck_assert_int_eq(key_parse_pem(bad, at, true, &back), -EINVAL);
    ck_assert_ptr_null(back);
    /* Not base64 at all between the lines. */
    memcpy(bad, pem, n + 1);
    memset(bad + (body - pem), '*', 8);
    ck_assert_int_eq(key_parse_pem(bad, n, true, &back), -EINVAL);
    ck_assert_ptr_null(back);
    /* Two blocks: the general reader takes the first, as before. */
    memcpy(bad, pem, n);
    memcpy(bad + n, pem, n + 1);
    ck_assert_int_eq(key_parse_pem(bad, 2 * n, true, &back), 0);
    ck_assert_str_eq(key_kid(back), key_kid(k));
    key_free(back);
    free(bad);
    free(pem);
    key_free(k);
}
END_TEST

/* An encrypted PKCS#8 PEM of a fresh key; the caller frees it. */
static char *encrypted_pem(size_t *n)
{
    struct key *k = make_key(&variants[0]);
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    char *pem;
    long len;

    ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, key_pkey(k),
                                                   EVP_aes_256_cbc(),
                                                   "secret", 6, NULL,
                                                   NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    ck_assert_int_gt(len, 0);
    pem = strndup(data, (size_t)len);
    *n = (size_t)len;
    BIO_free(bio);
    key_free(k);
    return pem;
}

/* In a child whose controlling terminal is a fresh pty: parse the PEM,
 * exit 0 if it was refused. */
static void parse_on_tty(const char *pem, size_t n, const char *tty)
{
    struct key *k = NULL;
    int fd;

    setsid();
    fd = open(tty, O_RDWR);
    if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
        _exit(2);
    }
    _exit(key_parse_pem(pem, n, true, &k) == -EINVAL && k == NULL ? 0 : 1);
}

START_TEST(test_key_parse_pem_encrypted_no_prompt)
{
    char seen[256] = {0};
    size_t n;
    char *pem = encrypted_pem(&n);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int status;
    pid_t pid;

    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        parse_on_tty(pem, n, ptsname(master));
    }
    ck_assert_msg(wait_briefly(pid, &status),
                  "key parsing waits for a passphrase on the terminal");
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    /* Nothing was written to the terminal either. */
    ck_assert_int_eq(fcntl(master, F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_le(read(master, seen, sizeof(seen) - 1), 0);
    close(master);
    free(pem);
}
END_TEST

START_TEST(test_key_from_pkey_unsupported)
{
    EVP_PKEY *pk = NULL;
    struct key *k = NULL;

    switch (_i) {
    case 0:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case 1:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        break;
    case 2:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
        break;
    default:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
        break;
    }
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(key_from_pkey(pk, &k), -ENOTSUP);
    ck_assert_ptr_null(k);
    EVP_PKEY_free(pk);
}
END_TEST

static TCase *tcase_new(const char *name)
{
    TCase *tc = tcase_create(name);

    /* RSA key generation can take a while on a loaded machine. */
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    return tc;
}

static void add_sign_cases(Suite *s)
{
    TCase *tc;

    tc = tcase_new("key_generate");
    tcase_add_loop_test(tc, test_key_generate_types, 0, NELEM(variants));
    tcase_add_loop_test(tc, test_key_generate_distinct, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_sign");
    tcase_add_loop_test(tc, test_key_sign_roundtrip, 0, NELEM(variants));
    tcase_add_test(tc, test_key_sign_es256_is_raw);
    tcase_add_test(tc, test_key_sign_rfc8037_vector);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_verify");
    tcase_add_loop_test(tc, test_key_verify_tampered_message, 0,
                        NELEM(variants));
    tcase_add_loop_test(tc, test_key_verify_tampered_signature, 0,
                        NELEM(variants));
    tcase_add_loop_test(tc, test_key_verify_other_key, 0, NELEM(variants));
    tcase_add_loop_test(tc, test_key_verify_wrong_alg, 0,
                        NELEM(wrong_algs));
    tcase_add_test(tc, test_key_verify_rsa_padding_mismatch);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_kid");
    tcase_add_test(tc, test_key_kid_rfc7638);
    tcase_add_test(tc, test_key_kid_rfc8037);
    tcase_add_loop_test(tc, test_key_kid_matches_thumbprint, 0, 3);
    suite_add_tcase(s, tc);
}

static void add_file_cases(Suite *s)
{
    TCase *tc;

    tc = tcase_new("key_write_private");
    tcase_add_loop_test(tc, test_key_write_private_roundtrip, 0, 3);
    tcase_add_test(tc, test_key_write_private_no_overwrite);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_write_public");
    tcase_add_loop_test(tc, test_key_write_public_roundtrip, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_load_private");
    tcase_add_loop_test(tc, test_key_load_private_mode, 0, NELEM(modes));
    tcase_add_test(tc, test_key_load_private_symlink);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_load_public");
    tcase_add_loop_test(tc, test_key_load_public_garbage, 0,
                        NELEM(garbage_pems));
    tcase_add_test(tc, test_key_load_public_not_a_file);
    tcase_add_test(tc, test_key_load_public_fifo);
    tcase_add_loop_test(tc, test_key_load_public_from_private, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_parse_pem");
    tcase_add_loop_test(tc, test_key_parse_pem_traditional, 0, 2);
    tcase_add_loop_test(tc, test_key_parse_pem_pkcs8, 0, 4);
    tcase_add_loop_test(tc, test_key_parse_pem_pkcs8_damaged, 0, 3);
    tcase_add_test(tc, test_key_parse_pem_encrypted_no_prompt);
    suite_add_tcase(s, tc);

    tc = tcase_new("key_from_pkey");
    tcase_add_loop_test(tc, test_key_from_pkey_unsupported, 0, 4);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("key");
    SRunner *sr;
    int failed;

    add_sign_cases(s);
    add_file_cases(s);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
