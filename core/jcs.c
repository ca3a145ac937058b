/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 canonical JSON: sorted keys, minimal escapes, ES numbers. */
#include "core/jcs.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* Integers up to 2^53 are exact doubles and print as themselves. */
#define JCS_SAFE_INT 9007199254740992LL

/* The escape for byte c, or NULL if it stands for itself. */
static const char *escape_of(unsigned char c, char tmp[7])
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\f': return "\\f";
    case '\r': return "\\r";
    default:
        if (c >= 0x20) {
            return NULL;
        }
        memcpy(tmp, "\\u00", 4);
        tmp[4] = hex[c >> 4];
        tmp[5] = hex[c & 15];
        tmp[6] = '\0';
        return tmp;
    }
}

/* Bytes that cannot stand for themselves in a JCS string (1), and
 * bytes that start a multi-byte UTF-8 sequence or are invalid (2). */
static const unsigned char str_class[256] = {
    [0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 2,
};

int jcs_string(struct buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = out->len;
    size_t i, run = 0;
    bool checked = false;
    int rc;

    /* Room for the common case, no escapes: one reserve, one copy. */
    rc = buf_reserve(out, n + 2);
    if (rc < 0) {
        return rc;
    }
    out->data[out->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = str_class[u[i]];
        char tmp[7];
        const char *esc;

        if (c == 0) {
            continue;
        }
        if (c == 2) {
            /* The bytes before are ASCII: check from here to the end. */
            if (!checked && !bytes_valid_utf8(s + i, n - i)) {
                out->len = start;
                out->data[start] = '\0';
                return -EINVAL;
            }
            checked = true;
            continue;
        }
        esc = escape_of(u[i], tmp);
        rc = buf_append(out, s + run, i - run);
        if (rc == 0) {
            rc = buf_puts(out, esc);
        }
        if (rc < 0) {
            return rc;
        }
        run = i + 1;
    }
    rc = buf_append(out, s + run, n - run);
    if (rc == 0) {
        rc = buf_putc(out, '"');
    }
    return rc;
}

static int put_string(struct buf *out, const char *s, size_t n)
{
    return jcs_string(out, s, n);
}

/* Shortest digit string that reads back as d: digits in dig, and the
 * decimal exponent n such that d = 0.DIGITS * 10^n. */
static int shortest_digits(double d, char dig[32], int *n)
{
    char tmp[40];
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    /* tmp is "D.DDDDe[+-]X" or "De[+-]X" */
    {
        char *e = strchr(tmp, 'e');
        int k = 0;
        char *p;

        for (p = tmp; p < e; p++) {
            if (*p >= '0' && *p <= '9') {
                dig[k++] = *p;
            }
        }
        while (k > 1 && dig[k - 1] == '0') {
            k--;
        }
        dig[k] = '\0';
        *n = (int)strtol(e + 1, NULL, 10) + 1;
    }
    return 0;
}

int jcs_number(struct buf *out, double d)
{
    char dig[32];
    int n;
    int k;
    int rc;

    if (isnan(d) || isinf(d)) {
        return -EINVAL;
    }
    if (d == 0) {
        return buf_putc(out, '0');
    }
    if (d < 0) {
        rc = buf_putc(out, '-');
        if (rc < 0) {
            return rc;
        }
        d = -d;
    }
    shortest_digits(d, dig, &n);
    k = (int)strlen(dig);
    if (k <= n && n <= 21) {
        rc = buf_append(out, dig, (size_t)k);
        while (rc == 0 && k++ < n) {
            rc = buf_putc(out, '0');
        }
    } else if (0 < n && n <= 21) {
        rc = buf_printf(out, "%.*s.%s", n, dig, dig + n);
    } else if (-6 < n && n <= 0) {
        rc = buf_puts(out, "0.");
        while (rc == 0 && n++ < 0) {
            rc = buf_putc(out, '0');
        }
        if (rc == 0) {
            rc = buf_puts(out, dig);
        }
    } else {
        rc = buf_printf(out, "%c%s%se%c%d", dig[0], k > 1 ? "." : "",
                        dig + 1, n - 1 >= 0 ? '+' : '-',
                        abs(n - 1));
    }
    return rc;
}

/* Next UTF-16 code unit of a valid UTF-8 string, for key ordering. */
struct u16it {
    const unsigned char *p;
    const unsigned char *end;
    unsigned low; /* pending low surrogate, or 0 */
};

static int u16_next(struct u16it *it)
{
    unsigned cp;
    unsigned c;

    if (it->low) {
        cp = it->low;
        it->low = 0;
        return (int)cp;
    }
    if (it->p >= it->end) {
        return -1;
    }
    c = *it->p++;
    if (c < 0x80) {
        return (int)c;
    }
    if (c < 0xe0) {
        cp = (c & 0x1f) << 6 | (it->p[0] & 0x3f);
        it->p += 1;
    } else if (c < 0xf0) {
        cp = (c & 0x0f) << 12 | (it->p[0] & 0x3f) << 6 | (it->p[1] & 0x3f);
        it->p += 2;
    } else {
        cp = (c & 0x07) << 18 | (it->p[0] & 0x3f) << 12 |
             (it->p[1] & 0x3f) << 6 | (it->p[2] & 0x3f);
        it->p += 3;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->low = 0xdc00 | (cp & 0x3ff);
        return (int)(0xd800 | (cp >> 10));
    }
    return (int)cp;
}

struct jkey {
    const char *s;
    size_t n;
    json_t *v;
};

static int key_cmp_utf16(const struct jkey *x, const struct jkey *y);

/* Below U+E000 (all of ASCII) UTF-16 order is byte order; only keys with
 * 4-byte or U+E000.. sequences need the code-unit walk. */
static bool plain(const struct jkey *k)
{
    size_t i;

    for (i = 0; i < k->n; i++) {
        if ((unsigned char)k->s[i] >= 0xee) {
            return false;
        }
    }
    return true;
}

static int key_cmp(const void *a, const void *b)
{
    const struct jkey *x = a;
    const struct jkey *y = b;

    if (plain(x) && plain(y)) {
        size_t n = x->n < y->n ? x->n : y->n;
        int c = memcmp(x->s, y->s, n);

        return c ? c : (x->n > y->n) - (x->n < y->n);
    }
    return key_cmp_utf16(x, y);
}

static int key_cmp_utf16(const struct jkey *x, const struct jkey *y)
{
    struct u16it i = {(const unsigned char *)x->s,
                      (const unsigned char *)x->s + x->n, 0};
    struct u16it j = {(const unsigned char *)y->s,
                      (const unsigned char *)y->s + y->n, 0};

    for (;;) {
        int u = u16_next(&i);
        int v = u16_next(&j);

        if (u != v || u < 0) {
            return u - v;
        }
    }
}

static int put_object(struct buf *out, const json_t *v)
{
    size_t n = json_object_size(v);
    struct jkey small[16];
    struct jkey *keys = small;
    size_t i = 0;
    void *it;
    int rc = 0;

    if (n > sizeof(small) / sizeof(small[0])) {
        keys = calloc(n, sizeof(*keys));
        if (keys == NULL) {
            return -ENOMEM;
        }
    }
    for (it = json_object_iter((json_t *)v); it != NULL && i < n;
         it = json_object_iter_next((json_t *)v, it), i++) {
        keys[i].s = json_object_iter_key(it);
        keys[i].n = json_object_iter_key_len(it);
        keys[i].v = json_object_iter_value(it);
        if (!bytes_valid_utf8(keys[i].s, keys[i].n)) {
            rc = -EINVAL;
            goto out;
        }
    }
    n = i; /* sort and print only the members the iterator gave */
    /* qsort's base must not be NULL, even for no members. */
    if (n > 1) {
        qsort(keys, n, sizeof(*keys), key_cmp);
    }
    rc = buf_putc(out, '{');
    for (i = 0; rc == 0 && i < n; i++) {
        if (i > 0) {
            rc = buf_putc(out, ',');
        }
        if (rc == 0) {
            rc = put_string(out, keys[i].s, keys[i].n);
        }
        if (rc == 0) {
            rc = buf_putc(out, ':');
        }
        if (rc == 0) {
            rc = jcs_encode(out, keys[i].v);
        }
    }
    if (rc == 0) {
        rc = buf_putc(out, '}');
    }
out:
    if (keys != small) {
        free(keys);
    }
    return rc;
}

static int put_array(struct buf *out, const json_t *v)
{
    size_t i;
    int rc = buf_putc(out, '[');

    for (i = 0; rc == 0 && i < json_array_size(v); i++) {
        if (i > 0) {
            rc = buf_putc(out, ',');
        }
        if (rc == 0) {
            rc = jcs_encode(out, json_array_get(v, i));
        }
    }
    if (rc == 0) {
        rc = buf_putc(out, ']');
    }
    return rc;
}

int jcs_encode(struct buf *out, const json_t *v)
{
    json_int_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(out, v);
    case JSON_ARRAY:
        return put_array(out, v);
    case JSON_STRING:
        return put_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        i = json_integer_value(v);
        if (i > -JCS_SAFE_INT && i < JCS_SAFE_INT) {
            return buf_printf(out, "%lld", (long long)i);
        }
        return jcs_number(out, (double)i);
    case JSON_REAL:
        return jcs_number(out, json_real_value(v));
    case JSON_TRUE:
        return buf_puts(out, "true");
    case JSON_FALSE:
        return buf_puts(out, "false");
    case JSON_NULL:
        return buf_puts(out, "null");
    }
    return -EINVAL;
}

/* Checking canonical text: one pass, no tree. Every byte must be the
 * one jcs_encode would write, so nothing is normalised on the way. */

/* One array or object open in the text; for an object, its last key
 * so far (the bytes between the quotes). */
struct jcs_level {
    const char *key;
    size_t key_len;
    bool object;
    bool has_key;
    bool key_plain;
};

struct jcs_scan {
    const char *p; /* next byte */
    const char *end;
    size_t depth;
    bool jansson; /* -ERANGE for what jansson cannot hold */
    struct jcs_level lv[JCS_MAX_DEPTH];
};

/* Longest number jcs_number prints: -0.0000033333333333333333 has 25. */
#define JCS_NUMBER_MAX 32

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static unsigned hex_value(char c)
{
    return (unsigned)(is_digit(c) ? c - '0' : c - 'a' + 10);
}

/* Length of the escape at p (a backslash) if it is the one jcs_encode
 * writes, else 0: the two-letter forms JSON has, \u00xx in lower case
 * for the other controls, nothing else (RFC 8785 section 3.2.2.2). */
static size_t escape_len(const char *p, const char *end)
{
    char tmp[7];
    unsigned c;

    if (end - p < 2) {
        return 0;
    }
    switch (p[1]) {
    case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
        return 2;
    case 'u':
        break;
    default:
        return 0;
    }
    if (end - p < 6 || (p[4] != '0' && p[4] != '1') ||
        !is_lower_hex(p[5])) {
        return 0;
    }
    c = (unsigned)(p[4] - '0') << 4 | hex_value(p[5]);
    /* A control with no short form, spelled as the encoder spells it. */
    if (escape_of((unsigned char)c, tmp) != tmp || memcmp(p, tmp, 6) != 0) {
        return 0;
    }
    return 6;
}

/* Length of the valid UTF-8 sequence at p (not ASCII), else 0. */
static size_t utf8_len(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

    if ((size_t)(end - p) < len || !bytes_valid_utf8(p, len)) {
        return 0;
    }
    return len;
}

#define JCS_ONES 0x0101010101010101ull
#define JCS_HIGHS 0x8080808080808080ull

/* Past the bytes from p on that stand for themselves in a string:
 * printable ASCII but the quote and the backslash. Eight at a time
 * while no byte of a word can be another: a quote or a backslash makes
 * a zero byte after the XOR, a control is below 0x20, the rest have
 * the top bit set (a false alarm only costs a byte-wise step). */
static const char *skip_plain(const char *p, const char *end)
{
    uint64_t w, q, b;

    while (end - p >= 8) {
        memcpy(&w, p, sizeof(w));
        q = w ^ (JCS_ONES * '"');
        b = w ^ (JCS_ONES * '\\');
        if ((((q - JCS_ONES) & ~q) | ((b - JCS_ONES) & ~b) |
             ((w - JCS_ONES * 0x20) & ~w) | w) & JCS_HIGHS) {
            break;
        }
        p += 8;
    }
    while (p < end && (unsigned char)*p >= 0x20 &&
           (unsigned char)*p < 0x80 && *p != '"' && *p != '\\') {
        p++;
    }
    return p;
}

/* The string at s->p (its opening quote); s->p ends past the closing
 * one. *plain: no escape and nothing from U+E000 up, so the bytes sort
 * as the UTF-16 code units do (see plain() above). *nul: it holds a
 * U+0000. */
static int scan_string(struct jcs_scan *s, bool *plain, bool *nul)
{
    const char *p = s->p + 1;

    *plain = true;
    *nul = false;
    while ((p = skip_plain(p, s->end)) < s->end) {
        unsigned char c = (unsigned char)*p;
        size_t len;

        if (c == '"') {
            s->p = p + 1;
            return 0;
        }
        if (c < 0x20) {
            return -EINVAL;
        }
        len = c == '\\' ? escape_len(p, s->end) : utf8_len(p, s->end);
        if (len == 0) {
            return -EINVAL;
        }
        *plain = *plain && c < 0xee && c != '\\';
        *nul = *nul || (len == 6 && p[4] == '0' && p[5] == '0');
        p += len;
    }
    return -EINVAL;
}

/* The byte a checked escape sequence at p (a backslash) stands for;
 * canonical text escapes nothing above U+001F with \\u. */
static char unescape(const char *p)
{
    switch (p[1]) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': return (char)((unsigned)(p[4] - '0') << 4 | hex_value(p[5]));
    default: return p[1]; /* '"' or '\\' */
    }
}

/* Next UTF-16 code unit of checked string content, escapes decoded. */
static int unit_next(struct u16it *it)
{
    const unsigned char *p = it->p;

    if (it->low != 0 || p >= it->end || *p != '\\') {
        return u16_next(it);
    }
    it->p += p[1] == 'u' ? 6 : 2;
    return (unsigned char)unescape((const char *)p);
}

/* Does the level's last key sort strictly before k[0..n)? RFC 8785
 * section 3.2.3 orders keys by their UTF-16 code units. */
static bool key_before(const struct jcs_level *lv, const char *k, size_t n,
                       bool plain)
{
    struct u16it i = {(const unsigned char *)lv->key,
                      (const unsigned char *)lv->key + lv->key_len, 0};
    struct u16it j = {(const unsigned char *)k,
                      (const unsigned char *)k + n, 0};

    if (lv->key_plain && plain) {
        size_t m = lv->key_len < n ? lv->key_len : n;
        int c = memcmp(lv->key, k, m);

        return c < 0 || (c == 0 && lv->key_len < n);
    }
    for (;;) {
        int u = unit_next(&i);
        int v = unit_next(&j);

        if (u != v || u < 0) {
            return u < v;
        }
    }
}

/* Skip digits; false if there is none. */
static bool skip_digits(const char **p, const char *end)
{
    const char *start = *p;

    while (*p < end && is_digit(**p)) {
        (*p)++;
    }
    return *p > start;
}

/* Is t[0..n), a number in JSON's grammar, what jcs_number prints for
 * the double it reads as? */
static int number_canonical(const char *t, size_t n)
{
    char tmp[JCS_NUMBER_MAX + 1];
    struct buf b;
    int rc;

    if (n > JCS_NUMBER_MAX) {
        return -EINVAL;
    }
    memcpy(tmp, t, n);
    tmp[n] = '\0';
    buf_init(&b);
    rc = jcs_number(&b, strtod(tmp, NULL));
    if (rc == 0 && (b.len != n || memcmp(b.data, t, n) != 0)) {
        rc = -EINVAL;
    }
    buf_cleanup(&b);
    return rc;
}

/* Does the integer t[0..n) fit jansson's json_int_t? */
static int integer_fits(const char *t, size_t n)
{
    char tmp[JCS_NUMBER_MAX + 1];

    if (n > JCS_NUMBER_MAX) {
        return -ERANGE;
    }
    memcpy(tmp, t, n);
    tmp[n] = '\0';
    errno = 0;
    (void)strtoll(tmp, NULL, 10);
    return errno == ERANGE ? -ERANGE : 0;
}

/* The number at s->p ('-' or a digit), in JSON's grammar. */
static int scan_number(struct jcs_scan *s)
{
    const char *t = s->p;
    const char *p = t + (*t == '-');
    bool whole = true;
    size_t digits;
    int rc;

    if (p < s->end && *p == '0') {
        p++;
    } else if (!skip_digits(&p, s->end)) {
        return -EINVAL;
    }
    digits = (size_t)(p - t) - (*t == '-');
    if (p < s->end && *p == '.') {
        p++;
        whole = false;
        if (!skip_digits(&p, s->end)) {
            return -EINVAL;
        }
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        whole = false;
        p += p < s->end && (*p == '+' || *p == '-');
        if (!skip_digits(&p, s->end)) {
            return -EINVAL;
        }
    }
    s->p = p;
    /* Below 10^15 an integer is exact and prints as its digits, so of
     * the plain forms only minus zero is not canonical. */
    if (whole && digits <= 15) {
        return t[0] == '-' && t[1] == '0' ? -EINVAL : 0;
    }
    rc = number_canonical(t, (size_t)(p - t));
    if (rc == 0 && whole && s->jansson) {
        rc = integer_fits(t, (size_t)(p - t));
    }
    return rc;
}

static int scan_word(struct jcs_scan *s, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) {
        return -EINVAL;
    }
    s->p += n;
    return 0;
}

/* A member's key, in order after the one before, and its colon. */
static int scan_key(struct jcs_scan *s)
{
    struct jcs_level *lv = &s->lv[s->depth - 1];
    const char *k = s->p + 1;
    bool plain, nul;
    size_t n;
    int rc;

    if (s->p == s->end || *s->p != '"') {
        return -EINVAL;
    }
    rc = scan_string(s, &plain, &nul);
    if (rc < 0) {
        return rc;
    }
    n = (size_t)(s->p - 1 - k);
    if (lv->has_key && !key_before(lv, k, n, plain)) {
        return -EINVAL; /* out of order, or the same key twice */
    }
    lv->key = k;
    lv->key_len = n;
    lv->key_plain = plain;
    lv->has_key = true;
    if (s->p == s->end || *s->p != ':') {
        return -EINVAL;
    }
    s->p++;
    return nul && s->jansson ? -ERANGE : 0;
}

/* Past '[' or '{'. *more: the level is not empty, so a value (after
 * the first key, for an object) comes next. */
static int scan_open(struct jcs_scan *s, bool object, bool *more)
{
    struct jcs_level *lv;

    if (s->depth == JCS_MAX_DEPTH) {
        return -E2BIG;
    }
    lv = &s->lv[s->depth++];
    lv->object = object;
    lv->has_key = false;
    s->p++;
    if (s->p < s->end && *s->p == (object ? '}' : ']')) {
        s->p++;
        s->depth--;
        return 0;
    }
    *more = true;
    return object ? scan_key(s) : 0;
}

/* A value at s->p: a scalar whole, or the start of an array or object
 * (*more as scan_open sets it). */
static int scan_value(struct jcs_scan *s, bool *more)
{
    bool plain, nul;

    *more = false;
    if (s->p == s->end) {
        return -EINVAL;
    }
    switch (*s->p) {
    case '{': return scan_open(s, true, more);
    case '[': return scan_open(s, false, more);
    case '"': return scan_string(s, &plain, &nul);
    case 't': return scan_word(s, "true");
    case 'f': return scan_word(s, "false");
    case 'n': return scan_word(s, "null");
    default:
        if (*s->p == '-' || is_digit(*s->p)) {
            return scan_number(s);
        }
        return -EINVAL;
    }
}

/* After a value inside the innermost level: a comma and the next
 * element or member (*more), or the level's end. */
static int scan_after(struct jcs_scan *s, bool *more)
{
    const struct jcs_level *lv = &s->lv[s->depth - 1];

    *more = false;
    if (s->p == s->end) {
        return -EINVAL;
    }
    if (*s->p == ',') {
        s->p++;
        *more = true;
        return lv->object ? scan_key(s) : 0;
    }
    if (*s->p != (lv->object ? '}' : ']')) {
        return -EINVAL;
    }
    s->p++;
    s->depth--;
    return 0;
}

static int check_text(const char *p, size_t n, bool jansson)
{
    struct jcs_scan s;
    bool more = false;
    int rc;

    if (n == 0) {
        return -EINVAL;
    }
    s.p = p;
    s.end = p + n;
    s.depth = 0;
    s.jansson = jansson;
    /* A loop over an explicit stack: deep input cannot exhaust ours. */
    rc = scan_value(&s, &more);
    while (rc == 0 && s.depth > 0) {
        rc = more ? scan_value(&s, &more) : scan_after(&s, &more);
    }
    if (rc == 0 && s.p != s.end) {
        rc = -EINVAL;
    }
    return rc;
}

int jcs_check(const char *p, size_t n)
{
    return check_text(p, n, false);
}

/* Loading checked text: the checker has proven the syntax, so the
 * loader only cuts tokens out and builds jansson values. */

struct jcs_loader {
    const char *p;
    const char *end;
    struct buf tmp; /* an unescaped string */
    const struct jcs_keep *keep; /* members of this object to build */
};

/* The closing quote of the checked string that opens at p: the first
 * quote after it that an even run of backslashes precedes. */
static const char *string_end(const char *p, const char *end)
{
    const char *q = p + 1;

    for (;;) {
        const char *b;

        q = memchr(q, '"', (size_t)(end - q));
        for (b = q; b[-1] == '\\'; b--) {
            continue; /* the opening quote stops the run */
        }
        if ((q - b) % 2 == 0) {
            return q;
        }
        q++;
    }
}

/* The string at l->p: *s is its content in the text when it has no
 * escape, else in l->tmp (valid until the next string). */
static int load_string(struct jcs_loader *l, const char **s, size_t *n)
{
    const char *p = l->p + 1;
    const char *q = string_end(l->p, l->end);
    int rc = 0;

    if (memchr(p, '\\', (size_t)(q - p)) == NULL) {
        *s = p;
        *n = (size_t)(q - p);
        l->p = q + 1;
        return 0;
    }
    q = p;
    l->tmp.len = 0;
    while (rc == 0 && *q != '"') {
        if (*q == '\\') {
            rc = buf_append(&l->tmp, p, (size_t)(q - p));
            if (rc == 0) {
                rc = buf_putc(&l->tmp, unescape(q));
            }
            q += q[1] == 'u' ? 6 : 2;
            p = q;
        } else {
            q++;
        }
    }
    if (rc == 0) {
        rc = buf_append(&l->tmp, p, (size_t)(q - p));
    }
    *s = (const char *)l->tmp.data;
    *n = l->tmp.len;
    l->p = q + 1;
    return rc;
}

/* A number as jansson reads it: an integer if it has no fraction and
 * no exponent, else a real. */
static int load_number(struct jcs_loader *l, json_t **out)
{
    char tmp[JCS_NUMBER_MAX + 1];
    bool whole = true;
    long long i;
    size_t n;

    for (n = 0; l->p + n < l->end; n++) {
        char c = l->p[n];

        if (c == '.' || c == 'e' || c == 'E') {
            whole = false;
        } else if (!is_digit(c) && c != '-' && c != '+') {
            break;
        }
    }
    if (n > JCS_NUMBER_MAX) {
        return -EINVAL; /* jcs_check lets none through */
    }
    memcpy(tmp, l->p, n);
    tmp[n] = '\0';
    l->p += n;
    if (!whole) {
        *out = json_real(strtod(tmp, NULL));
        return *out ? 0 : -ENOMEM;
    }
    errno = 0;
    i = strtoll(tmp, NULL, 10);
    if (errno == ERANGE) {
        return -ERANGE;
    }
    *out = json_integer((json_int_t)i);
    return *out ? 0 : -ENOMEM;
}

static int load_value(struct jcs_loader *l, json_t **out);

/* The entry for member k[0..n) in l->keep, or NULL if it is not to
 * be built; keep NULL builds all, as the entry whole. */
static const struct jcs_keep *wanted(const struct jcs_loader *l,
                                     const char *k, size_t n)
{
    static const struct jcs_keep whole = {"", NULL};
    const struct jcs_keep *w;

    if (l->keep == NULL) {
        return &whole;
    }
    for (w = l->keep; w->name != NULL; w++) {
        if ((n == 0 || w->name[0] == k[0]) && strncmp(w->name, k, n) == 0 &&
            w->name[n] == '\0') {
            return w;
        }
    }
    return NULL;
}

/* Past a checked value inside an object: to the comma or brace after
 * it. Strings are skipped whole, so brackets in them do not count. */
static void skip_value(struct jcs_loader *l)
{
    size_t depth = 0;

    for (;;) {
        char c = *l->p;

        if (c == '"') {
            l->p = string_end(l->p, l->end);
        } else if (depth == 0 && (c == ',' || c == '}')) {
            return;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
        l->p++;
    }
}

/* A member's key: *k in the text or l->tmp, copied to *own (to free)
 * when in l->tmp, which the value may reuse. */
static int load_key(struct jcs_loader *l, const char **k, size_t *n,
                    char **own)
{
    int rc = load_string(l, k, n);

    *own = NULL;
    if (rc == 0 && *k == (const char *)l->tmp.data) {
        *own = malloc(*n + 1);
        if (*own == NULL) {
            return -ENOMEM;
        }
        memcpy(*own, *k, *n);
        *k = *own;
    }
    if (rc == 0 && memchr(*k, '\0', *n) != NULL) {
        rc = -ERANGE;
    }
    l->p++; /* ':' */
    return rc;
}

static int load_member(struct jcs_loader *l, json_t *obj)
{
    const struct jcs_keep *keep = l->keep;
    const struct jcs_keep *w;
    const char *k;
    char *own;
    json_t *v = NULL;
    size_t n;
    int rc;

    rc = load_key(l, &k, &n, &own);
    w = rc == 0 ? wanted(l, k, n) : NULL;
    if (rc == 0 && w == NULL) {
        skip_value(l);
    } else if (rc == 0) {
        /* Its own list applies to an object; anything else is whole. */
        l->keep = *l->p == '{' ? w->only : NULL;
        rc = load_value(l, &v);
        l->keep = keep;
        if (rc == 0 && json_object_setn_new_nocheck(obj, k, n, v) < 0) {
            rc = -ENOMEM; /* the value went with the failure */
        }
    }
    free(own);
    return rc;
}

/* An array or an object, '[' or '{' at l->p. */
static int load_container(struct jcs_loader *l, json_t **out)
{
    bool object = *l->p == '{';
    json_t *c = object ? json_object() : json_array();
    json_t *v;
    int rc = c != NULL ? 0 : -ENOMEM;

    l->p++;
    if (*l->p == (object ? '}' : ']')) {
        l->p++;
        *out = c;
        return rc;
    }
    while (rc == 0) {
        if (object) {
            rc = load_member(l, c);
        } else {
            rc = load_value(l, &v);
            if (rc == 0 && json_array_append_new(c, v) < 0) {
                rc = -ENOMEM;
            }
        }
        if (rc == 0 && *l->p++ != ',') {
            break; /* the closing bracket */
        }
    }
    if (rc < 0) {
        json_decref(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

static int load_value(struct jcs_loader *l, json_t **out)
{
    const char *s;
    size_t n;
    int rc;

    *out = NULL;
    switch (*l->p) {
    case '{':
    case '[':
        return load_container(l, out);
    case '"':
        rc = load_string(l, &s, &n);
        if (rc == 0) {
            *out = json_stringn_nocheck(s, n);
            rc = *out ? 0 : -ENOMEM;
        }
        return rc;
    case 't':
        l->p += 4;
        *out = json_true();
        return 0;
    case 'f':
        l->p += 5;
        *out = json_false();
        return 0;
    case 'n':
        l->p += 4;
        *out = json_null();
        return 0;
    default:
        return load_number(l, out);
    }
}

int jcs_load_members(const char *p, size_t n, const struct jcs_keep *keep,
                     json_t **out)
{
    struct jcs_loader l;
    int rc;

    *out = NULL;
    /* Refusing what jansson cannot hold up front lets the loader skip
     * members unread. */
    rc = check_text(p, n, true);
    if (rc < 0) {
        return rc;
    }
    l.p = p;
    l.end = p + n;
    buf_init(&l.tmp);
    l.keep = *p == '{' ? keep : NULL;
    rc = load_value(&l, out);
    buf_cleanup(&l.tmp);
    return rc;
}

int jcs_load(const char *p, size_t n, json_t **out)
{
    return jcs_load_members(p, n, NULL, out);
}
