/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL 3 key handling for JWS. */
#include "core/key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/jcs.h"
#include "core/klog.h"
#include "core/record.h"
#include "core/secmem.h"

#define KEY_FILE_MAX (64 * 1024)

struct key {
    EVP_PKEY *pk;
    enum key_type type;
    bool pss;
    char kid[48];
};

/* The whole file, NUL-terminated, into secmem (public keys too: one
 * path for both); the caller releases *out with secmem_free. */
static int read_file(const char *path, bool secret, char **out,
                     size_t *len)
{
    struct stat st;
    char *data = NULL;
    ssize_t n;
    int fd;
    int rc = 0;

    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is
     * then refused as not a regular file. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
        rc = -EINVAL;
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        klog_error("key", "%s: readable by group or others (mode %03o)",
                   path, (unsigned)(st.st_mode & 0777));
        rc = -EPERM;
        goto out;
    }
    data = secmem_alloc((size_t)st.st_size + 1);
    if (data == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    n = read(fd, data, (size_t)st.st_size);
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    *len = (size_t)n; /* secmem_alloc zeroed the byte after it */
out:
    close(fd);
    if (rc < 0) {
        secmem_free(data);
        data = NULL;
    }
    *out = data;
    return rc;
}

static int type_of(EVP_PKEY *pk, enum key_type *t)
{
    char grp[32];

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_ED25519:
        *t = KEY_ED25519;
        return 0;
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pk) < 2048) {
            return -ENOTSUP;
        }
        *t = KEY_RSA;
        return 0;
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
                                            grp, sizeof(grp), NULL) ||
            strcmp(grp, "prime256v1") != 0) {
            return -ENOTSUP;
        }
        *t = KEY_P256;
        return 0;
    }
    return -ENOTSUP;
}

static int put_bn(json_t *jwk, const char *name, EVP_PKEY *pk,
                  const char *param, int width)
{
    BIGNUM *bn = NULL;
    uint8_t bin[1024];
    struct buf b;
    int len;
    int rc = -EINVAL;

    buf_init(&b);
    if (!EVP_PKEY_get_bn_param(pk, param, &bn)) {
        goto out;
    }
    len = width > 0 ? width : BN_num_bytes(bn);
    if (len > (int)sizeof(bin) || BN_bn2binpad(bn, bin, len) < 0) {
        goto out;
    }
    rc = b64url_encode(&b, bin, (size_t)len);
    if (rc == 0 && json_object_set_new(jwk, name,
                                       json_string((char *)b.data)) < 0) {
        rc = -ENOMEM;
    }
out:
    BN_free(bn);
    buf_cleanup(&b);
    return rc;
}

json_t *key_jwk(const struct key *k)
{
    json_t *jwk = json_object();
    uint8_t raw[32];
    size_t rawlen = sizeof(raw);
    struct buf b;
    int rc = -EINVAL;

    buf_init(&b);
    if (jwk == NULL) {
        return NULL;
    }
    switch (k->type) {
    case KEY_ED25519:
        if (!EVP_PKEY_get_raw_public_key(k->pk, raw, &rawlen) ||
            b64url_encode(&b, raw, rawlen) < 0) {
            break;
        }
        rc = json_object_set_new(jwk, "crv", json_string("Ed25519")) |
             json_object_set_new(jwk, "kty", json_string("OKP")) |
             json_object_set_new(jwk, "x", json_string((char *)b.data));
        break;
    case KEY_P256:
        rc = json_object_set_new(jwk, "crv", json_string("P-256")) |
             json_object_set_new(jwk, "kty", json_string("EC"));
        if (rc == 0) {
            rc = put_bn(jwk, "x", k->pk, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        }
        if (rc == 0) {
            rc = put_bn(jwk, "y", k->pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        }
        break;
    case KEY_RSA:
        rc = json_object_set_new(jwk, "kty", json_string("RSA"));
        if (rc == 0) {
            rc = put_bn(jwk, "e", k->pk, OSSL_PKEY_PARAM_RSA_E, 0);
        }
        if (rc == 0) {
            rc = put_bn(jwk, "n", k->pk, OSSL_PKEY_PARAM_RSA_N, 0);
        }
        break;
    }
    buf_cleanup(&b);
    if (rc != 0) {
        json_decref(jwk);
        return NULL;
    }
    return jwk;
}

/* RFC 7638: SHA-256 over the required members in lexicographic order,
 * no white space, which is exactly what JCS produces for them. */
static int compute_kid(struct key *k)
{
    uint8_t md[32];
    struct buf j;
    struct buf b;
    json_t *jwk;
    int rc;

    buf_init(&j);
    buf_init(&b);
    jwk = key_jwk(k);
    if (jwk == NULL) {
        return -EINVAL;
    }
    rc = jcs_encode(&j, jwk);
    if (rc == 0 && EVP_Digest(j.data, j.len, md, NULL, EVP_sha256(),
                              NULL) != 1) {
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = b64url_encode(&b, md, sizeof(md));
    }
    if (rc == 0) {
        memcpy(k->kid, b.data, b.len + 1);
    }
    json_decref(jwk);
    buf_cleanup(&j);
    buf_cleanup(&b);
    return rc;
}

int key_from_pkey(struct evp_pkey_st *pk, struct key **out)
{
    struct key *k;
    int rc;

    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return -ENOMEM;
    }
    rc = type_of(pk, &k->type);
    if (rc < 0) {
        free(k);
        return rc;
    }
    EVP_PKEY_up_ref(pk);
    k->pk = pk;
    rc = compute_kid(k);
    if (rc < 0) {
        key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

/* OpenSSL's default passphrase callback prompts on the controlling
 * terminal, which would block the program we run inside. Encrypted keys
 * are refused instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The PEM text is read in place (a read-only memory BIO makes no copy);
 * OpenSSL decodes it, and keeps the private key, in its secure heap. */
static EVP_PKEY *read_private(BIO *bio)
{
    (void)secmem_crypto_init();
    return PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
}

/* The DER of the one unencrypted PKCS#8 block ("PRIVATE KEY") that
 * makes up pem, into secmem (*der, *dn); NULL if pem is anything
 * else. */
static int pkcs8_der(const char *pem, size_t n, uint8_t **der, size_t *dn)
{
    static const char begin[] = "-----BEGIN PRIVATE KEY-----";
    static const char end[] = "-----END PRIVATE KEY-----";
    const char *p = pem;
    const char *e = pem + n;
    const char *stop;
    struct buf b64, bin;
    int rc;

    *der = NULL;
    while (p < e && (*p == '\n' || *p == '\r' || *p == ' ')) {
        p++;
    }
    if ((size_t)(e - p) < sizeof(begin) + sizeof(end) ||
        memcmp(p, begin, sizeof(begin) - 1) != 0) {
        return 0;
    }
    p += sizeof(begin) - 1;
    stop = memmem(p, (size_t)(e - p), end, sizeof(end) - 1);
    if (stop == NULL) {
        return 0;
    }
    /* Nothing but white space after the block. */
    for (e = stop + sizeof(end) - 1; e < pem + n; e++) {
        if (*e != '\n' && *e != '\r' && *e != ' ') {
            return 0;
        }
    }
    buf_init(&b64);
    buf_init(&bin);
    rc = buf_reserve(&b64, (size_t)(stop - p));
    for (; rc == 0 && p < stop; p++) {
        if (*p != '\n' && *p != '\r') {
            b64.data[b64.len++] = (uint8_t)*p;
        }
    }
    if (rc == 0) {
        rc = b64std_decode(&bin, (char *)b64.data, b64.len);
    }
    if (rc == 0) {
        *der = secmem_alloc(bin.len);
        rc = *der ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        memcpy(*der, bin.data, bin.len);
        *dn = bin.len;
    }
    buf_wipe(&b64);
    buf_wipe(&bin);
    return rc == -EINVAL ? 0 : rc;
}

/* Unencrypted PKCS#8 keys of the three types kest signs with, without
 * OpenSSL's PEM reader and its search through every decoder (the first
 * key a process reads costs milliseconds that way): the DER, with the
 * key type named to d2i_PrivateKey_ex. NULL for anything else, which
 * takes the general path. */
static EVP_PKEY *read_pkcs8(const char *pem, size_t n)
{
    /* The algorithm identifiers (RFC 8410, RFC 5480, RFC 8017). */
    static const struct {
        uint8_t oid[11];
        size_t n;
        int type;
    } algs[] = {
        {{0x06, 0x03, 0x2b, 0x65, 0x70}, 5, EVP_PKEY_ED25519},
        {{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}, 9,
         EVP_PKEY_EC},
        {{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01},
         11, EVP_PKEY_RSA},
    };
    const unsigned char *p;
    EVP_PKEY *pk = NULL;
    uint8_t *der;
    size_t dn = 0;
    size_t i;

    if (pkcs8_der(pem, n, &der, &dn) < 0 || der == NULL) {
        return NULL;
    }
    /* version, then the AlgorithmIdentifier: within the first bytes */
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]) && pk == NULL; i++) {
        if (memmem(der, dn < 24 ? dn : 24, algs[i].oid, algs[i].n) == NULL) {
            continue;
        }
        p = der;
        pk = d2i_PrivateKey_ex(algs[i].type, NULL, &p, (long)dn, NULL, NULL);
        if (pk != NULL && p != der + dn) {
            EVP_PKEY_free(pk); /* trailing bytes: the PEM reader judges */
            pk = NULL;
        }
    }
    explicit_bzero(der, dn);
    secmem_free(der);
    return pk;
}

int key_parse_pem(const char *pem, size_t n, bool priv, struct key **out)
{
    EVP_PKEY *pk = NULL;
    BIO *bio;
    int rc;

    if (priv) {
        (void)secmem_crypto_init();
        pk = read_pkcs8(pem, n);
        if (pk != NULL) {
            rc = key_from_pkey(pk, out);
            EVP_PKEY_free(pk);
            return rc;
        }
    }
    bio = BIO_new_mem_buf(pem, (int)n);
    if (bio == NULL) {
        return -ENOMEM;
    }
    if (priv) {
        pk = read_private(bio);
    } else {
        pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        if (pk == NULL) {
            (void)BIO_reset(bio);
            pk = read_private(bio);
        }
    }
    BIO_free(bio);
    if (pk == NULL) {
        return -EINVAL;
    }
    rc = key_from_pkey(pk, out);
    EVP_PKEY_free(pk);
    return rc;
}

static int load(const char *path, bool priv, struct key **out)
{
    char *pem = NULL;
    size_t n = 0;
    int rc;

    rc = read_file(path, priv, &pem, &n);
    if (rc == 0) {
        rc = key_parse_pem(pem, n, priv, out);
    }
    secmem_free(pem);
    return rc;
}

int key_load_private(const char *path, struct key **out)
{
    return load(path, true, out);
}

int key_load_public(const char *path, struct key **out)
{
    return load(path, false, out);
}

int key_generate(enum key_type type, struct key **out)
{
    EVP_PKEY *pk = NULL;
    int rc;

    (void)secmem_crypto_init(); /* the new private key goes there */
    switch (type) {
    case KEY_ED25519:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case KEY_P256:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case KEY_RSA:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    }
    if (pk == NULL) {
        return -EINVAL;
    }
    rc = key_from_pkey(pk, out);
    EVP_PKEY_free(pk);
    return rc;
}

static int write_pem(const struct key *k, const char *path, bool priv)
{
    BIO *bio = NULL;
    int fd;
    int ok;
    int rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              priv ? 0600 : 0644);
    if (fd < 0) {
        return -errno;
    }
    bio = BIO_new_fd(fd, BIO_CLOSE);
    if (bio == NULL) {
        close(fd);
        rc = -ENOMEM;
        goto out;
    }
    if (priv) {
        ok = PEM_write_bio_PrivateKey(bio, k->pk, NULL, NULL, 0, NULL,
                                      NULL);
    } else {
        ok = PEM_write_bio_PUBKEY(bio, k->pk);
    }
    if (!ok || BIO_flush(bio) != 1) {
        rc = -EIO;
    }
out:
    BIO_free(bio);
    if (rc < 0) {
        unlink(path);
    }
    return rc;
}

int key_write_private(const struct key *k, const char *path)
{
    return write_pem(k, path, true);
}

int key_write_public(const struct key *k, const char *path)
{
    return write_pem(k, path, false);
}

void key_free(struct key *k)
{
    if (k == NULL) {
        return;
    }
    EVP_PKEY_free(k->pk);
    free(k);
}

enum key_type key_get_type(const struct key *k)
{
    return k->type;
}

const char *key_alg(const struct key *k)
{
    switch (k->type) {
    case KEY_ED25519:
        return "EdDSA";
    case KEY_P256:
        return "ES256";
    case KEY_RSA:
        return k->pss ? "PS256" : "RS256";
    }
    return "none";
}

void key_use_pss(struct key *k)
{
    k->pss = true;
}

const char *key_kid(const struct key *k)
{
    return k->kid;
}

struct evp_pkey_st *key_pkey(const struct key *k)
{
    return k->pk;
}

static int set_padding(EVP_PKEY_CTX *pctx, bool pss)
{
    if (!pss) {
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0
                   ? 0 : -EINVAL;
    }
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
        return -EINVAL;
    }
    return 0;
}

/* JWS ES256 wants the fixed-width r||s, OpenSSL produces DER. */
static int der_to_raw(const uint8_t *der, size_t n, struct buf *sig)
{
    const uint8_t *p = der;
    ECDSA_SIG *es;
    uint8_t raw[64];
    int rc = -EINVAL;

    es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    if (es == NULL) {
        return -EINVAL;
    }
    /* The whole DER and nothing else (see key_sign). */
    if (p != der + n) {
        ECDSA_SIG_free(es);
        return -EIO;
    }
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) == 32 &&
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) == 32) {
        rc = buf_append(sig, raw, sizeof(raw));
    }
    ECDSA_SIG_free(es);
    return rc;
}

static int raw_to_der(const uint8_t *raw, size_t n, uint8_t **der,
                      int *derlen)
{
    ECDSA_SIG *es;
    BIGNUM *r;
    BIGNUM *s;

    if (n != 64) {
        return -EBADMSG;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL ||
        !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return -ENOMEM;
    }
    *der = NULL;
    *derlen = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return *derlen > 0 ? 0 : -ENOMEM;
}

int key_sign(const struct key *k, const void *msg, size_t n,
             struct buf *sig)
{
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = k->type == KEY_ED25519 ? NULL : record_sha256();
    uint8_t tmp[1024];
    size_t len = sizeof(tmp);
    int rc = -EINVAL;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -ENOMEM;
    }
    if (EVP_DigestSignInit(ctx, &pctx, md, NULL, k->pk) != 1) {
        goto out;
    }
    if (k->type == KEY_RSA && set_padding(pctx, k->pss) < 0) {
        goto out;
    }
    if (EVP_DigestSign(ctx, tmp, &len, msg, n) != 1) {
        goto out;
    }
    /* OpenSSL 3.0's ECDSA reports success with a length of (unsigned)-1
     * when encoding the signature runs out of memory, leaving the
     * buffer as it was; a signature that does not fill exactly the
     * length reported is refused, never written to the log. */
    if (len == 0 || len > sizeof(tmp) ||
        (k->type == KEY_ED25519 && len != 64) ||
        (k->type == KEY_RSA && len != (size_t)EVP_PKEY_get_size(k->pk))) {
        rc = -EIO;
        goto out;
    }
    if (k->type == KEY_P256) {
        rc = der_to_raw(tmp, len, sig);
    } else {
        rc = buf_append(sig, tmp, len);
    }
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static bool alg_fits(const struct key *k, const char *alg)
{
    switch (k->type) {
    case KEY_ED25519:
        return strcmp(alg, "EdDSA") == 0;
    case KEY_P256:
        return strcmp(alg, "ES256") == 0;
    case KEY_RSA:
        return strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0;
    }
    return false;
}

int key_verify(const struct key *k, const char *alg, const void *msg,
               size_t n, const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = k->type == KEY_ED25519 ? NULL : record_sha256();
    uint8_t *der = NULL;
    int derlen = 0;
    int rc;

    if (!alg_fits(k, alg)) {
        return -EPROTO;
    }
    if (k->type == KEY_P256) {
        rc = raw_to_der(sig, siglen, &der, &derlen);
        if (rc < 0) {
            return rc;
        }
        sig = der;
        siglen = (size_t)derlen;
    }
    rc = -ENOMEM;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        goto out;
    }
    rc = -EINVAL;
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pk) != 1) {
        goto out;
    }
    if (k->type == KEY_RSA &&
        set_padding(pctx, strcmp(alg, "PS256") == 0) < 0) {
        goto out;
    }
    rc = EVP_DigestVerify(ctx, sig, siglen, msg, n) == 1 ? 0 : -EBADMSG;
out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}
