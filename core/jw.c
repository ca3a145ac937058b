/* SPDX-License-Identifier: Apache-2.0 */
/* Canonical JSON written straight from C values (see jw.h). */
#include "core/jw.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/b64.h"
#include "core/bytes.h"
#include "core/jcs.h"

void jw_init(struct jw *w)
{
    buf_init(&w->arena);
    w->err = 0;
}

void jw_cleanup(struct jw *w)
{
    buf_cleanup(&w->arena);
    w->err = 0;
}

void jw_obj_begin(struct jw_obj *o, struct jw *w)
{
    o->w = w;
    o->n = 0;
    o->items = 0;
}

static void fail(struct jw *w, int rc)
{
    if (w->err == 0) {
        w->err = rc;
    }
}

static void put(struct jw *w, const void *p, size_t n)
{
    int rc;

    if (w->err == 0 && (rc = buf_append(&w->arena, p, n)) < 0) {
        fail(w, rc);
    }
}

/* Start member name; false if nothing should be written. */
static bool member(struct jw_obj *o, const char *name)
{
    if (o->w->err != 0) {
        return false;
    }
    if (o->n == JW_MEMBERS) {
        fail(o->w, -EINVAL);
        return false;
    }
    o->m[o->n].name = name;
    o->m[o->n].off = o->w->arena.len;
    o->m[o->n].len = 0;
    return true;
}

static void done(struct jw_obj *o)
{
    if (o->w->err == 0) {
        o->m[o->n].len = o->w->arena.len - o->m[o->n].off;
        o->n++;
    }
}

static void put_string(struct jw *w, const char *s, size_t n)
{
    int rc;

    if (w->err == 0 && (rc = jcs_string(&w->arena, s, n)) < 0) {
        fail(w, rc);
    }
}

/* {"b64":"..."} for bytes that are not UTF-8 text. */
static void put_bytes(struct jw *w, const char *s, size_t n)
{
    int rc;

    if (bytes_valid_utf8(s, n)) {
        put_string(w, s, n);
        return;
    }
    put(w, "{\"b64\":\"", 8);
    if (w->err == 0 && (rc = b64url_encode(&w->arena, s, n)) < 0) {
        fail(w, rc);
    }
    put(w, "\"}", 2);
}

/* Member name: s as text (lossless: as a byte string), or null. */
static void text(struct jw_obj *o, const char *name, const char *s,
                 size_t n, bool lossless)
{
    if (member(o, name)) {
        if (s == NULL) {
            put(o->w, "null", 4);
        } else if (lossless) {
            put_bytes(o->w, s, n);
        } else {
            put_string(o->w, s, n);
        }
        done(o);
    }
}

void jw_strn(struct jw_obj *o, const char *name, const char *s, size_t n)
{
    text(o, name, s, n, false);
}

void jw_str(struct jw_obj *o, const char *name, const char *s)
{
    text(o, name, s, s ? strlen(s) : 0, false);
}

void jw_bytes(struct jw_obj *o, const char *name, const char *s, size_t n)
{
    text(o, name, s, n, true);
}

void jw_int(struct jw_obj *o, const char *name, long long v)
{
    char tmp[24];
    int k;

    if (member(o, name)) {
        /* JCS prints integers of up to 2^53 as themselves; every value
         * kest writes is one (pids, ids, seconds, counters). */
        if (v <= -9007199254740992LL || v >= 9007199254740992LL) {
            fail(o->w, -EINVAL);
            return;
        }
        k = snprintf(tmp, sizeof(tmp), "%lld", v);
        put(o->w, tmp, (size_t)k);
        done(o);
    }
}

void jw_null(struct jw_obj *o, const char *name)
{
    if (member(o, name)) {
        put(o->w, "null", 4);
        done(o);
    }
}

void jw_raw(struct jw_obj *o, const char *name, const void *text, size_t n)
{
    if (member(o, name)) {
        put(o->w, text, n);
        done(o);
    }
}

void jw_json(struct jw_obj *o, const char *name, const json_t *v)
{
    int rc;

    if (member(o, name)) {
        if (v == NULL) {
            fail(o->w, -ENOMEM); /* a value that could not be made */
            return;
        }
        if ((rc = jcs_encode(&o->w->arena, v)) < 0) {
            fail(o->w, rc);
            return;
        }
        done(o);
    }
}

void jw_arr_begin(struct jw_obj *o, const char *name)
{
    if (member(o, name)) {
        o->items = 0;
        put(o->w, "[", 1);
    }
}

static void item(struct jw_obj *o)
{
    if (o->items++ > 0) {
        put(o->w, ",", 1);
    }
}

void jw_arr_bytes(struct jw_obj *o, const char *s, size_t n)
{
    item(o);
    put_bytes(o->w, s, n);
}

void jw_arr_str(struct jw_obj *o, const char *s)
{
    item(o);
    put_string(o->w, s, strlen(s));
}

void jw_arr_end(struct jw_obj *o)
{
    put(o->w, "]", 1);
    done(o);
}

/* Sort the members by name, as RFC 8785 orders them (by UTF-16 code
 * units, which for ASCII names is strcmp's order); a name given twice
 * is a bug in the caller. */
static int sort(struct jw_obj *o)
{
    size_t i, j;

    for (i = 1; i < o->n; i++) {
        struct jw_member m = o->m[i];

        for (j = i; j > 0; j--) {
            int c = strcmp(o->m[j - 1].name, m.name);

            if (c == 0) {
                return -EINVAL;
            }
            if (c < 0) {
                break;
            }
            o->m[j] = o->m[j - 1];
        }
        o->m[j] = m;
    }
    return 0;
}

/* The object's text, appended to out; values are read from the arena,
 * which may be out itself. */
static int write_obj(struct jw_obj *o, struct buf *out)
{
    size_t total = 2;
    size_t i;
    uint8_t *p;
    int rc;

    rc = sort(o);
    if (rc < 0) {
        return rc;
    }
    for (i = 0; i < o->n; i++) {
        total += strlen(o->m[i].name) + 4 + o->m[i].len;
    }
    rc = buf_reserve(out, total);
    if (rc < 0) {
        return rc;
    }
    p = out->data + out->len;
    *p++ = '{';
    for (i = 0; i < o->n; i++) {
        size_t k = strlen(o->m[i].name);

        if (i > 0) {
            *p++ = ',';
        }
        *p++ = '"';
        memcpy(p, o->m[i].name, k);
        p += k;
        *p++ = '"';
        *p++ = ':';
        memcpy(p, o->w->arena.data + o->m[i].off, o->m[i].len);
        p += o->m[i].len;
    }
    *p++ = '}';
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return 0;
}

void jw_obj_into(struct jw_obj *child, struct jw_obj *parent,
                 const char *name)
{
    int rc;

    if (member(parent, name)) {
        if ((rc = write_obj(child, &parent->w->arena)) < 0) {
            fail(parent->w, rc);
            return;
        }
        done(parent);
    }
}

int jw_obj_end(struct jw_obj *o, struct buf *out)
{
    int rc;

    if (o->w->err != 0) {
        return o->w->err;
    }
    rc = write_obj(o, out);
    if (rc < 0) {
        fail(o->w, rc);
    }
    return rc;
}
