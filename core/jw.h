/* SPDX-License-Identifier: Apache-2.0 */
/* Canonical JSON (RFC 8785) written straight from C values, without a
 * tree: the members of an object may be added in any order, and the
 * object is sorted when it is closed. The output is byte for byte what
 * jcs_encode() gives for the same value. Records are built this way so
 * that each one costs no more than its bytes; core/jcs.c stays for
 * values that arrive as jansson trees.
 *
 * Errors stick: after the first failure every call does nothing and
 * jw_obj_end() returns it (-ENOMEM; -EINVAL for a string that is not
 * valid UTF-8, a duplicate name or too many members). */
#ifndef KEST_JW_H
#define KEST_JW_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"

#define JW_MEMBERS 24

/* Scratch space shared by the objects of one value. */
struct jw {
    struct buf arena;
    int err;
};

struct jw_member {
    const char *name; /* a literal: ASCII names only */
    size_t off;       /* the value's canonical text in the arena */
    size_t len;
};

struct jw_obj {
    struct jw *w;
    size_t n;
    size_t items; /* items so far of the array being written */
    struct jw_member m[JW_MEMBERS];
};

void jw_init(struct jw *w);
void jw_cleanup(struct jw *w);

void jw_obj_begin(struct jw_obj *o, struct jw *w);
/* Members. A NULL string is written as null. */
void jw_str(struct jw_obj *o, const char *name, const char *s);
void jw_strn(struct jw_obj *o, const char *name, const char *s, size_t n);
/* A byte string kept losslessly, as core/bytes.c does: a string if it
 * is valid UTF-8, else {"b64": base64url}. */
void jw_bytes(struct jw_obj *o, const char *name, const char *s, size_t n);
void jw_int(struct jw_obj *o, const char *name, long long v);
void jw_null(struct jw_obj *o, const char *name);
/* A value already in canonical form. */
void jw_raw(struct jw_obj *o, const char *name, const void *text, size_t n);
/* A jansson value, through jcs_encode(). */
void jw_json(struct jw_obj *o, const char *name, const json_t *v);
/* An array member: begin, items, end. */
void jw_arr_begin(struct jw_obj *o, const char *name);
void jw_arr_bytes(struct jw_obj *o, const char *s, size_t n);
void jw_arr_str(struct jw_obj *o, const char *s);
void jw_arr_end(struct jw_obj *o);
/* Close child and make it member name of parent (same struct jw). */
void jw_obj_into(struct jw_obj *child, struct jw_obj *parent,
                 const char *name);
/* Close o and append its text to out. 0 or the first error. */
KEST_WUR int jw_obj_end(struct jw_obj *o, struct buf *out);

#endif
