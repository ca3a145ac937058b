/* SPDX-License-Identifier: Apache-2.0 */
/* Sealing entries into JWS lines, and record hashes. */
#include "core/record.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/b64.h"
#include "core/jcs.h"

static const char line_head[] = "{\"payload\":";
static const char line_prot[] = ",\"protected\":\"";
static const char line_sig[] = "\",\"signature\":\"";
static const char line_tail[] = "\"}";

void record_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_fetched;

static void sha_fetch(void)
{
    sha_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *record_sha256(void)
{
    pthread_once(&sha_once, sha_fetch);
    return sha_fetched != NULL ? sha_fetched : EVP_sha256();
}

int record_hash_parts(const char *prot, size_t pn, const char *pay_b64,
                      size_t bn, const char *sig, size_t sn,
                      char out[RECORD_HASH_HEX])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t md[32];
    int ok;

    if (ctx == NULL) {
        return -ENOMEM;
    }
    ok = EVP_DigestInit_ex(ctx, record_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, prot, pn) == 1 &&
         EVP_DigestUpdate(ctx, ".", 1) == 1 &&
         EVP_DigestUpdate(ctx, pay_b64, bn) == 1 &&
         EVP_DigestUpdate(ctx, ".", 1) == 1 &&
         EVP_DigestUpdate(ctx, sig, sn) == 1 &&
         EVP_DigestFinal_ex(ctx, md, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    /* SHA-256 over memory fails only for want of resources (OpenSSL
     * fetching the digest); -EINVAL is kept for malformed lines. */
    if (!ok) {
        return -ENOMEM;
    }
    record_hex(md, sizeof(md), out);
    return 0;
}

static int is_b64url(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static const char *rfind(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    size_t i;

    for (i = n >= k ? n - k + 1 : 0; i-- > 0;) {
        if (memcmp(hay + i, needle, k) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

int record_line_hash(const char *line, size_t n, char out[RECORD_HASH_HEX])
{
    const size_t hl = sizeof(line_head) - 1;
    const size_t tl = sizeof(line_tail) - 1;
    const char *sig;
    const char *prot;
    struct buf b;
    int rc;

    if (n < hl + tl || memcmp(line, line_head, hl) != 0 ||
        memcmp(line + n - tl, line_tail, tl) != 0) {
        return -EINVAL;
    }
    /* The protected header and the signature are base64url, so the last
     * separators in the line are the real ones. */
    sig = rfind(line, n - tl, line_sig);
    if (sig == NULL) {
        return -EINVAL;
    }
    prot = rfind(line, (size_t)(sig - line), line_prot);
    /* No parse, but the payload must at least be braced like an object. */
    if (prot == NULL || prot < line + hl + 2 || line[hl] != '{' ||
        prot[-1] != '}') {
        return -EINVAL;
    }
    {
        const char *p = prot + sizeof(line_prot) - 1;
        const char *s = sig + sizeof(line_sig) - 1;
        size_t pn = (size_t)(sig - p);
        size_t sn = (size_t)(line + n - tl - s);

        if (!is_b64url(p, pn) || !is_b64url(s, sn)) {
            return -EINVAL;
        }
        buf_init(&b);
        rc = b64url_encode(&b, line + hl, (size_t)(prot - line - hl));
        if (rc == 0) {
            rc = record_hash_parts(p, pn, (char *)b.data, b.len, s, sn,
                                   out);
        }
        buf_cleanup(&b);
    }
    return rc;
}

/* The line and its hash. pb64 is the payload in base64url if the
 * caller has it (the signing input holds it), else NULL. */
static int assemble(const struct buf *pay, const struct buf *prot,
                    const char *pb64, size_t bn, const struct buf *sig,
                    struct buf *line, char hash[RECORD_HASH_HEX])
{
    struct buf pb;
    int rc = 0;

    buf_init(&pb);
    if (pb64 == NULL) {
        rc = b64url_encode(&pb, pay->data, pay->len);
        pb64 = (char *)pb.data;
        bn = pb.len;
    }
    if (rc == 0) {
        rc = record_hash_parts((char *)prot->data, prot->len, pb64, bn,
                               sig->len ? (char *)sig->data : "", sig->len,
                               hash);
    }
    line->len = 0;
    if (rc == 0) {
        rc = buf_puts(line, line_head);
    }
    if (rc == 0) {
        rc = buf_append(line, pay->data, pay->len);
    }
    if (rc == 0) {
        rc = buf_puts(line, line_prot);
    }
    if (rc == 0) {
        rc = buf_append(line, prot->data, prot->len);
    }
    if (rc == 0) {
        rc = buf_puts(line, line_sig);
    }
    if (rc == 0 && sig->len > 0) {
        rc = buf_append(line, sig->data, sig->len);
    }
    if (rc == 0) {
        rc = buf_puts(line, line_tail);
    }
    buf_cleanup(&pb);
    return rc;
}

static int encode_header(const json_t *hdr, struct buf *prot)
{
    struct buf h;
    int rc;

    buf_init(&h);
    rc = jcs_encode(&h, hdr);
    if (rc == 0) {
        rc = b64url_encode(prot, h.data, h.len);
    }
    buf_cleanup(&h);
    return rc;
}

int record_seal_canon(const struct ident *id, const struct buf *pay,
                      struct buf *line, char hash[RECORD_HASH_HEX])
{
    struct buf prot, input, raw, sig;
    json_t *hdr = json_object();
    int rc = -ENOMEM;

    buf_init(&prot);
    buf_init(&input);
    buf_init(&raw);
    buf_init(&sig);
    if (hdr == NULL || json_object_set_new(hdr, "typ", json_string("JWS"))) {
        goto out;
    }
    rc = id->ops->header(id->state, hdr);
    if (rc == 0) {
        rc = encode_header(hdr, &prot);
    }
    /* JWS signing input: ASCII(BASE64URL(header) "." BASE64URL(payload)) */
    if (rc == 0) {
        rc = buf_reserve(&input, prot.len + 1 + (pay->len + 2) / 3 * 4);
    }
    if (rc == 0) {
        rc = buf_append(&input, prot.data, prot.len);
    }
    if (rc == 0) {
        rc = buf_putc(&input, '.');
    }
    if (rc == 0) {
        rc = b64url_encode(&input, pay->data, pay->len);
    }
    if (rc == 0) {
        rc = id->ops->sign(id->state, input.data, input.len, &raw);
    }
    if (rc == 0) {
        rc = b64url_encode(&sig, raw.data, raw.len);
    }
    if (rc == 0) {
        rc = assemble(pay, &prot, (char *)input.data + prot.len + 1,
                      input.len - prot.len - 1, &sig, line, hash);
    }
out:
    json_decref(hdr);
    buf_cleanup(&prot);
    buf_cleanup(&input);
    buf_cleanup(&raw);
    buf_cleanup(&sig);
    return rc;
}

int record_seal(const struct ident *id, const json_t *payload,
                struct buf *line, char hash[RECORD_HASH_HEX])
{
    struct buf pay;
    int rc;

    buf_init(&pay);
    rc = jcs_encode(&pay, payload);
    if (rc == 0) {
        rc = record_seal_canon(id, &pay, line, hash);
    }
    buf_cleanup(&pay);
    return rc;
}

int record_seal_canon_unsigned(const struct buf *pay, struct buf *line,
                               char hash[RECORD_HASH_HEX])
{
    static const char none_hdr[] = "{\"alg\":\"none\"}";
    struct buf prot, sig;
    int rc;

    buf_init(&prot);
    buf_init(&sig);
    rc = b64url_encode(&prot, none_hdr, sizeof(none_hdr) - 1);
    if (rc == 0) {
        rc = assemble(pay, &prot, NULL, 0, &sig, line, hash);
    }
    buf_cleanup(&prot);
    return rc;
}

int record_seal_unsigned(const json_t *payload, struct buf *line,
                         char hash[RECORD_HASH_HEX])
{
    struct buf pay;
    int rc;

    buf_init(&pay);
    rc = jcs_encode(&pay, payload);
    if (rc == 0) {
        rc = record_seal_canon_unsigned(&pay, line, hash);
    }
    buf_cleanup(&pay);
    return rc;
}

int record_uuid7(char out[37])
{
    struct timespec ts;
    uint8_t u[16];
    uint64_t ms;
    char hex[33];

    if (getrandom(u, sizeof(u), 0) != sizeof(u)) {
        return -EIO;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    u[0] = (uint8_t)(ms >> 40);
    u[1] = (uint8_t)(ms >> 32);
    u[2] = (uint8_t)(ms >> 24);
    u[3] = (uint8_t)(ms >> 16);
    u[4] = (uint8_t)(ms >> 8);
    u[5] = (uint8_t)ms;
    u[6] = (uint8_t)(0x70 | (u[6] & 0x0f));
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));
    record_hex(u, sizeof(u), hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
    return 0;
}
