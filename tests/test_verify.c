/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/verify: logs written with log_append and
 * record_seal, then damaged in every way the verifier must notice. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/ident.h"
#include "core/jcs.h"
#include "core/key.h"
#include "core/log.h"
#include "core/record.h"
#include "core/verify.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NREC 5
#define PRINCIPAL "urn:kest:test"

/* RFC 8037 appendix A.2, the public key of tests/data/golden.jsonl. */
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

/* The signing side of a test identity: a key, and the alg it claims. */
struct tident {
    struct key *key;
    const char *alg; /* NULL: the key's own */
};

/* Writes records the way core/engine.c does: base fields first, then
 * log_prev and seq under the log lock. */
struct writer {
    struct log lg;
    struct tident t;
    struct ident id;
    char instance[33];
    uint64_t seq;
    char parent[RECORD_HASH_HEX];
    bool sign;
    void (*mutate)(json_t *pl);
};

struct seal_ctx {
    struct writer *w;
    json_t *pl;
};

/* A log as lines, to damage and write back. */
struct lines {
    char **v;
    size_t n;
    bool torn; /* leave the last newline off */
};

/* What a mutation may need besides the lines. */
struct mctx {
    struct key *own;
    struct key *other;
    char hash[NREC][RECORD_HASH_HEX];
    const char *instance;
};

static char tmpdir[256];
static char logpath[512];

static int tid_header(void *state, json_t *hdr)
{
    struct tident *t = state;
    const char *alg = t->alg != NULL ? t->alg : key_alg(t->key);

    if (json_object_set_new(hdr, "alg", json_string(alg)) ||
        json_object_set_new(hdr, "kid", json_string(key_kid(t->key)))) {
        return -ENOMEM;
    }
    return 0;
}

static int tid_sign(void *state, const void *msg, size_t n,
                    struct buf *sig)
{
    return key_sign(((struct tident *)state)->key, msg, n, sig);
}

static const char *tid_principal(void *state)
{
    (void)state;
    return PRINCIPAL;
}

static const struct ident_ops tid_ops = {
    .name = "test",
    .principal = tid_principal,
    .header = tid_header,
    .sign = tid_sign,
};

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/kest-verify.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(logpath, sizeof(logpath), "%s/kest.log", tmpdir);
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

static struct key *new_key(enum key_type type)
{
    struct key *k = NULL;

    ck_assert_int_eq(key_generate(type, &k), 0);
    return k;
}

static void writer_new_instance(struct writer *w)
{
    uint8_t r[16];

    ck_assert_int_eq(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
    record_hex(r, sizeof(r), w->instance);
    w->seq = 0;
}

static void writer_init(struct writer *w, const char *path, struct key *k)
{
    memset(w, 0, sizeof(*w));
    ck_assert_int_eq(log_init(&w->lg, path, 0600, 2000), 0);
    w->t.key = k;
    w->id.ops = &tid_ops;
    w->id.state = &w->t;
    w->sign = true;
    strcpy(w->parent, "0");
    writer_new_instance(w);
}

static json_t *base_payload(const struct writer *w, const char *op)
{
    struct timespec ts;
    char uuid[37];
    json_t *pl;

    ck_assert_int_eq(record_uuid7(uuid), 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    pl = json_pack("{s:s, s:s, s:s, s:I, s:[s], s:{s:s}, s:{s:s, s:i}}",
                   "schema_version", RECORD_SCHEMA, "entry_id", uuid,
                   "operation", op, "timestamp_ms",
                   (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                   "parent_ids", w->parent, "labels", "principal",
                   PRINCIPAL, "process", "instance", w->instance, "pid",
                   (int)getpid());
    ck_assert_ptr_nonnull(pl);
    if (strcmp(op, "gap") == 0) {
        ck_assert_int_eq(json_object_set_new(pl, "gap", json_pack(
            "{s:s, s:s}", "reason", "test: no key", "event", "exec")), 0);
    }
    return pl;
}

static int seal_cb(void *arg, const char *prev, struct buf *line,
                   char hash[RECORD_HASH_HEX])
{
    struct seal_ctx *c = arg;
    struct writer *w = c->w;

    if (json_object_set_new(c->pl, "log_prev", json_string(prev)) ||
        json_object_set_new(c->pl, "seq",
                            json_integer((json_int_t)w->seq + 1))) {
        return -ENOMEM;
    }
    if (w->mutate != NULL) {
        w->mutate(c->pl);
    }
    if (!w->sign) {
        return record_seal_unsigned(c->pl, line, hash);
    }
    return record_seal(&w->id, c->pl, line, hash);
}

static void writer_append(struct writer *w, const char *op,
                          char hash[RECORD_HASH_HEX])
{
    struct seal_ctx c = {w, base_payload(w, op)};

    ck_assert_int_eq(log_append(&w->lg, seal_cb, &c, hash), 0);
    w->seq++;
    /* The first record of a root process becomes its origin. */
    if (strcmp(w->parent, "0") == 0) {
        memcpy(w->parent, hash, RECORD_HASH_HEX);
    }
    json_decref(c.pl);
}

static void build_log(const char *path, struct key *k,
                      char hash[NREC][RECORD_HASH_HEX])
{
    struct writer w;
    int i;

    writer_init(&w, path, k);
    for (i = 0; i < NREC; i++) {
        writer_append(&w, i == 0 ? "start" : "exec", hash[i]);
    }
    log_cleanup(&w.lg);
}

static void lines_read(const char *path, struct lines *l)
{
    FILE *f = fopen(path, "re");
    char *s = NULL;
    size_t cap = 0;
    ssize_t got;

    ck_assert_ptr_nonnull(f);
    memset(l, 0, sizeof(*l));
    while ((got = getline(&s, &cap, f)) > 0) {
        if (s[got - 1] == '\n') {
            s[got - 1] = '\0';
        }
        l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        ck_assert_ptr_nonnull(l->v);
        l->v[l->n++] = strdup(s);
    }
    free(s);
    fclose(f);
}

static void lines_write(const char *path, const struct lines *l)
{
    FILE *f = fopen(path, "we");
    size_t i;

    ck_assert_ptr_nonnull(f);
    for (i = 0; i < l->n; i++) {
        fputs(l->v[i], f);
        if (i + 1 < l->n || !l->torn) {
            fputc('\n', f);
        }
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void lines_free(struct lines *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Put s (taken over) in at index at, moving the rest down. */
static void lines_insert(struct lines *l, size_t at, char *s)
{
    l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
    ck_assert_ptr_nonnull(l->v);
    memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
    l->v[at] = s;
    l->n++;
}

static void lines_remove(struct lines *l, size_t at)
{
    free(l->v[at]);
    memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(*l->v));
    l->n--;
}

static void same_result(const struct verify_result *a,
                        const struct verify_result *b)
{
    size_t i;

    ck_assert_uint_eq(a->records, b->records);
    ck_assert_uint_eq(a->gaps, b->gaps);
    ck_assert_uint_eq(a->processes, b->processes);
    ck_assert_uint_eq(a->principals, b->principals);
    ck_assert_uint_eq(a->external, b->external);
    ck_assert_uint_eq(a->failures, b->failures);
    ck_assert_str_eq(a->head, b->head);
    ck_assert_uint_eq(a->nissues, b->nissues);
    for (i = 0; i < a->nissues; i++) {
        ck_assert_uint_eq(a->issues[i].line, b->issues[i].line);
        ck_assert_str_eq(a->issues[i].reason, b->issues[i].reason);
    }
    ck_assert(json_equal(a->principal_list, b->principal_list));
}

/* Every run is repeated the slow way (each line parsed whole and
 * encoded again), which must come to the same words; not with a
 * callback, which would see each record twice. */
static void run_verify(const char *const *paths, size_t n,
                       const struct verify_opts *o, struct verify_result *r)
{
    struct verify_opts slow = *o;
    struct verify_result sr;

    ck_assert_int_eq(verify_logs(paths, n, o, r), 0);
    if (o->each != NULL) {
        return;
    }
    slow.full_parse = true;
    ck_assert_int_eq(verify_logs(paths, n, &slow, &sr), 0);
    same_result(r, &sr);
    verify_result_cleanup(&sr);
}

static void verify_one_key(const char *path, struct key *k,
                           struct verify_result *r)
{
    struct verify_opts o = {0};

    o.keys = &k;
    o.nkeys = k != NULL ? 1 : 0;
    o.threads = 2;
    run_verify(&path, 1, &o, r);
}

static void expect_first_issue(const struct verify_result *r,
                               uint64_t line, const char *reason)
{
    ck_assert_uint_ge(r->failures, 1);
    ck_assert_uint_ge(r->nissues, 1);
    ck_assert_msg(r->issues[0].line == line,
                  "issue on line %llu, want %llu: %s",
                  (unsigned long long)r->issues[0].line,
                  (unsigned long long)line, r->issues[0].reason);
    ck_assert_msg(strstr(r->issues[0].reason, reason) != NULL,
                  "reason '%s' lacks '%s'", r->issues[0].reason, reason);
}

/* A whole signed record line, made apart from the log. */
static char *forge_line(struct key *k, bool sign, const char *op,
                        const char *prev, uint64_t seq, const char *inst)
{
    struct writer w;
    struct seal_ctx c;
    char hash[RECORD_HASH_HEX];
    struct buf line;

    writer_init(&w, logpath, k);
    w.sign = sign;
    w.seq = seq - 1;
    strcpy(w.instance, inst);
    c.w = &w;
    c.pl = base_payload(&w, op);
    buf_init(&line);
    ck_assert_int_eq(seal_cb(&c, prev, &line, hash), 0);
    json_decref(c.pl);
    log_cleanup(&w.lg);
    return buf_steal(&line);
}

static char *join3(const char *a, size_t an, const char *b, const char *c)
{
    char *s = NULL;

    ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)an, a, b, c), 0);
    return s;
}

static void mut_payload_byte(struct lines *l, const struct mctx *m)
{
    char *at = strstr(l->v[1], "\"operation\":\"exec\"");

    (void)m;
    ck_assert_ptr_nonnull(at);
    at[16] = 'k';
}

static void mut_swap_signatures(struct lines *l, const struct mctx *m)
{
    char *a = strstr(l->v[1], "\"signature\":\"");
    char *b = strstr(l->v[2], "\"signature\":\"");
    char *na, *nb;

    (void)m;
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    na = join3(l->v[1], (size_t)(a - l->v[1]), b, "");
    nb = join3(l->v[2], (size_t)(b - l->v[2]), a, "");
    free(l->v[1]);
    free(l->v[2]);
    l->v[1] = na;
    l->v[2] = nb;
}

static void mut_delete_middle(struct lines *l, const struct mctx *m)
{
    (void)m;
    lines_remove(l, 2);
}

static void mut_delete_first(struct lines *l, const struct mctx *m)
{
    (void)m;
    lines_remove(l, 0);
}

static void mut_reorder(struct lines *l, const struct mctx *m)
{
    char *t = l->v[1];

    (void)m;
    l->v[1] = l->v[2];
    l->v[2] = t;
}

static void mut_replay_line(struct lines *l, const struct mctx *m)
{
    (void)m;
    lines_insert(l, 2, strdup(l->v[1]));
}

static void mut_insert_forged(struct lines *l, const struct mctx *m)
{
    lines_insert(l, 2, forge_line(m->other, true, "exec", m->hash[1], 3,
                                  m->instance));
}

static void mut_insert_unsigned(struct lines *l, const struct mctx *m)
{
    lines_insert(l, 2, forge_line(m->other, false, "exec", m->hash[1], 3,
                                  m->instance));
}

static void mut_reformat(struct lines *l, const struct mctx *m)
{
    json_t *v = json_loads(l->v[1], 0, NULL);

    (void)m;
    ck_assert_ptr_nonnull(v);
    free(l->v[1]);
    l->v[1] = json_dumps(v, JSON_SORT_KEYS);
    json_decref(v);
}

static void mut_empty_line(struct lines *l, const struct mctx *m)
{
    (void)m;
    lines_insert(l, 2, strdup(""));
}

static void mut_garbage_line(struct lines *l, const struct mctx *m)
{
    (void)m;
    lines_insert(l, 2, strdup("garbage {\"payload\":"));
}

static void mut_cut_line(struct lines *l, const struct mctx *m)
{
    (void)m;
    l->v[1][strlen(l->v[1]) / 2] = '\0';
}

static void mut_duplicate_member(struct lines *l, const struct mctx *m)
{
    char *s = join3("{\"payload\":{},", 14, l->v[1] + 1, "");

    (void)m;
    free(l->v[1]);
    l->v[1] = s;
}

static void mut_extra_member(struct lines *l, const struct mctx *m)
{
    size_t n = strlen(l->v[1]);
    char *s = join3(l->v[1], n - 1, ",\"zz\":1", "}");

    (void)m;
    free(l->v[1]);
    l->v[1] = s;
}

static void mut_torn_tail(struct lines *l, const struct mctx *m)
{
    (void)m;
    l->torn = true;
}

/* Replace line 2's protected header with the given JSON text. */
static void set_header(struct lines *l, const char *json)
{
    char *p = strstr(l->v[1], ",\"protected\":\"");
    char *q = strstr(l->v[1], "\",\"signature\":\"");
    struct buf enc;
    char *s;

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    buf_init(&enc);
    ck_assert_int_eq(b64url_encode(&enc, json, strlen(json)), 0);
    s = join3(l->v[1], (size_t)(p - l->v[1]) + 14, (char *)enc.data, q);
    free(l->v[1]);
    l->v[1] = s;
    buf_cleanup(&enc);
}

static void mut_alg_none(struct lines *l, const struct mctx *m)
{
    (void)m;
    set_header(l, "{\"alg\":\"none\"}");
}

static void mut_other_kid(struct lines *l, const struct mctx *m)
{
    char hdr[200];

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
             "\"typ\":\"JWS\"}", key_kid(m->other));
    set_header(l, hdr);
}

static void mut_header_changed(struct lines *l, const struct mctx *m)
{
    char hdr[200];

    /* Same key and kid, but the signed header is not the one signed. */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
             "\"typ\":\"JWT\"}", key_kid(m->own));
    set_header(l, hdr);
}

static void mut_header_not_json(struct lines *l, const struct mctx *m)
{
    (void)m;
    set_header(l, "{\"alg\":");
}

static void mut_bad_signature_text(struct lines *l, const struct mctx *m)
{
    char *q = strstr(l->v[1], "\",\"signature\":\"");
    char *s;

    (void)m;
    ck_assert_ptr_nonnull(q);
    s = join3(l->v[1], (size_t)(q - l->v[1]) + 15, "not*base64url", "\"}");
    free(l->v[1]);
    l->v[1] = s;
}

/* A fourth member, sorted between payload and protected. */
static void mut_member_between(struct lines *l, const struct mctx *m)
{
    char *q = strstr(l->v[1], ",\"protected\":\"");
    char *s;

    (void)m;
    ck_assert_ptr_nonnull(q);
    s = join3(l->v[1], (size_t)(q - l->v[1]), ",\"pb\":{}", q);
    free(l->v[1]);
    l->v[1] = s;
}

/* The signature's first character written as a \u escape: the same
 * string to a JSON reader, but not the canonical bytes. */
static void mut_escaped_signature(struct lines *l, const struct mctx *m)
{
    char *q = strstr(l->v[1], "\",\"signature\":\"");
    char esc[8];
    char *s;

    (void)m;
    ck_assert_ptr_nonnull(q);
    snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)q[15]);
    s = join3(l->v[1], (size_t)(q - l->v[1]) + 15, esc, q + 16);
    free(l->v[1]);
    l->v[1] = s;
}

/* The payload's members, in reverse order. */
static void mut_payload_unsorted(struct lines *l, const struct mctx *m)
{
    char *q = strstr(l->v[1], ",\"protected\":\"");
    json_t *v = json_loads(l->v[1], 0, NULL);
    json_t *pl = json_object_get(v, "payload");
    const char *keys[32];
    size_t n = 0;
    struct buf b;
    const char *k;
    json_t *x;

    (void)m;
    ck_assert_ptr_nonnull(q);
    buf_init(&b);
    json_object_foreach(pl, k, x) {
        ck_assert_uint_lt(n, NELEM(keys));
        keys[n++] = k;
    }
    ck_assert_int_eq(buf_puts(&b, "{\"payload\":{"), 0);
    while (n-- > 0) {
        char *t = json_dumps(json_object_get(pl, keys[n]),
                             JSON_COMPACT | JSON_ENCODE_ANY);

        ck_assert_int_eq(buf_printf(&b, "\"%s\":%s%s", keys[n], t,
                                    n > 0 ? "," : "}"), 0);
        free(t);
    }
    ck_assert_int_eq(buf_puts(&b, q), 0);
    free(l->v[1]);
    l->v[1] = buf_steal(&b);
    json_decref(v);
}

struct mutation {
    void (*apply)(struct lines *l, const struct mctx *m);
    uint64_t line;
    const char *reason;
};

static const struct mutation mutations[] = {
    {mut_payload_byte, 2, "bad signature"},
    {mut_swap_signatures, 2, "bad signature"},
    {mut_delete_middle, 3, "log_prev"},
    {mut_delete_first, 1, "log_prev"},
    {mut_reorder, 2, "log_prev"},
    {mut_replay_line, 3, "log_prev"},
    {mut_insert_forged, 3, "no trusted key"},
    {mut_insert_unsigned, 3, "unsigned record that is not a gap"},
    {mut_reformat, 2, "canonical"},
    {mut_empty_line, 3, "empty line"},
    {mut_garbage_line, 3, "not JSON"},
    {mut_cut_line, 2, "not JSON"},
    {mut_duplicate_member, 2, "not JSON"},
    {mut_extra_member, 2, "not a record"},
    {mut_torn_tail, NREC, "torn"},
    {mut_alg_none, 2, "unsigned record that is not a gap"},
    {mut_other_kid, 2, "no trusted key"},
    {mut_header_changed, 2, "bad signature"},
    {mut_header_not_json, 2, "protected header"},
    {mut_bad_signature_text, 2, "signature is not base64url"},
    {mut_member_between, 2, "not a record"},
    {mut_escaped_signature, 2, "not in canonical form"},
    {mut_payload_unsorted, 2, "not in canonical form"},
};

static void set_str(json_t *pl, const char *name, const char *v)
{
    ck_assert_int_eq(json_object_set_new(pl, name, json_string(v)), 0);
}

static void fld_schema(json_t *pl)
{
    set_str(pl, "schema_version", "kest-c/0");
}

static void fld_schema_missing(json_t *pl)
{
    ck_assert_int_eq(json_object_del(pl, "schema_version"), 0);
}

static void fld_entry_v4(json_t *pl)
{
    set_str(pl, "entry_id", "0188f0e2-5a00-4abc-8def-0123456789ab");
}

static void fld_entry_variant(json_t *pl)
{
    set_str(pl, "entry_id", "0188f0e2-5a00-7abc-cdef-0123456789ab");
}

static void fld_entry_upper(json_t *pl)
{
    set_str(pl, "entry_id", "0188F0E2-5A00-7ABC-8DEF-0123456789AB");
}

static void fld_op_empty(json_t *pl)
{
    set_str(pl, "operation", "");
}

static void fld_op_missing(json_t *pl)
{
    ck_assert_int_eq(json_object_del(pl, "operation"), 0);
}

static void fld_ts_string(json_t *pl)
{
    set_str(pl, "timestamp_ms", "1687000000000");
}

static void fld_ts_real(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "timestamp_ms",
                                         json_real(1.5)), 0);
}

static void fld_parents_empty(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "parent_ids", json_array()),
                     0);
}

static void fld_parents_bad(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "parent_ids",
                                         json_pack("[s]", "abc")), 0);
}

static void fld_principal_missing(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "labels", json_object()), 0);
}

static void fld_log_prev_bad(json_t *pl)
{
    set_str(pl, "log_prev", "1234");
}

static void fld_seq_zero(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "seq", json_integer(0)), 0);
}

static void fld_seq_string(json_t *pl)
{
    set_str(pl, "seq", "2");
}

static void fld_instance_short(json_t *pl)
{
    json_t *p = json_object_get(pl, "process");

    ck_assert_int_eq(json_object_set_new(p, "instance", json_string(
        "0123456789abcdef0123456789abcde")), 0);
}

static void fld_instance_missing(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "process", json_object()), 0);
}

/* RFC 8785 writes 1e20 as 100000000000000000000, too big for
 * jansson's integers: canonical, and still no JSON kest can read. */
static void fld_big_number(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "zz", json_real(1e20)), 0);
}

/* jansson holds no NUL in a key. */
static void fld_nul_key(json_t *pl)
{
    ck_assert_int_eq(json_object_setn_new(pl, "z\0", 2, json_true()), 0);
}

struct field_case {
    void (*mutate)(json_t *pl);
    const char *reason;
};

static const struct field_case field_cases[] = {
    {fld_schema, "schema_version"},
    {fld_schema_missing, "schema_version"},
    {fld_entry_v4, "entry_id"},
    {fld_entry_variant, "entry_id"},
    {fld_entry_upper, "entry_id"},
    {fld_op_empty, "operation"},
    {fld_op_missing, "operation"},
    {fld_ts_string, "timestamp_ms"},
    {fld_ts_real, "timestamp_ms"},
    {fld_parents_empty, "parent_ids"},
    {fld_parents_bad, "parent_ids[0]"},
    {fld_principal_missing, "labels.principal"},
    {fld_log_prev_bad, "log_prev"},
    {fld_seq_zero, "seq"},
    {fld_seq_string, "seq"},
    {fld_instance_short, "process.instance"},
    {fld_instance_missing, "process.instance"},
    {fld_big_number, "damaged line, not JSON (too big integer"},
    {fld_nul_key, "damaged line, not JSON (NUL byte in object key"},
};

START_TEST(test_verify_logs_valid)
{
    static const enum key_type types[] = {KEY_ED25519, KEY_P256, KEY_RSA};
    struct key *k = new_key(types[_i]);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_result r;

    build_log(logpath, k, hash);
    verify_one_key(logpath, k, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.nissues, 0);
    ck_assert_uint_eq(r.records, NREC);
    ck_assert_uint_eq(r.gaps, 0);
    ck_assert_uint_eq(r.processes, 1);
    ck_assert_uint_eq(r.principals, 1);
    ck_assert_uint_eq(r.external, 0);
    ck_assert_str_eq(r.head, hash[NREC - 1]);
    ck_assert_str_eq(json_string_value(json_array_get(r.principal_list, 0)),
                     PRINCIPAL);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_golden)
{
    const char *path = KEST_TESTDATA "/golden.jsonl";
    struct verify_opts o = {0};
    struct verify_result r;
    struct key *k = NULL;
    struct buf x;
    EVP_PKEY *pk;
    char head[80] = {0};
    FILE *f = fopen(KEST_TESTDATA "/golden.head", "re");

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(head, sizeof(head), f));
    fclose(f);
    buf_init(&x);
    ck_assert_int_eq(b64url_decode(&x, RFC8037_X, strlen(RFC8037_X)), 0);
    pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.data,
                                     x.len);
    ck_assert_int_eq(key_from_pkey(pk, &k), 0);
    o.keys = &k;
    o.nkeys = 1;
    o.expect_head = head;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.records, 2);
    ck_assert_str_eq(r.head, head);
    verify_result_cleanup(&r);
    EVP_PKEY_free(pk);
    buf_cleanup(&x);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_damaged)
{
    const struct mutation *mu = &mutations[_i];
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct lines l;
    struct mctx m;
    json_t *first;

    m.own = k;
    m.other = new_key(KEY_ED25519);
    build_log(logpath, k, m.hash);
    lines_read(logpath, &l);
    ck_assert_uint_eq(l.n, NREC);
    first = json_loads(l.v[0], 0, NULL);
    m.instance = json_string_value(json_object_get(
        json_object_get(json_object_get(first, "payload"), "process"),
        "instance"));
    mu->apply(&l, &m);
    lines_write(logpath, &l);
    verify_one_key(logpath, k, &r);
    expect_first_issue(&r, mu->line, mu->reason);
    verify_result_cleanup(&r);
    json_decref(first);
    lines_free(&l);
    key_free(m.other);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_payload_fields)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct writer w;
    char h[RECORD_HASH_HEX];

    writer_init(&w, logpath, k);
    writer_append(&w, "start", h);
    w.mutate = field_cases[_i].mutate;
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    verify_one_key(logpath, k, &r);
    expect_first_issue(&r, 2, field_cases[_i].reason);
    ck_assert_uint_eq(r.records, 1);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

static void add_odd_strings(json_t *pl)
{
    ck_assert_int_eq(json_object_set_new(pl, "argv", json_pack(
        "[s%,s,s]", "a\0b", 3, "\xf0\x9f\x98\x80\x7f\x1f",
        "\",\"signature\":\"")), 0);
    ck_assert_int_eq(json_object_set_new(pl, "\xef\xac\xb3",
                                         json_true()), 0);
}

/* Three records whose payloads mutate changed verify, head and all. */
static void three_verify(void (*mutate)(json_t *))
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct writer w;
    char h[RECORD_HASH_HEX];
    int i;

    writer_init(&w, logpath, k);
    w.mutate = mutate;
    for (i = 0; i < 3; i++) {
        writer_append(&w, i == 0 ? "start" : "exec", h);
    }
    log_cleanup(&w.lg);
    verify_one_key(logpath, k, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.records, 3);
    ck_assert_str_eq(r.head, h);
    verify_result_cleanup(&r);
    key_free(k);
}

START_TEST(test_verify_logs_odd_payload)
{
    /* NUL, controls, astral and look-alike separators all round-trip. */
    three_verify(add_odd_strings);
}
END_TEST

/* Nested deeper than jcs_check goes (as deep as jansson reads): such
 * lines take the slow path, and still verify. */
static void add_deep_array(json_t *pl)
{
    json_t *v = json_array();
    int i;

    for (i = 0; i < JCS_MAX_DEPTH + 8; i++) {
        json_t *outer = json_array();

        ck_assert_int_eq(json_array_append_new(outer, v), 0);
        v = outer;
    }
    ck_assert_int_eq(json_object_set_new(pl, "deep", v), 0);
}

START_TEST(test_verify_logs_deep_payload)
{
    three_verify(add_deep_array);
}
END_TEST

START_TEST(test_verify_logs_wrong_key)
{
    struct key *k = new_key(KEY_ED25519);
    struct key *other = new_key(_i == 0 ? KEY_ED25519 : KEY_P256);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_result r;

    build_log(logpath, k, hash);
    verify_one_key(logpath, other, &r);
    expect_first_issue(&r, 1, "no trusted key");
    ck_assert_uint_eq(r.failures, NREC);
    ck_assert_uint_eq(r.records, 0);
    ck_assert_str_eq(r.head, "");
    verify_result_cleanup(&r);
    verify_one_key(logpath, NULL, &r);
    ck_assert_uint_eq(r.failures, NREC);
    verify_result_cleanup(&r);
    key_free(other);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_key_type_mismatch)
{
    static const char *const lies[] = {"ES256", "RS256", "PS256"};
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct writer w;
    char h[RECORD_HASH_HEX];

    /* The header names the right kid but another key type's alg. */
    writer_init(&w, logpath, k);
    w.t.alg = lies[_i];
    writer_append(&w, "start", h);
    log_cleanup(&w.lg);
    verify_one_key(logpath, k, &r);
    expect_first_issue(&r, 1, "key type mismatch");
    ck_assert_uint_eq(r.records, 0);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_truncated_tail)
{
    struct key *k = new_key(KEY_ED25519);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    struct lines l;

    build_log(logpath, k, hash);
    lines_read(logpath, &l);
    lines_remove(&l, l.n - 1);
    lines_write(logpath, &l);
    o.keys = &k;
    o.nkeys = 1;
    /* Without the expected head a cut-off tail looks like a whole log. */
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_str_eq(r.head, hash[NREC - 2]);
    verify_result_cleanup(&r);
    o.expect_head = hash[NREC - 1];
    run_verify(&path, 1, &o, &r);
    expect_first_issue(&r, 0, "expected");
    ck_assert_uint_eq(r.failures, 1);
    ck_assert_uint_eq(r.records, NREC - 1);
    verify_result_cleanup(&r);
    lines_free(&l);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_gap)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    struct writer w;
    char h[RECORD_HASH_HEX];

    writer_init(&w, logpath, k);
    writer_append(&w, "start", h);
    writer_append(&w, "exec", h);
    w.sign = false;
    writer_append(&w, "gap", h);
    w.sign = true;
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    o.keys = &k;
    o.nkeys = 1;
    run_verify(&path, 1, &o, &r);
    expect_first_issue(&r, 3, "gap");
    ck_assert_uint_eq(r.failures, 1);
    ck_assert_uint_eq(r.gaps, 1);
    verify_result_cleanup(&r);
    o.allow_gaps = true;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.gaps, 1);
    ck_assert_uint_eq(r.records, 3);
    ck_assert_str_eq(r.head, h);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_gap_first_principal)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    struct writer w;
    char h[RECORD_HASH_HEX];

    /* The first record of a principal is a gap; later ones are signed.
     * The principal still signed records, so it is counted. */
    writer_init(&w, logpath, k);
    w.sign = false;
    writer_append(&w, "gap", h);
    w.sign = true;
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    o.keys = &k;
    o.nkeys = 1;
    o.allow_gaps = true;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.gaps, 1);
    ck_assert_uint_eq(r.records, 1);
    ck_assert_uint_eq(r.principals, 1);
    ck_assert_uint_eq(json_array_size(r.principal_list), 1);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_sequence)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct writer w;
    char h[RECORD_HASH_HEX];

    writer_init(&w, logpath, k);
    writer_append(&w, "start", h);
    if (_i == 0) {
        w.seq++; /* a record of this process went missing */
    } else {
        w.seq--; /* the same seq twice */
    }
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    verify_one_key(logpath, k, &r);
    expect_first_issue(&r, 2, "seq");
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_process_starts_late)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_result r;
    struct writer w;
    char h[RECORD_HASH_HEX];

    writer_init(&w, logpath, k);
    writer_append(&w, "start", h);
    writer_new_instance(&w);
    w.seq = 4;
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    verify_one_key(logpath, k, &r);
    expect_first_issue(&r, 2, "begins at seq 5");
    ck_assert_uint_eq(r.processes, 2);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_two_logs)
{
    struct key *k = new_key(KEY_ED25519);
    struct verify_opts o = {0};
    struct verify_result r;
    struct writer w;
    char second[600];
    const char *paths[2] = {logpath, second};
    char first_head[RECORD_HASH_HEX];
    char h[RECORD_HASH_HEX];

    /* A child process logs elsewhere, naming its parent's record. */
    snprintf(second, sizeof(second), "%s/child.log", tmpdir);
    writer_init(&w, logpath, k);
    writer_append(&w, "start", first_head);
    writer_append(&w, "exec", first_head);
    log_cleanup(&w.lg);
    writer_init(&w, second, k);
    memcpy(w.parent, first_head, sizeof(w.parent));
    writer_append(&w, "exec", h);
    log_cleanup(&w.lg);
    o.keys = &k;
    o.nkeys = 1;
    o.expect_head = h;
    run_verify(paths, 2, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.records, 3);
    ck_assert_uint_eq(r.processes, 2);
    ck_assert_uint_eq(r.external, 0);
    verify_result_cleanup(&r);
    /* Alone, the child's log points outside what is verified. */
    o.expect_head = NULL;
    run_verify(paths + 1, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.external, 1);
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_missing_file)
{
    struct verify_opts o = {0};
    struct verify_result r;
    char path[600];
    const char *p = path;

    snprintf(path, sizeof(path), "%s/absent.log", tmpdir);
    ck_assert_int_eq(verify_logs(&p, 1, &o, &r), -ENOENT);
    expect_first_issue(&r, 0, "cannot read");
    verify_result_cleanup(&r);
}
END_TEST

START_TEST(test_verify_logs_empty_log)
{
    struct verify_opts o = {0};
    struct verify_result r;
    const char *p = logpath;
    FILE *f = fopen(logpath, "we");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    run_verify(&p, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.records, 0);
    ck_assert_str_eq(r.head, "");
    verify_result_cleanup(&r);
    o.expect_head = "0";
    run_verify(&p, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 1);
    verify_result_cleanup(&r);
}
END_TEST

START_TEST(test_verify_logs_no_signatures)
{
    struct key *k = new_key(KEY_ED25519);
    struct key *other = new_key(KEY_ED25519);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    struct lines l;
    struct mctx m = {0};

    build_log(logpath, k, hash);
    o.keys = &other;
    o.nkeys = 1;
    o.no_signatures = true;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_str_eq(r.head, hash[NREC - 1]);
    verify_result_cleanup(&r);
    /* Shape still counts: a signature must be base64url text. */
    lines_read(logpath, &l);
    mut_bad_signature_text(&l, &m);
    lines_write(logpath, &l);
    run_verify(&path, 1, &o, &r);
    expect_first_issue(&r, 2, "signature is not base64url");
    verify_result_cleanup(&r);
    lines_free(&l);
    key_free(other);
    key_free(k);
}
END_TEST

struct seen {
    uint64_t lines[NREC + 1];
    char hash[NREC + 1][RECORD_HASH_HEX];
    size_t n;
};

static void each_cb(void *ctx, const char *log, uint64_t line,
                    const char *hash, json_t *payload)
{
    struct seen *s = ctx;

    ck_assert_str_eq(log, logpath);
    ck_assert_ptr_nonnull(json_object_get(payload, "entry_id"));
    ck_assert_uint_lt(s->n, NREC + 1);
    s->lines[s->n] = line;
    strcpy(s->hash[s->n], hash);
    s->n++;
}

START_TEST(test_verify_logs_each_and_threads)
{
    struct key *k = new_key(KEY_ED25519);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    struct seen seen = {0};
    size_t i;

    build_log(logpath, k, hash);
    o.keys = &k;
    o.nkeys = 1;
    o.threads = _i == 0 ? 1 : 7;
    o.each = each_cb;
    o.ctx = &seen;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(seen.n, NREC);
    for (i = 0; i < NREC; i++) {
        ck_assert_uint_eq(seen.lines[i], i + 1);
        ck_assert_str_eq(seen.hash[i], hash[i]);
    }
    verify_result_cleanup(&r);
    key_free(k);
}
END_TEST

START_TEST(test_verify_logs_max_issues)
{
    struct key *k = new_key(KEY_ED25519);
    struct key *other = new_key(KEY_ED25519);
    char hash[NREC][RECORD_HASH_HEX];
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;

    build_log(logpath, k, hash);
    o.keys = &other;
    o.nkeys = 1;
    o.max_issues = 2;
    run_verify(&path, 1, &o, &r);
    ck_assert_uint_eq(r.failures, NREC);
    ck_assert_uint_eq(r.nissues, 2);
    ck_assert_uint_eq(r.issues[1].line, 2);
    verify_result_cleanup(&r);
    key_free(other);
    key_free(k);
}
END_TEST

/* AWS: records whose process's first record carries a binding of the
 * session key that a stand-in KMS key signed. */
static struct {
    struct key *kms;     /* signs the binding */
    struct key *bound;   /* the binding's session_jwk */
    const char *principal;
    bool bind;
} aws;

static json_t *aws_binding_sig(const json_t *b)
{
    struct buf canon, raw, sig;
    json_t *out;

    buf_init(&canon);
    buf_init(&raw);
    buf_init(&sig);
    ck_assert_int_eq(jcs_encode(&canon, b), 0);
    ck_assert_int_eq(key_sign(aws.kms, canon.data, canon.len, &raw), 0);
    ck_assert_int_eq(b64url_encode(&sig, raw.data, raw.len), 0);
    out = json_stringn((const char *)sig.data, sig.len);
    buf_cleanup(&canon);
    buf_cleanup(&raw);
    buf_cleanup(&sig);
    return out;
}

static void mutate_aws(json_t *pl)
{
    json_t *id = json_pack("{s:s, s:s, s:s}", "provider", "aws",
                           "kms_key_id", "alias/t", "kms_sign", "session");
    json_t *b;

    ck_assert_ptr_nonnull(id);
    if (aws.bind && json_integer_value(json_object_get(pl, "seq")) == 1) {
        b = json_pack("{s:s, s:o, s:s, s:I}", "principal", aws.principal,
                      "session_jwk", key_jwk(aws.bound), "kms_key_id",
                      "alias/t", "iat", (json_int_t)time(NULL));
        ck_assert_ptr_nonnull(b);
        json_object_set_new(id, "kms_binding_sig", aws_binding_sig(b));
        json_object_set_new(id, "kms_binding", b);
    }
    json_object_set_new(pl, "identity", id);
}

struct aws_case {
    bool other_kms;       /* binding signed by another KMS key */
    const char *principal; /* binding's principal */
    bool other_session;   /* binding names another session key */
    bool bind;
    bool with_kms_key;    /* verify with the KMS key given */
    const char *want;     /* NULL: valid */
};

static const struct aws_case aws_cases[] = {
    {false, PRINCIPAL, false, true, true, NULL},
    {true, PRINCIPAL, false, true, true, "kms_binding is not signed"},
    {false, "urn:other", false, true, true, "kms_binding names urn:other"},
    {false, PRINCIPAL, true, true, true, "is not the bound session key"},
    {false, PRINCIPAL, false, false, true, "no verified KMS binding"},
    {false, PRINCIPAL, false, true, false, "verify with --kms-key"},
};

START_TEST(test_verify_logs_aws_binding)
{
    const struct aws_case *c = &aws_cases[_i];
    struct key *kms = new_key(KEY_P256);
    struct key *other = new_key(KEY_P256);
    struct key *session = new_key(KEY_ED25519);
    struct key *stray = new_key(KEY_ED25519);
    struct verify_opts o = {0};
    struct verify_result r;
    const char *path = logpath;
    char hash[RECORD_HASH_HEX];
    struct writer w;
    int i;

    aws.kms = c->other_kms ? other : kms;
    aws.bound = c->other_session ? stray : session;
    aws.principal = c->principal;
    aws.bind = c->bind;
    writer_init(&w, logpath, session);
    w.mutate = mutate_aws;
    for (i = 0; i < 3; i++) {
        writer_append(&w, i == 0 ? "start" : "exec", hash);
    }
    log_cleanup(&w.lg);
    o.kms_key = c->with_kms_key ? kms : NULL;
    o.threads = 2;
    run_verify(&path, 1, &o, &r);
    if (c->want == NULL) {
        ck_assert_msg(r.failures == 0, "%s",
                      r.nissues ? r.issues[0].reason : "?");
        ck_assert_uint_eq(r.records, 3);
    } else {
        expect_first_issue(&r, 1, c->want);
    }
    verify_result_cleanup(&r);
    key_free(stray);
    key_free(session);
    key_free(other);
    key_free(kms);
}
END_TEST

static TCase *tcase_new(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 120);
    return tc;
}

static Suite *verify_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_new("verify_logs");

    tcase_add_loop_test(tc, test_verify_logs_valid, 0, 3);
    tcase_add_test(tc, test_verify_logs_golden);
    tcase_add_loop_test(tc, test_verify_logs_damaged, 0, NELEM(mutations));
    tcase_add_loop_test(tc, test_verify_logs_payload_fields, 0,
                        NELEM(field_cases));
    tcase_add_test(tc, test_verify_logs_odd_payload);
    tcase_add_test(tc, test_verify_logs_deep_payload);
    tcase_add_loop_test(tc, test_verify_logs_wrong_key, 0, 2);
    tcase_add_loop_test(tc, test_verify_logs_key_type_mismatch, 0, 3);
    tcase_add_test(tc, test_verify_logs_truncated_tail);
    tcase_add_test(tc, test_verify_logs_gap);
    tcase_add_test(tc, test_verify_logs_gap_first_principal);
    tcase_add_loop_test(tc, test_verify_logs_sequence, 0, 2);
    tcase_add_test(tc, test_verify_logs_process_starts_late);
    tcase_add_test(tc, test_verify_logs_two_logs);
    tcase_add_test(tc, test_verify_logs_missing_file);
    tcase_add_test(tc, test_verify_logs_empty_log);
    tcase_add_test(tc, test_verify_logs_no_signatures);
    tcase_add_loop_test(tc, test_verify_logs_each_and_threads, 0, 2);
    tcase_add_test(tc, test_verify_logs_max_issues);
    tcase_add_loop_test(tc, test_verify_logs_aws_binding, 0,
                        NELEM(aws_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(verify_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
