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

int jcs_key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    struct jkey x = {a, an, NULL};
    struct jkey y = {b, bn, NULL};

    return key_cmp(&x, &y);
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
